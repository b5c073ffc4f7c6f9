// Ports of single-server tests of nats-server server/jetstream_test.go (2.9.10), second share, continued from
// jetstream_ports_b_test.ts: restore request checks, stream/consumer updates, imports with reload and subject
// mapping, work queue sources across restarts, republish, path separators in names, subject overlap, purge of
// an account, dangling messages. Go test names kept, in Go's order; tests that need a cluster, leaf nodes or
// Go internals stay ignored with the reason.

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { connect } from "@nats-io/transport-node";
import { healthz } from "../../src/monitor/mod.ts";
import type { JetStream } from "../../src/jetstream/jetstream.ts";
import { decodeConsumerState, encodeConsumerState } from "../../src/store/_consumer_state.ts";
import { accountJwt, createAccount, OJWT, oKp } from "../_helpers/jwt.ts";
import { reloadUpdateConfig } from "../server/_util.ts";
import { checkFor, delay } from "../_helpers/server.ts";
import {
  ackSync,
  addConsumer,
  addStream,
  clientAs,
  clientFor,
  consumerInfo,
  createConfFile,
  dec,
  enc,
  fetch,
  jsApi,
  type Json,
  jsPublish,
  MS,
  newInbox,
  restart,
  runServer,
  runServerWithConfig,
  SEC,
  streamInfo,
  SyncSub,
  unlimitedLimits,
  updateStream,
  userCreds,
} from "./_ports_b_helpers.ts";

const COMMON_ACC_SECTION = `
  no_auth_user: u
  accounts {
    ONE {
      users = [ { user: "u", pass: "s3cr3t!" } ]
      jetstream: {
        max_store: 1Mb
        max_streams: 1
      }
    }
    $SYS { users = [ { user: "admin", pass: "s3cr3t!" } ] }
  }`;

// The "clustered" subtest needs a 3-server JetStream cluster, which natsdeno does not have; "single" runs.
Deno.test("TestJetStreamInvalidRestoreRequests: restore requests are checked against config and limits", async (t) => {
  await t.step("single", async () => {
    const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jspb-" });
    const conf = await createConfFile(`
      listen: 127.0.0.1:-1
      jetstream: {max_mem_store: 2MB, max_file_store: 8MB, store_dir: '${storeDir}'}
      ${COMMON_ACC_SECTION}`);
    await using s = await runServerWithConfig(conf);
    await using nc = await clientFor(s);
    const requireFail = async (cfg: Record<string, unknown>, errDesc: string) => {
      const r = await jsApi(nc, "$JS.API.STREAM.RESTORE.fail", { config: cfg });
      assert(r.error !== undefined, `expected an error for ${JSON.stringify(cfg)}`);
      assertEquals(r.error.description, errDesc);
    };
    await requireFail(
      { name: "fail", "max_bytes": 1024, storage: "file", "num_replicas": 6 },
      "maximum replicas is 5",
    );
    await requireFail(
      { name: "fail", "max_bytes": 2 * 1012 * 1024, storage: "file", "num_replicas": 1 },
      "insufficient storage resources available",
    );
    await addStream(nc, { name: "stream", "max_bytes": 1024, storage: "file", "num_replicas": 1 });
    await requireFail(
      { name: "fail", "max_bytes": 1024, storage: "file" },
      "maximum number of streams reached",
    );
  });
});

// The "clustered" subtests (R3 and R1 in a 3-server cluster) need clustering, which natsdeno does not have.
Deno.test("TestJetStreamConsumerStreamUpdate: updates with and without changes succeed", async (t) => {
  await t.step("single", async () => {
    const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jspb-" });
    const conf = await createConfFile(`
      listen: 127.0.0.1:-1
      jetstream: {max_mem_store: 2MB, max_file_store: 8MB, store_dir: '${storeDir}'}`);
    await using s = await runServerWithConfig(conf);
    await using nc = await clientFor(s);
    const cfg = { name: "foo", "duplicate_window": 60 * SEC, "num_replicas": 1 };
    await addStream(nc, cfg);
    try {
      assertEquals((await updateStream(nc, cfg)).error, undefined);
      assertEquals((await updateStream(nc, { ...cfg, description: "stream" })).error, undefined);
      await addConsumer(nc, "foo", { "durable_name": "dur1", "ack_policy": "explicit" });
      const update = (config: Record<string, unknown>) =>
        jsApi(nc, "$JS.API.CONSUMER.CREATE.foo.dur1", { "stream_name": "foo", config, action: "update" });
      assertEquals((await update({ "durable_name": "dur1", "ack_policy": "explicit" })).error, undefined);
      assertEquals(
        (await update({ description: "consumer", "durable_name": "dur1", "ack_policy": "explicit" })).error,
        undefined,
      );
    } finally {
      await jsApi(nc, "$JS.API.STREAM.DELETE.foo");
    }
  });
});

