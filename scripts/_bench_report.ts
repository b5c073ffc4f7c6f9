// Benchmark results: medians and the markdown tables printed by scripts/bench.ts.

/** One timed run of one case on one server. */
export interface RunResult {
  server: string;
  case: string;
  rep: number;
  ok: boolean;
  error?: string;
  /** The server refuses the case (e.g. a storage type it lacks): NA, not a failure. */
  na?: boolean;
  msgs: number;
  elapsedS?: number;
  msgsPerS?: number;
  /** Server CPU (user+system) per published message, in ns. */
  cpuNsPerMsg?: number;
  p50Us?: number;
  p90Us?: number;
  p99Us?: number;
}

/** The per-server medians of one case. */
export interface CaseSummary {
  msgsPerS?: number;
  cpuNsPerMsg?: number;
  p50Us?: number;
  p90Us?: number;
  p99Us?: number;
  runs: number;
  failed: number;
  na?: boolean;
}

/** A case as the table lists it. */
export interface CaseDef {
  name: string;
  scenario: string;
  size: number;
  msgs: number;
}

export function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile of an already sorted array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(runs: RunResult[]): CaseSummary {
  const ok = runs.filter((r) => r.ok);
  const med = (k: keyof RunResult) =>
    median(ok.map((r) => r[k]).filter((v): v is number => typeof v === "number" && Number.isFinite(v)));
  return {
    msgsPerS: med("msgsPerS"),
    cpuNsPerMsg: med("cpuNsPerMsg"),
    p50Us: med("p50Us"),
    p90Us: med("p90Us"),
    p99Us: med("p99Us"),
    runs: ok.length,
    failed: runs.length - ok.length,
    na: runs.length > 0 && runs.every((r) => r.na),
  };
}

function num(v: number | undefined, digits = 0): string {
  if (v === undefined) return "-";
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(b: number | undefined, a: number | undefined): string {
  if (a === undefined || b === undefined || a === 0) return "-";
  return (b / a).toFixed(2);
}

function cell(s: CaseSummary | undefined, v: number | undefined, digits = 0): string {
  if (!s) return "-";
  if (s.na) return "NA";
  if (s.runs === 0) return "FAIL";
  return num(v, digits) + (s.failed > 0 ? ` (${s.failed} failed)` : "");
}

/**
 * Markdown tables: throughput and CPU per message for every case, latency for request/reply.
 * `labels[0]` is A (the reference), `labels[1]` B; with one label only its columns are printed.
 */
export function markdown(
  cases: CaseDef[],
  labels: string[],
  sums: Map<string, Map<string, CaseSummary>>,
): string {
  const [a, b] = labels;
  const two = labels.length === 2;
  const get = (c: string, l: string | undefined) => (l === undefined ? undefined : sums.get(c)?.get(l));
  const lines: string[] = [];
  if (two) {
    lines.push(
      `| case | msgs | ${a} msgs/s | ${b} msgs/s | ${b}/${a} | ${a} CPU ns/msg | ${b} CPU ns/msg | ${b}/${a} CPU |`,
      "|---|---:|---:|---:|---:|---:|---:|---:|",
    );
  } else {
    lines.push(`| case | msgs | ${a} msgs/s | ${a} CPU ns/msg |`, "|---|---:|---:|---:|");
  }
  for (const c of cases) {
    const sa = get(c.name, a);
    const sb = get(c.name, b);
    if (!sa && !sb) continue;
    const row = two
      ? [
        cell(sa, sa?.msgsPerS),
        cell(sb, sb?.msgsPerS),
        ratio(sb?.msgsPerS, sa?.msgsPerS),
        cell(sa, sa?.cpuNsPerMsg),
        cell(sb, sb?.cpuNsPerMsg),
        ratio(sb?.cpuNsPerMsg, sa?.cpuNsPerMsg),
      ]
      : [cell(sa, sa?.msgsPerS), cell(sa, sa?.cpuNsPerMsg)];
    lines.push(`| ${c.name} | ${num(c.msgs)} | ${row.join(" | ")} |`);
  }
  const rr = cases.filter((c) =>
    (c.scenario === "reqrep" || c.scenario === "js-sync") && (get(c.name, a) || get(c.name, b))
  );
  if (rr.length > 0) {
    lines.push(
      "",
      "Request/reply and JetStream sync publish latency (µs, sequential requests; median over runs of each " +
        "run's percentile):",
      "",
    );
    if (two) {
      lines.push(
        `| case | ${a} p50 | ${b} p50 | ${b}/${a} | ${a} p90 | ${b} p90 | ${b}/${a} | ${a} p99 | ${b} p99 | ${b}/${a} |`,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      );
    } else {
      lines.push(`| case | ${a} p50 | ${a} p90 | ${a} p99 |`, "|---|---:|---:|---:|");
    }
    for (const c of rr) {
      const sa = get(c.name, a);
      const sb = get(c.name, b);
      const cols = (["p50Us", "p90Us", "p99Us"] as const).flatMap((k) =>
        two ? [cell(sa, sa?.[k], 1), cell(sb, sb?.[k], 1), ratio(sb?.[k], sa?.[k])] : [cell(sa, sa?.[k], 1)]
      );
      lines.push(`| ${c.name} | ${cols.join(" | ")} |`);
    }
  }
  if (two) {
    lines.push(
      "",
      `${b}/${a}: above 1 means ${b} is faster for msgs/s, and uses more CPU per message or has higher latency ` +
        "for the CPU and latency columns. msgs/s counts published messages (fanout delivers 5x as many).",
    );
  }
  return lines.join("\n");
}
