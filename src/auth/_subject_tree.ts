// Subject patterns for permission lists; match semantics follow nats-server server/sublist.go (Match, where a
// subject's own `*`/`>` tokens are plain tokens) and subjectIsSubsetMatch.
//
// Kept private to auth rather than reusing src/sublist: permission lists are small, immutable once compiled, and
// every result is cached per connection, so this needs no locking, generations or result cache.

const PWC = "*";
const FWC = ">";

interface Node {
  lits: Map<string, Node> | undefined;
  pwc: Node | undefined;
  fwc: Node | undefined;
  /** Number of plain (queue-less) entries ending at this node. */
  plain: number;
  /** Queue names of the queue entries ending at this node. */
  queues: string[] | undefined;
}

function newNode(): Node {
  return { lits: undefined, pwc: undefined, fwc: undefined, plain: 0, queues: undefined };
}

/** What one subject matched: the count of plain entries and the queue names of queue entries. */
export interface TreeMatch {
  plain: number;
  queues: string[];
}

/** An immutable-after-build set of subject patterns, optionally tagged with a queue name. */
export class SubjectTree {
  #root = newNode();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /**
   * Adds `pattern` (with `queue` for a "subject queue" entry). Returns false, adding nothing, for a pattern
   * the reference sublist refuses: an empty token, or a `>` that is not the last token.
   */
  insert(pattern: string, queue?: string): boolean {
    const toks = pattern.split(".");
    let n = this.#root;
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.length === 0) return false;
      if (t === FWC) {
        if (i !== toks.length - 1) return false;
        n = n.fwc ??= newNode();
      } else if (t === PWC) {
        n = n.pwc ??= newNode();
      } else {
        n.lits ??= new Map();
        let next = n.lits.get(t);
        if (next === undefined) {
          next = newNode();
          n.lits.set(t, next);
        }
        n = next;
      }
    }
    if (queue) (n.queues ??= []).push(queue);
    else n.plain++;
    this.#size++;
    return true;
  }

  /** All entries whose pattern matches `subject`; wildcard tokens in `subject` are taken literally. */
  match(subject: string): TreeMatch {
    const out: TreeMatch = { plain: 0, queues: [] };
    walk(this.#root, subject.split("."), 0, out);
    return out;
  }

  /** True when a plain entry matches `subject` (the publish path: no allocation beyond the split). */
  hasPlainMatch(subject: string): boolean {
    return anyPlain(this.#root, subject.split("."), 0);
  }
}

function collect(n: Node, out: TreeMatch): void {
  out.plain += n.plain;
  if (n.queues !== undefined) { for (const q of n.queues) out.queues.push(q); }
}

function walk(n: Node, toks: string[], i: number, out: TreeMatch): void {
  if (i === toks.length) {
    collect(n, out);
    return;
  }
  // `>` needs at least one more token, which toks[i] is.
  if (n.fwc !== undefined) collect(n.fwc, out);
  if (n.pwc !== undefined) walk(n.pwc, toks, i + 1, out);
  const lit = n.lits?.get(toks[i]);
  if (lit !== undefined) walk(lit, toks, i + 1, out);
}

function anyPlain(n: Node, toks: string[], i: number): boolean {
  if (i === toks.length) return n.plain > 0;
  if (n.fwc !== undefined && n.fwc.plain > 0) return true;
  if (n.pwc !== undefined && anyPlain(n.pwc, toks, i + 1)) return true;
  const lit = n.lits?.get(toks[i]);
  return lit !== undefined && anyPlain(lit, toks, i + 1);
}

/** True when `subject` holds a `*` or `>` token. */
export function subjectHasWildcard(subject: string): boolean {
  for (let i = 0; i < subject.length; i++) {
    const c = subject.charCodeAt(i);
    if (c !== 0x2a && c !== 0x3e) continue;
    const startsToken = i === 0 || subject.charCodeAt(i - 1) === 0x2e;
    const endsToken = i === subject.length - 1 || subject.charCodeAt(i + 1) === 0x2e;
    if (startsToken && endsToken) return true;
  }
  return false;
}

/**
 * True when every subject that `subject` can stand for is also covered by `test`; both may hold wildcards
 * (`foo.*` is a subset of `>`, `*.*` and `foo.*`, but not of `foo.bar`).
 */
export function subjectIsSubsetMatch(subject: string, test: string): boolean {
  const toks = subject.split(".");
  const tests = test.split(".");
  for (let i = 0; i < tests.length; i++) {
    if (i >= toks.length) return false;
    const t2 = tests[i];
    if (t2.length === 0) return false;
    if (t2 === FWC) return true;
    const t1 = toks[i];
    if (t1.length === 0 || t1 === FWC) return false;
    if (t1 === PWC) {
      if (t2 !== PWC) return false;
      continue;
    }
    if (t2 !== PWC && t1 !== t2) return false;
  }
  return toks.length === tests.length;
}
