// Ports of the single-server tests of the current nats-server server/jetstream_test.go that the 2.9.10 file did
// not have: usage reservations, consumer type changes, advisories across accounts, expected-last-subject
// headers, mirrors and sources (header stripping, transforms, work queue limits, KV origins), encryption across
// restarts, multi-filter consumers, KV deletes and history, store faults on disk, purges with pending acks,
// re-encryption, per-subject limit changes. Go test names kept, in Go's order; tests that need a cluster, leaf
// nodes or something natsdeno has not built stay ignored with the reason (still written out).

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KvWatchEntry } from "@nats-io/kv";
import { healthz } from "../../src/monitor/mod.ts";
import { checkFor, delay } from "../_helpers/server.ts";
import {
  ackMeta,
  ackSync,
  addConsumer,
  addStream,
  clientFor,
  consumerInfo,
  createConsumer,
  dec,
  enc,
  fetch,
  hdrs,
  inbox,
  jsApi,
  type Json,
  publish,
  restart,
  runRealJs,
  SEC,
  send,
  startWith,
  streamInfo,
  SyncSub,
  type TestServer,
  updateStream,
} from "./_js_common.ts";
import {
  createConfFile,
  loadConf,
  monitorJson,
  runServerWithConfig,
  subscribeSync,
} from "./_ports_b_helpers.ts";

/** RunBasicJetStreamServer: the real stores, a fresh store dir. */
function runBasic(): Promise<TestServer> {
  return runRealJs({}, "natsdeno-jspc-");
}

/** A fresh temp dir for a config's store_dir. */
function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "natsdeno-jspc-" });
}

/** $JS.API.INFO (account info); fails on an API error. */
async function accountInfo(nc: NatsConnection): Promise<Json> {
  const r = await jsApi(nc, "$JS.API.INFO");
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** The stream directory of `name` in the global account. */
function streamDir(storeDir: string, name: string): string {
  return `${storeDir}/jetstream/$G/streams/${name}`;
}

/** The .blk files of a stream, in block order. */
function blkFiles(storeDir: string, name: string): string[] {
  const dir = `${streamDir(storeDir, name)}/msgs`;
  const out: [number, string][] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile && e.name.endsWith(".blk")) out.push([parseInt(e.name), `${dir}/${e.name}`]);
  }
  return out.sort((a, b) => a[0] - b[0]).map((x) => x[1]);
}

/** Collects the messages of a KV watcher for `ms` (nats.go's WatchAll up to the initial-values nil). */
async function watchFor(
  it: AsyncIterable<KvWatchEntry> & { stop(): void },
  ms: number,
): Promise<KvWatchEntry[]> {
  const out: KvWatchEntry[] = [];
  const done = (async () => {
    for await (const e of it) out.push(e);
  })();
  await delay(ms);
  it.stop();
  await done;
  return out;
}

Deno.test("TestJetStreamUsageNoReservation: streams without max_bytes reserve no memory or store", async (t) => {
  await t.step("R1", async () => {
    await using s = await runRealJs({ httpPort: -1 }, "natsdeno-jspc-");
    await using nc = await clientFor(s);
    await addStream(nc, { name: "FILE", storage: "file", "num_replicas": 1 });
    await addStream(nc, { name: "MEM", storage: "memory", "num_replicas": 1 });
    await checkFor(2_000, 50, async () => assertEquals((await accountInfo(nc)).streams, 2));
    const ai = await accountInfo(nc);
    assertEquals(ai.reserved_storage ?? 0, 0);
    assertEquals(ai.reserved_memory ?? 0, 0);
    // The server-wide view must agree.
    const jsz = await monitorJson(s, "/jsz");
    assertEquals(jsz.reserved_memory ?? 0, 0);
    assertEquals(jsz.reserved_storage ?? 0, 0);
  });
  // blocked: the R3 subtest needs a 3-server JetStream cluster, which natsdeno does not have.
  await t.step({ name: "R3", ignore: true, fn() {} });
});

Deno.test("TestJetStreamChangeConsumerType: a pull consumer cannot become push, nor push become pull", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["test.*"] });
  await addConsumer(nc, "TEST", { name: "pull", "ack_policy": "explicit" });
  let r = await createConsumer(nc, "TEST", {
    name: "pull",
    "ack_policy": "explicit",
    "deliver_subject": "foo",
  }, {
    action: "update",
  });
  assertStringIncludes(r.error?.description ?? "", "can not update pull consumer to push based");
  await addConsumer(nc, "TEST", { name: "push", "ack_policy": "explicit", "deliver_subject": "foo" });
  r = await createConsumer(nc, "TEST", { name: "push", "ack_policy": "explicit" }, { action: "update" });
  assertStringIncludes(r.error?.description ?? "", "can not update push consumer to pull based");
});

/** Reads `n` messages of `sub` and counts them per subject. */
async function subjectsOf(sub: SyncSub, n: number, ms = 2_000): Promise<Map<string, Msg[]>> {
  const got = new Map<string, Msg[]>();
  for (let i = 0; i < n; i++) {
    const m = await sub.must(ms);
    got.set(m.subject, [...(got.get(m.subject) ?? []), m]);
  }
  return got;
}

Deno.test("TestJetStreamAccountImportJSAdvisoriesAsService: advisories reach an aggregating account through a service import", async () => {
  const conf = await createConfFile(`
    listen=127.0.0.1:-1
    no_auth_user: pp
    jetstream: {max_mem_store: 64GB, max_file_store: 10TB, store_dir: '${await tempDir()}'}
    accounts {
      JS {
        jetstream: enabled
        users: [ {user: pp, password: foo} ]
        imports [
          { service: { account: AGG, subject: '$JS.EVENT.ADVISORY.ACC.JS.>' }, to: '$JS.EVENT.ADVISORY.>' }
        ]
      }
      AGG {
        users: [ {user: agg, password: foo} ]
        exports: [
          { service: '$JS.EVENT.ADVISORY.ACC.*.>', response: Singleton, account_token_position: 5 }
        ]
      }
    }`);
  await using s = await runServerWithConfig(conf);
  await using ncJS = await clientFor(s);
  await using ncAgg = await clientFor(s, { user: "agg", pass: "foo" });
  const subJS = new SyncSub(ncJS, "$JS.EVENT.ADVISORY.>");
  await ncJS.flush();
  const subAgg = new SyncSub(ncAgg, "$JS.EVENT.ADVISORY.ACC.JS.>");
  await ncAgg.flush();
  await addStream(ncJS, { name: "ORDERS", subjects: ["ORDERS.*"] });
  const js = await subjectsOf(subJS, 2);
  assertEquals(js.get("$JS.EVENT.ADVISORY.STREAM.CREATED.ORDERS")?.length, 1);
  assertEquals(js.get("$JS.EVENT.ADVISORY.API")?.length, 1);
  const agg = await subjectsOf(subAgg, 2);
  for (const [, ms] of agg) {
    for (const m of ms) {
      const adv = m.json<Json>();
      // Full fidelity client info through the implicit share.
      if (adv.client) {
        assert(adv.client.host, "client host");
        assert(adv.client.user, "client user");
        assert(adv.client.lang, "client lang");
      }
    }
  }
  assertEquals(agg.get("$JS.EVENT.ADVISORY.ACC.JS.STREAM.CREATED.ORDERS")?.length, 1);
  assertEquals(agg.get("$JS.EVENT.ADVISORY.ACC.JS.API")?.length, 1);
});

Deno.test("TestJetStreamAccountImportJSAdvisoriesAsStream: advisories reach an aggregating account through a stream import", async () => {
  const conf = await createConfFile(`
    listen=127.0.0.1:-1
    no_auth_user: pp
    jetstream: {max_mem_store: 64GB, max_file_store: 10TB, store_dir: '${await tempDir()}'}
    accounts {
      JS {
        jetstream: enabled
        users: [ {user: pp, password: foo} ]
        exports [
          { stream: '$JS.EVENT.ADVISORY.>' }
        ]
      }
      AGG {
        users: [ {user: agg, password: foo} ]
        imports: [
          { stream: { account: JS, subject: '$JS.EVENT.ADVISORY.>' }, to: '$JS.EVENT.ADVISORY.ACC.JS.>' }
        ]
      }
    }`);
  await using s = await runServerWithConfig(conf);
  await using ncJS = await clientFor(s);
  await using ncAgg = await clientFor(s, { user: "agg", pass: "foo" });
  const subJS = new SyncSub(ncJS, "$JS.EVENT.ADVISORY.>");
  await ncJS.flush();
  const subAgg = new SyncSub(ncAgg, "$JS.EVENT.ADVISORY.ACC.JS.>");
  await ncAgg.flush();
  await addStream(ncJS, { name: "ORDERS", subjects: ["ORDERS.*"] });
  const js = await subjectsOf(subJS, 2);
  assertEquals([...js.keys()].sort(), ["$JS.EVENT.ADVISORY.API", "$JS.EVENT.ADVISORY.STREAM.CREATED.ORDERS"]);
  const agg = await subjectsOf(subAgg, 2);
  assertEquals([...agg.keys()].sort(), [
    "$JS.EVENT.ADVISORY.ACC.JS.API",
    "$JS.EVENT.ADVISORY.ACC.JS.STREAM.CREATED.ORDERS",
  ]);
});

