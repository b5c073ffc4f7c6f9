// An atomic batch refused half way changes nothing: messages stored before the batch stay, whatever the
// batch's rollups, limits or republish would have done. A committed batch applies them as the reference does
// when it applies the batch message by message (a rollup keeps the rolled-up message and what follows it).

import { assertEquals } from "@std/assert";
import { headers } from "@nats-io/nats-core";
import type { NatsConnection } from "@nats-io/transport-node";
import { addStream, clientFor, jsApi, runRealJs, SyncSub } from "./_js_common.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
// deno-lint-ignore no-explicit-any
type Json = any;

async function send(
  nc: NatsConnection,
  subject: string,
  h: Record<string, string>,
  data = "",
): Promise<Json> {
  const hd = headers();
  for (const [k, v] of Object.entries(h)) hd.set(k, v);
  const m = await nc.request(subject, enc.encode(data), { timeout: 2_000, headers: hd });
  return m.data.length === 0 ? {} : JSON.parse(dec.decode(m.data));
}

function batchHdr(id: string, seq: number, commit = false): Record<string, string> {
  const h: Record<string, string> = { "Nats-Batch-Id": id, "Nats-Batch-Sequence": String(seq) };
  if (commit) h["Nats-Batch-Commit"] = "1";
  return h;
}

async function subjectsOf(nc: NatsConnection, stream: string): Promise<[number, string, string][]> {
  const si = await jsApi(nc, `$JS.API.STREAM.INFO.${stream}`);
  const out: [number, string, string][] = [];
  for (let seq = si.state.first_seq; seq <= si.state.last_seq; seq++) {
    const r = await jsApi(nc, `$JS.API.STREAM.MSG.GET.${stream}`, { seq });
    if (r.error !== undefined) continue;
    out.push([
      seq,
      r.message.subject,
      dec.decode(Uint8Array.from(atob(r.message.data ?? ""), (c) => c.charCodeAt(0))),
    ]);
  }
  return out;
}

for (const storage of ["memory", "file"]) {
  Deno.test(`atomic batch (${storage}): a refused batch after a rollup leaves the rolled-up messages in place`, async () => {
    await using s = await runRealJs({}, "natsdeno-batchrb-");
    await using nc = await clientFor(s);
    await addStream(nc, {
      name: "S",
      subjects: ["a", "b"],
      storage,
      "allow_atomic": true,
      "allow_rollup_hdrs": true,
    });
    await send(nc, "a", {}, "old1");
    await send(nc, "a", {}, "old2");
    await send(nc, "a", { ...batchHdr("x", 1), "Nats-Rollup": "sub" }, "new");
    const r = await send(
      nc,
      "b",
      { ...batchHdr("x", 2, true), "Nats-Expected-Last-Subject-Sequence": "99" },
      "b",
    );
    assertEquals(r.error, { code: 400, "err_code": 10071, description: "wrong last sequence: 0" });
    assertEquals(await subjectsOf(nc, "S"), [[1, "a", "old1"], [2, "a", "old2"]]);
    // The stream goes on from where it was.
    assertEquals((await send(nc, "b", {}, "next")).seq, 3);
  });

  Deno.test(`atomic batch (${storage}): a refused batch removed nothing for max_msgs or max_msgs_per_subject`, async () => {
    await using s = await runRealJs({}, "natsdeno-batchrb-");
    await using nc = await clientFor(s);
    await addStream(nc, {
      name: "S",
      subjects: ["a", "b"],
      storage,
      "allow_atomic": true,
      "max_msgs": 3,
      "max_msgs_per_subject": 1,
    });
    await send(nc, "a", {}, "a1");
    await send(nc, "b", {}, "b1");
    await send(nc, "a", batchHdr("y", 1), "a2");
    await send(nc, "b", batchHdr("y", 2), "b2");
    const r = await send(nc, "b", { ...batchHdr("y", 3, true), "Nats-Expected-Stream": "OTHER" }, "b3");
    assertEquals(r.error?.err_code, 10060);
    assertEquals(await subjectsOf(nc, "S"), [[1, "a", "a1"], [2, "b", "b1"]]);
  });

  Deno.test(`atomic batch (${storage}): a committed batch applies rollups and limits as message by message`, async () => {
    await using s = await runRealJs({}, "natsdeno-batchrb-");
    await using nc = await clientFor(s);
    await addStream(nc, {
      name: "S",
      subjects: ["a", "b", "c"],
      storage,
      "allow_atomic": true,
      "allow_rollup_hdrs": true,
      "max_msgs_per_subject": 2,
    });
    await send(nc, "a", {}, "a1");
    await send(nc, "b", {}, "b1");
    await send(nc, "b", {}, "b2");
    await send(nc, "a", { ...batchHdr("z", 1), "Nats-Rollup": "sub" }, "a2");
    await send(nc, "a", batchHdr("z", 2), "a3");
    await send(nc, "b", batchHdr("z", 3), "b3");
    const r = await send(nc, "c", batchHdr("z", 4, true), "c1");
    assertEquals([r.error, r.seq, r.count], [undefined, 7, 4]);
    // a: the rollup kept a2 and what came after it; b: the per-subject limit dropped b1.
    assertEquals(await subjectsOf(nc, "S"), [[3, "b", "b2"], [4, "a", "a2"], [5, "a", "a3"], [6, "b", "b3"], [
      7,
      "c",
      "c1",
    ]]);
  });

  Deno.test(`atomic batch (${storage}): republish sends nothing for a refused batch, everything for a committed one`, async () => {
    await using s = await runRealJs({}, "natsdeno-batchrb-");
    await using nc = await clientFor(s);
    await addStream(nc, {
      name: "S",
      subjects: ["a"],
      storage,
      "allow_atomic": true,
      republish: { src: ">", dest: "rp.>" },
    });
    const rp = new SyncSub(nc, "rp.>");
    await nc.flush();
    await send(nc, "a", batchHdr("r1", 1), "x");
    const bad = await send(nc, "a", { ...batchHdr("r1", 2, true), "Nats-Expected-Stream": "OTHER" }, "y");
    assertEquals(bad.error?.err_code, 10060);
    await send(nc, "a", batchHdr("r2", 1), "1");
    const ok = await send(nc, "a", batchHdr("r2", 2, true), "2");
    assertEquals([ok.error, ok.seq], [undefined, 2]);
    const got = [dec.decode((await rp.must(2_000)).data), dec.decode((await rp.must(2_000)).data)];
    assertEquals(got, ["1", "2"]);
    assertEquals(await rp.next(200), null);
  });
}

