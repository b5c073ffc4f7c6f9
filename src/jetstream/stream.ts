// A JetStream stream on one server: ingest (the publish path and its header checks), retention, purge,
// message get/delete, direct get and the consumer registry. Behaviour follows nats-server server/stream.go.

import type { Client, Subscription } from "../server/mod.ts";
import type { StoreConfig, StoredMsg, StreamState, StreamStore } from "../store/mod.ts";
import { StoreError } from "../store/mod.ts";
import { isValidPublishSubject, isValidSubject, subjectIsSubsetMatch } from "../sublist/mod.ts";
import { encoder, type Logger, Nuid } from "../util/mod.ts";
import { ApiError, newJSError } from "./api_errors.ts";
import {
  appendHeaders,
  buildHeaders,
  getHeader,
  JS_BATCH_ID,
  JS_EXPECTED_LAST_MSG_ID,
  JS_EXPECTED_LAST_SEQ,
  JS_EXPECTED_LAST_SUBJ_SEQ,
  JS_EXPECTED_LAST_SUBJ_SEQ_SUBJ,
  JS_EXPECTED_STREAM,
  JS_LAST_SEQUENCE,
  JS_MARKER_REASON,
  JS_MSG_ID,
  JS_MSG_ROLLUP,
  JS_MSG_SIZE,
  JS_MSG_TTL,
  JS_SCHEDULE,
  JS_SCHEDULE_NEXT,
  JS_SCHEDULE_TARGET,
  JS_SCHEDULE_TTL,
  JS_SCHEDULER,
  JS_SEQUENCE,
  JS_STREAM,
  JS_SUBJECT,
  nowNs,
  parseHeaders,
  rfc3339Nano,
  ROLLUP_ALL,
  ROLLUP_SUBJECT,
} from "./_headers.ts";
import { goDuration, type StreamConfig, streamConfigJson } from "./_stream_config.ts";
import { parseSourceHeader, SourceLink, type SourceTarget } from "./_stream_sources.ts";
import { Batcher, type BatchLimits, DEFAULT_BATCH_LIMITS, type StagedMsg } from "./_stream_batch.ts";
import {
  isValidTimeZone,
  JS_SCHEDULE_ROLLUP,
  JS_SCHEDULE_SOURCE,
  JS_SCHEDULE_TIME_ZONE,
  nextFire,
  parseSchedule,
  type ScheduleEntry,
  Scheduler,
} from "./_stream_schedule.ts";
import { SubjectTransform } from "./_transform.ts";
import { parseTtl } from "./_ttl.ts";
import { applyIncr, checkIncr, parseIncr } from "./_stream_counter.ts";

/**
 * A consumer as the stream sees it. The consumer engineer implements this in consumer.ts and registers it
 * with `Stream.addConsumer()`; the stream never imports consumer code.
 *
 * Contract:
 * - `onStored(seq, subject)` is called synchronously after each message is stored, in sequence order
 *   (never for duplicates, refusals, or interest-policy drops). It must not throw and must not await: it
 *   marks the consumer as having work, and the consumer delivers from its own loop (Go's signalConsumers).
 * - `isInterested(subject)` answers whether the consumer's filter(s) match a subject; the stream uses it for
 *   interest/workqueue retention (a message no consumer is interested in is not stored under interest
 *   retention; it is still acknowledged with its sequence).
 * - `needsAck(seq, subject)` is true while the consumer still has to deliver or see an ack for `seq`
 *   (interest retention keeps a message while any consumer needs it).
 * - `onPurged(firstSeq)` tells the consumer that everything below `firstSeq` is gone (purge/compact), so
 *   it can move its floors (Go's purge → consumer.purge).
 * - `stop()` ends timers and subscriptions without deleting state (stream stop, server shutdown);
 *   `delete()` removes state too (stream delete).
 * - `info()` returns the ConsumerInfo JSON object, used by stream-level listings if needed.
 *
 * Acks: for workqueue and interest streams the consumer calls `Stream.ackMsg(seq)` once an ack (or
 * AckNone delivery) makes `seq` no longer needed by it; the stream removes the message once no registered
 * consumer `needsAck` it (workqueue: at once). Consumer counts and limits: `Stream.numConsumers()`,
 * `Stream.config.max_consumers`; `Stream.consumers` is the registry by name.
 */
export interface StreamConsumer {
  readonly name: string;
  /** An internal consumer of a mirror or source (config `direct`): not counted or listed as the stream's. */
  readonly config?: { readonly direct?: boolean };
  onStored(seq: number, subject: string): void;
  isInterested(subject: string): boolean;
  needsAck(seq: number, subject: string): boolean;
  onPurged(firstSeq: number): void;
  /** A filtered purge (see ConsumerBase.onPurgedFiltered). */
  onPurgedFiltered(filter: string, streamFirst: number, nextMatch: number, lastSeq: number): void;
  stop(): void;
  delete(): void;
  info(): Record<string, unknown>;
}

/** What a stream needs of its account and server. */
export interface StreamHost {
  /** The account's JetStream internal client (publishes replies, advisories, republished messages). */
  readonly client: Client;
  readonly log: Logger;
  /** The JetStream domain, "" for none. */
  readonly domain: string;
  /** The account's name, for log lines. */
  readonly accountName: string;
  /** Server max_payload. */
  maxPayload(): number;
  /** Milliseconds timer on the server's timer heap; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
  /** Account storage accounting. */
  updateUsage(storage: "memory" | "file", deltaBytes: number): void;
  /** True when the account or server storage limits are reached for this storage type. */
  limitsExceeded(storage: "memory" | "file"): ApiError | undefined;
  /**
   * Added with atomic batches (optional so existing hosts stay valid): the server-wide count of batches in
   * flight, and the batch limits (tests lower them).
   */
  readonly batchInflight?: { n: number };
  batchLimits?(): BatchLimits;
  /** Added with batches/snapshots: publishes an advisory when someone listens. */
  advisory?(subject: string, body: Record<string, unknown>): void;
  /**
   * Added with mirror_direct: makes stream `s` answer direct gets addressed to its mirror origin `origin`;
   * returns the unsubscribe function.
   */
  mirrorDirect?(s: Stream, origin: string): () => void;
}

/** The body of a STREAM.PURGE request. */
export interface PurgeRequest {
  filter?: string;
  seq?: number;
  keep?: number;
}

