// Ports of the single-server tests of the current nats-server server/jetstream_test.go that the 2.9.10 file did
// not have, continued from jetstream_ports_c_test.ts: per-message TTLs (restart, recovery, sourcing, mirroring),
// subject delete markers, max deliveries under interest retention, first sequence recovery, versioning
// metadata, cross-account mirrors with filters and transforms, large publishes, purges to a sequence, direct
// gets by time, retention changes and last-per-subject delivery, KV purge markers. Go test names kept, in Go's
// order; tests that need something natsdeno has not built stay ignored with the reason (still written out).

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { checkFor, delay } from "../_helpers/server.ts";
import {
  ackMeta,
  ackSync,
  addConsumer,
  addStream,
  clientFor,
  consumerInfo,
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
  streamInfo,
  SyncSub,
  type TestServer,
  updateStream,
} from "./_js_common.ts";
import { createConfFile, runServerWithConfig, subscribeSync } from "./_ports_b_helpers.ts";
import type { JetStream } from "../../src/jetstream/jetstream.ts";
import type { Stream } from "../../src/jetstream/stream.ts";
import type { Consumer } from "../../src/jetstream/consumer.ts";

/** RunBasicJetStreamServer: the real stores, a fresh store dir. */
function runBasic(): Promise<TestServer> {
  return runRealJs({}, "natsdeno-jspd-");
}

/** A fresh temp dir for a config's store_dir. */
function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "natsdeno-jspd-" });
}

/** jsStreamCreate: STREAM.CREATE; the parsed reply (error kept). */
function jsStreamCreate(nc: NatsConnection, cfg: Record<string, unknown>): Promise<Json> {
  return jsApi(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, cfg);
}

/** The two storage types of Go's t.Run(storage.String()). */
const STORAGES = [["File", "file"], ["Memory", "memory"]] as const;

/** Publishes on `subj` with a Nats-TTL header; fails unless stored. */
function sendTtl(nc: NatsConnection, subj: string, ttl: string, data = ""): Promise<Json> {
  return send(nc, subj, data, hdrs(["Nats-TTL", ttl]));
}

/** Asserts messages, first and last sequence of a stream. */
async function expectState(nc: NatsConnection, stream: string, msgs: number, first: number, last: number) {
  const st = (await streamInfo(nc, stream)).state;
  assertEquals([st.messages, st.first_seq, st.last_seq], [msgs, first, last]);
}

Deno.test("TestJetStreamMessageTTL: messages with a Nats-TTL expire", async (t) => {
  for (const [name, storage] of STORAGES) {
    await t.step(name, async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", storage, subjects: ["test"], "allow_msg_ttl": true });
      for (let i = 1; i <= 10; i++) await sendTtl(nc, "test", "1s");
      await expectState(nc, "TEST", 10, 1, 10);
      await delay(2_000);
      await expectState(nc, "TEST", 0, 11, 10);
    });
  }
});

Deno.test("TestJetStreamMessageTTLRestart: message TTLs survive a restart", async () => {
  let s = await runBasic();
  try {
    let nc = await clientFor(s);
    await addStream(nc, { name: "TEST", storage: "file", subjects: ["test"], "allow_msg_ttl": true });
    for (let i = 1; i <= 10; i++) await sendTtl(nc, "test", "1s");
    await expectState(nc, "TEST", 10, 1, 10);
    await nc.close();
    s = await restart(s);
    nc = await clientFor(s);
    await expectState(nc, "TEST", 10, 1, 10);
    await delay(2_000);
    await expectState(nc, "TEST", 0, 11, 10);
    await nc.close();
  } finally {
    await s.shutdown();
  }
});

// Go removes the TTL state file (msgs/thw.db) before the restart; natsdeno keeps TTLs in the block records,
// which the recovery reads either way.
Deno.test("TestJetStreamMessageTTLRecovered: message TTLs are rebuilt without the TTL state file", async () => {
  let s = await runBasic();
  try {
    let nc = await clientFor(s);
    await addStream(nc, { name: "TEST", storage: "file", subjects: ["test"], "allow_msg_ttl": true });
    for (let i = 1; i <= 10; i++) await sendTtl(nc, "test", "1s");
    await expectState(nc, "TEST", 10, 1, 10);
    await nc.close();
    const fn = `${s.opts.storeDir}/jetstream/$G/streams/TEST/msgs/thw.db`;
    s = await restart(s, () => Deno.remove(fn, { recursive: true }).catch(() => {}));
    nc = await clientFor(s);
    await expectState(nc, "TEST", 10, 1, 10);
    await delay(2_000);
    await expectState(nc, "TEST", 0, 11, 10);
    await nc.close();
  } finally {
    await s.shutdown();
  }
});

Deno.test("TestJetStreamMessageTTLInvalid: a TTL under a second or not a duration is refused", async (t) => {
  for (const [name, storage] of STORAGES) {
    await t.step(name, async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", storage, subjects: ["test"], "allow_msg_ttl": true });
      for (const ttl of ["500ms", "something"]) {
        const r = await publish(nc, "test", "", hdrs(["Nats-TTL", ttl]));
        assert(r.error !== undefined, `${ttl}: expected an error, got ${JSON.stringify(r)}`);
      }
    });
  }
});

Deno.test("TestJetStreamMessageTTLNotUpdatable: allow_msg_ttl cannot be turned off", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", storage: "file", subjects: ["test"], "allow_msg_ttl": true });
  const r = await updateStream(nc, {
    name: "TEST",
    storage: "file",
    subjects: ["test"],
    "allow_msg_ttl": false,
  });
  assert(r.error !== undefined, JSON.stringify(r));
});

