// FileStore when fsync/fdatasync fail with EIO (the failure Postgres' "fsyncgate" showed matters), injected
// into a real natsdeno server process, without mocks of natsdeno code: tests/_fixtures/fsync_fail_shim.c is
// built with gcc into a temporary directory and loaded with LD_PRELOAD into `deno run main.ts -js`. The shim
// makes fsync/fdatasync on files whose path matches a pattern return EIO, as a control file this test writes
// says (see the C source), and logs every call, which also proves Deno's syncs reach the C library.
// What must hold: a message whose fdatasync failed is never acknowledged (the publisher gets
// JSStreamStoreFailedF, err_code 10077, "sync <block path>: input/output error"); publishes after the fault
// clears are acknowledged; the server does not crash and serves other clients during the fault; after kill -9
// and a restart without the shim every acknowledged message is there byte for byte, and any other message
// that is there is one that was published, intact.
// Without gcc and the C library headers (or off Linux) the tests are skipped with that reason.

import { assert, assertEquals, assertMatch } from "@std/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, JetStreamApiError, type JetStreamClient, jetstreamManager } from "@nats-io/jetstream";
import { freePort } from "../_helpers/ref_server.ts";

const te = new TextEncoder();
const td = new TextDecoder();
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const SHIM_SRC = new URL("../_fixtures/fsync_fail_shim.c", import.meta.url).pathname;

