// JetStream scenarios of scripts/bench.ts: the case list, an admin connection for the JetStream API (stream
// and consumer create/info/delete, on the main thread; not timed), and one run of each scenario with its
// checks (PubAck and message counts, stream state, consumer ack floor). The timed parts run in
// scripts/_bench_js_worker.ts.

import { ascii, readInfo } from "./_bench_proto.ts";
import { type CaseDef, percentile } from "./_bench_report.ts";

/** Counts at scale 1 (about 0.3-1 s of the Go server on 2 cores). */
export const JS_CASES: Array<{ scenario: string; msgs: number }> = [
  { scenario: "js-async", msgs: 300_000 },
  { scenario: "js-sync", msgs: 10_000 },
  { scenario: "js-consume", msgs: 200_000 },
];
export const JS_WINDOW = 4000;
export const JS_BATCH = 100;
const JS_SIZE = 128;
const STREAM = "BENCH";
const CONSUMER = "C";

export function jsCases(scale: number): CaseDef[] {
  return JS_CASES.flatMap(({ scenario, msgs }) =>
    (["mem", "file"] as const).map((st) => ({
      name: `${scenario}-${st}`,
      scenario,
      size: JS_SIZE,
      msgs: Math.max(1, Math.round(msgs * scale)),
    }))
  );
}

export function isJsCase(c: CaseDef): boolean {
  return c.scenario.startsWith("js-");
}

const dec = new TextDecoder();

/** A minimal request/reply client with a full MSG/HMSG parser, for the JetStream API. */
export class AdminConn {
  #buf = new Uint8Array(0);
  #waiters = new Map<string, (v: { hdr: string; body: string }) => void>();
  #inbox = `_INBOX.adm.${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  #n = 0;
  #closed = false;

  private constructor(readonly conn: Deno.Conn) {}

