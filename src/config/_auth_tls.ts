// The `authorization {}` and `tls {}` blocks mapped onto Options; keys, aliases and error texts follow
// nats-server server/opts.go (parseAuthorization, parseUsers, parseUserPermissions, parseTLS).
import { fromPublic } from "@nats-io/nkeys";
import type { ConfigMap, ConfigValue } from "./_tree.ts";
import {
  asBool,
  asInt,
  asMap,
  asString,
  durationMs,
  FieldFault,
  goQuote,
  goQuoteList,
  goType,
  goValue,
  isMap,
  isValidSubject,
  type Ref,
  refOf,
  type Report,
  stringList,
} from "./_values.ts";
import {
  DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS,
  DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
  type NkeyUser,
  type Permissions,
  type ResponsePermission,
  type SubjectPermission,
  type TlsOptions,
  type User,
} from "./options.ts";

/** What an `authorization {}` block holds. */
export interface AuthBlock {
  user: string;
  pass: string;
  token: string;
  /** Seconds, as Go keeps it; 0 when not set. */
  timeout: number;
  /** Present (possibly empty) when the block has a `users` key. */
  users?: User[];
  nkeys?: NkeyUser[];
  defaultPermissions?: Permissions;
  /** The `auth_callout {}` block. */
  callout?: AuthCalloutOptions;
  unsupported: string[];
}

/** `authorization { auth_callout {} }`: delegate authentication to a service in an account. */
export interface AuthCalloutOptions {
  /** Public account nkey that signs the user JWTs of responses. */
  issuer: string;
  /** Account the service runs in ("$G" when not given). */
  account: string;
  /** Users that bypass the callout (the service's own connections). */
  authUsers: string[];
  /** Public curve key of the service: requests are encrypted to it when set. */
  xkey: string;
  allowedAccounts: string[];
}

const CONNECTION_TYPES = new Set([
  "STANDARD",
  "WEBSOCKET",
  "LEAFNODE",
  "LEAFNODE_WS",
  "MQTT",
  "MQTT_WS",
  "IN_PROCESS",
]);

/** Reads an `authorization {}` map; faults go to `report`. */
export function parseAuthorization(m: ConfigMap, report: Report): AuthBlock {
  const auth: AuthBlock = { user: "", pass: "", token: "", timeout: 0, unsupported: [] };
  for (const [k, v] of Object.entries(m)) {
    const ref = refOf(m, k);
    report.guard(ref, () => {
      switch (k.toLowerCase()) {
        case "user":
        case "username":
          auth.user = asString(v, ref?.kind);
          break;
        case "pass":
        case "password":
          auth.pass = asString(v, ref?.kind);
          break;
        case "token":
          auth.token = asString(v, ref?.kind);
          break;
        case "timeout":
          auth.timeout = typeof v === "number" ? v : 1;
          break;
        case "users": {
          const r = parseUsers(v, ref, report);
          if (r) {
            auth.users = r.users;
            auth.nkeys = r.nkeys;
          }
          break;
        }
        case "default_permission":
        case "default_permissions":
        case "permissions":
          auth.defaultPermissions = parseUserPermissions(v, ref, report);
          break;
        case "auth_callout":
        case "callout":
        case "callouts":
          auth.callout = parseAuthCallout(v, ref, report);
          break;
        default:
          report.unknownField(ref, k);
      }
    });
  }
  if (auth.defaultPermissions) {
    for (const u of auth.users ?? []) u.permissions ??= auth.defaultPermissions;
    for (const u of auth.nkeys ?? []) u.permissions ??= auth.defaultPermissions;
  }
  return auth;
}

function isPublicKey(key: string, prefix: string): boolean {
  if (!key.startsWith(prefix)) return false;
  try {
    fromPublic(key);
    return true;
  } catch {
    return false;
  }
}

