// NATS JWT claim shapes (operator, account, user, activation), with the wire keys of the nats-io/jwt v2
// library's JSON, and the v1 → v2 migration its decoder applies.

/** No limit, as the JWT library writes it. */
export const NO_LIMIT = -1;

/** The registered claims every NATS JWT carries. */
export interface ClaimsData {
  aud?: string;
  exp?: number;
  jti?: string;
  iat?: number;
  iss?: string;
  name?: string;
  nbf?: number;
  sub?: string;
}

/** `nats.{tags,type,version}`. */
export interface GenericFields {
  tags?: string[];
  type?: string;
  version?: number;
}

/** Subject allow/deny lists of one direction. */
export interface JwtPermission {
  allow?: string[];
  deny?: string[];
}

/** `resp`: replies allowed per request and their time to live in nanoseconds. */
export interface JwtResponsePermission {
  max: number;
  ttl: number;
}

/** `pub`, `sub`, `resp` of users and of an account's `default_permissions`. */
export interface JwtPermissions {
  pub?: JwtPermission;
  sub?: JwtPermission;
  resp?: JwtResponsePermission;
}

/** A daily connect window ("15:04:05" clock times). */
export interface TimeRange {
  start?: string;
  end?: string;
}

/** User limits: source networks, connect windows, and per-connection counts. */
export interface JwtUserLimits {
  src?: string[];
  times?: TimeRange[];
  "times_location"?: string;
  subs?: number;
  data?: number;
  payload?: number;
}

/** The user part of user claims and of scoped signing key templates. */
export interface UserPermissionLimits extends JwtPermissions, JwtUserLimits {
  "bearer_token"?: boolean;
  "allowed_connection_types"?: string[];
}

/** `nats` of a user JWT. */
export interface JwtUser extends UserPermissionLimits, GenericFields {
  "issuer_account"?: string;
}

/** A user JWT's claims. */
export interface UserClaims extends ClaimsData {
  nats: JwtUser;
}

/** A scoped signing key: users it signs get the template's permissions and limits. */
export interface UserScope {
  kind: "user_scope";
  key: string;
  role?: string;
  template: UserPermissionLimits;
}

/** Per-tier JetStream limits. */
export interface JetStreamLimits {
  "mem_storage"?: number;
  "disk_storage"?: number;
  streams?: number;
  consumer?: number;
  "max_ack_pending"?: number;
  "mem_max_stream_bytes"?: number;
  "disk_max_stream_bytes"?: number;
  "max_bytes_required"?: boolean;
}

/** An account's limits, set by its operator. */
export interface OperatorLimits extends JetStreamLimits {
  subs?: number;
  data?: number;
  payload?: number;
  imports?: number;
  exports?: number;
  wildcards?: boolean;
  "disallow_bearer"?: boolean;
  conn?: number;
  leaf?: number;
  "tiered_limits"?: Record<string, JetStreamLimits>;
}

/** One stream or service export. */
export interface JwtExport {
  name?: string;
  subject?: string;
  type?: "stream" | "service";
  "token_req"?: boolean;
  revocations?: Record<string, number>;
  "response_type"?: "Singleton" | "Stream" | "Chunked";
  /** Nanoseconds. */
  "response_threshold"?: number;
  "service_latency"?: { sampling: number | "headers"; results: string };
  "account_token_position"?: number;
  advertise?: boolean;
  description?: string;
  "info_url"?: string;
}

/** One stream or service import. */
export interface JwtImport {
  name?: string;
  subject?: string;
  account?: string;
  token?: string;
  to?: string;
  "local_subject"?: string;
  type?: "stream" | "service";
  share?: boolean;
}

/** A subject mapping destination. */
export interface WeightedMapping {
  subject: string;
  weight?: number;
  cluster?: string;
}

/** `nats` of an account JWT. */
export interface JwtAccount extends GenericFields {
  imports?: JwtImport[];
  exports?: JwtExport[];
  limits?: OperatorLimits;
  /** Plain keys or scoped signing keys; see `accountSigningKeys`. */
  "signing_keys"?: (string | UserScope)[];
  revocations?: Record<string, number>;
  "default_permissions"?: JwtPermissions;
  mappings?: Record<string, WeightedMapping[]>;
  description?: string;
  "info_url"?: string;
  /** External authorization (auth callout): the service's users, where it may place users, its xkey. */
  authorization?: { "auth_users"?: string[]; "allowed_accounts"?: string[]; xkey?: string };
}

