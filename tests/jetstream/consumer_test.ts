// Consumer tests: ports of the consumer tests of nats-server server/jetstream_test.go (2.9.10) through the
// official clients and raw subscriptions, plus newer behaviour (pause, priority groups). Go test names kept.

import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { assert, assertEquals, assertMatch } from "@std/assert";
import { api, connectTo, runConsumerServer } from "./_consumer_helpers.ts";
import { checkFor, delay } from "../_helpers/server.ts";

const te = new TextEncoder();
const td = new TextDecoder();
const MS = 1_000_000;

async function stream(
  nc: NatsConnection,
  name: string,
  subjects: string[],
  extra: Record<string, unknown> = {},
) {
  const r = await api(nc, `$JS.API.STREAM.CREATE.${name}`, { name, subjects, storage: "memory", ...extra });
  assert(r.error === undefined, JSON.stringify(r.error));
}

async function pub(nc: NatsConnection, subject: string, n: number, body = "ok"): Promise<void> {
  for (let i = 0; i < n; i++) await nc.request(subject, te.encode(body));
}

// deno-lint-ignore no-explicit-any
async function addConsumer(nc: NatsConnection, s: string, config: Record<string, unknown>): Promise<any> {
  const subj = config.durable_name
    ? `$JS.API.CONSUMER.CREATE.${s}.${config.durable_name}`
    : `$JS.API.CONSUMER.CREATE.${s}`;
  return await api(nc, subj, { "stream_name": s, config });
}

/** Collects messages on a subject until `n` arrived (or the timeout). */
function collect(nc: NatsConnection, subject: string) {
  const msgs: Msg[] = [];
  const sub = nc.subscribe(subject, {
    callback: (_e, m) => {
      msgs.push(m);
    },
  });
  return { msgs, sub };
}

function status(m: Msg): string {
  return m.headers ? `${m.headers.code} ${m.headers.description}`.trim() : "";
}

/** A pull request on its own inbox (the delivered subject is the stream's, so the mux inbox cannot match). */
function nextMsg(nc: NatsConnection, s: string, c: string, body: unknown = undefined): Promise<Msg> {
  const data = body === undefined ? new Uint8Array(0) : te.encode(JSON.stringify(body));
  return nc.request(`$JS.API.CONSUMER.MSG.NEXT.${s}.${c}`, data, { timeout: 2_000, noMux: true });
}

