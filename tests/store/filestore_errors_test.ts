// FileStore under write and read errors, with real errors from the kernel rather than mocks:
// - a full disk (ENOSPC): a 1 MiB tmpfs mounted over the store directory, nearly filled by a filler file.
//   Mounting needs root (CAP_SYS_ADMIN); without it these tests are skipped with that reason.
// - a read-only msgs directory (EACCES on a new block) and an unreadable block file (mode 000): run in a child
//   process (_fs_errors_child.ts); as root the child runs under `setpriv` without CAP_DAC_OVERRIDE and
//   CAP_DAC_READ_SEARCH, so that the mode bits hold for it.
// What must hold: a failed write or fsync never acknowledges a message; the publisher gets the error (for
// JetStream, JSStreamStoreFailedF, err_code 10077, with the OS error text as nats-server sends it); reads
// go on; once space returns writes work again; a restart recovers every acknowledged message.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { connect } from "@nats-io/transport-node";
import { FileStore } from "../../src/store/filestore.ts";
import { StoreError } from "../../src/store/store.ts";
import { runServer } from "../_helpers/server.ts";
import { cfg, payload } from "./_fs_errors_child.ts";

const IS_ROOT = Deno.uid() === 0;

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  try {
    const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const d = new TextDecoder();
    return { ok: o.success, out: d.decode(o.stdout), err: d.decode(o.stderr) };
  } catch (e) {
    return { ok: false, out: "", err: String(e) };
  }
}

