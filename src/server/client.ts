// A client connection: reads and parses, routes published messages, buffers and flushes outbound bytes.
// Behaviour follows nats-server server/client.go (CONNECT, PUB/SUB/UNSUB, delivery, pings, slow consumers).

import { asciiString, decoder, encoder, formatDuration, parseSize, type TimerEntry } from "../util/mod.ts";
import {
  CLIENT_PROTO_INFO,
  CLIENT_PROTO_ZERO,
  type ConnectOptions,
  ERR_AUTH_TIMEOUT,
  ERR_AUTH_VIOLATION,
  ERR_BAD_CLIENT_PROTOCOL,
  ERR_INVALID_PUBLISH_SUBJECT,
  ERR_INVALID_SUBJECT,
  ERR_MAX_CONTROL_LINE,
  ERR_MAX_PAYLOAD,
  ERR_MAX_SUBS,
  ERR_NO_RESPONDERS_REQUIRES_HEADERS,
  ERR_STALE_CONNECTION,
  ERR_UNKNOWN_PROTOCOL,
  goQuote,
  HDR_SIZE_INVALID,
  parseConnect,
  Parser,
  type ParserHandler,
  PubArg,
  pubPermissionViolation,
  replyPermissionViolation,
  snippet,
  type State,
  subPermissionViolation,
  subTokensViolation,
} from "../protocol/mod.ts";
import { isValidLiteralSubject, isValidSubject, numTokens, type SublistResult } from "../sublist/mod.ts";
import type { AuthResult, ClientPermissions } from "../auth/mod.ts";
import type { Transport, WsUpgrade } from "../net/mod.ts";
import type { ClientAuth, ConnectionType } from "../auth/mod.ts";
import { type InternalCallback, Subscription } from "./subscription.ts";
import type { Account } from "./account.ts";
import type { Server } from "./server.ts";
import { addShadowSubscriptions, removeShadowSubscriptions, type ServiceImport } from "./_account_service.ts";
import { ClosedState } from "./closed_state.ts";
import { type ClientTlsStart, type PendingRead, startClientTls } from "./_client_tls.ts";
import type { JwtUserState } from "./_resolver.ts";

const MIN_READ = 512;
const MAX_READ = 256 * 1024;
/** Consecutive short reads (under 1/8 of the buffer) before the read buffer halves. */
const SHORTS_TO_SHRINK = 16;
const START_OUT = 1024;
/** Keep at most this much as the spare outbound buffer. */
const MAX_SPARE = 1024 * 1024;
/** A receiver with this much queued pauses its producers briefly (Go's fast-producer stall). */
const STALL_BYTES = 1024 * 1024;
const STALL_MS = 5;
const FIRST_PING_MS = 2_000;
/** An RTT measurement older than this makes the next ping timer send a PING regardless of activity. */
const RTT_MEASUREMENT_MS = 3_600_000;

const PONG_B = encoder.encode("PONG\r\n");
const PING_B = encoder.encode("PING\r\n");
const OK_B = encoder.encode("+OK\r\n");
const MSG_B = encoder.encode("MSG ");
const HMSG_B = encoder.encode("HMSG ");
const GR_PREFIX = "_GR_.";
const SYS_GROUP = "_sys_";
/**
 * Reply prefixes clients may not use (service import replies, JetStream acks, gateway routed replies),
 * each with the shortest reply it applies to: nats-server counts "_R_." alone but not the others.
 */
const RESERVED_REPLY_PREFIXES: [Uint8Array, number][] = [
  [encoder.encode("_R_."), 4],
  [encoder.encode("$JS.ACK."), 9],
  [encoder.encode("_GR_."), 6],
];

/** True when buf[start, end) starts with a reserved reply prefix and is long enough to count. */
function isReservedReply(buf: Uint8Array, start: number, end: number): boolean {
  const c = buf[start];
  if (c !== 0x5f && c !== 0x24) return false; // Only "_" and "$" can start one.
  for (const [p, min] of RESERVED_REPLY_PREFIXES) {
    if (end - start >= min && sameBytes(p, buf, start, start + p.length)) return true;
  }
  return false;
}

/** Per-connection cache of the last published subject (compared as bytes, no decode on a hit). */
interface PubCache {
  bytes: Uint8Array;
  subject: string;
  genid: number;
  result: SublistResult<Subscription>;
  /** 0 allowed, 1 denied by permissions, 2 reserved prefix, 3 invalid (pedantic). */
  verdict: number;
}

/** One client connection. */
export class Client implements ParserHandler {
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

  #conn: Transport;
  #parser: Parser;
  #rbuf: Uint8Array;
  #shortReads = 0;
  #out: Uint8Array | undefined;
  #outLen = 0;
  #spare: Uint8Array | undefined;
  #inflight = 0;
  #writing = false;
  writeStart = 0;
  #drainWaiters: (() => void)[] = [];
  #pubCache: PubCache | undefined;
  #authTimer: TimerEntry | undefined;
  #pingTimer: TimerEntry | undefined;
  #pendingAuth: Promise<void> | undefined;
  #rttStart = 0;
  /** performance.now() of the last read with a message or SUB, and of the last PING from the client. */
  #lastMsgIn = 0;
  #lastPingIn = 0;
  #subOps = 0;
  /** Receivers that went over STALL_BYTES while this client published. */
  #stallOn: Client | undefined;
  #flushQueued = false;

  constructor(server: Server, cid: number, conn: Transport, host: string, port: number, account: Account) {
    this.server = server;
    this.cid = cid;
    this.#conn = conn;
    this.host = host;
    this.port = port;
    this.account = account;
    this.#parser = new Parser(this, server.opts.maxControlLine);
    this.#rbuf = new Uint8Array(MIN_READ * 2);
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
    return this.#authFor(this.server);
  }

