// Ports nats-server server/sublist_test.go, in Go's order; Go tests that need goroutines run their
// interleavings in sequence, and internals are reached through the public API.
import { assert, assertEquals, assertStrictEquals, assertThrows } from "@std/assert";
import {
  isValidLiteralSubject,
  isValidSubject,
  MappingDestinationError,
  matchLiteral,
  subjectIsLiteral,
  subjectIsSubsetMatch,
  subjectsCollide,
  type SubLike,
  Sublist,
  SublistError,
  SublistStats,
  tokenAt,
  validateMappingDestination,
} from "../../src/sublist/mod.ts";

interface TSub extends SubLike {
  subject: string;
  queue: string | undefined;
  qw?: number;
  kind: "CLIENT" | "ROUTER" | "LEAF";
}

function newSub(subject: string): TSub {
  return { subject, queue: undefined, kind: "CLIENT" };
}

function newQSub(subject: string, queue: string): TSub {
  return queue === "" ? newSub(subject) : { subject, queue, kind: "CLIENT" };
}

function newRemoteQSub(subject: string, queue: string, num: number): TSub {
  return queue === "" ? newSub(subject) : { subject, queue, qw: num, kind: "ROUTER" };
}

function withCache(): Sublist<TSub> {
  return new Sublist<TSub>({ cache: true });
}

function noCache(): Sublist<TSub> {
  return new Sublist<TSub>({ cache: false });
}

function verifyCount(s: Sublist<TSub>, count: number): void {
  assertEquals(s.count(), count, `count is ${s.count()}, should be ${count}`);
}

function verifyLen(r: readonly TSub[], l: number): void {
  assertEquals(r.length, l, `results len is ${r.length}, should be ${l}`);
}

function verifyQLen(r: readonly TSub[][], l: number): void {
  assertEquals(r.length, l, `queue results len is ${r.length}, should be ${l}`);
}

function verifyNumLevels(s: Sublist<TSub>, expected: number): void {
  assertEquals(s.numLevels(), expected);
}

function findQSlot(queue: string | undefined, qsubs: readonly TSub[][]): number {
  return qsubs.findIndex((g) => g.length > 0 && g[0].queue === queue);
}

function verifyMember(r: readonly TSub[], val: TSub): void {
  assert(r.includes(val), `subscription for [${val.subject} : ${val.queue}] not found in results`);
}

function verifyQMember(qsubs: readonly TSub[][], val: TSub): void {
  const i = findQSlot(val.queue, qsubs);
  assert(i >= 0, `queue group ${val.queue} not found`);
  verifyMember(qsubs[i], val);
}

function permute(name: string, criterion: string, fn: (s: Sublist<TSub>) => void): void {
  Deno.test(`${name}: ${criterion}`, () => fn(withCache()));
  Deno.test(`${name}NoCache: ${criterion}, result cache off`, () => fn(noCache()));
}

Deno.test("TestSublistInit: a new sublist is empty", () => {
  verifyCount(withCache(), 0);
});

permute("TestSublistInsertCount", "count() counts every insert", (s) => {
  s.insert(newSub("foo"));
  s.insert(newSub("bar"));
  s.insert(newSub("foo.bar"));
  verifyCount(s, 3);
});

permute("TestSublistSimple", "literal subject matches itself", (s) => {
  const sub = newSub("foo");
  s.insert(sub);
  const r = s.match("foo");
  verifyLen(r.psubs, 1);
  verifyMember(r.psubs, sub);
});

permute("TestSublistSimpleMultiTokens", "multi-token literal subject matches itself", (s) => {
  const sub = newSub("foo.bar.baz");
  s.insert(sub);
  const r = s.match("foo.bar.baz");
  verifyLen(r.psubs, 1);
  verifyMember(r.psubs, sub);
});

permute("TestSublistPartialWildcard", "`*` in the middle matches one token", (s) => {
  const lsub = newSub("a.b.c");
  const psub = newSub("a.*.c");
  s.insert(lsub);
  s.insert(psub);
  const r = s.match("a.b.c");
  verifyLen(r.psubs, 2);
  verifyMember(r.psubs, lsub);
  verifyMember(r.psubs, psub);
});

permute("TestSublistPartialWildcardAtEnd", "`*` as the last token matches one token", (s) => {
  const lsub = newSub("a.b.c");
  const psub = newSub("a.b.*");
  s.insert(lsub);
  s.insert(psub);
  const r = s.match("a.b.c");
  verifyLen(r.psubs, 2);
  verifyMember(r.psubs, lsub);
  verifyMember(r.psubs, psub);
});

