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
  JS_EXPECTED_LAST_SUBJ_SEQ,
  JS_EXPECTED_LAST_SUBJ_SEQ_SUBJ,
  JS_MSG_ID,
  JS_MSG_ROLLUP,
  JS_SCHEDULE,
  JS_SCHEDULE_TTL,
  ROLLUP_ALL,
  ROLLUP_SUBJECT,
} from "./_headers.ts";
import { parseSchedule } from "./_stream_schedule.ts";
import { parseTtl } from "./_ttl.ts";

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

/** The stream settings the staging checks read. */
export interface StageFlags {
  allowRollup: boolean;
  denyPurge: boolean;
  allowTtl: boolean;
  allowSchedules: boolean;
}

/** Checks one staged message of a committing batch before it is stored; returns the refusal or undefined. */
export type StageCheck = (m: StagedMsg) => ApiError | undefined;

/** What the batcher needs of its stream. */
export interface BatchTarget {
  allowAtomic(): boolean;
  /** The stream settings for the staging checks (read at the commit). */
  stageFlags(): StageFlags;
  limits(): BatchLimits;
  /** The server-wide in-flight counter (shared by all streams). */
  readonly inflight: { n: number };
  after(ms: number, fn: () => void): () => void;
  replyErr(reply: string | undefined, err: ApiError): void;
  /** An empty reply acknowledging a staged message the client asked an ack for. */
  replyEmpty(reply: string): void;
  /**
   * Stores every message or none; `check` runs on each message, in order, right before it is stored, and its
   * refusal fails the batch like a refusal of the store path.
   */
  commit(batchId: string, msgs: StagedMsg[], reply: string | undefined, check: StageCheck): void;
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
    // Past the size limit the batch is dropped and the message refused as too large, whether the batch is still
    // in flight or was dropped already (a commit after an oversized batch is told why).
    if (seq > lim.maxSize) {
      this.#abandon(id, "large");
      return t.replyErr(reply, newJSError("JSAtomicPublishTooLargeBatchErrF", { size: lim.maxSize }));
    }
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
    t.commit(id, msgs, reply, stageChecker(t.stageFlags()));
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

/**
 * The checks a message gets as it is staged into a committing batch, beyond those of the store path: a subject
 * written earlier in the batch cannot carry a last-sequence expectation nor be rolled up again, a rollup of the
 * whole stream must come first, rollup headers need the stream's permission, and a schedule's TTL is checked
 * before its target. Behaviour follows nats-server server/jetstream_batching.go
 * (checkMsgHeadersPreClusteredProposal).
 */
export function stageChecker(f: StageFlags): StageCheck {
  const written = new Set<string>();
  return (m) => {
    const err = checkStaged(f, written, m);
    written.add(m.subject);
    return err;
  };
}

function checkStaged(f: StageFlags, written: Set<string>, m: StagedMsg): ApiError | undefined {
  const hdr = m.hdr;
  if (hdr === undefined) return undefined;
  if ((getHeader(JS_EXPECTED_LAST_SUBJ_SEQ, hdr) ?? "") !== "") {
    const on = getHeader(JS_EXPECTED_LAST_SUBJ_SEQ_SUBJ, hdr) || m.subject;
    if (written.has(on)) return newJSError("JSStreamWrongLastSequenceConstantErr");
  }
  let implied = "";
  const sched = getHeader(JS_SCHEDULE, hdr);
  if (sched !== undefined && f.allowSchedules && parseSchedule(sched) !== undefined) {
    const ttl = getHeader(JS_SCHEDULE_TTL, hdr);
    if (ttl !== undefined) {
      if (parseTtl(ttl) === undefined) return newJSError("JSMessageSchedulesTTLInvalidErr");
      if (!f.allowTtl) return newJSError("JSMessageTTLDisabledErr");
    }
    implied = ROLLUP_SUBJECT;
  }
  const explicit = getHeader(JS_MSG_ROLLUP, hdr) ?? "";
  if (explicit !== "" && (!f.allowRollup || f.denyPurge)) {
    return newJSError("JSStreamRollupFailedF", { err: "rollup not permitted" });
  }
  const rollup = explicit || implied;
  if (rollup === ROLLUP_SUBJECT) {
    if (written.has(m.subject)) {
      return newJSError("JSStreamRollupFailedF", { err: "batch rollup sub invalid" });
    }
  } else if (rollup === ROLLUP_ALL) {
    if (written.size > 0) return newJSError("JSStreamRollupFailedF", { err: "batch rollup all invalid" });
  } else if (rollup !== "") {
    return newJSError("JSStreamRollupFailedF", { err: `rollup value invalid: ${JSON.stringify(rollup)}` });
  }
  return undefined;
}
