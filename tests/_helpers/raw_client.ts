// A raw TCP protocol client for wire tests, like the reference server's test/ helpers (sendProto, expect).

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A plain socket that sends protocol text and reads what the server answers. */
export class RawClient implements AsyncDisposable {
  #conn: Deno.TcpConn;
  #buf = "";
  #eof = false;
  #reading: Promise<void> | undefined;
  #waiters: (() => void)[] = [];

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#reading = this.#readLoop();
  }

  /** Connects to 127.0.0.1:port (or a nats:// URL). */
  static async connect(port: number | string): Promise<RawClient> {
    let hostname = "127.0.0.1";
    let p: number;
    if (typeof port === "string") {
      const u = new URL(port);
      hostname = u.hostname;
      p = Number(u.port);
    } else p = port;
    const conn = await Deno.connect({ hostname, port: p });
    return new RawClient(conn);
  }

  async #readLoop(): Promise<void> {
    const b = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.#conn.read(b);
        if (n === null) break;
        this.#buf += dec.decode(b.subarray(0, n), { stream: true });
        this.#wake();
      }
    } catch {
      // Reset by peer counts as closed.
    }
    this.#eof = true;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Sends text (or bytes) as is. */
  async send(s: string | Uint8Array): Promise<void> {
    const b = typeof s === "string" ? enc.encode(s) : s;
    let off = 0;
    while (off < b.length) off += await this.#conn.write(b.subarray(off));
  }

  /** True once the server closed the connection. */
  get closed(): boolean {
    return this.#eof;
  }

  /** Everything received and not yet consumed. */
  get buffered(): string {
    return this.#buf;
  }

  /**
   * Waits until the received text matches `re` (anchored at the start of the unconsumed text unless the
   * regex says otherwise), consumes through the match and returns it. Throws after `timeoutMs`.
   */
  async expect(re: RegExp, timeoutMs = 2000): Promise<RegExpExecArray> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.#buf);
      if (m) {
        this.#buf = this.#buf.slice(m.index + m[0].length);
        return m;
      }
      if (this.#eof) throw new Error(`connection closed; expected ${re}, have ${JSON.stringify(this.#buf)}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timeout; expected ${re}, have ${JSON.stringify(this.#buf)}`);
      await this.#wait(left);
    }
  }

  /** Reads the INFO line and returns its JSON. */
  async info(): Promise<Record<string, unknown>> {
    const m = await this.expect(/^INFO (\{.*\}) ?\r\n/);
    return JSON.parse(m[1]);
  }

  /** Sends PING and waits for everything up to its PONG; returns what came before the PONG. */
  async flush(timeoutMs = 2000): Promise<string> {
    await this.send("PING\r\n");
    const m = await this.expect(/([\s\S]*?)PONG\r\n/, timeoutMs);
    return m[1];
  }

  /** Waits for the server to close the connection; returns what was received unconsumed. */
  async waitClosed(timeoutMs = 2000): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (!this.#eof) {
      const left = end - Date.now();
      if (left <= 0) throw new Error(`connection still open; have ${JSON.stringify(this.#buf)}`);
      await this.#wait(left);
    }
    const rest = this.#buf;
    this.#buf = "";
    return rest;
  }

  /** Waits `ms` and returns what arrived (without consuming). */
  async collect(ms: number): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    return this.#buf;
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#waiters = this.#waiters.filter((f) => f !== done);
        resolve();
      }, ms);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      this.#waiters.push(done);
    });
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#reading;
  }
}

/** Connects, reads INFO, sends CONNECT (defaults: verbose and pedantic off), returns the client. */
export async function connectRaw(
  port: number,
  connect: Record<string, unknown> | null = { verbose: false, pedantic: false },
): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.info();
  if (connect !== null) await c.send(`CONNECT ${JSON.stringify(connect)}\r\n`);
  return c;
}
