// Operator-mode config keys (`operator`, `trusted`, `resolver`, `resolver_tls`, `resolver_preload`,
// `resolver_pinned_accounts`) mapped onto Options; keys and texts follow nats-server server/opts.go. JWTs are
// only read here (files, decorated blocks, payload JSON): the server verifies their signatures at startup,
// since the config layer knows nothing of keys.
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { parseDuration } from "../util/mod.ts";
import type { ConfigMap, ConfigValue } from "./_tree.ts";
import {
  asBool,
  asInt,
  asString,
  FieldFault,
  goType,
  isMap,
  type Ref,
  refOf,
  type Report,
} from "./_values.ts";

/** An operator JWT as configured: the raw token and its (not yet verified) claims. */
export interface OperatorJwt {
  jwt: string;
  /** The decoded payload: `sub`, `iss`, `name`, `nats.signing_keys`, `nats.system_account`, … */
  claims: {
    sub?: string;
    iss?: string;
    name?: string;
    aud?: string;
    iat?: number;
    exp?: number;
    nats?: {
      "signing_keys"?: string[];
      "system_account"?: string;
      "account_server_url"?: string;
      "strict_signing_key_usage"?: boolean;
      "assert_server_version"?: string;
    };
  };
}

/** The `resolver` setting. */
export type ResolverConfig =
  | { type: "MEMORY" }
  | { type: "URL"; url: string }
  | {
    type: "FULL" | "CACHE";
    dir: string;
    allowDelete: boolean;
    hardDelete: boolean;
    /** Most JWTs kept; 0 = no limit. */
    limit: number;
    ttlMs: number;
    /** Sync interval (FULL); 0 = default one minute. */
    intervalMs: number;
    /** Fetch timeout; 0 = default. */
    timeoutMs: number;
  };

/** Options of operator mode. */
export interface OperatorOptions {
  /** `operator`: operator JWTs (from files or inline) in config order. */
  trustedOperators: OperatorJwt[];
  /** `trusted`: operator public keys; filled from the operators' keys at startup. */
  trustedKeys?: string[];
  /** `resolver`: where account JWTs come from. */
  accountResolver?: ResolverConfig;
  /** `resolver_preload`: account public key → account JWT. */
  resolverPreload: Record<string, string>;
  /** `resolver_tls`, kept raw (used only by URL resolvers, which natsdeno lacks). */
  resolverTls?: unknown;
  /** `resolver_pinned_accounts`. */
  resolverPinnedAccounts?: string[];
}

/** Where an option handler writes. */
type Target = OperatorOptions & { systemAccount: string };

const JWT_DECORATED = /\s*(?:(?:-{3,}.*-{3,}\r?\n)([\w\-.=]+)(?:\r?\n-{3,}.*-{3,}(?:\r?\n|$)))/;
const JWT_PREFIX = "eyJ";

/** The JWT of a decorated file, or the text itself (the JWT library's ParseDecoratedJWT). */
function parseDecorated(text: string): string {
  return JWT_DECORATED.exec(text)?.[1] ?? text;
}

