// Ports of single-server stream tests of nats-server server/jetstream_test.go (2.9.10): descriptions and their
// length limit, API requests carrying headers and a payload, and the longest stream names. Go test names kept,
// in Go's order.

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { headers } from "@nats-io/nats-core";
import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options, startServer } from "../../src/natsdeno.ts";
import { clientFor, jsApi, type TestServer } from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const JS_MAX_DESCRIPTION_LEN = 4 * 1024;

/** A JetStream server with the real stores (MemStore and FileStore). */
async function runServer(opts: Partial<Options> = {}): Promise<TestServer> {
  const storeDir = opts.storeDir ?? await Deno.makeTempDir({ prefix: "natsdeno-jsst-" });
  const full = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir, ...opts });
  const log = new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: false }, true);
  return await startServer(full, { log }) as TestServer;
}

Deno.test("TestJetStreamConsumerAndStreamDescriptions: descriptions are kept and capped at 4 KiB", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const descr = "foo asset";
  let r = await jsApi(nc, "$JS.API.STREAM.CREATE.foo", { name: "foo", description: descr, storage: "file" });
  assertEquals(r.error, undefined);
  assertEquals(r.config.description, descr);
  const edescr = "analytics";
  r = await jsApi(nc, "$JS.API.CONSUMER.CREATE.foo", {
    "stream_name": "foo",
    config: { description: edescr, "deliver_subject": "to", "ack_policy": "none" },
  });
  assertEquals(r.error, undefined);
  assertEquals(r.config.description, edescr);
  const data = crypto.getRandomValues(new Uint8Array(JS_MAX_DESCRIPTION_LEN + 1));
  const bigDescr = btoa(String.fromCharCode(...data));
  r = await jsApi(nc, "$JS.API.STREAM.CREATE.bar", { name: "bar", description: bigDescr, storage: "file" });
  assert(r.error !== undefined);
  assertStringIncludes(r.error.description, "description is too long");
  r = await jsApi(nc, "$JS.API.CONSUMER.CREATE.foo", {
    "stream_name": "foo",
    config: { description: bigDescr, "deliver_subject": "to", "ack_policy": "none" },
  });
  assert(r.error !== undefined);
  assertStringIncludes(r.error.description, "description is too long");
});

Deno.test("TestJetStreamBasicAckPublish: 50 acked publishes are stored", async (t) => {
  for (const storage of ["memory", "file"]) {
    await t.step(storage === "memory" ? "MemoryStore" : "FileStore", async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      const r = await jsApi(nc, "$JS.API.STREAM.CREATE.foo", { name: "foo", storage, subjects: ["foo.*"] });
      assertEquals(r.error, undefined);
      for (let i = 0; i < 50; i++) {
        const ack = JSON.parse(dec.decode((await nc.request("foo.bar", enc.encode("Hello World!"))).data));
        assertEquals(ack.seq, i + 1);
      }
      assertEquals((await jsApi(nc, "$JS.API.STREAM.INFO.foo")).state.messages, 50);
    });
  }
});

Deno.test("TestJetStreamStateTimestamps: first and last timestamps follow the stored messages", async (t) => {
  for (const storage of ["memory", "file"]) {
    await t.step(storage === "memory" ? "MemoryStore" : "FileStore", async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      const r = await jsApi(nc, "$JS.API.STREAM.CREATE.foo", { name: "foo", storage, subjects: ["foo.*"] });
      assertEquals(r.error, undefined);
      const start = Date.now();
      const delayMs = 250;
      await nc.request("foo.bar", enc.encode("Hello World!"));
      await new Promise((res) => setTimeout(res, delayMs));
      await nc.request("foo.bar", enc.encode("Hello World Again!"));
      const st = (await jsApi(nc, "$JS.API.STREAM.INFO.foo")).state;
      // RFC 3339 with nanoseconds; millisecond precision is enough here.
      assert(Date.parse(st.first_ts) >= start - 1, `first ${st.first_ts}`);
      assert(Date.parse(st.last_ts) >= start + delayMs - 1, `last ${st.last_ts}`);
    });
  }
});

/** Messages of a push consumer on `inbox`, counted as they come. */
function collect(nc: Awaited<ReturnType<typeof clientFor>>, inbox: string) {
  const got: { subject: string; reply: string }[] = [];
  const sub = nc.subscribe(inbox, {
    callback: (_e, m) => {
      got.push({ subject: m.subject, reply: m.reply ?? "" });
      if (m.reply) m.respond();
    },
  });
  return { got, sub };
}

