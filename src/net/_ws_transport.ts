// A Transport that speaks WebSocket frames over another Transport, so a NATS connection runs on it unchanged.
// Behaviour follows nats-server server/websocket.go (wsRead, wsCollapsePtoNB, wsEnqueueCloseMessage).
import type { Transport } from "./transport.ts";
import {
  WS_BINARY,
  WS_CLOSE,
  WS_CLOSE_PROTOCOL_ERROR,
  WS_COMPRESS_THRESHOLD,
  WS_FRAME_SIZE_FOR_BROWSERS,
  WS_MAX_FRAME_HEADER_SIZE,
  WS_PING,
  WS_PONG,
  wsCloseStatusForReason,
  wsCompress,
  wsCreateCloseMessage,
  wsCreateFrame,
  wsFillFrameHeader,
  WsFrameReader,
  wsMaskBuf,
} from "./_ws_frame.ts";

/** How a WsTransport frames its traffic. */
export interface WsTransportOptions {
  /** permessage-deflate was negotiated. */
  compress?: boolean;
  /** Incoming frames must be masked (true for clients; leaf nodes may ask otherwise). */
  maskRead?: boolean;
  /** Mask outgoing frames (only when this side is the WebSocket client). */
  maskWrite?: boolean;
  /** Cut outgoing frames at 4 KB (browsers). */
  browser?: boolean;
  /** Do not fragment compressed messages (Safari). */
  noCompFrag?: boolean;
  /** Milliseconds a closing connection may spend sending its last frames; default 2000. */
  closeTimeoutMs?: number;
}

/** Buffers up to this size are kept for reuse between writes. */
const MAX_SPARE = 1024 * 1024;

/** WebSocket framing over `inner`: read() yields the payload stream, write() sends one message per call. */
export class WsTransport implements Transport {
  /** Called once with the text of a frame-level protocol error (the connection then closes). */
  onProtocolError: ((message: string) => void) | undefined;
  /** Resolves when the underlying transport has been closed. */
  readonly done: Promise<void>;

  readonly #inner: Transport;
  readonly #reader: WsFrameReader;
  readonly #compress: boolean;
  readonly #maskWrite: boolean;
  readonly #browser: boolean;
  readonly #noCompFrag: boolean;
  readonly #closeTimeoutMs: number;
  #qoff = 0;
  #wbuf = new Uint8Array(0);
  #tail: Promise<void> = Promise.resolve();
  #pendingWrites = 0;
  #closeSent = false;
  #closing = false;
  #finished = false;
  #errorReported = false;
  #resolveDone!: () => void;

