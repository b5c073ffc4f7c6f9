// Ports the unit tests of server/websocket_test.go (framing, close messages, origins, the upgrade checks and
// outbound framing) onto src/net's WebSocket pieces, plus framing tests of our own.
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import {
  checkOrigin,
  checkUpgrade,
  parseAllowedOrigins,
  parseHttpRequest,
  WS_BINARY,
  WS_CLOSE,
  WS_CLOSE_NO_STATUS,
  WS_CLOSE_NORMAL,
  WS_CLOSE_PROTOCOL_ERROR,
  WS_CONTINUATION,
  WS_FRAME_SIZE_FOR_BROWSERS,
  WS_PING,
  WS_PONG,
  WS_TEXT,
  wsAcceptKey,
  wsCloseStatusForReason,
  wsCreateCloseMessage,
  wsFillFrameHeader,
  WsFrameReader,
  type WsHttpRequest,
  WsTransport,
  type WsUpgradeOptions,
} from "../../src/net/mod.ts";
import { wsIsControlFrame } from "../../src/net/_ws_frame.ts";
import { clientMsg, concat, decoder, deflate, encoder, MemTransport, parseFrames } from "./_ws_helpers.ts";

interface Ctl {
  pings: Uint8Array[];
  closes: { status: number; body: string }[];
}

function newReader(mask = true): { r: WsFrameReader; ctl: Ctl } {
  const ctl: Ctl = { pings: [], closes: [] };
  const r = new WsFrameReader(mask, {
    onPing: (p) => ctl.pings.push(p.slice()),
    onClose: (status, body) => ctl.closes.push({ status, body }),
  });
  return { r, ctl };
}

/** Decodes `chunks` in order (each copied into a fresh buffer, as reads would) and returns the payload text. */
function decodeAll(r: WsFrameReader, ...chunks: Uint8Array[]): string {
  let out = "";
  for (const c of chunks) {
    const buf = c.slice();
    const k = r.decode(buf, buf.length);
    out += decoder.decode(buf.subarray(0, k));
    while (r.queue.length > 0) out += decoder.decode(r.queue.shift()!);
  }
  return out;
}

Deno.test("TestWSGet: a frame header split over reads is completed by the next read", () => {
  const { r } = newReader();
  const f = clientMsg(WS_BINARY, 1, true, false, "hello world", true);
  // Every split point, including inside the 2-byte header and the mask key.
  for (let i = 1; i < f.length; i++) {
    assertEquals(decodeAll(r, f.subarray(0, i), f.subarray(i)), "hello world", `split at ${i}`);
  }
});

Deno.test("TestWSIsControlFrame: close, ping and pong are control frames; data frames are not", () => {
  for (const op of [WS_CLOSE, WS_PING, WS_PONG]) assert(wsIsControlFrame(op));
  for (const op of [WS_CONTINUATION, WS_TEXT, WS_BINARY]) assert(!wsIsControlFrame(op));
});

Deno.test("TestWSUnmask: unmasking works whole and in pieces that keep the key position", () => {
  const text = "this is a clear text, long enough for the word-at-a-time path of the unmasker";
  const f = clientMsg(WS_BINARY, 1, true, false, text);
  const { r } = newReader();
  assertEquals(decodeAll(r, f), text);
  const h = f.length - text.length;
  assertEquals(decodeAll(r, f.subarray(0, h + 3), f.subarray(h + 3, h + 11), f.subarray(h + 11)), text);
  // Odd offsets inside the buffer (unaligned word access) decode the same.
  for (let off = 1; off < 8; off++) {
    const buf = new Uint8Array(off + f.length);
    buf.set(f, off);
    assertEquals(decodeAll(r, buf.subarray(off)), text);
  }
});

