// What stores into a stream from inside the server rather than from a client publish: atomic batch commits,
// message schedules, and mirror and source links. Layer three of the stream (see _stream_base.ts). Behaviour
// follows nats-server server/stream.go.

import { isValidPublishSubject, subjectIsSubsetMatch } from "../sublist/mod.ts";
import { ApiError, newJSError } from "./api_errors.ts";
import {
  buildHeaders,
  getHeader,
  JS_MSG_ID,
  JS_MSG_ROLLUP,
  JS_MSG_TTL,
  JS_SCHEDULE,
  JS_SCHEDULE_NEXT,
  JS_SCHEDULE_TARGET,
  JS_SCHEDULE_TTL,
  JS_SCHEDULER,
  nowNs,
  parseHeaders,
  rfc3339Nano,
  ROLLUP_SUBJECT,
} from "./_headers.ts";
import { parseSourceHeader, SourceLink, type SourceTarget } from "./_stream_sources.ts";
import { Batcher, DEFAULT_BATCH_LIMITS, type StageCheck, type StagedMsg } from "./_stream_batch.ts";
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
import { parseTtl } from "./_ttl.ts";
import { StreamIngest } from "./_stream_ingest.ts";
import { BatchWal } from "./_batch_wal.ts";
import { FileStore } from "../store/mod.ts";

/** StreamFeeds: see StreamBase for the layering. */
export abstract class StreamFeeds extends StreamIngest {
  #mirror: SourceLink | undefined;
  /** The commit journal of atomic batches (file streams). */
  #batchWal: BatchWal | undefined;
  protected _sources = new Map<string, SourceLink>();
  protected _batcher: Batcher | undefined;
  protected _scheduler: Scheduler | undefined;

  protected _stopExtras(): void {
    this.#mirror?.stop();
    this.#mirror = undefined;
    // The mirror_direct responder outlives link restarts (it answers while the origin is away), not the stream.
    this._mirrorDirectStop();
    for (const l of this._sources.values()) l.stop();
    this._sources.clear();
    this._batcher?.clear();
    this.#batchWal?.close();
    this.#batchWal = undefined;
    this._scheduler?.stop();
  }

  // ---- Mirrors and sources --------------------------------------------------------------------------

