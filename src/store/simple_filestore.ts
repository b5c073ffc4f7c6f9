// A minimal file-backed stream store so that `storage: file` works before the real FileStore lands.
// INTERIM: the FileStore issue replaces this file (message blocks, per-block indexes, compression,
// encryption, checksums as nats-server server/filestore.go). Nothing else should depend on its log format.
//
// How it works: a MemStore holds every message (reads never touch the disk), and every change the MemStore
// makes is journaled as one length-prefixed, CRC-checked record in an append-only log (<dir>/msgs.log):
// stores (subject, header, payload, seq, ts, ttl), removals (including those made by limits, TTLs and
// max_age), compactions/purges, truncations and skips. On open the log is replayed into a MemStore with its
// limits off (removals are in the log), then the real config is applied, which expires what aged while the
// store was down. A torn tail (crash mid-write) is cut off at the last whole record.
//
// Writes are synchronous positional node:fs writes, batched per macrotask (one write for many appends);
// `flushed(seq)` resolves after one grouped fdatasync covering every append so far, so many PubAcks share one
// fsync. The log is rewritten (a snapshot of the live messages) when it is mostly garbage. Consumer state
// is a small binary file per consumer (nats-server's encodeConsumerState layout), rewritten on change at
// most every CONSUMER_WRITE_MS and synchronously on stop.

import * as fs from "node:fs";
import { join } from "node:path";
import { MemConsumerStore } from "./_consumer_state.ts";
import { MemStore, type MemStoreOptions } from "./memstore.ts";
import {
  type ConsumerState,
  type ConsumerStore,
  type ConsumerStoreConfig,
  type StorageType,
  type StoreConfig,
  StoreError,
} from "./store.ts";

/** Options of a SimpleFileStore. */
export interface SimpleFileStoreOptions extends MemStoreOptions {
  /** The stream's directory; created when missing. */
  dir: string;
  /** Log size below which the log is never rewritten (default 64 MiB; tests lower it). */
  rewriteMinBytes?: number;
}

const LOG = "msgs.log";
const LOG_TMP = "msgs.log.tmp";
const CONSUMERS = "obs";
const REC_HDR = 8; // u32 body length, u32 crc32(body)
const T_MSG = 1;
const T_REMOVE = 2;
const T_COMPACT = 3;
const T_TRUNCATE = 4;
const T_SKIP = 5;
const T_MSG_ERASED = 6;
const FLUSH_AT = 1 << 20;
const REWRITE_MIN = 64 << 20;
const CONSUMER_WRITE_MS = 20;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function ioError(what: string, cause: unknown): StoreError {
  return new StoreError("io", `${what}: ${(cause as Error)?.message ?? cause}`, { cause });
}

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

/** A stream store journaled to one append-only log file; replaced by FileStore later. */
export class SimpleFileStore extends MemStore {
  readonly #dir: string;
  #fd: number;
  #pos = 0;
  #buf = new Uint8Array(64 * 1024);
  #len = 0;
  #view = new DataView(this.#buf.buffer);
  #replaying = true;
  #flushScheduled = false;
  #writtenSeq = 0;
  #syncedSeq = 0;
  #syncing = false;
  #inflight: Deferred | undefined;
  #inflightSeq = 0;
  #next: Deferred | undefined;
  // Descriptors replaced or closed while an fdatasync was in flight on them.
  #closeLater: number[] = [];
  #consumerStores = new Set<SimpleFileConsumerStore>();
  #fileClosed = false;
  #rewriting = false;
  readonly #rewriteMin: number;