// Go runs this on an R3 stream of a 3-server cluster; the header semantics are the same on one server (R1).
Deno.test("TestJetStreamLastSequenceBySubjectWithSubject: Nats-Expected-Last-Subject-Sequence-Subject narrows the check", async (t) => {
  for (const st of ["file", "memory"]) {
    await t.step(st === "file" ? "File" : "Memory", async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "KV", subjects: ["kv.>"], storage: st, "max_msgs_per_subject": 1 });
      for (
        const [subj, v] of [
          ["kv.1.foo", "1:1"],
          ["kv.1.bar", "1:2"],
          ["kv.2.foo", "2:1"],
          ["kv.3.bar", "3:1"],
          [
            "kv.1.baz",
            "1:3",
          ],
          ["kv.1.bar", "1:4"],
          ["kv.2.baz", "2:2"],
        ]
      ) {
        await send(nc, subj, v);
      }
      const pubAndCheck = async (subj: string, filter: string, seq: string, ok: boolean) => {
        const r = await publish(
          nc,
          subj,
          "HELLO",
          hdrs(["Nats-Expected-Last-Subject-Sequence", seq], [
            "Nats-Expected-Last-Subject-Sequence-Subject",
            filter,
          ]),
        );
        assertEquals(r.error === undefined, ok, `${subj} ${filter} ${seq}: ${JSON.stringify(r)}`);
      };
      await pubAndCheck("kv.1.foo", "kv.1.*", "0", false);
      await pubAndCheck("kv.1.bar", "kv.1.*", "0", false);
      await pubAndCheck("kv.1.xxx", "kv.1.*", "0", false);
      await pubAndCheck("kv.1.foo", "kv.1.*", "1", false);
      await pubAndCheck("kv.1.bar", "kv.1.*", "1", false);
      await pubAndCheck("kv.1.xxx", "kv.1.*", "1", false);
      await pubAndCheck("kv.2.foo", "kv.2.*", "1", false);
      await pubAndCheck("kv.2.bar", "kv.2.*", "1", false);
      await pubAndCheck("kv.2.xxx", "kv.2.*", "1", false);
      await pubAndCheck("kv.1.bar", "kv.1.*", "2", false);
      await pubAndCheck("kv.1.bar", "kv.1.*", "3", false);
      await pubAndCheck("kv.1.bar", "kv.1.*", "4", false);
      await pubAndCheck("kv.1.bar", "kv.1.*", "5", false);
      await pubAndCheck("kv.1.bar", "kv.1.*", "6", true);
      await pubAndCheck("kv.1.baz", "kv.1.*", "2", false);
      await pubAndCheck("kv.1.bar", "kv.1.*", "7", false);
      await pubAndCheck("kv.1.xxx", "kv.1.*", "8", true);
      await pubAndCheck("kv.2.foo", "kv.2.*", "2", false);
      await pubAndCheck("kv.2.foo", "kv.2.*", "7", true);
      await pubAndCheck("kv.xxx", "kv.*", "0", true);
      await pubAndCheck("kv.xxx", "kv.*.*", "0", false);
      await pubAndCheck("kv.3.xxx", "kv.3.*", "4", true);
      await pubAndCheck("kv.3.xyz", "kv.3.*", "12", true);
    });
  }
});

Deno.test("TestJetStreamMirrorStripExpectedHeaders: a mirror stores a message published with Nats-Expected-Stream", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "S", subjects: ["foo"] });
  await addStream(nc, { name: "M", mirror: { name: "S" } });
  assertEquals((await send(nc, "foo")).seq, 1);
  await checkFor(2_000, 50, async () => assertEquals((await streamInfo(nc, "M")).state.messages, 1));
  assertEquals((await send(nc, "foo", "", hdrs(["Nats-Expected-Stream", "S"]))).seq, 2);
  await checkFor(2_000, 50, async () => assertEquals((await streamInfo(nc, "M")).state.messages, 2));
});

Deno.test("TestJetStreamSourceWorkingQueueWithLimit: a discard-new work queue source keeps flowing as acks free room", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "test", subjects: ["test"] });
  await addStream(nc, {
    name: "wq",
    "max_msgs": 100,
    discard: "new",
    retention: "workqueue",
    sources: [{ name: "test" }],
  });
  for (let i = 0; i < 300; i++) await send(nc, "test", "OK");
  await checkFor(3_000, 250, async () => assertEquals((await streamInfo(nc, "wq")).state.messages, 100));
  await addConsumer(nc, "wq", { "durable_name": "wqc", "filter_subject": "test", "ack_policy": "explicit" });
  let failure: unknown;
  const consume = (async () => {
    for (let i = 0; i < 300; i++) {
      const m = await fetch(nc, "wq", "wqc", 1, 3_000);
      assertEquals(m.length, 1, `fetch ${i}`);
      await delay(11);
      m[0].respond();
    }
  })().catch((e) => failure = e);
  await checkFor(8_000, 100, async () => {
    const n = (await streamInfo(nc, "wq")).state.messages;
    assert(n <= 100, `more than the 100 message limit: ${n}`);
    assertEquals(n, 0);
  });
  await consume;
  assertEquals(failure, undefined);
});

Deno.test("TestJetStreamStreamSourceFromKV: an interest stream sourcing a KV bucket gets each revision", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  const kv = await new Kvm(nc).create("test");
  await addStream(nc, { name: "test", retention: "interest", sources: [{ name: "KV_test" }] });
  await addConsumer(nc, "test", { "durable_name": "durable", "ack_policy": "explicit" });
  const rev1 = await kv.create("key", "value1");
  let m = await fetch(nc, "test", "durable", 1, 2_000);
  assertEquals(m.length, 1);
  m[0].respond();
  assertEquals(dec.decode(m[0].data), "value1");
  const rev2 = await kv.update("key", "value2", rev1);
  await kv.update("key", "value3", rev2);
  for (const want of ["value2", "value3"]) {
    m = await fetch(nc, "test", "durable", 1, 500);
    assertEquals(m.length, 1);
    m[0].respond();
    assertEquals(dec.decode(m[0].data), want);
  }
});

Deno.test("TestJetStreamInputTransform: a stream subject transform rewrites the stored subject", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, {
    name: "T1",
    subjects: ["foo"],
    "subject_transform": { src: ">", dest: "transformed.>" },
    storage: "memory",
  });
  await send(nc, "foo", "OK");
  const r = await jsApi(nc, "$JS.API.STREAM.MSG.GET.T1", { seq: 1 });
  assertEquals(r.message?.subject, "transformed.foo");
});

Deno.test("TestJetStreamServerEncryptionServerRestarts: an encrypted store reads back after restarts, each cipher", async (t) => {
  for (const [name, cstr] of [["Default", ""], ["ChaCha", ", cipher: chacha"], ["AES", ", cipher: aes"]]) {
    await t.step(name, async () => {
      const conf = await createConfFile(`
        server_name: S22
        listen: 127.0.0.1:-1
        jetstream: {key: $JS_KEY, store_dir: '${await tempDir()}' ${cstr}}`);
      Deno.env.set("JS_KEY", "s3cr3t!!");
      let s: TestServer;
      try {
        s = await runServerWithConfig(conf);
      } finally {
        Deno.env.delete("JS_KEY");
      }
      try {
        let nc = await clientFor(s);
        await addStream(nc, { name: "TEST", subjects: ["foo"], storage: "file" });
        await nc.close();
        s = await restart(s);
        nc = await clientFor(s);
        await send(nc, "foo", "ENCRYPTED PAYLOAD!!");
        await nc.close();
        s = await restart(s);
        nc = await clientFor(s);
        const sub = await subscribeSync(nc, "TEST", { "filter_subject": "foo" });
        const m = await sub.must(1_000);
        assertEquals(ackMeta(m).sseq, 1);
        assertEquals(dec.decode(m.data), "ENCRYPTED PAYLOAD!!");
        await nc.close();
      } finally {
        await s.shutdown();
      }
    });
  }
});

Deno.test("TestJetStreamMirrorFirstSeqNotSupported: a mirror cannot set first_seq", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "SOURCE" });
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.M", {
    name: "M",
    mirror: { name: "SOURCE" },
    "first_seq": 123,
  });
  assertEquals(r.error?.err_code, 10143);
  assertEquals(r.error?.description, "stream mirrors can not have first sequence configured");
});

Deno.test("TestJetStreamStreamTransformOverlap: overlapping mirror transform sources are refused", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.>"] });
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.MIRROR", {
    name: "MIRROR",
    mirror: {
      name: "TEST",
      "subject_transforms": [{ src: "foo.*.bar", dest: "baz" }, { src: "foo.bar.*", dest: "baz" }],
    },
  });
  assert(r.error !== undefined, "expected an error");
  assertStringIncludes(r.error.description, "overlap");
});

Deno.test("TestJetStreamBothFiltersSet: filter_subject and filter_subjects together are refused (10136)", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "deliver", subjects: ["events.>"] });
  const r = await createConsumer(
    nc,
    "deliver",
    {
      "filter_subjects": ["events.one", "events.two"],
      "filter_subject": "events.three",
      "durable_name": "name",
    },
    {},
    true,
  );
  assertEquals(r.error?.err_code, 10136);
});

/** The 8 messages of the multiple-subject tests: other, events, data, events, events, other, data, data. */
async function sendMultiSubjects(nc: NatsConnection): Promise<void> {
  for (
    const [subj, v] of [
      ["other", "10"],
      ["events", "0"],
      ["data", "1"],
      ["events", "2"],
      ["events", "3"],
      [
        "other",
        "10",
      ],
      ["data", "4"],
      ["data", "5"],
    ]
  ) {
    await send(nc, subj, v);
  }
}

Deno.test("TestJetStreamMultipleSubjectsPushBasic: a push consumer with filter_subjects delivers only those", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "deliver", subjects: ["events", "data", "other"] });
  await addConsumer(nc, "deliver", {
    "filter_subjects": ["events", "data"],
    "durable_name": "name",
    "deliver_subject": "push",
    "ack_policy": "none",
  });
  const sub = new SyncSub(nc, "push");
  await nc.flush();
  await sendMultiSubjects(nc);
  for (let i = 0; i < 6; i++) assertEquals(dec.decode((await sub.must(1_000)).data), String(i));
  await checkFor(1_000, 20, async () => {
    const info = await consumerInfo(nc, "deliver", "name");
    assertEquals(info.ack_floor.consumer_seq, 6);
    assertEquals(info.ack_floor.stream_seq, 8);
  });
});

Deno.test("TestJetStreamMultipleSubjectsBasic: a pull consumer with filter_subjects fetches only those", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "deliver", subjects: ["events", "data", "other"] });
  await addConsumer(nc, "deliver", { "filter_subjects": ["events", "data"], "durable_name": "name" });
  await sendMultiSubjects(nc);
  const msgs = await fetch(nc, "deliver", "name", 6, 2_000);
  assertEquals(msgs.map((m) => dec.decode(m.data)), ["0", "1", "2", "3", "4", "5"]);
  await consumerInfo(nc, "deliver", "name");
});

