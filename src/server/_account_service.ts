// Cross-account delivery: service imports (requests in, responses back through `_R_.` replies, response
// types and thresholds, latency metrics) and stream imports (shadow subscriptions in the exporting account).
// Behaviour follows nats-server server/accounts.go and server/client.go (processServiceImport,
// addShadowSubscriptions, addRespServiceImport, checkForReverseEntry, sendTrackingLatency).

import { encoder } from "../util/mod.ts";
import { SubjectTransform, transformTokenize, transformUntokenize } from "../sublist/mod.ts";
import type { Account } from "./account.ts";
import type { Client } from "./client.ts";
import { type InternalCallback, Subscription } from "./subscription.ts";
import type { ExportAuth } from "./_account_exports.ts";
import { AccountError } from "./_account_errors.ts";

/** How responses to a service come back: one message, a stream, or chunks ended by an empty message. */
export type ResponseType = "Singleton" | "Streamed" | "Chunked";

/** Latency tracking of a service export. */
export interface ServiceLatencyConfig {
  /** 1–100 percent; 0 = only requests with a trace header. */
  sampling: number;
  subject: string;
}

/** An exported service. */
export interface ServiceExport {
  acc: Account;
  auth: ExportAuth;
  respType: ResponseType;
  respThreshMs: number;
  latency?: ServiceLatencyConfig;
  /** The sweep timer for expired responses, while responses are pending. */
  timer?: unknown;
}

/** A service import, or (response = true) a pending response routed back to a requestor. */
export interface ServiceImport {
  /** Where messages go: the exporter for a request import, the requestor's account for a response. */
  acc: Account;
  se: ServiceExport | undefined;
  /** Local subject (request imports), or the `_R_.` reply handed to the responder (responses). */
  from: string;
  /** Subject in `acc`: the exported service, or the requestor's reply. */
  to: string;
  tr?: SubjectTransform;
  usePub: boolean;
  rt: ResponseType;
  latency?: ServiceLatencyConfig;
  response: boolean;
  share: boolean;
  tracking: boolean;
  didDeliver: boolean;
  invalid: boolean;
  /** performance.now() when a response import was made (or last used by a stream/chunked response). */
  ts: number;
  /** Wall clock of `ts`, for latency metrics. */
  tsWall?: number;
  /** The requestor, for latency metrics. */
  rc?: Client;
  /** The subscription that feeds this import (request imports). */
  sub?: Subscription;
  trackingHdr?: Record<string, string[]>;
}

/** An imported stream. */
export interface StreamImport {
  acc: Account;
  from: string;
  to: string;
  tr?: SubjectTransform;
  rtr?: SubjectTransform;
  usePub: boolean;
  invalid: boolean;
}

/** Builds a stream import record (the checks are done by the caller). */
export function streamImportFor(exporter: Account, from: string, to: string): StreamImport {
  let tr: SubjectTransform | undefined;
  let usePub = false;
  if (!isLiteral(from)) {
    if (to === from) usePub = true;
    else {
      try {
        tr = SubjectTransform.create(from, transformTokenize(to));
      } catch (e) {
        throw new AccountError(
          `failed to create mapping transform for stream import subject ${JSON.stringify(from)} to ${
            JSON.stringify(to)
          }: ${(e as Error).message}`,
          { cause: e },
        );
      }
      to = transformUntokenize(to).subject;
    }
  }
  return { acc: exporter, from, to, tr, usePub, invalid: false };
}

function isLiteral(s: string): boolean {
  for (const t of s.split(".")) if (t === "*" || t === ">") return false;
  return true;
}

