// Client authentication from CONNECT credentials: token, single user, users list, nkey users, no_auth_user;
// behaviour follows nats-server server/auth.go (configureAuthorization, processClientOrLeafAuthentication,
// validateAuth, validateNoAuthUser) and connectionTypeAllowed in server/client.go.
import type { KeyObject } from "node:crypto";
import type { Options, Permissions } from "../config/mod.ts";
import { decodeSignature, nkeyToKeyObject, verifyWithKey } from "./nkey.ts";
import { comparePasswords, isBcrypt } from "./password.ts";
import { ClientPermissions } from "./permissions.ts";
import { type CertIdentity, dnEqual, dnRdnsMatch, parseCertIdentity, parseDn } from "./tls_map.ts";

/** Credential fields of a client's CONNECT. */
export interface ClientCredentials {
  user?: string;
  pass?: string;
  "auth_token"?: string;
  nkey?: string;
  sig?: string;
  jwt?: string;
}

/** The connection types `allowed_connection_types` can name. */
export type ConnectionType =
  | "STANDARD"
  | "WEBSOCKET"
  | "LEAFNODE"
  | "LEAFNODE_WS"
  | "MQTT"
  | "MQTT_WS"
  | "IN_PROCESS";

/** Every ConnectionType, as written in configs (upper case). */
export const CONNECTION_TYPES: readonly ConnectionType[] = [
  "STANDARD",
  "WEBSOCKET",
  "LEAFNODE",
  "LEAFNODE_WS",
  "MQTT",
  "MQTT_WS",
  "IN_PROCESS",
];
const KNOWN_TYPES: ReadonlySet<string> = new Set(CONNECTION_TYPES);

/** What the server knows of a connection when it checks credentials. */
export interface AuthContext {
  /** The nonce sent in this connection's INFO (present whenever `needsNonce`). */
  nonce?: string;
  connectionType: ConnectionType;
  /** DER of the client's TLS certificate (leaf), for `verify_and_map`. */
  tlsCert?: Uint8Array;
}

/** An authenticated client. */
export interface AuthResult {
  /** Authorized user for /connz: "" for token auth, the public key for nkey users. */
  user: string;
  /** Account name: "$G" unless the user names one. */
  account: string;
  /** This connection's own permissions instance, or undefined when unrestricted. */
  permissions?: ClientPermissions;
  /** The nkey public key of an nkey user. */
  nkey?: string;
  /** The permissions as granted (a JWT's or a callout's), for USER.INFO; config users are looked up. */
  source?: Permissions;
}

/** The global account every user without an account belongs to. */
export const GLOBAL_ACCOUNT = "$G";

/** A connection-type allow list: undefined allows every type. */
type TypeSet = ReadonlySet<string> | undefined;

interface UserEntry {
  username: string;
  password: string;
  account: string;
  perms: ClientPermissions | undefined;
  types: TypeSet;
}

interface NkeyEntry {
  nkey: string;
  key: KeyObject | undefined;
  account: string;
  perms: ClientPermissions | undefined;
  types: TypeSet;
}

/**
 * Upper-cases a user's `allowed_connection_types` and keeps the known ones. An absent or empty list allows
 * every type. A list with no known type allows none: nats-server refuses such a config at startup (see
 * `validateAuth`), so this only fails closed if a server skipped that check.
 */
function toTypeSet(types: string[] | undefined): TypeSet {
  if (types === undefined || types.length === 0) return undefined;
  const set = new Set<string>();
  for (const t of types) {
    const u = t.toUpperCase();
    if (KNOWN_TYPES.has(u)) set.add(u);
  }
  return set;
}

function typeAllowed(types: TypeSet, ct: ConnectionType): boolean {
  return types === undefined || types.has(ct);
}

/** Options for the ClientAuth constructor. */
export interface ClientAuthOptions {
  /** Clock in milliseconds for `allow_responses` expiry; defaults to Date.now (tests pass a fake). */
  now?: () => number;
}

function finish(ok: boolean, result: AuthResult): AuthResult | undefined {
  return ok ? result : undefined;
}

function withPassword(
  check: boolean | Promise<boolean>,
  result: AuthResult,
): AuthResult | undefined | Promise<AuthResult | undefined> {
  return typeof check === "boolean" ? finish(check, result) : check.then((ok) => finish(ok, result));
}

/**
 * The client authorization a server was configured with. Build one per configuration (again on reload);
 * `check()` runs once per CONNECT.
 */
