// Ports of the nats-server server/filestore_test.go tests added after 2.9.10 (the current upstream file), in
// Go's order, part 2 of 2 (see filestore_go2_test.ts for part 1 and the conventions).
import { assert, assertEquals } from "@std/assert";
import { type FileStore } from "../../src/store/filestore.ts";
import { b, s } from "./store_suite.ts";
import {
  AES_ENC,
  blocked,
  Ctx,
  fill,
  msgBytes,
  now,
  type Perm,
  PERMS,
  permTest,
  PLAIN,
  recLen,
  settle,
  st,
  storeErrCode,
  withFs,
} from "./_fs_go_helpers.ts";
import { Nuid } from "../../src/util/mod.ts";
import { checkFor, delay } from "../_helpers/server.ts";
import { isCompressed, RecBuf, subjBytes, TBIT } from "../../src/store/msg_block.ts";
import { sha256Key } from "../../src/store/_fs_crypto.ts";

const EMPTY = new Uint8Array(0);
/** A payload making a 512-byte record with a 3-char subject: two fill a 1024-byte block. */
const HALF = fill(512 - recLen("foo", 0));
/** A payload making a 1024-byte record with a 3-char subject: one fills a block. */
const FULL = fill(1024 - recLen("foo", 0));
/** A payload making a 102-byte record with a 3-char subject: ten fill a 1024-byte block, an eleventh does not fit. */
const TENTH = fill(102 - recLen("foo", 0));
const ROOT = Deno.uid() === 0;
const PLAIN_S2 = [PERMS[0], PERMS[1]];

/** Restarts twice (with blocks.db, then without) and checks the state is unchanged each time. */
function restartSame(ctx: Ctx): void {
  const want = st(ctx.fs.state());
  assertEquals(st(ctx.reopen().state()), want, "after a restart");
  ctx.fs.stop();
  ctx.rmIndex();
  assertEquals(st(ctx.reopen().state()), want, "after a restart without blocks.db");
}

/** Appends one record to a plain block file (a write the store did not see, as after a hard kill). */
function appendRecord(
  ctx: Ctx,
  idx: number,
  seq: number,
  flags: number,
  subj = "",
  msg: Uint8Array = EMPTY,
): void {
  const rb = new RecBuf(256);
  rb.append(seq, flags, now(), subjBytes(subj), undefined, msg, sha256Key(`${ctx.cfg.name}-${idx}`));
  const f = Deno.openSync(ctx.blockPath(idx), { append: true });
  f.writeSync(rb.buf.subarray(0, rb.len));
  f.close();
}

blocked(
  "TestFileStoreWriteFullStateDetectCorruptState",
  "checks Go's cross-check of msgBlock counts against fs state when writing index.db; natsdeno has no index.db",
);

Deno.test("TestFileStoreRecoverFullStateDetectCorruptState: a blocks.db that disagrees with a block makes recovery check its records", () =>
  withFs({ subjects: ["foo.*"] }, (fs, ctx) => {
    for (let i = 1; i <= 10; i++) fs.storeMsg(`foo.${i}`, undefined, b("abc"));
    fs.stop();
    const db = JSON.parse(new TextDecoder().decode(ctx.readIndex()!));
    for (const k of Object.keys(db)) db[k].s += 33; // a wrong size with a well-formed entry
    ctx.writeIndex(new TextEncoder().encode(JSON.stringify(db)));
    const state = ctx.reopen().state();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq], [10, 1, 10]);
    for (let q = 1; q <= 10; q++) assertEquals(s(ctx.fs.loadMsg(q)!.msg), "abc");
  }));

blocked(
  "TestFileStoreResetConsumerToStreamState",
  "blocked: ConsumerStore has no forceUpdate() (Go ForceUpdate)",
);
Deno.test("TestFileStoreNumPendingMulti: pending count over 5000 literal filters equals a scan", () =>
  withFs({ subjects: ["ev.*"] }, (fs) => {
    const totalMsgs = 100_000;
    const totalSubjects = 10_000;
    const numFiltered = 5000;
    // Deterministic stand-in for Go's math/rand.
    let x = 11;
    const rand = (n: number) => (x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff) % n;
    const startSeq = 5_000 + rand(90_000);
    const nuid = new Nuid();
    const subjects: string[] = [];
    for (let i = 0; i < totalSubjects; i++) subjects.push(`ev.${nuid.next()}`);
    const msg = b("ZZZ".repeat(333));
    for (let i = 0; i < totalMsgs; i++) fs.storeMsg(subjects[rand(totalSubjects)], undefined, msg);
    // Go fills a sublist with distinct filters; natsdeno takes them as a list of subjects.
    const filters = new Set<string>();
    while (filters.size < numFiltered) filters.add(subjects[rand(totalSubjects)]);
    const { total } = fs.numPendingMulti(startSeq, [...filters], false);
    let check = 0;
    for (let seq = startSeq; seq <= totalMsgs; seq++) {
      const sm = fs.loadMsg(seq);
      assert(sm !== undefined, `seq ${seq}`);
      if (filters.has(sm.subject)) check++;
    }
    assertEquals(total, check, `from ${startSeq}`);
  }));

Deno.test("TestFileStoreMessageTTL: messages with a per-message TTL expire", () =>
  withFs({ subjects: ["test"], allowMsgTtl: true }, async (fs) => {
    for (let i = 1; i <= 10; i++) fs.storeMsg("test", undefined, EMPTY, 1_000_000_000n);
    let ss = fs.fastState();
    assertEquals([ss.firstSeq, ss.lastSeq, ss.msgs], [1, 10, 10]);
    await checkFor(3_000, 50, () => {
      ss = fs.fastState();
      assertEquals([ss.firstSeq, ss.lastSeq, ss.msgs], [11, 10, 0]);
    });
  }));

Deno.test("TestFileStoreMessageTTLRestart: TTLs survive a restart", () =>
  withFs({ subjects: ["test"], allowMsgTtl: true }, async (fs, ctx) => {
    for (let i = 1; i <= 10; i++) fs.storeMsg("test", undefined, EMPTY, 1_000_000_000n);
    const fs2 = ctx.reopen();
    let ss = fs2.fastState();
    assertEquals([ss.firstSeq, ss.lastSeq, ss.msgs], [1, 10, 10]);
    await checkFor(3_000, 50, () => {
      ss = fs2.fastState();
      assertEquals([ss.firstSeq, ss.lastSeq, ss.msgs], [11, 10, 0]);
    });
  }));

Deno.test("TestFileStoreMessageTTLRecovered: TTLs come back from the blocks, the first message without one stays", () =>
  withFs({ subjects: ["test"], allowMsgTtl: true }, async (fs, ctx) => {
    // natsdeno journals each message's TTL next to it in the block (no thw.db to lose).
    fs.storeMsg("test", undefined, EMPTY);
    const hdr = b("NATS/1.0\r\nNats-TTL: 1\r\n\r\n");
    for (let i = 0; i < 9; i++) fs.storeMsg("test", hdr, EMPTY, 1_000_000_000n);
    fs.stop();
    ctx.rmIndex();
    const fs2 = ctx.reopen();
    let ss = fs2.fastState();
    assertEquals([ss.firstSeq, ss.lastSeq, ss.msgs], [1, 10, 10]);
    await checkFor(3_000, 50, () => {
      ss = fs2.fastState();
      assertEquals([ss.firstSeq, ss.lastSeq, ss.msgs], [1, 10, 1]);
    });
  }));

Deno.test("TestFileStoreMessageTTLRecoveredSingleMessageWithoutStreamState: one TTL message recovered from its block expires", () =>
  withFs({ subjects: ["test"], allowMsgTtl: true }, async (fs, ctx) => {
    fs.storeMsg("test", b("NATS/1.0\r\nNats-TTL: 1\r\n\r\n"), EMPTY, 1_000_000_000n);
    fs.stop();
    ctx.rmIndex();
    const fs2 = ctx.reopen();
    let ss = fs2.fastState();
    assertEquals([ss.firstSeq, ss.lastSeq, ss.msgs], [1, 1, 1]);
    await checkFor(3_000, 50, () => {
      ss = fs2.fastState();
      assertEquals([ss.firstSeq, ss.lastSeq, ss.msgs], [2, 1, 0]);
    });
  }));

