// Ports server/memstore_test.go (nats-server, 2024 revision) and runs the shared store suite on MemStore.
import { assert, assertEquals } from "@std/assert";
import { MemStore, memStoreMsgSize } from "../../src/store/memstore.ts";
import type { StoreConfig } from "../../src/store/store.ts";
import { checkFor, delay } from "../_helpers/server.ts";
import { b, runStoreSuite, s, storeConfig, storeErr } from "./store_suite.ts";

runStoreSuite("memory", (cfg) => new MemStore(cfg), { persistent: false, sizes: "memory" });

function newMemStore(over: Partial<StoreConfig> = {}): MemStore {
  return new MemStore(storeConfig(over));
}

function withMem(over: Partial<StoreConfig>, fn: (ms: MemStore) => unknown): () => Promise<void> {
  return async () => {
    const ms = newMemStore(over);
    try {
      await fn(ms);
    } finally {
      ms.stop();
    }
  };
}

// Deterministic stand-in for Go's math/rand in the randomized tests.
function rng(seed: number): (n: number) => number {
  let x = seed;
  return (n) => (x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff) % n;
}

Deno.test(
  "TestMemStoreBasics: a stored message has seq 1, a current time and its bytes",
  withMem({}, (ms) => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const { seq, ts } = ms.storeMsg("foo", undefined, b("Hello World"));
    assertEquals(seq, 1);
    assert(ts >= now - 5_000_000n && ts <= now + 50_000_000n, `ts ${ts - now}`);
    const state = ms.state();
    assertEquals(state.msgs, 1);
    assertEquals(state.bytes, memStoreMsgSize("foo", undefined, b("Hello World")));
    const sm = ms.loadMsg(1)!;
    assertEquals([sm.subject, s(sm.msg)], ["foo", "Hello World"]);
  }),
);

Deno.test(
  "TestMemStoreMsgLimit: max_msgs keeps 10 and drops seq 1",
  withMem({ maxMsgs: 10 }, (ms) => {
    for (let i = 0; i < 10; i++) ms.storeMsg("foo", undefined, b("Hello World"));
    assertEquals(ms.state().msgs, 10);
    ms.storeMsg("foo", undefined, b("Hello World"));
    const state = ms.state();
    assertEquals([state.msgs, state.lastSeq, state.firstSeq], [10, 11, 2]);
    assertEquals(ms.loadMsg(1), undefined);
  }),
);

Deno.test("TestMemStoreBytesLimit: max_bytes keeps the newest 1024 messages", async () => {
  const msg = new Uint8Array(512);
  const size = memStoreMsgSize("foo", undefined, msg);
  const toStore = 1024;
  await withMem({ maxBytes: size * toStore }, (ms) => {
    for (let i = 0; i < toStore; i++) ms.storeMsg("foo", undefined, msg);
    assertEquals([ms.state().msgs, ms.state().bytes], [toStore, size * toStore]);
    for (let i = 0; i < 10; i++) ms.storeMsg("foo", undefined, msg);
    const state = ms.state();
    assertEquals([state.msgs, state.bytes, state.firstSeq, state.lastSeq], [
      toStore,
      size * toStore,
      11,
      toStore + 10,
    ]);
  })();
});

Deno.test("TestMemStoreBytesLimitWithDiscardNew: discard new refuses past max_bytes", async () => {
  const msg = new Uint8Array(7);
  const size = memStoreMsgSize("tiny", undefined, msg);
  await withMem({ maxBytes: 100, discardNew: true }, (ms) => {
    for (let i = 0; i < 10; i++) {
      if (i < 3) ms.storeMsg("tiny", undefined, msg);
      else storeErr(() => ms.storeMsg("tiny", undefined, msg), "max_bytes");
    }
    assertEquals([ms.state().msgs, ms.state().bytes], [3, size * 3]);
  })();
});

