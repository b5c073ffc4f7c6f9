// /varz: server identity, limits, configuration blocks and runtime counters. Behaviour follows Varz(),
// createVarz() and updateVarzRuntimeFields() in nats-server server/monitor.go.

import process from "node:process";
import { PROTO, VERSION } from "../protocol/mod.ts";
import { NATSDENO_VERSION, type Server } from "../server/mod.ts";
import { goTime, msToNs, myUptime, nowMs } from "./_format.ts";
import { websocketBlock } from "./_varz_websocket.ts";

/** The /varz answer, keys in nats-server's order; undefined fields are omitted. */
export interface Varz {
  "server_id": string;
  "server_name": string;
  version: string;
  proto: number;
  "git_commit"?: string;
  go: string;
  host: string;
  port: number;
  "auth_required"?: boolean;
  "tls_required"?: boolean;
  "tls_verify"?: boolean;
  ip?: string;
  "connect_urls"?: string[];
  "ws_connect_urls"?: string[];
  "max_connections": number;
  "max_subscriptions"?: number;
  "ping_interval": number;
  "ping_max": number;
  "http_host": string;
  "http_port": number;
  "http_base_path": string;
  "https_port": number;
  "auth_timeout": number;
  "max_control_line": number;
  "max_payload": number;
  "max_pending": number;
  cluster: Record<string, unknown>;
  gateway: Record<string, unknown>;
  leaf: Record<string, unknown>;
  mqtt: Record<string, unknown>;
  websocket: Record<string, unknown>;
  jetstream: Record<string, unknown>;
  "tls_timeout": number;
  "write_deadline": number;
  start: string;
  now: string;
  uptime: string;
  mem: number;
  cores: number;
  gomaxprocs: number;
  cpu: number;
  connections: number;
  "total_connections": number;
  routes: number;
  remotes: number;
  leafnodes: number;
  "in_msgs": number;
  "out_msgs": number;
  "in_bytes": number;
  "out_bytes": number;
  "slow_consumers": number;
  subscriptions: number;
  "http_req_stats": Record<string, number>;
  "config_load_time": string;
  tags?: string[];
  "trusted_operators_jwt"?: string[];
  "trusted_operators_claim"?: unknown[];
  "system_account"?: string;
  "pinned_account_fails"?: number;
}

/** Options for varz(). */
export interface VarzOptions {
  /** Process CPU percent to report; without it, the average since the process started. */
  cpu?: number;
}

/**
 * Samples process CPU use over windows of at least a second, as nats-server's pse does, so /varz shows
 * recent load rather than the lifetime average.
 */
export class CpuSampler {
  #lastWall = nowMs();
  #lastCpu = cpuMicros();
  #value = 0;

  /** Percent of one core, one decimal. */
  percent(): number {
    const wall = nowMs();
    if (wall - this.#lastWall >= 1000) {
      const cpu = cpuMicros();
      this.#value = round1(((cpu - this.#lastCpu) / 1000 / (wall - this.#lastWall)) * 100);
      this.#lastWall = wall;
      this.#lastCpu = cpu;
    }
    return this.#value;
  }
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function cores(): number {
  return navigator.hardwareConcurrency ?? 1;
}

/** Builds the /varz answer. Reading it does not count as an HTTP request (http_req_stats). */
export function varz(s: Server, opts: VarzOptions = {}): Varz {
  const o = s.opts;
  const now = nowMs();
  const tls = o.tls;
  const cpu = opts.cpu ?? round1((cpuMicros() / 1000 / Math.max(1, performance.now())) * 100);
  let subs = 0;
  for (const a of s.accounts.values()) subs += a.sl.count();
  const stats: Record<string, number> = {};
  for (const k of [...s.httpReqStats.keys()].sort()) stats[k] = s.httpReqStats.get(k)!;
  return {
    "server_id": s.id,
    "server_name": s.name,
    version: VERSION,
    proto: PROTO,
    "git_commit": undefined,
    go: `natsdeno/${NATSDENO_VERSION}`,
    host: o.host,
    port: s.port,
    "auth_required": s.auth.authRequired || undefined,
    "tls_required": (tls !== undefined && !o.allowNonTls) || undefined,
    "tls_verify": tls?.verify || undefined,
    ip: undefined,
    "connect_urls": undefined,
    "ws_connect_urls": undefined,
    "max_connections": o.maxConn,
    "max_subscriptions": o.maxSubs || undefined,
    "ping_interval": msToNs(o.pingIntervalMs),
    "ping_max": o.maxPingsOut,
    "http_host": o.httpHost || o.host,
    "http_port": o.httpPort,
    "http_base_path": o.httpBasePath,
    "https_port": o.httpsPort,
    "auth_timeout": s.authTimeoutMs() / 1000,
    "max_control_line": o.maxControlLine,
    "max_payload": o.maxPayload,
    "max_pending": o.maxPending,
    cluster: clusterBlock(s),
    gateway: {},
    leaf: {},
    mqtt: {},
    websocket: websocketBlock(s),
    jetstream: s.jetStream?.varz() ?? {},
    "tls_timeout": (tls?.timeoutMs ?? 2000) / 1000,
    "write_deadline": msToNs(o.writeDeadlineMs),
    start: goTime(s.start.getTime()),
    now: goTime(now),
    uptime: myUptime(now - s.start.getTime()),
    mem: Deno.memoryUsage().rss,
    cores: cores(),
    gomaxprocs: cores(),
    cpu,
    connections: s.clients.size,
    "total_connections": s.totalConnections,
    routes: 0,
    remotes: 0,
    leafnodes: 0,
    "in_msgs": s.inMsgs,
    "out_msgs": s.outMsgs,
    "in_bytes": s.inBytes,
    "out_bytes": s.outBytes,
    "slow_consumers": s.slowConsumers,
    subscriptions: subs,
    "http_req_stats": stats,
    "config_load_time": goTime(s.configTime.getTime()),
    tags: o.serverTags.length > 0 ? [...o.serverTags] : undefined,
    "trusted_operators_jwt": undefined,
    "trusted_operators_claim": undefined,
    "system_account": systemAccountName(s),
    "pinned_account_fails": undefined,
  };
}

/** The system account's name, or undefined when the server runs without one. */
export function systemAccountName(s: Server): string | undefined {
  if (s.opts.noSystemAccount) return undefined;
  return s.opts.systemAccount || "$SYS";
}

// The cluster block: empty until a cluster port is configured, as nats-server prints it.
function clusterBlock(s: Server): Record<string, unknown> {
  const c = s.opts.cluster;
  if (!c || c.port === 0) return {};
  return {
    name: c.name || undefined,
    addr: c.host || undefined,
    "cluster_port": c.port || undefined,
    "auth_timeout": 2,
    urls: c.routes.length > 0 ? c.routes.map(routeHostPort) : undefined,
    "tls_timeout": 2,
  };
}

function routeHostPort(u: string): string {
  try {
    return new URL(u).host;
  } catch {
    return u;
  }
}
