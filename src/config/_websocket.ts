// The `websocket {}` (alias `ws`) block mapped onto Options, with its startup checks; keys, aliases and texts
// follow nats-server server/opts.go parseWebsocket/parseSimpleAuth and server/websocket.go
// validateWebsocketOptions (2.9.10), plus the later keys user_cookie, pass_cookie, token_cookie, headers and
// ping_interval.
import { parseDuration } from "../util/mod.ts";
import { parseTls } from "./_auth_tls.ts";
import type { ConfigValue } from "./_tree.ts";
import {
  asBool,
  asInt,
  asString,
  durationMs,
  FieldFault,
  goType,
  isMap,
  parseListen,
  type Ref,
  refOf,
  type Report,
  stringList,
} from "./_values.ts";
import type { TlsOptions } from "./options.ts";

/** WebSocket listener settings (nats-server's WebsocketOpts). */
export interface WebsocketOptions {
  host: string;
  /** 0: no listener; -1: a random port. */
  port: number;
  advertise: string;
  noAuthUser: string;
  jwtCookie: string;
  userCookie: string;
  passCookie: string;
  tokenCookie: string;
  /** The block's `authorization {}`: when username, token or no_auth_user is set it replaces the client's. */
  username: string;
  password: string;
  token: string;
  /** Seconds, as Go keeps it; 0: the server's auth timeout. */
  authTimeout: number;
  noTls: boolean;
  tls?: TlsOptions;
  sameOrigin: boolean;
  allowedOrigins: string[];
  compression: boolean;
  /** 0: no limit. */
  handshakeTimeoutMs: number;
  /** Extra headers in the 101 response. */
  headers: Record<string, string>;
  /** WebSocket-level pings; 0: none. */
  pingIntervalMs: number;
}

/** The zero WebsocketOptions: no listener. */
export function defaultWebsocketOptions(): WebsocketOptions {
  return {
    host: "",
    port: 0,
    advertise: "",
    noAuthUser: "",
    jwtCookie: "",
    userCookie: "",
    passCookie: "",
    tokenCookie: "",
    username: "",
    password: "",
    token: "",
    authTimeout: 0,
    noTls: false,
    sameOrigin: false,
    allowedOrigins: [],
    compression: false,
    handshakeTimeoutMs: 0,
    headers: {},
    pingIntervalMs: 0,
  };
}

/** Reads a `websocket {}` block into `w`; faults go to `report` at their own positions. */
export function parseWebsocket(w: WebsocketOptions, v: ConfigValue, report: Report): void {
  if (!isMap(v)) throw new FieldFault(`Expected websocket to be a map, got ${goType(v)}`);
  for (const [k, val] of Object.entries(v)) {
    const ref = refOf(v, k);
    report.guard(ref, () => {
      const kind = ref?.kind;
      switch (k.toLowerCase()) {
        case "listen": {
          const hp = parseListen(val, kind);
          w.host = hp.host;
          w.port = hp.port;
          break;
        }
        case "port":
          w.port = asInt(val, kind);
          break;
        case "host":
        case "net":
          w.host = asString(val, kind);
          break;
        case "advertise":
          w.advertise = asString(val, kind);
          break;
        case "no_tls":
          w.noTls = asBool(val, kind);
          break;
        case "tls":
          w.tls = parseTls(val, ref, true);
          break;
        case "same_origin":
          w.sameOrigin = asBool(val, kind);
          break;
        case "allowed_origins":
        case "allowed_origin":
        case "allow_origins":
        case "allow_origin":
        case "origins":
        case "origin":
          w.allowedOrigins = stringList("allowed origins", val, v, k, report);
          break;
        case "handshake_timeout":
          w.handshakeTimeoutMs = handshakeTimeout(val, ref, report);
          break;
        case "compress":
        case "compression":
          w.compression = asBool(val, kind);
          break;
        case "authorization":
        case "authentication":
          parseSimpleAuth(w, val, report);
          break;
        case "jwt_cookie":
          w.jwtCookie = asString(val, kind);
          break;
        case "user_cookie":
          w.userCookie = asString(val, kind);
          break;
        case "pass_cookie":
          w.passCookie = asString(val, kind);
          break;
        case "token_cookie":
          w.tokenCookie = asString(val, kind);
          break;
        case "no_auth_user":
          w.noAuthUser = asString(val, kind);
          break;
        case "headers":
          if (!isMap(val)) {
            throw new FieldFault(`error parsing headers: unsupported type ${goType(val, kind)}`);
          }
          for (const [hk, hv] of Object.entries(val)) w.headers[hk] = asString(hv, refOf(val, hk)?.kind);
          break;
        case "ping_interval":
          w.pingIntervalMs = typeof val === "string"
            ? durationMs("ping_interval", val)
            : asInt(val, kind) * 1000;
          break;
        default:
          report.unknownField(ref, k);
      }
    });
  }
}

