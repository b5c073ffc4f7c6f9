// /accountz (account names, or one account's detail) and /accstatz (per-account traffic). Behaviour
// follows Accountz(), accountInfo() and AccountStatz() in nats-server server/monitor.go.

import type { Account, Server, ServiceImport } from "../server/mod.ts";
import { goTime, nowMs } from "./_format.ts";
import { MonitorError } from "./_query.ts";
import { type SublistStatsJson, sublistStatsJson } from "./subsz.ts";
import { systemAccountName } from "./varz.ts";

/** One account's detail, keys in nats-server's order; undefined fields are omitted. */
export interface AccountInfo {
  "account_name": string;
  "update_time": string;
  "is_system"?: boolean;
  expired: boolean;
  complete: boolean;
  "jetstream_enabled": boolean;
  "leafnode_connections": number;
  "client_connections": number;
  subscriptions: number;
  mappings?: Record<string, unknown>;
  exports?: unknown[];
  imports?: unknown[];
  jwt?: string;
  "issuer_key"?: string;
  "name_tag"?: string;
  tags?: string[];
  "decoded_jwt"?: unknown;
  "validation_result_jwt"?: unknown[];
  "revoked_user"?: Record<string, string>;
  "sublist_stats"?: SublistStatsJson;
  responses?: Record<string, unknown>;
}

/** The /accountz answer. */
export interface Accountz {
  "server_id": string;
  now: string;
  "system_account"?: string;
  accounts?: string[];
  "account_detail"?: AccountInfo;
}

/** Builds /accountz: every account's name, or with `acc` that account's detail. */
export function accountz(s: Server, opts: { acc?: string } = {}): Accountz {
  const out: Accountz = {
    "server_id": s.id,
    now: goTime(nowMs()),
    "system_account": systemAccountName(s),
    accounts: undefined,
    "account_detail": undefined,
  };
  const name = opts.acc ?? "";
  if (name === "") {
    out.accounts = [...s.accounts.keys()];
    return out;
  }
  out.account_detail = accountInfo(s, name);
  return out;
}

/** One account's detail; throws MonitorError when it does not exist. */
export function accountInfo(s: Server, name: string): AccountInfo {
  const a = s.accounts.get(name);
  if (a === undefined) throw new MonitorError(`Account ${name} does not exist`);
  return {
    "account_name": name,
    // TODO(monitor): accounts keep no update time yet; the server's start stands in for it.
    "update_time": goTime(s.start.getTime()),
    "is_system": name === systemAccountName(s) || undefined,
    expired: false,
    complete: true,
    "jetstream_enabled": false,
    "leafnode_connections": countKind(a, "Leafnode"),
    "client_connections": countKind(a, "Client"),
    subscriptions: a.sl.count(),
    ...accountDetail(a),
    "sublist_stats": sublistStatsJson(a.sl.stats()),
    responses: a.responses.size > 0
      ? Object.fromEntries([...a.responses].map(([k, v]) => [k, extImport(v)]))
      : undefined,
  };
}

/** Mappings, exports and imports in nats-server's ExtMap/ExtExport/ExtImport shapes (omitted when empty). */
function accountDetail(a: Account): Pick<AccountInfo, "mappings" | "exports" | "imports"> {
  const mappings: Record<string, unknown> = {};
  for (const m of a.mappings) {
    const dests: unknown[] = m.dests.map((d) => ({ subject: d.tr.dest, weight: d.weight }));
    for (const [c, list] of m.cdests ?? []) {
      for (const d of list) dests.push({ subject: d.tr.dest, weight: d.weight, cluster: c });
    }
    mappings[m.src] = dests;
  }
  const exports: unknown[] = [];
  for (const [subject, se] of a.serviceExports) {
    const approved = [...se.auth.approved?.keys() ?? []];
    exports.push({
      subject,
      type: "service",
      "token_req": se.auth.tokenReq || undefined,
      "response_type": se.respType,
      "service_latency": se.latency
        ? { sampling: se.latency.sampling, results: se.latency.subject }
        : undefined,
      "account_token_position": se.auth.accountPos || undefined,
      "approved_accounts": approved.length > 0 ? approved : undefined,
    });
  }
  for (const [subject, ea] of a.streamExports) {
    const approved = [...ea?.approved?.keys() ?? []];
    exports.push({
      subject,
      type: "stream",
      "token_req": ea?.tokenReq || undefined,
      "account_token_position": ea?.accountPos || undefined,
      "approved_accounts": approved.length > 0 ? approved : undefined,
    });
  }
  const imports: unknown[] = [];
  for (const im of a.streamImports) {
    imports.push({
      subject: im.from,
      account: im.acc.name,
      "local_subject": im.to,
      type: "stream",
      invalid: im.invalid,
      share: false,
      tracking: false,
    });
  }
  for (const si of a.serviceImports.values()) imports.push(extImport(si));
  return {
    mappings: a.mappings.length > 0 ? mappings : undefined,
    exports: exports.length > 0 ? exports : undefined,
    imports: imports.length > 0 ? imports : undefined,
  };
}

function extImport(si: ServiceImport): Record<string, unknown> {
  return {
    subject: si.from,
    account: si.acc.name,
    to: si.to,
    type: "service",
    invalid: si.invalid,
    share: si.share,
    tracking: si.tracking,
    "tracking_header": si.trackingHdr,
    latency: si.latency ? { sampling: si.latency.sampling, results: si.latency.subject } : undefined,
  };
}

function countKind(a: Account, kind: string): number {
  let n = 0;
  for (const c of a.clients) if (c.kind === kind && !c.closed) n++;
  return n;
}

/** Traffic of one account. */
export interface AccountStat {
  acc: string;
  conns: number;
  leafnodes: number;
  "total_conns": number;
  sent: { msgs: number; bytes: number };
  received: { msgs: number; bytes: number };
  "slow_consumers": number;
}

/** The /accstatz answer. */
export interface AccountStatz {
  "server_id": string;
  now: string;
  "account_statz": AccountStat[];
}

/** Builds /accstatz: accounts with connections, or all of them with `unused`. */
export function accountStatz(s: Server, opts: { unused?: boolean; accounts?: string[] } = {}): AccountStatz {
  const out: AccountStatz = { "server_id": s.id, now: goTime(nowMs()), "account_statz": [] };
  const list = opts.accounts && opts.accounts.length > 0
    ? opts.accounts.map((n) => s.accounts.get(n)).filter((a): a is Account => a !== undefined)
    : [...s.accounts.values()];
  for (const a of list) {
    const conns = countKind(a, "Client");
    if (!opts.unused && conns === 0) continue;
    out.account_statz.push(accountStat(a, conns));
  }
  return out;
}

// TODO(monitor): nats-server counts account traffic cumulatively on the delivery path; until the server
// keeps per-account counters, this sums the account's current connections (closed ones drop out).
function accountStat(a: Account, conns: number): AccountStat {
  const leafs = countKind(a, "Leafnode");
  let inMsgs = 0, inBytes = 0, outMsgs = 0, outBytes = 0;
  for (const c of a.clients) {
    inMsgs += c.inMsgs;
    inBytes += c.inBytes;
    outMsgs += c.outMsgs;
    outBytes += c.outBytes;
  }
  return {
    acc: a.name,
    conns,
    leafnodes: leafs,
    "total_conns": conns + leafs,
    sent: { msgs: outMsgs, bytes: outBytes },
    received: { msgs: inMsgs, bytes: inBytes },
    "slow_consumers": 0,
  };
}
