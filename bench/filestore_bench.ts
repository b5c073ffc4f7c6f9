// deno-lint-ignore-file no-console
// FileStore figures: append rate with group commit (fsync before ack) and with a sync interval, load rate,
// and recovery time of 1 M 128-byte messages after a clean stop and after SIGKILL of a writer process.
// Run: deno run -A bench/filestore_bench.ts [N]   (N messages, default 1 000 000)
// The file-stream publish comparison with nats-server is `deno task bench --only js-async-file,js-sync-file`.
import { FileStore } from "../src/store/filestore.ts";
import type { StoreConfig } from "../src/store/store.ts";
import { storeConfig } from "../tests/_helpers/store_config.ts";

const N = Number(Deno.args[0] ?? 1_000_000);
const cfg: StoreConfig = storeConfig({ name: "bench", storage: "file" });
const payload = new Uint8Array(128).fill(0x61);

if (Deno.args[1] === "--child") {
  // Writer for the SIGKILL case: fills the store, says so, then keeps appending until killed.
  const st = new FileStore(cfg, { dir: Deno.args[2] });
  for (let i = 0; i < N; i++) {
    st.storeMsg(`orders.${i & 63}`, undefined, payload);
    if (i % 4096 === 4095) await st.flushed(i + 1);
  }
  await st.flushed(N);
  console.log("filled");
  for (let i = 0;; i++) {
    st.storeMsg("more", undefined, payload);
    if (i % 256 === 0) await new Promise((r) => setTimeout(r, 0));
  }
}

async function appendRun(label: string, opts: { syncIntervalMs?: number }, window: number): Promise<string> {
  const dir = Deno.makeTempDirSync({ prefix: "natsdeno-fsb-" });
  const st = new FileStore(cfg, { dir, ...opts });
  const t0 = performance.now();
  let pending: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    const { seq } = st.storeMsg(`orders.${i & 63}`, undefined, payload);
    const p = st.flushed(seq);
    if (p !== undefined && (pending.length === 0 || pending[pending.length - 1] !== p)) pending.push(p);
    if (i % window === window - 1) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  const ms = performance.now() - t0;
  const t1 = performance.now();
  let bytes = 0;
  for (let q = 1; q <= N; q++) bytes += st.loadMsg(q)!.msg.length;
  const lms = performance.now() - t1;
  st.stop();
  Deno.removeSync(dir, { recursive: true });
  return `${label}: append ${(N / ms * 1000 / 1e6).toFixed(2)} M msgs/s, load ${
    (N / lms * 1000 / 1e6).toFixed(2)
  } M msgs/s (${bytes} B read)`;
}

console.log(await appendRun(`group commit, ${4000} in flight`, {}, 4000));
console.log(await appendRun("sync_interval 2m", { syncIntervalMs: 120_000 }, 4000));

// Recovery after a clean stop.
{
  const dir = Deno.makeTempDirSync({ prefix: "natsdeno-fsr-" });
  const st = new FileStore(cfg, { dir });
  for (let i = 0; i < N; i++) st.storeMsg(`orders.${i & 63}`, undefined, payload);
  await st.flushed(N);
  st.stop();
  const t0 = performance.now();
  const st2 = new FileStore(cfg, { dir });
  const ms = performance.now() - t0;
  console.log(`recovery after clean stop: ${st2.state().msgs} msgs in ${ms.toFixed(0)} ms`);
  st2.stop();
  Deno.removeSync(dir, { recursive: true });
}

// Recovery after SIGKILL of a writer.
{
  const dir = Deno.makeTempDirSync({ prefix: "natsdeno-fsk-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, String(N), "--child", dir],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  let out = "";
  while (!out.includes("filled")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  await new Promise((r) => setTimeout(r, 200));
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  const t0 = performance.now();
  const st = new FileStore(cfg, { dir, logger: { warn: () => {}, error: console.error } });
  const ms = performance.now() - t0;
  console.log(`recovery after SIGKILL: ${st.state().msgs} msgs in ${ms.toFixed(0)} ms`);
  st.stop();
  Deno.removeSync(dir, { recursive: true });
}
