// A JSON syntax check that answers with the error texts of Go's encoding/json scanner ("unexpected end of JSON
// input", "invalid character 'x' looking for beginning of value", ...), for replies and errors that must match
// nats-server's byte for byte: $SYS request bodies (monitor) and snapshot meta files (jetstream).

/** Returns Go's encoding/json syntax error text for `s`, or undefined when it is one valid JSON value. */
export function goJsonSyntaxError(s: string): string | undefined {
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
