// Ports of single-server tests of nats-server server/jetstream_test.go (2.9.10), part A2 (continues
// jetstream_ports_a_test.ts): the JS API round trip, stream updates, headers, system account, resources config,
// the store directory layout fix, filters, max ack pending, reloads, mirrors and sources, operator accounts and
// domains. Go test names kept, in Go's order; tests that need a cluster, Go internals or features natsdeno lacks
// stay ignored with the reason. Requests answered with a stream message use noMux (see part A).

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { headers } from "@nats-io/nats-core";
import type { NatsConnection } from "@nats-io/transport-node";
import { join } from "node:path";
import { jsz } from "../../src/monitor/mod.ts";
import { checkFor, delay } from "../_helpers/server.ts";
import {
  addConsumer,
  addStream,
  api,
  conn,
  consumerInfo,
  dec,
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
  // nats-server); requests there get no responders.
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
  for (const [name, storage] of STORES) {
    await t.step(name, async () => {
      await using s = await runJs();
      await using nc = await conn(s);
      await addStream(nc, { name: "foo", retention: "limits", "max_msgs": 10, storage, "num_replicas": 1 });
      for (let i = 0; i < 100; i++) await sendStreamMsg(nc, "foo", "ok");
      assertEquals((await streamInfo(nc, "foo")).state.messages, 10);
    });
  }
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
  for (const [name, storage] of STORES) {
    await t.step(name, async () => {
      await using s = await runJs();
      await using nc = await conn(s);
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
  }
});

// blocked: natsdeno does not serve $JS.API.STREAM.TEMPLATE.* (stream templates were removed from current
// nats-server); requests there get no responders.
Deno.test({ name: "TestJetStreamTemplateBasics: templates create streams on demand", ignore: true, fn() {} });

// blocked: natsdeno does not serve $JS.API.STREAM.TEMPLATE.* (stream templates were removed from current
// nats-server); requests there get no responders.
Deno.test({
  name: "TestJetStreamTemplateFileStoreRecovery: templates and their streams survive a restart",
  ignore: true,
  fn() {},
});

// blocked: needs leaf nodes (a leaf server reaching a remote JetStream server's API through its hub).
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
