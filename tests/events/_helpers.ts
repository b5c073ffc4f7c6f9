// Helpers of the system account tests: a server with a system account and users in accounts, a client per
// user, and a pull-style reader over a subscription (nats.go's NextMsg).

import { connect, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { Options } from "../../src/natsdeno.ts";
import { type SystemServices, systemServicesOf } from "../../src/monitor/mod.ts";
import { runServer, type TestServer } from "../_helpers/server.ts";

/**
 * A server whose system account is SYS, with users sys (SYS), a (ACC) and b (ACC2), as the reference
 * tests configure with `system_account: SYS` and an accounts block.
 * TODO(accounts): build this from an `accounts {}` config once the accounts mapping is in.
 */
export function runSysServer(opts: Partial<Options> = {}): Promise<TestServer> {
  return runServer({
    systemAccount: "SYS",
    users: [
      { username: "sys", password: "sys", account: "SYS" },
      { username: "a", password: "a", account: "ACC" },
      { username: "b", password: "b", account: "ACC2" },
    ],
    ...opts,
  });
}

/** The system services of a test server (they always run unless no_system_account). */
export function sysOf(s: TestServer): SystemServices {
  const svc = systemServicesOf(s);
  if (svc === undefined) throw new Error("no system services");
  return svc;
}

/** Connects as `user` (password = user name) or without credentials. */
export function connectAs(
  s: TestServer,
  user?: string,
  opts: Record<string, unknown> = {},
): Promise<NatsConnection> {
  const auth = user === undefined ? {} : { user, pass: user };
  return connect({ servers: `127.0.0.1:${s.port}`, ...auth, ...opts });
}

/** Reads a subscription one message at a time, with a timeout per message. */
export class SyncSub {
  readonly sub: Subscription;
  #it: AsyncIterator<Msg>;
  /** A read that outlived its timeout: the next call takes its message. */
  #pending: Promise<IteratorResult<Msg>> | undefined;

  constructor(sub: Subscription) {
    this.sub = sub;
    this.#it = sub[Symbol.asyncIterator]();
  }

  /** The next message, or throws "timeout" after `ms`. */
  async next(ms = 1_000): Promise<Msg> {
    let t: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, rej) => {
      t = setTimeout(() => rej(new Error("timeout")), ms);
    });
    try {
      this.#pending ??= this.#it.next();
      const r = await Promise.race([this.#pending, timeout]);
      this.#pending = undefined;
      if (r.done) throw new Error("subscription closed");
      return r.value;
    } finally {
      clearTimeout(t);
    }
  }

  /** True when no message arrives within `ms`. */
  async none(ms = 100): Promise<boolean> {
    try {
      await this.next(ms);
      return false;
    } catch (e) {
      if ((e as Error).message === "timeout") return true;
      throw e;
    }
  }
}

/** Subscribes and wraps the subscription for next()/none(); flushes so the interest is registered. */
export async function syncSub(nc: NatsConnection, subject: string, queue?: string): Promise<SyncSub> {
  const s = new SyncSub(nc.subscribe(subject, queue ? { queue } : {}));
  await nc.flush();
  return s;
}

/** The JSON body of a message. */
// deno-lint-ignore no-explicit-any
export function json(m: Msg): any {
  return JSON.parse(new TextDecoder().decode(m.data));
}
