// StreamConfig: its wire shape, strict decoding, defaults and validation (create and update). Behaviour
// follows nats-server server/stream.go (checkStreamCfg, configUpdateCheck) and jetstream_api.go.

import {
  isValidPublishSubject,
  isValidSubject,
  subjectIsSubsetMatch,
  subjectsCollide,
} from "../sublist/mod.ts";
import { type ApiError, newJSError } from "./api_errors.ts";
import { ANY, B, decodeStruct, DUR, type FieldType, I32, I64, INT, S, type Schema, U64 } from "./_json.ts";
import { SubjectTransform } from "./_transform.ts";

export type RetentionPolicy = "limits" | "interest" | "workqueue";
export type DiscardPolicy = "old" | "new";
export type StorageKind = "file" | "memory";

export interface SubjectTransformConfig {
  src: string;
  dest: string;
}

export interface ExternalStream {
  api: string;
  deliver?: string;
}

export interface StreamSource {
  name: string;
  "opt_start_seq"?: number;
  "opt_start_time"?: string;
  "filter_subject"?: string;
  "subject_transforms"?: SubjectTransformConfig[];
  external?: ExternalStream;
}

export interface RePublish {
  src?: string;
  dest: string;
  "headers_only"?: boolean;
}

export interface Placement {
  cluster?: string;
  tags?: string[];
  preferred?: string;
}

/** A stream's configuration in its JSON wire shape (durations in ns). */
export interface StreamConfig {
  name: string;
  description?: string;
  subjects?: string[];
  retention: RetentionPolicy;
  "max_consumers": number;
  "max_msgs": number;
  "max_bytes": number;
  "max_age": number;
  "max_msgs_per_subject": number;
  "max_msg_size": number;
  discard: DiscardPolicy;
  storage: StorageKind;
  "num_replicas": number;
  "no_ack"?: boolean;
  "template_owner"?: string;
  "duplicate_window"?: number;
  placement?: Placement;
  mirror?: StreamSource;
  sources?: StreamSource[];
  compression?: "none" | "s2";
  "first_seq"?: number;
  "subject_transform"?: SubjectTransformConfig;
  republish?: RePublish;
  "allow_direct": boolean;
  "mirror_direct": boolean;
  "discard_new_per_subject"?: boolean;
  sealed: boolean;
  "deny_delete": boolean;
  "deny_purge": boolean;
  "allow_rollup_hdrs": boolean;
  "consumer_limits"?: { "inactive_threshold"?: number; "max_ack_pending"?: number };
  metadata?: Record<string, string>;
  "allow_msg_ttl"?: boolean;
  "subject_delete_marker_ttl"?: number;
  "allow_msg_counter"?: boolean;
  "allow_atomic"?: boolean;
  "allow_msg_schedules"?: boolean;
  "persist_mode"?: "default" | "async";
  "allow_batched"?: boolean;
}

const TRANSFORM: FieldType = { t: "obj", name: "SubjectTransformConfig", fields: { src: S, dest: S } };
const SOURCE: Schema = {
  name: S,
  "opt_start_seq": U64,
  "opt_start_time": S,
  "filter_subject": S,
  "subject_transforms": { t: "list", of: TRANSFORM },
  external: { t: "obj", name: "ExternalStream", fields: { api: S, deliver: S } },
  consumer: ANY,
};
const cannot = (v: string) => `can not unmarshal ${v}`;

