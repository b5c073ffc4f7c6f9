// The internal-client API: how server services, account imports and JetStream publish, reply, subscribe and
// deliver (publishInternal, replyInternal, subscribeInternal, deliverAs/deliverHead) through the same
// delivery path as client connections. Layer three of the client (see _client_base.ts).

import { PubArg } from "../protocol/mod.ts";
import { type InternalCallback, Subscription } from "./subscription.ts";
import { addShadowSubscriptions } from "./_account_service.ts";
import { attachBody, ClientDelivery, GR_PREFIX, makePubArg } from "./_client_deliver.ts";
import type { ClientBase } from "./_client_base.ts";

/** ClientInternal: see ClientBase for the layering. */
export abstract class ClientInternal extends ClientDelivery {
  /**
   * The receiver that went over the stall mark during this client's publishes since the last call (the same
   * fast-producer signal a connection's read loop waits on), then cleared; undefined when none did.
   */
  takeStalled(): ClientBase | undefined {
    const c = this._stallOn;
    this._stallOn = undefined;
    return c;
  }

  /**
   * Publishes a message from this (internal) client into its account, as if it had arrived as PUB/HPUB.
   * Allocates per call; not for a client connection's read path.
   */
  publishInternal(
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): void {
    const pa = makePubArg(subject, reply);
    const msg = attachBody(pa, hdr, payload);
    this.onMsg(pa, msg);
  }

  /**
   * Sends a reply (no headers, no reply subject) from this internal client to `subject`, usually a unique
   * inbox: the same deliveries as publishInternal, without the subject cache and without allocating a
   * PubArg. `payload` is copied to each receiver before this returns.
   */
  replyInternal(subject: string, payload: Uint8Array): void {
    const acc = this.account;
    if (this.#replyBusy || acc.hasMappings || this.server.trace || subject.startsWith(GR_PREFIX)) {
      return this.publishInternal(subject, undefined, undefined, payload);
    }
    const pa = this.#replyPa;
    const n = subject.length;
    if (pa.buf.length < n) pa.buf = new Uint8Array(Math.max(n, 2 * pa.buf.length));
    const buf = pa.buf;
    for (let i = 0; i < n; i++) {
      const c = subject.charCodeAt(i);
      if (c > 0x7f) return this.publishInternal(subject, undefined, undefined, payload);
      buf[i] = c;
    }
    pa.subjEnd = n;
    pa.argEnd = n;
    pa.size = payload.length;
    this.inMsgs++;
    this.inBytes += payload.length;
    const s = this.server;
    s.inMsgs++;
    s.inBytes += payload.length;
    this.#replyBusy = true;
    try {
      this._deliverResult(acc.sl.matchUncached(subject), pa, payload, subject);
    } finally {
      this.#replyBusy = false;
    }
  }

  // replyInternal's reusable "subject" buffer; a reply sent while one is being delivered takes the slow path.
  #replyPa = makePubArg("", undefined);
  #replyBusy = false;

  /** Adds an internal subscription whose messages go to `icb`. */
  subscribeInternal(subject: string, icb: InternalCallback, queue?: string): Subscription {
    const sid = String(++this.#isid);
    const sub = new Subscription(this._self, subject, queue, sid, icb);
    this.account.sl.insert(sub);
    this.subs.set(sid, sub);
    // As for client subscriptions, stream imports of the account feed internal ones (a stream's subjects).
    if (this.account.streamImports.length > 0) addShadowSubscriptions(this.account, sub);
    return sub;
  }

  /** Removes a subscription made by subscribeInternal. */
  unsubscribeInternal(sub: Subscription): void {
    this._unsubscribe(sub);
  }

  #isid = 0;

  /** True while delivering a message under its own subject (JetStream consumer deliveries). */
  get deliveringAs(): boolean {
    return this._asSubject;
  }

  /**
   * Delivers a message of this internal client to the subscriptions matching `route` (one member per queue
   * group) with `subject` on the MSG line, as nats-server sends JetStream deliveries (pa.deliver). True when
   * any subscription took it. Allocates per call.
   */
  deliverAs(
    route: string,
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): boolean {
    return this.#deliverPa(route, subject, makePubArg(subject, reply), hdr, payload);
  }

  /**
   * deliverAs with a prebuilt "subject reply" line: `head` holds the subject's bytes, a space and the reply,
   * `subjEnd` is the subject's byte length (JetStream deliveries build it without a string round trip).
   */
  deliverHead(
    route: string,
    subject: string,
    head: Uint8Array,
    subjEnd: number,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): boolean {
    const pa = new PubArg();
    pa.buf = head;
    pa.subjStart = 0;
    pa.subjEnd = subjEnd;
    if (subjEnd < head.length) {
      pa.replyStart = subjEnd + 1;
      pa.replyEnd = head.length;
    }
    pa.argStart = 0;
    pa.argEnd = head.length;
    pa.hdr = -1;
    return this.#deliverPa(route, subject, pa, hdr, payload);
  }

  #deliverPa(
    route: string,
    subject: string,
    pa: PubArg,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): boolean {
    const msg = attachBody(pa, hdr, payload);
    this._asSubject = true;
    this._asRoute = route;
    try {
      return this._deliverResult(this.account.sl.match(route), pa, msg, subject);
    } finally {
      this._asSubject = false;
    }
  }
}
