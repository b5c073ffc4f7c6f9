// Consumer config updates, pause and reset, push interest (deliver subject notifications), idle heartbeats,
// flow control replies and the inactivity timer. Behaviour follows nats-server server/consumer.go.

import type { ConsumerStoreConfig } from "../store/mod.ts";
import { nowNs, parseRfc3339 } from "./_headers.ts";
import { type ConsumerConfig, filtersOf, isDurable, JS_DELETE_WAIT_DEFAULT } from "./_consumer_config.ts";
import { statusHdr } from "./_consumer_util.ts";
import { ConsumerBase, EMPTY, storeCfg } from "./_consumer_base.ts";
import type { Consumer } from "./consumer.ts";

/** ConsumerPush: see ConsumerBase for the layering. */
export abstract class ConsumerPush extends ConsumerBase {
  // ---- Config changes, pause, reset -----------------------------------------------------------------------

  /** Applies an accepted config update. */
  applyUpdate(cfg: ConsumerConfig): void {
    const old = this.config;
    // An update does not pause or resume: only create and the PAUSE API set pause_until.
    if (cfg.pause_until !== old.pause_until) cfg = { ...cfg, "pause_until": old.pause_until };
    this.config = cfg;
    // updateConfig arrived with MemStore; older stores lack it.
    (this.store as { updateConfig?: (c: ConsumerStoreConfig) => void }).updateConfig?.(storeCfg(cfg));
    if (old.deliver_subject !== cfg.deliver_subject && cfg.deliver_subject) {
      if (this._notify) {
        const sl = this.jsa.account.sl;
        if (old.deliver_group) {
          sl.clearQueueNotification(old.deliver_subject!, old.deliver_group, this._notify);
        } else sl.clearNotification(old.deliver_subject!, this._notify);
      }
      this._watchInterest(cfg.deliver_subject);
    }
    if (old.ack_wait !== cfg.ack_wait && this._pending.size > 0) {
      this._dueRescan = true;
      this._armPending(100, true);
    }
    if (old.inactive_threshold !== cfg.inactive_threshold) this._armInactive();
    if (old.pause_until !== cfg.pause_until) this._checkPause();
    const nf = filtersOf(cfg).filter((f) => f !== ">");
    if (nf.join(" ") !== this._filters.join(" ")) {
      // New filters take effect from the next sequence on; pending counts follow them.
      this._filters = nf;
      this._recalcPending();
    }
    this._signal();
  }

  /** Pause state: true while pause_until is in the future. */
  isPaused(): boolean {
    const pu = this.config.pause_until;
    if (!pu) return false;
    const t = parseRfc3339(pu);
    return t !== undefined && t > nowNs();
  }

  /** Sets or clears pause_until (PAUSE API); sends the pause advisory. */
  pause(until: string | undefined): void {
    this.config = { ...this.config, "pause_until": until };
    this._checkPause();
  }

