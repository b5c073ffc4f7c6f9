// Helpers for consumer_ports2_test.ts and its continuations (ports of nats-server
// server/jetstream_consumer_test.go): a JetStream server on the real stores, raw $JS.API requests, pull
// requests on private inboxes and a synchronous subscription (Go's SubscribeSync/NextMsg).

import { assert } from "@std/assert";
import type { Msg, MsgHdrs, NatsConnection, Subscription } from "@nats-io/transport-node";
import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options, startServer } from "../../src/natsdeno.ts";
import { jsApi, type TestServer } from "./_helpers.ts";

export { clientFor, jsApi, type TestServer } from "./_helpers.ts";

export const enc = new TextEncoder();
export const dec = new TextDecoder();
export const MS = 1_000_000;
export const SEC = 1_000 * MS;
export const STORAGES = ["memory", "file"] as const;

// deno-lint-ignore no-explicit-any
export type Json = any;

/** A JetStream server with the real stores (MemStore and FileStore). */
export async function runServer(opts: Partial<Options> = {}): Promise<TestServer> {
  const storeDir = opts.storeDir ?? await Deno.makeTempDir({ prefix: "natsdeno-jcp2-" });
  const full = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir, ...opts });
  const log = new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: false }, true);
  return await startServer(full, { log }) as TestServer;
}

/** Creates a stream (memory unless the config says otherwise); fails on an API error. */
export async function addStream(nc: NatsConnection, cfg: Record<string, unknown>): Promise<Json> {
  const r = await jsApi(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, { storage: "memory", ...cfg });
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** Updates a stream; the parsed reply (error kept). */
export function updateStream(nc: NatsConnection, cfg: Record<string, unknown>): Promise<Json> {
  return jsApi(nc, `$JS.API.STREAM.UPDATE.${cfg.name}`, { storage: "memory", ...cfg });
}

/** Creates/updates a consumer through CONSUMER.CREATE (named or durable) or, without a name, the ephemeral API. */
export function createConsumer(
  nc: NatsConnection,
  s: string,
  config: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<Json> {
  const name = (config.durable_name ?? config.name) as string | undefined;
  const subj = name ? `$JS.API.CONSUMER.CREATE.${s}.${name}` : `$JS.API.CONSUMER.CREATE.${s}`;
  return jsApi(nc, subj, { "stream_name": s, config, ...extra });
}

/** createConsumer that fails on an API error. */
export async function mustConsumer(
  nc: NatsConnection,
  s: string,
  config: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<Json> {
  const r = await createConsumer(nc, s, config, extra);
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** CONSUMER.INFO; fails on an API error. */
export async function consumerInfo(nc: NatsConnection, s: string, c: string): Promise<Json> {
  const r = await jsApi(nc, `$JS.API.CONSUMER.INFO.${s}.${c}`);
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** STREAM.INFO; fails on an API error. */
export async function streamInfo(nc: NatsConnection, s: string, body?: unknown): Promise<Json> {
  const r = await jsApi(nc, `$JS.API.STREAM.INFO.${s}`, body);
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** Publishes to a stream subject and waits for the ack (Go's sendStreamMsg); returns the PubAck. */
export async function send(nc: NatsConnection, subj: string, data: string, hdrs?: MsgHdrs): Promise<Json> {
  const m = await nc.request(subj, enc.encode(data), { timeout: 2_000, headers: hdrs });
  const r = JSON.parse(dec.decode(m.data));
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** A subscription whose messages are read one at a time with a timeout (Go's SubscribeSync/NextMsg). */
export class SyncSub {
  readonly q: Msg[] = [];
  readonly sub: Subscription;
  #wake: (() => void) | null = null;
  constructor(nc: NatsConnection, subject: string, queue?: string) {
    this.sub = nc.subscribe(subject, {
      queue,
      callback: (_e, m) => {
        this.q.push(m);
        this.#wake?.();
      },
    });
  }
  /** Messages received and not yet read (Go's sub.Pending()). */
  get pending(): number {
    return this.q.length;
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
    return this.q.shift()!;
  }
  /** The next message; fails after `ms`. */
  async must(ms = 1_000): Promise<Msg> {
    const m = await this.next(ms);
    assert(m !== null, `no message on ${this.sub.getSubject()} within ${ms} ms`);
    return m;
  }
  unsubscribe(): void {
    this.sub.unsubscribe();
  }
}

/** True for a status message (no payload, a status code). */
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

/** Sends one pull request with `reply` as the reply subject. */
export function pull(
  nc: NatsConnection,
  s: string,
  c: string,
  reply: string,
  req: Record<string, unknown> | string,
): void {
  const body = typeof req === "string" ? req : JSON.stringify(req);
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${s}.${c}`, enc.encode(body), { reply });
}

/** A fresh inbox subject. */
export function inbox(): string {
  return `_INBOX.${crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * Fetches up to `batch` messages through a private inbox within `ms` (Go's Fetch); acks each when `ack`.
 * Stops at the first status other than a heartbeat.
 */
export async function fetch(
  nc: NatsConnection,
  s: string,
  c: string,
  batch: number,
  ms = 1_000,
  ack = false,
): Promise<Msg[]> {
  const box = inbox();
  const sub = new SyncSub(nc, box);
  await nc.flush();
  pull(nc, s, c, box, { batch, expires: Math.max(1, ms - 50) * MS });
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
    if (ack) m.respond();
  }
  sub.unsubscribe();
  return out;
}

/** Acks with a request and waits for the server's reply (Go's AckSync). */
export async function ackSync(nc: NatsConnection, m: Msg, body = ""): Promise<void> {
  await nc.request(m.reply!, enc.encode(body), { timeout: 1_000 });
}

/** Fields of a $JS.ACK reply subject (v1 or v2 form), as Go's ackReplyInfo and msg.Metadata() read them. */
export interface AckMeta {
  stream: string;
  consumer: string;
  delivered: number;
  sseq: number;
  dseq: number;
  ts: bigint;
  pending: number;
}

/** Parses a $JS.ACK reply subject. */
export function ackMeta(reply: string): AckMeta {
  const t = reply.split(".");
  assert(t[0] === "$JS" && t[1] === "ACK", `not an ack subject: ${reply}`);
  // v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>; v2 adds domain and account hash.
  const o = t.length >= 12 ? 4 : 2;
  return {
    stream: t[o],
    consumer: t[o + 1],
    delivered: Number(t[o + 2]),
    sseq: Number(t[o + 3]),
    dseq: Number(t[o + 4]),
    ts: BigInt(t[o + 5]),
    pending: Number(t[o + 6]),
  };
}