Deno.test({
  name: "TestJetStreamMessageTTLNeverExpire: a TTL of never outlives max_age",
  fn: testMessageTTLNeverExpire,
});

async function testMessageTTLNeverExpire(t: Deno.TestContext): Promise<void> {
  for (const [name, storage] of STORAGES) {
    await t.step(name, async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      await addStream(nc, {
        name: "TEST",
        storage,
        subjects: ["test"],
        "allow_msg_ttl": true,
        "max_age": SEC,
      });
      await sendTtl(nc, "test", "never");
      for (let i = 1; i <= 10; i++) await send(nc, "test");
      await expectState(nc, "TEST", 11, 1, 11);
      await delay(2_000);
      await expectState(nc, "TEST", 1, 1, 11);
    });
  }
}

Deno.test("TestJetStreamMessageTTLDisabled: a Nats-TTL is refused without allow_msg_ttl", async (t) => {
  for (const [name, storage] of STORAGES) {
    await t.step(name, async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", storage, subjects: ["test"] });
      const r = await publish(nc, "test", "", hdrs(["Nats-TTL", "1s"]));
      assert(r.error !== undefined, JSON.stringify(r));
    });
  }
});

/** Origin with TTLs, and two copies (sources or mirror) with and without allow_msg_ttl. */
async function ttlCopies(
  nc: NatsConnection,
  link: (origin: string) => Record<string, unknown>,
): Promise<void> {
  await addStream(nc, { name: "Origin", storage: "file", subjects: ["test"], "allow_msg_ttl": true });
  await addStream(nc, { name: "TTLEnabled", storage: "file", ...link("Origin"), "allow_msg_ttl": true });
  await addStream(nc, { name: "TTLDisabled", storage: "file", ...link("Origin"), "allow_msg_ttl": false });
  await sendTtl(nc, "test", "1s");
}

/** Each copy delivers the TTL header; only the TTL-enabled one expires the message. */
async function checkTtlCopies(t: Deno.TestContext, nc: NatsConnection): Promise<void> {
  for (const stream of ["TTLEnabled", "TTLDisabled"]) {
    await t.step(stream, async () => {
      await addConsumer(nc, stream, {
        "durable_name": "consumer",
        "ack_policy": "explicit",
        "filter_subject": "test",
      });
      let msgs: Awaited<ReturnType<typeof fetch>> = [];
      await checkFor(2_000, 20, async () => {
        msgs = await fetch(nc, stream, "consumer", 1, 200);
        assertEquals(msgs.length, 1);
      });
      assertEquals(msgs[0].headers?.get("Nats-TTL"), "1s");
      await delay(1_000);
      const si = await streamInfo(nc, stream);
      assertEquals(si.state.messages, stream === "TTLDisabled" ? 1 : 0);
    });
  }
}

Deno.test("TestJetStreamMessageTTLWhenSourcing: sourced copies keep the TTL header and expire only where allowed", async (t) => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await ttlCopies(nc, (o) => ({ sources: [{ name: o }] }));
  await checkTtlCopies(t, nc);
});

Deno.test("TestJetStreamMessageTTLWhenMirroring: mirrored copies keep the TTL header and expire only where allowed", async (t) => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await ttlCopies(nc, (o) => ({ mirror: { name: o } }));
  await checkTtlCopies(t, nc);
});

Deno.test("TestJetStreamSubjectDeleteMarkersAfterRestart: a MaxAge marker is placed for messages recovered at restart", async () => {
  let s = await runBasic();
  try {
    let nc = await clientFor(s);
    assertEquals(
      (await jsStreamCreate(nc, {
        name: "TEST",
        storage: "file",
        subjects: ["test"],
        "max_age": SEC,
        "allow_msg_ttl": true,
        "subject_delete_marker_ttl": SEC,
      })).error,
      undefined,
    );
    await addConsumer(nc, "TEST", { name: "test_consumer", "ack_policy": "explicit" });
    for (let i = 0; i < 3; i++) await send(nc, "test");
    await nc.close();
    s = await restart(s);
    nc = await clientFor(s);
    for (let i = 0; i < 3; i++) {
      const msgs = await fetch(nc, "TEST", "test_consumer", 1, 1_000);
      assertEquals(msgs.length, 1);
      await ackSync(nc, msgs[0]);
    }
    let msgs: Awaited<ReturnType<typeof fetch>> = [];
    await checkFor(5_000, 50, async () => {
      msgs = await fetch(nc, "TEST", "test_consumer", 1, 500);
      assertEquals(msgs.length, 1);
    });
    assertEquals(msgs[0].headers?.get("Nats-Marker-Reason"), "MaxAge");
    assertEquals(msgs[0].headers?.get("Nats-TTL"), "1s");
    await nc.close();
  } finally {
    await s.shutdown();
  }
});

Deno.test("TestJetStreamSubjectDeleteMarkersTTLRollupWithMaxAge: a rollup with a TTL past max_age ends in a MaxAge marker", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, {
    name: "TEST",
    storage: "file",
    subjects: ["test"],
    "max_age": SEC,
    "allow_msg_ttl": true,
    "allow_rollup_hdrs": true,
    "subject_delete_marker_ttl": SEC,
  });
  const sub = await subscribeSync(nc, "TEST", { "filter_subject": "test" });
  for (let i = 0; i < 3; i++) await send(nc, "test");
  for (let i = 0; i < 3; i++) await ackSync(nc, await sub.must(1_000));
  await send(nc, "test", "", hdrs(["Nats-TTL", "2s"], ["Nats-Rollup", "sub"]));
  const si = await streamInfo(nc, "TEST");
  assertEquals([si.state.messages, si.state.first_seq], [1, 4]);
  let msg = await sub.must(10_000);
  assertEquals(msg.headers?.get("Nats-Rollup"), "sub");
  assertEquals(msg.headers?.get("Nats-TTL"), "2s");
  const ts = Number(ackMeta(msg).ts / 1_000_000n);
  await ackSync(nc, msg);
  msg = await sub.must(10_000);
  assert(Date.now() - ts > 1_000, "the marker came before max_age");
  assertEquals(msg.headers?.get("Nats-Marker-Reason"), "MaxAge");
  assertEquals(msg.headers?.get("Nats-TTL"), "1s");
});

