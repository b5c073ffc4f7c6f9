// Command-line flags as nats-server reads them with Go's flag package (-x or --x, -x=v or -x v, bool
// flags without a value), their merge over the config file, and the flags → file → merge sequence
// (server/opts.go ConfigureOptions, MergeOptions; main.go).
import { readFileSync } from "node:fs";
import { configToOptions, setBaselineOptions, validateOptions } from "./_options_map.ts";
import { configDigest, parseConfigFile } from "./_tree.ts";
import { ConfigError } from "./_values.ts";
import { defaultOptions, type Options } from "./options.ts";

type FlagKind = "bool" | "int" | "string";

/** Values of the flags given, by canonical name (the long name nats-server uses internally). */
export interface ParsedFlags {
  /** Canonical flag name → value, only for flags present on the command line, in order. */
  values: Map<string, string | number | boolean>;
  configFile: string;
  showVersion: boolean;
  showHelp: boolean;
  showTlsHelp: boolean;
  testConfig: boolean;
  signal?: { command: string; pid?: string };
}

// Each spelling → [canonical name, kind]. Canonical names are nats-server's long flag names.
const FLAGS: Record<string, [string, FlagKind]> = {};
function def(kind: FlagKind, canonical: string, ...aliases: string[]): void {
  for (const a of [canonical, ...aliases]) FLAGS[a] = [canonical, kind];
}
def("bool", "help", "h");
def("int", "port", "p");
def("string", "server_name", "n", "name");
def("string", "addr", "a", "net");
def("string", "client_advertise");
def("bool", "debug", "D");
def("bool", "trace", "V");
def("bool", "VV");
def("bool", "DV");
def("bool", "DVV");
def("bool", "logtime", "T");
def("bool", "logtime_utc");
def("string", "user");
def("string", "pass");
def("string", "auth");
def("int", "http_port", "m");
def("int", "https_port", "ms");
def("string", "config", "c");
def("bool", "t");
def("string", "signal", "sl");
def("string", "pid", "P");
def("string", "ports_file_dir");
def("string", "log", "l");
def("int", "log_size_limit");
def("bool", "syslog", "s");
def("string", "remote_syslog", "r");
def("bool", "version", "v");
def("int", "profile");
def("string", "routes");
def("string", "cluster", "cluster_listen");
def("string", "cluster_advertise");
def("bool", "no_advertise");
def("int", "connect_retries");
def("string", "cluster_name");
def("bool", "help_tls");
def("bool", "tls");
def("bool", "tlsverify");
def("string", "tlscert");
def("string", "tlskey");
def("string", "tlscacert");
def("int", "max_traced_msg_len");
def("bool", "jetstream", "js");
def("string", "store_dir", "sd");

const SIGNALS = new Set(["ldm", "stop", "quit", "term", "reopen", "reload"]);

function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

function parseGoInt(s: string): number | undefined {
  if (!/^[+-]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]+|[0-9]+)$/.test(s)) return undefined;
  const neg = s.startsWith("-");
  const body = s.replace(/^[+-]/, "");
  const n = /^0[0-7]+$/.test(body) ? parseInt(body, 8) : Number(body.replace(/^0[oO]/, "0o"));
  return neg ? -n : n;
}

/**
 * Parses nats-server's command-line flags. Throws Error with Go's flag-package texts
 * (`flag provided but not defined: -x`, `invalid value "v" for flag -p: parse error`, …).
 */
