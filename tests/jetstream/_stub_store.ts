// TEMPORARY: a tiny in-memory StreamStore for the JetStream tests until src/store's MemStore lands (then
// delete this file and use MemStore). Enough of the interface for the API and publish-path tests.

import {
  type ConsumerStore,
  type SimpleState,
  type StorageUpdateHandler,
  type StoreConfig,
  type StoredMsg,
  StoreError,
  type StreamState,
  type StreamStore,
} from "../../src/store/mod.ts";
import { subjectIsSubsetMatch } from "../../src/sublist/mod.ts";

function matches(subject: string, filter: string): boolean {
  return filter === "" || filter === ">" || subjectIsSubsetMatch(subject, filter);
}

export class StubStore implements StreamStore {
  #cfg: StoreConfig;
  #msgs = new Map<number, StoredMsg>();
  #first = 1;
  #last = 0;
  #lastTs = 0n;
  #bytes = 0;
  #cb: StorageUpdateHandler | undefined;

  constructor(cfg: StoreConfig) {
    this.#cfg = cfg;
  }

  #size(m: StoredMsg): number {
    return m.subject.length + (m.hdr?.length ?? 0) + m.msg.length + 16;
  }

  #now(): bigint {
    const t = BigInt(Date.now()) * 1_000_000n;
    return t <= this.#lastTs ? this.#lastTs + 1n : t;
  }

  storeMsg(subject: string, hdr: Uint8Array | undefined, msg: Uint8Array): { seq: number; ts: bigint } {
    const c = this.#cfg;
    const size = subject.length + (hdr?.length ?? 0) + msg.length + 16;
    if (c.discardNew) {
      if (c.maxMsgs > 0 && this.#msgs.size >= c.maxMsgs) {
        throw new StoreError("max_msgs", "maximum messages exceeded");
      }
      if (c.maxBytes > 0 && this.#bytes + size > c.maxBytes) {
        throw new StoreError("max_bytes", "maximum bytes exceeded");
      }
      if (c.discardNewPerSubject && c.maxMsgsPerSubject > 0) {
        let n = 0;
        for (const m of this.#msgs.values()) if (m.subject === subject) n++;
        if (n >= c.maxMsgsPerSubject) {
          throw new StoreError("max_msgs_per_subject", "maximum messages per subject exceeded");
        }
      }
    }
    const seq = ++this.#last;
    const ts = this.#now();
    this.#lastTs = ts;
    const m = { subject, hdr, msg, seq, ts };
    this.#msgs.set(seq, m);
    this.#bytes += size;
    this.#cb?.(1, size, seq, subject);
    this.#enforce(subject);
    return { seq, ts };
  }

  #enforce(subject: string): void {
    const c = this.#cfg;
    if (c.maxMsgsPerSubject > 0) {
      const seqs = [...this.#msgs.values()].filter((m) => m.subject === subject).map((m) => m.seq);
      while (seqs.length > c.maxMsgsPerSubject) this.removeMsg(seqs.shift()!);
    }
    if (!c.discardNew) {
      while (c.maxMsgs > 0 && this.#msgs.size > c.maxMsgs) this.removeMsg(this.#firstSeq());
      while (c.maxBytes > 0 && this.#bytes > c.maxBytes) this.removeMsg(this.#firstSeq());
    }
  }

  #firstSeq(): number {
    for (let s = this.#first; s <= this.#last; s++) if (this.#msgs.has(s)) return s;
    return this.#last + 1;
  }

  storeRawMsg(subject: string, hdr: Uint8Array | undefined, msg: Uint8Array, seq: number, ts: bigint): void {
    const m = { subject, hdr, msg, seq, ts };
    this.#msgs.set(seq, m);
    this.#last = Math.max(this.#last, seq);
    if (ts > this.#lastTs) this.#lastTs = ts;
    const size = this.#size(m);
    this.#bytes += size;
    this.#cb?.(1, size, seq, subject);
    this.#enforce(subject);
  }
  skipMsg(): number {
    return ++this.#last;
  }
  skipMsgs(seq: number, num: number): void {
    this.#last = seq + num - 1;
  }
  flushed(): Promise<void> | undefined {
    return undefined;
  }
  loadMsg(seq: number): StoredMsg | undefined {
    return this.#msgs.get(seq);
  }
  loadNextMsg(filter: string, start: number): StoredMsg | undefined {
    for (let s = Math.max(start, 1); s <= this.#last; s++) {
      const m = this.#msgs.get(s);
      if (m && matches(m.subject, filter)) return m;
    }
    return undefined;
  }
  loadLastMsg(subject: string): StoredMsg | undefined {
    for (let s = this.#last; s >= 1; s--) {
      const m = this.#msgs.get(s);
      if (m && matches(m.subject, subject)) return m;
    }
    return undefined;
  }
  loadPrevMsg(start: number): StoredMsg | undefined {
    for (let s = start; s >= 1; s--) {
      const m = this.#msgs.get(s);
      if (m) return m;
    }
    return undefined;
  }
  multiLastSeqs(filters: string[], maxSeq: number, maxAllowed: number): number[] {
    const last = new Map<string, number>();
    for (const m of this.#msgs.values()) {
      if (maxSeq > 0 && m.seq > maxSeq) continue;
      if (filters.some((f) => matches(m.subject, f))) last.set(m.subject, m.seq);
    }
    if (maxAllowed > 0 && last.size > maxAllowed) {
      throw new StoreError("too_many_results" as never, "too many");
    }
    return [...last.values()].sort((a, b) => a - b);
  }
  removeMsg(seq: number): boolean {
    const m = this.#msgs.get(seq);
    if (!m) return false;
    this.#msgs.delete(seq);
    const size = this.#size(m);
    this.#bytes -= size;
    this.#first = this.#firstSeq();
    this.#cb?.(-1, -size, seq, m.subject);
    return true;
  }
  eraseMsg(seq: number): boolean {
    return this.removeMsg(seq);
  }
  purge(): number {
    const n = this.#msgs.size;
    for (const s of [...this.#msgs.keys()]) this.removeMsg(s);
    this.#first = this.#last + 1;
    return n;
  }
  purgeEx(subject: string, seq: number, keep: number): number {
    let cands = [...this.#msgs.values()].filter((m) =>
      matches(m.subject, subject) && (seq === 0 || m.seq < seq)
    );
    if (keep > 0) {
      if (subject === "" || subject === ">") cands = cands.slice(0, Math.max(0, cands.length - keep));
      else {
        const bySubj = new Map<string, StoredMsg[]>();
        for (const m of cands) bySubj.set(m.subject, [...(bySubj.get(m.subject) ?? []), m]);
        cands = [...bySubj.values()].flatMap((l) => l.slice(0, Math.max(0, l.length - keep)));
      }
    }
    for (const m of cands) this.removeMsg(m.seq);
    if (this.#msgs.size === 0) this.#first = this.#last + 1;
    return cands.length;
  }
  compact(seq: number): number {
    let n = 0;
    for (const s of [...this.#msgs.keys()]) if (s < seq && this.removeMsg(s)) n++;
    if (seq > this.#last + 1) this.#last = seq - 1;
    this.#first = seq;
    return n;
  }
  truncate(seq: number): void {
    for (const s of [...this.#msgs.keys()]) if (s > seq) this.removeMsg(s);
    this.#last = seq;
  }
  getSeqFromTime(ts: bigint): number {
    for (const m of this.#msgs.values()) if (m.ts >= ts) return m.seq;
    return this.#last + 1;
  }
  filteredState(seq: number, subject: string): SimpleState {
    const l = [...this.#msgs.values()].filter((m) => m.seq >= seq && matches(m.subject, subject));
    return { msgs: l.length, first: l[0]?.seq ?? 0, last: l.at(-1)?.seq ?? 0 };
  }
  subjectsState(filter: string): Map<string, SimpleState> {
    const out = new Map<string, SimpleState>();
    for (const m of this.#msgs.values()) {
      if (!matches(m.subject, filter)) continue;
      const s = out.get(m.subject);
      if (s) {
        s.msgs++;
        s.last = m.seq;
      } else out.set(m.subject, { msgs: 1, first: m.seq, last: m.seq });
    }
    return out;
  }
  subjectsTotals(filter: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const [k, v] of this.subjectsState(filter)) out.set(k, v.msgs);
    return out;
  }
  numPending(sseq: number, filter: string): { total: number; validThrough: number } {
    return { total: this.filteredState(sseq, filter).msgs, validThrough: this.#last };
  }
  state(): StreamState {
    const st = this.fastState();
    const deleted: number[] = [];
    for (let s = st.firstSeq; s <= st.lastSeq; s++) if (!this.#msgs.has(s)) deleted.push(s);
    return { ...st, deleted, numDeleted: deleted.length };
  }
  fastState(): StreamState {
    const first = this.#msgs.size > 0 ? this.#firstSeq() : this.#last + 1;
    const fm = this.#msgs.get(first);
    const lm = this.#msgs.get(this.#last);
    const n = this.#msgs.size;
    return {
      msgs: n,
      bytes: this.#bytes,
      firstSeq: this.#last === 0 ? 0 : first,
      firstTime: fm?.ts ?? 0n,
      lastSeq: this.#last,
      lastTime: lm?.ts ?? this.#lastTs,
      numSubjects: new Set([...this.#msgs.values()].map((m) => m.subject)).size,
      numDeleted: n === 0 ? 0 : this.#last - first + 1 - n,
      consumers: 0,
    };
  }
  type(): "memory" | "file" {
    return this.#cfg.storage;
  }
  registerStorageUpdates(cb: StorageUpdateHandler): void {
    this.#cb = cb;
  }
  updateConfig(cfg: StoreConfig): void {
    this.#cfg = cfg;
  }
  delete(): void {
    this.#msgs.clear();
  }
  stop(): void {}
  consumerStore(): ConsumerStore {
    throw new Error("not in the stub");
  }
}