Deno.test("TestJetStreamSubjectDeleteMarkersTTLRollupWithoutMaxAge: an expiring rollup leaves a marker that expires too", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  assertEquals(
    (await jsStreamCreate(nc, {
      name: "TEST",
      storage: "file",
      subjects: ["test"],
      "allow_msg_ttl": true,
      "allow_rollup_hdrs": true,
      "subject_delete_marker_ttl": SEC,
    })).error,
    undefined,
  );
  const sub = await subscribeSync(nc, "TEST", { "filter_subject": "test" });
  for (let i = 0; i < 3; i++) await send(nc, "test");
  for (let i = 0; i < 3; i++) await ackSync(nc, await sub.must(1_000));
  await send(nc, "test", "", hdrs(["Nats-TTL", "1s"], ["Nats-Rollup", "sub"]));
  let si = await streamInfo(nc, "TEST");
  assertEquals([si.state.messages, si.state.first_seq], [1, 4]);
  const msg = await sub.must(10_000);
  assertEquals(msg.headers?.get("Nats-Rollup"), "sub");
  assertEquals(msg.headers?.get("Nats-TTL"), "1s");
  await ackSync(nc, msg);
  await delay(2_500);
  si = await streamInfo(nc, "TEST");
  assertEquals([si.state.messages, si.state.first_seq], [0, 6]);
});

Deno.test("TestJetStreamSubjectDeleteMarkersWithMirror: a mirror cannot place subject delete markers", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "Origin", storage: "file", subjects: ["test"], "max_age": SEC });
  const r = await jsStreamCreate(nc, {
    name: "Mirror",
    storage: "file",
    "allow_msg_ttl": true,
    "subject_delete_marker_ttl": SEC,
    mirror: { name: "Origin" },
  });
  assert(r.error !== undefined, JSON.stringify(r));
});

// Go's "expire pending" subtests force the consumer's pending check (o.forceExpirePending); here the ack wait
// (1s) runs out instead, which runs the same check.
Deno.test("TestJetStreamInterestMaxDeliveryReached: a message past max_deliver stays for other consumers", async (t) => {
  const maxWait = 250;
  for (const useNak of [true, false]) {
    for (const title of ["fetch", "expire pending"]) {
      await t.step(`${useNak ? "" : "no-"}nak/${title}`, async () => {
        await using s = await runBasic();
        await using nc = await clientFor(s);
        await addStream(nc, {
          name: "TEST",
          storage: "file",
          subjects: ["test"],
          "num_replicas": 1,
          retention: "interest",
        });
        await addConsumer(nc, "TEST", {
          "durable_name": "consumer",
          "ack_policy": "explicit",
          "ack_wait": SEC,
          "max_deliver": 1,
          "filter_subject": "test",
        });
        await nc.request("test", enc.encode("hello"), { timeout: maxWait });
        assertEquals((await streamInfo(nc, "TEST")).state.messages, 1);
        const msg = await fetch(nc, "TEST", "consumer", 1, maxWait);
        assertEquals(msg.length, 1);
        if (useNak) msg[0].respond(enc.encode("-NAK"));
        await nc.flush();
        let ci = await consumerInfo(nc, "TEST", "consumer");
        assertEquals(ci.num_ack_pending, 1);
        if (title === "fetch") assertEquals((await fetch(nc, "TEST", "consumer", 1, 1_000)).length, 0);
        else await delay(1_100);
        assertEquals((await fetch(nc, "TEST", "consumer", 1, maxWait)).length, 0);
        ci = await consumerInfo(nc, "TEST", "consumer");
        assertEquals(ci.num_ack_pending, 0);
        assertEquals((await streamInfo(nc, "TEST")).state.messages, 1);
        await addConsumer(nc, "TEST", {
          "durable_name": "consumer2",
          "ack_policy": "explicit",
          "filter_subject": "test",
        });
        const m2 = await fetch(nc, "TEST", "consumer2", 1, 1_000);
        assertEquals(m2.length, 1);
        await ackSync(nc, m2[0]);
        assertEquals((await streamInfo(nc, "TEST")).state.messages, 1);
      });
    }
  }
});

Deno.test("TestJetStreamMaxDeliveryRedeliveredReporting: num_redelivered counts only messages that can be redelivered", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, {
    name: "TEST",
    storage: "file",
    subjects: ["foo"],
    "num_replicas": 1,
    retention: "limits",
  });
  await send(nc, "foo");
  const maxWait = 250;
  const cfg: Record<string, unknown> = {
    "durable_name": "CONSUMER",
    "ack_policy": "explicit",
    "ack_wait": maxWait * 1_000_000,
    "max_deliver": 1,
  };
  await addConsumer(nc, "TEST", cfg);
  assertEquals((await streamInfo(nc, "TEST")).state.messages, 1);
  assertEquals((await fetch(nc, "TEST", "CONSUMER", 1, maxWait)).length, 1);
  let ci = await consumerInfo(nc, "TEST", "CONSUMER");
  assertEquals([ci.num_ack_pending, ci.num_redelivered], [1, 0]);
  await delay(2 * maxWait);
  assertEquals((await fetch(nc, "TEST", "CONSUMER", 1, maxWait)).length, 0);
  ci = await consumerInfo(nc, "TEST", "CONSUMER");
  assertEquals([ci.num_ack_pending, ci.num_redelivered], [0, 0]);
  for (const md of [2, -1]) {
    const r = await jsApi(nc, "$JS.API.CONSUMER.CREATE.TEST.CONSUMER", {
      "stream_name": "TEST",
      config: { ...cfg, "max_deliver": md },
      action: "update",
    });
    assertEquals(r.error, undefined);
    ci = await consumerInfo(nc, "TEST", "CONSUMER");
    assertEquals([ci.num_ack_pending, ci.num_redelivered], [0, 1], `max_deliver ${md}`);
  }
});

