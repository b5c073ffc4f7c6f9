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

/** Decodes ASCII bytes to a string, with a fast path for short runs; falls back to UTF-8. */
export function asciiString(b: Uint8Array, start = 0, end = b.length): string {
  const len = end - start;
  if (len > 64) return decoder.decode(b.subarray(start, end));
  let s = "";
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c > 0x7f) return decoder.decode(b.subarray(start, end));
    s += String.fromCharCode(c);
  }
  return s;
}

/** Byte-wise equality of a view against another. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
