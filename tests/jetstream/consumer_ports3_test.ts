// Ports of single-server tests of nats-server server/jetstream_consumer_test.go (current), continuing
// consumer_ports2_test.ts from TestJetStreamConsumerPullMaxWaitingOfOneWithHeartbeatInterval: pull request
// edges, overlapping filters, inactivity with pending acks, prioritized pulls, consumer reset, corrupt and
// lost state on restart. Go test names kept, in Go's order. Tests of this Go file that were moved there from
// jetstream_test.go are ported under their old names elsewhere; tests that need a cluster or Go internals stay
// ignored with the reason. Cluster tests with an R1 variant run that variant on a single server.

import { assert, assertEquals } from "@std/assert";
import { checkFor, delay } from "../_helpers/server.ts";
import {
  ackMeta,
  ackSync,
  addStream,
  clientFor,
  consumerExists,
  consumerInfo,
  createConsumer,
  dec,
  description,
  enc,
  fetch,
  isStatus,
  jsApi,
  type Json,
  MS,
  mustConsumer,
  pull,
  pullSub,
  runServer,
  SEC,
  send,
  status,
  SyncSub,
} from "./_consumer_ports2_helpers.ts";

type Conn = Parameters<typeof pull>[0];

Deno.test("TestJetStreamConsumerPullMaxWaitingOfOneWithHeartbeatInterval: no 409 for a heartbeat request over max_waiting", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["TEST.A"] });
  await mustConsumer(nc, "TEST", { "durable_name": "dur", "max_waiting": 1, "ack_policy": "explicit" });
  // A request can time out with max_waiting 1.
  let sub = await pullSub(nc, "TEST", "dur", { batch: 1, expires: 250 * MS });
  assertEquals(status(await sub.must(13_000)), "408");
  // One request waiting...
  sub = await pullSub(nc, "TEST", "dur", { batch: 1 });
  // ...then one with an idle heartbeat gets no 409: the client will notice the missing heartbeats instead.
  const hb = await pullSub(nc, "TEST", "dur", { batch: 1, expires: 500 * MS, "idle_heartbeat": 250 * MS });
  assertEquals(await hb.next(300), null);
});

Deno.test("TestJetStreamConsumerPullBatchCompleted: max_bytes left over after the batch ends gets 409 Batch Completed", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  const msg = crypto.getRandomValues(new Uint8Array(128));
  for (let i = 0; i < 10; i++) await nc.request("foo", msg, { timeout: 1_000 });
  await mustConsumer(nc, "TEST", { "durable_name": "dur", "ack_policy": "explicit" });
  const sub = await pullSub(nc, "TEST", "dur", { batch: 0, "max_bytes": 1024, expires: 250 * MS });
  // The first message arrives as usual.
  assert(!isStatus(await sub.must()));
  // Then the batch is complete with bytes left.
  const m = await sub.must();
  assertEquals(status(m), "409");
  assertEquals(description(m), "Batch Completed");
});

Deno.test({
  name: "stress: TestJetStreamConsumerPullTimeout: re-pulling on each 408 keeps up with a slow publisher",
  ignore: !Deno.env.get("STRESS"),
  fn: async () => {
    await using s = await runServer();
    await using nc = await clientFor(s);
    await addStream(nc, { name: "TEST" });
    await mustConsumer(nc, "TEST", { "durable_name": "pr", "ack_policy": "explicit" });
    const numMessages = 1000;
    const req = JSON.stringify({ batch: 200, "no_wait": false, expires: 100 * MS });
    const reply = "_pr_";
    let got = 0;
    nc.subscribe(reply, {
      callback: (_e, m) => {
        if (status(m) === "408" && description(m) === "Request Timeout") pull(nc, "TEST", "pr", reply, req);
        else {
          got++;
          m.respond();
        }
      },
    });
    await nc.flush();
    pull(nc, "TEST", "pr", reply, req);
    const publisher = (async () => {
      for (let i = 0; i < numMessages; i++) {
        await delay(10);
        await send(nc, "TEST", "data");
      }
    })();
    await checkFor(30_000, 1_000, () => {
      if (got < numMessages) throw new Error(`got ${got} of ${numMessages}`);
    });
    await publisher;
  },
});

/** Pushes every message of a consumer through a pull loop (Go's Consume); returns how many arrive in 2 s. */
async function consumeCount(nc: Conn, s: string, c: string, want: number): Promise<number> {
  let count = 0;
  const end = Date.now() + 2_000;
  while (count < want && Date.now() < end) {
    const msgs = await fetch(nc, s, c, want - count, 500);
    for (const m of msgs) {
      m.respond();
      count++;
    }
  }
  return count;
}

Deno.test("TestJetStreamConsumerDeliverAllOverlappingFilterSubjects: a filter and its own subtree deliver everything", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["stream.>"] });
  for (let i = 0; i < 10; i++) await send(nc, "stream.A", "");
  const r = await mustConsumer(nc, "TEST", {
    name: "C",
    "deliver_policy": "all",
    "ack_policy": "explicit",
    "filter_subjects": ["stream.A", "stream.A.>"],
  });
  assertEquals(await consumeCount(nc, "TEST", r.name, 10), 10);
});

Deno.test("TestJetStreamConsumerDeliverAllNonOverlappingFilterSubjects: filters matching nothing count nothing pending", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["stream.>"] });
  for (let i = 0; i < 10; i++) await send(nc, "stream.subject", "");
  await mustConsumer(nc, "TEST", {
    name: "C",
    "deliver_policy": "all",
    "ack_policy": "explicit",
    "filter_subjects": ["stream.subject.A", "stream.subject.A.>"],
  });
  assertEquals((await consumerInfo(nc, "TEST", "C")).num_pending, 0);
});

Deno.test("TestJetStreamConsumerDeliverPartialOverlappingFilterSubjects: partly overlapping filters deliver everything", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["stream.>"] });
  for (let i = 0; i < 10; i++) await send(nc, "stream.A", "");
  await mustConsumer(nc, "TEST", {
    name: "C",
    "deliver_policy": "all",
    "ack_policy": "explicit",
    "filter_subjects": ["stream.A", "stream.*.A"],
  });
  assertEquals(await consumeCount(nc, "TEST", "C", 10), 10);
});