/** Truncates every .blk of TEST by one byte (a torn last record). */
async function tearBlocks(storeDir: string): Promise<void> {
  const path = `${storeDir}/jetstream/$G/streams/TEST/msgs`;
  for await (const f of Deno.readDir(path)) {
    if (!f.name.endsWith(".blk")) continue;
    const st = await Deno.stat(`${path}/${f.name}`);
    await Deno.truncate(`${path}/${f.name}`, st.size - 1);
  }
}

// Go restarts only JetStream (shutdownJetStream/restartJetStream); here the whole server restarts on the same
// store dir.
Deno.test({
  name:
    "TestJetStreamRecoversStreamFirstSeqWhenNotEmpty: a torn block still recovers first and last sequence",
  fn: testRecoversFirstSeqNotEmpty,
});

async function testRecoversFirstSeqNotEmpty(): Promise<void> {
  let s = await runBasic();
  try {
    let nc = await clientFor(s);
    await addStream(nc, { name: "TEST", storage: "file", subjects: ["test"], retention: "interest" });
    await addConsumer(nc, "TEST", { name: "CONSUMER", "filter_subject": "test", "ack_policy": "explicit" });
    for (let i = 0; i < 1000; i++) await send(nc, "test");
    await expectState(nc, "TEST", 1000, 1, 1000);
    for (let i = 0; i < 500; i++) {
      const msgs = await fetch(nc, "TEST", "CONSUMER", 1, 1_000);
      assertEquals(msgs.length, 1);
      await ackSync(nc, msgs[0]);
    }
    assertEquals((await consumerInfo(nc, "TEST", "CONSUMER")).ack_floor.stream_seq, 500);
    await nc.close();
    s = await restart(s, () => tearBlocks(s.opts.storeDir));
    nc = await clientFor(s);
    await expectState(nc, "TEST", 500, 501, 1000);
    await nc.close();
  } finally {
    await s.shutdown();
  }
}

Deno.test({
  name: "TestJetStreamRecoversStreamFirstSeqWhenEmpty: a torn block of an empty stream keeps its sequences",
  fn: testRecoversFirstSeqEmpty,
});

async function testRecoversFirstSeqEmpty(): Promise<void> {
  let s = await runBasic();
  try {
    let nc = await clientFor(s);
    await addStream(nc, { name: "TEST", storage: "file", subjects: ["test"], retention: "interest" });
    await addConsumer(nc, "TEST", { "durable_name": "CONSUMER" });
    for (let i = 0; i < 1000; i++) await send(nc, "test");
    assertEquals((await jsApi(nc, "$JS.API.STREAM.PURGE.TEST")).success, true);
    await expectState(nc, "TEST", 0, 1001, 1000);
    assertEquals((await consumerInfo(nc, "TEST", "CONSUMER")).ack_floor.stream_seq, 1000);
    await nc.close();
    s = await restart(s, () => tearBlocks(s.opts.storeDir));
    nc = await clientFor(s);
    await expectState(nc, "TEST", 0, 1001, 1000);
    await nc.close();
  } finally {
    await s.shutdown();
  }
}

/** A basic server; the ADR-44 versioning metadata is always on (natsdeno reports 2.12). */
function runVersioned(): Promise<TestServer> {
  return runBasic();
}

/** The global account's stream `name` on `s` (Go's acc.lookupStream), for the internal steps of the ports. */
function globalStream(s: TestServer, name: string): Stream {
  const js = s.jetStream!.impl as JetStream;
  return js.accounts.get("$G")!.streams.get(name)!;
}

/** deleteDynamicMetadata: the metadata without _nats.ver and _nats.level. */
function withoutDynamic(m: Record<string, string> | undefined): Record<string, string> {
  const out = { ...m };
  delete out["_nats.ver"];
  delete out["_nats.level"];
  return out;
}

// Go creates the first stream through acc.addStream, which stamps no metadata (as a stream stored by an
// older server); here it is created through the API and its stored metadata removed in place.
Deno.test("TestJetStreamUpgradeStreamVersioning: versioning metadata is idempotent on create and set on update", async () => {
  await using s = await runVersioned();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  const mset = globalStream(s, "TEST");
  delete mset.config.metadata;
  // Create is idempotent: the versioning metadata of the request is not compared.
  const si = await addStream(nc, { name: "TEST", subjects: ["foo"], metadata: { "_nats.req.level": "0" } });
  assertEquals(Object.keys(withoutDynamic(si.config.metadata)).length, 0);
  assertEquals(mset.config.metadata, undefined);
  // Update populates the versioning metadata.
  const u = await updateStream(nc, { name: "TEST", subjects: ["foo"] });
  assertEquals(u.error, undefined);
  assertEquals(Object.keys(u.config.metadata ?? {}).length, 3);
});