/**
 * The store directory of a running server as a crash would leave it: a copy taken while the server runs (no
 * clean-stop files), optionally with the last `tear` bytes of the stream's last block cut (records that never
 * reached the disk).
 */
async function crashImage(storeDir: string, tear: number): Promise<string> {
  const copy = await Deno.makeTempDir({ prefix: "natsdeno-batchcrash-" });
  const p = new Deno.Command("cp", { args: ["-a", `${storeDir}/.`, copy] }).outputSync();
  assertEquals(p.code, 0);
  if (tear > 0) {
    const msgs = `${copy}/jetstream/$G/streams/S/msgs`;
    const blocks = [...Deno.readDirSync(msgs)].map((e) => e.name).filter((n) => n.endsWith(".blk"));
    const last = blocks.sort((a, b) => parseInt(a) - parseInt(b)).at(-1)!;
    const size = Deno.statSync(`${msgs}/${last}`).size;
    Deno.truncateSync(`${msgs}/${last}`, size - tear);
  }
  return copy;
}

Deno.test("atomic batch (file): a batch a crash cut short is rolled back at recovery; a whole one stays", async () => {
  await using s = await runRealJs({}, "natsdeno-batchrb-");
  await using nc = await clientFor(s);
  await addStream(nc, { name: "S", subjects: ["a"], storage: "file", "allow_atomic": true });
  await send(nc, "a", {}, "1");
  await send(nc, "a", {}, "2");
  await send(nc, "a", batchHdr("c", 1), "b1");
  await send(nc, "a", batchHdr("c", 2), "b2");
  const r = await send(nc, "a", batchHdr("c", 3, true), "b3");
  assertEquals([r.error, r.seq, r.count], [undefined, 5, 3]);
  for (const [tear, want] of [[0, 5], [5, 2]]) {
    const dir = await crashImage(s.opts.storeDir, tear);
    try {
      await using s2 = await runRealJs({ storeDir: dir }, "natsdeno-batchrb-");
      await using nc2 = await clientFor(s2);
      const si = await jsApi(nc2, "$JS.API.STREAM.INFO.S");
      assertEquals([si.state.messages, si.state.last_seq], [want, want], `tear ${tear}`);
      // The stream goes on after what it kept.
      assertEquals((await send(nc2, "a", {}, "next")).seq, want + 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
