// Password and token comparison, plain or bcrypt; behaviour follows nats-server server/auth.go (isBcrypt,
// comparePasswords), with the constant-time compare that later nats-server releases use.
import bcrypt from "bcryptjs";
import { timingSafeEqual } from "node:crypto";

const encoder = new TextEncoder();
const BCRYPT_PREFIX = /^\$2[abxy]\$\d{2}\$/;

/** True when `s` looks like a bcrypt hash (`$2a$`, `$2b$`, `$2x$` or `$2y$` and a two-digit cost). */
export function isBcrypt(s: string): boolean {
  return s.startsWith("$") && BCRYPT_PREFIX.test(s);
}

/**
 * Compares two secrets in time that depends only on their lengths, as Go's subtle.ConstantTimeCompare does
 * (which also answers at once when the lengths differ).
 */
export function constantTimeEquals(a: string, b: string): boolean {
  const ab = encoder.encode(a);
  const bb = encoder.encode(b);
  if (ab.length !== bb.length) return false;
  return timingSafeEqual(ab, bb);
}

/**
 * Checks `clientSecret` against a configured password or token. A plain secret answers synchronously; a
 * bcrypt hash returns a Promise (bcryptjs' async compare yields to the event loop: a cost-11 hash takes
 * ~100 ms). A malformed hash never matches.
 */
export function comparePasswords(serverSecret: string, clientSecret: string): boolean | Promise<boolean> {
  if (!isBcrypt(serverSecret)) return constantTimeEquals(serverSecret, clientSecret);
  return compareBcrypt(serverSecret, clientSecret);
}

async function compareBcrypt(hash: string, secret: string): Promise<boolean> {
  // Go's bcrypt ignores the minor version when hashing; bcryptjs refuses `x`, and hashes `a`, `b` and `y`
  // alike, so `$2x$` is checked as `$2a$`.
  const h = hash[2] === "x" ? "$2a" + hash.slice(3) : hash;
  try {
    return await bcrypt.compare(secret, h);
  } catch {
    return false;
  }
}