function subsetTokens(a: string[], b: string[]): boolean {
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

// ---- Service imports --------------------------------------------------------------------------------------

/** Subscribes the account's internal client on the import's local subject. */
export function addServiceImportSub(acc: Account, si: ServiceImport): void {
  const ic = acc.internalClient();
  if (ic === undefined) return;
  const icb: InternalCallback = (_sub, c, subject, reply, hdr, payload) =>
    processServiceImport(c, si, acc, subject, reply, hdr, payload);
  si.sub = ic.subscribeInternal(si.from, icb);
}

/** Subscribes the service reply wildcard `_R_.<prefix>.>` that catches every response in `acc`. */
function subscribeResponses(acc: Account): void {
  const ic = acc.internalClient();
  if (ic === undefined) return;
  ic.subscribeInternal(acc.siReply + ">", (_sub, c, subject, reply, hdr, payload) => {
    const si = acc.responses.get(subject);
    if (si === undefined || si.invalid) return;
    processServiceImport(c, si, acc, subject, reply, hdr, payload);
  });
}

const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function base62(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += DIGITS[(Math.random() * 62) | 0];
  return s;
}

/** A new `_R_.` reply for a response routed back through `acc` (the exporter). */
function newServiceReply(acc: Account, tracking: boolean): string {
  if (acc.siReply === undefined) {
    acc.siReply = `_R_.${base62(6)}.`;
    subscribeResponses(acc);
  }
  let reply = acc.siReply + base62(6);
  if (tracking) reply += `.${serverHash(acc)}.T`;
  return reply;
}

function serverHash(acc: Account): string {
  const s = acc.server;
  return s === undefined ? "natsdeno" : s.id.slice(-8);
}

/**
 * A request published on an import's local subject (or a response on a `_R_.` reply): forwards it into
 * `si.acc` as the publishing client, with a new `_R_.` reply when it has one.
 */
export function processServiceImport(
  c: Client,
  si: ServiceImport,
  acc: Account,
  subject: string,
  reply: string | undefined,
  hdr: Uint8Array | undefined,
  payload: Uint8Array,
): void {
  const isResponse = si.response;
  // A chain of imports that comes back to an export it already went through is a cycle: drop it.
  const psi = c.psi;
  for (let i = psi.length - 1; i >= 0; i--) if (psi[i].se === si.se && si.se !== undefined) return;
  if (si.invalid) return;

  let nrr: string | undefined;
  let rsi: ServiceImport | undefined;
  const [tracking, trackHdr] = shouldSample(si.latency, hdr);
  if (reply !== undefined && reply !== "") {
    if (!reply.startsWith("$JS.ACK.")) {
      rsi = addRespServiceImport(si.acc, acc, reply, si, tracking, trackHdr, c);
      nrr = rsi.from;
    } else nrr = reply;
  } else if (!isResponse && si.latency !== undefined && tracking) {
    sendBadRequestTrackingLatency(si.acc, si, c, trackHdr);
  }

  let didSendTL = false;
  if (si.tracking && !si.didDeliver) {
    si.didDeliver = true;
    didSendTL = sendTrackingLatency(acc, si, c);
  }

  let to = si.to;
  if (si.tr !== undefined) to = si.tr.transformSubject(subject);
  else if (si.usePub) to = subject;
  const mapped = si.acc.selectMappedSubject(to);
  if (mapped !== undefined) to = mapped;

  // The request carries the requestor's details (account, rtt; everything when shared).
  let h = hdr;
  if (!isResponse) {
    const share = psi.length > 0 ? psi[psi.length - 1].share : si.share;
    const ci = clientInfo(c, share);
    if (ci !== undefined) {
      if (psi.length > 0) ci.svc = acc.name;
      h = setHeader(h, "Nats-Request-Info", JSON.stringify(ci));
    }
  }

  psi.push(si);
  let didDeliver = false;
  try {
    didDeliver = to === "" ? false : c.deliverImported(si.acc, to, nrr, h, payload);
  } finally {
    psi.pop();
  }

  // An empty message (no headers, no payload) ends a streamed or chunked response.
  const eof = payload.length === 0 && (hdr === undefined || hdr.length === 0);
  let shouldRemove = !didDeliver || (isResponse && (si.rt === "Singleton" || eof));
  if (si.tracking && !didSendTL) shouldRemove = false;
  if (si.rt !== "Singleton" && didDeliver) si.ts = performance.now();
  if (shouldRemove) {
    const reason = didDeliver ? "ok" : "noDelivery";
    if (isResponse) removeRespServiceImport(acc, si, reason);
    else if (rsi !== undefined) removeRespServiceImport(si.acc, rsi, reason);
  }
}

/** Records a pending response in `exporter`, routed back to `reply` in `requestorAcc`. */
function addRespServiceImport(
  exporter: Account,
  requestorAcc: Account,
  reply: string,
  osi: ServiceImport,
  tracking: boolean,
  trackHdr: Record<string, string[]> | undefined,
  rc: Client,
): ServiceImport {
  const nrr = newServiceReply(exporter, tracking);
  const si: ServiceImport = {
    acc: requestorAcc,
    se: osi.se,
    from: nrr,
    to: reply,
    usePub: false,
    rt: osi.rt,
    response: true,
    share: osi.share,
    tracking: false,
    didDeliver: false,
    invalid: false,
    ts: performance.now(),
    tsWall: Date.now(),
  };
  exporter.responses.set(nrr, si);
  if (osi.se !== undefined) setResponseThresholdTimer(osi.se);
  if (si.rt === "Singleton" && tracking) {
    si.latency = osi.latency;
    si.tracking = true;
    si.trackingHdr = trackHdr;
    si.rc = rc;
  }
  // Kept so that a requestor that goes away takes its pending responses with it.
  const list = requestorAcc.rrMap.get(reply);
  if (list === undefined) requestorAcc.rrMap.set(reply, [{ acc: exporter, msub: nrr }]);
  else list.push({ acc: exporter, msub: nrr });
  return si;
}

type RemoveReason = "ok" | "noDelivery" | "timeout";

/** Drops a pending response and its reverse entry; reports a failed tracked request. */
export function removeRespServiceImport(acc: Account, si: ServiceImport, reason: RemoveReason): void {
  acc.responses.delete(si.from);
  if (si.tracking && si.rc !== undefined && !si.didDeliver) sendBackendErrorTrackingLatency(acc, si, reason);
  checkForReverseEntry(si.acc, si.to, si, false);
}

/**
 * Removes reverse entries for `reply` in `acc` (the requestor's account): only `si`'s when given, else all
 * of them and their pending responses (when nothing in `acc` still listens on `reply`, if `checkInterest`).
 */
export function checkForReverseEntry(
  acc: Account,
  reply: string,
  si: ServiceImport | undefined,
  checkInterest: boolean,
): void {
  if (acc.rrMap.size === 0) return;
  if (!isLiteral(reply)) {
    const toks = reply.split(".");
    for (const k of [...acc.rrMap.keys()]) {
      if (subsetTokens(k.split("."), toks)) checkForReverseEntry(acc, k, undefined, checkInterest);
    }
    return;
  }
  const sres = acc.rrMap.get(reply);
  if (sres === undefined) return;
  if (checkInterest) {
    const r = acc.sl.match(reply);
    if (r.psubs.length + r.qsubs.length > 0) return;
  }
  if (si !== undefined) {
    const i = sres.findIndex((e) => e.msub === si.from);
    if (i >= 0) sres.splice(i, 1);
    if (sres.length === 0) acc.rrMap.delete(reply);
    return;
  }
  acc.rrMap.delete(reply);
  for (const sre of sres) {
    const rsi = sre.acc.responses.get(sre.msub);
    if (rsi === undefined || rsi.didDeliver) continue;
    sre.acc.responses.delete(rsi.from);
    if (rsi.tracking && rsi.rc !== undefined) sendReplyInterestLostTrackLatency(sre.acc, rsi);
  }
}

/** Arms the export's sweep of responses older than its threshold. */
function setResponseThresholdTimer(se: ServiceExport): void {
  if (se.timer !== undefined) return;
  const s = se.acc.server;
  if (s === undefined) return;
  se.timer = s.timers.after(se.respThreshMs, () => {
    se.timer = undefined;
    checkExpiredResponses(se);
  });
}

function checkExpiredResponses(se: ServiceExport): void {
  const acc = se.acc;
  const min = performance.now() - se.respThreshMs;
  let left = 0;
  for (const si of [...acc.responses.values()]) {
    if (si.se !== se) continue;
    if (si.ts <= min) removeRespServiceImport(acc, si, "timeout");
    else left++;
  }
  if (left > 0 && acc.server?.running) setResponseThresholdTimer(se);
}

// ---- Stream imports (shadow subscriptions) ----------------------------------------------------------------

/**
 * A client subscribed in an account with stream imports: adds a subscription in each exporting account whose
 * import the subject overlaps, delivering to `sub` under the local subject.
 */
export function addShadowSubscriptions(acc: Account, sub: Subscription): void {
  const subj = sub.subject;
  const stoks = subj.split(".");
  const hasWC = stoks.some((t) => t === "*") || stoks[stoks.length - 1] === ">";
  const shadows: Subscription[] = [];
  for (const im of acc.streamImports) {
    if (im.invalid) continue;
    let dyn = false;
    let overlap: string | undefined;
    if (subj === im.to) dyn = false;
    else {
      const imToks = im.to.split(".");
      const tokens = [...stoks];
      if (subsetTokens(tokens, imToks)) dyn = true;
      else if (hasWC) {
        if (!subsetTokens(imToks, tokens)) {
          // Partial overlap: narrow the subscription's wildcards by the import's literals.
          for (let i = 0; i < tokens.length && i < imToks.length; i++) {
            if (tokens[i] === "*" && imToks[i] !== ">") tokens[i] = imToks[i];
          }
          const last = tokens.length - 1;
          if (tokens[last] === ">" && imToks.length >= tokens.length) {
            tokens[last] = imToks[last];
            if (imToks.length > tokens.length) tokens.push(...imToks.slice(tokens.length));
          }
          if (!subsetTokens(tokens, imToks)) continue;
          overlap = tokens.join(".");
          dyn = true;
        }
      } else continue;
    }
    let nsubj = subj;
    if (!im.usePub && dyn && im.tr !== undefined) {
      im.rtr ??= im.tr.reverse();
      if (im.rtr === undefined) continue;
      nsubj = im.rtr.transformSubject(overlap ?? subj);
    } else if (!im.usePub || overlap !== undefined || !dyn) {
      nsubj = overlap ?? im.from;
    }
    const shadow = new Subscription(sub.client, nsubj, sub.queue, sub.sid, shadowDelivery(sub, im));
    try {
      im.acc.sl.insert(shadow);
    } catch {
      continue;
    }
    shadow.shadowOf = sub;
    shadow.shadowAcc = im.acc;
    shadows.push(shadow);
  }
  if (shadows.length > 0) sub.shadow = shadows;
}

/** The callback of a shadow subscription: delivers to the real subscription under the local subject. */
function shadowDelivery(sub: Subscription, im: StreamImport): InternalCallback {
  return (_shadow, from, subject, reply, hdr, payload) => {
    // A message that came in through a service import is not exported again as a stream.
    if (from.psi.length > 0) return;
    let dsubj: string;
    // A JetStream delivery keeps the stored message's subject across the import.
    if (from.deliveringAs) dsubj = subject;
    else if (im.tr !== undefined) dsubj = im.tr.transformSubject(subject);
    else if (im.usePub) dsubj = subject;
    else dsubj = im.to;
    sub.client.deliverTo(sub, from, dsubj, reply, hdr, payload);
  };
}

/** Removes the shadow subscriptions of `sub` from the exporting accounts. */
export function removeShadowSubscriptions(sub: Subscription): void {
  const shadows = sub.shadow;
  if (shadows === undefined) return;
  sub.shadow = undefined;
  for (const s of shadows) {
    s.closed = true;
    s.shadowAcc?.sl.remove(s);
  }
}

// ---- Latency tracking ---------------------------------------------------------------------------------------

/** The metric type of service latency events. */
export const SERVICE_LATENCY_TYPE = "io.nats.server.metric.v1.service_latency";

/** A requestor's or responder's details in latency metrics and the Nats-Request-Info header. */
export interface ClientInfo {
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
  kind?: string;
  "client_type"?: string;
}

/** Go's RFC3339Nano rendering of a time in ms (trailing zeros of the fraction dropped). */
export function goTime(ms: number): string {
  const iso = new Date(Math.floor(ms)).toISOString();
  const frac = Math.round((ms - Math.floor(ms)) * 1e6) + Number(iso.slice(20, 23)) * 1e6;
  const f = String(frac).padStart(9, "0").replace(/0+$/, "");
  return iso.slice(0, 19) + (f === "" ? "" : "." + f) + "Z";
}

function rttNs(c: Client): number {
  return Math.round(c.rttMs * 1e6);
}

/** The client's details: account and rtt always, the rest when `detailed`. */
export function clientInfo(c: Client, detailed: boolean): ClientInfo | undefined {
  if (c.kind !== "Client" && c.kind !== "Leafnode" && c.kind !== "JetStream" && c.kind !== "Account") {
    return undefined;
  }
  const ci: ClientInfo = { acc: c.account.name };
  const rtt = rttNs(c);
  if (detailed) {
    ci.start = goTime(c.start.getTime());
    ci.host = c.host || undefined;
    ci.id = c.cid;
    ci.user = c.authResult?.user || undefined;
    ci.name = c.opts.name || undefined;
    ci.lang = c.opts.lang || undefined;
    ci.ver = c.opts.version || undefined;
    if (rtt > 0) ci.rtt = rtt;
    ci.server = c.server.name;
    ci.kind = c.kind;
    ci["client_type"] = c.kind === "Client" ? "nats" : undefined;
  } else if (rtt > 0) ci.rtt = rtt;
  // Keep Go's field order: start, host, id, acc, svc, user, name, lang, ver, rtt, server, …
  return detailed
    ? {
      start: ci.start,
      host: ci.host,
      id: ci.id,
      acc: ci.acc,
      user: ci.user,
      name: ci.name,
      lang: ci.lang,
      ver: ci.ver,
      rtt: ci.rtt,
      server: ci.server,
      kind: ci.kind,
      "client_type": ci["client_type"],
    }
    : ci;
}

/** Trace headers that trigger sampling when `sampling` is 0 ("headers"). */
function shouldSample(
  l: ServiceLatencyConfig | undefined,
  hdr: Uint8Array | undefined,
): [boolean, Record<string, string[]> | undefined] {
  if (l === undefined || l.sampling < 0) return [false, undefined];
  if (l.sampling >= 100) return [true, undefined];
  if (l.sampling > 0 && Math.floor(Math.random() * 100) <= l.sampling) return [true, undefined];
  if (hdr === undefined || hdr.length === 0) return [false, undefined];
  const h = parseHeaders(hdr);
  const get = (k: string) => h.get(k.toLowerCase());
  const uber = get("Uber-Trace-Id");
  if (uber !== undefined) {
    const tk = uber[0].split(":");
    if (tk.length === 4 && tk[3].length > 0 && tk[3].length <= 2) {
      const v = parseInt(tk[3], 16);
      if (!Number.isNaN(v) && (v & 1) === 1) return [true, { "Uber-Trace-Id": uber }];
    }
    return [false, undefined];
  }
  const sampled = get("X-B3-Sampled");
  if (sampled !== undefined && sampled[0] === "1") return [true, b3Headers(h)];
  if (sampled !== undefined && sampled[0] === "0") return [false, undefined];
  if (get("X-B3-TraceId") !== undefined) return [true, b3Headers(h)];
  const b3 = get("B3");
  if (b3 !== undefined) {
    const tk = b3[0].split("-");
    if ((tk.length > 2 && tk[2] === "0") || (tk.length === 1 && tk[0] === "0")) return [false, undefined];
    return [true, { "B3": b3 }];
  }
  const tp = get("Traceparent");
  if (tp !== undefined) {
    const tk = tp[0].split("-");
    if (tk.length === 4 && tk[3] === "01") {
      const out: Record<string, string[]> = { "Traceparent": tp };
      const ts = get("Tracestate");
      if (ts !== undefined) out["Tracestate"] = ts;
      return [true, out];
    }
  }
  return [false, undefined];
}

function b3Headers(h: Map<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const names = ["X-B3-TraceId", "X-B3-SpanId", "X-B3-ParentSpanId", "X-B3-Sampled", "X-B3-Flags"];
  for (const n of names) {
    const v = h.get(n.toLowerCase());
    if (v !== undefined) out[n] = v;
  }
  return out;
}

/** Header lines of a NATS/1.0 block, keys lower-cased. */
function parseHeaders(hdr: Uint8Array): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const lines = new TextDecoder().decode(hdr).split("\r\n");
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i];
    const c = l.indexOf(":");
    if (c <= 0) continue;
    const k = l.slice(0, c).trim().toLowerCase();
    const v = l.slice(c + 1).trim();
    const list = out.get(k);
    if (list === undefined) out.set(k, [v]);
    else list.push(v);
  }
  return out;
}