permute("TestSublistFullWildcard", "`>` matches the remaining tokens", (s) => {
  const lsub = newSub("a.b.c");
  const fsub = newSub("a.>");
  s.insert(lsub);
  s.insert(fsub);
  let r = s.match("a.b.c");
  verifyLen(r.psubs, 2);
  verifyMember(r.psubs, lsub);
  verifyMember(r.psubs, fsub);
  r = s.match("a.>");
  verifyLen(r.psubs, 1);
  verifyMember(r.psubs, fsub);
});

permute("TestSublistRemove", "remove takes out only the subscription given", (s) => {
  const subject = "a.b.c.d";
  const sub = newSub(subject);
  s.insert(sub);
  verifyCount(s, 1);
  verifyLen(s.match(subject).psubs, 1);
  assertEquals(s.remove(newSub("a.b.c")), false);
  verifyCount(s, 1);
  assertEquals(s.remove(sub), true);
  verifyCount(s, 0);
  verifyLen(s.match(subject).psubs, 0);
});

permute("TestSublistRemoveWildcard", "wildcard subscriptions are removed one by one", (s) => {
  const subject = "a.b.c.d";
  const sub = newSub(subject);
  const psub = newSub("a.b.*.d");
  const fsub = newSub("a.b.>");
  s.insert(sub);
  s.insert(psub);
  s.insert(fsub);
  verifyCount(s, 3);
  verifyLen(s.match(subject).psubs, 3);
  s.remove(sub);
  verifyCount(s, 2);
  s.remove(fsub);
  verifyCount(s, 1);
  s.remove(psub);
  verifyCount(s, 0);
  verifyLen(s.match(subject).psubs, 0);
});

permute("TestSublistRemoveCleanup", "removing the last subscription prunes the trie", (s) => {
  const literal = "a.b.c.d.e.f";
  const depth = literal.split(".").length;
  const sub = newSub(literal);
  verifyNumLevels(s, 0);
  s.insert(sub);
  verifyNumLevels(s, depth);
  s.remove(sub);
  verifyNumLevels(s, 0);
});

permute(
  "TestSublistRemoveCleanupWildcards",
  "removing the last wildcard subscription prunes the trie",
  (s) => {
    const subject = "a.b.*.d.e.>";
    const depth = subject.split(".").length;
    const sub = newSub(subject);
    verifyNumLevels(s, 0);
    s.insert(sub);
    verifyNumLevels(s, depth);
    s.remove(sub);
    verifyNumLevels(s, 0);
  },
);

const PLIST_MIN = 256;

permute("TestSublistRemoveWithLargeSubs", "removes from a node with many subscriptions", (s) => {
  for (let i = 0; i < PLIST_MIN * 2; i++) s.insert(newSub("foo"));
  let r = s.match("foo");
  verifyLen(r.psubs, PLIST_MIN * 2);
  s.remove(r.psubs[PLIST_MIN]);
  s.remove(r.psubs[0]);
  s.remove(r.psubs[r.psubs.length - 1]);
  r = s.match("foo");
  verifyLen(r.psubs, PLIST_MIN * 2 - 3);
});

function testSublistInvalidSubjectsInsert(s: Sublist<TSub>): void {
  for (const bad of [".foo", "foo.", "foo..bar", "foo.bar..baz", "foo.>.bar"]) {
    const err = assertThrows(() => s.insert(newSub(bad)), "invalid subject");
    assert(err instanceof SublistError);
  }
  verifyCount(s, 0);
  verifyNumLevels(s, 0);
}
Deno.test(
  "TestSublistInvalidSubjectsInsert: empty tokens and a non-terminal `>` are rejected",
  () => testSublistInvalidSubjectsInsert(withCache()),
);
Deno.test(
  "TestSublistInvalidSubjectsInsertNoCache: empty tokens and a non-terminal `>` are rejected, result cache off",
  () => testSublistInvalidSubjectsInsert(noCache()),
);

Deno.test("TestSublistNoCacheRemoveBatch: removeBatch does not turn the cache on", () => {
  const s = noCache();
  s.insert(newSub("foo"));
  const sub = newSub("bar");
  s.insert(sub);
  s.removeBatch([sub]);
  for (let i = 0; i < 10; i++) s.match("foo");
  assertEquals(s.cacheEnabled(), false);
  assertEquals(s.cacheCount(), 0);
});

