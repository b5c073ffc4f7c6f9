// Consumer helpers: the ConsumerInfo JSON, ack reply subject parsing and status header blocks. Behaviour
// follows nats-server server/consumer.go (info, ackReplyInfo) and its status messages.

import { encoder } from "../util/mod.ts";
import { nowNs, parseRfc3339, rfc3339Nano } from "./_headers.ts";
import { consumerConfigJson } from "./_consumer_config.ts";
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
export function parseAckSubject(subject: string): { dc: number; sseq: number; dseq: number } | undefined {
  const t = subject.split(".");
  if (t.length !== 9 || t[0] !== "$JS" || t[1] !== "ACK") return undefined;
  const dc = num(t[4]);
  const sseq = num(t[5]);
  const dseq = num(t[6]);
  if (dc < 0 || sseq < 0 || dseq < 0) return undefined;
  return { dc, sseq, dseq };
}

function num(s: string): number {
  if (s.length === 0 || s.length > 16) return -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  return Number(s);
}

/** The ConsumerInfo body, in the reference's field order. */
export function consumerInfo(c: Consumer): Record<string, unknown> {
  const s = c.snapshot();
  const o: Record<string, unknown> = {
    "stream_name": c.stream.name,
    name: c.name,
    created: rfc3339Nano(c.created),
    config: consumerConfigJson(c.config),
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
