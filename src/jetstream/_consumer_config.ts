// ConsumerConfig: its wire shape, decoding, defaults, validation and update checks. Behaviour follows
// nats-server server/consumer.go (setConsumerConfigDefaults, checkConsumerCfg, checkNewConsumerConfig).

import { isValidSubject, subjectIsLiteral, subjectIsSubsetMatch } from "../sublist/mod.ts";
import { type ApiError, newJSError } from "./api_errors.ts";
import { B, decodeStruct, DUR, type FieldType, INT, S, type Schema, U64 } from "./_json.ts";
import { parseRfc3339 } from "./_headers.ts";
import { JS_MAX_DESCRIPTION_LEN, JS_MAX_METADATA_LEN, type StreamConfig } from "./_stream_config.ts";

export type DeliverPolicy =
  | "all"
  | "last"
  | "new"
  | "by_start_sequence"
  | "by_start_time"
  | "last_per_subject";
export type AckPolicy = "none" | "all" | "explicit";
export type ReplayPolicy = "instant" | "original";
export type PriorityPolicy = "none" | "overflow" | "pinned_client" | "prioritized";

/** A consumer's configuration in its JSON wire shape (durations in ns). */
export interface ConsumerConfig {
  "durable_name"?: string;
  name?: string;
  description?: string;
  "deliver_policy": DeliverPolicy;
  "opt_start_seq"?: number;
  "opt_start_time"?: string;
  "ack_policy": AckPolicy;
  "ack_wait"?: number;
  "max_deliver"?: number;
  backoff?: number[];
  "filter_subject"?: string;
  "filter_subjects"?: string[];
  "replay_policy": ReplayPolicy;
  "rate_limit_bps"?: number;
  "sample_freq"?: string;
  "max_waiting"?: number;
  "max_ack_pending"?: number;
  "flow_control"?: boolean;
  "headers_only"?: boolean;
  "max_batch"?: number;
  "max_expires"?: number;
  "max_bytes"?: number;
  "deliver_subject"?: string;
  "deliver_group"?: string;
  "idle_heartbeat"?: number;
  "inactive_threshold"?: number;
  "num_replicas": number;
  "mem_storage"?: boolean;
  direct?: boolean;
  metadata?: Record<string, string>;
  "pause_until"?: string;
  "priority_groups"?: string[];
  "priority_policy"?: PriorityPolicy;
  "priority_timeout"?: number;
}

const cannot = (v: string) => `can not unmarshal ${v}`;
const DURS: FieldType = { t: "list", of: DUR };

/** The JSON fields of ConsumerConfig. */
export const CONSUMER_CONFIG_SCHEMA: Schema = {
  "durable_name": S,
  name: S,
  description: S,
  "deliver_policy": {
    t: "enum",
    values: ["all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject", "undefined"],
    msg: cannot,
  },
  "opt_start_seq": U64,
  "opt_start_time": S,
  "ack_policy": { t: "enum", values: ["none", "all", "explicit"], msg: cannot },
  "ack_wait": DUR,
  "max_deliver": INT,
  backoff: DURS,
  "filter_subject": S,
  "filter_subjects": { t: "list", of: S },
  "replay_policy": { t: "enum", values: ["instant", "original"], msg: cannot },
  "rate_limit_bps": U64,
  "sample_freq": S,
  "max_waiting": INT,
  "max_ack_pending": INT,
  "flow_control": B,
  "headers_only": B,
  "max_batch": INT,
  "max_expires": DUR,
  "max_bytes": INT,
  "deliver_subject": S,
  "deliver_group": S,
  "idle_heartbeat": DUR,
  "inactive_threshold": DUR,
  "num_replicas": INT,
  "mem_storage": B,
  direct: B,
  sourcing: B,
  metadata: { t: "map" },
  "pause_until": S,
  "priority_groups": { t: "list", of: S },
  "priority_policy": {
    t: "enum",
    values: ["none", "overflow", "pinned_client", "prioritized"],
    msg: (v) => `unknown priority policy: ${v}`,
  },
  "priority_timeout": DUR,
};

/** The body of a consumer create request. */
export const CREATE_REQUEST_SCHEMA: Schema = {
  "stream_name": S,
  config: { t: "obj", name: "ConsumerConfig", fields: CONSUMER_CONFIG_SCHEMA },
  action: { t: "enum", values: ["", "create", "update"], msg: (v) => `unknown consumer action: ${v}` },
  pedantic: B,
};

