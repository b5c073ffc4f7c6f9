// Ports the stream and API black-box tests of nats-server server/jetstream_test.go (consumer tests live in
// the consumer engineer's files), through the official client.

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { headers } from "@nats-io/nats-core";
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { clientFor, jsApi, runJsServer } from "./_helpers.ts";

const enc = new TextEncoder();

/** Publishes with headers through a plain request and returns the parsed PubAck (or error) JSON. */
async function pubRaw(
  nc: NatsConnection,
  subject: string,
  data: string,
  hdrs: Record<string, string> = {},
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const h = headers();
  for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
  const m = await nc.request(subject, enc.encode(data), {
    timeout: 2_000,
    headers: Object.keys(hdrs).length > 0 ? h : undefined,
  });
  return JSON.parse(new TextDecoder().decode(m.data));
}

Deno.test("TestJetStreamBasicNilConfig: JetStream starts with defaults and reports them", async () => {
  await using s = await runJsServer();
  assert(s.jetStream !== undefined);
  const v = s.jetStream.varz() as {
    config: { "max_memory": number; "max_storage": number; "store_dir": string };
  };
  assert(v.config.max_memory > 0);
  assert(v.config.max_storage > 0);
  assert(v.config.store_dir.endsWith("/jetstream"));
});

Deno.test("TestJetStreamAddStream: streams are created, published to, and deleted", async (t) => {
  for (const storage of [StorageType.Memory, StorageType.File]) {
    await t.step(`${storage} storage`, async () => {
      await using s = await runJsServer();
      await using nc = await clientFor(s);
      const jsm = await jetstreamManager(nc);
      const si = await jsm.streams.add({ name: "foo", storage });
      assertEquals(si.config.subjects, ["foo"]);
      const js = jetstream(nc);
      await js.publish("foo", "Hello World!");
      let st = (await jsm.streams.info("foo")).state;
      assertEquals(st.messages, 1);
      assertEquals(st.first_seq, 1);
      await js.publish("foo", "Hello World Again!");
      st = (await jsm.streams.info("foo")).state;
      assertEquals(st.messages, 2);
      assert(await jsm.streams.delete("foo"));
      const e = await assertRejects(() => jsm.streams.info("foo"));
      assertStringIncludes(String((e as Error).message), "stream not found");
    });
  }
});

Deno.test("TestJetStreamAddStreamDiscardNew: discard new refuses messages past the limits", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: "foo",
    subjects: ["foo"],
    max_msgs: 10,
    discard: "new" as never,
    storage: StorageType.Memory,
  });
  for (let i = 0; i < 10; i++) {
    const pa = await pubRaw(nc, "foo", "x");
    assertEquals(pa.error, undefined);
  }
  const r = await pubRaw(nc, "foo", "x");
  assertEquals(r.error.err_code, 10077);
  assertEquals(r.error.description, "maximum messages exceeded");
});

Deno.test("TestJetStreamPubAck: PubAcks carry the stream and increasing sequences", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "PUBACK", subjects: ["foo"], storage: StorageType.Memory });
  for (let i = 1; i <= 100; i++) {
    const m = await nc.request("foo", enc.encode("HELLO"), { timeout: 2_000 });
    const text = new TextDecoder().decode(m.data);
    // Byte-exact: the reference writes this PubAck by hand, with a space after the comma.
    assertEquals(text, `{"stream":"PUBACK", "seq":${i}}`);
  }
});

Deno.test("TestJetStreamAddStreamMaxMsgSize: messages over max_msg_size are refused", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "foo", subjects: ["foo"], max_msg_size: 22, storage: StorageType.Memory });
  assertEquals((await pubRaw(nc, "foo", "Hello World!")).seq, 1);
  const r = await pubRaw(nc, "foo", "Hello World! and again and again");
  assertEquals(r.error, { code: 400, err_code: 10054, description: "message size exceeds maximum allowed" });
});

Deno.test("TestJetStreamAddStreamCanonicalNames: names with '.', '*' or '>' are refused", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  // The API subject carries the name as one token, so only in-token wildcards can reach the check.
  for (const name of ["foo*bar", "foo>bar", "a*", ">b"]) {
    const r = await jsApi(nc, `$JS.API.STREAM.CREATE.${name}`, { name, storage: "memory" });
    assertEquals(r.error.err_code, 10052, name);
    assertEquals(r.error.description, "stream name is required and can not contain '.', '*', '>'");
  }
});

