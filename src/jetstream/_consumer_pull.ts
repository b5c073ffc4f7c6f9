// Pull requests (CONSUMER.MSG.NEXT): validation, the waiting queue, expiry and request heartbeats, and the
// choice of the request the next message goes to. Behaviour follows nats-server server/consumer.go.

import { parseNextRequest, type WaitingRequest } from "./_consumer_wait.ts";
import { goDurationMs } from "./_consumer_base.ts";
import { ConsumerPush } from "./_consumer_push.ts";

/** ConsumerPull: see ConsumerBase for the layering. */
export abstract class ConsumerPull extends ConsumerPush {
  // ---- Pull requests ------------------------------------------------------------------------------------

  /** A `CONSUMER.MSG.NEXT` request (also `+NXT` acks). */
  processNextMsgRequest(reply: string, body: Uint8Array): void {
    if (this._closed) return;
    const w = this.waiting;
    if (w === undefined) return this._status(reply, "409 Consumer is push based");
    const now = performance.now();
    const wr = parseNextRequest(reply, body, now);
    if (typeof wr === "string") return this._status(reply, `400 Bad Request - ${wr}`);
    // Through a service import the reply is an `_R_.` one: interest is the requestor's reply in its account.
    let iacc = this.jsa.account;
    let interest = reply;
    while (interest.startsWith("_R_.")) {
      const si = iacc.responses.get(interest);
      if (si === undefined) break;
      iacc = si.acc;
      interest = si.to;
    }
    if (interest !== reply) (wr.iacc = iacc, wr.interest = interest);
    const c = this.config;
    if (wr.n <= 0) wr.n = 1;
    if (c.max_batch && wr.n > c.max_batch) {
      return this._status(reply, `409 Exceeded MaxRequestBatch of ${c.max_batch}`);
    }
    if (wr.expires && c.max_expires && wr.expires - now > c.max_expires / 1e6) {
      return this._status(reply, `409 Exceeded MaxRequestExpires of ${goDurationMs(c.max_expires / 1e6)}`);
    }
    if (wr.hasMaxBytes && c.max_bytes && wr.b > c.max_bytes) {
      return this._status(reply, `409 Exceeded MaxRequestMaxBytes of ${c.max_bytes}`);
    }
    const pp = c.priority_policy ?? "none";
    if (!wr.plain) {
      // Priority fields the consumer's policy does not use are refused, whatever the policy.
      if ((wr.minPending > 0 || wr.minAckPending > 0) && pp !== "overflow") {
        return this._status(reply, "400 Bad Request - Not a Overflow Priority consumer");
      }
      if (wr.pinId !== "" && pp !== "pinned_client") {
        return this._status(reply, "400 Bad Request - Not a Pinned Client Priority consumer");
      }
      if (wr.priority < 0 || wr.priority > 9) {
        return this._status(reply, "400 Bad Request - Priority must be between 0 and 9");
      }
    }
    if (pp !== "none" && !wr.plain) {
      if (wr.group === "") return this._status(reply, "400 Bad Request - Priority Group missing");
      if (!(c.priority_groups ?? []).includes(wr.group)) {
        return this._status(reply, "400 Bad Request - Invalid Priority Group");
      }
      if (pp === "pinned_client") {
        const pin = this.pins.get(wr.group);
        if (pin !== undefined && wr.pinId !== "" && wr.pinId !== pin.id) {
          return this._status(reply, "423 Nats-Pin-Id mismatch");
        }
        if (pin !== undefined && wr.pinId === pin.id) pin.last = now;
      }
    }
    if (w.isFull()) this._processWaiting(false);
    if (wr.noWait) {
      const avail = this._npc + this._rdq.length + (this._held ? 1 : 0);
      if (avail === 0 && wr.expires === 0) {
        w.last = now;
        return this._status(reply, "404 No Messages");
      }
    }
    if (!w.add(wr)) {
      // A request with idle heartbeats gets no 409: its client notices the missing heartbeats and retries
      // later, rather than re-requesting in a tight loop.
      if (!wr.hb) this._status(reply, "409 Exceeded MaxWaiting");
      return;
    }
    if (wr.expires || wr.hbt) this._armWaiting(Math.min(wr.expires || Infinity, wr.hbt || Infinity));
    this._signal();
  }

