// NATS header blocks scanned as bytes, and the JetStream header names; follows nats-server server/stream.go
// (getHeader, genHeader, removeHeaderIfPresent) and server/jetstream_api.go.

import { decoder, encoder } from "../util/mod.ts";

export const HDR_LINE = "NATS/1.0\r\n";
export const JS_MSG_ID = "Nats-Msg-Id";
export const JS_EXPECTED_STREAM = "Nats-Expected-Stream";
export const JS_EXPECTED_LAST_SEQ = "Nats-Expected-Last-Sequence";
export const JS_EXPECTED_LAST_SUBJ_SEQ = "Nats-Expected-Last-Subject-Sequence";
export const JS_EXPECTED_LAST_SUBJ_SEQ_SUBJ = "Nats-Expected-Last-Subject-Sequence-Subject";
export const JS_EXPECTED_LAST_MSG_ID = "Nats-Expected-Last-Msg-Id";
export const JS_MSG_ROLLUP = "Nats-Rollup";
export const JS_MSG_TTL = "Nats-TTL";
export const JS_MARKER_REASON = "Nats-Marker-Reason";
export const JS_MSG_INCR = "Nats-Incr";
export const JS_BATCH_ID = "Nats-Batch-Id";
export const JS_BATCH_SEQ = "Nats-Batch-Sequence";
export const JS_BATCH_COMMIT = "Nats-Batch-Commit";
export const JS_SCHEDULE = "Nats-Schedule";
export const JS_SCHEDULE_TARGET = "Nats-Schedule-Target";
export const JS_SCHEDULE_TTL = "Nats-Schedule-TTL";
export const JS_SCHEDULER = "Nats-Scheduler";
export const JS_SCHEDULE_NEXT = "Nats-Schedule-Next";
export const JS_REQUIRED_API_LEVEL = "Nats-Required-Api-Level";
export const JS_STREAM = "Nats-Stream";
export const JS_SEQUENCE = "Nats-Sequence";
export const JS_TIME_STAMP = "Nats-Time-Stamp";
export const JS_SUBJECT = "Nats-Subject";
export const JS_LAST_SEQUENCE = "Nats-Last-Sequence";
export const JS_NUM_PENDING = "Nats-Num-Pending";
export const JS_UP_TO_SEQUENCE = "Nats-UpTo-Sequence";
export const JS_MSG_SIZE = "Nats-Msg-Size";

/** Rollup values of Nats-Rollup. */
export const ROLLUP_SUBJECT = "sub";
export const ROLLUP_ALL = "all";

/**
 * The value of header `name` in a header block, or undefined. Matches the name case-sensitively first, as
 * the reference does, then case-insensitively. Decodes only the value's bytes.
 */
export function getHeader(name: string, hdr: Uint8Array | undefined): string | undefined {
  if (hdr === undefined || hdr.length < 12) return undefined;
  const s = decoder.decode(hdr);
  let i = s.indexOf("\r\n");
  if (i < 0) return undefined;
  i += 2;
  const lname = name.toLowerCase();
  while (i < s.length) {
    const e = s.indexOf("\r\n", i);
    const line = e < 0 ? s.slice(i) : s.slice(i, e);
    if (line === "") break;
    const c = line.indexOf(":");
    if (c > 0) {
      const k = line.slice(0, c);
      if (k === name || k.toLowerCase() === lname) return line.slice(c + 1).trim();
    }
    if (e < 0) break;
    i = e + 2;
  }
  return undefined;
}

/** Parses a header block into ordered [name, value] pairs (status line excluded). */
export function parseHeaders(hdr: Uint8Array | undefined): [string, string][] {
  if (hdr === undefined) return [];
  const lines = decoder.decode(hdr).split("\r\n");
  const out: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    const c = line.indexOf(":");
    if (c > 0) out.push([line.slice(0, c), line.slice(c + 1).trim()]);
  }
  return out;
}

/** Builds a header block; `status` ("404 Message Not Found") goes on the first line. */
export function buildHeaders(pairs: Iterable<[string, string]>, status = ""): Uint8Array {
  let s = status === "" ? HDR_LINE : `NATS/1.0 ${status}\r\n`;
  for (const [k, v] of pairs) s += `${k}: ${v}\r\n`;
  return encoder.encode(s + "\r\n");
}

/** Appends headers to an existing block (or starts one), as the reference's genHeader does. */
export function appendHeaders(hdr: Uint8Array | undefined, pairs: [string, string][]): Uint8Array {
  if (hdr === undefined || hdr.length < 4) return buildHeaders(pairs);
  let add = "";
  for (const [k, v] of pairs) add += `${k}: ${v}\r\n`;
  const extra = encoder.encode(add + "\r\n");
  // Drop the block's terminating CRLF and append.
  const base = hdr.subarray(0, hdr.length - 2);
  const out = new Uint8Array(base.length + extra.length);
  out.set(base);
  out.set(extra, base.length);
  return out;
}

/** Removes header `name` from a block; undefined when nothing but the status line would remain. */
export function removeHeader(hdr: Uint8Array | undefined, name: string): Uint8Array | undefined {
  if (hdr === undefined) return undefined;
  const pairs = parseHeaders(hdr);
  const lname = name.toLowerCase();
  const kept = pairs.filter(([k]) => k.toLowerCase() !== lname);
  if (kept.length === pairs.length) return hdr;
  return kept.length === 0 ? undefined : buildHeaders(kept);
}

/** Go's time.Time zero value in RFC 3339. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** Nanoseconds since the epoch as Go's RFC3339Nano in UTC (trailing zeros of the fraction trimmed). */
export function rfc3339Nano(ns: bigint): string {
  if (ns === 0n) return ZERO_TIME;
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.678Z
  let frac = (ns % 1_000_000_000n).toString().padStart(9, "0");
  frac = frac.replace(/0+$/, "");
  return iso.slice(0, 19) + (frac === "" ? "" : "." + frac) + "Z";
}

/** Parses an RFC 3339 time with up to nanosecond precision into ns since the epoch; undefined if invalid. */
export function parseRfc3339(s: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(m[1] + m[3]);
  if (Number.isNaN(ms)) return undefined;
  const frac = BigInt((m[2] ?? "").padEnd(9, "0") || "0");
  return BigInt(ms) * 1_000_000n + frac;
}

/** The current time in ns since the epoch (ms precision plus a monotonic sub-ms part). */
export function nowNs(): bigint {
  const t = performance.timeOrigin + performance.now();
  return BigInt(Math.floor(t)) * 1_000_000n + BigInt(Math.floor((t % 1) * 1e6));
}
