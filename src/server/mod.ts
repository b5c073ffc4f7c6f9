// The server core: connections, accounts, delivery and lifecycle.
export { Account, GLOBAL_ACCOUNT, SYSTEM_ACCOUNT } from "./account.ts";
export { Client } from "./client.ts";
export { ClosedState } from "./closed_state.ts";
export { hostUrls, type JetStreamHooks, NATSDENO_VERSION, Server, type ServerDeps } from "./server.ts";
export { Subscription } from "./subscription.ts";
