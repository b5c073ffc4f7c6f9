// The JetStream API dispatcher: `$JS.API.>` (and `$JS.<domain>.API.>`) in each account, request decoding,
// the stream handlers and their response shapes. Behaviour follows nats-server server/jetstream_api.go.

import * as fs from "node:fs";
import type { Account, Client, Subscription } from "../server/mod.ts";
import { clientInfo } from "../server/mod.ts";
import { isValidSubject, subjectIsSubsetMatch } from "../sublist/mod.ts";
import { decoder, encoder, Nuid } from "../util/mod.ts";
import { ApiError, newJSError } from "./api_errors.ts";
import { ANY, B, decodeStruct, I64, INT, JsonDecodeError, parseJson, S, type Schema, U64 } from "./_json.ts";
import {
  buildHeaders,
  getHeader,
  JS_LAST_SEQUENCE,
  JS_NUM_PENDING,
  JS_REQUIRED_API_LEVEL,
  JS_SEQUENCE,
  JS_STREAM,
  JS_SUBJECT,
  JS_TIME_STAMP,
  JS_UP_TO_SEQUENCE,
  nowNs,
  parseHeaders,
  parseRfc3339,
  rfc3339Nano,
} from "./_headers.ts";
import {
  checkStreamCfg,
  checkStreamUpdate,
  decodeStreamConfig,
  type StreamConfig,
} from "./_stream_config.ts";
import { storeConfig, Stream } from "./stream.ts";
import type { JetStream, JsAccount } from "./jetstream.ts";
import { JS_API_LEVEL } from "./jetstream.ts";
import { registerSnapshotApi } from "./_stream_snapshot.ts";
import { copyStreamMetadata, setStaticStreamMetadata } from "./_versioning.ts";
import { saveStreamMeta } from "./_fs_meta_json.ts";

const T = "io.nats.jetstream.api.v1.";
const JS_API_PREFIX = "$JS.API.";
const MAX_NAMES = 1024;
const MAX_LIST = 256;
const MAX_SUBJECT_DETAILS = 100_000;

/** A request as a handler sees it. */
export interface ApiRequest {
  jsa: JsAccount;
  /** The subject with any domain prefix mapped to `$JS.API.`. */
  subject: string;
  /** Tokens after `$JS.API.`. */
  tokens: string[];
  reply: string;
  hdr: Uint8Array | undefined;
  /** The body as text. */
  body: string;
}

/** A handler returns the response object (without `type`), or undefined when it replied itself. */
export type ApiHandler = (req: ApiRequest) => Record<string, unknown> | undefined;

interface Route {
  /** Tokens after `$JS.API.`; "*" matches one token, ">" the rest. */
  pattern: string[];
  type: string;
  handler: ApiHandler;
}

/** Routes `$JS.API.*` requests to handlers and counts them. Consumers register their routes here. */
export class ApiDispatcher {
  readonly js: JetStream;
  #routes: Route[] = [];
  /** Handles `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>` (set by the consumer API). */
  onNextMsg:
    | ((jsa: JsAccount, stream: string, consumer: string, reply: string, payload: Uint8Array) => void)
    | undefined;
  #nuid = new Nuid();

  constructor(js: JetStream) {
    this.js = js;
    registerStreamApi(this);
  }

  /**
   * Adds a route. `pattern` is the subject after `$JS.API.` with `*`/`>` wildcards, `type` the response type
   * suffix (e.g. "consumer_create_response"). Later registrations win over earlier ones for the same pattern.
   */
  register(pattern: string, type: string, handler: ApiHandler): void {
    this.#routes.unshift({ pattern: pattern.split("."), type, handler });
  }

  /** Subscribes the account's JetStream client to the API subjects. */
  subscribe(jsa: JsAccount): void {
    const cb = (
      subject: string,
      reply: string | undefined,
      hdr: Uint8Array | undefined,
      payload: Uint8Array,
      from?: Client,
    ) => this.dispatch(jsa, subject, reply, hdr, payload, from);
    jsa.client.subscribeInternal(
      "$JS.API.>",
      (_s, c, subj, reply, hdr, payload) => cb(subj, reply, hdr, payload, c),
    );
    if (this.js.domain !== "") {
      const pfx = `$JS.${this.js.domain}.API.`;
      jsa.client.subscribeInternal(`${pfx}>`, (_s, _c, subj, reply, hdr, payload) => {
        cb(JS_API_PREFIX + subj.slice(pfx.length), reply, hdr, payload);
      });
    }
  }

  /** Answers API requests in an account without JetStream. */
  subscribeDisabled(acc: Account, client: Client): Subscription {
    return client.subscribeInternal("$JS.API.>", (_s, _c, subj, reply) => {
      // Pull requests and direct gets get no "not enabled" answer (the reference drops them at its import).
      if (!reply || subj.startsWith("$JS.API.DIRECT.") || subj.startsWith("$JS.API.CONSUMER.MSG.NEXT.")) {
        return;
      }
      const route = this.#match(subj.slice(JS_API_PREFIX.length).split("."));
      const type = route ? T + route.type : T + "system_response";
      send(client, reply, { type, error: newJSError("JSNotEnabledForAccountErr") });
      void acc;
    });
  }

