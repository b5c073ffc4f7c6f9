// Consumer delivery: the delivery pass with its budget, redelivery queue, last-per-subject start, replay
// original, rate limit, push flow control requests and pinned-client ids. Behaviour follows nats-server
// server/consumer.go (getNextMsg, deliverMsg).

import type { StoredMsg } from "../store/mod.ts";
import { nowNs } from "./_headers.ts";
import { BigDecimalWriter, encoder, putDecimal } from "../util/mod.ts";
import { statusHdr } from "./_consumer_util.ts";
import { appendHdr, EMPTY, nuid } from "./_consumer_base.ts";
import { ConsumerPull } from "./_consumer_pull.ts";
import type { WaitingRequest } from "./_consumer_wait.ts";

/** Messages or bytes one delivery pass may send before it yields to I/O. */
const PASS_MSGS = 512;
const PASS_BYTES = 2 * 1024 * 1024;
/** Flow control window, as the reference's JsFlowControlMaxPending / 16. */
const FC_MAX_PENDING = 32 * 1024 * 1024 / 16;

/** ConsumerDelivery: see ConsumerBase for the layering. */
export abstract class ConsumerDelivery extends ConsumerPull {
  // ---- Delivery -----------------------------------------------------------------------------------------

  /** Marks that there may be work; one pass runs after the current task. */
  protected _signal(): void {
    if (this._scheduled || this._closed) return;
    this._scheduled = true;
    queueMicrotask(() => {
      this._scheduled = false;
      this._run();
    });
  }

  protected _canDeliver(): boolean {
    if (this._closed || this.isPaused()) return false;
    const c = this.config;
    if (c.deliver_subject) {
      if (!this._active) return false;
      if (c.flow_control && this._pbytes > FC_MAX_PENDING) return false;
    } else if (this.waiting!.length === 0) return false;
    return true;
  }

  /** One delivery pass: sends until no work, a stall, or the pass budget; then yields and continues. */
  protected _run(): void {
    let msgs = 0;
    let bytes = 0;
    // One clock reading per pass: a pass is one synchronous burst.
    const now = performance.now();
    this.#passTs = 0n;
    while (this._canDeliver()) {
      if (msgs >= PASS_MSGS || bytes >= PASS_BYTES) {
        this._immediate ??= setImmediate(() => {
          this._immediate = undefined;
          this._run();
        });
        return;
      }
      if (this._rlNext > now + 1) return this._resumeAt(this._rlNext);
      const next = this._held ?? this._getNextMsg();
      this._held = undefined;
      if (next === undefined) {
        if (this.waiting !== undefined && this.waiting.length > 0) this._processWaiting(true);
        return;
      }
      const { m, dc } = next;
      if (this._replayEnd > 0 && dc === 1 && m.seq <= this._replayEnd && this._replayLastTs > 0n) {
        // As nats-server, the original gap is waited from when the message is up for delivery (for a pull
        // consumer: once a request is there), not from the previous delivery.
        if (this._replayDue === 0) this._replayDue = now + Number((m.ts - this._replayLastTs) / 1_000_000n);
        if (this._replayDue - now > 1) {
          this._held = owned(next);
          return this._resumeAt(this._replayDue);
        }
      }
      const sz = this._deliver(m, dc, now);
      if (sz < 0) {
        this._held = owned(next);
        return;
      }
      msgs++;
      bytes += sz;
    }
  }

  protected _resumeAt(at: number): void {
    if (this._resumeTmr !== undefined) return;
    this._resumeTmr = this._timers.after(Math.max(1, at - performance.now()), () => {
      this._resumeTmr = undefined;
      this._signal();
    });
  }

  /** The next message to deliver and its delivery count, or undefined when none (or stalled). */
  protected _getNextMsg(): { m: StoredMsg; dc: number } | undefined {
    const store = this.stream.store;
    const maxdc = this.config.max_deliver ?? -1;
    while (this._rdq.length > 0) {
      const seq = this._rdq.shift()!;
      this._rdqSet.delete(seq);
      const p = this._pending.get(seq);
      if (p === undefined) continue;
      const dc = (this._rdc.get(seq) ?? 1) + 1;
      this._rdc.set(seq, dc);
      if (maxdc > 0 && dc > maxdc) {
        if (dc === maxdc + 1) this._notifyDeliveryExceeded(seq, dc - 1);
        this._exceeded.set(seq, dc - 1);
        this._pending.delete(seq);
        this._storeCall(() => this.store.updateDelivered(p.dseq, seq, dc, nowNs()));
        this._floorAfterDrop();
        continue;
      }
      const m = store.loadMsg(seq);
      if (m === undefined) {
        this._pending.delete(seq);
        this._rdc.delete(seq);
        continue;
      }
      return { m, dc };
    }
    const maxp = this.config.max_ack_pending ?? 0;
    if (maxp > 0 && this.config.ack_policy !== "none" && this._pending.size >= maxp) return undefined;
    if (this._lss !== undefined) {
      while (this._lss.length > 0) {
        const seq = this._lss.shift()!;
        const m = store.loadMsg(seq);
        if (m !== undefined) {
          if (this._lss.length === 0) this._endLss();
          return { m, dc: 1 };
        }
      }
      this._endLss();
    }
    const m = this._loadNext(this._sseq);
    if (m === undefined) {
      const last = store.fastState().lastSeq;
      if (this._sseq <= last) this._sseq = last + 1;
      return undefined;
    }
    this._sseq = m.seq + 1;
    return { m, dc: 1 };
  }

