// Port of nats-server server/subject_transform_test.go (2.10+, with left/right and whole-subject partitions);
// the 2.9 forms of TestPlaceHolderIndex and TestSubjectTransforms are in tests/server/accounts_test.ts.
import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  indexPlaceHolders,
  SubjectTransform,
  TransformError,
  TransformKind,
  transformTokenize,
  transformUntokenize,
  validateMapping,
} from "../../src/sublist/mod.ts";

Deno.test("TestPlaceHolderIndex: $n and {{function(...)}} tokens parse into kind, indexes and argument", () => {
  const check = (t: string, kind: TransformKind, indexes: number[], int: number) => {
    const ph = indexPlaceHolders(t);
    assertEquals([ph.kind, ph.indexes, ph.int], [kind, indexes, int], t);
  };
  check("$1", TransformKind.Wildcard, [1], -1);
  check("{{partition(10,1,2,3)}}", TransformKind.Partition, [1, 2, 3], 10);
  check("{{ Partition (10,1,2,3) }}", TransformKind.Partition, [1, 2, 3], 10);
  check("{{wildcard(2)}}", TransformKind.Wildcard, [2], -1);
  check("{{SplitFromLeft(2,1)}}", TransformKind.SplitFromLeft, [2], 1);
  check("{{SplitFromRight(3,2)}}", TransformKind.SplitFromRight, [3], 2);
  check("{{SliceFromLeft(2,2)}}", TransformKind.SliceFromLeft, [2], 2);
  check("{{Left(3,2)}}", TransformKind.Left, [3], 2);
  check("{{Right(3,2)}}", TransformKind.Right, [3], 2);
});

Deno.test("TestSubjectTransformHelpers: untokenize lists placeholders; a strict transform reverses", () => {
  assertEquals(transformUntokenize("bar"), { subject: "bar", placeholders: [] });
  assertEquals(transformUntokenize("foo.$2.$1"), { subject: "foo.*.*", placeholders: ["$2", "$1"] });
  assertEquals(transformUntokenize("foo.{{wildcard(2)}}.{{wildcard(1)}}"), {
    subject: "foo.*.*",
    placeholders: ["{{wildcard(2)}}", "{{wildcard(1)}}"],
  });
  assertEquals(transformTokenize("foo.*.*"), "foo.$1.$2");
  const tr = SubjectTransform.create("foo.*.*", "bar.$2.{{Wildcard(1)}}", { strict: true });
  const subject = "foo.b.a";
  const transformed = tr.transformSubject(subject);
  assertEquals(transformed, "bar.a.b");
  assertEquals(tr.reverse()!.transformSubject(transformed), subject);
});

