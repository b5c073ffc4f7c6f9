// Ports of nats-server server/jetstream_batching_test.go (atomic batch publish), single-server parts. The Go tests
// run most cases on a three-node cluster with R1 and R3 streams; here the R1 behaviour is checked on one server
// through the client protocol (raw publishes with Nats-Batch-* headers, request/reply, the JetStream API).
// Tests of raft proposals and replicas are cluster-only and listed at the end as ignored.

import { assert, assertEquals, assertThrows, fail } from "@std/assert";
import { headers } from "@nats-io/nats-core";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import type { JetStream } from "../../src/jetstream/mod.ts";
import { loadOptions } from "../../src/config/mod.ts";
import { clientFor, jsApi, runJsServer } from "./_helpers.ts";
import { checkFor } from "../_helpers/server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

type Hdrs = Record<string, string>;
// deno-lint-ignore no-explicit-any
type Json = any;

function hdrs(h: Hdrs) {
  const m = headers();
  for (const [k, v] of Object.entries(h)) m.set(k, v);
  return m;
}

async function req(
  nc: NatsConnection,
  subject: string,
  h: Hdrs,
  data: string | Uint8Array = "",
): Promise<Json> {
  const body = typeof data === "string" ? enc.encode(data) : data;
  const m = await nc.request(subject, body, { timeout: 2_000, headers: hdrs(h) });
  return m.data.length === 0 ? {} : JSON.parse(dec.decode(m.data));
}

function pub(nc: NatsConnection, subject: string, h: Hdrs, data: string | Uint8Array = ""): void {
  nc.publish(subject, typeof data === "string" ? enc.encode(data) : data, { headers: hdrs(h) });
}

const err400 = (errCode: number, description: string) => ({ code: 400, "err_code": errCode, description });

const ATOMIC_DISABLED = err400(10174, "atomic publish is disabled");
const MISSING_SEQ = err400(10175, "atomic publish sequence is missing");
const INCOMPLETE = err400(10176, "atomic publish batch is incomplete");
const unsupportedHeader = (h: string) => err400(10177, `atomic publish unsupported header used: ${h}`);
const WRONG_LAST_SEQ_CONST = err400(10164, "wrong last sequence");
const wrongLastSeq = (seq: number) => err400(10071, `wrong last sequence: ${seq}`);
const rollupFailed = (e: string) => ({ code: 500, "err_code": 10111, description: e });

/** A message of a batch: subject, extra headers, payload. */
interface Item {
  subject: string;
  header?: Hdrs;
  msg?: string;
}

/**
 * Publishes `items` as batch `id` and commits with `commit` ("1": the last item commits, "eob": an extra
 * end-of-batch message on the last item's subject that is not stored). Returns the commit's reply.
 */
async function publishBatch(nc: NatsConnection, id: string, items: Item[], commit = "1"): Promise<Json> {
  const n = commit === "eob" ? items.length + 1 : items.length;
  for (let i = 0; i < n; i++) {
    const it = items[Math.min(i, items.length - 1)];
    const h: Hdrs = { "Nats-Batch-Id": id, "Nats-Batch-Sequence": String(i + 1) };
    if (i < n - 1) {
      pub(nc, it.subject, { ...it.header, ...h }, it.msg ?? "");
      continue;
    }
    if (commit === "eob") return await req(nc, it.subject, { ...h, "Nats-Batch-Commit": "eob" });
    return await req(nc, it.subject, { ...it.header, ...h, "Nats-Batch-Commit": "1" }, it.msg ?? "");
  }
}

async function streamInfo(nc: NatsConnection, name: string) {
  const si = await jsApi(nc, `$JS.API.STREAM.INFO.${name}`);
  assertEquals(si.error, undefined, JSON.stringify(si.error));
  return si;
}

async function getMsg(nc: NatsConnection, stream: string, seq: number) {
  const r = await jsApi(nc, `$JS.API.STREAM.MSG.GET.${stream}`, { seq });
  assertEquals(r.error, undefined, JSON.stringify(r.error));
  const m = r.message;
  return {
    subject: m.subject as string,
    data: m.data ? atob(m.data) : "",
    hdrs: m.hdrs ? parseHdrs(atob(m.hdrs)) : {} as Hdrs,
  };
}

