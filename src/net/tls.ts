// Server-side TLS for client connections: a node:tls server fed accepted sockets with emit("connection"),
// so client chains are verified (requestCert/ca) and peer certificates are readable for verify_and_map.
// Behaviour follows nats-server server/server.go (createClient TLS path), server/client.go (doTLSHandshake)
// and server/opts.go (GenTLSConfig).
import * as tls from "node:tls";
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { setImmediate } from "node:timers";
import type { Buffer } from "node:buffer";
import type { Transport } from "./transport.ts";
import { TransportDuplex } from "./_tls_duplex.ts";

/** The first byte of a TLS handshake record (a ClientHello), as nats-server tests it for allow_non_tls. */
export const TLS_HANDSHAKE_BYTE = 0x16;

/** What the TLS layer needs of a `tls {}` block (a structural subset of the config's TlsOptions). */
export interface TlsSettings {
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  verify?: boolean;
  minVersion?: string;
  cipherSuites?: string[];
  curvePreferences?: string[];
  pinnedCerts?: string[];
  certs?: { certFile: string; keyFile: string }[];
}

/** A handshake that failed; `message` is the text nats-server logs after "TLS handshake error: ". */
export class TlsHandshakeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TlsHandshakeError";
  }
}

/**
 * The settings natsdeno cannot apply: Deno's node:tls runs on rustls, which ignores `ciphers` and
 * `ecdhCurve` and always offers its own AEAD-only suites and curves (X25519, P-256, P-384).
 */
export function unsupportedTlsSettings(s: TlsSettings): string[] {
  const out: string[] = [];
  if (s.cipherSuites && s.cipherSuites.length > 0) out.push("cipher_suites");
  if (s.curvePreferences && s.curvePreferences.length > 0) out.push("curve_preferences");
  return out;
}

/**
 * Accepts the server side of TLS handshakes for one configuration. Build a new one to change
 * certificates (reload): connections already established keep theirs.
 */
export class TlsAcceptor {
  /** Client certificates are required and verified (INFO tls_verify). */
  readonly verify: boolean;
  /** Certificates and keys, loaded once. */
  readonly #creds: { cert: Buffer | Buffer[]; key: Buffer | Buffer[]; ca?: Buffer };
  /** The secure context built from #creds once; every handshake's server shares it. */
  readonly #ctx: tls.SecureContext;
  /** Per-handshake server options (no certificates: those come from #ctx). */
  readonly #serverOpts: tls.TlsOptions;
  readonly #pins: Set<string> | undefined;
  readonly #minVersion: tls.SecureVersion;