Deno.test("TestSublistCache: cache follows inserts and removes and stays bounded", () => {
  let s = withCache();
  const subject = "a.b.c.d";
  const sub = newSub(subject);
  const psub = newSub("a.b.*.d");
  const fsub = newSub("a.b.>");
  s.insert(sub);
  verifyLen(s.match(subject).psubs, 1);
  s.insert(psub);
  s.insert(fsub);
  verifyCount(s, 3);
  verifyLen(s.match(subject).psubs, 3);
  s.remove(sub);
  verifyCount(s, 2);
  s.remove(fsub);
  verifyCount(s, 1);
  s.remove(psub);
  verifyCount(s, 0);
  assertEquals(s.cacheCount(), 0, "cache should be empty");
  verifyLen(s.match(subject).psubs, 0);

  for (let i = 0; i < 2 * 1024; i++) s.match(`foo-${i}\n`);
  // Go sweeps on a goroutine and polls; here the sweep is inline, so the bound holds at once.
  assert(s.cacheCount() <= 1024, `cache should be constrained by cacheMax, got ${s.cacheCount()}`);

  // Adding a wildcard updates the cached results it reaches.
  s = withCache();
  s.insert(newSub("foo.*"));
  s.insert(newSub("foo.bar"));
  verifyLen(s.match("foo.baz").psubs, 1);
  verifyLen(s.match("foo.bar").psubs, 2);
  s.insert(newSub("foo.>"));
  verifyLen(s.match("foo.bar").psubs, 3);
});

permute("TestSublistBasicQueueResults", "queue subscriptions are grouped by queue name", (s) => {
  const subject = "foo";
  const sub = newSub(subject);
  const sub1 = newQSub(subject, "bar");
  const sub2 = newQSub(subject, "baz");

  s.insert(sub1);
  let r = s.match(subject);
  verifyLen(r.psubs, 0);
  verifyQLen(r.qsubs, 1);
  verifyLen(r.qsubs[0], 1);
  verifyQMember(r.qsubs, sub1);

  s.insert(sub2);
  r = s.match(subject);
  verifyLen(r.psubs, 0);
  verifyQLen(r.qsubs, 2);
  verifyLen(r.qsubs[0], 1);
  verifyLen(r.qsubs[1], 1);
  verifyQMember(r.qsubs, sub1);
  verifyQMember(r.qsubs, sub2);

  s.insert(sub);
  r = s.match(subject);
  verifyLen(r.psubs, 1);
  verifyQLen(r.qsubs, 2);
  verifyLen(r.qsubs[0], 1);
  verifyLen(r.qsubs[1], 1);
  verifyQMember(r.qsubs, sub1);
  verifyQMember(r.qsubs, sub2);
  verifyMember(r.psubs, sub);

  const sub3 = newQSub(subject, "bar");
  const sub4 = newQSub(subject, "baz");
  s.insert(sub3);
  s.insert(sub4);
  r = s.match(subject);
  verifyLen(r.psubs, 1);
  verifyQLen(r.qsubs, 2);
  verifyLen(r.qsubs[0], 2);
  verifyLen(r.qsubs[1], 2);
  verifyQMember(r.qsubs, sub1);
  verifyQMember(r.qsubs, sub2);
  verifyQMember(r.qsubs, sub3);
  verifyQMember(r.qsubs, sub4);
  verifyMember(r.psubs, sub);

  s.remove(sub);
  r = s.match(subject);
  verifyLen(r.psubs, 0);
  verifyQLen(r.qsubs, 2);
  verifyLen(r.qsubs[0], 2);
  verifyLen(r.qsubs[1], 2);
  verifyQMember(r.qsubs, sub1);
  verifyQMember(r.qsubs, sub2);

  s.remove(sub1);
  r = s.match(subject);
  verifyLen(r.psubs, 0);
  verifyQLen(r.qsubs, 2);
  verifyLen(r.qsubs[findQSlot(sub1.queue, r.qsubs)], 1);
  verifyLen(r.qsubs[findQSlot(sub2.queue, r.qsubs)], 2);
  verifyQMember(r.qsubs, sub2);
  verifyQMember(r.qsubs, sub3);
  verifyQMember(r.qsubs, sub4);

  s.remove(sub3);
  r = s.match(subject);
  verifyLen(r.psubs, 0);
  verifyQLen(r.qsubs, 1);
  verifyLen(r.qsubs[0], 2);
  verifyQMember(r.qsubs, sub2);

  s.remove(sub2);
  s.remove(sub4);
  r = s.match(subject);
  verifyLen(r.psubs, 0);
  verifyQLen(r.qsubs, 0);
});

