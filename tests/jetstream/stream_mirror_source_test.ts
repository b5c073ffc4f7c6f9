// Mirrors and sources. The stream side is checked against a stand-in origin consumer reached through an
// external API prefix (the test answers CONSUMER.CREATE and pushes deliveries with $JS.ACK replies); the
// ported nats-server server/jetstream_test.go tests run end to end on real push consumers.

import { assert, assertEquals } from "@std/assert";
import { headers, type Msg } from "@nats-io/nats-core";
import type { JetStream } from "../../src/jetstream/mod.ts";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { clientFor, jsApi, runJsServer, type TestServer } from "./_helpers.ts";
import { checkFor } from "../_helpers/server.ts";

const enc = new TextEncoder();

interface FakeOrigin {
  /** Consumer create requests received. */
  requests: { subject: string; body: Record<string, unknown> }[];
  /** Delivers origin message `sseq` (delivery sequence counts up per consumer). */
  deliver(subject: string, sseq: number, data: string, hdrs?: Record<string, string>): void;
  heartbeat(): void;
  flowControlReplies: number;
}

/**
 * Answers `<api>.CONSUMER.CREATE.<origin>` and lets the test push deliveries to the link. Deliveries go out
 * through the server's JetStream internal client: clients may not use `$JS.ACK.` reply subjects.
 */
async function fakeOrigin(
  s: TestServer,
  nc: NatsConnection,
  api: string,
  origin: string,
): Promise<FakeOrigin> {
  const js = s.jetStream!.impl as JetStream;
  // deliverAs() comes with the consumer work in src/server/client.ts.
  const ic = js.lookupAccount("$G")!.client as unknown as {
    deliverAs(r: string, s: string, reply: string, h: Uint8Array | undefined, p: Uint8Array): boolean;
  };
  let deliver = "";
  let dseq = 0;
  const f: FakeOrigin = {
    requests: [],
    flowControlReplies: 0,
    deliver(subject, sseq, data, hdrs = {}) {
      dseq++;
      const ts = BigInt(Date.now()) * 1_000_000n;
      const h = Object.keys(hdrs).length > 0
        ? enc.encode(
          "NATS/1.0\r\n" + Object.entries(hdrs).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n",
        )
        : undefined;
      // As a push consumer delivers: routed by the deliver subject, the message keeps its own subject.
      ic.deliverAs(deliver, subject, `$JS.ACK.${origin}.C1.1.${sseq}.${dseq}.${ts}.0`, h, enc.encode(data));
    },
    heartbeat() {
      const h = headers(100, "FlowControl Request");
      nc.publish(deliver, new Uint8Array(0), { headers: h, reply: "fc.reply" });
    },
  };
  nc.subscribe(`${api}.CONSUMER.CREATE.${origin}`, {
    callback: (_e, m: Msg) => {
      const body = m.json<Record<string, unknown>>();
      f.requests.push({ subject: m.subject, body });
      deliver = (body.config as Record<string, string>).deliver_subject;
      dseq = 0;
      m.respond(enc.encode(JSON.stringify({
        type: "io.nats.jetstream.api.v1.consumer_create_response",
        "stream_name": origin,
        name: "C1",
        delivered: { "consumer_seq": 0, "stream_seq": 0 },
      })));
    },
  });
  nc.subscribe("fc.reply", {
    callback: () => {
      f.flowControlReplies++;
    },
  });
  await nc.flush();
  return f;
}

