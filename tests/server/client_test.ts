// Ports the single-server, black-box tests of nats-server server/client_test.go. Go's setupClient (a client
// over net.Pipe on an unstarted server) is tests/_helpers/dummy_client.ts; Go tests with nats.go use raw
// clients on a running server.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { DummyClient, dummyClient, dummyServer } from "../_helpers/dummy_client.ts";
import { checkFor, runServer } from "../_helpers/server.ts";
import { connectRaw, RawClient } from "../_helpers/raw_client.ts";
import { CERTS, RawTlsClient } from "../_helpers/tls_client.ts";
import { errRe, expectMsg, expectMsgs, pongRe } from "../_helpers/proto.ts";
import { State } from "../../src/protocol/parser.ts";
import { ClosedState } from "../../src/server/mod.ts";

const MSG_PAT = /MSG\s+(\S+)\s+(\S+)\s+((\S+)[^\S\r\n]+)?(\d+)\r\n/;
const HMSG_PAT = /HMSG\s+(\S+)\s+(\S+)\s+((\S+)[^\S\r\n]+)?(\d+)[^\S\r\n]+(\d+)\r\n/;

/** All MSG lines (with payloads) in `out`: [sid, reply, size, payload]. */
function msgs(out: string): [string, string, string, string][] {
  const r: [string, string, string, string][] = [];
  const re = /MSG (\S+) (\S+) (?:(\S+) )?(\d+)\r\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(out)) !== null) {
    const size = Number(m[4]);
    const payload = out.slice(re.lastIndex, re.lastIndex + size);
    re.lastIndex += size + 2;
    r.push([m[2], m[3] ?? "", m[4], payload]);
  }
  return r;
}

Deno.test("TestAsyncClientWithRunningServer: a client of a running server gets exactly one INFO", async () => {
  await using s = await runServer();
  await using c = await RawClient.connect(s.port);
  await c.info();
  assertEquals(await c.flush(), "");
});

Deno.test("TestClientCreateAndInfo: the first client has cid 1 and INFO is JSON with the server's limits", async () => {
  // As the reference's DefaultOptions: no system account (its internal clients would take the first ids).
  await using s = await runServer({ noSystemAccount: true });
  await using c = await RawClient.connect(s.port);
  const info = await c.info();
  assertEquals(info["client_id"], 1);
  assertEquals(info["max_payload"], 1024 * 1024);
  assert(!info["auth_required"] && !info["tls_required"]);
  assertEquals(info.port, s.port);
  const dc = dummyClient();
  await using _ = dc;
  assertEquals(dc.parser.state, State.START);
});

Deno.test("TestClientNoResponderSupport: no_responders needs headers; with them a request gets a 503", async () => {
  const s = dummyServer();
  {
    await using c = new DummyClient(s, 1);
    assert(!c.parse('CONNECT {"no_responders":true}\r\n'));
  }
  const c = new DummyClient(s, 2);
  c.parse('CONNECT {"headers":true, "no_responders":true}\r\nSUB reply 1\r\nPUB foo reply 2\r\nok\r\n');
  const out = await c.read();
  assertMatch(out, HMSG_PAT);
  assertStringIncludes(out, "\r\nNATS/1.0 503\r\n\r\n");
  await c[Symbol.asyncDispose]();
});

Deno.test("TestServerHeaderSupport: INFO says headers unless no_header_support is set", async () => {
  {
    await using s = await runServer();
    await using c = await RawClient.connect(s.port);
    assertEquals((await c.info()).headers, true);
  }
  {
    await using s = await runServer({ noHeaderSupport: true });
    await using c = await RawClient.connect(s.port);
    assert(!(await c.info()).headers);
  }
});

Deno.test("TestClientHeaderSupport: HPUB needs headers in CONNECT and on the server", async () => {
  {
    await using c = dummyClient();
    assert(!c.parse("CONNECT {}\r\nHPUB foo 0 2\r\nok\r\n"));
    assertEquals(c.client.closeReason, ClosedState.MsgHeaderViolation);
  }
  {
    await using c = dummyClient();
    assert(c.parse('CONNECT {"headers":true}\r\nHPUB foo 0 2\r\nok\r\n'));
  }
  {
    await using c = dummyClient({ noHeaderSupport: true });
    assert(!c.parse('CONNECT {"headers":true}\r\nHPUB foo 0 2\r\nok\r\n'));
    assertEquals(c.client.closeReason, ClosedState.MsgHeaderViolation);
  }
});

