// Exports, imports, activation tokens and subject mappings of account JWTs in operator mode. Behaviour follows
// nats-server server/accounts.go (the export/import/mapping part of updateAccountClaimsWithRefresh,
// checkActivation, isIssuerClaimTrusted, activationExpired) and the nats-io/jwt library's Import.Validate.
import {
  type AccountClaims,
  decodeActivationClaims,
  isRevoked,
  type JwtExport,
  type JwtImport,
  subjectContainedIn,
  validateClaims,
  validationBlocking,
} from "../auth/mod.ts";
import type { MapDest } from "../config/mod.ts";
import type { Account, ExportAuth } from "./account.ts";
import { addShadowSubscriptions, removeShadowSubscriptions } from "./_account_service.ts";
import type { OperatorAccounts } from "./_operator_accounts.ts";

/** What changed on an account when its claims were applied, for the importers' re-checks. */
interface Before {
  streamExports: string;
  serviceExports: string;
  streamImports: string;
  actsRevoked: Map<string, Record<string, number>>;
}

function exportsKey(m: Map<string, unknown>): string {
  return JSON.stringify(
    [...m.entries()].map(([k, v]) => [k, authKey(v as ExportAuth | { auth: ExportAuth })]),
  );
}

function authKey(v: ExportAuth | { auth: ExportAuth; respType?: string } | undefined): unknown {
  if (v === undefined) return null;
  const ea = "auth" in v ? v.auth : v;
  return [
    ea.tokenReq ?? false,
    ea.accountPos ?? 0,
    [...(ea.approved?.keys() ?? [])],
    "respType" in v ? v.respType : "",
  ];
}

function importsKey(acc: Account): string {
  return JSON.stringify(acc.streamImports.map((im) => [im.acc.name, im.from, im.to, im.invalid]));
}

/** Re-makes the shadow subscriptions of an account's clients after its stream imports changed. */
export function refreshShadows(acc: Account): void {
  for (const c of acc.clients) {
    for (const sub of c.subs.values()) {
      if (sub.shadow !== undefined) removeShadowSubscriptions(sub);
      if (acc.streamImports.length > 0) addShadowSubscriptions(acc, sub);
    }
  }
  // JetStream's internal subscriptions (a stream's subjects) are not in acc.clients: found in the sublist.
  for (const sub of acc.sl.all()) {
    const c = sub.client;
    if (c.kind !== "JetStream" || c.account !== acc || c.subs.get(sub.sid) !== sub) continue;
    if (sub.shadow !== undefined) removeShadowSubscriptions(sub);
    if (acc.streamImports.length > 0) addShadowSubscriptions(acc, sub);
  }
}

/**
 * Applies the `mappings`, `exports` and `imports` of `claims` to `acc`, replacing what earlier claims set,
 * then re-checks the imports other accounts hold from `acc`. Returns true when some import could not be made
 * (the account is incomplete until its exporters change).
 */