Deno.test(
  "TestMemStoreAgeLimit: max_age expires everything, and again after more stores",
  withMem({ maxAge: 10_000_000n }, async (ms) => {
    const expired = () =>
      checkFor(1000, 10, () => {
        assertEquals(ms.state().msgs, 0);
        assertEquals(ms.state().bytes, 0);
      });
    for (let i = 0; i < 100; i++) ms.storeMsg("foo", undefined, b("Hello World"));
    assertEquals(ms.state().msgs, 100);
    await expired();
    for (let i = 0; i < 100; i++) ms.storeMsg("foo", undefined, b("Hello World"));
    assertEquals(ms.state().msgs, 100);
    await expired();
  }),
);

Deno.test(
  "TestMemStoreTimeStamps: each message gets a later timestamp",
  withMem({}, async (ms) => {
    let last = BigInt(Date.now()) * 1_000_000n - 5_000_000n;
    for (let i = 0; i < 10; i++) {
      await delay(0);
      ms.storeMsg("foo", undefined, b("Hello World"));
    }
    for (let seq = 1; seq <= 10; seq++) {
      const sm = ms.loadMsg(seq)!;
      assert(sm.ts > last, `seq ${seq}`);
      last = sm.ts;
    }
  }),
);

Deno.test(
  "TestMemStorePurge: purge leaves no messages",
  withMem({}, (ms) => {
    for (let i = 0; i < 10; i++) ms.storeMsg("foo", undefined, b("Hello World"));
    assertEquals(ms.state().msgs, 10);
    ms.purge();
    assertEquals(ms.state().msgs, 0);
  }),
);

Deno.test(
  "TestMemStoreCompact: compact(6) purges 5; compact past the end resets first",
  withMem({}, (ms) => {
    for (let i = 0; i < 10; i++) ms.storeMsg("foo", undefined, b("Hello World"));
    assertEquals(ms.compact(6), 5);
    assertEquals([ms.state().msgs, ms.state().firstSeq], [5, 6]);
    assertEquals(ms.compact(100), 5);
    assertEquals(ms.state().firstSeq, 100);
  }),
);

Deno.test(
  "TestMemStoreEraseMsg: erase succeeds on a stored message",
  withMem({}, (ms) => {
    ms.storeMsg("foo", undefined, b("Hello World"));
    assertEquals(s(ms.loadMsg(1)!.msg), "Hello World");
    assert(ms.eraseMsg(1));
  }),
);

Deno.test(
  "TestMemStoreMsgHeaders: headers are stored, counted and returned",
  withMem({}, (ms) => {
    const hdr = b("name:derek");
    const msg = b("Hello World");
    assertEquals(memStoreMsgSize("foo", hdr, msg), 3 + hdr.length + msg.length + 16);
    ms.storeMsg("foo", hdr, msg);
    const sm = ms.loadMsg(1)!;
    assertEquals([s(sm.msg), s(sm.hdr)], ["Hello World", "name:derek"]);
    assert(ms.eraseMsg(1));
  }),
);

Deno.test(
  "TestMemStoreStreamStateDeleted: deleted lists interior removals only",
  withMem({}, (ms) => {
    for (let i = 1; i <= 10; i++) {
      ms.storeMsg("foo", undefined, b(`[${String(i).padStart(8, "0")}] Hello World!`));
    }
    assertEquals(ms.state().deleted, []);
    const expected: number[] = [];
    for (let seq = 2; seq < 10; seq += 2) {
      ms.removeMsg(seq);
      expected.push(seq);
    }
    assertEquals(ms.state().deleted, expected);
    ms.removeMsg(1);
    ms.removeMsg(3);
    assertEquals(ms.state().deleted, expected.slice(2));
    assertEquals(ms.state().firstSeq, 5);
    ms.purge();
    assertEquals(ms.state().deleted, []);
  }),
);

Deno.test(
  "TestMemStoreStreamTruncate: truncate keeps interior deletes below and subject counts",
  withMem({}, (ms) => {
    const tseq = 50;
    for (let i = 1; i < tseq; i++) ms.storeMsg("foo", undefined, b("ok"));
    for (let i = tseq; i <= 100; i++) ms.storeMsg("bar", undefined, b("ok"));
    assertEquals(ms.state().msgs, 100);
    storeErr(() => ms.truncate(101), "invalid_sequence");
    ms.truncate(tseq);
    assertEquals(ms.state().msgs, tseq);
    ms.removeMsg(10);
    ms.removeMsg(20);
    ms.removeMsg(30);
    ms.removeMsg(40);
    ms.truncate(25);
    const state = ms.state();
    assertEquals([state.msgs, state.numSubjects, state.deleted], [23, 1, [10, 20]]);
  }),
);

