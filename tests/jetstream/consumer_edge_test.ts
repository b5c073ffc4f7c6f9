// Ports of consumer edge-case tests of nats-server server/jetstream_test.go (2.9.10): acks on acked
// messages, late acks, NAK delays, max_deliver (and its update), pending counts with redeliveries and
// last-per-subject starts, ack floors, work queue progress, restarts on FileStore. Go test names kept, in
// Go's order.

import { assert, assertEquals, assertRejects } from "@std/assert";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options, startServer } from "../../src/natsdeno.ts";
import type { JetStream } from "../../src/jetstream/mod.ts";
import { clientFor, jsApi, type TestServer } from "./_helpers.ts";
import { checkFor, delay } from "../_helpers/server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const MS = 1_000_000;
const STORAGES = [StorageType.Memory, StorageType.File];

/** A JetStream server with the real stores (MemStore and FileStore). */
async function runServer(opts: Partial<Options> = {}): Promise<TestServer> {
  const storeDir = opts.storeDir ?? await Deno.makeTempDir({ prefix: "natsdeno-jsc2-" });
  const full = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir, ...opts });
  const log = new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: false }, true);
  return await startServer(full, { log }) as TestServer;
}

async function stream(nc: NatsConnection, cfg: Record<string, unknown>): Promise<void> {
  const r = await jsApi(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, { storage: "memory", ...cfg });
  assert(r.error === undefined, JSON.stringify(r.error));
}

// deno-lint-ignore no-explicit-any
async function consumer(nc: NatsConnection, s: string, config: Record<string, unknown>): Promise<any> {
  const r = await jsApi(nc, `$JS.API.CONSUMER.CREATE.${s}.${config.durable_name}`, {
    "stream_name": s,
    config,
  });
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** A pull request for one message on a private inbox; rejects on timeout. */
function next(nc: NatsConnection, s: string, c: string, body = "", ms = 1_000): Promise<Msg> {
  return nc.request(`$JS.API.CONSUMER.MSG.NEXT.${s}.${c}`, enc.encode(body), { timeout: ms, noMux: true });
}

function isStatus(m: Msg): boolean {
  return m.headers !== undefined && m.headers.code !== 0 && m.data.length === 0;
}

Deno.test("TestJetStreamConsumerAckFloorFill: acking the first pending fills the ack floor past acked ones", async (t) => {
  for (const storage of STORAGES) {
    await t.step(storage, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      await stream(nc, { name: "MQ", subjects: ["MQ"], storage });
      for (let i = 1; i <= 4; i++) await nc.request("MQ", enc.encode(`msg-${i}`));
      const got: Msg[] = [];
      nc.subscribe("_INBOX.fill", { callback: (_e, m) => void got.push(m) });
      await nc.flush();
      await consumer(nc, "MQ", {
        "durable_name": "d",
        "deliver_subject": "_INBOX.fill",
        "ack_policy": "explicit",
      });
      await checkFor(1_000, 10, () => {
        if (got.length < 3) throw new Error(`${got.length}`);
      });
      for (const m of got.slice(1, 3)) await nc.request(m.reply!, new Uint8Array(0), { timeout: 1_000 });
      let ci = await jsApi(nc, "$JS.API.CONSUMER.INFO.MQ.d");
      assertEquals(ci.ack_floor.consumer_seq, 0);
      await nc.request(got[0].reply!, new Uint8Array(0), { timeout: 1_000 });
      ci = await jsApi(nc, "$JS.API.CONSUMER.INFO.MQ.d");
      assertEquals(ci.ack_floor.consumer_seq, 3);
      assertEquals(ci.ack_floor.stream_seq, 3);
    });
  }
});

Deno.test("TestJetStreamWorkQueueWorkingIndicator: +WPI keeps a message from redelivery", async (t) => {
  for (const storage of STORAGES) {
    await t.step(storage, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      await stream(nc, { name: "MY_WQ", subjects: ["MY_WQ"], storage, retention: "workqueue" });
      for (let i = 0; i < 2; i++) await nc.request("MY_WQ", enc.encode("Hello World!"));
      const ackWait = 100;
      await consumer(nc, "MY_WQ", {
        "durable_name": "PBO",
        "ack_policy": "explicit",
        "ack_wait": ackWait * MS,
      });
      const getMsg = async (sseq: number, dseq: number) => {
        const m = await next(nc, "MY_WQ", "PBO");
        const a = ackInfo(m);
        assertEquals([a.sseq, a.dseq], [sseq, dseq]);
        return m;
      };
      await getMsg(1, 1);
      await delay(ackWait * 2);
      let m = await getMsg(1, 2);
      const until = Date.now() + 3 * ackWait;
      while (Date.now() < until) {
        m.respond(enc.encode("+WPI"));
        await nc.flush();
        await delay(ackWait / 5);
      }
      const m2 = await getMsg(2, 3);
      await delay(ackWait / 2);
      m2.respond(enc.encode("+WPI"));
      m = await getMsg(1, 4);
      m.respond(new Uint8Array(0));
      await getMsg(2, 5);
    });
  }
});

