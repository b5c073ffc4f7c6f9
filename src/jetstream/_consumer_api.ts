// The consumer API: CONSUMER.CREATE / DURABLE.CREATE / INFO / NAMES / LIST / DELETE / PAUSE / UNPIN / RESET
// and MSG.NEXT routing. Behaviour follows nats-server server/jetstream_api.go (jsConsumer*Request) and
// server/consumer.go (addConsumerWithAssignment).

import { saveConsumerMeta } from "./_fs_meta_json.ts";
import { subjectIsSubsetMatch, subjectsCollide } from "../sublist/mod.ts";
import { encoder, Nuid } from "../util/mod.ts";
import { ApiError, newJSError } from "./api_errors.ts";
import { type ApiDispatcher, type ApiRequest, isEmptyRequest } from "./_api.ts";
import { B, decodeStruct, INT, parseJson, S, type Schema, U64 } from "./_json.ts";
import { nowNs, parseRfc3339, rfc3339Nano, ZERO_TIME } from "./_headers.ts";
import {
  checkConsumerCfg,
  checkConsumerUpdate,
  type ConsumerConfig,
  type ConsumerLimits,
  CREATE_REQUEST_SCHEMA,
  filtersOf,
  isDurable,
  JS_MAX_NAME_LEN,
  sameConfig,
  setConsumerDefaults,
} from "./_consumer_config.ts";
import { statusHdr } from "./_consumer_util.ts";
import { Consumer, createConsumerName } from "./consumer.ts";
import type { Stream } from "./stream.ts";
import type { JsAccount } from "./jetstream.ts";
import { isValidName } from "./_stream_config.ts";
import { copyConsumerMetadata, setStaticConsumerMetadata } from "./_versioning.ts";

const MAX_NAMES = 1024;
const MAX_LIST = 256;
const PAGED: Schema = { offset: INT };
const PAUSE_REQ: Schema = { "pause_until": S };
const UNPIN_REQ: Schema = { group: S };
const RESET_REQ: Schema = { seq: U64 };
const nuid = new Nuid();

function decodeBody(req: ApiRequest, name: string, schema: Schema): Record<string, unknown> {
  if (req.body.trim() === "") return {};
  return decodeStruct(parseJson(req.body), name, schema, req.jsa.js.strict);
}

function lookupStream(jsa: JsAccount, name: string): Stream {
  const s = jsa.streams.get(name);
  if (s === undefined) throw newJSError("JSStreamNotFoundErr");
  return s;
}

function lookupConsumer(jsa: JsAccount, stream: string, name: string): Consumer {
  const s = lookupStream(jsa, stream);
  const c = s.consumers.get(name);
  if (c === undefined || !(c instanceof Consumer)) throw newJSError("JSConsumerNotFoundErr");
  return c;
}

function limitsFor(jsa: JsAccount): ConsumerLimits {
  const l = jsa.js.server.opts.jetStreamOpts.limits as unknown as Record<string, number | undefined>;
  return {
    srvMaxAckPending: l.maxAckPending ?? 0,
    srvMaxRequestBatch: l.maxRequestBatch ?? 0,
    accMaxAckPending: jsa.limits.maxAckPending,
  };
}

function consumerAction(jsa: JsAccount, stream: string, consumer: string, action: "create" | "delete"): void {
  const word = action === "create" ? "CREATED" : "DELETED";
  jsa.js.api.advisory(jsa, `$JS.EVENT.ADVISORY.CONSUMER.${word}.${stream}.${consumer}`, {
    type: "io.nats.jetstream.advisory.v1.consumer_action",
    id: nuid.next(),
    timestamp: rfc3339Nano(nowNs()),
    stream,
    consumer,
    action,
    domain: jsa.js.domain || undefined,
  });
}