// As TestJetStreamUpgradeStreamVersioning: Go's mset.addConsumer stamps no metadata.
Deno.test("TestJetStreamUpgradeConsumerVersioning: consumer versioning metadata is idempotent on create and set on update", async () => {
  await using s = await runVersioned();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"], retention: "limits", "num_replicas": 1 });
  await addConsumer(nc, "TEST", { "durable_name": "CONSUMER" });
  const obs = globalStream(s, "TEST").consumers.get("CONSUMER") as Consumer;
  delete obs.config.metadata;
  // Create is idempotent.
  const ci = await addConsumer(nc, "TEST", { "durable_name": "CONSUMER" }, { action: "create" });
  assertEquals(Object.keys(withoutDynamic(ci.config.metadata)).length, 0);
  assertEquals(obs.config.metadata, undefined);
  // Update populates the versioning metadata.
  const r = await jsApi(nc, "$JS.API.CONSUMER.DURABLE.CREATE.TEST.CONSUMER", {
    "stream_name": "TEST",
    config: { "durable_name": "CONSUMER" },
    action: "update",
  });
  assertEquals(r.error, undefined);
  assertEquals(Object.keys(r.config.metadata ?? {}).length, 3);
});

Deno.test("TestJetStreamMirrorCrossAccountWithFilteredSubjectAndSubjectTransform: cross-account mirrors with a filter or transform, across a restart", async () => {
  const conf = await createConfFile(`
    listen: "127.0.0.1:-1"
    jetstream: {store_dir: '${await tempDir()}'}
    accounts: {
      PUBLIC_ACCOUNT: {
        jetstream: enabled
        exports: [
          { service: "$JS.API.CONSUMER.CREATE.S.*.public.a", response_type: stream, accounts: ["INTERNAL_ACCOUNT"] },
          { service: "$JS.API.CONSUMER.CREATE.S.*.public.b", response_type: stream, accounts: ["INTERNAL_ACCOUNT"] },
          { service: "$JS.API.CONSUMER.CREATE.S.*.public.c", response_type: stream, accounts: ["INTERNAL_ACCOUNT"] },
          { service: "$JS.FC.>" },
          { stream: "shared.public.>", accounts: ["INTERNAL_ACCOUNT"] }
        ]
        users: [ {user: "public", password: "pwd"} ]
      },
      INTERNAL_ACCOUNT: {
        jetstream: enabled
        imports: [
          { service: { account: "PUBLIC_ACCOUNT", subject: "$JS.API.CONSUMER.CREATE.S.*.public.a" }, to: "JS.PUBLIC_ACCOUNT.CONSUMER.CREATE.S.*.public.a" },
          { service: { account: "PUBLIC_ACCOUNT", subject: "$JS.API.CONSUMER.CREATE.S.*.public.b" }, to: "JS.PUBLIC_ACCOUNT.CONSUMER.CREATE.S.*.public.b" },
          { service: { account: "PUBLIC_ACCOUNT", subject: "$JS.API.CONSUMER.CREATE.S.*.public.c" }, to: "JS.PUBLIC_ACCOUNT.CONSUMER.CREATE.S.*.public.c" },
          { service: { account: "PUBLIC_ACCOUNT", subject: "$JS.FC.>" }, to: "$JS.FC.>" },
          { stream: { account: "PUBLIC_ACCOUNT", subject: "shared.public.>" }, to: "shared.public.>" }
        ]
        users: [ {user: "internal", password: "pwd"} ]
      }
    }`);
  let s = await runServerWithConfig(conf);
  try {
    let pc = await clientFor(s, { user: "public", pass: "pwd" });
    await addStream(pc, { name: "S", subjects: ["public.>"] });
    let ic = await clientFor(s, { user: "internal", pass: "pwd" });
    const addMirror = async (name: string, fs: string, transform?: Record<string, unknown>) => {
      const mirror: Record<string, unknown> = {
        name: "S",
        external: { api: "JS.PUBLIC_ACCOUNT", deliver: "shared.public" },
      };
      if (fs !== "") mirror["filter_subject"] = fs;
      else mirror["subject_transforms"] = [transform];
      await addStream(ic, { name, mirror });
    };
    const checkMirror = async (name: string, expected: number) => {
      await checkFor(
        1_000,
        15,
        async () => assertEquals((await streamInfo(ic, name)).state.messages, expected),
      );
    };
    const checkMsg = async (stream: string, subj: string, seq: number) => {
      const r = await jsApi(ic, `$JS.API.STREAM.MSG.GET.${stream}`, { seq });
      assertEquals(r.message?.subject, subj, JSON.stringify(r));
    };
    await addMirror("M1", "public.a");
    pc.publish("public.a", enc.encode("hello"));
    await checkMirror("M1", 1);
    await addMirror("M2", "", { src: "public.b" });
    pc.publish("public.b", enc.encode("hello"));
    await checkMirror("M2", 1);
    await addMirror("M3", "", { src: "public.c", dest: "public.d" });
    pc.publish("public.c", enc.encode("hello"));
    await checkMirror("M3", 1);
    await checkMsg("M1", "public.a", 1);
    await checkMsg("M2", "public.b", 2);
    await checkMsg("M3", "public.d", 3);
    await ic.close();
    await pc.close();
    s = await restart(s);
    ic = await clientFor(s, { user: "internal", pass: "pwd" });
    await checkMirror("M1", 1);
    await checkMirror("M2", 1);
    await checkMirror("M3", 1);
    await checkMsg("M1", "public.a", 1);
    await checkMsg("M2", "public.b", 2);
    await checkMsg("M3", "public.d", 3);
    pc = await clientFor(s, { user: "public", pass: "pwd" });
    for (const subj of ["public.a", "public.b", "public.c"]) pc.publish(subj, enc.encode("hello"));
    await pc.flush();
    await checkMirror("M1", 2);
    await checkMirror("M2", 2);
    await checkMirror("M3", 2);
    await checkMsg("M1", "public.a", 4);
    await checkMsg("M2", "public.b", 5);
    await checkMsg("M3", "public.d", 6);
    await ic.close();
    await pc.close();
  } finally {
    await s.shutdown();
  }
});