Deno.test("TestJetStreamConsumerAckAck: +ACK, -NAK, +WPI and +TERM are answered when a reply is asked", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await stream(nc, { name: "ACK-ACK", subjects: ["ACK-ACK"] });
  await consumer(nc, "ACK-ACK", { "durable_name": "worker", "ack_policy": "explicit" });
  for (let i = 0; i < 4; i++) await nc.request("ACK-ACK", enc.encode("Hello World!"));
  for (const ack of ["+ACK", "-NAK", "+WPI", "+TERM"]) {
    const m = await next(nc, "ACK-ACK", "worker");
    const r = await nc.request(m.reply!, enc.encode(ack), { timeout: 500 });
    assertEquals(r.data.length, 0, ack);
  }
});

Deno.test("TestJetStreamAckNext: +NXT acks and asks for the next, with a count or a request body", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await stream(nc, { name: "ACKNXT", subjects: ["ACKNXT"] });
  await consumer(nc, "ACKNXT", { "durable_name": "worker", "ack_policy": "explicit" });
  for (let i = 0; i < 12; i++) await nc.request("ACKNXT", enc.encode(`msg ${i}`));
  const q: Msg[] = [];
  const inbox = "_INBOX.acknxt";
  nc.subscribe(inbox, { callback: (_e, m) => void q.push(m) });
  await nc.flush();
  const waitQ = (n: number) =>
    checkFor(1_000, 5, () => {
      if (q.length < n) throw new Error(`${q.length} of ${n}`);
    });
  nc.publish("$JS.API.CONSUMER.MSG.NEXT.ACKNXT.worker", enc.encode("1"), { reply: inbox });
  await waitQ(1);
  nc.publish(q[0].reply!, enc.encode("+NXT"), { reply: inbox });
  await waitQ(2);
  await delay(20);
  assertEquals(q.length, 2);
  assertEquals(dec.decode(q[1].data), "msg 1");
  let ci = await jsApi(nc, "$JS.API.CONSUMER.INFO.ACKNXT.worker");
  assertEquals(ci.ack_floor.stream_seq, 1);
  nc.publish(q[1].reply!, enc.encode("+NXT 5"), { reply: inbox });
  await waitQ(7);
  assertEquals(q.slice(2, 7).map((m) => dec.decode(m.data)), ["msg 2", "msg 3", "msg 4", "msg 5", "msg 6"]);
  nc.publish(q[6].reply!, enc.encode('+NXT {"batch": 5}'), { reply: inbox });
  await waitQ(12);
  assertEquals(q.slice(7, 12).map((m) => dec.decode(m.data)), [
    "msg 7",
    "msg 8",
    "msg 9",
    "msg 10",
    "msg 11",
  ]);
  ci = await jsApi(nc, "$JS.API.CONSUMER.INFO.ACKNXT.worker");
  assertEquals(ci.ack_floor.stream_seq, 2);
});

Deno.test("TestJetStreamConsumerMaxDeliveryAndServerRestart: max_deliver counts survive a restart", async () => {
  const seen: Msg[] = [];
  await withRestart(async (_s, nc) => {
    await stream(nc, { name: "MYS", subjects: ["MYS"], storage: "file" });
    nc.subscribe("D.TO", { callback: (_e, m) => void seen.push(m) });
    await nc.flush();
    await consumer(nc, "MYS", {
      "durable_name": "TO",
      "deliver_subject": "D.TO",
      "ack_policy": "explicit",
      "ack_wait": 100 * MS,
      "max_deliver": 3,
    });
    await nc.request("MYS", enc.encode("order-1"));
    await checkFor(1_000, 10, () => {
      if (seen.length < 3) throw new Error(`${seen.length}`);
    });
    await nc.request("MYS", enc.encode("order-2"));
    await checkFor(1_000, 10, () => {
      if (seen.length < 5) throw new Error(`${seen.length}`);
    });
    await delay(150);
  }, async (_s, nc) => {
    const after: Msg[] = [];
    nc.subscribe("D.TO", { callback: (_e, m) => void after.push(m) });
    await nc.flush();
    assertEquals((await jsApi(nc, "$JS.API.STREAM.INFO.MYS")).state.messages, 2);
    // order-1 used its three deliveries before the restart: only order-2 may come again.
    await delay(400);
    for (const m of after) assertEquals(dec.decode(m.data), "order-2");
    assertEquals(seen.length, 6);
    await nc.request("MYS", enc.encode("order-3"));
    assertEquals((await jsApi(nc, "$JS.API.STREAM.INFO.MYS")).state.messages, 3);
  });
});

