// Tests of the Sublist API beyond the Go port: cache exactness, immutability, genid, scale.
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import {
  CACHE_MAX,
  isValidPublishSubject,
  isValidSubject,
  matchLiteral,
  numTokens,
  subjectsCollide,
  type SubLike,
  Sublist,
  type SublistResult,
} from "../../src/sublist/mod.ts";

interface TSub extends SubLike {
  id: number;
}

let ids = 0;
function sub(subject: string, queue?: string): TSub {
  return { subject, queue, id: ids++ };
}

function ids_(r: SublistResult<TSub>): { p: number[]; q: Record<string, number[]> } {
  const q: Record<string, number[]> = {};
  for (const g of r.qsubs) q[g[0].queue!] = g.map((s) => s.id).sort((a, b) => a - b);
  return { p: r.psubs.map((s) => s.id).sort((a, b) => a - b), q };
}

// Token-by-token reference matcher, independent of the matchLiteral under test.
function refMatch(literal: string, pattern: string): boolean {
  const lt = literal.split(".");
  const pt = pattern.split(".");
  for (let i = 0; i < pt.length; i++) {
    if (pt[i] === ">" && i === pt.length - 1) return lt.length > i;
    if (i >= lt.length) return false;
    if (pt[i] !== "*" && pt[i] !== lt[i]) return false;
  }
  return lt.length === pt.length;
}

function bruteForce(subs: Iterable<TSub>, subject: string): { p: number[]; q: Record<string, number[]> } {
  const p: number[] = [];
  const q: Record<string, number[]> = {};
  for (const s of subs) {
    if (!refMatch(subject, s.subject)) continue;
    if (s.queue === undefined) p.push(s.id);
    else (q[s.queue] ??= []).push(s.id);
  }
  p.sort((a, b) => a - b);
  for (const k in q) q[k].sort((a, b) => a - b);
  return { p, q };
}

// A small deterministic PRNG so failures reproduce.
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

for (const cache of [true, false]) {
  Deno.test(`Sublist.match() agrees with a brute-force scan over random inserts and removes (cache ${cache})`, () => {
    const rand = rng(cache ? 42 : 7);
    const pick = <T>(a: readonly T[]) => a[Math.floor(rand() * a.length)];
    const toks = ["a", "b", "c", "*", ">"];
    const lits = ["a", "b", "c"];
    const sl = new Sublist<TSub>({ cache });
    const live = new Set<TSub>();
    for (let step = 0; step < 4000; step++) {
      const op = rand();
      if (op < 0.35) {
        const n = 1 + Math.floor(rand() * 3);
        const parts: string[] = [];
        for (let i = 0; i < n; i++) {
          const t = pick(toks);
          parts.push(t === ">" && i !== n - 1 ? "*" : t);
        }
        const s = sub(parts.join("."), rand() < 0.3 ? pick(["q1", "q2"]) : undefined);
        sl.insert(s);
        live.add(s);
      } else if (op < 0.6 && live.size > 0) {
        const all = [...live];
        const s = pick(all);
        assert(sl.remove(s));
        live.delete(s);
      } else {
        const n = 1 + Math.floor(rand() * 3);
        const parts: string[] = [];
        for (let i = 0; i < n; i++) parts.push(pick(lits));
        const subject = parts.join(".");
        assertEquals(ids_(sl.match(subject)), bruteForce(live, subject), `step ${step} subject ${subject}`);
        assertEquals(
          sl.hasInterest(subject),
          bruteForce(live, subject).p.length > 0 ||
            Object.keys(bruteForce(live, subject).q).length > 0,
        );
      }
      assertEquals(sl.count(), live.size);
    }
  });
}

Deno.test("matchLiteral() agrees with a token-by-token reference on random subjects", () => {
  const rand = rng(99);
  const toks = ["a", "b", "*", ">", "a*", ">b"];
  const gen = (wild: boolean) => {
    const n = 1 + Math.floor(rand() * 4);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const t = toks[Math.floor(rand() * (wild ? toks.length : 2))];
      parts.push(t === ">" && i !== n - 1 ? "*" : t);
    }
    return parts.join(".");
  };
  for (let i = 0; i < 20_000; i++) {
    const lit = gen(false);
    const pat = gen(true);
    assertEquals(matchLiteral(lit, pat), refMatch(lit, pat), `${lit} vs ${pat}`);
  }
});

Deno.test("Sublist.match() returns the same object until the subject's interest changes", () => {
  const sl = new Sublist<TSub>();
  sl.insert(sub("foo.bar"));
  const r1 = sl.match("foo.bar");
  assertStrictEquals(sl.match("foo.bar"), r1);
  sl.insert(sub("other"));
  assertStrictEquals(sl.match("foo.bar"), r1, "unrelated insert keeps the cached result");
  const s = sub("foo.*");
  sl.insert(s);
  const r2 = sl.match("foo.bar");
  assert(r2 !== r1, "a new result after the insert");
  assertEquals(r1.psubs.length, 1, "the old result is not mutated");
  assertEquals(r2.psubs.length, 2);
  sl.remove(s);
  const r3 = sl.match("foo.bar");
  assertEquals(r2.psubs.length, 2, "the old result is not mutated by a remove");
  assertEquals(r3.psubs.length, 1);
});

Deno.test("Sublist.genid is bumped by successful inserts and removes only", () => {
  const sl = new Sublist<TSub>();
  const g0 = sl.genid;
  const s = sub("a");
  sl.insert(s);
  assert(sl.genid > g0);
  const g1 = sl.genid;
  sl.match("a");
  sl.hasInterest("a");
  assertEquals(sl.genid, g1);
  assertEquals(sl.remove(sub("a")), false);
  assertEquals(sl.genid, g1);
  assert(sl.remove(s));
  assert(sl.genid > g1);
});