Deno.test("TestJetStreamImportReload: removing a stream import on reload stops the imported messages", async () => {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jspb-" });
  const conf = await createConfFile(`
    listen: 127.0.0.1:-1
    jetstream: {max_mem_store: 2MB, max_file_store: 8MB, store_dir: '${storeDir}'}
    accounts: {
      account_a: {
        users: [{user: user_a, password: pwd}]
        exports: [{stream: news.>}]
      }
      account_b: {
        users: [{user: user_b, password: pwd}]
        jetstream: enabled
        imports: [{stream: {subject: news.>, account: account_a}}]
      }
    }`);
  await using s = await runServerWithConfig(conf);
  await using ncA = await clientAs(s, "user_a", "pwd");
  await using ncB = await clientAs(s, "user_b", "pwd");
  await addStream(ncB, { name: "news", subjects: ["news.>"] });
  ncA.publish("news.article");
  await ncA.flush();
  await checkFor(1_000, 10, async () => assertEquals((await streamInfo(ncB, "news")).state.messages, 1));
  await reloadUpdateConfig(
    s,
    conf,
    `
    listen: 127.0.0.1:-1
    jetstream: {max_mem_store: 2MB, max_file_store: 8MB, store_dir: '${storeDir}'}
    accounts: {
      account_a: {
        users: [{user: user_a, password: pwd}]
      }
      account_b: {
        users: [{user: user_b, password: pwd}]
        jetstream: enabled
      }
    }`,
  );
  ncA.publish("news.article");
  await ncA.flush();
  await delay(50);
  assertEquals((await streamInfo(ncB, "news")).state.messages, 1);
});

Deno.test("TestJetStreamImportConsumerStreamSubjectRemapSingle: deliveries keep their subject across imports", async (t) => {
  const conf = await createConfFile(`
    listen: 127.0.0.1:-1
    jetstream: {max_mem_store: 4GB, max_file_store: 1TB, store_dir: '${await Deno.makeTempDir({
    prefix: "natsdeno-jspb-",
  })}'}
    accounts: {
      JS: {
        jetstream: enabled
        users: [ {user: js, password: pwd} ]
        exports [
          # This is streaming to a delivery subject for a push based consumer.
          { stream: "deliver.*" }
          { stream: "foo.*" }
          # This is to ack received messages. This is a service to support sync ack.
          { service: "$JS.ACK.ORDERS.*.>" }
          # To support ordered consumers, flow control.
          { service: "$JS.FC.>" }
        ]
      },
      IM: {
        users: [ {user: im, password: pwd} ]
        imports [
          { stream:  { account: JS, subject: "deliver.ORDERS" }, to: "d.*" }
          { stream:  { account: JS, subject: "foo.*" }, to: "bar.*" }
          { service: { account: JS, subject: "$JS.FC.>" }}
        ]
      },
    }
  `);
  for (const queue of [false, true]) {
    await t.step(queue ? "queue" : "noqueue", async () => {
      await using s = await runServerWithConfig(conf);
      await using nc = await clientAs(s, "js", "pwd");
      await addStream(nc, { name: "ORDERS", subjects: ["foo"], storage: "memory" });
      await jsPublish(nc, "foo", "OK");
      const queueName = queue ? "queue" : undefined;
      await addConsumer(nc, "ORDERS", {
        "deliver_subject": "deliver.ORDERS",
        "ack_policy": "explicit",
        "deliver_group": queueName,
      });
      await using nc2 = await clientAs(s, "im", "pwd");
      let sub = new SyncSub(nc2, "d.ORDERS", queueName);
      let m = await sub.must(1_000);
      assertEquals(m.subject, "foo", "Subject not mapped correctly across account boundary");
      // Now one that would kick in a transform.
      await addConsumer(nc, "ORDERS", {
        "deliver_subject": "foo.ORDERS",
        "ack_policy": "explicit",
        "deliver_group": queueName,
      });
      sub = new SyncSub(nc2, "bar.ORDERS", queueName);
      m = await sub.must(1_000);
      assertEquals(m.subject, "foo", "Subject not mapped correctly across account boundary");
    });
  }
});

/** Waits until /healthz reports ok (Go's s.healthz(nil) loop). */
async function waitHealthy(s: Parameters<typeof healthz>[0]): Promise<void> {
  await checkFor(10_000, 200, () => {
    const hs = healthz(s);
    if (hs.status !== "ok" || hs.error) throw new Error(`healthz ${hs.error} ${hs.status}`);
  });
}

