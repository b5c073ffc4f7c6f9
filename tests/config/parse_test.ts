// Port of nats-server conf/parse_test.go: values, variables, includes and size suffixes of the config parser.
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { entryInfo, parseConfig, parseConfigFile } from "../../src/config/mod.ts";

function test(data: string, ex: Record<string, unknown>): void {
  const m = parseConfig(data);
  assertEquals(m as Record<string, unknown>, ex);
}

function withEnv(name: string, value: string, fn: () => void): void {
  Deno.env.set(name, value);
  try {
    fn();
  } finally {
    Deno.env.delete(name);
  }
}

Deno.test("TestSimpleTopLevel: strings, floats, bools and integers on one line", () => {
  test("foo='1'; bar=2.2; baz=true; boo=22", { foo: "1", bar: 2.2, baz: true, boo: 22 });
});

Deno.test("TestBools: true, TRUE, yes and on are all true", () => {
  for (const s of ["foo=true", "foo=TRUE", "foo=true", "foo=yes", "foo=on"]) test(s, { foo: true });
});

const varSample = `
  index = 22
  foo = $index
`;

Deno.test("TestSimpleVariable: a $reference takes an earlier key's value", () => {
  test(varSample, { index: 22, foo: 22 });
});

const varNestedSample = `
  index = 22
  nest {
    index = 11
    foo = $index
  }
  bar = $index
`;

Deno.test("TestNestedVariable: the innermost enclosing block wins", () => {
  test(varNestedSample, { index: 22, nest: { index: 11, foo: 11 }, bar: 22 });
});

Deno.test("TestMissingVariable: an unknown reference is an error", () => {
  const err = assertThrows(() => parseConfig("foo=$index"));
  assert(err.message.startsWith("variable reference"), err.message);
});

Deno.test("TestEnvVariable: an environment value is parsed as a number", () => {
  withEnv("__UNIQ22__", "22", () => test("foo = $__UNIQ22__", { foo: 22 }));
});

Deno.test("TestEnvVariableString: an environment value is parsed as a string", () => {
  withEnv("__UNIQ22__", "xyz", () => test("foo = $__UNIQ22__", { foo: "xyz" }));
});

Deno.test("TestEnvVariableStringStartingWithNumber: a malformed reference is an error", () => {
  // As in the Go test, the reference is the literal text `$%s`, which is no variable name.
  withEnv("__UNIQ22__", "3xyz", () => {
    assertThrows(() => parseConfig("foo = $%s"));
  });
});

Deno.test("TestEnvVariableStringStartingWithNumberAndSizeUnit: 3Gyz stays a string", () => {
  withEnv("__UNIQ22__", "3Gyz", () => test("foo = $__UNIQ22__", { foo: "3Gyz" }));
});

Deno.test("TestEnvVariableStringStartingWithNumberUsingQuotes: quotes in the value are honoured", () => {
  withEnv("__UNIQ22__", "'3xyz'", () => test("foo = $__UNIQ22__", { foo: "3xyz" }));
});

Deno.test("TestBcryptVariable: a bare $2a$ hash is a string, not a variable", () => {
  test("password: $2a$11$ooo", { password: "$2a$11$ooo" });
});

const easynum = `
k = 8k
kb = 4kb
ki = 3ki
kib = 4ki
m = 1m
mb = 2MB
mi = 2Mi
mib = 64MiB
g = 2g
gb = 22GB
gi = 22Gi
gib = 22GiB
tb = 22TB
ti = 22Ti
tib = 22TiB
pb = 22PB
pi = 22Pi
pib = 22PiB
`;

Deno.test("TestConvenientNumbers: size suffixes multiply by 1000 or 1024", () => {
  const K = 1024;
  test(easynum, {
    k: 8 * 1000,
    kb: 4 * K,
    ki: 3 * K,
    kib: 4 * K,
    m: 1000 * 1000,
    mb: 2 * K * K,
    mi: 2 * K * K,
    mib: 64 * K * K,
    g: 2 * 1000 * 1000 * 1000,
    gb: 22 * K ** 3,
    gi: 22 * K ** 3,
    gib: 22 * K ** 3,
    tb: 22 * K ** 4,
    ti: 22 * K ** 4,
    tib: 22 * K ** 4,
    pb: 22 * K ** 5,
    pi: 22 * K ** 5,
    pib: 22 * K ** 5,
  });
});

const sample1 = `
foo  {
  host {
    ip   = '127.0.0.1'
    port = 4242
  }
  servers = [ "a.com", "b.com", "c.com"]
}
`;

Deno.test("TestSample1: nested maps and an array", () => {
  test(sample1, {
    foo: { host: { ip: "127.0.0.1", port: 4242 }, servers: ["a.com", "b.com", "c.com"] },
  });
});

const cluster = `
cluster {
  port: 4244

  authorization {
    user: route_user
    password: top_secret
    timeout: 1
  }

  # Comment lines of both kinds sit between entries.

  // Second comment style

  routes = [
    nats-route://foo:bar@apcera.me:4245
    nats-route://foo:bar@apcera.me:4246
  ]
}
`;

Deno.test("TestSample2: a cluster block with bare URLs in an array", () => {
  test(cluster, {
    cluster: {
      port: 4244,
      authorization: { user: "route_user", password: "top_secret", timeout: 1 },
      routes: ["nats-route://foo:bar@apcera.me:4245", "nats-route://foo:bar@apcera.me:4246"],
    },
  });
});

const sample3 = `
foo  {
  expr = '(true == "false")'
  text = 'This is a multi-line
text block.'
}
`;

