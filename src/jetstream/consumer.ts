// A JetStream consumer on one server. The class is built in layers, one file per concern (see
// _consumer_base.ts); this file is the concrete class: acks (+ACK, -NAK with delay, +WPI, +NXT, +TERM), ack
// wait redelivery with backoff, and pinned-client priority groups. Behaviour follows nats-server
// server/consumer.go.

import { decoder, encoder } from "../util/mod.ts";
import { nowNs } from "./_headers.ts";
import { consumerInfo, DueHeap, parseAckSubject } from "./_consumer_util.ts";
import { EMPTY, parseGoDurationMs } from "./_consumer_base.ts";
import { ConsumerDelivery } from "./_consumer_delivery.ts";

export { type ConsumerOpts, createConsumerName } from "./_consumer_base.ts";

const ACK_ACK = "+ACK";
const ACK_OK = "+OK";
const ACK_NAK = "-NAK";
const ACK_PROGRESS = "+WPI";
const ACK_NEXT = "+NXT";
const ACK_TERM = "+TERM";

/** One consumer of one stream. */
export class Consumer extends ConsumerDelivery {
  /** The ConsumerInfo body; `versioned` for API responses (dynamic versioning metadata). */
  info(versioned = false): Record<string, unknown> {
    return consumerInfo(this, versioned);
  }

  // ---- Acks and redelivery ------------------------------------------------------------------------------

  protected _processAck(subject: string, reply: string | undefined, payload: Uint8Array, v2 = false): void {
    if (this._closed) return;
    const a = parseAckSubject(subject, v2);
    if (a === undefined) return;
    this._ackActivity();
    const { sseq, dseq, dc } = a;
    // The common acks, empty and "+ACK", without decoding the payload.
    if (
      payload.length === 0 ||
      (payload.length === 4 && payload[0] === 0x2b && payload[1] === 0x41 && payload[2] === 0x43 &&
        payload[3] === 0x4b)
    ) {
      this._processAckMsg(sseq, dseq, dc, true);
      if (reply) this.jsa.client.replyInternal(reply, EMPTY);
      return;
    }
    const text = decoder.decode(payload);
    let skipReply = false;
    if (text === "" || text === ACK_ACK || text === ACK_OK) this._processAckMsg(sseq, dseq, dc, true);
    else if (text.startsWith(ACK_NEXT)) {
      this._processAckMsg(sseq, dseq, dc, true);
      if (reply) this.processNextMsgRequest(reply, encoder.encode(text.slice(ACK_NEXT.length)));
      skipReply = true;
    } else if (text.startsWith(ACK_NAK)) this._processNak(sseq, dseq, dc, text.slice(ACK_NAK.length).trim());
    else if (text === ACK_PROGRESS) this._progressUpdate(sseq);
    else if (text.startsWith(ACK_TERM)) this._processTerm(sseq, dseq, dc, text.slice(ACK_TERM.length).trim());
    if (reply && !skipReply) this.jsa.client.replyInternal(reply, EMPTY);
  }

