// Ports of single-server tests of nats-server server/jetstream_test.go (2.9.10), part A2 (continues
// jetstream_ports_a_test.ts): the JS API round trip, stream updates, headers, system account, resources config,
// the store directory layout fix, filters, max ack pending, reloads, mirrors and sources, operator accounts and
// domains. Go test names kept, in Go's order; tests that need a cluster, Go internals or features natsdeno lacks
// stay ignored with the reason. Requests answered with a stream message use noMux (see part A).

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { credsAuthenticator, headers } from "@nats-io/nats-core";
import type { NatsConnection } from "@nats-io/transport-node";
import { join } from "node:path";
import { jsz } from "../../src/monitor/mod.ts";
import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, startServer } from "../../src/natsdeno.ts";
import { FileStore } from "../../src/store/mod.ts";
import { validateOptions } from "../../src/config/mod.ts";
import type { TestServer } from "./_helpers.ts";
import { checkFor, delay } from "../_helpers/server.ts";
import {
  ackMeta,
  addConsumer,
  addStream,
  api,
  confOptions,
  conn,
  consumerInfo,
  dec,
  eachStore,
  enc,
  inbox,
  type Json,
  MS,
  nextSubj,
  runConf,
  runJs,
  sendStreamMsg,
  STORES,
  streamInfo,
  SyncSub,
} from "./_ports_helpers.ts";

async function noReply(nc: NatsConnection, subj: string, ms: number): Promise<boolean> {
  try {
    await nc.request(subj, undefined, { timeout: ms });
    return false;
  } catch {
    return true;
  }
}

Deno.test("TestJetStreamRequestAPI: account info, stream and consumer CRUD, names and lists, msg delete, purge", async (t) => {
  await using s = await runJs();
  await using nc = await conn(s);
  let info = await api(nc, "$JS.API.INFO");
  assertEquals(info.error, undefined);
  const msetCfg: Record<string, unknown> = {
    name: "MSET22",
    storage: "file",
    subjects: ["foo", "bar", "baz"],
    "max_msgs": 100,
  };
  await t.step("streams", async () => {
    let r = await api(nc, "$JS.API.STREAM.CREATE.MSET22", msetCfg);
    assert(
      r.config !== undefined && r.error === undefined,
      `Did not receive correct response: ${JSON.stringify(r.error)}`,
    );
    assert(Date.now() - Date.parse(r.created) <= 1_000, `Created time seems wrong: ${r.created}`);
    r = await api(nc, "$JS.API.STREAM.CREATE.BOB", msetCfg);
    assertEquals(r.error?.err_code, 10056);
    msetCfg["max_bytes"] = 2222222;
    r = await api(nc, "$JS.API.STREAM.UPDATE.MSET22", msetCfg);
    assert(
      r.config !== undefined && r.error === undefined,
      `Did not receive correct response: ${JSON.stringify(r.error)}`,
    );
    r = await api(nc, "$JS.API.STREAM.UPDATE.UNKNOWN_STREAM", {
      name: "UNKNOWN_STREAM",
      storage: "file",
      subjects: ["foo"],
    });
    assert(r.config === undefined && r.error?.code === 404, JSON.stringify(r.error));
    info = await api(nc, "$JS.API.INFO");
    assertEquals(info.streams, 1);
    const names = await api(nc, "$JS.API.STREAM.NAMES");
    assertEquals([names.streams, names.total, names.offset, names.limit], [["MSET22"], 1, 0, 1024]);
    const list = await api(nc, "$JS.API.STREAM.LIST");
    assertEquals([list.streams.length, list.total, list.offset, list.limit], [1, 1, 0, 256]);
    assertEquals(list.streams[0].config.name, "MSET22");
  });
  const toSend = 10;
  await t.step("info and consumers", async () => {
    for (let i = 0; i < toSend; i++) {
      await nc.request("foo", enc.encode("WELCOME JETSTREAM"), { timeout: 1_000 });
    }
    const msi = await streamInfo(nc, "MSET22");
    assertEquals(msi.state.messages, toSend);
    assert(Date.now() - Date.parse(msi.created) <= 2_000, `Created time seems wrong: ${msi.created}`);
    assertEquals((await streamInfo(nc, "BOB")).error?.err_code, 10059);
    const delivery = inbox();
    const obsReq = { "stream_name": "MSET22", config: { "deliver_subject": delivery } };
    let r = await api(nc, "$JS.API.CONSUMER.CREATE.MSET22", obsReq);
    assert(r.config !== undefined && r.error === undefined, `Got a bad response ${JSON.stringify(r)}`);
    assert(Date.now() - Date.parse(r.created) <= 1_000, `Created time seems wrong: ${r.created}`);
    const sub = new SyncSub(nc, delivery);
    await nc.flush();
    await checkFor(250, 10, () => assertEquals(sub.pending(), toSend));
    r = await api(nc, "$JS.API.CONSUMER.CREATE.BOB", obsReq);
    assertEquals(r.error?.err_code, 10056);
    const cl = await api(nc, "$JS.API.CONSUMER.NAMES.MSET22");
    assertEquals(cl.consumers.length, 1);
    const cName = cl.consumers[0];
    await checkFor(1_000, 10, async () => {
      const oinfo = await consumerInfo(nc, "MSET22", cName);
      assertEquals(oinfo.name.length, 8, `Expected ephemeral name, got ${oinfo.name}`);
      assertEquals(oinfo.config.durable_name, undefined);
      assertEquals(oinfo.config.deliver_subject, delivery);
      assertEquals(oinfo.delivered.consumer_seq, 10);
      assertEquals(oinfo.ack_floor.consumer_seq, 10);
    });
    r = await api(nc, `$JS.API.CONSUMER.DELETE.MSET22.${cName}`);
    assert(r.success && r.error === undefined, JSON.stringify(r));
    sub.unsubscribe();
    const dReq = { "stream_name": "MSET22", config: { "durable_name": "myd", "deliver_subject": delivery } };
    r = await api(nc, "$JS.API.CONSUMER.CREATE.MSET22", dReq);
    assertEquals(r.error?.err_code, 10020);
    r = await api(nc, "$JS.API.CONSUMER.DURABLE.CREATE.MSET22.myd", dReq);
    assert(r.config !== undefined && r.error === undefined, "Did not receive correct response");
    r = await api(nc, "$JS.API.CONSUMER.DURABLE.CREATE.MSET22.myd", obsReq);
    assertEquals(r.error?.err_code, 10018);
  });
  await t.step("msg delete, purge, stream delete", async () => {
    let r = await api(nc, "$JS.API.STREAM.MSG.DELETE.MSET22", { seq: 2 });
    assert(r.success && r.error === undefined, JSON.stringify(r.error));
    r = await api(nc, "$JS.API.STREAM.PURGE.MSET22");
    assert(r.success && r.error === undefined, JSON.stringify(r));
    assertEquals(r.purged, 9);
    r = await api(nc, "$JS.API.STREAM.DELETE.MSET22");
    assert(r.success && r.error === undefined, JSON.stringify(r.error));
    info = await api(nc, "$JS.API.INFO");
    assertEquals(info.streams, 0);
  });
  // blocked: natsdeno does not serve $JS.API.STREAM.TEMPLATE.* (stream templates were removed from current
  // nats-server); requests there get no reply.
  await t.step({ name: "templates (create, names, delete, info)", ignore: true, fn() {} });
  await t.step("requests without arguments accept nothing or empty JSON", async () => {
    for (const arg of ["", "{}", " {} ", " { } "]) {
      const r = await api(nc, "$JS.API.STREAM.DELETE.foo_bar_baz", arg);
      assert(r.error?.code === 404, `Got a bad response, expected a 404 response ${JSON.stringify(r.error)}`);
    }
  });
});

