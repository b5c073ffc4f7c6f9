// An in-process client without a socket, like the reference tests' dummyClient/setupClient: a Client on a
// Server that is not listening, a Parser driven by the test, and a fake transport that records writes.

import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options } from "../../src/natsdeno.ts";
import { Client, ClosedState, Server } from "../../src/server/mod.ts";
import { Parser } from "../../src/protocol/mod.ts";
import type { Transport } from "../../src/net/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A transport whose reads wait until close and whose writes are kept in memory. */
export class MemTransport implements Transport {
  readonly written: Uint8Array[] = [];
  closed = false;
  /** When set, each write takes at most this many bytes (short writes). */
  partial = 0;
  #onClose: (() => void)[] = [];

  read(_p: Uint8Array): Promise<number | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((r) => this.#onClose.push(() => r(null)));
  }

  write(p: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new Deno.errors.BrokenPipe("closed"));
    const n = this.partial > 0 ? Math.min(this.partial, p.length) : p.length;
    this.written.push(p.slice(0, n));
    return Promise.resolve(n);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.#onClose.splice(0)) f();
  }

  /** Everything written so far, as text. */
  text(): string {
    return this.written.map((b) => dec.decode(b)).join("");
  }
}

/** A client of an unstarted server, parsed by hand. Dispose it to shut the server down. */
export class DummyClient implements AsyncDisposable {
  readonly server: Server;
  readonly client: Client;
  readonly parser: Parser;
  readonly conn: MemTransport;
  /** Bytes of `conn` already returned by `read()`. */
  #seen = 0;

  constructor(server: Server, cid = 1) {
    this.server = server;
    this.conn = new MemTransport();
    this.client = new Client(server, cid, this.conn, "127.0.0.1", 40000 + cid, server.gacc);
    server.clients.set(cid, this.client);
    server.gacc.addClient(this.client);
    // As the reference's createClientAsync does: no +OK until a CONNECT asks for it.
    this.client.opts.verbose = false;
    this.parser = new Parser(this.client, server.opts.maxControlLine);
  }

  /** Parses `proto` as one read and flushes; false when the connection was closed (Go's parse error). */
  parse(proto: string | Uint8Array): boolean {
    const ok = this.parser.parse(typeof proto === "string" ? enc.encode(proto) : proto);
    this.server.flushPending();
    return ok && !this.client.closed;
  }

  /** Waits for pending writes and returns what the client was sent since the last call. */
  async read(): Promise<string> {
    // Writes to MemTransport settle in microtasks; one macrotask turn lets every write loop finish.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    const all = this.conn.text();
    const out = all.slice(this.#seen);
    this.#seen = all.length;
    return out;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.client.closed) this.client.close(ClosedState.ClientClosed);
    await this.server.shutdown();
  }
}

/** A server that is not listening (tests only parse), quiet unless NATSDENO_TEST_LOG is set. */
export function dummyServer(opts: Partial<Options> = {}): Server {
  const full = defaultOptions({ host: "127.0.0.1", port: 0, ...opts });
  const log = new Logger(
    { quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: full.debug, trace: full.trace },
    true,
  );
  return new Server(full, { log });
}

/** Go's dummyClient()/setupClient(): one client on its own unstarted server. */
export function dummyClient(opts: Partial<Options> = {}): DummyClient {
  return new DummyClient(dummyServer(opts));
}
