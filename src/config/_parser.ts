// Config-file parser: builds the value tree from the lexer's tokens, expands `include` and `$variables`,
// applies size suffixes. Behaviour follows nats-server conf/parse.go in its pedantic (position-keeping) mode.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { type Item, ItemType, lex } from "./_lexer.ts";

/** The Go type a value has after parsing; used for error texts and the digest. */
export type Kind = "string" | "int" | "float" | "bool" | "datetime" | "map" | "array";

/** A parsed value with where it came from. In a map the position is the key's, as in the reference. */
export interface Tok {
  value: TokValue;
  kind: Kind;
  line: number;
  pos: number;
  file: string;
  /** Set when a `$reference` used this key as a variable. */
  usedVariable: boolean;
}
export type TokMap = Map<string, Tok>;
export type TokValue = string | number | boolean | Date | TokMap | Tok[];

/** A config syntax error; `message` is nats-server's text. */
export class ConfigSyntaxError extends SyntaxError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigSyntaxError";
  }
}

type Ctx = TokMap | Tok[];

const PKEY = "pk";
const BCRYPT_PREFIX = "2a$";

const SUFFIX_MULT: Record<string, number> = {
  "": 1,
  k: 1e3,
  kb: 1024,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1024 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1024 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1024 ** 4,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1e15,
  pb: 1024 ** 5,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
  e: 1e18,
  eb: 1024 ** 6,
  ei: 1024 ** 6,
  eib: 1024 ** 6,
};

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

class Parser {
  readonly mapping: TokMap = new Map();
  readonly ctxs: Ctx[] = [];
  ctx: Ctx;
  readonly keys: string[] = [];
  readonly ikeys: Item[] = [];
  /** Folder that `include` paths are relative to. */
  readonly dir: string;

  constructor(readonly file: string, readonly envSeen: ReadonlySet<string>) {
    this.dir = dirname(file);
    this.ctxs.push(this.mapping);
    this.ctx = this.mapping;
  }

  pushContext(ctx: Ctx): void {
    this.ctxs.push(ctx);
    this.ctx = ctx;
  }

  popContext(): Ctx {
    const last = this.ctxs.pop()!;
    this.ctx = this.ctxs[this.ctxs.length - 1];
    return last;
  }

  setValue(tok: Tok): void {
    if (Array.isArray(this.ctx)) {
      this.ctx.push(tok);
      return;
    }
    const key = this.keys.pop()!;
    const it = this.ikeys.pop();
    if (it) {
      tok.line = it.line;
      tok.pos = it.pos;
    }
    this.ctx.set(key, tok);
  }

  tok(it: Item, value: TokValue, kind: Kind): Tok {
    return { value, kind, line: it.line, pos: it.pos, file: this.file, usedVariable: false };
  }

  processItem(it: Item): void {
    switch (it.typ) {
      case ItemType.Error:
        throw new ConfigSyntaxError(`Parse error on line ${it.line}: '${it.val}'`);
      case ItemType.Key:
        this.keys.push(it.val);
        this.ikeys.push(it);
        return;
      case ItemType.MapStart:
        this.pushContext(new Map());
        return;
      case ItemType.MapEnd:
        this.setValue(this.tok(it, this.popContext() as TokMap, "map"));
        return;
      case ItemType.String:
        this.setValue(this.tok(it, it.val, "string"));
        return;
      case ItemType.Integer:
        this.setValue(this.tok(it, parseInteger(it.val), "int"));
        return;
      case ItemType.Float: {
        const n = Number(it.val);
        if (Number.isNaN(n)) throw new ConfigSyntaxError(`expected float, but got '${it.val}'`);
        if (!Number.isFinite(n)) throw new ConfigSyntaxError(`float '${it.val}' is out of the range`);
        this.setValue(this.tok(it, n, "float"));
        return;
      }
      case ItemType.Bool:
        switch (it.val.toLowerCase()) {
          case "true":
          case "yes":
          case "on":
            this.setValue(this.tok(it, true, "bool"));
            return;
          case "false":
          case "no":
          case "off":
            this.setValue(this.tok(it, false, "bool"));
            return;
        }
        throw new ConfigSyntaxError(`expected boolean value, but got '${it.val}'`);
      case ItemType.Datetime:
        this.setValue(this.tok(it, parseZulu(it.val), "datetime"));
        return;
      case ItemType.ArrayStart:
        this.pushContext([]);
        return;
      case ItemType.ArrayEnd:
        this.setValue(this.tok(it, this.popContext() as Tok[], "array"));
        return;
      case ItemType.Variable:
        this.processVariable(it);
        return;
      case ItemType.Include:
        this.processInclude(it);
        return;
    }
  }

