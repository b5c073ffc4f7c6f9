// The publish path of a stream: size, limit and header checks (Nats-Expected-*, Nats-Msg-Id dedupe, rollup,
// TTL, counters), the store, republish and the PubAck. Layer two of the stream (see _stream_base.ts).
// Behaviour follows nats-server server/stream.go (processJetStreamMsg).

import { fileStoreMsgSize, StoreError } from "../store/mod.ts";
import { ApiError, newJSError } from "./api_errors.ts";
import {
  appendHeaders,
  getHeader,
  JS_BATCH_ID,
  JS_EXPECTED_LAST_MSG_ID,
  JS_EXPECTED_LAST_SEQ,
  JS_EXPECTED_LAST_SUBJ_SEQ,
  JS_EXPECTED_LAST_SUBJ_SEQ_SUBJ,
  JS_EXPECTED_STREAM,
  JS_LAST_SEQUENCE,
  JS_MARKER_REASON,
  JS_MSG_ID,
  JS_MSG_ROLLUP,
  JS_MSG_SIZE,
  JS_MSG_TTL,
  JS_SCHEDULE,
  JS_SCHEDULER,
  JS_SEQUENCE,
  JS_STREAM,
  JS_SUBJECT,
  ROLLUP_ALL,
  ROLLUP_SUBJECT,
} from "./_headers.ts";
import type { Batcher } from "./_stream_batch.ts";
import { parseTtl } from "./_ttl.ts";
import { applyIncr, checkIncr, parseIncr } from "./_stream_counter.ts";
import { StreamBase } from "./_stream_base.ts";

/** The largest file store record (header, subject, headers, payload, checksum) plus one. */
const FILE_RECORD_LIMIT = 32 * 1024 * 1024;

const MAX_HDR = 65_535;

interface DedupeEntry {
  seq: number;
  ts: number;
}

/** StreamIngest: see StreamBase for the layering. */
export abstract class StreamIngest extends StreamBase {
  #dedupe = new Map<string, DedupeEntry>();
  #lastMsgId = "";
  protected _dedupeTimer: (() => void) | undefined;

