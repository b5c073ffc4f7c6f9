// A JetStream consumer on one server: start position, delivery (push and pull), acks, redelivery, flow
// control, heartbeats and the inactivity/pause timers. Behaviour follows nats-server server/consumer.go.
//
// Everything runs on the server's one thread: stream notifications only mark work (`#signal`), and one
// delivery pass (`#run`) sends up to a budget of messages, then yields with setImmediate so a consumer with a
// deep backlog cannot starve client connections. Every deadline (ack wait, pull request expiry and
// heartbeats, push heartbeats, inactivity, pause, rate limit) is an entry on the server's Timers heap: one
// entry per kind per consumer, never one per message.

import { createHash } from "node:crypto";
import type { ConsumerStore, ConsumerStoreConfig, StoredMsg } from "../store/mod.ts";
import { subjectIsSubsetMatch } from "../sublist/mod.ts";
import { encoder, Nuid, type TimerEntry, type Timers } from "../util/mod.ts";
import { getHeader, nowNs, parseRfc3339, rfc3339Nano } from "./_headers.ts";
import { type ConsumerConfig, filtersOf, isDurable, JS_DELETE_WAIT_DEFAULT } from "./_consumer_config.ts";
import { parseNextRequest, type WaitingRequest, WaitQueue } from "./_consumer_wait.ts";
import { consumerInfo, parseAckSubject, statusHdr } from "./_consumer_util.ts";
import type { Stream, StreamConsumer } from "./stream.ts";
import type { JsAccount } from "./jetstream.ts";

const ACK_ACK = "+ACK";
const ACK_OK = "+OK";
const ACK_NAK = "-NAK";
const ACK_PROGRESS = "+WPI";
const ACK_NEXT = "+NXT";
const ACK_TERM = "+TERM";
/** Messages or bytes one delivery pass may send before it yields to I/O. */
const PASS_MSGS = 512;
const PASS_BYTES = 2 * 1024 * 1024;
/** Flow control window, as the reference's JsFlowControlMaxPending / 16. */
const FC_MAX_PENDING = 32 * 1024 * 1024 / 16;
const EMPTY = new Uint8Array(0);

interface Pending {
  /** Consumer sequence of the first delivery. */
  dseq: number;
  /** performance.now() of the last delivery (or progress). */
  at: number;
}

/** What create() needs besides the config. */
export interface ConsumerOpts {
  jsa: JsAccount;
  stream: Stream;
  config: ConsumerConfig;
  name: string;
}

const nuid = new Nuid();

/** A consumer name for an ephemeral, as the reference makes one: 8 characters of a hashed nuid. */
export function createConsumerName(): string {
  return createHash("sha256").update(nuid.next()).digest("base64url").slice(0, 8);
}

/** One consumer of one stream. */
export class Consumer implements StreamConsumer {
  readonly name: string;
  readonly stream: Stream;
  readonly jsa: JsAccount;
  config: ConsumerConfig;
  readonly created: bigint;
  readonly store: ConsumerStore;
  #timers: Timers;
  #filters: string[];
  #closed = false;
  // Sequences: next stream sequence to look at, next consumer sequence, ack floors.
  #sseq = 1;
  #dseq = 1;
  #adflr = 0;
  #asflr = 0;
  // Pending count for info and ack replies, valid through stream sequence #npf.
  #npc = 0;
  #npf = 0;
  /** Last-per-subject start: sequences still to deliver before resuming at #lssResume. */
  #lss: number[] | undefined;
  #lssResume = 0;
  #pending = new Map<number, Pending>();
  #rdq: number[] = [];
  #rdqSet = new Set<number>();
  /** Delivery counts of messages delivered more than once. */
  #rdc = new Map<number, number>();
  /** A message taken from the stream that no pull request could take yet. */
  #held: { m: StoredMsg; dc: number } | undefined;
  readonly waiting: WaitQueue | undefined;
  #ackSub;
  #fcSub;
  // Push state.
  #active = false;
  #notify: ((b: boolean) => void) | undefined;
  #pbytes = 0;
  #fcid = "";
  #fcsz = 0;
  #lastDelivery = 0;
  #lastDeliveryTs = 0n;
  #lastAckTs = 0n;
  // Timers.
  #ptmr: TimerEntry | undefined;
  #ptmrAt = Infinity;
  #wtmr: TimerEntry | undefined;
  #wtmrAt = Infinity;
  #hbtmr: TimerEntry | undefined;
  #dtmr: TimerEntry | undefined;
  #uptmr: TimerEntry | undefined;
  #resumeTmr: TimerEntry | undefined;
  #scheduled = false;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  // Rate limit and replay.
  #rlNext = 0;
  #replayEnd = 0;
  #replayLastTs = 0n;
  #replayLastAt = 0;
  // Pinned client priority groups: group → pin id and last request time.
  readonly pins = new Map<string, { id: string; since: bigint; last: number }>();

