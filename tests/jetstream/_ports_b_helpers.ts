// Helpers for the ports of nats-server server/jetstream_test.go in jetstream_ports_b*_test.ts: servers with the
// real stores (from options or a config file, restartable on the same store dir), raw JS API calls, push and
// pull consumers driven the way nats.go's JetStream context drives them.

import { assert } from "@std/assert";
import {
  connect,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";
import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options, type Server, startServer } from "../../src/natsdeno.ts";
import { loadOptions } from "../../src/config/mod.ts";
import { FileStore } from "../../src/store/mod.ts";
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

function quietLog(opts: Options): Logger {
  return new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: opts.debug }, true);
}

/** A JetStream server with the real stores (MemStore and FileStore); storeDir in a fresh temp dir unless given. */
export async function runServer(opts: Partial<Options> = {}): Promise<TestServer> {
  const storeDir = opts.storeDir ?? await Deno.makeTempDir({ prefix: "natsdeno-jspb-" });
  const full = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir, ...opts });
  return await startServer(full, { log: quietLog(full) }) as TestServer;
}

/** Writes `content` to a config file in a fresh temp dir; returns its path. */
export async function createConfFile(content: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-jspb-conf-" });
  const path = `${dir}/server.conf`;
  await Deno.writeTextFile(path, content);
  return path;
}

/** Options from a config file (port -1 → random), as `nats-server -c file` loads them. */
export function loadConf(path: string): Options {
  const opts = loadOptions(["-c", path]).opts;
  if (opts.port === -1) opts.port = 0;
  return opts;
}

/** Starts a server from a config file. */
export async function runServerWithConfig(path: string): Promise<TestServer> {
  const opts = loadConf(path);
  return await startServer(opts, { log: quietLog(opts) }) as TestServer;
}

/** Shuts `s` down, runs `whileDown`, and starts a server with the same options (same store dir, new port). */
export async function restart(s: Server, whileDown?: () => Promise<void>): Promise<TestServer> {
  const opts = { ...s.opts, port: 0 };
  await s.shutdown();
  if (whileDown) await whileDown();
  return await startServer(opts, { log: quietLog(s.opts) }) as TestServer;
}