/** The JSON fields of StreamConfig (plus `pedantic` of the create request). */
export const STREAM_CONFIG_SCHEMA: Schema = {
  name: S,
  description: S,
  subjects: { t: "list", of: S },
  retention: { t: "enum", values: ["limits", "interest", "workqueue"], msg: cannot },
  "max_consumers": INT,
  "max_msgs": I64,
  "max_bytes": I64,
  "max_age": DUR,
  "max_msgs_per_subject": I64,
  "max_msg_size": I32,
  discard: { t: "enum", values: ["old", "new"], msg: cannot, fold: true },
  storage: { t: "enum", values: ["file", "memory"], msg: cannot },
  "num_replicas": INT,
  "no_ack": B,
  "template_owner": S,
  "duplicate_window": DUR,
  placement: {
    t: "obj",
    name: "Placement",
    fields: { cluster: S, tags: { t: "list", of: S }, preferred: S },
  },
  mirror: { t: "obj", name: "StreamSource", fields: SOURCE },
  sources: { t: "list", of: { t: "obj", name: "StreamSource", fields: SOURCE } },
  compression: { t: "enum", values: ["none", "s2"], msg: () => "unknown compression algorithm" },
  "first_seq": U64,
  "subject_transform": TRANSFORM,
  republish: { t: "obj", name: "RePublish", fields: { src: S, dest: S, "headers_only": B } },
  "allow_direct": B,
  "mirror_direct": B,
  "discard_new_per_subject": B,
  sealed: B,
  "deny_delete": B,
  "deny_purge": B,
  "allow_rollup_hdrs": B,
  "consumer_limits": {
    t: "obj",
    name: "StreamConsumerLimits",
    fields: { "inactive_threshold": DUR, "max_ack_pending": INT },
  },
  metadata: { t: "map" },
  "allow_msg_ttl": B,
  "subject_delete_marker_ttl": DUR,
  "allow_msg_counter": B,
  "allow_atomic": B,
  "allow_msg_schedules": B,
  "persist_mode": { t: "enum", values: ["default", "async"], msg: cannot },
  "allow_batched": B,
  pedantic: B,
};

/** Decodes a StreamConfig request body (already JSON-parsed); `pedantic` is split off. */
export function decodeStreamConfig(
  v: unknown,
  strict: boolean,
): { cfg: Partial<StreamConfig>; pedantic: boolean } {
  const o = decodeStruct(v, "StreamConfig", STREAM_CONFIG_SCHEMA, strict) as Partial<StreamConfig> & {
    pedantic?: boolean;
  };
  const pedantic = o.pedantic === true;
  delete o.pedantic;
  return { cfg: o, pedantic };
}

export const JS_MAX_NAME_LEN = 255;
export const JS_MAX_DESCRIPTION_LEN = 4 * 1024;
export const JS_MAX_METADATA_LEN = 128 * 1024;
export const STREAM_MAX_REPLICAS = 5;
export const DEFAULT_DUPLICATES_WINDOW_NS = 120_000_000_000;
const MS_100 = 100_000_000;
const SECOND = 1_000_000_000;

/** A valid stream or consumer name: non-empty, no '.', '*', '>' and no whitespace. */
export function isValidName(name: string): boolean {
  if (name === "") return false;
  return !/[.*>\s]/.test(name);
}

/** What checkStreamCfg needs of its surroundings. */
export interface StreamCfgContext {
  /** Server duplicate_window limit in ns; 0 = none. */
  maxDuplicatesNs: number;
  /** Looks up another stream's config in the same account. */
  lookup(name: string): StreamConfig | undefined;
  /** Account limits: max bytes required, and the per-stream max bytes (0 = none). */
  maxBytesRequired: boolean;
  maxStreamBytes: number;
}

function invalid(err: string): ApiError {
  return newJSError("JSStreamInvalidConfigF", { err });
}

function pedanticErr(err: string): ApiError {
  return newJSError("JSPedanticErrF", { err });
}