Deno.test("TestJetStreamDeleteConsumerAndServerRestart: a deleted consumer stays deleted", async () => {
  await withRestart(async (_s, nc) => {
    await stream(nc, { name: "MYQ", subjects: ["MYQ"], storage: "file" });
    await consumer(nc, "MYQ", { "durable_name": "WQ", "ack_policy": "explicit" });
    const d = await jsApi(nc, "$JS.API.CONSUMER.DELETE.MYQ.WQ");
    assertEquals(d.success, true);
  }, async (_s, nc) => {
    const si = await jsApi(nc, "$JS.API.STREAM.INFO.MYQ");
    assertEquals(si.state.consumer_count, 0);
    const names = await jsApi(nc, "$JS.API.CONSUMER.NAMES.MYQ");
    assertEquals(names.consumers, []);
  });
});

Deno.test("TestJetStreamRedeliveryAfterServerRestart: unacked push deliveries come again after a restart", async () => {
  const inbox = "_INBOX.redeliver";
  await withRestart(async (_s, nc) => {
    await stream(nc, { name: "MYQ", subjects: ["MYQ"], storage: "file" });
    for (let i = 0; i < 25; i++) await nc.request("MYQ", enc.encode("Hello World!"));
    const got: Msg[] = [];
    const sub = nc.subscribe(inbox, { callback: (_e, m) => void got.push(m) });
    await nc.flush();
    await consumer(nc, "MYQ", {
      "durable_name": "TO",
      "deliver_subject": inbox,
      "ack_policy": "explicit",
      "ack_wait": 100 * MS,
    });
    await checkFor(1_000, 10, () => {
      if (got.length < 25) throw new Error(`${got.length} of 25`);
    });
    sub.unsubscribe();
  }, async (_s, nc) => {
    const got: Msg[] = [];
    nc.subscribe(inbox, { callback: (_e, m) => void got.push(m) });
    await nc.flush();
    await checkFor(2_000, 50, () => {
      if (got.length < 25) throw new Error(`${got.length} of 25 after restart`);
    });
    assert(Number(got[0].reply!.split(".")[4]) >= 2, "redelivered messages carry a delivery count > 1");
  });
});

Deno.test("TestJetStreamRedeliverAndLateAck: a late ack of a redelivered message still counts", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await stream(nc, { name: "LA", subjects: ["LA"] });
  await consumer(nc, "LA", { "durable_name": "DDD", "ack_policy": "explicit", "ack_wait": 100 * MS });
  await nc.request("LA", enc.encode("Hello World!"));
  const m = await next(nc, "LA", "DDD");
  assertEquals(dec.decode(m.data), "Hello World!");
  await delay(150);
  await nc.request(m.reply!, enc.encode("+ACK"), { timeout: 1_000 });
  // Acked: nothing is redelivered.
  await assertRejects(() => next(nc, "LA", "DDD", "", 150));
});

Deno.test("TestJetStreamCanNotNakAckd: a NAK of an acked message is ignored", async (t) => {
  for (const storage of STORAGES) {
    await t.step(storage, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      await stream(nc, { name: "DC", subjects: ["DC"], storage });
      for (let i = 0; i < 10; i++) await nc.request("DC", enc.encode("OK!"));
      await consumer(nc, "DC", { "durable_name": "WQ", "ack_policy": "explicit", "ack_wait": 30e9 });
      for (let i = 1; i <= 10; i++) {
        const m = await next(nc, "DC", "WQ");
        if (i % 2 === 0) await nc.request(m.reply!, new Uint8Array(0), { timeout: 1_000 });
      }
      for (const seq of [2, 4, 6, 8, 10, 22]) {
        nc.publish(`$JS.ACK.DC.WQ.1.${seq}.${seq}.0.0`, enc.encode("-NAK"));
        await nc.flush();
        await assertRejects(() => next(nc, "DC", "WQ", "", 50));
      }
    });
  }
});