function parseHdrs(text: string): Hdrs {
  const out: Hdrs = {};
  for (const line of text.split("\r\n").slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

async function createStream(nc: NatsConnection, cfg: Record<string, unknown>) {
  const r = await jsApi(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, { storage: "memory", ...cfg });
  assertEquals(r.error, undefined, JSON.stringify(r.error));
  return r;
}

const STORAGES = ["file", "memory"];
const RETENTIONS = ["limits", "interest", "workqueue"];

Deno.test("TestJetStreamAtomicBatchPublish: every storage and retention (R1): disabled, missing sequence, gaps, commits", async () => {
  for (const storage of STORAGES) {
    for (const retention of RETENTIONS) {
      const what = `${storage}/${retention}`;
      await using s = await runJsServer();
      await using nc = await clientFor(s);
      const cfg = { name: "TEST", subjects: ["foo.*"], storage, retention };
      await createStream(nc, cfg);
      let r = await req(nc, "foo.0", { "Nats-Batch-Id": "uuid" }, "foo.0");
      assertEquals(r.error, ATOMIC_DISABLED, what);
      const u = await jsApi(nc, "$JS.API.STREAM.UPDATE.TEST", { ...cfg, "allow_atomic": true });
      assertEquals(u.error, undefined, what);
      r = await req(nc, "foo.0", { "Nats-Batch-Id": "uuid" }, "foo.0");
      assertEquals(r.error, MISSING_SEQ, what);
      r = await req(nc, "foo.0", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "2" }, "foo.0");
      assertEquals(r.error, INCOMPLETE, what);
      const one = { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "1" };
      r = await req(nc, "foo.0", { ...one, "Nats-Batch-Commit": "1" }, "foo.0");
      assertEquals([r.error, r.seq, r.batch, r.count], [undefined, 1, "uuid", 1], what);
      // A batch with a gap.
      pub(nc, "foo.0", one, "foo.0");
      r = await req(nc, "foo.0", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "3" }, "foo.0");
      assertEquals(r.error, INCOMPLETE, what);
      // A batch of 5.
      const items = [1, 2, 3, 4, 5].map((i) => ({ subject: `foo.${i}`, msg: `foo.${i}` }));
      r = await publishBatch(nc, "uuid", items);
      assertEquals([r.error, r.stream, r.seq, r.batch, r.count], [undefined, "TEST", 6, "uuid", 5], what);
      if (retention !== "interest") {
        for (let i = 0; i < 6; i++) {
          const m = await getMsg(nc, "TEST", i + 1);
          assertEquals([m.subject, m.data], [`foo.${i}`, `foo.${i}`], what);
        }
      }
    }
  }
});

// TestJetStreamAtomicBatchPublishLimits: ported in tests/jetstream/stream_batch_test.ts (R1; the in-flight and
// size refusals there carry the current error codes 10210 and 10199).

Deno.test("TestJetStreamAtomicBatchPublishDedupeNotAllowed: every storage and retention (R1): Nats-Msg-Id fails the commit", async () => {
  for (const storage of STORAGES) {
    for (const retention of RETENTIONS) {
      const what = `${storage}/${retention}`;
      await using s = await runJsServer();
      await using nc = await clientFor(s);
      await createStream(nc, { name: "TEST", subjects: ["foo"], storage, retention, "allow_atomic": true });
      const b = { "Nats-Batch-Id": "uuid" };
      pub(nc, "foo", { ...b, "Nats-Batch-Sequence": "1", "Nats-Msg-Id": "msgId1" });
      pub(nc, "foo", { ...b, "Nats-Batch-Sequence": "2", "Nats-Msg-Id": "pre-existing" });
      const r = await req(nc, "foo", {
        ...b,
        "Nats-Batch-Sequence": "3",
        "Nats-Msg-Id": "msgId2",
        "Nats-Batch-Commit": "1",
      });
      assertEquals(r.error, unsupportedHeader("Nats-Msg-Id"), what);
      assertEquals((await streamInfo(nc, "TEST")).state.messages, 0, what);
    }
  }
});

Deno.test("TestJetStreamAtomicBatchPublishSourceAndMirror: mirrors and sources take committed batches without the batch headers (R1)", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  await createStream(nc, { name: "TEST", subjects: ["foo"], storage: "file", "allow_atomic": true });
  const r = await publishBatch(nc, "uuid", [{ subject: "foo" }, { subject: "foo" }, { subject: "foo" }]);
  assertEquals([r.error, r.seq, r.batch, r.count], [undefined, 3, "uuid", 3]);
  const d = await jsApi(nc, "$JS.API.STREAM.MSG.DELETE.TEST", { seq: 2 });
  assertEquals(d.success, true);
  // A mirror can take batched messages but cannot do atomic batches itself.
  const bad = await jsApi(nc, "$JS.API.STREAM.CREATE.M-no-batch", {
    name: "M-no-batch",
    storage: "file",
    mirror: { name: "TEST" },
    "allow_atomic": true,
  });
  assertEquals(bad.error, err400(10198, "stream mirrors can not also use atomic publishing"));
  await createStream(nc, { name: "M", mirror: { name: "TEST" } });
  await createStream(nc, { name: "S", sources: [{ name: "TEST" }] });
  await checkFor(2_000, 50, async () => {
    for (const name of ["M", "S"]) assertEquals((await streamInfo(nc, name)).state.messages, 2, name);
  });
  assertEquals((await getMsg(nc, "M", 1)).hdrs, {});
  assertEquals((await getMsg(nc, "M", 3)).hdrs, {});
  assertEquals((await getMsg(nc, "S", 1)).hdrs, { "Nats-Stream-Source": "TEST 1 > > foo" });
  assertEquals((await getMsg(nc, "S", 2)).hdrs, { "Nats-Stream-Source": "TEST 3 > > foo" });
});

