// Ports of nats-server server/filestore_test.go (2.9.10), in Go's order, one Deno.test per Go test. Tests of
// Go internals (block cache, per-block indexes, fss expiry, perf loops) are ignored with the reason.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { FileStore, type FileStoreOptions } from "../../src/store/filestore.ts";
import { type StoreConfig, StoreError } from "../../src/store/store.ts";
import { b, s, storeConfig } from "./store_suite.ts";
import { delay } from "../_helpers/server.ts";

type Ctx = { dir: string; cfg: StoreConfig; opts: Partial<FileStoreOptions>; reopen: () => FileStore };

async function withFs(
  over: Partial<StoreConfig>,
  fn: (fs: FileStore, ctx: Ctx) => unknown,
  opts: Partial<FileStoreOptions> = {},
): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "natsdeno-fsgo-" });
  const cfg = storeConfig({ storage: "file", ...over });
  const mk = () => new FileStore(cfg, { dir, logger: { warn: () => {}, error: () => {} }, ...opts });
  let fs = mk();
  const ctx: Ctx = {
    dir,
    cfg,
    opts,
    reopen: () => {
      fs.stop();
      fs = mk();
      return fs;
    },
  };
  try {
    await fn(fs, ctx);
  } finally {
    fs.stop();
    Deno.removeSync(dir, { recursive: true });
  }
}

const blocked = (name: string, why: string) => Deno.test({ name: `${name}: ${why}`, ignore: true, fn() {} });
const HW = b("Hello World");

Deno.test("TestFileStoreBasics: store, load, remove, state", () =>
  withFs({}, (fs) => {
    for (let i = 1; i <= 5; i++) {
      const { seq } = fs.storeMsg("foo", undefined, HW);
      assertEquals(seq, i);
    }
    const st = fs.state();
    assertEquals(st.msgs, 5);
    // Go's fileStoreMsgSize: 22 + subject + payload + 8.
    assertEquals(st.bytes, 5 * (22 + 3 + 11 + 8));
    const m = fs.loadMsg(2)!;
    assertEquals([m.subject, s(m.msg)], ["foo", "Hello World"]);
    assert(fs.removeMsg(1));
    assert(fs.removeMsg(3));
    assertEquals(fs.state().msgs, 3);
    assertEquals(fs.loadMsg(3), undefined);
  }));

Deno.test("TestFileStoreMsgHeaders: headers round-trip through a restart", () =>
  withFs({}, (fs, ctx) => {
    const hdr = b("NATS/1.0\r\nname:derek\r\n\r\n");
    fs.storeMsg("foo", hdr, HW);
    const m = ctx.reopen().loadMsg(1)!;
    assertEquals([s(m.hdr), s(m.msg)], [s(hdr), "Hello World"]);
  }));

Deno.test("TestFileStoreBasicWriteMsgsAndRestore: 100 then 200 messages survive restarts", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 1; i <= 100; i++) fs.storeMsg("foo", undefined, b(`[${i}] Hello World!`));
    let fs2 = ctx.reopen();
    assertEquals([fs2.state().msgs, fs2.state().lastSeq], [100, 100]);
    for (let i = 101; i <= 200; i++) fs2.storeMsg("foo", undefined, b(`[${i}] Hello World!`));
    fs2 = ctx.reopen();
    assertEquals(fs2.state().msgs, 200);
    assertEquals(s(fs2.loadMsg(150)!.msg), "[150] Hello World!");
    fs2.purge();
    fs2 = ctx.reopen();
    assertEquals([fs2.state().msgs, fs2.state().firstSeq, fs2.state().lastSeq], [0, 201, 200]);
  }, { blockSize: 1024 }));

Deno.test("TestFileStoreSelectNextFirst: removing a run at the head moves the first sequence", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("zzz", undefined, b("Hello World"));
    for (const q of [2, 3, 4, 5, 6, 7]) fs.removeMsg(q);
    assertEquals(fs.state().firstSeq, 1);
    fs.removeMsg(1);
    assertEquals(fs.state().firstSeq, 8);
    assertEquals(ctx.reopen().state().firstSeq, 8);
  }, { blockSize: 1024 }));

Deno.test("TestFileStoreSkipMsg: skips keep sequences across restarts", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.skipMsg();
    let st = fs.state();
    assertEquals([st.msgs, st.firstSeq, st.lastSeq], [0, 11, 10]);
    let fs2 = ctx.reopen();
    st = fs2.state();
    assertEquals([st.msgs, st.firstSeq, st.lastSeq], [0, 11, 10]);
    fs2.storeMsg("zzz", undefined, HW);
    fs2.skipMsg();
    fs2.skipMsg();
    fs2.storeMsg("zzz", undefined, HW);
    fs2.skipMsg();
    fs2 = ctx.reopen();
    st = fs2.state();
    assertEquals([st.msgs, st.firstSeq, st.lastSeq], [2, 11, 15]);
    assertEquals(fs2.loadMsg(14)!.seq, 14);
    assertEquals(fs2.loadMsg(12), undefined);
  }));