Deno.test("TestJetStreamKVDelete: last-per-subject consumers and watchers see KV deletes", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  const kv = await new Kvm(nc).create("deletion", { history: 10 });
  for (const k of ["a", "a.a", "a.b", "a.b.c"]) await kv.put(k, "");
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  assertEquals(keys.length, 4);
  const info = await addConsumer(nc, "KV_deletion", {
    name: "keys",
    "filter_subject": "$KV.deletion.a.*",
    "deliver_policy": "last_per_subject",
    "deliver_subject": "keys",
    "max_deliver": 1,
    "ack_policy": "none",
    "mem_storage": true,
    "flow_control": true,
    "idle_heartbeat": 5 * SEC,
  });
  assertEquals(info.num_pending, 2);
  const sub = new SyncSub(nc, "keys");
  await sub.must(1_000);
  await sub.must(1_000);
  assertEquals(await sub.next(1_000), null);
  await kv.delete("a.a");
  await kv.delete("a.b");
  const entries = await watchFor(await kv.watch(), 500);
  assertEquals(entries.filter((e) => e.operation === "DEL").map((e) => e.key).sort(), ["a.a", "a.b"]);
});

Deno.test("TestJetStreamDeliverLastPerSubjectWithKV: last-per-subject over kv.> delivers one message per key", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", "max_msgs_per_subject": 5, subjects: ["kv.>"] });
  for (
    const [subj, v] of [
      ["kv.a", "bad"],
      ["kv.a", "bad"],
      ["kv.a", "bad"],
      ["kv.a", "a"],
      ["kv.a.b", "bad"],
      [
        "kv.a.b",
        "bad",
      ],
      ["kv.a.b", "a.b"],
      ["kv.a.b.c", "bad"],
      ["kv.a.b.c", "bad"],
      ["kv.a.b.c", "bad"],
      ["kv.a.b.c", "a.b.c"],
    ]
  ) {
    await send(nc, subj, v);
  }
  await addConsumer(nc, "TEST", {
    name: "CONSUMER",
    "filter_subject": "kv.>",
    "deliver_policy": "last_per_subject",
    "deliver_subject": "deliver",
    "max_deliver": 1,
    "ack_policy": "none",
    "mem_storage": true,
    "flow_control": true,
    "idle_heartbeat": 5 * SEC,
  });
  const sub = new SyncSub(nc, "deliver");
  const got: string[] = [];
  for (let i = 0; i < 3; i++) got.push(dec.decode((await sub.must(1_000)).data));
  assertEquals(got.sort(), ["a", "a.b", "a.b.c"]);
  assertEquals(await sub.next(1_000), null, "should not get any more messages");
});

Deno.test("TestJetStreamMetaDataFailOnKernelFault: a stream with empty meta files is not recovered until re-added", async () => {
  let s = await runBasic();
  try {
    let nc = await clientFor(s);
    await addStream(nc, { name: "TEST", subjects: ["foo"] });
    for (let i = 0; i < 10; i++) await send(nc, "foo", "OK");
    await nc.close();
    const sdir = streamDir(s.opts.storeDir, "TEST");
    s = await restart(s, async () => {
      // A kernel that never flushed the meta information: both files empty.
      await Deno.writeFile(`${sdir}/meta.inf`, new Uint8Array(0));
      await Deno.writeFile(`${sdir}/meta.sum`, new Uint8Array(0));
    });
    nc = await clientFor(s);
    const r = await jsApi(nc, "$JS.API.STREAM.INFO.TEST");
    assert(r.error !== undefined, "the stream should not have been recovered");
    // Signalled by healthz.
    const hs = healthz(s);
    assertEquals(hs.status, "unavailable");
    assertEquals(hs.error, "JetStream stream '$G > TEST' could not be recovered");
    // Adding it back recovers the messages.
    await addStream(nc, { name: "TEST", subjects: ["foo"] });
    assertEquals((await streamInfo(nc, "TEST")).state.messages, 10);
    assertEquals(healthz(s).status, "ok");
    await nc.close();
    s = await restart(s);
    nc = await clientFor(s);
    assertEquals((await streamInfo(nc, "TEST")).state.messages, 10);
    await nc.close();
  } finally {
    await s.shutdown();
  }
});

Deno.test(
  "TestJetStreamMsgBlkFailOnKernelFault: a lost interior block shows as deleted and max_bytes still holds",
  testMsgBlkFailOnKernelFault,
);

async function testMsgBlkFailOnKernelFault(): Promise<void> {
  let s = await runBasic();
  try {
    let nc = await clientFor(s);
    await addStream(nc, { name: "TEST", subjects: ["foo"], "max_bytes": 10 * 1024 * 1024 });
    const msg = crypto.getRandomValues(new Uint8Array(65536));
    const big = new Uint8Array(1024 * 1024);
    for (let o = 0; o < big.length; o += msg.length) big.set(msg, o);
    for (let i = 0; i < 20; i++) await send(nc, "foo", big);
    let si = await streamInfo(nc, "TEST");
    assert(si.state.bytes < si.config.max_bytes, "bytes over max_bytes");
    const blks = blkFiles(s.opts.storeDir, "TEST");
    assert(blks.length > 2, `expected more than 2 blocks, got ${blks.length}`);
    const lmbf = blks[blks.length - 2];
    await nc.close();
    s = await restart(s, () => Deno.remove(lmbf));
    nc = await clientFor(s);
    const g = await jsApi(nc, "$JS.API.STREAM.MSG.GET.TEST", { seq: 17 });
    assertEquals(g.error?.err_code, 10037);
    si = await streamInfo(nc, "TEST");
    assertEquals(si.state.num_deleted, 3);
    si = await streamInfo(nc, "TEST", { "deleted_details": true });
    assertEquals(si.state.num_deleted, 3);
    assertEquals(si.state.deleted, [16, 17, 18]);
    for (let i = 0; i < 20; i++) await send(nc, "foo", big);
    si = await streamInfo(nc, "TEST");
    assert(si.state.bytes <= si.config.max_bytes, `max_bytes not enforced: ${si.state.bytes}`);
    await nc.close();
  } finally {
    await s.shutdown();
  }
}

Deno.test("TestJetStreamPurgeExAndAccounting: a subject purge halves the account usage", async (t) => {
  for (const [name, storage] of [["MemoryStore", "memory"], ["FileStore", "file"]]) {
    await t.step(name, async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", storage, subjects: ["*"] });
      for (let i = 0; i < 100; i++) {
        await send(nc, "foo", "accounting");
        await send(nc, "bar", "accounting");
      }
      const info = await accountInfo(nc);
      assertEquals((await jsApi(nc, "$JS.API.STREAM.PURGE.TEST", { filter: "foo" })).success, true);
      const ninfo = await accountInfo(nc);
      if (storage === "memory") assertEquals(ninfo.memory, info.memory / 2);
      else assertEquals(ninfo.storage, info.storage / 2);
    });
  }
});

Deno.test("TestJetStreamRollup: a subject rollup keeps one message and updates consumer pending", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "S", subjects: ["S.*"], "allow_rollup_hdrs": true });
  for (let i = 1; i <= 10; i++) {
    await send(nc, "S.A", String(i));
    await send(nc, "S.B", String(i));
  }
  assertEquals((await streamInfo(nc, "S")).state.messages, 20);
  let ci = await addConsumer(nc, "S", {
    "durable_name": "DUR-A",
    "filter_subject": "S.A",
    "ack_policy": "explicit",
  });
  assertEquals(ci.num_pending, 10);
  await send(nc, "S.A", "", hdrs(["Nats-Rollup", "sub"]));
  ci = await consumerInfo(nc, "S", "DUR-A");
  assertEquals(ci.num_pending, 1);
  assertEquals((await streamInfo(nc, "S")).state.messages, 11);
  ci = await addConsumer(nc, "S", {
    "durable_name": "DUR-B",
    "filter_subject": "S.B",
    "ack_policy": "explicit",
  });
  assertEquals(ci.num_pending, 10);
});

/** Sends `n` "OK" messages on foo (Go's sendStreamMsg loop). */
async function sendOKs(nc: NatsConnection, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await send(nc, "foo", "OK");
}

Deno.test("TestJetStreamPartialPurgeWithAckPending: a keep purge with all messages pending keeps counts right", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  const nmsgs = 100;
  await sendOKs(nc, nmsgs);
  await addConsumer(nc, "TEST", {
    "durable_name": "dlc",
    "ack_policy": "explicit",
    "ack_wait": SEC,
    "filter_subject": "foo",
  });
  assertEquals((await fetch(nc, "TEST", "dlc", nmsgs, 2_000)).length, nmsgs);
  const keep = nmsgs / 2;
  assertEquals((await jsApi(nc, "$JS.API.STREAM.PURGE.TEST", { keep })).success, true);
  // Should be able to be redelivered now.
  await delay(2_000);
  let ci = await consumerInfo(nc, "TEST", "dlc");
  assertEquals(ci.ack_floor.consumer_seq, keep);
  assertEquals(ci.ack_floor.stream_seq, keep);
  assertEquals(ci.num_ack_pending, keep);
  assertEquals(ci.num_pending, 0);
  await sendOKs(nc, nmsgs);
  ci = await consumerInfo(nc, "TEST", "dlc");
  assertEquals(ci.ack_floor.consumer_seq, keep);
  assertEquals(ci.ack_floor.stream_seq, keep);
  assertEquals(ci.num_ack_pending, keep);
  assertEquals(ci.num_pending, nmsgs);
  assertEquals(ci.num_redelivered, 0);
  let msgs = await fetch(nc, "TEST", "dlc", keep, 2_000);
  assertEquals(msgs.length, keep);
  ci = await consumerInfo(nc, "TEST", "dlc");
  assertEquals(ci.delivered.consumer_seq, nmsgs + keep);
  assertEquals(ci.delivered.stream_seq, nmsgs);
  assertEquals(ci.ack_floor.consumer_seq, keep);
  assertEquals(ci.ack_floor.stream_seq, keep);
  assertEquals(ci.num_ack_pending, keep);
  assertEquals(ci.num_pending, nmsgs);
  assertEquals(ci.num_redelivered, keep);
  for (const m of msgs) m.respond();
  await nc.flush();
  ci = await consumerInfo(nc, "TEST", "dlc");
  assertEquals(ci.delivered.consumer_seq, nmsgs + keep);
  assertEquals(ci.delivered.stream_seq, nmsgs);
  assertEquals(ci.ack_floor.consumer_seq, nmsgs + keep);
  assertEquals(ci.ack_floor.stream_seq, nmsgs);
  assertEquals(ci.num_ack_pending, 0);
  assertEquals(ci.num_pending, nmsgs);
  assertEquals(ci.num_redelivered, 0);
  msgs = await fetch(nc, "TEST", "dlc", nmsgs, 2_000);
  assertEquals(msgs.length, nmsgs);
  for (const m of msgs) m.respond();
  await nc.flush();
  ci = await consumerInfo(nc, "TEST", "dlc");
  assertEquals(ci.delivered.consumer_seq, nmsgs * 2 + keep);
  assertEquals(ci.delivered.stream_seq, nmsgs * 2);
  assertEquals(ci.ack_floor.consumer_seq, nmsgs * 2 + keep);
  assertEquals(ci.ack_floor.stream_seq, nmsgs * 2);
  assertEquals(ci.num_ack_pending, 0);
  assertEquals(ci.num_pending, 0);
  assertEquals(ci.num_redelivered, 0);
});

