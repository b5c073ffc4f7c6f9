// Port of nats-server conf/lex_test.go: token kinds, values, lines and columns of the config lexer.
import { assertEquals } from "@std/assert";
import { type Item, ItemType, lex, type Lexer } from "../../src/config/_lexer.ts";

function it(typ: ItemType, val: string, line: number, pos: number): Item {
  return { typ, val, line, pos };
}

/** Reads tokens until EOF or the first error, comparing each with `items` in order. */
function expect(lx: Lexer, items: Item[]): void {
  for (const want of items) {
    const got = lx.nextItem();
    if (got.typ === ItemType.EOF) break;
    assertEquals(got, want, `Testing: '${lx.input}'`);
    if (got.typ === ItemType.Error) break;
  }
}

Deno.test("TestPlainValue: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.EOF, "", 1, 0),
  ];
  const lx = lex("foo");
  expect(lx, expectedItems);
});

Deno.test("TestSimpleKeyStringValues: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "bar", 1, 7),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex('foo = "bar"');
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "bar", 1, 7),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = 'bar'");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "bar", 1, 5),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo='bar'");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "bar", 1, 5),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo='bar'\r\n");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "bar", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo=\t'bar'\t");
  expect(lx, expectedItems);
});

Deno.test("TestComplexStringValues: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "bar\\r\\n  \\t", 1, 7),
    it(ItemType.EOF, "", 2, 0),
  ];

  const lx = lex("foo = 'bar\\r\\n  \\t'");
  expect(lx, expectedItems);
});

Deno.test("TestStringStartingWithNumber: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "3xyz", 1, 6),
    it(ItemType.EOF, "", 2, 0),
  ];

  let lx = lex(`foo = 3xyz`);
  expect(lx, expectedItems);

  lx = lex(`foo = 3xyz,`);
  expect(lx, expectedItems);

  lx = lex(`foo = 3xyz;`);
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 2, 9),
    it(ItemType.String, "3xyz", 2, 15),
    it(ItemType.EOF, "", 2, 0),
  ];
  let content = `
        foo = 3xyz
        `;
  lx = lex(content);
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "map", 2, 9),
    it(ItemType.MapStart, "", 2, 14),
    it(ItemType.Key, "foo", 3, 11),
    it(ItemType.String, "3xyz", 3, 17),
    it(ItemType.MapEnd, "", 3, 22),
    it(ItemType.EOF, "", 2, 0),
  ];
  content = `
        map {
          foo = 3xyz}
        `;
  lx = lex(content);
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "map", 2, 9),
    it(ItemType.MapStart, "", 2, 14),
    it(ItemType.Key, "foo", 3, 11),
    it(ItemType.String, "3xyz", 3, 17),
    it(ItemType.MapEnd, "", 4, 10),
    it(ItemType.EOF, "", 2, 0),
  ];
  content = `
        map {
          foo = 3xyz;
        }
        `;
  lx = lex(content);
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "map", 2, 9),
    it(ItemType.MapStart, "", 2, 14),
    it(ItemType.Key, "foo", 3, 11),
    it(ItemType.String, "3xyz", 3, 17),
    it(ItemType.Key, "bar", 4, 11),
    it(ItemType.String, "4wqs", 4, 17),
    it(ItemType.MapEnd, "", 5, 10),
    it(ItemType.EOF, "", 2, 0),
  ];
  content = `
        map {
          foo = 3xyz,
          bar = 4wqs
        }
        `;
  lx = lex(content);
  expect(lx, expectedItems);
});

Deno.test("TestBinaryString: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "e", 1, 9),
    it(ItemType.EOF, "", 1, 0),
  ];
  const lx = lex("foo = \\x65");
  expect(lx, expectedItems);
});

Deno.test("TestBinaryStringLatin1: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "\xe9", 1, 9),
    it(ItemType.EOF, "", 1, 0),
  ];
  const lx = lex("foo = \\xe9");
  expect(lx, expectedItems);
});

Deno.test("TestSimpleKeyIntegerValues: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "123", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo = 123");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "123", 1, 4),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo=123");
  expect(lx, expectedItems);
  lx = lex("foo=123\r\n");
  expect(lx, expectedItems);
});

Deno.test("TestSimpleKeyNegativeIntegerValues: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "-123", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo = -123");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "-123", 1, 4),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo=-123");
  expect(lx, expectedItems);
  lx = lex("foo=-123\r\n");
  expect(lx, expectedItems);
});

Deno.test("TestConvenientIntegerValues: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "1k", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo = 1k");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "1K", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = 1K");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "1m", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = 1m");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "1M", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = 1M");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "1g", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = 1g");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "1G", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = 1G");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "1MB", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = 1MB");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "1Gb", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = 1Gb");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "-1m", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = -1m");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "-1GB", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = -1GB ");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "1Ghz", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = 1Ghz");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "2Pie", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = 2Pie");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "3Mbs", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = 3Mbs,");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "4Gb", 1, 6),
    it(ItemType.Key, "bar", 1, 11),
    it(ItemType.String, "5Gø", 1, 17),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = 4Gb, bar = 5Gø");
  expect(lx, expectedItems);
});

