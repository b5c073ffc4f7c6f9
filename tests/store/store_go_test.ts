// Ports of the nats-server server/store_test.go tests (2025–2026 revision) that tests/store/store_suite.ts
// does not port yet, in Go's order. Like Go's testAllStoreAllPermutations, every test runs one step per
// store kind: MemStore and FileStore (and, where Go asks for it, FileStore under every cipher and
// compression). Steps for parts natsdeno has no API for are ignored with the reason.
import { assert, assertEquals } from "@std/assert";
import { MemStore } from "../../src/store/memstore.ts";
import { FileStore, type FsEncryption } from "../../src/store/filestore.ts";
import type { StoreConfig, StreamStore } from "../../src/store/store.ts";
import { matchLiteral } from "../../src/sublist/mod.ts";
import { b, storeConfig, storeErr } from "./store_suite.ts";

interface StoreCtx {
  cfg: StoreConfig;
  kind: "memory" | "file";
  dir: string;
  /** The step of this store kind, for sub-steps. */
  t: Deno.TestContext;
  /** File stores: stop and open the same directory again, with `cfg` if given (memory stores: undefined). */
  reopen?: (cfg?: StoreConfig) => StreamStore;
}

type StoreFn = (st: StreamStore, ctx: StoreCtx) => unknown;

const quiet = { warn: () => {}, error: () => {} };
const CIPHERS: [string, FsEncryption | undefined][] = [
  ["NoCipher", undefined],
  ["ChaCha", { key: "s3cr3t", cipher: "chachapoly", account: "$G" }],
  ["AES", { key: "s3cr3t", cipher: "aes", account: "$G" }],
];

async function runOn(
  t: Deno.TestContext,
  make: (cfg: StoreConfig, dir: string) => StreamStore,
  cfg: StoreConfig,
  kind: "memory" | "file",
  fn: StoreFn,
): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "natsdeno-storego-" });
  let st = make(cfg, dir);
  const ctx: StoreCtx = { cfg, kind, dir, t };
  if (kind === "file") {
    ctx.reopen = (c = cfg) => {
      st.stop();
      st = make(c, dir);
      return st;
    };
  }
  try {
    await fn(st, ctx);
  } finally {
    st.stop();
    Deno.removeSync(dir, { recursive: true });
  }
}

/**
 * Go's testAllStoreAllPermutations: a "Memory" step and a "File" step; with `permutations` the file step
 * runs once per cipher × compression, as Go's testFileStoreAllPermutations does.
 */
async function allStores(
  t: Deno.TestContext,
  over: Partial<StoreConfig>,
  fn: StoreFn,
  opts: { permutations?: boolean; memory?: boolean } = {},
): Promise<void> {
  if (opts.memory !== false) {
    await t.step("Memory", (t) => runOn(t, (c) => new MemStore(c), storeConfig(over), "memory", fn));
  }
  const fcfg = storeConfig({ ...over, storage: "file" });
  if (!opts.permutations) {
    await t.step(
      "File",
      (t) => runOn(t, (c, dir) => new FileStore(c, { dir, logger: quiet }), fcfg, "file", fn),
    );
    return;
  }
  for (const [cname, encryption] of CIPHERS) {
    for (const compression of ["none", "s2"] as const) {
      const cfg = { ...fcfg, compression };
      await t.step(
        `File/${cname}-${compression === "s2" ? "S2" : "None"}`,
        (t) => runOn(t, (c, dir) => new FileStore(c, { dir, logger: quiet, encryption }), cfg, "file", fn),
      );
    }
  }
}

const NONE = new Uint8Array(0);

function blockCount(dir: string): number {
  let n = 0;
  for (const e of Deno.readDirSync(`${dir}/msgs`)) if (/^\d+\.blk$/.test(e.name)) n++;
  return n;
}

