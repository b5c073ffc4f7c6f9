// Client-protocol parser: a byte state machine whose arguments are views into the read buffer.
// Behaviour follows nats-server server/parser.go (states, case-insensitive verbs, split buffers).

import { CR, LF } from "../util/mod.ts";

/** Parser states, as in the reference parser. */
export const State = {
  START: 0,
  OP_P: 1,
  OP_PU: 2,
  OP_PUB: 3,
  OP_PUB_SPC: 4,
  PUB_ARG: 5,
  OP_PI: 6,
  OP_PIN: 7,
  OP_PING: 8,
  OP_PO: 9,
  OP_PON: 10,
  OP_PONG: 11,
  MSG_PAYLOAD: 12,
  MSG_END_R: 13,
  MSG_END_N: 14,
  OP_S: 15,
  OP_SU: 16,
  OP_SUB: 17,
  OP_SUB_SPC: 18,
  SUB_ARG: 19,
  OP_U: 20,
  OP_UN: 21,
  OP_UNS: 22,
  OP_UNSU: 23,
  OP_UNSUB: 24,
  OP_UNSUB_SPC: 25,
  UNSUB_ARG: 26,
  OP_C: 27,
  OP_CO: 28,
  OP_CON: 29,
  OP_CONN: 30,
  OP_CONNE: 31,
  OP_CONNEC: 32,
  OP_CONNECT: 33,
  CONNECT_ARG: 34,
  OP_H: 35,
  OP_HP: 36,
  OP_HPU: 37,
  OP_HPUB: 38,
  OP_HPUB_SPC: 39,
  HPUB_ARG: 40,
  OP_I: 41,
  OP_IN: 42,
  OP_INF: 43,
  OP_INFO: 44,
  INFO_ARG: 45,
  OP_PLUS: 46,
  OP_PLUS_O: 47,
  OP_PLUS_OK: 48,
  OP_MINUS: 49,
  OP_MINUS_E: 50,
  OP_MINUS_ER: 51,
  OP_MINUS_ERR: 52,
  OP_MINUS_ERR_SPC: 53,
  MINUS_ERR_ARG: 54,
} as const;
export type State = typeof State[keyof typeof State];

/**
 * Arguments of the PUB/HPUB being parsed, as offsets into `buf` so the hot path allocates nothing.
 * Valid until the handler returns; `subject`, `reply` and `arg` make views on demand.
 */
export class PubArg {
  buf: Uint8Array = EMPTY;
  subjStart = 0;
  subjEnd = 0;
  /** -1 when there is no reply subject. */
  replyStart = -1;
  replyEnd = -1;
  /** Header size; -1 for PUB, -2 when the argument count was wrong, HDR_SIZE_INVALID when not a number. */
  hdr = -1;
  /** Total size (headers and payload); -1 when missing or not a number. */
  size = 0;
  argStart = 0;
  argEnd = 0;
  /** The subject the handler expects next (its publish cache's subject), set by the handler. */
  hint: Uint8Array = EMPTY;
  /** Set by the fast PUB path: the subject equals `hint` byte for byte (false: different or not checked). */
  sameSubject = false;
  /** Where the payload (headers and body) lies in `buf` when onMsg was called without it. */
  msgStart = 0;
  msgEnd = 0;

  /** The payload of a message passed to onMsg by position: a view made only when someone needs the bytes. */
  payload(): Uint8Array {
    return this.buf.subarray(this.msgStart, this.msgEnd);
  }

  get subject(): Uint8Array {
    return this.buf.subarray(this.subjStart, this.subjEnd);
  }

  get reply(): Uint8Array | undefined {
    return this.replyStart < 0 ? undefined : this.buf.subarray(this.replyStart, this.replyEnd);
  }

  /** The whole argument line (after the verb, without CRLF). */
  get arg(): Uint8Array {
    return this.buf.subarray(this.argStart, this.argEnd);
  }
}

/** PubArg.hdr of an HPUB whose header size is not a number. */
export const HDR_SIZE_INVALID = -3;

