// The endpoints that a single, non-clustered, non-JetStream server answers with fixed shapes: /routez,
// /gatewayz, /leafz, /jsz and /healthz. Behaviour follows the matching functions of nats-server
// server/monitor.go; cluster and jetstream will fill these in when they land.

import type { Server } from "../server/mod.ts";
import { goTime, nowMs } from "./_format.ts";
import { MonitorError } from "./_query.ts";

/** The /routez answer. */
export interface Routez {
  "server_id": string;
  now: string;
  import?: unknown;
  export?: unknown;
  "num_routes": number;
  routes: unknown[];
}

/** Builds /routez (no routes yet). */
export function routez(s: Server, _opts: { subs?: boolean; subsDetail?: boolean } = {}): Routez {
  return { "server_id": s.id, now: goTime(nowMs()), "num_routes": 0, routes: [] };
}

/** The /gatewayz answer. */
export interface Gatewayz {
  "server_id": string;
  now: string;
  name?: string;
  host?: string;
  port?: number;
  "outbound_gateways": Record<string, unknown>;
  "inbound_gateways": Record<string, unknown>;
}

/** Builds /gatewayz (gateways not enabled). */
export function gatewayz(
  s: Server,
  _opts: { name?: string; accounts?: boolean; accountName?: string } = {},
): Gatewayz {
  return { "server_id": s.id, now: goTime(nowMs()), "outbound_gateways": {}, "inbound_gateways": {} };
}

/** The /leafz answer: `leafs` is null when there are none, as nats-server prints it. */
export interface Leafz {
  "server_id": string;
  now: string;
  leafnodes: number;
  leafs: unknown[] | null;
}

/** Builds /leafz (no leaf nodes yet). */
export function leafz(s: Server, _opts: { subs?: boolean; acc?: string } = {}): Leafz {
  return { "server_id": s.id, now: goTime(nowMs()), leafnodes: 0, leafs: null };
}

/** Options of /jsz. */
export interface JszOptions {
  acc?: string;
  accounts?: boolean;
  streams?: boolean;
  consumers?: boolean;
  config?: boolean;
  leaderOnly?: boolean;
  offset?: number;
  limit?: number;
}

/** Builds /jsz for a server without JetStream; throws MonitorError for leader-only requests. */
export function jsz(s: Server, opts: JszOptions = {}): Record<string, unknown> {
  if (s.jetStream !== undefined) {
    const o = opts;
    return s.jetStream.jsz({
      accounts: o.accounts,
      streams: o.streams,
      consumers: o.consumers,
      config: o.config,
      account: o.acc,
    });
  }
  if (opts.leaderOnly) throw new MonitorError("filtered response: not leader");
  return {
    "server_id": s.id,
    now: goTime(nowMs()),
    disabled: true,
    config: { "max_memory": 0, "max_storage": 0 },
    memory: 0,
    storage: 0,
    "reserved_memory": 0,
    "reserved_storage": 0,
    accounts: 0,
    "ha_assets": 0,
    api: { total: 0, errors: 0 },
    streams: 0,
    consumers: 0,
    messages: 0,
    bytes: 0,
  };
}

/** The /healthz answer. */
export interface HealthStatus {
  status: string;
  error?: string;
}

/** Options of /healthz that apply before JetStream exists. */
export interface HealthzOptions {
  jsEnabledOnly?: boolean;
  jsServerOnly?: boolean;
}

/** Builds /healthz: ok once the client listener is up and, when configured, JetStream is running. */
export function healthz(s: Server, _opts: HealthzOptions = {}): HealthStatus {
  if (!s.running) {
    return { status: "error", error: "failed to be ready for connections after 1ms" };
  }
  if (s.opts.jetStream && (s.jetStream === undefined || s.jetStream.enabled?.() === false)) {
    return { status: "unavailable", error: "JetStream not enabled (10076)" };
  }
  const jsErr = s.jetStream?.healthError?.();
  if (jsErr !== undefined) return { status: "unavailable", error: jsErr };
  // TODO(jetstream): with jetstream enabled, report the rest of its state as nats-server does.
  return { status: "ok" };
}
