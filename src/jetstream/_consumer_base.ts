// The state of a JetStream consumer on one server and what every layer shares: starting position, the
// stream's notifications, shutdown, status replies and advisories. The consumer is built in layers, one file
// per concern: this base, push interest and timers (_consumer_push.ts), pull requests (_consumer_pull.ts),
// delivery (_consumer_delivery.ts), and acks, redelivery and pinned groups (consumer.ts, the concrete
// class). Behaviour follows nats-server server/consumer.go.
//
// Everything runs on the server's one thread: stream notifications only mark work (`_signal`), and one
// delivery pass (`_run`) sends up to a budget of messages, then yields with setImmediate so a consumer with a
// deep backlog cannot starve client connections. Every deadline (ack wait, pull request expiry and
// heartbeats, push heartbeats, inactivity, pause, rate limit) is an entry on the server's Timers heap: one
// entry per kind per consumer, never one per message.

import { createHash } from "node:crypto";
import type { ConsumerState, ConsumerStore, ConsumerStoreConfig, StoredMsg } from "../store/mod.ts";
import { subjectIsSubsetMatch, subjectsCollide } from "../sublist/mod.ts";
import { encoder, Nuid, type TimerEntry, type Timers } from "../util/mod.ts";
import { getHeader, nowNs, parseRfc3339, rfc3339Nano } from "./_headers.ts";
import { type ConsumerConfig, filtersOf, isDurable, JS_DELETE_WAIT_DEFAULT } from "./_consumer_config.ts";
import { WaitQueue } from "./_consumer_wait.ts";
import { statusHdr } from "./_consumer_util.ts";
import type { Stream, StreamConsumer } from "./stream.ts";
import type { JsAccount } from "./jetstream.ts";
import type { Consumer } from "./consumer.ts";

export const EMPTY = new Uint8Array(0);

export interface Pending {
  /** Consumer sequence of the first delivery. */
  dseq: number;
  /** performance.now() of the last delivery (or progress). */
  at: number;
}

/** What create() needs besides the config. */
export interface ConsumerOpts {
  jsa: JsAccount;
  stream: Stream;
  config: ConsumerConfig;
  name: string;
}

export const nuid = new Nuid();

/** A consumer name for an ephemeral, as the reference makes one: 8 characters of a hashed nuid. */
export function createConsumerName(): string {
  return createHash("sha256").update(nuid.next()).digest("base64url").slice(0, 8);
}

