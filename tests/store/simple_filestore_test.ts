// Runs the shared store suite on SimpleFileStore (the interim file store), plus its own restart and log tests.
import { assert, assertEquals } from "@std/assert";
import { SimpleFileStore } from "../../src/store/simple_filestore.ts";
import { b, runStoreSuite, s, storeConfig } from "./store_suite.ts";

runStoreSuite("simple file", (cfg, dir) => new SimpleFileStore({ ...cfg, storage: "file" }, { dir }), {
  persistent: true,
});

function tmpDir(): string {
  return Deno.makeTempDirSync({ prefix: "natsdeno-sfs-" });
}

Deno.test("SimpleFileStore.flushed() shares one fsync among many appends and resolves", async () => {
  const dir = tmpDir();
  const st = new SimpleFileStore(storeConfig({ storage: "file" }), { dir });
  try {
    let p1: Promise<void> | undefined;
    for (let i = 0; i < 100; i++) {
      const { seq } = st.storeMsg("foo", undefined, b(`${i}`));
      const p = st.flushed(seq);
      assert(p !== undefined);
      if (p1 === undefined) p1 = p;
      else assert(p === p1, "one promise per batch");
    }
    await p1;
    assertEquals(st.flushed(100), undefined);
    assertEquals(st.type(), "file");
  } finally {
    st.stop();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("SimpleFileStore cuts a torn tail and keeps every whole record", () => {
  const dir = tmpDir();
  try {
    const st = new SimpleFileStore(storeConfig({ storage: "file" }), { dir });
    for (let i = 0; i < 10; i++) st.storeMsg("foo", undefined, b(`msg-${i}`));
    st.stop();
    const path = `${dir}/msgs.log`;
    const size = Deno.statSync(path).size;
    Deno.truncateSync(path, size - 3);
    const st2 = new SimpleFileStore(storeConfig({ storage: "file" }), { dir });
    const state = st2.state();
    assertEquals([state.msgs, state.lastSeq], [9, 9]);
    assertEquals(st2.storeMsg("foo", undefined, b("again")).seq, 10);
    st2.stop();
    const st3 = new SimpleFileStore(storeConfig({ storage: "file" }), { dir });
    assertEquals(s(st3.loadMsg(10)!.msg), "again");
    st3.stop();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("SimpleFileStore.eraseMsg() overwrites the payload in the log file", () => {
  const dir = tmpDir();
  try {
    const st = new SimpleFileStore(storeConfig({ storage: "file" }), { dir });
    st.storeMsg("foo", undefined, b("top-secret-payload"));
    st.storeMsg("foo", undefined, b("other"));
    st.stop();
    const st2 = new SimpleFileStore(storeConfig({ storage: "file" }), { dir });
    assert(st2.eraseMsg(1));
    st2.stop();
    const raw = new TextDecoder().decode(Deno.readFileSync(`${dir}/msgs.log`));
    assert(!raw.includes("top-secret-payload"));
    const st3 = new SimpleFileStore(storeConfig({ storage: "file" }), { dir });
    assertEquals([st3.state().msgs, s(st3.loadMsg(2)!.msg)], [1, "other"]);
    st3.stop();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("SimpleFileStore restart re-applies limits changed while it was down", () => {
  const dir = tmpDir();
  try {
    const st = new SimpleFileStore(storeConfig({ storage: "file" }), { dir });
    for (let i = 0; i < 10; i++) st.storeMsg(`s.${i % 2}`, undefined, b("x"));
    st.stop();
    const st2 = new SimpleFileStore(storeConfig({ storage: "file", maxMsgsPerSubject: 2 }), { dir });
    assertEquals(st2.state().msgs, 4);
    st2.stop();
    // The removals were journaled: they stay removed with the limit lifted.
    const st3 = new SimpleFileStore(storeConfig({ storage: "file" }), { dir });
    assertEquals([st3.state().msgs, st3.state().firstSeq], [4, 7]);
    st3.stop();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("SimpleFileStore.delete() removes the directory", () => {
  const dir = tmpDir();
  const st = new SimpleFileStore(storeConfig({ storage: "file" }), { dir });
  st.storeMsg("foo", undefined, b("x"));
  st.delete();
  let gone = false;
  try {
    Deno.statSync(dir);
  } catch {
    gone = true;
  }
  assert(gone);
});

Deno.test("SimpleFileStore rewrites a mostly-garbage log and reopens to the same state", async () => {
  const dir = tmpDir();
  try {
    const cfg = storeConfig({ storage: "file", maxMsgsPerSubject: 1, allowMsgTtl: true });
    const st = new SimpleFileStore(cfg, { dir, rewriteMinBytes: 4096 });
    for (let i = 0; i < 2000; i++) st.storeMsg(`k.${i % 10}`, b("NATS/1.0\r\n\r\n"), b(`v${i}`));
    st.storeMsg("ttl", undefined, b("t"), 60_000_000_000n);
    st.removeMsg(1995);
    st.skipMsg();
    await st.flushed(st.state().lastSeq);
    const before = st.state();
    const size = Deno.statSync(`${dir}/msgs.log`).size;
    assert(size < 4096, `log not rewritten: ${size} bytes`);
    st.stop();
    const st2 = new SimpleFileStore(cfg, { dir, rewriteMinBytes: 4096 });
    assertEquals(st2.state(), before);
    assertEquals(s(st2.loadMsg(2000)!.msg), "v1999");
    assertEquals(s(st2.loadMsg(2000)!.hdr), "NATS/1.0\r\n\r\n");
    assertEquals(st2.storeMsg("k.1", undefined, b("next")).seq, 2003);
    st2.stop();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
