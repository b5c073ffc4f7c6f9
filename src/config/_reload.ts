// Which options may change on a config reload (SIGHUP / --signal reload), and nats-server's texts for the
// ones that may not; behaviour follows server/reload.go diffOptions.
import { goValue } from "./_values.ts";
import { DEFAULT_SYSTEM_ACCOUNT, type Options } from "./options.ts";

type Rule = "reload" | "reject" | "ignore" | ((old: Options, neu: Options, st: DiffState) => void);

interface DiffState {
  changed: string[];
  jsEnabled: boolean;
  disableJs: boolean;
  jsLimitsChanged: boolean;
  jsStoreDirChanged: boolean;
}

function rejectMsg(goName: string, oldV: unknown, newV: unknown): Error {
  return new Error(`config reload not supported for ${goName}: old=${goValue(oldV)}, new=${goValue(newV)}`);
}

/** Each Options field: nats-server's field name (used in error texts) and whether it may change. */
const FIELDS: { [K in keyof Options]: [goName: string, rule: Rule] } = {
  configFile: ["ConfigFile", "reject"],
  serverName: ["ServerName", "reject"],
  host: ["Host", "reject"],
  port: ["Port", (o, n) => {
    // A random port (0 or -1) in the new config keeps the current listener.
    if (n.port === 0 || n.port === -1) return;
    throw rejectMsg("Port", o.port, n.port);
  }],
  clientAdvertise: ["ClientAdvertise", "reload"],
  httpHost: ["HTTPHost", "reject"],
  httpPort: ["HTTPPort", "reject"],
  httpsPort: ["HTTPSPort", "reject"],
  httpBasePath: ["HTTPBasePath", "reject"],
  maxConn: ["MaxConn", "reload"],
  maxSubs: ["MaxSubs", "reject"],
  maxSubTokens: ["MaxSubTokens", "reject"],
  maxPayload: ["MaxPayload", "reload"],
  maxControlLine: ["MaxControlLine", "reload"],
  maxPending: ["MaxPending", "reject"],
  pingIntervalMs: ["PingInterval", "reload"],
  maxPingsOut: ["MaxPingsOut", "reload"],
  writeDeadlineMs: ["WriteDeadline", "reload"],
  authTimeoutMs: ["AuthTimeout", "reload"],
  maxClosedClients: ["MaxClosedClients", "reject"],
  maxTracedMsgLen: ["MaxTracedMsgLen", "reload"],
  noHeaderSupport: ["NoHeaderSupport", "reject"],
  disableSublistCache: ["NoSublistCache", "reject"],
  noFastProducerStall: ["NoFastProducerStall", "reload"],
  lameDuckDurationMs: ["LameDuckDuration", "reject"],
  lameDuckGracePeriodMs: ["LameDuckGracePeriod", "reject"],
  connectErrorReports: ["ConnectErrorReports", "reload"],
  reconnectErrorReports: ["ReconnectErrorReports", "reload"],
  debug: ["Debug", "reload"],
  trace: ["Trace", "reload"],
  traceVerbose: ["TraceVerbose", "reload"],
  traceHeaders: ["TraceHeaders", "reload"],
  logtime: ["Logtime", "reload"],
  logtimeUTC: ["LogtimeUTC", "reload"],
  logFile: ["LogFile", "reload"],
  logSizeLimit: ["LogSizeLimit", "reject"],
  logFileMaxNum: ["LogMaxFiles", "reload"],
  syslog: ["Syslog", "reload"],
  remoteSyslog: ["RemoteSyslog", "reload"],
  pidFile: ["PidFile", "reload"],
  portsFileDir: ["PortsFileDir", "reload"],
  username: ["Username", "reload"],
  password: ["Password", "reload"],
  authorization: ["Authorization", "reload"],
  users: ["Users", "reload"],
  nkeys: ["Nkeys", "reload"],
  noAuthUser: ["NoAuthUser", (o, n, st) => {
    const oldV = o.noAuthUser ?? "";
    const newV = n.noAuthUser ?? "";
    // Dropping no_auth_user is fine only when that user is gone too.
    if (oldV !== "" && newV === "") {
      if (n.users.some((u) => u.username === oldV)) throw rejectMsg("NoAuthUser", oldV, newV);
      st.changed.push("noAuthUser");
      return;
    }
    throw rejectMsg("NoAuthUser", oldV, newV);
  }],
  defaultPermissions: ["DefaultPermissions", "reload"],
  accounts: ["Accounts", "reload"],
  mappings: ["Mappings", "reload"],
  accountsPos: ["AccountsPos", "ignore"],
  trustedOperators: ["TrustedOperators", (o, n) => {
    const a = o.trustedOperators.map((t) => t.jwt).join();
    const b = n.trustedOperators.map((t) => t.jwt).join();
    if (a !== b) throw rejectMsg("TrustedOperators", a, b);
  }],
  trustedKeys: ["TrustedKeys", "ignore"],
  accountResolver: ["AccountResolver", (o, n, st) => {
    if ((o.accountResolver === undefined) !== (n.accountResolver === undefined)) {
      throw new Error("config reload does not support moving to or from an account resolver");
    }
    st.changed.push("accountResolver");
  }],
  resolverPreload: ["resolverPreloads", "reload"],
  resolverTls: ["AccountResolverTLSConfig", "reload"],
  resolverPinnedAccounts: ["resolverPinnedAccounts", "reload"],
  tls: ["TLSConfig", "reload"],
  allowNonTls: ["AllowNonTLS", "reject"],
  jetStream: ["JetStream", (_o, n, st) => {
    st.disableJs = !n.jetStream;
    st.changed.push("jetStream");
  }],
  storeDir: ["StoreDir", (_o, n, st) => {
    if (st.jsEnabled) {
      if (n.storeDir !== "") throw new Error("config reload not supported for jetstream storage directory");
      st.jsStoreDirChanged = true;
    }
    st.changed.push("storeDir");
  }],
  jetStreamMaxMemory: [
    "JetStreamMaxMemory",
    (o, n, st) => jsLimit(o.jetStreamMaxMemory, n.jetStreamMaxMemory, st),
  ],
  jetStreamMaxStore: [
    "JetStreamMaxStore",
    (o, n, st) => jsLimit(o.jetStreamMaxStore, n.jetStreamMaxStore, st),
  ],
  jetStreamOpts: ["JetStream", (o, n, st) => {
    // The JetStream limits (server-wide ack pending, batch limits, …) are fixed until a restart.
    if (!deepEqual(o.jetStreamOpts.limits, n.jetStreamOpts.limits)) {
      throw rejectMsg("JetStreamLimits", o.jetStreamOpts.limits, n.jetStreamOpts.limits);
    }
    st.changed.push("jetStreamOpts");
  }],
  websocket: ["Websocket", (o, n) => {
    // Only the TLS settings may change; a random port (-1) in the new config keeps the bound one.
    const strip = (w: Options["websocket"], port: number) => JSON.stringify({ ...w, tls: undefined, port });
    const port = n.websocket.port === -1 ? o.websocket.port : n.websocket.port;
    if (strip(o.websocket, o.websocket.port) !== strip(n.websocket, port)) {
      throw rejectMsg("Websocket", o.websocket, n.websocket);
    }
  }],
  profPort: ["ProfPort", "reject"],
  profBlockRate: ["ProfBlockRate", "reload"],
  writeTimeout: ["WriteTimeout", "reject"],
  serverTags: ["Tags", "reload"],
  serverMetadata: ["Metadata", "reload"],
  systemAccount: ["SystemAccount", (o, n) => {
    const oldV = o.systemAccount || DEFAULT_SYSTEM_ACCOUNT;
    if (oldV !== DEFAULT_SYSTEM_ACCOUNT || n.systemAccount !== "") {
      throw rejectMsg("SystemAccount", o.systemAccount, n.systemAccount);
    }
  }],
  noSystemAccount: ["NoSystemAccount", "reject"],
  cluster: ["Cluster", (o, n, st) => {
    if (o.cluster.host !== n.cluster.host) {
      throw new Error(
        `config reload not supported for cluster host: old=${o.cluster.host}, new=${n.cluster.host}`,
      );
    }
    if (o.cluster.port !== n.cluster.port) {
      throw new Error(
        `config reload not supported for cluster port: old=${o.cluster.port}, new=${n.cluster.port}`,
      );
    }
    if (o.cluster.name !== n.cluster.name && o.cluster.name !== "") {
      throw new Error(
        `config reload not supported for cluster name: old=${o.cluster.name}, new=${n.cluster.name}`,
      );
    }
    st.changed.push("cluster");
  }],
  unsupportedConfig: ["", (o, n, st) => diffUnsupported(o.unsupportedConfig, n.unsupportedConfig, st)],
  unsupported: ["", "ignore"],
  warnings: ["", "ignore"],
};

