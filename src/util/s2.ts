// The framing format shared by snappy and S2 streams (stream identifier chunk, then compressed or
// uncompressed chunks each carrying a masked CRC-32C of its plain bytes), with a block decoder for S2's
// superset of snappy blocks (repeat-offset copies). Behaviour follows github.com/klauspost/compress/s2 as
// nats-server uses it for stream snapshots: readers accept both the "sNaPpY" and "S2sTwO" identifiers.
// Writing uses the snappy identifier and snappy blocks (snappyjs), which every S2 reader also reads.

import SnappyJS from "snappyjs";

/** The error texts of the Go s2 package (a restore reports them verbatim). */
export const S2_ERR_CORRUPT = "s2: corrupt input";
export const S2_ERR_CRC = "s2: corrupt input, crc mismatch";
export const S2_ERR_UNSUPPORTED = "s2: unsupported input";

const ID_SNAPPY = [0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]; // sNaPpY
const ID_S2 = [0x53, 0x32, 0x73, 0x54, 0x77, 0x4f]; // S2sTwO
const SNAPPY_MAX_BLOCK = 1 << 16;
const S2_MAX_BLOCK = 4 << 20;

// CRC-32C tables for slicing by 8 (eight bytes per step).
const CRC32C = (() => {
  const t = new Uint32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
    }
  }
  return t;
})();

