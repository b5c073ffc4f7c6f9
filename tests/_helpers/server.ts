// Test servers: start one in-process on 127.0.0.1 and a random port, quiet unless NATSDENO_TEST_LOG is set.

import { Logger } from "../../src/util/mod.ts";
import { defaultOptions, type Options, type Server, startServer } from "../../src/natsdeno.ts";

/** A running test server that shuts down with `await using`. */
export type TestServer = Server & AsyncDisposable;

/** Starts a server with `opts` over test defaults (loopback, random port, quiet log captured in memory). */
export async function runServer(opts: Partial<Options> = {}): Promise<TestServer> {
  const full = defaultOptions({ host: "127.0.0.1", port: 0, ...opts });
  const log = new Logger(
    { quiet: !Deno.env.get("NATSDENO_TEST_LOG"), debug: full.debug, trace: full.trace },
    true,
  );
  return await startServer(full, { log }) as TestServer;
}

/** Polls `f` every `intervalMs` until it stops throwing, or rethrows its last error after `timeoutMs`. */
export async function checkFor(timeoutMs: number, intervalMs: number, f: () => unknown): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await f();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await delay(intervalMs);
    }
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