Deno.test("TestWSCreateCloseMessage: status first, body cut at the control frame limit with '...'", async (t) => {
  await t.step("fits", () => {
    const body = "ABCDEFGHIJ";
    const m = wsCreateCloseMessage(1011, body);
    assertEquals((m[0] << 8) | m[1], 1011);
    assertEquals(decoder.decode(m.subarray(2)), body);
  });
  await t.step("truncated", () => {
    const body = Array.from({ length: 135 }, (_, i) => String.fromCharCode(65 + i % 26)).join("");
    const m = wsCreateCloseMessage(1002, body);
    assertEquals((m[0] << 8) | m[1], 1002);
    assertEquals(m.length - 2, 123);
    assertEquals(decoder.decode(m.subarray(m.length - 3)), "...");
  });
});

Deno.test("TestWSCreateFrameHeader: 7-bit, 16-bit and 64-bit lengths, FIN and RSV1", () => {
  for (
    const [op, compressed, len] of [[2, false, 10], [1, false, 600], [1, false, 100000], [2, true, 10], [
      2,
      true,
      600,
    ], [1, true, 100000]] as [number, boolean, number][]
  ) {
    const fh = new Uint8Array(14);
    const n = wsFillFrameHeader(fh, 0, false, true, true, compressed, op, len);
    assertEquals(fh[0], op | 0x80 | (compressed ? 0x40 : 0));
    if (len <= 125) {
      assertEquals(n, 2);
      assertEquals(fh[1], len);
    } else if (len < 65536) {
      assertEquals(n, 4);
      assertEquals(fh[1], 126);
      assertEquals((fh[2] << 8) | fh[3], len);
    } else {
      assertEquals(n, 10);
      assertEquals(fh[1], 127);
      assertEquals(Number(new DataView(fh.buffer, 2, 8).getBigUint64(0)), len);
    }
  }
});

Deno.test("TestWSReadUncompressedFrames: several frames in one read give their payloads in order", () => {
  const { r } = newReader();
  const buf = concat(
    clientMsg(WS_BINARY, 1, true, false, "first message"),
    clientMsg(WS_BINARY, 1, true, false, "second message"),
  );
  assertEquals(decodeAll(r, buf), "first messagesecond message");
});

Deno.test("TestWSReadCompressedFrames: compressed frames are inflated, alone and mixed with plain ones", () => {
  const { r } = newReader();
  const big = "x".repeat(2000) + "end";
  const buf = concat(
    clientMsg(WS_BINARY, 1, true, true, "first message"),
    clientMsg(WS_BINARY, 1, true, false, "|plain|"),
    clientMsg(WS_BINARY, 1, true, true, big),
  );
  assertEquals(decodeAll(r, buf), "first message|plain|" + big);
  // Byte by byte: the compressed fragments are gathered across reads.
  const parts = [...buf].map((b) => new Uint8Array([b]));
  assertEquals(decodeAll(r, ...parts), "first message|plain|" + big);
});

Deno.test("TestWSReadCompressedFrameCorrupted: corrupt deflate data is a protocol error", () => {
  const { r } = newReader();
  const f = clientMsg(WS_BINARY, 1, true, false, "not really deflated at all");
  f[0] |= 0x40; // RSV1 on a payload that is not deflate data.
  decodeAll(r, f);
  assert(r.error !== undefined);
  assert(r.closed);
});

Deno.test("TestWSReadVariousFrameSizes: payloads across the 125/126 and 65535/65536 length forms", () => {
  for (const size of [100, 1000, 70000]) {
    const { r } = newReader();
    const payload = "a".repeat(size - 1) + "b";
    assertEquals(decodeAll(r, clientMsg(WS_BINARY, 1, true, false, payload)), payload);
  }
});

Deno.test("TestWSReadFragmentedFrames: a message in continuation frames is reassembled", () => {
  const { r } = newReader();
  const buf = concat(
    clientMsg(WS_BINARY, 1, false, false, "first"),
    clientMsg(WS_BINARY, 2, false, false, "second"),
    clientMsg(WS_BINARY, 3, true, false, "third"),
  );
  assertEquals(decodeAll(r, buf), "firstsecondthird");
  // Compressed fragments: RSV1 on the first frame only.
  const c = deflate(encoder.encode("compressed over three frames"));
  const a = clientMsg(WS_BINARY, 1, false, false, c.subarray(0, 5));
  a[0] |= 0x40;
  const b = clientMsg(WS_BINARY, 2, false, false, c.subarray(5, 9));
  const d = clientMsg(WS_BINARY, 3, true, false, c.subarray(9));
  assertEquals(decodeAll(r, concat(a, b, d)), "compressed over three frames");
});

