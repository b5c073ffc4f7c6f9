// FileStore's write path: records are appended to a buffer, written to the active block with one positional
// write per macrotask, and fdatasynced with group commit (one fdatasync shared by every append since the
// previous one); flushed()/onFlushed() report durability. With a user-set sync_interval, acks wait for the
// write only and a timer fdatasyncs every interval (the reference's lazy mode, nats-server
// server/filestore.go syncBlocks). A failed write or fdatasync fails the acks it covers and hands the
// rollback of the index to the store (onFailure). A failed fdatasync is final for what it covered (as
// Postgres' "fsyncgate" showed, the kernel may drop the failed pages and report a later fdatasync as good):
// nothing written since the last good fdatasync is acknowledged, whatever a later or concurrent one returns.

import * as fs from "node:fs";
import { type Block, type BlockFiles, EMPTY, ioError } from "./_fs_blocks.ts";
import { xorAt } from "./_fs_crypto.ts";
import { EBIT, RecBuf, TBIT } from "./msg_block.ts";
import { StoreError } from "./store.ts";

/** Buffered bytes past which appends are written at once instead of at the end of the macrotask. */
const FLUSH_AT = 1 << 20;

type Waiter = (err: unknown, a: unknown, b: unknown) => void;

function settle(err: unknown, res: () => void, rej: (e: unknown) => void): void {
  if (err === undefined) res();
  else rej(err);
}

/**
 * Called once per failed write or fdatasync, in a microtask: every message above `keepSeq` is not on disk
 * (its records were cut from the block) and must leave the index; `err` is what failed.
 */
export type WriteFailure = (err: StoreError, keepSeq: number) => void;

function isTooLarge(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  return e?.code === "EFBIG" || /file too large/i.test(e?.message ?? "");
}

function isNoSpace(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  return e?.code === "ENOSPC" || /no space left on device/i.test(e?.message ?? "");
}

/** Appends records to the active block and tracks what is written and what is durable. */
export class BlockWriter {
  active!: Block;
  fd = -1;
  /** Plain bytes in the active block's file (after the nonce, when encrypted). */
  pos = 0;
  readonly wb = new RecBuf();
  /** The last sequence appended, written, and fdatasynced. */
  lastAppended = 0;
  writtenSeq = 0;
  syncedSeq = 0;
  /** Set by stop(): nothing is written any more. */
  closed = false;
  /** A write failed and its rollback has not run yet: new messages are refused until it has. */
  failed: StoreError | undefined;
  /** The sequence the pending rollback keeps (the lowest asked for while it is pending). */
  #failKeep = 0;
  /** Counts failures: an fdatasync begun before one does not mark anything durable when it returns. */
  #epoch = 0;
  /** A write hit the file size limit (EFBIG): the next message starts a new block. */
  forceRotate = false;
  /** Bytes of the last write that failed for lack of space (0: none); see checkSpace(). */
  #needSpace = 0;
  /** Set by the store: rolls the index back after a failed write or fdatasync. */
  onFailure: WriteFailure | undefined;
  #hkey: Uint8Array = EMPTY;
  #nonce: Uint8Array = EMPTY;
  #flushScheduled = false;
  #syncing = false;
  #wantSync = false;
  /** Where the last fdatasync left the active block: cut back to it when a later fdatasync fails. */
  #syncedPos = 0;
  #closeLater: number[] = [];
  /** The promise flushed() hands out, shared by the calls of one batch. */
  #batch: { promise: Promise<void>; res: () => void; rej: (e: unknown) => void; seq: number } | undefined;
  #syncTimer: ReturnType<typeof setInterval> | undefined;
  /** onFlushed waiters, in registration (and so sequence) order. */
  #waitSeq: number[] = [];
  #waitFn: Waiter[] = [];
  #waitA: unknown[] = [];
  #waitB: unknown[] = [];

  constructor(
    readonly files: BlockFiles,
    readonly syncInterval: number,
    readonly onErr: ((err: unknown) => void) | undefined,
  ) {}

  /** Makes `b` the active block, appending at plain offset `pos`; the previous block's fd is closed. */
  open(b: Block, pos: number): void {
    const fd = fs.openSync(this.files.path(b.idx), "r+");
    const bk = b.bk;
    if (bk !== undefined) {
      // The earlier encrypted layout has the nonce as the first bytes of the file.
      let nonce = bk.nonce;
      if (bk.off > 0) {
        nonce = new Uint8Array(bk.off);
        try {
          fs.readSync(fd, nonce, 0, bk.off, 0);
        } catch (err) {
          fs.closeSync(fd);
          throw err;
        }
      }
      this.#nonce = nonce;
    }
    this.closeFd(this.fd);
    this.fd = fd;
    this.active = b;
    this.forceRotate = false;
    this.#hkey = this.files.blockKey(b.idx);
    this.pos = pos;
    this.#syncedPos = pos;
  }

