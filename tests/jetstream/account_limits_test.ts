// Ports of nats-server server/jetstream_test.go (2.9.10) tests on account-level JetStream: per-account
// enablement and limits (and their reload), server limits on duplicates / max_ack_pending / max_request_batch,
// and JetStream used from another account through service and stream imports (API, pulls, pushes, acks, KV).
// Go test names kept, in Go's order.

import { assert, assertEquals } from "@std/assert";
import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { type KvEntry, Kvm, type KvWatchEntry } from "@nats-io/kv";
import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options, startServer } from "../../src/natsdeno.ts";
import { configToOptions, parseConfig } from "../../src/config/mod.ts";
import { jsApi, type TestServer } from "./_helpers.ts";
import { checkFor } from "../_helpers/server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const GB = 1024 * 1024 * 1024;

/** Options from a config text (listen/store dir supplied here). */
function optionsOf(conf: string, storeDir: string): Options {
  return defaultOptions({
    ...configToOptions(parseConfig(conf)),
    host: "127.0.0.1",
    port: 0,
    storeDir,
  });
}

async function runConf(conf: string): Promise<TestServer> {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jsacc-" });
  const log = new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: false }, true);
  return await startServer(optionsOf(conf, storeDir), { log }) as TestServer;
}

async function conn(
  s: TestServer,
  user?: string,
  pass?: string,
  extra: Record<string, unknown> = {},
): Promise<NatsConnection & AsyncDisposable> {
  const nc = await connect({ servers: `127.0.0.1:${s.port}`, user, pass, ...extra });
  return Object.assign(nc, { [Symbol.asyncDispose]: () => nc.close() });
}

Deno.test("TestJetStreamStreamLimitUpdate: max_bytes can shrink under small account limits", async () => {
  // The Go test sets the global account's limits in code; here the account gets them from its config.
  await using s = await runConf(`
    jetstream: enabled
    no_auth_user: u
    accounts: { A: { jetstream: { max_mem: 128, max_store: 128, max_streams: 1 }, users: [ {user: u, password: p} ] } }`);
  await using nc = await conn(s);
  for (const storage of ["memory", "file"]) {
    let r = await jsApi(nc, "$JS.API.STREAM.CREATE.TEST", {
      name: "TEST",
      subjects: ["foo"],
      storage,
      "max_bytes": 32,
    });
    assertEquals(r.error, undefined);
    r = await jsApi(nc, "$JS.API.STREAM.UPDATE.TEST", {
      name: "TEST",
      subjects: ["foo"],
      storage,
      "max_bytes": 16,
    });
    assertEquals(r.error, undefined);
    assertEquals((await jsApi(nc, "$JS.API.STREAM.DELETE.TEST")).success, true);
  }
});

// TestJetStreamTieredLimits is ported in jetstream_ports_a_test.ts (tiers from an account JWT).

