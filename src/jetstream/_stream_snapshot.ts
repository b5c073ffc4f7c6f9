// Stream snapshot and restore over the API: STREAM.SNAPSHOT sends chunks to the requester's deliver subject
// with `$JS.SNAPSHOT.ACK.<stream>.<id>.<size>.<n>` replies for flow control, then an empty EOF message;
// STREAM.RESTORE answers with `$JS.SNAPSHOT.RESTORE.<stream>.<id>`, takes chunks there (each acked) until an
// empty message, then creates the stream. Behaviour follows nats-server server/jetstream_api.go
// (jsStreamSnapshotRequest, streamSnapshot, jsStreamRestoreRequest, processStreamRestore).
//
// The archive is nats-server's (see _snapshot_archive.ts): an S2-framed tar of meta.inf, message blocks and
// consumer state, so snapshots move between natsdeno and nats-server both ways. Restores also read
// natsdeno's earlier own format, detected by its magic: "NDSNAP1\n", a u32 length and the JSON
// {config, state}, then one record per message (u64 seq, u64 ts ns, u16 subject length, u32 header length,
// u32 body length, u32 zero, subject, header, body), little-endian.
//
// A snapshot is made piece by piece as chunks go out (~20 ms of work per event-loop turn), after waiting up to
// 2 s for a listener; past the 8 MiB window one chunk goes per 10 ms without acks, and a deliver subject with
// no interest left ends it. A restore reads the archive over several turns, then creates the stream, its
// messages (limits applied as on recovery) and consumers in one go; a failure (archive, stream or consumer)
// removes what was made and answers "restore failed: <reason>" (10062) as the reference does.

import type { StreamStore } from "../store/mod.ts";
import { decoder, encoder, Nuid } from "../util/mod.ts";
import type { ApiDispatcher, ApiRequest } from "./_api.ts";
import type { JsAccount } from "./jetstream.ts";
import { ApiError, newJSError } from "./api_errors.ts";
import { B, decodeStruct, INT, parseJson, S } from "./_json.ts";
import {
  checkStreamCfg,
  decodeStreamConfig,
  type StreamCfgContext,
  type StreamConfig,
} from "./_stream_config.ts";
import { storeConfig, Stream } from "./stream.ts";
import { isValidSubject } from "../sublist/mod.ts";
import { getHeader, JS_MSG_TTL, nowNs, rfc3339Nano } from "./_headers.ts";
import { parseTtl } from "./_ttl.ts";
import { archiveChunks, type ArchiveConsumer, readArchiveSteps } from "./_snapshot_archive.ts";
import { Consumer } from "./consumer.ts";
import { addConsumer } from "./_consumer_api.ts";
import { consumerConfigJson, decodeConsumerConfig } from "./_consumer_config.ts";
import { saveStreamMeta } from "./_fs_meta_json.ts";

const MAGIC = encoder.encode("NDSNAP1\n");

/** A decoded snapshot in the earlier natsdeno format. */
interface Snapshot {
  meta: Record<string, unknown>;
  msgs: { seq: number; ts: bigint; subject: string; hdr: Uint8Array | undefined; msg: Uint8Array }[];
}

/** True when `b` starts with the earlier natsdeno format's magic. */
function isNdSnap(b: Uint8Array): boolean {
  return b.length >= MAGIC.length + 4 && MAGIC.every((c, i) => b[i] === c);
}

/** Decodes an earlier-format snapshot; throws RangeError when it is truncated. */
function readNdSnapshot(b: Uint8Array): Snapshot {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = MAGIC.length;
  const ml = dv.getUint32(o, true);
  o += 4;
  if (o + ml > b.length) throw new RangeError("snapshot truncated");
  const meta = JSON.parse(decoder.decode(b.subarray(o, o + ml)));
  o += ml;
  const msgs: Snapshot["msgs"] = [];
  while (o < b.length) {
    if (o + 30 > b.length) throw new RangeError("snapshot truncated");
    const seq = Number(dv.getBigUint64(o, true));
    const ts = dv.getBigUint64(o + 8, true);
    const sl = dv.getUint16(o + 16, true);
    const hl = dv.getUint32(o + 18, true);
    const bl = dv.getUint32(o + 22, true);
    o += 30;
    if (o + sl + hl + bl > b.length) throw new RangeError("snapshot truncated");
    const subject = decoder.decode(b.subarray(o, o + sl));
    o += sl;
    const hdr = hl > 0 ? b.slice(o, o + hl) : undefined;
    o += hl;
    const msg = b.slice(o, o + bl);
    o += bl;
    msgs.push({ seq, ts, subject, hdr, msg });
  }
  return { meta, msgs };
}

