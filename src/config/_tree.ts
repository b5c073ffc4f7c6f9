// Plain-object view of a parsed config, with each entry's position kept aside, and the config digest
// that nats-server prints for `-t` (sha256 over the JSON of the parsed map, used variables left out).
import { createHash } from "node:crypto";
import { type Kind, parseFileTokens, parseTokens, type Tok, type TokMap } from "./_parser.ts";

/** Where a config entry was written, and its parsed kind. */
export interface EntryInfo {
  file: string;
  line: number;
  pos: number;
  kind: Kind;
  usedVariable: boolean;
}

/** A parsed config value: string, number, boolean, Date, array or map. */
export type ConfigValue = string | number | boolean | Date | ConfigValue[] | ConfigMap;
/** A parsed config map. */
export type ConfigMap = { [key: string]: ConfigValue };

// Positions of the entries of every map and array handed out by parseConfig(), keyed by the container.
const ENTRIES = new WeakMap<object, Map<string | number, EntryInfo>>();

/** Position of `key` in a map (or index in an array) returned by parseConfig(); undefined if unknown. */
export function entryInfo(container: object, key: string | number): EntryInfo | undefined {
  return ENTRIES.get(container)?.get(key);
}

function info(t: Tok): EntryInfo {
  return { file: t.file, line: t.line, pos: t.pos, kind: t.kind, usedVariable: t.usedVariable };
}

function setKey(obj: ConfigMap, k: string, v: ConfigValue): void {
  if (k === "__proto__") Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true });
  else obj[k] = v;
}

/** Converts a token map into plain objects, recording positions. */
export function toPlainMap(m: TokMap): ConfigMap {
  const out: ConfigMap = {};
  const pos = new Map<string | number, EntryInfo>();
  for (const [k, t] of m) {
    setKey(out, k, toPlain(t));
    pos.set(k, info(t));
  }
  ENTRIES.set(out, pos);
  return out;
}

function toPlain(t: Tok): ConfigValue {
  const v = t.value;
  if (v instanceof Map) return toPlainMap(v);
  if (Array.isArray(v)) {
    const arr: ConfigValue[] = [];
    const pos = new Map<string | number, EntryInfo>();
    v.forEach((e, i) => {
      arr.push(toPlain(e));
      pos.set(i, info(e));
    });
    ENTRIES.set(arr, pos);
    return arr;
  }
  if (v instanceof Date) return new Date(v.getTime());
  return v;
}

/** Parses config text; `file` (optional) anchors relative includes and error positions. */
export function parseConfig(text: string, opts: { file?: string } = {}): ConfigMap {
  return toPlainMap(parseTokens(text, opts.file ?? ""));
}

/** Reads and parses a config file. */
export function parseConfigFile(path: string): ConfigMap {
  return toPlainMap(parseFileTokens(path));
}

/**
 * `sha256:<hex>` over the parsed config as nats-server computes it: Go's JSON encoding (sorted keys,
 * HTML-safe escapes, trailing new line) of the map, leaving out map entries used as variables.
 */
export function configDigest(tree: ConfigMap): string {
  const json = goJson(tree, true) + "\n";
  return "sha256:" + createHash("sha256").update(json, "utf8").digest("hex");
}

// Go drops used variables only from maps reached through maps, not from maps inside arrays.
function goJson(v: ConfigValue, filter: boolean): string {
  if (typeof v === "string") return goString(v);
  if (typeof v === "number") return goNumber(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v instanceof Date) return goString(v.toISOString().replace(/\.000Z$/, "Z"));
  if (Array.isArray(v)) return "[" + v.map((e) => goJson(e, false)).join(",") + "]";
  const keys = Object.keys(v).filter((k) => !(filter && entryInfo(v, k)?.usedVariable)).sort(compareBytes);
  return "{" + keys.map((k) => goString(k) + ":" + goJson(v[k], filter)).join(",") + "}";
}

/** Go sorts map keys by their UTF-8 bytes. */
function compareBytes(a: string, b: string): number {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) if (ea[i] !== eb[i]) return ea[i] - eb[i];
  return ea.length - eb.length;
}

function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  // Go picks exponent form below 1e-6 and from 1e21 up, as JavaScript does.
  return String(n);
}

function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&" || c === 0x2028 || c === 0x2029) {
      out += "\\u" + c.toString(16).padStart(4, "0");
    } else out += ch;
  }
  return out + '"';
}
