// The client protocol callbacks other than PUB: CONNECT with authentication, SUB and UNSUB, PING and PONG, INFO
// and -ERR from a client, parse errors, and re-authorization on reload. Layer four of the client (see
// _client_base.ts). Behaviour follows nats-server server/client.go (processConnect, processSub, ...).

import { decoder, encoder, parseSize } from "../util/mod.ts";
import {
  CLIENT_PROTO_INFO,
  CLIENT_PROTO_ZERO,
  type ConnectOptions,
  ERR_BAD_CLIENT_PROTOCOL,
  ERR_INVALID_SUBJECT,
  ERR_MAX_CONTROL_LINE,
  ERR_MAX_SUBS,
  ERR_NO_RESPONDERS_REQUIRES_HEADERS,
  ERR_UNKNOWN_PROTOCOL,
  goQuote,
  parseConnect,
  Parser,
  type ParserHandler,
  type State,
  subPermissionViolation,
  subTokensViolation,
} from "../protocol/mod.ts";
import { isValidSubject, numTokens } from "../sublist/mod.ts";
import type { AuthResult } from "../auth/mod.ts";
import type { Transport, WsUpgrade } from "../net/mod.ts";
import { Subscription } from "./subscription.ts";
import type { Account } from "./account.ts";
import type { Server } from "./server.ts";
import { addShadowSubscriptions } from "./_account_service.ts";
import { ClosedState } from "./closed_state.ts";
import { ClientInternal } from "./_client_internal.ts";
import { FIRST_PING_MS, OK_B } from "./_client_base.ts";

const PONG_B = encoder.encode("PONG\r\n");
const SYS_GROUP = "_sys_";

/** ClientProtocol: see ClientBase for the layering. */
export abstract class ClientProtocol extends ClientInternal implements ParserHandler {
  protected _parser: Parser;

  constructor(server: Server, cid: number, conn: Transport, host: string, port: number, account: Account) {
    super(server, cid, conn, host, port, account);
    this._parser = new Parser(this, server.opts.maxControlLine);
  }

  awaitingConnect(): boolean {
    return !this.connectReceived && this.auth.authRequired;
  }

  opBeforeConnect(): boolean {
    // no_auth_user lets a client skip CONNECT (telnet demos), as nats-server allows.
    const s = this.server;
    if (this._noAuthUser(s)) {
      const r = this._authFor(s).check({}, {
        connectionType: this.connectionType,
        nonce: this.nonce,
        tlsCert: this.tlsPeerCerts?.[0],
      });
      if (r && !(r instanceof Promise)) {
        this.#registerUser(r);
        this._clearAuthTimer();
        this.connectReceived = true;
        for (const f of s.onClientConnected) f(this._self);
        return true;
      }
    }
    this.authViolation();
    return false;
  }

  onConnect(arg: Uint8Array): boolean {
    this._clearAuthTimer();
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
    this.rttMs = performance.now() - this._startMono;
    this._setPingTimer(FIRST_PING_MS);
    if (this.server.trace) {
      this.server.log.trace(`${this} - <<- [CONNECT ${redactPass(decoder.decode(arg))}]`);
    }

    const s = this.server;
    if (this.ws !== undefined) mergeWsCookies(this.ws, o, this.opts);
    const co = s.authCallout;
    const r = s.operator !== undefined
      ? s.operator.check(this._self, this.opts)
      : co !== undefined && this.kind === "Client" && co.applies(this.opts)
      ? co.check(this._self, this.opts)
      : this._authFor(s).check(
        { user: o.user, pass: o.pass, auth_token: o.auth_token, nkey: o.nkey, sig: o.sig, jwt: o.jwt },
        { connectionType: this.connectionType, nonce: this.nonce, tlsCert: this.tlsPeerCerts?.[0] },
      );
    if (r instanceof Promise) {
      this._pendingAuth = r.then(
        (res) => {
          if (!this.closed) this.#finishConnect(res);
          this.server.flushPending();
        },
        (e) => this._closeWith(ClosedState.AuthenticationViolation, e),
      );
      this._parser.resumeAt = this._parser.lineEnd + 1;
      return false;
    }
    return this.#finishConnect(r);
  }

