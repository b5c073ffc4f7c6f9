// Embedding entry point: builds a Server from Options and starts its listeners (client port, monitoring).
// main.ts and the tests start servers through here; users can too (`import { startServer }`).

import { defaultOptions, type Options, validateOptions } from "./config/mod.ts";
import { validateAuth } from "./auth/mod.ts";
import { Server, type ServerDeps } from "./server/mod.ts";
import { startMonitor, startSystemServices } from "./monitor/mod.ts";
import { enableJetStream, type JetStreamDeps } from "./jetstream/mod.ts";

export { defaultOptions, type Options, Server };

/** Starts a server: system account services, monitoring when configured, client listener, pid/ports files. */
export async function startServer(
  opts: Partial<Options> | Options = {},
  deps: ServerDeps & JetStreamDeps = {},
): Promise<Server> {
  const full = "unsupported" in opts && "users" in opts ? opts as Options : defaultOptions(opts);
  validateOptions(full);
  const authErr = validateAuth(full);
  if (authErr) throw new Error(authErr);
  const s = new Server(full, deps);
  try {
    startSystemServices(s);
    if (full.httpPort !== 0 || full.httpsPort !== 0) await startMonitor(s);
    s.startListening();
    // Operator mode sets its system account (from its JWT) as the listener starts; no client is in yet.
    startSystemServices(s);
    if (full.jetStream) enableJetStream(s, deps);
    await s.ready();
  } catch (e) {
    await s.shutdown();
    throw e;
  }
  return s;
}
