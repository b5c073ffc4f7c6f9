// Encrypted FileStore directories in the reference's key layout (inventory §8): side by side with nats-server
// 2.9.10 (skipped with a message when it is not on PATH) for both ciphers, prev_key rotation over a
// directory nats-server wrote, and unit checks of the key files (AES-GCM with 16-byte nonces: 64-byte key
// files) and of natsdeno's earlier layout (12-byte AES-GCM nonces, block seeds sealed under the stream key
// with the keystream nonce at the front of the block file), which still opens.

import { assert, assertEquals } from "@std/assert";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { FileStore, type FsEncryption } from "../../src/store/mod.ts";
import { storeConfig } from "../_helpers/store_config.ts";
import {
  blockNonceLen,
  kek,
  open,
  openBlockKey,
  openStreamKey,
  randomBytes,
  seal,
  xorAt,
} from "../../src/store/_fs_crypto.ts";
import { natsServerPath } from "../_helpers/ref_server.ts";
import { checkFor } from "../_helpers/server.ts";
import { api, withGo, withNatsdeno } from "./_conf_servers.ts";
import * as nc from "node:crypto";
import { xchacha20, xchacha20poly1305 } from "@noble/ciphers/chacha.js";

const te = new TextEncoder();
const td = new TextDecoder();
const b = (x: string) => te.encode(x);
const s = (x: Uint8Array | undefined) => td.decode(x);

// deno-lint-ignore no-explicit-any
type Json = any;

const N = 100;

/** Every message of stream TEST as the server's STREAM.MSG.GET answers it (subject, data, headers). */
async function allMsgs(c: NatsConnection, first: number, last: number): Promise<Json[]> {
  const out: Json[] = [];
  for (let seq = first; seq <= last; seq++) {
    const r = await api(c, "$JS.API.STREAM.MSG.GET.TEST", { seq });
    assert(r.message !== undefined, `seq ${seq}: ${JSON.stringify(r)}`);
    const { subject, data, hdrs } = r.message;
    out.push({ seq, subject, data, hdrs });
  }
  return out;
}

/** Stream TEST (file storage, several blocks), N messages, durable "dlc" with 30 delivered and 10 acked. */
async function fillGo(c: NatsConnection): Promise<{ si: Json; ci: Json; msgs: Json[] }> {
  const cr = await api(c, "$JS.API.STREAM.CREATE.TEST", {
    name: "TEST",
    subjects: ["foo.*"],
    storage: "file",
    // Small blocks: the stream spans several block files, each with its own key.
    max_bytes: 120_000,
  });
  assert(cr.error === undefined, JSON.stringify(cr));
  for (let i = 0; i < N; i++) {
    const h = headers();
    h.set("X-Idx", `${i}`);
    const body = b(`secret-${i}-`.padEnd(800 + (i % 17), String.fromCharCode(97 + (i % 26))));
    const ack = JSON.parse(s((await c.request(`foo.${i % 5}`, body, { timeout: 3_000, headers: h })).data));
    assertEquals(ack.seq, i + 1);
  }
  const cc = await api(c, "$JS.API.CONSUMER.DURABLE.CREATE.TEST.dlc", {
    stream_name: "TEST",
    config: { durable_name: "dlc", ack_policy: "explicit", ack_wait: 60_000_000_000 },
  });
  assert(cc.error === undefined, JSON.stringify(cc));
  const inbox = `_INBOX.gocrypto.${crypto.randomUUID()}`;
  const sub = c.subscribe(inbox, { max: 30 });
  c.publish("$JS.API.CONSUMER.MSG.NEXT.TEST.dlc", b(JSON.stringify({ batch: 30, expires: 2_000_000_000 })), {
    reply: inbox,
  });
  let got = 0;
  for await (const m of sub) {
    got++;
    if (got <= 10) c.publish(m.reply!, b("+ACK"));
  }
  assertEquals(got, 30);
  await c.flush();
  // Acks are processed asynchronously: wait until the ack floor shows them.
  let ci: Json;
  await checkFor(3_000, 20, async () => {
    ci = await api(c, "$JS.API.CONSUMER.INFO.TEST.dlc");
    assertEquals(ci.ack_floor.stream_seq, 10);
  });
  const si = await api(c, "$JS.API.STREAM.INFO.TEST");
  return { si, ci: ci!, msgs: await allMsgs(c, 1, N) };
}

