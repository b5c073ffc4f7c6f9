// A node:stream Duplex over a Transport (an accepted Deno.TcpConn), so a node:tls server can run its
// handshake and record layer on a socket that Deno.listen accepted.
import { Duplex } from "node:stream";
import type { Transport } from "./transport.ts";

const READ_SIZE = 64 * 1024;

/**
 * Reads from the transport only while the TLS layer asks for data (push() returning false pauses the
 * loop), and hands each chunk over as its own copy: node keeps pushed chunks until the TLS layer
 * consumes them, so the read buffer itself is reused.
 */
export class TransportDuplex extends Duplex {
  readonly #conn: Transport;
  #buf: Uint8Array = new Uint8Array(READ_SIZE);
  #reading = false;
  #pre: Uint8Array | undefined;
  #closed = false;

  /** `pre`: bytes already read from `conn` (a peeked ClientHello), delivered first. */
  constructor(conn: Transport, pre?: Uint8Array) {
    super({ allowHalfOpen: false });
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
    writeAll(this.#conn, chunk).then(() => cb(), (e) => cb(e as Error));
  }

  override _writev(chunks: { chunk: Uint8Array }[], cb: (err?: Error | null) => void): void {
    let len = 0;
    for (const c of chunks) len += c.chunk.length;
    const all = new Uint8Array(len);
    let off = 0;
    for (const c of chunks) {
      all.set(c.chunk, off);
      off += c.chunk.length;
    }
    writeAll(this.#conn, all).then(() => cb(), (e) => cb(e as Error));
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#closeConn();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#closeConn();
    this.#buf = new Uint8Array(0);
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
