// The in-memory message index shared by MemStore and FileStore: every stored message in sequence order
// (RecIndex), the sequences of each subject (SeqList), and payloads packed into shared slabs (SlabPool).
//
// Why this shape: a million messages must not cost a million objects. RecIndex keeps its records as columns
// of typed arrays (sequence, time, offset, lengths: 28 bytes) plus two arrays of references (subject state,
// slab: 16 bytes), and a SeqList is a Float64Array of sequences with a byte of "removed" per entry: measured
// 71-84 bytes per message with growth slack and slab bookkeeping (scripts/index_mem.ts), where one object
// per message with a BigInt time, in two lists, cost 134-136. Both are sorted by sequence, so
// a lookup is a binary search (one probe when dense) and first/last are O(1). A removed record is marked
// dead and stays until trimmed from an end or compacted away, O(1) amortized per removal. A record is
// addressed by its position in RecIndex; positions move when the index compacts, so callers hold a
// position only until the next removal and otherwise hold the sequence.
// Payloads are copied once into 256 KiB slabs; a slab that falls below a quarter full moves its survivors
// into the current slab, so sparse streams (KV) do not pin mostly-empty slabs.

const encoder = new TextEncoder();

/** Payload bytes per slab; larger messages get a slab of their own. */
export const SLAB_SIZE = 256 * 1024;
const LARGE_MSG = SLAB_SIZE / 8;
const INITIAL = 1024;

/** A chunk of payload bytes shared by many messages; space is never reused, so views stay valid. */
export class Slab {
  used = 0;
  /** Bytes of live messages. */
  live = 0;
  /** Sequences of the records placed here (some may be gone or moved); used to relocate survivors. */
  recs: number[] = [];
  constructor(readonly buf: Uint8Array) {}

  /**
   * The bytes the record at `off` points into; undefined when they cannot be served (a file-backed slab
   * loads them on demand and refuses records whose block is damaged).
   */
  bytes(_off: number): Uint8Array | undefined {
    return this.buf;
  }

  /**
   * The `n` bytes of the record at `off`: a view into this slab (its space is never reused), or undefined
   * when they cannot be served.
   */
  read(off: number, n: number): Uint8Array | undefined {
    return this.buf.subarray(off, off + n);
  }

  /**
   * The `n` bytes of the record at `off` for a reader that is done with them before its next call into the
   * store (a consumer copying a message into outbound buffers): may be a view into a buffer read() would
   * copy out of. Here, as read().
   */
  view(off: number, n: number): Uint8Array | undefined {
    return this.read(off, n);
  }

  /** True when the bytes live elsewhere (FileStore's sealed blocks): never relocated. */
  get external(): boolean {
    return false;
  }
}

/** Per-subject state: its sequences plus a one-entry cache of the last wildcard filter tested. */
export class SubjState {
  readonly list = new SeqList();
  /** UTF-8 length of the subject, as Go counts it. */
  readonly bytes: number;
  #filter = "";
  #match = false;

  constructor(readonly subj: string) {
    let ascii = true;
    for (let i = 0; i < subj.length && ascii; i++) ascii = subj.charCodeAt(i) <= 0x7f;
    this.bytes = ascii ? subj.length : encoder.encode(subj).length;
  }

  /** Whether this subject matches `filter`, via `test` on a cache miss. */
  matches(filter: string, test: (subj: string, filter: string) => boolean): boolean {
    if (filter !== this.#filter) {
      this.#filter = filter;
      this.#match = test(this.subj, filter);
    }
    return this.#match;
  }
}

function grow<T extends Float64Array | Uint32Array | Uint8Array | BigInt64Array>(
  a: T,
  len: number,
  need: number,
): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  (b as unknown as { set(x: T): void }).set(a.subarray(0, len) as T);
  return b;
}

/**
 * Index of the first of the sorted sequences `s[lo..hi)` that is >= `seq` (hi when none). Both SeqList and
 * RecIndex keep a Float64Array here, so this stays monomorphic. Dense runs (few removals) need one probe.
 */