function storeDirOf(root: string): string {
  return `${root}/jetstream/$G/streams/TEST`;
}

function keyFileSizes(root: string): number[] {
  const sdir = storeDirOf(root);
  const out = [Deno.statSync(`${sdir}/meta.key`).size, Deno.statSync(`${sdir}/obs/dlc/meta.key`).size];
  for (const e of Deno.readDirSync(`${sdir}/msgs`)) {
    if (e.name.endsWith(".key")) out.push(Deno.statSync(`${sdir}/msgs/${e.name}`).size);
  }
  return out;
}

function blockCount(root: string): number {
  return [...Deno.readDirSync(`${storeDirOf(root)}/msgs`)].filter((e) => e.name.endsWith(".blk")).length;
}

async function checkSameAsGo(c: NatsConnection, go: { si: Json; ci: Json; msgs: Json[] }): Promise<void> {
  const si = await api(c, "$JS.API.STREAM.INFO.TEST");
  assert(si.error === undefined, JSON.stringify(si));
  assertEquals(si.created, go.si.created);
  for (const k of ["messages", "bytes", "first_seq", "last_seq", "num_subjects"]) {
    assertEquals(si.state[k], go.si.state[k], `state.${k}`);
  }
  assertEquals(si.state.messages, N);
  const ci = await api(c, "$JS.API.CONSUMER.INFO.TEST.dlc");
  assert(ci.error === undefined, JSON.stringify(ci));
  // last_active is not part of the stored state (nats-server does not keep it over a restart either).
  const seqs = (x: Json) => [x.consumer_seq, x.stream_seq];
  assertEquals(seqs(ci.ack_floor), seqs(go.ci.ack_floor));
  assertEquals(seqs(ci.delivered), seqs(go.ci.delivered));
  assertEquals(ci.num_ack_pending, go.ci.num_ack_pending);
  assertEquals(ci.num_pending, go.ci.num_pending);
  assertEquals([ci.ack_floor.stream_seq, ci.delivered.stream_seq, ci.num_ack_pending], [10, 30, 20]);
  const msgs = await allMsgs(c, 1, N);
  assertEquals(msgs.length, go.msgs.length);
  for (let i = 0; i < msgs.length; i++) assertEquals(msgs[i], go.msgs[i], `message ${i + 1}`);
  assert(s(Uint8Array.from(atob(msgs[N - 1].data), (ch) => ch.charCodeAt(0))).startsWith(`secret-${N - 1}-`));
}

