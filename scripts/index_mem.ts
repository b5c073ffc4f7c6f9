// deno-lint-ignore-file no-console
// Heap bytes per message of the store index (MemStore's, which FileStore uses): 1,000,000 messages of 16 B
// over 100 subjects, heap measured after a full GC before and after. Payload bytes live in slabs outside
// the JS heap and typed-array columns outside it too, so the index is the growth of heap + external memory
// minus the payload bytes (16 per message).
//   deno run -A --v8-flags=--expose-gc scripts/index_mem.ts [msgs] [subjects]

import { MemStore } from "../src/store/memstore.ts";
import { storeConfig } from "../tests/_helpers/store_config.ts";

const n = Number(Deno.args[0] ?? 1_000_000);
const subjects = Number(Deno.args[1] ?? 100);
const gc = (globalThis as { gc?: () => void }).gc!;
const subj = Array.from({ length: subjects }, (_, i) => `idx.${i}`);
const st = new MemStore(storeConfig({ name: "idx", subjects: ["idx.>"] }));
const body = new Uint8Array(16);
function used(): number {
  gc();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}
const h0 = used();
const t0 = performance.now();
for (let i = 0; i < n; i++) st.storeMsg(subj[i % subjects], undefined, body);
const t1 = performance.now();
const h1 = used();
let seq = 1;
let c = 0;
const t2 = performance.now();
for (let m = st.loadNextMsg("", seq); m !== undefined; m = st.loadNextMsg("", seq)) {
  seq = m.seq + 1;
  c++;
}
const t3 = performance.now();
console.log(
  `${n} msgs, ${subjects} subjects: index ${
    ((h1 - h0 - n * body.length) / n).toFixed(1)
  } bytes/msg (heap + external - payload); store ` +
    `${((t1 - t0) * 1e6 / n).toFixed(0)} ns/msg, loadNextMsg ${((t3 - t2) * 1e6 / c).toFixed(0)} ns/msg`,
);
st.stop();
