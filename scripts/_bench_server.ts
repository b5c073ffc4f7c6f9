// Server processes under benchmark: start in their own session, wait for INFO, read CPU time from
// /proc, stop. Also the machine facts printed in the report header.

import { readInfo, type ServerInfo } from "./_bench_proto.ts";

const dec = new TextDecoder();

/** A free TCP port on 127.0.0.1 (bound, read back, released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Splits a command line on whitespace, honouring '…' and "…" quoting. */
export function splitCommand(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of s.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

let clkTck = 0;
function ticksPerSecond(): number {
  if (clkTck > 0) return clkTck;
  try {
    const out = new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped", stderr: "null" })
      .outputSync();
    clkTck = Number(dec.decode(out.stdout).trim()) || 100;
  } catch {
    clkTck = 100;
  }
  return clkTck;
}

/** utime+stime (fields 14, 15) and ppid of a process, or undefined when it is gone. */
function procStat(pid: number): { cpu: number; ppid: number } | undefined {
  let s: string;
  try {
    s = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces; fields after it are space-separated.
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return { ppid: Number(f[1]), cpu: Number(f[11]) + Number(f[12]) };
}

/** A server process started by the bench. */
export class BenchServer {
  info: ServerInfo = {};
  #tail = "";
  #exited = false;
  #status?: Promise<Deno.CommandStatus>;

  private constructor(
    readonly label: string,
    readonly cmd: string[],
    readonly port: number,
    readonly pid: number,
  ) {}

  /** Starts cmd in its own session (setsid), so that stop() reaches wrappers and their children. */
  static start(label: string, cmd: string[], port: number): BenchServer {
    const child = new Deno.Command("setsid", {
      args: cmd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const s = new BenchServer(label, cmd, port, child.pid);
    s.#status = child.status.then((st) => {
      s.#exited = true;
      return st;
    });
    s.#drain(child.stdout);
    s.#drain(child.stderr);
    return s;
  }

  async #drain(r: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const b of r) this.#tail = (this.#tail + dec.decode(b)).slice(-4000);
    } catch {
      // the process went away
    }
  }

  get alive(): boolean {
    return !this.#exited;
  }

  /** The last few KB of the server's stdout and stderr. */
  get logTail(): string {
    return this.#tail;
  }

  /** Waits until the server accepts a connection and sends INFO. */
  async waitReady(timeoutMs: number): Promise<void> {
    const t0 = Date.now();
    let lastErr: unknown;
    while (Date.now() - t0 < timeoutMs) {
      if (this.#exited) {
        throw new Error(
          `${this.label} exited during start-up:\n${this.#tail.trim().split("\n").slice(-15).join("\n")}`,
        );
      }
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        try {
          this.info = await readInfo(conn, 2_000);
          return;
        } finally {
          try {
            conn.close();
          } catch { /* closed by readInfo's timeout */ }
        }
      } catch (err) {
        lastErr = err;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.label} not ready on port ${this.port} after ${timeoutMs} ms: ${lastErr}`);
  }

  /** CPU seconds (user+system) used so far by the server and all its descendants. */
  cpuSeconds(): number {
    const stats = new Map<number, { cpu: number; ppid: number }>();
    for (const e of Deno.readDirSync("/proc")) {
      const pid = Number(e.name);
      if (!Number.isInteger(pid)) continue;
      const st = procStat(pid);
      if (st) stats.set(pid, st);
    }
    let ticks = 0;
    for (const [pid, st] of stats) {
      for (let p = pid, depth = 0; p > 1 && depth < 16; depth++) {
        if (p === this.pid) {
          ticks += st.cpu;
          break;
        }
        p = stats.get(p)?.ppid ?? 0;
      }
    }
    return ticks / ticksPerSecond();
  }

  /** SIGTERM to the session's process group, SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const signal = (sig: Deno.Signal): void => {
      try {
        Deno.kill(-this.pid, sig);
      } catch {
        try {
          Deno.kill(this.pid, sig);
        } catch { /* already gone */ }
      }
    };
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), 5_000);
    await this.#status;
    clearTimeout(timer);
  }
}

/** Runs a command and returns its first output line, or "" when it fails. */
export function firstLine(cmd: string, args: string[], cwd?: string): string {
  try {
    const out = new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).outputSync();
    return dec.decode(out.stdout).trim().split("\n")[0] || dec.decode(out.stderr).trim().split("\n")[0] || "";
  } catch {
    return "";
  }
}

/** nproc, CPU model, kernel and load, for the report header. */
export function machineFacts(): { nproc: number; cpu: string; kernel: string; load: string } {
  let cpu = "unknown";
  try {
    const m = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.+)$/m);
    if (m) cpu = m[1].trim();
  } catch { /* not Linux */ }
  let load = "";
  try {
    load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch { /* not Linux */ }
  return { nproc: navigator.hardwareConcurrency, cpu, kernel: Deno.osRelease(), load };
}
