// Stream snapshot archives in nats-server's layout (server/filestore.go streamSnapshot, as 2.9 writes it and
// server/stream.go RestoreStream reads it): an S2/snappy-framed tar holding
//   meta.inf, meta.sum            the stream's FileStreamInfo JSON ({"Created", ...config}) and its hash
//   msgs/<n>.blk, msgs/<n>.idx    message blocks in the on-disk record layout (inventory §8) and their
//                                 per-block index (counts, first/last, last checksum, deleted sequences)
//   obs/<c>/meta.inf, meta.sum, o.dat   each consumer's FileConsumerInfo JSON, its hash and its state
// Hashes are HighwayHash-64: meta.sum keyed by sha256(<stream>), a consumer's by sha256(<stream>/<consumer>),
// each record's by sha256(<stream>-<block index>). Blocks are written plain (the reference writes decrypted
// blocks into snapshots too), one record per sequence from a block's first to its last: readers index records
// by position, so deleted sequences inside a block are erased records (and listed in the .idx). Blocks end
// at ~4 MiB or before a gap of more than 4,096 sequences; an empty stream's block holds one erased record for
// its last sequence. The reader also takes what later servers write: msgs/index.db (per-block state and
// deleted sets), tombstone records, blocks with the 'cmp' compression prefix, and archives with no index at
// all (state rebuilt from the records, as the reference does).

import { posix } from "node:path";
import { goJsonSyntaxError, s2FrameDecode, S2FrameReader, S2FrameWriter } from "../util/mod.ts";
import {
  type ConsumerState,
  decodeConsumerState,
  encodeConsumerState,
  hh64,
  sha256Key,
  type StreamStore,
} from "../store/mod.ts";
import { readTar, TarWriter } from "./_tar.ts";
import { rfc3339Nano } from "./_headers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const HBIT = 0x80000000;
const REC_HDR = 22;
const CHECKSUM = 8;
const REC_BAD = 32 * 1024 * 1024;
const MAGIC = 22;
const IDX_VERSION = 1;
/** Block size the writer aims for, and the sequence gap past which it starts a new block. */
const BLOCK_TARGET = 4 * 1024 * 1024;
const GAP_SPLIT = 4096;

/** A consumer as the writer takes it and the reader returns it. */
export interface ArchiveConsumer {
  name: string;
  /** The consumer config (wire keys). */
  config: Record<string, unknown>;
  /** Creation time, ns; undefined when the archive has none. */
  created: bigint | undefined;
  state: ConsumerState | undefined;
}

/** A message read from an archive. */
export interface ArchiveMsg {
  seq: number;
  ts: bigint;
  subject: string;
  hdr: Uint8Array | undefined;
  msg: Uint8Array;
}

/** A decoded archive. */
export interface StreamArchive {
  /** The stream config from meta.inf (wire keys; "Created" removed). */
  config: Record<string, unknown>;
  name: string;
  created: bigint | undefined;
  firstSeq: number;
  lastSeq: number;
  /** The time of the last sequence (which may be a deleted one). */
  lastTs: bigint;
  msgs: ArchiveMsg[];
  consumers: ArchiveConsumer[];
}

// ---- little helpers ----------------------------------------------------------------------------------------

