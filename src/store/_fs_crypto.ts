// FileStore encryption at rest and checksums. Key layout after nats-server server/filestore.go (inventory §8):
// a key-encryption key KEK = HMAC-SHA256(configured key, account ‖ context); a random 32-byte seed per asset
// sealed under its KEK with an AEAD (nonce ‖ ciphertext ‖ tag): the stream's in meta.key (context: the
// stream name), a consumer's in obs/<name>/meta.key ("<stream>.<consumer>") and each message block's in
// msgs/<N>.key ("<stream>:<N>"). The seed keys the asset's AEAD (meta.inf, o.dat) and, for a block, a stream
// cipher (XChaCha20 or AES-256-CTR) whose nonce is the one at the front of <N>.key; the block file holds only
// the XORed records. Unlike the reference, a block rewritten whole (compaction, compression) takes a new
// seed and nonce (the rewrite protocol is in _fs_blocks.ts). AEAD nonces are 24 bytes (XChaCha20-Poly1305) or 16 (AES-256-GCM with a block-sized
// nonce). natsdeno's earlier layout is still read: AES-GCM with 12-byte nonces, and block seeds sealed
// under the stream key with the keystream nonce at the front of the block file.
//
// node:crypto does the bulk work (chacha20, chacha20-poly1305, aes-256-ctr/gcm); XChaCha's HChaCha subkey
// step comes from @noble/ciphers, which node:crypto lacks.

import * as nc from "node:crypto";
import { hchacha } from "@noble/ciphers/chacha.js";
import { HighwayHash } from "highwayhasher";
import { StoreError } from "./store.ts";

/** The configured cipher of an encrypted store. */
export type FsCipher = "chachapoly" | "aes";

/** The encryption settings of a FileStore. */
export interface FsEncryption {
  /** The jetstream `key`. */
  key: string;
  /** The jetstream `prev_key`, tried when `key` does not open the store (key rotation). */
  prevKey?: string;
  cipher: FsCipher;
  /** Account name, part of the KEK derivation. */
  account: string;
}

const hasher = await HighwayHash.loadModule();

// The package's wrapper allocates several views and arrays per hash; records are hashed one by one on the
// publish path, so the package's own wasm module is driven directly through a scratch area of its memory
// (the wrapper stays the fallback when the module file cannot be read).
interface HwExports {
  memory: WebAssembly.Memory;
  // deno-lint-ignore camelcase
  new_hasher(keyPtr: number, keyLen: number, idx: number): number;
  append(ptr: number, len: number, idx: number): void;
  finalize64(ptr: number, idx: number): void;
}
const SCRATCH = 1 << 20;
const hw: { x: HwExports; base: number; mem: Uint8Array } | undefined = (() => {
  try {
    const simd = WebAssembly.validate(
      new Uint8Array([
        0,
        97,
        115,
        109,
        1,
        0,
        0,
        0,
        1,
        5,
        1,
        96,
        0,
        1,
        123,
        3,
        2,
        1,
        0,
        10,
        10,
        1,
        8,
        0,
        65,
        0,
        253,
        15,
        253,
        98,
        11,
      ]),
    );
    const url = import.meta.resolve(simd ? "highwayhasher/simd.wasm" : "highwayhasher/sisd.wasm");
    const inst = new WebAssembly.Instance(new WebAssembly.Module(Deno.readFileSync(new URL(url))), {});
    const x = inst.exports as unknown as HwExports;
    const pages = x.memory.grow(SCRATCH / 65536 + 1);
    return { x, base: pages * 65536, mem: new Uint8Array(x.memory.buffer) };
  } catch {
    return undefined;
  }
})();

function hwMem(): Uint8Array {
  const h = hw!;
  if (h.mem.byteLength === 0) h.mem = new Uint8Array(h.x.memory.buffer);
  return h.mem;
}

/** Hashes `data` into the scratch area; returns the offset of the 8-byte result in the module memory. */
function hwHash(key: Uint8Array, data: Uint8Array): number {
  const h = hw!;
  let mem = hwMem();
  const kOff = h.base;
  const dOff = h.base + 64;
  mem.set(key, kOff);
  h.x.new_hasher(kOff, 32, 0);
  for (let o = 0; o < data.length;) {
    const n = Math.min(SCRATCH, data.length - o);
    mem = hwMem();
    mem.set(n === data.length ? data : data.subarray(o, o + n), dOff);
    h.x.append(dOff, n, 0);
    o += n;
  }
  h.x.finalize64(kOff, 0);
  return kOff;
}

