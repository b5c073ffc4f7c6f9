// Atomic batch publish and message schedules; ports the single-server parts of nats-server
// server/jetstream_batching_test.go and the schedule tests of server/jetstream_test.go.

import { assert, assertEquals } from "@std/assert";
import { headers } from "@nats-io/nats-core";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetStream } from "../../src/jetstream/mod.ts";
import { clientFor, jsApi, runJsServer } from "./_helpers.ts";
import { checkFor, delay } from "../_helpers/server.ts";

const enc = new TextEncoder();

function hdrs(h: Record<string, string>) {
  const m = headers();
  for (const [k, v] of Object.entries(h)) m.set(k, v);
  return m;
}

// deno-lint-ignore no-explicit-any
async function req(nc: NatsConnection, subject: string, h: Record<string, string>, data = ""): Promise<any> {
  const m = await nc.request(subject, enc.encode(data), { timeout: 2_000, headers: hdrs(h) });
  return m.data.length === 0 ? {} : JSON.parse(new TextDecoder().decode(m.data));
}

function pub(nc: NatsConnection, subject: string, h: Record<string, string>, data = ""): void {
  nc.publish(subject, enc.encode(data), { headers: hdrs(h) });
}

const BATCH_ERR = (errCode: number, description: string) => ({ code: 400, "err_code": errCode, description });

Deno.test("TestJetStreamAtomicBatchPublish: batches commit atomically, gaps and bad starts are refused", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const cfg = { name: "TEST", subjects: ["foo.*"], storage: "memory" };
  assertEquals((await jsApi(nc, "$JS.API.STREAM.CREATE.TEST", cfg)).error, undefined);
  let r = await req(nc, "foo.0", { "Nats-Batch-Id": "uuid" }, "foo.0");
  assertEquals(r.error, BATCH_ERR(10174, "atomic publish is disabled"));
  await jsApi(nc, "$JS.API.STREAM.UPDATE.TEST", { ...cfg, "allow_atomic": true });
  r = await req(nc, "foo.0", { "Nats-Batch-Id": "uuid" }, "foo.0");
  assertEquals(r.error, BATCH_ERR(10175, "atomic publish sequence is missing"));
  r = await req(nc, "foo.0", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "2" }, "foo.0");
  assertEquals(r.error, BATCH_ERR(10176, "atomic publish batch is incomplete"));
  r = await req(nc, "foo.0", {
    "Nats-Batch-Id": "uuid",
    "Nats-Batch-Sequence": "1",
    "Nats-Batch-Commit": "1",
  }, "foo.0");
  assertEquals([r.seq, r.batch, r.count], [1, "uuid", 1]);
  // A batch with a gap.
  pub(nc, "foo.0", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "1" });
  r = await req(nc, "foo.0", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "3" });
  assertEquals(r.error, BATCH_ERR(10176, "atomic publish batch is incomplete"));
  // A batch of 5: nothing is visible before the commit.
  for (let seq = 1; seq <= 5; seq++) {
    const h: Record<string, string> = { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": String(seq) };
    if (seq < 5) {
      pub(nc, `foo.${seq}`, h, `foo.${seq}`);
      if (seq === 4) {
        await nc.flush();
        assertEquals((await jsApi(nc, "$JS.API.STREAM.INFO.TEST")).state.messages, 1);
      }
      continue;
    }
    r = await req(nc, `foo.${seq}`, { ...h, "Nats-Batch-Commit": "1" }, `foo.${seq}`);
    assertEquals([r.stream, r.seq, r.batch, r.count], ["TEST", 6, "uuid", 5]);
  }
  for (let i = 0; i < 6; i++) {
    const m = await jsApi(nc, "$JS.API.STREAM.MSG.GET.TEST", { seq: i + 1 });
    assertEquals([m.message.subject, atob(m.message.data ?? "")], [`foo.${i}`, `foo.${i}`]);
  }
});

Deno.test("TestJetStreamAtomicBatchPublishLimits: id length, in-flight limits, timeout and size", async () => {
  await using s = await runJsServer();
  const js = s.jetStream!.impl as JetStream;
  js.batchLimits = { maxSize: 2, maxInflightPerStream: 1, maxInflightTotal: 1, timeoutMs: 500 };
  await using nc = await clientFor(s);
  for (const n of ["FOO", "BAR"]) {
    await jsApi(nc, `$JS.API.STREAM.CREATE.${n}`, {
      name: n,
      subjects: [n.toLowerCase()],
      storage: "memory",
      "allow_atomic": true,
    });
  }
  for (const len of [64, 65]) {
    const r = await req(nc, "foo", {
      "Nats-Batch-Id": "A".repeat(len),
      "Nats-Batch-Sequence": "1",
      "Nats-Batch-Commit": "1",
    });
    if (len <= 64) assertEquals(r.error, undefined);
    else assertEquals(r.error, BATCH_ERR(10179, "atomic publish batch ID is invalid"));
  }
  pub(nc, "foo", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "1" });
  const many = { code: 429, "err_code": 10210, description: "atomic publish too many inflight" };
  let r = await req(nc, "foo", {
    "Nats-Batch-Id": "other",
    "Nats-Batch-Sequence": "1",
    "Nats-Batch-Commit": "1",
  });
  assertEquals(r.error, many);
  r = await req(nc, "bar", { "Nats-Batch-Id": "bar", "Nats-Batch-Sequence": "1", "Nats-Batch-Commit": "1" });
  assertEquals(r.error, many);
  await checkFor(2_000, 50, () => assertEquals(js.batchInflight.n, 0));
  r = await req(nc, "foo", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "2", "Nats-Batch-Commit": "1" });
  assertEquals(r.error, BATCH_ERR(10176, "atomic publish batch is incomplete"));
  pub(nc, "foo", { "Nats-Batch-Id": "big", "Nats-Batch-Sequence": "1" });
  pub(nc, "foo", { "Nats-Batch-Id": "big", "Nats-Batch-Sequence": "2" });
  r = await req(nc, "foo", { "Nats-Batch-Id": "big", "Nats-Batch-Sequence": "3", "Nats-Batch-Commit": "1" });
  assertEquals(r.error, BATCH_ERR(10199, "atomic publish batch is too large: 2"));
});

