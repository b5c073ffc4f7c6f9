// Server options: the typed form of nats-server's flags and config file, with its defaults (opts.go).

import { defaultWebsocketOptions, type WebsocketOptions } from "./_websocket.ts";

export type { WebsocketOptions } from "./_websocket.ts";
import type { AuthCalloutOptions } from "./_auth_tls.ts";

export type { AuthCalloutOptions } from "./_auth_tls.ts";
import type { OperatorOptions } from "./_operator.ts";

export type { OperatorJwt, OperatorOptions, ResolverConfig } from "./_operator.ts";

import { defaultJetStreamOptions, type JetStreamOptions } from "./_jetstream.ts";

/** Subject allow/deny lists for one direction. */
export interface SubjectPermission {
  allow?: string[];
  deny?: string[];
}

/** `allow_responses`: how many replies and for how long a requestor may be answered. */
export interface ResponsePermission {
  maxMsgs: number;
  expiresMs: number;
}

/** A user's permissions, as `permissions {}` gives them. */
export interface Permissions {
  publish?: SubjectPermission;
  subscribe?: SubjectPermission;
  response?: ResponsePermission;
}

/** A user/password entry of `authorization { users [...] }`. */
export interface User {
  username: string;
  password: string;
  permissions?: Permissions;
  account?: string;
  allowedConnectionTypes?: string[];
}

/** An nkey entry of `authorization { users [...] }`. */
export interface NkeyUser {
  nkey: string;
  permissions?: Permissions;
  account?: string;
  allowedConnectionTypes?: string[];
}

/** One destination of a subject mapping; weights are percents (0–100). */
export interface MapDest {
  subject: string;
  weight: number;
  /** Applies only in this cluster (ignored without one). */
  cluster?: string;
}

/** A subject mapping (`mappings {}`): messages published on `source` go to one of the destinations. */
export interface SubjectMapping {
  source: string;
  destinations: MapDest[];
  /** Where the mapping was written ("file:line:col"), for errors found when the account is built. */
  pos?: string;
}

/** An `exports` entry of an account: `{stream: subject}` or `{service: subject}`. */
export interface AccountExport {
  kind: "stream" | "service";
  subject: string;
  /** Accounts allowed to import; absent means public. */
  accounts?: string[];
  /** 1-based token of the subject that must equal the importing account's name; 0 when unused. */
  accountTokenPosition: number;
  /** Services: "Singleton" (default), "Streamed" or "Chunked". */
  responseType?: "Singleton" | "Streamed" | "Chunked";
  /** Services: how long a response may take before the pending response is dropped; 0 = default (2m). */
  responseThresholdMs?: number;
  /** Services: latency tracking; sampling 1–100 percent, or 0 for "headers" (triggered by trace headers). */
  latency?: { sampling: number; subject: string };
}

/** An `imports` entry of an account. */
export interface AccountImport {
  kind: "stream" | "service";
  /** The exporting account. */
  account: string;
  /** The exported subject. */
  subject: string;
  /** Streams: prepended to the delivered subject. */
  prefix?: string;
  /** Streams: the local subject the stream appears on; services: the local subject clients publish to. */
  to?: string;
  /** Services: share the requestor's details with the exporter (latency tracking). */
  share?: boolean;
}

/** Per-account limits; -1 means unlimited. */
export interface AccountLimits {
  maxConnections: number;
  maxSubscriptions: number;
  maxPayload: number;
  maxLeafnodes: number;
}

/** One account of the `accounts {}` block. */
export interface AccountOptions {
  name: string;
  nkey?: string;
  exports: AccountExport[];
  imports: AccountImport[];
  defaultPermissions?: Permissions;
  mappings: SubjectMapping[];
  limits: AccountLimits;
  /** The account's raw `jetstream` value (`enabled`, or a map of limits), for the JetStream layer. */
  jetstream?: unknown;
}