/** HighwayHash-64 of `data` under a 32-byte key. */
export function hh64(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (hw === undefined) return hasher.hash64(key, data);
  const out = new Uint8Array(8);
  hh64Into(key, data, out, 0);
  return out;
}

/** Writes HighwayHash-64 of `data` into `out` at `at` (no allocation). */
export function hh64Into(key: Uint8Array, data: Uint8Array, out: Uint8Array, at: number): void {
  if (hw === undefined) {
    out.set(hasher.hash64(key, data), at);
    return;
  }
  const r = hwHash(key, data);
  const m = hwMem();
  for (let i = 0; i < 8; i++) out[at + i] = m[r + i];
}

/** True when HighwayHash-64 of `data` equals the 8 bytes of `want` at `at`. */
export function hh64Equals(key: Uint8Array, data: Uint8Array, want: Uint8Array, at: number): boolean {
  if (hw === undefined) {
    const s = hasher.hash64(key, data);
    for (let i = 0; i < 8; i++) if (s[i] !== want[at + i]) return false;
    return true;
  }
  const r = hwHash(key, data);
  const m = hwMem();
  for (let i = 0; i < 8; i++) if (m[r + i] !== want[at + i]) return false;
  return true;
}

/** The package wrapper's hash (tests compare it with the direct path). */
export function hh64Reference(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hasher.hash64(key, data);
}

/** sha256 of a string: the reference's per-block and per-stream checksum keys. */
export function sha256Key(s: string): Uint8Array {
  return new Uint8Array(nc.createHash("sha256").update(s).digest());
}

/** The key-encryption key for `context` (stream or consumer name, or "_meta_"). */
export function kek(key: string, account: string, context: string): Uint8Array {
  return new Uint8Array(nc.createHmac("sha256", key).update(account + context).digest());
}

const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

/** XChaCha's subkey: HChaCha20(key, nonce[0:16]) (from @noble/ciphers). */
export function hchachaSubkey(key: Uint8Array, nonce: Uint8Array): Uint8Array {
  // Copies: a Buffer's slice() is a view into a shared pool.
  const k = new Uint32Array(Uint8Array.from(key.subarray(0, 32)).buffer);
  const n = new Uint32Array(Uint8Array.from(nonce.subarray(0, 16)).buffer);
  const out = new Uint32Array(8);
  hchacha(SIGMA, k, n, out);
  return new Uint8Array(out.buffer);
}

function chachaIv(nonce24: Uint8Array, counter: number): Uint8Array {
  const iv = new Uint8Array(16);
  new DataView(iv.buffer).setUint32(0, counter, true);
  iv.set(nonce24.subarray(16, 24), 8);
  return iv;
}

/** AEAD nonce sizes: XChaCha20-Poly1305 24, AES-256-GCM 16 (the AES block size, as the reference). */
export function aeadNonceLen(c: FsCipher): number {
  return c === "chachapoly" ? 24 : 16;
}

/** The AES-GCM nonce size of natsdeno's earlier files (still opened). */
const LEGACY_GCM_NONCE = 12;

/** Seals `plain` with the AEAD of `c` under `key` and a random nonce: nonce ‖ ciphertext ‖ tag(16). */
export function seal(c: FsCipher, key: Uint8Array, plain: Uint8Array): Uint8Array {
  return sealWith(c, key, new Uint8Array(nc.randomBytes(aeadNonceLen(c))), plain);
}

/** Seals `plain` under `key` with the given nonce: nonce ‖ ciphertext ‖ tag(16). */
function sealWith(c: FsCipher, key: Uint8Array, nonce: Uint8Array, plain: Uint8Array): Uint8Array {
  let ci: nc.CipherGCM | nc.CipherChaCha20Poly1305;
  if (c === "chachapoly") {
    ci = nc.createCipheriv("chacha20-poly1305", hchachaSubkey(key, nonce), xIv(nonce), { authTagLength: 16 });
  } else {
    ci = nc.createCipheriv("aes-256-gcm", key, nonce);
  }
  const body = ci.update(plain);
  ci.final();
  const out = new Uint8Array(nonce.length + body.length + 16);
  out.set(nonce, 0);
  out.set(body, nonce.length);
  out.set(ci.getAuthTag(), nonce.length + body.length);
  return out;
}