Deno.test("TestFileStoreWriteExpireWrite: max_age expiry between writes keeps sequences", () =>
  withFs({ maxAge: 50_000_000n }, async (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("zzz", undefined, HW);
    await delay(120);
    assertEquals(fs.state().msgs, 0);
    for (let i = 0; i < 10; i++) fs.storeMsg("zzz", undefined, HW);
    const fs2 = ctx.reopen();
    const st = fs2.state();
    assertEquals([st.firstSeq, st.lastSeq], [11, 20]);
  }));

Deno.test("TestFileStoreMsgLimit: max_msgs drops the oldest, also after restart", () =>
  withFs({ maxMsgs: 10 }, (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("foo", undefined, HW);
    fs.storeMsg("foo", undefined, HW);
    const st = fs.state();
    assertEquals([st.msgs, st.firstSeq, st.lastSeq], [10, 2, 11]);
    assertEquals(fs.loadMsg(1), undefined);
    const st2 = ctx.reopen().state();
    assertEquals([st2.msgs, st2.firstSeq, st2.lastSeq], [10, 2, 11]);
  }));

Deno.test("TestFileStoreMsgLimitBug: max_msgs 1 over a restart", () =>
  withFs({ maxMsgs: 1 }, (fs, ctx) => {
    fs.storeMsg("foo", undefined, HW);
    fs.storeMsg("foo", undefined, HW);
    const fs2 = ctx.reopen();
    fs2.storeMsg("foo", undefined, HW);
    assertEquals([fs2.state().msgs, fs2.state().firstSeq], [1, 3]);
  }));

Deno.test("TestFileStoreBytesLimit: max_bytes drops the oldest", () =>
  withFs({ maxBytes: 1024 }, (fs) => {
    for (let i = 0; i < 100; i++) fs.storeMsg("foo", undefined, new Uint8Array(100));
    const st = fs.state();
    assert(st.bytes <= 1024);
    assertEquals(st.lastSeq, 100);
    assertEquals(st.firstSeq, 100 - st.msgs + 1);
  }));

Deno.test("TestFileStoreAgeLimit: max_age expires everything", () =>
  withFs({ maxAge: 100_000_000n }, async (fs) => {
    for (let i = 0; i < 100; i++) fs.storeMsg("foo", undefined, HW);
    assertEquals(fs.state().msgs, 100);
    await delay(250);
    assertEquals(fs.state().msgs, 0);
  }, { blockSize: 1024 }));

Deno.test("TestFileStoreTimeStamps: store times increase and survive a restart", () =>
  withFs({}, (fs, ctx) => {
    const ts: bigint[] = [];
    for (let i = 0; i < 10; i++) ts.push(fs.storeMsg("foo", undefined, HW).ts);
    for (let i = 1; i < 10; i++) assert(ts[i] > ts[i - 1]);
    const fs2 = ctx.reopen();
    for (let i = 0; i < 10; i++) assertEquals(fs2.loadMsg(i + 1)!.ts, ts[i]);
    assertEquals(fs2.getSeqFromTime(ts[5]), 6);
  }));

Deno.test("TestFileStorePurge: purge empties the store and its blocks, sequences stay", () =>
  withFs({}, async (fs, ctx) => {
    for (let i = 0; i < 200; i++) fs.storeMsg("foo", undefined, new Uint8Array(100));
    assertEquals(fs.purge(), 200);
    await delay(10);
    const blks = [...Deno.readDirSync(`${ctx.dir}/msgs`)].filter((e) => e.name.endsWith(".blk"));
    assertEquals(blks.length, 1);
    const fs2 = ctx.reopen();
    const st = fs2.state();
    assertEquals([st.msgs, st.firstSeq, st.lastSeq], [0, 201, 200]);
    assertEquals(fs2.storeMsg("foo", undefined, HW).seq, 201);
  }, { blockSize: 2048 }));

Deno.test("TestFileStoreCompact: compact removes below a sequence, also after restart", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("foo", undefined, HW);
    assertEquals(fs.compact(6), 5);
    const st = ctx.reopen().state();
    assertEquals([st.msgs, st.firstSeq, st.lastSeq], [5, 6, 10]);
  }));