Deno.test("TestClientHeaderDeliverMsg: a headers client gets HMSG with both sizes", async () => {
  await using c = dummyClient();
  c.parse('CONNECT {"headers":true}\r\nSUB foo 1\r\nHPUB foo 12 14\r\nName:Derek\r\nOK\r\n');
  const out = await c.read();
  const m = HMSG_PAT.exec(out)!;
  assertEquals([m[1], m[2], m[5], m[6]], ["foo", "1", "12", "14"]);
  assertEquals(out.slice(m.index + m[0].length), "Name:Derek\r\nOK\r\n");
});

async function strippedDelivery(sub: string) {
  const s = dummyServer();
  const c = new DummyClient(s, 1);
  const b = new DummyClient(s, 2);
  b.parse(`${sub}\r\nPING\r\n`);
  assertEquals(await b.read(), "PONG\r\n");
  c.parse('CONNECT {"headers":true}\r\nHPUB foo 12 14\r\nName:Derek\r\nOK\r\n');
  const out = await b.read();
  const m = /^MSG\s+(\S+)\s+(\S+)\s+((\S+)[^\S\r\n]+)?(\d+)\r\n/.exec(out)!;
  assertEquals([m[1], m[2], m[5]], ["foo", "1", "2"]);
  assertEquals(out.slice(m[0].length), "OK\r\n");
  await b[Symbol.asyncDispose]();
  await c[Symbol.asyncDispose]();
}

Deno.test("TestClientHeaderDeliverStrippedMsg: a client without headers gets MSG with the payload only", () =>
  strippedDelivery("SUB foo 1"));

Deno.test("TestClientHeaderDeliverQueueSubStrippedMsg: the same for a queue subscriber", () =>
  strippedDelivery("SUB foo bar 1"));

Deno.test("TestNonTLSConnectionState: a plain connection has no TLS state", async () => {
  await using c = dummyClient();
  assertEquals([c.client.tlsVersion, c.client.tlsCipher, c.client.tlsPeerCerts], [
    undefined,
    undefined,
    undefined,
  ]);
});

Deno.test("TestClientConnect: CONNECT sets verbose, pedantic, echo, user, pass, name and auth_token", async () => {
  await using c = dummyClient();
  const o = () => c.client.opts;
  assert(c.parse('CONNECT {"verbose":true,"pedantic":true,"tls_required":false,"echo":false}\r\n'));
  assertEquals(c.parser.state, State.START);
  assertEquals([o().verbose, o().pedantic, o().echo], [true, true, false]);
  assertEquals(c.client.echo, false);
  const fresh = () => (c.client.opts = { verbose: true, pedantic: true, echo: true });
  fresh();
  assert(c.parse('CONNECT {"user":"derek","pass":"foo"}\r\n'));
  assertEquals(o(), { verbose: true, pedantic: true, echo: true, user: "derek", pass: "foo" });
  fresh();
  assert(c.parse('CONNECT {"user":"derek","pass":"foo","name":"router"}\r\n'));
  assertEquals(o(), {
    verbose: true,
    pedantic: true,
    echo: true,
    user: "derek",
    pass: "foo",
    name: "router",
  });
  fresh();
  assert(c.parse('CONNECT {"auth_token":"YZZ222","name":"router"}\r\n'));
  assertEquals(o(), { verbose: true, pedantic: true, echo: true, "auth_token": "YZZ222", name: "router" });
});

Deno.test("TestClientConnectProto: protocol 0 and 1 are accepted, 22 is 'invalid client protocol'", async () => {
  await using c = dummyClient();
  assert(c.parse('CONNECT {"verbose":true,"pedantic":true,"tls_required":false}\r\n'));
  assertEquals(c.client.opts.protocol ?? 0, 0);
  assert(c.parse('CONNECT {"verbose":true,"pedantic":true,"tls_required":false,"protocol":1}\r\n'));
  assertEquals(c.client.opts.protocol, 1);
  assert(!c.parse('CONNECT {"protocol":22}\r\n'));
  assertEquals(c.client.closeReason, ClosedState.BadClientProtocolVersion);
  assertStringIncludes(await c.read(), "-ERR 'invalid client protocol'\r\n");
});

Deno.test("TestRemoteAddress: a client knows its peer's address", async () => {
  await using s = await runServer();
  await using c = await RawClient.connect(s.port);
  const info = await c.info();
  const cl = s.clients.get(info["client_id"] as number)!;
  assertEquals(cl.host, "127.0.0.1");
  assert(cl.port > 0);
  assertEquals(info["client_ip"], "127.0.0.1");
});

