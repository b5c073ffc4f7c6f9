// Side by side with the reference: the same raw exchange against nats-server (when on PATH) and natsdeno,
// comparing every byte after INFO and whether the server closed the connection.

import { assertEquals } from "@std/assert";
import { runServer } from "../_helpers/server.ts";
import {
  exchange,
  type ExchangeResult,
  natsServerPath,
  runRefServer,
  type Step,
} from "../_helpers/ref_server.ts";

const C = 'CONNECT {"verbose":false,"pedantic":false}\r\n';
const P = { pauseMs: 30 };

/** name → steps sent after INFO. Both servers run with max_control_line 256 and max_payload 1024. */
const CASES: [string, Step[]][] = [
  ["bad verb", ["ZZZ\r\n"]],
  ["bad verb after a valid prefix", [C, "PUBS foo 2\r\nok\r\n"]],
  ["verb split across reads", [C, "SU", P, "B foo 1\r\nPU", P, "B foo 5\r\nhel", P, "lo\r\nPI", P, "NG\r\n"]],
  ["line split between CR and LF", [C, "SUB foo 1\r", P, "\nPUB foo 2\r", P, "\nok\r", P, "\nPING\r\n"]],
  ["size that is not a number", [C, "PUB foo abc\r\n"]],
  ["negative size", [C, "PUB foo -1\r\n"]],
  ["size missing", [C, "PUB foo\r\n"]],
  ["too many PUB arguments", [C, "PUB foo bar baz 2\r\nok\r\n"]],
  ["payload longer than its size", [C, "PUB foo 2\r\nokk\r\n"]],
  ["payload end with space before LF", [C, "PUB foo 2\r\nok\r \n"]],
  ["size that overflows int64", [C, "PUB foo 18446744073709551615123\r\n"]],
  ["max control line, unterminated", [C, "PUB foo " + "2".repeat(300)]],
  ["max control line, terminated SUB", [C, "SUB " + "a".repeat(300) + " 1\r\n"]],
  ["max control line split over reads", [C, "SUB " + "a".repeat(200), P, "b".repeat(100) + " 1\r\n"]],
  ["max payload", [C, "PUB foo 2000\r\n"]],
  ["max payload far over int32", [C, "PUB foo 199380988\r\n"]],
  ["CONNECT with bad JSON", ["CONNECT {bad\r\n"]],
  ["CONNECT with a JSON string", ['CONNECT "x"\r\n']],
  ["CONNECT with an empty argument", ["CONNECT \r\n"]],
  ["CONNECT protocol 2", ['CONNECT {"protocol":2}\r\n']],
  ["CONNECT protocol -1", ['CONNECT {"protocol":-1}\r\n']],
  ["CONNECT protocol as a string", ['CONNECT {"protocol":"1"}\r\n']],
  ["CONNECT verbose as a string", ['CONNECT {"verbose":"yes"}\r\nPING\r\n']],
  ["no_responders without headers", ['CONNECT {"no_responders":true}\r\n']],
  ["HPUB without headers", [C, "HPUB foo 0 2\r\nok\r\n"]],
  ["HPUB header larger than total", [
    'CONNECT {"headers":true,"verbose":false}\r\nHPUB foo 10 5\r\nhello\r\n',
  ]],
  ["HPUB delivered to a client without headers", [
    C,
    "SUB foo 1\r\nPING\r\n",
    P,
    'CONNECT {"headers":true,"verbose":false}\r\nHPUB foo 12 14\r\nName:Derek\r\nOK\r\nPING\r\n',
  ]],
  ["no responders status", [
    'CONNECT {"headers":true,"no_responders":true,"verbose":false}\r\nSUB r 1\r\nPUB foo r 2\r\nok\r\nPING\r\n',
  ]],
  ["PING with junk", [C, "PING junk\r\n"]],
  ["PONG with junk", [C, "PONG junk\r\nPING\r\n"]],
  ["PING with LF only", [C, "PING\n"]],
  ["UNSUB without sid", [C, "UNSUB \r\n"]],
  ["UNSUB with a bad max", [C, "SUB foo 1\r\nUNSUB 1 x\r\nPUB foo 2\r\nok\r\nPING\r\n"]],
  ["UNSUB with too many args", [C, "UNSUB 1 2 3\r\n"]],
  ["UNSUB of an unknown sid", [C, "UNSUB 99\r\nPING\r\n"]],
  ["SUB without sid", [C, "SUB foo\r\n"]],
  ["SUB with too many args", [C, "SUB foo bar baz 1\r\n"]],
  ["SUB with a bad subject", [C, "SUB foo..bar 1\r\nPING\r\n"]],
  ["SUB with a bad queue", [C, "SUB foo ba*r 1\r\nPING\r\n"]],
  ["SUB twice with one sid", [C, "SUB foo 1\r\nSUB foo 1\r\nPUB foo 2\r\nok\r\nPING\r\n"]],
  ["-ERR from a client", [C, "-ERR 'foo'\r\n"]],
  ["+OK from a client", [C, "+OK\r\nPING\r\n"]],
  ["INFO from a client", [C, "INFO {}\r\nPING\r\n"]],
  ["INFO from a client with an empty argument", [C, "INFO  \r\n"]],
  ["INFO from a client with bad JSON", [C, "INFO {bad\r\nPING\r\n"]],
  ["INFO from a client with a JSON array", [C, "INFO [1]\r\nPING\r\n"]],
  ["INFO from a client with null", [C, "INFO null\r\nPING\r\n"]],
  ["verbose by default", ["CONNECT {}\r\nPUB foo 2\r\nok\r\nSUB foo 1\r\nUNSUB 1\r\nPING\r\n"]],
  ["operations before CONNECT", ["SUB foo 1\r\nPUB foo 2\r\nok\r\nPING\r\n"]],
  ["second CONNECT turns verbose on", [C, "PING\r\n", 'CONNECT {"verbose":true}\r\nPING\r\n']],
  ["pedantic publish to wildcards", [
    'CONNECT {"verbose":false,"pedantic":true}\r\nPUB foo.* 2\r\nok\r\nPUB foo..bar 2\r\nok\r\nPING\r\n',
  ]],
  ["non-pedantic publish to wildcards", [C, "SUB foo.* 1\r\nPUB foo.* 2\r\nok\r\nPING\r\n"]],
  ["publish on the gateway reply prefix", [C, "PUB _GR_.x 2\r\nok\r\nPING\r\n"]],
  ["reserved reply prefixes", [
    C,
    "SUB foo 1\r\nPUB foo _R_.x 1\r\na\r\nPUB foo $JS.ACK.x 1\r\nb\r\nPUB foo _GR_.x 1\r\nc\r\n",
    "PUB foo _R_. 1\r\nd\r\nPUB foo _R_x 1\r\ne\r\nPING\r\n",
  ]],
  ["reserved reply prefix with verbose", ['CONNECT {"verbose":true}\r\nPUB foo _R_.x 1\r\na\r\nPING\r\n']],
  ["queue group _sys_", [C, "SUB foo _sys_ 1\r\nPUB foo 1\r\na\r\nPING\r\n"]],
  ["lower-case verbs", ['connect {"verbose":false}\r\nsub foo 1\r\npub foo 2\r\nok\r\nping\r\n']],
  ["tabs as separators", [C, "SUB\tfoo\t1\r\nPUB\tfoo\tbar\t2\r\nok\r\nPING\r\n"]],
  ["empty payload", [C, "SUB foo 1\r\nPUB foo 0\r\n\r\nPING\r\n"]],
  ["auto-unsubscribe after one", [
    C,
    "SUB foo 1\r\nUNSUB 1 1\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPING\r\n",
  ]],
  ["echo off", ['CONNECT {"verbose":false,"echo":false}\r\nSUB foo 1\r\nPUB foo 2\r\nok\r\nPING\r\n']],
  ["leading space before a verb", [C, " PING\r\n"]],
  ["MSG from a client", [C, "MSG foo 1 2\r\nok\r\n"]],
  ["RMSG from a client", [C, "RMSG $G foo 2\r\nok\r\n"]],
  ["CONNECT with trailing garbage", ['CONNECT {"verbose":false} x\r\n']],
  ["CONNECT with a fractional protocol", ['CONNECT {"protocol":1.5}\r\n']],
  ["CONNECT with a numeric name", ['CONNECT {"name":7}\r\n']],
  ["CONNECT with null fields", ['CONNECT {"verbose":null,"name":null}\r\nPING\r\n']],
  ["CONNECT with unknown fields", ['CONNECT {"verbose":false,"zzz":[1,{"a":2}]}\r\nPING\r\n']],
  ["CONNECT as a JSON array", ["CONNECT [1]\r\n"]],
  ["verbose with an invalid SUB", ['CONNECT {"verbose":true}\r\nSUB foo..bar 1\r\nPING\r\n']],
  ["verbose UNSUB of an unknown sid", ['CONNECT {"verbose":true}\r\nUNSUB 5\r\n']],
  ["pedantic publish with a wildcard reply", [
    'CONNECT {"verbose":false,"pedantic":true}\r\nSUB foo 1\r\nPUB foo bar.* 2\r\nok\r\nPING\r\n',
  ]],
  ["HPUB with a non-numeric header size", [
    'CONNECT {"headers":true,"verbose":false}\r\nHPUB foo x 5\r\nhello\r\n',
  ]],
  ["HPUB with headers that are not NATS/1.0", [
    'CONNECT {"headers":true,"verbose":false}\r\nSUB foo 1\r\nHPUB foo 2 2\r\nok\r\nPING\r\n',
  ]],
  ["extra spaces between PUB arguments", [C, "SUB foo 1\r\nPUB   foo   bar   2  \r\nok\r\nPING\r\n"]],
  ["non-ASCII subject", [C, "SUB f\u00f4o 1\r\nPUB f\u00f4o 2\r\nok\r\nPING\r\n"]],
  ["large payload split over reads", [
    C,
    "SUB foo 1\r\nPUB foo 1000\r\n" + "x".repeat(500),
    P,
    "y".repeat(500) + "\r\nPING\r\n",
  ]],
  ["payload exactly max_payload", [C, "SUB foo 1\r\nPUB foo 1024\r\n" + "z".repeat(1024) + "\r\nPING\r\n"]],
  ["two PINGs in one read", [C, "PING\r\nPING\r\n"]],
  ["UNSUB with max 0", [C, "SUB foo 1\r\nUNSUB 1 0\r\nPUB foo 2\r\nok\r\nPING\r\n"]],
  ["full wildcard subscription", [C, "SUB > 1\r\nSUB foo.> 2\r\nPUB foo.bar 2\r\nok\r\nPING\r\n"]],
  ["queue subscription with verbose", [
    'CONNECT {"verbose":true}\r\nSUB foo q 1\r\nPUB foo 2\r\nok\r\nPING\r\n',
  ]],
  ["incomplete PUB swallows the next one", [
    C,
    "PUB a 10\r\nBBB" + "PUB a 10\r\nCCCCCCCCCC\r\n",
  ]],
];

const exe = natsServerPath();

Deno.test({
  name: "side by side: raw exchanges give the same bytes after INFO as nats-server",
  ignore: exe === undefined,
  async fn(t) {
    await using ref = await runRefServer(exe!, "max_control_line: 256\nmax_payload: 1024");
    await using s = await runServer({ maxControlLine: 256, maxPayload: 1024 });
    // One case at a time: cases share subjects, and each waits for both servers to go quiet.
    const results: [ExchangeResult, ExchangeResult][] = [];
    for (const [, steps] of CASES) {
      results.push(await Promise.all([exchange(ref.port, steps), exchange(s.port, steps)]));
    }
    for (let i = 0; i < CASES.length; i++) {
      const [want, got] = results[i];
      await t.step(CASES[i][0], () => assertEquals(got, want));
    }
  },
});

if (exe === undefined) {
  Deno.test("side by side: skipped, nats-server is not on PATH", () => {});
}
