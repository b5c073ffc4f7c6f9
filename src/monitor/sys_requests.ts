// The system account's request/reply services: $SYS.REQ.SERVER.{PING,<id>}.<Z> over the monitor builders,
// $SYS.REQ.ACCOUNT.<acc>.<Z>, KICK/LDM, USER.INFO and $SYS.DEBUG.SUBSCRIBERS, plus the imports every
// account gets. Behaviour follows initEventTracking(), zReq(), filterRequest(), registerSystemImports()
// and the handlers of nats-server server/events.go (IDZ, KICK, LDM and USER.INFO as 2.10+ answer them).

import { createHash } from "node:crypto";
import type { Account, Client, Server, ServiceImport, Subscription } from "../server/mod.ts";
import { ClosedState } from "../server/mod.ts";
import { subjectIsLiteral, subjectIsSubsetMatch } from "../sublist/mod.ts";
import { decoder } from "../util/mod.ts";
import { accountInfo, accountStatz, accountz } from "./accountz.ts";
import { connz, type ConnzOptions } from "./connz.ts";
import { gatewayz, healthz, jsz, leafz, routez } from "./endpoints.ts";
import { subsz } from "./subsz.ts";
import { CpuSampler, varz } from "./varz.ts";
import { decodeRequest, type FieldSpec, type RequestError } from "./_sys_json.ts";
import { blankServerInfo, type EventServerInfo, rawAuthUser, type SystemEvents } from "./sys_events.ts";

/** The `{server, data, error}` envelope of every $SYS.REQ answer. */
export interface ServerApiResponse {
  server: EventServerInfo;
  data?: unknown;
  error?: { code: number; description?: string };
}

/** A handler's way to say "not for this server / nothing to report": no answer at all. */
const SKIP = Symbol("skip");

/**
 * A failure the reference reports without a `data` key. Other builder failures carry `"data": null`, as
 * the reference's typed nil pointers marshal.
 */
class NoDataError extends Error {}

type Options = Record<string, unknown>;
type Build = (o: Options) => unknown;

/** EventFilterOptions: which servers a request is meant for. */
const FILTER_FIELDS: Record<string, FieldSpec> = {
  "server_name": "string",
  cluster: "string",
  host: "string",
  "exact_match": "bool",
  tags: "strings",
  domain: "string",
};

const CONNZ_FIELDS: Record<string, FieldSpec> = {
  sort: "string",
  auth: "bool",
  subscriptions: "bool",
  "subscriptions_detail": "bool",
  offset: "int",
  limit: "int",
  cid: "uint",
  "mqtt_client": "string",
  state: "connstate",
  user: "string",
  acc: "string",
  "filter_subject": "string",
};
const SUBSZ_FIELDS: Record<string, FieldSpec> = {
  offset: "int",
  limit: "int",
  subscriptions: "bool",
  account: "string",
  test: "string",
};
const ROUTEZ_FIELDS: Record<string, FieldSpec> = { subscriptions: "bool", "subscriptions_detail": "bool" };
const GATEWAYZ_FIELDS: Record<string, FieldSpec> = {
  name: "string",
  accounts: "bool",
  "account_name": "string",
};
const LEAFZ_FIELDS: Record<string, FieldSpec> = { subscriptions: "bool", account: "string" };
const ACCOUNTZ_FIELDS: Record<string, FieldSpec> = { account: "string" };
const ACCSTATZ_FIELDS: Record<string, FieldSpec> = { accounts: "strings", "include_unused": "bool" };
const JSZ_FIELDS: Record<string, FieldSpec> = {
  account: "string",
  accounts: "bool",
  streams: "bool",
  consumer: "bool",
  config: "bool",
  "leader_only": "bool",
  offset: "int",
  limit: "int",
};
const HEALTHZ_FIELDS: Record<string, FieldSpec> = { "js-enabled-only": "bool", "js-server-only": "bool" };
const CID_FIELDS: Record<string, FieldSpec> = { cid: "uint" };

