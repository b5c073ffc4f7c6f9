// The `accounts {}` block and top-level `mappings` mapped onto Options. Keys, aliases and error texts follow
// nats-server server/opts.go (parseAccounts, parseAccountImports/Exports, parseExportStreamOrService,
// parseImportStreamOrService, parseServiceLatency, parseAccountMappings, parseAccountMapDest,
// parseAccountLimits). Checks that need the accounts built (authorization of imports, cycles, transforms)
// happen when the server builds them (src/server/_account_config.ts), with the block's position.
import { fromPublic } from "@nats-io/nkeys";
import { parseDuration } from "../util/mod.ts";
import { parseUserPermissions, parseUsers } from "./_auth_tls.ts";
import type { ConfigMap, ConfigValue } from "./_tree.ts";
import {
  FieldFault,
  goQuote,
  goType,
  goValue,
  isMap,
  isValidSubject,
  type Ref,
  refOf,
  type Report,
  where,
} from "./_values.ts";
import type {
  AccountExport,
  AccountImport,
  AccountOptions,
  MapDest,
  NkeyUser,
  Options,
  SubjectMapping,
  User,
} from "./options.ts";

/** The global account's name: reserved, a config may not define it. */
const GLOBAL_ACCOUNT = "$G";

/** Go's `%T` for a config value in the messages that print types. */
function typeName(v: ConfigValue, ref?: Ref): string {
  return goType(v, ref?.kind);
}

/** Unlimited account limits, as a new account has them. */
export function unlimitedAccountLimits(): AccountOptions["limits"] {
  return { maxConnections: -1, maxSubscriptions: -1, maxPayload: -1, maxLeafnodes: -1 };
}

function newAccount(name: string): AccountOptions {
  return { name, exports: [], imports: [], mappings: [], limits: unlimitedAccountLimits() };
}

function isValidAccountNkey(key: string): boolean {
  if (!key.startsWith("A")) return false;
  try {
    fromPublic(key);
    return true;
  } catch {
    return false;
  }
}

/** Reads an `accounts` value (a list of names or a map of account blocks) into `o.accounts` and users. */
export function parseAccounts(o: Options, v: ConfigValue, ref: Ref | undefined, report: Report): void {
  if (ref) o.accountsPos = where(ref);
  if (Array.isArray(v)) {
    const seen = new Set<string>();
    v.forEach((n, i) => {
      const r = refOf(v, i);
      if (typeof n !== "string") {
        report.error(r, `interface conversion: interface {} is ${typeName(n, r)}, not string`);
        return;
      }
      if (n === GLOBAL_ACCOUNT) {
        report.error(r, `${goQuote(n)} is a Reserved Account`);
        return;
      }
      if (seen.has(n)) {
        report.error(r, `Duplicate Account Entry: ${n}`);
        return;
      }
      seen.add(n);
      o.accounts.push(newAccount(n));
    });
    return;
  }
  if (!isMap(v)) {
    throw new FieldFault(`interface conversion: interface {} is ${typeName(v, ref)}, not []interface {}`);
  }
  // Users and nkeys must be unique across accounts and the authorization block.
  const names = new Set<string>([...o.users.map((u) => u.username), ...o.nkeys.map((u) => u.nkey)]);
  for (const [aname, av] of Object.entries(v)) {
    const aref = refOf(v, aname);
    if (aref?.usedVariable) continue;
    if (!isMap(av)) {
      report.error(aref, "Expected map entries for accounts");
      continue;
    }
    if (aname === GLOBAL_ACCOUNT) {
      report.error(aref, `${goQuote(aname)} is a Reserved Account`);
      continue;
    }
    const acc = newAccount(aname);
    o.accounts.push(acc);
    let users: User[] = [];
    let nkeys: NkeyUser[] = [];
    let usersRef: Ref | undefined;
    for (const [k, val] of Object.entries(av)) {
      const r = refOf(av, k);
      report.guard(r, () => {
        switch (k.toLowerCase()) {
          case "nkey":
            if (typeof val !== "string" || !isValidAccountNkey(val)) {
              report.error(r, `Not a valid public nkey for an account: ${goQuote(goValue(val))}`);
              return;
            }
            acc.nkey = val;
            break;
          case "imports":
            acc.imports.push(...parseImports(val, r, report));
            break;
          case "exports":
            acc.exports.push(...parseExports(val, r, report));
            break;
          case "jetstream":
            acc.jetstream = val;
            break;
          case "users": {
            usersRef = r;
            const parsed = parseUsers(val, r, report);
            if (parsed) {
              users = parsed.users;
              nkeys = parsed.nkeys;
            }
            break;
          }
          case "default_permissions": {
            const p = parseUserPermissions(val, r, report);
            if (p) acc.defaultPermissions = p;
            break;
          }
          case "mappings":
          case "maps":
            acc.mappings.push(...parseMappings(val, r, report));
            break;
          case "limits":
            parseLimits(acc, val, r, report);
            break;
          case "msg_trace":
          case "trace_dest":
            // Message tracing (2.11) is not implemented; the value is accepted.
            break;
          default:
            report.unknownField(r, k);
        }
      });
    }
    if (users.length > 0 || nkeys.length > 0) {
      if (o.username) {
        report.error(usersRef, "Can not have a single user/pass and accounts");
        continue;
      }
      if (o.authorization) {
        report.error(usersRef, "Can not have a token and accounts");
        continue;
      }
    }
    if (acc.defaultPermissions) {
      for (const u of users) u.permissions ??= acc.defaultPermissions;
      for (const u of nkeys) u.permissions ??= acc.defaultPermissions;
    }
    for (const u of nkeys) {
      if (names.has(u.nkey)) {
        report.error(usersRef, `Duplicate nkey ${goQuote(u.nkey)} detected`);
        continue;
      }
      names.add(u.nkey);
      u.account = aname;
      o.nkeys.push(u);
    }
    for (const u of users) {
      if (names.has(u.username)) {
        report.error(usersRef, `Duplicate user ${goQuote(u.username)} detected`);
        continue;
      }
      names.add(u.username);
      u.account = aname;
      o.users.push(u);
    }
  }
}

