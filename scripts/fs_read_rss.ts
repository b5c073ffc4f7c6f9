// deno-lint-ignore-file no-console
// Memory of a FileStore read from start to end: RSS while a reader walks a large file stream (default
// 1,000,000 messages of 1,000 bytes, about 1 GB), and the index cost per message. Two phases, each its own
// process (each well under a minute of CPU on this machine):
//   deno run -A --v8-flags=--expose-gc scripts/fs_read_rss.ts write <dir> [msgs] [size] [plain|s2|aes|aes-s2]
//   deno run -A --v8-flags=--expose-gc scripts/fs_read_rss.ts read <dir> [cacheMiB] [plain|s2|aes|aes-s2]
// `read` opens the store (recovery), reports RSS and heap before and after the open (the index), then reads
// every message in order with loadNextMsg, copying each payload as a consumer delivery does, and samples RSS
// every 10,000 messages. The bound to expect: RSS after open + block cache limit + a small constant.

import { FileStore } from "../src/store/filestore.ts";
import type { StoreConfig } from "../src/store/store.ts";
import { storeConfig } from "../tests/_helpers/store_config.ts";

const [mode, dir, a1, a2, a3] = Deno.args;
const variant = (mode === "write" ? a3 : a2) ?? "plain";
const encryption = variant.startsWith("aes")
  ? { key: "rss-key", cipher: "aes" as const, account: "$G" }
  : undefined;
if ((mode !== "write" && mode !== "read") || dir === undefined) {
  console.error("usage: fs_read_rss.ts write <dir> [msgs] [size] | read <dir> [cacheMiB]");
  Deno.exit(2);
}

const cfg: StoreConfig = storeConfig({
  name: "rss",
  storage: "file",
  subjects: ["rss.>"],
  compression: variant.endsWith("s2") ? "s2" : "none",
});

const gc = (globalThis as { gc?: () => void }).gc;
const MiB = 1024 * 1024;

function mem(): { rss: number; heap: number; ext: number } {
  gc?.();
  const m = Deno.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, ext: m.external };
}

function fmt(n: number): string {
  return `${(n / MiB).toFixed(1)} MiB`;
}

if (mode === "write") {
  const n = Number(a1 ?? 1_000_000);
  const size = Number(a2 ?? 1000);
  const st = new FileStore(cfg, { dir, encryption });
  const body = new Uint8Array(size);
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) {
    body[0] = i & 0xff;
    body[1] = (i >> 8) & 0xff;
    st.storeMsg(`rss.${i % 100}`, undefined, body);
    if (i % 2000 === 0) await st.flushed(i);
  }
  await st.flushed(n);
  st.stop();
  console.log(`wrote ${n} messages of ${size} B in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
} else {
  const cacheMiB = Number(a1 ?? 32);
  const m0 = mem();
  const t0 = performance.now();
  const st = new FileStore(cfg, { dir, encryption, blockCacheBytes: cacheMiB * MiB });
  const tOpen = performance.now() - t0;
  const m1 = mem();
  const msgs = st.fastState().msgs;
  console.log(`open: ${msgs} msgs in ${(tOpen / 1000).toFixed(2)} s`);
  console.log(`before open: rss ${fmt(m0.rss)} heap ${fmt(m0.heap)} external ${fmt(m0.ext)}`);
  console.log(
    `after open:  rss ${fmt(m1.rss)} heap ${fmt(m1.heap)} external ${fmt(m1.ext)}; index ` +
      `${((m1.heap - m0.heap) / msgs).toFixed(1)} heap bytes/msg`,
  );
  let peak = 0;
  let peakAt = 0;
  let seq = 1;
  let count = 0;
  let sum = 0;
  const out = new Uint8Array(64 * 1024);
  const t1 = performance.now();
  for (;;) {
    const m = st.loadNextMsg("", seq);
    if (m === undefined) break;
    // A delivery copies the payload into the connection's outbound buffer.
    out.set(m.msg.subarray(0, Math.min(m.msg.length, out.length)));
    sum += out[0];
    seq = m.seq + 1;
    if (++count % 10_000 === 0) {
      const r = Deno.memoryUsage().rss;
      if (r > peak) {
        peak = r;
        peakAt = count;
      }
    }
  }
  const tRead = performance.now() - t1;
  const m2 = mem();
  const cs = st.cacheStats();
  console.log(
    `read ${count} msgs in ${(tRead / 1000).toFixed(2)} s; peak rss ${fmt(peak)} at msg ${peakAt} ` +
      `(+${fmt(peak - m1.rss)} over after-open; cache limit ${cacheMiB} MiB); after read rss ${
        fmt(m2.rss)
      } ` +
      `heap ${fmt(m2.heap)} external ${fmt(m2.ext)}; cache ${
        cs ? `${fmt(cs.bytes)} in ${cs.blocks} blocks, ${cs.misses} loads` : "off"
      }`,
  );
  st.stop();
  void sum;
}
