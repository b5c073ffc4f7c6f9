// Stream snapshots side by side with nats-server: an archive taken on either server restores on the other
// (messages, sequences with interior deletes, timestamps, headers, consumers with their floors and pending),
// and damaged archives are refused with the reference's errors. Skipped when nats-server is not on PATH.

import { assert, assertEquals } from "@std/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { headers } from "@nats-io/nats-core";
import { defaultOptions, startServer } from "../../src/natsdeno.ts";
import { Logger } from "../../src/util/mod.ts";
import { natsServerPath, runRefServer } from "../_helpers/ref_server.ts";
import { s2FrameDecode, s2FrameEncode } from "../../src/util/mod.ts";
import { readTar, TarWriter } from "../../src/jetstream/_tar.ts";
import { readArchive, writeArchive } from "../../src/jetstream/_snapshot_archive.ts";
import { hh64, MemStore, sha256Key } from "../../src/store/mod.ts";
import { restoreStream, snapshotStream } from "./_js_common.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const enc = new TextEncoder();
const exe = natsServerPath();
const ignore = exe === undefined;
// deno-lint-ignore no-console
if (ignore) console.warn("nats-server not on PATH: snapshot side-by-side tests skipped");

interface Peer extends AsyncDisposable {
  nc: NatsConnection;
}

/** natsdeno with its real stores (FileStore for file streams). */
async function natsdeno(dir?: string, key?: string): Promise<Peer> {
  const storeDir = dir ?? await Deno.makeTempDir({ prefix: "natsdeno-snapc-" });
  const opts = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir });
  if (key !== undefined) opts.jetStreamOpts.key = key;
  const log = new Logger({ quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: false }, true);
  const s = await startServer(opts, { log });
  const nc = await connect({ servers: `127.0.0.1:${s.port}` });
  return {
    nc,
    [Symbol.asyncDispose]: async () => {
      await nc.close();
      await (s as unknown as AsyncDisposable)[Symbol.asyncDispose]();
      if (dir === undefined) await Deno.remove(storeDir, { recursive: true }).catch(() => {});
    },
  };
}

/** nats-server -js with a fresh store dir. */
async function reference(): Promise<Peer> {
  const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-snapc-ref-" });
  const ref = await runRefServer(exe!, `jetstream { store_dir: "${storeDir}" }`);
  const nc = await connect({ servers: `127.0.0.1:${ref.port}` });
  return {
    nc,
    [Symbol.asyncDispose]: async () => {
      await nc.close();
      await ref[Symbol.asyncDispose]();
      await Deno.remove(storeDir, { recursive: true }).catch(() => {});
    },
  };
}

async function api(nc: NatsConnection, subject: string, body?: unknown): Promise<Json> {
  const data = body === undefined ? new Uint8Array(0) : enc.encode(JSON.stringify(body));
  const m = await nc.request(subject, data, { timeout: 5_000 });
  return m.json();
}

/** Takes a snapshot in 8 KiB chunks, acking every chunk; the response and the joined archive bytes. */
function snapshot(nc: NatsConnection, stream: string, opts: Json = {}): Promise<[Json, Uint8Array]> {
  return snapshotStream(nc, stream, 8192, opts);
}

/** Sends an archive to STREAM.RESTORE in 8 KiB chunks; the final response (or the request's error). */
function restore(nc: NatsConnection, stream: string, body: Json, data: Uint8Array): Promise<Json> {
  return restoreStream(nc, stream, body, data, 8192);
}

/** A file stream with headers, interior deletes and two consumers mid-way (pull with pending, push). */
async function populate(nc: NatsConnection): Promise<void> {
  let r = await api(nc, "$JS.API.STREAM.CREATE.S", { name: "S", subjects: ["a.>"], storage: "file" });
  assertEquals(r.error, undefined);
  for (let i = 0; i < 40; i++) {
    const h = headers();
    h.set("X-I", String(i));
    await nc.request(`a.${i % 7}`, enc.encode(`msg ${i} ${"x".repeat(i * 3)}`), {
      headers: i % 3 === 0 ? h : undefined,
      timeout: 2_000,
    });
  }
  for (const seq of [3, 7, 8, 40]) {
    r = await api(nc, "$JS.API.STREAM.MSG.DELETE.S", { seq });
    assertEquals(r.success, true);
  }
  r = await api(nc, "$JS.API.CONSUMER.DURABLE.CREATE.S.D", {
    "stream_name": "S",
    config: { "durable_name": "D", "ack_policy": "explicit", "filter_subject": "a.>" },
  });
  assertEquals(r.error, undefined);
  r = await api(nc, "$JS.API.CONSUMER.DURABLE.CREATE.S.P", {
    "stream_name": "S",
    config: {
      "durable_name": "P",
      "ack_policy": "explicit",
      "deliver_subject": "push.p",
      "filter_subject": "a.1",
    },
  });
  assertEquals(r.error, undefined);
  // Pull 6 from D, ack the first two and the fifth: ack floor 2, pending 3.
  const got: Json[] = [];
  const inbox = "pull.in";
  const sub = nc.subscribe(inbox, { callback: (_e, m) => void got.push(m) });
  nc.publish("$JS.API.CONSUMER.MSG.NEXT.S.D", enc.encode(JSON.stringify({ batch: 6 })), { reply: inbox });
  for (let i = 0; i < 100 && got.length < 6; i++) await new Promise((r) => setTimeout(r, 20));
  assertEquals(got.length, 6);
  for (const i of [0, 1, 4]) await nc.request(got[i].reply, enc.encode("+ACK"), { timeout: 2_000 });
  // Nak the third and take it again: one message redelivered.
  nc.publish(got[2].reply, enc.encode("-NAK"));
  await nc.flush();
  await new Promise((r) => setTimeout(r, 50));
  nc.publish("$JS.API.CONSUMER.MSG.NEXT.S.D", enc.encode(JSON.stringify({ batch: 1 })), { reply: inbox });
  for (let i = 0; i < 100 && got.length < 7; i++) await new Promise((r) => setTimeout(r, 20));
  assertEquals(got.length, 7);
  assertEquals(got[6].subject, got[2].subject);
  sub.unsubscribe();
}

