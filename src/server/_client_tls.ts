// The TLS start of a client connection: INFO before or after the handshake (handshake_first and its
// fallback delay), allow_non_tls detection of a ClientHello, the handshake timeout and the rate limit.
// Behaviour follows nats-server server/server.go (createClient) and server/client.go (doTLSHandshake).
import { createHash } from "node:crypto";
import { encoder } from "../util/mod.ts";
import { parseCertIdentity } from "../auth/mod.ts";
import {
  spkiSha256,
  TLS_HANDSHAKE_BYTE,
  type TlsAcceptor,
  TlsHandshakeError,
  type Transport,
} from "../net/mod.ts";
import { ClosedState } from "./closed_state.ts";
import type { Client } from "./client.ts";

/** How one connection starts TLS, from the server's settings at accept time. */
export interface ClientTlsStart {
  acceptor: TlsAcceptor;
  /** handshake_first: the handshake comes before INFO. */
  handshakeFirst: boolean;
  /** With handshake_first, how long to wait for a ClientHello before sending INFO anyway (0: never). */
  fallbackMs: number;
  /** allow_non_tls: a client that does not start with a ClientHello stays plaintext. */
  allowNonTls: boolean;
  /** tls timeout, for the handshake (and the allow_non_tls peek). */
  timeoutMs: number;
  /** INFO to send when the handshake comes first (tls_required always true). */
  infoTlsFirst: string;
  /** False when connection_rate_limit refuses this handshake. */
  allow: () => boolean;
}

/** A read already issued on a transport, landing in `buf`. */
export interface PendingRead {
  read: Promise<number | null>;
  buf: Uint8Array;
}

const PEEK_SIZE = 4096;
const TIMED_OUT = Symbol("timeout");

/** Runs the TLS start of `c` over its plain transport `raw`; never rejects (failures close `c`). */
export function startClientTls(c: Client, raw: Transport, info: string, t: ClientTlsStart): void {
  run(c, raw, info, t).catch((e) => fail(c, e));
}

function fail(c: Client, e: unknown): void {
  if (c.closed) return;
  const log = c.server.log;
  if (e instanceof TlsHandshakeError) log.error(`${c} - TLS handshake error: ${e.message}`);
  else log.error(`${c} - TLS handshake error: ${(e as Error)?.message ?? e}`);
  c.close(ClosedState.TLSHandshakeError);
}

function within(p: Promise<number | null>, ms: number, c: Client): Promise<number | null | typeof TIMED_OUT> {
  return new Promise((resolve, reject) => {
    const timer = c.server.timers.after(ms, () => resolve(TIMED_OUT));
    p.then((v) => {
      c.server.timers.cancel(timer);
      resolve(v);
    }, (e) => {
      c.server.timers.cancel(timer);
      reject(e);
    });
  });
}

function sendInfo(c: Client, info: string): void {
  c.enqueue(encoder.encode(info));
  c.flush();
}

async function run(c: Client, raw: Transport, info: string, t: ClientTlsStart): Promise<void> {
  const s = c.server;
  let tlsFirst = t.handshakeFirst;
  let first: PendingRead | undefined;
  const peek = () => first ??= { buf: new Uint8Array(PEEK_SIZE), read: Promise.resolve(null) };
  const issue = () => {
    const p = peek();
    p.read = raw.read(p.buf);
    // A failed read closes the connection through the handshake path; keep it from going unhandled.
    p.read.catch(() => {});
    return p;
  };
  if (!tlsFirst) sendInfo(c, info);
  else if (t.fallbackMs > 0) {
    // Only a client doing TLS first speaks before INFO: silence means an older client, so send INFO.
    const p = issue();
    if (await within(p.read, t.fallbackMs, c) === TIMED_OUT) {
      tlsFirst = false;
      sendInfo(c, info);
    }
  }
  if (c.closed) return;
  if (!tlsFirst && t.allowNonTls) {
    const p = first ?? issue();
    const r = await within(p.read, t.timeoutMs, c);
    if (c.closed) return;
    if (r === TIMED_OUT || r === null || r === 0 || p.buf[0] !== TLS_HANDSHAKE_BYTE) {
      // A plaintext client: its first bytes (or the read still pending) go to the parser.
      c.startSession(p);
      return;
    }
  }
  if (!t.allow()) {
    c.sendErr("Connection throttling is active. Please try again later.");
    c.close(ClosedState.MaxConnectionsExceeded);
    return;
  }
  s.log.debug(`${c} - Starting TLS client connection handshake`);
  let done = false;
  const timer = s.timers.after(t.timeoutMs, () => {
    if (done || c.closed) return;
    s.log.error(`${c} - TLS handshake error: ${timeoutText(raw, c)}`);
    s.log.error(`${c} - TLS handshake timeout`);
    if (s.trace) s.log.trace(`${c} - ->> [-ERR Secure Connection - TLS Required]`);
    c.close(ClosedState.TLSHandshakeError);
  });
  try {
    const p = first ?? issue();
    const n = await p.read;
    if (c.closed) return;
    if (n === null || n === 0) throw new TlsHandshakeError("EOF");
    if (p.buf[0] !== TLS_HANDSHAKE_BYTE) {
      throw new TlsHandshakeError("tls: first record does not look like a TLS handshake");
    }
    const tt = await t.acceptor.accept(raw, p.buf.slice(0, n));
    if (c.closed) {
      tt.close();
      return;
    }
    done = true;
    c.setTransport(tt);
    c.tlsVersion = tt.version;
    c.tlsCipher = tt.cipherSuite;
    c.tlsPeerCerts = tt.peerCertificates();
  } finally {
    done = true;
    s.timers.cancel(timer);
  }
  if (tlsFirst) sendInfo(c, t.infoTlsFirst);
  c.startSession();
  s.log.debug(`${c} - TLS handshake complete`);
  s.log.debug(`${c} - TLS version ${c.tlsVersion}, cipher suite ${c.tlsCipher}`);
}

/** Go's text for a handshake read that hit its deadline. */
function timeoutText(raw: Transport, c: Client): string {
  const la = (raw as Partial<Deno.Conn>).localAddr as Deno.NetAddr | undefined;
  if (la === undefined || la.hostname === undefined) return "i/o timeout";
  const hp = (h: string, p: number) => h.includes(":") ? `[${h}]:${p}` : `${h}:${p}`;
  return `read tcp ${hp(la.hostname, la.port)}->${hp(c.host, c.port)}: i/o timeout`;
}

/** One peer certificate as /connz lists it (nats-server's TLSPeerCert). */
export interface TlsPeerCert {
  subject: string;
  "spki_sha256": string;
  "cert_sha256": string;
}

/**
 * The peer certificates of a TLS client, leaf first, with the subject as Go prints it and the sha256 of
 * the SubjectPublicKeyInfo and of the whole DER; undefined for a plain client or one that sent none.
 */
export function tlsPeerCerts(c: Client): TlsPeerCert[] | undefined {
  const certs = c.tlsPeerCerts;
  if (certs === undefined || certs.length === 0) return undefined;
  return certs.map((der) => {
    let subject = "";
    try {
      subject = parseCertIdentity(der).nameString;
    } catch {
      // Malformed DER was already refused by the handshake; keep the hashes anyway.
    }
    return {
      subject,
      "spki_sha256": spkiSha256(der),
      "cert_sha256": createHash("sha256").update(der).digest("hex"),
    };
  });
}