/** Sets `key: value` in a header block (replacing earlier values), making a block when there is none. */
export function setHeader(hdr: Uint8Array | undefined, key: string, value: string): Uint8Array {
  let head = "NATS/1.0\r\n";
  if (hdr !== undefined && hdr.length > 4) {
    const text = new TextDecoder().decode(hdr);
    const lines = text.split("\r\n");
    const kept = [lines[0]];
    const lk = key.toLowerCase();
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i];
      if (l === "") continue;
      const c = l.indexOf(":");
      if (c > 0 && l.slice(0, c).trim().toLowerCase() === lk) continue;
      kept.push(l);
    }
    head = kept.join("\r\n") + "\r\n";
  }
  return encoder.encode(`${head}${key}: ${value}\r\n\r\n`);
}

interface ServiceLatencyMetric {
  type: string;
  id: string;
  timestamp: string;
  status: number;
  description?: string;
  requestor?: ClientInfo;
  responder?: ClientInfo;
  header?: Record<string, string[]>;
  start: string;
  service: number;
  system: number;
  total: number;
}

function sendLatencyResult(
  acc: Account,
  si: ServiceImport,
  m: Omit<ServiceLatencyMetric, "type" | "id" | "timestamp">,
) {
  const subject = si.latency?.subject;
  si.rc = undefined;
  if (subject === undefined) return;
  const full: ServiceLatencyMetric = {
    type: SERVICE_LATENCY_TYPE,
    id: acc.nextEventId(),
    timestamp: goTime(Date.now()),
    ...m,
  };
  publishInAccount(acc, subject, JSON.stringify(full));
}

