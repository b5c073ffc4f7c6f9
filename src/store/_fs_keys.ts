// FileStore encryption keys on disk: the stream's meta.key (its AEK sealed under the KEK of the stream name)
// and each consumer's obs/<name>/meta.key, as nats-server lays them out (inventory §8). A wrong or missing
// key is refused before anything on disk changes.

import * as fs from "node:fs";
import { join } from "node:path";
import { hasBlocks } from "./_fs_blocks.ts";
import { writeMetaJson } from "./_fs_consumer.ts";
import { type FsEncryption, open, openStreamKey, seal, sha256Key, type StreamKeys } from "./_fs_crypto.ts";
import { readMetaFile, writeFileDurable } from "./_fs_meta.ts";
import { StoreError } from "./store.ts";

/** Opens (or creates) the stream key of the store in `dir`; undefined for an unencrypted store. */
export function openStoreKeys(
  dir: string,
  mdir: string,
  name: string,
  enc: FsEncryption | undefined,
): StreamKeys | undefined {
  const keyPath = join(dir, "meta.key");
  const hasKey = fs.existsSync(keyPath);
  if (enc === undefined) {
    if (hasKey) {
      throw new StoreError("bad_key", `stream '${name}' is encrypted and no encryption key is configured`);
    }
    return undefined;
  }
  if (!hasKey && hasBlocks(mdir)) {
    throw new StoreError("bad_key", `stream '${name}' is not encrypted but an encryption key is configured`);
  }
  const r = openStreamKey(enc, name, hasKey ? fs.readFileSync(keyPath) : undefined, keyPath);
  if (r.rewrite) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileDurable(keyPath, r.sealed);
  }
  return r.keys;
}

/** The stream key of the store in `dir` without creating one (reading meta.inf of a closed store). */
export function readStoreKeys(
  dir: string,
  name: string,
  enc: FsEncryption | undefined,
): StreamKeys | undefined {
  const keyPath = join(dir, "meta.key");
  if (!fs.existsSync(keyPath)) return undefined;
  if (enc === undefined) {
    throw new StoreError("bad_key", `stream '${name}' is encrypted and no key is configured`);
  }
  return openStreamKey(enc, name, fs.readFileSync(keyPath), keyPath).keys;
}

/**
 * An encrypted stream's consumer has its own AEK in obs/<name>/meta.key, sealed under the KEK of
 * "<stream>.<consumer>" (the reference's layout). A consumer directory written before it had one (sealed
 * with the stream's key, or plain) is re-sealed under a new key.
 */
export function consumerKeys(
  streamKeys: StreamKeys | undefined,
  enc: FsEncryption | undefined,
  stream: string,
  name: string,
  dir: string,
): StreamKeys | undefined {
  if (streamKeys === undefined || enc === undefined) return undefined;
  const keyPath = join(dir, "meta.key");
  const hasKey = fs.existsSync(keyPath);
  const r = openStreamKey(enc, `${stream}.${name}`, hasKey ? fs.readFileSync(keyPath) : undefined, keyPath);
  if (!r.rewrite) return r.keys;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!hasKey) {
    const hkey = sha256Key(`${stream}/${name}`);
    const meta = fs.existsSync(join(dir, "meta.inf")) ? readMetaFile(dir, streamKeys, hkey) : undefined;
    const statePath = join(dir, "o.dat");
    let state: Uint8Array | undefined;
    if (fs.existsSync(statePath)) {
      const raw: Uint8Array = fs.readFileSync(statePath);
      state = open(streamKeys.cipher, streamKeys.aek, raw) ?? raw;
    }
    writeFileDurable(keyPath, r.sealed);
    if (meta !== undefined) writeMetaJson(dir, meta, r.keys, hkey);
    if (state !== undefined) writeFileDurable(statePath, seal(r.keys.cipher, r.keys.aek, state));
    return r.keys;
  }
  writeFileDurable(keyPath, r.sealed);
  return r.keys;
}