Deno.test("TestJetStreamWorkQueueSourceRestart: a drained work queue sourcing a stream stays empty after a restart", async () => {
  let s = await runServer();
  try {
    let nc = await clientFor(s);
    const sent = 10;
    await addStream(nc, { name: "FOO", "num_replicas": 1, subjects: ["foo"] });
    for (let i = 0; i < sent; i++) await jsPublish(nc, "foo");
    await addStream(nc, {
      name: "TEST",
      "num_replicas": 1,
      retention: "workqueue",
      sources: [{ name: "FOO" }],
    });
    await addConsumer(nc, "TEST", { "durable_name": "dur", "ack_policy": "explicit" });
    // js.PullSubscribe("foo", "dur", nats.BindStream("TEST")) binds to the existing durable.
    await checkFor(
      2_000,
      20,
      async () => assertEquals((await consumerInfo(nc, "TEST", "dur")).num_pending, sent),
    );
    const msgs = await fetch(nc, "TEST", "dur", sent, 2_000);
    assertEquals(msgs.length, sent);
    for (const m of msgs) await ackSync(nc, m);
    assertEquals((await consumerInfo(nc, "TEST", "dur")).num_pending, 0);
    await checkFor(1_000, 10, async () => assertEquals((await streamInfo(nc, "TEST")).state.messages, 0));
    await nc.close();
    s = await restart(s, () => delay(200));
    await waitHealthy(s);
    nc = await clientFor(s);
    const si = await streamInfo(nc, "TEST");
    assertEquals(si.state.messages, 0, "Expected 0 messages on restart");
    assertEquals((await consumerInfo(nc, "TEST", "dur")).num_pending, 0, "Expected pending of 0");
    const more = await fetch(nc, "TEST", "dur", 1, 1_000);
    assertEquals(more.length, 0);
    await nc.close();
  } finally {
    await s.shutdown();
  }
});

Deno.test("TestJetStreamWorkQueueSourceNamingRestart: a work queue recovered after its sources keeps its count", async () => {
  let s = await runServer();
  try {
    let nc = await clientFor(s);
    await addStream(nc, { name: "C1", subjects: ["foo.*"] });
    await addStream(nc, { name: "C2", subjects: ["bar.*"] });
    const sendCount = 10;
    for (let i = 0; i < sendCount; i++) {
      await jsPublish(nc, `foo.${i}`);
      await jsPublish(nc, `bar.${i}`);
    }
    const pending = 1;
    const streams = 2;
    const totalPending = streams * pending;
    const totalMsgs = streams * sendCount;
    const totalNonPending = streams * (sendCount - pending);
    // Named D so that it is recovered after C1 and C2.
    const srcName = "D";
    await addStream(nc, { name: srcName, retention: "workqueue", sources: [{ name: "C1" }, { name: "C2" }] });
    await addConsumer(nc, srcName, { "durable_name": "dur", "ack_policy": "explicit" });
    await checkFor(5_000, 200, async () => {
      const ci = await consumerInfo(nc, srcName, "dur");
      if (ci.num_pending !== totalMsgs) throw new Error(`not enough messages: ${ci.num_pending}`);
    });
    const msgs = await fetch(nc, srcName, "dur", totalNonPending, 2_000);
    assertEquals(msgs.length, totalNonPending);
    for (const m of msgs) await ackSync(nc, m);
    assertEquals((await consumerInfo(nc, srcName, "dur")).num_pending, totalPending);
    assertEquals((await streamInfo(nc, srcName)).state.messages, totalPending);
    await nc.close();
    s = await restart(s, () => delay(200));
    await waitHealthy(s);
    nc = await clientFor(s);
    // Let the sources catch up after the restart: they must not bring back the consumed messages.
    await delay(250);
    assertEquals((await streamInfo(nc, srcName)).state.messages, totalPending);
    await nc.close();
  } finally {
    await s.shutdown();
  }
});

// Go's s.DisableJetStream() is the JetStream instance's disable() here (what also happens when storage fails).
Deno.test("TestJetStreamDisabledHealthz: healthz reports JetStream turned off at runtime", async () => {
  await using s = await runServer();
  assert(s.jetStream !== undefined, "Expected JetStream to be enabled");
  assertEquals(healthz(s), { status: "ok" });
  (s.jetStream.impl as JetStream).disable();
  const hs = healthz(s, { jsEnabledOnly: true });
  assertEquals(hs, { status: "unavailable", error: "JetStream not enabled (10076)" });
  // And the API says so.
  await using nc = await clientFor(s);
  assertEquals((await jsApi(nc, "$JS.API.INFO")).error?.err_code, 10039);
});

Deno.test("TestJetStreamStreamRepublishCycle: republish destinations that feed the stream are refused", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const cfg: Record<string, unknown> = {
    name: "RPC",
    storage: "memory",
    subjects: ["foo.>", "bar.*", "baz"],
  };
  const expectFail = async () => {
    const r = await jsApi(nc, "$JS.API.STREAM.CREATE.RPC", cfg);
    assertEquals(r.type, "io.nats.jetstream.api.v1.stream_create_response");
    assert(r.error !== undefined, "Expected error but got none");
    assert(
      r.error.description.includes("republish destination forms a cycle"),
      `Expected cycle error, got ${r.error.description}`,
    );
  };
  cfg.republish = { src: "foo.>", dest: "foo.>" };
  await expectFail();
  cfg.republish = { src: "bar.bar", dest: "foo.bar" };
  await expectFail();
  cfg.republish = { src: "baz", dest: "bar.bar" };
  await expectFail();
});