  constructor(o: ConsumerOpts) {
    this.jsa = o.jsa;
    this.stream = o.stream;
    this.config = o.config;
    this.name = o.name;
    this.created = nowNs();
    this.#timers = o.jsa.js.server.timers;
    this.#filters = filtersOf(o.config).filter((f) => f !== ">");
    const c = o.config;
    this.store = o.stream.store.consumerStore(o.name, storeCfg(c));
    if (!c.deliver_subject) this.waiting = new WaitQueue(c.max_waiting ?? 512);
    if (this.store.hasState()) this.#readStoredState();
    else this.#selectStartingSeqNo();
    this.#recalcPending();
    const client = o.jsa.client;
    this.#ackSub = client.subscribeInternal(
      `$JS.ACK.${this.stream.name}.${this.name}.>`,
      (_s, _c, subject, reply, _h, payload) => this.#processAck(subject, reply, payload),
    );
    if (c.deliver_subject && c.flow_control) {
      this.#fcSub = client.subscribeInternal(
        `$JS.FC.${this.stream.name}.${this.name}.*`,
        (_s, _c, subject) => this.#processFlowControl(subject),
      );
    }
  }

  /** Starts delivery, interest tracking and timers once the consumer is registered. */
  start(): void {
    const c = this.config;
    if (c.deliver_subject) this.#watchInterest(c.deliver_subject);
    else this.#armInactive();
    this.#checkPause();
    if (c.idle_heartbeat && c.deliver_subject) this.#armHeartbeat();
    if (this.#pending.size > 0) this.#armPending(this.#ackWaitMs(1));
    this.#signal();
  }

  // ---- Starting position ------------------------------------------------------------------------------

  #selectStartingSeqNo(): void {
    const c = this.config;
    const st = this.stream.store.fastState();
    const last = st.lastSeq;
    const first = st.msgs === 0 ? last + 1 : st.firstSeq;
    switch (c.deliver_policy) {
      case "all":
        this.#sseq = first;
        break;
      case "last": {
        let seq = 0;
        if (this.#filters.length === 0) seq = last;
        else {
          for (const f of this.#filters) seq = Math.max(seq, this.stream.store.loadLastMsg(f)?.seq ?? 0);
        }
        this.#sseq = seq === 0 ? last + 1 : seq;
        break;
      }
      case "last_per_subject": {
        const seqs: number[] = [];
        for (const f of this.#filters.length ? this.#filters : [">"]) {
          for (const subj of this.stream.store.subjectsState(f).keys()) {
            const m = this.stream.store.loadLastMsg(subj);
            if (m) seqs.push(m.seq);
          }
        }
        seqs.sort((a, b) => a - b);
        if (seqs.length > 0) {
          this.#lss = seqs;
          this.#lssResume = last + 1;
          this.#sseq = seqs[0];
        } else this.#sseq = last + 1;
        break;
      }
      case "new":
        this.#sseq = last + 1;
        break;
      case "by_start_sequence":
        this.#sseq = c.opt_start_seq ?? 1;
        break;
      case "by_start_time": {
        const t = parseRfc3339(c.opt_start_time ?? "") ?? 0n;
        this.#sseq = this.stream.store.getSeqFromTime(t);
        break;
      }
    }
    if (c.deliver_policy !== "last_per_subject") {
      if (this.#sseq < first) this.#sseq = first;
      else if (this.#sseq > last + 1) this.#sseq = last + 1;
    }
    if (this.#sseq < 1) this.#sseq = 1;
    if (c.replay_policy === "original") this.#replayEnd = last;
    this.#dseq = 1;
    this.#adflr = 0;
    this.#asflr = this.#sseq - 1;
    this.store.setStarting(this.#sseq - 1);
  }

  #readStoredState(): void {
    const st = this.store.state();
    this.#sseq = st.delivered.streamSeq + 1;
    this.#dseq = st.delivered.consumerSeq + 1;
    this.#adflr = st.ackFloor.consumerSeq;
    this.#asflr = st.ackFloor.streamSeq;
    const now = performance.now();
    const keys = [...st.pending.keys()].sort((a, b) => a - b);
    const nowN = nowNs();
    for (const k of keys) {
      const p = st.pending.get(k)!;
      this.#pending.set(k, { dseq: p.seq, at: now - Number((nowN - p.ts) / 1_000_000n) });
    }
    for (const [k, v] of st.redelivered) this.#rdc.set(k, v + 1);
  }

  /** Recomputes the pending count from the store (create, purge, info). */
  #recalcPending(): void {
    const store = this.stream.store;
    const last = store.fastState().lastSeq;
    let n = 0;
    if (this.#lss !== undefined) n = this.#lss.length;
    else if (this.#filters.length === 0) n = store.numPending(this.#sseq, ">", false).total;
    else for (const f of this.#filters) n += store.numPending(this.#sseq, f, false).total;
    this.#npc = n;
    this.#npf = last;
  }

  // ---- StreamConsumer -----------------------------------------------------------------------------------

  isInterested(subject: string): boolean {
    const f = this.#filters;
    if (f.length === 0) return true;
    for (let i = 0; i < f.length; i++) {
      if (f[i] === subject || subjectIsSubsetMatch(subject, f[i])) return true;
    }
    return false;
  }

  onStored(seq: number, subject: string): void {
    if (this.#closed) return;
    if (seq > this.#npf) {
      if (this.#lss === undefined && seq >= this.#sseq && this.isInterested(subject)) this.#npc++;
      this.#npf = seq;
    }
    if (this.waiting !== undefined && this.waiting.length === 0) return;
    this.#signal();
  }

  needsAck(seq: number, subject: string): boolean {
    if (!this.isInterested(subject)) return false;
    if (seq >= this.#sseq) return true;
    if (this.config.ack_policy === "none") return false;
    if (seq <= this.#asflr) return false;
    return this.#pending.has(seq) || this.#rdqSet.has(seq);
  }

  onPurged(firstSeq: number): void {
    if (this.#sseq < firstSeq) this.#sseq = firstSeq;
    if (this.#asflr < firstSeq - 1) this.#asflr = firstSeq - 1;
    for (const seq of [...this.#pending.keys()]) {
      if (seq < firstSeq) {
        this.#pending.delete(seq);
        this.#rdc.delete(seq);
      }
    }
    this.#rdq = this.#rdq.filter((s) => s >= firstSeq);
    this.#rdqSet = new Set(this.#rdq);
    if (this.#held && this.#held.m.seq < firstSeq) this.#held = undefined;
    if (this.#lss !== undefined) {
      this.#lss = this.#lss.filter((s) => s >= firstSeq);
      if (this.#lss.length === 0) {
        this.#sseq = Math.max(this.#sseq, this.#lssResume);
        this.#lss = undefined;
      }
    }
    if (this.#pending.size === 0) this.#adflr = this.#dseq - 1;
    this.#recalcPending();
  }

  info(): Record<string, unknown> {
    return consumerInfo(this);
  }

  /** State for info(): sequences, counts and timestamps. */
  snapshot(): {
    dseq: number;
    sseq: number;
    adflr: number;
    asflr: number;
    pending: number;
    redelivered: number;
    waiting: number;
    numPending: number;
    active: boolean;
    lastDelivery: bigint;
    lastAck: bigint;
  } {
    this.#recalcPending();
    let redelivered = 0;
    for (const seq of this.#rdc.keys()) if (this.#pending.has(seq)) redelivered++;
    return {
      dseq: this.#dseq - 1,
      sseq: this.#sseq - 1,
      adflr: this.#adflr,
      asflr: this.#asflr,
      pending: this.#pending.size,
      redelivered,
      waiting: this.waiting?.length ?? 0,
      numPending: this.#npc,
      active: this.#active,
      lastDelivery: this.#lastDeliveryTs,
      lastAck: this.#lastAckTs,
    };
  }

  stop(): void {
    this.#shutdown(false);
  }

  delete(): void {
    this.#shutdown(true);
  }

  #shutdown(deleteState: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.jsa.client;
    client.unsubscribeInternal(this.#ackSub);
    if (this.#fcSub) client.unsubscribeInternal(this.#fcSub);
    if (this.#notify) {
      const sl = this.jsa.account.sl;
      const c = this.config;
      if (c.deliver_group) sl.clearQueueNotification(c.deliver_subject!, c.deliver_group, this.#notify);
      else sl.clearNotification(c.deliver_subject!, this.#notify);
    }
    for (const t of [this.#ptmr, this.#wtmr, this.#hbtmr, this.#dtmr, this.#uptmr, this.#resumeTmr]) {
      this.#timers.cancel(t);
    }
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    if (this.waiting !== undefined) {
      for (const wr of this.waiting.clear()) this.#status(wr.reply, "409 Consumer Deleted");
    }
    if (deleteState) this.store.delete();
    else this.store.stop();
  }

  get closed(): boolean {
    return this.#closed;
  }

  // ---- Config changes, pause, reset -----------------------------------------------------------------------

  /** Applies an accepted config update. */
  applyUpdate(cfg: ConsumerConfig): void {
    const old = this.config;
    this.config = cfg;
    // updateConfig arrived with MemStore; older stores lack it.
    (this.store as { updateConfig?: (c: ConsumerStoreConfig) => void }).updateConfig?.(storeCfg(cfg));
    if (old.deliver_subject !== cfg.deliver_subject && cfg.deliver_subject) {
      if (this.#notify) {
        const sl = this.jsa.account.sl;
        if (old.deliver_group) {
          sl.clearQueueNotification(old.deliver_subject!, old.deliver_group, this.#notify);
        } else sl.clearNotification(old.deliver_subject!, this.#notify);
      }
      this.#watchInterest(cfg.deliver_subject);
    }
    if (old.ack_wait !== cfg.ack_wait && this.#pending.size > 0) this.#armPending(100, true);
    if (old.inactive_threshold !== cfg.inactive_threshold) this.#armInactive();
    if (old.pause_until !== cfg.pause_until) this.#checkPause();
    this.#signal();
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
    this.#checkPause();
  }

  #checkPause(): void {
    this.#timers.cancel(this.#uptmr);
    this.#uptmr = undefined;
    const pu = this.config.pause_until;
    const paused = this.isPaused();
    this.#advisory(`$JS.EVENT.ADVISORY.CONSUMER.PAUSE.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.advisory.v1.consumer_pause",
      paused,
      "pause_until": paused ? pu : undefined,
    }, !paused && !this.#wasPaused);
    this.#wasPaused = paused;
    if (paused) {
      const ms = Number((parseRfc3339(pu!)! - nowNs()) / 1_000_000n);
      this.#uptmr = this.#timers.after(Math.max(1, ms), () => {
        this.#uptmr = undefined;
        this.#checkPause();
        this.#signal();
      });
    }
  }
  #wasPaused = false;

  /** Restarts delivery at stream sequence `seq` (RESET API; 0 = the configured start). */
  reset(seq: number): void {
    this.#pending.clear();
    this.#rdq = [];
    this.#rdqSet.clear();
    this.#rdc.clear();
    this.#held = undefined;
    this.#lss = undefined;
    if (seq > 0) {
      this.#sseq = seq;
      this.#asflr = seq - 1;
    } else {
      this.#selectStartingSeqNo();
    }
    this.#adflr = this.#dseq - 1;
    this.#recalcPending();
    this.#signal();
  }

  // ---- Push interest, heartbeats, inactivity --------------------------------------------------------------

  #watchInterest(ds: string): void {
    const sl = this.jsa.account.sl;
    const r = sl.match(ds);
    const c = this.config;
    this.#notify = (has) => this.#setActive(has);
    if (c.deliver_group) sl.registerQueueNotification(ds, c.deliver_group, this.#notify);
    else sl.registerNotification(ds, this.#notify);
    // Wildcard subscribers are not reported by notifications; count them at start.
    if (r.psubs.length + r.qsubs.length > 0) this.#setActive(true);
  }

  #setActive(has: boolean): void {
    if (this.#closed) return;
    if (!has) {
      const r = this.jsa.account.sl.match(this.config.deliver_subject!);
      has = r.psubs.length + r.qsubs.length > 0;
    }
    this.#active = has;
    if (has) {
      this.#timers.cancel(this.#dtmr);
      this.#dtmr = undefined;
      this.#signal();
    } else this.#armInactive();
  }

  /** True for push consumers with a bound deliver subject. */
  get pushBound(): boolean {
    return this.#active;
  }

  #dthresh(): number {
    const t = this.config.inactive_threshold ?? 0;
    if (t > 0) return t / 1e6;
    return isDurable(this.config) ? 0 : JS_DELETE_WAIT_DEFAULT / 1e6;
  }

  #armInactive(): void {
    this.#timers.cancel(this.#dtmr);
    this.#dtmr = undefined;
    const ms = this.#dthresh();
    if (ms <= 0 || this.#closed) return;
    if (this.config.deliver_subject && this.#active) return;
    this.#dtmr = this.#timers.after(ms, () => {
      this.#dtmr = undefined;
      this.#deleteNotActive();
    });
  }

  #deleteNotActive(): void {
    if (this.#closed) return;
    const ms = this.#dthresh();
    if (this.config.deliver_subject) {
      if (this.#active) return;
    } else {
      const w = this.waiting!;
      const idle = performance.now() - w.last;
      if (w.length > 0 || idle < ms) {
        this.#dtmr = this.#timers.after(Math.max(1, w.length > 0 ? ms : ms - idle), () => {
          this.#dtmr = undefined;
          this.#deleteNotActive();
        });
        return;
      }
    }
    this.onInactive?.(this);
  }

  /** Called when an inactive consumer should be deleted (set by the API layer). */
  onInactive: ((c: Consumer) => void) | undefined;

  #armHeartbeat(): void {
    const hb = (this.config.idle_heartbeat ?? 0) / 1e6;
    if (hb <= 0) return;
    this.#hbtmr = this.#timers.after(hb, () => {
      this.#hbtmr = undefined;
      if (this.#closed) return;
      if (this.#active && performance.now() - this.#lastDelivery >= hb - 1) {
        this.#sendIdleHeartbeat(this.config.deliver_subject!);
      }
      this.#armHeartbeat();
    });
  }

  #sendIdleHeartbeat(subject: string): void {
    const pairs: [string, string][] = [
      ["Nats-Last-Consumer", String(this.#dseq - 1)],
      ["Nats-Last-Stream", String(this.#sseq - 1)],
    ];
    if (this.#fcid !== "") pairs.push(["Nats-Consumer-Stalled", this.#fcid]);
    this.jsa.client.publishInternal(subject, undefined, statusHdr("100 Idle Heartbeat", pairs), EMPTY);
  }

  #processFlowControl(subject: string): void {
    if (subject !== this.#fcid) return;
    this.#pbytes -= this.#fcsz;
    if (this.#pbytes < 0) this.#pbytes = 0;
    this.#fcid = "";
    this.#fcsz = 0;
    this.#signal();
  }

  // ---- Pull requests ------------------------------------------------------------------------------------

  /** A `CONSUMER.MSG.NEXT` request (also `+NXT` acks). */
  processNextMsgRequest(reply: string, body: Uint8Array): void {
    if (this.#closed) return;
    const w = this.waiting;
    if (w === undefined) return this.#status(reply, "409 Consumer is push based");
    const now = performance.now();
    const wr = parseNextRequest(reply, body, now);
    if (typeof wr === "string") return this.#status(reply, `400 Bad Request - ${wr}`);
    const c = this.config;
    if (wr.n <= 0) wr.n = 1;
    if (c.max_batch && wr.n > c.max_batch) {
      return this.#status(reply, `409 Exceeded MaxRequestBatch of ${c.max_batch}`);
    }
    if (wr.expires && c.max_expires && wr.expires - now > c.max_expires / 1e6) {
      return this.#status(reply, `409 Exceeded MaxRequestExpires of ${goDurationMs(c.max_expires / 1e6)}`);
    }
    if (wr.hasMaxBytes && c.max_bytes && wr.b > c.max_bytes) {
      return this.#status(reply, `409 Exceeded MaxRequestMaxBytes of ${c.max_bytes}`);
    }
    const pp = c.priority_policy ?? "none";
    if (pp !== "none") {
      if (wr.group === "" || !(c.priority_groups ?? []).includes(wr.group)) {
        return this.#status(reply, "400 Bad Request - Invalid Priority Group");
      }
      if (pp === "pinned_client") {
        const pin = this.pins.get(wr.group);
        if (pin !== undefined && wr.pinId !== "" && wr.pinId !== pin.id) {
          return this.#status(reply, "423 Nats-Pin-Id mismatch");
        }
        if (pin !== undefined && wr.pinId === pin.id) pin.last = now;
      }
    }
    if (w.isFull()) this.#processWaiting(false);
    if (wr.noWait) {
      const avail = this.#npc + this.#rdq.length + (this.#held ? 1 : 0);
      if (avail === 0 && wr.expires === 0) {
        w.last = now;
        return this.#status(reply, "404 No Messages");
      }
    }
    if (!w.add(wr)) return this.#status(reply, "409 Exceeded MaxWaiting");
    if (wr.expires || wr.hbt) this.#armWaiting(Math.min(wr.expires || Infinity, wr.hbt || Infinity));
    this.#signal();
  }

  /** Expires requests, sends their heartbeats, drops ones without interest; re-arms the waiting timer. */
  #processWaiting(eos: boolean): void {
    const w = this.waiting;
    if (w === undefined || w.length === 0) return;
    const now = performance.now();
    const sl = this.jsa.account.sl;
    let next = Infinity;
    w.removeIf((wr) => {
      if ((eos && wr.noWait) || (wr.expires && now >= wr.expires)) {
        this.#status(wr.reply, wr.noWait && wr.d === 0 ? "404 No Messages" : "408 Request Timeout", [
          ["Nats-Pending-Messages", String(wr.n)],
          ["Nats-Pending-Bytes", String(wr.b)],
        ]);
        return true;
      }
      const r = sl.match(wr.reply);
      if (r.psubs.length + r.qsubs.length === 0) return true;
      if (wr.hbt) {
        if (now >= wr.hbt) {
          this.#sendIdleHeartbeat(wr.reply);
          wr.hbt = now + wr.hb;
        }
        next = Math.min(next, wr.hbt);
      }
      if (wr.expires) next = Math.min(next, wr.expires);
      return false;
    });
    if (next < Infinity) this.#armWaiting(next, true);
  }

  #armWaiting(at: number, force = false): void {
    if (this.#closed) return;
    if (!force && this.#wtmr !== undefined && this.#wtmrAt <= at) return;
    this.#timers.cancel(this.#wtmr);
    this.#wtmrAt = at;
    this.#wtmr = this.#timers.after(Math.max(1, at - performance.now()), () => {
      this.#wtmr = undefined;
      this.#wtmrAt = Infinity;
      this.#processWaiting(false);
    });
  }

  /** The request the next message of `size` bytes goes to, or undefined (requests may be dropped). */
  #nextWaiting(size: number): WaitingRequest | undefined {
    const w = this.waiting!;
    const c = this.config;
    const pp = c.priority_policy ?? "none";
    const now = performance.now();
    const sl = this.jsa.account.sl;
    let reqs = w.all();
    if (pp === "prioritized" && reqs.length > 1) reqs = [...reqs].sort((a, b) => a.priority - b.priority);
    for (const wr of reqs) {
      if (wr.expires && now >= wr.expires) continue;
      const r = sl.match(wr.reply);
      if (r.psubs.length + r.qsubs.length === 0) {
        w.remove(wr);
        continue;
      }
      if (pp === "overflow" && (wr.minPending > 0 || wr.minAckPending > 0)) {
        const okP = wr.minPending > 0 && this.#npc >= wr.minPending;
        const okA = wr.minAckPending > 0 && this.#pending.size >= wr.minAckPending;
        if (!okP && !okA) continue;
      }
      if (pp === "pinned_client") {
        const pin = this.pins.get(wr.group);
        if (pin !== undefined && wr.pinId !== pin.id) continue;
      }
      if (wr.hasMaxBytes) {
        if (size > wr.b) {
          this.#status(wr.reply, "409 Message Size Exceeds MaxBytes", [
            ["Nats-Pending-Messages", String(wr.n)],
            ["Nats-Pending-Bytes", String(wr.b)],
          ]);
          w.remove(wr);
          continue;
        }
      }
      return wr;
    }
    return undefined;
  }

  // ---- Delivery -----------------------------------------------------------------------------------------

  /** Marks that there may be work; one pass runs after the current task. */
  #signal(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#run();
    });
  }

  #canDeliver(): boolean {
    if (this.#closed || this.isPaused()) return false;
    const c = this.config;
    if (c.deliver_subject) {
      if (!this.#active) return false;
      if (c.flow_control && this.#pbytes > FC_MAX_PENDING) return false;
    } else if (this.waiting!.length === 0) return false;
    return true;
  }

  /** One delivery pass: sends until no work, a stall, or the pass budget; then yields and continues. */
  #run(): void {
    let msgs = 0;
    let bytes = 0;
    while (this.#canDeliver()) {
      if (msgs >= PASS_MSGS || bytes >= PASS_BYTES) {
        this.#immediate ??= setImmediate(() => {
          this.#immediate = undefined;
          this.#run();
        });
        return;
      }
      const now = performance.now();
      if (this.#rlNext > now + 1) return this.#resumeAt(this.#rlNext);
      const next = this.#held ?? this.#getNextMsg();
      this.#held = undefined;
      if (next === undefined) {
        if (this.waiting !== undefined && this.waiting.length > 0) this.#processWaiting(true);
        return;
      }
      const { m, dc } = next;
      if (this.#replayEnd > 0 && dc === 1 && m.seq <= this.#replayEnd && this.#replayLastTs > 0n) {
        const gap = Number((m.ts - this.#replayLastTs) / 1_000_000n) - (now - this.#replayLastAt);
        if (gap > 1) {
          this.#held = next;
          return this.#resumeAt(now + gap);
        }
      }
      const sz = this.#deliver(m, dc, now);
      if (sz < 0) {
        this.#held = next;
        return;
      }
      msgs++;
      bytes += sz;
    }
  }

  #resumeAt(at: number): void {
    if (this.#resumeTmr !== undefined) return;
    this.#resumeTmr = this.#timers.after(Math.max(1, at - performance.now()), () => {
      this.#resumeTmr = undefined;
      this.#signal();
    });
  }

  /** The next message to deliver and its delivery count, or undefined when none (or stalled). */
  #getNextMsg(): { m: StoredMsg; dc: number } | undefined {
    const store = this.stream.store;
    const maxdc = this.config.max_deliver ?? -1;
    while (this.#rdq.length > 0) {
      const seq = this.#rdq.shift()!;
      this.#rdqSet.delete(seq);
      const p = this.#pending.get(seq);
      if (p === undefined) continue;
      const dc = (this.#rdc.get(seq) ?? 1) + 1;
      this.#rdc.set(seq, dc);
      if (maxdc > 0 && dc > maxdc) {
        if (dc === maxdc + 1) this.#notifyDeliveryExceeded(seq, dc - 1);
        this.#pending.delete(seq);
        this.#storeCall(() => this.store.updateDelivered(p.dseq, seq, dc, nowNs()));
        if (this.#pending.size === 0) this.#adflr = this.#dseq - 1;
        continue;
      }
      const m = store.loadMsg(seq);
      if (m === undefined) {
        this.#pending.delete(seq);
        this.#rdc.delete(seq);
        continue;
      }
      return { m, dc };
    }
    const maxp = this.config.max_ack_pending ?? 0;
    if (maxp > 0 && this.config.ack_policy !== "none" && this.#pending.size >= maxp) return undefined;
    if (this.#lss !== undefined) {
      while (this.#lss.length > 0) {
        const seq = this.#lss.shift()!;
        const m = store.loadMsg(seq);
        if (m !== undefined) {
          if (this.#lss.length === 0) this.#endLss();
          return { m, dc: 1 };
        }
      }
      this.#endLss();
    }
    const m = this.#loadNext(this.#sseq);
    if (m === undefined) {
      const last = store.fastState().lastSeq;
      if (this.#sseq <= last) this.#sseq = last + 1;
      return undefined;
    }
    this.#sseq = m.seq + 1;
    return { m, dc: 1 };
  }

  #endLss(): void {
    this.#lss = undefined;
    this.#sseq = Math.max(this.#sseq, this.#lssResume);
    this.#recalcPending();
  }

  #loadNext(start: number): StoredMsg | undefined {
    const f = this.#filters;
    const store = this.stream.store;
    if (f.length === 0) return store.loadNextMsg(">", start);
    if (f.length === 1) return store.loadNextMsg(f[0], start);
    let best: StoredMsg | undefined;
    for (const filter of f) {
      const m = store.loadNextMsg(filter, start);
      if (m !== undefined && (best === undefined || m.seq < best.seq)) best = m;
    }
    return best;
  }

  /** Sends one message; returns its size, or -1 when no pull request could take it. */
  #deliver(m: StoredMsg, dc: number, now: number): number {
    const c = this.config;
    const dseq = this.#dseq;
    const seq = m.seq;
    if (dc === 1 && this.#npc > 0 && seq <= this.#npf) this.#npc--;
    const ackReply = `$JS.ACK.${this.stream.name}.${this.name}.${dc}.${seq}.${dseq}.${m.ts}.${this.#npc}`;
    let hdr = m.hdr;
    let payload = m.msg;
    if (c.headers_only) {
      hdr = appendHdr(hdr, `Nats-Msg-Size: ${payload.length}\r\n`);
      payload = EMPTY;
    }
    const sz = m.subject.length + ackReply.length + (hdr?.length ?? 0) + payload.length;
    let target: string;
    let pinId = "";
    if (c.deliver_subject) target = c.deliver_subject;
    else {
      const wr = this.#nextWaiting(sz);
      if (wr === undefined) {
        if (dc === 1 && seq <= this.#npf) this.#npc++;
        return -1;
      }
      target = wr.reply;
      if ((c.priority_policy ?? "none") === "pinned_client") {
        let pin = this.pins.get(wr.group);
        if (pin === undefined) {
          pin = { id: nuid.next(), since: nowNs(), last: now };
          this.pins.set(wr.group, pin);
          this.#pinAdvisory(wr.group, pin.id, true);
          this.#armPinTtl(wr.group);
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
    }
    if (pinId !== "") hdr = appendHdr(hdr, `Nats-Pin-Id: ${pinId}\r\n`);
    this.#dseq++;
    this.jsa.client.deliverAs(target, m.subject, ackReply, hdr, payload);
    this.#lastDelivery = now;
    this.#lastDeliveryTs = nowNs();
    if (this.#replayEnd > 0) {
      this.#replayLastTs = m.ts;
      this.#replayLastAt = now;
      if (seq >= this.#replayEnd) this.#replayEnd = 0;
    }
    const bps = c.rate_limit_bps ?? 0;
    if (bps > 0) this.#rlNext = Math.max(this.#rlNext, now) + (sz * 8 * 1000) / bps;
    const ap = c.ack_policy;
    if (ap !== "none") {
      const p = this.#pending.get(seq);
      if (p !== undefined) p.at = now;
      else {
        this.#pending.set(seq, { dseq, at: now });
        if (this.#ptmr === undefined) this.#armPending(this.#ackWaitMs(dc));
      }
    } else {
      this.#adflr = dseq;
      this.#asflr = seq;
    }
    if (c.flow_control && c.deliver_subject) {
      this.#pbytes += sz;
      if (this.#fcid === "" && this.#pbytes > FC_MAX_PENDING / 2) this.#sendFlowControl();
      else if (this.#fcid !== "" && this.#pbytes - this.#fcsz >= FC_MAX_PENDING) this.#fcsz += sz;
    }
    this.#storeCall(() => this.store.updateDelivered(dseq, seq, dc, this.#lastDeliveryTs));
    if (ap === "none" && this.stream.config.retention !== "limits") this.stream.ackMsg(seq);
    return sz;
  }

  #sendFlowControl(): void {
    const rnd = Math.floor(Math.random() * 1e9).toString(36).slice(0, 4);
    this.#fcid = `$JS.FC.${this.stream.name}.${this.name}.${rnd}`;
    this.#fcsz = this.#pbytes;
    this.jsa.client.publishInternal(
      this.config.deliver_subject!,
      this.#fcid,
      statusHdr("100 FlowControl Request", []),
      EMPTY,
    );
  }

  #storeCall(fn: () => void): void {
    try {
      fn();
    } catch {
      // Store refusals (ack none redelivery, not pending) match the reference's ignored errors.
    }
  }

  // ---- Acks and redelivery ------------------------------------------------------------------------------

  #processAck(subject: string, reply: string | undefined, payload: Uint8Array): void {
    if (this.#closed) return;
    const a = parseAckSubject(subject);
    if (a === undefined) return;
    const { sseq, dseq, dc } = a;
    const text = payload.length === 0 ? "" : new TextDecoder().decode(payload);
    let skipReply = false;
    if (text === "" || text === ACK_ACK || text === ACK_OK) this.#processAckMsg(sseq, dseq, dc, true);
    else if (text.startsWith(ACK_NEXT)) {
      this.#processAckMsg(sseq, dseq, dc, true);
      if (reply) this.processNextMsgRequest(reply, encoder.encode(text.slice(ACK_NEXT.length)));
      skipReply = true;
    } else if (text.startsWith(ACK_NAK)) this.#processNak(sseq, dseq, dc, text.slice(ACK_NAK.length).trim());
    else if (text === ACK_PROGRESS) this.#progressUpdate(sseq);
    else if (text.startsWith(ACK_TERM)) this.#processTerm(sseq, dseq, dc, text.slice(ACK_TERM.length).trim());
    if (reply && !skipReply) this.jsa.client.publishInternal(reply, undefined, undefined, EMPTY);
  }

  #processAckMsg(sseq: number, dseq: number, dc: number, sample: boolean): void {
    const c = this.config;
    const maxp = c.max_ack_pending ?? 0;
    let needSignal = false;
    const acked: number[] = [];
    switch (c.ack_policy) {
      case "explicit": {
        const p = this.#pending.get(sseq);
        if (p !== undefined) {
          if (sample) this.#sampleAck(sseq, dseq, dc);
          if (maxp > 0 && this.#pending.size >= maxp) needSignal = true;
          this.#pending.delete(sseq);
          dseq = p.dseq;
          acked.push(sseq);
        }
        if (this.#pending.size === 0) {
          this.#adflr = this.#dseq - 1;
          this.#asflr = this.#sseq - 1;
        } else if (dseq === this.#adflr + 1) {
          this.#adflr = dseq;
          this.#asflr = sseq;
          // The lowest pending is first in the Map: keys arrive in increasing order.
          const low = this.#pending.keys().next().value as number;
          const lp = this.#pending.get(low)!;
          if (low > sseq && lp.dseq > 0) {
            this.#adflr = lp.dseq - 1;
            this.#asflr = low - 1;
          }
        }
        this.#rdc.delete(sseq);
        this.#removeFromRdq(sseq);
        if (p === undefined) return;
        break;
      }
      case "all": {
        if (dseq <= this.#adflr || sseq <= this.#asflr) return;
        if (maxp > 0 && this.#pending.size >= maxp) needSignal = true;
        if (sample) this.#sampleAck(sseq, dseq, dc);
        this.#adflr = dseq;
        this.#asflr = sseq;
        for (const [seq] of this.#pending) {
          if (seq > sseq) break;
          this.#pending.delete(seq);
          this.#rdc.delete(seq);
          this.#removeFromRdq(seq);
          acked.push(seq);
        }
        break;
      }
      default:
        return;
    }
    this.#lastAckTs = nowNs();
    this.#storeCall(() => this.store.updateAcks(dseq, sseq));
    if (this.stream.config.retention !== "limits") { for (const s of acked) this.stream.ackMsg(s); }
    if (needSignal) this.#signal();
  }

  #removeFromRdq(seq: number): void {
    if (!this.#rdqSet.delete(seq)) return;
    const i = this.#rdq.indexOf(seq);
    if (i >= 0) this.#rdq.splice(i, 1);
  }

  #progressUpdate(sseq: number): void {
    const p = this.#pending.get(sseq);
    if (p === undefined) return;
    p.at = performance.now();
    this.#storeCall(() => this.store.updateDelivered(p.dseq, sseq, 1, nowNs()));
  }

  #processNak(sseq: number, dseq: number, dc: number, arg: string): void {
    if (dseq <= this.#adflr || dseq > this.#dseq) return;
    const p = this.#pending.get(sseq);
    if (this.#pending.size > 0 && p === undefined) return;
    this.#advisory(`$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.${this.stream.name}.${this.name}`, {
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
        this.#removeFromRdq(sseq);
        if (p !== undefined) {
          // Due when the delay has passed: back-date the delivery so ack wait ends then.
          p.at = performance.now() - this.#ackWaitMs(dc) + delayMs;
          this.#armPending(Math.max(1, delayMs), true);
        }
        return;
      }
    }
    if (!this.#rdqSet.has(sseq)) {
      this.#rdq.push(sseq);
      this.#rdqSet.add(sseq);
    }
    this.#signal();
  }

  #processTerm(sseq: number, dseq: number, dc: number, reason: string): void {
    this.#processAckMsg(sseq, dseq, dc, false);
    this.#advisory(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.advisory.v1.terminated",
      "consumer_seq": dseq,
      "stream_seq": sseq,
      deliveries: dc,
      reason: reason || undefined,
    });
  }

  #sampleAck(sseq: number, dseq: number, dc: number): void {
    const f = this.config.sample_freq;
    if (!f) return;
    const pct = Number(f.replace(/%$/, ""));
    if (!(pct > 0) || Math.random() * 100 >= pct) return;
    const p = this.#pending.get(sseq);
    const ackTime = p ? Math.round((performance.now() - p.at) * 1e6) : 0;
    this.#advisory(`$JS.EVENT.METRIC.CONSUMER.ACK.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.metric.v1.consumer_ack",
      "consumer_seq": dseq,
      "stream_seq": sseq,
      "ack_time": ackTime,
      deliveries: dc,
    });
  }

  #notifyDeliveryExceeded(sseq: number, dc: number): void {
    this.#advisory(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.advisory.v1.max_deliver",
      "stream_seq": sseq,
      deliveries: dc,
    });
  }

  /** Ack wait in ms for a delivery count (backoff when configured). */
  #ackWaitMs(dc: number): number {
    const bo = this.config.backoff;
    if (bo && bo.length > 0) return bo[Math.min(Math.max(dc - 1, 0), bo.length - 1)] / 1e6;
    return (this.config.ack_wait ?? 30e9) / 1e6;
  }

  #armPending(ms: number, force = false): void {
    if (this.#closed) return;
    const at = performance.now() + ms + 1;
    if (this.#ptmr !== undefined && !force && this.#ptmrAt <= at) return;
    if (this.#ptmr !== undefined && force && this.#ptmrAt <= at) return;
    this.#timers.cancel(this.#ptmr);
    this.#ptmrAt = at;
    this.#ptmr = this.#timers.after(ms + 1, () => {
      this.#ptmr = undefined;
      this.#ptmrAt = Infinity;
      this.#checkPending();
    });
  }

  /**
   * Moves every pending message past its ack wait onto the redelivery queue and re-arms for the earliest
   * remaining deadline. One scan of the pending map per firing (as the reference's checkPending); the timer
   * fires at most once per ack wait for steady traffic.
   */
  #checkPending(): void {
    if (this.#closed || this.#pending.size === 0) return;
    const now = performance.now();
    let next = Infinity;
    const expired: number[] = [];
    for (const [seq, p] of this.#pending) {
      const due = p.at + this.#ackWaitMs(this.#rdc.get(seq) ?? 1);
      if (due <= now) {
        if (!this.#rdqSet.has(seq)) expired.push(seq);
      } else if (due < next) next = due;
    }
    if (expired.length > 0) {
      expired.sort((a, b) => a - b);
      for (const seq of expired) {
        this.#rdq.push(seq);
        this.#rdqSet.add(seq);
      }
      this.#signal();
    }
    if (next < Infinity) this.#armPending(Math.max(1, next - now), true);
    else if (this.#pending.size > 0) this.#armPending(this.#ackWaitMs(1), true);
  }

  // ---- Pinned client priority groups ----------------------------------------------------------------------

  #armPinTtl(group: string): void {
    const ttl = (this.config.priority_timeout ?? 0) / 1e6;
    if (ttl <= 0) return;
    this.#timers.after(ttl, () => {
      const pin = this.pins.get(group);
      if (pin === undefined || this.#closed) return;
      const idle = performance.now() - pin.last;
      if (idle >= ttl - 1) this.unpin(group, "timeout");
      else this.#armPinTtlIn(group, ttl - idle);
    });
  }

  #armPinTtlIn(group: string, ms: number): void {
    this.#timers.after(Math.max(1, ms), () => {
      const pin = this.pins.get(group);
      if (pin === undefined || this.#closed) return;
      const ttl = (this.config.priority_timeout ?? 0) / 1e6;
      const idle = performance.now() - pin.last;
      if (idle >= ttl - 1) this.unpin(group, "timeout");
      else this.#armPinTtlIn(group, ttl - idle);
    });
  }

  /** Drops the pin of a group (UNPIN API or TTL); the next request gets a new pin. */
  unpin(group: string, reason: string): void {
    if (!this.pins.delete(group)) return;
    this.#pinAdvisory(group, "", false, reason);
    this.#signal();
  }

  #pinAdvisory(group: string, id: string, pinned: boolean, reason = ""): void {
    const kind = pinned ? "PINNED" : "UNPINNED";
    this.#advisory(`$JS.EVENT.ADVISORY.CONSUMER.${kind}.${this.stream.name}.${this.name}`, {
      type: pinned
        ? "io.nats.jetstream.advisory.v1.consumer_group_pinned"
        : "io.nats.jetstream.advisory.v1.consumer_group_unpinned",
      group,
      "pinned_id": pinned ? id : undefined,
      reason: pinned ? undefined : reason,
    });
  }

  // ---- Helpers ------------------------------------------------------------------------------------------

  #status(reply: string, status: string, pairs: [string, string][] = []): void {
    this.jsa.client.publishInternal(reply, undefined, statusHdr(status, pairs), EMPTY);
  }

  #advisory(subject: string, body: Record<string, unknown>, skip = false): void {
    if (skip) return;
    const js = this.jsa.js;
    const { type, ...rest } = body;
    js.api.advisory(this.jsa, subject, {
      type,
      id: nuid.next(),
      timestamp: rfc3339Nano(nowNs()),
      stream: this.stream.name,
      consumer: this.name,
      ...rest,
      domain: js.domain || undefined,
    });
  }

  /** True when a header block carries `name` (tests and the API). */
  static hasHeader(hdr: Uint8Array | undefined, name: string): boolean {
    return getHeader(name, hdr) !== undefined;
  }
}

/** The store's view of a consumer config (maxDeliver arrived with MemStore). */
function storeCfg(c: ConsumerConfig): ConsumerStoreConfig {
  const sc = { ackPolicy: c.ack_policy, durable: isDurable(c), maxDeliver: c.max_deliver };
  return sc;
}

/** Appends a header line (with its CRLF) to a block, or starts one. */
function appendHdr(hdr: Uint8Array | undefined, line: string): Uint8Array {
  const add = encoder.encode(line + "\r\n");
  if (hdr === undefined || hdr.length < 4) {
    const head = encoder.encode("NATS/1.0\r\n");
    const out = new Uint8Array(head.length + add.length);
    out.set(head);
    out.set(add, head.length);
    return out;
  }
  const base = hdr.subarray(0, hdr.length - 2);
  const out = new Uint8Array(base.length + add.length);
  out.set(base);
  out.set(add, base.length);
  return out;
}

/** Go's time.ParseDuration in ms; NaN when invalid. */
function parseGoDurationMs(s: string): number {
  const UNITS: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    "µs": 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/;
  let rest = s;
  let total = 0;
  if (rest === "0") return 0;
  if (rest === "") return NaN;
  while (rest.length > 0) {
    const m = re.exec(rest);
    if (!m) return NaN;
    total += parseFloat(m[1]) * UNITS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** Go's Duration.String() for ms. */
function goDurationMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const secs = `${Number(s.toFixed(9))}s`;
  if (h > 0) return `${h}h${m}m${secs}`;
  if (m > 0) return `${m}m${secs}`;
  return secs;
}