  #authFor(s: Server): ClientAuth {
    return (this.ws !== undefined ? s.wsAuth : undefined) ?? s.auth;
  }

  /** no_auth_user for this connection: the websocket block's when it overrides authorization. */
  #noAuthUser(s: Server): string | undefined {
    return this.ws !== undefined && s.wsAuth !== undefined ? s.opts.websocket.noAuthUser : s.opts.noAuthUser;
  }

  /** The `allowed_connection_types` name of this connection. */
  get connectionType(): ConnectionType {
    return this.ws !== undefined ? "WEBSOCKET" : "STANDARD";
  }

  /**
   * Sends INFO, arms the auth and ping timers, and runs the read loop until the connection ends. With
   * `tls`, INFO and the handshake are ordered as the TLS settings say (see _client_tls.ts).
   */
  run(info: string, tls?: ClientTlsStart): void {
    if (tls !== undefined) {
      startClientTls(this, this.#conn, info, tls);
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
      this.#authTimer = s.timers.after(ms, () => this.#authTimeout());
    }
    this.#setPingTimer(FIRST_PING_MS);
    this.#readLoop(first).catch((e) => this.#closeWith(ClosedState.ReadError, e));
  }

  /** Replaces the transport once a TLS handshake completes; later reads and writes go through it. */
  setTransport(t: Transport): void {
    this.#conn = t;
  }

  async #readLoop(first?: PendingRead): Promise<void> {
    const conn = this.#conn;
    while (!this.closed) {
      let n: number | null;
      try {
        if (first !== undefined) {
          n = await first.read;
          if (n !== null && n > 0) {
            if (n > this.#rbuf.length) this.#rbuf = new Uint8Array(n * 2);
            this.#rbuf.set(first.buf.subarray(0, n));
          }
          first = undefined;
        } else n = await conn.read(this.#rbuf);
      } catch (e) {
        this.#closeWith(this.closed ? ClosedState.ClientClosed : ClosedState.ReadError, e);
        return;
      }
      if (n === null) {
        this.close(ClosedState.ClientClosed);
        return;
      }
      if (this.closed) return;
      this.lastActivity = Date.now();
      const active = this.inMsgs + this.#subOps;
      let chunk = this.#rbuf.subarray(0, n);
      for (;;) {
        const ok = this.#parser.parse(chunk);
        this.server.flushPending();
        if (ok || this.closed) break;
        // CONNECT with a bcrypt password: finish auth, then parse the rest of the chunk.
        const pending = this.#pendingAuth;
        if (!pending) break;
        await pending;
        this.#pendingAuth = undefined;
        if (this.closed) return;
        chunk = chunk.subarray(this.#parser.resumeAt);
      }
      if (this.closed) return;
      // Messages or subscriptions (not PINGs or PONGs) count as activity that makes a PING needless.
      if (this.inMsgs + this.#subOps !== active) this.#lastMsgIn = performance.now();
      // Grow the read buffer while reads fill it; shrink it back when traffic is light.
      // Shrinking waits for a run of short reads: a request/response cycle that alternates one full and
      // one short read would otherwise flip the size each time and split every cycle into two reads.
      if (n === this.#rbuf.length && n < MAX_READ) {
        this.#rbuf = new Uint8Array(n * 2);
        this.#shortReads = 0;
      } else if (n < this.#rbuf.length / 8 && this.#rbuf.length > MIN_READ * 2) {
        if (++this.#shortReads >= SHORTS_TO_SHRINK) {
          this.#rbuf = new Uint8Array(this.#rbuf.length / 2);
          this.#shortReads = 0;
        }
      } else this.#shortReads = 0;
      // Fast-producer stall: wait briefly for a receiver that fell behind.
      const r = this.#stallOn;
      if (r !== undefined) {
        this.#stallOn = undefined;
        if (!r.closed && r.pendingBytes() > STALL_BYTES) await r.drained(STALL_MS);
      }
    }
  }

  // ---- Parser callbacks -------------------------------------------------------------------------------

  awaitingConnect(): boolean {
    return !this.connectReceived && this.auth.authRequired;
  }

  opBeforeConnect(): boolean {
    // no_auth_user lets a client skip CONNECT (telnet demos), as nats-server allows.
    const s = this.server;
    if (this.#noAuthUser(s)) {
      const r = this.#authFor(s).check({}, {
        connectionType: this.connectionType,
        nonce: this.nonce,
        tlsCert: this.tlsPeerCerts?.[0],
      });
      if (r && !(r instanceof Promise)) {
        this.#registerUser(r);
        this.#clearAuthTimer();
        this.connectReceived = true;
        for (const f of s.onClientConnected) f(this);
        return true;
      }
    }
    this.authViolation();
    return false;
  }

  onConnect(arg: Uint8Array): boolean {
    this.#clearAuthTimer();
    if (this.connectReceived && this.authResult && this.auth.authRequired) {
      // A second CONNECT only refreshes the session flags.
    }
    let o: ConnectOptions;
    try {
      o = parseConnect(decoder.decode(arg));
    } catch (e) {
      this.server.log.error(`${this} - ${(e as Error).message}`);
      this.close(ClosedState.ProtocolViolation);
      return false;
    }
    this.opts = { ...this.opts, ...o };
    this.connectReceived = true;
    this.echo = this.opts.echo !== false;
    this.headers = !this.server.opts.noHeaderSupport && !!this.opts.headers;
    this.rttMs = performance.now() - this.#startMono;
    this.#setPingTimer(FIRST_PING_MS);
    if (this.server.trace) {
      this.server.log.trace(`${this} - <<- [CONNECT ${redactPass(decoder.decode(arg))}]`);
    }

    const s = this.server;
    if (this.ws !== undefined) mergeWsCookies(this.ws, o, this.opts);
    const co = s.authCallout;
    const r = s.operator !== undefined
      ? s.operator.check(this, this.opts)
      : co !== undefined && this.kind === "Client" && co.applies(this.opts)
      ? co.check(this, this.opts)
      : this.#authFor(s).check(
        { user: o.user, pass: o.pass, auth_token: o.auth_token, nkey: o.nkey, sig: o.sig, jwt: o.jwt },
        { connectionType: this.connectionType, nonce: this.nonce, tlsCert: this.tlsPeerCerts?.[0] },
      );
    if (r instanceof Promise) {
      this.#pendingAuth = r.then(
        (res) => {
          if (!this.closed) this.#finishConnect(res);
          this.server.flushPending();
        },
        (e) => this.#closeWith(ClosedState.AuthenticationViolation, e),
      );
      this.#parser.resumeAt = this.#parser.lineEnd + 1;
      return false;
    }
    return this.#finishConnect(r);
  }

  #finishConnect(r: AuthResult | undefined): boolean {
    const s = this.server;
    if (this.#authFor(s).authRequired || r !== undefined) {
      if (r === undefined) {
        this.authViolation();
        return false;
      }
      this.#registerUser(r);
    }
    for (const f of s.onClientConnected) f(this);
    if (this.opts.account || this.opts.new_account) {
      this.authViolation();
      return false;
    }
    const proto = this.opts.protocol ?? 0;
    if (typeof proto !== "number" || proto < CLIENT_PROTO_ZERO || proto > CLIENT_PROTO_INFO) {
      this.sendErr(ERR_BAD_CLIENT_PROTOCOL);
      this.server.log.error(`${this} - invalid client protocol`);
      this.close(ClosedState.BadClientProtocolVersion);
      return false;
    }
    if (this.opts.no_responders && !this.headers) {
      this.sendErr(ERR_NO_RESPONDERS_REQUIRES_HEADERS);
      this.server.log.error(`${this} - no responders requires headers support`);
      this.close(ClosedState.NoRespondersRequiresHeaders);
      return false;
    }
    if (this.opts.verbose) this.enqueue(OK_B);
    return true;
  }

  #registerUser(r: AuthResult): void {
    this.authResult = r;
    this.perms = r.permissions;
    const acc = this.server.lookupAccount(r.account);
    if (acc && acc !== this.account && this.kind === "Client" && acc.maxTotalConnectionsReached()) {
      // As nats-server's registerWithAccount: the client is closed, after the account switch.
      this.account.removeClient(this);
      this.account = acc;
      this.sendErr("maximum account active connections exceeded");
      this.server.log.error(`${this} - maximum account active connections exceeded`);
      this.close(ClosedState.MaxAccountConnectionsExceeded);
      return;
    }
    if (acc && acc !== this.account) {
      const prev = this.account;
      prev.removeClient(this);
      this.account = acc;
      acc.addClient(this);
      for (const f of this.server.onAccountClient) f(prev, this, false);
      for (const f of this.server.onAccountClient) f(acc, this, true);
    }
    this.server.operator?.applyLimits(this);
  }

  onPubArg(pa: PubArg): boolean {
    if (pa.hdr === -2) {
      this.#protocolViolation(`processPub Parse Error: ${goQuote(decoder.decode(pa.arg))}`);
      return false;
    }
    if (pa.hdr >= 0 && !this.headers) {
      this.server.log.error(`${this} - message headers not supported`);
      this.close(ClosedState.MsgHeaderViolation);
      return false;
    }
    if (pa.hdr === HDR_SIZE_INVALID) {
      this.#protocolViolation(
        `processHeaderPub Bad or Missing Header Size: ${goQuote(decoder.decode(pa.arg))}`,
      );
      return false;
    }
    if (pa.size < 0) {
      this.#protocolViolation(`processPub Bad or Missing Size: ${goQuote(decoder.decode(pa.arg))}`);
      return false;
    }
    if (pa.hdr > pa.size) {
      this.#protocolViolation(
        `processHeaderPub Header Size larger then TotalSize: ${goQuote(decoder.decode(pa.arg))}`,
      );
      return false;
    }
    const max = this.maxPayload();
    if (max >= 0 && pa.size > max) {
      this.sendErr(ERR_MAX_PAYLOAD);
      this.server.log.error(`${this} - maximum payload exceeded: ${pa.size} vs ${max}`);
      this.close(ClosedState.MaxPayloadExceeded);
      return false;
    }
    if (this.server.trace) {
      this.server.log.trace(`${this} - <<- [${pa.hdr >= 0 ? "HPUB" : "PUB"} ${decoder.decode(pa.arg)}]`);
    }
    return true;
  }

  onMsg(pa: PubArg, msg: Uint8Array): boolean {
    if (this.server.trace) this.#traceMsg(msg);
    this.inMsgs++;
    this.inBytes += msg.length;
    const s = this.server;
    s.inMsgs++;
    s.inBytes += msg.length;
    const acc = this.account;
    if (acc.hasMappings) {
      const mapped = this.#mapPub(pa, acc);
      if (mapped === null) return !this.closed;
      if (mapped !== undefined) pa = mapped;
    }
    const sl = acc.sl;
    let pc = this.#pubCache;
    if (pc === undefined || pc.genid !== sl.genid || !sameBytes(pc.bytes, pa.buf, pa.subjStart, pa.subjEnd)) {
      const subject = asciiString(pa.buf, pa.subjStart, pa.subjEnd);
      if (isOneOff(pa.buf, pa.subjStart, pa.subjEnd)) {
        return this.#checked(pa, msg, this.#pubVerdict(subject), subject, sl.matchUncached(subject));
      }
      pc = {
        bytes: pa.buf.slice(pa.subjStart, pa.subjEnd),
        subject,
        genid: sl.genid,
        result: sl.match(subject),
        verdict: this.#pubVerdict(subject),
      };
      this.#pubCache = pc;
    }
    return this.#checked(pa, msg, pc.verdict, pc.subject, pc.result);
  }

  /** Routes a publish that #pubVerdict judged `verdict` (0 allowed, 1 denied, 2 reserved, 3 invalid). */
  #checked(
    pa: PubArg,
    msg: Uint8Array,
    verdict: number,
    subject: string,
    result: SublistResult<Subscription>,
  ): boolean {
    if (verdict !== 0) {
      if (verdict === 3) this.sendErr(ERR_INVALID_PUBLISH_SUBJECT);
      else {
        if (verdict === 1 && this.#replyAllowed(subject)) return this.#route(pa, msg, result, subject);
        this.#pubPermissionViolation(subject);
        return !this.closed;
      }
    }
    return this.#route(pa, msg, result, subject);
  }

  #route(pa: PubArg, msg: Uint8Array, result: SublistResult<Subscription>, subject: string): boolean {
    if (pa.replyStart >= 0 && isReservedReply(pa.buf, pa.replyStart, pa.replyEnd)) {
      const reply = asciiString(pa.buf, pa.replyStart, pa.replyEnd);
      this.sendErr(replyPermissionViolation(reply));
      this.server.log.error(`${this} - Publish Violation - ${this.#userDesc()}, Reply ${goQuote(reply)}`);
      return !this.closed;
    }
    if (this.opts.verbose) this.enqueue(OK_B);
    const delivered = this.#deliverResult(result, pa, msg, subject);
    if (!delivered && pa.replyStart >= 0 && this.opts.no_responders) {
      this.#noResponders(asciiString(pa.buf, pa.replyStart, pa.replyEnd));
    }
    return !this.closed;
  }

  /** Delivers to every plain subscription and one member of each queue group; true when any took it. */
  #deliverResult(r: SublistResult<Subscription>, pa: PubArg, msg: Uint8Array, subject: string): boolean {
    let delivered = false;
    const psubs = r.psubs;
    for (let i = 0; i < psubs.length; i++) {
      if (this.#deliver(psubs[i], pa, msg, subject)) delivered = true;
    }
    const qsubs = r.qsubs;
    for (let i = 0; i < qsubs.length; i++) {
      const g = qsubs[i];
      // Start at a random member; skip ones that cannot take it (closed, echo off, denied).
      const start = (Math.random() * g.length) | 0;
      for (let j = 0; j < g.length; j++) {
        if (this.#deliver(g[(start + j) % g.length], pa, msg, subject)) {
          delivered = true;
          break;
        }
      }
    }
    return delivered;
  }

  /**
   * Account mappings (nats-server's selectMappedSubject): the PubArg for the mapped subject, undefined when
   * no mapping applies, null when the mapping drops the message. Allocates; only accounts with mappings
   * come here.
   */
  #mapPub(pa: PubArg, acc: Account): PubArg | undefined | null {
    const subject = asciiString(pa.buf, pa.subjStart, pa.subjEnd);
    const to = acc.selectMappedSubject(subject);
    if (to === undefined || to === subject) return undefined;
    if (to === "") return null;
    const reply = pa.replyStart >= 0 ? asciiString(pa.buf, pa.replyStart, pa.replyEnd) : undefined;
    const np = makePubArg(to, reply);
    np.hdr = pa.hdr;
    np.size = pa.size;
    return np;
  }

  /**
   * Delivers a message this client published into another account under `subject`/`reply` (service imports
   * and their responses); true when a subscription took it. Allocates per call: the import path only.
   */
  deliverImported(
    acc: Account,
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): boolean {
    const pa = makePubArg(subject, reply);
    const msg = attachBody(pa, hdr, payload);
    // Inside deliverAs (a consumer's delivery), the next import hop routes by this import's subject.
    const route = this.#asRoute;
    this.#asRoute = subject;
    try {
      return this.#deliverResult(acc.sl.match(subject), pa, msg, subject);
    } finally {
      this.#asRoute = route;
    }
  }

  /**
   * Delivers to one subscription of this client under `subject` (stream imports: the shadow subscription in
   * the exporting account hands the message to the real one). `from` is the publisher.
   */
  deliverTo(
    sub: Subscription,
    from: Client,
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): boolean {
    const pa = makePubArg(subject, reply);
    const msg = attachBody(pa, hdr, payload);
    return from.#deliver(sub, pa, msg, subject);
  }

  /** Appends MSG/HMSG for `sub`; false when the subscription does not take the message. */
  #deliver(sub: Subscription, pa: PubArg, msg: Uint8Array, subject: string): boolean {
    const c = sub.client;
    if (sub.closed || c.closed) return false;
    if (c === this && !this.echo) return false;
    if (c.perms !== undefined && c.perms.hasSubDeny && c.perms.denyDeliver(subject)) return false;
    // nm counts every delivery (/subsz shows it); max is the UNSUB auto-unsubscribe count.
    if (sub.max > 0) {
      if (sub.nm >= sub.max) return false;
      if (++sub.nm >= sub.max) c.#autoUnsub(sub);
    } else sub.nm++;
    if (sub.icb !== undefined) {
      // Service imports (account clients) route by the delivery subject, e.g. a consumer's reply to a `_R_.`.
      this.#deliverInternal(sub, pa, msg, this.#asSubject && c.kind === "Account" ? this.#asRoute : subject);
      return true;
    }
    let hdr = pa.hdr;
    let body = msg;
    if (hdr >= 0 && !c.headers) {
      body = msg.subarray(hdr);
      hdr = -1;
    }
    if (pa.replyStart >= 0 && c.perms?.response) {
      c.perms.allowReply(asciiString(pa.buf, pa.replyStart, pa.replyEnd));
    }
    c.#appendMsg(sub, pa, hdr, body, this.#asSubject);
    c.outMsgs++;
    c.outBytes += body.length;
    const s = this.server;
    s.outMsgs++;
    s.outBytes += body.length;
    if (c.#outLen + c.#inflight > STALL_BYTES && c !== this) this.#stallOn = c;
    return true;
  }

  /** Hands a message to an internal subscription's callback; a throwing callback only logs. */
  #deliverInternal(sub: Subscription, pa: PubArg, msg: Uint8Array, subject: string): void {
    const reply = pa.replyStart >= 0 ? asciiString(pa.buf, pa.replyStart, pa.replyEnd) : undefined;
    const hdr = pa.hdr > 0 ? msg.subarray(0, pa.hdr) : undefined;
    const payload = pa.hdr > 0 ? msg.subarray(pa.hdr) : msg;
    try {
      sub.icb!(sub, this, subject, reply, hdr, payload);
    } catch (e) {
      this.server.log.error(`Internal subscription on "${sub.subject}" failed: ${(e as Error)?.stack ?? e}`);
    }
  }

  // ---- Internal clients (server services, account imports, JetStream) ---------------------------------

  /**
   * Publishes a message from this (internal) client into its account, as if it had arrived as PUB/HPUB.
   * Allocates per call; not for a client connection's read path.
   */
  publishInternal(
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): void {
    const pa = makePubArg(subject, reply);
    const msg = attachBody(pa, hdr, payload);
    this.onMsg(pa, msg);
  }

  /**
   * Sends a reply (no headers, no reply subject) from this internal client to `subject`, usually a unique
   * inbox: the same deliveries as publishInternal, without the subject cache and without allocating a
   * PubArg. `payload` is copied to each receiver before this returns.
   */
  replyInternal(subject: string, payload: Uint8Array): void {
    const acc = this.account;
    if (this.#replyBusy || acc.hasMappings || this.server.trace || subject.startsWith(GR_PREFIX)) {
      return this.publishInternal(subject, undefined, undefined, payload);
    }
    const pa = this.#replyPa;
    const n = subject.length;
    if (pa.buf.length < n) pa.buf = new Uint8Array(Math.max(n, 2 * pa.buf.length));
    const buf = pa.buf;
    for (let i = 0; i < n; i++) {
      const c = subject.charCodeAt(i);
      if (c > 0x7f) return this.publishInternal(subject, undefined, undefined, payload);
      buf[i] = c;
    }
    pa.subjEnd = n;
    pa.argEnd = n;
    pa.size = payload.length;
    this.inMsgs++;
    this.inBytes += payload.length;
    const s = this.server;
    s.inMsgs++;
    s.inBytes += payload.length;
    this.#replyBusy = true;
    try {
      this.#deliverResult(acc.sl.matchUncached(subject), pa, payload, subject);
    } finally {
      this.#replyBusy = false;
    }
  }

  // replyInternal's reusable "subject" buffer; a reply sent while one is being delivered takes the slow path.
  #replyPa = makePubArg("", undefined);
  #replyBusy = false;

  /** Adds an internal subscription whose messages go to `icb`. */
  subscribeInternal(subject: string, icb: InternalCallback, queue?: string): Subscription {
    const sid = String(++this.#isid);
    const sub = new Subscription(this, subject, queue, sid, icb);
    this.account.sl.insert(sub);
    this.subs.set(sid, sub);
    // As for client subscriptions, stream imports of the account feed internal ones (a stream's subjects).
    if (this.account.streamImports.length > 0) addShadowSubscriptions(this.account, sub);
    return sub;
  }

  /** Removes a subscription made by subscribeInternal. */
  unsubscribeInternal(sub: Subscription): void {
    this.#unsubscribe(sub);
  }

  #isid = 0;
  // True only during deliverAs(): the MSG line carries the message's own subject, not the subscription's.
  #asSubject = false;
  /** The delivery subject while #asSubject is set. */
  #asRoute = "";

  /** True while delivering a message under its own subject (JetStream consumer deliveries). */
  get deliveringAs(): boolean {
    return this.#asSubject;
  }

  /**
   * Delivers a message of this internal client to the subscriptions matching `route` (one member per queue
   * group) with `subject` on the MSG line, as nats-server sends JetStream deliveries (pa.deliver). True when
   * any subscription took it. Allocates per call.
   */
  deliverAs(
    route: string,
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): boolean {
    return this.#deliverPa(route, subject, makePubArg(subject, reply), hdr, payload);
  }

  /**
   * deliverAs with a prebuilt "subject reply" line: `head` holds the subject's bytes, a space and the reply,
   * `subjEnd` is the subject's byte length (JetStream deliveries build it without a string round trip).
   */
  deliverHead(
    route: string,
    subject: string,
    head: Uint8Array,
    subjEnd: number,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): boolean {
    const pa = new PubArg();
    pa.buf = head;
    pa.subjStart = 0;
    pa.subjEnd = subjEnd;
    if (subjEnd < head.length) {
      pa.replyStart = subjEnd + 1;
      pa.replyEnd = head.length;
    }
    pa.argStart = 0;
    pa.argEnd = head.length;
    pa.hdr = -1;
    return this.#deliverPa(route, subject, pa, hdr, payload);
  }

  #deliverPa(
    route: string,
    subject: string,
    pa: PubArg,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): boolean {
    const msg = attachBody(pa, hdr, payload);
    this.#asSubject = true;
    this.#asRoute = route;
    try {
      return this.#deliverResult(this.account.sl.match(route), pa, msg, subject);
    } finally {
      this.#asSubject = false;
    }
  }

  /** Writes "MSG subj sid [reply] size\r\npayload\r\n" (or HMSG) into the outbound buffer. */
  #appendMsg(sub: Subscription, pa: PubArg, hdr: number, body: Uint8Array, noPrefix = false): void {
    const size = body.length;
    const src = pa.buf;
    const subjLen = pa.subjEnd - pa.subjStart;
    const replyLen = pa.replyStart >= 0 ? pa.replyEnd - pa.replyStart : -1;
    const need = 32 + subjLen + sub.sidBytes.length + replyLen + size;
    let off = this.#reserve(need);
    if (off < 0) return;
    const out = this.#out!;
    const pfx = noPrefix ? undefined : hdr >= 0 ? sub.hmsgPrefix : sub.msgPrefix;
    if (pfx !== undefined) off = put(out, off, pfx);
    else {
      off = put(out, off, hdr >= 0 ? HMSG_B : MSG_B);
      off = putRange(out, off, src, pa.subjStart, pa.subjEnd);
      off = put(out, off, sub.sidBytes);
    }
    if (replyLen >= 0) {
      off = putRange(out, off, src, pa.replyStart, pa.replyEnd);
      out[off++] = 0x20;
    }
    if (hdr >= 0) {
      off = putInt(out, off, hdr);
      out[off++] = 0x20;
    }
    off = putInt(out, off, size);
    out[off++] = 0x0d;
    out[off++] = 0x0a;
    if (size > 0) {
      if (size < 64) {
        for (let i = 0; i < size; i++) out[off + i] = body[i];
      } else out.set(body, off);
      off += size;
    }
    out[off++] = 0x0d;
    out[off++] = 0x0a;
    this.#outLen = off;
  }

  /** `<<- MSG_PAYLOAD: ["…"]`, cut at max_traced_msg_len, as nats-server traces payloads. */
  #traceMsg(msg: Uint8Array): void {
    const max = this.server.opts.maxTracedMsgLen;
    if (max > 0 && msg.length > max) {
      const q = snippet(msg, 0, max);
      this.server.log.trace(`${this} - <<- MSG_PAYLOAD: ["${q.slice(1, max + 1)}..."]`);
    } else this.server.log.trace(`${this} - <<- MSG_PAYLOAD: [${snippet(msg, 0, msg.length)}]`);
  }

  onSub(arg: Uint8Array): boolean {
    const args = splitArgs(decoder.decode(arg));
    if (this.server.trace) this.server.log.trace(`${this} - <<- [SUB ${decoder.decode(arg)}]`);
    let subject: string, queue: string | undefined, sid: string;
    if (args.length === 2) [subject, sid] = args;
    else if (args.length === 3) [subject, queue, sid] = args;
    else {
      this.#protocolViolation(`processSub Parse Error: ${goQuote(decoder.decode(arg))}`);
      return false;
    }
    this.#subOps++;
    this.processSub(subject, queue, sid);
    return !this.closed;
  }

  /** SUB after parsing: permissions, limits, then insert. Returns the subscription or undefined. */
  processSub(subject: string, queue: string | undefined, sid: string): Subscription | undefined {
    if (this.closed) return undefined;
    const s = this.server;
    // The "_sys_" queue group is reserved: refused to clients even without permissions configured.
    if (this.perms !== undefined || queue === SYS_GROUP) {
      if (queue === SYS_GROUP || !this.perms!.canSubscribe(subject, queue)) {
        this.sendErr(subPermissionViolation(subject, queue));
        s.log.error(
          queue !== undefined
            ? `${this} - Subscription Violation - ${this.#userDesc()}, Subject ${goQuote(subject)}, Queue: ${
              goQuote(queue)
            }, SID ${sid}`
            : `${this} - Subscription Violation - ${this.#userDesc()}, Subject ${
              goQuote(subject)
            }, SID ${sid}`,
        );
        return undefined;
      }
    }
    if (s.opts.maxSubTokens > 0 && numTokens(subject) > s.opts.maxSubTokens) {
      this.sendErr(subTokensViolation(subject));
      s.log.error(
        `${this} - Subscription Violation Too Many Tokens - ${this.#userDesc()}, Subject ${
          goQuote(subject)
        }, SID ${sid}`,
      );
      return undefined;
    }
    const maxSubs = this.maxSubscriptions();
    if (maxSubs >= 0 && this.subs.size >= maxSubs) {
      this.sendErr(ERR_MAX_SUBS);
      s.log.error(`${this} - maximum subscriptions exceeded`);
      return undefined;
    }
    const existing = this.subs.get(sid);
    if (existing !== undefined) {
      if (this.opts.verbose) this.enqueue(OK_B);
      return existing;
    }
    if (!isValidSubject(subject) || (queue !== undefined && !isValidQueueName(queue))) {
      this.sendErr(ERR_INVALID_SUBJECT);
      return undefined;
    }
    const sub = new Subscription(this, subject, queue, sid);
    try {
      this.account.sl.insert(sub);
    } catch {
      this.sendErr(ERR_INVALID_SUBJECT);
      return undefined;
    }
    this.subs.set(sid, sub);
    if (this.account.streamImports.length > 0) addShadowSubscriptions(this.account, sub);
    if (this.opts.verbose) this.enqueue(OK_B);
    return sub;
  }

  onUnsub(arg: Uint8Array): boolean {
    const text = decoder.decode(arg);
    if (this.server.trace) this.server.log.trace(`${this} - <<- [UNSUB ${text}]`);
    const args = splitArgs(text);
    let max = -1;
    if (args.length === 2) max = parseSize(encoder.encode(args[1]));
    else if (args.length !== 1) {
      this.#protocolViolation(`processUnsub Parse Error: ${goQuote(text)}`);
      return false;
    }
    const sub = this.subs.get(args[0]);
    if (sub !== undefined) {
      if (max > 0 && max > sub.nm) sub.max = max;
      else this.#unsubscribe(sub);
    }
    if (this.opts.verbose) this.enqueue(OK_B);
    return true;
  }

  onPing(): boolean {
    if (this.server.trace) this.server.log.trace(`${this} - <<- [PING]`);
    this.#lastPingIn = performance.now();
    this.enqueue(PONG_B);
    if (this.connectReceived && (this.opts.protocol ?? 0) >= CLIENT_PROTO_INFO && !this.#firstPongSent) {
      this.#firstPongSent = true;
      if (this.server.infoChangedSince(this.start) || this.maxPayload() !== this.server.maxPayload) {
        this.enqueue(encoder.encode(this.server.clientInfo(this)));
      }
    }
    return true;
  }

  #firstPongSent = false;

  onPong(): boolean {
    if (this.server.trace) this.server.log.trace(`${this} - <<- [PONG]`);
    this.pingsOut = 0;
    if (this.#rttStart > 0) this.rttMs = performance.now() - this.#rttStart;
    return true;
  }

  onInfo(arg: Uint8Array): boolean {
    // nats-server ignores an INFO from a client, but closes the connection when its JSON does not decode.
    let v: unknown;
    try {
      v = JSON.parse(decoder.decode(arg));
    } catch (e) {
      this.#protocolViolation((e as Error).message);
      return false;
    }
    if (v !== null && (typeof v !== "object" || Array.isArray(v))) {
      this.#protocolViolation("json: cannot unmarshal INFO into Go value of type server.Info");
      return false;
    }
    return true;
  }

  onErr(arg: Uint8Array): boolean {
    this.server.log.error(`${this} - Client Error ${decoder.decode(arg)}`);
    this.close(ClosedState.ParseError);
    return false;
  }

  onParseError(state: State, offset: number, snippet: string): void {
    this.sendErr(ERR_UNKNOWN_PROTOCOL);
    this.server.log.error(
      `${this} - Client parser ERROR, state=${state}, i=${offset}: proto='${snippet}...'`,
    );
    this.close(ClosedState.ProtocolViolation);
  }

  onMaxControlLine(state: State, mcl: number, argLen: number, snippet: string): void {
    this.sendErr(ERR_MAX_CONTROL_LINE);
    this.server.log.error(
      `${this} - ${ERR_MAX_CONTROL_LINE}: State ${state}, max_control_line ${mcl}, Buffer len ${argLen} (snip: ${snippet}...)`,
    );
    this.close(ClosedState.MaxControlLineExceeded);
  }

  /** Config reload: a new max_control_line applies to this connection's next control line. */
  setMaxControlLine(mcl: number): void {
    this.#parser.mcl = mcl;
  }

  /** Re-checks credentials and permissions after a config reload, as nats-server does. */
  reauthorize(): void {
    if (!this.connectReceived || this.closed) return;
    const o = this.opts;
    const r = this.auth.check(
      { user: o.user, pass: o.pass, auth_token: o.auth_token, nkey: o.nkey, sig: o.sig, jwt: o.jwt },
      { connectionType: this.connectionType, nonce: this.nonce, tlsCert: this.tlsPeerCerts?.[0] },
    );
    if (r instanceof Promise) r.then((res) => this.#applyReauth(res), () => this.#applyReauth(undefined));
    else this.#applyReauth(r);
  }

  #applyReauth(r: AuthResult | undefined): void {
    if (this.closed) return;
    if (r === undefined && this.auth.authRequired) {
      this.authViolation();
      return;
    }
    this.authResult = r;
    this.perms = r?.permissions;
    this.#pubCache = undefined;
    const p = this.perms;
    if (p !== undefined) {
      for (const sub of [...this.subs.values()]) {
        if (p.canSubscribe(sub.subject, sub.queue)) continue;
        this.#unsubscribe(sub);
        // nats-server names no queue here, even for a queue subscription.
        const what = `${goQuote(sub.subject)} (sid ${goQuote(sub.sid)})`;
        this.sendErr(`Permissions Violation for Subscription to ${what}`);
        this.server.log.notice(`Removed sub ${what} for ${this.#userDesc()} - not authorized`);
      }
    }
    this.flushSoon();
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

  // ---- Permissions -------------------------------------------------------------------------------------

  #pubVerdict(subject: string): number {
    if (subject.startsWith(GR_PREFIX)) return 2;
    if (this.perms !== undefined && !this.perms.canPublish(subject, false)) return 1;
    if (this.opts.pedantic && !isValidLiteralSubject(subject)) return 3;
    return 0;
  }

  /** A statically denied subject may still be a reply this client was asked to answer (allow_responses). */
  #replyAllowed(subject: string): boolean {
    const p = this.perms;
    return p !== undefined && p.response !== undefined && p.canPublish(subject, true);
  }

  #pubPermissionViolation(subject: string): void {
    this.sendErr(pubPermissionViolation(subject));
    this.server.log.error(`${this} - Publish Violation - ${this.#userDesc()}, Subject ${goQuote(subject)}`);
  }

  #userDesc(): string {
    const u = this.authResult?.user;
    if (this.authResult?.nkey) return `Nkey "${this.authResult.nkey}"`;
    return `User "${u ? u : "N/A"}"`;
  }

  // ---- Outbound ----------------------------------------------------------------------------------------

  /** Queues raw protocol bytes; they go out on the next flush. */
  enqueue(b: Uint8Array): void {
    const off = this.#reserve(b.length);
    if (off < 0) return;
    this.#out!.set(b, off);
    this.#outLen = off + b.length;
  }

  /** Queues -ERR '<text>'. */
  sendErr(text: string): void {
    if (this.server.trace) this.server.log.trace(`${this} - ->> [-ERR ${text}]`);
    this.enqueue(encoder.encode(`-ERR '${text}'\r\n`));
  }

  /** Bytes queued or being written. */
  pendingBytes(): number {
    return this.#outLen + this.#inflight;
  }

  /**
   * Makes room for `n` more bytes; returns the write offset, or -1 when the client became a slow consumer
   * (past max_pending) and was closed.
   */
  #reserve(n: number): number {
    if (this.closed) return -1;
    const len = this.#outLen;
    let out = this.#out;
    if (out === undefined) {
      out = this.#spare ?? new Uint8Array(Math.max(START_OUT, n));
      this.#spare = undefined;
      this.#out = out;
    }
    if (len === 0) this.server.markPending(this);
    // As nats-server's queueOutbound: bytes that would take the client past max_pending are never queued.
    if (len + n + this.#inflight > this.server.opts.maxPending) {
      this.#slowConsumer();
      return -1;
    }
    if (len + n > out.length) {
      const grown = new Uint8Array(Math.max(out.length * 2, len + n));
      grown.set(out.subarray(0, len));
      this.#out = grown;
    }
    return len;
  }

  /** Starts writing queued bytes unless a write is already in flight. */
  flush(): void {
    if (this.#writing || this.#outLen === 0 || this.closed) return;
    this.#writing = true;
    this.#writeLoop().catch((e) => this.#closeWith(ClosedState.WriteError, e));
  }

  async #writeLoop(): Promise<void> {
    try {
      // After close() only an in-flight write's tail (an -ERR queued behind it) is still sent.
      while (this.#outLen > 0 && (!this.closed || this.#closing)) {
        const buf = this.#out!;
        const len = this.#outLen;
        this.#out = this.#spare;
        this.#spare = undefined;
        this.#outLen = 0;
        this.#inflight = len;
        this.writeStart = performance.now();
        let off = 0;
        while (off < len) off += await this.#conn.write(buf.subarray(off, len));
        this.#inflight = 0;
        this.writeStart = 0;
        if (buf.length <= MAX_SPARE && this.#spare === undefined) this.#spare = buf;
        this.#wakeDrainWaiters();
      }
    } finally {
      this.#writing = false;
      this.#inflight = 0;
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
    this.#outLen = 0;
    this.close(ClosedState.SlowConsumerPendingBytes);
  }

  // ---- Timers ------------------------------------------------------------------------------------------

  #startMono = performance.now();

  #setPingTimer(ms: number): void {
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
    const needRtt = this.#rttStart === 0 || now - this.#rttStart > RTT_MEASUREMENT_MS;
    if (!needRtt && (now - this.#lastMsgIn < interval || now - this.#lastPingIn < interval)) {
      this.#setPingTimer(interval);
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
    this.#rttStart = performance.now();
    if (s.trace) s.log.trace(`${this} - ->> [PING]`);
    this.enqueue(PING_B);
    this.flush();
    this.#setPingTimer(s.opts.pingIntervalMs);
  }

  #authTimeout(): void {
    this.#authTimer = undefined;
    if (this.closed || this.connectReceived) return;
    this.sendErr(ERR_AUTH_TIMEOUT);
    this.server.log.debug(`${this} - ${ERR_AUTH_TIMEOUT}`);
    this.flush();
    this.close(ClosedState.AuthenticationTimeout);
  }

  #clearAuthTimer(): void {
    this.server.timers.cancel(this.#authTimer);
    this.#authTimer = undefined;
  }

  // ---- Errors and closing ------------------------------------------------------------------------------

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
    for (const f of s.onAuthError) f(this);
  }

  #protocolViolation(logText: string): void {
    this.server.log.error(`${this} - ${logText}`);
    this.close(ClosedState.ProtocolViolation);
  }

  #noResponders(rs: string): void {
    for (const sub of this.account.sl.match(rs).psubs) {
      if (sub.client !== this) continue;
      this.enqueue(encoder.encode(`HMSG ${rs} ${sub.sid} 16 16\r\nNATS/1.0 503\r\n\r\n\r\n`));
      return;
    }
  }

  #autoUnsub(sub: Subscription): void {
    this.#unsubscribe(sub);
  }

  #unsubscribe(sub: Subscription): void {
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
    this.#clearAuthTimer();
    if (this.jwtUser !== undefined) s.operator?.clientClosed(this);
    for (const sub of this.subs.values()) sub.closed = true;
    if (this.subs.size > 0) {
      const acc = this.account;
      acc.sl.removeBatch([...this.subs.values()]);
      for (const sub of this.subs.values()) {
        if (sub.shadow !== undefined) removeShadowSubscriptions(sub);
        if (acc.rrMap.size > 0) acc.checkForReverseEntry(sub.subject, true);
      }
    }
    s.removeClient(this);
    this.#wakeDrainWaiters();
    // Let queued bytes (an -ERR) go out before the socket closes.
    if (this.#outLen > 0 && !this.#writing && reason !== ClosedState.SlowConsumerPendingBytes) {
      this.#closing = true;
      this.#writing = true;
      const buf = this.#out!.subarray(0, this.#outLen);
      this.#outLen = 0;
      this.#conn.write(buf).catch(() => {}).finally(() => this.#finishClose());
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
      this.#conn.close(this.closeReason);
    } catch {
      // Already closed by the peer.
    }
    this.#out = undefined;
    this.#spare = undefined;
    this.#rbuf = EMPTY;
    this.#pubCache = undefined;
  }

  #closeWith(reason: ClosedState, e: unknown): void {
    if (!this.closed) this.server.log.debug(`${this} - ${reason}: ${(e as Error)?.message ?? e}`);
    this.close(reason);
  }
}

