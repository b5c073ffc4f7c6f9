// Bounded fuzzing of the client protocol: random and mutated PUB/HPUB/SUB/UNSUB/CONNECT/PING streams, split at
// random offsets, against a running server over several connections (a healthy client must keep working) and
// against the Parser directly (no exception may escape). Runs only with STRESS=1.

import { assert, assertEquals } from "@std/assert";
import { runServer } from "../_helpers/server.ts";
import { connectRaw, type RawClient } from "../_helpers/raw_client.ts";
import { expectMsg } from "../_helpers/proto.ts";
import { rng } from "../_helpers/rng.ts";
import { Parser, type ParserHandler, type PubArg } from "../../src/protocol/parser.ts";

const enc = new TextEncoder();
const STRESS = !!Deno.env.get("STRESS");

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? Date.now() % 1_000_000);

class Gen {
  r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  subject(): string {
    const toks = ["foo", "bar", "baz", "*", ">", "", "a.b", "_INBOX", "$SYS", "x".repeat(1 + this.int(40))];
    const n = 1 + this.int(4);
    return Array.from({ length: n }, () => this.pick(toks)).join(".");
  }
  payload(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.pick([0x41, 0x0d, 0x0a, 0x20, 0x7a, 0x30]));
    return s;
  }
  /** One valid protocol operation. */
  op(): string {
    switch (this.int(9)) {
      case 0: {
        const p = this.payload(this.int(64));
        return `PUB ${this.subject()} ${this.int(2) ? "reply " : ""}${p.length}\r\n${p}\r\n`;
      }
      case 1: {
        const h = "NATS/1.0\r\nA: b\r\n\r\n";
        const p = this.payload(this.int(32));
        return `HPUB ${this.subject()} ${h.length} ${h.length + p.length}\r\n${h}${p}\r\n`;
      }
      case 2:
        return `SUB ${this.subject()} ${this.int(2) ? "q " : ""}${this.int(20)}\r\n`;
      case 3:
        return `UNSUB ${this.int(20)}${this.int(2) ? " " + this.int(5) : ""}\r\n`;
      case 4:
        return `CONNECT ${
          JSON.stringify({ verbose: !!this.int(2), pedantic: !!this.int(2), headers: !!this.int(2) })
        }\r\n`;
      case 5:
        return "PING\r\n";
      case 6:
        return "PONG\r\n";
      case 7:
        return this.pick(["+OK\r\n", "INFO {}\r\n", "ping\r\n", "pub a 1\r\nx\r\n"]);
      default: {
        const p = this.payload(200 + this.int(2000));
        return `PUB big ${p.length}\r\n${p}\r\n`;
      }
    }
  }
  /** A stream of valid operations with a few mutations. */
  stream(): Uint8Array {
    let s = "";
    const n = 1 + this.int(12);
    for (let i = 0; i < n; i++) s += this.op();
    const b = Array.from(enc.encode(s));
    const muts = this.int(4);
    for (let m = 0; m < muts && b.length > 0; m++) {
      const at = this.int(b.length);
      switch (this.int(7)) {
        case 0:
          b[at] = this.int(256);
          break;
        case 1:
          b.splice(at, 0, this.pick([0x0d, 0x0a, 0x20, 0x09, 0x00, 0xff, 0x2d]));
          break;
        case 2:
          b.splice(at, 1 + this.int(8));
          break;
        case 3:
          b.splice(at, 0, ...b.slice(at, at + 1 + this.int(32)));
          break;
        case 4:
          b.splice(at, 0, ...enc.encode(this.pick(["99999999999", "-1", "4097", " ", "\r\n", "PUB "])));
          break;
        case 5:
          b.length = at;
          break;
        default:
          b[at] = b[at] ^ 0x20; // flip case
      }
    }
    if (this.int(10) === 0) return enc.encode(this.payload(this.int(300)));
    return Uint8Array.from(b);
  }
  /** Random split points. */
  split(b: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < b.length) {
      const n = this.int(3) === 0 ? 1 + this.int(4) : 1 + this.int(b.length);
      out.push(b.subarray(i, i + n));
      i += n;
    }
    return out;
  }
}

