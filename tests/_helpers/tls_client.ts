// A raw protocol client over TLS for the ported tests: plaintext INFO, then a node:tls upgrade (as the
// reference tests' tls.Client(conn, …) does), then protocol lines and regex expectations on what arrives.
import * as tls from "node:tls";
import { readFileSync } from "node:fs";
import { TransportDuplex } from "../../src/net/_tls_duplex.ts";

/** The test certificates (scripts/gen_certs.sh). */
export const CERTS = new URL("../configs/certs/", import.meta.url).pathname;

const dec = new TextDecoder();

/** The transport duplex with a switch that stops reading from the TCP connection (bytes stay in the kernel). */
class StallableDuplex extends TransportDuplex {
  stalled = false;
  #held: Uint8Array[] = [];
  override push(chunk: Uint8Array | null): boolean {
    if (this.stalled && chunk !== null) {
      this.#held.push(chunk);
      return false;
    }
    return super.push(chunk);
  }
}

/** A TLS protocol client: `buf` holds what arrived and was not consumed by expect() yet. */
export class RawTlsClient implements AsyncDisposable {
  readonly sock: tls.TLSSocket;
  readonly info: Record<string, unknown>;
  readonly #duplex: StallableDuplex;
  #buf = "";
  #closed = false;
  #wake: (() => void) | undefined;

  private constructor(sock: tls.TLSSocket, duplex: StallableDuplex, info: Record<string, unknown>) {
    this.sock = sock;
    this.#duplex = duplex;
    this.info = info;
    sock.on("data", (d: Uint8Array) => {
      this.#buf += dec.decode(d);
      this.#notify();
    });
    const end = () => {
      this.#closed = true;
      this.#notify();
    };
    sock.on("close", end);
    sock.on("end", end);
    sock.on("error", end);
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /**
   * Connects to 127.0.0.1:port, reads INFO, and upgrades. Without `ca` the server is not verified
   * (Go's InsecureSkipVerify); `cert`/`key` are file paths of a client certificate.
   */
  static async connect(
    port: number,
    opts: { ca?: string; cert?: string; key?: string } = {},
  ): Promise<RawTlsClient> {
    // A Deno TCP connection under node:tls (natsdeno's own transport duplex): pausing `sock` then stops
    // reading from the kernel, so a server's writes back up as they do against a stalled Go client.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    let line = "";
    const b = new Uint8Array(4096);
    while (!line.includes("\r\n")) {
      const n = await conn.read(b);
      if (n === null) throw new Error(`closed before INFO: ${JSON.stringify(line)}`);
      line += dec.decode(b.subarray(0, n));
    }
    const info = JSON.parse(line.slice(5, line.indexOf("\r\n")));
    const duplex = new StallableDuplex(conn);
    const sock = tls.connect({
      socket: duplex,
      servername: "localhost",
      rejectUnauthorized: opts.ca !== undefined,
      ...(opts.ca !== undefined ? { ca: readFileSync(opts.ca) } : {}),
      ...(opts.cert !== undefined ? { cert: readFileSync(opts.cert), key: readFileSync(opts.key!) } : {}),
    });
    await new Promise<void>((r, j) => sock.once("secureConnect", () => r()).once("error", j));
    return new RawTlsClient(sock, duplex, info);
  }

  /** Stops reading from the socket: what the server sends next backs up in the kernel, then the server. */
  stallReads(): void {
    this.#duplex.stalled = true;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(s: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.sock.write(s, (e?: Error | null) => e ? reject(e) : resolve())
    );
  }

  /** Waits for `re` to match at the start of what arrived, consumes the match and returns it. */
  async expect(re: RegExp, timeoutMs = 2000): Promise<RegExpExecArray> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.#buf);
      if (m !== null && m.index === 0) {
        this.#buf = this.#buf.slice(m[0].length);
        return m;
      }
      if (this.#closed || Date.now() >= end) {
        throw new Error(`expected ${re}, got ${JSON.stringify(this.#buf)}${this.#closed ? " (closed)" : ""}`);
      }
      await this.#wait(end - Date.now());
    }
  }

  /** Resolves once the server closed the connection; throws after `timeoutMs`. */
  async waitClosed(timeoutMs = 2000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.#closed) {
      if (Date.now() >= end) throw new Error("connection still open");
      await this.#wait(end - Date.now());
    }
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, Math.max(1, ms));
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  close(): void {
    this.sock.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.sock.destroyed) {
      const closed = new Promise<void>((r) => this.sock.once("close", () => r()));
      this.sock.destroy();
      await closed;
    }
  }
}
