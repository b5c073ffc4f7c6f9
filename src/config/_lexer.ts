// Config-file tokenizer: a state machine over the text that yields keys, values and structure marks with
// their line and column. Behaviour (token kinds, positions, error texts) follows nats-server conf/lex.go.

/** Token kinds, named as nats-server names them in its lexer tests. */
export const ItemType = {
  Error: "Error",
  NIL: "NIL",
  EOF: "EOF",
  Key: "Key",
  Text: "Text",
  String: "String",
  Bool: "Bool",
  Integer: "Integer",
  Float: "Float",
  Datetime: "DateTime",
  ArrayStart: "ArrayStart",
  ArrayEnd: "ArrayEnd",
  MapStart: "MapStart",
  MapEnd: "MapEnd",
  CommentStart: "CommentStart",
  Variable: "Variable",
  Include: "Include",
} as const;
export type ItemType = typeof ItemType[keyof typeof ItemType];

/** One lexed token: kind, text, 1-based line and the column as nats-server reports it. */
export interface Item {
  typ: ItemType;
  val: string;
  line: number;
  pos: number;
}

type State = (lx: Lexer) => State | null;

// Code points the state machine looks at. EOF is 0, so a NUL in the input ends it, as in the reference.
const EOF = 0;
const NL = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const SPACE = 0x20;
const MAP_START = 0x7b; // {
const MAP_END = 0x7d; // }
const EQUAL = 0x3d; // =
const COLON = 0x3a; // :
const ARRAY_START = 0x5b; // [
const ARRAY_END = 0x5d; // ]
const COMMA = 0x2c; // ,
const HASH = 0x23; // #
const SLASH = 0x2f; // /
const DQUOTE = 0x22; // "
const SQUOTE = 0x27; // '
const SEMI = 0x3b; // ;
const BLOCK_START = 0x28; // (
const BLOCK_END = 0x29; // )
const MINUS = 0x2d; // -
const DOT = 0x2e; // .
const BACKSLASH = 0x5c;
const DOLLAR = "$";

const DIGIT_RE = /^\p{Nd}$/u;
const SPACE_RE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;

function isDigit(r: number): boolean {
  if (r >= 0x30 && r <= 0x39) return true;
  return r > 0x7f && DIGIT_RE.test(String.fromCodePoint(r));
}

/** Unicode white space, new lines included. */
function isSpace(r: number): boolean {
  if (r === SPACE || (r >= TAB && r <= CR)) return true;
  return r > 0x7f && SPACE_RE.test(String.fromCodePoint(r));
}

/** Blanks within a line: tab and space only. */
function isWhitespace(r: number): boolean {
  return r === TAB || r === SPACE;
}

function isNL(r: number): boolean {
  return r === NL || r === CR;
}

function isKeySeparator(r: number): boolean {
  return r === EQUAL || r === COLON;
}

function isNumberSuffix(r: number): boolean {
  switch (String.fromCodePoint(r).toLowerCase()) {
    case "k":
    case "m":
    case "g":
    case "t":
    case "p":
    case "e":
      return true;
  }
  return false;
}

/** A rune as it appears inside an error text: new lines are shown escaped. */
function show(r: number): string {
  return r === NL ? "\\n" : String.fromCodePoint(r);
}

/** Lexer state; `nextItem()` runs the machine until a token is ready. */
export class Lexer {
  readonly input: string;
  start = 0;
  pos = 0;
  width = 0;
  line = 1;
  /** Offset of the new line that began the current line. */
  lstart = 0;
  /** `lstart` as it was when the pending token began. */
  ilstart = 0;
  stack: State[] = [];
  stringParts: string[] = [];
  stringStateFn: State = lexString;
  #items: Item[] = [];
  #state: State | null = lexTop;

  constructor(input: string) {
    this.input = input;
  }