async function waitFor(n: () => number, want: number): Promise<void> {
  for (let i = 0; i < 200 && n() < want; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50));
  assertEquals(n(), want);
}

Deno.test("TestJetStreamSubjectFiltering: a filtered push consumer sees only its subject, in order", async (t) => {
  for (const storage of ["memory", "file"]) {
    await t.step(storage === "memory" ? "MemoryStore" : "FileStore", async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      assertEquals(
        (await jsApi(nc, "$JS.API.STREAM.CREATE.MSET", { name: "MSET", storage, subjects: ["foo.*"] })).error,
        undefined,
      );
      const toSend = 50;
      for (let i = 0; i < toSend; i++) {
        await nc.request("foo.A", enc.encode("Hello World!"));
        await nc.request("foo.B", enc.encode("Hello World!"));
      }
      assertEquals((await jsApi(nc, "$JS.API.STREAM.INFO.MSET")).state.messages, toSend * 2);
      const { got } = collect(nc, "_INBOX.sf");
      await nc.flush();
      const r = await jsApi(nc, "$JS.API.CONSUMER.CREATE.MSET", {
        "stream_name": "MSET",
        config: { "deliver_subject": "_INBOX.sf", "filter_subject": "foo.B" },
      });
      assertEquals(r.error, undefined);
      await waitFor(() => got.length, toSend);
      for (const [i, m] of got.entries()) {
        assertEquals(m.subject, "foo.B");
        // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>: the consumer sequence.
        assertEquals(Number(m.reply.split(".")[6]), i + 1);
      }
    });
  }
});

Deno.test("TestJetStreamWildcardSubjectFiltering: wildcard filters pick the matching orders", async (t) => {
  for (const storage of ["memory", "file"]) {
    await t.step(storage === "memory" ? "MemoryStore" : "FileStore", async () => {
      await using s = await runServer();
      await using nc = await clientFor(s);
      const cr = await jsApi(nc, "$JS.API.STREAM.CREATE.ORDERS", {
        name: "ORDERS",
        storage,
        subjects: ["orders.*.*"],
      });
      assertEquals(cr.error, undefined);
      const toSend = 100;
      for (let i = 1; i <= toSend; i++) await nc.request(`orders.${i}.NEW`, enc.encode("new order"));
      const toShip = 25;
      const shipped = new Set<number>();
      while (shipped.size < toShip) {
        const id = Math.floor(Math.random() * (toSend - 1)) + 1;
        if (shipped.has(id)) continue;
        await nc.request(`orders.${id}.SHIPPED`, enc.encode("shipped order"));
        shipped.add(id);
      }
      assertEquals((await jsApi(nc, "$JS.API.STREAM.INFO.ORDERS")).state.messages, toSend + toShip);
      const consume = async (filter: string, want: number) => {
        const inbox = `_INBOX.wf.${crypto.randomUUID().slice(0, 8)}`;
        const { got, sub } = collect(nc, inbox);
        await nc.flush();
        const r = await jsApi(nc, "$JS.API.CONSUMER.CREATE.ORDERS", {
          "stream_name": "ORDERS",
          config: { "deliver_subject": inbox, "filter_subject": filter },
        });
        assertEquals(r.error, undefined);
        await waitFor(() => got.length, want);
        sub.unsubscribe();
      };
      await consume("orders.*.SHIPPED", toShip);
      await consume("orders.*.NEW", toSend);
      // One shipped order has two messages.
      await consume(`orders.${[...shipped][0]}.*`, 2);
    });
  }
});

Deno.test("TestJetStreamInfoAPIWithHeaders: an account info request with headers and a payload is answered", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const h = headers();
  h.append("Accept-Encoding", "json");
  h.append("Authorization", "s3cr3t");
  const m = await nc.request("$JS.API.INFO", enc.encode("HELLO-JS!"), { timeout: 1_000, headers: h });
  const info = JSON.parse(dec.decode(m.data));
  assertEquals(info.error, undefined);
  assertEquals(info.type, "io.nats.jetstream.api.v1.account_info_response");
});

Deno.test("TestJetStreamLongStreamNamesAndPubAck: a 255 character stream name stores and acks", async () => {
  await using s = await runServer();
  await using nc = await clientFor(s);
  const name = "ZABC".repeat(64).slice(0, 255);
  const r = await jsApi(nc, `$JS.API.STREAM.CREATE.${name}`, { name, subjects: ["foo"], storage: "file" });
  assertEquals(r.error, undefined);
  const ack = JSON.parse(dec.decode((await nc.request("foo", enc.encode("HELLO"), { timeout: 1_000 })).data));
  assertEquals([ack.stream, ack.seq], [name, 1]);
});