interface DedupeEntry {
  seq: number;
  ts: number;
}

const MAX_HDR = 65_535;
const ZERO_STATE_TIME = "0001-01-01T00:00:00Z";

/** One stream. Everything here is synchronous except the wait for durability before a PubAck. */
export class Stream {
  readonly host: StreamHost;
  config: StreamConfig;
  readonly store: StreamStore;
  /** Creation time, ns since the epoch. */
  readonly created: bigint;
  /** The consumers registered by consumer.ts, by name. */
  readonly consumers = new Map<string, StreamConsumer>();
  #subs: Subscription[] = [];
  #closed = false;
  #pubAckPrefix = "";
  /** #pubAckPrefix as bytes, for the plain PubAck built without a string round trip. */
  #pubAckPrefixB = new Uint8Array(0);
  /** #sendPlainAck's buffer: #pubAckPrefixB followed by room for the sequence. */
  #ackBuf = new Uint8Array(0);
  #dedupe = new Map<string, DedupeEntry>();
  #lastMsgId = "";
  #dedupeTimer: (() => void) | undefined;
  #ingestTransform: SubjectTransform | undefined;
  #republish: SubjectTransform | undefined;
  #lseq = 0;
  #nuid = new Nuid();
  #mirror: SourceLink | undefined;
  #sources = new Map<string, SourceLink>();
  #batcher: Batcher | undefined;
  /** Set while a batch commit or a schedule stores through processInbound. */
  #internalIngest = false;
  /** The last refusal of processInbound (for sources, batches and schedules, which have no reply). */
  #ingestErr: ApiError | undefined;
  /** Consumer notifications held back while a batch commit may still roll back. */
  #deferred: [number, string][] | undefined;
  #scheduler: Scheduler | undefined;
  /** Sequences stored with a per-message TTL (their expiry places no delete marker). */
  #ttlSeqs = new Set<number>();
  /** > 0 while the stream itself removes messages (purge, delete, limits): no MaxAge markers then. */
  #ownOps = 0;
  /** Set while a message that came through a source is ingested (its Nats-Incr is stored as it comes). */
  #sourcedIngest = false;
  /** Unsubscribes the mirror_direct responder for the origin's name, while there is one. */
  #mirrorDirectUnsub: (() => void) | undefined;

  /** Bytes this stream counts in its account's usage (a deleted store may not report its data gone). */
  #usageBytes = 0;

  constructor(host: StreamHost, config: StreamConfig, store: StreamStore, created = nowNs()) {
    this.host = host;
    this.config = config;
    this.store = store;
    this.created = created;
    this.#applyConfig();
    this.#lseq = store.fastState().lastSeq;
    this.#usageBytes = store.fastState().bytes;
    store.registerStorageUpdates((dm, db, seq, subject) => {
      this.#usageBytes += db;
      host.updateUsage(this.config.storage, db);
      if (dm < 0) this.#onRemoved(seq, subject);
    });
  }

  get name(): string {
    return this.config.name;
  }