Deno.test("TestSimpleKeyFloatValues: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Float, "22.2", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo = 22.2");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Float, "22.2", 1, 4),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo=22.2");
  expect(lx, expectedItems);
  lx = lex("foo=22.2\r\n");
  expect(lx, expectedItems);
});

Deno.test("TestBadBinaryStringEndingAfterZeroHexChars: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Error, "Expected two hexadecimal digits after '\\x', but hit end of line", 2, 1),
    it(ItemType.EOF, "", 1, 0),
  ];
  const lx = lex("foo = xyz\\x\n");
  expect(lx, expectedItems);
});

Deno.test("TestBadBinaryStringEndingAfterOneHexChar: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Error, "Expected two hexadecimal digits after '\\x', but hit end of line", 2, 1),
    it(ItemType.EOF, "", 1, 0),
  ];
  const lx = lex("foo = xyz\\xF\n");
  expect(lx, expectedItems);
});

Deno.test("TestBadBinaryStringWithZeroHexChars: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Error, "Expected two hexadecimal digits after '\\x', but got ']\"'", 1, 12),
    it(ItemType.EOF, "", 1, 0),
  ];
  const lx = lex(`foo = "[\\x]"`);
  expect(lx, expectedItems);
});

Deno.test("TestBadBinaryStringWithOneHexChar: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Error, "Expected two hexadecimal digits after '\\x', but got 'e]'", 1, 12),
    it(ItemType.EOF, "", 1, 0),
  ];
  const lx = lex(`foo = "[\\xe]"`);
  expect(lx, expectedItems);
});

Deno.test("TestBadFloatValues: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Error, "Floats must start with a digit", 1, 7),
    it(ItemType.EOF, "", 1, 0),
  ];
  const lx = lex("foo = .2");
  expect(lx, expectedItems);
});

Deno.test("TestBadKey: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Error, "Unexpected key separator ':'", 1, 1),
    it(ItemType.EOF, "", 1, 0),
  ];
  const lx = lex(" :foo = 22");
  expect(lx, expectedItems);
});

Deno.test("TestSimpleKeyBoolValues: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Bool, "true", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo = true");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Bool, "true", 1, 4),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo=true");
  expect(lx, expectedItems);
  lx = lex("foo=true\r\n");
  expect(lx, expectedItems);
});

Deno.test("TestComments: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.CommentStart, "", 1, 1),
    it(ItemType.Text, " This is a comment", 1, 1),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("# This is a comment");
  expect(lx, expectedItems);
  lx = lex("# This is a comment\r\n");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.CommentStart, "", 1, 2),
    it(ItemType.Text, " This is a comment", 1, 2),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("// This is a comment\r\n");
  expect(lx, expectedItems);
});

Deno.test("TestTopValuesWithComments: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "123", 1, 6),
    it(ItemType.CommentStart, "", 1, 12),
    it(ItemType.Text, " This is a comment", 1, 12),
    it(ItemType.EOF, "", 1, 0),
  ];

  let lx = lex("foo = 123 // This is a comment");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "123", 1, 4),
    it(ItemType.CommentStart, "", 1, 12),
    it(ItemType.Text, " This is a comment", 1, 12),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo=123    # This is a comment");
  expect(lx, expectedItems);
});

Deno.test("TestRawString: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "bar", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo = bar");
  expect(lx, expectedItems);
  lx = lex(`foo = bar' `);
  expect(lx, expectedItems);
});

Deno.test("TestDateValues: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Datetime, "2016-05-04T18:53:41Z", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];

  const lx = lex("foo = 2016-05-04T18:53:41Z");
  expect(lx, expectedItems);
});

Deno.test("TestVariableValues: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Variable, "bar", 1, 7),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo = $bar");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Variable, "bar", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo =$bar");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Variable, "bar", 1, 5),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo $bar");
  expect(lx, expectedItems);
});

Deno.test("TestArrays: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.ArrayStart, "", 1, 7),
    it(ItemType.Integer, "1", 1, 7),
    it(ItemType.Integer, "2", 1, 10),
    it(ItemType.Integer, "3", 1, 13),
    it(ItemType.String, "bar", 1, 17),
    it(ItemType.ArrayEnd, "", 1, 22),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo = [1, 2, 3, 'bar']");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.ArrayStart, "", 1, 7),
    it(ItemType.Integer, "1", 1, 7),
    it(ItemType.Integer, "2", 1, 9),
    it(ItemType.Integer, "3", 1, 11),
    it(ItemType.String, "bar", 1, 14),
    it(ItemType.ArrayEnd, "", 1, 19),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = [1,2,3,'bar']");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.ArrayStart, "", 1, 7),
    it(ItemType.Integer, "1", 1, 7),
    it(ItemType.Integer, "2", 1, 10),
    it(ItemType.Integer, "3", 1, 12),
    it(ItemType.String, "bar", 1, 15),
    it(ItemType.ArrayEnd, "", 1, 20),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo = [1, 2,3,'bar']");
  expect(lx, expectedItems);
});

