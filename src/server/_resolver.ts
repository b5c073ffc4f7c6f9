// Operator mode (decentralized JWT auth), the concrete class: startup (operator banner, preload checks, system
// account), config reload, and the `$SYS` claim services of the account resolver (update, lookup, pack, list,
// delete). Accounts and users are the layers below (see _operator_accounts.ts). Behaviour follows nats-server
// server/accounts.go (DirAccResolver.Start, respondToUpdate) and server/events.go (accountClaimUpdate).

import {
  type AccountClaims,
  decodeAccountClaims,
  decodeGeneric,
  DirAccResolver,
  MemAccResolver,
  NKEY_PREFIX,
  validateClaims,
  validationBlocking,
} from "../auth/mod.ts";
import { VERSION } from "../protocol/mod.ts";
import type { Options } from "../config/mod.ts";
import { CLAIMS_SUBJECTS, equalBytes, ERR_MISSING_ACCOUNT, goTime, hex, isKey } from "./_resolver_config.ts";
import { OperatorUsers } from "./_operator_users.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Operator mode of one server. */
export class OperatorMode extends OperatorUsers {
  #seq = 0;

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
    this._sysClient ??= s.systemClient();
    const r = this.resolver;
    if (r instanceof DirAccResolver) this.#startDirResolver(r);
    else if (r !== undefined && this._sysClient !== undefined) {
      for (const subj of [CLAIMS_SUBJECTS.updateOld, CLAIMS_SUBJECTS.updateNew]) {
        this._sysClient.subscribeInternal(subj, (_s, _c, subject, reply, _h, msg) => {
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
    const c = this._sysClient;
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
    const sc = this._sysClient;
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
    this._accountExpired(ja);
  }

  /** Stops timers (server shutdown). */
  close(): void {
    for (const ja of this.jwtAccounts.values()) this.server.timers.cancel(ja.expTimer);
    this.resolver?.close();
  }

  /** Re-reads preloads into a memory resolver and refreshes its accounts (config reload). */
  reload(o: Options): void {
    if (!(this.resolver instanceof MemAccResolver)) return;
    this._preload(o);
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