function parseExports(v: ConfigValue, ref: Ref | undefined, report: Report): AccountExport[] {
  if (!Array.isArray(v)) throw new FieldFault(`Exports should be an array, got ${typeName(v, ref)}`);
  const out: AccountExport[] = [];
  v.forEach((e, i) => {
    const r = refOf(v, i);
    report.guard(r, () => {
      const ex = parseExport(e, r, report);
      if (ex) out.push(ex);
    });
  });
  return out;
}

/** `{stream: subj, accounts: [...]}` or `{service: subj, response_type, response_threshold, latency}`. */
function parseExport(v: ConfigValue, ref: Ref | undefined, report: Report): AccountExport | undefined {
  if (!isMap(v)) {
    throw new FieldFault(`Export Items should be a map with type entry, got ${typeName(v, ref)}`);
  }
  let kind: "stream" | "service" | undefined;
  let subject = "";
  let accounts: string[] | undefined;
  let rt: AccountExport["responseType"];
  let rtRef: Ref | undefined;
  let threshMs: number | undefined;
  let latency: AccountExport["latency"];
  let latRef: Ref | undefined;
  let tokenPos = 0;
  for (const [k, val] of Object.entries(v)) {
    const r = refOf(v, k);
    switch (k.toLowerCase()) {
      case "stream":
        if (kind === "service") {
          report.error(r, `Detected stream ${goQuote(goValue(val))} but already saw a service`);
          continue;
        }
        if (rtRef) {
          report.error(rtRef, "Detected response directive on non-service");
          continue;
        }
        if (latRef) {
          report.error(latRef, "Detected latency directive on non-service");
          continue;
        }
        if (typeof val !== "string") {
          report.error(r, `Expected stream name to be string, got ${typeName(val, r)}`);
          continue;
        }
        kind = "stream";
        subject = val;
        break;
      case "service":
        if (kind === "stream") {
          report.error(r, `Detected service ${goQuote(goValue(val))} but already saw a stream`);
          continue;
        }
        if (typeof val !== "string") {
          report.error(r, `Expected service name to be string, got ${typeName(val, r)}`);
          continue;
        }
        kind = "service";
        subject = val;
        break;
      case "response":
      case "response_type": {
        if (rtRef) {
          report.error(r, "Duplicate response type definition");
          continue;
        }
        rtRef = r ?? { file: "", line: 0, pos: 0 };
        if (typeof val !== "string") {
          report.error(r, `Expected response type to be string, got ${typeName(val, r)}`);
          continue;
        }
        switch (val.toLowerCase()) {
          case "single":
          case "singleton":
            rt = "Singleton";
            break;
          case "stream":
            rt = "Streamed";
            break;
          case "chunk":
          case "chunked":
            rt = "Chunked";
            break;
          default:
            report.error(r, `Unknown response type: ${goQuote(val)}`);
            continue;
        }
        if (kind === "stream") report.error(r, "Detected response directive on non-service");
        break;
      }
      case "threshold":
      case "response_threshold":
      case "response_max_time":
      case "response_time": {
        if (threshMs !== undefined) {
          report.error(r, "Duplicate response threshold detected");
          continue;
        }
        threshMs = 0;
        if (typeof val !== "string") {
          report.error(
            r,
            `Expected response threshold to be a parseable time duration, got ${typeName(val, r)}`,
          );
          continue;
        }
        try {
          threshMs = parseDuration(val);
        } catch {
          report.error(r, `Expected response threshold to be a parseable time duration, got ${goQuote(val)}`);
          continue;
        }
        if (kind === "stream") report.error(r, "Detected response directive on non-service");
        break;
      }
      case "accounts": {
        if (!Array.isArray(val)) {
          throw new FieldFault(
            `interface conversion: interface {} is ${typeName(val, r)}, not []interface {}`,
          );
        }
        accounts = val.map((a, i) => {
          if (typeof a !== "string") {
            throw new FieldFault(
              `interface conversion: interface {} is ${typeName(a, refOf(val, i))}, not string`,
              refOf(val, i),
            );
          }
          return a;
        });
        break;
      }
      case "latency": {
        latRef = r ?? { file: "", line: 0, pos: 0 };
        const l = parseServiceLatency(val, r);
        if (l instanceof FieldFault) {
          report.error(l.ref ?? r, l.message);
          continue;
        }
        if (kind === "stream") {
          report.error(r, "Detected latency directive on non-service");
          continue;
        }
        latency = l;
        break;
      }
      case "account_token_position":
        if (typeof val !== "number" || !Number.isInteger(val)) {
          throw new FieldFault(`interface conversion: interface {} is ${typeName(val, r)}, not int64`);
        }
        tokenPos = val;
        break;
      case "allow_trace":
        break;
      default:
        report.unknownField(r, k);
    }
  }
  if (kind === undefined) return undefined;
  const ex: AccountExport = { kind, subject, accountTokenPosition: tokenPos };
  if (accounts !== undefined) ex.accounts = accounts;
  if (kind === "service") {
    if (rt !== undefined) ex.responseType = rt;
    if (threshMs !== undefined && threshMs !== 0) ex.responseThresholdMs = threshMs;
    if (latency !== undefined) ex.latency = latency;
  }
  return ex;
}

