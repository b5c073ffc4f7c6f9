// FileStore's block files: paths, checksum keys, reading a block's plain bytes (decrypting, decompressing),
// writing whole block files, the per-block sealed seeds of encrypted stores, and msgs/blocks.db. Behaviour
// follows nats-server server/filestore.go (msgBlock file handling); blocks.db is natsdeno's own (below).
//
// Rewriting an encrypted block (natsdeno's own; the reference keeps the block's keystream over rewrites,
// so two copies of a block taken before and after a compaction XOR to the XOR of their plaintexts): each
// rewrite takes a new seed and nonce, and the block file and its <N>.key change together, crash-safely:
//   1. the key the block is encrypted with now is written to <N>.key.prev (durably);
//   2. the new block goes to <N>.blk.tmp and the new key to <N>.key.tmp, both fdatasynced;
//   3. <N>.key.tmp is renamed to <N>.key, then <N>.blk.tmp to <N>.blk, and the directory is fsynced;
//   4. <N>.key.prev is removed.
// At open, a block with a <N>.key.prev or <N>.key.tmp beside it is read with whichever of those keys and
// <N>.key decrypts the longest run of good records from its start (<N>.key on a tie); that one becomes
// <N>.key and the others are removed. Every state a crash can leave holds the key of the block on disk.
//
// Converting a plain block when a key is configured for a store written without one (natsdeno's own order;
// the reference rewrites the block in place): the block has no <N>.key yet, which is what marks it plain.
//   1. its new key goes to <N>.key.tmp and the encrypted block to <N>.blk.tmp, both fdatasynced;
//   2. <N>.blk.tmp is renamed to <N>.blk, then <N>.key.tmp to <N>.key, the directory fsynced after each.
// At open, a block without <N>.key is read as plain and with <N>.key.tmp (when there is one), and the longer
// run of good records wins (plain on a tie): before step 2 the plain block wins and is converted again;
// between the renames <N>.key.tmp reads the encrypted block and becomes <N>.key.

import * as fs from "node:fs";
import { join } from "node:path";
import {
  type BlockKey,
  hh64,
  newBlockKey,
  openBlockKey,
  randomBytes,
  sealBlockKey,
  sha256Key,
  type StreamKeys,
  xorAt,
} from "./_fs_crypto.ts";
import type { BlockSlab } from "./_fs_cache.ts";
import { ioError, syncDir, writeFileDurable } from "./_fs_meta.ts";

export { ioError };
import { compressBlock, decompressBlock, isCompressed, scanBlock } from "./msg_block.ts";
import { StoreError } from "./store.ts";

/** Receives what recovery found: damaged records, torn tails, truncated blocks. */
export interface FileStoreLogger {
  warn(msg: string): void;
  error(msg: string): void;
  /** Normal but significant events (a store converted to encryption); warn() when absent. */
  notice?(msg: string): void;
}

/** A damage report found while opening a store. */
export interface FsDamage {
  file: string;
  seq: number;
  what: string;
}

export const EMPTY = new Uint8Array(0);

/** One message block of a stream. */
export interface Block {
  idx: number;
  /** First and last message sequence recorded in the block (0 when none). */
  first: number;
  last: number;
  msgs: number;
  live: number;
  compressed: boolean;
  /** The block's keystream (encrypted stores). */
  bk?: BlockKey;
  /** Damaged records were found at open: never sealed as good before a rewrite drops them. */
  damaged?: boolean;
  /** The highest sequence a tombstone in the block removes (0 or undefined: none). */
  tombHi?: number;
  /** Where the payloads of a sealed block's messages are read from (bounded block cache). */
  slab?: BlockSlab;
  /** HighwayHash of the block file the slab's offsets refer to (checked when the block is loaded). */
  fileHash?: string;
}

/**
 * Size and hash of a sealed block file; `a` marks the active block recorded at a clean stop, with the
 * stream's state at that stop: last sequence `l` and its time `t` (ns, decimal), first sequence `f`, and the
 * interior deleted sequences `d` as flat [from, to] pairs (left out when there were too many gaps).
 */