Deno.test("TestFileStoreCompactLastPlusOne: compact past the last empties, next seq follows", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 100; i++) fs.storeMsg("foo", undefined, new Uint8Array(200));
    fs.compact(101);
    const fs2 = ctx.reopen();
    assertEquals([fs2.state().msgs, fs2.state().firstSeq], [0, 101]);
    assertEquals(fs2.storeMsg("foo", undefined, HW).seq, 101);
  }, { blockSize: 4096 }));

Deno.test("TestFileStoreCompactMsgCountBug: counts after compact with interior deletes", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("foo", undefined, HW);
    fs.removeMsg(5);
    fs.removeMsg(6);
    assertEquals(fs.compact(4), 3);
    const st = ctx.reopen().state();
    assertEquals([st.msgs, st.firstSeq, st.numDeleted], [5, 4, 2]);
  }));

blocked("TestFileStoreCompactPerf", "a timing loop, not a behaviour (see bench/filestore_bench.ts)");

Deno.test("TestFileStoreStreamTruncate: truncate across blocks, also after restart", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 1; i <= 100; i++) fs.storeMsg(i <= 50 ? "foo" : "bar", undefined, new Uint8Array(50));
    fs.truncate(60);
    let st = fs.state();
    assertEquals([st.msgs, st.lastSeq], [60, 60]);
    const fs2 = ctx.reopen();
    st = fs2.state();
    assertEquals([st.msgs, st.lastSeq, st.numSubjects], [60, 60, 2]);
    fs2.removeMsg(55);
    fs2.truncate(40);
    const fs3 = ctx.reopen();
    st = fs3.state();
    assertEquals([st.msgs, st.lastSeq, st.numSubjects], [40, 40, 1]);
    assertEquals(fs3.storeMsg("baz", undefined, HW).seq, 41);
    assertThrows(() => fs3.truncate(100));
  }, { blockSize: 1024 }));

Deno.test("TestFileStoreRemovePartialRecovery: half removed, same state after restart", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 100; i++) fs.storeMsg("foo", undefined, HW);
    for (let i = 1; i <= 50; i++) fs.removeMsg(i);
    const st = fs.state();
    assertEquals(ctx.reopen().state(), st);
  }));

Deno.test("TestFileStoreRemoveOutOfOrderRecovery: evens removed, same state after restart", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 100; i++) fs.storeMsg("foo", undefined, HW);
    for (let i = 2; i <= 100; i += 2) assert(fs.removeMsg(i));
    const st = fs.state();
    const fs2 = ctx.reopen();
    assertEquals(fs2.state(), st);
    assert(fs2.loadMsg(1) !== undefined);
    for (let i = 2; i <= 100; i += 2) assertEquals(fs2.loadMsg(i), undefined);
  }));

Deno.test("TestFileStoreAgeLimitRecovery: messages that aged while down are gone at start", () =>
  withFs({ maxAge: 50_000_000n }, async (fs, ctx) => {
    for (let i = 0; i < 100; i++) fs.storeMsg("foo", undefined, HW);
    fs.stop();
    await delay(100);
    assertEquals(ctx.reopen().state().msgs, 0);
  }));

Deno.test("TestFileStoreBitRot: a reversed byte is detected and the store still restores", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 100; i++) fs.storeMsg("foo", undefined, HW);
    fs.stop();
    const p = `${ctx.dir}/msgs/1.blk`;
    const raw = Deno.readFileSync(p);
    let i: number;
    do i = 20 + Math.floor(Math.random() * (raw.length - 200)); while (raw[i] === reverse8(raw[i]));
    raw[i] = reverse8(raw[i]);
    Deno.writeFileSync(p, raw);
    const fs2 = ctx.reopen();
    assert(fs2.damage.length > 0);
    assert(fs2.state().msgs < 100);
    for (let q = 1; q <= 100; q++) {
      const m = fs2.loadMsg(q);
      if (m !== undefined) assertEquals(s(m.msg), "Hello World");
    }
  }));

function reverse8(x: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) r |= ((x >> i) & 1) << (7 - i);
  return r;
}

Deno.test("TestFileStoreEraseMsg: erased bytes are not on disk, neighbours intact", () =>
  withFs({}, (fs, ctx) => {
    fs.storeMsg("foo", undefined, b("secret-one"));
    fs.storeMsg("foo", undefined, b("two"));
    assert(fs.eraseMsg(1));
    assertEquals(fs.loadMsg(1), undefined);
    const raw = new TextDecoder().decode(Deno.readFileSync(`${ctx.dir}/msgs/1.blk`));
    assert(!raw.includes("secret-one"));
    assertEquals(s(ctx.reopen().loadMsg(2)!.msg), "two");
  }));

