// Top-level config keys mapped onto Options: one small handler per key, aliases share a handler. Keys and
// texts follow nats-server server/opts.go processConfigFileLine; keys whose feature natsdeno lacks are kept.
import { formatDuration } from "../util/mod.ts";
import { parseAccounts, parseMappings } from "./_accounts.ts";
import { parseAuthorization, parseTls } from "./_auth_tls.ts";
import { parseWebsocket, validateWebsocketOptions } from "./_websocket.ts";
import { parseOperator, parsePinned, parsePreload, parseResolver, parseTrusted } from "./_operator.ts";
import { parseJetStream } from "./_jetstream.ts";
import type { ConfigMap, ConfigValue } from "./_tree.ts";
import {
  asBool,
  asInt,
  asString,
  ConfigError,
  durationMs,
  durationOrSeconds,
  FieldFault,
  goQuote,
  goType,
  isMap,
  parseListen,
  type Ref,
  refOf,
  Report,
  stringList,
} from "./_values.ts";
import {
  AUTH_TIMEOUT_MS,
  DEFAULT_CONNECT_ERROR_REPORTS,
  DEFAULT_HOST,
  DEFAULT_LAME_DUCK_DURATION_MS,
  DEFAULT_LAME_DUCK_GRACE_PERIOD_MS,
  DEFAULT_MAX_CLOSED_CLIENTS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_MAX_OUT,
  DEFAULT_PORT,
  DEFAULT_RECONNECT_ERROR_REPORTS,
  DEFAULT_WRITE_DEADLINE_MS,
  defaultOptions,
  MAX_CONTROL_LINE_SIZE,
  MAX_PAYLOAD_SIZE,
  MAX_PENDING_SIZE,
  type Options,
  TLS_TIMEOUT_MS,
} from "./options.ts";

interface KeyCtx {
  /** The key as written. */
  key: string;
  ref: Ref | undefined;
  report: Report;
  tree: ConfigMap;
}

type Handler = (o: Options, v: ConfigValue, c: KeyCtx) => void;

const INT32_MAX = 2 ** 31 - 1;

function str(set: (o: Options, s: string) => void): Handler {
  return (o, v, c) => set(o, asString(v, c.ref?.kind));
}
function int(set: (o: Options, n: number) => void): Handler {
  return (o, v, c) => set(o, asInt(v, c.ref?.kind));
}
function bool(set: (o: Options, b: boolean) => void): Handler {
  return (o, v, c) => set(o, asBool(v, c.ref?.kind));
}

/** A key natsdeno accepts but does not act on yet: recorded once in `unsupported`, raw value kept. */
const unsupported: Handler = (o, v, c) => {
  if (!o.unsupported.includes(c.key)) o.unsupported.push(c.key);
  o.unsupportedConfig[c.key] = v;
};

function both(...hs: Handler[]): Handler {
  return (o, v, c) => hs.forEach((h) => h(o, v, c));
}

function limit32(set: (o: Options, n: number) => void): Handler {
  return (o, v, c) => {
    const n = asInt(v, c.ref?.kind);
    if (n > INT32_MAX) throw new FieldFault(`${c.key} value is too big`);
    set(o, n);
  };
}

const listen: Handler = (o, v, c) => {
  const hp = parseListen(v, c.ref?.kind);
  o.host = hp.host;
  o.port = hp.port;
};

