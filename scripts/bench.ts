// deno-lint-ignore-file no-console
// Core-NATS benchmark of natsdeno against nats-server: the same scenarios on both, interleaved,
// with a raw-protocol client in two workers (publishers, subscribers) so that the client is not
// the bottleneck. Usage: `deno task bench [--only pub,reqrep-128] [--runs N] [--msgs F] [--json]
// [--server-cmd "cmd … {PORT}"] [--no-ref]`; see --help. JetStream cases (js-async, js-sync, js-consume on
// memory and file streams) are in scripts/_bench_js.ts; `--js-load` measures core pub/sub under a loaded
// stream and consumer.

import { parseArgs } from "node:util";
import { BenchServer, firstLine, freePort, machineFacts, splitCommand } from "./_bench_server.ts";
import {
  type CaseDef,
  type CaseSummary,
  markdown,
  median,
  percentile,
  type RunResult,
  summarize,
} from "./_bench_report.ts";
import {
  AdminConn,
  isJsCase,
  JS_BATCH,
  JS_WINDOW,
  JsApiError,
  jsCases,
  loadPending,
  runJs,
} from "./_bench_js.ts";

const HELP = `deno task bench [options]

Starts natsdeno (deno run -A main.ts -a 127.0.0.1 -p <port>) as B and, when nats-server is on PATH,
the reference (nats-server -a 127.0.0.1 -p <port>) as A; runs every case on both, interleaved
(A B A B …), and prints medians with the ratio B/A.

Options:
  --only LIST        cases or scenarios, comma-separated (pub,pubsub,fanout,queue,reqrep or e.g. pub-16;
                     js for every JetStream case, js-async,js-sync,js-consume or e.g. js-async-mem; core
                     for every non-JetStream case)
  --runs N           timed runs per case and server (default 3)
  --msgs F           scale every message count by F (default 1; 0.1 for a quick look)
  --json             print the results as JSON instead of markdown
  --server-cmd CMD   bench CMD as B instead of natsdeno; {PORT} is replaced, or
                     "-a 127.0.0.1 -p <port>" is appended when CMD has no {PORT}
  --no-ref           do not start nats-server (B alone)
  --names A,B        labels of the two servers (default nats-server,natsdeno)
  --no-warmup        skip the untimed warm-up run (10% of the count) per case and server
  --timeout S        fail a run after S seconds (default 60), or after 10 s without progress
  --list             list the cases and exit
  --js-load M,P      instead of the cases: core pub/sub (pubsub-128, or --only core cases) without load, then
                     with a memory stream of M messages and a pull consumer holding P unacked deliveries
                     (default 1000000,100000; loaded before timing), then without again; prints the ratio
  --js-ack-wait MS   ack wait of the --js-load consumer (default 5000: expiries happen while timing)

JetStream: when a js case is selected (or --js-load), both servers run with JetStream: nats-server -js -sd
<tmp>, natsdeno main.ts -js -sd <tmp>. Each JetStream run creates stream BENCH (128 B messages): js-async
publishes with ${JS_WINDOW} PubAcks in flight, js-sync one at a time (latency), js-consume pulls a pre-filled
stream in MSG.NEXT batches of ${JS_BATCH} with +ACK per message; counts, stream state and the consumer's ack
floor are checked after each run. A server that refuses a storage type shows NA.
`;

/** Counts at scale 1: sized so that the Go server spends about 0.5-1 s per run on 2 cores. */
const SCENARIOS: Array<{ scenario: string; counts: Record<number, number> }> = [
  { scenario: "pub", counts: { 16: 5_000_000, 128: 3_000_000, 1024: 1_000_000 } },
  { scenario: "pubsub", counts: { 16: 2_000_000, 128: 1_000_000, 1024: 500_000 } },
  { scenario: "fanout", counts: { 16: 500_000, 128: 300_000, 1024: 100_000 } },
  { scenario: "queue", counts: { 16: 1_500_000, 128: 1_000_000, 1024: 500_000 } },
  { scenario: "reqrep", counts: { 16: 10_000, 128: 10_000, 1024: 10_000 } },
];
const SIZE_NAMES: Record<number, string> = { 16: "16", 128: "128", 1024: "1K" };
const FANOUT_SUBS = 5;
const QUEUE_SUBS = 3;

