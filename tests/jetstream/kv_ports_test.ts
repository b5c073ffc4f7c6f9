// Ports of nats-server server/jetstream_test.go (2.9.10) tests behind KV buckets: per-subject limits, last
// message by subject, pending counts of last-per-subject consumers, message gets (no advisories), direct gets
// and allow_direct updates. Go test names kept, in Go's order.

import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options, startServer } from "../../src/natsdeno.ts";
import { clientFor, jsApi, type TestServer } from "./_helpers.ts";
import { delay } from "../_helpers/server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A JetStream server with the real stores (MemStore and FileStore). */
async function runServer(opts: Partial<Options> = {}): Promise<TestServer> {
  const storeDir = opts.storeDir ?? await Deno.makeTempDir({ prefix: "natsdeno-jskv-" });
  const full = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir, ...opts });
  const log = new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: false }, true);
  return await startServer(full, { log }) as TestServer;
}

async function addStream(nc: NatsConnection, cfg: Record<string, unknown>): Promise<void> {
  const r = await jsApi(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, { storage: "memory", ...cfg });
  assert(r.error === undefined, JSON.stringify(r.error));
}

async function send(nc: NatsConnection, subj: string, data: string): Promise<void> {
  const r = JSON.parse(dec.decode((await nc.request(subj, enc.encode(data), { timeout: 2_000 })).data));
  assert(r.error === undefined, JSON.stringify(r.error));
}

Deno.test("TestJetStreamMaxMsgsPerSubject: max_msgs_per_subject caps each subject, also after a purge", async (t) => {
  for (const storage of ["memory", "file"]) {
    await t.step(storage === "memory" ? "MemoryStore" : "FileStore", async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      await addStream(nc, {
        name: "TEST",
        subjects: ["foo", "bar", "baz.*"],
        storage,
        "max_msgs_per_subject": 5,
      });
      const pubAndCheck = async (subj: string, num: number, expected: number) => {
        for (let i = 0; i < num; i++) await send(nc, subj, "TSLA");
        const si = await jsApi(nc, "$JS.API.STREAM.INFO.TEST");
        assertEquals(si.state.messages, expected);
      };
      await pubAndCheck("foo", 1, 1);
      await pubAndCheck("foo", 4, 5);
      await pubAndCheck("foo", 2, 5);
      await pubAndCheck("baz.22", 5, 10);
      await pubAndCheck("baz.33", 5, 15);
      await pubAndCheck("baz.22", 5, 15);
      await pubAndCheck("baz.33", 5, 15);
      assertEquals((await jsApi(nc, "$JS.API.STREAM.PURGE.TEST")).success, true);
      await pubAndCheck("foo", 1, 1);
      await pubAndCheck("foo", 4, 5);
      await pubAndCheck("baz.22", 5, 10);
      await pubAndCheck("baz.33", 5, 15);
    });
  }
});

Deno.test({
  name: "TestJetStreamGetLastMsgBySubject: last message by (wildcard) subject on an R2 stream",
  // blocked: the Go test creates an R2 stream on a 3-node cluster; natsdeno has no clustering.
  ignore: true,
  fn: () => {},
});

Deno.test({
  name: "TestJetStreamGetLastMsgBySubjectAfterUpdate: last by subject for subjects added by an update (R2)",
  // blocked: the Go test creates an R2 stream on a 3-node cluster; natsdeno has no clustering.
  ignore: true,
  fn: () => {},
});

Deno.test("TestJetStreamPerSubjectPending: last-per-subject on a wildcard filter counts only its subjects", async (t) => {
  for (const storage of ["file", "memory"]) {
    await t.step(storage === "file" ? "File" : "Memory", async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "KV_X", subjects: ["$KV.X.>"], "max_msgs_per_subject": 5, storage });
      await send(nc, "$KV.X.x.y.z", "hello world");
      await send(nc, "$KV.X.1", "hello world");
      const got: Msg[] = [];
      nc.subscribe("_INBOX.psp", { callback: (_e, m) => void got.push(m) });
      await nc.flush();
      const r = await jsApi(nc, "$JS.API.CONSUMER.CREATE.KV_X", {
        "stream_name": "KV_X",
        config: {
          "deliver_subject": "_INBOX.psp",
          "filter_subject": "$KV.X.x.>",
          "deliver_policy": "last_per_subject",
          "ack_policy": "none",
        },
      });
      assertEquals(r.error, undefined);
      for (let i = 0; i < 100 && got.length === 0; i++) await delay(10);
      assertEquals(got.length, 1);
      // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
      assertEquals(got[0].reply!.split(".")[8], "0");
    });
  }
});

Deno.test("TestJetStreamConsumerNumPendingWithMaxPerSubjectGreaterThanOne: last-per-subject pending counts subjects", async (t) => {
  for (const storage of ["memory", "file"]) {
    await t.step(storage === "memory" ? "MemoryStore" : "FileStore", async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", subjects: ["KV.*.*"], "max_msgs_per_subject": 2, storage });
      for (
        const subj of [
          "KV.plans.foo",
          "KV.plans.bar",
          "KV.plans.baz",
          "KV.config.foo",
          "KV.config.bar",
          "KV.config.baz",
          "KV.plans.bar",
          "KV.plans.baz",
        ]
      ) await send(nc, subj, "OK");
      const ci = await jsApi(nc, "$JS.API.CONSUMER.CREATE.TEST.d", {
        "stream_name": "TEST",
        config: {
          "durable_name": "d",
          "ack_policy": "explicit",
          "deliver_policy": "last_per_subject",
          "filter_subject": "KV.plans.*",
        },
      });
      assertEquals(ci.error, undefined);
      assertEquals((await jsApi(nc, "$JS.API.STREAM.DELETE.TEST")).success, true);
      assertEquals(ci.num_pending, 3);
    });
  }
});

