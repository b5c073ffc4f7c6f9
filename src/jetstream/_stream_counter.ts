// Counter streams (allow_msg_counter, ADR-49): `Nats-Incr` validation, the running total kept in the body as
// `{"val":"<n>"}`, and the per-source bookkeeping of `Nats-Counter-Sources` for counters that aggregate other
// counters through sources. Behaviour follows nats-server server/stream.go and jetstream_batching.go
// (checkMsgHeadersPreClusteredProposal).

import { decoder, encoder } from "../util/mod.ts";
import { type ApiError, newJSError } from "./api_errors.ts";
import {
  appendHeaders,
  buildHeaders,
  getHeader,
  JS_EXPECTED_LAST_MSG_ID,
  JS_EXPECTED_LAST_SEQ,
  JS_EXPECTED_LAST_SUBJ_SEQ,
  JS_EXPECTED_LAST_SUBJ_SEQ_SUBJ,
  JS_EXPECTED_STREAM,
  JS_MSG_INCR,
  JS_MSG_ROLLUP,
  parseHeaders,
} from "./_headers.ts";

/** Header of a stored counter: for each source stream, the last total seen per origin subject. */
export const JS_MESSAGE_COUNTER_SOURCES = "Nats-Counter-Sources";
/** Header a sourced message carries (the stream sources code sets it). */
const JS_STREAM_SOURCE = "Nats-Stream-Source";

/** `{stream: {subject: total}}`, totals as base-10 strings. */
export type CounterSources = Record<string, Record<string, string>>;

const INCR_RE = /^[+-]?[0-9]+$/;

/**
 * The `Nats-Incr` increment of a header block: undefined when the header is absent or empty (as the
 * reference reads it), null when it is not a base-10 integer with an optional sign.
 */
export function parseIncr(hdr: Uint8Array | undefined): bigint | null | undefined {
  const v = getHeader(JS_MSG_INCR, hdr);
  if (v === undefined || v === "") return undefined;
  if (!INCR_RE.test(v)) return null;
  return BigInt(v);
}

/**
 * Checks an increment published by a client (not one arriving through a source, which is stored as it
 * comes): the stream must count, the payload be empty, and no header may ask for a rollup or an expected
 * state, since a counter's next value depends only on the last one.
 */
export function checkIncr(
  hdr: Uint8Array,
  payloadLen: number,
  allowCounter: boolean,
): ApiError | undefined {
  if (!allowCounter) return newJSError("JSMessageIncrDisabledErr");
  if (payloadLen > 0) return newJSError("JSMessageIncrPayloadErr");
  for (
    const h of [
      JS_MSG_ROLLUP,
      JS_EXPECTED_STREAM,
      JS_EXPECTED_LAST_MSG_ID,
      JS_EXPECTED_LAST_SUBJ_SEQ_SUBJ,
      JS_EXPECTED_LAST_SEQ,
      JS_EXPECTED_LAST_SUBJ_SEQ,
    ]
  ) {
    const v = getHeader(h, hdr);
    if (v !== undefined && v !== "") return newJSError("JSMessageIncrInvalidErr");
  }
  return undefined;
}

/**
 * The total a counter body holds, read as Go decodes `{"val": string}`: undefined when the body is not such an
 * object (broken); a missing, null or unparsable "val" counts as zero, as big.Int's SetString leaves it.
 */
function readTotal(body: Uint8Array): bigint | undefined {
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(body));
  } catch {
    return undefined;
  }
  if (v === null) return 0n;
  if (typeof v !== "object" || Array.isArray(v)) return undefined;
  const val = (v as Record<string, unknown>).val;
  if (val === undefined || val === null) return 0n;
  if (typeof val !== "string") return undefined;
  return toBig(val);
}

/** A "val" string as a big integer; zero when it is not one. */
function toBig(v: string | undefined): bigint {
  return v !== undefined && INCR_RE.test(v) ? BigInt(v) : 0n;
}

