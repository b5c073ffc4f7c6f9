// Atomic batch publish (Nats-Batch-Id / Nats-Batch-Sequence / Nats-Batch-Commit): messages are staged per
// batch and stored all together at the commit, or not at all. Behaviour follows nats-server
// server/jetstream_batching.go and stream.go (limits, abandoned-batch advisories).

import type { ApiError } from "./api_errors.ts";
import { newJSError } from "./api_errors.ts";
import {
  getHeader,
  JS_BATCH_COMMIT,
  JS_BATCH_ID,
  JS_BATCH_SEQ,
  JS_EXPECTED_LAST_MSG_ID,
  JS_MSG_ID,
} from "./_headers.ts";

/** Limits of atomic batches (the reference's defaults). */
export interface BatchLimits {
  /** Messages per batch. */
  maxSize: number;
  /** Batches in flight per stream. */
  maxInflightPerStream: number;
  /** Batches in flight per server. */
  maxInflightTotal: number;
  /** A batch with no message for this long is abandoned (ms). */
  timeoutMs: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = {
  maxSize: 1000,
  maxInflightPerStream: 50,
  maxInflightTotal: 1000,
  timeoutMs: 10_000,
};

/** The longest batch id. */
export const MAX_BATCH_ID_LEN = 64;

/** A staged message (owned copies). */
export interface StagedMsg {
  subject: string;
  hdr: Uint8Array | undefined;
  msg: Uint8Array;
}

/** Why a batch was dropped (the advisory's `reason`). */
export type BatchAbandonReason = "timeout" | "large" | "incomplete" | "unsupported";

/** What the batcher needs of its stream. */
export interface BatchTarget {
  allowAtomic(): boolean;
  limits(): BatchLimits;
  /** The server-wide in-flight counter (shared by all streams). */
  readonly inflight: { n: number };
  after(ms: number, fn: () => void): () => void;
  replyErr(reply: string | undefined, err: ApiError): void;
  /** An empty reply acknowledging a staged message the client asked an ack for. */
  replyEmpty(reply: string): void;
  /** Stores every message or none; returns the last sequence or the error. */
  commit(batchId: string, msgs: StagedMsg[], reply: string | undefined): void;
  abandoned(batchId: string, reason: BatchAbandonReason): void;
}

interface Group {
  msgs: StagedMsg[];
  cancel: () => void;
}

/** The batches in flight on one stream. */
export class Batcher {
  #t: BatchTarget;
  #groups = new Map<string, Group>();

  constructor(t: BatchTarget) {
    this.#t = t;
  }

  get size(): number {
    return this.#groups.size;
  }

  /**
   * Handles a message carrying Nats-Batch-Id. `hdr`/`payload` are views valid during the call; staged
   * messages are copied.
   */
  process(
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array,
    payload: Uint8Array,
  ): void {
    const t = this.#t;
    if (!t.allowAtomic()) return t.replyErr(reply, newJSError("JSAtomicPublishDisabledErr"));
    const id = getHeader(JS_BATCH_ID, hdr) ?? "";
    if (id === "" || id.length > MAX_BATCH_ID_LEN) {
      return t.replyErr(reply, newJSError("JSAtomicPublishInvalidBatchIDErr"));
    }
    const seqText = getHeader(JS_BATCH_SEQ, hdr);
    const seq = seqText === undefined || !/^\d+$/.test(seqText) ? 0 : Number(seqText);
    if (seq <= 0) return t.replyErr(reply, newJSError("JSAtomicPublishMissingSeqErr"));
    const commit = getHeader(JS_BATCH_COMMIT, hdr);
    if (commit !== undefined && commit !== "1" && commit !== "eob") {
      this.#abandon(id, "incomplete");
      return t.replyErr(reply, newJSError("JSAtomicPublishInvalidBatchCommitErr"));
    }
    const lim = t.limits();
    let g = this.#groups.get(id);
    if (g === undefined) {
      if (seq !== 1) return t.replyErr(reply, newJSError("JSAtomicPublishIncompleteBatchErr"));
      if (this.#groups.size >= lim.maxInflightPerStream || t.inflight.n >= lim.maxInflightTotal) {
        return t.replyErr(reply, newJSError("JSAtomicPublishTooManyInflight"));
      }
      g = { msgs: [], cancel: () => {} };
      this.#groups.set(id, g);
      t.inflight.n++;
    } else if (seq !== g.msgs.length + 1) {
      this.#abandon(id, "incomplete");
      return t.replyErr(reply, newJSError("JSAtomicPublishIncompleteBatchErr"));
    }
    if (seq > lim.maxSize) {
      this.#abandon(id, "large");
      return t.replyErr(reply, newJSError("JSAtomicPublishTooLargeBatchErrF", { size: lim.maxSize }));
    }
    g.cancel();
    const eob = commit === "eob";
    if (!eob) g.msgs.push({ subject, hdr: hdr.length > 0 ? hdr.slice() : undefined, msg: payload.slice() });
    if (commit === undefined) {
      const group = g;
      g.cancel = t.after(lim.timeoutMs, () => {
        if (this.#groups.get(id) === group) this.#abandon(id, "timeout");
      });
      if (reply) t.replyEmpty(reply);
      return;
    }
    this.#remove(id);
    const msgs = g.msgs;
    if (msgs.length === 0) return t.replyErr(reply, newJSError("JSAtomicPublishIncompleteBatchErr"));
    for (const m of msgs) {
      for (const h of [JS_MSG_ID, JS_EXPECTED_LAST_MSG_ID]) {
        if (getHeader(h, m.hdr) !== undefined) {
          t.abandoned(id, "unsupported");
          return t.replyErr(reply, newJSError("JSAtomicPublishUnsupportedHeaderBatchErr", { header: h }));
        }
      }
    }
    t.commit(id, msgs, reply);
  }

  #remove(id: string): Group | undefined {
    const g = this.#groups.get(id);
    if (g === undefined) return undefined;
    g.cancel();
    this.#groups.delete(id);
    this.#t.inflight.n--;
    return g;
  }

  #abandon(id: string, reason: BatchAbandonReason): void {
    if (this.#remove(id) !== undefined) this.#t.abandoned(id, reason);
  }

  /** Drops every batch (stream stop/delete, or atomic publish turned off). */
  clear(): void {
    for (const id of [...this.#groups.keys()]) this.#remove(id);
  }
}
