// FileStore: a store written without encryption and opened with a key is converted at open (as nats-server
// converts a plain store when `jetstream { key }` is added): every message, the stream state and the
// consumers come back, no file holds a subject, header or payload in clear afterwards, and a crash at any
// point of the conversion (simulated on disk) leaves a store the next open finishes. End to end through the
// server with the official client, and from a plain store nats-server 2.9.10 wrote (skipped when absent).

import { assert, assertEquals, assertThrows } from "@std/assert";
import { connect, headers } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { FileStore, type FileStoreOptions, type FsEncryption } from "../../src/store/filestore.ts";
import { type ConsumerStoreConfig, type StoreConfig, StoreError } from "../../src/store/store.ts";
import { b, s, storeConfig } from "./store_suite.ts";
import { defaultOptions, startServer } from "../../src/natsdeno.ts";
import { Logger } from "../../src/util/mod.ts";
import { natsServerPath } from "../_helpers/ref_server.ts";
import { api, withGo, withNatsdeno } from "./_conf_servers.ts";
import { checkFor } from "../_helpers/server.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const SUBJ = "topsecret.subject";
const HDR = "NATS/1.0\r\nX-Hidden: hdrvalue\r\n\r\n";
const NEEDLES = ["topsecret", "PAYLOADPLAIN", "hdrvalue", "X-Hidden", "filtersecret"];
const CCFG: ConsumerStoreConfig = { ackPolicy: "explicit", durable: true } as ConsumerStoreConfig;

function tmp(): string {
  return Deno.makeTempDirSync({ prefix: "natsdeno-fsconv-" });
}

function walk(d: string): string[] {
  return [...Deno.readDirSync(d)].flatMap((e) => e.isDirectory ? walk(`${d}/${e.name}`) : [`${d}/${e.name}`]);
}

/** Every file under `dir` (path → bytes). */
function snapshot(dir: string): Map<string, Uint8Array> {
  return new Map(walk(dir).sort().map((f) => [f.slice(dir.length), Deno.readFileSync(f)]));
}

/** Asserts no file under `dir` holds any of `needles` in clear; returns the files checked. */
function assertNoClear(dir: string, needles: string[] = NEEDLES): string[] {
  const files = walk(dir);
  for (const f of files) {
    const text = new TextDecoder("latin1").decode(Deno.readFileSync(f));
    for (const w of needles) assert(!text.includes(w), `${w} in clear in ${f}`);
  }
  return files;
}

function copyDir(from: string, to: string): void {
  for (const [rel, data] of snapshot(from)) {
    const p = `${to}${rel}`;
    Deno.mkdirSync(p.slice(0, p.lastIndexOf("/")), { recursive: true });
    Deno.writeFileSync(p, data);
  }
}

interface Captured {
  notices: string[];
  damage: string[];
}

function open(
  dir: string,
  cfg: StoreConfig,
  enc?: FsEncryption,
  cap?: Captured,
  blockSize = 2048,
): FileStore {
  const logger = {
    warn: (m: string) => void cap?.damage.push(`warn: ${m}`),
    error: (m: string) => void cap?.damage.push(`error: ${m}`),
    notice: (m: string) => void cap?.notices.push(m),
  };
  const o: FileStoreOptions = { dir, blockSize, encryption: enc, logger };
  return new FileStore(cfg, o);
}

interface Expected {
  state: unknown;
  msgs: { seq: number; subj: string; hdr?: string; msg: string }[];
  consumer: unknown;
  streamMeta: unknown;
  consumerMeta: unknown;
}

function snapshotStore(st: FileStore): Expected {
  const msgs: Expected["msgs"] = [];
  for (let m = st.loadNextMsg("", 0); m !== undefined; m = st.loadNextMsg("", m.seq + 1)) {
    msgs.push({ seq: m.seq, subj: m.subject, hdr: m.hdr ? s(m.hdr) : undefined, msg: s(m.msg) });
  }
  const cs = st.consumerStore("dur", CCFG);
  const consumer = cs.state();
  cs.stop();
  return {
    state: Deno.inspect(st.state(), { depth: 5 }),
    msgs,
    consumer,
    streamMeta: FileStore.readMeta(st.dir, "zzz", encOf(st)),
    consumerMeta: st.consumerMeta("dur"),
  };
}

const encs = new WeakMap<FileStore, FsEncryption | undefined>();
function encOf(st: FileStore): FsEncryption | undefined {
  return encs.get(st);
}

/**
 * A plain store: several sealed blocks, an active block, interior deletes and a first-sequence purge, and a
 * durable consumer with deliveries and acks; stopped. Returns what it holds.
 */
