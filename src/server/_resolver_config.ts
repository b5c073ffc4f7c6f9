// Operator mode's types, error texts and option checks: JWT account and user state, the `$SYS` claim subjects,
// validateTrustedOperators and the resolver the options configure, and small helpers of the other
// _resolver/_operator files. Behaviour follows nats-server server/jwt.go (validateTrustedOperators) and
// server/server.go (configureResolver).

import {
  type AccountClaims,
  type AccountResolver,
  decodeOperatorClaims,
  decodePublicNkey,
  DirAccResolver,
  MemAccResolver,
  NKEY_PREFIX,
  type OperatorClaims,
  permissionsFromJwt,
  serverVersionError,
  type UserClaims,
  type UserScope,
} from "../auth/mod.ts";
import { VERSION } from "../protocol/mod.ts";
import type { Options } from "../config/mod.ts";
import { type TimerEntry } from "../util/mod.ts";
import { Account } from "./account.ts";

/** nats-server error texts used here. */
export const ERR_MISSING_ACCOUNT = "account missing";
export const ERR_ACCOUNT_VALIDATION = "account validation failed";
export const ERR_ACCOUNT_EXPIRED = "account expired";
export const ERR_TOO_MANY_ACCOUNT_CONNECTIONS = "maximum account active connections exceeded";

/** `$SYS` subjects of the account resolver protocol. */
export const CLAIMS_SUBJECTS = {
  updateOld: "$SYS.ACCOUNT.*.CLAIMS.UPDATE",
  updateNew: "$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE",
  update: "$SYS.REQ.CLAIMS.UPDATE",
  lookup: "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP",
  pack: "$SYS.REQ.CLAIMS.PACK",
  list: "$SYS.REQ.CLAIMS.LIST",
  delete: "$SYS.REQ.CLAIMS.DELETE",
} as const;

/** What an account built from a JWT carries beyond the Account itself. */
export interface JwtAccount {
  acc: Account;
  claims: AccountClaims;
  jwt: string;
  /** Who signed the account JWT (the operator or one of its signing keys). */
  issuer: string;
  /** Keys that may sign users: the account's own (unless strict) and its signing keys, with scopes. */
  signingKeys: Map<string, UserScope | null>;
  expired: boolean;
  expTimer: TimerEntry | undefined;
  /** Limits from the JWT; -1 unlimited (0 is a limit of zero, as nats-server reads it). */
  mconns: number;
  msubs: number;
  mpay: number;
  disallowBearer: boolean;
  revocations: Record<string, number> | undefined;
  defaultPerms: ReturnType<typeof permissionsFromJwt>;
  /** When the claims were last applied (ms), for nats-server's one-second update throttle. */
  updated: number;
  /** Some import of the claims could not be made; retried when its exporter is updated. */
  incomplete: boolean;
}

/** Per-connection state of a JWT user. */
export interface JwtUserState {
  claims: UserClaims;
  /** The user's payload and subscription limits (-1 unlimited); the account's apply on top. */
  mpay: number;
  msubs: number;
  /** The signing key when the user was signed by one (not the account key itself). */
  signingKey: string | undefined;
  expTimer: TimerEntry | undefined;
}

export function limitOf(v: number | undefined): number {
  return typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : 0;
}

/** min of two limits where -1 is unlimited. */
export function minLimit(a: number, b: number): number {
  if (a === -1) return b;
  if (b === -1) return a;
  return Math.min(a, b);
}

export function isKey(k: string | undefined, prefix: number): boolean {
  return k !== undefined && decodePublicNkey(k)?.prefix === prefix;
}

/**
 * Checks operator-mode options as nats-server's validateTrustedOperators, and fills `opts.trustedKeys` from
 * the operators' keys as it does. Throws Error with nats-server's text.
 */
