// A JetStream stream on one server. The class is built in layers, one file per concern (see _stream_base.ts);
// this file is the concrete class: lifecycle (start, update, stop, delete), the consumer registry and
// retention acks, and admin operations (purge, message delete, state and info, message get). Behaviour
// follows nats-server server/stream.go.

import type { Subscription } from "../server/mod.ts";
import type { StoredMsg, StreamState } from "../store/mod.ts";
import { rfc3339Nano } from "./_headers.ts";
import { type StreamConfig, streamConfigJson } from "./_stream_config.ts";
import { dynamicMetadata } from "./_versioning.ts";
import { StreamFeeds } from "./_stream_feeds.ts";
import { type PurgeRequest, storeConfig, type StreamConsumer } from "./_stream_base.ts";

export {
  isValidFilter,
  type PurgeRequest,
  storeConfig,
  type StreamConsumer,
  type StreamHost,
} from "./_stream_base.ts";

const ZERO_STATE_TIME = "0001-01-01T00:00:00Z";

/** One stream. Everything here is synchronous except the wait for durability before a PubAck. */
export class Stream extends StreamFeeds {
  #subs: Subscription[] = [];
  /** Unsubscribes the mirror_direct responder for the origin's name, while there is one. */
  #mirrorDirectUnsub: (() => void) | undefined;

  /** Subscribes to the stream's subjects and starts mirror/source links and schedules. */
  start(): void {
    for (const s of this.config.subjects ?? []) this.#subscribe(s);
    this._startLinks(true);
    this._recoverSchedules();
  }