function lowerBound(s: Float64Array, lo: number, hi: number, seq: number): number {
  if (lo >= hi || s[lo] >= seq) return lo;
  const guess = lo + (seq - s[lo]);
  if (guess < hi && s[guess] === seq) return guess;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid] < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The compaction policy of SeqList and RecIndex after a removal: more dead entries than live ones (past a
 * few), or a dead prefix over half the array (past 1024), so compaction stays O(1) amortized per removal.
 */
function shouldCompact(head: number, len: number, dead: number): boolean {
  const live = len - head - dead;
  return (dead > 32 && dead > live) || (head > 1024 && head * 2 > len);
}

/** A sequence-ordered list of sequences (one subject's messages) with lazily dropped removed entries. */
export class SeqList {
  seqs: Float64Array = new Float64Array(4);
  /** 1 where the entry's message was removed. */
  gone: Uint8Array = new Uint8Array(4);
  head = 0;
  len = 0;
  dead = 0;

  /** Live entries. */
  get size(): number {
    return this.len - this.head - this.dead;
  }

  push(seq: number): void {
    if (this.len === this.seqs.length) {
      this.seqs = grow(this.seqs, this.len, this.len + 1);
      this.gone = grow(this.gone, this.len, this.seqs.length);
    }
    this.seqs[this.len] = seq;
    this.gone[this.len++] = 0;
  }

  /** The first live sequence, or -1 (the head is always live when the list is not empty). */
  first(): number {
    return this.head < this.len ? this.seqs[this.head] : -1;
  }

  /** The last live sequence, or -1. */
  last(): number {
    return this.len > this.head ? this.seqs[this.len - 1] : -1;
  }

  /** Index of the first entry (live or not) with seq >= `seq`, in [head, len]. */
  lowerBound(seq: number): number {
    return lowerBound(this.seqs, this.head, this.len, seq);
  }

  /** The first live sequence >= `seq`, or -1. */
  nextFrom(seq: number): number {
    for (let i = this.lowerBound(seq); i < this.len; i++) if (this.gone[i] === 0) return this.seqs[i];
    return -1;
  }

  /** The last live sequence <= `seq`, or -1. */
  prevFrom(seq: number): number {
    for (let i = this.lowerBound(seq + 1) - 1; i >= this.head; i--) {
      if (this.gone[i] === 0) return this.seqs[i];
    }
    return -1;
  }

  /** Live entries with seq >= `seq`, counting on the shorter side when some entries are removed. */
  countFrom(seq: number): number {
    const i = this.lowerBound(seq);
    if (this.dead === 0) return this.len - i;
    let n = 0;
    if (this.len - i <= i - this.head) {
      for (let j = i; j < this.len; j++) if (this.gone[j] === 0) n++;
      return n;
    }
    for (let j = this.head; j < i; j++) if (this.gone[j] === 0) n++;
    return this.size - n;
  }

  /** Marks `seq` removed; it must be a live entry. */
  remove(seq: number): void {
    const i = this.lowerBound(seq);
    if (i >= this.len || this.seqs[i] !== seq || this.gone[i] !== 0) return;
    this.gone[i] = 1;
    this.dead++;
    const gone = this.gone;
    while (this.head < this.len && gone[this.head] !== 0) {
      this.head++;
      this.dead--;
    }
    while (this.len > this.head && gone[this.len - 1] !== 0) {
      this.len--;
      this.dead--;
    }
    if (this.head === this.len) return this.clear();
    if (shouldCompact(this.head, this.len, this.dead)) this.#compact();
  }

  #compact(): void {
    const n = this.size;
    const seqs = new Float64Array(Math.max(4, n + (n >>> 1)));
    let j = 0;
    for (let i = this.head; i < this.len; i++) if (this.gone[i] === 0) seqs[j++] = this.seqs[i];
    this.seqs = seqs;
    this.gone = new Uint8Array(seqs.length);
    this.head = 0;
    this.len = j;
    this.dead = 0;
  }

  clear(): void {
    this.seqs = new Float64Array(4);
    this.gone = new Uint8Array(4);
    this.head = 0;
    this.len = 0;
    this.dead = 0;
  }
}

/**
 * Every stored message in sequence order, as columns. Position `p` in [head, len) is live when
 * `slab[p] !== null`; removed positions stay until trimmed or compacted.
 */
