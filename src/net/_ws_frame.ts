// WebSocket frames (RFC 6455) and permessage-deflate (RFC 7692) as nats-server frames them; behaviour follows
// nats-server server/websocket.go (frame headers, masking, close messages, the incoming frame state machine).
import { createHash, randomFillSync } from "node:crypto";
import zlib from "node:zlib";

export const WS_CONTINUATION = 0;
export const WS_TEXT = 1;
export const WS_BINARY = 2;
export const WS_CLOSE = 8;
export const WS_PING = 9;
export const WS_PONG = 10;

export const WS_FINAL_BIT = 0x80;
export const WS_RSV1_BIT = 0x40;
export const WS_MASK_BIT = 0x80;

/** Largest frame header: 10 bytes of length plus a 4-byte mask key. */
export const WS_MAX_FRAME_HEADER_SIZE = 14;
export const WS_MAX_CONTROL_PAYLOAD_SIZE = 125;
/** Frames sent to browsers are cut at this size (browsers cope badly with larger ones). */
export const WS_FRAME_SIZE_FOR_BROWSERS = 4096;
/** Flushes of this many bytes or fewer are sent uncompressed. */
export const WS_COMPRESS_THRESHOLD = 64;

export const WS_CLOSE_NORMAL = 1000;
export const WS_CLOSE_GOING_AWAY = 1001;
export const WS_CLOSE_PROTOCOL_ERROR = 1002;
export const WS_CLOSE_UNSUPPORTED_DATA = 1003;
export const WS_CLOSE_NO_STATUS = 1005;
export const WS_CLOSE_ABNORMAL = 1006;
export const WS_CLOSE_INVALID_PAYLOAD = 1007;
export const WS_CLOSE_POLICY_VIOLATION = 1008;
export const WS_CLOSE_MESSAGE_TOO_BIG = 1009;
export const WS_CLOSE_INTERNAL_ERROR = 1011;
export const WS_CLOSE_TLS_HANDSHAKE = 1015;

/** The sync-flush tail a deflate stream ends with, then an empty final stored block (RFC 7692 §7.2.2). */
const INFLATE_TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff]);
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const encoder = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Sec-WebSocket-Accept for a client key: base64(sha1(key + GUID)). */
export function wsAcceptKey(key: string): string {
  return createHash("sha1").update(key + WS_GUID).digest("base64");
}

/** True for close, ping and pong (opcodes 8 and up). */
export function wsIsControlFrame(op: number): boolean {
  return op >= WS_CLOSE;
}

/**
 * Writes a frame header at fh[off]; returns its length. With `mask`, a random key follows the length and is
 * also returned through `keyOut` (4 bytes) so the caller can mask the payload.
 */
export function wsFillFrameHeader(
  fh: Uint8Array,
  off: number,
  mask: boolean,
  first: boolean,
  final: boolean,
  compressed: boolean,
  op: number,
  len: number,
  keyOut?: Uint8Array,
): number {
  let b0 = first ? op : 0;
  if (final) b0 |= WS_FINAL_BIT;
  if (compressed) b0 |= WS_RSV1_BIT;
  const b1 = mask ? WS_MASK_BIT : 0;
  let n: number;
  fh[off] = b0;
  if (len <= 125) {
    fh[off + 1] = b1 | len;
    n = 2;
  } else if (len < 65536) {
    fh[off + 1] = b1 | 126;
    fh[off + 2] = len >>> 8;
    fh[off + 3] = len & 0xff;
    n = 4;
  } else {
    fh[off + 1] = b1 | 127;
    const hi = Math.floor(len / 0x1_0000_0000);
    const lo = len >>> 0;
    fh[off + 2] = 0;
    fh[off + 3] = 0;
    fh[off + 4] = (hi >>> 8) & 0xff;
    fh[off + 5] = hi & 0xff;
    fh[off + 6] = lo >>> 24;
    fh[off + 7] = (lo >>> 16) & 0xff;
    fh[off + 8] = (lo >>> 8) & 0xff;
    fh[off + 9] = lo & 0xff;
    n = 10;
  }
  if (mask) {
    const key = keyOut ?? new Uint8Array(4);
    randomFillSync(key);
    fh.set(key, off + n);
    n += 4;
  }
  return n;
}

