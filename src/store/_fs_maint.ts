// FileStore block lifecycle: rotation (sealing the active block), and space reclaim off the publish path
// (setImmediate, or before the next message when a busy producer starves it): the first blocks whose
// messages are all gone are removed; a sealed block with at least half of its messages removed is rewritten
// without them; with compression s2 a block is compressed whole once sealed; damaged blocks are rewritten
// without their bad records. Behaviour follows nats-server server/filestore.go (compact, removeMsgBlock,
// compressed blocks).

import { type Block, type BlockFiles, readBlockFile } from "./_fs_blocks.ts";
import type { BlockReads } from "./_fs_reads.ts";
import type { BlockWriter } from "./_fs_writer.ts";
import { OP_LAST, OP_TTL, RK_MSG, RK_OP, RK_TOMB, scanBlock } from "./msg_block.ts";
import { syncDir } from "./_fs_meta.ts";

/** What maintenance needs of the store (MemStore methods bound by FileStore). */
export interface MaintTarget {
  /** True when the message at `seq` is stored. */
  hasMsg(seq: number): boolean;
  /** The last sequence and its time, journaled after blocks are dropped or rewritten. */
  last(): { seq: number; ts: bigint };
}

/** Block drops, rewrites and compression. */
export class Maintenance {
  /** Sealed blocks waiting to be compressed or rewritten without damage. */
  readonly toCompress: Block[] = [];
  /** Stream compression is on (s2). */
  compress: boolean;
  #scheduled = false;
  /** Blocks sealed since the pending pass was scheduled. */
  #waited = 0;

  constructor(
    readonly files: BlockFiles,
    readonly writer: BlockWriter,
    readonly reads: BlockReads,
    readonly t: MaintTarget,
    compress: boolean,
  ) {
    this.compress = compress;
  }

  /** Runs a maintenance pass in a later macrotask. */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#waited = 0;
    setImmediate(() => this.#pass());
  }