Deno.test("TestJetStreamInterestRetentionStreamWithDurableRestart: an inactive durable keeps interest", async (t) => {
  for (const storage of STORAGES) {
    await t.step(storage, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      await stream(nc, { name: "IK", subjects: ["IK"], storage, retention: "interest" });
      const msgs = async () => (await jsApi(nc, "$JS.API.STREAM.INFO.IK")).state.messages as number;
      const checkNumMsgs = (n: number) =>
        checkFor(1_000, 50, async () => {
          const m = await msgs();
          if (m !== n) throw new Error(`${m} messages, want ${n}`);
        });
      let got: Msg[] = [];
      let sub = nc.subscribe("_INBOX.ik1", { callback: (_e, m) => void got.push(m) });
      await nc.flush();
      const cfg = {
        "durable_name": "ivan",
        "deliver_policy": "new",
        "deliver_subject": "_INBOX.ik1",
        "ack_policy": "none",
      };
      await consumer(nc, "IK", cfg);
      await nc.request("IK", enc.encode("M1"));
      await nc.request("IK", enc.encode("M2"));
      await checkFor(200, 10, () => {
        if (got.length !== 2) throw new Error(`${got.length}`);
      });
      await checkNumMsgs(0);
      sub.unsubscribe();
      await nc.flush();
      await nc.request("IK", enc.encode("M3"));
      await nc.request("IK", enc.encode("M4"));
      await checkNumMsgs(2);
      got = [];
      sub = nc.subscribe("_INBOX.ik2", { callback: (_e, m) => void got.push(m) });
      await nc.flush();
      await consumer(nc, "IK", { ...cfg, "deliver_subject": "_INBOX.ik2" });
      await checkFor(1_000, 10, () => {
        if (got.length !== 2) throw new Error(`${got.length}`);
      });
      assertEquals(got.map((m) => dec.decode(m.data)), ["M3", "M4"]);
      await checkNumMsgs(0);
      sub.unsubscribe();
      await jsApi(nc, "$JS.API.CONSUMER.DELETE.IK.ivan");
      // No interest left: new messages are not kept.
      await nc.request("IK", enc.encode("M5"));
      await checkNumMsgs(0);
    });
  }
});

Deno.test("TestJetStreamPullConsumerMaxWaiting: max_waiting can not be updated", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "TEST", subjects: ["test.*"], storage: StorageType.Memory });
  await jsm.consumers.add("TEST", { durable_name: "dur", ack_policy: AckPolicy.Explicit, max_waiting: 10 });
  const r = await jsApi(nc, "$JS.API.CONSUMER.CREATE.TEST.dur", {
    "stream_name": "TEST",
    config: { "durable_name": "dur", "ack_policy": "explicit", "max_waiting": 1 },
  });
  assert(String(r.error?.description).includes("can not be updated"), JSON.stringify(r.error));
});

Deno.test("TestJetStreamAckExplicitMsgRemoval: interest messages go when every consumer acked", async (t) => {
  for (const storage of STORAGES) {
    await t.step(storage, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      await stream(nc, { name: "MY_STREAM", subjects: ["foo.*"], storage, retention: "interest" });
      const got1: Msg[] = [];
      const got2: Msg[] = [];
      nc.subscribe("_INBOX.r1", { callback: (_e, m) => void got1.push(m) });
      nc.subscribe("_INBOX.r2", { callback: (_e, m) => void got2.push(m) });
      await nc.flush();
      await consumer(nc, "MY_STREAM", {
        "durable_name": "dur1",
        "deliver_subject": "_INBOX.r1",
        "filter_subject": "foo.bar",
        "ack_policy": "explicit",
      });
      await consumer(nc, "MY_STREAM", {
        "durable_name": "dur2",
        "deliver_subject": "_INBOX.r2",
        "filter_subject": "foo.bar",
        "ack_policy": "explicit",
        "ack_wait": 100 * MS,
      });
      for (let i = 0; i < 2; i++) await nc.request("foo.bar", enc.encode(`msg${i + 1}`));
      await checkFor(1_000, 10, () => {
        if (got1.length < 2 || got2.length < 2) throw new Error("not delivered");
      });
      for (const m of [...got1.slice(0, 2), ...got2.slice(0, 2)]) {
        await nc.request(m.reply!, new Uint8Array(0), { timeout: 1_000 });
      }
      await checkFor(1_000, 25, async () => {
        const si = await jsApi(nc, "$JS.API.STREAM.INFO.MY_STREAM");
        if (si.state.messages !== 0) throw new Error(`${si.state.messages} left`);
      });
      // Nothing is redelivered to dur2 after its ack wait.
      const before = got2.length;
      await delay(200);
      assertEquals(got2.length, before);
    });
  }
});

