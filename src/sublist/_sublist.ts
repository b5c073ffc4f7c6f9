// Subject trie with a result cache; behaviour follows nats-server server/sublist.go.
//
// Concurrency: Go guards the sublist with a RWMutex. Here every public method runs to completion
// without an await, so each one is atomic with respect to the rest of the server: a match can never see
// a half-inserted subscription, and the cache update and the genid bump of an insert or remove happen
// in the same synchronous step. Keep it that way: no method of this file may become async.

import { matchLiteral, subjectIsLiteral, SublistError } from "./_subject.ts";
import { StrTable } from "./_strtable.ts";

/** What the sublist needs from a subscription. Subscriptions are stored and removed by identity. */
export interface SubLike {
  /** The subject, wildcards allowed. Must not change while the subscription is in a sublist. */
  subject: string;
  /** Queue group name; undefined (or "") for a plain subscription. */
  queue: string | undefined;
  /**
   * Weight of a remote queue subscription (route or leaf node): it stands for `qw` members and so
   * appears `qw` times in its group's result. Leave undefined for local subscriptions. After changing
   * it on a stored subscription, call `Sublist.updateRemoteQSub()`.
   */
  qw?: number;
}

/** The subscriptions a literal subject reaches. */
export interface SublistResult<T> {
  /** Plain subscriptions. */
  psubs: T[];
  /** One array per queue group name, each non-empty. */
  qsubs: T[][];
  /**
   * Free slot for the caller (the server caches precomputed MSG prefixes here). Results are immutable
   * once returned: when the sublist changes, a new result object is built, never an old one mutated.
   * The no-interest result is one object shared by every subject: leave its `extra` alone.
   */
  extra?: unknown;
}

/** Called with true when the first interest in a registered subject appears, false when the last goes. */
export type InterestNotify = (hasInterest: boolean) => void;

/** Bound on cached results; past it the cache is swept down to CACHE_SWEEP entries, as Go does. */
export const CACHE_MAX = 1024;
/** Cache size left after a sweep. */
export const CACHE_SWEEP = 512;
// An insert that reaches a cached result copies it with the new subscription added (Go always copies).
// Past this many entries we drop the cached result instead, so a burst of inserts on one subject costs
// O(n) in total rather than O(n²); the next match rebuilds it once.
const CACHE_COPY_MAX = 256;
// removeBatch() of more subscriptions than this drops the whole cache instead of invalidating entry by
// entry, as Go always does; small batches (a typical client leaving) keep the rest of the cache warm.
const BATCH_DROP_CACHE = 32;

/** The shared result for "no interest". Its arrays are frozen: nobody may push into them. */
const EMPTY_RESULT: SublistResult<never> = {
  psubs: Object.freeze([]) as unknown as never[],
  qsubs: Object.freeze([]) as unknown as never[][],
  extra: undefined,
};

class Node<T> {
  next: Level<T> | undefined = undefined;
  psubs: Set<T> | undefined = undefined;
  qsubs: Map<string, Set<T>> | undefined = undefined;

  isEmpty(): boolean {
    return this.psubs === undefined && this.qsubs === undefined &&
      (this.next === undefined || this.next.numNodes() === 0);
  }
}

class Level<T> {
  readonly nodes = new StrTable<Node<T>>();
  pwc: Node<T> | undefined = undefined;
  fwc: Node<T> | undefined = undefined;

  numNodes(): number {
    return this.nodes.size + (this.pwc === undefined ? 0 : 1) + (this.fwc === undefined ? 0 : 1);
  }

  /** Returns the child for a token, `*` and `>` included; undefined when absent. */
  child(t: string): Node<T> | undefined {
    if (t.length === 1) {
      if (t === "*") return this.pwc;
      if (t === ">") return this.fwc;
    }
    return this.nodes.get(t);
  }

  prune(n: Node<T>, t: string): void {
    if (n === this.fwc) this.fwc = undefined;
    else if (n === this.pwc) this.pwc = undefined;
    else this.nodes.delete(t);
  }
}