async function sideBySide(cipher: "chachapoly" | "aes", goReadsAppends: boolean): Promise<void> {
  const exe = natsServerPath();
  if (exe === undefined) {
    // deno-lint-ignore no-console
    console.warn("nats-server not on PATH: side-by-side encrypted store test skipped");
    return;
  }
  const root = await Deno.makeTempDir({ prefix: "natsdeno-gocrypto-" });
  try {
    const jsConf = (key: string, prev?: string) =>
      `jetstream: {store_dir: '${root}', key: "${key}"${
        prev !== undefined ? `, prev_key: "${prev}"` : ""
      }, cipher: ${cipher}}`;
    const go = await withGo(exe, jsConf("go-s3cr3t"), fillGo);
    // The reference's key files: nonce ‖ sealed 32-byte seed ‖ tag; AES-GCM nonces are 16 bytes.
    const want = cipher === "aes" ? 64 : 72;
    assert(blockCount(root) >= 3, `blocks: ${blockCount(root)}`);
    for (const n of keyFileSizes(root)) assertEquals(n, want);
    await withNatsdeno(jsConf("go-s3cr3t"), (c) => checkSameAsGo(c, go));

    // Key rotation: natsdeno opens the directory with a new key and the old one as prev_key, re-seals every
    // key file (meta.key, obs/dlc/meta.key, each <N>.key), then opens it with the new key alone.
    await withNatsdeno(jsConf("rotated-k2", "go-s3cr3t"), (c) => checkSameAsGo(c, go));
    await withNatsdeno(jsConf("rotated-k2"), (c) => checkSameAsGo(c, go));
    for (const n of keyFileSizes(root)) assertEquals(n, want);
    // nats-server 2.9.10 (it has no prev_key) opens the re-sealed directory with the new key alone.
    await withGo(exe, jsConf("rotated-k2"), (c) => checkSameAsGo(c, go));

    if (!goReadsAppends) return;
    // natsdeno appends into a block of its own making; nats-server decrypts it with natsdeno's <N>.key.
    const more = await withNatsdeno(jsConf("rotated-k2"), async (c) => {
      for (let i = 0; i < 40; i++) {
        const ack = JSON.parse(s((await c.request("foo.9", b(`more-${i}`.padEnd(200, "z")))).data));
        assertEquals(ack.seq, N + 1 + i);
      }
      return await allMsgs(c, N + 1, N + 40);
    });
    for (const n of keyFileSizes(root)) assertEquals(n, want);
    // Not about encryption (an unencrypted directory does the same): nats-server 2.9 trusts its own
    // per-block <N>.idx/<N>.fss summaries, which natsdeno does not update when it appends, so they go
    // before nats-server reads the blocks again.
    const mdir = `${storeDirOf(root)}/msgs`;
    for (const e of [...Deno.readDirSync(mdir)]) {
      if (/\.(idx|fss)$/.test(e.name)) Deno.removeSync(`${mdir}/${e.name}`);
    }
    await withGo(exe, jsConf("rotated-k2"), async (c) => {
      const si = await api(c, "$JS.API.STREAM.INFO.TEST");
      assertEquals([si.state.messages, si.state.first_seq, si.state.last_seq], [N + 40, 1, N + 40]);
      assertEquals(await allMsgs(c, N + 1, N + 40), more);
      assertEquals(await allMsgs(c, 1, N), go.msgs);
      const ci = await api(c, "$JS.API.CONSUMER.INFO.TEST.dlc");
      assertEquals(ci.ack_floor.stream_seq, 10);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

for (const cipher of ["chachapoly", "aes"] as const) {
  Deno.test(
    `nats-server 2.9.10 encrypted store (${cipher}) opens in natsdeno: messages, state, consumer, prev_key`,
    () => sideBySide(cipher, false),
  );
}

// blocked: nats-server cannot read the records natsdeno writes (their checksum is natsdeno's own whole-record
// checksum, README "What does not work yet"): after natsdeno appends 40 messages, nats-server 2.9.10 restores
// 100 of the 140 with last_seq 133 and no warning, exactly as for an unencrypted directory. Not encryption: the
// key files natsdeno writes or re-seals open in nats-server (the test above), and the block layout is checked
// with independent code below.
for (const cipher of ["chachapoly", "aes"] as const) {
  Deno.test({
    name: `nats-server 2.9.10 reads an encrypted store natsdeno appended to (${cipher})`,
    ignore: true,
    fn: () => sideBySide(cipher, true),
  });
}

const AES: FsEncryption = { key: "unit-k1", cipher: "aes", account: "$G" };

function tmp(): string {
  return Deno.makeTempDirSync({ prefix: "natsdeno-gocrypto-unit-" });
}

function openStore(dir: string, enc: FsEncryption): FileStore {
  return new FileStore(storeConfig({ storage: "file" }), { dir, blockSize: 4096, encryption: enc });
}

Deno.test("FileStore AES key files are 64 bytes (16-byte GCM nonce) and open again", () => {
  const dir = tmp();
  try {
    const st = openStore(dir, AES);
    for (let i = 0; i < 100; i++) st.storeMsg("foo", undefined, b(`m${i}`.padEnd(100, "x")));
    st.stop();
    const keys = [
      `${dir}/meta.key`,
      ...[...Deno.readDirSync(`${dir}/msgs`)].filter((e) => e.name.endsWith(".key"))
        .map((e) => `${dir}/msgs/${e.name}`),
    ];
    assert(keys.length >= 3, `${keys.length} key files`);
    for (const k of keys) assertEquals(Deno.statSync(k).size, 64, k);
    // The block file holds only records (no nonce in front): its length is the records' length.
    const st2 = openStore(dir, AES);
    assertEquals(st2.state().msgs, 100);
    assertEquals(s(st2.loadMsg(73)!.msg).slice(0, 3), "m72");
    st2.stop();
    // meta.key opens with the reference's scheme: the KEK of the stream name, a 16-byte nonce.
    const raw = Deno.readFileSync(`${dir}/meta.key`);
    const k = kek(AES.key, AES.account, "zzz");
    const d = nc.createDecipheriv("aes-256-gcm", k, raw.subarray(0, 16));
    d.setAuthTag(raw.subarray(48));
    assertEquals(new Uint8Array([...d.update(raw.subarray(16, 48)), ...d.final()]).length, 32);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/**
 * Rewrites an encrypted store in natsdeno's earlier layout: AES-GCM with 12-byte nonces (60-byte key files),
 * block seeds sealed under the stream's AEK, the keystream nonce at the front of each block file.
 */
function toEarlierLayout(dir: string, enc: FsEncryption, name: string): void {
  const c = enc.cipher;
  const legacySeal = (key: Uint8Array, plain: Uint8Array) => {
    if (c === "chachapoly") return seal(c, key, plain);
    const nonce = randomBytes(12);
    const ci = nc.createCipheriv("aes-256-gcm", key, nonce);
    const body = ci.update(plain);
    ci.final();
    return new Uint8Array([...nonce, ...body, ...ci.getAuthTag()]);
  };
  const r = openStreamKey(enc, name, Deno.readFileSync(`${dir}/meta.key`), "meta.key");
  const aek = r.keys.aek;
  Deno.writeFileSync(`${dir}/meta.key`, legacySeal(kek(enc.key, enc.account, name), aek));
  try {
    const meta = open(c, aek, Deno.readFileSync(`${dir}/meta.inf`))!;
    Deno.writeFileSync(`${dir}/meta.inf`, legacySeal(aek, meta));
    Deno.removeSync(`${dir}/meta.sum`);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  for (const e of [...Deno.readDirSync(`${dir}/msgs`)]) {
    const m = /^(\d+)\.blk$/.exec(e.name);
    if (m === null) continue;
    const idx = Number(m[1]);
    const bk = openBlockKey(r.keys, idx, Deno.readFileSync(`${dir}/msgs/${idx}.key`))!.key;
    const data = Deno.readFileSync(`${dir}/msgs/${e.name}`);
    xorAt(c, bk.seed, bk.nonce, 0, data);
    const nonce = randomBytes(blockNonceLen(c));
    xorAt(c, bk.seed, nonce, 0, data);
    Deno.writeFileSync(`${dir}/msgs/${e.name}`, new Uint8Array([...nonce, ...data]));
    Deno.writeFileSync(`${dir}/msgs/${idx}.key`, legacySeal(aek, bk.seed));
  }
  Deno.removeSync(`${dir}/msgs/blocks.db`);
}

for (const enc of [AES, { ...AES, cipher: "chachapoly" as const }]) {
  const keyLen = enc.cipher === "aes" ? 64 : 72;
  const oldLen = enc.cipher === "aes" ? 60 : 72;
  Deno.test(`FileStore opens natsdeno's earlier ${enc.cipher} layout (sealed seeds, nonce-prefixed blocks) and appends`, () => {
    const dir = tmp();
    try {
      const st = openStore(dir, enc);
      st.storeMsg("foo", undefined, b("first"));
      for (let i = 1; i < 60; i++) st.storeMsg("foo", undefined, b(`m${i}`.padEnd(120, "y")));
      st.stop();
      const blk1 = Deno.statSync(`${dir}/msgs/1.blk`).size;
      toEarlierLayout(dir, enc, "zzz");
      assertEquals(Deno.statSync(`${dir}/msgs/1.blk`).size, blk1 + blockNonceLen(enc.cipher));
      assertEquals(Deno.statSync(`${dir}/meta.key`).size, oldLen);
      assertEquals(Deno.statSync(`${dir}/msgs/1.key`).size, oldLen);
      const st2 = openStore(dir, enc);
      assertEquals(st2.state().msgs, 60);
      assertEquals(s(st2.loadMsg(1)!.msg), "first");
      for (let i = 0; i < 30; i++) st2.storeMsg("foo", undefined, b(`after-${i}`));
      st2.stop();
      // An AES meta.key is re-sealed in the reference's 64-byte form; the earlier blocks keep their layout.
      assertEquals(Deno.statSync(`${dir}/meta.key`).size, keyLen);
      assertEquals(Deno.statSync(`${dir}/msgs/1.key`).size, oldLen);
      assertEquals(Deno.statSync(`${dir}/msgs/1.blk`).size, blk1 + blockNonceLen(enc.cipher));
      const st3 = openStore(dir, enc);
      assertEquals(st3.state().msgs, 90);
      assertEquals(s(st3.loadMsg(1)!.msg), "first");
      assertEquals(s(st3.loadMsg(90)!.msg), "after-29");
      st3.stop();
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("FileStore opens AES blobs sealed with 12-byte nonces and seals new ones with 16", () => {
  const key = randomBytes(32);
  const blob = seal("aes", key, b("hello"));
  assertEquals(blob.length, 16 + 5 + 16);
  assertEquals(s(open("aes", key, blob)), "hello");
  const nonce = randomBytes(12);
  const ci = nc.createCipheriv("aes-256-gcm", key, nonce);
  const body = ci.update(b("older"));
  ci.final();
  const legacy = new Uint8Array([...nonce, ...body, ...ci.getAuthTag()]);
  assertEquals(s(open("aes", key, legacy)), "older");
  legacy[14] ^= 1;
  assertEquals(open("aes", key, legacy), undefined);
  assertEquals(open("aes", randomBytes(32), blob), undefined);
});

// The block layout checked with independent code (@noble/ciphers for XChaCha, node:crypto's GCM and CTR):
// <N>.key = nonce ‖ seed sealed under HMAC-SHA256(key, account ‖ "<stream>:<N>"), the block file = records
// XORed from byte 0 with the seed's keystream under that same nonce.
for (const cipher of ["chachapoly", "aes"] as const) {
  Deno.test(`FileStore ${cipher} block files and <N>.key follow the reference's layout`, () => {
    const dir = tmp();
    try {
      const enc: FsEncryption = { key: "layout-k", cipher, account: "ACC" };
      const st = openStore(dir, enc);
      for (let i = 0; i < 50; i++) st.storeMsg(`subj.${i}`, undefined, b(`payload-${i}`.padEnd(150, "q")));
      st.stop();
      const blks = [...Deno.readDirSync(`${dir}/msgs`)].map((e) => /^(\d+)\.blk$/.exec(e.name)).filter((m) =>
        m !== null
      ).map((m) => Number(m![1]));
      assert(blks.length >= 2);
      for (const idx of blks) {
        const ek = Deno.readFileSync(`${dir}/msgs/${idx}.key`);
        const k = new Uint8Array(nc.createHmac("sha256", "layout-k").update(`ACCzzz:${idx}`).digest());
        const blk = Deno.readFileSync(`${dir}/msgs/${idx}.blk`);
        let plain: Uint8Array;
        if (cipher === "chachapoly") {
          assertEquals(ek.length, 72);
          const nonce = ek.subarray(0, 24);
          const seed = xchacha20poly1305(k, nonce).decrypt(ek.subarray(24));
          plain = xchacha20(seed, nonce, blk);
        } else {
          assertEquals(ek.length, 64);
          const nonce = ek.subarray(0, 16);
          const d = nc.createDecipheriv("aes-256-gcm", k, nonce);
          d.setAuthTag(ek.subarray(48));
          const seed = new Uint8Array([...d.update(ek.subarray(16, 48)), ...d.final()]);
          plain = new Uint8Array(nc.createDecipheriv("aes-256-ctr", seed, nonce).update(blk));
        }
        // The first record: total length, sequence, time, subject length, subject.
        const dv = new DataView(plain.buffer, plain.byteOffset);
        const seq = Number(dv.getBigUint64(4, true));
        const sl = dv.getUint16(20, true);
        assertEquals(s(plain.subarray(22, 22 + sl)), `subj.${seq - 1}`);
        assertEquals(dv.getUint32(0, true) & 0x7fffffff, 22 + sl + 150 + 8);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}
