// FileStore: recovery (torn tail, bit flips, truncation, wrong key), durability, compression and encryption
// checks, plus end-to-end restart of file streams and consumers through a server and the official client.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { xchacha20 } from "@noble/ciphers/chacha.js";
import { FileStore, type FsDamage, type FsEncryption } from "../../src/store/filestore.ts";
import { StoreError } from "../../src/store/store.ts";
import { open, randomBytes, seal, xorAt } from "../../src/store/_fs_crypto.ts";
import { compressBlock, decompressBlock, snappyDecodeInto } from "../../src/store/msg_block.ts";
import SnappyJS from "snappyjs";
import { b, s, storeConfig } from "./store_suite.ts";
import { defaultOptions, startServer } from "../../src/natsdeno.ts";
import { Logger } from "../../src/util/mod.ts";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";

const CHACHA: FsEncryption = { key: "k1-secret", cipher: "chachapoly", account: "$G" };

function tmp(): string {
  return Deno.makeTempDirSync({ prefix: "natsdeno-fsr-" });
}

function open1(dir: string, enc?: FsEncryption, blockSize = 2048, damage?: FsDamage[]): FileStore {
  const st = new FileStore(storeConfig({ storage: "file" }), {
    dir,
    blockSize,
    encryption: enc,
    logger: { warn: () => {}, error: () => {} },
  });
  if (damage !== undefined) damage.push(...st.damage);
  return st;
}

function blocks(dir: string): string[] {
  return [...Deno.readDirSync(`${dir}/msgs`)].map((e) => e.name).filter((n) => n.endsWith(".blk"))
    .sort((x, y) => parseInt(x) - parseInt(y));
}

Deno.test("FileStore: XChaCha20 via node:crypto equals @noble/ciphers byte for byte, at any offset", () => {
  const key = randomBytes(32);
  const nonce = randomBytes(24);
  const data = new Uint8Array(1000).map((_, i) => i * 7);
  const ref = xchacha20(key, nonce, data.slice());
  const mine = data.slice();
  xorAt("chachapoly", key, nonce, 0, mine.subarray(0, 77));
  xorAt("chachapoly", key, nonce, 77, mine.subarray(77, 500));
  xorAt("chachapoly", key, nonce, 500, mine.subarray(500));
  assertEquals(mine, ref);
  const aes1 = data.slice();
  const aes2 = data.slice();
  xorAt("aes", key, nonce, 0, aes1);
  xorAt("aes", key, nonce, 0, aes2.subarray(0, 33));
  xorAt("aes", key, nonce, 33, aes2.subarray(33));
  assertEquals(aes1, aes2);
  for (const c of ["chachapoly", "aes"] as const) {
    const sealed = seal(c, key, b("hello"));
    assertEquals(s(open(c, key, sealed)), "hello");
    sealed[sealed.length - 1] ^= 1;
    assertEquals(open(c, key, sealed), undefined);
  }
});

Deno.test("FileStore: s2 block framing round-trips and detects damage", () => {
  const plain = new Uint8Array(200_000).map((_, i) => (i % 13) + (i >> 12));
  const c = compressBlock(plain);
  assert(c.length < plain.length / 2);
  assertEquals(s(c.subarray(0, 3)), "cmp");
  assertEquals(decompressBlock(c), plain);
  c[c.length - 5] ^= 0x10;
  assertThrows(() => decompressBlock(c));
});

