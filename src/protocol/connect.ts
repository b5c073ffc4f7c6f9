// Decoding of the CONNECT JSON with the strictness of Go's encoding/json into nats-server's ClientOpts
// (client.go): keys match case-insensitively, a wrong type fails the whole CONNECT, null leaves a field
// as it was, unknown keys are ignored.

import type { ConnectOptions } from "./info.ts";

type FieldType = "boolean" | "string" | "int" | "object";

/** The ClientOpts fields and their JSON types. */
const FIELDS: Record<string, FieldType> = {
  echo: "boolean",
  verbose: "boolean",
  pedantic: "boolean",
  "tls_required": "boolean",
  nkey: "string",
  jwt: "string",
  sig: "string",
  "auth_token": "string",
  user: "string",
  pass: "string",
  name: "string",
  lang: "string",
  version: "string",
  protocol: "int",
  account: "string",
  "new_account": "boolean",
  headers: "boolean",
  "no_responders": "boolean",
  import: "object",
  export: "object",
};

const FOLDED = new Map(Object.keys(FIELDS).map((k) => [k.toLowerCase(), k]));

/**
 * Parses a CONNECT argument. Throws SyntaxError when it is not a JSON object and TypeError when a known
 * field has the wrong type (nats-server closes the connection for both, without an -ERR).
 * Known limitation: an integer written as `1.0` or `1e0` is accepted here; Go rejects it.
 */
export function parseConnect(text: string): ConnectOptions {
  const raw: unknown = JSON.parse(text);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new SyntaxError(`json: cannot unmarshal ${jsonKind(raw)} into Go value of type server.ClientOpts`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    const field = FIELDS[key] !== undefined ? key : FOLDED.get(key.toLowerCase());
    if (field === undefined || v === null) continue;
    const want = FIELDS[field];
    const ok = want === "int"
      ? typeof v === "number" && Number.isInteger(v)
      : want === "object"
      ? typeof v === "object"
      : want === "boolean"
      ? typeof v === "boolean"
      : typeof v === "string";
    if (!ok) {
      throw new TypeError(
        `json: cannot unmarshal ${jsonKind(v)} into Go struct field ClientOpts.${field} of type ${
          goType(want)
        }`,
      );
    }
    out[field] = v;
  }
  return out as ConnectOptions;
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  return typeof v === "object" ? "object" : typeof v === "boolean" ? "bool" : typeof v;
}

function goType(t: FieldType): string {
  return t === "boolean" ? "bool" : t === "object" ? "server.SubjectPermission" : t;
}