Deno.test("TestFileStoreMessageTTLWriteTombstone: a TTL expiry is recorded so a rebuild does not bring the message back", () =>
  withFs({ subjects: ["test"], allowMsgTtl: true }, async (fs, ctx) => {
    fs.storeMsg("test", b("NATS/1.0\r\nNats-TTL: 1\r\n\r\n"), EMPTY, 1_000_000_000n);
    fs.storeMsg("test", undefined, EMPTY);
    await checkFor(3_000, 50, () => assertEquals(fs.state().firstSeq, 2));
    let ss = fs.fastState();
    assertEquals([ss.msgs, ss.firstSeq, ss.lastSeq], [1, 2, 2]);
    fs.stop();
    ctx.rmIndex();
    ss = ctx.reopen().fastState();
    assertEquals([ss.msgs, ss.firstSeq, ss.lastSeq], [1, 2, 2]);
  }));

blocked(
  "TestFileStoreMessageTTLRecoveredOffByOne",
  "checks Go's time hash wheel (thw.db) entries at restart",
);
Deno.test("TestFileStoreDontSpamCompactWhenMostlyTombstones: a block of one message and many needed tombstones is not rewritten over and over", async () => {
  // Go checks shouldCompactInline/cbytes; natsdeno's equivalent is which block files maintenance replaces.
  await withFs({ subjects: ["foo"] }, async (fs, ctx) => {
    for (let i = 0; i < 60; i++) fs.storeMsg("foo", undefined, TENTH); // six blocks
    // Tombstones for the interior of the first five blocks fill the sixth block and spill into new ones.
    for (let q = 2; q <= 50; q++) if (q % 10 !== 1 && q % 10 !== 0) fs.removeMsg(q);
    fs.storeMsg("foo", undefined, TENTH);
    await settle();
    const files = ctx.blockFiles();
    const ino = () => files.map((i) => Deno.statSync(ctx.blockPath(i)).ino);
    const before = ino();
    for (let i = 0; i < 5; i++) {
      fs.removeMsg(55 + i); // keeps scheduling passes
      await settle(5);
    }
    const after = ino();
    // Blocks 1..5 were rewritten once (two live records each); none of them again.
    assertEquals(after.slice(0, 5), before.slice(0, 5));
    const state = st(fs.state());
    assertEquals(st(ctx.reopen().state()), state);
  }, { blockSize: 1024 });
});
blocked(
  "TestFileStoreSubjectDeleteMarkers",
  "blocked: natsdeno places subject delete markers in jetstream, the store has no marker callback (Go fs.pmsgcb)",
);
blocked("TestFileStoreSubjectDeleteMarkerReplacedOnPublish", "blocked: as TestFileStoreSubjectDeleteMarkers");
blocked("TestFileStoreSubjectDeleteMarkerTrackingNoLeaks", "blocked: as TestFileStoreSubjectDeleteMarkers");

Deno.test({
  name:
    "TestFileStoreStoreRawMessageThrowsPermissionErrorIfFSModeReadOnly: a read-only directory fails the store",
  // Root ignores directory permissions.
  ignore: ROOT,
  fn: () =>
    withFs({ subjects: ["ev.1"] }, (fs, ctx) => {
      Deno.chmodSync(ctx.mdir, 0o555);
      try {
        let code = "";
        const msg = fill(1024);
        for (let i = 0; i < 100 && code === ""; i++) {
          code = storeErrCode(() => fs.storeMsg("ev.1", undefined, msg));
        }
        assertEquals(code, "io");
      } finally {
        Deno.chmodSync(ctx.mdir, 0o755);
      }
    }, { blockSize: 1024 }),
});

Deno.test({
  name:
    "TestFileStoreWriteFullStateThrowsPermissionErrorIfFSModeReadOnly: stop on a read-only directory reports, data stays",
  ignore: ROOT,
  fn: () =>
    withFs({ subjects: ["ev.1"] }, (fs, ctx) => {
      for (let i = 0; i < 100; i++) fs.storeMsg("ev.1", undefined, fill(1024));
      const errs: unknown[] = [];
      (ctx.opts as { onError?: (e: unknown) => void }).onError = (e) => errs.push(e);
      Deno.chmodSync(ctx.mdir, 0o555);
      try {
        fs.stop();
      } finally {
        Deno.chmodSync(ctx.mdir, 0o755);
      }
      assertEquals(ctx.reopen().state().msgs, 100);
    }, { blockSize: 16 * 1024 }),
});

Deno.test("TestFileStoreLeftoverSkipMsgInDmap: a store holding only a skip recovers it as no deletes", () =>
  withFs({ subjects: ["test.*"], maxMsgsPerSubject: 1 }, (fs, ctx) => {
    fs.skipMsg();
    const check = (state = ctx.fs.state()) =>
      assertEquals([state.firstSeq, state.lastSeq, state.numDeleted], [2, 1, 0]);
    check();
    fs.stop();
    ctx.rmIndex();
    ctx.reopen();
    check();
  }));

permTest("TestFileStoreRecoverOnlyBlkFiles: files that only look like blocks are ignored", {
  subjects: ["foo"],
}, (fs, ctx) => {
  fs.storeMsg("foo", undefined, EMPTY);
  const before = st(fs.state());
  assertEquals([before.msgs, before.firstSeq, before.lastSeq], [1, 1, 1]);
  assertEquals(st(ctx.reopen().state()), before);
  assert(ctx.readIndex() !== undefined);
  ctx.fs.stop();
  Deno.writeFileSync(`${ctx.mdir}/10.blk.random`, EMPTY);
  Deno.writeFileSync(`${ctx.mdir}/10.blk.tmp`, EMPTY);
  assertEquals(st(ctx.reopen().state()), before);
  assert(ctx.readIndex() !== undefined);
  assertEquals(ctx.damage, []);
  ctx.fs.stop();
  ctx.rmIndex();
  assertEquals(st(ctx.reopen().state()), before);
});

Deno.test("TestFileStoreRecoverAfterRemoveOperation: every kind of removal survives a restart, with and without blocks.db", async (t) => {
  const cases: [string, (fs: FileStore) => void, number[]][] = [
    ["None", () => {}, [4, 1, 4]],
    ["RemoveMsg", (fs) => assert(fs.removeMsg(1)), [3, 2, 4]],
    ["EraseMsg", (fs) => assert(fs.eraseMsg(1)), [3, 2, 4]],
    ["Purge", (fs) => assertEquals(fs.purge(), 4), [0, 5, 4]],
    ["PurgeEx-0", (fs) => assertEquals(fs.purgeEx("foo.0", 0, 0), 2), [2, 2, 4]],
    ["PurgeEx-1", (fs) => assertEquals(fs.purgeEx("foo.1", 0, 0), 2), [2, 1, 4]],
    ["Compact", (fs) => assertEquals(fs.compact(3), 2), [2, 3, 4]],
    ["Truncate", (fs) => fs.truncate(2), [2, 1, 2]],
  ];
  for (const [title, action, want] of cases) {
    for (const p of PERMS) {
      await t.step(`${title}/${p.name}`, () =>
        withFs(
          { subjects: ["foo.*"] },
          (fs, ctx) => {
            for (let i = 0; i < 4; i++) fs.storeMsg(`foo.${i % 2}`, undefined, EMPTY);
            action(fs);
            const state = fs.state();
            assertEquals([state.msgs, state.firstSeq, state.lastSeq], want);
            restartSame(ctx);
          },
          {},
          p,
        ));
    }
  }
});

Deno.test("TestFileStoreRecoverAfterCompact: a compacted store restarts with the same state, with and without blocks.db", async (t) => {
  for (const size of [1024, 1024 * 1024]) {
    for (const p of PERMS) {
      await t.step(`${size}/${p.name}`, () =>
        withFs(
          { subjects: ["foo"] },
          (fs, ctx) => {
            const payload = new Uint8Array(size);
            for (let i = 0; i < 4; i++) fs.storeMsg("foo", undefined, payload);
            let state = fs.state();
            assertEquals([state.msgs, state.firstSeq, state.lastSeq, state.bytes], [
              4,
              1,
              4,
              4 * msgBytes("foo", size),
            ]);
            assertEquals(fs.compact(4), 3);
            state = fs.state();
            assertEquals([state.msgs, state.firstSeq, state.lastSeq, state.bytes], [
              1,
              4,
              4,
              msgBytes("foo", size),
            ]);
            restartSame(ctx);
          },
          {},
          p,
        ));
    }
  }
});