Deno.test("TestClientPing: PING gets PONG", async () => {
  await using c = dummyClient();
  c.parse("PING\r\n");
  assert((await c.read()).startsWith("PONG\r\n"));
});

Deno.test("TestClientSimplePubSub: SUB then PUB delivers MSG with subject, sid and size", async () => {
  await using c = dummyClient();
  c.parse("SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n");
  const out = await c.read();
  const m = MSG_PAT.exec(out)!;
  assertEquals([m[1], m[2], m[5]], ["foo", "1", "5"]);
  assertEquals(out.slice(m.index + m[0].length, m.index + m[0].length + 7), "hello\r\n");
});

Deno.test("TestClientPubSubNoEcho: with echo off a client does not get its own messages", async () => {
  await using c = dummyClient();
  assert(c.parse('CONNECT {"echo":false}\r\n'));
  c.parse("SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n");
  assert((await c.read()).startsWith("PONG\r\n"));
});

Deno.test("TestClientSimplePubSubWithReply: MSG carries the reply subject", async () => {
  await using c = dummyClient();
  c.parse("SUB foo 1\r\nPUB foo bar 5\r\nhello\r\nPING\r\n");
  const m = MSG_PAT.exec(await c.read())!;
  assertEquals([m[1], m[2], m[4], m[5]], ["foo", "1", "bar", "5"]);
});

Deno.test("TestClientNoBodyPubSubWithReply: an empty payload with a reply is delivered", async () => {
  await using c = dummyClient();
  c.parse("SUB foo 1\r\nPUB foo bar 0\r\n\r\nPING\r\n");
  const m = MSG_PAT.exec(await c.read())!;
  assertEquals([m[1], m[2], m[4], m[5]], ["foo", "1", "bar", "0"]);
});

Deno.test("TestClientPubWithQueueSub: a queue group of two gets every message once, spread over both", async () => {
  await using c = dummyClient();
  c.parse("SUB foo g1 1\r\nSUB foo g1 2\r\n" + "PUB foo bar 5\r\nhello\r\n".repeat(100));
  const got = msgs(await c.read());
  assertEquals(got.length, 100);
  const n1 = got.filter((m) => m[0] === "1").length;
  assert(n1 >= 20 && 100 - n1 >= 20, `wrong spread: ${n1} - ${100 - n1}`);
  for (const m of got) assertEquals(m[3], "hello");
});

// blocked: natsdeno has no splitSubjectQueue helper (the "subject queue" form of permission entries).
Deno.test({
  name: "TestSplitSubjectQueue: 'subject queue' strings split into subject and queue",
  ignore: true,
  fn() {},
});

Deno.test("TestTypeString: a client connection's kind is 'Client'", async (t) => {
  await using c = dummyClient();
  assertEquals(c.client.kind, "Client");
  // blocked: routes, gateways, leaf nodes, JetStream, account and system connections are not built yet.
  await t.step({ name: "other kinds", ignore: true, fn() {} });
});

// blocked: not ported yet; queue permissions are covered by tests/auth (needs a users+permissions harness here).
Deno.test({
  name: "TestQueueSubscribePermissions: queue subscribe allowed or denied by subject and queue permissions",
  ignore: true,
  fn() {},
});

Deno.test("TestClientPubWithQueueSubNoEcho: a no-echo publisher's queue messages all go to the other member", async () => {
  await using s = await runServer();
  await using nc1 = await connectRaw(s.port, { verbose: false, pedantic: false, echo: false });
  await nc1.send("SUB foo bar 1\r\n");
  await nc1.flush();
  await using nc2 = await connectRaw(s.port);
  await nc2.send("SUB foo bar 1\r\n");
  await nc2.flush();
  await nc1.send("PUB foo 5\r\nHello\r\n".repeat(100));
  assertEquals(await nc1.flush(), "");
  assertEquals((await expectMsgs(nc2, 100)).length, 100);
});

Deno.test("TestClientUnSub: an unsubscribed sid gets nothing", async () => {
  await using c = dummyClient();
  c.parse("SUB foo 1\r\nSUB foo 2\r\nUNSUB 1\r\nPUB foo bar 5\r\nhello\r\n");
  const got = msgs(await c.read());
  assertEquals(got.map((m) => m[0]), ["2"]);
});

