// /connz: open and closed client connections, sorted and paged. Behaviour follows Connz() in
// nats-server server/monitor.go and the sort options of server/monitor_sort_opts.go.
//
// Cost: one light record (client, sort key) per candidate connection, then a sort of those records;
// the wire objects are built only for the requested page, so 10k connections with limit 10 build 10.

import { type Client, type Server, tlsPeerCerts } from "../server/mod.ts";
import { goTime, myUptime, nowMs, rttString } from "./_format.ts";
import { type ConnState, MonitorError } from "./_query.ts";

/** Default page size of /connz and /subsz. */
export const DEFAULT_LIST_SIZE = 1024;

/** Sort keys /connz accepts. Only cid and start sort ascending; the others descend. */
export const SORT_OPTIONS = [
  "cid",
  "start",
  "subs",
  "pending",
  "msgs_to",
  "msgs_from",
  "bytes_to",
  "bytes_from",
  "last",
  "idle",
  "uptime",
  "stop",
  "reason",
  "rtt",
] as const;
export type SortOpt = typeof SORT_OPTIONS[number];

/** What /connz takes; the HTTP handler fills it from the query. */
export interface ConnzOptions {
  sort?: string;
  /** Include authorized_user and account (`auth`). */
  auth?: boolean;
  subs?: boolean;
  subsDetail?: boolean;
  offset?: number;
  limit?: number;
  cid?: number;
  state?: ConnState;
  user?: string;
  acc?: string;
  mqttClient?: string;
}

/** One subscription as /connz and /subsz show it. */
export interface SubDetail {
  account?: string;
  subject: string;
  qgroup?: string;
  sid: string;
  msgs: number;
  max?: number;
  cid: number;
}

/** One connection of /connz, keys in nats-server's order; undefined fields are omitted. */
export interface ConnInfo {
  cid: number;
  kind?: string;
  type?: string;
  ip: string;
  port: number;
  start: string;
  "last_activity": string;
  stop?: string;
  reason?: string;
  rtt?: string;
  uptime: string;
  idle: string;
  "pending_bytes": number;
  "in_msgs": number;
  "out_msgs": number;
  "in_bytes": number;
  "out_bytes": number;
  subscriptions: number;
  name?: string;
  lang?: string;
  version?: string;
  "tls_version"?: string;
  "tls_cipher_suite"?: string;
  "tls_peer_certs"?: { subject?: string; "spki_sha256"?: string; "cert_sha256"?: string }[];
  "authorized_user"?: string;
  account?: string;
  "subscriptions_list"?: string[];
  "subscriptions_list_detail"?: SubDetail[];
  jwt?: string;
  "issuer_key"?: string;
  "name_tag"?: string;
  tags?: string[];
  "mqtt_client"?: string;
}

/** The /connz answer. */
export interface Connz {
  "server_id": string;
  now: string;
  "num_connections": number;
  total: number;
  offset: number;
  limit: number;
  connections: ConnInfo[] | null;
}

/** Builds the /connz answer; throws MonitorError (400) for invalid sort/state combinations. */
export function connz(s: Server, opts: ConnzOptions = {}): Connz {
  const sort = (opts.sort ?? "") === "" ? "cid" : opts.sort!;
  if (!(SORT_OPTIONS as readonly string[]).includes(sort)) {
    throw new MonitorError(`invalid sorting option: ${sort}`);
  }
  const state = opts.state ?? "open";
  if (sort === "stop" && state !== "closed") {
    throw new MonitorError("sort by stop only valid on closed connections");
  }
  if (sort === "reason" && state !== "closed") {
    throw new MonitorError("sort by reason only valid on closed connections");
  }
  const offset = Math.max(0, opts.offset ?? 0);
  let limit = opts.limit ?? 0;
  if (limit <= 0) limit = DEFAULT_LIST_SIZE;
  const cid = opts.cid ?? 0;
  if (cid > 0) limit = 1;
  const acc = opts.acc ?? "";
  const user = opts.user ?? "";
  const now = nowMs();
  const out: Connz = {
    "server_id": s.id,
    now: goTime(now),
    "num_connections": 0,
    total: 0,
    offset,
    limit,
    connections: [],
  };

  let open: Iterable<Client> = s.clients.values();
  let openCount = s.clients.size;
  if (acc !== "") {
    const a = s.accounts.get(acc);
    if (a === undefined) {
      // nats-server answers before it fills in its id.
      out.server_id = "";
      out.connections = null;
      return out;
    }
    const list = [...a.clients].filter((c) => !c.closed && (c.kind === "Client" || c.kind === "Leafnode"));
    open = list;
    openCount = list.length;
  }
  let closed: Client[] = [];
  if (state !== "open") {
    closed = acc === "" ? s.closedClients : s.closedClients.filter((c) => c.account.name === acc);
  }
  out.total = (state === "closed" ? 0 : openCount) + closed.length;

  // Candidates, filtered.
  const cands: Client[] = [];
  if (cid > 0) {
    if (state !== "open") {
      const c = closed.find((c) => c.cid === cid);
      if (c !== undefined) cands.push(c);
    }
    if (state !== "closed" && cands.length === 0) {
      const c = s.clients.get(cid);
      if (c !== undefined) cands.push(c);
    }
  } else {
    // Only MQTT connections have an MQTT client id, and natsdeno has none yet.
    const mqtt = opts.mqttClient ?? "";
    const keep = (c: Client) => mqtt === "" && (user === "" || (c.opts.user ?? "") === user);
    if (state !== "closed") { for (const c of open) if (keep(c)) cands.push(c); }
    for (const c of closed) if (keep(c)) cands.push(c);
  }
  if (cands.length === 0) return out;

  const page = sortAndPage(cands, sort as SortOpt, now, offset, limit);
  const conns = page.map((c) => connInfo(c, now, opts));
  out.connections = conns;
  out.num_connections = conns.length;
  return out;
}

