// Claim validation with the nats-io/jwt v2 library's rules and texts (ValidationResults: errors, time checks,
// warnings), plus the CIDR parsing that user `src` limits need.
import { decodePublicNkey, NKEY_PREFIX } from "./nkey.ts";
// Only called at validation time, so the module cycle with jwt.ts is harmless.
import { decodeActivationClaims } from "./jwt.ts";
import type {
  AccountClaims,
  ActivationClaims,
  AnyClaims,
  ClaimsData,
  JwtExport,
  JwtImport,
  JwtPermission,
  JwtPermissions,
  OperatorClaims,
  TimeRange,
  UserClaims,
  UserPermissionLimits,
  UserScope,
} from "./_jwt_claims.ts";

/** One finding: blocking errors and time checks refuse a JWT; warnings do not. */
export interface ValidationIssue {
  description: string;
  blocking: boolean;
  timeCheck: boolean;
}

/** The findings of validateClaims. */
export interface ValidationResults {
  issues: ValidationIssue[];
}

/** True when a finding refuses the claims; time checks count only when `includeTimeChecks`. */
export function validationBlocking(vr: ValidationResults, includeTimeChecks: boolean): boolean {
  return vr.issues.some((i) => i.blocking && (includeTimeChecks || !i.timeCheck));
}

class Results implements ValidationResults {
  issues: ValidationIssue[] = [];
  error(d: string): void {
    this.issues.push({ description: d, blocking: true, timeCheck: false });
  }
  time(d: string): void {
    this.issues.push({ description: d, blocking: true, timeCheck: true });
  }
  warn(d: string): void {
    this.issues.push({ description: d, blocking: false, timeCheck: false });
  }
}

function isKey(k: unknown, prefix: number): boolean {
  return typeof k === "string" && decodePublicNkey(k)?.prefix === prefix;
}

/** The library's loose subject check: not empty, no spaces. */
export function isValidSubjectLoose(s: string | undefined): boolean {
  return !!s && !s.includes(" ");
}

function checkSubject(vr: Results, s: string | undefined): void {
  if (!s) vr.error("subject cannot be empty");
  if (s?.includes(" ")) vr.error(`subject ${JSON.stringify(s)} cannot have spaces`);
}

function hasWildcards(s: string): boolean {
  return s.endsWith(".>") || s.includes(".*.") || s.endsWith(".*") || s.startsWith("*.") || s === "*" ||
    s === ">";
}

function validateClaimsData(vr: Results, c: ClaimsData, nowS: number): void {
  if (c.exp && c.exp > 0 && nowS > c.exp) vr.time("claim is expired");
  if (c.nbf && c.nbf > 0 && c.nbf > nowS) vr.time("claim is not yet valid");
}

function checkPermissionList(vr: Results, p: JwtPermission | undefined, permitQueue: boolean): void {
  for (const subj of [...(p?.allow ?? []), ...(p?.deny ?? [])]) {
    const tk = subj.split(" ");
    if (tk.length === 1) checkSubject(vr, tk[0]);
    else if (tk.length === 2) {
      checkSubject(vr, tk[0]);
      checkSubject(vr, tk[1]);
      if (!permitQueue) vr.error(`Permission Subject "${subj}" is not allowed to contain queue`);
    } else vr.error(`Permission Subject "${subj}" contains too many spaces`);
  }
}

function validatePermissions(vr: Results, p: JwtPermissions): void {
  checkPermissionList(vr, p.sub, true);
  checkPermissionList(vr, p.pub, false);
}

const CLOCK = /^(\d\d):(\d\d):(\d\d)$/;

function validClock(t: string): boolean {
  const m = CLOCK.exec(t);
  return m !== null && Number(m[1]) < 24 && Number(m[2]) < 60 && Number(m[3]) < 60;
}

