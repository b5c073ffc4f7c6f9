// Per-message TTL (Nats-TTL): "never", a Go duration ("90s", "1h30m") or whole seconds; at least 1s.
// Follows nats-server server/stream.go (parseMessageTTL).

import { parseDuration } from "../util/mod.ts";

/** TTL in ns (-1n for "never"), or undefined when invalid. */
export function parseTtl(v: string): bigint | undefined {
  if (v === "never") return -1n;
  let ns: bigint;
  if (/^\d+$/.test(v)) ns = BigInt(v) * 1_000_000_000n;
  else {
    try {
      ns = BigInt(Math.round(parseDuration(v) * 1e6));
    } catch {
      return undefined;
    }
  }
  return ns < 1_000_000_000n ? undefined : ns;
}