/** STREAM.CREATE with `cfg` (file storage unless given, as nats.go's default); throws on an API error. */
export async function addStream(nc: NatsConnection, cfg: Record<string, unknown>): Promise<Json> {
  const r = await jsApi(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, { storage: "file", ...cfg });
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** STREAM.UPDATE; the parsed reply (error kept). */
export function updateStream(nc: NatsConnection, cfg: Record<string, unknown>): Promise<Json> {
  return jsApi(nc, `$JS.API.STREAM.UPDATE.${cfg.name}`, { storage: "file", ...cfg });
}

/** STREAM.INFO; throws on an API error. */
export async function streamInfo(nc: NatsConnection, name: string, req?: unknown): Promise<Json> {
  const r = await jsApi(nc, `$JS.API.STREAM.INFO.${name}`, req);
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** CONSUMER.INFO; throws on an API error. */
export async function consumerInfo(nc: NatsConnection, stream: string, name: string): Promise<Json> {
  const r = await jsApi(nc, `$JS.API.CONSUMER.INFO.${stream}.${name}`);
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
}

/** Creates a consumer (durable or named through CONSUMER.CREATE.<s>.<name>, else ephemeral); the reply. */
export function createConsumer(
  nc: NatsConnection,
  stream: string,
  config: Record<string, unknown>,
): Promise<Json> {
  const name = (config.durable_name ?? config.name) as string | undefined;
  const subj = name ? `$JS.API.CONSUMER.CREATE.${stream}.${name}` : `$JS.API.CONSUMER.CREATE.${stream}`;
  return jsApi(nc, subj, { "stream_name": stream, config });
}

/** Creates a consumer; throws on an API error. */
export async function addConsumer(
  nc: NatsConnection,
  stream: string,
  config: Record<string, unknown>,
): Promise<Json> {
  const r = await createConsumer(nc, stream, config);
  assert(r.error === undefined, JSON.stringify(r.error));
  return r;
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

/** Publishes and throws unless the stream stored it; the pub ack. */
export async function jsPublish(
  nc: NatsConnection,
  subj: string,
  data: string | Uint8Array = "",
  hdrs?: MsgHdrs,
): Promise<Json> {
  const r = await publish(nc, subj, data, hdrs);
  assert(r.error === undefined && r.seq !== undefined, JSON.stringify(r));
  return r;
}

let inboxN = 0;
/** A fresh inbox subject. */
export function newInbox(): string {
  return `_INBOX.jspb.${crypto.randomUUID().replaceAll("-", "")}.${++inboxN}`;
}

/** A subscription read one message at a time with a timeout (Go's SubscribeSync/NextMsg). */
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
  /** The next message; throws after `ms`. */
  async must(ms = 1_000): Promise<Msg> {
    const m = await this.next(ms);
    assert(m !== null, `no message on ${this.sub.getSubject()} within ${ms} ms`);
    return m;
  }
  /** Messages received but not yet read. */
  pending(): number {
    return this.q.length;
  }
  unsubscribe(): void {
    this.sub.unsubscribe();
  }
}

/** A JetStream push subscription: a SyncSub on an inbox bound to a consumer (js.SubscribeSync). */
export class PushSub extends SyncSub {
  constructor(
    nc: NatsConnection,
    readonly stream: string,
    readonly consumer: string,
    inbox: string,
    queue?: string,
  ) {
    super(nc, inbox, queue);
  }
  info(nc: NatsConnection): Promise<Json> {
    return consumerInfo(nc, this.stream, this.consumer);
  }
}

/**
 * js.SubscribeSync(filter): subscribes an inbox, then creates a consumer (ephemeral unless `cfg` names a durable)
 * with ack explicit delivering to it.
 */
export async function subscribeSync(
  nc: NatsConnection,
  stream: string,
  cfg: Record<string, unknown> = {},
  queue?: string,
): Promise<PushSub> {
  const inbox = (cfg.deliver_subject as string | undefined) ?? newInbox();
  const pre = new SyncSub(nc, inbox, queue);
  await nc.flush();
  const r = await addConsumer(nc, stream, { "ack_policy": "explicit", "deliver_subject": inbox, ...cfg });
  // Hand the subscription over to a PushSub under the consumer's name.
  const ps = Object.assign(Object.create(PushSub.prototype), pre, { stream, consumer: r.name }) as PushSub;
  return ps;
}

/** True when `m` is a JetStream status message (no payload, a status code). */
export function isStatus(m: Msg): boolean {
  return m.headers !== undefined && m.headers.code !== 0 && m.data.length === 0;
}

/** Sends one pull request with `reply` as the reply subject. */
export function pull(
  nc: NatsConnection,
  s: string,
  c: string,
  reply: string,
  req: Record<string, unknown>,
): void {
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${s}.${c}`, enc.encode(JSON.stringify(req)), { reply });
}

/** Fetches up to `batch` messages within `ms` (status messages end it; 100 heartbeats are skipped). */
export async function fetch(
  nc: NatsConnection,
  s: string,
  c: string,
  batch: number,
  ms = 1_000,
  opts: { ack?: boolean; noWait?: boolean } = {},
): Promise<Msg[]> {
  const inbox = newInbox();
  const sub = new SyncSub(nc, inbox);
  await nc.flush();
  const req: Record<string, unknown> = { batch };
  if (opts.noWait) req.no_wait = true;
  else req.expires = Math.max(10, ms - 50) * MS;
  pull(nc, s, c, inbox, req);
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

/** Acks `m` and waits for the server's reply (AckSync). */
export async function ackSync(nc: NatsConnection, m: Msg, body = "+ACK"): Promise<void> {
  assert(m.reply, "message has no reply subject");
  await nc.request(m.reply, enc.encode(body), { timeout: 2_000 });
}

/** The fields of a $JS.ACK reply subject: stream, consumer, delivered, stream seq, consumer seq, pending. */
export function ackInfo(
  m: Msg,
): { stream: string; consumer: string; delivered: number; sseq: number; cseq: number; pending: number } {
  const t = m.reply!.split(".");
  // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending> (or the 12-token form with domain/hash).
  const off = t.length >= 12 ? t.length - 9 : 0;
  return {
    stream: t[2 + off],
    consumer: t[3 + off],
    delivered: Number(t[4 + off]),
    sseq: Number(t[5 + off]),
    cseq: Number(t[6 + off]),
    pending: Number(t[8 + off]),
  };
}

/** Reads the JSON of a monitoring endpoint. */
export async function monitorJson(s: Server, path: string): Promise<Json> {
  const r = await globalThis.fetch(`${s.monitorUrls[0]}${path}`);
  return await r.json();
}

/** Takes a snapshot over the API: acks every chunk; the response and the joined bytes. */
export async function snapshotStream(
  nc: NatsConnection,
  stream: string,
  chunk = 1024,
): Promise<[Json, Uint8Array]> {
  const inbox = newInbox();
  const parts: Uint8Array[] = [];
  const done = Promise.withResolvers<void>();
  const sub = nc.subscribe(inbox, {
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
    "deliver_subject": inbox,
    "chunk_size": chunk,
  });
  if (r.error === undefined) await done.promise;
  sub.unsubscribe();
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), o += p.length);
  return [r, out];
}

/** Restores a snapshot over the API; the final reply (or the first error). */
export async function restoreStream(
  nc: NatsConnection,
  stream: string,
  body: unknown,
  data: Uint8Array,
): Promise<Json> {
  const r = await jsApi(nc, `$JS.API.STREAM.RESTORE.${stream}`, body);
  if (r.error) return r;
  for (let o = 0; o < data.length; o += 4096) {
    await nc.request(r.deliver_subject, data.subarray(o, o + 4096), { timeout: 2_000 });
  }
  const m = await nc.request(r.deliver_subject, new Uint8Array(0), { timeout: 5_000 });
  return m.json();
}

/**
 * Writes a stream directory under `<storeDir>/jetstream/$G/streams/<name>` holding `cfg` exactly as given
 * (Go's tests do this with newFileStore to plant configs the API would refuse).
 */
export function writeStreamDir(storeDir: string, cfg: Record<string, unknown>): void {
  const name = String(cfg.name);
  const dir = `${storeDir}/jetstream/$G/streams/${name}`;
  const subjects = (cfg.subjects as string[] | undefined) ?? [];
  const scfg = {
    name,
    storage: "file",
    subjects,
    maxMsgs: 0,
    maxBytes: 0,
    maxAge: 0n,
    maxMsgsPerSubject: 0,
    maxMsgSize: 0,
    discardNew: false,
  };
  // meta.inf as nats-server writes it: FileStreamInfo, the config's fields plus "created".
  const fs = new FileStore(scfg as never, { dir, meta: { created: new Date().toISOString(), ...cfg } });
  fs.stop();
}

/** Connects the official client as `user`/`pass`. */
export async function clientAs(
  s: Server,
  user: string,
  pass: string,
): Promise<NatsConnection & AsyncDisposable> {
  const nc = await connect({ servers: `127.0.0.1:${s.port}`, user, pass });
  return Object.assign(nc, { [Symbol.asyncDispose]: () => nc.close() });
}

/** A ustar archive of regular files, names as given (may climb out with "../"; tests of bad archives). */
export function tarOf(files: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  const octal = (h: Uint8Array, off: number, len: number, v: number) => {
    h.set(enc.encode(v.toString(8).padStart(len - 1, "0")), off);
  };
  for (const [name, data] of files) {
    const h = new Uint8Array(512);
    h.set(enc.encode(name).subarray(0, 100), 0);
    octal(h, 100, 8, 0o644);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, data.length);
    octal(h, 136, 12, Math.floor(Date.now() / 1000));
    h[156] = 0x30; // regular file
    h.set(enc.encode("ustar\0"), 257);
    h.set(enc.encode("00"), 263);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.set(enc.encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
    parts.push(h, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), o += p.length);
  return out;
}
