// Helpers for the ports of nats-server server/jetstream_test.go in jetstream_ports_b*_test.ts: the shared
// JetStream test helpers of _js_common.ts (servers with the real stores, restartable on the same store dir, raw
// JS API calls, pull fetches), with file streams by default, servers from config files, and push consumers
// driven the way nats.go's JetStream context drives them.

import { assert } from "@std/assert";
import {
  type Authenticator,
  credsAuthenticator,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
} from "@nats-io/transport-node";
import { formatUserConfig } from "../../src/auth/jwt.ts";
import { accountDefaults, createUser, type KeyPair, seedOf, userJwt } from "../_helpers/jwt.ts";
import type { Options, Server } from "../../src/natsdeno.ts";
import { loadOptions } from "../../src/config/mod.ts";
import { FileStore } from "../../src/store/mod.ts";
import { storeConfig } from "../_helpers/store_config.ts";
import { concat, enc, SyncSub } from "./_js_common.ts";
import * as js from "./_js_common.ts";

export {
  ackMeta as ackInfo,
  ackSync,
  clientFor,
  consumerExists,
  consumerInfo,
  createConsumer,
  dec,
  enc,
  inbox as newInbox,
  isStatus,
  jsApi,
  type Json,
  MS,
  publish,
  restart,
  restoreStream,
  SEC,
  snapshotStream,
  STORAGES,
  storeName,
  streamInfo,
  SyncSub,
  type TestServer,
} from "./_js_common.ts";

/** A JetStream server with the real stores (MemStore and FileStore); storeDir in a fresh temp dir unless given. */
export function runServer(opts: Partial<Options> = {}): Promise<js.TestServer> {
  return js.runRealJs(opts, "natsdeno-jspb-");
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
export function runServerWithConfig(path: string): Promise<js.TestServer> {
  return js.startWith(loadConf(path));
}

/** STREAM.CREATE with `cfg` (file storage unless given, as nats.go's default); throws on an API error. */
export function addStream(nc: NatsConnection, cfg: Record<string, unknown>): Promise<js.Json> {
  return js.addStream(nc, cfg, { storage: "file" });
}

/** STREAM.UPDATE (file storage unless given); the parsed reply (error kept). */
export function updateStream(nc: NatsConnection, cfg: Record<string, unknown>): Promise<js.Json> {
  return js.updateStream(nc, cfg, { storage: "file" });
}

/** Creates a consumer; throws on an API error. */
export function addConsumer(
  nc: NatsConnection,
  stream: string,
  config: Record<string, unknown>,
): Promise<js.Json> {
  return js.addConsumer(nc, stream, config);
}

/** Publishes and throws unless the stream stored it; the pub ack. */
export async function jsPublish(
  nc: NatsConnection,
  subj: string,
  data: string | Uint8Array = "",
  hdrs?: MsgHdrs,
): Promise<js.Json> {
  const r = await js.publish(nc, subj, data, hdrs);
  assert(r.error === undefined && r.seq !== undefined, JSON.stringify(r));
  return r;
}

/** A JetStream push subscription: a SyncSub on an inbox bound to a consumer (js.SubscribeSync). */
export class PushSub extends SyncSub {
  constructor(
    nc: NatsConnection,
    readonly stream: string,
    public consumer: string,
    inbox: string,
    queue?: string,
  ) {
    super(nc, inbox, queue);
  }
  info(nc: NatsConnection): Promise<js.Json> {
    return js.consumerInfo(nc, this.stream, this.consumer);
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
  const inbox = (cfg.deliver_subject as string | undefined) ?? js.inbox();
  const ps = new PushSub(nc, stream, "", inbox, queue);
  await nc.flush();
  const r = await js.addConsumer(nc, stream, { "ack_policy": "explicit", "deliver_subject": inbox, ...cfg });
  ps.consumer = r.name;
  return ps;
}

/** Sends one pull request with `reply` as the reply subject. */
export const pull = js.pull;

/** Fetches up to `batch` messages within `ms` (status messages end it; 100 heartbeats are skipped). */
export function fetch(
  nc: NatsConnection,
  s: string,
  c: string,
  batch: number,
  ms = 1_000,
  opts: { ack?: boolean; noWait?: boolean } = {},
): Promise<Msg[]> {
  return js.fetch(nc, s, c, batch, ms, { minExpiresMs: 10, ...opts });
}

/** Reads the JSON of a monitoring endpoint. */
export async function monitorJson(s: Server, path: string): Promise<js.Json> {
  const r = await globalThis.fetch(`${s.monitorUrls[0]}${path}`);
  return await r.json();
}

/**
 * Writes a stream directory under `<storeDir>/jetstream/$G/streams/<name>` holding `cfg` exactly as given
 * (Go's tests do this with newFileStore to plant configs the API would refuse).
 */
export function writeStreamDir(storeDir: string, cfg: Record<string, unknown>): void {
  const name = String(cfg.name);
  const dir = `${storeDir}/jetstream/$G/streams/${name}`;
  const subjects = (cfg.subjects as string[] | undefined) ?? [];
  const scfg = storeConfig({ name, storage: "file", subjects });
  // meta.inf as nats-server writes it: FileStreamInfo, the config's fields plus "created".
  const fs = new FileStore(scfg, { dir, meta: { created: new Date().toISOString(), ...cfg } });
  fs.stop();
}

/** Connects the official client as `user`/`pass`. */
export function clientAs(
  s: Server,
  user: string,
  pass: string,
): Promise<NatsConnection & AsyncDisposable> {
  return js.conn(s, { user, pass });
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
  return concat(parts);
}

/** The account JWT limits of NewAccountClaims (every one unlimited, wildcards allowed), to extend with JetStream's. */
export function unlimitedLimits(): Record<string, unknown> {
  return { ...accountDefaults().limits as Record<string, unknown> };
}

/** Credentials of a fresh user of account `kp` (an authenticator for connect). */
export function userCreds(kp: KeyPair): Authenticator {
  const ukp = createUser();
  return credsAuthenticator(enc.encode(formatUserConfig(userJwt(ukp, kp), seedOf(ukp))));
}