const CONN_STATES = ["open", "closed", "all"] as const;

/** The system services of one server: subscriptions in the system account and in every other account. */
export class SystemRequests {
  readonly sys: SystemEvents;
  readonly server: Server;
  readonly #cpu = new CpuSampler();
  /** Each non-system account's internal client, which holds its system imports and answers for them. */
  readonly #importClients = new Map<Account, Client>();
  /** The service imports made by registerSystemImports (they need no export authorization). */
  readonly #systemImports = new WeakSet<ServiceImport>();

  constructor(sys: SystemEvents) {
    this.sys = sys;
    this.server = sys.server;
  }

  /** Subscribes every service, in the order the reference does, and imports them into existing accounts. */
  start(): void {
    const s = this.server;
    const id = s.id;
    const sub = (
      subject: string,
      f: (subject: string, reply: string | undefined, from: Client, p: Uint8Array) => void,
    ) =>
      this.sys.client.subscribeInternal(
        subject,
        (_sub, from, subj, reply, _hdr, payload) => f(subj, reply, from, payload),
      );
    const none = () => {};
    const shash = sysHash(s.name);
    // Cluster bookkeeping (remote servers, claims, latency): subscribed as the reference does, so the
    // system account looks the same; a single server receives nothing on them.
    sub(`$SYS._INBOX.${shash}.*`, none);
    sub("$SYS.SERVER.ACCOUNT.*.CONNS", none);
    sub(`$SYS._INBOX_.${id}`, none);
    sub("$SYS.REQ.ACCOUNT.NSUBS", none);
    sub("$SYS.SERVER.*.STATSZ", none);
    sub("$SYS.SERVER.*.SHUTDOWN", none);
    sub("$SYS.SERVER.*.LAMEDUCK", none);
    sub("$SYS.ACCOUNT.*.CLAIMS.UPDATE", none);
    sub("$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE", none);
    sub("$SYS.REQ.SERVER.PING", (_s, reply, from, p) => this.#statszReq(reply, from, p));

    const monitor: [string, (reply: string | undefined, from: Client, p: Uint8Array) => void][] = [
      ["IDZ", (r) => this.#idzReq(r)],
      ["STATSZ", (r, f, p) => this.#statszReq(r, f, p)],
      [
        "VARZ",
        (r, f, p) => this.#zReq(r, f, p, "VarzEventOptions", {}, () => varz(s, { cpu: this.#cpu.percent() })),
      ],
      [
        "SUBSZ",
        (r, f, p) => this.#zReq(r, f, p, "SubszEventOptions", SUBSZ_FIELDS, (o) => subsz(s, subszOpts(o))),
      ],
      [
        "CONNZ",
        (r, f, p) => this.#zReq(r, f, p, "ConnzEventOptions", CONNZ_FIELDS, (o) => connz(s, connzOpts(o))),
      ],
      [
        "ROUTEZ",
        (r, f, p) =>
          this.#zReq(r, f, p, "RoutezEventOptions", ROUTEZ_FIELDS, (o) => routez(s, routezOpts(o))),
      ],
      [
        "GATEWAYZ",
        (r, f, p) =>
          this.#zReq(r, f, p, "GatewayzEventOptions", GATEWAYZ_FIELDS, (o) => gatewayz(s, gatewayzOpts(o))),
      ],
      [
        "LEAFZ",
        (r, f, p) => this.#zReq(r, f, p, "LeafzEventOptions", LEAFZ_FIELDS, (o) => leafz(s, leafzOpts(o))),
      ],
      [
        "ACCOUNTZ",
        (r, f, p) =>
          this.#zReq(
            r,
            f,
            p,
            "AccountzEventOptions",
            ACCOUNTZ_FIELDS,
            (o) => accountz(s, { acc: str(o.account) }),
          ),
      ],
      ["JSZ", (r, f, p) => this.#zReq(r, f, p, "JszEventOptions", JSZ_FIELDS, (o) => jsz(s, jszOpts(o)))],
      [
        "HEALTHZ",
        (r, f, p) =>
          this.#zReq(r, f, p, "HealthzEventOptions", HEALTHZ_FIELDS, (o) =>
            healthz(s, {
              jsEnabledOnly: o["js-enabled-only"] === true,
              jsServerOnly: o["js-server-only"] === true,
            })),
      ],
    ];
    for (const [name, h] of monitor) {
      sub(`$SYS.REQ.SERVER.${id}.${name}`, (_s, r, f, p) => h(r, f, p));
      sub(`$SYS.REQ.SERVER.PING.${name}`, (_s, r, f, p) => h(r, f, p));
    }

    for (const name of ["SUBSZ", "CONNZ", "LEAFZ", "JSZ", "INFO", "STATZ", "CONNS"]) {
      sub(`$SYS.REQ.ACCOUNT.*.${name}`, (subj, r, f, p) => this.#accountReq(name, subj, r, f, p));
    }
    sub(`$SYS.REQ.USER.*.INFO`, (_s, r, f) => this.#userInfoReq(r, f, this.sys.client));
    sub("$SYS.REQ.ACCOUNT.PING.STATZ", (_s, r, f, p) => this.#accountPingStatz(r, f, p));
    sub("$SYS.ACCOUNT.*.LEAFNODE.CONNECT", none);
    sub(`$SYS.LATENCY.M2.${shash}`, none);
    sub("$SYS.DEBUG.SUBSCRIBERS", (_s, r, f, p) => this.#debugSubscribers(r, f, p));
    sub(`$SYS.REQ.SERVER.${id}.KICK`, (_s, r, f, p) => this.#kickReq(r, f, p));
    sub(`$SYS.REQ.SERVER.${id}.LDM`, (_s, r, f, p) => this.#ldmReq(r, f, p));

    this.addSystemExports();
    for (const a of s.accounts.values()) this.registerSystemImports(a);
    s.onAccountClient.push((a) => this.registerSystemImports(a));
    s.onAccountRebuilt.push((a) => this.#accountRebuilt(a));
  }

  /**
   * The services the system account exports for every account to import (addSystemAccountExports):
   * ACCOUNT.<acc>.CONNZ and .STATZ (streamed, the importer's name in token 4), USER.<acc>.INFO, and
   * $SYS.DEBUG.SUBSCRIBERS. Re-added when the system account's exports are rebuilt (JWT updates, reload).
   */
  addSystemExports(): void {
    const sacc = this.sys.account;
    const exp = (subject: string, opts: Parameters<Account["addServiceExport"]>[1]) => {
      // An export of the system account's own (JWT or config) that covers the subject is kept.
      for (const k of sacc.serviceExports.keys()) if (subjectIsSubsetMatch(subject, k)) return;
      try {
        sacc.addServiceExport(subject, opts);
      } catch (e) {
        this.server.log.error(`Error adding system service export for ${JSON.stringify(subject)}: ${e}`);
      }
    };
    exp("$SYS.REQ.ACCOUNT.*.CONNZ", { responseType: "Streamed", accountTokenPosition: 4 });
    exp("$SYS.REQ.ACCOUNT.*.STATZ", { responseType: "Streamed", accountTokenPosition: 4 });
    exp("$SYS.DEBUG.SUBSCRIBERS", {});
    exp("$SYS.REQ.USER.*.INFO", { accountTokenPosition: 4 });
  }

  /**
   * Gives account `a` the services every account imports from the system account (registerSystemImports):
   * $SYS.REQ.ACCOUNT.PING.CONNZ and $SYS.REQ.SERVER.PING.CONNZ → ACCOUNT.<a>.CONNZ, ACCOUNT.PING.STATZ →
   * ACCOUNT.<a>.STATZ, and USER.INFO → USER.<a>.INFO. They are service imports: the request crosses into the
   * system account with its requester (USER.INFO answers for the calling client) and /accountz lists them.
   * An import of the same local subject from the account's own configuration or JWT is kept.
   */
  registerSystemImports(a: Account): void {
    const sacc = this.sys.account;
    // Every account has an internal client, the system account too (it takes a client id, as there).
    let ic = this.#importClients.get(a);
    if (ic === undefined) {
      ic = a.internalClient() ?? this.server.createInternalClient("Account", a);
      ic.echo = false;
      this.#importClients.set(a, ic);
    }
    if (a === sacc) return;
    const imp = (from: string, to: string) => {
      if (a.serviceImports.has(from)) return;
      try {
        this.#systemImports.add(a.addServiceImport(sacc, from, to, { internal: true }));
      } catch (e) {
        this.server.log.error(
          `Error setting up system service import ${from} -> ${to} for account: ${(e as Error).message}`,
        );
      }
    };
    const connz = `$SYS.REQ.ACCOUNT.${a.name}.CONNZ`;
    imp("$SYS.REQ.ACCOUNT.PING.CONNZ", connz);
    imp("$SYS.REQ.SERVER.PING.CONNZ", connz);
    imp("$SYS.REQ.ACCOUNT.PING.STATZ", `$SYS.REQ.ACCOUNT.${a.name}.STATZ`);
    imp("$SYS.REQ.USER.INFO", `$SYS.REQ.USER.${a.name}.INFO`);
  }

  /** An account's imports or the system account's exports were rebuilt: the system ones come back. */
  #accountRebuilt(a: Account): void {
    if (a === this.sys.account) {
      this.addSystemExports();
      for (const other of this.server.accounts.values()) {
        // Rechecked against the rebuilt exports, the server's own imports stay valid.
        for (const si of other.serviceImports.values()) {
          if (!this.#systemImports.has(si)) continue;
          si.invalid = false;
          si.se = a.getServiceExport(si.to);
        }
        this.registerSystemImports(other);
      }
    } else if (this.#importClients.has(a) || a.clients.size > 0) this.registerSystemImports(a);
  }

  /** The internal client that answers for account `a` (tests). */
  importClient(a: Account): Client | undefined {
    return this.#importClients.get(a);
  }

  // ---- Handlers -----------------------------------------------------------------------------------------

  /**
   * The common request path (zReq): decode the options, drop requests meant for other servers, build
   * the answer, wrap it in {server, data} or {server, error}. No reply subject, no answer.
   */
  #zReq(
    reply: string | undefined,
    from: Client,
    payload: Uint8Array,
    structName: string,
    fields: Record<string, FieldSpec>,
    build: Build,
    responder?: Client,
  ): void {
    if (reply === undefined || reply === "") return;
    void from;
    const resp: ServerApiResponse = { server: blankServerInfo() };
    let opts: Options = {};
    if (payload.length > 0) {
      const r = decodeRequest(decoder.decode(payload), structName, { ...fields, ...FILTER_FIELDS });
      if ("error" in r) {
        resp.error = { code: 400, description: (r as RequestError).error };
        this.sys.send(reply, undefined, resp, { si: resp.server, from: responder });
        return;
      }
      opts = r.value;
      if (this.#filtered(opts)) return;
    }
    try {
      const data = build(opts);
      if (data === SKIP) return;
      resp.data = data ?? undefined;
    } catch (e) {
      if (!(e instanceof NoDataError)) resp.data = null;
      resp.error = { code: 500, description: (e as Error)?.message ?? String(e) };
    }
    this.sys.send(reply, undefined, resp, { si: resp.server, from: responder });
  }

  /** filterRequest: true when the request names another server, cluster, host, tags or domain. */
  #filtered(o: Options): boolean {
    const s = this.server;
    const exact = o.exact_match === true;
    const differs = (want: unknown, have: string) =>
      typeof want === "string" && want !== "" && (exact ? have !== want : !have.includes(want));
    if (differs(o.server_name, s.name)) return true;
    if (differs(o.host, s.opts.host)) return true;
    if (differs(o.cluster, s.opts.cluster?.name ?? "")) return true;
    const tags = Array.isArray(o.tags) ? o.tags as string[] : [];
    for (const t of tags) if (!s.opts.serverTags.includes(t)) return true;
    const domain = str(o.domain);
    if (domain !== undefined && domain !== "") {
      if (((s.opts as { jetStreamDomain?: string }).jetStreamDomain ?? "") !== domain) return true;
    }
    return false;
  }

  /** STATSZ (and the legacy $SYS.REQ.SERVER.PING): the statistics message itself, not an envelope. */
  #statszReq(reply: string | undefined, _from: Client, payload: Uint8Array): void {
    const s = this.server;
    const to = reply === undefined || reply === "" ? `$SYS.SERVER.${s.id}.STATSZ` : reply;
    if (payload.length > 0) {
      const r = decodeRequest(decoder.decode(payload), "StatszEventOptions", FILTER_FIELDS);
      if ("error" in r) {
        const resp: ServerApiResponse = {
          server: blankServerInfo(),
          error: { code: 400, description: r.error },
        };
        this.sys.send(to, undefined, resp, { si: resp.server });
        return;
      }
      if (this.#filtered(r.value)) return;
    }
    this.sys.sendStatsz(to);
  }

  /** IDZ: name, host and id, with no envelope. */
  #idzReq(reply: string | undefined): void {
    if (reply === undefined || reply === "") return;
    const s = this.server;
    this.sys.send(reply, undefined, { name: s.name, host: s.opts.host, id: s.id });
  }

  /** $SYS.REQ.ACCOUNT.<acc>.<name>; `responder` answers into an importing account. */
  #accountReq(
    name: string,
    subject: string,
    reply: string | undefined,
    from: Client,
    payload: Uint8Array,
    responder?: Client,
  ): void {
    const s = this.server;
    const tk = subject.split(".");
    const acc = tk.length === 5 ? tk[3] : undefined;
    const malformed = () => new NoDataError(`subject ${JSON.stringify(subject)} is malformed`);
    switch (name) {
      case "SUBSZ":
        return this.#zReq(reply, from, payload, "SubszEventOptions", SUBSZ_FIELDS, (o) => {
          if (acc === undefined) throw malformed();
          return subsz(s, { ...subszOpts(o), subs: true, acc });
        }, responder);
      case "CONNZ":
        return this.#zReq(reply, from, payload, "ConnzEventOptions", CONNZ_FIELDS, (o) => {
          if (acc === undefined) throw malformed();
          return connz(s, { ...connzOpts(o), acc });
        }, responder);
      case "LEAFZ":
        return this.#zReq(reply, from, payload, "LeafzEventOptions", LEAFZ_FIELDS, (o) => {
          if (acc === undefined) throw malformed();
          return leafz(s, { ...leafzOpts(o), acc });
        }, responder);
      case "JSZ":
        return this.#zReq(reply, from, payload, "JszEventOptions", JSZ_FIELDS, () => {
          if (acc === undefined) throw malformed();
          // TODO(jetstream): the account's JetStream detail once JetStream is in.
          throw new Error("jetstream not enabled");
        }, responder);
      case "INFO":
        return this.#zReq(reply, from, payload, "AccInfoEventOptions", {}, () => {
          if (acc === undefined) throw malformed();
          return accountInfo(s, acc);
        }, responder);
      case "STATZ":
        return this.#zReq(reply, from, payload, "AccountStatzEventOptions", ACCSTATZ_FIELDS, (o) => {
          if (acc === undefined) throw malformed();
          if (acc === "PING") return SKIP;
          const unused = o.include_unused === true;
          const stz = accountStatz(s, { accounts: [acc], unused });
          return stz.account_statz.length === 0 && !unused ? SKIP : stz;
        }, responder);
      case "CONNS":
        return this.#connsReq(acc, reply, payload);
    }
  }

  /** $SYS.REQ.ACCOUNT.PING.STATZ in the system account: every account with connections. */
  #accountPingStatz(reply: string | undefined, from: Client, payload: Uint8Array): void {
    this.#zReq(reply, from, payload, "AccountStatzEventOptions", ACCSTATZ_FIELDS, (o) => {
      const unused = o.include_unused === true;
      const accounts = Array.isArray(o.accounts) ? o.accounts as string[] : undefined;
      const stz = accountStatz(this.server, { accounts, unused });
      return stz.account_statz.length === 0 && !unused ? SKIP : stz;
    });
  }

  /** $SYS.REQ.ACCOUNT.<acc>.CONNS: the account's connection count, when it has local connections. */
  #connsReq(acc: string | undefined, reply: string | undefined, payload: Uint8Array): void {
    if (acc === undefined) return;
    if (payload.length > 0) {
      try {
        const m = JSON.parse(decoder.decode(payload));
        if (m?.acc !== undefined && m.acc !== acc) return;
      } catch {
        return;
      }
    }
    const a = this.server.accounts.get(acc);
    if (a === undefined || reply === undefined || reply === "") return;
    let local = 0;
    for (const c of a.clients) if (c.kind === "Client" && !c.closed) local++;
    if (local > 0) this.sys.sendAccConns(a, [reply]);
  }

  /** USER.INFO: who the requesting connection is, its account and permissions. */
  #userInfoReq(reply: string | undefined, from: Client, responder: Client): void {
    if (reply === undefined || reply === "") return;
    const resp: ServerApiResponse = {
      server: blankServerInfo(),
      data: {
        user: rawAuthUser(from),
        account: from.account.name,
        permissions: publicPermissions(this.server, from),
      },
    };
    this.sys.send(reply, undefined, resp, { si: resp.server, from: responder });
  }

  /** KICK {"cid": n}: closes a client connection. */
  #kickReq(reply: string | undefined, from: Client, payload: Uint8Array): void {
    const cid = this.#cidOf(payload);
    if (cid === undefined) return;
    this.#zReq(reply, from, payload, "EventFilterOptions", CID_FIELDS, () => {
      const c = this.server.clients.get(cid);
      if (c === undefined) throw new NoDataError("no such client or leafnode id");
      c.close(ClosedState.Kicked);
      return undefined;
    });
  }

  /** LDM {"cid": n}: tells one client, by an INFO with "ldm", to move to another server. */
  #ldmReq(reply: string | undefined, from: Client, payload: Uint8Array): void {
    const cid = this.#cidOf(payload);
    if (cid === undefined) return;
    this.#zReq(reply, from, payload, "EventFilterOptions", CID_FIELDS, () => {
      const c = this.server.clients.get(cid);
      if (c === undefined) throw new NoDataError("no such client id");
      if ((c.opts.protocol ?? 0) < 1 || !c.connectReceived) {
        throw new NoDataError(
          "client does not support Lame Duck Mode or is not ready to receive the notification",
        );
      }
      const info = this.server.clientInfo(c).replace(/^INFO \{/, `INFO {"ldm":true,`);
      c.enqueue(new TextEncoder().encode(info));
      c.flushSoon();
      return undefined;
    });
  }

  #cidOf(payload: Uint8Array): number | undefined {
    try {
      const m = JSON.parse(decoder.decode(payload));
      const cid = m?.cid ?? 0;
      return typeof cid === "number" ? cid : undefined;
    } catch (e) {
      this.server.log.error(`Error unmarshalling kick client request: ${(e as Error).message}`);
      return undefined;
    }
  }

  /**
   * $SYS.DEBUG.SUBSCRIBERS: the number of client subscriptions in the requester's account matching the
   * payload "subject [queue]" (wildcards count the subscriptions they cover). Answers a bare integer.
   */
  #debugSubscribers(reply: string | undefined, from: Client, payload: Uint8Array): void {
    if (from.kind !== "Client" || reply === undefined || reply === "") return;
    const args = decoder.decode(payload).trim().split(" ");
    const subject = args[0] ?? "";
    const queue = args.length > 1 ? args[1] : undefined;
    const acc = from.account;
    let n = 0;
    const counts = (sub: Subscription) =>
      (queue === undefined || sub.queue === queue) && sub.client.kind === "Client";
    if (subject !== "" && subjectIsLiteral(subject)) {
      const r = acc.sl.match(subject);
      if (queue === undefined) { for (const sub of r.psubs) if (counts(sub)) n++; }
      for (const g of r.qsubs) for (const sub of g) if (counts(sub)) n++;
    } else if (subject !== "") {
      for (const sub of acc.sl.all()) if (subjectIsSubsetMatch(sub.subject, subject) && counts(sub)) n++;
    }
    this.sys.send(reply, undefined, String(n));
  }
}

