// An account: an isolated subject space with its own sublist, clients, exports, imports, subject mappings and
// limits. Behaviour follows nats-server server/accounts.go.
//
// API for other layers (JWT/operator mode builds accounts through these; JetStream reads `jetstreamConfig`):
//   exports:  addStreamExport(subject, accounts?, tokenPos?), addServiceExport(subject, opts?),
//             setServiceExportResponseThreshold(), trackServiceExport(service, results, sampling?)
//   imports:  addStreamImport(exporter, from, prefix), addMappedStreamImport(exporter, from, to),
//             addServiceImport(exporter, from, to, opts?) — `from` is the local subject, `to` the exporter's
//   mappings: addMapping(src, dest), addWeightedMappings(src, dests), removeMapping(src),
//             selectMappedSubject(subject)
//   limits:   maxConnections, maxSubscriptions, maxPayload, maxLeafnodes (-1 = unlimited)
// Every method throws AccountError with nats-server's error text.

import { subjectIsLiteral, type SubjectTransform, Sublist } from "../sublist/mod.ts";
import type { MapDest, Permissions } from "../config/mod.ts";
import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import type { Subscription } from "./subscription.ts";
import {
  checkExportAuth,
  type ExportAuth,
  type ImportClaim,
  type Mapping,
  newMapping,
  selectMapped,
  setExportAuth,
} from "./_account_exports.ts";
import {
  addServiceImportSub,
  checkForReverseEntry,
  type ResponseType,
  type ServiceExport,
  type ServiceImport,
  type ServiceLatencyConfig,
  type StreamImport,
  streamImportFor,
} from "./_account_service.ts";
import { AccountError, ERR } from "./_account_errors.ts";
import {
  serviceImportFormsCycle,
  serviceImportTransform,
  streamImportFormsCycle,
  untokenized,
} from "./_account_cycles.ts";

export { AccountError } from "./_account_errors.ts";
export type { ExportAuth, ImportClaim } from "./_account_exports.ts";
export type { ResponseType, ServiceExport, ServiceImport, StreamImport } from "./_account_service.ts";

/** The global account's name. */
export const GLOBAL_ACCOUNT = "$G";
/** The default system account's name. */
export const SYSTEM_ACCOUNT = "$SYS";
/** How long a pending service response is kept by default (DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD). */
export const DEFAULT_RESPONSE_THRESHOLD_MS = 2 * 60_000;
/** How deep import cycle detection follows imports before giving up. */
export const MAX_ACCOUNT_CYCLE_SEARCH_DEPTH = 1024;

/**
 * Checks an import's activation token against an export that requires one (installed by operator mode);
 * `expTimer` asks for a timer that re-checks the import when the token expires.
 */
export type ActivationCheck = (
  importer: Account,
  claim: ImportClaim | undefined,
  ea: ExportAuth | undefined,
  expTimer: boolean,
) => boolean;

/** Options of addServiceExport(). */
export interface ServiceExportOptions {
  /** Accounts allowed to import; undefined means public, an empty list means an activation token is needed. */
  accounts?: Account[];
  responseType?: ResponseType;
  accountTokenPosition?: number;
}

/** An account and what lives in it. */
export class Account {
  readonly name: string;
  readonly sl: Sublist<Subscription>;
  readonly clients = new Set<Client>();
  /** The server this account is registered with; internal subscriptions need it. */
  server: Server | undefined;
  /** The account's public nkey (operator mode, or `nkey` in the config). */
  nkey?: string;
  /** Permissions for users of this account that have none of their own. */
  defaultPermissions?: Permissions;
  /** The account's raw `jetstream` config value (`enabled`, or a map of limits), for the JetStream layer. */
  jetstreamConfig?: unknown;
  /** Verifies activation tokens of imports from this account (operator mode). */
  activationCheck?: ActivationCheck;
  /** The account JWT import entries that made this account's imports (operator mode). */
  readonly importClaims = new WeakMap<StreamImport | ServiceImport, ImportClaim>();