/** STREAM.INFO state, every message (MSG.GET) and consumer floors, in comparable form. */
async function describe(nc: NatsConnection): Promise<Json> {
  const info = await api(nc, "$JS.API.STREAM.INFO.S");
  assertEquals(info.error, undefined);
  const st = info.state;
  const msgs: Json[] = [];
  for (let seq = st.first_seq; seq <= st.last_seq; seq++) {
    const m = await api(nc, "$JS.API.STREAM.MSG.GET.S", { seq });
    msgs.push(m.error ? { seq, err: m.error.err_code } : m.message);
  }
  const cons: Json = {};
  for (const c of ["D", "P"]) {
    const ci = await api(nc, `$JS.API.CONSUMER.INFO.S.${c}`);
    cons[c] = ci.error ? ci.error : {
      delivered: { "consumer_seq": ci.delivered.consumer_seq, "stream_seq": ci.delivered.stream_seq },
      "ack_floor": { "consumer_seq": ci.ack_floor.consumer_seq, "stream_seq": ci.ack_floor.stream_seq },
      "num_ack_pending": ci.num_ack_pending,
      "num_pending": ci.num_pending,
      "num_redelivered": ci.num_redelivered,
      "filter_subject": ci.config.filter_subject,
      "deliver_subject": ci.config.deliver_subject,
    };
  }
  // Byte counts are left out: natsdeno sizes records as current servers do, 2.9 differently.
  assert(st.bytes > 0);
  return {
    created: info.created,
    state: {
      messages: st.messages,
      "first_seq": st.first_seq,
      "first_ts": st.first_ts,
      "last_seq": st.last_seq,
      "last_ts": st.last_ts,
      "num_deleted": st.num_deleted,
      "num_subjects": st.num_subjects,
      "consumer_count": st.consumer_count,
    },
    msgs,
    cons,
  };
}

Deno.test({
  name: "Stream snapshot: an archive from nats-server restores in natsdeno with messages and consumers",
  ignore,
  fn: async () => {
    await using ref = await reference();
    await populate(ref.nc);
    const want = await describe(ref.nc);
    assertEquals([want.cons.D.num_ack_pending, want.cons.D.num_redelivered], [3, 1]);
    const [r, data] = await snapshot(ref.nc, "S");
    assertEquals(r.error, undefined);
    const dir = await Deno.makeTempDir({ prefix: "natsdeno-snapc-" });
    {
      await using nd = await natsdeno(dir);
      const rr = await restore(nd.nc, "S", { config: r.config, state: r.state }, data);
      assertEquals(rr.error, undefined);
      assertEquals(rr.type, "io.nats.jetstream.api.v1.stream_create_response");
      assertEquals(rr.state.messages, 36);
      assertEquals(await describe(nd.nc), want);
    }
    // The restored stream and consumers survive a restart (FileStore).
    await using nd = await natsdeno(dir);
    assertEquals(await describe(nd.nc), want);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  },
});

Deno.test({
  name: "Stream snapshot: an archive from natsdeno restores in nats-server with messages and consumers",
  ignore,
  fn: async () => {
    await using nd = await natsdeno();
    await populate(nd.nc);
    const want = await describe(nd.nc);
    const [r, data] = await snapshot(nd.nc, "S");
    assertEquals(r.error, undefined);
    await using ref = await reference();
    const rr = await restore(ref.nc, "S", { config: r.config, state: r.state }, data);
    assertEquals(rr.error, undefined);
    assertEquals(rr.state.messages, 36);
    assertEquals(await describe(ref.nc), want);
  },
});

/** Rebuilds an archive with `edit` applied to its files (name → bytes; undefined drops the file). */
function rework(data: Uint8Array, edit: (name: string, b: Uint8Array) => Uint8Array | undefined): Uint8Array {
  const tw = new TarWriter();
  for (const e of readTar(s2FrameDecode(data))) {
    const b = edit(e.name, e.data);
    if (b !== undefined) tw.add(e.name, b);
  }
  return s2FrameEncode(tw.finish());
}

