// Borrowed loads (loadNextMsg(..., true)): the consumer delivery path reads sealed blocks through views of
// the block cache instead of copies; the bytes must be the stored ones, and the buffer of the last view lent
// out is never read into again, even when its block is evicted.
import { assert, assertEquals } from "@std/assert";
import { FileStore } from "../../src/store/filestore.ts";
import { MemStore } from "../../src/store/memstore.ts";
import { storeConfig } from "../_helpers/store_config.ts";

function payload(i: number): Uint8Array {
  const p = new Uint8Array(120 + (i % 41));
  for (let j = 0; j < p.length; j++) p[j] = (i * 17 + j) & 0xff;
  return p;
}

const hdr = new TextEncoder().encode("NATS/1.0\r\nX: 1\r\n\r\n");

Deno.test("FileStore borrowed loads: every message as stored, across evictions that reuse block buffers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-fsb-" });
  try {
    const cfg = storeConfig({ name: "borrow", storage: "file", compression: "none" });
    // One block in the cache at a time: each load of another block evicts the previous one, and blocks are
    // large enough for their buffers to be kept as spares and read into again.
    const st = new FileStore(cfg, { dir, blockSize: 96 * 1024, blockCacheBytes: 128 * 1024 });
    const N = 3000;
    for (let i = 1; i <= N; i++) st.storeMsg(`s.${i % 4}`, i % 3 === 0 ? hdr : undefined, payload(i));
    await st.flushed(N);
    let n = 0;
    for (let m = st.loadNextMsg(">", 1, true); m !== undefined; m = st.loadNextMsg(">", m.seq + 1, true)) {
      assertEquals(m.msg, payload(m.seq), `payload of ${m.seq}`);
      assertEquals(m.hdr, m.seq % 3 === 0 ? hdr : undefined);
      assertEquals(m.subject, `s.${m.seq % 4}`);
      n++;
    }
    assertEquals(n, N);
    assert(st.cacheStats()!.misses >= 4, "several blocks were loaded");
    // The last view lent out keeps its bytes while other blocks are loaded and evicted (owned loads).
    const lent = st.loadNextMsg("s.1", 1, true)!;
    const want = payload(lent.seq);
    for (let i = N; i > N / 3; i -= 97) assertEquals(st.loadMsg(i)!.msg, payload(i));
    assertEquals(lent.msg, want, "the lent block's buffer was read into again");
    // Owned loads stay copies of their own (filestore_cache_test.ts).
    const own = st.loadNextMsg("s.1", 1)!;
    assertEquals(own.msg.buffer.byteLength, own.msg.length + (own.hdr?.length ?? 0));
    st.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MemStore borrowed loads: the same message as an owned load", () => {
  const st = new MemStore(storeConfig({ name: "borrow", storage: "memory" }));
  for (let i = 1; i <= 50; i++) st.storeMsg(`s.${i % 4}`, i % 3 === 0 ? hdr : undefined, payload(i));
  for (let s = 1; s <= 50; s++) {
    const a = st.loadNextMsg("s.2", s, true);
    const b = st.loadNextMsg("s.2", s);
    assertEquals(a?.seq, b?.seq);
    assertEquals(a?.msg, b?.msg);
    assertEquals(a?.hdr, b?.hdr);
  }
  st.stop();
});