export function applyExportsImports(
  om: OperatorAccounts,
  acc: Account,
  claims: AccountClaims,
  signersChanged: boolean,
): boolean {
  const s = om.server;
  const log = s.log;
  acc.activationCheck ??= (importer, claim, ea, expTimer) =>
    checkActivation(om, acc, importer, claim, ea, expTimer);
  const before: Before = {
    streamExports: exportsKey(acc.streamExports),
    serviceExports: exportsKey(acc.serviceExports),
    streamImports: importsKey(acc),
    actsRevoked: new Map(),
  };
  for (const [k, ea] of acc.streamExports) {
    if (ea?.actsRevoked) before.actsRevoked.set(`stream:${k}`, ea.actsRevoked);
  }
  for (const [k, se] of acc.serviceExports) {
    if (se.auth.actsRevoked) before.actsRevoked.set(`service:${k}`, se.auth.actsRevoked);
  }

  // Mappings: drop those the claims no longer list, then (re)add the listed ones.
  const jm = claims.nats.mappings ?? {};
  for (const m of [...acc.mappings]) if (!(m.src in jm)) acc.removeMapping(m.src);
  for (const [src, dests] of Object.entries(jm)) {
    const md: MapDest[] = (dests ?? []).map((d) => ({
      subject: d.subject,
      weight: d.weight ? d.weight : 100,
      ...(d.cluster ? { cluster: d.cluster } : {}),
    }));
    try {
      acc.addWeightedMappings(src, md);
    } catch (e) {
      log.debug(
        `Error adding mapping ${JSON.stringify(src)} to account [${acc.name}]: ${(e as Error).message}`,
      );
    }
  }

  // Exports are rebuilt from the claims.
  acc.streamExports.clear();
  for (const se of acc.serviceExports.values()) s.timers.cancel(se.timer as never);
  acc.serviceExports.clear();
  let streamRevChanged = false;
  let serviceRevChanged = false;
  for (const e of claims.nats.exports ?? []) {
    if (e == null) continue;
    const subject = e.subject ?? "";
    const auth = e.token_req ? [] : undefined;
    const pos = e.account_token_position ?? 0;
    let ea: ExportAuth | undefined;
    if (e.type === "stream") {
      log.debug(`Adding stream export ${JSON.stringify(subject)} for ${acc.name}`);
      try {
        acc.addStreamExport(subject, auth, pos);
      } catch (err) {
        log.debug(`Error adding stream export to account [${acc.name}]: ${(err as Error).message}`);
      }
      if (!acc.streamExports.has(subject)) continue;
      // A public stream export has no auth record, so no revocations either (as nats-server).
      ea = acc.streamExports.get(subject);
    } else if (e.type === "service") {
      log.debug(`Adding service export ${JSON.stringify(subject)} for ${acc.name}`);
      try {
        acc.addServiceExport(subject, {
          responseType: responseTypeOf(e),
          accounts: auth,
          accountTokenPosition: pos,
        });
      } catch (err) {
        log.debug(`Error adding service export to account [${acc.name}]: ${(err as Error).message}`);
        continue;
      }
      applyServiceExportExtras(om, acc, e);
      ea = acc.serviceExports.get(subject)?.auth;
    }
    if (ea === undefined) continue;
    const prev = before.actsRevoked.get(`${e.type}:${subject}`);
    const revs = e.revocations ?? {};
    const n = Object.keys(revs).length;
    ea.actsRevoked = n === 0 ? undefined : { ...revs };
    // New or later revocations cut imports; revocations cleared let them back in.
    const changed = n === 0 ? prev !== undefined : prev === undefined || Object.keys(prev).length !== n ||
      Object.entries(revs).some(([k, t]) => prev[k] !== t);
    if (changed && e.type === "stream") streamRevChanged = true;
    if (changed && e.type === "service") serviceRevChanged = true;
  }

  // Imports are rebuilt from the claims; the old service imports' subscriptions go.
  for (const from of [...acc.serviceImports.keys()]) acc.removeServiceImport(from);
  acc.streamImports.splice(0);
  let incomplete = false;
  for (const i of claims.nats.imports ?? []) {
    if (i == null) continue;
    const exporter = om.lookupAccount(i.account ?? "");
    if (typeof exporter === "string") {
      log.error(
        `Can't locate account [${i.account}] for import of [${i.subject}] ${i.type} (err=${exporter})`,
      );
      om.incompleteExporters.add(i.account ?? "");
      incomplete = true;
      continue;
    }
    let from = i.subject ?? "";
    let to = i.to ?? "";
    try {
      if (i.type === "stream") {
        if (i.local_subject) {
          to = i.local_subject;
          log.debug(
            `Adding stream import ${exporter.name}:${JSON.stringify(from)} for ${acc.name}:${
              JSON.stringify(to)
            }`,
          );
          acc.addMappedStreamImport(exporter, from, to, i);
        } else {
          log.debug(
            `Adding stream import ${exporter.name}:${JSON.stringify(from)} for ${acc.name}:${
              JSON.stringify(to)
            }`,
          );
          acc.addStreamImport(exporter, from, to, i);
        }
      } else if (i.type === "service") {
        if (i.local_subject) {
          from = i.local_subject;
          to = i.subject ?? "";
        }
        log.debug(
          `Adding service import ${exporter.name}:${JSON.stringify(from)} for ${acc.name}:${
            JSON.stringify(to)
          }`,
        );
        acc.addServiceImport(exporter, from, to, { share: !!i.share, claim: i });
      }
    } catch (err) {
      log.debug(`Error adding ${i.type} import to account [${acc.name}]: ${(err as Error).message}`);
      om.incompleteExporters.add(i.account ?? "");
      incomplete = true;
    }
  }

  if (importsKey(acc) !== before.streamImports) refreshShadows(acc);
  if (exportsKey(acc.streamExports) !== before.streamExports || signersChanged || streamRevChanged) {
    recheckStreamImporters(s.accounts.values(), acc);
  }
  if (exportsKey(acc.serviceExports) !== before.serviceExports || signersChanged || serviceRevChanged) {
    recheckServiceImporters(s.accounts.values(), acc);
  }
  return incomplete;
}

/** Imports of other accounts from `exporter`: still authorized? Their clients' shadows follow. */
export function recheckStreamImporters(accounts: Iterable<Account>, exporter: Account): void {
  for (const acc of accounts) {
    if (acc === exporter) continue;
    let touched = false;
    for (const im of acc.streamImports) {
      if (im.acc.name !== exporter.name) continue;
      im.invalid = !exporter.checkStreamImportAuthorized(acc, im.from, acc.importClaims.get(im));
      touched = true;
    }
    if (touched) refreshShadows(acc);
  }
}