/** Applies defaults and validates a stream config; returns the effective config or the API error. */
export function checkStreamCfg(
  config: Partial<StreamConfig> | undefined,
  ctx: StreamCfgContext,
  pedantic = false,
): StreamConfig | ApiError {
  if (config === undefined) return invalid("stream configuration invalid");
  const name = config.name ?? "";
  if (!isValidName(name)) return invalid("stream name is required and can not contain '.', '*', '>'");
  if (name.length > JS_MAX_NAME_LEN) {
    return invalid(`stream name is too long, maximum allowed is ${JS_MAX_NAME_LEN}`);
  }
  if ((config.description ?? "").length > JS_MAX_DESCRIPTION_LEN) {
    return invalid(`stream description is too long, maximum allowed is ${JS_MAX_DESCRIPTION_LEN}`);
  }
  let mdLen = 0;
  for (const [k, v] of Object.entries(config.metadata ?? {})) mdLen += k.length + v.length;
  if (mdLen > JS_MAX_METADATA_LEN) {
    return invalid(`stream metadata exceeds maximum size of ${JS_MAX_METADATA_LEN} bytes`);
  }
  const cfg: StreamConfig = {
    ...config,
    name,
    retention: config.retention ?? "limits",
    "max_consumers": config.max_consumers || -1,
    "max_msgs": config.max_msgs || -1,
    "max_bytes": config.max_bytes || -1,
    "max_age": config.max_age ?? 0,
    "max_msgs_per_subject": config.max_msgs_per_subject || -1,
    "max_msg_size": config.max_msg_size || -1,
    discard: config.discard ?? "old",
    storage: config.storage ?? "file",
    "num_replicas": config.num_replicas || 1,
    "allow_direct": config.allow_direct ?? false,
    "mirror_direct": config.mirror_direct ?? false,
    sealed: config.sealed ?? false,
    "deny_delete": config.deny_delete ?? false,
    "deny_purge": config.deny_purge ?? false,
    "allow_rollup_hdrs": config.allow_rollup_hdrs ?? false,
  };
  if (config.subjects) cfg.subjects = [...config.subjects];
  if (config.republish) cfg.republish = { ...config.republish };
  if (cfg.num_replicas > STREAM_MAX_REPLICAS) return invalid(`maximum replicas is ${STREAM_MAX_REPLICAS}`);
  if (cfg.num_replicas < 0) return newJSError("JSReplicasCountCannotBeNegative");
  if (!cfg.duplicate_window && cfg.mirror === undefined) {
    let maxWindow = DEFAULT_DUPLICATES_WINDOW_NS;
    if (ctx.maxDuplicatesNs > 0 && maxWindow > ctx.maxDuplicatesNs) {
      if (pedantic) {
        return pedanticErr("pedantic mode: duplicate window limits are higher than current limits");
      }
      maxWindow = ctx.maxDuplicatesNs;
    }
    if (cfg.max_age !== 0 && cfg.max_age < maxWindow) {
      if (pedantic) return pedanticErr("pedantic mode: duplicate window cannot be bigger than max age");
      cfg.duplicate_window = cfg.max_age;
    } else cfg.duplicate_window = maxWindow;
  }
  const dup = cfg.duplicate_window ?? 0;
  if (cfg.max_age > 0 && cfg.max_age < MS_100) return invalid("max age needs to be >= 100ms");
  if (dup < 0) return invalid("duplicates window can not be negative");
  if (cfg.max_age !== 0 && dup > cfg.max_age) {
    return invalid("duplicates window can not be larger then max age");
  }
  if (ctx.maxDuplicatesNs > 0 && dup > ctx.maxDuplicatesNs) {
    return invalid(
      `duplicates window can not be larger then server limit of ${goDuration(ctx.maxDuplicatesNs)}`,
    );
  }
  if (dup > 0 && dup < MS_100) return invalid("duplicates window needs to be >= 100ms");
  if (cfg.deny_purge && cfg.allow_rollup_hdrs) return invalid("roll-ups require the purge permission");
  // A counter's next value is computed from its last one: no settings that drop or expire values.
  if (cfg.allow_msg_counter) {
    if (cfg.discard === "new") return invalid("counter stream cannot use discard new");
    if (cfg.allow_msg_ttl) return invalid("counter stream cannot use message TTLs");
    if (cfg.allow_msg_schedules) return invalid("counter stream cannot use message schedules");
    if (cfg.retention !== "limits") return invalid("counter stream can only use limits retention");
  }
  if (cfg.discard_new_per_subject) {
    if (cfg.discard !== "new") {
      return invalid("discard new per subject requires discard new policy to be set");
    }
    if (cfg.max_msgs_per_subject <= 0) {
      return invalid("discard new per subject requires max msgs per subject > 0");
    }
  }
  // Subject delete markers need message TTLs and roll-ups: pedantic requests must ask for them, others get
  // them turned on (the current reference; 2.11 refused the config).
  const sdm = cfg.subject_delete_marker_ttl ?? 0;
  if (sdm > 0) {
    if (sdm < SECOND) return invalid("subject delete marker TTL must be at least 1 second");
    if (!cfg.allow_msg_ttl) {
      if (pedantic) return invalid("subject delete marker cannot be set if message TTLs are disabled");
      cfg.allow_msg_ttl = true;
    }
    if (!cfg.allow_rollup_hdrs) {
      if (pedantic) return invalid("subject delete marker cannot be set if roll-ups are disabled");
      cfg.allow_rollup_hdrs = true;
      cfg.deny_purge = false;
    }
  } else if (sdm < 0) return invalid("subject delete marker TTL must not be negative");

  const streamSubs: string[] = [];
  const deliveryPrefixes: string[] = [];
  const apiPrefixes: string[] = [];
  if (cfg.mirror !== undefined) {
    const m = cfg.mirror;
    if ((cfg.first_seq ?? 0) > 0) return newJSError("JSMirrorWithFirstSeqErr");
    if ((cfg.subjects ?? []).length > 0) return newJSError("JSMirrorWithSubjectsErr");
    if ((cfg.sources ?? []).length > 0) return newJSError("JSMirrorWithSourcesErr");
    if (m.filter_subject && (m.subject_transforms ?? []).length !== 0) {
      return newJSError("JSMirrorMultipleFiltersNotAllowed");
    }
    if (sdm > 0) return invalid("subject delete markers forbidden on mirrors");
    if (cfg.allow_msg_counter) return newJSError("JSMirrorWithCountersErr");
    if (cfg.allow_msg_schedules) return newJSError("JSMirrorWithMsgSchedulesErr");
    if (cfg.allow_atomic) return newJSError("JSMirrorWithAtomicPublishErr");
    const trs = m.subject_transforms ?? [];
    for (let i = 0; i < trs.length; i++) {
      const tr = trs[i];
      if (tr.src && !isValidSubject(tr.src)) {
        return newJSError("JSMirrorInvalidSubjectFilter", { err: `invalid subject ${tr.src}` });
      }
      const err = SubjectTransform.validate(tr.src, tr.dest);
      if (err) return newJSError("JSMirrorInvalidTransformDestination", { err });
      for (let j = 0; j < trs.length; j++) {
        if (i !== j && subjectsCollide(tr.src, trs[j].src)) {
          return newJSError("JSMirrorOverlappingSubjectFilters");
        }
      }
    }
    if (m.external === undefined) {
      if (!isValidName(m.name)) return newJSError("JSMirrorInvalidStreamName");
      const o = ctx.lookup(m.name);
      if (o !== undefined) {
        streamSubs.push(...(o.subjects ?? []));
        if (cfg.max_msg_size > 0 && o.max_msg_size > 0 && cfg.max_msg_size < o.max_msg_size) {
          return newJSError("JSMirrorMaxMessageSizeTooBigErr");
        }
        if (pedantic && cfg.mirror_direct !== o.allow_direct) {
          return pedanticErr("origin stream has direct get set, mirror has it disabled");
        }
        cfg.mirror_direct = o.allow_direct;
      }
    } else {
      if (m.external.deliver) deliveryPrefixes.push(m.external.deliver);
      if (m.external.api) apiPrefixes.push(m.external.api);
    }
  }
  const inames = new Set<string>();
  for (const src of cfg.sources ?? []) {
    if (!isValidName(src.name)) return newJSError("JSSourceInvalidStreamName");
    const iname = sourceIndexName(src);
    if (inames.has(iname)) return newJSError("JSSourceDuplicateDetected");
    inames.add(iname);
    if (cfg.allow_msg_schedules) return newJSError("JSSourceWithMsgSchedulesErr");
    if (src.external === undefined) {
      const o = ctx.lookup(src.name);
      if (o !== undefined) {
        streamSubs.push(...(o.subjects ?? []));
        if (cfg.max_msg_size > 0 && o.max_msg_size > 0 && cfg.max_msg_size < o.max_msg_size) {
          return newJSError("JSSourceMaxMessageSizeTooBigErr");
        }
      }
      const trs = src.subject_transforms ?? [];
      if (src.filter_subject && trs.length !== 0) return newJSError("JSSourceMultipleFiltersNotAllowed");
      for (const tr of trs) {
        if (tr.src && !isValidSubject(tr.src)) {
          return newJSError("JSSourceInvalidSubjectFilter", { err: `invalid subject ${tr.src}` });
        }
        const err = SubjectTransform.validate(tr.src, tr.dest);
        if (err) return newJSError("JSSourceInvalidTransformDestination", { err });
      }
      for (let i = 0; i < trs.length; i++) {
        for (let j = 0; j < trs.length; j++) {
          if (i !== j && subjectIsSubsetMatch(trs[i].src, trs[j].src)) {
            return newJSError("JSSourceOverlappingSubjectFilters");
          }
        }
      }
    } else {
      if (src.external.deliver) deliveryPrefixes.push(src.external.deliver);
      if (src.external.api) apiPrefixes.push(src.external.api);
    }
  }
  for (const pfx of deliveryPrefixes) {
    if (!isValidPublishSubject(pfx)) {
      return newJSError("JSStreamInvalidExternalDeliverySubjErrF", { prefix: pfx });
    }
    for (const sub of streamSubs) {
      if (subjectsCollide(sub, `${pfx}.${sub}`)) {
        return newJSError("JSStreamExternalDelPrefixOverlapsErrF", { prefix: pfx, subject: sub });
      }
    }
  }
  for (const pfx of apiPrefixes) {
    if (!isValidPublishSubject(pfx)) {
      return invalid(
        `stream external api prefix ${JSON.stringify(pfx)} must be a valid subject without wildcards`,
      );
    }
    if (subjectsCollide(pfx, "$JS.API")) {
      return newJSError("JSStreamExternalApiOverlapErrF", { prefix: pfx, subject: "$JS.API" });
    }
  }
  // Cycles through sources and mirrors of this account.
  const toVisit: StreamConfig[] = [cfg];
  const visited = new Set<string>();
  const overlaps = (subjects: string[], filter: string | undefined) =>
    !filter || subjects.some((s) => subjectsCollide(s, filter));
  while (toVisit.length > 0) {
    const c = toVisit.shift()!;
    visited.add(c.name);
    for (const src of c.sources ?? []) {
      if (src.external !== undefined) continue;
      if (visited.has(src.name)) {
        if (overlaps(c.subjects ?? [], src.filter_subject)) return invalid("detected cycle");
      } else {
        const o = ctx.lookup(src.name);
        if (o !== undefined) toVisit.push(o);
      }
    }
    const m = c.mirror;
    if (m !== undefined && m.external === undefined) {
      if (visited.has(m.name)) return invalid("detected cycle");
      const o = ctx.lookup(m.name);
      if (o !== undefined) toVisit.push(o);
    }
  }

  const subjects = cfg.subjects ?? [];
  if (subjects.length === 0) {
    if (cfg.mirror === undefined && (cfg.sources ?? []).length === 0) cfg.subjects = [cfg.name];
  } else {
    if (cfg.mirror !== undefined) return newJSError("JSMirrorWithSubjectsErr");
    const seen = new Set<string>();
    for (const subj of subjects) {
      if (!isValidSubject(subj)) return invalid("invalid subject");
      if (seen.has(subj)) return invalid("duplicate subjects detected");
      if (subj === ">") {
        if (!cfg.no_ack) return invalid("capturing all subjects requires no-ack to be true");
        if (cfg.num_replicas !== 1) return invalid("capturing all subjects requires replicas of 1");
      }
      if (
        !cfg.no_ack && (subjectIsSubsetMatch(subj, "$JS.>") || subjectIsSubsetMatch(subj, "$JSC.>")) &&
        !subjectIsSubsetMatch(subj, "$JS.EVENT.>")
      ) {
        return invalid("subjects that overlap with jetstream api require no-ack to be true");
      }
      if (
        !cfg.no_ack && subjectIsSubsetMatch(subj, "$SYS.>") && !subjectIsSubsetMatch(subj, "$SYS.ACCOUNT.>")
      ) {
        return invalid("subjects that overlap with system api require no-ack to be true");
      }
      seen.add(subj);
    }
  }
  if ((cfg.subjects ?? []).length === 0 && (cfg.sources ?? []).length === 0 && cfg.mirror === undefined) {
    return invalid("stream needs at least one configured subject or be a source/mirror");
  }
  if (ctx.maxBytesRequired && cfg.max_bytes <= 0) return newJSError("JSStreamMaxBytesRequired");
  if (ctx.maxStreamBytes > 0 && cfg.max_bytes > ctx.maxStreamBytes) {
    return newJSError("JSStreamMaxStreamBytesExceeded");
  }
  const subs = cfg.subjects ?? [];
  if (subs.length > 1) {
    for (const a of subs) {
      for (const b of subs) {
        if (a !== b && subjectsCollide(a, b)) {
          return invalid(`subject ${JSON.stringify(a)} overlaps with ${JSON.stringify(b)}`);
        }
      }
    }
  }
  if (cfg.republish !== undefined) {
    if (!cfg.republish.src) {
      if (pedantic) return pedanticErr("pedantic mode: republish source can not be empty");
      cfg.republish.src = ">";
    }
    for (const subj of subs) {
      if (subjectsCollide(cfg.republish.dest, subj)) {
        return invalid("stream configuration for republish destination forms a cycle");
      }
    }
    if (SubjectTransform.validate(cfg.republish.src, cfg.republish.dest) !== undefined) {
      return invalid(
        `stream configuration for republish with transform from '${cfg.republish.src}' to '${cfg.republish.dest}' not valid`,
      );
    }
  }
  const st = cfg.subject_transform;
  if (st !== undefined) {
    if (st.src && !isValidSubject(st.src)) {
      return newJSError("JSStreamTransformInvalidSource", { err: `invalid subject ${st.src}` });
    }
    const err = SubjectTransform.validate(st.src, st.dest);
    if (err) return newJSError("JSStreamTransformInvalidDestination", { err });
  }
  if (cfg.placement?.preferred) return invalid("preferred server not permitted in placement");
  if (cfg.allow_msg_schedules && cfg.discard === "new") {
    return invalid("message schedules can not be used with discard new policy");
  }
  return cfg;
}

