// BigDecimalWriter against BigInt's String: the ack reply subject's timestamp must be byte-identical.

import { assertEquals } from "@std/assert";
import { BigDecimalWriter, putDecimal } from "../../src/util/mod.ts";

function put(w: BigDecimalWriter, v: bigint): string {
  const out = new Uint8Array(64).fill(0x78);
  const end = w.put(out, 3, v);
  assertEquals(out[2], 0x78, "wrote before the offset");
  assertEquals(out[end], 0x78, "wrote past the returned end");
  return new TextDecoder().decode(out.subarray(3, end));
}

function rand64(): bigint {
  const hi = BigInt(Math.floor(Math.random() * 2 ** 32));
  const lo = BigInt(Math.floor(Math.random() * 2 ** 32));
  return (hi << 32n) | lo;
}

const EDGES: bigint[] = [
  0n,
  1n,
  9n,
  10n,
  999_999_999n,
  1_000_000_000n,
  1_000_000_001n,
  1_999_999_999n,
  2_000_000_000n,
  9_999_999_999n,
  10_000_000_000n,
  2n ** 31n - 1n,
  2n ** 32n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  1_732_731_234_000_000_001n,
  1_732_731_234_999_999_999n,
  1_732_731_235_000_000_000n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
  2n ** 64n,
  10n ** 20n,
  -1n,
  -1_000_000_000n,
  -(2n ** 63n),
];

Deno.test("BigDecimalWriter: edge values, fresh and after every other value, as String", () => {
  for (const v of EDGES) assertEquals(put(new BigDecimalWriter(), v), v.toString());
  const w = new BigDecimalWriter();
  for (const a of EDGES) {
    for (const b of EDGES) {
      assertEquals(put(w, a), a.toString());
      assertEquals(put(w, b), b.toString());
    }
  }
});

Deno.test("BigDecimalWriter: random 64-bit values and runs of nearby timestamps, as String", () => {
  const w = new BigDecimalWriter();
  for (let i = 0; i < 100_000; i++) {
    const v = rand64();
    assertEquals(put(w, v), v.toString());
    // Signed 64-bit (as BigInt64Array holds timestamps).
    const s = BigInt.asIntN(64, v);
    assertEquals(put(w, s), s.toString());
  }
  // Timestamps a few µs apart crossing second boundaries, and small values below 1e9 after large ones.
  let ts = 1_732_731_234_999_000_000n;
  for (let i = 0; i < 100_000; i++) {
    ts += BigInt(Math.floor(Math.random() * 20_000));
    assertEquals(put(w, ts), ts.toString());
    if (i % 1000 === 0) {
      const small = BigInt(Math.floor(Math.random() * 2e9));
      assertEquals(put(w, small), small.toString());
    }
  }
});

Deno.test("putDecimal: as String for safe integers (each power of ten and its neighbours, random)", () => {
  const out = new Uint8Array(32).fill(0x78);
  const check = (v: number) => {
    out.fill(0x78);
    const end = putDecimal(out, 2, v);
    assertEquals(new TextDecoder().decode(out.subarray(2, end)), String(v));
    assertEquals(out[end], 0x78, "wrote past the returned end");
    assertEquals(out[1], 0x78, "wrote before the offset");
  };
  for (const v of [0, 1, 9, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) check(v);
  for (let p = 10; p <= 1e15; p *= 10) for (const v of [p - 1, p, p + 1]) check(v);
  for (let i = 0; i < 200_000; i++) check(Math.floor(Math.random() * 2 ** (Math.random() * 53)));
});