export interface SealedEntry {
  s: number;
  h: string;
  a?: 1;
  l?: number;
  t?: string;
  f?: number;
  d?: number[];
}

/** The stream's state recorded with the active block at a clean stop (see SealedEntry). */
export interface StopState {
  seq: number;
  ts: bigint;
  first: number;
  deleted: number[] | undefined;
}

/** A new block record with no messages. */
export function newBlockMeta(idx: number): Block {
  return { idx, first: 0, last: 0, msgs: 0, live: 0, compressed: false };
}

/**
 * Reads a whole block file into a buffer from `take` (a spare of at least the file's size) or one V8
 * allocates itself. Not readFileSync: its buffers are allocated outside V8's external-memory accounting, so
 * a reader walking a large stream (a new block buffer every few thousand messages, each dropped by the
 * cache soon after) grew RSS by hundreds of MiB before a GC came.
 */
export function readBlockFile(path: string, take?: (n: number) => Uint8Array | undefined): Uint8Array {
  const fd = fs.openSync(path, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const buf = take?.(size)?.subarray(0, size) ?? new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, buf, off, size - off, off);
      if (n <= 0) return buf.subarray(0, off);
      off += n;
    }
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` to a new file at `path` and fdatasyncs it (no rename). */
function writeSynced(path: string, data: Uint8Array): void {
  const fd = fs.openSync(path, "w", 0o600);
  try {
    let off = 0;
    while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off, off);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** True when `mdir` holds at least one block file. */
export function hasBlocks(mdir: string): boolean {
  try {
    return fs.readdirSync(mdir).some((n) => n.endsWith(".blk"));
  } catch {
    return false;
  }
}

/** The block files of one stream and the list of its blocks, oldest first. */
export class BlockFiles {
  /** What recovery and the cache found wrong (also logged). */
  readonly damage: FsDamage[] = [];
  blocks: Block[] = [];
  /** The highest block index found on disk or created. */
  maxIdx = 0;
  // msgs/blocks.db (natsdeno's own JSON file, the role of the reference's index.db): size and HighwayHash-64
  // of each sealed (no longer active) block file, and of the active block at a clean stop (a: 1). A block
  // cut at a record boundary is otherwise indistinguishable from a shorter block; a block whose whole-file
  // hash matches is replayed without checking every record's checksum (fast restart).
  readonly sealed = new Map<number, SealedEntry>();

  constructor(
    readonly mdir: string,
    readonly name: string,
    readonly keys: StreamKeys | undefined,
    readonly streamHKey: Uint8Array,
    readonly log: FileStoreLogger | undefined,
    readonly onErr: ((err: unknown) => void) | undefined,
  ) {}

  path(idx: number): string {
    return join(this.mdir, `${idx}.blk`);
  }

  /** The checksum key of a block's records. */
  blockKey(idx: number): Uint8Array {
    return sha256Key(`${this.name}-${idx}`);
  }

  /** Bytes before the first record in a block file (the nonce of natsdeno's earlier encrypted layout). */
  fileOff(b: Block): number {
    return b.bk?.off ?? 0;
  }

  fileHash(file: Uint8Array): string {
    let h = "";
    for (const x of hh64(this.streamHKey, file)) h += x.toString(16).padStart(2, "0");
    return h;
  }

  /** The block holding `seq`'s record. */
  find(seq: number): Block | undefined {
    for (const b of this.blocks) {
      if (b.msgs > 0 && seq >= b.first && seq <= b.last) return b;
    }
    return undefined;
  }

  /**
   * Reads a block's plain record bytes (decrypted, decompressed). With `inPlace`, `raw` is decrypted where
   * it is (the caller is done with the file's bytes) and a decompressed block goes into a buffer from `take`.
   */
  read(
    b: Block,
    raw?: Uint8Array,
    inPlace = false,
    take?: (n: number) => Uint8Array | undefined,
  ): Uint8Array {
    let data: Uint8Array = raw ?? readBlockFile(this.path(b.idx));
    // A plain Uint8Array (not a Buffer, whose slice() is a view): the bytes may be handed out as payloads.
    data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const bk = b.bk;
    if (bk !== undefined) {
      let nonce = bk.nonce;
      if (bk.off > 0) {
        if (data.length < bk.off) return EMPTY;
        nonce = data.slice(0, bk.off);
      }
      data = inPlace ? data.subarray(bk.off) : data.slice(bk.off);
      xorAt(bk.cipher, bk.seed, nonce, 0, data);
    }
    if (isCompressed(data)) {
      b.compressed = true;
      data = decompressBlock(data, take);
    }
    return data;
  }

  /** A block's key file (`<N>.key`), or one of its rewrite companions (`.prev`, `.tmp`). */
  keyPath(idx: number, suffix = ""): string {
    return join(this.mdir, `${idx}.key${suffix}`);
  }

  /**
   * Opens a block's key file (<N>.key); one opened by prev_key is re-sealed under the current key. When a
   * rewrite left <N>.key.prev or <N>.key.tmp beside it (a crash part way), `raw` (the block file) decides
   * which key is the block's: it becomes <N>.key and the companions are removed. Undefined: the block has no
   * key and `raw` is plain (a store written without encryption; see encryptPlain).
   */
  loadKey(idx: number, raw?: Uint8Array): BlockKey | undefined {
    const p = this.keyPath(idx);
    const alts = [this.keyPath(idx, ".prev"), this.keyPath(idx, ".tmp")].filter((x) => fs.existsSync(x));
    const hasKey = fs.existsSync(p);
    if (!hasKey && raw !== undefined) return this.#plainOrTmp(idx, raw, alts);
    if (alts.length === 0 || raw === undefined) {
      const r = openBlockKey(this.keys!, idx, fs.readFileSync(p));
      if (r === undefined) throw new StoreError("corrupt", `cannot open block key ${p}`);
      if (r.resealed !== undefined) writeFileDurable(p, r.resealed);
      return r.key;
    }
    const best = this.#bestKey(idx, raw, [p, ...alts], -1);
    if (best === undefined) throw new StoreError("corrupt", `cannot open block key ${p}`);
    if (best.path !== p) {
      this.log?.warn(
        `filestore '${this.name}': block ${idx} is read with ${best.path} (a rewrite was cut short); restored`,
      );
    }
    if (best.path !== p || best.resealed !== undefined) writeFileDurable(p, best.resealed ?? best.bytes);
    for (const x of alts) fs.rmSync(x, { force: true });
    syncDir(this.mdir);
    return best.key;
  }

  /**
   * A block without <N>.key: read as plain, and with each key a conversion cut short left (<N>.key.tmp); the
   * longer run of good records wins, plain on a tie. A key that wins becomes <N>.key.
   */
  #plainOrTmp(idx: number, raw: Uint8Array, alts: string[]): BlockKey | undefined {
    const best = this.#bestKey(idx, raw, alts, this.#goodPrefix(idx, raw, undefined));
    if (best !== undefined) writeFileDurable(this.keyPath(idx), best.resealed ?? best.bytes);
    for (const x of alts) fs.rmSync(x, { force: true });
    if (alts.length > 0) syncDir(this.mdir);
    return best?.key;
  }

  /**
   * Encrypts block `b`, plain on disk as `raw` (a store written without encryption now opened with a key),
   * under a new key of its own, crash-safely (steps at the top of the file); returns the new file bytes. The
   * reference's per-block summaries beside it (<N>.idx, <N>.fss: counts and subjects in clear, which
   * natsdeno does not read) are removed first; its blocks.db entry takes the new file's hash.
   */
  encryptPlain(b: Block, raw: Uint8Array): Uint8Array {
    const bp = this.path(b.idx);
    const kp = this.keyPath(b.idx);
    try {
      for (const ext of ["idx", "fss"]) fs.rmSync(join(this.mdir, `${b.idx}.${ext}`), { force: true });
      const nk = newBlockKey(this.keys!, b.idx);
      const file = raw.slice();
      xorAt(nk.key.cipher, nk.key.seed, nk.key.nonce, 0, file);
      writeSynced(`${kp}.tmp`, nk.sealed);
      writeSynced(`${bp}.tmp`, file);
      syncDir(this.mdir);
      fs.renameSync(`${bp}.tmp`, bp);
      syncDir(this.mdir);
      fs.renameSync(`${kp}.tmp`, kp);
      syncDir(this.mdir);
      b.bk = nk.key;
      const e = this.sealed.get(b.idx);
      if (e !== undefined) e.h = this.fileHash(file);
      return file;
    } catch (err) {
      throw ioError(`encrypting ${bp}`, err);
    }
  }

  /**
   * Of the key files at `paths` that open, the one that reads the longest run of good records from the start
   * of block file `raw`, when longer than `floor` bytes (the earlier path wins a tie); undefined when none.
   */
  #bestKey(
    idx: number,
    raw: Uint8Array,
    paths: string[],
    floor: number,
  ): { path: string; bytes: Uint8Array; key: BlockKey; resealed?: Uint8Array } | undefined {
    let best: { path: string; bytes: Uint8Array; key: BlockKey; resealed?: Uint8Array } | undefined;
    let bestLen = floor;
    for (const path of paths) {
      let bytes: Uint8Array;
      try {
        bytes = fs.readFileSync(path);
      } catch {
        continue;
      }
      const r = openBlockKey(this.keys!, idx, bytes);
      if (r === undefined) continue;
      const n = this.#goodPrefix(idx, raw, r.key);
      if (n > bestLen) {
        best = { path, bytes, ...r };
        bestLen = n;
      }
    }
    return best;
  }

  /** Plain bytes of good records from the start of block file `raw` read with `key` (0 when none). */
  #goodPrefix(idx: number, raw: Uint8Array, key: BlockKey | undefined): number {
    const b = newBlockMeta(idx);
    b.bk = key;
    let data: Uint8Array;
    try {
      data = this.read(b, raw);
    } catch {
      return 0;
    }
    let end = 0;
    let bad = false;
    scanBlock(data, this.blockKey(idx), (r) => {
      if (!bad) end = r.off + r.len;
    }, () => {
      bad = true;
    });
    return end;
  }

  /**
   * Writes a whole block file (plain bytes; compressed when asked) atomically; returns the file bytes. An
   * encrypted block is written under a new keystream: a new <N>.key (see the top of the file), or, in the
   * earlier layout, a new nonce at the front of the file.
   */
  write(b: Block, plain: Uint8Array, compress: boolean): Uint8Array {
    let body = compress ? compressBlock(plain) : plain;
    if (body.length >= plain.length && compress) body = plain;
    b.compressed = body !== plain;
    const bk = b.bk;
    if (bk !== undefined && bk.off === 0) return this.#rekey(b, body);
    let file = body;
    if (bk !== undefined) {
      const nonce = randomBytes(bk.off);
      file = new Uint8Array(bk.off + body.length);
      file.set(nonce, 0);
      file.set(body, bk.off);
      xorAt(bk.cipher, bk.seed, nonce, 0, file.subarray(bk.off));
    }
    writeFileDurable(this.path(b.idx), file);
    return file;
  }

  /** Replaces an encrypted block's file and key with `body` under a new key (steps at the top of the file). */
  #rekey(b: Block, body: Uint8Array): Uint8Array {
    const nk = newBlockKey(this.keys!, b.idx);
    const file = body.slice();
    xorAt(nk.key.cipher, nk.key.seed, nk.key.nonce, 0, file);
    const kp = this.keyPath(b.idx);
    const prev = this.keyPath(b.idx, ".prev");
    const bp = this.path(b.idx);
    // The key in memory is the one the block file on disk is encrypted with (whatever <N>.key holds).
    writeFileDurable(prev, sealBlockKey(this.keys!, b.idx, b.bk!));
    let keyMoved = false;
    try {
      writeSynced(`${kp}.tmp`, nk.sealed);
      writeSynced(`${bp}.tmp`, file);
      fs.renameSync(`${kp}.tmp`, kp);
      keyMoved = true;
      fs.renameSync(`${bp}.tmp`, bp);
    } catch (err) {
      // The block file is the old one: so must <N>.key be (at worst <N>.key.prev stays for the next open).
      try {
        if (keyMoved) fs.renameSync(prev, kp);
        fs.rmSync(`${kp}.tmp`, { force: true });
        fs.rmSync(`${bp}.tmp`, { force: true });
      } catch {
        // Recovery picks the key that reads the block.
      }
      throw ioError(`rewriting ${bp}`, err);
    }
    b.bk = nk.key;
    syncDir(this.mdir);
    try {
      fs.rmSync(prev, { force: true });
    } catch {
      // A leftover <N>.key.prev is removed at the next open.
    }
    return file;
  }

  /** Creates the next block's files (empty block, sealed seed) and appends it to the list. */
  create(): Block {
    // Past every index seen on disk: an unreadable block left out of the list keeps its file and number.
    const last = this.blocks.length > 0 ? this.blocks[this.blocks.length - 1].idx : 0;
    const idx = Math.max(last, this.maxIdx) + 1;
    this.maxIdx = idx;
    const b = newBlockMeta(idx);
    if (this.keys !== undefined) {
      const nk = newBlockKey(this.keys, idx);
      b.bk = nk.key;
      writeFileDurable(this.keyPath(idx), nk.sealed);
    }
    writeFileDurable(this.path(idx), EMPTY);
    this.blocks.push(b);
    return b;
  }

  /** Removes a block's files and its blocks.db entry. */
  remove(b: Block): void {
    fs.rmSync(this.path(b.idx), { force: true });
    fs.rmSync(this.keyPath(b.idx), { force: true });
    fs.rmSync(this.keyPath(b.idx, ".prev"), { force: true });
    this.seal(b.idx, undefined);
  }

  /**
   * Records a block file's size and hash in blocks.db (`file` undefined forgets it); returns the hash.
   * `last` marks the active block at a clean stop and records the stream's state then: recovery keeps its
   * last sequence, first sequence and removals when the blocks lost the records that held them (a last
   * block cut short or deleted).
   */
  seal(idx: number, file: Uint8Array | undefined, last?: StopState): string {
    let h = "";
    if (file === undefined) this.sealed.delete(idx);
    else {
      h = this.fileHash(file);
      this.sealed.set(
        idx,
        last === undefined ? { s: file.length, h } : {
          s: file.length,
          h,
          a: 1,
          l: last.seq,
          t: last.ts.toString(),
          f: last.first,
          ...(last.deleted !== undefined && last.deleted.length > 0 ? { d: last.deleted } : {}),
        },
      );
    }
    this.saveSealed();
    return h;
  }

  /** Writes blocks.db. */
  saveSealed(): void {
    writeFileDurable(
      join(this.mdir, "blocks.db"),
      new TextEncoder().encode(JSON.stringify(Object.fromEntries(this.sealed))),
    );
  }

  /** Loads blocks.db; a missing or unreadable one means block sizes are not checked. */
  loadSealed(): void {
    try {
      const raw = JSON.parse(fs.readFileSync(join(this.mdir, "blocks.db"), "utf8")) as Record<
        string,
        SealedEntry
      >;
      for (const [k, v] of Object.entries(raw)) this.sealed.set(Number(k), v);
    } catch {
      // Missing or unreadable: block sizes are not checked.
    }
  }

  /** Records and reports damage (file, sequence when known). */
  damaged(file: string, seq: number, what: string): void {
    this.damage.push({ file, seq, what });
    const msg = `filestore '${this.name}': ${what} in ${file}${seq > 0 ? ` (sequence ${seq})` : ""}`;
    if (this.log !== undefined) this.log.error(msg);
    else this.onErr?.(new StoreError("corrupt", msg));
  }
}
