// JetStream on one server: enablement, limits, per-account state and shutdown. Behaviour follows
// nats-server server/jetstream.go (enableJetStream, jsAccount, account limits).

import { join } from "node:path";
import { tmpdir } from "node:os";
import type { Account, Client, Server, Subscription } from "../server/mod.ts";
import type { StoreConfig, StreamStore } from "../store/mod.ts";
import { JS_API_LEVEL } from "../protocol/mod.ts";
import { type ApiError, newJSError } from "./api_errors.ts";
import { ApiDispatcher, subscribeAccountPurge, subscribeMirrorDirect } from "./_api.ts";
import { registerConsumerApi } from "./_consumer_api.ts";
import { defaultStoreFor, recoverAccount } from "./_fs_recover.ts";
import { Stream, type StreamHost } from "./stream.ts";
import { rfc3339Nano } from "./_headers.ts";
import { type BatchLimits, DEFAULT_BATCH_LIMITS } from "./_stream_batch.ts";

/** Builds a store for a stream: `dir` is the stream's directory under the store dir (file storage). */
export type StreamStoreFactory = (cfg: StoreConfig, dir: string) => StreamStore;

/** Construction options of JetStream. */
export interface JetStreamDeps {
  /** The store factory; defaults to the store module's MemStore/FileStore once they exist. */
  newStreamStore?: StreamStoreFactory;
}

/** The API level served (src/protocol): gates Nats-Required-Api-Level; `api.level` in /varz, /jsz, account info. */
export { JS_API_LEVEL };

/** JetStream account limits; -1 = unlimited. */
export interface JsLimits {
  maxMemory: number;
  maxStore: number;
  maxStreams: number;
  maxConsumers: number;
  maxAckPending: number;
  memoryMaxStreamBytes: number;
  storeMaxStreamBytes: number;
  maxBytesRequired: boolean;
  /** Tiered limits without a tier for this server's streams (R1) nor a default: streams are refused (10120). */
  noLimits?: boolean;
}

/** Unlimited account limits. */
export function unlimited(): JsLimits {
  return {
    maxMemory: -1,
    maxStore: -1,
    maxStreams: -1,
    maxConsumers: -1,
    maxAckPending: -1,
    memoryMaxStreamBytes: -1,
    storeMaxStreamBytes: -1,
    maxBytesRequired: false,
  };
}

/** Limits from an account's raw `jetstream` config value; undefined when it disables JetStream. */
export function accountLimitsFromConfig(v: unknown): JsLimits | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return unlimited();
  if (typeof v === "string") {
    const s = v.toLowerCase();
    return s === "enabled" || s === "enable" ? unlimited() : undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const l = unlimited();
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const n = typeof val === "number" ? val : -1;
    switch (k.toLowerCase()) {
      case "max_memory":
      case "max_mem":
      case "mem":
      case "memory":
        l.maxMemory = n;
        break;
      case "max_store":
      case "max_file":
      case "max_disk":
      case "store":
      case "disk":
        l.maxStore = n;
        break;
      case "max_streams":
      case "streams":
        l.maxStreams = n;
        break;
      case "max_consumers":
      case "consumers":
        l.maxConsumers = n;
        break;
      case "max_ack_pending":
        l.maxAckPending = n;
        break;
      case "max_bytes_required":
      case "max_stream_bytes_required":
        l.maxBytesRequired = val === true;
        break;
      case "mem_max_stream_bytes":
      case "memory_max_stream_bytes":
        l.memoryMaxStreamBytes = n;
        break;
      case "disk_max_stream_bytes":
      case "store_max_stream_bytes":
      case "storage_max_stream_bytes":
        l.storeMaxStreamBytes = n;
        break;
      case "tiers": {
        // Account JWT tiers: a single server holds R1 streams only, so its tier (when there is one) applies.
        const r1 = typeof val === "object" && val !== null
          ? (val as Record<string, unknown>)["R1"]
          : undefined;
        const t = r1 === undefined ? undefined : accountLimitsFromConfig(r1);
        if (t === undefined) l.noLimits = true;
        else Object.assign(l, t);
        break;
      }
    }
  }
  return l;
}