const mlArray = `
# top level comment
foo = [
 1, # One
 2, // Two
 3 # Three
 'bar'     ,
 "bar"
]
`;

Deno.test("TestMultilineArrays: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.CommentStart, "", 2, 2),
    it(ItemType.Text, " top level comment", 2, 2),
    it(ItemType.Key, "foo", 3, 1),
    it(ItemType.ArrayStart, "", 3, 8),
    it(ItemType.Integer, "1", 4, 2),
    it(ItemType.CommentStart, "", 4, 6),
    it(ItemType.Text, " One", 4, 6),
    it(ItemType.Integer, "2", 5, 2),
    it(ItemType.CommentStart, "", 5, 7),
    it(ItemType.Text, " Two", 5, 7),
    it(ItemType.Integer, "3", 6, 2),
    it(ItemType.CommentStart, "", 6, 5),
    it(ItemType.Text, " Three", 6, 5),
    it(ItemType.String, "bar", 7, 3),
    it(ItemType.String, "bar", 8, 3),
    it(ItemType.ArrayEnd, "", 9, 2),
    it(ItemType.EOF, "", 9, 0),
  ];
  const lx = lex(mlArray);
  expect(lx, expectedItems);
});

const mlArrayNoSep = `
# top level comment
foo = [
 1 // foo
 2
 3
 'bar'
 "bar"
]
`;

Deno.test("TestMultilineArraysNoSep: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.CommentStart, "", 2, 2),
    it(ItemType.Text, " top level comment", 2, 2),
    it(ItemType.Key, "foo", 3, 1),
    it(ItemType.ArrayStart, "", 3, 8),
    it(ItemType.Integer, "1", 4, 2),
    it(ItemType.CommentStart, "", 4, 6),
    it(ItemType.Text, " foo", 4, 6),
    it(ItemType.Integer, "2", 5, 2),
    it(ItemType.Integer, "3", 6, 2),
    it(ItemType.String, "bar", 7, 3),
    it(ItemType.String, "bar", 8, 3),
    it(ItemType.ArrayEnd, "", 9, 2),
    it(ItemType.EOF, "", 9, 0),
  ];
  const lx = lex(mlArrayNoSep);
  expect(lx, expectedItems);
});

Deno.test("TestSimpleMap: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.MapStart, "", 1, 7),
    it(ItemType.Key, "ip", 1, 7),
    it(ItemType.String, "127.0.0.1", 1, 11),
    it(ItemType.Key, "port", 1, 23),
    it(ItemType.Integer, "4242", 1, 30),
    it(ItemType.MapEnd, "", 1, 35),
    it(ItemType.EOF, "", 1, 0),
  ];

  const lx = lex("foo = {ip='127.0.0.1', port = 4242}");
  expect(lx, expectedItems);
});

const mlMap = `
foo = {
  ip = '127.0.0.1' # the IP
  port= 4242 // the port
}
`;

Deno.test("TestMultilineMap: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 2, 1),
    it(ItemType.MapStart, "", 2, 8),
    it(ItemType.Key, "ip", 3, 3),
    it(ItemType.String, "127.0.0.1", 3, 9),
    it(ItemType.CommentStart, "", 3, 21),
    it(ItemType.Text, " the IP", 3, 21),
    it(ItemType.Key, "port", 4, 3),
    it(ItemType.Integer, "4242", 4, 9),
    it(ItemType.CommentStart, "", 4, 16),
    it(ItemType.Text, " the port", 4, 16),
    it(ItemType.MapEnd, "", 5, 2),
    it(ItemType.EOF, "", 5, 0),
  ];

  const lx = lex(mlMap);
  expect(lx, expectedItems);
});

const nestedMap = `
foo = {
  host = {
    ip = '127.0.0.1'
    port= 4242
  }
}
`;

Deno.test("TestNestedMaps: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 2, 1),
    it(ItemType.MapStart, "", 2, 8),
    it(ItemType.Key, "host", 3, 3),
    it(ItemType.MapStart, "", 3, 11),
    it(ItemType.Key, "ip", 4, 5),
    it(ItemType.String, "127.0.0.1", 4, 11),
    it(ItemType.Key, "port", 5, 5),
    it(ItemType.Integer, "4242", 5, 11),
    it(ItemType.MapEnd, "", 6, 4),
    it(ItemType.MapEnd, "", 7, 2),
    it(ItemType.EOF, "", 7, 0),
  ];

  const lx = lex(nestedMap);
  expect(lx, expectedItems);
});