Deno.test("TestJetStreamAtomicBatchPublishCleanup: disabling, deleting or committing drops the batch in flight (R1; StepDown is cluster-only)", async () => {
  for (const mode of ["Disable", "Delete", "Commit"]) {
    await using s = await runJsServer();
    const js = s.jetStream!.impl as JetStream;
    await using nc = await clientFor(s);
    const cfg = { name: "TEST", subjects: ["foo"], storage: "file", "allow_atomic": false };
    await createStream(nc, cfg);
    assertEquals(js.batchInflight.n, 0);
    // Enabling alone stages nothing.
    assertEquals(
      (await jsApi(nc, "$JS.API.STREAM.UPDATE.TEST", { ...cfg, "allow_atomic": true })).error,
      undefined,
    );
    assertEquals(js.batchInflight.n, 0);
    // A partial batch, then a batch that commits (and is cleaned up at once).
    pub(nc, "foo", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "1" });
    const c = await req(nc, "foo", {
      "Nats-Batch-Id": "commit",
      "Nats-Batch-Sequence": "1",
      "Nats-Batch-Commit": "1",
    });
    assertEquals([c.error, c.seq, c.count], [undefined, 1, 1], mode);
    assertEquals(js.batchInflight.n, 1, mode);
    if (mode === "Disable") {
      const u = await jsApi(nc, "$JS.API.STREAM.UPDATE.TEST", { ...cfg, "allow_atomic": false });
      assertEquals(u.error, undefined);
    } else if (mode === "Delete") {
      assertEquals((await jsApi(nc, "$JS.API.STREAM.DELETE.TEST")).success, true);
    } else {
      const r = await req(nc, "foo", {
        "Nats-Batch-Id": "uuid",
        "Nats-Batch-Sequence": "2",
        "Nats-Batch-Commit": "1",
      });
      assertEquals([r.error, r.seq, r.count], [undefined, 3, 2]);
    }
    await checkFor(2_000, 20, () => assertEquals(js.batchInflight.n, 0, mode));
    if (mode === "Disable") {
      // The staged message is gone: continuing the batch finds nothing to continue.
      await jsApi(nc, "$JS.API.STREAM.UPDATE.TEST", { ...cfg, "allow_atomic": true });
      const r = await req(nc, "foo", {
        "Nats-Batch-Id": "uuid",
        "Nats-Batch-Sequence": "2",
        "Nats-Batch-Commit": "1",
      });
      assertEquals(r.error, INCOMPLETE);
      assertEquals((await streamInfo(nc, "TEST")).state.messages, 1);
    }
  }
});

Deno.test("TestJetStreamAtomicBatchPublishConfigOpts: jetstream.limits.batch sets the batch limits; reload refuses changes", async () => {
  {
    await using s = await runJsServer();
    const js = s.jetStream!.impl as JetStream;
    assertEquals(js.batchLimits, {
      maxSize: 1000,
      maxInflightPerStream: 50,
      maxInflightTotal: 1000,
      timeoutMs: 10_000,
    });
  }
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-batch-conf-" });
  const conf = (perStream: number, total: number, msgs: number, timeout: string) => {
    const file = `${dir}/js-${perStream}.conf`;
    Deno.writeTextFileSync(
      file,
      `listen: 127.0.0.1:-1
jetstream {
  store_dir: ${JSON.stringify(dir)}
  limits {
    batch {
      max_inflight_per_stream: ${perStream}
      max_inflight_total: ${total}
      max_msgs: ${msgs}
      timeout: ${timeout}
    }
  }
}
`,
    );
    return loadOptions(["-c", file]).opts;
  };
  const first = conf(10, 20, 100, "5s");
  assertEquals(first.unsupported.includes("jetstream.limits.batch"), false);
  assertEquals(first.jetStreamOpts.limits.batch, {
    maxInflightPerStream: 10,
    maxInflightTotal: 20,
    maxMsgs: 100,
    timeoutMs: 5_000,
  });
  await using s = await runJsServer({ jetStreamOpts: first.jetStreamOpts, storeDir: dir });
  const js = s.jetStream!.impl as JetStream;
  assertEquals(js.batchLimits, {
    maxSize: 100,
    maxInflightPerStream: 10,
    maxInflightTotal: 20,
    timeoutMs: 5_000,
  });
  // Reloading is not supported: lowering limits could drop batches in flight.
  const next = conf(20, 40, 200, "10s");
  assertThrows(
    () => s.reload({ ...s.opts, jetStreamOpts: next.jetStreamOpts }),
    "config reload not supported for JetStreamLimits",
  );
  assertEquals(js.batchLimits.maxSize, 100);
  // The limit in use: the 101st message of a batch is refused as too large.
  await using nc = await clientFor(s);
  await createStream(nc, { name: "TEST", subjects: ["foo"], "allow_atomic": true });
  for (let seq = 1; seq <= 100; seq++) {
    pub(nc, "foo", { "Nats-Batch-Id": "b", "Nats-Batch-Sequence": String(seq) });
  }
  const r = await req(nc, "foo", {
    "Nats-Batch-Id": "b",
    "Nats-Batch-Sequence": "101",
    "Nats-Batch-Commit": "1",
  });
  assertEquals(r.error, err400(10199, "atomic publish batch is too large: 100"));
});