  protected _processAckMsg(sseq: number, dseq: number, dc: number, sample: boolean): void {
    const c = this.config;
    const maxp = c.max_ack_pending ?? 0;
    let needSignal = false;
    const acked: number[] = [];
    switch (c.ack_policy) {
      case "explicit": {
        const p = this._pending.get(sseq);
        if (p !== undefined) {
          if (sample) this._sampleAck(sseq, dseq, dc);
          if (maxp > 0 && this._pending.size >= maxp) needSignal = true;
          this._pending.delete(sseq);
          dseq = p.dseq;
          acked.push(sseq);
        }
        if (this._pending.size === 0) {
          this._adflr = this._dseq - 1;
          this._asflr = this._sseq - 1;
        } else if (dseq === this._adflr + 1) {
          this._adflr = dseq;
          this._asflr = sseq;
          // The lowest pending is first in the Map: keys arrive in increasing order.
          const low = this._pending.keys().next().value as number;
          const lp = this._pending.get(low)!;
          if (low > sseq && lp.dseq > 0) {
            this._adflr = lp.dseq - 1;
            this._asflr = low - 1;
          }
        }
        this._rdc.delete(sseq);
        this._removeFromRdq(sseq);
        if (p === undefined) {
          // A late ack of a message whose deliveries ran out still releases it.
          if (!this._exceeded.delete(sseq)) return;
          acked.push(sseq);
        }
        break;
      }
      case "all": {
        if (dseq <= this._adflr || sseq <= this._asflr) return;
        if (maxp > 0 && this._pending.size >= maxp) needSignal = true;
        if (sample) this._sampleAck(sseq, dseq, dc);
        this._adflr = dseq;
        this._asflr = sseq;
        for (const [seq] of this._pending) {
          if (seq > sseq) break;
          this._pending.delete(seq);
          this._rdc.delete(seq);
          this._removeFromRdq(seq);
          acked.push(seq);
        }
        for (const seq of this._exceeded.keys()) {
          if (seq > sseq) continue;
          this._exceeded.delete(seq);
          acked.push(seq);
        }
        break;
      }
      default:
        return;
    }
    this._lastAckTs = this._burstNowNs();
    try {
      this.store.updateAcks(dseq, sseq);
    } catch {
      // As _storeCall (no closure on the per-ack path).
    }
    if (this.stream.config.retention !== "limits") { for (const s of acked) this.stream.ackMsg(s); }
    if (needSignal) this._signal();
  }

  protected _removeFromRdq(seq: number): void {
    if (!this._rdqSet.delete(seq)) return;
    const i = this._rdq.indexOf(seq);
    if (i >= 0) this._rdq.splice(i, 1);
  }

  protected _progressUpdate(sseq: number): void {
    const p = this._pending.get(sseq);
    if (p === undefined) return;
    p.at = performance.now();
    this._notePending(sseq, p.at);
    this._storeCall(() => this.store.updateDelivered(p.dseq, sseq, 1, nowNs()));
  }

