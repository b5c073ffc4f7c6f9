// Subject validation and token helpers; behaviour follows nats-server server/sublist.go (subject helpers).
//
// A subject is a string of tokens separated by ".". A token of exactly "*" matches any one token, a
// token of exactly ">" matches one or more tokens and must be the last one. "*" or ">" inside a longer
// token ("foo*", ">bar") is an ordinary character. None of these helpers allocate on the common path
// except where they must return tokens.

const DOT = 0x2e;
const STAR = 0x2a;
const GT = 0x3e;

/** Error thrown by the sublist for an invalid subject or a misuse of its API. */
export class SublistError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SublistError";
  }
}

function isSpace(c: number): boolean {
  // The characters Go rejects in a subject: space, \t, \n, \f, \r.
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

/**
 * Reports whether a subject is valid: no empty token, no whitespace, `>` only as the last token.
 * @param checkRunes also reject NUL and U+FFFD (what a decoder leaves for broken UTF-8), as Go does
 *   for subjects that arrive from other servers.
 */
export function isValidSubject(subject: string, checkRunes = false): boolean {
  const n = subject.length;
  if (n === 0) return false;
  let tokenStart = 0;
  let sawFwc = false;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? DOT : subject.charCodeAt(i);
    if (c === DOT) {
      const len = i - tokenStart;
      if (len === 0 || sawFwc) return false;
      if (len === 1 && subject.charCodeAt(tokenStart) === GT) sawFwc = true;
      tokenStart = i + 1;
    } else if (isSpace(c)) {
      return false;
    } else if (checkRunes && (c === 0 || c === 0xfffd)) {
      return false;
    }
  }
  return true;
}

/** Reports whether a subject has no wildcard token. Fast: does not check validity. */
export function subjectIsLiteral(subject: string): boolean {
  const n = subject.length;
  for (let i = 0; i < n; i++) {
    const c = subject.charCodeAt(i);
    if (c !== STAR && c !== GT) continue;
    if (
      (i === 0 || subject.charCodeAt(i - 1) === DOT) && (i + 1 === n || subject.charCodeAt(i + 1) === DOT)
    ) {
      return false;
    }
  }
  return true;
}

/** Reports whether a subject has at least one wildcard token (the opposite of subjectIsLiteral). */
export function subjectHasWildcard(subject: string): boolean {
  return !subjectIsLiteral(subject);
}

/** Reports whether a subject is valid and literal, so a client may publish to it. */
export function isValidPublishSubject(subject: string): boolean {
  return isValidSubject(subject) && subjectIsLiteral(subject);
}

/** Reports whether every token is non-empty and none is a wildcard (whitespace is not checked, as in Go). */
export function isValidLiteralSubject(subject: string): boolean {
  const n = subject.length;
  let tokenStart = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && subject.charCodeAt(i) !== DOT) continue;
    const len = i - tokenStart;
    if (len === 0) return false;
    if (len === 1) {
      const c = subject.charCodeAt(tokenStart);
      if (c === STAR || c === GT) return false;
    }
    tokenStart = i + 1;
  }
  return true;
}

/** Splits a subject into its tokens (empty tokens included). */
export function tokenizeSubject(subject: string): string[] {
  return subject.split(".");
}

/** Returns the number of tokens in a subject; 0 for the empty string. */
export function numTokens(subject: string): number {
  if (subject.length === 0) return 0;
  let n = 1;
  for (let i = 0; i < subject.length; i++) {
    if (subject.charCodeAt(i) === DOT) n++;
  }
  return n;
}

/** Returns the token at a 1-based index, or "" when there is none. */
export function tokenAt(subject: string, index: number): string {
  if (index < 1) return "";
  let start = 0;
  let ti = 1;
  for (;;) {
    const dot = subject.indexOf(".", start);
    if (ti === index) return dot < 0 ? subject.slice(start) : subject.slice(start, dot);
    if (dot < 0) return "";
    start = dot + 1;
    ti++;
  }
}

/**
 * Reports whether a literal subject is matched by a pattern that may hold wildcards. Used to find the
 * cached results a new or removed subscription affects, so it walks both strings in place.
 */
export function matchLiteral(literal: string, pattern: string): boolean {
  const ll = literal.length;
  const pl = pattern.length;
  let li = 0;
  for (let pi = 0; pi < pl; pi++) {
    if (li >= ll) return false;
    const c = pattern.charCodeAt(pi);
    if (
      (c === STAR || c === GT) && (pi === 0 || pattern.charCodeAt(pi - 1) === DOT) &&
      (pi + 1 === pl || pattern.charCodeAt(pi + 1) === DOT)
    ) {
      // `>` as the last token takes what is left of the literal (at least one character, checked above).
      if (c === GT) {
        if (pi + 1 === pl) return true;
      } else {
        // `*` takes one literal token; the next pattern character, if any, is the separator.
        while (li < ll && literal.charCodeAt(li) !== DOT) li++;
        continue;
      }
    }
    if (literal.charCodeAt(li) !== c) return false;
    li++;
  }
  return li >= ll;
}

/**
 * Reports whether every subject matched by `tokens` is also matched by `test`; both may hold wildcards
 * (`foo.*` is a subset of `>`, `*.*` and `foo.*`, not of `foo.bar`).
 */
