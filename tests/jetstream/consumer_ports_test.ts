// Ports of single-server tests of nats-server server/jetstream_consumer_test.go (current): multiple filter
// subjects, create/update actions, work queue overlap, backoff vs max_deliver, consumer delete while a pull
// waits, pedantic mode, pinned-client priority groups (pin id, 423, unpin, pinned TTL). Go test names kept, in
// Go's order; tests that need a cluster or Go internals stay ignored with the reason.

import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "@std/assert";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { headers } from "@nats-io/nats-core";
import { defaultOptions, type Options } from "../../src/natsdeno.ts";
import { checkFor } from "../_helpers/server.ts";
import {
  addStream,
  clientFor,
  createConsumer,
  dec,
  enc,
  fetch,
  isStatus,
  jsApi,
  MS,
  mustConsumer,
  pull,
  runServer,
  SEC,
  send,
  status,
  SyncSub,
} from "./_consumer_ports2_helpers.ts";

Deno.test("TestJetStreamConsumerMultipleFiltersRemoveFilters: dropping all filters widens the consumer", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["one", "two", "three"], "max_age": 90 * SEC });
  await mustConsumer(nc, "TEST", { "durable_name": "consumer", "filter_subjects": ["one", "two"] });
  await send(nc, "one", "data");
  await send(nc, "two", "data");
  await send(nc, "three", "data");
  assertEquals((await fetch(nc, "TEST", "consumer", 1)).length, 1);
  await mustConsumer(nc, "TEST", { "durable_name": "consumer", "filter_subjects": [] });
  const a = await fetch(nc, "TEST", "consumer", 1);
  assertEquals(a.length, 1);
  const b = await fetch(nc, "TEST", "consumer", 1);
  assertEquals(b.length, 1);
  assertEquals(b[0].subject, "three");
});

Deno.test("TestJetStreamConsumerMultipleFiltersRace: 10 pullers on a 3-filter consumer get each message once", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["one", "two", "three", "four"], "max_age": 90 * SEC });
  const total = 10_000;
  for (const subj of ["one", "two", "three", "four"]) {
    for (let i = 0; i < total; i++) nc.publish(subj, enc.encode("data"));
    await nc.flush();
  }
  await checkFor(10_000, 50, async () => {
    const si = await jsApi(nc, "$JS.API.STREAM.INFO.TEST");
    if (si.state.messages !== 4 * total) throw new Error(`stream has ${si.state.messages}`);
  });
  await mustConsumer(nc, "TEST", {
    "durable_name": "consumer",
    "filter_subjects": ["one", "two", "three"],
    "ack_policy": "explicit",
  });
  const seqs: number[] = [];
  let done = false;
  const workers = Array.from({ length: 10 }, async () => {
    while (!done) {
      const msgs = await fetch(nc, "TEST", "consumer", 10, 500);
      for (const m of msgs) {
        // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
        const t = m.reply!.split(".");
        seqs.push(Number(t[t.length - 3]));
        m.respond();
      }
    }
  });
  try {
    await checkFor(30_000, 100, () => {
      if (seqs.length < 3 * total) throw new Error(`found ${seqs.length} messages instead of ${3 * total}`);
    });
  } finally {
    done = true;
    await Promise.all(workers);
  }
  assertEquals(seqs.length, 3 * total);
  seqs.sort((a, b) => a - b);
  for (let i = 1; i < seqs.length; i++) assertEquals(seqs[i], seqs[i - 1] + 1, `sequence mismatch at ${i}`);
});

/** Shared body of the two MultipleConsumers tests: push consumers with filters, then publishes, then counts. */
async function multipleConsumers(
  subjects: { subject: string; messages: number; wc?: boolean }[],
  consumers: { name: string; subjects: string[]; expected: number }[],
): Promise<void> {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, {
    name: "TEST",
    subjects: ["one", "two", "three", "four", "five.>"],
    "max_age": 90 * SEC,
  });
  const delivered = new Map<string, number>();
  for (const c of consumers) {
    const inbox = `_INBOX.${c.name}`;
    delivered.set(c.name, 0);
    nc.subscribe(inbox, {
      callback: (_e, m) => {
        m.respond();
        delivered.set(c.name, delivered.get(c.name)! + 1);
      },
    });
    await nc.flush();
    await mustConsumer(nc, "TEST", {
      "durable_name": c.name,
      "filter_subjects": c.subjects,
      "ack_policy": "explicit",
      "deliver_policy": "all",
      "ack_wait": 30 * SEC,
      "deliver_subject": inbox,
    });
  }
  const pubs = subjects.map(async ({ subject, messages, wc }) => {
    await using pc = await clientFor(s);
    const acks: Promise<Msg>[] = [];
    for (let i = 0; i < messages; i++) {
      const subj = wc ? `${subject.slice(0, -2)}.${Math.floor(Math.random() * 10)}` : subject;
      acks.push(pc.request(subj, enc.encode("data"), { timeout: 15_000 }));
    }
    await Promise.all(acks);
  });
  await Promise.all(pubs);
  await checkFor(15_000, 250, async () => {
    for (const c of consumers) {
      const ci = await jsApi(nc, `$JS.API.CONSUMER.INFO.TEST.${c.name}`);
      if (ci.delivered.consumer_seq !== c.expected) {
        throw new Error(`${c.name}: delivered seq ${ci.delivered.consumer_seq}, want ${c.expected}`);
      }
      if (ci.ack_floor.consumer_seq !== c.expected) {
        throw new Error(`${c.name}: ack floor ${ci.ack_floor.consumer_seq}, want ${c.expected}`);
      }
      if (delivered.get(c.name) !== c.expected) {
        throw new Error(`${c.name}: got ${delivered.get(c.name)}, want ${c.expected}`);
      }
    }
  });
}