  #match(tokens: string[]): Route | undefined {
    outer: for (const r of this.#routes) {
      const p = r.pattern;
      for (let i = 0; i < p.length; i++) {
        if (p[i] === ">") {
          if (tokens.length > i) return r;
          continue outer;
        }
        if (i >= tokens.length) continue outer;
        if (p[i] !== "*" && p[i] !== tokens[i]) continue outer;
      }
      if (p.length === tokens.length) return r;
    }
    return undefined;
  }

  /** Handles one request: routing, api level gate, the handler, the reply and the audit advisory. */
  dispatch(
    jsa: JsAccount,
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
    from?: Client,
  ): void {
    const tokens = subject.slice(JS_API_PREFIX.length).split(".");
    // Pull requests go to the consumer and are not API calls (the reference keeps them out of its API import).
    if (tokens[0] === "CONSUMER" && tokens[1] === "MSG" && tokens[2] === "NEXT") {
      if (reply && tokens.length === 5) this.onNextMsg?.(jsa, tokens[3], tokens[4], reply, payload);
      return;
    }
    // Direct gets are served by the streams' own subscriptions.
    if (tokens[0] === "DIRECT") return;
    if (!reply) return;
    const js = this.js;
    const route = this.#match(tokens);
    // A subject no API serves gets no answer (the reference short-circuits before counting it).
    if (route === undefined) return;
    js.apiTotal++;
    const body = payload.length > 0 ? decoder.decode(payload) : "";
    let resp: Record<string, unknown> | undefined;
    const lvl = getHeader(JS_REQUIRED_API_LEVEL, hdr);
    if (lvl !== undefined && lvl !== "" && !(Number(lvl) <= JS_API_LEVEL)) {
      resp = { error: newJSError("JSRequiredApiLevelErr") };
    } else {
      try {
        resp = route.handler({ jsa, subject, tokens, reply, hdr, body });
      } catch (e) {
        if (e instanceof ApiError) resp = { error: e };
        else if (e instanceof JsonDecodeError) {
          resp = { error: newJSError("JSInvalidJSONErr", { err: e.message }) };
        } else {
          js.server.log.error(`JetStream API request on "${subject}" failed: ${(e as Error)?.stack ?? e}`);
          resp = { error: newJSError("JSStreamGeneralErrorF", { err: (e as Error)?.message ?? String(e) }) };
        }
      }
    }
    if (resp === undefined) return;
    const out = { type: T + route.type, ...resp };
    if (UNTRACKED.has(resp)) {
      jsa.client.publishInternal(reply, undefined, undefined, encoder.encode(JSON.stringify(out)));
      return;
    }
    // The account's counters move after its INFO response is built, as the reference counts on send.
    jsa.apiTotal++;
    if (resp.error !== undefined && !UNCOUNTED.has(resp.error as ApiError)) {
      js.apiErrors++;
      jsa.apiErrors++;
    }
    const text = JSON.stringify(out);
    jsa.client.publishInternal(reply, undefined, undefined, encoder.encode(text));
    this.#audit(jsa, subject, body, text, from);
  }

  #audit(jsa: JsAccount, subject: string, request: string, response: string, from?: Client): void {
    // The requester's details (host, user, lang, …) as the reference reports them; the account alone when the
    // request came from an internal client.
    const ci = from !== undefined && from.kind === "Client" ? clientInfo(from, true) : undefined;
    const adv = {
      type: "io.nats.jetstream.advisory.v1.api_audit",
      id: this.#nuid.next(),
      timestamp: rfc3339Nano(nowNs()),
      server: this.js.server.name,
      client: ci ?? { acc: jsa.account.name, kind: "Client" },
      subject,
      request,
      response,
      domain: this.js.domain || undefined,
    };
    this.advisory(jsa, "$JS.EVENT.ADVISORY.API", adv);
  }

  /** Publishes an advisory in the account when someone listens. */
  advisory(jsa: JsAccount, subject: string, body: Record<string, unknown>): void {
    if (
      jsa.account.sl.match(subject).psubs.length === 0 && jsa.account.sl.match(subject).qsubs.length === 0
    ) return;
    jsa.client.publishInternal(subject, undefined, undefined, encoder.encode(JSON.stringify(body)));
  }

  /** A stream_action advisory (create/update/delete). */
  streamAction(jsa: JsAccount, stream: string, action: "create" | "update" | "delete"): void {
    const word = action === "create" ? "CREATED" : action === "update" ? "UPDATED" : "DELETED";
    this.advisory(jsa, `$JS.EVENT.ADVISORY.STREAM.${word}.${stream}`, {
      type: "io.nats.jetstream.advisory.v1.stream_action",
      id: this.#nuid.next(),
      timestamp: rfc3339Nano(nowNs()),
      stream,
      action,
      domain: this.js.domain || undefined,
    });
  }
}

function send(client: Client, reply: string, body: Record<string, unknown>): void {
  client.publishInternal(reply, undefined, undefined, encoder.encode(JSON.stringify(body)));
}

/** Parses a JSON body against a schema; empty body → `{}`. */
function decodeBody(req: ApiRequest, name: string, schema: Schema): Record<string, unknown> {
  if (req.body.trim() === "") return {};
  return decodeStruct(parseJson(req.body), name, schema, req.jsa.js.strict);
}

/** Errors the reference sends as plain responses, not counted in the account's api.errors. */
const UNCOUNTED = new WeakSet<ApiError>();
/** Responses the reference sends around the API layer: not counted, no audit advisory (message contents). */
const UNTRACKED = new WeakSet<object>();

function lookupStream(jsa: JsAccount, name: string): Stream {
  const s = jsa.streams.get(name);
  if (s === undefined) throw newJSError("JSStreamNotFoundErr");
  return s;
}