Deno.test("TestJetStreamConsumerStateAlwaysFromStore: delivered and ack floors follow deliveries and acks", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.>"] });
  await mustConsumer(nc, "TEST", {
    "durable_name": "CONSUMER",
    "ack_wait": 2 * SEC,
    "ack_policy": "explicit",
    "filter_subject": "foo.bar",
  });
  await send(nc, "foo.bar", "");
  await send(nc, "foo.other", "");
  let ci = await consumerInfo(nc, "TEST", "CONSUMER");
  assertEquals(ci.delivered.stream_seq, 0);
  assertEquals(ci.ack_floor.stream_seq, 0);
  // More requested than match the filter.
  const msgs = await fetch(nc, "TEST", "CONSUMER", 2, 1_000);
  assertEquals(msgs.length, 1);
  ci = await consumerInfo(nc, "TEST", "CONSUMER");
  assertEquals(ci.delivered.stream_seq, 1);
  assertEquals(ci.ack_floor.stream_seq, 0);
  await ackSync(nc, msgs[0]);
  ci = await consumerInfo(nc, "TEST", "CONSUMER");
  assertEquals(ci.delivered.stream_seq, 1);
  assertEquals(ci.ack_floor.stream_seq, 1);
});

Deno.test("TestJetStreamConsumerPullNoWaitBatchLargerThanPending: a no_wait batch larger than what is pending gets all of it", async () => {
  // R1 only (on a single server); the Go test's R3 variant needs a cluster.
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  await mustConsumer(nc, "TEST", { "durable_name": "C", "ack_policy": "explicit", "filter_subject": "foo" });
  for (let i = 0; i < 5; i++) await send(nc, "foo", "OK");
  await checkFor(2_000, 50, async () => {
    const ci = await consumerInfo(nc, "TEST", "C");
    if (ci.num_pending !== 5) throw new Error(`num pending ${ci.num_pending}`);
  });
  const sub = await pullSub(nc, "TEST", "C", { batch: 10, "no_wait": true });
  for (let i = 0; i < 5; i++) {
    const m = await sub.must();
    if (isStatus(m)) throw new Error(`expected data, got ${status(m)} ${description(m)}`);
  }
});

Deno.test("TestJetStreamConsumerNotInactiveDuringAckWait: an unacked delivery keeps an idle consumer alive", async () => {
  // R1 only (on a single server); the Go test's R3 variant needs a cluster.
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  await send(nc, "foo", "");
  await mustConsumer(nc, "TEST", {
    "durable_name": "CONSUMER",
    "ack_policy": "explicit",
    "inactive_threshold": 500 * MS,
    "ack_wait": 60 * SEC,
  });
  const msgs = await fetch(nc, "TEST", "CONSUMER", 1);
  assertEquals(msgs.length, 1);
  // Ack wait is still running: the consumer must not be deleted meanwhile.
  await delay(1_750);
  assert(await consumerExists(nc, "TEST", "CONSUMER"));
  await ackSync(nc, msgs[0]);
  // Nothing awaited any more: deleted after the inactivity threshold.
  await delay(1_750);
  assert(!(await consumerExists(nc, "TEST", "CONSUMER")));
});

Deno.test("TestJetStreamConsumerNotInactiveDuringAckWaitBackoff: a backoff redelivery keeps an idle consumer alive", async () => {
  // R1 only (on a single server); the Go test's R3 variant needs a cluster.
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo.>"] });
  for (let i = 0; i < 5; i++) await send(nc, "foo.skip", "");
  await send(nc, "foo.match", "");
  await mustConsumer(nc, "TEST", {
    "durable_name": "CONSUMER",
    "filter_subject": "foo.match",
    "ack_policy": "explicit",
    "inactive_threshold": 500 * MS,
    backoff: [2 * SEC, 4 * SEC],
  });
  let msgs = await fetch(nc, "TEST", "CONSUMER", 1);
  assertEquals(msgs.length, 1);
  await delay(1_750);
  assert(await consumerExists(nc, "TEST", "CONSUMER"));
  msgs[0].respond(enc.encode("-NAK"));
  msgs = await fetch(nc, "TEST", "CONSUMER", 1);
  assertEquals(msgs.length, 1);
  // Now the wait is the second backoff.
  await delay(3_750);
  assert(await consumerExists(nc, "TEST", "CONSUMER"));
  await ackSync(nc, msgs[0]);
  await delay(1_750);
  assert(!(await consumerExists(nc, "TEST", "CONSUMER")));
});

Deno.test("TestJetStreamConsumerNotInactiveAfterPullRequestExpires: an expiring pull request counts as activity", async () => {
  // R1 only (on a single server); the Go test's R3 variant needs a cluster.
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  const threshold = 1_000;
  await mustConsumer(nc, "TEST", {
    "durable_name": "CONSUMER",
    "ack_policy": "explicit",
    "inactive_threshold": threshold * MS,
  });
  // A pull request that expires right around the inactive threshold.
  const sub = await pullSub(nc, "TEST", "CONSUMER", `{"batch":1,"expires":${threshold * MS}}`);
  assertEquals(status(await sub.must(5_000)), "408");
  const expired = Date.now();
  let deleted = false;
  while (Date.now() - expired < 4_000) {
    if (!(await consumerExists(nc, "TEST", "CONSUMER"))) {
      deleted = true;
      break;
    }
    await delay(50);
  }
  assert(deleted, "consumer not deleted");
  const since = Date.now() - expired;
  // Measured from when the 408 arrived, a little after the server's expiry: a few ms of slack under load.
  // Without the expiry counting as activity, the consumer goes at about the expiry itself (since ≈ 0).
  assert(since >= threshold - 100, `deleted ${since} ms after the request expired`);
});

Deno.test({
  name:
    "TestJetStreamConsumerNotInactiveAfterPullRequestExpiresInNextWaiting: an expiry found on delivery counts as activity",
  ignore: true,
  fn: () => {
    // blocked: Go internals (back-dates wr.expires of the waiting request and calls o.nextWaiting(0), then reads
    // o.waiting.last and o.dthresh); the expiry-on-delivery path cannot be forced through the API.
  },
});