// Sorts light (key, client) records and returns the clients of the page.
function sortAndPage(cands: Client[], sort: SortOpt, now: number, offset: number, limit: number): Client[] {
  const key = sortKey(sort, now);
  const n = cands.length;
  if (offset >= n) return [];
  const end = Math.min(n, offset + limit);
  if (key === undefined) {
    // cid/start ascending; open clients already come in cid order, closed ones too, but state=all mixes them.
    cands.sort((a, b) => a.cid - b.cid);
    return cands.slice(offset, end);
  }
  if (sort === "reason") {
    const recs = cands.map((c) => ({ c, r: c.closeReason ?? "" }));
    recs.sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : a.c.cid - b.c.cid));
    return recs.slice(offset, end).map((r) => r.c);
  }
  const recs = cands.map((c) => ({ c, k: key(c) }));
  // Descending, ties by cid for a stable answer (Go's sort.Sort leaves ties in no particular order).
  recs.sort((a, b) => (b.k - a.k) || (a.c.cid - b.c.cid));
  return recs.slice(offset, end).map((r) => r.c);
}

// Numeric key for the descending sorts; undefined for the ascending cid/start sort.
function sortKey(sort: SortOpt, now: number): ((c: Client) => number) | undefined {
  switch (sort) {
    case "cid":
    case "start":
      return undefined;
    case "subs":
      return (c) => c.subs.size;
    case "pending":
      return (c) => c.pendingBytes();
    case "msgs_to":
      return (c) => c.outMsgs;
    case "msgs_from":
      return (c) => c.inMsgs;
    case "bytes_to":
      return (c) => c.outBytes;
    case "bytes_from":
      return (c) => c.inBytes;
    case "last":
      return (c) => c.lastActivity;
    case "idle":
      // nats-server 2.9.10 compares last-start here; the documented meaning (and later releases) is idle time.
      return (c) => (c.stop?.getTime() ?? now) - c.lastActivity;
    case "uptime":
      return (c) => (c.stop?.getTime() ?? now) - c.start.getTime();
    case "stop":
      return (c) => c.stop?.getTime() ?? 0;
    case "rtt":
      return (c) => c.rttMs;
    case "reason":
      return () => 0;
  }
}

/** The /connz record of one client, open or closed. */
export function connInfo(c: Client, now: number, opts: ConnzOptions = {}): ConnInfo {
  const end = c.stop !== undefined ? c.stop.getTime() : now;
  const o = c.opts;
  const ci: ConnInfo = {
    cid: c.cid,
    kind: c.kind,
    type: c.kind === "Client" ? clientType(c) : undefined,
    ip: c.port !== 0 ? c.host : "",
    port: c.port,
    start: goTime(c.start.getTime()),
    "last_activity": goTime(c.lastActivity),
    stop: c.stop !== undefined ? goTime(c.stop.getTime()) : undefined,
    reason: c.closeReason || undefined,
    rtt: rttString(c.rttMs),
    uptime: myUptime(end - c.start.getTime()),
    idle: myUptime(end - c.lastActivity),
    "pending_bytes": c.pendingBytes(),
    "in_msgs": c.inMsgs,
    "out_msgs": c.outMsgs,
    "in_bytes": c.inBytes,
    "out_bytes": c.outBytes,
    subscriptions: c.subs.size,
    name: o.name || undefined,
    lang: o.lang || undefined,
    version: o.version || undefined,
    "tls_version": c.tlsVersion || undefined,
    "tls_cipher_suite": c.tlsCipher || undefined,
    "tls_peer_certs": undefined,
    "authorized_user": undefined,
    account: undefined,
    "subscriptions_list": undefined,
    "subscriptions_list_detail": undefined,
    jwt: undefined,
    "issuer_key": undefined,
    "name_tag": undefined,
    tags: undefined,
    "mqtt_client": undefined,
  };
  if (c.subs.size > 0) {
    if (opts.subsDetail) {
      // A closed connection's details name the account, as nats-server saves them at close.
      const withAcc = c.closed;
      ci.subscriptions_list_detail = [...c.subs.values()].map((sub) => ({
        account: withAcc ? c.account.name : undefined,
        subject: sub.subject,
        qgroup: sub.queue || undefined,
        sid: sub.sid,
        msgs: sub.nm,
        max: sub.max || undefined,
        cid: c.cid,
      }));
    } else if (opts.subs) {
      ci.subscriptions_list = [...c.subs.values()].map((sub) => sub.subject);
    }
  }
  if (opts.auth) {
    ci.authorized_user = (c.closed ? o.user : rawAuthUser(c)) || undefined;
    if (c.account.name !== "$G") ci.account = c.account.name;
    ci.jwt = o.jwt || undefined;
    // As nats-server: only with auth, and not for closed connections (their records are saved without).
    if (!c.closed) ci.tls_peer_certs = tlsPeerCerts(c);
  }
  return ci;
}

// "nats" for plain clients; transports that know better (websocket, mqtt) set clientType on the client.
function clientType(c: Client): string {
  return (c as unknown as { clientType?: string }).clientType ?? "nats";
}

// The identity a client authenticated with, as nats-server's getRawAuthUser picks it.
function rawAuthUser(c: Client): string {
  const o = c.opts;
  if (o.nkey) return o.nkey;
  if (o.user) return o.user;
  if (o.jwt) return c.authResult?.user ?? "";
  if (o.auth_token) return o.auth_token;
  return "";
}
