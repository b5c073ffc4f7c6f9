// Permission templates of scoped signing keys ({{name()}}, {{subject()}}, {{account-name()}},
// {{account-subject()}}, {{tag(x)}}, {{account-tag(x)}}); behaviour follows nats-server server/auth.go
// processUserPermissionsTemplate.
import type { UserClaims, UserPermissionLimits } from "./_jwt_claims.ts";

/** What a template may read of the user's account. */
export interface TemplateAccount {
  /** The account JWT's `name`. */
  nameTag: string;
  tags: string[];
}

/** nats-server's IsValidSubject: non-empty tokens, no whitespace, `>` only last. */
function isValidSubject(s: string): boolean {
  if (s === "" || /\s/.test(s)) return false;
  const toks = s.split(".");
  for (let i = 0; i < toks.length; i++) {
    if (toks[i] === "") return false;
    if (toks[i] === ">" && i !== toks.length - 1) return false;
  }
  return true;
}

function isTemplate(tk: string): boolean {
  return tk.startsWith("{{") && tk.endsWith("}}");
}

function cartesian(lists: string[][]): string[][] {
  let out: string[][] = [[]];
  for (const l of lists) {
    const next: string[][] = [];
    for (const prefix of out) for (const v of l) next.push([...prefix, v]);
    out = next;
  }
  return lists.length === 0 ? [] : out;
}

function applyList(
  list: string[] | undefined,
  failOnBad: boolean,
  uc: UserClaims,
  acc: TemplateAccount,
): string[] | undefined {
  if (list === undefined || !list.some((s) => s.split(".").some(isTemplate))) return list;
  const emitted: string[] = [];
  // A null token marks where tag values go.
  for (const entry of list) {
    const tokens: (string | null)[] = [];
    const tagValues: string[][] = [];
    for (let tk of entry.split(".")) {
      if (isTemplate(tk)) {
        const op = tk.slice(2, -2).toLowerCase();
        if (op === "name()") tk = uc.name ?? "";
        else if (op === "subject()") tk = uc.sub ?? "";
        else if (op === "account-name()") tk = acc.nameTag;
        else if (op === "account-subject()") tk = uc.nats.issuer_account ?? "";
        else if ((op.startsWith("tag(") || op.startsWith("account-tag(")) && op.endsWith(")")) {
          const accountTag = op.startsWith("account-tag(");
          const tags = accountTag ? acc.tags : uc.nats.tags ?? [];
          const prefix = op.slice(accountTag ? 12 : 4, -1).toLowerCase() + ":";
          const values = tags.filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
          if (values.length > 0) tagValues.push(values);
          tokens.push(null);
          continue;
        } else tk = " "; // An unknown function makes the subject invalid on purpose.
      }
      tokens.push(tk);
    }
    const candidates: string[] = [];
    if (tagValues.length === 0) candidates.push(tokens.map((t) => t ?? "").join("."));
    else {
      for (const combo of cartesian(tagValues)) {
        let n = 0;
        candidates.push(tokens.map((t) => t === null ? combo[n++] : t).join("."));
      }
    }
    for (const subj of candidates) {
      if (isValidSubject(subj)) emitted.push(subj);
      else if (failOnBad) throw new SyntaxError("generated invalid subject");
    }
  }
  return emitted;
}

/**
 * Expands the templates of a scoped signing key's permissions for one user. Allow entries that expand to an
 * invalid subject are dropped (an allow list emptied that way becomes a deny of `>`); a deny entry that does
 * throws SyntaxError "generated invalid subject".
 */
export function applyUserTemplate(
  lim: UserPermissionLimits,
  uc: UserClaims,
  acc: TemplateAccount,
): UserPermissionLimits {
  const out: UserPermissionLimits = structuredClone(lim);
  const subAllowWasSet = (lim.sub?.allow?.length ?? 0) > 0;
  const pubAllowWasSet = (lim.pub?.allow?.length ?? 0) > 0;
  out.sub = { ...out.sub };
  out.pub = { ...out.pub };
  out.sub.allow = applyList(lim.sub?.allow, false, uc, acc);
  out.sub.deny = applyList(lim.sub?.deny, true, uc, acc);
  out.pub.allow = applyList(lim.pub?.allow, false, uc, acc);
  out.pub.deny = applyList(lim.pub?.deny, true, uc, acc);
  if (subAllowWasSet && (out.sub.allow?.length ?? 0) === 0) {
    out.sub.deny = [...(out.sub.deny ?? []).filter((s) => s !== ">"), ">"];
  }
  if (pubAllowWasSet && (out.pub.allow?.length ?? 0) === 0) {
    out.pub.deny = [...(out.pub.deny ?? []).filter((s) => s !== ">"), ">"];
  }
  return out;
}