Deno.test("TestJetStreamConsumerMultipleConsumersSingleFilter: push consumers on one filter each see only it", async () => {
  await multipleConsumers(
    [
      { subject: "one", messages: 5000 },
      { subject: "two", messages: 7500 },
      { subject: "three", messages: 2500 },
      { subject: "four", messages: 1000 },
      { subject: "five.>", messages: 3000, wc: true },
    ],
    [
      { name: "C1", subjects: ["one"], expected: 5000 },
      { name: "C2", subjects: ["two"], expected: 7500 },
      { name: "C3", subjects: ["one"], expected: 5000 },
      { name: "C4", subjects: ["one"], expected: 5000 },
    ],
  );
});

Deno.test("TestJetStreamConsumerMultipleConsumersMultipleFilters: push consumers with two filters each", async () => {
  await multipleConsumers(
    [
      { subject: "one", messages: 50 },
      { subject: "two", messages: 75 },
      { subject: "three", messages: 250 },
      { subject: "four", messages: 10 },
      { subject: "five.>", messages: 300, wc: true },
    ],
    [
      { name: "C1", subjects: ["one", "two"], expected: 125 },
      { name: "C2", subjects: ["two", "three"], expected: 325 },
      { name: "C3", subjects: ["one", "three"], expected: 300 },
      { name: "C4", subjects: ["one", "five.>"], expected: 350 },
    ],
  );
});

Deno.test("TestJetStreamConsumerMultipleFiltersSequence: two filters deliver in stream order", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, {
    name: "TEST",
    subjects: ["one", "two", "three", "four", "five.>"],
    "max_age": 90 * SEC,
  });
  const inbox = "_INBOX.seq";
  await mustConsumer(nc, "TEST", {
    "durable_name": "DUR",
    "filter_subjects": ["one", "two"],
    "ack_policy": "explicit",
    "deliver_policy": "all",
    "ack_wait": 30 * SEC,
    "deliver_subject": inbox,
  });
  for (let i = 0; i < 20; i++) await send(nc, "one", `${i}`);
  for (let i = 20; i < 40; i++) await send(nc, "two", `${i}`);
  for (let i = 40; i < 60; i++) await send(nc, "one", `${i}`);
  const sub = new SyncSub(nc, inbox);
  for (let i = 0; i < 60; i++) {
    const m = await sub.must();
    assertEquals(dec.decode(m.data), `${i}`);
  }
});

Deno.test("TestJetStreamConsumerActions: action create is idempotent for equal configs, update needs a consumer", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, {
    name: "TEST",
    subjects: ["one", "two", "three", "four", "five.>"],
    "max_age": 90 * SEC,
  });
  const base = { "ack_policy": "explicit", "deliver_policy": "all", "ack_wait": 30 * SEC };
  const dur = (filters: string[], name = "DUR") => ({
    "durable_name": name,
    "filter_subjects": filters,
    ...base,
  });
  const create = { action: "create" };
  const update = { action: "update" };
  assertEquals((await createConsumer(nc, "TEST", dur(["one", "two"]), create)).error, undefined);
  assertEquals((await createConsumer(nc, "TEST", dur(["one", "two"]), create)).error, undefined);
  assert((await createConsumer(nc, "TEST", dur(["one"]), create)).error !== undefined);
  assertEquals((await createConsumer(nc, "TEST", dur(["one"]), update)).error, undefined);
  assert((await createConsumer(nc, "TEST", dur(["one"], "NEW"), update)).error !== undefined);
  const eph = { name: "EPH", "filter_subjects": ["one"], ...base };
  assertEquals((await createConsumer(nc, "TEST", eph, create)).error, undefined);
  // An existing (not yet cleaned up) ephemeral cannot be created again, even with the same config.
  assert((await createConsumer(nc, "TEST", eph, create)).error !== undefined);
});

Deno.test("TestJetStreamConsumerActionsOnWorkQueuePolicyStream: updates must keep work-queue filters disjoint", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, {
    name: "TEST",
    retention: "workqueue",
    subjects: ["one", "two", "three", "four", "five.>"],
  });
  const c = (name: string, filters: string[]) => ({
    "durable_name": name,
    "filter_subjects": filters,
    "ack_policy": "explicit",
  });
  assertEquals(
    (await createConsumer(nc, "TEST", c("C1", ["one", "two"]), { action: "create" })).error,
    undefined,
  );
  assertEquals(
    (await createConsumer(nc, "TEST", c("C2", ["three", "four"]), { action: "create" })).error,
    undefined,
  );
  assertEquals(
    (await createConsumer(nc, "TEST", c("C3", ["five.*"]), { action: "create" })).error,
    undefined,
  );
  assertEquals((await createConsumer(nc, "TEST", c("C1", ["one"]), { action: "update" })).error, undefined);
  assertEquals(
    (await createConsumer(nc, "TEST", c("C2", ["three", "four", "two"]), { action: "update" })).error,
    undefined,
  );
  const e1 =
    (await createConsumer(nc, "TEST", c("C4", ["one", "two", "three", "four"]), { action: "create" }))
      .error;
  assertEquals(e1?.err_code, 10100); // JSConsumerWQConsumerNotUniqueErr
  const e2 =
    (await createConsumer(nc, "TEST", c("C3", ["one", "two", "three", "four"]), { action: "update" }))
      .error;
  assertEquals(e2?.err_code, 10100);
});