/** Results under construction: queue names are kept beside their groups so lookups avoid reading subs. */
interface Acc<T> {
  psubs: T[];
  qsubs: T[][];
  qnames: string[];
}

function pushWeighted<T extends SubLike>(group: T[], sub: T): void {
  const w = sub.qw;
  if (w === undefined) {
    group.push(sub);
  } else {
    for (let i = 0; i < w; i++) group.push(sub);
  }
}

function addNodeToAcc<T extends SubLike>(n: Node<T>, acc: Acc<T>): void {
  const ps = n.psubs;
  if (ps !== undefined) {
    if (acc.psubs.length === 0) {
      acc.psubs = [...ps];
    } else {
      for (const s of ps) acc.psubs.push(s);
    }
  }
  const qs = n.qsubs;
  if (qs === undefined) return;
  for (const [name, members] of qs) {
    let i = acc.qnames.indexOf(name);
    if (i < 0) {
      i = acc.qnames.length;
      acc.qnames.push(name);
      acc.qsubs.push([]);
    }
    const group = acc.qsubs[i];
    for (const s of members) pushWeighted(group, s);
  }
}

function toResult<T>(acc: Acc<T>): SublistResult<T> {
  let qsubs = acc.qsubs;
  // A group whose members all weigh 0 is dropped: callers pick a member from each group.
  if (qsubs.length > 0 && qsubs.some((g) => g.length === 0)) qsubs = qsubs.filter((g) => g.length > 0);
  if (acc.psubs.length === 0 && qsubs.length === 0) return EMPTY_RESULT;
  return { psubs: acc.psubs, qsubs, extra: undefined };
}

// Token i of a scanned subject spans [ends[i-1] + 1, ends[i]) (the first starts at 0).
function tokenStart(ends: number[], i: number): number {
  return i === 0 ? 0 : ends[i - 1] + 1;
}

// Walks the trie for tokens i.. of a scanned subject. The `*` branch recurses; the literal branch loops.
function matchLevel<T extends SubLike>(
  l: Level<T> | undefined,
  s: string,
  ends: number[],
  ntoks: number,
  i: number,
  acc: Acc<T>,
): void {
  let pwc: Node<T> | undefined;
  let n: Node<T> | undefined;
  for (; i < ntoks; i++) {
    if (l === undefined) return;
    if (l.fwc !== undefined) addNodeToAcc(l.fwc, acc);
    pwc = l.pwc;
    if (pwc !== undefined && pwc.next !== undefined) matchLevel(pwc.next, s, ends, ntoks, i + 1, acc);
    n = l.nodes.getRange(s, tokenStart(ends, i), ends[i]);
    l = n?.next;
  }
  if (n !== undefined) addNodeToAcc(n, acc);
  if (pwc !== undefined) addNodeToAcc(pwc, acc);
}

function nodeHasSubs<T>(n: Node<T>): boolean {
  return n.psubs !== undefined || n.qsubs !== undefined;
}

// Like matchLevel but stops at the first subscription found.
function matchLevelForAny<T>(
  l: Level<T> | undefined,
  s: string,
  ends: number[],
  ntoks: number,
  i: number,
): boolean {
  let pwc: Node<T> | undefined;
  let n: Node<T> | undefined;
  for (; i < ntoks; i++) {
    if (l === undefined) return false;
    if (l.fwc !== undefined && nodeHasSubs(l.fwc)) return true;
    pwc = l.pwc;
    if (pwc !== undefined && pwc.next !== undefined && matchLevelForAny(pwc.next, s, ends, ntoks, i + 1)) {
      return true;
    }
    n = l.nodes.getRange(s, tokenStart(ends, i), ends[i]);
    l = n?.next;
  }
  return (n !== undefined && nodeHasSubs(n)) || (pwc !== undefined && nodeHasSubs(pwc));
}

