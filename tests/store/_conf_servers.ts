// Servers started from a config file's `jetstream` block for the FileStore side-by-side tests: nats-server
// (stopped with SIGTERM, a clean shutdown that writes its state) and natsdeno, each held while a callback runs
// with a connected official client; plus a raw JetStream API request.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { loadOptions } from "../../src/config/mod.ts";
import { freePort } from "../_helpers/ref_server.ts";
import { checkFor, runServer } from "../_helpers/server.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** A JetStream API request; the parsed reply (errors kept). */
export async function api(c: NatsConnection, subject: string, body?: unknown): Promise<Json> {
  const data = body === undefined ? new Uint8Array(0) : new TextEncoder().encode(JSON.stringify(body));
  const m = await c.request(subject, data, { timeout: 3_000 });
  return JSON.parse(new TextDecoder().decode(m.data));
}

/**
 * Runs nats-server (`exe`) with `jsConf` until `fn` returns, then stops it with SIGTERM; a failure carries
 * the server's log.
 */
export async function withGo<T>(
  exe: string,
  jsConf: string,
  fn: (c: NatsConnection) => Promise<T>,
): Promise<T> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-goconf-" });
  await Deno.writeTextFile(`${dir}/s.conf`, `listen: 127.0.0.1:${port}\n${jsConf}\n`);
  const child = new Deno.Command(exe, { args: ["-c", `${dir}/s.conf`], stdout: "null", stderr: "piped" })
    .spawn();
  let goLog = "";
  const errText = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (x) => void (goLog += x) }),
  );
  try {
    await checkFor(5_000, 20, async () => (await Deno.connect({ hostname: "127.0.0.1", port })).close());
    const c = await connect({ servers: `127.0.0.1:${port}` });
    try {
      return await fn(c);
    } finally {
      await c.close();
    }
  } catch (err) {
    throw new Error(`${(err as Error).message}\nnats-server log:\n${goLog}`, { cause: err });
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await errText.catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs natsdeno with `jsConf` (a config file, as the reference's) until `fn` returns. */
export async function withNatsdeno<T>(jsConf: string, fn: (c: NatsConnection) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-conf-" });
  try {
    await Deno.writeTextFile(`${dir}/s.conf`, `listen: 127.0.0.1:-1\n${jsConf}\n`);
    const opts = loadOptions(["-c", `${dir}/s.conf`]).opts;
    await using srv = await runServer({ ...opts, port: 0 });
    const c = await connect({ servers: `127.0.0.1:${srv.port}` });
    try {
      return await fn(c);
    } finally {
      await c.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