function validateTimeRange(vr: Results, tr: TimeRange): void {
  if (!tr.start) vr.error("time ranges start must contain a start");
  else if (!validClock(tr.start)) vr.error(`start in time range is invalid ${JSON.stringify(tr.start)}`);
  if (!tr.end) vr.error("time ranges end must contain an end");
  else if (!validClock(tr.end)) vr.error(`end in time range is invalid ${JSON.stringify(tr.end)}`);
}

function validateUserLimits(vr: Results, u: UserPermissionLimits): void {
  for (const cidr of u.src ?? []) {
    if (parseCidr(cidr) === undefined) vr.error(`invalid cidr ${JSON.stringify(cidr)} in user src limits`);
  }
  for (const t of u.times ?? []) validateTimeRange(vr, t);
  const loc = u.times_location;
  if (loc) {
    try {
      if (loc !== "Local" && loc !== "UTC") new Intl.DateTimeFormat("en-US", { timeZone: loc });
    } catch {
      vr.error(`could not parse iana time zone by name: unknown time zone ${loc}`);
    }
  }
}

function validateUser(vr: Results, uc: UserClaims, nowS: number): void {
  validateClaimsData(vr, uc, nowS);
  validatePermissions(vr, uc.nats);
  validateUserLimits(vr, uc.nats);
  const ia = uc.nats.issuer_account;
  if (ia && !isKey(ia, NKEY_PREFIX.account)) vr.error("account_id is not an account public key");
}

function validateExport(vr: Results, e: JwtExport): void {
  const isService = e.type === "service";
  const isStream = e.type === "stream";
  if (!isService && !isStream) vr.error(`invalid export type: ${JSON.stringify(e.type ?? "unknown")}`);
  const rt = e.response_type ?? "";
  if (isService && rt !== "" && rt !== "Singleton" && rt !== "Stream" && rt !== "Chunked") {
    vr.error(`invalid response type for service: ${JSON.stringify(rt)}`);
  }
  if (isStream && rt !== "") vr.error(`invalid response type for stream: ${JSON.stringify(rt)}`);
  if (e.service_latency != null) {
    if (!isService) vr.error("latency tracking only permitted for services");
    const s = e.service_latency.sampling;
    if (typeof s === "number" && s !== 0 && (s < 1 || s > 100)) {
      vr.error("sampling percentage needs to be between 1-100");
    }
    checkSubject(vr, e.service_latency.results);
    if (hasWildcards(e.service_latency.results ?? "")) vr.error("results subject can not contain wildcards");
  }
  const th = e.response_threshold ?? 0;
  if (th < 0) vr.error("negative response threshold is invalid");
  if (th > 0 && !isService) vr.error("response threshold only valid for services");
  checkSubject(vr, e.subject);
  const pos = e.account_token_position ?? 0;
  if (pos > 0) {
    const subj = e.subject ?? "";
    if (!hasWildcards(subj)) {
      vr.error(`Account Token Position can only be used with wildcard subjects: ${subj}`);
    } else {
      const toks = subj.split(".");
      if (pos > toks.length) {
        vr.error(`Account Token Position ${pos} exceeds length of subject '${subj}'`);
      } else if (toks[pos - 1] !== "*") {
        vr.error(`Account Token Position ${pos} matches '${toks[pos - 1]}' but must match a * in: ${subj}`);
      }
    }
  }
}

/** True when subject `s` lies inside `other` (the library's Subject.IsContainedIn). */
export function subjectContainedIn(s: string, other: string): boolean {
  const o = other.split(".");
  const m = s.split(".");
  if (m.length > o.length && o[o.length - 1] !== ">") return false;
  if (m.length < o.length) return false;
  for (let i = 0; i < o.length; i++) {
    if (i === o.length - 1 && o[i] === ">") return true;
    if (o[i] !== m[i] && o[i] !== "*") return false;
  }
  return true;
}

