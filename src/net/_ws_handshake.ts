// The HTTP/1.1 upgrade request of a WebSocket connection: parsing, the checks nats-server makes (RFC 6455
// §4.2.1), origin rules, cookies and the 101 or error responses. Behaviour follows nats-server
// server/websocket.go (wsUpgrade, checkOrigin, wsPMCExtensionSupport) and the Go net/http server it runs on.
import { wsAcceptKey } from "./_ws_frame.ts";

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Go's http.Server default limit on the request line plus headers (1 MB + 4 KB of slack). */
export const WS_MAX_HEADER_BYTES = (1 << 20) + 4096;
export const WS_LEAF_PATH = "/leafnode";
export const WS_MQTT_PATH = "/mqtt";
export const WS_NO_MASKING_HEADER = "Nats-No-Masking";
const PMC_EXTENSION = "permessage-deflate";
const PMC_RESPONSE =
  "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n";

/** A parsed HTTP request head. Header names are lower-cased; a name may repeat. */
export interface WsHttpRequest {
  method: string;
  /** The request target as sent ("/", "/leafnode?x"). */
  uri: string;
  /** "HTTP/1.1" or "HTTP/1.0". */
  proto: string;
  /** The Host header (or the authority of an absolute request target). */
  host: string;
  headers: Map<string, string[]>;
}

/** A request that could not be read as HTTP: the Go HTTP server answers with this text and closes. */
export class WsHttpError extends Error {
  constructor(readonly status: number, readonly response: string) {
    super(response);
    this.name = "WsHttpError";
  }
}

/**
 * Parses the head (up to, not including, the blank line). Throws WsHttpError with the bytes the Go HTTP
 * server sends for a malformed request.
 */
export function parseHttpRequest(head: string): WsHttpRequest {
  const lines = head.split("\r\n");
  const parts = lines[0].split(" ");
  if (parts.length !== 3 || parts[0] === "" || parts[1] === "") throw goServerError(400, "");
  const [method, uri, proto] = parts;
  if (!/^HTTP\/1\.[01]$/.test(proto)) {
    if (/^HTTP\/\d+\.\d+$/.test(proto)) throw goServerError(505, "");
    throw goServerError(400, "");
  }
  const headers = new Map<string, string[]>();
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i];
    if (l === "") continue;
    const c = l.indexOf(":");
    if (c <= 0 || /[ \t]/.test(l.slice(0, c))) {
      throw goServerError(400, `malformed MIME header line: ${l}`);
    }
    const name = l.slice(0, c).toLowerCase();
    const value = l.slice(c + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    const list = headers.get(name);
    if (list) list.push(value);
    else headers.set(name, [value]);
  }
  let host = headers.get("host")?.[0] ?? "";
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  if (abs) host = abs[1];
  if (proto === "HTTP/1.1" && !headers.has("host")) throw goServerError(400, "missing required Host header");
  return { method, uri, proto, host, headers };
}

