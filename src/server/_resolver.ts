// Operator mode (decentralized JWT auth): trusted operator keys, the account resolver, accounts built from
// account JWTs, user JWT authentication, JWT expiry and revocation, and the `$SYS` claim services. Behaviour
// follows nats-server server/jwt.go (validateTrustedOperators), server/server.go (processTrustedKeys,
// configureResolver, lookupAccount, fetchAccount, updateAccountWithClaimJWT), server/accounts.go
// (updateAccountClaimsWithRefresh, DirAccResolver.Start, respondToUpdate), server/auth.go (the JWT branch of
// processClientOrLeafAuthentication) and server/events.go (accountClaimUpdate).
import {
  type AccountClaims,
  type AccountResolver,
  accountSigningKeys,
  applyUserTemplate,
  ClientPermissions,
  decodeAccountClaims,
  decodeGeneric,
  decodeOperatorClaims,
  decodePublicNkey,
  decodeSignature,
  decodeUserClaims,
  DirAccResolver,
  hasEmptyPermissions,
  isRevoked,
  MemAccResolver,
  NKEY_PREFIX,
  type OperatorClaims,
  permissionsFromJwt,
  serverVersionError,
  type UserClaims,
  type UserScope,
  validateClaims,
  validateSrc,
  validateTimes,
  validationBlocking,
  verifyNkey,
} from "../auth/mod.ts";
import type { AuthResult } from "../auth/mod.ts";
import type { ConnectOptions } from "../protocol/mod.ts";
import { VERSION } from "../protocol/mod.ts";
import type { Options } from "../config/mod.ts";
import { type TimerEntry } from "../util/mod.ts";
import { Account } from "./account.ts";
import type { Client } from "./client.ts";
import { ClosedState } from "./closed_state.ts";
import type { Server } from "./server.ts";
import { applyExportsImports } from "./_resolver_imports.ts";
import { AUTH_CALLOUT_SUBJECT, AuthCallout } from "./_auth_callout.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** nats-server error texts used here. */
const ERR_MISSING_ACCOUNT = "account missing";
const ERR_ACCOUNT_VALIDATION = "account validation failed";
const ERR_ACCOUNT_EXPIRED = "account expired";
const ERR_TOO_MANY_ACCOUNT_CONNECTIONS = "maximum account active connections exceeded";

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

function limitOf(v: number | undefined): number {
  return typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : 0;
}

/** min of two limits where -1 is unlimited. */
function minLimit(a: number, b: number): number {
  if (a === -1) return b;
  if (b === -1) return a;
  return Math.min(a, b);
}