  /**
   * Runs a scheduled pass now when two blocks were sealed while it waited: a producer that never yields to
   * the event loop (a tight loop whose flushed() is already satisfied by rotation's fdatasync) starves
   * setImmediate, and nothing would be reclaimed. Call only outside a MemStore change.
   */
  catchUp(): void {
    if (this.#scheduled && this.#waited >= 2) this.#pass();
  }

  #pass(): void {
    if (!this.#scheduled) return;
    this.#scheduled = false;
    if (this.writer.closed) return;
    try {
      this.#run();
    } catch (err) {
      this.files.onErr?.(err);
    }
  }

  /** Compresses (or rewrites without damage) the queued sealed blocks now. */
  compressPending(): void {
    let n = 0;
    for (const b of this.toCompress.splice(0)) {
      if (!this.files.blocks.includes(b) || (b.compressed && !b.damaged) || b === this.writer.active) {
        continue;
      }
      // The rewrite drops the block's op records: the last sequence is made durable elsewhere first.
      if (n === 0) this.#secureLast();
      // A rewrite keeps only records whose checksums hold (a damaged one is never sealed as good).
      this.rewriteBlock(b);
      n++;
    }
  }

  /**
   * Rewrites a block without its removed messages (and with tombstones nobody needs dropped). A sealed block
   * left with no records at all is removed: an interior block whose messages all went (per-subject limits,
   * removals) would otherwise stay as an empty file for as long as an older block keeps a live message.
   */
  rewriteBlock(b: Block): void {
    const { files, writer } = this;
    const isActive = b === writer.active;
    if (isActive) writer.flushWrites();
    let data: Uint8Array;
    try {
      data = files.read(b);
    } catch (err) {
      files.onErr?.(err);
      return;
    }
    let minFirst = Infinity;
    for (const x of files.blocks) if (x.msgs > 0 && x.first < minFirst) minFirst = x.first;
    const out = new Uint8Array(data.length);
    let o = 0;
    let first = 0;
    let last = 0;
    let msgs = 0;
    let tombHi = 0;
    let keepTtl = false;
    const seqs: number[] = [];
    const offs: number[] = [];
    scanBlock(data, files.blockKey(b.idx), (r) => {
      let keep = true;
      if (r.kind === RK_MSG) {
        keep = this.t.hasMsg(r.seq);
        keepTtl = keep;
        if (keep) {
          if (first === 0) first = r.seq;
          last = r.seq;
          msgs++;
          seqs.push(r.seq);
          offs.push(o + (r.hdr ?? r.msg).byteOffset - data.byteOffset - r.off);
        }
      } else if (r.kind === RK_OP && r.msg[0] === OP_TTL) keep = keepTtl;
      else if (r.kind === RK_TOMB) keep = r.seq >= minFirst && !this.t.hasMsg(r.seq);
      if (keep) {
        if (r.kind === RK_TOMB && r.seq > tombHi) tombHi = r.seq;
        out.set(data.subarray(r.off, r.off + r.len), o);
        o += r.len;
      }
    }, () => {});
    b.first = first;
    b.last = last;
    b.msgs = msgs;
    b.live = msgs;
    b.tombHi = tombHi;
    b.damaged = false;
    const plain = out.subarray(0, o);
    if (!isActive && o === 0) {
      const i = files.blocks.indexOf(b);
      if (i >= 0) files.blocks.splice(i, 1);
      this.reads.cache?.drop(b.slab);
      files.remove(b);
      return;
    }
    if (isActive) {
      files.write(b, plain, false);
      writer.open(b, plain.length); // closes the replaced file's fd
    } else {
      const file = files.write(b, plain, b.compressed || this.compress);
      const hash = files.seal(b.idx, file);
      this.reads.detach(b, seqs, offs, hash);
    }
  }

  /**
   * Seals the active block and starts a new one. The new block is made first: when it cannot be (disk full,
   * read-only directory), nothing has changed and the error is thrown.
   */
  rotate(): void {
    const { files, writer: w } = this;
    w.flushWrites();
    w.syncNow();
    const old = w.active;
    const nb = files.create();
    try {
      w.open(nb, 0);
    } catch (err) {
      files.blocks.pop();
      try {
        files.remove(nb);
      } catch {
        // An empty block left behind is harmless.
      }
      throw err;
    }
    try {
      const raw = readBlockFile(files.path(old.idx));
      let hash: string;
      if (old.damaged) {
        files.seal(old.idx, undefined);
        hash = files.fileHash(raw);
        this.toCompress.push(old);
        this.schedule();
      } else hash = files.seal(old.idx, raw);
      if (this.reads.cache !== undefined) {
        const plain = files.read(old, raw);
        const { seqs, offs } = this.reads.msgOffsets(plain, old.idx);
        this.reads.detach(old, seqs, offs, hash, plain);
      }
    } catch (err) {
      // The block stays unsealed (recovery checks each record) and its payloads stay in memory.
      files.onErr?.(err);
    }
    if (this.compress && !old.damaged) {
      // Compressed off the publish path, in the next maintenance pass.
      this.toCompress.push(old);
      this.schedule();
    }
    // Messages removed while the block was active are reclaimed now that it is sealed (a removal from the
    // active block schedules nothing).
    if (old.msgs > 0 && old.live * 2 < old.msgs) this.schedule();
    if (this.#scheduled) this.#waited++;
    syncDir(files.mdir);
  }

  /** Recounts the active block's messages from its file (after a rollback cut records from it). */
  recountActive(): void {
    const b = this.writer.active;
    let first = 0;
    let last = 0;
    let msgs = 0;
    let live = 0;
    try {
      scanBlock(
        this.files.read(b),
        this.files.blockKey(b.idx),
        (r) => {
          if (r.kind !== RK_MSG) return;
          if (first === 0) first = r.seq;
          last = r.seq;
          msgs++;
          if (this.t.hasMsg(r.seq)) live++;
        },
        () => {},
        false,
      );
    } catch {
      return; // Unreadable now: the counts only steer maintenance.
    }
    b.first = first;
    b.last = last;
    b.msgs = msgs;
    b.live = live;
  }

  #run(): void {
    this.compressPending();
    const { files, writer } = this;
    let dropped = false;
    let secured = false;
    // Dropped and rewritten blocks may hold the record of the last sequence (an op record, a tombstone):
    // it is journaled and fsynced in the active block before the first of them goes, so a crash in between
    // never hands a sequence out twice.
    const secure = () => {
      if (secured) return;
      secured = true;
      this.#secureLast();
    };
    while (files.blocks.length > 1 && files.blocks[0] !== writer.active && files.blocks[0].live <= 0) {
      secure();
      const b = files.blocks.shift()!;
      this.reads.cache?.drop(b.slab);
      files.remove(b);
      dropped = true;
    }
    if (dropped) syncDir(files.mdir);
    let rewrote = false;
    for (const b of [...files.blocks]) {
      if (b !== writer.active && b.msgs > 0 && b.live * 2 < b.msgs) {
        secure();
        this.rewriteBlock(b);
        rewrote = true;
      }
    }
    // Sealed blocks holding only tombstones and op records whose tombstones all lie below the first message
    // record left anywhere: nothing needs them (the last sequence is journaled again below), so they go
    // without being read.
    let minFirst = Infinity;
    for (const x of files.blocks) if (x.msgs > 0 && x.first < minFirst) minFirst = x.first;
    for (const b of [...files.blocks]) {
      if (b !== writer.active && b.msgs === 0 && (b.tombHi ?? 0) < minFirst) {
        secure();
        files.blocks.splice(files.blocks.indexOf(b), 1);
        this.reads.cache?.drop(b.slab);
        files.remove(b);
        rewrote = true;
      }
    }
    if (rewrote) syncDir(files.mdir);
  }

  /** Journals the last sequence in the active block and makes it durable (before blocks are rewritten). */
  #secureLast(): void {
    this.#journalLast();
    this.writer.flushWrites();
    this.writer.syncNow();
  }

  #journalLast(): void {
    const l = this.t.last();
    // The last sequence is a live message: its record stays in its block (a rewrite keeps live messages), so
    // an op record would only take space in the active block and move where the next block starts.
    if (l.seq > 0 && this.t.hasMsg(l.seq)) return;
    this.writer.op(OP_LAST, l.seq, l.ts);
    this.writer.commit();
  }
}
