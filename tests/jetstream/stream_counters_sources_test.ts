// Mirror direct gets (mirror_direct) and counters that aggregate other counters through sources
// (allow_msg_counter, Nats-Counter-Sources), end to end with the official clients. Behaviour follows
// nats-server 2.12+ (server/stream.go subscribeToMirrorDirect, jetstream_batching.go
// checkMsgHeadersPreClusteredProposal, ADR-49). First the ported TestJetStreamAllowMsgCounter* tests of
// server/jetstream_test.go in Go's order; then std-style tests from the ADR-31 DG-700 and ADR-49 CTR-600
// conformance cases (nats-server has no single-server mirror_direct test besides the mirror half of
// TestJetStreamDirectGetBySubject), and mirror_direct side by side with nats-server 2.9.10.

import { assert, assertEquals, assertRejects } from "@std/assert";
import { headers, type Msg } from "@nats-io/nats-core";
import { type JetStreamManager, jetstreamManager, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connect } from "@nats-io/transport-node";
import { clientFor, jsApi, runJsServer } from "./_helpers.ts";
import { checkFor } from "../_helpers/server.ts";
import { natsServerPath, runRefServer } from "../_helpers/ref_server.ts";
import type { JetStream } from "../../src/jetstream/mod.ts";
import { type Options, startServer } from "../../src/natsdeno.ts";
import { ApiError } from "../../src/jetstream/api_errors.ts";
import { applyIncr, parseIncr, setHeader } from "../../src/jetstream/_stream_counter.ts";
import { Logger } from "../../src/util/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A PubAck or its error, as JSON. */
interface Ack {
  stream?: string;
  seq?: number;
  val?: string;
  duplicate?: boolean;
  error?: { code: number; "err_code": number; description: string };
}

/** Publishes with headers and returns the PubAck (or error) JSON. */
async function pub(
  nc: NatsConnection,
  subj: string,
  data: string,
  hdrs: Record<string, string> = {},
): Promise<Ack> {
  const h = headers();
  for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
  const m = await nc.request(subj, enc.encode(data), { timeout: 2_000, headers: h });
  return JSON.parse(dec.decode(m.data));
}

/** Increments a counter; returns the PubAck JSON. */
function incr(nc: NatsConnection, subj: string, v: string, extra: Record<string, string> = {}): Promise<Ack> {
  return pub(nc, subj, "", { "Nats-Incr": v, ...extra });
}

/** The last message of a subject in a stream through a raw direct get (headers and body). */
async function lastFor(nc: NatsConnection, stream: string, subj: string): Promise<Msg> {
  const m = await nc.request(`$JS.API.DIRECT.GET.${stream}.${subj}`, new Uint8Array(0), { timeout: 2_000 });
  if (m.headers?.code === 404) throw new Error(`no message on ${subj} in ${stream}`);
  return m;
}

function val(m: Msg): string {
  return JSON.parse(dec.decode(m.data)).val;
}

/** Waits until the last value of `subj` in `stream` is `want`; returns that message. */
async function awaitVal(nc: NatsConnection, stream: string, subj: string, want: string): Promise<Msg> {
  let last: Msg | undefined;
  await checkFor(5_000, 25, async () => {
    last = await lastFor(nc, stream, subj);
    assertEquals(val(last), want);
  });
  return last!;
}

async function addStream(jsm: JetStreamManager, cfg: Record<string, unknown>): Promise<void> {
  await jsm.streams.add({ storage: StorageType.Memory, ...cfg } as never);
}

/**
 * Creates or updates a stream through the raw API: the client refuses subject transforms on a server that
 * reports a version before 2.10.
 */
async function rawStream(
  nc: NatsConnection,
  op: "CREATE" | "UPDATE",
  cfg: Record<string, unknown>,
): Promise<void> {
  const r = await jsApi(nc, `$JS.API.STREAM.${op}.${cfg.name}`, { storage: "memory", ...cfg });
  assert(r.error === undefined, JSON.stringify(r.error));
}

// ---- Ported from server/jetstream_test.go (nats-server 2.12+), in Go's order ---------------------------
// Each Go test runs R1 and R3; the R3 halves need JetStream clustering and stay ignored steps.

/** The R1 half of a Go test: `fn` with a client of a fresh JetStream server (options `opts`). */
function r1(
  t: Deno.TestContext,
  fn: (c: { nc: NatsConnection; jsm: JetStreamManager }) => Promise<void>,
  opts: Partial<Options> = {},
): Promise<boolean> {
  return t.step("R1", async () => {
    await using s = await runJsServer(opts);
    await using nc = await clientFor(s);
    const jsm = await jetstreamManager(nc);
    await fn({ nc, jsm });
  });
}

/** The ignored R3 half of a Go test. */
function r3(t: Deno.TestContext): Promise<boolean> {
  // blocked: R3 needs a JetStream cluster (Go's createJetStreamClusterExplicit); natsdeno's JetStream runs
  // on one server.
  return t.step({ name: "R3", ignore: true, fn: () => {} });
}

/** The PubAck of an increment, checked against the expected sequence and total, then the stored total. */
async function increment(nc: NatsConnection, jsm: JetStreamManager, v: string, seq: number, total: string) {
  const a = await incr(nc, "foo", v);
  assertEquals([a.seq, a.val], [seq, total], JSON.stringify(a));
  const m = await jsm.streams.getMessage("TEST", { "last_by_subj": "foo" });
  assert(m !== null);
  assertEquals([m.seq, m.json<{ val: string }>().val], [seq, total]);
}