/** An account JWT's claims. */
export interface AccountClaims extends ClaimsData {
  nats: JwtAccount;
}

/** `nats` of an operator JWT. */
export interface JwtOperator extends GenericFields {
  "signing_keys"?: string[];
  "account_server_url"?: string;
  "operator_service_urls"?: string[];
  "system_account"?: string;
  "assert_server_version"?: string;
  "strict_signing_key_usage"?: boolean;
}

/** An operator JWT's claims. */
export interface OperatorClaims extends ClaimsData {
  nats: JwtOperator;
}

/** `nats` of an activation JWT (an import token). */
export interface JwtActivation extends GenericFields {
  subject?: string;
  kind?: "stream" | "service";
  "issuer_account"?: string;
}

/** An activation JWT's claims. */
export interface ActivationClaims extends ClaimsData {
  nats: JwtActivation;
}

/** Claims of a type this server does not interpret (`nats` and extra fields kept raw). */
export interface GenericClaims extends ClaimsData {
  nats?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The kinds of claims, as `nats.type` names them. */
export type ClaimType = "operator" | "account" | "user" | "activation" | "generic";

/** Decoded claims with their kind and format version. */
export type AnyClaims =
  | { type: "operator"; version: number; claims: OperatorClaims }
  | { type: "account"; version: number; claims: AccountClaims }
  | { type: "user"; version: number; claims: UserClaims }
  | { type: "activation"; version: number; claims: ActivationClaims }
  | { type: "generic"; version: number; claims: GenericClaims };

type Raw = Record<string, unknown>;

function isObj(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The base claims of a decoded payload (Go drops fields of the wrong JSON type with an error). */
function claimsData(p: Raw): ClaimsData {
  const out: ClaimsData = {};
  for (const k of ["aud", "jti", "iss", "name", "sub"] as const) {
    const v = p[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string") throw new SyntaxError(`json: cannot unmarshal ${goJsonType(v)} into ${k}`);
    out[k] = v;
  }
  for (const k of ["exp", "iat", "nbf"] as const) {
    const v = p[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw new SyntaxError(`json: cannot unmarshal ${goJsonType(v)} into ${k}`);
    }
    out[k] = v;
  }
  return out;
}

function goJsonType(v: unknown): string {
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  return "object";
}

/**
 * Builds typed claims from a decoded payload, migrating format 1 (`type`, `tags` and a user's
 * `issuer_account` at the top level) to the format 2 shape.
 */
export function loadClaims(p: Raw, type: ClaimType, version: number): AnyClaims {
  const base = claimsData(p);
  const nats: Raw = isObj(p.nats) ? { ...p.nats } : {};
  if (version === 1) {
    nats.type = p.type;
    if (Array.isArray(p.tags)) nats.tags = p.tags;
    if (type === "user" && typeof p.issuer_account === "string") nats.issuer_account = p.issuer_account;
    nats.version = 1;
  }
  switch (type) {
    case "operator":
      return { type, version, claims: { ...base, nats: nats as JwtOperator } };
    case "account":
      return { type, version, claims: { ...base, nats: nats as JwtAccount } };
    case "user":
      return { type, version, claims: { ...base, nats: nats as JwtUser } };
    case "activation":
      return { type, version, claims: { ...base, nats: nats as JwtActivation } };
    default:
      return { type: "generic", version, claims: { ...p, ...base } as GenericClaims };
  }
}

/**
 * An account's signing keys: key → its user scope, or null for a plain key. Unknown scope kinds are an
 * error, as the library's decoder reports them.
 */
export function accountSigningKeys(ac: AccountClaims): Map<string, UserScope | null> {
  const out = new Map<string, UserScope | null>();
  for (const k of ac.nats.signing_keys ?? []) {
    if (typeof k === "string") out.set(k, null);
    else if (isObj(k)) {
      if (k.kind !== "user_scope") throw new SyntaxError(`unknown signing key scope "${String(k.type)}"`);
      out.set(k.key, k);
    }
  }
  return out;
}