  #applyConfig(): void {
    const c = this.config;
    const d = this.host.domain;
    this.#pubAckPrefix = d === ""
      ? `{"stream":${JSON.stringify(c.name)}, "seq":`
      : `{"stream":${JSON.stringify(c.name)}, "domain":${JSON.stringify(d)}, "seq":`;
    this.#pubAckPrefixB = encoder.encode(this.#pubAckPrefix);
    this.#ackBuf = new Uint8Array(0);
    this.#ingestTransform = c.subject_transform
      ? SubjectTransform.create(c.subject_transform.src, c.subject_transform.dest)
      : undefined;
    this.#republish = c.republish
      ? SubjectTransform.create(c.republish.src ?? ">", c.republish.dest)
      : undefined;
  }

  /** Subscribes to the stream's subjects and starts mirror/source links and schedules. */
  start(): void {
    for (const s of this.config.subjects ?? []) this.#subscribe(s);
    this.#startLinks(true);
    this.#recoverSchedules();
  }

  #subscribe(subject: string): void {
    const sub = this.host.client.subscribeInternal(subject, (_s, _c, subj, reply, hdr, payload) => {
      this.processInbound(subj, reply, hdr, payload);
    });
    this.#subs.push(sub);
  }

  /** Applies an already-checked config update: subjects, transforms, limits. */
  update(cfg: StreamConfig): void {
    const wasMirrorDirect = this.config.mirror_direct;
    const wasInterest = this.config.retention === "interest";
    const old = new Set(this.config.subjects ?? []);
    const next = new Set(cfg.subjects ?? []);
    for (const sub of [...this.#subs]) {
      if (!next.has(sub.subject)) {
        this.host.client.unsubscribeInternal(sub);
        this.#subs.splice(this.#subs.indexOf(sub), 1);
      }
    }
    for (const s of next) if (!old.has(s)) this.#subscribe(s);
    this.config = cfg;
    this.#applyConfig();
    this.store.updateConfig(storeConfig(cfg));
    if (cfg.duplicate_window !== undefined) this.#purgeDedupe();
    if (!cfg.allow_atomic) this.#batcher?.clear();
    // mirror_direct turned on by an update answers at once; turned off, it stops (as the reference's update).
    if (!cfg.mirror_direct) this.#mirrorDirectStop();
    else if (!wasMirrorDirect) this.#mirrorDirectCheck(0);
    this.#startLinks();
    if (!cfg.allow_msg_schedules) this.#scheduler?.stop();
    else this.#recoverSchedules();
    // Now interest based: messages every consumer is done with go.
    if (cfg.retention === "interest" && !wasInterest) this.#releaseUnneeded();
  }

  /** Unsubscribes, stops consumers and the store (data kept). */
  stop(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#subs) this.host.client.unsubscribeInternal(s);
    this.#subs = [];
    this.#dedupeTimer?.();
    this.#stopExtras();
    for (const c of this.consumers.values()) c.stop();
    this.store.stop();
  }

  /** Stops and deletes all data, consumers included. */
  delete(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#subs) this.host.client.unsubscribeInternal(s);
    this.#subs = [];
    this.#dedupeTimer?.();
    this.#stopExtras();
    for (const c of this.consumers.values()) c.delete();
    this.consumers.clear();
    this.store.delete();
    if (this.#usageBytes !== 0) this.host.updateUsage(this.config.storage, -this.#usageBytes);
    this.#usageBytes = 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #stopExtras(): void {
    this.#mirror?.stop();
    this.#mirror = undefined;
    // The mirror_direct responder outlives link restarts (it answers while the origin is away), not the stream.
    this.#mirrorDirectStop();
    for (const l of this.#sources.values()) l.stop();
    this.#sources.clear();
    this.#batcher?.clear();
    this.#scheduler?.stop();
  }

  // ---- Mirrors and sources --------------------------------------------------------------------------

  #linkTarget(): SourceTarget {
    const host = this.host;
    return {
      name: this.config.name,
      client: host.client as unknown as SourceTarget["client"],
      after: (ms, fn) => host.after(ms, fn),
      warn: (m) => host.log.warn(m),
      lastSeq: () => this.#lseq,
      isEmpty: () => this.store.fastState().msgs === 0,
      storeMirrored: (subject, hdr, msg, seq, ts) => this.#storeMirrored(subject, hdr, msg, seq, ts),
      skipTo: (seq) => this.#skipTo(seq),
      storeSourced: (subject, hdr, msg) => {
        this.#ingestErr = undefined;
        this.#sourcedIngest = true;
        try {
          this.processInbound(subject, undefined, hdr, msg);
        } finally {
          this.#sourcedIngest = false;
        }
        // processInbound sets #ingestErr on a refusal (TS cannot see that through the call).
        return (this.#ingestErr as ApiError | undefined)?.description;
      },
      accountName: host.accountName,
      mirrorPending: (pending) => this.#mirrorDirectCheck(pending),
    };
  }

  /**
   * Starts links for the configured mirror and sources that have none yet; stops removed sources. At stream
   * start (`recovering`) a source whose last message is gone starts after this stream's last message time.
   */
  #startLinks(recovering = false): void {
    if (this.#closed) return;
    const cfg = this.config;
    if (cfg.mirror !== undefined && this.#mirror === undefined) {
      this.#mirror = new SourceLink(this.#linkTarget(), "mirror", cfg.mirror, this.#nuid);
      this.#mirror.sseq = this.#lseq;
      this.#mirror.start();
    }
    const want = new Map<string, SourceLink>();
    for (const src of cfg.sources ?? []) {
      const l = new SourceLink(this.#linkTarget(), "source", src, this.#nuid);
      want.set(l.iname, l);
    }
    for (const [iname, l] of this.#sources) {
      if (!want.has(iname)) {
        l.stop();
        this.#sources.delete(iname);
      }
    }
    const fresh: SourceLink[] = [];
    for (const [iname, l] of want) {
      if (this.#sources.has(iname)) continue;
      this.#sources.set(iname, l);
      fresh.push(l);
    }
    if (fresh.length === 0) return;
    if (recovering) {
      // Messages may all be gone (work queue, purge, limits): fall back to time, as the reference does.
      const lt = this.store.fastState().lastTime;
      if (lt > 0n) { for (const l of fresh) l.startTime = lt; }
    }
    this.#recoverSourceSeqs(fresh);
    for (const l of fresh) l.start();
  }

  /** Finds each source's last origin sequence from the Nats-Stream-Source headers (newest first). */
  #recoverSourceSeqs(links: SourceLink[]): void {
    const byName = new Map(links.map((l) => [l.iname, l]));
    let left = byName.size;
    let seq = this.#lseq;
    for (let n = 0; left > 0 && seq > 0 && n < 100_000; n++) {
      const m = this.store.loadPrevMsg(seq);
      if (m === undefined) break;
      seq = m.seq - 1;
      const v = getHeader("Nats-Stream-Source", m.hdr);
      if (v === undefined) continue;
      const p = parseSourceHeader(v);
      const l = p && byName.get(p.iname);
      if (l && l.sseq === 0) {
        l.sseq = p!.seq;
        left--;
      }
    }
  }

  #storeMirrored(
    subject: string,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    seq: number,
    ts: bigint,
  ): boolean {
    try {
      if (seq > this.#lseq + 1) this.store.skipMsgs(this.#lseq + 1, seq - this.#lseq - 1);
      this.store.storeRawMsg(subject, hdr?.slice(), msg.slice(), seq, ts);
    } catch (e) {
      this.host.log.warn(
        `JetStream failed to store a mirrored msg on '${this.host.accountName} > ${this.config.name}': ${
          (e as Error).message
        }`,
      );
      return false;
    }
    this.#lseq = seq;
    this.#notify(seq, subject);
    return true;
  }

  #skipTo(seq: number): void {
    if (seq <= this.#lseq) return;
    try {
      this.store.skipMsgs(this.#lseq + 1, seq - this.#lseq);
      this.#lseq = seq;
    } catch (e) {
      this.host.log.warn(`JetStream mirror skip failed on '${this.config.name}': ${(e as Error).message}`);
    }
  }

  /**
   * mirror_direct: once the mirror is nearly caught up (fewer than 10 pending, so a busy origin still
   * counts), the stream also answers direct gets for the origin's name, as nats-server does.
   */
  #mirrorDirectCheck(pending: number): void {
    if (this.#mirrorDirectUnsub !== undefined || pending >= 10 || this.#closed) return;
    const m = this.config.mirror;
    if (!this.config.mirror_direct || m === undefined) return;
    this.#mirrorDirectUnsub = this.host.mirrorDirect?.(this, m.name);
  }

  #mirrorDirectStop(): void {
    this.#mirrorDirectUnsub?.();
    this.#mirrorDirectUnsub = undefined;
  }

  /** StreamSourceInfo of the mirror, or undefined. */
  mirrorInfo(): Record<string, unknown> | undefined {
    return this.#mirror?.info();
  }

  /** StreamSourceInfo of each source. */
  sourcesInfo(): Record<string, unknown>[] {
    return [...this.#sources.values()].map((l) => l.info());
  }

  #notify(seq: number, subject: string): void {
    if (this.#deferred !== undefined) {
      this.#deferred.push([seq, subject]);
      return;
    }
    for (const c of this.consumers.values()) c.onStored(seq, subject);
  }

  // ---- Atomic batches -------------------------------------------------------------------------------

  #getBatcher(): Batcher {
    if (this.#batcher !== undefined) return this.#batcher;
    const host = this.host;
    const inflight = host.batchInflight ?? { n: 0 };
    this.#batcher = new Batcher({
      allowAtomic: () => this.config.allow_atomic === true,
      limits: () => host.batchLimits?.() ?? DEFAULT_BATCH_LIMITS,
      inflight,
      after: (ms, fn) => host.after(ms, fn),
      replyErr: (r, e) => this.#replyErr(r, e),
      replyEmpty: (r) => this.#reply(r, new Uint8Array(0)),
      commit: (id, msgs, r) => this.#commitBatch(id, msgs, r),
      abandoned: (id, reason) => {
        const o: Record<string, unknown> = {
          type: "io.nats.jetstream.advisory.v1.stream_batch_abandoned",
          id: this.#nuid.next(),
          timestamp: rfc3339Nano(nowNs()),
          stream: this.config.name,
        };
        if (host.domain !== "") o.domain = host.domain;
        o.batch = id;
        o.reason = reason;
        host.advisory?.(`$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.${this.config.name}`, o);
      },
    });
    return this.#batcher;
  }

  /** Stores all staged messages or none (a refusal rolls the store back to where the batch began). */
  #commitBatch(id: string, msgs: StagedMsg[], reply: string | undefined): void {
    const start = this.#lseq;
    this.#deferred = [];
    this.#internalIngest = true;
    let err: ApiError | undefined;
    try {
      for (const m of msgs) {
        this.#ingestErr = undefined;
        this.processInbound(m.subject, undefined, m.hdr, m.msg);
        const ie = this.#ingestErr as ApiError | undefined;
        if (ie !== undefined) {
          err = ie;
          break;
        }
      }
    } finally {
      this.#internalIngest = false;
    }
    const deferred = this.#deferred;
    this.#deferred = undefined;
    if (err !== undefined) {
      if (this.#lseq > start) {
        this.#ownOps++;
        try {
          this.store.truncate(start);
        } finally {
          this.#ownOps--;
        }
        this.#lseq = start;
      }
      return this.#replyErr(reply, err);
    }
    for (const [seq, subj] of deferred) for (const c of this.consumers.values()) c.onStored(seq, subj);
    if (reply === undefined || reply === "" || this.config.no_ack) return;
    const ack = `${this.#pubAckPrefix}${this.#lseq}, "batch":${JSON.stringify(id)}, "count":${msgs.length}}`;
    const p = this.store.flushed(this.#lseq);
    if (p === undefined) this.#reply(reply, ack);
    else {p.then(() =>
        this.#reply(reply, ack), () =>
        this.#replyErr(reply, newJSError("JSStreamStoreFailedF", { err: "flush failed" })));}
  }

  // ---- Subject delete markers -------------------------------------------------------------------------

  /** A message left the store: MaxAge expiry (not TTL, not our own removals) places a delete marker. */
  #onRemoved(seq: number, subject: string): void {
    if (this.#ttlSeqs.delete(seq)) return;
    if (this.#ownOps > 0 || this.#closed) return;
    if (!(this.config.subject_delete_marker_ttl! > 0)) return;
    // Not from inside the store's callback: the store may be mid-expiry.
    queueMicrotask(() => {
      if (!this.#closed && this.store.loadLastMsg(subject) === undefined) {
        this.#placeMarker(subject, "MaxAge");
      }
    });
  }

  /** Stores an empty message with Nats-Marker-Reason and a TTL of subject_delete_marker_ttl. */
  #placeMarker(subject: string, reason: "MaxAge" | "Purge" | "Remove"): void {
    const ttl = this.config.subject_delete_marker_ttl ?? 0;
    if (ttl <= 0) return;
    const hdr = buildHeaders([[JS_MARKER_REASON, reason], [JS_MSG_TTL, goDuration(ttl)]]);
    let seq: number;
    try {
      ({ seq } = this.store.storeMsg(subject, hdr, new Uint8Array(0), BigInt(ttl)));
    } catch (e) {
      this.host.log.warn(
        `JetStream failed to place a delete marker on '${this.config.name}': ${(e as Error).message}`,
      );
      return;
    }
    this.#ttlSeqs.add(seq);
    this.#lseq = seq;
    this.#notify(seq, subject);
  }

  // ---- Message schedules -----------------------------------------------------------------------------

  #getScheduler(): Scheduler {
    if (this.#scheduler === undefined) {
      this.#scheduler = new Scheduler((ms, fn) => this.host.after(ms, fn), (e) => this.#fireSchedule(e));
    }
    return this.#scheduler;
  }

  /** Checks a message's schedule headers; returns the refusal or undefined. */
  #checkSchedule(subject: string, hdr: Uint8Array, sched: string): ApiError | undefined {
    const cfg = this.config;
    if (!cfg.allow_msg_schedules) return newJSError("JSMessageSchedulesDisabledErr");
    const p = parseSchedule(sched);
    if (p === undefined) return newJSError("JSMessageSchedulesPatternInvalidErr");
    const target = getHeader(JS_SCHEDULE_TARGET, hdr) ?? "";
    if (
      target === "" || !isValidPublishSubject(target) || target === subject ||
      !(cfg.subjects ?? []).some((s) => subjectIsSubsetMatch(target, s))
    ) return newJSError("JSMessageSchedulesTargetInvalidErr");
    const sttl = getHeader(JS_SCHEDULE_TTL, hdr);
    if (sttl !== undefined && (parseTtl(sttl) === undefined || !cfg.allow_msg_ttl)) {
      return newJSError("JSMessageSchedulesTTLInvalidErr");
    }
    const rollup = getHeader(JS_SCHEDULE_ROLLUP, hdr);
    if (rollup !== undefined && rollup !== ROLLUP_SUBJECT) {
      return newJSError("JSMessageSchedulesRollupInvalidErr");
    }
    const source = getHeader(JS_SCHEDULE_SOURCE, hdr);
    if (source !== undefined && (!isValidPublishSubject(source) || source === subject || source === target)) {
      return newJSError("JSMessageSchedulesSourceInvalidErr");
    }
    const tz = getHeader(JS_SCHEDULE_TIME_ZONE, hdr);
    if (tz !== undefined && (p.kind !== "cron" || !isValidTimeZone(tz))) {
      return newJSError("JSMessageSchedulesTimeZoneInvalidErr");
    }
    return undefined;
  }

  #trackSchedule(subject: string, seq: number, hdr: Uint8Array | undefined): void {
    const sched = getHeader(JS_SCHEDULE, hdr);
    if (sched === undefined) {
      this.#scheduler?.delete(subject);
      return;
    }
    const p = parseSchedule(sched);
    if (p === undefined) return;
    const tz = getHeader(JS_SCHEDULE_TIME_ZONE, hdr) ?? "";
    const due = nextFire(p, Date.now(), tz);
    if (due === undefined) return;
    this.#getScheduler().set({ subject, seq, pattern: p, tz, dueMs: due });
  }

  /** Rebuilds the schedules from the last message of each subject. */
  #recoverSchedules(): void {
    if (!this.config.allow_msg_schedules) return;
    let n = 0;
    for (const subj of this.store.subjectsTotals(">").keys()) {
      if (++n > 100_000) break;
      const m = this.store.loadLastMsg(subj);
      if (m !== undefined && getHeader(JS_SCHEDULE, m.hdr) !== undefined) {
        this.#trackSchedule(subj, m.seq, m.hdr);
      }
    }
  }

  #fireSchedule(e: ScheduleEntry): void {
    const sch = this.#scheduler!;
    const m = this.store.loadMsg(e.seq);
    if (m === undefined || this.#closed) return sch.delete(e.subject);
    const target = getHeader(JS_SCHEDULE_TARGET, m.hdr) ?? "";
    const ttl = getHeader(JS_SCHEDULE_TTL, m.hdr);
    const rollup = getHeader(JS_SCHEDULE_ROLLUP, m.hdr);
    const source = getHeader(JS_SCHEDULE_SOURCE, m.hdr);
    const now = Date.now();
    const next = e.pattern.kind === "at" ? undefined : nextFire(e.pattern, Math.max(now, e.dueMs), e.tz);
    let body = m.msg;
    let base = m.hdr;
    let publish = true;
    if (source !== undefined) {
      const last = this.store.loadLastMsg(source);
      if (last === undefined) publish = false;
      else {
        body = last.msg;
        base = last.hdr;
      }
    }
    if (publish) {
      const drop = new Set(
        [
          JS_SCHEDULE,
          JS_SCHEDULE_TARGET,
          JS_SCHEDULE_TTL,
          JS_SCHEDULE_SOURCE,
          JS_SCHEDULE_ROLLUP,
          JS_SCHEDULE_TIME_ZONE,
          JS_SCHEDULER,
          JS_SCHEDULE_NEXT,
          JS_MSG_TTL,
          JS_MSG_ROLLUP,
          JS_MSG_ID,
        ].map((h) => h.toLowerCase()),
      );
      const pairs = parseHeaders(base).filter(([k]) =>
        !drop.has(k.toLowerCase()) && !k.toLowerCase().startsWith("nats-expected-")
      );
      pairs.push([JS_SCHEDULER, e.subject]);
      pairs.push([JS_SCHEDULE_NEXT, next === undefined ? "purge" : rfc3339Nano(BigInt(next) * 1_000_000n)]);
      if (ttl !== undefined) pairs.push([JS_MSG_TTL, ttl]);
      if (rollup !== undefined) pairs.push([JS_MSG_ROLLUP, ROLLUP_SUBJECT]);
      this.#internalIngest = true;
      try {
        this.#ingestErr = undefined;
        this.processInbound(target, undefined, buildHeaders(pairs), body);
      } finally {
        this.#internalIngest = false;
      }
      const ie = this.#ingestErr as ApiError | undefined;
      if (ie !== undefined) {
        this.host.log.warn(
          `JetStream schedule '${e.subject}' on '${this.config.name}' failed: ${ie.description}`,
        );
      }
    }
    if (next === undefined) {
      sch.delete(e.subject);
      this.#ownOps++;
      try {
        this.store.removeMsg(e.seq);
      } finally {
        this.#ownOps--;
      }
    } else sch.set({ ...e, dueMs: next });
  }

  // ---- Consumers ------------------------------------------------------------------------------------

  /** Registers a consumer (consumer.ts calls this after its own checks). */
  addConsumer(c: StreamConsumer): void {
    this.consumers.set(c.name, c);
  }

  /** Unregisters a consumer; for interest retention, messages it alone held are released. */
  removeConsumer(name: string): void {
    if (!this.consumers.delete(name)) return;
    if (this.config.retention === "interest") this.#releaseUnneeded();
  }

  /** Consumers other than the internal (direct) ones of mirrors and sources. */
  numConsumers(): number {
    let n = this.consumers.size;
    for (const c of this.consumers.values()) if (c.config?.direct) n--;
    return n;
  }

  /**
   * A consumer no longer needs `seq`: under workqueue retention it is removed; under interest retention it
   * is removed once no consumer needs it. No effect under limits retention.
   */
  ackMsg(seq: number): void {
    const r = this.config.retention;
    if (r === "limits") return;
    this.#ownOps++;
    try {
      this.#ackMsg(seq, r);
    } finally {
      this.#ownOps--;
    }
  }

  #ackMsg(seq: number, r: string): void {
    if (r === "workqueue") {
      this.store.removeMsg(seq);
      return;
    }
    const m = this.store.loadMsg(seq);
    if (m === undefined) return;
    for (const c of this.consumers.values()) if (c.needsAck(seq, m.subject)) return;
    this.store.removeMsg(seq);
  }

  #releaseUnneeded(): void {
    const st = this.store.fastState();
    let n = 0;
    for (let seq = st.firstSeq; seq <= st.lastSeq && n < 100_000; seq++, n++) {
      const m = this.store.loadMsg(seq);
      if (m === undefined) continue;
      let need = false;
      for (const c of this.consumers.values()) {
        if (c.needsAck(seq, m.subject)) {
          need = true;
          break;
        }
      }
      if (!need) this.store.removeMsg(seq);
    }
  }

  // ---- Ingest -----------------------------------------------------------------------------------------

  /**
   * Sends the plain PubAck `${#pubAckPrefix}${seq}}`, built in a reusable buffer without a string round trip
   * (replyInternal copies it to the receivers before returning; an ack never has a reply of its own, so no
   * delivery it causes can come back here while the buffer is in use).
   */
  #sendPlainAck(reply: string, seq: number): void {
    const pre = this.#pubAckPrefixB;
    let out = this.#ackBuf;
    if (out.length < pre.length + 17) {
      out = this.#ackBuf = new Uint8Array(pre.length + 32);
      out.set(pre);
    }
    let o = pre.length;
    if (seq < 10) out[o++] = 0x30 + seq;
    else {
      let digits = 0;
      for (let t = seq; t > 0; t = Math.floor(t / 10)) digits++;
      for (let i = digits - 1, v = seq; i >= 0; i--, v = Math.floor(v / 10)) out[o + i] = 0x30 + (v % 10);
      o += digits;
    }
    out[o++] = 0x7d;
    this.host.client.replyInternal(reply, out.subarray(0, o));
  }

  /** PubAcks waiting for an fsync: the plain one is built when it is sent. */
  #plainAckFlushed = (e: unknown, r: string, seq: number): void => {
    if (e === undefined) return this.#sendPlainAck(r, seq);
    this.#ackFlushed(e, r, "");
  };

  /** Sends a PubAck once its message is durable (one store callback per message, no promise). */
  #ackFlushed = (e: unknown, r: string, ack: string | Uint8Array): void => {
    if (e === undefined) return this.#reply(r, ack);
    this.host.log.error(
      `JetStream flush failed on stream '${this.config.name}': ${(e as Error)?.message ?? e}`,
    );
    this.#replyErr(r, newJSError("JSStreamStoreFailedF", { err: (e as Error)?.message ?? String(e) }));
  };

  /** Sends a reply from the JetStream internal client. */
  #reply(reply: string | undefined, body: string | Uint8Array): void {
    if (reply === undefined || reply === "") return;
    this.host.client.replyInternal(reply, typeof body === "string" ? encoder.encode(body) : body);
  }

  #replyErr(reply: string | undefined, err: ApiError): void {
    this.#ingestErr = err;
    if (reply === undefined || reply === "") return;
    this.#reply(reply, JSON.stringify({ error: err, stream: this.config.name, seq: 0 }));
  }

  /**
   * The publish path: checks, stores, then replies with a PubAck once the store says the message is durable.
   * `hdr` and `payload` are views valid only during the call; the store copies them.
   */
  processInbound(
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): void {
    if (this.#closed) return;
    const cfg = this.config;
    const canRespond = !cfg.no_ack && reply !== undefined && reply !== "";
    const r = canRespond ? reply : undefined;
    if (cfg.sealed) return this.#replyErr(r, newJSError("JSStreamSealedErr"));
    const hlen = hdr?.length ?? 0;
    const maxPayload = this.host.maxPayload();
    if (maxPayload > 0 && hlen + payload.length > maxPayload) {
      return this.#replyErr(r, newJSError("JSStreamMessageExceedsMaximumErr"));
    }
    if (hlen > MAX_HDR) return this.#replyErr(r, newJSError("JSStreamHeaderExceedsMaximumErr"));
    const limErr = this.host.limitsExceeded(cfg.storage);
    if (limErr) return this.#replyErr(r, limErr);
    if (!this.#internalIngest && hdr !== undefined && hlen > 0 && getHeader(JS_BATCH_ID, hdr) !== undefined) {
      return this.#getBatcher().process(subject, r, hdr, payload);
    }

    let msgId = "";
    let rollup = "";
    let ttlNs: bigint | undefined;
    let body = payload;
    let counterVal: string | undefined;
    let incr: bigint | null | undefined;
    if (hdr !== undefined && hlen > 0) {
      // Counter increments first, as the reference: a bad value, a stream that does not count, a payload or
      // an expectation header refuse the message; one that came through a source is kept as it comes.
      incr = parseIncr(hdr);
      if (incr === null) return this.#replyErr(r, newJSError("JSMessageIncrInvalidErr"));
      if (incr !== undefined && !this.#sourcedIngest) {
        const ie = checkIncr(hdr, payload.length, cfg.allow_msg_counter === true);
        if (ie !== undefined) return this.#replyErr(r, ie);
      }
      const es = getHeader(JS_EXPECTED_STREAM, hdr);
      if (es !== undefined && es !== "" && es !== cfg.name) {
        return this.#replyErr(r, newJSError("JSStreamNotMatchErr"));
      }
      msgId = getHeader(JS_MSG_ID, hdr) ?? "";
      if (msgId !== "") {
        const dde = this.#dedupe.get(msgId);
        if (dde !== undefined) {
          if (r !== undefined) this.#reply(r, `${this.#pubAckPrefix}${dde.seq},"duplicate": true}`);
          return;
        }
      }
      const elss = getHeader(JS_EXPECTED_LAST_SUBJ_SEQ, hdr);
      if (elss !== undefined && elss !== "") {
        const seq = Number(elss);
        const on = getHeader(JS_EXPECTED_LAST_SUBJ_SEQ_SUBJ, hdr) || subject;
        const last = this.store.loadLastMsg(on);
        const fseq = last?.seq ?? 0;
        if (!Number.isInteger(seq) || fseq !== seq) {
          return this.#replyErr(r, newJSError("JSStreamWrongLastSequenceErrF", { seq: fseq }));
        }
      }
      const els = getHeader(JS_EXPECTED_LAST_SEQ, hdr);
      if (els !== undefined && els !== "" && Number(els) !== this.#lseq) {
        return this.#replyErr(r, newJSError("JSStreamWrongLastSequenceErrF", { seq: this.#lseq }));
      }
      const elid = getHeader(JS_EXPECTED_LAST_MSG_ID, hdr);
      if (elid !== undefined && elid !== "" && elid !== this.#lastMsgId) {
        return this.#replyErr(r, newJSError("JSStreamWrongLastMsgIDErrF", { id: this.#lastMsgId }));
      }
      rollup = getHeader(JS_MSG_ROLLUP, hdr) ?? "";
      if (rollup !== "" && !this.#internalIngest) {
        if (!cfg.allow_rollup_hdrs || cfg.deny_purge) {
          return this.#replyErr(r, newJSError("JSStreamRollupFailedF", { err: "rollup not permitted" }));
        }
        if (rollup !== ROLLUP_SUBJECT && rollup !== ROLLUP_ALL) {
          return this.#replyErr(
            r,
            newJSError("JSStreamRollupFailedF", { err: `rollup value invalid: ${JSON.stringify(rollup)}` }),
          );
        }
      }
      const ttl = getHeader(JS_MSG_TTL, hdr);
      if (ttl !== undefined && ttl !== "") {
        if (!cfg.allow_msg_ttl) return this.#replyErr(r, newJSError("JSMessageTTLDisabledErr"));
        const t = parseTtl(ttl);
        if (t === undefined) return this.#replyErr(r, newJSError("JSMessageTTLInvalidErr"));
        ttlNs = t;
      }
      const sched = getHeader(JS_SCHEDULE, hdr);
      if (sched !== undefined) {
        const se = this.#checkSchedule(subject, hdr, sched);
        if (se !== undefined) return this.#replyErr(r, se);
        // A schedule is the only message of its subject.
        if (rollup === "") rollup = ROLLUP_SUBJECT;
      } else if (
        cfg.allow_msg_schedules && !this.#internalIngest && getHeader(JS_SCHEDULER, hdr) !== undefined
      ) {
        return this.#replyErr(r, newJSError("JSMessageSchedulesSchedulerInvalidErr"));
      }
    }
    if (cfg.allow_msg_counter) {
      if (incr === undefined || incr === null) {
        return this.#replyErr(r, newJSError("JSMessageIncrMissingErr"));
      }
      // The counter lives on the subject as stored (after the stream's subject transform).
      const csubj = this.#ingestTransform?.match(subject) ?? subject;
      const cu = applyIncr(csubj, hdr!, payload, incr, this.store.loadLastMsg(csubj));
      if (cu instanceof ApiError) return this.#replyErr(r, cu);
      let max = maxPayload;
      if (cfg.max_msg_size >= 0 && (max <= 0 || cfg.max_msg_size < max)) max = cfg.max_msg_size;
      if (max > 0 && (cu.hdr.length > max || cu.body.length > max - cu.hdr.length)) {
        return this.#replyErr(r, newJSError("JSStreamMessageExceedsMaximumErr"));
      }
      hdr = cu.hdr;
      body = cu.body;
      counterVal = cu.total;
    }
    if (cfg.max_msg_size >= 0 && hlen + body.length > cfg.max_msg_size) {
      return this.#replyErr(r, newJSError("JSStreamMessageExceedsMaximumErr"));
    }

    // Interest retention with nobody interested: the sequence is used up, nothing is stored.
    if (cfg.retention === "interest") {
      let interest = false;
      for (const c of this.consumers.values()) {
        if (c.isInterested(subject)) {
          interest = true;
          break;
        }
      }
      if (!interest) {
        const seq = this.store.skipMsg();
        this.#lseq = seq;
        if (msgId !== "") this.#storeMsgId(msgId, seq);
        if (r !== undefined) this.#reply(r, `${this.#pubAckPrefix}${seq}}`);
        return;
      }
    }

    const storeSubject = this.#ingestTransform?.match(subject) ?? subject;
    // The store copies what it keeps, so the views go in as they are.
    const hcopy = hdr !== undefined && hlen > 0 ? hdr : undefined;
    const bcopy = body;
    let seq: number;
    let ts: bigint;
    try {
      this.#ownOps++;
      ({ seq, ts } = this.store.storeMsg(storeSubject, hcopy, bcopy, ttlNs));
    } catch (e) {
      if (e instanceof StoreError) {
        if (
          e.code !== "max_msgs" && e.code !== "max_bytes" && e.code !== "max_msgs_per_subject" &&
          e.code !== "msg_too_big"
        ) {
          this.host.log.error(
            `JetStream failed to store a msg on stream '${this.host.accountName} > ${cfg.name}': ${e.message}`,
          );
        }
        return this.#replyErr(r, newJSError("JSStreamStoreFailedF", { err: e.message }));
      }
      throw e;
    } finally {
      this.#ownOps--;
    }
    this.#lseq = seq;
    if (ttlNs !== undefined && ttlNs > 0n && (cfg.subject_delete_marker_ttl ?? 0) > 0) this.#ttlSeqs.add(seq);
    if (msgId !== "") {
      this.#storeMsgId(msgId, seq);
      this.#lastMsgId = msgId;
    }
    if (rollup === ROLLUP_SUBJECT) this.#purgeQuiet({ filter: storeSubject, keep: 1 });
    else if (rollup === ROLLUP_ALL) this.#purgeQuiet({ keep: 1 });
    if (cfg.allow_msg_schedules) this.#trackSchedule(storeSubject, seq, hcopy);

    if (this.#republish !== undefined) this.#doRepublish(storeSubject, hcopy, bcopy, seq);

    if (r !== undefined) {
      if (counterVal === undefined) {
        if (!this.store.onFlushed(seq, this.#plainAckFlushed, r, seq)) this.#sendPlainAck(r, seq);
      } else {
        const ack = `${this.#pubAckPrefix}${seq}, "val":${JSON.stringify(counterVal)}}`;
        if (!this.store.onFlushed(seq, this.#ackFlushed, r, ack)) this.#reply(r, ack);
      }
    }
    void ts;
    this.#notify(seq, storeSubject);
  }

  #doRepublish(subject: string, hdr: Uint8Array | undefined, msg: Uint8Array, seq: number): void {
    const tsubj = this.#republish!.match(subject);
    if (tsubj === undefined) return;
    const last = this.store.loadPrevMsg(seq - 1)?.seq ?? 0;
    const headersOnly = this.config.republish?.headers_only === true;
    const pairs: [string, string][] = [
      [JS_STREAM, this.config.name],
      [JS_SUBJECT, subject],
      [JS_SEQUENCE, String(seq)],
      [JS_LAST_SEQUENCE, String(last)],
    ];
    if (headersOnly) pairs.push([JS_MSG_SIZE, String(msg.length)]);
    const h = appendHeaders(hdr, pairs);
    this.host.client.publishInternal(tsubj, undefined, h, headersOnly ? new Uint8Array(0) : msg);
  }

  #storeMsgId(id: string, seq: number): void {
    const window = this.config.duplicate_window ?? 0;
    if (window <= 0) return;
    this.#dedupe.set(id, { seq, ts: Date.now() });
    if (this.#dedupeTimer === undefined) {
      this.#dedupeTimer = this.host.after(Math.max(1, window / 1e6), () => {
        this.#dedupeTimer = undefined;
        this.#purgeDedupe();
      });
    }
  }

  /** Drops msg ids older than the duplicate window (a Map keeps insertion order: oldest first). */
  #purgeDedupe(): void {
    const window = (this.config.duplicate_window ?? 0) / 1e6;
    const cutoff = Date.now() - window;
    for (const [id, e] of this.#dedupe) {
      if (e.ts > cutoff) break;
      this.#dedupe.delete(id);
    }
    if (this.#dedupe.size > 0 && this.#dedupeTimer === undefined && !this.#closed) {
      const first = this.#dedupe.values().next().value!;
      this.#dedupeTimer = this.host.after(Math.max(1, first.ts + window - Date.now()), () => {
        this.#dedupeTimer = undefined;
        this.#purgeDedupe();
      });
    }
  }

  // ---- Admin operations ---------------------------------------------------------------------------------

  /**
   * Purges per the request (the STREAM.PURGE API); returns the number purged. Consumers learn the new first
   * sequence; with subject_delete_marker_ttl, each subject left empty gets a "Purge" marker.
   */
  purge(req: PurgeRequest = {}): number {
    const markers = (this.config.subject_delete_marker_ttl ?? 0) > 0;
    const before = markers ? [...this.store.subjectsTotals(req.filter || ">").keys()] : [];
    const n = this.#purgeQuiet(req);
    for (const subj of before) {
      if (this.store.loadLastMsg(subj) === undefined) this.#placeMarker(subj, "Purge");
    }
    return n;
  }

  #purgeQuiet(req: PurgeRequest): number {
    const filter = req.filter ?? "";
    const seq = req.seq ?? 0;
    const keep = req.keep ?? 0;
    this.#ownOps++;
    let n: number;
    try {
      n = filter === "" && seq === 0 && keep === 0
        ? this.store.purge()
        : this.store.purgeEx(filter, seq, keep);
    } finally {
      this.#ownOps--;
    }
    const st = this.store.fastState();
    const first = st.firstSeq;
    if (filter === "") {
      for (const c of this.consumers.values()) c.onPurged(first);
    } else {
      const next = this.store.filteredState(first, filter).first;
      for (const c of this.consumers.values()) c.onPurgedFiltered(filter, first, next, st.lastSeq);
    }
    return n;
  }

  /**
   * Removes one message (erasing its bytes unless noErase); false when absent. With
   * subject_delete_marker_ttl, a subject left empty gets a "Remove" marker.
   */
  removeMsg(seq: number, noErase: boolean): boolean {
    const markers = (this.config.subject_delete_marker_ttl ?? 0) > 0;
    const subj = markers ? this.store.loadMsg(seq)?.subject : undefined;
    this.#ownOps++;
    let ok: boolean;
    try {
      ok = noErase ? this.store.removeMsg(seq) : this.store.eraseMsg(seq);
    } finally {
      this.#ownOps--;
    }
    if (ok && subj !== undefined && this.store.loadLastMsg(subj) === undefined) {
      this.#placeMarker(subj, "Remove");
    }
    return ok;
  }

  /** StreamState in its JSON shape. */
  stateJson(opts: { subjectsFilter?: string; deleted?: boolean } = {}): Record<string, unknown> {
    const st: StreamState = opts.deleted ? this.store.state() : this.store.fastState();
    const o: Record<string, unknown> = {
      messages: st.msgs,
      bytes: st.bytes,
      "first_seq": st.firstSeq,
      "first_ts": st.firstTime === 0n ? ZERO_STATE_TIME : rfc3339Nano(st.firstTime),
      "last_seq": st.lastSeq,
      "last_ts": st.lastTime === 0n ? ZERO_STATE_TIME : rfc3339Nano(st.lastTime),
    };
    if (st.numSubjects > 0) o["num_subjects"] = st.numSubjects;
    if (opts.subjectsFilter) {
      const subs: Record<string, number> = {};
      for (const [k, v] of this.store.subjectsTotals(opts.subjectsFilter)) subs[k] = v;
      if (Object.keys(subs).length > 0) o.subjects = subs;
    }
    if (st.numDeleted > 0) o["num_deleted"] = st.numDeleted;
    if (opts.deleted && st.deleted && st.deleted.length > 0) o.deleted = st.deleted;
    o["consumer_count"] = this.numConsumers();
    return o;
  }

  /** The StreamInfo body (config, created, state, …) shared by create/update/info/list. */
  infoJson(opts: { subjectsFilter?: string; deleted?: boolean } = {}): Record<string, unknown> {
    const o: Record<string, unknown> = {
      config: streamConfigJson(this.config),
      created: rfc3339Nano(this.created),
      state: this.stateJson(opts),
    };
    if (this.host.domain !== "") o.domain = this.host.domain;
    const mi = this.mirrorInfo();
    if (mi !== undefined) o.mirror = mi;
    if (this.#sources.size > 0) o.sources = this.sourcesInfo();
    return o;
  }

  /** Loads one message per a MSG.GET / DIRECT.GET single request; undefined when there is none. */
  loadForGet(req: { seq?: number; "last_by_subj"?: string; "next_by_subj"?: string }): StoredMsg | undefined {
    if (req.next_by_subj) return this.store.loadNextMsg(req.next_by_subj, req.seq ?? 0);
    if (req.last_by_subj) return this.store.loadLastMsg(req.last_by_subj);
    return this.store.loadMsg(req.seq ?? 0);
  }
}

/** Maps a stream config onto the store's terms. */
export function storeConfig(c: StreamConfig): StoreConfig {
  return {
    name: c.name,
    storage: c.storage,
    subjects: c.subjects ?? [],
    maxMsgs: c.max_msgs,
    maxBytes: c.max_bytes,
    maxAge: BigInt(Math.round(c.max_age)),
    maxMsgsPerSubject: c.max_msgs_per_subject,
    maxMsgSize: c.max_msg_size,
    discardNew: c.discard === "new",
    discardNewPerSubject: c.discard_new_per_subject === true,
    allowMsgTtl: c.allow_msg_ttl === true,
    compression: c.compression ?? "none",
  };
}

/** True when `filter` is a valid subject filter for MSG.GET / purge requests. */
export function isValidFilter(filter: string): boolean {
  return isValidSubject(filter);
}
