// Message block records and block files of FileStore, in nats-server's record layout (inventory §8):
//   total_len(4) seq(8) ts(8) subj_len(2) subj [hdr_len(4) hdr] msg checksum(8), little endian,
// bit 31 of total_len = has headers, bit 63 of seq = erased/skipped (ebit), bit 62 = tombstone (tbit), and
// a HighwayHash-64 checksum keyed by sha256("<stream>-<block>") (over the whole record: see checksum()).
//
// natsdeno's own additions (records the reference does not write): a record with both ebit and tbit set is a
// store operation whose payload starts with an op byte (OP_*), used to journal compactions, truncations,
// skips, per-message TTLs and the last sequence. A compressed block is the reference's metadata prefix
// 'c','m','p',alg,uvarint(original size) followed by a snappy framing-format stream (which S2 readers read).
// An encrypted block file holds the records XORed with the block's keystream, whose nonce is kept in <N>.key
// beside the sealed seed, as the reference does (natsdeno's earlier layout put the nonce at the file's start).

import SnappyJS from "snappyjs";
import { hh64Equals, hh64Into } from "./_fs_crypto.ts";

export const HBIT = 0x80000000;
/** Sequence flag bits, as bits of the high 32-bit word of the sequence field. */
export const EBIT = 0x80000000;
export const TBIT = 0x40000000;
/** Record header: total_len + seq + ts + subj_len. */
export const REC_HDR = 22;
export const CHECKSUM = 8;
/** The smallest record: header and checksum. */
export const EMPTY_REC = REC_HDR + CHECKSUM;
/** A record this long or longer is corrupt (the reference's rlBadThresh). */
export const REC_BAD = 32 * 1024 * 1024;

export const OP_COMPACT = 1; // everything below seq is gone
export const OP_TRUNCATE = 2; // everything above seq is gone
export const OP_SKIP = 3; // u64 num follows: num sequences from seq reserved
export const OP_TTL = 4; // i64 ttl ns follows: message seq has a TTL (-1: never, exempt from max_age)
export const OP_LAST = 5; // the last sequence is at least seq (kept when earlier blocks are dropped)

export const RK_MSG = 0;
export const RK_TOMB = 1;
export const RK_OP = 2;
export const RK_ERASED = 3;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A growable byte buffer records are appended to. */
export class RecBuf {
  buf: Uint8Array;
  view: DataView;
  len = 0;

  constructor(size = 64 * 1024) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  #grow(need: number): void {
    if (need <= this.buf.length) return;
    const nb = new Uint8Array(Math.max(need, this.buf.length * 2));
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }

  /**
   * Appends one record; returns its length. `flags` are EBIT/TBIT; `hkey` the block's checksum key.
   */
  append(
    seq: number,
    flags: number,
    ts: bigint,
    subj: Uint8Array,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    hkey: Uint8Array,
  ): number {
    const hl = hdr !== undefined && hdr.length > 0 ? hdr.length : -1;
    const rl = REC_HDR + subj.length + (hl >= 0 ? 4 + hl : 0) + msg.length + CHECKSUM;
    this.#grow(this.len + rl);
    const v = this.view;
    const b = this.buf;
    const o = this.len;
    v.setUint32(o, hl >= 0 ? (rl | HBIT) >>> 0 : rl, true);
    setSeq(v, o + 4, seq, flags);
    v.setBigInt64(o + 12, ts, true);
    v.setUint16(o + 20, subj.length, true);
    let p = o + 22;
    b.set(subj, p);
    p += subj.length;
    if (hl >= 0) {
      v.setUint32(p, hl, true);
      b.set(hdr!, p + 4);
      p += 4 + hl;
    }
    b.set(msg, p);
    p += msg.length;
    hh64Into(hkey, b.subarray(o, o + rl - CHECKSUM), b, p);
    this.len = o + rl;
    return rl;
  }

  reset(): void {
    this.len = 0;
    if (this.buf.length > 4 << 20) {
      this.buf = new Uint8Array(64 * 1024);
      this.view = new DataView(this.buf.buffer);
    }
  }
}

// A record's checksum is the HighwayHash-64 of the record (rl bytes at o) up to its checksum. natsdeno hashes
// the whole record, lengths included, where the reference hashes seq+ts, subject, header and payload only:
// with its scheme a flipped bit in subj_len moves bytes between subject and payload without changing the hash.
// Blocks written by nats-server carry the reference's checksum; they are accepted too, so a store directory
// of nats-server opens without its records being dropped as damaged.
function checksumOk(b: Uint8Array, o: number, rl: number, key: Uint8Array): boolean {
  return hh64Equals(key, b.subarray(o, o + rl - CHECKSUM), b, o + rl - CHECKSUM) ||
    refChecksumOk(b, o, rl, key);
}