Deno.test("TestStoreMaxMsgsPerUpdateToOneRemoveNewest: lowering max_msgs_per to 1 keeps the newest live copy", (t) =>
  allStores(t, { name: "TEST", subjects: ["foo.*"], maxMsgsPerSubject: -1 }, (st, ctx) => {
    st.storeMsg("foo.0", undefined, NONE);
    // 9 MiB of fillers roll a FileStore over its 8 MiB block, so the copies of foo.0 sit in different blocks.
    const big = new Uint8Array(1024 * 1024);
    const fill = (blocks: number) => {
      for (let i = 1; i <= 9; i++) st.storeMsg(`foo.${i}`, undefined, big);
      if (ctx.kind === "file") assert(blockCount(ctx.dir) >= blocks, `${blockCount(ctx.dir)} blocks`);
    };
    fill(2);
    const nseq = st.storeMsg("foo.0", undefined, NONE).seq;
    fill(3);
    const lseq = st.storeMsg("foo.0", undefined, NONE).seq;
    assert(st.removeMsg(lseq));

    st.updateConfig({ ...ctx.cfg, maxMsgsPerSubject: 1 });
    assertEquals(st.subjectsState("foo.0").get("foo.0"), { msgs: 1, first: nseq, last: nseq });
    assertEquals(st.loadLastMsg("foo.0")?.seq, nseq);
    assertEquals(st.loadNextMsg("foo.0", 0)?.seq, nseq);
    if (ctx.reopen !== undefined) {
      const st2 = ctx.reopen({ ...ctx.cfg, maxMsgsPerSubject: 1 });
      assertEquals(st2.loadLastMsg("foo.0")?.seq, nseq);
    }
  }));

Deno.test("TestStoreCompactFullyDeletedRange: compact onto a deleted run empties the store, first = last + 1", (t) =>
  allStores(t, { name: "TEST", subjects: ["foo"] }, (st) => {
    for (let i = 0; i < 3; i++) st.storeMsg("foo", undefined, NONE);
    st.removeMsg(2);
    st.removeMsg(3);
    let state = st.state();
    assertEquals([state.firstSeq, state.lastSeq], [1, 3]);
    st.compact(2);
    state = st.state();
    assertEquals([state.msgs, state.lastSeq, state.firstSeq, state.firstTime], [0, 3, 4, 0n]);
  }));

Deno.test("TestStorePurgeExSequenceOne: purgeEx up to sequence 1 purges nothing", (t) =>
  allStores(t, { name: "TEST", subjects: ["foo", "bar"] }, async (st, { t }) => {
    for (let i = 0; i < 5; i++) {
      st.storeMsg("foo", undefined, NONE);
      st.storeMsg("bar", undefined, NONE);
    }
    const before = st.state();
    const check = (subject: string, keep: number) => () => {
      assertEquals(st.purgeEx(subject, 1, keep), 0);
      const after = st.state();
      assertEquals([after.msgs, after.firstSeq, after.lastSeq], [
        before.msgs,
        before.firstSeq,
        before.lastSeq,
      ]);
    };
    // Only Go's first two sub-tests hold here. Upstream made sequence 1 a no-op for every filter in
    // nats-server PR #8241 (2026-05); natsdeno keeps the earlier rule, under which sequence 1 with a
    // literal subject, or with keep, purges as if no sequence were given. TestMemStorePurgeExWithSubject
    // (tests/store/memstore_test.ts) and TestFileStorePurgeExWithSubject (tests/store/filestore_go_test.ts),
    // ported from earlier revisions, assert that rule: the two cannot both pass.
    await t.step("empty-subject", check("", 0));
    await t.step("wildcard-subject", check(">", 0));
    // blocked: purgeEx("foo", 1, 0) purges all 5 "foo" messages (pre-#8241 rule, see above).
    await t.step({ name: "specific-subject", ignore: true, fn: check("foo", 0) });
    // blocked: purgeEx("", 1, 3) keeps the newest 3 and purges 7 (pre-#8241 rule, see above).
    await t.step({ name: "empty-subject-with-keep", ignore: true, fn: check("", 3) });
    // blocked: purgeEx("foo", 1, 3) keeps the newest 3 "foo" and purges 2 (pre-#8241 rule, see above).
    await t.step({ name: "specific-subject-with-keep", ignore: true, fn: check("foo", 3) });
  }, { permutations: true }));