Deno.test("TestFileStoreEraseAndNoIndexRecovery: evens erased, recovery from blocks only", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 100; i++) fs.storeMsg("foo", undefined, HW);
    for (let i = 2; i <= 100; i += 2) assert(fs.eraseMsg(i));
    try {
      Deno.removeSync(`${ctx.dir}/msgs/blocks.db`);
    } catch {
      // none written yet
    }
    const fs2 = ctx.reopen();
    assertEquals(fs2.state().msgs, 50);
    for (let i = 2; i <= 100; i += 2) assertEquals(fs2.loadMsg(i), undefined);
  }));

Deno.test("TestFileStoreMeta: meta.inf, meta.sum and consumer meta are written and checked", () =>
  withFs({}, (fs, ctx) => {
    fs.setMeta({ created: "1", config: { name: "zzz", subjects: ["foo"] } });
    assertEquals(FileStore.readMeta(ctx.dir, "zzz"), {
      created: "1",
      config: { name: "zzz", subjects: ["foo"] },
    });
    assert(Deno.statSync(`${ctx.dir}/meta.sum`).size === 16);
    const cs = fs.consumerStore("obs22", { ackPolicy: "explicit", durable: true });
    (cs as unknown as { setMeta(m: unknown): void }).setMeta({ config: { durable_name: "obs22" } });
    assertEquals(fs.consumerNames(), ["obs22"]);
    assertEquals(fs.consumerMeta("obs22"), { config: { durable_name: "obs22" } });
    Deno.writeTextFileSync(`${ctx.dir}/meta.inf`, '{"config":{"name":"evil"}}');
    const err = assertThrows(() => FileStore.readMeta(ctx.dir, "zzz"));
    assert(err instanceof StoreError && err.code === "corrupt");
  }));

Deno.test("TestFileStoreWriteAndReadSameBlock: loads right after stores", () =>
  withFs({}, (fs) => {
    for (let i = 1; i <= 10; i++) {
      fs.storeMsg("foo", undefined, b(`${i}`));
      assertEquals(s(fs.loadMsg(i)!.msg), `${i}`);
    }
  }));

Deno.test("TestFileStoreAndRetrieveMultiBlock: many blocks, restart, every message loads", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 20; i++) fs.storeMsg("zzz", undefined, new Uint8Array(200).fill(i));
    const fs2 = ctx.reopen();
    const blks = [...Deno.readDirSync(`${ctx.dir}/msgs`)].filter((e) => e.name.endsWith(".blk"));
    assert(blks.length > 2);
    for (let i = 1; i <= 20; i++) assertEquals(fs2.loadMsg(i)!.msg[0], i - 1);
  }, { blockSize: 1024 }));

Deno.test("TestFileStoreCollapseDmap: interior deletes counted, then collapsed by head removals", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("foo", undefined, HW);
    for (const q of [2, 4, 8]) fs.removeMsg(q);
    assertEquals(fs.state().numDeleted, 3);
    fs.removeMsg(1);
    fs.removeMsg(3);
    assertEquals([fs.state().firstSeq, fs.state().numDeleted], [5, 1]);
    assertEquals(ctx.reopen().state().deleted, [8]);
  }));

blocked(
  "TestFileStoreReadCache",
  "Go's per-block cache expiry; natsdeno keeps the index and bytes in memory",
);
blocked("TestFileStorePartialCacheExpiration", "Go's per-block cache expiry");
blocked("TestFileStorePartialIndexes", "Go's per-block .idx files");
blocked(
  "TestFileStoreSnapshot",
  "stream snapshots are jetstream's (natsdeno's own archive), not the store's",
);

Deno.test("TestFileStoreConsumer: consumer state persists in o.dat and restores", () =>
  withFs({}, async (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("foo", undefined, HW);
    const cs = fs.consumerStore("obs22", { ackPolicy: "explicit", durable: true });
    assert(!cs.hasState());
    cs.updateDelivered(1, 1, 1, 1_000_000_000n);
    cs.updateDelivered(2, 2, 1, 2_000_000_000n);
    cs.updateDelivered(3, 3, 1, 3_000_000_000n);
    cs.updateAcks(1, 1);
    cs.updateDelivered(4, 2, 2, 4_000_000_000n);
    await cs.flushed();
    const want = cs.state();
    cs.stop();
    const fs2 = ctx.reopen();
    const cs2 = fs2.consumerStore("obs22", { ackPolicy: "explicit", durable: true });
    assert(cs2.hasState());
    const got = cs2.state();
    assertEquals([got.delivered, got.ackFloor], [want.delivered, want.ackFloor]);
    assertEquals([...got.pending.keys()], [...want.pending.keys()]);
    assertEquals([...got.redelivered], [...want.redelivered]);
  }));