/** `latency: "subject"` or `{sampling: 50 | "50%" | "headers", subject}`. */
function parseServiceLatency(
  v: ConfigValue,
  ref: Ref | undefined,
): { sampling: number; subject: string } | FieldFault {
  if (typeof v === "string") return { sampling: 100, subject: v };
  if (!isMap(v)) {
    return new FieldFault(
      `Expected latency entry to be a map/struct or string, got ${typeName(v, ref)}`,
      ref,
    );
  }
  let sampling = 100;
  if (Object.hasOwn(v, "sampling")) {
    const s = v.sampling;
    const r = refOf(v, "sampling");
    let header = false;
    if (typeof s === "number" && Number.isInteger(s) && r?.kind !== "float") sampling = s;
    else if (typeof s === "string") {
      if (s.trim().toLowerCase() === "headers") {
        header = true;
        sampling = 0;
      } else {
        const t = s.endsWith("%") ? s.slice(0, -1) : s;
        if (!/^[+-]?[0-9]+$/.test(t)) {
          return new FieldFault(
            `Failed to parse latency sample: strconv.Atoi: parsing ${goQuote(t)}: invalid syntax`,
            r,
          );
        }
        sampling = Number(t);
      }
    } else {
      return new FieldFault(
        `Expected latency sample to be a string or map/struct, got ${typeName(s, r)}`,
        r,
      );
    }
    if (!header && (sampling < 1 || sampling > 100)) {
      return new FieldFault("bad sampling percentage, should be 1-100", r);
    }
  }
  if (!Object.hasOwn(v, "subject")) return new FieldFault("Latency subject required, but missing", ref);
  const subj = v.subject;
  if (typeof subj !== "string") {
    return new FieldFault("Expected latency subject to be a string, got string", refOf(v, "subject"));
  }
  return { sampling, subject: subj };
}