  /** Limits; -1 means unlimited. */
  maxConnections = -1;
  maxSubscriptions = -1;
  maxPayload = -1;
  maxLeafnodes = -1;

  /** Exported streams by subject; undefined auth means public. */
  readonly streamExports = new Map<string, ExportAuth | undefined>();
  readonly serviceExports = new Map<string, ServiceExport>();
  readonly streamImports: StreamImport[] = [];
  /** Service imports by local subject. */
  readonly serviceImports = new Map<string, ServiceImport>();
  /** Pending responses of exported services, by the `_R_.` reply handed to the responder. */
  readonly responses = new Map<string, ServiceImport>();
  /** Requestor reply subjects with pending responses in other accounts, for cleanup when interest goes. */
  readonly rrMap = new Map<string, { acc: Account; msub: string }[]>();

  /** Subject mappings, checked in order; `hasMappings` is the publish path's one check. */
  readonly mappings: Mapping[] = [];
  hasMappings = false;

  /** `_R_.<10 chars>.` prefix of replies for responses, made on the first service request. */
  siReply: string | undefined;
  /** Messages and bytes sent and received by this account's clients. */
  inMsgs = 0;
  outMsgs = 0;
  #ic: Client | undefined;
  #eventIds = 0;

  constructor(name: string, opts: { cache?: boolean } = {}) {
    this.name = name;
    this.sl = new Sublist<Subscription>({ cache: opts.cache ?? true });
  }

  toString(): string {
    return this.name;
  }

  addClient(c: Client): void {
    this.clients.add(c);
  }

  removeClient(c: Client): void {
    this.clients.delete(c);
  }

  /** Client connections counted against max_connections. */
  numLocalConnections(): number {
    return this.clients.size;
  }

  /** True when one more client would exceed max_connections. */
  maxTotalConnectionsReached(): boolean {
    return this.maxConnections !== -1 && this.clients.size >= this.maxConnections;
  }

  /** Number of subscriptions in this account (imports' internal ones included, as nats-server counts). */
  totalSubs(): number {
    return this.sl.count();
  }

  /** A unique id for events this account publishes. */
  nextEventId(): string {
    return `${this.name}-${Date.now().toString(36)}-${(++this.#eventIds).toString(36)}`;
  }

  /**
   * The account's internal client (kind "Account"), created on first use; undefined while the account is not
   * registered with a server.
   */
  internalClient(): Client | undefined {
    if (this.#ic === undefined && this.server !== undefined) {
      this.#ic = this.server.createInternalClient("Account", this);
    }
    return this.#ic;
  }

  // ---- Exports ------------------------------------------------------------------------------------------

  /** Exports a stream; `accounts` undefined makes it public. */
  addStreamExport(subject: string, accounts?: Account[], accountTokenPosition = 0): void {
    let ea = this.streamExports.get(subject);
    if (accounts !== undefined || accountTokenPosition > 0) {
      ea ??= {};
      setExportAuth(ea, subject, accounts, accountTokenPosition);
    }
    this.streamExports.set(subject, ea);
  }

  /** Exports a service. */
  addServiceExport(subject: string, opts: ServiceExportOptions = {}): void {
    let se = this.serviceExports.get(subject);
    if (se === undefined) {
      se = { acc: this, respType: "Singleton", respThreshMs: DEFAULT_RESPONSE_THRESHOLD_MS, auth: {} };
    }
    if (opts.responseType !== undefined && opts.responseType !== "Singleton") se.respType = opts.responseType;
    const pos = opts.accountTokenPosition ?? 0;
    if (opts.accounts !== undefined || pos > 0) setExportAuth(se.auth, subject, opts.accounts, pos);
    se.respThreshMs = DEFAULT_RESPONSE_THRESHOLD_MS;
    this.serviceExports.set(subject, se);
  }

