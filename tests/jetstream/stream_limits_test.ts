// Ports of stream black-box tests of nats-server server/jetstream_test.go (2.9.10): limits, retention,
// dedupe, expected headers, deletes, purge, last-by-subject and direct gets, subject details. Go test names
// kept, in Go's order; tests with Memory/File cases run both on the real stores.

import { assert, assertEquals, assertRejects } from "@std/assert";
import { headers } from "@nats-io/nats-core";
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options, startServer } from "../../src/natsdeno.ts";
import { clientFor, jsApi, type TestServer } from "./_helpers.ts";
import { checkFor } from "../_helpers/server.ts";
import { configToOptions, parseConfig } from "../../src/config/mod.ts";
import { connect } from "@nats-io/transport-node";

const enc = new TextEncoder();
const dec = new TextDecoder();
const STORAGES = [StorageType.Memory, StorageType.File];

/** A JetStream server with the real stores (MemStore and FileStore) in a fresh store dir. */
async function runServer(opts: Partial<Options> = {}): Promise<TestServer> {
  const storeDir = opts.storeDir ?? await Deno.makeTempDir({ prefix: "natsdeno-jsl-" });
  const full = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir, ...opts });
  const log = new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: false }, true);
  return await startServer(full, { log }) as TestServer;
}

/** Publishes with headers; the parsed PubAck or error reply. */
async function pubRaw(
  nc: NatsConnection,
  subject: string,
  data = "",
  hdrs: Record<string, string> = {},
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const h = headers();
  for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
  const m = await nc.request(subject, enc.encode(data), {
    timeout: 2_000,
    headers: Object.keys(hdrs).length ? h : undefined,
  });
  return JSON.parse(dec.decode(m.data));
}

Deno.test("TestJetStreamWorkQueueRetentionStream: acked messages leave a work queue; consumers may not overlap", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: "MWQ",
    subjects: ["MY_WORK_QUEUE.>"],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.Memory,
  });
  // A second unfiltered consumer is refused; so is an overlapping filtered one.
  await jsm.consumers.add("MWQ", { durable_name: "PBO", ack_policy: AckPolicy.Explicit });
  await assertRejects(() => jsm.consumers.add("MWQ", { durable_name: "X", ack_policy: AckPolicy.Explicit }));
  await jsm.consumers.delete("MWQ", "PBO");
  await jsm.consumers.add("MWQ", {
    durable_name: "A",
    ack_policy: AckPolicy.Explicit,
    filter_subject: "MY_WORK_QUEUE.A",
  });
  await assertRejects(() =>
    jsm.consumers.add("MWQ", {
      durable_name: "B",
      ack_policy: AckPolicy.Explicit,
      filter_subject: "MY_WORK_QUEUE.*",
    })
  );
  await jsm.consumers.add("MWQ", {
    durable_name: "B",
    ack_policy: AckPolicy.Explicit,
    filter_subject: "MY_WORK_QUEUE.B",
  });
  for (let i = 0; i < 5; i++) {
    await pubRaw(nc, "MY_WORK_QUEUE.A", "a");
    await pubRaw(nc, "MY_WORK_QUEUE.B", "b");
  }
  assertEquals((await jsm.streams.info("MWQ")).state.messages, 10);
  const js = jetstream(nc);
  const c = await js.consumers.get("MWQ", "A");
  const batch = await c.fetch({ max_messages: 5, expires: 1_000 });
  for await (const m of batch) await m.ackAck();
  const st = (await jsm.streams.info("MWQ")).state;
  assertEquals(st.messages, 5);
  // Work queue consumers must deliver all and ack explicitly.
  await assertRejects(() =>
    jsm.consumers.add("MWQ", {
      durable_name: "C",
      ack_policy: AckPolicy.None,
      filter_subject: "MY_WORK_QUEUE.C",
    })
  );
});