Deno.test("TestJetStreamUpdateStream: allowed and refused updates, limits applied at once, config saved", async (t) => {
  for (const [name, storage] of STORES) {
    await t.step(name, async () => {
      const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jspa-" });
      let s = await runJs({ storeDir });
      let nc = await conn(s);
      try {
        const base: Record<string, unknown> = {
          name: "foo",
          retention: "limits",
          "max_age": 3_600 * 1_000 * MS,
          storage,
          "num_replicas": 1,
        };
        await addStream(nc, base);
        const upd = (cfg: Record<string, unknown>, subj = "foo") =>
          api(nc, `$JS.API.STREAM.UPDATE.${subj}`, cfg);
        // Go checks substrings of mset.update()'s errors; STREAM.UPDATE wraps them as 10052.
        assertEquals((await upd({ ...base, name: "bar" })).error?.err_code, 10056);
        const refused = async (cfg: Record<string, unknown>, text: string) => {
          const e = (await upd(cfg)).error;
          assertEquals(e?.err_code, 10052, JSON.stringify(e));
          assertStringIncludes(e.description, text);
        };
        await refused({ ...base, "max_consumers": 10 }, "can not change");
        await refused({ ...base, storage: storage === "file" ? "memory" : "file" }, "can not change");
        await refused({ ...base, "num_replicas": 10 }, "maximum replicas");
        await refused({ ...base, "template_owner": "baz" }, "template");
        await refused({ ...base, retention: "workqueue" }, "can not change");
        const pending = 100;
        for (let i = 0; i < pending; i++) await sendStreamMsg(nc, "foo", "0123456789");
        const pendingBytes = (await streamInfo(nc, "foo")).state.bytes;
        const checkPending = async (msgs: number, bts: number) => {
          const st = (await streamInfo(nc, "foo")).state;
          assertEquals(st.messages, msgs);
          assertEquals(st.bytes, bts);
        };
        await checkPending(pending, pendingBytes);
        let r = await upd({ ...base, "max_msgs": pending * 2 });
        assertEquals(r.config?.max_msgs, pending * 2);
        await checkPending(pending, pendingBytes);
        r = await upd({ ...base, "max_msgs": pending / 2 });
        assertEquals(r.config?.max_msgs, pending / 2);
        await checkPending(pending / 2, pendingBytes / 2);
        r = await upd({ ...base, "max_bytes": pendingBytes / 4 });
        assertEquals(r.config?.max_bytes, pendingBytes / 4);
        await checkPending(pending / 4, pendingBytes / 4);
        r = await upd({ ...base, "max_age": 100 * MS });
        await delay(200);
        assertEquals(r.config?.max_age, 100 * MS);
        await checkPending(0, 0);
        assertEquals((await upd(base)).error, undefined);
        for (let i = 0; i < pending; i++) await sendStreamMsg(nc, "foo", "0123456789");
        assertEquals((await upd({ ...base, subjects: ["foo", "bar"] })).error, undefined);
        await sendStreamMsg(nc, "foo", "0123456789");
        await sendStreamMsg(nc, "bar", "0123456789");
        assertEquals((await upd({ ...base, subjects: ["baz"] })).error, undefined);
        assert(
          await noReply(nc, "foo", 25),
          `Expected no response from jetstream for deleted subject: "foo"`,
        );
        assert(
          await noReply(nc, "bar", 25),
          `Expected no response from jetstream for deleted subject: "bar"`,
        );
        await sendStreamMsg(nc, "baz", "0123456789");
        assertEquals((await streamInfo(nc, "foo")).state.messages, pending + 3);
        if (storage === "file") {
          r = await upd({
            ...base,
            subjects: ["foo", "bar"],
            "max_msgs": 2222,
            "max_bytes": 3333333,
            "max_age": 22 * 3_600 * 1_000 * MS,
          });
          assertEquals(r.error, undefined);
          const cfg = r.config;
          const port = s.port;
          await nc.close();
          await s.shutdown();
          s = await runJs({ storeDir, port });
          nc = await conn(s);
          const si = await streamInfo(nc, "foo");
          assertEquals(si.error, undefined, `Expected to find a stream for "foo"`);
          assertEquals(si.config, cfg, "restored configuration does not match");
        }
      } finally {
        await nc.close();
        await s.shutdown();
      }
    });
  }
});