Deno.test("TestJetStreamAllowMsgCounter: increments, decrements, dedupe, refused headers and a broken counter", async (t) => {
  await t.step("R1", async () => {
    await using s = await runJsServer();
    await using nc = await clientFor(s);
    const jsm = await jetstreamManager(nc);
    const cfg = { name: "TEST", subjects: ["foo"], storage: "file", "allow_msg_counter": false };
    await rawStream(nc, "CREATE", cfg);
    // A normal publish succeeds on a stream that does not count.
    assertEquals((await pub(nc, "foo", "", { Key: "Value" })).seq, 1);
    assertEquals((await incr(nc, "foo", "1")).error?.description, "message counters is disabled");
    // Counting cannot be turned on by an update.
    const u = await jsApi(nc, "$JS.API.STREAM.UPDATE.TEST", { ...cfg, "allow_msg_counter": true });
    assertEquals(u.error?.description, "stream configuration update can not change message counter setting");
    await jsm.streams.delete("TEST");
    await rawStream(nc, "CREATE", { ...cfg, "allow_msg_counter": true });
    const missing = "message counter increment is missing";
    assertEquals((await pub(nc, "foo", "")).error?.description, missing);
    assertEquals((await pub(nc, "foo", "", { Key: "Value" })).error?.description, missing);
    assertEquals(
      (await pub(nc, "foo", "data", { Key: "Value", "Nats-Incr": "1" })).error?.description,
      "message counter has payload",
    );
    assertEquals((await incr(nc, "foo", "bogus")).error?.description, "message counter increment is invalid");
    await increment(nc, jsm, "1", 1, "1");
    await increment(nc, jsm, "2", 2, "3");
    await increment(nc, jsm, "-3", 3, "0");
    await increment(nc, jsm, "1", 4, "1");
    await increment(nc, jsm, "-1", 5, "0");
    // De-duplication: the repeat is acknowledged as a duplicate, without a value, and counts nothing.
    const a1 = await incr(nc, "foo", "1", { "Nats-Msg-Id": "dedupe" });
    assertEquals([a1.duplicate, a1.seq, a1.val], [undefined, 6, "1"]);
    const a2 = await incr(nc, "foo", "1", { "Nats-Msg-Id": "dedupe" });
    assertEquals([a2.duplicate, a2.seq, a2.val], [true, 6, undefined]);
    const last = await jsm.streams.getMessage("TEST", { "last_by_subj": "foo" });
    assertEquals([last?.seq, last?.json<{ val: string }>().val], [6, "1"]);
    for (
      const h of [
        "Nats-Rollup",
        "Nats-Expected-Last-Sequence",
        "Nats-Expected-Last-Subject-Sequence",
        "Nats-Expected-Last-Subject-Sequence-Subject",
        "Nats-Expected-Last-Msg-Id",
      ]
    ) {
      assertEquals(
        (await incr(nc, "foo", "1", { [h]: "1" })).error?.description,
        "message counter increment is invalid",
        h,
      );
    }
    // Break the counter in the store: a message that is not a counter value.
    const js = s.jetStream!.impl as JetStream;
    const st = js.lookupAccount("$G")!.streams.get("TEST")!;
    assertEquals(st.store.storeMsg("foo", undefined, new Uint8Array(0)).seq, 7);
    assertEquals((await incr(nc, "foo", "1")).error, {
      code: 400,
      "err_code": 10172,
      description: "message counter is broken",
    });
  });
  await r3(t);
});

Deno.test("TestJetStreamAllowMsgCounterMaxPayloadAndSize: the new total must fit max_payload and max_msg_size", async (t) => {
  await r1(t, async ({ nc, jsm }) => {
    const cfg: Record<string, unknown> = {
      name: "TEST",
      subjects: ["foo"],
      storage: "file",
      "allow_msg_counter": true,
    };
    await rawStream(nc, "CREATE", cfg);
    const tooBig = "message size exceeds maximum allowed";
    await increment(nc, jsm, "1", 1, "1");
    const huge = "1".repeat(500);
    assertEquals((await incr(nc, "foo", huge)).error?.description, tooBig);
    await increment(nc, jsm, "-2", 2, "-1");
    assertEquals((await incr(nc, "foo", `-${huge}`)).error?.description, tooBig);
    await increment(nc, jsm, "1", 3, "0");
    // Exactly the size of the next message: headers 26 bytes, {"val":"1"} 11.
    await rawStream(nc, "UPDATE", { ...cfg, "max_msg_size": 37 });
    await increment(nc, jsm, "1", 4, "1");
    assertEquals((await incr(nc, "foo", "10")).error?.description, tooBig);
  }, { maxPayload: 1024 });
  await r3(t);
});

/** Stream settings a counter stream cannot have, and the error text each gets (10052). */
const COUNTER_REFUSALS: [Record<string, unknown>, string][] = [
  [{ discard: "new" }, "counter stream cannot use discard new"],
  [{ "allow_msg_ttl": true }, "counter stream cannot use message TTLs"],
  [{ "allow_msg_schedules": true }, "counter stream cannot use message schedules"],
  [{ retention: "interest" }, "counter stream can only use limits retention"],
  [{ retention: "workqueue" }, "counter stream can only use limits retention"],
];

Deno.test("TestJetStreamAllowMsgCounterIncompatibleSettings: discard new, TTLs, schedules and non-limits retention are refused", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const base = { name: "TEST", subjects: ["foo"], storage: "file", "allow_msg_counter": true };
  for (const [extra, text] of COUNTER_REFUSALS) {
    const r = await jsApi(nc, "$JS.API.STREAM.CREATE.TEST", { ...base, ...extra });
    assertEquals(r.error, { code: 500, "err_code": 10052, description: text });
  }
});