Deno.test("TestJetStreamAtomicBatchPublishDenyHeaders: Nats-Msg-Id and Nats-Expected-Last-Msg-Id are refused in a batch (R1)", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  await createStream(nc, { name: "TEST", subjects: ["foo"], storage: "file", "allow_atomic": true });
  for (const key of ["Nats-Msg-Id", "Nats-Expected-Last-Msg-Id"]) {
    const r = await req(nc, "foo", {
      "Nats-Batch-Id": "uuid",
      "Nats-Batch-Sequence": "1",
      "Nats-Batch-Commit": "1",
      [key]: "msgId",
    });
    assertEquals(r.error, unsupportedHeader(key), key);
  }
  assertEquals((await streamInfo(nc, "TEST")).state.messages, 0);
});

interface StageCase {
  title: string;
  allowRollup?: boolean;
  denyPurge?: boolean;
  allowTTL?: boolean;
  allowMsgCounter?: boolean;
  allowMsgSchedules?: boolean;
  discardNew?: boolean;
  discardNewPerSubj?: boolean;
  /** Messages published (not in the batch) before it. */
  before?: Item[];
  batch: Item[];
  /** The commit's error (the first message refused), or undefined when the batch commits. */
  err?: unknown;
  /** Checked after the commit. */
  validate?: (nc: NatsConnection) => Promise<void>;
}

const AT_EPOCH = "@at 1970-01-01T00:00:00Z";

