// A client connection: reads and parses, routes published messages, buffers and flushes outbound bytes. The
// class is built in layers, one file per concern (see _client_base.ts); this file is the concrete class: session
// start (INFO, TLS, timers) and the read loop. Behaviour follows nats-server server/client.go.

import { encoder } from "../util/mod.ts";
import type { Transport } from "../net/mod.ts";
import type { Account } from "./account.ts";
import type { Server } from "./server.ts";
import { ClosedState } from "./closed_state.ts";
import { type ClientTlsStart, type PendingRead, startClientTls } from "./_client_tls.ts";
import { ClientProtocol } from "./_client_proto.ts";
import { FIRST_PING_MS, STALL_BYTES } from "./_client_base.ts";

const MIN_READ = 512;
const MAX_READ = 256 * 1024;
/** Consecutive short reads (under 1/8 of the buffer) before the read buffer halves. */
const SHORTS_TO_SHRINK = 16;
const STALL_MS = 5;

/** One client connection. */
export class Client extends ClientProtocol {
  constructor(server: Server, cid: number, conn: Transport, host: string, port: number, account: Account) {
    super(server, cid, conn, host, port, account);
    this._rbuf = new Uint8Array(MIN_READ * 2);
  }

  /**
   * Sends INFO, arms the auth and ping timers, and runs the read loop until the connection ends. With
   * `tls`, INFO and the handshake are ordered as the TLS settings say (see _client_tls.ts).
   */
  run(info: string, tls?: ClientTlsStart): void {
    if (tls !== undefined) {
      startClientTls(this, this._conn, info, tls);
      return;
    }
    this.enqueue(encoder.encode(info));
    this.flush();
    this.startSession();
  }

  /**
   * Arms the auth and ping timers and starts the read loop. `first` is a read already issued on the
   * transport (a TLS peek) whose bytes, in `first.buf`, are parsed before anything else.
   */
  startSession(first?: PendingRead): void {
    const s = this.server;
    if (this.auth.authRequired) {
      const wsTimeout = this.ws !== undefined ? s.opts.websocket.authTimeout * 1000 : 0;
      const ms = wsTimeout > 0 ? wsTimeout : s.authTimeoutMs();
      this._authTimer = s.timers.after(ms, () => this._authTimeout());
    }
    this._setPingTimer(FIRST_PING_MS);
    this.#readLoop(first).catch((e) => this._closeWith(ClosedState.ReadError, e));
  }

  /** Replaces the transport once a TLS handshake completes; later reads and writes go through it. */
  setTransport(t: Transport): void {
    this._conn = t;
  }

  async #readLoop(first?: PendingRead): Promise<void> {
    const conn = this._conn;
    while (!this.closed) {
      let n: number | null;
      try {
        if (first !== undefined) {
          n = await first.read;
          if (n !== null && n > 0) {
            if (n > this._rbuf.length) this._rbuf = new Uint8Array(n * 2);
            this._rbuf.set(first.buf.subarray(0, n));
          }
          first = undefined;
        } else n = await conn.read(this._rbuf);
      } catch (e) {
        this._closeWith(this.closed ? ClosedState.ClientClosed : ClosedState.ReadError, e);
        return;
      }
      if (n === null) {
        this.close(ClosedState.ClientClosed);
        return;
      }
      if (this.closed) return;
      this.lastActivity = Date.now();
      const active = this.inMsgs + this._subOps;
      let chunk = this._rbuf.subarray(0, n);
      for (;;) {
        const ok = this._parser.parse(chunk);
        this.server.flushPending();
        if (ok || this.closed) break;
        // CONNECT with a bcrypt password: finish auth, then parse the rest of the chunk.
        const pending = this._pendingAuth;
        if (!pending) break;
        await pending;
        this._pendingAuth = undefined;
        if (this.closed) return;
        chunk = chunk.subarray(this._parser.resumeAt);
      }
      if (this.closed) return;
      // Messages or subscriptions (not PINGs or PONGs) count as activity that makes a PING needless.
      if (this.inMsgs + this._subOps !== active) this._lastMsgIn = performance.now();
      // Grow the read buffer while reads fill it; shrink it back when traffic is light.
      // Shrinking waits for a run of short reads: a request/response cycle that alternates one full and
      // one short read would otherwise flip the size each time and split every cycle into two reads.
      if (n === this._rbuf.length && n < MAX_READ) {
        this._rbuf = new Uint8Array(n * 2);
        this._shortReads = 0;
      } else if (n < this._rbuf.length / 8 && this._rbuf.length > MIN_READ * 2) {
        if (++this._shortReads >= SHORTS_TO_SHRINK) {
          this._rbuf = new Uint8Array(this._rbuf.length / 2);
          this._shortReads = 0;
        }
      } else this._shortReads = 0;
      // Fast-producer stall: wait briefly for a receiver that fell behind.
      const r = this._stallOn;
      if (r !== undefined) {
        this._stallOn = undefined;
        if (!r.closed && r.pendingBytes() > STALL_BYTES) await r.drained(STALL_MS);
      }
    }
  }
}
