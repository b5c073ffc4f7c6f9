// FileStore reads of sealed blocks: the index records of a sealed block's messages point into a BlockSlab,
// whose bytes the bounded BlockCache (_fs_cache.ts) loads from the block file on first use. Loading checks
// that the file is still the one written (its hash) and serves only records whose checksums hold when not.

import { type Block, type BlockFiles, EMPTY, readBlockFile } from "./_fs_blocks.ts";
import { BlockCache, BlockSlab, type BufferPool } from "./_fs_cache.ts";
import type { Slab } from "./_index.ts";
import { RK_MSG, scanBlock } from "./msg_block.ts";

/** Points the index record of `seq` at `off` in `slab`; false when the message is not stored. */
export type Repoint = (seq: number, slab: Slab, off: number) => boolean;

/** Moves sealed blocks' payloads out of memory and loads them back through the cache. */
export class BlockReads {
  readonly cache: BlockCache | undefined;

  constructor(
    readonly files: BlockFiles,
    cacheBytes: number,
    idleMs: number,
    readonly repoint: Repoint,
  ) {
    if (cacheBytes > 0) {
      this.cache = new BlockCache(cacheBytes, (s, pool) => this.#loadSlab(s, pool), idleMs);
    }
  }

  /**
   * Moves the payloads of a sealed block's messages out of memory: records at `seqs[i]` now point at
   * `offs[i]` in the block's plain bytes (`plain`, cached when given). `hash` is the file's HighwayHash.
   */
  detach(b: Block, seqs: ArrayLike<number>, offs: ArrayLike<number>, hash: string, plain?: Uint8Array): void {
    const cache = this.cache;
    if (cache === undefined) return;
    cache.drop(b.slab);
    const slab = new BlockSlab(cache, b.idx);
    b.slab = slab;
    b.fileHash = hash;
    for (let i = 0; i < seqs.length; i++) this.repoint(seqs[i], slab, offs[i]);
    if (plain !== undefined) cache.put(slab, plain);
  }

  /** The message records of a block's plain bytes: sequences and payload offsets. */
  msgOffsets(plain: Uint8Array, idx: number): { seqs: number[]; offs: number[] } {
    const seqs: number[] = [];
    const offs: number[] = [];
    scanBlock(
      plain,
      this.files.blockKey(idx),
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

  /**
   * Reads a sealed block for the cache. Never throws (loads happen inside deliveries): an unreadable block
   * marks the slab failed, and a block changed on disk since it was written serves only the records whose
   * checksums hold; both are reported once per load.
   */
  #loadSlab(s: BlockSlab, pool: BufferPool): Uint8Array {
    const files = this.files;
    let b: Block | undefined;
    for (const x of files.blocks) {
      if (x.idx === s.idx) {
        b = x;
        break;
      }
    }
    const file = files.path(s.idx);
    try {
      if (b === undefined || b.slab !== s) throw new Error("the block is gone");
      const take = (n: number) => pool.take(n);
      const raw = readBlockFile(file, take);
      const changed = b.fileHash !== undefined && files.fileHash(raw) !== b.fileHash;
      const data = files.read(b, raw, true, take);
      // Decompressed into another buffer: the file's bytes are done with.
      if (data.buffer !== raw.buffer) pool.give(raw);
      if (changed) {
        const good = new Set<number>();
        let nbad = 0;
        const stop = scanBlock(data, files.blockKey(s.idx), (r) => {
          if (r.kind === RK_MSG) good.add((r.hdr ?? r.msg).byteOffset - data.byteOffset);
        }, () => nbad++);
        s.good = good;
        files.damaged(
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
      files.damaged(
        file,
        0,
        `unreadable block: ${(err as Error)?.message ?? err}; its messages are not served`,
      );
      return EMPTY;
    }
  }
}
