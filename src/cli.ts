// The command line: flags and config → a running server; signals; --signal; -t; --help and --version.
// Behaviour follows nats-server main.go and server/signal.go.

import { loadOptions, type Options, USAGE } from "./config/mod.ts";
import { AccountConfigError, NATSDENO_VERSION, type Server, validateAccountOptions } from "./server/mod.ts";
import { printErr, printOut } from "./util/mod.ts";
import { VERSION } from "./protocol/mod.ts";
import { startServer } from "./natsdeno.ts";

/** Runs the CLI; resolves to the process exit code once the server has stopped. */
export async function runCli(args: string[]): Promise<number> {
  let loaded: ReturnType<typeof loadOptions>;
  try {
    loaded = loadOptions(args);
  } catch (e) {
    printErr(`nats-server: ${(e as Error).message}`);
    return 1;
  }
  if (loaded.showHelp) {
    printOut(USAGE);
    return 0;
  }
  if (loaded.showVersion) {
    printOut(`nats-server: v${VERSION} (natsdeno ${NATSDENO_VERSION})`);
    return 0;
  }
  if (loaded.signal) return await sendSignal(loaded.signal.command, loaded.signal.pid);
  const opts = loaded.opts;
  if (loaded.testConfig) {
    // Import/export authorization, unknown accounts and cycles are config errors in nats-server too.
    try {
      validateAccountOptions(opts);
    } catch (e) {
      printErr(`nats-server: ${configErrorText(e)}`);
      return 1;
    }
    // nats-server 2.9 prints no digest here (2.10 added "(sha256:…)").
    printErr(`nats-server: configuration file ${opts.configFile ?? ""} is valid`);
    return 0;
  }
  let server: Server;
  try {
    server = await startServer(opts);
  } catch (e) {
    printErr(`nats-server: ${configErrorText(e)}`);
    return 1;
  }
  return await untilStopped(server, args);
}

/** An error's text as nats-server prints it: a list of config errors ends with a blank line. */
function configErrorText(e: unknown): string {
  const m = (e as Error)?.message ?? String(e);
  return e instanceof AccountConfigError ? `${m}\n` : m;
}

/** Installs the signal handlers nats-server has and resolves when the server exits. */
function untilStopped(server: Server, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const handlers: [Deno.Signal, () => void][] = [];
    const on = (sig: Deno.Signal, f: () => void) => {
      try {
        Deno.addSignalListener(sig, f);
        handlers.push([sig, f]);
      } catch {
        // Signal not available on this platform.
      }
    };
    let finished = false;
    const done = (code: number) => {
      if (finished) return;
      finished = true;
      for (const [sig, f] of handlers) Deno.removeSignalListener(sig, f);
      resolve(code);
    };
    // nats-server traps signals at debug level; SIGINT exits 0, SIGTERM exits 1 (and is ignored while in
    // lame duck mode, which ends in a shutdown of its own).
    const trapped = (name: string) => server.log.debug(`Trapped "${name}" signal`);
    const stop = (code: number) => {
      server.shutdown().then(() => done(code), () => done(1));
    };
    on("SIGINT", () => {
      trapped("interrupt");
      stop(0);
    });
    on("SIGTERM", () => {
      trapped("terminated");
      if (!server.ldm) stop(1);
    });
    on("SIGHUP", () => {
      trapped("hangup");
      reloadFromArgs(server, args);
    });
    on("SIGUSR1", () => {
      trapped("user defined signal 1");
      server.log.reopen(server.opts.logFile || undefined);
    });
    on("SIGUSR2", () => {
      trapped("user defined signal 2");
      server.lameDuck().then(() => done(0), () => done(1));
    });
  });
}

/** Re-reads flags and config file and applies them, logging a refusal as nats-server does. */
export function reloadFromArgs(server: Server, args: string[]): void {
  let next: Options;
  try {
    next = loadOptions(args).opts;
  } catch (e) {
    server.log.error(`Failed to reload server configuration: ${(e as Error).message}`);
    return;
  }
  try {
    server.reload(next);
  } catch (e) {
    server.log.error(`Failed to reload server configuration: ${(e as Error).message}`);
  }
}

const SIGNALS: Record<string, Deno.Signal> = {
  stop: "SIGKILL",
  quit: "SIGINT",
  term: "SIGTERM",
  reopen: "SIGUSR1",
  reload: "SIGHUP",
  ldm: "SIGUSR2",
};

/** `--signal cmd[=pid|pidfile]`: sends the signal to a running server. */
async function sendSignal(command: string, pidOrFile?: string): Promise<number> {
  const sig = SIGNALS[command];
  if (!sig) {
    printErr(`nats-server: unknown signal "${command}"`);
    return 1;
  }
  let pid: number;
  if (pidOrFile && /^\d+$/.test(pidOrFile)) pid = Number(pidOrFile);
  else if (pidOrFile) {
    try {
      pid = Number((await Deno.readTextFile(pidOrFile)).trim());
    } catch (e) {
      printErr(`nats-server: could not read pidfile ${pidOrFile}: ${(e as Error).message}`);
      return 1;
    }
  } else {
    const pids = await findServerPids();
    if (pids.length === 0) {
      printErr("nats-server: no nats-server processes running");
      return 1;
    }
    if (pids.length > 1) {
      printErr(`nats-server: multiple nats-server processes running:\n${pids.join("\n")}`);
      return 1;
    }
    pid = pids[0];
  }
  try {
    Deno.kill(pid, sig);
  } catch (e) {
    printErr(`nats-server: ${(e as Error).message}`);
    return 1;
  }
  return 0;
}

/** Pids of other natsdeno processes (by their command line), for `--signal` without a pid. */
async function findServerPids(): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const cmd = await Deno.readTextFile(`/proc/${e.name}/cmdline`);
      if (/natsdeno|main\.ts/.test(cmd) && !cmd.includes("--signal") && !cmd.includes("-sl")) {
        out.push(Number(e.name));
      }
    } catch {
      // The process went away.
    }
  }
  return out;
}