  /** Returns the next token; after the end (or an error) it keeps returning EOF. */
  nextItem(): Item {
    while (this.#items.length === 0) {
      if (this.#state === null) return { typ: ItemType.EOF, val: "", line: this.line, pos: 0 };
      this.#state = this.#state(this);
    }
    return this.#items.shift()!;
  }

  push(s: State): void {
    this.stack.push(s);
  }

  pop(): State | null {
    const s = this.stack.pop();
    if (s === undefined) return this.errorf("BUG in lexer: no states to pop.");
    return s;
  }

  emit(typ: ItemType): void {
    const val = this.stringParts.join("") + this.input.slice(this.start, this.pos);
    this.#items.push({ typ, val, line: this.line, pos: this.pos - this.ilstart - val.length });
    this.start = this.pos;
    this.ilstart = this.lstart;
  }

  emitString(): void {
    const val = this.stringParts.join("") + this.input.slice(this.start, this.pos);
    this.stringParts = [];
    this.#items.push({
      typ: ItemType.String,
      val,
      line: this.line,
      pos: this.pos - this.ilstart - val.length,
    });
    this.start = this.pos;
    this.ilstart = this.lstart;
  }

  addCurrentStringPart(offset: number): void {
    this.stringParts.push(this.input.slice(this.start, this.pos - offset));
    this.start = this.pos;
  }

  addStringPart(s: string): State {
    this.stringParts.push(s);
    this.start = this.pos;
    return this.stringStateFn;
  }

  next(): number {
    if (this.pos >= this.input.length) {
      this.width = 0;
      return EOF;
    }
    if (this.input.charCodeAt(this.pos) === NL) {
      this.line++;
      this.lstart = this.pos;
    }
    const r = this.input.codePointAt(this.pos)!;
    this.width = r > 0xffff ? 2 : 1;
    this.pos += this.width;
    return r;
  }

  ignore(): void {
    this.start = this.pos;
    this.ilstart = this.lstart;
  }

  backup(): void {
    this.pos -= this.width;
    if (this.pos < this.input.length && this.input.charCodeAt(this.pos) === NL) this.line--;
  }

  peek(): number {
    const r = this.next();
    this.backup();
    return r;
  }

  errorf(msg: string): null {
    this.#items.push({ typ: ItemType.Error, val: msg, line: this.line, pos: this.pos - this.lstart });
    return null;
  }

  current(): string {
    return this.input.slice(this.start, this.pos);
  }
}

/** Tokenizes `input`; call `nextItem()` until it returns EOF or Error. */
export function lex(input: string): Lexer {
  return new Lexer(input);
}

function lexSkip(next: State): State {
  return (lx) => {
    lx.ignore();
    return next;
  };
}

/** Handles a `/` already read: `//` starts a comment that returns to `ret`; otherwise backs up. */
function slashComment(lx: Lexer, ret: State): State | undefined {
  if (lx.next() === SLASH) {
    lx.push(ret);
    return lexCommentStart;
  }
  lx.backup();
  return undefined;
}

function lexTop(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return lexSkip(lexTop);
  switch (r) {
    case MAP_START:
      return lexSkip(lexTop);
    case HASH:
      lx.push(lexTop);
      return lexCommentStart;
    case SLASH: {
      const c = slashComment(lx, lexTop);
      if (c) return c;
      return topEof(lx);
    }
    case EOF:
      return topEof(lx);
  }
  lx.backup();
  lx.push(lexTopValueEnd);
  return lexKeyStart;
}

function topEof(lx: Lexer): null {
  if (lx.pos > lx.start) return lx.errorf("Unexpected EOF.");
  lx.emit(ItemType.EOF);
  return null;
}

function lexTopValueEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (r === HASH) {
    lx.push(lexTop);
    return lexCommentStart;
  }
  if (r === SLASH) {
    const c = slashComment(lx, lexTop);
    if (c) return c;
    return lexTopValueEnd;
  }
  if (isWhitespace(r)) return lexTopValueEnd;
  if (isNL(r) || r === EOF || r === SEMI || r === COMMA || r === MAP_END) {
    lx.ignore();
    return lexTop;
  }
  return lx.errorf(
    `Expected a top-level value to end with a new line, comment or EOF, but got '${show(r)}' instead.`,
  );
}

function lexKeyStart(lx: Lexer): State | null {
  const r = lx.peek();
  if (isKeySeparator(r)) return lx.errorf(`Unexpected key separator '${show(r)}'`);
  if (isSpace(r)) {
    lx.next();
    return lexSkip(lexKeyStart);
  }
  if (r === DQUOTE) {
    lx.next();
    return lexSkip(quotedKey(DQUOTE));
  }
  if (r === SQUOTE) {
    lx.next();
    return lexSkip(quotedKey(SQUOTE));
  }
  lx.ignore();
  lx.next();
  return lexKey;
}