Deno.test("TestJetStreamFileStoreFirstSeqAfterRestart: a stream's first_seq survives a restart", async () => {
  let s = await runBasic();
  try {
    let nc = await clientFor(s);
    const fseq = 10_000;
    const si = await addStream(nc, {
      name: "TEST",
      subjects: ["foo"],
      storage: "file",
      retention: "limits",
      "first_seq": fseq,
    });
    assertEquals([si.state.first_seq, si.state.last_seq], [fseq, fseq - 1]);
    assertEquals((await send(nc, "foo")).seq, fseq);
    await expectState(nc, "TEST", 1, fseq, fseq);
    await nc.close();
    s = await restart(s);
    nc = await clientFor(s);
    await expectState(nc, "TEST", 1, fseq, fseq);
    await nc.close();
  } finally {
    await s.shutdown();
  }
});

Deno.test("TestJetStreamCreateStreamWithSubjectDeleteMarkersOptions: marker TTL checks, automatic prerequisites, updates", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  const pedantic = (cfg: Record<string, unknown>, p: boolean, update = false) =>
    jsApi(nc, `$JS.API.STREAM.${update ? "UPDATE" : "CREATE"}.${cfg.name}`, { ...cfg, pedantic: p });
  const expectErr = (r: Json, text: string) => {
    assert(r.error !== undefined, `expected "${text}", got ${JSON.stringify(r)}`);
    assertStringIncludes(r.error.description, text);
  };
  let cfg: Record<string, unknown> = {
    name: "PEDANTIC",
    storage: "file",
    subjects: ["pedantic"],
    "subject_delete_marker_ttl": -1_000_000,
  };
  expectErr(await pedantic(cfg, true), "subject delete marker TTL must not be negative");
  cfg["subject_delete_marker_ttl"] = 1_000_000;
  expectErr(await pedantic(cfg, true), "subject delete marker TTL must be at least 1 second");
  cfg["subject_delete_marker_ttl"] = SEC;
  expectErr(
    await pedantic(cfg, true),
    "subject delete marker cannot be set if message TTLs are disabled",
  );
  cfg["allow_msg_ttl"] = true;
  expectErr(await pedantic(cfg, true), "subject delete marker cannot be set if roll-ups are disabled");
  cfg["allow_rollup_hdrs"] = true;
  cfg["deny_purge"] = true;
  expectErr(await pedantic(cfg, true), "roll-ups require the purge permission");
  cfg["deny_purge"] = false;
  assertEquals((await pedantic(cfg, true)).error, undefined);
  // Automatic prerequisites.
  let si = await pedantic({
    name: "AUTO",
    storage: "file",
    subjects: ["auto"],
    "subject_delete_marker_ttl": SEC,
  }, false);
  assertEquals(si.error, undefined);
  assertEquals(si.config.subject_delete_marker_ttl, SEC);
  assertEquals([si.config.allow_msg_ttl, si.config.allow_rollup_hdrs, si.config.deny_purge], [
    true,
    true,
    false,
  ]);
  // Updating to use markers and TTLs.
  cfg = { name: "UPDATE", storage: "file", subjects: ["update"] };
  si = await pedantic(cfg, false);
  assertEquals(si.error, undefined);
  assertEquals(
    [si.config.allow_msg_ttl ?? false, si.config.allow_rollup_hdrs ?? false, si.config.deny_purge ?? false],
    [false, false, false],
  );
  si = await pedantic({ ...cfg, "subject_delete_marker_ttl": SEC }, false, true);
  assertEquals(si.error, undefined);
  assertEquals(si.config.subject_delete_marker_ttl, SEC);
  assertEquals([si.config.allow_msg_ttl, si.config.allow_rollup_hdrs, si.config.deny_purge], [
    true,
    true,
    false,
  ]);
  // Message TTLs cannot be disabled again.
  const off = { ...si.config, "subject_delete_marker_ttl": 0, "allow_msg_ttl": false };
  expectErr(await pedantic(off, true, true), "message TTL status can not be disabled");
});

// Go locks the store, lets 50 goroutines race on expireMsgs and checks the timing wheel count does not
// underflow; natsdeno's single event loop has no such race. Black-box: 10k messages with a TTL all expire.
Deno.test("TestJetStreamTHWExpireTasksRace: ten thousand messages with a TTL all expire", async (t) => {
  for (const [name, storage] of STORAGES) {
    await t.step(name, async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      assertEquals(
        (await jsStreamCreate(nc, { name: "TEST", storage, subjects: ["foo"], "allow_msg_ttl": true })).error,
        undefined,
      );
      const h = hdrs(["Nats-TTL", "1s"]);
      const acks: Promise<unknown>[] = [];
      for (let i = 0; i < 10_000; i++) {
        acks.push(nc.request("foo", new Uint8Array(0), { timeout: 10_000, headers: h }));
        if (acks.length === 500) await Promise.all(acks.splice(0));
      }
      await Promise.all(acks);
      assertEquals((await streamInfo(nc, "TEST")).state.last_seq, 10_000);
      await checkFor(5_000, 100, async () => {
        const st = (await streamInfo(nc, "TEST")).state;
        assertEquals([st.messages, st.first_seq, st.last_seq], [0, 10_001, 10_000]);
      });
    });
  }
});