// ---- Option mapping (request JSON → builder options) ----------------------------------------------------

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" ? v : undefined;
}

function connzOpts(o: Options): ConnzOptions {
  const st = num(o.state) ?? 0;
  return {
    sort: str(o.sort),
    auth: o.auth === true,
    subs: o.subscriptions === true,
    subsDetail: o.subscriptions_detail === true,
    offset: num(o.offset),
    limit: num(o.limit),
    cid: num(o.cid),
    state: CONN_STATES[st] ?? "open",
    user: str(o.user),
    acc: str(o.acc),
    mqttClient: str(o.mqtt_client),
  };
}

function subszOpts(o: Options) {
  return {
    subs: o.subscriptions === true,
    offset: num(o.offset),
    limit: num(o.limit),
    acc: str(o.account),
    test: str(o.test),
  };
}

function routezOpts(o: Options) {
  return { subs: o.subscriptions === true, subsDetail: o.subscriptions_detail === true };
}

function gatewayzOpts(o: Options) {
  return { name: str(o.name), accounts: o.accounts === true, accountName: str(o.account_name) };
}

function leafzOpts(o: Options) {
  return { subs: o.subscriptions === true, acc: str(o.account) };
}

function jszOpts(o: Options) {
  return {
    acc: str(o.account),
    accounts: o.accounts === true,
    streams: o.streams === true,
    consumers: o.consumer === true,
    config: o.config === true,
    leaderOnly: o.leader_only === true,
    offset: num(o.offset),
    limit: num(o.limit),
  };
}