Deno.test("TestJetStreamAllowMsgCounterMirror: a mirror cannot count but copies counter messages as they are", async (t) => {
  await r1(t, async ({ nc, jsm }) => {
    await rawStream(nc, "CREATE", {
      name: "O",
      subjects: ["foo"],
      storage: "file",
      "allow_msg_counter": true,
    });
    const mirror = { name: "M", mirror: { name: "O" }, storage: "file", "allow_msg_counter": true };
    const r = await jsApi(nc, "$JS.API.STREAM.CREATE.M", mirror);
    assertEquals(r.error, {
      code: 400,
      "err_code": 10173,
      description: "stream mirrors can not also calculate counters",
    });
    await rawStream(nc, "CREATE", { ...mirror, "allow_msg_counter": false });
    assertEquals((await incr(nc, "foo", "1")).seq, 1);
    await checkFor(2_000, 50, async () => {
      const m = await jsm.streams.getMessage("M", { seq: 1 });
      assert(m !== null);
      assertEquals(m.header.get("Nats-Incr"), "1");
      assertEquals(m.json<{ val: string }>().val, "1");
    });
  });
  await r3(t);
});

/** O1 (foo.1) and O2 (foo.2), counting; M sources both, each through the transform foo.* -> foo. */
async function twoSourcedCounters(nc: NatsConnection, mCounts: boolean, extra: Record<string, unknown> = {}) {
  await rawStream(nc, "CREATE", {
    name: "O1",
    subjects: ["foo.1"],
    storage: "file",
    "allow_msg_counter": true,
    ...extra,
  });
  await rawStream(nc, "CREATE", {
    name: "O2",
    subjects: ["foo.2"],
    storage: "file",
    "allow_msg_counter": true,
    ...extra,
  });
  return {
    name: "M",
    sources: [
      { name: "O1", "subject_transforms": [{ src: "foo.*", dest: "foo" }] },
      { name: "O2", "subject_transforms": [{ src: "foo.*", dest: "foo" }] },
    ],
    storage: "file",
    "allow_msg_counter": mCounts,
  };
}

Deno.test("TestJetStreamAllowMsgCounterSourceAggregates: a counting stream adds up its counting sources", async (t) => {
  await r1(t, async ({ nc, jsm }) => {
    await rawStream(nc, "CREATE", await twoSourcedCounters(nc, true));
    assertEquals((await incr(nc, "foo.1", "1")).seq, 1);
    assertEquals((await incr(nc, "foo.2", "2")).seq, 1);
    await checkFor(2_000, 50, async () => {
      const m = await jsm.streams.getMessage("M", { seq: 2 });
      assert(m !== null);
      assertEquals(m.json<{ val: string }>().val, "3");
    });
  });
  await r3(t);
});

Deno.test("TestJetStreamAllowMsgCounterSourceVerbatim: a stream that does not count stores its sources' counters as they are", async (t) => {
  await r1(t, async ({ nc, jsm }) => {
    await rawStream(nc, "CREATE", await twoSourcedCounters(nc, false));
    const valAt = (seq: number, want: string) =>
      checkFor(2_000, 50, async () => {
        const m = await jsm.streams.getMessage("M", { seq });
        assert(m !== null);
        assertEquals(m.json<{ val: string }>().val, want);
      });
    assertEquals((await incr(nc, "foo.1", "1")).seq, 1);
    await valAt(1, "1");
    assertEquals((await incr(nc, "foo.2", "2")).seq, 1);
    await valAt(2, "2");
  });
  await r3(t);
});

Deno.test("TestJetStreamAllowMsgCounterSourceStartingAboveZero: sources added later bring their totals in as changes", async (t) => {
  await r1(t, async ({ nc, jsm }) => {
    const m = await twoSourcedCounters(nc, true, { "max_msgs_per_subject": 1 });
    for (let i = 1; i <= 5; i++) {
      assertEquals((await incr(nc, "foo.1", "1")).seq, i);
      assertEquals((await incr(nc, "foo.2", "2")).seq, i);
    }
    await rawStream(nc, "CREATE", {
      name: "M",
      subjects: ["foo"],
      storage: "file",
      "allow_msg_counter": true,
    });
    assertEquals((await incr(nc, "foo", "1")).seq, 1);
    await rawStream(nc, "UPDATE", { ...m, subjects: ["foo"] });
    const get = async (seq: number) => {
      const r = await jsm.streams.getMessage("M", { seq });
      assert(r !== null);
      return r;
    };
    await checkFor(2_000, 50, async () => {
      await get(2);
      await get(3);
    });
    assertEquals((await incr(nc, "foo", "1")).seq, 4);
    const fourth = await get(4);
    assertEquals(fourth.json<{ val: string }>().val, "17");
    const sources = JSON.parse(fourth.header.get("Nats-Counter-Sources"));
    assertEquals(sources, { O1: { "foo.1": "5" }, O2: { "foo.2": "10" } });
    const msgs = [await get(1), await get(2), await get(3), fourth];
    for (const r of msgs) assertEquals(r.subject, "foo");
    assertEquals(msgs[0].header.get("Nats-Incr"), "1");
    // The sources are taken in either order.
    assertEquals([msgs[1].header.get("Nats-Incr"), msgs[2].header.get("Nats-Incr")].sort(), ["10", "5"]);
    assertEquals(msgs[3].header.get("Nats-Incr"), "1");
  });
  await r3(t);
});

// ---- mirror_direct ------------------------------------------------------------------------------------