/** What the parser calls. Every method returning boolean returns false when the connection closed. */
export interface ParserHandler {
  /** True while a CONNECT is required before any other operation (auth is on and none came yet). */
  awaitingConnect(): boolean;
  /** A non-CONNECT operation arrived while awaitingConnect(); returns false when the connection closed. */
  opBeforeConnect(): boolean;
  onConnect(arg: Uint8Array): boolean;
  /** Validates the PUB/HPUB arguments (max payload, subject); false when the connection closed. */
  onPubArg(pa: PubArg, arg?: Uint8Array): boolean;
  /**
   * A whole message: `msg` holds headers and payload, without the trailing CRLF. The fast PUB path leaves
   * `msg` out and gives the position instead (`pa.payload()`): a publish nobody receives makes no view.
   */
  onMsg(pa: PubArg, msg?: Uint8Array): boolean;
  onSub(arg: Uint8Array): boolean;
  onUnsub(arg: Uint8Array): boolean;
  onPing(): boolean;
  onPong(): boolean;
  onInfo(arg: Uint8Array): boolean;
  onErr(arg: Uint8Array): boolean;
  /** A protocol error: the handler sends -ERR and closes. `snippet` is what the log shows. */
  onParseError(state: State, offset: number, snippet: string): void;
  /** An argument longer than max_control_line: the handler sends -ERR and closes. */
  onMaxControlLine(state: State, mcl: number, argLen: number, snippet: string): void;
}

const SPACE = 0x20;
const TAB = 0x09;
const PROTO_SNIPPET_SIZE = 32;
const MAX_CONTROL_LINE_SNIPPET_SIZE = 128;

/** The client-protocol state machine of one connection. */
export class Parser {
  state: State = State.START;
  /** max_control_line; 0 means no limit. */
  mcl: number;
  readonly pa: PubArg = new PubArg();
  #h: ParserHandler;
  #as = 0;
  #argBuf: Uint8Array | undefined;
  #msgBuf: Uint8Array | undefined;
  #msgLen = 0;
  #tok = new Int32Array(16);

  constructor(handler: ParserHandler, mcl: number) {
    this.#h = handler;
    this.mcl = mcl;
  }