/** The result of applying an increment: the headers and body to store, and the new total. */
export interface CounterUpdate {
  hdr: Uint8Array;
  body: Uint8Array;
  total: string;
}

/**
 * Applies `incr` to the counter whose last stored message is `last` (undefined: it starts at zero).
 * A message that came through a source (it has `Nats-Stream-Source`) carries the origin's total in its body:
 * the increment becomes the difference from the total last seen from that origin stream and subject, and
 * `Nats-Incr` is rewritten to it, so lost or repeated source messages still add up. The sources map of the
 * last message is carried forward whenever it is not empty.
 */
export function applyIncr(
  subject: string,
  hdr: Uint8Array,
  payload: Uint8Array,
  incr: bigint,
  last: { hdr: Uint8Array | undefined; msg: Uint8Array } | undefined,
): CounterUpdate | ApiError {
  let total = 0n;
  let sources: CounterSources | undefined;
  if (last !== undefined) {
    const t = readTotal(last.msg);
    if (t === undefined) return newJSError("JSMessageCounterBrokenErr");
    total = t;
    const cs = getHeader(JS_MESSAGE_COUNTER_SOURCES, last.hdr);
    if (cs !== undefined && cs !== "") {
      const parsed = parseSources(cs);
      if (parsed === undefined) return newJSError("JSMessageCounterBrokenErr");
      sources = parsed;
    }
  }
  let h = hdr;
  const src = getHeader(JS_STREAM_SOURCE, hdr);
  if (src !== undefined && src !== "") {
    const fields = src.split(" ");
    const origin = fields[0];
    const originSubject = fields.length >= 5 ? fields[4] : subject;
    const sourced = readTotal(payload);
    if (sourced === undefined) return newJSError("JSMessageCounterBrokenErr");
    sources ??= {};
    const per = sources[origin] ??= {};
    const previous = toBig(per[originSubject]);
    per[originSubject] = sourced.toString();
    incr = sourced - previous;
    h = setHeader(h, JS_MSG_INCR, incr.toString());
  }
  total += incr;
  if (sources !== undefined && Object.keys(sources).length > 0) {
    h = setHeader(h, JS_MESSAGE_COUNTER_SOURCES, sourcesJson(sources));
  }
  const s = total.toString();
  return { hdr: h, body: encoder.encode(`{"val":"${s}"}`), total: s };
}

function parseSources(text: string): CounterSources | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
  const out: CounterSources = {};
  for (const [k, per] of Object.entries(v as Record<string, unknown>)) {
    if (per === null || typeof per !== "object" || Array.isArray(per)) return undefined;
    const m: Record<string, string> = {};
    for (const [subj, val] of Object.entries(per as Record<string, unknown>)) {
      if (typeof val !== "string") return undefined;
      m[subj] = val;
    }
    out[k] = m;
  }
  return out;
}

/**
 * The sources map as the reference marshals it: keys sorted bytewise at both levels, no spaces (built by
 * hand: JSON.stringify would put integer-like keys first in numeric order).
 */
function sourcesJson(sources: CounterSources): string {
  const parts: string[] = [];
  for (const k of Object.keys(sources).sort()) {
    const per = sources[k];
    const inner = Object.keys(per).sort().map((s) => `${JSON.stringify(s)}:${JSON.stringify(per[s])}`);
    parts.push(`${JSON.stringify(k)}:{${inner.join(",")}}`);
  }
  return `{${parts.join(",")}}`;
}

/** Sets header `name` to `value`: replaced where it stands, or appended when absent. */
export function setHeader(hdr: Uint8Array | undefined, name: string, value: string): Uint8Array {
  if (getHeader(name, hdr) === undefined) return appendHeaders(hdr, [[name, value]]);
  const lname = name.toLowerCase();
  const pairs = parseHeaders(hdr).map(([k, v]): [string, string] =>
    k.toLowerCase() === lname ? [k, value] : [k, v]
  );
  return buildHeaders(pairs);
}
