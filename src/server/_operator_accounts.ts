// Operator mode, layer one: trusted operators and the account resolver, and accounts built from account JWTs
// (fetch, verify, apply claims with their limits, expiry and revocations). Operator mode is built in layers,
// one file per concern: this base, user JWT authentication (_operator_users.ts), and startup, reload and the
// `$SYS` claim services (_resolver.ts, the concrete OperatorMode); types and option checks are in
// _resolver_config.ts. Imports go one way, from each layer to those below it. Behaviour follows nats-server
// server/server.go (processTrustedKeys, lookupAccount, fetchAccount, updateAccountWithClaimJWT) and
// server/accounts.go (updateAccountClaimsWithRefresh).

import {
  type AccountClaims,
  type AccountResolver,
  accountSigningKeys,
  decodeAccountClaims,
  isRevoked,
  MemAccResolver,
  NKEY_PREFIX,
  type OperatorClaims,
  permissionsFromJwt,
  type UserScope,
  validateClaims,
  validationBlocking,
} from "../auth/mod.ts";
import type { Options } from "../config/mod.ts";
import { Account } from "./account.ts";
import type { Client } from "./client.ts";
import { ClosedState } from "./closed_state.ts";
import type { Server } from "./server.ts";
import { applyExportsImports } from "./_resolver_imports.ts";
import { AuthCallout } from "./_auth_callout.ts";
import {
  buildResolver,
  ERR_ACCOUNT_EXPIRED,
  ERR_ACCOUNT_VALIDATION,
  ERR_TOO_MANY_ACCOUNT_CONNECTIONS,
  isKey,
  jetStreamFromClaims,
  type JwtAccount,
  limitOf,
  validateTrustedOperators,
} from "./_resolver_config.ts";

/** Operator-mode state and JWT accounts; see OperatorMode. */
export abstract class OperatorAccounts {
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
  protected _sysClient: Client | undefined;
  /** The authorization callout of accounts whose JWT enables external authorization. */
  readonly callout: AuthCallout;

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
    this._preload(o);
  }

  /** Stores `resolver_preload` JWTs (nats-server configureResolver). */
  protected _preload(o: Options): void {
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
    this._sysClient = this.server.systemClient();
    return undefined;
  }

  /** True when `issuer` is a trusted operator key (nats-server isTrustedIssuer). */
  isTrustedIssuer(issuer: string): boolean {
    return this.trustedKeys.includes(issuer);
  }

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
      else ja.expTimer = s.timers.after(ms, () => this._accountExpired(ja));
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

  protected _accountExpired(ja: JwtAccount): void {
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

  /** Implemented by the users layer (_operator_users.ts). */
  abstract applyLimits(c: Client): void;
}
