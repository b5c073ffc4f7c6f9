// Tests of the sublist's private string hash table against Map.
import { assertEquals } from "@std/assert";
import { StrTable } from "../../src/sublist/_strtable.ts";

Deno.test("StrTable agrees with Map over random sets and deletes, and finds keys by range", () => {
  let x = 12345;
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    return x % n;
  };
  const t = new StrTable<number>();
  const m = new Map<string, number>();
  for (let step = 0; step < 50_000; step++) {
    const key = `k${rand(600)}`;
    const op = rand(3);
    if (op === 0) {
      t.set(key, step);
      m.set(key, step);
    } else if (op === 1) {
      assertEquals(t.delete(key), m.delete(key));
    } else {
      assertEquals(t.get(key), m.get(key));
      const padded = `xx.${key}.yy`;
      assertEquals(t.getRange(padded, 3, 3 + key.length), m.get(key));
    }
    assertEquals(t.size, m.size);
  }
  const seen = new Map<string, number>();
  t.forEach((v, k) => seen.set(k, v));
  assertEquals(seen, m);
  assertEquals(t.someKeys(10).length, Math.min(10, m.size));
});