/** JetStream state of one account. */
export class JsAccount {
  readonly js: JetStream;
  readonly account: Account;
  limits: JsLimits;
  readonly client: Client;
  readonly streams = new Map<string, Stream>();
  memory = 0;
  storage = 0;
  apiTotal = 0;
  apiErrors = 0;
  readonly host: StreamHost;

  constructor(js: JetStream, account: Account, limits: JsLimits) {
    this.js = js;
    this.account = account;
    this.limits = limits;
    this.client = js.server.createInternalClient("JetStream", account);
    this.host = {
      client: this.client,
      log: js.server.log,
      domain: js.domain,
      accountName: account.name,
      maxPayload: () => js.server.maxPayload,
      after: (ms, fn) => {
        const t = js.server.timers.after(ms, fn);
        return () => js.server.timers.cancel(t);
      },
      updateUsage: (storage, delta) => {
        if (storage === "memory") {
          this.memory += delta;
          js.memory += delta;
        } else {
          this.storage += delta;
          js.storage += delta;
        }
      },
      limitsExceeded: (storage) => this.limitsExceeded(storage),
      batchInflight: js.batchInflight,
      batchLimits: () => js.batchLimits,
      advisory: (subject, body) => js.api.advisory(this, subject, body),
      mirrorDirect: (s, origin) => subscribeMirrorDirect(this, s, origin),
    };
  }

  /** An error when storing more would exceed the account's or the server's limits. */
  limitsExceeded(storage: "memory" | "file"): ApiError | undefined {
    if (storage === "memory") {
      if (this.limits.maxMemory >= 0 && this.memory > this.limits.maxMemory) {
        return newJSError("JSAccountResourcesExceededErr");
      }
      if (this.js.maxMemory > 0 && this.js.memory > this.js.maxMemory) {
        return newJSError("JSInsufficientResourcesErr");
      }
    } else {
      if (this.limits.maxStore >= 0 && this.storage > this.limits.maxStore) {
        return newJSError("JSAccountResourcesExceededErr");
      }
      if (this.js.maxStore > 0 && this.js.storage > this.js.maxStore) {
        return newJSError("JSInsufficientResourcesErr");
      }
    }
    return undefined;
  }

  /** Bytes reserved by streams with max_bytes set, per storage type. */
  reserved(storage: "memory" | "file", except?: string): number {
    let n = 0;
    for (const s of this.streams.values()) {
      if (s.config.storage === storage && s.config.max_bytes > 0 && s.name !== except) {
        n += s.config.max_bytes;
      }
    }
    return n;
  }

  numConsumers(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.numConsumers();
    return n;
  }

  /** Stops all streams (data kept). */
  stop(): void {
    for (const s of this.streams.values()) s.stop();
  }
}

/** JetStream of one server. */
export class JetStream {
  readonly server: Server;
  readonly storeDir: string;
  readonly maxMemory: number;
  readonly maxStore: number;
  readonly domain: string;
  readonly strict: boolean;
  readonly accounts = new Map<string, JsAccount>();
  readonly api: ApiDispatcher;
  readonly newStreamStore: StreamStoreFactory;
  memory = 0;
  storage = 0;
  apiTotal = 0;
  apiErrors = 0;
  readonly started = new Date();
  /** Atomic batches in flight on this server, and their limits (tests may lower them). */
  readonly batchInflight = { n: 0 };
  batchLimits: BatchLimits;