Deno.test("TestJetStreamAtomicBatchPublishDedupeNotAllowed: Nats-Msg-Id in a batch fails the commit", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  await jsApi(nc, "$JS.API.STREAM.CREATE.TEST", {
    name: "TEST",
    subjects: ["foo"],
    storage: "memory",
    "allow_atomic": true,
  });
  pub(nc, "foo", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "1", "Nats-Msg-Id": "msgId1" });
  pub(nc, "foo", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "2", "Nats-Msg-Id": "pre-existing" });
  const r = await req(nc, "foo", {
    "Nats-Batch-Id": "uuid",
    "Nats-Batch-Sequence": "3",
    "Nats-Msg-Id": "msgId2",
    "Nats-Batch-Commit": "1",
  });
  assertEquals(r.error, BATCH_ERR(10177, "atomic publish unsupported header used: Nats-Msg-Id"));
  assertEquals((await jsApi(nc, "$JS.API.STREAM.INFO.TEST")).state.messages, 0);
});

Deno.test("TestJetStreamAtomicBatchPublishAdvisories: gaps abandon the batch with an advisory", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  await jsApi(nc, "$JS.API.STREAM.CREATE.TEST", {
    name: "TEST",
    subjects: ["foo"],
    storage: "memory",
    "allow_atomic": true,
  });
  const sub = nc.subscribe("$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.*", { max: 1 });
  await nc.flush();
  pub(nc, "foo", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "1" });
  pub(nc, "foo", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "3" });
  for await (const m of sub) {
    const a = m.json<Record<string, unknown>>();
    assertEquals([a.type, a.stream, a.batch, a.reason], [
      "io.nats.jetstream.advisory.v1.stream_batch_abandoned",
      "TEST",
      "uuid",
      "incomplete",
    ]);
  }
});

Deno.test("Atomic batch: a refusal inside the batch rolls back what the commit stored", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  await jsApi(nc, "$JS.API.STREAM.CREATE.TEST", {
    name: "TEST",
    subjects: ["foo.*"],
    storage: "memory",
    "allow_atomic": true,
  });
  await req(nc, "foo.a", {}, "x");
  pub(nc, "foo.b", { "Nats-Batch-Id": "b", "Nats-Batch-Sequence": "1" }, "1");
  const r = await req(nc, "foo.a", {
    "Nats-Batch-Id": "b",
    "Nats-Batch-Sequence": "2",
    "Nats-Batch-Commit": "1",
    "Nats-Expected-Last-Subject-Sequence": "99",
  });
  assertEquals(r.error?.err_code, 10071);
  const st = (await jsApi(nc, "$JS.API.STREAM.INFO.TEST")).state;
  assertEquals([st.messages, st.last_seq], [1, 1]);
  // An "eob" commit is not stored itself.
  pub(nc, "foo.b", { "Nats-Batch-Id": "c", "Nats-Batch-Sequence": "1" }, "1");
  const r2 = await req(nc, "foo.b", {
    "Nats-Batch-Id": "c",
    "Nats-Batch-Sequence": "2",
    "Nats-Batch-Commit": "eob",
  });
  assertEquals([r2.seq, r2.count], [2, 1]);
});

// ---- Message schedules ------------------------------------------------------------------------------------

Deno.test("TestJetStreamMessageSchedules: an @at schedule publishes to its target once and is removed", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const cfg = { name: "SCHED", subjects: ["foo.*"], storage: "memory", "allow_msg_schedules": true };
  assertEquals((await jsApi(nc, "$JS.API.STREAM.CREATE.SCHED", cfg)).error, undefined);
  const at = new Date(Date.now() + 300).toISOString();
  const r = await req(nc, "foo.schedule", {
    "Nats-Schedule": `@at ${at}`,
    "Nats-Schedule-Target": "foo.publish",
    "X-Custom": "kept",
  }, "payload");
  assertEquals(r.seq, 1);
  await checkFor(3_000, 50, async () => {
    const st = (await jsApi(nc, "$JS.API.STREAM.INFO.SCHED")).state;
    assertEquals([st.messages, st.last_seq], [1, 2]);
  });
  const m = await jsApi(nc, "$JS.API.STREAM.MSG.GET.SCHED", { seq: 2 });
  assertEquals(m.message.subject, "foo.publish");
  assertEquals(atob(m.message.data), "payload");
  const h = atob(m.message.hdrs);
  assert(h.includes("Nats-Scheduler: foo.schedule") && h.includes("Nats-Schedule-Next: purge"), h);
  assert(h.includes("X-Custom: kept") && !h.includes("Nats-Schedule:"), h);
});

