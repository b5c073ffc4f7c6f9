// natsdeno next to nats-server -js: the same JetStream API exchange on both, and the replies compared by
// shape (keys and value types) and by value where the value is deterministic. Fields that only newer
// nats-server versions send for the features used are listed in NEWER_FIELDS; every other difference fails.
// Skipped with a message when nats-server is not on PATH.

import { assertEquals } from "@std/assert";
import { headers, type Msg } from "@nats-io/nats-core";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { natsServerPath, runRefServer } from "../_helpers/ref_server.ts";
import { runJsServer } from "./_helpers.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Values that differ run to run: compared by type only. */
const VOLATILE = new Set([
  "created",
  "ts",
  "time",
  "first_ts",
  "last_ts",
  "last_active",
  "leader",
  "name@consumer", // ephemeral names
  "pause_remaining",
]);

/**
 * Paths (dotted, array indexes as []) that only newer nats-server versions send, allowed on natsdeno's side
 * only. Each is what 2.10+ adds for the same request.
 */
const NEWER_FIELDS = new Set<string>([
  // ConsumerInfo: 2.10+ sends the time of the info ("ts") and, on one server too, cluster {leader}; the
  // config of a durable carries its name.
  "ts",
  "cluster",
  "config.name",
  "consumers[].ts",
  "consumers[].cluster",
  "consumers[].config.name",
  // ADR-44 versioning metadata (_nats.req.level, _nats.ver, _nats.level) in every config of an API reply:
  // 2.11+ sends it, 2.9 predates ADR-44 (and config metadata).
  "config.metadata",
  "streams[].config.metadata",
  "consumers[].config.metadata",
  // The API level in account info (2.11+).
  "api.level",
]);

/**
 * Steps whose last status message changed in newer nats-server versions, allowed on natsdeno's side only:
 * step → [the reference's status, natsdeno's]. A no_wait pull that got some messages and hit the end of the
 * stream ends with 404 No Messages since 2.11 (nats-server issue 5373); 2.9 sent 408 Request Timeout.
 */
const NEWER_STATUSES: Record<string, [number, number]> = {
  "next no_wait": [408, 404],
};

/** natsdeno's records with a NEWER_STATUSES last status replaced by the reference's. */
function dropNewerStatus(step: string, ours: Json, ref: Json): Json {
  const n = NEWER_STATUSES[step];
  if (n === undefined || !Array.isArray(ours) || !Array.isArray(ref) || ours.length !== ref.length) {
    return ours;
  }
  const i = ours.length - 1;
  if (i < 0 || ours[i]?.status !== n[1] || ref[i]?.status !== n[0]) return ours;
  return [...ours.slice(0, i), ref[i]];
}

/** A comparable form: volatile values become their type, objects keep their keys. */
function shape(v: Json, key = "", parent = ""): Json {
  if (Array.isArray(v)) return v.map((x) => shape(x, key, parent));
  if (v !== null && typeof v === "object") {
    const o: Record<string, Json> = {};
    for (const k of Object.keys(v).sort()) o[k] = shape(v[k], k, key);
    return o;
  }
  if (VOLATILE.has(key) || (key === "name" && parent === "" && typeof v === "string" && v.startsWith("~"))) {
    return `<${typeof v}>`;
  }
  return v;
}

/** Drops NEWER_FIELDS from natsdeno's form when the reference lacks them. */
function dropNewer(ours: Json, ref: Json, path = ""): Json {
  if (Array.isArray(ours) && Array.isArray(ref)) return ours.map((x, i) => dropNewer(x, ref[i], `${path}[]`));
  if (ours === null || typeof ours !== "object" || ref === null || typeof ref !== "object") return ours;
  const o: Record<string, Json> = {};
  for (const k of Object.keys(ours)) {
    const p = path ? `${path}.${k}` : k;
    if (!(k in ref) && NEWER_FIELDS.has(p)) continue;
    o[k] = dropNewer(ours[k], ref[k], p);
  }
  return o;
}

/** One step's record: the reply's JSON, or a status message's headers and subject form. */
type Rec = Record<string, Json>;

async function req(nc: NatsConnection, subject: string, body: unknown = undefined): Promise<Json> {
  const data = body === undefined ? new Uint8Array(0) : enc.encode(JSON.stringify(body));
  const m = await nc.request(subject, data, { timeout: 2_000 });
  return JSON.parse(dec.decode(m.data));
}

/** Full reply subjects of the messages recorded last, by record. */
const replies = new WeakMap<object, string>();

