// Server logger; line format follows nats-server's logger: "[pid] 2006/01/02 15:04:05.000000 [INF] text".
// deno-lint-ignore-file no-console
// The only module that writes to the console.

/** Logging switches, as the options carry them. */
export interface LogOptions {
  debug?: boolean;
  trace?: boolean;
  logtime?: boolean;
  logtimeUTC?: boolean;
  logFile?: string;
  /** Silence everything (tests). */
  quiet?: boolean;
  /** Prefix put before the level label (cluster tests use the server name). */
  prefix?: string;
}

const enc = new TextEncoder();

/** A logger writing nats-server's line format to stderr or a file. */
export class Logger {
  debugOn: boolean;
  traceOn: boolean;
  #time: boolean;
  #utc: boolean;
  #quiet: boolean;
  #file?: Deno.FsFile;
  #pid = `[${Deno.pid}] `;
  #prefix: string;
  /** Lines kept for tests that read the log. */
  readonly captured: string[] | undefined;

  constructor(opts: LogOptions = {}, capture = false) {
    this.debugOn = !!opts.debug;
    this.traceOn = !!opts.trace;
    this.#time = opts.logtime !== false;
    this.#utc = !!opts.logtimeUTC;
    this.#quiet = !!opts.quiet;
    this.#prefix = opts.prefix ?? "";
    if (opts.logFile) this.#file = openLog(opts.logFile);
    this.captured = capture ? [] : undefined;
  }

  /** Applies new switches (config reload), reopening the file when it changed. */
  configure(opts: LogOptions): void {
    this.debugOn = !!opts.debug;
    this.traceOn = !!opts.trace;
    this.#time = opts.logtime !== false;
    this.#utc = !!opts.logtimeUTC;
    this.#file?.close();
    this.#file = opts.logFile ? openLog(opts.logFile) : undefined;
  }

  /** Reopens the log file (SIGUSR1), for log rotation. */
  reopen(path: string | undefined): void {
    this.#file?.close();
    this.#file = path ? openLog(path) : undefined;
  }

  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }

  notice(msg: string): void {
    this.#write("INF", msg);
  }
  info(msg: string): void {
    this.#write("INF", msg);
  }
  warn(msg: string): void {
    this.#write("WRN", msg);
  }
  error(msg: string): void {
    this.#write("ERR", msg);
  }
  fatal(msg: string): void {
    this.#write("FTL", msg);
  }
  debug(msg: string): void {
    if (this.debugOn) this.#write("DBG", msg);
  }
  trace(msg: string): void {
    if (this.traceOn) this.#write("TRC", msg);
  }

  #write(level: string, msg: string): void {
    const line = `${this.#pid}${this.#time ? stamp(this.#utc) + " " : ""}${this.#prefix}[${level}] ${msg}`;
    this.captured?.push(line);
    if (this.#quiet && !this.#file) return;
    if (this.#file) {
      try {
        this.#file.writeSync(enc.encode(line + "\n"));
      } catch {
        // A failing log file must not take the server down.
      }
      return;
    }
    console.error(line);
  }
}

function openLog(path: string): Deno.FsFile {
  return Deno.openSync(path, { append: true, create: true, write: true });
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

function stamp(utc: boolean): string {
  const d = new Date();
  const [y, mo, da, h, mi, s, ms] = utc
    ? [
      d.getUTCFullYear(),
      d.getUTCMonth() + 1,
      d.getUTCDate(),
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
      d.getUTCMilliseconds(),
    ]
    : [
      d.getFullYear(),
      d.getMonth() + 1,
      d.getDate(),
      d.getHours(),
      d.getMinutes(),
      d.getSeconds(),
      d.getMilliseconds(),
    ];
  return `${y}/${pad(mo)}/${pad(da)} ${pad(h)}:${pad(mi)}:${pad(s)}.${pad(ms, 3)}000`;
}

/** Prints a line to stdout (command-line output such as --help). */
export function printOut(line: string): void {
  console.log(line);
}

/** Prints a line to stderr (command-line errors before a logger exists). */
export function printErr(line: string): void {
  console.error(line);
}
