// JetStream benchmark client worker: async publish with a window of in-flight PubAcks, sequential publish
// with latencies, and a pull consumer (MSG.NEXT batches, explicit +ACK per message), all in raw protocol on
// its own thread. Commands come from scripts/bench.ts as { id, op, args }, answered { id, ok, result | error }.

import { ascii, BenchConn, nowMs, pubFrame, repeatFrame } from "./_bench_proto.ts";

const CR = 0x0d;
const SPACE = 0x20;

function inbox(tag: string): string {
  return `_INBOX.${tag}.${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

interface PubArgs {
  port: number;
  subject: string;
  size: number;
  count: number;
  /** PubAcks allowed outstanding (async publish). */
  window: number;
  timeoutMs: number;
  deadlineMs: number;
}

/**
 * Publishes `count` messages with a reply subject, never more than `window` without their PubAck, and
 * waits for every PubAck. PubAcks are counted as MSG frames (their payloads are not read; the stream state
 * check afterwards finds refusals).
 */
async function jsPubAsync(a: PubArgs): Promise<{ start: number; end: number; acks: number }> {
  const rep = inbox("jsa");
  const c = await BenchConn.open(a.port, { name: "bench-js-pub" });
  try {
    await c.write(ascii(`SUB ${rep} 1\r\n`));
    await c.flush(5_000);
    const frame = pubFrame(a.subject, a.size, rep);
    const per = Math.max(1, Math.min(Math.floor(a.window / 4), Math.floor(64 * 1024 / frame.length)));
    const chunk = repeatFrame(frame, per, false);
    let sent = 0;
    const start = nowMs();
    while (sent < a.count) {
      if (nowMs() - start > a.deadlineMs) {
        throw new Error(`deadline of ${a.deadlineMs} ms exceeded after ${sent} msgs`);
      }
      const n = Math.min(per, a.count - sent);
      if (sent + n - c.scanner.msgs > a.window) {
        const s = sent;
        await c.waitFor(() => s + n - c.scanner.msgs <= a.window, a.timeoutMs, "PubAcks (window)");
      }
      await c.write(n === per ? chunk : repeatFrame(frame, n, false));
      sent += n;
    }
    await c.waitFor(() => c.scanner.msgs >= a.count, a.timeoutMs, "the last PubAcks");
    const end = nowMs();
    await c.flush(5_000);
    return { start, end, acks: c.scanner.msgs };
  } finally {
    c.close();
  }
}

/** Sequential publishes, each waiting for its PubAck; latency of each in µs. */
async function jsPubSync(
  a: PubArgs,
): Promise<{ start: number; end: number; lat: Float64Array; acks: number }> {
  const rep = inbox("jss");
  const c = await BenchConn.open(a.port, { name: "bench-js-sync" });
  const frame = pubFrame(a.subject, a.size, rep);
  const lat = new Float64Array(a.count);
  let want = 0;
  let wake: (() => void) | undefined;
  let fail: ((e: Error) => void) | undefined;
  let last = nowMs();
  c.onRead = () => {
    last = nowMs();
    if (wake && c.scanner.msgs >= want && c.scanner.skip === 0) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const watchdog = setInterval(() => {
    if (!fail) return;
    if (c.scanner.errors.length > 0) fail(new Error(`server sent ${c.scanner.errors.join("; ")}`));
    else if (c.closed) fail(new Error(`connection closed after ${want - 1} PubAcks`));
    else if (nowMs() - last > a.timeoutMs) fail(new Error(`no PubAck for ${a.timeoutMs} ms (msg ${want})`));
  }, 100);
  try {
    await c.write(ascii(`SUB ${rep} 1\r\n`));
    await c.flush(5_000);
    const start = nowMs();
    for (let i = 0; i < a.count; i++) {
      if (nowMs() - start > a.deadlineMs) {
        throw new Error(`deadline of ${a.deadlineMs} ms exceeded after ${i} publishes`);
      }
      want = i + 1;
      const t0 = nowMs();
      last = t0;
      await c.write(frame);
      // The PubAck may already be in (onRead ran during the write); otherwise wait for it.
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
    if (c.scanner.msgs !== a.count) throw new Error(`expected ${a.count} PubAcks, got ${c.scanner.msgs}`);
    return { start, end, lat, acks: c.scanner.msgs };
  } finally {
    clearInterval(watchdog);
    wake = undefined;
    c.close();
  }
}

interface ConsumeArgs {
  port: number;
  stream: string;
  consumer: string;
  count: number;
  batch: number;
  /** Ack each message with +ACK (explicit); false leaves them pending. */
  ack: boolean;
  size: number;
  timeoutMs: number;
  deadlineMs: number;
}

const ACK_TAIL = ascii(" 4\r\n+ACK\r\n");
const PUB_ = ascii("PUB ");

/**
 * Pull consumer: MSG.NEXT for `batch` messages, +ACK each as it arrives (acks of a read go out in one write
 * with the next request once the batch is complete), until `count` messages arrived.
 */
async function jsConsume(
  a: ConsumeArgs,
): Promise<{ start: number; end: number; got: number; badSize: number; statuses: number }> {
  const rep = inbox("jsc");
  const next = `$JS.API.CONSUMER.MSG.NEXT.${a.stream}.${a.consumer}`;
  let got = 0;
  let inBatch = 0;
  let statuses = 0;
  let badSize = 0;
  let out = new Uint8Array(64 * 1024);
  let outLen = 0;
  const put = (b: Uint8Array, from = 0, to = b.length): void => {
    const n = to - from;
    if (outLen + n > out.length) {
      const bigger = new Uint8Array((outLen + n) * 2);
      bigger.set(out.subarray(0, outLen));
      out = bigger;
    }
    out.set(b.subarray(from, to), outLen);
    outLen += n;
  };
  const c = await BenchConn.open(a.port, {
    name: "bench-js-consume",
    onMsgLine: (line) => {
      if (line[0] === 0x48) { // HMSG: a status (404/408/409), not a message
        statuses++;
        return;
      }
      // MSG <subject> <sid> <reply> <size>
      let end = line.length - 1;
      if (line[end - 1] === CR) end--;
      let j = end - 1;
      while (j > 0 && line[j] !== SPACE) j--;
      let size = 0;
      for (let k = j + 1; k < end; k++) size = size * 10 + (line[k] - 0x30);
      if (size !== a.size) badSize++;
      let r = j - 1;
      while (r > 0 && line[r] !== SPACE) r--;
      got++;
      inBatch++;
      if (a.ack) {
        put(PUB_);
        put(line, r + 1, j);
        put(ACK_TAIL);
      }
    },
  });
  const request = (n: number): Uint8Array => {
    const body = `{"batch":${n},"expires":${a.timeoutMs * 1_000_000}}`;
    return ascii(`PUB ${next} ${rep} ${body.length}\r\n${body}\r\n`);
  };
  let want = 0;
  let wake: (() => void) | undefined;
  c.onRead = () => {
    if (wake && (inBatch >= want || statuses > 0)) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  try {
    await c.write(ascii(`SUB ${rep} 1\r\n`));
    await c.flush(5_000);
    const start = nowMs();
    while (got < a.count) {
      if (nowMs() - start > a.deadlineMs) {
        throw new Error(`deadline of ${a.deadlineMs} ms exceeded after ${got} msgs`);
      }
      want = Math.min(a.batch, a.count - got);
      inBatch = 0;
      put(request(want));
      const buf = out.slice(0, outLen);
      outLen = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = new Promise<void>((resolve, reject) => {
        wake = resolve;
        timer = setTimeout(
          () => reject(new Error(`no batch for ${a.timeoutMs} ms after ${got} msgs`)),
          a.timeoutMs,
        );
      });
      await c.write(buf);
      if (inBatch < want && statuses === 0) await done;
      else wake = undefined;
      clearTimeout(timer);
      if (statuses > 0) throw new Error(`pull request answered with a status after ${got} msgs`);
      if (c.closed) throw new Error(`connection closed after ${got} msgs`);
    }
    if (outLen > 0) {
      await c.write(out.slice(0, outLen));
      outLen = 0;
    }
    const end = nowMs();
    await c.flush(5_000);
    return { start, end, got, badSize, statuses };
  } finally {
    c.close();
  }
}

// deno-lint-ignore no-explicit-any
const ops: Record<string, (a: any) => unknown> = { jsPubAsync, jsPubSync, jsConsume };

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