Deno.test("Stream mirror: creates a flow-controlled push consumer on the origin and stores at origin sequences", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const origin = await fakeOrigin(s, nc, "$EXT.API", "ORIGIN");
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.M", {
    name: "M",
    storage: "memory",
    mirror: { name: "ORIGIN", external: { api: "$EXT.API", deliver: "ext.deliver" } },
  });
  assertEquals(r.error, undefined);
  await checkFor(2_000, 20, () => assertEquals(origin.requests.length, 1));
  const req = origin.requests[0];
  assertEquals(req.subject, "$EXT.API.CONSUMER.CREATE.ORIGIN");
  const cc = req.body.config as Record<string, unknown>;
  assertEquals(req.body.stream_name, "ORIGIN");
  assert(String(cc.deliver_subject).startsWith("ext.deliver.M."), String(cc.deliver_subject));
  assertEquals([cc.ack_policy, cc.flow_control, cc.max_deliver, cc.deliver_policy], ["none", true, 1, "all"]);
  assertEquals(cc.idle_heartbeat, 1_000_000_000);
  origin.deliver("foo", 1, "one", { "Nats-Batch-Id": "x", "X-Keep": "y" });
  origin.deliver("foo", 2, "two");
  origin.deliver("bar", 5, "five");
  origin.heartbeat();
  await nc.flush();
  const jsm = await jetstreamManager(nc);
  await checkFor(2_000, 20, async () => {
    const st = (await jsm.streams.info("M")).state;
    assertEquals([st.messages, st.first_seq, st.last_seq], [3, 1, 5]);
  });
  const m1 = await jsApi(nc, "$JS.API.STREAM.MSG.GET.M", { seq: 1 });
  assertEquals(m1.message.subject, "foo");
  const h1 = atob(m1.message.hdrs);
  assert(h1.includes("X-Keep: y") && !h1.includes("Nats-Batch-Id"), h1);
  assertEquals(atob((await jsApi(nc, "$JS.API.STREAM.MSG.GET.M", { seq: 5 })).message.data), "five");
  await checkFor(2_000, 20, () => assertEquals(origin.flowControlReplies, 1));
  const info = await jsApi(nc, "$JS.API.STREAM.INFO.M");
  assertEquals(info.mirror.name, "ORIGIN");
  assertEquals(info.mirror.external, { api: "$EXT.API", deliver: "ext.deliver" });
  assert(info.mirror.active >= 0);
});

Deno.test("Stream sources: sourced messages carry Nats-Stream-Source and go through the publish path", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const origin = await fakeOrigin(s, nc, "$EXT.API", "TEST");
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.S", {
    name: "S",
    storage: "memory",
    subjects: ["s.local"],
    sources: [{ name: "TEST", external: { api: "$EXT.API" }, opt_start_seq: 3 }],
  });
  assertEquals(r.error, undefined);
  await checkFor(2_000, 20, () => assertEquals(origin.requests.length, 1));
  const cc = origin.requests[0].body.config as Record<string, unknown>;
  assert(String(cc.deliver_subject).startsWith("$JS.S."));
  assertEquals([cc.deliver_policy, cc.opt_start_seq], ["by_start_sequence", 3]);
  origin.deliver("foo", 3, "three");
  origin.deliver("foo", 4, "four");
  // A gap in delivery sequences makes the link recreate its consumer from the last origin sequence.
  await nc.flush();
  const jsm = await jetstreamManager(nc);
  await checkFor(2_000, 20, async () => assertEquals((await jsm.streams.info("S")).state.messages, 2));
  const m = await jsm.streams.getMessage("S", { seq: 1 });
  const src = m?.header?.get("Nats-Stream-Source") ?? "";
  assert(src.startsWith("TEST:") && src.endsWith(" 3 > > foo"), src);
  const info = await jsApi(nc, "$JS.API.STREAM.INFO.S");
  assertEquals(info.sources.length, 1);
  assertEquals(info.sources[0].name, "TEST");
});