Deno.test("TestQuotedKeys: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "123", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo : 123");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 1),
    it(ItemType.Integer, "123", 1, 8),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("'foo' : 123");
  expect(lx, expectedItems);
  lx = lex('"foo" : 123');
  expect(lx, expectedItems);
});

Deno.test("TestQuotedKeysWithSpace: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, " foo", 1, 1),
    it(ItemType.Integer, "123", 1, 9),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("' foo' : 123");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, " foo", 1, 1),
    it(ItemType.Integer, "123", 1, 9),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex('" foo" : 123');
  expect(lx, expectedItems);
});

Deno.test("TestColonKeySep: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "123", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo : 123");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "123", 1, 4),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo:123");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "123", 1, 5),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo: 123");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "123", 1, 6),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo:  123\r\n");
  expect(lx, expectedItems);
});

Deno.test("TestWhitespaceKeySep: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "123", 1, 4),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo 123");
  expect(lx, expectedItems);
  lx = lex("foo 123");
  expect(lx, expectedItems);
  lx = lex("foo\t123");
  expect(lx, expectedItems);
  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.Integer, "123", 1, 5),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo\t\t123\r\n");
  expect(lx, expectedItems);
});

const escString = `
foo  = \\t
bar  = \\r
baz  = \\n
q    = \\"
bs   = \\\\
`;

Deno.test("TestEscapedString: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 2, 1),
    it(ItemType.String, "\t", 2, 9),
    it(ItemType.Key, "bar", 3, 1),
    it(ItemType.String, "\r", 3, 9),
    it(ItemType.Key, "baz", 4, 1),
    it(ItemType.String, "\n", 4, 9),
    it(ItemType.Key, "q", 5, 1),
    it(ItemType.String, '"', 5, 9),
    it(ItemType.Key, "bs", 6, 1),
    it(ItemType.String, "\\", 6, 9),
    it(ItemType.EOF, "", 6, 0),
  ];
  const lx = lex(escString);
  expect(lx, expectedItems);
});

Deno.test("TestCompoundStringES: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "\\end", 1, 8),
    it(ItemType.EOF, "", 2, 0),
  ];
  const lx = lex(`foo = "\\\\end"`);
  expect(lx, expectedItems);
});

Deno.test("TestCompoundStringSE: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "start\\", 1, 8),
    it(ItemType.EOF, "", 2, 0),
  ];
  const lx = lex(`foo = "start\\\\"`);
  expect(lx, expectedItems);
});

Deno.test("TestCompoundStringEE: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "Eq", 1, 12),
    it(ItemType.EOF, "", 2, 0),
  ];
  const lx = lex(`foo = \\x45\\x71`);
  expect(lx, expectedItems);
});

Deno.test("TestCompoundStringSEE: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "startEq", 1, 12),
    it(ItemType.EOF, "", 2, 0),
  ];
  const lx = lex(`foo = start\\x45\\x71`);
  expect(lx, expectedItems);
});

Deno.test("TestCompoundStringSES: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "start|end", 1, 9),
    it(ItemType.EOF, "", 2, 0),
  ];
  const lx = lex(`foo = start\\x7Cend`);
  expect(lx, expectedItems);
});

Deno.test("TestCompoundStringEES: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "<>end", 1, 12),
    it(ItemType.EOF, "", 2, 0),
  ];
  const lx = lex(`foo = \\x3c\\x3eend`);
  expect(lx, expectedItems);
});

Deno.test("TestCompoundStringESE: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "<middle>", 1, 12),
    it(ItemType.EOF, "", 2, 0),
  ];
  const lx = lex(`foo = \\x3cmiddle\\x3E`);
  expect(lx, expectedItems);
});

Deno.test("TestBadStringEscape: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(
      ItemType.Error,
      "Invalid escape character 'y'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.",
      1,
      8,
    ),
    it(ItemType.EOF, "", 2, 0),
  ];
  const lx = lex(`foo = \\y`);
  expect(lx, expectedItems);
});

Deno.test("TestNonBool: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "\\true", 1, 7),
    it(ItemType.EOF, "", 2, 0),
  ];
  const lx = lex(`foo = \\\\true`);
  expect(lx, expectedItems);
});

Deno.test("TestNonVariable: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "\\$var", 1, 7),
    it(ItemType.EOF, "", 2, 0),
  ];
  const lx = lex(`foo = \\\\$var`);
  expect(lx, expectedItems);
});

Deno.test("TestEmptyStringDQ: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "", 1, 7),
    it(ItemType.EOF, "", 2, 0),
  ];
  const lx = lex(`foo = ""`);
  expect(lx, expectedItems);
});

Deno.test("TestEmptyStringSQ: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "", 1, 7),
    it(ItemType.EOF, "", 2, 0),
  ];
  const lx = lex(`foo = ''`);
  expect(lx, expectedItems);
});