const ROOT = new URL("..", import.meta.url).pathname;

interface Opts {
  only: string[];
  runs: number;
  scale: number;
  json: boolean;
  serverCmd?: string;
  noRef: boolean;
  names: [string, string];
  warmup: boolean;
  timeoutMs: number;
  jsLoad?: { msgs: number; pending: number; ackWaitMs: number };
}

function parseOpts(): Opts | undefined {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string" },
      runs: { type: "string" },
      msgs: { type: "string" },
      json: { type: "boolean" },
      "server-cmd": { type: "string" },
      "no-ref": { type: "boolean" },
      names: { type: "string" },
      "no-warmup": { type: "boolean" },
      timeout: { type: "string" },
      list: { type: "boolean" },
      "js-load": { type: "string" },
      "js-ack-wait": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return undefined;
  }
  if (values.list) {
    for (const c of allCases(1)) console.log(`${c.name.padEnd(12)} ${c.msgs}`);
    return undefined;
  }
  const runs = Number(values.runs ?? 3);
  const scale = Number(values.msgs ?? 1);
  const timeout = Number(values.timeout ?? 60);
  if (!(runs >= 1) || !(scale > 0) || !(timeout > 0)) {
    throw new Error("--runs, --msgs and --timeout must be positive");
  }
  const names = (values.names ?? "").split(",");
  return {
    only: values.only ? values.only.split(",").map((s) => s.trim()).filter(Boolean) : [],
    runs: Math.floor(runs),
    scale,
    json: values.json ?? false,
    serverCmd: values["server-cmd"],
    noRef: values["no-ref"] ?? false,
    names: [
      names[0] || "nats-server",
      names[1] || (values["server-cmd"] ? `B: ${splitCommand(values["server-cmd"])[0]}` : "natsdeno"),
    ],
    warmup: !values["no-warmup"],
    timeoutMs: timeout * 1000,
    jsLoad: values["js-load"] === undefined ? undefined : {
      msgs: Number(values["js-load"].split(",")[0] || 1_000_000),
      pending: Number(values["js-load"].split(",")[1] || 100_000),
      ackWaitMs: Number(values["js-ack-wait"] ?? 5000),
    },
  };
}

function allCases(scale: number): CaseDef[] {
  return [
    ...SCENARIOS.flatMap(({ scenario, counts }) =>
      [16, 128, 1024].map((size) => ({
        name: `${scenario}-${SIZE_NAMES[size]}`,
        scenario,
        size,
        msgs: Math.max(1, Math.round(counts[size] * scale)),
      }))
    ),
    ...jsCases(scale),
  ];
}

function selected(c: CaseDef, only: string[]): boolean {
  return only.length === 0 || only.includes(c.name) || only.includes(c.scenario) ||
    (only.includes("js") && isJsCase(c)) || (only.includes("core") && !isJsCase(c));
}

/** Request/response over postMessage to one benchmark worker. */
class WorkerClient {
  #w: Worker;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(name: string, file = "./_bench_worker.ts") {
    this.#w = new Worker(new URL(file, import.meta.url).href, { type: "module", name });
    this.#w.onmessage = (e: MessageEvent<{ id: number; ok: boolean; result?: unknown; error?: string }>) => {
      const p = this.#pending.get(e.data.id);
      if (!p) return;
      this.#pending.delete(e.data.id);
      if (e.data.ok) p.resolve(e.data.result);
      else p.reject(new Error(e.data.error));
    };
    this.#w.onerror = (e) => {
      e.preventDefault();
      for (const p of this.#pending.values()) p.reject(new Error(`worker ${name} crashed: ${e.message}`));
      this.#pending.clear();
    };
  }

  call<T>(op: string, args: unknown): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#w.postMessage({ id, op, args });
    });
  }

  terminate(): void {
    this.#w.terminate();
  }
}

const IDLE_MS = 10_000;
const CHUNK_BYTES = 64 * 1024;
const INFLIGHT = 8;

let runSeq = 0;