/** `$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>` with the timestamp masked. */
function ackForm(reply: string): string {
  const t = reply.split(".");
  if (t[0] === "$JS" && t[1] === "ACK" && t.length >= 9) t[t.length - 2] = "<ts>";
  else if (reply.startsWith("_I.") || reply.startsWith("$JS.FC.")) {
    return reply.split(".").slice(0, 3).join(".");
  }
  return t.join(".");
}

function msgRec(m: Msg): Json {
  const h: Record<string, string> = {};
  if (m.headers) {
    for (const [k, v] of m.headers) h[k] = v.join(",");
  }
  const rec = {
    subject: m.subject,
    status: m.headers?.code ?? 0,
    description: m.headers?.description ?? "",
    headers: h,
    data: dec.decode(m.data),
    reply: m.reply ? ackForm(m.reply) : "",
  };
  if (m.reply) replies.set(rec, m.reply);
  return rec;
}

/** Collects up to `n` messages on `inbox` for at most `ms`. */
async function collect(
  nc: NatsConnection,
  inbox: string,
  n: number,
  ms: number,
  start: () => void,
): Promise<Json[]> {
  const out: Json[] = [];
  const sub = nc.subscribe(inbox, { max: n });
  await nc.flush();
  start();
  const t = setTimeout(() => sub.unsubscribe(), ms);
  for await (const m of sub) out.push(msgRec(m));
  clearTimeout(t);
  return out;
}

