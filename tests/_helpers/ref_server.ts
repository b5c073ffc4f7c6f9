// The reference nats-server for side-by-side tests: found on PATH, started on a free loopback port with a
// generated config, stopped with `await using`. Plus a raw exchange that records what a server answers.

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The nats-server executable on PATH, or undefined. */
export function natsServerPath(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const p = `${dir}/nats-server`;
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** A running reference server. */
export interface RefServer extends AsyncDisposable {
  port: number;
}

/** A loopback TCP port nobody listens on right now. */
export function freePort(): number {
  const ln = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (ln.addr as Deno.NetAddr).port;
  ln.close();
  return port;
}

/** Starts nats-server with `conf` lines (port and host are added) and waits until it accepts connections. */
export async function runRefServer(exe: string, conf = ""): Promise<RefServer> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-ref-" });
  const file = `${dir}/server.conf`;
  await Deno.writeTextFile(file, `host: 127.0.0.1\nport: ${port}\n${conf}\n`);
  const child = new Deno.Command(exe, { args: ["-c", file], stdout: "null", stderr: "null" }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const end = Date.now() + 5_000;
  for (;;) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      break;
    } catch (e) {
      if (Date.now() > end) {
        await stop();
        throw e;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return { port, [Symbol.asyncDispose]: stop };
}

/** One step of an exchange: bytes to send, or a pause in milliseconds. */
export type Step = string | Uint8Array | { pauseMs: number };

/** What a server answered after its INFO line, and whether it closed the connection. */
export interface ExchangeResult {
  out: string;
  closed: boolean;
}

/**
 * Connects, reads the INFO line, runs `steps`, then reads until the server closes or stays quiet for
 * `quietMs`. Async INFO lines in the answer are shortened to "INFO\r\n" (their JSON differs by server).
 */
export async function exchange(port: number, steps: Step[], quietMs = 150): Promise<ExchangeResult> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let text = "";
  let closed = false;
  let last = Date.now();
  const reading = (async () => {
    const b = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(b);
        if (n === null) break;
        text += dec.decode(b.subarray(0, n), { stream: true });
        last = Date.now();
      }
    } catch {
      // A reset counts as closed.
    }
    closed = true;
  })();
  const waitFor = async (f: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!f() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  };
  await waitFor(() => text.includes("\r\n"), 2_000);
  const infoEnd = text.indexOf("\r\n") + 2;
  try {
    for (const s of steps) {
      if (closed) break;
      if (typeof s === "object" && "pauseMs" in s) {
        await new Promise((r) => setTimeout(r, s.pauseMs));
        continue;
      }
      const bytes = typeof s === "string" ? enc.encode(s) : s;
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
      last = Date.now();
    }
  } catch {
    // The server closed while we were writing.
  }
  await waitFor(() => closed || Date.now() - last >= quietMs, 5_000);
  const byServer = closed;
  try {
    conn.close();
  } catch {
    // Already closed.
  }
  await reading;
  const out = text.slice(infoEnd).replace(/INFO \{[^\r\n]*\}\s*\r\n/g, "INFO\r\n");
  return { out, closed: byServer };
}