/** A tar whose first header gets type flag `flag` (checksum fixed up). */
function retyped(tar: Uint8Array, flag: string): Uint8Array {
  const t = tar.slice();
  t[156] = flag.charCodeAt(0);
  t.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += t[i];
  t.set(enc.encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  return t;
}

/** The path parts that differ between servers (temp dirs, staging names) replaced by placeholders. */
function normalized(e: Json): Json {
  if (e?.description === undefined) return e;
  return {
    ...e,
    description: e.description.replace(/\/tmp\/[^ ]*\/jetstream\//, "<dir>/").replace(/snap-\d+/, "snap-N"),
  };
}

Deno.test({
  name: "Stream snapshot: damaged archives are refused with the reference's errors, nothing created",
  ignore,
  fn: async () => {
    await using ref = await reference();
    await populate(ref.nc);
    const [r, data] = await snapshot(ref.nc, "S");
    await api(ref.nc, "$JS.API.STREAM.DELETE.S");
    await using nd = await natsdeno();
    const cfg = { config: r.config };
    const flip = (b: Uint8Array, at: number) => {
      const c = b.slice();
      c[at] ^= 0xff;
      return c;
    };
    const tar = s2FrameDecode(data);
    const blkAt = tar.indexOf(0x2e, new TextDecoder().decode(tar).indexOf("msgs/1.blk") + 512);
    const cases: [string, Json, Uint8Array][] = [
      ["garbage", cfg, enc.encode("not a snapshot at all")],
      ["truncated frames", cfg, data.subarray(0, Math.floor(data.length / 2))],
      ["frame crc", cfg, flip(data, data.length - 20)],
      ["tar cut inside a file", cfg, s2FrameEncode(tar.subarray(0, blkAt + 100))],
      ["tar header damaged", cfg, s2FrameEncode(flip(tar, 1030))],
      ["directory entry", cfg, s2FrameEncode(retyped(tar, "5"))],
      ["bad meta json", cfg, rework(data, (n, b) => n === "meta.inf" ? enc.encode("{not json") : b)],
      ["meta json cut", cfg, rework(data, (n, b) => n === "meta.inf" ? b.subarray(0, 30) : b)],
      ["meta not an object", cfg, rework(data, (n, b) => n === "meta.inf" ? enc.encode('"x"') : b)],
      ["no meta", cfg, rework(data, (n, b) => n === "meta.inf" ? undefined : b)],
      ["name mismatch", { config: { ...r.config, name: "T" } }, data],
      ["consumer json", cfg, rework(data, (n, b) => n === "obs/D/meta.inf" ? enc.encode("[1]") : b)],
      ["consumer no sum", cfg, rework(data, (n, b) => n === "obs/D/meta.sum" ? undefined : b)],
    ];
    for (const [what, body, bytes] of cases) {
      const stream = body.config.name;
      const want = await restore(ref.nc, stream, body, bytes);
      const got = await restore(nd.nc, stream, body, bytes);
      assert(want.error !== undefined, `${what}: the reference accepted it`);
      assertEquals(normalized(got.error), normalized(want.error), what);
      assertEquals((await api(ref.nc, `$JS.API.STREAM.INFO.${stream}`)).error?.err_code, 10059, what);
      assertEquals((await api(nd.nc, `$JS.API.STREAM.INFO.${stream}`)).error?.err_code, 10059, what);
    }
    // A record failing its checksum: the reference restores a stream that lost its messages; natsdeno refuses.
    const bad = rework(data, (n, b) => n.endsWith(".blk") ? flip(b, 40) : b);
    const got = await restore(nd.nc, "S", cfg, bad);
    assertEquals(got.error, {
      code: 500,
      "err_code": 10062,
      description: "restore failed: message block [1]: checksum mismatch for sequence 1",
    });
    assertEquals((await api(nd.nc, "$JS.API.STREAM.INFO.S")).error?.err_code, 10059);
    // Nothing was left behind: the good archive restores afterwards.
    assertEquals((await restore(nd.nc, "S", cfg, data)).state?.messages, 36);
  },
});

/** Publishes `n` messages of repetitive payloads (S2 repeat codes, several framing chunks). */
async function fill(nc: NatsConnection, stream: string, n: number): Promise<void> {
  const pubs: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const body = enc.encode(`${stream} ${i % 13} `.repeat(20 + (i % 17)));
    pubs.push(nc.request(`${stream.toLowerCase()}.${i % 5}`, body, { timeout: 10_000 }));
    if (pubs.length >= 200) await Promise.all(pubs.splice(0));
  }
  await Promise.all(pubs);
}

async function sample(nc: NatsConnection, stream: string, seqs: number[]): Promise<Json[]> {
  const out: Json[] = [];
  for (const seq of seqs) out.push((await api(nc, `$JS.API.STREAM.MSG.GET.${stream}`, { seq })).message);
  return out;
}

Deno.test({
  name: "Stream snapshot: memory streams and larger archives move both ways",
  ignore,
  fn: async () => {
    await using ref = await reference();
    await using nd = await natsdeno();
    const seqs = [1, 2, 777, 1999, 3000];
    // natsdeno memory stream → nats-server (2.9 keeps restored messages only in file storage).
    let r = await api(nd.nc, "$JS.API.STREAM.CREATE.MEM", {
      name: "MEM",
      subjects: ["mem.*"],
      storage: "memory",
    });
    assertEquals(r.error, undefined);
    await fill(nd.nc, "MEM", 3000);
    r = await api(nd.nc, "$JS.API.CONSUMER.DURABLE.CREATE.MEM.MC", {
      "stream_name": "MEM",
      config: { "durable_name": "MC", "ack_policy": "explicit" },
    });
    assertEquals(r.error, undefined);
    const got: Json[] = [];
    const sub = nd.nc.subscribe("mc.in", { callback: (_e, m) => void got.push(m) });
    nd.nc.publish("$JS.API.CONSUMER.MSG.NEXT.MEM.MC", enc.encode(JSON.stringify({ batch: 4 })), {
      reply: "mc.in",
    });
    for (let i = 0; i < 100 && got.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    await nd.nc.request(got[0].reply, enc.encode("+ACK"), { timeout: 2_000 });
    await nd.nc.request(got[2].reply, enc.encode("+ACK"), { timeout: 2_000 });
    sub.unsubscribe();
    const mc = await consumerState(nd.nc, "MEM", "MC");
    assertEquals([mc.delivered, mc.floor, mc.pending], [[4, 4], [1, 1], [2, 2996]]);
    const [s1, d1] = await snapshot(nd.nc, "MEM", { "chunk_size": 65536 });
    assertEquals(s1.error, undefined);
    assert(d1.length > 65536 && d1.length < 3000 * 100, `${d1.length}`);
    r = await restore(ref.nc, "MEM", { config: { ...s1.config, storage: "file" } }, d1);
    assertEquals(r.error, undefined);
    assertEquals([r.state.messages, r.state.first_seq, r.state.last_seq], [3000, 1, 3000]);
    assertEquals(await sample(ref.nc, "MEM", seqs), await sample(nd.nc, "MEM", seqs));
    assertEquals(await consumerState(ref.nc, "MEM", "MC"), mc);
    // nats-server file stream → natsdeno memory stream.
    r = await api(ref.nc, "$JS.API.STREAM.CREATE.BIG", { name: "BIG", subjects: ["big.*"], storage: "file" });
    assertEquals(r.error, undefined);
    await fill(ref.nc, "BIG", 3000);
    const [s2, d2] = await snapshot(ref.nc, "BIG", { "chunk_size": 65536 });
    assertEquals(s2.error, undefined);
    r = await restore(nd.nc, "BIG", { config: { ...s2.config, storage: "memory" } }, d2);
    assertEquals(r.error, undefined);
    assertEquals([r.state.messages, r.state.first_seq, r.state.last_seq], [3000, 1, 3000]);
    assertEquals(r.config.storage, "memory");
    assertEquals(await sample(nd.nc, "BIG", seqs), await sample(ref.nc, "BIG", seqs));
  },
});

Deno.test({
  name: "Stream snapshot: no_consumers leaves consumers out; an encrypted nats-server's snapshot restores",
  ignore,
  fn: async () => {
    const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-snapc-enc-" });
    await using ref = await runRefServer(exe!, `jetstream { store_dir: "${storeDir}", key: "s3cr3t" }`);
    await using rnc = await connect({ servers: `127.0.0.1:${ref.port}` });
    await populate(rnc);
    const want = await describe(rnc);
    const [r, data] = await snapshot(rnc, "S");
    assertEquals(r.error, undefined);
    await using nd = await natsdeno();
    const rr = await restore(nd.nc, "S", { config: r.config }, data);
    assertEquals(rr.error, undefined);
    assertEquals(await describe(nd.nc), want);
    // Without consumers, in both directions.
    const [r2, d2] = await snapshot(nd.nc, "S", { "no_consumers": true });
    assertEquals(r2.error, undefined);
    assert(!readTar(s2FrameDecode(d2)).some((e) => e.name.startsWith("obs/")));
    await api(rnc, "$JS.API.STREAM.DELETE.S");
    const back = await restore(rnc, "S", { config: r2.config }, d2);
    assertEquals([back.error, back.state.messages, back.state.consumer_count], [undefined, 36, 0]);
    await Deno.remove(storeDir, { recursive: true }).catch(() => {});
  },
});

Deno.test("Stream snapshot: archives in natsdeno's earlier NDSNAP1 format still restore", async () => {
  await using nd = await natsdeno();
  const cfg = { name: "OLD", subjects: ["old"], storage: "memory" };
  const meta = enc.encode(JSON.stringify({ config: cfg, state: { "first_seq": 2, "last_seq": 5 } }));
  const rec = (seq: number, body: string) => {
    const subj = enc.encode("old");
    const b = enc.encode(body);
    const h = new Uint8Array(30);
    const dv = new DataView(h.buffer);
    dv.setBigUint64(0, BigInt(seq), true);
    dv.setBigUint64(8, 1_700_000_000_000_000_000n + BigInt(seq), true);
    dv.setUint16(16, subj.length, true);
    dv.setUint32(22, b.length, true);
    return [h, subj, b];
  };
  const ml = new Uint8Array(4);
  new DataView(ml.buffer).setUint32(0, meta.length, true);
  const parts = [enc.encode("NDSNAP1\n"), ml, meta, ...rec(2, "two"), ...rec(4, "four")];
  const data = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (data.set(p, o), o += p.length);
  const r = await restore(nd.nc, "OLD", { config: cfg }, data);
  assertEquals(r.error, undefined);
  assertEquals([r.state.messages, r.state.first_seq, r.state.last_seq, r.state.num_deleted], [2, 2, 5, 2]);
  const m = await api(nd.nc, "$JS.API.STREAM.MSG.GET.OLD", { seq: 4 });
  assertEquals([atob(m.message.data), m.message.time], ["four", "2023-11-14T22:13:20.000000004Z"]);
});

/** A file stream with an ephemeral pull consumer that got 3 messages and acked the first. */
async function withEphemeral(nc: NatsConnection): Promise<string> {
  let r = await api(nc, "$JS.API.STREAM.CREATE.E", { name: "E", subjects: ["e.*"], storage: "file" });
  assertEquals(r.error, undefined);
  for (let i = 0; i < 5; i++) await nc.request(`e.${i}`, enc.encode(`e${i}`), { timeout: 2_000 });
  r = await api(nc, "$JS.API.CONSUMER.CREATE.E", {
    "stream_name": "E",
    config: { "ack_policy": "explicit", "inactive_threshold": 60_000_000_000 },
  });
  assertEquals(r.error, undefined);
  const name = r.name;
  const got: Json[] = [];
  const sub = nc.subscribe("eph.in", { callback: (_e, m) => void got.push(m) });
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.E.${name}`, enc.encode(JSON.stringify({ batch: 3 })), {
    reply: "eph.in",
  });
  for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
  await nc.request(got[0].reply, enc.encode("+ACK"), { timeout: 2_000 });
  sub.unsubscribe();
  return name;
}

async function consumerState(nc: NatsConnection, stream: string, name: string): Promise<Json> {
  const ci = await api(nc, `$JS.API.CONSUMER.INFO.${stream}.${name}`);
  assertEquals(ci.error, undefined);
  return {
    name: ci.name,
    durable: ci.config.durable_name,
    delivered: [ci.delivered.consumer_seq, ci.delivered.stream_seq],
    floor: [ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq],
    pending: [ci.num_ack_pending, ci.num_pending],
  };
}

Deno.test({
  name: "Stream snapshot: ephemeral consumers keep their names and state both ways",
  ignore,
  fn: async () => {
    await using ref = await reference();
    await using nd = await natsdeno();
    for (const [from, to] of [[ref.nc, nd.nc], [nd.nc, ref.nc]]) {
      const name = await withEphemeral(from);
      const want = await consumerState(from, "E", name);
      assertEquals(want.delivered, [3, 3]);
      const [r, data] = await snapshot(from, "E");
      assertEquals(r.error, undefined);
      const rr = await restore(to, "E", { config: r.config }, data);
      assertEquals(rr.error, undefined);
      assertEquals(await consumerState(to, "E", name), want);
      await api(from, "$JS.API.STREAM.DELETE.E");
    }
  },
});

Deno.test("S2 framing: round trips, and damage gives the Go s2 package's errors", () => {
  for (const n of [0, 1, 100, 65535, 65536, 65537, 300_000]) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (i % 251) ^ (i >> 10);
    assertEquals(s2FrameDecode(s2FrameEncode(b)), b);
  }
  const f = s2FrameEncode(enc.encode("hello hello hello hello hello hello"));
  // Stored (incompressible) bytes: a flipped bit shows only in the CRC.
  const bad = s2FrameEncode(crypto.getRandomValues(new Uint8Array(100)));
  bad[bad.length - 1] ^= 1;
  const msg = (b: Uint8Array) => {
    try {
      s2FrameDecode(b);
      return "ok";
    } catch (e) {
      return (e as Error).message;
    }
  };
  assertEquals(msg(bad), "s2: corrupt input, crc mismatch");
  assertEquals(msg(f.subarray(0, f.length - 3)), "s2: corrupt input");
  assertEquals(msg(f.subarray(10)), "s2: corrupt input"); // no stream identifier
  const reserved = new Uint8Array([...f.subarray(0, 10), 0x02, 0, 0, 0]);
  assertEquals(msg(reserved), "s2: unsupported input");
  const skippable = new Uint8Array([...f.subarray(0, 10), 0x99, 1, 0, 0, 7, ...f.subarray(10)]);
  assertEquals(new TextDecoder().decode(s2FrameDecode(skippable)), "hello hello hello hello hello hello");
});

Deno.test("Snapshot tar: long names (ustar prefix) and a missing end", () => {
  const tw = new TarWriter(undefined, 1_700_000_000);
  const long = `obs/${"c".repeat(120)}/meta.inf`;
  tw.add(long, enc.encode("{}"));
  tw.add("msgs/1.blk", new Uint8Array(1000).fill(7));
  const tar = tw.finish();
  assertEquals(tar.length % 512, 0);
  const es = readTar(tar);
  assertEquals(es.map((e) => [e.name, e.type, e.data.length]), [[long, "0", 2], ["msgs/1.blk", "0", 1000]]);
  // Without its closing blocks the archive still reads; cut inside a file it does not.
  assertEquals(readTar(tar.subarray(0, tar.length - 1024)).length, 2);
  let err = "";
  try {
    readTar(tar.subarray(0, 1024 + 600));
  } catch (e) {
    err = (e as Error).message;
  }
  assertEquals(err, "unexpected EOF");
});

Deno.test({
  name: "Stream snapshot: a purged stream keeps its sequences both ways",
  ignore,
  fn: async () => {
    await using ref = await reference();
    await using nd = await natsdeno();
    for (const [from, to] of [[ref.nc, nd.nc], [nd.nc, ref.nc]]) {
      let r = await api(from, "$JS.API.STREAM.CREATE.PU", { name: "PU", subjects: ["pu"], storage: "file" });
      assertEquals(r.error, undefined);
      for (let i = 0; i < 7; i++) await from.request("pu", enc.encode(`p${i}`), { timeout: 2_000 });
      assertEquals((await api(from, "$JS.API.STREAM.PURGE.PU")).purged, 7);
      const want = (await api(from, "$JS.API.STREAM.INFO.PU")).state;
      const [s, data] = await snapshot(from, "PU");
      assertEquals(s.error, undefined);
      r = await restore(to, "PU", { config: s.config }, data);
      assertEquals(r.error, undefined);
      const got = (await api(to, "$JS.API.STREAM.INFO.PU")).state;
      // (nats-server reports an empty restored stream's first time as the Unix epoch.)
      const pick = (
        st: Json,
      ) => [st.messages, st.first_seq, to === nd.nc ? st.first_ts : "", st.last_seq, st.last_ts];
      assertEquals(pick(got), pick(want));
      // The next message continues the sequence.
      const a = await to.request("pu", enc.encode("next"), { timeout: 2_000 });
      assertEquals(a.json<Json>().seq, 8);
      const m = await api(to, "$JS.API.STREAM.MSG.GET.PU", { seq: 8 });
      assertEquals(atob(m.message.data), "next");
      await api(from, "$JS.API.STREAM.DELETE.PU");
      await api(to, "$JS.API.STREAM.DELETE.PU");
    }
  },
});

Deno.test("Snapshot archives of later servers: index.db deleted sets and tombstones are honoured", () => {
  const store = new MemStore({
    name: "N",
    storage: "memory",
    subjects: ["n.*"],
    maxMsgs: -1,
    maxBytes: -1,
    maxAge: 0n,
    maxMsgsPerSubject: -1,
    maxMsgSize: -1,
    discardNew: false,
    discardNewPerSubject: false,
    allowMsgTtl: false,
    compression: "none",
  });
  for (let i = 1; i <= 5; i++) store.storeMsg(`n.${i}`, undefined, enc.encode(`m${i}`));
  const data = writeArchive({ name: "N", created: 1n, config: { name: "N" }, store, consumers: [] });
  // index.db (version 2): 5 messages, block 1 spans 1..5 with sequence 3 deleted (its record left in place),
  // then a tombstone for sequence 5 in block 2.
  const u = (out: number[], n: number) => {
    for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
    out.push(n);
  };
  const v = (out: number[], n: number) => u(out, n < 0 ? -2 * n - 1 : 2 * n);
  const idx: number[] = [11, 2];
  for (const x of [4, 100, 1]) u(idx, x);
  v(idx, 0);
  u(idx, 9);
  v(idx, 0);
  u(idx, 0); // no subjects
  u(idx, 1); // one block
  for (const x of [1, 100, 1]) u(idx, x);
  v(idx, 0);
  u(idx, 5);
  v(idx, 0);
  u(idx, 1); // one deleted
  u(idx, 0); // ttls
  const ss = new Uint8Array(10 + 32 * 8 + 8 + 2);
  const sdv = new DataView(ss.buffer);
  ss[0] = 22;
  ss[1] = 2;
  sdv.setUint32(2, 1, true);
  sdv.setUint32(6, 1, true);
  sdv.setBigUint64(10, 0n, true);
  sdv.setUint32(18, 1 << 3, true); // bucket 0, bit 3
  idx.push(...ss);
  u(idx, 1);
  idx.push(0, 0, 0, 0, 0, 0, 0, 0);
  const body = new Uint8Array(idx);
  const indexDb = new Uint8Array([...body, ...hh64(sha256Key("N"), body)]);
  const tomb = new Uint8Array(30);
  const tdv = new DataView(tomb.buffer);
  tdv.setUint32(0, 30, true);
  tdv.setUint32(4, 5, true);
  tdv.setUint32(8, 0x40000000, true);
  const later = rework(data, (n, b) => n.endsWith(".idx") ? undefined : b);
  const tw = new TarWriter();
  for (const e of readTar(s2FrameDecode(later))) tw.add(e.name, e.data);
  tw.add("msgs/index.db", indexDb);
  tw.add("msgs/2.blk", tomb);
  const a = readArchive(s2FrameEncode(tw.finish()));
  assertEquals(a.msgs.map((m) => m.seq), [1, 2, 4]);
  assertEquals([a.firstSeq, a.lastSeq], [1, 9]);
  // Without index.db (and the tombstone) the records alone count: sequence 3 is back.
  const plain = readArchive(rework(later, (_n, b) => b));
  assertEquals(plain.msgs.map((m) => m.seq), [1, 2, 3, 4, 5]);
});

Deno.test({
  name: "Stream snapshot: a snapshot waits a moment for a listener; a second one may run meanwhile",
  ignore,
  fn: async () => {
    await using ref = await reference();
    await using nd = await natsdeno();
    const answers: Json[] = [];
    for (const nc of [ref.nc, nd.nc]) {
      const r = await api(nc, "$JS.API.STREAM.CREATE.ONE", {
        name: "ONE",
        subjects: ["one"],
        storage: "file",
      });
      assertEquals(r.error, undefined);
      await nc.request("one", enc.encode("x"), { timeout: 2_000 });
      // Nobody listens on "nobody.home" yet: the snapshot waits (up to 2 s) for interest.
      const first = await api(nc, "$JS.API.STREAM.SNAPSHOT.ONE", { "deliver_subject": "nobody.home" });
      assertEquals(first.error, undefined);
      const second = await api(nc, "$JS.API.STREAM.SNAPSHOT.ONE", { "deliver_subject": "nobody.else" });
      answers.push(second.error);
      // A listener arriving within the wait gets the whole archive.
      const got: Uint8Array[] = [];
      const done = Promise.withResolvers<void>();
      const sub = nc.subscribe("nobody.home", {
        callback: (_e, m) => {
          if (m.data.length === 0) return done.resolve();
          got.push(m.data.slice());
          if (m.reply) nc.publish(m.reply);
        },
      });
      await done.promise;
      sub.unsubscribe();
      const n = got.reduce((a, b) => a + b.length, 0);
      const all = new Uint8Array(n);
      let o = 0;
      for (const g of got) (all.set(g, o), o += g.length);
      assert(readTar(s2FrameDecode(all)).some((e) => e.name === "msgs/1.blk"));
    }
    // natsdeno lets the second snapshot run. nats-server 2.9.10 usually does too, but its first snapshot holds
    // the store until its writer sees the pipe close, so now and then it answers "snapshot in progress".
    const [theirs, ours] = answers;
    assertEquals(ours, undefined);
    if (theirs !== undefined) assertEquals(theirs.description, "snapshot failed: snapshot in progress");
  },
});

Deno.test({
  name: "Stream snapshot: an encrypted natsdeno writes plain archives and encrypts what it restores",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "natsdeno-snapc-enc-" });
    let want: Json;
    let data: Uint8Array;
    let cfg: Json;
    {
      await using nd = await natsdeno(dir, "s3cr3t");
      await populate(nd.nc);
      want = await describe(nd.nc);
      const [r, d] = await snapshot(nd.nc, "S");
      assertEquals(r.error, undefined);
      [data, cfg] = [d, r.config];
      // Plain blocks in the archive: the payloads are readable.
      const blk = readTar(s2FrameDecode(data)).find((e) => e.name === "msgs/1.blk")!;
      assert(new TextDecoder().decode(blk.data).includes("msg 5 xxx"));
    }
    await using ref = await reference();
    const rr = await restore(ref.nc, "S", { config: cfg }, data);
    assertEquals(rr.error, undefined);
    assertEquals(await describe(ref.nc), want);
    // Back into the encrypted natsdeno: nothing readable on disk, and it survives a restart.
    {
      await using nd = await natsdeno(dir, "s3cr3t");
      await api(nd.nc, "$JS.API.STREAM.DELETE.S");
      const back = await restore(nd.nc, "S", { config: cfg }, data);
      assertEquals(back.error, undefined);
    }
    const plain: string[] = [];
    const walk = async (d: string) => {
      for await (const e of Deno.readDir(d)) {
        if (e.isDirectory) await walk(`${d}/${e.name}`);
        else if (new TextDecoder().decode(await Deno.readFile(`${d}/${e.name}`)).includes("msg 5 xxx")) {
          plain.push(e.name);
        }
      }
    };
    await walk(dir);
    assertEquals(plain, []);
    {
      await using nd = await natsdeno(dir, "s3cr3t");
      assertEquals(await describe(nd.nc), want);
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  },
});

Deno.test({
  name: "Stream restore: a chunk without a reply subject cancels the restore",
  ignore,
  fn: async () => {
    await using ref = await reference();
    await using nd = await natsdeno();
    for (const nc of [ref.nc, nd.nc]) {
      const r = await api(nc, "$JS.API.STREAM.RESTORE.NR", { config: { name: "NR", storage: "file" } });
      assertEquals(r.error, undefined);
      nc.publish(r.deliver_subject, enc.encode("chunk"));
      await nc.flush();
      let err = "";
      try {
        await nc.request(r.deliver_subject, new Uint8Array(0), { timeout: 1_000 });
      } catch (e) {
        err = (e as Error).message;
      }
      assert(err !== "", "the restore subject still answers");
      assertEquals((await api(nc, "$JS.API.STREAM.INFO.NR")).error?.err_code, 10059);
    }
  },
});

Deno.test({
  name: "Stream restore: the request's limits apply to what is restored, as on recovery",
  ignore,
  fn: async () => {
    await using ref = await reference();
    await using nd = await natsdeno();
    const r = await api(nd.nc, "$JS.API.STREAM.CREATE.LIM", {
      name: "LIM",
      subjects: ["lim"],
      storage: "file",
    });
    assertEquals(r.error, undefined);
    for (let i = 1; i <= 6; i++) await nd.nc.request("lim", enc.encode(`l${i}`), { timeout: 2_000 });
    const [s, data] = await snapshot(nd.nc, "LIM");
    assertEquals(s.error, undefined);
    await api(nd.nc, "$JS.API.STREAM.DELETE.LIM");
    const cfg = { ...s.config, "max_msgs": 3, discard: "new" };
    const states: Json[] = [];
    for (const nc of [ref.nc, nd.nc]) {
      const rr = await restore(nc, "LIM", { config: cfg }, data);
      assertEquals(rr.error, undefined);
      const st = (await api(nc, "$JS.API.STREAM.INFO.LIM")).state;
      states.push([st.messages, st.first_seq, st.last_seq]);
    }
    assertEquals(states, [[3, 4, 6], [3, 4, 6]]);
  },
});

Deno.test("Stream restore: per-message TTLs come back from the Nats-TTL headers", async () => {
  await using nd = await natsdeno();
  const cfg = { name: "TTL", subjects: ["ttl.*"], storage: "memory", "allow_msg_ttl": true };
  assertEquals((await api(nd.nc, "$JS.API.STREAM.CREATE.TTL", cfg)).error, undefined);
  const h = headers();
  h.set("Nats-TTL", "1s");
  await nd.nc.request("ttl.a", enc.encode("short"), { headers: h, timeout: 2_000 });
  await nd.nc.request("ttl.b", enc.encode("stays"), { timeout: 2_000 });
  const [s, data] = await snapshot(nd.nc, "TTL");
  await api(nd.nc, "$JS.API.STREAM.DELETE.TTL");
  const r = await restore(nd.nc, "TTL", { config: s.config }, data);
  assertEquals(r.state.messages, 2);
  await new Promise((res) => setTimeout(res, 1_600));
  const st = (await api(nd.nc, "$JS.API.STREAM.INFO.TTL")).state;
  assertEquals([st.messages, st.first_seq], [1, 2]);
});

Deno.test({
  name: "Stream snapshot: nats-server keeps natsdeno's blocks as its own across a restart",
  ignore,
  fn: async () => {
    await using nd = await natsdeno();
    await populate(nd.nc);
    await api(nd.nc, "$JS.API.STREAM.CREATE.PU", { name: "PU", subjects: ["pu"], storage: "file" });
    for (let i = 0; i < 3; i++) await nd.nc.request("pu", enc.encode(`p${i}`), { timeout: 2_000 });
    await api(nd.nc, "$JS.API.STREAM.PURGE.PU");
    const want = await describe(nd.nc);
    const wantPu = (await api(nd.nc, "$JS.API.STREAM.INFO.PU")).state;
    const [s1, d1] = await snapshot(nd.nc, "S");
    const [s2, d2] = await snapshot(nd.nc, "PU");
    const storeDir = await Deno.makeTempDir({ prefix: "natsdeno-snapc-ref-" });
    const conf = `jetstream { store_dir: "${storeDir}" }`;
    {
      await using ref = await runRefServer(exe!, conf);
      await using nc = await connect({ servers: `127.0.0.1:${ref.port}` });
      assertEquals((await restore(nc, "S", { config: s1.config }, d1)).error, undefined);
      assertEquals((await restore(nc, "PU", { config: s2.config }, d2)).error, undefined);
    }
    await using ref = await runRefServer(exe!, conf);
    await using nc = await connect({ servers: `127.0.0.1:${ref.port}` });
    assertEquals(await describe(nc), want);
    const pu = (await api(nc, "$JS.API.STREAM.INFO.PU")).state;
    assertEquals([pu.messages, pu.first_seq, pu.last_seq], [
      wantPu.messages,
      wantPu.first_seq,
      wantPu.last_seq,
    ]);
    assertEquals((await nc.request("pu", enc.encode("more"), { timeout: 2_000 })).json<Json>().seq, 4);
    await Deno.remove(storeDir, { recursive: true }).catch(() => {});
  },
});

Deno.test({
  name: "Stream snapshot: several blocks (by size and across a wide gap) restore in nats-server",
  ignore,
  fn: async () => {
    await using nd = await natsdeno();
    const r = await api(nd.nc, "$JS.API.STREAM.CREATE.W", { name: "W", subjects: ["w.*"], storage: "file" });
    assertEquals(r.error, undefined);
    const pub = async (subj: string, n: number, size: number) => {
      const body = new Uint8Array(size).fill(0x61);
      const ps: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) {
        ps.push(nd.nc.request(subj, body, { timeout: 10_000 }));
        if (ps.length >= 500) await Promise.all(ps.splice(0));
      }
      await Promise.all(ps);
    };
    await pub("w.b", 3, 10);
    await pub("w.a", 5000, 10);
    await pub("w.b", 3, 10);
    assertEquals((await api(nd.nc, "$JS.API.STREAM.PURGE.W", { filter: "w.a" })).purged, 5000);
    await pub("w.c", 5000, 1000);
    const [s, data] = await snapshot(nd.nc, "W", { "chunk_size": 65536 });
    const blocks = readTar(s2FrameDecode(data)).filter((e) => e.name.endsWith(".blk")).length;
    assertEquals(blocks, 3);
    await using ref = await reference();
    const rr = await restore(ref.nc, "W", { config: s.config }, data);
    assertEquals(rr.error, undefined);
    const pick = (st: Json) => [st.messages, st.first_seq, st.last_seq, st.num_deleted];
    assertEquals(pick(rr.state), pick(s.state));
    const seqs = [1, 3, 5004, 5006, 5007, 7500, 10006];
    assertEquals(await sample(ref.nc, "W", seqs), await sample(nd.nc, "W", seqs));
    assertEquals((await api(ref.nc, "$JS.API.STREAM.MSG.GET.W", { seq: 4 })).error?.err_code, 10037);
  },
});

Deno.test({
  name: "Stream snapshot: nats-server's many small blocks restore in natsdeno",
  ignore,
  fn: async () => {
    await using ref = await reference();
    // A small max_bytes makes 2.9 pick its smallest blocks (32 kB); old messages go past it.
    const r = await api(ref.nc, "$JS.API.STREAM.CREATE.MB", {
      name: "MB",
      subjects: ["mb.*"],
      storage: "file",
      "max_bytes": 120_000,
    });
    assertEquals(r.error, undefined);
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < 1500; i++) {
      ps.push(ref.nc.request(`mb.${i % 3}`, enc.encode(`${i}:${"m".repeat(500)}`)));
    }
    await Promise.all(ps);
    for (const seq of [1400, 1401, 1450]) await api(ref.nc, "$JS.API.STREAM.MSG.DELETE.MB", { seq });
    const [s, data] = await snapshot(ref.nc, "MB", { "chunk_size": 65536 });
    assertEquals(s.error, undefined);
    const blocks = readTar(s2FrameDecode(data)).filter((e) => e.name.endsWith(".blk")).length;
    assert(blocks > 3, `${blocks} blocks`);
    await using nd = await natsdeno();
    const rr = await restore(nd.nc, "MB", { config: s.config }, data);
    assertEquals(rr.error, undefined);
    const pick = (st: Json) => [st.messages, st.first_seq, st.last_seq, st.num_deleted];
    assertEquals(pick(rr.state), pick(s.state));
    assert(s.state.first_seq > 1 && s.state.num_deleted === 3, JSON.stringify(s.state));
    const seqs = [s.state.first_seq, 1399, 1402, 1449, 1451, 1500];
    assertEquals(await sample(nd.nc, "MB", seqs), await sample(ref.nc, "MB", seqs));
  },
});

Deno.test({
  name: "Stream snapshot: interest and work-queue streams keep unacked messages and their consumers",
  ignore,
  fn: async () => {
    await using ref = await reference();
    await using nd = await natsdeno();
    for (const retention of ["interest", "workqueue"]) {
      for (const [from, to] of [[ref.nc, nd.nc], [nd.nc, ref.nc]]) {
        const name = `R${retention.length}`;
        let r = await api(from, `$JS.API.STREAM.CREATE.${name}`, {
          name,
          subjects: [`${name}.*`],
          storage: "file",
          retention,
        });
        assertEquals(r.error, undefined);
        r = await api(from, `$JS.API.CONSUMER.DURABLE.CREATE.${name}.C`, {
          "stream_name": name,
          config: { "durable_name": "C", "ack_policy": "explicit" },
        });
        assertEquals(r.error, undefined);
        for (let i = 0; i < 10; i++) await from.request(`${name}.x`, enc.encode(`${i}`), { timeout: 2_000 });
        const got: Json[] = [];
        const sub = from.subscribe(`in.${name}`, { callback: (_e, m) => void got.push(m) });
        from.publish(`$JS.API.CONSUMER.MSG.NEXT.${name}.C`, enc.encode(JSON.stringify({ batch: 4 })), {
          reply: `in.${name}`,
        });
        for (let i = 0; i < 100 && got.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
        for (const i of [0, 1, 2]) await from.request(got[i].reply, enc.encode("+ACK"), { timeout: 2_000 });
        sub.unsubscribe();
        const want = (await api(from, `$JS.API.STREAM.INFO.${name}`)).state;
        assertEquals([want.messages, want.first_seq], [7, 4]);
        const wantC = await consumerState(from, name, "C");
        const [s, data] = await snapshot(from, name);
        assertEquals(s.error, undefined);
        const rr = await restore(to, name, { config: s.config }, data);
        assertEquals(rr.error, undefined, retention);
        const st = (await api(to, `$JS.API.STREAM.INFO.${name}`)).state;
        assertEquals([st.messages, st.first_seq, st.last_seq], [7, 4, 10], retention);
        assertEquals(await consumerState(to, name, "C"), wantC);
        await api(from, `$JS.API.STREAM.DELETE.${name}`);
        await api(to, `$JS.API.STREAM.DELETE.${name}`);
      }
    }
  },
});

Deno.test("Stream restore: restored bytes count against the account until the stream is deleted", async () => {
  await using nd = await natsdeno();
  const cfg = { name: "U", subjects: ["u"], storage: "file" };
  assertEquals((await api(nd.nc, "$JS.API.STREAM.CREATE.U", cfg)).error, undefined);
  for (let i = 0; i < 20; i++) await nd.nc.request("u", enc.encode("x".repeat(100)), { timeout: 2_000 });
  const [s, data] = await snapshot(nd.nc, "U");
  await api(nd.nc, "$JS.API.STREAM.DELETE.U");
  assertEquals((await api(nd.nc, "$JS.API.INFO")).storage, 0);
  const r = await restore(nd.nc, "U", { config: s.config }, data);
  assertEquals(r.error, undefined);
  assert(r.state.bytes > 2000);
  assertEquals((await api(nd.nc, "$JS.API.INFO")).storage, r.state.bytes);
  await api(nd.nc, "$JS.API.STREAM.DELETE.U");
  assertEquals((await api(nd.nc, "$JS.API.INFO")).storage, 0);
});
