// Authorization callout: the server asks a service in the callout account to authorize a connection with an
// `authorization_request` JWT signed by the server's own key on `$SYS.REQ.USER.AUTH`, and applies the signed
// `authorization_response` (a user JWT, or an error). Server configuration mode takes the callout from
// `authorization { auth_callout {} }`; operator mode from the `authorization` section of the account JWT the
// connecting (sentinel) user belongs to. Behaviour follows nats-server server/auth_callout.go
// (processClientOrLeafCallout) and the callout part of server/auth.go.
import { createHash, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { Buffer } from "node:buffer";
import * as nkeys from "@nats-io/nkeys";
import {
  type AuthResult,
  ClientPermissions,
  decodeGeneric,
  decodeUserClaims,
  type GenericClaims,
  permissionsFromJwt,
  type UserClaims,
  validateClaims,
  validateTimes,
} from "../auth/mod.ts";
import type { AuthCalloutOptions, Permissions } from "../config/mod.ts";
import type { ConnectOptions } from "../protocol/mod.ts";
import { VERSION } from "../protocol/mod.ts";
import { randomBase32, type TimerEntry } from "../util/mod.ts";
import type { Client } from "./client.ts";
import { ClosedState } from "./closed_state.ts";
import type { Server } from "./server.ts";
import type { Account } from "./account.ts";
import type { JwtAccount } from "./_resolver_config.ts";

/** An operator-mode callout: the account the sentinel user is in, and its JWT state. */
export interface OperatorCalloutTarget {
  acc: Account;
  ja: JwtAccount;
}

/** Where authorization requests go. */
export const AUTH_CALLOUT_SUBJECT = "$SYS.REQ.USER.AUTH";
/** The audience of authorization requests. */
export const AUTH_REQUEST_AUDIENCE = "nats-authorization-request";
/** The header naming the server's public xkey on encrypted requests. */
export const AUTH_REQUEST_XKEY_HEADER = "Nats-Server-Xkey";
/** nats-server's default auth timeout, which bounds the wait for a response. */
const DEFAULT_AUTH_TIMEOUT_MS = 2000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const JWT_PREFIX = "eyJ";

/** A key pair made with node:crypto (nkeys' own Ed25519 is far slower), with its nkey public key. */
interface FastKey {
  pub: string;
  priv: KeyObject;
}

/** The server's own nkey identity: its public key is the server id; it signs authorization requests. */
export interface ServerKey {
  pub: string;
  sign(data: Uint8Array): Uint8Array;
}

/** A new server nkey pair (prefix N), made with node:crypto. */
export function newServerKey(): ServerKey {
  const k = fastKey(PREFIX_SERVER);
  return { pub: k.pub, sign: (d) => new Uint8Array(sign(null, d, k.priv)) };
}

/** nkey prefix bytes of public keys. */
const PREFIX_SERVER = 13 << 3;
const PREFIX_USER = 20 << 3;

function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const x of data) {
    crc ^= x << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The nkey text of a 32-byte public key: prefix, key, CRC-16 (little endian), base32 without padding. */
function encodePublicNkey(prefix: number, key: Uint8Array): string {
  const raw = new Uint8Array(35);
  raw[0] = prefix;
  raw.set(key, 1);
  const crc = crc16(raw.subarray(0, 33));
  raw[33] = crc & 0xff;
  raw[34] = crc >> 8;
  return base32(raw);
}

function fastKey(prefix: number): FastKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  return { pub: encodePublicNkey(prefix, new Uint8Array(raw)), priv: privateKey };
}

/** A fresh user public key: nobody holds its private key, so a response can only be for this request. */
function ephemeralUserKey(): string {
  return encodePublicNkey(PREFIX_USER, crypto.getRandomValues(new Uint8Array(32)));
}

function b64url(s: string | Uint8Array): string {
  return Buffer.from(typeof s === "string" ? encoder.encode(s) : s).toString("base64url");
}

