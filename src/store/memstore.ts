// In-memory stream store; behaviour follows nats-server server/memstore.go (limits, discard policies,
// per-message TTLs, purges, subject state) with the index of _index.ts instead of a map per sequence.
//
// Everything is synchronous: no method awaits, so each call is atomic for the single-threaded server (this
// replaces the RWMutex of the Go store). Expiry (max_age and per-message TTLs) runs on one timer per store,
// armed for the earliest deadline; TTL deadlines sit in a binary heap of (deadline, seq) pairs.

import { matchLiteral, subjectHasWildcard } from "../sublist/mod.ts";
import { MemConsumerStore } from "./_consumer_state.ts";
import { RecIndex, type SeqList, type Slab, SlabPool, SubjState } from "./_index.ts";
import {
  type ConsumerStore,
  type ConsumerStoreConfig,
  type SimpleState,
  type StorageType,
  type StorageUpdateHandler,
  type StoreConfig,
  type StoredMsg,
  StoreError,
  type StreamState,
  type StreamStore,
} from "./store.ts";

/** Options of a MemStore beyond its config. */
export interface MemStoreOptions {
  /** Receives errors thrown by the storage-update callback during timer-driven expiry. */
  onError?: (err: unknown) => void;
  /** Count message sizes as the reference's file store does (the FileStore's index sets it). */
  fileSizes?: boolean;
}

/** Go's memStoreMsgSize: subject + header + payload + 16 bytes for sequence and timestamp. */
export function memStoreMsgSize(subject: string, hdr: Uint8Array | undefined, msg: Uint8Array): number {
  return utf8Length(subject) + (hdr?.length ?? 0) + msg.length + 16;
}

/** Go's fileStoreMsgSize, what file streams count per message: the on-disk record (see RecIndex.fileSizes). */
export function fileStoreMsgSize(subject: string, hdr: Uint8Array | undefined, msg: Uint8Array): number {
  const hl = hdr?.length ?? 0;
  return utf8Length(subject) + hl + msg.length + (hl > 0 ? 34 : 30);
}

const encoder = new TextEncoder();
const ZERO: SimpleState = Object.freeze({ msgs: 0, first: 0, last: 0 }) as SimpleState;
const RESYNC_MS = 60_000;

function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return encoder.encode(s).length;
  return s.length;
}

function isAll(filter: string): boolean {
  return filter === "" || filter === ">";
}

function emptyState(): SimpleState {
  return { msgs: 0, first: 0, last: 0 };
}

/** A stream's messages in memory. */
export class MemStore implements StreamStore {
  protected cfg: StoreConfig;
  #maxp: number;
  #all = new RecIndex();
  #subjects = new Map<string, SubjState>();
  #slabs = new SlabPool();
  #msgs = 0;
  #bytes = 0;
  #firstSeq = 0;
  #firstTime = 0n;
  #lastSeq = 0;
  #lastTime = 0n;
  #scb: StorageUpdateHandler | undefined;
  #consumers = 0;
  #closed = false;
  /** While an atomic batch holds the limits (holdLimits): the subjects written meanwhile. */
  #held: Set<SubjState> | undefined;
  #onError: ((err: unknown) => void) | undefined;
  // Clock: a wall-clock base plus the monotonic clock, so a timestamp costs one BigInt conversion.
  #baseNs = 0n;
  #baseMono = -Infinity;
  // TTL deadlines (ns as doubles; 256 ns precision is plenty) and their sequences, a binary min-heap.
  #ttlAt: number[] = [];
  #ttlSeq: number[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  // Messages with a Nats-TTL of "never" (allow_msg_ttl): max_age passes over them. The age pass has looked at
  // every stored message below #ageFloor: those still stored there are all in #never.
  #never = new Set<number>();
  #ageFloor = 0;

  constructor(cfg: StoreConfig, opts: MemStoreOptions = {}) {
    this.cfg = { ...cfg };
    this.#maxp = cfg.maxMsgsPerSubject;
    this.#onError = opts.onError;
    this.#all.fileSizes = opts.fileSizes === true;
    const fs = cfg.firstSeq ?? 0;
    if (fs > 0) {
      this.#firstSeq = fs;
      this.#lastSeq = fs - 1;
    }
  }

  // ---- appends ----

