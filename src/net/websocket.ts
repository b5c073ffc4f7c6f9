// The WebSocket listener: accepts TCP connections, runs the HTTP upgrade with a handshake timeout, and hands
// each upgraded connection on as a WsTransport. Behaviour follows nats-server server/websocket.go
// (startWebsocketServer, wsUpgrade, wsReturnHTTPError).
import { type Accepted, type Listener, listenTcp, type Transport } from "./transport.ts";
import {
  checkUpgrade,
  decodeHead,
  headEnd,
  httpErrorResponse,
  parseHttpRequest,
  TOO_LARGE,
  WS_MAX_HEADER_BYTES,
  WsHttpError,
  type WsUpgrade,
  type WsUpgradeOptions,
} from "./_ws_handshake.ts";
import { WsTransport } from "./_ws_transport.ts";
import { TLS_HANDSHAKE_BYTE, type TlsAcceptor, TlsHandshakeError, type TlsTransport } from "./tls.ts";

export { WsTransport, type WsTransportOptions } from "./_ws_transport.ts";
export {
  type AllowedOrigin,
  checkOrigin,
  checkUpgrade,
  parseAllowedOrigins,
  parseHttpRequest,
  splitHostPort,
  WS_LEAF_PATH,
  WS_MQTT_PATH,
  type WsHttpRequest,
  type WsUpgrade,
  type WsUpgradeOptions,
  type WsUpgradeResult,
} from "./_ws_handshake.ts";
export {
  WS_BINARY,
  WS_CLOSE,
  WS_CLOSE_GOING_AWAY,
  WS_CLOSE_NO_STATUS,
  WS_CLOSE_NORMAL,
  WS_CLOSE_POLICY_VIOLATION,
  WS_CLOSE_PROTOCOL_ERROR,
  WS_COMPRESS_THRESHOLD,
  WS_CONTINUATION,
  WS_FRAME_SIZE_FOR_BROWSERS,
  WS_PING,
  WS_PONG,
  WS_TEXT,
  wsAcceptKey,
  wsCloseStatusForReason,
  wsCompress,
  wsCreateCloseMessage,
  wsCreateFrame,
  wsDecompress,
  wsFillFrameHeader,
  WsFrameReader,
  WsProtocolError,
} from "./_ws_frame.ts";

/** Listener settings: where to listen, how long a handshake may take, and the upgrade rules. */
export interface WsListenOptions {
  host: string;
  port: number;
  /** 0: no limit (as nats-server without handshake_timeout). */
  handshakeTimeoutMs: number;
  /** Read on every upgrade, so a reload can change them. */
  upgrade: () => WsUpgradeOptions;
  /** wss: the TLS acceptor for each new connection (read per connection, so a reload can change it). */
  tls?: () => TlsAcceptor | undefined;
}

/** What the TLS handshake of a wss connection negotiated. */
export interface WsTlsState {
  version: string;
  cipherSuite: string;
  /** DER, leaf first; empty when the client sent no certificate. */
  peerCerts: Uint8Array[];
}

/** An upgraded connection. */
export interface WsAccepted {
  transport: WsTransport;
  upgrade: WsUpgrade;
  remoteHost: string;
  remotePort: number;
  /** Set for wss connections. */
  tls?: WsTlsState;
}

/** The WebSocket listener, plus what is needed to wait for connections that are still closing. */
export interface WsListener extends Listener {
  /** Closes connections still in their handshake. */
  closeHandshakes(): void;
}

/**
 * Listens on host:port for WebSocket upgrades; `onConn` gets each upgraded connection, `onError` the texts
 * nats-server logs at error level for failed handshakes ("<ip:port> - websocket handshake error: …").
 */
export function listenWebsocket(
  opts: WsListenOptions,
  onConn: (a: WsAccepted) => void,
  onError: (msg: string) => void,
): WsListener {
  const handshaking = new Set<Transport>();
  const ln = listenTcp(opts.host, opts.port, (a) => {
    handshaking.add(a.conn);
    upgradeConnection(a, opts).then((res) => {
      handshaking.delete(a.conn);
      if (typeof res === "string") {
        if (res !== "") onError(res);
        return;
      }
      onConn(res);
    }, (e) => {
      handshaking.delete(a.conn);
      closeQuietly(a.conn);
      onError(`websocket: ${(e as Error)?.message ?? e}`);
    });
  }, (e) => onError(`websocket: ${(e as Error)?.message ?? e}`));
  return {
    host: ln.host,
    port: ln.port,
    close: () => ln.close(),
    closeHandshakes() {
      for (const c of handshaking) closeQuietly(c);
      handshaking.clear();
    },
  };
}

