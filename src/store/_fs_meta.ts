// FileStore metadata files: meta.inf (JSON; AEAD-sealed when encrypted), meta.sum (hex HighwayHash-64 of
// meta.inf's bytes, keyed by sha256 of the stream name), and durable whole-file writes (tmp, fdatasync,
// rename, directory fsync).

import * as fs from "node:fs";
import { dirname, join } from "node:path";
import { hh64, open, type StreamKeys } from "./_fs_crypto.ts";
import { StoreError } from "./store.ts";

/** Go's texts for the errno values whose libuv text differs. */
const GO_ERRNO_TEXT: Record<string, string> = { EIO: "input/output error" };

/**
 * A StoreError "io" for a failed file operation. With `op` and `path` (by default the failed call and file
 * of a node:fs error) the text reads as Go's os.PathError ("write /dir/msgs/1.blk: no space left on
 * device"), which the reference sends to publishers in its JSStreamStoreFailedF reply; otherwise it names
 * what was being done.
 */
export function ioError(what: string, cause: unknown, op?: string, path?: string): StoreError {
  const e = cause as { code?: string; message?: string } | undefined;
  // node:fs errors read "ENOSPC: no space left on device, write"; Deno's own "No space left on device (os
  // error 28)". Go's syscall texts are the C library's, lower-cased.
  const msg = typeof e?.message === "string" ? e.message : "";
  const m = /^E[A-Z]+: ([^,]+)/.exec(msg) ?? /^([A-Za-z][^(]*?) \(os error \d+\)$/.exec(msg);
  op ??= (cause as { syscall?: string })?.syscall;
  path ??= (cause as { path?: string })?.path;
  if (op !== undefined && path !== undefined && m !== null) {
    const text = GO_ERRNO_TEXT[e!.code ?? ""] ?? m[1].charAt(0).toLowerCase() + m[1].slice(1);
    return new StoreError("io", `${op} ${path}: ${text}`, { cause });
  }
  return new StoreError("io", `${what}: ${e?.message ?? cause}`, { cause });
}

/** Writes `data` to `path` durably: a temp file, fdatasync, rename, then fsync of the directory. */
export function writeFileDurable(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp`;
  try {
    const fd = fs.openSync(tmp, "w", 0o600);
    try {
      let off = 0;
      while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off, off);
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
    syncDir(dirname(path));
  } catch (err) {
    throw ioError(`writing ${path}`, err);
  }
}

/** fsyncs a directory (a new or renamed entry in it becomes durable). */
export function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the data files themselves are synced.
  }
}

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** Writes meta.inf and meta.sum. */
export function writeMetaBytes(dir: string, data: Uint8Array, hkey: Uint8Array): void {
  writeFileDurable(join(dir, "meta.inf"), data);
  writeFileDurable(join(dir, "meta.sum"), new TextEncoder().encode(hex(hh64(hkey, data))));
}

/** meta.inf as read: its JSON, and whether it must be written again sealed under the store's key. */
export interface MetaRead {
  value: unknown;
  reseal: boolean;
  /** It was plain JSON in an encrypted store. */
  plain?: boolean;
}

/**
 * Reads meta.inf (checked against meta.sum when present, opened with the stream key when encrypted);
 * undefined when there is none. Throws StoreError "corrupt" on a mismatch.
 *
 * With `keys`, a meta.inf that does not open under them is still read, and marked for `reseal`, when it
 * opens under one of `older` (a consumer's files sealed with its stream's key by natsdeno's earlier layout)
 * or is plain JSON matching meta.sum (a store converted to encryption whose conversion was cut short). A
 * meta.inf that opens under `keys` is taken even when meta.sum differs (the AEAD authenticates it; a
 * rewrite cut between meta.inf and meta.sum leaves that), and meta.sum is rewritten with it.
 */
export function readMeta(
  dir: string,
  keys: StreamKeys | undefined,
  hkey: Uint8Array,
  older: StreamKeys[] = [],
): MetaRead | undefined {
  const path = join(dir, "meta.inf");
  if (!fs.existsSync(path)) return undefined;
  const data: Uint8Array = fs.readFileSync(path);
  const sumPath = join(dir, "meta.sum");
  let sumOk = true;
  if (fs.existsSync(sumPath)) {
    const want = new TextDecoder().decode(fs.readFileSync(sumPath)).trim();
    sumOk = want === hex(hh64(hkey, data));
  }
  const mismatch = () => new StoreError("corrupt", `checksum mismatch in ${path}`);
  if (keys === undefined) {
    if (!sumOk) throw mismatch();
    return { value: parseMeta(path, data), reseal: false };
  }
  const p = open(keys.cipher, keys.aek, data);
  if (p !== undefined) return { value: parseMeta(path, p), reseal: !sumOk };
  for (const k of older) {
    const q = open(k.cipher, k.aek, data);
    if (q !== undefined) return { value: parseMeta(path, q), reseal: true };
  }
  if (!sumOk) throw mismatch();
  // Sealed bytes start with a random nonce: they never parse as JSON.
  try {
    return { value: JSON.parse(new TextDecoder().decode(data)), reseal: true, plain: true };
  } catch {
    throw new StoreError("corrupt", `cannot decrypt ${path}`);
  }
}

/** readMeta's JSON alone. */
export function readMetaFile(dir: string, keys: StreamKeys | undefined, hkey: Uint8Array): unknown {
  return readMeta(dir, keys, hkey)?.value;
}

function parseMeta(path: string, data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    throw new StoreError("corrupt", `bad JSON in ${path}`, { cause: err });
  }
}