Deno.test({
  name: "TestSortingConsumerPullRequests: prioritized requests are ordered by priority, stable within one",
  ignore: true,
  fn: () => {
    // blocked: unit test of Go internals (waitQueue.addPrioritized on hand-built waitingRequests); natsdeno keeps
    // requests in arrival order and picks by priority when delivering (TestJetStreamConsumerPrioritized below).
  },
});

Deno.test({
  name: "TestWaitQueuePopAndRequeue: a served request goes to the back of its priority",
  ignore: true,
  fn: () => {
    // blocked: unit test of Go internals (waitQueue.popAndRequeue on hand-built waitingRequests).
  },
});

Deno.test("TestJetStreamConsumerPrioritized: the lowest priority number is served first", async (t) => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  await mustConsumer(nc, "TEST", {
    "durable_name": "CONSUMER",
    "ack_policy": "none",
    "filter_subject": "foo",
    "priority_groups": ["A"],
    "priority_policy": "prioritized",
  });
  const sendPull = (priority: number, batch: number) =>
    pullSub(nc, "TEST", "CONSUMER", { batch, expires: 10 * SEC, group: "A", priority });
  const waitForNWaiting = (n: number) =>
    checkFor(2_000, 10, async () => {
      const ci = await consumerInfo(nc, "TEST", "CONSUMER");
      if (ci.num_waiting !== n) throw new Error(`${ci.num_waiting} waiting, want ${n}`);
    });
  await t.step("invalid priority number", async () => {
    const sub = await sendPull(10, 1);
    assertEquals(status(await sub.must(2_000)), "400");
    const sub2 = await sendPull(-5, 1);
    assertEquals(status(await sub2.must(2_000)), "400");
  });
  await t.step("priority ordering", async () => {
    const p3 = await sendPull(3, 1);
    const p1 = await sendPull(1, 1);
    const p2 = await sendPull(2, 2);
    await waitForNWaiting(3);
    await send(nc, "foo", "message");
    assertEquals(await p3.next(200), null);
    assertEquals(await p2.next(200), null);
    await p1.must(2_000);
    await send(nc, "foo", "message");
    assertEquals(await p3.next(200), null);
    await p2.must(2_000);
    await send(nc, "foo", "message");
    await p2.must(2_000);
    assertEquals(await p3.next(2_000), null);
    await send(nc, "foo", "message");
    await p3.must(2_000);
  });
  await t.step("dynamic priority interruption", async () => {
    const sub3 = await sendPull(3, 3);
    await waitForNWaiting(1);
    await send(nc, "foo", "msg");
    await sub3.must(2_000);
    // A new request with a lower number takes over while priority 3 still wants more.
    const sub2 = await sendPull(2, 2);
    await waitForNWaiting(2);
    await send(nc, "foo", "msg");
    await sub2.must(2_000);
    const sub1 = await sendPull(1, 1);
    await waitForNWaiting(3);
    for (let i = 0; i < 3; i++) await send(nc, "foo", "msg");
    await sub1.must(2_000);
    await sub2.must(2_000);
    await sub3.must(2_000);
  });
});

Deno.test({
  name: "TestJetStreamConsumerMaxDeliverUnderflow: an infinite max_deliver is tracked as zero",
  ignore: true,
  fn: () => {
    // blocked: Go internals (reads o.maxdc after create and updates); the API reports the configured value only.
  },
});

Deno.test("TestJetStreamConsumerMaxDeliverAdvisoryCount: lowering max_deliver below the deliveries made reports them", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  await send(nc, "foo", "");
  const deliveries: number[] = [];
  nc.subscribe("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.TEST.CONSUMER", {
    callback: (_e, m) => void deliveries.push(JSON.parse(dec.decode(m.data)).deliveries),
  });
  await nc.flush();
  const cfg = {
    "durable_name": "CONSUMER",
    "ack_policy": "explicit",
    "ack_wait": 30 * SEC,
    "max_deliver": -1,
  };
  await mustConsumer(nc, "TEST", cfg);
  // Three deliveries: two NAK rounds, the third left pending.
  for (let i = 0; i < 2; i++) {
    const msgs = await fetch(nc, "TEST", "CONSUMER", 1);
    assertEquals(msgs.length, 1);
    msgs[0].respond(enc.encode("-NAK"));
  }
  const msgs = await fetch(nc, "TEST", "CONSUMER", 1);
  assertEquals(msgs.length, 1);
  assertEquals(ackMeta(msgs[0].reply!).delivered, 3);
  // Go lowers max_deliver and calls o.hasMaxDeliveries (the ack-wait expiry check) directly; here the same
  // update also shortens ack_wait so that check runs on its own.
  await mustConsumer(nc, "TEST", { ...cfg, "max_deliver": 1, "ack_wait": 200 * MS });
  await checkFor(2_000, 20, () => {
    if (deliveries.length === 0) throw new Error("no max deliveries advisory");
  });
  assertEquals(deliveries, [3]);
});

Deno.test({
  name: "TestJetStreamConsumerNoWaitNoMessagesOnEos: a no_wait request at the end of the stream gets 404",
  ignore: true,
  fn: () => {
    // blocked: Go internals (bumps o.npc so the no_wait request is queued, then calls o.processNextMsgRequest);
    // without the fake pending count the request is refused up front, which other tests cover.
  },
});

Deno.test("TestJetStreamConsumerNoWaitNoMessagesOnEosWithDeliveredMsgs: a no_wait batch past the end gets 404 after its messages", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  await mustConsumer(nc, "TEST", { "durable_name": "CONSUMER", "ack_policy": "none" });
  await send(nc, "foo", "msg");
  const sub = new SyncSub(nc, "reply");
  await nc.flush();
  pull(nc, "TEST", "CONSUMER", "reply", { "no_wait": true, batch: 2 });
  const m = await sub.must();
  assertEquals(m.subject, "foo");
  assertEquals(dec.decode(m.data), "msg");
  // Two requested, the stream had one.
  const end = await sub.must();
  assertEquals(status(end), "404");
  assertEquals(description(end), "No Messages");
});

