// Helpers for the ports of nats-server server/jetstream_test.go in jetstream_ports_a*_test.ts: the shared
// JetStream test helpers of _js_common.ts (servers on the real stores, restarts over one store dir, raw JS API
// shortcuts, a SubscribeSync look-alike), with Go's legacy durable-create subject and info calls that keep errors.

import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { defaultOptions, type Options } from "../../src/natsdeno.ts";
import { configToOptions, parseConfig } from "../../src/config/mod.ts";
import * as js from "./_js_common.ts";

export {
  ackMeta,
  conn,
  dec,
  enc,
  inbox,
  isStatus,
  jsApi as api,
  type Json,
  MS,
  nextSubj,
  SEC,
  send as sendStreamMsg,
  SyncSub,
} from "./_js_common.ts";

/** The two storage types, as Go's MemoryStore/FileStore cases. */
export const STORES = [["MemoryStore", "memory"], ["FileStore", "file"]] as const;

/** A JetStream server with the real stores; the store dir is a fresh temp dir unless given. */
export function runJs(opts: Partial<Options> = {}): Promise<js.TestServer> {
  return js.runRealJs(opts, "natsdeno-jspa-");
}

/** Options from a config text, on 127.0.0.1 and a random port (store dir set when given). */
export function confOptions(conf: string, storeDir?: string): Options {
  const o = configToOptions(parseConfig(conf));
  return defaultOptions({ ...o, host: "127.0.0.1", port: 0, ...(storeDir ? { storeDir } : {}) });
}

/** A server from a config text; its store dir is a fresh temp dir unless given. */
export async function runConf(conf: string, storeDir?: string): Promise<js.TestServer> {
  const dir = storeDir ?? await Deno.makeTempDir({ prefix: "natsdeno-jspa-" });
  return await js.startWith(confOptions(conf, dir));
}

/** Creates a stream and asserts success (storage as the config says); the stream info. */
export function addStream(nc: NatsConnection, cfg: Record<string, unknown>): Promise<js.Json> {
  return js.addStream(nc, cfg);
}

/** Creates a consumer (durable through CONSUMER.DURABLE.CREATE, else ephemeral); the parsed reply, errors kept. */
export function createConsumer(
  nc: NatsConnection,
  stream: string,
  config: Record<string, unknown>,
): Promise<js.Json> {
  return js.createConsumer(nc, stream, config, {}, true);
}

/** Creates a consumer and asserts success; the consumer info. */
export async function addConsumer(
  nc: NatsConnection,
  stream: string,
  config: Record<string, unknown>,
): Promise<js.Json> {
  return js.ok(await createConsumer(nc, stream, config));
}

/** STREAM.INFO; the parsed reply (error kept). */
export function streamInfo(nc: NatsConnection, stream: string): Promise<js.Json> {
  return js.jsApi(nc, `$JS.API.STREAM.INFO.${stream}`);
}

/** CONSUMER.INFO; the parsed reply (error kept). */
export function consumerInfo(nc: NatsConnection, stream: string, name: string): Promise<js.Json> {
  return js.jsApi(nc, `$JS.API.CONSUMER.INFO.${stream}.${name}`);
}

/** Requests the next message of a pull consumer (no body: one message); null on timeout. */
export async function requestNext(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  ms = 1_000,
): Promise<Msg | null> {
  try {
    return await nc.request(js.nextSubj(stream, consumer), new Uint8Array(0), { timeout: ms });
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

/** What eachStore() hands each storage type's step: the server, a client, and the storage type. */
export interface StoreCase {
  s: js.TestServer;
  nc: NatsConnection & AsyncDisposable;
  storage: "memory" | "file";
}

/** Go's `for _, st := range []StorageType{MemoryStorage, FileStorage}`: one step per type on a fresh server. */
export async function eachStore(t: Deno.TestContext, fn: (c: StoreCase) => Promise<void>): Promise<void> {
  for (const [name, storage] of STORES) {
    await t.step(name, async () => {
      await using s = await runJs();
      await using nc = await js.conn(s);
      await fn({ s, nc, storage });
    });
  }
}
