// Decoding of $SYS request bodies with the error texts Go's encoding/json gives nats-server: syntax
// errors ("invalid character 'M' looking for beginning of object key string") and type mismatches
// ("json: cannot unmarshal string into Go struct field ConnzEventOptions.limit of type int").

import { goJsonSyntaxError } from "../util/mod.ts";

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
  const syntax = goJsonSyntaxError(text);
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