Deno.test("TestSublistValidLiteralSubjects: wildcards count only as whole tokens", () => {
  const cases: [string, boolean][] = [
    ["foo", true],
    [".foo", false],
    ["foo.", false],
    ["foo..bar", false],
    ["foo.bar.*", false],
    ["foo.bar.>", false],
    ["*", false],
    [">", false],
    ["foo*", true],
    ["foo**", true],
    ["foo.**", true],
    ["foo*bar", true],
    ["foo.*bar", true],
    ["foo*.bar", true],
    ["*bar", true],
    ["foo>", true],
    ["foo>>", true],
    ["foo.>>", true],
    ["foo>bar", true],
    ["foo.>bar", true],
    ["foo>.bar", true],
    [">bar", true],
  ];
  for (const [subject, want] of cases) assertEquals(isValidLiteralSubject(subject), want, subject);
});

Deno.test("TestSublistValidSubjects: empty tokens and a non-terminal `>` are invalid", () => {
  const cases: [string, boolean][] = [
    [".", false],
    [".foo", false],
    ["foo.", false],
    ["foo..bar", false],
    [">.bar", false],
    ["foo.>.bar", false],
    ["foo", true],
    ["foo.bar.*", true],
    ["foo.bar.>", true],
    ["*", true],
    [">", true],
    ["foo*", true],
    ["foo**", true],
    ["foo.**", true],
    ["foo*bar", true],
    ["foo.*bar", true],
    ["foo*.bar", true],
    ["*bar", true],
    ["foo>", true],
    ["foo.>>", true],
    ["foo>bar", true],
    ["foo.>bar", true],
    ["foo>.bar", true],
    [">bar", true],
  ];
  for (const [subject, want] of cases) assertEquals(isValidSubject(subject), want, subject);
});

Deno.test("TestSublistMatchLiterals: literal subjects match patterns token by token", () => {
  const cases: [string, string, boolean][] = [
    ["foo", "foo", true],
    ["foo", "bar", false],
    ["foo", "*", true],
    ["foo", ">", true],
    ["foo.bar", ">", true],
    ["foo.bar", "foo.>", true],
    ["foo.bar", "bar.>", false],
    ["stats.test.22", "stats.>", true],
    ["stats.test.22", "stats.*.*", true],
    ["foo.bar", "foo", false],
    ["stats.test.foos", "stats.test.foos", true],
    ["stats.test.foos", "stats.test.foo", false],
    ["stats.test", "stats.test.*", false],
    ["stats.test.foos", "stats.*", false],
    ["stats.test.foos", "stats.*.*.foos", false],
    // Wildcard characters inside a longer token are plain characters.
    ["*bar", "*bar", true],
    ["foo*", "foo*", true],
    ["foo*bar", "foo*bar", true],
    ["foo.***.bar", "foo.***.bar", true],
    [">bar", ">bar", true],
    ["foo>", "foo>", true],
    ["foo>bar", "foo>bar", true],
    ["foo.>>>.bar", "foo.>>>.bar", true],
  ];
  for (const [literal, pattern, want] of cases) {
    assertEquals(matchLiteral(literal, pattern), want, `${literal} vs ${pattern}`);
  }
});

Deno.test("TestSubjectIsLiteral: a subject with a wildcard token is not literal", () => {
  const cases: [string, boolean][] = [
    ["foo", true],
    ["foo.bar", true],
    ["foo*.bar", true],
    ["*", false],
    [">", false],
    ["foo.*", false],
    ["foo.>", false],
    ["foo.*.>", false],
    ["foo.*.bar", false],
    ["foo.bar.>", false],
  ];
  for (const [subject, want] of cases) assertEquals(subjectIsLiteral(subject), want, subject);
});

Deno.test("TestValidateDestinationSubject: mapping destinations allow known functions only", () => {
  for (
    const ok of [
      "foo",
      "foo.bar",
      "*",
      ">",
      "foo.*",
      "foo.>",
      "foo.*.>",
      "foo.*.bar",
      "foo.bar.>",
      "foo.{{wildcard(1)}}",
      "foo.{{ wildcard(1) }}",
      "foo.{{wildcard( 1 )}}",
      "foo.{{partition(2,1)}}",
      "foo.{{SplitFromLeft(2,1)}}",
      "foo.{{SplitFromRight(2,1)}}",
    ]
  ) {
    assertEquals(validateMappingDestination(ok), undefined, ok);
  }
  const unknown = validateMappingDestination("foo.{{unknown(1)}}");
  assert(unknown instanceof MappingDestinationError);
  assertEquals(unknown.reason, "unknown function");
  assertEquals(unknown.message, "invalid mapping destination: unknown function in {{unknown(1)}}");
  assertEquals(validateMappingDestination("foo..}")?.reason, "invalid subject");
  const space = validateMappingDestination("foo. bar}");
  assertEquals(space?.reason, "invalid subject");
  assertEquals(space?.message, "invalid mapping destination: invalid subject");
});