/** A whole frame (header and payload) in one new buffer; masks the copy of the payload when asked. */
export function wsCreateFrame(op: number, payload: Uint8Array, mask = false, compressed = false): Uint8Array {
  const out = new Uint8Array(WS_MAX_FRAME_HEADER_SIZE + payload.length);
  const key = new Uint8Array(4);
  const n = wsFillFrameHeader(out, 0, mask, true, true, compressed, op, payload.length, key);
  out.set(payload, n);
  if (mask) wsMaskBuf(key, out.subarray(n, n + payload.length));
  return out.subarray(0, n + payload.length);
}

/** XORs `buf` with `key`, starting at key position 0. */
export function wsMaskBuf(key: Uint8Array, buf: Uint8Array, pos = 0): void {
  for (let i = 0; i < buf.length; i++) buf[i] ^= key[(pos + i) & 3];
}

/**
 * A close payload: the 2-byte status, then `body`; a body too long for a control frame is cut and ends in
 * "...".
 */
export function wsCreateCloseMessage(status: number, body: string): Uint8Array {
  let b = encoder.encode(body);
  if (b.length > WS_MAX_CONTROL_PAYLOAD_SIZE - 2) {
    const cut = new Uint8Array(WS_MAX_CONTROL_PAYLOAD_SIZE - 2);
    cut.set(b.subarray(0, WS_MAX_CONTROL_PAYLOAD_SIZE - 5));
    cut.set([0x2e, 0x2e, 0x2e], WS_MAX_CONTROL_PAYLOAD_SIZE - 5);
    b = cut;
  }
  const out = new Uint8Array(2 + b.length);
  out[0] = status >>> 8;
  out[1] = status & 0xff;
  out.set(b, 2);
  return out;
}

/**
 * The close status nats-server sends for a connection closed for `reason` (the /connz closed-state text);
 * undefined for the reasons after which it sends nothing (read/write errors, slow consumers, TLS failures).
 */
export function wsCloseStatusForReason(reason: string): number | undefined {
  switch (reason) {
    case "Read Error":
    case "Write Error":
    case "Slow Consumer (Pending Bytes)":
    case "Slow Consumer (Write Deadline)":
    case "TLS Handshake Failure":
      return undefined;
    case "Client Closed":
      return WS_CLOSE_NORMAL;
    case "Authentication Timeout":
    case "Authentication Failure":
    case "Maximum Account Connections Exceeded":
    case "Maximum Connections Exceeded":
    case "Maximum Control Line Exceeded":
    case "Maximum Subscriptions Exceeded":
    case "Missing Account":
    case "Authentication Expired":
    case "Credentials Revoked":
      return WS_CLOSE_POLICY_VIOLATION;
    case "Parse Error":
    case "Protocol Violation":
    case "Bad Client Protocol Version":
      return WS_CLOSE_PROTOCOL_ERROR;
    case "Maximum Message Payload Exceeded":
      return WS_CLOSE_MESSAGE_TOO_BIG;
    case "Server Shutdown":
      return WS_CLOSE_GOING_AWAY;
    case "Stale Connection":
      return WS_CLOSE_ABNORMAL;
    default:
      return WS_CLOSE_INTERNAL_ERROR;
  }
}

