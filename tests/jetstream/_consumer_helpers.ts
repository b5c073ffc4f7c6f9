// Helpers for the consumer, KV and Object Store tests: a JetStream server on MemStore and client shortcuts.

import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options, type Server, startServer } from "../../src/natsdeno.ts";
import { MemStore } from "../../src/store/memstore.ts";
import { connect, type NatsConnection } from "@nats-io/transport-node";

export type TestServer = Server & AsyncDisposable;

/** Starts a JetStream server whose streams live in MemStore. */
export async function runConsumerServer(opts: Partial<Options> = {}): Promise<TestServer> {
  const storeDir = opts.storeDir ?? await Deno.makeTempDir({ prefix: "natsdeno-jsc-" });
  const full = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir, ...opts });
  const log = new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: full.debug }, true);
  return await startServer(full, { log, newStreamStore: (cfg) => new MemStore(cfg) }) as TestServer;
}

/** Connects the official client. */
export async function connectTo(s: Server): Promise<NatsConnection & AsyncDisposable> {
  const nc = await connect({ servers: `127.0.0.1:${s.port}` });
  return Object.assign(nc, { [Symbol.asyncDispose]: () => nc.close() });
}

/** A raw JS API request; the parsed JSON reply. */
// deno-lint-ignore no-explicit-any
export async function api(nc: NatsConnection, subject: string, body: unknown = undefined): Promise<any> {
  const data = body === undefined
    ? new Uint8Array(0)
    : new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
  const m = await nc.request(subject, data, { timeout: 2_000 });
  return JSON.parse(new TextDecoder().decode(m.data));
}
