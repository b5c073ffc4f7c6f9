// KV end to end with the official client (@nats-io/kv): buckets are streams, watch is an ordered push consumer.

import { Kvm } from "@nats-io/kv";
import { assert, assertEquals, assertRejects } from "@std/assert";
import { connectTo, runConsumerServer } from "./_consumer_helpers.ts";

const td = new TextDecoder();

Deno.test("KV: create bucket, put, get, create, update with revision, delete, purge", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  const kvm = new Kvm(nc);
  const kv = await kvm.create("cfg", { history: 5 });
  const r1 = await kv.put("a", "1");
  assertEquals(r1, 1);
  const e = await kv.get("a");
  assertEquals(e?.string(), "1");
  assertEquals(e?.revision, 1);
  const r2 = await kv.create("b", "x");
  assertEquals(r2, 2);
  await assertRejects(() => kv.create("b", "y"));
  const r3 = await kv.update("b", "z", r2);
  assertEquals(r3, 3);
  await assertRejects(() => kv.update("b", "w", r2));
  await kv.delete("a");
  const d = await kv.get("a");
  assertEquals(d?.operation, "DEL");
  await kv.purge("b");
  const p = await kv.get("b");
  assertEquals(p?.operation, "PURGE");
  const st = await kv.status();
  assertEquals(st.bucket, "cfg");
});

Deno.test("KV: history, keys and watch (ordered push consumer)", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  const kv = await new Kvm(nc).create("h", { history: 10 });
  for (let i = 0; i < 5; i++) await kv.put("k", `v${i}`);
  await kv.put("other", "o");
  const hist = await kv.history({ key: "k" });
  const vals: string[] = [];
  for await (const e of hist) vals.push(e.string());
  assertEquals(vals, ["v0", "v1", "v2", "v3", "v4"]);
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  assertEquals(keys.sort(), ["k", "other"]);
  const w = await kv.watch();
  const seen: string[] = [];
  const done = (async () => {
    for await (const e of w) {
      seen.push(`${e.key}=${e.string()}`);
      if (e.key === "new") break;
    }
  })();
  await kv.put("new", "n");
  await done;
  // Initial values (last per subject) first, then the update.
  assertEquals(seen, ["k=v4", "other=o", "new=n"]);
});

Deno.test("KV: bucket TTL expires values", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  const kv = await new Kvm(nc).create("ttl", { ttl: 300 });
  await kv.put("x", "1");
  assertEquals((await kv.get("x"))?.string(), "1");
  await new Promise((r) => setTimeout(r, 700));
  assertEquals(await kv.get("x"), null);
});

Deno.test("KV: per-key TTL with markers", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  const kv = await new Kvm(nc).create("pk", { markerTTL: 1000 });
  await kv.create("x", "1", "1s");
  assertEquals((await kv.get("x"))?.string(), "1");
  await new Promise((r) => setTimeout(r, 1600));
  const e = await kv.get("x");
  assert(e === null || e.operation !== "PUT", `expected gone, got ${e && td.decode(e.value)}`);
});