/** Publishes `n` messages of 512 bytes to `subj` and waits for every ack (PublishAsync + complete). */
async function publishAll(nc: Awaited<ReturnType<typeof clientFor>>, subj: string, n: number): Promise<void> {
  const msg = "Z".repeat(512);
  await Promise.all(Array.from({ length: n }, () => jsPublish(nc, subj, msg)));
}

/**
 * Stream1 (memory, on `subjects`) republishing with `republish`: publishes 100 messages to `pub`, then checks that
 * `want` of them reach `watch` (with a payload), or, for 0, that none does.
 */
async function checkRepublish(
  subjects: string[],
  republish: Record<string, unknown>,
  watch: string,
  pub: string,
  want: number,
): Promise<void> {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "Stream1", storage: "memory", subjects, republish });
  const sub = new SyncSub(nc, watch);
  await nc.flush();
  await publishAll(nc, pub, 100);
  if (want === 0) {
    await nc.flush();
    await delay(50);
    assertEquals(sub.pending(), 0);
    return;
  }
  await checkFor(2_000, 10, () => assertEquals(sub.pending(), want));
  const m = await sub.must(1_000);
  assert(m.data.length > 0, "Expected msg data");
}

Deno.test("TestJetStreamStreamRepublishMultiTokenMatch: a multi-token source republishes every match", async () => {
  const republish = { src: "one.two.>", dest: "uno.dos.>", "headers_only": false };
  await checkRepublish(["one.>", "four.>"], republish, "uno.dos.>", "one.two.three", 100);
});

Deno.test("TestJetStreamStreamRepublishAnySubjectMatch: no source republishes every stored message", async () => {
  const republish = { dest: "uno.dos.>", "headers_only": false };
  await checkRepublish(["one.>", "four.>"], republish, "uno.dos.>", "one.two.three", 100);
});

Deno.test("TestJetStreamStreamRepublishMultiTokenNoMatch: other subjects are not republished", async () => {
  const republish = { src: "one.two.>", dest: "uno.dos.>", "headers_only": true };
  await checkRepublish(["one.>", "four.>"], republish, "uno.dos.>", "four.five.six", 0);
});

Deno.test("TestJetStreamStreamRepublishOneTokenNoMatch: a literal source does not match other subjects", async () => {
  await checkRepublish(["one", "four"], { src: "one", dest: "uno", "headers_only": true }, "uno", "four", 0);
});

Deno.test("TestJetStreamConsumerDeliverNewNotConsumingBeforeRestart: deliver-new pending survives a restart", async () => {
  let s = await runServer();
  try {
    let nc = await clientFor(s);
    await addStream(nc, { name: "TEST", subjects: ["foo"] });
    const inbox = newInbox();
    await addConsumer(nc, "TEST", {
      "deliver_subject": inbox,
      "durable_name": "dur",
      "ack_policy": "explicit",
      "deliver_policy": "new",
      "filter_subject": "foo",
    });
    for (let i = 0; i < 10; i++) await jsPublish(nc, "foo", "msg");
    const checkCount = (expected: number) =>
      checkFor(2_000, 15, async () => {
        const n = (await consumerInfo(nc, "TEST", "dur")).num_pending;
        if (n !== expected) throw new Error(`Expected ${expected} pending, got ${n}`);
      });
    await checkCount(10);
    await delay(300);
    await nc.close();
    s = await restart(s);
    nc = await clientFor(s);
    await checkCount(10);
    // The messages can be consumed.
    const sub = new SyncSub(nc, inbox);
    for (let i = 0; i < 10; i++) await ackSync(nc, await sub.must(1_000));
    await checkCount(0);
    await nc.close();
  } finally {
    await s.shutdown();
  }
});

Deno.test("TestJetStreamConsumerAndStreamNamesWithPathSeparators: names with / or \\ are refused", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const streamErr = {
    code: 400,
    "err_code": 10128,
    description: "Stream name can not contain path separators",
  };
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.usr/bin", { name: "usr/bin", storage: "file" });
  assertEquals(r.error, streamErr);
  // "Documents\readme.txt" has a dot: nats.go refuses it before sending (ErrInvalidStreamName), and over the
  // raw API its create subject has one token too many, so nothing answers (nats-server 2.9.10 alike).
  const name = "Documents\\readme.txt";
  const body = JSON.stringify({ name, storage: "file" });
  const noAnswer = await nc.request(`$JS.API.STREAM.CREATE.${name}`, body, { timeout: 300 }).then(
    () => false,
    () => true,
  );
  assert(noAnswer, "a create subject with an extra token got an answer");
  await addStream(nc, { name: "T" });
  const consumerErr = {
    code: 400,
    "err_code": 10127,
    description: "Consumer name can not contain path separators",
  };
  for (const name of ["a/b", "a\\b"]) {
    const r = await jsApi(nc, `$JS.API.CONSUMER.DURABLE.CREATE.T.${name}`, {
      "stream_name": "T",
      config: { "durable_name": name, "ack_policy": "explicit" },
    });
    assertEquals(r.error, consumerErr);
  }
});

