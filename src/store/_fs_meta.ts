// FileStore metadata files: meta.inf (JSON; AEAD-sealed when encrypted), meta.sum (hex HighwayHash-64 of
// meta.inf's bytes, keyed by sha256 of the stream name), and durable whole-file writes (tmp, fdatasync,
// rename, directory fsync).

import * as fs from "node:fs";
import { dirname, join } from "node:path";
import { hh64, open, type StreamKeys } from "./_fs_crypto.ts";
import { StoreError } from "./store.ts";

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
    throw new StoreError("io", `writing ${path}: ${(err as Error).message}`, { cause: err });
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

/**
 * Reads meta.inf (checked against meta.sum when present, opened with the stream key when encrypted);
 * undefined when there is none. Throws StoreError "corrupt" on a mismatch.
 */
export function readMetaFile(dir: string, keys: StreamKeys | undefined, hkey: Uint8Array): unknown {
  const path = join(dir, "meta.inf");
  if (!fs.existsSync(path)) return undefined;
  let data: Uint8Array = fs.readFileSync(path);
  const sumPath = join(dir, "meta.sum");
  if (fs.existsSync(sumPath)) {
    const want = new TextDecoder().decode(fs.readFileSync(sumPath)).trim();
    if (want !== hex(hh64(hkey, data))) throw new StoreError("corrupt", `checksum mismatch in ${path}`);
  }
  if (keys !== undefined) {
    const p = open(keys.cipher, keys.aek, data);
    if (p === undefined) throw new StoreError("corrupt", `cannot decrypt ${path}`);
    data = p;
  }
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    throw new StoreError("corrupt", `bad JSON in ${path}`, { cause: err });
  }
}
