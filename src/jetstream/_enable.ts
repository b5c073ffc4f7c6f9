// Turning JetStream on for a running server, and the /jsz builder the monitor and $SYS services use.

import type { Server } from "../server/mod.ts";
import { JetStream, type JetStreamDeps } from "./jetstream.ts";

/** Starts JetStream on `server` (logs the banner, enables accounts) and registers its server hooks. */
export function enableJetStream(server: Server, deps: JetStreamDeps = {}): JetStream {
  const js = new JetStream(server, deps);
  js.start();
  server.jetStream = {
    varz: () => js.varz(),
    jsz: (opts) => js.jsz(opts),
    shutdown: () => js.shutdown(),
    impl: js,
  };
  return js;
}

/**
 * The /jsz body for a server, or undefined when JetStream is off; `$SYS.REQ.SERVER.*.JSZ` uses the same.
 * @param opts accounts/streams/consumers/config flags and an account filter, as /jsz's query
 */
export function jszBuilder(
  server: Server,
  opts: { accounts?: boolean; streams?: boolean; consumers?: boolean; config?: boolean; account?: string } =
    {},
): Record<string, unknown> | undefined {
  return server.jetStream?.jsz(opts);
}
