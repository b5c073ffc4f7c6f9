// deno-lint-ignore-file no-console
// Server RSS while a JetStream consumer reads a large file stream from start to end. The server runs as a
// subprocess (main.ts) so that its RSS is its own; the stream (default 1,000,000 messages of 1,000 B,
// about 1 GB) is created through the API, then filled through FileStore directly while the server is down
// (publishing a million messages through a client would take minutes of both cores), then the server is
// restarted, recovers it, and an ordered consumer reads everything. RSS is read from /proc every 0.25 s.
//   deno run -A scripts/fs_consume_rss.ts <dir> [msgs] [size]

import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { FileStore } from "../src/store/filestore.ts";
import { storeConfig } from "../tests/_helpers/store_config.ts";

const dir = Deno.args[0];
const n = Number(Deno.args[1] ?? 1_000_000);
const size = Number(Deno.args[2] ?? 1000);
if (dir === undefined) {
  console.error("usage: fs_consume_rss.ts <dir> [msgs] [size]");
  Deno.exit(2);
}
const MiB = 1024 * 1024;
const port = 14222 + Math.floor(Math.random() * 1000);
const main = new URL("../main.ts", import.meta.url).pathname;

function startServer(): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", main, "-js", "-sd", dir, "-a", "127.0.0.1", "-p", String(port)],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m === null ? 0 : Number(m[1]) * 1024;
}

async function connectWhenUp() {
  for (let i = 0;; i++) {
    try {
      return await connect({ servers: `127.0.0.1:${port}` });
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function stop(p: Deno.ChildProcess): Promise<void> {
  p.kill("SIGTERM");
  await p.status;
}

const streamDir = `${dir}/jetstream/$G/streams/RSS`;
let exists = false;
try {
  exists = Deno.statSync(`${streamDir}/meta.inf`).isFile;
} catch {
  // A new stream.
}
if (!exists) {
  let srv = startServer();
  let nc = await connectWhenUp();
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "RSS", subjects: ["rss.>"], storage: "file" as never });
  await nc.close();
  await stop(srv);
  const st = new FileStore(storeConfig({ name: "RSS", storage: "file", subjects: ["rss.>"] }), {
    dir: streamDir,
  });
  const body = new Uint8Array(size);
  for (let i = 1; i <= n; i++) {
    body[0] = i & 0xff;
    st.storeMsg(`rss.${i % 100}`, undefined, body);
    if (i % 2000 === 0) await st.flushed(i);
  }
  await st.flushed(n);
  st.stop();
  console.log(`filled ${n} messages of ${size} B`);
  srv = startServer();
  nc = await connectWhenUp();
  await nc.close();
  await stop(srv);
}

const srv = startServer();
const nc = await connectWhenUp();
const t0 = performance.now();
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
const info = await jsm.streams.info("RSS");
const rss0 = rssOf(srv.pid);
console.log(
  `server up with ${info.state.messages} msgs (${(info.state.bytes / MiB).toFixed(0)} MiB) in ` +
    `${((performance.now() - t0) / 1000).toFixed(1)} s; server rss ${(rss0 / MiB).toFixed(1)} MiB`,
);
let peak = rss0;
let peakAt = 0;
let got = 0;
const timer = setInterval(() => {
  const r = rssOf(srv.pid);
  if (r > peak) {
    peak = r;
    peakAt = got;
  }
}, 250);
const c = await js.consumers.get("RSS");
const it = await c.consume({ max_messages: 1000 });
const t1 = performance.now();
for await (const m of it) {
  got++;
  if (m.seq >= info.state.last_seq) break;
}
const secs = (performance.now() - t1) / 1000;
clearInterval(timer);
const end = rssOf(srv.pid);
console.log(
  `consumed ${got} msgs in ${secs.toFixed(1)} s; server rss peak ${
    (peak / MiB).toFixed(1)
  } MiB at msg ${peakAt} ` +
    `(+${((peak - rss0) / MiB).toFixed(1)} MiB over idle), at end ${(end / MiB).toFixed(1)} MiB`,
);
await nc.close();
await stop(srv);
