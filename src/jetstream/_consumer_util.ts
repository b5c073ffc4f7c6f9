// Consumer helpers: the ConsumerInfo JSON, ack reply subject parsing and status header blocks. Behaviour
// follows nats-server server/consumer.go (info, ackReplyInfo) and its status messages.

import { encoder } from "../util/mod.ts";
import { nowNs, parseRfc3339, rfc3339Nano } from "./_headers.ts";
import { consumerConfigJson } from "./_consumer_config.ts";
import { dynamicMetadata } from "./_versioning.ts";
import type { Consumer } from "./consumer.ts";

/** `NATS/1.0 <status>\r\n` plus header lines and the closing CRLF. */
export function statusHdr(status: string, pairs: [string, string][]): Uint8Array {
  let s = `NATS/1.0 ${status}\r\n`;
  for (const [k, v] of pairs) s += `${k}: ${v}\r\n`;
  return encoder.encode(s + "\r\n");
}

/**
 * Parses `$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>`; undefined when malformed. The
 * stream and consumer tokens are the subscription's, so only the numbers are read.
 */
export function parseAckSubject(
  subject: string,
  v2 = false,
): { dc: number; sseq: number; dseq: number } | undefined {
  // Token boundaries by one scan (no split): "$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>";
  // the v2 form puts "<domain>.<account hash>." before the stream and may carry more tokens after.
  if (!subject.startsWith("$JS.ACK.")) return undefined;
  const dots = ACK_DOTS;
  const o = v2 ? 2 : 0;
  let nd = 1; // the dot after "$JS" is dots[0]
  dots[0] = 3;
  for (let i = 7; i < subject.length; i++) {
    if (subject.charCodeAt(i) !== 0x2e) continue;
    if (nd === 8 + o) {
      if (!v2) return undefined; // more than 9 tokens
      break; // v2: the tokens after the 11th are not read
    }
    dots[nd++] = i;
  }
  if (nd !== 8 + o) return undefined;
  const dc = num(subject, dots[3 + o] + 1, dots[4 + o]);
  const sseq = num(subject, dots[4 + o] + 1, dots[5 + o]);
  const dseq = num(subject, dots[5 + o] + 1, dots[6 + o]);
  if (dc < 0 || sseq < 0 || dseq < 0) return undefined;
  return { dc, sseq, dseq };
}

const ACK_DOTS = new Int32Array(11);

/** The decimal number in s[start..end), or -1 when empty, longer than 16 digits or not all digits. */
function num(s: string, start: number, end: number): number {
  const n = end - start;
  if (n <= 0 || n > 16) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return n < 16 ? v : Number(s.slice(start, end)); // 16 digits may pass 2^53: round as Number() does
}

/**
 * The ConsumerInfo body, in the reference's field order; `versioned` (API responses) shows the config's
 * metadata with the dynamic versioning keys.
 */
export function consumerInfo(c: Consumer, versioned = false): Record<string, unknown> {
  const s = c.snapshot();
  const o: Record<string, unknown> = {
    "stream_name": c.stream.name,
    name: c.name,
    created: rfc3339Nano(c.created),
    config: consumerConfigJson(c.config, versioned ? dynamicMetadata(c.config.metadata) : c.config.metadata),
    delivered: seqInfo(s.dseq, s.sseq, s.lastDelivery),
    "ack_floor": seqInfo(s.adflr, s.asflr, s.lastAck),
    "num_ack_pending": s.pending,
    "num_redelivered": s.redelivered,
    "num_waiting": s.waiting,
    "num_pending": s.numPending,
    cluster: { leader: c.jsa.js.server.name },
  };
  if (c.config.deliver_subject && s.active) o["push_bound"] = true;
  if (c.isPaused()) {
    o.paused = true;
    const t = parseRfc3339(c.config.pause_until!)!;
    o["pause_remaining"] = Number(t - nowNs());
  }
  o.ts = rfc3339Nano(nowNs());
  if (c.pins.size > 0) {
    o["priority_groups"] = [...c.pins].map(([group, p]) => ({
      group,
      "pinned_client_id": p.id,
      "pinned_ts": rfc3339Nano(p.since),
    }));
  }
  return o;
}

function seqInfo(consumer: number, stream: number, last: bigint): Record<string, unknown> {
  const o: Record<string, unknown> = { "consumer_seq": consumer, "stream_seq": stream };
  if (last > 0n) o["last_active"] = rfc3339Nano(last);
  return o;
}

/**
 * Ack-wait deadlines of pending messages: a binary min-heap of (due ms, stream seq). Entries are never
 * updated in place: a new deadline pushes a new entry and the consumer skips stale ones when they surface,
 * so an ack-wait check costs what expires (plus stale entries), not the whole pending map.
 */
export class DueHeap {
  #due: number[] = [];
  #seq: number[] = [];

  get size(): number {
    return this.#due.length;
  }

  clear(): void {
    this.#due = [];
    this.#seq = [];
  }

  /** The earliest deadline, or Infinity when empty. */
  peekDue(): number {
    return this.#due.length > 0 ? this.#due[0] : Infinity;
  }

  push(due: number, seq: number): void {
    const d = this.#due;
    const s = this.#seq;
    let i = d.length;
    d.push(due);
    s.push(seq);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (d[p] <= due) break;
      d[i] = d[p];
      s[i] = s[p];
      i = p;
    }
    d[i] = due;
    s[i] = seq;
  }

  /** Removes the earliest entry and returns its seq (the heap must not be empty). */
  pop(): number {
    const d = this.#due;
    const s = this.#seq;
    const top = s[0];
    const lastD = d.pop()!;
    const lastS = s.pop()!;
    const n = d.length;
    if (n > 0) {
      let i = 0;
      while (true) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && d[c + 1] < d[c]) c++;
        if (d[c] >= lastD) break;
        d[i] = d[c];
        s[i] = s[c];
        i = c;
      }
      d[i] = lastD;
      s[i] = lastS;
    }
    return top;
  }
}
