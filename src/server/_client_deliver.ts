// Publish routing and delivery, the hot path of a client connection: PUB/HPUB checks, the per-connection subject
// cache, account mappings, permissions, reserved replies, fan-out to subscriptions and queue groups, and the
// MSG/HMSG framing into a receiver's outbound buffer. Layer two of the client (see _client_base.ts).
// Behaviour follows nats-server server/client.go (processInboundClientMsg, deliverMsg).

import { asciiString, decoder, encoder, putDecimal } from "../util/mod.ts";
import {
  ERR_INVALID_PUBLISH_SUBJECT,
  ERR_MAX_PAYLOAD,
  goQuote,
  HDR_SIZE_INVALID,
  PubArg,
  pubPermissionViolation,
  replyPermissionViolation,
  snippet,
} from "../protocol/mod.ts";
import { isValidLiteralSubject, type SublistResult } from "../sublist/mod.ts";
import type { Subscription } from "./subscription.ts";
import type { Account } from "./account.ts";
import { ClosedState } from "./closed_state.ts";
import { ClientBase, OK_B, STALL_BYTES } from "./_client_base.ts";
import type { Client } from "./client.ts";

const MSG_B = encoder.encode("MSG ");
const HMSG_B = encoder.encode("HMSG ");
export const GR_PREFIX = "_GR_.";
/**
 * Reply prefixes clients may not use (service import replies, JetStream acks, gateway routed replies),
 * each with the shortest reply it applies to: nats-server counts "_R_." alone but not the others.
 */
const RESERVED_REPLY_PREFIXES: [Uint8Array, number][] = [
  [encoder.encode("_R_."), 4],
  [encoder.encode("$JS.ACK."), 9],
  [encoder.encode("_GR_."), 6],
];

/** True when buf[start, end) starts with a reserved reply prefix and is long enough to count. */
function isReservedReply(buf: Uint8Array, start: number, end: number): boolean {
  const c = buf[start];
  if (c !== 0x5f && c !== 0x24) return false; // Only "_" and "$" can start one.
  for (const [p, min] of RESERVED_REPLY_PREFIXES) {
    if (end - start >= min && sameBytes(p, buf, start, start + p.length)) return true;
  }
  return false;
}

/** ClientDelivery: see ClientBase for the layering. */
export abstract class ClientDelivery extends ClientBase {
  // True only during deliverAs(): the MSG line carries the message's own subject, not the subscription's.
  protected _asSubject = false;
  /** The delivery subject while _asSubject is set. */
  protected _asRoute = "";

  onPubArg(pa: PubArg): boolean {
    if (pa.hdr === -2) {
      this._protocolViolation(`processPub Parse Error: ${goQuote(decoder.decode(pa.arg))}`);
      return false;
    }
    if (pa.hdr >= 0 && !this.headers) {
      this.server.log.error(`${this} - message headers not supported`);
      this.close(ClosedState.MsgHeaderViolation);
      return false;
    }
    if (pa.hdr === HDR_SIZE_INVALID) {
      this._protocolViolation(
        `processHeaderPub Bad or Missing Header Size: ${goQuote(decoder.decode(pa.arg))}`,
      );
      return false;
    }
    if (pa.size < 0) {
      this._protocolViolation(`processPub Bad or Missing Size: ${goQuote(decoder.decode(pa.arg))}`);
      return false;
    }
    if (pa.hdr > pa.size) {
      this._protocolViolation(
        `processHeaderPub Header Size larger then TotalSize: ${goQuote(decoder.decode(pa.arg))}`,
      );
      return false;
    }
    const max = this.maxPayload();
    if (max >= 0 && pa.size > max) {
      this.sendErr(ERR_MAX_PAYLOAD);
      this.server.log.error(`${this} - maximum payload exceeded: ${pa.size} vs ${max}`);
      this.close(ClosedState.MaxPayloadExceeded);
      return false;
    }
    if (this.server.trace) {
      this.server.log.trace(`${this} - <<- [${pa.hdr >= 0 ? "HPUB" : "PUB"} ${decoder.decode(pa.arg)}]`);
    }
    return true;
  }