Deno.test("TestJetStreamConsumerActionsViaAPI: action create/update through the durable and named create APIs", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["one"], "max_age": 90 * SEC });
  const durSubj = "$JS.API.CONSUMER.DURABLE.CREATE.TEST.hello";
  let r = await jsApi(nc, durSubj, {
    action: "update",
    config: { "durable_name": "hello" },
    "stream_name": "TEST",
  });
  assert(r.error !== undefined, "update of a missing consumer must fail");
  r = await jsApi(nc, durSubj, {
    action: "create",
    config: { "durable_name": "hello" },
    "stream_name": "TEST",
  });
  assertEquals(r.error, undefined);
  r = await jsApi(nc, durSubj, {
    action: "create",
    config: { "durable_name": "hello", "filter_subject": "one" },
    "stream_name": "TEST",
  });
  assert(r.error !== undefined, "create with a different config must fail");
  const ephSubj = "$JS.API.CONSUMER.CREATE.TEST.ephemeral";
  r = await jsApi(nc, ephSubj, {
    action: "create",
    config: { name: "ephemeral", "filter_subject": "one" },
    "stream_name": "TEST",
  });
  assertEquals(r.error, undefined);
  r = await jsApi(nc, ephSubj, {
    action: "create",
    config: { name: "ephemeral", "filter_subject": "one" },
    "stream_name": "TEST",
  });
  assert(r.error !== undefined, "re-create with another config must fail");
});

Deno.test("TestJetStreamConsumerActionsUnmarshal: create, update, absent and unknown actions", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["one"] });
  const subj = "$JS.API.CONSUMER.CREATE.TEST.A";
  const cfg = { name: "A" };
  assertEquals(
    (await jsApi(nc, subj, { action: "create", config: cfg, "stream_name": "TEST" })).error,
    undefined,
  );
  assertEquals(
    (await jsApi(nc, subj, { action: "update", config: cfg, "stream_name": "TEST" })).error,
    undefined,
  );
  assertEquals((await jsApi(nc, subj, { config: cfg, "stream_name": "TEST" })).error, undefined);
  const r = await jsApi(nc, subj, { action: "unknown", config: cfg, "stream_name": "TEST" });
  assert(r.error !== undefined, "an unknown action is a bad request");
});

Deno.test({
  name: "TestJetStreamConsumerMultipleFiltersLastPerSubject: last per subject with two filters (R3)",
  // blocked: the Go test runs on a 3-node cluster with R3 streams and consumers; natsdeno has no clustering.
  ignore: true,
  fn: () => {},
});

Deno.test({
  name: "TestJetStreamConsumerIsFilteredMatch: filter matching of the consumer's subject filters",
  // blocked: unit test of Go internals (consumer.isFilteredMatch on a hand-built consumer struct).
  ignore: true,
  fn: () => {},
});

Deno.test("TestJetStreamConsumerWorkQueuePolicyOverlap: overlapping filters on a work queue are rejected", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.*.*"], retention: "workqueue" });
  await mustConsumer(nc, "TEST", {
    "durable_name": "ConsumerA",
    "filter_subject": "foo.bar.*",
    "ack_policy": "explicit",
  });
  const r = await createConsumer(nc, "TEST", {
    "durable_name": "ConsumerB",
    "filter_subject": "foo.*.bar",
    "ack_policy": "explicit",
  });
  assert(r.error !== undefined);
  assertStringIncludes(r.error.description, "unique");
});

Deno.test({
  name: "TestJetStreamConsumerIsEqualOrSubsetMatch: subset matching of the consumer's subject filters",
  // blocked: unit test of Go internals (consumer.isEqualOrSubsetMatch on a hand-built consumer struct).
  ignore: true,
  fn: () => {},
});

Deno.test({
  name: "TestJetStreamConsumerIsFilterSubsetOf: filters contained in a subject",
  // blocked: unit test of Go internals (consumer.isFilterSubsetOf on a hand-built consumer struct).
  ignore: true,
  fn: () => {},
});

Deno.test("TestJetStreamConsumerBackOff: backoff longer than max_deliver is refused on create and update", async (t) => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const cases: { name: string; config: Record<string, unknown>; shouldErr: boolean }[] = [
    {
      name: "backoff_with_max_deliver",
      config: { "max_deliver": 3, backoff: [SEC, 60 * SEC] },
      shouldErr: false,
    },
    {
      name: "backoff_with_max_deliver_equal",
      config: { "max_deliver": 3, backoff: [SEC, 60 * SEC, 3600 * SEC] },
      shouldErr: false,
    },
    {
      name: "backoff_with_max_deliver_equal_to_zero",
      config: { "max_deliver": 0, backoff: [] },
      shouldErr: false,
    },
    {
      name: "backoff_with_max_deliver_smaller",
      config: { "max_deliver": 2, backoff: [SEC, 60 * SEC, 3600 * SEC] },
      shouldErr: true,
    },
    {
      name: "backoff_with_default_max_deliver",
      config: { backoff: [SEC, 60 * SEC, 3600 * SEC] },
      shouldErr: false,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await addStream(nc, { name: c.name, subjects: [c.name] });
      // An unnamed (ephemeral) create, like js.AddConsumer with no durable.
      let r = await jsApi(nc, `$JS.API.CONSUMER.CREATE.${c.name}`, {
        "stream_name": c.name,
        config: { "ack_policy": "explicit", ...c.config },
      });
      assertEquals(r.error !== undefined, c.shouldErr, JSON.stringify(r.error));
      if (c.shouldErr) assertStringIncludes(r.error.description, "max deliver");
      await mustConsumer(nc, c.name, { "durable_name": "consumer", "ack_policy": "explicit" });
      r = await createConsumer(nc, c.name, {
        "durable_name": "consumer",
        "ack_policy": "explicit",
        description: "Updated",
        ...c.config,
      }, { action: "update" });
      assertEquals(r.error !== undefined, c.shouldErr, JSON.stringify(r.error));
      if (c.shouldErr) assertStringIncludes(r.error.description, "max deliver");
    });
  }
});