const authorization: Handler = (o, v, c) => {
  if (!isMap(v)) {
    throw new FieldFault(`interface conversion: interface {} is ${goType(v)}, not map[string]interface {}`);
  }
  const auth = parseAuthorization(v, c.report);
  for (const k of auth.unsupported) if (!o.unsupported.includes(k)) o.unsupported.push(k);
  o.username = auth.user || undefined;
  o.password = auth.pass || undefined;
  o.authorization = auth.token || undefined;
  o.authTimeoutMs = auth.timeout * 1000;
  o.authCallout = auth.callout;
  if ((auth.user !== "" || auth.pass !== "") && auth.token !== "") {
    throw new FieldFault("Cannot have a user/pass and token");
  }
  const names = new Set<string>([...o.users.map((u) => u.username), ...o.nkeys.map((u) => u.nkey)]);
  if (auth.users !== undefined || names.size > 0) {
    if (auth.user !== "") throw new FieldFault("Can not have a single user/pass and a users array");
    if (auth.token !== "") throw new FieldFault("Can not have a token and a users array");
    for (const u of auth.users ?? []) {
      if (names.has(u.username)) throw new FieldFault(`Duplicate user ${goQuote(u.username)} detected`);
      names.add(u.username);
    }
    o.users = [...o.users, ...(auth.users ?? [])];
  }
  for (const u of auth.nkeys ?? []) {
    if (names.has(u.nkey)) throw new FieldFault(`Duplicate nkey ${goQuote(u.nkey)} detected`);
    names.add(u.nkey);
  }
  o.nkeys = [...o.nkeys, ...(auth.nkeys ?? [])];
  if (auth.defaultPermissions) o.defaultPermissions = auth.defaultPermissions;
};

const storeDir: Handler = (o, v, c) => {
  if (o.storeDir !== "") throw new FieldFault("Duplicate 'store_dir' configuration");
  o.storeDir = asString(v, c.ref?.kind);
};

/** `jetstream: enabled|disabled|true|false` or a map (src/config/_jetstream.ts). */
const jetstream: Handler = (o, v, c) => parseJetStream(o, v, c.report);

const lameDuckDuration: Handler = (o, v, c) => {
  const ms = durationMs("lame_duck_duration", asString(v, c.ref?.kind));
  if (ms < 30_000) {
    throw new FieldFault(`invalid lame_duck_duration of ${formatDuration(ms)}, minimum is 30 seconds`);
  }
  o.lameDuckDurationMs = ms;
};

const lameDuckGrace: Handler = (o, v, c) => {
  const ms = durationMs("lame_duck_grace_period", asString(v, c.ref?.kind));
  if (ms < 0) throw new FieldFault("invalid lame_duck_grace_period, needs to be positive");
  o.lameDuckGracePeriodMs = ms;
};

const maxSubTokens: Handler = (o, v, c) => {
  const n = asInt(v, c.ref?.kind);
  if (n > 255) throw new FieldFault(`${c.key} value is too big`);
  if (n <= 0) throw new FieldFault(`${c.key} value can not be negative`);
  o.maxSubTokens = n;
};

const tls: Handler = (o, v, c) => {
  o.tls = parseTls(v, c.ref, true);
};

const serverTags: Handler = (o, v, c) => {
  o.serverTags = [...o.serverTags, ...stringList("tags", v, c.tree, c.key, c.report)];
};

const serverMetadata: Handler = (o, v, c) => {
  if (!isMap(v)) throw new FieldFault(`error parsing metadata: unsupported type ${goType(v, c.ref?.kind)}`);
  for (const [k, val] of Object.entries(v)) o.serverMetadata[k] = asString(val, refOf(v, k)?.kind);
};

const writeTimeout: Handler = (o, v, c) => {
  const s = asString(v, c.ref?.kind).toLowerCase();
  if (s !== "default" && s !== "close" && s !== "retry") {
    throw new FieldFault(
      `unknown value ${goQuote(s)} for write_timeout, valid values are "default", "close" or "retry"`,
    );
  }
  o.writeTimeout = s;
};

/** `operator` and its aliases; `resolver` and its aliases (src/config/_operator.ts). */
const operator: Handler = (o, v, c) => parseOperator(o, v, c.ref, c.report);
const resolver: Handler = (o, v, c) => parseResolver(o, v, c.ref, c.report);