Deno.test("TestJetStreamInterestRetentionWithWildcardsAndFilteredConsumers: only filtered interest keeps messages", async (t) => {
  for (const storage of STORAGES) {
    await t.step(storage, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({
        name: "DCWC",
        subjects: ["foo.*"],
        storage,
        retention: RetentionPolicy.Interest,
      });
      for (let i = 0; i < 10; i++) await pubRaw(nc, "foo.bar", "Hello World!");
      assertEquals((await jsm.streams.info("DCWC")).state.messages, 0);
      await jsm.consumers.add("DCWC", {
        durable_name: "ddd",
        filter_subject: "foo.bar",
        ack_policy: AckPolicy.Explicit,
      });
      await pubRaw(nc, "foo.bar", "Hello World!");
      let st = (await jsm.streams.info("DCWC")).state;
      assertEquals([st.messages, st.first_seq], [1, 11]);
      // No interest in foo.baz: not kept.
      await pubRaw(nc, "foo.baz", "Hello World!");
      st = (await jsm.streams.info("DCWC")).state;
      assertEquals(st.messages, 1);
    });
  }
});

Deno.test("TestJetStreamStreamStorageTrackingAndLimits: account memory usage follows stored bytes and caps publishing", async () => {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jsl-" });
  const opts = configToOptions(parseConfig(`
    accounts: { A: { jetstream: { max_mem: 8192, max_store: -1 }, users: [ { user: a, password: a } ] } }`));
  await using s = await runServer({ ...opts, jetStream: true, host: "127.0.0.1", port: 0, storeDir });
  const nc = await connect({ servers: `127.0.0.1:${s.port}`, user: "a", pass: "a" });
  try {
    const usage = async () => (await jsApi(nc, "$JS.API.INFO")).memory as number;
    const info = async (n: string) => (await jsApi(nc, `$JS.API.STREAM.INFO.${n}`)).state;
    for (const name of ["LIMITS", "NUM22"]) {
      const r = await jsApi(nc, `$JS.API.STREAM.CREATE.${name}`, {
        name,
        subjects: [name],
        storage: "memory",
        retention: "workqueue",
      });
      assert(r.error === undefined, JSON.stringify(r.error));
    }
    for (let i = 0; i < 20; i++) await pubRaw(nc, "LIMITS", "Hello World!");
    const st = await info("LIMITS");
    assertEquals(await usage(), st.bytes);
    assertEquals((await jsApi(nc, "$JS.API.INFO")).streams, 2);
    for (let i = 0; i < 20; i++) await pubRaw(nc, "NUM22", "Hello World!");
    const st2 = await info("NUM22");
    assertEquals(await usage(), st.bytes + st2.bytes);
    await jsApi(nc, "$JS.API.STREAM.DELETE.NUM22");
    assertEquals(await usage(), st.bytes);
    // Drain LIMITS through a work queue consumer: usage drops to 0.
    const c = await jsApi(nc, "$JS.API.CONSUMER.CREATE.LIMITS.WQ", {
      "stream_name": "LIMITS",
      config: { "durable_name": "WQ", "ack_policy": "explicit" },
    });
    assert(c.error === undefined, JSON.stringify(c.error));
    for (let i = 0; i < 20; i++) {
      const m = await nc.request("$JS.API.CONSUMER.MSG.NEXT.LIMITS.WQ", new Uint8Array(0), {
        timeout: 1_000,
        noMux: true,
      });
      await nc.request(m.reply!, new Uint8Array(0), { timeout: 1_000 });
    }
    await checkFor(1_000, 15, async () => {
      const u = await usage();
      if (u !== 0) throw new Error(`usage ${u}`);
    });
    // Publish until the account limit refuses.
    let errSeen = "";
    for (let i = 0; i < 400; i++) {
      const a = await pubRaw(nc, "LIMITS", "The quick brown fox jumped over the...");
      if (a.error) {
        errSeen = a.error.description;
        break;
      }
    }
    assertEquals(errSeen, "resource limits exceeded for account");
    assert(await usage() <= 8192 + 100, "usage stays near the limit");
  } finally {
    await nc.close();
  }
});

