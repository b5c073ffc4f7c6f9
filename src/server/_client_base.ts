// The state every layer of a client connection shares, and the connection's upkeep: the outbound buffer and its
// write loop, slow consumers, ping and auth timers, limits, and closing. A client is built in layers, one file
// per concern: this base, publish routing and delivery (_client_deliver.ts, the hot path), the internal-client
// API that server services and JetStream publish through (_client_internal.ts), the protocol callbacks for
// CONNECT, SUB, UNSUB, PING and the rest (_client_proto.ts), and the read loop (client.ts, the concrete class).
// Imports go one way, from each layer to those below it. Behaviour follows nats-server server/client.go.

import { encoder, formatDuration, type TimerEntry } from "../util/mod.ts";
import {
  type ConnectOptions,
  ERR_AUTH_TIMEOUT,
  ERR_AUTH_VIOLATION,
  ERR_STALE_CONNECTION,
  goQuote,
} from "../protocol/mod.ts";
import type { SublistResult } from "../sublist/mod.ts";
import type { AuthResult, ClientPermissions } from "../auth/mod.ts";
import type { Transport, WsUpgrade } from "../net/mod.ts";
import type { ClientAuth, ConnectionType } from "../auth/mod.ts";
import type { Subscription } from "./subscription.ts";
import type { Account } from "./account.ts";
import type { Server } from "./server.ts";
import { removeShadowSubscriptions, type ServiceImport } from "./_account_service.ts";
import { ClosedState } from "./closed_state.ts";
import type { JwtUserState } from "./_resolver_config.ts";
// Type only: server APIs take the concrete Client (see _self).
import type { Client } from "./client.ts";

const START_OUT = 1024;
/** Keep at most this much as the spare outbound buffer. */
const MAX_SPARE = 1024 * 1024;
/** A receiver with this much queued pauses its producers briefly (Go's fast-producer stall). */
export const STALL_BYTES = 1024 * 1024;
export const FIRST_PING_MS = 2_000;
/** An RTT measurement older than this makes the next ping timer send a PING regardless of activity. */
const RTT_MEASUREMENT_MS = 3_600_000;

const PING_B = encoder.encode("PING\r\n");
export const OK_B = encoder.encode("+OK\r\n");
export const EMPTY = new Uint8Array(0);

/** Per-connection cache of the last published subject (compared as bytes, no decode on a hit). */
interface PubCache {
  bytes: Uint8Array;
  subject: string;
  genid: number;
  result: SublistResult<Subscription>;
  /** 0 allowed, 1 denied by permissions, 2 reserved prefix, 3 invalid (pedantic). */
  verdict: number;
}

/** The shared state of a client connection; see Client. */
export abstract class ClientBase {
  readonly cid: number;
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  readonly start = new Date();
  kind = "Client";
  account: Account;
  opts: ConnectOptions = { verbose: true, pedantic: true, echo: true };
  echo = true;
  headers = false;
  connectReceived = false;
  authResult?: AuthResult;
  perms?: ClientPermissions;
  readonly subs = new Map<string, Subscription>();
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;
  lastActivity = Date.now();
  stop?: Date;
  closeReason?: ClosedState;
  closed = false;
  rttMs = 0;
  pingsOut = 0;
  /** The nonce sent in INFO when nkeys are configured. */
  nonce?: string;
  /** Set for WebSocket connections: what the upgrade negotiated (cookies, X-Forwarded-For, framing). */
  ws?: WsUpgrade;
  /** /connz "type" of a client connection when it is not plain NATS ("websocket"). */
  clientType?: string;
  /** TLS state once the handshake completed: "1.3", the IANA suite name, peer certificates (DER, leaf first). */
  tlsVersion?: string;
  tlsCipher?: string;
  tlsPeerCerts?: Uint8Array[];
  /** Operator mode: the user JWT's claims, limits and expiry timer (src/server/_resolver.ts). */
  jwtUser?: JwtUserState;
  /** Service imports the message being delivered went through (cycle detection); empty on the plain path. */
  readonly psi: ServiceImport[] = [];
  /** This connection as the concrete Client (its only subclass), for the server APIs that take one. */
  protected readonly _self: Client;
  protected _conn: Transport;
  protected _rbuf: Uint8Array = EMPTY;
  protected _shortReads = 0;
  protected _out: Uint8Array | undefined;
  protected _outLen = 0;
  #spare: Uint8Array | undefined;
  protected _inflight = 0;
  #writing = false;
  writeStart = 0;
  #drainWaiters: (() => void)[] = [];
  protected _pubCache: PubCache | undefined;
  protected _authTimer: TimerEntry | undefined;
  #pingTimer: TimerEntry | undefined;
  protected _pendingAuth: Promise<void> | undefined;
  protected _rttStart = 0;
  /** performance.now() of the last read with a message or SUB, and of the last PING from the client. */
  protected _lastMsgIn = 0;
  protected _lastPingIn = 0;
  protected _subOps = 0;
  /** Receivers that went over STALL_BYTES while this client published. */
  protected _stallOn: ClientBase | undefined;
  #flushQueued = false;

