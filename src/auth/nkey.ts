// Nkey challenge: the INFO nonce and the Ed25519 check of its signature; behaviour follows nats-server
// server/nkey.go and the nkey branch of server/auth.go (processClientOrLeafAuthentication).
import { createPublicKey, type KeyObject, randomBytes, verify } from "node:crypto";
import { Buffer } from "node:buffer";

const encoder = new TextEncoder();
const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B32_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < B32.length; i++) B32_VALUE[B32.charCodeAt(i)] = i;

/** Random bytes in a nonce, as nats-server uses (11 bytes, 15 base64url characters). */
export const NONCE_RAW_LEN = 11;

/** Nkey prefix bytes of public keys (the first base32 character is O, N, C, A, U or X). */
export const NKEY_PREFIX = {
  operator: 14 << 3,
  server: 13 << 3,
  cluster: 2 << 3,
  account: 0,
  user: 20 << 3,
  curve: 23 << 3,
} as const;

const PUBLIC_PREFIXES: ReadonlySet<number> = new Set(Object.values(NKEY_PREFIX));

/** A fresh nonce for INFO: 11 random bytes as unpadded base64url, as nats-server makes it. */
export function newNonce(): string {
  return randomBytes(NONCE_RAW_LEN).toString("base64url");
}

function crc16(data: Uint8Array): number {
  // CRC-16/XMODEM (poly 0x1021, init 0), as the nkeys encoding uses.
  let crc = 0;
  for (let i = 0; i < data.length; i++) {
    crc ^= data[i] << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function base32Decode(s: string): Uint8Array | undefined {
  const out = new Uint8Array(Math.floor((s.length * 5) / 8));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B32_VALUE[c] : -1;
    if (v < 0) return undefined;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/**
 * Decodes a public nkey (56 base32 characters: prefix byte, 32-byte Ed25519 key, CRC-16) to its raw key.
 * @returns the 32 key bytes and the prefix byte, or undefined when the string is not a valid public nkey.
 */
export function decodePublicNkey(publicKey: string): { prefix: number; key: Uint8Array } | undefined {
  if (publicKey.length !== 56) return undefined;
  const raw = base32Decode(publicKey);
  if (raw === undefined || raw.length !== 35) return undefined;
  const body = raw.subarray(0, 33);
  const crc = raw[33] | (raw[34] << 8);
  if (crc16(body) !== crc) return undefined;
  if (!PUBLIC_PREFIXES.has(raw[0])) return undefined;
  return { prefix: raw[0], key: raw.slice(1, 33) };
}

/** True when `publicKey` is a valid public user nkey (starts with U), as config validation requires. */
export function isValidPublicUserKey(publicKey: string): boolean {
  return decodePublicNkey(publicKey)?.prefix === NKEY_PREFIX.user;
}

/**
 * Imports a public nkey as a node:crypto Ed25519 key, or undefined when it is not a valid public nkey. Callers
 * that verify often for the same key keep the result: the import is most of a verify's cost.
 */
export function nkeyToKeyObject(publicKey: string): KeyObject | undefined {
  const decoded = decodePublicNkey(publicKey);
  if (decoded === undefined) return undefined;
  const x = Buffer.from(decoded.key).toString("base64url");
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
}

const RAW_URL_B64 = /^[A-Za-z0-9_-]*$/;
const STD_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes a CONNECT `sig` the way nats-server does: unpadded base64url first, then padded standard base64.
 * Returns undefined when it is neither.
 */
export function decodeSignature(sig: string): Uint8Array | undefined {
  // Go's decoders skip CR and LF anywhere in the input.
  const s = sig.includes("\r") || sig.includes("\n") ? sig.replace(/[\r\n]/g, "") : sig;
  let b: Buffer;
  if (RAW_URL_B64.test(s) && s.length % 4 !== 1) b = Buffer.from(s, "base64url");
  else if (STD_B64.test(s)) b = Buffer.from(s, "base64");
  else return undefined;
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Verifies `sig` (a decoded signature) over `nonce` with an imported key; never throws. */
export function verifyWithKey(key: KeyObject, nonce: string, sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  try {
    return verify(null, encoder.encode(nonce), key, sig);
  } catch {
    return false;
  }
}

/**
 * Verifies a client's nkey signature over the INFO nonce with node:crypto Ed25519 (nkeys' own verify costs
 * ~8 ms a call). `sigBase64Url` may be unpadded base64url or padded standard base64, as nats-server accepts.
 */
export function verifyNkeySignature(publicKey: string, nonce: string, sigBase64Url: string): boolean {
  const sig = decodeSignature(sigBase64Url);
  if (sig === undefined || sig.length !== 64) return false;
  const key = nkeyToKeyObject(publicKey);
  return key !== undefined && verifyWithKey(key, nonce, sig);
}
