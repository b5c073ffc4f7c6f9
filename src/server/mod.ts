// The server core: connections, accounts, delivery and lifecycle.
export {
  Account,
  AccountError,
  GLOBAL_ACCOUNT,
  type ResponseType,
  type ServiceExport,
  type ServiceExportOptions,
  type ServiceImport,
  type StreamImport,
  subjectIsSubsetMatch,
  SYSTEM_ACCOUNT,
} from "./account.ts";
export { AccountConfigError, validateAccountOptions } from "./_account_config.ts";
export { clientInfo, SERVICE_LATENCY_TYPE } from "./_account_service.ts";
export { Client } from "./client.ts";
export { type TlsPeerCert, tlsPeerCerts } from "./_client_tls.ts";
export { ClosedState } from "./closed_state.ts";
export { hostUrls, type JetStreamHooks, NATSDENO_VERSION, Server, type ServerDeps } from "./server.ts";
export { Subscription } from "./subscription.ts";