Deno.test("mirror_direct: the mirror answers last-by-subject gets for its origin (the mirror half of TestJetStreamDirectGetBySubject)", async () => {
  // The mirror half of the Go test (its permission half is in stream_limits_test.ts): requests on the
  // origin's subject are shared by the origin and the mirror, and the mirror names itself in Nats-Stream.
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await addStream(jsm, { name: "KV", subjects: ["vid.*.>"], max_msgs_per_subject: 1, allow_direct: true });
  await addStream(jsm, { name: "M", mirror: { name: "KV" }, mirror_direct: true });
  await pub(nc, "vid.22.speed", "100");
  await pub(nc, "vid.33.speed", "55");
  await checkFor(2_000, 20, async () => assertEquals((await jsm.streams.info("M")).state.messages, 2));
  const seen = new Set<string>();
  for (let i = 0; i < 100 && seen.size < 2; i++) {
    const m = await lastFor(nc, "KV", "vid.22.speed");
    assertEquals(dec.decode(m.data), "100");
    seen.add(m.headers!.get("Nats-Stream"));
  }
  assertEquals([...seen].sort(), ["KV", "M"]);
});

Deno.test("mirror_direct: the mirror serves the origin's JSON direct gets and keeps serving once the origin is gone", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await addStream(jsm, { name: "SRC", subjects: ["k.>"], allow_direct: true });
  await addStream(jsm, { name: "MIR", mirror: { name: "SRC" } });
  for (let i = 1; i <= 5; i++) await pub(nc, "k.1", String(i));
  await checkFor(2_000, 20, async () => assertEquals((await jsm.streams.info("MIR")).state.messages, 5));
  // The JSON form through the client: either responder gives the same answer.
  for (let i = 0; i < 10; i++) {
    const m = await jsm.direct.getMessage("SRC", { "last_by_subj": "k.1" });
    assert(m !== null);
    assertEquals(m.string(), "5");
    assertEquals(m.seq, 5);
  }
  // DG-702: with the origin deleted, the mirror still answers for its name.
  await jsm.streams.delete("SRC");
  const m = await nc.request("$JS.API.DIRECT.GET.SRC", enc.encode(JSON.stringify({ seq: 2 })), {
    timeout: 1_000,
  });
  assertEquals(dec.decode(m.data), "2");
  assertEquals(m.headers?.get("Nats-Stream"), "MIR");
  assertEquals(m.headers?.get("Nats-Sequence"), "2");
});

/** SRC on k.> with one message (k.1 = v1), and MIR, its mirror, caught up. */
async function mirroredSrc(nc: NatsConnection, jsm: JetStreamManager): Promise<void> {
  await addStream(jsm, { name: "SRC", subjects: ["k.>"] });
  await addStream(jsm, { name: "MIR", mirror: { name: "SRC" } });
  await pub(nc, "k.1", "v1");
  await checkFor(2_000, 20, async () => assertEquals((await jsm.streams.info("MIR")).state.messages, 1));
}

Deno.test("mirror_direct: a mirror of an origin without allow_direct does not answer for it", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await mirroredSrc(nc, jsm);
  assertEquals((await jsm.streams.info("MIR")).config.mirror_direct, false);
  await assertRejects(() => nc.request("$JS.API.DIRECT.GET.SRC.k.1", new Uint8Array(0), { timeout: 300 }));
});

Deno.test("mirror_direct: follows the origin's allow_direct at create and at each mirror update, not in between", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await addStream(jsm, { name: "ON", subjects: ["on.>"], allow_direct: true });
  await addStream(jsm, { name: "OFF", subjects: ["off.>"] });
  // DG-704: inherited when not given; DG-705: explicit true against a direct origin is kept.
  await addStream(jsm, { name: "M_ON", mirror: { name: "ON" } });
  await addStream(jsm, { name: "M_OFF", mirror: { name: "OFF" }, mirror_direct: true });
  await addStream(jsm, { name: "M_ON2", mirror: { name: "ON" }, mirror_direct: true });
  assertEquals((await jsm.streams.info("M_ON")).config.mirror_direct, true);
  assertEquals((await jsm.streams.info("M_OFF")).config.mirror_direct, false);
  assertEquals((await jsm.streams.info("M_ON2")).config.mirror_direct, true);
  // Pedantic: a mismatch with the origin is an error instead.
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.M_P", {
    name: "M_P",
    storage: "memory",
    mirror: { name: "OFF" },
    "mirror_direct": true,
    pedantic: true,
  });
  assertEquals(
    r.error?.description,
    "pedantic mode: origin stream has direct get set, mirror has it disabled",
  );

  // DG-706: turning the origin's allow_direct off leaves the mirror as it was until the mirror is updated.
  await pub(nc, "on.k", "x");
  await checkFor(2_000, 20, async () => assertEquals((await jsm.streams.info("M_ON")).state.messages, 1));
  await jsm.streams.update("ON", { subjects: ["on.>"], allow_direct: false } as never);
  assertEquals((await jsm.streams.info("M_ON")).config.mirror_direct, true);
  // The origin left the responder group; both mirrors answer for it.
  for (let i = 0; i < 10; i++) {
    const m = await lastFor(nc, "ON", "on.k");
    assert(["M_ON", "M_ON2"].includes(m.headers!.get("Nats-Stream")), m.headers!.get("Nats-Stream"));
  }
  await jsm.streams.update("M_ON", { mirror: { name: "ON" } } as never);
  await jsm.streams.update("M_ON2", { mirror: { name: "ON" } } as never);
  assertEquals((await jsm.streams.info("M_ON")).config.mirror_direct, false);
  // Nobody answers for ON now.
  await assertRejects(() => nc.request("$JS.API.DIRECT.GET.ON.on.k", new Uint8Array(0), { timeout: 300 }));
});

