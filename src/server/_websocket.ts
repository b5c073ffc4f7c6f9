// The server's WebSocket listener: starts it, hands upgraded connections to the server as clients, and keeps
// what WebSocket clients need (auth override, connect URLs, pings). Behaviour follows nats-server
// server/websocket.go (startWebsocketServer, createWSClient, wsConfigAuth).
import { ClientAuth } from "../auth/mod.ts";
import type { Options } from "../config/mod.ts";
import {
  listenWebsocket,
  parseAllowedOrigins,
  TlsAcceptor,
  type WsAccepted,
  wsConnectUrl,
  type WsListener,
  type WsTransport,
  type WsUpgradeOptions,
} from "../net/mod.ts";
import type { Server } from "./server.ts";

/** A running WebSocket listener. */
export class WsServer {
  readonly listener: WsListener;
  /** wss (TLS) rather than ws. */
  readonly tls: boolean;
  /** "host:port" URLs WebSocket clients may connect to (for cluster gossip and /varz). */
  readonly connectUrls: string[];
  readonly #transports = new Set<WsTransport>();
  readonly #server: Server;
  #pingTimer = false;

  private constructor(server: Server, listener: WsListener, tls: boolean, connectUrls: string[]) {
    this.#server = server;
    this.listener = listener;
    this.tls = tls;
    this.connectUrls = connectUrls;
  }

  /** Starts listening as nats-server does, logging the listen line and the no-TLS warning; throws on failure. */
  static start(s: Server): WsServer {
    const o = s.opts.websocket;
    const log = s.log;
    // As nats-server: a tls {} block means wss, whatever no_tls says.
    const tls = o.tls !== undefined;
    let acceptor: TlsAcceptor | undefined;
    try {
      acceptor = tls ? new TlsAcceptor(o.tls!) : undefined;
    } catch (e) {
      throw new Error(`Unable to listen for websocket connections: ${(e as Error).message}`);
    }
    let acceptorFrom = o.tls;
    const tlsFor = (): TlsAcceptor | undefined => {
      // A reload replaces opts.websocket.tls (certificates only: the listener keeps its scheme).
      const t = s.opts.websocket.tls;
      if (t !== acceptorFrom && t !== undefined) {
        try {
          acceptor = new TlsAcceptor(t);
          acceptorFrom = t;
        } catch (e) {
          log.error(`websocket: ${(e as Error).message}`);
        }
      }
      return acceptor;
    };
    let origins = parseAllowedOrigins(o.allowedOrigins, (m) => log.error(m));
    let originsFrom = o.allowedOrigins;
    const upgrade = (): WsUpgradeOptions => {
      const w = s.opts.websocket;
      if (w.allowedOrigins !== originsFrom) {
        originsFrom = w.allowedOrigins;
        origins = parseAllowedOrigins(w.allowedOrigins, (m) => log.error(m));
      }
      return {
        compression: w.compression,
        sameOrigin: w.sameOrigin,
        allowedOrigins: origins,
        tls,
        jwtCookie: w.jwtCookie,
        userCookie: w.userCookie,
        passCookie: w.passCookie,
        tokenCookie: w.tokenCookie,
        headers: w.headers,
      };
    };
    // The accept callback runs only after start() returns, once `self.ws` is set.
    const self: { ws?: WsServer } = {};
    let listener: WsListener;
    try {
      listener = listenWebsocket(
        {
          host: o.host,
          port: o.port,
          handshakeTimeoutMs: o.handshakeTimeoutMs,
          upgrade,
          tls: tls ? tlsFor : undefined,
        },
        (a) => self.ws!.#onConn(a),
        (m) => log.error(m),
      );
    } catch (e) {
      throw new Error(`Unable to listen for websocket connections: ${listenError(e, o.host, o.port)}`);
    }
    if (o.port <= 0) o.port = listener.port;
    const proto = tls ? "wss" : "ws";
    log.notice(`Listening for websocket clients on ${proto}://${o.host}:${o.port}`);
    if (!tls) log.warn("Websocket not configured with TLS. DO NOT USE IN PRODUCTION!");
    let urls: string[];
    try {
      urls = [wsConnectUrl(o.advertise, o.host, o.port)];
    } catch (e) {
      listener.close().catch(() => {});
      throw new Error(`Unable to get websocket connect URLs: ${(e as Error).message}`);
    }
    self.ws = new WsServer(s, listener, tls, urls);
    return self.ws;
  }

  /** The URLs for the ports file ("ws://127.0.0.1:8080"). */
  portsUrls(hostUrls: (scheme: string, host: string, port: number) => string[]): string[] {
    const o = this.#server.opts.websocket;
    return hostUrls(this.tls ? "wss" : "ws", o.host, this.listener.port);
  }

  #onConn(a: WsAccepted): void {
    const s = this.#server;
    const up = a.upgrade;
    if (up.kind === "leaf") {
      // natsdeno has no leaf nodes yet: as nats-server without a leafnodes port.
      s.log.error("Not configured to accept leaf node connections");
      a.transport.close();
      return;
    }
    if (up.kind === "mqtt") {
      s.log.error("MQTT over websocket is not supported by natsdeno yet");
      a.transport.close();
      return;
    }
    const t = a.transport;
    this.#transports.add(t);
    t.done.then(() => this.#transports.delete(t));
    this.#schedulePings();
    s.acceptWebsocket(a);
  }

  /** ping_interval: one timer pings every WebSocket connection. */
  #schedulePings(): void {
    const ms = this.#server.opts.websocket.pingIntervalMs;
    if (ms <= 0 || this.#pingTimer) return;
    this.#pingTimer = true;
    this.#server.timers.after(ms, () => {
      this.#pingTimer = false;
      if (!this.#server.running || this.#transports.size === 0) return;
      for (const t of this.#transports) t.ping();
      this.#schedulePings();
    });
  }

  /** Stops accepting (lame duck, shutdown) and drops connections still in their handshake. */
  async close(): Promise<void> {
    this.listener.closeHandshakes();
    await this.listener.close();
  }

  /** Waits until closed connections have sent their close frames and released their sockets. */
  async drain(): Promise<void> {
    await Promise.all([...this.#transports].map((t) => t.done));
  }
}

/**
 * The ClientAuth WebSocket clients use instead of the server's when the websocket block overrides
 * authorization (a username, token or no_auth_user of its own), as nats-server's wsConfigAuth decides.
 */
export function wsAuthFor(o: Options): ClientAuth | undefined {
  const w = o.websocket;
  const tlsMap = !!w.tls?.verifyAndMap;
  if (w.username === "" && w.token === "" && w.noAuthUser === "") {
    // verify_and_map of the websocket block, not the client port's, maps WebSocket users from certificates.
    if (tlsMap === !!o.tls?.verifyAndMap) return undefined;
    return new ClientAuth({ ...o, tls: { ...o.tls, verifyAndMap: tlsMap } });
  }
  return new ClientAuth({
    ...o,
    tls: { ...o.tls, verifyAndMap: tlsMap },
    username: w.username || undefined,
    password: w.password || undefined,
    authorization: w.token || undefined,
    noAuthUser: w.noAuthUser || undefined,
  });
}

function listenError(e: unknown, host: string, port: number): string {
  const hp = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  if (e instanceof Deno.errors.AddrInUse) return `listen tcp ${hp}: bind: address already in use`;
  return (e as Error)?.message ?? String(e);
}