  protected _checkPause(): void {
    this._timers.cancel(this._uptmr);
    this._uptmr = undefined;
    const pu = this.config.pause_until;
    const paused = this.isPaused();
    this._advisory(`$JS.EVENT.ADVISORY.CONSUMER.PAUSE.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.advisory.v1.consumer_pause",
      paused,
      // The configured deadline, also in the advisory that the pause ended.
      "pause_until": pu || "0001-01-01T00:00:00Z",
    }, !paused && !this._wasPaused);
    this._wasPaused = paused;
    if (paused) {
      // Rounded up: a timer that fires before the deadline would report the consumer as still paused.
      const ms = Number((parseRfc3339(pu!)! - nowNs() + 999_999n) / 1_000_000n) + 1;
      this._uptmr = this._timers.after(Math.max(1, ms), () => {
        this._uptmr = undefined;
        this._checkPause();
        this._signal();
      });
    }
  }

  /**
   * Restarts delivery at stream sequence `seq` (RESET API): everything below it counts as acked, pending acks
   * and delivery counts are dropped and the consumer sequences start over.
   */
  reset(seq: number): void {
    this._pending.clear();
    this._rdq = [];
    this._rdqSet.clear();
    this._rdc.clear();
    this._held = undefined;
    this._lss = undefined;
    const oldFloor = this._asflr;
    this._sseq = seq;
    this._asflr = seq - 1;
    this._dss = seq - 1;
    this._dseq = 1;
    this._adflr = 0;
    this._lastDeliveryTs = 0n;
    this._lastAckTs = 0n;
    this._recalcPending();
    // Messages skipped over may have lost their last interest (bounded walk, as the reference's cleanup).
    if (this.stream.config.retention !== "limits") {
      const first = Math.max(oldFloor + 1, this.stream.store.fastState().firstSeq);
      for (let s = first, n = 0; s < seq && n < 100_000; s++, n++) this.stream.ackMsg(s);
    }
    this._signal();
  }

  // ---- Push interest, heartbeats, inactivity --------------------------------------------------------------

  // As nats-server, only subscriptions on exactly the deliver subject (and group) bind a push consumer: a
  // wildcard subscriber that happens to match gets neither messages nor heartbeats.
  protected _watchInterest(ds: string): void {
    const sl = this.jsa.account.sl;
    const c = this.config;
    this._notify = (has) => this._setActive(has);
    if (c.deliver_group) sl.registerQueueNotification(ds, c.deliver_group, this._notify);
    else sl.registerNotification(ds, this._notify);
  }

  protected _setActive(has: boolean): void {
    if (this._closed) return;
    this._active = has;
    if (has) {
      this._timers.cancel(this._dtmr);
      this._dtmr = undefined;
      this._signal();
    } else this._armInactive();
  }

  /** True for push consumers with a bound deliver subject. */
  get pushBound(): boolean {
    return this._active;
  }

  protected _dthresh(): number {
    const t = this.config.inactive_threshold ?? 0;
    if (t > 0) return t / 1e6;
    return isDurable(this.config) ? 0 : JS_DELETE_WAIT_DEFAULT / 1e6;
  }

  protected _armInactive(): void {
    this._timers.cancel(this._dtmr);
    this._dtmr = undefined;
    const ms = this._dthresh();
    if (ms <= 0 || this._closed) return;
    if (this.config.deliver_subject && this._active) return;
    this._armDeleteIn(ms);
  }

  /** When the inactivity check is due (performance.now() ms). */
  #dtmrAt = 0;
  /** Last ack activity (performance.now() ms): acks count as activity. */
  #lastAckAt = 0;

  protected _armDeleteIn(ms: number): void {
    this._timers.cancel(this._dtmr);
    this.#dtmrAt = performance.now() + ms;
    this._dtmr = this._timers.after(Math.max(1, ms), () => {
      this._dtmr = undefined;
      this._deleteNotActive();
    });
  }

  /**
   * An ack arrived: the inactivity countdown starts again from now. The timer is only moved when it was set
   * further out (pending acks held it), so the common case costs no timer work.
   */
  protected _ackActivity(): void {
    if (this._dtmr === undefined) return;
    const now = performance.now();
    this.#lastAckAt = now;
    const ms = this._dthresh();
    if (this.#dtmrAt > now + ms) this._armDeleteIn(ms);
  }

  protected _deleteNotActive(): void {
    if (this._closed) return;
    const ms = this._dthresh();
    const now = performance.now();
    // Deliveries still waiting for their ack keep the consumer until their ack wait ran out.
    if (this._pending.size > 0) {
      let due = 0;
      for (const [seq, p] of this._pending) {
        due = Math.max(due, p.at + this._ackWaitMs(this._rdc.get(seq) ?? 1));
      }
      if (now < due + ms) return this._armDeleteIn(due + ms - now);
    }
    if (now - this.#lastAckAt < ms) return this._armDeleteIn(ms - (now - this.#lastAckAt));
    if (this.config.deliver_subject) {
      if (this._active) return;
    } else {
      const w = this.waiting!;
      const idle = now - w.last;
      if (w.length > 0 || idle < ms) return this._armDeleteIn(w.length > 0 ? ms : ms - idle);
    }
    this.onInactive?.(this as unknown as Consumer);
  }

  protected _armHeartbeat(): void {
    const hb = (this.config.idle_heartbeat ?? 0) / 1e6;
    if (hb <= 0) return;
    this._hbtmr = this._timers.after(hb, () => {
      this._hbtmr = undefined;
      if (this._closed) return;
      if (this._active && performance.now() - this._lastDelivery >= hb - 1) {
        this._sendIdleHeartbeat(this.config.deliver_subject!);
      }
      this._armHeartbeat();
    });
  }

  protected _sendIdleHeartbeat(subject: string): void {
    const pairs: [string, string][] = [
      ["Nats-Last-Consumer", String(this._dseq - 1)],
      ["Nats-Last-Stream", String(this._sseq - 1)],
    ];
    if (this._fcid !== "") pairs.push(["Nats-Consumer-Stalled", this._fcid]);
    this.jsa.client.publishInternal(subject, undefined, statusHdr("100 Idle Heartbeat", pairs), EMPTY);
  }

  protected _processFlowControl(subject: string): void {
    if (subject !== this._fcid) return;
    this._pbytes -= this._fcsz;
    if (this._pbytes < 0) this._pbytes = 0;
    this._fcid = "";
    this._fcsz = 0;
    this._signal();
  }
}