  processVariable(it: Item): void {
    let found: Tok | undefined;
    try {
      found = this.lookupVariable(it.val);
    } catch (e) {
      throw new ConfigSyntaxError(
        `variable reference for '${it.val}' on line ${it.line} could not be parsed: ${(e as Error).message}`,
        { cause: e },
      );
    }
    if (!found) {
      throw new ConfigSyntaxError(`variable reference for '${it.val}' on line ${it.line} can not be found`);
    }
    found.usedVariable = true;
    this.setValue(this.tok(it, found.value, found.kind));
  }

  /** Looks `name` up in the enclosing maps, innermost first, then in the environment. */
  lookupVariable(name: string): Tok | undefined {
    // A bare bcrypt hash ($2a$…) looks like a variable but is a literal.
    if (name.startsWith(BCRYPT_PREFIX)) {
      return { value: "$" + name, kind: "string", line: 0, pos: 0, file: this.file, usedVariable: false };
    }
    for (let i = this.ctxs.length - 1; i >= 0; i--) {
      const ctx = this.ctxs[i];
      if (ctx instanceof Map) {
        const v = ctx.get(name);
        if (v !== undefined) return v;
      }
    }
    const env = process.env[name];
    if (env === undefined) return undefined;
    if (this.envSeen.has(name)) throw new ConfigSyntaxError(`variable reference cycle for '${name}'`);
    const seen = new Set(this.envSeen);
    seen.add(name);
    // An environment value is parsed as a config value would be.
    const m = parseTokens(`${PKEY}=${env}`, "", seen);
    const v = m.get(PKEY);
    if (v === undefined) return undefined;
    return { ...v, usedVariable: false };
  }

  processInclude(it: Item): void {
    const path = join(this.dir, it.val);
    let m: TokMap;
    try {
      m = parseFileTokens(path, this.envSeen);
    } catch (e) {
      throw new ConfigSyntaxError(`error parsing include file '${it.val}', ${(e as Error).message}`, {
        cause: e,
      });
    }
    for (const [k, v] of m) {
      this.keys.push(k);
      this.ikeys.push({ typ: ItemType.Key, val: k, line: v.line, pos: v.pos });
      this.setValue(v);
    }
  }
}

function parseInteger(val: string): number {
  let last = 0;
  while (last < val.length && ((val[last] >= "0" && val[last] <= "9") || val[last] === "-")) last++;
  const numStr = val.slice(0, last);
  if (!/^-?[0-9]+$/.test(numStr)) throw new ConfigSyntaxError(`expected integer, but got '${val}'`);
  const big = BigInt(numStr);
  if (big > INT64_MAX || big < INT64_MIN) throw new ConfigSyntaxError(`integer '${val}' is out of the range`);
  const mult = SUFFIX_MULT[val.slice(last).trim().toLowerCase()];
  if (mult === undefined) throw new ConfigSyntaxError(`expected integer, but got '${val}'`);
  return Number(big) * mult;
}

function parseZulu(val: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(val);
  const bad = () => new ConfigSyntaxError(`expected Zulu formatted DateTime, but got '${val}'`);
  if (!m) throw bad();
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const dt = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (
    dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d || h > 23 || mi > 59 ||
    s > 59
  ) throw bad();
  return dt;
}

/** Parses config text into a map of positioned values. `file` anchors includes and error positions. */
export function parseTokens(text: string, file = "", envSeen: ReadonlySet<string> = new Set()): TokMap {
  const p = new Parser(file, envSeen);
  const lx = lex(text);
  for (;;) {
    const it = lx.nextItem();
    if (it.typ === ItemType.EOF) break;
    p.processItem(it);
  }
  return p.mapping;
}

/** Reads and parses a file; read errors carry Go's `open <path>: …` wording. */
export function parseFileTokens(path: string, envSeen: ReadonlySet<string> = new Set()): TokMap {
  return parseTokens(readConfigText(path), path, envSeen);
}

/** Reads a config file as text, with nats-server's wording for the usual failures. */
export function readConfigText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    const reason = code === "ENOENT"
      ? "no such file or directory"
      : code === "EACCES"
      ? "permission denied"
      : code === "EISDIR"
      ? "is a directory"
      : (e as Error).message;
    const op = code === "EISDIR" ? "read" : "open";
    throw new ConfigSyntaxError(`${op} ${path}: ${reason}`, { cause: e });
  }
}
