// Ports nats-server server/split_test.go: protocol lines and payloads split across reads. Adds a check
// that every split offset of a mixed stream gives the same output as one read.

import { assert, assertEquals } from "@std/assert";
import { dummyClient } from "../_helpers/dummy_client.ts";
import { State } from "../../src/protocol/parser.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const str = (u: Uint8Array | undefined) => u === undefined ? undefined : dec.decode(u);

function newClient() {
  return dummyClient({ maxControlLine: 1024 });
}

Deno.test("TestSplitBufferSubOp: a SUB split after 6 bytes subscribes once complete", async () => {
  await using c = newClient();
  const subop = enc.encode("SUB foo 1\r\n");
  assert(c.parse(subop.subarray(0, 6)));
  assertEquals(c.parser.state, State.SUB_ARG);
  assert(c.parse(subop.subarray(6)));
  assertEquals(c.parser.state, State.START);
  const r = c.server.gacc.sl.match("foo");
  assertEquals(r.psubs.length, 1);
  const sub = r.psubs[0];
  assertEquals([sub.subject, sub.sid, sub.queue], ["foo", "1", undefined]);
});

Deno.test("TestSplitBufferUnsubOp: an UNSUB split after 8 bytes removes the subscription", async () => {
  await using c = newClient();
  assert(c.parse("SUB foo 1024\r\n"));
  assertEquals(c.parser.state, State.START);
  const unsubop = enc.encode("UNSUB 1024\r\n");
  assert(c.parse(unsubop.subarray(0, 8)));
  assertEquals(c.parser.state, State.UNSUB_ARG);
  assert(c.parse(unsubop.subarray(8)));
  assertEquals(c.parser.state, State.START);
  assertEquals(c.server.gacc.sl.match("foo").psubs.length, 0);
});

Deno.test("TestSplitBufferPubOp: a PUB in seven pieces moves through PUB_ARG and MSG_PAYLOAD", async () => {
  await using c = newClient();
  const pub = enc.encode("PUB foo.bar INBOX.22 11\r\nhello world\r");
  const cuts: [number, number, number][] = [
    [0, 2, State.OP_PU],
    [2, 9, State.PUB_ARG],
    [9, 15, State.PUB_ARG],
    [15, 22, State.PUB_ARG],
    [22, 25, State.MSG_PAYLOAD],
  ];
  for (const [a, z, want] of cuts) {
    assert(c.parse(pub.subarray(a, z)));
    assertEquals(c.parser.state, want);
  }
  const pa = c.parser.pa;
  assertEquals([str(pa.subject), str(pa.reply), pa.size], ["foo.bar", "INBOX.22", 11]);
  assert(c.parse(pub.subarray(25, 33)));
  assertEquals(c.parser.state, State.MSG_PAYLOAD);
  assert(c.parse(pub.subarray(33)));
  assertEquals(c.parser.state, State.MSG_END_N);
});

Deno.test("TestSplitBufferPubOp2: a PUB split inside the payload finishes in the next read", async () => {
  await using c = newClient();
  const pub = enc.encode("PUB foo.bar INBOX.22 11\r\nhello world\r\n");
  assert(c.parse(pub.subarray(0, 30)));
  assertEquals(c.parser.state, State.MSG_PAYLOAD);
  assert(c.parse(pub.subarray(30)));
  assertEquals(c.parser.state, State.START);
});

Deno.test("TestSplitBufferPubOp3: PUB arguments survive the read buffer being overwritten", async () => {
  await using c = newClient();
  const pubAll = enc.encode("PUB foo bar 11\r\nhello world\r\n");
  assert(c.parse(pubAll.subarray(0, 16)));
  assertEquals(str(c.parser.pa.subject), "foo");
  pubAll.set(enc.encode("XXXXXXXXXXXXXXXX"));
  const pa = c.parser.pa;
  assertEquals([str(pa.subject), str(pa.reply), pa.size], ["foo", "bar", 11]);
});

Deno.test("TestSplitBufferPubOp4: PUB arguments without reply survive the buffer being overwritten", async () => {
  await using c = newClient();
  const pubAll = enc.encode("PUB foo 11\r\nhello world\r\n");
  assert(c.parse(pubAll.subarray(0, 12)));
  assertEquals(str(c.parser.pa.subject), "foo");
  pubAll.set(enc.encode("XXXXXXXXXXXX"));
  const pa = c.parser.pa;
  assertEquals([str(pa.subject), pa.reply, pa.size], ["foo", undefined, 11]);
});

