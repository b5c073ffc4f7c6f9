// Shared helpers of the monitor tests: a monitored test server, HTTP reads with status and content type,
// and the Go tests' createClientConnSubscribeAndPublish.

import { connect, createInbox, type NatsConnection } from "@nats-io/transport-node";
import { assertEquals } from "@std/assert";
import type { Options } from "../../src/natsdeno.ts";
import { runServer, type TestServer } from "../_helpers/server.ts";

export const APP_JSON = "application/json";
export const APP_JS = "application/javascript";
export const TEXT_PLAIN = "text/plain; charset=utf-8";
export const TEXT_HTML = "text/html; charset=utf-8";

/** DefaultMonitorOptions() of the Go tests, without the system account unless asked. */
export function runMonitorServer(opts: Partial<Options> = {}): Promise<TestServer> {
  return runServer({
    httpHost: "127.0.0.1",
    httpPort: -1,
    httpBasePath: "/",
    serverName: "monitor_server",
    serverTags: ["tag"],
    noSystemAccount: true,
    ...opts,
  });
}

/** The monitor's base URL ("http://127.0.0.1:port"). */
export function monitorUrl(s: TestServer): string {
  return s.monitorUrls[0];
}

/** GET `url`, checking the status and Content-Type; returns the body. */
export async function readBodyEx(url: string, status: number, contentType: string): Promise<string> {
  const r = await fetch(url);
  const body = await r.text();
  assertEquals(r.status, status, `status of ${url}: ${body}`);
  assertEquals(r.headers.get("content-type"), contentType, `content type of ${url}`);
  return body;
}

/** GET `url` expecting 200 JSON; returns the parsed body. */
export async function readJson<T = Record<string, unknown>>(url: string): Promise<T> {
  return JSON.parse(await readBodyEx(url, 200, APP_JSON)) as T;
}

/** A client that subscribed to an inbox, published "Hello" to it, got it and unsubscribed. */
export async function createClientConnSubscribeAndPublish(
  s: TestServer,
  opts: Record<string, unknown> = {},
): Promise<NatsConnection> {
  const nc = await connect({ servers: `127.0.0.1:${s.port}`, ...opts });
  const inbox = createInbox();
  const sub = nc.subscribe(inbox, { max: 1 });
  nc.publish(inbox, "Hello");
  for await (const _m of sub) break;
  await nc.flush();
  return nc;
}

/** A plain client with a name. */
export function createClientConnWithName(s: TestServer, name: string): Promise<NatsConnection> {
  return connect({ servers: `127.0.0.1:${s.port}`, name });
}

/** Runs `f` for mode 0 (HTTP) and mode 1 (direct call), as the Go tests' poll helpers do. */
export async function bothModes(f: (mode: number) => Promise<void> | void): Promise<void> {
  for (let mode = 0; mode < 2; mode++) await f(mode);
}