const BENCH_REASON = "a benchmark in Go, skipped there too; speed is measured by deno task bench";

Deno.test({ name: `TestJetStreamKVMemoryStorePerf: ${BENCH_REASON}`, ignore: true, fn() {} });

Deno.test({ name: `TestJetStreamKVMemoryStoreDirectGetPerf: ${BENCH_REASON}`, ignore: true, fn() {} });

Deno.test({ name: `TestJetStreamMultiplePullPerf: ${BENCH_REASON}`, ignore: true, fn() {} });

// The "clustered" subtest runs the same against a 3-server cluster, which natsdeno does not have.
Deno.test("TestJetStreamProperErrorDueToOverlapSubjects: an overlapping stream gets the overlap error", async (t) => {
  await t.step("standalone", async () => {
    await using s = await runServer();
    await using nc = await clientFor(s);
    await addStream(nc, { name: "TEST", subjects: ["foo.*"] });
    const r = await jsApi(nc, "$JS.API.STREAM.CREATE.TEST2", {
      name: "TEST2",
      subjects: ["foo.>"],
      storage: "file",
    });
    assertEquals(r.error?.err_code, 10065, `Did not receive correct error: ${JSON.stringify(r)}`);
  });
});

Deno.test("TestJetStreamServerCipherConvert: a store written with AES opens with ChaCha configured", async () => {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jspb-" });
  const tmpl = (cipher: string) => `
    listen: 127.0.0.1:-1
    jetstream: {key: s3cr3t, store_dir: '${storeDir}', cipher: ${cipher}}
  `;
  let si: Json;
  let ci: Json;
  {
    await using s = await runServerWithConfig(await createConfFile(tmpl("AES")));
    await using nc = await clientFor(s);
    await addStream(nc, { name: "TEST", subjects: ["foo"] });
    for (let i = 0; i < 1000; i++) await jsPublish(nc, "foo", `TOP SECRET DOCUMENT #${i + 1}`);
    // Consumers convert as well.
    await addConsumer(nc, "TEST", {
      "durable_name": "dlc",
      "ack_policy": "explicit",
      "filter_subject": "foo",
    });
    const msgs = await fetch(nc, "TEST", "dlc", 100, 5_000);
    assertEquals(msgs.length, 100);
    for (const m of msgs) await ackSync(nc, m);
    si = await streamInfo(nc, "TEST");
    ci = await consumerInfo(nc, "TEST", "dlc");
  }
  await using s = await runServerWithConfig(await createConfFile(tmpl("ChaCha")));
  await using nc = await clientFor(s);
  const si2 = await streamInfo(nc, "TEST");
  delete si.ts, delete si2.ts;
  assertEquals(si2, si, "Stream infos did not match");
  const ci2 = await consumerInfo(nc, "TEST", "dlc");
  for (const x of [ci, ci2]) {
    delete x.created, delete x.ts, delete x.cluster;
    delete x.delivered.last_active, delete x.ack_floor.last_active;
  }
  assertEquals(ci2, ci, "Consumer infos did not match");
});

Deno.test("TestJetStreamConsumerDeliverNewMaxRedeliveriesAndServerRestart: max_deliver reached stays reached", async () => {
  let s = await runServer();
  try {
    let nc = await clientFor(s);
    await addStream(nc, { name: "TEST", subjects: ["foo.*"] });
    const inbox = newInbox();
    await addConsumer(nc, "TEST", {
      "deliver_subject": inbox,
      "durable_name": "dur",
      "ack_policy": "explicit",
      "deliver_policy": "new",
      "max_deliver": 3,
      "ack_wait": 250 * MS,
      "filter_subject": "foo.bar",
    });
    await jsPublish(nc, "foo.bar", "msg");
    let sub = new SyncSub(nc, inbox);
    for (let i = 0; i < 3; i++) await sub.must(1_000);
    // No more redeliveries.
    assertEquals(await sub.next(300), null, "Expected timeout");
    // Give things a chance to be persisted.
    await delay(300);
    await nc.close();
    s = await restart(s);
    nc = await clientFor(s);
    sub = new SyncSub(nc, inbox);
    assertEquals(await sub.next(300), null, "no redelivery expected after the restart");
    await nc.close();
  } finally {
    await s.shutdown();
  }
});

