// Child process of filestore_errors_test.ts: runs a FileStore scenario that needs file permissions to hold,
// and prints its findings as one JSON line. The test runs it without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH
// when it is root (setpriv), since root otherwise reads and writes through any mode bits.
//   unreadable <dirA> <dirB>   open two stores, A with a block file at mode 000
//   readonly <dir>             a store whose msgs directory turns 0555: new blocks fail, then it turns back
//   efbig <dir>                run under `ulimit -f`: a block reaches the file size limit (EFBIG)

import { FileStore } from "../../src/store/filestore.ts";
import { type StoreConfig, StoreError } from "../../src/store/store.ts";
import { storeConfig } from "../_helpers/store_config.ts";

export function cfg(name: string): StoreConfig {
  return storeConfig({ name, storage: "file" });
}

export function payload(i: number): Uint8Array {
  const p = new Uint8Array(300 + (i % 41));
  for (let j = 0; j < p.length; j++) p[j] = (i * 7 + j) & 0xff;
  return p;
}

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Stores one message and waits for its ack; the error when it is refused or its write fails. */
async function storeAcked(st: FileStore, i: number): Promise<{ seq: number } | { err: string }> {
  let seq: number;
  try {
    seq = st.storeMsg(`p.${i % 3}`, undefined, payload(i)).seq;
  } catch (e) {
    return { err: `${(e as StoreError).code}: ${(e as Error).message}` };
  }
  const p = st.flushed(seq);
  try {
    await p;
  } catch (e) {
    return { err: `${(e as StoreError).code}: ${(e as Error).message}` };
  }
  return { seq };
}

async function unreadable(dirA: string, dirB: string): Promise<unknown> {
  const errs: string[] = [];
  const a = new FileStore(cfg("a"), { dir: dirA, blockSize: 4096, onError: (e) => errs.push(String(e)) });
  const b = new FileStore(cfg("b"), { dir: dirB, blockSize: 4096 });
  const aSeqs: number[] = [];
  for (let s = 1; s <= 200; s++) if (same(a.loadMsg(s)?.msg, payload(s))) aSeqs.push(s);
  let bAll = true;
  for (let s = 1; s <= 200; s++) bAll &&= same(b.loadMsg(s)?.msg, payload(s));
  // The store still takes writes, into a block that does not reuse the unreadable one's number.
  const w = await storeAcked(a, 201);
  const out = { damage: a.damage, errs, aSeqs, bAll, write: w, aLast: a.fastState().lastSeq };
  a.stop();
  b.stop();
  return out;
}

async function readonly(dir: string): Promise<unknown> {
  const st = new FileStore(cfg("ro"), { dir, blockSize: 4096 });
  const acked = new Map<number, number>();
  let i = 0;
  for (; i < 5; i++) {
    const r = await storeAcked(st, i);
    if ("seq" in r) acked.set(r.seq, i);
  }
  Deno.chmodSync(`${dir}/msgs`, 0o555);
  let refused: string | undefined;
  for (; i < 200 && refused === undefined; i++) {
    const r = await storeAcked(st, i);
    if ("seq" in r) acked.set(r.seq, i);
    else refused = r.err;
  }
  const lastWhileFull = st.fastState().lastSeq;
  let readsOk = true;
  for (const [s, k] of acked) readsOk &&= same(st.loadMsg(s)?.msg, payload(k));
  Deno.chmodSync(`${dir}/msgs`, 0o755);
  let after = 0;
  for (let n = 0; n < 20; n++, i++) {
    const r = await storeAcked(st, i);
    if ("seq" in r) {
      acked.set(r.seq, i);
      after++;
    }
  }
  st.stop();
  const re = new FileStore(cfg("ro"), { dir, blockSize: 4096 });
  let recovered = 0;
  for (const [s, k] of acked) if (same(re.loadMsg(s)?.msg, payload(k))) recovered++;
  const out = {
    refused,
    lastWhileFull,
    maxAckedWhileFull: Math.max(...[...acked.keys()].slice(0, acked.size - after)),
    readsOk,
    after,
    acked: acked.size,
    recovered,
    lastSeq: re.fastState().lastSeq,
    damage: re.damage,
  };
  re.stop();
  return out;
}

async function efbig(dir: string): Promise<unknown> {
  const limit = /Max file size\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/limits"))?.[1];
  const st = new FileStore(cfg("fb"), { dir });
  const acked = new Map<number, number>();
  let refused: string | undefined;
  let i = 0;
  for (; i < 100_000 && refused === undefined; i++) {
    const r = await storeAcked(st, i);
    if ("seq" in r) acked.set(r.seq, i);
    else refused = r.err;
  }
  const msgsAtLimit = st.fastState().msgs;
  const ackedAtLimit = acked.size;
  let after = 0;
  for (let n = 0; n < 50; n++, i++) {
    const r = await storeAcked(st, i);
    if ("seq" in r) {
      acked.set(r.seq, i);
      after++;
    }
  }
  st.stop();
  const blocks = [...Deno.readDirSync(`${dir}/msgs`)].filter((e) => e.name.endsWith(".blk")).length;
  const re = new FileStore(cfg("fb"), { dir });
  let recovered = 0;
  for (const [s, k] of acked) if (same(re.loadMsg(s)?.msg, payload(k))) recovered++;
  const out = {
    limit: Number(limit),
    refused,
    msgsAtLimit,
    ackedAtLimit,
    after,
    blocks,
    acked: acked.size,
    recovered,
    lastSeq: re.fastState().lastSeq,
    msgs: re.fastState().msgs,
    maxAcked: Math.max(...acked.keys()),
  };
  re.stop();
  return out;
}

if (import.meta.main) {
  const [mode, x, y] = Deno.args;
  const out = mode === "unreadable"
    ? await unreadable(x, y)
    : mode === "efbig"
    ? await efbig(x)
    : await readonly(x);
  // deno-lint-ignore no-console
  console.log(JSON.stringify(out));
}
