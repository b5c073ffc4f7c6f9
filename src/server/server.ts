// The server: listeners, INFO, the client registry, outbound flushing, lame duck, reload and shutdown.
// Behaviour follows nats-server server/server.go.

import { formatDuration, Logger, Timers } from "../util/mod.ts";
import { JS_API_LEVEL, PROTO, type ServerInfo, VERSION } from "../protocol/mod.ts";
import { ClientAuth, newNonce } from "../auth/mod.ts";
import { diffOptions, type Options, validateOptions } from "../config/mod.ts";
import {
  type Accepted,
  type Listener,
  listenTcp,
  TlsAcceptor,
  type Transport,
  unsupportedTlsSettings,
} from "../net/mod.ts";
import { Account, GLOBAL_ACCOUNT } from "./account.ts";
import {
  addSystemOnlyNoAuthUser,
  buildAccounts,
  reloadAccounts,
  validateAccountOptions,
} from "./_account_config.ts";
import { refreshShadows } from "./_resolver_imports.ts";
import { Client } from "./client.ts";
import { ClosedState } from "./closed_state.ts";
import { wsAuthFor, WsServer } from "./_websocket.ts";
import type { WsAccepted } from "../net/mod.ts";
import type { ClientTlsStart } from "./_client_tls.ts";
import { OperatorMode } from "./_resolver.ts";
import { AuthCallout, newServerKey, type ServerKey } from "./_auth_callout.ts";

/** natsdeno's own release, shown next to the nats-server version it implements. */
export const NATSDENO_VERSION = "0.1.0";

/** Extra construction options for embedding and tests. */
export interface ServerDeps {
  /** A logger to use instead of one built from the options. */
  log?: Logger;
}

/** What JetStream (src/jetstream) registers on the server when enabled; the core knows it only by this shape. */
export interface JetStreamHooks {
  /** The /varz `jetstream` block. */
  varz(): Record<string, unknown>;
  /** The /jsz body (and $SYS JSZ data). */
  jsz(
    opts: { accounts?: boolean; streams?: boolean; consumers?: boolean; config?: boolean; account?: string },
  ): Record<string, unknown>;
  /** Stops streams and consumers; called at server shutdown before clients close. */
  shutdown(): void;
  /** False once JetStream was turned off at runtime (it stays on in the options). */
  enabled?(): boolean;
  /** The first problem /healthz reports (e.g. a stream that could not be recovered), or undefined. */
  healthError?(): string | undefined;
  /** The JetStream instance, for code that imports src/jetstream. */
  readonly impl: unknown;
}