/** The response Go's http.Server writes itself for a request it cannot hand to the handler. */
function goServerError(status: number, detail: string): WsHttpError {
  const text = detail === ""
    ? `${status} ${STATUS_TEXT[status]}`
    : `${status} ${STATUS_TEXT[status]}: ${detail}`;
  const line = detail === ""
    ? `${status} ${STATUS_TEXT[status]}`
    : `${status} ${STATUS_TEXT[status]}: ${detail}`;
  return new WsHttpError(
    status,
    `HTTP/1.1 ${line}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${text}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  405: "Method Not Allowed",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  505: "HTTP Version Not Supported",
};

/** The first value of header `name` (lower case), or "". */
export function headerGet(r: WsHttpRequest, name: string): string {
  return r.headers.get(name)?.[0] ?? "";
}

/** True when one of the comma-separated tokens of header `name` equals `value`, ignoring case. */
export function headerContains(r: WsHttpRequest, name: string, value: string): boolean {
  const want = value.toLowerCase();
  for (const s of r.headers.get(name) ?? []) {
    for (const t of s.split(",")) if (t.replace(/^[ \t]+|[ \t]+$/g, "").toLowerCase() === want) return true;
  }
  return false;
}

/** The client offers permessage-deflate (its parameters are not needed: the server always asks for none). */
export function pmcExtensionOffered(r: WsHttpRequest): boolean {
  for (const list of r.headers.get("sec-websocket-extensions") ?? []) {
    for (const ext of list.split(",")) {
      for (const p of ext.split(";")) {
        if (p.replace(/^[ \t]+|[ \t]+$/g, "").toLowerCase() === PMC_EXTENSION) return true;
      }
    }
  }
  return false;
}

/** The value of cookie `name` from the Cookie headers, or undefined; quotes around a value are removed. */
export function cookieValue(r: WsHttpRequest, name: string): string | undefined {
  if (name === "") return undefined;
  for (const line of r.headers.get("cookie") ?? []) {
    for (const part of line.split(";")) {
      const p = part.trim();
      const eq = p.indexOf("=");
      if (eq < 0 || p.slice(0, eq).trim() !== name) continue;
      let v = p.slice(eq + 1).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      return v;
    }
  }
  return undefined;
}

/** An HTTP error answered by the handler (Go's http.Error with the Sec-Websocket-Version header). */
export function httpErrorResponse(proto: string, status: number, now = new Date()): Uint8Array {
  const text = STATUS_TEXT[status] ?? "";
  const body = text + "\n";
  const p = proto === "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1";
  return encoder.encode(
    `${p} ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nSec-Websocket-Version: 13\r\n` +
      `X-Content-Type-Options: nosniff\r\nDate: ${now.toUTCString()}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
}

/** What the server needs to decide on an upgrade. */
export interface WsUpgradeOptions {
  compression: boolean;
  sameOrigin: boolean;
  /** Parsed allowed origins, from `parseAllowedOrigins`. */
  allowedOrigins: Map<string, AllowedOrigin>;
  /** The listener is TLS (same-origin checks default the request's port to 443). */
  tls: boolean;
  jwtCookie: string;
  userCookie: string;
  passCookie: string;
  tokenCookie: string;
  /** Extra headers for the 101 response. */
  headers: Record<string, string>;
  /** For tests: refuse Nats-No-Masking requests. */
  rejectNoMasking?: boolean;
}

/** The negotiated connection, as the server keeps it for the client. */
export interface WsUpgrade {
  kind: "client" | "leaf" | "mqtt";
  compress: boolean;
  /** The peer asked not to mask its frames (leaf nodes). */
  noMasking: boolean;
  /** The User-Agent looks like a browser: outbound frames are cut at 4 KB. */
  browser: boolean;
  /** Safari: compressed messages are not fragmented. */
  noCompFrag: boolean;
  /** X-Forwarded-For, when it holds one IP address. */
  clientIP?: string;
  cookieJwt?: string;
  cookieUser?: string;
  cookiePass?: string;
  cookieToken?: string;
}

/** The outcome of checking an upgrade request: a 101 response to send, or an HTTP error and its reason. */
export type WsUpgradeResult =
  | { ok: true; upgrade: WsUpgrade; response: Uint8Array }
  | { ok: false; status: number; reason: string };

/** Checks a request as nats-server does, in its order, and builds the 101 response. */
export function checkUpgrade(r: WsHttpRequest, o: WsUpgradeOptions): WsUpgradeResult {
  const path = r.uri.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/, "");
  const kind = path.startsWith(WS_LEAF_PATH) ? "leaf" : path.startsWith(WS_MQTT_PATH) ? "mqtt" : "client";
  const fail = (status: number, reason: string): WsUpgradeResult => ({ ok: false, status, reason });
  if (r.method !== "GET") return fail(405, "request method must be GET");
  if (r.host === "") return fail(400, "'Host' missing in request");
  if (!headerContains(r, "upgrade", "websocket")) return fail(400, "invalid value for header 'Upgrade'");
  if (!headerContains(r, "connection", "Upgrade")) return fail(400, "invalid value for header 'Connection'");
  const key = headerGet(r, "sec-websocket-key");
  if (key === "") return fail(400, "key missing");
  if (!headerContains(r, "sec-websocket-version", "13")) return fail(400, "invalid version");
  const originErr = checkOrigin(r, o);
  if (originErr !== undefined) return fail(403, `origin not allowed: ${originErr}`);
  const compress = o.compression && pmcExtensionOffered(r);
  const noMasking = headerGet(r, "nats-no-masking") === "true" && !o.rejectNoMasking;
  let res = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${wsAcceptKey(key)}\r\n`;
  if (compress) res += PMC_RESPONSE;
  if (noMasking) res += `${WS_NO_MASKING_HEADER}: true\r\n`;
  if (kind === "mqtt") res += "Sec-Websocket-Protocol: mqtt\r\n";
  for (const [k, v] of Object.entries(o.headers)) res += `${k}: ${v}\r\n`;
  res += "\r\n";
  const up: WsUpgrade = { kind, compress, noMasking, browser: false, noCompFrag: false };
  const xff = r.headers.get("x-forwarded-for");
  if (xff !== undefined && isIP(xff[0])) up.clientIP = xff[0];
  if (kind !== "leaf") {
    const ua = headerGet(r, "user-agent");
    if (ua.startsWith("Mozilla/")) {
      up.browser = true;
      up.noCompFrag = compress && ua.includes("Version/") && ua.includes("Safari/");
    }
    up.cookieJwt = cookieValue(r, o.jwtCookie);
    up.cookieUser = cookieValue(r, o.userCookie);
    up.cookiePass = cookieValue(r, o.passCookie);
    up.cookieToken = cookieValue(r, o.tokenCookie);
  }
  return { ok: true, upgrade: up, response: encoder.encode(res) };
}

/** An allowed origin's scheme and port, keyed by lower-case host. */
export interface AllowedOrigin {
  scheme: string;
  port: string;
}

/** Builds the allowed-origins map; origins that do not parse are reported through `onError` and skipped. */
export function parseAllowedOrigins(
  list: string[],
  onError: (msg: string) => void = () => {},
): Map<string, AllowedOrigin> {
  const m = new Map<string, AllowedOrigin>();
  for (const ao of list) {
    const u = parseRequestUri(ao);
    if (typeof u === "string") {
      onError(`error parsing allowed origin: ${u}`);
      continue;
    }
    const hp = hostAndPort(u.scheme === "https", u.host);
    m.set(typeof hp === "string" ? u.host.toLowerCase() : hp.host, {
      scheme: u.scheme,
      port: typeof hp === "string" ? "" : hp.port,
    });
  }
  return m;
}

/**
 * nats-server's origin rule: with neither same_origin nor allowed origins, or with no Origin header (nor
 * Sec-Websocket-Origin), any request passes. Returns the reason for a refusal.
 */
export function checkOrigin(r: WsHttpRequest, o: WsUpgradeOptions): string | undefined {
  if (!o.sameOrigin && o.allowedOrigins.size === 0) return undefined;
  let origin = headerGet(r, "origin");
  if (origin === "") origin = headerGet(r, "sec-websocket-origin");
  if (origin === "") return undefined;
  const u = parseRequestUri(origin);
  if (typeof u === "string") return u;
  const ohp = hostAndPort(u.scheme === "https", u.host);
  if (typeof ohp === "string") return ohp;
  if (o.sameOrigin) {
    const rhp = hostAndPort(o.tls, r.host);
    if (typeof rhp === "string") return rhp;
    if (ohp.host !== rhp.host || ohp.port !== rhp.port) return "not same origin";
  }
  if (o.allowedOrigins.size > 0) {
    const ao = o.allowedOrigins.get(ohp.host);
    if (ao === undefined || u.scheme !== ao.scheme || ohp.port !== ao.port) return "not in the allowed list";
  }
  return undefined;
}

/** Go's url.ParseRequestURI, reduced to what the origin checks use; a string is the error text. */
function parseRequestUri(s: string): { scheme: string; host: string } | string {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/.exec(s);
  if (m === null) {
    if (s.startsWith("/")) return { scheme: "", host: "" };
    return `parse ${JSON.stringify(s)}: invalid URI for request`;
  }
  const rest = m[2];
  if (!rest.startsWith("/")) return `parse ${JSON.stringify(s)}: invalid URI for request`;
  if (!rest.startsWith("//")) return { scheme: m[1].toLowerCase(), host: "" };
  const end = rest.slice(2).search(/[/?#]/);
  let host = end < 0 ? rest.slice(2) : rest.slice(2, 2 + end);
  const at = host.lastIndexOf("@");
  if (at >= 0) host = host.slice(at + 1);
  const colon = host.lastIndexOf(":");
  if (colon >= 0 && !host.startsWith("[")) {
    const port = host.slice(colon + 1);
    if (!/^\d*$/.test(port)) {
      return `parse ${JSON.stringify(s)}: invalid port ${JSON.stringify(":" + port)} after host`;
    }
  }
  return { scheme: m[1].toLowerCase(), host };
}

/** Go's net.SplitHostPort; a string is the error text. */
export function splitHostPort(hp: string): { host: string; port: string } | string {
  const missing = `address ${hp}: missing port in address`;
  if (hp.startsWith("[")) {
    const end = hp.indexOf("]");
    if (end < 0) return `address ${hp}: missing ']' in address`;
    if (end + 1 === hp.length) return missing;
    if (hp[end + 1] !== ":") return `address ${hp}: missing port in address`;
    return { host: hp.slice(1, end), port: hp.slice(end + 2) };
  }
  const i = hp.lastIndexOf(":");
  if (i < 0) return missing;
  const host = hp.slice(0, i);
  if (host.includes(":")) return `address ${hp}: too many colons in address`;
  return { host, port: hp.slice(i + 1) };
}

/** Host (lower case) and port of `hp`; a missing port defaults to 443 with TLS, else 80. */
function hostAndPort(tls: boolean, hp: string): { host: string; port: string } | string {
  const r = splitHostPort(hp);
  if (typeof r === "string") {
    if (!r.endsWith("missing port in address")) return r;
    return { host: hp.toLowerCase(), port: tls ? "443" : "80" };
  }
  return { host: r.host.toLowerCase(), port: r.port };
}

/** True for a textual IPv4 or IPv6 address (Go's net.ParseIP accepts it). */
function isIP(s: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s)) {
    return s.split(".").every((x) => Number(x) <= 255 && (x.length === 1 || x[0] !== "0"));
  }
  if (!s.includes(":") || !/^[0-9a-fA-F:.]+$/.test(s)) return false;
  try {
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}

/** Finds the end of an HTTP head in buf[0, n): the index after "\r\n\r\n", or -1. */
export function headEnd(buf: Uint8Array, n: number, from = 0): number {
  for (let i = Math.max(3, from); i < n; i++) {
    if (buf[i] === 0x0a && buf[i - 1] === 0x0d && buf[i - 2] === 0x0a && buf[i - 3] === 0x0d) return i + 1;
  }
  return -1;
}

/** Decodes a head as Go reads header bytes (one byte per char). */
export function decodeHead(b: Uint8Array): string {
  return latin1.decode(b);
}

/** The Go HTTP server's answer to headers over the size limit. */
export const TOO_LARGE = goServerError(431, "").response;