export function validateTrustedOperators(o: Options): OperatorClaims[] {
  if (o.trustedOperators.length === 0) return [];
  const ops: OperatorClaims[] = [];
  for (const op of o.trustedOperators) {
    try {
      ops.push(decodeOperatorClaims(op.jwt));
    } catch (e) {
      throw new Error(`error parsing operator JWT: ${(e as Error).message}`);
    }
  }
  if (o.accountResolver === undefined) {
    throw new Error("operators require an account resolver to be configured");
  }
  if (o.accounts.length > 0) throw new Error("operators do not allow Accounts to be configured directly");
  if (o.users.length > 0 || o.nkeys.length > 0) {
    throw new Error("operators do not allow users to be configured directly");
  }
  if ((o.trustedKeys?.length ?? 0) > 0) {
    throw new Error("conflicting options for 'TrustedKeys' and 'TrustedOperators'");
  }
  if (o.authCallout !== undefined) {
    throw new Error("operators do not allow authorization callouts to be configured directly");
  }
  if (o.systemAccount !== "") {
    const withSys = ops.filter((op) => (op.nats.system_account ?? "") !== "");
    if (withSys.length > 0 && !ops.some((op) => op.nats.system_account === o.systemAccount)) {
      throw new Error("system_account in config and operator JWT must be identical");
    }
  } else if (
    !ops[0].nats.system_account && o.accountResolver.type !== "MEMORY" && o.accountResolver.type !== "URL"
  ) {
    throw new Error(
      "using nats based account resolver - the system account needs to be specified in configuration or the operator jwt",
    );
  }
  const [sMaj, sMin, sUpd] = VERSION.split("-")[0].split(".").map(Number);
  for (const op of ops) {
    const v = op.nats.assert_server_version ?? "";
    const err = serverVersionError(v);
    if (err !== undefined) {
      throw new Error(`operator ${op.sub} expects version ${v} got error instead: ${err}`);
    }
    if (v === "") continue;
    const [maj, min, upd] = v.split(".").map(Number);
    if (maj > sMaj) {
      throw new Error(`operator ${op.sub} expected major version ${maj} > server major version ${sMaj}`);
    }
    if (maj < sMaj) continue;
    if (min > sMin) {
      throw new Error(`operator ${op.sub} expected minor version ${min} > server minor version ${sMin}`);
    }
    if (min < sMin) continue;
    if (upd > sUpd) {
      throw new Error(`operator ${op.sub} expected update version ${upd} > server update version ${sUpd}`);
    }
  }
  const keys: string[] = [];
  for (const op of ops) {
    if (!op.nats.strict_signing_key_usage) keys.push(op.sub ?? "");
    keys.push(...(op.nats.signing_keys ?? []));
  }
  o.trustedKeys = keys;
  for (const k of keys) {
    if (!isKey(k, NKEY_PREFIX.operator)) {
      throw new Error(`trusted Keys ${JSON.stringify(k)} are required to be a valid public operator nkey`);
    }
  }
  for (const k of o.resolverPinnedAccounts ?? []) {
    if (!isKey(k, NKEY_PREFIX.account)) {
      throw new Error(`pinned account key ${JSON.stringify(k)} is not a valid public account nkey`);
    }
  }
  return ops;
}

/** Builds the configured resolver; throws for kinds natsdeno does not implement. */
export function buildResolver(o: Options): AccountResolver | undefined {
  const r = o.accountResolver;
  if (r === undefined) return undefined;
  switch (r.type) {
    case "MEMORY":
      return new MemAccResolver();
    case "FULL":
      return new DirAccResolver({
        dir: r.dir,
        limit: r.limit,
        syncIntervalMs: r.intervalMs,
        allowDelete: r.allowDelete,
        hardDelete: r.hardDelete,
        fetchTimeoutMs: r.timeoutMs || undefined,
      });
    case "CACHE":
      throw new Error("account resolver of type CACHE is not supported by natsdeno yet (use type: full)");
    case "URL":
      throw new Error(
        `account resolver URL(${
          JSON.stringify(r.url)
        }) is not supported by natsdeno yet (use MEMORY or type: full)`,
      );
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** Go's time.Time %v in local time, close enough for the startup banner ("2018-12-02 14:34:35 +0000 UTC"). */
export function goTime(unixS: number): string {
  const d = new Date(unixS * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const oh = p(Math.floor(Math.abs(off) / 60));
  const om = p(Math.abs(off) % 60);
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }:` +
    `${p(d.getSeconds())} ${sign}${oh}${om}${off === 0 ? " UTC" : ""}`;
}

/**
 * The JetStream limits of account claims in the account config's `jetstream {}` shape (JetStream reads it from
 * Account.jetstreamConfig); undefined when the claims leave JetStream off (no memory or disk storage).
 */
export function jetStreamFromClaims(
  lim: AccountClaims["nats"]["limits"] & object,
): Record<string, unknown> | undefined {
  const mem = lim["mem_storage"] ?? 0;
  const disk = lim["disk_storage"] ?? 0;
  if (mem === 0 && disk === 0) {
    // Tiered limits alone (no default tier) also turn JetStream on; each tier in the same shape.
    const tiers = Object.entries(lim["tiered_limits"] ?? {});
    if (tiers.length === 0) return undefined;
    const out: Record<string, unknown> = {};
    for (const [name, t] of tiers) {
      out[name] = jetStreamFromClaims(t as AccountClaims["nats"]["limits"] & object) ?? { mem: 0, disk: 0 };
    }
    return { tiers: out };
  }
  const orUnlimited = (n: number | undefined) => (n ?? 0) > 0 ? n : -1;
  return {
    mem,
    disk,
    streams: lim.streams ?? 0,
    consumers: lim.consumer ?? 0,
    "max_ack_pending": orUnlimited(lim["max_ack_pending"]),
    "mem_max_stream_bytes": orUnlimited(lim["mem_max_stream_bytes"]),
    "disk_max_stream_bytes": orUnlimited(lim["disk_max_stream_bytes"]),
    "max_bytes_required": lim["max_bytes_required"] ?? false,
  };
}
