// A node:stream Duplex over a Transport (an accepted Deno.TcpConn), so a node:tls server can run its
// handshake and record layer on a socket that Deno.listen accepted.
import { Duplex } from "node:stream";
import type { Transport } from "./transport.ts";

const READ_SIZE = 64 * 1024;
/** Records queued past this many bytes hold back the TLS layer's write callback until they are sent. */
const WRITE_HIGH = 256 * 1024;

/**
 * Reads from the transport only while the TLS layer asks for data (push() returning false pauses the
 * loop), and hands each chunk over as its own copy: node keeps pushed chunks until the TLS layer
 * consumes them, so the read buffer itself is reused.
 *
 * Writes are coalesced: the TLS layer emits one record (or handshake message) per write, often several
 * in one turn, and each transport write is a syscall. Records queue and go out together in one write
 * after the current turn; the TLS layer is told a write is done at once while less than WRITE_HIGH
 * bytes wait, so it keeps encrypting instead of waiting a round trip per record.
 */
export class TransportDuplex extends Duplex {
  readonly #conn: Transport;
  #buf: Uint8Array = new Uint8Array(READ_SIZE);
  #reading = false;
  #pre: Uint8Array | undefined;
  #closed = false;
  #out: Uint8Array[] = [];
  #outLen = 0;
  #flushing = false;
  /** The TLS layer's callback, held while WRITE_HIGH bytes or more wait. */
  #blocked: ((err?: Error | null) => void) | undefined;
  /** _final's callback, once every queued byte is sent. */
  #onDrained: (() => void) | undefined;

  /** `pre`: bytes already read from `conn` (a peeked ClientHello), delivered first. */
  constructor(conn: Transport, pre?: Uint8Array) {
    // Half-open: the TLS layer may still write (a close_notify, queued records) after the peer's EOF;
    // with allowHalfOpen false node would end this side first and fail those writes with a fresh
    // ERR_STREAM_WRITE_AFTER_END error each (its stack capture alone was ~4% of handshake CPU).
    // The TLS socket above ends this side itself once it sees the EOF.
    super({ allowHalfOpen: true });
    this.#conn = conn;
    this.#pre = pre !== undefined && pre.length > 0 ? pre : undefined;
  }

  override _read(): void {
    const pre = this.#pre;
    if (pre !== undefined) {
      this.#pre = undefined;
      if (!this.push(pre)) return;
    }
    if (this.#reading) return;
    this.#reading = true;
    this.#pump().catch((e) => this.destroy(e as Error));
  }

  async #pump(): Promise<void> {
    for (;;) {
      const n = await this.#conn.read(this.#buf);
      if (n === null) {
        this.#reading = false;
        this.push(null);
        return;
      }
      if (this.destroyed) return;
      const more = this.push(this.#buf.slice(0, n));
      if (!more) {
        this.#reading = false;
        return;
      }
    }
  }

  override _write(chunk: Uint8Array, _enc: string, cb: (err?: Error | null) => void): void {
    this.#queue(chunk, cb);
  }

  override _writev(chunks: { chunk: Uint8Array }[], cb: (err?: Error | null) => void): void {
    for (let i = 0; i < chunks.length - 1; i++) this.#queue(chunks[i].chunk, undefined);
    this.#queue(chunks[chunks.length - 1].chunk, cb);
  }

  #queue(chunk: Uint8Array, cb: ((err?: Error | null) => void) | undefined): void {
    if (this.#closed) {
      // The connection is gone: what the TLS layer still writes (alerts, close_notify) has no reader.
      cb?.();
      return;
    }
    // No copy: the TLS layer hands over a fresh buffer per record and does not touch it again.
    this.#out.push(chunk);
    this.#outLen += chunk.length;
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush().catch((e) => this.#failWrite(e as Error)));
    }
    if (cb === undefined) return;
    if (this.#outLen < WRITE_HIGH) cb();
    else this.#blocked = cb;
  }

  async #flush(): Promise<void> {
    while (this.#outLen > 0) {
      const chunks = this.#out;
      const len = this.#outLen;
      this.#out = [];
      this.#outLen = 0;
      let all: Uint8Array;
      if (chunks.length === 1) all = chunks[0];
      else {
        all = new Uint8Array(len);
        let off = 0;
        for (const c of chunks) {
          all.set(c, off);
          off += c.length;
        }
      }
      if (this.#closed) break;
      await writeAll(this.#conn, all);
      const cb = this.#blocked;
      if (cb !== undefined && this.#outLen < WRITE_HIGH) {
        this.#blocked = undefined;
        cb();
      }
    }
    this.#flushing = false;
    this.#drained();
  }

  #drained(): void {
    const cb = this.#blocked;
    this.#blocked = undefined;
    cb?.();
    const d = this.#onDrained;
    this.#onDrained = undefined;
    d?.();
  }

  #failWrite(e: Error): void {
    this.#flushing = false;
    this.#out = [];
    this.#outLen = 0;
    const cb = this.#blocked;
    this.#blocked = undefined;
    const d = this.#onDrained;
    this.#onDrained = undefined;
    if (cb !== undefined) cb(e);
    else this.destroy(e);
    d?.();
  }

  override _final(cb: (err?: Error | null) => void): void {
    const done = () => {
      this.#closeConn();
      cb();
    };
    if (this.#flushing) this.#onDrained = done;
    else done();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#closeConn();
    this.#buf = new Uint8Array(0);
    this.#out = [];
    this.#outLen = 0;
    this.#drained();
    cb(err);
  }

  #closeConn(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
  }
}

async function writeAll(conn: Transport, p: Uint8Array): Promise<void> {
  let off = 0;
  while (off < p.length) off += await conn.write(off === 0 ? p : p.subarray(off));
}