  constructor(server: Server, cid: number, conn: Transport, host: string, port: number, account: Account) {
    this.server = server;
    this.cid = cid;
    this._conn = conn;
    this.host = host;
    this.port = port;
    this.account = account;
    this._self = this as unknown as Client;
  }

  toString(): string {
    const h = this.host.includes(":") ? `[${this.host}]` : this.host;
    if (this.ws === undefined) return `${h}:${this.port} - cid:${this.cid}`;
    // As nats-server: an X-Forwarded-For address goes in front, and WebSocket clients are "wid".
    const ip = this.ws.clientIP;
    const fwd = ip === undefined ? "" : ip.includes(":") ? `[${ip}]/` : `${ip}/`;
    return `${fwd}${h}:${this.port} - wid:${this.cid}`;
  }

  /** The authorization this connection is checked against (WebSocket clients may have their own). */
  get auth(): ClientAuth {
    return this._authFor(this.server);
  }

  protected _authFor(s: Server): ClientAuth {
    return (this.ws !== undefined ? s.wsAuth : undefined) ?? s.auth;
  }

  /** no_auth_user for this connection: the websocket block's when it overrides authorization. */
  protected _noAuthUser(s: Server): string | undefined {
    return this.ws !== undefined && s.wsAuth !== undefined ? s.opts.websocket.noAuthUser : s.opts.noAuthUser;
  }

  /** The `allowed_connection_types` name of this connection. */
  get connectionType(): ConnectionType {
    return this.ws !== undefined ? "WEBSOCKET" : "STANDARD";
  }

  /** The payload limit of this connection: the lower of max_payload and the account's; -1 for none. */
  maxPayload(): number {
    let max = this.server.maxPayload;
    if (max <= 0) max = -1;
    const am = this.account.maxPayload;
    if (am >= 0 && (max < 0 || am < max)) max = am;
    const um = this.jwtUser?.mpay ?? -1;
    if (um >= 0 && (max < 0 || um < max)) max = um;
    return max;
  }

  /** The subscription limit of this connection: the lower of max_subscriptions and the account's. */
  maxSubscriptions(): number {
    let max = this.server.opts.maxSubs;
    if (max <= 0) max = -1;
    const am = this.account.maxSubscriptions;
    if (am >= 0 && (max < 0 || am < max)) max = am;
    const um = this.jwtUser?.msubs ?? -1;
    if (um >= 0 && (max < 0 || um < max)) max = um;
    return max;
  }

  protected _userDesc(): string {
    const u = this.authResult?.user;
    if (this.authResult?.nkey) return `Nkey "${this.authResult.nkey}"`;
    return `User "${u ? u : "N/A"}"`;
  }

  /** Queues raw protocol bytes; they go out on the next flush. */
  enqueue(b: Uint8Array): void {
    const off = this._reserve(b.length);
    if (off < 0) return;
    this._out!.set(b, off);
    this._outLen = off + b.length;
  }

  /** Queues -ERR '<text>'. */
  sendErr(text: string): void {
    if (this.server.trace) this.server.log.trace(`${this} - ->> [-ERR ${text}]`);
    this.enqueue(encoder.encode(`-ERR '${text}'\r\n`));
  }

  /** Bytes queued or being written. */
  pendingBytes(): number {
    return this._outLen + this._inflight;
  }