/** The config update rules: what may change on an existing stream. */
export function checkStreamUpdate(old: StreamConfig, cfg: StreamConfig): StreamConfig | ApiError {
  if (cfg.name !== old.name) return invalid("stream configuration name must match original");
  if (cfg.max_consumers !== old.max_consumers) {
    return invalid("stream configuration update can not change MaxConsumers");
  }
  if (cfg.storage !== old.storage) return invalid("stream configuration update can not change storage type");
  if (cfg.retention !== old.retention && (old.retention === "workqueue" || cfg.retention === "workqueue")) {
    return invalid("stream configuration update can not change retention policy to/from workqueue");
  }
  if (old.template_owner) return invalid("stream configuration update not allowed on template owned stream");
  if (cfg.template_owner) return invalid("stream configuration update can not be owned by a template");
  if (!cfg.sealed && old.sealed) return invalid("stream configuration update can not unseal a sealed stream");
  if (!cfg.deny_delete && old.deny_delete) {
    return invalid("stream configuration update can not cancel deny message deletes");
  }
  if (!cfg.deny_purge && old.deny_purge) {
    return invalid("stream configuration update can not cancel deny purge");
  }
  if (JSON.stringify(cfg.mirror) !== JSON.stringify(old.mirror)) {
    return newJSError("JSStreamMirrorNotUpdatableErr");
  }
  // Message TTLs may be turned on by an update, not off.
  if (!cfg.allow_msg_ttl && old.allow_msg_ttl) return invalid("message TTL status can not be disabled");
  if (!!cfg.allow_msg_counter !== !!old.allow_msg_counter) {
    return invalid("stream configuration update can not change message counter setting");
  }
  if (cfg.sealed) {
    cfg.max_age = 0;
    cfg.discard = "new";
    cfg.deny_delete = true;
    cfg.deny_purge = true;
    cfg.allow_rollup_hdrs = false;
  }
  return cfg;
}