export function parseFlags(args: string[]): ParsedFlags {
  const values = new Map<string, string | number | boolean>();
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg.length < 2 || arg[0] !== "-") break;
    let name = arg.slice(1);
    if (name.startsWith("-")) {
      name = name.slice(1);
      if (name === "") {
        i++;
        break;
      }
    }
    if (name === "" || name[0] === "-" || name[0] === "=") throw new Error(`bad flag syntax: ${arg}`);
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = FLAGS[name];
    if (!spec) throw new Error(`flag provided but not defined: -${name}`);
    const [canonical, kind] = spec;
    if (kind === "bool") {
      if (value === undefined) values.set(canonical, true);
      else {
        const b = parseGoBool(value);
        if (b === undefined) {
          throw new Error(`invalid boolean value ${JSON.stringify(value)} for -${name}: parse error`);
        }
        values.set(canonical, b);
      }
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= args.length) throw new Error(`flag needs an argument: -${name}`);
      value = args[++i];
    }
    if (kind === "int") {
      const n = parseGoInt(value);
      if (n === undefined) {
        throw new Error(`invalid value ${JSON.stringify(value)} for flag -${name}: parse error`);
      }
      values.set(canonical, n);
    } else values.set(canonical, value);
  }

  const out: ParsedFlags = {
    values,
    configFile: (values.get("config") as string | undefined) ?? "",
    showVersion: values.get("version") === true,
    showHelp: values.get("help") === true,
    showTlsHelp: values.get("help_tls") === true,
    testConfig: values.get("t") === true,
  };
  // Words after the flags: only `version` and `help` are understood.
  for (const word of args.slice(i)) {
    if (word === "version") out.showVersion = true;
    else if (word === "help") out.showHelp = true;
    else throw new Error(`unrecognized command: ${JSON.stringify(word)}`);
  }
  const sig = values.get("signal") as string | undefined;
  if (sig) out.signal = parseSignal(sig);
  return out;
}

/** `<command>[=<pid or pid file>]`, with a pid file read as Go's maybeReadPidFile does. */
function parseSignal(s: string): { command: string; pid?: string } {
  const parts = s.split("=");
  if (parts.length > 2) throw new Error(`invalid signal parameters: [${parts.slice(2).join(" ")}]`);
  const command = parts[0];
  if (!SIGNALS.has(command)) throw new Error(`unknown signal ${JSON.stringify(command)}`);
  if (parts.length === 1) return { command };
  let pid = parts[1];
  try {
    pid = readFileSync(pid, "utf8");
  } catch {
    // Not a readable file: the text is the pid itself.
  }
  return { command, pid };
}

/** Applies one flag to options. */
function applyFlag(o: Options, name: string, v: string | number | boolean): void {
  const s = v as string;
  const n = v as number;
  const b = v as boolean;
  switch (name) {
    case "port":
      o.port = n;
      break;
    case "server_name":
      o.serverName = s;
      break;
    case "addr":
      o.host = s;
      break;
    case "client_advertise":
      o.clientAdvertise = s;
      break;
    case "debug":
      o.debug = b;
      break;
    case "trace":
      o.trace = b;
      break;
    case "VV":
      o.trace = o.traceVerbose = b;
      break;
    case "DV":
      o.debug = o.trace = b;
      break;
    case "DVV":
      o.debug = o.trace = o.traceVerbose = b;
      break;
    case "logtime":
      o.logtime = b;
      break;
    case "logtime_utc":
      o.logtimeUTC = b;
      break;
    case "user":
      o.username = s;
      break;
    case "pass":
      o.password = s;
      break;
    case "auth":
      o.authorization = s;
      break;
    case "http_port":
      o.httpPort = n;
      break;
    case "https_port":
      o.httpsPort = n;
      break;
    case "pid":
      o.pidFile = s;
      break;
    case "ports_file_dir":
      o.portsFileDir = s;
      break;
    case "log":
      o.logFile = s;
      break;
    case "log_size_limit":
      o.logSizeLimit = n;
      break;
    case "syslog":
      o.syslog = b;
      break;
    case "remote_syslog":
      o.remoteSyslog = s;
      break;
    case "profile":
      o.profPort = n;
      break;
    case "routes":
      o.cluster.routes = routesFromStr(s);
      break;
    case "cluster":
      overrideCluster(o, s);
      break;
    case "cluster_advertise":
      o.cluster.advertise = s;
      break;
    case "no_advertise":
      o.cluster.noAdvertise = b;
      break;
    case "connect_retries":
      o.cluster.connectRetries = n;
      break;
    case "cluster_name":
      o.cluster.name = s;
      break;
    case "max_traced_msg_len":
      o.maxTracedMsgLen = n;
      break;
    case "jetstream":
      o.jetStream = b;
      break;
    case "store_dir":
      o.storeDir = s;
      break;
  }
}