Deno.test({
  name: "TestJetStreamConsumerEfficientInterestStateCheck: the interest state check skips large gaps quickly",
  ignore: true,
  fn: () => {
    // blocked: Go internals (mset.store.SkipMsgs and o.checkStateForInterestStream timed directly).
  },
});

/** The consumer state file of a FileStore consumer. */
function consumerStateFile(storeDir: string, stream: string, consumer: string): string {
  return `${storeDir}/jetstream/$G/streams/${stream}/obs/${consumer}/o.dat`;
}

Deno.test("TestJetStreamConsumerWithCorruptStateIsDeleted: a consumer whose state file is zeroed is removed on restart", async () => {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jcp3-" });
  {
    await using s = await runServer({ storeDir });
    await using nc = await clientFor(s);
    await addStream(nc, { name: "TEST", subjects: ["foo"], storage: "file" });
    await mustConsumer(nc, "TEST", { "durable_name": "DURABLE", "ack_policy": "none" });
    const names = await jsApi(nc, "$JS.API.CONSUMER.NAMES.TEST");
    assertEquals(names.consumers, ["DURABLE"]);
    assert(await consumerExists(nc, "TEST", "DURABLE"));
  }
  // Zero the consumer's state file while the server is down.
  const ifn = consumerStateFile(storeDir, "TEST", "DURABLE");
  const size = (await Deno.stat(ifn)).size;
  assert(size > 0);
  await Deno.writeFile(ifn, new Uint8Array(size));
  await using s = await runServer({ storeDir });
  await using nc = await clientFor(s);
  // Recognized as corrupt and deleted: not listed, not found.
  const names = await jsApi(nc, "$JS.API.CONSUMER.NAMES.TEST");
  assertEquals(names.consumers ?? [], []);
  assert(!(await consumerExists(nc, "TEST", "DURABLE")));
  await Deno.remove(storeDir, { recursive: true }).catch(() => {});
});

Deno.test({
  name:
    "TestJetStreamConsumerNoDeleteAfterConcurrentShutdownAndLeaderChange: a consumer survives leadership at shutdown",
  ignore: true,
  fn: () => {
    // blocked: Go internals (revives a stopped consumer's fields and calls o.setLeader(true) after shutdown).
  },
});

Deno.test({
  name:
    "TestJetStreamConsumerOnlyRecalculatePendingIfFilterSubjectUpdated: updates recount pending only for new filters",
  ignore: true,
  fn: () => {
    // blocked: Go internals (o.npc and o.npf before and after updates); num_pending is the same either way.
  },
});

Deno.test({
  name: "TestJetStreamConsumerCheckNumPending: the pending count is corrected against the stream",
  ignore: true,
  fn: () => {
    // blocked: Go internals (sets o.sseq and o.npc by hand and calls o.checkNumPending()).
  },
});

Deno.test("TestJetStreamConsumerAllowOverlappingSubjectsIfNotSubset: partly overlapping filters are allowed, subsets are not", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["event.>"] });
  const parts = ["foo", "bar", "baz", "oth"];
  for (const a of parts) for (const b of parts) await send(nc, `event.${a}.${b}`, "");
  // event.*.foo is a subset of event.>.
  const bad = await createConsumer(nc, "TEST", {
    "durable_name": "OVERLAP",
    "filter_subjects": ["event.>", "event.*.foo"],
    "ack_policy": "none",
  });
  assertEquals(bad.error?.err_code, 10138); // JSConsumerOverlappingSubjectFilters
  // These overlap but neither contains the other.
  await mustConsumer(nc, "TEST", {
    "durable_name": "DURABLE",
    "filter_subjects": ["event.foo.*", "event.*.foo"],
    "ack_policy": "none",
  });
  const msgs = await fetch(nc, "TEST", "DURABLE", parts.length * parts.length, 1_000);
  const want: string[] = [];
  for (const a of parts) for (const b of parts) if (a === "foo" || b === "foo") want.push(`event.${a}.${b}`);
  assertEquals(want.length, 7);
  assertEquals(msgs.map((m) => m.subject), want);
});

/** CONSUMER.RESET with an optional body; the parsed reply. */
function resetConsumer(nc: Conn, s: string, c: string, body?: Record<string, unknown>): Promise<Json> {
  return jsApi(nc, `$JS.API.CONSUMER.RESET.${s}.${c}`, body);
}