/** The exchange both servers run. */
async function exchange(port: number): Promise<Rec> {
  const nc = await connect({ servers: `127.0.0.1:${port}`, inboxPrefix: "_I" });
  const r: Rec = {};
  try {
    r["info empty"] = await req(nc, "$JS.API.INFO");
    r["stream create"] = await req(nc, "$JS.API.STREAM.CREATE.S", {
      name: "S",
      subjects: ["s.>"],
      storage: "memory",
    });
    r["stream create again"] = await req(nc, "$JS.API.STREAM.CREATE.S", {
      name: "S",
      subjects: ["s.>"],
      storage: "memory",
    });
    for (let i = 1; i <= 5; i++) {
      const h = headers();
      h.set("X-I", String(i));
      const m = await nc.request(`s.${i % 2 ? "odd" : "even"}`, enc.encode(`m${i}`), {
        timeout: 2_000,
        headers: h,
      });
      r[`pub ${i}`] = JSON.parse(dec.decode(m.data));
    }
    const h = headers();
    h.set("Nats-Msg-Id", "id1");
    r["pub msg id"] = JSON.parse(
      dec.decode((await nc.request("s.x", enc.encode("x"), { timeout: 2_000, headers: h })).data),
    );
    r["pub dup"] = JSON.parse(
      dec.decode((await nc.request("s.x", enc.encode("x"), { timeout: 2_000, headers: h })).data),
    );
    r["stream info"] = await req(nc, "$JS.API.STREAM.INFO.S");
    r["stream info subjects"] = await req(nc, "$JS.API.STREAM.INFO.S", { "subjects_filter": ">" });
    r["stream info deleted"] = await req(nc, "$JS.API.STREAM.INFO.S", { "deleted_details": true });
    r["stream names"] = await req(nc, "$JS.API.STREAM.NAMES");
    r["stream names filtered"] = await req(nc, "$JS.API.STREAM.NAMES", { subject: "s.odd" });
    r["stream list"] = await req(nc, "$JS.API.STREAM.LIST");
    r["msg get seq"] = await req(nc, "$JS.API.STREAM.MSG.GET.S", { seq: 2 });
    r["msg get last"] = await req(nc, "$JS.API.STREAM.MSG.GET.S", { "last_by_subj": "s.odd" });
    r["msg get next"] = await req(nc, "$JS.API.STREAM.MSG.GET.S", { seq: 1, "next_by_subj": "s.even" });
    r["msg get missing"] = await req(nc, "$JS.API.STREAM.MSG.GET.S", { seq: 99 });
    r["msg delete"] = await req(nc, "$JS.API.STREAM.MSG.DELETE.S", { seq: 3 });
    r["msg delete again"] = await req(nc, "$JS.API.STREAM.MSG.DELETE.S", { seq: 3 });
    r["msg erase"] = await req(nc, "$JS.API.STREAM.MSG.DELETE.S", { seq: 4, "no_erase": false });
    r["stream info after delete"] = await req(nc, "$JS.API.STREAM.INFO.S", { "deleted_details": true });
    // Consumers.
    r["consumer create durable"] = await req(nc, "$JS.API.CONSUMER.DURABLE.CREATE.S.D", {
      "stream_name": "S",
      config: { "durable_name": "D", "ack_policy": "explicit", "ack_wait": 2e9 },
    });
    r["consumer create push"] = await req(nc, "$JS.API.CONSUMER.CREATE.S.P", {
      "stream_name": "S",
      config: {
        "durable_name": "P",
        "deliver_subject": "push.p",
        "ack_policy": "explicit",
        "filter_subject": "s.odd",
        "idle_heartbeat": 1e9,
        "flow_control": true,
      },
    });
    r["consumer info"] = await req(nc, "$JS.API.CONSUMER.INFO.S.D");
    r["consumer names"] = await req(nc, "$JS.API.CONSUMER.NAMES.S");
    r["consumer list"] = await req(nc, "$JS.API.CONSUMER.LIST.S");
    r["next 2"] = await collect(nc, "_I.n1", 2, 1_000, () => {
      nc.publish("$JS.API.CONSUMER.MSG.NEXT.S.D", enc.encode(JSON.stringify({ batch: 2 })), {
        reply: "_I.n1",
      });
    });
    const ackTo = r["next 2"][0] ? replies.get(r["next 2"][0]) : undefined;
    if (ackTo !== undefined) {
      const m = await nc.request(ackTo, enc.encode("+ACK"), { timeout: 2_000 });
      r["ack reply"] = { data: dec.decode(m.data), headers: m.headers ? [...m.headers.keys()] : [] };
    }
    r["consumer info after next"] = await req(nc, "$JS.API.CONSUMER.INFO.S.D");
    r["next no_wait"] = await collect(nc, "_I.n2", 10, 500, () => {
      nc.publish(
        "$JS.API.CONSUMER.MSG.NEXT.S.D",
        enc.encode(JSON.stringify({ batch: 10, "no_wait": true })),
        {
          reply: "_I.n2",
        },
      );
    });
    r["next expires"] = await collect(nc, "_I.n3", 1, 1_000, () => {
      nc.publish("$JS.API.CONSUMER.MSG.NEXT.S.D", enc.encode(JSON.stringify({ batch: 1, expires: 200e6 })), {
        reply: "_I.n3",
      });
    });
    r["next empty no_wait"] = await collect(nc, "_I.n4", 1, 1_000, () => {
      nc.publish("$JS.API.CONSUMER.MSG.NEXT.S.D", enc.encode(JSON.stringify({ batch: 1, "no_wait": true })), {
        reply: "_I.n4",
      });
    });
    r["next heartbeat"] = await collect(nc, "_I.n5", 2, 1_500, () => {
      nc.publish(
        "$JS.API.CONSUMER.MSG.NEXT.S.D",
        enc.encode(JSON.stringify({ batch: 1, expires: 1_200e6, "idle_heartbeat": 500e6 })),
        { reply: "_I.n5" },
      );
    });
    r["push"] = await collect(nc, "push.p", 4, 1_500, () => {});
    r["stream purge"] = await req(nc, "$JS.API.STREAM.PURGE.S");
    r["stream purge filter"] = await req(nc, "$JS.API.STREAM.PURGE.S", { filter: "s.odd" });
    r["stream info after purge"] = await req(nc, "$JS.API.STREAM.INFO.S");
    r["consumer info after purge"] = await req(nc, "$JS.API.CONSUMER.INFO.S.D");
    r["consumer delete"] = await req(nc, "$JS.API.CONSUMER.DELETE.S.D");
    r["stream delete"] = await req(nc, "$JS.API.STREAM.DELETE.S");
    r["info end"] = await req(nc, "$JS.API.INFO");
  } finally {
    await nc.close();
  }
  return r;
}

Deno.test("JetStream API side by side with nats-server: same replies, same status messages", async (t) => {
  const exe = natsServerPath();
  if (exe === undefined) {
    // deno-lint-ignore no-console
    console.warn("nats-server not on PATH: side-by-side JetStream test skipped");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-sbs-" });
  await using s = await runJsServer({ storeDir: dir });
  const ours = await exchange(s.port);
  const rdir = await Deno.makeTempDir({ prefix: "natsdeno-sbs-ref-" });
  await using r = await runRefServer(exe, `jetstream { store_dir: "${rdir}" }`);
  const ref = await exchange(r.port);
  for (const k of Object.keys(ref)) {
    await t.step(k, () => {
      const a = shape(ours[k]);
      const b = shape(ref[k]);
      if (Deno.env.get("JS_SBS_DUMP")) {
        // deno-lint-ignore no-console
        console.log(k, "\n  ours:", JSON.stringify(a), "\n  ref: ", JSON.stringify(b));
      }
      assertEquals(dropNewer(dropNewerStatus(k, a, b), b), b);
    });
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.remove(rdir, { recursive: true }).catch(() => {});
});
