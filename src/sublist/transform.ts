// Subject transforms: a source filter and a destination format with `$n` / `{{function(...)}}` tokens, used by
// subject mappings, stream and service imports. Behaviour follows nats-server server/subject_transform.go
// (newer releases' functions included: left, right, random, partition over the whole subject).

import { SublistError } from "./_subject.ts";

/** What a destination token does. */
export const TransformKind = {
  None: 0,
  Bad: 1,
  Partition: 2,
  Wildcard: 3,
  SplitFromLeft: 4,
  SplitFromRight: 5,
  SliceFromLeft: 6,
  SliceFromRight: 7,
  Split: 8,
  Left: 9,
  Right: 10,
  Random: 11,
} as const;
export type TransformKind = typeof TransformKind[keyof typeof TransformKind];

/** The reasons nats-server gives for a bad mapping destination (after "invalid mapping destination: "). */
export const MAPPING_REASONS = {
  invalidSubject: "invalid subject",
  notUsingAllWildcards: "not using all of the token wildcard(s)",
  unknownFunction: "unknown function",
  indexOutOfRange: "wildcard index out of range",
  notEnoughArgs: "not enough arguments passed to the function",
  invalidArg: "function argument is invalid or in the wrong format",
  tooManyArgs: "too many arguments passed to the function",
  notSupportedForImport: "the only mapping function allowed for import transforms is {{Wildcard()}}",
} as const;

/**
 * A transform that cannot be built. `message` is nats-server's text: "invalid subject" for a bad source or
 * destination subject, else "invalid mapping destination: <reason> in <token>".
 */
export class TransformError extends SublistError {
  /** True for a bad source or destination subject (Go's ErrBadSubject, "invalid subject"). */
  readonly badSubject: boolean;

  constructor(readonly reason: string, readonly token?: string, badSubject = false) {
    super(
      badSubject
        ? "invalid subject"
        : `invalid mapping destination: ${reason}${token === undefined ? "" : ` in ${token}`}`,
    );
    this.name = "TransformError";
    this.badSubject = badSubject;
  }
}

function badSubject(): TransformError {
  return new TransformError("invalid subject", undefined, true);
}

/** One parsed destination token. */
export interface PlaceHolder {
  kind: TransformKind;
  /** Wildcard indexes (1-based) the function reads. */
  indexes: number[];
  /** The integer argument (partitions, position, slice size, random range); -1 when none. */
  int: number;
  /** The string argument (split delimiter); "" when none. */
  str: string;
}

const FN = (name: string) => new RegExp(`{{\\s*${name}\\s*\\((.*)\\)\\s*}}`);
const RE = {
  partition: FN("[pP]artition"),
  wildcard: FN("[wW]ildcard"),
  splitFromLeft: FN("[sS]plit[fF]rom[lL]eft"),
  splitFromRight: FN("[sS]plit[fF]rom[rR]ight"),
  sliceFromLeft: FN("[sS]lice[fF]rom[lL]eft"),
  sliceFromRight: FN("[sS]lice[fF]rom[rR]ight"),
  split: FN("[sS]plit"),
  left: FN("[lL]eft"),
  right: FN("[rR]ight"),
  random: FN("[rR]andom"),
};

function fnArgs(re: RegExp, token: string): string[] | undefined {
  const m = re.exec(token);
  return m === null ? undefined : m[1].split(/,\s*/);
}