/** Client TLS settings (the `tls {}` block and --tls* flags). */
export interface TlsOptions {
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  verify?: boolean;
  verifyAndMap?: boolean;
  insecure?: boolean;
  timeoutMs?: number;
  handshakeFirst?: boolean;
  minVersion?: string;
  cipherSuites?: string[];
  curvePreferences?: string[];
  /** Lower-case hex sha256 of the peer's DER SubjectPublicKeyInfo. */
  pinnedCerts?: string[];
  connectionRateLimit?: number;
  verifyCertAndCheckKnownUrls?: boolean;
  allowInsecureCipherSuites?: boolean;
  /** Several certificate pairs (`certs`/`certificates`). */
  certs?: { certFile: string; keyFile: string }[];
  /** `handshake_first` as a delay for `auto`/duration forms; 0 when plain true. */
  handshakeFirstFallbackMs?: number;
}

/** Route settings: only the flag-driven part for now (the `cluster {}` block is not yet mapped). */
export interface ClusterOptions {
  name: string;
  host: string;
  port: number;
  /** `--cluster`/`--cluster_listen` URL as given. */
  listenStr: string;
  advertise: string;
  noAdvertise: boolean;
  connectRetries: number;
  /** `--routes` URLs. */
  routes: string[];
}

/**
 * Every option the server reads. Field names are camelCase forms of the config keys. Operator mode
 * (`operator`, `trusted`, `resolver`, …) comes from OperatorOptions (src/config/_operator.ts).
 */
export interface Options extends OperatorOptions {
  configFile?: string;
  serverName: string;
  host: string;
  port: number;
  clientAdvertise?: string;

  httpHost: string;
  httpPort: number;
  httpsPort: number;
  httpBasePath: string;

  maxConn: number;
  maxSubs: number;
  maxSubTokens: number;
  maxPayload: number;
  maxControlLine: number;
  maxPending: number;
  pingIntervalMs: number;
  maxPingsOut: number;
  writeDeadlineMs: number;
  authTimeoutMs: number;
  /** `authorization { auth_callout {} }`; undefined when not configured. */
  authCallout?: AuthCalloutOptions;
  maxClosedClients: number;
  maxTracedMsgLen: number;
  noHeaderSupport: boolean;
  disableSublistCache: boolean;
  noFastProducerStall: boolean;
  lameDuckDurationMs: number;
  lameDuckGracePeriodMs: number;
  connectErrorReports: number;
  reconnectErrorReports: number;

  debug: boolean;
  trace: boolean;
  traceVerbose: boolean;
  logtime: boolean;
  logtimeUTC: boolean;
  logFile: string;
  logSizeLimit: number;
  syslog: boolean;
  remoteSyslog: string;
  pidFile: string;
  portsFileDir: string;

  // Authorization (single user, token, users, nkeys).
  username?: string;
  password?: string;
  authorization?: string;
  users: User[];
  nkeys: NkeyUser[];
  noAuthUser?: string;
  defaultPermissions?: Permissions;

  /** The `accounts {}` block. Users of an account carry its name in `users[].account` / `nkeys[].account`. */
  accounts: AccountOptions[];
  /** Top-level `mappings`, applied in the global account. */
  mappings: SubjectMapping[];
  /** Where `accounts` was written ("file:line:col"), prefixed to import/export errors found at startup. */
  accountsPos?: string;

  tls?: TlsOptions;
  allowNonTls: boolean;

  jetStream: boolean;
  storeDir: string;
  /** -1 means dynamic (a share of RAM / disk), as in nats-server. */
  jetStreamMaxMemory: number;
  jetStreamMaxStore: number;
  /** The `websocket {}` block (src/config/_websocket.ts); port 0 means no listener. */
  websocket: WebsocketOptions;
  /** The rest of the `jetstream {}` block (domain, strict, limits, sync_interval, …). */
  jetStreamOpts: JetStreamOptions;

  traceHeaders: boolean;
  logFileMaxNum: number;
  profPort: number;
  profBlockRate: number;
  /** `write_timeout` policy: "default", "close" or "retry"; "" when not set. */
  writeTimeout: string;
  serverTags: string[];
  serverMetadata: Record<string, string>;
  systemAccount: string;
  noSystemAccount: boolean;
  cluster: ClusterOptions;

  /** Raw config values of the keys listed in `unsupported`, for the features that will read them later. */
  unsupportedConfig: Record<string, unknown>;

  /** Keys nats-server knows whose feature natsdeno does not have yet: one warning each at startup. */
  unsupported: string[];
  /** Non-fatal findings while reading the config (deprecations and the like). */
  warnings: string[];
}