  onMsg(pa: PubArg, msg?: Uint8Array): boolean {
    if (this.server.trace) this.#traceMsg(msg ??= pa.payload());
    const size = msg === undefined ? pa.msgEnd - pa.msgStart : msg.length;
    this.inMsgs++;
    this.inBytes += size;
    const s = this.server;
    s.inMsgs++;
    s.inBytes += size;
    const acc = this.account;
    const parsed = pa;
    if (acc.hasMappings) {
      msg ??= pa.payload();
      const mapped = this.#mapPub(pa, acc);
      if (mapped === null) return !this.closed;
      if (mapped !== undefined) pa = mapped;
    }
    const sl = acc.sl;
    let pc = this._pubCache;
    // The parser compared the subject with pa.hint (pc.bytes) while scanning it: no second pass when it matched.
    if (
      pc === undefined || pc.genid !== sl.genid ||
      !(pa.sameSubject || sameBytes(pc.bytes, pa.buf, pa.subjStart, pa.subjEnd))
    ) {
      const subject = asciiString(pa.buf, pa.subjStart, pa.subjEnd);
      if (isOneOff(pa.buf, pa.subjStart, pa.subjEnd)) {
        return this.#checked(pa, msg, this.#pubVerdict(subject), subject, sl.matchUncached(subject));
      }
      pc = {
        bytes: pa.buf.slice(pa.subjStart, pa.subjEnd),
        subject,
        genid: sl.genid,
        result: sl.match(subject),
        verdict: this.#pubVerdict(subject),
      };
      this._pubCache = pc;
      parsed.hint = pc.bytes;
    }
    return this.#checked(pa, msg, pc.verdict, pc.subject, pc.result);
  }