/** Publishes a server-made message in `acc` through its internal client. */
export function publishInAccount(acc: Account, subject: string, body: string): void {
  const ic = acc.internalClient();
  if (ic === undefined) return;
  ic.publishInternal(subject, undefined, undefined, encoder.encode(body));
  acc.server?.flushPending();
}

function sendBadRequestTrackingLatency(
  acc: Account,
  si: ServiceImport,
  requestor: Client,
  hdr: Record<string, string[]> | undefined,
): void {
  const ri = clientInfo(requestor, si.share);
  const rtt = ri?.rtt ?? 0;
  sendLatencyResult(acc, si, {
    status: 400,
    description: "Bad Request",
    requestor: ri,
    header: hdr,
    start: goTime(Date.now() - rtt / 1e6),
    service: 0,
    system: 0,
    total: 0,
  });
}

function sendReplyInterestLostTrackLatency(acc: Account, si: ServiceImport): void {
  const ri = si.rc !== undefined ? clientInfo(si.rc, si.share) : undefined;
  sendLatencyResult(acc, si, {
    status: 408,
    description: "Request Timeout",
    requestor: ri,
    header: si.trackingHdr,
    start: goTime((si.tsWall ?? Date.now()) - (ri?.rtt ?? 0) / 1e6),
    service: 0,
    system: 0,
    total: 0,
  });
}

