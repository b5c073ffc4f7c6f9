// Starts the system account's services and events on a server (nats-server's setSystemAccount()).

import type { Server } from "../server/mod.ts";
import { SystemEvents } from "./sys_events.ts";
import { SystemRequests } from "./sys_requests.ts";
import { systemAccountName } from "./varz.ts";

/** The system account's event publisher and request services of one server. */
export interface SystemServices {
  events: SystemEvents;
  requests: SystemRequests;
}

/**
 * Turns on the system account of `s` (system_account, "$SYS" by default): its internal client, the
 * $SYS.REQ services, the imports every account gets and the events. Returns undefined with
 * no_system_account. Call before the client listener starts, so every connection is seen.
 */
export function startSystemServices(s: Server): SystemServices | undefined {
  if (running.has(s)) return running.get(s);
  if (systemAccountName(s) === undefined) return undefined;
  const acc = s.systemAccount;
  if (acc === undefined) return undefined;
  const events = new SystemEvents(s, acc);
  const requests = new SystemRequests(events);
  requests.start();
  events.start();
  s.onShutdown.push(() => events.stop());
  const svc = { events, requests };
  running.set(s, svc);
  return svc;
}

const running = new WeakMap<Server, SystemServices>();

/** The system services started on `s`, if any. */
export function systemServicesOf(s: Server): SystemServices | undefined {
  return running.get(s);
}