/** Builds the shim into a temporary directory: its path, or why it could not be built. */
async function buildShim(): Promise<{ so: string } | { why: string }> {
  if (Deno.build.os !== "linux") return { why: "not Linux" };
  const dir = Deno.makeTempDirSync({ prefix: "natsdeno-fsshim-" });
  const so = `${dir}/fsync_fail_shim.so`;
  try {
    const r = await new Deno.Command("gcc", {
      args: ["-shared", "-fPIC", "-O1", "-o", so, SHIM_SRC, "-ldl"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (r.success) return { so };
    Deno.removeSync(dir, { recursive: true });
    return { why: `gcc could not build it: ${td.decode(r.stderr).slice(0, 500)}` };
  } catch (e) {
    Deno.removeSync(dir, { recursive: true });
    return { why: `gcc not found (${e instanceof Error ? e.message : e})` };
  }
}

const built = await buildShim();
const SHIM = "so" in built ? built.so : "";
if (!("so" in built)) {
  // deno-lint-ignore no-console
  console.warn(
    `filestore_fsync_fail_test: the LD_PRELOAD fsync/fdatasync EIO tests are skipped: ${built.why} ` +
      "(they need gcc and the C library headers, Debian packages gcc and libc6-dev)",
  );
}
const HAVE_SHIM = SHIM !== "";
globalThis.addEventListener("unload", () => {
  if (HAVE_SHIM) Deno.removeSync(SHIM.slice(0, SHIM.lastIndexOf("/")), { recursive: true });
});

/** A natsdeno server process on 127.0.0.1, with the shim loaded when `shim` is given. */
class ServerProc {
  exited = false;
  status: Promise<Deno.CommandStatus>;
  private constructor(readonly proc: Deno.ChildProcess, readonly port: number, readonly logFile: string) {
    this.status = proc.status.then((s) => {
      this.exited = true;
      return s;
    });
  }

  static async start(
    storeDir: string,
    logFile: string,
    shim?: { so: string; ctl: string; log: string },
  ): Promise<ServerProc> {
    const port = freePort();
    const env: Record<string, string> = {};
    if (shim !== undefined) {
      env.LD_PRELOAD = shim.so;
      env.FSYNC_SHIM_CTL = shim.ctl;
      env.FSYNC_SHIM_LOG = shim.log;
    }
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "-js", "-sd", storeDir, "-a", "127.0.0.1", "-p", String(port), "-l", logFile],
      env,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const sp = new ServerProc(proc, port, logFile);
    for (let i = 0; i < 300 && !sp.exited; i++) {
      try {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        c.close();
        return sp;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    sp.kill("SIGKILL");
    await sp.status;
    throw new Error(`server did not start: ${sp.log().slice(-3000)}`);
  }

  log(): string {
    try {
      return Deno.readTextFileSync(this.logFile);
    } catch {
      return "";
    }
  }

  kill(sig: Deno.Signal): void {
    if (this.exited) return;
    try {
      this.proc.kill(sig);
    } catch {
      // Gone already.
    }
  }
}

/**
 * The body of message `i`: its number, then bytes that depend on it, so a damaged body is seen; `big` bytes
 * more when given.
 */
function body(i: number, big = 0): string {
  const n = 40 + (i % 200) + big;
  let s = `m${i}:`;
  for (let j = 0; j < n; j++) s += String.fromCharCode(97 + ((i * 7 + j) % 26));
  return s;
}

/** The message number in a body that body() made; -1 when it is not one. */
function bodyIndex(s: string, big = 0): number {
  const m = /^m(\d+):/.exec(s);
  if (m === null) return -1;
  const i = Number(m[1]);
  return body(i, big) === s ? i : -1;
}

interface ShimCall {
  fn: string;
  failed: boolean;
  /** The call came from the main thread (Deno's synchronous syncs) rather than a worker (asynchronous). */
  main: boolean;
  path: string;
}

function readShimLog(path: string): ShimCall[] {
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return [];
  }
  return text.split("\n").filter((l) => l !== "").map((l) => {
    const [fn, _fd, res, thread, ...p] = l.split(" ");
    return { fn, failed: res === "EIO", main: thread === "main", path: p.join(" ") };
  });
}

let gen = 0;
/**
 * Fails the next `count` fsync/fdatasync calls on paths matching `pattern` (-1: all of them; 0: none), made
 * on `thread`; with `lose`, a failed call also zeroes the bytes written since the file's last good sync.
 */
function setFault(
  ctl: string,
  count: number,
  pattern: string,
  thread: "any" | "main" | "worker" = "any",
  lose = true,
): void {
  Deno.writeTextFileSync(`${ctl}.tmp`, `${++gen} ${count} ${pattern} ${thread} ${lose ? 1 : 0}\n`);
  Deno.renameSync(`${ctl}.tmp`, ctl);
}

/** A core publish/subscribe round trip and a request/reply on their own connection. */
async function coreRoundTrip(nc: NatsConnection, tag: string): Promise<void> {
  const sub = nc.subscribe(`core.${tag}`, { max: 1 });
  const got = (async () => {
    for await (const m of sub) return td.decode(m.data);
  })();
  nc.publish(`core.${tag}`, te.encode(`hello ${tag}`));
  const t = setTimeout(() => sub.unsubscribe(), 5_000);
  assertEquals(await got, `hello ${tag}`, "core pub/sub round trip");
  clearTimeout(t);
  const rsub = nc.subscribe(`svc.${tag}`, {
    max: 1,
    callback: (_e, m) => {
      m.respond(te.encode(`re ${td.decode(m.data)}`));
    },
  });
  const r = await nc.request(`svc.${tag}`, te.encode(tag), { timeout: 5_000 });
  assertEquals(td.decode(r.data), `re ${tag}`, "core request/reply");
  rsub.unsubscribe();
}

type Outcome = { seq: number } | { err: unknown };

/** Publishes message bodies asynchronously to stream F and records what was acknowledged and what failed. */
class Publisher {
  readonly acked = new Map<number, number>(); // seq -> message number
  readonly errored = new Set<number>(); // message numbers that got an error
  next = 0;
  constructor(readonly js: JetStreamClient, readonly big = 0) {}

  publish(): Promise<Outcome> {
    const i = this.next++;
    return this.js.publish(`f.${i % 5}`, te.encode(body(i, this.big))).then(
      (a) => {
        assertEquals(a.stream, "F");
        assert(!this.acked.has(a.seq), `sequence ${a.seq} acknowledged twice`);
        this.acked.set(a.seq, i);
        return { seq: a.seq };
      },
      (err) => {
        this.errored.add(i);
        return { err };
      },
    );
  }

  async batch(n: number): Promise<Outcome[]> {
    const ps: Promise<Outcome>[] = [];
    for (let k = 0; k < n; k++) ps.push(this.publish());
    return await Promise.all(ps);
  }

  /**
   * After a restart: every acknowledged message is there byte for byte, any other message there is one
   * that got an error, intact; the number of those.
   */
  async check(nc: NatsConnection): Promise<number> {
    const jsm = await jetstreamManager(nc);
    const st = (await jsm.streams.info("F")).state;
    const { acked, errored } = this;
    assert(st.messages >= acked.size, `${st.messages} messages after restart, ${acked.size} acked`);
    assert(st.messages <= acked.size + errored.size);
    let extra = 0;
    const missing: number[] = [];
    for (let seq = st.first_seq; seq <= st.last_seq; seq++) {
      const m = await jsm.streams.getMessage("F", { seq }).catch(() => null);
      const want = acked.get(seq);
      if (want !== undefined) {
        if (m === null) {
          missing.push(seq);
          continue;
        }
        assertEquals(td.decode(m.data), body(want, this.big), `seq ${seq} after kill -9`);
        assertEquals(m.subject, `f.${want % 5}`);
      } else if (m !== null) {
        const i = bodyIndex(td.decode(m.data), this.big);
        assert(i >= 0 && errored.has(i), `seq ${seq}: not a message that got an error, or damaged`);
        extra++;
      }
    }
    for (const seq of acked.keys()) if (seq < st.first_seq || seq > st.last_seq) missing.push(seq);
    assertEquals(missing, [], `${missing.length} acknowledged messages lost after kill -9`);
    return extra;
  }
}

/** Starts a server with the shim and a file stream F on f.>; the connection and the paths. */
async function setup(prefix: string) {
  const dir = Deno.makeTempDirSync({ prefix });
  const shim = { so: SHIM, ctl: `${dir}/ctl`, log: `${dir}/shim.log` };
  const srv = await ServerProc.start(`${dir}/js`, `${dir}/server.log`, shim);
  const nc = await connect({ servers: `127.0.0.1:${srv.port}`, reconnect: false });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "F", subjects: ["f.>"], storage: "file" as never });
  return { dir, shim, srv, nc, jsm };
}

/** kill -9, then a restart without the shim; the new server and a connection to it. */
/** Kills the server and removes its store (kept when FS_KEEP is set, to look at after a failure). */
async function teardown(srv: ServerProc, dir: string): Promise<void> {
  srv.kill("SIGKILL");
  await srv.status;
  if (!Deno.env.get("FS_KEEP")) Deno.removeSync(dir, { recursive: true });
}

async function killAndRestart(srv: ServerProc, dir: string, ...conns: NatsConnection[]) {
  srv.kill("SIGKILL");
  await srv.status;
  await Promise.allSettled(conns.map((c) => c.close()));
  const srv2 = await ServerProc.start(`${dir}/js`, `${dir}/server2.log`);
  const nc = await connect({ servers: `127.0.0.1:${srv2.port}`, reconnect: false });
  return { srv2, nc };
}

Deno.test({
  name:
    "FileStore fdatasync EIO (LD_PRELOAD shim): no ack for a failed sync (10077), acks after it clears, others served, acks survive kill -9",
  ignore: !HAVE_SHIM,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    let { dir, shim, srv, nc, jsm } = await setup("natsdeno-fsyncfail-");
    const ctl = shim.ctl;
    try {
      const other = await connect({ servers: `127.0.0.1:${srv.port}`, reconnect: false });
      const pub = new Publisher(jetstream(nc));
      const { acked, errored } = pub;

      // 1. No fault: acknowledged, and the block's fdatasyncs reach the shim (Deno calls libc's).
      for (const r of await pub.batch(50)) assert("seq" in r, `no fault: ${"err" in r ? r.err : ""}`);
      let calls = readShimLog(shim.log);
      const blkSyncs = calls.filter((c) => /\/msgs\/\d+\.blk$/.test(c.path) && !c.failed);
      assert(blkSyncs.length > 0, `the shim saw no block sync: ${JSON.stringify(calls.slice(0, 20))}`);
      assert(calls.some((c) => c.fn === "fdatasync"), "fdatasync reaches the C library");
      const maxBefore = Math.max(...acked.keys());

      // 2. Every block fdatasync fails (and loses its bytes): async publishes get JSStreamStoreFailedF, none
      // is acknowledged.
      setFault(ctl, -1, "*.blk");
      const failedRound: Outcome[] = [];
      for (let round = 0; round < 5; round++) {
        failedRound.push(...await pub.batch(40));
        // 3. Meanwhile the server serves other clients: core pub/sub, request/reply, JetStream reads.
        await coreRoundTrip(other, `r${round}`);
        const si = await jsm.streams.info("F");
        assertEquals(si.state.messages, acked.size, "only acknowledged messages are in the stream");
        const m = await jsm.streams.getMessage("F", { seq: maxBefore });
        assertEquals(td.decode(m!.data), body(acked.get(maxBefore)!), "reads go on during the fault");
      }
      assertEquals(failedRound.filter((r) => "seq" in r).length, 0, "no ack while every fdatasync fails");
      const err = (failedRound[0] as { err: unknown }).err;
      assert(err instanceof JetStreamApiError, `not a JetStream API error: ${err}`);
      assertEquals(err.code, 10077, err.message);
      assertEquals(err.status, 503, err.message);
      assertMatch(err.message, /^sync \/.*\/msgs\/\d+\.blk: input\/output error$/);
      calls = readShimLog(shim.log);
      assert(calls.some((c) => c.failed && c.path.endsWith(".blk")), "the shim failed block syncs");
      assert(!srv.exited, "the server is up");

      // 4. The fault clears: publishes are acknowledged again, with new sequences.
      setFault(ctl, 0, "*");
      const hole = (await jsm.streams.info("F")).state.last_seq;
      for (const r of await pub.batch(60)) {
        assert("seq" in r, `after the fault: ${"err" in r ? r.err : ""}`);
        assert(r.seq > maxBefore, `seq ${r.seq} reuses a sequence up to ${maxBefore}`);
        assert(r.seq > hole, `seq ${r.seq} reuses a failed message's sequence (last ${hole})`);
      }

      // 5. Intermittent: the next few block fdatasyncs fail, then they work; async publishes in flight.
      setFault(ctl, 3, "*.blk");
      let some = 0;
      for (let round = 0; round < 10; round++) {
        for (const r of await pub.batch(30)) if ("err" in r) some++;
      }
      assert(some > 0, "some publishes failed in the intermittent fault");
      for (const r of await pub.batch(30)) assert("seq" in r, "acks after the intermittent fault");

      // 6. A flood of async publishes with the fault switched on and off while acks are in flight.
      const inflight = new Set<Promise<unknown>>();
      const t0 = performance.now();
      let phase = 0;
      while (performance.now() - t0 < 1500) {
        const el = performance.now() - t0;
        if (phase === 0 && el > 400) (phase = 1, setFault(ctl, -1, "*.blk"));
        if (phase === 1 && el > 900) (phase = 2, setFault(ctl, 0, "*"));
        const p = pub.publish().finally(() => inflight.delete(p));
        inflight.add(p);
        if (inflight.size >= 200) await Promise.race(inflight);
      }
      await Promise.all(inflight);
      for (const r of await pub.batch(20)) assert("seq" in r, "acks after the flood");
      assert(!srv.exited, "the server is up after the faults");
      const st = (await jsm.streams.info("F")).state;
      assertEquals(st.messages, acked.size, "the stream holds the acknowledged messages and nothing else");
      const log = srv.log();
      assertMatch(log, /input\/output error/);
      assertMatch(log, /unacknowledged messages dropped/);

      // 7. kill -9, restart without the shim: every acknowledged message is there, byte for byte; any other
      // message there is one that was published (and got an error), intact.
      let srv2: ServerProc;
      ({ srv2, nc } = await killAndRestart(srv, dir, nc, other));
      srv = srv2;
      const extra = await pub.check(nc);
      assert(!/damage|corrupt/i.test(srv.log()), `recovery reported damage: ${srv.log().slice(-2000)}`);
      // Writes go on after the restart.
      const a = await jetstream(nc).publish("f.z", te.encode("after restart"));
      assert(a.seq > Math.max(...acked.keys()));
      await nc.close();
      // deno-lint-ignore no-console -- the figures the issue asks about
      console.log(
        `fsync EIO: ${acked.size} acknowledged, ${errored.size} errors, ${extra} errored present after ` +
          `restart, ${readShimLog(shim.log).filter((c) => c.failed).length} syncs failed by the shim`,
      );
    } finally {
      await teardown(srv, dir);
    }
  },
});

