// FileStore's consumer store: the MemConsumerStore bookkeeping persisted to obs/<consumer>/o.dat in
// nats-server's encodeConsumerState layout (sealed with the stream's AEAD when the store is encrypted),
// plus the consumer's meta.inf/meta.sum. Changes are written and fdatasynced in batches: at most one write
// per CONSUMER_WRITE_MS, and at once on stop.

import * as fs from "node:fs";
import { join } from "node:path";
import { MemConsumerStore } from "./_consumer_state.ts";
import { open, seal, type StreamKeys } from "./_fs_crypto.ts";
import { decodeConsumerState, encodeConsumerState } from "./_consumer_state.ts";
import { type ConsumerStoreConfig, StoreError } from "./store.ts";
import { readMetaFile, writeFileDurable, writeMetaBytes } from "./_fs_meta.ts";

// The reference writes a busy consumer's state about ten times a second; each of our writes blocks the
// event loop for its fdatasyncs (~1.5 ms here), so at 20 ms a busy consumer lost ~7% of the loop to them.
const CONSUMER_WRITE_MS = 100;

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A consumer store persisted under `dir` (obs/<name>). */
export class FileConsumerStore extends MemConsumerStore {
  readonly dir: string;
  readonly #keys: StreamKeys | undefined;
  readonly #hkey: Uint8Array;
  #hasState = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters: Deferred | undefined;
  #loading = true;

  constructor(
    dir: string,
    cfg: ConsumerStoreConfig,
    keys: StreamKeys | undefined,
    hkey: Uint8Array,
    onStop: () => void,
  ) {
    super(cfg, onStop);
    this.dir = dir;
    this.#keys = keys;
    this.#hkey = hkey;
    fs.mkdirSync(dir, { recursive: true });
    const path = join(dir, "o.dat");
    if (fs.existsSync(path)) {
      let raw: Uint8Array = fs.readFileSync(path);
      if (keys !== undefined) {
        const p = open(keys.cipher, keys.aek, raw);
        if (p === undefined) throw new StoreError("corrupt", `cannot decrypt consumer state ${path}`);
        raw = p;
      }
      this.update(decodeConsumerState(raw));
      this.#hasState = true;
    }
    this.#loading = false;
  }

  /** Persists the consumer's config (JSON) in meta.inf and meta.sum. */
  setMeta(meta: unknown): void {
    writeMetaJson(this.dir, meta, this.#keys, this.#hkey);
  }

  /** The consumer's persisted config, or undefined. */
  readMeta(): unknown {
    return readMetaFile(this.dir, this.#keys, this.#hkey);
  }

  override hasState(): boolean {
    return this.#hasState;
  }

  override flushed(): Promise<void> | undefined {
    if (this.#timer === undefined) return undefined;
    this.#waiters ??= deferred();
    return this.#waiters.promise;
  }

  override stop(): void {
    if (this.closed) return;
    this.flushNow();
    super.stop();
  }

  override delete(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#waiters?.resolve();
    this.#waiters = undefined;
    super.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  protected override changed(): void {
    if (this.#loading || this.closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      try {
        this.#write();
      } catch (err) {
        const w = this.#waiters;
        this.#waiters = undefined;
        w?.reject(err);
      }
    }, CONSUMER_WRITE_MS);
  }

  /** Writes pending state now (stream stop, consumer stop). */
  flushNow(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#write();
  }

  #write(): void {
    let data = encodeConsumerState(this.borrowState());
    if (this.#keys !== undefined) data = seal(this.#keys.cipher, this.#keys.aek, data);
    writeFileDurable(join(this.dir, "o.dat"), data);
    this.#hasState = true;
    const w = this.#waiters;
    this.#waiters = undefined;
    w?.resolve();
  }
}

/** Writes meta.inf (JSON, sealed when encrypted) and meta.sum (hex HighwayHash-64 of meta.inf). */
export function writeMetaJson(
  dir: string,
  meta: unknown,
  keys: StreamKeys | undefined,
  hkey: Uint8Array,
): void {
  let data: Uint8Array = new TextEncoder().encode(JSON.stringify(meta));
  if (keys !== undefined) data = seal(keys.cipher, keys.aek, data);
  writeMetaBytes(dir, data, hkey);
}
