// Per-connection publish/subscribe permissions; behaviour follows nats-server server/client.go (setPermissions,
// pubAllowedFullCheck, canSubscribe, queueMatches, checkDenySub, loadMsgDenyFilter, pruneReplyPerms) and
// validateResponsePermissions in server/auth.go.
import {
  DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS,
  DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
  type Permissions,
  type ResponsePermission,
} from "../config/mod.ts";
import { subjectHasWildcard, subjectIsSubsetMatch, SubjectTree } from "./_subject_tree.ts";

// Bounds of the per-connection caches (nats-server: maxPermCacheSize, maxDenyPermCacheSize, pruneSize,
// replyPermLimit).
const MAX_PERM_CACHE_SIZE = 128;
const MAX_DENY_PERM_CACHE_SIZE = 256;
const PRUNE_SIZE = 32;
const REPLY_PERM_LIMIT = 4096;

/** The compiled, immutable part of a permissions block, shared by every connection of one user. */
interface Rules {
  pubAllow: SubjectTree | undefined;
  pubDeny: SubjectTree | undefined;
  subAllow: SubjectTree | undefined;
  subDeny: SubjectTree | undefined;
  /** Subscribe deny entries as written, for the delivery filter that wildcard subscriptions switch on. */
  subDenyList: readonly string[];
  /** The same entries inserted whole (a "subj queue" entry becomes a subject that never matches). */
  subDenyFilter: SubjectTree | undefined;
  response: ResponsePermission | undefined;
}

interface ReplyGrant {
  /** When the message carrying this reply subject was delivered (ms). */
  t: number;
  /** Replies sent on it so far. */
  n: number;
}

/** Options for ClientPermissions.compile. */
export interface CompileOptions {
  /** Clock in milliseconds for `allow_responses` expiry; defaults to Date.now (tests pass a fake). */
  now?: () => number;
}

/** Splits a subscribe entry "subject [queue]" on whitespace; undefined for an empty or 3+-field entry. */
function splitSubjectQueue(entry: string): [string, string | undefined] | undefined {
  const f = entry.trim().split(/\s+/);
  if (f[0] === "" || f.length > 2) return undefined;
  return [f[0], f[1]];
}

function compileRules(p: Permissions): Rules {
  let pubAllow: SubjectTree | undefined;
  let pubDeny: SubjectTree | undefined;
  let subAllow: SubjectTree | undefined;
  let subDeny: SubjectTree | undefined;
  let subDenyFilter: SubjectTree | undefined;

  let response: ResponsePermission | undefined;
  if (p.response !== undefined) {
    response = {
      maxMsgs: p.response.maxMsgs === 0 ? DEFAULT_ALLOW_RESPONSE_MAX_MSGS : p.response.maxMsgs,
      expiresMs: p.response.expiresMs === 0 ? DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS : p.response.expiresMs,
    };
  }

  // An allow list that is present but empty denies every publish; allow_responses turns a missing one into
  // that, so that only replies may be published.
  const pubAllowList = p.publish?.allow ?? (response !== undefined ? [] : undefined);
  if (pubAllowList !== undefined) {
    pubAllow = new SubjectTree();
    for (const s of pubAllowList) pubAllow.insert(s);
  }
  const pubDenyList = p.publish?.deny ?? [];
  if (pubDenyList.length > 0) {
    pubDeny = new SubjectTree();
    for (const s of pubDenyList) pubDeny.insert(s);
  }

  // For subscriptions an empty allow list means no allow list at all.
  const subAllowList = p.subscribe?.allow ?? [];
  if (subAllowList.length > 0) {
    subAllow = new SubjectTree();
    for (const e of subAllowList) {
      const sq = splitSubjectQueue(e);
      if (sq !== undefined) subAllow.insert(sq[0], sq[1]);
    }
  }
  const subDenyList = p.subscribe?.deny ?? [];
  if (subDenyList.length > 0) {
    subDeny = new SubjectTree();
    subDenyFilter = new SubjectTree();
    for (const e of subDenyList) {
      const sq = splitSubjectQueue(e);
      if (sq !== undefined) subDeny.insert(sq[0], sq[1]);
      subDenyFilter.insert(e);
    }
  }
  return { pubAllow, pubDeny, subAllow, subDeny, subDenyList: [...subDenyList], subDenyFilter, response };
}

/** True when `queue` is one of the queue names, or falls within one that holds wildcards. */
function queueMatches(queue: string, queues: string[]): boolean {
  for (const q of queues) {
    if (queue === q || (subjectHasWildcard(q) && subjectIsSubsetMatch(queue, q))) return true;
  }
  return false;
}

function pruneOldest<K, V>(m: Map<K, V>, count: number): void {
  for (const k of m.keys()) {
    m.delete(k);
    if (--count <= 0) break;
  }
}

/**
 * One connection's permissions: allow/deny lists compiled once per user and shared, plus this connection's
 * caches, delivery deny filter and `allow_responses` grants.
 */
export class ClientPermissions {
  readonly #rules: Rules;
  readonly #now: () => number;
  readonly #pcache = new Map<string, boolean>();
  #denyFilterOn = false;
  readonly #dcache = new Map<string, boolean>();
  readonly #replies = new Map<string, ReplyGrant>();

  private constructor(rules: Rules, now: () => number) {
    this.#rules = rules;
    this.#now = now;
  }

  /** Compiles a permissions block (the input is not modified). */
  static compile(p: Permissions, opts: CompileOptions = {}): ClientPermissions {
    return new ClientPermissions(compileRules(p), opts.now ?? Date.now);
  }

