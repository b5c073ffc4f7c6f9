// Ports of the nats-server server/memstore_test.go tests (2025 revision) that tests/store/memstore_test.ts
// does not port yet, in Go's order. Tests that read Go internals (the dmap) check the same thing through
// the public StreamStore API.
import { assert, assertEquals } from "@std/assert";
import { MemStore } from "../../src/store/memstore.ts";
import type { StoreConfig } from "../../src/store/store.ts";
import { Nuid } from "../../src/util/mod.ts";
import { checkFor } from "../_helpers/server.ts";
import { b, storeConfig, storeErr } from "./store_suite.ts";

function withMem(over: Partial<StoreConfig>, fn: (ms: MemStore) => unknown): () => Promise<void> {
  return async () => {
    const ms = new MemStore(storeConfig(over));
    try {
      await fn(ms);
    } finally {
      ms.stop();
    }
  };
}

// Deterministic stand-in for Go's math/rand.
function rng(seed: number): (n: number) => number {
  let x = seed;
  return (n) => (x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff) % n;
}

/** Go's subjectIsSubsetMatch for the filters these tests use (literal tokens, `*`, trailing `>`). */
function subsetMatch(subj: string, filter: string): boolean {
  const a = subj.split(".");
  const f = filter.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return i < a.length;
    if (i >= a.length || (f[i] !== "*" && f[i] !== a[i])) return false;
  }
  return a.length === f.length;
}

const NONE = new Uint8Array(0);

Deno.test(
  "TestMemStoreMultiLastSeqs: last sequence per subject up to a bound, de-duplicated across filters",
  withMem({ name: "zzz", subjects: ["foo.*", "bar.*"] }, (ms) => {
    const msg = b("abc");
    for (let i = 0; i < 33; i++) {
      for (const s of ["foo.foo", "foo.bar", "foo.baz"]) ms.storeMsg(s, undefined, msg);
    }
    for (let i = 0; i < 33; i++) {
      for (const s of ["bar.foo", "bar.bar", "bar.baz"]) ms.storeMsg(s, undefined, msg);
    }
    const check = (filters: string[], maxSeq: number, want: number[]) =>
      assertEquals(ms.multiLastSeqs(filters, maxSeq, -1), want, `${filters} up to ${maxSeq}`);
    check(["foo.*"], 3, [1, 2, 3]);
    check(["foo.*"], 0, [97, 98, 99]);
    check(["bar.*"], 0, [196, 197, 198]);
    check(["bar.*"], 99, []);
    check(["foo.foo", "foo.bar", "foo.baz"], 3, [1, 2, 3]);
    check(["foo.foo", "foo.bar", "foo.baz"], 0, [97, 98, 99]);
    check(["bar.foo", "bar.bar", "bar.baz"], 0, [196, 197, 198]);
    check(["bar.foo", "bar.bar", "bar.baz"], 99, []);
    check(["foo.foo"], 3, [1]);
    check(["foo.*", "foo.bar"], 3, [1, 2, 3]);
    check(["bar.>", "bar.bar", "bar.baz"], 0, [196, 197, 198]);
    check([">"], 0, [97, 98, 99, 196, 197, 198]);
    check([">"], 99, [97, 98, 99]);
  }),
);

Deno.test(
  "TestMemStoreMultiLastSeqsMaxAllowed: more matching subjects than maxAllowed is too_many_results",
  withMem({ name: "zzz", subjects: ["foo.*"] }, (ms) => {
    for (let i = 1; i <= 100; i++) ms.storeMsg(`foo.${i}`, undefined, b("abc"));
    storeErr(() => ms.multiLastSeqs(["foo.*"], 0, 10), "too_many_results");
    // The same call without the cap answers all 100.
    assertEquals(ms.multiLastSeqs(["foo.*"], 0, 0).length, 100);
  }),
);

Deno.test(
  "TestMemStoreNumPendingMulti: pending count over 5000 literal filters equals a scan",
  withMem({ name: "zzz", subjects: ["ev.*"] }, (ms) => {
    const totalMsgs = 100_000;
    const totalSubjects = 10_000;
    const numFiltered = 5000;
    const rand = rng(7);
    const startSeq = 5_000 + rand(90_000);
    const nuid = new Nuid();
    const subjects: string[] = [];
    for (let i = 0; i < totalSubjects; i++) subjects.push(`ev.${nuid.next()}`);
    const msg = b("ZZZ".repeat(333));
    for (let i = 0; i < totalMsgs; i++) ms.storeMsg(subjects[rand(totalSubjects)], undefined, msg);
    // Go fills a sublist with distinct filters; natsdeno takes them as a list of subjects.
    const filters = new Set<string>();
    while (filters.size < numFiltered) filters.add(subjects[rand(totalSubjects)]);
    const { total } = ms.numPendingMulti(startSeq, [...filters], false);
    let check = 0;
    for (let seq = startSeq; seq <= totalMsgs; seq++) {
      const sm = ms.loadMsg(seq);
      assert(sm !== undefined, `seq ${seq}`);
      if (filters.has(sm.subject)) check++;
    }
    assertEquals(total, check, `from ${startSeq}`);
  }),
);