Deno.test("TestSubjectTransforms: which transforms build, and what they make of subjects", () => {
  const shouldErr = (src: string, dest: string, strict: boolean) => {
    const e = assertThrows(() => SubjectTransform.create(src, dest, { strict }));
    assert(e instanceof TransformError, `${src} -> ${dest}: ${e}`);
    assert(e.badSubject || e.message.startsWith("invalid mapping destination"), e.message);
  };
  shouldErr("foo..", "bar", false);
  shouldErr("foo.*", "bar.*", false);
  shouldErr("foo.*", "bar.$2", false);
  shouldErr("foo.*", "bar.$1.>", false);
  shouldErr("foo.>", "bar.baz", false);
  shouldErr("foo.*.*", "bar.$2", true);
  shouldErr("foo.*", "foo.$foo", true);
  shouldErr("foo.*", "bar.{{Partition(2,1)}}", true);
  shouldErr("foo.*", "foo.{{wildcard(2)}}", false);
  shouldErr("foo.*", "foo.{{unimplemented(1)}}", false);
  shouldErr("foo.*", "foo.{{partition()}}", false);
  shouldErr("foo.*", "foo.{{wildcard(foo)}}", false);
  shouldErr("foo.*", "foo.{{wildcard()}}", false);
  shouldErr("foo.*", "foo.{{wildcard(1,2)}}", false);
  shouldErr("foo.*", "foo.{{ wildcard5) }}", false);
  shouldErr("foo.*", "foo.{{splitLeft(2,2}}", false);
  shouldErr("foo", "bla.{{wildcard(1)}}", false);

  const ok = (src: string, dest: string, strict = false) => SubjectTransform.create(src, dest, { strict });
  ok("foo.*", "bar.{{Wildcard(1)}}", true);
  ok("foo.*.*", "bar.$2");
  ok("foo.*.*", "bar.{{wildcard(1)}}");
  ok("foo.*.*", "bar.{{partition(1)}}");
  ok("foo", "bar");
  ok("foo.*.bar.*.baz", "req.$2.$1");
  ok("baz.>", "mybaz.>");
  ok("*", "{{splitfromleft(1,1)}}");
  ok("", "prefix.>");
  ok("*.*", "{{partition(10,1,2)}}");
  ok("foo.*.*", "foo.{{wildcard(1)}}.{{wildcard(2)}}.{{partition(5,1,2)}}");

  const shouldMatch = (src: string, dest: string, sample: string, expected: string) =>
    assertEquals(ok(src, dest).match(sample), expected, `${src} -> ${dest} on ${sample}`);
  shouldMatch("", "prefix.>", "foo", "prefix.foo");
  shouldMatch("foo", "", "foo", "foo");
  shouldMatch("foo", "bar", "foo", "bar");
  shouldMatch("foo.*.bar.*.baz", "req.$2.$1", "foo.A.bar.B.baz", "req.B.A");
  shouldMatch("foo.*.bar.*.baz", "req.{{wildcard(2)}}.{{wildcard(1)}}", "foo.A.bar.B.baz", "req.B.A");
  shouldMatch("baz.>", "my.pre.>", "baz.1.2.3", "my.pre.1.2.3");
  shouldMatch("baz.>", "foo.bar.>", "baz.1.2.3", "foo.bar.1.2.3");
  shouldMatch("*", "foo.bar.$1", "foo", "foo.bar.foo");
  shouldMatch("*", "{{splitfromleft(1,3)}}", "12345", "123.45");
  shouldMatch("*", "{{SplitFromRight(1,3)}}", "12345", "12.345");
  shouldMatch("*", "{{SliceFromLeft(1,3)}}", "1234567890", "123.456.789.0");
  shouldMatch("*", "{{SliceFromRight(1,3)}}", "1234567890", "1.234.567.890");
  shouldMatch("*", "{{split(1,-)}}", "-abc-def--ghi-", "abc.def.ghi");
  shouldMatch("*", "{{split(1,-)}}", "abc-def--ghi-", "abc.def.ghi");
  shouldMatch("*.*", "{{split(2,-)}}.{{splitfromleft(1,2)}}", "foo.-abc-def--ghij-", "abc.def.ghij.fo.o");
  shouldMatch("*", "{{right(1,1)}}", "1234", "4");
  shouldMatch("*", "{{right(1,3)}}", "1234", "234");
  shouldMatch("*", "{{right(1,6)}}", "1234", "1234");
  shouldMatch("*", "{{left(1,1)}}", "1234", "1");
  shouldMatch("*", "{{left(1,3)}}", "1234", "123");
  shouldMatch("*", "{{left(1,6)}}", "1234", "1234");
  shouldMatch("*", "bar.{{partition(0)}}", "baz", "bar.0");
  shouldMatch("*", "bar.{{partition(10, 0)}}", "foo", "bar.3");
  shouldMatch("*.*", "bar.{{partition(10)}}", "foo.bar", "bar.6");
  shouldMatch("*", "bar.{{partition(10)}}", "foo", "bar.3");
  shouldMatch("*", "bar.{{partition(10)}}", "baz", "bar.0");
  shouldMatch("*", "bar.{{partition(10)}}", "qux", "bar.9");
});

Deno.test("TestSubjectTransformDoesntPanicTransformingMissingToken: a missing token becomes empty", () => {
  const tr = SubjectTransform.create("foo.*", "one.two.{{wildcard(1)}}");
  assertEquals(tr.transformTokens(["foo"]), "one.two.");
});

// Beyond the Go tests.

Deno.test("SubjectTransform.match() returns undefined for subjects outside the source", () => {
  const tr = SubjectTransform.create("foo.*", "bar.$1");
  assertEquals(tr.match("foo.x"), "bar.x");
  assertEquals(tr.match("baz.x"), undefined);
  assertEquals(tr.match("foo.*"), undefined);
  assertEquals(tr.match("foo.x.y"), undefined);
});

Deno.test("SubjectTransform: random(n) stays in range; requireAllWildcards is the 2.9 rule", () => {
  const tr = SubjectTransform.create("foo", "bar.{{random(3)}}");
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) seen.add(tr.match("foo")!);
  assertEquals([...seen].sort(), ["bar.0", "bar.1", "bar.2"]);
  assertThrows(
    () => SubjectTransform.create("foo.*.*", "bar.$2", { requireAllWildcards: true }),
    "invalid mapping destination: not using all of the token wildcard(s) in bar.$2",
  );
});

Deno.test("validateMapping() gives nats-server's texts", () => {
  assertEquals(validateMapping("foo.*", "bar.$1"), undefined);
  assertEquals(
    validateMapping("foo.*", "bar.{{nope(1)}}")?.message,
    "invalid mapping destination: unknown function in {{nope(1)}}",
  );
  assertEquals(
    validateMapping("foo", "bar..baz")?.message,
    "invalid mapping destination: invalid subject in ",
  );
  assertEquals(
    validateMapping("foo.*", "bar.{{wildcard(3)}}")?.message,
    "invalid mapping destination: wildcard index out of range in {{wildcard(3)}}: [3]",
  );
});
