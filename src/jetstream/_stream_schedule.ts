// Message schedules (allow_msg_schedules): a message with Nats-Schedule on a subject defines one schedule
// for that subject; when due, the stream stores its body (or the last message of Nats-Schedule-Source) on
// Nats-Schedule-Target. Patterns: "@at <RFC 3339>", "@every <duration>", 6-field cron (sec min hour dom mon
// dow) and the @yearly/@monthly/@weekly/@daily/@midnight/@hourly aliases, optionally in
// Nats-Schedule-Time-Zone. Behaviour follows nats-server server/stream.go and cron.go (ADR-51).

import { parseDuration } from "../util/mod.ts";
import { parseRfc3339 } from "./_headers.ts";

export const JS_SCHEDULE_SOURCE = "Nats-Schedule-Source";
export const JS_SCHEDULE_ROLLUP = "Nats-Schedule-Rollup";
export const JS_SCHEDULE_TIME_ZONE = "Nats-Schedule-Time-Zone";

/** A parsed schedule pattern. */
export type SchedulePattern =
  | { kind: "at"; atMs: number }
  | { kind: "every"; everyMs: number }
  | { kind: "cron"; cron: Cron };

const ALIASES: Record<string, string> = {
  "@yearly": "0 0 0 1 1 *",
  "@annually": "0 0 0 1 1 *",
  "@monthly": "0 0 0 1 * *",
  "@weekly": "0 0 0 * * 0",
  "@daily": "0 0 0 * * *",
  "@midnight": "0 0 0 * * *",
  "@hourly": "0 0 * * * *",
};

/** Parses a Nats-Schedule value; undefined when invalid. */
export function parseSchedule(v: string): SchedulePattern | undefined {
  const s = v.trim();
  if (s.startsWith("@at ")) {
    const ns = parseRfc3339(s.slice(4).trim());
    return ns === undefined ? undefined : { kind: "at", atMs: Number(ns / 1_000_000n) };
  }
  if (s.startsWith("@every ")) {
    let ms: number;
    try {
      ms = parseDuration(s.slice(7).trim());
    } catch {
      return undefined;
    }
    return ms >= 1000 ? { kind: "every", everyMs: ms } : undefined;
  }
  const cron = parseCron(ALIASES[s] ?? s);
  return cron === undefined ? undefined : { kind: "cron", cron };
}

/** A compiled cron expression: allowed values per field. */
export interface Cron {
  sec: Set<number>;
  min: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  mon: Set<number>;
  dow: Set<number>;
  domStar: boolean;
  dowStar: boolean;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

function parseField(f: string, lo: number, hi: number, names?: string[]): Set<number> | undefined {
  const out = new Set<number>();
  const val = (x: string): number => {
    const i = names?.indexOf(x.toUpperCase()) ?? -1;
    if (i >= 0) return i + (names === MONTHS ? 1 : 0);
    return /^\d+$/.test(x) ? Number(x) : NaN;
  };
  for (const part of f.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step <= 0) return undefined;
    let a: number;
    let b: number;
    if (range === "*" || range === "?") {
      a = lo;
      b = hi;
    } else if (range.includes("-")) {
      const [x, y] = range.split("-");
      a = val(x);
      b = val(y);
    } else {
      a = val(range);
      b = stepText === undefined ? a : hi;
    }
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < lo || b > hi || a > b) return undefined;
    for (let i = a; i <= b; i += step) out.add(i);
  }
  return out;
}

/** Parses a 6-field cron expression; undefined when invalid. */
export function parseCron(s: string): Cron | undefined {
  const f = s.trim().split(/\s+/);
  if (f.length !== 6) return undefined;
  const sec = parseField(f[0], 0, 59);
  const min = parseField(f[1], 0, 59);
  const hour = parseField(f[2], 0, 23);
  const dom = parseField(f[3], 1, 31);
  const mon = parseField(f[4], 1, 12, MONTHS);
  const dow = parseField(f[5], 0, 6, DAYS);
  if (!sec || !min || !hour || !dom || !mon || !dow) return undefined;
  const star = (x: string) => x === "*" || x === "?";
  return { sec, min, hour, dom, mon, dow, domStar: star(f[3]), dowStar: star(f[5]) };
}

