// ADR-44 versioning metadata of streams and consumers (src/jetstream/_versioning.ts): the required API level
// per feature, the dynamic keys in API responses only, what meta.inf stores, idempotent creates, updates, and
// recovery of a store written without metadata.

import { assert, assertEquals } from "@std/assert";
import { join } from "node:path";
import { VERSION } from "../../src/protocol/mod.ts";
import { JS_API_LEVEL } from "../../src/jetstream/jetstream.ts";
import { hh64, sha256Key } from "../../src/store/mod.ts";
import {
  addConsumer,
  addStream,
  clientFor,
  consumerInfo,
  jsApi,
  restart,
  runRealJs,
  streamInfo,
  type TestServer,
  updateStream,
} from "./_js_common.ts";

const REQ = "_nats.req.level";
const DYNAMIC = { "_nats.level": String(JS_API_LEVEL), "_nats.ver": VERSION };

function runJs(): Promise<TestServer> {
  return runRealJs({}, "natsdeno-jsver-");
}

/** The stream's meta.inf JSON under the global account. */
function streamMetaPath(storeDir: string, stream: string): string {
  return join(storeDir, "jetstream", "$G", "streams", stream, "meta.inf");
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test("versioning: a stream's required API level follows its features; responses add version and level", async () => {
  await using s = await runJs();
  await using nc = await clientFor(s);
  const cases: [Record<string, unknown>, string][] = [
    [{}, "0"],
    [{ "allow_msg_ttl": true }, "1"],
    [{ "subject_delete_marker_ttl": 1_000_000_000 }, "1"],
    [{ "allow_msg_counter": true }, "2"],
    [{ "allow_atomic": true }, "2"],
    [{ "allow_msg_schedules": true }, "2"],
    [{ "persist_mode": "async" }, "2"],
    [{ "allow_msg_ttl": true, "allow_atomic": true }, "2"],
  ];
  for (const [i, [extra, level]] of cases.entries()) {
    const name = `S${i}`;
    const si = await addStream(nc, { name, subjects: [`s${i}.>`], storage: "memory", ...extra });
    assertEquals(si.config.metadata, { ...DYNAMIC, [REQ]: level }, JSON.stringify(extra));
    // Keys in Go's map order (sorted).
    assertEquals(Object.keys(si.config.metadata), ["_nats.level", "_nats.req.level", "_nats.ver"]);
    assertEquals((await streamInfo(nc, name)).config.metadata[REQ], level);
  }
  const list = await jsApi(nc, "$JS.API.STREAM.LIST", {});
  assertEquals(list.streams.length, cases.length);
  for (const si of list.streams) assertEquals(si.config.metadata["_nats.ver"], VERSION);
});

Deno.test("versioning: user metadata is kept, versioning keys a client sends are replaced", async () => {
  await using s = await runJs();
  await using nc = await clientFor(s);
  const metadata = { owner: "team-a", [REQ]: "9", "_nats.ver": "0.0.1", "_nats.level": "99" };
  const si = await addStream(nc, { name: "S", subjects: ["s"], metadata });
  assertEquals(si.config.metadata, { ...DYNAMIC, [REQ]: "0", owner: "team-a" });
  assertEquals(Object.keys(si.config.metadata), ["_nats.level", "_nats.req.level", "_nats.ver", "owner"]);
  const ci = await addConsumer(nc, "S", { "durable_name": "C", metadata });
  assertEquals(ci.config.metadata, { ...DYNAMIC, [REQ]: "0", owner: "team-a" });
});

Deno.test("versioning: a consumer's required API level is 1 with a pause deadline or a priority policy", async () => {
  await using s = await runJs();
  await using nc = await clientFor(s);
  await addStream(nc, { name: "S", subjects: ["s.>"] });
  const future = new Date(Date.now() + 3_600_000).toISOString();
  const cases: [Record<string, unknown>, string][] = [
    [{}, "0"],
    [{ "pause_until": future }, "1"],
    [{ "priority_policy": "overflow", "priority_groups": ["A"] }, "1"],
    [
      { "priority_policy": "pinned_client", "priority_groups": ["A"], "priority_timeout": 60_000_000_000 },
      "1",
    ],
  ];
  for (const [i, [extra, level]] of cases.entries()) {
    const ci = await addConsumer(nc, "S", { "durable_name": `C${i}`, "ack_policy": "explicit", ...extra });
    assertEquals(ci.config.metadata, { ...DYNAMIC, [REQ]: level }, JSON.stringify(extra));
    assertEquals((await consumerInfo(nc, "S", `C${i}`)).config.metadata[REQ], level);
  }
  const list = await jsApi(nc, "$JS.API.CONSUMER.LIST.S", {});
  assertEquals(list.consumers.length, cases.length);
  for (const ci of list.consumers) assertEquals(ci.config.metadata["_nats.level"], String(JS_API_LEVEL));
  // Pausing through the PAUSE API raises the stored level; resuming lowers it again.
  const pause = await jsApi(nc, "$JS.API.CONSUMER.PAUSE.S.C0", { "pause_until": future });
  assertEquals(pause.paused, true);
  assertEquals((await consumerInfo(nc, "S", "C0")).config.metadata[REQ], "1");
  await jsApi(nc, "$JS.API.CONSUMER.PAUSE.S.C0", {});
  assertEquals((await consumerInfo(nc, "S", "C0")).config.metadata[REQ], "0");
});

Deno.test("versioning: meta.inf stores the required level only, never the dynamic keys", async () => {
  await using s = await runJs();
  await using nc = await clientFor(s);
  await addStream(nc, {
    name: "F",
    subjects: ["f"],
    storage: "file",
    "allow_msg_ttl": true,
    metadata: { a: "b" },
  });
  await addConsumer(nc, "F", { "durable_name": "D" });
  const dir = s.opts.storeDir;
  const meta = await readJson(streamMetaPath(dir, "F"));
  assertEquals(meta.metadata, { a: "b", [REQ]: "1" });
  const cmeta = await readJson(join(dir, "jetstream", "$G", "streams", "F", "obs", "D", "meta.inf"));
  assertEquals(cmeta.metadata, { [REQ]: "0" });
  // An update rewrites it with the new level, still without the dynamic keys.
  const u = await updateStream(nc, { name: "F", subjects: ["f"], storage: "file", "allow_msg_ttl": true });
  assertEquals(u.error, undefined);
  assertEquals(u.config.metadata, { ...DYNAMIC, [REQ]: "1" });
  const after = await readJson(streamMetaPath(dir, "F"));
  assertEquals(after.metadata, { [REQ]: "1" });
});

Deno.test("versioning: creating an existing stream or consumer again ignores versioning metadata only", async () => {
  await using s = await runJs();
  await using nc = await clientFor(s);
  const cfg = { name: "S", subjects: ["s"], "allow_msg_ttl": true };
  await addStream(nc, cfg);
  // Without metadata, with stale or foreign versioning keys: the same stream.
  for (const metadata of [undefined, { [REQ]: "0" }, { [REQ]: "7", "_nats.ver": "x", "_nats.level": "0" }]) {
    const r = await jsApi(nc, "$JS.API.STREAM.CREATE.S", { ...cfg, metadata });
    assertEquals(r.error, undefined, JSON.stringify(metadata));
    assertEquals(r.config.metadata, { ...DYNAMIC, [REQ]: "1" });
  }
  // Other user metadata is a different config.
  const other = await jsApi(nc, "$JS.API.STREAM.CREATE.S", { ...cfg, metadata: { owner: "x" } });
  assertEquals(other.error?.err_code, 10058);

  const ccfg = { "durable_name": "C", "ack_policy": "explicit" };
  await addConsumer(nc, "S", ccfg);
  for (const metadata of [undefined, { [REQ]: "5", "_nats.ver": "x" }]) {
    const r = await jsApi(nc, "$JS.API.CONSUMER.CREATE.S.C", {
      "stream_name": "S",
      config: { ...ccfg, metadata },
      action: "create",
    });
    assertEquals(r.error, undefined, JSON.stringify(metadata));
    assertEquals(r.config.metadata, { ...DYNAMIC, [REQ]: "0" });
  }
  const cother = await jsApi(nc, "$JS.API.CONSUMER.CREATE.S.C", {
    "stream_name": "S",
    config: { ...ccfg, metadata: { owner: "x" } },
    action: "create",
  });
  assertEquals(cother.error?.err_code, 10148);
});

Deno.test("versioning: a stream stored without metadata recovers as it is; an update stamps it", async () => {
  let s = await runJs();
  try {
    let nc = await clientFor(s);
    await addStream(nc, { name: "OLD", subjects: ["old"], storage: "file" });
    await nc.close();
    const path = streamMetaPath(s.opts.storeDir, "OLD");
    s = await restart(s, async () => {
      // Rewrite meta.inf (and its checksum) as a store written before versioning metadata.
      const meta = await readJson(path);
      delete meta.metadata;
      const body = new TextEncoder().encode(JSON.stringify(meta));
      await Deno.writeFile(path, body);
      const sum = Array.from(hh64(sha256Key("OLD"), body), (b) => b.toString(16).padStart(2, "0")).join("");
      await Deno.writeTextFile(join(path, "..", "meta.sum"), sum);
    });
    nc = await clientFor(s);
    const si = await streamInfo(nc, "OLD");
    assertEquals(si.config.metadata, DYNAMIC);
    assert((await readJson(path)).metadata === undefined);
    // A create with the same config is still the same stream.
    const again = await jsApi(nc, "$JS.API.STREAM.CREATE.OLD", {
      name: "OLD",
      subjects: ["old"],
      storage: "file",
    });
    assertEquals(again.error, undefined);
    assertEquals(again.config.metadata, DYNAMIC);
    const u = await updateStream(nc, { name: "OLD", subjects: ["old"], storage: "file" });
    assertEquals(u.config.metadata, { ...DYNAMIC, [REQ]: "0" });
    assertEquals((await readJson(path)).metadata, { [REQ]: "0" });
    await nc.close();
  } finally {
    await s.shutdown();
  }
});

Deno.test("versioning: INFO carries version 2.12.0 and api_lvl; /varz, /jsz and account info report api.level", async () => {
  await using s = await runRealJs({ httpPort: -1 }, "natsdeno-jsver-");
  await using nc = await clientFor(s);
  const info = (nc as unknown as { info: Record<string, unknown> }).info;
  assertEquals(info.version, "2.12.0");
  assertEquals(info["api_lvl"], JS_API_LEVEL);
  assertEquals(JS_API_LEVEL, 2);
  const acct = await jsApi(nc, "$JS.API.INFO");
  assertEquals(acct.api, { level: 2, total: 0, errors: 0 });
  const base = s.monitorUrls[0];
  const varz = await (await fetch(`${base}/varz`)).json();
  assertEquals(varz.version, "2.12.0");
  assertEquals(varz.jetstream.stats.api.level, 2);
  const jsz = await (await fetch(`${base}/jsz?accounts=true`)).json();
  assertEquals(jsz.api.level, 2);
  // Per-account details carry the field as the reference's do, at zero.
  assertEquals(jsz.account_details[0].api.level, 0);
});

Deno.test("versioning: INFO carries api_lvl without JetStream too (the reference sets it in every INFO)", async () => {
  await using s = await runRealJs({ jetStream: false }, "natsdeno-jsver-");
  await using nc = await clientFor(s);
  const info = (nc as unknown as { info: Record<string, unknown> }).info;
  assertEquals(info["api_lvl"], 2);
  assertEquals(info.jetstream, undefined);
});