/** Reads `auth_callout {}` with nats-server's checks and texts. */
function parseAuthCallout(
  v: ConfigValue,
  ref: Ref | undefined,
  report: Report,
): AuthCalloutOptions | undefined {
  if (!isMap(v)) {
    report.error(ref, `Expected authorization callout to be a map/struct, got ${goValue(v)}`);
    return undefined;
  }
  const ac: AuthCalloutOptions = { issuer: "", account: "", authUsers: [], xkey: "", allowedAccounts: [] };
  for (const [k, val] of Object.entries(v)) {
    const r = refOf(v, k);
    switch (k.toLowerCase()) {
      case "issuer":
        ac.issuer = asString(val, r?.kind);
        if (!isPublicKey(ac.issuer, "A")) {
          report.error(
            r,
            `Expected callout user to be a valid public account nkey, got ${goQuote(ac.issuer)}`,
          );
          return undefined;
        }
        break;
      case "account":
      case "acc":
        ac.account = asString(val, r?.kind);
        break;
      case "auth_users":
      case "users":
        if (!Array.isArray(val)) {
          report.error(r, `Expected auth_users field to be an array, got ${goType(val)}`);
          return undefined;
        }
        for (const u of val) ac.authUsers.push(asString(u));
        break;
      case "xkey":
      case "key":
        ac.xkey = asString(val, r?.kind);
        if (!isPublicKey(ac.xkey, "X")) {
          report.error(r, `Expected callout xkey to be a valid public xkey, got ${goQuote(ac.xkey)}`);
          return undefined;
        }
        break;
      case "allowed_accounts":
        if (!Array.isArray(val)) {
          report.error(r, `Expected allowed accounts field to be an array, got ${goType(val)}`);
          return undefined;
        }
        for (const a of val) ac.allowedAccounts.push(asString(a));
        break;
      default:
        report.error(r, `Unknown field ${goQuote(k)} parsing authorization callout`);
    }
  }
  if (ac.account === "") ac.account = "$G";
  if (ac.issuer === "") {
    report.error(ref, "Authorization callouts require an issuer to be specified");
    return undefined;
  }
  if (ac.authUsers.length === 0) {
    report.error(ref, "Authorization callouts require authorized users to be specified");
    return undefined;
  }
  return ac;
}

function isValidUserNkey(key: string): boolean {
  if (!key.startsWith("U")) return false;
  try {
    fromPublic(key);
    return true;
  } catch {
    return false;
  }
}

export function parseUsers(
  v: ConfigValue,
  ref: Ref | undefined,
  report: Report,
): { users: User[]; nkeys: NkeyUser[] } | undefined {
  if (!Array.isArray(v)) {
    report.error(ref, `Expected users field to be an array, got ${goValue(v)}`);
    return undefined;
  }
  const users: User[] = [];
  const nkeys: NkeyUser[] = [];
  for (let i = 0; i < v.length; i++) {
    const u = v[i];
    let lastRef = refOf(v, i);
    if (!isMap(u)) {
      report.error(lastRef, `Expected user entry to be a map/struct, got ${goValue(u)}`);
      continue;
    }
    let username = "";
    let password = "";
    let nkey = "";
    let perms: Permissions | undefined;
    let cts: string[] | undefined;
    for (const [k, val] of Object.entries(u)) {
      const r = refOf(u, k);
      lastRef = r;
      report.guard(r, () => {
        switch (k.toLowerCase()) {
          case "nkey":
            nkey = asString(val, r?.kind);
            break;
          case "user":
          case "username":
            username = asString(val, r?.kind);
            break;
          case "pass":
          case "password":
            password = asString(val, r?.kind);
            break;
          case "permission":
          case "permissions":
          case "authorization":
            perms = parseUserPermissions(val, r, report);
            break;
          case "allowed_connection_types":
          case "connection_types":
          case "clients":
            cts = parseConnectionTypes(val, u, k, r, report);
            break;
          case "proxy_required":
            asBool(val, r?.kind);
            break;
          default:
            report.unknownField(r, k);
        }
      });
    }
    if (nkey === "" && username === "") {
      report.error(lastRef, "User entry requires a user");
      return undefined;
    }
    if (nkey !== "") {
      if (!isValidUserNkey(nkey)) {
        report.error(lastRef, "Not a valid public nkey for a user");
        return undefined;
      }
      if (username !== "" || password !== "") {
        report.error(lastRef, "Nkey users do not take usernames or passwords");
        return undefined;
      }
      const nu: NkeyUser = { nkey };
      if (perms) nu.permissions = perms;
      if (cts) nu.allowedConnectionTypes = cts;
      nkeys.push(nu);
    } else {
      const user: User = { username, password };
      if (perms) user.permissions = perms;
      if (cts) user.allowedConnectionTypes = cts;
      users.push(user);
    }
  }
  return { users, nkeys };
}