  /** A new instance sharing the compiled lists, with empty per-connection state: one per connection. */
  forConnection(): ClientPermissions {
    return new ClientPermissions(this.#rules, this.#now);
  }

  /** `allow_responses` with defaults applied (max 1, expires 2m), or undefined when not set. */
  get response(): ResponsePermission | undefined {
    return this.#rules.response;
  }

  /** True when the subscribe permissions have a deny list. */
  get hasSubDeny(): boolean {
    return this.#rules.subDeny !== undefined;
  }

  /** True when publish permissions restrict anything (an allow or deny list is present). */
  get hasPubPerms(): boolean {
    return this.#rules.pubAllow !== undefined || this.#rules.pubDeny !== undefined;
  }

  /**
   * May this connection publish on `subject`? Static results are cached (bounded). When the lists say no and
   * `allow_responses` is on, a reply subject granted by `allowReply()` is accepted within its count and
   * expiry (grants are counted, never cached); `checkReplies: false` skips grants (nats-server's route/leaf
   * checks).
   */
  canPublish(subject: string, checkReplies = true): boolean {
    const r = this.#rules;
    if (r.pubAllow === undefined && r.pubDeny === undefined) return true;
    const cached = this.#pcache.get(subject);
    if (cached !== undefined) return cached;

    let allowed = true;
    if (r.pubAllow !== undefined) allowed = r.pubAllow.hasPlainMatch(subject);
    if (allowed && r.pubDeny !== undefined) allowed = !r.pubDeny.hasPlainMatch(subject);

    if (!allowed && r.response !== undefined) {
      // A denial is not cached while reply grants exist: a later call may find one (nats-server caches it
      // after a route/leaf check, which would hide grants from a client's next full check).
      const g = checkReplies ? this.#replies.get(subject) : undefined;
      if (g !== undefined) {
        g.n++;
        if (r.response.maxMsgs > 0 && g.n > r.response.maxMsgs) this.#replies.delete(subject);
        else if (r.response.expiresMs > 0 && this.#now() - g.t > r.response.expiresMs) {
          this.#replies.delete(subject);
        } else allowed = true;
      }
    } else {
      this.#pcache.set(subject, allowed);
      if (this.#pcache.size > MAX_PERM_CACHE_SIZE) pruneOldest(this.#pcache, PRUNE_SIZE + 1);
    }
    return allowed;
  }

  /**
   * Records that a message with reply subject `reply` was delivered to this connection, which lets it publish
   * responses there under `allow_responses`. A no-op without `allow_responses`.
   */
  allowReply(reply: string): void {
    const resp = this.#rules.response;
    if (resp === undefined || reply === "") return;
    this.#replies.set(reply, { t: this.#now(), n: 0 });
    if (this.#replies.size > REPLY_PERM_LIMIT) this.#pruneReplies(resp);
  }

  #pruneReplies(resp: ResponsePermission): void {
    const now = this.#now();
    for (const [k, g] of this.#replies) {
      if (resp.maxMsgs > 0 && g.n >= resp.maxMsgs) this.#replies.delete(k);
      else if (resp.expiresMs > 0 && now - g.t > resp.expiresMs) this.#replies.delete(k);
    }
  }

  /**
   * May this connection subscribe to `subject` (in queue group `queue`)? Entries may name a queue
   * ("foo v1"): `allow ["foo v1"]` permits only queue subscriptions in v1 (or in a queue group within a
   * wildcard queue name); a matching queue entry decides for a queue subscription over plain entries.
   * An allowed wildcard subscription wider than a deny entry switches on `denyDeliver()` filtering.
   */
  canSubscribe(subject: string, queue?: string): boolean {
    const r = this.#rules;
    let allowed = true;
    if (r.subAllow !== undefined) {
      const m = r.subAllow.match(subject);
      allowed = m.plain > 0;
      if (queue && m.queues.length > 0) allowed = queueMatches(queue, m.queues);
    }
    if (allowed && r.subDeny !== undefined) {
      const m = r.subDeny.match(subject);
      allowed = m.plain === 0;
      if (queue && m.queues.length > 0) allowed = !queueMatches(queue, m.queues);
      if (allowed && !this.#denyFilterOn && subjectHasWildcard(subject)) {
        for (const d of r.subDenyList) {
          if (subjectIsSubsetMatch(d, subject)) {
            this.#denyFilterOn = true;
            break;
          }
        }
      }
    }
    return allowed;
  }

  /** True once a wildcard subscription has switched on delivery filtering (see `denyDeliver`). */
  get denyFilterActive(): boolean {
    return this.#denyFilterOn;
  }

  /**
   * True when a message on `subject` must not be delivered to this connection: a subscribe deny entry
   * matches it and an allowed wildcard subscription has switched the filter on. Results are cached (bounded).
   */
  denyDeliver(subject: string): boolean {
    if (!this.#denyFilterOn) return false;
    const cached = this.#dcache.get(subject);
    if (cached !== undefined) return cached;
    const denied = this.#rules.subDenyFilter!.hasPlainMatch(subject);
    this.#dcache.set(subject, denied);
    if (this.#dcache.size > MAX_DENY_PERM_CACHE_SIZE) pruneOldest(this.#dcache, PRUNE_SIZE + 1);
    return denied;
  }

  /**
   * Forgets which subscriptions switched on delivery filtering, as nats-server does before re-checking a
   * connection's subscriptions after a permissions change; call `canSubscribe` on each again afterwards.
   */
  resetDenyFilter(): void {
    this.#denyFilterOn = false;
    this.#dcache.clear();
  }
}
