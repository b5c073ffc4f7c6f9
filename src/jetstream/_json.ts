// Decoding of API request JSON with Go's encoding/json semantics: case-insensitive field names, type errors
// in Go's wording, and (strict mode) unknown fields refused, as nats-server's JSON API decoding does.

/** A field type: string, signed/unsigned integer (Go type name), bool, duration, time, list, map, object. */
export type FieldType =
  | { t: "string" }
  | { t: "int"; go: string; unsigned?: boolean }
  | { t: "bool" }
  | { t: "enum"; values: readonly string[]; msg: (v: string) => string; fold?: boolean }
  | { t: "list"; of: FieldType }
  | { t: "map" }
  | { t: "obj"; name: string; fields: Schema }
  | { t: "any" };

/** A Go struct's JSON fields. */
export type Schema = Record<string, FieldType>;

export const S: FieldType = { t: "string" };
export const B: FieldType = { t: "bool" };
export const I64: FieldType = { t: "int", go: "int64" };
export const INT: FieldType = { t: "int", go: "int" };
export const I32: FieldType = { t: "int", go: "int32" };
export const U64: FieldType = { t: "int", go: "uint64", unsigned: true };
export const DUR: FieldType = { t: "int", go: "time.Duration" };
export const ANY: FieldType = { t: "any" };

/** A decoding failure; `message` is Go's json error text. */
export class JsonDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JsonDecodeError";
  }
}

function goKind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  if (typeof v === "number") return `number ${v}`;
  return typeof v;
}

/**
 * Checks and normalizes `v` against `schema` in place: field names folded onto the schema's spelling, types
 * checked; in strict mode an unknown field fails as Go's DisallowUnknownFields does.
 */
export function decodeStruct(
  v: unknown,
  name: string,
  schema: Schema,
  strict: boolean,
  path = name,
): Record<string, unknown> {
  if (v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) {
    throw new JsonDecodeError(
      `json: cannot unmarshal ${goKind(v).split(" ")[0]} into Go value of type server.${name}`,
    );
  }
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) {
    let key = k;
    let ft = schema[k];
    if (ft === undefined) {
      const lk = k.toLowerCase();
      for (const sk of Object.keys(schema)) {
        if (sk.toLowerCase() === lk) {
          key = sk;
          ft = schema[sk];
          break;
        }
      }
    }
    if (ft === undefined) {
      if (strict) throw new JsonDecodeError(`json: unknown field "${k}"`);
      continue;
    }
    out[key] = decodeValue(src[k], ft, `${path}.${key}`, strict);
  }
  return out;
}

function typeErr(v: unknown, path: string, goType: string): JsonDecodeError {
  return new JsonDecodeError(
    `json: cannot unmarshal ${
      goKind(v).split(" ")[0] === "number" ? goKind(v) : goKind(v)
    } into Go struct field ${path} of type ${goType}`,
  );
}

function decodeValue(v: unknown, ft: FieldType, path: string, strict: boolean): unknown {
  if (v === null) return undefined;
  switch (ft.t) {
    case "any":
      return v;
    case "string":
      if (typeof v !== "string") throw typeErr(v, path, "string");
      return v;
    case "bool":
      if (typeof v !== "boolean") throw typeErr(v, path, "bool");
      return v;
    case "int":
      if (typeof v !== "number" || !Number.isInteger(v) || (ft.unsigned && v < 0)) {
        throw typeErr(v, path, ft.go);
      }
      return v;
    case "enum": {
      if (typeof v !== "string") throw new JsonDecodeError(ft.msg(JSON.stringify(v)));
      const s = ft.fold ? v.toLowerCase() : v;
      if (!ft.values.includes(s)) throw new JsonDecodeError(ft.msg(JSON.stringify(v)));
      return s;
    }
    case "list":
      if (!Array.isArray(v)) throw typeErr(v, path, "[]" + goName(ft.of));
      return v.map((x) => decodeValue(x, ft.of, path, strict));
    case "map":
      if (typeof v !== "object" || Array.isArray(v)) throw typeErr(v, path, "map[string]string");
      for (const x of Object.values(v as object)) {
        if (typeof x !== "string") throw typeErr(x, path, "string");
      }
      return v;
    case "obj":
      if (typeof v !== "object" || Array.isArray(v)) throw typeErr(v, path, `server.${ft.name}`);
      return decodeStruct(v, ft.name, ft.fields, strict, path);
  }
}

function goName(ft: FieldType): string {
  switch (ft.t) {
    case "string":
      return "string";
    case "int":
      return ft.go;
    case "bool":
      return "bool";
    case "obj":
      return `*server.${ft.name}`;
    default:
      return "interface {}";
  }
}

/** Parses request bytes as JSON; throws JsonDecodeError with a Go-like text. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const m = (e as Error).message;
    if (text.trim() === "") throw new JsonDecodeError("unexpected end of JSON input");
    throw new JsonDecodeError(m.replace(/^JSON\.parse: /, ""));
  }
}