  /** Loads the certificate files; throws with nats-server's wording when one cannot be read. */
  constructor(s: TlsSettings) {
    const certs: Buffer[] = [];
    const keys: Buffer[] = [];
    const pairs = [
      ...(s.certFile ? [{ certFile: s.certFile, keyFile: s.keyFile ?? "" }] : []),
      ...(s.certs ?? []),
    ];
    for (const p of pairs) {
      try {
        certs.push(readFileSync(p.certFile));
        keys.push(readFileSync(p.keyFile));
      } catch (e) {
        throw new Error(`error parsing X509 certificate/key pair: ${(e as Error).message}`, { cause: e });
      }
    }
    let ca: Buffer | undefined;
    if (s.caFile) {
      try {
        ca = readFileSync(s.caFile);
      } catch (e) {
        throw new Error(`failed to parse root ca certificate: ${(e as Error).message}`, { cause: e });
      }
    }
    this.#minVersion = s.minVersion === "1.3" ? "TLSv1.3" : "TLSv1.2";
    this.#creds = {
      cert: certs.length === 1 ? certs[0] : certs,
      key: keys.length === 1 ? keys[0] : keys,
      ...(ca !== undefined ? { ca } : {}),
    };
    try {
      // Parses the PEM now, so a bad file fails at startup or reload rather than at the first client.
      this.#ctx = tls.createSecureContext({ ...this.#creds, minVersion: this.#minVersion });
    } catch (e) {
      throw new Error(`error parsing X509 certificate/key pair: ${(e as Error).message}`, { cause: e });
    }
    this.verify = !!s.verify;
    this.#serverOpts = {
      // The chain is verified either way; refusing here (not inside node's TLS layer) keeps the reason,
      // which node drops when it destroys an unauthorized socket itself.
      requestCert: this.verify,
      rejectUnauthorized: false,
      minVersion: this.#minVersion,
    };
    this.#pins = s.pinnedCerts && s.pinnedCerts.length > 0
      ? new Set(s.pinnedCerts.map((p) => p.toLowerCase()))
      : undefined;
  }

  /**
   * A tls.Server for one handshake: one per connection ties the handshake's events to this socket (a
   * shared server only reports the TLSSocket, with no public link back to the stream it runs over).
   * Building one from PEM costs ~0.3 ms (node re-parses and re-validates the key); without certificates
   * ~0.03 ms, so it gets the acceptor's secure context instead. `_sharedCreds` is where node's and Deno's
   * tls.Server keep the context their connections use; if a runtime lacks it, the public
   * setSecureContext() builds one from the cached bytes.
   */
  #server(): tls.Server {
    const srv = tls.createServer(this.#serverOpts);
    const internal = srv as unknown as { _sharedCreds?: tls.SecureContext };
    if (internal._sharedCreds !== undefined) internal._sharedCreds = this.#ctx;
    else srv.setSecureContext({ ...this.#creds, minVersion: this.#minVersion });
    return srv;
  }

  /**
   * Runs the server side of a handshake over `conn`. `pre` holds bytes already read from it (the start
   * of the ClientHello). Rejects with TlsHandshakeError; the caller owns the timeout (closing `conn`
   * makes this reject).
   */
  accept(conn: Transport, pre?: Uint8Array): Promise<TlsTransport> {
    const duplex = new TransportDuplex(conn, pre);
    const srv = this.#server();
    return new Promise<TlsTransport>((resolve, reject) => {
      let done = false;
      const fail = (e: unknown) => {
        if (done) return;
        done = true;
        duplex.destroy();
        reject(e instanceof TlsHandshakeError ? e : new TlsHandshakeError(goHandshakeText(e), { cause: e }));
      };
      srv.once("secureConnection", (sock: tls.TLSSocket) => {
        if (done) {
          sock.destroy();
          return;
        }
        const t = new TlsTransport(sock);
        if (this.verify && !sock.authorized) {
          const text = verifyErrorText(sock.authorizationError, t);
          t.close();
          fail(new TlsHandshakeError(text));
          return;
        }
        if (this.#pins !== undefined && !this.#pins.has(t.peerSpkiSha256() ?? "")) {
          t.close();
          fail(new TlsHandshakeError("certificate not pinned"));
          return;
        }
        done = true;
        resolve(t);
      });
      srv.once("tlsClientError", (e: Error) => fail(e));
      // The TLS layer reports its own error (tlsClientError) just after the socket closes: let it win.
      duplex.once("close", () => setImmediate(() => fail(new TlsHandshakeError("EOF"))));
      duplex.once("error", (e: Error) => fail(e));
      srv.emit("connection", duplex);
    });
  }
}

/** Go's wording for a client certificate that failed verification. */
function verifyErrorText(code: Error | string | null | undefined, t: TlsTransport): string {
  const c = typeof code === "string" ? code : (code as { code?: string } | null)?.code ?? String(code ?? "");
  if (t.peerCertificates().length === 0) return "tls: client didn't provide a certificate";
  const pre = "tls: failed to verify client certificate: x509: ";
  if (/EXPIRED|NOT_YET_VALID/.test(c)) return pre + "certificate has expired or is not yet valid";
  if (/ISSUER|LEAF_SIGNATURE|SELF_SIGNED|UNTRUSTED/.test(c)) {
    return pre + "certificate signed by unknown authority";
  }
  if (/PURPOSE|USAGE/.test(c)) return pre + "certificate specifies an incompatible key usage";
  return pre + c;
}

/** Go's wording for the handshake failures clients cause most often. */
function goHandshakeText(e: unknown): string {
  const err = e as { message?: string; code?: string };
  const m = err?.message ?? String(e);
  const code = err?.code ?? "";
  if (code === "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE" || /no certificates/i.test(m)) {
    return "tls: client didn't provide a certificate";
  }
  if (/UnknownIssuer|unknown ?issuer|unable to get (local )?issuer|self.signed/i.test(m)) {
    return "tls: failed to verify client certificate: x509: certificate signed by unknown authority";
  }
  if (/Expired|expired/.test(m)) {
    return "tls: failed to verify client certificate: x509: certificate has expired or is not yet valid";
  }
  if (/ProtocolVersion|NotOfferedOrEnabled|unsupported protocol/i.test(m)) {
    return "tls: client offered only unsupported versions";
  }
  if (/received fatal alert: (\w+)/i.test(m)) {
    const alert = /received fatal alert: (\w+)/i.exec(m)![1];
    return `remote error: tls: ${alertText(alert)}`;
  }
  if (/ECONNRESET|EOF|closed|aborted/i.test(m)) return "EOF";
  return m;
}

function alertText(a: string): string {
  switch (a) {
    case "BadCertificate":
      return "bad certificate";
    case "UnknownCA":
      return "unknown certificate authority";
    case "CertificateUnknown":
      return "bad certificate";
    case "DecryptError":
      return "error decrypting message";
    case "HandshakeFailure":
      return "handshake failure";
    default:
      return a.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  }
}

const EMPTY = new Uint8Array(0);
/** Decrypted bytes a TlsTransport holds for its reader before it pauses the socket. */
const PAUSE_BYTES = 256 * 1024;

/**
 * A Transport over an established TLS socket. Decrypted chunks queue until read() takes them; the socket
 * is paused while more than PAUSE_BYTES wait, so a slow reader pushes back on the sender.
 */
export class TlsTransport implements Transport {
  readonly #sock: tls.TLSSocket;
  #chunks: Uint8Array[] = [];
  /** Bytes in #chunks not yet read. */
  #queued = 0;
  #head = 0;
  #off = 0;
  #ended = false;
  #error: Error | undefined;
  #waiter: ((v: void) => void) | undefined;
  #closed = false;

  constructor(sock: tls.TLSSocket) {
    this.#sock = sock;
    sock.on("data", (d: Uint8Array) => {
      this.#chunks.push(d);
      this.#queued += d.length;
      // Pausing and resuming costs a native readStart each time (~4% of TLS pub/sub CPU when done per
      // chunk), so the socket only pauses once a reader falls well behind.
      if (this.#queued > PAUSE_BYTES) sock.pause();
      this.#wake();
    });
    sock.on("end", () => {
      this.#ended = true;
      this.#wake();
    });
    sock.on("close", () => {
      this.#ended = true;
      this.#wake();
    });
    sock.on("error", (e: Error) => {
      this.#error ??= e;
      this.#wake();
    });
  }

  #wake(): void {
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w();
    }
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#head === this.#chunks.length) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended || this.#closed) return null;
      if (this.#sock.isPaused()) this.#sock.resume();
      await new Promise<void>((r) => this.#waiter = r);
    }
    const c = this.#chunks[this.#head];
    const n = Math.min(p.length, c.length - this.#off);
    p.set(n === c.length && this.#off === 0 ? c : c.subarray(this.#off, this.#off + n));
    this.#off += n;
    this.#queued -= n;
    if (this.#off === c.length) {
      this.#chunks[this.#head++] = EMPTY;
      this.#off = 0;
      if (this.#head === this.#chunks.length) {
        this.#chunks = [];
        this.#head = 0;
        if (this.#sock.isPaused()) this.#sock.resume();
      }
    }
    return n;
  }

  /** Resolves once the TLS layer has taken `p` (so the caller may reuse it). */
  write(p: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new Error("connection closed"));
    return new Promise<number>((resolve, reject) => {
      this.#sock.write(p, (err?: Error | null) => err ? reject(err) : resolve(p.length));
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sock.destroy();
    this.#wake();
  }

  /** Negotiated version as nats-server prints it: "1.2", "1.3". */
  get version(): string {
    const p = this.#sock.getProtocol() ?? "";
    return p.startsWith("TLSv") ? p.slice(4) : p;
  }

  /** Negotiated cipher suite, by the name nats-server prints for it. */
  get cipherSuite(): string {
    const c = this.#sock.getCipher();
    return goCipherName(c?.standardName ?? c?.name ?? "");
  }

  /**
   * The peer's certificates as DER, leaf first, as the client sent them (the self-signed root the chain
   * was verified against is left out); empty when the client sent none.
   */
  peerCertificates(): Uint8Array[] {
    const out: Uint8Array[] = [];
    let c = this.#sock.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
    const seen = new Set<unknown>();
    while (c && c.raw && !seen.has(c)) {
      seen.add(c);
      const root = c.issuerCertificate === c || c.issuerCertificate === undefined;
      if (out.length > 0 && root && c.issuer && c.subject && sameName(c.issuer, c.subject)) break;
      out.push(new Uint8Array(c.raw));
      if (root) break;
      c = c.issuerCertificate;
    }
    return out;
  }

  /** Lower-case hex sha256 of the leaf certificate's DER SubjectPublicKeyInfo (for pinned_certs). */
  peerSpkiSha256(): string | undefined {
    const leaf = this.peerCertificates()[0];
    return leaf === undefined ? undefined : spkiSha256(leaf);
  }
}

function sameName(a: tls.Certificate, b: tls.Certificate): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Lower-case hex sha256 of a DER certificate's SubjectPublicKeyInfo, as pinned_certs lists them. */
export function spkiSha256(der: Uint8Array): string {
  const spki = new X509Certificate(der).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex");
}

/** Cipher suites by IANA id, named as Go's crypto/tls names them (nats-server's tlsCipher table). */
const CIPHERS_BY_ID: ReadonlyMap<number, string> = new Map([
  [0x0005, "TLS_RSA_WITH_RC4_128_SHA"],
  [0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"],
  [0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"],
  [0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"],
  [0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"],
  [0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"],
  [0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"],
  [0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"],
  [0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"],
  [0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"],
  [0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"],
  [0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"],
  [0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"],
  [0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"],
  [0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"],
  [0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
  [0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
  [0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"],
  [0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"],
  [0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"],
  [0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"],
  [0x1301, "TLS_AES_128_GCM_SHA256"],
  [0x1302, "TLS_AES_256_GCM_SHA384"],
  [0x1303, "TLS_CHACHA20_POLY1305_SHA256"],
]);

/** A TLS protocol version number as nats-server prints it: "1.2", or "Unknown [0x999]". */
export function tlsVersion(ver: number): string {
  switch (ver) {
    case 0x0301:
      return "1.0";
    case 0x0302:
      return "1.1";
    case 0x0303:
      return "1.2";
    case 0x0304:
      return "1.3";
  }
  return `Unknown [0x${ver.toString(16)}]`;
}

/** A cipher suite id as nats-server prints it: Go's name, or "Unknown [0x9999]". */
export function tlsCipher(id: number): string {
  return CIPHERS_BY_ID.get(id) ?? `Unknown [0x${id.toString(16)}]`;
}

/** Go names the ECDHE ChaCha20 suites without the IANA "_SHA256" suffix; the rest match IANA names. */
function goCipherName(iana: string): string {
  return /^TLS_ECDHE_(RSA|ECDSA)_WITH_CHACHA20_POLY1305_SHA256$/.test(iana) ? iana.slice(0, -7) : iana;
}
