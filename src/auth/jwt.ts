// NATS JWTs: decode and verify (Ed25519 via node:crypto), validate as the nats-io/jwt v2 library does, encode
// and sign (tests and tools), creds files, and the mapping of user claims onto permissions; the server-side
// checks follow nats-server server/jwt.go (validateSrc, validateTimes) and server/auth.go.
import { createHash, type KeyObject, verify } from "node:crypto";
import { Buffer } from "node:buffer";
import type { Permissions } from "../config/mod.ts";
import { decodePublicNkey, NKEY_PREFIX, nkeyToKeyObject } from "./nkey.ts";
import {
  type AccountClaims,
  type ActivationClaims,
  type AnyClaims,
  type ClaimsData,
  type ClaimType,
  type GenericClaims,
  type JwtPermission,
  type JwtPermissions,
  loadClaims,
  type OperatorClaims,
  type UserClaims,
  type UserPermissionLimits,
} from "./_jwt_claims.ts";
import { cidrContains, parseCidr } from "./_jwt_validate.ts";

export * from "./_jwt_claims.ts";
export {
  cidrContains,
  isValidSubjectLoose,
  parseCidr,
  serverVersionError,
  subjectContainedIn,
  validateClaims,
  validationBlocking,
  type ValidationResults,
} from "./_jwt_validate.ts";
export { applyUserTemplate } from "./_jwt_template.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Every JWT once encoded starts with this (the base64url of `{"`). */
export const JWT_PREFIX = "eyJ";
/** The JWT library's format version that this code writes and the newest it reads. */
export const LIB_VERSION = 2;
const ALG_V1 = "ed25519";
const ALG_V2 = "ed25519-nkey";

/** A JWT that does not decode or verify; `message` is the library's text. */
export class JwtError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JwtError";
  }
}

const RAW_URL_B64 = /^[A-Za-z0-9_-]*$/;

/** Decodes unpadded base64url strictly (Go's RawURLEncoding): padding or stray characters fail. */
function b64urlDecode(s: string): Uint8Array {
  if (!RAW_URL_B64.test(s) || s.length % 4 === 1) throw new JwtError("illegal base64 data");
  const b = Buffer.from(s, "base64url");
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function b64urlEncode(b: Uint8Array | string): string {
  return Buffer.from(typeof b === "string" ? encoder.encode(b) : b).toString("base64url");
}

function parseJson(b: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(b));
  } catch (e) {
    throw new JwtError((e as Error).message, { cause: e });
  }
}

interface Header {
  typ?: unknown;
  alg?: unknown;
}

function parseHeader(chunk: string): string {
  const h = parseJson(b64urlDecode(chunk)) as Header;
  if (typeof h !== "object" || h === null) throw new JwtError("json: cannot unmarshal header");
  const typ = typeof h.typ === "string" ? h.typ : "";
  const alg = typeof h.alg === "string" ? h.alg : "";
  if (typ.toUpperCase() !== "JWT") throw new JwtError(`not supported type ${JSON.stringify(typ)}`);
  const a = alg.toLowerCase();
  if (a !== ALG_V1 && a !== ALG_V2) throw new JwtError(`unexpected ${JSON.stringify(alg)} algorithm`);
  return a;
}

// Imported keys by public nkey: importing is most of a verify's cost, and the same account and operator keys
// sign every JWT of a connect storm. Bounded: cleared when full.
const KEY_CACHE_MAX = 4096;
const keyCache = new Map<string, KeyObject | null>();

function keyFor(pub: string): KeyObject | undefined {
  let k = keyCache.get(pub);
  if (k === undefined) {
    k = nkeyToKeyObject(pub) ?? null;
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
    keyCache.set(pub, k);
  }
  return k ?? undefined;
}

/** Verifies an Ed25519 signature by the public nkey `pub` over `data`; never throws. */
export function verifyNkey(pub: string, data: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  const key = keyFor(pub);
  if (key === undefined) return false;
  try {
    return verify(null, data, key, sig);
  } catch {
    return false;
  }
}

function prefixOf(pub: string | undefined): number {
  if (!pub) return -1;
  return decodePublicNkey(pub)?.prefix ?? -1;
}

const PREFIX_NAMES: Record<number, string> = {
  [NKEY_PREFIX.operator]: "operator",
  [NKEY_PREFIX.account]: "account",
  [NKEY_PREFIX.user]: "user",
  [NKEY_PREFIX.server]: "server",
  [NKEY_PREFIX.cluster]: "cluster",
};

/** The issuer kinds each claim type accepts (the library's ExpectedPrefixes). */
const EXPECTED_ISSUERS: Record<ClaimType, number[] | undefined> = {
  operator: [NKEY_PREFIX.operator],
  account: [NKEY_PREFIX.account, NKEY_PREFIX.operator],
  user: [NKEY_PREFIX.account],
  activation: [NKEY_PREFIX.account, NKEY_PREFIX.operator],
  generic: undefined,
};

function claimTypeOf(p: Record<string, unknown>): { type: ClaimType; raw: string; version: number } {
  const nats = typeof p.nats === "object" && p.nats !== null ? p.nats as Record<string, unknown> : {};
  let raw: string;
  let version: number;
  if (typeof p.type === "string" && p.type !== "") {
    raw = p.type;
    version = 1;
  } else {
    raw = typeof nats.type === "string" ? nats.type : "";
    version = typeof nats.version === "number" ? nats.version : 0;
  }
  const known = raw === "operator" || raw === "account" || raw === "user" || raw === "activation";
  return { type: known ? raw as ClaimType : "generic", raw, version };
}

/**
 * Decodes a JWT, verifies its signature with the issuer's key and checks the issuer's kind, as the JWT
 * library's Decode does. Time and content checks are separate (`validateClaims`).
 * @throws JwtError with the library's text.
 */
export function decodeJwt(token: string): AnyClaims {
  const chunks = token.split(".");
  if (chunks.length !== 3) throw new JwtError("expected 3 chunks");
  parseHeader(chunks[0]);
  const p = parseJson(b64urlDecode(chunks[1]));
  if (typeof p !== "object" || p === null || Array.isArray(p)) {
    throw new JwtError("json: cannot unmarshal claims");
  }
  const payload = p as Record<string, unknown>;
  const { type, raw, version } = claimTypeOf(payload);
  if (version > LIB_VERSION) throw new JwtError("JWT was generated by a newer version ");
  if (raw === "cluster") throw new JwtError("ClusterClaims are not supported");
  if (raw === "server") throw new JwtError("ServerClaims are not supported");
  let claims: AnyClaims;
  try {
    claims = loadClaims(payload, type, type === "generic" ? -1 : version);
  } catch (e) {
    throw new JwtError((e as Error).message, { cause: e });
  }
  const sig = b64urlDecode(chunks[2]);
  const iss = claims.claims.iss ?? "";
  if (type !== "generic" && version <= 1) {
    if (!verifyNkey(iss, encoder.encode(chunks[1]), sig)) {
      throw new JwtError("claim failed V1 signature verification");
    }
  } else if (!verifyNkey(iss, encoder.encode(token.slice(0, chunks[0].length + chunks[1].length + 1)), sig)) {
    throw new JwtError("claim failed V2 signature verification");
  }
  const expected = EXPECTED_ISSUERS[type];
  if (expected !== undefined && !expected.includes(prefixOf(iss))) {
    throw new JwtError(
      `unable to validate expected prefixes - [${expected.map((p) => PREFIX_NAMES[p]).join(" ")}]`,
    );
  }
  return claims;
}

function decodeAs<T extends AnyClaims["type"]>(token: string, type: T, what: string) {
  const c = decodeJwt(token);
  if (c.type !== type) throw new JwtError(`not ${what} claim`);
  return c as Extract<AnyClaims, { type: T }>;
}

/** Decodes and verifies a user JWT; throws JwtError ("not user claim" for another kind). */
export function decodeUserClaims(token: string): UserClaims {
  return decodeAs(token, "user", "user").claims;
}

/** Decodes and verifies an account JWT; throws JwtError. */
export function decodeAccountClaims(token: string): AccountClaims {
  return decodeAs(token, "account", "account").claims;
}

/** Decodes and verifies an operator JWT; throws JwtError. */
export function decodeOperatorClaims(token: string): OperatorClaims {
  return decodeAs(token, "operator", "operator").claims;
}

/** Decodes and verifies an activation (import token) JWT; throws JwtError. */
export function decodeActivationClaims(token: string): ActivationClaims {
  return decodeAs(token, "activation", "activation").claims;
}

/**
 * Decodes any JWT into its base claims and raw `nats` map (the library's DecodeGeneric): the format is chosen
 * by the header's algorithm, and the signature is verified.
 */
export function decodeGeneric(token: string): GenericClaims {
  const chunks = token.split(".");
  if (chunks.length !== 3) throw new JwtError("expected 3 chunks");
  const alg = parseHeader(chunks[0]);
  const p = parseJson(b64urlDecode(chunks[1])) as Record<string, unknown>;
  if (typeof p !== "object" || p === null) throw new JwtError("json: cannot unmarshal claims");
  const sig = b64urlDecode(chunks[2]);
  const iss = typeof p.iss === "string" ? p.iss : "";
  const gc = loadClaims(p, "generic", -1).claims as GenericClaims;
  const nats = typeof p.nats === "object" && p.nats !== null ? { ...p.nats as Record<string, unknown> } : {};
  if (alg === ALG_V1) {
    if (!verifyNkey(iss, encoder.encode(chunks[1]), sig)) {
      throw new JwtError("claim failed V1 signature verification");
    }
    if (typeof p.type === "string" && p.type !== "") nats.type = p.type;
    if (Array.isArray(p.tags) && p.tags.length > 0) nats.tags = p.tags;
  } else if (!verifyNkey(iss, encoder.encode(token.slice(0, chunks[0].length + chunks[1].length + 1)), sig)) {
    throw new JwtError("claim failed V2 signature verification");
  }
  gc.nats = nats;
  return gc;
}

// ---- Encoding --------------------------------------------------------------------------------------------

/** What signs a JWT: an nkeys KeyPair (`@nats-io/nkeys`) fits. */
export interface JwtSigner {
  getPublicKey(): string;
  sign(data: Uint8Array): Uint8Array;
}

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Base32 (RFC 4648 alphabet) without padding, as Go's base32.StdEncoding.WithPadding(NoPadding). */
export function base32NoPad(b: Uint8Array): string {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < b.length; i++) {
    acc = (acc << 8) | b[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31];
  return out;
}

/** Go's json.Marshal of a string: HTML-sensitive characters and U+2028/9 escaped. */
function goJsonString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

const CLAIMS_ORDER = ["aud", "exp", "jti", "iat", "iss", "name", "nbf", "sub"] as const;
const STRING_CLAIMS = new Set(["aud", "jti", "iss", "name", "sub"]);

/** The base claims as Go marshals them (field order, omitempty), for the `jti` hash. */
function claimsDataJson(c: ClaimsData): string {
  const parts: string[] = [];
  for (const k of CLAIMS_ORDER) {
    const v = c[k];
    if (v === undefined || v === "" || v === 0) continue;
    parts.push(`"${k}":${STRING_CLAIMS.has(k) ? goJsonString(v as string) : String(v)}`);
  }
  return `{${parts.join(",")}}`;
}

/** The `jti` of claims: base32 (no padding) of SHA-512/256 over the base claims without `jti`. */
export function claimsHash(c: ClaimsData): string {
  const j = claimsDataJson({ ...c, jti: undefined });
  return base32NoPad(new Uint8Array(createHash("sha512-256").update(j).digest()));
}

/** Claims to encode: base claims (`iss`, `iat`, `jti` are filled in) and the `nats` section. */
export interface EncodeInput extends ClaimsData {
  nats?: Record<string, unknown>;
}

/**
 * Encodes and signs claims as the JWT library's Encode does: header {"typ":"JWT","alg":"ed25519-nkey"},
 * `iss` = the signer, `iat` = now (unless given with `keepIat`), `jti` = the claims hash, `nats.type` and
 * `nats.version` = 2. Meant for tests and tools; the server only decodes.
 */
export function encodeJwt(
  type: "operator" | "account" | "user" | "activation",
  claims: EncodeInput,
  signer: JwtSigner,
  opts: { keepIat?: boolean } = {},
): string {
  if (!claims.sub) throw new JwtError("subject is not set");
  const iss = signer.getPublicKey();
  const expected = EXPECTED_ISSUERS[type]!;
  if (!expected.includes(prefixOf(iss))) {
    throw new JwtError(
      `unable to validate expected prefixes - [${expected.map((p) => PREFIX_NAMES[p]).join(" ")}]`,
    );
  }
  const subPrefix = prefixOf(claims.sub);
  const subOk = type === "operator"
    ? subPrefix === NKEY_PREFIX.operator
    : type === "user"
    ? subPrefix === NKEY_PREFIX.user
    : subPrefix === NKEY_PREFIX.account;
  if (!subOk) {
    throw new JwtError(
      type === "operator"
        ? "expected subject to be an operator public key"
        : type === "user"
        ? "expected subject to be user public key"
        : type === "account"
        ? "expected subject to be account public key"
        : "expected subject to be an account",
    );
  }
  const base: ClaimsData = {};
  for (const k of CLAIMS_ORDER) if (claims[k] !== undefined) (base as Record<string, unknown>)[k] = claims[k];
  base.iss = iss;
  if (!opts.keepIat || !base.iat) base.iat = Math.floor(Date.now() / 1000);
  base.jti = claimsHash(base);
  const head = b64urlEncode(JSON.stringify({ typ: "JWT", alg: ALG_V2 }));
  const payload: Record<string, unknown> = {};
  for (const k of CLAIMS_ORDER) {
    const v = base[k];
    if (v !== undefined && v !== "" && v !== 0) payload[k] = v;
  }
  payload.nats = { ...(claims.nats ?? {}), type, version: LIB_VERSION };
  const toSign = `${head}.${b64urlEncode(JSON.stringify(payload))}`;
  const sig = signer.sign(encoder.encode(toSign));
  return `${toSign}.${b64urlEncode(sig)}`;
}

// ---- Creds files ------------------------------------------------------------------------------------------

const DECORATED = /\s*(?:(?:-{3,}.*-{3,}\r?\n)([\w\-.=]+)(?:\r?\n-{3,}.*-{3,}(?:\r?\n|$)))/g;

function decoratedItems(text: string): string[] {
  return [...text.matchAll(DECORATED)].map((m) => m[1]);
}

/** The JWT in a decorated file (a creds file or `-----BEGIN … JWT-----` block); the text itself if undecorated. */
export function parseDecoratedJwt(text: string): string {
  const items = decoratedItems(text);
  return items.length === 0 ? text : items[0];
}

/**
 * The nkey seed in a creds file: the second decorated block, else the first line starting with SO, SA or SU.
 * @throws JwtError "no nkey seed found" or "doesn't contain a seed nkey".
 */
export function parseDecoratedNkey(text: string): string {
  const items = decoratedItems(text);
  let seed: string | undefined;
  if (items.length > 1) seed = items[1];
  else {
    for (const line of text.split("\n")) {
      const t = line.trim();
      if (t.startsWith("SO") || t.startsWith("SA") || t.startsWith("SU")) {
        seed = line;
        break;
      }
    }
  }
  if (seed === undefined) throw new JwtError("no nkey seed found");
  if (!seed.startsWith("SO") && !seed.startsWith("SA") && !seed.startsWith("SU")) {
    throw new JwtError("doesn't contain a seed nkey");
  }
  return seed.trim();
}

/** A creds file's user JWT and seed. */
export interface Creds {
  jwt: string;
  seed: string;
}

/** Parses a creds file (`-----BEGIN NATS USER JWT-----` then the decorated seed). */
export function parseCreds(text: string): Creds {
  return { jwt: parseDecoratedJwt(text), seed: parseDecoratedNkey(text) };
}

/** Writes a JWT in its decorated form, as the library's DecorateJWT (kind upper-cased). */
export function decorateJwt(kind: string, token: string): string {
  const k = kind.toUpperCase();
  return `-----BEGIN NATS ${k} JWT-----\n${token}\n------END NATS ${k} JWT------\n`;
}

/** A creds file for a user JWT and its seed, in the library's FormatUserConfig layout. */
export function formatUserConfig(token: string, seed: string): string {
  const s = seed.trim();
  if (!s.startsWith("SU")) throw new JwtError("nkey seed is not an user seed");
  return decorateJwt("user", token) +
    "************************* IMPORTANT *************************\n" +
    "NKEY Seed printed below can be used to sign and prove identity.\n" +
    "NKEYs are sensitive and should be treated as secrets.\n\n" +
    `-----BEGIN USER NKEY SEED-----\n${s}\n------END USER NKEY SEED------\n\n` +
    "*************************************************************\n";
}

// ---- Server-side checks -----------------------------------------------------------------------------------

function subjectPermission(p: JwtPermission | undefined): { allow?: string[]; deny?: string[] } | undefined {
  const allow = p?.allow ?? [];
  const deny = p?.deny ?? [];
  if (allow.length === 0 && deny.length === 0) return undefined;
  const out: { allow?: string[]; deny?: string[] } = {};
  if (allow.length > 0) out.allow = [...allow];
  if (deny.length > 0) out.deny = [...deny];
  return out;
}

/**
 * Maps JWT permissions onto config Permissions (nats-server buildPermissionsFromJwt): undefined when the claims
 * set none. `resp.ttl` is in nanoseconds; zero values take the defaults when compiled.
 */
export function permissionsFromJwt(p: JwtPermissions | undefined): Permissions | undefined {
  if (p === undefined) return undefined;
  const publish = subjectPermission(p.pub);
  const subscribe = subjectPermission(p.sub);
  if (publish === undefined && subscribe === undefined && p.resp == null) return undefined;
  const out: Permissions = {};
  if (publish) out.publish = publish;
  if (subscribe) out.subscribe = subscribe;
  if (p.resp != null) {
    out.response = { maxMsgs: p.resp.max ?? 0, expiresMs: Math.trunc((p.resp.ttl ?? 0) / 1e6) };
    out.publish ??= {};
    out.publish.allow ??= [];
  }
  return out;
}

/** True when the user limits of claims are all unset or unlimited (the library's HasEmptyPermissions). */
export function hasEmptyPermissions(u: UserPermissionLimits): boolean {
  const emptyList = (l: unknown[] | undefined) => l === undefined || l.length === 0;
  return emptyList(u.pub?.allow) && emptyList(u.pub?.deny) && emptyList(u.sub?.allow) &&
    emptyList(u.sub?.deny) && u.resp == null && emptyList(u.src) && emptyList(u.times) &&
    !u.times_location && !u.subs && !u.data && !u.payload && !u.bearer_token &&
    emptyList(u.allowed_connection_types);
}

/**
 * True when a key issued at `iat` (seconds) is revoked by `revocations` (key → revoked-before seconds, "*"
 * for every key), as the library's RevocationList.IsRevoked.
 */
export function isRevoked(
  revocations: Record<string, number> | undefined,
  pub: string,
  iat: number,
): boolean {
  if (revocations === undefined) return false;
  const all = revocations["*"];
  if (all !== undefined && all >= iat) return true;
  const t = revocations[pub];
  return t !== undefined && t >= iat;
}

/** Whether a client at `host` may connect given the claims' `src` networks (nats-server validateSrc). */
export function validateSrc(src: string[] | undefined, host: string): boolean {
  if (src === undefined || src.length === 0) return true;
  if (host === "") return false;
  for (const cidr of src) {
    const c = parseCidr(cidr);
    if (c === undefined) return false;
    if (cidrContains(c, host)) return true;
  }
  return false;
}

/** Seconds since local midnight of `now` in the IANA zone `zone` ("" is the process's local zone). */
function secondsOfDay(now: Date, zone: string): number {
  if (zone === "") {
    return now.getHours() * 3600 + now.getMinutes() * 60 + now.getSeconds() + now.getMilliseconds() / 1000;
  }
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hour12: false,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(now);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return (get("hour") % 24) * 3600 + get("minute") * 60 + get("second") + now.getMilliseconds() / 1000;
}

function clockSeconds(t: string | undefined): number | undefined {
  const m = /^(\d\d):(\d\d):(\d\d)$/.exec(t ?? "");
  if (m === null) return undefined;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  const s = Number(m[3]);
  if (h > 23 || mi > 59 || s > 59) return undefined;
  return h * 3600 + mi * 60 + s;
}

/**
 * Whether the claims' connect windows allow a connection now, and for how long (nats-server validateTimes):
 * a window whose start is after its end ends the next day. No windows allow always (validForMs 0).
 */
export function validateTimes(
  u: UserPermissionLimits,
  now: Date = new Date(),
): { allowed: boolean; validForMs: number } {
  const times = u.times ?? [];
  if (times.length === 0) return { allowed: true, validForMs: 0 };
  let zone = u.times_location ?? "";
  try {
    if (zone !== "") new Intl.DateTimeFormat("en-US", { timeZone: zone });
  } catch {
    return { allowed: false, validForMs: 0 };
  }
  if (zone === "Local") zone = "";
  const nowS = secondsOfDay(now, zone === "UTC" ? "UTC" : zone);
  for (const r of times) {
    const start = clockSeconds(r.start);
    let end = clockSeconds(r.end);
    if (start === undefined || end === undefined) return { allowed: false, validForMs: 0 };
    if (start > end) end += 86_400;
    if (start < nowS && end > nowS) return { allowed: true, validForMs: Math.round((end - nowS) * 1000) };
  }
  return { allowed: false, validForMs: 0 };
}

/** Milliseconds until `exp` (seconds), at least 0; undefined when the claims never expire. */
export function expiresInMs(c: ClaimsData, nowMs: number = Date.now()): number | undefined {
  if (!c.exp) return undefined;
  return Math.max(0, c.exp * 1000 - nowMs);
}