Deno.test("TestJetStreamConsumerUpdateRedelivery: an inactive push consumer redelivers to its new deliver subject", async (t) => {
  for (const storage of STORAGES) {
    await t.step(storage, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      await stream(nc, { name: "MY_STREAM", subjects: ["foo.>"], storage, retention: "interest" });
      const got: Msg[] = [];
      const sub = nc.subscribe("_INBOX.ur1", { callback: (_e, m) => void got.push(m) });
      await nc.flush();
      const cfg = {
        "durable_name": "dur22",
        "deliver_subject": "_INBOX.ur1",
        "filter_subject": "foo.bar",
        "ack_policy": "explicit",
        "ack_wait": 100 * MS,
        "max_deliver": 3,
      };
      await consumer(nc, "MY_STREAM", cfg);
      const toSend = 20;
      for (let i = 1; i <= toSend; i++) await nc.request("foo.bar", enc.encode(`msg-${i}`));
      // By stream sequence, not arrival order: on a slow machine redeliveries (100 ms ack wait) can arrive
      // before the last first deliveries.
      const firsts = new Map<number, Msg>();
      await checkFor(1_000, 10, () => {
        for (const m of got) if (!firsts.has(ackInfo(m).sseq)) firsts.set(ackInfo(m).sseq, m);
        if (firsts.size < toSend) throw new Error(`${firsts.size}`);
      });
      for (const [sseq, m] of firsts) {
        if (sseq % 4 === 0) await nc.request(m.reply!, new Uint8Array(0), { timeout: 1_000 });
      }
      sub.unsubscribe();
      for (let i = toSend; i < toSend * 2; i++) await nc.request("foo.bar", enc.encode(`msg-${i}`));
      // Same durable, new deliver subject: the unacked 15 and the 20 new ones come there.
      const got2: Msg[] = [];
      nc.subscribe("_INBOX.ur2", { callback: (_e, m) => void got2.push(m) });
      await nc.flush();
      await consumer(nc, "MY_STREAM", { ...cfg, "deliver_subject": "_INBOX.ur2" });
      await checkFor(2_000, 10, () => {
        const seqs = new Set(got2.map((m) => ackInfo(m).sseq));
        if (seqs.size < 35) throw new Error(`${seqs.size} distinct of 35`);
      });
      for (const m of got2) {
        assert(ackInfo(m).sseq % 4 !== 0 || ackInfo(m).sseq > toSend, "acked message redelivered");
      }
    });
  }
});

Deno.test("TestJetStreamDeliveryAfterServerRestart: an interest stream's durable resumes with new messages", async () => {
  await withRestart(async (_s, nc) => {
    await stream(nc, { name: "MY_STREAM", subjects: ["foo.>"], storage: "file", retention: "interest" });
    const sub = nc.subscribe("_INBOX.d1", { max: 1 });
    await nc.flush();
    await consumer(nc, "MY_STREAM", {
      "durable_name": "dur",
      "deliver_subject": "_INBOX.d1",
      "deliver_policy": "new",
      "ack_policy": "explicit",
    });
    await nc.request("foo.bar", enc.encode("msg1"));
    for await (const m of sub) {
      assertEquals(dec.decode(m.data), "msg1");
      await nc.request(m.reply!, new Uint8Array(0), { timeout: 1_000 });
    }
  }, async (_s, nc) => {
    const sub = nc.subscribe("_INBOX.d2", { max: 1, timeout: 2_000 });
    await nc.flush();
    // The same durable with a new deliver subject.
    await consumer(nc, "MY_STREAM", {
      "durable_name": "dur",
      "deliver_subject": "_INBOX.d2",
      "deliver_policy": "new",
      "ack_policy": "explicit",
    });
    await nc.request("foo.bar", enc.encode("msg2"));
    for await (const m of sub) assertEquals(dec.decode(m.data), "msg2");
    assertEquals(sub.getProcessed(), 1);
  });
});

Deno.test("TestJetStreamDeliverLastPerSubjectNumPending: last-per-subject start counts one per subject", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await stream(nc, { name: "KV", subjects: ["KV.>"], "max_msgs_per_subject": 5 });
  for (let i = 0; i < 5; i++) {
    for (const k of ["foo", "bar", "baz", "bat"]) await nc.request(`KV.${k}`, enc.encode(`msg${i}`));
  }
  const jsm = await jetstreamManager(nc);
  await jsm.streams.deleteMessage("KV", 2);
  await jsm.streams.deleteMessage("KV", 5);
  const ci = await jsm.consumers.add("KV", {
    deliver_subject: "_INBOX.lps",
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.LastPerSubject,
    filter_subject: "KV.>",
  });
  assertEquals(ci.num_pending, 4);
});