/** One run of one case against one server; throws on loss, errors and timeouts. */
async function runOnce(
  s: BenchServer,
  c: CaseDef,
  msgs: number,
  pub: WorkerClient,
  sub: WorkerClient,
  timeoutMs: number,
  jsw?: WorkerClient,
): Promise<Omit<RunResult, "server" | "case" | "rep" | "ok" | "msgs">> {
  if (isJsCase(c)) return await runJs(s.port, c, msgs, jsw!, () => s.cpuSeconds(), timeoutMs);
  const subject = `bench.${c.scenario}.${++runSeq}`;
  const port = s.port;
  const pubArgs = {
    port,
    subject,
    size: c.size,
    count: msgs,
    chunkBytes: CHUNK_BYTES,
    inflight: INFLIGHT,
    timeoutMs: IDLE_MS,
    deadlineMs: timeoutMs,
  };
  if (c.scenario === "pub") {
    const cpu0 = s.cpuSeconds();
    const r = await pub.call<{ start: number; end: number }>("publish", pubArgs);
    const cpu1 = s.cpuSeconds();
    return rates(msgs, r.end - r.start, cpu1 - cpu0);
  }
  if (c.scenario === "reqrep") {
    const h = await sub.call<number>("replier", { port, subject, size: c.size });
    let replied = 0;
    try {
      const cpu0 = s.cpuSeconds();
      const r = await pub.call<{ start: number; end: number; lat: Float64Array }>("request", pubArgs);
      const cpu1 = s.cpuSeconds();
      const lat = r.lat.sort();
      return {
        ...rates(msgs, r.end - r.start, cpu1 - cpu0),
        p50Us: percentile(lat, 50),
        p90Us: percentile(lat, 90),
        p99Us: percentile(lat, 99),
      };
    } finally {
      replied = await sub.call<number>("closeReplier", { h });
      if (replied !== msgs) console.error(`#   replier answered ${replied} requests, expected ${msgs}`);
    }
  }
  const n = c.scenario === "fanout" ? FANOUT_SUBS : c.scenario === "queue" ? QUEUE_SUBS : 1;
  const target = c.scenario === "fanout" ? msgs * n : msgs;
  const h = await sub.call<number>("subscribe", {
    port,
    subject,
    queue: c.scenario === "queue" ? "q" : undefined,
    n,
    size: c.size,
    target,
  });
  let fin: { counts: number[]; badSize: number; errors: string[] } | undefined;
  try {
    const cpu0 = s.cpuSeconds();
    const [p, w] = await Promise.all([
      pub.call<{ start: number; end: number }>("publish", pubArgs),
      sub.call<{ doneAt: number }>("waitCount", { h, idleMs: IDLE_MS, deadlineMs: timeoutMs }),
    ]);
    const cpu1 = s.cpuSeconds();
    fin = await sub.call("finishGroup", { h });
    verifyCounts(c.scenario, msgs, target, fin!);
    return rates(msgs, Math.max(w.doneAt, p.end) - p.start, cpu1 - cpu0);
  } finally {
    if (!fin) await sub.call("finishGroup", { h }).catch(() => {});
  }
}

function rates(msgs: number, ms: number, cpuS: number) {
  return { elapsedS: ms / 1000, msgsPerS: msgs / (ms / 1000), cpuNsPerMsg: (cpuS * 1e9) / msgs };
}

function verifyCounts(
  scenario: string,
  msgs: number,
  target: number,
  fin: { counts: number[]; badSize: number; errors: string[] },
): void {
  const total = fin.counts.reduce((a, b) => a + b, 0);
  const problems: string[] = [];
  if (fin.errors.length) problems.push(`server errors: ${fin.errors.join("; ")}`);
  if (total !== target) {
    problems.push(`received ${total} of ${target} (${total < target ? "LOSS" : "DUPLICATES"})`);
  }
  if (scenario === "fanout" && fin.counts.some((n) => n !== msgs)) {
    problems.push(`fan-out subscribers got ${fin.counts.join(",")}, each should get ${msgs}`);
  }
  if (scenario === "queue" && fin.counts.filter((n) => n > 0).length < Math.min(2, fin.counts.length)) {
    problems.push(`queue group not balanced at all: ${fin.counts.join(",")}`);
  }
  if (fin.badSize) problems.push(`${fin.badSize} messages had the wrong payload size`);
  if (problems.length) throw new Error(problems.join("; "));
}