Deno.test("TestClientUnSubMax: UNSUB 1 5 lets exactly five messages through", async () => {
  await using c = dummyClient();
  c.parse("SUB foo 1\r\nUNSUB 1 5\r\n" + "PUB foo bar 5\r\nhello\r\n".repeat(10));
  const got = msgs(await c.read());
  assertEquals(got.length, 5);
  for (const m of got) assertEquals(m[0], "1");
});

Deno.test("TestClientAutoUnsubExactReceived: the subscription is gone after its last message", async () => {
  await using c = dummyClient();
  c.parse("SUB foo 1\r\nUNSUB 1 1\r\nPUB foo bar 2\r\nok\r\n");
  assertEquals(c.client.subs.size, 0);
});

Deno.test("TestClientUnsubAfterAutoUnsub: UNSUB after an auto-unsubscribe removes it", async () => {
  await using c = dummyClient();
  c.parse("SUB foo 1\r\nUNSUB 1 1\r\nUNSUB 1\r\n");
  assertEquals(c.client.subs.size, 0);
});

Deno.test("TestClientRemoveSubsOnDisconnect: closing a client removes its subscriptions", async () => {
  await using c = dummyClient();
  c.parse("SUB foo 1\r\nSUB bar 2\r\n");
  assertEquals(c.server.numSubscriptions(), 2);
  c.client.close(ClosedState.ClientClosed);
  await checkFor(2000, 15, () => assertEquals(c.server.numSubscriptions(), 0));
});

Deno.test("TestClientDoesNotAddSubscriptionsWhenConnectionClosed: SUB after close adds nothing", async () => {
  await using c = dummyClient();
  c.client.close(ClosedState.ClientClosed);
  c.parse("SUB foo 1\r\nSUB bar 2\r\n");
  assertEquals(c.server.gacc.sl.count(), 0);
});

Deno.test("TestClientMapRemoval: a closed client leaves the server's client map", async () => {
  await using c = dummyClient();
  c.client.close(ClosedState.ClientClosed);
  await checkFor(2000, 15, () => assertEquals(c.server.clients.size, 0));
});

Deno.test("TestAuthorizationTimeout: no CONNECT within auth_timeout gets 'Authentication Timeout'", async () => {
  await using s = await runServer({ authorization: "my_token", authTimeoutMs: 400 });
  await using c = await RawClient.connect(s.port);
  await c.info();
  const m = await c.expect(errRe, 3 * 400);
  assertStringIncludes(m[1], "Authentication Timeout");
});

Deno.test("TestTwoTokenPubMatchSingleTokenSub: foo.bar does not match a SUB on foo", async () => {
  await using c = dummyClient();
  c.parse("PUB foo.bar 5\r\nhello\r\nSUB foo 1\r\nPING\r\nPUB foo.bar 5\r\nhello\r\nPING\r\n");
  assertEquals(await c.read(), "PONG\r\nPONG\r\n");
});

Deno.test("TestUnsubRace: unsubscribing while another client publishes is safe", async () => {
  // As the reference's DefaultOptions: no system account, whose subscriptions numSubscriptions() counts.
  await using s = await runServer({ noSystemAccount: true });
  await using nc = await connectRaw(s.port);
  await using ncp = await connectRaw(s.port);
  await nc.send("SUB foo 1\r\n");
  await nc.flush();
  const pubs = (async () => {
    for (let i = 0; i < 100; i++) await ncp.send("PUB foo 5\r\nhello\r\n".repeat(100));
  })();
  await new Promise((r) => setTimeout(r, 5));
  await nc.send("UNSUB 1\r\n");
  await pubs;
  await ncp.flush();
  await checkFor(2000, 15, () => assertEquals(s.numSubscriptions(), 0));
});

Deno.test("TestClientCloseTLSConnection: closing a TLS client does not block", async () => {
  // The reference's configs/tls.conf, with a long TLS timeout.
  await using s = await runServer({
    tls: { certFile: `${CERTS}server-cert.pem`, keyFile: `${CERTS}server-key.pem`, timeoutMs: 100_000 },
    username: "derek",
    password: "foo",
  });
  await using tc = await RawTlsClient.connect(s.port);
  await tc.send(
    'CONNECT {"user":"derek","pass":"foo","verbose":false,"pedantic":false,"tls_required":true}\r\nPING\r\n',
  );
  await tc.expect(pongRe);
  await checkFor(2000, 15, () => assertEquals(s.clients.size, 1));
  const cli = [...s.clients.values()][0];
  // The TLS connection state and the remote address.
  assertEquals(cli.tlsVersion, "1.3");
  assert((cli.tlsCipher ?? "").startsWith("TLS_"), cli.tlsCipher);
  assertEquals(cli.host, "127.0.0.1");
  // Fill the socket buffers: the client never reads, so writes stay in flight.
  tc.stallReads();
  const buf = new Uint8Array(64 * 1024);
  for (let i = 0; i < 256 && !cli.closed && cli.pendingBytes() < 8 * buf.length; i++) {
    cli.enqueue(buf);
    cli.flush();
    await new Promise((r) => setTimeout(r, 1));
  }
  assert(cli.pendingBytes() > 0, "writes should be stuck");
  // Closing must not wait for the stuck write.
  const start = Date.now();
  cli.close(ClosedState.ClientClosed);
  assert(Date.now() - start < 3000);
  await checkFor(3000, 15, () => assertEquals(s.clients.size, 0));
});