  /** Sets how long a response to `service` may take before its pending state is dropped. */
  setServiceExportResponseThreshold(service: string, ms: number): void {
    const se = this.getServiceExport(service);
    if (se === undefined) throw new AccountError(`no export defined for ${JSON.stringify(service)}`);
    se.respThreshMs = ms;
  }

  /** The response threshold of `service` in milliseconds. */
  serviceExportResponseThreshold(service: string): number {
    const se = this.getServiceExport(service);
    if (se === undefined) throw new AccountError(`no export defined for ${JSON.stringify(service)}`);
    return se.respThreshMs;
  }

  /**
   * Turns on latency tracking for an exported service: metrics go to `results` in this account.
   * @param sampling 1–100 percent, or 0 to sample requests that carry a trace header.
   */
  trackServiceExport(service: string, results: string, sampling = 100): void {
    if (sampling !== 0 && (sampling < 1 || sampling > 100)) throw new AccountError(ERR.badSampling);
    if (!subjectIsLiteral(results) || results === "" || results.split(".").some((t) => t === "")) {
      throw new AccountError(ERR.badPublishSubject);
    }
    if (this.isExportService(results)) throw new AccountError(ERR.badPublishSubject);
    if (this.server !== undefined && this.server.opts.noSystemAccount && !this.server.opts.systemAccount) {
      throw new AccountError(ERR.noSysAccount);
    }
    const se = this.serviceExports.get(service);
    if (se === undefined) throw new AccountError(ERR.missingService);
    if (se.respType !== "Singleton") throw new AccountError(ERR.badServiceType);
    const lat: ServiceLatencyConfig = { sampling, subject: results };
    se.latency = lat;
    // Imports already made pick the tracking up.
    for (const acc of this.server?.accounts.values() ?? []) {
      for (const si of acc.serviceImports.values()) {
        if (si.acc === this && subjectIsSubsetMatch(si.to, service)) si.latency = lat;
      }
    }
  }

  /** Turns latency tracking off for `service`. */
  unTrackServiceExport(service: string): void {
    const se = this.serviceExports.get(service);
    if (se === undefined || se.latency === undefined) return;
    se.latency = undefined;
    for (const acc of this.server?.accounts.values() ?? []) {
      for (const si of acc.serviceImports.values()) {
        if (si.acc === this && subjectIsSubsetMatch(si.to, service)) si.latency = undefined;
      }
    }
  }

  /** True when `service` (or a wildcard covering it) is exported as a service. */
  isExportService(service: string): boolean {
    if (this.serviceExports.has(service)) return true;
    for (const subj of this.serviceExports.keys()) if (subjectIsSubsetMatch(service, subj)) return true;
    return false;
  }

  /** True when `service` is exported with latency tracking. */
  isExportServiceTracking(service: string): boolean {
    const se = this.getServiceExport(service);
    return se?.latency !== undefined;
  }

  /** The service export for a subject: exact, else one whose wildcard covers it. */
  getServiceExport(subject: string): ServiceExport | undefined {
    const se = this.serviceExports.get(subject);
    if (se !== undefined) return se;
    for (const [subj, e] of this.serviceExports) if (subjectIsSubsetMatch(subject, subj)) return e;
    return undefined;
  }

  /** True when `importer` may import the stream `subject` from this account (`claim`: its JWT import entry). */
  checkStreamImportAuthorized(importer: Account, subject: string, claim?: ImportClaim): boolean {
    if (!isValidSubject(subject)) return false;
    if (this.streamExports.has(subject)) {
      return checkExportAuth(this.streamExports.get(subject), importer, undefined, this, claim);
    }
    const tokens = subject.split(".");
    for (const [subj, ea] of this.streamExports) {
      if (subjectIsSubsetMatch(subject, subj)) return checkExportAuth(ea, importer, tokens, this, claim);
    }
    return false;
  }