Deno.test("TestStorePurgeExKeepWithInteriorDeletes: keep counts live messages, not sequences", (t) =>
  allStores(t, { name: "TEST", subjects: ["foo"] }, (st) => {
    for (let i = 0; i < 50; i++) st.storeMsg("foo", undefined, NONE);
    for (let seq = 2; seq <= 50; seq += 2) st.removeMsg(seq);
    let ss = st.state();
    assertEquals([ss.msgs, ss.firstSeq, ss.lastSeq], [25, 1, 50]);
    // The newest 5 live sequences are 41, 43, 45, 47 and 49.
    assertEquals(st.purgeEx("", 0, 5), 20);
    ss = st.state();
    assertEquals([ss.msgs, ss.firstSeq, ss.lastSeq], [5, 41, 50]);
  }));

Deno.test("TestStoreMsgLoadPrevMsg: the last message at or before a sequence, optionally filtered", (t) =>
  allStores(t, { name: "zzz", subjects: ["foo.*", "bar.*"] }, async (st, { t }) => {
    for (const subj of ["foo.1", "bar.1", "foo.2", "bar.2", "foo.3"]) st.storeMsg(subj, undefined, b("ZZZ"));
    await t.step("all subjects", () => {
      const sm = st.loadPrevMsg(5)!;
      assertEquals([sm.subject, sm.seq], ["foo.3", 5]);
    });
    await t.step("filtered", () => {
      let sm = st.loadPrevMsg(5, "foo.2")!;
      assertEquals([sm.subject, sm.seq], ["foo.2", 3]);
      sm = st.loadPrevMsg(5, "foo.*")!;
      assertEquals([sm.subject, sm.seq], ["foo.3", 5]);
      // Go answers ErrStoreEOF with the sequence it stopped at (1); natsdeno's miss is undefined.
      assertEquals(st.loadPrevMsg(5, "baz.*"), undefined);
    });
  }));