function parseConnectionTypes(
  v: ConfigValue,
  container: object,
  key: string,
  ref: Ref | undefined,
  report: Report,
): string[] | undefined {
  let list: string[];
  try {
    list = stringList("allowed connection types", v, container, key, report);
  } catch (e) {
    if (e instanceof FieldFault) {
      report.error(ref, e.message);
      return undefined;
    }
    throw e;
  }
  const valid: string[] = [];
  const unknown: string[] = [];
  for (const t of list.map((s) => s.toUpperCase())) (CONNECTION_TYPES.has(t) ? valid : unknown).push(t);
  if (unknown.length > 0) report.error(ref, `invalid connection types ${goQuoteList(unknown)}`);
  return valid;
}

/** A `permissions {}` map (Go's parseUserPermissions). */
export function parseUserPermissions(
  v: ConfigValue,
  ref: Ref | undefined,
  report: Report,
): Permissions | undefined {
  if (!isMap(v)) {
    report.error(ref, `Expected permissions to be a map/struct, got ${goValue(v)}`);
    return undefined;
  }
  const p: Permissions = {};
  for (const [k, val] of Object.entries(v)) {
    const r = refOf(v, k);
    report.guard(r, () => {
      switch (k.toLowerCase()) {
        case "pub":
        case "publish":
        case "import": {
          const sp = parseVariablePermissions(val, v, k, report);
          if (sp !== null) p.publish = sp;
          break;
        }
        case "sub":
        case "subscribe":
        case "export": {
          const sp = parseVariablePermissions(val, v, k, report);
          if (sp !== null) p.subscribe = sp;
          break;
        }
        case "publish_allow_responses":
        case "allow_responses": {
          if (typeof val === "boolean") {
            if (val) {
              p.response = {
                maxMsgs: DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
                expiresMs: DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS,
              };
            }
          } else {
            p.response = parseAllowResponses(val, r, report);
          }
          if (p.response) {
            p.publish ??= {};
            p.publish.allow ??= [];
          }
          break;
        }
        default:
          if (!r?.usedVariable) report.error(r, `Unknown field ${goQuote(k)} parsing permissions`);
      }
    });
  }
  return p;
}

/** A list of subjects, or `{allow, deny}`; null when an error was reported; undefined for `{}`. */
function parseVariablePermissions(
  v: ConfigValue,
  container: ConfigMap,
  key: string,
  report: Report,
): SubjectPermission | undefined | null {
  if (!isMap(v)) {
    const subjects = parsePermSubjects(v, container, key, report);
    return subjects ? { allow: subjects } : null;
  }
  if (Object.keys(v).length === 0) return undefined;
  const sp: SubjectPermission = {};
  for (const [k, val] of Object.entries(v)) {
    const r = refOf(v, k);
    switch (k.toLowerCase()) {
      case "allow": {
        const s = parsePermSubjects(val, v, k, report);
        if (s) sp.allow = s;
        break;
      }
      case "deny": {
        const s = parsePermSubjects(val, v, k, report);
        if (s) sp.deny = s;
        break;
      }
      default:
        if (!r?.usedVariable) {
          report.error(
            r,
            `Unknown field name ${
              goQuote(k)
            } parsing subject permissions, only 'allow' or 'deny' are permitted`,
          );
        }
    }
  }
  return sp;
}

function parsePermSubjects(
  v: ConfigValue,
  container: object,
  key: string,
  report: Report,
): string[] | undefined {
  const ref = refOf(container, key);
  let subjects: string[];
  if (typeof v === "string") subjects = [v];
  else if (Array.isArray(v)) {
    subjects = [];
    for (let i = 0; i < v.length; i++) {
      const s = v[i];
      if (typeof s !== "string") {
        report.error(refOf(v, i), "Subject in permissions array cannot be cast to string");
        return undefined;
      }
      subjects.push(s);
    }
  } else {
    report.error(
      ref,
      `Expected subject permissions to be a subject, or array of subjects, got ${goType(v, ref?.kind)}`,
    );
    return undefined;
  }
  for (const s of subjects) {
    if (isValidSubject(s)) continue;
    // A queue-qualified subject ("foo.* group") is allowed.
    const fields = s.trim().split(/\s+/);
    if (fields.length !== 2) {
      report.error(ref, `subject ${goQuote(s)} is not a valid subject`);
      return undefined;
    }
    if (!isValidSubject(fields[0])) {
      report.error(ref, `subject ${goQuote(fields[0])} is not a valid subject`);
      return undefined;
    }
  }
  return subjects;
}

