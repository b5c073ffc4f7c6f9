// Ports nats-server server/parser_test.go. The Go tests drive a client's parser directly; here a Parser runs
// with a real Client (of an unstarted server) as its handler, so argument checks behave as the server's.

import { assert, assertEquals } from "@std/assert";
import { dummyClient } from "../_helpers/dummy_client.ts";
import { MAX_CONTROL_LINE_SIZE } from "../../src/config/options.ts";
import { snippet, State } from "../../src/protocol/parser.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string) => enc.encode(s);
const str = (u: Uint8Array | undefined) => u === undefined ? undefined : dec.decode(u);

/** Go's dummyClient: max_control_line at its default, no CONNECT needed. */
function newClient() {
  return dummyClient({ maxControlLine: MAX_CONTROL_LINE_SIZE });
}

Deno.test("TestParsePing: PING walks the OP_P..OP_PING states and tolerates spaces before CRLF", async () => {
  await using c = newClient();
  const p = c.parser;
  assertEquals(p.state, State.START);
  const ping = b("PING\r\n");
  const want = [State.OP_P, State.OP_PI, State.OP_PIN, State.OP_PING, State.OP_PING, State.START];
  for (let i = 0; i < ping.length; i++) {
    assert(c.parse(ping.subarray(i, i + 1)));
    assertEquals(p.state, want[i]);
  }
  assert(c.parse(ping));
  assertEquals(p.state, State.START);
  assert(c.parse("PING  \r"));
  assertEquals(p.state, State.OP_PING);
  p.state = State.START;
  assert(c.parse("PING  \r  \n"));
  assertEquals(p.state, State.START);
});

Deno.test("TestParsePong: PONG walks the OP_PO..OP_PONG states and resets pings outstanding", async () => {
  await using c = newClient();
  const p = c.parser;
  const pong = b("PONG\r\n");
  const want = [State.OP_P, State.OP_PO, State.OP_PON, State.OP_PONG, State.OP_PONG, State.START];
  for (let i = 0; i < pong.length; i++) {
    assert(c.parse(pong.subarray(i, i + 1)));
    assertEquals(p.state, want[i]);
  }
  assertEquals(c.client.pingsOut, 0);
  assert(c.parse(pong));
  assertEquals(p.state, State.START);
  assert(c.parse("PONG  \r"));
  assertEquals(p.state, State.OP_PONG);
  p.state = State.START;
  assert(c.parse("PONG  \r  \n"));
  assertEquals(p.state, State.START);
  assertEquals(c.client.pingsOut, 0);
  c.client.pingsOut = 10;
  assert(c.parse(pong));
  assertEquals(c.client.pingsOut, 0);
});

Deno.test("TestParseConnect: CONNECT is parsed whole and its argument starts after the verb", async () => {
  await using c = newClient();
  const buf = b('CONNECT {"verbose":false,"pedantic":true,"tls_required":false}\r\n');
  assert(c.parse(buf));
  assertEquals(c.parser.state, State.START);
  assertEquals(c.client.opts.verbose, false);
  assertEquals(c.client.opts.pedantic, true);
  // Go checks the saved argument start (8); the argument is the JSON after "CONNECT ".
  assert(c.client.connectReceived);
});

Deno.test("TestParseSub: a SUB without its LF waits in SUB_ARG with the argument kept", async () => {
  await using c = newClient();
  assert(c.parse("SUB foo 1\r"));
  assertEquals(c.parser.state, State.SUB_ARG);
  // Go keeps arg start 4 and drop 1: the pending argument is "foo 1" plus the CR still to drop.
  assertEquals(str(c.parser.pendingArg)?.replace(/\r$/, ""), "foo 1");
});