export class ClientAuth {
  /** INFO `auth_required`. */
  readonly authRequired: boolean;
  /** Nkey users are configured, so INFO carries a nonce to sign. */
  readonly needsNonce: boolean;
  /** Trusted operators or keys are configured: users authenticate with JWTs only. */
  readonly trusted: boolean;

  readonly #token: string;
  readonly #username: string;
  readonly #password: string;
  readonly #noAuthUser: string;
  /** TLS verify_and_map: users come from the client certificate, not from CONNECT. */
  readonly #tlsMap: boolean;
  readonly #users = new Map<string, UserEntry>();
  readonly #nkeys = new Map<string, NkeyEntry>();

  constructor(opts: Options, authOpts: ClientAuthOptions = {}) {
    this.#token = opts.authorization ?? "";
    this.#username = opts.username ?? "";
    this.#password = opts.password ?? "";
    this.#noAuthUser = opts.noAuthUser ?? "";
    this.#tlsMap = !!opts.tls?.verifyAndMap;
    const defaults = opts.defaultPermissions;
    const compileOpts = { now: authOpts.now };
    const compilePerms = (p: Permissions | undefined) =>
      p === undefined ? undefined : ClientPermissions.compile(p, compileOpts);
    for (const u of opts.users) {
      this.#users.set(u.username, {
        username: u.username,
        password: u.password,
        account: u.account || GLOBAL_ACCOUNT,
        perms: compilePerms(u.permissions ?? defaults),
        types: toTypeSet(u.allowedConnectionTypes),
      });
    }
    for (const n of opts.nkeys) {
      this.#nkeys.set(n.nkey, {
        nkey: n.nkey,
        key: nkeyToKeyObject(n.nkey),
        account: n.account || GLOBAL_ACCOUNT,
        perms: compilePerms(n.permissions ?? defaults),
        types: toTypeSet(n.allowedConnectionTypes),
      });
    }
    // Operator mode: every client needs a user JWT and a signed nonce, checked by the server's operator mode
    // (src/server/_resolver.ts); check() here refuses.
    this.trusted = opts.trustedOperators.length > 0 || (opts.trustedKeys?.length ?? 0) > 0;
    this.authRequired = this.trusted || this.#users.size > 0 || this.#nkeys.size > 0 ||
      this.#username !== "" ||
      this.#token !== "";
    this.needsNonce = this.trusted || this.#nkeys.size > 0;
  }

  /** True when some configured user or token is stored in plain text (nats-server warns at startup). */
  get hasPlaintextPasswords(): boolean {
    if (this.#password !== "" && !isBcrypt(this.#password)) return true;
    for (const u of this.#users.values()) if (!isBcrypt(u.password)) return true;
    return false;
  }

  /**
   * Checks a client's CONNECT credentials. Resolves to the user, or undefined for "Authorization Violation".
   * Synchronous except for bcrypt hashes, where a Promise is returned.
   *
   * Order, as nats-server: an nkey (when nkey users exist) is looked up and its signature over the nonce
   * verified; otherwise, when users exist, the named user is looked up (no_auth_user stands in when the
   * client sent no user, password or token) and its password compared; otherwise the token, else the single
   * user/password. `allowed_connection_types` is checked on the nkey or user found.
   */
  check(
    creds: ClientCredentials,
    ctx: AuthContext,
  ): AuthResult | undefined | Promise<AuthResult | undefined> {
    if (!this.authRequired) return { user: "", account: GLOBAL_ACCOUNT };
    if (this.trusted) return undefined;
    const cnkey = creds.nkey ?? "";
    if (this.#nkeys.size > 0 && cnkey !== "") {
      const n = this.#nkeys.get(cnkey);
      if (n === undefined || !typeAllowed(n.types, ctx.connectionType)) return undefined;
      if (!creds.sig || n.key === undefined) return undefined;
      const sig = decodeSignature(creds.sig);
      if (sig === undefined || !verifyWithKey(n.key, ctx.nonce ?? "", sig)) return undefined;
      return { user: n.nkey, account: n.account, permissions: n.perms?.forConnection(), nkey: n.nkey };
    }

    let cuser = creds.user ?? "";
    let cpass = creds.pass ?? "";
    if (this.#users.size > 0 && this.#tlsMap) {
      const u = this.#userFromCert(ctx);
      if (u === undefined) return undefined;
      const result: AuthResult = {
        user: u.username,
        account: u.account,
        permissions: u.perms?.forConnection(),
      };
      return withPassword(comparePasswords(u.password, cpass), result);
    }
    if (this.#users.size > 0) {
      let viaNoAuthUser = false;
      if (this.#noAuthUser !== "" && cuser === "" && cpass === "" && !creds.auth_token) {
        const u = this.#users.get(this.#noAuthUser);
        if (u !== undefined) {
          cuser = u.username;
          cpass = u.password;
          viaNoAuthUser = true;
        }
      }
      if (cuser !== "") {
        const u = this.#users.get(cuser);
        if (u === undefined || !typeAllowed(u.types, ctx.connectionType)) return undefined;
        // nats-server compares the no_auth_user's stored password with itself, so a bcrypt-hashed
        // no_auth_user never matches (checked against nats-server 2.9.10); answer that without hashing.
        if (viaNoAuthUser && isBcrypt(u.password)) return undefined;
        const result: AuthResult = {
          user: u.username,
          account: u.account,
          permissions: u.perms?.forConnection(),
        };
        return withPassword(comparePasswords(u.password, cpass), result);
      }
    }

    // No user entry applies: the token, else the single user (a config cannot set both; a token wins).
    if (this.#token !== "") {
      return withPassword(comparePasswords(this.#token, creds.auth_token ?? ""), {
        user: "",
        account: GLOBAL_ACCOUNT,
      });
    }
    if (this.#username !== "") {
      if (this.#username !== cuser) return undefined;
      return withPassword(comparePasswords(this.#password, cpass), {
        user: this.#username,
        account: GLOBAL_ACCOUNT,
      });
    }
    return undefined;
  }

  /**
   * verify_and_map: the user named by the certificate's e-mail addresses, then DNS names, then URIs, then
   * its subject as a DN (exact order first, then any order), then the subject string with and without its
   * domain components, as nats-server tries them.
   */
  #userFromCert(ctx: AuthContext): UserEntry | undefined {
    if (ctx.tlsCert === undefined) return undefined;
    let id: CertIdentity;
    try {
      id = parseCertIdentity(ctx.tlsCert);
    } catch {
      return undefined;
    }
    const lookup = (name: string) => {
      const u = this.#users.get(name);
      return u !== undefined && typeAllowed(u.types, ctx.connectionType) ? u : undefined;
    };
    for (const names of [id.emails, id.dnsNames, id.uris]) {
      for (const n of names) {
        const u = lookup(n);
        if (u !== undefined) return u;
      }
    }
    if (id.dn !== undefined) {
      const reordered: UserEntry[] = [];
      for (const u of this.#users.values()) {
        if (!typeAllowed(u.types, ctx.connectionType)) continue;
        const dn = parseDn(u.username);
        if (dn === undefined) continue;
        if (dnEqual(dn, id.dn)) return u;
        if (dnRdnsMatch(dn, id.dn)) reordered.push(u);
      }
      if (reordered.length > 0) return reordered[0];
    }
    if (id.domainComponents !== "") {
      const u = lookup(`${id.subject},${id.domainComponents}`);
      if (u !== undefined) return u;
    }
    return lookup(id.subject);
  }
}

/**
 * Startup checks nats-server makes on the authorization options (validateAuth): connection-type names and
 * no_auth_user. Returns nats-server's error text, or undefined when the options are valid.
 */
export function validateAuth(opts: Options): string | undefined {
  for (const u of [...opts.users, ...opts.nkeys]) {
    const err = validateAllowedConnectionTypes(u.allowedConnectionTypes ?? []);
    if (err !== undefined) return err;
  }
  const nau = opts.noAuthUser ?? "";
  if (nau === "") return undefined;
  if (opts.users.length === 0) return `no_auth_user: "${nau}" present, but users are not defined`;
  if (opts.users.some((u) => u.username === nau)) return undefined;
  return `no_auth_user: "${nau}" not present as user in authorization block or account configuration`;
}

/** nats-server's error for the first unknown name in an `allowed_connection_types` list, if any. */
export function validateAllowedConnectionTypes(types: string[]): string | undefined {
  for (const t of types) {
    if (!KNOWN_TYPES.has(t.toUpperCase())) return `unknown connection type ${JSON.stringify(t)}`;
  }
  return undefined;
}

/** Upper-cases and validates a connection type name from a config; undefined when unknown. */
export function parseConnectionType(name: string): ConnectionType | undefined {
  const u = name.toUpperCase();
  return KNOWN_TYPES.has(u) ? u as ConnectionType : undefined;
}
