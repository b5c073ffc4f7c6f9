// Auth benchmarks: nkey signature verification (node:crypto Ed25519) against nkeys' own verify.

import { createUser } from "@nats-io/nkeys";
import { newNonce, verifyNkeySignature } from "../src/auth/mod.ts";

const kp = createUser();
const pub = kp.getPublicKey();
const nonce = newNonce();
const sig = new TextEncoder().encode(nonce);
const sigB64 = btoa(String.fromCharCode(...kp.sign(sig))).replace(/\+/g, "-").replace(/\//g, "_").replace(
  /=+$/,
  "",
);

Deno.bench("verifyNkeySignature (node:crypto Ed25519)", () => {
  if (!verifyNkeySignature(pub, nonce, sigB64)) throw new Error("bad signature");
});

Deno.bench("nkeys KeyPair.verify (reference point)", { n: 20 }, () => {
  if (!kp.verify(sig, kp.sign(sig))) throw new Error("bad signature");
});