Deno.test("TestSample3: single-quoted strings keep quotes and new lines", () => {
  test(sample3, { foo: { expr: '(true == "false")', text: "This is a multi-line\ntext block." } });
});

const sample4 = `
  array [
    { abc: 123 }
    { xyz: "word" }
  ]
`;

Deno.test("TestSample4: an array of maps", () => {
  test(sample4, { array: [{ abc: 123 }, { xyz: "word" }] });
});

const sample5 = `
  now = 2016-05-04T18:53:41Z
  gmt = false
`;

Deno.test("TestSample5: a Zulu datetime", () => {
  test(sample5, { now: new Date(Date.UTC(2016, 4, 4, 18, 53, 41)), gmt: false });
});

Deno.test("TestIncludes: include is relative to the including file", () => {
  const m = parseConfigFile("conf/simple.conf");
  assertEquals(m as Record<string, unknown>, {
    listen: "127.0.0.1:4222",
    authorization: {
      ALICE_PASS: "$2a$10$UHR6GhotWhpLsKtVP0/i6.Nh9.fuY73cWjLoJjb2sKT8KISBcUW5q",
      BOB_PASS: "$2a$11$dZM98SpGeI7dCFFGSpt.JObQcix8YHml4TBUZoge9R1uxnMIln5ly",
      users: [
        { user: "alice", password: "$2a$10$UHR6GhotWhpLsKtVP0/i6.Nh9.fuY73cWjLoJjb2sKT8KISBcUW5q" },
        { user: "bob", password: "$2a$11$dZM98SpGeI7dCFFGSpt.JObQcix8YHml4TBUZoge9R1uxnMIln5ly" },
      ],
      timeout: 0.5,
    },
  });
});

const varIncludedVariablesSample = `
authorization {

  include "./includes/passwords.conf"

  CAROL_PASS: foo

  users = [
   {user: alice, password: $ALICE_PASS}
   {user: bob,   password: $BOB_PASS}
   {user: carol, password: $CAROL_PASS}
  ]
}
`;

Deno.test("TestIncludeVariablesWithChecks: included keys keep their own file positions", () => {
  // The Go test resolves the include against its working folder; ours lives in conf/.
  const m = parseConfig(varIncludedVariablesSample, { file: "conf/inline.conf" });
  const auth = m.authorization as Record<string, unknown>;
  const check = (key: string, val: string, line: number, pos: number) => {
    const info = entryInfo(auth, key);
    assert(info, `expected key ${key}`);
    assertEquals([info.line, info.pos], [line, pos], key);
    assertEquals(auth[key], val);
  };
  check("ALICE_PASS", "$2a$10$UHR6GhotWhpLsKtVP0/i6.Nh9.fuY73cWjLoJjb2sKT8KISBcUW5q", 2, 1);
  check("BOB_PASS", "$2a$11$dZM98SpGeI7dCFFGSpt.JObQcix8YHml4TBUZoge9R1uxnMIln5ly", 3, 1);
  check("CAROL_PASS", "foo", 6, 3);
  assertEquals(entryInfo(auth, "ALICE_PASS")?.file, "conf/includes/passwords.conf");
});

Deno.test("TestParserNoInfiniteLoop: truncated input ends with an Unexpected EOF error", () => {
  for (const text of ["A@@Føøøø?˛ø:{øøøø˙˙", 'include "9/\ufffd']) {
    const err = assertThrows(() => parseConfig(text));
    assertStringIncludes(err.message, "Unexpected EOF");
  }
});

// Beyond the Go tests: behaviour this port adds or pins down.

Deno.test("parseConfig() reports a cycle between environment variables", () => {
  Deno.env.set("__CYC_A__", "$__CYC_B__");
  Deno.env.set("__CYC_B__", "$__CYC_A__");
  try {
    const err = assertThrows(() => parseConfig("foo = $__CYC_A__"));
    assertStringIncludes(err.message, "variable reference cycle for '__CYC_A__'");
  } finally {
    Deno.env.delete("__CYC_A__");
    Deno.env.delete("__CYC_B__");
  }
});

Deno.test("parseConfig() reads bare values as nats-server does", () => {
  test("a: foo.>\nb: >\nc: nats://127.0.0.1:4222\nd: 127.0.0.1:-1\ne: id:abc\nf: -1\ng: 1.5", {
    a: "foo.>",
    b: ">",
    c: "nats://127.0.0.1:4222",
    d: "127.0.0.1:-1",
    e: "id:abc",
    f: -1,
    g: 1.5,
  });
});

Deno.test("parseConfig() gives Go's texts for syntax errors", () => {
  assertThrows(
    () => parseConfig("port: 4222\nfoo = [1,,2]\n"),
    "Parse error on line 2: 'Unexpected array value terminator ','.'",
  );
  assertThrows(
    () => parseConfig("port: $FOO_NOT_SET_ANYWHERE\n"),
    "variable reference for 'FOO_NOT_SET_ANYWHERE' on line 1 can not be found",
  );
  assertThrows(
    () => parseConfig('include "nope.conf"\n'),
    "error parsing include file 'nope.conf', open nope.conf: no such file or directory",
  );
  assertThrows(
    () => parseConfigFile("conf/nonexist.conf"),
    "open conf/nonexist.conf: no such file or directory",
  );
});

Deno.test("parseConfig() keeps multi-line ( ) blocks as strings", () => {
  test("numbers (\n  12(34)56\n)\n", { numbers: "\n  12(34)56\n" });
});