function base32(b: Uint8Array): string {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const x of b) {
    acc = (acc << 8) | x;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += A[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += A[(acc << (5 - bits)) & 31];
  return out;
}

/** Encodes and signs claims of any NATS claim type (the library's Encode: header, jti, iat, iss). */
export function encodeClaims(
  type: string,
  claims: Record<string, unknown>,
  signer: { pub: string; sign(data: Uint8Array): Uint8Array },
): string {
  const base: Record<string, unknown> = { ...claims, iat: Math.floor(Date.now() / 1000), iss: signer.pub };
  delete base.nats;
  const nats = { ...(claims.nats as Record<string, unknown> ?? {}), type, version: 2 };
  const jti = base32(
    new Uint8Array(createHash("sha512-256").update(JSON.stringify({ ...base, nats })).digest()),
  );
  const payload = { jti, ...base, nats };
  const head = `${b64url(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" }))}.${
    b64url(JSON.stringify(payload))
  }`;
  return `${head}.${b64url(signer.sign(encoder.encode(head)))}`;
}

function titleCase(m: string): string {
  return m.length === 0 ? m : m[0].toUpperCase() + m.slice(1);
}

/**
 * The authorization callout of one server: server configuration mode (`opts` given) or operator mode (`opts`
 * undefined; each check names the account whose JWT enables external authorization).
 */
export class AuthCallout {
  readonly server: Server;
  readonly opts: AuthCalloutOptions | undefined;
  /** The server's curve key pair, made when requests may be encrypted (an xkey configured, or operator mode). */
  readonly #xkp: ReturnType<typeof nkeys.createCurve> | undefined;
  readonly xkeyPub: string | undefined;
  readonly #expiry = new Map<Client, TimerEntry>();

  constructor(server: Server, opts: AuthCalloutOptions | undefined) {
    this.server = server;
    this.opts = opts;
    if (opts === undefined || opts.xkey) {
      this.#xkp = nkeys.createCurve();
      this.xkeyPub = this.#xkp.getPublicKey();
    }
    server.onClientClosed.push((c) => {
      const t = this.#expiry.get(c);
      if (t !== undefined) {
        server.timers.cancel(t);
        this.#expiry.delete(c);
      }
    });
  }

  /** True when this CONNECT goes to the (server configuration) callout: its user is not one of `auth_users`. */
  applies(o: ConnectOptions): boolean {
    const who = o.nkey || o.user || "";
    return !(this.opts?.authUsers ?? []).includes(who);
  }

  /**
   * Asks the callout service to authorize `c`; resolves to the user, or undefined for "Authorization
   * Violation" (the reason is logged). Never rejects. `op`: the operator-mode account running the callout.
   */
  check(c: Client, o: ConnectOptions, op?: OperatorCalloutTarget): Promise<AuthResult | undefined> {
    const s = this.server;
    let acc: Account | undefined;
    if (op !== undefined) acc = op.acc;
    else {
      const aname = this.opts?.account || "$G";
      acc = s.lookupAccount(aname);
      if (acc === undefined) {
        s.log.warn(`No valid account ${JSON.stringify(aname)} for auth callout request: account not found`);
        return Promise.resolve(undefined);
      }
    }
    const ic = acc.internalClient();
    if (ic === undefined) return Promise.resolve(undefined);
    // The public xkey of the service, when requests are to be sealed.
    const peerXkey = op !== undefined ? op.ja.claims.nats.authorization?.xkey ?? "" : this.opts?.xkey ?? "";
    const pub = ephemeralUserKey();
    const reply = `_INBOX.${randomBase32(22)}`;
    const timeoutMs = s.opts.authTimeoutMs > 0 ? s.opts.authTimeoutMs : DEFAULT_AUTH_TIMEOUT_MS;
    const calloutAcc = acc;
    return new Promise((resolve) => {
      let done = false;
      // deno-lint-ignore prefer-const
      let timer: TimerEntry | undefined;
      const finish = (r: AuthResult | undefined, err?: string) => {
        if (done) return;
        done = true;
        s.timers.cancel(timer);
        ic.unsubscribeInternal(sub);
        if (err !== undefined) s.log.warn(err);
        // A refusal is an auth error event in the callout account, with the reason.
        if (r === undefined) { for (const f of s.onAccountAuthError) f(c, calloutAcc, err ?? ""); }
        resolve(r);
      };
      const sub = ic.subscribeInternal(reply, (_sub, _from, _subject, _reply, _hdr, payload) => {
        // The payload is a view valid during this call: decode it now.
        let r: AuthResult | string;
        try {
          r = this.#processReply(c, pub, payload, calloutAcc, peerXkey, op);
        } catch (e) {
          r = titleCase((e as Error).message);
        }
        if (typeof r === "string") finish(undefined, r);
        else finish(r);
      });
      timer = s.timers.after(timeoutMs, () => {
        s.log.debug(
          `Authorization callout response not received in time on account ${JSON.stringify(calloutAcc.name)}`,
        );
        finish(undefined);
      });
      let req: Uint8Array;
      let hdr: Uint8Array | undefined;
      try {
        req = encoder.encode(
          this.#request(c, o, pub, timeoutMs, op === undefined ? undefined : calloutAcc.name),
        );
        if (this.#xkp !== undefined && peerXkey !== "") {
          req = this.#xkp.seal(req, peerXkey);
          hdr = encoder.encode(`NATS/1.0\r\n${AUTH_REQUEST_XKEY_HEADER}: ${this.xkeyPub}\r\n\r\n`);
        }
      } catch (e) {
        finish(
          undefined,
          `Error encoding auth request claim on account ${JSON.stringify(calloutAcc.name)}: ${e}`,
        );
        return;
      }
      ic.publishInternal(AUTH_CALLOUT_SUBJECT, reply, hdr, req);
      s.flushPending();
    });
  }

  /** The signed authorization request for `c`; `opAccount`: the operator-mode callout account (the subject). */
  #request(c: Client, o: ConnectOptions, pub: string, timeoutMs: number, opAccount?: string): string {
    const s = this.server;
    const so = s.opts;
    const serverId: Record<string, unknown> = { name: s.name, host: so.host, id: s.id, version: VERSION };
    if (so.cluster?.name) serverId.cluster = so.cluster.name;
    if (so.serverTags.length > 0) serverId.tags = so.serverTags;
    const sealed = opAccount !== undefined
      ? !!this.server.operator?.jwtAccounts.get(opAccount)?.claims.nats.authorization?.xkey
      : !!this.opts?.xkey;
    if (sealed && this.xkeyPub !== undefined) serverId.xkey = this.xkeyPub;
    const clientInfo: Record<string, unknown> = {
      host: c.host,
      id: c.cid,
      user: o.nkey || o.user || "",
      kind: "Client",
      type: c.ws !== undefined ? "websocket" : "nats",
    };
    if (opAccount !== undefined && c.jwtUser === undefined && o.jwt) {
      // The sentinel user's public key, as nats-server's raw auth user.
      try {
        clientInfo.user = decodeUserClaims(o.jwt).sub ?? clientInfo.user;
      } catch { /* kept as sent */ }
    }
    if (o.name) clientInfo.name = o.name;
    if (o.sig) clientInfo.nonce = c.nonce ?? "";
    const connectOpts: Record<string, unknown> = { protocol: o.protocol ?? 0 };
    const put = (k: string, v: unknown) => {
      if (v !== undefined && v !== "") connectOpts[k] = v;
    };
    put("jwt", o.jwt);
    put("nkey", o.nkey);
    put("sig", o.sig);
    put("auth_token", o.auth_token);
    put("user", o.user);
    put("pass", o.pass);
    put("name", o.name);
    put("lang", o.lang);
    put("version", o.version);
    const nats: Record<string, unknown> = {
      "server_id": serverId,
      "user_nkey": pub,
      "client_info": clientInfo,
      "connect_opts": connectOpts,
    };
    if (c.tlsVersion !== undefined) {
      const certs = (c.tlsPeerCerts ?? []).map(pemOf);
      const tls: Record<string, unknown> = { version: c.tlsVersion, cipher: c.tlsCipher ?? "" };
      // A verified client certificate chain goes under verified_chains, else the peer certificates as sent.
      if (certs.length > 0 && so.tls?.verify) tls["verified_chains"] = [certs];
      else if (certs.length > 0) tls.certs = certs;
      nats["client_tls"] = tls;
    }
    return encodeClaims("authorization_request", {
      aud: AUTH_REQUEST_AUDIENCE,
      exp: Math.floor((Date.now() + timeoutMs) / 1000),
      sub: opAccount ?? this.opts?.issuer ?? "",
      nats,
    }, s.key);
  }

  /** Checks a response and applies the user it authorizes; an error text (logged by the caller) otherwise. */
  #processReply(
    c: Client,
    pub: string,
    payload: Uint8Array,
    acc: Account,
    peerXkey: string,
    op: OperatorCalloutTarget | undefined,
  ): AuthResult | string {
    const s = this.server;
    const aname = acc.name;
    const q = JSON.stringify;
    if (payload.length === 0) {
      return titleCase(`auth callout violation: ${q("no reason supplied")} on account ${q(aname)}`);
    }
    let msg = payload;
    let encrypted = false;
    if (this.#xkp !== undefined && peerXkey !== "" && decoder.decode(msg.subarray(0, 3)) !== JWT_PREFIX) {
      const opened = this.#xkp.open(msg, peerXkey);
      if (opened === null) {
        return `Error decrypting auth callout response on account ${q(aname)}: invalid message`;
      }
      msg = opened;
      encrypted = true;
    }
    const cr: GenericClaims = decodeGeneric(decoder.decode(msg));
    const vr = validateClaims({ type: "generic", version: 2, claims: cr });
    if (vr.issues.length > 0) {
      return `Authorization response had validation errors: ${vr.issues[0].description}`;
    }
    if (cr.sub !== pub) return "Auth callout violation: auth callout response is not for expected user";
    if (cr.aud !== s.id) return "Auth callout violation: auth callout response is not for server";
    const rn = (cr.nats ?? {}) as Record<string, unknown>;
    if (typeof rn.error === "string" && rn.error !== "") {
      return `Auth callout service returned an error: ${rn.error}`;
    }
    if (op !== undefined && !encrypted) {
      // A plain response must be signed by the callout account or one of its signing keys.
      const signer = typeof rn.issuer_account === "string" && rn.issuer_account !== ""
        ? rn.issuer_account
        : cr.iss ?? "";
      if (signer !== aname && !op.ja.signingKeys.has(signer)) return "Auth callout signing key is unknown";
    }
    const uc: UserClaims = decodeUserClaims(typeof rn.jwt === "string" ? rn.jwt : "");
    const uvr = validateClaims({ type: "user", version: 2, claims: uc });
    if (uvr.issues.length > 0) {
      return `Error validating user JWT: ${uvr.issues[0].description}`;
    }
    if (uc.sub !== pub) {
      return `Expected authorized user of ${q(pub)} but got ${q(uc.sub)} on account ${q(aname)}`;
    }
    const times = validateTimes(uc.nats);
    if (!times.allowed) {
      s.log.error(`${c} - Outside connect times`);
      return `Authorized user on account ${q(aname)} outside of valid connect times`;
    }
    // Who issued the user: the callout issuer (configuration mode) or an account (operator mode).
    let issuer = uc.iss ?? "";
    if (uc.nats.issuer_account) {
      if (op === undefined) {
        return `Error non operator mode account ${q(aname)}: attempted to use issuer_account`;
      }
      issuer = uc.nats.issuer_account;
    }
    const expected = op === undefined ? this.opts?.issuer ?? "" : aname;
    if (issuer !== expected) {
      if (op === undefined) {
        return `Wrong issuer for auth callout response on account ${q(aname)}, expected ${q(expected)} got ${
          q(issuer)
        }`;
      }
      if (!s.operator!.calloutAllows(op.ja, issuer)) {
        return `Account ${q(uc.iss)} not permitted as valid account option for auth callout for account ${
          q(aname)
        }`;
      }
    }
    // Placement: the audience in configuration mode; the issuing account in operator mode.
    const placement = op === undefined ? uc.aud ?? "" : issuer;
    let target: Account | undefined;
    let limits = uc.nats;
    let signingKey: string | undefined;
    if (op === undefined) target = s.lookupAccount(placement);
    else {
      const found = s.operator!.lookupAccount(placement);
      target = typeof found === "string" ? undefined : found;
      if (target === undefined) {
        return `No valid account ${q(placement)} for auth callout response on account ${q(aname)}: ${found}`;
      }
      const tja = s.operator!.jwtAccounts.get(target.name);
      const lim = tja === undefined ? "User JWT issuer is not known" : s.operator!.userLimits(tja, uc);
      if (typeof lim === "string") {
        return lim === "User JWT issuer is not known" ? `User JWT issuer ${q(uc.iss)} is not known` : lim;
      }
      limits = lim;
      if (uc.nats.issuer_account) signingKey = uc.iss;
    }
    if (target === undefined) {
      return `No valid account ${q(placement)} for auth callout response on account ${
        q(aname)
      }: account not found`;
    }
    let perms: Permissions | undefined = permissionsFromJwt(limits);
    if (perms === undefined && op !== undefined) {
      perms = s.operator!.jwtAccounts.get(target.name)?.defaultPerms;
    }
    // Users placed in the callout account may not send authorization requests themselves.
    if (target.name === aname) {
      perms = { ...(perms ?? {}), publish: { ...(perms?.publish ?? {}) } };
      perms.publish!.deny = [...(perms.publish!.deny ?? []), AUTH_CALLOUT_SUBJECT];
    }
    // The sentinel's JWT no longer describes this connection.
    c.opts.jwt = undefined;
    if (op !== undefined) c.opts.nkey = uc.sub;
    if (uc.name) {
      c.opts.user = uc.name;
      c.opts.nkey = undefined;
      c.opts.auth_token = undefined;
    }
    // The user JWT's payload and subscription limits apply as they do for operator-mode users.
    const lim = (v: number | undefined) => typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : -1;
    c.jwtUser = {
      claims: { ...uc, nats: limits },
      mpay: lim(limits.payload),
      msubs: lim(limits.subs),
      signingKey,
      expTimer: undefined,
    };
    const exp = uc.exp ? uc.exp * 1000 - Date.now() : 0;
    const until = times.validForMs > 0 && (exp <= 0 || times.validForMs < exp) ? times.validForMs : exp;
    if (until > 0) {
      this.#expiry.set(
        c,
        s.timers.after(until, () => {
          this.#expiry.delete(c);
          if (c.closed) return;
          c.sendErr("User Authentication Expired");
          s.log.debug(`${c} - User Authentication Expired`);
          c.flush();
          c.close(ClosedState.AuthenticationExpired);
        }),
      );
    }
    return {
      user: c.opts.user || c.opts.nkey || "",
      account: target.name,
      permissions: perms === undefined ? undefined : ClientPermissions.compile(perms).forConnection(),
      nkey: c.opts.nkey,
      source: perms,
    };
  }
}

/** PEM text of a DER certificate. */
function pemOf(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}