// Go also drops the mirror's first block's per-subject state (mb.fss = nil, an internal of its file store)
// before the last publish; natsdeno's FileStore keeps no such per-block state, so the flow runs without it.
Deno.test("TestJetStreamConsumerEOFBugNewFileStore: a wildcard consumer on a mirror gets messages after a lull", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.bar.*"] });
  await addStream(nc, { name: "M", mirror: { name: "TEST" } });
  const dsubj = newInbox();
  const sub = new SyncSub(nc, dsubj);
  await nc.flush();
  await addConsumer(nc, "M", { "deliver_subject": dsubj, "filter_subject": "foo.>" });
  await Promise.all(Array.from({ length: 100 }, () => jsPublish(nc, "foo.bar.baz", "OK")));
  for (let i = 0; i < 100; i++) (await sub.must(1_000)).respond();
  await jsPublish(nc, "foo.bar.baz", "OK");
  await sub.must(1_000);
});

Deno.test(
  "TestJetStreamSubjectBasedFilteredConsumers: consumer creates allowed only with their filter in the subject",
  testSubjectBasedFilteredConsumers,
);

async function testSubjectBasedFilteredConsumers(): Promise<void> {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jspb-" });
  const conf = await createConfFile(`
    listen: 127.0.0.1:-1
    jetstream: {max_mem_store: 64GB, max_file_store: 10TB, store_dir: '${storeDir}'}
    accounts: {
      A: {
        jetstream: enabled
        users: [ {
          user: u,
          password: p
          permissions {
            publish {
              allow: [
                'ID.>',
                '$JS.API.INFO',
                '$JS.API.STREAM.>',
                '$JS.API.CONSUMER.INFO.>',
                '$JS.API.CONSUMER.CREATE.TEST.VIN-xxx.ID.foo.>', # Only allow ID.foo.
              ]
              deny: [ '$JS.API.CONSUMER.CREATE.*', '$JS.API.CONSUMER.DURABLE.CREATE.*.*']
            }
          }
        } ]
      },
    }
  `);
  await using s = await runServerWithConfig(conf);
  await using nc = await clientAs(s, "u", "p");
  await addStream(nc, { name: "TEST", subjects: ["ID.*.*"] });
  for (let i = 0; i < 100; i++) {
    await jsPublish(nc, `ID.foo.${i * 3}`);
    await jsPublish(nc, `ID.bar.${i * 3 + 1}`);
    await jsPublish(nc, `ID.baz.${i * 3 + 2}`);
  }
  assertEquals((await streamInfo(nc, "TEST")).state.messages, 300);
  /** A request that must get no answer (the publish permission drops it). */
  const noAnswer = async (subj: string, body: unknown) => {
    const got = await nc.request(subj, JSON.stringify(body), { timeout: 200 }).then(() => true, () => false);
    assert(!got, `${subj} was answered`);
  };
  // Consumers through the unfiltered API fail (ephemeral and durable).
  const push = { "deliver_subject": newInbox(), "ack_policy": "explicit", "filter_subject": "ID.foo.*" };
  await noAnswer("$JS.API.CONSUMER.CREATE.TEST", { "stream_name": "TEST", config: push });
  await noAnswer("$JS.API.CONSUMER.DURABLE.CREATE.TEST.dlc", {
    "stream_name": "TEST",
    config: { ...push, "durable_name": "dlc" },
  });
  // Filtered through the subject works.
  const req = {
    "stream_name": "TEST",
    config: { "deliver_policy": "last", "filter_subject": "ID.foo.*", "ack_policy": "explicit" },
  };
  const m = await nc.request("$JS.API.CONSUMER.CREATE.TEST.VIN-xxx.ID.foo.*", JSON.stringify(req), {
    timeout: 500,
  });
  const cc = JSON.parse(dec.decode(m.data));
  assertEquals(cc.error, undefined, "Unexpected error");
  // An ephemeral with the preferred name and the default inactive threshold.
  assertEquals(cc.name, "VIN-xxx");
  assert(cc.config.inactive_threshold > 0, "Expected default inactive threshold to be set");
  // Another consumer name is not allowed.
  await noAnswer("$JS.API.CONSUMER.CREATE.TEST.VIN-zzz.ID.foo.*", req);
  // A filter that does not match the subject's is an error.
  const req2 = {
    "stream_name": "TEST",
    config: { "deliver_policy": "last", "filter_subject": "ID.bar.*", "ack_policy": "explicit" },
  };
  const r2 = await jsApi(nc, "$JS.API.CONSUMER.CREATE.TEST.VIN-xxx.ID.foo.*", req2);
  assertEquals(r2.error?.err_code, 10131, JSON.stringify(r2.error));
  // And ID.bar.* is not allowed by the permissions.
  await noAnswer("$JS.API.CONSUMER.CREATE.TEST.VIN-xxx.ID.bar.*", req2);
}

Deno.test("TestJetStreamStreamSubjectsOverlap: subjects overlapping each other are refused on create and update", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  let r = await jsApi(nc, "$JS.API.STREAM.CREATE.TEST", {
    name: "TEST",
    subjects: ["foo.*", "foo.A"],
    storage: "file",
  });
  assert(r.error !== undefined);
  assertStringIncludes(r.error.description, "overlaps");
  await addStream(nc, { name: "TEST", subjects: ["foo.*"] });
  r = await updateStream(nc, { name: "TEST", subjects: ["foo.*", "foo.A"] });
  assert(r.error !== undefined);
  assertStringIncludes(r.error.description, "overlaps");
});