function countNode<T>(n: Node<T>, counts: { np: number; nq: number }): void {
  if (n.psubs !== undefined) counts.np += n.psubs.size;
  if (n.qsubs !== undefined) { for (const g of n.qsubs.values()) counts.nq += g.size; }
}

function countLevel<T>(
  l: Level<T> | undefined,
  toks: string[],
  i: number,
  counts: { np: number; nq: number },
): void {
  let pwc: Node<T> | undefined;
  let n: Node<T> | undefined;
  for (; i < toks.length; i++) {
    if (l === undefined) return;
    if (l.fwc !== undefined) countNode(l.fwc, counts);
    pwc = l.pwc;
    if (pwc !== undefined && pwc.next !== undefined) countLevel(pwc.next, toks, i + 1, counts);
    n = l.nodes.get(toks[i]);
    l = n?.next;
  }
  if (n !== undefined) countNode(n, counts);
  if (pwc !== undefined) countNode(pwc, counts);
}

function addSubtree<T extends SubLike>(l: Level<T> | undefined, acc: Acc<T>): void {
  if (l === undefined) return;
  l.nodes.forEach((n) => {
    addNodeToAcc(n, acc);
    addSubtree(n.next, acc);
  });
  for (const n of [l.pwc, l.fwc]) {
    if (n === undefined) continue;
    addNodeToAcc(n, acc);
    addSubtree(n.next, acc);
  }
}

// Collects the subscriptions whose subject could match some subject that the pattern toks[i:] matches.
function reverseMatchLevel<T extends SubLike>(l: Level<T>, toks: string[], i: number, acc: Acc<T>): void {
  const t = toks[i];
  if (t === ">") {
    addSubtree(l, acc);
    return;
  }
  const last = i === toks.length - 1;
  // A `>` subscription here covers whatever the rest of the pattern matches.
  if (l.fwc !== undefined) addNodeToAcc(l.fwc, acc);
  const visit = (n: Node<T>) => {
    if (last) addNodeToAcc(n, acc);
    else if (n.next !== undefined) reverseMatchLevel(n.next, toks, i + 1, acc);
  };
  if (t === "*") {
    l.nodes.forEach(visit);
  } else {
    const n = l.nodes.get(t);
    if (n !== undefined) visit(n);
  }
  if (l.pwc !== undefined) visit(l.pwc);
}

function visitLevel<T>(l: Level<T> | undefined, depth: number): number {
  if (l === undefined || l.numNodes() === 0) return depth;
  depth++;
  let max = depth;
  l.nodes.forEach((n) => max = Math.max(max, visitLevel(n.next, depth)));
  if (l.pwc !== undefined) max = Math.max(max, visitLevel(l.pwc.next, depth));
  if (l.fwc !== undefined) max = Math.max(max, visitLevel(l.fwc.next, depth));
  return max;
}

function collectAll<T>(l: Level<T> | undefined, out: T[]): void {
  if (l === undefined) return;
  const visit = (n: Node<T>) => {
    if (n.psubs !== undefined) { for (const s of n.psubs) out.push(s); }
    if (n.qsubs !== undefined) { for (const g of n.qsubs.values()) for (const s of g) out.push(s); }
    collectAll(n.next, out);
  };
  l.nodes.forEach(visit);
  if (l.pwc !== undefined) visit(l.pwc);
  if (l.fwc !== undefined) visit(l.fwc);
}

// Copy of a cached result with one subscription added. Group arrays that do not change are shared:
// results are never mutated, so sharing them is safe and saves Go's deep copy.
function addSubToResult<T extends SubLike>(r: SublistResult<T>, sub: T): SublistResult<T> {
  const q = sub.queue;
  if (q === undefined || q === "") {
    const psubs = r.psubs.slice();
    psubs.push(sub);
    return { psubs, qsubs: r.qsubs, extra: undefined };
  }
  const qsubs = r.qsubs.slice();
  const i = qsubs.findIndex((g) => g[0].queue === q);
  const group = i < 0 ? [] : qsubs[i].slice();
  pushWeighted(group, sub);
  if (i >= 0) qsubs[i] = group;
  else if (group.length > 0) qsubs.push(group);
  return { psubs: r.psubs, qsubs, extra: undefined };
}

