// Raw NATS client-protocol pieces for the benchmark: connect, pipelined publish frames, and a byte
// scanner that counts MSG frames without decoding payloads. No npm client: the bench client must
// cost less than the server it measures.

const enc = new TextEncoder();
const dec = new TextDecoder();

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;

/** Absolute high-resolution time in ms, comparable between workers of one process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Encodes ASCII text. */
export function ascii(s: string): Uint8Array {
  return enc.encode(s);
}

/** Writes all of buf, looping over short writes. */
export async function writeAll(conn: Deno.Conn, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) off += await conn.write(buf.subarray(off));
}

/** Server INFO as far as the bench reads it. */
export interface ServerInfo {
  version?: string;
  "server_name"?: string;
  "server_id"?: string;
  go?: string;
  headers?: boolean;
  "max_payload"?: number;
}

/** Reads the first line (INFO) of a fresh connection. */
export async function readInfo(conn: Deno.Conn, timeoutMs = 5_000): Promise<ServerInfo> {
  const buf = new Uint8Array(16_384);
  let len = 0;
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    while (len < buf.length) {
      const n = await conn.read(buf.subarray(len));
      if (n === null) throw new Error("connection closed before INFO");
      len += n;
      const nl = buf.subarray(0, len).indexOf(LF);
      if (nl < 0) continue;
      const line = dec.decode(buf.subarray(0, nl)).trim();
      if (!line.startsWith("INFO ")) {
        throw new Error(`expected INFO, got ${JSON.stringify(line.slice(0, 80))}`);
      }
      return JSON.parse(line.slice(5)) as ServerInfo;
    }
    throw new Error("INFO line too long");
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Counts server frames on one connection. MSG/HMSG payloads are skipped by size, never decoded;
 * PING is answered, PONG counted, -ERR recorded. Control lines split across reads are carried.
 */
export class FrameScanner {
  msgs = 0;
  /** MSG frames whose payload size differed from `expectSize` (when set). */
  badSize = 0;
  pongs = 0;
  pingsFromServer = 0;
  errors: string[] = [];
  /** Payload bytes (plus CRLF) still to skip from the current MSG. */
  skip = 0;
  #carry = new Uint8Array(4096);
  #carryLen = 0;
  #lastLen = 0;
  #lastSize = 0;
  #lastDigits = new Uint8Array(0);

  constructor(
    readonly expectSize = -1,
    /** Called with each MSG/HMSG control line (a view, valid during the call). */
    readonly onMsgLine?: (line: Uint8Array) => void,
  ) {}

  /** Scans one read's bytes. */
  feed(buf: Uint8Array): void {
    const n = buf.length;
    let i = 0;
    let skip = this.skip;
    while (i < n) {
      if (skip > 0) {
        const k = skip < n - i ? skip : n - i;
        i += k;
        skip -= k;
        continue;
      }
      // Same MSG line shape as the previous frame (same length, LF and size digits where they
      // were): count it without scanning the line. Subject and sid bytes are not compared.
      const L = this.#lastLen;
      if (L > 0 && i + L <= n && buf[i] === 0x4d && buf[i + L - 1] === LF && buf[i + L - 2] === CR) {
        const d = this.#lastDigits;
        const at = i + L - 2 - d.length;
        let same = buf[at - 1] === SPACE;
        for (let k = 0; same && k < d.length; k++) same = buf[at + k] === d[k];
        if (same && this.onMsgLine === undefined) {
          this.msgs++;
          skip = this.#lastSize + 2;
          i += L;
          continue;
        }
      }
      // Control lines are short: a plain loop beats indexOf's call overhead here.
      let nl = i;
      while (nl < n && buf[nl] !== LF) nl++;
      if (nl === n) {
        this.#append(buf.subarray(i));
        break;
      }
      if (this.#carryLen === 0 && buf[i] === 0x4d && this.onMsgLine === undefined) {
        // Fast path for MSG lines wholly in this read: the size is the last token.
        let j = nl - 1;
        if (buf[j] === CR) j--;
        let size = 0;
        let mul = 1;
        while (j > i && buf[j] !== SPACE) {
          size += (buf[j] - 0x30) * mul;
          mul *= 10;
          j--;
        }
        this.msgs++;
        if (size !== this.expectSize && this.expectSize >= 0) this.badSize++;
        skip = size + 2;
        if (buf[nl - 1] === CR && size === this.expectSize) {
          this.#lastLen = nl + 1 - i;
          this.#lastSize = size;
          this.#lastDigits = buf.slice(j + 1, nl - 1);
        }
        i = nl + 1;
        continue;
      }
      let line: Uint8Array;
      if (this.#carryLen > 0) {
        this.#append(buf.subarray(i, nl + 1));
        line = this.#carry.subarray(0, this.#carryLen);
        this.#carryLen = 0;
      } else {
        line = buf.subarray(i, nl + 1);
      }
      i = nl + 1;
      this.skip = skip;
      this.#line(line);
      skip = this.skip;
    }
    this.skip = skip;
  }

  #append(b: Uint8Array): void {
    if (this.#carryLen + b.length > this.#carry.length) {
      const bigger = new Uint8Array((this.#carryLen + b.length) * 2);
      bigger.set(this.#carry.subarray(0, this.#carryLen));
      this.#carry = bigger;
    }
    this.#carry.set(b, this.#carryLen);
    this.#carryLen += b.length;
  }

  #line(line: Uint8Array): void {
    const c0 = line[0];
    if (c0 === 0x4d || c0 === 0x48) { // MSG, HMSG: the last token is the (total) size
      let end = line.length - 1; // at LF
      if (end > 0 && line[end - 1] === CR) end--;
      let j = end - 1;
      while (j > 0 && line[j] !== SPACE) j--;
      let size = 0;
      for (let k = j + 1; k < end; k++) size = size * 10 + (line[k] - 0x30);
      this.skip = size + 2;
      this.msgs++;
      if (this.expectSize >= 0 && size !== this.expectSize && c0 === 0x4d) this.badSize++;
      this.onMsgLine?.(line);
    } else if (c0 === 0x50) { // PING / PONG
      if (line[1] === 0x4f) this.pongs++;
      else this.pingsFromServer++;
    } else if (c0 === 0x2d) { // -ERR
      this.errors.push(dec.decode(line).trim());
    }
    // +OK and INFO need nothing.
  }
}

const PONG = ascii("PONG\r\n");

/** A connection with a read loop feeding a FrameScanner; resolves waiters on progress. */
export class BenchConn {
  readonly scanner: FrameScanner;
  closed = false;
  readError?: unknown;
  #waiters: Array<() => void> = [];
  #answeredPings = 0;

  private constructor(readonly conn: Deno.Conn, scanner: FrameScanner) {
    this.scanner = scanner;
  }

  /** Connects, reads INFO, sends CONNECT and waits for the PONG that confirms it. */
  static async open(
    port: number,
    opts: { expectSize?: number; onMsgLine?: (line: Uint8Array) => void; name?: string } = {},
  ): Promise<BenchConn> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    await readInfo(conn);
    const bc = new BenchConn(conn, new FrameScanner(opts.expectSize ?? -1, opts.onMsgLine));
    bc.#readLoop();
    const connect = {
      verbose: false,
      pedantic: false,
      lang: "deno-raw",
      version: "0",
      name: opts.name ?? "bench",
    };
    await bc.write(ascii(`CONNECT ${JSON.stringify(connect)}\r\n`));
    await bc.flush(5_000);
    return bc;
  }

  write(buf: Uint8Array): Promise<void> {
    return writeAll(this.conn, buf);
  }

  /** Sends PING and waits for its PONG: everything sent before was processed by the server. */
  async flush(timeoutMs: number): Promise<void> {
    const want = this.scanner.pongs + 1;
    await this.write(ascii("PING\r\n"));
    await this.waitFor(() => this.scanner.pongs >= want, timeoutMs, "PONG");
  }

  /** Resolves when pred() holds, checked after every read; rejects on close, -ERR or timeout. */
  waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.scanner.errors.length > 0) {
          reject(new Error(`server sent ${this.scanner.errors.join("; ")}`));
          return true;
        }
        if (pred()) {
          resolve();
          return true;
        }
        if (this.closed) {
          reject(new Error(`connection closed while waiting for ${what}: ${this.readError ?? "EOF"}`));
          return true;
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`timeout after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const waiter = (): void => {
        if (check()) {
          clearTimeout(timer);
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
        }
      };
      this.#waiters.push(waiter);
    });
  }

  /** Called after each read, with the scanner already fed. */
  onRead?: () => void;

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(256 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.scanner.feed(buf.subarray(0, n));
        while (this.#answeredPings < this.scanner.pingsFromServer) {
          this.#answeredPings++;
          this.write(PONG).catch(() => {});
        }
        this.onRead?.();
        if (this.#waiters.length > 0) { for (const w of [...this.#waiters]) w(); }
      }
    } catch (err) {
      if (!this.closed) this.readError = err;
    }
    this.closed = true;
    for (const w of [...this.#waiters]) w();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed by the peer
    }
  }
}

/** One `PUB subject size\r\n<payload>\r\n` frame with a payload of `size` bytes. */
export function pubFrame(subject: string, size: number, reply?: string): Uint8Array {
  const head = ascii(`PUB ${subject}${reply ? " " + reply : ""} ${size}\r\n`);
  const f = new Uint8Array(head.length + size + 2);
  f.set(head);
  // Payload: printable bytes; the first 8 hold nothing special (counts are checked, not order).
  for (let i = 0; i < size; i++) f[head.length + i] = 0x61 + (i % 26);
  f[f.length - 2] = CR;
  f[f.length - 1] = LF;
  return f;
}

/** `n` copies of frame, followed by PING when `ping` is set. */
export function repeatFrame(frame: Uint8Array, n: number, ping: boolean): Uint8Array {
  const tail = ping ? ascii("PING\r\n") : new Uint8Array(0);
  const out = new Uint8Array(frame.length * n + tail.length);
  for (let i = 0; i < n; i++) out.set(frame, i * frame.length);
  out.set(tail, frame.length * n);
  return out;
}

/** Splits a MSG control line into its tokens (used only on the request/reply path). */
export function msgTokens(line: Uint8Array): string[] {
  return dec.decode(line).trim().split(" ");
}
