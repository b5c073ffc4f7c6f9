// A consumer's delivered/ack bookkeeping in memory; behaviour follows nats-server server/memstore.go
// (consumerMemStore). FileStore's consumer store extends it and persists on change; the o.dat encoding is
// here too (nats-server's encodeConsumerState layout).
//
// Pending acks live in a Map keyed by stream sequence. Keys only ever arrive in increasing order (a new
// delivery has a stream sequence above every earlier one), so a second array of keys in arrival order,
// trimmed lazily from the front, gives the lowest pending sequence in O(1) amortized: the ack floor moves
// without scanning the stream range as the reference does.

import { type ConsumerState, type ConsumerStore, type ConsumerStoreConfig, StoreError } from "./store.ts";

export class MemConsumerStore implements ConsumerStore {
  protected cfg: ConsumerStoreConfig;
  protected closed = false;
  #dc = 0;
  #ds = 0;
  #ac = 0;
  #as = 0;
  #pending = new Map<number, { seq: number; ts: bigint }>();
  #redelivered = new Map<number, number>();
  // Pending keys in increasing order; entries no longer in #pending are skipped and trimmed.
  #order: number[] = [];
  #orderHead = 0;
  #onStop: (() => void) | undefined;

  constructor(cfg: ConsumerStoreConfig, onStop?: () => void) {
    this.cfg = { ...cfg };
    this.#onStop = onStop;
  }

  setStarting(sseq: number): void {
    this.#ds = sseq;
    this.changed();
  }

  hasState(): boolean {
    return false;
  }