/** Reads a JWT's payload without verifying it (the server verifies later). */
export function peekJwtPayload(token: string): Record<string, unknown> | undefined {
  const chunks = token.split(".");
  if (chunks.length !== 3) return undefined;
  try {
    const p = JSON.parse(Buffer.from(chunks[1], "base64url").toString("utf8"));
    return typeof p === "object" && p !== null && !Array.isArray(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

function claimType(p: Record<string, unknown>): string {
  if (typeof p.type === "string" && p.type !== "") return p.type;
  const n = p.nats as Record<string, unknown> | undefined;
  return typeof n?.type === "string" ? n.type : "";
}

/** Reads an operator JWT from a file path, or takes it inline when the file is missing and it looks like one. */
function readOperatorJwt(fname: string): OperatorJwt {
  let contents: string;
  try {
    contents = readFileSync(fname, "utf8");
  } catch (e) {
    if (!fname.startsWith(JWT_PREFIX)) {
      const code = (e as { code?: string }).code;
      const why = code === "ENOENT" ? "no such file or directory" : (e as Error).message;
      throw new Error(`open ${fname}: ${why}`);
    }
    contents = fname;
  }
  const jwt = parseDecorated(contents);
  const p = peekJwtPayload(jwt);
  if (p === undefined) {
    throw new Error(jwt.split(".").length !== 3 ? "expected 3 chunks" : "invalid JWT payload");
  }
  if (claimType(p) !== "operator") throw new Error("not operator claim");
  return { jwt, claims: p as OperatorJwt["claims"] };
}

/** `operator` (aliases operators, roots, root, root_operators, root_operator): file names or inline JWTs. */
export function parseOperator(o: Target, v: ConfigValue, ref: Ref | undefined, report: Report): void {
  let files: string[] = [];
  if (typeof v === "string") files = [v];
  else if (Array.isArray(v) && v.every((e) => typeof e === "string")) files = v as string[];
  else throw new FieldFault(`error parsing operators: unsupported type ${goType(v, ref?.kind)}`);
  o.trustedOperators = [];
  for (const f of files) {
    try {
      o.trustedOperators.push(readOperatorJwt(f));
    } catch (e) {
      report.error(ref, `error parsing operator JWT: ${(e as Error).message}`);
    }
  }
  if (o.trustedOperators.length === 1) {
    const op = o.trustedOperators[0].claims;
    // An explicit `resolver` wins over the operator's account server URL (nsc appends /accounts).
    const url = op.nats?.account_server_url;
    if (o.accountResolver === undefined && url) o.accountResolver = { type: "URL", url: url + "/accounts" };
    if (o.systemAccount === "") o.systemAccount = op.nats?.system_account ?? "";
  }
}

/** `trusted` / `trusted_keys`: one key or a list; each must look like a public operator nkey. */
export function parseTrusted(o: Target, v: ConfigValue, ref: Ref | undefined, report: Report): void {
  if (typeof v === "string") o.trustedKeys = [v];
  else if (Array.isArray(v)) {
    const keys: string[] = [];
    v.forEach((e, i) => {
      if (typeof e === "string") keys.push(e);
      else {
        report.error(
          refOf(v, i),
          `error parsing trusted: unsupported type in array ${goType(e, refOf(v, i)?.kind)}`,
        );
      }
    });
    o.trustedKeys = keys;
  } else {
    report.error(ref, `error parsing trusted: unsupported type ${goType(v, ref?.kind)}`);
  }
  for (const key of o.trustedKeys ?? []) {
    if (!/^O[A-Z2-7]{55}$/.test(key)) {
      report.error(ref, `trust key ${JSON.stringify(key)} required to be a valid public operator nkey`);
    }
  }
}

function goDuration(v: ConfigValue, kind: Ref["kind"]): number {
  const s = asString(v, kind);
  try {
    return parseDuration(s);
  } catch (e) {
    throw new FieldFault((e as Error).message);
  }
}

const MEM_RE = /(MEM|MEMORY)\s*/i;
const URL_RE = /(?:URL)(?:\(\s*"?([^\s"]*)"?\s*\))?\s*/i;

/** `resolver` (aliases account_resolver, accounts_resolver): MEMORY, URL("…") or a directory map. */
export function parseResolver(o: Target, v: ConfigValue, ref: Ref | undefined, report: Report): void {
  const bad = "error parsing account resolver, should be MEM or " +
    ' URL("url") or a map containing dir and type state=[FULL|CACHE])';
  if (typeof v === "string") {
    o.accountResolver = undefined;
    if (MEM_RE.test(v)) o.accountResolver = { type: "MEMORY" };
    else {
      const m = URL_RE.exec(v);
      if (m !== null && m[1] !== undefined) {
        if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(m[1])) {
          throw new FieldFault(`error parsing account resolver url ${JSON.stringify(m[1])}: missing scheme`);
        }
        o.accountResolver = { type: "URL", url: m[1] };
      }
    }
    if (o.accountResolver === undefined) throw new FieldFault(bad);
    return;
  }
  if (!isMap(v)) throw new FieldFault(`error parsing operator resolver, wrong type ${goType(v, ref?.kind)}`);
  const m = v as ConfigMap;
  const kindOf = (k: string) => refOf(m, k)?.kind;
  const dir = m.dir === undefined ? "" : asString(m.dir, kindOf("dir"));
  const type = m.type === undefined ? "" : asString(m.type, kindOf("type")).toUpperCase();
  const allowDelete = m.allow_delete === undefined ? false : asBool(m.allow_delete, kindOf("allow_delete"));
  const hardDelete = m.hard_delete === undefined ? false : asBool(m.hard_delete, kindOf("hard_delete"));
  const limit = m.limit === undefined ? 0 : asInt(m.limit, kindOf("limit"));
  const ttlMs = m.ttl === undefined ? 0 : goDuration(m.ttl, kindOf("ttl"));
  const intervalMs = m.interval === undefined ? 0 : goDuration(m.interval, kindOf("interval"));
  const timeoutMs = m.timeout === undefined ? 0 : goDuration(m.timeout, kindOf("timeout"));
  if (dir === "") throw new FieldFault("dir has no value and needs to point to a directory");
  try {
    const st = Deno.statSync(dir);
    if (!st.isDirectory || ((st.mode ?? 0o700) & 0o200) === 0) {
      throw new FieldFault("dir needs to point to an accessible directory");
    }
  } catch (e) {
    if (e instanceof FieldFault) throw e;
    // A missing directory is created when the resolver starts.
  }
  if (type === "CACHE") {
    if (intervalMs !== 0) report.error(ref, "CACHE does not accept sync");
    if (allowDelete) report.error(ref, "CACHE does not accept allow_delete");
  } else if (type === "FULL") {
    if (ttlMs !== 0) report.error(ref, "FULL does not accept ttl");
  } else {
    throw new FieldFault(bad);
  }
  if (timeoutMs < 0 || (m.timeout !== undefined && timeoutMs === 0)) {
    throw new FieldFault(`Fetch timeout ${asString(m.timeout)} is too smal`);
  }
  o.accountResolver = { type, dir, allowDelete, hardDelete, limit, ttlMs, intervalMs, timeoutMs };
}

/** `resolver_preload`: a map of account public key → account JWT. */
export function parsePreload(o: Target, v: ConfigValue, _ref: Ref | undefined, report: Report): void {
  if (!isMap(v)) throw new FieldFault("preload should be a map of account_public_key:account_jwt");
  o.resolverPreload = {};
  for (const [key, val] of Object.entries(v)) {
    const r = refOf(v, key);
    if (typeof val !== "string") {
      report.error(r, "preload map value should be a string JWT");
      continue;
    }
    const p = peekJwtPayload(val);
    if (p === undefined || claimType(p) !== "account") {
      report.error(r, "invalid account JWT");
      continue;
    }
    o.resolverPreload[key] = val;
  }
}

/** `resolver_pinned_accounts`: one key or a list. */
export function parsePinned(o: Target, v: ConfigValue, ref: Ref | undefined, report: Report): void {
  if (typeof v === "string") o.resolverPinnedAccounts = [v];
  else if (Array.isArray(v)) {
    o.resolverPinnedAccounts = [];
    v.forEach((e, i) => {
      if (typeof e === "string") o.resolverPinnedAccounts!.push(e);
      else {
        report.error(
          refOf(v, i),
          `error parsing resolver_pinned_accounts: unsupported type in array ${goType(e, refOf(v, i)?.kind)}`,
        );
      }
    });
  } else {
    throw new FieldFault(`error parsing resolver_pinned_accounts: unsupported type ${goType(v, ref?.kind)}`);
  }
}