Deno.test("mirror_direct: turned on by an update the mirror answers at once, and it outlives restarts of its link", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await mirroredSrc(nc, jsm);
  await jsm.streams.update("SRC", { subjects: ["k.>"], allow_direct: true } as never);
  // The origin answers alone until the mirror's update takes the origin's allow_direct over.
  assertEquals((await lastFor(nc, "SRC", "k.1")).headers?.get("Nats-Stream"), "SRC");
  await jsm.streams.update("MIR", { mirror: { name: "SRC" } } as never);
  assertEquals((await jsm.streams.info("MIR")).config.mirror_direct, true);
  // No new message needed: the next gets are shared with the mirror.
  const who = new Set<string>();
  for (let i = 0; i < 100 && who.size < 2; i++) {
    who.add((await lastFor(nc, "SRC", "k.1")).headers!.get("Nats-Stream"));
  }
  assertEquals([...who].sort(), ["MIR", "SRC"]);
  // With the origin gone the mirror's link goes stale and is recreated (after 3 s without traffic); the
  // mirror keeps answering for the origin meanwhile.
  await jsm.streams.delete("SRC");
  await new Promise((r) => setTimeout(r, 3_500));
  const m = await lastFor(nc, "SRC", "k.1");
  assertEquals([m.headers?.get("Nats-Stream"), dec.decode(m.data)], ["MIR", "v1"]);
});

Deno.test("mirror_direct: refused on a stream that is not a mirror", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.T", { name: "T", subjects: ["t"], "mirror_direct": true });
  assertEquals(r.error, {
    code: 500,
    "err_code": 10052,
    description: "stream has no mirror but does have mirror direct",
  });
});

/** The mirror_direct observations compared with nats-server (2.9.10 has mirror_direct, not counters). */
async function mirrorDirectScene(port: number): Promise<Record<string, unknown>> {
  const nc = await connect({ servers: `127.0.0.1:${port}` });
  const out: Record<string, unknown> = {};
  try {
    const mk = (cfg: Record<string, unknown>) =>
      jsApi(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, { storage: "memory", ...cfg });
    out["no mirror"] = (await mk({ name: "X", subjects: ["x"], "mirror_direct": true })).error;
    await mk({ name: "KV", subjects: ["kv.>"], "allow_direct": true });
    await mk({ name: "OFF", subjects: ["off.>"] });
    out["inherited"] = (await mk({ name: "M", mirror: { name: "KV" } })).config?.mirror_direct;
    out["explicit, origin off"] = (await mk({ name: "M2", mirror: { name: "OFF" }, "mirror_direct": true }))
      .config?.mirror_direct;
    const h = headers();
    h.set("Custom", "1");
    await nc.request("kv.a", enc.encode("v1"), { headers: h, timeout: 2_000 });
    await nc.request("kv.a", enc.encode("v2"), { timeout: 2_000 });
    await checkFor(3_000, 20, async () => {
      assertEquals((await jsApi(nc, "$JS.API.STREAM.INFO.M")).state.messages, 2);
    });
    // Whoever answers, the reply differs only in Nats-Stream; one of each is kept.
    const seen: Record<string, string> = {};
    for (let i = 0; i < 200 && Object.keys(seen).length < 2; i++) {
      const m = await nc.request("$JS.API.DIRECT.GET.KV", enc.encode(JSON.stringify({ seq: 1 })), {
        timeout: 1_000,
      });
      const stream = m.headers!.get("Nats-Stream");
      seen[stream] = `${m.headers!.toString().replace(/Nats-Time-Stamp: [^\r]*/, "Nats-Time-Stamp: <ts>")}|${
        dec.decode(m.data)
      }`;
    }
    out["answers"] = seen;
    // The origin's allow_direct turned off: it leaves the group, the mirror answers every request.
    const upd = await jsApi(nc, "$JS.API.STREAM.UPDATE.KV", {
      name: "KV",
      subjects: ["kv.>"],
      storage: "memory",
    });
    out["origin off"] = upd.config?.allow_direct;
    const who = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const m = await nc.request("$JS.API.DIRECT.GET.KV.kv.a", new Uint8Array(0), { timeout: 1_000 });
      who.add(m.headers!.get("Nats-Stream"));
    }
    out["answered by"] = [...who];
    // The origin gone, the mirror answers alone.
    await jsApi(nc, "$JS.API.STREAM.DELETE.KV");
    const last = await nc.request("$JS.API.DIRECT.GET.KV.kv.a", new Uint8Array(0), { timeout: 1_000 });
    out["origin deleted"] = [
      last.headers?.get("Nats-Stream"),
      last.headers?.get("Nats-Sequence"),
      dec.decode(last.data),
    ];
  } finally {
    await nc.close();
  }
  return out;
}

Deno.test("mirror_direct side by side with nats-server: config, refusal and the answers from origin and mirror", async () => {
  const exe = natsServerPath();
  if (exe === undefined) {
    // deno-lint-ignore no-console
    console.warn("nats-server not on PATH: mirror_direct side-by-side test skipped");
    return;
  }
  await using s = await runJsServer();
  const ours = await mirrorDirectScene(s.port);
  const rdir = await Deno.makeTempDir({ prefix: "natsdeno-md-ref-" });
  try {
    await using r = await runRefServer(exe, `jetstream { store_dir: "${rdir}" }`);
    const ref = await mirrorDirectScene(r.port);
    assertEquals(ours, ref);
    assertEquals(Object.keys(ref.answers as object).sort(), ["KV", "M"]);
    assertEquals(ref["answered by"], ["M"]);
  } finally {
    await Deno.remove(rdir, { recursive: true }).catch(() => {});
  }
});

// ---- Counter validation -------------------------------------------------------------------------------

Deno.test("Counters: stream configs a counter cannot use are refused with the reference's texts", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  for (const [extra, text] of COUNTER_REFUSALS) {
    const r = await jsApi(nc, "$JS.API.STREAM.CREATE.C", {
      name: "C",
      subjects: ["c.>"],
      "allow_msg_counter": true,
      ...extra,
    });
    assertEquals(r.error?.err_code, 10052, JSON.stringify(extra));
    assertEquals(r.error?.description, text);
  }
  const m = await jsApi(nc, "$JS.API.STREAM.CREATE.M", {
    name: "M",
    mirror: { name: "X" },
    "allow_msg_counter": true,
  });
  assertEquals(m.error?.description, "stream mirrors can not also calculate counters");
});

