// Ports nats-server test/proto_test.go: the client protocol over a raw socket.

import { assert, assertEquals } from "@std/assert";
import { checkFor, runServer } from "../_helpers/server.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { checkMsg, errRe, expectMsgs, infoRe, okRe, pongRe, setupConn } from "../_helpers/proto.ts";

/** Go's runProtoServer: max_control_line 256, no system account. */
function runProtoServer() {
  return runServer({ maxControlLine: 256, noSystemAccount: true });
}

Deno.test("TestProtoBasics: PING, a single message and a message to two matching subscriptions", async () => {
  await using s = await runProtoServer();
  await using c = await setupConn(s.port);
  await c.send("PING\r\n");
  await c.expect(pongRe);
  await c.send("SUB foo 1\r\nPUB foo 5\r\nhello\r\n");
  checkMsg((await expectMsgs(c, 1))[0], "foo", "1", "", "5", "hello");
  await c.send("SUB * 2\r\nPUB foo 2\r\nok\r\n");
  const ms = await expectMsgs(c, 2);
  checkMsg(ms[0], "foo", "", "", "2", "ok");
  checkMsg(ms[1], "foo", "", "", "2", "ok");
  assertEquals(new Set(ms.map((m) => m.sid)), new Set(["1", "2"]));
});

Deno.test("TestProtoErr: an unknown verb gets -ERR", async () => {
  await using s = await runProtoServer();
  await using c = await setupConn(s.port);
  await c.send("ZZZ");
  const m = await c.expect(errRe);
  assertEquals(m[1], "'Unknown Protocol Operation'");
});

Deno.test("TestUnsubMax: UNSUB with a max delivers exactly that many messages", async () => {
  await using s = await runProtoServer();
  await using c = await setupConn(s.port);
  await c.send("SUB foo 22\r\n");
  await c.send("UNSUB 22 2\r\n");
  for (let i = 0; i < 100; i++) await c.send("PUB foo 2\r\nok\r\n");
  const ms = await expectMsgs(c, 2);
  checkMsg(ms[0], "foo", "22", "", "2", "ok");
  checkMsg(ms[1], "foo", "22", "", "2", "ok");
  assertEquals(await c.flush(), "");
});

Deno.test("TestQueueSub: a queue group spreads messages over its members", async () => {
  await using s = await runProtoServer();
  await using c = await setupConn(s.port);
  const sent = 100;
  await c.send("SUB foo qgroup1 22\r\n");
  await c.send("SUB foo qgroup1 32\r\n");
  for (let i = 0; i < sent; i++) await c.send("PUB foo 2\r\nok\r\n");
  const ms = await expectMsgs(c, sent);
  const sids = new Map<string, number>();
  for (const m of ms) sids.set(m.sid, (sids.get(m.sid) ?? 0) + 1);
  assertEquals(sids.size, 2);
  for (const [sid, n] of sids) assert(n >= 35, `expected ~50 (+-15) msgs for sid ${sid}, got ${n}`);
});

Deno.test("TestMultipleQueueSub: each queue group gets every message once", async () => {
  await using s = await runProtoServer();
  await using c = await setupConn(s.port);
  const sent = 100;
  await c.send("SUB foo g1 1\r\nSUB foo g1 2\r\nSUB foo g2 3\r\nSUB foo g2 4\r\n");
  for (let i = 0; i < sent; i++) await c.send("PUB foo 2\r\nok\r\n");
  const ms = await expectMsgs(c, sent * 2);
  const sids = new Map<string, number>();
  for (const m of ms) sids.set(m.sid, (sids.get(m.sid) ?? 0) + 1);
  assertEquals(sids.size, 4);
  for (const [sid, n] of sids) assert(n >= 35, `expected ~50 (+-15) msgs for sid ${sid}, got ${n}`);
});

Deno.test("TestPubToArgState: PUBS is not a verb", async () => {
  await using s = await runProtoServer();
  await using c = await setupConn(s.port);
  await c.send("PUBS foo 2\r\nok\r\n");
  await c.expect(errRe);
});

Deno.test("TestSubToArgState: SUBZZZ is not a verb", async () => {
  await using s = await runProtoServer();
  await using c = await setupConn(s.port);
  await c.send("SUBZZZ foo 1\r\n");
  await c.expect(errRe);
});

Deno.test("TestProtoCrash: a CONNECT whose CRLF comes in a later read is answered with +OK", async () => {
  await using s = await runProtoServer();
  await using c = await RawClient.connect(s.port);
  await c.info();
  await c.send(
    'CONNECT {"verbose":true,"tls_required":false,"user":"test","pedantic":true,"pass":"password"}',
  );
  await new Promise((r) => setTimeout(r, 100));
  await c.send("\r\n");
  await c.expect(okRe);
});

Deno.test("TestDuplicateProtoSub: a second SUB with the same sid does not add a subscription", async () => {
  await using s = await runProtoServer();
  await using c = await setupConn(s.port);
  await c.send("PING\r\n");
  await c.expect(pongRe);
  await c.send("SUB foo 1\r\n");
  await c.send("SUB foo 1\r\n");
  await c.flush();
  await checkFor(250, 50, () => assertEquals(s.numSubscriptions(), 1));
});

Deno.test("TestIncompletePubArg: a short payload that swallows the next PUB is a protocol error", async () => {
  await using s = await runProtoServer();
  await using c = await setupConn(s.port);
  const size = 10000;
  const goodBuf = "A".repeat(size) + "\r\n";
  const badBuf = "B".repeat(3371);
  const badBuf2 = "C".repeat(size) + "\r\n";
  const pub = "PUB example 10000\r\n";
  await c.send(pub + goodBuf + pub + goodBuf + pub + badBuf + pub + badBuf2);
  await c.expect(errRe);
});

Deno.test("TestControlLineMaximums: a PUB line over max_control_line gets -ERR", async () => {
  await using s = await runProtoServer();
  await using c = await setupConn(s.port);
  await c.send("PUB foo " + "2222222222".repeat(32));
  const m = await c.expect(errRe);
  assertEquals(m[1], "'maximum control line exceeded'");
  await c.waitClosed();
});

Deno.test("TestServerInfoWithClientAdvertise: INFO carries the client_advertise host and port", async () => {
  await using s = await runServer({ clientAdvertise: "me:1" });
  await using c = await RawClient.connect(s.port);
  const m = await c.expect(infoRe);
  const info = JSON.parse(m[1]);
  assertEquals([info.host, info.port], ["me", 1]);
});