Deno.test({
  name:
    "FileStore fdatasync EIO at block rotation (the synchronous sync of the full block): its messages are not acknowledged by a later good sync",
  ignore: !HAVE_SHIM,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    let { dir, shim, srv, nc } = await setup("natsdeno-fsyncrot-");
    try {
      // 64 KiB bodies: the 8 MiB default block fills every ~128 messages.
      const pub = new Publisher(jetstream(nc), 64 * 1024);
      for (const r of await pub.batch(40)) assert("seq" in r, "no fault");
      // The synchronous fdatasync (main thread: rotation) fails and loses the block's unsynced bytes; the
      // asynchronous ones (group commit, a worker thread) succeed.
      setFault(shim.ctl, -1, "*.blk", "main");
      let failed = 0;
      for (let round = 0; round < 25; round++) {
        for (const r of await pub.batch(16)) if ("err" in r) failed++;
      }
      const calls = readShimLog(shim.log);
      assert(calls.some((c) => c.failed && c.main), "a rotation's fdatasync failed");
      assert(failed > 0, "publishes failed while the full block could not be synced");
      assert(!srv.exited, "the server is up");
      setFault(shim.ctl, 0, "*");
      for (const r of await pub.batch(200)) assert("seq" in r, `after the fault: ${"err" in r ? r.err : ""}`);
      const st = (await jetstreamManager(nc)).streams.info("F");
      assertEquals((await st).state.messages, pub.acked.size, "only acknowledged messages are in the stream");
      let srv2: ServerProc;
      ({ srv2, nc } = await killAndRestart(srv, dir, nc));
      srv = srv2;
      const extra = await pub.check(nc);
      await nc.close();
      // deno-lint-ignore no-console -- the figures the issue asks about
      console.log(
        `fsync EIO at rotation: ${pub.acked.size} acknowledged, ${pub.errored.size} errors, ${extra} errored ` +
          `present after restart`,
      );
    } finally {
      await teardown(srv, dir);
    }
  },
});