/** Every top-level key nats-server knows (through 2.14), lower-cased, with its handler. */
const KEYS: Record<string, Handler> = {
  listen,
  "client_advertise": str((o, s) => o.clientAdvertise = s),
  port: int((o, n) => o.port = n),
  "server_name": str((o, s) => o.serverName = s),
  host: str((o, s) => o.host = s),
  net: str((o, s) => o.host = s),
  debug: bool((o, b) => o.debug = b),
  trace: bool((o, b) => o.trace = b),
  "trace_verbose": bool((o, b) => {
    o.traceVerbose = b;
    o.trace = b;
  }),
  "trace_headers": bool((o, b) => {
    o.traceHeaders = b;
    o.trace = b;
  }),
  logtime: bool((o, b) => o.logtime = b),
  "logtime_utc": bool((o, b) => o.logtimeUTC = b),
  mappings: (o, v, c) => o.mappings.push(...parseMappings(v, c.ref, c.report)),
  maps: (o, v, c) => o.mappings.push(...parseMappings(v, c.ref, c.report)),
  "disable_sublist_cache": bool((o, b) => o.disableSublistCache = b),
  "no_sublist_cache": bool((o, b) => o.disableSublistCache = b),
  accounts: (o, v, c) => parseAccounts(o, v, c.ref, c.report),
  authorization,
  http: (o, v, c) => {
    const hp = parseListen(v, c.ref?.kind);
    o.httpHost = hp.host;
    o.httpPort = hp.port;
  },
  https: (o, v, c) => {
    const hp = parseListen(v, c.ref?.kind);
    o.httpHost = hp.host;
    o.httpsPort = hp.port;
  },
  "http_port": int((o, n) => o.httpPort = n),
  "monitor_port": int((o, n) => o.httpPort = n),
  "https_port": int((o, n) => o.httpsPort = n),
  "http_base_path": str((o, s) => o.httpBasePath = s),
  cluster: unsupported,
  gateway: unsupported,
  leaf: unsupported,
  leafnodes: unsupported,
  "store_dir": storeDir,
  storedir: storeDir,
  jetstream,
  logfile: str((o, s) => o.logFile = s),
  "log_file": str((o, s) => o.logFile = s),
  "logfile_size_limit": int((o, n) => o.logSizeLimit = n),
  "log_size_limit": int((o, n) => o.logSizeLimit = n),
  "logfile_max_num": int((o, n) => o.logFileMaxNum = n),
  "log_max_num": int((o, n) => o.logFileMaxNum = n),
  syslog: bool((o, b) => o.syslog = b),
  "remote_syslog": str((o, s) => o.remoteSyslog = s),
  pidfile: str((o, s) => o.pidFile = s),
  "pid_file": str((o, s) => o.pidFile = s),
  "ports_file_dir": str((o, s) => o.portsFileDir = s),
  "prof_port": both(int((o, n) => o.profPort = n), unsupported),
  "prof_block_rate": both(int((o, n) => o.profBlockRate = n), unsupported),
  "max_control_line": limit32((o, n) => o.maxControlLine = n),
  "max_payload": limit32((o, n) => o.maxPayload = n),
  "max_pending": int((o, n) => o.maxPending = n),
  "max_connections": int((o, n) => o.maxConn = n),
  "max_conn": int((o, n) => o.maxConn = n),
  "max_traced_msg_len": int((o, n) => o.maxTracedMsgLen = n),
  "max_subscriptions": int((o, n) => o.maxSubs = n),
  "max_subs": int((o, n) => o.maxSubs = n),
  "max_sub_tokens": maxSubTokens,
  "max_subscription_tokens": maxSubTokens,
  "max_closed_clients": int((o, n) => o.maxClosedClients = n),
  "ping_interval": (o, v, c) => o.pingIntervalMs = durationOrSeconds("ping_interval", v, c.ref, c.report),
  "ping_max": int((o, n) => o.maxPingsOut = n),
  "write_deadline": (o, v, c) => o.writeDeadlineMs = durationOrSeconds("write_deadline", v, c.ref, c.report),
  "write_timeout": writeTimeout,
  tls,
  ocsp: unsupported,
  "ocsp_cache": unsupported,
  "allow_non_tls": bool((o, b) => o.allowNonTls = b),
  "lame_duck_duration": lameDuckDuration,
  "lame_duck_grace_period": lameDuckGrace,
  operator: operator,
  operators: operator,
  roots: operator,
  root: operator,
  "root_operators": operator,
  "root_operator": operator,
  resolver,
  "account_resolver": resolver,
  "accounts_resolver": resolver,
  "resolver_tls": (o, v) => o.resolverTls = v,
  "resolver_preload": (o, v, c) => parsePreload(o, v, c.ref, c.report),
  "resolver_pinned_accounts": (o, v, c) => parsePinned(o, v, c.ref, c.report),
  "no_auth_user": str((o, s) => o.noAuthUser = s),
  "system_account": str((o, s) => o.systemAccount = s),
  system: str((o, s) => o.systemAccount = s),
  "no_system_account": bool((o, b) => o.noSystemAccount = b),
  "no_system": bool((o, b) => o.noSystemAccount = b),
  "no_sys_acc": bool((o, b) => o.noSystemAccount = b),
  "no_header_support": bool((o, b) => o.noHeaderSupport = b),
  trusted: (o, v, c) => parseTrusted(o, v, c.ref, c.report),
  "trusted_keys": (o, v, c) => parseTrusted(o, v, c.ref, c.report),
  "connect_error_reports": int((o, n) => o.connectErrorReports = n),
  "reconnect_error_reports": int((o, n) => o.reconnectErrorReports = n),
  websocket: (o, v, c) => parseWebsocket(o.websocket, v, c.report),
  ws: (o, v, c) => parseWebsocket(o.websocket, v, c.report),
  mqtt: unsupported,
  "server_tags": serverTags,
  "server_metadata": serverMetadata,
  "default_js_domain": unsupported,
  "no_fast_producer_stall": bool((o, b) => o.noFastProducerStall = b),
  "proxy_protocol": unsupported,
  proxies: unsupported,
  "feature_flags": unsupported,
  "default_sentinel": unsupported,
};

