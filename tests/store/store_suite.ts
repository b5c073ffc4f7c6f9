// One conformance suite for every StreamStore (MemStore, FileStore), plus the ports of
// nats-server server/store_test.go, whose tests run against both Go stores.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { type StoreConfig, StoreError, type StreamStore } from "../../src/store/store.ts";
import { fileStoreMsgSize, memStoreMsgSize } from "../../src/store/memstore.ts";
import { checkFor, delay } from "../_helpers/server.ts";
import { storeConfig } from "../_helpers/store_config.ts";

/** Makes a store over `dir` (a fresh temp dir per test; file stores reopen the same dir). */
export type MakeStore = (cfg: StoreConfig, dir: string) => StreamStore;

export interface SuiteOptions {
  /** The store survives stop() and reopening the same dir. */
  persistent: boolean;
  /** How the store counts message sizes, as the reference's stores do: memStoreMsgSize or fileStoreMsgSize. */
  sizes: "memory" | "file";
}

const te = new TextEncoder();
const td = new TextDecoder();
export const b = (s: string): Uint8Array => te.encode(s);
export const s = (u: Uint8Array | undefined): string => (u === undefined ? "<none>" : td.decode(u));

/** A StoreConfig with no limits, overridden by `over` (tests/_helpers/store_config.ts). */
export { storeConfig };

/** Asserts that `fn` throws a StoreError with `code`. */
export function storeErr(fn: () => unknown, code: StoreError["code"]): void {
  const err = assertThrows(fn);
  assert(err instanceof StoreError, `expected StoreError, got ${err}`);
  assertEquals(err.code, code);
}