Deno.test("TestJetStreamConsumerResetToSequence: a reset restarts delivery at the ack floor or a given sequence", async (t) => {
  // R1 only (on a single server); the Go test's R3 variants need a cluster. Go also compares the leader's
  // in-memory o.sseq/o.dseq/o.adflr/o.asflr/o.npc/o.npf; here CONSUMER.INFO reports the same sequences.
  for (const ackPolicy of ["explicit", "all"]) {
    await t.step(`R1/${ackPolicy}`, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      const cfg = { name: "TEST", subjects: ["foo"], storage: "file" };
      await addStream(nc, cfg);
      await mustConsumer(nc, "TEST", {
        "durable_name": "CONSUMER",
        "ack_policy": ackPolicy,
        "max_ack_pending": 1,
        "ack_wait": 1 * SEC,
      });
      for (let i = 0; i < 4; i++) await send(nc, "foo", `msg${i + 1}`);
      let msgs = await fetch(nc, "TEST", "CONSUMER", 1);
      assertEquals(dec.decode(msgs[0].data), "msg1");
      await ackSync(nc, msgs[0]);
      // Now interest retention, with the messages and the consumer in place.
      const up = await jsApi(nc, "$JS.API.STREAM.UPDATE.TEST", { ...cfg, retention: "interest" });
      assertEquals(up.error, undefined);
      const firstSeq = (want: number) =>
        checkFor(2_000, 50, async () => {
          const si = await jsApi(nc, "$JS.API.STREAM.INFO.TEST");
          if (si.state.first_seq !== want) throw new Error(`first seq ${si.state.first_seq}, want ${want}`);
        });
      await firstSeq(2);
      const check = async (e: [number, number, number, number, number, number]) => {
        const ci = await consumerInfo(nc, "TEST", "CONSUMER");
        assertEquals(
          [
            ci.num_pending,
            ci.num_ack_pending,
            ci.delivered.consumer_seq,
            ci.ack_floor.consumer_seq,
            ci.delivered.stream_seq,
            ci.ack_floor.stream_seq,
          ],
          e,
        );
      };
      // numPending, numAckPending, dseq, adflr, sseq, asflr
      await check([3, 0, 1, 1, 1, 1]);
      msgs = await fetch(nc, "TEST", "CONSUMER", 1);
      assertEquals(dec.decode(msgs[0].data), "msg2");
      await check([2, 1, 2, 1, 2, 1]);
      // An empty reset goes back to the ack floor.
      for (const body of [undefined, { seq: 0 }]) {
        const r = await resetConsumer(nc, "TEST", "CONSUMER", body);
        assertEquals(r.type, "io.nats.jetstream.api.v1.consumer_reset_response");
        assertEquals(r.reset_seq, 2);
        assertEquals(r.delivered.stream_seq, 1);
        assertEquals(r.delivered.last_active, undefined);
        assertEquals(r.ack_floor.stream_seq, 1);
        assertEquals(r.ack_floor.last_active, undefined);
        assertEquals(r.num_pending, 3);
        await check([3, 0, 0, 0, 1, 1]);
      }
      // Reset to the last message.
      const r = await resetConsumer(nc, "TEST", "CONSUMER", { seq: 4 });
      assertEquals(r.reset_seq, 4);
      assertEquals(r.delivered.stream_seq, 3);
      assertEquals(r.delivered.last_active, undefined);
      assertEquals(r.ack_floor.stream_seq, 3);
      assertEquals(r.ack_floor.last_active, undefined);
      await check([1, 0, 0, 0, 3, 3]);
      // Messages skipped over lost their interest.
      await firstSeq(4);
      msgs = await fetch(nc, "TEST", "CONSUMER", 1, 2_000);
      assertEquals(dec.decode(msgs[0].data), "msg4");
      await check([0, 1, 1, 0, 4, 3]);
      await ackSync(nc, msgs[0]);
      await check([0, 0, 1, 1, 4, 4]);
      await checkFor(2_000, 50, async () => {
        const si = await jsApi(nc, "$JS.API.STREAM.INFO.TEST");
        if (si.state.messages !== 0 || si.state.first_seq !== 5) throw new Error(JSON.stringify(si.state));
      });
    });
  }
});

/**
 * TEST/CONSUMER starts at msg3 (stream seq 3) of msg1..msg4: delivers and acks msg3, then a reset to seq 2 is
 * refused ("below start <what>", 10204) and a reset to seq 3 redelivers msg3.
 */
async function checkResetToStart(nc: Conn, what: "seq" | "time"): Promise<void> {
  let msgs = await fetch(nc, "TEST", "CONSUMER", 1);
  assertEquals(dec.decode(msgs[0].data), "msg3");
  await ackSync(nc, msgs[0]);
  let r = await resetConsumer(nc, "TEST", "CONSUMER", { seq: 2 });
  assertEquals(r.type, "io.nats.jetstream.api.v1.consumer_reset_response");
  assertEquals(r.error?.err_code, 10204);
  assertEquals(r.error?.description, `invalid reset: below start ${what}`);
  r = await resetConsumer(nc, "TEST", "CONSUMER", { seq: 3 });
  assertEquals(r.reset_seq, 3);
  assertEquals(r.delivered.stream_seq, 2);
  assertEquals(r.delivered.last_active, undefined);
  assertEquals(r.ack_floor.stream_seq, 2);
  assertEquals(r.ack_floor.last_active, undefined);
  msgs = await fetch(nc, "TEST", "CONSUMER", 1);
  assertEquals(dec.decode(msgs[0].data), "msg3");
  await ackSync(nc, msgs[0]);
}

Deno.test("TestJetStreamConsumerResetToSequenceConstraintOnStartSeq: no reset below opt_start_seq", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  await mustConsumer(nc, "TEST", {
    "durable_name": "CONSUMER",
    "ack_policy": "explicit",
    "deliver_policy": "by_start_sequence",
    "opt_start_seq": 3,
  });
  for (let i = 0; i < 4; i++) await send(nc, "foo", `msg${i + 1}`);
  await checkResetToStart(nc, "seq");
});

Deno.test("TestJetStreamConsumerResetToSequenceConstraintOnStartTime: no reset to messages older than opt_start_time", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  for (let i = 0; i < 2; i++) await send(nc, "foo", `msg${i + 1}`);
  await delay(2);
  await mustConsumer(nc, "TEST", {
    "durable_name": "CONSUMER",
    "ack_policy": "explicit",
    "deliver_policy": "by_start_time",
    "opt_start_time": new Date().toISOString(),
  });
  await delay(2);
  for (let i = 0; i < 2; i++) await send(nc, "foo", `msg${i + 3}`);
  await checkResetToStart(nc, "time");
});

Deno.test("TestJetStreamConsumerLegacyDurableCreateSetsConsumerName: both create subjects report name = durable", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  const req = {
    "stream_name": "TEST",
    config: { "durable_name": "CONSUMER", "ack_policy": "explicit", "num_replicas": 1 },
    action: "create",
  };
  for (
    const subj of ["$JS.API.CONSUMER.CREATE.TEST.CONSUMER", "$JS.API.CONSUMER.DURABLE.CREATE.TEST.CONSUMER"]
  ) {
    const r = await jsApi(nc, subj, req);
    assertEquals(r.error, undefined);
    assertEquals(r.config.durable_name, "CONSUMER");
    assertEquals(r.config.name, "CONSUMER");
  }
});

Deno.test({
  name:
    "TestJetStreamConsumerSingleFilterSubjectInFilterSubjects: one filter in filter_subjects uses the single-filter path",
  ignore: true,
  fn: () => {
    // blocked: Go internals (o.subjf and o.filters after create); which store lookup is used is not observable.
  },
});