Deno.test("TestParsePub: PUB arguments and payload; a payload longer than its size is an error", async () => {
  {
    await using c = newClient();
    assert(c.parse("PUB foo 5\r\nhello\r"));
    assertEquals(c.parser.state, State.MSG_END_N);
    assertEquals(str(c.parser.pa.subject), "foo");
    assertEquals(c.parser.pa.reply, undefined);
    assertEquals(c.parser.pa.size, 5);
  }
  {
    await using c = newClient();
    assert(c.parse("PUB foo.bar INBOX.22 11\r\nhello world\r"));
    assertEquals(c.parser.state, State.MSG_END_N);
    assertEquals(str(c.parser.pa.subject), "foo.bar");
    assertEquals(str(c.parser.pa.reply), "INBOX.22");
    assertEquals(c.parser.pa.size, 11);
  }
  {
    await using c = newClient();
    assert(!c.parse("PUB foo.bar 11\r\nhello world hello world\r"));
    assertEquals(c.parser.pendingMsg, undefined);
  }
});

Deno.test("TestParsePubSizeOverflow: a size longer than any integer is an error", async () => {
  await using c = newClient();
  assert(!c.parse("PUB foo 3333333333333333333333333333333333333333333333333333333333333333\r\n"));
});

/** Parses "<verb> <arg>\r\n" and returns the PubArg (the payload is still to come). */
async function pubArg(verb: string, arg: string) {
  await using c = newClient();
  c.client.headers = true;
  assert(c.parse(`${verb} ${arg}\r\n`), `parse error for ${JSON.stringify(arg)}`);
  const pa = c.parser.pa;
  return { subject: str(pa.subject), reply: str(pa.reply) ?? "", hdr: pa.hdr, size: pa.size };
}

Deno.test("TestParsePubArg: spaces and tabs around and between PUB arguments", async (t) => {
  const cases: [string, string, string, number][] = [
    ["a 2", "a", "", 2],
    ["a 222", "a", "", 222],
    ["foo 22", "foo", "", 22],
    [" foo 22", "foo", "", 22],
    ["foo 22 ", "foo", "", 22],
    ["foo   22", "foo", "", 22],
    [" foo 22 ", "foo", "", 22],
    [" foo   22 ", "foo", "", 22],
    ["foo bar 22", "foo", "bar", 22],
    [" foo bar 22", "foo", "bar", 22],
    ["foo bar 22 ", "foo", "bar", 22],
    ["foo  bar  22", "foo", "bar", 22],
    [" foo bar 22 ", "foo", "bar", 22],
    ["  foo   bar  22  ", "foo", "bar", 22],
    ["  foo   bar  2222  ", "foo", "bar", 2222],
    ["  foo     2222  ", "foo", "", 2222],
    ["a\t2", "a", "", 2],
    ["a\t222", "a", "", 222],
    ["foo\t22", "foo", "", 22],
    ["\tfoo\t22", "foo", "", 22],
    ["foo\t22\t", "foo", "", 22],
    ["foo\t\t\t22", "foo", "", 22],
    ["\tfoo\t22\t", "foo", "", 22],
    ["\tfoo\t\t\t22\t", "foo", "", 22],
    ["foo\tbar\t22", "foo", "bar", 22],
    ["\tfoo\tbar\t22", "foo", "bar", 22],
    ["foo\tbar\t22\t", "foo", "bar", 22],
    ["foo\t\tbar\t\t22", "foo", "bar", 22],
    ["\tfoo\tbar\t22\t", "foo", "bar", 22],
    ["\t \tfoo\t \t \tbar\t \t22\t \t", "foo", "bar", 22],
    ["\t\tfoo\t\t\tbar\t\t2222\t\t", "foo", "bar", 2222],
    ["\t \tfoo\t \t \t\t\t2222\t \t", "foo", "", 2222],
  ];
  for (const [arg, subject, reply, size] of cases) {
    await t.step(JSON.stringify(arg), async () => {
      assertEquals(await pubArg("PUB", arg), { subject, reply, hdr: -1, size });
    });
  }
});

Deno.test("TestParsePubBadSize: a size over max_payload is refused", async () => {
  await using c = dummyClient({ maxPayload: 32768 });
  assert(!c.parse("PUB foo 2222222222222222\r\n"));
});