function jsLimit(oldV: number, newV: number, st: DiffState): void {
  if (!st.jsEnabled) return;
  if (oldV !== -1 && newV === -1) {
    // Allowed only when JetStream is being turned off; checked at the end.
    st.jsLimitsChanged = true;
    return;
  }
  if (oldV === -1) throw new Error("config reload not supported for jetstream dynamic max memory and store");
  throw new Error("config reload not supported for jetstream max memory and store");
}

// Raw blocks natsdeno keeps for later: a change to these is refused as nats-server refuses it.
const REJECTED_BLOCKS: Record<string, string> = {
  gateway: "Gateway",
  leaf: "LeafNode",
  leafnodes: "LeafNode",
  websocket: "Websocket",
  ws: "Websocket",
  trusted: "TrustedKeys",
  "trusted_keys": "TrustedKeys",
};

function diffUnsupported(o: Record<string, unknown>, n: Record<string, unknown>, st: DiffState): void {
  for (const key of new Set([...Object.keys(o), ...Object.keys(n)])) {
    if (deepEqual(o[key], n[key])) continue;
    const goName = REJECTED_BLOCKS[key];
    if (goName) throw rejectMsg(goName, o[key] ?? "", n[key] ?? "");
    st.changed.push(key);
  }
}

/** Structural equality over plain data (objects, arrays, Dates, primitives). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Compares the running options with newly loaded ones. Returns the changed option names (Options field
 * names, or the raw config key for blocks natsdeno keeps unparsed); throws Error with nats-server's text
 * when a change cannot be applied without a restart.
 */
export function diffOptions(oldOpts: Options, newOpts: Options): { changed: string[] } {
  const st: DiffState = {
    changed: [],
    jsEnabled: oldOpts.jetStream,
    disableJs: false,
    jsLimitsChanged: false,
    jsStoreDirChanged: false,
  };
  for (const field of Object.keys(FIELDS) as (keyof Options)[]) {
    const [goName, rule] = FIELDS[field]!;
    if (rule === "ignore") continue;
    if (deepEqual(oldOpts[field], newOpts[field])) continue;
    if (rule === "reload") st.changed.push(field);
    else if (rule === "reject") throw rejectMsg(goName, oldOpts[field] ?? "", newOpts[field] ?? "");
    else rule(oldOpts, newOpts, st);
  }
  if (!st.disableJs) {
    if (st.jsLimitsChanged) {
      throw new Error("config reload not supported for jetstream max memory and max store");
    }
    if (st.jsStoreDirChanged) throw new Error("config reload not supported for jetstream storage dir");
  }
  return { changed: st.changed };
}
