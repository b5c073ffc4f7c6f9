// Import cycle detection and the transforms of wildcard service imports; behaviour follows nats-server
// server/accounts.go (serviceImportFormsCycle, checkServiceImportsForCycles, streamImportFormsCycle,
// checkStreamImportsForCycles, addServiceImport's reverse transform).

import {
  subjectsCollide,
  SubjectTransform,
  TransformError,
  transformTokenize,
  transformUntokenize,
} from "../sublist/mod.ts";
import type { Account } from "./account.ts";
import { AccountError, ERR } from "./_account_errors.ts";

const MAX_DEPTH = 1024;

function subsetMatch(subject: string, test: string): boolean {
  const a = subject.split(".");
  const b = test.split(".");
  for (let i = 0; i < b.length; i++) {
    if (i >= a.length) return false;
    const t2 = b[i];
    if (t2 === ">") return true;
    const t1 = a[i];
    if (t1 === ">") return false;
    if (t1 === "*") {
      if (t2 !== "*") return false;
      continue;
    }
    if (t2 !== "*" && t1 !== t2) return false;
  }
  return a.length === b.length;
}

/** Throws "import forms a cycle" when importing `from` of `dest` into `acc` would loop back. */
export function serviceImportFormsCycle(acc: Account, dest: Account, from: string): void {
  checkServiceImportsForCycles(dest, from, new Set([acc.name]));
}

function checkServiceImportsForCycles(a: Account, from: string, visited: Set<string>): void {
  if (visited.size >= MAX_DEPTH) throw new AccountError(ERR.cycleSearchDepth);
  for (const si of a.serviceImports.values()) {
    if (!subjectsCollide(from, si.to)) continue;
    if (visited.has(si.acc.name)) throw new AccountError(ERR.importFormsCycle);
    visited.add(a.name);
    if (subsetMatch(si.from, from)) from = si.from;
    checkServiceImportsForCycles(si.acc, from, visited);
  }
}

/** Throws "import forms a cycle" when importing a stream of `dest` onto `to` in `acc` would loop back. */
export function streamImportFormsCycle(acc: Account, dest: Account, to: string): void {
  checkStreamImportsForCycles(dest, to, new Set([acc.name]));
}

function hasStreamExportMatching(a: Account, to: string): boolean {
  for (const subj of a.streamExports.keys()) if (subsetMatch(to, subj)) return true;
  return false;
}

function checkStreamImportsForCycles(a: Account, to: string, visited: Set<string>): void {
  if (visited.size >= MAX_DEPTH) throw new AccountError(ERR.cycleSearchDepth);
  if (!hasStreamExportMatching(a, to)) return;
  for (const si of a.streamImports) {
    if (!subjectsCollide(to, si.to)) continue;
    if (visited.has(si.acc.name)) throw new AccountError(ERR.importFormsCycle);
    visited.add(a.name);
    if (subsetMatch(si.to, to)) to = si.to;
    checkStreamImportsForCycles(si.acc, to, visited);
  }
}

/**
 * The transform a wildcard service import applies to a request subject: from the local subject `from`
 * (with `*`s) to the exporter's `to` (which may reorder them with `$n`).
 */
export function serviceImportTransform(from: string, to: string): SubjectTransform {
  try {
    const u = transformUntokenize(to).subject;
    const tr = SubjectTransform.create(u, transformTokenize(from));
    const rev = tr.reverse();
    if (rev === undefined) throw new TransformError("invalid subject", undefined, true);
    return rev;
  } catch (e) {
    throw new AccountError(
      `failed to create mapping transform for service import subject ${JSON.stringify(from)} to ${
        JSON.stringify(to)
      }: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** `foo.$1` → `foo.*`. */
export function untokenized(subject: string): string {
  return transformUntokenize(subject).subject;
}
