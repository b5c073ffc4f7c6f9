// Stream snapshot/restore over the API (natsdeno's own archive format) and subject delete markers; ports the
// single-server snapshot tests of nats-server server/jetstream_test.go and the marker parts of its TTL tests.

import { assert, assertEquals } from "@std/assert";
import { clientFor, jsApi, runJsServer } from "./_helpers.ts";
import { restoreStream, snapshotStream } from "./_js_common.ts";

const enc = new TextEncoder();

Deno.test("TestJetStreamSnapshots: a snapshot restores into an identical stream", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const cfg = { name: "MY-STREAM", subjects: ["foo", "bar", "baz"], storage: "memory" };
  await jsApi(nc, "$JS.API.STREAM.CREATE.MY-STREAM", cfg);
  for (let i = 0; i < 200; i++) {
    await nc.request(["foo", "bar", "baz"][i % 3], enc.encode(`msg-${i}-${"x".repeat(i % 50)}`), {
      timeout: 2_000,
    });
  }
  await jsApi(nc, "$JS.API.STREAM.MSG.DELETE.MY-STREAM", { seq: 10 });
  const before = (await jsApi(nc, "$JS.API.STREAM.INFO.MY-STREAM")).state;
  const adv = nc.subscribe("$JS.EVENT.ADVISORY.STREAM.>");
  const advs: string[] = [];
  (async () => {
    for await (const m of adv) advs.push(m.json<{ type: string }>().type);
  })();
  const [r, data] = await snapshotStream(nc, "MY-STREAM");
  assertEquals(r.type, "io.nats.jetstream.api.v1.stream_snapshot_response");
  assertEquals(r.config.name, "MY-STREAM");
  assertEquals(r.state.messages, 199);
  assert(data.length > 1024);
  // Restoring over an existing stream is refused.
  let rr = await jsApi(nc, "$JS.API.STREAM.RESTORE.MY-STREAM", { config: cfg, state: before });
  assertEquals(rr.error, {
    code: 400,
    "err_code": 10130,
    description: "stream name already in use, cannot restore",
  });
  await jsApi(nc, "$JS.API.STREAM.DELETE.MY-STREAM");
  rr = await restoreStream(nc, "MY-STREAM", { config: r.config, state: r.state }, data);
  assertEquals(rr.type, "io.nats.jetstream.api.v1.stream_create_response");
  assertEquals(rr.error, undefined);
  const after = (await jsApi(nc, "$JS.API.STREAM.INFO.MY-STREAM")).state;
  assertEquals(
    [after.messages, after.bytes > 0, after.first_seq, after.last_seq, after.num_deleted],
    [before.messages, true, before.first_seq, before.last_seq, before.num_deleted],
  );
  const m = await jsApi(nc, "$JS.API.STREAM.MSG.GET.MY-STREAM", { seq: 11 });
  assertEquals(atob(m.message.data), `msg-10-${"x".repeat(10)}`);
  assertEquals((await jsApi(nc, "$JS.API.STREAM.MSG.GET.MY-STREAM", { seq: 10 })).error?.err_code, 10037);
  await nc.flush();
  adv.unsubscribe();
  for (const t of ["snapshot_create", "snapshot_complete", "restore_create", "restore_complete"]) {
    assert(advs.includes(`io.nats.jetstream.advisory.v1.${t}`), `${t}: ${advs}`);
  }
});

Deno.test("TestJetStreamSnapshotsAPI: snapshot and restore request errors", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  let r = await jsApi(nc, "$JS.API.STREAM.SNAPSHOT.NONE", { "deliver_subject": "x" });
  assertEquals(r.error, { code: 404, err_code: 10059, description: "stream not found" });
  await jsApi(nc, "$JS.API.STREAM.CREATE.S", { name: "S", storage: "memory" });
  r = await jsApi(nc, "$JS.API.STREAM.SNAPSHOT.S");
  assertEquals(r.error, { code: 400, err_code: 10003, description: "bad request" });
  r = await jsApi(nc, "$JS.API.STREAM.SNAPSHOT.S", { "deliver_subject": "" });
  assertEquals(r.error, { code: 400, err_code: 10015, description: "deliver subject not valid" });
  r = await jsApi(nc, "$JS.API.STREAM.RESTORE.S");
  assertEquals(r.error, { code: 400, err_code: 10003, description: "bad request" });
  // Garbage instead of a snapshot fails the restore at EOF.
  r = await restoreStream(
    nc,
    "R",
    { config: { name: "R", storage: "memory" } },
    enc.encode("not a snapshot"),
  );
  assertEquals(r.error?.err_code, 10062);
  assertEquals((await jsApi(nc, "$JS.API.STREAM.INFO.R")).error?.err_code, 10059);
});

Deno.test("Subject delete markers: purge and message delete leave a marker with a TTL", async () => {
  await using s = await runJsServer();
  await using nc = await clientFor(s);
  const r = await jsApi(nc, "$JS.API.STREAM.CREATE.M", {
    name: "M",
    subjects: ["m.*"],
    storage: "memory",
    "allow_msg_ttl": true,
    "subject_delete_marker_ttl": 1_000_000_000,
  });
  assertEquals(r.error, undefined);
  assertEquals(r.config.subject_delete_marker_ttl, 1_000_000_000);
  await nc.request("m.a", enc.encode("a"), { timeout: 2_000 });
  await nc.request("m.b", enc.encode("b"), { timeout: 2_000 });
  assertEquals((await jsApi(nc, "$JS.API.STREAM.PURGE.M", { filter: "m.a" })).purged, 1);
  let m = await jsApi(nc, "$JS.API.STREAM.MSG.GET.M", { "last_by_subj": "m.a" });
  assertEquals(m.message.seq, 3);
  let h = atob(m.message.hdrs);
  assert(h.includes("Nats-Marker-Reason: Purge") && h.includes("Nats-TTL: 1s"), h);
  assertEquals(m.message.data, undefined);
  await jsApi(nc, "$JS.API.STREAM.MSG.DELETE.M", { seq: 2 });
  m = await jsApi(nc, "$JS.API.STREAM.MSG.GET.M", { "last_by_subj": "m.b" });
  h = atob(m.message.hdrs);
  assert(h.includes("Nats-Marker-Reason: Remove"), h);
  // Markers need TTLs on: a pedantic request must ask for them (others get them turned on).
  const bad = await jsApi(nc, "$JS.API.STREAM.CREATE.B", {
    name: "B",
    storage: "memory",
    "subject_delete_marker_ttl": 1_000_000_000,
    pedantic: true,
  });
  assertEquals(bad.error?.description, "subject delete marker cannot be set if message TTLs are disabled");
});

Deno.test({
  name: "TestJetStreamSubjectDeleteMarkers: a MaxAge expiry leaves a MaxAge marker",
  fn: async () => {
    await using s = await runJsServer();
    await using nc = await clientFor(s);
    await jsApi(nc, "$JS.API.STREAM.CREATE.M", {
      name: "M",
      subjects: ["m.*"],
      storage: "memory",
      "max_age": 1_000_000_000,
      "allow_msg_ttl": true,
      "subject_delete_marker_ttl": 1_000_000_000,
    });
    await nc.request("m.a", enc.encode("a"), { timeout: 2_000 });
    await new Promise((r) => setTimeout(r, 1_500));
    const m = await jsApi(nc, "$JS.API.STREAM.MSG.GET.M", { "last_by_subj": "m.a" });
    assert(atob(m.message.hdrs).includes("Nats-Marker-Reason: MaxAge"));
  },
});
