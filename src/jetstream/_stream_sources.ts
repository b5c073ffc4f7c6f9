// Mirrors and sources: a stream pulls from origin streams through push consumers it creates with the
// JetStream API (`$JS.API.CONSUMER.CREATE.<origin>`, or an external API prefix), with flow control and idle
// heartbeats, delivering to `$JS.M.<id>` / `$JS.S.<id>`. Behaviour follows nats-server server/stream.go
// (setupMirrorConsumer, setupSourceConsumer, processInboundMirrorMsg, processInboundSourceMsg).

import type { Subscription } from "../server/mod.ts";
import { decoder, encoder, Nuid } from "../util/mod.ts";
import {
  appendHeaders,
  buildHeaders,
  getHeader,
  nowNs,
  parseHeaders,
  parseRfc3339,
  removeHeader,
  rfc3339Nano,
} from "./_headers.ts";
import type { StreamSource, SubjectTransformConfig } from "./_stream_config.ts";
import { SubjectTransform } from "./_transform.ts";

/** Header a sourced message carries: `<origin>[:<api hash>] <origin seq> <filter> <dest> <subject>`. */
export const JS_STREAM_SOURCE = "Nats-Stream-Source";
/** Heartbeat interval requested from the origin consumer (ns). */
const HEARTBEAT_NS = 1_000_000_000;
/** A link with no traffic for this long is recreated (ms). */
const STALL_MS = 3_000;
/** Minimum spacing of consumer create requests (ms), as the reference's retry threshold. */
const RETRY_MS = 1_000;
/** Least time between a consumer request and a restart of the link. */
const RESTART_GAP_MS = 50;
const API_PREFIX = "$JS.API";

/** What a source link needs of its stream. */
export interface SourceTarget {
  readonly name: string;
  readonly client: {
    subscribeInternal(
      subject: string,
      cb: (
        sub: Subscription,
        c: unknown,
        subject: string,
        reply: string | undefined,
        hdr: Uint8Array | undefined,
        payload: Uint8Array,
      ) => void,
    ): Subscription;
    unsubscribeInternal(sub: Subscription): void;
    publishInternal(
      subject: string,
      reply: string | undefined,
      hdr: Uint8Array | undefined,
      payload: Uint8Array,
    ): void;
  };
  after(ms: number, fn: () => void): () => void;
  warn(msg: string): void;
  /** The stream's last sequence (mirror) and message count. */
  lastSeq(): number;
  isEmpty(): boolean;
  /** Mirror: store at the origin's sequence and time; returns false when it failed. */
  storeMirrored(
    subject: string,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    seq: number,
    ts: bigint,
  ): boolean;
  /** Mirror: the origin skipped from our last sequence to `seq` (expired/deleted upstream). */
  skipTo(seq: number): void;
  /** Source: ingest as a publish without reply; the refusal's text, or undefined when stored. */
  storeSourced(subject: string, hdr: Uint8Array | undefined, msg: Uint8Array): string | undefined;
  /** The stream's account, for log lines. */
  readonly accountName?: string;
  /** Mirror: a message arrived with `pending` more to come (mirror_direct starts once nearly caught up). */
  mirrorPending?(pending: number): void;
}

/** Parsed `$JS.ACK` reply subject of a delivered message. */
interface AckInfo {
  sseq: number;
  dseq: number;
  ts: bigint;
  pending: number;
}

/** Parses both the 9-token and the 11/12-token (domain, account hash) `$JS.ACK` forms. */
export function parseAckReply(reply: string | undefined): AckInfo | undefined {
  if (!reply || !reply.startsWith("$JS.ACK.")) return undefined;
  const t = reply.split(".");
  let o: number;
  if (t.length === 9) o = 5;
  else if (t.length >= 11) o = 7;
  else return undefined;
  const sseq = Number(t[o]);
  const dseq = Number(t[o + 1]);
  const pending = Number(t[o + 3]);
  let ts: bigint;
  try {
    ts = BigInt(t[o + 2]);
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(sseq) || !Number.isSafeInteger(dseq)) return undefined;
  return { sseq, dseq, ts, pending: Number.isFinite(pending) ? pending : 0 };
}

