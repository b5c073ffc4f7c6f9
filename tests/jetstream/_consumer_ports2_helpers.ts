// Helpers for consumer_ports_test.ts and its continuations (ports of nats-server
// server/jetstream_consumer_test.go): the shared JetStream test helpers of _js_common.ts, with streams in
// memory unless their config says otherwise.

import type { NatsConnection } from "@nats-io/transport-node";
import type { Options } from "../../src/natsdeno.ts";
import * as js from "./_js_common.ts";

export {
  type AckMeta,
  ackMeta,
  ackSync,
  clientFor,
  consumerExists,
  consumerInfo,
  createConsumer,
  dec,
  description,
  enc,
  fetch,
  inbox,
  isStatus,
  jsApi,
  type Json,
  MS,
  pull,
  pullSub,
  SEC,
  send,
  status,
  STORAGES,
  streamInfo,
  SyncSub,
  type TestServer,
} from "./_js_common.ts";

/** createConsumer that fails on an API error. */
export const mustConsumer = js.addConsumer;

/** A JetStream server with the real stores (MemStore and FileStore). */
export function runServer(opts: Partial<Options> = {}): Promise<js.TestServer> {
  return js.runRealJs(opts, "natsdeno-jcp-");
}

/** Creates a stream (memory unless the config says otherwise); fails on an API error. */
export function addStream(nc: NatsConnection, cfg: Record<string, unknown>): Promise<js.Json> {
  return js.addStream(nc, cfg, { storage: "memory" });
}

/** Updates a stream (memory unless the config says otherwise); the parsed reply (error kept). */
export function updateStream(nc: NatsConnection, cfg: Record<string, unknown>): Promise<js.Json> {
  return js.updateStream(nc, cfg, { storage: "memory" });
}
