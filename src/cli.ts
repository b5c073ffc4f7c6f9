// The command line: flags and config → a running server; signals; --signal; -t; --help and --version.
// Behaviour follows nats-server main.go and server/signal.go.

import { loadOptions, type Options } from "./config/mod.ts";
import { NATSDENO_VERSION, type Server } from "./server/mod.ts";
import { VERSION } from "./protocol/mod.ts";
import { startServer } from "./natsdeno.ts";

/** Runs the CLI; resolves to the process exit code once the server has stopped. */
export async function runCli(args: string[]): Promise<number> {
  let loaded: ReturnType<typeof loadOptions>;
  try {
    loaded = loadOptions(args);
  } catch (e) {
    console.error(`nats-server: ${(e as Error).message}`);
    return 1;
  }
  if (loaded.showHelp) {
    console.log(USAGE);
    return 0;
  }
  if (loaded.showVersion) {
    console.log(`nats-server: v${VERSION} (natsdeno ${NATSDENO_VERSION})`);
    return 0;
  }
  if (loaded.signal) return await sendSignal(loaded.signal.command, loaded.signal.pid);
  const opts = loaded.opts;
  if (loaded.testConfig) {
    // nats-server 2.9 prints no digest here (2.10 added "(sha256:…)").
    console.error(`nats-server: configuration file ${opts.configFile ?? ""} is valid`);
    return 0;
  }
  let server: Server;
  try {
    server = await startServer(opts);
  } catch (e) {
    console.error(`nats-server: ${(e as Error).message}`);
    return 1;
  }
  return await untilStopped(server, args);
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
    console.error(`nats-server: unknown signal "${command}"`);
    return 1;
  }
  let pid: number;
  if (pidOrFile && /^\d+$/.test(pidOrFile)) pid = Number(pidOrFile);
  else if (pidOrFile) {
    try {
      pid = Number((await Deno.readTextFile(pidOrFile)).trim());
    } catch (e) {
      console.error(`nats-server: could not read pidfile ${pidOrFile}: ${(e as Error).message}`);
      return 1;
    }
  } else {
    const pids = await findServerPids();
    if (pids.length === 0) {
      console.error("nats-server: no nats-server processes running");
      return 1;
    }
    if (pids.length > 1) {
      console.error(`nats-server: multiple nats-server processes running:\n${pids.join("\n")}`);
      return 1;
    }
    pid = pids[0];
  }
  try {
    Deno.kill(pid, sig);
  } catch (e) {
    console.error(`nats-server: ${(e as Error).message}`);
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

const USAGE = `Usage: nats-server [options]

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222)
    -n, --name
        --server_name <server_name>  Server name (default: auto)
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring
    -ms,--https_port <port>          Use port for https monitoring
    -c, --config <file>              Configuration file
    -t                               Test configuration and exit
    -sl,--signal <signal>[=<pid>]    Send signal to nats-server process (ldm, stop, quit, term, reopen, reload)
                                     pid> can be either a PID (e.g. 1) or the path to a PID file (e.g. /var/run/nats-server.pid)
        --client_advertise <string>  Client URL to advertise to other servers
        --ports_file_dir <dir>       Creates a ports file in the specified directory (<executable_name>_<pid>.ports).

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
    -s, --syslog                     Log to syslog or windows event log
    -r, --remote_syslog <addr>       Syslog server addr (udp://localhost:514)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -VV                              Verbose trace (traces system account as well)
    -DV                              Debug and trace
    -DVV                             Debug and verbose trace (traces system account as well)
        --log_size_limit <limit>     Logfile size limit (default: auto)
        --max_traced_msg_len <len>   Maximum printable length for traced messages (default: unlimited)

JetStream Options:
    -js, --jetstream                 Enable JetStream functionality (not yet in natsdeno)
    -sd, --store_dir <dir>           Set the storage directory

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

TLS Options:
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

Cluster Options:
        --routes <rurl-1, rurl-2>    Routes to solicit and connect
        --cluster <cluster-url>      Cluster URL for solicited routes
        --cluster_name <string>      Cluster Name, if not set one will be dynamically generated
        --no_advertise <bool>        Do not advertise known cluster information to clients
        --cluster_advertise <string> Cluster URL to advertise to other servers
        --connect_retries <number>   For implicit routes, number of connect retries

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version
        --help_tls                   TLS help
`;