/** One NATS server. Self-contained: several can run in one process. */
export class Server {
  opts: Options;
  readonly id: string;
  /** The server's nkey identity (`id` is its public key); signs authorization callout requests. */
  readonly key: ServerKey;
  readonly log: Logger;
  readonly timers = new Timers();
  auth: ClientAuth;
  /** WebSocket clients' auth when the websocket block overrides authorization; else they use `auth`. */
  wsAuth: ClientAuth | undefined;
  /** The WebSocket listener, when `websocket {}` sets a port. */
  ws: WsServer | undefined;
  readonly accounts = new Map<string, Account>();
  readonly gacc: Account;
  /** The system account (system_account, "$SYS" by default); undefined with no_system_account. */
  /** Set again at startup in operator mode, where the system account comes from its JWT. */
  systemAccount: Account | undefined;
  /** Operator mode (trusted operators or keys): JWT accounts and users; undefined otherwise. */
  readonly operator: OperatorMode | undefined;
  /** The authorization callout (server configuration mode); undefined when not configured. */
  readonly authCallout: AuthCallout | undefined;
  #sysClient: Client | undefined;
  /** The generated no_auth_user when only the system account has users (nats-server's sysAccOnlyNoAuthUser). */
  #sysOnlyUser: string | undefined;
  readonly clients = new Map<number, Client>();
  /** Closed connections, newest last, at most max_closed_clients. */
  readonly closedClients: Client[] = [];
  readonly start = new Date();
  configTime = new Date();
  inMsgs = 0;
  outMsgs = 0;
  inBytes = 0;
  outBytes = 0;
  slowConsumers = 0;
  totalConnections = 0;
  ldm = false;
  running = false;
  /** Bound client address, once listening. */
  host = "";
  port = 0;
  /** Monitoring URLs for the ports file, set by the monitor when it listens. */
  monitorUrls: string[] = [];
  /** Called at shutdown (the monitor closes its listener here). */
  readonly onShutdown: (() => void | Promise<void>)[] = [];
  /** An account's exports and imports were rebuilt (claims update, reload): system imports are re-added. */
  readonly onAccountRebuilt: ((a: Account) => void)[] = [];
  /** A reload was applied; `changed` names the options that changed. */
  readonly onReload: ((changed: readonly string[]) => void)[] = [];
  // Event hooks (the system account's events register here). Called synchronously, never per message.
  /** A client joined (`added`) or left an account: at accept ($G), on CONNECT, when it closes. */
  readonly onAccountClient: ((a: Account, c: Client, added: boolean) => void)[] = [];
  /** A client's CONNECT passed authentication (before the protocol checks, as nats-server). */
  readonly onClientConnected: ((c: Client) => void)[] = [];
  /** A registered client closed (closeReason is set); after onAccountClient(…, false). */
  readonly onClientClosed: ((c: Client) => void)[] = [];
  /** A client failed authentication and is being closed. */
  readonly onAuthError: ((c: Client) => void)[] = [];
  /** An external (callout) authorization failed: the account-scoped auth error event, with the reason. */
  readonly onAccountAuthError: ((c: Client, acc: Account, reason: string) => void)[] = [];
  /** Lame duck mode began. */
  readonly onLameDuck: (() => void)[] = [];
  /** Shutdown began: called before listeners and clients close. */
  readonly onShuttingDown: (() => void)[] = [];
  /** HTTP monitoring requests served, by endpoint path ("/varz"), for /varz's http_req_stats. */
  readonly httpReqStats = new Map<string, number>();
  /** Set by src/jetstream when JetStream is enabled. */
  jetStream: JetStreamHooks | undefined;

  #cid = 0;
  #listener: Listener | undefined;
  /** Client TLS, built from opts.tls (again on reload); undefined when TLS is off. */
  #tls: TlsAcceptor | undefined;
  /** connection_rate_limit: TLS handshakes started in the current second, and those refused. */
  #tlsRate = { end: 0, count: 0, blocked: 0 };
  #pending: Client[] = [];
  #infoChanged = 0;
  #portsFile = "";
  #shutdownPromise: Promise<void> | undefined;
  #ldmPromise: Promise<void> | undefined;
  #ldmWake: (() => void) | undefined;

  constructor(opts: Options, deps: ServerDeps = {}) {
    this.opts = opts;
    this.key = newServerKey();
    this.id = this.key.pub;
    this.log = deps.log ??
      new Logger({
        debug: opts.debug,
        trace: opts.trace,
        logtime: opts.logtime,
        logtimeUTC: opts.logtimeUTC,
        logFile: opts.logFile,
      });
    this.#sysOnlyUser = addSystemOnlyNoAuthUser(opts);
    this.auth = new ClientAuth(opts);
    this.wsAuth = wsAuthFor(opts);
    this.#tls = opts.tls ? new TlsAcceptor(opts.tls) : undefined;
    // Accounts, their exports and imports, and the system account; throws with the config's errors.
    // Operator mode validates its options and builds the resolver here; its accounts come from JWTs.
    const trusted = opts.trustedOperators.length > 0 || (opts.trustedKeys?.length ?? 0) > 0;
    this.operator = trusted ? new OperatorMode(this, opts) : undefined;
    this.authCallout = !trusted && opts.authCallout ? new AuthCallout(this, opts.authCallout) : undefined;
    // The system account of operator mode is a JWT account too, set at startup; without one there is none.
    const built = buildAccounts(
      trusted ? { ...opts, systemAccount: "", noSystemAccount: true } : opts,
      (name) => this.#newAccount(name),
    );
    this.gacc = built.gacc;
    for (const [name, a] of built.accounts) this.accounts.set(name, a);
    this.systemAccount = built.sys;
  }