  /** Routes a publish that #pubVerdict judged `verdict` (0 allowed, 1 denied, 2 reserved, 3 invalid). */
  #checked(
    pa: PubArg,
    msg: Uint8Array | undefined,
    verdict: number,
    subject: string,
    result: SublistResult<Subscription>,
  ): boolean {
    if (verdict !== 0) {
      if (verdict === 3) this.sendErr(ERR_INVALID_PUBLISH_SUBJECT);
      else {
        if (verdict === 1 && this.#replyAllowed(subject)) return this.#route(pa, msg, result, subject);
        this.#pubPermissionViolation(subject);
        return !this.closed;
      }
    }
    return this.#route(pa, msg, result, subject);
  }

  /** `msg` undefined: the payload is `pa.payload()`, viewed only when someone receives it. */
  #route(
    pa: PubArg,
    msg: Uint8Array | undefined,
    result: SublistResult<Subscription>,
    subject: string,
  ): boolean {
    if (pa.replyStart >= 0 && isReservedReply(pa.buf, pa.replyStart, pa.replyEnd)) {
      const reply = asciiString(pa.buf, pa.replyStart, pa.replyEnd);
      this.sendErr(replyPermissionViolation(reply));
      this.server.log.error(`${this} - Publish Violation - ${this._userDesc()}, Reply ${goQuote(reply)}`);
      return !this.closed;
    }
    if (this.opts.verbose) this.enqueue(OK_B);
    const delivered = (result.psubs.length > 0 || result.qsubs.length > 0) &&
      this._deliverResult(result, pa, msg ?? pa.payload(), subject);
    if (!delivered && pa.replyStart >= 0 && this.opts.no_responders) {
      this.#noResponders(asciiString(pa.buf, pa.replyStart, pa.replyEnd));
    }
    return !this.closed;
  }

  /** Delivers to every plain subscription and one member of each queue group; true when any took it. */
  protected _deliverResult(
    r: SublistResult<Subscription>,
    pa: PubArg,
    msg: Uint8Array,
    subject: string,
  ): boolean {
    let delivered = false;
    const psubs = r.psubs;
    for (let i = 0; i < psubs.length; i++) {
      if (this.#deliver(psubs[i], pa, msg, subject)) delivered = true;
    }
    const qsubs = r.qsubs;
    for (let i = 0; i < qsubs.length; i++) {
      const g = qsubs[i];
      // Start at a random member; skip ones that cannot take it (closed, echo off, denied).
      const start = (Math.random() * g.length) | 0;
      for (let j = 0; j < g.length; j++) {
        if (this.#deliver(g[(start + j) % g.length], pa, msg, subject)) {
          delivered = true;
          break;
        }
      }
    }
    return delivered;
  }

  /**
   * Account mappings (nats-server's selectMappedSubject): the PubArg for the mapped subject, undefined when
   * no mapping applies, null when the mapping drops the message. Allocates; only accounts with mappings
   * come here.
   */
  #mapPub(pa: PubArg, acc: Account): PubArg | undefined | null {
    const subject = asciiString(pa.buf, pa.subjStart, pa.subjEnd);
    const to = acc.selectMappedSubject(subject);
    if (to === undefined || to === subject) return undefined;
    if (to === "") return null;
    const reply = pa.replyStart >= 0 ? asciiString(pa.buf, pa.replyStart, pa.replyEnd) : undefined;
    const np = makePubArg(to, reply);
    np.hdr = pa.hdr;
    np.size = pa.size;
    return np;
  }

  /**
   * Delivers a message this client published into another account under `subject`/`reply` (service imports
   * and their responses); true when a subscription took it. Allocates per call: the import path only.
   */
  deliverImported(
    acc: Account,
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): boolean {
    const pa = makePubArg(subject, reply);
    const msg = attachBody(pa, hdr, payload);
    // Inside deliverAs (a consumer's delivery), the next import hop routes by this import's subject.
    const route = this._asRoute;
    this._asRoute = subject;
    try {
      return this._deliverResult(acc.sl.match(subject), pa, msg, subject);
    } finally {
      this._asRoute = route;
    }
  }

  /**
   * Delivers to one subscription of this client under `subject` (stream imports: the shadow subscription in
   * the exporting account hands the message to the real one). `from` is the publisher.
   */
  deliverTo(
    sub: Subscription,
    from: Client,
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): boolean {
    const pa = makePubArg(subject, reply);
    const msg = attachBody(pa, hdr, payload);
    return from.#deliver(sub, pa, msg, subject);
  }

  /** Appends MSG/HMSG for `sub`; false when the subscription does not take the message. */
  #deliver(sub: Subscription, pa: PubArg, msg: Uint8Array, subject: string): boolean {
    const c = sub.client;
    if (sub.closed || c.closed) return false;
    if ((c as ClientBase) === this && !this.echo) return false;
    if (c.perms !== undefined && c.perms.hasSubDeny && c.perms.denyDeliver(subject)) return false;
    // nm counts every delivery (/subsz shows it); max is the UNSUB auto-unsubscribe count.
    if (sub.max > 0) {
      if (sub.nm >= sub.max) return false;
      if (++sub.nm >= sub.max) c._autoUnsub(sub);
    } else sub.nm++;
    if (sub.icb !== undefined) {
      // Service imports (account clients) route by the delivery subject, e.g. a consumer's reply to a `_R_.`.
      this.#deliverInternal(sub, pa, msg, this._asSubject && c.kind === "Account" ? this._asRoute : subject);
      return true;
    }
    let hdr = pa.hdr;
    let body = msg;
    if (hdr >= 0 && !c.headers) {
      body = msg.subarray(hdr);
      hdr = -1;
    }
    if (pa.replyStart >= 0 && c.perms?.response) {
      c.perms.allowReply(asciiString(pa.buf, pa.replyStart, pa.replyEnd));
    }
    c.#appendMsg(sub, pa, hdr, body, this._asSubject);
    c.outMsgs++;
    c.outBytes += body.length;
    const s = this.server;
    s.outMsgs++;
    s.outBytes += body.length;
    if (c._outLen + c._inflight > STALL_BYTES && (c as ClientBase) !== this) this._stallOn = c;
    return true;
  }

  /** Hands a message to an internal subscription's callback; a throwing callback only logs. */
  #deliverInternal(sub: Subscription, pa: PubArg, msg: Uint8Array, subject: string): void {
    const reply = pa.replyStart >= 0 ? asciiString(pa.buf, pa.replyStart, pa.replyEnd) : undefined;
    const hdr = pa.hdr > 0 ? msg.subarray(0, pa.hdr) : undefined;
    const payload = pa.hdr > 0 ? msg.subarray(pa.hdr) : msg;
    try {
      sub.icb!(sub, this._self, subject, reply, hdr, payload);
    } catch (e) {
      this.server.log.error(`Internal subscription on "${sub.subject}" failed: ${(e as Error)?.stack ?? e}`);
    }
  }

  /** Writes "MSG subj sid [reply] size\r\npayload\r\n" (or HMSG) into the outbound buffer. */
  #appendMsg(sub: Subscription, pa: PubArg, hdr: number, body: Uint8Array, noPrefix = false): void {
    const size = body.length;
    const src = pa.buf;
    const subjLen = pa.subjEnd - pa.subjStart;
    const replyLen = pa.replyStart >= 0 ? pa.replyEnd - pa.replyStart : -1;
    const need = 32 + subjLen + sub.sidBytes.length + replyLen + size;
    let off = this._reserve(need);
    if (off < 0) return;
    const out = this._out!;
    const pfx = noPrefix ? undefined : hdr >= 0 ? sub.hmsgPrefix : sub.msgPrefix;
    if (pfx !== undefined) off = put(out, off, pfx);
    else {
      off = put(out, off, hdr >= 0 ? HMSG_B : MSG_B);
      off = putRange(out, off, src, pa.subjStart, pa.subjEnd);
      off = put(out, off, sub.sidBytes);
    }
    if (replyLen >= 0) {
      off = putRange(out, off, src, pa.replyStart, pa.replyEnd);
      out[off++] = 0x20;
    }
    if (hdr >= 0) {
      off = putDecimal(out, off, hdr);
      out[off++] = 0x20;
    }
    off = putDecimal(out, off, size);
    out[off++] = 0x0d;
    out[off++] = 0x0a;
    if (size > 0) {
      if (size < 64) {
        for (let i = 0; i < size; i++) out[off + i] = body[i];
      } else out.set(body, off);
      off += size;
    }
    out[off++] = 0x0d;
    out[off++] = 0x0a;
    this._outLen = off;
  }

  /** `<<- MSG_PAYLOAD: ["…"]`, cut at max_traced_msg_len, as nats-server traces payloads. */
  #traceMsg(msg: Uint8Array): void {
    const max = this.server.opts.maxTracedMsgLen;
    if (max > 0 && msg.length > max) {
      const q = snippet(msg, 0, max);
      this.server.log.trace(`${this} - <<- MSG_PAYLOAD: ["${q.slice(1, max + 1)}..."]`);
    } else this.server.log.trace(`${this} - <<- MSG_PAYLOAD: [${snippet(msg, 0, msg.length)}]`);
  }

  #pubVerdict(subject: string): number {
    if (subject.startsWith(GR_PREFIX)) return 2;
    if (this.perms !== undefined && !this.perms.canPublish(subject, false)) return 1;
    if (this.opts.pedantic && !isValidLiteralSubject(subject)) return 3;
    return 0;
  }

  /** A statically denied subject may still be a reply this client was asked to answer (allow_responses). */
  #replyAllowed(subject: string): boolean {
    const p = this.perms;
    return p !== undefined && p.response !== undefined && p.canPublish(subject, true);
  }

  #pubPermissionViolation(subject: string): void {
    this.sendErr(pubPermissionViolation(subject));
    this.server.log.error(`${this} - Publish Violation - ${this._userDesc()}, Subject ${goQuote(subject)}`);
  }

  #noResponders(rs: string): void {
    for (const sub of this.account.sl.match(rs).psubs) {
      if ((sub.client as ClientBase) !== this) continue;
      this.enqueue(encoder.encode(`HMSG ${rs} ${sub.sid} 16 16\r\nNATS/1.0 503\r\n\r\n\r\n`));
      return;
    }
  }
}