  storeMsg(
    subject: string,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    ttlNs = 0n,
  ): { seq: number; ts: bigint } {
    let ts = this.#clock();
    if (ts <= this.#lastTime) ts = this.#lastTime + 1n;
    const seq = this.#store(subject, hdr, msg, this.#lastSeq + 1, ts, ttlNs, true);
    return { seq, ts };
  }

  storeRawMsg(
    subject: string,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    seq: number,
    ts: bigint,
    ttlNs = 0n,
    discardNewCheck = true,
  ): void {
    this.#store(subject, hdr, msg, seq, ts, ttlNs, discardNewCheck);
  }

  skipMsg(): number {
    const seq = this.#lastSeq + 1;
    this.skipAt(seq, 1, this.#skipTime());
    return seq;
  }

  skipMsgNoInterest(seq = 0): number {
    if (seq !== this.#lastSeq + 1) {
      if (seq > 0) throw new StoreError("sequence_mismatch", "expected sequence does not match store");
      seq = this.#lastSeq + 1;
    }
    const now = this.#clock();
    this.skipAt(seq, 1, now > this.#lastTime ? now : this.#lastTime);
    return seq;
  }

  skipMsgs(seq: number, num: number): void {
    if (seq !== this.#lastSeq + 1) {
      if (seq > 0) throw new StoreError("sequence_mismatch", "expected sequence does not match store");
      seq = this.#lastSeq + 1;
    }
    this.skipAt(seq, num, this.#skipTime());
  }

  // A skip stores nothing, so it carries the last time forward (current reference behaviour, see Go's
  // TestStoreSkipMsgsCarryForwardLastTime); only a store that never had a time stamps the clock.
  #skipTime(): bigint {
    return this.#lastTime > 0n ? this.#lastTime : this.#clock();
  }

  /** Skips `num` sequences from `seq` (the next one) at time `ts`; FileStore replays through it. */
  protected skipAt(seq: number, num: number, ts: bigint): void {
    this.#checkOpen();
    const last = seq + num - 1;
    this.#lastSeq = last;
    this.#lastTime = ts;
    if (this.#msgs === 0) {
      this.#firstSeq = last + 1;
      this.#firstTime = ts;
    }
    this.journalSkip(seq, num, ts);
  }

  flushed(_seq: number): Promise<void> | undefined {
    return undefined;
  }

  onFlushed<A, B>(_seq: number, _fn: (err: unknown, a: A, b: B) => void, _a: A, _b: B): boolean {
    return false;
  }

  #store(
    subj: string,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    seq: number,
    ts: bigint,
    ttlNs: bigint,
    check: boolean,
  ): number {
    this.#checkOpen();
    const cfg = this.cfg;
    const hl = hdr?.length ?? 0;
    const ml = msg.length;
    if (check && cfg.maxMsgSize > 0 && hl + ml > cfg.maxMsgSize) {
      throw new StoreError("msg_too_big", "message to large");
    }
    let ss = this.#subjects.get(subj);
    const asl = this.#maxp > 0 && ss !== undefined && ss.list.size >= this.#maxp;
    if (check && cfg.discardNew) {
      if (asl && cfg.discardNewPerSubject) {
        throw new StoreError("max_msgs_per_subject", "maximum messages per subject exceeded");
      }
      if (cfg.maxMsgs > 0 && this.#msgs >= cfg.maxMsgs && !asl) {
        throw new StoreError("max_msgs", "maximum messages exceeded");
      }
      if (cfg.maxBytes > 0) {
        // As the reference (2.10+): refused when the new message's whole size would take the bytes past the
        // limit, unless it replaces the subject's oldest message and that one is at least as large.
        const all = this.#all;
        const size = all.sizeOf(ss?.bytes ?? utf8Length(subj), hl, ml);
        if (this.#bytes + size > cfg.maxBytes) {
          const f = asl ? all.find(ss!.list.first()) : -1;
          if (f < 0 || all.msgSize(f) < size) {
            throw new StoreError("max_bytes", "maximum bytes exceeded");
          }
        }
      }
    }
    if (seq !== this.#lastSeq + 1) {
      if (seq > 0) throw new StoreError("sequence_mismatch", "expected sequence does not match store");
      seq = this.#lastSeq + 1;
    }
    if (ss === undefined) {
      ss = new SubjState(subj);
      this.#subjects.set(subj, ss);
    }
    const all = this.#all;
    const p = all.push(seq, ts, ss, hl, ml);
    this.#slabs.place(all, p, hdr, msg);
    if (this.#msgs === 0) {
      this.#firstSeq = seq;
      this.#firstTime = ts;
    }
    ss.list.push(seq);
    const size = all.msgSize(p);
    this.#msgs++;
    this.#bytes += size;
    this.#lastSeq = seq;
    this.#lastTime = ts;
    const ttlOn = ttlNs > 0n && cfg.allowMsgTtl;
    const never = ttlNs < 0n && cfg.allowMsgTtl;
    if (never) this.#never.add(seq);
    this.journalStore(seq, ts, subj, hdr, msg, ttlOn || never ? ttlNs : 0n);

    if (this.#held !== undefined) this.#held.add(ss);
    else {
      if (this.#maxp > 0 && ss.list.size > this.#maxp) this.#enforcePerSubject(ss);
      this.#enforceLimits();
    }
    if (ttlOn) {
      this.#ttlPush(Number(ts + ttlNs), seq);
      this.#arm();
    } else if (cfg.maxAge > 0n && this.#timer === undefined) {
      this.#arm();
    }
    this.#scb?.(1, size, seq, subj);
    return seq;
  }

  // ---- loads ----

  loadMsg(seq: number): StoredMsg | undefined {
    const p = this.#all.find(seq);
    return p < 0 ? undefined : toStored(this.#all, p);
  }

  loadNextMsg(filter: string, start: number, borrow = false): StoredMsg | undefined {
    const p = this.#nextRec(filter, start);
    return p < 0 ? undefined : toStored(this.#all, p, borrow);
  }

  loadLastMsg(subject: string): StoredMsg | undefined {
    let best = -1;
    if (isAll(subject)) {
      const p = this.#all.last();
      return p < 0 ? undefined : toStored(this.#all, p);
    }
    if (!subjectHasWildcard(subject)) best = this.#subjects.get(subject)?.list.last() ?? -1;
    else {
      this.#eachMatching(subject, (ss) => {
        const l = ss.list.last();
        if (l > best) best = l;
      });
    }
    const p = best < 0 ? -1 : this.#all.find(best);
    return p < 0 ? undefined : toStored(this.#all, p);
  }

  loadPrevMsg(start: number, filter = ""): StoredMsg | undefined {
    if (start > this.#lastSeq) start = this.#lastSeq;
    let p: number;
    if (isAll(filter)) p = this.#all.prevFrom(start);
    else if (!subjectHasWildcard(filter)) {
      const s = this.#subjects.get(filter)?.list.prevFrom(start) ?? -1;
      p = s < 0 ? -1 : this.#all.find(s);
    } else p = this.#prevRecAny(splitFilters([filter])!, start);
    return p < 0 ? undefined : toStored(this.#all, p);
  }

  loadNextMsgMulti(filters: readonly string[], start: number): StoredMsg | undefined {
    const f = anyFilter(filters);
    if (f === undefined) return this.loadNextMsg(">", start);
    if (f.wilds.length + f.lits.size === 1) return this.loadNextMsg(filters[0], start);
    if (start < this.#firstSeq) start = this.#firstSeq;
    if (start > this.#lastSeq || this.#msgs === 0) return undefined;
    const p = this.#nextRecAny(f, start);
    return p < 0 ? undefined : toStored(this.#all, p);
  }

  loadPrevMsgMulti(filters: readonly string[], start: number): StoredMsg | undefined {
    const f = anyFilter(filters);
    if (f === undefined) return this.loadPrevMsg(start);
    if (f.wilds.length + f.lits.size === 1) return this.loadPrevMsg(start, filters[0]);
    if (start > this.#lastSeq) start = this.#lastSeq;
    if (start < this.#firstSeq || this.#msgs === 0) return undefined;
    const p = this.#prevRecAny(f, start);
    return p < 0 ? undefined : toStored(this.#all, p);
  }

  multiLastMsgs(
    filters: string[],
    minSeq: number,
    maxSeq: number,
    maxAllowed: number,
    cb: (sm: StoredMsg, np: number) => boolean,
  ): { total: number; np: number } {
    const seqs = this.multiLastSeqs(filters, maxSeq, maxAllowed);
    let i = 0;
    while (i < seqs.length && seqs[i] < minSeq) i++;
    let np = seqs.length - i;
    // Positions are looked up per message: the callback may change the store.
    for (; i < seqs.length; i++) {
      const p = this.#all.find(seqs[i]);
      const sm = p < 0 ? undefined : toStored(this.#all, p);
      np--;
      if (sm !== undefined && !cb(sm, np)) break;
    }
    return { total: seqs.length, np };
  }

  multiLastSeqs(filters: string[], maxSeq: number, maxAllowed: number): number[] {
    if (this.#msgs === 0) return [];
    if (maxSeq <= 0) maxSeq = this.#lastSeq;
    const seen = new Set<number>();
    for (const f of filters) {
      this.#eachMatching(f, (ss) => {
        const r = ss.list.prevFrom(maxSeq);
        if (r >= 0) seen.add(r);
      });
      if (maxAllowed > 0 && seen.size > maxAllowed) {
        throw new StoreError("too_many_results", "too many results");
      }
    }
    return [...seen].sort((a, b) => a - b);
  }

  /**
   * Position of the first message at or after `start` (within the stream) matching `f`, or -1: a forward
   * scan of the index while that is cheaper than asking each candidate subject, as #nextRec does.
   */
  #nextRecAny(f: AnyFilter, start: number): number {
    const all = this.#all;
    let i = all.lowerBound(start);
    for (const end = Math.min(all.len, i + this.#askCost(f)); i < end; i++) {
      if (all.slab[i] !== null && matchesAny(f, all.ss[i]!)) return i;
    }
    if (i >= all.len) return -1;
    const from = all.seq[i];
    let best = -1;
    this.#eachMatchingAny(f, (ss) => {
      const l = ss.list.last();
      if (l < from || (best >= 0 && ss.list.first() > best)) return;
      const r = ss.list.nextFrom(from);
      if (r >= 0 && (best < 0 || r < best)) best = r;
    });
    return best < 0 ? -1 : all.find(best);
  }

  /** Position of the last message at or before `start` (within the stream) matching `f`, or -1. */
  #prevRecAny(f: AnyFilter, start: number): number {
    const all = this.#all;
    let i = all.lowerBound(start + 1) - 1;
    for (const end = Math.max(all.head, i - this.#askCost(f)) - 1; i > end; i--) {
      if (all.slab[i] !== null && matchesAny(f, all.ss[i]!)) return i;
    }
    if (i < all.head) return -1;
    const from = all.seq[i];
    let best = -1;
    this.#eachMatchingAny(f, (ss) => {
      const first = ss.list.first();
      if (first < 0 || first > from || ss.list.last() <= best) return;
      const r = ss.list.prevFrom(from);
      if (r > best) best = r;
    });
    return best < 0 ? -1 : all.find(best);
  }

  /** How many subjects #eachMatchingAny visits (at most): the budget of a scan that would replace it. */
  #askCost(f: AnyFilter): number {
    return Math.max(32, f.wilds.length === 0 ? f.lits.size : this.#subjects.size);
  }

  /** Position of the first message at or after `start` matching `filter`, or -1. */
  #nextRec(filter: string, start: number): number {
    if (start < this.#firstSeq) start = this.#firstSeq;
    if (start > this.#lastSeq || this.#msgs === 0) return -1;
    const all = this.#all;
    if (isAll(filter)) return all.nextFrom(start);
    if (!subjectHasWildcard(filter)) {
      const s = this.#subjects.get(filter)?.list.nextFrom(start) ?? -1;
      return s < 0 ? -1 : all.find(s);
    }
    // Scan forward while that is cheaper than asking every subject; then ask the matching subjects.
    let i = all.lowerBound(start);
    const budget = Math.max(32, this.#subjects.size);
    for (const end = Math.min(all.len, i + budget); i < end; i++) {
      if (all.slab[i] !== null && all.ss[i]!.matches(filter, matchLiteral)) return i;
    }
    if (i >= all.len) return -1;
    const from = all.seq[i];
    let best = -1;
    this.#eachMatching(filter, (ss) => {
      const l = ss.list.last();
      if (l < 0 || l < from || (best >= 0 && ss.list.first() > best)) return;
      const r = ss.list.nextFrom(from);
      if (r >= 0 && (best < 0 || r < best)) best = r;
    });
    return best < 0 ? -1 : all.find(best);
  }

  // ---- removals ----

  removeMsg(seq: number): boolean {
    const p = this.#all.find(seq);
    if (p < 0) return false;
    this.#remove(p, false, true);
    return true;
  }

  eraseMsg(seq: number): boolean {
    const p = this.#all.find(seq);
    if (p < 0) return false;
    this.#remove(p, true, true);
    return true;
  }

  purge(): number {
    return this.#purgeTo(this.#lastSeq + 1);
  }

  purgeEx(subject: string, seq: number, keep: number): number {
    if (isAll(subject)) {
      if (keep === 0 && seq === 0) return this.purge();
      if (seq > 1) return this.compact(seq);
      if (keep > 0) {
        if (keep >= this.#msgs) return 0;
        // The keep-th live message from the end becomes the first.
        const all = this.#all;
        let n = 0;
        for (let i = all.len - 1; i >= all.head; i--) {
          if (all.slab[i] !== null && ++n === keep) return this.compact(all.seq[i]);
        }
      }
      return 0;
    }
    const fs = this.filteredState(1, subject);
    if (fs.msgs === 0) return 0;
    let toPurge = fs.msgs;
    if (keep > 0) {
      if (keep >= toPurge) return 0;
      toPurge -= keep;
    }
    const last = seq > 1 ? seq - 1 : fs.last;
    // Collect sequences first: removals reshape the lists being walked and move positions.
    const victims: number[] = [];
    if (!subjectHasWildcard(subject)) {
      const list = this.#subjects.get(subject)!.list;
      for (let i = list.head; i < list.len && victims.length < toPurge; i++) {
        const s = list.seqs[i];
        if (s > last) break;
        if (list.gone[i] === 0) victims.push(s);
      }
    } else {
      const all = this.#all;
      for (let i = all.lowerBound(fs.first); i < all.len && victims.length < toPurge; i++) {
        const s = all.seq[i];
        if (s > last) break;
        if (all.slab[i] !== null && all.ss[i]!.matches(subject, matchLiteral)) victims.push(s);
      }
    }
    let n = 0;
    for (const s of victims) {
      const p = this.#all.find(s);
      if (p < 0) continue;
      this.#remove(p, false, true);
      n++;
    }
    return n;
  }

  compact(seq: number): number {
    if (seq === 0) return this.purge();
    this.#checkOpen();
    if (seq > this.#lastSeq) return this.#purgeTo(seq);
    let purged = 0;
    let bytes = 0;
    const all = this.#all;
    for (let p = all.first(); p >= 0 && all.seq[p] < seq; p = all.first()) {
      purged++;
      bytes += all.msgSize(p);
      this.#remove(p, false, false);
    }
    this.journalCompact(seq);
    if (purged > 0) this.#arm();
    if (purged > 0) this.#scb?.(-purged, -bytes, 0, "");
    return purged;
  }

  truncate(seq: number): void {
    this.#checkOpen();
    if (seq > this.#lastSeq) throw new StoreError("invalid_sequence", "invalid sequence");
    let purged = 0;
    let bytes = 0;
    const all = this.#all;
    for (let p = all.last(); p >= 0 && all.seq[p] > seq; p = all.last()) {
      purged++;
      bytes += all.msgSize(p);
      this.#remove(p, false, false);
    }
    if (seq === 0) {
      this.#firstSeq = 0;
      this.#firstTime = 0n;
      this.#lastSeq = 0;
      this.#lastTime = this.#clock();
    } else {
      this.#lastSeq = seq;
      const l = all.last();
      if (l >= 0) this.#lastTime = all.ts[l];
      if (this.#msgs === 0) {
        this.#firstSeq = seq + 1;
        this.#firstTime = 0n;
      }
    }
    // Sequences above `seq` will be reused: drop their TTL entries; the age pass looks at them again.
    this.#ttlRebuild((s) => s <= seq);
    if (this.#ageFloor > seq + 1) this.#ageFloor = seq + 1;
    this.journalTruncate(seq);
    this.#arm();
    if (purged > 0) this.#scb?.(-purged, -bytes, 0, "");
  }

  #purgeTo(fseq: number): number {
    this.#checkOpen();
    const purged = this.#msgs;
    const bytes = this.#bytes;
    this.#all.clear();
    this.#subjects.clear();
    this.#slabs.reset();
    this.#never.clear();
    this.#msgs = 0;
    this.#bytes = 0;
    this.#firstSeq = fseq;
    this.#firstTime = 0n;
    if (fseq - 1 > this.#lastSeq) this.#lastSeq = fseq - 1;
    this.#ttlAt = [];
    this.#ttlSeq = [];
    this.journalCompact(fseq);
    this.#arm();
    if (purged > 0) this.#scb?.(-purged, -bytes, 0, "");
    return purged;
  }

  // No await between the index update and the callback: the callback sees a consistent store.
  /** Removes the live record at position `p` (positions may move afterwards). */
  #remove(p: number, secure: boolean, notify: boolean): void {
    const all = this.#all;
    const slab = all.slab[p]!;
    const seq = all.seq[p];
    const off = all.off[p];
    const n = all.hdrLen[p] + all.msgLen[p];
    const size = all.msgSize(p);
    const ss = all.ss[p]!;
    if (secure) {
      const b = slab.bytes(off)?.subarray(off, off + n);
      for (let o = 0; b !== undefined && o < b.length; o += 65536) {
        crypto.getRandomValues(b.subarray(o, o + 65536));
      }
    }
    all.removeAt(p);
    if (this.#never.size > 0) this.#never.delete(seq);
    this.#slabs.release(all, slab, n);
    this.#msgs--;
    this.#bytes -= size;
    ss.list.remove(seq);
    if (ss.list.size === 0 && this.#subjects.get(ss.subj) === ss) this.#subjects.delete(ss.subj);
    if (seq === this.#firstSeq) {
      const f = all.first();
      if (f >= 0) {
        this.#firstSeq = all.seq[f];
        this.#firstTime = all.ts[f];
      } else {
        this.#firstSeq = this.#lastSeq + 1;
        this.#firstTime = 0n;
      }
    }
    if (notify) {
      this.journalRemove(seq, secure);
      this.#scb?.(-1, -size, seq, ss.subj);
    }
  }

  holdLimits(on: boolean): void {
    if (on) {
      this.#held ??= new Set();
      return;
    }
    const held = this.#held;
    this.#held = undefined;
    if (held === undefined || this.#closed) return;
    if (this.#maxp > 0) { for (const ss of held) if (ss.list.size > this.#maxp) this.#enforcePerSubject(ss); }
    this.#enforceLimits();
  }

  #enforcePerSubject(ss: SubjState): void {
    while (ss.list.size > this.#maxp) this.#remove(this.#all.find(ss.list.first()), false, true);
  }

  #enforceLimits(): void {
    const cfg = this.cfg;
    if (cfg.discardNew) return;
    if (cfg.maxMsgs > 0) { while (this.#msgs > cfg.maxMsgs) this.#remove(this.#all.first(), false, true); }
    if (cfg.maxBytes > 0) {
      while (this.#bytes > cfg.maxBytes) {
        this.#remove(this.#all.first(), false, true);
      }
    }
  }

  // ---- queries ----

  getSeqFromTime(tsNs: bigint): number {
    if (this.#msgs === 0) return this.#lastSeq + 1;
    const all = this.#all;
    let lo = all.head;
    let hi = all.len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all.ts[mid] < tsNs) lo = mid + 1;
      else hi = mid;
    }
    for (; lo < all.len; lo++) if (all.slab[lo] !== null) return all.seq[lo];
    return this.#lastSeq + 1;
  }

  filteredState(seq: number, subject: string): SimpleState {
    if (seq < this.#firstSeq) seq = this.#firstSeq;
    if (seq > this.#lastSeq || this.#msgs === 0) return emptyState();
    if (isAll(subject)) return indexState(this.#all, seq);
    if (!subjectHasWildcard(subject)) {
      const ss = this.#subjects.get(subject);
      return ss === undefined ? emptyState() : listState(ss.list, seq);
    }
    const out = emptyState();
    this.#eachMatching(subject, (ss) => {
      const s = listState(ss.list, seq);
      if (s.msgs === 0) return;
      out.msgs += s.msgs;
      if (out.first === 0 || s.first < out.first) out.first = s.first;
      if (s.last > out.last) out.last = s.last;
    });
    return out;
  }

  subjectsState(filter: string): Map<string, SimpleState> {
    const out = new Map<string, SimpleState>();
    this.#eachMatching(filter, (ss) => {
      out.set(ss.subj, { msgs: ss.list.size, first: ss.list.first(), last: ss.list.last() });
    });
    return out;
  }

  subjectsTotals(filter: string): Map<string, number> {
    const out = new Map<string, number>();
    this.#eachMatching(filter, (ss) => out.set(ss.subj, ss.list.size));
    return out;
  }

  numPending(sseq: number, filter: string, lastPerSubject: boolean): { total: number; validThrough: number } {
    if (!lastPerSubject) return { total: this.filteredState(sseq, filter).msgs, validThrough: this.#lastSeq };
    if (sseq < this.#firstSeq) sseq = this.#firstSeq;
    let total = 0;
    if (sseq <= this.#lastSeq) {
      if (isAll(filter) && sseq <= this.#firstSeq) total = this.#subjects.size;
      else this.#eachMatching(filter, (ss) => void (ss.list.last() >= sseq && total++));
    }
    return { total, validThrough: this.#lastSeq };
  }

  numPendingMulti(
    sseq: number,
    filters: readonly string[],
    lastPerSubject: boolean,
  ): { total: number; validThrough: number } {
    const f = anyFilter(filters);
    if (f === undefined) return this.numPending(sseq, ">", lastPerSubject);
    if (f.wilds.length + f.lits.size === 1) return this.numPending(sseq, filters[0], lastPerSubject);
    const validThrough = this.#lastSeq;
    if (sseq < this.#firstSeq) sseq = this.#firstSeq;
    if (sseq > this.#lastSeq || this.#msgs === 0) return { total: 0, validThrough };
    let total = 0;
    const all = this.#all;
    const from = all.lowerBound(sseq);
    if (!lastPerSubject && all.len - from <= this.#askCost(f)) {
      // A short tail: counting its records beats asking every candidate subject.
      for (let i = from; i < all.len; i++) if (all.slab[i] !== null && matchesAny(f, all.ss[i]!)) total++;
    } else {
      this.#eachMatchingAny(f, (ss) => {
        if (ss.list.last() < sseq) return;
        total += lastPerSubject ? 1 : ss.list.countFrom(sseq);
      });
    }
    return { total, validThrough };
  }

  state(): StreamState {
    const st = this.fastState();
    const deleted: number[] = [];
    if (st.numDeleted > 0) {
      const all = this.#all;
      let prev = this.#firstSeq - 1;
      for (let i = all.head; i < all.len; i++) {
        if (all.slab[i] === null) continue;
        const seq = all.seq[i];
        for (let s = prev + 1; s < seq; s++) deleted.push(s);
        prev = seq;
      }
      for (let s = prev + 1; s <= this.#lastSeq; s++) deleted.push(s);
    }
    st.deleted = deleted;
    st.numDeleted = deleted.length;
    return st;
  }

  fastState(): StreamState {
    const span = this.#lastSeq - this.#firstSeq + 1;
    return {
      msgs: this.#msgs,
      bytes: this.#bytes,
      firstSeq: this.#firstSeq,
      firstTime: this.#firstTime,
      lastSeq: this.#lastSeq,
      lastTime: this.#lastTime,
      numSubjects: this.#subjects.size,
      numDeleted: this.#msgs > 0 && span > this.#msgs ? span - this.#msgs : 0,
      consumers: this.#consumers,
    };
  }

  type(): StorageType {
    return "memory";
  }

  registerStorageUpdates(cb: StorageUpdateHandler): void {
    this.#scb = cb;
  }

  updateConfig(cfg: StoreConfig): void {
    this.#checkOpen();
    this.cfg = { ...cfg };
    if (this.cfg.maxMsgsPerSubject < -1) this.cfg.maxMsgsPerSubject = -1;
    this.#enforceLimits();
    const old = this.#maxp;
    this.#maxp = this.cfg.maxMsgsPerSubject;
    if (this.#maxp > 0 && (old <= 0 || this.#maxp < old)) {
      for (const ss of [...this.#subjects.values()]) {
        if (ss.list.size > this.#maxp) this.#enforcePerSubject(ss);
      }
    }
    if (!this.cfg.allowMsgTtl) {
      this.#ttlAt = [];
      this.#ttlSeq = [];
    }
    this.#expire();
  }

  delete(): void {
    if (!this.#closed) this.purge();
    this.stop();
  }

  stop(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#disarm();
    this.#ttlAt = [];
    this.#ttlSeq = [];
    this.#all.clear();
    this.#subjects.clear();
    this.#slabs.reset();
  }

  consumerStore(name: string, cfg: ConsumerStoreConfig): ConsumerStore {
    this.#checkOpen();
    if (name === "") throw new StoreError("bad_state", "bad consumer config");
    this.#consumers++;
    return this.newConsumerStore(name, cfg, () => {
      if (this.#consumers > 0) this.#consumers--;
    });
  }

  /** Creates the consumer store; FileStore overrides it with a persistent one. */
  protected newConsumerStore(_name: string, cfg: ConsumerStoreConfig, onStop: () => void): ConsumerStore {
    return new MemConsumerStore(cfg, onStop);
  }

  // ---- journal hooks (no-ops here; FileStore logs them) ----

  protected journalStore(
    _seq: number,
    _ts: bigint,
    _subj: string,
    _hdr: Uint8Array | undefined,
    _msg: Uint8Array,
    _ttlNs: bigint,
  ): void {}
  protected journalRemove(_seq: number, _erase: boolean): void {}
  /** Everything below `seq` is gone (compact, purge: seq = last + 1). */
  protected journalCompact(_seq: number): void {}
  protected journalTruncate(_seq: number): void {}
  protected journalSkip(_seq: number, _num: number, _ts: bigint): void {}

  hasMsg(seq: number): boolean {
    return this.#all.find(seq) >= 0;
  }

  /**
   * The interior deleted sequences as flat [from, to] pairs (gaps between the first and the last sequence),
   * without loading any payload; undefined when there are more than `max` gaps.
   */
  protected deletedRuns(max: number): number[] | undefined {
    const out: number[] = [];
    if (this.#msgs === 0) return out;
    const all = this.#all;
    let prev = this.#firstSeq - 1;
    for (let i = all.head; i < all.len; i++) {
      if (all.slab[i] === null) continue;
      const seq = all.seq[i];
      if (seq > prev + 1) {
        if (out.length >= 2 * max) return undefined;
        out.push(prev + 1, seq - 1);
      }
      prev = seq;
    }
    if (prev < this.#lastSeq) {
      if (out.length >= 2 * max) return undefined;
      out.push(prev + 1, this.#lastSeq);
    }
    return out;
  }

  /** Removes (journaled, as removeMsg) every stored message from `from` to `to`; returns how many. */
  protected removeRange(from: number, to: number): number {
    this.#checkOpen();
    const all = this.#all;
    let n = 0;
    for (let p = all.nextFrom(from); p >= 0 && all.seq[p] <= to; p = all.nextFrom(from)) {
      from = all.seq[p] + 1;
      this.#remove(p, false, true);
      n++;
    }
    return n;
  }

  /**
   * Points the stored message at `seq` to `off` in `slab` (FileStore moves sealed blocks' payloads out of
   * memory); false when it is not stored.
   */
  protected repoint(seq: number, slab: Slab, off: number): boolean {
    const all = this.#all;
    const p = all.find(seq);
    if (p < 0) return false;
    const old = all.slab[p]!;
    if (old !== slab) old.live -= all.hdrLen[p] + all.msgLen[p];
    all.slab[p] = slab;
    all.off[p] = off;
    return true;
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** Calls `fn` for every live message in sequence order (FileStore's block rewrite). */
  protected forEachLive(fn: (m: StoredMsg, ttlAtNs: number) => void): void {
    const ttl = new Map<number, number>();
    for (let i = 0; i < this.#ttlSeq.length; i++) ttl.set(this.#ttlSeq[i], this.#ttlAt[i]);
    const all = this.#all;
    for (let i = all.head; i < all.len; i++) {
      const m = all.slab[i] !== null ? toStored(all, i) : undefined;
      if (m !== undefined) fn(m, ttl.get(m.seq) ?? 0);
    }
  }

  // ---- helpers ----

  #checkOpen(): void {
    if (this.#closed) throw new StoreError("closed", "store is closed");
  }

  #eachMatching(filter: string, fn: (ss: SubjState) => void): void {
    if (isAll(filter)) {
      for (const ss of this.#subjects.values()) fn(ss);
    } else if (!subjectHasWildcard(filter)) {
      const ss = this.#subjects.get(filter);
      if (ss !== undefined) fn(ss);
    } else {
      for (const ss of this.#subjects.values()) if (ss.matches(filter, matchLiteral)) fn(ss);
    }
  }

  /** Calls `fn` once for each subject matching any filter of `f`. `fn` must not change the store. */
  #eachMatchingAny(f: AnyFilter, fn: (ss: SubjState) => void): void {
    if (f.wilds.length === 0) {
      for (const subj of f.lits) {
        const ss = this.#subjects.get(subj);
        if (ss !== undefined) fn(ss);
      }
      return;
    }
    for (const ss of this.#subjects.values()) if (matchesAny(f, ss)) fn(ss);
  }

  #clock(): bigint {
    const mono = performance.now();
    if (mono - this.#baseMono > RESYNC_MS) {
      // The monotonic clock gives sub-millisecond resolution; fall back to Date.now() if it drifted.
      this.#baseMono = mono;
      const precise = performance.timeOrigin + mono;
      const wall = Date.now();
      this.#baseNs = Math.abs(wall - precise) > 2
        ? BigInt(wall) * 1_000_000n
        : BigInt(Math.round(precise * 1000)) * 1000n;
      return this.#baseNs;
    }
    return this.#baseNs + BigInt(Math.round((mono - this.#baseMono) * 1e6));
  }

  // ---- expiry: one timer for max_age and TTLs ----

  #expire(): void {
    if (this.#closed) return;
    const now = this.#clock();
    const maxAge = this.cfg.maxAge;
    if (maxAge > 0n) {
      const min = now - maxAge;
      const all = this.#all;
      if (this.#never.size === 0) {
        for (let f = all.first(); f >= 0 && all.ts[f] <= min; f = all.first()) this.#remove(f, false, true);
      } else {
        // Past messages that never expire (kept below the floor) to the first one that may.
        for (
          let p = all.nextFrom(this.#ageFloor);
          p >= 0 && all.ts[p] <= min;
          p = all.nextFrom(this.#ageFloor)
        ) {
          const seq = all.seq[p];
          this.#ageFloor = seq + 1;
          if (!this.#never.has(seq)) this.#remove(p, false, true);
        }
      }
    }
    const nowNum = Number(now);
    while (this.#ttlAt.length > 0 && this.#ttlAt[0] <= nowNum) {
      const seq = this.#ttlSeq[0];
      this.#ttlPop();
      const p = this.#all.find(seq);
      if (p >= 0) this.#remove(p, false, true);
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#closed) return;
    let at = Infinity;
    if (this.cfg.maxAge > 0n) {
      // With messages that never expire, the first one past the floor (a never one wakes the timer once).
      const f = this.#never.size === 0 ? this.#all.first() : this.#all.nextFrom(this.#ageFloor);
      if (f >= 0) at = Number(this.#all.ts[f] + this.cfg.maxAge);
    }
    if (this.#ttlAt.length > 0 && this.#ttlAt[0] < at) at = this.#ttlAt[0];
    if (at === Infinity) return this.#disarm();
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    this.#disarm();
    this.#timerAt = at;
    // At least 1 ms: expiries that close together are handled in one pass.
    const delay = Math.max(1, Math.ceil((at - Number(this.#clock())) / 1e6));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      try {
        this.#expire();
      } catch (err) {
        this.#arm();
        if (this.#onError !== undefined) this.#onError(err);
      }
    }, delay);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #ttlPush(at: number, seq: number): void {
    const a = this.#ttlAt;
    const s = this.#ttlSeq;
    let i = a.length;
    a.push(at);
    s.push(seq);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= at) break;
      a[i] = a[p];
      s[i] = s[p];
      i = p;
    }
    a[i] = at;
    s[i] = seq;
  }

  #ttlPop(): void {
    const a = this.#ttlAt;
    const s = this.#ttlSeq;
    const lastAt = a.pop()!;
    const lastSeq = s.pop()!;
    const n = a.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const c = l + 1 < n && a[l + 1] < a[l] ? l + 1 : l;
      if (a[c] >= lastAt) break;
      a[i] = a[c];
      s[i] = s[c];
      i = c;
    }
    a[i] = lastAt;
    s[i] = lastSeq;
  }

  #ttlRebuild(keep: (seq: number) => boolean): void {
    const at = this.#ttlAt;
    const seqs = this.#ttlSeq;
    this.#ttlAt = [];
    this.#ttlSeq = [];
    for (let i = 0; i < at.length; i++) if (keep(seqs[i])) this.#ttlPush(at[i], seqs[i]);
  }
}

/** A set of subject filters split for matching: literal subjects, and the filters with wildcards. */
interface AnyFilter {
  lits: Set<string>;
  wilds: string[];
}

/**
 * The split of each filter list seen (a list is not changed once passed): a consumer passes the same list for
 * every message it loads.
 */
const SPLITS = new WeakMap<readonly string[], AnyFilter | null>();

/** Splits `filters`; undefined when they match every subject (one is "" or ">", or there are none). */
function anyFilter(filters: readonly string[]): AnyFilter | undefined {
  let f = SPLITS.get(filters);
  if (f === undefined) SPLITS.set(filters, f = splitFilters(filters) ?? null);
  return f ?? undefined;
}

function splitFilters(filters: readonly string[]): AnyFilter | undefined {
  if (filters.length === 0) return undefined;
  const f: AnyFilter = { lits: new Set(), wilds: [] };
  for (const x of filters) {
    if (isAll(x)) return undefined;
    if (subjectHasWildcard(x)) {
      if (!f.wilds.includes(x)) f.wilds.push(x);
    } else f.lits.add(x);
  }
  return f;
}

function matchesAny(f: AnyFilter, ss: SubjState): boolean {
  if (f.lits.size > 0 && f.lits.has(ss.subj)) return true;
  const w = f.wilds;
  // One wildcard filter uses the subject's one-entry cache; several would only thrash it.
  if (w.length === 1) return ss.matches(w[0], matchLiteral);
  for (let i = 0; i < w.length; i++) if (matchLiteral(ss.subj, w[i])) return true;
  return false;
}

function toStored(all: RecIndex, p: number, borrow = false): StoredMsg | undefined {
  const hl = all.hdrLen[p];
  const n = hl + all.msgLen[p];
  const buf = borrow ? all.slab[p]!.view(all.off[p], n) : all.slab[p]!.read(all.off[p], n);
  if (buf === undefined) return undefined;
  return {
    subject: all.ss[p]!.subj,
    hdr: hl > 0 ? buf.subarray(0, hl) : undefined,
    msg: buf.subarray(hl),
    seq: all.seq[p],
    ts: all.ts[p],
  };
}

function listState(list: SeqList, seq: number): SimpleState {
  const l = list.last();
  if (l < 0 || l < seq) return { ...ZERO };
  return { msgs: list.countFrom(seq), first: list.nextFrom(seq), last: l };
}

function indexState(all: RecIndex, seq: number): SimpleState {
  const l = all.last();
  if (l < 0 || all.seq[l] < seq) return { ...ZERO };
  return { msgs: all.countFrom(seq), first: all.seq[all.nextFrom(seq)], last: all.seq[l] };
}