Deno.test(
  "TestMemStoreNumPendingBug: numPending from seq 4 over foo.* equals a scan",
  withMem({ name: "zzz", subjects: ["foo.*"] }, (ms) => {
    for (const subj of ["foo.foo", "foo.bar", "foo.baz", "foo.zzz"]) {
      ms.storeMsg("foo.aaa", undefined, NONE);
      ms.storeMsg(subj, undefined, NONE);
      ms.storeMsg(subj, undefined, NONE);
    }
    const { total } = ms.numPending(4, "foo.*", false);
    let scanned = 0;
    for (let seq = 4; seq <= 12; seq++) {
      const sm = ms.loadMsg(seq);
      assert(sm !== undefined, `seq ${seq}`);
      if (subsetMatch(sm.subject, "foo.*")) scanned++;
    }
    assertEquals(total, scanned);
    assertEquals(total, 9);
  }),
);

Deno.test(
  "TestMemStorePurgeLeaksDmap: purge forgets the interior deletes",
  withMem({ name: "TEST", subjects: ["foo"] }, (ms) => {
    for (let i = 0; i < 10; i++) ms.storeMsg("foo", undefined, NONE);
    for (let seq = 2; seq <= 9; seq++) assert(ms.removeMsg(seq), `remove ${seq}`);
    // Go reads the dmap size; the public view of it is numDeleted and the deleted list.
    let st = ms.state();
    assertEquals([st.numDeleted, st.deleted!.length, ms.fastState().numDeleted], [8, 8, 8]);
    assertEquals(ms.purge(), 2);
    st = ms.state();
    assertEquals([st.numDeleted, st.deleted, ms.fastState().numDeleted], [0, [], 0]);
    assertEquals([st.msgs, st.firstSeq, st.lastSeq], [0, 11, 10]);
  }),
);

Deno.test(
  "TestMemStoreMessageTTL: messages with a 1 s TTL are gone after it, sequences kept",
  withMem({ name: "zzz", subjects: ["test"], allowMsgTtl: true }, async (ms) => {
    const ttl = 1_000_000_000n;
    for (let i = 1; i <= 10; i++) ms.storeMsg("test", undefined, NONE, ttl);
    let st = ms.fastState();
    assertEquals([st.firstSeq, st.lastSeq, st.msgs], [1, 10, 10]);
    // Go sleeps 2 s and then checks once; poll up to 3 s instead.
    await checkFor(3_000, 50, () => {
      st = ms.fastState();
      assertEquals([st.firstSeq, st.lastSeq, st.msgs], [11, 10, 0]);
    });
  }),
);

Deno.test({
  name:
    "TestMemStoreSubjectDeleteMarkers: max_age expiry proposes a delete marker with reason MaxAge and TTL 1s",
  // blocked: natsdeno places subject delete markers in the jetstream stream (src/jetstream/_stream_base.ts,
  // from the store's removal callback), not in the store: StoreConfig has no subject_delete_marker_ttl and
  // MemStore has no marker-proposal callback (Go memStore.sdmcb/rmcb), so there is nothing to call here.
  ignore: true,
  fn() {},
});

Deno.test(
  "TestMemStoreAllLastSeqs: the last sequence of every subject, sorted, with max_msgs_per 50",
  withMem({ name: "zzz", subjects: ["*.*"], maxMsgsPerSubject: 50 }, (ms) => {
    const subjs = ["foo.foo", "foo.bar", "foo.baz", "bar.foo", "bar.bar", "bar.baz"];
    const rand = rng(5);
    const msg = b("abc");
    for (let i = 0; i < 100_000; i++) ms.storeMsg(subjs[rand(subjs.length)], undefined, msg);
    const expected = subjs.map((s) => ms.loadLastMsg(s)!.seq).sort((x, y) => x - y);
    // Go's AllLastSeqs() is MultiLastSeqs over ">" with no bound and no cap; StreamStore has only the latter.
    assertEquals(ms.multiLastSeqs([">"], 0, 0), expected);
    assertEquals(ms.state().msgs, 300);
  }),
);
