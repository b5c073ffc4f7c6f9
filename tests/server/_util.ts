// Shared helpers for the ported server tests: the reference test/ folder's regexes and connect helpers,
// config files written to temp dirs, and reloading a running server from its config file.

import { connectRaw, RawClient } from "../_helpers/raw_client.ts";
import { loadOptions } from "../../src/config/mod.ts";
import type { Server } from "../../src/server/mod.ts";
import { runServer, type TestServer } from "../_helpers/server.ts";
import { Logger } from "../../src/util/mod.ts";

export const okRe = /^\+OK\r\n/;
export const errRe = /^-ERR\s+([^\r\n]+)\r\n/;
export const pongRe = /^PONG\r\n/;
export const permErrRe = /^-ERR\s+'Permissions Violation([^\r\n]+)\r\n/;
export const msgRe = /^MSG\s+([^\s]+)\s+([^\s]+)\s+(([^\s]+)[^\S\r\n]+)?(\d+)\r\n([^\r]*)\r\n/;

/** Reads INFO, asserts auth_required, and returns the client (no CONNECT sent). */
export async function connectAuthRequired(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  const info = await c.info();
  if (info.auth_required !== true) {
    c.close();
    throw new Error(`expected server to require authorization: ${JSON.stringify(info)}`);
  }
  return c;
}

/** Sends the reference tests' CONNECT (verbose, token/user/pass). */
export async function doAuthConnect(c: RawClient, token: string, user: string, pass: string): Promise<void> {
  await c.send(
    `CONNECT {"verbose":true,"auth_token":${JSON.stringify(token)},"user":${JSON.stringify(user)},` +
      `"pass":${JSON.stringify(pass)}}\r\n`,
  );
}

/** Asserts that nothing arrives for `ms`. */
export async function expectNothing(c: RawClient, ms = 100): Promise<void> {
  const got = await c.collect(ms);
  if (got !== "") throw new Error(`expected nothing, got ${JSON.stringify(got)}`);
}

/** Writes `content` to a fresh temp dir and returns the path of the config file. */
export async function createConfFile(content: string, name = "server.conf"): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-test-" });
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, content);
  return path;
}

/** Options from a config file, as `nats-server -c file` would load them. */
export function loadConfig(path: string, extraArgs: string[] = []): ReturnType<typeof loadOptions>["opts"] {
  return loadOptions(["-c", path, ...extraArgs]).opts;
}

/** Starts an in-process server from a config file (host and port from the file, -1 = random). */
export async function runServerWithConfig(path: string): Promise<TestServer> {
  const opts = loadConfig(path);
  if (opts.port === -1) opts.port = 0;
  return await runServer(opts);
}

/** Re-reads the server's config file and applies it, as Server.Reload() does in the reference. */
export function reloadServer(s: Server): void {
  if (!s.opts.configFile) {
    throw new Error("can only reload config when a file is provided using -c or --config");
  }
  const next = loadConfig(s.opts.configFile);
  if (next.port === -1) next.port = 0;
  s.reload(next);
}

/** Rewrites the config file, then reloads. */
export async function reloadUpdateConfig(s: Server, path: string, content: string): Promise<void> {
  await Deno.writeTextFile(path, content);
  reloadServer(s);
}

/** A logger that captures lines (for tests that read the log). */
export function capturingLogger(): Logger {
  return new Logger({ quiet: true }, true);
}

export { connectRaw, RawClient };
