// FileStore: JetStream's durable stream store. Behaviour follows nats-server server/filestore.go; the
// on-disk record layout is the reference's (msg_block.ts), the rest is natsdeno's own and said so below.
//
// Layout under the stream directory: meta.inf/meta.sum (the stream config JSON given by jetstream), meta.key
// (the sealed stream key, encrypted stores only), msgs/<N>.blk message blocks (+ <N>.key sealed block
// seeds), obs/<consumer>/{o.dat,meta.inf,meta.sum}.
//
// How it works: the index and the message bytes are a MemStore (this class extends it), so every query is
// the MemStore's; every change the MemStore makes is journaled through its hooks as records appended to the
// active block: messages, tombstones for removals, and op records (compact, truncate, skip, TTL, last
// sequence). On open the blocks are replayed in order into the MemStore with limits off, then the real
// config is applied. Checksums are verified on replay: a mismatching record is reported (file, sequence)
// and skipped, so it is never served; a torn tail of the last block is cut at the last whole record.
//
// Durability: appends are buffered and written with one positional write per macrotask; flushed(seq)
// resolves after one fdatasync shared by every append since the previous one (group commit). With a
// user-set sync_interval, acks do not wait and a timer fdatasyncs every interval (the reference's lazy
// mode). A block is fdatasynced when it stops being the active one.
//
// Space: when a block's messages are all gone and it is the first block, its files are removed; a block
// with at least half of its messages removed is rewritten without them (off the hot path, setImmediate).
// With compression s2 a block is compressed whole when it stops being active. Erase rewrites the block at
// once, so the bytes are gone from disk.
//
// Not done yet: the index and messages live in memory (no bounded block cache), and there is no index.db
// snapshot (recovery always replays the blocks).

import * as fs from "node:fs";
import { join } from "node:path";
import { BLOCK_CACHE_BYTES, BLOCK_CACHE_IDLE_MS, BlockCache, BlockSlab } from "./_fs_cache.ts";
import { FileConsumerStore, writeMetaJson } from "./_fs_consumer.ts";
import {
  blockNonceLen,
  type FsEncryption,
  hh64,
  open,
  openStreamKey,
  randomBytes,
  seal,
  sha256Key,
  type StreamKeys,
  xorAt,
} from "./_fs_crypto.ts";
import { readMetaFile, syncDir, writeFileDurable } from "./_fs_meta.ts";
import { MemStore, type MemStoreOptions } from "./memstore.ts";
import {
  compressBlock,
  decompressBlock,
  EBIT,
  isCompressed,
  OP_COMPACT,
  OP_LAST,
  OP_SKIP,
  OP_TRUNCATE,
  OP_TTL,
  RecBuf,
  RK_ERASED,
  RK_MSG,
  RK_OP,
  RK_TOMB,
  scanBlock,
  subjBytes,
  subjString,
  TBIT,
} from "./msg_block.ts";
import {
  type ConsumerStore,
  type ConsumerStoreConfig,
  type StorageType,
  type StoreConfig,
  StoreError,
} from "./store.ts";

export type { FsCipher, FsEncryption } from "./_fs_crypto.ts";

/** Receives what recovery found: damaged records, torn tails, truncated blocks. */
export interface FileStoreLogger {
  warn(msg: string): void;
  error(msg: string): void;
}

/** Options of a FileStore. */
export interface FileStoreOptions extends MemStoreOptions {
  /** The stream's directory; created when missing. */
  dir: string;
  /** Maximum block size in bytes (default: the reference's sizes per retention/encryption). */
  blockSize?: number;
  /** A user-set sync_interval in ms: acks no longer wait for fsync; one fsync per interval. */
  syncIntervalMs?: number;
  /** sync_interval: always (every batch is fsynced before its acks; the default already does that). */
  syncAlways?: boolean;
  /** Encryption at rest. */
  encryption?: FsEncryption;
  /** Recovery reports (defaults to console-free silence plus onError). */
  logger?: FileStoreLogger;
  /** The stream config JSON to persist in meta.inf (jetstream's StreamConfig); written when given. */
  meta?: unknown;
  /**
   * Bound in bytes of the cache of decoded sealed blocks (default 32 MiB). Payloads of sealed blocks are
   * read from it on demand; 0 keeps every payload in memory.
   */
  blockCacheBytes?: number;
  /** A cached block unused this long (ms) is dropped (default 10 s). */
  blockCacheIdleMs?: number;
}

/** A damage report found while opening a store. */
export interface FsDamage {
  file: string;
  seq: number;
  what: string;
}

const MSGS = "msgs";
const OBS = "obs";
const FLUSH_AT = 1 << 20;
const DEFAULT_BLOCK = 8 * 1024 * 1024;
const ENCRYPTED_BLOCK = 2 * 1024 * 1024;
const MIN_BLOCK = 32_000;
const EMPTY = new Uint8Array(0);

interface Block {
  idx: number;
  /** First and last message sequence recorded in the block (0 when none). */
  first: number;
  last: number;
  msgs: number;
  live: number;
  compressed: boolean;
  seed?: Uint8Array;
  /** Damaged records were found at open: never sealed as good before a rewrite drops them. */
  damaged?: boolean;
  /** Where the payloads of a sealed block's messages are read from (bounded block cache). */
  slab?: BlockSlab;
  /** HighwayHash of the block file the slab's offsets refer to (checked when the block is loaded). */
  fileHash?: string;
}

type Waiter = (err: unknown, a: unknown, b: unknown) => void;

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

function ioError(what: string, cause: unknown): StoreError {
  return new StoreError("io", `${what}: ${(cause as Error)?.message ?? cause}`, { cause });
}