  constructor(server: Server, deps: JetStreamDeps = {}) {
    this.server = server;
    const o = server.opts;
    this.storeDir = join(o.storeDir || join(tmpdir(), "nats"), "jetstream");
    this.maxMemory = o.jetStreamMaxMemory >= 0 ? o.jetStreamMaxMemory : dynamicMemory();
    this.maxStore = o.jetStreamMaxStore >= 0 ? o.jetStreamMaxStore : dynamicStore();
    // jetstream { limits { batch {} } }: a value of 0 keeps the default.
    const b = o.jetStreamOpts.limits.batch ??
      { maxInflightPerStream: 0, maxInflightTotal: 0, maxMsgs: 0, timeoutMs: 0 };
    const d = DEFAULT_BATCH_LIMITS;
    this.batchLimits = {
      maxSize: b.maxMsgs > 0 ? b.maxMsgs : d.maxSize,
      maxInflightPerStream: b.maxInflightPerStream > 0 ? b.maxInflightPerStream : d.maxInflightPerStream,
      maxInflightTotal: b.maxInflightTotal > 0 ? b.maxInflightTotal : d.maxInflightTotal,
      timeoutMs: b.timeoutMs > 0 ? b.timeoutMs : d.timeoutMs,
    };
    this.domain = o.jetStreamOpts.domain;
    this.strict = o.jetStreamOpts.strict;
    this.newStreamStore = deps.newStreamStore ?? defaultStoreFor(this);
    this.api = new ApiDispatcher(this);
    registerConsumerApi(this.api);
    server.onReload.push(() => this.#reloadAccounts());
    // Account JWTs carry JetStream limits: an account (re)built from claims that has them is enabled, one
    // whose new claims have none is disabled (operator mode only: config accounts follow the reload).
    server.onAccountRebuilt.push((acc) => {
      const l = acc.jetstreamConfig === undefined ? undefined : accountLimitsFromConfig(acc.jetstreamConfig);
      if (l !== undefined && acc !== server.systemAccount) this.enableAccount(acc, l);
      else if (l === undefined && server.operator !== undefined) {
        const jsa = this.accounts.get(acc.name);
        if (jsa !== undefined) this.#disableAccount(jsa);
      }
    });
  }

  /** A reload may enable or disable JetStream for accounts, or change their limits. */
  #reloadAccounts(): void {
    const s = this.server;
    if (this.accounts.size === 1 && this.accounts.has(s.gacc.name) && s.gacc.jetstreamConfig === undefined) {
      return;
    }
    for (const acc of s.accounts.values()) {
      if (acc === s.systemAccount) continue;
      const raw = acc.jetstreamConfig;
      const l = raw === undefined ? undefined : accountLimitsFromConfig(raw);
      const jsa = this.accounts.get(acc.name);
      if (l !== undefined) this.enableAccount(acc, l);
      else if (jsa !== undefined) this.#disableAccount(jsa);
    }
  }