Deno.test("TestJetStreamAddStreamBadSubjects: invalid subjects are refused", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  for (const subj of ["foo.bar.", "..", ".*", ".>", " x", "y "]) {
    const r = await jsApi(nc, "$JS.API.STREAM.CREATE.MyStream", {
      name: "MyStream",
      storage: "memory",
      subjects: [subj],
    });
    assertEquals(r.error, { code: 500, err_code: 10052, description: "invalid subject" }, subj);
  }
});

Deno.test("TestJetStreamAddStreamOverlappingSubjects: a stream may not overlap another's subjects", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: "ok",
    subjects: ["foo", "bar", "baz.*", "foo.bar.baz.>"],
    storage: StorageType.Memory,
  });
  for (
    const subjects of [["foo"], ["bar"], ["baz"], ["baz.*"], ["baz.>"], ["foo.bar.baz.*"], ["*.bar.*.>"]]
  ) {
    const r = await jsApi(nc, "$JS.API.STREAM.CREATE.bad", { name: "bad", subjects, storage: "memory" });
    if (subjects[0] === "baz") {
      assertEquals(r.error, undefined);
      await jsm.streams.delete("bad");
      continue;
    }
    assertEquals(r.error?.err_code, 10065, subjects.join());
  }
});

Deno.test("TestJetStreamAddStreamOverlapWithJSAPISubjects: API subjects need no_ack", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  for (const subj of ["$JS.API.foo", "$JS.API.>", "$JS.>"]) {
    const r = await jsApi(nc, "$JS.API.STREAM.CREATE.TEST", {
      name: "TEST",
      subjects: [subj],
      storage: "memory",
    });
    assertEquals(r.error?.description, "subjects that overlap with jetstream api require no-ack to be true");
  }
  // $JS.EVENT.> is allowed.
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.TEST", {
    name: "TEST",
    subjects: ["$JS.EVENT.>"],
    storage: "memory",
  });
  assertEquals(r.error, undefined);
});

Deno.test("TestJetStreamAddStreamSameConfigOK: creating a stream again with the same config succeeds", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const cfg = { name: "ok", subjects: ["foo"], storage: "memory" };
  assertEquals((await jsApi(nc, "$JS.API.STREAM.CREATE.ok", cfg)).error, undefined);
  assertEquals((await jsApi(nc, "$JS.API.STREAM.CREATE.ok", cfg)).error, undefined);
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.ok", { ...cfg, "max_msgs": 5 });
  assertEquals(r.error, {
    code: 400,
    err_code: 10058,
    description: "stream name already in use with a different configuration",
  });
});

Deno.test("TestJetStreamNoAckStream: no_ack streams store without replying", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "foo", storage: StorageType.Memory, no_ack: true });
  await assertRejects(() => nc.request("foo", enc.encode("Hello"), { timeout: 200 }));
  nc.publish("foo", "Hello");
  await nc.flush();
  assertEquals((await jsm.streams.info("foo")).state.messages, 2);
});

Deno.test("TestJetStreamPublishDeDupe: Nats-Msg-Id deduplicates within the window", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: "DeDupe",
    subjects: ["foo.*"],
    storage: StorageType.Memory,
    duplicate_window: 2_000_000_000,
  });
  const expect = async (id: string, seq: number, dup: boolean) => {
    const pa = await pubRaw(nc, "foo.1", "Hello DeDupe!", { "Nats-Msg-Id": id });
    assertEquals(pa.seq, seq, id);
    assertEquals(pa.duplicate === true, dup, id);
  };
  await expect("AA", 1, false);
  await expect("BB", 2, false);
  await expect("CC", 3, false);
  await expect("ZZ", 4, false);
  await expect("AA", 1, true);
  await expect("BB", 2, true);
  assertEquals((await jsm.streams.info("DeDupe")).state.messages, 4);
  // After the window the ids are forgotten.
  await new Promise((r) => setTimeout(r, 2_300));
  await expect("AA", 5, false);
});