/**
 * Runs the upgrade on one accepted socket. Returns the upgraded connection, or the error text to log ("" when
 * nothing is logged, as for a handshake timeout or a request the HTTP layer refuses).
 */
export async function upgradeConnection(a: Accepted, opts: WsListenOptions): Promise<WsAccepted | string> {
  let conn: Transport = a.conn;
  const remote = a.remoteHost.includes(":")
    ? `[${a.remoteHost}]:${a.remotePort}`
    : `${a.remoteHost}:${a.remotePort}`;
  let timedOut = false;
  const timer = opts.handshakeTimeoutMs > 0
    ? setTimeout(() => {
      timedOut = true;
      closeQuietly(conn);
      if (conn !== a.conn) closeQuietly(a.conn);
    }, opts.handshakeTimeoutMs)
    : undefined;
  let tlsState: WsTlsState | undefined;
  try {
    const acceptor = opts.tls?.();
    if (acceptor !== undefined) {
      const r = await wssHandshake(a, acceptor, remote, () => timedOut);
      if (typeof r === "string") return r;
      conn = r;
      tlsState = { version: r.version, cipherSuite: r.cipherSuite, peerCerts: r.peerCertificates() };
      if (timedOut) {
        closeQuietly(conn);
        return "";
      }
    }
    let buf = new Uint8Array(4096);
    let n = 0;
    let end = -1;
    while (end < 0) {
      if (n === buf.length) {
        if (buf.length >= WS_MAX_HEADER_BYTES) {
          await writeAll(conn, new TextEncoder().encode(TOO_LARGE));
          closeQuietly(conn);
          return "";
        }
        const g = new Uint8Array(Math.min(buf.length * 2, WS_MAX_HEADER_BYTES));
        g.set(buf);
        buf = g;
      }
      let r: number | null;
      try {
        r = await conn.read(buf.subarray(n));
      } catch {
        r = null;
      }
      if (r === null) {
        closeQuietly(conn);
        return "";
      }
      const from = Math.max(0, n - 3);
      n += r;
      end = headEnd(buf, n, from);
    }
    let req;
    try {
      req = parseHttpRequest(decodeHead(buf.subarray(0, end - 4)));
    } catch (e) {
      if (!(e instanceof WsHttpError)) throw e;
      await writeAll(conn, new TextEncoder().encode(e.response)).catch(() => {});
      closeQuietly(conn);
      return "";
    }
    const res = checkUpgrade(req, opts.upgrade());
    if (!res.ok) {
      await writeAll(conn, httpErrorResponse(req.proto, res.status)).catch(() => {});
      closeQuietly(conn);
      return `${remote} - websocket handshake error: ${res.reason}`;
    }
    if (end < n) {
      // The Go server has already handed the socket over here, so it closes without an answer.
      closeQuietly(conn);
      return `${remote} - websocket handshake error: client sent data before handshake is complete`;
    }
    await writeAll(conn, res.response);
    if (timedOut) return "";
    const up = res.upgrade;
    const transport = new WsTransport(conn, {
      compress: up.compress,
      maskRead: !up.noMasking,
      browser: up.browser,
      noCompFrag: up.noCompFrag,
    });
    return { transport, upgrade: up, remoteHost: a.remoteHost, remotePort: a.remotePort, tls: tlsState };
  } catch (e) {
    closeQuietly(conn);
    if (timedOut) return "";
    throw e;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Go's http.Server answer to plain HTTP on a TLS listener. */
const HTTP_ON_HTTPS = new TextEncoder().encode(
  "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n",
);

/**
 * The TLS handshake of a wss connection, as Go's http.Server runs it on a TLS listener: plain HTTP gets a
 * 400 without a log line; other failures are logged "websocket: TLS handshake error from <addr>: <err>".
 * Returns the TLS transport, or the text to log ("" for none).
 */
async function wssHandshake(
  a: Accepted,
  acceptor: TlsAcceptor,
  remote: string,
  timedOut: () => boolean,
): Promise<TlsTransport | string> {
  const fail = (m: string) => {
    closeQuietly(a.conn);
    return `websocket: TLS handshake error from ${remote}: ${m}`;
  };
  const first = new Uint8Array(4096);
  let n: number | null;
  try {
    n = await a.conn.read(first);
  } catch {
    n = null;
  }
  if (timedOut()) return fail(timeoutText(a));
  if (n === null || n === 0) return fail("EOF");
  if (first[0] !== TLS_HANDSHAKE_BYTE) {
    if (looksLikeHttp(first.subarray(0, n))) {
      await writeAll(a.conn, HTTP_ON_HTTPS).catch(() => {});
      closeQuietly(a.conn);
      return "";
    }
    return fail("tls: first record does not look like a TLS handshake");
  }
  try {
    return await acceptor.accept(a.conn, first.slice(0, n));
  } catch (e) {
    if (timedOut()) return fail(timeoutText(a));
    return fail(e instanceof TlsHandshakeError ? e.message : (e as Error)?.message ?? String(e));
  }
}

/** Go's tlsRecordHeaderLooksLikeHTTP: the first 5 bytes start an HTTP method. */
function looksLikeHttp(b: Uint8Array): boolean {
  const h = new TextDecoder().decode(b.subarray(0, 5));
  return ["GET /", "HEAD ", "POST ", "PUT /", "OPTIO"].includes(h);
}

/** Go's text for a read that hit the handshake deadline. */
function timeoutText(a: Accepted): string {
  const la = (a.conn as Partial<Deno.Conn>).localAddr as Deno.NetAddr | undefined;
  if (la === undefined || la.hostname === undefined) return "i/o timeout";
  const hp = (h: string, p: number) => h.includes(":") ? `[${h}]:${p}` : `${h}:${p}`;
  return `read tcp ${hp(la.hostname, la.port)}->${hp(a.remoteHost, a.remotePort)}: i/o timeout`;
}

async function writeAll(conn: Transport, b: Uint8Array): Promise<void> {
  let off = 0;
  while (off < b.length) off += await conn.write(b.subarray(off));
}

function closeQuietly(c: Transport): void {
  try {
    c.close();
  } catch {
    // Already closed.
  }
}

/**
 * The connect URLs ("host:port") nats-server advertises for a listener: `advertise` when set (a missing port
 * takes the listener's), else the listen host. Throws with Go's text when `advertise` does not parse.
 */
export function wsConnectUrl(advertise: string, host: string, port: number): string {
  if (advertise !== "") {
    const hp = parseHostPort(advertise, port);
    return joinHostPort(hp.host, hp.port);
  }
  return joinHostPort(host, port);
}

/** Go's parseHostPort (server/util.go). */
function parseHostPort(hostPort: string, defaultPort: number): { host: string; port: number } {
  const split = (s: string) => {
    const i = s.lastIndexOf(":");
    if (s.startsWith("[")) {
      const e = s.indexOf("]");
      if (e < 0) return `address ${s}: missing ']' in address`;
      if (e + 1 === s.length || s[e + 1] !== ":") return `address ${s}: missing port in address`;
      return [s.slice(1, e), s.slice(e + 2)];
    }
    if (i < 0) return `address ${s}: missing port in address`;
    if (s.slice(0, i).includes(":")) return `address ${s}: too many colons in address`;
    return [s.slice(0, i), s.slice(i + 1)];
  };
  let r = split(hostPort);
  if (typeof r === "string" && r.endsWith("missing port in address")) r = split(`${hostPort}:${defaultPort}`);
  if (typeof r === "string") throw new Error(r);
  const sp = r[1].trim();
  const port = /^[+-]?\d+$/.test(sp) ? Number(sp) : NaN;
  if (!Number.isInteger(port)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(sp)}: invalid syntax`);
  return { host: r[0].trim(), port: port === 0 || port === -1 ? defaultPort : port };
}

function joinHostPort(h: string, p: number): string {
  return h.includes(":") ? `[${h}]:${p}` : `${h}:${p}`;
}