Deno.test("TestJetStreamFilteredStreamNames: STREAM.NAMES filters by subject", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const subjectsOf = [["foo"], ["bar"], ["baz"], ["foo.*", "bar.*"], ["foo-1.22", "bar-1.33"]];
  for (const [i, subjects] of subjectsOf.entries()) {
    const r = await jsApi(nc, `$JS.API.STREAM.CREATE.S-${i + 1}`, {
      name: `S-${i + 1}`,
      subjects,
      storage: "memory",
    });
    assert(r.error === undefined);
  }
  const expectStreams = async (filter: string, want: string[]) => {
    const r = await jsApi(nc, "$JS.API.STREAM.NAMES", { subject: filter });
    assertEquals([...(r.streams ?? [])].sort(), want, filter);
    assertEquals(r.total, want.length);
  };
  await expectStreams("foo", ["S-1"]);
  await expectStreams("bar", ["S-2"]);
  await expectStreams("baz", ["S-3"]);
  await expectStreams("*", ["S-1", "S-2", "S-3"]);
  await expectStreams(">", ["S-1", "S-2", "S-3", "S-4", "S-5"]);
  await expectStreams("*.*", ["S-4", "S-5"]);
  await expectStreams("*.22", ["S-4", "S-5"]);
});

Deno.test("TestJetStreamDeleteMsg: deleting moves first seq and counts, on both stores", async (t) => {
  for (const storage of STORAGES) {
    await t.step(storage, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "foo", subjects: ["foo"], storage, max_age: 3600e9 });
      for (let i = 0; i < 10; i++) await pubRaw(nc, "foo", "Hello World!");
      let st = (await jsm.streams.info("foo")).state;
      assertEquals(st.messages, 10);
      const per = st.bytes / 10;
      assert(per > 0);
      const deleteAndCheck = async (seq: number, first: number) => {
        const before = (await jsm.streams.info("foo")).state;
        assert(await jsm.streams.deleteMessage("foo", seq));
        const after = (await jsm.streams.info("foo")).state;
        assertEquals(after.messages, before.messages - 1);
        assertEquals(after.bytes, before.bytes - per);
        assertEquals(after.first_seq, first);
        assertEquals(after.last_seq, before.last_seq);
      };
      await deleteAndCheck(5, 1);
      await deleteAndCheck(1, 2);
      await deleteAndCheck(10, 2);
      await deleteAndCheck(3, 2);
      await deleteAndCheck(2, 4);
      st = (await jsm.streams.info("foo")).state;
      assertEquals(st.messages, 5);
      // A deleted sequence is gone for good.
      await assertRejects(() => jsm.streams.deleteMessage("foo", 5));
      // Publishing continues the sequence.
      const ack = await pubRaw(nc, "foo", "x");
      assertEquals(ack.seq, 11);
    });
  }
});

Deno.test("TestJetStreamLastSequenceBySubject: Nats-Expected-Last-Subject-Sequence per subject", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: "KV",
    subjects: ["kv.>"],
    max_msgs_per_subject: 1,
    storage: StorageType.Memory,
  });
  const js = jetstream(nc);
  const a1 = await js.publish("kv.a", "1");
  await js.publish("kv.b", "1");
  // The last sequence of kv.a is a1.seq whatever kv.b did.
  const a2 = await js.publish("kv.a", "2", { expect: { lastSubjectSequence: a1.seq } });
  assertEquals(a2.seq, 3);
  await assertRejects(() => js.publish("kv.a", "3", { expect: { lastSubjectSequence: a1.seq } }));
  const e = await pubRaw(nc, "kv.a", "3", { "Nats-Expected-Last-Subject-Sequence": "1" });
  assertEquals(e.error, { code: 400, "err_code": 10071, description: "wrong last sequence: 3" });
});