blocked(
  "TestFileStoreConsumerEncodeDecodeRedelivered",
  "codec covered by the FileStore consumer tests",
);
blocked("TestFileStoreConsumerEncodeDecodePendingBelowStreamAckFloor", "codec covered as above");

Deno.test("TestFileStoreWriteFailures: a missing store directory gives a clear error", () => {
  const err = assertThrows(() =>
    new FileStore(storeConfig({ storage: "file" }), { dir: "/proc/natsdeno-no-such/stream" })
  );
  assert(err instanceof StoreError && err.code === "io", String(err));
});

blocked("TestFileStorePerf", "a timing loop (see bench/filestore_bench.ts)");
blocked("TestFileStoreReadBackMsgPerf", "a timing loop");
blocked("TestFileStoreStoreLimitRemovePerf", "a timing loop");
blocked("TestFileStorePubPerfWithSmallBlkSize", "a timing loop");

Deno.test("TestFileStoreConsumerRedeliveredLost: redelivery counts survive a restart", () =>
  withFs({}, async (fs, ctx) => {
    const cs = fs.consumerStore("o22", { ackPolicy: "explicit", durable: true });
    cs.updateDelivered(1, 1, 1, 1n);
    cs.updateDelivered(2, 1, 2, 2n);
    await cs.flushed();
    cs.stop();
    const cs2 = ctx.reopen().consumerStore("o22", { ackPolicy: "explicit", durable: true });
    assertEquals(cs2.state().redelivered.get(1), 1);
  }));

blocked(
  "TestFileStoreConsumerFlusher",
  "Go's flusher goroutine; flushed() batching is tested in filestore_recovery_test.ts",
);

Deno.test("TestFileStoreConsumerDeliveredUpdates: delivered moves with ack none", () =>
  withFs({}, (fs, ctx) => {
    const cs = fs.consumerStore("o22", { ackPolicy: "none", durable: true });
    for (let i = 1; i <= 5; i++) cs.updateDelivered(i, i, 1, 1n);
    assertEquals(cs.state().delivered, { consumerSeq: 5, streamSeq: 5 });
    assertThrows(() => cs.updateAcks(1, 1));
    cs.stop();
    const cs2 = ctx.reopen().consumerStore("o22", { ackPolicy: "none", durable: true });
    assertEquals(cs2.state().delivered, { consumerSeq: 5, streamSeq: 5 });
  }));

Deno.test("TestFileStoreConsumerDeliveredAndAckUpdates: ack floor and pending over a restart", () =>
  withFs({}, (fs, ctx) => {
    const cs = fs.consumerStore("o22", { ackPolicy: "explicit", durable: true });
    for (let i = 1; i <= 5; i++) cs.updateDelivered(i, i, 1, 1n);
    cs.updateAcks(1, 1);
    cs.updateAcks(3, 3);
    cs.stop();
    const cs2 = ctx.reopen().consumerStore("o22", { ackPolicy: "explicit", durable: true });
    const st = cs2.state();
    assertEquals(st.ackFloor, { consumerSeq: 1, streamSeq: 1 });
    assertEquals([...st.pending.keys()].sort(), [2, 4, 5]);
  }));

Deno.test("TestFileStoreStreamStateDeleted: deleted list through removals and a restart", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("foo", undefined, HW);
    for (const q of [2, 4, 6, 8]) fs.removeMsg(q);
    assertEquals(fs.state().deleted, [2, 4, 6, 8]);
    assertEquals(ctx.reopen().state().deleted, [2, 4, 6, 8]);
  }));

Deno.test("TestFileStoreStreamDeleteDirNotEmpty: delete() removes the directory with extra files", () =>
  withFs({}, (fs, ctx) => {
    fs.storeMsg("foo", undefined, HW);
    Deno.writeTextFileSync(`${ctx.dir}/g`, "x");
    fs.delete();
    assertThrows(() => Deno.statSync(ctx.dir));
    Deno.mkdirSync(ctx.dir);
  }));

blocked("TestFileStoreConsumerPerf", "a timing loop");

Deno.test("TestFileStoreStreamIndexBug: first message after a restart of an emptied store", () =>
  withFs({}, (fs, ctx) => {
    fs.storeMsg("foo", undefined, HW);
    fs.removeMsg(1);
    const fs2 = ctx.reopen();
    assertEquals(fs2.storeMsg("foo", undefined, HW).seq, 2);
    assertEquals(ctx.reopen().state().firstSeq, 2);
  }));

Deno.test("TestFileStoreStreamDeleteCacheBug: removals then loads across blocks", () =>
  withFs({}, (fs) => {
    for (let i = 0; i < 30; i++) fs.storeMsg("foo", undefined, new Uint8Array(100));
    for (let q = 1; q <= 25; q++) fs.removeMsg(q);
    assertEquals(fs.loadNextMsg(">", 1)!.seq, 26);
  }, { blockSize: 1024 }));