  /** Expires requests, sends their heartbeats, drops ones without interest; re-arms the waiting timer. */
  protected _processWaiting(eos: boolean): void {
    const w = this.waiting;
    if (w === undefined || w.length === 0) return;
    const now = performance.now();
    let next = Infinity;
    w.removeIf((wr) => {
      // An expired request gets 408. At the end of the stream a no_wait request ends with 404 No Messages
      // once it got messages or when it has no expiry (one with an expiry waits for at least one message).
      const expired = wr.expires !== 0 && now >= wr.expires;
      if (expired) {
        this._status(wr.reply, "408 Request Timeout", [
          ["Nats-Pending-Messages", String(wr.n)],
          ["Nats-Pending-Bytes", String(wr.b)],
        ]);
        return true;
      }
      if (eos && wr.noWait && (wr.d > 0 || !wr.expires)) {
        this._status(wr.reply, "404 No Messages");
        return true;
      }
      if (!this._hasInterest(wr)) return true;
      if (wr.hbt) {
        if (now >= wr.hbt) {
          this._sendIdleHeartbeat(wr.reply);
          wr.hbt = now + wr.hb;
        }
        next = Math.min(next, wr.hbt);
      }
      if (wr.expires) next = Math.min(next, wr.expires);
      return false;
    });
    if (next < Infinity) this._armWaiting(next, true);
  }

  /** Info counts waiting requests after dropping expired ones and ones nobody listens for any more. */
  override snapshot(): ReturnType<ConsumerPush["snapshot"]> {
    if (!this._closed) this._processWaiting(false);
    return super.snapshot();
  }

  /** True while someone listens on the request's reply (the requestor's, for an imported request). */
  protected _hasInterest(wr: WaitingRequest): boolean {
    const r = (wr.iacc ?? this.jsa.account).sl.match(wr.interest ?? wr.reply);
    return r.psubs.length + r.qsubs.length > 0;
  }

  protected _armWaiting(at: number, force = false): void {
    if (this._closed) return;
    if (!force && this._wtmr !== undefined && this._wtmrAt <= at) return;
    this._timers.cancel(this._wtmr);
    this._wtmrAt = at;
    this._wtmr = this._timers.after(Math.max(1, at - performance.now()), () => {
      this._wtmr = undefined;
      this._wtmrAt = Infinity;
      this._processWaiting(false);
    });
  }

  /**
   * The request the next message of `size` bytes goes to, or undefined (requests may be dropped). `npc` is
   * the pending count with that message, for overflow's min_pending; `now` is the delivery pass's clock.
   */
  protected _nextWaiting(size: number, npc = this._npc, now = performance.now()): WaitingRequest | undefined {
    const w = this.waiting!;
    const c = this.config;
    const pp = c.priority_policy ?? "none";
    let reqs = w.all();
    if (pp === "prioritized" && reqs.length > 1) reqs = [...reqs].sort((a, b) => a.priority - b.priority);
    // Removing from the live queue shifts the rest left: step back so no request is skipped.
    const live = reqs === w.all();
    for (let i = 0; i < reqs.length; i++) {
      const wr = reqs[i];
      if (wr.expires && now >= wr.expires) continue;
      if (!this._hasInterest(wr)) {
        if (wr.interest !== undefined) {
          this._status(wr.reply, "408 Interest Expired", [
            ["Nats-Pending-Messages", String(wr.n)],
            ["Nats-Pending-Bytes", String(wr.b)],
          ]);
        }
        w.remove(wr);
        if (live) i--;
        continue;
      }
      if (pp === "overflow" && (wr.minPending > 0 || wr.minAckPending > 0)) {
        const okP = wr.minPending > 0 && npc >= wr.minPending;
        const okA = wr.minAckPending > 0 && this._pending.size >= wr.minAckPending;
        if (!okP && !okA) continue;
      }
      if (pp === "pinned_client" && !wr.plain) {
        const pin = this.pins.get(wr.group);
        if (wr.pinId !== "" && wr.pinId !== pin?.id) {
          // The request's pin was dropped (unpin or TTL): tell it, and pick another request.
          this._status(wr.reply, "423 Nats-Pin-Id mismatch");
          w.remove(wr);
          if (live) i--;
          continue;
        }
        if (pin !== undefined && wr.pinId !== pin.id) continue;
      }
      if (wr.hasMaxBytes) {
        if (size > wr.b) {
          this._status(wr.reply, "409 Message Size Exceeds MaxBytes", [
            ["Nats-Pending-Messages", String(wr.n)],
            ["Nats-Pending-Bytes", String(wr.b)],
          ]);
          w.remove(wr);
          if (live) i--;
          continue;
        }
      }
      return wr;
    }
    return undefined;
  }
}