Deno.test("TestSplitBufferPubOp5: a split between CR and LF keeps a copy of the payload", async () => {
  await using c = newClient();
  const pubAll = enc.encode("PUB foo 11\r\nhello world\r\n");
  assert(c.parse(pubAll.subarray(0, pubAll.length - 1)));
  // Go's msgBuf holds "hello world\r"; ours holds the payload and waits in MSG_END_N for the LF.
  assertEquals(str(c.parser.pendingMsg), "hello world");
  assertEquals(c.parser.state, State.MSG_END_N);
});

Deno.test("TestSplitConnectArg: a CONNECT in four pieces keeps the partial argument until its LF", async () => {
  await using c = newClient();
  const all = enc.encode(
    'CONNECT {"verbose":false,"tls_required":false,"user":"test","pedantic":true,"pass":"pass"}\r\n',
  );
  const argJSON = all.subarray(8);
  assert(c.parse(all.subarray(0, 5)));
  assertEquals(c.parser.pendingArg, undefined);
  assert(c.parse(all.subarray(5, 22)));
  assertEquals(str(c.parser.pendingArg), str(argJSON.subarray(0, 14)));
  assert(c.parse(all.subarray(22, all.length - 2)));
  assertEquals(str(c.parser.pendingArg), str(argJSON.subarray(0, argJSON.length - 2)));
  assert(c.parse(all.subarray(all.length - 2)));
  assertEquals(c.parser.pendingArg, undefined);
});

Deno.test("TestSplitDanglingArgBuf: no partial argument is kept once a split operation completes", async (t) => {
  await using c = newClient();
  const p = c.parser;
  const twoReads = (s: string, cut: number) => {
    const u = enc.encode(s);
    c.parse(u.subarray(0, cut));
    c.parse(u.subarray(cut));
    assertEquals(p.pendingArg, undefined);
  };
  twoReads("SUB foo 1\r\n", 6);
  twoReads("UNSUB 1024\r\n", 8);
  const pubop = enc.encode("PUB foo.bar INBOX.22 11\r\nhello world\r\n");
  c.parse(pubop.subarray(0, 22));
  c.parse(pubop.subarray(22, 25));
  c.parse(pubop.subarray(25));
  assertEquals(p.pendingArg, undefined);
  assertEquals(p.pendingMsg, undefined);
  twoReads(
    'CONNECT {"verbose":false,"tls_required":false,"user":"test","pedantic":true,"pass":"pass"}\r\n',
    22,
  );
  twoReads('INFO {"server_id":"id"}\r\n', 8);
  // -ERR from a client closes it, so it goes last.
  twoReads("-ERR Too Long\r\n", 8);
  // blocked: the RMSG half needs route connections.
  await t.step({ name: "route: RMSG split keeps and then drops its buffers", ignore: true, fn() {} });
});

// blocked: routes (RMSG) are not built yet.
Deno.test({
  name: "TestSplitRoutedMsgArg: RMSG arguments survive a split payload",
  ignore: true,
  fn() {},
});

// blocked: routes (RMSG) are not built yet.
Deno.test({
  name: "TestSplitBufferMsgOp: an RMSG in eight pieces moves through MSG_ARG and MSG_PAYLOAD",
  ignore: true,
  fn() {},
});

// blocked: leaf nodes (LMSG) are not built yet.
Deno.test({
  name: "TestSplitBufferLeafMsgArg: LMSG arguments survive a split payload and are cleared after",
  ignore: true,
  fn() {},
});

/** Output of a dummy client fed `chunks`, with its own server. */
async function run(chunks: Uint8Array[]): Promise<[string, boolean]> {
  await using c = dummyClient({ maxControlLine: 1024 });
  c.client.headers = true;
  let ok = true;
  for (const ch of chunks) {
    if (!ok) break;
    ok = c.parse(ch);
  }
  return [await c.read(), ok];
}

Deno.test("split buffers: every split offset of a mixed stream gives the output of one read", async () => {
  const stream = enc.encode(
    "SUB foo 1\r\nSUB bar q 2\r\nPUB foo 5\r\nhello\r\nPUB bar reply 0\r\n\r\n" +
      "HPUB foo 12 17\r\nname:derek\r\nHELLO\r\nping\r\nUNSUB 1\r\nPUB foo 2\r\nno\r\n" +
      "PUB bar 300\r\n" + "x".repeat(300) + "\r\nPING\r\n",
  );
  const want = await run([stream]);
  assert(want[0].includes("HMSG foo 1 12 17\r\nname:derek\r\nHELLO\r\n"));
  for (let i = 1; i < stream.length; i++) {
    assertEquals(await run([stream.subarray(0, i), stream.subarray(i)]), want, `split at ${i}`);
  }
  // Three pieces, at a coarser grid.
  for (let i = 1; i < stream.length; i += 13) {
    for (let j = i + 1; j < stream.length; j += 31) {
      const got = await run([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]);
      assertEquals(got, want, `split at ${i} and ${j}`);
    }
  }
});