Deno.test("TestJetStreamAccountPurge: the system account purges an account's streams and directory", async () => {
  const sysKp = createAccount();
  const syspub = sysKp.getPublicKey();
  const sysJwt = accountJwt(sysKp, {}, oKp);
  const accKp = createAccount();
  const accpub = accKp.getPublicKey();
  const accJwt = accountJwt(accKp, {
    limits: {
      ...unlimitedLimits(),
      "disk_storage": 1024 * 1024 * 5,
      "mem_storage": 1024 * 1024 * 5,
    },
  }, oKp);
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jspb-" });
  const conf = await createConfFile(`
    host: 127.0.0.1
    port: -1
    server_name: S1
    operator: ${OJWT}
    system_account: ${syspub}
    resolver: {
      type: full
      dir: '${storeDir}/jwt'
    }
    jetstream: {max_mem_store: 256MB, max_file_store: 2GB, store_dir: '${storeDir}/js'}
  `);
  let s = await runServerWithConfig(conf);
  try {
    const updateJwt = async (jwt: string) => {
      const nc = await connect({ servers: s.clientUrl(), authenticator: userCreds(sysKp) });
      try {
        const m = await nc.request("$SYS.REQ.CLAIMS.UPDATE", enc.encode(jwt), { timeout: 2_000 });
        assertEquals(JSON.parse(dec.decode(m.data)).data?.code, 200);
      } finally {
        await nc.close();
      }
    };
    await updateJwt(sysJwt);
    await updateJwt(accJwt);
    const inspectDirs = async (accTotal: number) => {
      if (accTotal === 0) {
        const files = await Array.fromAsync(Deno.readDir(`${storeDir}/js/jetstream/${accpub}`)).catch(
          () => [],
        );
        assertEquals(files.length, 0);
      } else {
        const files = await Array.fromAsync(Deno.readDir(`${storeDir}/js/jetstream/${accpub}/streams`));
        assertEquals(files.length, accTotal);
      }
    };
    const createTestData = async () => {
      const nc = await connect({ servers: s.clientUrl(), authenticator: userCreds(accKp) });
      try {
        await addStream(nc, { name: "TEST1", subjects: ["foo"] });
        await addConsumer(nc, "TEST1", { "durable_name": "DUR1", "ack_policy": "explicit" });
      } finally {
        await nc.close();
      }
    };
    const purge = async () => {
      const nc = await connect({ servers: s.clientUrl(), authenticator: userCreds(sysKp) });
      try {
        const m = await nc.request(`$JS.API.ACCOUNT.PURGE.${accpub}`, undefined, { timeout: 5_000 });
        const resp = JSON.parse(dec.decode(m.data));
        assertEquals(resp.initiated, true, JSON.stringify(resp));
      } finally {
        await nc.close();
      }
    };
    await createTestData();
    await inspectDirs(1);
    await purge();
    await inspectDirs(0);
    await createTestData();
    await inspectDirs(1);
    await s.shutdown();
    // Without the account's JWT the account is unknown after the restart; its directory is purged anyway.
    await Deno.remove(`${storeDir}/jwt/${accpub}.jwt`);
    s = await runServerWithConfig(conf);
    await inspectDirs(1);
    await purge();
    await inspectDirs(0);
  } finally {
    await s.shutdown();
  }
});

Deno.test("TestJetStreamPullConsumerLastPerSubjectRedeliveries: redeliveries of a last-per-subject consumer come first", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.>"] });
  for (let i = 0; i < 20; i++) await jsPublish(nc, `foo.${i}`, "msg");
  await addConsumer(nc, "TEST", {
    "durable_name": "dur",
    "ack_policy": "explicit",
    "deliver_policy": "last_per_subject",
    "filter_subject": ">",
    "max_ack_pending": 10,
    "max_batch": 10,
    "ack_wait": 250 * MS,
  });
  // Fetch as many as allowed and do not ack them.
  assertEquals((await fetch(nc, "TEST", "dur", 10, 1_000)).length, 10);
  // Past the redelivery time.
  await delay(500);
  const msgs = await fetch(nc, "TEST", "dur", 10, 1_000);
  assertEquals(msgs.length, 10);
  for (const [i, m] of msgs.entries()) {
    assertEquals(m.subject, `foo.${i}`);
    m.respond();
  }
});