Deno.test("TestJetStreamConsumerReconcileConsumerAfterStreamDataLoss: a consumer ahead of a truncated stream catches up", async (t) => {
  for (const totalMsgs of [1, 2]) {
    await t.step(`${totalMsgs}`, async () => {
      const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jcp3-" });
      const lseq = totalMsgs;
      {
        await using s = await runServer({ storeDir });
        await using nc = await clientFor(s);
        await addStream(nc, { name: "TEST", subjects: ["foo"], storage: "file" });
        for (let i = 0; i < totalMsgs; i++) await send(nc, "foo", "");
        await mustConsumer(nc, "TEST", { "durable_name": "CONSUMER", "ack_policy": "explicit" });
        const msgs = await fetch(nc, "TEST", "CONSUMER", totalMsgs, 200);
        assertEquals(msgs.length, totalMsgs);
        for (const m of msgs) await ackSync(nc, m);
        const ci = await consumerInfo(nc, "TEST", "CONSUMER");
        assertEquals(ci.num_pending, 0);
        assertEquals(ci.num_ack_pending, 0);
        assertEquals(ci.delivered.stream_seq, lseq);
        assertEquals(ci.ack_floor.stream_seq, lseq);
        assertEquals(ci.delivered.consumer_seq, lseq);
      }
      // Simulate data loss while down: truncate (or remove) the message block and drop the stream index.
      const msgsDir = `${storeDir}/jetstream/$G/streams/TEST/msgs`;
      const blk = `${msgsDir}/1.blk`;
      if (totalMsgs > 1) {
        const st = await Deno.stat(blk);
        await Deno.truncate(blk, Math.floor(st.size / 2) + 1);
      } else await Deno.remove(blk);
      for (const idx of ["index.db", "blocks.db"]) await Deno.remove(`${msgsDir}/${idx}`).catch(() => {});
      await using s = await runServer({ storeDir });
      await using nc = await clientFor(s);
      // The stream sequence continues after the lost data.
      const ack = await send(nc, "foo", "");
      assertEquals(ack.seq, lseq);
      // The consumer can consume it (its state was reconciled with the stream).
      const msgs = await fetch(nc, "TEST", "CONSUMER", 1, 200);
      assertEquals(msgs.length, 1);
      assertEquals(ackMeta(msgs[0].reply!).sseq, lseq);
      await ackSync(nc, msgs[0]);
      // Delivered keeps moving forward.
      const ci = await consumerInfo(nc, "TEST", "CONSUMER");
      assertEquals(ci.num_pending, 0);
      assertEquals(ci.num_ack_pending, 0);
      assertEquals(ci.delivered.stream_seq, lseq);
      assertEquals(ci.ack_floor.stream_seq, lseq);
      assertEquals(ci.delivered.consumer_seq, lseq + 1);
      await Deno.remove(storeDir, { recursive: true }).catch(() => {});
    });
  }
});

Deno.test({
  name:
    "TestJetStreamConsumerStuckMaxAckPendingAfterMsgDelete: a deleted pending message unblocks max_ack_pending",
  ignore: true,
  fn: () => {
    // blocked: needs a 3-node cluster (raft observers and consumer leader stepdown); natsdeno has no clustering.
  },
});

Deno.test("TestJetStreamConsumerAckReplyFormats: acks in the v1 and v2 reply forms are taken", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"] });
  for (let i = 0; i < 4; i++) await send(nc, "foo", "");
  await mustConsumer(nc, "TEST", { "durable_name": "C", "ack_policy": "explicit", "filter_subject": "foo" });
  assertEquals((await fetch(nc, "TEST", "C", 4)).length, 4);
  for (
    const reply of [
      "$JS.ACK.TEST.C.1.1.1.0.0", // v1 (9 tokens)
      "$JS.ACK._.szMpdrwD.TEST.C.1.2.2.0.0", // v2 (11 tokens)
      "$JS.ACK._.szMpdrwD.TEST.C.1.3.3.0.0.random", // v2 (11+ tokens)
      "$JS.ACK._.szMpdrwD.TEST.C.1.4.4.0.0.random.more.tokens", // v2 (11+ tokens)
    ]
  ) {
    const m = await nc.request(reply, new Uint8Array(0), { timeout: 250 });
    assertEquals(m.data.length, 0);
  }
  assertEquals((await consumerInfo(nc, "TEST", "C")).num_ack_pending, 0);
});

Deno.test({
  name: "TestJetStreamConsumerAckFlowControlBasics: the flow_control ack policy and its config rules",
  ignore: true,
  fn: () => {
    // blocked: natsdeno has no flow_control ack policy (2.14: acks carried by flow control replies, with its own
    // defaults and errors); the Go test also runs R3 on a cluster.
  },
});

Deno.test({
  name:
    "TestJetStreamConsumerAckFlowControlEndOfBurst: flow control ends a burst and reports a stall a heartbeat later",
  ignore: true,
  fn: () => {
    // blocked: natsdeno has no flow_control ack policy; Go also sets the package variable ackFlowControlEOSDelay.
  },
});

Deno.test({
  name:
    "TestJetStreamDurableStreamSourceHeartbeat: a durable source consumer's heartbeat sets the stall threshold",
  ignore: true,
  fn: () => {
    // blocked: needs the flow_control ack policy and durable source consumers (StreamConsumerSource), and reads
    // Go internals (sourceInfo.hb, isStalled).
  },
});

Deno.test("TestJetStreamConsumerWQMaxDeliveryAckFloorAdvancesWithPending: messages past max_deliver move the ack floor", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "TEST", subjects: ["foo"], retention: "workqueue" });
  for (let i = 0; i < 3; i++) await send(nc, "foo", "");
  await mustConsumer(nc, "TEST", {
    "durable_name": "CONSUMER",
    "max_deliver": 2,
    "ack_policy": "explicit",
    "ack_wait": 200 * MS,
  });
  for (let i = 0; i < 2; i++) assertEquals((await fetch(nc, "TEST", "CONSUMER", 3, 1_000)).length, 3);
  await send(nc, "foo", "");
  // Ack wait passes: 1, 2 and 3 are due again, past max_deliver.
  await delay(300);
  // This pull burns 1-3 and then gets message 4.
  const msgs = await fetch(nc, "TEST", "CONSUMER", 1, 1_000);
  assertEquals(msgs.length, 1);
  assertEquals(ackMeta(msgs[0].reply!).sseq, 4);
  // Go reads o.pending, o.rdc and o.asflr; the info shows message 4 pending and the floor past 1-3.
  const ci = await consumerInfo(nc, "TEST", "CONSUMER");
  assertEquals(ci.num_ack_pending, 1);
  assertEquals(ci.ack_floor.stream_seq, 3);
});