function xIv(nonce24: Uint8Array): Uint8Array {
  const iv = new Uint8Array(12);
  iv.set(nonce24.subarray(16, 24), 4);
  return iv;
}

/**
 * Opens a sealed blob; undefined when the key is wrong or the blob was altered. AES-GCM blobs are tried with
 * a 16-byte nonce, then with the 12-byte nonce of natsdeno's earlier files.
 */
export function open(c: FsCipher, key: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
  const p = openWith(c, key, aeadNonceLen(c), sealed);
  if (p !== undefined || c === "chachapoly") return p;
  return openWith(c, key, LEGACY_GCM_NONCE, sealed);
}

/** Opens nonce(nl) ‖ ciphertext ‖ tag(16) under `key`. */
function openWith(c: FsCipher, key: Uint8Array, nl: number, sealed: Uint8Array): Uint8Array | undefined {
  if (sealed.length < nl + 16) return undefined;
  const nonce = sealed.subarray(0, nl);
  const body = sealed.subarray(nl, sealed.length - 16);
  const tag = sealed.subarray(sealed.length - 16);
  try {
    let d: nc.DecipherGCM | nc.DecipherChaCha20Poly1305;
    if (c === "chachapoly") {
      d = nc.createDecipheriv("chacha20-poly1305", hchachaSubkey(key, nonce), xIv(nonce), {
        authTagLength: 16,
      });
    } else {
      d = nc.createDecipheriv("aes-256-gcm", key, nonce);
    }
    d.setAuthTag(tag);
    const out = d.update(body);
    d.final();
    return new Uint8Array(out);
  } catch {
    return undefined;
  }
}

/** Nonce size of the block stream cipher: XChaCha20 24, AES-CTR 16. */
export function blockNonceLen(c: FsCipher): number {
  return c === "chachapoly" ? 24 : 16;
}

/**
 * XORs `data` in place with the block keystream at byte position `pos` of the block (XChaCha20 or
 * AES-256-CTR under `seed`, `nonce`). The same call encrypts and decrypts.
 */
export function xorAt(c: FsCipher, seed: Uint8Array, nonce: Uint8Array, pos: number, data: Uint8Array): void {
  if (data.length === 0) return;
  let ci: nc.Cipheriv;
  let skip: number;
  if (c === "chachapoly") {
    const sub = hchachaSubkey(seed, nonce);
    skip = pos % 64;
    ci = nc.createCipheriv("chacha20", sub, chachaIv(nonce, Math.floor(pos / 64)));
  } else {
    skip = pos % 16;
    const iv = new Uint8Array(nonce.subarray(0, 16));
    addCounter(iv, Math.floor(pos / 16));
    ci = nc.createCipheriv("aes-256-ctr", seed, iv);
  }
  if (skip > 0) ci.update(new Uint8Array(skip));
  const out = ci.update(data);
  data.set(out);
}

// Adds `n` to a 128-bit big-endian counter block.
function addCounter(iv: Uint8Array, n: number): void {
  let carry = n;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const v = iv[i] + (carry % 256);
    iv[i] = v & 0xff;
    carry = Math.floor(carry / 256) + (v >> 8);
  }
}

/** Random bytes. */
export function randomBytes(n: number): Uint8Array {
  return new Uint8Array(nc.randomBytes(n));
}

/** The keys of an open encrypted stream or consumer: its AEK, its cipher and what derived its KEK. */
export interface StreamKeys {
  cipher: FsCipher;
  aek: Uint8Array;
  /** The settings that opened it (block keys derive their KEKs from them). */
  enc: FsEncryption;
  /** The KEK context: the stream name, or "<stream>.<consumer>". */
  context: string;
}

/** The other cipher (a store written under one cipher is still opened when the other is configured). */
function otherCipher(c: FsCipher): FsCipher {
  return c === "aes" ? "chachapoly" : "aes";
}

/**
 * Opens (or creates) a stream's AEK from meta.key bytes. Tries `key`, then `prevKey`; returns the keys and
 * whether meta.key must be re-sealed under the current key (rotation, or an AES key file of natsdeno's
 * earlier 60-byte form, re-sealed to the reference's 64). Throws StoreError "bad_key" when neither opens it.
 */