Deno.test("TestJetStreamLimitLockBug: max_msgs 10 keeps the last 10 of 100", async (t) => {
  await eachStore(t, async ({ nc, storage }) => {
    await addStream(nc, { name: "foo", retention: "limits", "max_msgs": 10, storage, "num_replicas": 1 });
    for (let i = 0; i < 100; i++) await sendStreamMsg(nc, "foo", "ok");
    assertEquals((await streamInfo(nc, "foo")).state.messages, 10);
  });
});

Deno.test("TestJetStreamNextMsgNoInterest: pull requests whose requestor timed out are skipped", async (t) => {
  for (const [name] of STORES) {
    await t.step(name, async () => {
      await using s = await runJs();
      // Old request style: each request on its own inbox, gone when it times out.
      await using nc = await conn(s);
      await addStream(nc, { name: "foo", storage: "file" });
      await addConsumer(nc, "foo", { "durable_name": "WQ", "ack_policy": "explicit" });
      const ns = nextSubj("foo", "WQ");
      const timedOut = async (ms: number) => {
        try {
          await nc.request(ns, undefined, { timeout: ms, noMux: true });
          return false;
        } catch {
          return true;
        }
      };
      assert(await timedOut(1), "Expected a timeout error and no response with acks suppressed");
      nc.publish("foo", enc.encode("OK"));
      let m = await nc.request(ns, undefined, { timeout: 50, noMux: true });
      m.respond();
      for (let i = 0; i < 10; i++) {
        assert(await timedOut(1), "Expected a timeout error and no response with acks suppressed");
      }
      for (let i = 0; i < 10; i++) nc.publish("foo", enc.encode("OK"));
      await nc.flush();
      for (let i = 0; i < 10; i++) {
        m = await nc.request(ns, undefined, { timeout: 100, noMux: true });
        m.respond();
      }
      await nc.flush();
      await checkFor(500, 10, async () => {
        const ci = await consumerInfo(nc, "foo", "WQ");
        assert(
          ci.ack_floor.stream_seq === 11 && ci.num_ack_pending === 0,
          `Inconsistent ack state: ${JSON.stringify(ci)}`,
        );
      });
    });
  }
});

Deno.test("TestJetStreamMsgHeaders: headers are stored as sent and delivered to consumers", async (t) => {
  await eachStore(t, async ({ nc, storage }) => {
    await addStream(nc, {
      name: "foo",
      retention: "limits",
      "max_age": 3_600 * 1_000 * MS,
      storage,
      "num_replicas": 1,
    });
    const h = headers();
    h.append("Accept-Encoding", "json");
    h.append("Authorization", "s3cr3t");
    const data = enc.encode("Hello JetStream Headers - #1!");
    nc.publish("foo", data, { headers: h });
    await nc.flush();
    await checkFor(500, 10, async () => {
      const st = (await streamInfo(nc, "foo")).state;
      assertEquals(st.messages, 1);
      assert(st.bytes !== 0, "Expected non-zero bytes");
    });
    const sm = (await api(nc, "$JS.API.STREAM.MSG.GET.foo", { seq: 1 })).message;
    const hdr = "NATS/1.0\r\nAccept-Encoding: json\r\nAuthorization: s3cr3t\r\n\r\n";
    assertEquals(atob(sm.hdrs), hdr, "Message headers do not match");
    assertEquals(atob(sm.data), dec.decode(data), "Message data do not match");
    const sub = new SyncSub(nc, inbox());
    await nc.flush();
    await addConsumer(nc, "foo", { "deliver_subject": sub.sub.getSubject(), "ack_policy": "none" });
    const cm = await sub.must(1_000);
    assert(
      cm.headers?.get("Accept-Encoding") === "json" && cm.headers?.get("Authorization") === "s3cr3t",
      "Original headers not present",
    );
    assertEquals(dec.decode(cm.data), dec.decode(data), "Message payloads are not the same");
    sub.unsubscribe();
  });
});

// blocked: natsdeno does not serve $JS.API.STREAM.TEMPLATE.* (stream templates were removed from current
// nats-server); requests there get no reply.
Deno.test({ name: "TestJetStreamTemplateBasics: templates create streams on demand", ignore: true, fn() {} });