  #newAccount(name: string): Account {
    const a = new Account(name, { cache: !this.opts.disableSublistCache });
    a.server = this;
    return a;
  }

  /**
   * The internal client of the system account (kind "System"), made on first use; undefined without a
   * system account. The $SYS services subscribe and publish through it.
   */
  systemClient(): Client | undefined {
    const sys = this.systemAccount;
    if (sys === undefined) return undefined;
    this.#sysClient ??= this.createInternalClient("System", sys);
    return this.#sysClient;
  }

  get name(): string {
    return this.opts.serverName || this.id;
  }

  get trace(): boolean {
    return this.log.traceOn;
  }

  get maxPayload(): number {
    return this.opts.maxPayload;
  }

  /** Logs the banner and starts the client listener. */
  startListening(): void {
    const o = this.opts;
    const log = this.log;
    log.notice("Starting nats-server (natsdeno)");
    log.notice(`  Version:  ${VERSION} (natsdeno ${NATSDENO_VERSION}, deno ${Deno.version.deno})`);
    log.notice(`  Name:     ${this.name}`);
    log.notice(`  ID:       ${this.id}`);
    if (o.configFile) log.notice(`Using configuration file: ${o.configFile}`);
    for (const k of o.unsupported) {
      log.warn(`Config key "${k}" is recognized but not supported by natsdeno yet; ignoring it`);
    }
    for (const w of o.warnings) log.warn(w);
    this.operator?.start();
    // As nats-server, the WebSocket listener starts before the client one.
    if (o.websocket.port !== 0) this.ws = WsServer.start(this);
    this.#listener = listenTcp(
      o.host,
      o.port,
      (a) => this.#accept(a),
      (e) => log.error(`Error accepting client connection: ${(e as Error)?.message ?? e}`),
    );
    this.host = o.host;
    this.port = this.#listener.port;
    // As nats-server, the options then carry the bound port (a reload keeps it when the file says -1).
    if (o.port <= 0) o.port = this.port;
    log.notice(`Listening for client connections on ${hostPort(o.host, this.port)}`);
    if (o.tls) {
      log.notice("TLS required for client connections");
      if (o.tls.handshakeFirst && !o.tls.handshakeFirstFallbackMs) {
        log.warn('Clients that are not using "TLS Handshake First" option will fail to connect');
      }
      for (const k of unsupportedTlsSettings(o.tls)) {
        log.warn(`TLS ${k} is not supported by natsdeno (rustls chooses them); ignoring it`);
      }
      if ((o.tls.connectionRateLimit ?? 0) > 0) this.#scheduleTlsRateLog();
    }
    this.running = true;
    this.#scheduleHousekeeping();
  }

  /** Writes the pid and ports files and logs readiness; call after every listener is up. */
  async ready(): Promise<void> {
    const o = this.opts;
    if (o.pidFile) await Deno.writeTextFile(o.pidFile, String(Deno.pid), { mode: 0o660 });
    this.#writePortsFile();
    this.log.notice("Server is ready");
  }

  /** Writes `<ports_file_dir>/<program>_<pid>.ports` when a directory is configured. */
  #writePortsFile(): void {
    const dir = this.opts.portsFileDir;
    if (!dir) return;
    this.#portsFile = `${dir.replace(/\/+$/, "")}/${programName()}_${Deno.pid}.ports`;
    Deno.writeTextFileSync(this.#portsFile, JSON.stringify(this.portsInfo()));
  }

  #removePortsFile(): void {
    if (!this.#portsFile) return;
    try {
      Deno.removeSync(this.#portsFile);
    } catch {
      // Already gone.
    }
    this.#portsFile = "";
  }

  /** The URLs the ports file lists. */
  portsInfo(): { nats?: string[]; monitoring?: string[]; websocket?: string[] } {
    const out: { nats?: string[]; monitoring?: string[]; websocket?: string[] } = {};
    out.nats = hostUrls("nats", this.opts.host, this.port);
    if (this.monitorUrls.length > 0) out.monitoring = this.monitorUrls;
    if (this.ws !== undefined) out.websocket = this.ws.portsUrls(hostUrls);
    return out;
  }

  /** The client URL for tests and tools: nats://host:port with a dialable host. */
  clientUrl(): string {
    const h = this.host === "0.0.0.0" || this.host === "" ? "127.0.0.1" : this.host;
    return `nats://${h.includes(":") ? `[${h}]` : h}:${this.port}`;
  }

  /** A client connection that completed its WebSocket upgrade (TLS, if any, was done by the listener). */
  acceptWebsocket(a: WsAccepted): void {
    this.#accept({ conn: a.transport, remoteHost: a.remoteHost, remotePort: a.remotePort }, a);
  }

  #accept(a: Accepted, ws?: WsAccepted): void {
    const o = this.opts;
    if (!this.running || this.ldm) {
      a.conn.close();
      return;
    }
    const cid = ++this.#cid;
    this.totalConnections++;
    const c = new Client(this, cid, a.conn, a.remoteHost, a.remotePort, this.gacc);
    if (ws !== undefined) {
      c.ws = ws.upgrade;
      c.clientType = "websocket";
      ws.transport.onProtocolError = (m) => this.log.error(`${c} - read error: ${m}`);
      if (ws.tls !== undefined) {
        c.tlsVersion = ws.tls.version;
        c.tlsCipher = ws.tls.cipherSuite;
        c.tlsPeerCerts = ws.tls.peerCerts;
      }
    }
    if (this.clients.size >= o.maxConn) {
      // Go sends INFO, then the error, then closes.
      c.enqueue(new TextEncoder().encode(this.clientInfo(c)));
      c.sendErr("maximum connections exceeded");
      this.log.error(`${c} - maximum connections exceeded`);
      c.flush();
      c.close(ClosedState.MaxConnectionsExceeded);
      return;
    }
    this.clients.set(cid, c);
    this.gacc.addClient(c);
    for (const f of this.onAccountClient) f(this.gacc, c, true);
    this.log.debug(`${c} - Client connection created`);
    if (this.auth.needsNonce) c.nonce = newNonce();
    // WebSocket clients did TLS (wss) in the listener, before the HTTP upgrade.
    c.run(this.clientInfo(c), ws === undefined ? this.#tlsStart(c) : undefined);
  }

  /** How a new client starts TLS, or undefined when TLS is off. */
  #tlsStart(c: Client): ClientTlsStart | undefined {
    const t = this.opts.tls;
    const acceptor = this.#tls;
    if (t === undefined || acceptor === undefined) return undefined;
    return {
      acceptor,
      handshakeFirst: !!t.handshakeFirst,
      fallbackMs: t.handshakeFirst ? t.handshakeFirstFallbackMs ?? 0 : 0,
      allowNonTls: this.opts.allowNonTls,
      timeoutMs: t.timeoutMs || 2_000,
      infoTlsFirst: t.handshakeFirst ? this.clientInfo(c, true) : "",
      allow: () => this.#allowTlsHandshake(),
    };
  }

  /** connection_rate_limit: at most that many TLS handshakes start per second. */
  #allowTlsHandshake(): boolean {
    const limit = this.opts.tls?.connectionRateLimit ?? 0;
    if (limit <= 0) return true;
    const r = this.#tlsRate;
    const now = Date.now();
    if (now > r.end) {
      r.count = 0;
      r.end = now + 1_000;
    } else r.count++;
    if (r.count < limit) return true;
    r.blocked++;
    return false;
  }

  #scheduleTlsRateLog(): void {
    this.timers.after(1_000, () => {
      if (!this.running) return;
      const r = this.#tlsRate;
      if (r.blocked > 0) this.log.warn(`Rejected ${r.blocked} connections due to TLS rate limiting`);
      r.blocked = 0;
      this.#scheduleTlsRateLog();
    });
  }

  /** The INFO line for one client, with its id, ip and nonce; `tlsFirst`: as sent after a TLS-first handshake. */
  clientInfo(c: Client, tlsFirst = false): string {
    const o = this.opts;
    const info: ServerInfo = {
      "server_id": this.id,
      "server_name": this.name,
      version: VERSION,
      proto: PROTO,
      go: `natsdeno/${NATSDENO_VERSION}`,
      ...advertisedHostPort(o.clientAdvertise, o.host, this.port),
      headers: !o.noHeaderSupport,
      jetstream: this.jetStream !== undefined || undefined,
      "auth_required": (c.ws !== undefined && this.wsAuth?.authRequired) || this.auth.authRequired ||
        undefined,
      "tls_required": (o.tls !== undefined && (tlsFirst || !o.allowNonTls)) || undefined,
      "tls_verify": (o.tls !== undefined && !!o.tls.verify) || undefined,
      "tls_available": (o.tls !== undefined && o.allowNonTls && !tlsFirst) || undefined,
      "max_payload": c.maxPayload(),
      "client_id": c.cid,
      "client_ip": c.host,
      nonce: c.nonce,
      ldm: this.ldm || undefined,
      "api_lvl": JS_API_LEVEL,
      xkey: (this.operator?.callout ?? this.authCallout)?.xkeyPub,
    };
    return `INFO ${JSON.stringify(info)} \r\n`;
  }

  /** Milliseconds a client has to send CONNECT when auth is on. */
  authTimeoutMs(): number {
    const o = this.opts;
    if (o.authTimeoutMs > 0) return o.authTimeoutMs;
    return o.tls ? (o.tls.timeoutMs || 2_000) + 1_000 : 2_000;
  }

  /** True when an INFO sent at `since` is out of date (max_payload changed by reload). */
  infoChangedSince(since: Date): boolean {
    return this.#infoChanged >= since.getTime();
  }

  /**
   * A client with no connection, for the server's own services (kind "System"), JetStream ("JetStream") and
   * account imports ("Account"). It publishes with publishInternal and subscribes with subscribeInternal.
   */
  createInternalClient(kind: "System" | "JetStream" | "Account", account: Account): Client {
    const c = new Client(this, ++this.#cid, NULL_TRANSPORT, "", 0, account);
    c.kind = kind;
    c.connectReceived = true;
    c.opts = { verbose: false, pedantic: false, echo: true, headers: true };
    c.headers = true;
    return c;
  }

  lookupAccount(name: string): Account | undefined {
    if (this.operator !== undefined) {
      const r = this.operator.lookupAccount(name);
      return typeof r === "string" ? undefined : r;
    }
    let a = this.accounts.get(name);
    if (a === undefined && name !== "") {
      a = this.#newAccount(name);
      this.accounts.set(name, a);
    }
    return a;
  }

  /** Remembers a client with queued outbound bytes; flushPending() writes them. */
  markPending(c: Client): void {
    this.#pending.push(c);
    if (this.#pending.length === 1) queueMicrotask(() => this.flushPending());
  }

  /** Starts a write on every client with queued bytes (once per parsed chunk, not per message). */
  flushPending(): void {
    const p = this.#pending;
    if (p.length === 0) return;
    this.#pending = [];
    for (let i = 0; i < p.length; i++) p[i].flush();
  }

  /**
   * Periodic checks that need no per-connection timer: writes stuck past write_deadline make the client a
   * slow consumer, as nats-server's write deadline does.
   */
  #scheduleHousekeeping(): void {
    const wd = this.opts.writeDeadlineMs;
    const every = Math.max(20, Math.min(1_000, wd > 0 ? wd / 4 : 1_000));
    this.timers.after(every, () => {
      if (!this.running) return;
      const limit = this.opts.writeDeadlineMs;
      if (limit > 0) {
        const now = performance.now();
        for (const c of this.clients.values()) {
          if (c.writeStart > 0 && now - c.writeStart > limit) c.writeDeadlineExceeded();
        }
      }
      this.#scheduleHousekeeping();
    });
  }

  /** Called by a client when it closes. */
  removeClient(c: Client): void {
    if (!this.clients.delete(c.cid)) return;
    c.account.removeClient(c);
    for (const f of this.onAccountClient) f(c.account, c, false);
    for (const f of this.onClientClosed) f(c);
    this.log.debug(`${c} - Client connection closed: ${c.closeReason}`);
    const max = this.opts.maxClosedClients;
    if (max > 0) {
      this.closedClients.push(c);
      if (this.closedClients.length > max) this.closedClients.splice(0, this.closedClients.length - max);
    }
  }

  /** Number of subscriptions across accounts. */
  numSubscriptions(): number {
    let n = 0;
    for (const a of this.accounts.values()) n += a.sl.count();
    return n;
  }

  /**
   * Applies reloadable options; throws with nats-server's text when a change cannot be reloaded, leaving the
   * running options untouched.
   */
  reload(next: Options): void {
    const old = this.opts;
    addSystemOnlyNoAuthUser(next, this.#sysOnlyUser);
    const { changed } = diffOptions(old, next);
    if (changed.length > 0) validateOptions(next);
    // Account errors (imports, exports, cycles) refuse the reload before anything changes.
    const accountKeys: (keyof Options)[] = ["accounts", "mappings", "users", "nkeys"];
    const accountsChanged = this.operator === undefined && accountKeys.some((k) => changed.includes(k));
    if (accountsChanged) validateAccountOptions(next);
    // New certificates apply to new connections; a bad file fails the reload before anything changes.
    const nextTls = changed.includes("tls") ? (next.tls ? new TlsAcceptor(next.tls) : undefined) : this.#tls;
    // A random port in the new config keeps the bound one, as the reference does.
    if (next.port === 0 || next.port === -1) next = { ...next, port: old.port };
    this.opts = next;
    this.#tls = nextTls;
    this.configTime = new Date();
    const log = this.log;
    const has = (k: keyof Options) => changed.includes(k);
    if (has("trace")) log.notice(`Reloaded: trace = ${next.trace}`);
    if (has("traceVerbose")) log.notice(`Reloaded: trace_verbose = ${next.traceVerbose}`);
    if (has("debug")) log.notice(`Reloaded: debug = ${next.debug}`);
    if (has("logtime")) log.notice(`Reloaded: logtime = ${next.logtime}`);
    if (has("logFile")) log.notice(`Reloaded: log_file = ${next.logFile}`);
    if (has("syslog")) log.notice(`Reloaded: syslog = ${next.syslog}`);
    if (has("remoteSyslog")) log.notice(`Reloaded: remote_syslog = ${next.remoteSyslog}`);
    if (has("tls")) log.notice(`Reloaded: tls = ${next.tls ? "enabled" : "disabled"}`);
    if (has("username")) log.notice("Reloaded: authorization username");
    if (has("password")) log.notice("Reloaded: authorization password");
    if (has("authorization")) log.notice("Reloaded: authorization token");
    if (has("authTimeoutMs")) log.notice(`Reloaded: authorization timeout = ${next.authTimeoutMs / 1000}`);
    if (has("users")) log.notice("Reloaded: authorization users");
    if (has("users") || has("nkeys")) log.notice("Reloaded: accounts");
    if (has("nkeys")) log.notice("Reloaded: authorization nkey users");
    if (has("maxConn")) this.#reloadMaxConn(next.maxConn);
    if (has("pidFile") && next.pidFile) {
      try {
        Deno.writeTextFileSync(next.pidFile, String(Deno.pid), { mode: 0o660 });
      } catch (e) {
        log.error(`Failed to write pidfile: ${(e as Error).message}`);
      }
      log.notice(`Reloaded: pid_file = ${next.pidFile}`);
    }
    if (has("portsFileDir")) {
      this.#removePortsFile();
      try {
        this.#writePortsFile();
      } catch (e) {
        log.error(`Error writing ports file: ${(e as Error).message}`);
      }
      log.notice(`Reloaded: ports_file_dir = ${next.portsFileDir}`);
    }
    if (has("maxControlLine")) {
      for (const c of this.clients.values()) c.setMaxControlLine(next.maxControlLine);
      log.notice(`Reloaded: max_control_line = ${next.maxControlLine}`);
    }
    if (has("maxPayload")) {
      this.#infoChanged = Date.now();
      log.notice(`Reloaded: max_payload = ${next.maxPayload}`);
    }
    if (has("pingIntervalMs")) log.notice(`Reloaded: ping_interval = ${formatDuration(next.pingIntervalMs)}`);
    if (has("maxPingsOut")) log.notice(`Reloaded: ping_max = ${next.maxPingsOut}`);
    if (has("writeDeadlineMs")) {
      log.notice(`Reloaded: write_deadline = ${formatDuration(next.writeDeadlineMs)}`);
    }
    if (has("clientAdvertise")) log.notice(`Reload: client_advertise = ${next.clientAdvertise ?? ""}`);
    if (has("connectErrorReports")) {
      log.notice(`Reloaded: connect_error_reports = ${next.connectErrorReports}`);
    }
    if (has("reconnectErrorReports")) {
      log.notice(`Reloaded: reconnect_error_reports = ${next.reconnectErrorReports}`);
    }
    if (has("maxTracedMsgLen")) log.notice(`Reloaded: max_traced_msg_len = ${next.maxTracedMsgLen}`);
    const logKeys: (keyof Options)[] = ["debug", "trace", "traceVerbose", "logtime", "logtimeUTC", "logFile"];
    if (logKeys.some(has)) {
      log.configure({
        debug: next.debug,
        trace: next.trace || next.traceVerbose,
        logtime: next.logtime,
        logtimeUTC: next.logtimeUTC,
        logFile: next.logFile,
      });
    }
    const authKeys: (keyof Options)[] = [
      "username",
      "password",
      "authorization",
      "users",
      "nkeys",
      "noAuthUser",
      "defaultPermissions",
    ];
    if (accountsChanged) this.#reloadAccounts(old, next);
    if (authKeys.some(has)) {
      this.auth = new ClientAuth(next);
      this.wsAuth = wsAuthFor(next);
      for (const c of this.clients.values()) c.reauthorize();
    } else if (has("websocket")) this.wsAuth = wsAuthFor(next);
    if (has("accountResolver") || has("resolverPreload")) this.operator?.reload(next);
    for (const f of this.onReload) f(changed);
    log.notice("Reloaded server configuration");
  }

  /**
   * The accounts part of reloadAuthorization: accounts are rebuilt in place (see reloadAccounts); clients of
   * removed accounts, and clients whose user now belongs to another account, are closed (they reconnect into
   * the right one); the others are re-authorized by the caller. Stream import shadows follow the new imports.
   */
  #reloadAccounts(old: Options, next: Options): void {
    const r = reloadAccounts(this.accounts, old, next, (name) => this.#newAccount(name));
    for (const a of r.removed) this.accounts.delete(a.name);
    for (const [name, a] of r.accounts) this.accounts.set(name, a);
    const users = new Map<string, string>();
    for (const u of next.users) users.set(u.username, u.account || GLOBAL_ACCOUNT);
    for (const n of next.nkeys) users.set(n.nkey, n.account || GLOBAL_ACCOUNT);
    for (const c of [...this.clients.values()]) {
      if (c.closed) continue;
      const gone = this.accounts.get(c.account.name) !== c.account;
      const user = c.authResult?.nkey ?? c.authResult?.user;
      const now = user ? users.get(user) : undefined;
      if (gone || (now !== undefined && now !== c.account.name)) c.close(ClosedState.ClientClosed);
    }
    for (const a of this.accounts.values()) for (const f of this.onAccountRebuilt) f(a);
    for (const a of this.accounts.values()) refreshShadows(a);
  }

  /** max_connections lowered by reload: closes connections until the server is within the limit. */
  #reloadMaxConn(max: number): void {
    const all = [...this.clients.values()];
    if (max > 0 && all.length > max) {
      const n = all.length - max;
      for (const c of all.slice(0, n)) {
        c.sendErr("maximum connections exceeded");
        c.flush();
        c.close(ClosedState.MaxConnectionsExceeded);
      }
      this.log.notice(`Closed ${n} connections to fall within max_connections`);
    }
    this.log.notice(`Reloaded: max_connections = ${max}`);
  }

  /**
   * Lame duck mode: stop accepting, tell protocol-1 clients (INFO with "ldm"), wait the grace period, then
   * close the clients spread over the rest of lame_duck_duration, and shut down. With no client, shuts down
   * at once. A negative grace period is taken as its absolute value (tests use it to exceed the duration).
   */
  lameDuck(): Promise<void> {
    if (this.ldm || !this.running) return this.#ldmPromise ?? this.#shutdownPromise ?? Promise.resolve();
    this.log.notice("Entering lame duck mode, stop accepting new clients");
    this.ldm = true;
    for (const f of this.onLameDuck) f();
    this.#listener?.close();
    this.ws?.close();
    this.#ldmPromise = this.#lameDuck();
    return this.#ldmPromise;
  }

  async #lameDuck(): Promise<void> {
    const o = this.opts;
    const gp = Math.abs(o.lameDuckGracePeriodMs);
    const clients = [...this.clients.values()];
    const n = clients.length;
    if (n === 0) return await this.shutdown();
    let dur = o.lameDuckDurationMs - gp;
    if (dur <= 0) dur = 1_000;
    // Pause between closes: the duration spread over the clients, at most 1s; batches when they outnumber ms.
    let si = dur / n;
    let batch = 1;
    if (si < 1) {
      si = 1;
      batch = Math.max(1, Math.floor(n / dur));
    } else if (si > 1_000) si = 1_000;
    for (const c of clients) {
      if ((c.opts.protocol ?? 0) >= 1 && c.connectReceived && !c.closed) {
        c.enqueue(new TextEncoder().encode(this.clientInfo(c)));
        c.flush();
      }
    }
    if (await this.#ldmSleep(gp)) return;
    this.log.notice("Closing existing clients");
    for (let i = 0; i < n; i++) {
      clients[i].close(ClosedState.ServerShutdown);
      if (i === n - 1) break;
      if (batch === 1 || i % batch === 0) {
        if (await this.#ldmSleep(Math.max(si / 2, Math.random() * si))) return;
      }
    }
    await this.shutdown();
  }

  /** Sleeps `ms` during lame duck mode; resolves true when shutdown cut it short. */
  #ldmSleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#ldmWake = undefined;
        resolve(!this.running);
      }, ms);
      this.#ldmWake = () => {
        clearTimeout(t);
        this.#ldmWake = undefined;
        resolve(true);
      };
    });
  }

  /** Closes listeners and clients; idempotent. */
  shutdown(): Promise<void> {
    this.#shutdownPromise ??= this.#shutdown();
    return this.#shutdownPromise;
  }

  async #shutdown(): Promise<void> {
    this.log.notice("Initiating Shutdown...");
    for (const f of this.onShuttingDown) f();
    this.running = false;
    this.#ldmWake?.();
    await this.#listener?.close();
    await this.ws?.close();
    try {
      this.jetStream?.shutdown();
    } catch (e) {
      this.log.error(`Error during JetStream shutdown: ${(e as Error).message}`);
    }
    for (const c of [...this.clients.values()]) c.close(ClosedState.ServerShutdown);
    await this.ws?.drain();
    this.operator?.close();
    for (const f of this.onShutdown) {
      try {
        await f();
      } catch (e) {
        this.log.error(`Error during shutdown: ${(e as Error).message}`);
      }
    }
    this.timers.close();
    // The pid file stays, as nats-server leaves it; only the ports file goes.
    this.#removePortsFile();
    this.log.notice("Server Exiting..");
    this.log.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

