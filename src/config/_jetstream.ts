// The `jetstream` config block (and `jetstream: enabled`); keys and texts follow nats-server server/opts.go
// parseJetStream and parseJetStreamLimits.

import type { ConfigMap, ConfigValue } from "./_tree.ts";
import {
  asBool,
  asInt,
  asString,
  durationMs,
  FieldFault,
  goType,
  isMap,
  refOf,
  type Report,
} from "./_values.ts";
import type { Options } from "./options.ts";

/** JetStream server limits (`jetstream { limits {} }`); 0 means no limit. */
export interface JetStreamLimitOptions {
  maxAckPending: number;
  maxHaAssets: number;
  maxRequestBatch: number;
  /** Largest duplicate window a stream may have, in ms; 0 = no server limit. */
  duplicateWindowMs: number;
  /** Atomic batch publish limits (`limits { batch {} }`); 0 = the default. */
  batch: BatchLimitOptions;
}

/** `jetstream { limits { batch { … } } }`; 0 keeps the server default. */
export interface BatchLimitOptions {
  maxInflightPerStream: number;
  maxInflightTotal: number;
  /** Messages per batch (`max_msgs`). */
  maxMsgs: number;
  timeoutMs: number;
}

/** The JetStream settings beyond enablement, store_dir and the memory/file maxima. */
export interface JetStreamOptions {
  domain: string;
  /** Strict JSON decoding of API requests (unknown fields rejected); on unless `strict: false`. */
  strict: boolean;
  /** FileStore sync interval in ms; 0 = the default (2m). */
  syncIntervalMs: number;
  /** `sync_interval: always`: fsync every write. */
  syncAlways: boolean;
  /** Encryption at rest: `key`/`ek`/`encryption_key` ("" = off), `prev_key` for rotation, `cipher`. */
  key: string;
  prevKey: string;
  cipher: "chachapoly" | "aes";
  uniqueTag: string;
  extensionHint: string;
  maxOutstandingCatchup: number;
  requestQueueLimit: number;
  limits: JetStreamLimitOptions;
}

/** JetStream settings at their defaults. */
export function defaultJetStreamOptions(): JetStreamOptions {
  return {
    domain: "",
    strict: true,
    syncIntervalMs: 0,
    syncAlways: false,
    key: "",
    prevKey: "",
    cipher: "chachapoly",
    uniqueTag: "",
    extensionHint: "",
    maxOutstandingCatchup: 0,
    requestQueueLimit: 10_000,
    limits: {
      maxAckPending: 0,
      maxHaAssets: 0,
      maxRequestBatch: 0,
      duplicateWindowMs: 0,
      batch: { maxInflightPerStream: 0, maxInflightTotal: 0, maxMsgs: 0, timeoutMs: 0 },
    },
  };
}

/** Keys read but not acted on yet (encryption, TPM, clustering knobs): reported once as unsupported. */
const KEPT_RAW = new Set([
  "tpm",
  "max_buffered_size",
  "max_buffered_msgs",
  "info_queue_limit",
  "max_concurrent_io",
  "meta_compact",
  "meta_compact_size",
  "meta_compact_sync",
]);

const SIZE_UNITS: Record<string, number> = {
  K: 1 << 10,
  KB: 1 << 10,
  KIB: 1 << 10,
  M: 1 << 20,
  MB: 1 << 20,
  MIB: 1 << 20,
  G: 2 ** 30,
  GB: 2 ** 30,
  GIB: 2 ** 30,
  T: 2 ** 40,
  TB: 2 ** 40,
  TIB: 2 ** 40,
};