/**
 * Loads messages into an empty store, keeping sequences (gaps become skipped sequences). A deleted last
 * sequence keeps its time (`lastTs`) by storing a stand-in there and removing it.
 */
function restoreInto(
  store: StreamStore,
  msgs: Snapshot["msgs"],
  firstSeq: number,
  lastSeq: number,
  lastTs: bigint,
  opts: { msgTtls: boolean; limited: boolean },
): void {
  const lastLive = msgs.length > 0 ? msgs[msgs.length - 1].seq : 0;
  // (Not under message or byte limits: storing the stand-in could push a restored message out.)
  const standIn = lastTs > 0n && lastSeq > lastLive && !opts.limited;
  let head = firstSeq - 1;
  if (standIn && head >= lastSeq) head = lastSeq - 1;
  let next = 1;
  if (head >= 1) {
    store.skipMsgs(1, head);
    next = head + 1;
  }
  for (const m of msgs) {
    if (m.seq > next) store.skipMsgs(next, m.seq - next);
    // Per-message TTLs come back from their headers.
    let ttl = 0n;
    if (opts.msgTtls && m.hdr !== undefined) {
      const v = getHeader(JS_MSG_TTL, m.hdr);
      if (v !== undefined && v !== "") ttl = parseTtl(v) ?? 0n;
    }
    store.storeRawMsg(m.subject, m.hdr, m.msg, m.seq, m.ts, ttl);
    next = m.seq + 1;
  }
  if (lastSeq < next) return;
  if (standIn) {
    if (lastSeq > next) store.skipMsgs(next, lastSeq - next);
    store.storeRawMsg("_restore_", undefined, new Uint8Array(0), lastSeq, lastTs);
    store.removeMsg(lastSeq);
  } else store.skipMsgs(next, lastSeq - next + 1);
}

// ---- API handlers ------------------------------------------------------------------------------------------

/** What the snapshot handlers borrow from the stream API. */
export interface SnapshotApiDeps {
  cfgContext(jsa: JsAccount, cfg: { storage?: string }): StreamCfgContext;
  checkAccountLimits(jsa: JsAccount, cfg: StreamConfig): void;
  subscribeDirect(jsa: JsAccount, s: Stream): void;
}

const DEFAULT_CHUNK = 128 * 1024;
const WINDOW = 8 * 1024 * 1024;
const T = "io.nats.jetstream.api.v1.";