// blocked: natsdeno does not serve $JS.API.STREAM.TEMPLATE.* (stream templates were removed from current
// nats-server); requests there get no reply.
Deno.test({
  name: "TestJetStreamTemplateFileStoreRecovery: templates and their streams survive a restart",
  ignore: true,
  fn() {},
});

// blocked: needs leaf nodes (a leaf server reaching a remote JetStream server's API through its hub); natsdeno
// has no leaf nodes.
Deno.test({
  name: "TestJetStreamSingleInstanceRemoteAccess: a leaf node uses a remote single JetStream server",
  ignore: true,
  fn() {},
});

Deno.test("TestJetStreamCanNotEnableOnSystemAccount: JetStream may not be enabled on the system account", async () => {
  // Go enables the system account in code; from a config nats-server refuses to start with this text.
  await assertRejects(
    () =>
      runConf(`jetstream: enabled
        system_account: SYS
        accounts { SYS: { jetstream: enabled, users: [{user: s, password: p}] } }`),
    "Not allowed to enable JetStream on the system account",
  );
});

Deno.test("TestJetStreamServerResourcesConfig: max_mem_store and max_file_store with units", async () => {
  await using s = await runConf(`jetstream: {max_mem_store: 2GB, max_file_store: 1TB}`);
  const z = jsz(s) as Json;
  assert(z.disabled !== true, "Expected JetStream to be enabled");
  const gb = 1024 * 1024 * 1024;
  assertEquals(z.config.max_memory, 2 * gb);
  assertEquals(z.config.max_storage, 1024 * gb);
});

Deno.test("TestJetStreamStoreDirectoryFix: streams stored one level up (no jetstream dir) are moved back", async () => {
  const sd = await Deno.makeTempDir({ prefix: "natsdeno-jspa-sd-" });
  const conf = `jetstream: {store_dir: "${sd}"}`;
  {
    await using s = await runConf(conf, sd);
    await using nc = await conn(s);
    await addStream(nc, { name: "TEST" });
    await sendStreamMsg(nc, "TEST", "TSS");
    await addConsumer(nc, "TEST", {
      "durable_name": "dlc",
      "deliver_subject": inbox(),
      "ack_policy": "explicit",
    });
  }
  const jssd = join(sd, "jetstream");
  for await (const e of Deno.readDir(jssd)) await Deno.rename(join(jssd, e.name), join(sd, e.name));
  await Deno.remove(jssd, { recursive: true });
  await using s = await runConf(conf, sd);
  await using nc = await conn(s);
  assertEquals((await api(nc, "$JS.API.STREAM.NAMES")).streams?.length ?? 0, 1, "Expected only 1 stream");
  assertEquals(
    (await api(nc, "$JS.API.CONSUMER.NAMES.TEST")).consumers?.length ?? 0,
    1,
    "Expected only 1 consumer",
  );
  await Deno.remove(sd, { recursive: true }).catch(() => {});
});

// blocked: a benchmark in Go, skipped there too; speed is measured by deno task bench
Deno.test({ name: "TestJetStreamPubPerf: publish throughput", ignore: true, fn() {} });
// blocked: a benchmark in Go, skipped there too; speed is measured by deno task bench
Deno.test({ name: "TestJetStreamPubWithAsyncResponsePerf: async publish throughput", ignore: true, fn() {} });
// blocked: a benchmark in Go, skipped there too; speed is measured by deno task bench
Deno.test({ name: "TestJetStreamPubWithSyncPerf: sync publish throughput", ignore: true, fn() {} });
// blocked: a benchmark in Go, skipped there too; speed is measured by deno task bench
Deno.test({ name: "TestJetStreamConsumerPerf: consumer throughput", ignore: true, fn() {} });
// blocked: a benchmark in Go, skipped there too; speed is measured by deno task bench
Deno.test({
  name: "TestJetStreamConsumerAckFileStorePerf: file store ack throughput",
  ignore: true,
  fn() {},
});
// blocked: a benchmark in Go, skipped there too; speed is measured by deno task bench
Deno.test({ name: "TestJetStreamPubSubPerf: publish and subscribe throughput", ignore: true, fn() {} });

Deno.test("TestJetStreamConsumerFilterSubject: a durable with a filter may be re-added with a new deliver subject", async () => {
  await using s = await runJs();
  await using nc = await conn(s);
  await addStream(nc, { name: "MY_STREAM", subjects: ["foo"] });
  const cfg = {
    "durable_name": "d",
    "deliver_subject": "A",
    "ack_policy": "explicit",
    "filter_subject": "foo",
  };
  const o = await addConsumer(nc, "MY_STREAM", cfg);
  assertEquals(o.config.filter_subject, "foo", "Expected the filter to be stored");
  await addConsumer(nc, "MY_STREAM", { ...cfg, "deliver_subject": "B" });
});