export const JS_ACK_WAIT_DEFAULT = 30_000_000_000;
export const JS_DELETE_WAIT_DEFAULT = 5_000_000_000;
export const JS_DEFAULT_MAX_ACK_PENDING = 1000;
export const JS_WAIT_QUEUE_DEFAULT_MAX = 512;
export const JS_DEFAULT_PINNED_TTL = 120_000_000_000;
export const JS_MAX_NAME_LEN = 255;
const MS = 1_000_000;

/** Server and account limits that bound a consumer config. */
export interface ConsumerLimits {
  /** Server-wide max_ack_pending and max_request_batch (jetstream.limits); 0 = none. */
  srvMaxAckPending: number;
  srvMaxRequestBatch: number;
  /** Account max_ack_pending; 0 or -1 = none. */
  accMaxAckPending: number;
}

function pedanticErr(err: string): ApiError {
  return newJSError("JSPedanticErrF", { err });
}

/** The consumer's filters, whichever of the two fields carries them. */
export function filtersOf(c: Pick<ConsumerConfig, "filter_subject" | "filter_subjects">): string[] {
  if (c.filter_subject) return [c.filter_subject];
  return c.filter_subjects ?? [];
}

/** A durable consumer: one with `durable_name`. */
export function isDurable(c: ConsumerConfig): boolean {
  return (c.durable_name ?? "") !== "";
}

/** Fills defaults in place (setConsumerConfigDefaults); an error only in pedantic mode. */
export function setConsumerDefaults(
  c: ConsumerConfig,
  scfg: StreamConfig,
  lim: ConsumerLimits,
  pedantic: boolean,
): ApiError | undefined {
  c.deliver_policy ??= "all";
  c.ack_policy ??= "none";
  c.replay_policy ??= "instant";
  c.num_replicas ??= 0;
  const md = c.max_deliver ?? 0;
  if (md === 0 || md < -1) {
    if (pedantic && md < -1) return pedanticErr("max_deliver must be set to -1");
    c.max_deliver = -1;
  }
  const neg: [keyof ConsumerConfig, string][] = [
    ["max_waiting", "max_waiting must not be negative"],
    ["max_batch", "max_batch must not be negative"],
    ["max_expires", "max_expires must not be negative"],
    ["max_bytes", "max_bytes must not be negative"],
    ["idle_heartbeat", "idle_heartbeat must not be negative"],
    ["inactive_threshold", "inactive_threshold must not be negative"],
    ["priority_timeout", "priority_timeout must not be negative"],
  ];
  for (const [k, text] of neg) {
    if (((c[k] as number | undefined) ?? 0) < 0) {
      if (pedantic) return pedanticErr(text);
      (c as unknown as Record<string, number>)[k] = 0;
    }
  }
  if ((c.max_ack_pending ?? 0) < -1) {
    if (pedantic) return pedanticErr("max_ack_pending must be set to -1");
    c.max_ack_pending = -1;
  }
  const push = (c.deliver_subject ?? "") !== "";
  if (!push && !c.max_waiting) c.max_waiting = JS_WAIT_QUEUE_DEFAULT_MAX;
  if (!c.ack_wait && c.ack_policy !== "none") c.ack_wait = JS_ACK_WAIT_DEFAULT;
  if (c.backoff && c.backoff.length > 0) {
    if (pedantic && c.ack_wait !== c.backoff[0]) {
      return pedanticErr("first backoff value has to equal batch AckWait");
    }
    c.ack_wait = c.backoff[0];
  }
  const cl = scfg.consumer_limits ?? {};
  if (!c.max_ack_pending) {
    if (pedantic && (cl.max_ack_pending ?? 0) > 0) {
      return pedanticErr("max_ack_pending must be set if it's configured in stream limits");
    }
    if (cl.max_ack_pending) c.max_ack_pending = cl.max_ack_pending;
  }
  if (!c.inactive_threshold) {
    if (pedantic && (cl.inactive_threshold ?? 0) > 0) {
      return pedanticErr("inactive_threshold must be set if it's configured in stream limits");
    }
    if (cl.inactive_threshold) c.inactive_threshold = cl.inactive_threshold;
  }
  if (!c.max_ack_pending && c.ack_policy !== "none") {
    let p = JS_DEFAULT_MAX_ACK_PENDING;
    if (lim.srvMaxAckPending > 0 && lim.srvMaxAckPending < p) p = lim.srvMaxAckPending;
    if (lim.accMaxAckPending > 0 && lim.accMaxAckPending < p) p = lim.accMaxAckPending;
    c.max_ack_pending = p;
  }
  if (!push && !c.max_batch && lim.srvMaxRequestBatch > 0) {
    if (pedantic) return pedanticErr("max_request_batch must be set if it's JetStream limits are set");
    c.max_batch = lim.srvMaxRequestBatch;
  }
  if (c.priority_policy === "pinned_client" && !c.priority_timeout) {
    c.priority_timeout = JS_DEFAULT_PINNED_TTL;
  }
  return undefined;
}

