import { assert, assertEquals } from "@std/assert";
import { Nuid } from "../../src/util/mod.ts";

const ID = /^[0-9A-Za-z]{22}$/;

Deno.test("Nuid: ids are 22 base62 chars and never repeat, whatever the random start", () => {
  // A sequence kept in one double repeated its id forever for a few percent of random starts (increments
  // below half the double's spacing near 62^10); thousands of generators cover those starts.
  for (let g = 0; g < 5_000; g++) {
    const n = new Nuid();
    const a = n.next();
    const b = n.next();
    const c = n.next();
    assert(ID.test(a), a);
    assert(a !== b && b !== c && a !== c, `generator ${g} repeated: ${a} ${b} ${c}`);
    assertEquals(a.slice(0, 12), c.slice(0, 12), "prefix stays until the sequence wraps");
  }
});

Deno.test("Nuid: a long run from one generator is unique", () => {
  const n = new Nuid();
  const seen = new Set<string>();
  for (let i = 0; i < 200_000; i++) seen.add(n.next());
  assertEquals(seen.size, 200_000);
});
