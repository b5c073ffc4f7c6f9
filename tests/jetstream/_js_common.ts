// Shared helpers of the JetStream test ports (jetstream_ports_*, consumer_ports*, consumer_edge, snapshot tests):
// servers on the real stores (MemStore and FileStore) restartable over one store dir, raw $JS.API requests,
// stream and consumer creation, pull requests and fetches on private inboxes, a synchronous subscription (Go's
// SubscribeSync/NextMsg), ack reply subjects, and stream snapshot/restore over the API. The per-port helper
// modules (_ports_helpers.ts, _ports_b_helpers.ts, _consumer_ports2_helpers.ts) re-export these with their
// defaults.

import { assert } from "@std/assert";
import { headers } from "@nats-io/nats-core";
import type { Msg, MsgHdrs, NatsConnection, Subscription } from "@nats-io/transport-node";
import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options, type Server, startServer } from "../../src/natsdeno.ts";
import { clientFor, jsApi, type TestServer } from "./_helpers.ts";

export { clientFor, jsApi, type TestServer };

export const enc = new TextEncoder();
export const dec = new TextDecoder();
export const MS = 1_000_000;
export const SEC = 1_000 * MS;

// deno-lint-ignore no-explicit-any
export type Json = any;

/** The two storage types Go's tests loop over. */
export const STORAGES = ["memory", "file"] as const;

/** The t.Run names Go uses for the two storage types. */
export function storeName(st: string): string {
  return st === "memory" ? "MemoryStore" : "FileStore";
}

/** A logger that is quiet unless NATSDENO_TEST_LOG is set. */
export function testLog(debug = false): Logger {
  return new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug }, true);
}

/** A JetStream server with the real stores (MemStore and FileStore); storeDir in a fresh temp dir unless given. */
export async function runRealJs(opts: Partial<Options> = {}, prefix = "natsdeno-js-"): Promise<TestServer> {
  const storeDir = opts.storeDir ?? await Deno.makeTempDir({ prefix });
  const full = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir, ...opts });
  return await startServer(full, { log: testLog(full.debug) }) as TestServer;
}

/** Starts a server from full options (a config file's or confOptions'), with the quiet test logger. */
export async function startWith(opts: Options): Promise<TestServer> {
  return await startServer(opts, { log: testLog(opts.debug) }) as TestServer;
}

/** Shuts `s` down, runs `whileDown`, and starts a server with the same options (same store dir, new port). */
export async function restart(s: Server, whileDown?: () => Promise<void>): Promise<TestServer> {
  const opts = { ...s.opts, port: 0 };
  await s.shutdown();
  if (whileDown) await whileDown();
  return await startWith(opts);
}

/** Connects the official client (extra connect options allowed, e.g. user/pass). */
export const conn = clientFor;