Deno.test("TestJetStreamStoredMsgsDontDisappearAfterCacheExpiration: stored messages stay readable after the block cache expires", async () => {
  // Go gives this stream a FileStore with 128-byte blocks and a 15 ms cache expiry; natsdeno's smallest block is
  // 1 KiB, and its cache of sealed blocks idles out after 15 ms here.
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jspa-" });
  const opts = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir });
  await using s = await startServer(opts, {
    log: new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: false }, true),
    newStreamStore: (cfg, dir) => new FileStore(cfg, { dir, blockSize: 128, blockCacheIdleMs: 15 }),
  }) as TestServer;
  const nc1 = await conn(s);
  const sub = new SyncSub(nc1, inbox());
  await nc1.flush();
  await addStream(nc1, { name: "MY_STREAM", storage: "file", subjects: ["foo.>"], retention: "interest" });
  await addConsumer(nc1, "MY_STREAM", {
    "durable_name": "dur",
    "deliver_subject": sub.sub.getSubject(),
    "filter_subject": "foo.bar",
    "deliver_policy": "new",
    "ack_policy": "explicit",
  });
  await using nc2 = await conn(s);
  await sendStreamMsg(nc2, "foo.bar", "msg1");
  const msg = await sub.must(1_000);
  assertEquals(dec.decode(msg.data), "msg1");
  await nc1.close();
  const getMsgSeq = async (seq: number) => {
    const r = await nc2.request("$JS.API.STREAM.MSG.GET.MY_STREAM", enc.encode(JSON.stringify({ seq })), {
      timeout: 1_000,
    });
    assert(!dec.decode(r.data).includes("code"), `Error: ${dec.decode(r.data)}`);
  };
  await getMsgSeq(1);
  await delay(1_000);
  await sendStreamMsg(nc2, "foo.bar", "msg2");
  await sendStreamMsg(nc2, "foo.bar", "msg3");
  await getMsgSeq(1);
  await getMsgSeq(2);
  await getMsgSeq(3);
});

Deno.test("TestJetStreamPullConsumerMaxAckPending: a batch pull stops at max_ack_pending", async (t) => {
  await eachStore(t, async ({ nc, storage }) => {
    await addStream(nc, { name: "MY_STREAM", storage, subjects: ["foo.*"] });
    const toSend = 100;
    for (let i = 0; i < toSend; i++) await sendStreamMsg(nc, "foo.bar", `MSG: ${i + 1}`);
    const maxAckPending = 33;
    await addConsumer(nc, "MY_STREAM", {
      "durable_name": "d22",
      "ack_policy": "explicit",
      "max_ack_pending": maxAckPending,
    });
    const getSubj = nextSubj("MY_STREAM", "d22");
    const toAck = [];
    for (let i = 0; i < maxAckPending; i++) {
      toAck.push(await nc.request(getSubj, undefined, { timeout: 1_000, noMux: true }));
    }
    for (const m of toAck) m.respond();
    const sub = new SyncSub(nc, inbox());
    nc.publish(getSubj, enc.encode(JSON.stringify({ batch: maxAckPending })), {
      reply: sub.sub.getSubject(),
    });
    await checkFor(1_000, 10, () => assertEquals(sub.pending(), maxAckPending));
    await delay(50);
    assertEquals(sub.pending(), maxAckPending, "Too many messages received");
    sub.unsubscribe();
  });
});

Deno.test("TestJetStreamPullConsumerMaxAckPendingRedeliveries: with max_ack_pending 1 the pending one is redelivered", async (t) => {
  await eachStore(t, async ({ nc, storage }) => {
    await addStream(nc, { name: "MY_STREAM", storage, subjects: ["foo.*"] });
    const toSend = 10;
    for (let i = 0; i < toSend; i++) await sendStreamMsg(nc, "foo.bar", `MSG: ${i + 1}`);
    const expSeq = 4;
    await addConsumer(nc, "MY_STREAM", {
      "durable_name": "d22",
      "deliver_policy": "by_start_sequence",
      "opt_start_seq": expSeq,
      "ack_policy": "explicit",
      "ack_wait": 20 * MS,
      "max_ack_pending": 1,
    });
    let delivery = 1;
    for (let i = 0; i < 5; i++) {
      const m = await nc.request(nextSubj("MY_STREAM", "d22"), undefined, { timeout: 1_000, noMux: true });
      const r = ackMeta(m);
      assertEquals(r.sseq, expSeq, "stream sequence");
      assertEquals(r.dseq, delivery, "consumer sequence");
      assertEquals(r.dc, delivery, "delivery count");
      assertEquals(r.pending, toSend - expSeq, "pending");
      delivery++;
    }
  });
});

Deno.test("TestJetStreamServerReload: JetStream keeps working across a config reload", async () => {
  const conf = `jetstream: {max_mem_store: 64GB, max_file_store: 10TB }
    accounts: {
      A: { users: [ {user: ua, password: pwd} ] },
      B: {
        jetstream: {max_mem: 1GB, max_store: 1TB, max_streams: 10, max_consumers: 1k}
        users: [ {user: ub, password: pwd} ]
      },
      SYS: { users: [ {user: uc, password: pwd} ] },
    }
    no_auth_user: ub
    system_account: SYS`;
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jspa-" });
  await using s = await runConf(conf, storeDir);
  assert((jsz(s) as Json).disabled !== true, "Expected JetStream to be enabled");
  await using nc = await conn(s);
  const checkJSAccount = async () => assertEquals((await api(nc, "$JS.API.INFO")).error, undefined);
  await checkJSAccount();
  await addStream(nc, { name: "22" });
  const toSend = 10;
  for (let i = 0; i < toSend; i++) await sendStreamMsg(nc, "22", `MSG: ${i + 1}`);
  assertEquals((await streamInfo(nc, "22")).state.messages, toSend);
  s.reload({ ...confOptions(conf, storeDir), port: s.port });
  await checkFor(5_000, 10, () => assert(!nc.isClosed(), "Not connected"));
  await checkJSAccount();
  await sendStreamMsg(nc, "22", "MSG: 22");
});

