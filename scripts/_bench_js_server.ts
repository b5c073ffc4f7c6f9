// deno-lint-ignore-file no-console
// A natsdeno server with JetStream on MemStore for the JetStream benchmarks, until the CLI wires the stores:
// `deno run -A scripts/_bench_js_server.ts <port>`.

import { defaultOptions, startServer } from "../src/natsdeno.ts";
import { MemStore } from "../src/store/memstore.ts";
import { Logger } from "../src/util/mod.ts";

const port = Number(Deno.args[0] ?? 4222);
const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-bench-js-" });
const opts = defaultOptions({ host: "127.0.0.1", port, jetStream: true, storeDir });
const s = await startServer(opts, {
  log: new Logger({ quiet: true }, false),
  newStreamStore: (cfg) => new MemStore(cfg),
});
console.log(`listening on ${s.port}`);
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));

// BENCH_PENDING=N: load a consumer with N pending acks in a child process before the benchmark starts.
const pending = Number(Deno.env.get("BENCH_PENDING") ?? 0);
if (pending > 0) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_bench_js_pending.ts", import.meta.url).pathname,
      String(s.port),
      String(pending),
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  globalThis.addEventListener("unload", () => child.kill());
}