function isKey(k: string | undefined, prefix: number): boolean {
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
function buildResolver(o: Options): AccountResolver | undefined {
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

/** Operator mode of one server: trust, resolver, JWT accounts and users. */
export class OperatorMode {
  readonly server: Server;
  readonly operators: OperatorClaims[];
  readonly trustedKeys: string[];
  /** Operator signing keys that may only sign accounts because the operator asks for strict usage. */
  readonly strictSigningKeys = new Set<string>();
  readonly pinned: Set<string> | undefined;
  resolver: AccountResolver | undefined;
  /** JWT state of accounts built from claims, by account name (public key). */
  readonly jwtAccounts = new Map<string, JwtAccount>();
  /** Exporting accounts that some account failed to import from (nats-server incompleteAccExporterMap). */
  readonly incompleteExporters = new Set<string>();
  #sysClient: Client | undefined;
  /** The authorization callout of accounts whose JWT enables external authorization. */
  readonly callout: AuthCallout;
  #seq = 0;

  /** Validates the options and builds the resolver (nats-server NewServer's part); throws Error. */
  constructor(server: Server, o: Options) {
    this.server = server;
    this.operators = validateTrustedOperators(o);
    for (const k of o.trustedKeys ?? []) {
      if (!isKey(k, NKEY_PREFIX.operator)) throw new Error("Error processing trusted operator keys");
    }
    this.trustedKeys = [...(o.trustedKeys ?? [])];
    for (const op of this.operators) {
      if (op.nats.strict_signing_key_usage) {
        for (const k of op.nats.signing_keys ?? []) this.strictSigningKeys.add(k);
      }
    }
    this.pinned = o.resolverPinnedAccounts && o.resolverPinnedAccounts.length > 0
      ? new Set([...o.resolverPinnedAccounts, ...(o.systemAccount ? [o.systemAccount] : [])])
      : undefined;
    this.resolver = buildResolver(o);
    this.callout = new AuthCallout(server, undefined);
    this.#preload(o);
  }

  /** Stores `resolver_preload` JWTs (nats-server configureResolver). */
  #preload(o: Options): void {
    const entries = Object.entries(o.resolverPreload);
    if (entries.length === 0 || this.resolver === undefined) return;
    if (this.resolver.readOnly) {
      throw new Error("resolver preloads only available for writeable resolver types MEM/DIR/CACHE_DIR");
    }
    for (const [k, v] of entries) {
      try {
        decodeAccountClaims(v);
      } catch (e) {
        throw new Error(`preload account error for ${JSON.stringify(k)}: ${(e as Error).message}`);
      }
      this.resolver.store(k, v);
    }
  }

  /** Startup logs and services: operator banner, preload checks, system account, `$SYS` claim handlers. */
  start(): void {
    const s = this.server;
    const o = s.opts;
    const log = s.log;
    if (this.operators.length > 0) log.notice("Trusted Operators");
    for (const op of this.operators) {
      log.notice(`  System  : ${JSON.stringify(op.aud ?? "")}`);
      log.notice(`  Operator: ${JSON.stringify(op.name ?? "")}`);
      log.notice(`  Issued  : ${goTime(op.iat ?? 0)}`);
      log.notice(`  Expires : ${op.exp ? goTime(op.exp) : "Never"}`);
    }
    if (this.operators.length > 0 && o.systemAccount === "") {
      log.warn("Trusted Operators should utilize a System Account");
    }
    if (this.operators.length > 0) this.#checkPreloads();
    if (o.systemAccount !== "") {
      const err = this.setSystemAccount(o.systemAccount);
      if (err !== undefined) throw new Error(`Can't set system account: ${err}`);
    }
    this.#sysClient ??= s.systemClient();
    const r = this.resolver;
    if (r instanceof DirAccResolver) this.#startDirResolver(r);
    else if (r !== undefined && this.#sysClient !== undefined) {
      for (const subj of [CLAIMS_SUBJECTS.updateOld, CLAIMS_SUBJECTS.updateNew]) {
        this.#sysClient.subscribeInternal(subj, (_s, _c, subject, reply, _h, msg) => {
          this.#accountClaimUpdate(subject, reply, decoder.decode(msg));
        });
      }
    }
  }

  /** Logs validation issues of preloaded account JWTs (nats-server checkResolvePreloads). */
  #checkPreloads(): void {
    const log = this.server.log;
    for (const [k, v] of Object.entries(this.server.opts.resolverPreload)) {
      let claims: AccountClaims;
      try {
        claims = decodeAccountClaims(v);
      } catch {
        log.error(`Preloaded account [${k}] not valid`);
        continue;
      }
      const vr = validateClaims({ type: "account", version: 2, claims });
      if (validationBlocking(vr, true)) {
        log.warn(`Account [${k}] has validation issues:`);
        for (const i of vr.issues) log.warn(`  - ${i.description}`);
      }
    }
  }

  /** The system account in operator mode: built from its JWT; returns an error text on failure. */
  setSystemAccount(name: string): string | undefined {
    let acc = this.lookupAccount(name);
    if (typeof acc === "string") {
      // A resolver that fetches from elsewhere may not have the system account's JWT yet: start with a
      // bootstrapping account of that name (users it signs can connect) until the JWT arrives.
      const r = this.resolver;
      if (this.operators.length !== 1 || name === "$SYS" || r === undefined || r instanceof MemAccResolver) {
        return acc;
      }
      acc = new Account(name, { cache: !this.server.opts.disableSublistCache });
      acc.server = this.server;
      this.server.accounts.set(name, acc);
      const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, conn: -1, leaf: -1 };
      this.#apply(
        acc,
        { sub: name, iss: this.trustedKeys[0], nats: { limits: unlimited } } as AccountClaims,
        "",
      );
      this.server.log.notice("Using bootstrapping system account");
    }
    const ja = this.jwtAccounts.get(acc.name);
    if (ja?.expired) return ERR_ACCOUNT_EXPIRED;
    if (ja !== undefined && !this.isTrustedIssuer(ja.issuer)) return ERR_ACCOUNT_VALIDATION;
    if (this.server.systemAccount !== undefined) return "account exists";
    this.server.systemAccount = acc;
    this.#sysClient = this.server.systemClient();
    return undefined;
  }

  /** True when `issuer` is a trusted operator key (nats-server isTrustedIssuer). */
  isTrustedIssuer(issuer: string): boolean {
    return this.trustedKeys.includes(issuer);
  }

  // ---- Accounts ---------------------------------------------------------------------------------------

  /** Decodes, checks trust and validates an account JWT (nats-server verifyAccountClaims). */
  verifyAccountClaims(jwt: string): AccountClaims | string {
    let claims: AccountClaims;
    try {
      claims = decodeAccountClaims(jwt);
    } catch (e) {
      return (e as Error).message;
    }
    if (!this.isTrustedIssuer(claims.iss ?? "")) return ERR_ACCOUNT_VALIDATION;
    if (validationBlocking(validateClaims({ type: "account", version: 2, claims }), true)) {
      return ERR_ACCOUNT_VALIDATION;
    }
    return claims;
  }

  #fetchRaw(name: string): string | { err: string } {
    const r = this.resolver;
    if (r === undefined) return { err: "account resolver missing" };
    if (!isKey(name, NKEY_PREFIX.account)) {
      this.server.log.warn("Account fetch failed: will only fetch valid account keys");
      return { err: "will only fetch valid account keys" };
    }
    const t = performance.now();
    let jwt: string;
    try {
      jwt = r.fetch(name);
    } catch (e) {
      this.server.log.warn(`Account fetch failed: ${(e as Error).message}`);
      return { err: (e as Error).message };
    }
    const ms = performance.now() - t;
    if (ms > 1000) this.server.log.warn(`Account [${name}] fetch took ${(ms / 1000).toFixed(3)}s`);
    return jwt;
  }

  /**
   * The account `name`: registered already (refreshed from the resolver when expired), or fetched, verified
   * and built from its JWT. Returns nats-server's error text when there is none.
   */
  lookupAccount(name: string): Account | string {
    const s = this.server;
    const existing = s.accounts.get(name);
    if (existing !== undefined) {
      const ja = this.jwtAccounts.get(name);
      if (ja?.expired) {
        s.log.debug(`Requested account [${name}] has expired`);
        if (this.resolver === undefined || this.#refresh(ja) !== undefined) return ERR_ACCOUNT_EXPIRED;
        if (this.jwtAccounts.get(name)?.expired !== false) return ERR_ACCOUNT_EXPIRED;
      }
      return existing;
    }
    const raw = this.#fetchRaw(name);
    if (typeof raw !== "string") return raw.err;
    const claims = this.verifyAccountClaims(raw);
    if (typeof claims === "string") return claims;
    if (claims.sub !== name) return ERR_ACCOUNT_VALIDATION;
    const acc = new Account(name, { cache: !s.opts.disableSublistCache });
    acc.server = s;
    s.accounts.set(name, acc);
    this.#apply(acc, claims, raw);
    return acc;
  }

  /** Re-fetches an expired account's JWT (nats-server updateAccount); an error text when that fails. */
  #refresh(ja: JwtAccount): string | undefined {
    if (Date.now() - ja.updated < 1000) {
      this.server.log.debug(`Requested account update for [${ja.acc.name}] ignored, too soon`);
      return "account resolver update too soon";
    }
    const raw = this.#fetchRaw(ja.acc.name);
    if (typeof raw !== "string") return raw.err;
    return this.updateAccountWithClaimJwt(ja.acc, raw);
  }

  /** Applies a new account JWT to a registered account (nats-server updateAccountWithClaimJWT). */
  updateAccountWithClaimJwt(acc: Account, jwt: string): string | undefined {
    const ja = this.jwtAccounts.get(acc.name);
    if (ja !== undefined && ja.jwt === jwt) {
      this.server.log.debug(`Requested account update for [${acc.name}], same claims detected`);
      return undefined;
    }
    const claims = this.verifyAccountClaims(jwt);
    if (typeof claims === "string") return claims;
    if (claims.sub !== acc.name) return ERR_ACCOUNT_VALIDATION;
    this.#apply(acc, claims, jwt);
    return undefined;
  }

  /**
   * Applies account claims (nats-server updateAccountClaimsWithRefresh): expiry, signing keys, limits,
   * revocations, default permissions; then re-checks the account's clients (connection limit, revoked users,
   * bearer tokens, removed signing keys).
   */
  #apply(acc: Account, claims: AccountClaims, jwt: string, refreshImporters = true): void {
    const s = this.server;
    s.log.debug(`Updating account claims: ${acc.name}/${claims.name ?? ""}`);
    const old = this.jwtAccounts.get(acc.name);
    if (old !== undefined) s.timers.cancel(old.expTimer);
    let signingKeys: Map<string, UserScope | null>;
    try {
      signingKeys = accountSigningKeys(claims);
    } catch {
      signingKeys = new Map();
    }
    const issuer = old?.issuer || (claims.iss ?? "");
    if (!this.strictSigningKeys.has(issuer)) signingKeys.set(acc.name, null);
    const lim = claims.nats.limits ?? {};
    const ja: JwtAccount = {
      acc,
      claims,
      jwt,
      issuer,
      signingKeys,
      expired: false,
      expTimer: undefined,
      mconns: limitOf(lim.conn),
      msubs: limitOf(lim.subs),
      mpay: limitOf(lim.payload),
      disallowBearer: !!lim.disallow_bearer,
      revocations: claims.nats.revocations && Object.keys(claims.nats.revocations).length > 0
        ? { ...claims.nats.revocations }
        : undefined,
      defaultPerms: permissionsFromJwt(claims.nats.default_permissions),
      updated: Date.now(),
      incomplete: false,
    };
    if (claims.exp) {
      const ms = claims.exp * 1000 - Date.now();
      if (claims.exp <= Math.floor(Date.now() / 1000)) ja.expired = true;
      else ja.expTimer = s.timers.after(ms, () => this.#accountExpired(ja));
    }
    acc.nkey = acc.name;
    acc.maxConnections = ja.mconns;
    acc.maxSubscriptions = ja.msubs;
    acc.maxPayload = ja.mpay;
    acc.maxLeafnodes = limitOf(lim.leaf);
    acc.defaultPermissions = ja.defaultPerms;
    this.jwtAccounts.set(acc.name, ja);
    // Signing keys that disappeared or changed scope evict the users they signed.
    const changedKeys = new Set<string>();
    if (old !== undefined) {
      for (const [k, scope] of old.signingKeys) {
        const now = signingKeys.get(k);
        if (now === undefined || JSON.stringify(now) !== JSON.stringify(scope)) changedKeys.add(k);
      }
    }
    const signersChanged = old === undefined || changedKeys.size > 0 ||
      [...signingKeys.keys()].some((k) => !old.signingKeys.has(k));
    ja.incomplete = applyExportsImports(this, acc, claims, signersChanged);
    acc.jetstreamConfig = jetStreamFromClaims(lim);
    for (const f of s.onAccountRebuilt) f(acc);
    const clients = [...acc.clients].filter((c) => c.kind === "Client");
    if (ja.mconns !== -1 && clients.length > ja.mconns) {
      clients.sort((a, b) => b.start.getTime() - a.start.getTime());
    }
    clients.forEach((c, i) => {
      if (ja.mconns !== -1 && i >= ja.mconns) {
        this.#maxAccountConnExceeded(c);
        return;
      }
      this.applyLimits(c);
      const ju = c.jwtUser;
      if (ju === undefined) return;
      if (ju.claims.nats.bearer_token && ja.disallowBearer) {
        s.log.debug(`${c} - Bearer User JWT not allowed`);
        c.authViolation();
        return;
      }
      if (isRevoked(ja.revocations, ju.claims.sub ?? "", ju.claims.iat ?? 0)) {
        c.sendErr("User Authentication Revoked");
        s.log.debug(`${c} - User Authentication Revoked`);
        c.flush();
        c.close(ClosedState.Revocation);
        return;
      }
      const sk = ju.signingKey;
      if (sk !== undefined && (changedKeys.has(sk) || !signingKeys.has(sk))) {
        c.close(ClosedState.AuthenticationViolation);
      }
    });
    // Accounts whose imports from this one failed get another try with their current claims.
    if (refreshImporters && this.incompleteExporters.delete(acc.name)) {
      for (const other of [...this.jwtAccounts.values()]) {
        if (!other.incomplete || other.acc === acc) continue;
        const c2 = this.verifyAccountClaims(other.jwt);
        if (typeof c2 === "string") continue;
        this.#apply(other.acc, c2, other.jwt, false);
        if (this.incompleteExporters.delete(acc.name)) {
          s.log.error(`Account ${other.acc.name} has issues importing account ${acc.name}`);
        }
      }
    }
  }

  #accountExpired(ja: JwtAccount): void {
    ja.expTimer = undefined;
    ja.expired = true;
    for (const c of [...ja.acc.clients]) {
      if (c.kind !== "Client") continue;
      c.sendErr("Account Authentication Expired");
      this.server.log.debug(`${c} - Account Authentication Expired`);
      c.flush();
      c.close(ClosedState.AuthenticationExpired);
    }
  }

  #maxAccountConnExceeded(c: Client): void {
    c.sendErr(ERR_TOO_MANY_ACCOUNT_CONNECTIONS);
    this.server.log.error(`${c} - ${ERR_TOO_MANY_ACCOUNT_CONNECTIONS}`);
    c.flush();
    c.close(ClosedState.MaxAccountConnectionsExceeded);
  }

  // ---- Users ------------------------------------------------------------------------------------------

  /**
   * Authenticates a CONNECT in operator mode (the JWT branch of processClientOrLeafAuthentication). Returns
   * the user, or undefined for "Authorization Violation"; the reasons go to the debug log as nats-server's.
   */
  check(c: Client, o: ConnectOptions): AuthResult | undefined | Promise<AuthResult | undefined> {
    const s = this.server;
    const dbg = (m: string) => s.log.debug(`${c} - ${m}`);
    if (!o.jwt) {
      dbg("Authentication requires a user JWT");
      return undefined;
    }
    let uc: UserClaims;
    try {
      uc = decodeUserClaims(o.jwt);
    } catch (e) {
      dbg(`User JWT not valid: ${(e as Error).message}`);
      return undefined;
    }
    const vr = validateClaims({ type: "user", version: 2, claims: uc });
    if (validationBlocking(vr, true)) {
      dbg(`User JWT no longer valid: ${vr.issues.map((i) => i.description).join(", ")}`);
      return undefined;
    }
    const types = uc.nats.allowed_connection_types ?? [];
    if (types.length > 0) {
      const known = types.map((t) => t.toUpperCase()).filter((t) =>
        ["STANDARD", "WEBSOCKET", "LEAFNODE", "LEAFNODE_WS", "MQTT", "MQTT_WS"].includes(t)
      );
      if (known.length < types.length) {
        dbg(
          `invalid connection types ${JSON.stringify(types.filter((t) => !known.includes(t.toUpperCase())))}`,
        );
      }
      if (known.length === 0 || !known.includes(c.connectionType)) {
        dbg("Connection type not allowed");
        return undefined;
      }
    }
    const issuer = uc.nats.issuer_account || (uc.iss ?? "");
    if (this.pinned !== undefined && !this.pinned.has(issuer)) {
      dbg(`Account ${issuer} not listed as operator pinned account`);
      return undefined;
    }
    const acc = this.lookupAccount(issuer);
    if (typeof acc === "string") {
      dbg(`Account JWT lookup error: ${acc}`);
      return undefined;
    }
    const ja = this.jwtAccounts.get(acc.name);
    if (ja === undefined || !this.isTrustedIssuer(ja.issuer)) {
      dbg("Account JWT not signed by trusted operator");
      return undefined;
    }
    const scoped = this.userLimits(ja, uc);
    if (typeof scoped === "string") {
      dbg(scoped);
      return undefined;
    }
    const upl = scoped;
    if (ja.expired) {
      dbg("Account JWT has expired");
      return undefined;
    }
    const bearer = !!uc.nats.bearer_token;
    if (bearer && ja.disallowBearer) {
      dbg("Account does not allow bearer token");
      return undefined;
    }
    if (!bearer) {
      if (!o.sig) {
        dbg("Signature missing");
        return undefined;
      }
      const sig = decodeSignature(o.sig);
      if (sig === undefined) {
        dbg("Signature not valid base64");
        return undefined;
      }
      if (!isKey(uc.sub, NKEY_PREFIX.user) && decodePublicNkey(uc.sub ?? "") === undefined) {
        dbg("User nkey not valid: invalid public key");
        return undefined;
      }
      if (!verifyNkey(uc.sub ?? "", encoder.encode(c.nonce ?? ""), sig)) {
        dbg("Signature not verified");
        return undefined;
      }
    }
    if (isRevoked(ja.revocations, uc.sub ?? "", uc.iat ?? 0)) {
      dbg("User authentication revoked");
      return undefined;
    }
    if (!validateSrc(upl.src, c.host)) {
      s.log.error(`${c} - Bad src Ip ${c.host}`);
      return undefined;
    }
    const times = validateTimes(upl);
    if (!times.allowed) {
      s.log.error(`${c} - Outside connect times`);
      return undefined;
    }
    let perms = permissionsFromJwt(upl) ?? ja.defaultPerms;
    const state: JwtUserState = {
      claims: { ...uc, nats: upl },
      signingKey: uc.nats.issuer_account ? uc.iss : undefined,
      expTimer: undefined,
      mpay: limitOf(upl.payload),
      msubs: limitOf(upl.subs),
    };
    c.jwtUser = state;
    const exp = uc.exp ? Math.max(0, uc.exp * 1000 - Date.now()) : 0;
    const until = times.validForMs > 0 && (exp === 0 || times.validForMs < exp) ? times.validForMs : exp;
    if (uc.exp || times.validForMs > 0) {
      state.expTimer = s.timers.after(until, () => this.#userExpired(c));
    }
    dbg(
      `Authenticated JWT: Client ${JSON.stringify(uc.sub)} (claim-name: ${JSON.stringify(uc.name ?? "")}, ` +
        `claim-tags: ${JSON.stringify(uc.nats.tags ?? [])}) signed with ${
          JSON.stringify(uc.iss)
        } by Account ` +
        `${JSON.stringify(issuer)} (claim-name: ${JSON.stringify(ja.claims.name ?? "")}, claim-tags: ` +
        `${JSON.stringify(ja.claims.nats.tags ?? [])}) signed with ${JSON.stringify(ja.issuer)}`,
    );
    const ext = ja.claims.nats.authorization;
    const calloutUsers = ext?.auth_users ?? [];
    if (calloutUsers.length > 0 && calloutUsers.includes(uc.sub ?? "")) {
      // The callout service's own users may not send authorization requests in their account.
      perms = { ...(perms ?? {}), publish: { ...(perms?.publish ?? {}) } };
      perms.publish!.deny = [...(perms.publish!.deny ?? []), AUTH_CALLOUT_SUBJECT];
    }
    const r: AuthResult = {
      user: uc.sub ?? "",
      account: acc.name,
      permissions: perms === undefined ? undefined : ClientPermissions.compile(perms).forConnection(),
      nkey: uc.sub,
      source: perms,
    };
    // An account with external authorization sends every user but its auth_users to its callout service.
    if (calloutUsers.length > 0 && !calloutUsers.includes(uc.sub ?? "")) {
      s.timers.cancel(state.expTimer);
      c.jwtUser = undefined;
      return this.callout.check(c, o, { acc, ja });
    }
    return r;
  }

  /** True when `ja`'s callout may place users in account `pub` (`allowed_accounts`, `*` for any). */
  calloutAllows(ja: JwtAccount, pub: string): boolean {
    const allowed = ja.claims.nats.authorization?.allowed_accounts ?? [];
    return allowed.includes("*") || allowed.includes(pub);
  }

  /**
   * The permissions and limits a user JWT gets in `ja`: its own, or the template of the scoped signing key
   * that issued it; the reason (nats-server's debug text) when the issuer is unknown or the scope refuses it.
   */
  userLimits(ja: JwtAccount, uc: UserClaims): UserClaims["nats"] | string {
    if (!ja.signingKeys.has(uc.iss ?? "")) return "User JWT issuer is not known";
    const scope = ja.signingKeys.get(uc.iss ?? "");
    if (!scope) return uc.nats;
    if (!hasEmptyPermissions(uc.nats)) {
      return "User JWT is not valid: scoped users require no permissions or limits set";
    }
    try {
      return {
        ...uc.nats,
        ...applyUserTemplate(scope.template ?? {}, uc, {
          nameTag: ja.claims.name ?? "",
          tags: ja.claims.nats.tags ?? [],
        }),
      };
    } catch {
      return "User JWT generated invalid permissions";
    }
  }

  /**
   * Logs, as nats-server's applyAccountLimits does, when the server's max_payload or max_subscriptions
   * lowers a limit the user or account JWT set. The limits themselves apply in Client.maxPayload() and
   * maxSubscriptions().
   */
  applyLimits(c: Client): void {
    const ja = this.jwtAccounts.get(c.account.name);
    const u = c.jwtUser;
    let mpay = u === undefined ? -1 : u.mpay;
    let msubs = u === undefined ? -1 : u.msubs;
    if (ja !== undefined) {
      mpay = minLimit(mpay, ja.mpay);
      msubs = minLimit(msubs, ja.msubs);
    }
    const o = this.server.opts;
    if (mpay !== -1 && o.maxPayload > 0 && o.maxPayload < mpay) {
      this.server.log.error(
        `${c} - Max Payload set to ${o.maxPayload} from server overrides account or user config`,
      );
    }
    if (msubs !== -1 && o.maxSubs > 0 && o.maxSubs < msubs) {
      this.server.log.error(
        `${c} - Max Subscriptions set to ${o.maxSubs} from server overrides account or user config`,
      );
    }
  }

  #userExpired(c: Client): void {
    if (c.jwtUser !== undefined) c.jwtUser.expTimer = undefined;
    if (c.closed) return;
    c.sendErr("User Authentication Expired");
    this.server.log.debug(`${c} - User Authentication Expired`);
    c.flush();
    c.close(ClosedState.AuthenticationExpired);
  }

  /** Cancels a closing client's expiry timer. */
  clientClosed(c: Client): void {
    this.server.timers.cancel(c.jwtUser?.expTimer);
  }

  // ---- $SYS claim services ----------------------------------------------------------------------------

  #serverInfo(): Record<string, unknown> {
    const s = this.server;
    return {
      name: s.name,
      host: s.opts.host,
      id: s.id,
      ver: VERSION,
      seq: ++this.#seq,
      jetstream: false,
      time: new Date().toISOString(),
    };
  }

  #send(subject: string, payload: string | Uint8Array): void {
    const c = this.#sysClient;
    if (c === undefined || c.closed) return;
    c.publishInternal(
      subject,
      undefined,
      undefined,
      typeof payload === "string" ? encoder.encode(payload) : payload,
    );
  }

  /** Logs and answers a claims request as nats-server's respondToUpdate. */
  #respond(reply: string | undefined, acc: string, message: string, err?: string): void {
    const log = this.server.log;
    if (err === undefined) log.debug(acc === "" ? message : `${message} - ${acc}`);
    else log.error(acc === "" ? `${message} - ${err}` : `${message} - ${acc} - ${err}`);
    if (!reply) return;
    const m: Record<string, unknown> = {};
    if (acc !== "") m.account = acc;
    const response: Record<string, unknown> = { server: this.#serverInfo() };
    if (err === undefined) {
      m.code = 200;
      m.message = message;
      response.data = m;
    } else {
      m.code = 500;
      m.description = `${message} - ${err}`;
      response.error = m;
    }
    this.#send(reply, JSON.stringify(response));
  }

  /** `$SYS.[REQ.]ACCOUNT.<acc>.CLAIMS.UPDATE` with a non-tracking resolver (nats-server accountClaimUpdate). */
  #accountClaimUpdate(subject: string, reply: string | undefined, msg: string): void {
    const toks = subject.split(".");
    let pub: string;
    if (toks.length === 6) pub = toks[3];
    else if (toks.length === 5) pub = toks[2];
    else {
      this.server.log.debug(`Received account claims update on bad subject ${JSON.stringify(subject)}`);
      return;
    }
    if (msg.length === 0) return this.#respond(reply, pub, "jwt update error", "request body is empty");
    let claims: AccountClaims;
    try {
      claims = decodeAccountClaims(msg);
    } catch (e) {
      return this.#respond(reply, pub, "jwt update resulted in error", (e as Error).message);
    }
    if (claims.sub !== pub) {
      return this.#respond(reply, pub, "jwt update resulted in error", "subject does not match jwt content");
    }
    const acc = this.server.accounts.get(pub);
    if (acc === undefined) return this.#respond(reply, pub, "jwt update skipped");
    const err = this.updateAccountWithClaimJwt(acc, msg);
    if (err !== undefined) return this.#respond(reply, pub, "jwt update resulted in error", err);
    this.#respond(reply, pub, "jwt updated");
  }

  /** Validates and saves an account JWT pushed to the full resolver. */
  #dirUpdate(dr: DirAccResolver, pub: string | undefined, reply: string | undefined, msg: string): void {
    let claims: AccountClaims;
    try {
      claims = decodeAccountClaims(msg);
    } catch (e) {
      return this.#respond(reply, "n/a", "jwt update resulted in error", (e as Error).message);
    }
    const subject = claims.sub ?? "";
    const [op, strict] = [this.operators[0]?.sub ?? "", !!this.operators[0]?.nats.strict_signing_key_usage];
    const strictErr = claims.iss === op && strict;
    if (pub === undefined && strictErr) {
      return this.#respond(
        reply,
        subject,
        "jwt update resulted in error",
        "operator requires issuer to be a signing key",
      );
    }
    const vr = validateClaims({ type: "account", version: 2, claims });
    if (validationBlocking(vr, false)) {
      const errs = vr.issues.filter((i) => i.blocking && !i.timeCheck).map((i) => i.description);
      return this.#respond(reply, subject, "jwt validation failed", `validation errors: [${errs.join(" ")}]`);
    }
    if (pub !== undefined && subject !== pub) {
      return this.#respond(reply, pub, "jwt update resulted in error", "subject does not match jwt content");
    }
    if (pub !== undefined && strictErr) {
      return this.#respond(
        reply,
        pub,
        "jwt update resulted in error",
        "operator requires issuer to be a signing key",
      );
    }
    try {
      dr.save(subject, msg);
    } catch (e) {
      return this.#respond(reply, subject, "jwt update resulted in error", (e as Error).message);
    }
    this.#respond(reply, subject, "jwt updated");
  }

  /** The full resolver's services on the system account (nats-server DirAccResolver.Start). */
  #startDirResolver(dr: DirAccResolver): void {
    const s = this.server;
    const op = this.operators[0];
    if (op === undefined) throw new Error("no operator key found");
    if (!op.nats.strict_signing_key_usage) dr.operatorKeys.add(op.sub ?? "");
    for (const k of op.nats.signing_keys ?? []) dr.operatorKeys.add(k);
    dr.onChanged = (pub) => {
      const acc = s.accounts.get(pub);
      if (acc === undefined) return;
      const jwt = dr.load(pub);
      if (jwt === undefined) {
        s.log.error(`update got error on load: ${ERR_MISSING_ACCOUNT}`);
        return;
      }
      const err = this.updateAccountWithClaimJwt(acc, jwt);
      if (err !== undefined) s.log.error(`update resulted in error ${err}`);
    };
    dr.onDeleted = (pub) => this.#removeAccount(pub);
    const sc = this.#sysClient;
    if (sc === undefined) throw new Error("the system account is needed by the nats based account resolver");
    for (const subj of [CLAIMS_SUBJECTS.updateOld, CLAIMS_SUBJECTS.updateNew]) {
      sc.subscribeInternal(subj, (_s, _c, subject, reply, _h, msg) => {
        const toks = subject.split(".");
        const pub = toks.length === 6 ? toks[3] : toks.length === 5 ? toks[2] : undefined;
        if (pub === undefined) {
          s.log.debug(`jwt update skipped due to bad subject ${JSON.stringify(subject)}`);
          return;
        }
        this.#dirUpdate(dr, pub, reply, decoder.decode(msg));
      });
    }
    sc.subscribeInternal(CLAIMS_SUBJECTS.update, (_s, _c, _subj, reply, _h, msg) => {
      this.#dirUpdate(dr, undefined, reply, decoder.decode(msg));
    });
    sc.subscribeInternal(CLAIMS_SUBJECTS.lookup, (_s, _c, subject, reply) => {
      if (!reply) return;
      const toks = subject.split(".");
      if (toks.length !== 6) return;
      const jwt = dr.load(toks[3]);
      if (jwt === undefined) {
        s.log.error(`Merging resulted in error: open ${dr.dir}/${toks[3]}.jwt: no such file or directory`);
      } else this.#send(reply, jwt);
    });
    sc.subscribeInternal(CLAIMS_SUBJECTS.pack, (_s, _c, _subj, reply, _h, theirHash) => {
      if (!reply) return;
      const ours = dr.hash();
      if (equalBytes(theirHash, ours)) {
        this.#send(reply, new Uint8Array(0));
        s.log.debug(`pack request matches hash ${hex(ours)}`);
        return;
      }
      const theirs = hex(theirHash);
      dr.packWalk(1, (p) => this.#send(reply, p));
      s.log.debug(`pack request hash ${theirs} - finished responding with hash ${hex(ours)}`);
      this.#send(reply, new Uint8Array(0));
    }, "responder");
    sc.subscribeInternal(CLAIMS_SUBJECTS.list, (_s, _c, _subj, reply) => {
      if (!reply) return;
      const ids = dr.list();
      s.log.debug(`list request responded with ${ids.length} account ids`);
      this.#send(reply, JSON.stringify({ server: this.#serverInfo(), data: ids }));
    });
    sc.subscribeInternal(CLAIMS_SUBJECTS.delete, (_s, _c, _subj, reply, _h, msg) => {
      this.#deleteRequest(dr, reply, decoder.decode(msg));
    });
    s.log.notice(`Managing all jwt in exclusive directory ${dr.dir}`);
  }

  /** `$SYS.REQ.CLAIMS.DELETE`: a generic JWT self-signed by an operator key listing `accounts` to delete. */
  #deleteRequest(dr: DirAccResolver, reply: string | undefined, msg: string): void {
    let subj = "";
    let err: string | undefined;
    let ids: string[] = [];
    try {
      const gk = decodeGeneric(msg);
      subj = gk.sub ?? "";
      const list = gk.nats?.accounts;
      if (dr.deleteType === "none") err = "delete must be enabled in server config";
      else if (subj !== gk.iss) err = "not self signed";
      else if (!dr.operatorKeys.has(gk.iss ?? "")) err = "not trusted";
      else if (!Array.isArray(list)) err = "malformed request";
      else {
        for (const a of list) {
          if (typeof a !== "string" || a === "" || !isKey(a, NKEY_PREFIX.account)) {
            err = "malformed request";
            break;
          }
          if (a === this.server.opts.systemAccount) {
            err = "not allowed to delete system account";
            break;
          }
        }
        ids = list as string[];
      }
    } catch (e) {
      err = (e as Error).message;
    }
    if (err !== undefined) {
      return this.#respond(reply, "", `delete accounts request by ${subj} failed`, err);
    }
    const errs: string[] = [];
    let n = 0;
    for (const a of ids) {
      try {
        dr.delete(a);
        n++;
      } catch (e) {
        errs.push((e as Error).message);
      }
    }
    if (errs.length === 0) this.#respond(reply, "", `deleted ${n} accounts`);
    else this.#respond(reply, "", `deleted ${n} accounts, failed for ${errs.length}`, errs.join("\n"));
  }

  /** A deleted account: no new clients, existing ones expire (nats-server removeCb). */
  #removeAccount(pub: string): void {
    const ja = this.jwtAccounts.get(pub);
    if (ja === undefined) return;
    this.server.log.debug(`Disable account ${pub} due to remove`);
    ja.mconns = ja.acc.maxConnections = 0;
    ja.msubs = ja.acc.maxSubscriptions = 0;
    ja.mpay = ja.acc.maxPayload = 0;
    this.server.timers.cancel(ja.expTimer);
    this.#accountExpired(ja);
  }

  /** Stops timers (server shutdown). */
  close(): void {
    for (const ja of this.jwtAccounts.values()) this.server.timers.cancel(ja.expTimer);
    this.resolver?.close();
  }

  /** Re-reads preloads into a memory resolver and refreshes its accounts (config reload). */
  reload(o: Options): void {
    if (!(this.resolver instanceof MemAccResolver)) return;
    this.#preload(o);
    this.#checkPreloads();
    for (const [name, acc] of [...this.server.accounts]) {
      const ja = this.jwtAccounts.get(name);
      if (ja === undefined) continue;
      let jwt: string;
      try {
        jwt = this.resolver.fetch(name);
      } catch {
        continue;
      }
      if (this.updateAccountWithClaimJwt(acc, jwt) !== undefined) {
        this.server.log.notice(`Reloaded: deleting account [bad claims]: ${JSON.stringify(name)}`);
        this.server.accounts.delete(name);
        this.jwtAccounts.delete(name);
      }
    }
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** Go's time.Time %v in local time, close enough for the startup banner ("2018-12-02 14:34:35 +0000 UTC"). */
function goTime(unixS: number): string {
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
function jetStreamFromClaims(
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