/** The reference's record checksum: HighwayHash-64 of seq+ts, subject, header and payload. */
function refChecksumOk(b: Uint8Array, o: number, rl: number, key: Uint8Array): boolean {
  const end = o + rl - CHECKSUM;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = o + REC_HDR + v.getUint16(o + 20, true);
  if (p > end) return false;
  const parts = [b.subarray(o + 4, o + 20), b.subarray(o + REC_HDR, p)];
  if ((v.getUint32(o, true) & HBIT) !== 0) {
    if (p + 4 > end) return false;
    const hl = v.getUint32(p, true);
    if (p + 4 + hl > end) return false;
    parts.push(b.subarray(p + 4, p + 4 + hl));
    p += 4 + hl;
  }
  parts.push(b.subarray(p, end));
  const data = new Uint8Array(end - o);
  let n = 0;
  for (const x of parts) (data.set(x, n), n += x.length);
  return hh64Equals(key, data.subarray(0, n), b, end);
}

function setSeq(v: DataView, o: number, seq: number, flags: number): void {
  v.setUint32(o, seq % 0x100000000, true);
  v.setUint32(o + 4, (Math.floor(seq / 0x100000000) | flags) >>> 0, true);
}

/** Encodes a subject. */
export function subjBytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** One decoded record; views into the block's bytes. */
export interface Rec {
  kind: number;
  seq: number;
  ts: bigint;
  subj: Uint8Array;
  hdr: Uint8Array | undefined;
  msg: Uint8Array;
  off: number;
  len: number;
}

/** Why a scan stopped early. */
export interface ScanStop {
  /** Byte offset of the first record not read. */
  off: number;
  /** "torn": a partial record at the end; "corrupt": bad length; "checksum": see badSeqs. */
  reason: "torn" | "corrupt";
}

/**
 * Walks the records of a block's plain bytes, calling `fn` for each whole, checksummed record. Records
 * whose checksum does not match are reported in `bad` (offset, sequence as read) and skipped.
 */
export function scanBlock(
  data: Uint8Array,
  key: Uint8Array,
  fn: (r: Rec) => void,
  bad: (off: number, seq: number) => void,
  verify = true,
): ScanStop | undefined {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  {
    let o = 0;
    while (o < data.length) {
      if (o + EMPTY_REC > data.length) return { off: o, reason: "torn" };
      const raw = v.getUint32(o, true);
      const hasHdr = (raw & HBIT) !== 0;
      const rl = raw & 0x7fffffff;
      const sl = v.getUint16(o + 20, true);
      if (rl < EMPTY_REC || rl >= REC_BAD || REC_HDR + sl + CHECKSUM + (hasHdr ? 4 : 0) > rl) {
        return { off: o, reason: "corrupt" };
      }
      if (o + rl > data.length) return { off: o, reason: "torn" };
      let hl = -1;
      if (hasHdr) {
        hl = v.getUint32(o + 22 + sl, true);
        if (REC_HDR + sl + 4 + hl + CHECKSUM > rl) return { off: o, reason: "corrupt" };
      }
      const hi = v.getUint32(o + 8, true);
      const seq = v.getUint32(o + 4, true) + (hi & 0x3fffffff) * 0x100000000;
      if (verify && !checksumOk(data, o, rl, key)) {
        bad(o, seq);
        o += rl;
        continue;
      }
      const ebit = (hi & EBIT) !== 0;
      const tbit = (hi & TBIT) !== 0;
      const kind = ebit && tbit ? RK_OP : tbit ? RK_TOMB : ebit ? RK_ERASED : RK_MSG;
      let p = o + 22;
      const subj = data.subarray(p, p + sl);
      p += sl;
      let hdr: Uint8Array | undefined;
      if (hasHdr) {
        hdr = data.subarray(p + 4, p + 4 + hl);
        p += 4 + hl;
      }
      fn({
        kind,
        seq,
        ts: v.getBigInt64(o + 12, true),
        subj,
        hdr,
        msg: data.subarray(p, o + rl - 8),
        off: o,
        len: rl,
      });
      o += rl;
    }
    return undefined;
  }
}

/** Decodes a subject. */
export function subjString(b: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i] > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (!ascii) return decoder.decode(b);
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

// ---------------- compression: 'cmp' prefix + snappy framing format ----------------