/** FNV-1a based stand-in for the reference's hash of an external API prefix (only needs stability). */
export function apiHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36).padStart(8, "0").slice(-8);
}

/**
 * The index name of a source: `<name>[:<api hash>] <filters> <dests>`, where several transforms join with
 * a form feed and empty values read as ">" (the reference's composeIName).
 */
export function sourceIName(src: StreamSource): string {
  let name = src.name;
  if (src.external?.api) name += ":" + apiHash(src.external.api);
  const trs = src.subject_transforms ?? [];
  let from: string;
  let to: string;
  if (trs.length === 0) {
    from = src.filter_subject || ">";
    to = ">";
  } else {
    from = trs.map((t) => t.src || ">").join("\f");
    to = trs.map((t) => t.dest || ">").join("\f");
  }
  return `${name} ${from} ${to}`;
}

/** Reads a `Nats-Stream-Source` value: the index name's first part and the origin sequence. */
export function parseSourceHeader(v: string): { iname: string; seq: number } | undefined {
  const parts = v.split(" ");
  if (parts.length < 2) return undefined;
  // Old form: the origin's ack reply.
  if (parts[0].startsWith("$JS.ACK.")) {
    const a = parseAckReply(parts[0]);
    if (a === undefined) return undefined;
    return { iname: parts[0].split(".")[2], seq: a.sseq };
  }
  const seq = Number(parts[1]);
  if (!Number.isSafeInteger(seq)) return undefined;
  const from = parts[2] ?? ">";
  const to = parts[3] ?? ">";
  return { iname: `${parts[0]} ${from} ${to}`, seq };
}

/** One mirror or source: its origin consumer, progress and health. */
export class SourceLink {
  readonly kind: "mirror" | "source";
  readonly cfg: StreamSource;
  readonly iname: string;
  /** Last origin sequence processed. */
  sseq = 0;
  /** Last delivery sequence seen from the current consumer. */
  dseq = 0;
  /** ns: on recovery with no message of this source left, start after this time (the stream's last). */
  startTime = 0n;
  lag = 0;
  /** ns of the last message or heartbeat; 0n = never. */
  lastActive = 0n;
  err: Record<string, unknown> | undefined;
  cname = "";
  #t: SourceTarget;
  #sub: Subscription | undefined;
  #reqSub: Subscription | undefined;
  #transforms: SubjectTransform[] = [];
  #timer: (() => void) | undefined;
  #lastReq = 0;
  #lastMsgMs = 0;
  #stopped = false;
  #nuid: Nuid;
  /** The last refusal logged, so a message refused on every retry is logged once. */
  #lastErr = "";

  constructor(t: SourceTarget, kind: "mirror" | "source", cfg: StreamSource, nuid: Nuid) {
    this.#t = t;
    this.kind = kind;
    this.cfg = cfg;
    this.iname = sourceIName(cfg);
    this.#nuid = nuid;
    for (const tr of cfg.subject_transforms ?? []) {
      if (tr.dest && tr.dest !== (tr.src || ">")) {
        this.#transforms.push(SubjectTransform.create(tr.src || ">", tr.dest));
      } else this.#transforms.push(SubjectTransform.create(tr.src || ">", undefined));
    }
  }

  /** Starts (or restarts) the origin consumer and the health check. */
  start(): void {
    this.#stopped = false;
    this.#setup();
    this.#scheduleCheck();
  }

