// Byte helpers shared by every layer: one encoder/decoder, ASCII constants, integer parsing.

/** The one TextEncoder of the process. */
export const encoder: TextEncoder = new TextEncoder();
/** The one TextDecoder of the process. */
export const decoder: TextDecoder = new TextDecoder();

export const CR = 0x0d;
export const LF = 0x0a;
export const SPACE = 0x20;
export const TAB = 0x09;

/** CRLF as bytes. */
export const CRLF: Uint8Array = encoder.encode("\r\n");

/** Parses ASCII decimal digits; -1 when empty, longer than 9 digits, or not a digit. */
export function parseSize(b: Uint8Array, start = 0, end = b.length): number {
  const len = end - start;
  if (len <= 0 || len > 9) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Decodes subject bytes to a string. TextDecoder gives a flat string, whose first hash (a Map key) is far
 * cheaper than that of a string built with `+=` (measured 220 vs 480 ns per decode-and-lookup).
 */
export function asciiString(b: Uint8Array, start = 0, end = b.length): string {
  return decoder.decode(b.subarray(start, end));
}

/** Byte-wise equality of a view against another. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Writes a non-negative integer's decimal digits at `off` (as String(v), without the string); returns the end. */
export function putDecimal(out: Uint8Array, off: number, v: number): number {
  if (v < 10) {
    out[off] = 0x30 + v;
    return off + 1;
  }
  if (v < 0x80000000) {
    // Small integer arithmetic, and the length from comparisons instead of a division loop.
    const end = off + smallDigits(v);
    let x = v | 0;
    let i = end - 1;
    while (x >= 10) {
      const q = (x / 10) | 0;
      out[i--] = 0x30 + (x - q * 10);
      x = q;
    }
    out[i] = 0x30 + x;
    return end;
  }
  let digits = 10;
  for (let t = Math.floor(v / 1e10); t > 0; t = Math.floor(t / 10)) digits++;
  for (let i = off + digits - 1; i >= off; i--) {
    const q = Math.floor(v / 10);
    out[i] = 0x30 + (v - q * 10);
    v = q;
  }
  return off + digits;
}

/** Decimal digits of 10 <= v < 2^31, by comparisons. */
function smallDigits(v: number): number {
  if (v < 10000) return v < 100 ? 2 : v < 1000 ? 3 : 4;
  if (v < 10000000) return v < 100000 ? 5 : v < 1000000 ? 6 : 7;
  return v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
}

const BILLION = 1_000_000_000n;

/**
 * Writes bigints' decimal digits (as String(v)) without a string per value, for runs of nearby values such as
 * ns timestamps: the digits above the last nine are kept from the previous value, so a value within the same
 * 1e9 span costs one subtraction. Negative values take the String path.
 */
export class BigDecimalWriter {
  /** The cached high part times 1e9 (0n: the digits of values below 1e9 are not padded). */
  #base = 0n;
  #hi: Uint8Array = new Uint8Array(0);

  /** Writes `v` at `off` in `out` (room for its digits needed); returns the end. */
  put(out: Uint8Array, off: number, v: bigint): number {
    let lo = Number(v - this.#base);
    if (!(lo >= 0 && lo < 1e9)) {
      if (v < 0n) {
        const s = v.toString();
        for (let i = 0; i < s.length; i++) out[off++] = s.charCodeAt(i);
        return off;
      }
      const hi = v / BILLION;
      this.#base = hi * BILLION;
      this.#hi = hi === 0n ? new Uint8Array(0) : encoder.encode(hi.toString());
      lo = Number(v - this.#base);
    }
    const h = this.#hi;
    if (h.length === 0) return putDecimal(out, off, lo);
    for (let i = 0; i < h.length; i++) out[off + i] = h[i];
    off += h.length;
    let x = lo | 0;
    for (let i = off + 8; i >= off; i--) {
      const q = (x / 10) | 0;
      out[i] = 0x30 + (x - q * 10);
      x = q;
    }
    return off + 9;
  }
}
