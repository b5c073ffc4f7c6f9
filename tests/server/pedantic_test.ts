// Ports nats-server test/pedantic_test.go: subject checks when a client asks for pedantic mode.

import { assertEquals } from "@std/assert";
import { runServer } from "../_helpers/server.ts";
import { doConnect, errRe, pongRe } from "../_helpers/proto.ts";

/** Go's runPedanticServer: tracing on, otherwise defaults. */
function runPedanticServer() {
  return runServer({ trace: true });
}

Deno.test("TestPedanticSub: malformed SUB subjects get 'Invalid Subject'", async () => {
  await using s = await runPedanticServer();
  await using c = await doConnect(s.port, false, true);
  await c.send("PING\r\n");
  await c.expect(pongRe);
  for (const subj of ["foo.", ".foo.", "foo..bar"]) {
    await c.send(`SUB ${subj} 1\r\n`);
    await c.expect(errRe);
  }
  await c.send("SUB foo.>.bar 1\r\n");
  const m = await c.expect(errRe);
  assertEquals(m[1], "'Invalid Subject'");
});

Deno.test("TestPedanticPub: wildcard and malformed PUB subjects get -ERR", async () => {
  await using s = await runPedanticServer();
  await using c = await doConnect(s.port, false, true);
  await c.send("PING\r\n");
  await c.expect(pongRe);
  for (const subj of ["foo.*", "foo.>", "foo.", ".foo", "foo..*"]) {
    await c.send(`PUB ${subj} 2\r\nok\r\n`);
    const m = await c.expect(errRe);
    assertEquals(m[1], "'Invalid Publish Subject'");
  }
});