Deno.test("Stream sources: a source restarts from the last origin sequence recorded in the stream", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const origin = await fakeOrigin(s, nc, "$EXT.API", "TEST");
  const cfg = {
    name: "S",
    storage: "memory",
    subjects: ["s.local"],
    sources: [{ name: "TEST", external: { api: "$EXT.API" } }],
  };
  await jsApi(nc, "$JS.API.STREAM.CREATE.S", cfg);
  await checkFor(2_000, 20, () => assertEquals(origin.requests.length, 1));
  origin.deliver("foo", 1, "1");
  origin.deliver("foo", 2, "2");
  await nc.flush();
  const jsm = await jetstreamManager(nc);
  await checkFor(2_000, 20, async () => assertEquals((await jsm.streams.info("S")).state.messages, 2));
  // Removing and re-adding the source starts a new link, which resumes after origin sequence 2.
  assertEquals((await jsApi(nc, "$JS.API.STREAM.UPDATE.S", { ...cfg, sources: [] })).error, undefined);
  assertEquals((await jsApi(nc, "$JS.API.STREAM.UPDATE.S", cfg)).error, undefined);
  await checkFor(2_000, 20, () => assertEquals(origin.requests.length, 2));
  const cc = origin.requests[1].body.config as Record<string, unknown>;
  assertEquals([cc.deliver_policy, cc.opt_start_seq], ["by_start_sequence", 3]);
});

// ---- Ported from server/jetstream_test.go ----------------------------------------------------------------

Deno.test({
  name: "TestJetStreamMirrorBasics: a mirror copies its origin, keeps sequences and refuses subjects",

  fn: async () => {
    await using s = await runJsServer();
    await using nc = await clientFor(s);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "S1", subjects: ["foo", "baz"], storage: StorageType.Memory });
    for (let i = 0; i < 100; i++) await jsApi(nc, "foo", "x");
    let r = await jsApi(nc, "$JS.API.STREAM.CREATE.M1", {
      name: "M1",
      storage: "memory",
      mirror: { name: "S1" },
      subjects: ["foo"],
    });
    assertEquals(r.error?.err_code, 10034);
    r = await jsApi(nc, "$JS.API.STREAM.CREATE.M1", {
      name: "M1",
      storage: "memory",
      mirror: { name: "S1" },
    });
    assertEquals(r.error, undefined);
    await checkFor(5_000, 50, async () => assertEquals((await jsm.streams.info("M1")).state.messages, 100));
    r = await jsApi(nc, "$JS.API.STREAM.CREATE.M2", {
      name: "M2",
      storage: "memory",
      mirror: { name: "S1", opt_start_seq: 50 },
    });
    await checkFor(5_000, 50, async () => {
      const st = (await jsm.streams.info("M2")).state;
      assertEquals([st.messages, st.first_seq], [51, 50]);
    });
  },
});

Deno.test({
  name: "TestJetStreamSourceBasics: a stream sources several origins with filters",

  fn: async () => {
    await using s = await runJsServer();
    await using nc = await clientFor(s);
    const jsm = await jetstreamManager(nc);
    for (const n of ["test", "foo", "bar", "baz"]) {
      await jsm.streams.add({ name: n, subjects: [n], storage: StorageType.Memory });
      for (let i = 0; i < 10; i++) await jsApi(nc, n, "x");
    }
    const r = await jsApi(nc, "$JS.API.STREAM.CREATE.MS", {
      name: "MS",
      storage: "memory",
      sources: [{ name: "foo" }, { name: "bar" }, { name: "baz" }],
    });
    assertEquals(r.error, undefined);
    await checkFor(5_000, 50, async () => assertEquals((await jsm.streams.info("MS")).state.messages, 30));
    const m = await jsm.streams.getMessage("MS", { seq: 1 });
    assert((m?.header?.get("Nats-Stream-Source") ?? "").length > 0);
  },
});