Deno.test("TestJetStreamConsumerDelete: a waiting pull request learns that its consumer was deleted", async () => {
  // The Go test's "clustered" case (R3) needs a cluster; the single server case is ported.
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["events.>"], "max_age": 90 * SEC });
  await mustConsumer(nc, "TEST", {
    "durable_name": "consumer",
    "filter_subject": "events.>",
    "ack_policy": "explicit",
  });
  await send(nc, "events.1", "hello");
  const sub = new SyncSub(nc, "_INBOX.del");
  await nc.flush();
  pull(nc, "TEST", "consumer", "_INBOX.del", { batch: 10, expires: 30 * SEC });
  const m = await sub.must(5_000);
  assertEquals(dec.decode(m.data), "hello");
  await jsApi(nc, "$JS.API.CONSUMER.DELETE.TEST.consumer");
  const st = await sub.must(5_000);
  assertStringIncludes(st.headers?.description ?? "", "Consumer Deleted");
});

Deno.test({
  name: "TestJetStreamConsumerFetchWithDrain: fetches while draining see each message once",
  // blocked: skipped in the reference itself (t.Skip() at its top).
  ignore: true,
  fn: () => {},
});

Deno.test("TestJetStreamConsumerLongSubjectHang: last-per-subject after a filtered purge does not hang", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, {
    name: "TEST",
    subjects: ["a1.>", "a2.>"],
    "allow_rollup_hdrs": true,
    storage: "file",
  });
  const prefix = "a".repeat(22);
  for (let i = 0; i < 2; i++) {
    await send(nc, `a1.${prefix}${i}`, "hello");
    await send(nc, `a2.${i}`, "contents");
  }
  const pr = await jsApi(nc, "$JS.API.STREAM.PURGE.TEST", { filter: "a2.>" });
  assertEquals(pr.success, true);
  const si = await jsApi(nc, "$JS.API.STREAM.INFO.TEST");
  assertEquals(si.state.messages, 2);
  const sub = new SyncSub(nc, "_INBOX.long");
  await nc.flush();
  await jsApi(nc, "$JS.API.CONSUMER.CREATE.TEST", {
    "stream_name": "TEST",
    config: {
      "filter_subject": "a1.>",
      "deliver_policy": "last_per_subject",
      "ack_policy": "none",
      "deliver_subject": "_INBOX.long",
      "flow_control": true,
      "idle_heartbeat": 5 * SEC,
    },
  });
  for (let i = 0; i < 2; i++) {
    let m = await sub.must(500);
    while (isStatus(m)) m = await sub.must(500);
    assertEquals(dec.decode(m.data), "hello");
  }
});

Deno.test("TestJetStreamConsumerPedanticMode: pedantic creates refuse configs the server would change", async (t) => {
  // The Go test runs each case on a single server and on a cluster; the single-server half is ported.
  const conf = (limits: boolean) => {
    if (!limits) return {};
    return { jetStreamOpts: { ...defaultOptions().jetStreamOpts } };
  };
  const cases: {
    name: string;
    config: Record<string, unknown>;
    shouldError: boolean;
    pedantic: boolean;
    limits?: boolean;
  }[] = [
    {
      name: "default_non_pedantic",
      config: { "durable_name": "durable" },
      shouldError: false,
      pedantic: false,
    },
    {
      name: "default_pedantic_inactive_threshold",
      config: { "durable_name": "durable" },
      shouldError: true,
      pedantic: true,
    },
    {
      name: "default_pedantic_max_ack_pending",
      config: { "durable_name": "durable" },
      shouldError: true,
      pedantic: true,
    },
    {
      name: "pedantic_backoff_no_ack_wait",
      config: { "durable_name": "durable", backoff: [SEC, 60 * SEC] },
      pedantic: true,
      shouldError: true,
    },
    {
      name: "backoff_no_ack_wait",
      config: { "durable_name": "durable", backoff: [SEC, 60 * SEC] },
      pedantic: false,
      shouldError: false,
    },
    {
      name: "max_batch_requests",
      config: { "durable_name": "durable" },
      pedantic: false,
      shouldError: false,
    },
    {
      name: "pedantic_max_batch_requests",
      config: { "durable_name": "durable" },
      pedantic: true,
      shouldError: true,
      limits: true,
    },
  ];
  for (const c of cases) {
    await t.step(`single_${c.name}`, async () => {
      const extra = conf(c.limits ?? false);
      if (c.limits) (extra as Partial<Options>).jetStreamOpts!.limits.maxRequestBatch = 250;
      await using s = await runServer(extra);
      await using nc = await clientFor(s);
      // The Go test ignores this create's result; the stream's consumer limits make pedantic creates fail.
      await jsApi(nc, `$JS.API.STREAM.CREATE.${c.name}`, {
        name: c.name,
        subjects: ["foo"],
        storage: "memory",
        "consumer_limits": { "inactive_threshold": 60 * SEC, "max_ack_pending": 100 },
      });
      const r = await jsApi(nc, `$JS.API.CONSUMER.CREATE.${c.name}.durable`, {
        "stream_name": c.name,
        config: c.config,
        action: "",
        pedantic: c.pedantic,
      });
      assertEquals(r.error !== undefined, c.shouldError, JSON.stringify(r.error));
      if (r.error) assertStringIncludes(r.error.description, "pedantic");
    });
  }
});