  #scheduleCheck(): void {
    this.#timer?.();
    this.#timer = this.#t.after(STALL_MS / 3, () => {
      this.#timer = undefined;
      if (this.#stopped) return;
      if (this.#sub === undefined || Date.now() - this.#lastMsgMs > STALL_MS) this.#setup();
      this.#scheduleCheck();
    });
  }

  /** Ends the link; the origin consumer is deleted (it would expire on its own too). */
  stop(): void {
    this.#stopped = true;
    this.#timer?.();
    this.#timer = undefined;
    this.#restartTmr?.();
    this.#restartTmr = undefined;
    this.#cancel();
  }

  #cancel(): void {
    const c = this.#t.client;
    if (this.#sub !== undefined) c.unsubscribeInternal(this.#sub);
    if (this.#reqSub !== undefined) c.unsubscribeInternal(this.#reqSub);
    this.#sub = undefined;
    this.#reqSub = undefined;
    if (this.cname !== "") {
      const subj = this.#apiSubject(`CONSUMER.DELETE.${this.cfg.name}.${this.cname}`);
      c.publishInternal(subj, undefined, undefined, new Uint8Array(0));
      this.cname = "";
    }
  }

  #apiSubject(rest: string): string {
    const api = this.cfg.external?.api;
    const pfx = api ? api : API_PREFIX;
    return `${pfx}.${rest}`.replaceAll("..", ".");
  }

  #deliverSubject(): string {
    const tag = this.kind === "mirror" ? "M" : "S";
    const id = this.#nuid.next();
    const dp = this.cfg.external?.deliver;
    return dp ? `${dp}.${tag}.${id}`.replaceAll("..", ".") : `$JS.${tag}.${id}`;
  }

  /** Filters for the origin consumer: filter_subject or the transforms' sources. */
  #filters(): string[] {
    const trs: SubjectTransformConfig[] = this.cfg.subject_transforms ?? [];
    if (trs.length > 0) return trs.map((t) => t.src || ">");
    return this.cfg.filter_subject ? [this.cfg.filter_subject] : [];
  }

  #setup(): void {
    if (this.#stopped) return;
    const now = Date.now();
    if (now - this.#lastReq < RETRY_MS) return;
    this.#lastReq = now;
    this.#cancel();
    const t = this.#t;
    const c = t.client;
    const deliver = this.#deliverSubject();
    const consumer: Record<string, unknown> = {
      "deliver_subject": deliver,
      "deliver_policy": "all",
      "ack_policy": "none",
      "ack_wait": 22 * 3600 * 1e9,
      "max_deliver": 1,
      "idle_heartbeat": HEARTBEAT_NS,
      "flow_control": true,
      direct: true,
    };
    let start = 0;
    if (this.kind === "mirror") {
      start = t.isEmpty() && t.lastSeq() === 0 ? 0 : t.lastSeq() + 1;
    } else if (this.sseq > 0) start = this.sseq + 1;
    if (start === 0) {
      if (this.cfg.opt_start_seq && this.cfg.opt_start_seq > 0) start = this.cfg.opt_start_seq;
      else if (this.cfg.opt_start_time) {
        consumer["deliver_policy"] = "by_start_time";
        const t = parseRfc3339(this.cfg.opt_start_time);
        // A configured start before what the stream already holds starts at the held time instead.
        const after = this.startTime > 0n && t !== undefined && t < this.startTime;
        consumer["opt_start_time"] = after ? rfc3339Nano(this.startTime) : this.cfg.opt_start_time;
      } else if (this.startTime > 0n) {
        consumer["deliver_policy"] = "by_start_time";
        consumer["opt_start_time"] = rfc3339Nano(this.startTime);
      }
    }
    if (start > 0) {
      consumer["deliver_policy"] = "by_start_sequence";
      consumer["opt_start_seq"] = start;
    }
    const filters = this.#filters();
    // One filter goes through the extended create subject (CONSUMER.CREATE.<stream>.<name>.<filter>), which
    // exports can scope; several through the plain one.
    let api = `CONSUMER.CREATE.${this.cfg.name}`;
    if (filters.length === 1) {
      consumer["filter_subject"] = filters[0];
      const name = `${this.kind === "mirror" ? "mirror" : "src"}-${this.#nuid.next().slice(-8)}`;
      consumer["name"] = name;
      api = `CONSUMER.CREATE.${this.cfg.name}.${name}.${filters[0]}`;
    } else if (filters.length > 1) consumer["filter_subjects"] = filters;
    this.dseq = 0;

    // The delivery subscription exists before the request: the consumer may deliver at once.
    this.#sub = c.subscribeInternal(deliver, (_s, _c, subject, reply, hdr, payload) => {
      this.#onDelivery(subject, reply, hdr, payload);
    });
    const inbox = `$JSC.R.${this.#nuid.next()}`;
    this.#reqSub = c.subscribeInternal(inbox, (_s, _c, _subj, _r, _h, payload) => {
      if (this.#reqSub !== undefined) c.unsubscribeInternal(this.#reqSub);
      this.#reqSub = undefined;
      this.#onCreated(decoder.decode(payload));
    });
    this.#lastMsgMs = Date.now();
    const body = JSON.stringify({ "stream_name": this.cfg.name, config: consumer });
    c.publishInternal(
      this.#apiSubject(api),
      inbox,
      undefined,
      encoder.encode(body),
    );
  }

  #onCreated(text: string): void {
    let r: {
      error?: Record<string, unknown>;
      name?: string;
      delivered?: { "stream_seq"?: number; "consumer_seq"?: number };
    };
    try {
      r = JSON.parse(text);
    } catch {
      this.#t.warn(`JetStream bad ${this.kind} consumer create response: ${JSON.stringify(text)}`);
      return;
    }
    if (r.error !== undefined || !r.name) {
      this.err = r.error;
      this.#t.warn(
        `JetStream error response for create ${this.kind} consumer: ${JSON.stringify(r.error ?? text)}`,
      );
      // Drop the delivery subscription; the health check retries.
      if (this.#sub !== undefined) this.#t.client.unsubscribeInternal(this.#sub);
      this.#sub = undefined;
      return;
    }
    this.err = undefined;
    this.cname = r.name;
    // The origin's start position counts only while every delivery it reports has reached us: a response
    // can overtake deliveries the consumer already made, and skipping past those would lose them.
    if ((r.delivered?.consumer_seq ?? 0) > this.dseq) return;
    const delivered = r.delivered?.stream_seq ?? 0;
    if (this.kind === "mirror" && delivered > this.#t.lastSeq()) this.#t.skipTo(delivered);
    if (this.kind === "source" && delivered > this.sseq) this.sseq = delivered;
  }

  #onDelivery(
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): void {
    if (this.#stopped) return;
    this.#lastMsgMs = Date.now();
    this.lastActive = nowNs();
    // Control messages: status 100 with an empty body.
    if (hdr !== undefined && hdr.length >= 12 && payload.length === 0 && isStatus100(hdr)) {
      const c = this.#t.client;
      if (reply) c.publishInternal(reply, undefined, undefined, new Uint8Array(0)); // flow control
      const stalled = getHeader("Nats-Consumer-Stalled", hdr);
      if (stalled) c.publishInternal(stalled, undefined, undefined, new Uint8Array(0));
      const ls = Number(getHeader("Nats-Last-Stream", hdr) ?? "0");
      const lc = Number(getHeader("Nats-Last-Consumer", hdr) ?? "0");
      // A heartbeat says deliveries we never saw happened: resync.
      if (lc > this.dseq && ls > this.sseq) this.#restart();
      return;
    }
    const a = parseAckReply(reply);
    if (a === undefined) return;
    if (a.dseq !== this.dseq + 1) {
      if (a.dseq > this.dseq + 1) this.#restart();
      return;
    }
    this.dseq = a.dseq;
    this.lag = a.pending;
    if (this.kind === "mirror") {
      const last = this.#t.lastSeq();
      if (a.sseq <= last) return;
      this.#t.mirrorPending?.(a.pending);
      let subj = subject;
      for (const tr of this.#transforms) {
        const m = tr.match(subject);
        if (m !== undefined) {
          subj = m;
          break;
        }
      }
      if (!this.#t.storeMirrored(subj, cleanHeaders(hdr), payload, a.sseq, a.ts)) this.#restart();
      this.sseq = a.sseq;
      return;
    }
    if (a.sseq <= this.sseq) return;
    let subj = subject;
    if (this.#transforms.length > 0) {
      let m: string | undefined;
      for (const tr of this.#transforms) {
        m = tr.match(subject);
        if (m !== undefined) break;
      }
      if (m === undefined) {
        this.sseq = a.sseq;
        return;
      }
      subj = m;
    }
    const parts = this.iname.split(" ");
    const name = parts[0];
    const h = appendHeaders(cleanHeaders(removeHeader(hdr, JS_STREAM_SOURCE)), [[
      JS_STREAM_SOURCE,
      `${name} ${a.sseq} ${parts[1] ?? ">"} ${parts[2] ?? ">"} ${subject}`,
    ]]);
    const err = this.#t.storeSourced(subj, h, payload);
    if (err === undefined) {
      this.sseq = a.sseq;
      this.#lastErr = "";
      return;
    }
    // Refused (a counter without Nats-Incr, limits, …): drop this consumer and let the health check make a
    // new one from the same message, at most once per retry interval, as the reference backs off.
    if (err !== this.#lastErr) {
      this.#t.warn(
        `Error processing inbound source ${JSON.stringify(this.iname)} for '${
          this.#t.accountName ?? ""
        }' > '${this.#t.name}': ${err}`,
      );
    }
    this.#lastErr = err;
    this.#cancel();
  }

  /**
   * Restarts the origin consumer from the last sequence seen, never synchronously and at least RESTART_GAP_MS
   * after the previous request: a restart that meets its cause again (a refused store, a gap) would otherwise
   * loop through the new consumer's first delivery without ever yielding to I/O.
   */
  #restart(): void {
    if (this.#stopped || this.#restartTmr !== undefined) return;
    const wait = Math.max(1, this.#lastReq + RESTART_GAP_MS - Date.now());
    this.#restartTmr = this.#t.after(wait, () => {
      this.#restartTmr = undefined;
      if (this.#stopped) return;
      this.#lastReq = 0;
      this.#setup();
    });
  }

  #restartTmr: (() => void) | undefined;

  /** StreamSourceInfo in its JSON shape. */
  info(): Record<string, unknown> {
    const o: Record<string, unknown> = { name: this.cfg.name };
    if (this.cfg.external) o.external = this.cfg.external;
    o.lag = this.lag;
    o.active = this.lastActive === 0n ? -1 : Number(nowNs() - this.lastActive);
    if (this.cfg.filter_subject) o["filter_subject"] = this.cfg.filter_subject;
    if ((this.cfg.subject_transforms ?? []).length > 0) o["subject_transforms"] = this.cfg.subject_transforms;
    if (this.err !== undefined) o.error = this.err;
    return o;
  }
}

function isStatus100(hdr: Uint8Array): boolean {
  // "NATS/1.0 100"
  return hdr[9] === 0x31 && hdr[10] === 0x30 && hdr[11] === 0x30;
}

/**
 * Headers not carried into mirrors and sources: expectations (`Nats-Expected-*`, checked where the message was
 * first published; the copy would fail them against this stream's sequences) and atomic batch headers.
 */
function cleanHeaders(hdr: Uint8Array | undefined): Uint8Array | undefined {
  if (hdr === undefined || hdr.length === 0) return undefined;
  const text = decoder.decode(hdr).toLowerCase();
  if (!text.includes("nats-expected-") && !text.includes("nats-batch-")) return hdr;
  const kept = parseHeaders(hdr).filter(([k]) => {
    const l = k.toLowerCase();
    return !l.startsWith("nats-expected-") && !l.startsWith("nats-batch-");
  });
  return kept.length === 0 ? undefined : buildHeaders(kept);
}