Deno.test("TestParseHeaderPub: HPUB header and total sizes, with and without reply", async () => {
  const cases: [string, string, string | undefined, number, number][] = [
    ["HPUB foo 12 17\r\nname:derek\r\nHELLO\r", "foo", undefined, 12, 17],
    ["HPUB foo INBOX.22 12 17\r\nname:derek\r\nHELLO\r", "foo", "INBOX.22", 12, 17],
    ["HPUB foo INBOX.22 0 5\r\nHELLO\r", "foo", "INBOX.22", 0, 5],
  ];
  for (const [proto, subject, reply, hdr, size] of cases) {
    await using c = newClient();
    c.client.headers = true;
    assert(c.parse(proto));
    assertEquals(c.parser.state, State.MSG_END_N);
    const pa = c.parser.pa;
    assertEquals([str(pa.subject), str(pa.reply), pa.hdr, pa.size], [subject, reply, hdr, size]);
  }
});

Deno.test("TestParseHeaderPubArg: spaces and tabs around and between HPUB arguments", async (t) => {
  const cases: [string, string, string, number, number][] = [
    ["a 2 4", "a", "", 2, 4],
    ["a 22 222", "a", "", 22, 222],
    ["foo 3 22", "foo", "", 3, 22],
    [" foo   1 22", "foo", "", 1, 22],
    ["foo 0   22 ", "foo", "", 0, 22],
    ["foo  0     22", "foo", "", 0, 22],
    [" foo 1 22 ", "foo", "", 1, 22],
    [" foo   3 22 ", "foo", "", 3, 22],
    ["foo bar 1 22", "foo", "bar", 1, 22],
    [" foo bar 11 22", "foo", "bar", 11, 22],
    ["foo bar 11 22 ", "foo", "bar", 11, 22],
    ["foo  bar  11  22", "foo", "bar", 11, 22],
    [" foo bar  11 22 ", "foo", "bar", 11, 22],
    ["  foo   bar  11   22  ", "foo", "bar", 11, 22],
    ["  foo   bar  22   2222  ", "foo", "bar", 22, 2222],
    ["  foo 1    2222  ", "foo", "", 1, 2222],
    ["a\t2\t22", "a", "", 2, 22],
    ["a\t2\t\t222", "a", "", 2, 222],
    ["foo\t2 22", "foo", "", 2, 22],
    ["\tfoo\t11\t  22", "foo", "", 11, 22],
    ["foo\t11\t22\t", "foo", "", 11, 22],
    ["foo\t\t\t11 22", "foo", "", 11, 22],
    ["\tfoo\t11\t \t 22\t", "foo", "", 11, 22],
    ["\tfoo\t\t\t11 22\t", "foo", "", 11, 22],
    ["foo\tbar\t2 22", "foo", "bar", 2, 22],
    ["\tfoo\tbar\t11\t22", "foo", "bar", 11, 22],
    ["foo\tbar\t11\t\t22\t ", "foo", "bar", 11, 22],
    ["foo\t\tbar\t\t11\t\t\t22", "foo", "bar", 11, 22],
    ["\tfoo\tbar\t11\t22\t", "foo", "bar", 11, 22],
    ["\t \tfoo\t \t \tbar\t \t11\t 22\t \t", "foo", "bar", 11, 22],
    ["\t\tfoo\t\t\tbar\t\t22\t\t\t2222\t\t", "foo", "bar", 22, 2222],
    ["\t \tfoo\t \t \t\t\t11\t\t 2222\t \t", "foo", "", 11, 2222],
  ];
  for (const [arg, subject, reply, hdr, size] of cases) {
    await t.step(JSON.stringify(arg), async () => {
      assertEquals(await pubArg("HPUB", arg), { subject, reply, hdr, size });
    });
  }
});

// blocked: routes (HMSG/RMSG on route and gateway connections) are not built yet.
Deno.test({
  name: "TestParseRoutedHeaderMsg: HMSG from a route carries account, subject, reply, queues and sizes",
  ignore: true,
  fn() {},
});

// blocked: routes (RMSG on route connections) are not built yet.
Deno.test({
  name: "TestParseRouteMsg: RMSG from a route carries account, subject, reply and queues; MSG is refused",
  ignore: true,
  fn() {},
});

Deno.test("TestParseMsgSpace: anything starting with M from a client is a parse error", async (t) => {
  // blocked: the route half ("MSG \r\n" from a route) needs routes.
  await t.step({ name: "route: MSG <SPC> is a parse error", ignore: true, fn() {} });
  await t.step("client: M", async () => {
    await using c = newClient();
    assert(!c.parse("M"));
  });
});