/** True when nats-server knows `key` at the top level of a config file. */
export function isKnownTopLevelKey(key: string): boolean {
  return Object.hasOwn(KEYS, key.toLowerCase());
}

/**
 * Applies a parsed config to a copy of `base` (defaults when absent). Throws ConfigError with every
 * error found; warnings alone are returned in `options.warnings`.
 */
export function configToOptions(tree: ConfigMap, base: Options = defaultOptions()): Options {
  const o: Options = structuredClone(base);
  const report = new Report();
  for (const [key, v] of Object.entries(tree)) {
    const ref = refOf(tree, key);
    const handler = KEYS[key.toLowerCase()];
    if (!handler) {
      report.unknownField(ref ?? { file: "", line: 0, pos: 0 }, key);
      continue;
    }
    report.guard(ref, () => handler(o, v, { key, ref, report, tree }));
  }
  if (report.errors.length > 0) throw new ConfigError(report.errors, report.warnings);
  o.warnings = [...o.warnings, ...report.warnings];
  return o;
}

/** Fills unset (zero) fields with nats-server's defaults, as its setBaselineOptions does; keeps port -1. */
export function setBaselineOptions(o: Options): Options {
  if (o.host === "") o.host = DEFAULT_HOST;
  if (o.httpHost === "") o.httpHost = o.host;
  if (o.port === 0) o.port = DEFAULT_PORT;
  if (o.maxConn === 0) o.maxConn = DEFAULT_MAX_CONNECTIONS;
  if (o.pingIntervalMs === 0) o.pingIntervalMs = DEFAULT_PING_INTERVAL_MS;
  if (o.maxPingsOut === 0) o.maxPingsOut = DEFAULT_PING_MAX_OUT;
  if (o.tls && !o.tls.timeoutMs) o.tls.timeoutMs = TLS_TIMEOUT_MS;
  if (o.authTimeoutMs === 0) {
    o.authTimeoutMs = o.tls ? (o.tls.timeoutMs ?? TLS_TIMEOUT_MS) + 1000 : AUTH_TIMEOUT_MS;
  }
  if (o.maxControlLine === 0) o.maxControlLine = MAX_CONTROL_LINE_SIZE;
  if (o.maxPayload === 0) o.maxPayload = MAX_PAYLOAD_SIZE;
  if (o.maxPending === 0) o.maxPending = MAX_PENDING_SIZE;
  if (o.writeDeadlineMs === 0) o.writeDeadlineMs = DEFAULT_WRITE_DEADLINE_MS;
  if (o.maxClosedClients === 0) o.maxClosedClients = DEFAULT_MAX_CLOSED_CLIENTS;
  if (o.lameDuckDurationMs === 0) o.lameDuckDurationMs = DEFAULT_LAME_DUCK_DURATION_MS;
  if (o.lameDuckGracePeriodMs === 0) o.lameDuckGracePeriodMs = DEFAULT_LAME_DUCK_GRACE_PERIOD_MS;
  if (o.connectErrorReports === 0) o.connectErrorReports = DEFAULT_CONNECT_ERROR_REPORTS;
  if (o.reconnectErrorReports === 0) o.reconnectErrorReports = DEFAULT_RECONNECT_ERROR_REPORTS;
  if (o.cluster.port !== 0 && o.cluster.host === "") o.cluster.host = DEFAULT_HOST;
  if (o.websocket.port !== 0 && o.websocket.host === "") o.websocket.host = DEFAULT_HOST;
  return o;
}