Deno.test("TestJetStreamConfigReloadWithGlobalAccount: the global account keeps JetStream after a reload", async () => {
  const conf = (pwd: string) =>
    `authorization {
      users [
        {user: anonymous}
        {user: user1, password: ${pwd}}
      ]
    }
    no_auth_user: anonymous
    jetstream: enabled`;
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-jspa-" });
  await using s = await runConf(conf("pwd"), storeDir);
  {
    await using nc = await conn(s);
    assertEquals((await api(nc, "$JS.API.INFO")).error, undefined);
    await addStream(nc, { name: "foo" });
    const toSend = 10;
    for (let i = 0; i < toSend; i++) await sendStreamMsg(nc, "foo", `MSG: ${i + 1}`);
    assertEquals((await streamInfo(nc, "foo")).state.messages, toSend);
  }
  s.reload({ ...confOptions(conf("pwd2"), storeDir), port: s.port });
  await using nc = await conn(s);
  await addStream(nc, { name: "bar" });
  assertEquals((await api(nc, "$JS.API.INFO")).error, undefined);
});

// blocked: needs a 3-server JetStream cluster (R2 streams); natsdeno has no clustering.
Deno.test({
  name: "TestJetStreamGetLastMsgBySubject: last message by subject on a replicated stream",
  ignore: true,
  fn() {},
});

// blocked: needs a 3-server JetStream cluster (R2 streams); natsdeno has no clustering.
Deno.test({
  name: "TestJetStreamGetLastMsgBySubjectAfterUpdate: last message by subject after a subjects update (R2)",
  ignore: true,
  fn() {},
});

Deno.test("TestJetStreamFilteredConsumersWithWiderFilter: consumers with wildcard filters over the stream's subjects", async () => {
  await using s = await runJs();
  await using nc = await conn(s);
  await addStream(nc, { name: "TEST", subjects: ["foo", "bar", "baz", "N.*"], storage: "file" });
  for (const subj of ["foo", "bar", "baz"]) await sendStreamMsg(nc, subj, "OK");
  for (let i = 0; i < 12; i++) await sendStreamMsg(nc, `N.${i + 1}`, "OK");
  await checkFor(5_000, 250, async () => assertEquals((await streamInfo(nc, "TEST")).state.messages, 15));
  // nats.go's SubscribeSync looks the stream up by subject, then makes an ephemeral push consumer filtered on it.
  const checkWider = async (subj: string, numExpected: number) => {
    const names = await api(nc, "$JS.API.STREAM.NAMES", { subject: subj });
    assertEquals(names.streams, ["TEST"], `stream for ${subj}`);
    const sub = new SyncSub(nc, inbox());
    await nc.flush();
    await addConsumer(nc, "TEST", {
      "deliver_subject": sub.sub.getSubject(),
      "filter_subject": subj,
      "ack_policy": "none",
    });
    await checkFor(2_000, 10, () => assertEquals(sub.pending(), numExpected, `${subj}`));
    sub.unsubscribe();
  };
  await checkWider("*", 3);
  await checkWider("N.*", 12);
  await checkWider("*.*", 12);
  await checkWider("N.>", 12);
  await checkWider(">", 15);
});

Deno.test("TestJetStreamMirrorBasics: mirrors refuse subjects and follow their origin from any start", async () => {
  await using s = await runJs();
  await using nc = await conn(s);
  const create = (cfg: Record<string, unknown>) =>
    api(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, { storage: "file", ...cfg });
  const createOk = async (cfg: Record<string, unknown>) => assertEquals((await create(cfg)).error, undefined);
  const cfg: Record<string, unknown> = {
    name: "M1",
    subjects: ["foo", "bar", "baz"],
    mirror: { name: "S1" },
  };
  const r = await create(cfg);
  assert(r.error !== undefined, "Expected error");
  assertStringIncludes(r.error.description, "stream mirrors can not");
  delete cfg.subjects;
  await createOk({ name: "S1", subjects: ["foo", "bar", "baz"] });
  await createOk(cfg);
  await delay(250);
  for (let i = 0; i < 100; i++) await sendStreamMsg(nc, "foo", "OK");
  const waitState = (name: string, msgs: number, first?: number) =>
    checkFor(5_000, 250, async () => {
      const st = (await streamInfo(nc, name)).state;
      assertEquals(st.messages, msgs, `${name} state ${JSON.stringify(st)}`);
      if (first !== undefined) assertEquals(st.first_seq, first, `${name} state ${JSON.stringify(st)}`);
    });
  await waitState("M1", 100);
  assertEquals((await api(nc, "$JS.API.STREAM.PURGE.S1")).success, true);
  for (let i = 0; i < 50; i++) await sendStreamMsg(nc, "bar", "OK");
  await createOk({ name: "M2", storage: "file", mirror: { name: "S1" } });
  await waitState("M2", 50, 101);
  for (let i = 0; i < 100; i++) await sendStreamMsg(nc, "baz", "OK");
  await createOk({ name: "M3", mirror: { name: "S1", "opt_start_seq": 150 } });
  await waitState("M3", 101, 150);
  const start = new Date(Date.now() - 2 * 3_600_000).toISOString();
  await createOk({ name: "M4", mirror: { name: "S1", "opt_start_time": start } });
  await waitState("M4", 150, 101);
});