  #linkTarget(): SourceTarget {
    const host = this.host;
    return {
      name: this.config.name,
      client: host.client as unknown as SourceTarget["client"],
      after: (ms, fn) => host.after(ms, fn),
      warn: (m) => host.log.warn(m),
      lastSeq: () => this._lseq,
      isEmpty: () => this.store.fastState().msgs === 0,
      storeMirrored: (subject, hdr, msg, seq, ts) => this.#storeMirrored(subject, hdr, msg, seq, ts),
      skipTo: (seq) => this.#skipTo(seq),
      storeSourced: (subject, hdr, msg) => {
        this._ingestErr = undefined;
        this._sourcedIngest = true;
        try {
          this.processInbound(subject, undefined, hdr, msg);
        } finally {
          this._sourcedIngest = false;
        }
        // processInbound sets _ingestErr on a refusal (TS cannot see that through the call).
        return (this._ingestErr as ApiError | undefined)?.description;
      },
      accountName: host.accountName,
      mirrorPending: (pending) => this._mirrorDirectCheck(pending),
    };
  }

  /**
   * Starts links for the configured mirror and sources that have none yet; stops removed sources. At stream
   * start (`recovering`) a source whose last message is gone starts after this stream's last message time.
   */
  protected _startLinks(recovering = false): void {
    if (this._closed) return;
    const cfg = this.config;
    if (cfg.mirror !== undefined && this.#mirror === undefined) {
      this.#mirror = new SourceLink(this.#linkTarget(), "mirror", cfg.mirror, this._nuid);
      this.#mirror.sseq = this._lseq;
      this.#mirror.start();
    }
    const want = new Map<string, SourceLink>();
    for (const src of cfg.sources ?? []) {
      const l = new SourceLink(this.#linkTarget(), "source", src, this._nuid);
      want.set(l.iname, l);
    }
    for (const [iname, l] of this._sources) {
      if (!want.has(iname)) {
        l.stop();
        this._sources.delete(iname);
      }
    }
    const fresh: SourceLink[] = [];
    for (const [iname, l] of want) {
      if (this._sources.has(iname)) continue;
      this._sources.set(iname, l);
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
    let seq = this._lseq;
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
      if (seq > this._lseq + 1) this.store.skipMsgs(this._lseq + 1, seq - this._lseq - 1);
      // A mirror that allows message TTLs expires its copies by their Nats-TTL, one that does not keeps them.
      let ttlNs = 0n;
      if (this.config.allow_msg_ttl && hdr !== undefined) {
        const h = getHeader(JS_MSG_TTL, hdr);
        const t = h ? parseTtl(h) : undefined;
        if (t !== undefined && t !== 0n) ttlNs = t; // -1n: "never", exempt from max_age
      }
      this.store.storeRawMsg(subject, hdr?.slice(), msg.slice(), seq, ts, ttlNs);
    } catch (e) {
      this.host.log.warn(
        `JetStream failed to store a mirrored msg on '${this.host.accountName} > ${this.config.name}': ${
          (e as Error).message
        }`,
      );
      return false;
    }
    this._lseq = seq;
    this._notify(seq, subject);
    return true;
  }

  #skipTo(seq: number): void {
    if (seq <= this._lseq) return;
    try {
      this.store.skipMsgs(this._lseq + 1, seq - this._lseq);
      this._lseq = seq;
    } catch (e) {
      this.host.log.warn(`JetStream mirror skip failed on '${this.config.name}': ${(e as Error).message}`);
    }
  }

  /** StreamSourceInfo of the mirror, or undefined. */
  mirrorInfo(): Record<string, unknown> | undefined {
    return this.#mirror?.info();
  }

  /** StreamSourceInfo of each source. */
  sourcesInfo(): Record<string, unknown>[] {
    return [...this._sources.values()].map((l) => l.info());
  }

  // ---- Atomic batches -------------------------------------------------------------------------------

  protected _getBatcher(): Batcher {
    if (this._batcher !== undefined) return this._batcher;
    const host = this.host;
    const inflight = host.batchInflight ?? { n: 0 };
    this._batcher = new Batcher({
      allowAtomic: () => this.config.allow_atomic === true,
      stageFlags: () => {
        const c = this.config;
        return {
          allowRollup: c.allow_rollup_hdrs === true,
          denyPurge: c.deny_purge === true,
          allowTtl: c.allow_msg_ttl === true,
          allowSchedules: c.allow_msg_schedules === true,
        };
      },
      limits: () => host.batchLimits?.() ?? DEFAULT_BATCH_LIMITS,
      inflight,
      after: (ms, fn) => host.after(ms, fn),
      replyErr: (r, e) => this._replyErr(r, e),
      replyEmpty: (r) => this._reply(r, new Uint8Array(0)),
      commit: (id, msgs, r, check) => this.#commitBatch(id, msgs, r, check),
      abandoned: (id, reason) => {
        const o: Record<string, unknown> = {
          type: "io.nats.jetstream.advisory.v1.stream_batch_abandoned",
          id: this._nuid.next(),
          timestamp: rfc3339Nano(nowNs()),
          stream: this.config.name,
        };
        if (host.domain !== "") o.domain = host.domain;
        o.batch = id;
        o.reason = reason;
        host.advisory?.(`$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.${this.config.name}`, o);
      },
    });
    return this._batcher;
  }

  /**
   * Stores all staged messages or none. While the batch is applied the store holds its limits and the
   * irreversible steps wait (_batchAfter), so a refusal half way truncates the store back to where the batch
   * began and leaves every earlier message in place.
   */
  #commitBatch(id: string, msgs: StagedMsg[], reply: string | undefined, check: StageCheck): void {
    const start = this._lseq;
    if (this.store instanceof FileStore) {
      // A crash part way through must not leave half the batch on disk: journal where it begins.
      try {
        this.#batchWal ??= new BatchWal(this.store.dir);
        this.#batchWal.begin(start, msgs.length);
      } catch (e) {
        this.host.log.error(
          `JetStream failed to journal a batch on stream '${this.host.accountName} > ${this.config.name}': ${
            (e as Error).message
          }`,
        );
        return this._replyErr(reply, newJSError("JSStreamStoreFailedF", { err: (e as Error).message }));
      }
    }
    this._deferred = [];
    const after: (() => void)[] = [];
    this._batchAfter = after;
    this._internalIngest = true;
    this.store.holdLimits(true);
    let err: ApiError | undefined;
    try {
      for (const m of msgs) {
        err = check(m);
        if (err !== undefined) break;
        this._ingestErr = undefined;
        this.processInbound(m.subject, undefined, m.hdr, m.msg);
        const ie = this._ingestErr as ApiError | undefined;
        if (ie !== undefined) {
          err = ie;
          break;
        }
      }
    } finally {
      this._internalIngest = false;
      this._batchAfter = undefined;
    }
    const deferred = this._deferred;
    this._deferred = undefined;
    if (err !== undefined) {
      this._ownOps++;
      try {
        if (this._lseq > start) this.store.truncate(start);
        this.store.holdLimits(false);
      } finally {
        this._ownOps--;
      }
      this._lseq = start;
      return this._replyErr(reply, err);
    }
    this._ownOps++;
    try {
      this.store.holdLimits(false);
    } finally {
      this._ownOps--;
    }
    for (const step of after) step();
    for (const [seq, subj] of deferred) for (const c of this.consumers.values()) c.onStored(seq, subj);
    if (reply === undefined || reply === "" || this.config.no_ack) return;
    const ack = `${this._pubAckPrefix}${this._lseq}, "batch":${JSON.stringify(id)}, "count":${msgs.length}}`;
    const p = this.store.flushed(this._lseq);
    if (p === undefined) this._reply(reply, ack);
    else {p.then(() =>
        this._reply(reply, ack), () =>
        this._replyErr(reply, newJSError("JSStreamStoreFailedF", { err: "flush failed" })));}
  }

  // ---- Message schedules -----------------------------------------------------------------------------

  #getScheduler(): Scheduler {
    if (this._scheduler === undefined) {
      this._scheduler = new Scheduler((ms, fn) => this.host.after(ms, fn), (e) => this.#fireSchedule(e));
    }
    return this._scheduler;
  }

  /** Checks a message's schedule headers; returns the refusal or undefined. */
  protected _checkSchedule(subject: string, hdr: Uint8Array, sched: string): ApiError | undefined {
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

  protected _trackSchedule(subject: string, seq: number, hdr: Uint8Array | undefined): void {
    const sched = getHeader(JS_SCHEDULE, hdr);
    if (sched === undefined) {
      this._scheduler?.delete(subject);
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
  protected _recoverSchedules(): void {
    if (!this.config.allow_msg_schedules) return;
    let n = 0;
    for (const subj of this.store.subjectsTotals(">").keys()) {
      if (++n > 100_000) break;
      const m = this.store.loadLastMsg(subj);
      if (m !== undefined && getHeader(JS_SCHEDULE, m.hdr) !== undefined) {
        this._trackSchedule(subj, m.seq, m.hdr);
      }
    }
  }

  #fireSchedule(e: ScheduleEntry): void {
    const sch = this._scheduler!;
    const m = this.store.loadMsg(e.seq);
    if (m === undefined || this._closed) return sch.delete(e.subject);
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
      this._internalIngest = true;
      try {
        this._ingestErr = undefined;
        this.processInbound(target, undefined, buildHeaders(pairs), body);
      } finally {
        this._internalIngest = false;
      }
      const ie = this._ingestErr as ApiError | undefined;
      if (ie !== undefined) {
        this.host.log.warn(
          `JetStream schedule '${e.subject}' on '${this.config.name}' failed: ${ie.description}`,
        );
      }
    }
    if (next === undefined) {
      sch.delete(e.subject);
      this._ownOps++;
      try {
        this.store.removeMsg(e.seq);
      } finally {
        this._ownOps--;
      }
    } else sch.set({ ...e, dueMs: next });
  }

  // Implemented by Stream, which hands itself to the host's mirror_direct responder.
  protected abstract _mirrorDirectCheck(pending: number): void;
  protected abstract _mirrorDirectStop(): void;
}