/** Registers STREAM.SNAPSHOT and STREAM.RESTORE. */
export function registerSnapshotApi(d: ApiDispatcher, deps: SnapshotApiDeps): void {
  const nuid = new Nuid();
  const client = (info: ApiRequest) => ({ acc: info.jsa.account.name, kind: "Client" });

  d.register("STREAM.SNAPSHOT.*", "stream_snapshot_response", (req) => {
    const jsa = req.jsa;
    if (req.body.trim() === "") throw newJSError("JSBadRequestErr");
    const name = req.tokens[2];
    const s = jsa.streams.get(name);
    if (s === undefined) throw newJSError("JSStreamNotFoundErr");
    const r = decodeStruct(parseJson(req.body), "JSApiStreamSnapshotRequest", {
      "deliver_subject": S,
      "no_consumers": B,
      "chunk_size": INT,
      jsck: B,
    }, jsa.js.strict) as { "deliver_subject"?: string; "chunk_size"?: number; "no_consumers"?: boolean };
    const deliver = r.deliver_subject ?? "";
    if (deliver === "" || !isValidSubject(deliver)) throw newJSError("JSSnapshotDeliverSubjectInvalidErr");
    const info = s.infoJson();
    const gen = archiveChunks({
      name,
      created: s.created,
      config: info.config as Record<string, unknown>,
      store: s.store,
      consumers: r.no_consumers ? [] : archiveConsumers(s),
    });
    const start = nowNs();
    d.advisory(jsa, `$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_CREATE.${name}`, {
      type: "io.nats.jetstream.advisory.v1.snapshot_create",
      id: nuid.next(),
      timestamp: rfc3339Nano(start),
      stream: name,
      state: info.state,
      client: client(req),
      domain: jsa.js.domain || undefined,
    });
    const chunk = Math.max(1024, Math.min(r.chunk_size || DEFAULT_CHUNK, 1024 * 1024));
    const ackSubj = `$JS.SNAPSHOT.ACK.${name}.${nuid.next()}`;
    const timers = jsa.js.server.timers;
    // Archive bytes made but not sent yet, and what is sent but not acked.
    const queue: Uint8Array[] = [];
    let queued = 0;
    let eof = false;
    let out = 0;
    let index = 0;
    let done = false;
    let timer: ReturnType<typeof timers.after> | undefined;
    const ackSub = jsa.client.subscribeInternal(`${ackSubj}.>`, (_s, _c, subject) => {
      const size = Number(subject.split(".")[5]);
      if (Number.isFinite(size)) out -= size;
      if (timer === undefined || out <= WINDOW) pump(false);
    });
    const finish = () => {
      done = true;
      timers.cancel(timer);
      gen.return();
      jsa.client.unsubscribeInternal(ackSub);
      jsa.client.publishInternal(deliver, undefined, undefined, new Uint8Array(0));
      d.advisory(jsa, `$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.${name}`, {
        type: "io.nats.jetstream.advisory.v1.snapshot_complete",
        id: nuid.next(),
        timestamp: rfc3339Nano(nowNs()),
        stream: name,
        start: rfc3339Nano(start),
        end: rfc3339Nano(nowNs()),
        client: client(req),
        domain: jsa.js.domain || undefined,
      });
    };
    const sendChunk = () => {
      const n = Math.min(chunk, queued);
      let c: Uint8Array;
      if (queue[0].length >= n) {
        c = queue[0].subarray(0, n);
        queue[0] = queue[0].subarray(n);
        if (queue[0].length === 0) queue.shift();
      } else {
        c = new Uint8Array(n);
        for (let o = 0; o < n;) {
          const k = Math.min(n - o, queue[0].length);
          c.set(queue[0].subarray(0, k), o);
          o += k;
          queue[0] = queue[0].subarray(k);
          if (queue[0].length === 0) queue.shift();
        }
      }
      queued -= n;
      index++;
      jsa.client.publishInternal(deliver, `${ackSubj}.${n}.${index}`, undefined, c);
      out += n;
    };
    // Makes archive bytes and sends full chunks while under the window, for at most ~20 ms per turn. Past the
    // window it waits for an ack or 10 ms and then sends one chunk anyway, as the reference does; a deliver
    // subject nobody listens on any more ends the snapshot.
    const pump = (timedOut: boolean) => {
      if (done) return;
      timers.cancel(timer);
      timer = undefined;
      if (timedOut && out > WINDOW && !interested()) return finish();
      const t0 = performance.now();
      let force = timedOut;
      for (;;) {
        if (queued < chunk && !eof) {
          if (performance.now() - t0 > 20) {
            timer = timers.after(0, () => pump(false));
            return;
          }
          let r: IteratorResult<Uint8Array>;
          try {
            r = gen.next();
          } catch (e) {
            jsa.js.server.log.error(
              `JetStream snapshot of '${jsa.account.name} > ${name}' failed: ${(e as Error).message}`,
            );
            return finish();
          }
          if (r.done) eof = true;
          else if (r.value.length > 0) {
            queue.push(r.value);
            queued += r.value.length;
          }
          continue;
        }
        if (queued === 0) return finish();
        if (out > WINDOW && !force) break;
        force = false;
        sendChunk();
      }
      timer = timers.after(10, () => pump(true));
    };
    // The response goes first; the chunks follow once the dispatcher has sent it.
    // Like the reference, wait up to 2 s for someone to listen on the deliver subject before sending.
    const interested = () => {
      const m = jsa.account.sl.match(deliver);
      return m.psubs.length + m.qsubs.length > 0;
    };
    const waitUntil = performance.now() + 2_000;
    const begin = () => {
      if (interested() || performance.now() >= waitUntil) return pump(false);
      timer = timers.after(20, begin);
    };
    queueMicrotask(begin);
    return { config: info.config, state: info.state };
  });

  d.register("STREAM.RESTORE.*", "stream_restore_response", (req) => {
    const jsa = req.jsa;
    if (req.body.trim() === "") throw newJSError("JSBadRequestErr");
    const name = req.tokens[2];
    const body = parseJson(req.body) as { config?: unknown; state?: Record<string, unknown> };
    const { cfg: raw } = decodeStreamConfig(body?.config ?? {}, jsa.js.strict);
    if (!raw.name) raw.name = name;
    if (raw.name !== name) throw newJSError("JSStreamMismatchErr");
    const cfg = checkStreamCfg(raw, deps.cfgContext(jsa, raw));
    if (cfg instanceof ApiError) throw cfg;
    deps.checkAccountLimits(jsa, cfg);
    if (jsa.streams.has(name)) throw newJSError("JSStreamNameExistRestoreFailedErr");
    const deliver = `$JS.SNAPSHOT.RESTORE.${name}.${nuid.next()}`;
    const parts: Uint8Array[] = [];
    let total = 0;
    const start = nowNs();
    d.advisory(jsa, `$JS.EVENT.ADVISORY.STREAM.RESTORE_CREATE.${name}`, {
      type: "io.nats.jetstream.advisory.v1.restore_create",
      id: nuid.next(),
      timestamp: rfc3339Nano(start),
      stream: name,
      client: client(req),
      domain: jsa.js.domain || undefined,
    });
    let idle: ReturnType<typeof jsa.js.server.timers.after> | undefined;
    const arm = () => {
      if (idle !== undefined) jsa.js.server.timers.cancel(idle);
      // A restore that goes 5 s without a chunk is stalled: dropped without an answer, as the reference does.
      idle = jsa.js.server.timers.after(5_000, () => jsa.client.unsubscribeInternal(sub));
    };
    const complete = () =>
      d.advisory(jsa, `$JS.EVENT.ADVISORY.STREAM.RESTORE_COMPLETE.${name}`, {
        type: "io.nats.jetstream.advisory.v1.restore_complete",
        id: nuid.next(),
        timestamp: rfc3339Nano(nowNs()),
        stream: name,
        start: rfc3339Nano(start),
        end: rfc3339Nano(nowNs()),
        bytes: total,
        client: client(req),
        domain: jsa.js.domain || undefined,
      });
    const sub = jsa.client.subscribeInternal(deliver, (_s, _c, _subj, reply, _h, payload) => {
      arm();
      if (!reply) {
        // Every chunk needs a reply subject (acks, the final answer): without one the restore is cancelled.
        if (idle !== undefined) jsa.js.server.timers.cancel(idle);
        jsa.client.unsubscribeInternal(sub);
        jsa.js.server.log.warn(
          `restore for stream '${jsa.account.name} > ${name}' requires reply subject for each chunk`,
        );
        return complete();
      }
      if (payload.length > 0) {
        parts.push(payload.slice());
        total += payload.length;
        jsa.client.publishInternal(reply, undefined, undefined, new Uint8Array(0));
        return;
      }
      if (idle !== undefined) jsa.js.server.timers.cancel(idle);
      jsa.client.unsubscribeInternal(sub);
      finishRestore(jsa, cfg, parts, total, deps, (resp) => {
        const body = encoder.encode(JSON.stringify({ type: T + "stream_create_response", ...resp }));
        jsa.client.publishInternal(reply, undefined, undefined, body);
        complete();
      });
    });
    arm();
    return { "deliver_subject": deliver };
  });
}