/** The index name of a source (name, filter and transforms), used for duplicate detection. */
export function sourceIndexName(src: StreamSource): string {
  let s = src.name;
  if (src.external?.api) s += ":" + hash(src.external.api);
  if (src.filter_subject) s += " " + src.filter_subject;
  for (const tr of src.subject_transforms ?? []) s += ` ${tr.src}>${tr.dest}`;
  return s;
}

function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}

/** Go's time.Duration String() for whole-unit durations in ns (e.g. "1m0s", "500ms"). */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  if (ns < 1_000) return `${ns}ns`;
  if (ns < 1_000_000) return `${ns / 1_000}µs`;
  if (ns < SECOND) return `${ns / 1_000_000}ms`;
  let s = ns / SECOND;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const secs = `${Number(s.toFixed(9))}s`;
  if (h > 0) return `${h}h${m}m${secs}`;
  if (m > 0) return `${m}m${secs}`;
  return secs;
}

/**
 * The config in the reference's JSON field order; newer optional fields only when set. `metadata` replaces
 * the stored metadata (API responses show it with the dynamic versioning keys).
 */
export function streamConfigJson(
  c: StreamConfig,
  metadata: Record<string, string> | undefined = c.metadata,
): Record<string, unknown> {
  const o: Record<string, unknown> = { name: c.name };
  if (c.description) o.description = c.description;
  if (c.subjects && c.subjects.length > 0) o.subjects = c.subjects;
  o.retention = c.retention;
  o["max_consumers"] = c.max_consumers;
  o["max_msgs"] = c.max_msgs;
  o["max_bytes"] = c.max_bytes;
  o["max_age"] = c.max_age;
  o["max_msgs_per_subject"] = c.max_msgs_per_subject;
  o["max_msg_size"] = c.max_msg_size;
  o.discard = c.discard;
  o.storage = c.storage;
  o["num_replicas"] = c.num_replicas;
  if (c.no_ack) o["no_ack"] = true;
  if (c.template_owner) o["template_owner"] = c.template_owner;
  if (c.duplicate_window) o["duplicate_window"] = c.duplicate_window;
  if (c.placement) o.placement = c.placement;
  if (c.mirror) o.mirror = c.mirror;
  if (c.sources && c.sources.length > 0) o.sources = c.sources;
  if (c.compression && c.compression !== "none") o.compression = c.compression;
  if (c.first_seq) o["first_seq"] = c.first_seq;
  if (c.subject_transform) o["subject_transform"] = c.subject_transform;
  if (c.republish) o.republish = c.republish;
  o["allow_direct"] = c.allow_direct;
  o["mirror_direct"] = c.mirror_direct;
  if (c.discard_new_per_subject) o["discard_new_per_subject"] = true;
  o.sealed = c.sealed;
  o["deny_delete"] = c.deny_delete;
  o["deny_purge"] = c.deny_purge;
  o["allow_rollup_hdrs"] = c.allow_rollup_hdrs;
  const cl = c.consumer_limits;
  if (cl && (cl.inactive_threshold || cl.max_ack_pending)) o["consumer_limits"] = cl;
  if (c.allow_msg_ttl) o["allow_msg_ttl"] = true;
  if (c.subject_delete_marker_ttl) o["subject_delete_marker_ttl"] = c.subject_delete_marker_ttl;
  if (c.allow_msg_counter) o["allow_msg_counter"] = true;
  if (c.allow_atomic) o["allow_atomic"] = true;
  if (c.allow_msg_schedules) o["allow_msg_schedules"] = true;
  if (c.persist_mode && c.persist_mode !== "default") o["persist_mode"] = c.persist_mode;
  if (c.allow_batched) o["allow_batched"] = true;
  if (metadata && Object.keys(metadata).length > 0) o.metadata = metadata;
  return o;
}