Deno.test("TestJetStreamSourceBasics: sources aggregate streams, update, start at a sequence and filter", async () => {
  await using s = await runJs();
  await using nc = await conn(s);
  const createStream = async (cfg: Record<string, unknown>) => {
    const r = await api(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, cfg);
    assertEquals(r.error, undefined, `Unexpected error: ${JSON.stringify(r.error)}`);
  };
  for (const sname of ["foo", "bar", "baz"]) await createStream({ name: sname, storage: "file" });
  const sendBatch = async (subject: string, n: number) => {
    for (let i = 0; i < n; i++) await sendStreamMsg(nc, subject, "OK");
  };
  await sendBatch("foo", 10);
  await sendBatch("bar", 15);
  await sendBatch("baz", 25);
  await createStream({
    name: "MS",
    storage: "file",
    sources: [{ name: "foo" }, { name: "bar" }, { name: "baz" }],
  });
  const waitMsgs = (name: string, n: number) =>
    checkFor(2_000, 100, async () => assertEquals((await streamInfo(nc, name)).state.messages, n, name));
  await waitMsgs("MS", 50);
  const u = await api(nc, "$JS.API.STREAM.UPDATE.MS", {
    name: "MS",
    storage: "file",
    sources: [{ name: "foo" }, { name: "bar" }, { name: "dlc" }],
  });
  assertEquals(u.error, undefined);
  await createStream({ name: "TEST", storage: "file", subjects: ["dlc", "rip"] });
  await sendBatch("dlc", 20);
  await sendBatch("rip", 20);
  await sendBatch("dlc", 10);
  const sourceSeq = async (stream: string) => {
    const m = (await api(nc, `$JS.API.STREAM.MSG.GET.${stream}`, { seq: 1 })).message;
    const hdrs = atob(m.hdrs ?? "");
    const line = hdrs.split("\r\n").find((l) => l.startsWith("Nats-Stream-Source:"));
    assert(line !== undefined, "Expected a header, got none");
    return Number(line.slice("Nats-Stream-Source:".length).trim().split(" ")[1]);
  };
  await createStream({ name: "FMS", storage: "file", sources: [{ name: "TEST", "opt_start_seq": 26 }] });
  await waitMsgs("FMS", 25);
  assertEquals(await sourceSeq("FMS"), 26);
  await createStream({
    name: "FMS2",
    storage: "file",
    sources: [{ name: "TEST", "opt_start_seq": 11, "filter_subject": "dlc" }],
  });
  await waitMsgs("FMS2", 20);
  assertEquals(await sourceSeq("FMS2"), 11);
});