/** True when `tz` is an IANA time zone this runtime knows. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Offset of `tz` from UTC at `ms`, in ms (local = utc + offset). */
function tzOffset(ms: number, tz: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(new Date(ms));
  const g = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const local = Date.UTC(g("year"), g("month") - 1, g("day"), g("hour"), g("minute"), g("second"));
  return local - Math.floor(ms / 1000) * 1000;
}

/** The next time strictly after `afterMs` that `c` matches, in `tz` (UTC when empty); undefined if none. */
export function cronNext(c: Cron, afterMs: number, tz = ""): number | undefined {
  const off = tz ? tzOffset(afterMs, tz) : 0;
  let t = Math.floor((afterMs + off) / 1000) * 1000 + 1000; // wall clock as UTC
  const limit = t + 5 * 366 * 86_400_000;
  while (t < limit) {
    const d = new Date(t);
    if (!c.mon.has(d.getUTCMonth() + 1)) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      continue;
    }
    const domOk = c.dom.has(d.getUTCDate());
    const dowOk = c.dow.has(d.getUTCDay());
    const dayOk = c.domStar || c.dowStar ? domOk && dowOk : domOk || dowOk;
    if (!dayOk) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      continue;
    }
    if (!c.hour.has(d.getUTCHours())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
      continue;
    }
    if (!c.min.has(d.getUTCMinutes())) {
      t = Date.UTC(
        d.getUTCFullYear(),
        d.getUTCMonth(),
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes() + 1,
      );
      continue;
    }
    if (!c.sec.has(d.getUTCSeconds())) {
      t += 1000;
      continue;
    }
    if (!tz) return t;
    // Back to UTC with the offset in force at that wall-clock time.
    const guess = t - off;
    return t - tzOffset(guess, tz);
  }
  return undefined;
}

/** The next fire time of a pattern after `afterMs`; undefined when it never fires again. */
export function nextFire(p: SchedulePattern, afterMs: number, tz = ""): number | undefined {
  switch (p.kind) {
    case "at":
      return p.atMs;
    case "every":
      return afterMs + p.everyMs;
    case "cron":
      return cronNext(p.cron, afterMs, tz);
  }
}

/** One schedule held by a stream. */
export interface ScheduleEntry {
  /** The schedule's own subject (its identity). */
  subject: string;
  /** Sequence of the defining message. */
  seq: number;
  pattern: SchedulePattern;
  tz: string;
  dueMs: number;
}

/** The schedules of one stream with a single timer for the earliest. */
export class Scheduler {
  readonly entries = new Map<string, ScheduleEntry>();
  #cancel: (() => void) | undefined;
  #dueAt = Infinity;
  #after: (ms: number, fn: () => void) => () => void;
  #fire: (e: ScheduleEntry) => void;

  constructor(after: (ms: number, fn: () => void) => () => void, fire: (e: ScheduleEntry) => void) {
    this.#after = after;
    this.#fire = fire;
  }

  /** Adds or replaces the schedule of `subject`. */
  set(e: ScheduleEntry): void {
    this.entries.set(e.subject, e);
    this.#arm();
  }

  delete(subject: string): void {
    if (this.entries.delete(subject)) this.#arm();
  }

  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#dueAt = Infinity;
    this.entries.clear();
  }

  #arm(): void {
    let min = Infinity;
    for (const e of this.entries.values()) if (e.dueMs < min) min = e.dueMs;
    if (min === this.#dueAt) return;
    this.#cancel?.();
    this.#cancel = undefined;
    this.#dueAt = min;
    if (min === Infinity) return;
    this.#cancel = this.#after(Math.max(1, min - Date.now()), () => {
      this.#cancel = undefined;
      this.#dueAt = Infinity;
      this.#run();
    });
  }

  #run(): void {
    const now = Date.now();
    for (const e of [...this.entries.values()]) {
      if (e.dueMs > now) continue;
      // fire() may replace or delete the entry.
      this.#fire(e);
    }
    this.#arm();
  }
}
