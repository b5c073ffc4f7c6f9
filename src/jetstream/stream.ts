// A JetStream stream on one server: ingest (the publish path and its header checks), retention, purge,
// message get/delete, direct get and the consumer registry. Behaviour follows nats-server server/stream.go.

import type { Client, Subscription } from "../server/mod.ts";
import type { StoreConfig, StoredMsg, StreamState, StreamStore } from "../store/mod.ts";
import { StoreError } from "../store/mod.ts";
import { isValidSubject } from "../sublist/mod.ts";
import { encoder, type Logger } from "../util/mod.ts";
import { ApiError, newJSError } from "./api_errors.ts";
import {
  appendHeaders,
  getHeader,
  JS_EXPECTED_LAST_MSG_ID,
  JS_EXPECTED_LAST_SEQ,
  JS_EXPECTED_LAST_SUBJ_SEQ,
  JS_EXPECTED_LAST_SUBJ_SEQ_SUBJ,
  JS_EXPECTED_STREAM,
  JS_LAST_SEQUENCE,
  JS_MSG_ID,
  JS_MSG_INCR,
  JS_MSG_ROLLUP,
  JS_MSG_SIZE,
  JS_MSG_TTL,
  JS_SEQUENCE,
  JS_STREAM,
  JS_SUBJECT,
  nowNs,
  rfc3339Nano,
  ROLLUP_ALL,
  ROLLUP_SUBJECT,
} from "./_headers.ts";
import { type StreamConfig, streamConfigJson } from "./_stream_config.ts";
import { SubjectTransform } from "./_transform.ts";
import { parseTtl } from "./_ttl.ts";

/**
 * A consumer as the stream sees it. The consumer engineer implements this in consumer.ts and registers it
 * with `Stream.addConsumer()`; the stream never imports consumer code.
 *
 * Contract:
 * - `onStored(seq, subject)` is called synchronously after each message is stored, in sequence order
 *   (never for duplicates, refusals, or interest-policy drops). It must not throw and must not await: it
 *   marks the consumer as having work, and the consumer delivers from its own loop (Go's signalConsumers).
 * - `isInterested(subject)` answers whether the consumer's filter(s) match a subject; the stream uses it for
 *   interest/workqueue retention (a message no consumer is interested in is not stored under interest
 *   retention; it is still acknowledged with its sequence).
 * - `needsAck(seq, subject)` is true while the consumer still has to deliver or see an ack for `seq`
 *   (interest retention keeps a message while any consumer needs it).
 * - `onPurged(firstSeq)` tells the consumer that everything below `firstSeq` is gone (purge/compact), so
 *   it can move its floors (Go's purge → consumer.purge).
 * - `stop()` ends timers and subscriptions without deleting state (stream stop, server shutdown);
 *   `delete()` removes state too (stream delete).
 * - `info()` returns the ConsumerInfo JSON object, used by stream-level listings if needed.
 *
 * Acks: for workqueue and interest streams the consumer calls `Stream.ackMsg(seq)` once an ack (or
 * AckNone delivery) makes `seq` no longer needed by it; the stream removes the message once no registered
 * consumer `needsAck` it (workqueue: at once). Consumer counts and limits: `Stream.numConsumers()`,
 * `Stream.config.max_consumers`; `Stream.consumers` is the registry by name.
 */
export interface StreamConsumer {
  readonly name: string;
  onStored(seq: number, subject: string): void;
  isInterested(subject: string): boolean;
  needsAck(seq: number, subject: string): boolean;
  onPurged(firstSeq: number): void;
  stop(): void;
  delete(): void;
  info(): Record<string, unknown>;
}

/** What a stream needs of its account and server. */
export interface StreamHost {
  /** The account's JetStream internal client (publishes replies, advisories, republished messages). */
  readonly client: Client;
  readonly log: Logger;
  /** The JetStream domain, "" for none. */
  readonly domain: string;
  /** The account's name, for log lines. */
  readonly accountName: string;
  /** Server max_payload. */
  maxPayload(): number;
  /** Milliseconds timer on the server's timer heap; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
  /** Account storage accounting. */
  updateUsage(storage: "memory" | "file", deltaBytes: number): void;
  /** True when the account or server storage limits are reached for this storage type. */
  limitsExceeded(storage: "memory" | "file"): ApiError | undefined;
}