  /** Disabled: streams stop (their data stays), the account's API answers "not enabled". */
  #disableAccount(jsa: JsAccount): void {
    const s = this.server;
    const acc = jsa.account;
    jsa.stop();
    for (const sub of [...jsa.client.subs.values()]) jsa.client.unsubscribeInternal(sub);
    this.accounts.delete(acc.name);
    const client = s.createInternalClient("JetStream", acc);
    this.#disabled.set(acc.name, { client, sub: this.api.subscribeDisabled(acc, client) });
    s.log.debug(`Disabled JetStream for account "${acc.name}"`);
  }

  /** False after disable(): JetStream stays configured but serves nothing (/healthz reports it). */
  enabled = true;
  /** Streams found on disk that could not be recovered ("<account> > <stream>"), until one of that name exists. */
  readonly unrecovered = new Set<string>();

  /**
   * Turns JetStream off in a running server while the options keep it on, as nats-server's DisableJetStream
   * (which it also does when storage fails): every account's streams stop and its API answers "not enabled".
   */
  disable(): void {
    if (!this.enabled) return;
    this.enabled = false;
    for (const jsa of [...this.accounts.values()]) this.#disableAccount(jsa);
    this.server.log.notice("JetStream disabled");
  }

  /** Logs the banner and enables the accounts that have JetStream. */
  start(): void {
    const log = this.server.log;
    log.notice("Starting JetStream");
    for (const l of BANNER) log.notice(l);
    log.notice("");
    log.notice("         https://docs.nats.io/jetstream");
    log.notice("");
    log.notice("---------------- JETSTREAM ----------------");
    log.notice(`  Max Memory:      ${friendlyBytes(this.maxMemory)}`);
    log.notice(`  Max Storage:     ${friendlyBytes(this.maxStore)}`);
    log.notice(`  Store Directory: "${this.storeDir}"`);
    if (this.domain !== "") log.notice(`  Domain:          ${this.domain}`);
    log.notice(`  API Level:       ${JS_API_LEVEL}`);
    log.notice("-------------------------------------------");
    this.#enableAccounts();
    subscribeAccountPurge(this);
  }

  #enableAccounts(): void {
    const s = this.server;
    let configured = false;
    for (const acc of s.accounts.values()) {
      const raw = acc.jetstreamConfig;
      if (raw === undefined) continue;
      configured = true;
      const l = accountLimitsFromConfig(raw);
      if (l !== undefined) this.enableAccount(acc, l);
    }
    const hasAccounts = s.opts.unsupportedConfig["accounts"] !== undefined ||
      (s.opts as unknown as { accounts?: unknown[] }).accounts?.length;
    if (!configured && !hasAccounts) this.enableAccount(s.gacc, unlimited());
    // Accounts without JetStream get "not enabled for account" answers, as the reference's API import does.
    for (const acc of s.accounts.values()) {
      if (this.accounts.has(acc.name) || acc === s.systemAccount) continue;
      const client = s.createInternalClient("JetStream", acc);
      this.#disabled.set(acc.name, { client, sub: this.api.subscribeDisabled(acc, client) });
    }
  }

  /** The "not enabled" responders of accounts without JetStream, dropped when one is enabled. */
  #disabled = new Map<string, { client: Client; sub: Subscription }>();

  /** Turns JetStream on for an account: its API subscriptions and state. */
  enableAccount(acc: Account, limits: JsLimits): JsAccount {
    let jsa = this.accounts.get(acc.name);
    if (jsa !== undefined) {
      jsa.limits = limits;
      return jsa;
    }
    const off = this.#disabled.get(acc.name);
    if (off !== undefined) {
      off.client.unsubscribeInternal(off.sub);
      this.#disabled.delete(acc.name);
    }
    jsa = new JsAccount(this, acc, limits);
    this.accounts.set(acc.name, jsa);
    this.api.subscribe(jsa);
    this.server.log.debug(`Enabled JetStream for account "${acc.name}"`);
    recoverAccount(jsa); // file streams and their consumers from the store dir
    return jsa;
  }

  lookupAccount(name: string): JsAccount | undefined {
    return this.accounts.get(name);
  }

  /** Stops every stream and consumer. */
  shutdown(): void {
    const log = this.server.log;
    log.notice("Initiating JetStream Shutdown...");
    for (const jsa of this.accounts.values()) jsa.stop();
    log.notice("JetStream Shutdown");
  }

  numStreams(): number {
    let n = 0;
    for (const a of this.accounts.values()) n += a.streams.size;
    return n;
  }

  /** The /varz `jetstream` block. */
  varz(): Record<string, unknown> {
    return {
      config: this.#configJson(),
      stats: this.#statsJson(),
    };
  }

  #configJson(): Record<string, unknown> {
    const c: Record<string, unknown> = {
      "max_memory": this.maxMemory,
      "max_storage": this.maxStore,
      "store_dir": this.storeDir,
    };
    if (this.domain !== "") c.domain = this.domain;
    return c;
  }

  #statsJson(): Record<string, unknown> {
    let rm = 0;
    let rs = 0;
    for (const a of this.accounts.values()) {
      rm += a.reserved("memory");
      rs += a.reserved("file");
    }
    return {
      memory: this.memory,
      storage: this.storage,
      "reserved_memory": rm,
      "reserved_storage": rs,
      accounts: this.accounts.size,
      "ha_assets": 0,
      api: { level: JS_API_LEVEL, total: this.apiTotal, errors: this.apiErrors },
    };
  }

  /** The /jsz body (and $SYS.REQ.SERVER.*.JSZ data), per nats-server's JSInfo. */
  jsz(
    opts: { accounts?: boolean; streams?: boolean; consumers?: boolean; config?: boolean; account?: string } =
      {},
  ): Record<string, unknown> {
    let msgs = 0;
    let bytes = 0;
    let consumers = 0;
    for (const a of this.accounts.values()) {
      for (const s of a.streams.values()) {
        const st = s.store.fastState();
        msgs += st.msgs;
        bytes += st.bytes;
        consumers += s.numConsumers();
      }
    }
    const out: Record<string, unknown> = {
      "server_id": this.server.id,
      now: new Date().toISOString(),
      config: this.#configJson(),
      ...this.#statsJson(),
      streams: this.numStreams(),
      consumers,
      messages: msgs,
      bytes,
    };
    const wantDetail = opts.accounts || opts.streams || opts.consumers || opts.account;
    if (wantDetail) {
      const details: Record<string, unknown>[] = [];
      for (const a of this.accounts.values()) {
        if (opts.account && a.account.name !== opts.account) continue;
        const d: Record<string, unknown> = {
          name: a.account.name,
          id: a.account.name,
          memory: a.memory,
          storage: a.storage,
          "reserved_memory": a.reserved("memory"),
          "reserved_storage": a.reserved("file"),
          accounts: 0,
          "ha_assets": 0,
          api: { level: 0, total: a.apiTotal, errors: a.apiErrors },
        };
        if (opts.streams || opts.consumers) {
          d["stream_detail"] = [...a.streams.values()].map((s) => {
            const sd: Record<string, unknown> = {
              name: s.name,
              created: rfc3339Nano(s.created),
              cluster: { leader: this.server.name },
              state: s.stateJson(),
            };
            if (opts.config) sd.config = s.infoJson().config;
            if (opts.consumers && s.numConsumers() > 0) {
              sd["consumer_detail"] = [...s.consumers.values()].map((c) => c.info());
            }
            return sd;
          });
        }
        details.push(d);
      }
      out["account_details"] = details;
    }
    return out;
  }
}

const BANNER = [
  "    _ ___ _____ ___ _____ ___ ___   _   __  __",
  " _ | | __|_   _/ __|_   _| _ \\ __| /_\\ |  \\/  |",
  "| || | _|  | | \\__ \\ | | |   / _| / _ \\| |\\/| |",
  " \\__/|___| |_| |___/ |_| |_|_\\___/_/ \\_\\_|  |_|",
];

/** 75% of system memory, as the reference's dynamic max_memory_store. */
function dynamicMemory(): number {
  try {
    return Math.floor(Deno.systemMemoryInfo().total * 0.75);
  } catch {
    return 256 * 1024 * 1024;
  }
}

/** The reference uses 75% of the free disk; without statfs in Deno we use its fallback of 1 TiB. */
function dynamicStore(): number {
  return 1024 ** 4;
}

/** Go's friendlyBytes: "17.69 GB". */
export function friendlyBytes(n: number): string {
  const units = ["K", "M", "G", "T", "P", "E"];
  if (n < 1024) return `${n} B`;
  let exp = Math.floor(Math.log(n) / Math.log(1024));
  if (exp > units.length) exp = units.length;
  return `${(n / 1024 ** exp).toFixed(2)} ${units[exp - 1]}B`;
}