const nestedWhitespaceMap = `
foo  {
  host  {
    ip = '127.0.0.1'
    port= 4242
  }
}
`;

Deno.test("TestNestedWhitespaceMaps: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 2, 1),
    it(ItemType.MapStart, "", 2, 7),
    it(ItemType.Key, "host", 3, 3),
    it(ItemType.MapStart, "", 3, 10),
    it(ItemType.Key, "ip", 4, 5),
    it(ItemType.String, "127.0.0.1", 4, 11),
    it(ItemType.Key, "port", 5, 5),
    it(ItemType.Integer, "4242", 5, 11),
    it(ItemType.MapEnd, "", 6, 4),
    it(ItemType.MapEnd, "", 7, 2),
    it(ItemType.EOF, "", 7, 0),
  ];

  const lx = lex(nestedWhitespaceMap);
  expect(lx, expectedItems);
});

const semicolons = `
foo = 123;
bar = 'baz';
baz = 'boo'
map {
 id = 1;
}
`;

Deno.test("TestOptionalSemicolons: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 2, 1),
    it(ItemType.Integer, "123", 2, 7),
    it(ItemType.Key, "bar", 3, 1),
    it(ItemType.String, "baz", 3, 8),
    it(ItemType.Key, "baz", 4, 1),
    it(ItemType.String, "boo", 4, 8),
    it(ItemType.Key, "map", 5, 1),
    it(ItemType.MapStart, "", 5, 6),
    it(ItemType.Key, "id", 6, 2),
    it(ItemType.Integer, "1", 6, 7),
    it(ItemType.MapEnd, "", 7, 2),
    it(ItemType.EOF, "", 8, 0),
  ];

  const lx = lex(semicolons);
  expect(lx, expectedItems);
});

Deno.test("TestSemicolonChaining: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.String, "1", 1, 5),
    it(ItemType.Key, "bar", 1, 9),
    it(ItemType.Float, "2.2", 1, 13),
    it(ItemType.Key, "baz", 1, 18),
    it(ItemType.Bool, "true", 1, 22),
    it(ItemType.EOF, "", 1, 0),
  ];

  const lx = lex("foo='1'; bar=2.2; baz=true;");
  expect(lx, expectedItems);
});

const noquotes = `
foo = 123
bar = baz
baz=boo
map {
 id:one
 id2 : onetwo
}
t true
f false
tstr "true"
tkey = two
fkey = five # This should be a string
`;

Deno.test("TestNonQuotedStrings: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 2, 1),
    it(ItemType.Integer, "123", 2, 7),
    it(ItemType.Key, "bar", 3, 1),
    it(ItemType.String, "baz", 3, 7),
    it(ItemType.Key, "baz", 4, 1),
    it(ItemType.String, "boo", 4, 5),
    it(ItemType.Key, "map", 5, 1),
    it(ItemType.MapStart, "", 5, 6),
    it(ItemType.Key, "id", 6, 2),
    it(ItemType.String, "one", 6, 5),
    it(ItemType.Key, "id2", 7, 2),
    it(ItemType.String, "onetwo", 7, 8),
    it(ItemType.MapEnd, "", 8, 2),
    it(ItemType.Key, "t", 9, 1),
    it(ItemType.Bool, "true", 9, 3),
    it(ItemType.Key, "f", 10, 1),
    it(ItemType.Bool, "false", 10, 3),
    it(ItemType.Key, "tstr", 11, 1),
    it(ItemType.String, "true", 11, 7),
    it(ItemType.Key, "tkey", 12, 1),
    it(ItemType.String, "two", 12, 8),
    it(ItemType.Key, "fkey", 13, 1),
    it(ItemType.String, "five", 13, 8),
    it(ItemType.CommentStart, "", 13, 14),
    it(ItemType.Text, " This should be a string", 13, 14),
    it(ItemType.EOF, "", 14, 0),
  ];
  const lx = lex(noquotes);
  expect(lx, expectedItems);
});

const danglingquote = `
listen: "localhost:4242

http: localhost:8222
`;

Deno.test("TestDanglingQuotedString: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "listen", 2, 1),
    it(ItemType.Error, "Unexpected EOF.", 5, 1),
  ];
  const lx = lex(danglingquote);
  expect(lx, expectedItems);
});

const keydanglingquote = `
foo = "
listen: "

http: localhost:8222

"
`;

Deno.test("TestKeyDanglingQuotedString: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 2, 1),
    it(ItemType.String, "\nlisten: ", 3, 8),
    it(ItemType.Key, "http", 5, 1),
    it(ItemType.String, "localhost:8222", 5, 7),
    it(ItemType.Error, "Unexpected EOF.", 8, 1),
  ];
  const lx = lex(keydanglingquote);
  expect(lx, expectedItems);
});

const danglingsquote = `
listen: 'localhost:4242

http: localhost:8222
`;