function pullNext(nc: NatsConnection, s: string, c: string, reply: string, body: unknown = undefined) {
  const data = body === undefined
    ? new Uint8Array(0)
    : te.encode(typeof body === "string" ? body : JSON.stringify(body));
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${s}.${c}`, data, { reply });
}

Deno.test("TestJetStreamConsumerWithNameAndDurable: name and durable must match", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  const bad = await api(nc, "$JS.API.CONSUMER.CREATE.S.x", {
    "stream_name": "S",
    config: { "durable_name": "y", "ack_policy": "explicit" },
  });
  assertEquals(bad.error.err_code, 10017);
  const ok = await api(nc, "$JS.API.CONSUMER.CREATE.S.dname", {
    "stream_name": "S",
    config: { "durable_name": "dname", name: "dname", "ack_policy": "explicit" },
  });
  assertEquals(ok.name, "dname");
  assertEquals(ok.config.durable_name, "dname");
});

Deno.test("TestJetStreamConsumerWithStartTime: by_start_time starts at the first message at or after it", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  await pub(nc, "foo", 10);
  await delay(20);
  const start = new Date().toISOString();
  await delay(5);
  await pub(nc, "foo", 5);
  const ci = await addConsumer(nc, "S", {
    "durable_name": "d",
    "deliver_policy": "by_start_time",
    "opt_start_time": start,
    "ack_policy": "explicit",
  });
  assertEquals(ci.num_pending, 5);
  const js = jetstream(nc);
  const m = await (await js.consumers.get("S", "d")).next();
  assertEquals(m?.seq, 11);
});

Deno.test("TestJetStreamConsumerWithMultipleStartOptions: conflicting start options are refused", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  const r = await addConsumer(nc, "S", {
    "durable_name": "d",
    "deliver_policy": "last",
    "opt_start_seq": 10,
    "ack_policy": "none",
  });
  assertEquals(r.error.err_code, 10094);
  assertEquals(
    r.error.description,
    "consumer delivery policy is deliver last, but optional start sequence is also set",
  );
});

Deno.test("TestJetStreamConsumerMaxDeliveries: a message is delivered max_deliver times, then an advisory", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  const adv = collect(nc, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.S.d");
  const dsub = collect(nc, "deliver");
  await nc.flush();
  await addConsumer(nc, "S", {
    "durable_name": "d",
    "deliver_subject": "deliver",
    "ack_policy": "explicit",
    "ack_wait": 50 * MS,
    "max_deliver": 3,
  });
  await pub(nc, "foo", 1);
  await checkFor(3_000, 20, () => {
    if (dsub.msgs.length < 3) throw new Error(`got ${dsub.msgs.length}`);
  });
  await delay(250);
  assertEquals(dsub.msgs.length, 3);
  assertEquals(adv.msgs.length, 1);
  const a = JSON.parse(td.decode(adv.msgs[0].data));
  assertEquals(a.type, "io.nats.jetstream.advisory.v1.max_deliver");
  assertEquals(a.stream_seq, 1);
  assertEquals(a.deliveries, 3);
});

Deno.test("TestJetStreamMaxConsumers: max_consumers limits consumers per stream", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"], { "max_consumers": 1 });
  const a = await addConsumer(nc, "S", { "durable_name": "a", "ack_policy": "explicit" });
  assert(a.error === undefined);
  const b = await addConsumer(nc, "S", { "durable_name": "b", "ack_policy": "explicit" });
  assertEquals(b.error.err_code, 10026);
});

Deno.test("TestJetStreamBasicDeliverSubject: a push consumer delivers to a plain subscription", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo.*"]);
  await pub(nc, "foo.a", 10);
  const d = collect(nc, "d.inbox");
  await nc.flush();
  const ci = await addConsumer(nc, "S", {
    "durable_name": "p",
    "deliver_subject": "d.inbox",
    "ack_policy": "none",
  });
  assertEquals(ci.config.deliver_subject, "d.inbox");
  await checkFor(2_000, 10, () => {
    if (d.msgs.length !== 10) throw new Error(`${d.msgs.length}`);
  });
  assertEquals(d.msgs[0].subject, "foo.a");
  assertMatch(d.msgs[0].reply!, /^\$JS\.ACK\.S\.p\.1\.1\.1\.\d+\.9$/);
  const info = await api(nc, "$JS.API.CONSUMER.INFO.S.p");
  assertEquals(info.push_bound, true);
  assertEquals(info.delivered.stream_seq, 10);
});

Deno.test("TestJetStreamWorkQueueMaxWaiting: requests past max_waiting get 409 Exceeded MaxWaiting", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"], { retention: "workqueue" });
  await addConsumer(nc, "S", { "durable_name": "w", "ack_policy": "explicit", "max_waiting": 2 });
  const r = collect(nc, "r.*");
  await nc.flush();
  for (let i = 0; i < 3; i++) pullNext(nc, "S", "w", `r.${i}`, { batch: 1, expires: 2_000 * MS });
  await checkFor(2_000, 10, () => {
    if (r.msgs.length !== 1) throw new Error(`${r.msgs.length}`);
  });
  assertEquals(status(r.msgs[0]), "409 Exceeded MaxWaiting");
  const info = await api(nc, "$JS.API.CONSUMER.INFO.S.w");
  assertEquals(info.num_waiting, 2);
});

Deno.test("TestJetStreamWorkQueueAckAndNext: +NXT acks and requests the next message", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"], { retention: "workqueue" });
  await addConsumer(nc, "S", { "durable_name": "w", "ack_policy": "explicit" });
  await pub(nc, "foo", 3);
  let m = await nextMsg(nc, "S", "w");
  for (let i = 1; i <= 3; i++) {
    assertMatch(m.reply!, new RegExp(`^\\$JS\\.ACK\\.S\\.w\\.1\\.${i}\\.${i}\\.`));
    if (i < 3) m = await nc.request(m.reply!, te.encode("+NXT"), { timeout: 2_000, noMux: true });
    else m.respond(te.encode("+ACK"));
  }
  await nc.flush();
  await checkFor(2_000, 10, async () => {
    const si = await api(nc, "$JS.API.STREAM.INFO.S");
    if (si.state.messages !== 0) throw new Error(`${si.state.messages}`);
  });
});

Deno.test("TestJetStreamAckAllRedelivery: ack all acks everything up to the sequence", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  await pub(nc, "foo", 10);
  const d = collect(nc, "dall");
  await nc.flush();
  await addConsumer(nc, "S", {
    "durable_name": "a",
    "deliver_subject": "dall",
    "ack_policy": "all",
    "ack_wait": 100 * MS,
  });
  await checkFor(2_000, 10, () => {
    if (d.msgs.length < 10) throw new Error(`${d.msgs.length}`);
  });
  d.msgs[5].respond(te.encode("+ACK"));
  await nc.flush();
  await checkFor(2_000, 20, async () => {
    const info = await api(nc, "$JS.API.CONSUMER.INFO.S.a");
    if (info.ack_floor.stream_seq !== 6) throw new Error(JSON.stringify(info.ack_floor));
  });
  // The four above the floor are redelivered after ack wait.
  await checkFor(2_000, 20, () => {
    const redelivered = d.msgs.slice(10).map((m) => m.reply!.split(".")[5]);
    if (!redelivered.includes("7")) throw new Error(redelivered.join(","));
  });
  const all = d.msgs.slice(10).map((m) => Number(m.reply!.split(".")[5]));
  assert(all.every((x) => x > 6), all.join(","));
});

Deno.test("TestJetStreamAckReplyStreamPending: the ack reply carries the pending count", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  await pub(nc, "foo", 5);
  await addConsumer(nc, "S", { "durable_name": "d", "ack_policy": "explicit" });
  const m = await nextMsg(nc, "S", "d");
  assertEquals(m.reply!.split(".")[8], "4");
  await pub(nc, "foo", 2);
  const m2 = await nextMsg(nc, "S", "d");
  assertEquals(m2.reply!.split(".")[8], "5");
});

Deno.test("TestJetStreamWorkQueueNakRedelivery: -NAK redelivers at once with a higher delivery count", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"], { retention: "workqueue" });
  await addConsumer(nc, "S", { "durable_name": "w", "ack_policy": "explicit" });
  await pub(nc, "foo", 1);
  const m = await nextMsg(nc, "S", "w");
  m.respond(te.encode("-NAK"));
  await nc.flush();
  const m2 = await nextMsg(nc, "S", "w");
  const t = m2.reply!.split(".");
  assertEquals(t[4], "2");
  assertEquals(t[5], "1");
  assertEquals(t[6], "2");
  const info = await api(nc, "$JS.API.CONSUMER.INFO.S.w");
  assertEquals(info.num_redelivered, 1);
});

Deno.test("TestJetStreamWorkQueueTerminateDelivery: +TERM stops redelivery and sends an advisory", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"], { retention: "workqueue" });
  await addConsumer(nc, "S", { "durable_name": "w", "ack_policy": "explicit", "ack_wait": 50 * MS });
  const adv = collect(nc, "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.S.w");
  await nc.flush();
  await pub(nc, "foo", 1);
  const m = await nextMsg(nc, "S", "w");
  m.respond(te.encode("+TERM bad data"));
  await nc.flush();
  await checkFor(2_000, 10, () => {
    if (adv.msgs.length !== 1) throw new Error("no advisory");
  });
  const a = JSON.parse(td.decode(adv.msgs[0].data));
  assertEquals(a.reason, "bad data");
  const r = collect(nc, "rr");
  pullNext(nc, "S", "w", "rr", { batch: 1, "no_wait": true });
  await checkFor(2_000, 10, () => {
    if (r.msgs.length !== 1) throw new Error("no reply");
  });
  assertEquals(status(r.msgs[0]), "404 No Messages");
});

Deno.test("TestJetStreamEphemeralConsumers: an ephemeral push consumer goes away without interest", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  const sub = nc.subscribe("eph");
  await nc.flush();
  const ci = await addConsumer(nc, "S", { "deliver_subject": "eph", "inactive_threshold": 100 * MS });
  assertEquals(ci.name.length, 8);
  assert(ci.push_bound);
  sub.unsubscribe();
  await nc.flush();
  await checkFor(2_000, 20, async () => {
    const r = await api(nc, `$JS.API.CONSUMER.INFO.S.${ci.name}`);
    if (r.error?.err_code !== 10014) throw new Error("still there");
  });
});

Deno.test("TestJetStreamRedeliverCount: the delivery count grows with each redelivery", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  await addConsumer(nc, "S", { "durable_name": "d", "ack_policy": "explicit" });
  await pub(nc, "foo", 1);
  const js = jetstream(nc);
  const c = await js.consumers.get("S", "d");
  for (let i = 1; i <= 5; i++) {
    const m = await c.next({ expires: 1_000 });
    assertEquals(m?.info.deliveryCount, i);
    assertEquals(m?.redelivered, i > 1);
    m?.nak();
  }
});

Deno.test("TestJetStreamInterestRetentionStreamWithFilteredConsumers: acked messages leave interest streams", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["*"], { retention: "interest" });
  await addConsumer(nc, "S", { "durable_name": "a", "filter_subject": "foo", "ack_policy": "explicit" });
  await addConsumer(nc, "S", { "durable_name": "b", "filter_subject": "bar", "ack_policy": "explicit" });
  await pub(nc, "foo", 5);
  await pub(nc, "bar", 5);
  await pub(nc, "baz", 5); // no interest: not stored
  let si = await api(nc, "$JS.API.STREAM.INFO.S");
  assertEquals(si.state.messages, 10);
  const js = jetstream(nc);
  const it = await (await js.consumers.get("S", "a")).fetch({ max_messages: 5, expires: 1_000 });
  for await (const m of it) m.ack();
  await nc.flush();
  await checkFor(2_000, 10, async () => {
    si = await api(nc, "$JS.API.STREAM.INFO.S");
    if (si.state.messages !== 5) throw new Error(`${si.state.messages}`);
  });
});

Deno.test("TestJetStreamPushConsumerFlowControl: flow control requests are sent and answered", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  let fc = 0;
  let data = 0;
  nc.subscribe("fcd", {
    callback: (_e, m) => {
      if (m.headers && m.headers.code === 100 && m.reply) {
        fc++;
        m.respond();
      } else if (!m.headers || m.headers.code === 0) data++;
    },
  });
  await nc.flush();
  await addConsumer(nc, "S", {
    "durable_name": "fc",
    "deliver_subject": "fcd",
    "flow_control": true,
    "idle_heartbeat": 5_000 * MS,
    "ack_policy": "none",
  });
  const body = "x".repeat(64 * 1024);
  await pub(nc, "foo", 100, body);
  await checkFor(5_000, 20, () => {
    if (data !== 100) throw new Error(`${data}`);
  });
  assert(fc >= 1, `flow control requests: ${fc}`);
});

Deno.test("TestJetStreamFlowControlRequiresHeartbeats: flow control without heartbeats is refused", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  const r = await addConsumer(nc, "S", { "durable_name": "x", "deliver_subject": "x", "flow_control": true });
  assertEquals(r.error.err_code, 10108);
});

Deno.test("TestJetStreamPushConsumerIdleHeartbeats: idle push consumers send 100 Idle Heartbeat", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  const d = collect(nc, "hb");
  await nc.flush();
  await addConsumer(nc, "S", { "durable_name": "h", "deliver_subject": "hb", "idle_heartbeat": 100 * MS });
  await checkFor(2_000, 20, () => {
    if (d.msgs.length < 2) throw new Error(`${d.msgs.length}`);
  });
  assertEquals(status(d.msgs[0]), "100 Idle Heartbeat");
  assertEquals(d.msgs[0].headers!.get("Nats-Last-Consumer"), "0");
  assertEquals(d.msgs[0].headers!.get("Nats-Last-Stream"), "0");
});

Deno.test("TestJetStreamPushConsumersPullError: a pull request to a push consumer gets 409", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  await addConsumer(nc, "S", { "durable_name": "p", "deliver_subject": "pd" });
  const m = await nc.request("$JS.API.CONSUMER.MSG.NEXT.S.p", new Uint8Array(0));
  assertEquals(status(m), "409 Consumer is push based");
});

Deno.test("TestJetStreamPullConsumerMaxWaitingOfOne: a second waiting request is refused", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  await addConsumer(nc, "S", { "durable_name": "d", "ack_policy": "explicit", "max_waiting": 1 });
  const r = collect(nc, "w.*");
  await nc.flush();
  pullNext(nc, "S", "d", "w.1", { batch: 1, expires: 2_000 * MS });
  pullNext(nc, "S", "d", "w.2", { batch: 1, expires: 2_000 * MS });
  await checkFor(2_000, 10, () => {
    if (r.msgs.length !== 1) throw new Error(`${r.msgs.length}`);
  });
  assertEquals(r.msgs[0].subject, "w.2");
  assertEquals(status(r.msgs[0]), "409 Exceeded MaxWaiting");
  await pub(nc, "foo", 1);
  await checkFor(2_000, 10, () => {
    if (r.msgs.length !== 2) throw new Error(`${r.msgs.length}`);
  });
  assertEquals(r.msgs[1].subject, "foo");
});

Deno.test("TestJetStreamConsumerMaxAckPending: delivery stops at max_ack_pending", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  await pub(nc, "foo", 50);
  const d = collect(nc, "map");
  await nc.flush();
  await addConsumer(nc, "S", {
    "durable_name": "m",
    "deliver_subject": "map",
    "ack_policy": "explicit",
    "max_ack_pending": 22,
  });
  await checkFor(2_000, 10, () => {
    if (d.msgs.length < 22) throw new Error(`${d.msgs.length}`);
  });
  await delay(100);
  assertEquals(d.msgs.length, 22);
  d.msgs[0].respond(te.encode("+ACK"));
  await checkFor(2_000, 10, () => {
    if (d.msgs.length !== 23) throw new Error(`${d.msgs.length}`);
  });
  const info = await api(nc, "$JS.API.CONSUMER.INFO.S.m");
  assertEquals(info.num_ack_pending, 22);
  assertEquals(info.num_pending, 27);
});

Deno.test("TestJetStreamDeliverLastPerSubject: the last message of each subject, then new ones", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["kv.*"]);
  for (let i = 0; i < 3; i++) {
    for (const k of ["a", "b", "c"]) await nc.request(`kv.${k}`, te.encode(`${k}${i}`));
  }
  const ci = await addConsumer(nc, "S", {
    "durable_name": "l",
    "deliver_policy": "last_per_subject",
    "filter_subject": "kv.*",
    "ack_policy": "explicit",
  });
  assertEquals(ci.num_pending, 3);
  const js = jetstream(nc);
  const c = await js.consumers.get("S", "l");
  const got: string[] = [];
  for await (const m of await c.fetch({ max_messages: 3, expires: 1_000 })) {
    got.push(m.string());
    m.ack();
  }
  assertEquals(got, ["a2", "b2", "c2"]);
  await nc.request("kv.a", te.encode("a3"));
  assertEquals((await c.next({ expires: 1_000 }))?.string(), "a3");
});

Deno.test("TestJetStreamPullConsumerRequestMaximums: max_batch, max_expires and max_bytes are enforced", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  await addConsumer(nc, "S", {
    "durable_name": "d",
    "ack_policy": "explicit",
    "max_batch": 10,
    "max_expires": 1_000 * MS,
    "max_bytes": 1024,
  });
  let m = await nc.request("$JS.API.CONSUMER.MSG.NEXT.S.d", te.encode("11"));
  assertEquals(status(m), "409 Exceeded MaxRequestBatch of 10");
  m = await nc.request(
    "$JS.API.CONSUMER.MSG.NEXT.S.d",
    te.encode(JSON.stringify({ batch: 1, expires: 2_000 * MS })),
  );
  assertEquals(status(m), "409 Exceeded MaxRequestExpires of 1s");
  m = await nc.request(
    "$JS.API.CONSUMER.MSG.NEXT.S.d",
    te.encode(JSON.stringify({ batch: 1, "max_bytes": 2048 })),
  );
  assertEquals(status(m), "409 Exceeded MaxRequestMaxBytes of 1024");
});

Deno.test("TestJetStreamPullConsumerHeartBeats: waiting pull requests get idle heartbeats", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  await addConsumer(nc, "S", { "durable_name": "d", "ack_policy": "explicit" });
  const r = collect(nc, "hb.r");
  await nc.flush();
  pullNext(nc, "S", "d", "hb.r", { batch: 1, expires: 500 * MS, "idle_heartbeat": 100 * MS });
  await checkFor(2_000, 20, () => {
    if (!r.msgs.some((m) => status(m) === "408 Request Timeout")) throw new Error("no timeout");
  });
  const hbs = r.msgs.filter((m) => status(m) === "100 Idle Heartbeat").length;
  assert(hbs >= 3, `heartbeats: ${hbs}`);
  // Bad heartbeat (more than half of expires).
  const bad = await nc.request(
    "$JS.API.CONSUMER.MSG.NEXT.S.d",
    te.encode(JSON.stringify({ batch: 1, expires: 100 * MS, "idle_heartbeat": 80 * MS })),
  );
  assertEquals(status(bad), "400 Bad Request - heartbeat value too large");
});

Deno.test("TestJetStreamPullMaxBytes: max_bytes limits a batch; an oversized message gets 409", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  await addConsumer(nc, "S", { "durable_name": "d", "ack_policy": "explicit" });
  await pub(nc, "foo", 10, "x".repeat(100));
  const r = collect(nc, "mb");
  await nc.flush();
  pullNext(nc, "S", "d", "mb", { batch: 100, "max_bytes": 450, expires: 500 * MS });
  await delay(100);
  const data = r.msgs.filter((m) => !m.headers || m.headers.code === 0);
  assert(data.length >= 1 && data.length <= 3, `${data.length}`);
  const r2 = collect(nc, "mb2");
  await nc.flush();
  pullNext(nc, "S", "d", "mb2", { batch: 1, "max_bytes": 50, expires: 500 * MS });
  await checkFor(2_000, 10, () => {
    if (r2.msgs.length !== 1) throw new Error("none");
  });
  assertEquals(status(r2.msgs[0]), "409 Message Size Exceeds MaxBytes");
});

Deno.test("TestJetStreamPullConsumersTimeoutHeaders: 408 carries pending messages and bytes", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  await addConsumer(nc, "S", { "durable_name": "d", "ack_policy": "explicit" });
  await pub(nc, "foo", 2);
  const r = collect(nc, "to");
  await nc.flush();
  pullNext(nc, "S", "d", "to", { batch: 5, "max_bytes": 4096, expires: 100 * MS });
  await checkFor(2_000, 10, () => {
    if (!r.msgs.some((m) => status(m) === "408 Request Timeout")) throw new Error("none");
  });
  const t = r.msgs.find((m) => status(m) === "408 Request Timeout")!;
  assertEquals(t.headers!.get("Nats-Pending-Messages"), "3");
  assert(Number(t.headers!.get("Nats-Pending-Bytes")) < 4096);
});

Deno.test("Consumer PAUSE: pause_until stops delivery, info reports it, resume delivers", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add("S", {
    durable_name: "p",
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  const until = new Date(Date.now() + 60_000);
  const pr = await jsm.consumers.pause("S", "p", until);
  assertEquals(pr.paused, true);
  const info = await api(nc, "$JS.API.CONSUMER.INFO.S.p");
  assertEquals(info.paused, true);
  assert(info.pause_remaining > 0);
  await pub(nc, "foo", 1);
  const r = collect(nc, "pz");
  await nc.flush();
  pullNext(nc, "S", "p", "pz", { batch: 1, expires: 200 * MS });
  await checkFor(2_000, 10, () => {
    if (r.msgs.length !== 1) throw new Error("none");
  });
  assertEquals(status(r.msgs[0]), "408 Request Timeout");
  const rr = await jsm.consumers.resume("S", "p");
  assertEquals(rr.paused, false);
  const m = await (await jetstream(nc).consumers.get("S", "p")).next({ expires: 1_000 });
  assertEquals(m?.seq, 1);
});

Deno.test("Consumer priority groups: pinned_client pins one requester, others wait; UNPIN moves it", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  await addConsumer(nc, "S", {
    "durable_name": "g",
    "ack_policy": "explicit",
    "priority_policy": "pinned_client",
    "priority_groups": ["A"],
  });
  await pub(nc, "foo", 2);
  const m1 = await nextMsg(nc, "S", "g", { batch: 1, group: "A" });
  const pin = m1.headers?.get("Nats-Pin-Id") ?? "";
  assert(pin.length > 0);
  const bad = await nc.request(
    "$JS.API.CONSUMER.MSG.NEXT.S.g",
    te.encode(JSON.stringify({ batch: 1, group: "A", id: "nope" })),
  );
  assertEquals(status(bad), "423 Nats-Pin-Id mismatch");
  const m2 = await nextMsg(nc, "S", "g", { batch: 1, group: "A", id: pin });
  assertEquals(m2.reply!.split(".")[5], "2");
  const un = await api(nc, "$JS.API.CONSUMER.UNPIN.S.g", { group: "A" });
  assert(un.error === undefined, JSON.stringify(un));
  const info = await api(nc, "$JS.API.CONSUMER.INFO.S.g");
  assertEquals(info.priority_groups, undefined);
});

Deno.test("Consumer API: NAMES, LIST and DELETE with the official manager", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  await stream(nc, "S", ["foo"]);
  const jsm = await jetstreamManager(nc);
  for (const n of ["c", "a", "b"]) {
    await jsm.consumers.add("S", { durable_name: n, ack_policy: AckPolicy.Explicit });
  }
  const names = await api(nc, "$JS.API.CONSUMER.NAMES.S");
  assertEquals(names.consumers, ["a", "b", "c"]);
  const list = await jsm.consumers.list("S").next();
  assertEquals(list.map((c) => c.name), ["a", "b", "c"]);
  assertEquals(await jsm.consumers.delete("S", "b"), true);
  const nf = await api(nc, "$JS.API.CONSUMER.INFO.S.b");
  assertEquals(nf.error.code, 404);
  assertEquals(nf.error.err_code, 10014);
});