/** The masked CRC-32C (Castagnoli) a framed chunk carries. */
export function maskedCrc32c(b: Uint8Array): number {
  const t = CRC32C;
  let c = 0xffffffff;
  let i = 0;
  for (const end = b.length - 8; i <= end; i += 8) {
    const lo = (c ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24))) >>> 0;
    c = t[1792 + (lo & 0xff)] ^ t[1536 + ((lo >>> 8) & 0xff)] ^ t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^ t[768 + b[i + 4]] ^ t[512 + b[i + 5]] ^ t[256 + b[i + 6]] ^ t[b[i + 7]];
  }
  for (; i < b.length; i++) c = t[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  c = (c ^ 0xffffffff) >>> 0;
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/**
 * Writes a snappy-framed stream piece by piece: plain bytes are cut into 64 KiB chunks, each compressed
 * (or stored when compression does not help) with its masked CRC; take() hands over what is framed so far.
 */
export class S2FrameWriter {
  #buf = new Uint8Array(SNAPPY_MAX_BLOCK);
  #len = 0;
  #out: Uint8Array[] = [new Uint8Array([0xff, 0x06, 0x00, 0x00, ...ID_SNAPPY])];
  #outLen = 10;

  /** Appends plain bytes. */
  write(b: Uint8Array): void {
    let o = 0;
    while (o < b.length) {
      if (this.#len === 0 && b.length - o >= SNAPPY_MAX_BLOCK) {
        this.#chunk(b.subarray(o, o + SNAPPY_MAX_BLOCK));
        o += SNAPPY_MAX_BLOCK;
        continue;
      }
      const n = Math.min(SNAPPY_MAX_BLOCK - this.#len, b.length - o);
      this.#buf.set(b.subarray(o, o + n), this.#len);
      this.#len += n;
      o += n;
      if (this.#len === SNAPPY_MAX_BLOCK) {
        this.#chunk(this.#buf);
        this.#len = 0;
      }
    }
  }

  /** Frames the bytes still buffered (the end of the stream). */
  flush(): void {
    if (this.#len > 0) this.#chunk(this.#buf.subarray(0, this.#len));
    this.#len = 0;
  }

  /** Framed bytes produced since the last take() (may be empty). */
  take(): Uint8Array {
    const out = this.#outLen === 0 ? new Uint8Array(0) : concatParts(this.#out, this.#outLen);
    this.#out = [];
    this.#outLen = 0;
    return out;
  }

  #chunk(chunk: Uint8Array): void {
    const comp = SnappyJS.compress(chunk) as Uint8Array;
    const useComp = comp.length < chunk.length - chunk.length / 8;
    const body = useComp ? comp : chunk.slice();
    const h = new Uint8Array(8);
    const len = body.length + 4;
    h[0] = useComp ? 0x00 : 0x01;
    h[1] = len & 0xff;
    h[2] = (len >> 8) & 0xff;
    h[3] = (len >> 16) & 0xff;
    new DataView(h.buffer).setUint32(4, maskedCrc32c(chunk), true);
    this.#out.push(h, body);
    this.#outLen += h.length + body.length;
  }
}

function concatParts(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Compresses `plain` into a snappy-framed stream (64 KiB chunks, stored when compression does not help). */
export function s2FrameEncode(plain: Uint8Array): Uint8Array {
  const w = new S2FrameWriter();
  w.write(plain);
  w.flush();
  return w.take();
}

/** Reads a snappy- or S2-framed stream one chunk at a time (so a caller can spread the work out). */
export class S2FrameReader {
  #b: Uint8Array;
  #i = 0;
  #maxBlock = 0; // 0 until the stream identifier is read

  constructor(b: Uint8Array) {
    this.#b = b;
  }

  /** The next chunk's plain bytes (possibly empty), or undefined at the end; throws the s2 package's errors. */
  next(): Uint8Array | undefined {
    const b = this.#b;
    const i = this.#i;
    if (i >= b.length) return undefined;
    if (i + 4 > b.length) throw new Error(S2_ERR_CORRUPT);
    const type = b[i];
    const len = b[i + 1] | (b[i + 2] << 8) | (b[i + 3] << 16);
    if (i + 4 + len > b.length) throw new Error(S2_ERR_CORRUPT);
    const body = b.subarray(i + 4, i + 4 + len);
    this.#i = i + 4 + len;
    if (this.#maxBlock === 0 && type !== 0xff) throw new Error(S2_ERR_CORRUPT);
    if (type === 0xff) {
      if (len !== 6) throw new Error(S2_ERR_CORRUPT);
      if (ID_S2.every((c, k) => body[k] === c)) this.#maxBlock = S2_MAX_BLOCK;
      else if (ID_SNAPPY.every((c, k) => body[k] === c)) this.#maxBlock = SNAPPY_MAX_BLOCK;
      else throw new Error(S2_ERR_UNSUPPORTED);
      return EMPTY;
    }
    if (type >= 0x80) return EMPTY; // padding and skippable chunks (S2 writes its index as one)
    if (type > 0x01) throw new Error(S2_ERR_UNSUPPORTED);
    if (len < 4) throw new Error(S2_ERR_CORRUPT);
    const crc = body[0] | (body[1] << 8) | (body[2] << 16) | (body[3] * 0x1000000);
    const data = type === 0x00 ? s2BlockDecode(body.subarray(4), this.#maxBlock) : body.subarray(4);
    if (data.length > this.#maxBlock) throw new Error(S2_ERR_CORRUPT);
    if (maskedCrc32c(data) !== (crc >>> 0)) throw new Error(S2_ERR_CRC);
    return data;
  }
}

const EMPTY = new Uint8Array(0);

/** Decodes a snappy- or S2-framed stream; throws Error with the Go s2 package's text on damage. */
export function s2FrameDecode(b: Uint8Array): Uint8Array {
  const r = new S2FrameReader(b);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let d = r.next(); d !== undefined; d = r.next()) {
    if (d.length === 0) continue;
    parts.push(d);
    total += d.length;
  }
  if (parts.length === 1) return parts[0].slice();
  return concatParts(parts, total);
}

/** Decodes one S2 (or snappy) block: a uvarint plain length, then literal and copy elements. */
export function s2BlockDecode(src: Uint8Array, maxLen = S2_MAX_BLOCK): Uint8Array {
  let s = 0;
  let n = 0;
  let mul = 1;
  for (;;) {
    if (s >= src.length || s > 4) throw new Error(S2_ERR_CORRUPT);
    const c = src[s++];
    n += (c & 0x7f) * mul;
    if (c < 0x80) break;
    mul *= 0x80;
  }
  if (n > maxLen) throw new Error(S2_ERR_CORRUPT);
  const dst = new Uint8Array(n);
  let d = 0;
  let offset = 0;
  const need = (k: number) => {
    if (s + k > src.length) throw new Error(S2_ERR_CORRUPT);
  };
  while (s < src.length) {
    const tag = src[s];
    let length: number;
    switch (tag & 0x03) {
      case 0: { // literal
        let x = tag >> 2;
        if (x < 60) s++;
        else {
          const k = x - 59; // 1..4 length bytes
          need(1 + k);
          x = 0;
          for (let j = k; j >= 1; j--) x = x * 256 + src[s + j];
          s += 1 + k;
        }
        length = x + 1;
        if (length > n - d || length > src.length - s) throw new Error(S2_ERR_CORRUPT);
        dst.set(src.subarray(s, s + length), d);
        d += length;
        s += length;
        continue;
      }
      case 1: { // copy with a 1-byte offset, or an S2 repeat of the last offset
        need(2);
        length = (tag >> 2) & 0x07;
        const off = ((tag & 0xe0) << 3) | src[s + 1];
        s += 2;
        if (off === 0) {
          if (length === 5) {
            need(1);
            length = src[s] + 4;
            s += 1;
          } else if (length === 6) {
            need(2);
            length = (src[s] | (src[s + 1] << 8)) + (1 << 8);
            s += 2;
          } else if (length === 7) {
            need(3);
            length = (src[s] | (src[s + 1] << 8) | (src[s + 2] << 16)) + (1 << 16);
            s += 3;
          }
        } else {
          offset = off;
        }
        length += 4;
        break;
      }
      case 2: // copy with a 2-byte offset
        need(3);
        offset = src[s + 1] | (src[s + 2] << 8);
        length = 1 + (tag >> 2);
        s += 3;
        break;
      default: // copy with a 4-byte offset
        need(5);
        offset = src[s + 1] | (src[s + 2] << 8) | (src[s + 3] << 16) | (src[s + 4] * 0x1000000);
        length = 1 + (tag >> 2);
        s += 5;
    }
    if (offset <= 0 || d < offset || length > n - d) throw new Error(S2_ERR_CORRUPT);
    if (offset >= length) {
      dst.copyWithin(d, d - offset, d - offset + length);
      d += length;
    } else {
      for (let j = 0; j < length; j++, d++) dst[d] = dst[d - offset];
    }
  }
  if (d !== n) throw new Error(S2_ERR_CORRUPT);
  return dst;
}