function resultSize<T>(r: SublistResult<T>): number {
  let n = r.psubs.length;
  for (const g of r.qsubs) n += g.length;
  return n;
}

/** Statistics for /subsz and the account stats, with Go's SublistStats meaning. */
export class SublistStats {
  numSubs = 0;
  numCache = 0;
  numInserts = 0;
  numRemoves = 0;
  numMatches = 0;
  /** Cache hits divided by matches. */
  cacheHitRate = 0;
  /** Largest cached result: plain subscriptions plus queue groups. */
  maxFanout = 0;
  /** Mean size of the cached results, counted as for maxFanout. */
  avgFanout = 0;
  #cacheHits = 0;
  #totFanout = 0;
  #cacheCnt = 0;

  /** Fills in the derived fields; internal to the sublist. */
  static from(
    v: Omit<SublistStats, "add" | "cacheHitRate" | "avgFanout">,
    cacheHits: number,
    totFanout: number,
    cacheCnt: number,
  ): SublistStats {
    const st = new SublistStats();
    Object.assign(st, v);
    st.#cacheHits = cacheHits;
    st.#totFanout = totFanout;
    st.#cacheCnt = cacheCnt;
    st.#derive();
    return st;
  }

  /** Adds another sublist's stats into this one (the server sums the stats of all accounts). */
  add(o: SublistStats): void {
    this.numSubs += o.numSubs;
    this.numCache += o.numCache;
    this.numInserts += o.numInserts;
    this.numRemoves += o.numRemoves;
    this.numMatches += o.numMatches;
    this.#cacheHits += o.#cacheHits;
    this.maxFanout = Math.max(this.maxFanout, o.maxFanout);
    this.#totFanout += o.#totFanout;
    this.#cacheCnt += o.#cacheCnt;
    this.#derive();
  }

  #derive(): void {
    if (this.#totFanout > 0) this.avgFanout = this.#totFanout / this.#cacheCnt;
    if (this.numMatches > 0) this.cacheHitRate = this.#cacheHits / this.numMatches;
  }
}

/**
 * Stores subscriptions by subject and finds those a literal subject reaches, with a cache of results
 * per literal subject that is kept exact on every insert and remove.
 */
export class Sublist<T extends SubLike> {
  #root = new Level<T>();
  #cache: StrTable<SublistResult<T>> | undefined;
  #genid = 0;
  #count = 0;
  #inserts = 0;
  #removes = 0;
  #matches = 0;
  #cacheHits = 0;
  #notifyInsert: Map<string, InterestNotify[]> | undefined;
  #notifyRemove: Map<string, InterestNotify[]> | undefined;
  // Scratch for remove(): the levels and nodes walked, reused so a remove allocates nothing.
  #walkLevels: Level<T>[] = [];
  #walkNodes: Node<T>[] = [];
  // Scratch for match(): where each token of the subject ends. match() never re-enters itself.
  #ends: number[] = [];

  /** @param opts.cache keep a result cache (default true); turn off where interest changes constantly. */
  constructor(opts?: { cache?: boolean }) {
    this.#cache = opts?.cache === false ? undefined : new StrTable(64);
  }

  /** Bumped on every successful insert/remove. Callers compare it to invalidate their own caches. */
  get genid(): number {
    return this.#genid;
  }

  /** Reports whether the result cache is on. */
  cacheEnabled(): boolean {
    return this.#cache !== undefined;
  }