/** js-op.conf and one.creds of nats-server's server/configs (an operator, its system account and account "one"). */
const OPERATOR_JWT =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiIyUkc0WjJKVzYzSUtBS1czSFg0SkpMQVhRN1ZSM0NKVlRQU1FHUVRCU0ZFQjVKTkNISUpRIiwiaWF0IjoxNjE2MTg2MjAxLCJpc3MiOiJPRDRNNklBQUtRU000RFFTTFdaSVZCQUNZVFlTMlM2WFFTN1U2N1hYWVhKNDRJTE5FMzVZUEdKSyIsIm5hbWUiOiJqcy10ZXN0Iiwic3ViIjoiT0Q0TTZJQUFLUVNNNERRU0xXWklWQkFDWVRZUzJTNlhRUzdVNjdYWFlYSjQ0SUxORTM1WVBHSksiLCJuYXRzIjp7InR5cGUiOiJvcGVyYXRvciIsInZlcnNpb24iOjJ9fQ.VkjSK2BlMmtYfVJSkC9aZEFvjg4BXzbd0oXkQa3Rlkhh8EuSRU7-Tp1zUm1SveBb6dZXsE51vhIQFQY66fO0Bw";
const SYS_PUB = "AD4M34OPRUPWDYTIQLWKMEZZM5MK7PQQDSKNELCZDRZZEVFWOWPLFTUE";
const SYS_JWT =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiIyQ1dSRk80MlZVMk1TVlI0QkhIUFBEVjdJNERaTFZHWURZUlNXQ0pIVUM0Q1dRVkhXWjNBIiwiaWF0IjoxNjE2MTg2MzYxLCJpc3MiOiJPRDRNNklBQUtRU000RFFTTFdaSVZCQUNZVFlTMlM2WFFTN1U2N1hYWVhKNDRJTE5FMzVZUEdKSyIsIm5hbWUiOiJzeXMiLCJzdWIiOiJBRDRNMzRPUFJVUFdEWVRJUUxXS01FWlpNNU1LN1BRUURTS05FTENaRFJaWkVWRldPV1BMRlRVRSIsIm5hdHMiOnsibGltaXRzIjp7InN1YnMiOi0xLCJkYXRhIjotMSwicGF5bG9hZCI6LTEsImltcG9ydHMiOi0xLCJleHBvcnRzIjotMSwid2lsZGNhcmRzIjp0cnVlLCJjb25uIjotMSwibGVhZiI6LTF9LCJkZWZhdWx0X3Blcm1pc3Npb25zIjp7InB1YiI6e30sInN1YiI6e319LCJ0eXBlIjoiYWNjb3VudCIsInZlcnNpb24iOjJ9fQ.gExWTSaWWSYh9N_KsrOGPAJk0KJUn1VjVo00yfE6NoMXrmjkATDMoDLpKC19mrBNaMa6RZjhXyTdzJulxzxGBw";
const ONE_PUB = "ABVRZKJ6Z7NIMPIYJRCHEYFRUO7ENN6NWOKQDFLFDFVPSM36UPX2UCPP";
const ONE_JWT =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiJRSVFDRFpRRkRIUU9WQlc3Q0tDNFQzVzJJV0dZV1ZISjZTVTRSTlYzUFo3NUhTUFVQS1ZBIiwiaWF0IjoxNjE2MTg3MjUwLCJpc3MiOiJPRDRNNklBQUtRU000RFFTTFdaSVZCQUNZVFlTMlM2WFFTN1U2N1hYWVhKNDRJTE5FMzVZUEdKSyIsIm5hbWUiOiJvbmUiLCJzdWIiOiJBQlZSWktKNlo3TklNUElZSlJDSEVZRlJVTzdFTk42TldPS1FERkxGREZWUFNNMzZVUFgyVUNQUCIsIm5hdHMiOnsibGltaXRzIjp7InN1YnMiOi0xLCJkYXRhIjotMSwicGF5bG9hZCI6LTEsImltcG9ydHMiOi0xLCJleHBvcnRzIjotMSwid2lsZGNhcmRzIjp0cnVlLCJjb25uIjotMSwibGVhZiI6LTEsIm1lbV9zdG9yYWdlIjoxMDczNzQxODI0LCJkaXNrX3N0b3JhZ2UiOjEwNzM3NDE4MjQwLCJzdHJlYW1zIjoxMDB9LCJkZWZhdWx0X3Blcm1pc3Npb25zIjp7InB1YiI6e30sInN1YiI6e319LCJ0eXBlIjoiYWNjb3VudCIsInZlcnNpb24iOjJ9fQ.yYdE3AjpWMBt_rZVLSNmuxR28FP5-6fO_x6FMQl7xe7hmeEc--bbCBcw4ujEjtVkE62I21asKtu06vmW1fEsAg";
const ONE_CREDS = `-----BEGIN NATS USER JWT-----
eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiJHRUNQVEpISE1TM01DTUtMVFBHWUdBTzQ1R1E2TjZRUFlXUTRHUExBRUIzM1ZDUkpOUlZRIiwiaWF0IjoxNjE2MjQ3MjMyLCJpc3MiOiJBQlZSWktKNlo3TklNUElZSlJDSEVZRlJVTzdFTk42TldPS1FERkxGREZWUFNNMzZVUFgyVUNQUCIsIm5hbWUiOiJvbmUiLCJzdWIiOiJVRENJQkdHR0hDSkJRUE9PNFNDSkpCSFpEUjM3TlFHR0NJV01ORzJEREFLSjZXTUtCTUFLWElNTyIsIm5hdHMiOnsicHViIjp7fSwic3ViIjp7fSwic3VicyI6LTEsImRhdGEiOi0xLCJwYXlsb2FkIjotMSwidHlwZSI6InVzZXIiLCJ2ZXJzaW9uIjoyfX0.VLhSDtGZEF_jdvgmhgkdISXAt5wFMMZxxwm5w8UrsnlM1hkUvtxBlTe4IP0xJIf4xf8JOR2Bmf73xUGJKUZECQ
------END NATS USER JWT------

-----BEGIN USER NKEY SEED-----
SUAPCDMU5TSHHLWUUZSOUABJXP2GXRCZVEOVWPSVM5XRSXYGQMRRFDYNMY
------END USER NKEY SEED------
`;

Deno.test("TestJetStreamOperatorAccounts: an operator-mode account's stream survives a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-jspa-op-" });
  const conf = `server_name: "S1"
    jetstream { store_dir: "${dir}/js" }
    operator = "${OPERATOR_JWT}"
    system_account = "${SYS_PUB}"
    resolver { type: full, dir: "${dir}/jwts", allow_delete: true, interval: "10s" }
    resolver_preload = { ${SYS_PUB}: "${SYS_JWT}", ${ONE_PUB}: "${ONE_JWT}" }`;
  const toSend = 100;
  {
    await using s = await runConf(conf, `${dir}/js`);
    await using nc = await conn(s, { authenticator: credsAuthenticator(enc.encode(ONE_CREDS)) });
    await addStream(nc, { name: "TEST", storage: "file" });
    for (let i = 0; i < toSend; i++) await sendStreamMsg(nc, "TEST", "OK");
  }
  await using s = await runConf(conf, `${dir}/js`);
  const z = jsz(s) as Json;
  assertEquals(z.streams, 1, "Expected jsz to report our stream on restart");
  assertEquals(z.messages, toSend, `Expected jsz to report our ${toSend} messages on restart`);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
});

Deno.test("TestJetStreamServerDomainBadConfig: bad JetStream domain names are refused", () => {
  for (const domain of ["HU..B", "HU B", " ", "\t", "CORE.", ".CORE", "C.*.O. RE", "C.ORE"]) {
    const opts = defaultOptions({ host: "127.0.0.1", port: 0 });
    opts.jetStreamOpts.domain = domain;
    let err: Error | undefined;
    try {
      validateOptions(opts);
    } catch (e) {
      err = e as Error;
    }
    assert(
      err !== undefined && err.message.includes("invalid domain name"),
      `Expected bad domain error for ${JSON.stringify(domain)}, got ${err}`,
    );
  }
});

Deno.test("TestJetStreamServerDomainConfig: jetstream domain from the config", async () => {
  await using s = await runConf(`jetstream: {domain: "HUB"}`);
  const z = jsz(s) as Json;
  assert(z.disabled !== true, "Expected JetStream to be enabled");
  assertEquals(z.config.domain, "HUB");
});
