// Encrypted block rewrites take a new key: a block rewritten whole (compaction of removed messages, s2
// compression, a truncation of the active block, a torn tail cut at open) gets a new seed and keystream
// nonce in <N>.key, so copies of the block before and after never share a keystream. The swap of <N>.key and
// <N>.blk is crash-safe: every state a crash can leave on disk (simulated here from real before/after
// copies) opens with every message intact. Both ciphers, with and without s2 compression.

import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { FileStore, type FsEncryption } from "../../src/store/mod.ts";
import type { FileStoreLogger } from "../../src/store/_fs_blocks.ts";
import { openBlockKey, openStreamKey, xorAt } from "../../src/store/_fs_crypto.ts";
import { storeConfig } from "../_helpers/store_config.ts";
import { delay } from "../_helpers/server.ts";
import * as nc from "node:crypto";
import { xchacha20, xchacha20poly1305 } from "@noble/ciphers/chacha.js";

const te = new TextEncoder();
const td = new TextDecoder();

const quiet: FileStoreLogger = { warn: () => {}, error: () => {} };

interface Perm {
  name: string;
  enc: FsEncryption;
  comp: "none" | "s2";
}

const perms: Perm[] = [];
for (const cipher of ["chachapoly", "aes"] as const) {
  for (const comp of ["none", "s2"] as const) {
    perms.push({ name: `${cipher} ${comp}`, enc: { key: "rekey-k", cipher, account: "$G" }, comp });
  }
}

function openStore(dir: string, p: Perm, logger: FileStoreLogger = quiet): FileStore {
  return new FileStore(storeConfig({ storage: "file", compression: p.comp }), {
    dir,
    blockSize: 4096,
    encryption: p.enc,
    logger,
  });
}

function payload(i: number): Uint8Array {
  // Varied bytes (s2 still compresses them somewhat): the XOR check needs plaintexts that differ.
  return te.encode(`msg-${i}-`.padEnd(100, String.fromCharCode(97 + (i % 26))));
}

/** The keystream nonce at the front of a block's key file. */
function nonceOf(keyFile: Uint8Array, p: Perm): string {
  return [...keyFile.subarray(0, p.enc.cipher === "aes" ? 16 : 24)].join(",");
}

/** Decrypts a block file with its key file (still compressed when s2 compressed it). */
function decrypt(dir: string, p: Perm, idx: number, keyFile: Uint8Array, blk: Uint8Array): Uint8Array {
  const sk = openStreamKey(p.enc, "zzz", Deno.readFileSync(`${dir}/meta.key`), "meta.key").keys;
  const bk = openBlockKey(sk, idx, keyFile)!.key;
  const out = blk.slice();
  xorAt(bk.cipher, bk.seed, bk.nonce, 0, out);
  return out;
}

/**
 * Decrypts a block file as nats-server does, with independent code: the seed sealed in <N>.key under
 * HMAC-SHA256(key, account ‖ "<stream>:<N>") with the nonce in front, the records XORed from byte 0.
 */
function refDecrypt(p: Perm, idx: number, ek: Uint8Array, blk: Uint8Array): Uint8Array {
  const k = new Uint8Array(nc.createHmac("sha256", p.enc.key).update(`${p.enc.account}zzz:${idx}`).digest());
  if (p.enc.cipher === "chachapoly") {
    assertEquals(ek.length, 72);
    const nonce = ek.subarray(0, 24);
    return xchacha20(xchacha20poly1305(k, nonce).decrypt(ek.subarray(24)), nonce, blk);
  }
  assertEquals(ek.length, 64);
  const nonce = ek.subarray(0, 16);
  const d = nc.createDecipheriv("aes-256-gcm", k, nonce);
  d.setAuthTag(ek.subarray(48));
  const seed = new Uint8Array([...d.update(ek.subarray(16, 48)), ...d.final()]);
  return new Uint8Array(nc.createDecipheriv("aes-256-ctr", seed, nonce).update(blk));
}

function companions(dir: string): string[] {
  return [...Deno.readDirSync(`${dir}/msgs`)].map((e) => e.name).filter((n) => /\.(prev|tmp)$/.test(n));
}

/** Expected live messages: seq → payload. */
type Want = Map<number, Uint8Array>;

