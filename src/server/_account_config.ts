// Builds the accounts of a server from Options: accounts, their limits, mappings, exports then imports, and
// the system account. Error texts and their order follow nats-server server/opts.go parseAccounts (second
// pass) and server.go (configureAccounts, SetDefaultSystemAccount).

import type { AccountOptions, Options, SubjectMapping } from "../config/mod.ts";
import { Account, GLOBAL_ACCOUNT, SYSTEM_ACCOUNT } from "./account.ts";
import { AccountError, ERR } from "./_account_errors.ts";

/** Accounts built from Options, keyed by name ($G first). */
export interface BuiltAccounts {
  accounts: Map<string, Account>;
  gacc: Account;
  /** The system account, unless no_system_account. */
  sys: Account | undefined;
}

/** Thrown with every error found, one per line, as nats-server prints config errors. */
export class AccountConfigError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join("\n"));
    this.name = "AccountConfigError";
  }
}

/**
 * Makes the accounts Options describe. `register` is called for each new account before imports are added
 * (so internal subscriptions can be made). Throws AccountConfigError.
 */
export function buildAccounts(
  opts: Options,
  make: (name: string) => Account,
): BuiltAccounts {
  const errors: string[] = [];
  const pos = opts.accountsPos ? `${opts.accountsPos}: ` : "";
  const accounts = new Map<string, Account>();
  const gacc = make(GLOBAL_ACCOUNT);
  accounts.set(GLOBAL_ACCOUNT, gacc);
  applyMappings(gacc, opts.mappings, errors);
  for (const ao of opts.accounts) {
    const a = make(ao.name);
    accounts.set(ao.name, a);
    applyAccount(a, ao, errors);
  }
  // Users that name an account not in the block (tests and embedders) get one made for them.
  for (const u of [...opts.users, ...opts.nkeys]) {
    const n = u.account;
    if (n && !accounts.has(n)) accounts.set(n, make(n));
  }
  let sys: Account | undefined;
  if (opts.systemAccount) {
    sys = accounts.get(opts.systemAccount);
    if (sys === undefined) {
      // nats-server looks the account up through its resolver; without one the name is unknown.
      errors.push(`${ERR.missingAccount}`);
    }
  } else if (!opts.noSystemAccount) {
    sys = accounts.get(SYSTEM_ACCOUNT);
    if (sys === undefined) {
      sys = make(SYSTEM_ACCOUNT);
      accounts.set(SYSTEM_ACCOUNT, sys);
    }
  }
  if (errors.length > 0) throw new AccountConfigError(errors);

  const find = (name: string) => accounts.get(name);
  // Exports first: imports are checked against them.
  for (const ao of opts.accounts) {
    const a = accounts.get(ao.name)!;
    for (const ex of ao.exports) {
      const approved: Account[] = [];
      for (const n of ex.accounts ?? []) {
        const ta = find(n);
        if (ta === undefined) {
          errors.push(`${pos}${JSON.stringify(n)} account not defined for ${ex.kind} export`);
          continue;
        }
        approved.push(ta);
      }
      const list = ex.accounts === undefined ? undefined : approved;
      try {
        if (ex.kind === "stream") a.addStreamExport(ex.subject, list, ex.accountTokenPosition);
        else {
          a.addServiceExport(ex.subject, {
            accounts: list,
            responseType: ex.responseType,
            accountTokenPosition: ex.accountTokenPosition,
          });
        }
      } catch (e) {
        errors.push(`${pos}Error adding ${ex.kind} export ${JSON.stringify(ex.subject)}: ${msg(e)}`);
        continue;
      }
      if (ex.kind !== "service") continue;
      if (ex.responseThresholdMs) {
        try {
          a.setServiceExportResponseThreshold(ex.subject, ex.responseThresholdMs);
        } catch (e) {
          errors.push(
            `${pos}Error adding service export response threshold for ${JSON.stringify(ex.subject)}: ${
              msg(e)
            }`,
          );
          continue;
        }
      }
      if (ex.latency) {
        if (opts.noSystemAccount) {
          errors.push(
            `${pos}Error adding service latency sampling for ${
              JSON.stringify(ex.subject)
            }: ${ERR.noSysAccount}`,
          );
          continue;
        }
        try {
          a.trackServiceExport(ex.subject, ex.latency.subject, ex.latency.sampling);
        } catch (e) {
          errors.push(
            `${pos}Error adding service latency sampling for ${JSON.stringify(ex.subject)} on subject ${
              JSON.stringify(ex.latency.subject)
            }: ${msg(e)}`,
          );
        }
      }
    }
  }
  for (const ao of opts.accounts) {
    const a = accounts.get(ao.name)!;
    for (const im of ao.imports) {
      if (im.kind !== "stream") continue;
      const ta = find(im.account);
      if (ta === undefined) {
        errors.push(`${pos}${JSON.stringify(im.account)} account not defined for stream import`);
        continue;
      }
      try {
        if (im.prefix) a.addStreamImport(ta, im.subject, im.prefix);
        else a.addMappedStreamImport(ta, im.subject, im.to ?? "");
      } catch (e) {
        errors.push(`${pos}Error adding stream import ${JSON.stringify(im.subject)}: ${msg(e)}`);
      }
    }
  }
  for (const ao of opts.accounts) {
    const a = accounts.get(ao.name)!;
    for (const im of ao.imports) {
      if (im.kind !== "service") continue;
      const ta = find(im.account);
      if (ta === undefined) {
        errors.push(`${pos}${JSON.stringify(im.account)} account not defined for service import`);
        continue;
      }
      try {
        a.addServiceImport(ta, im.to || im.subject, im.subject, { share: im.share });
      } catch (e) {
        errors.push(`${pos}Error adding service import ${JSON.stringify(im.subject)}: ${msg(e)}`);
      }
    }
  }
  if (errors.length > 0) throw new AccountConfigError(errors);
  return { accounts, gacc, sys };
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function applyAccount(a: Account, ao: AccountOptions, errors: string[]): void {
  a.nkey = ao.nkey;
  a.defaultPermissions = ao.defaultPermissions;
  a.jetstreamConfig = ao.jetstream;
  a.maxConnections = ao.limits.maxConnections;
  a.maxSubscriptions = ao.limits.maxSubscriptions;
  a.maxPayload = ao.limits.maxPayload;
  a.maxLeafnodes = ao.limits.maxLeafnodes;
  applyMappings(a, ao.mappings, errors);
}

/** Adds the mappings, reporting errors as nats-server's parseAccountMappings does. */
function applyMappings(a: Account, mappings: SubjectMapping[], errors: string[]): void {
  for (const m of mappings) {
    try {
      a.addWeightedMappings(m.source, m.destinations);
    } catch (e) {
      if (!(e instanceof AccountError)) throw e;
      const dest = m.destinations.length === 1 ? m.destinations[0].subject : "";
      errors.push(
        `${m.pos ? m.pos + ": " : ""}Error adding mapping for ${JSON.stringify(m.source)} to ${
          JSON.stringify(dest)
        } : ${e.message}`,
      );
    }
  }
}

/** Checks the accounts part of Options without a server (config test, `-t`); throws AccountConfigError. */
export function validateAccountOptions(opts: Options): void {
  buildAccounts(opts, (name) => new Account(name));
}

/**
 * As nats-server: when the only accounts are $G and the system account (users were given just to reach
 * $SYS), clients without credentials land in $G through a generated no_auth_user. Adds that user to `opts`
 * (keeping `uname` across reloads) and returns its name, or undefined when the rule does not apply.
 */
export function addSystemOnlyNoAuthUser(opts: Options, uname?: string): string | undefined {
  if (opts.noAuthUser || opts.noSystemAccount || opts.accounts.length !== 1) return undefined;
  if (opts.accounts[0].name !== (opts.systemAccount || SYSTEM_ACCOUNT)) return undefined;
  uname ??= `nats-${randomName(8)}`;
  if (!opts.users.some((u) => u.username === uname)) {
    opts.users = [...opts.users, { username: uname, password: uname.slice(6), account: GLOBAL_ACCOUNT }];
  }
  opts.noAuthUser = uname;
  return uname;
}

function randomName(n: number): string {
  const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  let s = "";
  for (let i = 0; i < n; i++) s += digits[(Math.random() * 62) | 0];
  return s;
}

/** What a reload of the accounts did: the accounts now configured and those that are gone. */
export interface ReloadedAccounts extends BuiltAccounts {
  removed: Account[];
}

/**
 * Applies the accounts of `next` on reload, as nats-server's reloadAuthorization does for configured
 * accounts: accounts that stay keep their object (clients, subscriptions, pending responses, internal client
 * and JetStream state) with their limits, mappings, exports and imports rebuilt from `next`; new accounts are
 * made with `make`; accounts no longer configured are returned in `removed`. `next` must have passed
 * validateAccountOptions, so nothing fails half way. Responses pending on old service exports are still
 * delivered; their sweep timers run out on their own.
 */
export function reloadAccounts(
  current: Map<string, Account>,
  old: Options,
  next: Options,
  make: (name: string) => Account,
): ReloadedAccounts {
  const configured = configuredAccountNames(old);
  for (const a of current.values()) if (configured.has(a.name)) resetAccountConfig(a);
  const built = buildAccounts(next, (name) => current.get(name) ?? make(name));
  const removed: Account[] = [];
  for (const a of current.values()) {
    if (built.accounts.get(a.name) === a) continue;
    // Accounts registered at run time (not from the config) stay.
    if (configured.has(a.name)) removed.push(a);
    else built.accounts.set(a.name, a);
  }
  return { ...built, removed };
}

/** The accounts a config makes: $G, the accounts block, users' accounts and the system account. */
function configuredAccountNames(o: Options): Set<string> {
  const names = new Set([GLOBAL_ACCOUNT, ...o.accounts.map((a) => a.name)]);
  for (const u of [...o.users, ...o.nkeys]) if (u.account) names.add(u.account);
  if (o.systemAccount) names.add(o.systemAccount);
  else if (!o.noSystemAccount) names.add(SYSTEM_ACCOUNT);
  return names;
}

/** Drops what the config gave an account (mappings, exports, imports, limits) before it is applied again. */
function resetAccountConfig(a: Account): void {
  for (const m of [...a.mappings]) a.removeMapping(m.src);
  a.streamExports.clear();
  a.serviceExports.clear();
  for (const from of [...a.serviceImports.keys()]) a.removeServiceImport(from);
  a.streamImports.splice(0);
  a.nkey = undefined;
  a.defaultPermissions = undefined;
  a.maxConnections = -1;
  a.maxSubscriptions = -1;
  a.maxPayload = -1;
  a.maxLeafnodes = -1;
}