/** Raw deflate of `data` ending in a sync flush, with the trailing 00 00 ff ff removed (RFC 7692 §7.2.1). */
export function wsCompress(data: Uint8Array): Uint8Array {
  const out = zlib.deflateRawSync(data, { level: 1, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return new Uint8Array(out.buffer, out.byteOffset, out.length - 4);
}

/** Inflates one message's compressed payload (the fragments concatenated). Throws on corrupt data. */
export function wsDecompress(parts: Uint8Array[]): Uint8Array {
  let len = INFLATE_TAIL.length;
  for (const p of parts) len += p.length;
  const all = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  all.set(INFLATE_TAIL, off);
  const out = zlib.inflateRawSync(all);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** A frame-level protocol error: the connection gets a 1002 close frame with this text, then closes. */
export class WsProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WsProtocolError";
  }
}

/** What the reader asks its owner to do for control frames. */
export interface WsControlHandler {
  /** A ping arrived: answer with a pong carrying `payload`. */
  onPing(payload: Uint8Array): void;
  /** A close frame arrived: `status` and the echo body to send back; the reader then reports end of stream. */
  onClose(status: number, body: string): void;
}

/**
 * Decodes incoming frames. `decode()` works in place: payload bytes are unmasked and moved to the front of the
 * chunk. A decompressed message, and every payload byte after it in the same chunk, goes to `queue` instead
 * (owned copies), so the byte order of the stream is kept. Frame headers and control payloads split across
 * reads are kept between calls.
 */
export class WsFrameReader {
  /** Decoded bytes that did not fit in place (decompressed messages and what followed them). */
  readonly queue: Uint8Array[] = [];
  /** A close frame or a bad frame was received; nothing after it is decoded. */
  closed = false;
  /** The bad frame that stopped decoding, if any. */
  error: WsProtocolError | undefined;

  readonly #mask: boolean;
  readonly #ctl: WsControlHandler;
  /** Expecting a frame header next. */
  #fs = true;
  /** The last data frame had the final bit (a new message may start). */
  #ff = true;
  /** The current message is compressed. */
  #fc = false;
  #op = 0;
  #rem = 0;
  readonly #mkey = new Uint8Array(4);
  #mkpos = 0;
  #cbufs: Uint8Array[] = [];
  /** A partial frame header (and, for control frames, payload) carried to the next chunk. */
  #hdr = new Uint8Array(WS_MAX_FRAME_HEADER_SIZE + WS_MAX_CONTROL_PAYLOAD_SIZE);
  #hdrLen = 0;

  /** `mask`: incoming frames must be masked (always, for clients). */
  constructor(mask: boolean, ctl: WsControlHandler) {
    this.#mask = mask;
    this.#ctl = ctl;
  }

  /**
   * Decodes buf[0, n); returns how many payload bytes now sit at buf[0, k). A bad frame sets `error` (a
   * WsProtocolError) and stops decoding; the bytes decoded before it are still returned.
   */
  decode(buf: Uint8Array, n: number): number {
    let pos = 0;
    let w = 0;
    try {
      while (pos < n && !this.closed) {
        if (this.#fs) {
          const used = this.#readHeader(buf, pos, n);
          if (used < 0) return w; // Incomplete: kept for the next chunk.
          pos = used;
          continue;
        }
        let take = this.#rem;
        if (take > n - pos) take = n - pos;
        const seg = buf.subarray(pos, pos + take);
        if (this.#mask) this.#unmask(seg);
        pos += take;
        this.#rem -= take;
        if (this.#fc) {
          this.#cbufs.push(seg.slice());
          if (this.#ff && this.#rem === 0) {
            const parts = this.#cbufs;
            this.#cbufs = [];
            this.#fc = false;
            let out: Uint8Array;
            try {
              out = wsDecompress(parts);
            } catch (e) {
              throw new WsProtocolError((e as Error).message);
            }
            if (out.length > 0) this.queue.push(out);
          }
        } else if (take > 0) {
          if (this.queue.length > 0) this.queue.push(seg.slice());
          else {
            if (w !== pos - take) buf.copyWithin(w, pos - take, pos);
            w += take;
          }
        }
        if (this.#rem === 0) this.#fs = true;
      }
    } catch (e) {
      if (!(e instanceof WsProtocolError)) throw e;
      this.error = e;
      this.closed = true;
    }
    return w;
  }

  /**
   * Parses a frame header starting at buf[pos] (after any saved partial one). Returns the position after the
   * header (and after a control frame's payload, which is handled here), or -1 when more bytes are needed.
   */
  #readHeader(buf: Uint8Array, pos: number, n: number): number {
    // Gather the header in #hdr when it is split, or when a partial one is pending.
    let h: Uint8Array;
    let hp: number;
    let avail: number;
    if (this.#hdrLen > 0) {
      const want = Math.min(n - pos, this.#hdr.length - this.#hdrLen);
      this.#hdr.set(buf.subarray(pos, pos + want), this.#hdrLen);
      h = this.#hdr;
      hp = 0;
      avail = this.#hdrLen + want;
    } else {
      h = buf;
      hp = pos;
      avail = n - pos;
    }
    const need = this.#headerNeed(h, hp, avail);
    if (need < 0 || avail < need) {
      this.#save(h, hp, avail, buf, pos, n);
      return -1;
    }
    const b0 = h[hp];
    const b1 = h[hp + 1];
    const op = b0 & 0x0f;
    const final = (b0 & WS_FINAL_BIT) !== 0;
    const compressed = (b0 & WS_RSV1_BIT) !== 0;
    if (this.#mask && (b1 & WS_MASK_BIT) === 0) throw new WsProtocolError("mask bit missing");
    let len = b1 & 0x7f;
    switch (op) {
      case WS_PING:
      case WS_PONG:
      case WS_CLOSE:
        if (len > WS_MAX_CONTROL_PAYLOAD_SIZE) {
          throw new WsProtocolError(
            `control frame length bigger than maximum allowed of ${WS_MAX_CONTROL_PAYLOAD_SIZE} bytes`,
          );
        }
        if (!final) throw new WsProtocolError("control frame does not have final bit set");
        break;
      case WS_TEXT:
      case WS_BINARY:
        if (!this.#ff) {
          throw new WsProtocolError(
            "new message started before final frame for previous message was received",
          );
        }
        this.#ff = final;
        this.#fc = compressed;
        break;
      case WS_CONTINUATION:
        if (this.#ff || compressed) throw new WsProtocolError("invalid continuation frame");
        this.#ff = final;
        break;
      default:
        throw new WsProtocolError(`unknown opcode ${op}`);
    }
    let p = hp + 2;
    if (len === 126) {
      len = (h[p] << 8) | h[p + 1];
      p += 2;
    } else if (len === 127) {
      len = (h[p + 2] << 8 | h[p + 3]) * 0x1_0000_0000 +
        ((h[p + 4] << 24 >>> 0) + (h[p + 5] << 16) + (h[p + 6] << 8) + h[p + 7]);
      p += 8;
    }
    if (this.#mask) {
      this.#mkey[0] = h[p];
      this.#mkey[1] = h[p + 1];
      this.#mkey[2] = h[p + 2];
      this.#mkey[3] = h[p + 3];
      this.#mkpos = 0;
      p += 4;
    }
    this.#op = op;
    this.#rem = len;
    // Bytes of `buf` consumed: the header's end mapped back from #hdr when it was gathered there.
    const consumed = h === buf ? p - pos : p - this.#hdrLen;
    this.#hdrLen = 0;
    if (wsIsControlFrame(op)) {
      const payload = this.#hdr === h ? h.slice(p, p + len) : buf.slice(pos + consumed, pos + consumed + len);
      if (this.#mask) this.#unmask(payload);
      this.#rem = 0;
      this.#control(op, payload);
      return pos + consumed + len;
    }
    this.#fs = false;
    return pos + consumed;
  }

  /** Bytes the header needs (control frames: with their payload), or -1 when even that is unknown yet. */
  #headerNeed(h: Uint8Array, hp: number, avail: number): number {
    if (avail < 2) return -1;
    const b1 = h[hp + 1];
    const len7 = b1 & 0x7f;
    let need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((b1 & WS_MASK_BIT) !== 0 ? 4 : 0);
    // A control frame is handled whole; its payload is at most 125 bytes (checked once the header parses).
    if (wsIsControlFrame(h[hp] & 0x0f) && len7 <= WS_MAX_CONTROL_PAYLOAD_SIZE) need += len7;
    return need;
  }

  #save(h: Uint8Array, hp: number, avail: number, buf: Uint8Array, pos: number, n: number): void {
    if (h === buf) this.#hdr.set(buf.subarray(pos, n), 0);
    else if (hp !== 0) this.#hdr.copyWithin(0, hp, hp + avail);
    this.#hdrLen = avail;
  }

  #control(op: number, payload: Uint8Array): void {
    if (op === WS_PING) this.#ctl.onPing(payload);
    else if (op === WS_CLOSE) {
      let status = WS_CLOSE_NO_STATUS;
      let body = "";
      if (payload.length >= 2) {
        status = (payload[0] << 8) | payload[1];
        if (payload.length > 2) {
          try {
            body = utf8Strict.decode(payload.subarray(2));
          } catch {
            status = WS_CLOSE_INVALID_PAYLOAD;
            body = "invalid utf8 body in close frame";
          }
        }
      }
      this.closed = true;
      this.#ctl.onClose(status, body);
    }
  }

  #unmask(b: Uint8Array): void {
    const k = this.#mkey;
    let p = this.#mkpos;
    const n = b.length;
    let i = 0;
    if (n >= 16) {
      // Reach a 4-byte aligned address, then XOR a word at a time with the key rotated to position p.
      while (((b.byteOffset + i) & 3) !== 0) {
        b[i++] ^= k[p & 3];
        p++;
      }
      const words = (n - i) >>> 2;
      const u32 = new Uint32Array(b.buffer, b.byteOffset + i, words);
      // Little-endian word: the byte at the lowest address is the low byte.
      const km = k[p & 3] | (k[(p + 1) & 3] << 8) | (k[(p + 2) & 3] << 16) | (k[(p + 3) & 3] << 24);
      for (let j = 0; j < words; j++) u32[j] ^= km;
      i += words << 2;
    }
    while (i < n) {
      b[i++] ^= k[p & 3];
      p++;
    }
    this.#mkpos = p & 3;
  }
}
