// Benchmark client worker: runs publishers, requesters, counting subscribers or a replier on its
// own thread, so that the client side of a benchmark uses a core of its own. Commands come from
// scripts/bench.ts as { id, op, args } and are answered with { id, ok, result | error }.

import { ascii, BenchConn, msgTokens, nowMs, pubFrame, repeatFrame } from "./_bench_proto.ts";

/** Subscribing connections of one run, counted together. */
interface SubGroup {
  conns: BenchConn[];
  target: number;
  doneAt?: number;
  lastProgress: number;
  wake?: () => void;
}

interface Replier {
  conn: BenchConn;
  replied: number;
}

const groups = new Map<number, SubGroup>();
const repliers = new Map<number, Replier>();
let nextHandle = 1;

function total(g: SubGroup): number {
  let t = 0;
  for (const c of g.conns) t += c.scanner.msgs;
  return t;
}

function counts(g: SubGroup): { counts: number[]; badSize: number; errors: string[] } {
  return {
    counts: g.conns.map((c) => c.scanner.msgs),
    badSize: g.conns.reduce((s, c) => s + c.scanner.badSize, 0),
    errors: g.conns.flatMap((c) => c.scanner.errors),
  };
}

interface SubscribeArgs {
  port: number;
  subject: string;
  queue?: string;
  n: number;
  size: number;
  target: number;
}

async function subscribe(a: SubscribeArgs): Promise<number> {
  const g: SubGroup = { conns: [], target: a.target, lastProgress: nowMs() };
  for (let i = 0; i < a.n; i++) {
    const c = await BenchConn.open(a.port, { expectSize: a.size, name: `bench-sub-${i}` });
    c.onRead = () => {
      g.lastProgress = nowMs();
      if (g.doneAt === undefined && total(g) >= g.target) {
        g.doneAt = g.lastProgress;
        g.wake?.();
      }
    };
    g.conns.push(c);
    await c.write(ascii(`SUB ${a.subject}${a.queue ? " " + a.queue : ""} ${i + 1}\r\n`));
    await c.flush(5_000);
  }
  const h = nextHandle++;
  groups.set(h, g);
  return h;
}

/** Waits until the group has its target count; fails on stalls and at the deadline. */
function waitCount(a: { h: number; idleMs: number; deadlineMs: number }): Promise<{ doneAt: number }> {
  const g = groups.get(a.h)!;
  const t0 = nowMs();
  return new Promise((resolve, reject) => {
    const finish = (err?: string): void => {
      clearInterval(timer);
      g.wake = undefined;
      if (err) {
        reject(
          new Error(
            `${err}: received ${total(g)} of ${g.target} (per connection ${counts(g).counts.join(",")})`,
          ),
        );
      } else resolve({ doneAt: g.doneAt! });
    };
    const timer = setInterval(() => {
      const now = nowMs();
      const errs = counts(g).errors;
      if (errs.length > 0) finish(`server error ${errs.join("; ")}`);
      else if (g.conns.some((c) => c.closed)) finish("subscriber connection closed");
      else if (now - g.lastProgress > a.idleMs && now - t0 > a.idleMs) {
        finish(`no progress for ${a.idleMs} ms`);
      } else if (now - t0 > a.deadlineMs) finish(`deadline of ${a.deadlineMs} ms exceeded`);
    }, 50);
    g.wake = () => finish();
    if (g.doneAt !== undefined) finish();
  });
}

/** Flushes every connection (so that late duplicates would show), reports counts and closes. */
async function finishGroup(a: { h: number }): Promise<ReturnType<typeof counts>> {
  const g = groups.get(a.h)!;
  groups.delete(a.h);
  try {
    await Promise.all(g.conns.map((c) => c.flush(10_000)));
    return counts(g);
  } finally {
    for (const c of g.conns) c.close();
  }
}

async function replier(a: { port: number; subject: string; size: number }): Promise<number> {
  const payload = pubFrame("x", a.size).subarray(ascii(`PUB x ${a.size}\r\n`).length);
  let pending: Uint8Array[] = [];
  let chain = Promise.resolve();
  const r: Replier = { conn: undefined!, replied: 0 };
  const conn = await BenchConn.open(a.port, {
    name: "bench-replier",
    onMsgLine: (line) => {
      const t = msgTokens(line);
      if (t.length === 5) pending.push(ascii(`PUB ${t[3]} ${a.size}\r\n`), payload);
    },
  });
  r.conn = conn;
  conn.onRead = () => {
    if (pending.length === 0) return;
    const parts = pending;
    pending = [];
    r.replied += parts.length / 2;
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    // One write chain keeps replies in order when writes are short.
    chain = chain.then(() => conn.write(out)).catch(() => conn.close());
  };
  await conn.write(ascii(`SUB ${a.subject} 1\r\n`));
  await conn.flush(5_000);
  const h = nextHandle++;
  repliers.set(h, r);
  return h;
}

function closeReplier(a: { h: number }): number {
  const r = repliers.get(a.h)!;
  repliers.delete(a.h);
  r.conn.close();
  return r.replied;
}