/** The durable stream store. */
export class FileStore extends MemStore {
  readonly dir: string;
  readonly #mdir: string;
  readonly #name: string;
  readonly #blockSize: number;
  readonly #syncInterval: number;
  readonly #keys: StreamKeys | undefined;
  readonly #log: FileStoreLogger | undefined;
  readonly #onErr: ((err: unknown) => void) | undefined;
  readonly #streamHKey: Uint8Array;
  /** What recovery found wrong (also logged). */
  readonly damage: FsDamage[] = [];
  #blocks: Block[] = [];
  #active!: Block;
  #fd = -1;
  /** Plain bytes in the active block's file (after the nonce, when encrypted). */
  #pos = 0;
  #hkey!: Uint8Array;
  #wb = new RecBuf();
  #replaying = true;
  #flushScheduled = false;
  #lastAppended = 0;
  #writtenSeq = 0;
  #syncedSeq = 0;
  #syncing = false;
  #inflight: Deferred | undefined;
  #inflightSeq = 0;
  #next: Deferred | undefined;
  #closeLater: number[] = [];
  #consumers = new Set<FileConsumerStore>();
  #fileClosed = false;
  #maintScheduled = false;
  #syncTimer: ReturnType<typeof setInterval> | undefined;
  #compress: boolean;
  #subjCache = new Map<string, Uint8Array>();
  #toCompress: Block[] = [];
  #cache: BlockCache | undefined;
  /** Messages replayed from the block being recovered (sequences, payload offsets). */
  #rpSeqs: number[] = [];
  #rpOffs: number[] = [];
  /** onFlushed waiters, in registration order. */
  #waitFn: Waiter[] = [];
  #waitA: unknown[] = [];
  #waitB: unknown[] = [];