const VALID_GROUP = /^[a-zA-Z0-9/_=-]{1,16}$/;

function isValidAssetName(n: string): boolean {
  return !/[.*>\\/]/.test(n) && !/[\s]/.test(n);
}

function policyErr(text: string): ApiError {
  return newJSError("JSConsumerInvalidPolicyErrF", { err: text });
}

/** True when a deliver subject would feed the stream itself. */
function deliveryFormsCycle(scfg: StreamConfig, subj: string): boolean {
  for (const s of scfg.subjects ?? []) if (subjectIsSubsetMatch(subj, s)) return true;
  return false;
}

/** Checks a defaulted config against its stream (checkConsumerCfg). */
export function checkConsumerCfg(
  c: ConsumerConfig,
  scfg: StreamConfig,
  lim: ConsumerLimits,
): ApiError | undefined {
  if (c.name && !isValidAssetName(c.name)) {
    return newJSError("JSStreamInvalidConfigF", {
      err: "consumer name can not contain '.', '*', '>', '\\', '/'",
    });
  }
  if (c.durable_name && !isValidAssetName(c.durable_name)) {
    return newJSError("JSStreamInvalidConfigF", {
      err: "consumer durable name can not contain '.', '*', '>', '\\', '/'",
    });
  }
  if (c.num_replicas > 0 && c.num_replicas > scfg.num_replicas) {
    return newJSError("JSConsumerReplicasExceedsStream");
  }
  if (c.num_replicas < 0) return newJSError("JSReplicasCountCannotBeNegative");
  if (scfg.retention !== "limits" && c.num_replicas !== 0 && c.num_replicas !== scfg.num_replicas) {
    return newJSError("JSConsumerReplicasShouldMatchStream");
  }
  for (const b of c.backoff ?? []) if (b < 0) return newJSError("JSConsumerBackOffNegativeErr");
  if ((c.ack_wait ?? 0) < 0) return newJSError("JSConsumerAckWaitNegativeErr");
  const lbo = c.backoff?.length ?? 0;
  if (lbo > 0 && c.max_deliver !== -1 && lbo > (c.max_deliver ?? -1)) {
    return newJSError("JSConsumerMaxDeliverBackoffErr");
  }
  if ((c.description ?? "").length > JS_MAX_DESCRIPTION_LEN) {
    return newJSError("JSConsumerDescriptionTooLongErrF", { max: JS_MAX_DESCRIPTION_LEN });
  }
  const ds = c.deliver_subject ?? "";
  if (ds !== "") {
    if (!subjectIsLiteral(ds)) return newJSError("JSConsumerDeliverToWildcardsErr");
    if (!isValidSubject(ds)) return newJSError("JSConsumerInvalidDeliverSubject");
    if (deliveryFormsCycle(scfg, ds)) return newJSError("JSConsumerDeliverCycleErr");
    if (c.max_waiting) return newJSError("JSConsumerPushMaxWaitingErr");
    if ((c.max_ack_pending ?? 0) > 0 && c.ack_policy === "none") {
      return newJSError("JSConsumerMaxPendingAckPolicyRequiredErr");
    }
    if ((c.idle_heartbeat ?? 0) > 0 && (c.idle_heartbeat ?? 0) < 100 * MS) {
      return newJSError("JSConsumerSmallHeartbeatErr");
    }
  } else {
    if (c.ack_policy === "none" && scfg.retention === "workqueue") {
      return newJSError("JSConsumerPullRequiresAckErr");
    }
    if ((c.rate_limit_bps ?? 0) > 0) return newJSError("JSConsumerPullWithRateLimitErr");
    if ((c.max_waiting ?? 0) < 0) return newJSError("JSConsumerMaxWaitingNegativeErr");
    if ((c.idle_heartbeat ?? 0) > 0) return newJSError("JSConsumerHBRequiresPushErr");
    if (c.flow_control) return newJSError("JSConsumerFCRequiresPushErr");
    if ((c.max_batch ?? 0) < 0) return newJSError("JSConsumerMaxRequestBatchNegativeErr");
    const me = c.max_expires ?? 0;
    if (me !== 0 && me < MS) return newJSError("JSConsumerMaxRequestExpiresTooSmall");
    if (lim.srvMaxRequestBatch > 0 && (c.max_batch ?? 0) > lim.srvMaxRequestBatch) {
      return newJSError("JSConsumerMaxRequestBatchExceededF", { limit: lim.srvMaxRequestBatch });
    }
  }
  const map = c.max_ack_pending ?? 0;
  if (lim.srvMaxAckPending > 0 && map > lim.srvMaxAckPending) {
    return newJSError("JSConsumerMaxPendingAckExcessErrF", { limit: lim.srvMaxAckPending });
  }
  if (lim.accMaxAckPending > 0 && map > lim.accMaxAckPending) {
    return newJSError("JSConsumerMaxPendingAckExcessErrF", { limit: lim.accMaxAckPending });
  }
  const cl = scfg.consumer_limits ?? {};
  if ((cl.max_ack_pending ?? 0) > 0 && map > cl.max_ack_pending!) {
    return newJSError("JSConsumerMaxPendingAckExcessErrF", { limit: cl.max_ack_pending! });
  }
  if ((cl.inactive_threshold ?? 0) > 0 && (c.inactive_threshold ?? 0) > cl.inactive_threshold!) {
    return newJSError("JSConsumerInactiveThresholdExcess", { limit: goDurationNs(cl.inactive_threshold!) });
  }
  if (c.direct) {
    if (ds === "") return newJSError("JSConsumerDirectRequiresPushErr");
    if (isDurable(c)) return newJSError("JSConsumerDirectRequiresEphemeralErr");
  }
  if (c.filter_subject && (c.filter_subjects?.length ?? 0) > 0) {
    return newJSError("JSConsumerDuplicateFilterSubjects");
  }
  if (c.filter_subject && !isValidSubject(c.filter_subject)) {
    return newJSError("JSStreamInvalidConfigF", { err: "invalid subject" });
  }
  for (const f of c.filter_subjects ?? []) if (f === "") return newJSError("JSConsumerEmptyFilter");
  const filters = filtersOf(c);
  for (let i = 0; i < filters.length; i++) {
    if (!isValidSubject(filters[i])) return newJSError("JSStreamInvalidConfigF", { err: "invalid subject" });
    for (let j = 0; j < filters.length; j++) {
      if (i !== j && subjectIsSubsetMatch(filters[i], filters[j])) {
        return newJSError("JSConsumerOverlappingSubjectFilters");
      }
    }
  }
  const hasSeq = (c.opt_start_seq ?? 0) > 0;
  const hasTime = c.opt_start_time !== undefined;
  const badStart = (dp: string, start: string) =>
    policyErr(`consumer delivery policy is deliver ${dp}, but optional start ${start} is also set`);
  const notSet = (dp: string, what: string) =>
    policyErr(`consumer delivery policy is deliver ${dp}, but optional ${what} is not set`);
  switch (c.deliver_policy) {
    case "all":
    case "last":
    case "new":
    case "last_per_subject": {
      const dp = c.deliver_policy === "last_per_subject" ? "last per subject" : c.deliver_policy;
      if (hasSeq) return badStart(dp, "sequence");
      if (hasTime) return badStart(dp, "time");
      if (c.deliver_policy === "last_per_subject" && filters.length === 0) {
        return notSet("last per subject", "filter subject");
      }
      break;
    }
    case "by_start_sequence":
      if (!hasSeq) return notSet("by start sequence", "start sequence");
      if (hasTime) return badStart("by start sequence", "time");
      break;
    case "by_start_time":
      if (!hasTime) return notSet("by start time", "start time");
      if (hasSeq) return badStart("by start time", "start sequence");
      if (parseRfc3339(c.opt_start_time!) === undefined) {
        return newJSError("JSInvalidJSONErr", { err: `parsing time "${c.opt_start_time}"` });
      }
      break;
  }
  if (c.sample_freq) {
    const s = c.sample_freq.replace(/%$/, "");
    if (!/^[+-]?\d+$/.test(s) || Number(s) < 0) {
      return newJSError("JSConsumerInvalidSamplingErrF", {
        err: /^[+-]?\d+$/.test(s) ? "<nil>" : `strconv.Atoi: parsing "${s}": invalid syntax`,
      });
    }
  }
  if (c.flow_control && !c.idle_heartbeat) return newJSError("JSConsumerWithFlowControlNeedsHeartbeats");
  if (c.durable_name && c.name && c.name !== c.durable_name) {
    return newJSError("JSConsumerCreateDurableAndNameMismatch");
  }
  let mdLen = 0;
  for (const [k, v] of Object.entries(c.metadata ?? {})) mdLen += k.length + v.length;
  if (mdLen > JS_MAX_METADATA_LEN) {
    return newJSError("JSConsumerMetadataLengthErrF", { limit: `${JS_MAX_METADATA_LEN / 1024}KB` });
  }
  const pp = c.priority_policy ?? "none";
  if (pp !== "none") {
    if (ds !== "") return newJSError("JSConsumerPushWithPriorityGroupErr");
    if ((c.priority_groups?.length ?? 0) === 0) return newJSError("JSConsumerPriorityPolicyWithoutGroup");
    for (const g of c.priority_groups!) {
      if (g === "") return newJSError("JSConsumerEmptyGroupName");
      if (!VALID_GROUP.test(g)) return newJSError("JSConsumerInvalidGroupNameErr");
    }
  } else {
    if ((c.priority_groups?.length ?? 0) > 0) return newJSError("JSConsumerPriorityGroupWithPolicyNone");
    if ((c.priority_timeout ?? 0) > 0) return newJSError("JSConsumerPinnedTTLWithoutPriorityPolicyNone");
  }
  if (c.pause_until !== undefined && parseRfc3339(c.pause_until) === undefined) {
    return newJSError("JSInvalidJSONErr", { err: `parsing time "${c.pause_until}"` });
  }
  return undefined;
}