Deno.test({
  name:
    "TestJetStreamConsumerWQMaxDeliveryRdcCleanedOnMaxAge: delivery counts of expired messages are dropped",
  ignore: true,
  fn: () => {
    // blocked: Go internals (o.rdc and the consumer store's state.Redelivered); no API reports delivery counts
    // of messages that are no longer pending.
  },
});

Deno.test({
  name:
    "TestJetStreamConsumerMaxDeliveryRdcCleanedOnStreamPurge: delivery counts are dropped on every replica by a purge",
  ignore: true,
  fn: () => {
    // blocked: needs a 3-node cluster (replicated consumer state); natsdeno has no clustering.
  },
});

Deno.test({
  name:
    "TestJetStreamConsumerMaxDeliveryRdcNoLeakOnBatchRemoval: a compaction drops delivery counts below it",
  ignore: true,
  fn: () => {
    // blocked: Go internals (mset.store.Compact called directly, then o.rdc and the store's state.Redelivered).
  },
});

Deno.test({
  name:
    "TestJetStreamConsumerCheckRedeliveredUpdatesRdc: the redelivery check keeps counts of messages still stored",
  ignore: true,
  fn: () => {
    // blocked: Go internals (sets o.rdc, o.rdq and o.asflr by hand and calls o.checkRedelivered()).
  },
});

Deno.test({
  name: "TestJetStreamConsumerPurgeCleanupIsReplicated: a purge clears pending acks on every replica",
  ignore: true,
  fn: () => {
    // blocked: needs a 3-node cluster (replicated consumer state); natsdeno has no clustering.
  },
});

Deno.test({
  name:
    "TestJetStreamConsumerStepDownResetsPendingAndRdc: a consumer leader stepdown clears its pending state",
  ignore: true,
  fn: () => {
    // blocked: needs a 3-node cluster (consumer leader stepdown); natsdeno has no clustering.
  },
});

Deno.test({
  name: "TestJetStreamConsumerStreamNumPendingOnlyOnLeader: only the consumer leader counts pending messages",
  ignore: true,
  fn: () => {
    // blocked: needs a 3-node cluster (leader and followers); natsdeno has no clustering.
  },
});

Deno.test({
  name: "TestJetStreamConsumerStreamNumPendingClearedOnStepDown: a former leader forgets its pending count",
  ignore: true,
  fn: () => {
    // blocked: needs a 3-node cluster (consumer leader stepdown); natsdeno has no clustering.
  },
});

Deno.test({
  name: "TestJetStreamConsumerUpdateConfigStopRace: an update racing a stop does not panic",
  ignore: true,
  fn: () => {
    // blocked: Go data race test on internals (o.updateConfig against o.mset = nil, run with -race).
  },
});

Deno.test({
  name: "TestJetStreamConsumerConfigDirectRace: listing consumers does not race config updates",
  ignore: true,
  fn: () => {
    // blocked: Go data race test on internals (o.updateConfig against mset.getPublicConsumers, run with -race).
  },
});

Deno.test({
  name: "TestJetStreamConsumerUpdateRejectsDirectAndSourcingChange: direct and sourcing cannot be updated",
  ignore: true,
  fn: () => {
    // blocked: Go internals (o.updateConfig with Direct/Sourcing flipped on consumers made by mset.addConsumer).
  },
});

Deno.test({
  name:
    "TestJetStreamConsumerSetRateLimitAccountMpayRace: setting a rate limit does not race account updates",
  ignore: true,
  fn: () => {
    // blocked: Go data race test on hand-built internals (o.setRateLimit against acc.mpay, run with -race).
  },
});

Deno.test("TestJetStreamConsumerUpdateRejectsStorageChange: mem_storage cannot be changed by an update", async (t) => {
  // R1 only (on a single server); the Go test's R3 variants need a cluster.
  for (const memoryStorage of [false, true]) {
    await t.step(`${memoryStorage ? "MemoryStorage" : "FileStorage"}/R1`, async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", storage: "file" });
      const cfg = { "durable_name": "DUR", "ack_policy": "explicit", "mem_storage": memoryStorage };
      await mustConsumer(nc, "TEST", cfg);
      const r = await createConsumer(nc, "TEST", { ...cfg, "mem_storage": !memoryStorage }, {
        action: "update",
      });
      assertEquals(r.error?.err_code, 10012); // JSConsumerCreateErrF
      assertEquals(r.error?.description, "storage type can not be updated");
      const ci = await consumerInfo(nc, "TEST", "DUR");
      assertEquals(ci.config.mem_storage ?? false, memoryStorage);
    });
  }
});