Deno.test("TestSubjectToken: tokenAt is 1-based and empty out of range", () => {
  assertEquals(tokenAt("foo.bar.baz.*", 0), "");
  assertEquals(tokenAt("foo.bar.baz.*", 1), "foo");
  assertEquals(tokenAt("foo.bar.baz.*", 2), "bar");
  assertEquals(tokenAt("foo.bar.baz.*", 3), "baz");
  assertEquals(tokenAt("foo.bar.baz.*", 4), "*");
  assertEquals(tokenAt("foo.bar.baz.*", 5), "");
});

permute("TestSublistBadSubjectOnRemove", "insert rejects and remove ignores an invalid subject", (s) => {
  const sub = newSub("a.b..d");
  assertThrows(() => s.insert(sub), "invalid subject");
  // Go returns ErrInvalidSubject from Remove; ours reports "not removed" without throwing.
  assertEquals(s.remove(sub), false);
  assertEquals(s.remove(newSub("a.>.b")), false);
  verifyCount(s, 0);
});

permute(
  "TestSublistTwoTokenPubMatchSingleTokenSub",
  "a one-token subscription does not match a two-token subject",
  (s) => {
    const sub = newSub("foo");
    s.insert(sub);
    let r = s.match("foo");
    verifyLen(r.psubs, 1);
    verifyMember(r.psubs, sub);
    r = s.match("foo.bar");
    verifyLen(r.psubs, 0);
  },
);

permute("TestSublistInsertWithWildcardsAsLiterals", "`*-` and `>-` tokens are literal", (s) => {
  for (const subject of ["foo.*-", "foo.>-"]) {
    s.insert(newSub(subject));
    verifyLen(s.match("foo.bar").psubs, 0);
    verifyLen(s.match(subject).psubs, 1);
  }
});

permute("TestSublistRemoveWithWildcardsAsLiterals", "removing `foo.bar` leaves `foo.*-` alone", (s) => {
  for (const subject of ["foo.*-", "foo.>-"]) {
    const sub = newSub(subject);
    s.insert(sub);
    s.remove(newSub("foo.bar"));
    verifyCount(s, 1);
    s.remove(sub);
    verifyCount(s, 0);
  }
});

// Go removes on another goroutine while reading a result; here the removes run between taking the
// result and reading it, which is what a yielding fan-out loop sees.
function testSublistRaceOnRemove(s: Sublist<TSub>): void {
  const total = 100;
  let subs: TSub[] = [];
  for (let i = 0; i < total; i++) subs.push(newQSub("foo", "bar"));
  for (let i = 0; i < 2; i++) {
    for (const sub of subs) s.insert(sub);
    if (i === 1) s.match("foo");
    const r = s.match("foo");
    for (const sub of subs) s.remove(sub);
    verifyQLen(r.qsubs, 1);
    verifyLen(r.qsubs[0], total);
    for (const q of r.qsubs) for (const sub of q) assertEquals(sub.queue, "bar");
  }
  subs = [];
  for (let i = 0; i < total; i++) subs.push(newSub("foo"));
  for (let i = 0; i < 2; i++) {
    for (const sub of subs) s.insert(sub);
    if (i === 1) s.match("foo");
    const r = s.match("foo");
    for (const sub of subs) s.remove(sub);
    verifyLen(r.psubs, total);
    for (const sub of r.psubs) assertEquals(sub.subject, "foo");
  }
  verifyCount(s, 0);
}
Deno.test(
  "TestSublistRaceOnRemove: a result taken before removes stays intact",
  () => testSublistRaceOnRemove(withCache()),
);
Deno.test(
  "TestSublistRaceOnRemoveNoCache: a result taken before removes stays intact, result cache off",
  () => testSublistRaceOnRemove(noCache()),
);

// Go inserts on another goroutine while matching; here every insert is followed by a match, and a
// result taken earlier must not grow.
function testSublistRaceOnInsert(s: Sublist<TSub>): void {
  const total = 100;
  let first = s.match("foo");
  for (let i = 0; i < total; i++) {
    s.insert(newQSub("foo", "bar"));
    const r = s.match("foo");
    for (const q of r.qsubs) for (const sub of q) assertEquals(sub.queue, "bar");
    verifyLen(r.qsubs[0], i + 1);
  }
  verifyQLen(first.qsubs, 0);
  first = s.match("foo");
  for (let i = 0; i < total; i++) {
    s.insert(newSub("foo"));
    const r = s.match("foo");
    for (const sub of r.psubs) assertEquals(sub.subject, "foo");
    verifyLen(r.psubs, i + 1);
  }
  verifyLen(first.psubs, 0);
  verifyLen(first.qsubs[0], total);
}
Deno.test(
  "TestSublistRaceOnInsert: matches between inserts see whole subscriptions only",
  () => testSublistRaceOnInsert(withCache()),
);
Deno.test(
  "TestSublistRaceOnInsertNoCache: matches between inserts see whole subscriptions only, result cache off",
  () => testSublistRaceOnInsert(noCache()),
);

