// Pull requests: the body of a `CONSUMER.MSG.NEXT` request and the queue of waiting requests. Behaviour
// follows nats-server server/consumer.go (nextReqFromMsg, waitQueue, waitingRequest).

import { decoder } from "../util/mod.ts";
import type { Account } from "../server/mod.ts";
import { B, decodeStruct, DUR, I64, INT, JsonDecodeError, S, type Schema } from "./_json.ts";

/** One waiting pull request. Times are performance.now() milliseconds; 0 means unset. */
export interface WaitingRequest {
  reply: string;
  /** For a request that came through a service import: the requestor's account and reply (its interest). */
  iacc?: Account;
  interest?: string;
  /** Messages still to deliver. */
  n: number;
  /** Messages delivered so far. */
  d: number;
  /** Bytes still allowed (max_bytes); 0 = no limit. */
  b: number;
  /** True when the request set max_bytes. */
  hasMaxBytes: boolean;
  expires: number;
  received: number;
  /** Idle heartbeat interval and next due time. */
  hb: number;
  hbt: number;
  noWait: boolean;
  group: string;
  minPending: number;
  minAckPending: number;
  priority: number;
  /** Pin id sent with the request (pinned_client groups). */
  pinId: string;
  /** An empty or bare-number request: no priority group, served by priority consumers without checks. */
  plain: boolean;
}

const NEXT_REQUEST: Schema = {
  expires: DUR,
  batch: INT,
  "max_bytes": INT,
  "no_wait": B,
  "idle_heartbeat": DUR,
  group: S,
  "min_pending": I64,
  "min_ack_pending": I64,
  id: S,
  priority: INT,
};

/**
 * Parses a pull request body: empty → one message, a decimal number → that batch, JSON → the full request.
 * Returns the request or an error text for "400 Bad Request - <text>".
 */
export function parseNextRequest(reply: string, body: Uint8Array, now: number): WaitingRequest | string {
  const wr: WaitingRequest = {
    reply,
    n: 1,
    d: 0,
    b: 0,
    hasMaxBytes: false,
    expires: 0,
    received: now,
    hb: 0,
    hbt: 0,
    noWait: false,
    group: "",
    minPending: 0,
    minAckPending: 0,
    priority: 0,
    pinId: "",
    plain: true,
  };
  const text = body.length === 0 ? "" : decoder.decode(body).trim();
  if (text === "") return wr;
  if (text[0] === "{") {
    let r: Record<string, unknown>;
    try {
      r = decodeStruct(JSON.parse(text), "JSApiConsumerGetNextRequest", NEXT_REQUEST, false);
    } catch (e) {
      if (e instanceof JsonDecodeError) return e.message;
      return (e as Error).message;
    }
    const expiresNs = (r.expires as number | undefined) ?? 0;
    const hbNs = (r.idle_heartbeat as number | undefined) ?? 0;
    if (hbNs > 0) {
      if (hbNs * 2 > expiresNs) return "heartbeat value too large";
      wr.hb = hbNs / 1e6;
      wr.hbt = now + wr.hb;
    }
    if (expiresNs > 0) wr.expires = now + expiresNs / 1e6;
    wr.n = (r.batch as number | undefined) ?? 0;
    const mb = (r.max_bytes as number | undefined) ?? 0;
    if (mb > 0) {
      wr.b = mb;
      wr.hasMaxBytes = true;
    }
    wr.noWait = r.no_wait === true;
    wr.group = (r.group as string | undefined) ?? "";
    wr.minPending = (r.min_pending as number | undefined) ?? 0;
    wr.minAckPending = (r.min_ack_pending as number | undefined) ?? 0;
    wr.priority = (r.priority as number | undefined) ?? 0;
    wr.pinId = (r.id as string | undefined) ?? "";
    wr.plain = false;
    return wr;
  }
  if (/^[+-]?\d+$/.test(text)) wr.n = Number(text);
  return wr;
}

/**
 * The waiting requests in arrival order, bounded by max_waiting. A request served a message but not yet
 * complete goes to the back, so concurrent requests share the stream round robin (as the reference's ring).
 */
export class WaitQueue {
  readonly max: number;
  #reqs: WaitingRequest[] = [];
  /** performance.now() of the last request added. */
  last = 0;

  constructor(max: number) {
    this.max = max;
  }

  get length(): number {
    return this.#reqs.length;
  }

  isFull(): boolean {
    return this.#reqs.length >= this.max;
  }

  add(wr: WaitingRequest): boolean {
    if (this.isFull()) return false;
    this.#reqs.push(wr);
    this.last = wr.received;
    return true;
  }

  /** The requests in order; do not mutate while iterating (use remove after). */
  all(): readonly WaitingRequest[] {
    return this.#reqs;
  }

  peek(): WaitingRequest | undefined {
    return this.#reqs[0];
  }

  /** Counts one delivery to the head request; moves it to the back when it still wants more. */
  pop(wr: WaitingRequest): void {
    wr.d++;
    wr.n--;
    const i = this.#reqs.indexOf(wr);
    if (i < 0) return;
    this.#reqs.splice(i, 1);
    if (wr.n > 0) this.#reqs.push(wr);
  }

  remove(wr: WaitingRequest): void {
    const i = this.#reqs.indexOf(wr);
    if (i >= 0) this.#reqs.splice(i, 1);
  }

  /** Removes every request for which `drop` returns true. */
  removeIf(drop: (wr: WaitingRequest) => boolean): void {
    this.#reqs = this.#reqs.filter((wr) => !drop(wr));
  }

  clear(): WaitingRequest[] {
    const r = this.#reqs;
    this.#reqs = [];
    return r;
  }
}