Deno.test("TestJetStreamMessageSchedulesErrors: schedule headers are validated", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  await jsApi(nc, "$JS.API.STREAM.CREATE.NO", { name: "NO", subjects: ["no.*"], storage: "memory" });
  let r = await req(nc, "no.s", { "Nats-Schedule": "@every 1s", "Nats-Schedule-Target": "no.t" });
  assertEquals(r.error, BATCH_ERR(10188, "message schedules is disabled"));
  await jsApi(nc, "$JS.API.STREAM.CREATE.S", {
    name: "S",
    subjects: ["s.*"],
    storage: "memory",
    "allow_msg_schedules": true,
  });
  const cases: [Record<string, string>, number, string][] = [
    [
      { "Nats-Schedule": "@every 10ms", "Nats-Schedule-Target": "s.t" },
      10189,
      "message schedules pattern is invalid",
    ],
    [
      { "Nats-Schedule": "bad", "Nats-Schedule-Target": "s.t" },
      10189,
      "message schedules pattern is invalid",
    ],
    [{ "Nats-Schedule": "@hourly" }, 10190, "message schedules target is invalid"],
    [
      { "Nats-Schedule": "@hourly", "Nats-Schedule-Target": "s.s" },
      10190,
      "message schedules target is invalid",
    ],
    [
      { "Nats-Schedule": "@hourly", "Nats-Schedule-Target": "other" },
      10190,
      "message schedules target is invalid",
    ],
    [
      { "Nats-Schedule": "@hourly", "Nats-Schedule-Target": "s.t", "Nats-Schedule-TTL": "1s" },
      10191,
      "message schedules invalid per-message TTL",
    ],
    [
      { "Nats-Schedule": "@hourly", "Nats-Schedule-Target": "s.t", "Nats-Schedule-Rollup": "all" },
      10192,
      "message schedules invalid rollup",
    ],
    [
      {
        "Nats-Schedule": "@every 1s",
        "Nats-Schedule-Target": "s.t",
        "Nats-Schedule-Time-Zone": "Europe/Paris",
      },
      10223,
      "message schedules time zone is invalid",
    ],
    [
      { "Nats-Schedule": "@daily", "Nats-Schedule-Target": "s.t", "Nats-Schedule-Time-Zone": "Nowhere/City" },
      10223,
      "message schedules time zone is invalid",
    ],
    [
      { "Nats-Schedule": "@daily", "Nats-Schedule-Target": "s.t", "Nats-Schedule-Source": "s.*" },
      10203,
      "message schedules source is invalid",
    ],
    [{ "Nats-Scheduler": "s.x" }, 10212, "message schedules invalid scheduler"],
  ];
  for (const [h, code, desc] of cases) {
    r = await req(nc, "s.s", h);
    assertEquals(r.error, BATCH_ERR(code, desc), JSON.stringify(h));
  }
  r = await req(nc, "s.s", {
    "Nats-Schedule": "0 30 9 * * MON-FRI",
    "Nats-Schedule-Target": "s.t",
    "Nats-Schedule-Time-Zone": "Europe/Paris",
  });
  assertEquals(r.error, undefined);
});

Deno.test("Message schedules: @every repeats, a new schedule on the subject replaces the old one", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  await jsApi(nc, "$JS.API.STREAM.CREATE.S", {
    name: "S",
    subjects: ["s.*"],
    storage: "memory",
    "allow_msg_schedules": true,
  });
  await req(nc, "s.s", { "Nats-Schedule": "@every 1s", "Nats-Schedule-Target": "s.t" }, "tick");
  await checkFor(4_000, 100, async () => {
    const totals = (await jsApi(nc, "$JS.API.STREAM.INFO.S", { "subjects_filter": "s.t" })).state.subjects;
    assert((totals?.["s.t"] ?? 0) >= 2, JSON.stringify(totals));
  });
  // Replace by a far-away @at: the repeating one stops.
  await req(nc, "s.s", { "Nats-Schedule": "@at 2099-01-01T00:00:00Z", "Nats-Schedule-Target": "s.t" });
  const n = (await jsApi(nc, "$JS.API.STREAM.INFO.S")).state.messages;
  await delay(1_300);
  assertEquals((await jsApi(nc, "$JS.API.STREAM.INFO.S")).state.messages, n);
  // The schedule subject holds one message (rollup).
  const subj = (await jsApi(nc, "$JS.API.STREAM.INFO.S", { "subjects_filter": "s.s" })).state.subjects;
  assertEquals(subj, { "s.s": 1 });
});