/** The permissions of the user behind `c`, as USER.INFO shows them; undefined when unrestricted. */
function publicPermissions(s: Server, c: Client): unknown {
  if (c.perms === undefined) return undefined;
  const o = s.opts;
  const user = c.opts.nkey
    ? o.nkeys.find((n) => n.nkey === c.opts.nkey)
    : o.users.find((u) => u.username === (c.authResult?.user ?? c.opts.user));
  const p = c.authResult?.source ?? user?.permissions ?? o.defaultPermissions;
  if (p === undefined) return undefined;
  const side = (sp?: { allow?: string[]; deny?: string[] }) => ({
    allow: sp?.allow && sp.allow.length > 0 ? [...sp.allow] : undefined,
    deny: sp?.deny && sp.deny.length > 0 ? [...sp.deny] : undefined,
  });
  const r = c.perms.response;
  return {
    publish: side(p.publish),
    subscribe: side(p.subscribe),
    responses: r ? { max: r.maxMsgs, ttl: Math.round(r.expiresMs * 1e6) } : undefined,
  };
}

const HASH_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** The 8-character hash of the server name that targets this server in cluster subjects (getHash). */
export function sysHash(name: string): string {
  // The reference keeps sha256(name) bytes mod 62; a synchronous digest keeps start() synchronous.
  const digest = sha256(new TextEncoder().encode(name));
  let out = "";
  for (let i = 0; i < 8; i++) out += HASH_DIGITS[digest[i] % 62];
  return out;
}

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(b).digest());
}