/** Route URLs from `--routes a,b` (Go's RoutesFromStr). */
export function routesFromStr(s: string): string[] {
  if (s === "") return [];
  return s.split(",").map((r) => r.trim());
}

function overrideCluster(o: Options, listen: string): void {
  o.cluster.listenStr = listen;
  if (listen === "") {
    o.cluster.port = 0;
    return;
  }
  const random = listen.endsWith(":-1");
  let url: URL;
  try {
    url = new URL(random ? listen.slice(0, -3) + ":0" : listen);
  } catch (e) {
    throw new Error(`parse ${JSON.stringify(listen)}: invalid URL`, { cause: e });
  }
  o.cluster.host = url.hostname.replace(/^\[|\]$/g, "");
  o.cluster.port = random ? -1 : Number(url.port || "0");
}

const TLS_FLAGS = ["tls", "tlsverify", "tlscert", "tlskey", "tlscacert"];

/**
 * Flags given on the command line override the config file, as nats-server re-applies them after reading
 * it. The TLS flags build `tls` when `--tls`-family flags are present (and `-tls=false` removes it).
 */
export function mergeOptions(fileOpts: Options, flags: ParsedFlags): Options {
  const o: Options = structuredClone(fileOpts);
  for (const [name, v] of flags.values) applyFlag(o, name, v);
  const tlsGiven = TLS_FLAGS.filter((f) => flags.values.has(f));
  if (flags.values.get("tls") === false) o.tls = undefined;
  else if (tlsGiven.length > 0) {
    const cert = (flags.values.get("tlscert") as string | undefined) ?? "";
    const key = (flags.values.get("tlskey") as string | undefined) ?? "";
    if (cert === "") throw new Error("TLS Server certificate must be present and valid");
    if (key === "") throw new Error("TLS Server private key must be present and valid");
    o.tls = {
      certFile: cert,
      keyFile: key,
      caFile: (flags.values.get("tlscacert") as string | undefined) || undefined,
      verify: flags.values.get("tlsverify") === true,
    };
  }
  if (
    o.cluster.routes.length > 0 && flags.values.has("routes") && o.cluster.listenStr === "" &&
    o.cluster.host === "" && o.cluster.port === 0 && !o.unsupported.includes("cluster")
  ) {
    throw new Error("solicited routes require cluster capabilities, e.g. --cluster");
  }
  return o;
}

/** What loadOptions() found: the options, and what main should do instead of starting, if anything. */
export interface LoadedOptions {
  opts: Options;
  showVersion: boolean;
  showHelp: boolean;
  showTlsHelp: boolean;
  testConfig: boolean;
  signal?: { command: string; pid?: string };
  /** `sha256:<hex>` of the config file, when one was read. */
  digest?: string;
}

/**
 * Flags → config file → merge → defaults, as nats-server's ConfigureOptions. With `-t`, warnings are
 * errors (ConfigError) and server-level validation is skipped, as nats-server does.
 */
export function loadOptions(args: string[]): LoadedOptions {
  const flags = parseFlags(args);
  const result: LoadedOptions = {
    opts: defaultOptions(),
    showVersion: flags.showVersion,
    showHelp: flags.showHelp,
    showTlsHelp: flags.showTlsHelp,
    testConfig: flags.testConfig,
    signal: flags.signal,
  };
  if (flags.showVersion || flags.showHelp || flags.showTlsHelp || flags.signal) return result;
  let fileOpts = defaultOptions();
  if (flags.configFile !== "") {
    const tree = parseConfigFile(flags.configFile);
    result.digest = configDigest(tree);
    fileOpts = configToOptions(tree, fileOpts);
    fileOpts.configFile = flags.configFile;
    if (flags.testConfig && fileOpts.warnings.length > 0) throw new ConfigError([], fileOpts.warnings);
  } else if (flags.testConfig) {
    throw new Error("must specify [-c, --config] option to check configuration file syntax");
  }
  const opts = setBaselineOptions(mergeOptions(fileOpts, flags));
  if (!flags.testConfig) validateOptions(opts);
  result.opts = opts;
  return result;
}