  /** Starts the sync_interval timer (lazy mode only). */
  startTimer(): void {
    if (this.syncInterval <= 0) return;
    this.#syncTimer = setInterval(() => this.#intervalSync(), this.syncInterval);
    Deno.unrefTimer(this.#syncTimer as unknown as number);
  }

  /** Appends one record to the buffer (see RecBuf.append). */
  append(
    seq: number,
    flags: number,
    ts: bigint,
    subj: Uint8Array,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
  ): void {
    this.wb.append(seq, flags, ts, subj, hdr, msg, this.#hkey);
  }

  /** Appends a store operation record (OP_*), with an optional 64-bit argument. */
  op(op: number, seq: number, ts: bigint, arg?: bigint): void {
    const data = new Uint8Array(arg === undefined ? 1 : 9);
    data[0] = op;
    if (arg !== undefined) new DataView(data.buffer).setBigInt64(1, arg, true);
    this.wb.append(seq, (EBIT | TBIT) >>> 0, ts, EMPTY, undefined, data, this.#hkey);
  }

  /**
   * True when a record of `rl` bytes would take the active block past `blockSize` (as the reference, a new
   * block is started before such a write; a record larger than a block goes alone into a new one).
   */
  full(blockSize: number, rl: number): boolean {
    const cur = this.pos + this.wb.len;
    return this.forceRotate || (cur > 0 && cur + rl > blockSize);
  }

  /**
   * True when `seq` may be acknowledged: fdatasynced, or (sync_interval set, the reference's lazy mode)
   * written to the block file. A message is never acknowledged before its write succeeded.
   */
  #done(seq: number): boolean {
    return this.closed || seq <= (this.syncInterval > 0 ? this.writtenSeq : this.syncedSeq);
  }

  flushed(seq: number): Promise<void> | undefined {
    if (this.#done(seq)) return undefined;
    // One promise per batch: it settles once every sequence asked for so far is acknowledgeable.
    let d = this.#batch;
    if (d === undefined) {
      let res!: () => void;
      let rej!: (e: unknown) => void;
      const promise = new Promise<void>((a, b) => {
        res = a;
        rej = b;
      });
      d = this.#batch = { promise, res, rej, seq };
    } else if (seq > d.seq) d.seq = seq;
    if (this.syncInterval <= 0) this.#wantSync = true;
    this.schedule();
    return d.promise;
  }

  onFlushed<A, B>(seq: number, fn: (err: unknown, a: A, b: B) => void, a: A, b: B): boolean {
    if (this.#done(seq)) return false;
    this.#waitSeq.push(seq);
    this.#waitFn.push(fn as Waiter);
    this.#waitA.push(a);
    this.#waitB.push(b);
    if (this.syncInterval <= 0) this.#wantSync = true;
    this.schedule();
    return true;
  }

  /**
   * Writes the buffer now when it is large, otherwise at the end of the macrotask. Never throws: a failed
   * write is handled by its rollback (see flushWrites).
   */
  commit(): void {
    if (this.wb.len < FLUSH_AT) return this.schedule();
    try {
      this.flushWrites();
    } catch {
      // The rollback is scheduled.
    }
  }

  schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      if (this.closed) return;
      try {
        this.flushWrites();
      } catch {
        return; // The rollback is scheduled and fails the waiters.
      }
      if (this.syncInterval > 0) this.#release(this.writtenSeq, undefined);
      else if (this.#wantSync) this.#kickSync();
    });
  }

  /**
   * Writes the buffered records to the active block. On failure the block is cut back to its last whole
   * record, the buffered records are dropped, a rollback of the index is scheduled (onFailure), and
   * StoreError "io" is thrown.
   */
  flushWrites(): void {
    const len = this.wb.len;
    if (len === 0 || this.closed) return;
    let buf = this.wb.buf;
    const bk = this.active.bk;
    if (bk !== undefined) {
      buf = buf.slice(0, len);
      xorAt(bk.cipher, bk.seed, this.#nonce, this.pos, buf);
    }
    const at = this.pos + this.files.fileOff(this.active);
    let off = 0;
    try {
      while (off < len) off += fs.writeSync(this.fd, buf, off, len - off, at + off);
    } catch (err) {
      // Cut what was written so the block keeps whole records only. Always: a write that fails part way
      // (ENOSPC past the last page it could fill) may have extended the file and still report no bytes.
      try {
        fs.ftruncateSync(this.fd, at);
      } catch {
        // Reported below; recovery cuts a torn tail.
      }
      this.wb.reset();
      // A file size limit (ulimit -f, a filesystem's maximum): later messages go to a new block. So do they
      // in an encrypted block (bytes cut from it were written with the keystream at these offsets).
      if (isTooLarge(err) || this.active.bk !== undefined) this.forceRotate = true;
      else if (isNoSpace(err)) this.#needSpace = len;
      throw this.#failed(this.#ioError("writing a message block", err, "write"), this.writtenSeq);
    }
    this.pos += len;
    this.wb.reset();
    this.writtenSeq = this.lastAppended;
  }

  /**
   * After a write failed for lack of space: fails with that error until a write of the same size fits at
   * the end of the active block again (tried with zeros, cut at once). Without it a message small enough
   * for the rest of a partly used page or filesystem block would be taken in while the disk is still full.
   */
  checkSpace(): void {
    const n = this.#needSpace;
    if (n === 0) return;
    const at = this.pos + this.files.fileOff(this.active);
    const zeros = new Uint8Array(n);
    let off = 0;
    try {
      while (off < n) off += fs.writeSync(this.fd, zeros, off, n - off, at + off);
    } catch (err) {
      throw this.#ioError("writing a message block", err, "write");
    } finally {
      try {
        fs.ftruncateSync(this.fd, at);
      } catch {
        // The zeros past the last record are cut by recovery as a torn tail.
      }
    }
    this.#needSpace = 0;
  }

  /**
   * fdatasyncs the active block now (rotation, stop). On failure what it covered is dropped as after a
   * failed group commit (see #syncFailed), and StoreError "io" is thrown.
   */
  syncNow(): void {
    try {
      fs.fdatasyncSync(this.fd);
    } catch (err) {
      const e = this.#ioError("syncing a message block", err, "sync");
      this.#syncFailed(e, this.active, this.syncedSeq, this.#syncedPos);
      throw e;
    }
    this.#synced(this.writtenSeq, this.pos, this.active);
  }

  /** Closes a block fd, after the fdatasync in flight when there is one. */
  closeFd(fd: number): void {
    if (fd < 0) return;
    if (this.#syncing) this.#closeLater.push(fd);
    else fs.closeSync(fd);
  }

  /**
   * After stop's final write and fdatasync: waiters for what is durable are released, the others (when
   * `err`, the final write or fdatasync failed) get `err`; nothing is written any more.
   */
  close(err?: unknown): void {
    if (this.#syncTimer !== undefined) clearInterval(this.#syncTimer);
    if (err === undefined) this.syncedSeq = this.writtenSeq;
    this.closed = true;
    this.#release(this.syncedSeq, undefined);
    this.#failAbove(this.syncedSeq, err ?? new StoreError("closed", "store is closed"));
    this.closeFd(this.fd);
    this.fd = -1;
  }

  /** Marks the writer failed and schedules the rollback to `keepSeq`; returns `err`. */
  #failed(err: StoreError, keepSeq: number): StoreError {
    this.#epoch++;
    if (this.failed !== undefined) {
      if (keepSeq < this.#failKeep) this.#failKeep = keepSeq;
      return err;
    }
    this.failed = err;
    this.#failKeep = keepSeq;
    queueMicrotask(() => {
      if (this.closed) return; // stop() settled the waiters
      const keepSeq = this.#failKeep;
      this.writtenSeq = Math.min(this.writtenSeq, keepSeq);
      this.lastAppended = this.writtenSeq;
      this.syncedSeq = Math.min(this.syncedSeq, keepSeq);
      try {
        this.onFailure?.(err, keepSeq);
      } catch (e) {
        this.onErr?.(e);
      }
      this.failed = undefined;
      // Waiters at or below keepSeq are on disk: they are released by the next fdatasync.
      this.#failAbove(keepSeq, err);
      if (this.#waiting(Infinity) && this.syncInterval <= 0) {
        this.#wantSync = true;
        this.schedule();
      }
    });
    return err;
  }

  #ioError(what: string, err: unknown, op: string): StoreError {
    return ioError(what, err, op, this.files.path(this.active.idx));
  }

  #synced(seq: number, pos: number, b: Block): void {
    if (seq > this.syncedSeq) this.syncedSeq = seq;
    if (b === this.active && pos > this.#syncedPos) this.#syncedPos = pos;
  }

  /** True when a waiter or the batch promise waits for a sequence up to `seq`. */
  #waiting(seq: number): boolean {
    return (this.#waitSeq.length > 0 && this.#waitSeq[0] <= seq) ||
      (this.#batch !== undefined && this.#batch.seq <= seq);
  }

  /** Calls the waiters for sequences up to `seq`, in order, with `err`. */
  #release(seq: number, err: unknown): void {
    const d = this.#batch;
    if (d !== undefined && d.seq <= seq) {
      this.#batch = undefined;
      settle(err, d.res, d.rej);
    }
    const seqs = this.#waitSeq;
    let n = 0;
    while (n < seqs.length && seqs[n] <= seq) n++;
    this.#drain(0, n, err);
  }

  /** Calls the waiters for sequences above `seq` with `err`. */
  #failAbove(seq: number, err: unknown): void {
    const d = this.#batch;
    if (d !== undefined && d.seq > seq) {
      this.#batch = undefined;
      d.rej(err);
    }
    const seqs = this.#waitSeq;
    let i = 0;
    while (i < seqs.length && seqs[i] <= seq) i++;
    this.#drain(i, seqs.length, err);
  }

  /** Removes waiters [from, to) and calls them with `err`. */
  #drain(from: number, to: number, err: unknown): void {
    if (to <= from) return;
    const fns = this.#waitFn.splice(from, to - from);
    const as = this.#waitA.splice(from, to - from);
    const bs = this.#waitB.splice(from, to - from);
    this.#waitSeq.splice(from, to - from);
    for (let i = 0; i < fns.length; i++) {
      try {
        fns[i](err, as[i], bs[i]);
      } catch (e) {
        this.onErr?.(e);
      }
    }
  }

  #kickSync(): void {
    if (this.#syncing || this.closed || this.failed !== undefined) return;
    this.#wantSync = false;
    const target = this.writtenSeq;
    if (target <= this.syncedSeq) {
      this.#release(this.syncedSeq, undefined);
      return;
    }
    const pos = this.pos;
    const b = this.active;
    const keep = this.syncedSeq;
    const keepPos = this.#syncedPos;
    const epoch = this.#epoch;
    this.#syncing = true;
    fs.fdatasync(this.fd, (err) => {
      this.#syncing = false;
      for (const fd of this.#closeLater.splice(0)) fs.closeSync(fd);
      if (this.closed) return;
      // Even when a later or concurrent fdatasync (rotation) returned good: it may not have written the
      // pages this one failed on.
      if (err) {
        this.#syncFailed(this.#ioError("syncing a message block", err, "sync"), b, keep, keepPos);
        return;
      }
      // After a failure since this began, its records may have been cut: the next fdatasync decides.
      if (epoch === this.#epoch) {
        this.#synced(target, pos, b);
        this.#release(this.syncedSeq, undefined);
      }
      if (this.#wantSync || this.#waiting(this.writtenSeq)) {
        this.#kickSync();
      }
    });
  }

  /**
   * An fdatasync failed: what it covered may not be on disk, so nothing after the last good fdatasync before
   * it began (`keep`, at `keepPos` in block `b`) is acknowledged. The active block is cut back to there, when
   * it is still the same block.
   */
  #syncFailed(err: StoreError, b: Block, keep: number, keepPos: number): void {
    if (b === this.active) {
      const cut = Math.min(keepPos, this.#syncedPos);
      try {
        fs.ftruncateSync(this.fd, cut + this.files.fileOff(b));
        this.pos = cut;
        this.#syncedPos = cut;
        // The cut bytes were written with the keystream at these offsets: an encrypted store goes on in a
        // new block (new key).
        if (b.bk !== undefined) this.forceRotate = true;
      } catch {
        // The block keeps the records; recovery checks them.
      }
    }
    this.wb.reset();
    if (keep < this.syncedSeq) this.syncedSeq = keep;
    this.#failed(err, keep);
  }

  #intervalSync(): void {
    if (this.closed || this.#syncing || this.failed !== undefined) return;
    try {
      this.flushWrites();
      const target = this.writtenSeq;
      const pos = this.pos;
      const b = this.active;
      this.#syncing = true;
      fs.fdatasync(this.fd, (err) => {
        this.#syncing = false;
        for (const fd of this.#closeLater.splice(0)) fs.closeSync(fd);
        if (err) this.onErr?.(this.#ioError("syncing a message block", err, "sync"));
        else this.#synced(target, pos, b);
      });
    } catch (err) {
      this.onErr?.(err);
    }
  }
}
