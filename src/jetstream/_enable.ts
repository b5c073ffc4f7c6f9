// Turning JetStream on for a running server, and the /jsz builder the monitor and $SYS services use.

import * as fs from "node:fs";
import type { Server } from "../server/mod.ts";
import { accountLimitsFromConfig, JetStream, type JetStreamDeps } from "./jetstream.ts";
import { fixStoreDir } from "./_store_dir_fix.ts";

/** Starts JetStream on `server` (logs the banner, enables accounts) and registers its server hooks. */
export function enableJetStream(server: Server, deps: JetStreamDeps = {}): JetStream {
  // As nats-server, a config that gives the system account JetStream is fatal.
  const sa = server.systemAccount;
  if (sa?.jetstreamConfig !== undefined && accountLimitsFromConfig(sa.jetstreamConfig) !== undefined) {
    throw new Error("Not allowed to enable JetStream on the system account");
  }
  const js = new JetStream(server, deps);
  fixStoreDir(js.storeDir, (name) => server.accounts.has(name));
  js.start();
  // As nats-server: in operator mode, accounts that have JetStream data are looked up (and so enabled) at start,
  // not when their first client comes.
  if (server.operator !== undefined) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(js.storeDir);
    } catch {
      // No store yet.
    }
    for (const name of names) if (!server.accounts.has(name)) server.lookupAccount(name);
  }
  server.jetStream = {
    varz: () => js.varz(),
    jsz: (opts) => js.jsz(opts),
    shutdown: () => js.shutdown(),
    enabled: () => js.enabled,
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
