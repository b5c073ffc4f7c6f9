// The private subject matcher behind permissions (sublist.go Match semantics, subjectIsSubsetMatch).
import { assert, assertEquals } from "@std/assert";
import { subjectHasWildcard, subjectIsSubsetMatch, SubjectTree } from "../../src/auth/_subject_tree.ts";

Deno.test("SubjectTree.match finds literal, * and > entries and collects queue names", () => {
  const t = new SubjectTree();
  for (const s of ["foo.bar", "foo.*", "foo.>", ">", "*.bar"]) assert(t.insert(s));
  assert(t.insert("foo.bar", "q1"));
  assert(t.insert("foo.*", "q2"));
  assertEquals(t.size, 7);
  const m = t.match("foo.bar");
  assertEquals(m.plain, 5);
  assertEquals(m.queues.sort(), ["q1", "q2"]);
  assertEquals(t.match("foo").plain, 1, "only >");
  assertEquals(t.match("foo.bar.baz").plain, 2, "foo.> and >");
  assertEquals(t.match("x.y.z").plain, 1);
});

Deno.test("SubjectTree.match takes the subject's own wildcards as plain tokens", () => {
  const t = new SubjectTree();
  t.insert("foo.bar");
  t.insert("baz.*");
  assertEquals(t.match("foo.*").plain, 0);
  assertEquals(t.match("baz.*").plain, 1);
  assertEquals(t.match("baz.>").plain, 1);
  assert(!t.hasPlainMatch("foo.>"));
  assert(t.hasPlainMatch("baz.>"));
});

Deno.test("SubjectTree.insert refuses empty tokens and a > before the last token", () => {
  const t = new SubjectTree();
  for (const s of ["", "foo.", ".foo", "foo..bar", "foo.>.bar", ">.foo"]) assert(!t.insert(s), s);
  assertEquals(t.size, 0);
  assert(t.insert("foo*.b>r"), "partial wildcards are literals");
  assert(t.hasPlainMatch("foo*.b>r"));
  assert(!t.hasPlainMatch("fooX.bar"));
});

Deno.test("SubjectTree.hasPlainMatch ignores queue entries", () => {
  const t = new SubjectTree();
  t.insert("foo", "q");
  assert(!t.hasPlainMatch("foo"));
  assertEquals(t.match("foo").queues, ["q"]);
});

Deno.test("subjectHasWildcard looks for whole * or > tokens", () => {
  for (const s of ["*", ">", "foo.*", "*.foo", "a.>", "a.*.b"]) assert(subjectHasWildcard(s), s);
  for (const s of ["foo", "foo*", "f>o", "*foo.bar", "a.b*"]) assert(!subjectHasWildcard(s), s);
});

Deno.test("subjectIsSubsetMatch: every subject of the first is covered by the second", () => {
  const cases: [string, string, boolean][] = [
    ["foo.bar", "foo.bar", true],
    ["foo.bar", "foo.*", true],
    ["foo.bar", ">", true],
    ["foo.*", ">", true],
    ["foo.*", "*.*", true],
    ["foo.*", "foo.*", true],
    ["foo.*", "foo.bar", false],
    ["foo.>", "foo.*", false],
    ["foo.>", "foo.>", true],
    ["*.baz", "foo.>", false],
    ["foo.bar.baz", "foo.*", false],
    ["foo", "foo.>", false],
    ["foo.bar", "foo", false],
    ["v1.a", "v1.*", true],
  ];
  for (const [a, b, want] of cases) assertEquals(subjectIsSubsetMatch(a, b), want, `${a} ⊆ ${b}`);
});
