// The state every layer of a stream shares: config, counters, replies and PubAcks, consumer notifications,
// subject delete markers and the quiet purge. A stream is built in layers, one file per concern: this base,
// the publish path (_stream_ingest.ts), what feeds that path from inside the server: atomic batches, message
// schedules, mirrors and sources (_stream_feeds.ts), and lifecycle, consumers and admin operations (stream.ts,
// the concrete class). Imports go one way, from each layer to those below it (the concrete Stream is named
// here as a type only). Behaviour follows nats-server server/stream.go.

import type { Client } from "../server/mod.ts";
import type { StoreConfig, StreamStore } from "../store/mod.ts";
import { isValidSubject } from "../sublist/mod.ts";
import { encoder, type Logger, Nuid, putDecimal } from "../util/mod.ts";
import { ApiError, newJSError } from "./api_errors.ts";
import { buildHeaders, JS_MARKER_REASON, JS_MSG_TTL, nowNs } from "./_headers.ts";
import { goDuration, type StreamConfig } from "./_stream_config.ts";
import type { BatchLimits } from "./_stream_batch.ts";
import { SubjectTransform } from "./_transform.ts";
// Type only: StreamHost hands the concrete stream to its mirror_direct responder.
import type { Stream } from "./stream.ts";

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
  /** An internal consumer of a mirror or source (config `direct`): not counted or listed as the stream's. */
  readonly config?: { readonly direct?: boolean };
  onStored(seq: number, subject: string): void;
  isInterested(subject: string): boolean;
  needsAck(seq: number, subject: string): boolean;
  onPurged(firstSeq: number): void;
  /** A filtered purge (see ConsumerBase.onPurgedFiltered). */
  onPurgedFiltered(filter: string, streamFirst: number, nextMatch: number, lastSeq: number): void;
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
  /**
   * Added with atomic batches (optional so existing hosts stay valid): the server-wide count of batches in
   * flight, and the batch limits (tests lower them).
   */
  readonly batchInflight?: { n: number };
  batchLimits?(): BatchLimits;
  /** Added with batches/snapshots: publishes an advisory when someone listens. */
  advisory?(subject: string, body: Record<string, unknown>): void;
  /**
   * Added with mirror_direct: makes stream `s` answer direct gets addressed to its mirror origin `origin`;
   * returns the unsubscribe function.
   */
  mirrorDirect?(s: Stream, origin: string): () => void;
}

/** The body of a STREAM.PURGE request. */
export interface PurgeRequest {
  filter?: string;
  seq?: number;
  keep?: number;
}

/** The shared state of a stream; see Stream. */
export abstract class StreamBase {
  readonly host: StreamHost;
  config: StreamConfig;
  readonly store: StreamStore;
  /** Creation time, ns since the epoch. */
  readonly created: bigint;
  /** The consumers registered by consumer.ts, by name. */
  readonly consumers = new Map<string, StreamConsumer>();
  protected _closed = false;
  protected _pubAckPrefix = "";
  /** _pubAckPrefix as bytes, for the plain PubAck built without a string round trip. */
  #pubAckPrefixB = new Uint8Array(0);
  /** _sendPlainAck's buffer: #pubAckPrefixB followed by room for the sequence. */
  #ackBuf = new Uint8Array(0);
  protected _ingestTransform: SubjectTransform | undefined;
  protected _republish: SubjectTransform | undefined;
  protected _lseq = 0;
  protected _nuid = new Nuid();
  /** Set while a batch commit or a schedule stores through processInbound. */
  protected _internalIngest = false;
  /**
   * Set while an atomic batch is applied: the steps that cannot be undone (rollup purges, schedules,
   * republishing), run only once every message of the batch is stored.
   */
  protected _batchAfter: (() => void)[] | undefined;
  /** The last refusal of processInbound (for sources, batches and schedules, which have no reply). */
  protected _ingestErr: ApiError | undefined;
  /** Consumer notifications held back while a batch commit may still roll back. */
  protected _deferred: [number, string][] | undefined;
  /** Sequences stored with a per-message TTL (their expiry places no delete marker). */
  protected _ttlSeqs = new Set<number>();
  /** > 0 while the stream itself removes messages (purge, delete, limits): no MaxAge markers then. */
  protected _ownOps = 0;
  /** Set while a message that came through a source is ingested (its Nats-Incr is stored as it comes). */
  protected _sourcedIngest = false;
  /** Bytes this stream counts in its account's usage (a deleted store may not report its data gone). */
  protected _usageBytes = 0;

  constructor(host: StreamHost, config: StreamConfig, store: StreamStore, created = nowNs()) {
    this.host = host;
    this.config = config;
    this.store = store;
    this.created = created;
    this._applyConfig();
    this._lseq = store.fastState().lastSeq;
    this._usageBytes = store.fastState().bytes;
    store.registerStorageUpdates((dm, db, seq, subject) => {
      this._usageBytes += db;
      host.updateUsage(this.config.storage, db);
      if (dm < 0) this.#onRemoved(seq, subject);
    });
  }

  get name(): string {
    return this.config.name;
  }