/** As nats-server: no payload, or a JSON object without members (`{}`, ` { } `); whitespace alone is not. */
export function isEmptyRequest(body: string): boolean {
  if (body === "" || body === "{}") return true;
  try {
    const v = JSON.parse(body);
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
  } catch {
    return false;
  }
}

function requireEmpty(req: ApiRequest): void {
  if (!isEmptyRequest(req.body)) throw newJSError("JSNotEmptyRequestErr");
}

const PAGED: Schema = { offset: INT, subject: S };
const INFO_REQ: Schema = { offset: INT, "deleted_details": B, "subjects_filter": S };
const PURGE_REQ: Schema = { filter: S, seq: U64, keep: U64 };
const MSG_DELETE_REQ: Schema = { seq: U64, "no_erase": B };
const MSG_GET_REQ: Schema = {
  seq: U64,
  "last_by_subj": S,
  "next_by_subj": S,
  batch: INT,
  "max_bytes": INT,
  "start_time": S,
  "multi_last": { t: "list", of: S },
  "up_to_seq": U64,
  "up_to_time": S,
  "no_hdr": B,
};

function accountInfo(req: ApiRequest): Record<string, unknown> {
  const jsa = req.jsa;
  const l = jsa.limits;
  const o: Record<string, unknown> = {
    memory: jsa.memory,
    storage: jsa.storage,
    streams: jsa.streams.size,
    consumers: jsa.numConsumers(),
    limits: {
      "max_memory": l.maxMemory,
      "max_storage": l.maxStore,
      "max_streams": l.maxStreams,
      "max_consumers": l.maxConsumers,
      "max_ack_pending": l.maxAckPending,
      "memory_max_stream_bytes": l.memoryMaxStreamBytes,
      "storage_max_stream_bytes": l.storeMaxStreamBytes,
      "max_bytes_required": l.maxBytesRequired,
    },
  };
  if (jsa.js.domain !== "") o.domain = jsa.js.domain;
  o.api = { level: JS_API_LEVEL, total: jsa.apiTotal, errors: jsa.apiErrors };
  return o;
}

/** The account's context for checkStreamCfg (duplicate window, other streams, per-stream byte limits). */
export function cfgContext(jsa: JsAccount, cfg: { storage?: string }) {
  const mem = cfg.storage === "memory";
  const perStream = mem ? jsa.limits.memoryMaxStreamBytes : jsa.limits.storeMaxStreamBytes;
  return {
    maxDuplicatesNs: jsa.js.server.opts.jetStreamOpts.limits.duplicateWindowMs * 1e6,
    lookup: (n: string) => jsa.streams.get(n)?.config,
    maxBytesRequired: jsa.limits.maxBytesRequired,
    maxStreamBytes: perStream > 0 ? perStream : 0,
  };
}

function subjectsOverlap(jsa: JsAccount, subjects: string[], self?: string): boolean {
  for (const s of jsa.streams.values()) {
    if (s.name === self) continue;
    for (const a of s.config.subjects ?? []) {
      for (const b of subjects) {
        if (subjectIsSubsetMatch(a, b) || subjectIsSubsetMatch(b, a) || subjectsCollideLoose(a, b)) {
          return true;
        }
      }
    }
  }
  return false;
}

function subjectsCollideLoose(a: string, b: string): boolean {
  const ta = a.split(".");
  const tb = b.split(".");
  const n = Math.min(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    if (ta[i] === ">" || tb[i] === ">") return true;
    if (ta[i] !== "*" && tb[i] !== "*" && ta[i] !== tb[i]) return false;
  }
  return ta.length === tb.length;
}

/** The account-limit checks before a stream is created (jsNonClusteredStreamLimitsCheck). */
function checkAccountLimits(jsa: JsAccount, cfg: StreamConfig, existing?: StreamConfig): void {
  const l = jsa.limits;
  if (l.noLimits) throw newJSError("JSNoLimitsErr");
  if (existing === undefined && l.maxStreams > 0 && jsa.streams.size >= l.maxStreams) {
    throw newJSError("JSMaximumStreamsLimitErr");
  }
  const mem = cfg.storage === "memory";
  const max = mem ? l.maxMemory : l.maxStore;
  // An unlimited stream counts as one byte, so an account limit of 0 refuses that storage type.
  const bytes = cfg.max_bytes < 0 ? 1 : cfg.max_bytes;
  const reserved = jsa.reserved(cfg.storage, cfg.name);
  if (max >= 0 && reserved + bytes > max) {
    throw newJSError(mem ? "JSMemoryResourcesExceededErr" : "JSStorageResourcesExceededErr");
  }
  const js = jsa.js;
  const smax = mem ? js.maxMemory : js.maxStore;
  if (smax > 0 && bytes > 0 && bytes > smax) {
    throw newJSError(mem ? "JSMemoryResourcesExceededErr" : "JSStorageResourcesExceededErr");
  }
}