Deno.test("TestJetStreamPurgeEffectsConsumerDelivery: a purged pending message is not redelivered", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await stream(nc, { name: "TEST", subjects: ["foo.*"] });
  await nc.request("foo.a", enc.encode("show once"));
  const got: Msg[] = [];
  nc.subscribe("_INBOX.pe", { callback: (_e, m) => void got.push(m) });
  await nc.flush();
  await consumer(nc, "TEST", {
    "durable_name": "d",
    "deliver_subject": "_INBOX.pe",
    "ack_policy": "explicit",
    "ack_wait": 250 * MS,
  });
  await checkFor(1_000, 10, () => {
    if (got.length < 1) throw new Error("not delivered");
  });
  await jsApi(nc, "$JS.API.STREAM.PURGE.TEST");
  await nc.request("foo.b", enc.encode("show twice?"));
  // The new message comes, and again after its ack wait; the purged one never again.
  await delay(600);
  const texts = got.map((m) => dec.decode(m.data));
  assertEquals(texts[0], "show once");
  assert(texts.length >= 3, texts.join());
  assert(texts.slice(1).every((t) => t === "show twice?"), texts.join());
});

Deno.test("TestJetStreamExpireAllWhileServerDown: messages past max_age while down are gone at start", async () => {
  await withRestart(async (_s, nc) => {
    await stream(nc, { name: "TEST", subjects: ["TEST"], storage: "file", "max_age": 250 * MS });
    const js = jetstream(nc);
    const acks = [];
    for (let i = 0; i < 1_000; i++) acks.push(js.publish("TEST", "OK"));
    await Promise.all(acks);
  }, async (_s, nc) => {
    const jsm = await jetstreamManager(nc);
    assertEquals((await jsm.streams.info("TEST")).state.messages, 0);
    const js = jetstream(nc);
    for (let i = 0; i < 10; i++) await js.publish("TEST", "OK");
    assertEquals((await jsm.streams.info("TEST")).state.messages, 10);
  }, 300);
});

Deno.test("TestJetStreamEphemeralPullConsumersInactiveThresholdAndNoWait: no_wait requests keep an ephemeral alive", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await stream(nc, { name: "ECIT", subjects: ["ECIT"] });
  const ci = await jsApi(nc, "$JS.API.CONSUMER.CREATE.ECIT", {
    "stream_name": "ECIT",
    config: { "ack_policy": "explicit", "inactive_threshold": 100 * MS },
  });
  assert(ci.error === undefined, JSON.stringify(ci.error));
  nc.subscribe("xx");
  for (let i = 0; i < 10; i++) {
    nc.publish(
      `$JS.API.CONSUMER.MSG.NEXT.ECIT.${ci.name}`,
      enc.encode(JSON.stringify({ batch: 10, "no_wait": true })),
      {
        reply: "xx",
      },
    );
    await nc.flush();
    await delay(25);
  }
  const info = await jsApi(nc, `$JS.API.CONSUMER.INFO.ECIT.${ci.name}`);
  assert(info.error === undefined, JSON.stringify(info.error));
});

Deno.test("TestJetStreamNakRedeliveryWithNoWait: a delayed NAK is redelivered to a later no_wait request", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await stream(nc, { name: "TEST", subjects: ["foo"] });
  await nc.request("foo", enc.encode("NAK"));
  const r = await jsApi(nc, "$JS.API.CONSUMER.DURABLE.CREATE.TEST.dlc", {
    "stream_name": "TEST",
    config: {
      "durable_name": "dlc",
      "ack_policy": "explicit",
      "max_deliver": 3,
      "ack_wait": 60e9,
      backoff: [5e9, 10e9],
    },
  });
  assert(r.error === undefined, JSON.stringify(r.error));
  const m = await next(nc, "TEST", "dlc");
  m.respond(enc.encode(`-NAK  ${JSON.stringify({ delay: 500 * MS })}`));
  const end = Date.now() + 1_500;
  let got: Msg | undefined;
  while (Date.now() < end) {
    const x = await next(nc, "TEST", "dlc", '{"batch":1, "no_wait": true}');
    if (x.data.length > 0) {
      got = x;
      break;
    }
    assertEquals(x.headers?.code, 404);
    await delay(100);
  }
  assert(got !== undefined, "NAKed message was not redelivered");
  assertEquals(dec.decode(got.data), "NAK");
  assertEquals(got.reply!.split(".")[4], "2");
});

