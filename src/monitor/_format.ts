// Go-compatible renderings for the monitoring JSON: RFC3339Nano times, Duration.String(), the monitor's
// own uptime format, and encoding/json's HTML-safe escaping. Behaviour follows nats-server server/monitor.go.

/** Milliseconds since the epoch, with sub-millisecond precision where the clock gives it. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Formats epoch milliseconds as Go's time.Time marshals in UTC (RFC3339Nano: fraction with trailing
 * zeros trimmed, none when whole). The fraction is kept to microseconds: a double holding ~1.8e12 ms
 * is not exact below that.
 */
export function goTime(ms: number): string {
  let sec = Math.floor(ms / 1000);
  let us = Math.round((ms - sec * 1000) * 1000);
  if (us >= 1_000_000) {
    sec += 1;
    us -= 1_000_000;
  }
  const base = new Date(sec * 1000).toISOString().slice(0, 19);
  if (us === 0) return base + "Z";
  const frac = String(us).padStart(6, "0").replace(/0+$/, "");
  return `${base}.${frac}Z`;
}

/** Go's myUptime: whole seconds as "1y2d3h4m5s", leading zero units dropped ("0s" at least). */
export function myUptime(ms: number): string {
  const tsecs = Math.max(0, Math.floor(ms / 1000));
  const tmins = Math.floor(tsecs / 60);
  const thrs = Math.floor(tmins / 60);
  const tdays = Math.floor(thrs / 24);
  const tyrs = Math.floor(tdays / 365);
  if (tyrs > 0) return `${tyrs}y${tdays % 365}d${thrs % 24}h${tmins % 60}m${tsecs % 60}s`;
  if (tdays > 0) return `${tdays}d${thrs % 24}h${tmins % 60}m${tsecs % 60}s`;
  if (thrs > 0) return `${thrs}h${tmins % 60}m${tsecs % 60}s`;
  if (tmins > 0) return `${tmins}m${tsecs % 60}s`;
  return `${tsecs}s`;
}

/** Go's time.Duration.String() for an integer count of nanoseconds ("1.5µs", "2m3.004s", "0s"). */
export function goDurationNs(ns: number): string {
  ns = Math.trunc(ns);
  if (ns === 0) return "0s";
  const neg = ns < 0;
  if (neg) ns = -ns;
  let out: string;
  if (ns < 1_000) out = `${ns}ns`;
  else if (ns < 1_000_000) out = fixed(ns, 1_000, 3) + "µs";
  else if (ns < 1_000_000_000) out = fixed(ns, 1_000_000, 6) + "ms";
  else {
    const h = Math.floor(ns / 3_600_000_000_000);
    const m = Math.floor((ns % 3_600_000_000_000) / 60_000_000_000);
    const s = ns % 60_000_000_000;
    out = (h > 0 ? `${h}h` : "") + (h > 0 || m > 0 ? `${m}m` : "") + fixed(s, 1_000_000_000, 9) + "s";
  }
  return neg ? "-" + out : out;
}

// Integer part of v/unit, then the remainder as `digits` decimals with trailing zeros trimmed.
function fixed(v: number, unit: number, digits: number): string {
  const whole = Math.floor(v / unit);
  const rem = v % unit;
  if (rem === 0) return String(whole);
  return `${whole}.${String(rem).padStart(digits, "0").replace(/0+$/, "")}`;
}

/**
 * A round-trip time as nats-server shows it: truncated to microseconds between 1µs and 1ms, to
 * nanoseconds otherwise.
 */
export function rttString(ms: number): string {
  let ns = Math.floor(ms * 1e6);
  if (ns > 1_000 && ns < 1_000_000) ns = Math.floor(ns / 1_000) * 1_000;
  return goDurationNs(ns);
}

/** Milliseconds as Go nanoseconds (a time.Duration marshals as an integer). */
export function msToNs(ms: number): number {
  return Math.round(ms * 1e6);
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;

function escapeHtml(ch: string): string {
  return "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0");
}

/** JSON as Go's json.MarshalIndent(v, "", "  ") writes it, <, > and & escaped as \u003c and friends. */
export function goJsonIndent(v: unknown): string {
  return JSON.stringify(v, null, 2).replace(HTML_UNSAFE, escapeHtml);
}

/** JSON as Go's json.Marshal writes it (compact). */
export function goJson(v: unknown): string {
  return JSON.stringify(v).replace(HTML_UNSAFE, escapeHtml);
}