const STAGE_CASES: StageCase[] = [
  // dedupe-distinct, dedupe, dedupe-staged: Nats-Msg-Id is refused in a batch before staging
  // (TestJetStreamAtomicBatchPublishDenyHeaders), so these staging cases cannot be reached by a client.
  {
    title: "counter-single",
    allowMsgCounter: true,
    batch: [{ subject: "foo", header: { "Nats-Incr": "1" } }],
    validate: async (nc) => assertEquals(JSON.parse((await getMsg(nc, "TEST", 1)).data), { val: "1" }),
  },
  {
    title: "counter-multiple",
    allowMsgCounter: true,
    batch: [{ subject: "foo", header: { "Nats-Incr": "1" } }, {
      subject: "foo",
      header: { "Nats-Incr": "2" },
    }],
    validate: async (nc) => assertEquals(JSON.parse((await getMsg(nc, "TEST", 2)).data), { val: "3" }),
  },
  {
    title: "counter-pre-init",
    allowMsgCounter: true,
    before: [{ subject: "foo", header: { "Nats-Incr": "1" } }],
    batch: [{ subject: "foo", header: { "Nats-Incr": "2" } }],
    validate: async (nc) => assertEquals(JSON.parse((await getMsg(nc, "TEST", 2)).data), { val: "3" }),
  },
  {
    title: "msg-schedules-disabled",
    batch: [{ subject: "foo", header: { "Nats-Schedule": AT_EPOCH } }, {
      subject: "foo",
      header: { "Nats-Schedule": "disabled" },
    }],
    err: err400(10188, "message schedules is disabled"),
  },
  {
    title: "msg-schedules-disabled (invalid pattern)",
    batch: [{ subject: "foo", header: { "Nats-Schedule": "disabled" } }],
    err: err400(10188, "message schedules is disabled"),
  },
  {
    title: "msg-schedules-ttl-disabled",
    allowMsgSchedules: true,
    batch: [{ subject: "foo", header: { "Nats-Schedule": AT_EPOCH, "Nats-Schedule-TTL": "1s" } }],
    err: err400(10166, "per-message TTL is disabled"),
  },
  {
    title: "msg-schedules-ttl-invalid",
    allowMsgSchedules: true,
    allowTTL: true,
    batch: [{ subject: "foo", header: { "Nats-Schedule": AT_EPOCH, "Nats-Schedule-TTL": "invalid" } }],
    err: err400(10191, "message schedules invalid per-message TTL"),
  },
  {
    title: "msg-schedules-invalid-schedule",
    allowMsgSchedules: true,
    batch: [{ subject: "foo", header: { "Nats-Schedule": "invalid" } }],
    err: err400(10189, "message schedules pattern is invalid"),
  },
  {
    title: "msg-schedules-target-mismatch",
    allowMsgSchedules: true,
    batch: [{
      subject: "foo",
      header: { "Nats-Schedule": AT_EPOCH, "Nats-Schedule-Target": "not.matching" },
    }],
    err: err400(10190, "message schedules target is invalid"),
  },
  {
    title: "msg-schedules-target-must-be-literal",
    allowMsgSchedules: true,
    batch: [{ subject: "foo", header: { "Nats-Schedule": AT_EPOCH, "Nats-Schedule-Target": "foo.*" } }],
    err: err400(10190, "message schedules target is invalid"),
  },
  {
    title: "msg-schedules-target-must-be-unique",
    allowMsgSchedules: true,
    batch: [{ subject: "foo", header: { "Nats-Schedule": AT_EPOCH, "Nats-Schedule-Target": "foo" } }],
    err: err400(10190, "message schedules target is invalid"),
  },
  {
    title: "msg-schedules-rollup-disabled",
    allowMsgSchedules: true,
    batch: [{
      subject: "foo",
      header: { "Nats-Schedule": AT_EPOCH, "Nats-Schedule-Target": "bar", "Nats-Rollup": "sub" },
    }],
    err: rollupFailed("rollup not permitted"),
  },
  {
    title: "msg-schedules",
    allowMsgSchedules: true,
    allowRollup: true,
    batch: [
      { subject: "foo", header: { "Nats-Schedule": AT_EPOCH, "Nats-Schedule-Target": "baz" } },
      {
        subject: "bar",
        header: { "Nats-Schedule": AT_EPOCH, "Nats-Schedule-Target": "baz", "Nats-Rollup": "sub" },
      },
    ],
  },
  {
    title: "discard-new",
    discardNew: true,
    batch: [{ subject: "foo1" }, { subject: "foo2" }],
  },
  {
    title: "discard-new-max-msgs",
    discardNew: true,
    batch: [{ subject: "foo" }, { subject: "foo" }, { subject: "foo" }],
    err: { code: 503, "err_code": 10077, description: "maximum messages exceeded" },
  },
  // discard-new-max-bytes: checked by "discard-new-max-bytes (sizes with the batch headers)" below, since a client's
  // batch messages carry the Nats-Batch-* headers the staging test leaves out.
  {
    title: "discard-new-max-msgs-per-subj",
    discardNew: true,
    discardNewPerSubj: true,
    batch: [{ subject: "foo" }, { subject: "foo" }],
    err: { code: 503, "err_code": 10077, description: "maximum messages per subject exceeded" },
  },
  {
    title: "expect-last-seq",
    batch: [
      { subject: "foo", header: { "Nats-Expected-Last-Sequence": "0" } },
      { subject: "bar", header: { "Nats-Expected-Last-Sequence": "1" } },
    ],
  },
  {
    title: "expect-last-seq-invalid-first",
    batch: [{ subject: "foo", header: { "Nats-Expected-Last-Sequence": "1" } }],
    err: wrongLastSeq(0),
  },
  {
    title: "expect-last-seq-invalid",
    batch: [
      { subject: "foo", header: { "Nats-Expected-Last-Sequence": "0" } },
      { subject: "bar", header: { "Nats-Expected-Last-Sequence": "0" } },
    ],
    err: wrongLastSeq(1),
  },
  {
    title: "expect-per-subj-simple",
    batch: [
      { subject: "foo", header: { "Nats-Expected-Last-Subject-Sequence": "0" } },
      { subject: "bar", header: { "Nats-Expected-Last-Subject-Sequence": "0" } },
    ],
  },
  {
    title: "expect-per-subj-redundant-in-batch",
    batch: [
      { subject: "foo", header: { "Nats-Expected-Last-Subject-Sequence": "0" } },
      // The subject was written earlier in the batch: no expectation on it can hold.
      { subject: "foo", header: { "Nats-Expected-Last-Subject-Sequence": "1" } },
      { subject: "foo", header: { "Nats-Expected-Last-Subject-Sequence": "0" } },
    ],
    err: WRONG_LAST_SEQ_CONST,
  },
  {
    title: "expect-per-subj-dupe-in-change",
    batch: [
      {
        subject: "foo",
        header: {
          "Nats-Expected-Last-Subject-Sequence": "0",
          "Nats-Expected-Last-Subject-Sequence-Subject": "baz",
        },
      },
      {
        subject: "bar",
        header: {
          "Nats-Expected-Last-Subject-Sequence": "0",
          "Nats-Expected-Last-Subject-Sequence-Subject": "baz",
        },
      },
    ],
  },
  {
    title: "expect-per-subj-not-first",
    batch: [
      { subject: "foo" },
      { subject: "foo", header: { "Nats-Expected-Last-Subject-Sequence": "0" } },
      {
        subject: "bar",
        header: {
          "Nats-Expected-Last-Subject-Sequence": "0",
          "Nats-Expected-Last-Subject-Sequence-Subject": "foo",
        },
      },
    ],
    err: WRONG_LAST_SEQ_CONST,
  },
  {
    title: "expect-per-subj-not-first (other subject's expectation)",
    batch: [
      { subject: "foo" },
      {
        subject: "bar",
        header: {
          "Nats-Expected-Last-Subject-Sequence": "0",
          "Nats-Expected-Last-Subject-Sequence-Subject": "foo",
        },
      },
    ],
    err: WRONG_LAST_SEQ_CONST,
  },
  // expect-per-subj-in-process, expect-per-subj-inflight: seed the clustered proposal state (subjects with
  // expectations or messages proposed but not applied); a single server has no such state.
  {
    title: "rollup-deny-purge",
    // A stream cannot be created with both allow_rollup_hdrs and deny_purge ("roll-ups require the purge
    // permission"), so the client-reachable form is deny_purge alone.
    denyPurge: true,
    batch: [{ subject: "foo", header: { "Nats-Rollup": "sub" } }],
    err: rollupFailed("rollup not permitted"),
  },
  {
    title: "rollup-invalid",
    allowRollup: true,
    batch: [{ subject: "foo", header: { "Nats-Rollup": "invalid" } }],
    err: rollupFailed(`rollup value invalid: "invalid"`),
  },
  {
    title: "rollup-all-first",
    allowRollup: true,
    batch: [{ subject: "foo", header: { "Nats-Rollup": "all" } }],
  },
  {
    title: "rollup-all-not-first",
    allowRollup: true,
    batch: [{ subject: "foo" }, { subject: "bar", header: { "Nats-Rollup": "all" } }],
    err: rollupFailed("batch rollup all invalid"),
  },
  {
    title: "rollup-sub-unique",
    allowRollup: true,
    batch: [{ subject: "foo", header: { "Nats-Rollup": "sub" } }, {
      subject: "bar",
      header: { "Nats-Rollup": "sub" },
    }],
  },
  {
    title: "rollup-sub-overlap",
    allowRollup: true,
    batch: [{ subject: "foo", header: { "Nats-Rollup": "sub" } }, {
      subject: "foo",
      header: { "Nats-Rollup": "sub" },
    }],
    err: rollupFailed("batch rollup sub invalid"),
  },
];

