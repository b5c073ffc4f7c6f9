// Helpers for the ports of nats-server server/jetstream_test.go in jetstream_ports_a*_test.ts: servers on the real
// stores (MemStore and FileStore), restarts over one store dir, raw JS API shortcuts, and a SubscribeSync look-alike.

import { assert } from "@std/assert";
import { connect, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options, startServer } from "../../src/natsdeno.ts";
import { configToOptions, parseConfig } from "../../src/config/mod.ts";
import type { TestServer } from "./_helpers.ts";

export const enc = new TextEncoder();
export const dec = new TextDecoder();
export const MS = 1_000_000;
export const SEC = 1_000 * MS;

// deno-lint-ignore no-explicit-any
export type Json = any;

/** The two storage types, as Go's MemoryStore/FileStore cases. */
export const STORES = [["MemoryStore", "memory"], ["FileStore", "file"]] as const;

function quietLog(): Logger {
  return new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: false }, true);
}

/** A JetStream server with the real stores; the store dir is a fresh temp dir unless given. */
export async function runJs(opts: Partial<Options> = {}): Promise<TestServer> {
  const storeDir = opts.storeDir ?? await Deno.makeTempDir({ prefix: "natsdeno-jspa-" });
  const full = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir, ...opts });
  return await startServer(full, { log: quietLog() }) as TestServer;
}

/** Options from a config text, on 127.0.0.1 and a random port (store dir set when given). */
export function confOptions(conf: string, storeDir?: string): Options {
  const o = configToOptions(parseConfig(conf));
  return defaultOptions({ ...o, host: "127.0.0.1", port: 0, ...(storeDir ? { storeDir } : {}) });
}

/** A server from a config text; its store dir is a fresh temp dir unless given. */
export async function runConf(conf: string, storeDir?: string): Promise<TestServer> {
  const dir = storeDir ?? await Deno.makeTempDir({ prefix: "natsdeno-jspa-" });
  return await startServer(confOptions(conf, dir), { log: quietLog() }) as TestServer;
}

/** Connects the official client (extra connect options allowed). */
export async function conn(
  s: { port: number },
  extra: Record<string, unknown> = {},
): Promise<NatsConnection & AsyncDisposable> {
  const nc = await connect({ servers: `127.0.0.1:${s.port}`, ...extra });
  return Object.assign(nc, { [Symbol.asyncDispose]: () => nc.close() });
}

/** A raw JS API request; the parsed JSON reply (errors kept). */
export async function api(nc: NatsConnection, subject: string, body: unknown = undefined): Promise<Json> {
  const data = body === undefined
    ? new Uint8Array(0)
    : enc.encode(typeof body === "string" ? body : JSON.stringify(body));
  const m = await nc.request(subject, data, { timeout: 2_000 });
  return JSON.parse(dec.decode(m.data));
}

/** Creates a stream and asserts success; the stream info. */
export async function addStream(nc: NatsConnection, cfg: Record<string, unknown>): Promise<Json> {
  const r = await api(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, cfg);
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** Creates a consumer (durable or ephemeral); the parsed reply, errors kept. */
export function createConsumer(
  nc: NatsConnection,
  stream: string,
  config: Record<string, unknown>,
): Promise<Json> {
  const d = config.durable_name as string | undefined;
  const subj = d ? `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${d}` : `$JS.API.CONSUMER.CREATE.${stream}`;
  return api(nc, subj, { "stream_name": stream, config });
}

/** Creates a consumer and asserts success; the consumer info. */
export async function addConsumer(
  nc: NatsConnection,
  stream: string,
  config: Record<string, unknown>,
): Promise<Json> {
  const r = await createConsumer(nc, stream, config);
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

export function streamInfo(nc: NatsConnection, stream: string): Promise<Json> {
  return api(nc, `$JS.API.STREAM.INFO.${stream}`);
}

export function consumerInfo(nc: NatsConnection, stream: string, name: string): Promise<Json> {
  return api(nc, `$JS.API.CONSUMER.INFO.${stream}.${name}`);
}

/** Publishes and waits for the PubAck; the parsed ack (asserted without error). */
export async function sendStreamMsg(nc: NatsConnection, subj: string, data: string): Promise<Json> {
  const m = await nc.request(subj, enc.encode(data), { timeout: 2_000 });
  const r = JSON.parse(dec.decode(m.data));
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** The pull subject of a consumer (Go's requestNextMsgSubject). */
export function nextSubj(stream: string, consumer: string): string {
  return `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`;
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
  /** Messages queued now. */
  pending(): number {
    return this.q.length;
  }
  unsubscribe(): void {
    this.sub.unsubscribe();
  }
}

/** A status message (no payload, a status code in its headers). */
export function isStatus(m: Msg): boolean {
  return m.headers !== undefined && m.headers.code !== 0 && m.data.length === 0;
}

/** Reply-subject numbers of a delivery: $JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>. */
export function ackMeta(
  m: Msg | string,
): { stream: string; consumer: string; dc: number; sseq: number; dseq: number; ts: bigint; pending: number } {
  const t = (typeof m === "string" ? m : m.reply!).split(".");
  const n = t.length;
  return {
    stream: t[n - 7],
    consumer: t[n - 6],
    dc: Number(t[n - 5]),
    sseq: Number(t[n - 4]),
    dseq: Number(t[n - 3]),
    ts: BigInt(t[n - 2]),
    pending: Number(t[n - 1]),
  };
}

/** A unique inbox. */
export function inbox(): string {
  return `_INBOX.${crypto.randomUUID().replaceAll("-", "")}`;
}

/** Requests the next message of a pull consumer (no body: one message); null on timeout. */
export async function requestNext(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  ms = 1_000,
): Promise<Msg | null> {
  try {
    return await nc.request(nextSubj(stream, consumer), new Uint8Array(0), { timeout: ms });
  } catch {
    return null;
  }
}

/** A directory's entries, recursively, relative paths. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string, rel: string): Promise<void> {
    for await (const e of Deno.readDir(d)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory) await walk(`${d}/${e.name}`, r);
    }
  }
  await walk(dir, "");
  return out.sort();
}

/** `n` random bytes (getRandomValues gives at most 64 KiB per call). */
export function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65_536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65_536)));
  return b;
}