/** A PubArg over a fresh "subject [reply]" buffer (internal and cross-account publishes). */
export function makePubArg(subject: string, reply: string | undefined): PubArg {
  const head = encodeShort(reply === undefined ? subject : `${subject} ${reply}`);
  const pa = new PubArg();
  pa.buf = head;
  pa.subjStart = 0;
  pa.subjEnd = reply === undefined
    ? head.length
    : head.length === subject.length + 1 + reply.length
    ? subject.length // all ASCII
    : encoder.encode(subject).length;
  if (reply !== undefined) {
    pa.replyStart = pa.subjEnd + 1;
    pa.replyEnd = head.length;
  }
  pa.argStart = 0;
  pa.argEnd = head.length;
  pa.hdr = -1;
  return pa;
}

/**
 * The message bytes for a PubArg built from parts: headers and payload joined when there are headers (one
 * allocation), with pa.hdr and pa.size set.
 */
export function attachBody(pa: PubArg, hdr: Uint8Array | undefined, payload: Uint8Array): Uint8Array {
  if (hdr === undefined || hdr.length === 0) {
    pa.hdr = -1;
    pa.size = payload.length;
    return payload;
  }
  const msg = new Uint8Array(hdr.length + payload.length);
  msg.set(hdr);
  msg.set(payload, hdr.length);
  pa.hdr = hdr.length;
  pa.size = msg.length;
  return msg;
}