  protected _processNak(sseq: number, dseq: number, dc: number, arg: string): void {
    if (dseq <= this._adflr || dseq > this._dseq) return;
    const p = this._pending.get(sseq);
    if (this._pending.size > 0 && p === undefined) return;
    this._advisory(`$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.advisory.v1.nak",
      "consumer_seq": dseq,
      "stream_seq": sseq,
      deliveries: dc,
    });
    if (arg !== "") {
      let delayMs: number | undefined;
      try {
        if (arg[0] === "{") delayMs = ((JSON.parse(arg).delay as number | undefined) ?? 0) / 1e6;
        else delayMs = parseGoDurationMs(arg);
      } catch {
        delayMs = undefined;
      }
      if (delayMs === undefined || Number.isNaN(delayMs)) {
        this.jsa.js.server.log.warn(
          `JetStream consumer '${this.jsa.account.name} > ${this.stream.name} > ${this.name}' bad NAK delay value: "${arg}"`,
        );
      } else {
        this._removeFromRdq(sseq);
        if (p !== undefined) {
          // Due when the delay has passed: back-date the delivery so ack wait ends then.
          p.at = performance.now() - this._ackWaitMs(dc) + delayMs;
          this._notePending(sseq, p.at);
          this._armPending(Math.max(1, delayMs), true);
        }
        return;
      }
    }
    if (!this._rdqSet.has(sseq)) {
      this._rdq.push(sseq);
      this._rdqSet.add(sseq);
    }
    this._signal();
  }

  protected _processTerm(sseq: number, dseq: number, dc: number, reason: string): void {
    this._processAckMsg(sseq, dseq, dc, false);
    this._advisory(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.advisory.v1.terminated",
      "consumer_seq": dseq,
      "stream_seq": sseq,
      deliveries: dc,
      reason: reason || undefined,
    });
  }

  protected _sampleAck(sseq: number, dseq: number, dc: number): void {
    const f = this.config.sample_freq;
    if (!f) return;
    const pct = Number(f.replace(/%$/, ""));
    if (!(pct > 0) || Math.random() * 100 >= pct) return;
    const p = this._pending.get(sseq);
    const ackTime = p ? Math.round((performance.now() - p.at) * 1e6) : 0;
    this._advisory(`$JS.EVENT.METRIC.CONSUMER.ACK.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.metric.v1.consumer_ack",
      "consumer_seq": dseq,
      "stream_seq": sseq,
      "ack_time": ackTime,
      deliveries: dc,
    });
  }

  protected _notifyDeliveryExceeded(sseq: number, dc: number): void {
    this._advisory(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.advisory.v1.max_deliver",
      "stream_seq": sseq,
      deliveries: dc,
    });
  }

  /** Ack wait in ms for a delivery count (backoff when configured). */
  protected _ackWaitMs(dc: number): number {
    const bo = this.config.backoff;
    if (bo && bo.length > 0) return bo[Math.min(Math.max(dc - 1, 0), bo.length - 1)] / 1e6;
    return (this.config.ack_wait ?? 30e9) / 1e6;
  }

  protected _armPending(ms: number, force = false): void {
    if (this._closed) return;
    const at = performance.now() + ms + 1;
    if (this._ptmr !== undefined && !force && this._ptmrAt <= at) return;
    if (this._ptmr !== undefined && force && this._ptmrAt <= at) return;
    this._timers.cancel(this._ptmr);
    this._ptmrAt = at;
    this._ptmr = this._timers.after(ms + 1, () => {
      this._ptmr = undefined;
      this._ptmrAt = Infinity;
      this._checkPending();
    });
  }

  #dues = new DueHeap();

  /** Records a pending message's new delivery time `at` (its ack-wait deadline follows from it). */
  protected _notePending(seq: number, at: number): void {
    this.#dues.push(at + this._ackWaitMs(this._rdc.get(seq) ?? 1), seq);
  }

  /**
   * Moves every pending message past its ack wait onto the redelivery queue and re-arms for the earliest
   * remaining deadline. Deadlines come off a heap, so a check costs what expires; after restored state or an
   * ack_wait change one full scan of the pending map rebuilds the heap.
   */
  protected _checkPending(): void {
    if (this._closed || this._pending.size === 0) {
      if (this._pending.size === 0) this.#dues.clear();
      return;
    }
    this.#dropGonePending();
    if (this._pending.size === 0) {
      this.#dues.clear();
      return;
    }
    const now = performance.now();
    let next = Infinity;
    const expired: number[] = [];
    const dues = this.#dues;
    if (this._dueRescan) {
      this._dueRescan = false;
      dues.clear();
      for (const [seq, p] of this._pending) {
        const due = p.at + this._ackWaitMs(this._rdc.get(seq) ?? 1);
        if (due <= now) {
          if (!this._rdqSet.has(seq)) expired.push(seq);
        } else dues.push(due, seq);
      }
    } else {
      while (dues.peekDue() <= now) {
        const seq = dues.pop();
        const p = this._pending.get(seq);
        if (p === undefined || this._rdqSet.has(seq)) continue; // acked or already queued
        const due = p.at + this._ackWaitMs(this._rdc.get(seq) ?? 1);
        if (due <= now) {
          expired.push(seq);
        } else dues.push(due, seq); // redelivered or progressed since: its newer deadline
      }
    }
    next = dues.peekDue();
    if (expired.length > 0) {
      expired.sort((a, b) => a - b);
      const maxdc = this.config.max_deliver ?? -1;
      let dropped = false;
      for (const seq of expired) {
        if (this._rdqSet.has(seq)) continue; // two heap entries of one message
        const dc = this._rdc.get(seq) ?? 1;
        if (maxdc > 0 && dc >= maxdc) {
          // Out of deliveries (also after max_deliver was lowered): report it and stop tracking it.
          const p = this._pending.get(seq);
          if (p === undefined) continue;
          this._notifyDeliveryExceeded(seq, dc);
          this._exceeded.set(seq, dc);
          this._pending.delete(seq);
          this._storeCall(() => this.store.updateDelivered(p.dseq, seq, dc + 1, nowNs()));
          dropped = true;
          continue;
        }
        this._rdq.push(seq);
        this._rdqSet.add(seq);
      }
      if (dropped) this._floorAfterDrop();
      this._signal();
    }
    if (next < Infinity) this._armPending(Math.max(1, next - now), true);
    else if (this._pending.size > 0) this._armPending(this._ackWaitMs(1), true);
  }

  /**
   * Pending messages the stream no longer has (expired, removed) or below the ack floor are forgotten and
   * move the ack floors, as the reference's pending check does; with none left the floors catch up with the
   * delivered sequences. Pending keys are in increasing order, so this stops at the first one still valid.
   */
  #dropGonePending(): void {
    const st = this.stream.store.fastState();
    const fseq = st.msgs === 0 ? st.lastSeq + 1 : st.firstSeq;
    const dropped: number[] = [];
    for (const [seq, p] of this._pending) {
      if (seq >= fseq && seq > this._asflr) break;
      this._pending.delete(seq);
      this._rdc.delete(seq);
      this._removeFromRdq(seq);
      if (seq > this._asflr) this._asflr = seq;
      if (p.dseq > this._adflr) this._adflr = p.dseq;
      dropped.push(p.dseq, seq);
    }
    if (dropped.length === 0) return;
    if (this._pending.size === 0) {
      this._adflr = this._dseq - 1;
      this._asflr = this._sseq - 1;
    }
    // The store forgets them as acked ones.
    this._storeCall(() => {
      for (let i = 0; i < dropped.length; i += 2) {
        try {
          this.store.updateAcks(dropped[i], dropped[i + 1]);
        } catch {
          // Already gone from the store's pending: nothing to forget.
        }
      }
    });
  }

  // ---- Pinned client priority groups ----------------------------------------------------------------------

  protected _armPinTtl(group: string): void {
    const ttl = (this.config.priority_timeout ?? 0) / 1e6;
    if (ttl <= 0) return;
    this._timers.after(ttl, () => {
      const pin = this.pins.get(group);
      if (pin === undefined || this._closed) return;
      const idle = performance.now() - pin.last;
      if (idle >= ttl - 1) this.unpin(group, "timeout");
      else this._armPinTtlIn(group, ttl - idle);
    });
  }

  protected _armPinTtlIn(group: string, ms: number): void {
    this._timers.after(Math.max(1, ms), () => {
      const pin = this.pins.get(group);
      if (pin === undefined || this._closed) return;
      const ttl = (this.config.priority_timeout ?? 0) / 1e6;
      const idle = performance.now() - pin.last;
      if (idle >= ttl - 1) this.unpin(group, "timeout");
      else this._armPinTtlIn(group, ttl - idle);
    });
  }

  /** Drops the pin of a group (UNPIN API or TTL); the next request gets a new pin. */
  unpin(group: string, reason: string): void {
    if (!this.pins.delete(group)) return;
    this._pinAdvisory(group, "", false, reason);
    this._signal();
  }

  protected _pinAdvisory(group: string, id: string, pinned: boolean, reason = ""): void {
    const kind = pinned ? "PINNED" : "UNPINNED";
    this._advisory(`$JS.EVENT.ADVISORY.CONSUMER.${kind}.${this.stream.name}.${this.name}`, {
      type: pinned
        ? "io.nats.jetstream.advisory.v1.consumer_group_pinned"
        : "io.nats.jetstream.advisory.v1.consumer_group_unpinned",
      group,
      "pinned_id": pinned ? id : undefined,
      reason: pinned ? undefined : reason,
    });
  }
}