Deno.test("TestWSReadPartialFrameHeaderAtEndOfReadBuffer: a header cut at the end of a read is kept", () => {
  const { r } = newReader();
  const f1 = clientMsg(WS_BINARY, 1, true, false, "msg1");
  const f2 = clientMsg(WS_BINARY, 1, true, false, "msg2".repeat(40)); // 16-bit length header.
  const all = concat(f1, f2);
  assertEquals(
    decodeAll(r, all.subarray(0, f1.length + 1), all.subarray(f1.length + 1)),
    "msg1" + "msg2".repeat(40),
  );
  assertEquals(
    decodeAll(r, all.subarray(0, f1.length + 3), all.subarray(f1.length + 3)),
    "msg1" + "msg2".repeat(40),
  );
});

Deno.test("TestWSReadPingFrame: a ping is answered with a pong carrying its payload", async () => {
  const inner = new MemTransport();
  const t = new WsTransport(inner);
  inner.feed(
    concat(clientMsg(WS_PING, 1, true, false, "optional payload"), clientMsg(WS_BINARY, 1, true, false, "x")),
  );
  const buf = new Uint8Array(64);
  assertEquals(await t.read(buf), 1);
  await delay0();
  const frames = parseFrames(inner.all());
  assertEquals(frames.length, 1);
  assertEquals(frames[0].op, WS_PONG);
  assertEquals(decoder.decode(frames[0].payload), "optional payload");
  t.close();
});

Deno.test("TestWSReadPongFrame: a pong is consumed silently", async () => {
  const inner = new MemTransport();
  const t = new WsTransport(inner);
  inner.feed(
    concat(clientMsg(WS_PONG, 1, true, false, "optional payload"), clientMsg(WS_BINARY, 1, true, false, "x")),
  );
  const buf = new Uint8Array(64);
  assertEquals(await t.read(buf), 1);
  assertEquals(decoder.decode(buf.subarray(0, 1)), "x");
  await delay0();
  assertEquals(inner.written.length, 0);
  t.close();
});

Deno.test("TestWSReadCloseFrame: a close is echoed with its status and body, then reads end", async () => {
  const inner = new MemTransport();
  const t = new WsTransport(inner);
  const payload = concat(new Uint8Array([0x03, 0xe8]), encoder.encode("optional close payload"));
  inner.feed(
    concat(clientMsg(WS_BINARY, 1, true, false, "before"), clientMsg(WS_CLOSE, 1, true, false, payload)),
  );
  const buf = new Uint8Array(64);
  assertEquals(await t.read(buf), 6);
  assertEquals(await t.read(buf), null);
  t.close("Client Closed");
  await t.done;
  const frames = parseFrames(inner.all());
  assertEquals(frames.length, 1, "one close frame only");
  assertEquals(frames[0].op, WS_CLOSE);
  assertEquals((frames[0].payload[0] << 8) | frames[0].payload[1], WS_CLOSE_NORMAL);
  assertEquals(decoder.decode(frames[0].payload.subarray(2)), "optional close payload");
  assert(inner.closed);
});

Deno.test("TestWSReadControlFrameBetweebFragmentedFrames: a ping between fragments is handled", async () => {
  const inner = new MemTransport();
  const t = new WsTransport(inner);
  inner.feed(concat(
    clientMsg(WS_BINARY, 1, false, false, "first"),
    clientMsg(WS_PING, 1, true, false, ""),
    clientMsg(WS_BINARY, 2, true, false, "second"),
  ));
  const buf = new Uint8Array(64);
  assertEquals(decoder.decode(buf.subarray(0, (await t.read(buf))!)), "firstsecond");
  await delay0();
  assertEquals(parseFrames(inner.all())[0].op, WS_PONG);
  t.close();
});