Deno.test("TestFileStoreStreamPurgeAndDirtyRestartBug: purge then kill-like reopen", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("foo", undefined, HW);
    fs.purge();
    fs.storeMsg("foo", undefined, HW);
    const st = ctx.reopen().state();
    assertEquals([st.msgs, st.firstSeq, st.lastSeq], [1, 11, 11]);
  }));

Deno.test("TestFileStoreStreamFailToRollBug: blocks roll over with max_bytes", () =>
  withFs({ maxBytes: 300 }, (fs, ctx) => {
    for (let i = 0; i < 200; i++) fs.storeMsg("zzz", undefined, b("ok".repeat(10)));
    const st = ctx.reopen().state();
    assert(st.bytes <= 300);
    assertEquals(st.lastSeq, 200);
  }, { blockSize: 1024 }));

Deno.test("TestFileStoreBadConsumerState: corrupt o.dat is refused with a clear error", () =>
  withFs({}, (fs, ctx) => {
    const cs = fs.consumerStore("o", { ackPolicy: "explicit", durable: true });
    cs.updateDelivered(1, 1, 1, 1n);
    cs.stop();
    Deno.writeFileSync(`${ctx.dir}/obs/o/o.dat`, new Uint8Array([1, 2, 3]));
    const err = assertThrows(() => ctx.reopen().consumerStore("o", { ackPolicy: "explicit", durable: true }));
    assert(err instanceof StoreError && err.code === "corrupt");
  }));

Deno.test("TestFileStoreExpireMsgsOnStart: max_age and max_msgs applied at start", () =>
  withFs({}, async (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("foo", undefined, HW);
    fs.stop();
    const st = new FileStore({ ...ctx.cfg, maxMsgs: 4 }, { dir: ctx.dir });
    assertEquals([st.state().msgs, st.state().firstSeq], [4, 7]);
    st.stop();
    await delay(30);
    const st2 = new FileStore({ ...ctx.cfg, maxAge: 10_000_000n }, { dir: ctx.dir });
    assertEquals([st2.state().msgs, st2.state().firstSeq, st2.state().lastSeq], [0, 11, 10]);
    st2.stop();
  }));

Deno.test("TestFileStoreSparseCompaction: a sparse block is rewritten smaller and restores", () =>
  withFs({}, async (fs, ctx) => {
    for (let i = 1; i <= 100; i++) fs.storeMsg(`kv.${i % 10}`, undefined, new Uint8Array(100).fill(i));
    const size = (n: string) => Deno.statSync(`${ctx.dir}/msgs/${n}`).size;
    const before = size("2.blk");
    for (let q = 1; q <= 100; q++) if (q % 3 !== 0) fs.removeMsg(q);
    await delay(10);
    assert(size("2.blk") < before, `${size("2.blk")} >= ${before}`);
    const st = fs.state();
    const fs2 = ctx.reopen();
    assertEquals(fs2.state(), st);
    assertEquals(fs2.loadMsg(99)!.msg[0], 99);
  }, { blockSize: 2048 }));

Deno.test("TestFileStoreSparseCompactionWithInteriorDeletes: compaction keeps interior deletes", () =>
  withFs({}, async (fs, ctx) => {
    for (let i = 1; i <= 1000; i++) fs.storeMsg(`kv.${i % 10}`, undefined, HW);
    for (let q = 500; q <= 600; q++) fs.removeMsg(q);
    for (let q = 1; q <= 400; q++) fs.removeMsg(q);
    await delay(10);
    const st = fs.state();
    assertEquals(ctx.reopen().state(), st);
  }, { blockSize: 2048 }));

Deno.test("TestFileStorePurgeExKeepOneBug: purgeEx keep 1 of a subject", () =>
  withFs({}, (fs, ctx) => {
    fs.storeMsg("A", undefined, b("META"));
    fs.storeMsg("B", undefined, new Uint8Array(64));
    fs.storeMsg("A", undefined, b("META"));
    fs.storeMsg("B", undefined, new Uint8Array(64));
    assertEquals(fs.purgeEx("A", 0, 1), 1);
    assertEquals(fs.loadMsg(1), undefined);
    assertEquals(ctx.reopen().filteredState(1, "A").msgs, 1);
  }));

Deno.test("TestFileStoreRemoveLastWriteIndex: removing the last message keeps last seq over restart", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("foo", undefined, HW);
    fs.removeMsg(10);
    const st = ctx.reopen().state();
    assertEquals([st.msgs, st.lastSeq], [9, 10]);
  }));