/** Service imports of other accounts from `exporter`: still authorized, and latency tracking as exported. */
export function recheckServiceImporters(accounts: Iterable<Account>, exporter: Account): void {
  for (const acc of accounts) {
    if (acc === exporter) continue;
    for (const si of acc.serviceImports.values()) {
      if (si.acc.name !== exporter.name) continue;
      si.invalid = !exporter.checkServiceImportAuthorized(acc, si.to, acc.importClaims.get(si));
      const se = exporter.getServiceExport(si.to);
      si.se = se;
      if (si.latency !== undefined && !si.response && se !== undefined) si.latency = se.latency;
    }
  }
}

function responseTypeOf(e: JwtExport): "Singleton" | "Streamed" | "Chunked" {
  if (e.response_type === "Stream") return "Streamed";
  if (e.response_type === "Chunked") return "Chunked";
  return "Singleton";
}

function applyServiceExportExtras(om: OperatorAccounts, acc: Account, e: JwtExport): void {
  const log = om.server.log;
  const subject = e.subject ?? "";
  const lat = e.service_latency;
  if (lat != null) {
    const sampling = lat.sampling === "headers" ? 0 : Number(lat.sampling);
    try {
      acc.trackServiceExport(subject, lat.results, sampling);
    } catch (err) {
      const note = lat.sampling === "headers" ? " (using headers)" : "";
      log.debug(
        `Error adding latency tracking${note} for service export to account [${acc.name}]: ${
          (err as Error).message
        }`,
      );
    }
  }
  const th = e.response_threshold ?? 0;
  if (th !== 0) {
    try {
      acc.setServiceExportResponseThreshold(subject, Math.floor(th / 1_000_000));
    } catch (err) {
      log.debug(
        `Error adding service export response threshold for [${acc.name}]: ${(err as Error).message}`,
      );
    }
  }
}

/**
 * Checks the activation token of `claim` (an import of `exporter` by `importer`): the import's own checks
 * (issuer, subject account, kind, subject containment), the token issuer trusted by `exporter`, expiry
 * (arming a re-check when `expTimer`), and revocation in `ea`.
 */
export function checkActivation(
  om: OperatorAccounts,
  exporter: Account,
  importer: Account,
  claim: JwtImport | undefined,
  ea: ExportAuth | undefined,
  expTimer: boolean,
): boolean {
  const token = claim?.token;
  if (claim === undefined || !token) return false;
  let act;
  try {
    act = decodeActivationClaims(token);
  } catch {
    return false;
  }
  const a = act.nats;
  if (!(act.iss === claim.account || a.issuer_account === claim.account)) return false;
  if (act.sub !== importer.name) return false;
  if (a.kind !== claim.type) return false;
  const subj = claim.type === "service" && claim.to ? claim.to : claim.subject ?? "";
  if (!subjectContainedIn(subj, a.subject ?? "")) return false;
  // The issuer: the exporting account itself, or one of its signing keys named with issuer_account.
  if (a.issuer_account) {
    if (a.issuer_account !== exporter.name) {
      om.server.log.error(
        `Invalid issuer account ${JSON.stringify(a.issuer_account)} in activation claim (subject: ${
          JSON.stringify(a.subject ?? "")
        } - type: ${JSON.stringify(a.kind ?? "")}) for account ${JSON.stringify(exporter.name)}`,
      );
      return false;
    }
    if (!om.jwtAccounts.get(exporter.name)?.signingKeys.has(act.iss ?? "")) return false;
  }
  if (validationBlocking(validateClaims({ type: "activation", version: 2, claims: act }), true)) return false;
  if (act.exp) {
    const nowS = Math.floor(Date.now() / 1000);
    if (act.exp <= nowS) return false;
    if (expTimer) {
      const kind = claim.type;
      const subject = a.subject ?? "";
      // Fires just past the expiry second, when the re-check sees the token expired.
      om.server.timers.after(
        act.exp * 1000 - Date.now() + 5,
        () => activationExpired(om, importer, exporter, subject, kind),
      );
    }
  }
  if (ea === undefined) return true;
  return !isRevoked(ea.actsRevoked, act.sub ?? "", act.iat ?? 0);
}

/** An activation token expired: the import it enabled stops unless a newer token is in place. */
function activationExpired(
  om: OperatorAccounts,
  importer: Account,
  exporter: Account,
  subject: string,
  kind: string | undefined,
): void {
  if (om.jwtAccounts.get(importer.name)?.expired) return;
  if (kind === "stream") {
    const im = importer.streamImports.find((x) => x.acc === exporter && x.from === subject);
    if (im === undefined || im.invalid) return;
    if (checkActivation(om, exporter, importer, importer.importClaims.get(im), undefined, false)) return;
    im.invalid = true;
    refreshShadows(importer);
  } else if (kind === "service") {
    const si = importer.serviceImports.get(subject);
    if (si === undefined || si.invalid) return;
    if (checkActivation(om, si.acc, importer, importer.importClaims.get(si), undefined, false)) return;
    si.invalid = true;
  }
}