Deno.test(
  "TestMemStorePurgeExWithSubject: purgeEx(subject, 1, 0) purges all of it",
  withMem({}, (ms) => {
    for (let i = 0; i < 100; i++) ms.storeMsg("foo", undefined, new Uint8Array(0));
    ms.purgeEx("foo", 1, 0);
    assertEquals(ms.state().msgs, 0);
  }),
);

Deno.test(
  "TestMemStoreUpdateMaxMsgsPerSubject: raising then lowering max_msgs_per applies",
  withMem({ name: "TEST", subjects: ["foo"], maxMsgsPerSubject: 10 }, (ms) => {
    const cfg = storeConfig({ name: "TEST", subjects: ["foo"], maxMsgsPerSubject: 50 });
    ms.updateConfig(cfg);
    for (let i = 0; i < 22; i++) ms.storeMsg("foo", undefined, new Uint8Array(0));
    assertEquals(ms.subjectsState("foo").get("foo")!.msgs, 22);
    ms.updateConfig({ ...cfg, maxMsgsPerSubject: 10 });
    assertEquals(ms.subjectsState("foo").get("foo")!.msgs, 10);
  }),
);

Deno.test(
  "TestMemStoreStreamTruncateReset: truncate(0) resets and the store starts over at 1",
  withMem({ name: "TEST", subjects: ["foo"] }, (ms) => {
    for (let i = 0; i < 1000; i++) ms.storeMsg("foo", undefined, b("Hello World"));
    ms.truncate(0);
    let state = ms.state();
    assertEquals([
      state.msgs,
      state.bytes,
      state.firstSeq,
      state.lastSeq,
      state.numSubjects,
      state.numDeleted,
    ], [
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
    for (let i = 0; i < 1000; i++) ms.storeMsg("foo", undefined, b("Hello World"));
    state = ms.state();
    assertEquals([
      state.msgs,
      state.bytes,
      state.firstSeq,
      state.lastSeq,
      state.numSubjects,
      state.numDeleted,
    ], [
      1000,
      30000,
      1,
      1000,
      1,
      0,
    ]);
  }),
);

Deno.test(
  "TestMemStoreStreamCompactMultiBlockSubjectInfo: compact drops the subjects it empties",
  withMem({ name: "TEST", subjects: ["foo.*"] }, (ms) => {
    for (let i = 0; i < 1000; i++) ms.storeMsg(`foo.${i}`, undefined, b("Hello World"));
    assertEquals(ms.compact(501), 500);
    assertEquals(ms.state().numSubjects, 500);
  }),
);

Deno.test(
  "TestMemStoreSubjectsTotals: totals per subject and per wildcard",
  withMem({ name: "TEST", subjects: ["*.*"] }, (ms) => {
    const rand = rng(7);
    const fmap = new Map<number, number>();
    const bmap = new Map<number, number>();
    for (let i = 0; i < 10_000; i++) {
      const [ft, m] = rand(2) === 0 ? ["foo", fmap] as const : ["bar", bmap] as const;
      const dt = rand(100);
      m.set(dt, (m.get(dt) ?? 0) + 1);
      ms.storeMsg(`${ft}.${dt}`, undefined, b("Hello World"));
    }
    for (const [dt, total] of fmap) {
      assertEquals(ms.subjectsTotals(`foo.${dt}`).get(`foo.${dt}`), total);
    }
    const sum = (m: Map<unknown, number>) => [...m.values()].reduce((a, v) => a + v, 0);
    const ft = ms.subjectsTotals("foo.*");
    assertEquals([ft.size, sum(ft)], [fmap.size, sum(fmap)]);
    const bt = ms.subjectsTotals("bar.*");
    assertEquals([bt.size, sum(bt)], [bmap.size, sum(bmap)]);
    assertEquals(ms.subjectsTotals("*.*").size, fmap.size + bmap.size);
  }),
);

Deno.test(
  "TestMemStoreNumPending: numPending and filteredState agree with a scan",
  withMem({ name: "TEST", subjects: ["*.*.*.*"] }, (ms) => {
    const rand = rng(11);
    const tokens = ["foo", "bar", "baz"];
    const gen = () => [0, 1, 2, 3].map(() => tokens[rand(3)]).join(".");
    for (let i = 0; i < 50_000; i++) ms.storeMsg(gen(), undefined, b("Hello World"));
    const state = ms.state();
    const match = (subj: string, filter: string) => {
      const a = subj.split(".");
      const f = filter.split(".");
      for (let i = 0; i < f.length; i++) {
        if (f[i] === ">") return true;
        if (i >= a.length || (f[i] !== "*" && f[i] !== a[i])) return false;
      }
      return a.length === f.length;
    };
    const scan = (sseq: number, filter: string) => {
      const ss = { msgs: 0, first: 0, last: 0 };
      for (let seq = Math.max(1, sseq); seq <= state.lastSeq; seq++) {
        const sm = ms.loadMsg(seq);
        if (sm && match(sm.subject, filter)) {
          ss.msgs++;
          ss.last = seq;
          if (ss.first === 0) ss.first = seq;
        }
      }
      return ss;
    };
    const scanLast = (sseq: number, filter: string) => {
      const seen = new Set<string>();
      for (let seq = state.lastSeq; seq >= Math.max(1, sseq); seq--) {
        const sm = ms.loadMsg(seq);
        if (sm && match(sm.subject, filter)) seen.add(sm.subject);
      }
      return seen.size;
    };
    const starts = [0, 1, 2, 200, 444, 555, 2222, 8888, 12_345, 28_222, 33_456, 44_400, 49_999];
    const filters = ["foo.>", "*.bar.>", "foo.bar.*.baz", "*.bar.>", "*.foo.bar.*", "foo.foo.bar.baz"];
    for (const filter of filters) {
      for (const start of starts) {
        const np = ms.numPending(start, filter, false);
        assertEquals(np.validThrough, state.lastSeq);
        const fs = ms.filteredState(start, filter);
        assertEquals(np.total, fs.msgs);
        assertEquals(fs, scan(start, filter), `${filter} from ${start}`);
        const lp = ms.numPending(start, filter, true);
        assertEquals(lp.validThrough, state.lastSeq);
        assertEquals(lp.total, scanLast(start, filter), `last per subject ${filter} from ${start}`);
      }
    }
  }),
);

Deno.test(
  "TestMemStoreInitialFirstSeq: first_seq 1000 numbers the first message 1000",
  withMem({ name: "zzz", firstSeq: 1000 }, (ms) => {
    assertEquals(ms.storeMsg("A", undefined, b("OK")).seq, 1000);
    assertEquals(ms.storeMsg("B", undefined, b("OK")).seq, 1001);
    const state = ms.fastState();
    assertEquals([state.msgs, state.firstSeq, state.lastSeq], [2, 1000, 1001]);
  }),
);

Deno.test(
  "TestMemStoreDeleteBlocks: numDeleted equals the deleted list after 5k random removals",
  withMem({ name: "zzz", subjects: ["*"] }, (ms) => {
    const total = 10_000;
    for (let i = 0; i < total; i++) ms.storeMsg("A", undefined, b("OK"));
    const rand = rng(3);
    const del = new Set<number>();
    while (del.size < 5000) del.add(rand(total) + 1);
    for (const seq of del) ms.removeMsg(seq);
    const fast = ms.fastState();
    assertEquals(ms.state().deleted!.length, fast.numDeleted);
  }),
);

Deno.test(
  "TestMemStoreGetSeqFromTimeWithLastDeleted: a time in the middle finds 501 with the tail deleted",
  withMem({ name: "zzz", subjects: ["*"] }, async (ms) => {
    let st = 0n;
    for (let i = 1; i <= 1000; i++) {
      ms.storeMsg("A", undefined, b("OK"));
      if (i === 500) {
        await delay(100);
        st = BigInt(Date.now()) * 1_000_000n;
      }
    }
    for (let seq = 900; seq <= 1000; seq++) ms.removeMsg(seq);
    assertEquals(ms.getSeqFromTime(st), 501);
  }),
);

Deno.test("TestMemStoreSkipMsgs: skipMsgs on empty and non-empty stores", async () => {
  await withMem({ name: "zzz", subjects: ["*"] }, (ms) => {
    storeErr(() => ms.skipMsgs(10, 100), "sequence_mismatch");
    ms.skipMsgs(1, 100);
    assertEquals([ms.state().firstSeq, ms.state().lastSeq], [101, 100]);
    ms.skipMsgs(101, 100_000);
    assertEquals([ms.state().firstSeq, ms.state().lastSeq], [100_101, 100_100]);
  })();
  await withMem({ name: "zzz", subjects: ["*"] }, (ms) => {
    ms.storeMsg("foo", undefined, new Uint8Array(0));
    ms.skipMsgs(2, 10);
    const state = ms.state();
    assertEquals([state.firstSeq, state.lastSeq, state.msgs, state.numDeleted, state.deleted!.length], [
      1,
      11,
      1,
      10,
      10,
    ]);
    const fast = ms.fastState();
    assertEquals([fast.firstSeq, fast.lastSeq, fast.msgs, fast.numDeleted], [1, 11, 1, 10]);
  })();
});

Deno.test(
  "TestMemStorePurgeExWithDeletedMsgs: purgeEx up to a deleted sequence still purges",
  withMem({ name: "zzz", subjects: ["foo"] }, (ms) => {
    for (let i = 1; i <= 10; i++) ms.storeMsg("foo", undefined, b("abc"));
    ms.removeMsg(2);
    ms.removeMsg(9);
    assertEquals(ms.purgeEx("", 9, 0), 7);
    const state = ms.fastState();
    assertEquals([state.firstSeq, state.lastSeq, state.msgs], [10, 10, 1]);
  }),
);

Deno.test(
  "TestMemStoreDeleteAllFirstSequenceCheck: with everything removed first is last + 1",
  withMem({ name: "zzz", subjects: ["foo"] }, (ms) => {
    for (let i = 1; i <= 10; i++) ms.storeMsg("foo", undefined, b("abc"));
    for (let seq = 1; seq <= 10; seq++) ms.removeMsg(seq);
    const state = ms.fastState();
    assertEquals([state.firstSeq, state.lastSeq, state.msgs], [11, 10, 0]);
  }),
);

// New tests (no Go original): costs that must stay bounded on large stores.

Deno.test("MemStore.loadNextMsg() on a sparse subject in 200k messages does not scan the stream", () => {
  const ms = newMemStore();
  try {
    for (let i = 0; i < 200_000; i++) {
      ms.storeMsg(i % 1000 === 0 ? "rare" : `busy.${i % 7}`, undefined, b("x"));
    }
    const t0 = performance.now();
    let n = 0;
    for (let m = ms.loadNextMsg("rare", 0); m; m = ms.loadNextMsg("rare", m.seq + 1)) n++;
    for (let i = 0; i < 10_000; i++) ms.numPending(150_000, "rare", false);
    const ms1 = performance.now() - t0;
    assertEquals(n, 200);
    // A complexity guard, not a speed claim: scanning the stream per call would take tens of seconds.
    assert(ms1 < 2_000, `took ${ms1} ms`);
  } finally {
    ms.stop();
  }
});

Deno.test("MemStore consumer store keeps 100k pending acks with O(1) floor moves", () => {
  const ms = newMemStore();
  const cs = ms.consumerStore("c", { ackPolicy: "explicit", durable: true });
  try {
    const t0 = performance.now();
    for (let i = 1; i <= 100_000; i++) cs.updateDelivered(i, i, 1, 0n);
    // Ack every other first (the floor cannot move), then the rest in order.
    for (let i = 2; i <= 100_000; i += 2) cs.updateAcks(i, i);
    for (let i = 1; i <= 100_000; i += 2) cs.updateAcks(i, i);
    const took = performance.now() - t0;
    const st = cs.state();
    assertEquals([st.pending.size, st.ackFloor.streamSeq], [0, 100_000]);
    assert(took < 1000, `took ${took} ms`);
  } finally {
    cs.stop();
    ms.stop();
  }
});