Deno.test("TestJetStreamRejectLargePublishes: a message over the store's record limit is refused", async () => {
  const rlBadThresh = 32 * 1024 * 1024;
  const conf = await createConfFile(`
    listen: 127.0.0.1:-1
    max_payload: ${rlBadThresh + 2048}
    jetstream: {store_dir: '${await tempDir()}'}`);
  await using s = await runServerWithConfig(conf);
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["test"] });
  const ok = await publish(nc, "test", new Uint8Array(rlBadThresh - 1024));
  assertEquals(ok.error, undefined);
  const r = await publish(nc, "test", new Uint8Array(rlBadThresh + 1024));
  assert(r.error !== undefined, JSON.stringify(r));
  assertStringIncludes(r.error.description, "message too large");
});

Deno.test("TestJetStreamDirectGetSubjectDeleteMarker: direct get last returns the marker once the TTL ran out", async (t) => {
  for (const [name, storage] of STORAGES) {
    await t.step(name, async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      await addStream(nc, {
        name: "TEST",
        subjects: ["test"],
        storage,
        "subject_delete_marker_ttl": SEC,
        "allow_msg_ttl": true,
        "allow_direct": true,
      });
      await sendTtl(nc, "test", "1s");
      const last = () => nc.request("$JS.API.DIRECT.GET.TEST.test", new Uint8Array(0), { timeout: 1_000 });
      assertEquals((await last()).headers?.get("Nats-Sequence"), "1");
      await delay(1_500);
      assertEquals((await last()).headers?.get("Nats-Sequence"), "2");
    });
  }
});

Deno.test("TestJetStreamPurgeExSeqSimple: a purge up to a sequence keeps the rest", async (t) => {
  for (const [name, storage] of STORAGES) {
    await t.step(name, async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", subjects: ["test"], storage });
      const data = new Uint8Array(1024);
      const acks: Promise<unknown>[] = [];
      for (let i = 0; i < 10_000; i++) {
        acks.push(send(nc, "test", data));
        if (acks.length === 500) await Promise.all(acks.splice(0));
      }
      await Promise.all(acks);
      assertEquals((await streamInfo(nc, "TEST")).state.messages, 10_000);
      assertEquals((await jsApi(nc, "$JS.API.STREAM.PURGE.TEST", { seq: 9_000 })).success, true);
      const st = (await streamInfo(nc, "TEST")).state;
      assertEquals([st.messages, st.num_deleted ?? 0, st.first_seq, st.last_seq], [1_001, 0, 9_000, 10_000]);
    });
  }
});

Deno.test("TestJetStreamPurgeExSeqInInteriorDeleteGap: a purge to a sequence inside a delete gap", async (t) => {
  for (const [name, storage] of STORAGES) {
    await t.step(name, async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", subjects: ["test.*"], storage });
      const data = new Uint8Array(1024);
      await send(nc, "test.start", data);
      const acks: Promise<unknown>[] = [];
      for (let i = 0; i < 10_000; i++) {
        acks.push(send(nc, "test.mid", data));
        if (acks.length === 500) await Promise.all(acks.splice(0));
      }
      await Promise.all(acks);
      await send(nc, "test.end", data);
      assertEquals((await streamInfo(nc, "TEST")).state.messages, 10_002);
      assertEquals((await jsApi(nc, "$JS.API.STREAM.PURGE.TEST", { filter: "test.mid" })).success, true);
      let st = (await streamInfo(nc, "TEST")).state;
      assertEquals([st.messages, st.num_deleted], [2, 10_000]);
      assertEquals((await jsApi(nc, "$JS.API.STREAM.PURGE.TEST", { seq: 9_000 })).success, true);
      st = (await streamInfo(nc, "TEST")).state;
      assertEquals([st.messages, st.num_deleted ?? 0, st.first_seq, st.last_seq], [1, 0, 10_002, 10_002]);
    });
  }
});

/** Sends a direct get on a private inbox; the subscription. */
async function directGet(nc: NatsConnection, stream: string, req: Record<string, unknown>): Promise<SyncSub> {
  const reply = inbox();
  const sub = new SyncSub(nc, reply);
  await nc.flush();
  nc.publish(`$JS.API.DIRECT.GET.${stream}`, enc.encode(JSON.stringify(req)), { reply });
  return sub;
}

Deno.test("TestJetStreamDirectGetUpToTime: multi_last up_to_time at the edges of the stream", async (t) => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"], "allow_direct": true, storage: "file" });
  for (let i = 0; i < 10; i++) {
    await send(nc, "foo", `message ${i + 1}`);
    await delay(2);
  }
  const checkResponses = async (upToTime: string, ...expected: string[]) => {
    const sub = await directGet(nc, "TEST", { "multi_last": ["foo"], "up_to_time": upToTime });
    for (const expect of expected) {
      const m = await sub.must(250);
      assertEquals(m.headers?.get("Nats-Subject"), "foo");
      assertEquals(dec.decode(m.data), expect);
    }
    const m = await sub.must(250);
    assertEquals(m.headers?.code, expected.length === 0 ? 404 : 204);
    sub.unsubscribe();
  };
  const msgTime = async (seq: number) =>
    (await jsApi(nc, "$JS.API.STREAM.MSG.GET.TEST", { seq })).message.time;
  await t.step("DistantPast", () => checkResponses("0001-01-01T00:00:00Z"));
  await t.step("DistantFuture", () => checkResponses("2262-04-11T23:47:16.854775807Z", "message 10"));
  await t.step("BeforeFirstSeq", async () => checkResponses(await msgTime(1)));
  await t.step("BeforeFifthSeq", async () => checkResponses(await msgTime(5), "message 4"));
});