permTest("TestFileStoreRecoverWithEmptyMessageBlock: a block holding only tombstones is recovered", {
  subjects: ["foo"],
}, (fs, ctx) => {
  // Four 256-byte records fill the first block; the two tombstones start the second.
  const msg = fill(256 - recLen("foo", 0));
  for (let i = 0; i < 4; i++) fs.storeMsg("foo", undefined, msg);
  assertEquals(ctx.blockFiles().length, 1);
  for (let q = 1; q <= 2; q++) assert(fs.removeMsg(q));
  assertEquals(ctx.blockFiles().length, 2);
  const state = fs.state();
  assertEquals([state.msgs, state.firstSeq, state.lastSeq], [2, 3, 4]);
  restartSame(ctx);
}, { blockSize: 1024 });

Deno.test("TestFileStoreRemoveMsgBlockFirst: with its only block and blocks.db gone a store starts empty", () =>
  withFs({ subjects: ["test"] }, (fs, ctx) => {
    fs.storeMsg("test", undefined, EMPTY);
    let ss = fs.fastState();
    assertEquals([ss.msgs, ss.firstSeq, ss.lastSeq], [1, 1, 1]);
    fs.stop();
    ctx.rmIndex();
    Deno.removeSync(ctx.blockPath(1));
    ss = ctx.reopen({ allowMsgTtl: true }).fastState();
    assertEquals([ss.msgs, ss.firstSeq, ss.lastSeq], [0, 0, 0]);
  }));

Deno.test("TestFileStoreRemoveMsgBlockLast: removing the only message survives restarts without blocks.db", () =>
  withFs({ subjects: ["test"] }, (fs, ctx) => {
    // Go starts a new block for the tombstone and removes the old one (and tests a kill in between);
    // natsdeno appends the tombstone to the active block, so there is no such window.
    fs.storeMsg("test", undefined, EMPTY);
    assert(fs.removeMsg(1));
    fs.stop();
    ctx.rmIndex();
    const ss = ctx.reopen({ allowMsgTtl: true }).fastState();
    assertEquals([ss.msgs, ss.firstSeq, ss.lastSeq], [0, 2, 1]);
    assertEquals(ctx.fs.storeMsg("test", undefined, EMPTY).seq, 2);
  }));

Deno.test("TestFileStoreAllLastSeqs: the last sequence of every subject (multiLastSeqs of >)", () =>
  withFs({ subjects: ["*.*"], maxMsgsPerSubject: 50 }, (fs) => {
    const subjs = ["foo.foo", "foo.bar", "foo.baz", "bar.foo", "bar.bar", "bar.baz"];
    for (let i = 0; i < 20_000; i++) {
      fs.storeMsg(subjs[Math.floor(Math.random() * subjs.length)], undefined, b("abc"));
    }
    const expected = subjs.map((x) => fs.loadLastMsg(x)!.seq).sort((x, y) => x - y);
    // natsdeno has no AllLastSeqs(); multiLastSeqs over ">" is the same query.
    assertEquals(fs.multiLastSeqs([">"], 0, 0), expected);
  }));

permTest(
  "TestFileStoreRecoverDoesNotResetStreamState: with every message expired and the last block lost, sequences are kept",
  {
    subjects: ["ev.1"],
    maxAge: 500_000_000n,
  },
  async (fs, ctx) => {
    for (let i = 0; i < 500; i++) fs.storeMsg("foo", undefined, b("Hello World"));
    assert(ctx.blockFiles().length > 1);
    // Generous waits: expiry and block maintenance run on timers that a loaded machine delays.
    await checkFor(10_000, 50, () => assertEquals(fs.state().msgs, 0));
    fs.storeMsg("foo", undefined, b("x")); // maintenance catches up before a message
    fs.removeMsg(501);
    await checkFor(10_000, 20, () => assertEquals(ctx.blockFiles().length, 1));
    fs.stop();
    assert(ctx.readIndex() !== undefined);
    const files = ctx.blockFiles();
    Deno.removeSync(ctx.blockPath(files[0]));
    const state = ctx.reopen().state();
    assert(state.firstSeq !== 0 || state.lastSeq !== 0, "first/last kept");
    assertEquals(state.lastSeq, 501);
  },
  { blockSize: 1024 },
);

blocked("TestFileStoreAccessTimeSpinUp", "checks the goroutine of Go's shared access-time ticker (ats)");

Deno.test("TestFileStoreUpdateConfigTTLState: per-message TTLs apply only while allow_msg_ttl is on", () =>
  withFs({ subjects: [">"] }, async (fs, ctx) => {
    const ttl = 200_000_000n;
    fs.storeMsg("a", undefined, EMPTY, ttl);
    fs.updateConfig({ ...ctx.cfg, allowMsgTtl: true });
    fs.storeMsg("b", undefined, EMPTY, ttl);
    await checkFor(2_000, 25, () => assertEquals(fs.loadMsg(2), undefined));
    assert(fs.loadMsg(1) !== undefined, "stored while TTLs were off: kept");
    fs.updateConfig({ ...ctx.cfg, allowMsgTtl: false });
    fs.storeMsg("c", undefined, EMPTY, ttl);
    await delay(400);
    assert(fs.loadMsg(3) !== undefined);
  }));

Deno.test("TestFileStoreSubjectForSeq: the subject of a sequence (loadMsg(seq).subject)", () =>
  withFs({ subjects: ["foo.>"] }, (fs) => {
    // natsdeno has no SubjectForSeq(); loadMsg is the same lookup.
    assertEquals(fs.storeMsg("foo.bar", undefined, EMPTY).seq, 1);
    assertEquals(fs.loadMsg(0), undefined);
    assertEquals(fs.loadMsg(1)!.subject, "foo.bar");
    assertEquals(fs.loadMsg(2), undefined);
  }));

blocked(
  "TestFileStoreFirstMatchingMultiExpiry",
  "checks Go's msgBlock cache expiry inside firstMatchingMulti",
);

Deno.test("TestFileStoreNoPanicOnRecoverTTLWithCorruptBlocks: overlapping sequences across blocks open without throwing", () =>
  withFs({ allowMsgTtl: true }, (fs, ctx) => {
    const hdr = b("NATS/1.0\r\nNats-TTL: 1\r\n\r\n");
    for (let i = 0; i < 3; i++) fs.storeMsg("foo", hdr, fill(1000, "A"), 1_000_000_000n);
    fs.stop();
    const files = ctx.blockFiles();
    assert(files.length >= 3);
    // Drop the middle block and make the last one repeat the first one's sequence.
    Deno.removeSync(ctx.blockPath(files[1]));
    const last = files[files.length - 1];
    Deno.writeFileSync(ctx.blockPath(last), EMPTY);
    appendRecord(ctx, last, 1, 0, "foo", b("A"));
    const fs2 = ctx.reopen();
    assert(ctx.damage.some((d) => d.what.includes("out-of-order")));
    assertEquals(fs2.loadMsg(1)!.msg.length, 1000);
  }, { blockSize: 1024 }));

permTest("TestFileStoreAsyncTruncate: truncate drops records not yet flushed", {}, (fs, ctx) => {
  for (let i = 1; i <= 2; i++) assertEquals(fs.storeMsg("foo", undefined, fill(100)).seq, i);
  fs.truncate(1);
  const check = () => {
    const state = ctx.fs.state();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq], [1, 1, 1]);
  };
  check();
  ctx.reopen();
  check();
  if (ctx.perm === PLAIN) assertEquals(ctx.records(1).filter((r) => r.kind === 0).map((r) => r.seq), [1]);
}, { blockSize: 8192 });

permTest("TestFileStoreAsyncFlushOnSkipMsgs: a large skipMsgs becomes durable", {}, async (fs, ctx) => {
  fs.storeMsg("foo", undefined, EMPTY);
  fs.skipMsgs(2, 100_000);
  const p = fs.flushed(100_001);
  if (p !== undefined) await p;
  assertEquals(fs.flushed(100_001), undefined);
  const state = ctx.reopen().state();
  assertEquals([state.msgs, state.firstSeq, state.lastSeq], [1, 1, 100_001]);
}, { blockSize: 8192 });