Deno.test({
  name: "stress: TestJetStreamConsumerStuckAckPending: nak-with-delay items never leave ack pending stuck",
  ignore: !Deno.env.get("STRESS"),
  fn: async () => {
    await using s = await runServer();
    await using nc = await clientFor(s);
    await addStream(nc, {
      name: "TEST_ACTIVE_WORK_ITEMS",
      discard: "old",
      "max_msgs_per_subject": 1,
      subjects: ["TEST_ACTIVE_WORK_ITEMS.>"],
      storage: "file",
    });
    await mustConsumer(nc, "TEST_ACTIVE_WORK_ITEMS", {
      "durable_name": "testactiveworkitemsconsumer",
      "ack_policy": "explicit",
      "max_ack_pending": -1,
      "max_waiting": 20000,
      "ack_wait": 15 * SEC,
      "filter_subject": "TEST_ACTIVE_WORK_ITEMS.>",
    });
    let stop = false;
    const worker = (async () => {
      while (!stop) {
        const msgs = await fetch(nc, "TEST_ACTIVE_WORK_ITEMS", "testactiveworkitemsconsumer", 200, 1_000);
        for (const m of msgs) {
          const item = JSON.parse(dec.decode(m.data));
          const left = item.expiry - Date.now();
          if (left > 0) m.respond(enc.encode(`-NAK {"delay": ${left * MS}}`));
          else m.respond();
        }
      }
    })();
    for (let i = 0; i < 25_000; i++) {
      const subj = `TEST_ACTIVE_WORK_ITEMS.${i}`;
      await send(nc, subj, JSON.stringify({ id: i, expiry: Date.now() + 30_000 }));
      await send(nc, subj, JSON.stringify({ id: i, expiry: Date.now() + 3_000 }));
    }
    try {
      await checkFor(60_000, 3_000, async () => {
        const ci = await jsApi(
          nc,
          "$JS.API.CONSUMER.INFO.TEST_ACTIVE_WORK_ITEMS.testactiveworkitemsconsumer",
        );
        if (ci.num_ack_pending > 0 && ci.num_pending === 0) {
          throw new Error(`num ack pending: ${ci.num_ack_pending} num pending: ${ci.num_pending}`);
        }
      });
    } finally {
      stop = true;
      await worker;
    }
  },
});

/** A pinned-client consumer C on stream TEST. */
async function pinnedSetup(
  nc: NatsConnection,
  subjects: string[],
  filter: string,
  ttlSec: number,
): Promise<void> {
  await addStream(nc, { name: "TEST", subjects, retention: "limits" });
  await mustConsumer(nc, "TEST", {
    "durable_name": "C",
    "filter_subject": filter,
    "priority_groups": ["A"],
    "priority_policy": "pinned_client",
    "ack_policy": "explicit",
    "priority_timeout": ttlSec * SEC,
  });
}

async function unpin(nc: NatsConnection, group: string): Promise<unknown> {
  return (await jsApi(nc, "$JS.API.CONSUMER.UNPIN.TEST.C", { group })).error;
}

Deno.test("TestJetStreamConsumerPinned: the first pull is pinned, a wrong id gets 423, unpin and TTL re-pin", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await pinnedSetup(nc, ["foo.>", "bar", "baz"], "foo.>", 10);
  for (let i = 0; i < 100; i++) {
    const h = headers();
    if (i % 2 === 0) h.set("Some-Header", "Value");
    await send(nc, `foo.${i}`, `msg-${i}`, i % 2 === 0 ? h : undefined);
  }
  const req = { batch: 3, expires: 5 * SEC, group: "A" };
  const replies = new SyncSub(nc, "ONE");
  const replies2 = new SyncSub(nc, "TWO");
  await nc.flush();
  pull(nc, "TEST", "C", "ONE", req);
  pull(nc, "TEST", "C", "TWO", req);
  let msg = await replies.must();
  const pinned = msg.headers?.get("Nats-Pin-Id") ?? "";
  assertNotEquals(pinned, "", "expected a pinned message");
  assertEquals(await replies2.next(1_000), null);
  msg = await replies.must();
  assertEquals(await replies2.next(1_000), null);

  // A wrong pin id gets a 423.
  const reqBad = { batch: 3, expires: 250 * MS, group: "A", id: "WRONG" };
  const replies3 = new SyncSub(nc, "THREE");
  await nc.flush();
  pull(nc, "TEST", "C", "THREE", reqBad);
  msg = await replies3.must();
  assertEquals(status(msg), "423");

  // The right pin id gets messages.
  const replies4 = new SyncSub(nc, "FOUR");
  await nc.flush();
  pull(nc, "TEST", "C", "FOUR", { batch: 3, expires: 250 * MS, group: "A", id: pinned });
  msg = await replies4.must();
  assert(!isStatus(msg), status(msg));

  const advisories = new SyncSub(nc, "$JS.EVENT.ADVISORY.CONSUMER.*.TEST.C");
  await nc.flush();
  // Without a pin id it works once the pin's TTL ran out.
  const replies5 = new SyncSub(nc, "FIVE");
  await nc.flush();
  pull(nc, "TEST", "C", "FIVE", { batch: 3, expires: 50 * SEC, group: "A" });
  await replies5.must(20_000);
  let adv = await advisories.must();
  assertEquals(adv.subject, "$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.TEST.C");
  adv = await advisories.must();
  assertEquals(adv.subject, "$JS.EVENT.ADVISORY.CONSUMER.PINNED.TEST.C");

  // A manual unpin sends the unpinned advisory.
  assertEquals(await unpin(nc, "A"), undefined);
  adv = await advisories.must();
  assertEquals(adv.subject, "$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.TEST.C");

  // With no pin, even the bad-id request gets messages.
  const replies6 = new SyncSub(nc, "SIX");
  await nc.flush();
  pull(nc, "TEST", "C", "SIX", reqBad);
  await replies6.must(5_000);
});

Deno.test("TestJetStreamConsumerPinnedPlainRequestNoPanic: a bare batch pull on a pinned consumer is served", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await pinnedSetup(nc, ["foo"], "foo", 10);
  await send(nc, "foo", "msg");
  const replies = new SyncSub(nc, "PLAIN");
  await nc.flush();
  pull(nc, "TEST", "C", "PLAIN", "1");
  const msg = await replies.must(2_000);
  assertEquals(dec.decode(msg.data), "msg");
  await nc.flush();
  const si = await jsApi(nc, "$JS.API.STREAM.INFO.TEST");
  assertEquals(si.state.messages, 1);
});