/** CONSUMER.CREATE.<s>[.<c>[.<filter>]] and CONSUMER.DURABLE.CREATE.<s>.<c>. */
function createConsumer(req: ApiRequest): Record<string, unknown> {
  const jsa = req.jsa;
  const t = req.tokens;
  const raw = decodeStruct(
    parseJson(req.body),
    "CreateConsumerRequest",
    CREATE_REQUEST_SCHEMA,
    jsa.js.strict,
  );
  const cfg = { ...(raw.config as Record<string, unknown> ?? {}) } as unknown as ConsumerConfig;
  const action = (raw.action as string | undefined) ?? "";
  const pedantic = raw.pedantic === true;
  let streamName: string;
  let consumerName = "";
  let filtered = "";
  let kind: "ephemeral" | "durable" | "new";
  if (t[1] === "DURABLE") {
    kind = "durable";
    if (t.length !== 5) throw newJSError("JSConsumerDurableNameNotInSubjectErr");
    streamName = t[3];
    consumerName = t[4];
  } else if (t.length === 3) {
    kind = "ephemeral";
    streamName = t[2];
  } else {
    kind = "new";
    streamName = t[2];
    consumerName = t[3];
    if (t.length > 4) filtered = t.slice(4).join(".");
  }
  if (streamName !== ((raw.stream_name as string | undefined) ?? "")) throw newJSError("JSStreamMismatchErr");
  if (consumerName !== "" && /[\\/]/.test(consumerName)) {
    throw newJSError("JSConsumerNameContainsPathSeparatorsErr");
  }
  if (kind === "durable") {
    if (!cfg.durable_name) throw newJSError("JSConsumerDurableNameNotSetErr");
    if (consumerName !== cfg.durable_name) throw newJSError("JSConsumerDurableNameNotMatchSubjectErr");
  } else if (kind === "new") {
    if (cfg.durable_name && consumerName !== cfg.durable_name) {
      throw newJSError("JSConsumerDurableNameNotMatchSubjectErr");
    }
    cfg.name = consumerName;
  } else if (cfg.durable_name) throw newJSError("JSConsumerEphemeralWithDurableNameErr");
  if (filtered !== "" && (cfg.filter_subjects?.length ?? 0) > 0) {
    throw newJSError("JSConsumerMultipleFiltersNotAllowed");
  }
  if (filtered !== "" && cfg.filter_subject !== filtered) {
    throw newJSError("JSConsumerCreateFilterSubjectMismatchErr");
  }
  if ((cfg.num_replicas ?? 0) > 1) throw newJSError("JSStreamReplicasNotSupportedErr");
  const stream = lookupStream(jsa, streamName);
  setStaticConsumerMetadata(cfg);
  const c = addConsumer(jsa, stream, cfg, action, pedantic);
  return c.info(true);
}

/**
 * The subjects a stream can hold, following its mirror and sources within the account (filters count as
 * subjects); undefined when they cannot be known here (external origins, subject transforms, missing origins).
 */
function allSubjects(jsa: JsAccount, cfg: Stream["config"], seen: Set<string>): string[] | undefined {
  if (seen.has(cfg.name)) return [];
  seen.add(cfg.name);
  const out = [...(cfg.subjects ?? [])];
  for (const src of [...(cfg.mirror ? [cfg.mirror] : []), ...(cfg.sources ?? [])]) {
    if (src.external !== undefined || (src.subject_transforms?.length ?? 0) > 0) return undefined;
    if (src.filter_subject) {
      out.push(src.filter_subject);
      continue;
    }
    const up = jsa.streams.get(src.name);
    const sub = up === undefined ? undefined : allSubjects(jsa, up.config, seen);
    if (sub === undefined) return undefined;
    out.push(...sub);
  }
  return out;
}