Deno.test("TestJetStreamConsumerPendingBugWithKV: last-per-subject on a KV-like stream counts each key once", async (t) => {
  for (const storage of STORAGES) {
    await t.step(storage, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "KV", subjects: ["kv.>"], storage, max_msgs_per_subject: 1 });
      const js = jetstream(nc);
      for (const [k, v] of [["kv.1", "1"], ["kv.2", "2"], ["kv.3", "3"], ["kv.1", "4"]]) {
        await js.publish(k, v);
      }
      assertEquals((await jsm.streams.info("KV")).state.messages, 3);
      const ci = await jsm.consumers.add("KV", {
        durable_name: "dlc",
        deliver_subject: "xxx",
        deliver_policy: DeliverPolicy.LastPerSubject,
        filter_subject: ">",
      });
      assertEquals(ci.num_pending, 3);
    });
  }
});

Deno.test("TestJetStreamDefaultMaxMsgsPer: max_msgs_per_subject defaults to -1", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  const si = await jsm.streams.add({ name: "TEST", subjects: ["foo"], storage: StorageType.Memory });
  assertEquals(si.config.max_msgs_per_subject, -1);
});

Deno.test("TestJetStreamPublishExpectNoMsg: expected last subject sequence 0 means no message yet", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: "KV",
    subjects: ["KV.>"],
    max_msgs_per_subject: 5,
    storage: StorageType.Memory,
  });
  await pubRaw(nc, "KV.22", "hello world");
  const ok = await pubRaw(nc, "KV.33", "", { "Nats-Expected-Last-Subject-Sequence": "0" });
  assertEquals(ok.seq, 2);
  const bad = await pubRaw(nc, "KV.22", "", { "Nats-Expected-Last-Subject-Sequence": "0" });
  assertEquals(bad.error.err_code, 10071);
  await jsm.streams.purge("KV");
  const again = await pubRaw(nc, "KV.22", "", { "Nats-Expected-Last-Subject-Sequence": "0" });
  assert(again.error === undefined, JSON.stringify(again));
});

Deno.test("TestJetStreamNegativeDupeWindow: a negative max_age refuses the stream (negative duplicates window)", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.TEST", {
    name: "TEST",
    retention: "workqueue",
    "max_consumers": 1,
    "max_msgs": -1,
    "max_bytes": -1,
    discard: "new",
    "max_age": -1,
    "max_msgs_per_subject": -1,
    "max_msg_size": -1,
    storage: "file",
    "num_replicas": 1,
  });
  assertEquals(r.error, {
    code: 500,
    "err_code": 10052,
    description: "duplicates window can not be negative",
  });
});

Deno.test("TestJetStreamMessagePerSubjectKeepBug: max_msgs_per_subject keeps the newest per subject", async (t) => {
  for (const storage of STORAGES) {
    await t.step(storage, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "TEST", subjects: ["foo"], max_msgs_per_subject: 2, storage });
      for (let i = 0; i < 100; i++) await pubRaw(nc, "foo", `m${i}`);
      const st = (await jsm.streams.info("TEST")).state;
      assertEquals(st.messages, 2);
      assertEquals(st.first_seq, 99);
      const m = await jsm.streams.getMessage("TEST", { seq: 100 });
      assertEquals(m?.string(), "m99");
    });
  }
});

Deno.test("TestJetStreamMaxMsgsPerSubjectWithDiscardNew: per-subject limits act as discard old, others refuse", async (t) => {
  for (const storage of STORAGES) {
    await t.step(storage, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({
        name: "TEST",
        subjects: ["foo", "bar", "baz", "x"],
        discard: DiscardPolicy.New,
        storage,
        max_msgs_per_subject: 4,
        max_msgs: 10,
        max_bytes: 500,
      });
      const pubAndCheck = async (subj: string, n: number, want: number) => {
        for (let i = 0; i < n; i++) {
          const a = await pubRaw(nc, subj, "TSLA");
          assert(a.error === undefined, JSON.stringify(a));
        }
        assertEquals((await jsm.streams.info("TEST")).state.messages, want);
      };
      const pubExpectErr = async (subj: string, sz: number) => {
        const a = await pubRaw(nc, subj, "X".repeat(sz));
        assert(
          a.error?.description === "maximum bytes exceeded" ||
            a.error?.description === "maximum messages exceeded",
          JSON.stringify(a),
        );
      };
      await pubAndCheck("foo", 1, 1);
      await pubAndCheck("foo", 4, 4);
      await pubAndCheck("bar", 8, 8);
      await pubAndCheck("baz", 2, 10);
      await pubAndCheck("foo", 1, 10);
      await pubAndCheck("bar", 1, 10);
      await pubExpectErr("bar", 300);
      await pubExpectErr("x", 2);
    });
  }
});