Deno.test("TestFileStoreCompressionAfterTruncate: sealed blocks stay compressed as configured across removals and truncate", async (t) => {
  for (const action of ["RemoveMsg", "EraseMsg"]) {
    for (const p of PLAIN_S2) {
      await t.step(`${action}/${p.name}`, () =>
        withFs(
          { subjects: ["foo"] },
          async (fs, ctx) => {
            const compressed = (idx: number) => isCompressed(Deno.readFileSync(ctx.blockPath(idx)));
            fs.storeMsg("foo", undefined, HALF);
            fs.storeMsg("foo", undefined, HALF);
            assert(!compressed(1));
            fs.storeMsg("foo", undefined, HALF); // seals block 1
            await settle();
            assertEquals(compressed(1), p.comp === "s2");
            if (action === "RemoveMsg") assert(fs.removeMsg(2));
            else assert(fs.eraseMsg(2));
            let state = fs.state();
            assertEquals([state.msgs, state.firstSeq, state.lastSeq, state.numDeleted], [2, 1, 3, 1]);
            fs.truncate(2);
            state = fs.state();
            assertEquals([state.msgs, state.firstSeq, state.lastSeq, state.numDeleted], [1, 1, 2, 1]);
            await settle();
            assertEquals(compressed(1), p.comp === "s2");
            assertEquals(fs.storeMsg("foo", undefined, HALF).seq, 3);
            const fs2 = ctx.reopen();
            assertEquals(fs2.loadMsg(1)!.msg, HALF);
            assertEquals(fs2.loadMsg(3)!.msg, HALF);
            assertEquals(compressed(1), p.comp === "s2");
            assertEquals(ctx.damage, []);
          },
          { blockSize: 1024 },
          p,
        ));
    }
  }
});

permTest(
  "TestFileStoreTruncateRemovedBlock: truncate over a removed middle block",
  { subjects: ["foo"] },
  async (fs, ctx) => {
    for (let i = 0; i < 3; i++) fs.storeMsg("foo", undefined, FULL);
    assertEquals(ctx.blockFiles().length, 3);
    assert(fs.removeMsg(2));
    fs.storeMsg("foo", undefined, FULL);
    await settle();
    assert(!ctx.blockFiles().includes(2), "the emptied middle block goes");
    fs.truncate(3);
    let state = fs.state();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq, state.numDeleted], [2, 1, 3, 1]);
    fs.truncate(2);
    state = fs.state();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq, state.numDeleted], [1, 1, 2, 1]);
    restartSame(ctx);
  },
  { blockSize: 1024 },
);

Deno.test("TestFileStoreAtomicEraseMsg: erase keeps state and block compression across restarts", async (t) => {
  for (const lmb of [true, false]) {
    for (const p of PERMS) {
      await t.step(`lmb=${lmb}/${p.name}`, () =>
        withFs(
          { subjects: ["foo"] },
          async (fs, ctx) => {
            for (let i = 0; i < 3; i++) fs.storeMsg("foo", undefined, lmb ? EMPTY : HALF);
            if (!lmb) await settle(); // two blocks: the first sealed (and compressed with s2)
            let state = fs.state();
            assertEquals([state.msgs, state.firstSeq, state.lastSeq, state.numDeleted], [3, 1, 3, 0]);
            assert(fs.eraseMsg(2));
            state = fs.state();
            assertEquals([state.msgs, state.firstSeq, state.lastSeq, state.numDeleted], [2, 1, 3, 1]);
            assertEquals(fs.storeMsg("foo", undefined, EMPTY).seq, 4);
            const validate = () => {
              if (p.enc !== undefined) return;
              const files = ctx.blockFiles();
              for (const idx of files.slice(0, -1)) {
                assertEquals(
                  isCompressed(Deno.readFileSync(ctx.blockPath(idx))),
                  p.comp === "s2",
                  `${idx}.blk`,
                );
              }
            };
            await settle();
            validate();
            restartSame(ctx);
            validate();
          },
          { blockSize: 1024 },
          p,
        ));
    }
  }
});

permTest("TestFileStoreRemoveBlockWithStaleStreamState: a lost middle block loses only its messages", {
  subjects: ["foo"],
}, (fs, ctx) => {
  for (let i = 0; i < 3; i++) fs.storeMsg("foo", undefined, FULL);
  fs.stop();
  const files = ctx.blockFiles();
  assertEquals(files.length, 3);
  Deno.removeSync(ctx.blockPath(files[1]));
  const fs2 = ctx.reopen();
  assertEquals(fs2.loadMsg(1)!.seq, 1);
  assertEquals(fs2.loadMsg(2), undefined);
  assertEquals(fs2.loadMsg(3)!.seq, 3);
}, { blockSize: 1024 });

blocked(
  "TestFileStoreMessageSchedule",
  "blocked: the store keeps no message schedules (sched.db); natsdeno schedules them in the JetStream layer (src/jetstream/_stream_schedule.ts), recovered from the stored messages",
);
blocked(
  "TestFileStoreMessageScheduleRecovered",
  "blocked: the store keeps no message schedules (sched.db); natsdeno schedules them in the JetStream layer (src/jetstream/_stream_schedule.ts), recovered from the stored messages",
);
blocked(
  "TestFileStoreMessageScheduleEncodeDecode",
  "blocked: the store keeps no message schedules (sched.db); natsdeno schedules them in the JetStream layer (src/jetstream/_stream_schedule.ts), recovered from the stored messages",
);
blocked(
  "TestFileStoreMessageScheduleDecodeRejectsMalformed",
  "blocked: the store keeps no message schedules (sched.db); natsdeno schedules them in the JetStream layer (src/jetstream/_stream_schedule.ts), recovered from the stored messages",
);

Deno.test("TestFileStoreCorruptedNonOrderedSequences: out-of-order and repeated records are dropped and reported", async (t) => {
  for (
    const [title, seqs, msgs, deleted] of [["Unordered", [1, 3, 2, 4], 3, [2]], [
      "Duplicated",
      [1, 2, 2, 3],
      3,
      [],
    ]] as const
  ) {
    await t.step(title, () =>
      withFs({ subjects: ["foo"] }, (fs, ctx) => {
        fs.stop();
        Deno.writeFileSync(ctx.blockPath(1), EMPTY);
        for (const q of seqs) appendRecord(ctx, 1, q, 0);
        const state = ctx.reopen().state();
        assertEquals([state.msgs, state.deleted], [msgs, [...deleted]]);
        assert(ctx.damage.some((d) => d.what.includes("out-of-order")));
      }));
  }
});

blocked(
  "TestFileStoreCacheLookupOnEmptyBlock",
  "checks Go's cacheLookup on an empty msgBlock and its cache reference",
);

permTest(
  "TestFileStoreEraseMsgDoesNotLoseTombstones: erasing a message keeps the tombstone written after it",
  {
    subjects: ["foo"],
  },
  (fs, ctx) => {
    const secret = b("secret!");
    fs.storeMsg("foo", undefined, EMPTY);
    fs.storeMsg("foo", undefined, EMPTY);
    fs.storeMsg("foo", undefined, secret);
    fs.removeMsg(2);
    fs.storeMsg("foo", undefined, EMPTY);
    assert(fs.eraseMsg(3));
    const before = st(fs.state());
    assertEquals([before.msgs, before.firstSeq, before.lastSeq, before.deleted], [2, 1, 4, [2, 3]]);
    assertEquals(fs.loadMsg(2), undefined);
    assertEquals(fs.loadMsg(3), undefined);
    restartSame(ctx);
    assertEquals(ctx.fs.loadMsg(2), undefined);
    assertEquals(ctx.fs.loadMsg(3), undefined);
    if (ctx.perm === PLAIN) {
      assert(
        !new TextDecoder().decode(Deno.readFileSync(ctx.blockPath(1))).includes("secret!"),
      );
    }
  },
);

permTest(
  "TestFileStoreEraseMsgDoesNotLoseTombstonesInEmptyBlock: erasing the only message of a block keeps its tombstones",
  {
    subjects: ["foo"],
  },
  (fs, ctx) => {
    fs.storeMsg("foo", undefined, HALF);
    fs.storeMsg("foo", undefined, HALF);
    const secret = b("secret!");
    fs.storeMsg("foo", undefined, secret); // second block
    assertEquals(ctx.blockFiles().length, 2);
    fs.removeMsg(2);
    assert(fs.eraseMsg(3));
    const before = st(fs.state());
    assertEquals([before.msgs, before.firstSeq, before.lastSeq, before.deleted], [1, 1, 3, [2, 3]]);
    assertEquals(fs.loadMsg(2), undefined);
    assertEquals(fs.loadMsg(3), undefined);
    if (ctx.perm === PLAIN) {
      for (const idx of ctx.blockFiles()) {
        assert(!new TextDecoder().decode(Deno.readFileSync(ctx.blockPath(idx))).includes("secret!"));
      }
    }
    restartSame(ctx);
  },
  { blockSize: 1024 },
);