export class RecIndex {
  seq: Float64Array = new Float64Array(INITIAL);
  ts: BigInt64Array = new BigInt64Array(INITIAL);
  off: Uint32Array = new Uint32Array(INITIAL);
  hdrLen: Uint32Array = new Uint32Array(INITIAL);
  msgLen: Uint32Array = new Uint32Array(INITIAL);
  ss: (SubjState | undefined)[] = [];
  slab: (Slab | null)[] = [];
  head = 0;
  len = 0;
  dead = 0;

  /** Live records. */
  get size(): number {
    return this.len - this.head - this.dead;
  }

  /** Appends a record (its slab and offset are set by SlabPool.place); returns its position. */
  push(seq: number, ts: bigint, ss: SubjState, hl: number, ml: number): number {
    const p = this.len;
    if (p === this.seq.length) {
      const need = p + 1;
      this.seq = grow(this.seq, p, need);
      this.ts = grow(this.ts, p, need);
      this.off = grow(this.off, p, need);
      this.hdrLen = grow(this.hdrLen, p, need);
      this.msgLen = grow(this.msgLen, p, need);
    }
    this.seq[p] = seq;
    this.ts[p] = ts;
    this.hdrLen[p] = hl;
    this.msgLen[p] = ml;
    this.off[p] = 0;
    this.ss[p] = ss;
    this.slab[p] = null;
    this.len = p + 1;
    return p;
  }

  /**
   * Record sizes as the reference counts them: false, memStoreMsgSize (subject + header + payload + 16);
   * true, fileStoreMsgSize (the on-disk record: 22 bytes of length, sequence, time and subject length, the
   * subject, 4 more for the header length when there are headers, header, payload, and an 8-byte hash).
   */
  fileSizes = false;

  /** Size of record `p` (see fileSizes): what stream state bytes and max_bytes count. */
  msgSize(p: number): number {
    return this.sizeOf(this.ss[p]!.bytes, this.hdrLen[p], this.msgLen[p]);
  }

  /** Size of a record with this subject, header and payload length (see fileSizes). */
  sizeOf(subjLen: number, hdrLen: number, msgLen: number): number {
    const n = subjLen + hdrLen + msgLen;
    if (!this.fileSizes) return n + 16;
    return n + (hdrLen > 0 ? 34 : 30);
  }

  /** Position of the first live record, or -1 (the head is always live when the index is not empty). */
  first(): number {
    return this.head < this.len ? this.head : -1;
  }

  /** Position of the last live record, or -1. */
  last(): number {
    return this.len > this.head ? this.len - 1 : -1;
  }

  /** Position of the first record (live or removed) with seq >= `seq`, in [head, len]. */
  lowerBound(seq: number): number {
    return lowerBound(this.seq, this.head, this.len, seq);
  }

  /** Position of the live record with exactly `seq`, or -1. */
  find(seq: number): number {
    const p = this.lowerBound(seq);
    return p < this.len && this.seq[p] === seq && this.slab[p] !== null ? p : -1;
  }

  /** Position of the first live record with seq >= `seq`, or -1. */
  nextFrom(seq: number): number {
    for (let p = this.lowerBound(seq); p < this.len; p++) if (this.slab[p] !== null) return p;
    return -1;
  }

  /** Position of the last live record with seq <= `seq`, or -1. */
  prevFrom(seq: number): number {
    for (let p = this.lowerBound(seq + 1) - 1; p >= this.head; p--) if (this.slab[p] !== null) return p;
    return -1;
  }

  /** Live records with seq >= `seq`. */
  countFrom(seq: number): number {
    const i = this.lowerBound(seq);
    if (this.dead === 0) return this.len - i;
    let n = 0;
    if (this.len - i <= i - this.head) {
      for (let j = i; j < this.len; j++) if (this.slab[j] !== null) n++;
      return n;
    }
    for (let j = this.head; j < i; j++) if (this.slab[j] !== null) n++;
    return this.size - n;
  }

  /** Marks the record at `p` removed. Positions may move afterwards. */
  removeAt(p: number): void {
    this.slab[p] = null;
    this.ss[p] = undefined;
    this.dead++;
    const slab = this.slab;
    while (this.head < this.len && slab[this.head] === null) {
      this.head++;
      this.dead--;
    }
    while (this.len > this.head && slab[this.len - 1] === null) {
      this.len--;
      this.dead--;
    }
    if (this.head === this.len) return this.clear();
    if (shouldCompact(this.head, this.len, this.dead)) this.#compact();
  }

