// Monitoring: the HTTP endpoints of nats-server (/varz, /connz, /subsz, /accountz, /healthz, …) over the
// server's state, and the system account's $SYS services and events built on the same builders (they live
// here, not in src/events, because events may not import monitor). The builders are exported for tests.
export { type Monitor, normalizeBasePath, startMonitor } from "./monitor.ts";
export { CpuSampler, systemAccountName, type Varz, varz, type VarzOptions } from "./varz.ts";
export {
  type ConnInfo,
  connInfo,
  type Connz,
  connz,
  type ConnzOptions,
  DEFAULT_LIST_SIZE,
  SORT_OPTIONS,
  type SortOpt,
  type SubDetail,
} from "./connz.ts";
export {
  subDetail,
  type SublistStatsJson,
  sublistStatsJson,
  type Subsz,
  subsz,
  type SubszOptions,
} from "./subsz.ts";
export {
  type AccountInfo,
  accountInfo,
  type AccountStat,
  type AccountStatz,
  accountStatz,
  type Accountz,
  accountz,
} from "./accountz.ts";
export {
  type Gatewayz,
  gatewayz,
  type HealthStatus,
  healthz,
  type HealthzOptions,
  jsz,
  type JszOptions,
  type Leafz,
  leafz,
  type Routez,
  routez,
} from "./endpoints.ts";
export { type ConnState, MonitorError } from "./_query.ts";
export { goDurationNs, goTime, myUptime } from "./_format.ts";
export { startSystemServices, type SystemServices, systemServicesOf } from "./sys_services.ts";
export {
  ACCOUNT_CONNS_TYPE,
  type AccountNumConns,
  CONNECT_EVENT_TYPE,
  type ConnectEventMsg,
  DISCONNECT_EVENT_TYPE,
  type DisconnectEventMsg,
  type EventClientInfo,
  EVENTS_HB_MS,
  type EventServerInfo,
  type ServerStatsMsg,
  SystemEvents,
} from "./sys_events.ts";
export { type ServerApiResponse, SystemRequests } from "./sys_requests.ts";
