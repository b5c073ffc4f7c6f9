// The fast PUB path's subject hint (the publisher's last subject, compared four bytes at a time instead of
// scanned) must tokenize exactly as the general path: the same subjects, replies, payloads and errors for any
// input, with hints that match, are prefixes, extensions or near misses of the next subject.

import { assert, assertEquals } from "@std/assert";
import { rng } from "../_helpers/rng.ts";
import { Parser, type ParserHandler, type PubArg } from "../../src/protocol/parser.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Records every call as text; with `hints`, sets pa.hint to the last subject as the client's cache does. */
class Recorder implements ParserHandler {
  log: string[] = [];
  constructor(readonly hints: boolean) {}
  awaitingConnect(): boolean {
    return false;
  }
  opBeforeConnect(): boolean {
    return true;
  }
  onConnect(a: Uint8Array): boolean {
    this.log.push(`CONNECT ${dec.decode(a)}`);
    return true;
  }
  onPubArg(pa: PubArg): boolean {
    if (pa.hdr === -2 || pa.size < 0 || pa.hdr < -1 || pa.hdr > pa.size) {
      this.log.push("bad arg");
      return false;
    }
    return true;
  }
  onMsg(pa: PubArg, msg?: Uint8Array): boolean {
    const subj = pa.buf.slice(pa.subjStart, pa.subjEnd);
    const reply = pa.replyStart < 0 ? "-" : dec.decode(pa.buf.subarray(pa.replyStart, pa.replyEnd));
    this.log.push(`MSG [${dec.decode(subj)}] [${reply}] ${pa.hdr} [${dec.decode(msg ?? pa.payload())}]`);
    if (this.hints) {
      // The client compares only when the parser says the bytes equal its cached subject.
      if (pa.sameSubject) {
        assertEquals(dec.decode(subj), dec.decode(pa.hint), "sameSubject with another subject");
      }
      pa.hint = subj;
    }
    return true;
  }
  onSub(a: Uint8Array): boolean {
    this.log.push(`SUB ${dec.decode(a)}`);
    return true;
  }
  onUnsub(a: Uint8Array): boolean {
    this.log.push(`UNSUB ${dec.decode(a)}`);
    return true;
  }
  onPing(): boolean {
    this.log.push("PING");
    return true;
  }
  onPong(): boolean {
    this.log.push("PONG");
    return true;
  }
  onInfo(): boolean {
    return true;
  }
  onErr(): boolean {
    return true;
  }
  onParseError(_s: unknown, off: number): void {
    this.log.push(`parse error at ${off}`);
  }
  onMaxControlLine(): void {
    this.log.push("max control line");
  }
}

// Subjects that are each other's prefixes and near misses, of lengths around the four-byte steps.
const SUBJECTS = [
  "a",
  "ab",
  "abc",
  "abcd",
  "abcde",
  "abcdefgh",
  "abcdefghi",
  "abcdefgx",
  "foo.bar",
  "foo.baz",
];
const SEPS = [" ", " ", " ", "  ", "\t"];

function stream(r: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  let s = "";
  const n = 1 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const p = "xy\r\n".slice(0, Math.floor(r() * 4));
    const subj = pick(SUBJECTS);
    switch (Math.floor(r() * 6)) {
      case 0:
        s += `PUB ${subj}${pick(SEPS)}r.${pick(SUBJECTS)}${pick(SEPS)}${p.length}\r\n${p}\r\n`;
        break;
      case 1:
        s += `HPUB ${subj} 12 ${12 + p.length}\r\nNATS/1.0\r\n\r\n${p}\r\n`;
        break;
      case 2: // a subject glued to a control byte or a bad size: the general path decides
        s += `PUB ${subj}${pick(["\x01", "\r", "x", ""])}${pick(SEPS)}${
          pick(["2", "x2", "", "99"])
        }\r\nxy\r\n`;
        break;
      case 3:
        s += "PING\r\n";
        break;
      default:
        s += `PUB ${subj}${pick(SEPS)}${p.length}\r\n${p}\r\n`;
    }
  }
  return s;
}

Deno.test("parser hint: the fast path with subject hints tokenizes as without them", () => {
  const seed = Date.now() % 1_000_000;
  const r = rng(seed);
  let compared = 0;
  for (let run = 0; run < 3_000; run++) {
    const bytes = enc.encode(stream(r));
    // Split the same bytes at the same random points for both parsers.
    const cuts = [
      0,
      ...Array.from({ length: Math.floor(r() * 3) }, () => Math.floor(r() * bytes.length)),
      bytes.length,
    ]
      .sort((x, y) => x - y);
    const logs = [true, false].map((hints) => {
      const h = new Recorder(hints);
      const p = new Parser(h, 4096);
      for (let i = 0; i + 1 < cuts.length; i++) if (!p.parse(bytes.slice(cuts[i], cuts[i + 1]))) break;
      return h.log;
    });
    assertEquals(logs[0], logs[1], `seed ${seed} run ${run}: ${JSON.stringify(dec.decode(bytes))}`);
    compared += logs[0].length;
  }
  assert(compared > 10_000, `only ${compared} calls compared`);
});

Deno.test("parser hint: sameSubject is set only for the hinted subject itself", () => {
  const h = new Recorder(true);
  const p = new Parser(h, 4096);
  const seen: boolean[] = [];
  const onMsg = h.onMsg.bind(h);
  h.onMsg = (pa, msg) => (seen.push(pa.sameSubject), onMsg(pa, msg));
  p.parse(
    enc.encode("PUB abcdefgh 1\r\nx\r\nPUB abcdefgh 1\r\nx\r\nPUB abcdefgx 1\r\nx\r\nPUB abcdefg 1\r\nx\r\n"),
  );
  p.parse(enc.encode("PUB abcdefgh 1\r\nx\r\nPUB abcdefghi 1\r\nx\r\nPUB abcdefghi r 1\r\nx\r\n"));
  assertEquals(seen, [false, true, false, false, false, false, true]);
});