/** A top-level key between quotes. */
function quotedKey(quote: number): State {
  const st: State = (lx) => {
    const r = lx.peek();
    if (r === quote) {
      lx.emit(ItemType.Key);
      lx.next();
      return lexSkip(lexKeyEnd);
    }
    if (r === EOF) return topEof(lx);
    lx.next();
    return st;
  };
  return st;
}

/** A key followed by a blank may be the `include` keyword. */
function keyCheckKeyword(lx: Lexer, fallThrough: State, push: State | null): State {
  if (lx.current().toLowerCase() === "include") {
    lx.ignore();
    if (push) lx.push(push);
    return lexIncludeStart;
  }
  lx.emit(ItemType.Key);
  return fallThrough;
}

function lexIncludeStart(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return lexSkip(lexIncludeStart);
  lx.backup();
  return lexInclude;
}

function includeQuoted(quote: number, eofMsg: string): State {
  const st: State = (lx) => {
    const r = lx.next();
    if (r === quote) {
      lx.backup();
      lx.emit(ItemType.Include);
      lx.next();
      lx.ignore();
      return lx.pop();
    }
    if (r === EOF) return lx.errorf(eofMsg);
    return st;
  };
  return st;
}

const lexIncludeQuotedString = includeQuoted(SQUOTE, "Unexpected EOF in quoted include");
const lexIncludeDubQuotedString = includeQuoted(DQUOTE, "Unexpected EOF in double quoted include");

function lexIncludeString(lx: Lexer): State | null {
  const r = lx.next();
  if (isNL(r) || r === EOF || r === SEMI || r === MAP_END || isWhitespace(r)) {
    lx.backup();
    lx.emit(ItemType.Include);
    return lx.pop();
  }
  if (r === SQUOTE) {
    lx.backup();
    lx.emit(ItemType.Include);
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  return lexIncludeString;
}

function lexInclude(lx: Lexer): State | null {
  const r = lx.next();
  if (r === SQUOTE) {
    lx.ignore();
    return lexIncludeQuotedString;
  }
  if (r === DQUOTE) {
    lx.ignore();
    return lexIncludeDubQuotedString;
  }
  if (r === ARRAY_START) return lx.errorf("Expected include value but found start of an array");
  if (r === MAP_START) return lx.errorf("Expected include value but found start of a map");
  if (r === BLOCK_START) return lx.errorf("Expected include value but found start of a block");
  if (isDigit(r) || r === MINUS) return lx.errorf("Expected include value but found start of a number");
  if (r === BACKSLASH) return lx.errorf("Expected include value but found escape sequence");
  if (isNL(r)) return lx.errorf("Expected include value but found new line");
  lx.backup();
  return lexIncludeString;
}

function lexKey(lx: Lexer): State | null {
  const r = lx.peek();
  if (isSpace(r)) return keyCheckKeyword(lx, lexKeyEnd, null);
  if (isKeySeparator(r) || r === EOF) {
    lx.emit(ItemType.Key);
    return lexKeyEnd;
  }
  lx.next();
  return lexKey;
}

function lexKeyEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return lexSkip(lexKeyEnd);
  if (isKeySeparator(r)) return lexSkip(lexValue);
  if (r === EOF) {
    lx.emit(ItemType.EOF);
    return null;
  }
  lx.backup();
  return lexValue;
}

function lexValue(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return lexSkip(lexValue);
  if (r === ARRAY_START) {
    lx.ignore();
    lx.emit(ItemType.ArrayStart);
    return lexArrayValue;
  }
  if (r === MAP_START) {
    lx.ignore();
    lx.emit(ItemType.MapStart);
    return lexMapKeyStart;
  }
  if (r === SQUOTE) {
    lx.ignore();
    return lexQuotedString;
  }
  if (r === DQUOTE) {
    lx.ignore();
    lx.stringStateFn = lexDubQuotedString;
    return lexDubQuotedString;
  }
  if (r === MINUS) return lexNegNumberStart;
  if (r === BLOCK_START) {
    lx.ignore();
    return lexBlock;
  }
  if (isDigit(r)) {
    lx.backup();
    return lexNumberOrDateOrStringOrIPStart;
  }
  if (r === DOT) return lx.errorf("Floats must start with a digit");
  if (isNL(r)) return lx.errorf("Expected value but found new line");
  lx.backup();
  lx.stringStateFn = lexString;
  return lexString;
}