Deno.test("TestDanglingSingleQuotedString: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "listen", 2, 1),
    it(ItemType.Error, "Unexpected EOF.", 5, 1),
  ];
  const lx = lex(danglingsquote);
  expect(lx, expectedItems);
});

const keydanglingsquote = `
foo = '
listen: '

http: localhost:8222

'
`;

Deno.test("TestKeyDanglingSingleQuotedString: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 2, 1),
    it(ItemType.String, "\nlisten: ", 3, 8),
    it(ItemType.Key, "http", 5, 1),
    it(ItemType.String, "localhost:8222", 5, 7),
    it(ItemType.Error, "Unexpected EOF.", 8, 1),
  ];
  const lx = lex(keydanglingsquote);
  expect(lx, expectedItems);
});

const mapdanglingbracket = `
listen = 4222

cluster = {

  foo = bar

`;

Deno.test("TestMapDanglingBracket: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "listen", 2, 1),
    it(ItemType.Integer, "4222", 2, 10),
    it(ItemType.Key, "cluster", 4, 1),
    it(ItemType.MapStart, "", 4, 12),
    it(ItemType.Key, "foo", 6, 3),
    it(ItemType.String, "bar", 6, 9),
    it(ItemType.Error, "Unexpected EOF processing map.", 8, 1),
  ];
  const lx = lex(mapdanglingbracket);
  expect(lx, expectedItems);
});

const blockdanglingparens = `
listen = 4222

quote = (

  foo = bar

`;

Deno.test("TestBlockDanglingParens: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "listen", 2, 1),
    it(ItemType.Integer, "4222", 2, 10),
    it(ItemType.Key, "quote", 4, 1),
    it(ItemType.Error, "Unexpected EOF processing block.", 8, 1),
  ];
  const lx = lex(blockdanglingparens);
  expect(lx, expectedItems);
});

Deno.test("TestMapQuotedKeys: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.MapStart, "", 1, 7),
    it(ItemType.Key, "bar", 1, 8),
    it(ItemType.Integer, "4242", 1, 15),
    it(ItemType.MapEnd, "", 1, 20),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo = {'bar' = 4242}");
  expect(lx, expectedItems);
  lx = lex('foo = {"bar" = 4242}');
  expect(lx, expectedItems);
});

Deno.test("TestSpecialCharsMapQuotedKeys: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.MapStart, "", 1, 7),
    it(ItemType.Key, "bar-1.2.3", 1, 8),
    it(ItemType.MapStart, "", 1, 22),
    it(ItemType.Key, "port", 1, 23),
    it(ItemType.Integer, "4242", 1, 28),
    it(ItemType.MapEnd, "", 1, 34),
    it(ItemType.MapEnd, "", 1, 35),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("foo = {'bar-1.2.3' = { port:4242 }}");
  expect(lx, expectedItems);
  lx = lex('foo = {"bar-1.2.3" = { port:4242 }}');
  expect(lx, expectedItems);
});

const mlnestedmap = `
systems {
  allinone {
    description: "This is a description."
  }
}
`;

Deno.test("TestDoubleNestedMapsNewLines: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "systems", 2, 1),
    it(ItemType.MapStart, "", 2, 10),
    it(ItemType.Key, "allinone", 3, 3),
    it(ItemType.MapStart, "", 3, 13),
    it(ItemType.Key, "description", 4, 5),
    it(ItemType.String, "This is a description.", 4, 19),
    it(ItemType.MapEnd, "", 5, 4),
    it(ItemType.MapEnd, "", 6, 2),
    it(ItemType.EOF, "", 7, 0),
  ];
  const lx = lex(mlnestedmap);
  expect(lx, expectedItems);
});

const blockexample = `
numbers (
1234567890
)
`;

Deno.test("TestBlockString: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "numbers", 2, 1),
    it(ItemType.String, "\n1234567890\n", 4, 10),
  ];
  const lx = lex(blockexample);
  expect(lx, expectedItems);
});

Deno.test("TestBlockStringEOF: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "numbers", 2, 1),
    it(ItemType.String, "\n1234567890\n", 4, 10),
  ];
  // The text ends in a NUL byte instead of its last new line: NUL reads as end of input.
  const lx = lex(blockexample.slice(0, -1) + "\0");
  expect(lx, expectedItems);
});

const mlblockexample = `
numbers (
  12(34)56
  (
    7890
  )
)
`;

Deno.test("TestBlockStringMultiLine: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "numbers", 2, 1),
    it(ItemType.String, "\n  12(34)56\n  (\n    7890\n  )\n", 7, 10),
  ];
  const lx = lex(mlblockexample);
  expect(lx, expectedItems);
});