Deno.test("TestFileStoreFilteredPendingBug: filtered state after a restart", () =>
  withFs({}, (fs, ctx) => {
    fs.storeMsg("foo", undefined, b("msg"));
    fs.storeMsg("bar", undefined, b("msg"));
    fs.storeMsg("baz", undefined, b("msg"));
    assertEquals(ctx.reopen().filteredState(3, "foo"), { msgs: 0, first: 0, last: 0 });
  }));

blocked("TestFileStoreFetchPerf", "a timing loop");

Deno.test("TestFileStoreCompactReclaimHeadSpace: compaction frees the head blocks", () =>
  withFs({}, async (fs, ctx) => {
    for (let i = 0; i < 100; i++) fs.storeMsg("foo", undefined, new Uint8Array(200));
    const n0 = [...Deno.readDirSync(`${ctx.dir}/msgs`)].filter((e) => e.name.endsWith(".blk")).length;
    fs.compact(80);
    await delay(10);
    const n1 = [...Deno.readDirSync(`${ctx.dir}/msgs`)].filter((e) => e.name.endsWith(".blk")).length;
    assert(n1 < n0, `${n1} >= ${n0}`);
    const fs2 = ctx.reopen();
    assertEquals([fs2.state().msgs, fs2.state().firstSeq], [21, 80]);
    assertEquals(fs2.loadMsg(90)!.msg.length, 200);
  }, { blockSize: 2048 }));

Deno.test("TestFileStoreRememberLastMsgTime: last time kept when the last message is removed", () =>
  withFs({}, (fs, ctx) => {
    fs.storeMsg("foo", undefined, HW);
    const { ts } = fs.storeMsg("foo", undefined, HW);
    fs.removeMsg(2);
    assertEquals(fs.state().lastTime, ts);
    assertEquals(ctx.reopen().state().lastTime, ts);
  }));

Deno.test("TestFileStoreRebuildStateDmapAccountingBug: deleted counts after rebuild", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 100; i++) fs.storeMsg("foo", undefined, HW);
    for (let q = 2; q <= 99; q += 3) fs.removeMsg(q);
    const st = fs.state();
    assertEquals(ctx.reopen().state().numDeleted, st.numDeleted);
  }, { blockSize: 1024 }));

Deno.test("TestFileStorePurgeExWithSubject: purgeEx of one subject across blocks", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 200; i++) fs.storeMsg(i % 2 ? "foo.1" : "foo.2", undefined, new Uint8Array(32));
    assertEquals(fs.purgeEx("foo.1", 1, 0), 100);
    const fs2 = ctx.reopen();
    assertEquals([fs2.state().msgs, fs2.filteredState(1, "foo.1").msgs], [100, 0]);
  }, { blockSize: 1024 }));

blocked("TestFileStoreShortIndexWriteBug", "Go's .idx files");

Deno.test("TestFileStoreDoubleCompactWithWriteInBetweenEncryptedBug: encrypted compacts with writes between", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 5; i++) fs.storeMsg("foo", undefined, b("ouch"));
    fs.compact(5);
    fs.storeMsg("foo", undefined, b("ouch"));
    fs.compact(6);
    const fs2 = ctx.reopen();
    const st = fs2.state();
    assertEquals([st.msgs, st.firstSeq, st.lastSeq], [1, 6, 6]);
    assertEquals(s(fs2.loadMsg(6)!.msg), "ouch");
  }, { encryption: { key: "s3cr3t", cipher: "chachapoly", account: "$G" } }));

Deno.test("TestFileStoreEncryptedKeepIndexNeedBekResetBug: encrypted store after expiry and restart", () =>
  withFs({ maxAge: 30_000_000n }, async (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg("foo", undefined, b("ouch"));
    await delay(80);
    for (let i = 0; i < 10; i++) fs.storeMsg("foo", undefined, b("ouch"));
    const fs2 = ctx.reopen();
    assertEquals(fs2.loadMsg(15) !== undefined || fs2.state().msgs === 0, true);
    assertEquals(fs2.state().lastSeq, 20);
  }, { encryption: { key: "s3cr3t", cipher: "aes", account: "$G" } }));

blocked("TestFileStoreExpireSubjectMeta", "Go's fss expiry");

Deno.test("TestFileStoreMaxMsgsPerSubject: limit per subject, also after restart", () =>
  withFs({ maxMsgsPerSubject: 1 }, (fs, ctx) => {
    for (let i = 0; i < 10; i++) fs.storeMsg(`kv.${i % 3}`, undefined, b(`${i}`));
    assertEquals(fs.state().msgs, 3);
    const fs2 = ctx.reopen();
    assertEquals(fs2.state().msgs, 3);
    assertEquals(s(fs2.loadLastMsg("kv.0")!.msg), "9");
  }));