Deno.test("TestWSCloseFrameWithPartialOrInvalid: close payloads split over reads, or with bad UTF-8", () => {
  const body = "hello";
  const payload = concat(new Uint8Array([0x03, 0xe8]), encoder.encode(body));
  const f = clientMsg(WS_CLOSE, 1, true, false, payload);
  for (let i = 1; i < f.length; i++) {
    const { r, ctl } = newReader();
    decodeAll(r, f.subarray(0, i), f.subarray(i));
    assertEquals(ctl.closes, [{ status: 1000, body }], `split at ${i}`);
  }
  const { r, ctl } = newReader();
  decodeAll(r, clientMsg(WS_CLOSE, 1, true, false, new Uint8Array([0x03, 0xe8, 0xff, 0xfe])));
  assertEquals(ctl.closes, [{ status: 1007, body: "invalid utf8 body in close frame" }]);
  const e = newReader();
  decodeAll(e.r, clientMsg(WS_CLOSE, 1, true, false, ""));
  assertEquals(e.ctl.closes, [{ status: WS_CLOSE_NO_STATUS, body: "" }]);
});

Deno.test({
  name: "TestWSReadGetErrors: read errors while completing a frame",
  // blocked: Go's wsGet reads the rest of a header synchronously from the socket; our reader keeps a partial
  // header for the next read instead, so a read error just ends the stream (covered by TestWSGet's splits).
  ignore: true,
  fn() {},
});

Deno.test("TestWSHandleControlFrameErrors: oversized and non-final control frames are protocol errors", () => {
  const { r } = newReader();
  decodeAll(r, clientMsg(WS_PING, 1, true, false, "x".repeat(126)));
  assertEquals(r.error?.message, "control frame length bigger than maximum allowed of 125 bytes");
  const n = newReader();
  decodeAll(n.r, clientMsg(WS_PING, 1, false, false, "x"));
  assertEquals(n.r.error?.message, "control frame does not have final bit set");
});

Deno.test("TestWSReadErrors: the reference's texts for bad frames, and data before the bad frame is kept", () => {
  const cases: [Uint8Array, string][] = [
    [clientMsg(WS_BINARY, 1, true, false, "x", false), "mask bit missing"],
    [
      concat(clientMsg(WS_BINARY, 1, false, false, "a"), clientMsg(WS_BINARY, 1, true, false, "b")),
      "new message started before final frame for previous message was received",
    ],
    [clientMsg(WS_BINARY, 2, true, false, "x"), "invalid continuation frame"],
    [
      (() => {
        const f = clientMsg(WS_BINARY, 1, true, false, "x");
        f[0] = (f[0] & 0xf0) | 3;
        return f;
      })(),
      "unknown opcode 3",
    ],
  ];
  for (const [f, want] of cases) {
    const { r } = newReader();
    decodeAll(r, f);
    assertEquals(r.error?.message, want);
  }
  // Compressed continuation: RSV1 may only be on the first frame.
  const { r } = newReader();
  const c = clientMsg(WS_BINARY, 2, true, false, "x");
  c[0] |= 0x40;
  decodeAll(r, clientMsg(WS_BINARY, 1, false, false, "a"), c);
  assertEquals(r.error?.message, "invalid continuation frame");
  // A good frame before a bad one is still delivered.
  const g = newReader();
  assertEquals(decodeAll(g.r, concat(clientMsg(WS_BINARY, 1, true, false, "good"), cases[0][0])), "good");
  assertEquals(g.r.error?.message, "mask bit missing");
});

