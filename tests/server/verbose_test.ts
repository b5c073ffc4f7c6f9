// Ports nats-server test/verbose_test.go: +OK after each operation when the client asks for verbose mode.

import { runServer } from "../_helpers/server.ts";
import { doConnect, okRe, pongRe } from "../_helpers/proto.ts";

function runProtoServer() {
  return runServer({ maxControlLine: 256, noSystemAccount: true });
}

Deno.test("TestVerbosePing: CONNECT gets +OK and PING still gets PONG", async () => {
  await using s = await runProtoServer();
  await using c = await doConnect(s.port, true, false);
  await c.expect(okRe);
  await c.send("PING\r\n");
  await c.expect(pongRe);
});

Deno.test("TestVerboseConnect: a second CONNECT gets +OK", async () => {
  await using s = await runProtoServer();
  await using c = await doConnect(s.port, true, false);
  await c.expect(okRe);
  await c.send('CONNECT {"verbose":true,"pedantic":true,"tls_required":false}\r\n');
  await c.expect(okRe);
});

Deno.test("TestVerbosePubSub: PUB, SUB and UNSUB each get +OK", async () => {
  await using s = await runProtoServer();
  await using c = await doConnect(s.port, true, false);
  await c.expect(okRe);
  await c.send("PUB foo 2\r\nok\r\n");
  await c.expect(okRe);
  await c.send("SUB foo 1\r\n");
  await c.expect(okRe);
  await c.send("UNSUB 1\r\n");
  await c.expect(okRe);
});