Deno.test("TestShouldFail: malformed protocol lines are errors", async (t) => {
  const wrongProtos = [
    "xxx",
    "Px",
    "PIx",
    "PINx",
    " PING",
    "POx",
    "PONx",
    "+x",
    "+Ox",
    "-x",
    "-Ex",
    "-ERx",
    "-ERRx",
    "Cx",
    "COx",
    "CONx",
    "CONNx",
    "CONNEx",
    "CONNECx",
    "CONNECx",
    "CONNECT \r\n",
    "PUx",
    "PUB foo\r\n",
    "PUB  \r\n",
    "PUB foo bar       \r\n",
    "PUB foo 2\r\nok \r\n",
    "PUB foo 2\r\nok\r \n",
    "Sx",
    "SUx",
    "SUB\r\n",
    "SUB  \r\n",
    "SUB foo\r\n",
    "SUB foo bar baz 22\r\n",
    "Ux",
    "UNx",
    "UNSx",
    "UNSUx",
    "UNSUBx",
    "UNSUBUNSUB 1\r\n",
    "UNSUB_2\r\n",
    "UNSUB_UNSUB_UNSUB 2\r\n",
    "UNSUB_\t2\r\n",
    "UNSUB\r\n",
    "UNSUB \r\n",
    "UNSUB          \t       \r\n",
    "Ix",
    "INx",
    "INFx",
    "INFO  \r\n",
  ];
  await t.step("client protocols", async () => {
    for (const proto of wrongProtos) {
      await using c = newClient();
      assert(!c.parse(proto), `should have received a parse error for ${JSON.stringify(proto)}`);
    }
  });
  // blocked: MSG is only parsed on route connections, which are not built yet.
  await t.step({ name: "route: Mx, MSx, MSGx, MSG  \\r\\n", ignore: true, fn() {} });
});

Deno.test("TestProtoSnippet: a quoted window of 32 bytes from each start offset", () => {
  const sample = b("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
  const s = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (let start = 0; start <= 54; start++) {
    let want: string;
    if (start >= sample.length) want = '""';
    else if (start + 32 > sample.length) want = JSON.stringify(s.slice(start, sample.length - 1));
    else want = JSON.stringify(s.slice(start, start + 32));
    assertEquals(snippet(sample, start, 32), want, `start=${start}`);
  }
  // Spot checks straight from the Go table.
  assertEquals(snippet(sample, 0, 32), '"abcdefghijklmnopqrstuvwxyzABCDEF"');
  assertEquals(snippet(sample, 21, 32), '"vwxyzABCDEFGHIJKLMNOPQRSTUVWXY"');
  assertEquals(snippet(sample, 50, 32), '"Y"');
  assertEquals(snippet(sample, 51, 32), '""');
});

Deno.test("TestParseOK: +OK from a peer walks the OP_PLUS states", async () => {
  await using c = newClient();
  const ok = b("+OK\r\n");
  const want = [State.OP_PLUS, State.OP_PLUS_O, State.OP_PLUS_OK, State.OP_PLUS_OK, State.START];
  for (let i = 0; i < ok.length; i++) {
    assert(c.parse(ok.subarray(i, i + 1)));
    assertEquals(c.parser.state, want[i]);
  }
});

Deno.test("TestMaxControlLine: a client's control line over max_control_line is an error, split or not", async (t) => {
  await t.step("client", async () => {
    const pub = b("PUB foo.bar.baz 2\r\nok\r\n");
    {
      await using c = dummyClient({ maxControlLine: 8 });
      c.client.connectReceived = true;
      assert(!c.parse(pub.subarray(0, 14)));
      assert((await c.read()).startsWith("-ERR 'maximum control line exceeded'"));
    }
    {
      await using c = dummyClient({ maxControlLine: 8 });
      c.client.connectReceived = true;
      assert(!c.parse(pub));
      assert((await c.read()).startsWith("-ERR 'maximum control line exceeded'"));
    }
  });
  // blocked: leaf nodes, routes and gateways (exempt from max_control_line) are not built yet.
  for (const name of ["leaf", "route", "gateway"]) await t.step({ name, ignore: true, fn() {} });
});