Deno.test("TestWSEnqueueCloseMsg: each close reason maps to the reference's status, with the reason as body", async () => {
  const cases: [string, number | undefined][] = [
    ["Client Closed", 1000],
    ["Authentication Timeout", 1008],
    ["Authentication Failure", 1008],
    ["Slow Consumer (Pending Bytes)", undefined],
    ["Slow Consumer (Write Deadline)", undefined],
    ["Maximum Account Connections Exceeded", 1008],
    ["Maximum Connections Exceeded", 1008],
    ["Maximum Control Line Exceeded", 1008],
    ["Maximum Subscriptions Exceeded", 1008],
    ["Missing Account", 1008],
    ["Authentication Expired", 1008],
    ["Credentials Revoked", 1008],
    ["TLS Handshake Failure", undefined],
    ["Parse Error", 1002],
    ["Protocol Violation", 1002],
    ["Bad Client Protocol Version", 1002],
    ["Maximum Message Payload Exceeded", 1009],
    ["Server Shutdown", 1001],
    ["Write Error", undefined],
    ["Read Error", undefined],
    ["Stale Connection", 1006],
    ["Duplicate Route", 1011],
  ];
  for (const [reason, status] of cases) {
    assertEquals(wsCloseStatusForReason(reason), status, reason);
    const inner = new MemTransport();
    const t = new WsTransport(inner);
    t.close(reason);
    await t.done;
    const frames = parseFrames(inner.all());
    if (status === undefined) {
      assertEquals(frames.length, 0, reason);
      continue;
    }
    assertEquals(frames.length, 1, reason);
    assertEquals((frames[0].payload[0] << 8) | frames[0].payload[1], status);
    assertEquals(decoder.decode(frames[0].payload.subarray(2)), reason);
  }
});