function checkAll(st: FileStore, want: Want, first: number, last: number, what: string): void {
  const s = st.state();
  assertEquals(s.msgs, want.size, `${what}: message count`);
  assertEquals(s.lastSeq, last, `${what}: last sequence`);
  for (let seq = first; seq <= last; seq++) {
    const w = want.get(seq);
    const m = st.loadMsg(seq);
    if (w === undefined) assertEquals(m, undefined, `${what}: sequence ${seq} was removed`);
    else assertEquals(td.decode(m?.msg), td.decode(w), `${what}: sequence ${seq}`);
  }
}

/**
 * Fills a store over several blocks, removes most messages of block 1 (a sealed block) and lets maintenance
 * rewrite it. Returns block 1's key and block files before and after the rewrite, and the live messages.
 */
async function compactBlock1(dir: string, p: Perm): Promise<{
  oldKey: Uint8Array;
  oldBlk: Uint8Array;
  newKey: Uint8Array;
  newBlk: Uint8Array;
  want: Want;
  last: number;
}> {
  const st = openStore(dir, p);
  const want: Want = new Map();
  for (let i = 1; i <= 150; i++) {
    st.storeMsg(`s.${i % 7}`, undefined, payload(i));
    want.set(i, payload(i));
  }
  await st.flushed(st.state().lastSeq);
  await delay(30); // s2: the sealed blocks are compressed in a maintenance pass
  const oldKey = Deno.readFileSync(`${dir}/msgs/1.key`);
  const oldBlk = Deno.readFileSync(`${dir}/msgs/1.blk`);
  assert(Deno.statSync(`${dir}/msgs/3.blk`).isFile, "at least three blocks");
  // Block 1 keeps sequence 1 and a few others: it is rewritten, not dropped.
  for (let q = 2; q <= 20; q++) {
    if (q % 6 !== 0) {
      assert(st.removeMsg(q));
      want.delete(q);
    }
  }
  await st.flushed(st.state().lastSeq);
  await delay(30);
  const newKey = Deno.readFileSync(`${dir}/msgs/1.key`);
  const newBlk = Deno.readFileSync(`${dir}/msgs/1.blk`);
  assert(newBlk.length < oldBlk.length, `block 1 rewritten smaller (${newBlk.length} >= ${oldBlk.length})`);
  checkAll(st, want, 1, 150, "before stop");
  st.stop();
  return { oldKey, oldBlk, newKey, newBlk, want, last: 150 };
}