Deno.test("TestJetStreamMsgGetNoAdvisory: a message get sends no advisory", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "foo", subjects: ["foo"] });
  for (let i = 0; i < 100; i++) nc.publish("foo", enc.encode("ok"));
  await nc.flush();
  const adv: Msg[] = [];
  nc.subscribe("$JS.EVENT.ADVISORY.>", { callback: (_e, m) => void adv.push(m) });
  await nc.flush();
  const r = await jsApi(nc, "$JS.API.STREAM.MSG.GET.foo", { seq: 1 });
  assertEquals(r.error, undefined);
  assertEquals(r.message.seq, 1);
  await nc.flush();
  await delay(100);
  assertEquals(adv.length, 0, adv.map((m) => m.subject).join(","));
});

Deno.test("TestJetStreamDirectMsgGet: direct gets answer with headers, or 404/408 status replies", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, {
    name: "DSMG",
    storage: "memory",
    subjects: ["foo", "bar", "baz"],
    "max_msgs_per_subject": 1,
    "allow_direct": true,
  });
  await send(nc, "foo", "foo");
  await send(nc, "bar", "bar");
  await send(nc, "baz", "baz");
  const getMsg = (req: Record<string, unknown> | undefined) =>
    nc.request(
      "$JS.API.DIRECT.GET.DSMG",
      req === undefined ? new Uint8Array(0) : enc.encode(JSON.stringify(req)),
      { timeout: 1_000 },
    );
  for (const [subj, seq] of [["foo", "1"], ["bar", "2"], ["baz", "3"]]) {
    const m = await getMsg({ "last_by_subj": subj });
    assertEquals(dec.decode(m.data), subj);
    assertEquals(m.headers?.get("Nats-Stream"), "DSMG");
    assertEquals(m.headers?.get("Nats-Sequence"), seq);
    assertEquals(m.headers?.get("Nats-Subject"), subj);
    assertNotEquals(m.subject, subj);
    assertNotEquals(m.headers?.get("Nats-Time-Stamp") ?? "", "");
  }
  const status = (m: Msg) => [m.data.length, m.headers?.code, m.headers?.description];
  assertEquals(status(await getMsg(undefined)), [0, 408, "Empty Request"]);
  assertEquals(status(await getMsg({})), [0, 408, "Empty Request"]);
  assertEquals(status(await getMsg({ seq: 1, "last_by_subj": "foo" })), [0, 408, "Bad Request"]);
  assertEquals(status(await getMsg({ "last_by_subj": "foobar" })), [0, 404, "Message Not Found"]);
  assertEquals(status(await getMsg({ seq: 22 })), [0, 404, "Message Not Found"]);
});

/** js.GetLastMsg(stream, subj, nats.DirectGet()): the direct get with the subject in the request subject. */
function directLast(nc: NatsConnection, stream: string, subj: string): Promise<Msg> {
  return nc.request(`$JS.API.DIRECT.GET.${stream}.${subj}`, new Uint8Array(0), { timeout: 100 });
}

Deno.test("TestJetStreamAllowDirectAfterUpdate: allow_direct turned on and off by updates", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["*"], storage: "file" });
  await send(nc, "foo", "msg");
  let si = await jsApi(nc, "$JS.API.STREAM.UPDATE.TEST", {
    name: "TEST",
    subjects: ["*"],
    "allow_direct": true,
  });
  assertEquals(si.error, undefined);
  assertEquals(si.config.allow_direct, true);
  const m = await directLast(nc, "TEST", "foo");
  assertEquals(dec.decode(m.data), "msg");
  si = await jsApi(nc, "$JS.API.STREAM.UPDATE.TEST", {
    name: "TEST",
    subjects: ["*"],
    "allow_direct": false,
  });
  assertEquals(si.error, undefined);
  assertEquals(si.config.allow_direct ?? false, false);
  await assertRejects(() => directLast(nc, "TEST", "foo"));
});

Deno.test("TestJetStreamSuppressAllowDirect: an update can turn allow_direct off", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  let si = await jsApi(nc, "$JS.API.STREAM.CREATE.TEST", {
    name: "TEST",
    subjects: ["key.*"],
    "max_msgs_per_subject": 1,
    "allow_direct": true,
    storage: "file",
  });
  assertEquals(si.error, undefined);
  assertEquals(si.config.allow_direct, true);
  si = await jsApi(nc, "$JS.API.STREAM.UPDATE.TEST", {
    name: "TEST",
    subjects: ["key.*"],
    "max_msgs_per_subject": 1,
    "allow_direct": false,
    storage: "file",
  });
  assertEquals(si.error, undefined);
  assertEquals(si.config.allow_direct ?? false, false);
  await send(nc, "key.22", "msg");
  await assertRejects(() => directLast(nc, "TEST", "foo"));
});