Deno.test("Sublist.insert() of the same subscription twice counts twice and stores once", () => {
  const sl = new Sublist<TSub>();
  const s = sub("foo");
  sl.insert(s);
  sl.insert(s);
  assertEquals(sl.count(), 2);
  assertEquals(sl.match("foo").psubs, [s]);
  assert(sl.remove(s));
  assertEquals(sl.remove(s), false);
  assertEquals(sl.match("foo").psubs.length, 0);
});

Deno.test("Sublist cache stays within CACHE_MAX and drops wildcard-affected entries", () => {
  const sl = new Sublist<TSub>();
  const w = sub("x.*");
  sl.insert(w);
  for (let i = 0; i < 5000; i++) {
    sl.match(`x.${i}`);
    assert(sl.cacheCount() <= CACHE_MAX);
  }
  const before = sl.cacheCount();
  assert(before > 0);
  sl.remove(w);
  assertEquals(sl.cacheCount(), 0, "removing x.* drops every cached x.N");
  sl.match("x.1");
  sl.match("y");
  sl.insert(sub("x.>"));
  assertEquals(sl.match("x.1").psubs.length, 1);
  assertEquals(sl.match("y").psubs.length, 0);
});

Deno.test("Sublist.removeBatch() of many subscriptions keeps results exact", () => {
  const sl = new Sublist<TSub>();
  const subs: TSub[] = [];
  for (let i = 0; i < 100; i++) subs.push(sub(`a.${i % 10}`));
  for (const s of subs) sl.insert(s);
  const keep = sub("a.*");
  sl.insert(keep);
  for (let i = 0; i < 10; i++) assertEquals(sl.match(`a.${i}`).psubs.length, 11);
  const g = sl.genid;
  sl.removeBatch(subs);
  assert(sl.genid > g);
  assertEquals(sl.count(), 1);
  for (let i = 0; i < 10; i++) assertEquals(sl.match(`a.${i}`).psubs, [keep]);
  assertEquals(sl.numLevels(), 2);
});

Deno.test("Sublist.numInterest() counts plain and queue subscriptions across wildcards", () => {
  const sl = new Sublist<TSub>();
  sl.insert(sub("foo.bar"));
  sl.insert(sub("foo.*"));
  sl.insert(sub(">"));
  sl.insert(sub("foo.bar", "q"));
  sl.insert(sub("foo.>", "q"));
  sl.insert(sub("foo.baz", "q"));
  assertEquals(sl.numInterest("foo.bar"), { np: 3, nq: 2 });
  assertEquals(sl.numInterest("nope"), { np: 1, nq: 0 });
  assertEquals(sl.numInterest("foo..bar"), { np: 0, nq: 0 });
  assert(sl.hasInterest("zzz"));
});

Deno.test("Sublist.reverseMatch() includes wildcard subscriptions that overlap the query", () => {
  const sl = new Sublist<TSub>();
  const a = sub("foo.*");
  const b = sub("foo.>");
  const c = sub("bar.baz");
  const d = sub("*.baz");
  for (const s of [a, b, c, d]) sl.insert(s);
  for (const [query, want] of [["foo.x", [a, b]], ["*.baz", [a, b, c, d]], ["bar.>", [c, d]]] as const) {
    const got = sl.reverseMatch(query).psubs;
    assertEquals(got.length, want.length, query);
    for (const s of want) {
      assert(got.includes(s), `${query} should find ${s.subject}`);
      assert(subjectsCollide(s.subject, query));
    }
  }
});

Deno.test("Sublist handles fan-out to 100k subscriptions on one subject in linear time", () => {
  const sl = new Sublist<TSub>();
  const n = 100_000;
  const subs: TSub[] = [];
  sl.match("fan"); // cached empty result: every insert below reaches the cache
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = sub("fan", i % 10 === 0 ? "q" : undefined);
    subs.push(s);
    sl.insert(s);
  }
  const r = sl.match("fan");
  assertEquals(r.psubs.length, 90_000);
  assertEquals(r.qsubs[0].length, 10_000);
  for (let i = 0; i < n; i += 2) sl.remove(subs[i]);
  // Every queue subscription had an even index.
  assertEquals(sl.match("fan").psubs.length, 50_000);
  assertEquals(sl.match("fan").qsubs.length, 0);
  sl.removeBatch(subs.filter((_, i) => i % 2 === 1));
  assertEquals(sl.count(), 0);
  const ms = performance.now() - t0;
  // Quadratic work would be ~10^10 steps (minutes); linear is well under a second.
  assert(ms < 5_000, `took ${ms.toFixed(0)} ms`);
});

Deno.test("isValidSubject() with checkRunes rejects NUL and U+FFFD", () => {
  assert(isValidSubject("foo.bar", true));
  assert(isValidSubject("foo\u0000bar"));
  assertEquals(isValidSubject("foo\u0000bar", true), false);
  assertEquals(isValidSubject("foo.\ufffd", true), false);
  assertEquals(isValidSubject("foo bar"), false);
  assertEquals(isValidSubject("foo.\tbar"), false);
  assertEquals(isValidSubject(""), false);
  assert(isValidPublishSubject("foo.bar"));
  assertEquals(isValidPublishSubject("foo.*"), false);
  assertEquals(isValidPublishSubject("foo bar"), false);
});

Deno.test("numTokens() counts tokens, 0 for the empty subject", () => {
  assertEquals(numTokens(""), 0);
  assertEquals(numTokens("foo"), 1);
  assertEquals(numTokens("foo.bar.*"), 3);
  assertEquals(numTokens("foo."), 2);
});