Deno.test("TestJetStreamPurgeWithRedeliveredPending: a full purge clears redelivered pending acks", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  const nmsgs = 100;
  await sendOKs(nc, nmsgs);
  await addConsumer(nc, "TEST", {
    "durable_name": "dlc",
    "ack_policy": "explicit",
    "ack_wait": SEC,
    "filter_subject": "foo",
  });
  assertEquals((await fetch(nc, "TEST", "dlc", nmsgs, 2_000)).length, nmsgs);
  await delay(2_000);
  assertEquals((await fetch(nc, "TEST", "dlc", nmsgs, 2_000)).length, nmsgs);
  assertEquals((await jsApi(nc, "$JS.API.STREAM.PURGE.TEST")).success, true);
  const ci = await consumerInfo(nc, "TEST", "dlc");
  assertEquals(ci.delivered.consumer_seq, 2 * nmsgs);
  assertEquals(ci.delivered.stream_seq, nmsgs);
  assertEquals(ci.ack_floor.consumer_seq, 2 * nmsgs);
  assertEquals(ci.ack_floor.stream_seq, nmsgs);
  assertEquals(ci.num_ack_pending, 0);
  assertEquals(ci.num_pending, 0);
  assertEquals(ci.num_redelivered, 0);
});

// blocked: needs leaf node connections (a hub and a leaf with its own JetStream domain); natsdeno has no leaf
// nodes yet.
Deno.test({
  name:
    "TestJetStreamStreamUpdateWithExternalSource: a source with an external API prefix is not an overlap with itself",
  ignore: true,
  async fn() {
    const leafConf = await createConfFile(`
      listen: 127.0.0.1:-1
      server_name: a-leaf
      jetstream: {store_dir: '${await tempDir()}', domain: a-leaf}
      leafnodes { remotes = [ { url: "nats://127.0.0.1:7422" } ] }`);
    await using hs = await runRealJs({ jetStream: true }, "natsdeno-jspc-");
    await using l1 = await runServerWithConfig(leafConf);
    await using ncl = await clientFor(l1);
    await addStream(ncl, { name: "stream", subjects: ["leaf"] });
    await using nch = await clientFor(hs);
    await addStream(nch, { name: "stream", subjects: ["hub"] });
    for (const fs of ["leaf", "foo"]) {
      const r = await updateStream(nch, {
        name: "stream",
        subjects: ["hub"],
        sources: [{ name: "stream", "filter_subject": fs, external: { api: "$JS.a-leaf.API" } }],
      });
      assertEquals(r.error, undefined);
    }
  },
});

Deno.test("TestJetStreamKVHistoryRegression: history after deletes and purges", async (t) => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  const kvm = new Kvm(nc);
  for (const storage of ["file", "memory"] as const) {
    await t.step(storage === "file" ? "File" : "Memory", async () => {
      await jsApi(nc, "$JS.API.STREAM.DELETE.KV_TEST");
      const kv = await kvm.create(
        "TEST",
        { history: 4, storage: storage === "file" ? "file" : "memory" } as never,
      );
      const r1 = await kv.create("foo", "a");
      await kv.update("foo", "ab", r1);
      await kv.delete("foo");
      await kv.create("foo", "abc");
      await kv.delete("foo");
      const history = async () => {
        const out = [];
        for await (const e of await kv.history({ key: "foo" })) out.push(e);
        return out;
      };
      let h = await history();
      assertEquals(h.length, 4);
      await kv.update("foo", "abcd", h[h.length - 1].revision);
      await kv.purge("foo");
      await kv.create("foo", "abcde");
      await kv.purge("foo");
      h = await history();
      assertEquals(h.length, 1);
    });
  }
});

Deno.test("TestJetStreamSnapshotRestoreStallAndHealthz: a leftover snapshot staging dir does not affect healthz", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "ORDERS", subjects: ["orders.*"] });
  for (let i = 0; i < 1000; i++) await send(nc, "orders.created", "new order");
  let hs = healthz(s);
  assertEquals([hs.status, hs.error], ["ok", undefined]);
  await Deno.mkdir(`${s.opts.storeDir}/jetstream/__snapshots__`, { recursive: true });
  hs = healthz(s);
  assertEquals([hs.status, hs.error], ["ok", undefined]);
});

Deno.test("TestJetStreamMaxBytesIgnored: max_bytes holds after the first block was truncated", async () => {
  let s = await runBasic();
  try {
    let nc = await clientFor(s);
    await addStream(nc, { name: "TEST", subjects: ["*"], "max_bytes": 10 * 1024 * 1024 });
    const msg = new Uint8Array(1024 * 1024).fill(0x41);
    for (let i = 0; i < 10; i++) await send(nc, "x", msg);
    assertEquals((await streamInfo(nc, "TEST")).state.messages, 9);
    await nc.close();
    const mdir = `${streamDir(s.opts.storeDir, "TEST")}/msgs`;
    s = await restart(s, () => Deno.writeFile(`${mdir}/1.blk`, new Uint8Array(0)));
    nc = await clientFor(s);
    for (let i = 0; i < 10; i++) await send(nc, "x", msg);
    const si = await streamInfo(nc, "TEST");
    assert(si.state.bytes <= 10 * 1024 * 1024, `bytes ${si.state.bytes}`);
    await nc.close();
  } finally {
    await s.shutdown();
  }
});

// Go runs this on an R3 stream with clients on random servers of a cluster; on one server the race between two
// publishers on the expected last subject sequence is the same.
Deno.test("TestJetStreamLastSequenceBySubjectConcurrent: racing publishers store one message per expected sequence", async (t) => {
  for (const st of ["file", "memory"]) {
    await t.step(st === "file" ? "File" : "Memory", async () => {
      await using s = await runBasic();
      await using nc0 = await clientFor(s);
      await using nc1 = await clientFor(s);
      await addStream(nc0, { name: "KV", subjects: ["kv.>"], storage: st });
      const pub = async (nc: NatsConnection, data: string, seq: string) => {
        await publish(nc, "kv.foo", data, hdrs(["Nats-Expected-Last-Subject-Sequence", seq])).catch(() => {});
      };
      await Promise.all([
        (async () => {
          await pub(nc0, "0-0", "0");
          await pub(nc0, "0-1", "1");
          await pub(nc0, "0-2", "2");
        })(),
        (async () => {
          await pub(nc1, "1-0", "0");
          await pub(nc1, "1-1", "1");
          await pub(nc1, "1-2", "2");
        })(),
      ]);
      const ci = await addConsumer(nc0, "KV", { "ack_policy": "explicit" });
      const msgs = await fetch(nc0, "KV", ci.name, 10, 500);
      assertEquals(msgs.length, 3);
      msgs.forEach((m, i) => assertEquals(m.headers?.get("Nats-Expected-Last-Subject-Sequence"), String(i)));
    });
  }
});

Deno.test("TestJetStreamServerReencryption: prev_key re-encrypts the store for a new key and cipher", async (t) => {
  const storeDir = await tempDir();
  const algos = [["aes", "aes"], ["aes", "chacha"], ["chacha", "chacha"], ["chacha", "aes"]];
  for (let i = 0; i < algos.length; i++) {
    const [from, to] = algos[i];
    await t.step(`${from}_to_${to}`, async () => {
      const streamName = `TEST_${i}`;
      const subjectName = `foo_${i}`;
      const expected = 30;
      const checkStream = async (nc: NatsConnection) => {
        assertEquals((await streamInfo(nc, streamName)).state.messages, expected);
        const ci = await addConsumer(nc, streamName, {
          "ack_policy": "explicit",
          "filter_subject": subjectName,
        });
        const msgs = await fetch(nc, streamName, ci.name, expected, 5_000);
        for (const m of msgs) await ackSync(nc, m);
        assertEquals(msgs.length, expected);
      };
      const run = async (body: string, fn: (nc: NatsConnection) => Promise<void>) => {
        const conf = await createConfFile(`
          server_name: S22
          listen: 127.0.0.1:-1
          jetstream: { ${body}, store_dir: '${storeDir}' }`);
        await using s = await runServerWithConfig(conf);
        await using nc = await clientFor(s);
        await fn(nc);
      };
      await run(`key: "firstencryptionkey", cipher: ${from}`, async (nc) => {
        await addStream(nc, { name: streamName, subjects: [subjectName], storage: "file" });
        for (let j = 0; j < expected; j++) await send(nc, subjectName, "ENCRYPTED PAYLOAD!!");
        await checkStream(nc);
      });
      await run(
        `key: "secondencryptionkey", cipher: ${to}, prev_key: "firstencryptionkey"`,
        checkStream,
      );
      await run(`key: "secondencryptionkey", cipher: ${to}`, checkStream);
    });
  }
});

// Go corrupts the account's usage counter (jsa.usage) to force a resync and checks the next publish does not
// deadlock; natsdeno keeps no separate usage counter to corrupt. Black-box: publishes keep working and the
// account's usage matches the stream.
Deno.test("TestJetStreamUsageSyncDeadlock: publishes keep working and the account usage matches the stream", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["*"] });
  await send(nc, "foo", "hello");
  await send(nc, "foo", "hello");
  const si = await streamInfo(nc, "TEST");
  assertEquals(si.state.messages, 2);
  assertEquals((await accountInfo(nc)).storage, si.state.bytes);
});