/** Checks that need the whole Options (nats-server's validateOptions); throws Error with Go's text. */
export function validateOptions(o: Options): void {
  if (o.lameDuckDurationMs > 0 && o.lameDuckGracePeriodMs >= o.lameDuckDurationMs) {
    throw new Error(
      `lame duck grace period (${
        formatDuration(o.lameDuckGracePeriodMs)
      }) should be strictly lower than lame duck duration (${formatDuration(o.lameDuckDurationMs)})`,
    );
  }
  if (o.maxPayload > o.maxPending) {
    throw new Error(`max_payload (${o.maxPayload}) cannot be higher than max_pending (${o.maxPending})`);
  }
  if (o.serverName.includes(" ")) throw new Error("server name cannot contain spaces");
  if (o.noAuthUser) {
    if (o.users.length === 0) {
      throw new Error(`no_auth_user: "${o.noAuthUser}" present, but users are not defined`);
    }
    if (!o.users.some((u) => u.username === o.noAuthUser)) {
      throw new Error(
        `no_auth_user: "${o.noAuthUser}" not present as user in authorization block or account configuration`,
      );
    }
  }
  validateWebsocketOptions(o);
  validateJetStreamDomain(o.jetStreamOpts.domain);
}

/** As nats-server: `$JS.<domain>.API.>` must be a valid subject, and the domain a name without `.`, `*`, `>`. */
function validateJetStreamDomain(domain: string): void {
  if (domain === "") return;
  const subj = `$JS.${domain}.API.>`;
  const tokens = subj.split(".");
  const bad = /[\s]/.test(subj) ||
    tokens.some((t, i) =>
      t === "" || (t.length > 1 && (t.includes("*") || t.includes(">"))) ||
      (t === ">" && i < tokens.length - 1)
    );
  if (bad) throw new Error(`invalid domain name: derived "${subj}" is not a valid subject`);
  if (/[.*>]/.test(domain)) throw new Error("invalid domain name: may not contain ., * or >");
}