Deno.test("TestJetStreamPublishExpect: Nats-Expected-* headers are checked", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "EXPECT", subjects: ["foo.*"], storage: StorageType.Memory });
  assertEquals((await pubRaw(nc, "foo.bar", "HELLO", { "Nats-Expected-Stream": "EXPECT" })).seq, 1);
  let r = await pubRaw(nc, "foo.bar", "HELLO", { "Nats-Expected-Stream": "ORDERS" });
  assertEquals(r.error, { code: 400, err_code: 10060, description: "expected stream does not match" });
  r = await pubRaw(nc, "foo.bar", "HELLO", {
    "Nats-Expected-Stream": "EXPECT",
    "Nats-Expected-Last-Sequence": "10",
  });
  assertEquals(r.error, { code: 400, err_code: 10071, description: "wrong last sequence: 1" });
  r = await pubRaw(nc, "foo.bar", "HELLO", { "Nats-Expected-Last-Sequence": "0" });
  assertEquals(r.error?.err_code, 10071);
  assertEquals((await pubRaw(nc, "foo.bar", "HELLO", { "Nats-Msg-Id": "AAA" })).seq, 2);
  r = await pubRaw(nc, "foo.bar", "HELLO", { "Nats-Msg-Id": "ZZZ", "Nats-Expected-Last-Msg-Id": "BBB" });
  assertEquals(r.error, { code: 400, err_code: 10070, description: "wrong last msg ID: AAA" });
  r = await pubRaw(nc, "foo.baz", "HELLO AGAIN", {
    "Nats-Expected-Last-Sequence": "2",
    "Nats-Expected-Last-Msg-Id": "AAA",
    "Nats-Msg-Id": "BBB",
  });
  assertEquals(r.seq, 3);
  // Per-subject expectations.
  r = await pubRaw(nc, "foo.new", "x", { "Nats-Expected-Last-Subject-Sequence": "0" });
  assertEquals(r.seq, 4);
  r = await pubRaw(nc, "foo.new", "x", { "Nats-Expected-Last-Subject-Sequence": "0" });
  assertEquals(r.error, { code: 400, err_code: 10071, description: "wrong last sequence: 4" });
});

Deno.test("TestJetStreamStreamPurge: purge removes all messages and keeps sequences", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "DC", subjects: ["DC"], storage: StorageType.Memory });
  const js = jetstream(nc);
  for (let i = 0; i < 100; i++) await js.publish("DC", "OK!");
  assertEquals((await jsm.streams.info("DC")).state.messages, 100);
  const pr = await jsm.streams.purge("DC");
  assertEquals([pr.success, pr.purged], [true, 100]);
  let st = (await jsm.streams.info("DC")).state;
  assertEquals(st.messages, 0);
  assertEquals(st.first_seq, 101);
  await js.publish("DC", "OK!");
  st = (await jsm.streams.info("DC")).state;
  assertEquals([st.messages, st.first_seq, st.last_seq], [1, 101, 101]);
});

Deno.test("TestJetStreamStreamPurgeWithConsumer: filter and keep purge by subject", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "P", subjects: ["p.*"], storage: StorageType.Memory });
  const js = jetstream(nc);
  for (let i = 0; i < 10; i++) {
    await js.publish("p.a", "a");
    await js.publish("p.b", "b");
  }
  assertEquals((await jsm.streams.purge("P", { filter: "p.a", keep: 2 })).purged, 8);
  // Kept p.a 17 and 19; below 15 only p.b 2..14 remain to purge.
  assertEquals((await jsm.streams.purge("P", { seq: 15 })).purged, 7);
  const st = (await jsm.streams.info("P")).state;
  assertEquals(st.messages, 5);
});

