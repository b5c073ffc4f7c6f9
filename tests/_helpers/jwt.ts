// JWT test helpers: the reference tests' operator seed, claims with the JWT library's defaults
// (NewAccountClaims/NewUserClaims), and raw clients that answer the INFO nonce with a user JWT.
import { createPrivateKey, sign } from "node:crypto";
import { Buffer } from "node:buffer";
import * as nkeys from "@nats-io/nkeys";
import { type EncodeInput, encodeJwt } from "../../src/auth/jwt.ts";
import { RawClient } from "./raw_client.ts";

const enc = new TextEncoder();

/** The reference tests' operator seed (test/configs/nkeys/test.seed). */
export const OSEED = "SOAFYNORQLQFJYBYNUGC5D7SH2MXMUX5BFEWWGHN3EK4VGG5TPT5DZP7QU";
/** A signing key of that operator (test/operator_test.go skSeed). */
export const SKSEED = "SOAEL3NFOTU6YK3DBTEKQYZ2C5IWSVZWWZCQDASBUOHJKBFLVANK27JMMQ";
/** The reference tests' operator JWT (test/configs/nkeys/op.jwt): version 1, signed by the Go library. */
export const OJWT =
  "eyJ0eXAiOiJqd3QiLCJhbGciOiJlZDI1NTE5In0.eyJhdWQiOiJURVNUUyIsImV4cCI6MTg1OTEyMTI3NSwianRpIjoiWE5MWjZYWVBIVE1ESlFSTlFPSFVPSlFHV0NVN01JNVc1SlhDWk5YQllVS0VRVzY3STI1USIsImlhdCI6MTU0Mzc2MTI3NSwiaXNzIjoiT0NBVDMzTVRWVTJWVU9JTUdOR1VOWEo2NkFIMlJMU0RBRjNNVUJDWUFZNVFNSUw2NU5RTTZYUUciLCJuYW1lIjoiU3luYWRpYSBDb21tdW5pY2F0aW9ucyBJbmMuIiwibmJmIjoxNTQzNzYxMjc1LCJzdWIiOiJPQ0FUMzNNVFZVMlZVT0lNR05HVU5YSjY2QUgyUkxTREFGM01VQkNZQVk1UU1JTDY1TlFNNlhRRyIsInR5cGUiOiJvcGVyYXRvciIsIm5hdHMiOnsic2lnbmluZ19rZXlzIjpbIk9EU0tSN01ZRlFaNU1NQUo2RlBNRUVUQ1RFM1JJSE9GTFRZUEpSTUFWVk40T0xWMllZQU1IQ0FDIiwiT0RTS0FDU1JCV1A1MzdEWkRSVko2NTdKT0lHT1BPUTZLRzdUNEhONk9LNEY2SUVDR1hEQUhOUDIiLCJPRFNLSTM2TFpCNDRPWTVJVkNSNlA1MkZaSlpZTVlXWlZXTlVEVExFWjVUSzJQTjNPRU1SVEFCUiJdfX0.hyfz6E39BMUh0GLzovFfk3wT4OfualftjdJ_eYkLfPvu5tZubYQ_Pn9oFYGCV_6yKy3KMGhWGUCyCdHaPhalBw";

export type KeyPair = nkeys.KeyPair;
export const oKp: KeyPair = nkeys.fromSeed(enc.encode(OSEED));
export const createAccount = (): KeyPair => nkeys.createAccount();
export const createUser = (): KeyPair => nkeys.createUser();
export const createOperator = (): KeyPair => nkeys.createOperator();
export const fromSeed = (s: string): KeyPair => nkeys.fromSeed(enc.encode(s));
export const seedOf = (kp: KeyPair): string => new TextDecoder().decode(kp.getSeed());

/** `nats` of NewAccountClaims: every limit unlimited, wildcard exports allowed. */
export function accountDefaults(): Record<string, unknown> {
  return {
    limits: {
      subs: -1,
      data: -1,
      payload: -1,
      imports: -1,
      exports: -1,
      wildcards: true,
      conn: -1,
      leaf: -1,
    },
    "default_permissions": { pub: {}, sub: {} },
  };
}

/** `nats` of NewUserClaims: subs, data and payload unlimited. */
export function userDefaults(): Record<string, unknown> {
  return { pub: {}, sub: {}, subs: -1, data: -1, payload: -1 };
}

/** An account JWT for `akp` signed by `signer` (the operator by default), `nats` merged over the defaults. */
export function accountJwt(
  akp: KeyPair,
  nats: Record<string, unknown> = {},
  signer: KeyPair = oKp,
  base: EncodeInput = {},
): string {
  return encodeJwt(
    "account",
    { ...base, sub: akp.getPublicKey(), nats: { ...accountDefaults(), ...nats } },
    signer,
  );
}

/** A user JWT for `ukp` signed by `signer` (an account or its signing key). */
export function userJwt(
  ukp: KeyPair,
  signer: KeyPair,
  nats: Record<string, unknown> = {},
  base: EncodeInput = {},
): string {
  return encodeJwt(
    "user",
    { ...base, sub: ukp.getPublicKey(), nats: { ...userDefaults(), ...nats } },
    signer,
  );
}

/** Stores an account JWT in a running server's resolver (Go's addAccountToMemResolver). */
export function storeAccount(
  s: { operator?: { resolver?: { store(pub: string, jwt: string): void } } },
  pub: string,
  jwt: string,
): void {
  s.operator!.resolver!.store(pub, jwt);
}

function base32Decode(s: string): Uint8Array {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of s) {
    acc = (acc << 5) | A.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return new Uint8Array(out);
}

const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");

/** Signs with node:crypto from a seed (nkeys' own sign is slow; benchmarks sign many nonces). */
export function fastSigner(kp: KeyPair): (data: Uint8Array) => Uint8Array {
  const raw = base32Decode(seedOf(kp)).subarray(2, 34);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, raw]), format: "der", type: "pkcs8" });
  return (data) => new Uint8Array(sign(null, data, key));
}

/** Signs `nonce` as a client does: unpadded base64url of the Ed25519 signature. */
export function signNonce(kp: KeyPair, nonce: string): string {
  return Buffer.from(kp.sign(enc.encode(nonce))).toString("base64url");
}

/**
 * Connects a raw client that reads INFO, signs its nonce with `ukp` and sends CONNECT with `jwt` (plus
 * `extra` fields) and PING; the caller reads the answer.
 */
export async function connectJwt(
  port: number,
  jwt: string,
  ukp: KeyPair | undefined,
  extra: Record<string, unknown> = {},
): Promise<RawClient> {
  const c = await RawClient.connect(port);
  const info = await c.info();
  const connect: Record<string, unknown> = { jwt, verbose: false, pedantic: false, ...extra };
  if (ukp !== undefined) connect.sig = signNonce(ukp, String(info.nonce ?? ""));
  await c.send(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
  return c;
}