const CMP = [0x63, 0x6d, 0x70];
/** The reference's algorithm byte for S2. */
export const ALG_S2 = 1;
const STREAM_ID = new Uint8Array([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);
const CHUNK = 65536;

const CRC32C = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli). */
export function crc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC32C[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function maskedCrc(b: Uint8Array): number {
  const c = crc32c(b);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** True when block bytes carry the compression prefix. */
export function isCompressed(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === CMP[0] && b[1] === CMP[1] && b[2] === CMP[2];
}

/** Compresses a block's plain bytes: prefix, then a snappy-framed stream. */
export function compressBlock(plain: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const pre: number[] = [...CMP, ALG_S2];
  let n = plain.length;
  while (n >= 0x80) {
    pre.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  pre.push(n);
  parts.push(new Uint8Array(pre), STREAM_ID);
  for (let o = 0; o < plain.length; o += CHUNK) {
    const chunk = plain.subarray(o, Math.min(plain.length, o + CHUNK));
    const comp = SnappyJS.compress(chunk) as Uint8Array;
    const useComp = comp.length < chunk.length;
    const body = useComp ? comp : chunk;
    const h = new Uint8Array(8);
    const len = body.length + 4;
    h[0] = useComp ? 0x00 : 0x01;
    h[1] = len & 0xff;
    h[2] = (len >> 8) & 0xff;
    h[3] = (len >> 16) & 0xff;
    new DataView(h.buffer).setUint32(4, maskedCrc(chunk), true);
    parts.push(h, body);
  }
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Decompresses a block, into a buffer from `take` when it gives one; throws on a damaged stream (CRC or
 * framing).
 */
export function decompressBlock(b: Uint8Array, take?: (n: number) => Uint8Array | undefined): Uint8Array {
  let i = 4;
  let size = 0;
  let mul = 1;
  for (;;) {
    if (i >= b.length) throw new Error("compressed block: bad size");
    const c = b[i++];
    size += (c & 0x7f) * mul;
    if (c < 0x80) break;
    mul *= 0x80;
  }
  if (size > 1 << 30) throw new Error("compressed block: bad size");
  const out = take?.(size)?.subarray(0, size) ?? new Uint8Array(size);
  let o = 0;
  while (i < b.length) {
    if (i + 4 > b.length) throw new Error("compressed block: truncated");
    const type = b[i];
    const len = b[i + 1] | (b[i + 2] << 8) | (b[i + 3] << 16);
    i += 4;
    if (i + len > b.length) throw new Error("compressed block: truncated");
    const body = b.subarray(i, i + len);
    i += len;
    if (type === 0xff || (type >= 0x80 && type <= 0xfe)) continue; // stream id, padding, skippable
    if (type !== 0x00 && type !== 0x01) throw new Error(`compressed block: chunk type ${type}`);
    const crc = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
    let n: number;
    if (type === 0x00) n = snappyDecodeInto(body.subarray(4), out, o);
    else {
      n = len - 4;
      if (o + n > size) throw new Error("compressed block: too long");
      out.set(body.subarray(4), o);
    }
    if (maskedCrc(out.subarray(o, o + n)) !== crc) throw new Error("compressed block: checksum mismatch");
    o += n;
  }
  if (o !== size) throw new Error("compressed block: truncated");
  return out;
}

/**
 * Decodes one snappy block (the body of a compressed chunk) into `out` at `at`; returns its length. Decoding
 * in place, rather than SnappyJS.uncompress, spares a 64 KiB buffer per chunk (a hundred per block load).
 */
export function snappyDecodeInto(src: Uint8Array, out: Uint8Array, at: number): number {
  let i = 0;
  let n = 0;
  for (let shift = 0;; shift += 7) {
    if (i >= src.length || shift > 28) throw new Error("compressed block: bad chunk length");
    const c = src[i++];
    n += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) break;
  }
  const end = at + n;
  if (end > out.length) throw new Error("compressed block: too long");
  let o = at;
  while (i < src.length) {
    const t = src[i++];
    const kind = t & 3;
    if (kind === 0) {
      let len = t >>> 2;
      if (len >= 60) {
        const nb = len - 59;
        if (i + nb > src.length) throw new Error("compressed block: bad literal");
        len = 0;
        for (let k = 0; k < nb; k++) len += src[i + k] * 2 ** (8 * k);
        i += nb;
      }
      len += 1;
      if (i + len > src.length || o + len > end) throw new Error("compressed block: bad literal");
      out.set(src.subarray(i, i + len), o);
      i += len;
      o += len;
      continue;
    }
    let len: number;
    let off: number;
    if (kind === 1) {
      if (i >= src.length) throw new Error("compressed block: bad copy");
      len = ((t >>> 2) & 7) + 4;
      off = ((t >>> 5) << 8) | src[i++];
    } else if (kind === 2) {
      if (i + 2 > src.length) throw new Error("compressed block: bad copy");
      len = (t >>> 2) + 1;
      off = src[i] | (src[i + 1] << 8);
      i += 2;
    } else {
      if (i + 4 > src.length) throw new Error("compressed block: bad copy");
      len = (t >>> 2) + 1;
      off = (src[i] | (src[i + 1] << 8) | (src[i + 2] << 16)) + src[i + 3] * 0x1000000;
      i += 4;
    }
    if (off === 0 || off > o - at || o + len > end) throw new Error("compressed block: bad copy");
    if (off >= len) out.copyWithin(o, o - off, o - off + len);
    else for (let k = 0; k < len; k++) out[o + k] = out[o + k - off];
    o += len;
  }
  if (o !== end) throw new Error("compressed block: bad chunk length");
  return n;
}