  /** True when `importer` may import the service `subject` from this account (`claim`: its JWT import entry). */
  checkServiceImportAuthorized(importer: Account, subject: string, claim?: ImportClaim): boolean {
    if (!isValidSubject(subject)) return false;
    const se = this.serviceExports.get(subject);
    if (se !== undefined) return checkExportAuth(se.auth, importer, undefined, this, claim);
    const tokens = subject.split(".");
    for (const [subj, e] of this.serviceExports) {
      if (subjectIsSubsetMatch(subject, subj)) return checkExportAuth(e.auth, importer, tokens, this, claim);
    }
    return false;
  }

  // ---- Imports ------------------------------------------------------------------------------------------

  /** Imports the stream `from` of `exporter`; messages appear here on `prefix.from` ("" keeps `from`). */
  addStreamImport(exporter: Account, from: string, prefix: string, claim?: ImportClaim): void {
    if (!exporter.checkStreamImportAuthorized(this, from, claim)) {
      throw new AccountError(ERR.streamImportAuthorization);
    }
    if (prefix !== "") {
      if (!subjectIsLiteral(prefix)) throw new AccountError(ERR.streamImportBadPrefix);
      if (!prefix.endsWith(".")) prefix += ".";
    }
    this.addMappedStreamImport(exporter, from, prefix + from, claim);
  }

  /** Imports the stream `from` of `exporter`, appearing here on `to` (wildcards of `from` map by position). */
  addMappedStreamImport(exporter: Account, from: string, to: string, claim?: ImportClaim): void {
    if (!exporter.checkStreamImportAuthorized(this, from, claim)) {
      throw new AccountError(ERR.streamImportAuthorization);
    }
    if (to === "") to = from;
    streamImportFormsCycle(this, exporter, to);
    const im = streamImportFor(exporter, from, to);
    if (this.streamImports.some((s) => s.acc === exporter && s.from === from)) {
      throw new AccountError(ERR.streamImportDuplicate);
    }
    this.streamImports.push(im);
    if (claim !== undefined) this.importClaims.set(im, claim);
  }

  /**
   * Imports the service `to` of `exporter`: requests published here on `from` go there on `to`, and the
   * responses come back to the requestor's reply subject.
   */
  addServiceImport(
    exporter: Account,
    from: string,
    to: string,
    opts: { share?: boolean; claim?: ImportClaim; internal?: boolean } = {},
  ): ServiceImport {
    if (to === "") to = from;
    if (!isValidSubject(from) || !isValidSubject(to)) throw new AccountError(ERR.invalidSubject);
    // The server's own imports (system services) need no authorization from the exporter.
    if (!opts.internal && !exporter.checkServiceImportAuthorized(this, to, opts.claim)) {
      throw new AccountError(ERR.serviceImportAuthorization);
    }
    serviceImportFormsCycle(this, exporter, from);
    const dup = this.serviceImports.get(from);
    if (dup !== undefined) {
      throw new AccountError(
        `duplicate service import subject ${JSON.stringify(from)}, previously used in import for account ${
          JSON.stringify(dup.acc.name)
        }, subject ${JSON.stringify(dup.to)}`,
      );
    }
    const si = this.#newServiceImport(exporter, from, to);
    si.share = opts.share ?? false;
    if (opts.claim !== undefined) this.importClaims.set(si, opts.claim);
    this.serviceImports.set(si.from, si);
    addServiceImportSub(this, si);
    return si;
  }