  updateDelivered(dseq: number, sseq: number, dc: number, ts: bigint): void {
    if (this.closed) throw new StoreError("closed", "store is closed");
    const none = this.cfg.ackPolicy === "none";
    if (dc !== 1 && none) throw new StoreError("no_ack_policy", "ack policy is none");
    if (dseq <= this.#ac) return;
    if (!none) {
      if (sseq <= this.#ds) {
        // A redelivery keeps the original consumer sequence; only the delivery time moves.
        const p = this.#pending.get(sseq);
        if (p !== undefined) p.ts = ts;
      } else {
        this.#pending.set(sseq, { seq: dseq, ts });
        this.#order.push(sseq);
      }
      if (dseq > this.#dc) this.#dc = dseq;
      if (sseq > this.#ds) this.#ds = sseq;
      if (dc > 1) {
        const maxdc = this.cfg.maxDeliver ?? 0;
        if (maxdc > 0 && dc > maxdc) this.#pending.delete(sseq);
        if ((this.#redelivered.get(sseq) ?? 0) < dc - 1) this.#redelivered.set(sseq, dc - 1);
      }
    } else {
      if (dseq > this.#dc) {
        this.#dc = dseq;
        this.#ac = dseq;
      }
      if (sseq > this.#ds) {
        this.#ds = sseq;
        this.#as = sseq;
      }
    }
    this.changed();
  }

  updateAcks(dseq: number, sseq: number): void {
    if (this.closed) throw new StoreError("closed", "store is closed");
    if (this.cfg.ackPolicy === "none") throw new StoreError("no_ack_policy", "ack policy is none");
    // A replay of an old ack (raft catch-up) is ignored.
    if (dseq <= this.#ac) return;
    if (sseq > this.#ds) this.#ds = sseq + 1;
    const p = this.#pending.get(sseq);
    if (p === undefined) {
      this.#redelivered.delete(sseq);
      this.changed();
      throw new StoreError("not_found", "no message found");
    }
    if (this.cfg.ackPolicy === "all") {
      this.#ac = dseq;
      this.#as = sseq;
      const order = this.#order;
      let i = this.#orderHead;
      for (; i < order.length && order[i] <= sseq; i++) {
        this.#pending.delete(order[i]);
        this.#redelivered.delete(order[i]);
      }
      this.#orderHead = i;
      this.#trimOrder();
      this.changed();
      return;
    }
    this.#pending.delete(sseq);
    if (dseq > p.seq && p.seq > 0) dseq = p.seq;
    if (this.#pending.size === 0) {
      this.#ac = this.#dc;
      this.#as = this.#ds;
    } else if (dseq === this.#ac + 1) {
      this.#ac = dseq;
      this.#as = sseq;
      if (this.#dc > dseq) {
        // The floor stops just below the lowest sequence still pending above the acked one.
        const next = this.#lowestPendingAbove(sseq);
        if (next !== undefined) {
          const np = this.#pending.get(next)!;
          if (np.seq > 0) {
            this.#ac = np.seq - 1;
            this.#as = next - 1;
          }
        }
      }
    }
    this.#redelivered.delete(sseq);
    this.#trimOrder();
    this.changed();
  }

  update(state: ConsumerState): void {
    if (state.ackFloor.consumerSeq > state.delivered.consumerSeq) {
      throw new StoreError("bad_state", "bad ack floor for consumer");
    }
    if (state.ackFloor.streamSeq > state.delivered.streamSeq) {
      throw new StoreError("bad_state", "bad ack floor for stream");
    }
    const keys = [...state.pending.keys()].sort((a, b) => a - b);
    for (const seq of keys) {
      if (seq <= state.ackFloor.streamSeq || seq > state.delivered.streamSeq) {
        throw new StoreError("bad_state", `bad pending entry, sequence [${seq}] out of range`);
      }
    }
    if (state.delivered.consumerSeq < this.#dc || state.ackFloor.streamSeq < this.#as) {
      throw new StoreError("bad_state", "old update ignored");
    }
    this.#dc = state.delivered.consumerSeq;
    this.#ds = state.delivered.streamSeq;
    this.#ac = state.ackFloor.consumerSeq;
    this.#as = state.ackFloor.streamSeq;
    this.#pending = new Map();
    for (const k of keys) {
      const p = state.pending.get(k)!;
      this.#pending.set(k, { seq: p.seq, ts: p.ts });
    }
    this.#order = keys;
    this.#orderHead = 0;
    this.#redelivered = new Map(state.redelivered);
    this.changed();
  }

  updateConfig(cfg: ConsumerStoreConfig): void {
    this.cfg = { ...cfg };
  }

  state(): ConsumerState {
    if (this.closed) throw new StoreError("closed", "store is closed");
    const pending = new Map<number, { seq: number; ts: bigint }>();
    for (const [k, p] of this.#pending) pending.set(k, { seq: p.seq, ts: p.ts });
    return {
      delivered: { consumerSeq: this.#dc, streamSeq: this.#ds },
      ackFloor: { consumerSeq: this.#ac, streamSeq: this.#as },
      pending,
      redelivered: new Map(this.#redelivered),
    };
  }

  flushed(): Promise<void> | undefined {
    return undefined;
  }

  stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.#onStop?.();
  }

  delete(): void {
    this.stop();
  }

  /** Hook for persistent subclasses: called after every state change. */
  protected changed(): void {}

  /** The state without copies, for encoders in subclasses; do not mutate. */
  protected borrowState(): ConsumerState {
    return {
      delivered: { consumerSeq: this.#dc, streamSeq: this.#ds },
      ackFloor: { consumerSeq: this.#ac, streamSeq: this.#as },
      pending: this.#pending,
      redelivered: this.#redelivered,
    };
  }

  #lowestPendingAbove(sseq: number): number | undefined {
    const order = this.#order;
    for (let i = this.#orderHead; i < order.length; i++) {
      const k = order[i];
      if (k > sseq && this.#pending.has(k)) return k;
    }
    return undefined;
  }

  #trimOrder(): void {
    const order = this.#order;
    let i = this.#orderHead;
    while (i < order.length && !this.#pending.has(order[i])) i++;
    this.#orderHead = i;
    if (i === order.length) {
      this.#order = [];
      this.#orderHead = 0;
    } else if (order.length - i > 2 * this.#pending.size + 1024) {
      // Out-of-order acks left many stale keys in the middle.
      this.#order = order.slice(i).filter((k) => this.#pending.has(k));
      this.#orderHead = 0;
    } else if (i > 1024 && i * 2 > order.length) {
      this.#order = order.slice(i);
      this.#orderHead = 0;
    }
  }
}

// ---- consumer state encoding (o.dat) ----

const MAGIC = 22;
const VERSION = 2;

/** Encodes a consumer state as nats-server's encodeConsumerState does (varints, seconds for times). */
export function encodeConsumerState(state: ConsumerState): Uint8Array {
  const out: number[] = [MAGIC, VERSION];
  const uv = (n: number) => {
    while (n >= 0x80) {
      out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
  };
  const sv = (n: number) => uv(n < 0 ? -2 * n - 1 : 2 * n);
  const asflr = state.ackFloor.streamSeq;
  const adflr = state.ackFloor.consumerSeq;
  uv(adflr);
  uv(asflr);
  uv(state.delivered.consumerSeq);
  uv(state.delivered.streamSeq);
  uv(state.pending.size);
  if (state.pending.size > 0) {
    const mints = Math.round(Date.now() / 1000);
    sv(mints);
    for (const [k, p] of state.pending) {
      uv(k - asflr);
      uv(Math.max(0, p.seq - adflr));
      sv(mints - Number(p.ts / 1_000_000_000n));
    }
  }
  uv(state.redelivered.size);
  for (const [k, n] of state.redelivered) {
    uv(k - asflr);
    uv(n);
  }
  return new Uint8Array(out);
}

/** Decodes encodeConsumerState's layout; throws StoreError "corrupt" on a bad buffer. */
export function decodeConsumerState(buf: Uint8Array): ConsumerState {
  if (buf.length < 2 || buf[0] !== MAGIC || buf[1] !== VERSION) {
    throw new StoreError("corrupt", "corrupt consumer state");
  }
  let i = 2;
  const uv = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (i >= buf.length) throw new StoreError("corrupt", "corrupt consumer state");
      const c = buf[i++];
      n += (c & 0x7f) * mul;
      if (c < 0x80) return n;
      mul *= 0x80;
    }
  };
  const sv = (): number => {
    const u = uv();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  };
  const ac = uv();
  const as = uv();
  const dc = uv();
  const ds = uv();
  const pending = new Map<number, { seq: number; ts: bigint }>();
  const np = uv();
  if (np > 0) {
    const mints = sv();
    for (let k = 0; k < np; k++) {
      const sseq = uv() + as;
      const dseq = uv() + ac;
      const ts = BigInt(mints - sv()) * 1_000_000_000n;
      pending.set(sseq, { seq: dseq, ts });
    }
  }
  const redelivered = new Map<number, number>();
  const nr = uv();
  for (let k = 0; k < nr; k++) {
    const seq = uv() + as;
    redelivered.set(seq, uv());
  }
  return {
    delivered: { consumerSeq: dc, streamSeq: ds },
    ackFloor: { consumerSeq: ac, streamSeq: as },
    pending,
    redelivered,
  };
}