function parseAllowResponses(
  v: ConfigValue,
  ref: Ref | undefined,
  report: Report,
): ResponsePermission | undefined {
  if (!isMap(v)) {
    report.error(ref, "error parsing response permissions, expected a boolean or a map");
    return undefined;
  }
  const rp: ResponsePermission = {
    maxMsgs: DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
    expiresMs: DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS,
  };
  for (const [k, val] of Object.entries(v)) {
    const r = refOf(v, k);
    switch (k.toLowerCase()) {
      case "max":
      case "max_msgs":
      case "max_messages":
      case "max_responses": {
        let max = 0;
        try {
          max = asInt(val, r?.kind);
        } catch (e) {
          report.error(r, (e as Error).message);
          return undefined;
        }
        if (max !== 0) rp.maxMsgs = max;
        break;
      }
      case "expires":
      case "expiration":
      case "ttl": {
        if (typeof val !== "string") {
          report.error(r, "error parsing expires, not a duration string");
          return undefined;
        }
        let ms: number;
        try {
          ms = durationMs("expires", val);
        } catch (e) {
          report.error(r, (e as Error).message);
          return undefined;
        }
        if (ms !== 0) rp.expiresMs = ms;
        break;
      }
      default:
        if (!r?.usedVariable) report.error(r, `Unknown field ${goQuote(k)} parsing permissions`);
    }
  }
  return rp;
}

const CIPHERS = new Set([
  "TLS_RSA_WITH_RC4_128_SHA",
  "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA",
  "TLS_RSA_WITH_AES_256_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
]);
const CURVES = new Set(["CurveP256", "CurveP384", "CurveP521", "X25519"]);
const PIN_RE = /^[A-Fa-f0-9]{64}$/;

function tlsFault(ref: Ref | undefined, reason: string): FieldFault {
  return new FieldFault(reason, ref);
}

function tlsBool(v: ConfigValue, ref: Ref | undefined, name: string): boolean {
  if (typeof v !== "boolean") {
    throw tlsFault(ref, `error parsing tls config, expected '${name}' to be a boolean`);
  }
  return v;
}

function tlsFile(v: ConfigValue, ref: Ref | undefined, name: string): string {
  if (typeof v !== "string") {
    throw tlsFault(ref, `error parsing tls config, expected '${name}' to be filename`);
  }
  return v;
}

function nameList(
  v: ConfigValue,
  ref: Ref | undefined,
  field: string,
  known: Set<string>,
  what: string,
): string[] {
  const arr = v as ConfigValue[];
  if (!Array.isArray(v)) {
    throw new FieldFault(`interface conversion: interface {} is ${goType(v)}, not []interface {}`, ref);
  }
  if (arr.length === 0) throw tlsFault(ref, `error parsing tls config, '${field}' cannot be empty`);
  return arr.map((e, i) => {
    const s = asString(e, refOf(arr, i)?.kind);
    if (!known.has(s)) throw tlsFault(refOf(arr, i), `unrecognized ${what} ${s}`);
    return s;
  });
}

/**
 * A `tls {}` map (Go's parseTLS). Throws FieldFault with its position on the first problem, as Go
 * returns on the first one. `isClientCtx` is true for the client listener.
 */