/** The body of a STREAM.PURGE request. */
export interface PurgeRequest {
  filter?: string;
  seq?: number;
  keep?: number;
}

interface DedupeEntry {
  seq: number;
  ts: number;
}

const MAX_HDR = 65_535;
const ZERO_STATE_TIME = "0001-01-01T00:00:00Z";

/** One stream. Everything here is synchronous except the wait for durability before a PubAck. */
export class Stream {
  readonly host: StreamHost;
  config: StreamConfig;
  readonly store: StreamStore;
  /** Creation time, ns since the epoch. */
  readonly created: bigint;
  /** The consumers registered by consumer.ts, by name. */
  readonly consumers = new Map<string, StreamConsumer>();
  #subs: Subscription[] = [];
  #closed = false;
  #pubAckPrefix = "";
  #dedupe = new Map<string, DedupeEntry>();
  #lastMsgId = "";
  #dedupeTimer: (() => void) | undefined;
  #ingestTransform: SubjectTransform | undefined;
  #republish: SubjectTransform | undefined;
  #lseq = 0;

  constructor(host: StreamHost, config: StreamConfig, store: StreamStore, created = nowNs()) {
    this.host = host;
    this.config = config;
    this.store = store;
    this.created = created;
    this.#applyConfig();
    this.#lseq = store.fastState().lastSeq;
    store.registerStorageUpdates((_dm, db) => host.updateUsage(config.storage, db));
  }

  get name(): string {
    return this.config.name;
  }