function validateExports(vr: Results, exports: JwtExport[]): void {
  const byKind: Record<string, string[]> = { service: [], stream: [] };
  for (const e of exports) {
    if (e == null) {
      vr.error("null export is not allowed");
      continue;
    }
    (e.type === "service" ? byKind.service : byKind.stream).push(e.subject ?? "");
    validateExport(vr, e);
  }
  for (const [kind, subjects] of Object.entries(byKind)) {
    const seen = new Map<string, string>();
    for (let i = 0; i < subjects.length; i++) {
      for (let j = 0; j < subjects.length; j++) {
        if (i !== j && subjectContainedIn(subjects[i], subjects[j]) && !seen.has(subjects[j])) {
          seen.set(subjects[j], subjects[i]);
        }
      }
    }
    for (const [k, v] of seen) {
      vr.error(`${kind} export subject ${JSON.stringify(k)} already exports ${JSON.stringify(v)}`);
    }
  }
}

function validateImports(vr: Results, imports: JwtImport[], acctPub: string): void {
  const toSet = new Set<string>();
  for (const i of imports) {
    if (i == null) {
      vr.error("null import is not allowed");
      continue;
    }
    if (i.type === "service") {
      const sub = i.to || i.local_subject || i.subject || "";
      for (const k of toSet) {
        if (subjectContainedIn(sub, k) || subjectContainedIn(k, sub)) {
          vr.error(`overlapping subject namespace for ${JSON.stringify(sub)} and ${JSON.stringify(k)}`);
        }
      }
      if (toSet.has(sub)) vr.error(`overlapping subject namespace for ${JSON.stringify(i.to ?? "")}`);
      toSet.add(sub);
    }
    if (i.type !== "service" && i.type !== "stream") {
      vr.error(`invalid import type: ${JSON.stringify(i.type ?? "unknown")}`);
    }
    if (!i.account) vr.error("account to import from is not specified");
    if (i.to) vr.warn("the field to has been deprecated (use LocalSubject instead)");
    checkSubject(vr, i.subject);
    if (i.local_subject && i.to) vr.error("Local Subject replaces To");
    if (i.share && i.type !== "service") {
      vr.error(
        `sharing information (for latency tracking) is only valid for services: ${JSON.stringify(i.subject)}`,
      );
    }
    if (i.token) validateImportToken(vr, i, acctPub);
  }
}

/** The activation token of an import, checked against the import and the account it is in. */
function validateImportToken(vr: Results, i: JwtImport, acctPub: string): void {
  let act: ActivationClaims;
  try {
    act = decodeActivationClaims(i.token ?? "");
  } catch {
    vr.error(`import ${JSON.stringify(i.subject ?? "")} contains an invalid activation token`);
    return;
  }
  if (!(act.iss === i.account || act.nats.issuer_account === i.account)) {
    vr.error(`activation token doesn't match account for import ${JSON.stringify(i.subject ?? "")}`);
  }
  if (act.sub !== acctPub) {
    vr.error(
      `activation token doesn't match account it is being included in, ${JSON.stringify(i.subject ?? "")}`,
    );
  }
  if (act.nats.kind !== i.type) {
    vr.error(`mismatch between token import type ${act.nats.kind ?? ""} and type of import ${i.type ?? ""}`);
  }
  validateActivation(vr, act, 0, false);
  const subj = i.type === "service" && i.to ? i.to : i.subject ?? "";
  if (!subjectContainedIn(subj, act.nats.subject ?? "")) {
    vr.error(
      `activation token import subject ${JSON.stringify(act.nats.subject ?? "")} doesn't match import ${
        JSON.stringify(i.subject ?? "")
      }`,
    );
  }
}

