// ADR-44 versioning metadata of streams and consumers; behaviour follows nats-server
// server/jetstream_versioning.go and its callers in stream.go, consumer.go and jetstream_api.go.
//
// A stored config carries one static key, the API level its features need (`_nats.req.level`, always set by
// a create or update through the API, "0" when nothing newer is used). Two dynamic keys, the server version
// and the API level this server implements, are never stored: they are added to the copies that API
// responses carry. Configs stored before this (no metadata) are recovered as they are.

import { VERSION } from "../protocol/mod.ts";
import type { StreamConfig } from "./_stream_config.ts";
import type { ConsumerConfig } from "./_consumer_config.ts";
import { JS_API_LEVEL } from "./jetstream.ts";

/** The API level a stored asset needs. */
export const JS_REQUIRED_LEVEL_KEY = "_nats.req.level";
/** The version of the server that answered (responses only). */
export const JS_SERVER_VERSION_KEY = "_nats.ver";
/** The API level of the server that answered (responses only). */
export const JS_SERVER_LEVEL_KEY = "_nats.level";

type Metadata = Record<string, string> | undefined;

/** A copy of the metadata without the dynamic keys; undefined stays undefined. */
function withoutDynamic(md: Metadata): Metadata {
  if (md === undefined) return undefined;
  const out = { ...md };
  delete out[JS_SERVER_VERSION_KEY];
  delete out[JS_SERVER_LEVEL_KEY];
  return out;
}

/** The API level the stream's features need: 1 for message TTLs and delete markers, 2 for 2.12 features. */
export function streamRequiredLevel(cfg: StreamConfig): number {
  let level = 0;
  if (cfg.allow_msg_ttl || (cfg.subject_delete_marker_ttl ?? 0) > 0) level = 1;
  if (cfg.allow_msg_counter || cfg.allow_atomic || cfg.allow_msg_schedules || cfg.persist_mode === "async") {
    level = 2;
  }
  return level;
}

/** The API level the consumer's features need: 1 for a pause deadline or a priority policy. */
export function consumerRequiredLevel(cfg: ConsumerConfig): number {
  const paused = !!cfg.pause_until && cfg.pause_until !== "0001-01-01T00:00:00Z";
  const priority = (cfg.priority_policy !== undefined && cfg.priority_policy !== "none") ||
    (cfg.priority_timeout ?? 0) !== 0 || (cfg.priority_groups?.length ?? 0) > 0;
  return paused || priority ? 1 : 0;
}

/** Sets the stored (static) metadata of a stream config to create or update with; drops dynamic keys. */
export function setStaticStreamMetadata(cfg: StreamConfig): void {
  const md = withoutDynamic(cfg.metadata) ?? {};
  md[JS_REQUIRED_LEVEL_KEY] = String(streamRequiredLevel(cfg));
  cfg.metadata = md;
}

/** As setStaticStreamMetadata, for a consumer config. */
export function setStaticConsumerMetadata(cfg: ConsumerConfig): void {
  const md = withoutDynamic(cfg.metadata) ?? {};
  md[JS_REQUIRED_LEVEL_KEY] = String(consumerRequiredLevel(cfg));
  cfg.metadata = md;
}

/**
 * Makes cfg's versioning keys those of prev (dynamic keys dropped, the required level copied or removed), so
 * an equality check with prev ignores versioning differences. An emptied metadata becomes undefined.
 */
function copyVersioning<T extends { metadata?: Record<string, string> }>(cfg: T, prev: T | undefined): void {
  const md = withoutDynamic(cfg.metadata);
  const pv = prev?.metadata?.[JS_REQUIRED_LEVEL_KEY];
  if (pv !== undefined) {
    cfg.metadata = { ...md, [JS_REQUIRED_LEVEL_KEY]: pv };
    return;
  }
  if (md === undefined) return;
  delete md[JS_REQUIRED_LEVEL_KEY];
  cfg.metadata = Object.keys(md).length > 0 ? md : undefined;
}

/** copyStreamMetadata: cfg takes prev's versioning keys, for comparing the two. */
export function copyStreamMetadata(cfg: StreamConfig, prev: StreamConfig | undefined): void {
  copyVersioning(cfg, prev);
}

/** copyConsumerMetadata: cfg takes prev's versioning keys, for comparing the two. */
export function copyConsumerMetadata(cfg: ConsumerConfig, prev: ConsumerConfig | undefined): void {
  copyVersioning(cfg, prev);
}

/**
 * The metadata an API response shows: a copy of the stored one plus this server's version and API level,
 * keys sorted as Go's JSON encoder writes a map.
 */
export function dynamicMetadata(md: Metadata): Record<string, string> {
  const all: Record<string, string> = {
    ...md,
    [JS_SERVER_VERSION_KEY]: VERSION,
    [JS_SERVER_LEVEL_KEY]: String(JS_API_LEVEL),
  };
  const out: Record<string, string> = {};
  for (const k of Object.keys(all).sort()) out[k] = all[k];
  return out;
}