Deno.test("TestJetStreamStreamInfoSubjectsDetailsWithDeleteAndPurge: subject counts follow deletes and purges", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "TEST", subjects: ["*"], storage: StorageType.Memory });
  for (let i = 0; i < 10; i++) {
    await pubRaw(nc, "X", "ok");
    await pubRaw(nc, "Y", "ok");
    await pubRaw(nc, "Z", "ok");
  }
  const subjects = async () =>
    (await jsm.streams.info("TEST", { subjects_filter: ">" })).state.subjects ?? {};
  assertEquals(await subjects(), { X: 10, Y: 10, Z: 10 });
  // Delete one X, one Y.
  assert(await jsm.streams.deleteMessage("TEST", 1));
  assert(await jsm.streams.deleteMessage("TEST", 2));
  assertEquals(await subjects(), { X: 9, Y: 9, Z: 10 });
  await jsm.streams.purge("TEST", { filter: "Z" });
  assertEquals(await subjects(), { X: 9, Y: 9 });
  await jsm.streams.purge("TEST", { filter: "X", keep: 2 });
  assertEquals(await subjects(), { X: 2, Y: 9 });
  await jsm.streams.purge("TEST");
  assertEquals(await subjects(), {});
});

Deno.test("TestJetStreamStreamRepublishOneTokenMatch: republish of a matching subject carries the message", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.Stream1", {
    name: "Stream1",
    storage: "memory",
    subjects: ["one", "four"],
    republish: { src: "one", dest: "uno", "headers_only": false },
  });
  assert(r.error === undefined, JSON.stringify(r.error));
  const got: { data: number; stream: string; seq: string }[] = [];
  const sub = nc.subscribe("uno", {
    callback: (_e, m) => {
      got.push({
        data: m.data.length,
        stream: m.headers?.get("Nats-Stream") ?? "",
        seq: m.headers?.get("Nats-Sequence") ?? "",
      });
    },
  });
  await nc.flush();
  const js = jetstream(nc);
  for (let i = 0; i < 100; i++) await js.publish("one", enc.encode("Z".repeat(512)));
  await js.publish("four", "not republished");
  await nc.flush();
  sub.unsubscribe();
  assertEquals(got.length, 100);
  assertEquals(got[0], { data: 512, stream: "Stream1", seq: "1" });
});

Deno.test("TestJetStreamStreamRepublishHeadersOnly: headers_only republish sends Nats-Msg-Size and no body", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.RPC", {
    name: "RPC",
    storage: "memory",
    subjects: ["foo", "bar", "baz"],
    republish: { dest: "RP.>", "headers_only": true },
  });
  assert(r.error === undefined, JSON.stringify(r.error));
  const got: { len: number; size: string; subject: string }[] = [];
  const sub = nc.subscribe("RP.>", {
    callback: (_e, m) => {
      got.push({ len: m.data.length, size: m.headers?.get("Nats-Msg-Size") ?? "", subject: m.subject });
    },
  });
  await nc.flush();
  const js = jetstream(nc);
  for (let i = 0; i < 100; i++) await js.publish("foo", enc.encode("Z".repeat(512)));
  await nc.flush();
  sub.unsubscribe();
  assertEquals(got.length, 100);
  assertEquals(got[0], { len: 0, size: "512", subject: "RP.foo" });
});