Deno.test({
  name:
    "FileStore with every fsync and fdatasync failing (blocks, metadata, directories, consumers): the server stays up and serves, what it confirmed survives kill -9",
  ignore: !HAVE_SHIM,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    let { dir, shim, srv, nc, jsm } = await setup("natsdeno-fsyncall-");
    try {
      const other = await connect({ servers: `127.0.0.1:${srv.port}`, reconnect: false });
      const js = jetstream(nc);
      const pub = new Publisher(js);
      for (const r of await pub.batch(30)) assert("seq" in r, "no fault");
      await jsm.consumers.add("F", { durable_name: "C", ack_policy: "explicit" as never });
      const c = await js.consumers.get("F", "C");
      for await (const m of await c.fetch({ max_messages: 10, expires: 2_000 })) m.ack();

      setFault(shim.ctl, -1, "*");
      const during = await pub.batch(30);
      assertEquals(during.filter((r) => "seq" in r).length, 0, "no ack while every fdatasync fails");
      // A stream create writes its files durably: refused, or confirmed (then it must survive).
      const created = await jsm.streams.add({ name: "G", subjects: ["g.>"], storage: "file" as never })
        .then(() => true, () => false);
      // Consumers deliver and take acks; other clients are served; reads go on.
      let got = 0;
      for await (const m of await c.fetch({ max_messages: 5, expires: 2_000 })) {
        got++;
        m.ack();
      }
      assertEquals(got, 5, "the consumer delivers during the fault");
      await coreRoundTrip(other, "all");
      assertEquals((await jsm.streams.info("F")).state.messages, pub.acked.size);
      assert(!srv.exited, "the server is up");
      const calls = readShimLog(shim.log);
      assert(calls.some((c) => c.failed && !c.path.endsWith(".blk")), "syncs of other files failed too");

      setFault(shim.ctl, 0, "*");
      for (const r of await pub.batch(30)) assert("seq" in r, `after the fault: ${"err" in r ? r.err : ""}`);
      await coreRoundTrip(other, "after");
      let srv2: ServerProc;
      ({ srv2, nc } = await killAndRestart(srv, dir, nc, other));
      srv = srv2;
      await pub.check(nc);
      const jsm2 = await jetstreamManager(nc);
      if (created) {
        assertEquals((await jsm2.streams.info("G")).config.name, "G", "a confirmed stream survives");
      }
      assertEquals((await jsm2.consumers.info("F", "C")).name, "C");
      await nc.close();
      // deno-lint-ignore no-console -- the figures the issue asks about
      console.log(`every sync failing: stream create ${created ? "confirmed" : "refused"}`);
    } finally {
      await teardown(srv, dir);
    }
  },
});

