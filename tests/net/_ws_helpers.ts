// Test helpers for WebSocket: client frames (masked, optionally compressed), an in-memory Transport, and a raw
// WebSocket client over TCP that does the upgrade and reads frames (Go's testWSCreateClient/testWSReadFrame).
import zlib from "node:zlib";
import type { Transport } from "../../src/net/mod.ts";
import { WS_BINARY, wsDecompress, wsFillFrameHeader } from "../../src/net/mod.ts";

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

/** Raw deflate with a sync flush and without its 00 00 ff ff tail, as a permessage-deflate peer sends it. */
export function deflate(b: Uint8Array): Uint8Array {
  const out = zlib.deflateRawSync(b, { level: 1, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return new Uint8Array(out.buffer, out.byteOffset, out.length - 4);
}

/**
 * A client frame as Go's testWSCreateClientMsg builds it: masked; `frameNum` 1 carries the opcode, later ones
 * are continuations; `compressed` deflates the payload and sets RSV1.
 */
export function clientMsg(
  op: number,
  frameNum: number,
  final: boolean,
  compressed: boolean,
  payload: Uint8Array | string,
  mask = true,
): Uint8Array {
  let p = typeof payload === "string" ? encoder.encode(payload) : payload;
  if (compressed) p = deflate(p);
  const out = new Uint8Array(14 + p.length);
  const key = new Uint8Array(4);
  const n = wsFillFrameHeader(
    out,
    0,
    mask,
    frameNum === 1,
    final,
    compressed,
    op,
    p.length,
    mask ? key : undefined,
  );
  out.set(p, n);
  if (mask) { for (let i = 0; i < p.length; i++) out[n + i] ^= key[i & 3]; }
  return out.subarray(0, n + p.length);
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** An in-memory Transport: reads come from `feed()` chunks, writes are collected in `written`. */
export class MemTransport implements Transport {
  readonly written: Uint8Array[] = [];
  closed = false;
  closeReason: string | undefined;
  #chunks: (Uint8Array | null)[] = [];
  #waiter: (() => void) | undefined;

  /** Queues bytes for read(); null ends the stream. */
  feed(b: Uint8Array | null): void {
    this.#chunks.push(b);
    this.#waiter?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.closed) return null;
      await new Promise<void>((r) => this.#waiter = r);
      this.#waiter = undefined;
    }
    const c = this.#chunks[0];
    if (c === null) return null;
    const n = Math.min(p.length, c.length);
    p.set(c.subarray(0, n));
    if (n === c.length) this.#chunks.shift();
    else this.#chunks[0] = c.subarray(n);
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new Deno.errors.BadResource("closed"));
    this.written.push(p.slice());
    return Promise.resolve(p.length);
  }

  close(reason?: string): void {
    this.closed = true;
    this.closeReason = reason;
    this.#waiter?.();
  }

  /** Everything written, as one buffer. */
  all(): Uint8Array {
    return concat(...this.written);
  }
}

/** A decoded server frame. */
export interface Frame {
  op: number;
  fin: boolean;
  rsv1: boolean;
  /** The payload, inflated when RSV1 is set. */
  payload: Uint8Array;
  /** The payload as sent. */
  raw: Uint8Array;
}

/** Parses every whole frame in `b` (server frames: unmasked). */
export function parseFrames(b: Uint8Array): Frame[] {
  const out: Frame[] = [];
  let p = 0;
  while (p + 2 <= b.length) {
    const b0 = b[p], b1 = b[p + 1];
    let len = b1 & 0x7f;
    let h = 2;
    if (len === 126) {
      len = (b[p + 2] << 8) | b[p + 3];
      h = 4;
    } else if (len === 127) {
      len = Number(new DataView(b.buffer, b.byteOffset + p + 2, 8).getBigUint64(0));
      h = 10;
    }
    if ((b1 & 0x80) !== 0) h += 4;
    if (p + h + len > b.length) break;
    const raw = b.slice(p + h, p + h + len);
    const rsv1 = (b0 & 0x40) !== 0;
    out.push({ op: b0 & 0x0f, fin: (b0 & 0x80) !== 0, rsv1, raw, payload: rsv1 ? wsDecompress([raw]) : raw });
    p += h + len;
  }
  return out;
}

/** Options for a raw WebSocket test client. */
export interface WsClientOptions {
  compress?: boolean;
  /** Send a browser User-Agent (frames come back cut at 4 KB). */
  web?: boolean;
  path?: string;
  extraHeaders?: Record<string, string>;
  /** Do not wait for INFO after the upgrade. */
  noInfo?: boolean;
  /** wss: TLS first, trusting `caCerts` (PEM), with an optional client certificate. */
  tls?: { caCerts?: string[]; cert?: string; key?: string };
}

/** A raw WebSocket client over TCP for server tests. */
export class WsTestClient {
  readonly conn: Deno.Conn;
  /** The 101 response head. */
  response = "";
  /** The INFO line the server sent first. */
  info = "";
  #buf: Uint8Array = new Uint8Array(0);
  #pendingFrames: Frame[] = [];

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Connects, sends the upgrade request and reads the 101 and the INFO frame. Throws on another status. */
  static async connect(port: number, o: WsClientOptions = {}): Promise<WsTestClient> {
    const conn: Deno.Conn = o.tls === undefined
      ? await Deno.connect({ hostname: "127.0.0.1", port })
      : await Deno.connectTls({ hostname: "127.0.0.1", port, ...o.tls });
    if (o.tls !== undefined) await (conn as Deno.TlsConn).handshake();
    const c = new WsTestClient(conn);
    let req = `GET ${o.path ?? "/"} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    if (o.compress) req += "Sec-WebSocket-Extensions: permessage-deflate\r\n";
    if (o.web) req += "User-Agent: Mozilla/5.0\r\n";
    for (const [k, v] of Object.entries(o.extraHeaders ?? {})) req += `${k}: ${v}\r\n`;
    await c.writeAll(encoder.encode(req + "\r\n"));
    const head = await c.readHead();
    c.response = head;
    if (!head.startsWith("HTTP/1.1 101 ")) {
      conn.close();
      throw new Error(`Expected response status 101, got ${head.split("\r\n")[0]}`);
    }
    if (!o.noInfo) {
      c.info = decoder.decode(await c.readFrame());
      if (!c.info.startsWith("INFO {")) throw new Error(`Expected INFO, got ${c.info}`);
    }
    return c;
  }

  /** Connects and sends CONNECT+PING, waiting for PONG (Go's testWSCreateClient). */
  static async connectAndPing(port: number, o: WsClientOptions = {}): Promise<WsTestClient> {
    const c = await WsTestClient.connect(port, o);
    await c.send(
      clientMsg(WS_BINARY, 1, true, !!o.compress, 'CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n'),
    );
    const r = decoder.decode(await c.readFrame());
    if (!r.startsWith("PONG\r\n")) throw new Error(`Expected PONG, got ${r}`);
    return c;
  }

  async writeAll(b: Uint8Array): Promise<void> {
    let off = 0;
    while (off < b.length) off += await this.conn.write(b.subarray(off));
  }

  /** Sends raw bytes (usually frames from clientMsg). */
  send(b: Uint8Array): Promise<void> {
    return this.writeAll(b);
  }

  /** Sends `text` as one masked binary frame. */
  sendText(text: string, compressed = false): Promise<void> {
    return this.send(clientMsg(WS_BINARY, 1, true, compressed, text));
  }

  /** Reads more bytes; false at end of stream. Past `deadline` (ms epoch) the connection is closed. */
  async #fill(deadline = Date.now() + 10_000): Promise<boolean> {
    const chunk = new Uint8Array(65536);
    const t = setTimeout(() => this.close(), Math.max(1, deadline - Date.now()));
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch (e) {
      if (Date.now() >= deadline) throw new Error("timeout waiting for data");
      throw e;
    } finally {
      clearTimeout(t);
    }
    if (n === null) return false;
    this.#buf = concat(this.#buf, chunk.subarray(0, n));
    return true;
  }

  async readHead(): Promise<string> {
    for (;;) {
      const s = decoder.decode(this.#buf);
      const i = s.indexOf("\r\n\r\n");
      if (i >= 0) {
        const headLen = encoder.encode(s.slice(0, i + 4)).length;
        this.#buf = this.#buf.slice(headLen);
        return s.slice(0, i);
      }
      if (!await this.#fill()) return s;
    }
  }

  /** The next frame (payload inflated); throws at end of stream. */
  async nextFrame(timeoutMs = 5_000): Promise<Frame> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (this.#pendingFrames.length > 0) return this.#pendingFrames.shift()!;
      const frames = parseFrames(this.#buf);
      if (frames.length > 0) {
        let used = 0;
        for (const f of frames) used += frameSize(f);
        this.#buf = this.#buf.slice(used);
        this.#pendingFrames.push(...frames);
        continue;
      }
      if (Date.now() > end) throw new Error("timeout waiting for a frame");
      if (!await this.#fill(end)) throw new Error("connection closed");
    }
  }

  /** The next frame's payload (Go's testWSReadFrame). */
  async readFrame(): Promise<Uint8Array> {
    return (await this.nextFrame()).payload;
  }

  /** Reads data frames until their text contains `want`; returns all text read. */
  async readUntil(want: string, timeoutMs = 5_000): Promise<string> {
    let all = "";
    const end = Date.now() + timeoutMs;
    while (!all.includes(want)) {
      const f = await this.nextFrame(Math.max(1, end - Date.now()));
      all += decoder.decode(f.payload);
    }
    return all;
  }

  /** Resolves true when the server closes the TCP connection within `ms`. */
  async closedByServer(ms = 2_000): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      try {
        if (!await this.#fill(end)) return true;
      } catch (e) {
        // A reset from the server is a close too; our own timeout is not.
        return !(e as Error).message.startsWith("timeout");
      }
    }
    return false;
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function frameSize(f: Frame): number {
  const len = f.raw.length;
  return len + (len <= 125 ? 2 : len < 65536 ? 4 : 10);
}