interface PublishArgs {
  port: number;
  subject: string;
  size: number;
  count: number;
  /** Bytes of PUB frames per write; each write ends with a PING. */
  chunkBytes: number;
  /** PINGs (so chunks) allowed in flight before waiting for a PONG. */
  inflight: number;
  timeoutMs: number;
  /** Bound on the whole run. */
  deadlineMs: number;
}

/** Publishes `count` messages in large pipelined writes, bounded by PING/PONG. */
async function publish(a: PublishArgs): Promise<{ start: number; end: number }> {
  const c = await BenchConn.open(a.port, { name: "bench-pub" });
  try {
    const frame = pubFrame(a.subject, a.size);
    const perChunk = Math.max(1, Math.floor(a.chunkBytes / frame.length));
    const chunk = repeatFrame(frame, perChunk, true);
    let sent = 0;
    let pings = 0;
    const start = nowMs();
    while (sent < a.count) {
      if (nowMs() - start > a.deadlineMs) {
        throw new Error(`deadline of ${a.deadlineMs} ms exceeded after ${sent} msgs`);
      }
      const n = Math.min(perChunk, a.count - sent);
      await c.write(n === perChunk ? chunk : repeatFrame(frame, n, true));
      sent += n;
      pings++;
      if (pings - c.scanner.pongs >= a.inflight) {
        const want = pings - a.inflight + 1;
        await c.waitFor(() => c.scanner.pongs >= want, a.timeoutMs, "PONG (publisher flow control)");
      }
    }
    await c.waitFor(() => c.scanner.pongs >= pings, a.timeoutMs, "final PONG");
    return { start, end: nowMs() };
  } finally {
    c.close();
  }
}

/** Sequential request/reply; returns the latency of each request in µs. */
async function request(
  a: { port: number; subject: string; size: number; count: number; timeoutMs: number; deadlineMs: number },
): Promise<{ start: number; end: number; lat: Float64Array }> {
  const c = await BenchConn.open(a.port, { name: "bench-req", expectSize: a.size });
  const inbox = `_INBOX.${crypto.randomUUID().replaceAll("-", "")}`;
  const payload = pubFrame("x", a.size).subarray(ascii(`PUB x ${a.size}\r\n`).length);
  const lat = new Float64Array(a.count);
  let want = 0;
  let wake: (() => void) | undefined;
  let last = nowMs();
  c.onRead = () => {
    last = nowMs();
    if (wake && c.scanner.msgs >= want && c.scanner.skip === 0) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  let fail: ((e: Error) => void) | undefined;
  const watchdog = setInterval(() => {
    if (!fail) return;
    if (c.scanner.errors.length > 0) fail(new Error(`server sent ${c.scanner.errors.join("; ")}`));
    else if (c.closed) fail(new Error(`requester connection closed after ${want - 1} replies`));
    else if (nowMs() - last > a.timeoutMs) {
      fail(new Error(`no reply for ${a.timeoutMs} ms (request ${want})`));
    }
  }, 100);
  try {
    await c.write(ascii(`SUB ${inbox}.* 1\r\n`));
    await c.flush(5_000);
    const start = nowMs();
    for (let i = 0; i < a.count; i++) {
      if (nowMs() - start > a.deadlineMs) {
        throw new Error(`deadline of ${a.deadlineMs} ms exceeded after ${i} requests`);
      }
      const head = ascii(`PUB ${a.subject} ${inbox}.${i} ${a.size}\r\n`);
      const buf = new Uint8Array(head.length + payload.length);
      buf.set(head);
      buf.set(payload, head.length);
      want = i + 1;
      const t0 = nowMs();
      last = t0;
      await c.write(buf);
      // The reply may already be in (onRead ran during the write); otherwise wait for it.
      if (c.scanner.msgs < want || c.scanner.skip !== 0) {
        await new Promise<void>((resolve, reject) => {
          wake = resolve;
          fail = reject;
        });
        fail = undefined;
      }
      lat[i] = (nowMs() - t0) * 1000;
    }
    const end = nowMs();
    await c.flush(5_000);
    if (c.scanner.msgs !== a.count) throw new Error(`expected ${a.count} replies, got ${c.scanner.msgs}`);
    if (c.scanner.badSize > 0) throw new Error(`${c.scanner.badSize} replies had the wrong size`);
    return { start, end, lat };
  } finally {
    clearInterval(watchdog);
    c.close();
  }
}

// deno-lint-ignore no-explicit-any
const ops: Record<string, (a: any) => unknown> = {
  subscribe,
  waitCount,
  finishGroup,
  replier,
  closeReplier,
  publish,
  request,
};

interface Command {
  id: number;
  op: string;
  args: unknown;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Command>) => void) | null;
  postMessage(msg: unknown, transfer?: Transferable[]): void;
};

scope.onmessage = (e: MessageEvent<Command>) => {
  const { id, op, args } = e.data;
  Promise.resolve()
    .then(() => ops[op](args))
    .then(
      (result) => {
        const lat = (result as { lat?: Float64Array })?.lat;
        scope.postMessage({ id, ok: true, result }, lat ? [lat.buffer as ArrayBuffer] : []);
      },
      (err) => scope.postMessage({ id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
};
