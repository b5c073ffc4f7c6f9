// The system account's internal client and the events it publishes: client connect/disconnect, account
// connection counts, periodic server statistics, auth errors, lame duck and shutdown. Behaviour follows
// nats-server server/events.go (2.9.10 shapes; LAMEDUCK as later releases send it).
//
// Events are queued and published from a microtask, as nats-server's internal send loop does: an event
// raised while a client's read is being parsed never re-enters that client's routing.

import { VERSION } from "../protocol/mod.ts";
import type { Account, Client, Server } from "../server/mod.ts";
import { encoder, Nuid, type TimerEntry } from "../util/mod.ts";
import { goJson, goTime, nowMs } from "./_format.ts";
import { accountStatz } from "./accountz.ts";
import { CpuSampler } from "./varz.ts";

export const CONNECT_EVENT_TYPE = "io.nats.server.advisory.v1.client_connect";
export const DISCONNECT_EVENT_TYPE = "io.nats.server.advisory.v1.client_disconnect";
export const ACCOUNT_CONNS_TYPE = "io.nats.server.advisory.v1.account_connections";

/** How often an account with local connections repeats its connection count (eventsHBInterval). */
export const EVENTS_HB_MS = 30_000;
/** The STATSZ heartbeat starts at this interval and doubles up to EVENTS_HB_MS. */
export const STATSZ_FIRST_MS = 250;

/** The `server` object of every event and response. */
export interface EventServerInfo {
  name: string;
  host: string;
  id: string;
  cluster?: string;
  domain?: string;
  ver: string;
  tags?: string[];
  seq: number;
  jetstream: boolean;
  time: string;
}

/** The `client` object of connect, disconnect and auth error events. */
export interface EventClientInfo {
  start?: string;
  host?: string;
  id?: number;
  acc: string;
  svc?: string;
  user?: string;
  name?: string;
  lang?: string;
  ver?: string;
  rtt?: number;
  server?: string;
  cluster?: string;
  alts?: string[];
  stop?: string;
  jwt?: string;
  "issuer_key"?: string;
  "name_tag"?: string;
  tags?: string[];
  kind?: string;
  "client_type"?: string;
  "client_id"?: string;
}

/** Messages and bytes. */
export interface DataStats {
  msgs: number;
  bytes: number;
}

/** $SYS.ACCOUNT.<acc>.CONNECT */
export interface ConnectEventMsg {
  type: string;
  id: string;
  timestamp: string;
  server: EventServerInfo;
  client: EventClientInfo;
}

/** $SYS.ACCOUNT.<acc>.DISCONNECT and $SYS.SERVER.<id>.CLIENT.AUTH.ERR */
export interface DisconnectEventMsg extends ConnectEventMsg {
  sent: DataStats;
  received: DataStats;
  reason: string;
}

/** $SYS.ACCOUNT.<acc>.SERVER.CONNS (and the legacy $SYS.SERVER.ACCOUNT.<acc>.CONNS). */
export interface AccountNumConns {
  type: string;
  id: string;
  timestamp: string;
  server: EventServerInfo;
  acc: string;
  conns: number;
  leafnodes: number;
  "total_conns": number;
  sent: DataStats;
  received: DataStats;
  "slow_consumers": number;
}

/** The `statsz` object of $SYS.SERVER.<id>.STATSZ. */
export interface ServerStats {
  start: string;
  mem: number;
  cores: number;
  cpu: number;
  connections: number;
  "total_connections": number;
  "active_accounts": number;
  subscriptions: number;
  sent: DataStats;
  received: DataStats;
  "slow_consumers": number;
  routes?: unknown[];
  gateways?: unknown[];
  "active_servers"?: number;
  jetstream?: unknown;
}

/** $SYS.SERVER.<id>.STATSZ and the STATSZ request answer. */
export interface ServerStatsMsg {
  server: EventServerInfo;
  statsz: ServerStats;
}

/** A placeholder the send queue fills with the server's identity, sequence and time. */
export function blankServerInfo(): EventServerInfo {
  return { name: "", host: "", id: "", ver: "", seq: 0, jetstream: false, time: "" };
}

interface Pending {
  client: Client;
  subject: string;
  reply: string | undefined;
  body: unknown;
  si: EventServerInfo | undefined;
}

/**
 * The system account at work: its internal client, the send queue, the event hooks on the server and
 * the timers (STATSZ, per-account connection heartbeats). One per server, from startSystemServices().
 */
