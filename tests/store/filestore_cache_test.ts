// The bounded cache of decoded sealed blocks: payloads of sealed blocks are read back from their files on
// demand, across plain, compressed and encrypted blocks, rewrites, restarts and idle expiry.
import { assert, assertEquals } from "@std/assert";
import { FileStore, type FsEncryption } from "../../src/store/filestore.ts";
import type { StoreConfig } from "../../src/store/store.ts";
import { storeConfig } from "../_helpers/store_config.ts";

function cfg(compression: "none" | "s2"): StoreConfig {
  return storeConfig({ name: "cache", storage: "file", compression });
}

function payload(i: number): Uint8Array {
  const p = new Uint8Array(200 + (i % 57));
  for (let j = 0; j < p.length; j++) p[j] = (i * 31 + j) & 0xff;
  return p;
}

const hdr = new TextEncoder().encode("NATS/1.0\r\nX: 1\r\n\r\n");

const cases: [string, FsEncryption | undefined, "none" | "s2"][] = [
  ["plain", undefined, "none"],
  ["s2", undefined, "s2"],
  ["aes", { key: "k", cipher: "aes", account: "$G" }, "none"],
  ["chacha s2", { key: "k", cipher: "chachapoly", account: "$G" }, "s2"],
];

for (const [name, enc, comp] of cases) {
  Deno.test(`FileStore block cache [${name}]: sealed payloads come back from disk within the bound`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "natsdeno-fsc-" });
    const opts = { dir, encryption: enc, blockSize: 16 * 1024, blockCacheBytes: 48 * 1024 };
    const N = 3000;
    try {
      let st = new FileStore(cfg(comp), opts);
      for (let i = 1; i <= N; i++) st.storeMsg(`s.${i % 7}`, i % 3 === 0 ? hdr : undefined, payload(i));
      await st.flushed(N);
      // Removals make blocks eligible for rewrite (compaction) while reads go on.
      for (let i = 2; i <= N; i += 2) if (i % 10 !== 0) st.removeMsg(i);
      await new Promise((r) => setTimeout(r, 20));
      const check = (s: FileStore) => {
        for (let i = 1; i <= N; i++) {
          const m = s.loadMsg(i);
          if (i % 2 === 0 && i % 10 !== 0) {
            assertEquals(m, undefined, `seq ${i} removed`);
            continue;
          }
          assert(m !== undefined, `seq ${i} present`);
          assertEquals(m.subject, `s.${i % 7}`);
          assertEquals(m.msg, payload(i), `payload of ${i}`);
          assertEquals(m.hdr, i % 3 === 0 ? hdr : undefined, `header of ${i}`);
        }
        const cs = s.cacheStats()!;
        assert(cs.bytes <= 48 * 1024 + 20 * 1024, `cache holds ${cs.bytes} bytes`);
        assert(cs.misses > 0, "sealed blocks were loaded from disk");
      };
      check(st);
      assertEquals(st.loadNextMsg("s.3", 1)?.seq, 3);
      st.stop();
      st = new FileStore(cfg(comp), opts);
      check(st);
      st.stop();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("FileStore block cache: idle blocks are dropped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-fsc-" });
  try {
    const st = new FileStore(cfg("none"), { dir, blockSize: 8 * 1024, blockCacheIdleMs: 40 });
    for (let i = 1; i <= 500; i++) st.storeMsg("a", undefined, payload(i));
    await st.flushed(500);
    assertEquals(st.loadMsg(1)?.msg, payload(1));
    assert(st.cacheStats()!.blocks > 0);
    await new Promise((r) => setTimeout(r, 150));
    assertEquals(st.cacheStats()!.blocks, 0);
    assertEquals(st.loadMsg(2)?.msg, payload(2));
    st.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileStore block cache: a record changed on disk after sealing is not served, the rest is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-fsc-" });
  const errors: string[] = [];
  try {
    const st = new FileStore(cfg("none"), {
      dir,
      blockSize: 8 * 1024,
      blockCacheIdleMs: 20,
      logger: { warn: () => {}, error: (m) => errors.push(m) },
    });
    for (let i = 1; i <= 300; i++) st.storeMsg("a", undefined, payload(i));
    await st.flushed(300);
    await new Promise((r) => setTimeout(r, 100));
    const f = `${dir}/msgs/1.blk`;
    const b = Deno.readFileSync(f);
    b[100] ^= 4;
    Deno.writeFileSync(f, b);
    assertEquals(st.loadMsg(1), undefined, "the damaged record is not served");
    assertEquals(st.loadMsg(2)?.msg, payload(2), "the rest of the block is");
    assert(errors.some((e) => e.includes("1.blk")), errors.join("\n"));
    st.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileStore block cache: a loaded message owns its bytes; reusing evicted buffers changes none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-fsc-" });
  try {
    // One block in the cache at a time: every load of another block reuses the evicted one's buffer.
    const st = new FileStore(cfg("none"), { dir, blockSize: 8 * 1024, blockCacheBytes: 12 * 1024 });
    const N = 600;
    for (let i = 1; i <= N; i++) st.storeMsg(`s.${i % 5}`, i % 3 === 0 ? hdr : undefined, payload(i));
    await st.flushed(N);
    const held = [];
    for (let i = 1; i <= N; i += 7) held.push(st.loadMsg(i)!);
    const first = held[0];
    // Not a view of the decoded block: it pins only its own bytes.
    assertEquals(first.msg.buffer.byteLength, first.msg.length + (first.hdr?.length ?? 0));
    assert(st.cacheStats()!.misses > 10, "blocks were loaded again and again");
    for (const m of held) {
      assertEquals(m.msg, payload(m.seq), `payload of ${m.seq} held across evictions`);
      assertEquals(m.hdr, m.seq % 3 === 0 ? hdr : undefined);
    }
    st.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
