// Operator mode, layer two: user JWT authentication of a CONNECT (signature, issuer and scope, revocations,
// bearer tokens, source and time limits, expiry), user limits, and the hand-off to an account's authorization
// callout. See _operator_accounts.ts for the layering. Behaviour follows nats-server server/auth.go (the JWT
// branch of processClientOrLeafAuthentication) and server/client.go (applyAccountLimits).

import {
  applyUserTemplate,
  ClientPermissions,
  decodePublicNkey,
  decodeSignature,
  decodeUserClaims,
  hasEmptyPermissions,
  isRevoked,
  NKEY_PREFIX,
  permissionsFromJwt,
  type UserClaims,
  validateClaims,
  validateSrc,
  validateTimes,
  validationBlocking,
  verifyNkey,
} from "../auth/mod.ts";
import type { AuthResult } from "../auth/mod.ts";
import type { ConnectOptions } from "../protocol/mod.ts";
import type { Client } from "./client.ts";
import { ClosedState } from "./closed_state.ts";
import { AUTH_CALLOUT_SUBJECT } from "./_auth_callout.ts";
import { isKey, type JwtAccount, type JwtUserState, limitOf, minLimit } from "./_resolver_config.ts";
import { encoder } from "../util/mod.ts";
import { OperatorAccounts } from "./_operator_accounts.ts";

/** OperatorUsers: see OperatorAccounts for the layering. */
export abstract class OperatorUsers extends OperatorAccounts {
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
}
