// /subsz (alias /subscriptionsz): sublist statistics, optionally with a page of subscriptions. Behaviour
// follows Subsz() and HandleSubsz() in nats-server server/monitor.go.

import type { Server, Subscription } from "../server/mod.ts";
import { isValidLiteralSubject, matchLiteral, SublistStats } from "../sublist/mod.ts";
import { goTime, nowMs } from "./_format.ts";
import { MonitorError } from "./_query.ts";
import { DEFAULT_LIST_SIZE, type SubDetail } from "./connz.ts";

/** What /subsz takes. */
export interface SubszOptions {
  /** Include a page of subscriptions (`subs`). */
  subs?: boolean;
  offset?: number;
  limit?: number;
  /** Only this account (`acc`). */
  acc?: string;
  /** Only subscriptions a publish on this literal subject would reach (`test`). */
  test?: string;
}

/** Sublist statistics with their wire names. */
export interface SublistStatsJson {
  "num_subscriptions": number;
  "num_cache": number;
  "num_inserts": number;
  "num_removes": number;
  "num_matches": number;
  "cache_hit_rate": number;
  "max_fanout": number;
  "avg_fanout": number;
}

/** The /subsz answer with subscriptions; without any, the endpoint prints only the stats. */
export interface Subsz extends SublistStatsJson {
  "server_id": string;
  now: string;
  total: number;
  offset: number;
  limit: number;
  "subscriptions_list"?: SubDetail[];
}

/** Wire form of a SublistStats. */
export function sublistStatsJson(st: SublistStats): SublistStatsJson {
  return {
    "num_subscriptions": st.numSubs,
    "num_cache": st.numCache,
    "num_inserts": st.numInserts,
    "num_removes": st.numRemoves,
    "num_matches": st.numMatches,
    "cache_hit_rate": st.cacheHitRate,
    "max_fanout": st.maxFanout,
    "avg_fanout": st.avgFanout,
  };
}

/**
 * Builds the /subsz answer; throws MonitorError for a test subject that is not a valid publish subject.
 * As in nats-server 2.9.10, `total` is the number of subscriptions on the returned page.
 */
export function subsz(s: Server, opts: SubszOptions = {}): Subsz {
  const offset = Math.max(0, opts.offset ?? 0);
  let limit = opts.limit ?? 0;
  if (limit <= 0) limit = DEFAULT_LIST_SIZE;
  const test = opts.test ?? "";
  if (test !== "" && !isValidLiteralSubject(test)) {
    throw new MonitorError(`invalid test subject, must be valid publish subject: ${test}`);
  }
  const filterAcc = opts.acc ?? "";
  const st = new SublistStats();
  const page: Subscription[] = [];
  let seen = 0;
  for (const a of s.accounts.values()) {
    if (filterAcc !== "" && a.name !== filterAcc) continue;
    st.add(a.sl.stats());
    if (!opts.subs) continue;
    // Walk every subscription (the test filter needs it), but keep only the page's.
    for (const sub of a.sl.all()) {
      if (test !== "" && !matchLiteral(test, sub.subject)) continue;
      if (seen >= offset && page.length < limit) page.push(sub);
      seen++;
    }
  }
  const list = page.map(subDetail);
  return {
    "server_id": s.id,
    now: goTime(nowMs()),
    ...sublistStatsJson(st),
    total: list.length,
    offset,
    limit,
    "subscriptions_list": opts.subs ? list : undefined,
  };
}

/** One subscription with its account, as /subsz lists it. */
export function subDetail(sub: Subscription): SubDetail {
  return {
    account: sub.client.account.name,
    subject: sub.subject,
    qgroup: sub.queue || undefined,
    sid: sub.sid,
    msgs: sub.nm,
    max: sub.max || undefined,
    cid: sub.client.cid,
  };
}