/** Mounts a tmpfs of `size` on a new temporary directory; undefined when this process may not mount. */
async function mountTmpfs(size: string): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-enospc-" });
  if ((await run("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir])).ok) return dir;
  await Deno.remove(dir);
  return undefined;
}

async function unmount(dir: string): Promise<void> {
  await run("umount", [dir]);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

const probe = await mountTmpfs("1m");
if (probe !== undefined) await unmount(probe);
const CAN_MOUNT = probe !== undefined;
if (!CAN_MOUNT) {
  // deno-lint-ignore no-console
  console.warn("filestore_errors_test: cannot mount a tmpfs (needs root); ENOSPC tests skipped");
}

/** Fills a tmpfs mounted at `dir` until `leave` bytes are free; returns the filler's path. */
function fill(dir: string, leave: number): string {
  const path = `${dir}/filler`;
  const f = Deno.openSync(path, { write: true, create: true });
  const chunk = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const st = Deno.statSync(path);
      if (1024 * 1024 - st.size - leave < chunk.length) break;
      f.writeSync(chunk);
    }
  } catch {
    // Full already.
  } finally {
    f.close();
  }
  return path;
}

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Stores a message and waits for its ack: the sequence, or the error it was refused or failed with. */
function storeAcked(st: FileStore, i: number): Promise<number | Error> {
  let seq: number;
  try {
    seq = st.storeMsg(`p.${i % 3}`, undefined, payload(i)).seq;
  } catch (e) {
    return Promise.resolve(e as Error);
  }
  return new Promise((res) => {
    if (!st.onFlushed(seq, (err) => res(err === undefined ? seq : err as Error), 0, 0)) res(seq);
  });
}

Deno.test({
  name:
    "FileStore on a full disk (ENOSPC): no ack for a failed write, reads go on, writes resume, acks survive",
  ignore: !CAN_MOUNT,
  async fn() {
    const mnt = (await mountTmpfs("1m"))!;
    try {
      const errs: unknown[] = [];
      const opts = { dir: `${mnt}/s`, blockSize: 64 * 1024, onError: (e: unknown) => errs.push(e) };
      let st = new FileStore(cfg("full"), opts);
      const filler = fill(mnt, 200 * 1024);
      const acked = new Map<number, number>();
      let failure: Error | undefined;
      let i = 0;
      // Batches of 8 publishes in flight, as a client publishing asynchronously.
      while (failure === undefined && i < 5000) {
        const batch: Promise<number | Error>[] = [];
        const idx: number[] = [];
        for (let k = 0; k < 8; k++, i++) {
          batch.push(storeAcked(st, i));
          idx.push(i);
        }
        const rs = await Promise.all(batch);
        rs.forEach((r, k) => {
          if (typeof r === "number") acked.set(r, idx[k]);
          else failure ??= r;
        });
      }
      assert(failure !== undefined, "the disk filled up");
      assert(failure instanceof StoreError && failure.code === "io", String(failure));
      assertMatch(failure.message, /no space left on device/);
      assert(acked.size > 100, `${acked.size} acked before the disk filled`);
      const maxAcked = Math.max(...acked.keys());
      // Nothing unacknowledged stays in the stream; its sequences stay used (a consumer may be past them).
      assertEquals(st.fastState().msgs, acked.size);
      assertEquals(st.loadNextMsg("", maxAcked + 1), undefined);
      const hole = st.fastState().lastSeq;
      assert(hole > maxAcked, "the failed batch's sequences stay used");
      assert(errs.some((e) => String(e).includes("unacknowledged messages dropped")), String(errs));
      // Reads go on while the disk is full.
      for (const [seq, k] of acked) assert(same(st.loadMsg(seq)?.msg, payload(k)), `read ${seq} while full`);
      // Still full: still refused.
      const again = await storeAcked(st, i++);
      assert(again instanceof Error, "refused while the disk is full");
      assertEquals(st.fastState().msgs, acked.size);
      // Space returns: writes work again.
      Deno.removeSync(filler);
      for (let n = 0; n < 50; n++, i++) {
        const r = await storeAcked(st, i);
        assert(typeof r === "number", `write after space returned: ${r}`);
        assert(r > hole, "no sequence is used twice");
        acked.set(r, i);
      }
      st.stop();
      st = new FileStore(cfg("full"), opts);
      try {
        assertEquals(st.fastState().msgs, acked.size);
        assertEquals(st.fastState().lastSeq, Math.max(...acked.keys()));
        for (const [seq, k] of acked) {
          assert(same(st.loadMsg(seq)?.msg, payload(k)), `seq ${seq} after restart`);
        }
        assertEquals(st.damage, []);
      } finally {
        st.stop();
      }
    } finally {
      await unmount(mnt);
    }
  },
});

Deno.test({
  name: "FileStore stop() on a full disk fails the acks it could not write instead of releasing them",
  ignore: !CAN_MOUNT,
  async fn() {
    const mnt = (await mountTmpfs("1m"))!;
    try {
      const opts = { dir: `${mnt}/s`, onError: () => {} };
      let st = new FileStore(cfg("stop"), opts);
      const first = await storeAcked(st, 1);
      assertEquals(first, 1);
      const filler = fill(mnt, 0);
      const results: unknown[] = [];
      const big = new Uint8Array(64 * 1024).fill(1);
      for (let k = 0; k < 4; k++) {
        const { seq } = st.storeMsg("p.x", undefined, big);
        assert(st.onFlushed(seq, (err) => results.push(err ?? "acked"), 0, 0));
      }
      // Stopped before the write of this task: stop() writes, fails, and must not ack.
      st.stop();
      assertEquals(results.length, 4);
      for (const r of results) assert(r instanceof StoreError, `not acknowledged: ${r}`);
      Deno.removeSync(filler);
      st = new FileStore(cfg("stop"), opts);
      try {
        assertEquals(st.fastState().msgs, 1);
        assert(same(st.loadMsg(1)?.msg, payload(1)));
      } finally {
        st.stop();
      }
    } finally {
      await unmount(mnt);
    }
  },
});

Deno.test({
  name:
    "JetStream publish on a full disk gets JSStreamStoreFailedF (10077) with the OS error, as nats-server",
  ignore: !CAN_MOUNT,
  async fn() {
    const mnt = (await mountTmpfs("1m"))!;
    try {
      await using s = await runServer({ jetStream: true, storeDir: `${mnt}/js` });
      const nc = await connect({ servers: `127.0.0.1:${s.port}` });
      try {
        const enc = new TextEncoder();
        const dec = new TextDecoder();
        // deno-lint-ignore no-explicit-any
        const req = async (subj: string, body: Uint8Array | string): Promise<any> =>
          JSON.parse(dec.decode((await nc.request(subj, body, { timeout: 5_000 })).data));
        const created = await req(
          "$JS.API.STREAM.CREATE.T",
          JSON.stringify({ name: "T", subjects: ["t.>"], storage: "file" }),
        );
        assertEquals(created.error, undefined, JSON.stringify(created));
        const filler = fill(mnt, 150 * 1024);
        let last = 0;
        // deno-lint-ignore no-explicit-any
        let err: any;
        const body = new Uint8Array(1000).fill(0x61);
        for (let i = 0; i < 2000 && err === undefined; i++) {
          const r = await req(`t.${i % 4}`, body);
          if (r.error !== undefined) err = r;
          else last = r.seq;
        }
        assert(err !== undefined, "the disk filled up");
        assertEquals(err.error.code, 503);
        assertEquals(err.error.err_code, 10077);
        assertMatch(err.error.description, /^(write|sync|open) \/.*: no space left on device$/);
        assert(last > 10);
        // Reads go on: stream info and a direct message get.
        const info = await req("$JS.API.STREAM.INFO.T", "");
        assertEquals(info.state.messages, last, "every acknowledged message, nothing else");
        const got = await req("$JS.API.STREAM.MSG.GET.T", JSON.stringify({ seq: last }));
        assertEquals(got.message?.seq, last, JSON.stringify(got));
        Deno.removeSync(filler);
        const ok = await req("t.x", enc.encode("after"));
        assertEquals(ok.error, undefined, JSON.stringify(ok));
        assert(ok.seq > last, `seq ${ok.seq} after ${last}`);
        const info2 = await req("$JS.API.STREAM.INFO.T", "");
        assertEquals(info2.state.messages, info.state.messages + 1, "only acknowledged messages are stored");
      } finally {
        await nc.close();
      }
    } finally {
      await unmount(mnt);
    }
  },
});

Deno.test({
  name: "FileStore at the file size limit (EFBIG under ulimit -f): no ack, then the next block takes writes",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "natsdeno-fse-" });
    try {
      const script = new URL("./_fs_errors_child.ts", import.meta.url).pathname;
      // SIGXFSZ ignored, so that the write fails with EFBIG instead of killing the process. 512 blocks of
      // 512 bytes (dash; bash counts KiB): far below the 8 MiB block size.
      const sh = `trap '' XFSZ; ulimit -f 512; exec "$0" run -A --no-check "$1" efbig "$2"`;
      const r = await run("sh", ["-c", sh, Deno.execPath(), script, dir]);
      assert(r.ok, `child failed: ${r.err}`);
      const o = JSON.parse(r.out.trim().split("\n").pop()!);
      assert(o.limit > 0 && o.limit <= 1024 * 1024, `limit ${o.limit}`);
      assert(typeof o.refused === "string", JSON.stringify(o));
      assertStringIncludes(o.refused, "file too large");
      assertStringIncludes(o.refused, `write ${dir}/msgs/1.blk`);
      assertEquals(o.msgsAtLimit, o.ackedAtLimit, "nothing unacknowledged stays");
      assertEquals(o.after, 50, "writes go on in a new block");
      assert(o.blocks >= 2, `${o.blocks} blocks`);
      assertEquals(o.recovered, o.acked, "every acknowledged message survives a restart");
      assertEquals(o.lastSeq, o.maxAcked);
      assertEquals(o.msgs, o.acked);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("FileStore creates a missing store directory, parents included", () => {
  const base = Deno.makeTempDirSync({ prefix: "natsdeno-fse-" });
  const dir = `${base}/a/b/c`;
  try {
    let st = new FileStore(cfg("mk"), { dir });
    st.storeMsg("x", undefined, payload(1));
    st.stop();
    assert(Deno.statSync(`${dir}/msgs`).isDirectory);
    st = new FileStore(cfg("mk"), { dir });
    assert(same(st.loadMsg(1)?.msg, payload(1)));
    st.stop();
  } finally {
    Deno.removeSync(base, { recursive: true });
  }
});

/** Runs the child scenario without the capabilities that let root ignore mode bits. */
async function child(args: string[]): Promise<Record<string, unknown>> {
  const script = new URL("./_fs_errors_child.ts", import.meta.url).pathname;
  const deno = Deno.execPath();
  const cmd = IS_ROOT
    ? [
      "setpriv",
      "--bounding-set=-dac_override,-dac_read_search",
      "--inh-caps=-dac_override,-dac_read_search",
      deno,
    ]
    : [deno];
  const r = await run(cmd[0], [...cmd.slice(1), "run", "-A", "--no-check", script, ...args]);
  assert(r.ok, `child failed: ${r.err}`);
  return JSON.parse(r.out.trim().split("\n").pop()!);
}

const CAN_DROP = !IS_ROOT || (await run("setpriv", ["--version"])).ok;

Deno.test({
  name:
    "FileStore with a read-only msgs directory: a new block fails, the publisher gets EACCES, writes resume",
  ignore: !CAN_DROP,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "natsdeno-fse-" });
    try {
      const r = await child(["readonly", dir]);
      assert(typeof r.refused === "string", JSON.stringify(r));
      assertStringIncludes(r.refused as string, "permission denied");
      assertStringIncludes(r.refused as string, `${dir}/msgs/`);
      assertEquals(r.lastWhileFull, r.maxAckedWhileFull, "nothing unacknowledged stays");
      assertEquals(r.readsOk, true);
      assertEquals(r.after, 20, "writes resume once the directory is writable");
      assertEquals(r.recovered, r.acked, "every acknowledged message survives a restart");
      assertEquals(r.damage, []);
    } finally {
      Deno.chmodSync(`${dir}/msgs`, 0o755);
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "FileStore reports an unreadable block file by name, serves the rest, and other streams are unaffected",
  ignore: !CAN_DROP,
  async fn() {
    const base = Deno.makeTempDirSync({ prefix: "natsdeno-fse-" });
    const dirA = `${base}/a`;
    const dirB = `${base}/b`;
    try {
      for (const [name, dir] of [["a", dirA], ["b", dirB]]) {
        const st = new FileStore(cfg(name), { dir, blockSize: 4096 });
        for (let i = 1; i <= 200; i++) st.storeMsg(`p.${i % 3}`, undefined, payload(i));
        await st.flushed(200);
        st.stop();
      }
      const bad = `${dirA}/msgs/2.blk`;
      const blocks = [...Deno.readDirSync(`${dirA}/msgs`)].filter((e) => e.name.endsWith(".blk"));
      assert(blocks.length >= 3, "several blocks");
      Deno.chmodSync(bad, 0o000);
      const r = await child(["unreadable", dirA, dirB]);
      const damage = r.damage as { file: string; what: string }[];
      assert(
        damage.some((d) => d.file === bad && d.what.includes("permission denied")),
        JSON.stringify(damage),
      );
      assert((r.errs as string[]).length > 0, "reported through onError");
      const aSeqs = r.aSeqs as number[];
      assert(aSeqs.includes(1) && aSeqs.includes(200), `first and last blocks served: ${aSeqs.length}`);
      assert(aSeqs.length < 200 && aSeqs.length > 100, `${aSeqs.length} served`);
      assertEquals(r.bAll, true, "the other stream serves everything");
      assertEquals(r.write, { seq: 201 });
      // The unreadable block was left alone: its file and mode are unchanged for the operator.
      assertEquals(Deno.statSync(bad).mode! & 0o777, 0);
    } finally {
      Deno.removeSync(base, { recursive: true });
    }
  },
});