function parseImports(v: ConfigValue, ref: Ref | undefined, report: Report): AccountImport[] {
  if (!Array.isArray(v)) throw new FieldFault(`Imports should be an array, got ${typeName(v, ref)}`);
  const out: AccountImport[] = [];
  const svcSubjects = new Map<string, AccountImport>();
  v.forEach((e, i) => {
    const r = refOf(v, i);
    report.guard(r, () => {
      const im = parseImport(e, r, report);
      if (im === undefined) return;
      if (im.kind === "service") {
        const to = im.to ?? im.subject;
        const dup = svcSubjects.get(to);
        if (dup) {
          report.error(
            r,
            `Duplicate service import subject ${goQuote(to)}, previously used in import for account ${
              goQuote(dup.account)
            }, subject ${goQuote(dup.subject)}`,
          );
          return;
        }
        svcSubjects.set(to, im);
      }
      out.push(im);
    });
  });
  return out;
}

/** `{account, subject}` of an import; unknown keys are errors. */
function parseImportSource(m: ConfigMap, report: Report): { account: string; subject: string } {
  let account = "";
  let subject = "";
  for (const [k, val] of Object.entries(m)) {
    const r = refOf(m, k);
    switch (k.toLowerCase()) {
      case "account":
        if (typeof val !== "string") {
          throw new FieldFault(`interface conversion: interface {} is ${typeName(val, r)}, not string`, r);
        }
        account = val;
        break;
      case "subject":
        if (typeof val !== "string") {
          throw new FieldFault(`interface conversion: interface {} is ${typeName(val, r)}, not string`, r);
        }
        subject = val;
        break;
      default:
        report.unknownField(r, k);
    }
  }
  return { account, subject };
}

/** `{stream: {account, subject}, prefix | to}` or `{service: {account, subject}, to, share}`. */
function parseImport(v: ConfigValue, ref: Ref | undefined, report: Report): AccountImport | undefined {
  if (!isMap(v)) {
    throw new FieldFault(`Import Items should be a map with type entry, got ${typeName(v, ref)}`);
  }
  let cur: AccountImport | undefined;
  let pre = "";
  let to = "";
  let share = false;
  for (const [k, val] of Object.entries(v)) {
    const r = refOf(v, k);
    const str = () => {
      if (typeof val !== "string") {
        throw new FieldFault(`interface conversion: interface {} is ${typeName(val, r)}, not string`, r);
      }
      return val;
    };
    switch (k.toLowerCase()) {
      case "stream":
      case "service": {
        const kind = k.toLowerCase() as "stream" | "service";
        if (cur !== undefined) {
          report.error(
            r,
            kind === "stream"
              ? "Detected stream but already saw a service"
              : "Detected service but already saw a stream",
          );
          continue;
        }
        if (!isMap(val)) {
          report.error(
            r,
            `${kind === "stream" ? "Stream" : "Service"} entry should be an account map, got ${
              typeName(val, r)
            }`,
          );
          continue;
        }
        const src = parseImportSource(val, report);
        if (src.account === "" || src.subject === "") {
          report.error(r, "Expect an account name and a subject");
          continue;
        }
        cur = { kind, account: src.account, subject: src.subject };
        if (kind === "stream") {
          if (to !== "") cur.to = to;
          if (pre !== "") cur.prefix = pre;
        } else {
          cur.to = to !== "" ? to : src.subject;
          cur.share = share;
        }
        break;
      }
      case "prefix":
        pre = str();
        if (cur?.kind === "stream") cur.prefix = pre;
        break;
      case "to":
        to = str();
        if (cur?.kind === "service") cur.to = to;
        if (cur?.kind === "stream") {
          cur.to = to;
          if (cur.prefix) {
            report.error(r, "Stream import can not have a 'prefix' and a 'to' property");
            continue;
          }
        }
        break;
      case "share":
        if (typeof val !== "boolean") {
          throw new FieldFault(`interface conversion: interface {} is ${typeName(val, r)}, not bool`, r);
        }
        share = val;
        if (cur?.kind === "service") cur.share = share;
        break;
      case "allow_trace":
        break;
      default:
        report.unknownField(r, k);
    }
  }
  return cur;
}

