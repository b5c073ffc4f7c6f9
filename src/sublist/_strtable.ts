// String-keyed hash table that can be probed with a slice of a larger string, for the sublist.
//
// Why not Map: a Map lookup with a freshly built string (a just-decoded subject, or a token cut out of
// one) makes V8 hash the string in a runtime call; measured here at 250–1000 ns per lookup, against
// ~15 ns when the string already carries its hash. Published subjects are always fresh strings, so
// the sublist hashes in JS instead (FNV-1a, ~1 ns per character) and compares a token in place,
// without cutting it out of the subject. Linear probing, load ≤ 1/2, backward-shift deletion.

/** FNV-1a over s[start, end), kept to 30 bits so it stays a small integer in V8. */
export function hashRange(s: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}

export class StrTable<V> {
  #keys: (string | undefined)[];
  #hashes: number[];
  #vals: (V | undefined)[];
  #mask: number;
  #size = 0;

  constructor(capacity = 2) {
    let cap = 2;
    while (cap < capacity) cap *= 2;
    this.#keys = new Array(cap).fill(undefined);
    this.#hashes = new Array(cap).fill(0);
    this.#vals = new Array(cap).fill(undefined);
    this.#mask = cap - 1;
  }

  get size(): number {
    return this.#size;
  }

  /** Looks up the key equal to s[start, end) without building that substring. */
  getRange(s: string, start: number, end: number): V | undefined {
    const h = hashRange(s, start, end);
    const n = end - start;
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = h & mask;; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === undefined) return undefined;
      if (this.#hashes[i] !== h || k.length !== n) continue;
      let j = 0;
      while (j < n && k.charCodeAt(j) === s.charCodeAt(start + j)) j++;
      if (j === n) return this.#vals[i];
    }
  }

  /** Looks up a whole key. */
  get(key: string): V | undefined {
    const h = hashRange(key, 0, key.length);
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = h & mask;; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === undefined) return undefined;
      if (this.#hashes[i] === h && k === key) return this.#vals[i];
    }
  }

  set(key: string, value: V): void {
    const h = hashRange(key, 0, key.length);
    const mask = this.#mask;
    let i = h & mask;
    for (;; i = (i + 1) & mask) {
      const k = this.#keys[i];
      if (k === undefined) break;
      if (this.#hashes[i] === h && k === key) {
        this.#vals[i] = value;
        return;
      }
    }
    this.#keys[i] = key;
    this.#hashes[i] = h;
    this.#vals[i] = value;
    this.#size++;
    if (this.#size * 2 > mask + 1) this.#resize((mask + 1) * 2);
  }

  delete(key: string): boolean {
    const h = hashRange(key, 0, key.length);
    const mask = this.#mask;
    let i = h & mask;
    for (;; i = (i + 1) & mask) {
      const k = this.#keys[i];
      if (k === undefined) return false;
      if (this.#hashes[i] === h && k === key) break;
    }
    // Backward-shift: pull later entries of the probe run into the hole so no tombstones are needed.
    let hole = i;
    for (let j = (i + 1) & mask;; j = (j + 1) & mask) {
      const k = this.#keys[j];
      if (k === undefined) break;
      const home = this.#hashes[j] & mask;
      // Move j into the hole unless its home slot lies cyclically in (hole, j].
      const inRun = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (inRun) continue;
      this.#keys[hole] = k;
      this.#hashes[hole] = this.#hashes[j];
      this.#vals[hole] = this.#vals[j];
      hole = j;
    }
    this.#keys[hole] = undefined;
    this.#vals[hole] = undefined;
    this.#size--;
    return true;
  }

  /** Calls fn for every entry. fn must not change the table: collect keys first to delete. */
  forEach(fn: (value: V, key: string) => void): void {
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k !== undefined) fn(this.#vals[i] as V, k);
    }
  }

  /** Returns up to `max` keys, in slot order (which is pseudo-random, as Go's map order). */
  someKeys(max: number): string[] {
    const out: string[] = [];
    const keys = this.#keys;
    for (let i = 0; i < keys.length && out.length < max; i++) {
      const k = keys[i];
      if (k !== undefined) out.push(k);
    }
    return out;
  }

  #resize(cap: number): void {
    const oldKeys = this.#keys;
    const oldHashes = this.#hashes;
    const oldVals = this.#vals;
    this.#keys = new Array(cap).fill(undefined);
    this.#hashes = new Array(cap).fill(0);
    this.#vals = new Array(cap).fill(undefined);
    this.#mask = cap - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i];
      if (k === undefined) continue;
      let j = oldHashes[i] & this.#mask;
      while (this.#keys[j] !== undefined) j = (j + 1) & this.#mask;
      this.#keys[j] = k;
      this.#hashes[j] = oldHashes[i];
      this.#vals[j] = oldVals[i];
    }
  }
}
