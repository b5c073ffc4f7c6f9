// Typed reads of parsed config values, with nats-server's error texts and `file:line:col:` positions
// (server/errors.go configErr, unknownConfigFieldErr, configWarningErr, processConfigErr).
import { parseDuration } from "../util/mod.ts";
import type { Kind } from "./_parser.ts";
import { type ConfigMap, type ConfigValue, type EntryInfo, entryInfo } from "./_tree.ts";

/** A position in a config file, as a token carries it. */
export type Ref = Pick<EntryInfo, "file" | "line" | "pos"> & { usedVariable?: boolean; kind?: Kind };

/** Config-file errors and warnings; `message` is nats-server's text (warnings first, then errors). */
export class ConfigError extends SyntaxError {
  constructor(readonly errors: string[], readonly warnings: string[] = []) {
    super([...warnings, ...errors].map((e) => e + "\n").join(""));
    this.name = "ConfigError";
  }
}

/** A type or value fault found while reading one value; the caller adds the position. */
export class FieldFault extends Error {
  constructor(reason: string, readonly ref?: Ref) {
    super(reason);
    this.name = "FieldFault";
  }
}

/** Collects errors and warnings while options are read, formatted as Go formats them. */
export class Report {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  error(ref: Ref | undefined, reason: string): void {
    this.errors.push(ref ? `${where(ref)}: ${reason}` : reason);
  }

  unknownField(ref: Ref | undefined, field: string): void {
    if (ref?.usedVariable) return;
    this.errors.push(`${ref ? where(ref) : ""}: unknown field ${goQuote(field)}`);
  }

  warnField(ref: Ref | undefined, field: string, reason: string): void {
    this.warnings.push(`${ref ? where(ref) : ""}: invalid use of field ${goQuote(field)}: ${reason}`);
  }

  /** Runs `fn`, turning a FieldFault into an error at its own position or at `ref`. */
  guard(ref: Ref | undefined, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof FieldFault)) throw e;
      this.error(e.ref ?? ref, e.message);
    }
  }
}

export function where(ref: Ref): string {
  return `${ref.file}:${ref.line}:${ref.pos}`;
}

/** Go's %q for a string. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's %q for a []string: `["a" "b"]`. */
export function goQuoteList(list: string[]): string {
  return "[" + list.map(goQuote).join(" ") + "]";
}

/** Position of an entry of a parsed map or array. */
export function refOf(container: object, key: string | number): Ref | undefined {
  return entryInfo(container, key);
}

/** The Go type name (`%T`) of a parsed value. */
export function goType(v: ConfigValue, kind?: Kind): string {
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return kind === "float" || !Number.isInteger(v) ? "float64" : "int64";
  if (v instanceof Date) return "time.Time";
  if (Array.isArray(v)) return "[]interface {}";
  return "map[string]interface {}";
}

/** Go's %v of a parsed value (close enough for the messages that print values). */
export function goValue(v: unknown): string {
  if (Array.isArray(v)) return "[" + v.map(goValue).join(" ") + "]";
  if (v instanceof Date) return v.toISOString().replace(".000Z", " +0000 UTC").replace("T", " ");
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v).sort();
    return "map[" + keys.map((k) => `${k}:${goValue((v as Record<string, unknown>)[k])}`).join(" ") + "]";
  }
  return String(v);
}

function conversion(v: ConfigValue, kind: Kind | undefined, want: string): FieldFault {
  return new FieldFault(`interface conversion: interface {} is ${goType(v, kind)}, not ${want}`);
}

export function asString(v: ConfigValue, kind?: Kind): string {
  if (typeof v !== "string") throw conversion(v, kind, "string");
  return v;
}

export function asInt(v: ConfigValue, kind?: Kind): number {
  if (typeof v !== "number" || kind === "float" || !Number.isInteger(v)) throw conversion(v, kind, "int64");
  return v;
}

export function asBool(v: ConfigValue, kind?: Kind): boolean {
  if (typeof v !== "boolean") throw conversion(v, kind, "bool");
  return v;
}

export function asMap(v: ConfigValue, kind?: Kind): ConfigMap {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Date) {
    throw conversion(v, kind, "map[string]interface {}");
  }
  return v;
}

export function isMap(v: ConfigValue): v is ConfigMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** A Go duration string in ms, with `error parsing <field>: <time error>` on failure. */
export function durationMs(field: string, v: ConfigValue, kind?: Kind): number {
  const s = asString(v, kind);
  try {
    return parseDuration(s);
  } catch (e) {
    throw new FieldFault(`error parsing ${field}: ${(e as Error).message}`);
  }
}

/**
 * `ping_interval`-style field: a duration string, or (deprecated) a bare number of seconds, which adds
 * a warning.
 */
export function durationOrSeconds(
  field: string,
  v: ConfigValue,
  ref: Ref | undefined,
  report: Report,
): number {
  if (typeof v === "string") return durationMs(field, v);
  const secs = asInt(v, ref?.kind);
  report.warnField(ref, field, `${field} should be converted to a duration`);
  return secs * 1000;
}

/** A string or list of strings (Go's parseStringArray). */
export function stringList(
  field: string,
  v: ConfigValue,
  container: object,
  key: string,
  report: Report,
): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) {
    const out: string[] = [];
    v.forEach((e, i) => {
      if (typeof e === "string") out.push(e);
      else {report.error(
          refOf(v, i),
          `error parsing ${field}: unsupported type in array ${goType(e, refOf(v, i)?.kind)}`,
        );}
    });
    return out;
  }
  throw new FieldFault(`error parsing ${field}: unsupported type ${goType(v, refOf(container, key)?.kind)}`);
}

/** Splits `host:port` as Go's net.SplitHostPort does; undefined when malformed. */
export function splitHostPort(s: string): { host: string; port: string } | undefined {
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0 || s[end + 1] !== ":") return undefined;
    const host = s.slice(1, end);
    const port = s.slice(end + 2);
    if (port.includes(":")) return undefined;
    return { host, port };
  }
  const i = s.lastIndexOf(":");
  if (i < 0) return undefined;
  const host = s.slice(0, i);
  if (host.includes(":") || host.includes("[") || host.includes("]")) return undefined;
  const port = s.slice(i + 1);
  if (port.includes("[") || port.includes("]")) return undefined;
  return { host, port };
}

/** `listen`/`http` style value: a port or `host:port` (Go's parseListen). */
export function parseListen(v: ConfigValue, kind?: Kind): { host: string; port: number } {
  if (typeof v === "number" && kind !== "float" && Number.isInteger(v)) return { host: "", port: v };
  if (typeof v === "string") {
    const hp = splitHostPort(v);
    if (!hp) throw new FieldFault(`could not parse address string ${goQuote(v)}`);
    if (!/^[+-]?[0-9]+$/.test(hp.port)) throw new FieldFault(`could not parse port ${goQuote(hp.port)}`);
    return { host: hp.host, port: Number(hp.port) };
  }
  throw new FieldFault(`expected port or host:port, got ${goType(v, kind)}`);
}

/** A subject as nats-server accepts it in permissions: non-empty tokens, no blanks, `>` only last. */
export function isValidSubject(s: string): boolean {
  if (s === "") return false;
  let sawFwc = false;
  for (const t of s.split(".")) {
    if (t === "" || sawFwc) return false;
    if (/[\t\n\f\r ]/.test(t)) return false;
    if (t === ">") sawFwc = true;
  }
  return true;
}
