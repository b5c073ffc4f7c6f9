// The /varz "websocket" object (nats-server monitor.go WebsocketOptsVarz): every field omitted when empty.
import type { Server } from "../server/mod.ts";
import { msToNs } from "./_format.ts";

/** The websocket settings as /varz shows them; `{}` when there is no websocket listener. */
export function websocketBlock(s: Server): Record<string, unknown> {
  const w = s.opts.websocket;
  const pinned = w.tls?.pinnedCerts ?? [];
  return {
    host: w.host || undefined,
    port: w.port || undefined,
    advertise: w.advertise || undefined,
    "no_auth_user": w.noAuthUser || undefined,
    "jwt_cookie": w.jwtCookie || undefined,
    "handshake_timeout": w.handshakeTimeoutMs ? msToNs(w.handshakeTimeoutMs) : undefined,
    "auth_timeout": w.authTimeout || undefined,
    "no_tls": w.noTls || undefined,
    "tls_map": w.tls?.verifyAndMap || undefined,
    "tls_pinned_certs": pinned.length > 0 ? pinned : undefined,
    "same_origin": w.sameOrigin || undefined,
    "allowed_origins": w.allowedOrigins.length > 0 ? w.allowedOrigins : undefined,
    compression: w.compression || undefined,
  };
}