Deno.test("Counters: an update can neither turn counting on nor off", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const text = "stream configuration update can not change message counter setting";
  for (const [name, on] of [["C", true], ["P", false]] as const) {
    const base = { name, subjects: [`${name}.>`], storage: "memory" };
    const c = await jsApi(nc, `$JS.API.STREAM.CREATE.${name}`, { ...base, "allow_msg_counter": on });
    assert(c.error === undefined, JSON.stringify(c.error));
    const u = await jsApi(nc, `$JS.API.STREAM.UPDATE.${name}`, { ...base, "allow_msg_counter": !on });
    assertEquals(u.error, { code: 500, "err_code": 10052, description: text });
    // The same setting again is fine.
    const same = await jsApi(nc, `$JS.API.STREAM.UPDATE.${name}`, { ...base, "allow_msg_counter": on });
    assertEquals(same.error, undefined);
  }
});

Deno.test("Counters: Nats-Incr values and the headers that may not go with them", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await addStream(jsm, { name: "C", subjects: ["c.>"], allow_msg_counter: true, allow_rollup_hdrs: true });
  await addStream(jsm, { name: "P", subjects: ["p.>"] });
  assertEquals((await incr(nc, "c.a", "+5")).val, "5");
  assertEquals((await incr(nc, "c.a", "-7")).val, "-2");
  assertEquals((await incr(nc, "c.a", "0")).val, "-2");
  assertEquals((await incr(nc, "c.a", "12")).val, "10");
  // Beyond 2^53: the total is exact.
  assertEquals((await incr(nc, "c.big", "9007199254740993")).val, "9007199254740993");
  assertEquals((await incr(nc, "c.big", "+9007199254740993")).val, "18014398509481986");
  const invalid = "message counter increment is invalid";
  for (const bad of ["x", "1.5", "++1", "1e3", " -", "0x10"]) {
    const r = await incr(nc, "c.a", bad);
    assertEquals(r.error?.description, invalid, bad);
    assertEquals(r.error?.err_code, 10171);
  }
  // An increment with a rollup or an expectation is refused as invalid, before those headers are looked at.
  for (
    const h of [
      { "Nats-Rollup": "sub" } as Record<string, string>,
      { "Nats-Expected-Stream": "C" },
      { "Nats-Expected-Last-Sequence": "4" },
      { "Nats-Expected-Last-Subject-Sequence": "4" },
      { "Nats-Expected-Last-Subject-Sequence-Subject": "c.a" },
      { "Nats-Expected-Last-Msg-Id": "id" },
    ]
  ) {
    const r = await incr(nc, "c.a", "1", h);
    assertEquals(r.error?.description, invalid, JSON.stringify(h));
  }
  // Invalid is reported before disabled, disabled before a payload.
  assertEquals((await incr(nc, "p.a", "x")).error?.description, invalid);
  const dis = await pub(nc, "p.a", "body", { "Nats-Incr": "1" });
  assertEquals(dis.error, { code: 400, "err_code": 10168, description: "message counters is disabled" });
  assertEquals(
    (await pub(nc, "c.a", "body", { "Nats-Incr": "1" })).error?.description,
    "message counter has payload",
  );
  // An empty Nats-Incr counts as none.
  const miss = await pub(nc, "c.a", "", { "Nats-Incr": "" });
  assertEquals(miss.error, {
    code: 400,
    "err_code": 10169,
    description: "message counter increment is missing",
  });
  assertEquals((await pub(nc, "p.a", "plain", { "Nats-Incr": "" })).seq, 1);
  // A Nats-Msg-Id is fine, and dedupes.
  const a = await incr(nc, "c.id", "1", { "Nats-Msg-Id": "one" });
  const b = await incr(nc, "c.id", "1", { "Nats-Msg-Id": "one" });
  assertEquals([a.val, b.duplicate, b.seq], ["1", true, a.seq]);
  // Nothing refused was stored: 4 + 2 + 1 increments.
  assertEquals((await jsm.streams.info("C")).state.messages, 7);
});

Deno.test("Counters: the new total with its headers must fit max_msg_size", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  // "NATS/1.0\r\nNats-Incr: 1\r\n\r\n" is 26 bytes, {"val":"1"} 11.
  await addStream(jsm, {
    name: "C",
    subjects: ["c"],
    allow_msg_counter: true,
    allow_direct: true,
    max_msg_size: 40,
  });
  assertEquals((await incr(nc, "c", "1")).val, "1");
  assertEquals((await incr(nc, "c", "99")).val, "100");
  const r = await incr(nc, "c", "99999");
  assertEquals(r.error, {
    code: 400,
    "err_code": 10054,
    description: "message size exceeds maximum allowed",
  });
  assertEquals(val(await lastFor(nc, "C", "c")), "100");
});

// ---- Sourced counters ---------------------------------------------------------------------------------

Deno.test("Sourced counters: the aggregate adds each source's change and records its last value (CTR-601)", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await addStream(jsm, { name: "SRC", subjects: ["src.>"], allow_msg_counter: true, allow_direct: true });
  await addStream(jsm, {
    name: "AGG",
    allow_msg_counter: true,
    allow_direct: true,
    sources: [{ name: "SRC" }],
  });
  await incr(nc, "src.hits", "+3");
  await awaitVal(nc, "AGG", "src.hits", "3");
  await incr(nc, "src.hits", "+4");
  const m = await awaitVal(nc, "AGG", "src.hits", "7");
  assertEquals(m.headers?.get("Nats-Counter-Sources"), `{"SRC":{"src.hits":"7"}}`);
  // Nats-Incr holds the change from the last value seen from this source, not the origin's increment.
  assertEquals(m.headers?.get("Nats-Incr"), "4");
  assert(m.headers?.get("Nats-Stream-Source").startsWith("SRC 2 "));
  // The origin's own messages carry no sources header.
  assertEquals((await lastFor(nc, "SRC", "src.hits")).headers?.get("Nats-Counter-Sources"), "");
});