function lexArrayValue(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return lexSkip(lexArrayValue);
  if (r === HASH) {
    lx.push(lexArrayValue);
    return lexCommentStart;
  }
  if (r === SLASH) {
    const c = slashComment(lx, lexArrayValue);
    if (c) return c;
    return lx.errorf("Unexpected array value terminator ','.");
  }
  if (r === COMMA) return lx.errorf("Unexpected array value terminator ','.");
  if (r === ARRAY_END) return lexArrayEnd;
  lx.backup();
  lx.push(lexArrayValueEnd);
  return lexValue;
}

function lexArrayValueEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return lexSkip(lexArrayValueEnd);
  if (r === HASH) {
    lx.push(lexArrayValueEnd);
    return lexCommentStart;
  }
  if (r === SLASH) {
    const c = slashComment(lx, lexArrayValueEnd);
    if (c) return c;
    return lexSkip(lexArrayValue);
  }
  if (r === COMMA || isNL(r)) return lexSkip(lexArrayValue);
  if (r === ARRAY_END) return lexArrayEnd;
  return lx.errorf(
    `Expected an array value terminator "," or an array terminator "]", but got '${show(r)}' instead.`,
  );
}

function lexArrayEnd(lx: Lexer): State | null {
  lx.ignore();
  lx.emit(ItemType.ArrayEnd);
  return lx.pop();
}

function lexMapKeyStart(lx: Lexer): State | null {
  const r = lx.peek();
  if (isKeySeparator(r)) return lx.errorf(`Unexpected key separator '${show(r)}'.`);
  if (r === ARRAY_END) return lx.errorf(`Unexpected array end '${show(r)}' processing map.`);
  if (isSpace(r)) {
    lx.next();
    return lexSkip(lexMapKeyStart);
  }
  if (r === MAP_END) {
    lx.next();
    return lexSkip(lexMapEnd);
  }
  if (r === HASH) {
    lx.next();
    lx.push(lexMapKeyStart);
    return lexCommentStart;
  }
  if (r === SLASH) {
    lx.next();
    const c = slashComment(lx, lexMapKeyStart);
    if (c) return c;
  } else if (r === SQUOTE) {
    lx.next();
    return lexSkip(mapQuotedKey(SQUOTE, "Unexpected EOF processing quoted map key."));
  } else if (r === DQUOTE) {
    lx.next();
    return lexSkip(mapQuotedKey(DQUOTE, "Unexpected EOF processing double quoted map key."));
  } else if (r === EOF) {
    return lx.errorf("Unexpected EOF processing map.");
  }
  lx.ignore();
  lx.next();
  return lexMapKey;
}

function mapQuotedKey(quote: number, eofMsg: string): State {
  const st: State = (lx) => {
    const r = lx.peek();
    if (r === EOF) return lx.errorf(eofMsg);
    if (r === quote) {
      lx.emit(ItemType.Key);
      lx.next();
      return lexSkip(lexMapKeyEnd);
    }
    lx.next();
    return st;
  };
  return st;
}

function lexMapKey(lx: Lexer): State | null {
  const r = lx.peek();
  if (r === EOF) return lx.errorf("Unexpected EOF processing map key.");
  if (isSpace(r)) return keyCheckKeyword(lx, lexMapKeyEnd, lexMapValueEnd);
  if (isKeySeparator(r)) {
    lx.emit(ItemType.Key);
    return lexMapKeyEnd;
  }
  lx.next();
  return lexMapKey;
}

function lexMapKeyEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return lexSkip(lexMapKeyEnd);
  if (isKeySeparator(r)) return lexSkip(lexMapValue);
  lx.backup();
  return lexMapValue;
}

function lexMapValue(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return lexSkip(lexMapValue);
  if (r === COMMA) return lx.errorf(`Unexpected map value terminator ",".`);
  if (r === MAP_END) return lexSkip(lexMapEnd);
  lx.backup();
  lx.push(lexMapValueEnd);
  return lexValue;
}

function lexMapValueEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return lexSkip(lexMapValueEnd);
  if (r === HASH) {
    lx.push(lexMapValueEnd);
    return lexCommentStart;
  }
  if (r === SLASH) {
    const c = slashComment(lx, lexMapValueEnd);
    if (c) return c;
    return lexSkip(lexMapKeyStart);
  }
  if (r === SEMI || r === COMMA || isNL(r)) return lexSkip(lexMapKeyStart);
  if (r === MAP_END) return lexSkip(lexMapEnd);
  return lx.errorf(
    `Expected a map value terminator "," or a map terminator "}", but got '${show(r)}' instead.`,
  );
}

function lexMapEnd(lx: Lexer): State | null {
  lx.ignore();
  lx.emit(ItemType.MapEnd);
  return lx.pop();
}

function isBool(s: string): boolean {
  switch (s.toLowerCase()) {
    case "true":
    case "false":
    case "on":
    case "off":
    case "yes":
    case "no":
      return true;
  }
  return false;
}

function lexQuotedString(lx: Lexer): State | null {
  const r = lx.next();
  if (r === SQUOTE) {
    lx.backup();
    lx.emit(ItemType.String);
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  if (r === EOF) return topEof(lx);
  return lexQuotedString;
}

function lexDubQuotedString(lx: Lexer): State | null {
  const r = lx.next();
  if (r === BACKSLASH) {
    lx.addCurrentStringPart(1);
    return lexStringEscape;
  }
  if (r === DQUOTE) {
    lx.backup();
    lx.emitString();
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  if (r === EOF) return topEof(lx);
  return lexDubQuotedString;
}

function lexString(lx: Lexer): State | null {
  const r = lx.next();
  if (r === BACKSLASH) {
    lx.addCurrentStringPart(1);
    return lexStringEscape;
  }
  if (
    isNL(r) || r === EOF || r === SEMI || r === COMMA || r === ARRAY_END || r === MAP_END || isWhitespace(r)
  ) {
    lx.backup();
    if (lx.stringParts.length > 0) {
      lx.emitString();
    } else if (isBool(lx.current())) {
      lx.emit(ItemType.Bool);
    } else if (lx.start < lx.input.length && lx.input[lx.start] === DOLLAR) {
      lx.start++;
      lx.emit(ItemType.Variable);
    } else {
      lx.emitString();
    }
    return lx.pop();
  }
  if (r === SQUOTE) {
    lx.backup();
    lx.emitString();
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  return lexString;
}

/** `( … )`: raw text up to a `)` alone on its own line. */
function lexBlock(lx: Lexer): State | null {
  const r = lx.next();
  if (r === BLOCK_END) {
    lx.backup();
    lx.backup();
    if (lx.next() !== NL) {
      lx.next();
      return lexBlock;
    }
    lx.next();
    const after = lx.next();
    if (after === NL || after === EOF) {
      lx.backup();
      lx.backup();
      lx.emit(ItemType.String);
      lx.next();
      lx.ignore();
      return lx.pop();
    }
    lx.backup();
  } else if (r === EOF) {
    return lx.errorf("Unexpected EOF processing block.");
  }
  return lexBlock;
}

function lexStringEscape(lx: Lexer): State | null {
  const r = lx.next();
  switch (r) {
    case 0x78: // x
      return lexStringBinary;
    case 0x74: // t
      return lx.addStringPart("\t");
    case 0x6e: // n
      return lx.addStringPart("\n");
    case 0x72: // r
      return lx.addStringPart("\r");
    case DQUOTE:
      return lx.addStringPart('"');
    case BACKSLASH:
      return lx.addStringPart("\\");
  }
  return lx.errorf(
    `Invalid escape character '${show(r)}'. Only the following escape characters are allowed: ` +
      `\\xXX, \\t, \\n, \\r, \\", \\\\.`,
  );
}

const HEX2_RE = /^[0-9a-fA-F]{2}$/;

function lexStringBinary(lx: Lexer): State | null {
  if (isNL(lx.next())) return lx.errorf("Expected two hexadecimal digits after '\\x', but hit end of line");
  if (isNL(lx.next())) return lx.errorf("Expected two hexadecimal digits after '\\x', but hit end of line");
  const hex = lx.input.slice(lx.pos - 2, lx.pos);
  if (!HEX2_RE.test(hex)) return lx.errorf(`Expected two hexadecimal digits after '\\x', but got '${hex}'`);
  lx.addStringPart(String.fromCharCode(parseInt(hex, 16)));
  return lx.stringStateFn;
}

function lexNumberOrDateOrStringOrIPStart(lx: Lexer): State | null {
  const r = lx.next();
  if (!isDigit(r)) {
    if (r === DOT) return lx.errorf("Floats must start with a digit, not '.'.");
    return lx.errorf(`Expected a digit but got '${show(r)}'.`);
  }
  return lexNumberOrDateOrStringOrIP;
}

/** True for the runes that end a bare number. */
function endsNumber(r: number): boolean {
  return isNL(r) || r === EOF || r === MAP_END || r === SEMI || r === COMMA || isWhitespace(r) || isDigit(r);
}

function lexNumberOrDateOrStringOrIP(lx: Lexer): State | null {
  const r = lx.next();
  if (r === MINUS) {
    if (lx.pos - lx.start !== 5) return lx.errorf("All ISO8601 dates must be in full Zulu form.");
    return lexDateAfterYear;
  }
  if (isDigit(r)) return lexNumberOrDateOrStringOrIP;
  if (r === DOT) return lexFloatStart;
  if (isNumberSuffix(r)) return lexConvenientNumber;
  if (!endsNumber(r)) {
    lx.stringStateFn = lexString;
    return lexString;
  }
  lx.backup();
  lx.emit(ItemType.Integer);
  return lx.pop();
}

/** A number with a size suffix such as `1k` or `8MB`; anything else after it makes it a string. */
function lexConvenientNumber(lx: Lexer): State | null {
  const r = lx.next();
  if (r === 0x62 || r === 0x42 || r === 0x69 || r === 0x49) return lexConvenientNumber; // b B i I
  lx.backup();
  if (endsNumber(r)) {
    lx.emit(ItemType.Integer);
    return lx.pop();
  }
  lx.stringStateFn = lexString;
  return lexString;
}

const DATE_FORMAT = "00-00T00:00:00Z";

function lexDateAfterYear(lx: Lexer): State | null {
  for (const f of DATE_FORMAT) {
    const r = lx.next();
    if (f === "0") {
      if (!isDigit(r)) {
        return lx.errorf(`Expected digit in ISO8601 datetime, but found '${show(r)}' instead.`);
      }
    } else if (f.codePointAt(0) !== r) {
      return lx.errorf(`Expected '${f}' in ISO8601 datetime, but found '${show(r)}' instead.`);
    }
  }
  lx.emit(ItemType.Datetime);
  return lx.pop();
}

function lexNegNumberStart(lx: Lexer): State | null {
  const r = lx.next();
  if (!isDigit(r)) {
    if (r === DOT) return lx.errorf("Floats must start with a digit, not '.'.");
    return lx.errorf(`Expected a digit but got '${show(r)}'.`);
  }
  return lexNegNumber;
}

function lexNegNumber(lx: Lexer): State | null {
  const r = lx.next();
  if (isDigit(r)) return lexNegNumber;
  if (r === DOT) return lexFloatStart;
  if (isNumberSuffix(r)) return lexConvenientNumber;
  lx.backup();
  lx.emit(ItemType.Integer);
  return lx.pop();
}

function lexFloatStart(lx: Lexer): State | null {
  const r = lx.next();
  if (!isDigit(r)) return lx.errorf(`Floats must have a digit after the '.', but got '${show(r)}' instead.`);
  return lexFloat;
}

function lexFloat(lx: Lexer): State | null {
  const r = lx.next();
  if (isDigit(r)) return lexFloat;
  // A second '.' means this was an address such as 127.0.0.1, not a float.
  if (r === DOT) return lexIPAddr;
  lx.backup();
  lx.emit(ItemType.Float);
  return lx.pop();
}

function lexIPAddr(lx: Lexer): State | null {
  const r = lx.next();
  if (isDigit(r) || r === DOT || r === COLON || r === MINUS) return lexIPAddr;
  lx.backup();
  lx.emit(ItemType.String);
  return lx.pop();
}

function lexCommentStart(lx: Lexer): State | null {
  lx.ignore();
  lx.emit(ItemType.CommentStart);
  return lexComment;
}

function lexComment(lx: Lexer): State | null {
  const r = lx.peek();
  if (isNL(r) || r === EOF) {
    lx.emit(ItemType.Text);
    return lx.pop();
  }
  lx.next();
  return lexComment;
}