  constructor(inner: Transport, opts: WsTransportOptions = {}) {
    this.#inner = inner;
    this.#compress = opts.compress ?? false;
    this.#maskWrite = opts.maskWrite ?? false;
    this.#browser = opts.browser ?? false;
    this.#noCompFrag = opts.noCompFrag ?? false;
    this.#closeTimeoutMs = opts.closeTimeoutMs ?? 2_000;
    this.done = new Promise((r) => this.#resolveDone = r);
    this.#reader = new WsFrameReader(opts.maskRead ?? true, {
      onPing: (payload) => this.#sendControl(WS_PONG, payload),
      onClose: (status, body) => this.#sendClose(wsCreateCloseMessage(status, body)),
    });
  }

  /** Reads payload bytes into `p`; null once the peer closed (close frame or end of stream). */
  async read(p: Uint8Array): Promise<number | null> {
    const r = this.#reader;
    for (;;) {
      const q = r.queue;
      if (q.length > 0) {
        const head = q[0];
        const n = Math.min(p.length, head.length - this.#qoff);
        p.set(head.subarray(this.#qoff, this.#qoff + n));
        this.#qoff += n;
        if (this.#qoff === head.length) {
          q.shift();
          this.#qoff = 0;
        }
        return n;
      }
      if (r.error !== undefined) {
        if (!this.#errorReported) {
          this.#errorReported = true;
          this.#sendClose(wsCreateCloseMessage(WS_CLOSE_PROTOCOL_ERROR, r.error.message));
          this.onProtocolError?.(r.error.message);
        }
        throw r.error;
      }
      if (r.closed) return null;
      const n = await this.#inner.read(p);
      if (n === null) return null;
      const k = r.decode(p, n);
      if (k > 0) return k;
    }
  }

  /** Sends `p` as one message (cut into several frames for browsers); resolves once written. */
  async write(p: Uint8Array): Promise<number> {
    if (this.#closing) throw new Deno.errors.BadResource("websocket closed");
    const frame = this.#frame(p);
    await this.#send(frame);
    return p.length;
  }

  /** Sends a WebSocket ping (for ping_interval). */
  ping(): void {
    if (!this.#closing && !this.#closeSent) this.#sendControl(WS_PING, new Uint8Array(0));
  }

  /**
   * Closes the connection. With the reason the connection closed for (a /connz closed-state text), a close
   * frame with the matching status is sent first, unless one was sent already or the reason is one after which
   * nats-server sends nothing (read/write errors, slow consumers).
   */
  close(reason?: string): void {
    if (this.#closing) return;
    this.#closing = true;
    if (!this.#closeSent && reason !== undefined) {
      const status = wsCloseStatusForReason(reason);
      if (status !== undefined) this.#sendClose(wsCreateCloseMessage(status, reason));
    }
    if (
      this.#pendingWrites === 0 || (!this.#closeSent && reason !== undefined &&
        wsCloseStatusForReason(reason) === undefined)
    ) {
      this.#finish();
      return;
    }
    // Let queued frames (the close frame last) go out, but not forever.
    const t = setTimeout(() => this.#finish(), this.#closeTimeoutMs);
    this.#tail.then(() => {
      clearTimeout(t);
      this.#finish();
    });
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    try {
      this.#inner.close();
    } catch {
      // Already closed.
    }
    this.#wbuf = new Uint8Array(0);
    this.#resolveDone();
  }

  #sendControl(op: number, payload: Uint8Array): void {
    if (this.#finished) return;
    this.#send(wsCreateFrame(op, payload, this.#maskWrite)).catch(() => {});
  }

  #sendClose(payload: Uint8Array): void {
    if (this.#closeSent || this.#finished) return;
    this.#closeSent = true;
    this.#sendControl(WS_CLOSE, payload);
  }

  /** Writes `b` whole after every earlier frame; control frames and messages never interleave. */
  #send(b: Uint8Array): Promise<void> {
    this.#pendingWrites++;
    const inner = this.#inner;
    const run = async () => {
      try {
        let off = 0;
        while (off < b.length) off += await inner.write(b.subarray(off));
      } finally {
        this.#pendingWrites--;
      }
    };
    const t = this.#pendingWrites === 1 ? run() : this.#tail.then(run);
    this.#tail = t.catch(() => {});
    return t;
  }

  /**
   * Frames `p`: compressed when negotiated and larger than the threshold; for browsers cut at 4 KB, each
   * piece its own message, or, compressed, one message in continuation frames (Safari: one frame).
   */
  #frame(p: Uint8Array): Uint8Array {
    let payload = p;
    let compressed = false;
    if (this.#compress && p.length > WS_COMPRESS_THRESHOLD) {
      payload = wsCompress(p);
      compressed = true;
    }
    const mask = this.#maskWrite;
    let mfs = this.#browser ? WS_FRAME_SIZE_FOR_BROWSERS : 0;
    if (compressed && this.#noCompFrag) mfs = 0;
    const len = payload.length;
    const frames = mfs > 0 && len > mfs ? Math.ceil(len / mfs) : 1;
    const need = len + frames * WS_MAX_FRAME_HEADER_SIZE;
    let out = this.#wbuf;
    if (out.length < need) {
      out = new Uint8Array(Math.max(need, 4096));
      if (out.length <= MAX_SPARE) this.#wbuf = out;
    }
    const key = mask ? new Uint8Array(4) : undefined;
    let off = 0;
    if (frames === 1) {
      off = wsFillFrameHeader(out, 0, mask, true, true, compressed, WS_BINARY, len, key);
      out.set(payload, off);
      if (key) wsMaskBuf(key, out.subarray(off, off + len));
      return out.subarray(0, off + len);
    }
    for (let i = 0, pos = 0; pos < len; i++) {
      const n = Math.min(mfs, len - pos);
      const last = pos + n === len;
      // Uncompressed pieces are whole messages; compressed ones are fragments of one message.
      const first = compressed ? i === 0 : true;
      const final = compressed ? last : true;
      off += wsFillFrameHeader(out, off, mask, first, final, compressed && i === 0, WS_BINARY, n, key);
      out.set(payload.subarray(pos, pos + n), off);
      if (key) wsMaskBuf(key, out.subarray(off, off + n));
      off += n;
      pos += n;
    }
    return out.subarray(0, off);
  }
}