/** The consumers a snapshot carries: every consumer but the internal ones of mirrors and sources. */
function archiveConsumers(s: Stream): ArchiveConsumer[] {
  const out: ArchiveConsumer[] = [];
  for (const c of s.consumers.values()) {
    if (!(c instanceof Consumer) || c.config.direct) continue;
    out.push({
      name: c.name,
      config: consumerConfigJson(c.config),
      created: c.created,
      state: c.store.state(),
    });
  }
  return out;
}

/**
 * Reads the archive a restore received, over as many event-loop turns as it takes (~20 ms of work each),
 * then creates the stream, its messages and consumers in one go; `done` gets the response body.
 */
function finishRestore(
  jsa: JsAccount,
  cfg: StreamConfig,
  parts: Uint8Array[],
  total: number,
  deps: SnapshotApiDeps,
  done: (resp: Record<string, unknown>) => void,
): void {
  const buf = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  parts.length = 0;
  const fail = (err: string) => ({ error: newJSError("JSStreamRestoreErrF", { err }) });
  if (isNdSnap(buf)) {
    let snap: Snapshot;
    try {
      snap = readNdSnapshot(buf);
    } catch (e) {
      return done(fail((e as Error).message));
    }
    const st = (snap.meta.state ?? {}) as { "first_seq"?: number; "last_seq"?: number };
    const a = { msgs: snap.msgs, firstSeq: st.first_seq ?? 0, lastSeq: st.last_seq ?? 0, lastTs: 0n };
    return done(createRestored(jsa, cfg, deps, a));
  }
  // The paths the reference would name in its file errors (it unpacks into a staging directory).
  const acc = `${jsa.js.storeDir}/${jsa.account.name}`;
  const stage = `${acc}/__snapshots__/snap-${Math.floor(Math.random() * 4e9)}`;
  const steps = readArchiveSteps(buf, {
    account: jsa.account.name,
    stage,
    stream: `${acc}/streams/${cfg.name}`,
  });
  const step = () => {
    const t0 = performance.now();
    try {
      for (;;) {
        const r = steps.next();
        if (r.done) {
          if (r.value.name !== cfg.name) return done(fail("stream names do not match"));
          return done(createRestored(jsa, cfg, deps, r.value));
        }
        if (performance.now() - t0 > 20) break;
      }
    } catch (e) {
      return done(fail((e as Error).message));
    }
    jsa.js.server.timers.after(0, step);
  };
  step();
}