Deno.test("STREAM.MSG.GET serves by seq, last_by_subj and next_by_subj; MSG.DELETE removes", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "G", subjects: ["g.*"], storage: StorageType.Memory });
  const js = jetstream(nc);
  await js.publish("g.a", "1");
  await js.publish("g.b", "2");
  await js.publish("g.a", "3");
  assertEquals((await jsm.streams.getMessage("G", { seq: 2 }))?.string(), "2");
  assertEquals((await jsm.streams.getMessage("G", { last_by_subj: "g.a" }))?.seq, 3);
  assertEquals((await jsApi(nc, "$JS.API.STREAM.MSG.GET.G", { next_by_subj: "g.a", seq: 2 })).message.seq, 3);
  let r = await jsApi(nc, "$JS.API.STREAM.MSG.GET.G", { seq: 99 });
  assertEquals(r.error, { code: 404, err_code: 10037, description: "no message found" });
  assert(await jsm.streams.deleteMessage("G", 2));
  r = await jsApi(nc, "$JS.API.STREAM.MSG.DELETE.G", { seq: 2 });
  assertEquals(r.error, { code: 400, err_code: 10043, description: "sequence 2 not found" });
  r = await jsApi(nc, "$JS.API.STREAM.MSG.GET.G", { seq: 1 });
  assertEquals(r.message.subject, "g.a");
  assertEquals(atob(r.message.data), "1");
  assertStringIncludes(r.message.time, "T");
});

Deno.test("DIRECT.GET with allow_direct answers with Nats-* headers and 404/408 statuses", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "D", subjects: ["d.*"], storage: StorageType.Memory, allow_direct: true });
  const js = jetstream(nc);
  await js.publish("d.a", "1");
  await js.publish("d.b", "2");
  let m = await nc.request("$JS.API.DIRECT.GET.D.d.a", new Uint8Array(0), { timeout: 2_000 });
  assertEquals(m.headers?.get("Nats-Stream"), "D");
  assertEquals(m.headers?.get("Nats-Sequence"), "1");
  assertEquals(m.headers?.get("Nats-Subject"), "d.a");
  assertEquals(m.string(), "1");
  m = await nc.request("$JS.API.DIRECT.GET.D", enc.encode(JSON.stringify({ seq: 9 })), { timeout: 2_000 });
  assertEquals(m.headers?.code, 404);
  m = await nc.request("$JS.API.DIRECT.GET.D", new Uint8Array(0), { timeout: 2_000 });
  assertEquals(m.headers?.code, 408);
  const got = await jsm.direct.getMessage("D", { last_by_subj: "d.b" });
  assertEquals(got?.string(), "2");
});

Deno.test("Nats-Rollup sub and all purge behind the new message; bad values and disabled rollups refused", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: "R",
    subjects: ["r.*"],
    storage: StorageType.Memory,
    allow_rollup_hdrs: true,
  });
  for (let i = 0; i < 5; i++) {
    await pubRaw(nc, "r.a", "a");
    await pubRaw(nc, "r.b", "b");
  }
  await pubRaw(nc, "r.a", "roll", { "Nats-Rollup": "sub" });
  assertEquals((await jsm.streams.info("R")).state.messages, 6);
  await pubRaw(nc, "r.b", "all", { "Nats-Rollup": "all" });
  assertEquals((await jsm.streams.info("R")).state.messages, 1);
  const r = await pubRaw(nc, "r.b", "x", { "Nats-Rollup": "bad" });
  assertEquals(r.error, { code: 500, err_code: 10111, description: 'rollup value invalid: "bad"' });
  await jsm.streams.add({ name: "NR", subjects: ["nr"], storage: StorageType.Memory });
  const r2 = await pubRaw(nc, "nr", "x", { "Nats-Rollup": "all" });
  assertEquals(r2.error, { code: 500, err_code: 10111, description: "rollup not permitted" });
});

Deno.test("TestJetStreamInterestRetentionStream: no consumers means nothing is stored", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: "I",
    subjects: ["i"],
    storage: StorageType.Memory,
    retention: RetentionPolicy.Interest,
  });
  const pa = await pubRaw(nc, "i", "x");
  assertEquals(pa.seq, 1);
  const st = (await jsm.streams.info("I")).state;
  assertEquals([st.messages, st.last_seq], [0, 1]);
});

Deno.test("Nats-Required-Api-Level: level 2 (counters, atomic batches, schedules) is served, 3 is refused", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const ok = await pubRaw(nc, "$JS.API.INFO", "", { "Nats-Required-Api-Level": "2" });
  assertEquals(ok.error, undefined);
  assertEquals(ok.type, "io.nats.jetstream.api.v1.account_info_response");
  const no = await pubRaw(nc, "$JS.API.INFO", "", { "Nats-Required-Api-Level": "3" });
  assertEquals(no.error, { code: 412, err_code: 10185, description: "JetStream minimum api level required" });
});