function uvarint(out: number[], n: number | bigint): void {
  let v = BigInt(n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

function varint(out: number[], n: bigint): void {
  uvarint(out, n < 0n ? (-n << 1n) - 1n : n << 1n);
}

class VarReader {
  i: number;
  constructor(readonly b: Uint8Array, start: number) {
    this.i = start;
  }
  /** A uvarint as bigint; undefined when the bytes run out or it is too long. */
  big(): bigint | undefined {
    let v = 0n;
    let shift = 0n;
    for (let k = 0; k < 10; k++) {
      if (this.i >= this.b.length) return undefined;
      const c = this.b[this.i++];
      v |= BigInt(c & 0x7f) << shift;
      if (c < 0x80) return v;
      shift += 7n;
    }
    return undefined;
  }
  seq(): number | undefined {
    const v = this.big();
    if (v === undefined) return undefined;
    const s = v & ~(1n << 63n);
    return s > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(s);
  }
  ts(): bigint | undefined {
    const v = this.big();
    if (v === undefined) return undefined;
    return v & 1n ? -((v + 1n) >> 1n) : v >> 1n;
  }
}

function hexHash(key: Uint8Array, data: Uint8Array): Uint8Array {
  const h = hh64(key, data);
  let s = "";
  for (const x of h) s += x.toString(16).padStart(2, "0");
  return encoder.encode(s);
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function goTime(ns: bigint): string {
  return ns > 0n ? rfc3339Nano(ns) : "0001-01-01T00:00:00Z";
}

/** Parses an RFC 3339 time with up to nanosecond fractions; undefined when absent or the zero time. */
export function parseGoTime(v: unknown): bigint | undefined {
  if (typeof v !== "string") return undefined;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(v);
  if (m === null) return undefined;
  const ms = Date.parse(m[1] + m[3]);
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

// ---- writing -----------------------------------------------------------------------------------------------

/** A message block being written: its records in one growing buffer, and what its index file holds. */
class BlockOut {
  buf = new Uint8Array(64 * 1024);
  dv = new DataView(this.buf.buffer);
  size = 0;
  msgs = 0;
  bytes = 0;
  firstTs = 0n;
  last: number;
  lastTs = 0n;
  deleted: number[] = [];

  constructor(public first: number, readonly key: Uint8Array) {
    this.last = first - 1;
  }

  /** The last record's checksum (zeros for an empty block). */
  lchk(): Uint8Array {
    return this.size === 0 ? new Uint8Array(CHECKSUM) : this.buf.slice(this.size - CHECKSUM, this.size);
  }

  /** Appends one record in the on-disk layout with its checksum (seq+ts, subject, headers, payload). */
  add(
    seq: number,
    ts: bigint,
    subject: Uint8Array,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    erase = false,
  ) {
    const hl = hdr !== undefined && hdr.length > 0 ? hdr.length : 0;
    const rl = REC_HDR + subject.length + (hl > 0 ? 4 + hl : 0) + msg.length + CHECKSUM;
    if (this.size + rl > this.buf.length) {
      const nb = new Uint8Array(Math.max(this.size + rl, this.buf.length * 2));
      nb.set(this.buf.subarray(0, this.size));
      this.buf = nb;
      this.dv = new DataView(nb.buffer);
    }
    const r = this.buf;
    const dv = this.dv;
    const o0 = this.size;
    dv.setUint32(o0, (hl > 0 ? HBIT : 0) + rl, true);
    dv.setUint32(o0 + 4, seq % 0x100000000, true);
    dv.setUint32(o0 + 8, Math.floor(seq / 0x100000000) + (erase ? 0x80000000 : 0), true);
    dv.setBigInt64(o0 + 12, ts, true);
    dv.setUint16(o0 + 20, subject.length, true);
    let o = o0 + REC_HDR;
    r.set(subject, o);
    o += subject.length;
    if (hl > 0) {
      dv.setUint32(o, hl, true);
      o += 4;
      r.set(hdr!, o);
      o += hl;
    }
    r.set(msg, o);
    // The hash skips the length fields: seq+ts, subject, then headers and payload.
    const hn = 16 + subject.length + hl + msg.length;
    if (scratch.length < hn) scratch = new Uint8Array(Math.max(hn, scratch.length * 2));
    scratch.set(r.subarray(o0 + 4, o0 + 20), 0);
    scratch.set(subject, 16);
    if (hl > 0) scratch.set(hdr!, 16 + subject.length);
    scratch.set(msg, 16 + subject.length + hl);
    r.set(hh64(this.key, scratch.subarray(0, hn)), o0 + rl - CHECKSUM);
    this.size += rl;
    if (!erase) {
      if (this.msgs === 0) this.firstTs = ts;
      this.msgs++;
      this.bytes += rl;
    }
    this.last = seq;
    this.lastTs = ts;
  }

  /**
   * Adds erased records for the deleted sequences after the last one through `upTo`: readers index a
   * block's records by position, so every sequence between its first and last needs one.
   */
  erased(upTo: number, ts: bigint): void {
    for (let d = this.last + 1; d <= upTo; d++) {
      this.add(d, ts, EMPTY, undefined, EMPTY, true);
      this.deleted.push(d);
    }
  }
}

const EMPTY = new Uint8Array(0);

/** Reused for the bytes a record's checksum covers. */
let scratch = new Uint8Array(64 * 1024);

function encodeIndex(b: BlockOut): Uint8Array {
  const out: number[] = [MAGIC, IDX_VERSION];
  uvarint(out, b.msgs);
  uvarint(out, b.bytes);
  uvarint(out, b.first);
  varint(out, b.firstTs);
  uvarint(out, b.last);
  varint(out, b.lastTs);
  uvarint(out, b.deleted.length);
  out.push(...b.lchk());
  for (const d of b.deleted) uvarint(out, d - b.first);
  return new Uint8Array(out);
}

/** What writeArchive takes. */
export interface ArchiveSource {
  name: string;
  created: bigint;
  /** The stream config (wire keys). */
  config: Record<string, unknown>;
  store: StreamStore;
  consumers: ArchiveConsumer[];
}

/** Builds a whole snapshot archive (framed and compressed) at once; see archiveChunks. */
export function writeArchive(src: ArchiveSource): Uint8Array {
  const parts: Uint8Array[] = [];
  let n = 0;
  for (const p of archiveChunks(src)) {
    parts.push(p);
    n += p.length;
  }
  return concat(parts, n);
}

/** Records between the generator's progress yields. */
const YIELD_EVERY = 1024;

/**
 * Produces a snapshot archive piece by piece: framed bytes, and empty pieces now and then so a caller can
 * spread the work over event-loop turns. Messages are those of the stream's state when it starts; ones
 * removed meanwhile are left out as deleted.
 */
export function* archiveChunks(src: ArchiveSource): Generator<Uint8Array, void, void> {
  const fw = new S2FrameWriter();
  const tw = new TarWriter((b) => fw.write(b));
  const meta = encoder.encode(JSON.stringify({ Created: goTime(src.created), ...src.config }));
  tw.add("meta.inf", meta);
  tw.add("meta.sum", hexHash(sha256Key(src.name), meta));
  yield fw.take();

  const st = src.store.fastState();
  const subjects = new Map<string, Uint8Array>();
  let index = 1;
  const keyFor = (i: number) => sha256Key(`${src.name}-${i}`);
  let cur = new BlockOut(st.msgs > 0 ? st.firstSeq : st.lastSeq + 1, keyFor(index));
  const emit = (b: BlockOut, i: number) => {
    tw.add(`msgs/${i}.idx`, encodeIndex(b));
    tw.add(`msgs/${i}.blk`, b.buf.subarray(0, b.size));
  };
  let seq = st.firstSeq;
  let count = 0;
  for (;;) {
    const m = st.msgs > 0 ? src.store.loadNextMsg(">", seq) : undefined;
    if (m === undefined || m.seq > st.lastSeq) break;
    if (cur.msgs > 0 && (cur.size >= BLOCK_TARGET || m.seq - cur.last > GAP_SPLIT)) {
      emit(cur, index);
      index++;
      cur = new BlockOut(m.seq, keyFor(index));
      yield fw.take();
    }
    if (cur.msgs === 0) {
      cur.first = m.seq;
      cur.last = m.seq - 1;
    } else if (m.seq > cur.last + 1) cur.erased(m.seq - 1, m.ts);
    let subj = subjects.get(m.subject);
    if (subj === undefined) {
      subj = encoder.encode(m.subject);
      if (subjects.size < 10_000) subjects.set(m.subject, subj);
    }
    cur.add(m.seq, m.ts, subj, m.hdr, m.msg);
    seq = m.seq + 1;
    if (++count % YIELD_EVERY === 0) yield fw.take();
  }
  // Trailing deleted sequences stay in the last block, so the last sequence survives the restore.
  if (cur.msgs > 0) {
    if (st.lastSeq > cur.last) cur.erased(st.lastSeq, st.lastTime);
  } else if (st.lastSeq > 0) {
    // No messages left: one erased record carries the last sequence and its time, for servers that
    // rebuild a block from its records (2.10 on ignore .idx files); the index says the block is empty.
    cur.add(st.lastSeq, st.lastTime, EMPTY, undefined, EMPTY, true);
    cur.first = st.lastSeq + 1;
  }
  emit(cur, index);
  yield fw.take();

  for (const c of src.consumers) {
    const cmeta = encoder.encode(
      JSON.stringify({ Created: goTime(c.created ?? 0n), Name: c.name, ...c.config }),
    );
    tw.add(`obs/${c.name}/meta.inf`, cmeta);
    tw.add(`obs/${c.name}/meta.sum`, hexHash(sha256Key(`${src.name}/${c.name}`), cmeta));
    if (c.state !== undefined) tw.add(`obs/${c.name}/o.dat`, encodeConsumerState(c.state));
  }
  tw.finish();
  fw.flush();
  yield fw.take();
}

// ---- reading -----------------------------------------------------------------------------------------------

interface BlockIn {
  first: number;
  last: number;
  lastTs: bigint;
  msgs: ArchiveMsg[];
  /** Sequences removed by tombstone records (they may name messages of earlier blocks). */
  tombs: Set<number>;
}

interface IndexIn {
  msgs: number;
  first: number;
  firstTs: bigint;
  last: number;
  lastTs: bigint;
  deleted: Set<number>;
  lchk: Uint8Array;
}

function decodeIndex(b: Uint8Array): IndexIn | undefined {
  if (b.length < 2 || b[0] !== MAGIC || b[1] !== IDX_VERSION) return undefined;
  const r = new VarReader(b, 2);
  const msgs = r.seq();
  r.seq(); // bytes
  const first = r.seq();
  const firstTs = r.ts();
  const last = r.seq();
  const lastTs = r.ts();
  const ndel = r.seq();
  if (
    msgs === undefined || first === undefined || firstTs === undefined || last === undefined ||
    lastTs === undefined ||
    ndel === undefined || r.i + CHECKSUM > b.length || msgs !== last - first + 1 - ndel
  ) {
    return undefined;
  }
  const lchk = b.slice(r.i, r.i + CHECKSUM);
  r.i += CHECKSUM;
  const deleted = new Set<number>();
  for (let k = 0; k < ndel; k++) {
    const d = r.seq();
    if (d === undefined || d === 0) break;
    deleted.add(first + d);
  }
  return { msgs, first, firstTs, last, lastTs, deleted, lchk };
}

/** index.db of servers from 2.10 on: the stream's state and each block's first/last and deleted set. */
interface FullState {
  lastSeq: number;
  lastTs: bigint;
  blocks: Map<number, IndexIn>;
}

/**
 * Decodes index.db (magic 11, versions 1 and 2) when its trailing HighwayHash (keyed by the stream name)
 * holds; undefined otherwise, and the blocks' records alone are used, as the reference falls back to.
 */
function decodeFullState(b: Uint8Array, key: Uint8Array): FullState | undefined {
  if (b.length < 2 + CHECKSUM || b[0] !== 11 || (b[1] !== 1 && b[1] !== 2)) return undefined;
  const body = b.subarray(0, b.length - CHECKSUM);
  const sum = hh64(key, body);
  if (!sum.every((x, i) => x === b[body.length + i])) return undefined;
  const version = b[1];
  const r = new VarReader(body, 2);
  const bad = () => undefined;
  r.seq(); // msgs
  r.seq(); // bytes
  r.seq(); // first seq
  const baseTs = r.ts();
  const lastSeq = r.seq();
  const lastTs = r.ts();
  const nsubj = r.seq();
  if (baseTs === undefined || lastSeq === undefined || lastTs === undefined || nsubj === undefined) {
    return bad();
  }
  for (let k = 0; k < nsubj; k++) {
    const l = r.seq();
    if (l === undefined) return bad();
    r.i += l;
    const total = r.seq();
    r.seq(); // first block
    if (total === undefined) return bad();
    if (total > 1) r.seq(); // last block
  }
  const nb = r.seq();
  if (nb === undefined) return bad();
  const blocks = new Map<number, IndexIn>();
  for (let k = 0; k < nb; k++) {
    const index = r.seq();
    r.seq(); // bytes
    const first = r.seq();
    const fts = r.ts();
    const last = r.seq();
    const lts = r.ts();
    const ndel = r.seq();
    if (version >= 2) r.seq(); // messages with TTLs
    if (
      index === undefined || first === undefined || fts === undefined || last === undefined ||
      lts === undefined || ndel === undefined || r.i > body.length
    ) {
      return bad();
    }
    const deleted = new Set<number>();
    if (ndel > 0) {
      const used = decodeSeqSet(body.subarray(r.i), deleted);
      if (used < 0) return bad();
      r.i += used;
    }
    const msgs = last >= first ? last - first + 1 - deleted.size : 0;
    blocks.set(index, {
      msgs,
      first,
      firstTs: fts + baseTs,
      last,
      lastTs: lts + baseTs,
      deleted,
      lchk: new Uint8Array(CHECKSUM),
    });
  }
  return { lastSeq, lastTs, blocks };
}

/** Decodes an AVL sequence set (magic 22; v1 with 64 buckets a node, v2 with 32); bytes used, or -1. */
function decodeSeqSet(b: Uint8Array, into: Set<number>): number {
  if (b.length < 10 || b[0] !== MAGIC || (b[1] !== 1 && b[1] !== 2)) return -1;
  const buckets = b[1] === 1 ? 64 : 32;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const nodes = dv.getUint32(2, true);
  let i = 10;
  if (nodes > (b.length - 10) / ((buckets + 1) * 8 + 2)) return -1;
  for (let k = 0; k < nodes; k++) {
    const base = Number(dv.getBigUint64(i, true));
    i += 8;
    for (let nb = 0; nb < buckets; nb++) {
      const lo = dv.getUint32(i, true);
      const hi = dv.getUint32(i + 4, true);
      i += 8;
      for (let bit = 0; bit < 32; bit++) {
        if (lo & (1 << bit)) into.add(base + nb * 64 + bit);
        if (hi & (1 << bit)) into.add(base + nb * 64 + 32 + bit);
      }
    }
    i += 2; // height
  }
  return i;
}

/** Undoes a block's 'cmp' compression prefix (servers from 2.10 on); other bytes are returned as they are. */
function plainBlock(b: Uint8Array): Uint8Array {
  if (b.length < 4 || b[0] !== 0x63 || b[1] !== 0x6d || b[2] !== 0x70) return b;
  let i = 4;
  while (i < b.length && b[i] & 0x80) i++;
  i++;
  try {
    return s2FrameDecode(b.subarray(i));
  } catch {
    // The block checksum trails the compressed body in some versions.
    return s2FrameDecode(b.subarray(i, b.length - CHECKSUM));
  }
}

/** A subject from record bytes: ASCII without a decoder call. */
function subjectString(b: Uint8Array): string {
  for (let i = 0; i < b.length; i++) if (b[i] >= 0x80) return decoder.decode(b);
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

/** Reads the records of one block; a record that fails its checksum or is cut short throws. */
function* readBlock(
  name: string,
  n: number,
  raw: Uint8Array,
  idxRaw: Uint8Array | undefined,
  full: IndexIn | undefined,
): Generator<void, BlockIn, void> {
  const b = plainBlock(raw);
  const key = sha256Key(`${name}-${n}`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let idx = idxRaw !== undefined ? decodeIndex(idxRaw) : undefined;
  // Later servers keep the per-block state in index.db instead (checked as a whole).
  if (idx === undefined && full !== undefined) {
    const tail = b.length >= CHECKSUM ? b.subarray(b.length - CHECKSUM) : new Uint8Array(CHECKSUM);
    idx = { ...full, lchk: tail };
  }
  // An index left stale by an in-place erase still knows the time of the last sequence (erased records lose it).
  const staleIdx = idx;
  // The index is trusted only when its last checksum matches the block's, as the reference checks.
  if (idx !== undefined && b.length >= CHECKSUM) {
    const tail = b.subarray(b.length - CHECKSUM);
    if (!tail.every((x, i) => x === idx!.lchk[i])) idx = undefined;
  } else if (idx !== undefined && !(b.length === 0 && idx.msgs === 0)) {
    idx = undefined;
  }
  const tombs = new Set<number>();
  const msgs: ArchiveMsg[] = [];
  let last = 0;
  let lastTs = 0n;
  for (let o = 0; o < b.length;) {
    if (o + REC_HDR > b.length) throw new Error(`message block [${n}]: truncated record`);
    const lw = dv.getUint32(o, true);
    const hasHdr = (lw & HBIT) !== 0;
    const rl = lw & 0x7fffffff;
    const slen = dv.getUint16(o + 20, true);
    const dlen = rl - REC_HDR;
    if (dlen < CHECKSUM || slen > dlen - CHECKSUM || rl >= REC_BAD || o + rl > b.length) {
      throw new Error(`message block [${n}]: bad record length`);
    }
    const hi = dv.getUint32(o + 8, true);
    const lo = dv.getUint32(o + 4, true);
    const seq = (hi & 0x3fffffff) * 0x100000000 + lo;
    const ts = dv.getBigInt64(o + 12, true);
    const erased = (hi & 0x80000000) !== 0;
    const tomb = (hi & 0x40000000) !== 0;
    if (seq > last) {
      last = seq;
      lastTs = ts;
    }
    if (erased || seq === 0) {
      if (tomb && !erased) tombs.add(seq);
      o += rl;
      continue;
    }
    if (tomb) {
      tombs.add(seq);
      o += rl;
      continue;
    }
    const data = b.subarray(o + REC_HDR, o + rl);
    let hdr: Uint8Array | undefined;
    let body: Uint8Array;
    if (hasHdr) {
      if (slen + 4 > dlen - CHECKSUM) throw new Error(`message block [${n}]: bad record length`);
      const hl = dv.getUint32(o + REC_HDR + slen, true);
      if (slen + 4 + hl > dlen - CHECKSUM) throw new Error(`message block [${n}]: bad record length`);
      hdr = data.slice(slen + 4, slen + 4 + hl);
      body = data.slice(slen + 4 + hl, dlen - CHECKSUM);
    } else {
      body = data.slice(slen, dlen - CHECKSUM);
    }
    const hn = 16 + dlen - CHECKSUM - (hasHdr ? 4 : 0);
    if (scratch.length < hn) scratch = new Uint8Array(Math.max(hn, scratch.length * 2));
    scratch.set(b.subarray(o + 4, o + 20), 0);
    scratch.set(data.subarray(0, slen), 16);
    scratch.set(data.subarray(hasHdr ? slen + 4 : slen, dlen - CHECKSUM), 16 + slen);
    const sum = hh64(key, scratch.subarray(0, hn));
    for (let i = 0; i < CHECKSUM; i++) {
      if (sum[i] !== data[dlen - CHECKSUM + i]) {
        throw new Error(`message block [${n}]: checksum mismatch for sequence ${seq}`);
      }
    }
    msgs.push({ seq, ts, subject: subjectString(data.subarray(0, slen)), hdr, msg: body });
    o += rl;
    if (msgs.length % YIELD_EVERY === 0) yield;
  }
  const live = msgs.filter((m) => !tombs.has(m.seq) && !(idx?.deleted.has(m.seq) ?? false));
  if (idx !== undefined) {
    const msgs = live.filter((m) => m.seq >= idx!.first);
    return { first: idx.first, last: idx.last, lastTs: idx.lastTs, msgs, tombs };
  }
  const first = live.length > 0 ? live[0].seq : last + 1;
  if (lastTs === 0n && staleIdx !== undefined && staleIdx.last === last) lastTs = staleIdx.lastTs;
  return { first, last, lastTs, msgs: live, tombs };
}

/** The value of a JSON object key, matched without case as Go's decoder does. */
function field(o: Record<string, unknown>, name: string): unknown {
  if (name in o) return o[name];
  const l = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === l) return o[k];
  return undefined;
}

/** Parses a JSON object as Go decodes it into `goType`; throws Error with encoding/json's texts. */
export function parseGoJson(b: Uint8Array, goType: string): Record<string, unknown> {
  const s = decoder.decode(b);
  const syntax = goJsonSyntaxError(s);
  if (syntax !== undefined) throw new Error(syntax);
  const v: unknown = JSON.parse(s);
  if (v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) {
    const t = Array.isArray(v) ? "array" : typeof v === "boolean" ? "bool" : typeof v;
    throw new Error(`json: cannot unmarshal ${t} into Go value of type ${goType}`);
  }
  return v as Record<string, unknown>;
}

/** Where the reference would have unpacked an archive (its file errors name these paths), and for whom. */
export interface ArchivePaths {
  account: string;
  /** The staging directory the archive is unpacked into. */
  stage: string;
  /** The stream's directory (consumer files are read from there). */
  stream: string;
}

/**
 * Decodes a snapshot archive. Throws Error with the text the reference reports for the layers it checks
 * (framing, tar, meta.inf JSON), and a descriptive one for damaged blocks or consumers.
 */
export function readArchive(
  framed: Uint8Array,
  paths: ArchivePaths = { account: "$G", stage: ".", stream: "." },
): StreamArchive {
  const steps = readArchiveSteps(framed, paths);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** readArchive as a generator that yields now and then, so a caller can spread the work out. */
export function* readArchiveSteps(
  framed: Uint8Array,
  paths: ArchivePaths,
): Generator<void, StreamArchive, void> {
  const fr = new S2FrameReader(framed);
  const plain: Uint8Array[] = [];
  let plainLen = 0;
  for (let d = fr.next(), k = 1; d !== undefined; d = fr.next(), k++) {
    plain.push(d);
    plainLen += d.length;
    if (k % 16 === 0) yield;
  }
  const files = new Map<string, Uint8Array>();
  const unexpected = () => new Error(`unexpected content (account=${paths.account})`);
  for (const e of readTar(concat(plain, plainLen))) {
    if (e.type !== "0") throw unexpected();
    // Names are taken relative to the staging directory; one that climbs out of it is refused.
    const name = posix.normalize(`/${e.name}`).slice(1);
    if (name === "" || posix.normalize(e.name).startsWith("../")) throw unexpected();
    files.set(name, e.data);
  }
  const metaRaw = files.get("meta.inf");
  if (metaRaw === undefined) throw new Error(`open ${paths.stage}/meta.inf: no such file or directory`);
  const meta = parseGoJson(metaRaw, "server.FileStreamInfo");
  const created = parseGoTime(field(meta, "created"));
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) if (k.toLowerCase() !== "created") config[k] = v;
  const nameV = field(meta, "name");
  const name = typeof nameV === "string" ? nameV : "";

  const blockIdx: number[] = [];
  for (const f of files.keys()) {
    const m = /^msgs\/(\d+)\.blk$/.exec(f);
    if (m !== null) blockIdx.push(Number(m[1]));
  }
  blockIdx.sort((a, b) => a - b);
  let firstSeq = 0;
  let lastSeq = 0;
  let lastTs = 0n;
  const all: ArchiveMsg[] = [];
  const tombs = new Set<number>();
  const fullRaw = files.get("msgs/index.db");
  const full = fullRaw !== undefined ? decodeFullState(fullRaw, sha256Key(name)) : undefined;
  for (const n of blockIdx) {
    const raw = files.get(`msgs/${n}.blk`)!;
    const blk = yield* readBlock(name, n, raw, files.get(`msgs/${n}.idx`), full?.blocks.get(n));
    for (const t of blk.tombs) tombs.add(t);
    if (blk.first > 0 && (firstSeq === 0 || blk.first < firstSeq)) firstSeq = blk.first;
    if (blk.last > lastSeq) {
      lastSeq = blk.last;
      lastTs = blk.lastTs;
    }
    for (const m of blk.msgs) all.push(m);
  }
  all.sort((a, b) => a.seq - b.seq);
  const msgs = all.filter((m, i) => (i === 0 || all[i - 1].seq !== m.seq) && !tombs.has(m.seq));
  // The stream's own state, when index.db has it, knows a last sequence past the blocks (after a purge).
  if (full !== undefined && full.lastSeq > lastSeq) {
    lastSeq = full.lastSeq;
    lastTs = full.lastTs;
  }
  if (msgs.length > 0 && msgs[0].seq < firstSeq) firstSeq = msgs[0].seq;
  if (msgs.length === 0 && firstSeq === 0) firstSeq = lastSeq + 1;

  const consumers: ArchiveConsumer[] = [];
  const cnames = new Set<string>();
  for (const f of files.keys()) {
    const m = /^obs\/([^/]+)\//.exec(f);
    if (m !== null) cnames.add(m[1]);
  }
  for (const cname of [...cnames].sort()) {
    const fail = (why: string) => new Error(`error restoring consumer [${JSON.stringify(cname)}]: ${why}`);
    const cm = files.get(`obs/${cname}/meta.inf`);
    const odir = `${paths.stream}/obs/${cname}`;
    if (cm === undefined) throw fail(`stat ${odir}/meta.inf: no such file or directory`);
    if (!files.has(`obs/${cname}/meta.sum`)) throw fail(`stat ${odir}/meta.sum: no such file or directory`);
    let cmeta: Record<string, unknown>;
    try {
      cmeta = parseGoJson(cm, "server.FileConsumerInfo");
    } catch (e) {
      throw fail((e as Error).message);
    }
    const ccfg: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(cmeta)) if (k !== "Created" && k !== "Name") ccfg[k] = v;
    const od = files.get(`obs/${cname}/o.dat`);
    let state: ConsumerState | undefined;
    if (od !== undefined && od.length > 0) {
      try {
        state = decodeConsumerState(od);
      } catch (e) {
        throw fail((e as Error).message);
      }
    }
    consumers.push({ name: cname, config: ccfg, created: parseGoTime(cmeta.Created), state });
  }
  return { config, name, created, firstSeq, lastSeq, lastTs, msgs, consumers };
}