  // Cost: copies the live records, paid for by the removals since the last compaction.
  #compact(): void {
    const n = this.size;
    const cap = Math.max(INITIAL, n + (n >>> 1));
    const seq = new Float64Array(cap);
    const ts = new BigInt64Array(cap);
    const off = new Uint32Array(cap);
    const hl = new Uint32Array(cap);
    const ml = new Uint32Array(cap);
    const ss: (SubjState | undefined)[] = new Array(n);
    const slab: (Slab | null)[] = new Array(n);
    let j = 0;
    for (let i = this.head; i < this.len; i++) {
      if (this.slab[i] === null) continue;
      seq[j] = this.seq[i];
      ts[j] = this.ts[i];
      off[j] = this.off[i];
      hl[j] = this.hdrLen[i];
      ml[j] = this.msgLen[i];
      ss[j] = this.ss[i];
      slab[j] = this.slab[i];
      j++;
    }
    this.seq = seq;
    this.ts = ts;
    this.off = off;
    this.hdrLen = hl;
    this.msgLen = ml;
    this.ss = ss;
    this.slab = slab;
    this.head = 0;
    this.len = j;
    this.dead = 0;
  }

  clear(): void {
    this.seq = new Float64Array(INITIAL);
    this.ts = new BigInt64Array(INITIAL);
    this.off = new Uint32Array(INITIAL);
    this.hdrLen = new Uint32Array(INITIAL);
    this.msgLen = new Uint32Array(INITIAL);
    this.ss = [];
    this.slab = [];
    this.head = 0;
    this.len = 0;
    this.dead = 0;
  }
}

/** Bump allocator over slabs with relocation of survivors out of mostly-empty slabs. */
export class SlabPool {
  #cur: Slab | undefined;

  /** Copies hdr+msg of the record at `p` into a slab and points the record at it. */
  place(idx: RecIndex, p: number, hdr: Uint8Array | undefined, msg: Uint8Array): void {
    const hl = idx.hdrLen[p];
    const n = hl + idx.msgLen[p];
    const slab = this.#alloc(n);
    const off = slab.used;
    if (hdr !== undefined && hl > 0) slab.buf.set(hdr, off);
    slab.buf.set(msg, off + hl);
    slab.used += n;
    slab.live += n;
    slab.recs.push(idx.seq[p]);
    idx.slab[p] = slab;
    idx.off[p] = off;
  }

  /** Accounts for a removed record; `slab` is the one it lived in. Relocates survivors when worthwhile. */
  release(idx: RecIndex, slab: Slab, n: number): void {
    slab.live -= n;
    if (slab.external) return;
    if (slab === this.#cur || slab.live <= 0) {
      if (slab.live <= 0) slab.recs = [];
      return;
    }
    if (slab.live * 4 < slab.buf.length && slab.buf.length >= SLAB_SIZE) this.#relocate(idx, slab);
  }

  /** Forgets the current slab (after a purge); old views stay valid. */
  reset(): void {
    this.#cur = undefined;
  }

  #alloc(n: number): Slab {
    if (n > LARGE_MSG) return new Slab(new Uint8Array(n));
    let cur = this.#cur;
    if (cur === undefined || cur.buf.length - cur.used < n) {
      cur = new Slab(new Uint8Array(SLAB_SIZE));
      this.#cur = cur;
    }
    return cur;
  }

  // Cost: copies at most a quarter slab, paid for by the three quarters removed since it filled.
  #relocate(idx: RecIndex, slab: Slab): void {
    const seqs = slab.recs;
    slab.recs = [];
    for (const seq of seqs) {
      const p = idx.find(seq);
      if (p < 0 || idx.slab[p] !== slab) continue;
      const off = idx.off[p];
      const n = idx.hdrLen[p] + idx.msgLen[p];
      const dst = this.#alloc(n);
      const at = dst.used;
      dst.buf.set(slab.buf.subarray(off, off + n), at);
      dst.used += n;
      dst.live += n;
      dst.recs.push(seq);
      idx.slab[p] = dst;
      idx.off[p] = at;
    }
    slab.live = 0;
  }
}