function handshakeTimeout(v: ConfigValue, ref: Ref | undefined, report: Report): number {
  if (typeof v === "number" && ref?.kind !== "float" && Number.isInteger(v)) return v * 1000;
  if (typeof v === "string") {
    try {
      return parseDuration(v);
    } catch (e) {
      throw new FieldFault((e as Error).message);
    }
  }
  report.error(ref, `error parsing handshake timeout: unsupported type ${goType(v, ref?.kind)}`);
  return 0;
}

/** The websocket block's `authorization {}`: user/username, pass/password, token and timeout only. */
function parseSimpleAuth(w: WebsocketOptions, v: ConfigValue, report: Report): void {
  if (!isMap(v)) {
    throw new FieldFault(`interface conversion: interface {} is ${goType(v)}, not map[string]interface {}`);
  }
  for (const [k, val] of Object.entries(v)) {
    const ref = refOf(v, k);
    report.guard(ref, () => {
      switch (k.toLowerCase()) {
        case "user":
        case "username":
          w.username = asString(val, ref?.kind);
          break;
        case "pass":
        case "password":
          w.password = asString(val, ref?.kind);
          break;
        case "token":
          w.token = asString(val, ref?.kind);
          break;
        case "timeout":
          w.authTimeout = typeof val === "number" ? val : 1;
          break;
        default:
          report.unknownField(ref, k);
      }
    });
  }
}

/** The options the websocket checks read (a structural subset of Options). */
export interface WebsocketCheckOptions {
  websocket: WebsocketOptions;
  users: { username: string }[];
  nkeys: unknown[];
  trustedOperators?: unknown[];
  trustedKeys?: unknown[];
}

/** nats-server's validateWebsocketOptions; throws Error with its text. */
export function validateWebsocketOptions(o: WebsocketCheckOptions): void {
  const w = o.websocket;
  if (w.port === 0) return;
  if (w.tls === undefined && !w.noTls) throw new Error("websocket requires TLS configuration");
  for (const ao of w.allowedOrigins) {
    const err = urlParseError(ao);
    if (err !== undefined) throw new Error(`unable to parse allowed origin: ${err}`);
  }
  if (w.noAuthUser !== "") {
    if (o.users.length === 0) {
      throw new Error(`no_auth_user: "${w.noAuthUser}" present, but users are not defined`);
    }
    if (!o.users.some((u) => u.username === w.noAuthUser)) {
      throw new Error(
        `no_auth_user: "${w.noAuthUser}" not present as user in authorization block or account configuration`,
      );
    }
  }
  if (o.users.length > 0 || o.nkeys.length > 0) {
    if (w.username !== "") {
      throw new Error("websocket authentication username not compatible with presence of users/nkeys");
    }
    if (w.token !== "") {
      throw new Error("websocket authentication token not compatible with presence of users/nkeys");
    }
  }
  if (w.jwtCookie !== "" && (o.trustedOperators ?? []).length === 0 && (o.trustedKeys ?? []).length === 0) {
    throw new Error(
      `trusted operators or trusted keys configuration is required for JWT authentication via cookie ${
        JSON.stringify(w.jwtCookie)
      }`,
    );
  }
}

/** The error Go's url.Parse reports for the origin URLs people write, or undefined when it parses. */
function urlParseError(s: string): string | undefined {
  const q = JSON.stringify(s);
  if (s.startsWith(":")) return `parse ${q}: missing protocol scheme`;
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:(.*)$/.exec(s);
  if (m === null) {
    const seg = s.split("/")[0];
    return seg.includes(":") ? `parse ${q}: first path segment in URL cannot contain colon` : undefined;
  }
  if (!m[1].startsWith("//")) return undefined;
  let host = m[1].slice(2).split(/[/?#]/)[0];
  host = host.slice(host.lastIndexOf("@") + 1);
  if (host.startsWith("[")) return undefined;
  const c = host.lastIndexOf(":");
  if (c >= 0 && !/^\d*$/.test(host.slice(c + 1))) {
    return `parse ${q}: invalid port ${JSON.stringify(host.slice(c))} after host`;
  }
  return undefined;
}