/** Asserts that a JS API reply carries no error; returns it. */
export function ok(r: Json): Json {
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** STREAM.CREATE with `cfg` (over `defaults`, e.g. a storage type); fails on an API error. */
export async function addStream(
  nc: NatsConnection,
  cfg: Record<string, unknown>,
  defaults: Record<string, unknown> = {},
): Promise<Json> {
  return ok(await jsApi(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, { ...defaults, ...cfg }));
}

/** STREAM.UPDATE with `cfg` (over `defaults`); the parsed reply (error kept). */
export function updateStream(
  nc: NatsConnection,
  cfg: Record<string, unknown>,
  defaults: Record<string, unknown> = {},
): Promise<Json> {
  return jsApi(nc, `$JS.API.STREAM.UPDATE.${cfg.name}`, { ...defaults, ...cfg });
}

/** STREAM.INFO; fails on an API error. */
export async function streamInfo(nc: NatsConnection, stream: string, req?: unknown): Promise<Json> {
  return ok(await jsApi(nc, `$JS.API.STREAM.INFO.${stream}`, req));
}

/** CONSUMER.INFO; fails on an API error. */
export async function consumerInfo(nc: NatsConnection, stream: string, name: string): Promise<Json> {
  return ok(await jsApi(nc, `$JS.API.CONSUMER.INFO.${stream}.${name}`));
}

/** True while CONSUMER.INFO finds the consumer (any other error than "consumer not found" fails). */
export async function consumerExists(nc: NatsConnection, stream: string, name: string): Promise<boolean> {
  const r = await jsApi(nc, `$JS.API.CONSUMER.INFO.${stream}.${name}`);
  if (r.error === undefined) return true;
  assert(r.error.err_code === 10014, JSON.stringify(r.error));
  return false;
}

/**
 * Creates/updates a consumer through CONSUMER.CREATE.<stream>.<name> (durable or named) or, without a name,
 * the ephemeral CONSUMER.CREATE.<stream>; `legacyDurable` sends durables to CONSUMER.DURABLE.CREATE instead.
 * The parsed reply (error kept).
 */
export function createConsumer(
  nc: NatsConnection,
  stream: string,
  config: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  legacyDurable = false,
): Promise<Json> {
  let subj: string;
  if (legacyDurable) {
    const d = config.durable_name as string | undefined;
    subj = d ? `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${d}` : `$JS.API.CONSUMER.CREATE.${stream}`;
  } else {
    const name = (config.durable_name ?? config.name) as string | undefined;
    subj = name ? `$JS.API.CONSUMER.CREATE.${stream}.${name}` : `$JS.API.CONSUMER.CREATE.${stream}`;
  }
  return jsApi(nc, subj, { "stream_name": stream, config, ...extra });
}

/** createConsumer that fails on an API error; the consumer info. */
export async function addConsumer(
  nc: NatsConnection,
  stream: string,
  config: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<Json> {
  return ok(await createConsumer(nc, stream, config, extra));
}

/** Publishes and returns the parsed pub ack (error kept). */
export async function publish(
  nc: NatsConnection,
  subj: string,
  data: string | Uint8Array = "",
  hdrs?: MsgHdrs,
): Promise<Json> {
  const m = await nc.request(subj, typeof data === "string" ? enc.encode(data) : data, {
    timeout: 2_000,
    headers: hdrs,
  });
  return JSON.parse(dec.decode(m.data));
}

/** Publishes to a stream subject and waits for the ack (Go's sendStreamMsg); fails on an error; the PubAck. */
export async function send(
  nc: NatsConnection,
  subj: string,
  data: string | Uint8Array = "",
  hdrs?: MsgHdrs,
): Promise<Json> {
  return ok(await publish(nc, subj, data, hdrs));
}

/** Message headers from [name, value] pairs. */
export function hdrs(...kv: [string, string][]): MsgHdrs {
  const h = headers();
  for (const [k, v] of kv) h.set(k, v);
  return h;
}

/** A fresh inbox subject. */
export function inbox(): string {
  return `_INBOX.${crypto.randomUUID().replaceAll("-", "")}`;
}

/** A subscription read one message at a time with a timeout (Go's SubscribeSync/NextMsg). */
export class SyncSub {
  readonly q: Msg[] = [];
  readonly #at: number[] = [];
  /** performance.now() at the arrival of the message last returned by next(). */
  lastAt = 0;
  readonly sub: Subscription;
  #wake: (() => void) | null = null;
  constructor(nc: NatsConnection, subject: string, queue?: string) {
    this.sub = nc.subscribe(subject, {
      queue,
      callback: (_e, m) => {
        this.q.push(m);
        this.#at.push(performance.now());
        this.#wake?.();
      },
    });
  }
  /** The next message, or null after `ms`. */
  async next(ms = 1_000): Promise<Msg | null> {
    const end = Date.now() + ms;
    while (this.q.length === 0) {
      const left = end - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          this.#wake = null;
          r();
        }, left);
        this.#wake = () => {
          clearTimeout(t);
          this.#wake = null;
          r();
        };
      });
    }
    this.lastAt = this.#at.shift()!;
    return this.q.shift()!;
  }
  /** The next message; fails after `ms`. */
  async must(ms = 1_000): Promise<Msg> {
    const m = await this.next(ms);
    assert(m !== null, `no message on ${this.sub.getSubject()} within ${ms} ms`);
    return m;
  }
  /** Messages received and not yet read (Go's sub.Pending()). */
  pending(): number {
    return this.q.length;
  }
  unsubscribe(): void {
    this.sub.unsubscribe();
  }
}

/** True for a status message (no payload, a status code in its headers). */
export function isStatus(m: Msg): boolean {
  return m.headers !== undefined && m.headers.code !== 0 && m.data.length === 0;
}

/** The status code of a message ("" when it is not a status). */
export function status(m: Msg): string {
  return m.headers?.code ? String(m.headers.code) : "";
}

/** The status description (Go's Header.Get("Description")). */
export function description(m: Msg): string {
  return m.headers?.description ?? "";
}

/** The pull subject of a consumer (Go's requestNextMsgSubject). */
export function nextSubj(stream: string, consumer: string): string {
  return `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`;
}

/** Sends one pull request with `reply` as the reply subject. */
export function pull(
  nc: NatsConnection,
  s: string,
  c: string,
  reply: string,
  req: Record<string, unknown> | string,
): void {
  const body = typeof req === "string" ? req : JSON.stringify(req);
  nc.publish(nextSubj(s, c), enc.encode(body), { reply });
}

/** Sends one pull request on `reply` (a fresh inbox unless given); the subscription on it (Go's sendRequest). */
export async function pullSub(
  nc: NatsConnection,
  s: string,
  c: string,
  req: Record<string, unknown> | string,
  reply = inbox(),
): Promise<SyncSub> {
  const sub = new SyncSub(nc, reply);
  await nc.flush();
  pull(nc, s, c, reply, req);
  return sub;
}