/** A storage size: an integer, or a string with a K/M/G/T suffix (Go's getStorageSize). */
function storageSize(field: string, v: ConfigValue, kind?: Parameters<typeof asInt>[1]): number {
  if (typeof v === "number") return asInt(v, kind);
  const s = asString(v, kind).trim();
  if (s === "") return 0;
  const m = /^(\d+)\s*([A-Za-z]*)$/.exec(s);
  const mult = m ? (m[2] === "" ? 1 : SIZE_UNITS[m[2].toUpperCase()]) : undefined;
  if (!m || mult === undefined) {
    throw new FieldFault(`${field} strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  }
  return Number(m[1]) * mult;
}

function parseLimits(o: Options, v: ConfigValue, report: Report): void {
  if (!isMap(v)) throw new FieldFault(`Expected a map to define JetStreamLimits, got ${goType(v)}`);
  const l = o.jetStreamOpts.limits;
  for (const [k, val] of Object.entries(v)) {
    const r = refOf(v, k);
    report.guard(r, () => {
      switch (k.toLowerCase()) {
        case "max_ack_pending":
          l.maxAckPending = asInt(val, r?.kind);
          break;
        case "max_ha_assets":
          l.maxHaAssets = asInt(val, r?.kind);
          break;
        case "max_request_batch":
          l.maxRequestBatch = asInt(val, r?.kind);
          break;
        case "duplicate_window":
          l.duplicateWindowMs = durationMs("duplicate_window", val, r?.kind);
          break;
        case "batch":
          parseBatchLimits(l.batch, val, report);
          break;
        default:
          report.unknownField(r, k);
      }
    });
  }
}

function parseBatchLimits(b: BatchLimitOptions, v: ConfigValue, report: Report): void {
  if (!isMap(v)) throw new FieldFault(`Expected a map to define batch limits, got ${goType(v)}`);
  for (const [k, val] of Object.entries(v)) {
    const r = refOf(v, k);
    report.guard(r, () => {
      switch (k.toLowerCase()) {
        case "max_inflight_per_stream":
          b.maxInflightPerStream = asInt(val, r?.kind);
          break;
        case "max_inflight_total":
          b.maxInflightTotal = asInt(val, r?.kind);
          break;
        case "max_msgs":
          b.maxMsgs = asInt(val, r?.kind);
          break;
        case "timeout":
          b.timeoutMs = durationMs("timeout", val, r?.kind);
          break;
        default:
          report.unknownField(r, k);
      }
    });
  }
}

/**
 * Applies `jetstream: <bool|enabled|disabled|{…}>` to the options.
 * @param tree the enclosing config map, for error positions
 */
export function parseJetStream(o: Options, v: ConfigValue, report: Report): void {
  if (typeof v === "boolean") {
    o.jetStream = v;
    return;
  }
  if (typeof v === "string") {
    const s = v.toLowerCase();
    if (s === "enabled" || s === "enable") o.jetStream = true;
    else if (s === "disabled" || s === "disable") o.jetStream = false;
    else throw new FieldFault(`Expected 'enabled' or 'disabled' for string value, got '${v}'`);
    return;
  }
  if (!isMap(v)) {
    throw new FieldFault(`Expected map, bool or string to define JetStream, got ${goType(v)}`);
  }
  o.jetStream = true;
  const js = o.jetStreamOpts;
  const m: ConfigMap = v;
  for (const [k, val] of Object.entries(m)) {
    const r = refOf(m, k);
    report.guard(r, () => {
      const lk = k.toLowerCase();
      switch (lk) {
        case "store":
        case "store_dir":
        case "storedir":
          if (o.storeDir !== "") throw new FieldFault("Duplicate 'store_dir' configuration");
          o.storeDir = asString(val, r?.kind);
          break;
        case "max_memory_store":
        case "max_mem_store":
        case "max_mem":
          o.jetStreamMaxMemory = storageSize("max_mem_store", val, r?.kind);
          break;
        case "max_file_store":
        case "max_file":
          o.jetStreamMaxStore = storageSize("max_file_store", val, r?.kind);
          break;
        case "domain":
          js.domain = asString(val, r?.kind);
          break;
        case "enable":
        case "enabled":
          o.jetStream = asBool(val, r?.kind);
          break;
        case "strict":
          js.strict = asBool(val, r?.kind);
          break;
        case "sync":
        case "sync_interval":
          if (typeof val === "string" && val.toLowerCase() === "always") js.syncAlways = true;
          else js.syncIntervalMs = durationMs(lk, val, r?.kind);
          break;
        case "key":
        case "ek":
        case "encryption_key":
          js.key = asString(val, r?.kind);
          break;
        case "prev_key":
        case "prev_ek":
        case "prev_encryption_key":
          js.prevKey = asString(val, r?.kind);
          break;
        case "cipher": {
          const c = asString(val, r?.kind).toLowerCase();
          if (c === "chacha" || c === "chachapoly") js.cipher = "chachapoly";
          else if (c === "aes") js.cipher = "aes";
          else throw new FieldFault(`Unknown cipher type: ${JSON.stringify(asString(val, r?.kind))}`);
          break;
        }
        case "unique_tag":
          js.uniqueTag = asString(val, r?.kind).trim().toLowerCase();
          break;
        case "extension_hint":
          js.extensionHint = asString(val, r?.kind);
          break;
        case "max_outstanding_catchup":
          js.maxOutstandingCatchup = storageSize(lk, val, r?.kind);
          break;
        case "request_queue_limit":
          js.requestQueueLimit = asInt(val, r?.kind);
          break;
        case "limits":
          parseLimits(o, val, report);
          break;
        default:
          if (KEPT_RAW.has(lk)) {
            const key = `jetstream.${lk}`;
            if (!o.unsupported.includes(key)) o.unsupported.push(key);
            o.unsupportedConfig[key] = val;
          } else report.unknownField(r, k);
      }
    });
  }
}
