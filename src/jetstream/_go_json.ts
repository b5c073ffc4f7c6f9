// Go encoding/json syntax error texts for JSON that natsdeno reads from snapshot archives (meta.inf files),
// since a failed restore reports them: "unexpected end of JSON input", or "invalid character 'x' <where>"
// with the scanner's wording for where the character was met. (src/monitor/_sys_json.ts has the same
// check for $SYS requests; jetstream may not import monitor.)

const END = "unexpected end of JSON input";

class Bad extends Error {}

function q(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  return `'${JSON.stringify(c).slice(1, -1)}'`;
}

/** Go's syntax error for `s`, or undefined when it is one well-formed JSON value. */
export function goJsonSyntaxError(s: string): string | undefined {
  let i = 0;
  const fail = (ctx: string): never => {
    throw new Bad(i >= s.length ? END : `invalid character ${q(s[i])} ${ctx}`);
  };
  const ws = () => {
    while (i < s.length && " \t\r\n".includes(s[i])) i++;
  };
  const digits = (ctx: string) => {
    if (!(s[i] >= "0" && s[i] <= "9")) fail(ctx);
    while (s[i] >= "0" && s[i] <= "9") i++;
  };
  const str = () => {
    for (i++;;) {
      if (i >= s.length) fail("");
      const c = s[i];
      if (c === '"') return void i++;
      if (c < " ") fail("in string literal");
      if (c === "\\") {
        i++;
        if (s[i] === "u") {
          for (let k = 0; k < 4; k++) {
            i++;
            if (!/[0-9a-fA-F]/.test(s[i] ?? "0") || i >= s.length) {
              fail("in \\u hexadecimal character escape");
            }
          }
        } else if (i < s.length && !'"\\/bfnrt'.includes(s[i])) fail("in string escape code");
        else if (i >= s.length) fail("");
      }
      i++;
    }
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      ws();
      if (s[i] === close) return void i++;
      for (;;) {
        if (c === "{") {
          ws();
          if (s[i] !== '"') fail("looking for beginning of object key string");
          str();
          ws();
          if (s[i] !== ":") fail("after object key");
          i++;
        }
        value();
        ws();
        if (s[i] === ",") {
          i++;
          continue;
        }
        if (s[i] === close) return void i++;
        fail(c === "{" ? "after object key:value pair" : "after array element");
      }
    }
    if (c === '"') return str();
    if (c === "-" || (c >= "0" && c <= "9")) {
      if (c === "-") i++;
      if (s[i] === "0") i++;
      else digits("in numeric literal");
      if (s[i] === ".") {
        i++;
        digits("after decimal point in numeric literal");
      }
      if (s[i] === "e" || s[i] === "E") {
        i++;
        if (s[i] === "+" || s[i] === "-") i++;
        digits("in exponent of numeric literal");
      }
      return;
    }
    for (const w of ["true", "false", "null"]) {
      if (c !== w[0]) continue;
      for (let k = 0; k < w.length; k++, i++) {
        if (s[i] !== w[k]) fail(`in literal ${w} (expecting ${q(w[k])})`);
      }
      return;
    }
    fail("looking for beginning of value");
  };
  try {
    value();
    ws();
    if (i < s.length) fail("after top-level value");
  } catch (e) {
    if (e instanceof Bad) return e.message;
    throw e;
  }
  return undefined;
}