export function isSubsetMatchTokenized(tokens: readonly string[], test: readonly string[]): boolean {
  for (let i = 0; i < test.length; i++) {
    if (i >= tokens.length) return false;
    const t2 = test[i];
    if (t2.length === 0) return false;
    if (t2 === ">") return true;
    const t1 = tokens[i];
    if (t1.length === 0 || t1 === ">") return false;
    if (t1 === "*") {
      if (t2 !== "*") return false;
      continue;
    }
    if (t2 !== "*" && t1 !== t2) return false;
  }
  return tokens.length === test.length;
}

/** Like subjectIsSubsetMatch with the first subject already split into tokens. */
export function isSubsetMatch(tokens: readonly string[], test: string): boolean {
  return isSubsetMatchTokenized(tokens, test.split("."));
}

/** Reports whether every subject matched by `subject` is also matched by `test`. */
export function subjectIsSubsetMatch(subject: string, test: string): boolean {
  return isSubsetMatchTokenized(subject.split("."), test.split("."));
}

function analyzeTokens(tokens: readonly string[]): { pwc: boolean; fwc: boolean } {
  let pwc = false;
  let fwc = false;
  for (const t of tokens) {
    if (t === "*") pwc = true;
    else if (t === ">") fwc = true;
  }
  return { pwc, fwc };
}

function tokensCanMatch(t1: string, t2: string): boolean {
  if (t1.length === 0 || t2.length === 0) return false;
  // Go compares only the first character here, so "*x" counts as a wildcard; kept for parity.
  const c1 = t1.charCodeAt(0);
  const c2 = t2.charCodeAt(0);
  if (c1 === STAR || c2 === STAR || c1 === GT || c2 === GT) return true;
  return t1 === t2;
}

/** Reports whether two subjects (wildcards allowed) could both match one literal subject. */
export function subjectsCollide(a: string, b: string): boolean {
  if (a === b) return true;
  const toks1 = a.split(".");
  const toks2 = b.split(".");
  const w1 = analyzeTokens(toks1);
  const w2 = analyzeTokens(toks2);
  const lit1 = !w1.pwc && !w1.fwc;
  const lit2 = !w2.pwc && !w2.fwc;
  if (lit1 && lit2) return false;
  if (lit1) return isSubsetMatchTokenized(toks1, toks2);
  if (lit2) return isSubsetMatchTokenized(toks2, toks1);
  const n1 = toks1.length;
  const n2 = toks2.length;
  if (n1 !== n2) {
    // The shorter one must end in `>` to reach the longer one's tokens.
    if ((n1 < n2 && !w1.fwc) || (n2 < n1 && !w2.fwc)) return false;
  }
  const stop = Math.min(n1, n2);
  for (let i = 0; i < stop; i++) {
    if (!tokensCanMatch(toks1[i], toks2[i])) return false;
  }
  return true;
}

/**
 * What a subject holds: validity, its tokens, the number of `*` tokens and whether it ends in `>`.
 * Invalid subjects report `{ valid: false, tokens: [], npwcs: 0, fwc: false }`.
 */
export function subjectInfo(
  subject: string,
): { valid: boolean; tokens: string[]; npwcs: number; fwc: boolean } {
  const invalid = { valid: false, tokens: [] as string[], npwcs: 0, fwc: false };
  if (subject.length === 0) return invalid;
  const tokens = subject.split(".");
  let npwcs = 0;
  let fwc = false;
  for (const t of tokens) {
    if (t.length === 0 || fwc) return invalid;
    if (t === ">") fwc = true;
    else if (t === "*") npwcs++;
  }
  return { valid: true, tokens, npwcs, fwc };
}

// Mapping destination functions, written `{{name(args)}}` as one token; names are case-insensitive on
// the first letter of each word, as in Go.
const MAPPING_FUNCTIONS: readonly RegExp[] = [
  /{{\s*[pP]artition\s*\((.*)\)\s*}}/,
  /{{\s*[wW]ildcard\s*\((.*)\)\s*}}/,
  /{{\s*[sS]plit[fF]rom[lL]eft\s*\((.*)\)\s*}}/,
  /{{\s*[sS]plit[fF]rom[rR]ight\s*\((.*)\)\s*}}/,
  /{{\s*[sS]lice[fF]rom[lL]eft\s*\((.*)\)\s*}}/,
  /{{\s*[sS]lice[fF]rom[rR]ight\s*\((.*)\)\s*}}/,
  /{{\s*[sS]plit\s*\((.*)\)\s*}}/,
];

/** Error for a subject mapping destination; `message` matches the Go error text. */
export class MappingDestinationError extends SublistError {
  constructor(readonly reason: "invalid subject" | "unknown function", readonly token?: string) {
    super(
      `invalid mapping destination: ${reason}` + (token === undefined ? "" : ` in ${token}`),
    );
    this.name = "MappingDestinationError";
  }
}

/**
 * Checks a subject mapping destination: valid tokens, and only known `{{function(...)}}` tokens.
 * @returns undefined when valid, otherwise the error (not thrown: config checks collect them).
 */
export function validateMappingDestination(subject: string): MappingDestinationError | undefined {
  let sawFwc = false;
  for (const t of subject.split(".")) {
    const n = t.length;
    if (n === 0 || sawFwc) return new MappingDestinationError("invalid subject", t);
    if (n > 4 && t.startsWith("{{") && t.endsWith("}}")) {
      if (!MAPPING_FUNCTIONS.some((re) => re.test(t))) {
        return new MappingDestinationError("unknown function", t);
      }
      continue;
    }
    if (t === ">") {
      sawFwc = true;
    } else {
      for (let i = 0; i < n; i++) {
        if (isSpace(t.charCodeAt(i))) return new MappingDestinationError("invalid subject");
      }
    }
  }
  return undefined;
}