Deno.test("TestUnquotedIPAddr: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "listen", 1, 0),
    it(ItemType.String, "127.0.0.1:4222", 1, 8),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex("listen: 127.0.0.1:4222");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "listen", 1, 0),
    it(ItemType.String, "127.0.0.1", 1, 8),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("listen: 127.0.0.1");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "listen", 1, 0),
    it(ItemType.String, "apcera.me:80", 1, 8),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("listen: apcera.me:80");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "listen", 1, 0),
    it(ItemType.String, "nats.io:-1", 1, 8),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("listen: nats.io:-1");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "listen", 1, 0),
    it(ItemType.Integer, "-1", 1, 8),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("listen: -1");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "listen", 1, 0),
    it(ItemType.String, ":-1", 1, 8),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("listen: :-1");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "listen", 1, 0),
    it(ItemType.String, ":80", 1, 9),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("listen = :80");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "listen", 1, 0),
    it(ItemType.ArrayStart, "", 1, 10),
    it(ItemType.String, "localhost:4222", 1, 10),
    it(ItemType.String, "localhost:4333", 1, 26),
    it(ItemType.ArrayEnd, "", 1, 41),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("listen = [localhost:4222, localhost:4333]");
  expect(lx, expectedItems);
});

const arrayOfMaps = `
authorization {
    users = [
      {user: alice, password: foo}
      {user: bob,   password: bar}
    ]
    timeout: 0.5
}
`;

Deno.test("TestArrayOfMaps: tokens, lines and columns match nats-server", () => {
  const expectedItems: Item[] = [
    it(ItemType.Key, "authorization", 2, 1),
    it(ItemType.MapStart, "", 2, 16),
    it(ItemType.Key, "users", 3, 5),
    it(ItemType.ArrayStart, "", 3, 14),
    it(ItemType.MapStart, "", 4, 8),
    it(ItemType.Key, "user", 4, 8),
    it(ItemType.String, "alice", 4, 14),
    it(ItemType.Key, "password", 4, 21),
    it(ItemType.String, "foo", 4, 31),
    it(ItemType.MapEnd, "", 4, 35),
    it(ItemType.MapStart, "", 5, 8),
    it(ItemType.Key, "user", 5, 8),
    it(ItemType.String, "bob", 5, 14),
    it(ItemType.Key, "password", 5, 21),
    it(ItemType.String, "bar", 5, 31),
    it(ItemType.MapEnd, "", 5, 35),
    it(ItemType.ArrayEnd, "", 6, 6),
    it(ItemType.Key, "timeout", 7, 5),
    it(ItemType.Float, "0.5", 7, 14),
    it(ItemType.MapEnd, "", 8, 2),
    it(ItemType.EOF, "", 9, 0),
  ];
  const lx = lex(arrayOfMaps);
  expect(lx, expectedItems);
});

Deno.test("TestInclude: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Include, "users.conf", 1, 9),
    it(ItemType.EOF, "", 1, 0),
  ];
  let lx = lex('include "users.conf"');
  expect(lx, expectedItems);

  lx = lex("include 'users.conf'");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Include, "users.conf", 1, 8),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("include users.conf");
  expect(lx, expectedItems);
});

Deno.test("TestMapInclude: tokens, lines and columns match nats-server", () => {
  let expectedItems: Item[] = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.MapStart, "", 1, 5),
    it(ItemType.Include, "users.conf", 1, 14),
    it(ItemType.MapEnd, "", 1, 26),
    it(ItemType.EOF, "", 1, 0),
  ];

  let lx = lex("foo { include users.conf }");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.MapStart, "", 1, 5),
    it(ItemType.Include, "users.conf", 1, 13),
    it(ItemType.MapEnd, "", 1, 24),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo {include users.conf}");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.MapStart, "", 1, 5),
    it(ItemType.Include, "users.conf", 1, 15),
    it(ItemType.MapEnd, "", 1, 28),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex("foo { include 'users.conf' }");
  expect(lx, expectedItems);

  expectedItems = [
    it(ItemType.Key, "foo", 1, 0),
    it(ItemType.MapStart, "", 1, 5),
    it(ItemType.Include, "users.conf", 1, 15),
    it(ItemType.MapEnd, "", 1, 27),
    it(ItemType.EOF, "", 1, 0),
  ];
  lx = lex('foo { include "users.conf"}');
  expect(lx, expectedItems);
});

interface JsonCase {
  name: string;
  input: string;
  expected: Item[];
}