export function openStreamKey(
  enc: FsEncryption,
  context: string,
  sealed: Uint8Array | undefined,
  where: string,
): { keys: StreamKeys; sealed: Uint8Array; rewrite: boolean } {
  const k = kek(enc.key, enc.account, context);
  if (sealed === undefined) {
    const aek = randomBytes(32);
    return {
      keys: { cipher: enc.cipher, aek, enc, context },
      sealed: seal(enc.cipher, k, aek),
      rewrite: true,
    };
  }
  const ciphers: FsCipher[] = [enc.cipher, otherCipher(enc.cipher)];
  for (const c of ciphers) {
    const aek = open(c, k, sealed);
    if (aek === undefined) continue;
    const keys = { cipher: c, aek, enc, context };
    if (c === "aes" && sealed.length === LEGACY_GCM_NONCE + aek.length + 16) {
      return { keys, sealed: seal(c, k, aek), rewrite: true };
    }
    return { keys, sealed, rewrite: false };
  }
  if (enc.prevKey !== undefined && enc.prevKey !== "") {
    const pk = kek(enc.prevKey, enc.account, context);
    for (const c of ciphers) {
      const aek = open(c, pk, sealed);
      if (aek !== undefined) {
        return { keys: { cipher: c, aek, enc, context }, sealed: seal(c, k, aek), rewrite: true };
      }
    }
  }
  throw new StoreError("bad_key", `encryption key does not open ${where} (wrong key or cipher)`);
}

/** A message block's keystream: cipher, seed and nonce. */
export interface BlockKey {
  cipher: FsCipher;
  seed: Uint8Array;
  /** The keystream nonce (from <N>.key; empty for the earlier layout, whose block file starts with it). */
  nonce: Uint8Array;
  /** Bytes before the first record in the block file: 0, or the nonce length of the earlier layout. */
  off: number;
}

/** The KEK context of block `idx` of a stream. */
function blockContext(keys: StreamKeys, idx: number): string {
  return `${keys.context}:${idx}`;
}

/**
 * A new block key and its <N>.key bytes (nonce ‖ seed sealed under the block's KEK with that nonce). Every
 * block file written whole (a new block, a rewrite) takes a new one: a keystream never encrypts two
 * different plaintexts at the same offset.
 */
export function newBlockKey(keys: StreamKeys, idx: number): { key: BlockKey; sealed: Uint8Array } {
  const c = keys.cipher;
  const key: BlockKey = { cipher: c, seed: randomBytes(32), nonce: randomBytes(aeadNonceLen(c)), off: 0 };
  return { key, sealed: sealBlockKey(keys, idx, key) };
}

/**
 * The <N>.key bytes of a block key of the reference's layout under the current key: the same bytes the key
 * file holds (the AEAD nonce is the keystream nonce), so an in-memory key can be written back exactly.
 */
export function sealBlockKey(keys: StreamKeys, idx: number, key: BlockKey): Uint8Array {
  const k = kek(keys.enc.key, keys.enc.account, blockContext(keys, idx));
  return sealWith(key.cipher, k, key.nonce, key.seed);
}

/**
 * Opens a block's <N>.key bytes: the reference's layout under the block's KEK (current key, then prev_key;
 * the store's cipher, then the other), else natsdeno's earlier layout (the seed sealed under the stream's
 * AEK). `resealed`, when set, is the key file re-sealed under the current key (it was opened by prev_key);
 * the nonce, and so the block file, stay as they are. Undefined when nothing opens it.
 */
export function openBlockKey(
  keys: StreamKeys,
  idx: number,
  bytes: Uint8Array,
): { key: BlockKey; resealed?: Uint8Array } | undefined {
  const { enc } = keys;
  const ctx = blockContext(keys, idx);
  const passes = enc.prevKey !== undefined && enc.prevKey !== "" ? [enc.key, enc.prevKey] : [enc.key];
  for (const pass of passes) {
    const k = kek(pass, enc.account, ctx);
    for (const c of [keys.cipher, otherCipher(keys.cipher)]) {
      const nl = aeadNonceLen(c);
      const seed = openWith(c, k, nl, bytes);
      if (seed === undefined) continue;
      const nonce = bytes.slice(0, nl);
      const key: BlockKey = { cipher: c, seed, nonce, off: 0 };
      if (pass === enc.key) return { key };
      return { key, resealed: sealBlockKey(keys, idx, key) };
    }
  }
  const seed = open(keys.cipher, keys.aek, bytes);
  if (seed === undefined) return undefined;
  return { key: { cipher: keys.cipher, seed, nonce: new Uint8Array(0), off: blockNonceLen(keys.cipher) } };
}