Deno.test("TestJetStreamChangeMaxMessagesPerSubject: lowering max_msgs_per_subject trims and keeps limiting", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  const cfg = { name: "TEST", subjects: ["one.>"], "max_msgs_per_subject": 5 };
  await addStream(nc, cfg);
  for (let i = 0; i < 10; i++) await send(nc, "one.data", "data");
  const expectMsgs = async (num: number) => {
    const ci = await addConsumer(nc, "TEST", { "ack_policy": "explicit", "filter_subject": "one.>" });
    const msgs = await fetch(nc, "TEST", ci.name, num + 1, 500);
    for (const m of msgs) m.respond();
    assertEquals(msgs.length, num);
    await jsApi(nc, `$JS.API.CONSUMER.DELETE.TEST.${ci.name}`);
  };
  await expectMsgs(5);
  await updateStream(nc, { ...cfg, "max_msgs_per_subject": 3 });
  const info = await streamInfo(nc, "TEST");
  assertEquals(info.config.max_msgs_per_subject, 3);
  assertEquals(info.state.messages, 3);
  await expectMsgs(3);
  for (let i = 0; i < 10; i++) await send(nc, "one.data", "data");
  await expectMsgs(3);
});

// Go reads the file store's fcfg.SyncInterval/SyncAlways; natsdeno's parsed options carry them to the store.
Deno.test("TestJetStreamSyncInterval: sync_interval default, a duration and always reach the JetStream options", async (t) => {
  const sd = await tempDir();
  for (
    const [name, sync, expectedMs, always] of [
      ["Default", "", 120_000, false],
      ["10s", "sync_interval: 10s", 10_000, false],
      ["Always", "sync_interval: always", 120_000, true],
    ] as const
  ) {
    await t.step(name, async () => {
      const conf = await createConfFile(`
        listen: 127.0.0.1:-1
        jetstream: {
          store_dir: '${sd}'
          ${sync}
        }`);
      const opts = loadConf(conf);
      assertEquals(opts.jetStreamOpts.syncIntervalMs || 120_000, expectedMs);
      assertEquals(opts.jetStreamOpts.syncAlways, always);
      await using s = await startWith(opts);
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", subjects: ["test.>"] });
      await send(nc, "test.1", "x");
      await jsApi(nc, "$JS.API.STREAM.DELETE.TEST");
    });
  }
});

Deno.test("TestJetStreamFilteredSubjectUsesNewConsumerCreateSubject: sources with one filter use the extended create subject", async (t) => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  const ext = new SyncSub(nc, "$JS.API.CONSUMER.CREATE.*.>");
  const normal = new SyncSub(nc, "$JS.API.CONSUMER.CREATE.*");
  await nc.flush();
  const testStreamSource = (name: string, shouldBeExtended: boolean, ss: Record<string, unknown>) =>
    t.step(name, async () => {
      ext.q.length = 0;
      normal.q.length = 0;
      await jsApi(nc, `$JS.API.STREAM.CREATE.${name}`, {
        name,
        storage: "memory",
        subjects: [`foo.${name}`],
        sources: [ss],
      });
      const end = Date.now() + 5_000;
      while (ext.pending() === 0 && normal.pending() === 0) {
        assert(Date.now() < end, "timed out waiting for the consumer create");
        await delay(10);
      }
      if (shouldBeExtended) {
        assert(ext.pending() > 0, "expected the extended consumer create, got the normal one");
      } else assert(normal.pending() > 0, "expected the normal consumer create, got the extended one");
      await jsApi(nc, `$JS.API.STREAM.DELETE.${name}`);
    });
  await testStreamSource("OneFilterSubject", true, { name: "source", "filter_subject": "bar.>" });
  await testStreamSource("OneTransform", true, {
    name: "source",
    "subject_transforms": [{ src: "bar.one.>", dest: "bar.two.>" }],
  });
  await testStreamSource("TwoTransforms", false, {
    name: "source",
    "subject_transforms": [{ src: "bar.one.>", dest: "bar.two.>" }, { src: "baz.one.>", dest: "baz.two.>" }],
  });
});

Deno.test("TestJetStreamKVReductionInHistory: lowering history frees store and keeps every key readable", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  const startHistory = 4;
  const kv = await new Kvm(nc).create("TEST", { history: startHistory });
  const numKeys = 1000;
  const msg = "ABC".repeat(330);
  const keyOf = (i: number) => (i + 1).toString(16).toUpperCase();
  // Every key up to its history (the reference puts random keys until the bucket holds history×keys values).
  for (let h = 0; h < startHistory; h++) {
    for (let i = 0; i < numKeys; i++) await kv.put(keyOf(i), msg);
  }
  assert((await kv.status()).values >= startHistory * numKeys);
  const info = await accountInfo(nc);
  const checkAllKeys = async () => {
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    assertEquals(keys.length, numKeys);
    for (const k of keys) assert((await kv.get(k)) !== null, `key ${k}`);
  };
  await checkAllKeys();
  const si = await streamInfo(nc, "KV_TEST");
  const r = await updateStream(nc, { ...si.config, "max_msgs_per_subject": 1 });
  assertEquals(r.error, undefined);
  const ninfo = await accountInfo(nc);
  assert(info.storage > ninfo.storage, `store ${info.storage} -> ${ninfo.storage}`);
  await checkAllKeys();
});

/** Sends a direct get request on a private inbox (several replies come back); the subscription. */
async function directGet(nc: NatsConnection, stream: string, req: Record<string, unknown>): Promise<SyncSub> {
  const reply = inbox();
  const sub = new SyncSub(nc, reply);
  await nc.flush();
  nc.publish(`$JS.API.DIRECT.GET.${stream}`, enc.encode(JSON.stringify(req)), { reply });
  return sub;
}

/** Waits until `sub` holds `n` messages (Go's checkSubsPending). */
async function checkSubsPending(sub: SyncSub, n: number, ms = 2_000): Promise<void> {
  await checkFor(ms, 10, () => assertEquals(sub.pending(), n));
}

Deno.test("TestJetStreamDirectGetBatch: direct get batches end with an EOB carrying the pending count", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.*"] });
  for (let i = 0; i < 333; i++) {
    await send(nc, "foo.foo", "HELLO");
    await send(nc, "foo.bar", "WORLD");
    await send(nc, "foo.baz", "AGAIN");
  }
  // Batches need allow_direct.
  const r = await jsApi(nc, "$JS.API.STREAM.MSG.GET.TEST", { seq: 1, batch: 10 });
  assertEquals(r.error?.code, 400);
  assertEquals(
    (await updateStream(nc, { name: "TEST", subjects: ["foo.*"], "allow_direct": true })).error,
    undefined,
  );
  const checkResponses = async (sub: SyncSub, numPendingStart: number, ...expected: string[]) => {
    await checkSubsPending(sub, expected.length);
    let np = numPendingStart;
    for (const subj of expected) {
      const m = await sub.must(10);
      if (subj !== "") {
        assertEquals(m.headers?.get("Nats-Subject"), subj);
        assert(m.data.length > 0);
        assertEquals(m.headers?.get("Nats-Num-Pending"), String(np));
        np--;
      } else {
        assertEquals(m.data.length, 0);
        assertEquals(m.headers?.code, 204);
        assertEquals(m.headers?.description, "EOB");
        assertEquals(m.headers?.get("Nats-Num-Pending"), String(np));
      }
    }
    sub.unsubscribe();
  };
  await checkResponses(await directGet(nc, "TEST", { seq: 1, batch: 2 }), 999, "foo.foo", "foo.bar", "");
  await checkResponses(
    await directGet(nc, "TEST", { seq: 1, batch: 3 }),
    999,
    "foo.foo",
    "foo.bar",
    "foo.baz",
    "",
  );
  await checkResponses(
    await directGet(nc, "TEST", { seq: 1, batch: 3, "next_by_subj": "foo.*" }),
    999,
    "foo.foo",
    "foo.bar",
    "foo.baz",
    "",
  );
  await checkResponses(
    await directGet(nc, "TEST", { seq: 1, batch: 3, "next_by_subj": "foo.baz" }),
    333,
    "foo.baz",
    "foo.baz",
    "foo.baz",
    "",
  );
  await checkResponses(
    await directGet(nc, "TEST", { seq: 997, batch: 10, "next_by_subj": "foo.*" }),
    3,
    "foo.foo",
    "foo.bar",
    "foo.baz",
    "",
  );
});

Deno.test({
  name:
    "stress: TestJetStreamDirectGetBatchMaxBytes: max_bytes and the server's max pending cut a direct get batch",
  ignore: !Deno.env.get("STRESS"),
  async fn() {
    await using s = await runBasic();
    await using nc = await clientFor(s);
    await addStream(nc, { name: "TEST", subjects: ["foo.*"], "allow_direct": true, compression: "s2" });
    const msg = new Uint8Array(512 * 1024).fill(0x5a);
    for (let i = 0; i < 333; i++) {
      await send(nc, "foo.foo", msg);
      await send(nc, "foo.bar", msg);
      await send(nc, "foo.baz", msg);
    }
    const sendRequestAndCheck = async (req: Record<string, unknown>, numExpected: number) => {
      const sub = await directGet(nc, "TEST", req);
      await checkSubsPending(sub, numExpected, 5_000);
      sub.unsubscribe();
    };
    const msgSize = msg.length + "foo.foo".length;
    await sendRequestAndCheck({ seq: 1, batch: 3, "max_bytes": msgSize }, 2);
    await sendRequestAndCheck({ seq: 1, "next_by_subj": "foo.bar", batch: 3, "max_bytes": 2 * msgSize }, 3);
    const expected = Math.floor(s.opts.maxPending / msgSize) + 1;
    await sendRequestAndCheck({ seq: 1, batch: 200 }, expected + 1);
  },
});

/** An RFC 3339 time with nanoseconds from a Date (what Go's time.Time marshals to). */
function rfc3339(d: Date): string {
  return d.toISOString();
}

/** A moment strictly after everything stored so far (JS clocks are millisecond clocks). */
async function nowAfter(): Promise<Date> {
  await delay(2);
  const t = new Date();
  await delay(2);
  return t;
}