Deno.test("Sourced counters: a source added with a value already counted brings it in as one change (CTR-603)", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await addStream(jsm, { name: "SRC", subjects: ["src.>"], allow_msg_counter: true });
  await incr(nc, "src.hits", "+6");
  await incr(nc, "src.hits", "+4");
  await addStream(jsm, { name: "AGG", subjects: ["agg.>"], allow_msg_counter: true, allow_direct: true });
  await incr(nc, "agg.local", "+1");
  await jsm.streams.update("AGG", {
    subjects: ["agg.>"],
    allow_msg_counter: true,
    allow_direct: true,
    sources: [{ name: "SRC", opt_start_seq: 2 }],
  } as never);
  const m = await awaitVal(nc, "AGG", "src.hits", "10");
  assertEquals(m.headers?.get("Nats-Incr"), "10");
  assertEquals((await jsm.streams.info("AGG")).state.messages, 2);
});

Deno.test("Sourced counters: several sources through subject transforms, in two tiers", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await addStream(jsm, { name: "ES", subjects: ["count.es.>"], allow_msg_counter: true });
  await addStream(jsm, { name: "DE", subjects: ["count.de.>"], allow_msg_counter: true });
  await rawStream(nc, "CREATE", {
    name: "EU",
    allow_msg_counter: true,
    allow_direct: true,
    sources: [
      { name: "ES", subject_transforms: [{ src: "count.es.hits", dest: "count.eu.hits" }] },
      { name: "DE", subject_transforms: [{ src: "count.de.hits", dest: "count.eu.hits" }] },
    ],
  });
  await rawStream(nc, "CREATE", {
    name: "GLOBAL",
    allow_msg_counter: true,
    allow_direct: true,
    sources: [{ name: "EU", subject_transforms: [{ src: "count.eu.hits", dest: "count.hits" }] }],
  });
  await incr(nc, "count.es.hits", "3");
  await incr(nc, "count.de.hits", "2");
  await awaitVal(nc, "EU", "count.eu.hits", "5");
  await incr(nc, "count.de.hits", "-1");
  const eu = await awaitVal(nc, "EU", "count.eu.hits", "4");
  // Keyed by origin stream and its own subject, sorted as Go marshals a map.
  assertEquals(
    eu.headers?.get("Nats-Counter-Sources"),
    `{"DE":{"count.de.hits":"1"},"ES":{"count.es.hits":"3"}}`,
  );
  const g = await awaitVal(nc, "GLOBAL", "count.hits", "4");
  assertEquals(g.headers?.get("Nats-Counter-Sources"), `{"EU":{"count.eu.hits":"4"}}`);
  // Every change reached the top, one message each.
  assertEquals((await jsm.streams.info("GLOBAL")).state.messages, 3);
});

Deno.test("Sourced counters: local increments keep the sources record, and source values redelivered add up", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await addStream(jsm, { name: "SRC", subjects: ["hits"], allow_msg_counter: true });
  await rawStream(nc, "CREATE", {
    name: "AGG",
    subjects: ["hits.local"],
    allow_msg_counter: true,
    allow_direct: true,
    sources: [{ name: "SRC", filter_subject: "hits" }],
    subject_transform: { src: "hits.local", dest: "hits" },
  });
  await incr(nc, "hits", "+3");
  await incr(nc, "hits", "+4");
  await awaitVal(nc, "AGG", "hits", "7");
  // A local increment (the stream's transform puts it on the same counter) adds to the total and carries
  // the sources record forward.
  const ack = await incr(nc, "hits.local", "+10");
  assertEquals(ack.val, "17");
  const local = await lastFor(nc, "AGG", "hits");
  assertEquals(local.headers?.get("Nats-Incr"), "+10");
  assertEquals(local.headers?.get("Nats-Counter-Sources"), `{"SRC":{"hits":"7"}}`);
  // The same source under another filter is a new source link: it starts over from the origin's first
  // message and redelivers 3 and 7. Each is taken relative to the last value recorded for SRC/hits, so the
  // total dips and comes back instead of counting the origin twice.
  await rawStream(nc, "UPDATE", {
    name: "AGG",
    subjects: ["hits.local"],
    allow_msg_counter: true,
    allow_direct: true,
    sources: [{ name: "SRC", filter_subject: ">" }],
    subject_transform: { src: "hits.local", dest: "hits" },
  });
  await checkFor(5_000, 25, async () => assertEquals((await jsm.streams.info("AGG")).state.messages, 5));
  const last = await awaitVal(nc, "AGG", "hits", "17");
  assertEquals(last.headers?.get("Nats-Incr"), "4");
  const dip = await jsm.streams.getMessage("AGG", { seq: 4 });
  assert(dip !== null);
  assertEquals([dip.json<{ val: string }>().val, dip.header.get("Nats-Incr")], ["13", "-4"]);
  await incr(nc, "hits", "+1");
  await awaitVal(nc, "AGG", "hits", "18");
});

