// Go-style duration strings ("1h2m3.5s", "500ms", "2us") to milliseconds, as time.ParseDuration reads them.

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go duration string into milliseconds; throws SyntaxError with Go's wording when invalid. */
export function parseDuration(s: string): number {
  const orig = s;
  if (s === "0") return 0;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "") throw new SyntaxError(`time: invalid duration "${orig}"`);
  let total = 0;
  const re = /^([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || m[1] === "" || m[1] === ".") throw new SyntaxError(`time: invalid duration "${orig}"`);
    const unit = UNITS[m[2]];
    if (unit === undefined) throw new SyntaxError(`time: unknown unit "${m[2]}" in duration "${orig}"`);
    total += parseFloat(m[1]) * unit;
    s = s.slice(m[0].length);
  }
  return sign * total;
}

/** Formats milliseconds as Go's Duration.String() does ("1m30s", "500ms", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const neg = ms < 0;
  if (neg) ms = -ms;
  let out: string;
  if (ms < 1000) {
    if (ms >= 1) out = trimFloat(ms) + "ms";
    else if (ms >= 1e-3) out = trimFloat(ms * 1e3) + "µs";
    else out = trimFloat(ms * 1e6) + "ns";
  } else {
    const h = Math.floor(ms / 3_600_000);
    const m = Math.floor((ms % 3_600_000) / 60_000);
    const s = (ms % 60_000) / 1000;
    out = (h > 0 ? `${h}h` : "") + (h > 0 || m > 0 ? `${m}m` : "") + trimFloat(s) + "s";
  }
  return neg ? "-" + out : out;
}

function trimFloat(n: number): string {
  return String(Math.round(n * 1e9) / 1e9);
}