  /**
   * Adds a subscription. Adding the same object twice counts it twice but stores it once, as Go does.
   * @throws SublistError("invalid subject") for an empty token or a `>` that is not last.
   */
  insert(sub: T): void {
    const subject = sub.subject;
    const toks = subject.split(".");
    let hasWildcard = false;
    // Validate first, so a bad subject leaves no empty nodes behind.
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.length === 0) throw new SublistError("invalid subject");
      if (t.length === 1 && (t === "*" || t === ">")) {
        hasWildcard = true;
        if (t === ">" && i !== toks.length - 1) throw new SublistError("invalid subject");
      }
    }
    let l = this.#root;
    let n: Node<T> | undefined;
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      n = l.child(t);
      if (n === undefined) {
        n = new Node<T>();
        if (t === "*") l.pwc = n;
        else if (t === ">") l.fwc = n;
        else l.nodes.set(t, n);
      }
      if (i < toks.length - 1) l = n.next ??= new Level<T>();
    }
    const node = n as Node<T>;
    const q = sub.queue;
    let isNew: boolean;
    if (q === undefined || q === "") {
      const ps = node.psubs ??= new Set();
      ps.add(sub);
      isNew = ps.size === 1;
    } else {
      const qs = node.qsubs ??= new Map();
      let group = qs.get(q);
      isNew = group === undefined;
      if (group === undefined) qs.set(q, group = new Set());
      group.add(sub);
    }
    this.#count++;
    this.#inserts++;
    // No await from here to the end: the cache update and the genid bump are one step for readers.
    this.#addToCache(subject, sub);
    this.#genid++;
    if (isNew && !hasWildcard && this.#notifyInsert !== undefined && this.#notifyInsert.size > 0) {
      this.#checkInsertNotify(subject, q ?? "");
    }
  }

  /** Removes a subscription by identity; false when it is not stored (or its subject is invalid). */
  remove(sub: T): boolean {
    return this.#remove(sub, true);
  }

  /** Removes many subscriptions at once (a client going away); unknown ones are skipped. */
  removeBatch(subs: readonly T[]): void {
    if (subs.length === 0) return;
    if (subs.length <= BATCH_DROP_CACHE) {
      for (const sub of subs) this.#remove(sub, true);
    } else {
      // As Go: skip per-entry cache work and start the cache afresh.
      for (const sub of subs) this.#remove(sub, false);
      if (this.#cache !== undefined) this.#cache = new StrTable(64);
    }
    this.#genid++;
  }

  #remove(sub: T, updateCache: boolean): boolean {
    const subject = sub.subject;
    const toks = subject.split(".");
    const levels = this.#walkLevels;
    const nodes = this.#walkNodes;
    let depth = 0;
    let hasWildcard = false;
    let l: Level<T> | undefined = this.#root;
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.length === 0) return false;
      if (t === "*" || t === ">") {
        hasWildcard = true;
        if (t === ">" && i !== toks.length - 1) return false;
      }
      if (l === undefined) return false;
      const n = l.child(t);
      if (n === undefined) return false;
      levels[depth] = l;
      nodes[depth] = n;
      depth++;
      l = n.next;
    }
    const node = nodes[depth - 1];
    const q = sub.queue;
    let last: boolean;
    if (q === undefined || q === "") {
      const ps = node.psubs;
      if (ps === undefined || !ps.delete(sub)) return this.#clearWalk(depth);
      last = ps.size === 0;
      if (last) node.psubs = undefined;
    } else {
      const group = node.qsubs?.get(q);
      if (group === undefined || !group.delete(sub)) return this.#clearWalk(depth);
      last = group.size === 0;
      if (last) {
        node.qsubs!.delete(q);
        if (node.qsubs!.size === 0) node.qsubs = undefined;
      }
    }
    this.#count--;
    this.#removes++;
    for (let i = depth - 1; i >= 0; i--) {
      const n = nodes[i];
      if (n.next !== undefined && n.next.numNodes() === 0) n.next = undefined;
      if (n.isEmpty()) levels[i].prune(n, toks[i]);
    }
    this.#clearWalk(depth);
    // No await from here to the end: readers see the removal, the cache and the genid change together.
    if (updateCache) {
      this.#removeFromCache(subject);
      this.#genid++;
    }
    if (last && !hasWildcard && this.#notifyRemove !== undefined && this.#notifyRemove.size > 0) {
      this.#checkRemoveNotify(subject, q ?? "");
    }
    return true;
  }

  // Drops the references the scratch arrays hold so removed nodes can be collected; returns false.
  #clearWalk(depth: number): false {
    for (let i = 0; i < depth; i++) {
      this.#walkLevels[i] = undefined as never;
      this.#walkNodes[i] = undefined as never;
    }
    return false;
  }

  /**
   * Call after changing `qw` on a stored remote queue subscription: drops the cached results it is in
   * and bumps genid.
   */
  updateRemoteQSub(sub: T): void {
    this.#removeFromCache(sub.subject);
    this.#genid++;
  }

  #addToCache(subject: string, sub: T): void {
    const cache = this.#cache;
    if (cache === undefined) return;
    if (subjectIsLiteral(subject)) {
      const r = cache.get(subject);
      if (r !== undefined) this.#updateCached(cache, subject, r, sub);
      return;
    }
    // A wildcard subscription may reach any cached subject; the cache is bounded, so this is ≤ 1024 checks.
    const hits: string[] = [];
    cache.forEach((_, key) => {
      if (matchLiteral(key, subject)) hits.push(key);
    });
    for (const key of hits) this.#updateCached(cache, key, cache.get(key)!, sub);
  }

  #updateCached(cache: StrTable<SublistResult<T>>, key: string, r: SublistResult<T>, sub: T): void {
    if (resultSize(r) >= CACHE_COPY_MAX) cache.delete(key);
    else cache.set(key, addSubToResult(r, sub));
  }

  #removeFromCache(subject: string): void {
    const cache = this.#cache;
    if (cache === undefined) return;
    if (subjectIsLiteral(subject)) {
      cache.delete(subject);
      return;
    }
    const hits: string[] = [];
    cache.forEach((_, key) => {
      if (matchLiteral(key, subject)) hits.push(key);
    });
    for (const key of hits) cache.delete(key);
  }

  /**
   * Returns the subscriptions a literal subject reaches. A cached result is returned as is (one hash
   * lookup); the same object comes back until an insert or remove touches the subject.
   */
  match(subject: string): SublistResult<T> {
    this.#matches++;
    const cache = this.#cache;
    if (cache !== undefined) {
      const r = cache.get(subject);
      if (r !== undefined) {
        this.#cacheHits++;
        return r;
      }
    }
    const ntoks = scanLiteral(subject, this.#ends);
    if (ntoks < 0) return EMPTY_RESULT;
    const acc: Acc<T> = { psubs: [], qsubs: [], qnames: [] };
    matchLevel(this.#root, subject, this.#ends, ntoks, 0, acc);
    const r = toResult(acc);
    if (cache !== undefined) {
      cache.set(subject, r);
      if (cache.size > CACHE_MAX) sweepCache(cache);
    }
    return r;
  }

  /**
   * match() without the cache, for subjects that are seldom seen twice (replies to unique inboxes): no
   * lookup, no insert, so they neither pay for the cache nor evict the results that are reused.
   */
  matchUncached(subject: string): SublistResult<T> {
    this.#matches++;
    const ntoks = scanLiteral(subject, this.#ends);
    if (ntoks < 0) return EMPTY_RESULT;
    const acc: Acc<T> = { psubs: [], qsubs: [], qnames: [] };
    matchLevel(this.#root, subject, this.#ends, ntoks, 0, acc);
    return toResult(acc);
  }

  /** Reports whether any subscription matches a literal subject, without building or caching a result. */
  hasInterest(subject: string): boolean {
    const r = this.#cache?.get(subject);
    // Cached results are exact, so a cached empty result is a definite no.
    if (r !== undefined) return r.psubs.length > 0 || r.qsubs.length > 0;
    const ntoks = scanLiteral(subject, this.#ends);
    if (ntoks < 0) return false;
    return matchLevelForAny(this.#root, subject, this.#ends, ntoks, 0);
  }

  /** Counts the plain and queue subscriptions (each member once, weights ignored) a subject reaches. */
  numInterest(subject: string): { np: number; nq: number } {
    const counts = { np: 0, nq: 0 };
    const toks = splitLiteral(subject);
    if (toks !== undefined) countLevel(this.#root, toks, 0, counts);
    return counts;
  }

  /**
   * Returns the stored subscriptions whose subject could match some subject that `subject` (wildcards
   * allowed) matches: with literal subscriptions, those that `subject` matches. Not cached.
   */
  reverseMatch(subject: string): SublistResult<T> {
    const toks = subject.split(".");
    for (const t of toks) if (t.length === 0) return EMPTY_RESULT;
    const acc: Acc<T> = { psubs: [], qsubs: [], qnames: [] };
    reverseMatchLevel(this.#root, toks, 0, acc);
    return toResult(acc);
  }

  /** Number of inserts minus successful removes. */
  count(): number {
    return this.#count;
  }

  /** Number of cached results. */
  cacheCount(): number {
    return this.#cache?.size ?? 0;
  }

  /** Every stored subscription, each once (queue members unweighted). */
  all(): T[] {
    const out: T[] = [];
    collectAll(this.#root, out);
    return out;
  }

  /** Depth of the deepest branch of the trie; for tests. */
  numLevels(): number {
    return visitLevel(this.#root, 0);
  }

  /** Current statistics; walks the cache (≤ 1024 entries) for the fan-out figures. */
  stats(): SublistStats {
    let tot = 0;
    let max = 0;
    let clen = 0;
    this.#cache?.forEach((r) => {
      clen++;
      const n = r.psubs.length + r.qsubs.length;
      tot += n;
      if (n > max) max = n;
    });
    return SublistStats.from(
      {
        numSubs: this.#count,
        numCache: clen,
        numInserts: this.#inserts,
        numRemoves: this.#removes,
        numMatches: this.#matches,
        maxFanout: max,
      },
      this.#cacheHits,
      tot,
      clen,
    );
  }

  // -- Interest notifications (Go's RegisterNotification): exact literal subjects only. --

  /**
   * Calls `notify(true)` when the first plain subscription on exactly `subject` arrives and
   * `notify(false)` when the last goes; called once at once with the current state. Wildcard
   * subscriptions do not count. `notify` runs synchronously inside insert/remove/removeBatch.
   * @throws SublistError for a wildcard subject or a callback already registered for it.
   */
  registerNotification(subject: string, notify: InterestNotify): void {
    this.#registerNotification(subject, "", notify);
  }

  /** Like registerNotification for the members of one queue group on `subject`. */
  registerQueueNotification(subject: string, queue: string, notify: InterestNotify): void {
    this.#registerNotification(subject, queue, notify);
  }

  /** Stops notifications for a callback; false when it was not registered. */
  clearNotification(subject: string, notify: InterestNotify): boolean {
    return this.#clearNotification(subject, "", notify);
  }

  /** Stops queue notifications for a callback; false when it was not registered. */
  clearQueueNotification(subject: string, queue: string, notify: InterestNotify): boolean {
    return this.#clearNotification(subject, queue, notify);
  }

  /** Reports whether any notification is registered; for tests. */
  hasNotifications(): boolean {
    return this.#notifyInsert !== undefined;
  }

  #registerNotification(subject: string, queue: string, notify: InterestNotify): void {
    if (!subjectIsLiteral(subject)) throw new SublistError("invalid subject");
    if (typeof notify !== "function") throw new SublistError("notify callback required");
    const has = this.#exactInterest(subject, queue);
    const key = notifyKey(subject, queue);
    const ins = this.#notifyInsert ??= new Map();
    const rem = this.#notifyRemove ??= new Map();
    const target = has ? rem : ins;
    const list = target.get(key);
    if (list?.includes(notify)) throw new SublistError("notification already registered");
    if (list === undefined) target.set(key, [notify]);
    else list.push(notify);
    notify(has);
  }

  #clearNotification(subject: string, queue: string, notify: InterestNotify): boolean {
    const ins = this.#notifyInsert;
    const rem = this.#notifyRemove;
    if (ins === undefined || rem === undefined) return false;
    const key = notifyKey(subject, queue);
    const removed = removeNotify(rem, key, notify) || removeNotify(ins, key, notify);
    if (ins.size === 0 && rem.size === 0) {
      this.#notifyInsert = undefined;
      this.#notifyRemove = undefined;
    }
    return removed;
  }

  // Interest from subscriptions on exactly `subject` (and `queue`, when given), wildcards ignored.
  #exactInterest(subject: string, queue: string): boolean {
    const toks = splitLiteral(subject);
    if (toks === undefined) return false;
    let l: Level<T> | undefined = this.#root;
    let n: Node<T> | undefined;
    for (const t of toks) {
      if (l === undefined) return false;
      n = l.nodes.get(t);
      if (n === undefined) return false;
      l = n.next;
    }
    if (n === undefined) return false;
    return queue === "" ? n.psubs !== undefined : n.qsubs?.has(queue) === true;
  }

  #checkInsertNotify(subject: string, queue: string): void {
    const key = notifyKey(subject, queue);
    const list = this.#notifyInsert!.get(key);
    if (list === undefined) return;
    this.#notifyInsert!.delete(key);
    moveNotify(this.#notifyRemove!, key, list);
    for (const fn of list) fn(true);
  }

  #checkRemoveNotify(subject: string, queue: string): void {
    const key = notifyKey(subject, queue);
    const list = this.#notifyRemove!.get(key);
    if (list === undefined || this.#exactInterest(subject, queue)) return;
    this.#notifyRemove!.delete(key);
    moveNotify(this.#notifyInsert!, key, list);
    for (const fn of list) fn(false);
  }
}

function notifyKey(subject: string, queue: string): string {
  return queue === "" ? subject : `${subject} ${queue}`;
}

function removeNotify(m: Map<string, InterestNotify[]>, key: string, fn: InterestNotify): boolean {
  const list = m.get(key);
  const i = list === undefined ? -1 : list.indexOf(fn);
  if (i < 0) return false;
  list!.splice(i, 1);
  if (list!.length === 0) m.delete(key);
  return true;
}

function moveNotify(m: Map<string, InterestNotify[]>, key: string, list: InterestNotify[]): void {
  const cur = m.get(key);
  if (cur === undefined) m.set(key, list.slice());
  else cur.push(...list);
}

const DOT = 0x2e;

// Records where each token of a literal subject ends; returns the token count, or -1 when a token is
// empty (such subjects match nothing).
function scanLiteral(subject: string, ends: number[]): number {
  const n = subject.length;
  if (n === 0) return -1;
  let ntoks = 0;
  let start = 0;
  for (let i = 0; i < n; i++) {
    if (subject.charCodeAt(i) !== DOT) continue;
    if (i === start) return -1;
    ends[ntoks++] = i;
    start = i + 1;
  }
  if (start === n) return -1;
  ends[ntoks++] = n;
  return ntoks;
}

// Splits a literal subject for a trie walk; undefined when a token is empty (such subjects match nothing).
function splitLiteral(subject: string): string[] | undefined {
  const n = subject.length;
  if (
    n === 0 || subject.charCodeAt(0) === DOT || subject.charCodeAt(n - 1) === DOT || subject.includes("..")
  ) {
    return undefined;
  }
  return subject.split(".");
}

// Drops cached results, in table order (pseudo-random, as Go's map order), until CACHE_SWEEP remain.
// Go does this on a goroutine; here it runs inline, at most once per ~512 cache misses.
function sweepCache<T>(cache: StrTable<SublistResult<T>>): void {
  for (const key of cache.someKeys(cache.size - CACHE_SWEEP)) cache.delete(key);
}