export class SystemEvents {
  readonly server: Server;
  readonly account: Account;
  /** The system account's internal client ("System" kind, echo off). */
  readonly client: Client;
  /** Longest STATSZ interval; tests shorten it. */
  statszMaxMs = EVENTS_HB_MS;
  /** Account connection heartbeat; tests shorten it. */
  accountHbMs = EVENTS_HB_MS;

  #seq = 0;
  readonly #nuid = new Nuid();
  readonly #cpu = new CpuSampler();
  #queue: Pending[] = [];
  #running = true;
  #statszMs = STATSZ_FIRST_MS;
  #statszTimer: TimerEntry | undefined;
  readonly #accTimers = new Map<Account, TimerEntry>();

  constructor(server: Server, account: Account) {
    this.server = server;
    this.account = account;
    this.client = server.systemClient() ?? server.createInternalClient("System", account);
    this.client.echo = false;
  }

  /** False once the LAMEDUCK or SHUTDOWN event went out: nothing more is sent. */
  get running(): boolean {
    return this.#running;
  }

  /** Registers the server hooks and starts the STATSZ heartbeat. */
  start(): void {
    const s = this.server;
    s.onAccountClient.push((a, c, added) => this.#accountClientChanged(a, c, added));
    s.onClientConnected.push((c) => this.#connectEvent(c));
    s.onClientClosed.push((c) => this.#disconnectEvent(c));
    s.onAuthError.push((c) => this.#authErrorEvent(c));
    s.onAccountAuthError.push((c, a, reason) => this.#accountAuthErrorEvent(c, a, reason));
    s.onLameDuck.push(() => this.#finalEvent(`$SYS.SERVER.${s.id}.LAMEDUCK`));
    s.onShuttingDown.push(() => this.#finalEvent(`$SYS.SERVER.${s.id}.SHUTDOWN`));
    this.#statszTimer = s.timers.after(this.#statszMs, () => this.#heartbeatStatsz());
  }

  /** A new event id (a NUID, 22 characters). */
  nextEventId(): string {
    return this.#nuid.next();
  }

  /**
   * Queues `body` for `subject`, published by `from` (the system client unless an account's own internal
   * client answers). `si`, when given, is filled with the server's identity at send time, as the
   * reference's send loop does.
   */
  send(
    subject: string,
    reply: string | undefined,
    body: unknown,
    opts: { si?: EventServerInfo; from?: Client } = {},
  ): void {
    if (!this.#running) return;
    this.#queue.push({ client: opts.from ?? this.client, subject, reply, body, si: opts.si });
    if (this.#queue.length === 1) queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    const q = this.#queue;
    this.#queue = [];
    for (const pm of q) this.#publish(pm);
  }

  #publish(pm: Pending): void {
    if (pm.si !== undefined) this.#fillServerInfo(pm.si);
    const b = pm.body;
    const payload = b instanceof Uint8Array ? b : encoder.encode(typeof b === "string" ? b : goJson(b));
    try {
      pm.client.publishInternal(pm.subject, pm.reply, undefined, payload);
    } catch (e) {
      this.server.log.error(
        `Error publishing system event on "${pm.subject}": ${(e as Error)?.message ?? e}`,
      );
    }
  }

  #fillServerInfo(si: EventServerInfo): void {
    const s = this.server;
    const o = s.opts;
    si.name = s.name;
    si.host = o.host;
    si.id = s.id;
    si.cluster = o.cluster?.name || undefined;
    si.domain = (o as { jetStreamDomain?: string }).jetStreamDomain || undefined;
    si.ver = VERSION;
    si.tags = o.serverTags.length > 0 ? [...o.serverTags] : undefined;
    si.seq = ++this.#seq;
    si.jetstream = false;
    si.time = goTime(nowMs());
  }

  // ---- Events ---------------------------------------------------------------------------------------

  /** CONNS on every account a client joins (the global account included) and leaves (except it). */
  #accountClientChanged(a: Account, c: Client, added: boolean): void {
    if (c.kind !== "Client" && c.kind !== "Leafnode") return;
    if (!added && a === this.server.gacc) return;
    this.sendAccConns(a, [`$SYS.SERVER.ACCOUNT.${a.name}.CONNS`, `$SYS.ACCOUNT.${a.name}.SERVER.CONNS`]);
  }

  /**
   * Sends the account's connection count to each subject and keeps its heartbeat: repeated every
   * accountHbMs while it has local connections, stopped at zero.
   */
  sendAccConns(a: Account, subjects: string[]): void {
    if (!this.#running) return;
    const timers = this.server.timers;
    timers.cancel(this.#accTimers.get(a));
    this.#accTimers.delete(a);
    // Counting the account's connections walks them; with nobody listening (the common case) only the
    // heartbeat is kept, so a connect storm into one account stays linear.
    if (!subjects.some((subj) => this.#hasInterest(subj))) {
      if (a.clients.size > 0) this.#scheduleAccConns(a);
      return;
    }
    const stat = accountStatz(this.server, { accounts: [a.name], unused: true }).account_statz[0];
    const m: AccountNumConns = {
      type: ACCOUNT_CONNS_TYPE,
      id: this.nextEventId(),
      timestamp: goTime(nowMs()),
      server: blankServerInfo(),
      acc: a.name,
      conns: stat?.conns ?? 0,
      leafnodes: stat?.leafnodes ?? 0,
      "total_conns": stat?.total_conns ?? 0,
      sent: stat?.sent ?? { msgs: 0, bytes: 0 },
      received: stat?.received ?? { msgs: 0, bytes: 0 },
      "slow_consumers": stat?.slow_consumers ?? 0,
    };
    if (m.total_conns > 0) this.#scheduleAccConns(a);
    // Each subject's copy is stamped at send time, so each gets its own sequence, as in the reference.
    for (const subj of subjects) {
      const own = blankServerInfo();
      this.send(subj, undefined, { ...m, server: own }, { si: own });
    }
  }

  #scheduleAccConns(a: Account): void {
    this.#accTimers.set(
      a,
      this.server.timers.after(this.accountHbMs, () => {
        this.#accTimers.delete(a);
        this.sendAccConns(a, [`$SYS.SERVER.ACCOUNT.${a.name}.CONNS`, `$SYS.ACCOUNT.${a.name}.SERVER.CONNS`]);
      }),
    );
  }

  /** True when a subscription in the system account, other than the system client's own, gets `subject`. */
  #hasInterest(subject: string): boolean {
    const r = this.account.sl.match(subject);
    if (r.qsubs.length > 0) return true;
    for (const sub of r.psubs) if (sub.client !== this.client) return true;
    return false;
  }

  /** True when an account heartbeat is scheduled (tests). */
  hasAccountHeartbeat(a: Account): boolean {
    return this.#accTimers.has(a);
  }

  #connectEvent(c: Client): void {
    if (c.kind !== "Client" && c.kind !== "Leafnode") return;
    // 2.9.10 reports nothing for the global account.
    if (c.account === this.server.gacc) return;
    const si = blankServerInfo();
    const m: ConnectEventMsg = {
      type: CONNECT_EVENT_TYPE,
      id: this.nextEventId(),
      timestamp: goTime(nowMs()),
      server: si,
      client: clientInfo(c, {}),
    };
    this.send(`$SYS.ACCOUNT.${c.account.name}.CONNECT`, undefined, m, { si });
  }

  #disconnectEvent(c: Client): void {
    if (c.kind !== "Client" && c.kind !== "Leafnode") return;
    if (c.account === this.server.gacc) return;
    const m = disconnectMsg(c, this.nextEventId(), c.closeReason ?? "");
    this.send(`$SYS.ACCOUNT.${c.account.name}.DISCONNECT`, undefined, m, { si: m.server });
  }

  #authErrorEvent(c: Client): void {
    const m = disconnectMsg(c, this.nextEventId(), "Authentication Failure");
    this.send(`$SYS.SERVER.${this.server.id}.CLIENT.AUTH.ERR`, undefined, m, { si: m.server });
  }

  /** $SYS.ACCOUNT.CLIENT.AUTH.ERR inside account `a` (an auth callout's refusal), with the reason. */
  #accountAuthErrorEvent(c: Client, a: Account, reason: string): void {
    const ic = a.internalClient();
    if (ic === undefined) return;
    const m = disconnectMsg(c, this.nextEventId(), reason);
    this.send("$SYS.ACCOUNT.CLIENT.AUTH.ERR", undefined, m, { si: m.server, from: ic });
  }

  /** The server's statistics, as STATSZ sends them. */
  statsz(): ServerStatsMsg {
    const s = this.server;
    let active = 0;
    for (const a of s.accounts.values()) {
      // The system account counts its internal client, as the reference registers it there.
      if (a === this.account || hasClients(a)) active++;
    }
    return {
      server: blankServerInfo(),
      statsz: {
        start: goTime(s.start.getTime()),
        mem: Deno.memoryUsage().rss,
        cores: navigator.hardwareConcurrency ?? 1,
        cpu: this.#cpu.percent(),
        connections: s.clients.size,
        "total_connections": s.totalConnections,
        "active_accounts": active,
        subscriptions: s.numSubscriptions(),
        sent: { msgs: s.outMsgs, bytes: s.outBytes },
        received: { msgs: s.inMsgs, bytes: s.inBytes },
        "slow_consumers": s.slowConsumers,
        "active_servers": 1,
      },
    };
  }

  /** Publishes STATSZ on `subject` (the broadcast subject unless a request gave a reply). */
  sendStatsz(subject: string, from?: Client): void {
    const m = this.statsz();
    this.send(subject, undefined, m, { si: m.server, from });
  }

  #heartbeatStatsz(): void {
    if (!this.#running) return;
    if (this.#statszMs < this.statszMaxMs) this.#statszMs = Math.min(this.#statszMs * 2, this.statszMaxMs);
    this.#statszTimer = this.server.timers.after(this.#statszMs, () => this.#heartbeatStatsz());
    this.sendStatsz(`$SYS.SERVER.${this.server.id}.STATSZ`);
  }

  /** Restarts the STATSZ heartbeat at `ms` (tests). */
  resetStatszTimer(ms: number): void {
    this.statszMaxMs = ms;
    this.#statszMs = ms;
    this.server.timers.cancel(this.#statszTimer);
    this.#statszTimer = this.server.timers.after(ms, () => this.#heartbeatStatsz());
  }

  /**
   * LAMEDUCK or SHUTDOWN: the server's identity as the body, published and flushed at once; then the
   * events stop (the reference's send loop ends with this message).
   */
  #finalEvent(subject: string): void {
    if (!this.#running) return;
    this.#drain();
    const si = blankServerInfo();
    this.#publish({ client: this.client, subject, reply: undefined, body: si, si });
    this.#running = false;
    this.server.flushPending();
    this.stop();
  }

  /** Cancels the timers and drops what is queued. */
  stop(): void {
    this.#running = false;
    this.#queue = [];
    const timers = this.server.timers;
    timers.cancel(this.#statszTimer);
    this.#statszTimer = undefined;
    for (const t of this.#accTimers.values()) timers.cancel(t);
    this.#accTimers.clear();
  }
}

function hasClients(a: Account): boolean {
  for (const c of a.clients) if (!c.closed) return true;
  return false;
}

function disconnectMsg(c: Client, id: string, reason: string): DisconnectEventMsg {
  const now = goTime(nowMs());
  return {
    type: DISCONNECT_EVENT_TYPE,
    id,
    timestamp: now,
    server: blankServerInfo(),
    client: clientInfo(c, { stop: now, rtt: true }),
    sent: { msgs: c.inMsgs, bytes: c.inBytes },
    received: { msgs: c.outMsgs, bytes: c.outBytes },
    reason,
  };
}

/** The `client` object of an event: the connection as the reference describes it. */
export function clientInfo(c: Client, opts: { stop?: string; rtt?: boolean }): EventClientInfo {
  const o = c.opts;
  return {
    start: goTime(c.start.getTime()),
    host: c.host || undefined,
    id: c.cid || undefined,
    acc: c.account.name,
    user: rawAuthUser(c) || undefined,
    name: o.name || undefined,
    lang: o.lang || undefined,
    ver: o.version || undefined,
    rtt: opts.rtt ? rttNs(c.rttMs) || undefined : undefined,
    stop: opts.stop,
    jwt: o.jwt || undefined,
    kind: c.kind,
    "client_type": c.kind === "Client" ? clientType(c) : undefined,
  };
}

/** A round-trip time in nanoseconds, truncated to microseconds between 1µs and 1ms as the reference does. */
function rttNs(ms: number): number {
  let ns = Math.floor(ms * 1e6);
  if (ns > 1_000 && ns < 1_000_000) ns = Math.floor(ns / 1_000) * 1_000;
  return ns;
}

function clientType(c: Client): string {
  return (c as unknown as { clientType?: string }).clientType ?? "nats";
}

/** The identity a client authenticated with (nkey, user, token), as the reference's getRawAuthUser. */
export function rawAuthUser(c: Client): string {
  const o = c.opts;
  if (o.nkey) return o.nkey;
  if (o.user) return o.user;
  // no_auth_user and JWT users: the name authentication settled on.
  if (c.authResult?.user) return c.authResult.user;
  if (o.auth_token) return o.auth_token;
  return "";
}