permTest(
  "TestFileStoreTombstonesNoFirstSeqRollback: all messages removed across blocks: first stays past last",
  {
    subjects: ["foo"],
  },
  async (fs, ctx) => {
    for (let i = 0; i < 20; i++) fs.storeMsg("foo", undefined, TENTH);
    assertEquals(ctx.blockFiles().length, 2);
    for (let q = 1; q <= 20; q++) fs.removeMsg(q);
    const before = fs.state();
    assertEquals([before.msgs, before.firstSeq, before.lastSeq], [0, 21, 20]);
    fs.storeMsg("foo", undefined, TENTH);
    assert(fs.removeMsg(21));
    await settle();
    assertEquals(ctx.blockFiles().length, 1, "blocks holding only stale tombstones go");
    restartSame(ctx);
  },
  { blockSize: 1024 },
);

function selectNextFirst(fs: FileStore): void {
  for (let i = 0; i < 50; i++) fs.storeMsg("foo", undefined, TENTH);
  for (let q = 2; q <= 49; q++) fs.removeMsg(q);
  for (let i = 0; i < 50; i++) fs.storeMsg("foo", undefined, TENTH);
  for (let q = 50; q <= 100; q++) fs.removeMsg(q);
  const before = fs.state();
  assertEquals([before.msgs, before.firstSeq, before.lastSeq], [1, 1, 100]);
}

permTest(
  "TestFileStoreTombstonesSelectNextFirstCleanup: removing the last message moves first past all tombstones",
  {
    subjects: ["foo"],
  },
  (fs, ctx) => {
    selectNextFirst(fs);
    assert(fs.removeMsg(1));
    const state = fs.state();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq], [0, 101, 100]);
    restartSame(ctx);
  },
  { blockSize: 1024 },
);

Deno.test("TestFileStoreTombstonesSelectNextFirstCleanupOnRecovery: a tombstone written just before a kill is honoured at open", () =>
  withFs({ subjects: ["foo"] }, (fs, ctx) => {
    selectNextFirst(fs);
    const last = st(fs.state()).lastTime;
    fs.stop();
    // The store died right after writing the tombstone for seq 1.
    appendRecord(ctx, ctx.blockFiles().at(-1)!, 1, TBIT);
    ctx.rmIndex();
    const state = ctx.reopen().state();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq], [0, 101, 100]);
    assert(state.lastTime >= last);
  }, { blockSize: 1024 }));

permTest("TestFileStoreDetectDeleteGapWithLastSkipMsg: skipped sequences after a message count as deleted", {
  subjects: ["foo"],
}, (fs, ctx) => {
  fs.storeMsg("foo", undefined, EMPTY);
  fs.skipMsgs(2, 3);
  const before = fs.state();
  assertEquals([before.msgs, before.firstSeq, before.lastSeq, before.numDeleted], [1, 1, 4, 3]);
  restartSame(ctx);
});

permTest("TestFileStoreDetectDeleteGapWithOnlySkipMsg: skips alone move the sequences, with no deletes", {
  subjects: ["foo"],
}, (fs, ctx) => {
  assertEquals(fs.skipMsg(), 1);
  fs.skipMsgs(2, 3);
  const before = fs.state();
  assertEquals([before.msgs, before.firstSeq, before.lastSeq, before.numDeleted], [0, 5, 4, 0]);
  restartSame(ctx);
});

Deno.test({
  name: "TestFileStoreEraseMsgErr: an erase whose block rewrite fails leaves a consistent store",
  ignore: ROOT,
  fn: () =>
    withFs({ subjects: ["foo"] }, (fs, ctx) => {
      fs.storeMsg("foo", undefined, b("one"));
      fs.storeMsg("foo", undefined, b("two"));
      Deno.chmodSync(ctx.mdir, 0o555);
      try {
        try {
          fs.eraseMsg(2);
        } catch {
          // Reported; the store stays usable.
        }
      } finally {
        Deno.chmodSync(ctx.mdir, 0o755);
      }
      const fs2 = ctx.reopen();
      assertEquals(s(fs2.loadMsg(1)!.msg), "one");
      const m = fs2.loadMsg(2);
      assert(m === undefined || s(m.msg) === "two");
    }),
});

permTest("TestFileStorePurgeMsgBlock: dropping the first block moves first and the accounting", {
  subjects: ["foo"],
}, async (fs, ctx) => {
  for (let i = 0; i < 20; i++) fs.storeMsg("foo", undefined, EMPTY);
  let state = fs.state();
  assertEquals([state.firstSeq, state.lastSeq, state.msgs, state.bytes], [
    1,
    20,
    20,
    20 * msgBytes("foo", 0),
  ]);
  // Go purges the first block by hand; compact to its end does the same here.
  assertEquals(fs.compact(11), 10);
  await settle();
  state = fs.state();
  assertEquals([state.firstSeq, state.lastSeq, state.msgs, state.bytes], [
    11,
    20,
    10,
    10 * msgBytes("foo", 0),
  ]);
  restartSame(ctx);
}, { blockSize: 1024 });

permTest("TestFileStorePurgeMsgBlockUpdatesSubjects: dropping the first block updates subject totals", {
  subjects: ["foo"],
}, (fs, ctx) => {
  for (let i = 0; i < 20; i++) fs.storeMsg("foo", undefined, EMPTY);
  assertEquals(fs.subjectsTotals("foo").get("foo"), 20);
  fs.compact(11);
  const state = fs.state();
  assertEquals([state.msgs, state.firstSeq], [10, 11]);
  assertEquals(fs.subjectsTotals("foo").get("foo"), 10);
  assertEquals(ctx.reopen().subjectsTotals("foo").get("foo"), 10);
}, { blockSize: 1024 });

blocked(
  "TestFileStorePurgeMsgBlockRemovesSchedules",
  "blocked: the store keeps no message schedules (sched.db); natsdeno schedules them in the JetStream layer (src/jetstream/_stream_schedule.ts), recovered from the stored messages",
);
blocked(
  "TestFileStorePurgeMsgBlockAccounting",
  "a server-level JetStream usage check (limits update on a running stream), not a store test: jetstream tests own it",
);

permTest("TestFileStoreMissingDeletesAfterCompact: a rewritten block keeps its interior deletes", {
  subjects: ["foo"],
}, async (fs, ctx) => {
  // Six 153-byte records and four tombstones fill the first block; the next message seals it.
  for (let i = 0; i < 6; i++) fs.storeMsg("foo", undefined, fill(153 - recLen("foo", 0)));
  for (const q of [1, 3, 4, 6]) fs.removeMsg(q);
  fs.storeMsg("foo", undefined, EMPTY);
  await settle(); // natsdeno rewrites a sealed block with under half its messages left
  let state = fs.state();
  assertEquals([state.firstSeq, state.lastSeq, state.msgs, state.deleted], [2, 7, 3, [3, 4, 6]]);
  if (ctx.perm === PLAIN) assertEquals(ctx.records(1).filter((r) => r.kind === 0).map((r) => r.seq), [2, 5]);
  restartSame(ctx);
  assert(ctx.fs.removeMsg(5));
  state = ctx.fs.state();
  assertEquals([state.firstSeq, state.msgs, state.deleted], [2, 2, [3, 4, 5, 6]]);
  restartSame(ctx);
}, { blockSize: 1024 });

Deno.test("TestFileStoreIdxAccountingForSkipMsgs: skipped sequences between messages load as missing", async (t) => {
  for (const many of [false, true]) {
    for (const p of PERMS) {
      await t.step(
        `${many ? "SkipMsgs" : "SkipMsg"}/${p.name}`,
        () =>
          withFs(
            { subjects: ["foo"] },
            (fs, ctx) => {
              fs.storeMsg("foo", undefined, EMPTY);
              if (many) fs.skipMsgs(2, 10);
              else for (let i = 0; i < 10; i++) assertEquals(fs.skipMsg(), i + 2);
              fs.storeMsg("foo", undefined, EMPTY);
              const check = (f: FileStore) => {
                for (let q = 1; q <= 12; q++) {
                  assertEquals(f.loadMsg(q) === undefined, q >= 2 && q <= 11, `seq ${q}`);
                }
              };
              check(fs);
              check(ctx.reopen());
            },
            {},
            p,
          ),
      );
    }
  }
});