Deno.test("TestJetStreamDanglingMessageAutoCleanup: an interest stream drops what its consumers have acked on restart", async () => {
  let s = await runServer();
  try {
    let nc = await clientFor(s);
    await addStream(nc, { name: "TEST", subjects: ["foo"], retention: "interest" });
    await addConsumer(nc, "TEST", {
      "durable_name": "dlc",
      "ack_policy": "explicit",
      "filter_subject": "foo",
      "max_ack_pending": 10,
    });
    for (let i = 0; i < 100; i++) await jsPublish(nc, "foo", "msg");
    const msgs = await fetch(nc, "TEST", "dlc", 10, 1_000);
    assertEquals(msgs.length, 10);
    for (const m of msgs) await ackSync(nc, m);
    assertEquals((await consumerInfo(nc, "TEST", "dlc")).ack_floor.stream_seq, 10);
    await nc.close();
    // Move the stored ack floor by hand to 90 to make dangling messages.
    const cstore = `${s.opts.storeDir}/jetstream/$G/streams/TEST/obs/dlc/o.dat`;
    s = await restart(s, async () => {
      const state = decodeConsumerState(await Deno.readFile(cstore));
      state.delivered = { consumerSeq: 90, streamSeq: 90 };
      state.ackFloor = { consumerSeq: 90, streamSeq: 90 };
      await Deno.writeFile(cstore, encodeConsumerState(state));
    });
    nc = await clientFor(s);
    const si = await streamInfo(nc, "TEST");
    assertEquals(si.state.messages, 10, "Expected auto-cleanup to have worked");
    await nc.close();
  } finally {
    await s.shutdown();
  }
});

Deno.test("TestJetStreamServerCrashOnPullConsumerDeleteWithInactiveThresholdAfterAck: delete after ack", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  await jsPublish(nc, "foo", "msg");
  await addConsumer(nc, "TEST", {
    "durable_name": "dlc",
    "ack_policy": "explicit",
    "filter_subject": "foo",
    "inactive_threshold": 10 * SEC,
  });
  const msgs = await fetch(nc, "TEST", "dlc", 1, 1_000);
  assertEquals(msgs.length, 1);
  msgs[0].respond();
  assertEquals((await jsApi(nc, "$JS.API.CONSUMER.DELETE.TEST.dlc")).success, true);
  // If the server crashed this fails.
  await streamInfo(nc, "TEST");
});

Deno.test("TestJetStreamStreamUpdateSubjectsOverlapOthers: an update may not take another stream's subjects", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["TEST"] });
  assertEquals((await updateStream(nc, { name: "TEST", subjects: ["TEST", "foo.a"] })).error, undefined);
  await addStream(nc, { name: "TEST2", subjects: ["TEST2"] });
  // foo.a fails too, but foo.* checks the wildcard overlap.
  const r = await updateStream(nc, { name: "TEST2", subjects: ["TEST2", "foo.*"] });
  assert(r.error !== undefined);
  assertStringIncludes(r.error.description, "overlap");
});

// Not a Go test: an account JWT turns JetStream on and off for its account (nats-server's configJetStream on
// each claims update); the stream stays on disk while off.
Deno.test("account JWT updates enable and disable JetStream for the account", async () => {
  const sysKp = createAccount();
  const accKp = createAccount();
  const accpub = accKp.getPublicKey();
  const base = unlimitedLimits();
  const withJs = accountJwt(accKp, { limits: { ...base, "mem_storage": -1, "disk_storage": -1 } }, oKp);
  const withoutJs = accountJwt(accKp, { limits: base }, oKp, { iat: Math.floor(Date.now() / 1000) + 1 });
  const withJsAgain = accountJwt(accKp, { limits: { ...base, "mem_storage": -1, "disk_storage": -1 } }, oKp, {
    iat: Math.floor(Date.now() / 1000) + 2,
  });
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jspb-" });
  const conf = await createConfFile(`
    listen: 127.0.0.1:-1
    operator: ${OJWT}
    system_account: ${sysKp.getPublicKey()}
    resolver: { type: full, dir: '${storeDir}/jwt' }
    jetstream: { store_dir: '${storeDir}/js' }
  `);
  await using s = await runServerWithConfig(conf);
  const sys = await connect({ servers: s.clientUrl(), authenticator: userCreds(sysKp) });
  const update = async (jwt: string) => {
    const m = await sys.request(`$SYS.REQ.ACCOUNT.${accpub}.CLAIMS.UPDATE`, enc.encode(jwt), {
      timeout: 2_000,
    });
    assertEquals(JSON.parse(dec.decode(m.data)).data?.code, 200, dec.decode(m.data));
  };
  await update(withJs);
  const acc = await connect({ servers: s.clientUrl(), authenticator: userCreds(accKp) });
  try {
    await addStream(acc, { name: "TEST", subjects: ["foo"] });
    await update(withoutJs);
    assertEquals((await jsApi(acc, "$JS.API.INFO")).error?.err_code, 10039);
    await update(withJsAgain);
    assertEquals((await jsApi(acc, "$JS.API.INFO")).streams, 1);
    await streamInfo(acc, "TEST");
  } finally {
    await acc.close();
    await sys.close();
  }
});