const EMPTY = new Uint8Array(0);

/** A PubArg over a fresh "subject [reply]" buffer (internal and cross-account publishes). */
function makePubArg(subject: string, reply: string | undefined): PubArg {
  const head = encodeShort(reply === undefined ? subject : `${subject} ${reply}`);
  const pa = new PubArg();
  pa.buf = head;
  pa.subjStart = 0;
  pa.subjEnd = reply === undefined
    ? head.length
    : head.length === subject.length + 1 + reply.length
    ? subject.length // all ASCII
    : encoder.encode(subject).length;
  if (reply !== undefined) {
    pa.replyStart = pa.subjEnd + 1;
    pa.replyEnd = head.length;
  }
  pa.argStart = 0;
  pa.argEnd = head.length;
  pa.hdr = -1;
  return pa;
}

/**
 * The message bytes for a PubArg built from parts: headers and payload joined when there are headers (one
 * allocation), with pa.hdr and pa.size set.
 */
function attachBody(pa: PubArg, hdr: Uint8Array | undefined, payload: Uint8Array): Uint8Array {
  if (hdr === undefined || hdr.length === 0) {
    pa.hdr = -1;
    pa.size = payload.length;
    return payload;
  }
  const msg = new Uint8Array(hdr.length + payload.length);
  msg.set(hdr);
  msg.set(payload, hdr.length);
  pa.hdr = hdr.length;
  pa.size = msg.length;
  return msg;
}