function stageStreamConfig(c: StageCase): Record<string, unknown> {
  const cfg: Record<string, unknown> = {
    name: "TEST",
    storage: "memory",
    "allow_atomic": true,
    subjects: ["foo", "bar", "baz", "foo1", "foo2"],
  };
  if (c.allowRollup) cfg["allow_rollup_hdrs"] = true;
  if (c.denyPurge) cfg["deny_purge"] = true;
  if (c.allowTTL) cfg["allow_msg_ttl"] = true;
  if (c.allowMsgCounter) cfg["allow_msg_counter"] = true;
  if (c.allowMsgSchedules) cfg["allow_msg_schedules"] = true;
  if (c.discardNew) Object.assign(cfg, { discard: "new", "max_msgs": 2 });
  if (c.discardNewPerSubj) {
    Object.assign(cfg, { "discard_new_per_subject": true, "max_msgs": -1, "max_msgs_per_subject": 1 });
  }
  return cfg;
}

Deno.test("TestJetStreamAtomicBatchPublishStageAndCommit: each staged message is checked; the first refusal fails the whole batch", async () => {
  for (const c of STAGE_CASES) {
    await using s = await runJsServer();
    await using nc = await clientFor(s);
    await createStream(nc, stageStreamConfig(c));
    for (const b of c.before ?? []) {
      const r = await req(nc, b.subject, b.header ?? {}, b.msg ?? "");
      assertEquals(r.error, undefined, c.title);
    }
    const before = (await streamInfo(nc, "TEST")).state;
    const r = await publishBatch(nc, "uuid", c.batch);
    if (c.err === undefined) {
      assertEquals(r.error, undefined, `${c.title}: ${JSON.stringify(r.error)}`);
      assertEquals([r.batch, r.count], ["uuid", c.batch.length], c.title);
      await c.validate?.(nc);
    } else {
      assertEquals(r.error, c.err, c.title);
      // Nothing of the batch is stored.
      const after = (await streamInfo(nc, "TEST")).state;
      assertEquals([after.messages, after.last_seq], [before.messages, before.last_seq], c.title);
    }
  }
});

