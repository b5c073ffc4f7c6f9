// Sublist benchmarks; the data set and names follow the benchmarks of nats-server server/sublist_test.go.
// Run: deno bench bench/sublist_bench.ts
import {
  isValidLiteralSubject,
  matchLiteral,
  subjectIsLiteral,
  type SubLike,
  Sublist,
} from "../src/sublist/mod.ts";

interface BSub extends SubLike {
  sid: number;
}

let sid = 0;
function newSub(subject: string, queue?: string): BSub {
  return { subject, queue, sid: sid++ };
}

// Every subject of 1 to 5 tokens over 8 words: 37,448 literal subscriptions.
const TOKS = ["synadia", "nats", "jetstream", "nkeys", "jwt", "deny", "auth", "drain"];
const subs: BSub[] = [];
function subsInit(pre: string): void {
  for (const t of TOKS) {
    const s = pre.length > 0 ? `${pre}.${t}` : t;
    subs.push(newSub(s));
    if (s.split(".").length < 5) subsInit(s);
  }
}
subsInit("");

function build(cache: boolean): Sublist<BSub> {
  const sl = new Sublist<BSub>({ cache });
  for (const s of subs) sl.insert(s);
  sl.insert(newSub("cloud.>"));
  sl.insert(newSub("cloud.nats.component.>"));
  sl.insert(newSub("cloud.*.*.nkeys.*"));
  return sl;
}
const cached = build(true);
const uncached = build(false);

function check(r: { psubs: BSub[] }, n: number): void {
  if (r.psubs.length !== n) throw new Error(`expected ${n} results, got ${r.psubs.length}`);
}

Deno.bench("match hit, cached: 1 token", { group: "match" }, () => {
  check(cached.match("synadia"), 1);
});
Deno.bench("match hit, cached: 4 tokens", { group: "match", baseline: true }, () => {
  check(cached.match("synadia.nats.jetstream.nkeys"), 1);
});
Deno.bench("match hit, cached: 4 tokens, 2 results", { group: "match" }, () => {
  check(cached.match("cloud.nats.component.router"), 2);
});
Deno.bench("match no interest, cached: miss on last of 5 tokens", { group: "match" }, () => {
  check(cached.match("synadia.nats.jetstream.nkeys.ZZZZ"), 0);
});
Deno.bench("match uncached: 1 token", { group: "match" }, () => {
  check(uncached.match("synadia"), 1);
});
Deno.bench("match uncached: 4 tokens", { group: "match" }, () => {
  check(uncached.match("synadia.nats.jetstream.nkeys"), 1);
});
Deno.bench("match uncached: 4 tokens, 2 results (wildcards)", { group: "match" }, () => {
  check(uncached.match("cloud.nats.component.router"), 2);
});
Deno.bench("match uncached: no interest, miss on last of 5 tokens", { group: "match" }, () => {
  check(uncached.match("synadia.nats.jetstream.nkeys.ZZZZ"), 0);
});

// Subjects arrive as freshly decoded strings, whose hash V8 has not computed yet; a constant string
// literal (as above) flatters a Map-based design. These build a fresh copy per iteration.
const FRESH = "synadia.nats.jetstream.nkeys";
let freshSink = 0;
Deno.bench("fresh string only (cost to subtract below)", { group: "fresh" }, () => {
  freshSink += ("x" + FRESH).slice(1).length;
});
Deno.bench("match hit, cached, fresh subject string: 4 tokens", { group: "fresh" }, () => {
  check(cached.match(("x" + FRESH).slice(1)), 1);
});
Deno.bench("match uncached, fresh subject string: 4 tokens", { group: "fresh" }, () => {
  check(uncached.match(("x" + FRESH).slice(1)), 1);
});
const mapBaseline = new Map([[FRESH, 1]]);
Deno.bench("baseline: Map.get with a fresh string", { group: "fresh" }, () => {
  freshSink += mapBaseline.get(("x" + FRESH).slice(1))!;
});

// Every match is a cache miss that is then cached: what a stream of unique reply subjects costs,
// sweeps included.
let uniq = 0;
Deno.bench("match cache churn: unique subjects, with cache", { group: "match" }, () => {
  cached.match(`synadia.nats.jetstream.${uniq++}`);
});

const fan512 = new Sublist<BSub>({ cache: false });
for (let i = 0; i < 512; i++) fan512.insert(newSub("foo"));
Deno.bench("match uncached: 512 subs on one subject", { group: "fanout" }, () => {
  check(fan512.match("foo"), 512);
});
const fan100k = new Sublist<BSub>({ cache: false });
for (let i = 0; i < 100_000; i++) fan100k.insert(newSub("foo"));
Deno.bench("match uncached: 100k subs on one subject", { group: "fanout" }, () => {
  check(fan100k.match("foo"), 100_000);
});

let ins = 0;
const insCache = new Sublist<BSub>({ cache: true });
Deno.bench("insert, with cache (Go's SublistInsert)", { group: "insert" }, () => {
  insCache.insert(subs[ins++ % subs.length]);
});
let insNc = 0;
const insNoCache = new Sublist<BSub>({ cache: false });
Deno.bench("insert, no cache (Go's SublistInsertNoCache)", { group: "insert" }, () => {
  insNoCache.insert(subs[insNc++ % subs.length]);
});
let ir = 0;
const irSl = build(true);
const fresh = subs.map((s) => newSub(s.subject));
Deno.bench("insert + remove of a 1-5 token literal, cache warm", { group: "insert" }, () => {
  const s = fresh[ir++ % fresh.length];
  irSl.insert(s);
  irSl.remove(s);
});
for (let i = 0; i < 1024; i++) irSl.match(subs[i * 31 % subs.length].subject);
let iw = 0;
const wild = ["synadia.*", "synadia.nats.>", "*.nats.*.nkeys", ">"].map((s) => newSub(s));
Deno.bench("insert + remove of a wildcard, 1024 cached subjects", { group: "insert" }, () => {
  const s = wild[iw++ % wild.length];
  irSl.insert(s);
  irSl.remove(s);
});

const lit = "foo.foo.foo.foo.foo.foo.foo.foo.foo.foo";
const pats = [
  "foo.foo.foo.foo.foo.foo.foo.foo.foo.foo",
  "foo.foo.foo.foo.foo.foo.foo.foo.foo.>",
  "foo.foo.foo.foo.>",
  "foo.>",
  ">",
  "foo.foo.foo.foo.foo.foo.foo.foo.foo.*",
  "foo.foo.foo.foo.foo.*.*.*.*.*",
  "*.*.*.*.*.*.*.*.*.*",
];
Deno.bench("matchLiteral over 8 patterns (Go's SublistMatchLiteral subset)", { group: "helpers" }, () => {
  for (const p of pats) if (!matchLiteral(lit, p)) throw new Error(p);
});
Deno.bench("isValidLiteralSubject", { group: "helpers" }, () => {
  isValidLiteralSubject("foo.bar.baz.22");
});
Deno.bench("subjectIsLiteral", { group: "helpers" }, () => {
  subjectIsLiteral("foo.bar.baz.22");
});
