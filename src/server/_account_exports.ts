// Export authorization and subject mappings of an account; behaviour follows nats-server server/accounts.go
// (setExportAuth, checkAuth, AddWeightedMappings, selectMappedSubject).

import {
  type SubjectTransform,
  SubjectTransform as Transform,
  transformTokenize,
  validateMapping,
} from "../sublist/mod.ts";
import type { MapDest } from "../config/mod.ts";
import type { JwtImport } from "../auth/mod.ts";
import type { Account } from "./account.ts";
import { AccountError, ERR } from "./_account_errors.ts";

/** The import entry of an account JWT that asked for an import (operator mode), with its activation token. */
export type ImportClaim = JwtImport;

/** Who may import an export. Empty (no approved list, no token, no position) means public. */
export interface ExportAuth {
  /** An activation token is required (operator mode). */
  tokenReq?: boolean;
  /** 1-based token of the subject that must equal the importing account's name. */
  accountPos?: number;
  /** Accounts allowed to import, by name. */
  approved?: Map<string, Account>;
  /** Revoked activation tokens (operator mode): importing account → revoked when issued at or before. */
  actsRevoked?: Record<string, number>;
}

/** Fills `ea` from an export's account list and token position, as nats-server's setExportAuth. */
export function setExportAuth(
  ea: ExportAuth,
  subject: string,
  accounts: Account[] | undefined,
  accountPos: number,
): void {
  if (accountPos > 0) {
    const toks = subject.split(".");
    if (toks.length < accountPos || toks[accountPos - 1] !== "*") throw new AccountError(ERR.invalidSubject);
  }
  ea.accountPos = accountPos;
  if (accounts === undefined) return;
  if (accounts.length === 0) {
    ea.tokenReq = true;
    return;
  }
  ea.approved ??= new Map();
  for (const a of accounts) ea.approved.set(a.name, a);
}

/** True when `importer` passes the export's authorization; `tokens` are the import subject's tokens. */
export function checkExportAuth(
  ea: ExportAuth | undefined,
  importer: Account,
  tokens: string[] | undefined,
  exporter?: Account,
  claim?: ImportClaim,
): boolean {
  if (ea === undefined) return true;
  const pos = ea.accountPos ?? 0;
  if ((ea.approved === undefined || ea.approved.size === 0) && !ea.tokenReq && pos === 0) return true;
  if (pos > 0) return tokens !== undefined && pos <= tokens.length && tokens[pos - 1] === importer.name;
  // Activation tokens belong to operator mode, which installs the check; without it the import is refused.
  if (ea.tokenReq) return exporter?.activationCheck?.(importer, claim, ea, true) ?? false;
  return ea.approved?.has(importer.name) ?? false;
}

/** One weighted destination; `weight` is cumulative once the mapping is built. */
interface Destination {
  tr: SubjectTransform;
  weight: number;
}

/** A subject mapping with its destinations sorted by weight and made cumulative. */
export interface Mapping {
  src: string;
  wc: boolean;
  dests: Destination[];
  /** Cluster-scoped destinations; natsdeno has no cluster yet, so these are parsed and kept, not used. */
  cdests?: Map<string, Destination[]>;
}

/** Builds a mapping as nats-server's AddWeightedMappings, with its error texts. */
export function newMapping(src: string, dests: MapDest[]): Mapping {
  if (!isValidSubjectForMapping(src)) throw new AccountError(ERR.badSubject);
  const wc = !isLiteral(src);
  const m: Mapping = { src, wc, dests: [] };
  const seen = new Set<string>();
  let tw = 0;
  for (const d of dests) {
    if (seen.has(d.subject)) throw new AccountError(`duplicate entry for ${JSON.stringify(d.subject)}`);
    seen.add(d.subject);
    if (d.weight > 100) throw new AccountError("individual weights need to be <= 100");
    tw += d.weight;
    if (tw > 100) throw new AccountError("total weight needs to be <= 100");
    const err = validateMapping(src, d.subject);
    if (err !== undefined) throw new AccountError(err.message, { cause: err });
    const tr = Transform.create(src, d.subject);
    if (d.cluster === undefined || d.cluster === "") m.dests.push({ tr, weight: d.weight });
    else {
      m.cdests ??= new Map();
      const list = m.cdests.get(d.cluster) ?? [];
      list.push({ tr, weight: d.weight });
      m.cdests.set(d.cluster, list);
    }
  }
  const process = (list: Destination[]): Destination[] => {
    let ltw = 0;
    for (const d of list) ltw += d.weight;
    // Weights under 100% leave the rest on the source subject, unless the source is listed itself (loss).
    if (ltw !== 100 && !seen.has(src)) {
      const dest = wc ? transformTokenize(src) : src;
      list.push({ tr: Transform.create(src, dest), weight: list.length === 0 ? 100 : 100 - ltw });
    }
    list.sort((a, b) => a.weight - b.weight);
    let lw = 0;
    for (const d of list) {
      d.weight += lw;
      lw = d.weight;
    }
    return list;
  };
  m.dests = process(m.dests);
  if (m.cdests) { for (const [k, v] of m.cdests) m.cdests.set(k, process(v)); }
  return m;
}

/** Picks the destination for a published subject; undefined when no mapping matches. */
export function selectMapped(mappings: Mapping[], subject: string): string | undefined {
  let tokens: string[] | undefined;
  let m: Mapping | undefined;
  for (const rm of mappings) {
    if (!rm.wc) {
      if (rm.src === subject) {
        m = rm;
        break;
      }
      continue;
    }
    tokens ??= subject.split(".");
    if (matchTokens(tokens, rm.src)) {
      m = rm;
      break;
    }
  }
  if (m === undefined) return undefined;
  const dests = m.dests;
  let d: Destination | undefined;
  if (dests.length === 1 && dests[0].weight === 100) d = dests[0];
  else {
    const w = Math.floor(Math.random() * 100);
    for (const rd of dests) {
      if (w < rd.weight) {
        d = rd;
        break;
      }
    }
  }
  if (d === undefined) return "";
  if (d.tr.isLiteral) return d.tr.dest;
  return d.tr.transformTokens(tokens ?? subject.split("."));
}

function matchTokens(lit: string[], pattern: string): boolean {
  const pat = pattern.split(".");
  for (let i = 0; i < pat.length; i++) {
    const p = pat[i];
    if (p === ">") return lit.length > i;
    if (i >= lit.length) return false;
    if (p !== "*" && p !== lit[i]) return false;
  }
  return lit.length === pat.length;
}

function isLiteral(s: string): boolean {
  for (const t of s.split(".")) if (t === "*" || t === ">") return false;
  return true;
}

function isValidSubjectForMapping(s: string): boolean {
  if (s === "") return false;
  const toks = s.split(".");
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t === "" || /[ \t\r\n\f]/.test(t)) return false;
    if (t === ">" && i !== toks.length - 1) return false;
  }
  return true;
}
