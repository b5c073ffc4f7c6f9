// deno-lint-ignore-file no-console
// Smoke test of a built server (CI runs it on the bundle): start it on a free port, exchange one
// message through it with a raw TCP client (SUB, PUB, expect MSG), stop it. Exit 0 when it works.
//
//   deno run -A scripts/smoke.ts [CMD ...]     default CMD: deno run -A dist/natsdeno.js
// "-a 127.0.0.1 -p <port>" is appended to CMD.

import { BenchServer, freePort } from "./_bench_server.ts";
import { readInfo, writeAll } from "./_bench_proto.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const ROOT = new URL("..", import.meta.url).pathname;

/** Reads until `want` shows up in what the server sent; throws on -ERR, EOF or timeout. */
async function expect(
  conn: Deno.Conn,
  seen: { text: string },
  want: string,
  timeoutMs: number,
): Promise<void> {
  const buf = new Uint8Array(4096);
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    while (!seen.text.includes(want)) {
      if (seen.text.includes("-ERR")) throw new Error(`server replied ${seen.text.trim()}`);
      const n = await conn.read(buf).catch(() => null);
      if (n === null) {
        throw new Error(
          `no ${JSON.stringify(want)} within ${timeoutMs} ms; got ${JSON.stringify(seen.text)}`,
        );
      }
      seen.text += dec.decode(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
  }
}

async function exchange(port: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await readInfo(conn);
    const seen = { text: "" };
    await writeAll(
      conn,
      enc.encode('CONNECT {"verbose":false,"pedantic":false}\r\nSUB smoke.test 1\r\nPING\r\n'),
    );
    await expect(conn, seen, "PONG\r\n", 5_000);
    seen.text = "";
    await writeAll(conn, enc.encode("PUB smoke.test 5\r\nhello\r\n"));
    await expect(conn, seen, "MSG smoke.test 1 5\r\nhello\r\n", 5_000);
  } finally {
    try {
      conn.close();
    } catch { /* closed by a timeout */ }
  }
}

async function main(): Promise<number> {
  const port = freePort();
  const base = Deno.args.length > 0
    ? [...Deno.args]
    : [Deno.execPath(), "run", "-A", `${ROOT}dist/natsdeno.js`];
  const cmd = [...base, "-a", "127.0.0.1", "-p", String(port)];
  const server = BenchServer.start("server", cmd, port);
  try {
    await server.waitReady(30_000);
    await exchange(port);
    console.log(`smoke: ok: one message through \`${cmd.join(" ")}\` (INFO version ${server.info.version})`);
    return 0;
  } catch (err) {
    console.error(`smoke: FAILED: ${err instanceof Error ? err.message : err}`);
    const tail = server.logTail.trim();
    if (tail && !String(err).includes("during start-up")) {
      console.error(`smoke: server output (tail):\n${tail.split("\n").slice(-20).join("\n")}`);
    }
    return 1;
  } finally {
    await server.stop();
  }
}

Deno.exit(await main());