/** Encodes a subject-sized string: a byte loop for ASCII (cheaper than TextEncoder's op call), else UTF-8. */
function encodeShort(s: string): Uint8Array {
  const n = s.length;
  if (n > 128) return encoder.encode(s);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return encoder.encode(s);
    out[i] = c;
  }
  return out;
}

function put(out: Uint8Array, off: number, src: Uint8Array): number {
  const n = src.length;
  if (n < 32) {
    for (let i = 0; i < n; i++) out[off + i] = src[i];
  } else out.set(src, off);
  return off + n;
}

function putRange(out: Uint8Array, off: number, src: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 32) {
    for (let i = 0; i < n; i++) out[off + i] = src[start + i];
  } else out.set(src.subarray(start, end), off);
  return off + n;
}

/**
 * Subjects that are published to once (JetStream acks and replies to inboxes): routed without the result
 * cache and the per-client publish cache, which they would only churn.
 */
function isOneOff(b: Uint8Array, start: number, end: number): boolean {
  if (end - start < 8) return false;
  const c = b[start];
  if (c === 0x24) { // "$JS.ACK."
    return b[start + 1] === 0x4a && b[start + 2] === 0x53 && b[start + 3] === 0x2e && b[start + 4] === 0x41 &&
      b[start + 5] === 0x43 && b[start + 6] === 0x4b && b[start + 7] === 0x2e;
  }
  if (c === 0x5f) { // "_INBOX."
    return b[start + 1] === 0x49 && b[start + 2] === 0x4e && b[start + 3] === 0x42 && b[start + 4] === 0x4f &&
      b[start + 5] === 0x58 && b[start + 6] === 0x2e;
  }
  return false;
}

/** Compares `a` with src[start..end) without making a view. */
function sameBytes(a: Uint8Array, src: Uint8Array, start: number, end: number): boolean {
  const n = a.length;
  if (n !== end - start) return false;
  for (let i = 0; i < n; i++) if (a[i] !== src[start + i]) return false;
  return true;
}