Deno.test("TestWildcardCharsInLiteralSubjectWorks: * and > inside a token are literal characters", async () => {
  await using s = await runServer();
  await using c = await connectRaw(s.port);
  const subj = "foo.bar,*,>,baz";
  for (let i = 0; i < 2; i++) {
    await c.send(`SUB ${subj} ${i + 1}\r\n`);
    assertEquals(await c.flush(), "");
    await c.send(`PUB ${subj} 3\r\nmsg\r\n`);
    const m = await expectMsg(c, 1000);
    assertEquals([m.subject, m.sid, m.payload], [subj, String(i + 1), "msg"]);
    await c.send(`UNSUB ${i + 1}\r\n`);
  }
});

// blocked: natsdeno exposes no per-connection read/write buffer sizes (Go's c.in.rsz / c.out.sz).
Deno.test({
  name: "TestDynamicBuffers: read and write buffers grow and shrink with traffic",
  ignore: true,
  fn() {},
});

Deno.test("TestClientTraceRace: tracing while messages flow between clients is safe", async () => {
  await using s = await runServer({ trace: true });
  await using nc1 = await connectRaw(s.port);
  await using nc2 = await connectRaw(s.port);
  await nc1.send("SUB foo 1\r\n");
  await nc1.flush();
  await nc2.send("PUB foo 5\r\nhello\r\n".repeat(1000));
  await nc2.flush();
  assertEquals((await expectMsgs(nc1, 1000)).length, 1000);
});

// blocked: the auth user description is private to Client (#userDesc); it shows only in logs.
Deno.test({ name: "TestClientUserInfo: auth user text for nkey, user and none", ignore: true, fn() {} });

// blocked: natsdeno has no slow-readloop warning.
Deno.test({ name: "TestReadloopWarning: a slow read loop is logged as a warning", ignore: true, fn() {} });

// blocked: message payloads are not traced yet (MSG_PAYLOAD with max_traced_msg_len).
Deno.test({ name: "TestTraceMsg: traced payloads are cut at max_traced_msg_len", ignore: true, fn() {} });

Deno.test("TestClientMaxPending: a max_pending over 2^31 still delivers", async () => {
  await using s = await runServer({ maxPending: 2 ** 31 });
  await using c = await connectRaw(s.port);
  await c.send("SUB foo 1\r\nPUB foo 3\r\nmsg\r\n");
  const m = await expectMsg(c, 100 + 1000);
  assertEquals(m.payload, "msg");
});

// blocked: not ported yet; needs users with allow_responses permissions (covered in part by tests/auth).
Deno.test({ name: "TestResponsePermissions: allow_responses limits and expiry", ignore: true, fn() {} });

// blocked: RTT pings for latency tracking (sendRTTPing) are not built yet.
Deno.test({
  name: "TestPingNotSentTooSoon: no RTT PING before the first PONG or 2 s",
  ignore: true,
  fn() {},
});

Deno.test("TestClientCheckUseOfGWReplyPrefix: publishing on or replying to _GR_. is a violation", async () => {
  await using s = await runServer();
  await using c = await connectRaw(s.port);
  await c.send("PUB _GR_.anything 11\r\nshould fail\r\n");
  let m = await c.expect(errRe);
  assertStringIncludes(m[1].toLowerCase(), "violation for publish");
  await c.send("PUB foo _GR_.anything 11\r\nshould fail\r\n");
  m = await c.expect(errRe);
  assertStringIncludes(m[1].toLowerCase(), "violation for publish with reply");
});

// blocked: write_deadline is server-wide in natsdeno; Go sets one client's deadline by hand
// (tests/server/slow_consumer_test.ts covers write-deadline slow consumers).
Deno.test({ name: "TestNoClientLeakOnSlowConsumer: a slow consumer is removed", ignore: true, fn() {} });