Deno.test("Sourced counters: a stream that does not count stores sourced increments as they are", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await addStream(jsm, { name: "SRC", subjects: ["src.>"], allow_msg_counter: true });
  await addStream(jsm, { name: "COPY", allow_direct: true, sources: [{ name: "SRC" }] });
  await incr(nc, "src.a", "+2");
  await incr(nc, "src.a", "+5");
  const m = await awaitVal(nc, "COPY", "src.a", "7");
  assertEquals(m.headers?.get("Nats-Incr"), "+5");
  assertEquals(m.headers?.get("Nats-Counter-Sources"), "");
  assertEquals((await jsm.streams.info("COPY")).state.messages, 2);
});

Deno.test("Sourced counters: a counter refuses sourced messages without Nats-Incr, retrying at the retry interval", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await addStream(jsm, { name: "PLAIN", subjects: ["plain.>"] });
  await pub(nc, "plain.a", "not a counter");
  // Consumer create requests the link sends to the origin.
  let creates = 0;
  const sub = nc.subscribe("$JS.API.CONSUMER.CREATE.PLAIN.>", { callback: () => void creates++ });
  const sub2 = nc.subscribe("$JS.API.CONSUMER.CREATE.PLAIN", { callback: () => void creates++ });
  await nc.flush();
  await addStream(jsm, { name: "AGG", allow_msg_counter: true, sources: [{ name: "PLAIN" }] });
  await new Promise((r) => setTimeout(r, 1_600));
  sub.unsubscribe();
  sub2.unsubscribe();
  assertEquals((await jsm.streams.info("AGG")).state.messages, 0);
  // The first request and at most two retries, not a request per refusal.
  assert(creates >= 1 && creates <= 3, `${creates} consumer creates`);
});

Deno.test("Sources and mirrors drop Nats-Expected-* headers: the copy is not checked against the copying stream", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await addStream(jsm, { name: "O", subjects: ["o.>"] });
  await addStream(jsm, { name: "S", subjects: ["s"], sources: [{ name: "O" }] });
  await addStream(jsm, { name: "M", mirror: { name: "O" } });
  // S's own message moves its last sequence past what the origin's publishers expected.
  await pub(nc, "s", "local");
  assertEquals((await pub(nc, "o.a", "1", { "Nats-Expected-Last-Sequence": "0", Keep: "me" })).seq, 1);
  assertEquals((await pub(nc, "o.a", "2", { "Nats-Expected-Last-Subject-Sequence": "1" })).seq, 2);
  await checkFor(3_000, 25, async () => {
    assertEquals((await jsm.streams.info("S")).state.messages, 3);
    assertEquals((await jsm.streams.info("M")).state.messages, 2);
  });
  for (const [stream, seq] of [["S", 2], ["M", 1]] as const) {
    const m = await jsm.streams.getMessage(stream, { seq });
    assert(m !== null);
    assertEquals(m.header.get("Nats-Expected-Last-Sequence"), "", stream);
    assertEquals(m.header.get("Keep"), "me", stream);
  }
});

Deno.test("Sourced counters: after a restart on the file store the aggregate resumes without counting twice", async () => {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-ctr-" });
  const start = () =>
    startServer({ host: "127.0.0.1", port: 0, jetStream: true, storeDir }, {
      log: new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: false }, true),
    });
  try {
    {
      await using s = await start();
      await using nc = await clientFor(s);
      await rawStream(nc, "CREATE", {
        name: "SRC",
        subjects: ["hits"],
        storage: "file",
        "allow_msg_counter": true,
      });
      await rawStream(nc, "CREATE", {
        name: "AGG",
        storage: "file",
        "allow_msg_counter": true,
        "allow_direct": true,
        sources: [{ name: "SRC" }],
      });
      await incr(nc, "hits", "+3");
      await incr(nc, "hits", "+4");
      await awaitVal(nc, "AGG", "hits", "7");
    }
    await using s = await start();
    await using nc = await clientFor(s);
    const jsm = await jetstreamManager(nc);
    assertEquals(val(await lastFor(nc, "AGG", "hits")), "7");
    await incr(nc, "hits", "+5");
    const m = await awaitVal(nc, "AGG", "hits", "12");
    assertEquals(m.headers?.get("Nats-Counter-Sources"), `{"SRC":{"hits":"12"}}`);
    assertEquals(m.headers?.get("Nats-Incr"), "5");
    assertEquals((await jsm.streams.info("AGG")).state.messages, 3);
  } finally {
    await Deno.remove(storeDir, { recursive: true }).catch(() => {});
  }
});

Deno.test('applyIncr() reads the last total as Go decodes {"val": string}, and setHeader() replaces in place', () => {
  const hdr = (t: string) => enc.encode(`NATS/1.0\r\n${t}\r\n`);
  const incrHdr = hdr("Nats-Incr: 2\r\n");
  assertEquals([
    parseIncr(hdr("Nats-Incr: +7\r\n")),
    parseIncr(hdr("Nats-Incr: \r\n")),
    parseIncr(hdr("Nats-Incr: 1.5\r\n")),
  ], [
    7n,
    undefined,
    null,
  ]);
  const total = (body: string) => {
    const r = applyIncr("foo", incrHdr, new Uint8Array(0), 2n, { hdr: undefined, msg: enc.encode(body) });
    return r instanceof ApiError ? r.description : r.total;
  };
  assertEquals(total(`{"val":"40"}`), "42");
  assertEquals(total(`{}`), "2");
  assertEquals(total(`null`), "2");
  assertEquals(total(`{"val":"x"}`), "2");
  for (const broken of [`{"val":40}`, `[]`, `7`, `not json`, ``]) {
    assertEquals(total(broken), "message counter is broken", broken);
  }
  const h = setHeader(hdr("A: 1\r\nNats-Incr: +3\r\nB: 2\r\n"), "Nats-Incr", "5");
  assertEquals(dec.decode(h), "NATS/1.0\r\nA: 1\r\nNats-Incr: 5\r\nB: 2\r\n\r\n");
});