Deno.test("TestJetStreamAtomicBatchPublishStageAndCommit: discard-new-max-bytes (sizes with the batch headers)", async () => {
  // Measure one batch message, then allow two of that size with a few bytes to spare: a second message ten bytes
  // larger fails (whether the store refuses reaching or exceeding max_bytes).
  let one: number;
  {
    await using s = await runJsServer();
    await using nc = await clientFor(s);
    await createStream(nc, stageStreamConfig({ title: "", batch: [] }));
    const r = await publishBatch(nc, "uuid", [{ subject: "foo1", msg: "A".repeat(10) }], "eob");
    assertEquals(r.error, undefined);
    one = (await streamInfo(nc, "TEST")).state.bytes;
    assert(one > 10);
  }
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  await createStream(nc, {
    ...stageStreamConfig({ title: "", batch: [] }),
    discard: "new",
    "max_bytes": one * 2 + 5,
  });
  let r = await publishBatch(nc, "uuid", [{ subject: "foo1", msg: "A".repeat(10) }, {
    subject: "foo2",
    msg: "A".repeat(10),
  }], "eob");
  assertEquals([r.error, r.count], [undefined, 2]);
  await jsApi(nc, "$JS.API.STREAM.PURGE.TEST");
  r = await publishBatch(nc, "uuid", [{ subject: "foo1", msg: "A".repeat(10) }, {
    subject: "foo2",
    msg: "A".repeat(20),
  }], "eob");
  assertEquals(r.error, { code: 503, "err_code": 10077, description: "maximum bytes exceeded" });
  assertEquals((await streamInfo(nc, "TEST")).state.messages, 0);
});

Deno.test("TestJetStreamAtomicBatchPublishHighLevelRollback: a refused publish leaves no dedupe state behind (single server)", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  await createStream(nc, {
    name: "TEST",
    subjects: ["foo"],
    storage: "file",
    retention: "interest",
    "max_msgs": 1,
  });
  let r = await req(nc, "foo", { "Nats-Msg-Id": "dedupe", "Nats-Expected-Last-Subject-Sequence": "1" });
  assertEquals(r.error, wrongLastSeq(0));
  // The refused message id was not remembered: the same id is accepted, once.
  r = await req(nc, "foo", { "Nats-Msg-Id": "dedupe" });
  assertEquals([r.error, r.seq, r.duplicate], [undefined, 1, undefined]);
  r = await req(nc, "foo", { "Nats-Msg-Id": "dedupe" });
  assertEquals([r.seq, r.duplicate], [1, true]);
});

Deno.test("TestJetStreamAtomicBatchPublishExpectedPerSubject: only the first message of a subject may carry an expectation (R1)", async () => {
  for (const kind of ["single", "redundant", "not-first"]) {
    await using s = await runJsServer();
    await using nc = await clientFor(s);
    await createStream(nc, { name: "TEST", subjects: ["foo"], storage: "file", "allow_atomic": true });
    assertEquals((await req(nc, "foo", {})).seq, 1);
    const h1: Hdrs = { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "1" };
    if (kind !== "not-first") h1["Nats-Expected-Last-Subject-Sequence"] = "1";
    pub(nc, "foo", h1);
    const h2: Hdrs = { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "2", "Nats-Batch-Commit": "1" };
    if (kind !== "single") h2["Nats-Expected-Last-Subject-Sequence"] = "1";
    const r = await req(nc, "foo", h2);
    if (kind !== "single") {
      assertEquals(r.error, WRONG_LAST_SEQ_CONST, kind);
      assertEquals((await streamInfo(nc, "TEST")).state.messages, 1, kind);
      continue;
    }
    assertEquals([r.error, r.seq, r.count], [undefined, 3, 2]);
    const m2 = await getMsg(nc, "TEST", 2);
    assertEquals(m2.hdrs["Nats-Batch-Id"], "uuid");
    assertEquals(m2.hdrs["Nats-Batch-Sequence"], "1");
    assertEquals(m2.hdrs["Nats-Expected-Last-Subject-Sequence"], "1");
    const m3 = await getMsg(nc, "TEST", 3);
    assertEquals(m3.hdrs["Nats-Batch-Id"], "uuid");
    assertEquals(m3.hdrs["Nats-Batch-Sequence"], "2");
    assertEquals(m3.hdrs["Nats-Expected-Last-Subject-Sequence"], undefined);
  }
});

Deno.test({
  name:
    "TestJetStreamAtomicBatchPublishSingleServerRecovery: a batch half applied at a crash is completed on restart",
  ignore: true,
  // blocked: natsdeno stages batches in memory and has no on-disk batch store (streams/<name>/batches/<hash>) to
  // complete a half-applied batch from: a batch a crash cut short is rolled back at recovery instead (its client
  // never got a PubAck; see batch_rollback_test.ts). The test also seeds the batch through server internals
  // (newBatchGroup, processJetStreamMsg of the first message only, then a hard kill).
  fn: async () => {
    await using s = await runJsServer();
    await using nc = await clientFor(s);
    await createStream(nc, { name: "TEST", subjects: ["foo"], storage: "file", "allow_atomic": true });
    // After the restart the stream holds both messages: messages 2, first_seq 1, last_seq 2.
    const st = (await streamInfo(nc, "TEST")).state;
    assertEquals([st.messages, st.first_seq, st.last_seq], [2, 1, 2]);
  },
});

