// FileStore encryption keys on disk: the stream's meta.key (its AEK sealed under the KEK of the stream name)
// and each consumer's obs/<name>/meta.key, as nats-server lays them out (inventory §8). A wrong key, or no
// key for an encrypted store, is refused before anything on disk changes.
//
// A store written without encryption and opened with a key is converted, as the reference does at startup
// (its order is not crash-safe; this one is): while `encrypt.pending` (natsdeno's own marker) exists the
// conversion is under way and every open finishes it. meta.inf is sealed here; each block is encrypted as
// recovery reaches it (_fs_blocks.ts: a block without <N>.key is plain); every consumer's meta.inf and o.dat
// are sealed under a key of its own (consumerKeys), then the marker goes (finishEncryption).

import * as fs from "node:fs";
import { join } from "node:path";
import { hasBlocks } from "./_fs_blocks.ts";
import { writeMetaJson } from "./_fs_consumer.ts";
import { decodeConsumerState } from "./_consumer_state.ts";
import { type FsEncryption, open, openStreamKey, seal, sha256Key, type StreamKeys } from "./_fs_crypto.ts";
import { readMeta, syncDir, writeFileDurable } from "./_fs_meta.ts";
import { StoreError } from "./store.ts";

const PENDING = "encrypt.pending";

/** The stream key of an open store, and whether a conversion to encryption is under way. */
export interface OpenedKeys {
  keys: StreamKeys | undefined;
  /** `encrypt.pending` exists: finishEncryption() must run once the blocks are recovered. */
  converting: boolean;
}

/**
 * Opens (or creates) the stream key of the store in `dir`; keys undefined for an unencrypted store. A store
 * with content but no meta.key is converted: `notice` is called once the conversion starts or resumes.
 */
export function openStoreKeys(
  dir: string,
  mdir: string,
  name: string,
  enc: FsEncryption | undefined,
  notice?: () => void,
): OpenedKeys {
  const keyPath = join(dir, "meta.key");
  const hasKey = fs.existsSync(keyPath);
  if (enc === undefined) {
    if (hasKey) {
      throw new StoreError("bad_key", `stream '${name}' is encrypted and no encryption key is configured`);
    }
    return { keys: undefined, converting: false };
  }
  const pendingPath = join(dir, PENDING);
  if (!hasKey) {
    // Block or consumer keys without the stream's: an encrypted store that lost its meta.key, not a plain one.
    if (hasKeyFiles(dir, mdir)) {
      throw new StoreError("bad_key", `stream '${name}' has encrypted files but no meta.key`);
    }
    if (hasContent(dir, mdir)) {
      // Before meta.key: the reference's msgs/index.db may hold subjects in clear, and natsdeno does not read it.
      fs.rmSync(join(mdir, "index.db"), { force: true });
      writeFileDurable(pendingPath, new Uint8Array(0));
    }
  }
  const r = openStreamKey(enc, name, hasKey ? fs.readFileSync(keyPath) : undefined, keyPath);
  if (r.rewrite) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileDurable(keyPath, r.sealed);
  }
  const converting = fs.existsSync(pendingPath);
  if (converting) notice?.();
  const hkey = sha256Key(name);
  let m: ReturnType<typeof readMeta>;
  try {
    m = readMeta(dir, r.keys, hkey);
  } catch {
    // A damaged meta.inf is reported by whoever reads the stream's config (FileStore.readMeta).
  }
  if (m?.reseal) {
    if (m.plain) notice?.();
    writeMetaJson(dir, m.value, r.keys, hkey);
  }
  return { keys: r.keys, converting };
}

/** Any <N>.key (or a rewrite's companion) under `mdir`, or a consumer's meta.key. */
function hasKeyFiles(dir: string, mdir: string): boolean {
  const has = (d: string, re: RegExp) => {
    try {
      return fs.readdirSync(d).some((n) => re.test(n));
    } catch {
      return false;
    }
  };
  if (has(mdir, /^\d+\.key(\.tmp|\.prev)?$/)) return true;
  try {
    const obs = join(dir, "obs");
    return fs.readdirSync(obs).some((c) => fs.existsSync(join(obs, c, "meta.key")));
  } catch {
    return false;
  }
}

/** The store holds something written before (meta.inf, a block, a consumer). */
function hasContent(dir: string, mdir: string): boolean {
  if (fs.existsSync(join(dir, "meta.inf")) || hasBlocks(mdir)) return true;
  try {
    return fs.readdirSync(join(dir, "obs")).length > 0;
  } catch {
    return false;
  }
}

/**
 * After recovery of a store being converted: every consumer's files are sealed under its own key, then
 * `encrypt.pending` is removed (the conversion is complete).
 */
export function finishEncryption(
  dir: string,
  streamKeys: StreamKeys,
  enc: FsEncryption,
  stream: string,
  notice?: () => void,
): void {
  const obs = join(dir, "obs");
  let names: string[] = [];
  try {
    names = fs.readdirSync(obs);
  } catch {
    // No consumers.
  }
  for (const n of names) {
    consumerKeys(streamKeys, enc, stream, decodeURIComponent(n), join(obs, n), notice);
  }
  fs.rmSync(join(dir, PENDING), { force: true });
  syncDir(dir);
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
 * "<stream>.<consumer>" (the reference's layout). A consumer's meta.inf or o.dat not sealed under it (plain:
 * written before the store was encrypted; or sealed with the stream's key by natsdeno's earlier layout) is
 * sealed under it now, after meta.key is written: a crash in between leaves files this reads again.
 */
export function consumerKeys(
  streamKeys: StreamKeys | undefined,
  enc: FsEncryption | undefined,
  stream: string,
  name: string,
  dir: string,
  notice?: () => void,
): StreamKeys | undefined {
  if (streamKeys === undefined || enc === undefined) return undefined;
  const keyPath = join(dir, "meta.key");
  const hasKey = fs.existsSync(keyPath);
  const r = openStreamKey(enc, `${stream}.${name}`, hasKey ? fs.readFileSync(keyPath) : undefined, keyPath);
  if (r.rewrite) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileDurable(keyPath, r.sealed);
  }
  const keys = r.keys;
  const hkey = sha256Key(`${stream}/${name}`);
  let resealed = false;
  const m = readMeta(dir, keys, hkey, [streamKeys]);
  if (m?.reseal) {
    writeMetaJson(dir, m.value, keys, hkey);
    resealed = true;
  }
  const statePath = join(dir, "o.dat");
  if (fs.existsSync(statePath)) {
    const raw: Uint8Array = fs.readFileSync(statePath);
    if (open(keys.cipher, keys.aek, raw) === undefined) {
      const state = open(streamKeys.cipher, streamKeys.aek, raw) ?? (isPlainState(raw) ? raw : undefined);
      // Anything else is left for the consumer store to report as damage.
      if (state !== undefined) {
        writeFileDurable(statePath, seal(keys.cipher, keys.aek, state));
        resealed = true;
      }
    }
  }
  if (resealed) notice?.();
  return keys;
}

/** `raw` is a consumer state in the clear (the reference's encodeConsumerState layout). */
function isPlainState(raw: Uint8Array): boolean {
  try {
    decodeConsumerState(raw);
    return true;
  } catch {
    return false;
  }
}