function plainStore(dir: string, comp: "none" | "s2"): { cfg: StoreConfig; want: Expected } {
  const cfg = storeConfig({ storage: "file", compression: comp, subjects: ["topsecret.>"] });
  const st = open(dir, cfg);
  st.setMeta({ config: { name: "zzz", subjects: ["topsecret.>"] } });
  for (let i = 0; i < 120; i++) {
    st.storeMsg(
      i % 2 === 0 ? SUBJ : `${SUBJ}.${i % 5}`,
      i % 3 === 0 ? b(HDR) : undefined,
      b(`PAYLOADPLAIN-${i}`),
    );
  }
  for (const seq of [5, 17, 18, 60, 119]) st.removeMsg(seq);
  st.compact(3);
  const cs = st.consumerStore("dur", CCFG);
  for (let i = 1; i <= 30; i++) cs.updateDelivered(i, i + 2, 1, BigInt(i) * 1_000_000n);
  for (let i = 1; i <= 10; i++) cs.updateAcks(i, i + 2);
  (cs as unknown as { setMeta(m: unknown): void }).setMeta({ config: { filter_subject: "filtersecret.>" } });
  cs.stop();
  const want = snapshotStore(st);
  st.stop();
  const blocks = [...Deno.readDirSync(`${dir}/msgs`)].filter((e) => e.name.endsWith(".blk")).length;
  assert(blocks >= 4, `only ${blocks} blocks`);
  // The plain store really is plain (the check below can fail).
  assertThrows(() => assertNoClear(dir));
  return { cfg, want };
}

function assertSame(st: FileStore, enc: FsEncryption | undefined, want: Expected): void {
  encs.set(st, enc);
  const got = snapshotStore(st);
  assertEquals(got.state, want.state);
  assertEquals(got.msgs, want.msgs);
  assertEquals(got.consumer, want.consumer);
  assertEquals(got.streamMeta, want.streamMeta);
  assertEquals(got.consumerMeta, want.consumerMeta);
}

const CIPHERS = ["chachapoly", "aes"] as const;
const COMPS = ["none", "s2"] as const;

