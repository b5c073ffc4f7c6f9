// FileStore: JetStream's durable stream store. Behaviour follows nats-server server/filestore.go; the
// on-disk record layout is the reference's (msg_block.ts), the rest is natsdeno's own and said so below.
//
// Layout under the stream directory: meta.inf/meta.sum (the stream config JSON given by jetstream), meta.key
// (the sealed stream key, encrypted stores only), msgs/<N>.blk message blocks (+ <N>.key sealed block
// seeds), msgs/blocks.db, obs/<consumer>/{o.dat,meta.inf,meta.sum,meta.key}, and encrypt.pending while a store
// written without encryption is being converted (_fs_keys.ts).
//
// How it works: the index is a MemStore (this class extends it), so every query is the MemStore's; every
// change the MemStore makes is journaled through its hooks as records appended to the active block:
// messages, tombstones for removals, and op records (compact, truncate, skip, TTL, last sequence). The
// payloads of sealed blocks are not kept in memory: they are read back through a bounded block cache.
//
// Write errors (ENOSPC, EIO, EFBIG, EACCES on a new block): no message is acknowledged before its write (and,
// without sync_interval, its fdatasync) succeeded. As the reference, a new block is started before a record
// that would take the active one past the block size, and before the index changes, so a failure there
// refuses the message itself; a failed write or fdatasync cuts the block back to its last
// good record, removes the messages it held from the index (their sequences stay used) and fails their acks;
// reads go on, and the next message tries again.
//
// Modules, each importing only those below it:
//   filestore.ts     this class: the StreamStore surface, journal hooks, write-error rollback, stop
//   _fs_keys.ts      stream and consumer keys of encrypted stores
//   _fs_maint.ts     block rotation and space reclaim: dropping empty blocks, rewrites, compression
//   _fs_recover.ts   replay of the blocks on open, torn tails, damage reports
//   _fs_writer.ts    the write path and group commit (flushed/onFlushed)
//   _fs_reads.ts     sealed blocks' payloads moved out of memory and loaded on demand
//   _fs_blocks.ts    block files, blocks.db, damage log;  _fs_cache.ts  the LRU of decoded blocks
//   msg_block.ts     the record format; _fs_crypto.ts, _fs_meta.ts, _fs_consumer.ts  keys, metadata, consumers

import * as fs from "node:fs";
import { join } from "node:path";
import {
  BlockFiles,
  EMPTY,
  type FileStoreLogger,
  type FsDamage,
  ioError,
  readBlockFile,
} from "./_fs_blocks.ts";
import { BLOCK_CACHE_BYTES, BLOCK_CACHE_IDLE_MS } from "./_fs_cache.ts";
import { FileConsumerStore, writeMetaJson } from "./_fs_consumer.ts";
import { type FsEncryption, sha256Key, type StreamKeys } from "./_fs_crypto.ts";
import { consumerKeys, finishEncryption, openStoreKeys, readStoreKeys } from "./_fs_keys.ts";
import { Maintenance } from "./_fs_maint.ts";
import { readMetaFile } from "./_fs_meta.ts";
import { BlockReads } from "./_fs_reads.ts";
import { recoverBlocks, type Recovered } from "./_fs_recover.ts";
import { BlockWriter } from "./_fs_writer.ts";
import { fileStoreMsgSize, MemStore, type MemStoreOptions } from "./memstore.ts";
import { OP_COMPACT, OP_LAST, OP_SKIP, OP_TRUNCATE, OP_TTL, subjBytes, TBIT } from "./msg_block.ts";
import {
  type ConsumerStore,
  type ConsumerStoreConfig,
  type StorageType,
  type StoreConfig,
  StoreError,
} from "./store.ts";

export type { FsCipher, FsEncryption } from "./_fs_crypto.ts";
export type { FileStoreLogger, FsDamage } from "./_fs_blocks.ts";

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

const MSGS = "msgs";
const OBS = "obs";
const DEFAULT_BLOCK = 8 * 1024 * 1024;
const ENCRYPTED_BLOCK = 2 * 1024 * 1024;
const MIN_BLOCK = 32_000;
/** Bytes of a record without subject, header or payload (a tombstone), and of an op record with its argument. */
const REC_LEN = 30;
const OP_REC_LEN = REC_LEN + 9;
/** At most this many gaps of deleted sequences are recorded in blocks.db at a clean stop. */
const MAX_STOP_RUNS = 10_000;