/** An error text when `next` may not replace `cur` (checkNewConsumerConfig); undefined when allowed. */
export function checkConsumerUpdate(
  cur: ConsumerConfig,
  next: ConsumerConfig,
  deliverBound: boolean,
): string | ApiError | undefined {
  if (sameConfig(cur, next)) return undefined;
  if (cur.deliver_policy !== next.deliver_policy) return "deliver policy can not be updated";
  if ((next.mem_storage ?? false) !== (cur.mem_storage ?? false)) return "storage type can not be updated";
  if ((cur.opt_start_seq ?? 0) !== (next.opt_start_seq ?? 0)) return "start sequence can not be updated";
  if ((cur.opt_start_time ?? "") !== (next.opt_start_time ?? "")) return "start time can not be updated";
  if (cur.ack_policy !== next.ack_policy) return "ack policy can not be updated";
  if (cur.replay_policy !== next.replay_policy) return "replay policy can not be updated";
  if ((cur.idle_heartbeat ?? 0) !== (next.idle_heartbeat ?? 0)) return "heart beats can not be updated";
  if (!!cur.flow_control !== !!next.flow_control) return "flow control can not be updated";
  // The pull/push checks come before max waiting (current reference order): a pull consumer turned push reports
  // the mode change, not its max_waiting going to 0.
  const a = cur.deliver_subject ?? "";
  const b = next.deliver_subject ?? "";
  if (a !== b) {
    if (a === "") return "can not update pull consumer to push based";
    if (b === "") return "can not update push consumer to pull based";
    if (deliverBound) return newJSError("JSConsumerNameExistErr");
  }
  if ((cur.max_waiting ?? 0) !== (next.max_waiting ?? 0)) return "max waiting can not be updated";
  if ((cur.priority_policy ?? "none") !== (next.priority_policy ?? "none")) {
    return "priority policy can not be updated";
  }
  const lbo = next.backoff?.length ?? 0;
  if (lbo > 0 && next.max_deliver !== -1 && (next.max_deliver ?? -1) < lbo) {
    return newJSError("JSConsumerMaxDeliverBackoffErr");
  }
  return undefined;
}

