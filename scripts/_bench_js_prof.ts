// deno-lint-ignore-file no-console
// Profiling launcher for the JetStream hot paths: natsdeno with JetStream (same options as the CLI's -js -sd),
// SIGINT/SIGTERM → Deno.exit(0) so that `deno run --cpu-prof` writes its .cpuprofile. Usage:
//   deno run -A --cpu-prof --cpu-prof-dir=/tmp/jsprof scripts/_bench_js_prof.ts <port> &
//   deno task bench --only js-consume-mem --no-ref --server-cmd "sleep 1d" … (or any client), then kill -INT.

import { defaultOptions, startServer } from "../src/natsdeno.ts";
import { Logger } from "../src/util/mod.ts";

const port = Number(Deno.args[0] ?? 4222);
const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-prof-js-" });
const opts = defaultOptions({ host: "127.0.0.1", port, jetStream: true, storeDir });
const s = await startServer(opts, { log: new Logger({ quiet: true }, false) });
console.log(`listening on ${s.port}`);
const stop = (): void => {
  Deno.removeSync(storeDir, { recursive: true });
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
