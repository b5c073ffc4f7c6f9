// The official nats.js clients turn features on by the server version in INFO (Feature table of
// @nats-io/nats-core): these tests use each version-gated feature natsdeno serves through the client's own
// API, so a reported version that is too old (the client refuses with "... requires server 2.x") fails them.

import { assert, assertEquals, assertRejects } from "@std/assert";
import { jetstream, type JetStreamClient, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { clientFor, runRealJs } from "./_js_common.ts";

async function setup(): Promise<
  { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager; close: () => Promise<void> }
> {
  const s = await runRealJs({}, "natsdeno-jsfeat-");
  const nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  return {
    nc,
    js: jetstream(nc),
    jsm,
    close: async () => {
      await nc.close();
      await s.shutdown();
    },
  };
}

Deno.test("client features: stream metadata, first_seq, subject_transform, compression and consumer_limits (2.10)", async () => {
  const { js, jsm, close } = await setup();
  try {
    const si = await jsm.streams.add({
      name: "T",
      subjects: ["in.>"],
      storage: "file" as never,
      metadata: { owner: "team-a" },
      "first_seq": 100,
      "subject_transform": { src: "in.>", dest: "out.>" },
      compression: "s2" as never,
      "consumer_limits": { "max_ack_pending": 50 },
    });
    assertEquals(si.config.metadata?.owner, "team-a");
    assertEquals(si.config.compression, "s2");
    const pa = await js.publish("in.a", "x");
    assertEquals(pa.seq, 100);
    const m = await jsm.streams.getMessage("T", { seq: 100 });
    assertEquals(m?.subject, "out.a");
    const ci = await jsm.consumers.add("T", { "durable_name": "D", "ack_policy": "explicit" as never });
    assertEquals(ci.config.max_ack_pending, 50);
  } finally {
    await close();
  }
});

Deno.test("client features: consumer filter_subjects and metadata (2.10)", async () => {
  const { jsm, close } = await setup();
  try {
    await jsm.streams.add({ name: "F", subjects: ["a", "b", "c"] });
    const ci = await jsm.consumers.add("F", {
      "durable_name": "AB",
      "filter_subjects": ["a", "b"],
      metadata: { k: "v" },
      "ack_policy": "explicit" as never,
    });
    assertEquals(ci.config.filter_subjects, ["a", "b"]);
    assertEquals(ci.config.metadata?.k, "v");
    // An update sends back the config it was given, metadata included.
    const up = await jsm.consumers.update("F", "AB", { description: "x", metadata: { k: "w" } });
    assertEquals(up.config.metadata?.k, "w");
  } finally {
    await close();
  }
});

Deno.test("client features: batch and multi-last direct gets (2.11)", async () => {
  const { js, jsm, close } = await setup();
  try {
    await jsm.streams.add({ name: "D", subjects: ["d.*"], "allow_direct": true });
    for (const s of ["d.1", "d.2", "d.1", "d.3"]) await js.publish(s, s);
    const batch = await jsm.direct.getBatch("D", { batch: 3, seq: 1 });
    const seqs: number[] = [];
    for await (const m of batch) seqs.push(m.seq);
    assertEquals(seqs, [1, 2, 3]);
    const last = await jsm.direct.getLastMessagesFor("D", { "multi_last": ["d.1", "d.3"] });
    const lastSeqs: number[] = [];
    for await (const m of last) lastSeqs.push(m.seq);
    assertEquals(lastSeqs.sort(), [3, 4]);
  } finally {
    await close();
  }
});

Deno.test("client features: priority groups with overflow pulls (2.11)", async () => {
  const { js, jsm, close } = await setup();
  try {
    await jsm.streams.add({ name: "P", subjects: ["p"] });
    await jsm.consumers.add("P", {
      "durable_name": "G",
      "ack_policy": "explicit" as never,
      "priority_groups": ["jobs"],
      "priority_policy": "overflow" as never,
    });
    await js.publish("p", "1");
    const c = await js.consumers.get("P", "G");
    const iter = await c.fetch({ "max_messages": 1, expires: 2_000, group: "jobs" });
    const got: string[] = [];
    for await (const m of iter) {
      got.push(m.string());
      m.ack();
    }
    assertEquals(got, ["1"]);
  } finally {
    await close();
  }
});

Deno.test("client features: KV with marker TTL and a per-key TTL (2.11)", async () => {
  const { nc, jsm, close } = await setup();
  try {
    const kv = await new Kvm(nc).create("TTL", { markerTTL: 2_000 });
    const si = await jsm.streams.info("KV_TTL");
    assert(si.config.allow_msg_ttl);
    await kv.create("k", "v", "1s");
    assertEquals((await kv.get("k"))?.string(), "v");
    const m = await jsm.streams.getMessage("KV_TTL", { "last_by_subj": "$KV.TTL.k" });
    assertEquals(m?.header.get("Nats-TTL"), "1s");
  } finally {
    await close();
  }
});

Deno.test("client features: consumer reset stays refused by the client (a 2.14 feature; natsdeno reports 2.12)", async () => {
  const { jsm, close } = await setup();
  try {
    await jsm.streams.add({ name: "R", subjects: ["r"] });
    await jsm.consumers.add("R", { "durable_name": "C", "ack_policy": "explicit" as never });
    const err = await assertRejects(() => jsm.consumers.reset("R", "C", 1));
    assert(String(err).includes("2.14.0"), String(err));
  } finally {
    await close();
  }
});
