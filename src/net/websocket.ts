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
}

/** An upgraded connection. */
export interface WsAccepted {
  transport: WsTransport;
  upgrade: WsUpgrade;
  remoteHost: string;
  remotePort: number;
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
  const conn = a.conn;
  const remote = a.remoteHost.includes(":")
    ? `[${a.remoteHost}]:${a.remotePort}`
    : `${a.remoteHost}:${a.remotePort}`;
  let timedOut = false;
  const timer = opts.handshakeTimeoutMs > 0
    ? setTimeout(() => {
      timedOut = true;
      closeQuietly(conn);
    }, opts.handshakeTimeoutMs)
    : undefined;
  try {
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
    return { transport, upgrade: up, remoteHost: a.remoteHost, remotePort: a.remotePort };
  } catch (e) {
    closeQuietly(conn);
    if (timedOut) return "";
    throw e;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
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