Deno.test("TestJetStreamMultipleAccountsBasics: per-account enablement and limits, also after a reload", async () => {
  const conf1 = `
    jetstream: {max_mem_store: 64GB, max_file_store: 10TB}
    accounts: {
      A: { jetstream: enabled, users: [ {user: ua, password: pwd} ] },
      B: {
        jetstream: {max_mem: 1GB, max_store: 1TB, max_streams: 10, max_consumers: 1k}
        users: [ {user: ub, password: pwd} ]
      },
      C: { users: [ {user: uc, password: pwd} ] },
    }`;
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jsacc-" });
  const log = new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: false }, true);
  await using s = await startServer(optionsOf(conf1, storeDir), { log }) as TestServer;
  await using nca = await conn(s, "ua", "pwd");
  await using ncb = await conn(s, "ub", "pwd");
  await using ncc = await conn(s, "uc", "pwd");
  let info = await jsApi(ncb, "$JS.API.INFO");
  assertEquals(info.limits.max_streams, 10);
  assertEquals(info.limits.max_consumers, 1000);
  assertEquals(info.limits.max_memory, GB);
  assertEquals(info.limits.max_storage, 1024 * GB);
  const notEnabled = async (nc: NatsConnection) => {
    const r = await jsApi(nc, "$JS.API.INFO");
    assert(r.error !== undefined, "expected an error on a not enabled account");
  };
  await notEnabled(ncc);

  const conf2 = `
    jetstream: {max_mem_store: 64GB, max_file_store: 10TB}
    accounts: {
      A: { jetstream: disabled, users: [ {user: ua, password: pwd} ] },
      B: {
        jetstream: {max_mem: 32GB, max_store: 512GB, max_streams: 100, max_consumers: 4k}
        users: [ {user: ub, password: pwd} ]
      },
      C: {
        jetstream: {max_mem: 1GB, max_store: 1TB, max_streams: 10, max_consumers: 1k}
        users: [ {user: uc, password: pwd} ]
      },
    }`;
  s.reload({ ...optionsOf(conf2, storeDir), port: s.port });
  await notEnabled(nca);
  info = await jsApi(ncb, "$JS.API.INFO");
  assertEquals(info.error, undefined);
  assertEquals(info.limits.max_streams, 100);
  assertEquals(info.limits.max_consumers, 4000);
  assertEquals(info.limits.max_memory, 32 * GB);
  assertEquals(info.limits.max_storage, 512 * GB);
  info = await jsApi(ncc, "$JS.API.INFO");
  assertEquals(info.error, undefined);
  assertEquals(info.limits.max_streams, 10);
  assertEquals(info.limits.max_consumers, 1000);
  assertEquals(info.limits.max_memory, GB);
  assertEquals(info.limits.max_storage, 1024 * GB);
});

Deno.test("TestJetStreamAccountImportBasics: publish, pull, push and ack through imports", async () => {
  await using s = await runConf(`
    no_auth_user: rip
    jetstream: {max_mem_store: 64GB, max_file_store: 10TB}
    accounts: {
      JS: {
        jetstream: enabled
        users: [ {user: dlc, password: foo} ]
        exports [
          { service: "ORDERS.*" }
          { service: "$JS.API.CONSUMER.MSG.NEXT.*.*" }
          { stream: "deliver.ORDERS" }
          { service: "$JS.ACK.ORDERS.*.>" }
        ]
      },
      IU: {
        users: [ {user: rip, password: bar} ]
        imports [
          { service: { subject: "ORDERS.*", account: JS }, to: "my.orders.$1" }
          { service: { subject: "$JS.API.CONSUMER.MSG.NEXT.ORDERS.d", account: JS }, to: "nxt.msg" }
          { stream:  { subject: "deliver.ORDERS", account: JS }, to: "d" }
          { service: { subject: "$JS.ACK.ORDERS.*.>", account: JS } }
        ]
      },
    }`);
  await using admin = await conn(s, "dlc", "foo");
  assertEquals(
    (await jsApi(admin, "$JS.API.STREAM.CREATE.ORDERS", { name: "ORDERS", subjects: ["ORDERS.*"] })).error,
    undefined,
  );
  await using nc = await conn(s);
  const ack = JSON.parse(dec.decode((await nc.request("my.orders.foo", enc.encode("ORDERS-1"))).data));
  assertEquals([ack.stream, ack.seq], ["ORDERS", 1]);
  const msgs = async () => (await jsApi(admin, "$JS.API.STREAM.INFO.ORDERS")).state.messages;
  assertEquals(await msgs(), 1);
  const total = 2;
  for (let i = 2; i <= total; i++) await nc.request("my.orders.bar", enc.encode(`ORDERS-${i}`));
  assertEquals(await msgs(), total);

  // A pull consumer through the mapped next-message request.
  let r = await jsApi(admin, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.d", {
    "stream_name": "ORDERS",
    config: { "durable_name": "d", "ack_policy": "explicit" },
  });
  assertEquals(r.error, undefined);
  const m = await nc.request("nxt.msg", new Uint8Array(0), { timeout: 1_000 });
  assertEquals(dec.decode(m.data), "ORDERS-1");

  // A push consumer delivering across the account boundary.
  const got: Msg[] = [];
  nc.subscribe("d", { callback: (_e, msg) => void got.push(msg) });
  await nc.flush();
  r = await jsApi(admin, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.p", {
    "stream_name": "ORDERS",
    config: { "durable_name": "p", "deliver_subject": "deliver.ORDERS", "ack_policy": "explicit" },
  });
  assertEquals(r.error, undefined);
  await checkFor(1_000, 10, () => {
    if (got.length !== total) throw new Error(`got ${got.length} of ${total}`);
  });
  assertEquals(got[0].subject, "ORDERS.foo");
  got[0].respond(enc.encode("+ACK"));
  await nc.flush();
  const floor = async () => (await jsApi(admin, "$JS.API.CONSUMER.INFO.ORDERS.p")).ack_floor.consumer_seq;
  await checkFor(1_000, 10, async () => {
    if (await floor() !== 1) throw new Error("ack not received");
  });
  assertEquals(got[1].subject, "ORDERS.bar");
  // An ack with a reply gets a response too.
  const resp = await nc.request(got[1].reply!, new Uint8Array(0), { timeout: 1_000 });
  assert(resp !== undefined);
  assertEquals(await floor(), 2);
});