Deno.test({
  name:
    "FileStore consumer create while its meta.inf cannot be synced: refused, or confirmed and there after kill -9",
  // A consumer's config, and a stream update's, are saved before the request is answered; a failed save
  // refuses it (as nats-server answers such a create with an error).
  ignore: !HAVE_SHIM,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    let { dir, shim, srv, nc, jsm } = await setup("natsdeno-fsynccons-");
    try {
      setFault(shim.ctl, -1, "*");
      const cons = await jsm.consumers.add("F", { durable_name: "D", ack_policy: "explicit" as never })
        .then(() => true, () => false);
      const upd = await jsm.streams.update("F", { subjects: ["f.>"], max_msgs: 1000 })
        .then(() => true, () => false);
      setFault(shim.ctl, 0, "*");
      let srv2: ServerProc;
      ({ srv2, nc } = await killAndRestart(srv, dir, nc));
      srv = srv2;
      const jsm2 = await jetstreamManager(nc);
      if (cons) {
        assertEquals((await jsm2.consumers.info("F", "D")).name, "D", "a confirmed consumer survives");
      }
      if (upd) {
        assertEquals((await jsm2.streams.info("F")).config.max_msgs, 1000, "a confirmed update survives");
      }
      await nc.close();
    } finally {
      await teardown(srv, dir);
    }
  },
});