function validateAccount(vr: Results, ac: AccountClaims, nowS: number): void {
  validateClaimsData(vr, ac, nowS);
  const a = ac.nats;
  validateImports(vr, a.imports ?? [], ac.sub ?? "");
  validateExports(vr, a.exports ?? []);
  const lim = a.limits ?? {};
  if (lim.tiered_limits && Object.keys(lim.tiered_limits).length > 0) {
    if ((lim.mem_storage ?? 0) !== 0 || (lim.disk_storage ?? 0) !== 0 || (lim.streams ?? 0) !== 0) {
      vr.error("JetStream Limits and tiered JetStream Limits are mutually exclusive");
    }
    if ("" in lim.tiered_limits) vr.error(`Tiered JetStream Limits can not contain a blank "" tier name`);
  }
  validatePermissions(vr, a.default_permissions ?? {});
  for (const [from, dests] of Object.entries(a.mappings ?? {})) {
    checkSubject(vr, from);
    let total = 0;
    for (const d of dests) {
      checkSubject(vr, d.subject);
      if (hasWildcards(d.subject ?? "")) {
        vr.error(`Subject "${d.subject}" in weighted mapping "${from}" is not allowed to contains wildcard`);
      }
      total += d.weight || 100;
    }
    if (total > 100) vr.error(`Mapping "${from}" exceeds 100% among all of it's weighted to mappings`);
  }
  const nImports = (a.imports ?? []).length;
  const nExports = (a.exports ?? []).length;
  if (lim.imports !== undefined && lim.imports !== -1 && nImports > lim.imports) {
    vr.error("the account contains more imports than allowed by the operator");
  }
  if (lim.exports !== undefined && lim.exports !== -1) {
    if (nExports > lim.exports) vr.error("the account contains more exports than allowed by the operator");
    if (!lim.wildcards) {
      for (const e of a.exports ?? []) {
        if (hasWildcards(e.subject ?? "")) {
          vr.error("the account contains wildcard exports that are not allowed by the operator");
        }
      }
    }
  }
  for (const k of a.signing_keys ?? []) {
    if (typeof k === "string") {
      if (!isKey(k, NKEY_PREFIX.account)) vr.error(`${JSON.stringify(k)} is not a valid account signing key`);
    } else if (!isKey((k as UserScope).key, NKEY_PREFIX.account)) {
      vr.error(`${(k as UserScope).key} is not an account public key`);
    }
  }
  if ((a.description ?? "").length > 8192) vr.error("Description is too long");
  if (isKey(ac.iss, NKEY_PREFIX.account)) {
    const l = a.limits;
    if (l !== undefined && Object.keys(l).length > 0) {
      vr.warn("self-signed account JWTs shouldn't contain operator limits");
    }
  }
}

function validateOperator(vr: Results, oc: OperatorClaims, nowS: number): void {
  validateClaimsData(vr, oc, nowS);
  const o = oc.nats;
  const url = o.account_server_url;
  if (url) {
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url)) {
      vr.error(`account server url ${JSON.stringify(url)} requires a protocol`);
    }
  }
  for (const u of o.operator_service_urls ?? []) {
    if (!u) continue;
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(.*)$/.exec(u);
    const scheme = m?.[1].toLowerCase() ?? "";
    if (m !== null && m[2].includes("@")) {
      vr.error(`operator service url ${JSON.stringify(u)} - credentials are not supported`);
    } else if (m !== null && m[3] !== "") {
      vr.error(`operator service url ${JSON.stringify(u)} - paths are not supported`);
    } else if (scheme !== "nats" && scheme !== "tls") {
      vr.error(
        `operator service url ${JSON.stringify(u)} - protocol not supported (only 'nats' or 'tls' only)`,
      );
    }
  }
  for (const k of o.signing_keys ?? []) {
    if (!isKey(k, NKEY_PREFIX.operator)) vr.error(`${k} is not an operator public key`);
  }
  if (o.system_account && !isKey(o.system_account, NKEY_PREFIX.account)) {
    vr.error(`${o.system_account} is not an account public key`);
  }
  const err = serverVersionError(o.assert_server_version ?? "");
  if (err !== undefined) vr.error(`assert server version error: ${err}`);
}