function req(headers: Record<string, string>, opts: { method?: string; host?: string; uri?: string } = {}) {
  let s = `${opts.method ?? "GET"} ${opts.uri ?? "/"} HTTP/1.1\r\n`;
  s += `Host: ${opts.host || "localhost:443"}\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  const r = parseHttpRequest(s);
  if (opts.host === "") r.host = "";
  return r;
}

function validReq(extra: Record<string, string> = {}, drop: string[] = [], opts = {}): WsHttpRequest {
  const h: Record<string, string> = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    ...extra,
  };
  for (const d of drop) delete h[d];
  return req(h, opts);
}

function upgradeOpts(o: Partial<WsUpgradeOptions> & { origins?: string[] } = {}): WsUpgradeOptions {
  return {
    compression: false,
    sameOrigin: false,
    allowedOrigins: parseAllowedOrigins(o.origins ?? []),
    tls: false,
    jwtCookie: "",
    userCookie: "",
    passCookie: "",
    tokenCookie: "",
    headers: {},
    ...o,
  };
}

Deno.test("TestWSCheckOrigin: same origin and allowed list rules, with the reference's reasons", async (t) => {
  const someList = ["http://host1.com", "http://host2.com:1234"];
  const cases: [string, boolean, string[], string, boolean, string, string][] = [
    ["any", false, [], "", false, "http://any.host.com", ""],
    ["same origin ok", true, [], "host.com", false, "http://host.com:80", ""],
    ["same origin bad host", true, [], "host.com", false, "http://other.host.com", "not same origin"],
    ["same origin bad port", true, [], "host.com", false, "http://host.com:81", "not same origin"],
    ["same origin bad scheme", true, [], "host.com", true, "http://host.com", "not same origin"],
    ["same origin bad uri", true, [], "host.com", false, "@@@://invalid:url:1234", "invalid URI"],
    ["same origin bad url", true, [], "host.com", false, "http://invalid:url:1234", "too many colons"],
    ["same origin bad req host", true, [], "invalid:url:1234", false, "http://host.com", "too many colons"],
    ["no origin same origin ignored", true, [], "", false, "", ""],
    ["no origin list ignored", true, someList, "", false, "", ""],
    ["no origin same origin and list ignored", true, someList, "", false, "", ""],
    ["allowed from list", false, someList, "", false, "http://host2.com:1234", ""],
    ["allowed with different path", false, someList, "", false, "http://host1.com/some/path", ""],
    ["list bad port", false, someList, "", false, "http://host1.com:1234", "not in the allowed list"],
    ["list bad scheme", false, someList, "", false, "https://host2.com:1234", "not in the allowed list"],
  ];
  for (const [name, same, origins, reqHost, reqTls, origin, err] of cases) {
    await t.step(name, () => {
      const r = validReq(origin ? { Origin: origin } : {});
      r.host = reqHost;
      const got = checkOrigin(r, upgradeOpts({ sameOrigin: same, origins, tls: reqTls }));
      if (err === "") assertEquals(got, undefined);
      else assertStringIncludes(got ?? "", err);
    });
  }
});

Deno.test("TestWSUpgradeValidationErrors: each failed check gives its status and reason", async (t) => {
  const cases: [string, WsHttpRequest, Partial<WsUpgradeOptions>, string, number][] = [
    ["bad method", validReq({}, [], { method: "POST" }), {}, "must be GET", 405],
    ["no host", validReq({}, [], { host: "" }), {}, "'Host' missing in request", 400],
    ["invalid upgrade header", validReq({}, ["Upgrade"]), {}, "invalid value for header 'Upgrade'", 400],
    [
      "invalid connection header",
      validReq({}, ["Connection"]),
      {},
      "invalid value for header 'Connection'",
      400,
    ],
    ["no key", validReq({}, ["Sec-WebSocket-Key"]), {}, "key missing", 400],
    ["empty key", validReq({ "Sec-WebSocket-Key": "" }), {}, "key missing", 400],
    ["missing version", validReq({}, ["Sec-WebSocket-Version"]), {}, "invalid version", 400],
    ["wrong version", validReq({ "Sec-WebSocket-Version": "99" }), {}, "invalid version", 400],
    ["origin", validReq({ Origin: "http://bad.host.com" }), { sameOrigin: true }, "origin not allowed", 403],
  ];
  for (const [name, r, o, err, status] of cases) {
    await t.step(name, () => {
      const res = checkUpgrade(r, upgradeOpts(o));
      assert(!res.ok);
      assertStringIncludes(res.reason, err);
      assertEquals(res.status, status);
    });
  }
  // "hijack error" and "hijack buffered data": see TestWSUpgradeResponseWriteError and
  // TestWSServerReportUpgradeFailure (tests/server) for the socket-level cases.
});

Deno.test({
  name: "TestWSUpgradeResponseWriteError: a failing response write closes the connection",
  // blocked: needs a fake net.Conn under Go's hijacker; our upgrade writes through the Transport and a failed
  // write rejects upgradeConnection, which closes the socket (one code path, no seam to inject it yet).
  ignore: true,
  fn() {},
});

Deno.test("TestWSUpgradeConnDeadline: an upgrade inside the handshake timeout succeeds", async () => {
  const { upgradeConnection } = await import("../../src/net/websocket.ts");
  const inner = new MemTransport();
  const head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  inner.feed(encoder.encode(head));
  const res = await upgradeConnection({ conn: inner, remoteHost: "127.0.0.1", remotePort: 1 }, {
    host: "",
    port: 0,
    handshakeTimeoutMs: 1_000,
    upgrade: () => upgradeOpts(),
  });
  assert(typeof res !== "string");
  assert(!inner.closed, "connection should not have been closed");
  assertStringIncludes(
    decoder.decode(inner.all()),
    `Sec-WebSocket-Accept: ${wsAcceptKey("dGhlIHNhbXBsZSBub25jZQ==")}`,
  );
  res.transport.close();
});

Deno.test("TestWSCompressNegotiation: permessage-deflate only when both the server and the client want it", () => {
  const ask = validReq({ "Sec-WebSocket-Extensions": "permessage-deflate" });
  const text = (r: ReturnType<typeof checkUpgrade>) => r.ok ? decoder.decode(r.response) : "";
  assert(!text(checkUpgrade(ask, upgradeOpts())).includes("permessage-deflate"));
  const on = text(checkUpgrade(ask, upgradeOpts({ compression: true })));
  assertStringIncludes(
    on,
    "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n",
  );
  assert(!text(checkUpgrade(validReq(), upgradeOpts({ compression: true }))).includes("permessage-deflate"));
});

Deno.test("TestWSFrameOutbound: one frame per write; browsers get 4 KB frames, each a whole message", async () => {
  const inner = new MemTransport();
  const t = new WsTransport(inner);
  const a = encoder.encode("MSG foo 1 5\r\nhello\r\n".repeat(100));
  await t.write(a);
  let frames = parseFrames(inner.all());
  assertEquals(frames.length, 1);
  assertEquals(frames[0].op, WS_BINARY);
  assert(frames[0].fin && !frames[0].rsv1);
  assertEquals(frames[0].payload, a);

  const bi = new MemTransport();
  const b = new WsTransport(bi, { browser: true });
  const big = new Uint8Array(3 * WS_FRAME_SIZE_FOR_BROWSERS + 10).map((_, i) => i & 0xff);
  await b.write(big);
  frames = parseFrames(bi.all());
  assertEquals(frames.map((f) => f.raw.length), [4096, 4096, 4096, 10]);
  for (const f of frames) assert(f.fin && f.op === WS_BINARY, "each piece is a complete message");
  assertEquals(concat(...frames.map((f) => f.payload)), big);
  assertEquals(bi.written.length, 1, "one socket write per flush");
  t.close();
  b.close();
});

Deno.test({
  name: "TestWSWebrowserClient: browsers get outbound frames of at most 4 KB",
  ignore: true, // ported in tests/server/websocket_test.ts (needs a server)
  fn() {},
});

Deno.test("TestWSCompressionBasic: messages over 64 bytes are compressed, smaller ones are not", async () => {
  const inner = new MemTransport();
  const t = new WsTransport(inner, { compress: true });
  const payload = "This is the content of a message that will be compresseddddddddddddddddddddd.";
  const msg = encoder.encode(`MSG foo 1 ${payload.length}\r\n${payload}\r\n`);
  await t.write(msg);
  await t.write(encoder.encode("PONG\r\n"));
  await t.write(new Uint8Array(64).fill(0x41)); // Exactly the threshold: not compressed.
  const frames = parseFrames(inner.all());
  assertEquals(frames.length, 3);
  assert(frames[0].rsv1, "compressed");
  assert(frames[0].raw.length < msg.length);
  assertEquals(frames[0].payload, msg);
  assert(!frames[1].rsv1);
  assertEquals(decoder.decode(frames[1].payload), "PONG\r\n");
  assert(!frames[2].rsv1);
  t.close();
});

Deno.test({
  name: "TestWSCompressionWithPartialWrite: a partial write of compressed frames resumes correctly",
  // blocked: Go keeps framed buffers across partial writes; our transport writes each frame to the end
  // (short writes loop in WsTransport) — covered by the short-write test below.
  ignore: true,
  fn() {},
});

Deno.test("TestWSCompressionFrameSizeLimit: browsers get compressed messages in 4 KB continuation frames", async (t) => {
  for (
    const [name, maskWrite] of [["no write masking", false], ["write masking", true]] as [string, boolean][]
  ) {
    await t.step(name, async () => {
      const inner = new MemTransport();
      const w = new WsTransport(inner, { compress: true, browser: true, maskWrite });
      const payload = crypto.getRandomValues(new Uint8Array(2 * WS_FRAME_SIZE_FOR_BROWSERS));
      await w.write(payload);
      // Decode as a server would (unmasking when masked), gathering the compressed pieces.
      const all = inner.all();
      const got: Uint8Array[] = [];
      const reader = new WsFrameReader(maskWrite, { onPing() {}, onClose() {} });
      const buf = all.slice();
      const k = reader.decode(buf, buf.length);
      if (k > 0) got.push(buf.slice(0, k));
      got.push(...reader.queue);
      assertEquals(concat(...got), payload);
      // Frame shapes: first frame binary+RSV1 and not final, then continuations, the last final; each <= 4 KB.
      let p = 0, i = 0;
      while (p < all.length) {
        const b0 = all[p], b1 = all[p + 1];
        let len = b1 & 0x7f, h = 2;
        if (len === 126) {
          len = (all[p + 2] << 8) | all[p + 3];
          h = 4;
        }
        if (b1 & 0x80) h += 4;
        assert(len <= WS_FRAME_SIZE_FOR_BROWSERS);
        assertEquals((b0 & 0x40) !== 0, i === 0, "RSV1 on the first frame only");
        assertEquals(b0 & 0x0f, i === 0 ? WS_BINARY : WS_CONTINUATION);
        p += h + len;
        i++;
        assertEquals((b0 & 0x80) !== 0, p === all.length, "FIN on the last frame only");
      }
      assert(i > 1);
      w.close();
    });
  }
  // Safari ("Version/" and "Safari/"): one compressed frame, however large.
  const inner = new MemTransport();
  const w = new WsTransport(inner, { compress: true, browser: true, noCompFrag: true });
  await w.write(crypto.getRandomValues(new Uint8Array(2 * WS_FRAME_SIZE_FOR_BROWSERS)));
  const frames = parseFrames(inner.all());
  assertEquals(frames.length, 1);
  assert(frames[0].raw.length > WS_FRAME_SIZE_FOR_BROWSERS);
  w.close();
});

// ---- natsdeno framing tests (no Go original) --------------------------------------------------------

Deno.test("WsTransport.read() returns a protocol error once, after sending a 1002 close with its text", async () => {
  const inner = new MemTransport();
  const t = new WsTransport(inner);
  const seen: string[] = [];
  t.onProtocolError = (m) => seen.push(m);
  inner.feed(
    concat(clientMsg(WS_BINARY, 1, true, false, "ok"), clientMsg(WS_BINARY, 1, true, false, "x", false)),
  );
  const buf = new Uint8Array(64);
  assertEquals(await t.read(buf), 2);
  let err: unknown;
  try {
    await t.read(buf);
  } catch (e) {
    err = e;
  }
  assertEquals((err as Error)?.message, "mask bit missing");
  assertEquals(seen, ["mask bit missing"]);
  t.close("Read Error");
  await t.done;
  const frames = parseFrames(inner.all());
  assertEquals(frames.length, 1);
  assertEquals((frames[0].payload[0] << 8) | frames[0].payload[1], WS_CLOSE_PROTOCOL_ERROR);
  assertEquals(decoder.decode(frames[0].payload.subarray(2)), "mask bit missing");
});

Deno.test("WsTransport.read() hands out a decompressed message larger than the read buffer in pieces", async () => {
  const inner = new MemTransport();
  const t = new WsTransport(inner, { compress: true });
  const text = "0123456789".repeat(1000);
  inner.feed(concat(clientMsg(WS_BINARY, 1, true, true, text), clientMsg(WS_BINARY, 1, true, false, "tail")));
  const buf = new Uint8Array(512);
  let got = "";
  while (got.length < text.length + 4) got += decoder.decode(buf.subarray(0, (await t.read(buf))!));
  assertEquals(got, text + "tail");
  t.close();
});

Deno.test("WsTransport.write() completes short writes of the inner transport", async () => {
  const inner = new MemTransport();
  const orig = inner.write.bind(inner);
  inner.write = (p) => orig(p.subarray(0, Math.min(7, p.length)));
  const t = new WsTransport(inner);
  const msg = encoder.encode("x".repeat(300));
  assertEquals(await t.write(msg), 300);
  assertEquals(parseFrames(inner.all())[0].payload, msg);
  t.close();
});

Deno.test("WsTransport.ping() sends a ping frame; close() after a close frame sends no second one", async () => {
  const inner = new MemTransport();
  const t = new WsTransport(inner);
  t.ping();
  t.close("Server Shutdown");
  t.close("Client Closed");
  await t.done;
  const frames = parseFrames(inner.all());
  assertEquals(frames.map((f) => f.op), [WS_PING, WS_CLOSE]);
  assertMatch(decoder.decode(frames[1].payload.subarray(2)), /^Server Shutdown$/);
});

function delay0(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}