/** The shared state and lifecycle of a consumer; see Consumer. */
export abstract class ConsumerBase implements StreamConsumer {
  readonly name: string;
  readonly stream: Stream;
  readonly jsa: JsAccount;
  config: ConsumerConfig;
  readonly created: bigint;
  readonly store: ConsumerStore;
  protected _timers: Timers;
  protected _filters: string[];
  protected _closed = false;
  // Sequences: next stream sequence to look at, next consumer sequence, ack floors.
  protected _sseq = 1;
  protected _dseq = 1;
  protected _adflr = 0;
  protected _asflr = 0;
  // Pending count for info and ack replies, valid through stream sequence _npf.
  protected _npc = 0;
  protected _npf = 0;
  /** Last-per-subject start: sequences still to deliver before resuming at _lssResume. */
  protected _lss: number[] | undefined;
  protected _lssResume = 0;
  /**
   * The delivered stream sequence as info reports it (the reference reads its consumer store): the last
   * message actually delivered, not where the next search starts (_sseq skips ahead past non-matching ends).
   */
  protected _dss = 0;
  protected _pending = new Map<number, Pending>();
  protected _rdq: number[] = [];
  protected _rdqSet = new Set<number>();
  /** Delivery counts of messages delivered more than once. */
  protected _rdc = new Map<number, number>();
  /**
   * Messages dropped from pending when their deliveries ran out, with the deliveries made: they still count
   * as redelivered while a raised max_deliver would deliver them again, and under interest retention the
   * stream keeps them (the consumer never acked them).
   */
  protected _exceeded = new Map<number, number>();
  /** A message taken from the stream that no pull request could take yet. */
  protected _held: { m: StoredMsg; dc: number } | undefined;
  readonly waiting: WaitQueue | undefined;
  protected _ackSub;
  protected _ackSubV2;
  protected _fcSub;
  // Push state.
  protected _active = false;
  protected _notify: ((b: boolean) => void) | undefined;
  protected _pbytes = 0;
  protected _fcid = "";
  protected _fcsz = 0;
  protected _lastDelivery = 0;
  protected _lastDeliveryTs = 0n;
  protected _lastAckTs = 0n;
  /** _burstNowNs's reading, valid until the microtask checkpoint after it (one synchronous burst). */
  #burstNs = 0n;
  #burstSet = false;
  readonly #burstEnd = (): void => {
    this.#burstSet = false;
  };
  // Timers.
  protected _ptmr: TimerEntry | undefined;
  protected _ptmrAt = Infinity;
  /** Ack-wait deadlines are stale as a whole (restored state, ack_wait change): the next check rescans. */
  protected _dueRescan = false;
  protected _wtmr: TimerEntry | undefined;
  protected _wtmrAt = Infinity;
  protected _hbtmr: TimerEntry | undefined;
  protected _dtmr: TimerEntry | undefined;
  protected _uptmr: TimerEntry | undefined;
  protected _resumeTmr: TimerEntry | undefined;
  protected _scheduled = false;
  protected _immediate: ReturnType<typeof setImmediate> | undefined;
  // Rate limit and replay.
  protected _rlNext = 0;
  protected _replayEnd = 0;
  protected _replayLastTs = 0n;
  /** When the held original-replay message is due (0: none held); the gap runs from when it is up for delivery. */
  protected _replayDue = 0;
  // Pinned client priority groups: group → pin id and last request time.
  readonly pins = new Map<string, { id: string; since: bigint; last: number }>();

  protected _wasPaused = false;
  /** Called when an inactive consumer should be deleted (set by the API layer). */
  onInactive: ((c: Consumer) => void) | undefined;

  /**
   * The wall clock in ns, read once per synchronous burst (the acks parsed from one read share it, as a
   * delivery pass shares one reading) instead of once per call.
   */
  protected _burstNowNs(): bigint {
    if (!this.#burstSet) {
      this.#burstNs = nowNs();
      this.#burstSet = true;
      queueMicrotask(this.#burstEnd);
    }
    return this.#burstNs;
  }

  constructor(o: ConsumerOpts) {
    this.jsa = o.jsa;
    this.stream = o.stream;
    // Ephemerals always have an inactive threshold: the default is stamped into their config.
    if (!isDurable(o.config) && !((o.config.inactive_threshold ?? 0) > 0)) {
      o.config.inactive_threshold = JS_DELETE_WAIT_DEFAULT;
    }
    this.config = o.config;
    this.name = o.name;
    this.created = nowNs();
    this._timers = o.jsa.js.server.timers;
    this._filters = filtersOf(o.config).filter((f) => f !== ">");
    const c = o.config;
    this.store = o.stream.store.consumerStore(o.name, storeCfg(c));
    if (!c.deliver_subject) this.waiting = new WaitQueue(c.max_waiting ?? 512);
    if (this.store.hasState()) this._readStoredState();
    else this._selectStartingSeqNo();
    this._recalcPending();
    const client = o.jsa.client;
    this._ackSub = client.subscribeInternal(
      `$JS.ACK.${this.stream.name}.${this.name}.>`,
      (_s, _c, subject, reply, _h, payload) => this._processAck(subject, reply, payload),
    );
    // Acks in the v2 form ($JS.ACK.<domain>.<account hash>.<stream>.<consumer>.…) are taken as well.
    this._ackSubV2 = client.subscribeInternal(
      `$JS.ACK.*.*.${this.stream.name}.${this.name}.>`,
      (_s, _c, subject, reply, _h, payload) => this._processAck(subject, reply, payload, true),
    );
    if (c.deliver_subject && c.flow_control) {
      this._fcSub = client.subscribeInternal(
        `$JS.FC.${this.stream.name}.${this.name}.*`,
        (_s, _c, subject) => this._processFlowControl(subject),
      );
    }
  }

  /** Starts delivery, interest tracking and timers once the consumer is registered. */
  start(): void {
    const c = this.config;
    if (c.deliver_subject) this._watchInterest(c.deliver_subject);
    else this._armInactive();
    this._checkPause();
    if (c.idle_heartbeat && c.deliver_subject) this._armHeartbeat();
    this._dropPendingBelowFirst();
    if (this._pending.size > 0) this._armPending(this._ackWaitMs(1));
    this._signal();
  }

  /**
   * Forgets restored pending acks of messages the stream no longer has (compacted or purged while the
   * consumer was down), as the reference's pending check does.
   */
  protected _dropPendingBelowFirst(): void {
    if (this._pending.size === 0) return;
    const st = this.stream.store.fastState();
    const first = st.msgs === 0 ? st.lastSeq + 1 : st.firstSeq;
    for (const seq of [...this._pending.keys()]) {
      if (seq >= first) continue;
      this._pending.delete(seq);
      this._rdc.delete(seq);
      if (this._rdqSet.delete(seq)) this._rdq = this._rdq.filter((x) => x !== seq);
    }
  }

  // ---- Starting position ------------------------------------------------------------------------------

  protected _selectStartingSeqNo(): void {
    const c = this.config;
    const st = this.stream.store.fastState();
    const last = st.lastSeq;
    const first = st.msgs === 0 ? last + 1 : st.firstSeq;
    switch (c.deliver_policy) {
      case "all":
        this._sseq = first;
        break;
      case "last": {
        let seq = 0;
        if (this._filters.length === 0) seq = last;
        else {
          for (const f of this._filters) seq = Math.max(seq, this.stream.store.loadLastMsg(f)?.seq ?? 0);
        }
        this._sseq = seq === 0 ? last + 1 : seq;
        break;
      }
      case "last_per_subject": {
        const seqs: number[] = [];
        for (const f of this._filters.length ? this._filters : [">"]) {
          for (const subj of this.stream.store.subjectsState(f).keys()) {
            const m = this.stream.store.loadLastMsg(subj);
            if (m) seqs.push(m.seq);
          }
        }
        seqs.sort((a, b) => a - b);
        if (seqs.length > 0) {
          this._lss = seqs;
          this._lssResume = last + 1;
          this._sseq = seqs[0];
        } else this._sseq = last + 1;
        break;
      }
      case "new":
        this._sseq = last + 1;
        break;
      case "by_start_sequence":
        this._sseq = c.opt_start_seq ?? 1;
        break;
      case "by_start_time": {
        const t = parseRfc3339(c.opt_start_time ?? "") ?? 0n;
        this._sseq = this.stream.store.getSeqFromTime(t);
        // A filtered consumer starts at the first message after that time matching one of its filters.
        let nseq = last;
        for (const f of this._filters) {
          const fs = this.stream.store.filteredState(this._sseq, f);
          if (fs.msgs > 0 && fs.first >= this._sseq && fs.first < nseq) nseq = fs.first;
        }
        if (nseq > this._sseq && nseq < last) this._sseq = nseq;
        break;
      }
    }
    if (c.deliver_policy !== "last_per_subject") {
      if (this._sseq < first) this._sseq = first;
      // A start in the future is clamped, unless it was asked for explicitly (opt_start_seq).
      else if (this._sseq > last + 1 && (c.direct || !c.opt_start_seq)) this._sseq = last + 1;
    }
    if (this._sseq < 1) this._sseq = 1;
    if (c.replay_policy === "original") this._replayEnd = last;
    this._dseq = 1;
    this._adflr = 0;
    this._asflr = this._sseq - 1;
    this._dss = this._sseq - 1;
    this.store.setStarting(this._sseq - 1);
  }

  protected _readStoredState(): void {
    const st = this.store.state();
    this._sseq = st.delivered.streamSeq + 1;
    this._dss = st.delivered.streamSeq;
    this._dseq = st.delivered.consumerSeq + 1;
    this._adflr = st.ackFloor.consumerSeq;
    this._asflr = st.ackFloor.streamSeq;
    const now = performance.now();
    const keys = [...st.pending.keys()].sort((a, b) => a - b);
    const nowN = nowNs();
    for (const k of keys) {
      const p = st.pending.get(k)!;
      this._pending.set(k, { dseq: p.seq, at: now - Number((nowN - p.ts) / 1_000_000n) });
    }
    for (const [k, v] of st.redelivered) this._rdc.set(k, v + 1);
    this._dueRescan = true;
    const last = this.stream.store.fastState().lastSeq;
    if (this._sseq - 1 > last) this.#reconcileWithStream(last);
  }

  /**
   * The stored state is ahead of the stream (it lost data, e.g. a crash before a flush): floors come down to
   * the stream's last sequence and delivery resumes right after what is still pending, keeping the consumer
   * sequence moving forward.
   */
  #reconcileWithStream(last: number): void {
    if (this._asflr > last) {
      this._asflr = last;
      this._adflr = Math.max(0, this._dseq - 1);
      this._pending.clear();
      this._rdc.clear();
    }
    for (const seq of [...this._pending.keys()]) if (seq > last) this._pending.delete(seq);
    for (const seq of [...this._rdc.keys()]) if (seq > last) this._rdc.delete(seq);
    if (this._pending.size === 0) {
      this._sseq = this._asflr + 1;
      this._dseq = this._adflr + 1;
      this._dss = this._asflr;
    } else {
      let ms = 0;
      let md = 0;
      for (const [seq, p] of this._pending) {
        ms = Math.max(ms, seq);
        md = Math.max(md, p.dseq);
      }
      this._sseq = ms + 1;
      this._dseq = md + 1;
      this._dss = ms;
    }
  }

  /** Takes over a state restored from a stream snapshot, as if the store had held it at create. */
  restoreState(st: ConsumerState, created?: bigint): void {
    this.store.update(st);
    if (created !== undefined) (this as { created: bigint }).created = created;
    this._pending.clear();
    this._rdc.clear();
    this._readStoredState();
    this._dropPendingBelowFirst();
    this._recalcPending();
    if (this._pending.size > 0) this._armPending(this._ackWaitMs(1));
  }

  /** Recomputes the pending count from the store (create, purge, info). */
  protected _recalcPending(): void {
    const store = this.stream.store;
    const last = store.fastState().lastSeq;
    let n = 0;
    if (this._lss !== undefined) n = this._lss.length;
    else if (this._filters.length === 0) n = store.numPending(this._sseq, ">", false).total;
    else n = store.numPendingMulti(this._sseq, this._filters, false).total;
    this._npc = n;
    this._npf = last;
  }

  // ---- StreamConsumer -----------------------------------------------------------------------------------

  isInterested(subject: string): boolean {
    const f = this._filters;
    if (f.length === 0) return true;
    for (let i = 0; i < f.length; i++) {
      if (f[i] === subject || subjectIsSubsetMatch(subject, f[i])) return true;
    }
    return false;
  }

  onStored(seq: number, subject: string): void {
    if (this._closed) return;
    if (seq > this._npf) {
      if (this._lss === undefined && seq >= this._sseq && this.isInterested(subject)) this._npc++;
      this._npf = seq;
    }
    if (this.waiting !== undefined && this.waiting.length === 0) return;
    this._signal();
  }

  needsAck(seq: number, subject: string): boolean {
    if (!this.isInterested(subject)) return false;
    if (seq >= this._sseq) return true;
    if (this._exceeded.has(seq)) return true;
    if (this.config.ack_policy === "none") return false;
    if (seq <= this._asflr) return false;
    return this._pending.has(seq) || this._rdqSet.has(seq);
  }

  onPurged(firstSeq: number): void {
    if (this._sseq < firstSeq) this._sseq = firstSeq;
    if (this._asflr < firstSeq - 1) this._asflr = firstSeq - 1;
    for (const [seq, p] of [...this._pending]) {
      if (seq < firstSeq) {
        // A purged pending message counts as acked: the consumer ack floor moves up to its delivery.
        if (p.dseq > this._adflr) this._adflr = p.dseq;
        this._pending.delete(seq);
        this._rdc.delete(seq);
      }
    }
    this._rdq = this._rdq.filter((s) => s >= firstSeq);
    this._rdqSet = new Set(this._rdq);
    for (const seq of this._exceeded.keys()) if (seq < firstSeq) this._exceeded.delete(seq);
    if (this._held && this._held.m.seq < firstSeq) this._held = undefined;
    if (this._lss !== undefined) {
      this._lss = this._lss.filter((s) => s >= firstSeq);
      if (this._lss.length === 0) {
        this._sseq = Math.max(this._sseq, this._lssResume);
        this._lss = undefined;
      }
    }
    if (this._pending.size === 0) this._adflr = this._dseq - 1;
    if (this._sseq - 1 > this._dss) this._dss = this._sseq - 1;
    this._recalcPending();
  }

  /**
   * A purge of `filter`: a consumer all of whose filters are inside it moves to `nextMatch` (past `lastSeq` when
   * nothing matching is left), one that overlaps it to the stream's first sequence; others are untouched.
   */
  onPurgedFiltered(filter: string, streamFirst: number, nextMatch: number, lastSeq: number): void {
    const f = this._filters;
    if (f.length > 0 && f.every((x) => x === filter || subjectIsSubsetMatch(x, filter))) {
      this.onPurged(nextMatch === 0 ? lastSeq + 1 : nextMatch);
    } else if (f.length === 0 || f.some((x) => subjectsCollide(x, filter))) {
      this.onPurged(streamFirst);
      // Pending acks of messages the purge removed are gone too (the ack floor moves past them).
      const store = this.stream.store;
      for (const seq of [...this._pending.keys()]) {
        if (store.hasMsg(seq)) continue;
        this._pending.delete(seq);
        this._rdc.delete(seq);
      }
      for (const seq of [...this._exceeded.keys()]) {
        if (!store.hasMsg(seq)) this._exceeded.delete(seq);
      }
      this._rdq = this._rdq.filter((s) => this._pending.has(s));
      this._rdqSet = new Set(this._rdq);
      if (this._pending.size === 0) this._adflr = this._dseq - 1;
    }
  }

  abstract info(): Record<string, unknown>;

  /** State for info(): sequences, counts and timestamps. */
  snapshot(): {
    dseq: number;
    sseq: number;
    adflr: number;
    asflr: number;
    pending: number;
    redelivered: number;
    waiting: number;
    numPending: number;
    active: boolean;
    lastDelivery: bigint;
    lastAck: bigint;
  } {
    this._recalcPending();
    let redelivered = 0;
    for (const seq of this._rdc.keys()) if (this._pending.has(seq)) redelivered++;
    // Messages out of deliveries count while the current max_deliver would deliver them again (those the
    // stream no longer has, e.g. dropped by its limits, are forgotten here).
    const maxdc = this.config.max_deliver ?? -1;
    const first = this._exceeded.size > 0 ? this.stream.store.fastState().firstSeq : 0;
    for (const [seq, dc] of this._exceeded) {
      if (seq < first) this._exceeded.delete(seq);
      else if (maxdc <= 0 || dc < maxdc) redelivered++;
    }
    return {
      dseq: this._dseq - 1,
      sseq: this._dss,
      adflr: this._adflr,
      asflr: Math.min(this._asflr, this._dss),
      pending: this._pending.size,
      redelivered,
      waiting: this.waiting?.length ?? 0,
      numPending: this._npc,
      active: this._active,
      lastDelivery: this._lastDeliveryTs,
      lastAck: this._lastAckTs,
    };
  }

  stop(): void {
    this._shutdown(false);
  }

  delete(): void {
    this._shutdown(true);
  }

  protected _shutdown(deleteState: boolean): void {
    if (this._closed) return;
    this._closed = true;
    const client = this.jsa.client;
    client.unsubscribeInternal(this._ackSub);
    client.unsubscribeInternal(this._ackSubV2);
    if (this._fcSub) client.unsubscribeInternal(this._fcSub);
    if (this._notify) {
      const sl = this.jsa.account.sl;
      const c = this.config;
      if (c.deliver_group) sl.clearQueueNotification(c.deliver_subject!, c.deliver_group, this._notify);
      else sl.clearNotification(c.deliver_subject!, this._notify);
    }
    for (const t of [this._ptmr, this._wtmr, this._hbtmr, this._dtmr, this._uptmr, this._resumeTmr]) {
      this._timers.cancel(t);
    }
    if (this._immediate !== undefined) clearImmediate(this._immediate);
    if (this.waiting !== undefined) {
      for (const wr of this.waiting.clear()) this._status(wr.reply, "409 Consumer Deleted");
    }
    if (deleteState) this.store.delete();
    else this.store.stop();
  }

  get closed(): boolean {
    return this._closed;
  }

  // ---- Helpers ------------------------------------------------------------------------------------------

  protected _status(reply: string, status: string, pairs: [string, string][] = []): void {
    this.jsa.client.publishInternal(reply, undefined, statusHdr(status, pairs), EMPTY);
  }

  protected _advisory(subject: string, body: Record<string, unknown>, skip = false): void {
    if (skip) return;
    const js = this.jsa.js;
    const { type, ...rest } = body;
    js.api.advisory(this.jsa, subject, {
      type,
      id: nuid.next(),
      timestamp: rfc3339Nano(nowNs()),
      stream: this.stream.name,
      consumer: this.name,
      ...rest,
      domain: js.domain || undefined,
    });
  }

  /** True when a header block carries `name` (tests and the API). */
  static hasHeader(hdr: Uint8Array | undefined, name: string): boolean {
    return getHeader(name, hdr) !== undefined;
  }

  // ---- Implemented by the layers above ------------------------------------------------------------------

  protected abstract _processAck(
    subject: string,
    reply: string | undefined,
    payload: Uint8Array,
    v2?: boolean,
  ): void;
  protected abstract _processFlowControl(subject: string): void;
  protected abstract _watchInterest(ds: string): void;
  protected abstract _armInactive(): void;
  protected abstract _checkPause(): void;
  protected abstract _armHeartbeat(): void;
  protected abstract _sendIdleHeartbeat(subject: string): void;
  protected abstract _processWaiting(eos: boolean): void;
  protected abstract _signal(): void;
  protected abstract _storeCall(fn: () => void): void;
  protected abstract _armPending(ms: number, force?: boolean): void;
  protected abstract _notePending(seq: number, at: number): void;
  protected abstract _ackWaitMs(dc: number): number;
  protected abstract _notifyDeliveryExceeded(sseq: number, dc: number): void;
  protected abstract _armPinTtl(group: string): void;
  protected abstract _pinAdvisory(group: string, id: string, pinned: boolean, reason?: string): void;
  abstract processNextMsgRequest(reply: string, body: Uint8Array): void;
}

