// Store benchmarks: append and load of 128-byte messages (MemStore, FileStore) and memory per 1M
// messages. Run: deno bench -A bench/store_bench.ts (memory figure: deno run -A --v8-flags=--expose-gc
// bench/store_bench.ts).
import { MemStore } from "../src/store/memstore.ts";
import { FileStore } from "../src/store/filestore.ts";
import type { StoreConfig, StreamStore } from "../src/store/store.ts";
import { storeConfig } from "../tests/_helpers/store_config.ts";

const cfg: StoreConfig = storeConfig({ name: "bench" });
const payload = new Uint8Array(128).fill(0x61);
const N = 100_000;

function fill(st: StreamStore, n: number): void {
  for (let i = 0; i < n; i++) st.storeMsg(`orders.${i & 63}`, undefined, payload);
}

Deno.bench({ name: "MemStore.storeMsg 128 B (100k per iteration)", n: 20 }, () => {
  const st = new MemStore(cfg);
  fill(st, N);
  st.stop();
});

Deno.bench({ name: "MemStore storeMsg 128 B with max_msgs 10k (steady-state discard)", n: 20 }, () => {
  const st = new MemStore({ ...cfg, maxMsgs: 10_000 });
  fill(st, N);
  st.stop();
});

const loaded = new MemStore(cfg);
fill(loaded, N);

Deno.bench({ name: "MemStore.loadMsg 128 B (100k per iteration)", n: 20 }, () => {
  for (let seq = 1; seq <= N; seq++) loaded.loadMsg(seq);
});

Deno.bench({ name: "MemStore.loadNextMsg literal filter, 1 in 64 (walk 100k)", n: 20 }, () => {
  for (let m = loaded.loadNextMsg("orders.7", 0); m; m = loaded.loadNextMsg("orders.7", m.seq + 1));
});

Deno.bench({ name: "MemStore.loadNextMsg wildcard filter matching all (walk 100k)", n: 20 }, () => {
  for (let m = loaded.loadNextMsg("orders.*", 0); m; m = loaded.loadNextMsg("orders.*", m.seq + 1));
});

Deno.bench({ name: "MemStore.numPending literal filter mid-stream (x1000)", n: 20 }, () => {
  for (let i = 0; i < 1000; i++) loaded.numPending(50_000, "orders.7", false);
});

Deno.bench(
  { name: "FileStore.storeMsg 128 B + one flushed() (100k per iteration)", n: 5 },
  async () => {
    const dir = Deno.makeTempDirSync({ prefix: "natsdeno-bench-" });
    const st = new FileStore({ ...cfg, storage: "file" }, { dir });
    fill(st, N);
    await st.flushed(N);
    st.stop();
    Deno.removeSync(dir, { recursive: true });
  },
);

// Memory per 1M messages (run as a script with --v8-flags=--expose-gc).
if (import.meta.main) {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  gc();
  const before = Deno.memoryUsage();
  const st = new MemStore(cfg);
  const t0 = performance.now();
  fill(st, 1_000_000);
  const t1 = performance.now();
  gc();
  const after = Deno.memoryUsage();
  const heap = after.heapUsed - before.heapUsed;
  const ext = after.external - before.external;
  const rss = after.rss - before.rss;
  const per = (heap + ext) / 1e6;
  // deno-lint-ignore no-console -- a script report, like deno bench output
  console.log(
    `1M x 128 B: stored in ${(t1 - t0).toFixed(0)} ms; heap +${(heap / 2 ** 20).toFixed(1)} MiB, external ` +
      `+${(ext / 2 ** 20).toFixed(1)} MiB, rss +${(rss / 2 ** 20).toFixed(1)} MiB; ${per.toFixed(0)} B/msg ` +
      `(${(per - 128).toFixed(0)} B over the payload)`,
  );
  st.stop();
}