  #newServiceImport(exporter: Account, from: string, to: string): ServiceImport {
    const se = exporter.getServiceExport(to);
    let tr: SubjectTransform | undefined;
    let usePub = false;
    if (!subjectIsLiteral(to)) {
      if (to === from) usePub = true;
      else {
        tr = serviceImportTransform(from, to);
        from = untokenized(from);
        to = untokenized(to);
      }
    }
    return {
      acc: exporter,
      se,
      from,
      to,
      tr,
      usePub,
      rt: se?.respType ?? "Singleton",
      latency: se?.latency,
      response: false,
      share: false,
      tracking: false,
      didDeliver: false,
      invalid: false,
      ts: 0,
    };
  }

  /** Lets the exporter see the requestor's details for the service import of `to` from `exporter`. */
  setServiceImportSharing(exporter: Account, to: string, allow: boolean): void {
    for (const si of this.serviceImports.values()) {
      if (si.acc === exporter && si.to === to) {
        si.share = allow;
        return;
      }
    }
    throw new AccountError("service import not found");
  }

  /** Removes the service import whose local subject is `from`. */
  removeServiceImport(from: string): void {
    const si = this.serviceImports.get(from);
    if (si === undefined) return;
    this.serviceImports.delete(from);
    if (si.sub !== undefined) this.#ic?.unsubscribeInternal(si.sub);
  }

  numServiceImports(): number {
    return this.serviceImports.size;
  }

  /** Pending responses for the exported services of this account (optionally of one export). */
  numPendingResponses(filter = ""): number {
    if (filter === "") return this.responses.size;
    const se = this.getServiceExport(filter);
    if (se === undefined) return 0;
    let n = 0;
    for (const si of this.responses.values()) if (si.se === se) n++;
    return n;
  }

  numPendingAllResponses(): number {
    return this.numPendingResponses("");
  }

  /** Reply subjects with pending responses from other accounts. */
  numPendingReverseResponses(): number {
    return this.rrMap.size;
  }

  /**
   * A subscription interest on `reply` went away: drop the pending responses that answer it (when no other
   * subscription still matches, if `checkInterest`).
   */
  checkForReverseEntry(reply: string, checkInterest: boolean): void {
    if (this.rrMap.size > 0) checkForReverseEntry(this, reply, undefined, checkInterest);
  }

  // ---- Mappings -----------------------------------------------------------------------------------------

  /** Maps `src` to `dest` for messages published in this account. */
  addMapping(src: string, dest: string): void {
    this.addWeightedMappings(src, [{ subject: dest, weight: 100 }]);
  }

  /** Maps `src` to weighted destinations; weights below 100% in total leave the rest on `src`. */
  addWeightedMappings(src: string, dests: MapDest[]): void {
    const m = newMapping(src, dests);
    const i = this.mappings.findIndex((em) => em.src === src);
    if (i >= 0) this.mappings[i] = m;
    else this.mappings.push(m);
    this.hasMappings = true;
  }

  /** Removes the mapping of `src`; false when there was none. */
  removeMapping(src: string): boolean {
    const i = this.mappings.findIndex((m) => m.src === src);
    if (i < 0) return false;
    this.mappings.splice(i, 1);
    this.hasMappings = this.mappings.length > 0;
    return true;
  }

  /**
   * The subject a message published on `subject` goes to, chosen among the mapping's weighted destinations;
   * undefined when no mapping applies. "" means the message is dropped (weights under 100% with the source
   * given explicitly).
   */
  selectMappedSubject(subject: string): string | undefined {
    if (!this.hasMappings) return undefined;
    return selectMapped(this.mappings, subject);
  }
}

/** True when every subject matched by `subject` is matched by `test`. */
export function subjectIsSubsetMatch(subject: string, test: string): boolean {
  const a = subject.split(".");
  const b = test.split(".");
  for (let i = 0; i < b.length; i++) {
    if (i >= a.length) return false;
    const t2 = b[i];
    if (t2 === ">") return true;
    const t1 = a[i];
    if (t1 === ">") return false;
    if (t1 === "*") {
      if (t2 !== "*") return false;
      continue;
    }
    if (t2 !== "*" && t1 !== t2) return false;
  }
  return a.length === b.length;
}

function isValidSubject(s: string): boolean {
  if (s === "") return false;
  const toks = s.split(".");
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t === "" || /[ \t\r\n\f]/.test(t)) return false;
    if (t === ">" && i !== toks.length - 1) return false;
  }
  return true;
}