Deno.test("TestJetStreamConsumerResetResponseAcrossServiceImport: the reset reply reaches an importing account", async () => {
  // R1 only (on a single server); the Go test's R3 variant needs a cluster.
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jcp3-" });
  const conf = await Deno.makeTempFile({ suffix: ".conf" });
  await Deno.writeTextFile(
    conf,
    `listen: 127.0.0.1:-1
jetstream: {store_dir: ${JSON.stringify(storeDir)}}
system_account: SYS
accounts {
  A {
    jetstream: enabled
    users = [{user: a, password: a}]
    exports = [{service: "$JS.API.CONSUMER.RESET.TEST.*", accounts: [B]}]
  }
  B {
    jetstream: enabled
    users = [{user: b, password: b}]
    imports = [{service: {account: A, subject: "$JS.API.CONSUMER.RESET.TEST.*"}, to: "$JS.REMOTE.API.CONSUMER.RESET.TEST.*"}]
  }
  SYS {users = [{user: admin, password: admin}]}
}
`,
  );
  const { loadOptions } = await import("../../src/config/mod.ts");
  const { opts } = loadOptions(["-c", conf]);
  await using s = await runServer({ ...opts, host: "127.0.0.1", port: 0, storeDir });
  const { connect } = await import("@nats-io/transport-node");
  const nca = await connect({ servers: `127.0.0.1:${s.port}`, user: "a", pass: "a" });
  const ncb = await connect({ servers: `127.0.0.1:${s.port}`, user: "b", pass: "b" });
  try {
    await addStream(nca, { name: "TEST", subjects: ["foo"] });
    await mustConsumer(nca, "TEST", { "durable_name": "CONSUMER", "ack_policy": "explicit" });
    const subj = "$JS.REMOTE.API.CONSUMER.RESET.TEST.CONSUMER";
    let r = JSON.parse(dec.decode((await ncb.request(subj, new Uint8Array(0), { timeout: 2_000 })).data));
    assertEquals(r.type, "io.nats.jetstream.api.v1.consumer_reset_response");
    assertEquals(r.error, undefined);
    assertEquals(r.name, "CONSUMER");
    assertEquals(r.reset_seq, 1);
    r = JSON.parse(dec.decode((await ncb.request(subj, enc.encode("{"), { timeout: 2_000 })).data));
    assertEquals(r.type, "io.nats.jetstream.api.v1.consumer_reset_response");
    assertEquals(r.error?.err_code, 10025); // JSInvalidJSONErr
  } finally {
    await nca.close();
    await ncb.close();
    await Deno.remove(conf).catch(() => {});
    await Deno.remove(storeDir, { recursive: true }).catch(() => {});
  }
});

Deno.test({
  name: "TestJetStreamConsumerFlowControlResetOnLeaderChange: a leader change resets the flow control window",
  ignore: true,
  fn: () => {
    // blocked: Go internals (sets o.pblimit/o.maxpb and calls o.setLeader(false/true)); a single natsdeno server
    // has no consumer leadership to change.
  },
});

Deno.test({
  name:
    "TestJetStreamConsumerCreateCollisionPreservesExistingConsumerStore: a name collision keeps the existing store",
  ignore: true,
  fn: () => {
    // blocked: Go internals (mset.addConsumerWithAssignment with an explicit colliding name and the consumer's
    // consumerFileStore.odir); the API cannot create a nameless config under an existing name.
  },
});

Deno.test({
  name:
    "TestJetStreamConsumerFailedRecoverStateDoesNotLeakInternalClients: failed recoveries leave no clients behind",
  ignore: true,
  fn: () => {
    // blocked: Go internals (hand-made consumer store state, a directory planted at its .tmp path, repeated
    // mset.addConsumerWithAssignment recoveries and the account's client maps).
  },
});

Deno.test("TestJetStreamConsumerCreateNameTooLongDoesNotDeleteObsStream: a refused long name leaves a stream named obs alone", async () => {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jcp3-" });
  try {
    await using s = await runServer({ storeDir });
    await using nc = await clientFor(s);
    // A stream literally named "obs".
    await addStream(nc, { name: "obs", subjects: ["obs.>"], storage: "file" });
    await send(nc, "obs.1", "keep");
    const obsDir = `${storeDir}/jetstream/$G/streams/obs`;
    await Deno.stat(obsDir);
    await addStream(nc, { name: "TEST", subjects: ["foo"], storage: "file" });
    // A durable name over the limit is refused before the consumer is registered.
    const r = await jsApi(nc, "$JS.API.CONSUMER.CREATE.TEST", {
      "stream_name": "TEST",
      config: { "durable_name": "a".repeat(256), "ack_policy": "explicit" },
    });
    assert(r.error !== undefined, "expected an error");
    // The unrelated "obs" stream's directory and data are still there.
    await Deno.stat(obsDir);
    const si = await jsApi(nc, "$JS.API.STREAM.INFO.obs");
    assertEquals(si.state.messages, 1);
  } finally {
    await Deno.remove(storeDir, { recursive: true }).catch(() => {});
  }
});

Deno.test({
  name:
    "TestJetStreamConsumerCreateCollisionPreservesExistingConsumerQueues: a name collision keeps the existing queues",
  ignore: true,
  fn: () => {
    // blocked: Go internals (the server's ipQueues registry and mset.addConsumerWithAssignment).
  },
});

Deno.test({
  name: "TestJetStreamConsumerDeliveryCountUnderflow: a failed delivery never makes a delivery count wrap",
  ignore: true,
  fn: () => {
    // blocked: Go internals (o.decDeliveryCount / o.incDeliveryCount / o.hasMaxDeliveries on o.rdc).
  },
});

Deno.test({
  name:
    "TestJetStreamConsumerR1CreateAndDeleteAppliedTogetherBothRespond: create and delete applied together both reply",
  ignore: true,
  fn: () => {
    // blocked: needs a 3-node cluster (meta group applies paused on one server); natsdeno has no clustering.
  },
});

Deno.test("TestJetStreamConsumerEphemeralPullDefaultInactiveThresholdAfterRestart: a restored ephemeral keeps its 5s threshold", async () => {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jcp3-" });
  try {
    {
      await using s = await runServer({ storeDir });
      await using nc = await clientFor(s);
      await addStream(nc, { name: "TEST", subjects: ["foo"], storage: "file" });
      // Ephemeral pull consumer without an inactive threshold.
      await mustConsumer(nc, "TEST", { name: "CONSUMER", "ack_policy": "explicit" });
    }
    await using s = await runServer({ storeDir });
    await using nc = await clientFor(s);
    const ci = await consumerInfo(nc, "TEST", "CONSUMER");
    assertEquals(ci.config.inactive_threshold, 5 * SEC);
    // Go shortens the threshold through an internal call; here the default one runs out (pull consumers may add
    // up to a second).
    await checkFor(8_000, 100, async () => {
      if (await consumerExists(nc, "TEST", "CONSUMER")) throw new Error("consumer still exists");
    });
  } finally {
    await Deno.remove(storeDir, { recursive: true }).catch(() => {});
  }
});