async function sendQuietly(c: RawClient, chunks: Uint8Array[]): Promise<void> {
  for (const ch of chunks) {
    if (c.closed) return;
    try {
      await c.send(ch);
    } catch {
      return; // The server closed this connection: expected for bad input.
    }
    if (ch.length < 8) await new Promise((r) => setTimeout(r, 0));
  }
}

/** A separate, well-behaved client still gets PONG and its own message back. */
async function checkHealthy(port: number, round: number): Promise<void> {
  await using h = await connectRaw(port);
  await h.send(`SUB health.${round} 1\r\nPUB health.${round} 2\r\nok\r\n`);
  const m = await expectMsg(h, 5000);
  assertEquals([m.subject, m.payload], [`health.${round}`, "ok"]);
  assertEquals(await h.flush(5000), "");
}

Deno.test({
  name: "stress: parser fuzz over sockets leaves the server serving a healthy client after every batch",
  ignore: !STRESS,
  async fn() {
    const g = new Gen(SEED);
    await using s = await runServer({ maxControlLine: 512, maxPayload: 4096, pingIntervalMs: 500 });
    const end = Date.now() + 60_000;
    let batches = 0;
    let streams = 0;
    while (Date.now() < end && batches < 3000) {
      const conns = await Promise.all(Array.from({ length: 8 }, () => connectRaw(s.port, null)));
      try {
        await Promise.all(conns.map(async (c) => {
          for (let k = 0; k < 5; k++) {
            await sendQuietly(c, g.split(g.stream()));
            streams++;
          }
        }));
      } finally {
        for (const c of conns) await c[Symbol.asyncDispose]();
      }
      await checkHealthy(s.port, batches);
      batches++;
    }
    assert(batches > 0);
    // deno-lint-ignore no-console
    console.log(`parser fuzz (sockets): seed ${SEED}, ${batches} batches, ${streams} streams`);
  },
});

/** Records calls and accepts everything, so the parser runs as far as the bytes allow. */
class Recorder implements ParserHandler {
  calls = 0;
  errors = 0;
  awaitingConnect(): boolean {
    return false;
  }
  opBeforeConnect(): boolean {
    return true;
  }
  onConnect(_a: Uint8Array): boolean {
    this.calls++;
    return true;
  }
  onPubArg(pa: PubArg): boolean {
    this.calls++;
    // The client refuses these; a recorder that accepted a negative size would not model the server.
    if (pa.hdr === -2 || pa.size < 0 || pa.hdr < -1 || pa.hdr > pa.size) {
      this.errors++;
      return false;
    }
    return true;
  }
  onMsg(pa: PubArg, msg?: Uint8Array): boolean {
    this.calls++;
    assertEquals((msg ?? pa.payload()).length, pa.size);
    return true;
  }
  onSub(_a: Uint8Array): boolean {
    this.calls++;
    return true;
  }
  onUnsub(_a: Uint8Array): boolean {
    this.calls++;
    return true;
  }
  onPing(): boolean {
    this.calls++;
    return true;
  }
  onPong(): boolean {
    this.calls++;
    return true;
  }
  onInfo(_a: Uint8Array): boolean {
    this.calls++;
    return true;
  }
  onErr(_a: Uint8Array): boolean {
    this.calls++;
    return true;
  }
  onParseError(): void {
    this.errors++;
  }
  onMaxControlLine(): void {
    this.errors++;
  }
}

Deno.test({
  name: "stress: parser fuzz in process lets no exception escape Parser.parse",
  ignore: !STRESS,
  fn() {
    const g = new Gen(SEED + 1);
    const end = Date.now() + 20_000;
    let runs = 0;
    const h = new Recorder();
    while (Date.now() < end && runs < 200_000) {
      const p = new Parser(h, 1 + g.int(2) * 300);
      for (const ch of g.split(g.stream())) {
        // A fresh copy per read, then scribbled over, as a reused read buffer would be.
        const buf = ch.slice();
        if (!p.parse(buf)) break;
        buf.fill(0x58);
      }
      runs++;
    }
    assert(h.calls > 0 && h.errors > 0);
    // deno-lint-ignore no-console
    console.log(
      `parser fuzz (in process): seed ${SEED + 1}, ${runs} runs, ${h.calls} calls, ${h.errors} errors`,
    );
  },
});