Deno.test("FileStore: flushed() shares one fdatasync among many appends", async () => {
  const dir = tmp();
  const st = open1(dir);
  try {
    let first: Promise<void> | undefined;
    for (let i = 0; i < 100; i++) {
      const p = st.flushed(st.storeMsg("foo", undefined, b(`${i}`)).seq);
      assert(p !== undefined);
      first ??= p;
      assert(p === first, "one promise per batch");
    }
    await first;
    assertEquals(st.flushed(100), undefined);
  } finally {
    st.stop();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("FileStore: with sync_interval acks wait for the write, not for fsync", async () => {
  const dir = tmp();
  const st = new FileStore(storeConfig({ storage: "file" }), { dir, syncIntervalMs: 60_000 });
  try {
    const seq = st.storeMsg("foo", undefined, b("x")).seq;
    const p = st.flushed(seq);
    assert(p !== undefined, "not acknowledged before its record is written");
    // Written at the end of this task; the fsync is a minute away.
    await p;
    assertEquals(st.flushed(seq), undefined);
    assert(Deno.statSync(`${dir}/msgs/1.blk`).size > 0);
  } finally {
    st.stop();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("FileStore: records use the reference layout (lengths, seq, ts, subject, hbit)", () => {
  const dir = tmp();
  try {
    const st = open1(dir);
    const { ts } = st.storeMsg("foo.bar", b("NATS/1.0\r\n\r\n"), b("hello"));
    st.stop();
    const raw = Deno.readFileSync(`${dir}/msgs/1.blk`);
    const v = new DataView(raw.buffer);
    const rl = 22 + 7 + 4 + 12 + 5 + 8;
    assertEquals(v.getUint32(0, true), (rl | 0x80000000) >>> 0);
    assertEquals(Number(v.getBigUint64(4, true)), 1);
    assertEquals(v.getBigInt64(12, true), ts);
    assertEquals(v.getUint16(20, true), 7);
    assertEquals(s(raw.subarray(22, 29)), "foo.bar");
    assertEquals(v.getUint32(29, true), 12);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("FileStore: a torn tail is cut to the last whole record", () => {
  const dir = tmp();
  try {
    const st = open1(dir, undefined, 1 << 20);
    for (let i = 0; i < 10; i++) st.storeMsg("foo", undefined, b(`msg-${i}`));
    st.stop();
    const p = `${dir}/msgs/1.blk`;
    Deno.truncateSync(p, Deno.statSync(p).size - 3);
    const st2 = open1(dir, undefined, 1 << 20);
    // The last sequence recorded at the clean stop is kept (as nats-server keeps it from index.db, see
    // TestFileStoreTrailingSkipMsgsFromStreamStateFile): the lost 10 is never handed out again.
    assertEquals([st2.state().msgs, st2.state().lastSeq], [9, 10]);
    assertEquals(st2.storeMsg("foo", undefined, b("again")).seq, 11);
    st2.stop();
    const st3 = open1(dir, undefined, 1 << 20);
    assertEquals(s(st3.loadMsg(11)!.msg), "again");
    st3.stop();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

for (const enc of [undefined, CHACHA]) {
  Deno.test(
    `FileStore: removals and purges recorded at a clean stop survive a torn last block${
      enc ? " (encrypted)" : ""
    }`,
    () => {
      // Each case ends with the record whose loss the tear causes: the tombstone of the first message, of an
      // interior message, or the purge.
      const cases: [string, (st: FileStore) => void, number, number, number, number[]][] = [
        ["first", (st) => [10, 1, 2, 3, 4, 5].forEach((q) => st.removeMsg(q)), 14, 6, 20, [10]],
        ["interior", (st) => [1, 2, 3, 4, 5, 10].forEach((q) => st.removeMsg(q)), 14, 6, 20, [10]],
        ["purge", (st) => st.purge(), 0, 21, 20, []],
        ["compact", (st) => st.compact(15), 6, 15, 20, []],
      ];
      for (const [name, remove, msgs, first, last, deleted] of cases) {
        const dir = tmp();
        try {
          const st = open1(dir, enc, 1 << 20);
          for (let i = 0; i < 20; i++) st.storeMsg("foo", undefined, b(`msg-${i + 1}`));
          remove(st);
          st.stop();
          assertEquals(blocks(dir), ["1.blk"], name);
          const p = `${dir}/msgs/1.blk`;
          Deno.truncateSync(p, Deno.statSync(p).size - 1);
          const st2 = open1(dir, enc, 1 << 20);
          const want = (x: FileStore) => {
            const state = x.state();
            assertEquals(
              [state.msgs, state.firstSeq, state.lastSeq, state.deleted],
              [msgs, first, last, deleted],
              name,
            );
            if (msgs > 0) assertEquals(s(x.loadMsg(first)!.msg), `msg-${first}`, name);
            for (const q of deleted) assertEquals(x.loadMsg(q), undefined, name);
          };
          want(st2);
          st2.stop();
          // Removed again through the journal: a later open (no blocks.db this time) keeps them removed.
          Deno.removeSync(`${dir}/msgs/blocks.db`);
          const st3 = open1(dir, enc, 1 << 20);
          want(st3);
          assertEquals(st3.storeMsg("foo", undefined, b("next")).seq, 21, name);
          st3.stop();
        } finally {
          Deno.removeSync(dir, { recursive: true });
        }
      }
    },
  );
}

for (const enc of [undefined, CHACHA]) {
  Deno.test(
    `FileStore: a bit flip is detected, reported with file and sequence, the record never served, the rest served${
      enc ? " (encrypted)" : ""
    }`,
    () => {
      const dir = tmp();
      try {
        const st = open1(dir, enc);
        for (let i = 0; i < 200; i++) st.storeMsg(`s.${i}`, undefined, b(`payload-${i}`.padEnd(40, "x")));
        st.stop();
        const names = blocks(dir);
        assert(names.length >= 3);
        // Flip a bit inside a payload of the second block (offset past the nonce and first record header).
        const p = `${dir}/msgs/${names[1]}`;
        const raw = Deno.readFileSync(p);
        raw[200] ^= 0x04;
        Deno.writeFileSync(p, raw);
        const damage: FsDamage[] = [];
        const st2 = open1(dir, enc, 2048, damage);
        assertEquals(damage.length, 1, JSON.stringify(damage));
        assert(damage[0].file.endsWith(names[1]));
        const bad = damage[0].seq;
        assert(bad > 0);
        assertEquals(st2.loadMsg(bad), undefined);
        assertEquals(st2.state().msgs, 199);
        for (let q = 1; q <= 200; q++) {
          if (q === bad) continue;
          assertEquals(s(st2.loadMsg(q)!.msg), `payload-${q - 1}`.padEnd(40, "x"));
        }
        st2.stop();
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    },
  );
}

Deno.test("FileStore: a truncated interior block is reported and the other blocks served", () => {
  const dir = tmp();
  try {
    const st = open1(dir);
    for (let i = 0; i < 200; i++) st.storeMsg("foo", undefined, b(`payload-${i}`.padEnd(40, "x")));
    st.stop();
    const names = blocks(dir);
    const p = `${dir}/msgs/${names[0]}`;
    const size = Deno.statSync(p).size;
    Deno.truncateSync(p, size - 30);
    const damage: FsDamage[] = [];
    const st2 = open1(dir, undefined, 2048, damage);
    assert(damage.length >= 1);
    assert(damage[0].file.endsWith(names[0]));
    const state = st2.state();
    assertEquals(state.lastSeq, 200);
    assert(state.msgs >= 198 && state.msgs < 200, `${state.msgs}`);
    assertEquals(s(st2.loadMsg(200)!.msg), "payload-199".padEnd(40, "x"));
    st2.stop();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("FileStore: a wrong key is refused at open and nothing on disk changes; prev_key rotates", () => {
  const dir = tmp();
  try {
    const st = open1(dir, CHACHA);
    for (let i = 0; i < 50; i++) st.storeMsg("foo", undefined, b(`secret-${i}`));
    st.stop();
    const snapshot = () =>
      [...Deno.readDirSync(`${dir}/msgs`)].map((e) => [e.name, Deno.readFileSync(`${dir}/msgs/${e.name}`)])
        .concat([["meta.key", Deno.readFileSync(`${dir}/meta.key`)]]);
    const before = snapshot();
    const err = assertThrows(() => open1(dir, { ...CHACHA, key: "wrong" }));
    assert(err instanceof StoreError && err.code === "bad_key", String(err));
    assertThrows(() => open1(dir, undefined));
    assertEquals(snapshot(), before);
    // Rotation: the new key with the old one as prev_key opens it and re-seals meta.key.
    const st2 = open1(dir, { ...CHACHA, key: "k2-secret", prevKey: "k1-secret" });
    assertEquals(s(st2.loadMsg(50)!.msg), "secret-49");
    st2.stop();
    const st3 = open1(dir, { ...CHACHA, key: "k2-secret" });
    assertEquals(st3.state().msgs, 50);
    st3.stop();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

for (const cipher of ["chachapoly", "aes"] as const) {
  for (const comp of ["none", "s2"] as const) {
    Deno.test(`FileStore: no payload, subject or header in clear in any file (${cipher}, ${comp})`, () => {
      const dir = tmp();
      try {
        const st = new FileStore(storeConfig({ storage: "file", compression: comp }), {
          dir,
          blockSize: 2048,
          encryption: { key: "kk", cipher, account: "$G" },
          meta: { config: { name: "zzz", subjects: ["topsecret.subject"] } },
        });
        for (let i = 0; i < 100; i++) {
          st.storeMsg("topsecret.subject", b("NATS/1.0\r\nX-Hidden: hdrvalue\r\n\r\n"), b("PAYLOADPLAIN"));
        }
        const cs = st.consumerStore("dur", { ackPolicy: "explicit", durable: true });
        cs.updateDelivered(1, 1, 1, 1n);
        (cs as unknown as { setMeta(m: unknown): void }).setMeta({
          config: { filter_subject: "topsecret.subject" },
        });
        cs.stop();
        st.stop();
        const walk = (d: string): string[] =>
          [...Deno.readDirSync(d)].flatMap((e) =>
            e.isDirectory ? walk(`${d}/${e.name}`) : [`${d}/${e.name}`]
          );
        const files = walk(dir);
        assert(files.length >= 6);
        for (const f of files) {
          const text = new TextDecoder("latin1").decode(Deno.readFileSync(f));
          for (const w of ["topsecret", "PAYLOADPLAIN", "hdrvalue", "X-Hidden"]) {
            assert(!text.includes(w), `${w} in clear in ${f}`);
          }
        }
        const st2 = new FileStore(storeConfig({ storage: "file", compression: comp }), {
          dir,
          blockSize: 2048,
          encryption: { key: "kk", cipher, account: "$G" },
        });
        assertEquals(st2.state().msgs, 100);
        assertEquals(s(st2.loadMsg(77)!.msg), "PAYLOADPLAIN");
        assertEquals(
          st2.consumerStore("dur", { ackPolicy: "explicit", durable: true }).state().delivered.streamSeq,
          1,
        );
        st2.stop();
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    });
  }
}

Deno.test("FileStore: s2 compresses blocks that are no longer active", () => {
  const dir = tmp();
  try {
    const st = new FileStore(storeConfig({ storage: "file", compression: "s2" }), { dir, blockSize: 8192 });
    for (let i = 0; i < 1000; i++) st.storeMsg("foo", undefined, new Uint8Array(100).fill(65));
    st.stop();
    const names = blocks(dir);
    const first = Deno.readFileSync(`${dir}/msgs/${names[0]}`);
    assertEquals(s(first.subarray(0, 3)), "cmp");
    assert(first.length < 4096);
    const st2 = new FileStore(storeConfig({ storage: "file", compression: "none" }), {
      dir,
      blockSize: 8192,
    });
    assertEquals(st2.state().msgs, 1000);
    assertEquals(st2.loadMsg(3)!.msg.length, 100);
    st2.stop();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("FileStore: removed messages' blocks are reclaimed and erased bytes leave the disk", async () => {
  const dir = tmp();
  try {
    const st = open1(dir);
    for (let i = 0; i < 300; i++) st.storeMsg("foo", undefined, b(`erase-me-${i}`.padEnd(50, ".")));
    const n0 = blocks(dir).length;
    for (let q = 1; q <= 150; q++) st.removeMsg(q);
    assert(st.eraseMsg(290));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert(blocks(dir).length < n0, `${blocks(dir).length} >= ${n0}`);
    st.stop();
    const all = blocks(dir).map((n) => new TextDecoder().decode(Deno.readFileSync(`${dir}/msgs/${n}`))).join(
      "",
    );
    assert(!all.includes("erase-me-289"));
    const st2 = open1(dir);
    assertEquals([st2.state().msgs, st2.state().firstSeq, st2.state().lastSeq], [149, 151, 300]);
    assertEquals(st2.loadMsg(290), undefined);
    st2.stop();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("FileStore: file streams and durable consumers come back after a server restart", async () => {
  const storeDir = tmp();
  const opts = () => defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir });
  const log = new Logger({ quiet: true }, true);
  try {
    let srv = await startServer(opts(), { log });
    let nc = await connect({ servers: `127.0.0.1:${srv.port}` });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "FS", subjects: ["fs.>"], storage: "file" as never });
    const js = jetstream(nc);
    for (let i = 0; i < 20; i++) await js.publish(`fs.${i % 3}`, b(`m${i}`));
    await jsm.consumers.add("FS", { durable_name: "D", ack_policy: "explicit" as never });
    const c = await js.consumers.get("FS", "D");
    const batch = await c.fetch({ max_messages: 5, expires: 1000 });
    for await (const m of batch) m.ack();
    await nc.flush();
    await new Promise((r) => setTimeout(r, 100));
    await nc.close();
    await srv.shutdown();
    srv = await startServer(opts(), { log });
    nc = await connect({ servers: `127.0.0.1:${srv.port}` });
    const jsm2 = await jetstreamManager(nc);
    const si = await jsm2.streams.info("FS");
    assertEquals([si.state.messages, si.state.first_seq, si.state.last_seq], [20, 1, 20]);
    assertEquals(si.config.subjects, ["fs.>"]);
    const ci = await jsm2.consumers.info("FS", "D");
    assertEquals([ci.delivered.stream_seq, ci.ack_floor.stream_seq, ci.num_pending], [5, 5, 15]);
    const m = await jsm2.streams.getMessage("FS", { seq: 7 });
    assertEquals(s(m!.data), "m6");
    await nc.close();
    await srv.shutdown();
  } finally {
    Deno.removeSync(storeDir, { recursive: true });
  }
});

Deno.test("FileStore: a file KV bucket (direct get) comes back after a server restart", async () => {
  const storeDir = tmp();
  const opts = () => defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir });
  const log = new Logger({ quiet: true }, true);
  try {
    let srv = await startServer(opts(), { log });
    let nc = await connect({ servers: `127.0.0.1:${srv.port}` });
    const kv = await new Kvm(nc).create("cfg", { storage: "file" as never, history: 3 });
    await kv.put("a", b("1"));
    await kv.put("a", b("2"));
    await kv.put("b", b("x"));
    await nc.close();
    await srv.shutdown();
    srv = await startServer(opts(), { log });
    nc = await connect({ servers: `127.0.0.1:${srv.port}` });
    const kv2 = await new Kvm(nc).open("cfg");
    assertEquals(s((await kv2.get("a"))!.value), "2");
    assertEquals((await kv2.get("a"))!.revision, 2);
    assertEquals(s((await kv2.get("b"))!.value), "x");
    const direct = await nc.request(
      "$JS.API.DIRECT.GET.KV_cfg",
      b(JSON.stringify({ last_by_subj: "$KV.cfg.a" })),
    );
    assertEquals(s(direct.data), "2");
    await nc.close();
    await srv.shutdown();
  } finally {
    Deno.removeSync(storeDir, { recursive: true });
  }
});

Deno.test("FileStore: a damaged record is never served on later opens (damaged blocks are not sealed as good)", () => {
  const dir = tmp();
  try {
    const st = open1(dir, undefined, 1 << 20);
    for (let i = 0; i < 50; i++) st.storeMsg("foo", undefined, b(`v-${i}`.padEnd(30, ".")));
    st.stop();
    const p = `${dir}/msgs/1.blk`;
    const raw = Deno.readFileSync(p);
    raw[300] ^= 0x20;
    Deno.writeFileSync(p, raw);
    const damage: FsDamage[] = [];
    const st2 = open1(dir, undefined, 1 << 20, damage);
    assertEquals(damage.length, 1);
    const bad = damage[0].seq;
    st2.storeMsg("foo", undefined, b("after"));
    st2.stop();
    for (let round = 0; round < 2; round++) {
      const st3 = open1(dir, undefined, 1 << 20);
      assertEquals(st3.loadMsg(bad), undefined);
      assertEquals(st3.state().msgs, 50);
      for (let q = 1; q <= 50; q++) {
        if (q !== bad) assertEquals(s(st3.loadMsg(q)!.msg), `v-${q - 1}`.padEnd(30, "."));
      }
      st3.stop();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("FileStore: an encrypted file stream restarts with its key; a wrong key leaves it unloaded and untouched", async () => {
  const storeDir = tmp();
  const opts = (key: string) => {
    const o = defaultOptions({ host: "127.0.0.1", port: 0, jetStream: true, storeDir });
    o.jetStreamOpts.key = key;
    o.jetStreamOpts.cipher = "aes";
    return o;
  };
  const errors: string[] = [];
  const log = new Logger({ quiet: true }, true);
  log.error = (m: string) => void errors.push(m);
  try {
    let srv = await startServer(opts("right-key"), { log });
    let nc = await connect({ servers: `127.0.0.1:${srv.port}` });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "ENC", subjects: ["enc.>"], storage: "file" as never });
    const js = jetstream(nc);
    for (let i = 0; i < 10; i++) await js.publish("enc.x", b(`secret-${i}`));
    await nc.close();
    await srv.shutdown();
    const dir = `${storeDir}/jetstream/$G/streams/ENC`;
    const before = Deno.readFileSync(`${dir}/msgs/1.blk`);
    srv = await startServer(opts("wrong-key"), { log });
    nc = await connect({ servers: `127.0.0.1:${srv.port}` });
    const names = await (await jetstreamManager(nc)).streams.names().next();
    assertEquals(names, []);
    assert(errors.some((e) => e.includes("ENC") && e.includes("key")), errors.join("\n"));
    await nc.close();
    await srv.shutdown();
    assertEquals(Deno.readFileSync(`${dir}/msgs/1.blk`), before);
    srv = await startServer(opts("right-key"), { log });
    nc = await connect({ servers: `127.0.0.1:${srv.port}` });
    const m = await (await jetstreamManager(nc)).streams.getMessage("ENC", { seq: 10 });
    assertEquals(s(m!.data), "secret-9");
    await nc.close();
    await srv.shutdown();
  } finally {
    Deno.removeSync(storeDir, { recursive: true });
  }
});

function reverseBits(x: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) r |= ((x >> i) & 1) << (7 - i);
  return r;
}

Deno.test("FileStore: every bit-reversed byte of the last block after a clean stop is reported, never cut as a torn tail", () => {
  const dir = tmp();
  try {
    const st = open1(dir, undefined, 1 << 20);
    for (let i = 0; i < 20; i++) st.storeMsg("foo", undefined, b("Hello World"));
    st.stop();
    const path = `${dir}/msgs/1.blk`;
    const dbPath = `${dir}/msgs/blocks.db`;
    const orig = Deno.readFileSync(path);
    const db = Deno.readFileSync(dbPath);
    let undetected = 0;
    for (let i = 0; i < orig.length; i++) {
      if (orig[i] === reverseBits(orig[i])) continue;
      const raw = orig.slice();
      raw[i] = reverseBits(raw[i]);
      Deno.writeFileSync(path, raw);
      Deno.writeFileSync(dbPath, db);
      const damage: FsDamage[] = [];
      const st2 = open1(dir, undefined, 1 << 20, damage);
      if (damage.length === 0) undetected++;
      st2.stop();
      Deno.writeFileSync(path, orig);
      Deno.writeFileSync(dbPath, db);
    }
    assertEquals(undetected, 0);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("FileStore: after damage in the last block, new messages go to a new block and survive a restart", () => {
  const dir = tmp();
  try {
    const st = open1(dir, undefined, 1 << 20);
    for (let i = 0; i < 10; i++) st.storeMsg("foo", undefined, b("Hello World"));
    st.stop();
    const path = `${dir}/msgs/1.blk`;
    const raw = Deno.readFileSync(path);
    raw[0] = reverseBits(raw[0]); // the first record's length field
    Deno.writeFileSync(path, raw);
    const damage: FsDamage[] = [];
    const st2 = open1(dir, undefined, 1 << 20, damage);
    assert(damage.length > 0, "the damage is reported");
    st2.storeMsg("foo", undefined, b("after"));
    st2.storeMsg("foo", undefined, b("after"));
    const last = st2.state().lastSeq;
    st2.stop();
    const st3 = open1(dir, undefined, 1 << 20);
    assertEquals(st3.state().lastSeq, last);
    assertEquals(s(st3.loadMsg(last)!.msg), "after");
    assertEquals(s(st3.loadMsg(last - 1)!.msg), "after");
    st3.stop();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("snappyDecodeInto() decodes what SnappyJS compresses, in place, and refuses cut or bad input", () => {
  const inputs: Uint8Array[] = [new Uint8Array(0), new Uint8Array(70_000).fill(7)];
  const rnd = new Uint8Array(50_000);
  crypto.getRandomValues(rnd);
  inputs.push(rnd);
  const mixed = new Uint8Array(65_536);
  for (let i = 0; i < mixed.length; i++) mixed[i] = i % 3 === 0 ? rnd[i % 997] : (i >> 4) & 0xff;
  inputs.push(mixed);
  for (const a of inputs) {
    const c = SnappyJS.compress(a) as Uint8Array;
    const out = new Uint8Array(a.length + 9).fill(0xee);
    assertEquals(snappyDecodeInto(c, out, 5), a.length);
    assertEquals(out.subarray(5, 5 + a.length), a);
    assertEquals(out[4], 0xee, "nothing written before");
    if (c.length > 8) assertThrows(() => snappyDecodeInto(c.subarray(0, c.length - 3), out, 0));
    if (a.length > 0) assertThrows(() => snappyDecodeInto(c, new Uint8Array(a.length - 1), 0));
  }
  // A copy reaching before the start of the output.
  assertThrows(() => snappyDecodeInto(new Uint8Array([4, 0x01, 0x05]), new Uint8Array(8), 0));
  // A block compressed as a whole still reads back through decompressBlock.
  assertEquals(decompressBlock(compressBlock(mixed)), mixed);
});

Deno.test("FileStore reclaims blocks under limits even when the producer never yields to the event loop", async () => {
  const dir = tmp();
  const maxBytes = 256 * 1024;
  const st = new FileStore(storeConfig({ storage: "file", maxBytes }), { dir, blockSize: 64 * 1024 });
  try {
    const payload = new Uint8Array(16 * 1024);
    // Rotation fdatasyncs, so most flushed() calls are already satisfied: only microtasks run in this loop.
    for (let q = 1; q <= 2000; q++) {
      st.storeMsg(`big.${q % 4}`, undefined, payload);
      if (q % 64 === 0) await st.flushed(q);
    }
    let disk = 0;
    for (const e of Deno.readDirSync(`${dir}/msgs`)) disk += Deno.statSync(`${dir}/msgs/${e.name}`).size;
    assert(disk < maxBytes * 2, `blocks not reclaimed: ${disk} bytes on disk for ${maxBytes} of messages`);
    assert(st.state().bytes <= maxBytes);
  } finally {
    st.stop();
    Deno.removeSync(dir, { recursive: true });
  }
});