/** `mappings { src: dest | {dest, weight, cluster} | [ {...}, ... ] }`. */
export function parseMappings(v: ConfigValue, ref: Ref | undefined, report: Report): SubjectMapping[] {
  if (!isMap(v)) {
    throw new FieldFault(
      `interface conversion: interface {} is ${typeName(v, ref)}, not map[string]interface {}`,
    );
  }
  const out: SubjectMapping[] = [];
  for (const [subj, mv] of Object.entries(v)) {
    const r = refOf(v, subj);
    if (!isValidSubject(subj)) {
      report.error(ref, `Subject ${goQuote(subj)} is not a valid subject`);
      continue;
    }
    const pos = r ? where(r) : ref ? where(ref) : undefined;
    if (typeof mv === "string") {
      out.push({ source: subj, destinations: [{ subject: mv, weight: 100 }], pos });
    } else if (Array.isArray(mv)) {
      const dests: MapDest[] = [];
      mv.forEach((d, i) => {
        const dd = parseMapDest(d, refOf(mv, i), report);
        if (dd) dests.push(dd);
      });
      out.push({ source: subj, destinations: dests, pos });
    } else if (isMap(mv)) {
      const dd = parseMapDest(mv, r, report);
      if (dd) out.push({ source: subj, destinations: [dd], pos });
    } else {
      report.error(r, `Unknown type ${typeName(mv, r)} for mapping destination`);
    }
  }
  return out;
}

function parseMapDest(v: ConfigValue, ref: Ref | undefined, report: Report): MapDest | undefined {
  if (!isMap(v)) {
    report.error(ref, "Expected an entry for the mapping destination");
    return undefined;
  }
  const d: MapDest = { subject: "", weight: 0 };
  let sawWeight = false;
  let last = ref;
  for (const [k, val] of Object.entries(v)) {
    const r = refOf(v, k);
    last = r;
    switch (k.toLowerCase()) {
      case "dest":
      case "destination":
        if (typeof val !== "string") {
          report.error(r, `interface conversion: interface {} is ${typeName(val, r)}, not string`);
          return undefined;
        }
        d.subject = val;
        break;
      case "weight": {
        let w: number;
        if (typeof val === "string") {
          const ws = val.endsWith("%") ? val.slice(0, -1) : val;
          if (!/^[+-]?[0-9]+$/.test(ws)) {
            report.error(r, `Invalid weight ${goQuote(ws)} for mapping destination`);
            return undefined;
          }
          w = Number(ws);
        } else if (typeof val === "number" && Number.isInteger(val) && r?.kind !== "float") {
          w = val;
        } else {
          report.error(r, `Unknown entry type for weight of ${goValue(val)}\n`);
          return undefined;
        }
        if (w > 100 || w < 0) {
          report.error(r, `Invalid weight ${w} for mapping destination`);
          return undefined;
        }
        d.weight = w;
        sawWeight = true;
        break;
      }
      case "cluster":
        if (typeof val !== "string") {
          report.error(r, `interface conversion: interface {} is ${typeName(val, r)}, not string`);
          return undefined;
        }
        d.cluster = val;
        break;
      default:
        report.error(r, `Unknown field ${goQuote(k)} for mapping destination`);
        return undefined;
    }
  }
  if (!sawWeight) {
    report.error(last, `Missing weight for mapping destination ${goQuote(d.subject)}`);
    return undefined;
  }
  return d;
}

function parseLimits(acc: AccountOptions, v: ConfigValue, ref: Ref | undefined, report: Report): void {
  if (!isMap(v)) {
    report.error(ref, `Expected account limits to be a map/struct, got ${goValue(v)}`);
    return;
  }
  for (const [k, val] of Object.entries(v)) {
    const r = refOf(v, k);
    const int = () => {
      if (typeof val !== "number" || !Number.isInteger(val) || r?.kind === "float") {
        throw new FieldFault(`interface conversion: interface {} is ${typeName(val, r)}, not int64`, r);
      }
      // Go keeps these as int32.
      return val | 0;
    };
    switch (k.toLowerCase()) {
      case "max_connections":
      case "max_conn":
        acc.limits.maxConnections = int();
        break;
      case "max_subscriptions":
      case "max_subs":
        acc.limits.maxSubscriptions = int();
        break;
      case "max_payload":
      case "max_pay":
        acc.limits.maxPayload = int();
        break;
      case "max_leafnodes":
      case "max_leafs":
        acc.limits.maxLeafnodes = int();
        break;
      default:
        if (!r?.usedVariable) report.error(r, `Unknown field ${goQuote(k)} parsing account limits`);
    }
  }
}