Deno.test("TestJetStreamStreamInfoSubjectsDetailsAfterRestart: subject details survive a restart", async () => {
  await withRestart(async (_s, nc) => {
    await stream(nc, { name: "TEST", subjects: ["*"], storage: "file" });
    for (const subj of ["foo", "foo", "bar", "baz", "baz"]) await nc.request(subj, enc.encode("ok"));
    const si = await jsApi(nc, "$JS.API.STREAM.INFO.TEST", { "subjects_filter": ">" });
    assertEquals(si.state.num_subjects, 3);
  }, async (_s, nc) => {
    const si = await jsApi(nc, "$JS.API.STREAM.INFO.TEST", { "subjects_filter": ">" });
    assertEquals(si.state.num_subjects, 3);
    assertEquals(si.state.subjects, { foo: 2, bar: 1, baz: 2 });
  });
});

Deno.test("TestJetStreamConsumerPendingCountWithRedeliveries: a message past max_deliver does not count as pending", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "TEST", subjects: ["foo"], storage: StorageType.Memory });
  await jsm.consumers.add("TEST", {
    durable_name: "test",
    ack_policy: AckPolicy.Explicit,
    ack_wait: 50 * MS,
    max_deliver: 1,
  });
  const js = jetstream(nc);
  await js.publish("foo", "msg1");
  const c = await js.consumers.get("TEST", "test");
  const m1 = await c.next({ expires: 1_000 });
  assertEquals(m1?.string(), "msg1");
  assertEquals((await jsm.consumers.info("TEST", "test")).num_pending, 0);
  await delay(100);
  await js.publish("foo", "msg2");
  const m2 = await c.next({ expires: 1_000 });
  assertEquals(m2?.string(), "msg2");
  assertEquals(m2?.info.deliveryCount, 1);
  assertEquals((await jsm.consumers.info("TEST", "test")).num_pending, 0);
});

Deno.test("TestJetStreamConsumerMaxDeliverUpdate: a raised max_deliver allows more deliveries of new messages", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "TEST", subjects: ["foo"], storage: StorageType.Memory });
  let maxDeliver = 2;
  const cfg = () => ({
    durable_name: "ard",
    ack_policy: AckPolicy.Explicit,
    filter_subject: "foo",
    max_deliver: maxDeliver,
  });
  await jsm.consumers.add("TEST", cfg());
  const checkMaxDeliver = async () => {
    for (let i = 0; i <= maxDeliver; i++) {
      const r = await nc.request(
        "$JS.API.CONSUMER.MSG.NEXT.TEST.ard",
        enc.encode(JSON.stringify({ batch: 2, expires: 100 * MS })),
        { timeout: 1_000, noMux: true },
      );
      if (i < maxDeliver) {
        assert(!isStatus(r), `delivery ${i + 1}: ${r.headers?.code}`);
        r.respond(enc.encode("-NAK"));
      } else {
        assertEquals(r.headers?.code, 408);
      }
    }
  };
  await jetstream(nc).publish("foo", "Hello");
  await checkMaxDeliver();
  maxDeliver++;
  await jsm.consumers.update("TEST", "ard", { max_deliver: maxDeliver });
  await jetstream(nc).publish("foo", "Hello");
  await checkMaxDeliver();
});

Deno.test("TestJetStreamBackOffCheckPending: redeliveries follow the backoff steps", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await stream(nc, { name: "TEST", subjects: ["foo"] });
  await nc.request("foo", enc.encode("Hello World!"));
  const at: number[] = [];
  nc.subscribe("_INBOX.bo", { callback: () => void at.push(performance.now()) });
  await nc.flush();
  const start = performance.now();
  const r = await jsApi(nc, "$JS.API.CONSUMER.CREATE.TEST", {
    "stream_name": "TEST",
    config: {
      "deliver_subject": "_INBOX.bo",
      "ack_policy": "explicit",
      "max_deliver": 1000,
      backoff: [50 * MS, 250 * MS, 1_000 * MS],
    },
  });
  assert(r.error === undefined, JSON.stringify(r.error));
  await checkFor(2_000, 5, () => {
    if (at.length < 3) throw new Error(`${at.length} deliveries`);
  });
  assert(at[0] - start < 50, `first delivery after ${at[0] - start} ms`);
  const d1 = at[1] - at[0];
  const d2 = at[2] - at[1];
  assert(d1 >= 25 && d1 <= 100, `second delivery after ${d1} ms`);
  assert(d2 >= 200 && d2 <= 350, `third delivery after ${d2} ms`);
});

