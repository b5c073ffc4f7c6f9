// The JSON of the meta.inf files of file streams and consumers, as nats-server writes them (FileStreamInfo:
// "Created" and the stream config's fields; FileConsumerInfo: "Created", "Name" and the consumer config's
// fields), so a store directory moves between natsdeno and nats-server. natsdeno's older
// {"created": "<ns>", "config": {…}} form is still read.

import { nowNs, parseRfc3339, rfc3339Nano } from "./_headers.ts";
import { type StreamConfig, streamConfigJson } from "./_stream_config.ts";
import { type ConsumerConfig, consumerConfigJson } from "./_consumer_config.ts";

/** A stream's meta.inf body. */
export function streamMetaJson(config: StreamConfig, created: bigint): Record<string, unknown> {
  return { Created: rfc3339Nano(created), ...streamConfigJson(config) };
}

/** A consumer's meta.inf body. */
export function consumerMetaJson(
  name: string,
  config: ConsumerConfig,
  created: bigint,
): Record<string, unknown> {
  return { Created: rfc3339Nano(created), Name: name, ...consumerConfigJson(config) };
}

/** The config and creation time of a meta.inf body in either form; undefined config when it has none. */
export function parseMetaJson<T>(meta: unknown): { config?: T; created?: bigint } {
  if (typeof meta !== "object" || meta === null) return {};
  const m = meta as Record<string, unknown>;
  if (typeof m.config === "object" && m.config !== null) {
    // natsdeno's older form: created in nanoseconds as a string.
    const created = typeof m.created === "string" && /^\d+$/.test(m.created) ? BigInt(m.created) : undefined;
    return { config: m.config as T, created };
  }
  if (typeof m.name !== "string" && typeof m.Name !== "string" && typeof m.durable_name !== "string") {
    return {};
  }
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (k !== "Created" && k !== "created" && k !== "Name") config[k] = v;
  }
  const c = m.Created ?? m.created;
  const created = typeof c === "string" ? parseRfc3339(c) : undefined;
  return { config: config as T, created: created === undefined || created <= 0n ? nowNs() : created };
}

/** Anything whose store may persist a config (a FileStore or one of its consumer stores). */
interface Persisted<T> {
  readonly config: T;
  readonly created?: bigint;
  readonly store: unknown;
}

/**
 * Saves a file stream's config (meta.inf) now, with `config` in place of its current one when given; throws
 * what the write threw, so the create or update that needs it can be refused. A memory stream saves nothing.
 */
export function saveStreamMeta(s: Persisted<StreamConfig>, config = s.config): void {
  (s.store as { setMeta?: (m: unknown) => void }).setMeta?.(streamMetaJson(config, s.created ?? 0n));
}

/** As saveStreamMeta, for a consumer (`name`: its directory under obs/). */
export function saveConsumerMeta(c: Persisted<ConsumerConfig> & { name: string }, config = c.config): void {
  (c.store as { setMeta?: (m: unknown) => void }).setMeta?.(
    consumerMetaJson(c.name, config, c.created ?? 0n),
  );
}
