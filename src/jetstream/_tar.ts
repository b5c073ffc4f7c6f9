// A small tar (ustar) writer and reader for stream snapshots, the archive layout nats-server's snapshots
// use (Go's archive/tar: 512-byte headers, PAX extended headers for long names and sub-second times).
// The writer emits plain ustar regular files; the reader also follows PAX ('x'/'g') and GNU long-name ('L')
// headers. Reader errors carry Go's texts, since a restore reports them.

import { decoder, encoder } from "../util/mod.ts";

/** One file of an archive. */
export interface TarEntry {
  name: string;
  /** The header's type flag: "0" (or "\0") for a regular file. */
  type: string;
  data: Uint8Array;
}

export const TAR_ERR_HEADER = "archive/tar: invalid tar header";
export const TAR_ERR_EOF = "unexpected EOF";

const BLOCK = 512;

function putOctal(h: Uint8Array, off: number, len: number, n: number): void {
  const s = n.toString(8).padStart(len - 1, "0");
  h.set(encoder.encode(s), off);
  h[off + len - 1] = 0;
}

function putStr(h: Uint8Array, off: number, len: number, s: string): void {
  const b = encoder.encode(s);
  h.set(b.subarray(0, len), off);
}

/**
 * Writes regular files into a tar archive (ustar, mode 0600, owner nats): into `sink` as it goes when one
 * is given, otherwise collected for finish() to return.
 */
export class TarWriter {
  #parts: Uint8Array[] = [];
  #len = 0;
  #mtime: number;
  #sink: ((b: Uint8Array) => void) | undefined;

  constructor(sink?: (b: Uint8Array) => void, mtimeSec = Math.floor(Date.now() / 1000)) {
    this.#sink = sink;
    this.#mtime = mtimeSec;
  }

  /** Adds a regular file; names longer than 100 bytes go through a ustar prefix split. */
  add(name: string, data: Uint8Array): void {
    const h = new Uint8Array(BLOCK);
    let base = name;
    let prefix = "";
    if (encoder.encode(name).length > 100) {
      const i = name.lastIndexOf("/", 155);
      if (i <= 0 || encoder.encode(name.slice(i + 1)).length > 100) {
        throw new RangeError(`tar: name too long: ${name}`);
      }
      prefix = name.slice(0, i);
      base = name.slice(i + 1);
    }
    putStr(h, 0, 100, base);
    putOctal(h, 100, 8, 0o600);
    putOctal(h, 108, 8, 0);
    putOctal(h, 116, 8, 0);
    putOctal(h, 124, 12, data.length);
    putOctal(h, 136, 12, this.#mtime);
    h.fill(0x20, 148, 156);
    h[156] = 0x30; // regular file
    putStr(h, 257, 8, "ustar\u000000");
    putStr(h, 265, 32, "nats");
    putStr(h, 297, 32, "nats");
    putStr(h, 345, 155, prefix);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += h[i];
    putOctal(h, 148, 7, sum);
    h[155] = 0x20;
    this.#push(h);
    this.#push(data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad > 0) this.#push(new Uint8Array(pad));
  }

  #push(b: Uint8Array): void {
    if (this.#sink !== undefined) return this.#sink(b);
    this.#parts.push(b);
    this.#len += b.length;
  }

  /** Closes the archive with two zero blocks; returns it (empty when written to a sink). */
  finish(): Uint8Array {
    this.#push(new Uint8Array(2 * BLOCK));
    const out = new Uint8Array(this.#len);
    let o = 0;
    for (const p of this.#parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

function cstr(b: Uint8Array): string {
  const z = b.indexOf(0);
  return decoder.decode(z < 0 ? b : b.subarray(0, z));
}

function octal(b: Uint8Array): number {
  // GNU base-256 for large sizes: high bit of the first byte.
  if (b[0] & 0x80) {
    let n = b[0] & 0x7f;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i];
    return n;
  }
  const s = cstr(b).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(TAR_ERR_HEADER);
  return parseInt(s, 8);
}

function paxRecords(b: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const s = decoder.decode(b);
  let i = 0;
  while (i < s.length) {
    const sp = s.indexOf(" ", i);
    if (sp < 0) throw new Error(TAR_ERR_HEADER);
    const n = parseInt(s.slice(i, sp), 10);
    if (!(n > 0) || i + n > s.length) throw new Error(TAR_ERR_HEADER);
    const rec = s.slice(sp + 1, i + n - 1);
    const eq = rec.indexOf("=");
    if (eq < 0) throw new Error(TAR_ERR_HEADER);
    out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += n;
  }
  return out;
}

/**
 * Reads the entries of a tar archive. An archive that ends on a header boundary without its closing zero
 * blocks ends there (as Go's reader does); one cut inside a header or a file throws "unexpected EOF".
 */
export function readTar(b: Uint8Array): TarEntry[] {
  const out: TarEntry[] = [];
  let o = 0;
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  while (o < b.length) {
    if (o + BLOCK > b.length) throw new Error(TAR_ERR_EOF);
    const h = b.subarray(o, o + BLOCK);
    o += BLOCK;
    if (h.every((x) => x === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    if (octal(h.subarray(148, 156)) !== sum) throw new Error(TAR_ERR_HEADER);
    const type = String.fromCharCode(h[156]);
    let size = octal(h.subarray(124, 136));
    let name = cstr(h.subarray(0, 100));
    const magic = cstr(h.subarray(257, 263));
    if (magic === "ustar") {
      const prefix = cstr(h.subarray(345, 500));
      if (prefix !== "") name = `${prefix}/${name}`;
    }
    if (pax?.has("size")) size = Number(pax.get("size"));
    if (o + size > b.length) throw new Error(TAR_ERR_EOF);
    const data = b.subarray(o, o + size);
    o += size + ((BLOCK - (size % BLOCK)) % BLOCK);
    if (type === "x") {
      pax = paxRecords(data);
      continue;
    }
    if (type === "g") continue;
    if (type === "L") {
      longName = cstr(data);
      continue;
    }
    if (longName !== undefined) name = longName;
    if (pax?.has("path")) name = pax.get("path")!;
    pax = undefined;
    longName = undefined;
    out.push({ name, type: type === "\0" ? "0" : type, data });
  }
  return out;
}