function sendBackendErrorTrackingLatency(acc: Account, si: ServiceImport, reason: RemoveReason): void {
  const ri = si.rc !== undefined ? clientInfo(si.rc, si.share) : undefined;
  const m = {
    status: 0,
    description: undefined as string | undefined,
    requestor: ri,
    header: si.trackingHdr,
    start: goTime((si.tsWall ?? Date.now()) - (ri?.rtt ?? 0) / 1e6),
    service: 0,
    system: 0,
    total: 0,
  };
  if (reason === "noDelivery") {
    m.status = 503;
    m.description = "Service Unavailable";
  } else if (reason === "timeout") {
    m.status = 504;
    m.description = "Service Timeout";
  }
  sendLatencyResult(acc, si, m);
}

/** The response arrived: report the service's latency in the exporting account `acc`. */
function sendTrackingLatency(acc: Account, si: ServiceImport, responder: Client): boolean {
  const rc = si.rc;
  if (rc === undefined) return true;
  const now = performance.now();
  const serviceRttNs = Math.round((now - si.ts) * 1e6);
  const requestor = clientInfo(rc, si.share);
  const resp = clientInfo(responder, true);
  const respRtt = resp?.rtt ?? 0;
  const reqRtt = requestor?.rtt ?? 0;
  let service = serviceRttNs - respRtt;
  let total = reqRtt + serviceRttNs;
  let system = 0;
  if (respRtt > 0) {
    system = Math.max(0, Math.round((performance.now() - now) * 1e6));
    total += system;
  }
  if (service < 0) service = 0;
  if (system < 0) system = 0;
  sendLatencyResult(acc, si, {
    status: 200,
    requestor,
    responder: resp,
    header: si.trackingHdr,
    start: goTime((si.tsWall ?? Date.now()) - reqRtt / 1e6),
    service,
    system,
    total,
  });
  return true;
}