  constructor(cfg: StoreConfig, opts: FileStoreOptions) {
    super(replayConfig(cfg), opts);
    this.dir = opts.dir;
    this.#mdir = join(opts.dir, MSGS);
    this.#name = cfg.name;
    this.#log = opts.logger;
    this.#onErr = opts.onError;
    this.#compress = cfg.compression === "s2";
    this.#syncInterval = opts.syncAlways ? 0 : (opts.syncIntervalMs ?? 0);
    this.#streamHKey = sha256Key(cfg.name);
    let bs = opts.blockSize ?? (opts.encryption !== undefined ? ENCRYPTED_BLOCK : DEFAULT_BLOCK);
    if (opts.blockSize === undefined && opts.encryption !== undefined && bs > ENCRYPTED_BLOCK) {
      bs = ENCRYPTED_BLOCK;
    }
    this.#blockSize = Math.max(opts.blockSize !== undefined ? 1024 : MIN_BLOCK, bs);
    const cacheBytes = opts.blockCacheBytes ?? BLOCK_CACHE_BYTES;
    if (cacheBytes > 0) {
      this.#cache = new BlockCache(
        cacheBytes,
        (s) => this.#loadSlab(s),
        opts.blockCacheIdleMs ?? BLOCK_CACHE_IDLE_MS,
      );
    }
    try {
      this.#keys = this.#openKeys(opts.encryption);
      fs.mkdirSync(join(this.dir, OBS), { recursive: true, mode: 0o700 });
      fs.mkdirSync(this.#mdir, { recursive: true, mode: 0o700 });
      if (opts.meta !== undefined) this.setMeta(opts.meta);
      this.#recover();
    } catch (err) {
      this.#replaying = false;
      if (this.#fd >= 0) fs.closeSync(this.#fd);
      super.stop();
      if (err instanceof StoreError) throw err;
      throw ioError(`opening ${this.dir}`, err);
    }
    this.#replaying = false;
    const st = this.fastState();
    this.#lastAppended = this.#writtenSeq = this.#syncedSeq = st.lastSeq;
    if (st.lastSeq === 0 && (cfg.firstSeq ?? 0) > 1) this.compact(cfg.firstSeq!);
    this.updateConfig(cfg);
    if (this.#compress) {
      // Blocks sealed before a crash or written before compression was turned on.
      for (const b of this.#blocks) if (b !== this.#active && !b.compressed) this.#toCompress.push(b);
    }
    // Damaged blocks are rewritten without their bad records (reported above) before they are sealed.
    for (const b of this.#blocks) {
      if (b !== this.#active && b.damaged && !this.#toCompress.includes(b)) this.#toCompress.push(b);
    }
    if (this.#toCompress.length > 0) this.#scheduleMaint();
    if (this.#syncInterval > 0) {
      this.#syncTimer = setInterval(() => this.#intervalSync(), this.#syncInterval);
      Deno.unrefTimer(this.#syncTimer as unknown as number);
    }
  }

  /** Reads a stream directory's meta.inf (the stream config JSON) without opening the store. */
  static readMeta(dir: string, name: string, encryption?: FsEncryption): unknown {
    const keys = readKeys(dir, name, encryption);
    return readMetaFile(dir, keys, sha256Key(name));
  }

  /** Persists the stream config JSON (meta.inf, meta.sum). */
  setMeta(meta: unknown): void {
    writeMetaJson(this.dir, meta, this.#keys, this.#streamHKey);
  }

  /** The names of the consumers with a directory in this store. */
  consumerNames(): string[] {
    try {
      return fs.readdirSync(join(this.dir, OBS)).map((n) => decodeURIComponent(n)).sort();
    } catch {
      return [];
    }
  }

  /** A consumer's persisted config (meta.inf), or undefined. */
  consumerMeta(name: string): unknown {
    const dir = join(this.dir, OBS, encodeURIComponent(name));
    return readMetaFile(dir, this.#keys, sha256Key(`${this.#name}/${name}`));
  }

  /** The decoded-block cache: bytes and blocks held, loads and misses (undefined when disabled). */
  cacheStats(): { bytes: number; blocks: number; loads: number; misses: number } | undefined {
    const c = this.#cache;
    return c === undefined ? undefined : { bytes: c.size, blocks: c.count, loads: c.loads, misses: c.misses };
  }

  override type(): StorageType {
    return "file";
  }

  override flushed(seq: number): Promise<void> | undefined {
    if (seq <= this.#syncedSeq || this.#fileClosed || this.#syncInterval > 0) return undefined;
    if (this.#inflight !== undefined && seq <= this.#inflightSeq) return this.#inflight.promise;
    this.#next ??= deferred();
    this.#schedule();
    return this.#next.promise;
  }

  override onFlushed<A, B>(seq: number, fn: (err: unknown, a: A, b: B) => void, a: A, b: B): boolean {
    if (seq <= this.#syncedSeq || this.#fileClosed || this.#syncInterval > 0) return false;
    this.#waitFn.push(fn as Waiter);
    this.#waitA.push(a);
    this.#waitB.push(b);
    if (this.#next === undefined) {
      // Marks a sync as wanted; its failure reaches the waiters, so the promise itself may go unobserved.
      this.#next = deferred();
      this.#next.promise.catch(() => {});
    }
    this.#schedule();
    return true;
  }

  /** Calls the first `n` onFlushed waiters (all when n is undefined) with `err`. */
  #drainWaiters(n: number | undefined, err: unknown): void {
    const fns = this.#waitFn;
    const as = this.#waitA;
    const bs = this.#waitB;
    const cnt = n === undefined ? fns.length : Math.min(n, fns.length);
    if (cnt === 0) return;
    if (cnt === fns.length) {
      this.#waitFn = [];
      this.#waitA = [];
      this.#waitB = [];
    } else {
      this.#waitFn = fns.slice(cnt);
      this.#waitA = as.slice(cnt);
      this.#waitB = bs.slice(cnt);
    }
    for (let i = 0; i < cnt; i++) {
      try {
        fns[i](err, as[i], bs[i]);
      } catch (e) {
        this.#onErr?.(e);
      }
    }
  }

  override updateConfig(cfg: StoreConfig): void {
    this.#compress = cfg.compression === "s2";
    super.updateConfig(cfg);
  }

  override stop(): void {
    if (this.#fileClosed) {
      super.stop();
      return;
    }
    try {
      this.#compressPending();
    } catch (err) {
      this.#onErr?.(err);
    }
    for (const cs of [...this.#consumers]) {
      try {
        cs.flushNow();
      } catch (err) {
        this.#onErr?.(err);
      }
    }
    try {
      this.#flushWrites();
      fs.fdatasyncSync(this.#fd);
      // A clean stop: the active block's hash lets the next open skip per-record checks.
      if (!this.#active.damaged) {
        this.#sealBlock(this.#active.idx, fs.readFileSync(this.#blkPath(this.#active.idx)), true);
      } else if (this.#sealed.has(this.#active.idx)) this.#sealBlock(this.#active.idx, undefined);
    } catch (err) {
      this.#onErr?.(err);
    }
    if (this.#syncTimer !== undefined) clearInterval(this.#syncTimer);
    this.#syncedSeq = this.#writtenSeq;
    this.#next?.resolve();
    this.#next = undefined;
    this.#fileClosed = true;
    this.#drainWaiters(undefined, undefined);
    this.#cache?.clear();
    this.#closeFd(this.#fd);
    super.stop();
  }

  override delete(): void {
    this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  protected override newConsumerStore(
    name: string,
    cfg: ConsumerStoreConfig,
    onStop: () => void,
  ): ConsumerStore {
    const cs: FileConsumerStore = new FileConsumerStore(
      join(this.dir, OBS, encodeURIComponent(name)),
      cfg,
      this.#keys,
      sha256Key(`${this.#name}/${name}`),
      () => {
        this.#consumers.delete(cs);
        onStop();
      },
    );
    this.#consumers.add(cs);
    return cs;
  }

  // ---- keys ----

  #openKeys(enc: FsEncryption | undefined): StreamKeys | undefined {
    const keyPath = join(this.dir, "meta.key");
    const hasKey = fs.existsSync(keyPath);
    if (enc === undefined) {
      if (hasKey) {
        throw new StoreError(
          "bad_key",
          `stream '${this.#name}' is encrypted and no encryption key is configured`,
        );
      }
      return undefined;
    }
    if (!hasKey && hasBlocks(this.#mdir)) {
      throw new StoreError(
        "bad_key",
        `stream '${this.#name}' is not encrypted but an encryption key is configured`,
      );
    }
    const r = openStreamKey(enc, this.#name, hasKey ? fs.readFileSync(keyPath) : undefined, keyPath);
    if (r.rewrite) {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileDurable(keyPath, r.sealed);
    }
    return r.keys;
  }

  // ---- blocks on disk ----

  #blkPath(idx: number): string {
    return join(this.#mdir, `${idx}.blk`);
  }

  #blockKey(idx: number): Uint8Array {
    return sha256Key(`${this.#name}-${idx}`);
  }

  /** Reads a block's plain record bytes (decrypted, decompressed). */
  #readBlock(b: Block, raw?: Uint8Array): Uint8Array {
    let data: Uint8Array = raw ?? fs.readFileSync(this.#blkPath(b.idx));
    // A plain Uint8Array (not a Buffer, whose slice() is a view): the bytes may be handed out as payloads.
    data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (this.#keys !== undefined) {
      const nl = blockNonceLen(this.#keys.cipher);
      if (data.length < nl) return EMPTY;
      const nonce = data.slice(0, nl);
      data = data.slice(nl);
      xorAt(this.#keys.cipher, b.seed!, nonce, 0, data);
    }
    if (isCompressed(data)) {
      b.compressed = true;
      data = decompressBlock(data);
    }
    return data;
  }

  #loadSeed(idx: number): Uint8Array {
    const p = join(this.#mdir, `${idx}.key`);
    const sealed = fs.readFileSync(p);
    const seed = open(this.#keys!.cipher, this.#keys!.aek, sealed);
    if (seed === undefined) throw new StoreError("corrupt", `cannot open block key ${p}`);
    return seed;
  }

  /** Writes a whole block file (plain bytes; compressed when asked) atomically. */
  #writeBlockFile(b: Block, plain: Uint8Array, compress: boolean): Uint8Array {
    let body = compress ? compressBlock(plain) : plain;
    if (body.length >= plain.length && compress) body = plain;
    b.compressed = body !== plain;
    let file = body;
    if (this.#keys !== undefined) {
      const nonce = randomBytes(blockNonceLen(this.#keys.cipher));
      file = new Uint8Array(nonce.length + body.length);
      file.set(nonce, 0);
      file.set(body, nonce.length);
      xorAt(this.#keys.cipher, b.seed!, nonce, 0, file.subarray(nonce.length));
    }
    writeFileDurable(this.#blkPath(b.idx), file);
    return file;
  }

  // ---- payloads of sealed blocks (bounded cache) ----

  /**
   * Reads a sealed block for the cache. Never throws (loads happen inside deliveries): an unreadable block
   * marks the slab failed, and a block changed on disk since it was written serves only the records whose
   * checksums hold; both are reported once per load.
   */
  #loadSlab(s: BlockSlab): Uint8Array {
    let b: Block | undefined;
    for (const x of this.#blocks) {
      if (x.idx === s.idx) {
        b = x;
        break;
      }
    }
    const file = this.#blkPath(s.idx);
    try {
      if (b === undefined || b.slab !== s) throw new Error("the block is gone");
      const raw = fs.readFileSync(file);
      const changed = b.fileHash !== undefined && this.#fileHash(raw) !== b.fileHash;
      const data = this.#readBlock(b, raw);
      if (changed) {
        const good = new Set<number>();
        let nbad = 0;
        const stop = scanBlock(data, this.#blockKey(s.idx), (r) => {
          if (r.kind === RK_MSG) good.add((r.hdr ?? r.msg).byteOffset - data.byteOffset);
        }, () => nbad++);
        s.good = good;
        this.#damaged(
          file,
          0,
          `block changed on disk since it was written (${nbad} bad records${
            stop !== undefined ? `, unreadable from offset ${stop.off}` : ""
          }); damaged records are not served`,
        );
      }
      return data;
    } catch (err) {
      s.failed = true;
      this.#damaged(
        file,
        0,
        `unreadable block: ${(err as Error)?.message ?? err}; its messages are not served`,
      );
      return EMPTY;
    }
  }

  /**
   * Moves the payloads of a sealed block's messages out of memory: records at `seqs[i]` now point at
   * `offs[i]` in the block's plain bytes (`plain`, cached when given). `hash` is the file's HighwayHash.
   */
  #detach(b: Block, seqs: number[], offs: number[], hash: string, plain?: Uint8Array): void {
    const cache = this.#cache;
    if (cache === undefined) return;
    cache.drop(b.slab);
    const slab = new BlockSlab(cache, b.idx);
    b.slab = slab;
    b.fileHash = hash;
    for (let i = 0; i < seqs.length; i++) this.repoint(seqs[i], slab, offs[i]);
    if (plain !== undefined) cache.put(slab, plain);
  }

  /** The message records of a block's plain bytes: sequences and payload offsets. */
  #msgOffsets(plain: Uint8Array, idx: number): { seqs: number[]; offs: number[] } {
    const seqs: number[] = [];
    const offs: number[] = [];
    scanBlock(
      plain,
      this.#blockKey(idx),
      (r) => {
        if (r.kind !== RK_MSG) return;
        seqs.push(r.seq);
        offs.push((r.hdr ?? r.msg).byteOffset - plain.byteOffset);
      },
      () => {},
      false,
    );
    return { seqs, offs };
  }

  #newBlock(): void {
    const idx = this.#blocks.length > 0 ? this.#blocks[this.#blocks.length - 1].idx + 1 : 1;
    const b: Block = { idx, first: 0, last: 0, msgs: 0, live: 0, compressed: false };
    if (this.#keys !== undefined) {
      b.seed = randomBytes(32);
      writeFileDurable(join(this.#mdir, `${idx}.key`), seal(this.#keys.cipher, this.#keys.aek, b.seed));
    }
    this.#writeBlockFile(b, EMPTY, false);
    this.#blocks.push(b);
    this.#openActive(b, 0);
  }

  #openActive(b: Block, pos: number): void {
    this.#active = b;
    this.#hkey = this.#blockKey(b.idx);
    this.#fd = fs.openSync(this.#blkPath(b.idx), "r+");
    this.#pos = pos;
    if (this.#keys !== undefined) {
      // The nonce is the first bytes of the file.
      const nl = blockNonceLen(this.#keys.cipher);
      this.#nonce = new Uint8Array(nl);
      fs.readSync(this.#fd, this.#nonce, 0, nl, 0);
    }
  }

  #nonce: Uint8Array = EMPTY;

  #fileOff(): number {
    return this.#keys !== undefined ? blockNonceLen(this.#keys.cipher) : 0;
  }

  // ---- recovery ----

  // msgs/blocks.db (natsdeno's own JSON file, the role of the reference's index.db): size and HighwayHash-64
  // of each sealed (no longer active) block file, and of the active block at a clean stop (a: 1). A block
  // cut at a record boundary is otherwise indistinguishable from a shorter block; a block whose whole-file
  // hash matches is replayed without checking every record's checksum (fast restart).
  #sealed = new Map<number, { s: number; h: string; a?: 1 }>();

  #sealBlock(idx: number, file: Uint8Array | undefined, active = false): string {
    let h = "";
    if (file === undefined) this.#sealed.delete(idx);
    else {
      h = this.#fileHash(file);
      this.#sealed.set(idx, { s: file.length, h, ...(active ? { a: 1 as const } : {}) });
    }
    writeFileDurable(
      join(this.#mdir, "blocks.db"),
      new TextEncoder().encode(JSON.stringify(Object.fromEntries(this.#sealed))),
    );
    return h;
  }

  #fileHash(file: Uint8Array): string {
    let h = "";
    for (const x of hh64(this.#streamHKey, file)) h += x.toString(16).padStart(2, "0");
    return h;
  }

  #recover(): void {
    try {
      const raw = JSON.parse(fs.readFileSync(join(this.#mdir, "blocks.db"), "utf8")) as Record<
        string,
        number
      >;
      for (const [k, v] of Object.entries(raw)) this.#sealed.set(Number(k), v as never);
    } catch {
      // Missing or unreadable: block sizes are not checked.
    }
    const names = fs.readdirSync(this.#mdir);
    const idxs: number[] = [];
    for (const n of names) {
      if (n.endsWith(".tmp")) fs.rmSync(join(this.#mdir, n), { force: true });
      const m = /^(\d+)\.blk$/.exec(n);
      if (m !== null) idxs.push(Number(m[1]));
    }
    idxs.sort((a, b) => a - b);
    let lastPlainLen = 0;
    for (let i = 0; i < idxs.length; i++) {
      const b: Block = { idx: idxs[i], first: 0, last: 0, msgs: 0, live: 0, compressed: false };
      const isLast = i === idxs.length - 1;
      const file = this.#blkPath(b.idx);
      const want = this.#sealed.get(b.idx);
      let raw: Uint8Array;
      let trusted = false;
      try {
        raw = fs.readFileSync(file);
      } catch (err) {
        this.#damaged(file, 0, `unreadable block: ${(err as Error).message}`);
        continue;
      }
      if (want !== undefined) {
        if (want.s === raw.length && want.h === this.#fileHash(raw)) trusted = true;
        else if (want.a === undefined && want.s !== raw.length) {
          this.#damaged(
            file,
            0,
            `block is ${raw.length} bytes, expected ${want.s} (truncated or overwritten)`,
          );
        }
      }
      let data: Uint8Array;
      try {
        if (this.#keys !== undefined) b.seed = this.#loadSeed(b.idx);
        data = this.#readBlock(b, raw);
      } catch (err) {
        this.#damaged(file, 0, `unreadable block: ${(err as Error).message}`);
        this.#blocks.push(b);
        continue;
      }
      this.#blocks.push(b);
      this.#rpSeqs = [];
      this.#rpOffs = [];
      // Recorded at a clean stop with this very size: a failed parse is damage, never a torn write.
      const sizeKnown = want !== undefined && want.s === raw.length;
      lastPlainLen = this.#replayBlock(b, data, isLast, trusted, sizeKnown);
      // A damaged last block is not appended to (later records would sit behind the damage): it is sealed and
      // rewritten without the damage by maintenance, and a new block takes the writes.
      if (!isLast || b.compressed || b.damaged) {
        this.#detach(b, this.#rpSeqs, this.#rpOffs, trusted ? want!.h : this.#fileHash(raw));
      }
      this.#rpSeqs = [];
      this.#rpOffs = [];
    }
    const last = this.#blocks[this.#blocks.length - 1];
    if (last === undefined || last.compressed || last.damaged) this.#newBlock();
    else this.#openActive(last, lastPlainLen);
    this.#countLive();
  }

  #damaged(file: string, seq: number, what: string): void {
    this.damage.push({ file, seq, what });
    const msg = `filestore '${this.#name}': ${what} in ${file}${seq > 0 ? ` (sequence ${seq})` : ""}`;
    if (this.#log !== undefined) this.#log.error(msg);
    else this.#onErr?.(new StoreError("corrupt", msg));
  }

  // Replays a block's records; returns the plain length kept (the tail is cut for the last block).
  #replayBlock(b: Block, data: Uint8Array, isLast: boolean, trusted: boolean, sizeKnown: boolean): number {
    const file = this.#blkPath(b.idx);
    const bad: { off: number; seq: number }[] = [];
    let pend:
      | {
        seq: number;
        ts: bigint;
        subj: Uint8Array;
        hdr: Uint8Array | undefined;
        msg: Uint8Array;
        off: number;
      }
      | undefined;
    let ends = 0;
    const flushPend = (ttl: bigint) => {
      const p = pend!;
      pend = undefined;
      if (this.#replayMsg(p.seq, p.ts, p.subj, p.hdr, p.msg, ttl, file)) {
        this.#rpSeqs.push(p.seq);
        this.#rpOffs.push(p.off);
      }
    };
    const stop = scanBlock(data, this.#blockKey(b.idx), (r) => {
      ends = r.off + r.len;
      if (r.kind === RK_MSG) {
        if (pend !== undefined) flushPend(0n);
        pend = {
          seq: r.seq,
          ts: r.ts,
          subj: r.subj,
          hdr: r.hdr,
          msg: r.msg,
          off: (r.hdr ?? r.msg).byteOffset - data.byteOffset,
        };
        if (b.first === 0) b.first = r.seq;
        b.last = r.seq;
        b.msgs++;
        return;
      }
      if (r.kind === RK_OP && r.msg[0] === OP_TTL && pend !== undefined && pend.seq === r.seq) {
        flushPend(new DataView(r.msg.buffer, r.msg.byteOffset + 1, 8).getBigInt64(0, true));
        return;
      }
      if (pend !== undefined) flushPend(0n);
      this.#replayOther(r.kind, r.seq, r.ts, r.msg);
    }, (off, seq) => {
      bad.push({ off, seq });
    }, !trusted);
    if (pend !== undefined) flushPend(0n);
    // A partial or damaged final record of the last block with nothing after it is a torn write: cut it. Not
    // when blocks.db recorded this size at a clean stop (then it is damage), and never for an impossible length
    // (a crash leaves a short record, not a bad length field).
    const mayBeTorn = isLast && !sizeKnown;
    let cutAt = -1;
    if (mayBeTorn && stop !== undefined && stop.reason === "torn") cutAt = stop.off;
    if (mayBeTorn && bad.length > 0) {
      const lb = bad[bad.length - 1];
      const tailEnd = stop !== undefined ? stop.off : data.length;
      if (lb.off >= ends && (stop === undefined || lb.off < stop.off || tailEnd === lb.off)) {
        cutAt = lb.off;
        bad.pop();
      }
    }
    for (const x of bad) this.#damaged(file, x.seq, "checksum mismatch; record dropped");
    if (bad.length > 0 || (stop !== undefined && !(isLast && cutAt >= 0))) b.damaged = true;
    if (stop !== undefined && !(isLast && cutAt >= 0)) {
      this.#damaged(
        file,
        this.fastState().lastSeq + 1,
        `${stop.reason} record at offset ${stop.off}; rest of block dropped`,
      );
    }
    if (cutAt >= 0 && !b.compressed) {
      this.#log?.warn(
        `filestore '${this.#name}': cut torn tail of ${file} at ${cutAt} (${data.length - cutAt} bytes)`,
      );
      fs.truncateSync(file, cutAt + (this.#keys !== undefined ? blockNonceLen(this.#keys.cipher) : 0));
      return cutAt;
    }
    return data.length;
  }

  #replayMsg(
    seq: number,
    ts: bigint,
    subj: Uint8Array,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    ttl: bigint,
    file: string,
  ): boolean {
    const last = this.fastState().lastSeq;
    if (seq <= last) {
      this.#damaged(file, seq, "out-of-order record; dropped");
      return false;
    }
    if (seq > last + 1) this.skipAt(last + 1, seq - last - 1, ts);
    this.storeRawMsg(subjString(subj), hdr, msg, seq, ts, ttl, false);
    return true;
  }

  #replayOther(kind: number, seq: number, ts: bigint, data: Uint8Array): void {
    const st = this.fastState();
    if (kind === RK_TOMB) {
      // The message's own record may be gone (block rewrite); the sequence was used all the same.
      if (!this.removeMsg(seq) && seq > st.lastSeq) this.skipAt(st.lastSeq + 1, seq - st.lastSeq, ts);
      return;
    }
    if (kind === RK_ERASED) {
      if (seq > st.lastSeq) this.skipAt(st.lastSeq + 1, seq - st.lastSeq, ts);
      return;
    }
    switch (data[0]) {
      case OP_COMPACT:
        if (seq > st.firstSeq || st.msgs === 0) this.compact(seq);
        return;
      case OP_TRUNCATE:
        // Records of the removed messages are gone from the blocks; the last sequence is `seq`.
        if (seq <= st.lastSeq) this.truncate(seq);
        else this.skipAt(st.lastSeq + 1, seq - st.lastSeq, ts);
        return;
      case OP_SKIP: {
        const num = Number(new DataView(data.buffer, data.byteOffset + 1, 8).getBigUint64(0, true));
        const end = seq + num - 1;
        if (end > st.lastSeq) this.skipAt(st.lastSeq + 1, end - st.lastSeq, ts);
        return;
      }
      case OP_LAST:
        if (seq > st.lastSeq) this.skipAt(st.lastSeq + 1, seq - st.lastSeq, ts);
        return;
    }
  }

  #countLive(): void {
    for (const b of this.#blocks) {
      if (b.msgs === 0) {
        b.live = 0;
        continue;
      }
      const a = this.filteredState(b.first, "").msgs;
      const c = this.filteredState(b.last + 1, "").msgs;
      b.live = a - c;
    }
  }

  // ---- journal ----

  protected override journalStore(
    seq: number,
    ts: bigint,
    subj: string,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    ttlNs: bigint,
  ): void {
    if (this.#replaying) return;
    this.#maybeRotate();
    const b = this.#active;
    let sb = this.#subjCache.get(subj);
    if (sb === undefined) {
      if (this.#subjCache.size >= 4096) this.#subjCache.clear();
      sb = subjBytes(subj);
      this.#subjCache.set(subj, sb);
    }
    this.#wb.append(seq, 0, ts, sb, hdr, msg, this.#hkey);
    if (ttlNs > 0n) this.#op(OP_TTL, seq, ts, ttlNs);
    if (b.first === 0) b.first = seq;
    b.last = seq;
    b.msgs++;
    b.live++;
    this.#lastAppended = seq;
    this.#commit();
  }

  protected override journalRemove(seq: number, erase: boolean): void {
    if (this.#replaying) return;
    this.#maybeRotate();
    this.#wb.append(seq, TBIT, this.fastState().lastTime, EMPTY, undefined, EMPTY, this.#hkey);
    const b = this.#findBlock(seq);
    if (b !== undefined) {
      b.live--;
      if (erase) {
        this.#flushWrites();
        this.#rewriteBlock(b);
      } else if (b !== this.#active && (b.live === 0 || b.live * 2 < b.msgs)) this.#scheduleMaint();
    }
    this.#commit();
  }

  protected override journalCompact(seq: number): void {
    if (this.#replaying) return;
    this.#maybeRotate();
    this.#op(OP_COMPACT, seq, this.fastState().lastTime);
    for (const b of this.#blocks) {
      if (b.msgs > 0 && b.last < seq) b.live = 0;
      else if (b.msgs > 0 && b.first < seq) {
        b.live = this.filteredState(b.first, "").msgs - this.filteredState(b.last + 1, "").msgs;
      }
    }
    this.#scheduleMaint();
    this.#commit();
  }

  protected override journalTruncate(seq: number): void {
    if (this.#replaying) return;
    this.#maybeRotate();
    this.#flushWrites();
    // Sequences above `seq` will be reused: drop their records from the blocks now.
    for (const b of [...this.#blocks]) if (b.msgs > 0 && b.last > seq) this.#rewriteBlock(b);
    this.#op(OP_TRUNCATE, seq, this.fastState().lastTime);
    this.#lastAppended = seq;
    this.#writtenSeq = Math.min(this.#writtenSeq, seq);
    this.#syncedSeq = Math.min(this.#syncedSeq, seq);
    this.#commit();
  }

  protected override journalSkip(seq: number, num: number, ts: bigint): void {
    if (this.#replaying) return;
    this.#maybeRotate();
    this.#op(OP_SKIP, seq, ts, BigInt(num));
    this.#lastAppended = seq + num - 1;
    this.#commit();
  }

  #op(op: number, seq: number, ts: bigint, arg?: bigint): void {
    const data = new Uint8Array(arg === undefined ? 1 : 9);
    data[0] = op;
    if (arg !== undefined) new DataView(data.buffer).setBigInt64(1, arg, true);
    this.#wb.append(seq, (EBIT | TBIT) >>> 0, ts, EMPTY, undefined, data, this.#hkey);
  }

  #findBlock(seq: number): Block | undefined {
    for (const b of this.#blocks) {
      if (b.msgs > 0 && seq >= b.first && seq <= b.last) return b;
    }
    return undefined;
  }

  #commit(): void {
    if (this.#wb.len >= FLUSH_AT) this.#flushWrites();
    else this.#schedule();
  }

  #maybeRotate(): void {
    if (this.#pos + this.#wb.len < this.#blockSize) return;
    this.#flushWrites();
    try {
      fs.fdatasyncSync(this.#fd);
    } catch (err) {
      throw ioError("syncing a message block", err);
    }
    const old = this.#active;
    this.#closeFd(this.#fd);
    this.#fd = -1;
    const raw = fs.readFileSync(this.#blkPath(old.idx));
    let hash: string;
    if (old.damaged) {
      this.#sealBlock(old.idx, undefined);
      hash = this.#fileHash(raw);
      this.#toCompress.push(old);
      this.#scheduleMaint();
    } else hash = this.#sealBlock(old.idx, raw);
    if (this.#cache !== undefined) {
      const plain = this.#readBlock(old, raw);
      const { seqs, offs } = this.#msgOffsets(plain, old.idx);
      this.#detach(old, seqs, offs, hash, plain);
    }
    if (this.#compress && !old.damaged) {
      // Compressed off the publish path, in the next maintenance pass.
      this.#toCompress.push(old);
      this.#scheduleMaint();
    }
    this.#newBlock();
    syncDir(this.#mdir);
  }

  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      if (this.#fileClosed) return;
      try {
        this.#flushWrites();
        if (this.#next !== undefined) this.#kickSync();
      } catch (err) {
        this.#fail(err);
      }
    });
  }

  #flushWrites(): void {
    const len = this.#wb.len;
    if (len === 0 || this.#fileClosed) return;
    let buf = this.#wb.buf;
    if (this.#keys !== undefined) {
      buf = buf.slice(0, len);
      xorAt(this.#keys.cipher, this.#active.seed!, this.#nonce, this.#pos, buf);
    }
    const at = this.#pos + this.#fileOff();
    let off = 0;
    try {
      while (off < len) off += fs.writeSync(this.#fd, buf, off, len - off, at + off);
    } catch (err) {
      // Cut what was written so the block keeps whole records only.
      try {
        fs.ftruncateSync(this.#fd, at);
      } catch {
        // Reported below.
      }
      this.#wb.reset();
      throw ioError("writing a message block", err);
    }
    this.#pos += len;
    this.#wb.reset();
    this.#writtenSeq = this.#lastAppended;
  }

  #kickSync(): void {
    if (this.#syncing || this.#fileClosed) return;
    this.#flushWrites();
    const d = this.#next;
    this.#next = undefined;
    const target = this.#writtenSeq;
    const waiters = this.#waitFn.length;
    if (target <= this.#syncedSeq) {
      d?.resolve();
      this.#drainWaiters(waiters, undefined);
      return;
    }
    this.#syncing = true;
    this.#inflight = d;
    this.#inflightSeq = target;
    fs.fdatasync(this.#fd, (err) => {
      this.#syncing = false;
      this.#inflight = undefined;
      for (const fd of this.#closeLater.splice(0)) fs.closeSync(fd);
      if (err) {
        const e = ioError("syncing a message block", err);
        d?.reject(e);
        this.#drainWaiters(waiters, e);
        return;
      }
      if (target > this.#syncedSeq) this.#syncedSeq = target;
      d?.resolve();
      this.#drainWaiters(waiters, undefined);
      if (this.#next !== undefined) this.#kickSync();
    });
  }

  #intervalSync(): void {
    if (this.#fileClosed || this.#syncing) return;
    try {
      this.#flushWrites();
      const target = this.#writtenSeq;
      this.#syncing = true;
      fs.fdatasync(this.#fd, (err) => {
        this.#syncing = false;
        for (const fd of this.#closeLater.splice(0)) fs.closeSync(fd);
        if (err) this.#onErr?.(ioError("syncing a message block", err));
        else if (target > this.#syncedSeq) this.#syncedSeq = target;
      });
    } catch (err) {
      this.#onErr?.(err);
    }
  }

  #closeFd(fd: number): void {
    if (fd < 0) return;
    if (this.#syncing) this.#closeLater.push(fd);
    else fs.closeSync(fd);
  }

  #fail(err: unknown): void {
    const d = this.#next;
    this.#next = undefined;
    const waited = this.#waitFn.length > 0;
    this.#drainWaiters(undefined, err);
    if (d !== undefined) d.reject(err);
    else if (!waited) this.#onErr?.(err);
  }

  // ---- space reclaim ----

  #scheduleMaint(): void {
    if (this.#maintScheduled) return;
    this.#maintScheduled = true;
    setImmediate(() => {
      this.#maintScheduled = false;
      if (this.#fileClosed) return;
      try {
        this.#maint();
      } catch (err) {
        this.#onErr?.(err);
      }
    });
  }

  #compressPending(): void {
    let n = 0;
    for (const b of this.#toCompress.splice(0)) {
      if (!this.#blocks.includes(b) || (b.compressed && !b.damaged) || b === this.#active) continue;
      // A rewrite keeps only records whose checksums hold (a damaged one is never sealed as good).
      this.#rewriteBlock(b);
      n++;
    }
    if (n > 0) {
      const st = this.fastState();
      this.#op(OP_LAST, st.lastSeq, st.lastTime);
      this.#commit();
    }
  }

  #maint(): void {
    this.#compressPending();
    let dropped = false;
    while (this.#blocks.length > 1 && this.#blocks[0] !== this.#active && this.#blocks[0].live <= 0) {
      const b = this.#blocks.shift()!;
      this.#cache?.drop(b.slab);
      fs.rmSync(this.#blkPath(b.idx), { force: true });
      fs.rmSync(join(this.#mdir, `${b.idx}.key`), { force: true });
      this.#sealBlock(b.idx, undefined);
      dropped = true;
    }
    if (dropped) {
      const st = this.fastState();
      this.#op(OP_LAST, st.lastSeq, st.lastTime);
      this.#commit();
      syncDir(this.#mdir);
    }
    let rewrote = false;
    for (const b of this.#blocks) {
      if (b !== this.#active && b.msgs > 0 && b.live * 2 < b.msgs) {
        this.#rewriteBlock(b);
        rewrote = true;
      }
    }
    if (rewrote) {
      // The rewritten blocks may have held the last sequence's record.
      const st = this.fastState();
      this.#op(OP_LAST, st.lastSeq, st.lastTime);
      this.#commit();
    }
  }

  /** Rewrites a block without its removed messages (and with tombstones nobody needs dropped). */
  #rewriteBlock(b: Block): void {
    const isActive = b === this.#active;
    if (isActive) this.#flushWrites();
    let data: Uint8Array;
    try {
      data = this.#readBlock(b);
    } catch (err) {
      this.#onErr?.(err);
      return;
    }
    let minFirst = Infinity;
    for (const x of this.#blocks) if (x.msgs > 0 && x.first < minFirst) minFirst = x.first;
    const out = new Uint8Array(data.length);
    let o = 0;
    let first = 0;
    let last = 0;
    let msgs = 0;
    let keepTtl = false;
    const seqs: number[] = [];
    const offs: number[] = [];
    scanBlock(data, this.#blockKey(b.idx), (r) => {
      let keep = true;
      if (r.kind === RK_MSG) {
        keep = this.hasMsg(r.seq);
        keepTtl = keep;
        if (keep) {
          if (first === 0) first = r.seq;
          last = r.seq;
          msgs++;
          seqs.push(r.seq);
          offs.push(o + (r.hdr ?? r.msg).byteOffset - data.byteOffset - r.off);
        }
      } else if (r.kind === RK_OP && r.msg[0] === OP_TTL) keep = keepTtl;
      else if (r.kind === RK_TOMB) keep = r.seq >= minFirst && !this.hasMsg(r.seq);
      if (keep) {
        out.set(data.subarray(r.off, r.off + r.len), o);
        o += r.len;
      }
    }, () => {});
    b.first = first;
    b.last = last;
    b.msgs = msgs;
    b.live = msgs;
    b.damaged = false;
    const plain = out.subarray(0, o);
    if (isActive) {
      this.#closeFd(this.#fd);
      this.#writeBlockFile(b, plain, false);
      this.#openActive(b, plain.length);
    } else {
      const file = this.#writeBlockFile(b, plain, b.compressed || this.#compress);
      const hash = this.#sealBlock(b.idx, file);
      this.#detach(b, seqs, offs, hash);
    }
  }
}

function hasBlocks(mdir: string): boolean {
  try {
    return fs.readdirSync(mdir).some((n) => n.endsWith(".blk"));
  } catch {
    return false;
  }
}

function readKeys(dir: string, name: string, enc: FsEncryption | undefined): StreamKeys | undefined {
  const keyPath = join(dir, "meta.key");
  if (!fs.existsSync(keyPath)) return undefined;
  if (enc === undefined) {
    throw new StoreError("bad_key", `stream '${name}' is encrypted and no key is configured`);
  }
  return openStreamKey(enc, name, fs.readFileSync(keyPath), keyPath).keys;
}

/** The config blocks are replayed under: no limits (the blocks hold every removal); TTLs as configured. */
function replayConfig(cfg: StoreConfig): StoreConfig {
  return {
    ...cfg,
    maxMsgs: 0,
    maxBytes: 0,
    maxAge: 0n,
    maxMsgsPerSubject: 0,
    maxMsgSize: 0,
    discardNew: false,
    discardNewPerSubject: false,
    firstSeq: 0,
  };
}