Deno.test("TestSublistRaceOnMatch: repeated uncached matches return correct results", () => {
  const s = noCache();
  s.insert(newQSub("foo.*", "workers"));
  s.insert(newQSub("foo.bar", "workers"));
  s.insert(newSub("foo.*"));
  s.insert(newSub("foo.bar"));
  // Go runs two matchers at once; one thread runs them in turn.
  for (let m = 0; m < 2; m++) {
    for (let i = 0; i < 10; i++) {
      const r = s.match("foo.bar");
      verifyLen(r.psubs, 2);
      for (const sub of r.psubs) assert(sub.subject.startsWith("foo."));
      verifyQLen(r.qsubs, 1);
      verifyLen(r.qsubs[0], 2);
      for (const q of r.qsubs) for (const sub of q) assertEquals(sub.queue, "workers");
    }
  }
});

permute("TestSublistRemoteQueueSubscriptions", "remote queue subscriptions appear `qw` times", (s) => {
  const s1 = newQSub("foo", "bar");
  const s2 = newQSub("foo", "bar");
  s.insert(s1);
  s.insert(s2);
  const rs1 = newRemoteQSub("foo", "bar", 10);
  s.insert(rs1);
  const rs2 = newRemoteQSub("foo", "bar", 10);
  s.insert(rs2);
  verifyCount(s, 4);

  let r = s.match("foo");
  verifyLen(r.psubs, 0);
  verifyQLen(r.qsubs, 1);
  verifyLen(r.qsubs[0], 22);

  s.remove(s1);
  s.remove(rs1);
  verifyCount(s, 2);
  r = s.match("foo");
  verifyLen(r.psubs, 0);
  verifyQLen(r.qsubs, 1);
  verifyLen(r.qsubs[0], 11);

  rs2.qw = 1;
  s.updateRemoteQSub(rs2);
  r = s.match("foo");
  verifyLen(r.psubs, 0);
  verifyQLen(r.qsubs, 1);
  verifyLen(r.qsubs[0], 2);
});

Deno.test("TestSublistSharedEmptyResult: every no-interest match returns the same object", () => {
  const s = withCache();
  const r1 = s.match("foo");
  verifyLen(r1.psubs, 0);
  verifyQLen(r1.qsubs, 0);
  const r2 = s.match("bar");
  verifyLen(r2.psubs, 0);
  verifyQLen(r2.qsubs, 0);
  assertStrictEquals(r1, r2);
});

Deno.test("TestSublistNoCacheStats: numCache is 0 without a cache", () => {
  const s = noCache();
  s.insert(newSub("foo"));
  s.insert(newSub("bar"));
  s.insert(newSub("baz"));
  s.insert(newSub("foo.bar.baz"));
  s.match("a.b.c");
  s.match("bar");
  assertEquals(s.stats().numCache, 0);
});

Deno.test("TestSublistAll: all() returns every subscription", () => {
  const s = noCache();
  const subs = [newSub("foo.bar.baz"), newSub("foo"), newSub("baz")];
  subs[0].kind = "LEAF";
  for (const sub of subs) s.insert(sub);
  const out = s.all();
  assertEquals(out.length, subs.length);
  for (const sub of subs) assert(out.includes(sub));
});

Deno.test("TestIsSubsetMatch: a subject is a subset of patterns that cover it", async (t) => {
  const cases: [string, string, boolean][] = [
    ["foo.*", ">", true],
    ["foo.*", "*.*", true],
    ["foo.*", "foo.*", true],
    ["foo.*", "foo.bar", false],
    ["foo.>", ">", true],
    ["foo.>", "*.>", true],
    ["foo.>", "foo.>", true],
    ["foo.>", "foo.bar", false],
    ["foo..bar", "foo.*", false],
    ["foo.*", "foo..bar", false],
  ];
  for (const [subject, test, want] of cases) {
    await t.step(`${subject} in ${test}`, () => {
      assertEquals(subjectIsSubsetMatch(subject, test), want);
    });
  }
});

/** A Go `chan bool` of capacity 1 written with a non-blocking send, as the sublist notifies. */
class BoolChan {
  readonly buf: boolean[] = [];
  constructor(readonly cap = 1) {}
  readonly send = (b: boolean): void => {
    if (this.buf.length < this.cap) this.buf.push(b);
  };
  get len(): number {
    return this.buf.length;
  }
}