/** Options of fetch(): ack each message; no_wait instead of an expiry; the least expiry in ms (default 1). */
export interface FetchOpts {
  ack?: boolean;
  noWait?: boolean;
  minExpiresMs?: number;
}

/**
 * Fetches up to `batch` messages through a private inbox within `ms` (Go's Fetch): the pull request expires
 * 50 ms before `ms` (no_wait with `noWait`); stops at the first status other than a heartbeat; acks each
 * message with `ack`.
 */
export async function fetch(
  nc: NatsConnection,
  s: string,
  c: string,
  batch: number,
  ms = 1_000,
  opts: FetchOpts = {},
): Promise<Msg[]> {
  const box = inbox();
  const sub = new SyncSub(nc, box);
  await nc.flush();
  const req: Record<string, unknown> = { batch };
  if (opts.noWait) req.no_wait = true;
  else req.expires = Math.max(opts.minExpiresMs ?? 1, ms - 50) * MS;
  pull(nc, s, c, box, req);
  const out: Msg[] = [];
  const end = Date.now() + ms;
  while (out.length < batch) {
    const m = await sub.next(Math.max(1, end - Date.now()));
    if (m === null) break;
    if (isStatus(m)) {
      if (m.headers!.code === 100) continue;
      break;
    }
    out.push(m);
    if (opts.ack) m.respond();
  }
  sub.unsubscribe();
  return out;
}

/** Acks `m` with a request and waits for the server's reply (Go's AckSync). */
export async function ackSync(nc: NatsConnection, m: Msg, body = "+ACK"): Promise<void> {
  assert(m.reply, "message has no reply subject");
  await nc.request(m.reply, enc.encode(body), { timeout: 2_000 });
}

/** Fields of a $JS.ACK reply subject (v1 or v2 form), as Go's ackReplyInfo and msg.Metadata() read them. */
export interface AckMeta {
  stream: string;
  consumer: string;
  /** Delivery count (also `dc`). */
  delivered: number;
  dc: number;
  sseq: number;
  /** Consumer sequence (also `cseq`). */
  dseq: number;
  cseq: number;
  ts: bigint;
  pending: number;
}

/** Parses the $JS.ACK reply subject of a message (or the subject itself). */
export function ackMeta(m: Msg | string): AckMeta {
  const reply = typeof m === "string" ? m : m.reply!;
  const t = reply.split(".");
  assert(t[0] === "$JS" && t[1] === "ACK", `not an ack subject: ${reply}`);
  // v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>; v2 adds domain and account hash.
  const o = t.length >= 12 ? 4 : 2;
  const delivered = Number(t[o + 2]);
  const dseq = Number(t[o + 4]);
  return {
    stream: t[o],
    consumer: t[o + 1],
    delivered,
    dc: delivered,
    sseq: Number(t[o + 3]),
    dseq,
    cseq: dseq,
    ts: BigInt(t[o + 5]),
    pending: Number(t[o + 6]),
  };
}

/** Takes a snapshot over the API (`opts` added to the request): acks every chunk; the response and the bytes. */
export async function snapshotStream(
  nc: NatsConnection,
  stream: string,
  chunk = 1024,
  opts: Record<string, unknown> = {},
): Promise<[Json, Uint8Array]> {
  const box = inbox();
  const parts: Uint8Array[] = [];
  const done = Promise.withResolvers<void>();
  const sub = nc.subscribe(box, {
    callback: (_e, m) => {
      if (m.data.length === 0) {
        done.resolve();
        return;
      }
      parts.push(m.data.slice());
      if (m.reply) nc.publish(m.reply);
    },
  });
  await nc.flush();
  const r = await jsApi(nc, `$JS.API.STREAM.SNAPSHOT.${stream}`, {
    "deliver_subject": box,
    "chunk_size": chunk,
    ...opts,
  });
  if (r.error === undefined) await done.promise;
  sub.unsubscribe();
  return [r, concat(parts)];
}

/** Restores a snapshot over the API in `chunk`-byte requests; the final reply (or the first error). */
export async function restoreStream(
  nc: NatsConnection,
  stream: string,
  body: unknown,
  data: Uint8Array,
  chunk = 4096,
): Promise<Json> {
  const r = await jsApi(nc, `$JS.API.STREAM.RESTORE.${stream}`, body);
  if (r.error) return r;
  assert(r.type === "io.nats.jetstream.api.v1.stream_restore_response", JSON.stringify(r));
  for (let o = 0; o < data.length; o += chunk) {
    await nc.request(r.deliver_subject, data.subarray(o, o + chunk), { timeout: 5_000 });
  }
  const m = await nc.request(r.deliver_subject, new Uint8Array(0), { timeout: 10_000 });
  return m.json();
}

/** The parts joined into one array. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), o += p.length);
  return out;
}