Deno.test("TestJetStreamDirectMsgGetNext: direct get next_by_subj walks a subject", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: "TEST",
    subjects: ["foo.*"],
    storage: StorageType.Memory,
    allow_direct: true,
  });
  for (let i = 0; i < 10; i++) {
    await pubRaw(nc, "foo.A", `A${i}`);
    await pubRaw(nc, "foo.B", `B${i}`);
  }
  // Next A from sequence 1 onwards, sequence by sequence.
  let seq = 1;
  for (let i = 0; i < 10; i++) {
    const m = await jsm.direct.getMessage("TEST", { seq, "next_by_subj": "foo.A" });
    assert(m !== null);
    assertEquals(m.string(), `A${i}`);
    assertEquals(m.subject, "foo.A");
    seq = m.seq + 1;
  }
  // Past the last A: 404.
  const r = await nc.request(
    "$JS.API.DIRECT.GET.TEST",
    enc.encode(JSON.stringify({ seq, "next_by_subj": "foo.A" })),
  );
  assertEquals(r.headers?.code, 404);
  assertEquals(r.headers?.description, "Message Not Found");
});

Deno.test("TestJetStreamDirectGetBySubject: direct get last-by-subject honours publish permissions", async () => {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jsl-" });
  const opts = configToOptions(parseConfig(`
    ONLYME = { publish = { allow = "$JS.API.DIRECT.GET.KV.vid.22.>" } }
    accounts: {
      A: {
        jetstream: enabled
        users: [ { user: admin, password: s3cr3t }, { user: user, password: pwd, permissions: $ONLYME } ]
      }
    }`));
  await using s = await runServer({ ...opts, jetStream: true, host: "127.0.0.1", port: 0, storeDir });
  const nc = await connect({ servers: `127.0.0.1:${s.port}`, user: "admin", pass: "s3cr3t" });
  try {
    let r = await jsApi(nc, "$JS.API.STREAM.CREATE.KV", {
      name: "KV",
      storage: "memory",
      subjects: ["vid.*.>"],
      "max_msgs_per_subject": 1,
      "allow_direct": true,
    });
    assert(r.error === undefined, JSON.stringify(r.error));
    r = await jsApi(nc, "$JS.API.STREAM.CREATE.M", {
      name: "M",
      storage: "memory",
      mirror: { name: "KV" },
      "mirror_direct": true,
    });
    assert(r.error === undefined, JSON.stringify(r.error));
    await pubRaw(nc, "vid.22.speed", "100");
    await pubRaw(nc, "vid.33.speed", "55");
  } finally {
    await nc.close();
  }
  const uc = await connect({ servers: `127.0.0.1:${s.port}`, user: "user", pass: "pwd" });
  try {
    const m = await uc.request("$JS.API.DIRECT.GET.KV.vid.22.speed", new Uint8Array(0), { timeout: 1_000 });
    assertEquals(dec.decode(m.data), "100");
    await assertRejects(() =>
      uc.request("$JS.API.DIRECT.GET.KV.vid.33.speed", new Uint8Array(0), { timeout: 200 })
    );
  } finally {
    await uc.close().catch(() => {});
  }
});

Deno.test("TestJetStreamMsgIDHeaderCollision: a header whose name ends in Nats-Msg-Id is not a msg id", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "TEST", subjects: ["foo"], storage: StorageType.Memory });
  const a1 = await pubRaw(nc, "foo", "a", { "Original-Nats-Msg-Id": "X" });
  const a2 = await pubRaw(nc, "foo", "b", { "Original-Nats-Msg-Id": "X" });
  assertEquals([a1.seq, a2.seq, a2.duplicate], [1, 2, undefined]);
  const a3 = await pubRaw(nc, "foo", "c", { "Nats-Msg-Id": "X" });
  const a4 = await pubRaw(nc, "foo", "d", { "Nats-Msg-Id": "X" });
  assertEquals([a3.seq, a4.seq, a4.duplicate], [3, 3, true]);
});