export function parseTls(v: ConfigValue, ref: Ref | undefined, isClientCtx: boolean): TlsOptions {
  const m = asMap(v, ref?.kind);
  const tc: TlsOptions = {};
  for (const [k, val] of Object.entries(m)) {
    const r = refOf(m, k);
    switch (k.toLowerCase()) {
      case "cert_file":
        tc.certFile = tlsFile(val, r, "cert_file");
        break;
      case "key_file":
        tc.keyFile = tlsFile(val, r, "key_file");
        break;
      case "ca_file":
        tc.caFile = tlsFile(val, r, "ca_file");
        break;
      case "insecure":
        tc.insecure = tlsBool(val, r, "insecure");
        break;
      case "verify":
        tc.verify = tlsBool(val, r, "verify");
        break;
      case "verify_and_map": {
        const b = tlsBool(val, r, "verify_and_map");
        if (b) tc.verify = true;
        tc.verifyAndMap = b;
        break;
      }
      case "verify_cert_and_check_known_urls": {
        const b = tlsBool(val, r, "verify_cert_and_check_known_urls");
        if (b && isClientCtx) {
          throw tlsFault(r, "verify_cert_and_check_known_urls not supported in this context");
        }
        if (b) tc.verify = true;
        tc.verifyCertAndCheckKnownUrls = b;
        break;
      }
      case "cipher_suites":
        tc.cipherSuites = nameList(val, r, "cipher_suites", CIPHERS, "cipher");
        break;
      case "curve_preferences":
        tc.curvePreferences = nameList(val, r, "curve_preferences", CURVES, "curve preference");
        break;
      case "timeout":
        if (typeof val === "number") tc.timeoutMs = val * 1000;
        else if (typeof val === "string") {
          try {
            tc.timeoutMs = durationMs("timeout", val);
          } catch (e) {
            const msg = (e as Error).message.replace(/^error parsing timeout: /, "");
            throw tlsFault(r, `error parsing tls config, 'timeout' ${msg}`);
          }
        } else throw tlsFault(r, "error parsing tls config, 'timeout' wrong type");
        break;
      case "connection_rate_limit":
        if (typeof val !== "number" || r?.kind === "float") {
          throw tlsFault(r, "error parsing tls config, 'connection_rate_limit' wrong type");
        }
        tc.connectionRateLimit = val;
        break;
      case "pinned_certs": {
        if (!Array.isArray(val)) {
          throw tlsFault(
            r,
            "error parsing tls config, expected 'pinned_certs' to be a list of hex-encoded sha256 of DER encoded SubjectPublicKeyInfo",
          );
        }
        const pins: string[] = [];
        val.forEach((e, i) => {
          const entry = asString(e, refOf(val, i)?.kind).toLowerCase();
          if (!PIN_RE.test(entry)) {
            throw tlsFault(
              refOf(val, i),
              `error parsing tls config, 'pinned_certs' key ${entry} does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo`,
            );
          }
          pins.push(entry);
        });
        if (pins.length > 0) tc.pinnedCerts = pins;
        break;
      }
      case "handshake_first":
      case "first":
      case "immediate":
        if (typeof val === "boolean") tc.handshakeFirst = val;
        else if (typeof val === "string" && val.toLowerCase() === "auto") {
          tc.handshakeFirst = true;
          tc.handshakeFirstFallbackMs = 50;
        } else if (typeof val === "string") {
          tc.handshakeFirst = true;
          tc.handshakeFirstFallbackMs = durationMs("handshake_first", val);
        } else {throw tlsFault(
            r,
            `field ${goQuote(k)} should be a boolean or a string, got ${goType(val, r?.kind)}`,
          );}
        break;
      case "min_version":
        tc.minVersion = asString(val, r?.kind);
        if (!["1.2", "1.3"].includes(tc.minVersion)) {
          throw tlsFault(r, `unknown version: ${tc.minVersion}`);
        }
        break;
      case "allow_insecure_cipher_suites":
        tc.allowInsecureCipherSuites = tlsBool(val, r, "allow_insecure_cipher_suites");
        break;
      case "certs":
      case "certificates": {
        if (!Array.isArray(val)) {
          throw tlsFault(r, `error parsing certificates config: unsupported type ${goType(val)}`);
        }
        tc.certs = val.map((c, i) => {
          const cm = asMap(c, refOf(val, i)?.kind);
          return { certFile: asString(cm.cert_file ?? ""), keyFile: asString(cm.key_file ?? "") };
        });
        break;
      }
      case "ocsp_peer":
      case "cert_store":
      case "cert_match_by":
      case "cert_match":
      case "cert_match_skip_invalid":
      case "ca_certs_match":
        // Accepted so configs load; natsdeno has no OCSP peer checks or OS certificate stores yet.
        break;
      default:
        throw tlsFault(r, `error parsing tls config, unknown field [${goQuote(k)}]`);
    }
  }
  if (tc.certFile && !tc.keyFile) throw tlsFault(ref, "missing 'key_file' in TLS configuration");
  if (!tc.certFile && tc.keyFile) throw tlsFault(ref, "missing 'cert_file' in TLS configuration");
  return tc;
}