Deno.test("TestSublistRegisterInterestNotification: first and last exact interest are notified", () => {
  const s = withCache();
  const ch = new BoolChan();

  // A literal subject is required.
  for (const subject of ["foo.*", ">"]) {
    assertThrows(() => s.registerNotification(subject, ch.send), "invalid subject");
  }
  // Go rejects a nil channel; a missing callback is a type error here, and still rejected at run time.
  assertThrows(() => s.registerNotification("foo", undefined as never));
  assertEquals(s.clearNotification("foo", ch.send), false);

  s.registerNotification("foo", ch.send);

  const expectBoolWithCh = (c: BoolChan, b: boolean) => {
    assert(c.len > 0, "expected a notification");
    assertEquals(c.buf.shift(), b);
  };
  const expectFalse = () => expectBoolWithCh(ch, false);
  const expectTrue = () => expectBoolWithCh(ch, true);
  const expectNone = () => assertEquals(ch.len, 0, `expected no notifications, had ${ch.len}`);
  const expectOneWithCh = (c: BoolChan) => assertEquals(c.len, 1, "expected 1 notification");
  const expectOne = () => expectOneWithCh(ch);

  expectOne();
  expectFalse();
  const sub = newSub("foo");
  s.insert(sub);
  expectTrue();

  const sub2 = newSub("foo");
  s.insert(sub2);
  expectNone();

  s.registerNotification("bar", ch.send);
  expectFalse();

  const sub3 = newSub("foo");
  s.insert(sub3);
  expectNone();

  s.remove(sub);
  expectNone();
  s.remove(sub2);
  expectNone();
  s.remove(sub3);
  expectFalse();

  s.registerNotification("test.node", ch.send);
  expectOne();
  expectFalse();

  const tnSub1 = newSub("test.node.already.exist");
  s.insert(tnSub1);
  expectNone();
  const tnSub2 = newSub("test.node");
  s.insert(tnSub2);
  expectTrue();
  const tnSub3 = newSub("test.node");
  s.insert(tnSub3);
  expectNone();
  s.remove(tnSub1);
  expectNone();
  s.remove(tnSub2);
  expectNone();
  s.remove(tnSub3);
  expectFalse();

  assert(s.clearNotification("test.node", ch.send));

  const sub4 = newSub("bar");
  s.insert(sub4);
  expectTrue();

  assert(s.clearNotification("bar", ch.send));
  assert(s.clearNotification("foo", ch.send));
  // Go checks its internal maps here; with nothing registered they are gone.
  assertEquals(s.hasNotifications(), false);

  // Wildcards do not trigger interest.
  const subpwc = newSub("*");
  s.insert(subpwc);
  expectNone();

  s.registerNotification("foo", ch.send);
  expectFalse();
  s.insert(sub);
  expectTrue();
  s.remove(sub);
  expectFalse();
  s.remove(subpwc);
  expectNone();

  const subfwc = newSub(">");
  s.insert(subfwc);
  expectNone();
  s.insert(subpwc);
  expectNone();
  s.remove(subpwc);
  expectNone();
  s.remove(subfwc);
  expectNone();

  // Batch.
  const subs = [sub, sub2, sub3, sub4, subpwc, subfwc];
  for (const x of subs) s.insert(x);
  expectTrue();
  s.removeBatch(subs);
  expectOne();
  expectFalse();

  // Queue subscriptions count only for a registration with their queue name.
  const qsub = newQSub("foo.bar.baz", "1");
  s.insert(qsub);
  expectNone();

  s.registerNotification("foo.bar.baz", ch.send);
  expectFalse();

  const wcqsub = newQSub("foo.bar.>", "1");
  s.insert(wcqsub);
  expectNone();
  s.remove(qsub);
  expectNone();
  s.remove(wcqsub);
  expectNone();
  s.insert(wcqsub);
  expectNone();

  s.registerQueueNotification("queue.test.node", "q22", ch.send);
  expectOne();
  expectFalse();

  const qsub1 = newQSub("queue.test.node.already.exist", "queue");
  s.insert(qsub1);
  expectNone();
  const qsub2 = newQSub("queue.test.node", "q22");
  s.insert(qsub2);
  expectTrue();
  const qsub3 = newQSub("queue.test.node", "otherqueue");
  s.insert(qsub3);
  expectNone();
  const qsub4 = newQSub("queue.different.node", "q22");
  s.insert(qsub4);
  expectNone();
  const qsub5 = newQSub("queue.test.node", "q22");
  s.insert(qsub5);
  expectNone();

  s.remove(qsub3);
  expectNone();
  s.remove(qsub1);
  expectNone();
  s.remove(qsub2);
  expectNone();
  s.remove(qsub4);
  expectNone();
  s.remove(qsub5);
  expectFalse();

  assert(s.clearQueueNotification("queue.test.node", "q22", ch.send));

  s.registerQueueNotification("some.subject", "queue1", ch.send);
  expectOne();
  expectFalse();

  const sq1 = newQSub("some.subject", "queue1");
  s.insert(sq1);
  expectTrue();

  const ch2 = new BoolChan();
  s.registerQueueNotification("some.subject", "queue2", ch2.send);
  expectOneWithCh(ch2);
  expectBoolWithCh(ch2, false);

  const sq2 = newQSub("some.subject", "queue2");
  s.insert(sq2);
  expectBoolWithCh(ch2, true);
  expectNone();

  s.remove(sq1);
  expectFalse();
  s.remove(sq2);
  expectBoolWithCh(ch2, false);

  assert(s.clearQueueNotification("some.subject", "queue1", ch.send));
  assert(s.clearQueueNotification("some.subject", "queue2", ch2.send));

  // Notifications never block: a full channel drops them.
  s.registerNotification("bar", ch.send);
  s.registerNotification("baz", ch.send);
  s.insert(newSub("baz"));
  s.insert(newSub("bar"));
  s.insert(subpwc);
  expectOne();
  expectFalse();
});