function fmtRun(r: RunResult): string {
  if (r.na) return `NA ${r.error}`;
  if (!r.ok) return `FAIL ${r.error}`;
  const lat = r.p50Us !== undefined
    ? `, p50 ${r.p50Us.toFixed(1)} p90 ${r.p90Us!.toFixed(1)} p99 ${r.p99Us!.toFixed(1)} µs`
    : "";
  return `${Math.round(r.msgsPerS!).toLocaleString("en-US")} msgs/s in ${r.elapsedS!.toFixed(2)} s, ` +
    `CPU ${Math.round(r.cpuNsPerMsg!)} ns/msg${lat}`;
}

/**
 * --js-load: core pub/sub without load, with a loaded stream and consumer, and without again (the load
 * stream deleted), on every server; prints the ratio loaded/unloaded of the median msgs/s.
 */
async function jsLoadMain(
  opts: Opts,
  servers: BenchServer[],
  c: CaseDef,
  pub: WorkerClient,
  sub: WorkerClient,
  jsw: WorkerClient,
): Promise<number> {
  const cfg = opts.jsLoad!;
  const facts = machineFacts();
  const rows: string[] = [];
  let failed = 0;
  const phase = async (s: BenchServer, name: string): Promise<number[]> => {
    const xs: number[] = [];
    for (let rep = 1; rep <= opts.runs; rep++) {
      try {
        const r = await runOnce(s, c, c.msgs, pub, sub, opts.timeoutMs);
        xs.push(r.msgsPerS!);
        console.error(
          `# ${c.name} ${s.label.padEnd(12)} ${name.padEnd(9)} rep ${rep}: ` +
            `${Math.round(r.msgsPerS!).toLocaleString("en-US")} msgs/s, CPU ${
              Math.round(r.cpuNsPerMsg!)
            } ns/msg`,
        );
      } catch (e) {
        failed++;
        console.error(`# ${c.name} ${s.label} ${name} rep ${rep}: FAIL ${(e as Error).message}`);
      }
    }
    return xs;
  };
  for (const s of servers) {
    if (opts.warmup) await runOnce(s, c, Math.max(1, Math.round(c.msgs / 10)), pub, sub, opts.timeoutMs);
    const before = await phase(s, "unloaded");
    const t0 = performance.now();
    const what = await loadPending(s.port, jsw, cfg.msgs, cfg.pending, cfg.ackWaitMs);
    console.error(`# ${s.label}: loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${what}`);
    const loaded = await phase(s, "loaded");
    const adm = await AdminConn.open(s.port);
    await adm.request("$JS.API.STREAM.DELETE.LOAD").catch(() => {});
    adm.close();
    const after = await phase(s, "unloaded");
    const un = median([...before, ...after]);
    const lo = median(loaded);
    rows.push(
      `| ${s.label} | ${fmtN(median(before))} | ${fmtN(lo)} | ${fmtN(median(after))} | ` +
        `${un && lo ? (lo / un).toFixed(2) : "-"} |`,
    );
  }
  console.log([
    `## natsdeno bench --js-load, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `Machine: ${facts.nproc} cores, ${facts.cpu}; load average ${facts.load}. Case ${c.name} (${c.msgs} msgs), ` +
    `${opts.runs} runs per phase. Load: memory stream of ${cfg.msgs} msgs (128 B) and a pull consumer with ` +
    `${cfg.pending} unacked deliveries (ack_wait ${cfg.ackWaitMs} ms), loaded before timing.`,
    "",
    "| server | unloaded msgs/s | loaded msgs/s | unloaded again msgs/s | loaded/unloaded |",
    "|---|---:|---:|---:|---:|",
    ...rows,
  ].join("\n"));
  return failed ? 1 : 0;
}

function fmtN(v: number | undefined): string {
  return v === undefined ? "-" : Math.round(v).toLocaleString("en-US");
}

function onPath(cmd: string): boolean {
  try {
    return new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const opts = parseOpts();
  if (!opts) return 0;
  let cases = allCases(opts.scale).filter((c) => selected(c, opts.only));
  if (opts.jsLoad) {
    cases = cases.filter((c) => !isJsCase(c) && opts.only.length > 0);
    if (cases.length === 0) cases = allCases(opts.scale).filter((c) => c.name === "pubsub-128");
  }
  if (cases.length === 0) throw new Error(`--only ${opts.only.join(",")} matches no case (see --list)`);
  const withJs = opts.jsLoad !== undefined || cases.some(isJsCase);
  const tmpDirs: string[] = [];
  const storeDir = (): string[] => {
    if (!withJs) return [];
    const d = Deno.makeTempDirSync({ prefix: "natsdeno-bench-js-" });
    tmpDirs.push(d);
    return ["-js", "-sd", d];
  };

  const servers: BenchServer[] = [];
  const labels: string[] = [];
  const refCmd = ["nats-server", ...storeDir(), "-a", "127.0.0.1", "-p"];
  const load0 = machineFacts().load;
  const startedAt = new Date();
  const t0 = performance.now();
  let pub: WorkerClient | undefined;
  let sub: WorkerClient | undefined;
  let jsw: WorkerClient | undefined;
  const results: RunResult[] = [];
  const deadReported = new Set<BenchServer>();
  try {
    if (!opts.noRef) {
      if (onPath("nats-server")) {
        const port = freePort();
        servers.push(BenchServer.start(opts.names[0], [...refCmd, String(port)], port));
        labels.push(opts.names[0]);
      } else {
        console.error("# nats-server is not on PATH: benching natsdeno alone (apt-get install nats-server)");
      }
    }
    {
      const port = freePort();
      let cmd: string[];
      if (opts.serverCmd) {
        cmd = splitCommand(opts.serverCmd);
        if (cmd.some((a) => a.includes("{TMP}"))) {
          const d = storeDir()[2] ?? Deno.makeTempDirSync({ prefix: "natsdeno-bench-" });
          cmd = cmd.map((a) => a.replaceAll("{TMP}", d));
        }
        if (cmd.some((a) => a.includes("{PORT}"))) cmd = cmd.map((a) => a.replaceAll("{PORT}", String(port)));
        else cmd.push("-a", "127.0.0.1", "-p", String(port));
      } else {
        cmd = [
          Deno.execPath(),
          "run",
          "-A",
          `${ROOT}main.ts`,
          ...storeDir(),
          "-a",
          "127.0.0.1",
          "-p",
          String(port),
        ];
      }
      servers.push(BenchServer.start(opts.names[1], cmd, port));
      labels.push(opts.names[1]);
    }
    for (const s of servers) {
      console.error(`# starting ${s.label}: ${s.cmd.join(" ")}`);
      await s.waitReady(30_000);
      console.error(`# ${s.label} ready on port ${s.port}: version ${s.info.version}, pid ${s.pid}`);
    }

    pub = new WorkerClient("bench-publishers");
    sub = new WorkerClient("bench-subscribers");
    if (withJs) jsw = new WorkerClient("bench-js", "./_bench_js_worker.ts");
    if (opts.jsLoad) {
      return await jsLoadMain(opts, servers, cases[0], pub, sub, jsw!);
    }

    for (const c of cases) {
      if (opts.warmup) {
        for (const s of servers) {
          if (!s.alive) continue;
          const m = Math.max(1, Math.round(c.msgs / 10));
          await runOnce(s, c, m, pub, sub, opts.timeoutMs, jsw).catch((e) =>
            console.error(`#   warm-up ${c.name} on ${s.label} failed: ${e.message}`)
          );
        }
      }
      for (let rep = 1; rep <= opts.runs; rep++) {
        for (const s of servers) {
          const base = { server: s.label, case: c.name, rep, msgs: c.msgs };
          let r: RunResult;
          if (!s.alive) r = { ...base, ok: false, error: "server not running" };
          else {
            try {
              r = { ...base, ok: true, ...await runOnce(s, c, c.msgs, pub, sub, opts.timeoutMs, jsw) };
            } catch (e) {
              r = { ...base, ok: false, error: e instanceof Error ? e.message : String(e) };
              if (e instanceof JsApiError && e.storageUnavailable) r.na = true;
            }
          }
          if (!s.alive && !deadReported.has(s)) {
            deadReported.add(s);
            r.ok = false;
            r.error = `${r.error ? r.error + "; " : ""}server exited, log tail:\n  ` +
              s.logTail.trim().split("\n").slice(-10).join("\n  ");
          }
          results.push(r);
          console.error(`# ${c.name.padEnd(11)} ${s.label.padEnd(12)} rep ${rep}: ${fmtRun(r)}`);
        }
      }
    }
  } finally {
    pub?.terminate();
    sub?.terminate();
    jsw?.terminate();
    await Promise.all(servers.map((s) => s.stop()));
    for (const d of tmpDirs) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
  const wallS = (performance.now() - t0) / 1000;

  const sums = new Map<string, Map<string, CaseSummary>>();
  for (const c of cases) {
    const m = new Map<string, CaseSummary>();
    for (const l of labels) m.set(l, summarize(results.filter((r) => r.case === c.name && r.server === l)));
    sums.set(c.name, m);
  }
  const failures = results.filter((r) => !r.ok && !r.na);
  const facts = machineFacts();
  let git = firstLine("git", ["-C", ROOT, "log", "-1", "--format=%h %s"]);
  if (git && firstLine("git", ["-C", ROOT, "status", "--porcelain", "--", "main.ts", "src"])) {
    git += " (working tree has uncommitted changes in main.ts/src)";
  }
  const serverFacts = servers.map((s) => ({
    label: s.label,
    cmd: s.cmd.join(" "),
    version: s.info.version,
    serverName: s.info.server_name,
    go: s.info.go,
  }));

  if (opts.json) {
    console.log(JSON.stringify(
      {
        date: startedAt.toISOString(),
        machine: {
          nproc: facts.nproc,
          cpu: facts.cpu,
          kernel: facts.kernel,
          loadBefore: load0,
          loadAfter: facts.load,
        },
        deno: Deno.version,
        git,
        servers: serverFacts,
        runs: opts.runs,
        scale: opts.scale,
        wallS,
        cases: cases.map((c) => ({ ...c, summary: Object.fromEntries(sums.get(c.name)!) })),
        results,
      },
      null,
      2,
    ));
  } else {
    const out = [
      `## natsdeno bench, ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
      "",
      `Machine: ${facts.nproc} cores, ${facts.cpu}, Linux ${facts.kernel}; load average before ${load0}, ` +
      `after ${facts.load}. Client (2 Deno workers) and servers share the cores.`,
      `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); repository at ${git || "?"}` +
      (opts.serverCmd ? " (B is --server-cmd, not necessarily this checkout)." : "."),
      ...serverFacts.map((s) =>
        `- ${s.label}: \`${s.cmd}\` (INFO version ${s.version}${s.go ? `, ${s.go}` : ""})`
      ),
      `Runs per case: ${opts.runs} (median), interleaved${
        opts.warmup ? ", after one untimed warm-up at 10%" : ""
      }; ` +
      `count scale ${opts.scale}; wall time ${
        wallS.toFixed(0)
      } s. CPU = server utime+stime per published message.`,
      "",
      markdown(cases, labels, sums),
    ];
    if (failures.length) {
      out.push("", `**${failures.length} run(s) FAILED:**`);
      for (const f of failures) out.push(`- ${f.case} on ${f.server} rep ${f.rep}: ${f.error}`);
    }
    const na = new Map<string, string>();
    for (const r of results) if (r.na) na.set(`${r.case} on ${r.server}`, r.error ?? "");
    if (na.size) {
      out.push("", "NA (the server refuses the case):");
      for (const [k, e] of na) out.push(`- ${k}: ${e}`);
    }
    console.log(out.join("\n"));
  }
  if (failures.length) console.error(`# ${failures.length} run(s) failed (loss, error or timeout)`);
  return failures.length ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (err) {
    console.error(`bench: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