  /**
   * Makes room for `n` more bytes; returns the write offset, or -1 when the client became a slow consumer
   * (past max_pending) and was closed.
   */
  protected _reserve(n: number): number {
    if (this.closed) return -1;
    const len = this._outLen;
    let out = this._out;
    if (out === undefined) {
      out = this.#spare ?? new Uint8Array(Math.max(START_OUT, n));
      this.#spare = undefined;
      this._out = out;
    }
    if (len === 0) this.server.markPending(this._self);
    // As nats-server's queueOutbound: bytes that would take the client past max_pending are never queued.
    if (len + n + this._inflight > this.server.opts.maxPending) {
      this.#slowConsumer();
      return -1;
    }
    if (len + n > out.length) {
      const grown = new Uint8Array(Math.max(out.length * 2, len + n));
      grown.set(out.subarray(0, len));
      this._out = grown;
    }
    return len;
  }

  /** Starts writing queued bytes unless a write is already in flight. */
  flush(): void {
    if (this.#writing || this._outLen === 0 || this.closed) return;
    this.#writing = true;
    this.#writeLoop().catch((e) => this._closeWith(ClosedState.WriteError, e));
  }

  async #writeLoop(): Promise<void> {
    try {
      // After close() only an in-flight write's tail (an -ERR queued behind it) is still sent.
      while (this._outLen > 0 && (!this.closed || this.#closing)) {
        const buf = this._out!;
        const len = this._outLen;
        this._out = this.#spare;
        this.#spare = undefined;
        this._outLen = 0;
        this._inflight = len;
        this.writeStart = performance.now();
        let off = 0;
        while (off < len) off += await this._conn.write(buf.subarray(off, len));
        this._inflight = 0;
        this.writeStart = 0;
        if (buf.length <= MAX_SPARE && this.#spare === undefined) this.#spare = buf;
        this.#wakeDrainWaiters();
      }
    } finally {
      this.#writing = false;
      this._inflight = 0;
      this.writeStart = 0;
      this.#wakeDrainWaiters();
    }
    if (this.#closing) this.#finishClose();
  }

  /** Resolves when the outbound queue falls under the stall mark, or after `ms`. */
  drained(ms: number): Promise<void> {
    const timers = this.server.timers;
    return new Promise((resolve) => {
      const done = () => {
        timers.cancel(t);
        resolve();
      };
      const t = timers.after(ms, done);
      this.#drainWaiters.push(done);
    });
  }

  #wakeDrainWaiters(): void {
    if (this.#drainWaiters.length === 0 || this.pendingBytes() > STALL_BYTES) return;
    const w = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const f of w) f();
  }

  /** Queues a flush from outside a read loop (timers, other clients' events). */
  flushSoon(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.flush();
    });
  }

  /** A write has been stuck past write_deadline: close as a slow consumer. */
  writeDeadlineExceeded(): void {
    const s = this.server;
    s.slowConsumers++;
    s.log.notice(
      `${this} - Slow Consumer Detected: WriteDeadline of ${
        formatDuration(s.opts.writeDeadlineMs)
      } exceeded with 1 chunks of ${this.pendingBytes()} total bytes.`,
    );
    this.close(ClosedState.SlowConsumerWriteDeadline);
  }

