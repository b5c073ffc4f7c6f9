// The in-memory message index shared by MemStore and FileStore: one record per stored message, kept in
// sequence order in a main list and in one list per subject, with payloads packed into shared slabs.
//
// Why this shape: a million messages must not cost a million Maps entries, closures or ArrayBuffers. A
// record is one small object (seq, ts, subject state, slab, offset, lengths); the lists are plain arrays
// sorted by sequence, so a lookup is a binary search and first/last are O(1). A removed record is marked
// dead (slab = null) and stays in its lists until trimmed from an end or compacted away, which costs O(1)
// amortized per removal. Payloads are copied once into 256 KiB slabs; a slab that falls below a quarter
// full moves its survivors into the current slab, so sparse streams (KV) do not pin mostly-empty slabs.

const encoder = new TextEncoder();

/** Payload bytes per slab; larger messages get a slab of their own. */
export const SLAB_SIZE = 256 * 1024;
const LARGE_MSG = SLAB_SIZE / 8;

/** A chunk of payload bytes shared by many messages; space is never reused, so views stay valid. */
export class Slab {
  used = 0;
  /** Bytes of live messages. */
  live = 0;
  /** Records placed here (some may be dead or moved); used to relocate survivors. */
  recs: MsgRec[] = [];
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

  /** True when the bytes live elsewhere (FileStore's sealed blocks): never relocated. */
  get external(): boolean {
    return false;
  }
}

/** One stored message. `slab === null` marks it removed. */
export class MsgRec {
  constructor(
    readonly seq: number,
    readonly ts: bigint,
    readonly ss: SubjState,
    public slab: Slab | null,
    public off: number,
    readonly hdrLen: number,
    readonly msgLen: number,
  ) {}

  /** Size as Go's memStoreMsgSize counts it: subject + header + payload + 16. */
  get size(): number {
    return this.ss.bytes + this.hdrLen + this.msgLen + 16;
  }
}

/** A sequence-ordered list of records with lazily dropped dead entries. */
export class RecList {
  recs: MsgRec[] = [];
  head = 0;
  dead = 0;

  /** Live records. */
  get size(): number {
    return this.recs.length - this.head - this.dead;
  }

  push(r: MsgRec): void {
    this.recs.push(r);
  }

  /** The first live record (the head is always live when the list is not empty). */
  first(): MsgRec | undefined {
    return this.head < this.recs.length ? this.recs[this.head] : undefined;
  }

  /** The last live record. */
  last(): MsgRec | undefined {
    const n = this.recs.length;
    return n > this.head ? this.recs[n - 1] : undefined;
  }

  /** Index of the first record (live or dead) with seq >= `seq`, in [head, length]. */
  lowerBound(seq: number): number {
    const recs = this.recs;
    let lo = this.head;
    let hi = recs.length;
    if (lo >= hi || recs[lo].seq >= seq) return lo;
    // Dense lists (few removals) are found in one probe.
    const guess = lo + (seq - recs[lo].seq);
    if (guess < hi && recs[guess].seq === seq) return guess;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (recs[mid].seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The live record with exactly `seq`. */
  find(seq: number): MsgRec | undefined {
    const i = this.lowerBound(seq);
    const r = this.recs[i];
    return r !== undefined && r.seq === seq && r.slab !== null ? r : undefined;
  }

  /** The first live record with seq >= `seq`. */
  nextFrom(seq: number): MsgRec | undefined {
    const recs = this.recs;
    for (let i = this.lowerBound(seq); i < recs.length; i++) {
      if (recs[i].slab !== null) return recs[i];
    }
    return undefined;
  }

  /** The last live record with seq <= `seq`. */
  prevFrom(seq: number): MsgRec | undefined {
    const recs = this.recs;
    for (let i = this.lowerBound(seq + 1) - 1; i >= this.head; i--) {
      if (recs[i].slab !== null) return recs[i];
    }
    return undefined;
  }

  /** Live records with seq >= `seq`, counting on the shorter side when some records are dead. */
  countFrom(seq: number): number {
    const recs = this.recs;
    const i = this.lowerBound(seq);
    if (this.dead === 0) return recs.length - i;
    let n = 0;
    if (recs.length - i <= i - this.head) {
      for (let j = i; j < recs.length; j++) if (recs[j].slab !== null) n++;
      return n;
    }
    for (let j = this.head; j < i; j++) if (recs[j].slab !== null) n++;
    return this.size - n;
  }

  /** Call once after marking one of this list's records dead. */
  removed(): void {
    this.dead++;
    const recs = this.recs;
    while (this.head < recs.length && recs[this.head].slab === null) {
      this.head++;
      this.dead--;
    }
    while (recs.length > this.head && recs[recs.length - 1].slab === null) {
      recs.pop();
      this.dead--;
    }
    if (this.head === recs.length) {
      this.recs = [];
      this.head = 0;
      this.dead = 0;
      return;
    }
    const live = recs.length - this.head - this.dead;
    if (this.dead > 32 && this.dead > live) {
      this.recs = recs.filter((r) => r.slab !== null);
      this.head = 0;
      this.dead = 0;
    } else if (this.head > 1024 && this.head * 2 > recs.length) {
      this.recs = recs.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.recs = [];
    this.head = 0;
    this.dead = 0;
  }
}

/** Per-subject state: its records plus a one-entry cache of the last wildcard filter tested. */
export class SubjState {
  readonly list = new RecList();
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

/** Bump allocator over slabs with relocation of survivors out of mostly-empty slabs. */
export class SlabPool {
  #cur: Slab | undefined;

  /** Copies hdr+msg into a slab and attaches it to `r` (which must have slab set to a placeholder). */
  place(r: MsgRec, hdr: Uint8Array | undefined, msg: Uint8Array): void {
    const n = r.hdrLen + r.msgLen;
    const slab = this.#alloc(n);
    const off = slab.used;
    if (hdr !== undefined && r.hdrLen > 0) slab.buf.set(hdr, off);
    slab.buf.set(msg, off + r.hdrLen);
    slab.used += n;
    slab.live += n;
    slab.recs.push(r);
    r.slab = slab;
    r.off = off;
  }

  /** Accounts for a removed record; `slab` is the one it lived in. Relocates survivors when worthwhile. */
  release(slab: Slab, n: number): void {
    slab.live -= n;
    if (slab.external) return;
    if (slab === this.#cur || slab.live <= 0) {
      if (slab.live <= 0) slab.recs = [];
      return;
    }
    if (slab.live * 4 < slab.buf.length && slab.buf.length >= SLAB_SIZE) this.#relocate(slab);
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
  #relocate(slab: Slab): void {
    const recs = slab.recs;
    slab.recs = [];
    for (const r of recs) {
      if (r.slab !== slab) continue;
      const n = r.hdrLen + r.msgLen;
      const dst = this.#alloc(n);
      const off = dst.used;
      dst.buf.set(slab.buf.subarray(r.off, r.off + n), off);
      dst.used += n;
      dst.live += n;
      dst.recs.push(r);
      r.slab = dst;
      r.off = off;
    }
    slab.live = 0;
  }
}