  /**
   * The publish path: checks, stores, then replies with a PubAck once the store says the message is durable.
   * `hdr` and `payload` are views valid only during the call; the store copies them.
   */
  processInbound(
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ): void {
    if (this._closed) return;
    const cfg = this.config;
    const canRespond = !cfg.no_ack && reply !== undefined && reply !== "";
    const r = canRespond ? reply : undefined;
    if (cfg.sealed) return this._replyErr(r, newJSError("JSStreamSealedErr"));
    const hlen = hdr?.length ?? 0;
    const maxPayload = this.host.maxPayload();
    if (maxPayload > 0 && hlen + payload.length > maxPayload) {
      return this._replyErr(r, newJSError("JSStreamMessageExceedsMaximumErr"));
    }
    if (hlen > MAX_HDR) return this._replyErr(r, newJSError("JSStreamHeaderExceedsMaximumErr"));
    const limErr = this.host.limitsExceeded(cfg.storage);
    if (limErr) return this._replyErr(r, limErr);
    if (!this._internalIngest && hdr !== undefined && hlen > 0 && getHeader(JS_BATCH_ID, hdr) !== undefined) {
      return this._getBatcher().process(subject, r, hdr, payload);
    }

    let msgId = "";
    let rollup = "";
    let ttlNs: bigint | undefined;
    let body = payload;
    let counterVal: string | undefined;
    let incr: bigint | null | undefined;
    if (hdr !== undefined && hlen > 0) {
      // Counter increments first, as the reference: a bad value, a stream that does not count, a payload or
      // an expectation header refuse the message; one that came through a source is kept as it comes.
      incr = parseIncr(hdr);
      if (incr === null) return this._replyErr(r, newJSError("JSMessageIncrInvalidErr"));
      if (incr !== undefined && !this._sourcedIngest) {
        const ie = checkIncr(hdr, payload.length, cfg.allow_msg_counter === true);
        if (ie !== undefined) return this._replyErr(r, ie);
      }
      const es = getHeader(JS_EXPECTED_STREAM, hdr);
      if (es !== undefined && es !== "" && es !== cfg.name) {
        return this._replyErr(r, newJSError("JSStreamNotMatchErr"));
      }
      msgId = getHeader(JS_MSG_ID, hdr) ?? "";
      if (msgId !== "") {
        const dde = this.#dedupe.get(msgId);
        if (dde !== undefined) {
          if (r !== undefined) this._reply(r, `${this._pubAckPrefix}${dde.seq},"duplicate": true}`);
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
          return this._replyErr(r, newJSError("JSStreamWrongLastSequenceErrF", { seq: fseq }));
        }
      }
      const els = getHeader(JS_EXPECTED_LAST_SEQ, hdr);
      if (els !== undefined && els !== "" && Number(els) !== this._lseq) {
        return this._replyErr(r, newJSError("JSStreamWrongLastSequenceErrF", { seq: this._lseq }));
      }
      const elid = getHeader(JS_EXPECTED_LAST_MSG_ID, hdr);
      if (elid !== undefined && elid !== "" && elid !== this.#lastMsgId) {
        return this._replyErr(r, newJSError("JSStreamWrongLastMsgIDErrF", { id: this.#lastMsgId }));
      }
      rollup = getHeader(JS_MSG_ROLLUP, hdr) ?? "";
      if (rollup !== "" && !this._internalIngest) {
        if (!cfg.allow_rollup_hdrs || cfg.deny_purge) {
          return this._replyErr(r, newJSError("JSStreamRollupFailedF", { err: "rollup not permitted" }));
        }
        if (rollup !== ROLLUP_SUBJECT && rollup !== ROLLUP_ALL) {
          return this._replyErr(
            r,
            newJSError("JSStreamRollupFailedF", { err: `rollup value invalid: ${JSON.stringify(rollup)}` }),
          );
        }
      }
      const ttl = getHeader(JS_MSG_TTL, hdr);
      // A sourced message keeps its Nats-TTL header; a stream without message TTLs stores it without one.
      if (ttl !== undefined && ttl !== "" && (cfg.allow_msg_ttl || !this._sourcedIngest)) {
        if (!cfg.allow_msg_ttl) return this._replyErr(r, newJSError("JSMessageTTLDisabledErr"));
        const t = parseTtl(ttl);
        if (t === undefined) return this._replyErr(r, newJSError("JSMessageTTLInvalidErr"));
        ttlNs = t;
      }
      const sched = getHeader(JS_SCHEDULE, hdr);
      if (sched !== undefined) {
        const se = this._checkSchedule(subject, hdr, sched);
        if (se !== undefined) return this._replyErr(r, se);
        // A schedule is the only message of its subject.
        if (rollup === "") rollup = ROLLUP_SUBJECT;
      } else if (
        cfg.allow_msg_schedules && !this._internalIngest && getHeader(JS_SCHEDULER, hdr) !== undefined
      ) {
        return this._replyErr(r, newJSError("JSMessageSchedulesSchedulerInvalidErr"));
      }
    }
    if (cfg.allow_msg_counter) {
      if (incr === undefined || incr === null) {
        return this._replyErr(r, newJSError("JSMessageIncrMissingErr"));
      }
      // The counter lives on the subject as stored (after the stream's subject transform).
      const csubj = this._ingestTransform?.match(subject) ?? subject;
      const cu = applyIncr(csubj, hdr!, payload, incr, this.store.loadLastMsg(csubj));
      if (cu instanceof ApiError) return this._replyErr(r, cu);
      let max = maxPayload;
      if (cfg.max_msg_size >= 0 && (max <= 0 || cfg.max_msg_size < max)) max = cfg.max_msg_size;
      if (max > 0 && (cu.hdr.length > max || cu.body.length > max - cu.hdr.length)) {
        return this._replyErr(r, newJSError("JSStreamMessageExceedsMaximumErr"));
      }
      hdr = cu.hdr;
      body = cu.body;
      counterVal = cu.total;
    }
    if (cfg.max_msg_size >= 0 && hlen + body.length > cfg.max_msg_size) {
      return this._replyErr(r, newJSError("JSStreamMessageExceedsMaximumErr"));
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
        this._lseq = seq;
        if (msgId !== "") this.#storeMsgId(msgId, seq);
        if (r !== undefined) this._reply(r, `${this._pubAckPrefix}${seq}}`);
        return;
      }
    }

    const storeSubject = this._ingestTransform?.match(subject) ?? subject;
    // A file record of 32 MiB or more reads back as corrupt (the reference's rlBadThresh): refuse it here. The
    // exact size (a UTF-8 length of the subject) only for a message near the limit: at most 3 bytes per unit.
    if (
      cfg.storage === "file" &&
      (hdr?.length ?? 0) + body.length + 3 * storeSubject.length + 34 >= FILE_RECORD_LIMIT &&
      fileStoreMsgSize(storeSubject, hdr, body) >= FILE_RECORD_LIMIT
    ) {
      return this._replyErr(r, newJSError("JSStreamStoreFailedF", { err: "message too large" }));
    }
    // The store copies what it keeps, so the views go in as they are.
    const hcopy = hdr !== undefined && hlen > 0 ? hdr : undefined;
    const bcopy = body;
    let seq: number;
    let ts: bigint;
    try {
      this._ownOps++;
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
        return this._replyErr(r, newJSError("JSStreamStoreFailedF", { err: e.message }));
      }
      throw e;
    } finally {
      this._ownOps--;
    }
    this._lseq = seq;
    // A message that is itself a delete marker (ours, or a KV purge) leaves no new marker when it expires; any
    // other message expiring by max_age or its TTL does (the reference's isSubjectDeleteMarker).
    if ((cfg.subject_delete_marker_ttl ?? 0) > 0 && hdr !== undefined && hlen > 0) {
      if (getHeader(JS_MARKER_REASON, hdr) !== undefined || getHeader("KV-Operation", hdr) === "PURGE") {
        this._ttlSeqs.add(seq);
      }
    }
    if (msgId !== "") {
      this.#storeMsgId(msgId, seq);
      this.#lastMsgId = msgId;
    }
    const after = this._batchAfter;
    if (after !== undefined) {
      // In an atomic batch, what cannot be undone waits for the whole batch (the staged views are owned).
      // A rollup then removes what is below this message: the same as keeping one at this point.
      if (rollup === ROLLUP_SUBJECT) after.push(() => this._purgeQuiet({ filter: storeSubject, seq }));
      else if (rollup === ROLLUP_ALL) after.push(() => this._purgeQuiet({ seq }));
      if (cfg.allow_msg_schedules) after.push(() => this._trackSchedule(storeSubject, seq, hcopy));
      if (this._republish !== undefined) after.push(() => this.#doRepublish(storeSubject, hcopy, bcopy, seq));
    } else {
      if (rollup === ROLLUP_SUBJECT) this._purgeQuiet({ filter: storeSubject, keep: 1 });
      else if (rollup === ROLLUP_ALL) this._purgeQuiet({ keep: 1 });
      if (cfg.allow_msg_schedules) this._trackSchedule(storeSubject, seq, hcopy);
      if (this._republish !== undefined) this.#doRepublish(storeSubject, hcopy, bcopy, seq);
    }

    if (r !== undefined) {
      if (counterVal === undefined) {
        if (!this.store.onFlushed(seq, this._plainAckFlushed, r, seq)) this._sendPlainAck(r, seq);
      } else {
        const ack = `${this._pubAckPrefix}${seq}, "val":${JSON.stringify(counterVal)}}`;
        if (!this.store.onFlushed(seq, this._ackFlushed, r, ack)) this._reply(r, ack);
      }
    }
    void ts;
    this._notify(seq, storeSubject);
  }

  #doRepublish(subject: string, hdr: Uint8Array | undefined, msg: Uint8Array, seq: number): void {
    const tsubj = this._republish!.match(subject);
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
    if (this._dedupeTimer === undefined) {
      this._dedupeTimer = this.host.after(Math.max(1, window / 1e6), () => {
        this._dedupeTimer = undefined;
        this._purgeDedupe();
      });
    }
  }

  /** Drops msg ids older than the duplicate window (a Map keeps insertion order: oldest first). */
  protected _purgeDedupe(): void {
    const window = (this.config.duplicate_window ?? 0) / 1e6;
    const cutoff = Date.now() - window;
    for (const [id, e] of this.#dedupe) {
      if (e.ts > cutoff) break;
      this.#dedupe.delete(id);
    }
    if (this.#dedupe.size > 0 && this._dedupeTimer === undefined && !this._closed) {
      const first = this.#dedupe.values().next().value!;
      this._dedupeTimer = this.host.after(Math.max(1, first.ts + window - Date.now()), () => {
        this._dedupeTimer = undefined;
        this._purgeDedupe();
      });
    }
  }

  // Implemented by the feeds layer (_stream_feeds.ts).
  protected abstract _getBatcher(): Batcher;
  protected abstract _checkSchedule(subject: string, hdr: Uint8Array, sched: string): ApiError | undefined;
  protected abstract _trackSchedule(subject: string, seq: number, hdr: Uint8Array | undefined): void;
}