/** Configs equal field by field (undefined and absent alike). */
export function sameConfig(a: ConsumerConfig, b: ConsumerConfig): boolean {
  return JSON.stringify(consumerConfigJson(a)) === JSON.stringify(consumerConfigJson(b));
}

/** Decodes a ConsumerConfig object (already parsed JSON). */
export function decodeConsumerConfig(v: unknown, strict: boolean): ConsumerConfig {
  return decodeStruct(v, "ConsumerConfig", CONSUMER_CONFIG_SCHEMA, strict) as unknown as ConsumerConfig;
}

/**
 * The config in the reference's JSON field order. `metadata` replaces the stored metadata (API responses
 * show it with the dynamic versioning keys).
 */
export function consumerConfigJson(
  c: ConsumerConfig,
  metadata: Record<string, string> | undefined = c.metadata,
): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (c.durable_name) o["durable_name"] = c.durable_name;
  if (c.name) o.name = c.name;
  if (c.description) o.description = c.description;
  o["deliver_policy"] = c.deliver_policy;
  if (c.opt_start_seq) o["opt_start_seq"] = c.opt_start_seq;
  if (c.opt_start_time) o["opt_start_time"] = c.opt_start_time;
  o["ack_policy"] = c.ack_policy;
  if (c.ack_wait) o["ack_wait"] = c.ack_wait;
  if (c.max_deliver) o["max_deliver"] = c.max_deliver;
  if (c.backoff && c.backoff.length > 0) o.backoff = c.backoff;
  if (c.filter_subject) o["filter_subject"] = c.filter_subject;
  if (c.filter_subjects && c.filter_subjects.length > 0) o["filter_subjects"] = c.filter_subjects;
  o["replay_policy"] = c.replay_policy;
  if (c.rate_limit_bps) o["rate_limit_bps"] = c.rate_limit_bps;
  if (c.sample_freq) o["sample_freq"] = c.sample_freq;
  if (c.max_waiting) o["max_waiting"] = c.max_waiting;
  if (c.max_ack_pending) o["max_ack_pending"] = c.max_ack_pending;
  if (c.flow_control) o["flow_control"] = true;
  if (c.headers_only) o["headers_only"] = true;
  if (c.max_batch) o["max_batch"] = c.max_batch;
  if (c.max_expires) o["max_expires"] = c.max_expires;
  if (c.max_bytes) o["max_bytes"] = c.max_bytes;
  if (c.deliver_subject) o["deliver_subject"] = c.deliver_subject;
  if (c.deliver_group) o["deliver_group"] = c.deliver_group;
  if (c.idle_heartbeat) o["idle_heartbeat"] = c.idle_heartbeat;
  if (c.inactive_threshold) o["inactive_threshold"] = c.inactive_threshold;
  o["num_replicas"] = c.num_replicas ?? 0;
  if (c.mem_storage) o["mem_storage"] = true;
  if (c.direct) o.direct = true;
  if (metadata && Object.keys(metadata).length > 0) o.metadata = metadata;
  if (c.pause_until) o["pause_until"] = c.pause_until;
  if (c.priority_groups && c.priority_groups.length > 0) o["priority_groups"] = c.priority_groups;
  if (c.priority_policy && c.priority_policy !== "none") o["priority_policy"] = c.priority_policy;
  if (c.priority_timeout) o["priority_timeout"] = c.priority_timeout;
  return o;
}

/** Go's Duration.String() for a whole number of ns. */
export function goDurationNs(ns: number): string {
  if (ns === 0) return "0s";
  if (ns < 1_000) return `${ns}ns`;
  if (ns < MS) return `${trim(ns / 1_000)}µs`;
  if (ns < 1_000 * MS) return `${trim(ns / MS)}ms`;
  let s = ns / 1e9;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const secs = `${trim(s)}s`;
  if (h > 0) return `${h}h${m}m${secs}`;
  if (m > 0) return `${m}m${secs}`;
  return secs;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