blocked("TestFileStoreSubjectStateCacheExpiration", "Go's fss expiry");

Deno.test("TestFileStoreEncryptedAES: AES store round-trips over a restart", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 100; i++) fs.storeMsg("foo", undefined, HW);
    const fs2 = ctx.reopen();
    assertEquals(fs2.state().msgs, 100);
    assertEquals(s(fs2.loadMsg(50)!.msg), "Hello World");
  }, { encryption: { key: "s3cr3t", cipher: "aes", account: "$G" } }));

blocked("TestFileStoreNoFSSWhenNoSubjects", "Go's fss internals");
blocked("TestFileStoreNoFSSBugAfterRemoveFirst", "Go's fss internals");
blocked("TestFileStoreNoFSSAfterRecover", "Go's fss internals");
blocked("TestFileStoreFSSCloseAndKeepOnExpireOnRecoverBug", "Go's fss internals");
blocked("TestFileStoreFSSBadStateBug", "Go's fss internals");

Deno.test("TestFileStoreFSSExpireNumPendingBug: numPending after max_age expiry", () =>
  withFs({ maxAge: 30_000_000n }, async (fs) => {
    fs.storeMsg("KV.X", undefined, b("Y"));
    await delay(80);
    fs.storeMsg("KV.X", undefined, b("Z"));
    assertEquals(fs.numPending(1, "KV.X", false).total, 1);
  }));

Deno.test("TestFileStoreFilteredFirstMatchingBug: loadNextMsg filter across blocks", () =>
  withFs({}, (fs, ctx) => {
    fs.storeMsg("foo.foo", undefined, b("A"));
    fs.storeMsg("foo.foo", undefined, b("B"));
    fs.storeMsg("foo.foo", undefined, b("C"));
    fs.storeMsg("foo.bar", undefined, b("X"));
    const fs2 = ctx.reopen();
    assertEquals(fs2.loadNextMsg("foo.bar", 1)!.seq, 4);
    assertEquals(fs2.loadNextMsg("foo.*", 2)!.seq, 2);
  }, { blockSize: 64 * 4 }));

blocked(
  "TestFileStoreOutOfSpaceRebuildState",
  "needs a full disk (ENOSPC); the write path cuts partial records and rejects flushed()",
);

Deno.test("TestFileStoreRebuildStateProperlyWithMaxMsgsPerSubject: restart with per-subject limit", () =>
  withFs({ maxMsgsPerSubject: 1 }, (fs, ctx) => {
    fs.storeMsg("foo", undefined, b("A"));
    fs.storeMsg("bar", undefined, b("B"));
    fs.storeMsg("baz", undefined, b("C"));
    fs.removeMsg(2);
    const st = ctx.reopen().state();
    assertEquals([st.msgs, st.numSubjects, st.deleted], [2, 2, [2]]);
  }));

Deno.test("TestFileStoreUpdateMaxMsgsPerSubject: lowering the limit applies at once and persists", () =>
  withFs({ maxMsgsPerSubject: 10 }, (fs, ctx) => {
    for (let i = 0; i < 50; i++) fs.storeMsg(`foo.${i % 5}`, undefined, HW);
    fs.updateConfig({ ...ctx.cfg, maxMsgsPerSubject: 3 });
    assertEquals(fs.state().msgs, 15);
    const fs2 = ctx.reopen();
    assertEquals(fs2.state().msgs, 15);
  }));

Deno.test("TestFileStoreBadFirstAndFailedExpireAfterRestart: first seq right after expiry over restart", () =>
  withFs({ maxAge: 50_000_000n }, async (fs, ctx) => {
    for (let i = 0; i < 7; i++) fs.storeMsg("foo", undefined, HW);
    fs.removeMsg(1);
    await delay(120);
    const fs2 = ctx.reopen();
    fs2.storeMsg("foo", undefined, HW);
    const st = fs2.state();
    assertEquals([st.msgs, st.firstSeq, st.lastSeq], [1, 8, 8]);
  }, { blockSize: 1024 }));

Deno.test("TestFileStoreCompactAllWithDanglingLMB: compact past the last leaves a usable store", () =>
  withFs({}, (fs, ctx) => {
    for (let i = 0; i < 100; i++) fs.storeMsg("foo", undefined, b("ZZZ"));
    fs.compact(101);
    const fs2 = ctx.reopen();
    assertEquals(fs2.state().msgs, 0);
    assertEquals(fs2.storeMsg("foo", undefined, b("ZZZ")).seq, 101);
  }, { blockSize: 1024 }));
