// JetStream test servers: a server with -js on 127.0.0.1 and a random port, plus client helpers.

import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options, type Server, startServer } from "../../src/natsdeno.ts";
import { MemStore } from "../../src/store/mod.ts";
import { connect, type NatsConnection } from "@nats-io/transport-node";

export type TestServer = Server & AsyncDisposable;

/** Starts a JetStream server (store dir in a fresh temp dir unless given). */
export async function runJsServer(opts: Partial<Options> = {}): Promise<TestServer> {
  const storeDir = opts.storeDir ?? await Deno.makeTempDir({ prefix: "natsdeno-js-" });
  const full = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir, ...opts });
  const log = new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: full.debug }, true);
  // Both storage types run on MemStore in these tests (fast, no disk); FileStore runs in the tests that say so.
  return await startServer(full, { log, newStreamStore: (cfg) => new MemStore(cfg) }) as TestServer;
}

/** Connects the official client to a test server (extra connect options allowed, e.g. user/pass). */
export async function clientFor(
  s: { port: number },
  extra: Record<string, unknown> = {},
): Promise<NatsConnection & AsyncDisposable> {
  const nc = await connect({ servers: `127.0.0.1:${s.port}`, ...extra });
  return Object.assign(nc, { [Symbol.asyncDispose]: () => nc.close() });
}

/** Sends a raw JS API request and returns the parsed JSON reply. */
export async function jsApi(nc: NatsConnection, subject: string, body: unknown = undefined): // deno-lint-ignore no-explicit-any
Promise<any> {
  const data = body === undefined ? new Uint8Array(0) : new TextEncoder().encode(
    typeof body === "string" ? body : JSON.stringify(body),
  );
  const m = await nc.request(subject, data, { timeout: 2_000 });
  return JSON.parse(new TextDecoder().decode(m.data));
}