Deno.test("TestJetStreamMsgGetAsOfTime: STREAM.MSG.GET by start_time", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.*"], "allow_direct": true });
  const sendRequestAndCheck = async (req: Record<string, unknown>, seq: number, errCode?: number) => {
    const r = await jsApi(nc, "$JS.API.STREAM.MSG.GET.TEST", req);
    if (errCode !== undefined) {
      assertEquals(r.error?.err_code, errCode, JSON.stringify(r));
      return;
    }
    assertEquals(r.error, undefined);
    assertEquals(r.message.seq, seq);
  };
  const t0 = rfc3339(await nowAfter());
  await sendRequestAndCheck({ "start_time": t0, "last_by_subj": "foo.1" }, 0, 10003);
  await sendRequestAndCheck({ "start_time": t0, seq: 1 }, 0, 10003);
  await sendRequestAndCheck({ "start_time": t0 }, 0, 10037);
  await send(nc, "foo.1");
  await sendRequestAndCheck({ "start_time": t0 }, 1);
  const t1 = rfc3339(await nowAfter());
  await send(nc, "foo.2");
  await sendRequestAndCheck({ "start_time": t0 }, 1);
  await sendRequestAndCheck({ "start_time": t0, "next_by_subj": "foo.2" }, 2);
  await sendRequestAndCheck({ "start_time": t1 }, 2);
  const t2 = rfc3339(await nowAfter());
  await sendRequestAndCheck({ "start_time": t2 }, 0, 10037);
});

Deno.test("TestJetStreamMsgDirectGetAsOfTime: DIRECT.GET by start_time", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.*"], "allow_direct": true });
  const sendRequestAndCheck = async (req: Record<string, unknown>, seq: number, eerr = "") => {
    const rep = await nc.request("$JS.API.DIRECT.GET.TEST", enc.encode(JSON.stringify(req)), {
      timeout: 1_000,
    });
    if (eerr !== "") {
      assertEquals(rep.headers?.description, eerr);
      return;
    }
    assertEquals(Number(rep.headers?.get("Nats-Sequence")), seq);
  };
  const t0 = rfc3339(await nowAfter());
  await sendRequestAndCheck({ "start_time": t0, "last_by_subj": "foo.1" }, 0, "Bad Request");
  await sendRequestAndCheck({ "start_time": t0, seq: 1 }, 0, "Bad Request");
  await sendRequestAndCheck({ "start_time": t0 }, 0, "Message Not Found");
  await send(nc, "foo.1");
  await sendRequestAndCheck({ "start_time": t0 }, 1);
  const t1 = rfc3339(await nowAfter());
  await send(nc, "foo.2");
  await sendRequestAndCheck({ "start_time": t0 }, 1);
  await sendRequestAndCheck({ "start_time": t0, "next_by_subj": "foo.2" }, 2);
  await sendRequestAndCheck({ "start_time": t1 }, 2);
  const t2 = rfc3339(await nowAfter());
  await sendRequestAndCheck({ "start_time": t2 }, 0, "Message Not Found");
});

Deno.test("TestJetStreamSubjectFilteredPurgeClearsPendingAcks: a subject purge drops the pending acks of an unfiltered consumer", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo", "bar"] });
  for (let i = 0; i < 5; i++) {
    await send(nc, "foo", "OK");
    await send(nc, "bar", "OK");
  }
  let ci = await addConsumer(nc, "TEST", {
    name: "my_consumer",
    "ack_policy": "explicit",
    "max_ack_pending": 10,
  });
  assertEquals([ci.num_pending, ci.num_ack_pending], [10, 0]);
  assertEquals((await fetch(nc, "TEST", "my_consumer", 10, 1_000)).length, 10);
  ci = await consumerInfo(nc, "TEST", "my_consumer");
  assertEquals([ci.num_pending, ci.num_ack_pending], [0, 10]);
  assertEquals((await jsApi(nc, "$JS.API.STREAM.PURGE.TEST", { filter: "foo" })).success, true);
  ci = await consumerInfo(nc, "TEST", "my_consumer");
  assertEquals([ci.num_pending, ci.num_ack_pending], [0, 5]);
  for (let i = 0; i < 5; i++) await send(nc, "foo", "OK");
  assertEquals((await fetch(nc, "TEST", "my_consumer", 5, 1_000)).length, 5);
  ci = await consumerInfo(nc, "TEST", "my_consumer");
  assertEquals([ci.num_pending, ci.num_ack_pending], [0, 10]);
});

/** Checks a direct multi-get reply: [subject, seq] per message ("" subject: the EOB marker). */
async function checkMulti(
  sub: SyncSub,
  numPendingStart: number,
  ...expected: [string, number][]
): Promise<void> {
  await checkSubsPending(sub, expected.length);
  let np = numPendingStart;
  for (const [subj, seq] of expected) {
    const m = await sub.must(10);
    if (subj !== "") {
      assertEquals(m.headers?.get("Nats-Subject"), subj);
      assertEquals(m.headers?.get("Nats-Sequence"), String(seq));
      assert(m.data.length > 0);
      assertEquals(m.headers?.get("Nats-Num-Pending"), String(np));
      if (np > 0) np--;
    } else {
      assertEquals(m.data.length, 0);
      assertEquals(m.headers?.code, 204);
      assertEquals(m.headers?.description, "EOB");
      assertEquals(m.headers?.get("Nats-Num-Pending"), String(np));
    }
  }
  sub.unsubscribe();
}

Deno.test("TestJetStreamDirectGetMulti: multi_last with up_to_seq, EOB markers and No Results", async (t) => {
  for (const [name, storage] of [["MemoryStore", "memory"], ["FileStore", "file"]]) {
    await t.step(name, async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", subjects: ["foo.*"], "allow_direct": true, storage });
      for (let i = 0; i < 33; i++) {
        await send(nc, "foo.foo", `HELLO-${i}`);
        await send(nc, "foo.bar", `WORLD-${i}`);
        await send(nc, "foo.baz", `AGAIN-${i}`);
      }
      await checkMulti(
        await directGet(nc, "TEST", { "multi_last": ["foo.*"] }),
        2,
        ["foo.foo", 97],
        ["foo.bar", 98],
        ["foo.baz", 99],
        ["", 0],
      );
      await checkMulti(
        await directGet(nc, "TEST", { "multi_last": ["foo.*"], "up_to_seq": 3 }),
        2,
        ["foo.foo", 1],
        ["foo.bar", 2],
        ["foo.baz", 3],
        ["", 0],
      );
      const sub = await directGet(nc, "TEST", { "multi_last": ["bar.*"] });
      await checkSubsPending(sub, 1);
      const m = await sub.must(10);
      assertEquals(m.data.length, 0);
      assertEquals(m.headers?.code, 404);
      assertEquals(m.headers?.description, "No Results");
    });
  }
});

Deno.test("TestJetStreamDirectGetMultiUpToTime: multi_last with up_to_time picks the values of that moment", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.*"], "allow_direct": true });
  const round = async (v: string) => {
    for (const k of ["foo.foo", "foo.bar", "foo.baz"]) await send(nc, k, v);
  };
  await round("1");
  const start = rfc3339(await nowAfter());
  await delay(1_000);
  await round("2");
  const mid = rfc3339(await nowAfter());
  await delay(1_000);
  await round("3");
  const end = rfc3339(await nowAfter());
  const checkResponses = async (sub: SyncSub, val: string) => {
    await checkSubsPending(sub, 4);
    for (const subj of ["foo.foo", "foo.bar", "foo.baz"]) {
      const m = await sub.must(10);
      assertEquals(m.headers?.get("Nats-Subject"), subj);
      assertEquals(dec.decode(m.data), val);
    }
    sub.unsubscribe();
  };
  // Both up_to_seq and up_to_time: a bad request.
  const sub = await directGet(nc, "TEST", {
    seq: 1,
    "multi_last": ["foo.*"],
    "up_to_seq": 3,
    "up_to_time": start,
  });
  await checkSubsPending(sub, 1);
  const m = await sub.must(10);
  assertEquals(m.data.length, 0);
  assertEquals(m.headers?.code, 408);
  assertEquals(m.headers?.description, "Bad Request");
  await checkResponses(
    await directGet(nc, "TEST", { seq: 1, "multi_last": ["foo.*"], "up_to_time": start }),
    "1",
  );
  await checkResponses(
    await directGet(nc, "TEST", { seq: 1, "multi_last": ["foo.*"], "up_to_time": mid }),
    "2",
  );
  await checkResponses(
    await directGet(nc, "TEST", { seq: 1, "multi_last": ["foo.*"], "up_to_time": end }),
    "3",
  );
});

Deno.test("TestJetStreamDirectGetMultiMaxAllowed: more than 1024 results is 413 Too Many Results", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.*"], "allow_direct": true });
  for (let i = 1; i <= 1025; i++) await send(nc, `foo.${i}`, "OK");
  const m = await nc.request(
    "$JS.API.DIRECT.GET.TEST",
    enc.encode(JSON.stringify({ seq: 1, "multi_last": ["foo.*"] })),
    { timeout: 1_000 },
  );
  assertEquals(m.data.length, 0);
  assertEquals(m.headers?.code, 413);
  assertEquals(m.headers?.description, "Too Many Results");
});

Deno.test({
  name:
    "stress: TestJetStreamDirectGetMultiPaging: a multi-get cut by max pending bytes resumes where it stopped",
  ignore: !Deno.env.get("STRESS"),
  async fn() {
    await using s = await runBasic();
    await using nc = await clientFor(s);
    await addStream(nc, { name: "TEST", subjects: ["foo.*"], "allow_direct": true });
    const data = new Uint8Array(512 * 1024).fill(0x5a);
    const sent = 500;
    for (let i = 1; i <= sent; i++) await send(nc, `foo.${i}`, data);
    let start = 1, seq = 1, np = sent - 1, b = 0;
    const bsz = 128;
    const processPartial = async (expected: number) => {
      const sub = await directGet(nc, "TEST", { seq: start, batch: b, "multi_last": ["foo.*"] });
      await checkSubsPending(sub, expected, 10_000);
      for (; seq < start + (expected - 1); seq++) {
        const m = await sub.must(10);
        assertEquals(m.headers?.get("Nats-Sequence"), String(seq));
        assertEquals(m.headers?.get("Nats-Num-Pending"), String(np));
        if (np > 0) np--;
      }
      const eob = await sub.must(10);
      assertEquals(eob.headers?.code, 204);
      assertEquals(eob.headers?.description, "EOB");
      assertEquals(eob.headers?.get("Nats-Num-Pending"), String(np));
      assertEquals(eob.headers?.get("Nats-Last-Sequence"), String(seq - 1));
      assertEquals(eob.headers?.get("Nats-UpTo-Sequence"), String(sent));
      sub.unsubscribe();
      start = seq;
    };
    for (let i = 0; i < 3; i++) await processPartial(bsz + 1);
    await processPartial(116 + 1);
    start = 1, seq = 1, np = sent - 1, b = 100;
    for (let i = 0; i < 5; i++) await processPartial(b + 1);
  },
});