/** INFO host and port: client_advertise ("host", "host:port", "[v6]:port") over the listen address. */
function advertisedHostPort(
  adv: string | undefined,
  host: string,
  port: number,
): { host: string; port: number } {
  if (!adv) return { host, port };
  const m = /^\[([^\]]*)\](?::(.*))?$/.exec(adv) ?? /^([^:]*)(?::([^:]*))?$/.exec(adv);
  if (m === null) return { host: adv.trim(), port };
  const p = m[2] === undefined ? port : Number(m[2].trim());
  return { host: m[1].trim(), port: !Number.isInteger(p) || p === 0 || p === -1 ? port : p };
}

/** The transport of internal clients: never reads, drops writes. */
const NULL_TRANSPORT: Transport = {
  read: () => new Promise<number | null>(() => {}),
  write: (p: Uint8Array) => Promise.resolve(p.length),
  close: () => {},
};

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** URLs for a listener: one per interface address when bound to all interfaces, as nats-server lists them. */
export function hostUrls(scheme: string, host: string, port: number): string[] {
  if (host !== "0.0.0.0" && host !== "::" && host !== "") return [`${scheme}://${hostPort(host, port)}`];
  const urls: string[] = [];
  try {
    const ifs = Deno.networkInterfaces();
    const v4 = ifs.filter((i) => i.family === "IPv4");
    const v6 = ifs.filter((i) => i.family === "IPv6");
    for (const i of [...v4.filter((i) => i.name === "lo"), ...v6.filter((i) => i.name === "lo")]) {
      urls.push(`${scheme}://${hostPort(i.address, port)}`);
    }
    for (const i of [...v4, ...v6]) {
      if (i.name === "lo") continue;
      urls.push(`${scheme}://${hostPort(i.address, port)}`);
    }
  } catch {
    // No permission to list interfaces: fall back to loopback.
  }
  if (urls.length === 0) urls.push(`${scheme}://${hostPort("127.0.0.1", port)}`);
  return urls;
}

/** The executable's base name, as nats-server uses it for the ports file ("natsdeno" or "deno"). */
function programName(): string {
  const exe = Deno.execPath().split("/").pop() ?? "natsdeno";
  return exe === "deno" ? "natsdeno" : exe;
}