Deno.test("TestJetStreamConsumerPinnedUnsetsAfterAtMostPinnedTTL: a long pull keeps its pin for the TTL only", async (t) => {
  // The Go test reads consumer internals (o.currentPinId); here the pin is observed through the delivered
  // message's Nats-Pin-Id and the pull's final 408.
  for (const publish of [true, false]) {
    await t.step(publish ? "Publish" : "NoMessages", async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", subjects: ["foo"], retention: "limits" });
      if (publish) await send(nc, "foo", "");
      await mustConsumer(nc, "TEST", {
        "durable_name": "C",
        "filter_subject": "foo",
        "priority_groups": ["A"],
        "priority_policy": "pinned_client",
        "ack_policy": "explicit",
        "priority_timeout": SEC,
      });
      const sub = new SyncSub(nc, "ONE");
      await nc.flush();
      pull(nc, "TEST", "C", "ONE", { batch: 2, expires: 2 * SEC, group: "A" });
      if (publish) {
        const m = await sub.must(500);
        assertNotEquals(m.headers?.get("Nats-Pin-Id") ?? "", "");
        assertEquals(m.subject, "foo");
      }
      const st = await sub.must(3_000);
      assertEquals(status(st), "408");
      assertEquals(st.headers?.description, "Request Timeout");
      // After the TTL a new pull (another client) gets pinned with a fresh id.
      if (publish) {
        await send(nc, "foo", "again");
        const sub2 = new SyncSub(nc, "TWO");
        await nc.flush();
        pull(nc, "TEST", "C", "TWO", { batch: 1, expires: 2 * SEC, group: "A" });
        const m2 = await sub2.must(2_000);
        assertNotEquals(m2.headers?.get("Nats-Pin-Id") ?? "", "");
      }
    });
  }
});

Deno.test("TestJetStreamConsumerPinnedUnsubscribeOnPinned: the waiting pull gets pinned after the TTL", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await pinnedSetup(nc, ["foo.>", "bar", "baz"], "foo.>", 1);
  await send(nc, "foo.1", "hello");
  const req = { batch: 3, expires: 5 * SEC, "idle_heartbeat": 250 * MS, group: "A" };
  const replies = new SyncSub(nc, "ONE");
  const replies2 = new SyncSub(nc, "TWO");
  await nc.flush();
  pull(nc, "TEST", "C", "ONE", req);
  pull(nc, "TEST", "C", "TWO", req);
  const msg = await replies.must();
  assertNotEquals(msg.headers?.get("Nats-Pin-Id") ?? "", "");
  replies.unsubscribe();
  await send(nc, "foo.1", "hello");
  let m = await replies2.must();
  assertEquals(status(m), "100");
  for (;;) {
    m = await replies2.must();
    if (status(m) === "100") continue;
    assertNotEquals(m.headers?.get("Nats-Pin-Id") ?? "", "", "expected a pinned message");
    break;
  }
});

Deno.test("TestJetStreamConsumerUnpinNoMessages: after an unpin the next message pins another request", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await pinnedSetup(nc, ["foo"], "foo", 30);
  const req = { batch: 30, expires: 60 * SEC, group: "A" };
  const replies = new SyncSub(nc, "ONE");
  const replies2 = new SyncSub(nc, "TWO");
  await nc.flush();
  pull(nc, "TEST", "C", "ONE", req);
  pull(nc, "TEST", "C", "TWO", req);
  await nc.flush();
  await send(nc, "foo", "data");
  await send(nc, "foo", "data");
  const msg = await replies.must();
  const pinId = msg.headers?.get("Nats-Pin-Id") ?? "";
  assertNotEquals(pinId, "");
  await replies.must();
  assertEquals(await replies2.next(1_000), null);
  assertEquals(await unpin(nc, "A"), undefined);
  await send(nc, "foo", "data");
  await send(nc, "foo", "data");
  const old = await replies.must();
  assertEquals(status(old), "423");
  const m2 = await replies2.must();
  assertEquals(dec.decode(m2.data), "data");
  assertNotEquals(m2.headers?.get("Nats-Pin-Id"), pinId);
});

Deno.test("TestJetStreamConsumerUnpinPickDifferentRequest: the unpinned request is not picked again", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await pinnedSetup(nc, ["foo"], "foo", 30);
  await send(nc, "foo", "data");
  const req = { batch: 5, expires: 15 * SEC, group: "A" };
  const first = new SyncSub(nc, "FIRST");
  await nc.flush();
  pull(nc, "TEST", "C", "FIRST", req);
  let msg = await first.must();
  const pinId = msg.headers?.get("Nats-Pin-Id") ?? "";
  assertNotEquals(pinId, "");
  const second = new SyncSub(nc, "SECOND");
  await nc.flush();
  pull(nc, "TEST", "C", "SECOND", req);
  assertEquals(await second.next(1_000), null);
  await unpin(nc, "A");
  // With nothing to send, the old pinned request hears nothing yet.
  assertEquals(await first.next(1_000), null);
  await send(nc, "foo", "data");
  msg = await first.must();
  assertEquals(status(msg), "423");
  assertEquals(msg.headers?.get("Nats-Pin-Id") ?? "", "");
  msg = await second.must();
  assertNotEquals(msg.headers?.get("Nats-Pin-Id"), pinId);
  assertNotEquals(msg.headers?.get("Nats-Pin-Id") ?? "", "");
});

Deno.test("TestJetStreamConsumerPinnedTTL: an idle pin expires and the next waiting request is pinned", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await pinnedSetup(nc, ["foo"], "foo", 3);
  for (let i = 0; i < 10; i++) await send(nc, "foo", "data");
  const req = { batch: 1, expires: 10 * SEC, group: "A" };
  const first = new SyncSub(nc, "FIRST");
  await nc.flush();
  pull(nc, "TEST", "C", "FIRST", req);
  let msg = await first.must();
  const pinId = msg.headers?.get("Nats-Pin-Id") ?? "";
  assertNotEquals(pinId, "");
  const second = new SyncSub(nc, "SECOND");
  await nc.flush();
  pull(nc, "TEST", "C", "SECOND", req);
  assertEquals(await second.next(1_000), null);
  msg = await second.must(5_000);
  const newPinId = msg.headers?.get("Nats-Pin-Id") ?? "";
  assertNotEquals(newPinId, pinId);
  assertNotEquals(newPinId, "");
  const third = new SyncSub(nc, "THIRD");
  await nc.flush();
  pull(nc, "TEST", "C", "THIRD", req);
  msg = await third.must(5_000);
  assertNotEquals(msg.headers?.get("Nats-Pin-Id"), pinId);
  assertNotEquals(msg.headers?.get("Nats-Pin-Id"), newPinId);
});