Deno.test("TestJetStreamInterestStreamConsumerFilterEdit: narrowing a consumer filter drops messages nobody wants", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "INTEREST", retention: "interest", subjects: ["interest.>"] });
  await addConsumer(nc, "INTEREST", {
    "durable_name": "C0",
    "filter_subject": "interest.>",
    "ack_policy": "explicit",
  });
  for (let i = 0; i < 10; i++) await send(nc, `interest.${i}`, String(i));
  assertEquals((await streamInfo(nc, "INTEREST")).state.messages, 10);
  const r = await createConsumer(nc, "INTEREST", {
    "durable_name": "C0",
    "filter_subject": "interest.1",
    "ack_policy": "explicit",
  });
  assertEquals(r.error, undefined);
  assertEquals((await streamInfo(nc, "INTEREST")).state.messages, 1);
});

Deno.test("TestJetStreamInterestStreamWithFilterSubjectsConsumer: only the filter_subjects of a consumer hold messages", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "INTEREST", retention: "interest", subjects: ["interest.>"] });
  await addConsumer(nc, "INTEREST", {
    "durable_name": "C",
    "filter_subjects": ["interest.a", "interest.b"],
    "ack_policy": "explicit",
  });
  for (const sub of ["interest.a", "interest.b", "interest.c"]) await send(nc, sub);
  assertEquals((await streamInfo(nc, "INTEREST")).state.messages, 2);
});

/** Purges TEST up to 10_000_000_000, publishes `n` on foo.bar (before or after `between`). */
async function largeFirstSeq(nc: NatsConnection): Promise<void> {
  assertEquals((await jsApi(nc, "$JS.API.STREAM.PURGE.TEST", { seq: 10_000_000_000 })).success, true);
}

Deno.test("TestJetStreamAckAllWithLargeFirstSequenceAndNoAckFloor: ack all at a huge first sequence is quick", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.>"] });
  await largeFirstSeq(nc);
  for (let i = 0; i < 100; i++) await send(nc, "foo.bar", "hello");
  for (const [c, at] of [["C1", 9], ["C2", 5]] as const) {
    await addConsumer(nc, "TEST", { "durable_name": c, "ack_policy": "all", "filter_subject": "foo.*" });
    let msgs = await fetch(nc, "TEST", c, 10, 100);
    assertEquals(msgs.length, 10);
    const start = performance.now();
    await ackSync(nc, msgs[at]);
    const elapsed = performance.now() - start;
    assert(elapsed < 250, `AckSync took too long ${elapsed}ms`);
    msgs = await fetch(nc, "TEST", c, 10, 100);
    assertEquals(msgs.length, 10);
    await streamInfo(nc, "TEST");
  }
});

Deno.test("TestJetStreamAckAllWithLargeFirstSequenceAndNoAckFloorWithInterestPolicy: no runaway acking below a huge first sequence", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.>"], retention: "interest" });
  await largeFirstSeq(nc);
  await addConsumer(nc, "TEST", { "durable_name": "C1", "ack_policy": "all", "filter_subject": "foo.*" });
  for (let i = 0; i < 100; i++) await send(nc, "foo.bar", "hello");
  const msgs = await fetch(nc, "TEST", "C1", 10, 100);
  assertEquals(msgs.length, 10);
  const start = performance.now();
  await ackSync(nc, msgs[5]);
  const elapsed = performance.now() - start;
  assert(elapsed < 250, `AckSync took too long ${elapsed}ms`);
  const si = await streamInfo(nc, "TEST");
  assertEquals(si.state.messages, 94);
});

Deno.test("TestJetStreamAuditStreams: $JS, $JSC, $SYS and > streams need no_ack", async (t) => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  const create = (cfg: Record<string, unknown>) => jsApi(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, cfg);
  const jsOverlap = "subjects that overlap with jetstream api require no-ack to be true";
  const sysOverlap = "subjects that overlap with system api require no-ack to be true";
  const expectInvalid = async (cfg: Record<string, unknown>, text: string) => {
    const r = await create(cfg);
    assertEquals(r.error?.err_code, 10052, JSON.stringify(r));
    assertEquals(r.error?.description, text);
  };
  await expectInvalid({ name: "TEST", subjects: ["$JS.>"] }, jsOverlap);
  await expectInvalid({ name: "TEST", subjects: ["$JS.API.>"] }, jsOverlap);
  await expectInvalid({ name: "TEST", subjects: ["$JSC.>"] }, jsOverlap);
  await expectInvalid({ name: "TEST", subjects: ["$SYS.>"] }, sysOverlap);
  await expectInvalid({ name: "TEST", subjects: [">"] }, "capturing all subjects requires no-ack to be true");
  await addStream(nc, { name: "TEST1", subjects: ["$JS.>"], "no_ack": true });
  await addStream(nc, { name: "TEST2", subjects: ["$JSC.>"], "no_ack": true });
  await addStream(nc, { name: "TEST3", subjects: ["$SYS.>"], "no_ack": true });
  await jsApi(nc, "$JS.API.STREAM.DELETE.TEST1");
  await addStream(nc, { name: "TEST4", subjects: ["$JS.EVENT.>"] });
  await jsApi(nc, "$JS.API.STREAM.DELETE.TEST3");
  await addStream(nc, { name: "TEST5", subjects: ["$SYS.ACCOUNT.>"] });
  // blocked: the rest runs on a 3-server cluster (capturing ">" also needs replicas of 1); natsdeno has none.
  await t.step({ name: "clustered", ignore: true, fn() {} });
});

Deno.test("TestJetStreamBadSubjectMappingStream: bad source, mirror and stream transforms are refused with their texts", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "test" });
  const expectUpdateError = async (cfg: Record<string, unknown>, text: string) => {
    const r = await updateStream(nc, { name: "test", ...cfg });
    assert(r.error !== undefined, JSON.stringify(r));
    assertEquals(r.error.description, text);
  };
  await expectUpdateError(
    {
      sources: [{
        name: "mapping",
        "subject_transforms": [{ src: "events.*", dest: "events.{{wildcard(1)}}{{split(3,1)}}" }],
      }],
    },
    "source transform: invalid mapping destination: too many arguments passed to the function in {{wildcard(1)}}{{split(3,1)}}",
  );
  await expectUpdateError(
    {
      sources: [{
        name: "mapping",
        "subject_transforms": [{ src: "events.>.*", dest: "events.{{split(1,1)}}" }],
      }],
    },
    "source transform source: invalid subject events.>.*",
  );
  await expectUpdateError(
    {
      mirror: { name: "mapping", "subject_transforms": [{ src: "events.*", dest: "events.{{split(3,1)}}" }] },
    },
    "mirror transform: invalid mapping destination: wildcard index out of range in {{split(3,1)}}: [3]",
  );
  await expectUpdateError(
    {
      mirror: {
        name: "mapping",
        "subject_transforms": [{ src: "events.>.*", dest: "events.{{split(1,1)}}" }],
      },
    },
    "mirror transform source: invalid subject events.>.*",
  );
  await expectUpdateError(
    { "subject_transform": { src: "events.*", dest: "events.{{split(3,1)}}" } },
    "stream transform: invalid mapping destination: wildcard index out of range in {{split(3,1)}}: [3]",
  );
  await expectUpdateError(
    { "subject_transform": { src: "events.>.*", dest: "events.{{split(1,1)}}" } },
    "stream transform source: invalid subject events.>.*",
  );
});

Deno.test("TestJetStreamInterestStreamWithDuplicateMessages: a duplicate without interest gets the first sequence back", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "INTEREST", subjects: ["interest"], "num_replicas": 1, retention: "interest" });
  let pa = await send(nc, "interest", "", hdrs(["Nats-Msg-Id", "dedupe"]));
  assertEquals([pa.seq, pa.duplicate ?? false], [1, false]);
  pa = await send(nc, "interest", "", hdrs(["Nats-Msg-Id", "dedupe"]));
  assertEquals([pa.seq, pa.duplicate ?? false], [1, true]);
});

Deno.test("TestJetStreamStreamCreatePedanticMode: pedantic requests refuse configs the server would adjust", async (t) => {
  const conf = await createConfFile(`
    jetstream: {
      enabled: true
      max_file_store: 100MB
      store_dir: '${await tempDir()}'
      limits: {duplicate_window: "1m", max_request_batch: 250}
    }
    accounts: {
      myacc: {
        jetstream: enabled
        users: [ { user: user, password: pass } ]
      }
    }
    no_auth_user: user
    listen: 127.0.0.1:-1`);
  await using s = await runServerWithConfig(conf);
  await using nc = await clientFor(s);
  const cases: [string, Record<string, unknown>, boolean, boolean][] = [
    [
      "too_high_duplicate",
      { "max_age": 60 * SEC, "duplicate_window": 3600 * SEC, pedantic: true },
      true,
      false,
    ],
    ["duplicate_over_limits", { "max_age": 60 * 3600 * SEC, "duplicate_window": 3600 * SEC }, true, false],
    [
      "duplicate_window_within_limits",
      { "max_age": 60 * 3600 * SEC, "duplicate_window": 30 * SEC },
      false,
      false,
    ],
    [
      "update_too_high_duplicate",
      { "max_age": 60 * SEC, "duplicate_window": 3600 * SEC, pedantic: true },
      true,
      true,
    ],
  ];
  for (const [name, cfg, shouldErr, update] of cases) {
    await t.step(name, async () => {
      const body = { name: "TEST", storage: "file", ...cfg };
      const r = await jsApi(nc, `$JS.API.STREAM.${update ? "UPDATE" : "CREATE"}.TEST`, body);
      assertEquals(r.error !== undefined, shouldErr, JSON.stringify(r));
    });
  }
});