Deno.test("TestJetStreamDirectGetStartTimeSingleMsg: a start_time after the only message finds nothing", async (t) => {
  for (const [name, storage] of STORAGES) {
    await t.step(name, async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", subjects: ["foo"], "allow_direct": true, storage });
      await send(nc, "foo", "message");
      const first = await jsApi(nc, "$JS.API.STREAM.MSG.GET.TEST", { seq: 1 });
      const future = new Date(Date.parse(first.message.time) + 10_000).toISOString();
      const sub = await directGet(nc, "TEST", { "start_time": future, "next_by_subj": "foo", batch: 1 });
      const m = await sub.must(250);
      assertEquals(m.headers?.code, 404);
      sub.unsubscribe();
    });
  }
});

// Go reads the consumer's o.retention before and after the stream update; black-box: under interest retention
// an ack removes the message, under limits it stays.
Deno.test("TestJetStreamStreamRetentionUpdatesConsumers: a retention change reaches the existing consumers", async (t) => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  for (const [from, to] of [["limits", "interest"], ["interest", "limits"]]) {
    const name = `${from}To${to}`;
    await t.step(name, async () => {
      const cfg = { name, subjects: [name], retention: from, storage: "file" };
      await addStream(nc, cfg);
      await addConsumer(nc, name, { name: "test_consumer", "ack_policy": "explicit" });
      const r = await updateStream(nc, { ...cfg, retention: to });
      assertEquals(r.error, undefined);
      await send(nc, name, "x");
      const msgs = await fetch(nc, name, "test_consumer", 1, 1_000);
      assertEquals(msgs.length, 1);
      await ackSync(nc, msgs[0]);
      assertEquals((await streamInfo(nc, name)).state.messages, to === "interest" ? 0 : 1);
    });
  }
});

// Go copies the consumer's last-per-subject skip list (o.lss) and resume sequence; black-box: the fetched
// messages are exactly the last message of each foo subject, and then the consumer continues after the last
// bar message (the stream's last sequence when the consumer was made).
Deno.test("TestJetStreamMaxMsgsPerSubjectAndDeliverLastPerSubject: last-per-subject then resume after the stream's end", async () => {
  await using s = await runBasic();
  await using nc = await clientFor(s);
  const subjects = 300;
  const msgs = subjects * 10;
  await addStream(nc, {
    name: "test",
    subjects: ["foo.>", "bar.>"],
    retention: "limits",
    storage: "file",
    "max_msgs_per_subject": 5,
  });
  const lastOf = new Map<string, number>();
  const pub = async (subj: string) => {
    const pa = await send(nc, subj);
    lastOf.set(subj, pa.seq);
    return pa.seq;
  };
  for (let i = 0; i < msgs; i++) await pub(`foo.${Math.floor(Math.random() * subjects)}`);
  let resume = 0;
  for (let i = 0; i < msgs / 10; i++) {
    resume = await pub(`bar.${Math.floor(Math.random() * (subjects / 10))}`);
  }
  await addConsumer(nc, "test", {
    name: "test_consumer",
    "filter_subjects": ["foo.>"],
    "deliver_policy": "last_per_subject",
    "ack_policy": "explicit",
  });
  const pending = new Set<number>();
  for (const [subj, seq] of lastOf) if (subj.startsWith("foo.")) pending.add(seq);
  const n = pending.size;
  for (let i = 0; i < n; i++) {
    const got = await fetch(nc, "test", "test_consumer", 1, 1_000);
    assertEquals(got.length, 1);
    const seq = ackMeta(got[0]).sseq;
    assert(pending.has(seq), `unexpected or repeated sequence ${seq}`);
    pending.delete(seq);
    await ackSync(nc, got[0]);
  }
  assertEquals(pending.size, 0);
  // The next foo message comes after the resume point.
  const next = await pub("foo.0");
  const got = await fetch(nc, "test", "test_consumer", 1, 1_000);
  assertEquals(got.length, 1);
  assertEquals(ackMeta(got[0]).sseq, next);
  assert(next > resume);
  const ci = await consumerInfo(nc, "test", "test_consumer");
  assertEquals(ci.delivered.stream_seq, next);
});

Deno.test("TestJetStreamKVNoSubjectDeleteMarkerOnPurgeMarker: an expiring KV purge marker leaves no delete marker", async (t) => {
  for (const [name, storage] of STORAGES) {
    await t.step(name, async () => {
      await using s = await runBasic();
      await using nc = await clientFor(s);
      const kv = await new Kvm(nc).create("bucket", {
        history: 1,
        storage: storage === "file" ? "file" : "memory",
        ttl: 2_000,
        markerTTL: 60_000,
      } as never);
      const getMsg = (seq: number) => jsApi(nc, "$JS.API.STREAM.MSG.GET.KV_bucket", { seq });
      const op = (r: Json) => {
        const h = dec.decode(Uint8Array.from(atob(r.message?.hdrs ?? ""), (c) => c.charCodeAt(0)));
        return /KV-Operation:\s*(\S+)/.exec(h)?.[1];
      };
      await kv.purge("key");
      let rsm = await getMsg(1);
      assertEquals(op(rsm), "PURGE");
      await delay(2_500);
      assertEquals((await getMsg(1)).error?.err_code, 10037);
      assertEquals((await getMsg(2)).error?.err_code, 10037);
      await kv.purge("key", { ttl: "1s" });
      rsm = await getMsg(2);
      assertEquals(op(rsm), "PURGE");
      await delay(1_500);
      assertEquals((await getMsg(2)).error?.err_code, 10037);
      assertEquals((await getMsg(3)).error?.err_code, 10037);
    });
  }
});
