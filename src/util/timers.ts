// One timer for many deadlines: a min-heap of entries behind a single Deno timer.
// Connections schedule auth timeouts and pings here instead of owning a timer each.

/** A scheduled callback; pass it to `cancel`. */
export interface TimerEntry {
  at: number;
  fn: () => void;
  idx: number;
}

/** A min-heap of deadlines served by one runtime timer. */
export class Timers {
  #heap: TimerEntry[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedAt = Infinity;
  #closed = false;

  /** Runs `fn` after `ms` milliseconds. */
  after(ms: number, fn: () => void): TimerEntry {
    const e: TimerEntry = { at: performance.now() + ms, fn, idx: -1 };
    this.#push(e);
    this.#arm();
    return e;
  }

  /** Cancels an entry; a no-op when it already ran or was cancelled. */
  cancel(e: TimerEntry | undefined): void {
    if (!e || e.idx < 0) return;
    this.#removeAt(e.idx);
    e.idx = -1;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Drops every entry and the runtime timer. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const e of this.#heap) e.idx = -1;
    this.#heap = [];
  }

  #arm(): void {
    if (this.#closed) return;
    const first = this.#heap[0];
    if (!first) return;
    if (this.#timer !== undefined && this.#armedAt <= first.at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedAt = first.at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, first.at - performance.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = performance.now() + 1;
    while (this.#heap.length > 0 && this.#heap[0].at <= now) {
      const e = this.#heap[0];
      this.#removeAt(0);
      e.idx = -1;
      try {
        e.fn();
      } catch {
        // A failing callback must not stop the others; callers log their own errors.
      }
    }
    this.#arm();
  }

  #push(e: TimerEntry): void {
    const h = this.#heap;
    e.idx = h.length;
    h.push(e);
    this.#up(e.idx);
  }

  #removeAt(i: number): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (i < h.length) {
      h[i] = last;
      last.idx = i;
      this.#down(i);
      this.#up(i);
    }
  }

  #up(i: number): void {
    const h = this.#heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at <= h[i].at) break;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const h = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].at < h[m].at) m = l;
      if (r < h.length && h[r].at < h[m].at) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #swap(a: number, b: number): void {
    const h = this.#heap;
    const t = h[a];
    h[a] = h[b];
    h[b] = t;
    h[a].idx = a;
    h[b].idx = b;
  }
}