  /**
   * A pending message left without an ack (max deliveries): the ack floors move up to just below the lowest
   * message still pending, or to the delivered sequences when none is left.
   */
  protected _floorAfterDrop(): void {
    if (this._pending.size === 0) {
      this._adflr = this._dseq - 1;
      this._asflr = this._sseq - 1;
      return;
    }
    // The lowest pending is first in the Map: keys arrive in increasing order.
    const low = this._pending.keys().next().value as number;
    if (low - 1 > this._asflr) {
      this._asflr = low - 1;
      this._adflr = Math.max(this._adflr, this._pending.get(low)!.dseq - 1);
    }
  }

  protected _endLss(): void {
    this._lss = undefined;
    this._sseq = Math.max(this._sseq, this._lssResume);
    this._recalcPending();
  }

  protected _loadNext(start: number): StoredMsg | undefined {
    const f = this._filters;
    const store = this.stream.store;
    // Borrowed: _deliver copies the bytes out before the next load; a message held for later is copied.
    if (f.length === 0) return store.loadNextMsg(">", start, true);
    if (f.length === 1) return store.loadNextMsg(f[0], start, true);
    return store.loadNextMsgMulti(f, start);
  }

  /** The wall clock of the current delivery pass in ns, read at its first delivery (0n: not yet). */
  #passTs = 0n;
  #ackPre?: Uint8Array;
  #ackPreChars = 0;
  #subjBytes = new Map<string, Uint8Array>();
  /** #ackHead's buffer, reused: every delivery path copies the line out before deliverHead returns. */
  #ackBuf = new Uint8Array(256);
  /** True while #ackBuf is being delivered (a nested delivery then builds into a buffer of its own). */
  #ackBusy = false;
  #tsDec = new BigDecimalWriter();
  /** #ackHead's results besides the bytes: the subject's byte length and the reply's UTF-16 length. */
  #ackSubjEnd = 0;
  #ackChars = 0;