Deno.test("TestJetStreamAccountImportAll: the whole JS API imported under another prefix", async () => {
  await using s = await runConf(`
    no_auth_user: rip
    jetstream: {max_mem_store: 64GB, max_file_store: 10TB}
    accounts: {
      JS: {
        jetstream: enabled
        users: [ {user: dlc, password: foo} ]
        exports [ { service: "$JS.API.>" } ]
      },
      IU: {
        users: [ {user: rip, password: bar} ]
        imports [ { service: { subject: "$JS.API.>", account: JS }, to: "jsapi.>"} ]
      },
    }`);
  await using admin = await conn(s, "dlc", "foo");
  assertEquals(
    (await jsApi(admin, "$JS.API.STREAM.CREATE.ORDERS", { name: "ORDERS", subjects: ["ORDERS.*"] })).error,
    undefined,
  );
  await using nc = await conn(s);
  const info = await jsApi(nc, "jsapi.INFO");
  assertEquals(info.error, undefined);
  assertEquals(info.streams, 1);
  const names = await jsApi(nc, "jsapi.STREAM.NAMES");
  assertEquals(names.error, undefined);
  assertEquals(names.streams, ["ORDERS"]);
});

Deno.test("TestJetStreamCrossAccounts: a KV bucket used from another account through imports", async () => {
  await using s = await runConf(`
    jetstream: enabled
    accounts: {
      A: {
        users: [ {user: a, password: a} ]
        jetstream: enabled
        exports: [
          {service: '$JS.API.>' }
          {service: '$KV.>'}
          {stream: 'accI.>'}
        ]
      },
      I: {
        users: [ {user: i, password: i} ]
        imports: [
          {service: {account: A, subject: '$JS.API.>'}, to: 'fromA.>' }
          {service: {account: A, subject: '$KV.>'}, to: 'fromA.$KV.>' }
          {stream: {subject: 'accI.>', account: A}}
        ]
      }
    }`);
  await using nc1 = await conn(s, "a", "a");
  const js1 = jetstream(nc1);
  const kv1 = await new Kvm(js1).create("Map", { history: 10 });
  await using nc2 = await conn(s, "i", "i", { inboxPrefix: "accI" });
  const js2 = jetstream(nc2, { apiPrefix: "fromA" });
  const kv2 = await new Kvm(js2).create("Map", { history: 10 });

  /** A watcher as a queue of updates. */
  const watch = async (kv: typeof kv1) => {
    const q: KvWatchEntry[] = [];
    const it = await kv.watch({ key: "map" });
    (async () => {
      for await (const e of it) q.push(e);
    })();
    return {
      it,
      async next(): Promise<KvWatchEntry> {
        await checkFor(1_000, 10, () => {
          if (q.length === 0) throw new Error("no update");
        });
        return q.shift()!;
      },
    };
  };
  const w1 = await watch(kv1);
  const w2 = await watch(kv2);
  const rev = await kv2.put("map", "value");
  const check = (e: KvEntry | KvWatchEntry | null, v: string) => {
    assert(e !== null);
    assertEquals([e.key, e.string()], ["map", v]);
  };
  check(await kv1.get("map"), "value");
  check(await kv2.get("map"), "value");
  check(await w1.next(), "value");
  check(await w2.next(), "value");
  await kv2.update("map", "updated", rev);
  check(await kv1.get("map"), "updated");
  check(await kv2.get("map"), "updated");
  check(await w1.next(), "updated");
  check(await w2.next(), "updated");
  await kv2.purge("map");
  assertEquals((await w1.next()).operation, "PURGE");
  assertEquals((await w2.next()).operation, "PURGE");
  // purgeDeletes lives on the client's Bucket class, not on its KV interface.
  await (kv2 as unknown as { purgeDeletes(olderMs: number): Promise<unknown> }).purgeDeletes(-1);
  const si = await jsApi(nc1, "$JS.API.STREAM.INFO.KV_Map");
  assertEquals(si.state.messages, 0);
  await kv2.delete("map");
  // nats.go answers ErrKeyNotFound; the JS client hands back the delete marker instead.
  const gone = await kv1.get("map");
  assert(gone === null || gone.operation === "DEL", JSON.stringify(gone?.operation));
  w1.it.stop();
  w2.it.stop();
});

