// Decoding of $SYS request bodies with the error texts Go's encoding/json gives nats-server: syntax
// errors ("invalid character 'M' looking for beginning of object key string") and type mismatches
// ("json: cannot unmarshal string into Go struct field ConnzEventOptions.limit of type int").

/** The Go type a request field decodes into. */
export type FieldSpec = "string" | "bool" | "int" | "uint" | "strings" | "connstate";

/** A body that did not decode; `error` is the reference's description. */
export interface RequestError {
  error: string;
}

const GO_TYPE: Record<FieldSpec, string> = {
  string: "string",
  bool: "bool",
  int: "int",
  uint: "uint64",
  strings: "[]string",
  connstate: "server.ConnState",
};

/**
 * Decodes `text` into the known `fields` of Go struct `structName` (keys matched case-insensitively,
 * unknown keys ignored, null leaves a field unset).
 */
export function decodeRequest(
  text: string,
  structName: string,
  fields: Record<string, FieldSpec>,
): { value: Record<string, unknown> } | RequestError {
  const syntax = checkSyntax(text);
  if (syntax !== undefined) return { error: syntax };
  const v = JSON.parse(text);
  if (v === null) return { value: {} };
  if (typeof v !== "object" || Array.isArray(v)) {
    return { error: `json: cannot unmarshal ${kindOf(v)} into Go value of type server.${structName}` };
  }
  const out: Record<string, unknown> = {};
  let firstErr: string | undefined;
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const key = fieldKey(fields, k);
    if (key === undefined || val === null) continue;
    const spec = fields[key];
    if (fits(spec, val)) out[key] = val;
    else {
      firstErr ??= `json: cannot unmarshal ${
        kindOf(val, spec)
      } into Go struct field ${structName}.${key} of type ${GO_TYPE[spec]}`;
    }
  }
  if (firstErr !== undefined) return { error: firstErr };
  return { value: out };
}

function fieldKey(fields: Record<string, FieldSpec>, k: string): string | undefined {
  if (k in fields) return k;
  const lk = k.toLowerCase();
  for (const f of Object.keys(fields)) if (f.toLowerCase() === lk) return f;
  return undefined;
}

function fits(spec: FieldSpec, v: unknown): boolean {
  switch (spec) {
    case "string":
      return typeof v === "string";
    case "bool":
      return typeof v === "boolean";
    case "int":
    case "connstate":
      return typeof v === "number" && Number.isInteger(v);
    case "uint":
      return typeof v === "number" && Number.isInteger(v) && v >= 0;
    case "strings":
      return Array.isArray(v) && v.every((x) => typeof x === "string" || x === null);
  }
}

function kindOf(v: unknown, spec?: FieldSpec): string {
  if (typeof v === "number") {
    return spec !== undefined && spec !== "string" && spec !== "bool" && spec !== "strings"
      ? `number ${v}`
      : "number";
  }
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

// ---- A JSON syntax check with Go's scanner messages --------------------------------------------------

/** Returns Go's syntax error for `s`, or undefined when it is one valid JSON value. */
export function checkSyntax(s: string): string | undefined {
  let i = 0;
  const n = s.length;
  const END = "unexpected end of JSON input";
  const bad = (c: string, ctx: string) => `invalid character ${quoteChar(c)} ${ctx}`;
  const ws = () => {
    while (i < n && (s[i] === " " || s[i] === "\t" || s[i] === "\n" || s[i] === "\r")) i++;
  };

  function value(): string | undefined {
    ws();
    if (i >= n) return END;
    const c = s[i];
    if (c === "{") return object();
    if (c === "[") return array();
    if (c === '"') return string();
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    return bad(c, "looking for beginning of value");
  }

  function object(): string | undefined {
    i++;
    ws();
    if (i >= n) return END;
    if (s[i] === "}") {
      i++;
      return undefined;
    }
    for (;;) {
      ws();
      if (i >= n) return END;
      if (s[i] !== '"') return bad(s[i], "looking for beginning of object key string");
      const e = string();
      if (e) return e;
      ws();
      if (i >= n) return END;
      if (s[i] !== ":") return bad(s[i], "after object key");
      i++;
      const v = value();
      if (v) return v;
      ws();
      if (i >= n) return END;
      if (s[i] === ",") {
        i++;
        continue;
      }
      if (s[i] === "}") {
        i++;
        return undefined;
      }
      return bad(s[i], "after object key:value pair");
    }
  }

  function array(): string | undefined {
    i++;
    ws();
    if (i >= n) return END;
    if (s[i] === "]") {
      i++;
      return undefined;
    }
    for (;;) {
      const v = value();
      if (v) return v;
      ws();
      if (i >= n) return END;
      if (s[i] === ",") {
        i++;
        continue;
      }
      if (s[i] === "]") {
        i++;
        return undefined;
      }
      return bad(s[i], "after array element");
    }
  }

  function string(): string | undefined {
    i++;
    while (i < n) {
      const c = s[i];
      if (c === '"') {
        i++;
        return undefined;
      }
      if (c < " ") return bad(c, "in string literal");
      if (c === "\\") {
        i++;
        if (i >= n) return END;
        const e = s[i];
        if (e === "u") {
          for (let k = 1; k <= 4; k++) {
            if (i + k >= n) return END;
            if (!/[0-9a-fA-F]/.test(s[i + k])) return bad(s[i + k], "in \\u hexadecimal character escape");
          }
          i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) return bad(e, "in string escape code");
      }
      i++;
    }
    return END;
  }

  function number(): string | undefined {
    if (s[i] === "-") {
      i++;
      if (i >= n) return END;
      if (!(s[i] >= "0" && s[i] <= "9")) return bad(s[i], "in numeric literal");
    }
    if (s[i] === "0") i++;
    else while (i < n && s[i] >= "0" && s[i] <= "9") i++;
    if (i < n && s[i] === ".") {
      i++;
      if (i >= n) return END;
      if (!(s[i] >= "0" && s[i] <= "9")) return bad(s[i], "after decimal point in numeric literal");
      while (i < n && s[i] >= "0" && s[i] <= "9") i++;
    }
    if (i < n && (s[i] === "e" || s[i] === "E")) {
      i++;
      if (i < n && (s[i] === "+" || s[i] === "-")) i++;
      if (i >= n) return END;
      if (!(s[i] >= "0" && s[i] <= "9")) return bad(s[i], "in exponent of numeric literal");
      while (i < n && s[i] >= "0" && s[i] <= "9") i++;
    }
    return undefined;
  }

  function literal(word: string): string | undefined {
    for (let k = 0; k < word.length; k++) {
      if (i >= n) return END;
      if (s[i] !== word[k]) return bad(s[i], `in literal ${word} (expecting ${quoteChar(word[k])})`);
      i++;
    }
    return undefined;
  }

  const e = value();
  if (e) return e;
  ws();
  if (i < n) return bad(s[i], "after top-level value");
  return undefined;
}

/** Go's quoteChar: 'x', with \' and \" forms and escapes for control characters. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}