for (const p of perms) {
  Deno.test(`FileStore ${p.name}: a compacted block is written under a new key and nonce`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "natsdeno-rekey-" });
    try {
      const r = await compactBlock1(dir, p);
      assertNotEquals(nonceOf(r.newKey, p), nonceOf(r.oldKey, p), "<N>.key nonce changed");
      // XOR of the two ciphertexts is not the XOR of the two plaintexts (the keystreams differ).
      const oldPlain = decrypt(dir, p, 1, r.oldKey, r.oldBlk);
      const newPlain = decrypt(dir, p, 1, r.newKey, r.newBlk);
      const n = Math.min(r.oldBlk.length, r.newBlk.length);
      let same = 0;
      for (let i = 0; i < n; i++) {
        if ((r.oldBlk[i] ^ r.newBlk[i]) === (oldPlain[i] ^ newPlain[i])) same++;
      }
      assert(same < n / 8, `${same} of ${n} bytes XOR like the plaintexts (keystream reused)`);
      // The new <N>.key is in the reference's layout: independent code opens it and decrypts the block.
      assertNotEquals(newPlain.length, 0);
      assertEquals(refDecrypt(p, 1, r.newKey, r.newBlk), newPlain);
      assertEquals(companions(dir), [], "no rewrite companions left");
      const st = openStore(dir, p);
      try {
        checkAll(st, r.want, 1, r.last, "reopened");
        assertEquals(st.damage.length, 0, JSON.stringify(st.damage));
      } finally {
        st.stop();
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

/** The crash states of a rewrite of block 1: which key and block files are on disk, and which companions. */
const crashStates: {
  name: string;
  files: (o: { oldKey: Uint8Array; oldBlk: Uint8Array; newKey: Uint8Array; newBlk: Uint8Array }) => Record<
    string,
    Uint8Array
  >;
  /** The key file the open must leave in 1.key. */
  keeps: "old" | "new";
}[] = [
  {
    name: "<N>.key.prev written in part",
    files: (o) => ({ "1.key": o.oldKey, "1.blk": o.oldBlk, "1.key.prev.tmp": o.oldKey.subarray(0, 20) }),
    keeps: "old",
  },
  {
    name: "<N>.key.prev written, temporary files written in part",
    files: (o) => ({
      "1.key": o.oldKey,
      "1.blk": o.oldBlk,
      "1.key.prev": o.oldKey,
      "1.key.tmp": o.newKey.subarray(0, 30),
      "1.blk.tmp": o.newBlk.subarray(0, 100),
    }),
    keeps: "old",
  },
  {
    name: "temporary files whole, nothing renamed",
    files: (o) => ({
      "1.key": o.oldKey,
      "1.blk": o.oldBlk,
      "1.key.prev": o.oldKey,
      "1.key.tmp": o.newKey,
      "1.blk.tmp": o.newBlk,
    }),
    keeps: "old",
  },
  {
    name: "new key renamed, old block (with <N>.key.prev)",
    files: (o) => ({ "1.key": o.newKey, "1.blk": o.oldBlk, "1.key.prev": o.oldKey, "1.blk.tmp": o.newBlk }),
    keeps: "old",
  },
  {
    name: "new block renamed before the new key (rename order lost)",
    files: (o) => ({ "1.key": o.oldKey, "1.blk": o.newBlk, "1.key.prev": o.oldKey, "1.key.tmp": o.newKey }),
    keeps: "new",
  },
  {
    name: "new key and new block, <N>.key.prev left over",
    files: (o) => ({ "1.key": o.newKey, "1.blk": o.newBlk, "1.key.prev": o.oldKey }),
    keeps: "new",
  },
];

for (const p of perms) {
  Deno.test(`FileStore ${p.name}: every crash state of a block rewrite opens with all messages`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "natsdeno-rekey-crash-" });
    try {
      const r = await compactBlock1(dir, p);
      assertNotEquals(nonceOf(r.newKey, p), nonceOf(r.oldKey, p), "the rewrite took a new key");
      const base = Deno.makeTempDirSync({ prefix: "natsdeno-rekey-base-" });
      try {
        // The store after the rewrite, without blocks.db's entry for block 1 (a crash in the rewrite comes
        // before blocks.db records the new file): recovery checks every record of block 1.
        const db = JSON.parse(Deno.readTextFileSync(`${dir}/msgs/blocks.db`));
        delete db["1"];
        Deno.writeTextFileSync(`${dir}/msgs/blocks.db`, JSON.stringify(db));
        for (const f of ["1.key", "1.blk"]) Deno.removeSync(`${dir}/msgs/${f}`);
        Deno.removeSync(base);
        await new Deno.Command("cp", { args: ["-a", dir, base] }).output();
        for (const cs of crashStates) {
          Deno.removeSync(dir, { recursive: true });
          await new Deno.Command("cp", { args: ["-a", base, dir] }).output();
          for (const [name, data] of Object.entries(cs.files(r))) {
            Deno.writeFileSync(`${dir}/msgs/${name}`, data);
          }
          const warned: string[] = [];
          const st = openStore(dir, p, { warn: (m) => warned.push(m), error: (m) => warned.push(m) });
          try {
            checkAll(st, r.want, 1, r.last, cs.name);
            const bad = st.damage.filter((d) => /key|unreadable|checksum|corrupt/.test(d.what));
            assertEquals(bad, [], `${cs.name}: ${JSON.stringify(st.damage)}`);
          } finally {
            st.stop();
          }
          assertEquals(companions(dir), [], `${cs.name}: companions removed`);
          const k = Deno.readFileSync(`${dir}/msgs/1.key`);
          assertEquals(
            nonceOf(k, p),
            nonceOf(cs.keeps === "old" ? r.oldKey : r.newKey, p),
            `${cs.name}: 1.key`,
          );
          // Opens again, now without any companion.
          const st2 = openStore(dir, p);
          try {
            checkAll(st2, r.want, 1, r.last, `${cs.name} (again)`);
          } finally {
            st2.stop();
          }
        }
      } finally {
        Deno.removeSync(base, { recursive: true });
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

for (const p of perms) {
  Deno.test(`FileStore ${p.name}: a truncated active block takes a new key before appends go on`, () => {
    const dir = Deno.makeTempDirSync({ prefix: "natsdeno-rekey-trunc-" });
    try {
      const st = openStore(dir, p);
      for (let i = 1; i <= 10; i++) st.storeMsg("foo", undefined, payload(i));
      const before = Deno.readFileSync(`${dir}/msgs/1.key`);
      st.truncate(5);
      const after = Deno.readFileSync(`${dir}/msgs/1.key`);
      assertNotEquals(nonceOf(after, p), nonceOf(before, p));
      // Sequences 6.. are written again at offsets the old keystream covered.
      for (let i = 6; i <= 12; i++) st.storeMsg("foo", undefined, te.encode(`again-${i}`));
      st.stop();
      const st2 = openStore(dir, p);
      try {
        assertEquals(st2.state().msgs, 12);
        assertEquals(td.decode(st2.loadMsg(5)!.msg), td.decode(payload(5)));
        assertEquals(td.decode(st2.loadMsg(9)!.msg), "again-9");
        assertEquals(st2.damage.length, 0);
      } finally {
        st2.stop();
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

for (const p of perms) {
  Deno.test(`FileStore ${p.name}: a torn tail cut at open takes a new key before appends go on`, () => {
    const dir = Deno.makeTempDirSync({ prefix: "natsdeno-rekey-torn-" });
    try {
      const st = openStore(dir, p);
      for (let i = 1; i <= 10; i++) st.storeMsg("foo", undefined, payload(i));
      st.stop();
      const before = Deno.readFileSync(`${dir}/msgs/1.key`);
      const blk = Deno.readFileSync(`${dir}/msgs/1.blk`);
      // A crash part way through the last record, and no clean-stop record of the block's size.
      Deno.writeFileSync(`${dir}/msgs/1.blk`, blk.subarray(0, blk.length - 40));
      Deno.removeSync(`${dir}/msgs/blocks.db`);
      const st2 = openStore(dir, p);
      try {
        assertEquals(st2.state().lastSeq, 9);
        assertNotEquals(nonceOf(Deno.readFileSync(`${dir}/msgs/1.key`), p), nonceOf(before, p));
        st2.storeMsg("foo", undefined, te.encode("after-cut"));
      } finally {
        st2.stop();
      }
      const st3 = openStore(dir, p);
      try {
        assertEquals(st3.state().msgs, 10);
        assertEquals(td.decode(st3.loadMsg(10)!.msg), "after-cut");
        assertEquals(td.decode(st3.loadMsg(9)!.msg), td.decode(payload(9)));
      } finally {
        st3.stop();
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

for (const p of perms) {
  Deno.test(`FileStore ${p.name}: a rewrite that fails part way leaves the block and its key as they were`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "natsdeno-rekey-fail-" });
    try {
      const errs: unknown[] = [];
      const st = new FileStore(storeConfig({ storage: "file", compression: p.comp }), {
        dir,
        blockSize: 4096,
        encryption: p.enc,
        logger: quiet,
        onError: (e) => errs.push(e),
      });
      const want: Want = new Map();
      for (let i = 1; i <= 150; i++) {
        st.storeMsg(`s.${i % 7}`, undefined, payload(i));
        want.set(i, payload(i));
      }
      await st.flushed(150);
      await delay(30);
      const oldKey = Deno.readFileSync(`${dir}/msgs/1.key`);
      const oldBlk = Deno.readFileSync(`${dir}/msgs/1.blk`);
      // The new block file cannot be created: the rewrite fails after <N>.key.prev was written.
      Deno.mkdirSync(`${dir}/msgs/1.blk.tmp`);
      for (let q = 2; q <= 20; q++) {
        if (q % 6 !== 0) {
          st.removeMsg(q);
          want.delete(q);
        }
      }
      await delay(30);
      assert(errs.length > 0, "the failed rewrite is reported");
      assertEquals(Deno.readFileSync(`${dir}/msgs/1.key`), oldKey);
      assertEquals(Deno.readFileSync(`${dir}/msgs/1.blk`), oldBlk);
      checkAll(st, want, 1, 150, "after the failed rewrite");
      st.stop();
      Deno.removeSync(`${dir}/msgs/1.blk.tmp`);
      const st2 = openStore(dir, p);
      try {
        checkAll(st2, want, 1, 150, "reopened");
      } finally {
        st2.stop();
      }
      assertEquals(companions(dir), []);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}