// blocked: needs a reader that stops reading long enough for write_deadline; see slow_consumer_test.ts.
Deno.test({
  name: "TestClientSlowConsumerWithoutConnect: slow consumer without CONNECT",
  ignore: true,
  fn() {},
});

// blocked: write_deadline applied to the INFO write (1 ns) is not modelled.
Deno.test({
  name: "TestClientNoSlowConsumerIfConnectExpected: no slow consumer count on INFO",
  ignore: true,
  fn() {},
});

// blocked: natsdeno stalls producers for a fixed time, not Go's graded stallDuration.
Deno.test({ name: "TestClientStalledDuration: stall grows with pending bytes", ignore: true, fn() {} });

Deno.test("TestClientIPv6Address: an IPv6 peer is shown in brackets (skipped without IPv6)", async () => {
  let s;
  try {
    s = await runServer({ host: "::" });
  } catch {
    return; // No IPv6 on this machine.
  }
  await using _s = s;
  let c: RawClient;
  try {
    c = await RawClient.connect(`nats://[::1]:${s.port}`);
  } catch {
    return;
  }
  await using _c = c;
  const info = await c.info();
  const cl = s.clients.get(info["client_id"] as number)!;
  assert(cl.toString().startsWith("[::1]"), cl.toString());
});

Deno.test("TestPBNotIncreasedOnMaxPending: bytes over max_pending are not queued", async () => {
  await using c = dummyClient({ maxPending: 100 });
  c.client.enqueue(new Uint8Array(200));
  assertEquals(c.client.pendingBytes(), 0);
});

Deno.test("TestFlushOutboundNoSliceReuseIfPartial: short writes still send every byte in order", async () => {
  await using c = dummyClient({ maxPending: 1024 });
  c.conn.partial = 15;
  const bufs = ["ABCDEFGHIJKLMNOPQRSTUVWXYZ", "------", "0123456789"];
  for (const b of bufs) {
    c.client.enqueue(new TextEncoder().encode(b));
    c.client.flush();
    await c.read();
    c.conn.partial = 0;
  }
  assertEquals(c.conn.text(), bufs.join(""));
});

// blocked: routes are not built yet.
Deno.test({ name: "TestCloseConnectionLogsReason: a closed route logs its reason", ignore: true, fn() {} });

Deno.test("TestCloseConnectionVeryEarly: a connection closed right away leaves no client behind", async (t) => {
  await t.step("no_tls", async () => {
    await using s = await runServer();
    const c = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    c.close();
    await checkFor(2000, 15, () => assertEquals(s.clients.size, 0));
  });
  await t.step("tls", async () => {
    await using s = await runServer({
      tls: {
        certFile: `${CERTS}server-cert.pem`,
        keyFile: `${CERTS}server-key.pem`,
        caFile: `${CERTS}ca.pem`,
      },
    });
    const c = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    c.close();
    await checkFor(2000, 15, () => assertEquals(s.clients.size, 0));
  });
});

Deno.test("TestClientConnectionName: a client's log prefix names its address and cid", async (t) => {
  await using c = dummyClient();
  assertMatch(c.client.toString(), /^127\.0\.0\.1:\d+ - cid:1$/);
  // blocked: websocket, MQTT, route, gateway and leaf connections are not built yet.
  await t.step({ name: "ws, mqtt, route, gateway, leafnode", ignore: true, fn() {} });
});

// blocked: JWT user and account limits are not built yet.
Deno.test({
  name: "TestClientLimits: the lowest of user, account and server limits applies",
  ignore: true,
  fn() {},
});

// blocked: leaf nodes are not built yet.
Deno.test({
  name: "TestClientClampMaxSubsErrReport: max_subs errors over a leaf are reported once",
  ignore: true,
  fn() {},
});

Deno.test("TestClientDenySysGroupSub: the _sys_ queue group is a permissions violation", async () => {
  await using s = await runServer();
  await using c = await connectRaw(s.port);
  await c.send("SUB foo _sys_ 1\r\n");
  const m = await c.expect(errRe);
  assertStringIncludes(m[1], "Permissions Violation");
  await c.send("PING\r\n");
  await c.expect(pongRe);
});

// blocked: accounts in the config (accounts { A: { users: […] } }) are not built yet.
Deno.test({
  name: "TestClientAuthRequiredNoAuthUser: no_auth_user makes INFO say auth is not required",
  ignore: true,
  fn() {},
});