  protected _applyConfig(): void {
    const c = this.config;
    const d = this.host.domain;
    this._pubAckPrefix = d === ""
      ? `{"stream":${JSON.stringify(c.name)}, "seq":`
      : `{"stream":${JSON.stringify(c.name)}, "domain":${JSON.stringify(d)}, "seq":`;
    this.#pubAckPrefixB = encoder.encode(this._pubAckPrefix);
    this.#ackBuf = new Uint8Array(0);
    this._ingestTransform = c.subject_transform
      ? SubjectTransform.create(c.subject_transform.src, c.subject_transform.dest)
      : undefined;
    this._republish = c.republish
      ? SubjectTransform.create(c.republish.src ?? ">", c.republish.dest)
      : undefined;
  }

  get closed(): boolean {
    return this._closed;
  }

  protected _notify(seq: number, subject: string): void {
    if (this._deferred !== undefined) {
      this._deferred.push([seq, subject]);
      return;
    }
    for (const c of this.consumers.values()) c.onStored(seq, subject);
  }

  // ---- Subject delete markers -------------------------------------------------------------------------

  /** A message left the store: MaxAge or TTL expiry (not of a marker, not our own removals) places a delete marker. */
  #onRemoved(seq: number, subject: string): void {
    if (this._ttlSeqs.delete(seq)) return;
    if (this._ownOps > 0 || this._closed) return;
    if (!(this.config.subject_delete_marker_ttl! > 0)) return;
    // Not from inside the store's callback: the store may be mid-expiry.
    queueMicrotask(() => {
      if (!this._closed && this.store.loadLastMsg(subject) === undefined) {
        this._placeMarker(subject, "MaxAge");
      }
    });
  }

  /** Stores an empty message with Nats-Marker-Reason and a TTL of subject_delete_marker_ttl. */
  protected _placeMarker(subject: string, reason: "MaxAge" | "Purge" | "Remove"): void {
    const ttl = this.config.subject_delete_marker_ttl ?? 0;
    if (ttl <= 0) return;
    const hdr = buildHeaders([[JS_MARKER_REASON, reason], [JS_MSG_TTL, goDuration(ttl)]]);
    let seq: number;
    try {
      ({ seq } = this.store.storeMsg(subject, hdr, new Uint8Array(0), BigInt(ttl)));
    } catch (e) {
      this.host.log.warn(
        `JetStream failed to place a delete marker on '${this.config.name}': ${(e as Error).message}`,
      );
      return;
    }
    this._ttlSeqs.add(seq);
    this._lseq = seq;
    this._notify(seq, subject);
  }

  // ---- Replies and PubAcks ------------------------------------------------------------------------------

  /**
   * Sends the plain PubAck `${_pubAckPrefix}${seq}}`, built in a reusable buffer without a string round trip
   * (replyInternal copies it to the receivers before returning; an ack never has a reply of its own, so no
   * delivery it causes can come back here while the buffer is in use).
   */
  protected _sendPlainAck(reply: string, seq: number): void {
    const pre = this.#pubAckPrefixB;
    let out = this.#ackBuf;
    if (out.length < pre.length + 17) {
      out = this.#ackBuf = new Uint8Array(pre.length + 32);
      out.set(pre);
    }
    let o = putDecimal(out, pre.length, seq);
    out[o++] = 0x7d;
    this.host.client.replyInternal(reply, out.subarray(0, o));
  }

  /** PubAcks waiting for an fsync: the plain one is built when it is sent. */
  protected _plainAckFlushed = (e: unknown, r: string, seq: number): void => {
    if (e === undefined) return this._sendPlainAck(r, seq);
    this._ackFlushed(e, r, "");
  };

  /** Sends a PubAck once its message is durable (one store callback per message, no promise). */
  protected _ackFlushed = (e: unknown, r: string, ack: string | Uint8Array): void => {
    if (e === undefined) return this._reply(r, ack);
    this.host.log.error(
      `JetStream flush failed on stream '${this.config.name}': ${(e as Error)?.message ?? e}`,
    );
    this._replyErr(r, newJSError("JSStreamStoreFailedF", { err: (e as Error)?.message ?? String(e) }));
  };

  /** Sends a reply from the JetStream internal client. */
  protected _reply(reply: string | undefined, body: string | Uint8Array): void {
    if (reply === undefined || reply === "") return;
    this.host.client.replyInternal(reply, typeof body === "string" ? encoder.encode(body) : body);
  }

  protected _replyErr(reply: string | undefined, err: ApiError): void {
    this._ingestErr = err;
    if (reply === undefined || reply === "") return;
    this._reply(reply, JSON.stringify({ error: err, stream: this.config.name, seq: 0 }));
  }

  protected _purgeQuiet(req: PurgeRequest): number {
    const filter = req.filter ?? "";
    const seq = req.seq ?? 0;
    const keep = req.keep ?? 0;
    this._ownOps++;
    let n: number;
    try {
      n = filter === "" && seq === 0 && keep === 0
        ? this.store.purge()
        : this.store.purgeEx(filter, seq, keep);
    } finally {
      this._ownOps--;
    }
    const st = this.store.fastState();
    const first = st.firstSeq;
    if (filter === "") {
      for (const c of this.consumers.values()) c.onPurged(first);
    } else {
      const next = this.store.filteredState(first, filter).first;
      for (const c of this.consumers.values()) c.onPurgedFiltered(filter, first, next, st.lastSeq);
    }
    return n;
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