  static async open(port: number): Promise<AdminConn> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await readInfo(conn);
    const a = new AdminConn(conn);
    a.#loop();
    const connect = {
      verbose: false,
      pedantic: false,
      headers: true,
      "no_responders": true,
      name: "bench-admin",
    };
    await a.#write(`CONNECT ${JSON.stringify(connect)}\r\nSUB ${a.#inbox}.* 1\r\n`);
    return a;
  }

  async #write(s: string | Uint8Array): Promise<void> {
    let b = typeof s === "string" ? ascii(s) : s;
    while (b.length > 0) b = b.subarray(await this.conn.write(b));
  }

  async #loop(): Promise<void> {
    const rd = new Uint8Array(65536);
    try {
      while (true) {
        const n = await this.conn.read(rd);
        if (n === null) break;
        const nb = new Uint8Array(this.#buf.length + n);
        nb.set(this.#buf);
        nb.set(rd.subarray(0, n), this.#buf.length);
        this.#buf = nb;
        this.#parse();
      }
    } catch { /* closed */ }
    this.#closed = true;
  }

  #parse(): void {
    while (true) {
      const nl = this.#buf.indexOf(0x0a);
      if (nl < 0) return;
      const line = dec.decode(this.#buf.subarray(0, nl)).trim();
      const t = line.split(" ");
      if (t[0] === "MSG" || t[0] === "HMSG") {
        const total = Number(t[t.length - 1]);
        const hlen = t[0] === "HMSG" ? Number(t[t.length - 2]) : 0;
        if (this.#buf.length < nl + 1 + total + 2) return;
        const data = this.#buf.subarray(nl + 1, nl + 1 + total);
        const subject = t[1];
        this.#buf = this.#buf.slice(nl + 1 + total + 2);
        const w = this.#waiters.get(subject);
        if (w) {
          this.#waiters.delete(subject);
          w({ hdr: dec.decode(data.subarray(0, hlen)), body: dec.decode(data.subarray(hlen)) });
        }
        continue;
      }
      this.#buf = this.#buf.slice(nl + 1);
      if (t[0] === "PING") this.#write("PONG\r\n").catch(() => {});
    }
  }

  /** Sends a request and parses the JSON reply; throws on no responders or timeout. */
  async request(
    subject: string,
    body: unknown = undefined,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    if (this.#closed) throw new Error("admin connection closed");
    const reply = `${this.#inbox}.${++this.#n}`;
    const payload = ascii(body === undefined ? "" : JSON.stringify(body));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const p = new Promise<{ hdr: string; body: string }>((resolve, reject) => {
      this.#waiters.set(reply, resolve);
      timer = setTimeout(() => {
        this.#waiters.delete(reply);
        reject(new Error(`no reply to ${subject} in ${timeoutMs} ms`));
      }, timeoutMs);
    });
    const head = ascii(`PUB ${subject} ${reply} ${payload.length}\r\n`);
    const frame = new Uint8Array(head.length + payload.length + 2);
    frame.set(head);
    frame.set(payload, head.length);
    frame.set([0x0d, 0x0a], head.length + payload.length);
    await this.#write(frame);
    try {
      const r = await p;
      if (r.hdr.includes(" 503")) throw new Error(`no responders for ${subject}`);
      return JSON.parse(r.body) as Record<string, unknown>;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/** Throws the API error of a JetStream reply. */
function check(r: Record<string, unknown>, what: string): Record<string, unknown> {
  const e = r.error as { description?: string; err_code?: number } | undefined;
  if (e) throw new JsApiError(`${what}: ${e.description} (${e.err_code})`, e.description ?? "");
  return r;
}

/** A JetStream API refusal; `storageUnavailable` marks "file storage not available" (prints NA). */
export class JsApiError extends Error {
  constructor(message: string, readonly description: string) {
    super(message);
  }
  get storageUnavailable(): boolean {
    return /storage.*(not available|not enabled|unavailable)|not available in this build/i.test(
      this.description,
    );
  }
}

export async function createStream(
  adm: AdminConn,
  name: string,
  subjects: string[],
  storage: "memory" | "file",
): Promise<void> {
  await adm.request(`$JS.API.STREAM.DELETE.${name}`).catch(() => {});
  check(
    await adm.request(`$JS.API.STREAM.CREATE.${name}`, {
      name,
      subjects,
      storage,
      retention: "limits",
      "max_msgs": -1,
      "max_bytes": -1,
      "max_age": 0,
      "num_replicas": 1,
      discard: "old",
    }),
    `create stream ${name} (${storage})`,
  );
}

export async function streamState(adm: AdminConn, name: string): Promise<Record<string, number>> {
  const r = check(await adm.request(`$JS.API.STREAM.INFO.${name}`), `stream info ${name}`);
  return r.state as Record<string, number>;
}

export async function createPullConsumer(
  adm: AdminConn,
  stream: string,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  check(
    await adm.request(`$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${name}`, {
      "stream_name": stream,
      config: { "durable_name": name, "ack_policy": "explicit", "deliver_policy": "all", ...extra },
    }),
    `create consumer ${stream} > ${name}`,
  );
}

export async function consumerInfo(
  adm: AdminConn,
  stream: string,
  name: string,
): Promise<Record<string, unknown>> {
  return check(
    await adm.request(`$JS.API.CONSUMER.INFO.${stream}.${name}`),
    `consumer info ${stream} > ${name}`,
  );
}

/** The worker interface bench.ts passes in. */
export interface Caller {
  call<T>(op: string, args: unknown): Promise<T>;
}

export interface JsRun {
  elapsedS: number;
  msgsPerS: number;
  cpuNsPerMsg: number;
  p50Us?: number;
  p90Us?: number;
  p99Us?: number;
}

/** One run of a JetStream case on a server at `port`; `cpu()` reads the server's CPU seconds. */
export async function runJs(
  port: number,
  c: CaseDef,
  msgs: number,
  w: Caller,
  cpu: () => number,
  timeoutMs: number,
): Promise<JsRun> {
  const storage = c.name.endsWith("-file") ? "file" : "memory";
  const adm = await AdminConn.open(port);
  const subject = "js.bench.x";
  const base = { port, subject, size: c.size, window: JS_WINDOW, timeoutMs: 10_000, deadlineMs: timeoutMs };
  try {
    await createStream(adm, STREAM, ["js.bench.>"], storage);
    const rates = (ms: number, cpuS: number) => ({
      elapsedS: ms / 1000,
      msgsPerS: msgs / (ms / 1000),
      cpuNsPerMsg: (cpuS * 1e9) / msgs,
    });
    if (c.scenario === "js-async" || c.scenario === "js-sync") {
      const cpu0 = cpu();
      const r = await w.call<{ start: number; end: number; acks: number; lat?: Float64Array }>(
        c.scenario === "js-async" ? "jsPubAsync" : "jsPubSync",
        { ...base, count: msgs },
      );
      const cpu1 = cpu();
      const st = await streamState(adm, STREAM);
      const problems: string[] = [];
      if (r.acks !== msgs) problems.push(`${r.acks} PubAcks for ${msgs} publishes`);
      if (st.messages !== msgs || st.last_seq !== msgs) {
        problems.push(`stream has ${st.messages} msgs, last_seq ${st.last_seq}; expected ${msgs}`);
      }
      if (problems.length) throw new Error(problems.join("; "));
      const out: JsRun = rates(r.end - r.start, cpu1 - cpu0);
      if (r.lat) {
        const lat = r.lat.sort();
        out.p50Us = percentile(lat, 50);
        out.p90Us = percentile(lat, 90);
        out.p99Us = percentile(lat, 99);
      }
      return out;
    }
    // js-consume: fill the stream (not timed), then pull everything with explicit acks.
    const fill = await w.call<{ acks: number }>("jsPubAsync", { ...base, count: msgs });
    const st = await streamState(adm, STREAM);
    if (fill.acks !== msgs || st.messages !== msgs) {
      throw new Error(`pre-fill: ${fill.acks} PubAcks, stream has ${st.messages} msgs; expected ${msgs}`);
    }
    await createPullConsumer(adm, STREAM, CONSUMER);
    const cpu0 = cpu();
    const r = await w.call<{ start: number; end: number; got: number; badSize: number }>("jsConsume", {
      port,
      stream: STREAM,
      consumer: CONSUMER,
      count: msgs,
      batch: JS_BATCH,
      ack: true,
      size: c.size,
      timeoutMs: 10_000,
      deadlineMs: timeoutMs,
    });
    const cpu1 = cpu();
    const problems: string[] = [];
    if (r.got !== msgs) problems.push(`received ${r.got} of ${msgs}`);
    if (r.badSize) problems.push(`${r.badSize} messages had the wrong size`);
    // Acks are fire-and-forget: give the server a moment to apply the last ones.
    let ci: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) {
      ci = await consumerInfo(adm, STREAM, CONSUMER);
      if (ci.num_ack_pending === 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const d = ci.delivered as { stream_seq: number };
    const af = ci.ack_floor as { stream_seq: number };
    if (ci.num_ack_pending !== 0 || ci.num_pending !== 0 || d.stream_seq !== msgs || af.stream_seq !== msgs) {
      problems.push(
        `consumer: delivered ${d.stream_seq}, ack floor ${af.stream_seq}, ack pending ${ci.num_ack_pending}, ` +
          `pending ${ci.num_pending}; expected ${msgs}/${msgs}/0/0`,
      );
    }
    if (problems.length) throw new Error(problems.join("; "));
    return rates(r.end - r.start, cpu1 - cpu0);
  } finally {
    await adm.request(`$JS.API.STREAM.DELETE.${STREAM}`).catch(() => {});
    adm.close();
  }
}

/**
 * Background load for the "1 M messages and 100 k pending acks" check: stream LOAD (memory) with `msgs`
 * messages and a pull consumer with `pending` delivered, unacked messages (ack wait `ackWaitMs`).
 * Returns when the load is complete.
 */
export async function loadPending(
  port: number,
  w: Caller,
  msgs: number,
  pending: number,
  ackWaitMs: number,
): Promise<string> {
  const adm = await AdminConn.open(port);
  try {
    await createStream(adm, "LOAD", ["load.>"], "memory");
    const fill = await w.call<{ acks: number }>("jsPubAsync", {
      port,
      subject: "load.x",
      size: 128,
      count: msgs,
      window: JS_WINDOW,
      timeoutMs: 10_000,
      deadlineMs: 600_000,
    });
    await createPullConsumer(adm, "LOAD", "P", {
      "max_ack_pending": pending * 2,
      "ack_wait": ackWaitMs * 1e6,
    });
    const r = await w.call<{ got: number }>("jsConsume", {
      port,
      stream: "LOAD",
      consumer: "P",
      count: pending,
      batch: 10_000,
      ack: false,
      size: 128,
      timeoutMs: 10_000,
      deadlineMs: 600_000,
    });
    const st = await streamState(adm, "LOAD");
    const ci = await consumerInfo(adm, "LOAD", "P");
    if (st.messages !== msgs || r.got !== pending || ci.num_ack_pending !== pending) {
      throw new Error(
        `load: ${fill.acks} PubAcks, stream ${st.messages} msgs, consumer got ${r.got}, ack pending ` +
          `${ci.num_ack_pending}; expected ${msgs}/${pending}`,
      );
    }
    return `stream LOAD ${st.messages} msgs, consumer P ${ci.num_ack_pending} pending acks (ack_wait ${ackWaitMs} ms)`;
  } finally {
    adm.close();
  }
}