Deno.test("TestSublistReverseMatch: a wildcard query finds the literal subscriptions it covers", () => {
  const s = withCache();
  const fooSub = newSub("foo");
  const barSub = newSub("bar");
  const fooBarSub = newSub("foo.bar");
  const fooBazSub = newSub("foo.baz");
  const fooBarBazSub = newSub("foo.bar.baz");
  for (const x of [fooSub, barSub, fooBarSub, fooBazSub, fooBarBazSub]) s.insert(x);

  const expect = (query: string, want: TSub[]) => {
    const r = s.reverseMatch(query);
    verifyLen(r.psubs, want.length);
    for (const x of want) verifyMember(r.psubs, x);
  };
  expect("foo", [fooSub]);
  expect("bar", [barSub]);
  expect("*", [fooSub, barSub]);
  expect("baz", []);
  expect("foo.*", [fooBarSub, fooBazSub]);
  expect("*.*", [fooBarSub, fooBazSub]);
  expect("*.bar", [fooBarSub]);
  expect("*.baz", [fooBazSub]);
  expect("bar.*", []);
  expect("*.bat", []);
  expect("foo.>", [fooBarSub, fooBazSub, fooBarBazSub]);
  expect(">", [fooSub, barSub, fooBarSub, fooBazSub, fooBarBazSub]);
});

Deno.test("TestSublistMatchWithEmptyTokens: subjects with empty tokens match nothing", async (t) => {
  for (const [name, cache] of [["cache", true], ["no cache", false]] as const) {
    await t.step(name, async (t) => {
      const sl = new Sublist<TSub>({ cache });
      sl.insert(newSub(">"));
      sl.insert(newQSub(">", "queue"));
      for (const subj of [".foo", "..foo", "foo..", "foo.", "foo..bar", "foo...bar"]) {
        await t.step(subj, () => {
          const r = sl.match(subj);
          verifyLen(r.psubs, 0);
          verifyQLen(r.qsubs, 0);
        });
      }
    });
  }
});

Deno.test("TestSublistSubjectCollide: subjects collide when one literal could match both", () => {
  assertEquals(subjectsCollide("foo.*", "foo.*.bar.>"), false);
  assertEquals(subjectsCollide("foo.*.bar.>", "foo.*"), false);
  assertEquals(subjectsCollide("foo.*", "foo.foo"), true);
  assertEquals(subjectsCollide("foo.*", "*.foo"), true);
  assertEquals(subjectsCollide("foo.bar.>", "*.bar.foo"), true);
});

Deno.test("TestSublistAddCacheHitRate: summed stats keep the hit rate of the parts", () => {
  const sl1 = withCache();
  sl1.insert(newSub("foo"));
  for (let i = 0; i < 4; i++) sl1.match("foo");
  const stats1 = sl1.stats();
  assertEquals(stats1.cacheHitRate, 0.75);

  const sl2 = withCache();
  sl2.insert(newSub("bar"));
  for (let i = 0; i < 4; i++) sl2.match("bar");
  const stats2 = sl2.stats();
  assertEquals(stats2.cacheHitRate, 0.75);

  const ts = new SublistStats();
  ts.add(stats1);
  ts.add(stats2);
  assertEquals(ts.cacheHitRate, 0.75);
});