  #subscribe(subject: string): void {
    const sub = this.host.client.subscribeInternal(subject, (_s, _c, subj, reply, hdr, payload) => {
      this.processInbound(subj, reply, hdr, payload);
    });
    this.#subs.push(sub);
  }

  /** Applies an already-checked config update: subjects, transforms, limits. */
  update(cfg: StreamConfig): void {
    const wasMirrorDirect = this.config.mirror_direct;
    const wasInterest = this.config.retention === "interest";
    const old = new Set(this.config.subjects ?? []);
    const next = new Set(cfg.subjects ?? []);
    for (const sub of [...this.#subs]) {
      if (!next.has(sub.subject)) {
        this.host.client.unsubscribeInternal(sub);
        this.#subs.splice(this.#subs.indexOf(sub), 1);
      }
    }
    for (const s of next) if (!old.has(s)) this.#subscribe(s);
    this.config = cfg;
    this._applyConfig();
    this.store.updateConfig(storeConfig(cfg));
    if (cfg.duplicate_window !== undefined) this._purgeDedupe();
    if (!cfg.allow_atomic) this._batcher?.clear();
    // mirror_direct turned on by an update answers at once; turned off, it stops (as the reference's update).
    if (!cfg.mirror_direct) this._mirrorDirectStop();
    else if (!wasMirrorDirect) this._mirrorDirectCheck(0);
    this._startLinks();
    if (!cfg.allow_msg_schedules) this._scheduler?.stop();
    else this._recoverSchedules();
    // Now interest based: messages every consumer is done with go.
    if (cfg.retention === "interest" && !wasInterest) this.#releaseUnneeded();
  }

  /** Unsubscribes, stops consumers and the store (data kept). */
  stop(): void {
    if (this._closed) return;
    this._closed = true;
    for (const s of this.#subs) this.host.client.unsubscribeInternal(s);
    this.#subs = [];
    this._dedupeTimer?.();
    this._stopExtras();
    for (const c of this.consumers.values()) c.stop();
    this.store.stop();
  }

  /** Stops and deletes all data, consumers included. */
  delete(): void {
    if (this._closed) return;
    this._closed = true;
    for (const s of this.#subs) this.host.client.unsubscribeInternal(s);
    this.#subs = [];
    this._dedupeTimer?.();
    this._stopExtras();
    for (const c of this.consumers.values()) c.delete();
    this.consumers.clear();
    this.store.delete();
    if (this._usageBytes !== 0) this.host.updateUsage(this.config.storage, -this._usageBytes);
    this._usageBytes = 0;
  }

  /**
   * mirror_direct: once the mirror is nearly caught up (fewer than 10 pending, so a busy origin still
   * counts), the stream also answers direct gets for the origin's name, as nats-server does.
   */
  protected override _mirrorDirectCheck(pending: number): void {
    if (this.#mirrorDirectUnsub !== undefined || pending >= 10 || this._closed) return;
    const m = this.config.mirror;
    if (!this.config.mirror_direct || m === undefined) return;
    this.#mirrorDirectUnsub = this.host.mirrorDirect?.(this, m.name);
  }

  protected override _mirrorDirectStop(): void {
    this.#mirrorDirectUnsub?.();
    this.#mirrorDirectUnsub = undefined;
  }

  // ---- Consumers ------------------------------------------------------------------------------------

  /** Registers a consumer (consumer.ts calls this after its own checks). */
  addConsumer(c: StreamConsumer): void {
    this.consumers.set(c.name, c);
  }

  /** Unregisters a consumer; for interest retention, messages it alone held are released. */
  removeConsumer(name: string): void {
    if (!this.consumers.delete(name)) return;
    if (this.config.retention === "interest") this.#releaseUnneeded();
  }

  /** Consumers other than the internal (direct) ones of mirrors and sources. */
  numConsumers(): number {
    let n = this.consumers.size;
    for (const c of this.consumers.values()) if (c.config?.direct) n--;
    return n;
  }

  /**
   * A consumer no longer needs `seq`: under workqueue retention it is removed; under interest retention it
   * is removed once no consumer needs it. No effect under limits retention.
   */
  ackMsg(seq: number): void {
    const r = this.config.retention;
    if (r === "limits") return;
    this._ownOps++;
    try {
      this.#ackMsg(seq, r);
    } finally {
      this._ownOps--;
    }
  }

  #ackMsg(seq: number, r: string): void {
    if (r === "workqueue") {
      this.store.removeMsg(seq);
      return;
    }
    const m = this.store.loadMsg(seq);
    if (m === undefined) return;
    for (const c of this.consumers.values()) if (c.needsAck(seq, m.subject)) return;
    this.store.removeMsg(seq);
  }

  /** Interest retention: removes the messages no consumer needs any more (after a consumer's filter changed). */
  releaseUnneeded(): void {
    if (this.config.retention === "interest") this.#releaseUnneeded();
  }

  #releaseUnneeded(): void {
    const st = this.store.fastState();
    let n = 0;
    for (let seq = st.firstSeq; seq <= st.lastSeq && n < 100_000; seq++, n++) {
      const m = this.store.loadMsg(seq);
      if (m === undefined) continue;
      let need = false;
      for (const c of this.consumers.values()) {
        if (c.needsAck(seq, m.subject)) {
          need = true;
          break;
        }
      }
      if (!need) this.store.removeMsg(seq);
    }
  }

  // ---- Admin operations ---------------------------------------------------------------------------------

  /**
   * Purges per the request (the STREAM.PURGE API); returns the number purged. Consumers learn the new first
   * sequence; with subject_delete_marker_ttl, each subject left empty gets a "Purge" marker.
   */
  purge(req: PurgeRequest = {}): number {
    const markers = (this.config.subject_delete_marker_ttl ?? 0) > 0;
    const before = markers ? [...this.store.subjectsTotals(req.filter || ">").keys()] : [];
    const n = this._purgeQuiet(req);
    for (const subj of before) {
      if (this.store.loadLastMsg(subj) === undefined) this._placeMarker(subj, "Purge");
    }
    return n;
  }

  /**
   * Removes one message (erasing its bytes unless noErase); false when absent. With
   * subject_delete_marker_ttl, a subject left empty gets a "Remove" marker.
   */
  removeMsg(seq: number, noErase: boolean): boolean {
    const markers = (this.config.subject_delete_marker_ttl ?? 0) > 0;
    const subj = markers ? this.store.loadMsg(seq)?.subject : undefined;
    this._ownOps++;
    let ok: boolean;
    try {
      ok = noErase ? this.store.removeMsg(seq) : this.store.eraseMsg(seq);
    } finally {
      this._ownOps--;
    }
    if (ok && subj !== undefined && this.store.loadLastMsg(subj) === undefined) {
      this._placeMarker(subj, "Remove");
    }
    return ok;
  }

  /** StreamState in its JSON shape. */
  stateJson(opts: { subjectsFilter?: string; deleted?: boolean } = {}): Record<string, unknown> {
    const st: StreamState = opts.deleted ? this.store.state() : this.store.fastState();
    const o: Record<string, unknown> = {
      messages: st.msgs,
      bytes: st.bytes,
      "first_seq": st.firstSeq,
      "first_ts": st.firstTime === 0n ? ZERO_STATE_TIME : rfc3339Nano(st.firstTime),
      "last_seq": st.lastSeq,
      "last_ts": st.lastTime === 0n ? ZERO_STATE_TIME : rfc3339Nano(st.lastTime),
    };
    if (st.numSubjects > 0) o["num_subjects"] = st.numSubjects;
    if (opts.subjectsFilter) {
      const subs: Record<string, number> = {};
      for (const [k, v] of this.store.subjectsTotals(opts.subjectsFilter)) subs[k] = v;
      if (Object.keys(subs).length > 0) o.subjects = subs;
    }
    if (st.numDeleted > 0) o["num_deleted"] = st.numDeleted;
    if (opts.deleted && st.deleted && st.deleted.length > 0) o.deleted = st.deleted;
    o["consumer_count"] = this.numConsumers();
    return o;
  }

  /**
   * The StreamInfo body (config, created, state, …) shared by create/update/info/list; `versioned` (API
   * responses) shows the config's metadata with the dynamic versioning keys.
   */
  infoJson(
    opts: { subjectsFilter?: string; deleted?: boolean; versioned?: boolean } = {},
  ): Record<string, unknown> {
    const md = opts.versioned ? dynamicMetadata(this.config.metadata) : this.config.metadata;
    const o: Record<string, unknown> = {
      config: streamConfigJson(this.config, md),
      created: rfc3339Nano(this.created),
      state: this.stateJson(opts),
    };
    if (this.host.domain !== "") o.domain = this.host.domain;
    const mi = this.mirrorInfo();
    if (mi !== undefined) o.mirror = mi;
    if (this._sources.size > 0) o.sources = this.sourcesInfo();
    return o;
  }

  /** Loads one message per a MSG.GET / DIRECT.GET single request; undefined when there is none. */
  loadForGet(req: { seq?: number; "last_by_subj"?: string; "next_by_subj"?: string }): StoredMsg | undefined {
    if (req.next_by_subj) return this.store.loadNextMsg(req.next_by_subj, req.seq ?? 0);
    if (req.last_by_subj) return this.store.loadLastMsg(req.last_by_subj);
    return this.store.loadMsg(req.seq ?? 0);
  }
}