const jsonCases: JsonCase[] = [
  {
    name: "should omit initial and final brackets at top level with a single item",
    input: `
                        {
                          "http_port": 8223
                        }
                        `,
    expected: [it(ItemType.Key, "http_port", 3, 28), it(ItemType.Integer, "8223", 3, 40)],
  },
  {
    name: "should omit trailing commas at top level with two items",
    input: `
                        {
                          "http_port": 8223,
                          "port": 4223
                        }
                        `,
    expected: [
      it(ItemType.Key, "http_port", 3, 28),
      it(ItemType.Integer, "8223", 3, 40),
      it(ItemType.Key, "port", 4, 28),
      it(ItemType.Integer, "4223", 4, 35),
    ],
  },
  {
    name: "should omit trailing commas at top level with multiple items",
    input: `
                        {
                          "http_port": 8223,
                          "port": 4223,
                          "max_payload": "5MB",
                          "debug": true,
                          "max_control_line": 1024
                        }
                        `,
    expected: [
      it(ItemType.Key, "http_port", 3, 28),
      it(ItemType.Integer, "8223", 3, 40),
      it(ItemType.Key, "port", 4, 28),
      it(ItemType.Integer, "4223", 4, 35),
      it(ItemType.Key, "max_payload", 5, 28),
      it(ItemType.String, "5MB", 5, 43),
      it(ItemType.Key, "debug", 6, 28),
      it(ItemType.Bool, "true", 6, 36),
      it(ItemType.Key, "max_control_line", 7, 28),
      it(ItemType.Integer, "1024", 7, 47),
    ],
  },
  {
    name: "should support JSON not prettified",
    input: `{"http_port": 8224,"port": 4224}
                        `,
    expected: [
      it(ItemType.Key, "http_port", 1, 2),
      it(ItemType.Integer, "8224", 1, 14),
      it(ItemType.Key, "port", 1, 20),
      it(ItemType.Integer, "4224", 1, 27),
    ],
  },
  {
    name: "should support JSON not prettified with final bracket after newline",
    input: `{"http_port": 8225,"port": 4225
                        }
                        `,
    expected: [
      it(ItemType.Key, "http_port", 1, 2),
      it(ItemType.Integer, "8225", 1, 14),
      it(ItemType.Key, "port", 1, 20),
      it(ItemType.Integer, "4225", 1, 27),
    ],
  },
  {
    name: "should support uglified JSON with inner blocks",
    input:
      `{"http_port": 8227,"port": 4227,"write_deadline": "1h","cluster": {"port": 6222,"routes": ["nats://127.0.0.1:4222","nats://127.0.0.1:4223","nats://127.0.0.1:4224"]}}
                        `,
    expected: [
      it(ItemType.Key, "http_port", 1, 2),
      it(ItemType.Integer, "8227", 1, 14),
      it(ItemType.Key, "port", 1, 20),
      it(ItemType.Integer, "4227", 1, 27),
      it(ItemType.Key, "write_deadline", 1, 33),
      it(ItemType.String, "1h", 1, 51),
      it(ItemType.Key, "cluster", 1, 56),
      it(ItemType.MapStart, "", 1, 67),
      it(ItemType.Key, "port", 1, 68),
      it(ItemType.Integer, "6222", 1, 75),
      it(ItemType.Key, "routes", 1, 81),
      it(ItemType.ArrayStart, "", 1, 91),
      it(ItemType.String, "nats://127.0.0.1:4222", 1, 92),
      it(ItemType.String, "nats://127.0.0.1:4223", 1, 116),
      it(ItemType.String, "nats://127.0.0.1:4224", 1, 140),
      it(ItemType.ArrayEnd, "", 1, 163),
      it(ItemType.MapEnd, "", 1, 164),
    ],
  },
  {
    name: "should support prettified JSON with inner blocks",
    input: `
                        {
                          "http_port": 8227,
                          "port": 4227,
                          "write_deadline": "1h",
                          "cluster": {
                            "port": 6222,
                            "routes": [
                              "nats://127.0.0.1:4222",
                              "nats://127.0.0.1:4223",
                              "nats://127.0.0.1:4224"
                            ]
                          }
                        }
                        `,
    expected: [
      it(ItemType.Key, "http_port", 3, 28),
      it(ItemType.Integer, "8227", 3, 40),
      it(ItemType.Key, "port", 4, 28),
      it(ItemType.Integer, "4227", 4, 35),
      it(ItemType.Key, "write_deadline", 5, 28),
      it(ItemType.String, "1h", 5, 46),
      it(ItemType.Key, "cluster", 6, 28),
      it(ItemType.MapStart, "", 6, 39),
      it(ItemType.Key, "port", 7, 30),
      it(ItemType.Integer, "6222", 7, 37),
      it(ItemType.Key, "routes", 8, 30),
      it(ItemType.ArrayStart, "", 8, 40),
      it(ItemType.String, "nats://127.0.0.1:4222", 9, 32),
      it(ItemType.String, "nats://127.0.0.1:4223", 10, 32),
      it(ItemType.String, "nats://127.0.0.1:4224", 11, 32),
      it(ItemType.ArrayEnd, "", 12, 30),
      it(ItemType.MapEnd, "", 13, 28),
    ],
  },
];

Deno.test("TestJSONCompat: JSON documents lex as config maps", async (t) => {
  for (const c of jsonCases) {
    await t.step(c.name, () => expect(lex(c.input), c.expected));
  }
});
