// INFO and CONNECT JSON shapes, with nats-server's wire keys and field order (server.go Info, client.go ClientOpts).

/** The INFO the server sends; keys in nats-server's order so the JSON reads the same. */
export interface ServerInfo {
  "server_id": string;
  "server_name": string;
  version: string;
  proto: number;
  "git_commit"?: string;
  go: string;
  host: string;
  port: number;
  headers: boolean;
  "auth_required"?: boolean;
  "tls_required"?: boolean;
  "tls_verify"?: boolean;
  "tls_available"?: boolean;
  "max_payload": number;
  jetstream?: boolean;
  ip?: string;
  "client_id"?: number;
  "client_ip"?: string;
  nonce?: string;
  cluster?: string;
  "cluster_dynamic"?: boolean;
  domain?: string;
  "connect_urls"?: string[];
  "ws_connect_urls"?: string[];
  ldm?: boolean;
  /** The JetStream API level (ADR-44) the server serves; in every INFO, as the reference sends it. */
  "api_lvl"?: number;
  /** The server's public curve key for sealed authorization callout requests. */
  xkey?: string;
}

/** The CONNECT a client sends. Absent session flags mean true (verbose, pedantic, echo). */
export interface ConnectOptions {
  echo?: boolean;
  verbose?: boolean;
  pedantic?: boolean;
  "tls_required"?: boolean;
  nkey?: string;
  jwt?: string;
  sig?: string;
  "auth_token"?: string;
  user?: string;
  pass?: string;
  name?: string;
  lang?: string;
  version?: string;
  protocol?: number;
  account?: string;
  "new_account"?: boolean;
  headers?: boolean;
  "no_responders"?: boolean;
}

/** Client protocol levels: 0 original, 1 accepts async INFO. */
export const CLIENT_PROTO_ZERO = 0;
export const CLIENT_PROTO_INFO = 1;

/**
 * The nats-server release natsdeno reports. Clients enable features by this version (nats.js refuses
 * `filter_subjects`, stream metadata or batch direct gets from a server before 2.10/2.11), so it is the release
 * whose JetStream API level natsdeno serves in full (2.12: API level 2); the core protocol is the same in every
 * release since 2.9.
 */
export const VERSION = "2.12.0";
/**
 * The JetStream API level (ADR-44) of that release, which natsdeno serves: level 2 brings atomic batches,
 * counters, schedules and the prioritized policy; level 3 and up need fast batches and ack flow control, which
 * natsdeno does not have. Sent as `api_lvl` in every INFO (JetStream on or not, as the reference).
 */
export const JS_API_LEVEL = 2;
export const PROTO = 1;