  constructor(cfg: StoreConfig, opts: SimpleFileStoreOptions) {
    super(replayConfig(cfg), opts);
    this.#dir = opts.dir;
    this.#rewriteMin = opts.rewriteMinBytes ?? REWRITE_MIN;
    try {
      fs.mkdirSync(join(this.#dir, CONSUMERS), { recursive: true });
      const path = join(this.#dir, LOG);
      const exists = fs.existsSync(path);
      this.#fd = fs.openSync(path, exists ? "r+" : "w+");
      if (exists) this.#replay();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw ioError(`opening ${this.#dir}`, err);
    }
    this.#replaying = false;
    const st = this.fastState();
    this.#writtenSeq = this.#syncedSeq = st.lastSeq;
    if (st.lastSeq === 0 && (cfg.firstSeq ?? 0) > 1) this.compact(cfg.firstSeq!);
    this.updateConfig(cfg);
  }

  override type(): StorageType {
    return "file";
  }

  override flushed(seq: number): Promise<void> | undefined {
    if (seq <= this.#syncedSeq || this.#fileClosed) return undefined;
    if (this.#inflight !== undefined && seq <= this.#inflightSeq) return this.#inflight.promise;
    this.#next ??= deferred();
    this.#schedule();
    return this.#next.promise;
  }

  override stop(): void {
    if (this.#fileClosed) return;
    for (const cs of [...this.#consumerStores]) cs.flushNow();
    this.#flushWrites();
    try {
      fs.fdatasyncSync(this.#fd);
    } catch {
      // Closing anyway; the data was written.
    }
    this.#syncedSeq = this.#writtenSeq;
    this.#next?.resolve();
    this.#next = undefined;
    this.#fileClosed = true;
    this.#closeFd(this.#fd);
    super.stop();
  }

  override delete(): void {
    this.stop();
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }

  protected override newConsumerStore(
    name: string,
    cfg: ConsumerStoreConfig,
    onStop: () => void,
  ): ConsumerStore {
    const cs: SimpleFileConsumerStore = new SimpleFileConsumerStore(
      join(this.#dir, CONSUMERS, `${encodeURIComponent(name)}.dat`),
      cfg,
      () => {
        this.#consumerStores.delete(cs);
        onStop();
      },
    );
    this.#consumerStores.add(cs);
    return cs;
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
    this.#appendMsg(T_MSG, seq, ts, ttlNs, encoder.encode(subj), hdr, msg);
  }

  protected override journalRemove(seq: number, erase: boolean): void {
    if (this.#replaying) return;
    if (erase) this.#eraseInLog(seq);
    const v = this.#reserve(1 + 8 + 1);
    v.setUint8(this.#len, T_REMOVE);
    v.setFloat64(this.#len + 1, seq, true);
    v.setUint8(this.#len + 9, erase ? 1 : 0);
    this.#commit(10);
  }

  protected override journalCompact(seq: number): void {
    if (this.#replaying) return;
    this.#appendSeqOp(T_COMPACT, seq);
  }

  protected override journalTruncate(seq: number): void {
    if (this.#replaying) return;
    this.#appendSeqOp(T_TRUNCATE, seq);
  }

  protected override journalSkip(seq: number, num: number, ts: bigint): void {
    if (this.#replaying) return;
    this.#appendSkip(seq, num, ts);
  }

  #appendSkip(seq: number, num: number, ts: bigint): void {
    const v = this.#reserve(1 + 8 + 8 + 8);
    v.setUint8(this.#len, T_SKIP);
    v.setFloat64(this.#len + 1, seq, true);
    v.setFloat64(this.#len + 9, num, true);
    v.setBigInt64(this.#len + 17, ts, true);
    this.#commit(25);
  }

  #appendSeqOp(type: number, seq: number): void {
    const v = this.#reserve(9);
    v.setUint8(this.#len, type);
    v.setFloat64(this.#len + 1, seq, true);
    this.#commit(9);
  }

  #appendMsg(
    type: number,
    seq: number,
    ts: bigint,
    ttlNs: bigint,
    subj: Uint8Array,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
  ): void {
    const hl = hdr?.length ?? 0;
    const body = 1 + 8 + 8 + 8 + 2 + 4 + 4 + subj.length + hl + msg.length;
    const v = this.#reserve(body);
    let o = this.#len;
    v.setUint8(o, type);
    v.setFloat64(o + 1, seq, true);
    v.setBigInt64(o + 9, ts, true);
    v.setBigInt64(o + 17, ttlNs, true);
    v.setUint16(o + 25, subj.length, true);
    v.setUint32(o + 27, hl, true);
    v.setUint32(o + 31, msg.length, true);
    o += 35;
    this.#buf.set(subj, o);
    o += subj.length;
    if (hdr !== undefined && hl > 0) this.#buf.set(hdr, o);
    this.#buf.set(msg, o + hl);
    this.#commit(body);
  }

  // Reserves a record of `body` bytes after the 8-byte record header; returns the view to fill at #len.
  #reserve(body: number): DataView {
    const need = this.#len + REC_HDR + body;
    if (need > this.#buf.length) {
      const nb = new Uint8Array(Math.max(need, this.#buf.length * 2));
      nb.set(this.#buf.subarray(0, this.#len));
      this.#buf = nb;
      this.#view = new DataView(nb.buffer);
    }
    this.#len += REC_HDR; // body starts here; #commit writes the header behind it
    return this.#view;
  }

  #commit(body: number): void {
    const start = this.#len - REC_HDR;
    this.#view.setUint32(start, body, true);
    this.#view.setUint32(start + 4, crc32(this.#buf, this.#len, this.#len + body), true);
    this.#len += body;
    if (this.#rewriting) return;
    if (this.#len >= FLUSH_AT) this.#flushWrites();
    else this.#schedule();
  }

  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      if (this.#fileClosed) return;
      try {
        this.#flushWrites();
        this.#maybeRewrite();
        if (this.#next !== undefined) this.#kickSync();
      } catch (err) {
        this.#fail(err);
      }
    });
  }

  #flushWrites(): void {
    if (this.#len === 0 || this.#fileClosed) return;
    let off = 0;
    try {
      while (off < this.#len) off += fs.writeSync(this.#fd, this.#buf, off, this.#len - off, this.#pos + off);
    } catch (err) {
      throw ioError("writing the stream log", err);
    }
    this.#pos += this.#len;
    this.#len = 0;
    this.#writtenSeq = this.fastState().lastSeq;
  }

  #kickSync(): void {
    if (this.#syncing || this.#fileClosed) return;
    this.#flushWrites();
    const d = this.#next;
    this.#next = undefined;
    const target = this.#writtenSeq;
    if (target <= this.#syncedSeq) {
      d?.resolve();
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
        d?.reject(ioError("syncing the stream log", err));
        return;
      }
      if (target > this.#syncedSeq) this.#syncedSeq = target;
      d?.resolve();
      if (this.#next !== undefined) this.#kickSync();
    });
  }

  #closeFd(fd: number): void {
    if (this.#syncing) this.#closeLater.push(fd);
    else fs.closeSync(fd);
  }

  #fail(err: unknown): void {
    const d = this.#next;
    this.#next = undefined;
    d?.reject(err);
  }

  // ---- replay and rewrite ----

  #replay(): void {
    const data = fs.readFileSync(join(this.#dir, LOG));
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let o = 0;
    while (o + REC_HDR <= data.length) {
      const body = v.getUint32(o, true);
      const start = o + REC_HDR;
      if (start + body > data.length || crc32(data, start, start + body) !== v.getUint32(o + 4, true)) break;
      this.#apply(data, v, start, body);
      o = start + body;
    }
    if (o < data.length) fs.ftruncateSync(this.#fd, o); // torn tail from a crash mid-write
    this.#pos = o;
  }

  #apply(data: Uint8Array, v: DataView, o: number, _body: number): void {
    const type = v.getUint8(o);
    const seq = v.getFloat64(o + 1, true);
    switch (type) {
      case T_MSG:
      case T_MSG_ERASED: {
        const ts = v.getBigInt64(o + 9, true);
        const ttl = v.getBigInt64(o + 17, true);
        const sl = v.getUint16(o + 25, true);
        const hl = v.getUint32(o + 27, true);
        const ml = v.getUint32(o + 31, true);
        let p = o + 35;
        const subj = decoder.decode(data.subarray(p, p + sl));
        p += sl;
        const hdr = hl > 0 ? data.subarray(p, p + hl) : undefined;
        this.storeRawMsg(subj, hdr, data.subarray(p + hl, p + hl + ml), seq, ts, ttl, false);
        return;
      }
      case T_REMOVE:
        this.removeMsg(seq);
        return;
      case T_COMPACT:
        this.compact(seq);
        return;
      case T_TRUNCATE:
        if (seq <= this.fastState().lastSeq) this.truncate(seq);
        return;
      case T_SKIP: {
        const num = v.getFloat64(o + 9, true);
        const ts = v.getBigInt64(o + 17, true);
        if (seq === this.fastState().lastSeq + 1) this.skipAt(seq, num, ts);
        return;
      }
      default:
        throw new StoreError("corrupt", `unknown record type ${type} in ${join(this.#dir, LOG)}`);
    }
  }

  // Cost: one pass over the live messages; runs only when most of the log is garbage.
  // TODO(store): the FileStore issue replaces this with per-block compaction off the hot path.
  #maybeRewrite(): void {
    const st = this.fastState();
    const live = st.bytes + 43 * st.msgs;
    if (this.#pos < this.#rewriteMin || this.#pos < 2 * live) return;
    this.#rewrite();
  }

  #rewrite(): void {
    const st = this.fastState();
    const saved = { buf: this.#buf, len: this.#len, view: this.#view };
    this.#rewriting = true;
    this.#buf = new Uint8Array(1 << 20);
    this.#view = new DataView(this.#buf.buffer);
    this.#len = 0;
    const tmp = join(this.#dir, LOG_TMP);
    const fd = fs.openSync(tmp, "w");
    let pos = 0;
    const spill = () => {
      let off = 0;
      while (off < this.#len) off += fs.writeSync(fd, this.#buf, off, this.#len - off, pos + off);
      pos += this.#len;
      this.#len = 0;
    };
    if (st.firstSeq > 1) this.#appendSeqOp(T_COMPACT, st.firstSeq);
    let last = st.firstSeq > 0 ? st.firstSeq - 1 : 0;
    this.forEachLive((m, ttlAt) => {
      if (m.seq > last + 1) this.#appendSkip(last + 1, m.seq - last - 1, m.ts);
      const ttl = ttlAt > 0 ? BigInt(Math.max(1, Math.round(ttlAt - Number(m.ts)))) : 0n;
      this.#appendMsg(T_MSG, m.seq, m.ts, ttl, encoder.encode(m.subject), m.hdr, m.msg);
      last = m.seq;
      if (this.#len >= FLUSH_AT) spill();
    });
    if (st.lastSeq > last && st.msgs > 0) this.#appendSkip(last + 1, st.lastSeq - last, st.lastTime);
    spill();
    fs.fdatasyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, join(this.#dir, LOG));
    this.#rewriting = false;
    this.#buf = saved.buf;
    this.#view = saved.view;
    this.#len = saved.len;
    // The old descriptor still points at the replaced file; switch to the new one.
    this.#closeFd(this.#fd);
    this.#fd = fs.openSync(join(this.#dir, LOG), "r+");
    this.#pos = pos;
  }

  // Secure erase: the message's record gets random bytes in place of header and payload.
  #eraseInLog(seq: number): void {
    this.#flushWrites();
    const hdr = new Uint8Array(REC_HDR + 9);
    const hv = new DataView(hdr.buffer);
    let o = 0;
    while (o + hdr.length <= this.#pos) {
      fs.readSync(this.#fd, hdr, 0, hdr.length, o);
      const body = hv.getUint32(0, true);
      const type = hv.getUint8(REC_HDR);
      if (type === T_MSG && hv.getFloat64(REC_HDR + 1, true) === seq) {
        const rec = new Uint8Array(body);
        fs.readSync(this.#fd, rec, 0, body, o + REC_HDR);
        const rv = new DataView(rec.buffer);
        const from = 35 + rv.getUint16(25, true);
        const n = rv.getUint32(27, true) + rv.getUint32(31, true);
        for (let i = 0; i < n; i += 65536) {
          crypto.getRandomValues(rec.subarray(from + i, from + Math.min(n, i + 65536)));
        }
        rec[0] = T_MSG_ERASED;
        hv.setUint32(4, crc32(rec, 0, body), true);
        fs.writeSync(this.#fd, hdr, 4, 4, o + 4);
        fs.writeSync(this.#fd, rec, 0, body, o + REC_HDR);
        return;
      }
      o += REC_HDR + body;
    }
  }
}

/** The config a log is replayed under: no limits (the log holds every removal) and TTLs as configured. */
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

// ---- consumer state file ----

const MAGIC = 22;
const VERSION = 2;

/** Encodes a consumer state as nats-server's encodeConsumerState does (varints, seconds for times). */
export function encodeConsumerState(state: ConsumerState): Uint8Array {
  const out: number[] = [MAGIC, VERSION];
  const uv = (n: number) => {
    while (n >= 0x80) {
      out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
  };
  const sv = (n: number) => uv(n < 0 ? -2 * n - 1 : 2 * n);
  const asflr = state.ackFloor.streamSeq;
  const adflr = state.ackFloor.consumerSeq;
  uv(adflr);
  uv(asflr);
  uv(state.delivered.consumerSeq);
  uv(state.delivered.streamSeq);
  uv(state.pending.size);
  if (state.pending.size > 0) {
    const mints = Math.round(Date.now() / 1000);
    sv(mints);
    for (const [k, p] of state.pending) {
      uv(k - asflr);
      uv(Math.max(0, p.seq - adflr));
      sv(mints - Number(p.ts / 1_000_000_000n));
    }
  }
  uv(state.redelivered.size);
  for (const [k, n] of state.redelivered) {
    uv(k - asflr);
    uv(n);
  }
  return new Uint8Array(out);
}

/** Decodes encodeConsumerState's layout; throws StoreError "corrupt" on a bad buffer. */
export function decodeConsumerState(buf: Uint8Array): ConsumerState {
  if (buf.length < 2 || buf[0] !== MAGIC || buf[1] !== VERSION) {
    throw new StoreError("corrupt", "corrupt consumer state");
  }
  let i = 2;
  const uv = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (i >= buf.length) throw new StoreError("corrupt", "corrupt consumer state");
      const c = buf[i++];
      n += (c & 0x7f) * mul;
      if (c < 0x80) return n;
      mul *= 0x80;
    }
  };
  const sv = (): number => {
    const u = uv();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  };
  const ac = uv();
  const as = uv();
  const dc = uv();
  const ds = uv();
  const pending = new Map<number, { seq: number; ts: bigint }>();
  const np = uv();
  if (np > 0) {
    const mints = sv();
    for (let k = 0; k < np; k++) {
      const sseq = uv() + as;
      const dseq = uv() + ac;
      const ts = BigInt(mints - sv()) * 1_000_000_000n;
      pending.set(sseq, { seq: dseq, ts });
    }
  }
  const redelivered = new Map<number, number>();
  const nr = uv();
  for (let k = 0; k < nr; k++) {
    const seq = uv() + as;
    redelivered.set(seq, uv());
  }
  return {
    delivered: { consumerSeq: dc, streamSeq: ds },
    ackFloor: { consumerSeq: ac, streamSeq: as },
    pending,
    redelivered,
  };
}

/** A consumer store persisted as one small file, rewritten at most every CONSUMER_WRITE_MS. */
class SimpleFileConsumerStore extends MemConsumerStore {
  readonly #path: string;
  #hasState = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters: Deferred | undefined;
  #loading = true;

  constructor(path: string, cfg: ConsumerStoreConfig, onStop: () => void) {
    super(cfg, onStop);
    this.#path = path;
    if (fs.existsSync(path)) {
      this.update(decodeConsumerState(fs.readFileSync(path)));
      this.#hasState = true;
    }
    this.#loading = false;
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
    fs.rmSync(this.#path, { force: true });
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
    const tmp = `${this.#path}.tmp`;
    try {
      fs.writeFileSync(tmp, encodeConsumerState(this.borrowState()));
      fs.renameSync(tmp, this.#path);
    } catch (err) {
      throw ioError(`writing consumer state ${this.#path}`, err);
    }
    this.#hasState = true;
    const w = this.#waiters;
    this.#waiters = undefined;
    w?.resolve();
  }
}