  /**
   * "<subject> $JS.ACK.<stream>.<consumer>.<dc>.<seq>.<dseq>.<ts>.<pending>" as bytes, built without a string
   * round trip (subject bytes cached per subject); sets #ackSubjEnd and #ackChars (the reply's length in
   * UTF-16 units).
   */
  #ackHead(
    subject: string,
    dc: number,
    seq: number,
    dseq: number,
    ts: bigint,
    npc: number,
  ): Uint8Array {
    if (this.#ackPre === undefined) {
      const pre = `$JS.ACK.${this.stream.name}.${this.name}.`;
      this.#ackPre = encoder.encode(pre);
      this.#ackPreChars = pre.length;
    }
    let sb = this.#subjBytes.get(subject);
    if (sb === undefined) {
      if (this.#subjBytes.size >= 1024) this.#subjBytes.clear();
      sb = encoder.encode(subject);
      this.#subjBytes.set(subject, sb);
    }
    const pre = this.#ackPre;
    // Up to 21 characters for the timestamp and 16 for each safe integer, with the dots.
    const need = sb.length + 1 + pre.length + 5 * 24;
    let out = this.#ackBuf;
    if (this.#ackBusy) out = new Uint8Array(need);
    else if (out.length < need) out = this.#ackBuf = new Uint8Array(Math.max(need, 2 * out.length));
    const sl = sb.length;
    for (let i = 0; i < sl; i++) out[i] = sb[i];
    out[sl] = 0x20;
    let o = sl + 1;
    out.set(pre, o);
    o += pre.length;
    const start = o;
    o = putDecimal(out, o, dc);
    out[o++] = 0x2e;
    o = putDecimal(out, o, seq);
    out[o++] = 0x2e;
    o = putDecimal(out, o, dseq);
    out[o++] = 0x2e;
    o = this.#tsDec.put(out, o, ts);
    out[o++] = 0x2e;
    o = putDecimal(out, o, npc);
    this.#ackSubjEnd = sl;
    this.#ackChars = this.#ackPreChars + (o - start);
    return out.subarray(0, o);
  }

  /** Sends one message; returns its size, or -1 when no pull request could take it. */
  protected _deliver(m: StoredMsg, dc: number, now: number): number {
    const c = this.config;
    const dseq = this._dseq;
    const seq = m.seq;
    // The pending count a pull request's min_pending sees still includes this message.
    const npcBefore = this._npc;
    if (dc === 1 && this._npc > 0 && seq <= this._npf) this._npc--;
    const head = this.#ackHead(m.subject, dc, seq, dseq, m.ts, this._npc);
    let hdr = m.hdr;
    let payload = m.msg;
    if (c.headers_only) {
      hdr = appendHdr(hdr, `Nats-Msg-Size: ${payload.length}\r\n`);
      payload = EMPTY;
    }
    const sz = m.subject.length + this.#ackChars + (hdr?.length ?? 0) + payload.length;
    let target: string;
    let pinId = "";
    // A pull request whose batch ended with max_bytes left: told so after this message.
    let batchDone: WaitingRequest | undefined;
    if (c.deliver_subject) target = c.deliver_subject;
    else {
      const wr = this._nextWaiting(sz, npcBefore, now);
      if (wr === undefined) {
        if (dc === 1 && seq <= this._npf) this._npc++;
        return -1;
      }
      target = wr.reply;
      if ((c.priority_policy ?? "none") === "pinned_client" && !wr.plain) {
        let pin = this.pins.get(wr.group);
        if (pin === undefined) {
          pin = { id: nuid.next(), since: nowNs(), last: now };
          this.pins.set(wr.group, pin);
          this._pinAdvisory(wr.group, pin.id, true);
          this._armPinTtl(wr.group);
        }
        pinId = pin.id;
        wr.pinId = pin.id;
      }
      if (wr.hasMaxBytes) {
        wr.b -= sz;
        if (wr.b <= 0) wr.n = 1;
      }
      this.waiting!.pop(wr);
      this.waiting!.last = now;
      if (wr.n > 0 && wr.hb) wr.hbt = now + wr.hb;
      if (wr.n <= 0 && wr.hasMaxBytes && wr.b > 0) batchDone = wr;
    }
    if (pinId !== "") hdr = appendHdr(hdr, `Nats-Pin-Id: ${pinId}\r\n`);
    this._dseq++;
    if (seq > this._dss) this._dss = seq;
    const nested = this.#ackBusy;
    this.#ackBusy = true;
    try {
      this.jsa.client.deliverHead(target, m.subject, head, this.#ackSubjEnd, hdr, payload);
    } finally {
      this.#ackBusy = nested;
    }
    if (batchDone !== undefined) {
      this._status(target, "409 Batch Completed", [
        ["Nats-Pending-Messages", String(batchDone.n)],
        ["Nats-Pending-Bytes", String(batchDone.b)],
      ]);
    }
    this._lastDelivery = now;
    if (this.#passTs === 0n) this.#passTs = nowNs();
    this._lastDeliveryTs = this.#passTs;
    if (this._replayEnd > 0) {
      this._replayLastTs = m.ts;
      this._replayDue = 0;
      if (seq >= this._replayEnd) this._replayEnd = 0;
    }
    const bps = c.rate_limit_bps ?? 0;
    if (bps > 0) this._rlNext = Math.max(this._rlNext, now) + (sz * 8 * 1000) / bps;
    const ap = c.ack_policy;
    if (ap !== "none") {
      const p = this._pending.get(seq);
      if (p !== undefined) p.at = now;
      else {
        this._pending.set(seq, { dseq, at: now });
        if (this._ptmr === undefined) this._armPending(this._ackWaitMs(dc));
      }
      this._notePending(seq, now);
    } else {
      this._adflr = dseq;
      this._asflr = seq;
    }
    if (c.flow_control && c.deliver_subject) {
      this._pbytes += sz;
      if (this._fcid === "" && this._pbytes > FC_MAX_PENDING / 2) this._sendFlowControl();
      else if (this._fcid !== "" && this._pbytes - this._fcsz >= FC_MAX_PENDING) this._fcsz += sz;
    }
    try {
      this.store.updateDelivered(dseq, seq, dc, this._lastDeliveryTs);
    } catch {
      // As _storeCall (no closure on the per-message path).
    }
    if (ap === "none" && this.stream.config.retention !== "limits") this.stream.ackMsg(seq);
    return sz;
  }

  protected _sendFlowControl(): void {
    const rnd = Math.floor(Math.random() * 1e9).toString(36).slice(0, 4);
    this._fcid = `$JS.FC.${this.stream.name}.${this.name}.${rnd}`;
    this._fcsz = this._pbytes;
    this.jsa.client.publishInternal(
      this.config.deliver_subject!,
      this._fcid,
      statusHdr("100 FlowControl Request", []),
      EMPTY,
    );
  }

  protected _storeCall(fn: () => void): void {
    try {
      fn();
    } catch {
      // Store refusals (ack none redelivery, not pending) match the reference's ignored errors.
    }
  }
}

/** A delivery with its own copies of a borrowed message's bytes (see StreamStore.loadNextMsg). */
function owned(next: { m: StoredMsg; dc: number }): { m: StoredMsg; dc: number } {
  const m = next.m;
  return { m: { ...m, hdr: m.hdr?.slice(), msg: m.msg.slice() }, dc: next.dc };
}