Deno.test("TestJetStreamConsumerUnpin: unpin errors for bad groups, streams and consumers", async (t) => {
  // The Go test runs every case on a single server and on a cluster; the single-server half is ported.
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.>", "bar", "baz"] });
  const r = await jsApi(nc, "$JS.API.CONSUMER.DURABLE.CREATE.TEST.C", {
    "stream_name": "TEST",
    action: "create",
    config: {
      "durable_name": "C",
      "filter_subject": "foo.>",
      "priority_groups": ["A"],
      "priority_policy": "pinned_client",
      "ack_policy": "explicit",
      "priority_timeout": 10 * SEC,
    },
  });
  assertEquals(r.error, undefined);
  const cases: [string, string, string, string, number | undefined][] = [
    ["unpin non-existing group", "TEST", "C", "B", 10160], // JSConsumerInvalidPriorityGroupErr
    ["unpin on missing stream", "NOT_EXIST", "C", "A", 10059], // JSStreamNotFoundErr
    ["unpin on missing consumer", "TEST", "NOT_EXIST", "A", 10014], // JSConsumerNotFoundErr
    ["unpin missing group", "TEST", "C", "", 10025], // JSInvalidJSONErr
    ["unpin bad group name", "TEST", "C", "group    name\r\n", 10162], // JSConsumerInvalidGroupNameErr
    ["ok unpin", "TEST", "C", "A", undefined],
  ];
  for (const [name, stream, consumer, group, code] of cases) {
    await t.step(name, async () => {
      const e = (await jsApi(nc, `$JS.API.CONSUMER.UNPIN.${stream}.${consumer}`, { group })).error;
      assertEquals(e?.err_code, code, JSON.stringify(e));
    });
  }
});

Deno.test("TestJetStreamConsumerPinnedStandbyMaxBytesNotEroded: a standby request keeps its max_bytes budget", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await pinnedSetup(nc, ["foo.>"], "foo.>", 30);
  const subA = new SyncSub(nc, "RA");
  const subB = new SyncSub(nc, "RB");
  await nc.flush();
  pull(nc, "TEST", "C", "RA", { batch: 100000, expires: 30 * SEC, group: "A" });
  pull(nc, "TEST", "C", "RB", { batch: 100, "max_bytes": 500, expires: 30 * SEC, group: "A" });
  await checkFor(2_000, 10, async () => {
    const ci = await jsApi(nc, "$JS.API.CONSUMER.INFO.TEST.C");
    if (ci.num_waiting !== 2) throw new Error(`expected 2 waiting requests, got ${ci.num_waiting}`);
  });
  const payload = "x".repeat(200);
  for (let i = 0; i < 50; i++) await send(nc, "foo.bar", payload);
  let a = 0;
  while (await subA.next(250) !== null) a++;
  assertEquals(a, 50);
  const b = await subB.next(500);
  assertEquals(b, null, `standby request B got a response (status ${b ? status(b) : ""})`);
});

Deno.test("TestJetStreamConsumerPinnedMaxBytesRejectDoesNotOrphanPin: a max_bytes 409 releases the new pin", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await pinnedSetup(nc, ["foo.>"], "foo.>", 30);
  await send(nc, "foo.bar", "x".repeat(200));
  const subA = new SyncSub(nc, "RA");
  await nc.flush();
  pull(nc, "TEST", "C", "RA", { batch: 1, "max_bytes": 10, expires: 30 * SEC, group: "A" });
  const msgA = await subA.must();
  assertEquals(status(msgA), "409");
  const subB = new SyncSub(nc, "RB");
  await nc.flush();
  pull(nc, "TEST", "C", "RB", { batch: 1, expires: 30 * SEC, group: "A" });
  const msgB = await subB.must();
  assertEquals(msgB.subject, "foo.bar");
  assertEquals(status(msgB), "");
  assertEquals(msgB.data.length, 200);
});

Deno.test("TestJetStreamConsumerWithPriorityGroups: priority policy and group validation on create", async (t) => {
  // The Go test runs the cases on a single server and on a cluster; the single-server half is ported.
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.>", "bar", "baz"] });
  const cases: [string, string, string[] | undefined, string, string, number | undefined][] = [
    ["Pinned Consumer with Priority Group", "PINNED", ["A"], "pinned_client", "", undefined],
    ["Overflow Consumer with Priority Group", "OVERFLOW", ["A"], "overflow", "", undefined],
    ["Pinned Consumer without Priority Group", "PINNED_NO_GROUP", undefined, "pinned_client", "", 10159],
    ["Overflow Consumer without Priority Group", "PINNED_NO_GROUP", undefined, "overflow", "", 10159],
    ["Pinned Consumer with empty Priority Group", "PINNED_NO_GROUP", [""], "pinned_client", "", 10161],
    ["Overflow Consumer with empty Priority Group", "PINNED_NO_GROUP", [""], "overflow", "", 10161],
    ["Consumer with `none` policy priority and no pinned TTL set", "NONE", [], "none", "", 10197],
    [
      "Consumer with `none` policy priority and Priority Group set",
      "NONE_WITH_GROUPS",
      ["A"],
      "none",
      "",
      10196,
    ],
    ["Push consumer with Priority Group", "PUSH_WITH_POLICY", ["A"], "overflow", "subject", 10178],
  ];
  for (const [name, consumer, groups, mode, deliver, code] of cases) {
    await t.step(name, async () => {
      const config: Record<string, unknown> = {
        "durable_name": consumer,
        "filter_subject": "foo.>",
        "priority_policy": mode,
        "ack_policy": "explicit",
        "priority_timeout": 10 * SEC,
      };
      if (groups !== undefined) config["priority_groups"] = groups;
      if (deliver !== "") config["deliver_subject"] = deliver;
      const r = await jsApi(nc, `$JS.API.CONSUMER.DURABLE.CREATE.TEST.${consumer}`, {
        "stream_name": "TEST",
        action: "create",
        config,
      });
      assertEquals(r.error?.err_code, code, JSON.stringify(r.error));
    });
  }
});