Deno.test("TestStoreMsgLoadPrevMsgMultiFullWildcardSkip: walking back over '>' visits every sequence", (t) =>
  allStores(t, { name: "zzz", subjects: ["foo.*"] }, (st) => {
    for (let i = 0; i < 10; i++) st.storeMsg(`foo.${i + 1}`, undefined, b("ZZZ"));
    const state = st.fastState();
    const filters = [">"];
    const got: number[] = [];
    for (let seq = state.lastSeq;;) {
      const sm = st.loadPrevMsgMulti(filters, seq);
      // Go's ErrStoreEOF also reports the first sequence; natsdeno's miss is undefined.
      if (sm === undefined) break;
      got.push(sm.seq);
      if (sm.seq === state.firstSeq) {
        assertEquals(st.loadPrevMsgMulti(filters, sm.seq - 1), undefined);
        break;
      }
      seq = sm.seq - 1;
    }
    assertEquals(got, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  }));

Deno.test("TestStoreSkipMsgsCarryForwardLastTime: skips keep the last message time; time lookups cross them", (t) =>
  allStores(t, { name: "zzz", subjects: ["foo"] }, (st) => {
    const dayNs = 86_400_000_000_000n;
    // 30 days ago, truncated to the second.
    const old = (BigInt(Date.now()) * 1_000_000n - 30n * dayNs) / 1_000_000_000n * 1_000_000_000n;
    st.storeRawMsg("foo", undefined, NONE, 1, old, 0n, false);
    let ss = st.fastState();
    assertEquals([ss.lastSeq, ss.lastTime], [1, old]);

    st.skipMsgs(2, 10);
    ss = st.fastState();
    assertEquals([ss.lastSeq, ss.lastTime], [11, old]);

    assertEquals(st.skipMsg(), 12);
    ss = st.fastState();
    assertEquals([ss.lastSeq, ss.lastTime], [12, old]);

    st.skipMsgs(13, 5);
    ss = st.fastState();
    assertEquals([ss.lastSeq, ss.lastTime], [17, old]);

    const newer = old + 15n * dayNs;
    st.storeRawMsg("foo", undefined, NONE, 18, newer, 0n, false);
    assertEquals(st.getSeqFromTime(old), 1);
    assertEquals(st.getSeqFromTime(old + 5n * dayNs), 18);
    assertEquals(st.getSeqFromTime(newer), 18);
  }));

Deno.test("TestStoreSkipMsgsCarryForwardLastTimeFromEmpty: the first skip stamps now, later skips keep it", async (t) => {
  const nowNs = () => BigInt(Date.now()) * 1_000_000n;
  // Go compares against its 100 ms access-time ticker; the wall clock with 5 ms of slack stands in for it.
  const slack = 5_000_000n;
  const fresh = (ss: { lastSeq: number; lastTime: bigint }) =>
    assertEquals([ss.lastSeq, ss.lastTime], [0, 0n]);
  await t.step("SkipMsg", (t) =>
    allStores(t, { name: "zzz", subjects: ["foo"] }, async (st) => {
      fresh(st.fastState());
      const before = nowNs();
      assertEquals(st.skipMsg(), 1);
      let ss = st.fastState();
      assertEquals(ss.lastSeq, 1);
      assert(
        ss.lastTime >= before - slack && ss.lastTime <= nowNs() + slack,
        `lastTime ${ss.lastTime - before}`,
      );
      const first = ss.lastTime;
      await new Promise((r) => setTimeout(r, 20));
      assertEquals(st.skipMsg(), 2);
      ss = st.fastState();
      assertEquals([ss.lastSeq, ss.lastTime], [2, first]);
    }));
  await t.step("SkipMsgs", (t) =>
    allStores(t, { name: "zzz", subjects: ["foo"] }, async (st) => {
      fresh(st.fastState());
      const before = nowNs();
      st.skipMsgs(1, 5);
      let ss = st.fastState();
      assertEquals(ss.lastSeq, 5);
      assert(
        ss.lastTime >= before - slack && ss.lastTime <= nowNs() + slack,
        `lastTime ${ss.lastTime - before}`,
      );
      const first = ss.lastTime;
      await new Promise((r) => setTimeout(r, 20));
      assertEquals(st.skipMsg(), 6);
      ss = st.fastState();
      assertEquals([ss.lastSeq, ss.lastTime], [6, first]);
    }));
});

Deno.test("TestStoreSkipMsgNoInterestAdvancesLastTime: a skip without interest moves the last time", (t) =>
  allStores(t, { name: "zzz", subjects: ["foo"] }, async (st) => {
    assertEquals(st.skipMsgNoInterest(0), 1);
    let ss = st.fastState();
    assertEquals([ss.msgs, ss.lastSeq], [0, 1]);
    const first = ss.lastTime;
    // Go sleeps two ticks of its 100 ms access-time clock; natsdeno stamps the precise clock.
    await new Promise((r) => setTimeout(r, 20));
    assertEquals(st.skipMsgNoInterest(0), 2);
    ss = st.fastState();
    assertEquals([ss.msgs, ss.lastSeq], [0, 2]);
    assert(ss.lastTime > first, `lastTime ${ss.lastTime} after ${first}`);
  }));

Deno.test(
  "TestStoreMultiLastMsgs: last message per subject between bounds, delivered in order with pending counts",
  (t) =>
    allStores(t, { name: "zzz", subjects: ["foo.*"] }, (st) => {
      // Three rounds over ten subjects: sequences 1-30, the last of foo.<i> is 21+i.
      for (let r = 0; r < 3; r++) for (let i = 0; i < 10; i++) st.storeMsg(`foo.${i}`, undefined, NONE);
      const load = (
        filters: string[],
        minSeq: number,
        maxSeq: number,
        maxAllowed: number,
        stopAfter: number,
      ) => {
        const msgs: { seq: number; np: number }[] = [];
        const { total, np } = st.multiLastMsgs(filters, minSeq, maxSeq, maxAllowed, (sm, np) => {
          msgs.push({ seq: sm.seq, np });
          return stopAfter === 0 || msgs.length < stopAfter;
        });
        return { msgs, total, np };
      };

      // The whole stream: the last per subject in sequence order, np counting down.
      let r = load(["foo.*"], 0, 0, -1, 0);
      assertEquals([r.total, r.np, r.msgs.length], [10, 0, 10]);
      r.msgs.forEach((d, i) => assertEquals(d, { seq: 21 + i, np: 9 - i }));

      // minSeq skips lower sequences; total still counts them.
      r = load(["foo.*"], 26, 0, -1, 0);
      assertEquals([r.total, r.np, r.msgs.length], [10, 0, 5]);
      r.msgs.forEach((d, i) => assertEquals(d, { seq: 26 + i, np: 4 - i }));

      // maxSeq takes the last at or below it, from an earlier round where needed.
      r = load(["foo.*"], 0, 25, -1, 0);
      assertEquals([r.total, r.np, r.msgs.length], [10, 0, 10]);
      r.msgs.forEach((d, i) => assertEquals(d.seq, 16 + i));

      // Stopping early leaves np at what is left.
      r = load(["foo.*"], 0, 0, -1, 3);
      assertEquals([r.total, r.np, r.msgs.length], [10, 7, 3]);

      // Past maxAllowed: an error, nothing delivered.
      const got: number[] = [];
      storeErr(() => st.multiLastMsgs(["foo.*"], 0, 0, 5, (sm) => got.push(sm.seq) > 0), "too_many_results");
      assertEquals(got.length, 0);

      // No matches.
      r = load(["bar.>"], 0, 0, -1, 0);
      assertEquals([r.total, r.msgs.length], [0, 0]);
    }),
);

Deno.test("TestStoreNumPendingLastPerSubjectExcludeOvercount: subjects whose last is below the start count 0", (t) =>
  allStores(t, { name: "zzz", subjects: ["foo.*"] }, async (st, { t }) => {
    const put = (subj: string) => st.storeMsg(subj, undefined, b("x"));
    for (let i = 0; i < 10; i++) put("foo.A"); // 1-10
    put("foo.B"); // 11
    put("foo.C"); // 12
    st.skipMsgs(13, 87); // 13-99
    put("foo.B"); // 100
    st.skipMsgs(101, 899); // 101-999
    put("foo.C"); // 1000
    await t.step("NumPending", () => {
      // foo.A's last (10) is below 13; foo.B (100) and foo.C (1000) count once each.
      assertEquals(st.numPending(13, "foo.*", true).total, 2);
    });
    await t.step("NumPendingMulti", () => {
      assertEquals(st.numPendingMulti(13, ["foo.*"], true).total, 2);
    });
  }));

Deno.test({
  name:
    "TestStoreSourcesOnlyTracksConfiguredSources: only configured sources' Nats-Stream-Source headers are tracked",
  // blocked: StreamStore has no sourcesState() (Go SourcesState) and StoreConfig carries no sources: natsdeno
  // recovers source positions in the jetstream layer, not in the store.
  ignore: true,
  fn() {},
});

// New tests (no Go original): the parts of Go's TestStoreStreamInteriorDeleteAccounting that the
// store_suite.ts port leaves out, for FileStore under every cipher × compression.

Deno.test("FileStore state after trailing removes, skips and truncates is identical after a restart and without blocks.db", async (t) => {
  const actions: [string, (st: StreamStore, lseq: number) => void][] = [
    ["TruncateWithRemove", (st, lseq) => {
      assertEquals(st.storeMsg("foo", undefined, NONE).seq, lseq);
      assert(st.removeMsg(lseq));
      st.truncate(lseq);
    }],
    ["TruncateWithErase", (st, lseq) => {
      assertEquals(st.storeMsg("foo", undefined, NONE).seq, lseq);
      assert(st.eraseMsg(lseq));
      st.truncate(lseq);
    }],
    ["SkipMsg", (st) => void st.skipMsg()],
    ["SkipMsgs", (st, lseq) => st.skipMsgs(lseq, 1)],
  ];
  for (const empty of [false, true]) {
    for (const [title, action] of actions) {
      await t.step(`Empty=${empty}/${title}`, async (t) => {
        await allStores(t, { name: "zzz", subjects: ["foo"] }, (st, ctx) => {
          let lseq = 0;
          if (!empty) lseq = st.storeMsg("foo", undefined, NONE).seq;
          lseq++;
          action(st, lseq);
          const before = st.state();
          assertEquals(
            [before.msgs, before.firstSeq, before.lastSeq],
            empty ? [0, 2, 1] : [1, 1, 2],
          );
          // The whole state, times and deleted list included, as Go's reflect.DeepEqual.
          const st2 = ctx.reopen!();
          assertEquals(st2.state(), before, "after a restart");
          st2.stop(); // (stop() is idempotent: the next reopen stops it again)
          Deno.removeSync(`${ctx.dir}/msgs/blocks.db`);
          assertEquals(ctx.reopen!().state(), before, "recovered from the blocks alone");
        }, { permutations: true, memory: false });
      });
    }
  }
});

// New test (no Go original): the multi-filter queries walk the per-subject index and switch between a scan
// and per-subject lookups; every answer is checked against a plain scan of the stored messages.
Deno.test("StreamStore multi-filter queries agree with a scan of every message", (t) =>
  allStores(t, { name: "zzz", subjects: [">"] }, (st) => {
    let x = 3;
    const rand = (n: number) => (x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff) % n;
    for (let i = 0; i < 2000; i++) {
      const k = rand(102);
      st.storeMsg(k === 101 ? "bar.x" : `foo.${k >> 1}.${k & 1 ? "b" : "a"}`, undefined, NONE);
    }
    for (let i = 0; i < 600; i++) st.removeMsg(1 + rand(2000));
    st.skipMsgs(0, 5);
    const live: { seq: number; subject: string }[] = [];
    for (let m = st.loadNextMsg("", 0); m !== undefined; m = st.loadNextMsg("", m.seq + 1)) {
      live.push({ seq: m.seq, subject: m.subject });
    }
    const any = (fs: string[], subj: string) => fs.some((f) => f === ">" || matchLiteral(subj, f));
    const lists = [
      ["foo.1.a", "foo.2.b"],
      ["foo.4.a", "foo.5.b", "foo.6.a", "foo.8.b"],
      ["foo.*.a", "bar.x"],
      ["foo.1.*", "foo.*.a", "foo.1.a"],
      ["foo.>", "foo.3.a"],
      ["nope", "foo.7.b", "foo.7.b"],
      ["baz.*", "nope.>"],
      ["foo.9.a", ">"],
      [],
    ];
    const last = st.fastState().lastSeq;
    for (const fs of lists) {
      const all = fs.length === 0 ? [">"] : fs;
      const starts = [0, 1, 2000, last, last + 5];
      for (let q = 17; q < last; q += 37) starts.push(q);
      for (const start of starts) {
        const tag = `${JSON.stringify(fs)} from ${start}`;
        const after = live.filter((m) => m.seq >= start && any(all, m.subject));
        const upTo = live.filter((m) => m.seq <= start && any(all, m.subject));
        assertEquals(st.loadNextMsgMulti(fs, start)?.seq, after[0]?.seq, `next ${tag}`);
        assertEquals(st.loadPrevMsgMulti(fs, start)?.seq, upTo.at(-1)?.seq, `prev ${tag}`);
        assertEquals(st.numPendingMulti(start, fs, false).total, after.length, `pending ${tag}`);
        const lastPer = new Set(live.filter((m) => any(all, m.subject)).map((m) => m.subject));
        const lastAfter = [...lastPer].filter((s) => live.findLast((m) => m.subject === s)!.seq >= start);
        assertEquals(st.numPendingMulti(start, fs, true).total, lastAfter.length, `last per subject ${tag}`);
        if (fs.length === 1 || fs.length === 2) {
          const f = fs[0];
          const want = live.filter((m) => m.seq <= start && any([f], m.subject)).at(-1)?.seq;
          assertEquals(st.loadPrevMsg(start, f)?.seq, want, `prev ${f} ${tag}`);
        }
      }
    }
  }));