for (const cipher of CIPHERS) {
  for (const comp of COMPS) {
    Deno.test(`FileStore: a plain store opened with a key (${cipher}, ${comp}) is encrypted whole and serves everything`, () => {
      const dir = tmp();
      try {
        const { cfg, want } = plainStore(dir, comp);
        const enc: FsEncryption = { key: "conv-key", cipher, account: "$G" };
        const cap: Captured = { notices: [], damage: [] };
        let st = open(dir, cfg, enc, cap);
        assertSame(st, enc, want);
        assertEquals(cap.notices, ["  Encrypting stream '$G > zzz'"]);
        assertEquals(cap.damage, []);
        // Writes go on in the converted active block and in new ones.
        for (let i = 0; i < 30; i++) st.storeMsg(SUBJ, b(HDR), b(`PAYLOADPLAIN-more-${i}`));
        const after = snapshotStore(st);
        st.stop();
        const files = assertNoClear(dir);
        for (
          const f of ["/meta.key", "/meta.inf", "/obs/dur/meta.key", "/obs/dur/o.dat", "/obs/dur/meta.inf"]
        ) {
          assert(files.includes(`${dir}${f}`), `${f} missing: ${files.join(", ")}`);
        }
        assert(!files.some((f) => f.endsWith("encrypt.pending")));
        for (const f of files.filter((x) => x.endsWith(".blk"))) {
          assert(files.includes(f.replace(/\.blk$/, ".key")), `${f} has no key`);
        }
        // Opened again: nothing more to convert, everything still there.
        cap.notices.length = 0;
        st = open(dir, cfg, enc, cap);
        assertSame(st, enc, after);
        assertEquals(cap.notices, []);
        st.stop();
        // A wrong key or no key is refused, and nothing on disk changes.
        const before = snapshot(dir);
        const err = assertThrows(() => open(dir, cfg, { ...enc, key: "wrong" }));
        assert(err instanceof StoreError && err.code === "bad_key", String(err));
        const err2 = assertThrows(() => open(dir, cfg, undefined));
        assert(err2 instanceof StoreError && err2.code === "bad_key", String(err2));
        assertEquals(snapshot(dir), before);
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    });
  }
}

Deno.test("FileStore: a store with block keys but no meta.key is refused, not converted, and left as it was", () => {
  const dir = tmp();
  try {
    const enc: FsEncryption = { key: "k1", cipher: "aes", account: "$G" };
    const cfg = storeConfig({ storage: "file" });
    const st = open(dir, cfg, enc);
    for (let i = 0; i < 10; i++) st.storeMsg(SUBJ, undefined, b("PAYLOADPLAIN"));
    st.stop();
    Deno.removeSync(`${dir}/meta.key`);
    const before = snapshot(dir);
    const err = assertThrows(() => open(dir, cfg, enc));
    assert(err instanceof StoreError && err.code === "bad_key", String(err));
    assertEquals(snapshot(dir), before);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/**
 * The crash points of a conversion, built on disk from the plain store P and the same store converted (C,
 * copied right after the converting open, before anything else is written): each is opened with the key and
 * must serve everything, leave nothing in clear, and open again.
 */
for (const cipher of CIPHERS) {
  Deno.test(`FileStore: a conversion cut short at any point is finished by the next open (${cipher})`, async (t) => {
    const plain = tmp();
    const conv = tmp();
    const enc: FsEncryption = { key: "crash-key", cipher, account: "$G" };
    try {
      const { cfg, want } = plainStore(plain, "none");
      copyDir(plain, conv);
      const c = open(conv, cfg, enc);
      const C = snapshot(conv);
      c.stop();
      const P = snapshot(plain);
      const blocks = [...P.keys()].map((k) => /^\/msgs\/(\d+)\.blk$/.exec(k)).filter((m) => m !== null).map((
        m,
      ) => Number(m![1])).sort((x, y) => x - y);
      assert(blocks.length >= 4);
      const mid = blocks[Math.floor(blocks.length / 2)];
      const build = (files: Map<string, Uint8Array>): string => {
        const d = tmp();
        for (const [rel, data] of files) {
          const p = `${d}${rel}`;
          Deno.mkdirSync(p.slice(0, p.lastIndexOf("/")), { recursive: true });
          Deno.writeFileSync(p, data);
        }
        return d;
      };
      const started = (): Map<string, Uint8Array> => {
        const m = new Map(P);
        m.set("/encrypt.pending", new Uint8Array(0));
        m.set("/meta.key", C.get("/meta.key")!);
        return m;
      };
      const cases: [string, () => Map<string, Uint8Array>][] = [
        ["marker written, meta.key not yet", () => new Map(P).set("/encrypt.pending", new Uint8Array(0))],
        ["meta.key written, nothing else", started],
        ["meta.inf sealed, meta.sum not yet", () => started().set("/meta.inf", C.get("/meta.inf")!)],
        ["first half of the blocks converted", () => {
          const m = started().set("/meta.inf", C.get("/meta.inf")!).set("/meta.sum", C.get("/meta.sum")!);
          for (const i of blocks.filter((x) => x < mid)) {
            m.set(`/msgs/${i}.blk`, C.get(`/msgs/${i}.blk`)!).set(`/msgs/${i}.key`, C.get(`/msgs/${i}.key`)!);
          }
          return m;
        }],
        [
          "a block's key and block written to temporaries, not renamed",
          () =>
            started().set(`/msgs/${mid}.key.tmp`, C.get(`/msgs/${mid}.key`)!).set(
              `/msgs/${mid}.blk.tmp`,
              C.get(`/msgs/${mid}.blk`)!,
            ),
        ],
        [
          "a block's temporary cut short",
          () =>
            started().set(`/msgs/${mid}.key.tmp`, C.get(`/msgs/${mid}.key`)!).set(
              `/msgs/${mid}.blk.tmp`,
              C.get(`/msgs/${mid}.blk`)!.slice(0, 100),
            ),
        ],
        [
          "a block renamed, its key not yet",
          () =>
            started().set(`/msgs/${mid}.key.tmp`, C.get(`/msgs/${mid}.key`)!).set(
              `/msgs/${mid}.blk`,
              C.get(`/msgs/${mid}.blk`)!,
            ),
        ],
        ["the last block renamed, its key not yet", () => {
          const last = blocks[blocks.length - 1];
          const m = started();
          for (const i of blocks.filter((x) => x < last)) {
            m.set(`/msgs/${i}.blk`, C.get(`/msgs/${i}.blk`)!).set(`/msgs/${i}.key`, C.get(`/msgs/${i}.key`)!);
          }
          return m.set(`/msgs/${last}.key.tmp`, C.get(`/msgs/${last}.key`)!).set(
            `/msgs/${last}.blk`,
            C.get(`/msgs/${last}.blk`)!,
          );
        }],
        ["every block converted, the consumer's meta.key written and its files not yet", () => {
          const m = new Map(C);
          m.set("/encrypt.pending", new Uint8Array(0));
          for (const f of ["/obs/dur/meta.inf", "/obs/dur/meta.sum", "/obs/dur/o.dat"]) m.set(f, P.get(f)!);
          return m;
        }],
        ["the consumer's o.dat sealed, meta.inf not yet", () => {
          const m = new Map(C);
          m.set("/encrypt.pending", new Uint8Array(0));
          for (const f of ["/obs/dur/meta.inf", "/obs/dur/meta.sum"]) m.set(f, P.get(f)!);
          return m;
        }],
      ];
      for (const [name, mk] of cases) {
        await t.step(name, () => {
          const d = build(mk());
          try {
            const cap: Captured = { notices: [], damage: [] };
            let st = open(d, cfg, enc, cap);
            assertSame(st, enc, want);
            assertEquals(cap.damage, []);
            st.stop();
            assertNoClear(d);
            assert(!Deno.readDirSync(`${d}/msgs`).some((e) => /\.(tmp|prev)$/.test(e.name)));
            assert(!Deno.readDirSync(d).some((e) => e.name === "encrypt.pending"));
            st = open(d, cfg, enc, cap);
            assertSame(st, enc, want);
            st.stop();
          } finally {
            Deno.removeSync(d, { recursive: true });
          }
        });
      }
    } finally {
      Deno.removeSync(plain, { recursive: true });
      Deno.removeSync(conv, { recursive: true });
    }
  });
}

Deno.test("natsdeno started with jetstream { key } on a plain store encrypts it and serves every message and the consumer", async () => {
  const root = tmp();
  const notices: string[] = [];
  const opts = (key?: string) => {
    const o = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir: root });
    if (key !== undefined) {
      o.jetStreamOpts.key = key;
      o.jetStreamOpts.cipher = "chachapoly";
    }
    return o;
  };
  const log = new Logger({ quiet: true }, true);
  log.warn = (m: string) => void notices.push(m);
  log.notice = (m: string) => void notices.push(m);
  try {
    let srv = await startServer(opts(), { log });
    let nc = await connect({ servers: `127.0.0.1:${srv.port}` });
    let jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: "ENC",
      subjects: ["topsecret.>"],
      storage: "file" as never,
      max_msgs_per_subject: 0,
    });
    const js = jetstream(nc);
    for (let i = 0; i < 200; i++) {
      const h = headers();
      h.set("X-Hidden", `hdrvalue-${i}`);
      await js.publish(`topsecret.s${i % 7}`, b(`PAYLOADPLAIN-${i}`.padEnd(300, "p")), { headers: h });
    }
    await jsm.streams.deleteMessage("ENC", 7);
    await jsm.consumers.add("ENC", {
      durable_name: "dur",
      ack_policy: AckPolicy.Explicit,
      filter_subject: "topsecret.>",
    });
    const cons = await js.consumers.get("ENC", "dur");
    const batch = await cons.fetch({ max_messages: 20, expires: 2_000 });
    let n = 0;
    for await (const m of batch) {
      if (++n <= 10) m.ack();
      if (n === 20) break;
    }
    await nc.flush();
    await checkFor(3_000, 20, async () => {
      const ci = await jsm.consumers.info("ENC", "dur");
      assertEquals([ci.ack_floor.stream_seq, ci.delivered.stream_seq], [11, 21]);
    });
    const si0 = await jsm.streams.info("ENC");
    await nc.close();
    await srv.shutdown();
    const sdir = `${root}/jetstream/$G/streams/ENC`;
    assertThrows(() => assertNoClear(sdir, ["topsecret", "PAYLOADPLAIN", "hdrvalue"]));

    srv = await startServer(opts("e2e-key"), { log });
    nc = await connect({ servers: `127.0.0.1:${srv.port}` });
    jsm = await jetstreamManager(nc);
    const si = await jsm.streams.info("ENC");
    assertEquals(si.state.messages, 199);
    assertEquals([si.state.first_seq, si.state.last_seq, si.state.bytes], [
      si0.state.first_seq,
      si0.state.last_seq,
      si0.state.bytes,
    ]);
    for (let seq = 1; seq <= 200; seq++) {
      if (seq === 7) continue;
      const m = await jsm.streams.getMessage("ENC", { seq });
      assertEquals(m!.subject, `topsecret.s${(seq - 1) % 7}`);
      assertEquals(s(m!.data), `PAYLOADPLAIN-${seq - 1}`.padEnd(300, "p"));
      assertEquals(m!.header.get("X-Hidden"), `hdrvalue-${seq - 1}`);
    }
    const ci = await jsm.consumers.info("ENC", "dur");
    assertEquals([ci.ack_floor.stream_seq, ci.delivered.stream_seq, ci.num_ack_pending], [11, 21, 10]);
    assertEquals(ci.config.filter_subject, "topsecret.>");
    await nc.close();
    await srv.shutdown();
    assert(notices.some((m) => m.includes("Encrypting stream '$G > ENC'")), notices.join("\n"));
    assertNoClear(sdir, ["topsecret", "PAYLOADPLAIN", "hdrvalue"]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a plain store nats-server 2.9.10 wrote is encrypted by natsdeno opened with a key", async () => {
  const exe = natsServerPath();
  if (exe === undefined) {
    // deno-lint-ignore no-console
    console.warn("nats-server not on PATH: plain nats-server store conversion test skipped");
    return;
  }
  const root = tmp();
  try {
    const msgs: Json[] = [];
    let ci0: Json;
    await withGo(exe, `jetstream: {store_dir: '${root}'}`, async (c) => {
      const cr = await api(c, "$JS.API.STREAM.CREATE.TEST", {
        name: "TEST",
        subjects: ["topsecret.*"],
        storage: "file",
        max_bytes: 120_000,
      });
      assert(cr.error === undefined, JSON.stringify(cr));
      for (let i = 0; i < 100; i++) {
        const h = headers();
        h.set("X-Hidden", `hdrvalue-${i}`);
        const body = b(`PAYLOADPLAIN-${i}-`.padEnd(800, "q"));
        const ack = JSON.parse(
          s((await c.request(`topsecret.${i % 5}`, body, { timeout: 3_000, headers: h })).data),
        );
        assertEquals(ack.seq, i + 1);
      }
      const cc = await api(c, "$JS.API.CONSUMER.DURABLE.CREATE.TEST.dlc", {
        stream_name: "TEST",
        config: { durable_name: "dlc", ack_policy: "explicit", filter_subject: "topsecret.*" },
      });
      assert(cc.error === undefined, JSON.stringify(cc));
      const inbox = `_INBOX.fsconv.${crypto.randomUUID()}`;
      const sub = c.subscribe(inbox, { max: 30 });
      c.publish(
        "$JS.API.CONSUMER.MSG.NEXT.TEST.dlc",
        b(JSON.stringify({ batch: 30, expires: 2_000_000_000 })),
        {
          reply: inbox,
        },
      );
      let got = 0;
      for await (const m of sub) if (++got <= 10) c.publish(m.reply!, b("+ACK"));
      await c.flush();
      await checkFor(3_000, 20, async () => {
        ci0 = await api(c, "$JS.API.CONSUMER.INFO.TEST.dlc");
        assertEquals(ci0.ack_floor.stream_seq, 10);
      });
      for (let seq = 1; seq <= 100; seq++) {
        msgs.push((await api(c, "$JS.API.STREAM.MSG.GET.TEST", { seq })).message);
      }
    });
    const sdir = `${root}/jetstream/$G/streams/TEST`;
    assertThrows(() => assertNoClear(sdir, ["topsecret", "PAYLOADPLAIN", "hdrvalue"]));
    const jsConf = `jetstream: {store_dir: '${root}', key: "conv-s3cr3t", cipher: aes}`;
    await withNatsdeno(jsConf, async (c) => {
      const si = await api(c, "$JS.API.STREAM.INFO.TEST");
      assertEquals([si.state.messages, si.state.first_seq, si.state.last_seq], [100, 1, 100]);
      for (let seq = 1; seq <= 100; seq++) {
        const m = (await api(c, "$JS.API.STREAM.MSG.GET.TEST", { seq })).message;
        assertEquals(m, msgs[seq - 1], `message ${seq}`);
      }
      const ci = await api(c, "$JS.API.CONSUMER.INFO.TEST.dlc");
      assertEquals([ci.ack_floor.stream_seq, ci.delivered.stream_seq, ci.num_ack_pending], [
        ci0.ack_floor.stream_seq,
        ci0.delivered.stream_seq,
        ci0.num_ack_pending,
      ]);
    });
    assertNoClear(sdir, ["topsecret", "PAYLOADPLAIN", "hdrvalue"]);
    // And again, with nothing left to convert.
    await withNatsdeno(jsConf, async (c) => {
      const m = (await api(c, "$JS.API.STREAM.MSG.GET.TEST", { seq: 100 })).message;
      assertEquals(m, msgs[99]);
    });
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