  /** Parses one chunk. Returns false when a handler closed the connection (stop reading). */
  parse(buf: Uint8Array): boolean {
    const h = this.#h;
    const n = buf.length;
    let i = 0;
    let authSet = h.awaitingConnect();
    for (; i < n; i++) {
      const b = buf[i];
      switch (this.state) {
        case State.START:
          if (b !== 0x43 && b !== 0x63 && authSet) {
            if (!h.opBeforeConnect()) return false;
            authSet = h.awaitingConnect();
          }
          switch (b) {
            case 0x50: // P
            case 0x70:
              // Fused fast path for "PUB ".
              if (
                i + 3 < n && (buf[i + 1] | 0x20) === 0x75 && (buf[i + 2] | 0x20) === 0x62 &&
                (buf[i + 3] === SPACE || buf[i + 3] === TAB)
              ) {
                const ps = this.#fastPub(buf, i + 4, n);
                if (ps >= 0) {
                  this.#argOwned = false;
                  if (!h.onPubArg(this.pa)) return false;
                  const end = ps + this.pa.size;
                  if (buf[end] !== CR || buf[end + 1] !== LF) {
                    this.state = State.MSG_END_R;
                    return this.#parseErr(buf, end);
                  }
                  this.pa.msgStart = ps;
                  this.pa.msgEnd = end;
                  if (!h.onMsg(this.pa)) return false;
                  i = end + 1;
                  if (authSet) authSet = h.awaitingConnect();
                  break;
                }
                this.state = State.OP_PUB_SPC;
                i += 3;
              } else this.state = State.OP_P;
              break;
            case 0x48:
            case 0x68:
              this.state = State.OP_H;
              break;
            case 0x53:
            case 0x73:
              this.state = State.OP_S;
              break;
            case 0x55:
            case 0x75:
              this.state = State.OP_U;
              break;
            case 0x43:
            case 0x63:
              this.state = State.OP_C;
              break;
            case 0x49:
            case 0x69:
              this.state = State.OP_I;
              break;
            case 0x2b:
              this.state = State.OP_PLUS;
              break;
            case 0x2d:
              this.state = State.OP_MINUS;
              break;
            default:
              return this.#parseErr(buf, i);
          }
          break;
        case State.OP_P:
          switch (b | 0x20) {
            case 0x75:
              this.state = State.OP_PU;
              break;
            case 0x69:
              this.state = State.OP_PI;
              break;
            case 0x6f:
              this.state = State.OP_PO;
              break;
            default:
              return this.#parseErr(buf, i);
          }
          break;
        case State.OP_PU:
          if ((b | 0x20) !== 0x62) return this.#parseErr(buf, i);
          this.state = State.OP_PUB;
          break;
        case State.OP_PUB:
          if (b !== SPACE && b !== TAB) return this.#parseErr(buf, i);
          this.state = State.OP_PUB_SPC;
          break;
        case State.OP_PUB_SPC:
        case State.OP_HPUB_SPC:
        case State.OP_SUB_SPC:
        case State.OP_UNSUB_SPC:
        case State.OP_MINUS_ERR_SPC:
        case State.OP_CONNECT:
        case State.OP_INFO:
          if (b === SPACE || b === TAB) continue;
          this.state = ARG_AFTER[this.state];
          this.#as = i;
          i--; // re-read this byte in the argument state
          break;
        case State.PUB_ARG:
        case State.HPUB_ARG: {
          const arg = this.#takeArg(buf, i);
          if (arg === undefined) {
            i = n;
            break;
          }
          if (arg === null) return false;
          i = this.lineEnd;
          const hdr = this.state === State.HPUB_ARG;
          if (!this.#splitPubArg(arg, hdr)) return false;
          if (!h.onPubArg(this.pa, arg)) return false;
          this.#as = i + 1;
          this.state = State.MSG_PAYLOAD;
          // Whole message in this buffer: dispatch without copying.
          const end = this.#as + this.pa.size;
          if (end + 1 < n) {
            if (buf[end] !== CR || buf[end + 1] !== LF) return this.#parseErr(buf, end);
            if (!h.onMsg(this.pa, buf.subarray(this.#as, end))) return false;
            this.state = State.START;
            i = end + 1;
            authSet = h.awaitingConnect();
          } else {
            i = this.#as - 1;
          }
          break;
        }
        case State.MSG_PAYLOAD: {
          // The payload is split across reads: copy into msgBuf.
          const size = this.pa.size;
          if (this.#msgBuf === undefined) {
            this.#msgBuf = new Uint8Array(size);
            this.#msgLen = 0;
          }
          if (this.#msgLen < size) {
            const take = Math.min(size - this.#msgLen, n - i);
            this.#msgBuf.set(buf.subarray(i, i + take), this.#msgLen);
            this.#msgLen += take;
            i += take - 1;
          } else i--; // nothing to copy: read this byte as the CR
          if (this.#msgLen >= size) this.state = State.MSG_END_R;
          break;
        }
        case State.MSG_END_R:
          if (b !== CR) return this.#parseErr(buf, i);
          this.state = State.MSG_END_N;
          break;
        case State.MSG_END_N: {
          if (b !== LF) return this.#parseErr(buf, i);
          const msg = this.#msgBuf!;
          this.#msgBuf = undefined;
          this.#argBuf = undefined;
          this.state = State.START;
          if (!h.onMsg(this.pa, msg)) return false;
          authSet = h.awaitingConnect();
          break;
        }
        case State.OP_PI:
          if ((b | 0x20) !== 0x6e) return this.#parseErr(buf, i);
          this.state = State.OP_PIN;
          break;
        case State.OP_PIN:
          if ((b | 0x20) !== 0x67) return this.#parseErr(buf, i);
          this.state = State.OP_PING;
          break;
        case State.OP_PING:
          if (b === LF) {
            this.state = State.START;
            if (!h.onPing()) return false;
          }
          break;
        case State.OP_PO:
          if ((b | 0x20) !== 0x6e) return this.#parseErr(buf, i);
          this.state = State.OP_PON;
          break;
        case State.OP_PON:
          if ((b | 0x20) !== 0x67) return this.#parseErr(buf, i);
          this.state = State.OP_PONG;
          break;
        case State.OP_PONG:
          if (b === LF) {
            this.state = State.START;
            if (!h.onPong()) return false;
          }
          break;
        case State.OP_H:
          if ((b | 0x20) !== 0x70) return this.#parseErr(buf, i);
          this.state = State.OP_HP;
          break;
        case State.OP_HP:
          if ((b | 0x20) !== 0x75) return this.#parseErr(buf, i);
          this.state = State.OP_HPU;
          break;
        case State.OP_HPU:
          if ((b | 0x20) !== 0x62) return this.#parseErr(buf, i);
          this.state = State.OP_HPUB;
          break;
        case State.OP_HPUB:
          if (b !== SPACE && b !== TAB) return this.#parseErr(buf, i);
          this.state = State.OP_HPUB_SPC;
          break;
        case State.OP_S:
          if ((b | 0x20) !== 0x75) return this.#parseErr(buf, i);
          this.state = State.OP_SU;
          break;
        case State.OP_SU:
          if ((b | 0x20) !== 0x62) return this.#parseErr(buf, i);
          this.state = State.OP_SUB;
          break;
        case State.OP_SUB:
          if (b !== SPACE && b !== TAB) return this.#parseErr(buf, i);
          this.state = State.OP_SUB_SPC;
          break;
        case State.OP_U:
          if ((b | 0x20) !== 0x6e) return this.#parseErr(buf, i);
          this.state = State.OP_UN;
          break;
        case State.OP_UN:
          if ((b | 0x20) !== 0x73) return this.#parseErr(buf, i);
          this.state = State.OP_UNS;
          break;
        case State.OP_UNS:
          if ((b | 0x20) !== 0x75) return this.#parseErr(buf, i);
          this.state = State.OP_UNSU;
          break;
        case State.OP_UNSU:
          if ((b | 0x20) !== 0x62) return this.#parseErr(buf, i);
          this.state = State.OP_UNSUB;
          break;
        case State.OP_UNSUB:
          if (b !== SPACE && b !== TAB) return this.#parseErr(buf, i);
          this.state = State.OP_UNSUB_SPC;
          break;
        case State.OP_C:
          if ((b | 0x20) !== 0x6f) return this.#parseErr(buf, i);
          this.state = State.OP_CO;
          break;
        case State.OP_CO:
          if ((b | 0x20) !== 0x6e) return this.#parseErr(buf, i);
          this.state = State.OP_CON;
          break;
        case State.OP_CON:
          if ((b | 0x20) !== 0x6e) return this.#parseErr(buf, i);
          this.state = State.OP_CONN;
          break;
        case State.OP_CONN:
          if ((b | 0x20) !== 0x65) return this.#parseErr(buf, i);
          this.state = State.OP_CONNE;
          break;
        case State.OP_CONNE:
          if ((b | 0x20) !== 0x63) return this.#parseErr(buf, i);
          this.state = State.OP_CONNEC;
          break;
        case State.OP_CONNEC:
          if ((b | 0x20) !== 0x74) return this.#parseErr(buf, i);
          this.state = State.OP_CONNECT;
          break;
        case State.OP_I:
          if ((b | 0x20) !== 0x6e) return this.#parseErr(buf, i);
          this.state = State.OP_IN;
          break;
        case State.OP_IN:
          if ((b | 0x20) !== 0x66) return this.#parseErr(buf, i);
          this.state = State.OP_INF;
          break;
        case State.OP_INF:
          if ((b | 0x20) !== 0x6f) return this.#parseErr(buf, i);
          this.state = State.OP_INFO;
          break;
        case State.OP_PLUS:
          if ((b | 0x20) !== 0x6f) return this.#parseErr(buf, i);
          this.state = State.OP_PLUS_O;
          break;
        case State.OP_PLUS_O:
          if ((b | 0x20) !== 0x6b) return this.#parseErr(buf, i);
          this.state = State.OP_PLUS_OK;
          break;
        case State.OP_PLUS_OK:
          if (b === LF) this.state = State.START;
          break;
        case State.OP_MINUS:
          if ((b | 0x20) !== 0x65) return this.#parseErr(buf, i);
          this.state = State.OP_MINUS_E;
          break;
        case State.OP_MINUS_E:
          if ((b | 0x20) !== 0x72) return this.#parseErr(buf, i);
          this.state = State.OP_MINUS_ER;
          break;
        case State.OP_MINUS_ER:
          if ((b | 0x20) !== 0x72) return this.#parseErr(buf, i);
          this.state = State.OP_MINUS_ERR;
          break;
        case State.OP_MINUS_ERR:
          if (b !== SPACE && b !== TAB) return this.#parseErr(buf, i);
          this.state = State.OP_MINUS_ERR_SPC;
          break;
        case State.SUB_ARG:
        case State.UNSUB_ARG:
        case State.CONNECT_ARG:
        case State.INFO_ARG:
        case State.MINUS_ERR_ARG: {
          const st = this.state;
          const arg = this.#takeArg(buf, i);
          if (arg === undefined) {
            i = n;
            break;
          }
          if (arg === null) return false;
          i = this.lineEnd;
          this.state = State.START;
          let ok: boolean;
          if (st === State.SUB_ARG) ok = h.onSub(arg);
          else if (st === State.UNSUB_ARG) ok = h.onUnsub(arg);
          else if (st === State.CONNECT_ARG) ok = h.onConnect(arg);
          else if (st === State.INFO_ARG) ok = h.onInfo(arg);
          else ok = h.onErr(arg);
          if (!ok) return false;
          authSet = h.awaitingConnect();
          break;
        }
        default:
          return this.#parseErr(buf, i);
      }
    }
    // A message whose arguments still point into this buffer must own them before the next read.
    if (
      (this.state === State.MSG_PAYLOAD || this.state === State.MSG_END_R ||
        this.state === State.MSG_END_N) &&
      this.#argBuf === undefined
    ) {
      this.#clonePubArg();
    }
    return true;
  }

  /** The partial argument line kept across reads (tests look at it); undefined when none. */
  get pendingArg(): Uint8Array | undefined {
    return this.#argBuf;
  }

  /** The part of a split payload copied so far (tests look at it); undefined when none. */
  get pendingMsg(): Uint8Array | undefined {
    return this.#msgBuf?.subarray(0, this.#msgLen);
  }

  /** Index of the LF that ended the last argument line. */
  lineEnd = 0;
  /** Where to continue after a handler paused parsing (CONNECT awaiting bcrypt). */
  resumeAt = 0;

  /**
   * Collects an argument up to LF starting at `i`. Returns the argument without CR/LF and sets lineEnd to
   * the LF index; undefined when the line continues in the next read (kept in argBuf); null on a
   * max_control_line violation (the handler closed the connection).
   */
  #takeArg(buf: Uint8Array, i: number): Uint8Array | undefined | null {
    const lf = buf.indexOf(LF, i);
    if (lf < 0) {
      this.#argBuf = this.#argBuf ? concat(this.#argBuf, buf.subarray(i)) : buf.slice(this.#as);
      if (this.#overMcl(this.#argBuf)) return null;
      return undefined;
    }
    this.lineEnd = lf;
    let arg: Uint8Array;
    if (this.#argBuf) {
      arg = concat(this.#argBuf, buf.subarray(i, lf));
      this.#argBuf = undefined;
      if (this.state === State.PUB_ARG || this.state === State.HPUB_ARG) this.#argOwned = true;
    } else {
      arg = buf.subarray(this.#as, lf);
      this.#argOwned = false;
    }
    if (arg.length > 0 && arg[arg.length - 1] === CR) arg = arg.subarray(0, arg.length - 1);
    if (this.#overMcl(arg)) return null;
    return arg;
  }

  #argOwned = false;

  #overMcl(arg: Uint8Array): boolean {
    if (this.mcl <= 0 || arg.length <= this.mcl) return false;
    this.#h.onMaxControlLine(
      this.state,
      this.mcl,
      arg.length,
      snippet(arg, 0, MAX_CONTROL_LINE_SNIPPET_SIZE),
    );
    return true;
  }

  /** Splits PUB/HPUB args into pa; on a malformed line reports it and returns false. */
  #splitPubArg(arg: Uint8Array, hdr: boolean): boolean {
    const t = this.#tok;
    let nt = 0;
    let start = -1;
    for (let j = 0; j < arg.length; j++) {
      const c = arg[j];
      if (c === SPACE || c === TAB) {
        if (start >= 0) {
          if (nt < 8) {
            t[nt * 2] = start;
            t[nt * 2 + 1] = j;
          }
          nt++;
          start = -1;
        }
      } else if (start < 0) start = j;
    }
    if (start >= 0) {
      if (nt < 8) {
        t[nt * 2] = start;
        t[nt * 2 + 1] = arg.length;
      }
      nt++;
    }
    const pa = this.pa;
    pa.buf = arg;
    pa.argStart = 0;
    pa.argEnd = arg.length;
    pa.sameSubject = false;
    const want = hdr ? 3 : 2;
    if (nt !== want && nt !== want + 1) {
      pa.hdr = -2;
      pa.size = -1;
      this.#h.onPubArg(pa, arg);
      return false;
    }
    pa.subjStart = t[0];
    pa.subjEnd = t[1];
    let k = 1;
    if (nt === want + 1) {
      pa.replyStart = t[2];
      pa.replyEnd = t[3];
      k = 2;
    } else pa.replyStart = pa.replyEnd = -1;
    if (hdr) {
      // A bad header size must not read as a PUB (-1).
      pa.hdr = parseNum(arg, t[k * 2], t[k * 2 + 1]);
      if (pa.hdr < 0) pa.hdr = HDR_SIZE_INVALID;
      k++;
    } else pa.hdr = -1;
    pa.size = parseNum(arg, t[k * 2], t[k * 2 + 1]);
    return true;
  }

  /** Copies the PUB arguments out of the read buffer so the split message can finish later. */
  #clonePubArg(): void {
    if (this.#argOwned) return;
    const pa = this.pa;
    pa.buf = pa.buf.slice(pa.argStart, pa.argEnd);
    const d = pa.argStart;
    pa.argStart = 0;
    pa.argEnd -= d;
    pa.subjStart -= d;
    pa.subjEnd -= d;
    if (pa.replyStart >= 0) {
      pa.replyStart -= d;
      pa.replyEnd -= d;
    }
    this.#argOwned = true;
  }

  /**
   * Fused PUB for the common case: "PUB <subj> [reply] <size>\r\n" wholly in `buf` from `i` (just after
   * "PUB "), single spaces or more, and the payload with its CRLF in the buffer too. Sets pa and returns the
   * payload start, or -1 to let the general state machine handle the line (it also reports every error).
   */
  #fastPub(buf: Uint8Array, i: number, n: number): number {
    let j = i;
    while (j < n && buf[j] === SPACE) j++;
    const s0 = j;
    const pa = this.pa;
    const hint = pa.hint;
    const hl = hint.length;
    let same = false;
    let c = 0;
    if (hl !== 0 && s0 + hl < n && buf[s0 + hl] === SPACE && this.#isHint(buf, s0, hint, hl)) {
      // The publisher's last subject again (the usual case): compared four bytes at a time, no scan.
      same = true;
      j = s0 + hl;
      c = SPACE;
    } else {
      // Subject bytes are above 0x20; whitespace and control bytes end it (the unusual ones take the slow path).
      while (j < n && (c = buf[j]) > SPACE) j++;
      if (c !== SPACE || j >= n) return -1;
    }
    const s1 = j;
    while (j < n && buf[j] === SPACE) j++;
    const t0 = j;
    let size = 0;
    let digits = true;
    while (j < n && (c = buf[j]) > SPACE) {
      const d = c - 0x30;
      if (d < 0 || d > 9) digits = false;
      else size = size * 10 + d;
      j++;
    }
    if (j >= n) return -1;
    const t1 = j;
    let r0 = -1;
    let r1 = -1;
    if (c === SPACE) {
      while (j < n && buf[j] === SPACE) j++;
      r0 = t0;
      r1 = t1;
      const z0 = j;
      size = 0;
      digits = true;
      while (j < n && (c = buf[j]) !== CR && c !== LF) {
        const d = c - 0x30;
        if (d < 0 || d > 9) return -1;
        size = size * 10 + d;
        j++;
      }
      if (j === z0) return -1;
      if (j - z0 > 9) return -1;
    } else if (t1 - t0 > 9 || t1 === t0) return -1;
    if (!digits || c !== CR || j + 1 >= n || buf[j + 1] !== LF) return -1;
    if (this.mcl > 0 && j - i > this.mcl) return -1;
    const end = j + 2 + size;
    if (end + 1 >= n) return -1;
    pa.buf = buf;
    pa.argStart = i;
    pa.argEnd = j;
    pa.subjStart = s0;
    pa.subjEnd = s1;
    pa.replyStart = r0;
    pa.replyEnd = r1;
    pa.hdr = -1;
    pa.size = size;
    pa.sameSubject = same;
    this.lineEnd = j + 1;
    return j + 2;
  }

  #dv: DataView = EMPTY_DV;
  #dvOf: Uint8Array = EMPTY;
  #hintDv: DataView = EMPTY_DV;
  #hintOf: Uint8Array = EMPTY;

  /**
   * buf[at, at + hl) equals `hint`. A hint is a subject this parser produced, so it holds no space or tab:
   * equal bytes followed by a space tokenize exactly as the general path would.
   */
  #isHint(buf: Uint8Array, at: number, hint: Uint8Array, hl: number): boolean {
    if (this.#dvOf !== buf) {
      this.#dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      this.#dvOf = buf;
    }
    if (this.#hintOf !== hint) {
      this.#hintDv = new DataView(hint.buffer, hint.byteOffset, hint.byteLength);
      this.#hintOf = hint;
    }
    const dv = this.#dv;
    const hv = this.#hintDv;
    let k = 0;
    for (; k + 4 <= hl; k += 4) if (dv.getUint32(at + k) !== hv.getUint32(k)) return false;
    for (; k < hl; k++) if (buf[at + k] !== hint[k]) return false;
    return true;
  }

  #parseErr(buf: Uint8Array, i: number): false {
    this.#h.onParseError(this.state, i, snippet(buf, i, PROTO_SNIPPET_SIZE));
    return false;
  }
}

const EMPTY = new Uint8Array(0);
/** Shared by every parser until its first fast-path publish (10,000 idle clients need none of their own). */
const EMPTY_DV = new DataView(new ArrayBuffer(0));

/** The argument state that follows each "skip spaces" state. */
const ARG_AFTER: Record<number, State> = {
  [State.OP_PUB_SPC]: State.PUB_ARG,
  [State.OP_HPUB_SPC]: State.HPUB_ARG,
  [State.OP_SUB_SPC]: State.SUB_ARG,
  [State.OP_UNSUB_SPC]: State.UNSUB_ARG,
  [State.OP_MINUS_ERR_SPC]: State.MINUS_ERR_ARG,
  [State.OP_CONNECT]: State.CONNECT_ARG,
  [State.OP_INFO]: State.INFO_ARG,
};

/** Decimal digits to a number; -1 when empty, too long, or not a digit (Go's parseSize). */
function parseNum(b: Uint8Array, s: number, e: number): number {
  const len = e - s;
  if (len <= 0 || len > 9) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Go's %q of up to `max` bytes from `start` (protoSnippet). */
export function snippet(buf: Uint8Array, start: number, max: number): string {
  if (start >= buf.length) return '""';
  let stop = start + max;
  if (stop > buf.length) stop = buf.length - 1;
  let s = '"';
  for (let i = start; i < stop; i++) {
    const c = buf[i];
    if (c === 0x22) s += '\\"';
    else if (c === 0x5c) s += "\\\\";
    else if (c === 0x0a) s += "\\n";
    else if (c === 0x0d) s += "\\r";
    else if (c === 0x09) s += "\\t";
    else if (c < 0x20 || c >= 0x7f) s += "\\x" + c.toString(16).padStart(2, "0");
    else s += String.fromCharCode(c);
  }
  return s + '"';
}