  #applyConfig(): void {
    const c = this.config;
    const d = this.host.domain;
    this.#pubAckPrefix = d === ""
      ? `{"stream":${JSON.stringify(c.name)}, "seq":`
      : `{"stream":${JSON.stringify(c.name)}, "domain":${JSON.stringify(d)}, "seq":`;
    this.#ingestTransform = c.subject_transform
      ? SubjectTransform.create(c.subject_transform.src, c.subject_transform.dest)
      : undefined;
    this.#republish = c.republish
      ? SubjectTransform.create(c.republish.src ?? ">", c.republish.dest)
      : undefined;
  }

  /** Subscribes to the stream's subjects. */
  start(): void {
    for (const s of this.config.subjects ?? []) this.#subscribe(s);
  }

  #subscribe(subject: string): void {
    const sub = this.host.client.subscribeInternal(subject, (_s, _c, subj, reply, hdr, payload) => {
      this.processInbound(subj, reply, hdr, payload);
    });
    this.#subs.push(sub);
  }

  /** Applies an already-checked config update: subjects, transforms, limits. */
  update(cfg: StreamConfig): void {
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
    this.#applyConfig();
    this.store.updateConfig(storeConfig(cfg));
    if (cfg.duplicate_window !== undefined) this.#purgeDedupe();
  }

  /** Unsubscribes, stops consumers and the store (data kept). */
  stop(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#subs) this.host.client.unsubscribeInternal(s);
    this.#subs = [];
    this.#dedupeTimer?.();
    for (const c of this.consumers.values()) c.stop();
    this.store.stop();
  }

  /** Stops and deletes all data, consumers included. */
  delete(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#subs) this.host.client.unsubscribeInternal(s);
    this.#subs = [];
    this.#dedupeTimer?.();
    for (const c of this.consumers.values()) c.delete();
    this.consumers.clear();
    this.store.delete();
  }

  get closed(): boolean {
    return this.#closed;
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

  numConsumers(): number {
    return this.consumers.size;
  }

  /**
   * A consumer no longer needs `seq`: under workqueue retention it is removed; under interest retention it
   * is removed once no consumer needs it. No effect under limits retention.
   */
  ackMsg(seq: number): void {
    const r = this.config.retention;
    if (r === "limits") return;
    if (r === "workqueue") {
      this.store.removeMsg(seq);
      return;
    }
    const m = this.store.loadMsg(seq);
    if (m === undefined) return;
    for (const c of this.consumers.values()) if (c.needsAck(seq, m.subject)) return;
    this.store.removeMsg(seq);
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

  // ---- Ingest -----------------------------------------------------------------------------------------

  /** Sends a reply from the JetStream internal client. */
  #reply(reply: string | undefined, body: string | Uint8Array): void {
    if (reply === undefined || reply === "") return;
    this.host.client.publishInternal(
      reply,
      undefined,
      undefined,
      typeof body === "string" ? encoder.encode(body) : body,
    );
  }

  #replyErr(reply: string | undefined, err: ApiError): void {
    if (reply === undefined || reply === "") return;
    this.#reply(reply, JSON.stringify({ error: err, stream: this.config.name, seq: 0 }));
  }

  /**
   * The publish path: checks, stores, then replies with a PubAck once the store says the message is durable.
   * `hdr` and `payload` are views valid only during the call; the store gets copies.
   */
  processInbound(
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): void {
    if (this.#closed) return;
    const cfg = this.config;
    const canRespond = !cfg.no_ack && reply !== undefined && reply !== "";
    const r = canRespond ? reply : undefined;
    if (cfg.sealed) return this.#replyErr(r, newJSError("JSStreamSealedErr"));
    const hlen = hdr?.length ?? 0;
    const maxPayload = this.host.maxPayload();
    if (maxPayload > 0 && hlen + payload.length > maxPayload) {
      return this.#replyErr(r, newJSError("JSStreamMessageExceedsMaximumErr"));
    }
    if (hlen > MAX_HDR) return this.#replyErr(r, newJSError("JSStreamHeaderExceedsMaximumErr"));
    const limErr = this.host.limitsExceeded(cfg.storage);
    if (limErr) return this.#replyErr(r, limErr);

    let msgId = "";
    let rollup = "";
    let ttlNs: bigint | undefined;
    let body = payload;
    let counterVal: string | undefined;
    if (hdr !== undefined && hlen > 0) {
      const es = getHeader(JS_EXPECTED_STREAM, hdr);
      if (es !== undefined && es !== "" && es !== cfg.name) {
        return this.#replyErr(r, newJSError("JSStreamNotMatchErr"));
      }
      msgId = getHeader(JS_MSG_ID, hdr) ?? "";
      if (msgId !== "") {
        const dde = this.#dedupe.get(msgId);
        if (dde !== undefined) {
          if (r !== undefined) this.#reply(r, `${this.#pubAckPrefix}${dde.seq},"duplicate": true}`);
          return;
        }
      }
      const elss = getHeader(JS_EXPECTED_LAST_SUBJ_SEQ, hdr);
      if (elss !== undefined && elss !== "") {
        const seq = Number(elss);
        const on = getHeader(JS_EXPECTED_LAST_SUBJ_SEQ_SUBJ, hdr) || subject;
        const last = this.store.loadLastMsg(on);
        const fseq = last?.seq ?? 0;
        if (!Number.isInteger(seq) || fseq !== seq) {
          return this.#replyErr(r, newJSError("JSStreamWrongLastSequenceErrF", { seq: fseq }));
        }
      }
      const els = getHeader(JS_EXPECTED_LAST_SEQ, hdr);
      if (els !== undefined && els !== "" && Number(els) !== this.#lseq) {
        return this.#replyErr(r, newJSError("JSStreamWrongLastSequenceErrF", { seq: this.#lseq }));
      }
      const elid = getHeader(JS_EXPECTED_LAST_MSG_ID, hdr);
      if (elid !== undefined && elid !== "" && elid !== this.#lastMsgId) {
        return this.#replyErr(r, newJSError("JSStreamWrongLastMsgIDErrF", { id: this.#lastMsgId }));
      }
      rollup = getHeader(JS_MSG_ROLLUP, hdr) ?? "";
      if (rollup !== "") {
        if (!cfg.allow_rollup_hdrs || cfg.deny_purge) {
          return this.#replyErr(r, newJSError("JSStreamRollupFailedF", { err: "rollup not permitted" }));
        }
        if (rollup !== ROLLUP_SUBJECT && rollup !== ROLLUP_ALL) {
          return this.#replyErr(
            r,
            newJSError("JSStreamRollupFailedF", { err: `rollup value invalid: ${JSON.stringify(rollup)}` }),
          );
        }
      }
      const ttl = getHeader(JS_MSG_TTL, hdr);
      if (ttl !== undefined && ttl !== "") {
        if (!cfg.allow_msg_ttl) return this.#replyErr(r, newJSError("JSMessageTTLDisabledErr"));
        const t = parseTtl(ttl);
        if (t === undefined) return this.#replyErr(r, newJSError("JSMessageTTLInvalidErr"));
        ttlNs = t;
      }
      const incr = getHeader(JS_MSG_INCR, hdr);
      if (incr !== undefined) {
        if (!cfg.allow_msg_counter) return this.#replyErr(r, newJSError("JSMessageIncrDisabledErr"));
        if (payload.length > 0) return this.#replyErr(r, newJSError("JSMessageIncrPayloadErr"));
        let inc: bigint;
        try {
          if (!/^[+-]?\d+$/.test(incr)) throw new SyntaxError(incr);
          inc = BigInt(incr);
        } catch {
          return this.#replyErr(r, newJSError("JSMessageIncrInvalidErr"));
        }
        let cur = 0n;
        const last = this.store.loadLastMsg(subject);
        if (last !== undefined) {
          try {
            const v = JSON.parse(new TextDecoder().decode(last.msg)).val;
            cur = BigInt(v);
          } catch {
            return this.#replyErr(r, newJSError("JSMessageCounterBrokenErr"));
          }
        }
        counterVal = (cur + inc).toString();
        body = encoder.encode(`{"val":"${counterVal}"}`);
      }
    }
    if (cfg.allow_msg_counter && counterVal === undefined) {
      return this.#replyErr(r, newJSError("JSMessageIncrMissingErr"));
    }
    if (cfg.max_msg_size >= 0 && hlen + body.length > cfg.max_msg_size) {
      return this.#replyErr(r, newJSError("JSStreamMessageExceedsMaximumErr"));
    }

    // Interest retention with nobody interested: the sequence is used up, nothing is stored.
    if (cfg.retention === "interest") {
      let interest = false;
      for (const c of this.consumers.values()) {
        if (c.isInterested(subject)) {
          interest = true;
          break;
        }
      }
      if (!interest) {
        const seq = this.store.skipMsg();
        this.#lseq = seq;
        if (msgId !== "") this.#storeMsgId(msgId, seq);
        if (r !== undefined) this.#reply(r, `${this.#pubAckPrefix}${seq}}`);
        return;
      }
    }

    const storeSubject = this.#ingestTransform?.match(subject) ?? subject;
    const hcopy = hdr !== undefined && hlen > 0 ? hdr.slice() : undefined;
    const bcopy = body === payload ? payload.slice() : body;
    let seq: number;
    let ts: bigint;
    try {
      ({ seq, ts } = this.store.storeMsg(storeSubject, hcopy, bcopy, ttlNs));
    } catch (e) {
      if (e instanceof StoreError) {
        if (
          e.code !== "max_msgs" && e.code !== "max_bytes" && e.code !== "max_msgs_per_subject" &&
          e.code !== "msg_too_big"
        ) {
          this.host.log.error(
            `JetStream failed to store a msg on stream '${this.host.accountName} > ${cfg.name}': ${e.message}`,
          );
        }
        return this.#replyErr(r, newJSError("JSStreamStoreFailedF", { err: e.message }));
      }
      throw e;
    }
    this.#lseq = seq;
    if (msgId !== "") {
      this.#storeMsgId(msgId, seq);
      this.#lastMsgId = msgId;
    }
    if (rollup === ROLLUP_SUBJECT) this.purge({ filter: storeSubject, keep: 1 });
    else if (rollup === ROLLUP_ALL) this.purge({ keep: 1 });

    if (this.#republish !== undefined) this.#doRepublish(storeSubject, hcopy, bcopy, seq);

    if (r !== undefined) {
      const ack = counterVal === undefined
        ? `${this.#pubAckPrefix}${seq}}`
        : `${this.#pubAckPrefix}${seq}, "val":${JSON.stringify(counterVal)}}`;
      const p = this.store.flushed(seq);
      if (p === undefined) this.#reply(r, ack);
      else {
        p.then(() => this.#reply(r, ack), (e) => {
          this.host.log.error(
            `JetStream flush failed on stream '${cfg.name}': ${(e as Error)?.message ?? e}`,
          );
          this.#replyErr(r, newJSError("JSStreamStoreFailedF", { err: (e as Error)?.message ?? String(e) }));
        });
      }
    }
    void ts;
    for (const c of this.consumers.values()) c.onStored(seq, storeSubject);
  }

  #doRepublish(subject: string, hdr: Uint8Array | undefined, msg: Uint8Array, seq: number): void {
    const tsubj = this.#republish!.match(subject);
    if (tsubj === undefined) return;
    const last = this.store.loadPrevMsg(seq - 1)?.seq ?? 0;
    const headersOnly = this.config.republish?.headers_only === true;
    const pairs: [string, string][] = [
      [JS_STREAM, this.config.name],
      [JS_SUBJECT, subject],
      [JS_SEQUENCE, String(seq)],
      [JS_LAST_SEQUENCE, String(last)],
    ];
    if (headersOnly) pairs.push([JS_MSG_SIZE, String(msg.length)]);
    const h = appendHeaders(hdr, pairs);
    this.host.client.publishInternal(tsubj, undefined, h, headersOnly ? new Uint8Array(0) : msg);
  }

  #storeMsgId(id: string, seq: number): void {
    const window = this.config.duplicate_window ?? 0;
    if (window <= 0) return;
    this.#dedupe.set(id, { seq, ts: Date.now() });
    if (this.#dedupeTimer === undefined) {
      this.#dedupeTimer = this.host.after(Math.max(1, window / 1e6), () => {
        this.#dedupeTimer = undefined;
        this.#purgeDedupe();
      });
    }
  }

  /** Drops msg ids older than the duplicate window (a Map keeps insertion order: oldest first). */
  #purgeDedupe(): void {
    const window = (this.config.duplicate_window ?? 0) / 1e6;
    const cutoff = Date.now() - window;
    for (const [id, e] of this.#dedupe) {
      if (e.ts > cutoff) break;
      this.#dedupe.delete(id);
    }
    if (this.#dedupe.size > 0 && this.#dedupeTimer === undefined && !this.#closed) {
      const first = this.#dedupe.values().next().value!;
      this.#dedupeTimer = this.host.after(Math.max(1, first.ts + window - Date.now()), () => {
        this.#dedupeTimer = undefined;
        this.#purgeDedupe();
      });
    }
  }

  // ---- Admin operations ---------------------------------------------------------------------------------

  /** Purges per the request; returns the number purged. Consumers learn the new first sequence. */
  purge(req: PurgeRequest = {}): number {
    const filter = req.filter ?? "";
    const seq = req.seq ?? 0;
    const keep = req.keep ?? 0;
    const n = filter === "" && seq === 0 && keep === 0
      ? this.store.purge()
      : this.store.purgeEx(filter, seq, keep);
    const first = this.store.fastState().firstSeq;
    for (const c of this.consumers.values()) c.onPurged(first);
    return n;
  }

  /** Removes one message (erasing its bytes unless noErase); false when absent. */
  removeMsg(seq: number, noErase: boolean): boolean {
    return noErase ? this.store.removeMsg(seq) : this.store.eraseMsg(seq);
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
    o["consumer_count"] = this.consumers.size;
    return o;
  }

  /** The StreamInfo body (config, created, state, …) shared by create/update/info/list. */
  infoJson(opts: { subjectsFilter?: string; deleted?: boolean } = {}): Record<string, unknown> {
    const o: Record<string, unknown> = {
      config: streamConfigJson(this.config),
      created: rfc3339Nano(this.created),
      state: this.stateJson(opts),
    };
    if (this.host.domain !== "") o.domain = this.host.domain;
    return o;
  }

  /** Loads one message per a MSG.GET / DIRECT.GET single request; undefined when there is none. */
  loadForGet(req: { seq?: number; "last_by_subj"?: string; "next_by_subj"?: string }): StoredMsg | undefined {
    if (req.next_by_subj) return this.store.loadNextMsg(req.next_by_subj, req.seq ?? 0);
    if (req.last_by_subj) return this.store.loadLastMsg(req.last_by_subj);
    return this.store.loadMsg(req.seq ?? 0);
  }
}

/** Maps a stream config onto the store's terms. */
export function storeConfig(c: StreamConfig): StoreConfig {
  return {
    name: c.name,
    storage: c.storage,
    subjects: c.subjects ?? [],
    maxMsgs: c.max_msgs,
    maxBytes: c.max_bytes,
    maxAge: BigInt(Math.round(c.max_age)),
    maxMsgsPerSubject: c.max_msgs_per_subject,
    maxMsgSize: c.max_msg_size,
    discardNew: c.discard === "new",
    discardNewPerSubject: c.discard_new_per_subject === true,
    allowMsgTtl: c.allow_msg_ttl === true,
    compression: c.compression ?? "none",
  };
}

/** True when `filter` is a valid subject filter for MSG.GET / purge requests. */
export function isValidFilter(filter: string): boolean {
  return isValidSubject(filter);
}
