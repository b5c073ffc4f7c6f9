// An account: an isolated subject space with its own sublist and clients (nats-server accounts.go).

import { Sublist } from "../sublist/mod.ts";
import type { Client } from "./client.ts";
import type { Subscription } from "./subscription.ts";

/** The global account's name. */
export const GLOBAL_ACCOUNT = "$G";
/** The default system account's name. */
export const SYSTEM_ACCOUNT = "$SYS";

/** An account and what lives in it. */
export class Account {
  readonly name: string;
  readonly sl: Sublist<Subscription>;
  readonly clients = new Set<Client>();

  constructor(name: string, opts: { cache?: boolean } = {}) {
    this.name = name;
    this.sl = new Sublist<Subscription>({ cache: opts.cache ?? true });
  }

  addClient(c: Client): void {
    this.clients.add(c);
  }

  removeClient(c: Client): void {
    this.clients.delete(c);
  }
}
