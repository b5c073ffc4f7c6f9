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
  checkAccountReservations(server, js);
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
    healthError: () => {
      for (const key of js.unrecovered) {
        const [acc, name] = key.split(" > ");
        if (js.accounts.get(acc)?.streams.has(name)) {
          js.unrecovered.delete(key);
          continue;
        }
        return `JetStream stream '${key}' could not be recovered`;
      }
      return undefined;
    },
    impl: js,
  };
  return js;
}

/**
 * As nats-server on a single server: the memory and storage limits of the configured accounts together may not
 * exceed the server's, or JetStream does not start.
 */
function checkAccountReservations(server: Server, js: JetStream): void {
  let mem = 0;
  let store = 0;
  for (const acc of server.accounts.values()) {
    if (acc === server.systemAccount || acc.jetstreamConfig === undefined) continue;
    const l = accountLimitsFromConfig(acc.jetstreamConfig);
    if (l === undefined) continue;
    if (l.maxMemory > 0) mem += l.maxMemory;
    if (l.maxStore > 0) store += l.maxStore;
    const which = mem > js.maxMemory ? "memory" : store > js.maxStore ? "storage" : "";
    if (which !== "") {
      throw new Error(
        `Error enabling jetstream on configured accounts: insufficient ${which} resources available (${
          which === "memory" ? 10028 : 10047
        })`,
      );
    }
  }
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