permTest("TestFileStoreEmptyBlockContainsPriorTombstones: a block of tombstones for earlier blocks", {
  subjects: ["foo"],
}, async (fs, ctx) => {
  fs.storeMsg("foo", undefined, HALF);
  fs.storeMsg("foo", undefined, HALF);
  fs.storeMsg("foo", undefined, EMPTY); // 2.blk
  fs.removeMsg(2);
  fs.removeMsg(3);
  const before = st(fs.state());
  assertEquals([before.msgs, before.firstSeq, before.lastSeq, before.deleted], [1, 1, 3, [2, 3]]);
  assertEquals(fs.loadMsg(2), undefined);
  assertEquals(fs.loadMsg(3), undefined);
  restartSame(ctx);
  const fs2 = ctx.fs;
  fs2.storeMsg("foo", undefined, EMPTY);
  // Removing the first message moves the first sequence; blocks left with only stale tombstones go.
  assert(fs2.removeMsg(1));
  fs2.storeMsg("foo", undefined, HALF);
  fs2.storeMsg("foo", undefined, HALF);
  await settle();
  assert(!ctx.blockFiles().includes(1), "the first block goes");
  const state = fs2.state();
  assertEquals([state.msgs, state.firstSeq, state.lastSeq], [3, 4, 6]);
  restartSame(ctx);
}, { blockSize: 1024 });

permTest(
  "TestFileStoreCompactTombstonesBelowFirstSeq: tombstones below the first sequence are dropped from sealed blocks",
  {
    subjects: ["foo"],
  },
  async (fs, ctx) => {
    fs.storeMsg("foo", undefined, TENTH);
    fs.storeMsg("foo", undefined, TENTH);
    // Fills what is left of 1.blk exactly (a whole-block record would start a new block, as in Go).
    fs.storeMsg("foo", undefined, fill(1024 - 2 * recLen("foo", TENTH.length) - recLen("foo", 0)));
    fs.storeMsg("foo", undefined, EMPTY); // 2.blk
    fs.removeMsg(3);
    fs.removeMsg(2);
    let state = st(fs.state());
    assertEquals([state.msgs, state.firstSeq, state.lastSeq, state.deleted], [2, 1, 4, [2, 3]]);
    assertEquals(ctx.blockFiles().length, 2);
    assert(fs.removeMsg(1));
    fs.storeMsg("foo", undefined, FULL); // seals 2.blk
    fs.storeMsg("foo", undefined, EMPTY);
    await settle();
    state = st(fs.state());
    assertEquals([state.msgs, state.firstSeq, state.lastSeq], [3, 4, 6]);
    assert(!ctx.blockFiles().includes(1), "the first block is gone");
    // Go compacts the stale tombstones (1..3) out of the block holding message 4 on its next sync. natsdeno
    // drops tombstones below the first sequence when it rewrites a block (under half its messages left, or
    // none); this block keeps its one message, so they stay (90 bytes) and recovery skips them.
    restartSame(ctx);
  },
  { blockSize: 1024 },
);

permTest(
  "TestFileStoreSyncBlocksFlushesAndSyncsMessages: a message becomes durable without a stop",
  {},
  async (fs, ctx) => {
    const { seq } = fs.storeMsg("foo", undefined, EMPTY);
    const p = fs.flushed(seq);
    if (p !== undefined) await p;
    // Read the block file behind the store's back: the record is there before any stop.
    if (ctx.perm === PLAIN) assertEquals(ctx.records(1).map((r) => r.seq), [1]);
    const m = ctx.reopen().loadMsg(1)!;
    assertEquals([m.seq, m.subject], [1, "foo"]);
  },
  { syncIntervalMs: 60_000 },
);

permTest(
  "TestFileStorePreserveLastSeqAfterCompact: compact past the only message keeps the last sequence",
  {},
  (fs, ctx) => {
    fs.storeMsg("foo", undefined, EMPTY);
    fs.compact(2);
    const before = fs.state();
    assertEquals([before.msgs, before.firstSeq, before.lastSeq], [0, 2, 1]);
    restartSame(ctx);
  },
);

permTest(
  "TestFileStoreSkipMsgAndCompactRequiresAppend: skip, compact and skip again, then reload the block",
  {},
  (fs, ctx) => {
    fs.storeMsg("foo", undefined, new Uint8Array(256 * 1024));
    assertEquals(fs.skipMsg(), 2);
    fs.compact(2);
    let state = fs.state();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq], [0, 3, 2]);
    assertEquals(fs.skipMsg(), 3);
    fs.stop();
    ctx.rmIndex();
    state = ctx.reopen().state();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq], [0, 4, 3]);
    assertEquals(ctx.damage, []);
  },
);

Deno.test("TestFileStoreCompactRewritesFileWithSwap: a compacted block is rewritten down to what is left once sealed", () =>
  withFs({}, async (fs, ctx) => {
    const msg = new Uint8Array(256 * 1024);
    for (let i = 0; i < 20; i++) fs.storeMsg("foo", undefined, msg);
    assertEquals(ctx.blockFiles(), [1], "20 records of 256 KiB fill one block exactly");
    assertEquals(fs.compact(20), 19);
    const state = fs.state();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq], [1, 20, 20]);
    // natsdeno rewrites sealed blocks only (Go rewrites the active one): it was sealed by the compact's op record.
    fs.storeMsg("foo", undefined, msg);
    await settle();
    assertEquals(ctx.records(1).map((r) => r.seq), [20]);
    assertEquals(Deno.statSync(ctx.blockPath(1)).size, recLen("foo", msg.length));
    assertEquals(ctx.reopen().loadMsg(20)!.msg.length, msg.length);
  }, { blockSize: 20 * recLen("foo", 256 * 1024) })); // ~5 MiB: the compact's op record starts block 2

Deno.test("TestFileStoreIndexCacheBufIdxMismatch: a sealed block truncated on disk under a running store", async (t) => {
  for (const kind of ["TruncateFull", "TruncatePartial"]) {
    await t.step(kind, () =>
      withFs({}, (fs, ctx) => {
        for (let i = 0; i < 5; i++) fs.storeMsg("foo", undefined, EMPTY);
        fs.storeMsg("foo", undefined, fill(1024)); // seals 1.blk
        fs.storeMsg("foo", undefined, EMPTY);
        const size = Deno.statSync(ctx.blockPath(1)).size;
        const cut = kind === "TruncateFull" ? 0 : recLen("foo", 0) * 2 + 10;
        Deno.truncateSync(ctx.blockPath(1), cut);
        // The block no longer matches what was sealed: its messages are not served from it.
        for (let q = 1; q <= 5; q++) {
          const m = fs.loadMsg(q);
          assert(m === undefined || m.seq === q, `seq ${q}`);
        }
        fs.stop();
        const fs2 = ctx.reopen();
        assert(ctx.damage.length > 0, "the truncation is reported");
        const left = kind === "TruncateFull" ? 0 : 2;
        for (let q = 1; q <= 5; q++) assertEquals(fs2.loadMsg(q) !== undefined, q <= left, `seq ${q}`);
        assertEquals(fs2.state().lastSeq, 7);
        assert(size > cut);
      }, { blockSize: 1024, blockCacheBytes: 1 }));
  }
});

blocked(
  "TestFileStoreIndexCacheBufTombstoneMismatch",
  "checks Go's cache idx slots (dbit) after clearing the dmap by hand",
);
blocked(
  "TestFileStoreIndexCacheBufTombstoneMismatchAfterCompact",
  "checks Go's cache idx slots after compactWithFloor",
);
blocked(
  "TestFileStoreIndexCacheBufEraseMsgMismatch",
  "checks Go's cache idx against a hand-reverted fs.state.Msgs",
);

permTest(
  "TestFileStoreCompactRestoresLastSeq: a rewritten block ends at its last live message, the stream's last stays",
  {
    subjects: ["foo"],
  },
  async (fs, ctx) => {
    for (let i = 0; i < 4; i++) fs.storeMsg("foo", undefined, TENTH);
    fs.removeMsg(1);
    // Go compacts the block by hand; natsdeno rewrites a block at once on an erase.
    assert(fs.eraseMsg(4));
    await settle();
    if (ctx.perm === PLAIN) {
      assertEquals(ctx.records(1).filter((r) => r.kind === 0).map((r) => r.seq), [2, 3]);
    }
    const state = fs.state();
    assertEquals([state.firstSeq, state.lastSeq, state.msgs, state.deleted], [2, 4, 2, [4]]);
    restartSame(ctx);
  },
  { blockSize: 1024 },
);

blocked(
  "TestFileStoreCompactFullyResetsFirstAndLastSeq",
  "checks Go's msgBlock first/last after emptying its dmap by hand",
);

