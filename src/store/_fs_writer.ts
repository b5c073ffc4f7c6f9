// FileStore's write path: records are appended to a buffer, written to the active block with one positional
// write per macrotask, and fdatasynced with group commit (one fdatasync shared by every append since the
// previous one); flushed()/onFlushed() report durability. With a user-set sync_interval, acks do not wait and
// a timer fdatasyncs every interval (the reference's lazy mode, nats-server server/filestore.go syncBlocks).

import * as fs from "node:fs";
import { type Block, type BlockFiles, EMPTY, ioError } from "./_fs_blocks.ts";
import { blockNonceLen, xorAt } from "./_fs_crypto.ts";
import { EBIT, RecBuf, TBIT } from "./msg_block.ts";

/** Buffered bytes past which appends are written at once instead of at the end of the macrotask. */
const FLUSH_AT = 1 << 20;

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
  #hkey: Uint8Array = EMPTY;
  #nonce: Uint8Array = EMPTY;
  #flushScheduled = false;
  #syncing = false;
  #inflight: Deferred | undefined;
  #inflightSeq = 0;
  #next: Deferred | undefined;
  #closeLater: number[] = [];
  #syncTimer: ReturnType<typeof setInterval> | undefined;
  /** onFlushed waiters, in registration order. */
  #waitFn: Waiter[] = [];
  #waitA: unknown[] = [];
  #waitB: unknown[] = [];

  constructor(
    readonly files: BlockFiles,
    readonly syncInterval: number,
    readonly onErr: ((err: unknown) => void) | undefined,
  ) {}

  /** Makes `b` the active block, appending at plain offset `pos`. */
  open(b: Block, pos: number): void {
    this.active = b;
    this.#hkey = this.files.blockKey(b.idx);
    this.fd = fs.openSync(this.files.path(b.idx), "r+");
    this.pos = pos;
    const keys = this.files.keys;
    if (keys !== undefined) {
      // The nonce is the first bytes of the file.
      const nl = blockNonceLen(keys.cipher);
      this.#nonce = new Uint8Array(nl);
      fs.readSync(this.fd, this.#nonce, 0, nl, 0);
    }
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

  /** True when the buffered records would take the active block past `blockSize`. */
  full(blockSize: number): boolean {
    return this.pos + this.wb.len >= blockSize;
  }

  flushed(seq: number): Promise<void> | undefined {
    if (seq <= this.syncedSeq || this.closed || this.syncInterval > 0) return undefined;
    if (this.#inflight !== undefined && seq <= this.#inflightSeq) return this.#inflight.promise;
    this.#next ??= deferred();
    this.schedule();
    return this.#next.promise;
  }

  onFlushed<A, B>(seq: number, fn: (err: unknown, a: A, b: B) => void, a: A, b: B): boolean {
    if (seq <= this.syncedSeq || this.closed || this.syncInterval > 0) return false;
    this.#waitFn.push(fn as Waiter);
    this.#waitA.push(a);
    this.#waitB.push(b);
    if (this.#next === undefined) {
      // Marks a sync as wanted; its failure reaches the waiters, so the promise itself may go unobserved.
      this.#next = deferred();
      this.#next.promise.catch(() => {});
    }
    this.schedule();
    return true;
  }

  /** Writes the buffer now when it is large, otherwise at the end of the macrotask. */
  commit(): void {
    if (this.wb.len >= FLUSH_AT) this.flushWrites();
    else this.schedule();
  }

  schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      if (this.closed) return;
      try {
        this.flushWrites();
        if (this.#next !== undefined) this.#kickSync();
      } catch (err) {
        this.#fail(err);
      }
    });
  }

  /** Writes the buffered records to the active block; throws StoreError "io" (the block keeps whole records). */
  flushWrites(): void {
    const len = this.wb.len;
    if (len === 0 || this.closed) return;
    let buf = this.wb.buf;
    const keys = this.files.keys;
    if (keys !== undefined) {
      buf = buf.slice(0, len);
      xorAt(keys.cipher, this.active.seed!, this.#nonce, this.pos, buf);
    }
    const at = this.pos + this.files.fileOff();
    let off = 0;
    try {
      while (off < len) off += fs.writeSync(this.fd, buf, off, len - off, at + off);
    } catch (err) {
      // Cut what was written so the block keeps whole records only.
      try {
        fs.ftruncateSync(this.fd, at);
      } catch {
        // Reported below.
      }
      this.wb.reset();
      throw ioError("writing a message block", err);
    }
    this.pos += len;
    this.wb.reset();
    this.writtenSeq = this.lastAppended;
  }

  /** fdatasyncs the active block now (rotation, stop). */
  syncNow(): void {
    try {
      fs.fdatasyncSync(this.fd);
    } catch (err) {
      throw ioError("syncing a message block", err);
    }
  }

  /** Closes a block fd, after the fdatasync in flight when there is one. */
  closeFd(fd: number): void {
    if (fd < 0) return;
    if (this.#syncing) this.#closeLater.push(fd);
    else fs.closeSync(fd);
  }

  /** After stop's final write and sync: everything is durable; waiters are released; nothing is written. */
  close(): void {
    if (this.#syncTimer !== undefined) clearInterval(this.#syncTimer);
    this.syncedSeq = this.writtenSeq;
    this.#next?.resolve();
    this.#next = undefined;
    this.closed = true;
    this.#drainWaiters(undefined, undefined);
    this.closeFd(this.fd);
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
        this.onErr?.(e);
      }
    }
  }

  #kickSync(): void {
    if (this.#syncing || this.closed) return;
    this.flushWrites();
    const d = this.#next;
    this.#next = undefined;
    const target = this.writtenSeq;
    const waiters = this.#waitFn.length;
    if (target <= this.syncedSeq) {
      d?.resolve();
      this.#drainWaiters(waiters, undefined);
      return;
    }
    this.#syncing = true;
    this.#inflight = d;
    this.#inflightSeq = target;
    fs.fdatasync(this.fd, (err) => {
      this.#syncing = false;
      this.#inflight = undefined;
      for (const fd of this.#closeLater.splice(0)) fs.closeSync(fd);
      if (err) {
        const e = ioError("syncing a message block", err);
        d?.reject(e);
        this.#drainWaiters(waiters, e);
        return;
      }
      if (target > this.syncedSeq) this.syncedSeq = target;
      d?.resolve();
      this.#drainWaiters(waiters, undefined);
      if (this.#next !== undefined) this.#kickSync();
    });
  }

  #intervalSync(): void {
    if (this.closed || this.#syncing) return;
    try {
      this.flushWrites();
      const target = this.writtenSeq;
      this.#syncing = true;
      fs.fdatasync(this.fd, (err) => {
        this.#syncing = false;
        for (const fd of this.#closeLater.splice(0)) fs.closeSync(fd);
        if (err) this.onErr?.(ioError("syncing a message block", err));
        else if (target > this.syncedSeq) this.syncedSeq = target;
      });
    } catch (err) {
      this.onErr?.(err);
    }
  }

  #fail(err: unknown): void {
    const d = this.#next;
    this.#next = undefined;
    const waited = this.#waitFn.length > 0;
    this.#drainWaiters(undefined, err);
    if (d !== undefined) d.reject(err);
    else if (!waited) this.onErr?.(err);
  }
}