/** The store's view of a consumer config (maxDeliver arrived with MemStore). */
export function storeCfg(c: ConsumerConfig): ConsumerStoreConfig {
  const sc = { ackPolicy: c.ack_policy, durable: isDurable(c), maxDeliver: c.max_deliver };
  return sc;
}

/** Appends a header line (with its CRLF) to a block, or starts one. */
export function appendHdr(hdr: Uint8Array | undefined, line: string): Uint8Array {
  const add = encoder.encode(line + "\r\n");
  if (hdr === undefined || hdr.length < 4) {
    const head = encoder.encode("NATS/1.0\r\n");
    const out = new Uint8Array(head.length + add.length);
    out.set(head);
    out.set(add, head.length);
    return out;
  }
  const base = hdr.subarray(0, hdr.length - 2);
  const out = new Uint8Array(base.length + add.length);
  out.set(base);
  out.set(add, base.length);
  return out;
}

/** Go's time.ParseDuration in ms; NaN when invalid. */
export function parseGoDurationMs(s: string): number {
  const UNITS: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    "µs": 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/;
  let rest = s;
  let total = 0;
  if (rest === "0") return 0;
  if (rest === "") return NaN;
  while (rest.length > 0) {
    const m = re.exec(rest);
    if (!m) return NaN;
    total += parseFloat(m[1]) * UNITS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** Go's Duration.String() for ms. */
export function goDurationMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const secs = `${Number(s.toFixed(9))}s`;
  if (h > 0) return `${h}h${m}m${secs}`;
  if (m > 0) return `${m}m${secs}`;
  return secs;
}