// Cluster-only (raft entry encoding and proposals, replicas, leader changes): not ported.
for (
  const [name, what] of [
    ["TestJetStreamAtomicBatchPublishEncode", "raft stream-message entry encoding of batch messages"],
    ["TestJetStreamAtomicBatchPublishProposeOne", "a batch inside one raft append entry"],
    ["TestJetStreamAtomicBatchPublishProposeMultiple", "a batch over several raft append entries"],
    [
      "TestJetStreamAtomicBatchPublishProposeOnePartialBatch",
      "a partially proposed batch is rejected by replicas",
    ],
    [
      "TestJetStreamAtomicBatchPublishProposeMultiplePartialBatches",
      "a partially proposed batch before a full one is rejected by replicas",
    ],
    [
      "TestJetStreamAtomicBatchPublishContinuousBatchesStillMoveAppliedUp",
      "raft applied index moves with batches in flight; a new leader rejects a stranded batch",
    ],
    ["TestJetStreamRollupIsolatedRead", "a replica's reads wait for a rollup being applied"],
  ] as const
) {
  Deno.test({
    name: `${name}: ${what} (cluster-only)`,
    ignore: true,
    // blocked: clustered JetStream (raft) is not built; these tests drive raft entries and replicas directly.
    fn: () => fail(`${name} needs a JetStream cluster`),
  });
}

Deno.test("TestJetStreamAtomicBatchPublishAdvisories: gaps and oversized batches are abandoned with an advisory (R1)", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  await createStream(nc, { name: "TEST", subjects: ["foo"], storage: "file", "allow_atomic": true });
  const sub = nc.subscribe("$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.*");
  await nc.flush();
  const it = sub[Symbol.asyncIterator]();
  const next = async () => {
    const t = setTimeout(() => sub.unsubscribe(), 2_000);
    try {
      const { value, done } = await it.next();
      assert(!done, "no advisory");
      return value.json<Record<string, unknown>>();
    } finally {
      clearTimeout(t);
    }
  };
  // A gap.
  pub(nc, "foo", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "1" });
  pub(nc, "foo", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": "3" });
  let a = await next();
  assertEquals([a.type, a.stream, a.batch, a.reason], [
    "io.nats.jetstream.advisory.v1.stream_batch_abandoned",
    "TEST",
    "uuid",
    "incomplete",
  ]);
  // More messages than a batch may hold: the commit past the limit is refused as too large.
  const count = 1002;
  for (let seq = 1; seq < count; seq++) {
    pub(nc, "foo", { "Nats-Batch-Id": "uuid", "Nats-Batch-Sequence": String(seq) });
  }
  const r = await req(nc, "foo", {
    "Nats-Batch-Id": "uuid",
    "Nats-Batch-Sequence": String(count),
    "Nats-Batch-Commit": "1",
  });
  assertEquals(r.error, err400(10199, "atomic publish batch is too large: 1000"));
  a = await next();
  // The reference test of that time names the reason "timeout"; the current reason for this drop is "large".
  assertEquals([a.batch, a.reason], ["uuid", "large"]);
  assertEquals((await streamInfo(nc, "TEST")).state.messages, 0);
  sub.unsubscribe();
});

// The current reference file continues with the fast batch tests (allow_batched, the `.$FI` reply protocol);
// the stored copy of the reference these ports follow ends above. The one fast batch test whose text is known:

/**
 * The reply subject of a fast batch message: `<inbox>.$FI.…` carrying the batch id, sequence, flow, gap mode and
 * operation. Its exact token layout is not known here (fast batch publish is not built).
 */
function fastBatchReply(
  inbox: string,
  id: string,
  seq: number,
  flow: number,
  gap: string,
  op: string,
): string {
  return fail(`fast batch reply for ${inbox} ${id} ${seq} ${flow} ${gap} ${op}: protocol not built`);
}

Deno.test({
  name:
    "TestJetStreamFastBatchPublishPingCannotStartBatch: a ping at batch sequence 1 does not start a batch",
  ignore: true,
  // blocked: fast batch publish (allow_batched, API level 4) is not built
  fn: async () => {
    await using s = await runJsServer();
    const js = s.jetStream!.impl as JetStream;
    await using nc = await clientFor(s);
    await createStream(nc, { name: "TEST", subjects: ["foo"], storage: "file", "allow_batched": true });
    const inbox = `_INBOX.${crypto.randomUUID().replaceAll("-", "")}`;
    const sub = nc.subscribe(`${inbox}.>`);
    await nc.flush();
    const it = sub[Symbol.asyncIterator]();
    for (const gapMode of ["fail", "ok"]) {
      nc.publish("foo", new Uint8Array(0), { reply: fastBatchReply(inbox, "uuid", 1, 2, gapMode, "ping") });
      const { value } = await it.next();
      assertEquals((value as Msg).json<Json>().error, err400(10208, "batch publish ID unknown"), gapMode);
    }
    // Nothing in flight, and no further reply.
    assertEquals(js.batchInflight.n, 0);
    const more = await Promise.race([
      it.next().then(() => true),
      new Promise((r) => setTimeout(() => r(false), 250)),
    ]);
    assertEquals(more, false);
    sub.unsubscribe();
  },
});