/** The durable stream store. */
export class FileStore extends MemStore {
  readonly dir: string;
  readonly #mdir: string;
  readonly #name: string;
  readonly #blockSize: number;
  readonly #keys: StreamKeys | undefined;
  readonly #enc: FsEncryption | undefined;
  readonly #streamHKey: Uint8Array;
  #files!: BlockFiles;
  #writer!: BlockWriter;
  #reads!: BlockReads;
  #maint!: Maintenance;
  #replaying = true;
  /** A rollback after a failed write is truncating the index: nothing is journaled. */
  #rollingBack = false;
  /** The last sequence and time before a rollback, journaled with the next message (see #rollback). */
  #hole: { seq: number; ts: bigint } | undefined;
  #consumers = new Set<FileConsumerStore>();
  #subjCache = new Map<string, Uint8Array>();

  constructor(cfg: StoreConfig, opts: FileStoreOptions) {
    // The reference refuses blocks over its large block size (8 MiB) before touching the disk.
    if ((opts.blockSize ?? 0) > DEFAULT_BLOCK) throw new RangeError("filestore max block size is 8.00 MB");
    super(replayConfig(cfg), { ...opts, fileSizes: true });
    this.dir = opts.dir;
    this.#mdir = join(opts.dir, MSGS);
    this.#name = cfg.name;
    this.#streamHKey = sha256Key(cfg.name);
    this.#enc = opts.encryption;
    let bs = opts.blockSize ?? (opts.encryption !== undefined ? ENCRYPTED_BLOCK : DEFAULT_BLOCK);
    if (opts.blockSize === undefined && opts.encryption !== undefined && bs > ENCRYPTED_BLOCK) {
      bs = ENCRYPTED_BLOCK;
    }
    this.#blockSize = Math.max(opts.blockSize !== undefined ? 1024 : MIN_BLOCK, bs);
    const syncInterval = opts.syncAlways ? 0 : (opts.syncIntervalMs ?? 0);
    let rec: Recovered;
    // A store written without encryption and opened with a key is converted: one notice per open.
    let announced = false;
    const announce = () => {
      if (announced || opts.encryption === undefined) return;
      announced = true;
      const msg = `  Encrypting stream '${opts.encryption.account} > ${cfg.name}'`;
      if (opts.logger?.notice !== undefined) opts.logger.notice(msg);
      else opts.logger?.warn(msg);
    };
    try {
      const ok = openStoreKeys(this.dir, this.#mdir, cfg.name, opts.encryption, announce);
      this.#keys = ok.keys;
      const files = new BlockFiles(
        this.#mdir,
        cfg.name,
        this.#keys,
        this.#streamHKey,
        opts.logger,
        opts.onError,
      );
      this.#files = files;
      this.#writer = new BlockWriter(files, syncInterval, opts.onError);
      this.#writer.onFailure = (err, keep) => this.#rollback(err, keep);
      this.#reads = new BlockReads(
        files,
        opts.blockCacheBytes ?? BLOCK_CACHE_BYTES,
        opts.blockCacheIdleMs ?? BLOCK_CACHE_IDLE_MS,
        (seq, slab, off) => this.repoint(seq, slab, off),
      );
      this.#maint = new Maintenance(files, this.#writer, this.#reads, {
        hasMsg: (seq) => this.hasMsg(seq),
        last: () => {
          const st = this.fastState();
          return { seq: st.lastSeq, ts: st.lastTime };
        },
      }, cfg.compression === "s2");
      fs.mkdirSync(join(this.dir, OBS), { recursive: true, mode: 0o700 });
      fs.mkdirSync(this.#mdir, { recursive: true, mode: 0o700 });
      if (opts.meta !== undefined) this.setMeta(opts.meta);
      rec = recoverBlocks(files, this.#reads, {
        fastState: () => this.fastState(),
        filteredState: (seq, subj) => this.filteredState(seq, subj),
        storeRawMsg: (subj, hdr, msg, seq, ts, ttl, check) =>
          this.storeRawMsg(subj, hdr, msg, seq, ts, ttl, check),
        skipAt: (seq, num, ts) => this.skipAt(seq, num, ts),
        removeMsg: (seq) => this.removeMsg(seq),
        compact: (seq) => this.compact(seq),
        truncate: (seq) => this.truncate(seq),
      }, announce);
      if (ok.converting) finishEncryption(this.dir, ok.keys!, opts.encryption!, cfg.name, announce);
      if (rec.active === undefined) this.#writer.open(files.create(), 0);
      else this.#writer.open(rec.active, rec.pos);
    } catch (err) {
      this.#replaying = false;
      if (this.#writer !== undefined && this.#writer.fd >= 0) fs.closeSync(this.#writer.fd);
      super.stop();
      if (err instanceof StoreError) throw err;
      throw ioError(`opening ${this.dir}`, err);
    }
    this.#replaying = false;
    const w = this.#writer;
    const st = this.fastState();
    w.lastAppended = w.writtenSeq = w.syncedSeq = st.lastSeq;
    if (rec.stop !== undefined) this.#reapplyStop(rec.stop.first, rec.stop.deleted);
    if (st.lastSeq === 0 && (cfg.firstSeq ?? 0) > 1) this.compact(cfg.firstSeq!);
    this.updateConfig(cfg);
    const m = this.#maint;
    if (m.compress) {
      // Blocks sealed before a crash or written before compression was turned on.
      for (const b of this.#files.blocks) if (b !== w.active && !b.compressed) m.toCompress.push(b);
    }
    // Damaged blocks are rewritten without their bad records (reported above) before they are sealed.
    for (const b of this.#files.blocks) {
      if (b !== w.active && b.damaged && !m.toCompress.includes(b)) m.toCompress.push(b);
    }
    if (m.toCompress.length > 0) m.schedule();
    w.startTimer();
  }

  /** Reads a stream directory's meta.inf (the stream config JSON) without opening the store. */
  static readMeta(dir: string, name: string, encryption?: FsEncryption): unknown {
    const keys = readStoreKeys(dir, name, encryption);
    return readMetaFile(dir, keys, sha256Key(name));
  }

  /** The maximum size of a block in bytes. */
  get blockSize(): number {
    return this.#blockSize;
  }

  /** What recovery and later block loads found wrong (also logged). */
  get damage(): FsDamage[] {
    return this.#files?.damage ?? [];
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
    return readMetaFile(
      dir,
      consumerKeys(this.#keys, this.#enc, this.#name, name, dir),
      sha256Key(`${this.#name}/${name}`),
    );
  }

  /** The decoded-block cache: bytes and blocks held, loads and misses (undefined when disabled). */
  cacheStats(): { bytes: number; blocks: number; loads: number; misses: number } | undefined {
    const c = this.#reads.cache;
    return c === undefined ? undefined : { bytes: c.size, blocks: c.count, loads: c.loads, misses: c.misses };
  }

  override type(): StorageType {
    return "file";
  }

  override flushed(seq: number): Promise<void> | undefined {
    return this.#writer.flushed(seq);
  }

  override onFlushed<A, B>(seq: number, fn: (err: unknown, a: A, b: B) => void, a: A, b: B): boolean {
    return this.#writer.onFlushed(seq, fn, a, b);
  }

  override updateConfig(cfg: StoreConfig): void {
    this.#maint.compress = cfg.compression === "s2";
    super.updateConfig(cfg);
  }

  override stop(): void {
    const w = this.#writer;
    if (w === undefined || w.closed) {
      super.stop();
      return;
    }
    const onErr = this.#files.onErr;
    try {
      this.#maint.compressPending();
    } catch (err) {
      onErr?.(err);
    }
    for (const cs of [...this.#consumers]) {
      try {
        cs.flushNow();
      } catch (err) {
        onErr?.(err);
      }
    }
    let failed: unknown;
    try {
      w.flushWrites();
      w.syncNow();
      // A clean stop: the active block's hash lets the next open skip per-record checks.
      const files = this.#files;
      const st = this.fastState();
      if (!w.active.damaged) {
        files.seal(w.active.idx, readBlockFile(files.path(w.active.idx)), {
          seq: st.lastSeq,
          ts: st.lastTime,
          first: st.firstSeq,
          deleted: this.deletedRuns(MAX_STOP_RUNS),
        });
      } else if (files.sealed.has(w.active.idx)) files.seal(w.active.idx, undefined);
    } catch (err) {
      if (w.syncedSeq < w.lastAppended) failed = err;
      onErr?.(err);
    }
    w.close(failed);
    this.#reads.cache?.clear();
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
    const dir = join(this.dir, OBS, encodeURIComponent(name));
    const cs: FileConsumerStore = new FileConsumerStore(
      dir,
      cfg,
      consumerKeys(this.#keys, this.#enc, this.#name, name, dir),
      sha256Key(`${this.#name}/${name}`),
      () => {
        this.#consumers.delete(cs);
        onStop();
      },
    );
    this.#consumers.add(cs);
    return cs;
  }

  // ---- appends: checked before the index changes ----

  override storeMsg(
    subject: string,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    ttlNs?: bigint,
  ): { seq: number; ts: bigint } {
    this.#beforeWrite(this.#recLen(subject, hdr, msg, ttlNs));
    return super.storeMsg(subject, hdr, msg, ttlNs);
  }

  override storeRawMsg(
    subject: string,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    seq: number,
    ts: bigint,
    ttlNs?: bigint,
    discardNewCheck?: boolean,
  ): void {
    if (!this.#replaying) this.#beforeWrite(this.#recLen(subject, hdr, msg, ttlNs));
    super.storeRawMsg(subject, hdr, msg, seq, ts, ttlNs, discardNewCheck);
  }

  override skipMsg(): number {
    this.#beforeWrite(OP_REC_LEN);
    return super.skipMsg();
  }

  override skipMsgNoInterest(seq?: number): number {
    this.#beforeWrite(OP_REC_LEN);
    return super.skipMsgNoInterest(seq);
  }

  override skipMsgs(seq: number, num: number): void {
    this.#beforeWrite(OP_REC_LEN);
    super.skipMsgs(seq, num);
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
    let sb = this.#subjCache.get(subj);
    if (sb === undefined) {
      if (this.#subjCache.size >= 4096) this.#subjCache.clear();
      sb = subjBytes(subj);
      this.#subjCache.set(subj, sb);
    }
    const hl = hdr !== undefined && hdr.length > 0 ? hdr.length + 4 : 0;
    this.#rotateQuiet(REC_LEN + sb.length + hl + msg.length + (ttlNs !== 0n ? OP_REC_LEN : 0));
    const w = this.#writer;
    const b = w.active;
    w.append(seq, 0, ts, sb, hdr, msg);
    // A TTL, or -1 for a Nats-TTL of "never" (exempt from max_age).
    if (ttlNs !== 0n) w.op(OP_TTL, seq, ts, ttlNs);
    if (b.first === 0) b.first = seq;
    b.last = seq;
    b.msgs++;
    b.live++;
    w.lastAppended = seq;
    w.commit();
  }

  protected override journalRemove(seq: number, erase: boolean): void {
    if (this.#replaying || this.#rollingBack) return;
    this.#rotateQuiet(REC_LEN);
    const w = this.#writer;
    w.append(seq, TBIT, this.fastState().lastTime, EMPTY, undefined, EMPTY);
    if (seq > (w.active.tombHi ?? 0)) w.active.tombHi = seq;
    const b = this.#files.find(seq);
    if (b !== undefined) {
      b.live--;
      if (erase) {
        w.flushWrites();
        this.#maint.rewriteBlock(b);
        // The rewrite drops the block's op records (and the block itself when nothing is left in it): the
        // last sequence is journaled again.
        const st = this.fastState();
        w.op(OP_LAST, st.lastSeq, st.lastTime);
      } else if (b !== w.active && (b.live === 0 || b.live * 2 < b.msgs)) this.#maint.schedule();
    }
    w.commit();
  }

  protected override journalCompact(seq: number): void {
    if (this.#replaying) return;
    this.#rotateQuiet(OP_REC_LEN);
    this.#writer.op(OP_COMPACT, seq, this.fastState().lastTime);
    for (const b of this.#files.blocks) {
      if (b.msgs > 0 && b.last < seq) b.live = 0;
      else if (b.msgs > 0 && b.first < seq) {
        b.live = this.filteredState(b.first, "").msgs - this.filteredState(b.last + 1, "").msgs;
      }
    }
    this.#maint.schedule();
    this.#writer.commit();
  }

  protected override journalTruncate(seq: number): void {
    if (this.#replaying || this.#rollingBack) return;
    this.#rotateQuiet(OP_REC_LEN);
    const w = this.#writer;
    w.flushWrites();
    // Sequences above `seq` will be reused: drop their records from the blocks now.
    for (const b of [...this.#files.blocks]) if (b.msgs > 0 && b.last > seq) this.#maint.rewriteBlock(b);
    w.op(OP_TRUNCATE, seq, this.fastState().lastTime);
    // A last sequence recorded at a clean stop no longer holds: forget it.
    const files = this.#files;
    for (const [idx, e] of [...files.sealed]) if (e.l !== undefined && e.l > seq) files.seal(idx, undefined);
    w.lastAppended = seq;
    w.writtenSeq = Math.min(w.writtenSeq, seq);
    w.syncedSeq = Math.min(w.syncedSeq, seq);
    w.commit();
  }

  protected override journalSkip(seq: number, num: number, ts: bigint): void {
    if (this.#replaying) return;
    this.#rotateQuiet(OP_REC_LEN);
    const w = this.#writer;
    w.op(OP_SKIP, seq, ts, BigInt(num));
    w.lastAppended = seq + num - 1;
    w.commit();
  }

  /**
   * After replay: removals the last clean stop recorded (first sequence, interior deletes) whose records
   * the blocks no longer hold (a torn or cut last block) are applied and journaled again. Sequences are never
   * reused (a truncate forgets the stop records), so an acknowledged removal or purge never comes back.
   */
  #reapplyStop(first: number, deleted: number[]): void {
    let n = 0;
    const st = this.fastState();
    if (st.msgs > 0 && st.firstSeq < first) {
      n += this.compact(Math.min(first, st.lastSeq + 1));
    }
    for (let i = 0; i + 1 < deleted.length; i += 2) {
      const from = deleted[i];
      const to = deleted[i + 1];
      if (typeof from === "number" && typeof to === "number" && to >= from) n += this.removeRange(from, to);
    }
    if (n > 0) {
      const msg = `filestore '${this.#name}': ${n} messages removed before the last clean stop were back ` +
        `(their removal records were lost); removed again`;
      this.#files.log?.warn(msg);
    }
  }

  /** The bytes a message's records take in a block (the message, and its TTL op when it has one). */
  #recLen(subject: string, hdr: Uint8Array | undefined, msg: Uint8Array, ttlNs: bigint | undefined): number {
    const ttl = ttlNs !== undefined && ttlNs !== 0n && this.cfg.allowMsgTtl ? OP_REC_LEN : 0;
    const sb = this.#subjCache.get(subject);
    if (sb === undefined) return fileStoreMsgSize(subject, hdr, msg) + ttl;
    const hl = hdr !== undefined && hdr.length > 0 ? hdr.length + 4 : 0;
    return REC_LEN + sb.length + hl + msg.length + ttl;
  }

  /** Seals the active block and starts a new one when a record of `rl` bytes would take it past its size. */
  #maybeRotate(rl: number): void {
    if (this.#writer.full(this.#blockSize, rl)) this.#maint.rotate();
  }

  /** Rotation from a journal hook, inside a MemStore change: a failure is retried by the next store. */
  #rotateQuiet(rl: number): void {
    try {
      this.#maybeRotate(rl);
    } catch {
      // A failed write schedules its rollback; a block that cannot be started leaves the active one longer.
    }
  }

  /**
   * Before a new message or sequence: refuses it while a failed write awaits its rollback, and starts a new
   * block when the active one is full, so that these failures reach the publisher before the index changes.
   */
  #beforeWrite(rl: number): void {
    if (this.#replaying) return;
    const w = this.#writer;
    if (w.failed !== undefined) throw new StoreError("io", w.failed.message, { cause: w.failed });
    try {
      w.checkSpace(); // after ENOSPC: refused with it until the failed write would fit again
      this.#maybeRotate(rl);
    } catch (err) {
      throw err instanceof StoreError ? err : ioError("starting a new message block", err);
    }
    this.#maint.catchUp();
    const h = this.#hole;
    if (h !== undefined) {
      // The sequences of messages dropped after a failed write stay used: recorded before the next message.
      this.#hole = undefined;
      w.op(OP_LAST, h.seq, h.ts);
      if (h.seq > w.lastAppended) w.lastAppended = h.seq;
    }
  }

  /**
   * A write or fdatasync failed: messages above `keep` are not on disk, so they leave the index and their
   * publishers get `err`. Their sequences stay used (a hole, recorded with the next message): consumers may
   * have delivered them already, and a consumer past a sequence must not miss a new message that reuses it.
   */
  #rollback(err: StoreError, keep: number): void {
    const st = this.fastState();
    let dropped = 0;
    if (st.lastSeq > keep && !this.isClosed) {
      this.#rollingBack = true;
      try {
        for (let m = this.loadNextMsg("", keep + 1); m !== undefined; m = this.loadNextMsg("", m.seq + 1)) {
          if (this.removeMsg(m.seq)) dropped++;
        }
      } finally {
        this.#rollingBack = false;
      }
      this.#hole = { seq: st.lastSeq, ts: st.lastTime };
    }
    const msg = `filestore '${this.#name}': ${err.message}; ${dropped} unacknowledged messages dropped` +
      (st.lastSeq > keep ? ` (sequences ${keep + 1}-${st.lastSeq} stay used)` : "");
    const log = this.#files.log;
    if (log !== undefined) log.error(msg);
    else this.#files.onErr?.(new StoreError("io", msg, { cause: err }));
    this.#maint.recountActive();
  }
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