Deno.test("TestJetStreamRecoverSealedAfterServerRestart: a sealed stream keeps its messages and seal", async () => {
  await withRestart(async (_s, nc) => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "foo", subjects: ["foo"], storage: StorageType.File });
    const js = jetstream(nc);
    const acks = [];
    for (let i = 0; i < 100; i++) acks.push(js.publish("foo", "OK"));
    await Promise.all(acks);
    // deno-lint-ignore no-explicit-any
    const si = await jsm.streams.update("foo", { sealed: true } as any);
    assertEquals(si.config.sealed, true);
  }, async (_s, nc) => {
    const jsm = await jetstreamManager(nc);
    const si = await jsm.streams.info("foo");
    assertEquals(si.state.messages, 100);
    assertEquals(si.config.sealed, true);
  });
});

Deno.test("TestJetStreamConsumerPendingLowerThanStreamFirstSeq: a compacted stream moves the consumer past it after restart", async () => {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jsc2-" });
  {
    await using s = await runServer({ storeDir });
    await using nc = await clientFor(s);
    await stream(nc, { name: "TEST", subjects: ["foo"], storage: "file" });
    for (let i = 0; i < 100; i++) await nc.request("foo", enc.encode("msg"));
    const got: Msg[] = [];
    const sub = nc.subscribe("dlv.inbox", { callback: (_e, m) => void got.push(m) });
    await nc.flush();
    await consumer(nc, "TEST", {
      "durable_name": "dur",
      "deliver_subject": "dlv.inbox",
      "ack_policy": "explicit",
    });
    await checkFor(2_000, 15, () => {
      if (got.length < 100) throw new Error(`${got.length} delivered`);
    });
    sub.unsubscribe();
    // Drop everything below 1,000,000 the way the reference's test compacts the store directly.
    const jsa = (s.jetStream!.impl as JetStream).lookupAccount("$G")!;
    const st = jsa.streams.get("TEST")!;
    st.store.compact(1_000_000);
  }
  await using s = await runServer({ storeDir });
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  const si = await jsm.streams.info("TEST");
  assertEquals([si.state.first_seq, si.state.last_seq], [1_000_000, 999_999]);
  nc.subscribe("dlv.inbox");
  await checkFor(2_000, 15, async () => {
    const ci = await jsm.consumers.info("TEST", "dur");
    if (ci.num_ack_pending !== 0) throw new Error(`num_ack_pending ${ci.num_ack_pending}`);
    // Delivered stays at what was actually delivered (the reference reads it from the consumer store), not
    // moved by the compaction; only the next delivery starts past it.
    if (ci.delivered.stream_seq !== 100) {
      throw new Error(`delivered.stream_seq ${ci.delivered.stream_seq}`);
    }
  });
});

/** Runs `first` on a server, stops it, then `second` on a new server over the same store dir. */
async function withRestart(
  first: (s: TestServer, nc: NatsConnection) => Promise<void>,
  second: (s: TestServer, nc: NatsConnection) => Promise<void>,
  pauseMs = 0,
): Promise<void> {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jsc2-" });
  {
    await using s = await runServer({ storeDir });
    await using nc = await clientFor(s);
    await first(s, nc);
  }
  if (pauseMs > 0) await delay(pauseMs);
  await using s = await runServer({ storeDir });
  await using nc = await clientFor(s);
  await second(s, nc);
  await Deno.remove(storeDir, { recursive: true }).catch(() => {});
}

/** Reply-subject numbers of a delivery: delivery count, stream and consumer sequence. */
function ackInfo(m: Msg): { dc: number; sseq: number; dseq: number } {
  const t = m.reply!.split(".");
  return { dc: Number(t[4]), sseq: Number(t[5]), dseq: Number(t[6]) };
}

Deno.test("TestJetStreamPullConsumerNoAck: a pull consumer with ack none moves its floors on delivery", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "TEST", subjects: ["ORDERS.*"], storage: StorageType.Memory });
  await jsm.consumers.add("TEST", { durable_name: "dlc", ack_policy: AckPolicy.None });
  const js = jetstream(nc);
  for (let i = 0; i < 5; i++) await js.publish("ORDERS.a", "x");
  const c = await js.consumers.get("TEST", "dlc");
  const batch = await c.fetch({ max_messages: 5, expires: 1_000 });
  let n = 0;
  for await (const _m of batch) n++;
  assertEquals(n, 5);
  const ci = await jsm.consumers.info("TEST", "dlc");
  assertEquals(ci.num_ack_pending, 0);
  assertEquals(ci.ack_floor.stream_seq, 5);
  assertEquals(ci.delivered.stream_seq, 5);
});