/** Go's strconv.Atoi after trimming spaces: optional sign, decimal digits only. */
function atoi(s: string): number | undefined {
  const t = s.replace(/^ +| +$/g, "");
  if (!/^[+-]?[0-9]+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}

const NONE: PlaceHolder = { kind: TransformKind.None, indexes: [-1], int: -1, str: "" };

function indexIntArgs(token: string, args: string[], kind: TransformKind): PlaceHolder {
  if (args.length < 2) throw new TransformError(MAPPING_REASONS.notEnoughArgs, token);
  if (args.length > 2) throw new TransformError(MAPPING_REASONS.tooManyArgs, token);
  const i = atoi(args[0]);
  const n = atoi(args[1]);
  if (i === undefined || n === undefined) throw new TransformError(MAPPING_REASONS.invalidArg, token);
  return { kind, indexes: [i], int: n, str: "" };
}

/**
 * Parses one destination token: `$n`, `{{function(args)}}` or a literal. Throws TransformError for a bad
 * function token; a `$` token that is not `$<number>` is a literal, as in Go.
 */
export function indexPlaceHolders(token: string): PlaceHolder {
  const n = token.length;
  if (n <= 1) return NONE;
  if (token[0] === "$") {
    const i = atoi(token.slice(1));
    // Go's Atoi rejects spaces, which atoi() trims: keep "$ 1" a literal.
    if (i === undefined || token.slice(1).trim() !== token.slice(1)) return NONE;
    return { kind: TransformKind.Wildcard, indexes: [i], int: -1, str: "" };
  }
  if (n <= 4 || !token.startsWith("{{") || !token.endsWith("}}")) return NONE;

  let args = fnArgs(RE.wildcard, token);
  if (args !== undefined) {
    if (args.length === 1 && args[0] === "") throw new TransformError(MAPPING_REASONS.notEnoughArgs, token);
    if (args.length > 1) throw new TransformError(MAPPING_REASONS.tooManyArgs, token);
    const i = atoi(args[0]);
    if (i === undefined) throw new TransformError(MAPPING_REASONS.invalidArg, token);
    return { kind: TransformKind.Wildcard, indexes: [i], int: -1, str: "" };
  }
  args = fnArgs(RE.partition, token);
  if (args !== undefined) {
    const parts = atoi(args[0]);
    if (parts === undefined || parts > 2 ** 31 - 1) {
      throw new TransformError(MAPPING_REASONS.invalidArg, token);
    }
    const indexes: number[] = [];
    for (const a of args.slice(1)) {
      const i = atoi(a);
      if (i === undefined) throw new TransformError(MAPPING_REASONS.invalidArg, token);
      indexes.push(i);
    }
    return { kind: TransformKind.Partition, indexes, int: parts, str: "" };
  }
  const pairs: [RegExp, TransformKind][] = [
    [RE.splitFromLeft, TransformKind.SplitFromLeft],
    [RE.splitFromRight, TransformKind.SplitFromRight],
    [RE.sliceFromLeft, TransformKind.SliceFromLeft],
    [RE.sliceFromRight, TransformKind.SliceFromRight],
    [RE.right, TransformKind.Right],
    [RE.left, TransformKind.Left],
  ];
  for (const [re, kind] of pairs) {
    args = fnArgs(re, token);
    if (args !== undefined) return indexIntArgs(token, args, kind);
  }
  args = fnArgs(RE.split, token);
  if (args !== undefined) {
    if (args.length < 2) throw new TransformError(MAPPING_REASONS.notEnoughArgs, token);
    if (args.length > 2) throw new TransformError(MAPPING_REASONS.tooManyArgs, token);
    const i = atoi(args[0]);
    if (i === undefined) throw new TransformError(MAPPING_REASONS.invalidArg, token);
    if (args[1].includes(" ") || args[1].includes(".")) {
      throw new TransformError(MAPPING_REASONS.invalidArg, token);
    }
    return { kind: TransformKind.Split, indexes: [i], int: -1, str: args[1] };
  }
  args = fnArgs(RE.random, token);
  if (args !== undefined) {
    if (args.length !== 1) throw new TransformError(MAPPING_REASONS.notEnoughArgs, token);
    const r = atoi(args[0]);
    if (r === undefined || r > 2 ** 31 - 1) throw new TransformError(MAPPING_REASONS.invalidArg, token);
    return { kind: TransformKind.Random, indexes: [], int: r, str: "" };
  }
  throw new TransformError(MAPPING_REASONS.unknownFunction, token);
}

/** Options for SubjectTransform.create(). */
export interface TransformOptions {
  /**
   * Import transforms: only `$n`/`{{wildcard(n)}}` and every source wildcard placed, so the transform can be
   * reversed.
   */
  strict?: boolean;
  /** Require every source `*` to be placed (nats-server 2.9 mappings); later releases allow dropping some. */
  requireAllWildcards?: boolean;
}

interface SubjectShape {
  valid: boolean;
  tokens: string[];
  npwcs: number;
  fwc: boolean;
}

function shape(subject: string): SubjectShape {
  if (subject === "") return { valid: false, tokens: [], npwcs: 0, fwc: false };
  const tokens = subject.split(".");
  let npwcs = 0;
  let fwc = false;
  for (const t of tokens) {
    if (t === "" || fwc) return { valid: false, tokens: [], npwcs: 0, fwc: false };
    if (t === ">") fwc = true;
    else if (t === "*") npwcs++;
  }
  return { valid: true, tokens, npwcs, fwc };
}

/** 32-bit FNV-1a over the UTF-8 bytes of `s`, as Go's hash/fnv New32a. */
function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  const b = encoder.encode(s);
  for (let i = 0; i < b.length; i++) {
    h ^= b[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
const encoder = new TextEncoder();

/** True when every token is non-empty and none is a wildcard (a publishable subject, whitespace aside). */
function literalTokens(tokens: string[]): boolean {
  for (const t of tokens) if (t === "" || t === "*" || t === ">") return false;
  return true;
}

/** A compiled subject transform. Immutable; safe to share. */
export class SubjectTransform {
  readonly src: string;
  readonly dest: string;
  readonly #stoks: string[];
  readonly #dtoks: string[];
  /** One entry per destination token when the source has wildcards (or a function is used); else empty. */
  readonly #ops: PlaceHolder[];
  /** Source token positions (0-based) for each op's wildcard indexes. */
  readonly #opSrc: number[][];
  readonly #passThrough: boolean;
  /** An empty destination: matching subjects are kept as they are. */
  readonly #identity: boolean;

  private constructor(
    src: string,
    dest: string,
    stoks: string[],
    dtoks: string[],
    ops: PlaceHolder[],
    opSrc: number[][],
    identity = false,
  ) {
    this.src = src;
    this.dest = dest;
    this.#stoks = stoks;
    this.#dtoks = dtoks;
    this.#ops = ops;
    this.#opSrc = opSrc;
    this.#identity = identity;
    this.#passThrough = (src === ">" || src === "") && (dest === ">" || dest === "");
  }

  /**
   * Builds a transform from `src` (may hold wildcards; "" means ">") to `dest`.
   * @throws TransformError with nats-server's text.
   */
  static create(src: string, dest: string, opts: TransformOptions = {}): SubjectTransform {
    if (src === "") src = ">";
    // No destination keeps the subject as it is (2.10+; 2.9 refused it as a bad subject).
    if (dest === "" && !opts.requireAllWildcards && !opts.strict) {
      return new SubjectTransform(src, "", shape(src).tokens, [], [], [], true);
    }
    const s = shape(src);
    const d = shape(dest);
    if (!s.valid || !d.valid || d.npwcs > 0 || s.fwc !== d.fwc) throw badSubject();
    const ops: PlaceHolder[] = [];
    const opSrc: number[][] = [];
    const requireAll = opts.strict || opts.requireAllWildcards;
    if (s.npwcs > 0 || s.fwc) {
      // Source position of the n-th `*` (1-based).
      const pos: number[] = [0];
      s.tokens.forEach((t, i) => {
        if (t === "*") pos.push(i);
      });
      let placed = 0;
      for (const t of d.tokens) {
        const ph = indexPlaceHolders(t);
        if (opts.strict && ph.kind !== TransformKind.None && ph.kind !== TransformKind.Wildcard) {
          throw new TransformError(MAPPING_REASONS.notSupportedForImport, t);
        }
        if (s.npwcs === 0 && ph.kind !== TransformKind.None && ph.kind !== TransformKind.Random) {
          if (!(ph.kind === TransformKind.Partition && ph.indexes.length === 0)) {
            throw new TransformError(MAPPING_REASONS.indexOutOfRange, t);
          }
        }
        if (ph.kind !== TransformKind.None) {
          placed += ph.kind === TransformKind.Wildcard ? 1 : ph.indexes.length;
        }
        const srcIdx: number[] = [];
        for (const wi of ph.kind === TransformKind.None ? [] : ph.indexes) {
          if (wi > s.npwcs) throw new TransformError(MAPPING_REASONS.indexOutOfRange, `${t}: [${wi}]`);
          // As Go, an index below 1 reads the first source token.
          srcIdx.push(pos[wi] ?? 0);
        }
        ops.push(ph);
        opSrc.push(srcIdx);
      }
      if (requireAll && placed < s.npwcs) {
        throw new TransformError(MAPPING_REASONS.notUsingAllWildcards, dest);
      }
    } else {
      // No source wildcards: only literals, random() and a whole-subject partition() make sense.
      let any = false;
      for (const t of d.tokens) {
        const ph = indexPlaceHolders(t);
        if (ph.kind === TransformKind.None) {
          ops.push(ph);
          opSrc.push([]);
          continue;
        }
        if (
          ph.kind === TransformKind.Random || (ph.kind === TransformKind.Partition && ph.indexes.length === 0)
        ) {
          if (opts.strict) throw new TransformError(MAPPING_REASONS.notSupportedForImport, t);
          any = true;
          ops.push(ph);
          opSrc.push([]);
          continue;
        }
        throw new TransformError(MAPPING_REASONS.indexOutOfRange, t);
      }
      if (!any) ops.length = 0;
    }
    return new SubjectTransform(src, dest, s.tokens, d.tokens, ops, opSrc);
  }

  /** True when the destination uses no wildcard token or function (the result is always `dest`). */
  get isLiteral(): boolean {
    return this.#ops.length === 0 && !this.#identity;
  }

  /**
   * Transforms a literal subject that matches the source; undefined when it does not match or is not a
   * valid literal subject.
   */
  match(subject: string): string | undefined {
    if (this.#passThrough) return subject;
    const tokens = subject.split(".");
    if (!literalTokens(tokens)) return undefined;
    if (this.src !== ">" && !tokensMatch(tokens, this.#stoks)) return undefined;
    if (this.#identity) return subject;
    return this.transformTokens(tokens);
  }

  /** Transforms a subject known to match the source (no check). */
  transformSubject(subject: string): string {
    if (this.#identity) return subject;
    if (this.#ops.length === 0) return this.dest;
    return this.transformTokens(subject.split("."));
  }

  /** Transforms a subject already split into tokens, known to match the source. */
  transformTokens(tokens: string[]): string {
    if (this.#identity) return tokens.join(".");
    const ops = this.#ops;
    if (ops.length === 0) return this.dest;
    const out: string[] = [];
    const dtoks = this.#dtoks;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      const src = this.#opSrc[i];
      switch (op.kind) {
        case TransformKind.None:
          if (dtoks[i] === ">") break;
          out.push(dtoks[i]);
          break;
        case TransformKind.Wildcard:
          out.push(tokens[src[0]]);
          break;
        case TransformKind.Partition: {
          const key = src.length === 0 ? tokens.join(".") : src.map((j) => tokens[j]).join("");
          out.push(String(op.int > 0 ? fnv32a(key) % op.int : 0));
          break;
        }
        case TransformKind.SplitFromLeft: {
          const t = tokens[src[0]];
          const p = op.int;
          out.push(p > 0 && p < t.length ? `${t.slice(0, p)}.${t.slice(p)}` : t);
          break;
        }
        case TransformKind.SplitFromRight: {
          const t = tokens[src[0]];
          const p = op.int;
          out.push(p > 0 && p < t.length ? `${t.slice(0, t.length - p)}.${t.slice(t.length - p)}` : t);
          break;
        }
        case TransformKind.SliceFromLeft: {
          const t = tokens[src[0]];
          const n = op.int;
          if (n > 0 && n < t.length) {
            const parts: string[] = [];
            for (let j = 0; j < t.length; j += n) parts.push(t.slice(j, j + n));
            out.push(parts.join("."));
          } else out.push(t);
          break;
        }
        case TransformKind.SliceFromRight: {
          const t = tokens[src[0]];
          const n = op.int;
          if (n > 0 && n < t.length) {
            const parts: string[] = [];
            const rem = t.length % n;
            if (rem > 0) parts.push(t.slice(0, rem));
            for (let j = rem; j < t.length; j += n) parts.push(t.slice(j, j + n));
            out.push(parts.join("."));
          } else out.push(t);
          break;
        }
        case TransformKind.Split: {
          // Empty pieces (delimiters at the ends or doubled) are dropped.
          const pieces = tokens[src[0]].split(op.str).filter((p) => p !== "");
          out.push(pieces.join("."));
          break;
        }
        case TransformKind.Left: {
          const t = tokens[src[0]];
          out.push(op.int > 0 && op.int < t.length ? t.slice(0, op.int) : t);
          break;
        }
        case TransformKind.Right: {
          const t = tokens[src[0]];
          out.push(op.int > 0 && op.int < t.length ? t.slice(t.length - op.int) : t);
          break;
        }
        case TransformKind.Random:
          out.push(String(op.int > 0 ? Math.floor(Math.random() * op.int) : 0));
          break;
      }
    }
    // What the source's `>` matched follows the destination's `>`.
    if (dtoks[dtoks.length - 1] === ">") {
      for (let j = this.#stoks.length - 1; j < tokens.length; j++) out.push(tokens[j]);
    }
    return out.join(".");
  }

  /**
   * The transform back from destination to source (for stream import shadow subscriptions); undefined when
   * the destination uses functions that cannot be reversed.
   */
  reverse(): SubjectTransform | undefined {
    try {
      if (this.#ops.length === 0) return SubjectTransform.create(this.dest, this.src);
      const { subject: nsrc, placeholders } = transformUntokenize(this.dest);
      const phs = [...placeholders];
      const nda: string[] = [];
      for (const t of this.#stoks) {
        if (t === "*") {
          const ph = phs.shift();
          if (ph === undefined) return undefined;
          nda.push(ph);
        } else nda.push(t);
      }
      return SubjectTransform.create(nsrc, nda.join("."));
    } catch {
      return undefined;
    }
  }
}

/** Literal tokens against a pattern's tokens (`*`, `>` allowed in the pattern). */
function tokensMatch(lit: string[], pat: string[]): boolean {
  for (let i = 0; i < pat.length; i++) {
    const p = pat[i];
    if (p === ">") return lit.length > i;
    if (i >= lit.length) return false;
    if (p !== "*" && p !== lit[i]) return false;
  }
  return lit.length === pat.length;
}

/** `foo.*.*` → `foo.$1.$2`: a subject's `*` tokens as numbered placeholders. */
export function transformTokenize(subject: string): string {
  let i = 1;
  return subject.split(".").map((t) => t === "*" ? `$${i++}` : t).join(".");
}

/** `foo.$2.$1` → `foo.*.*` and the placeholders in order (`$n` and `{{wildcard(n)}}`). */
export function transformUntokenize(subject: string): { subject: string; placeholders: string[] } {
  const placeholders: string[] = [];
  const out = subject.split(".").map((t) => {
    const args = fnArgs(RE.wildcard, t);
    if (
      (t.length > 1 && t[0] === "$" && t[1] >= "1" && t[1] <= "9") || (args?.length === 1 && args[0] !== "")
    ) {
      placeholders.push(t);
      return "*";
    }
    return t;
  });
  return { subject: out.join("."), placeholders };
}

/**
 * Checks a mapping destination as nats-server's ValidateMapping: known functions and a valid subject, then
 * that the transform from `src` builds. Returns the error, or undefined when valid.
 */
export function validateMapping(src: string, dest: string): TransformError | undefined {
  let sawFwc = false;
  for (const t of dest.split(".")) {
    const n = t.length;
    if (n === 0 || sawFwc) return new TransformError(MAPPING_REASONS.invalidSubject, t);
    if (n > 4 && t.startsWith("{{") && t.endsWith("}}")) {
      if (!Object.values(RE).some((re) => re.test(t))) {
        return new TransformError(MAPPING_REASONS.unknownFunction, t);
      }
      continue;
    }
    if (t === ">") sawFwc = true;
    else if (/[\t\n\f\r ]/.test(t)) return new TransformError(MAPPING_REASONS.invalidSubject);
  }
  try {
    SubjectTransform.create(src, dest);
  } catch (e) {
    if (e instanceof TransformError) return e;
    throw e;
  }
  return undefined;
}