/** Validates, then creates or updates a consumer (addConsumerWithAssignment). */
export function addConsumer(
  jsa: JsAccount,
  stream: Stream,
  cfg: ConsumerConfig,
  action = "",
  pedantic = false,
): Consumer {
  const lim = limitsFor(jsa);
  const scfg = stream.config;
  const perr = setConsumerDefaults(cfg, scfg, lim, pedantic);
  if (perr) throw perr;
  const cerr = checkConsumerCfg(cfg, scfg, lim);
  if (cerr) throw cerr;
  const filters = filtersOf(cfg);
  const subjects = filters.length > 0 ? allSubjects(jsa, scfg, new Set()) : undefined;
  if (subjects !== undefined) {
    for (const f of filters) {
      if (!subjects.some((s) => subjectIsSubsetMatch(f, s) || subjectsCollide(f, s))) {
        throw newJSError("JSConsumerFilterNotSubsetErr");
      }
    }
  }
  // A durable's name is its durable name, also when the request left it out.
  if (isDurable(cfg) && !cfg.name) cfg.name = cfg.durable_name;
  const cname = cfg.durable_name || cfg.name || "";
  if (cname !== "") {
    const eo = stream.consumers.get(cname);
    if (eo instanceof Consumer) {
      // A create of the same config is no error, whatever versioning metadata either carries; the
      // existing consumer then keeps its own.
      if (action === "create") copyConsumerMetadata(cfg, eo.config);
      if (action === "create" && (!isDurable(cfg) || !sameConfig(cfg, eo.config))) {
        // An existing ephemeral is never created again; a durable only with the same config.
        throw newJSError("JSConsumerAlreadyExists");
      }
      if (scfg.retention === "workqueue" && !cfg.direct) {
        for (const other of stream.consumers.values()) {
          if (other === eo || !(other instanceof Consumer)) continue;
          const of = filtersOf(other.config);
          if (of.length === 0 || filters.length === 0) throw newJSError("JSConsumerWQConsumerNotUniqueErr");
          for (const a of of) {
            for (const b of filters) {
              if (subjectsCollide(a, b)) throw newJSError("JSConsumerWQConsumerNotUniqueErr");
            }
          }
        }
      }
      const r = jsa.account.sl.match(eo.config.deliver_subject ?? "");
      const bound = !!eo.config.deliver_subject && r.psubs.length + r.qsubs.length > 0;
      const e = checkConsumerUpdate(eo.config, cfg, bound);
      if (e instanceof ApiError) throw e;
      if (e !== undefined) throw newJSError("JSConsumerCreateErrF", { err: e });
      // The new config is on disk before it applies: an update that cannot be saved changes nothing.
      try {
        saveConsumerMeta(eo, cfg);
      } catch (err) {
        throw newJSError("JSConsumerCreateErrF", { err: (err as Error).message });
      }
      eo.applyUpdate(cfg);
      // A narrower filter on an interest stream lets go of the messages nobody else wants.
      stream.releaseUnneeded();
      return eo;
    }
    if (action === "update") throw newJSError("JSConsumerDoesNotExist");
  }
  let maxc = scfg.max_consumers;
  const accMax = jsa.limits.maxConsumers;
  if (maxc <= 0 || (accMax > 0 && accMax < maxc)) maxc = accMax;
  if (maxc > 0 && stream.numConsumers() >= maxc) throw newJSError("JSMaximumConsumersLimitErr");
  if (scfg.retention === "workqueue" && !cfg.direct) {
    if (cfg.ack_policy !== "explicit") throw newJSError("JSConsumerWQRequiresExplicitAckErr");
    if (stream.numConsumers() > 0) {
      if (filters.length === 0) throw newJSError("JSConsumerWQMultipleUnfilteredErr");
      for (const other of stream.consumers.values()) {
        const of = other instanceof Consumer ? filtersOf(other.config) : [];
        if (of.length === 0) throw newJSError("JSConsumerWQConsumerNotUniqueErr");
        for (const a of of) {
          for (const b of filters) {
            if (subjectsCollide(a, b)) throw newJSError("JSConsumerWQConsumerNotUniqueErr");
          }
        }
      }
    }
    if (cfg.deliver_policy !== "all") throw newJSError("JSConsumerWQConsumerNotDeliverAllErr");
  }
  let name = cname;
  if (isDurable(cfg) && cfg.durable_name!.length > JS_MAX_NAME_LEN) {
    throw newJSError("JSConsumerNameTooLongErrF", { max: JS_MAX_NAME_LEN });
  }
  if (name === "") {
    do name = createConsumerName(); while (stream.consumers.has(name));
    cfg.name = name;
  }
  if (!isValidName(name)) throw newJSError("JSConsumerBadDurableNameErr");
  if (isDurable(cfg) && !cfg.name) cfg.name = cfg.durable_name;
  let c: Consumer;
  try {
    c = new Consumer({ jsa, stream, config: cfg, name });
    // A consumer whose config cannot be saved is not created (it would be gone after a restart).
    try {
      saveConsumerMeta(c);
    } catch (e) {
      c.delete();
      throw e;
    }
  } catch (e) {
    if (e instanceof ApiError) throw e;
    jsa.js.server.log.warn(
      `Consumer create failed for '${jsa.account.name} > ${stream.name} > ${cfg.durable_name ?? ""}': ${
        (e as Error).message
      }`,
    );
    throw newJSError("JSConsumerStoreFailedErrF", { err: (e as Error).message });
  }
  c.onInactive = (x) => removeConsumer(jsa, stream, x);
  stream.addConsumer(c);
  c.start();
  consumerAction(jsa, stream.name, name, "create");
  return c;
}