// From server/jetstream_test.go (2.9.10), found by the filter-update fix above.

Deno.test("TestJetStreamConsumerNoMsgPayload: headers_only delivers the size header and no payload", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "S", subjects: ["S"] });
  const h = headers();
  h.set("name", "derek");
  for (let i = 0; i < 10; i++) await send(nc, "S", "A".repeat(128), h);
  const sub = new SyncSub(nc, "_d_");
  await nc.flush();
  await mustConsumer(nc, "S", { "durable_name": "d22", "deliver_subject": "_d_", "headers_only": true });
  for (let i = 0; i < 10; i++) {
    const m = await sub.must();
    assertEquals(m.data.length, 0, "expected no payload");
    assertEquals(m.headers?.get("Nats-Msg-Size"), "128");
  }
});

Deno.test("TestJetStreamPurgeAndFilteredConsumers: a filtered purge moves only the matching consumer on", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "S", subjects: ["FOO.*"] });
  for (let i = 0; i < 10; i++) {
    await send(nc, "FOO.adam", "M");
    await send(nc, "FOO.eve", "F");
  }
  let ci = await mustConsumer(nc, "S", {
    "durable_name": "adam",
    "ack_policy": "explicit",
    "filter_subject": "FOO.adam",
  });
  assertEquals(ci.num_pending, 10);
  ci = await mustConsumer(nc, "S", {
    "durable_name": "eve",
    "ack_policy": "explicit",
    "filter_subject": "FOO.eve",
  });
  assertEquals(ci.num_pending, 10);
  await jsApi(nc, "$JS.API.STREAM.PURGE.S", { filter: "FOO.adam" });
  const si = await jsApi(nc, "$JS.API.STREAM.INFO.S");
  assertEquals(si.state.messages, 10);
  ci = await jsApi(nc, "$JS.API.CONSUMER.INFO.S.eve");
  assertEquals(ci.num_pending, 10);
  ci = await jsApi(nc, "$JS.API.CONSUMER.INFO.S.adam");
  assertEquals(ci.num_pending, 0);
  assertEquals(ci.ack_floor.stream_seq, 20);
});

Deno.test("TestJetStreamConsumerUpdateFilterSubject: a new filter takes over from the next stream sequence", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "T", subjects: ["foo", "bar", "baz"] });
  for (let i = 0; i < 10; i++) nc.publish("foo", enc.encode("OK"));
  for (let i = 0; i < 20; i++) nc.publish("bar", enc.encode("OK"));
  await nc.flush();
  await mustConsumer(nc, "T", { "durable_name": "d", "filter_subject": "foo", "ack_policy": "explicit" });
  const first = await fetch(nc, "T", "d", 5, 1_000, { ack: true });
  assertEquals(first.length, 5);
  await mustConsumer(nc, "T", { "durable_name": "d", "filter_subject": "bar", "ack_policy": "explicit" }, {
    action: "update",
  });
  const [m] = await fetch(nc, "T", "d", 1);
  assert(m !== undefined);
  // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
  const t = m.reply!.split(".");
  assertEquals([t[4], t[5], t[6], t[8]], ["1", "11", "6", "19"]);
});

Deno.test("TestJetStreamConsumerPullConsumerFIFO: outstanding requests share messages round robin", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "T", subjects: ["T"] });
  await mustConsumer(nc, "T", { "durable_name": "d", "ack_policy": "explicit" });
  const subs: SyncSub[] = [];
  for (let i = 0; i < 10; i++) {
    const inbox = `_INBOX.fifo.${i}`;
    subs.push(new SyncSub(nc, inbox));
    await nc.flush();
    pull(nc, "T", "d", inbox, { batch: 10, expires: 60 * SEC });
  }
  await nc.flush();
  for (let i = 0; i < 100; i++) nc.publish("T", enc.encode("FIFO FTW!"));
  await nc.flush();
  for (const [index, sub] of subs.entries()) {
    for (let i = 0; i < 10; i++) {
      const m = await sub.must();
      const sseq = Number(m.reply!.split(".")[5]);
      assertEquals(sseq, index + 1 + 10 * i, `message #${i + 1} of sub #${index + 1}`);
    }
  }
});

Deno.test("TestJetStreamConsumerPullConsumerOneShotOnMaxAckLimit: a pull at max_ack_pending ends early", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "T", subjects: ["T"] });
  for (let i = 0; i < 10; i++) await send(nc, "T", "OK");
  await mustConsumer(nc, "T", { "durable_name": "d", "ack_policy": "explicit", "max_ack_pending": 5 });
  const start = performance.now();
  const inbox = "_INBOX.oneshot";
  const sub = new SyncSub(nc, inbox);
  await nc.flush();
  // nats.go's Fetch(10, MaxWait(2s)) asks with no_wait first.
  pull(nc, "T", "d", inbox, { batch: 10, expires: 2 * SEC, "no_wait": true });
  let got = 0;
  for (;;) {
    const m = await sub.next(2_500);
    if (m === null || isStatus(m)) break;
    got++;
  }
  const elapsed = performance.now() - start;
  assert(elapsed < 2_000, `took too long, not one shot behavior: ${elapsed} ms`);
  assertEquals(got, 5);
});