/** Registers the suite's Deno tests for one store implementation. */
export function runStoreSuite(name: string, make: MakeStore, opts: SuiteOptions): void {
  // Runs `fn` with a store over a fresh dir; the store is stopped and the dir removed afterwards.
  async function withStore(
    over: Partial<StoreConfig>,
    fn: (st: StreamStore, ctx: { cfg: StoreConfig; dir: string; reopen: () => StreamStore }) => unknown,
  ): Promise<void> {
    const dir = Deno.makeTempDirSync({ prefix: "natsdeno-store-" });
    const cfg = storeConfig(over);
    let st = make(cfg, dir);
    const ctx = {
      cfg,
      dir,
      reopen: () => {
        st.stop();
        st = make(cfg, dir);
        return st;
      },
    };
    try {
      await fn(st, ctx);
    } finally {
      st.stop();
      Deno.removeSync(dir, { recursive: true });
    }
  }
  const msgSize = opts.sizes === "file" ? fileStoreMsgSize : memStoreMsgSize;
  const test = (title: string, fn: () => void | Promise<void>, o: { ignore?: boolean } = {}) =>
    Deno.test({ name: `${title} [${name}]`, ignore: o.ignore, fn });

  // ---------------- conformance: one test per behaviour ----------------

  test("StreamStore.storeMsg() assigns increasing sequences and times, loadMsg() returns copies of the bytes", () =>
    withStore({}, (st) => {
      const hdr = b("NATS/1.0\r\nA: b\r\n\r\n");
      const payload = b("hello");
      const r1 = st.storeMsg("foo", hdr, payload);
      payload[0] = 0x58; // the store must have copied
      const r2 = st.storeMsg("bar", undefined, b("world"));
      assertEquals([r1.seq, r2.seq], [1, 2]);
      assert(r2.ts > r1.ts);
      const m = st.loadMsg(1)!;
      assertEquals([m.subject, s(m.hdr), s(m.msg), m.seq, m.ts], ["foo", s(hdr), "hello", 1, r1.ts]);
      assertEquals(st.loadMsg(2)!.hdr, undefined);
      assertEquals(st.loadMsg(3), undefined);
      assertEquals(st.loadMsg(0), undefined);
      const state = st.state();
      assertEquals(state.msgs, 2);
      assertEquals(
        state.bytes,
        msgSize("foo", hdr, payload) + msgSize("bar", undefined, b("world")),
      );
      assertEquals([state.firstSeq, state.lastSeq, state.numSubjects], [1, 2, 2]);
      assertEquals([state.firstTime, state.lastTime], [r1.ts, r2.ts]);
    }));

  test("StreamStore.state() of an empty store is all zero", () =>
    withStore({}, (st) => {
      const state = st.state();
      assertEquals([state.msgs, state.bytes, state.firstSeq, state.lastSeq, state.numDeleted], [
        0,
        0,
        0,
        0,
        0,
      ]);
      assertEquals(st.loadNextMsg(">", 0), undefined);
      assertEquals(st.loadLastMsg(""), undefined);
      assertEquals(st.getSeqFromTime(0n), 1);
    }));

  test("StreamStore max_msgs drops the oldest; discard new refuses with max_msgs", async () => {
    await withStore({ maxMsgs: 3 }, (st) => {
      for (let i = 0; i < 5; i++) st.storeMsg("foo", undefined, b(`${i}`));
      const state = st.state();
      assertEquals([state.msgs, state.firstSeq, state.lastSeq], [3, 3, 5]);
    });
    await withStore({ maxMsgs: 3, discardNew: true }, (st) => {
      for (let i = 0; i < 3; i++) st.storeMsg("foo", undefined, b(`${i}`));
      storeErr(() => st.storeMsg("foo", undefined, b("x")), "max_msgs");
      assertEquals(st.state().lastSeq, 3);
    });
  });

  test("StreamStore max_bytes drops the oldest; discard new refuses with max_bytes", async () => {
    const size = msgSize("foo", undefined, b("0123456789"));
    await withStore({ maxBytes: size * 4 }, (st) => {
      for (let i = 0; i < 10; i++) st.storeMsg("foo", undefined, b("0123456789"));
      const state = st.state();
      assertEquals([state.msgs, state.bytes, state.firstSeq], [4, size * 4, 7]);
    });
    await withStore({ maxBytes: size * 4, discardNew: true }, (st) => {
      // Refused once bytes + the new message's whole size would pass max_bytes: four fit exactly.
      const fit = 4;
      for (let i = 0; i < fit; i++) st.storeMsg("foo", undefined, b("0123456789"));
      storeErr(() => st.storeMsg("foo", undefined, b("0123456789")), "max_bytes");
      assertEquals(st.state().msgs, fit);
      assertEquals(st.state().bytes, size * fit);
    });
  });

  test("StreamStore max_msgs_per_subject keeps the newest per subject; discard new per subject refuses", async () => {
    await withStore({ maxMsgsPerSubject: 2 }, (st) => {
      for (let i = 0; i < 5; i++) {
        st.storeMsg("a", undefined, b(`a${i}`));
        st.storeMsg("b", undefined, b(`b${i}`));
      }
      const ss = st.subjectsState(">");
      assertEquals(ss.get("a"), { msgs: 2, first: 7, last: 9 });
      assertEquals(ss.get("b"), { msgs: 2, first: 8, last: 10 });
      assertEquals(st.state().msgs, 4);
    });
    await withStore({ maxMsgsPerSubject: 1, discardNew: true, discardNewPerSubject: true }, (st) => {
      st.storeMsg("a", undefined, b("1"));
      storeErr(() => st.storeMsg("a", undefined, b("2")), "max_msgs_per_subject");
      st.storeMsg("b", undefined, b("1"));
      assertEquals(st.state().msgs, 2);
    });
  });

  test("StreamStore max_msg_size refuses larger messages with msg_too_big", () =>
    withStore({ maxMsgSize: 8 }, (st) => {
      st.storeMsg("foo", b("1234"), b("5678"));
      storeErr(() => st.storeMsg("foo", b("1234"), b("56789")), "msg_too_big");
      assertEquals(st.state().msgs, 1);
    }));

  test("StreamStore max_age expires old messages on one timer", () =>
    // Margins of 100 ms: on 2 cores shared by several test runs, a 15 ms window was missed now and then.
    withStore({ maxAge: 200_000_000n }, async (st) => {
      for (let i = 0; i < 100; i++) st.storeMsg("foo", undefined, b("x"));
      await delay(100);
      st.storeMsg("bar", undefined, b("y"));
      await checkFor(2000, 5, () => assertEquals(st.state().msgs, 1));
      assertEquals(st.loadMsg(101)!.subject, "bar");
      await checkFor(2000, 5, () => assertEquals(st.state().msgs, 0));
      assertEquals(st.state().firstSeq, 102);
    }));

  test("StreamStore per-message TTL expires at ts+ttl only with allowMsgTtl", async () => {
    await withStore({ allowMsgTtl: true }, async (st) => {
      st.storeMsg("a", undefined, b("1"), 20_000_000n);
      st.storeMsg("b", undefined, b("2"));
      st.storeMsg("c", undefined, b("3"), 5_000_000_000n);
      await checkFor(2000, 5, () => assertEquals(st.loadMsg(1), undefined));
      assertEquals(st.state().msgs, 2);
      assert(st.loadMsg(3) !== undefined);
    });
    await withStore({ allowMsgTtl: false }, async (st) => {
      st.storeMsg("a", undefined, b("1"), 10_000_000n);
      await delay(40);
      assert(st.loadMsg(1) !== undefined);
    });
  });

  test("StreamStore max_age passes over messages with a Nats-TTL of never (-1n), only with allowMsgTtl", async () => {
    await withStore({ allowMsgTtl: true, maxAge: 100_000_000n }, async (st, ctx) => {
      st.storeMsg("a", undefined, b("never-1"), -1n);
      for (let i = 0; i < 5; i++) st.storeMsg("b", undefined, b(`${i}`));
      st.storeMsg("a", undefined, b("never-2"), -1n);
      st.storeMsg("c", undefined, b("x"));
      await checkFor(2000, 5, () => assertEquals(st.state().msgs, 2));
      assertEquals([s(st.loadMsg(1)!.msg), s(st.loadMsg(7)!.msg)], ["never-1", "never-2"]);
      assertEquals([st.state().firstSeq, st.state().lastSeq, st.state().deleted], [1, 8, [2, 3, 4, 5, 6, 8]]);
      // Later messages still expire; removing a never message by hand works as for any other.
      st.storeMsg("d", undefined, b("y"));
      await checkFor(2000, 5, () => assertEquals(st.loadMsg(9), undefined));
      assert(st.removeMsg(1));
      assertEquals(st.state().firstSeq, 7);
      if (opts.persistent) {
        // The mark survives a restart.
        const st2 = ctx.reopen();
        await delay(150);
        assertEquals(s(st2.loadMsg(7)!.msg), "never-2");
        assertEquals(st2.state().msgs, 1);
      }
    });
    await withStore({ allowMsgTtl: false, maxAge: 50_000_000n }, async (st) => {
      st.storeMsg("a", undefined, b("1"), -1n);
      await checkFor(2000, 5, () => assertEquals(st.state().msgs, 0));
    });
  });

  test("StreamStore.removeMsg() leaves interior deletes in state() and moves first on the head", () =>
    withStore({}, (st) => {
      for (let i = 0; i < 10; i++) st.storeMsg("foo", undefined, b(`${i}`));
      assert(st.removeMsg(5));
      assert(!st.removeMsg(5));
      assert(st.removeMsg(7));
      assertEquals(st.state().deleted, [5, 7]);
      assertEquals(st.fastState().numDeleted, 2);
      assertEquals(st.fastState().deleted, undefined);
      assert(st.removeMsg(1));
      assertEquals(st.state().firstSeq, 2);
      assert(st.removeMsg(10));
      const state = st.state();
      assertEquals([state.lastSeq, state.msgs, state.deleted], [10, 6, [5, 7, 10]]);
    }));

  test("StreamStore.eraseMsg() removes and overwrites the bytes", () =>
    withStore({}, (st) => {
      st.storeMsg("foo", undefined, b("secret-secret-secret"));
      const view = st.loadMsg(1)!.msg;
      assert(st.eraseMsg(1));
      assertEquals(st.loadMsg(1), undefined);
      assert(s(view) !== "secret-secret-secret");
      assert(!st.eraseMsg(1));
    }));

  test("StreamStore.purge() empties and keeps the next sequence", () =>
    withStore({}, (st) => {
      for (let i = 0; i < 10; i++) st.storeMsg("foo", undefined, b(`${i}`));
      assertEquals(st.purge(), 10);
      const state = st.state();
      assertEquals([state.msgs, state.bytes, state.firstSeq, state.lastSeq, state.numSubjects], [
        0,
        0,
        11,
        10,
        0,
      ]);
      assertEquals(st.storeMsg("foo", undefined, b("x")).seq, 11);
      assertEquals(st.state().firstSeq, 11);
    }));

  test("StreamStore.purgeEx() by subject, up to a sequence, and keeping the newest", () =>
    withStore({}, (st) => {
      for (let i = 0; i < 10; i++) st.storeMsg(i % 2 ? "a.x" : "b.x", undefined, b(`${i}`)); // b: odd seqs
      assertEquals(st.purgeEx("b.x", 6, 0), 3); // 1, 3, 5
      assertEquals(st.subjectsTotals("b.x").get("b.x"), 2);
      assertEquals(st.purgeEx("*.x", 0, 3), 4); // 2,4,6,7 go; 8,9,10 stay
      assertEquals(st.state().msgs, 3);
      assertEquals(st.loadNextMsg(">", 0)!.seq, 8);
      assertEquals(st.purgeEx("", 0, 1), 2);
      assertEquals(st.state().firstSeq, 10);
      assertEquals(st.purgeEx("nope", 0, 0), 0);
    }));

  test("StreamStore.compact() removes below a sequence; past the end it sets the next sequence", () =>
    withStore({}, (st) => {
      for (let i = 0; i < 10; i++) st.storeMsg("foo", undefined, b(`${i}`));
      assertEquals(st.compact(6), 5);
      assertEquals([st.state().firstSeq, st.state().msgs], [6, 5]);
      assertEquals(st.compact(100), 5);
      assertEquals([st.state().firstSeq, st.state().lastSeq], [100, 99]);
      assertEquals(st.storeMsg("foo", undefined, b("x")).seq, 100);
    }));

  test("StreamStore.truncate() removes above a sequence, refuses one past the end, 0 resets", () =>
    withStore({}, (st) => {
      for (let i = 0; i < 10; i++) st.storeMsg(i < 5 ? "a" : "b", undefined, b(`${i}`));
      storeErr(() => st.truncate(11), "invalid_sequence");
      st.truncate(5);
      const state = st.state();
      assertEquals([state.msgs, state.lastSeq, state.numSubjects], [5, 5, 1]);
      assertEquals(st.storeMsg("c", undefined, b("x")).seq, 6);
      st.truncate(0);
      assertEquals([st.state().firstSeq, st.state().lastSeq, st.state().msgs], [0, 0, 0]);
      assertEquals(st.storeMsg("c", undefined, b("x")).seq, 1);
    }));

  test("StreamStore.loadNextMsg() with literal, wildcard and all filters", () =>
    withStore({}, (st) => {
      for (let i = 1; i <= 1000; i++) st.storeMsg(`foo.${i % 10}.${i % 3 ? "x" : "y"}`, undefined, b(`${i}`));
      assertEquals(st.loadNextMsg("foo.3.x", 1)!.seq, 13);
      assertEquals(st.loadNextMsg("foo.3.x", 14)!.seq, 23);
      assertEquals(st.loadNextMsg("foo.*.y", 4)!.seq, 6);
      assertEquals(st.loadNextMsg("foo.>", 500)!.seq, 500);
      assertEquals(st.loadNextMsg(">", 0)!.seq, 1);
      assertEquals(st.loadNextMsg("", 999)!.seq, 999);
      assertEquals(st.loadNextMsg("bar.*", 1), undefined);
      assertEquals(st.loadNextMsg("foo.0.y", 991), undefined); // last foo.0.y is 990
      st.removeMsg(990);
      assertEquals(st.loadNextMsg("foo.0.y", 960)!.seq, 960);
      assertEquals(st.loadNextMsg("foo.0.y", 961), undefined);
      // Every message of a wildcard walk, in order.
      let n = 0;
      for (let m = st.loadNextMsg("*.*.y", 0); m !== undefined; m = st.loadNextMsg("*.*.y", m.seq + 1)) {
        assert(m.subject.endsWith(".y"));
        n++;
      }
      assertEquals(n, 332);
    }));

  test("StreamStore.loadLastMsg() literal, wildcard, any; loadPrevMsg()", () =>
    withStore({}, (st) => {
      st.storeMsg("a.1", undefined, b("1"));
      st.storeMsg("b.1", undefined, b("2"));
      st.storeMsg("a.2", undefined, b("3"));
      st.storeMsg("b.2", undefined, b("4"));
      assertEquals(st.loadLastMsg("a.1")!.seq, 1);
      assertEquals(st.loadLastMsg("a.*")!.seq, 3);
      assertEquals(st.loadLastMsg("")!.seq, 4);
      assertEquals(st.loadLastMsg(">")!.seq, 4);
      assertEquals(st.loadLastMsg("c.*"), undefined);
      st.removeMsg(3);
      assertEquals(st.loadLastMsg("a.*")!.seq, 1);
      assertEquals(st.loadPrevMsg(3)!.seq, 2);
      assertEquals(st.loadPrevMsg(100)!.seq, 4);
      st.removeMsg(1);
      st.removeMsg(2);
      assertEquals(st.loadPrevMsg(3), undefined);
    }));

  test("StreamStore.getSeqFromTime() finds the first message at or after a time", () =>
    withStore({}, async (st) => {
      const ts: bigint[] = [];
      for (let i = 0; i < 10; i++) {
        ts.push(st.storeMsg("foo", undefined, b(`${i}`)).ts);
        if (i === 4) await delay(2);
      }
      assertEquals(st.getSeqFromTime(0n), 1);
      assertEquals(st.getSeqFromTime(ts[5]), 6);
      assertEquals(st.getSeqFromTime(ts[4] + 1n), 6);
      assertEquals(st.getSeqFromTime(ts[9] + 1n), 11);
      st.removeMsg(6);
      assertEquals(st.getSeqFromTime(ts[5]), 7);
    }));

  test("StreamStore.filteredState(), subjectsState(), subjectsTotals(), numPending()", () =>
    withStore({}, (st) => {
      for (let i = 1; i <= 100; i++) st.storeMsg(`s.${i % 4}`, undefined, b("x"));
      assertEquals(st.filteredState(1, "s.1"), { msgs: 25, first: 1, last: 97 });
      assertEquals(st.filteredState(50, "s.1"), { msgs: 12, first: 53, last: 97 });
      assertEquals(st.filteredState(50, "s.*"), { msgs: 51, first: 50, last: 100 });
      assertEquals(st.filteredState(0, ">"), { msgs: 100, first: 1, last: 100 });
      assertEquals(st.filteredState(101, ">"), { msgs: 0, first: 0, last: 0 });
      st.removeMsg(53);
      assertEquals(st.filteredState(50, "s.1"), { msgs: 11, first: 57, last: 97 });
      assertEquals(st.subjectsState("s.*").size, 4);
      assertEquals(st.subjectsState("s.1").get("s.1"), { msgs: 24, first: 1, last: 97 });
      assertEquals(st.subjectsTotals(">").get("s.0"), 25);
      assertEquals(st.subjectsTotals("t.*").size, 0);
      assertEquals(st.numPending(90, "s.*", false), { total: 11, validThrough: 100 });
      assertEquals(st.numPending(90, "s.*", true), { total: 4, validThrough: 100 });
      assertEquals(st.numPending(99, ">", true), { total: 2, validThrough: 100 });
      assertEquals(st.numPending(0, "", true), { total: 4, validThrough: 100 });
    }));

  test("StreamStore.multiLastSeqs() returns each subject's last at or below maxSeq", () =>
    withStore({}, (st) => {
      for (let i = 1; i <= 20; i++) st.storeMsg(`k.${i % 5}`, undefined, b("x"));
      assertEquals(st.multiLastSeqs(["k.*"], 0, 0), [16, 17, 18, 19, 20]);
      assertEquals(st.multiLastSeqs(["k.1", "k.2"], 10, 0), [6, 7]);
      storeErr(() => st.multiLastSeqs([">"], 0, 3), "too_many_results");
    }));

  test("StreamStore.skipMsg()/skipMsgs() reserve sequences", () =>
    withStore({}, (st) => {
      assertEquals(st.skipMsg(), 1);
      assertEquals([st.state().firstSeq, st.state().lastSeq], [2, 1]);
      storeErr(() => st.skipMsgs(5, 2), "sequence_mismatch");
      st.skipMsgs(2, 3);
      assertEquals([st.state().firstSeq, st.state().lastSeq], [5, 4]);
      st.storeMsg("foo", undefined, b("x"));
      st.skipMsgs(0, 2);
      const state = st.state();
      assertEquals([state.firstSeq, state.lastSeq, state.msgs, state.deleted], [5, 7, 1, [6, 7]]);
    }));

  test("StreamStore.storeRawMsg() checks the sequence; seq 0 takes the next", () =>
    withStore({}, (st) => {
      st.storeRawMsg("foo", undefined, b("1"), 1, 5n);
      storeErr(() => st.storeRawMsg("foo", undefined, b("x"), 5, 6n), "sequence_mismatch");
      st.storeRawMsg("foo", undefined, b("2"), 0, 7n);
      assertEquals(st.loadMsg(2)!.ts, 7n);
      assertEquals(st.state().lastTime, 7n);
    }));

  test("StreamStore.registerStorageUpdates() reports stores, removals and purges", () =>
    withStore({ maxMsgs: 2 }, (st) => {
      const ev: [number, number, number, string][] = [];
      st.registerStorageUpdates((m, by, seq, subj) => ev.push([m, by, seq, subj]));
      const sz = msgSize("foo", undefined, b("x"));
      st.storeMsg("foo", undefined, b("x"));
      st.storeMsg("foo", undefined, b("x"));
      st.storeMsg("foo", undefined, b("x"));
      st.removeMsg(3);
      st.purge();
      assertEquals(ev, [
        [1, sz, 1, "foo"],
        [1, sz, 2, "foo"],
        [-1, -sz, 1, "foo"],
        [1, sz, 3, "foo"],
        [-1, -sz, 3, "foo"],
        [-1, -sz, 0, ""],
      ]);
    }));

  test("StreamStore.updateConfig() enforces lower limits at once", () =>
    withStore({}, (st) => {
      for (let i = 0; i < 20; i++) st.storeMsg(`s.${i % 2}`, undefined, b("x"));
      st.updateConfig(storeConfig({ maxMsgsPerSubject: 5 }));
      assertEquals(st.state().msgs, 10);
      st.updateConfig(storeConfig({ maxMsgsPerSubject: 5, maxMsgs: 4 }));
      assertEquals([st.state().msgs, st.state().firstSeq], [4, 17]);
      st.updateConfig(storeConfig({ maxAge: 1n }));
      assertEquals(st.state().msgs, 0);
    }));

  test("StreamStore consumer store tracks delivered, pending, acks and redeliveries", () =>
    withStore({}, (st) => {
      const cs = st.consumerStore("dur", { ackPolicy: "explicit", durable: true });
      assertEquals(st.state().consumers, 1);
      for (let i = 1; i <= 5; i++) cs.updateDelivered(i, i + 10, 1, BigInt(i));
      cs.updateDelivered(6, 12, 2, 99n);
      let state = cs.state();
      assertEquals(state.delivered, { consumerSeq: 6, streamSeq: 15 });
      assertEquals(state.pending.size, 5);
      assertEquals(state.pending.get(12), { seq: 2, ts: 99n });
      assertEquals(state.redelivered.get(12), 1);
      cs.updateAcks(1, 11);
      state = cs.state();
      assertEquals(state.ackFloor, { consumerSeq: 1, streamSeq: 11 });
      cs.updateAcks(3, 13);
      assertEquals(cs.state().ackFloor, { consumerSeq: 1, streamSeq: 11 });
      cs.updateAcks(2, 12);
      assertEquals(cs.state().ackFloor, { consumerSeq: 3, streamSeq: 13 });
      assertEquals(cs.state().redelivered.size, 0);
      storeErr(() => cs.updateAcks(9, 11), "not_found");
      cs.updateAcks(4, 14);
      cs.updateAcks(5, 15);
      assertEquals(cs.state().ackFloor, { consumerSeq: 6, streamSeq: 15 });
      assertEquals(cs.state().pending.size, 0);
      cs.stop();
      assertEquals(st.state().consumers, 0);

      const all = st.consumerStore("all", { ackPolicy: "all", durable: true });
      for (let i = 1; i <= 5; i++) all.updateDelivered(i, i, 1, 0n);
      all.updateAcks(3, 3);
      assertEquals([...all.state().pending.keys()], [4, 5]);
      assertEquals(all.state().ackFloor, { consumerSeq: 3, streamSeq: 3 });
      all.stop();

      const none = st.consumerStore("none", { ackPolicy: "none", durable: false });
      none.updateDelivered(1, 7, 1, 0n);
      assertEquals(none.state().ackFloor, { consumerSeq: 1, streamSeq: 7 });
      storeErr(() => none.updateDelivered(2, 8, 2, 0n), "no_ack_policy");
      storeErr(() => none.updateAcks(1, 7), "no_ack_policy");
      none.stop();
    }));

  test("StreamStore consumer store update() validates and replaces the state", () =>
    withStore({}, (st) => {
      const cs = st.consumerStore("c", { ackPolicy: "explicit", durable: true });
      const pending = new Map([[12, { seq: 2, ts: 5n }], [11, { seq: 1, ts: 4n }]]);
      cs.update({
        delivered: { consumerSeq: 3, streamSeq: 13 },
        ackFloor: { consumerSeq: 0, streamSeq: 10 },
        pending,
        redelivered: new Map([[11, 2]]),
      });
      assertEquals(cs.state().pending.size, 2);
      cs.updateAcks(1, 11);
      assertEquals(cs.state().ackFloor, { consumerSeq: 1, streamSeq: 11 });
      storeErr(() =>
        cs.update({
          delivered: { consumerSeq: 1, streamSeq: 1 },
          ackFloor: { consumerSeq: 2, streamSeq: 1 },
          pending: new Map(),
          redelivered: new Map(),
        }), "bad_state");
      cs.stop();
    }));

  test("StreamStore after stop() refuses stores with closed", () =>
    withStore({}, (st) => {
      st.storeMsg("foo", undefined, b("x"));
      st.stop();
      storeErr(() => st.storeMsg("foo", undefined, b("x")), "closed");
    }));

  test("StreamStore with firstSeq starts there", () =>
    withStore({ firstSeq: 1000 }, (st) => {
      assertEquals(st.storeMsg("A", undefined, b("OK")).seq, 1000);
      assertEquals([st.fastState().firstSeq, st.fastState().lastSeq], [1000, 1001 - 1]);
    }));

  test("StreamStore keeps 50k messages over 1k subjects consistent through random removals", () =>
    withStore({}, (st) => {
      let x = 12345;
      const rnd = (n: number) => (x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff) % n;
      const live = new Map<number, string>();
      for (let i = 0; i < 50_000; i++) {
        const subj = `k.${rnd(1000)}`;
        live.set(st.storeMsg(subj, undefined, b("v")).seq, subj);
      }
      for (let i = 0; i < 20_000; i++) {
        const seq = 1 + rnd(50_000);
        assertEquals(st.removeMsg(seq), live.delete(seq));
      }
      const state = st.state();
      assertEquals(state.msgs, live.size);
      assertEquals(state.numDeleted, 50_000 - state.firstSeq + 1 - live.size);
      const counts = new Map<string, number>();
      for (const subj of live.values()) counts.set(subj, (counts.get(subj) ?? 0) + 1);
      assertEquals(st.subjectsTotals(">"), counts);
      // Walk one subject and one wildcard and compare with the model.
      const want = [...live].filter(([, v]) => v === "k.7").map(([k]) => k);
      const got: number[] = [];
      for (let m = st.loadNextMsg("k.7", 0); m; m = st.loadNextMsg("k.7", m.seq + 1)) got.push(m.seq);
      assertEquals(got, want);
      assertEquals(
        st.numPending(25_000, "k.*", false).total,
        [...live.keys()].filter((k) => k >= 25_000).length,
      );
    }));

  if (opts.persistent) {
    test("StreamStore survives a restart with the same state, messages and consumer state", () =>
      withStore({ maxMsgsPerSubject: 3 }, async (st, ctx) => {
        for (let i = 0; i < 20; i++) {
          st.storeMsg(`s.${i % 3}`, i % 2 ? b("NATS/1.0\r\n\r\n") : undefined, b(`m${i}`));
        }
        st.removeMsg(15);
        st.skipMsg();
        const cs = st.consumerStore("dur", { ackPolicy: "explicit", durable: true });
        cs.updateDelivered(1, 12, 1, 1000n);
        cs.updateDelivered(2, 13, 1, 2000n);
        cs.updateAcks(1, 12);
        await st.flushed(st.state().lastSeq);
        await cs.flushed();
        const before = st.state();
        const msgs = [13, 14, 16, 17, 18, 19, 20].map((q) => st.loadMsg(q));
        const st2 = ctx.reopen();
        assertEquals(st2.state(), { ...before, consumers: 0 });
        for (const m of msgs) {
          const m2 = st2.loadMsg(m!.seq)!;
          assertEquals([m2.subject, s(m2.hdr), s(m2.msg), m2.ts], [m!.subject, s(m!.hdr), s(m!.msg), m!.ts]);
        }
        const cs2 = st2.consumerStore("dur", { ackPolicy: "explicit", durable: true });
        assert(cs2.hasState());
        const cst = cs2.state();
        assertEquals(cst.delivered, { consumerSeq: 2, streamSeq: 13 });
        assertEquals(cst.ackFloor, { consumerSeq: 1, streamSeq: 12 });
        assertEquals([...cst.pending.keys()], [13]);
        cs2.stop();
        assertEquals(st2.storeMsg("s.0", undefined, b("new")).seq, 22);
      }));

    test("StreamStore restart after purge, compact and truncate keeps sequences", () =>
      withStore({}, (st, ctx) => {
        for (let i = 0; i < 10; i++) st.storeMsg("foo", undefined, b(`${i}`));
        st.compact(4);
        st.truncate(8);
        let st2 = ctx.reopen();
        assertEquals([st2.state().firstSeq, st2.state().lastSeq, st2.state().msgs], [4, 8, 5]);
        st2.purge();
        st2 = ctx.reopen();
        assertEquals([st2.state().firstSeq, st2.state().lastSeq, st2.state().msgs], [9, 8, 0]);
        assertEquals(st2.storeMsg("foo", undefined, b("x")).seq, 9);
      }));

    test("StreamStore restart applies TTLs and max_age that passed while it was down", () =>
      withStore({ allowMsgTtl: true, maxAge: 5_000_000_000n }, async (st, ctx) => {
        st.storeMsg("a", undefined, b("1"), 20_000_000n);
        st.storeMsg("b", undefined, b("2"));
        st.stop();
        await delay(40);
        const st2 = ctx.reopen();
        assertEquals(st2.loadMsg(1), undefined);
        assertEquals(st2.state().msgs, 1);
      }));
  }

  // ---------------- ports of server/store_test.go ----------------

  // blocked: LoadNextMsgMulti (sublist filters) is not part of the StreamStore interface yet.
  test("TestStoreMsgLoadNextMsgMulti: loads next across a sublist of filters", () => {}, { ignore: true });

  test("TestStoreLoadNextMsgWildcardStartBeforeFirstMatch: wildcard load finds a match after the start", () =>
    withStore({ subjects: ["bar.*", "foo.*"] }, (st) => {
      for (let i = 0; i < 100; i++) st.storeMsg(`bar.${i}`, undefined, new Uint8Array(0));
      assertEquals(st.storeMsg("foo.1", undefined, new Uint8Array(0)).seq, 101);
      const m = st.loadNextMsg("foo.*", 1)!;
      assertEquals([m.subject, m.seq], ["foo.1", 101]);
      assertEquals(st.loadNextMsg("foo.*", 102), undefined);
    }));

  // blocked: DeleteSlice/DeleteRange (encoded delete blocks for raft snapshots) do not exist yet.
  test("TestStoreDeleteSlice: delete slice ranges and state", () => {}, { ignore: true });
  // blocked: as above.
  test("TestStoreDeleteRange: delete range ranges and state", () => {}, { ignore: true });

  test("TestStoreSubjectStateConsistency: subject first/last stay right through removals", () =>
    withStore({ subjects: ["foo"] }, (st) => {
      const ss = () => st.subjectsState("foo").get("foo")!;
      const expectFirst = (q: number) => assertEquals(st.loadNextMsg("foo", 0)!.seq, q);
      const expectLast = (q: number) => assertEquals(st.loadLastMsg("foo")!.seq, q);
      const check = (msgs: number, first: number, last: number) => {
        assertEquals(ss(), { msgs, first, last });
        expectFirst(first);
        expectLast(last);
      };
      for (let i = 0; i < 4; i++) st.storeMsg("foo", undefined, new Uint8Array(0));
      check(4, 1, 4);
      assert(st.removeMsg(1));
      check(3, 2, 4);
      assert(st.removeMsg(4));
      check(2, 2, 3);
      assert(st.removeMsg(2));
      check(1, 3, 3);
      for (let i = 0; i < 3; i++) st.storeMsg("foo", undefined, new Uint8Array(0));
      check(4, 3, 7);
      assert(st.removeMsg(7));
      assert(st.removeMsg(3));
      assert(st.removeMsg(5));
      check(1, 6, 6);
      st.storeMsg("foo", undefined, new Uint8Array(0));
      assert(st.removeMsg(8));
      st.storeMsg("foo", undefined, new Uint8Array(0));
      check(2, 6, 9);
    }));

  test("TestStoreSubjectStateConsistencyOptimization: first/last after paired removals", () =>
    withStore({ subjects: ["foo"] }, (st) => {
      const fill = (c: number) => {
        for (let i = 0; i < c; i++) st.storeMsg("foo", undefined, new Uint8Array(0));
      };
      const rm = (...seqs: number[]) => seqs.forEach((q) => assert(st.removeMsg(q)));
      const expectSeq = (q: number) => {
        assertEquals(st.loadNextMsg("foo", 0)!.seq, q);
        assertEquals(st.loadLastMsg("foo")!.seq, q);
        assertEquals(st.subjectsState("foo").get("foo"), { msgs: 1, first: q, last: q });
      };
      // (The Go test also checks the lazy-update flags of its subject tree; our lists have none.)
      fill(3);
      rm(2, 1);
      expectSeq(3);
      fill(2);
      rm(3, 5);
      expectSeq(4);
      fill(2);
      rm(7, 4);
      expectSeq(6);
      fill(2);
      rm(9, 8);
      expectSeq(6);
    }));

  test("TestStoreMaxMsgsPerUpdateBug: raising max_msgs_per from unlimited enforces it", () =>
    withStore({ subjects: ["foo"] }, (st, ctx) => {
      for (let i = 0; i < 5; i++) st.storeMsg("foo", undefined, new Uint8Array(0));
      assertEquals([st.state().msgs, st.state().firstSeq, st.state().lastSeq], [5, 1, 5]);
      st.updateConfig({ ...ctx.cfg, maxMsgsPerSubject: 1 });
      assertEquals([st.state().msgs, st.state().firstSeq, st.state().lastSeq], [1, 5, 5]);
      // An invalid value below -1 is accepted (Go clamps its copy to -1).
      st.updateConfig({ ...ctx.cfg, maxMsgsPerSubject: -2 });
      assertEquals(st.state().msgs, 1);
    }));

  test("TestStoreCompactCleansUpDmap: compact clears interior deletes below it", async () => {
    for (let cseq = 2; cseq <= 4; cseq++) {
      await withStore({ subjects: ["foo"] }, (st) => {
        for (let i = 0; i < 3; i++) st.storeMsg("foo", undefined, new Uint8Array(0));
        assertEquals(st.state().numDeleted, 0);
        st.removeMsg(2);
        assertEquals(st.state().numDeleted, 1);
        st.compact(cseq);
        const state = st.state();
        assertEquals(state.numDeleted, 0);
        assertEquals([state.firstSeq, state.lastSeq], [Math.max(3, cseq), 3]);
      });
    }
  });

  test("TestStoreTruncateCleansUpDmap: truncate clears interior deletes above it", async () => {
    for (let tseq = 0; tseq <= 1; tseq++) {
      await withStore({ subjects: ["foo"] }, (st) => {
        for (let i = 0; i < 3; i++) st.storeMsg("foo", undefined, new Uint8Array(0));
        st.removeMsg(2);
        assertEquals(st.state().numDeleted, 1);
        st.truncate(tseq);
        const state = st.state();
        assertEquals(state.numDeleted, 0);
        assertEquals([state.firstSeq, state.lastSeq], [Math.min(1, tseq), tseq]);
      });
    }
  });

  test("TestStorePurgeExZero: purgeEx with sequence 0 equals purge", () =>
    withStore({ subjects: ["foo"] }, (st) => {
      st.purge();
      assertEquals([st.state().firstSeq, st.state().lastSeq], [1, 0]);
      st.purgeEx("", 0, 0);
      assertEquals([st.state().firstSeq, st.state().lastSeq], [1, 0]);
    }));

  test("TestStoreUpdateConfigTTLState: TTLs apply only while allowMsgTtl is on", () =>
    withStore({ subjects: ["foo"] }, async (st, ctx) => {
      // Go uses a 1 s TTL and 2 s sleeps; 20 ms and 120 ms keep the same criterion.
      let seq = st.storeMsg("foo", undefined, new Uint8Array(0), 20_000_000n).seq;
      await delay(120);
      assert(st.loadMsg(seq) !== undefined);
      st.updateConfig({ ...ctx.cfg, allowMsgTtl: true });
      seq = st.storeMsg("foo", undefined, new Uint8Array(0), 20_000_000n).seq;
      await delay(120);
      assertEquals(st.loadMsg(seq), undefined);
      st.updateConfig({ ...ctx.cfg, allowMsgTtl: false });
      seq = st.storeMsg("foo", undefined, new Uint8Array(0), 20_000_000n).seq;
      await delay(120);
      assert(st.loadMsg(seq) !== undefined);
    }));

  test("TestStoreStreamInteriorDeleteAccounting: trailing removes, skips and truncates keep first/last", async () => {
    const actions: [string, (st: StreamStore, lseq: number) => void][] = [
      ["TruncateWithRemove", (st, lseq) => {
        assertEquals(st.storeMsg("foo", undefined, new Uint8Array(0)).seq, lseq);
        assert(st.removeMsg(lseq));
        st.truncate(lseq);
      }],
      ["TruncateWithErase", (st, lseq) => {
        assertEquals(st.storeMsg("foo", undefined, new Uint8Array(0)).seq, lseq);
        assert(st.eraseMsg(lseq));
        st.truncate(lseq);
      }],
      ["SkipMsg", (st) => void st.skipMsg()],
      ["SkipMsgs", (st, lseq) => st.skipMsgs(lseq, 1)],
    ];
    for (const empty of [false, true]) {
      for (const [, action] of actions) {
        await withStore({ subjects: ["foo"] }, (st, ctx) => {
          let lseq = 0;
          if (!empty) assertEquals(lseq = st.storeMsg("foo", undefined, new Uint8Array(0)).seq, 1);
          lseq++;
          action(st, lseq);
          const before = st.state();
          if (empty) assertEquals([before.msgs, before.firstSeq, before.lastSeq], [0, 2, 1]);
          else assertEquals([before.msgs, before.firstSeq, before.lastSeq], [1, 1, 2]);
          if (opts.persistent) {
            const after = ctx.reopen().state();
            assertEquals([after.msgs, after.firstSeq, after.lastSeq, after.deleted], [
              before.msgs,
              before.firstSeq,
              before.lastSeq,
              before.deleted,
            ]);
          }
        });
      }
    }
  });

  // blocked: LoadPrevMsgMulti (sublist filters) is not part of the StreamStore interface yet.
  test("TestStoreMsgLoadPrevMsgMulti: loads previous across a sublist of filters", () => {}, {
    ignore: true,
  });

  test("TestStoreDiscardNew: discard new refuses only on the leader path and never trims", async () => {
    const cases: [string, Partial<StoreConfig>, StoreError["code"] | undefined][] = [
      ["MaxMsgs", { maxMsgs: 1 }, "max_msgs"],
      ["MaxBytes", { maxBytes: 33 }, "max_bytes"],
      ["MaxMsgsPer", { maxMsgsPerSubject: 1 }, undefined],
      [
        "MaxMsgsPer_DiscardNewPer",
        { discardNewPerSubject: true, maxMsgsPerSubject: 1 },
        "max_msgs_per_subject",
      ],
      ["MaxMsgsPer_MaxMsgs", { maxMsgs: 1, maxMsgsPerSubject: 1 }, undefined],
      ["MaxMsgsPer_MaxBytes", { maxBytes: 33, maxMsgsPerSubject: 1 }, undefined],
      ["MaxMsgsPer_MaxMsgs_DiscardNewPer", {
        discardNewPerSubject: true,
        maxMsgs: 1,
        maxMsgsPerSubject: 1,
      }, "max_msgs_per_subject"],
      ["MaxMsgsPer_MaxBytes_DiscardNewPer", {
        discardNewPerSubject: true,
        maxBytes: 33,
        maxMsgsPerSubject: 1,
      }, "max_msgs_per_subject"],
    ];
    for (const [title, over, code] of cases) {
      await withStore({ subjects: ["foo"], discardNew: true, ...over }, (st, ctx) => {
        let expectedSeq = 1;
        const requireState = () => {
          const state = st.state();
          assertEquals([state.msgs, state.firstSeq, state.lastSeq], [1, expectedSeq, expectedSeq], title);
        };
        const ts = BigInt(Date.now()) * 1_000_000n;
        st.storeMsg("foo", undefined, new Uint8Array(0));
        if (code === undefined) {
          st.storeRawMsg("foo", undefined, new Uint8Array(0), 0, ts, 0n, true);
          expectedSeq++;
        } else {
          storeErr(() => st.storeRawMsg("foo", undefined, new Uint8Array(0), 0, ts, 0n, true), code);
        }
        requireState();
        st.storeRawMsg("foo", undefined, new Uint8Array(0), 0, ts, 0n, false);
        expectedSeq++;
        if ((ctx.cfg.maxMsgsPerSubject ?? 0) > 0) requireState();
        else {
          const state = st.state();
          assertEquals([state.msgs, state.firstSeq, state.lastSeq], [2, expectedSeq - 1, expectedSeq], title);
        }
      });
    }
  });

  test("TestStoreGetSeqFromTimeWithInteriorDeletesGap: the search accounts for deleted runs", () =>
    withStore({ subjects: ["foo"] }, (st) => {
      let start = 0n;
      for (let i = 0; i < 10; i++) {
        const { ts } = st.storeMsg("foo", undefined, new Uint8Array(0));
        if (i === 1) start = ts;
      }
      for (let q = 4; q <= 7; q++) st.removeMsg(q);
      assertEquals(st.getSeqFromTime(start), 2);
    }));

  test("TestStoreGetSeqFromTimeWithTrailingDeletes: a deleted last message does not confuse the search", () =>
    withStore({ subjects: ["foo"] }, (st) => {
      let start = 0n;
      for (let i = 0; i < 3; i++) {
        const { ts } = st.storeMsg("foo", undefined, new Uint8Array(0));
        if (i === 1) start = ts;
      }
      st.removeMsg(3);
      assertEquals(st.getSeqFromTime(start), 2);
    }));

  test("TestFileStoreMultiLastSeqsAndLoadLastMsgWithLazySubjectState: last seqs follow removals", () =>
    withStore({ subjects: ["foo"] }, (st) => {
      for (let i = 0; i < 3; i++) st.storeMsg("foo", undefined, new Uint8Array(0));
      assertEquals(st.multiLastSeqs(["foo"], 0, 0), [3]);
      st.removeMsg(3);
      assertEquals(st.multiLastSeqs(["foo"], 0, 0), [2]);
      st.storeMsg("foo", undefined, new Uint8Array(0));
      assertEquals(st.loadLastMsg("foo")!.seq, 4);
      st.removeMsg(4);
      assertEquals(st.loadLastMsg("foo")!.seq, 2);
    }));
}