Deno.test("TestJetStreamMirrorAndSourcesFilteredConsumers: consumer filters on mirrors/sources follow the origins' subjects", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const stream = async (cfg: Record<string, unknown>) =>
    assertEquals(
      (await jsApi(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, { storage: "memory", ...cfg })).error,
      undefined,
    );
  await stream({ name: "TEST", subjects: ["foo", "bar", "baz.*"] });
  await stream({ name: "M", mirror: { name: "TEST" } });
  const dsubj = "_INBOX.mfc";
  nc.subscribe(dsubj);
  await nc.flush();
  const add = (sn: string, fs: string) =>
    jsApi(nc, `$JS.API.CONSUMER.CREATE.${sn}`, {
      "stream_name": sn,
      config: { "deliver_subject": dsubj, "filter_subject": fs },
    });
  const ok = async (sn: string, fs: string) =>
    assertEquals((await add(sn, fs)).error, undefined, `${sn} ${fs}`);
  const fails = async (sn: string, fs: string) =>
    assert((await add(sn, fs)).error !== undefined, `${sn} ${fs}`);
  await ok("M", "foo");
  await ok("M", "bar");
  await ok("M", "baz.foo");
  await fails("M", "baz");
  await fails("M", "baz.1.2");
  await fails("M", "apple");
  // Sources.
  await stream({ name: "O1", subjects: ["foo.*"] });
  await stream({ name: "O2", subjects: ["bar.*"] });
  await stream({ name: "S", sources: [{ name: "O1" }, { name: "O2" }] });
  await ok("S", "foo.1");
  await ok("S", "bar.1");
  await fails("S", "baz");
  await fails("S", "baz.1");
  await fails("S", "apple");
  // Chaining.
  await stream({ name: "M2", mirror: { name: "M" } });
  await ok("M2", "foo");
  await ok("M2", "bar");
  await ok("M2", "baz.foo");
  await fails("M2", "baz");
  await fails("M2", "baz.1.2");
  await fails("M2", "apple");
});

Deno.test("TestJetStreamMirrorUpdatePreventsSubjects: a mirror cannot gain subjects by update", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const cfg = { name: "MIRROR", storage: "memory", mirror: { name: "SOURCE", external: { api: "$X.API" } } };
  assertEquals((await jsApi(nc, "$JS.API.STREAM.CREATE.MIRROR", cfg)).error, undefined);
  const r = await jsApi(nc, "$JS.API.STREAM.UPDATE.MIRROR", { ...cfg, subjects: ["foo"] });
  assertEquals(r.error?.err_code, 10034);
});

Deno.test("TestJetStreamMirrorUpdatesNotSupported: changing the mirror of a stream is refused", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  await jsApi(nc, "$JS.API.STREAM.CREATE.SOURCE", { name: "SOURCE", storage: "memory" });
  const cfg = { name: "M", storage: "memory", mirror: { name: "SOURCE" } };
  assertEquals((await jsApi(nc, "$JS.API.STREAM.CREATE.M", cfg)).error, undefined);
  const r = await jsApi(nc, "$JS.API.STREAM.UPDATE.M", { ...cfg, mirror: { name: "OTHER" } });
  assertEquals(r.error, {
    code: 400,
    "err_code": 10055,
    description: "stream mirror configuration can not be updated",
  });
});

Deno.test("Stream mirror: a copy with Nats-TTL never outlives the mirror's max_age, as on its origin", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const base = { storage: "memory", "allow_msg_ttl": true, "max_age": 500_000_000 };
  const src = await jsApi(nc, "$JS.API.STREAM.CREATE.SRC", { ...base, name: "SRC", subjects: ["t.>"] });
  assertEquals(src.error, undefined);
  const mir = await jsApi(nc, "$JS.API.STREAM.CREATE.MIR", { ...base, name: "MIR", mirror: { name: "SRC" } });
  assertEquals(mir.error, undefined);
  const h = headers();
  h.set("Nats-TTL", "never");
  await nc.request("t.keep", enc.encode("k"), { headers: h, timeout: 2_000 });
  await nc.request("t.drop", enc.encode("d"));
  const msgs = async (name: string) => (await jsApi(nc, `$JS.API.STREAM.INFO.${name}`, {})).state.messages;
  await checkFor(3_000, 50, async () => assertEquals(await msgs("MIR"), 2));
  // After max_age only the never-expiring message is left, in both streams.
  await checkFor(5_000, 100, async () => {
    assertEquals(await msgs("SRC"), 1);
    assertEquals(await msgs("MIR"), 1);
  });
  const m = (await jsApi(nc, "$JS.API.STREAM.MSG.GET.MIR", { "last_by_subj": "t.keep" })).message;
  assertEquals(m?.seq, 1);
});