/** Defaults from nats-server's const.go and setBaselineOptions. */
export const DEFAULT_PORT = 4222;
export const DEFAULT_HOST = "0.0.0.0";
export const MAX_PAYLOAD_SIZE = 1024 * 1024;
export const MAX_CONTROL_LINE_SIZE = 4096;
export const MAX_PENDING_SIZE = 64 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 64 * 1024;
export const DEFAULT_PING_INTERVAL_MS = 2 * 60_000;
export const DEFAULT_PING_MAX_OUT = 2;
export const DEFAULT_WRITE_DEADLINE_MS = 10_000;
export const AUTH_TIMEOUT_MS = 2_000;
export const TLS_TIMEOUT_MS = 2_000;
export const DEFAULT_MAX_CLOSED_CLIENTS = 10_000;
export const DEFAULT_LAME_DUCK_DURATION_MS = 2 * 60_000;
export const DEFAULT_LAME_DUCK_GRACE_PERIOD_MS = 10_000;
export const DEFAULT_CONNECT_ERROR_REPORTS = 3600;
export const DEFAULT_RECONNECT_ERROR_REPORTS = 1;
export const DEFAULT_HTTP_PORT = 8222;
export const DEFAULT_HTTP_BASE_PATH = "/";
export const DEFAULT_SYSTEM_ACCOUNT = "$SYS";
export const DEFAULT_ALLOW_RESPONSE_MAX_MSGS = 1;
export const DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS = 2 * 60_000;

/** A fresh Options with nats-server's defaults; `overrides` replaces fields. */
export function defaultOptions(overrides: Partial<Options> = {}): Options {
  return {
    serverName: "",
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    httpHost: "",
    httpPort: 0,
    httpsPort: 0,
    httpBasePath: "",
    maxConn: DEFAULT_MAX_CONNECTIONS,
    maxSubs: 0,
    maxSubTokens: 0,
    maxPayload: MAX_PAYLOAD_SIZE,
    maxControlLine: MAX_CONTROL_LINE_SIZE,
    maxPending: MAX_PENDING_SIZE,
    pingIntervalMs: DEFAULT_PING_INTERVAL_MS,
    maxPingsOut: DEFAULT_PING_MAX_OUT,
    writeDeadlineMs: DEFAULT_WRITE_DEADLINE_MS,
    authTimeoutMs: 0,
    maxClosedClients: DEFAULT_MAX_CLOSED_CLIENTS,
    maxTracedMsgLen: 0,
    noHeaderSupport: false,
    disableSublistCache: false,
    noFastProducerStall: false,
    lameDuckDurationMs: DEFAULT_LAME_DUCK_DURATION_MS,
    lameDuckGracePeriodMs: DEFAULT_LAME_DUCK_GRACE_PERIOD_MS,
    connectErrorReports: DEFAULT_CONNECT_ERROR_REPORTS,
    reconnectErrorReports: DEFAULT_RECONNECT_ERROR_REPORTS,
    debug: false,
    trace: false,
    traceVerbose: false,
    logtime: true,
    logtimeUTC: false,
    logFile: "",
    logSizeLimit: 0,
    syslog: false,
    remoteSyslog: "",
    pidFile: "",
    portsFileDir: "",
    users: [],
    nkeys: [],
    trustedOperators: [],
    resolverPreload: {},
    accounts: [],
    mappings: [],
    allowNonTls: false,
    jetStream: false,
    storeDir: "",
    jetStreamMaxMemory: -1,
    jetStreamMaxStore: -1,
    websocket: defaultWebsocketOptions(),
    jetStreamOpts: defaultJetStreamOptions(),
    traceHeaders: false,
    logFileMaxNum: 0,
    profPort: 0,
    profBlockRate: 0,
    writeTimeout: "",
    serverTags: [],
    serverMetadata: {},
    systemAccount: "",
    noSystemAccount: false,
    cluster: {
      name: "",
      host: "",
      port: 0,
      listenStr: "",
      advertise: "",
      noAdvertise: false,
      connectRetries: 0,
      routes: [],
    },
    unsupportedConfig: {},
    unsupported: [],
    warnings: [],
    ...overrides,
  };
}
