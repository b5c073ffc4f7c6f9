// Object Store end to end with the official client (@nats-io/obj): chunked puts, gets, links, watch, delete.

import { Objm } from "@nats-io/obj";
import { assert, assertEquals } from "@std/assert";
import { connectTo, runConsumerServer } from "./_consumer_helpers.ts";

function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

Deno.test("ObjectStore: put and get of a multi-MB object", async () => {
  await using s = await runConsumerServer({ maxPayload: 1024 * 1024 } as never);
  await using nc = await connectTo(s);
  const os = await new Objm(nc).create("files");
  const data = bytes(3 * 1024 * 1024 + 123);
  const info = await os.putBlob({ name: "big.bin" }, data);
  assertEquals(info.size, data.length);
  assert(info.chunks > 1);
  const got = await os.getBlob("big.bin");
  assertEquals(got?.length, data.length);
  assertEquals(got, data);
});

Deno.test("ObjectStore: links, list, watch and delete", async () => {
  await using s = await runConsumerServer();
  await using nc = await connectTo(s);
  const os = await new Objm(nc).create("o");
  await os.putBlob({ name: "a" }, new TextEncoder().encode("hello"));
  await os.link("b", (await os.info("a"))!);
  const viaLink = await os.getBlob("b");
  assertEquals(new TextDecoder().decode(viaLink!), "hello");
  const names = (await os.list()).map((i) => i.name).sort();
  assertEquals(names, ["a", "b"]);
  const w = await os.watch();
  const seen: string[] = [];
  const done = (async () => {
    for await (const e of w) {
      if (e === null) continue;
      seen.push(`${e.name}:${e.deleted}`);
      if (e.name === "c") break;
    }
  })();
  await os.putBlob({ name: "c" }, new TextEncoder().encode("x"));
  await done;
  assert(seen.includes("c:false"), seen.join(","));
  await os.delete("a");
  assertEquals(await os.getBlob("a"), null);
  const st = await os.status();
  assertEquals(st.bucket, "o");
});