function removeConsumer(jsa: JsAccount, stream: Stream, c: Consumer): void {
  if (stream.consumers.get(c.name) !== c) return;
  c.delete();
  stream.removeConsumer(c.name);
  consumerAction(jsa, stream.name, c.name, "delete");
}

function consumerInfoReq(req: ApiRequest): Record<string, unknown> {
  if (!isEmptyRequest(req.body)) throw newJSError("JSNotEmptyRequestErr");
  return lookupConsumer(req.jsa, req.tokens[2], req.tokens[3]).info(true);
}

function sortedConsumers(s: Stream): Consumer[] {
  // Internal (direct) consumers of mirrors and sources are not listed.
  const out = [...s.consumers.values()].filter((c): c is Consumer =>
    c instanceof Consumer && !c.config.direct
  );
  return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function consumerNames(req: ApiRequest): Record<string, unknown> {
  const r = decodeBody(req, "JSApiConsumersRequest", PAGED);
  const s = lookupStream(req.jsa, req.tokens[2]);
  const all = sortedConsumers(s);
  const offset = Math.max(0, Math.min((r.offset as number) ?? 0, all.length));
  return {
    total: all.length,
    offset,
    limit: MAX_NAMES,
    consumers: all.slice(offset, offset + MAX_NAMES).map((c) => c.name),
  };
}

function consumerList(req: ApiRequest): Record<string, unknown> {
  const r = decodeBody(req, "JSApiConsumersRequest", PAGED);
  const s = lookupStream(req.jsa, req.tokens[2]);
  const all = sortedConsumers(s);
  const offset = Math.max(0, Math.min((r.offset as number) ?? 0, all.length));
  return {
    total: all.length,
    offset,
    limit: MAX_LIST,
    consumers: all.slice(offset, offset + MAX_LIST).map((c) => c.info(true)),
  };
}

function deleteConsumer(req: ApiRequest): Record<string, unknown> {
  if (!isEmptyRequest(req.body)) throw newJSError("JSNotEmptyRequestErr");
  const s = lookupStream(req.jsa, req.tokens[2]);
  const c = lookupConsumer(req.jsa, req.tokens[2], req.tokens[3]);
  removeConsumer(req.jsa, s, c);
  return { success: true };
}

function pauseConsumer(req: ApiRequest): Record<string, unknown> {
  const r = decodeBody(req, "JSApiConsumerPauseRequest", PAUSE_REQ);
  const c = lookupConsumer(req.jsa, req.tokens[2], req.tokens[3]);
  const pu = r.pause_until as string | undefined;
  let until: string | undefined;
  if (pu !== undefined && pu !== "" && pu !== ZERO_TIME) {
    const t = parseRfc3339(pu);
    if (t === undefined) throw newJSError("JSInvalidJSONErr", { err: `parsing time "${pu}"` });
    until = t > nowNs() ? rfc3339Nano(t) : undefined;
  }
  c.pause(until);
  // The pause deadline is a versioned feature: the stored required level follows it, as on an update.
  setStaticConsumerMetadata(c.config);
  saveConsumerMeta(c);
  const paused = c.isPaused();
  const o: Record<string, unknown> = { paused, "pause_until": until ?? ZERO_TIME };
  if (paused) o["pause_remaining"] = Number(parseRfc3339(until!)! - nowNs());
  return o;
}

function unpinConsumer(req: ApiRequest): Record<string, unknown> {
  const r = decodeBody(req, "JSApiConsumerUnpinRequest", UNPIN_REQ);
  const group = (r.group as string | undefined) ?? "";
  if (group === "") {
    throw newJSError("JSInvalidJSONErr", { err: "consumer group not specified" });
  }
  if (!/^[a-zA-Z0-9/_=-]{1,16}$/.test(group)) throw newJSError("JSConsumerInvalidGroupNameErr");
  const c = lookupConsumer(req.jsa, req.tokens[2], req.tokens[3]);
  if (!(c.config.priority_groups ?? []).includes(group)) {
    throw newJSError("JSConsumerInvalidPriorityGroupErr");
  }
  c.unpin(group, "admin");
  return {};
}

function resetConsumer(req: ApiRequest): Record<string, unknown> {
  const r = decodeBody(req, "JSApiConsumerResetRequest", RESET_REQ);
  const c = lookupConsumer(req.jsa, req.tokens[2], req.tokens[3]);
  // No sequence (or 0): back to just above the ack floor.
  const seq = ((r.seq as number | undefined) ?? 0) || c.snapshot().asflr + 1;
  const st = c.stream.store.fastState();
  if (seq > st.lastSeq + 1) throw newJSError("JSConsumerInvalidResetErr", { err: "sequence out of range" });
  // Not below the configured start.
  const cc = c.config;
  if (cc.deliver_policy === "by_start_sequence" && seq < (cc.opt_start_seq ?? 0)) {
    throw newJSError("JSConsumerInvalidResetErr", { err: "below start seq" });
  }
  if (cc.deliver_policy === "by_start_time") {
    const m = c.stream.store.loadNextMsg(">", seq);
    const t = parseRfc3339(cc.opt_start_time ?? "");
    if (m !== undefined && t !== undefined && m.ts < t) {
      throw newJSError("JSConsumerInvalidResetErr", { err: "below start time" });
    }
  }
  c.reset(seq);
  return { ...c.info(true), "reset_seq": seq };
}

/** Registers the consumer routes on the dispatcher and the pull request hook. */
export function registerConsumerApi(d: ApiDispatcher): void {
  d.register("CONSUMER.CREATE.*", "consumer_create_response", createConsumer);
  d.register("CONSUMER.CREATE.*.>", "consumer_create_response", createConsumer);
  d.register("CONSUMER.DURABLE.CREATE.>", "consumer_create_response", createConsumer);
  d.register("CONSUMER.INFO.*.*", "consumer_info_response", consumerInfoReq);
  d.register("CONSUMER.NAMES.*", "consumer_names_response", consumerNames);
  d.register("CONSUMER.LIST.*", "consumer_list_response", consumerList);
  d.register("CONSUMER.DELETE.*.*", "consumer_delete_response", deleteConsumer);
  d.register("CONSUMER.PAUSE.*.*", "consumer_pause_response", pauseConsumer);
  d.register("CONSUMER.UNPIN.*.*", "consumer_unpin_response", unpinConsumer);
  d.register("CONSUMER.RESET.*.*", "consumer_reset_response", resetConsumer);
  d.onNextMsg = (jsa, stream, consumer, reply, payload) => {
    const c = jsa.streams.get(stream)?.consumers.get(consumer);
    if (c instanceof Consumer) c.processNextMsgRequest(reply, payload);
    // Without the consumer the reference has no subscriber: the requester sees no responders.
    else jsa.client.publishInternal(reply, undefined, statusHdr("503", []), new Uint8Array(0));
  };
  void B;
  void encoder;
}