function createStream(req: ApiRequest): Record<string, unknown> {
  const jsa = req.jsa;
  const name = req.tokens.slice(2).join(".");
  const { cfg: raw, pedantic } = decodeStreamConfig(parseJson(req.body), jsa.js.strict);
  if (name !== raw.name) throw newJSError("JSStreamMismatchErr");
  if (/[\\/]/.test(name)) throw newJSError("JSStreamNameContainsPathSeparatorsErr");
  if (raw.sealed) {
    throw newJSError("JSStreamInvalidConfigF", { err: "stream configuration for create can not be sealed" });
  }
  if (raw.mirror_direct && raw.mirror === undefined) {
    throw newJSError("JSStreamInvalidConfigF", { err: "stream has no mirror but does have mirror direct" });
  }
  const cfg = checkStreamCfg(raw, cfgContext(jsa, raw), pedantic);
  if (cfg instanceof ApiError) throw cfg;
  if (cfg.num_replicas > 1) throw newJSError("JSStreamReplicasNotSupportedErr");
  setStaticStreamMetadata(cfg);
  const existing = jsa.streams.get(cfg.name);
  if (existing !== undefined) {
    // The same config again is no error, whatever versioning metadata either carries.
    copyStreamMetadata(cfg, existing.config);
    if (JSON.stringify(existing.config) !== JSON.stringify({ ...cfg })) {
      if (!sameConfig(existing.config, cfg)) throw newJSError("JSStreamNameExistErr");
    }
    return { ...existing.infoJson({ versioned: true }), "did_create": true };
  }
  checkAccountLimits(jsa, cfg);
  if (subjectsOverlap(jsa, cfg.subjects ?? [])) throw newJSError("JSStreamSubjectOverlapErr");
  let store;
  try {
    store = jsa.js.newStreamStore(
      storeConfig(cfg),
      `${jsa.js.storeDir}/${jsa.account.name}/streams/${cfg.name}`,
    );
  } catch (e) {
    jsa.js.server.log.warn(
      `Stream create failed for '${jsa.account.name} > ${cfg.name}': ${(e as Error).message}`,
    );
    throw newJSError("JSStreamCreateErrF", { err: (e as Error).message });
  }
  if (cfg.first_seq && cfg.first_seq > 1) store.compact(cfg.first_seq);
  const s = new Stream(jsa.host, cfg, store);
  try {
    saveStreamMeta(s);
  } catch (e) {
    s.delete();
    jsa.js.server.log.warn(
      `Stream create failed for '${jsa.account.name} > ${cfg.name}': ${(e as Error).message}`,
    );
    throw newJSError("JSStreamStoreFailedF", { err: (e as Error).message });
  }
  jsa.streams.set(cfg.name, s);
  s.start();
  if (cfg.allow_direct) subscribeDirect(jsa, s);
  jsa.js.api.streamAction(jsa, cfg.name, "create");
  return { ...s.infoJson({ versioned: true }), "did_create": true };
}

function sameConfig(a: StreamConfig, b: StreamConfig): boolean {
  const norm = (c: StreamConfig) =>
    JSON.stringify(Object.entries(c).filter(([, v]) => v !== undefined).sort());
  return norm(a) === norm(b);
}

/** A changed consumer_limits may not be below what an existing consumer already uses (updateWithAdvisory). */
function checkConsumerLimitsUpdate(s: Stream, cfg: StreamConfig): void {
  const o = s.config.consumer_limits ?? {};
  const n = cfg.consumer_limits ?? {};
  const it = n.inactive_threshold ?? 0;
  const map = n.max_ack_pending ?? 0;
  const changed = (it > 0 && it !== (o.inactive_threshold ?? 0)) ||
    (map > 0 && map !== (o.max_ack_pending ?? 0));
  if (!changed) return;
  const bad: string[] = [];
  for (const c of s.consumers.values()) {
    const cc = c.config as
      | { direct?: boolean; inactive_threshold?: number; max_ack_pending?: number }
      | undefined;
    if (cc === undefined || cc.direct) continue;
    if ((it > 0 && (cc.inactive_threshold ?? 0) > it) || (map > 0 && (cc.max_ack_pending ?? 0) > map)) {
      bad.push(c.name);
    }
  }
  if (bad.length > 0) {
    throw newJSError("JSStreamUpdateErrF", { err: `change to limits violates consumers: ${bad.join(", ")}` });
  }
}

function updateStream(req: ApiRequest): Record<string, unknown> {
  const jsa = req.jsa;
  const name = req.tokens.slice(2).join(".");
  const { cfg: raw, pedantic } = decodeStreamConfig(parseJson(req.body), jsa.js.strict);
  const checked = checkStreamCfg(raw, cfgContext(jsa, raw), pedantic);
  if (checked instanceof ApiError) throw checked;
  if (name !== checked.name) throw newJSError("JSStreamMismatchErr");
  const s = lookupStream(jsa, name);
  if (checked.num_replicas > 1) throw newJSError("JSStreamReplicasNotSupportedErr");
  const cfg = checkStreamUpdate(s.config, checked);
  if (cfg instanceof ApiError) throw cfg;
  setStaticStreamMetadata(cfg);
  checkAccountLimits(jsa, cfg, s.config);
  if (subjectsOverlap(jsa, cfg.subjects ?? [], name)) throw newJSError("JSStreamSubjectOverlapErr");
  checkConsumerLimitsUpdate(s, cfg);
  // The new config is on disk before it applies: an update that cannot be saved changes nothing.
  try {
    saveStreamMeta(s, cfg);
  } catch (e) {
    throw newJSError("JSStreamUpdateErrF", { err: (e as Error).message });
  }
  const hadDirect = s.config.allow_direct;
  s.update(cfg);
  if (cfg.allow_direct && !hadDirect) subscribeDirect(jsa, s);
  // Off again: leave the `_sys_` queue group, or it would swallow its share of a mirror's direct gets.
  else if (!cfg.allow_direct && hadDirect) unsubscribeDirect(jsa, name);
  jsa.js.api.streamAction(jsa, name, "update");
  return s.infoJson({ versioned: true });
}