/** Encodes a subject-sized string: a byte loop for ASCII (cheaper than TextEncoder's op call), else UTF-8. */
function encodeShort(s: string): Uint8Array {
  const n = s.length;
  if (n > 128) return encoder.encode(s);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return encoder.encode(s);
    out[i] = c;
  }
  return out;
}

function put(out: Uint8Array, off: number, src: Uint8Array): number {
  const n = src.length;
  if (n < 32) {
    for (let i = 0; i < n; i++) out[off + i] = src[i];
  } else out.set(src, off);
  return off + n;
}

function putRange(out: Uint8Array, off: number, src: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 32) {
    for (let i = 0; i < n; i++) out[off + i] = src[start + i];
  } else out.set(src.subarray(start, end), off);
  return off + n;
}

/**
 * Subjects that are published to once (JetStream acks and replies to inboxes): routed without the result
 * cache and the per-client publish cache, which they would only churn.
 */
function isOneOff(b: Uint8Array, start: number, end: number): boolean {
  if (end - start < 8) return false;
  const c = b[start];
  if (c === 0x24) { // "$JS.ACK."
    return b[start + 1] === 0x4a && b[start + 2] === 0x53 && b[start + 3] === 0x2e && b[start + 4] === 0x41 &&
      b[start + 5] === 0x43 && b[start + 6] === 0x4b && b[start + 7] === 0x2e;
  }
  if (c === 0x5f) { // "_INBOX."
    return b[start + 1] === 0x49 && b[start + 2] === 0x4e && b[start + 3] === 0x42 && b[start + 4] === 0x4f &&
      b[start + 5] === 0x58 && b[start + 6] === 0x2e;
  }
  return false;
}