/** What a restore creates the stream from. */
interface Restored {
  msgs: Snapshot["msgs"];
  firstSeq: number;
  lastSeq: number;
  lastTs: bigint;
  created?: bigint;
  consumers?: ArchiveConsumer[];
}

/** Creates the restored stream with its messages and consumers; the response body. */
function createRestored(
  jsa: JsAccount,
  cfg: StreamConfig,
  deps: SnapshotApiDeps,
  a: Restored,
): Record<string, unknown> {
  const fail = (err: string) => ({ error: newJSError("JSStreamRestoreErrF", { err }) });
  if (jsa.streams.has(cfg.name)) return { error: newJSError("JSStreamNameExistRestoreFailedErr") };
  let store: StreamStore | undefined;
  try {
    // Limits apply to restored messages as on recovery: the oldest go, whatever the discard policy says.
    const loading = storeConfig(cfg);
    const discardNew = loading.discardNew || loading.discardNewPerSubject;
    loading.discardNew = false;
    loading.discardNewPerSubject = false;
    store = jsa.js.newStreamStore(loading, `${jsa.js.storeDir}/${jsa.account.name}/streams/${cfg.name}`);
    restoreInto(store, a.msgs, a.firstSeq, a.lastSeq, a.lastTs, {
      msgTtls: cfg.allow_msg_ttl === true,
      limited: cfg.max_msgs > 0 || cfg.max_bytes > 0,
    });
    if (discardNew) store.updateConfig(storeConfig(cfg));
  } catch (e) {
    store?.delete();
    return fail((e as Error).message);
  }
  const s = new Stream(jsa.host, cfg, store, a.created);
  try {
    saveStreamMeta(s);
  } catch (e) {
    s.delete();
    return fail((e as Error).message);
  }
  // The stream counts what it was created with against the account, as a recovered one does.
  jsa.host.updateUsage(cfg.storage, store.fastState().bytes);
  jsa.streams.set(cfg.name, s);
  s.start();
  jsa.js.api.streamAction(jsa, cfg.name, "create");
  for (const ac of a.consumers ?? []) {
    try {
      const ccfg = decodeConsumerConfig(ac.config, false);
      if (!ccfg.durable_name && !ccfg.name) ccfg.name = ac.name;
      const c = addConsumer(jsa, s, ccfg);
      if (ac.state !== undefined) c.restoreState(ac.state, ac.created);
    } catch (e) {
      // The reference stops the stream it made; nothing of the restore stays.
      s.delete();
      jsa.streams.delete(cfg.name);
      jsa.js.api.streamAction(jsa, cfg.name, "delete");
      const why = e instanceof ApiError ? e.description : (e as Error).message;
      return fail(`error restoring consumer [${JSON.stringify(ac.name)}]: ${why}`);
    }
  }
  if (cfg.allow_direct) deps.subscribeDirect(jsa, s);
  return s.infoJson({ versioned: true });
}