Deno.test("TestJetStreamLimits: server limits on duplicates, max_ack_pending and max_request_batch", async (t) => {
  // The Go test runs both a single server and a 3-node cluster; the single-server half is ported.
  const tmpl = `
    jetstream: {
      max_mem_store: 2MB,
      max_file_store: 8MB,
      limits: {duplicate_window: "1m", max_request_batch: 250}
    }
    no_auth_user: u
    accounts {
      ONE {
        users = [ { user: "u", pass: "s3cr3t!" } ]
        jetstream: enabled
      }
      $SYS { users = [ { user: "admin", pass: "s3cr3t!" } ] }
    }`;
  const variants: [string, string][] = [
    ["operator", tmpl.replace("duplicate_window", "max_ack_pending: 1000, duplicate_window")],
    ["account", tmpl.replace("jetstream: enabled", "jetstream: {max_ack_pending: 1000}")],
  ];
  for (const [name, conf] of variants) {
    await t.step(`single/${name}`, async () => {
      await using s = await runConf(conf);
      await using nc = await conn(s);
      const MIN = 60_000_000_000;
      let r = await jsApi(nc, "$JS.API.STREAM.CREATE.foo", { name: "foo", subjects: ["foo"] });
      assertEquals(r.error, undefined);
      assertEquals(r.config.duplicate_window, MIN);
      r = await jsApi(nc, "$JS.API.STREAM.CREATE.bar", {
        name: "bar",
        subjects: ["bar"],
        "duplicate_window": 1_500_000_000,
      });
      assertEquals(r.config.duplicate_window, 1_500_000_000);
      r = await jsApi(nc, "$JS.API.STREAM.UPDATE.bar", {
        name: "bar",
        subjects: ["bar"],
        "duplicate_window": 2 * MIN,
      });
      assertEquals(r.error?.description, "duplicates window can not be larger then server limit of 1m0s");
      r = await jsApi(nc, "$JS.API.STREAM.CREATE.baz", {
        name: "baz",
        subjects: ["baz"],
        "duplicate_window": 2 * MIN,
      });
      assertEquals(r.error?.description, "duplicates window can not be larger then server limit of 1m0s");
      const cons = (durable: string, extra: Record<string, unknown> = {}, update = false) =>
        jsApi(nc, `$JS.API.CONSUMER.CREATE.foo.${durable}`, {
          "stream_name": "foo",
          config: { "durable_name": durable, "ack_policy": "explicit", ...extra },
          action: update ? "update" : "",
        });
      r = await cons("dur1");
      assertEquals(r.error, undefined);
      assertEquals(r.config.max_ack_pending, 1000);
      assertEquals(r.config.max_batch, 250);
      r = await cons("dur2", { "max_batch": 500 });
      assertEquals(r.error?.description, "consumer max request batch exceeds server limit of 250");
      r = await cons("dur2", { "max_ack_pending": 500 });
      assertEquals(r.error, undefined);
      assertEquals(r.config.max_ack_pending, 500);
      assertEquals(r.config.max_batch, 250);
      r = await cons("dur2", { "max_ack_pending": 2000 }, true);
      assertEquals(r.error?.description, "consumer max ack pending exceeds system limit of 1000");
      r = await cons("dur3", { "max_ack_pending": 2000 });
      assertEquals(r.error?.description, "consumer max ack pending exceeds system limit of 1000");
    });
  }
});