/** Compares `a` with src[start..end) without making a view. */
function sameBytes(a: Uint8Array, src: Uint8Array, start: number, end: number): boolean {
  const n = a.length;
  if (n !== end - start) return false;
  for (let i = 0; i < n; i++) if (a[i] !== src[start + i]) return false;
  return true;
}

function putInt(out: Uint8Array, off: number, v: number): number {
  if (v < 10) {
    out[off] = 0x30 + v;
    return off + 1;
  }
  let digits = 0;
  for (let t = v; t > 0; t = Math.floor(t / 10)) digits++;
  for (let i = digits - 1; i >= 0; i--) {
    out[off + i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return off + digits;
}

/** Splits on spaces, tabs, CR and LF as nats-server's splitArg does. */
function splitArgs(s: string): string[] {
  return s.split(/[ \t\r\n]+/).filter((x) => x.length > 0);
}

/** Queue names may not contain spaces or tabs (the SUB split already ensures it) — anything else goes. */
function isValidQueueName(q: string): boolean {
  return q.length > 0;
}

/**
 * WebSocket cookies stand in for CONNECT credentials the client left empty (jwt_cookie, and the later
 * user_cookie, pass_cookie and token_cookie), as nats-server does; `o` and the session options get them.
 */
function mergeWsCookies(ws: WsUpgrade, o: ConnectOptions, session: ConnectOptions): void {
  if (!o.jwt && ws.cookieJwt) session.jwt = o.jwt = ws.cookieJwt;
  if (!o.user && ws.cookieUser) session.user = o.user = ws.cookieUser;
  if (!o.pass && ws.cookiePass) session.pass = o.pass = ws.cookiePass;
  if (!o.auth_token && ws.cookieToken) session.auth_token = o.auth_token = ws.cookieToken;
}

function redactPass(s: string): string {
  return s.replace(/("pass"\s*:\s*")[^"]*(")/, "$1[REDACTED]$2");
}