permTest(
  "TestFileStoreCompactHeadReclaimRecompressedBlock: compacting the head of a large block, then reloading it",
  {
    subjects: ["zzz"],
  },
  (fs, ctx) => {
    const num = 50;
    const msgs: Uint8Array[] = [];
    for (let i = 0; i < num; i++) {
      const m = crypto.getRandomValues(new Uint8Array(64 * 1024));
      msgs.push(m);
      fs.storeMsg("zzz", undefined, m);
    }
    fs.compact(num - 5);
    for (let q = num - 5; q <= num; q++) assertEquals(fs.loadMsg(q)!.msg, msgs[q - 1]);
    const fs2 = ctx.reopen();
    assertEquals(fs2.fastState().msgs, 6);
    for (let q = num - 5; q <= num; q++) assertEquals(fs2.loadMsg(q)!.msg, msgs[q - 1]);
    assertEquals(ctx.damage, []);
  },
  { blockSize: 1024 * 1024 },
  [PERMS[0], PERMS[1], PERMS[3]],
);

blocked(
  "TestFileStoreDoesntRebuildSubjectStateWithNoTrack",
  "checks Go's psim staying empty for streams without subjects (raft WALs); natsdeno always indexes subjects",
);

Deno.test("TestFileStoreLoadNextMsgSkipAhead: loadNextMsg skips blocks without the subject", async (t) => {
  for (const single of [true, false]) {
    for (const head of [true, false]) {
      for (const p of [PERMS[0], PERMS[3]]) {
        await t.step(
          `${single ? "Single" : "Multi"}/${head ? "Head" : "Interior"}/${p.name}`,
          () =>
            withFs(
              { subjects: [">"] },
              (fs, ctx) => {
                for (let i = 0; i < 10; i++) {
                  fs.storeMsg(!single && i % 2 === 0 ? "c" : "a", undefined, fill(512 - recLen("a", 0)));
                }
                fs.storeMsg("b", undefined, EMPTY);
                assertEquals(ctx.blockFiles().length, 6);
                const fs2 = ctx.reopen();
                const before = fs2.cacheStats()!.loads;
                assertEquals(fs2.loadNextMsg("b", head ? 0 : 3)!.seq, 11);
                assert(fs2.cacheStats()!.loads - before <= 1, "at most the matching block is read");
              },
              { blockSize: 1024 },
              p,
            ),
        );
      }
    }
  }
});

Deno.test("TestFileStoreLoadNextMsgMultiSkipAhead: loadNextMsgMulti skips blocks without the filters' subjects", async (t) => {
  for (const single of [true, false]) {
    for (const head of [true, false]) {
      for (const p of [PERMS[0], PERMS[3]]) {
        await t.step(
          `${single ? "Single" : "Multi"}/${head ? "Head" : "Interior"}/${p.name}`,
          () =>
            withFs(
              { subjects: [">"] },
              (fs, ctx) => {
                // Two messages per block (Go cuts a new block after every second one), then "b" alone.
                for (let i = 0; i < 10; i++) {
                  fs.storeMsg(!single && i % 2 === 0 ? "c" : "a", undefined, fill(512 - recLen("a", 0)));
                }
                fs.storeMsg("b", undefined, EMPTY);
                assertEquals(ctx.blockFiles().length, 6);
                // Go clears every block's last-access time; a reopened store has no block loaded.
                const fs2 = ctx.reopen();
                const before = fs2.cacheStats()!.loads;
                const sm = fs2.loadNextMsgMulti(["b", "d"], head ? 0 : 3)!;
                assertEquals([sm.seq, sm.subject], [11, "b"]);
                assert(fs2.cacheStats()!.loads - before <= 1, "at most the matching block is read");
              },
              { blockSize: 1024 },
              p,
            ),
        );
      }
    }
  }
});
blocked(
  "TestFileStoreDeleteRangeTwoGaps",
  "blocked: StreamStore has no deleteBlocks()/syncDeleted() (replicated delete sync)",
);
blocked("TestFileStoreDeleteBlocksWithSingleMessageBlocks", "blocked: StreamStore has no deleteBlocks()");
blocked("TestFileStoreDeleteBlocks", "blocked: StreamStore has no deleteBlocks()");
blocked("TestFileStoreDeleteBlocksWithManyEmptyBlocks", "blocked: StreamStore has no deleteBlocks()");

permTest(
  "TestFileStoreTrailingSkipMsgsFromStreamStateFile: a block cut short while stopped keeps the last sequence",
  {
    subjects: [">"],
  },
  (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("foo", undefined, EMPTY);
    fs.stop();
    // Cut the block file after its fifth record (plain length; an encrypted file has its nonce first).
    const raw = Deno.readFileSync(ctx.blockPath(1));
    const head = raw.length - 10 * recLen("foo", 0);
    Deno.truncateSync(ctx.blockPath(1), head + 5 * recLen("foo", 0));
    const fs2 = ctx.reopen();
    const state = fs2.state();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq], [5, 1, 10]);
    for (let q = 1; q <= 10; q++) assertEquals(fs2.loadMsg(q) !== undefined, q <= 5, `seq ${q}`);
    assertEquals(fs2.storeMsg("foo", undefined, EMPTY).seq, 11);
  },
  {},
  [PERMS[0], PERMS[2], PERMS[4]],
);

permTest(
  "TestFileStoreSelectMsgBlockBinarySearch: every message of 36 blocks, with tombstone blocks between, loads",
  {
    subjects: [">"],
  },
  (fs, ctx) => {
    for (let i = 0; i < 33; i++) {
      fs.storeMsg("foo", undefined, HALF);
      fs.storeMsg("foo", undefined, HALF);
      if (i === 15) { for (const q of [2, 5]) fs.removeMsg(q); }
    }
    const check = () => {
      for (let q = 1; q <= 66; q++) {
        const m = ctx.fs.loadMsg(q);
        assertEquals(m === undefined, q === 2 || q === 5, `seq ${q}`);
        if (m !== undefined) assertEquals(m.seq, q);
      }
    };
    check();
    ctx.fs.stop();
    ctx.rmIndex();
    ctx.reopen();
    check();
  },
  { blockSize: 1024 },
);

blocked(
  "TestFileStoreRemoveMsgsInRange",
  "checks Go's internal removeMsgsInRange on its block list (covered here by compact/purge ports)",
);
blocked("TestFileStoreRemoveMsgsInRangePartialBlocks", "checks Go's internal removeMsgsInRange");
blocked(
  "TestFileStoreRemoveMsgsInRangeWithTombstones",
  "checks Go's internal removeMsgsInRange and mb.tombs()",
);

permTest(
  "TestFileStoreCorrectChecksumAfterTruncate: writes after a truncate continue a consistent block",
  {},
  (fs, ctx) => {
    for (let i = 0; i < 5; i++) fs.storeMsg("foo", undefined, EMPTY);
    fs.truncate(3);
    for (let i = 0; i < 3; i++) fs.storeMsg("foo", undefined, b(`n${i}`));
    fs.stop();
    ctx.rmIndex();
    const fs2 = ctx.reopen();
    assertEquals(ctx.damage, []);
    const state = fs2.state();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq], [6, 1, 6]);
    assertEquals(s(fs2.loadMsg(4)!.msg), "n0");
  },
);

blocked(
  "TestFileStoreRecoverTTLAndScheduleStateAndCounters",
  "blocked: the store keeps no message schedules (sched.db); natsdeno schedules them in the JetStream layer (src/jetstream/_stream_schedule.ts), recovered from the stored messages",
);

Deno.test("TestFileStoreCorruptionSetsHbitWithoutHeaders: a record flagged with headers but too short for them is rejected", () =>
  withFs({ subjects: [">"] }, (fs, ctx) => {
    fs.stop();
    const rb = new RecBuf(64);
    rb.append(1, 0, now(), EMPTY, undefined, EMPTY, sha256Key(`${ctx.cfg.name}-1`));
    const v = new DataView(rb.buf.buffer);
    v.setUint32(0, (v.getUint32(0, true) | 0x80000000) >>> 0, true); // hbit on a 30-byte record
    Deno.writeFileSync(ctx.blockPath(1), rb.buf.subarray(0, rb.len));
    ctx.rmIndex();
    const fs2 = ctx.reopen();
    assert(ctx.damage.length > 0 || fs2.state().msgs === 0);
    assertEquals(fs2.loadMsg(1), undefined);
    assertEquals(fs2.state().msgs, 0);
  }));

blocked(
  "TestFileStoreSyncBlocksNoErrorOnConcurrentRemovedBlock",
  "a goroutine race between syncBlocks and block removal",
);
blocked(
  "TestFileStoreDontExpireCacheWithRecentWrite",
  "checks Go's msgBlock cache expiry timing (llseq/lwts)",
);