function filteredStreams(jsa: JsAccount, filter: string | undefined): Stream[] {
  let list = [...jsa.streams.values()];
  if (filter && filter !== ">") {
    list = list.filter((s) =>
      (s.config.subjects ?? []).some((subj) =>
        subjectIsSubsetMatch(subj, filter) || subjectsCollideLoose(subj, filter)
      )
    );
  }
  return list.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function streamNames(req: ApiRequest): Record<string, unknown> {
  const r = decodeBody(req, "JSApiStreamNamesRequest", PAGED);
  const all = filteredStreams(req.jsa, r.subject as string | undefined);
  const offset = Math.max(0, Math.min((r.offset as number) ?? 0, all.length));
  const page = all.slice(offset, offset + MAX_NAMES).map((s) => s.name);
  return { total: all.length, offset, limit: MAX_NAMES, streams: page };
}

function streamList(req: ApiRequest): Record<string, unknown> {
  const r = decodeBody(req, "JSApiStreamListRequest", PAGED);
  const all = filteredStreams(req.jsa, r.subject as string | undefined);
  const offset = Math.max(0, Math.min((r.offset as number) ?? 0, all.length));
  const page = all.slice(offset, offset + MAX_LIST).map((s) => s.infoJson({ versioned: true }));
  return { total: all.length, offset, limit: MAX_LIST, streams: page, missing: undefined };
}

function streamInfo(req: ApiRequest): Record<string, unknown> {
  const name = req.tokens.slice(2).join(".");
  const r = decodeBody(req, "JSApiStreamInfoRequest", INFO_REQ);
  const s = lookupStream(req.jsa, name);
  const filter = r.subjects_filter as string | undefined;
  let total = 0;
  let offset = 0;
  let limit = 0;
  const info = s.infoJson({ deleted: r.deleted_details === true, versioned: true });
  if (filter) {
    const totals = s.store.subjectsTotals(filter);
    total = totals.size;
    offset = Math.max(0, Math.min((r.offset as number) ?? 0, total));
    limit = MAX_SUBJECT_DETAILS;
    const keys = [...totals.keys()].sort().slice(offset, offset + limit);
    if (keys.length > 0) {
      const subs: Record<string, number> = {};
      for (const k of keys) subs[k] = totals.get(k)!;
      (info.state as Record<string, unknown>).subjects = subs;
      // Keep consumer_count last, as the reference's field order has it.
      const cc = (info.state as Record<string, unknown>)["consumer_count"];
      delete (info.state as Record<string, unknown>)["consumer_count"];
      (info.state as Record<string, unknown>)["consumer_count"] = cc;
    }
  }
  return { total, offset, limit, ...info };
}

function deleteStream(req: ApiRequest): Record<string, unknown> {
  requireEmpty(req);
  const jsa = req.jsa;
  const name = req.tokens.slice(2).join(".");
  const s = lookupStream(jsa, name);
  s.delete();
  jsa.streams.delete(name);
  unsubscribeDirect(jsa, name);
  jsa.js.api.streamAction(jsa, name, "delete");
  return { success: true };
}

function purgeStream(req: ApiRequest): Record<string, unknown> {
  const name = req.tokens.slice(2).join(".");
  const r = decodeBody(req, "JSApiStreamPurgeRequest", PURGE_REQ) as {
    filter?: string;
    seq?: number;
    keep?: number;
  };
  const s = lookupStream(req.jsa, name);
  if (s.config.sealed) throw newJSError("JSStreamSealedErr");
  if (s.config.deny_purge) throw newJSError("JSStreamPurgeFailedF", { err: "stream purge not permitted" });
  if ((r.seq ?? 0) > 0 && (r.keep ?? 0) > 0) throw newJSError("JSBadRequestErr");
  if (r.filter !== undefined && r.filter !== "" && !isValidSubject(r.filter)) {
    throw newJSError("JSBadRequestErr");
  }
  const purged = s.purge(r);
  return { success: true, purged };
}

function deleteMsg(req: ApiRequest): Record<string, unknown> {
  const name = req.tokens.slice(3).join(".");
  if (req.body.trim() === "") throw newJSError("JSBadRequestErr");
  const r = decodeBody(req, "JSApiMsgDeleteRequest", MSG_DELETE_REQ) as {
    seq?: number;
    "no_erase"?: boolean;
  };
  const s = lookupStream(req.jsa, name);
  if (s.config.sealed) throw newJSError("JSStreamSealedErr");
  if (s.config.deny_delete) {
    throw newJSError("JSStreamMsgDeleteFailedF", { err: "message delete not permitted" });
  }
  const seq = r.seq ?? 0;
  if (!s.removeMsg(seq, r.no_erase === true)) {
    const e = newJSError("JSSequenceNotFoundErrF", { seq });
    UNCOUNTED.add(e);
    throw e;
  }
  return { success: true };
}

interface MsgGetRequest {
  seq?: number;
  "last_by_subj"?: string;
  "next_by_subj"?: string;
  batch?: number;
  "max_bytes"?: number;
  "start_time"?: string;
  "multi_last"?: string[];
  "up_to_seq"?: number;
  "up_to_time"?: string;
  "no_hdr"?: boolean;
}

function getMsg(req: ApiRequest): Record<string, unknown> {
  const name = req.tokens.slice(3).join(".");
  if (req.body.trim() === "") throw newJSError("JSBadRequestErr");
  const r = decodeBody(req, "JSApiMsgGetRequest", MSG_GET_REQ) as MsgGetRequest;
  const seq = r.seq ?? 0;
  // No batches here (direct gets only); seq, last_by_subj and start_time exclude each other, next_by_subj
  // filters a seq or start_time.
  if ((r.batch ?? 0) > 0 || (r.max_bytes ?? 0) > 0) throw newJSError("JSBadRequestErr");
  if (
    (seq > 0 && r.last_by_subj) || (seq === 0 && !r.last_by_subj && !r.next_by_subj && !r.start_time) ||
    (seq > 0 && r.start_time) || (r.start_time && r.last_by_subj)
  ) {
    throw newJSError("JSBadRequestErr");
  }
  if (r.last_by_subj && r.next_by_subj) throw newJSError("JSBadRequestErr");
  const s = lookupStream(req.jsa, name);
  let m;
  if (r.start_time) {
    const t = parseRfc3339(r.start_time);
    if (t === undefined) throw newJSError("JSBadRequestErr");
    m = s.store.loadNextMsg(r.next_by_subj || ">", s.store.getSeqFromTime(t));
  } else m = s.loadForGet(r);
  if (m === undefined) throw newJSError("JSNoMessageFoundErr");
  const message: Record<string, unknown> = { subject: m.subject, seq: m.seq };
  if (m.hdr && m.hdr.length > 0 && !r.no_hdr) message.hdrs = b64(m.hdr);
  if (m.msg.length > 0) message.data = b64(m.msg);
  message.time = rfc3339Nano(m.ts);
  const resp = { message };
  UNTRACKED.add(resp);
  return resp;
}

function b64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

function clusterRequired(): Record<string, unknown> {
  return { error: newJSError("JSClusterRequiredErr") };
}

// ---- Direct get ----------------------------------------------------------------------------------------

const directSubs = new WeakMap<JsAccount, Map<string, { unsub: () => void }>>();

export function subscribeDirect(jsa: JsAccount, s: Stream): void {
  let m = directSubs.get(jsa);
  if (m === undefined) directSubs.set(jsa, m = new Map());
  if (m.has(s.name)) return;
  const subj = `$JS.API.DIRECT.GET.${s.name}`;
  const cb = (
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ) => {
    if (!reply || s.closed || !s.config.allow_direct) return;
    directGet(jsa, s, subject, reply, hdr, payload);
  };
  const a = jsa.client.subscribeInternal(subj, (_x, _c, su, re, h, p) => cb(su, re, h, p), "_sys_");
  const b = jsa.client.subscribeInternal(`${subj}.>`, (_x, _c, su, re, h, p) => cb(su, re, h, p), "_sys_");
  m.set(s.name, {
    unsub: () => {
      jsa.client.unsubscribeInternal(a);
      jsa.client.unsubscribeInternal(b);
    },
  });
}

/**
 * Direct gets for a mirror's origin (mirror_direct): the mirror joins the origin's `_sys_` queue group on
 * `$JS.API.DIRECT.GET.<origin>[.>]` and answers from its own store, as nats-server's subscribeToMirrorDirect.
 * Returns the unsubscribe function.
 */
export function subscribeMirrorDirect(jsa: JsAccount, s: Stream, origin: string): () => void {
  const subj = `$JS.API.DIRECT.GET.${origin}`;
  const cb = (
    subject: string,
    reply: string | undefined,
    hdr: Uint8Array | undefined,
    payload: Uint8Array,
  ) => {
    if (!reply || s.closed) return;
    directGet(jsa, s, subject, reply, hdr, payload, origin);
  };
  const a = jsa.client.subscribeInternal(subj, (_x, _c, su, re, h, p) => cb(su, re, h, p), "_sys_");
  const b = jsa.client.subscribeInternal(`${subj}.>`, (_x, _c, su, re, h, p) => cb(su, re, h, p), "_sys_");
  return () => {
    jsa.client.unsubscribeInternal(a);
    jsa.client.unsubscribeInternal(b);
  };
}

function unsubscribeDirect(jsa: JsAccount, name: string): void {
  const m = directSubs.get(jsa);
  m?.get(name)?.unsub();
  m?.delete(name);
}

function status(client: Client, reply: string, text: string, extra: [string, string][] = []): void {
  client.publishInternal(reply, undefined, buildHeaders(extra, text), new Uint8Array(0));
}

function directGet(
  jsa: JsAccount,
  s: Stream,
  subject: string,
  reply: string,
  _hdr: Uint8Array | undefined,
  payload: Uint8Array,
  name = s.name,
): void {
  const client = jsa.client;
  const prefix = `$JS.API.DIRECT.GET.${name}`;
  const keySubj = subject.length > prefix.length ? subject.slice(prefix.length + 1) : "";
  let r: MsgGetRequest;
  const body = payload.length > 0 ? decoder.decode(payload) : "";
  if (keySubj !== "") {
    if (body.trim() !== "") {
      try {
        r = decodeStruct(parseJson(body), "JSApiMsgGetRequest", MSG_GET_REQ, jsa.js.strict) as MsgGetRequest;
      } catch {
        return status(client, reply, "408 Bad Request");
      }
      if (r.last_by_subj) return status(client, reply, "408 Bad Request");
    } else r = {};
    r.last_by_subj = keySubj;
  } else {
    if (body.trim() === "") return status(client, reply, "408 Empty Request");
    try {
      r = decodeStruct(parseJson(body), "JSApiMsgGetRequest", MSG_GET_REQ, jsa.js.strict) as MsgGetRequest;
    } catch {
      return status(client, reply, "408 Bad Request");
    }
  }
  const seq = r.seq ?? 0;
  const multi = r.multi_last ?? [];
  // Conflicting options (the current reference's list).
  if (
    (seq > 0 && r.start_time) || (r.start_time && r.last_by_subj) || (r.last_by_subj && r.next_by_subj) ||
    (r.last_by_subj && (r.batch ?? 0) > 0) || (r.last_by_subj && multi.length > 0) ||
    (r.next_by_subj && multi.length > 0) || ((r.up_to_seq ?? 0) > 0 && r.up_to_time)
  ) {
    return status(client, reply, "408 Bad Request");
  }
  if (multi.length > 0) {
    directMultiLast(jsa, s, reply, r).catch((e) =>
      jsa.js.server.log.error(`JetStream direct get failed: ${e}`)
    );
    return;
  }
  if ((r.batch ?? 0) > 0) {
    directBatch(jsa, s, reply, r).catch((e) =>
      jsa.js.server.log.error(`JetStream direct get batch failed: ${e}`)
    );
    return;
  }
  if (seq === 0 && !r.last_by_subj && !r.next_by_subj && !r.start_time) {
    return status(client, reply, "408 Empty Request");
  }
  if (seq > 0 && r.last_by_subj) return status(client, reply, "408 Bad Request");
  let m;
  if (r.start_time && !r.next_by_subj && !r.last_by_subj) {
    const t = parseRfc3339(r.start_time);
    if (t === undefined) return status(client, reply, "408 Bad Request");
    m = s.store.loadNextMsg(">", s.store.getSeqFromTime(t));
  } else m = s.loadForGet(r);
  if (m === undefined) return status(client, reply, "404 Message Not Found");
  sendDirect(client, reply, s.name, m, r.no_hdr === true, []);
}

function sendDirect(
  client: Client,
  reply: string,
  stream: string,
  m: { subject: string; seq: number; ts: bigint; hdr: Uint8Array | undefined; msg: Uint8Array },
  noHdr: boolean,
  extra: [string, string][],
): void {
  const pairs: [string, string][] = noHdr ? [] : parseHeaders(m.hdr);
  pairs.push(
    [JS_STREAM, stream],
    [JS_SUBJECT, m.subject],
    [JS_SEQUENCE, String(m.seq)],
    [JS_TIME_STAMP, rfc3339Nano(m.ts)],
    ...extra,
  );
  client.publishInternal(reply, undefined, buildHeaders(pairs), m.msg);
}

/**
 * After a send of a direct get batch: when the requester went over the stall mark, waits for its writes (as a
 * connection's publisher waits, and as the reference's writes pace it), so tens of megabytes reach it without
 * making it a slow consumer. Synchronous unless there is something to wait for; false when the batch must
 * stop (the stream or the requester went away meanwhile).
 */
function paced(jsa: JsAccount, s: Stream): true | Promise<boolean> {
  const c = jsa.client.takeStalled();
  if (c === undefined || c.closed) return true;
  return c.drained(1_000).then(() => !s.closed && !c.closed);
}

/** What a direct get reply counts toward max_bytes and max_pending: subject, headers and payload. */
function directSize(m: { subject: string; hdr: Uint8Array | undefined; msg: Uint8Array }): number {
  return m.subject.length + (m.hdr?.length ?? 0) + m.msg.length;
}

/** Sends a batch of messages to `reply`, ending with 204 EOB; paced by the requester's writes (see paced). */
async function directBatch(jsa: JsAccount, s: Stream, reply: string, r: MsgGetRequest): Promise<void> {
  const client = jsa.client;
  const filter = r.next_by_subj || ">";
  let seq = r.seq ?? 0;
  if (r.start_time) {
    const t = parseRfc3339(r.start_time);
    if (t === undefined) return status(client, reply, "408 Bad Request");
    seq = s.store.getSeqFromTime(t);
  }
  const maxBytes = r.max_bytes ?? 0;
  // As the reference, a batch also stops once it has sent the server's max_pending bytes (the message that
  // reaches it included).
  const maxPending = jsa.js.server.opts.maxPending;
  jsa.client.takeStalled(); // a stall left by an earlier publish is not this requester's
  let sent = 0;
  let bytes = 0;
  let last = 0;
  const batch = r.batch ?? 1;
  while (sent < batch && (maxPending <= 0 || bytes < maxPending)) {
    const m = s.store.loadNextMsg(filter, seq);
    if (m === undefined) break;
    bytes += directSize(m);
    if (maxBytes > 0 && bytes > maxBytes && sent > 0) break;
    // The pending count of a batch message includes the message itself (the reference's numbering).
    const pending = s.store.numPending(m.seq, filter, false).total;
    sendDirect(client, reply, s.name, m, r.no_hdr === true, [
      [JS_NUM_PENDING, String(pending)],
      [JS_LAST_SEQUENCE, String(last)],
    ]);
    last = m.seq;
    seq = m.seq + 1;
    sent++;
    const p = paced(jsa, s);
    if (p !== true && !(await p)) return;
  }
  if (sent === 0) return status(client, reply, "404 Message Not Found");
  const pending = s.store.numPending(seq, filter, false).total;
  status(client, reply, "204 EOB", [[JS_NUM_PENDING, String(pending)], [JS_LAST_SEQUENCE, String(last)]]);
}

/**
 * The last message of each subject matching multi_last (at or below up_to_seq/up_to_time), from `seq` on, in
 * pages: a page ends after `batch` messages or once max_pending bytes were sent, and its EOB says how many are
 * left and where it stopped, so the next request resumes with `seq` after Nats-Last-Sequence.
 */
async function directMultiLast(jsa: JsAccount, s: Stream, reply: string, r: MsgGetRequest): Promise<void> {
  const client = jsa.client;
  let upTo = r.up_to_seq ?? 0;
  if (r.up_to_time) {
    const t = parseRfc3339(r.up_to_time);
    if (t === undefined) return status(client, reply, "408 Bad Request");
    upTo = s.store.getSeqFromTime(t) - 1;
  }
  // A bound before the first message leaves nothing (upTo 0), not everything.
  const bounded = (r.up_to_seq ?? 0) > 0 || !!r.up_to_time;
  const seqs = bounded && upTo <= 0 ? [] : s.store.multiLastSeqs(r.multi_last ?? [], upTo, 0);
  const from = r.seq ?? 0;
  const all = from > 0 ? seqs.filter((q) => q >= from) : seqs;
  const batch = r.batch ?? 0;
  if (all.length === 0) return status(client, reply, "404 No Results");
  if (all.length > MAX_NAMES && batch === 0) return status(client, reply, "413 Too Many Results");
  const upToSeq = upTo > 0 ? upTo : s.store.fastState().lastSeq;
  const maxPending = jsa.js.server.opts.maxPending;
  jsa.client.takeStalled();
  let last = 0;
  let sent = 0;
  let bytes = 0;
  let i = 0;
  for (; i < all.length; i++) {
    if ((batch > 0 && sent >= batch) || (maxPending > 0 && bytes >= maxPending)) break;
    const m = s.store.loadMsg(all[i]);
    if (!m) continue;
    sendDirect(client, reply, s.name, m, r.no_hdr === true, [
      [JS_NUM_PENDING, String(all.length - i - 1)],
      [JS_LAST_SEQUENCE, String(last)],
      [JS_UP_TO_SEQUENCE, String(upToSeq)],
    ]);
    bytes += directSize(m);
    sent++;
    last = m.seq;
    const p = paced(jsa, s);
    if (p !== true && !(await p)) return;
  }
  // The reference's EOB counts one fewer than are left after a page cut short (0 once none are left).
  status(client, reply, "204 EOB", [
    [JS_NUM_PENDING, String(Math.max(0, all.length - i - 1))],
    [JS_LAST_SEQUENCE, String(last)],
    [JS_UP_TO_SEQUENCE, String(upToSeq)],
  ]);
}

/** Registers the account and stream routes; consumer routes come from consumer.ts. */
function registerStreamApi(d: ApiDispatcher): void {
  d.register("INFO", "account_info_response", accountInfo);
  d.register("STREAM.CREATE.*", "stream_create_response", createStream);
  d.register("STREAM.UPDATE.*", "stream_update_response", updateStream);
  d.register("STREAM.NAMES", "stream_names_response", streamNames);
  d.register("STREAM.LIST", "stream_list_response", streamList);
  d.register("STREAM.INFO.*", "stream_info_response", streamInfo);
  d.register("STREAM.DELETE.*", "stream_delete_response", deleteStream);
  d.register("STREAM.PURGE.*", "stream_purge_response", purgeStream);
  d.register("STREAM.MSG.GET.*", "stream_msg_get_response", getMsg);
  d.register("STREAM.MSG.DELETE.*", "stream_msg_delete_response", deleteMsg);
  d.register("STREAM.LEADER.STEPDOWN.*", "stream_leader_stepdown_response", clusterRequired);
  d.register("STREAM.PEER.REMOVE.*", "stream_remove_peer_response", clusterRequired);
  d.register("CONSUMER.LEADER.STEPDOWN.*.*", "consumer_leader_stepdown_response", clusterRequired);
  d.register("META.LEADER.STEPDOWN", "meta_leader_stepdown_response", clusterRequired);
  d.register("SERVER.REMOVE", "meta_server_remove_response", clusterRequired);
  d.register("ACCOUNT.PURGE.*", "account_purge_response", clusterRequired);
  registerSnapshotApi(d, { cfgContext, checkAccountLimits, subscribeDirect });
  void ANY;
  void I64;
}

/**
 * `$JS.API.ACCOUNT.PURGE.<account>` from the system account (standalone server): deletes every stream of the
 * account and its directory under the store dir, known account or not; answers `initiated`.
 */
export function subscribeAccountPurge(js: JetStream): Subscription | undefined {
  const sc = js.server.systemClient();
  if (sc === undefined) return undefined;
  return sc.subscribeInternal("$JS.API.ACCOUNT.PURGE.*", (_s, _c, subject, reply) => {
    const accName = subject.split(".")[4];
    const jsa = js.accounts.get(accName);
    const streams = jsa === undefined ? [] : [...jsa.streams.values()];
    js.server.log.notice(
      `Purge request for account ${accName} (streams: ${streams.length}, hasAccount: ${
        js.server.lookupAccount(accName) !== undefined
      })`,
    );
    const resp: Record<string, unknown> = { type: "io.nats.jetstream.api.v1.account_purge_response" };
    try {
      for (const s of streams) {
        s.delete();
        jsa!.streams.delete(s.name);
        unsubscribeDirect(jsa!, s.name);
      }
      fs.rmSync(`${js.storeDir}/${accName}`, { recursive: true, force: true });
      resp.initiated = true;
    } catch (e) {
      resp.error = newJSError("JSStreamGeneralErrorF", { err: (e as Error).message });
    }
    if (reply) sc.publishInternal(reply, undefined, undefined, encoder.encode(JSON.stringify(resp)));
  });
}
