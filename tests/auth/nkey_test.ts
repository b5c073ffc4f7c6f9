// Nonce and nkey signature checks (server/nkey.go and the nkey branch of server/auth.go).
import { assert, assertEquals } from "@std/assert";
import { createAccount, createUser } from "@nats-io/nkeys";
import { Buffer } from "node:buffer";
import {
  decodePublicNkey,
  decodeSignature,
  isValidPublicUserKey,
  newNonce,
  NKEY_PREFIX,
  verifyNkeySignature,
} from "../../src/auth/mod.ts";

const encoder = new TextEncoder();

function signNonce(nonce: string) {
  const kp = createUser();
  const sig = Buffer.from(kp.sign(encoder.encode(nonce)));
  return { pub: kp.getPublicKey(), sig };
}

Deno.test("newNonce makes 15 base64url characters from 11 random bytes, like nats-server", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const n = newNonce();
    assertEquals(n.length, 15);
    assert(/^[A-Za-z0-9_-]{15}$/.test(n), n);
    assertEquals(Buffer.from(n, "base64url").length, 11);
    seen.add(n);
  }
  assertEquals(seen.size, 100);
});

Deno.test("verifyNkeySignature accepts a good signature as raw base64url or padded std base64", () => {
  const nonce = newNonce();
  const { pub, sig } = signNonce(nonce);
  assert(verifyNkeySignature(pub, nonce, sig.toString("base64url")));
  assert(verifyNkeySignature(pub, nonce, sig.toString("base64")));
});

Deno.test("verifyNkeySignature rejects wrong nonces, keys, and malformed signatures", () => {
  const nonce = newNonce();
  const { pub, sig } = signNonce(nonce);
  const other = signNonce(nonce);
  const url = sig.toString("base64url");
  assert(!verifyNkeySignature(pub, newNonce(), url));
  assert(!verifyNkeySignature(other.pub, nonce, url));
  assert(!verifyNkeySignature(pub, nonce, other.sig.toString("base64url")));
  assert(!verifyNkeySignature(pub, nonce, ""));
  assert(!verifyNkeySignature(pub, nonce, url.slice(0, -4)), "short signature");
  assert(!verifyNkeySignature(pub, nonce, sig.toString("base64").replace(/=+$/, "") + "="), "bad padding");
  const flipped = Buffer.from(sig);
  flipped[10] ^= 1;
  assert(!verifyNkeySignature(pub, nonce, flipped.toString("base64url")));
  assert(!verifyNkeySignature("UNOTAKEY", nonce, url));
  assert(
    !verifyNkeySignature(pub.slice(0, -1) + (pub.endsWith("A") ? "B" : "A"), nonce, url),
    "bad checksum",
  );
});

Deno.test("decodeSignature takes unpadded base64url first, then padded standard base64, else nothing", () => {
  const bytes = new Uint8Array([0xfb, 0xff, 0x01, 0x02]);
  const b = Buffer.from(bytes);
  assertEquals(decodeSignature(b.toString("base64url")), bytes);
  assertEquals(decodeSignature(b.toString("base64")), bytes);
  assertEquals(
    decodeSignature(b.toString("base64").replace(/=+$/, "")),
    undefined,
    "std alphabet without padding",
  );
  assertEquals(decodeSignature(b.toString("base64url") + "=="), undefined, "url alphabet with padding");
  assertEquals(decodeSignature("A"), undefined);
  assertEquals(decodeSignature("ab\r\ncd"), decodeSignature("abcd"), "CR and LF are skipped, as Go does");
});

Deno.test("decodePublicNkey checks length, alphabet, checksum and prefix", () => {
  const user = createUser().getPublicKey();
  const d = decodePublicNkey(user);
  assert(d !== undefined);
  assertEquals(d.prefix, NKEY_PREFIX.user);
  assertEquals(d.key.length, 32);
  assert(isValidPublicUserKey(user));
  const account = createAccount().getPublicKey();
  assertEquals(decodePublicNkey(account)?.prefix, NKEY_PREFIX.account);
  assert(!isValidPublicUserKey(account));
  assertEquals(decodePublicNkey(user.toLowerCase()), undefined);
  assertEquals(decodePublicNkey(user + "A"), undefined);
  const seed = new TextDecoder().decode(createUser().getSeed());
  assertEquals(decodePublicNkey(seed.slice(0, 56)), undefined, "a seed is not a public key");
});

Deno.test("verifyNkeySignature accepts the same signature repeatedly (its cost is in bench/auth_bench.ts)", () => {
  const nonce = newNonce();
  const { pub, sig } = signNonce(nonce);
  const s = sig.toString("base64url");
  for (let i = 0; i < 200; i++) assert(verifyNkeySignature(pub, nonce, s));
});