  #finishConnect(r: AuthResult | undefined): boolean {
    const s = this.server;
    if (this._authFor(s).authRequired || r !== undefined) {
      if (r === undefined) {
        this.authViolation();
        return false;
      }
      this.#registerUser(r);
    }
    for (const f of s.onClientConnected) f(this._self);
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
      this.account.removeClient(this._self);
      this.account = acc;
      this.sendErr("maximum account active connections exceeded");
      this.server.log.error(`${this} - maximum account active connections exceeded`);
      this.close(ClosedState.MaxAccountConnectionsExceeded);
      return;
    }
    if (acc && acc !== this.account) {
      const prev = this.account;
      prev.removeClient(this._self);
      this.account = acc;
      acc.addClient(this._self);
      for (const f of this.server.onAccountClient) f(prev, this._self, false);
      for (const f of this.server.onAccountClient) f(acc, this._self, true);
    }
    this.server.operator?.applyLimits(this._self);
  }

  onSub(arg: Uint8Array): boolean {
    const args = splitArgs(decoder.decode(arg));
    if (this.server.trace) this.server.log.trace(`${this} - <<- [SUB ${decoder.decode(arg)}]`);
    let subject: string, queue: string | undefined, sid: string;
    if (args.length === 2) [subject, sid] = args;
    else if (args.length === 3) [subject, queue, sid] = args;
    else {
      this._protocolViolation(`processSub Parse Error: ${goQuote(decoder.decode(arg))}`);
      return false;
    }
    this._subOps++;
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
            ? `${this} - Subscription Violation - ${this._userDesc()}, Subject ${goQuote(subject)}, Queue: ${
              goQuote(queue)
            }, SID ${sid}`
            : `${this} - Subscription Violation - ${this._userDesc()}, Subject ${
              goQuote(subject)
            }, SID ${sid}`,
        );
        return undefined;
      }
    }
    if (s.opts.maxSubTokens > 0 && numTokens(subject) > s.opts.maxSubTokens) {
      this.sendErr(subTokensViolation(subject));
      s.log.error(
        `${this} - Subscription Violation Too Many Tokens - ${this._userDesc()}, Subject ${
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
    const sub = new Subscription(this._self, subject, queue, sid);
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
      this._protocolViolation(`processUnsub Parse Error: ${goQuote(text)}`);
      return false;
    }
    const sub = this.subs.get(args[0]);
    if (sub !== undefined) {
      if (max > 0 && max > sub.nm) sub.max = max;
      else this._unsubscribe(sub);
    }
    if (this.opts.verbose) this.enqueue(OK_B);
    return true;
  }

  onPing(): boolean {
    if (this.server.trace) this.server.log.trace(`${this} - <<- [PING]`);
    this._lastPingIn = performance.now();
    this.enqueue(PONG_B);
    if (this.connectReceived && (this.opts.protocol ?? 0) >= CLIENT_PROTO_INFO && !this.#firstPongSent) {
      this.#firstPongSent = true;
      if (this.server.infoChangedSince(this.start) || this.maxPayload() !== this.server.maxPayload) {
        this.enqueue(encoder.encode(this.server.clientInfo(this._self)));
      }
    }
    return true;
  }

  #firstPongSent = false;

  onPong(): boolean {
    if (this.server.trace) this.server.log.trace(`${this} - <<- [PONG]`);
    this.pingsOut = 0;
    if (this._rttStart > 0) this.rttMs = performance.now() - this._rttStart;
    return true;
  }

  onInfo(arg: Uint8Array): boolean {
    // nats-server ignores an INFO from a client, but closes the connection when its JSON does not decode.
    let v: unknown;
    try {
      v = JSON.parse(decoder.decode(arg));
    } catch (e) {
      this._protocolViolation((e as Error).message);
      return false;
    }
    if (v !== null && (typeof v !== "object" || Array.isArray(v))) {
      this._protocolViolation("json: cannot unmarshal INFO into Go value of type server.Info");
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
    this._parser.mcl = mcl;
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
    this._pubCache = undefined;
    const p = this.perms;
    if (p !== undefined) {
      for (const sub of [...this.subs.values()]) {
        if (p.canSubscribe(sub.subject, sub.queue)) continue;
        this._unsubscribe(sub);
        // nats-server names no queue here, even for a queue subscription.
        const what = `${goQuote(sub.subject)} (sid ${goQuote(sub.sid)})`;
        this.sendErr(`Permissions Violation for Subscription to ${what}`);
        this.server.log.notice(`Removed sub ${what} for ${this._userDesc()} - not authorized`);
      }
    }
    this.flushSoon();
  }
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