  #slowConsumer(): void {
    const s = this.server;
    s.slowConsumers++;
    s.log.notice(`${this} - Slow Consumer Detected: MaxPending of ${s.opts.maxPending} Exceeded`);
    this._outLen = 0;
    this.close(ClosedState.SlowConsumerPendingBytes);
  }

  protected _startMono = performance.now();

  protected _setPingTimer(ms: number): void {
    const s = this.server;
    s.timers.cancel(this.#pingTimer);
    const interval = s.opts.pingIntervalMs;
    if (interval <= 0) return;
    this.#pingTimer = s.timers.after(Math.min(ms, interval), () => this.#pingTick());
  }

  #pingTick(): void {
    if (this.closed) return;
    const s = this.server;
    // As nats-server: no PING while the client was recently active or pinged us, unless an RTT is due.
    const now = performance.now();
    const interval = s.opts.pingIntervalMs;
    const needRtt = this._rttStart === 0 || now - this._rttStart > RTT_MEASUREMENT_MS;
    if (!needRtt && (now - this._lastMsgIn < interval || now - this._lastPingIn < interval)) {
      this._setPingTimer(interval);
      return;
    }
    if (this.pingsOut + 1 > s.opts.maxPingsOut) {
      this.sendErr(ERR_STALE_CONNECTION);
      s.log.debug(`${this} - Stale Client Connection - Closing`);
      this.flush();
      this.close(ClosedState.StaleConnection);
      return;
    }
    this.pingsOut++;
    this._rttStart = performance.now();
    if (s.trace) s.log.trace(`${this} - ->> [PING]`);
    this.enqueue(PING_B);
    this.flush();
    this._setPingTimer(s.opts.pingIntervalMs);
  }

  protected _authTimeout(): void {
    this._authTimer = undefined;
    if (this.closed || this.connectReceived) return;
    this.sendErr(ERR_AUTH_TIMEOUT);
    this.server.log.debug(`${this} - ${ERR_AUTH_TIMEOUT}`);
    this.flush();
    this.close(ClosedState.AuthenticationTimeout);
  }

  protected _clearAuthTimer(): void {
    this.server.timers.cancel(this._authTimer);
    this._authTimer = undefined;
  }

  /** Sends Authorization Violation, logs it as nats-server does and closes. */
  authViolation(): void {
    const s = this.server;
    if (s.opts.nkeys.length > 0 && this.opts.nkey) {
      s.log.error(`${this} - authentication error - Nkey ${goQuote(this.opts.nkey ?? "")}`);
    } else if (s.opts.users.length > 0 || s.opts.nkeys.length > 0) {
      s.log.error(`${this} - authentication error - User ${goQuote(this.opts.user ?? "")}`);
    } else s.log.error(`${this} - authentication error`);
    this.sendErr(ERR_AUTH_VIOLATION);
    this.close(ClosedState.AuthenticationViolation);
    for (const f of s.onAuthError) f(this._self);
  }

  protected _protocolViolation(logText: string): void {
    this.server.log.error(`${this} - ${logText}`);
    this.close(ClosedState.ProtocolViolation);
  }

  protected _autoUnsub(sub: Subscription): void {
    this._unsubscribe(sub);
  }

  protected _unsubscribe(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    this.subs.delete(sub.sid);
    this.account.sl.remove(sub);
    if (sub.shadow !== undefined) removeShadowSubscriptions(sub);
    if (this.account.rrMap.size > 0) this.account.checkForReverseEntry(sub.subject, true);
  }

  #closing = false;

  /** Closes the connection for `reason`, flushing what is queued (an -ERR, say) first. */
  close(reason: ClosedState): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.stop = new Date();
    const s = this.server;
    s.timers.cancel(this.#pingTimer);
    this._clearAuthTimer();
    if (this.jwtUser !== undefined) s.operator?.clientClosed(this._self);
    for (const sub of this.subs.values()) sub.closed = true;
    if (this.subs.size > 0) {
      const acc = this.account;
      acc.sl.removeBatch([...this.subs.values()]);
      for (const sub of this.subs.values()) {
        if (sub.shadow !== undefined) removeShadowSubscriptions(sub);
        if (acc.rrMap.size > 0) acc.checkForReverseEntry(sub.subject, true);
      }
    }
    s.removeClient(this._self);
    this.#wakeDrainWaiters();
    // Let queued bytes (an -ERR) go out before the socket closes.
    if (this._outLen > 0 && !this.#writing && reason !== ClosedState.SlowConsumerPendingBytes) {
      this.#closing = true;
      this.#writing = true;
      const buf = this._out!.subarray(0, this._outLen);
      this._outLen = 0;
      this._conn.write(buf).catch(() => {}).finally(() => this.#finishClose());
      return;
    }
    if (this.#writing) {
      this.#closing = true;
      if (
        reason === ClosedState.SlowConsumerPendingBytes || reason === ClosedState.SlowConsumerWriteDeadline
      ) {
        this.#finishClose();
      }
      return;
    }
    this.#finishClose();
  }

  #finished = false;

  #finishClose(): void {
    if (this.#finished) return;
    this.#finished = true;
    try {
      this._conn.close(this.closeReason);
    } catch {
      // Already closed by the peer.
    }
    this._out = undefined;
    this.#spare = undefined;
    this._rbuf = EMPTY;
    this._pubCache = undefined;
  }

  protected _closeWith(reason: ClosedState, e: unknown): void {
    if (!this.closed) this.server.log.debug(`${this} - ${reason}: ${(e as Error)?.message ?? e}`);
    this.close(reason);
  }
}