Deno.test("TestFileStoreNoDirectoryNotEmptyError: consumers deleted right after updates leave no directories", () =>
  withFs({ subjects: ["foo"] }, (fs, ctx) => {
    for (let i = 0; i < 100; i++) {
      const o = fs.consumerStore(`delcons_${i}`, { ackPolicy: "explicit", durable: true });
      for (let q = 1; q <= 1 + Math.floor(Math.random() * 10); q++) o.setStarting(q);
      o.delete();
    }
    assertEquals([...Deno.readDirSync(`${ctx.dir}/obs`)].length, 0);
  }));

blocked("TestFileStoreDontLoadSubjectStateIfNotPurged", "checks Go's per-block subject state (fss) loading");
blocked(
  "TestFileStoreOnlyLoadSubjectStateOnBlocksWithinInterestRange",
  "checks Go's per-block subject state (fss) loading",
);

Deno.test("TestFileStoreRemovePerSubjectWithMultipleBlocks: a subject's first sequence after its last message is removed", () =>
  withFs({ subjects: [">"] }, (fs) => {
    fs.storeMsg("foo", undefined, FULL);
    fs.storeMsg("foo", undefined, FULL);
    assertEquals(fs.filteredState(1, "foo").first, 1);
    assert(fs.removeMsg(2));
    assertEquals(fs.filteredState(1, "foo"), { msgs: 1, first: 1, last: 1 });
  }, { blockSize: 1024 }));

blocked("TestFileStoreSetWriteErrIgnoresReadErrors", "checks Go's classification of errors for fs.werr");

Deno.test("TestFileStoreMsgBlockWErrNotSetOnReadErrors: a block that cannot be read does not stop writes", () =>
  withFs({ subjects: ["foo"] }, (fs, ctx) => {
    fs.storeMsg("foo", undefined, b("hello"));
    fs.storeMsg("foo", undefined, FULL); // seals 1.blk
    fs.storeMsg("foo", undefined, EMPTY);
    Deno.writeFileSync(ctx.blockPath(1), new Uint8Array(Deno.statSync(ctx.blockPath(1)).size));
    const m = fs.loadMsg(1);
    assert(m === undefined || s(m.msg) === "hello", "damaged bytes are never served");
    assertEquals(fs.storeMsg("foo", undefined, b("world")).seq, 4);
    assertEquals(fs.storeMsg("foo", undefined, b("again")).seq, 5);
    assertEquals(s(fs.loadMsg(5)!.msg), "again");
  }, { blockSize: 1024, blockCacheBytes: 1 }));

blocked(
  "TestFileStoreGeneratePerSubjectInfoFssNilOnError",
  "checks Go's per-block subject state (fss) after a cache error",
);
blocked(
  "TestFileStoreSchedulingRecoveryAliasCorruption",
  "blocked: the store keeps no message schedules (sched.db); natsdeno schedules them in the JetStream layer (src/jetstream/_stream_schedule.ts), recovered from the stored messages",
);
Deno.test("TestFileStoreConvertToEncryptedDoesNotResurrectXoredCache: a plain block converted at open is read back decrypted, never as stale or XORed bytes, and appends go on at the right keystream offset", () => {
  const ctx = new Ctx({ subjects: ["foo"] }, { blockSize: 8192 });
  try {
    const marker = b("MARKER-PLAINTEXT-PAYLOAD-".repeat(32));
    ctx.fs.storeMsg("foo", undefined, marker);
    // Reopened with a key: the plain block is converted.
    let fs = ctx.reopen({}, { encryption: AES_ENC });
    assertEquals(ctx.blockFiles(), [1]);
    const onDisk = Deno.readFileSync(ctx.blockPath(1));
    assert(onDisk.length > 0);
    assert(!s(onDisk).includes("MARKER-PLAINTEXT"), "block 1 still plain");
    assert(Deno.statSync(`${ctx.mdir}/1.key`).isFile);
    assertEquals(fs.loadMsg(1)!.msg, marker);
    // The converted block stays the active one: a message appended to it is encrypted at its own offset.
    fs.storeMsg("foo", undefined, marker);
    // Enough to seal block 1: its payloads leave memory and are read back from the encrypted file.
    for (let i = 0; i < 12; i++) fs.storeMsg("foo", undefined, marker);
    assert(ctx.blockFiles().length >= 2);
    assertEquals(fs.loadMsg(1)!.msg, marker);
    assertEquals(fs.loadMsg(2)!.msg, marker);
    fs = ctx.reopen();
    assertEquals(fs.state().msgs, 14);
    for (let seq = 1; seq <= 14; seq++) assertEquals(fs.loadMsg(seq)!.msg, marker, `seq ${seq}`);
    assertEquals(ctx.damage, []);
    for (const idx of ctx.blockFiles()) {
      assert(!s(Deno.readFileSync(ctx.blockPath(idx))).includes("MARKER-PLAINTEXT"), `block ${idx} in clear`);
    }
  } finally {
    ctx.close();
  }
});

Deno.test("TestFileStoreRemoveMsgViaLimitsCallbackAliasedSubj: the subject handed to the storage callback stays intact", () =>
  withFs({ maxMsgs: 1 }, (fs) => {
    const seen: string[] = [];
    fs.registerStorageUpdates((md, _bd, _seq, subj) => {
      if (md === -1) seen.push(subj);
    });
    fs.storeMsg("foo.bar", undefined, b("payload-1"));
    fs.storeMsg("foo.bar", undefined, b("payload-2"));
    for (let i = 0; i < 100; i++) fs.storeMsg("xxx.yyy", undefined, b("payload-x"));
    assertEquals(seen[0], "foo.bar");
  }));

blocked("TestFileStoreSubjectForSeqAliasRace", "a goroutine race on recycled cache buffers (-race)");

Deno.test("TestFileStoreMultiLastSeqsDoesNotReorderConfigSubjects: the configured subjects keep their order", () =>
  withFs({ subjects: ["orders.*", "billing.*"] }, (fs, ctx) => {
    fs.storeMsg("orders.1", undefined, b("x"));
    fs.storeMsg("billing.1", undefined, b("x"));
    assertEquals(fs.multiLastSeqs(["orders.*", "billing.*"], 0, 0), [1, 2]);
    assertEquals(ctx.cfg.subjects, ["orders.*", "billing.*"]);
  }));

blocked("TestFileStoreUpdateConfigSyncAlwaysRace", "a data race on lmb.syncAlways (-race)");
blocked("TestFileStoreStoreRawMsgTTLsRace", "a data race on mb.ttls (-race)");
blocked("TestFileStoreSyncDeletedDmapAliasRace", "a data race on mb.dmap (-race)");

Deno.test("TestFileStoreEncryptionKeyFileSyncedBySyncBlocks: a block's sealed key is on disk before its messages are acked", () =>
  withFs(
    {},
    async (fs, ctx) => {
      const { seq } = fs.storeMsg("foo", undefined, b("Hello World"));
      const p = fs.flushed(seq);
      if (p !== undefined) await p;
      // natsdeno writes (and fsyncs) <N>.key when it creates the block, before any record goes in.
      const idx = ctx.blockFiles().at(-1)!;
      // The reference's minimum key file size (64 bytes for AES-GCM with its 16-byte nonce, 72 for ChaCha).
      assert(Deno.statSync(`${ctx.mdir}/${idx}.key`).size >= 64);
      assertEquals(s(ctx.reopen().loadMsg(1)!.msg), "Hello World");
    },
    {},
    PERMS[2],
  ));

blocked(
  "TestFileStoreStoreRawMsgVsConcurrentBlockRemovalNoWriteErr",
  "a goroutine race between stores and removals",
);
blocked("TestFileStoreStoreRawMsgVsAgeExpiryNoWriteErr", "a goroutine race between stores and age expiry");

Deno.test("TestFileStoreCompactStoreMsgRace: compact and a store right after it", () =>
  withFs({}, (fs) => {
    // Go races the two in goroutines; on one event loop they run one after the other.
    fs.storeMsg("foo", undefined, b("first"));
    assertEquals(fs.compact(2), 1);
    assertEquals(fs.storeMsg("foo", undefined, b("second")).seq, 2);
    assertEquals(fs.loadMsg(2)!.seq, 2);
    const state = fs.state();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq], [1, 2, 2]);
  }));

blocked("TestFileStoreDeleteMapView", "checks Go's interior delete map view over msgBlocks");

void ((_: Perm) => {});