/** The library's check of an `assert_server_version` ("<major>.<minor>.<update>"); undefined when valid. */
export function serverVersionError(v: string): string | undefined {
  if (v === "") return undefined;
  const parts = v.split(".");
  if (parts.length !== 3) return "asserted server version must be of the form <major>.<minor>.<update>";
  for (const p of parts) {
    if (!/^[+-]?\d+$/.test(p)) return `asserted server version cant parse ${p} to int`;
  }
  if (parts.some((p) => Number(p) < 0)) return `asserted server version can'b contain negative values: ${v}`;
  return undefined;
}

function validateActivation(vr: Results, ac: ActivationClaims, nowS: number, timeChecks: boolean): void {
  if (timeChecks) validateClaimsData(vr, ac, nowS);
  const a = ac.nats;
  if (a.kind !== "service" && a.kind !== "stream") {
    vr.error(`invalid import type: ${JSON.stringify(a.kind ?? "unknown")}`);
  }
  checkSubject(vr, a.subject);
  if (a.issuer_account && !isKey(a.issuer_account, NKEY_PREFIX.account)) {
    vr.error("account_id is not an account public key");
  }
}

/**
 * Validates decoded claims as the library's Validate does for their kind: expiry and not-before (time
 * checks), then content.
 */
export function validateClaims(c: AnyClaims, nowMs: number = Date.now()): ValidationResults {
  const vr = new Results();
  const nowS = Math.floor(nowMs / 1000);
  switch (c.type) {
    case "user":
      validateUser(vr, c.claims, nowS);
      break;
    case "account":
      validateAccount(vr, c.claims, nowS);
      break;
    case "operator":
      validateOperator(vr, c.claims, nowS);
      break;
    case "activation":
      validateActivation(vr, c.claims, nowS, true);
      break;
    default:
      validateClaimsData(vr, c.claims, nowS);
  }
  return vr;
}

// ---- CIDRs ------------------------------------------------------------------------------------------------

/** A parsed network: address bytes (4 or 16) and prefix length. */
export interface Cidr {
  addr: Uint8Array;
  bits: number;
}

function parseIpv4(s: string): Uint8Array | undefined {
  const p = s.split(".");
  if (p.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(p[i]) || (p[i].length > 1 && p[i][0] === "0")) return undefined;
    const n = Number(p[i]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | undefined {
  let tail: Uint8Array | undefined;
  let str = s;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    tail = parseIpv4(s.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    str = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = str.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string) => h === "" ? [] : h.split(":");
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? fill : 0).fill("0"), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(all[i])) return undefined;
    const n = parseInt(all[i], 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (tail !== undefined) out.set(tail, 12);
  return out;
}

/** Parses an IP address (v4 or v6) to its bytes; undefined when invalid. */
export function parseIp(s: string): Uint8Array | undefined {
  const h = s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
  return h.includes(":") ? parseIpv6(h) : parseIpv4(h);
}

/** Parses "addr/bits" as Go's net.ParseCIDR accepts it; undefined when invalid. */
export function parseCidr(s: string): Cidr | undefined {
  const i = s.indexOf("/");
  if (i < 0) return undefined;
  const addr = parseIp(s.slice(0, i));
  const b = s.slice(i + 1);
  if (addr === undefined || !/^\d{1,3}$/.test(b)) return undefined;
  const bits = Number(b);
  if (bits > addr.length * 8) return undefined;
  return { addr, bits };
}

/** True when `host` (an IP address) lies in the network. IPv4-mapped IPv6 addresses match IPv4 networks. */
export function cidrContains(c: Cidr, host: string): boolean {
  let ip = parseIp(host);
  if (ip === undefined) return false;
  if (ip.length === 16 && c.addr.length === 4) {
    const mapped = ip.subarray(0, 10).every((x) => x === 0) && ip[10] === 0xff && ip[11] === 0xff;
    if (!mapped) return false;
    ip = ip.subarray(12);
  } else if (ip.length === 4 && c.addr.length === 16) return false;
  let bits = c.bits;
  for (let i = 0; i < c.addr.length && bits > 0; i++) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i] & m) !== (c.addr[i] & m)) return false;
    bits -= 8;
  }
  return true;
}