Deno.test("TestJetStreamStrictMode: strict mode refuses unknown fields and payloads where none belong", async (t) => {
  const conf = await createConfFile(`
    listen: 127.0.0.1:-1
    jetstream: {
      strict: true
      enabled: true
      max_file_store: 100MB
      store_dir: '${await tempDir()}'
      limits: {duplicate_window: "1m", max_request_batch: 250}
    }`);
  await using s = await runServerWithConfig(conf);
  await using nc = await clientFor(s);
  const extra = `{"extra_field":"unexpected"}`;
  const tests: [string, string, string, string][] = [
    [
      "Stream Create",
      "$JS.API.STREAM.CREATE.TEST_STREAM",
      `{"name":"TEST_STREAM","subjects":["test.>"],"extra_field":"unexpected"}`,
      "invalid JSON",
    ],
    [
      "Stream Update",
      "$JS.API.STREAM.UPDATE.TEST_STREAM",
      `{"name":"TEST_STREAM","subjects":["test.>"],"extra_field":"unexpected"}`,
      "invalid JSON",
    ],
    ["Stream Delete", "$JS.API.STREAM.DELETE.TEST_STREAM", extra, "expected an empty request payload"],
    ["Stream Info", "$JS.API.STREAM.INFO.TEST_STREAM", extra, "invalid JSON"],
    [
      "Consumer Create",
      "$JS.API.CONSUMER.CREATE.TEST_STREAM.TEST_CONSUMER",
      `{"durable_name":"TEST_CONSUMER","ack_policy":"explicit","extra_field":"unexpected"}`,
      "invalid JSON",
    ],
    [
      "Consumer Delete",
      "$JS.API.CONSUMER.DELETE.TEST_STREAM.TEST_CONSUMER",
      extra,
      "expected an empty request payload",
    ],
    [
      "Consumer Info",
      "$JS.API.CONSUMER.INFO.TEST_STREAM.TEST_CONSUMER",
      extra,
      "expected an empty request payload",
    ],
    ["Stream List", "$JS.API.STREAM.LIST", extra, "invalid JSON"],
    ["Consumer List", "$JS.API.CONSUMER.LIST.TEST_STREAM", extra, "invalid JSON"],
  ];
  for (const [name, subject, payload, expectedErr] of tests) {
    await t.step(name, async () => {
      const resp = await jsApi(nc, subject, payload);
      assert(resp.error?.description !== undefined, JSON.stringify(resp));
      assertStringIncludes(resp.error.description, expectedErr);
    });
  }
});

Deno.test("TestJetStreamSourceRemovalAndReAdd: removing a source stops it, re-adding resumes where it stopped", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "SRC", subjects: ["foo.*"] });
  await addStream(nc, { name: "TEST", sources: [{ name: "SRC" }] });
  for (let i = 0; i < 10; i++) await send(nc, `foo.${i}`, "test");
  await checkFor(1_000, 200, async () => assertEquals((await streamInfo(nc, "TEST")).state.messages, 10));
  assertEquals((await updateStream(nc, { name: "TEST" })).error, undefined);
  for (let i = 0; i < 10; i++) await send(nc, `foo.${i + 10}`, "test");
  assertEquals((await streamInfo(nc, "TEST")).state.messages, 10);
  assertEquals((await updateStream(nc, { name: "TEST", sources: [{ name: "SRC" }] })).error, undefined);
  await checkFor(1_000, 200, async () => assertEquals((await streamInfo(nc, "TEST")).state.messages, 20));
  // js.PullSubscribe("foo.*", "d") binds to the stream holding foo.*: SRC.
  await addConsumer(nc, "SRC", { "durable_name": "d", "ack_policy": "explicit", "filter_subject": "foo.*" });
  const msgs = await fetch(nc, "SRC", "d", 20, 1_000);
  assertEquals(msgs.length, 20);
  msgs.forEach((m, i) => assertEquals(m.subject, `foo.${i}`));
});

// blocked: the max_buffered_size/max_buffered_msgs options of the stream ingest queue (and its 429 replies) are
// not built in natsdeno; the keys are read and kept raw.
Deno.test({
  name: "TestJetStreamRateLimitHighStreamIngest: a full ingest queue answers 429",
  ignore: true,
  async fn() {
    const conf = await createConfFile(`
      listen: 127.0.0.1:-1
      jetstream: {
        enabled: true
        store_dir: '${await tempDir()}'
        max_buffered_size: 1kb
        max_buffered_msgs: 1
      }`);
    await using s = await runServerWithConfig(conf);
    await using nc = await clientFor(s);
    await addStream(nc, { name: "TEST", subjects: ["test"] });
    const box = inbox();
    const resp = new SyncSub(nc, box);
    await nc.flush();
    for (let i = 0; i < 1000; i++) nc.publish("test", new Uint8Array(0), { reply: box });
    let rateLimited = false;
    for (let i = 0; i < 1000 && !rateLimited; i++) {
      const m = await resp.must(2_000);
      if (m.headers?.code === 429) rateLimited = true;
    }
    assert(rateLimited);
  },
});

// blocked: checks the default length and size limits of a stream's ingest queue (stream.msgs), which natsdeno
// does not have (messages are stored synchronously on receipt).
Deno.test({
  name: "TestJetStreamRateLimitHighStreamIngestDefaults: the ingest queue defaults",
  ignore: true,
  fn() {
    const opts = loadConf(Deno.makeTempFileSync());
    assertEquals(opts.unsupportedConfig["max_buffered_msgs"], undefined);
  },
});

// blocked: Go's StreamConfig.clone (a deep copy of an in-memory struct) has no wire behaviour; the JSON API copies
// by construction. Written out as the round trip of a config with every nested field.
Deno.test({
  name: "TestJetStreamStreamConfigClone: a stream config with nested fields round-trips unchanged",
  ignore: true,
  async fn() {
    await using s = await runBasic();
    await using nc = await clientFor(s);
    const cfg = {
      name: "name",
      placement: { cluster: "placement", tags: ["tag"] },
      mirror: { name: "mirror" },
      "subject_transform": { src: "source", dest: "dest" },
      republish: { src: "source", dest: "dest", "headers_only": false },
      metadata: {},
    };
    const si = await addStream(nc, cfg);
    assertEquals(si.config.mirror.name, "mirror");
    assertEquals(si.config.placement, cfg.placement);
  },
});

Deno.test("TestJetStreamSourcingClipStartSeq: a source start past the origin's end is clipped to its next message", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "ORIGIN", subjects: ["test"] });
  for (let i = 0; i < 10; i++) await send(nc, "test");
  await addStream(nc, { name: "SOURCING", sources: [{ name: "ORIGIN", "opt_start_seq": 20 }] });
  await delay(200);
  // Go reads the sourcing consumer's o.sseq (11); black-box: the origin's next message (11) is sourced.
  await send(nc, "test", "eleven");
  await checkFor(2_000, 50, async () => assertEquals((await streamInfo(nc, "SOURCING")).state.messages, 1));
  const m = await jsApi(nc, "$JS.API.STREAM.MSG.GET.SOURCING", { seq: 1 });
  const hdr = dec.decode(Uint8Array.from(atob(m.message.hdrs), (c) => c.charCodeAt(0)));
  assertStringIncludes(hdr, "Nats-Stream-Source: ORIGIN 11");
});

Deno.test("TestJetStreamMirroringClipStartSeq: a mirror start past the origin's end is clipped to its next message", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "ORIGIN", subjects: ["test"] });
  for (let i = 0; i < 10; i++) await send(nc, "test");
  await addStream(nc, { name: "MIRRORING", mirror: { name: "ORIGIN", "opt_start_seq": 20 } });
  await delay(200);
  await send(nc, "test", "eleven");
  await checkFor(2_000, 50, async () => {
    const si = await streamInfo(nc, "MIRRORING");
    assertEquals(si.state.messages, 1);
    assertEquals(si.state.last_seq, 11);
  });
});

// blocked: drives the server's internal delayed API error queue (sendDelayedAPIErrResponse, raft group
// cancellation) directly; natsdeno has no such queue reachable from outside.
Deno.test({
  name: "TestJetStreamDelayedAPIResponses: delayed API error responses keep their order",
  ignore: true,
  async fn() {
    await using s = await runBasic();
    await using nc = await clientFor(s);
    const sub = new SyncSub(nc, "$JS.EVENT.ADVISORY.API");
    await nc.flush();
    const r = await jsApi(nc, "$JS.API.STREAM.INFO.NONE");
    assertEquals(r.error?.err_code, 10059);
    const audit = (await sub.must(1_000)).json<Json>();
    assertEquals(audit.request, "");
  },
});

Deno.test("TestJetStreamMemoryPurgeClearsSubjectsState: a purge to a sequence clears the memory store's subjects", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"], storage: "memory" });
  assertEquals((await send(nc, "foo")).seq, 1);
  let si = await streamInfo(nc, "TEST", { "subjects_filter": ">" });
  assertEquals(si.state.subjects, { foo: 1 });
  assertEquals((await jsApi(nc, "$JS.API.STREAM.PURGE.TEST", { seq: 100 })).success, true);
  si = await streamInfo(nc, "TEST", { "subjects_filter": ">" });
  assertEquals(Object.keys(si.state.subjects ?? {}).length, 0);
});

// Go calls js.wouldExceedLimits directly; through the API the same bound shows in max_bytes reservations.
Deno.test("TestJetStreamWouldExceedLimits: reserving exactly the server limit is allowed, one byte more is not", async () => {
  const limit = 1024 * 1024;
  await using s = await runRealJs({ jetStreamMaxMemory: limit, jetStreamMaxStore: limit }, "natsdeno-jspc-");
  await using nc = await clientFor(s);
  for (const storage of ["memory", "file"]) {
    await addStream(nc, { name: "EXACT", storage, "max_bytes": limit });
    await jsApi(nc, "$JS.API.STREAM.DELETE.EXACT");
    const r = await jsApi(nc, "$JS.API.STREAM.CREATE.OVER", {
      name: "OVER",
      storage,
      "max_bytes": limit + 1,
    });
    assert(r.error !== undefined, `${storage}: expected an error`);
    assertEquals(r.error.code, 500);
  }
});
