// Query-parameter decoding with the texts nats-server answers (400, text/plain) when a value is bad.
// Behaviour follows decodeBool/decodeInt/decodeUint64/decodeState/decodeSubs in server/monitor.go.

/** A request the monitor rejects: `message` is the response body, verbatim. */
export class MonitorError extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
    this.name = "MonitorError";
  }
}

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Go's strconv.Quote for the strings that reach these errors (ASCII in practice). */
function quote(s: string): string {
  return JSON.stringify(s);
}

/** strconv.ParseBool of the parameter; absent or empty is false. */
export function decodeBool(q: URLSearchParams, param: string): boolean {
  const v = q.get(param) ?? "";
  if (v === "") return false;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new MonitorError(
    `Error decoding boolean for '${param}': strconv.ParseBool: parsing ${quote(v)}: invalid syntax`,
  );
}

const INT_RE = /^[+-]?[0-9]+$/;
const UINT_RE = /^[0-9]+$/;

/** strconv.Atoi of the parameter; absent or empty is 0. */
export function decodeInt(q: URLSearchParams, param: string): number {
  const v = q.get(param) ?? "";
  if (v === "") return 0;
  if (!INT_RE.test(v)) {
    throw new MonitorError(
      `Error decoding int for '${param}': strconv.Atoi: parsing ${quote(v)}: invalid syntax`,
    );
  }
  const n = Number(v);
  if (!Number.isSafeInteger(n) && Math.abs(n) > 9223372036854775807) {
    throw new MonitorError(
      `Error decoding int for '${param}': strconv.Atoi: parsing ${quote(v)}: value out of range`,
    );
  }
  return n;
}

/** strconv.ParseUint(v, 10, 64) of the parameter; absent or empty is 0. */
export function decodeUint64(q: URLSearchParams, param: string): number {
  const v = q.get(param) ?? "";
  if (v === "") return 0;
  if (!UINT_RE.test(v)) {
    throw new MonitorError(
      `Error decoding uint64 for '${param}': strconv.ParseUint: parsing ${quote(v)}: invalid syntax`,
    );
  }
  const n = Number(v);
  if (n > 18446744073709551615) {
    throw new MonitorError(
      `Error decoding uint64 for '${param}': strconv.ParseUint: parsing ${quote(v)}: value out of range`,
    );
  }
  return n;
}

/** Which connections /connz lists. */
export type ConnState = "open" | "closed" | "all";

/** The `state` parameter: open (default), closed, any or all. */
export function decodeState(q: URLSearchParams): ConnState {
  const v = q.get("state") ?? "";
  if (v === "") return "open";
  switch (v.toLowerCase()) {
    case "open":
      return "open";
    case "closed":
      return "closed";
    case "any":
    case "all":
      return "all";
  }
  throw new MonitorError(`Error decoding state for ${v}`);
}

/** The `subs` parameter: "detail", or a boolean. */
export function decodeSubs(q: URLSearchParams): { subs: boolean; detail: boolean } {
  const detail = (q.get("subs") ?? "").toLowerCase() === "detail";
  return { subs: detail ? false : decodeBool(q, "subs"), detail };
}
