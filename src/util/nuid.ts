// Unique ids: NUID-style base62 ids and the 56-char server id (an nkey-like public key string).
import { getRandomValues } from "node:crypto";

const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const PRE_LEN = 12;
const SEQ_LEN = 10;
const MAX_SEQ = 62 ** 10;

/** A NUID generator: 12 random base62 chars and a 10-char sequence with a random increment. */
export class Nuid {
  #pre = "";
  #seq = 0;
  #inc = 0;

  constructor() {
    this.#reset();
  }

  next(): string {
    this.#seq += this.#inc;
    if (this.#seq >= MAX_SEQ) this.#reset();
    let s = "";
    let n = this.#seq;
    for (let i = 0; i < SEQ_LEN; i++) {
      s = DIGITS[n % 62] + s;
      n = Math.floor(n / 62);
    }
    return this.#pre + s;
  }

  #reset(): void {
    const b = new Uint8Array(PRE_LEN);
    getRandomValues(b);
    this.#pre = Array.from(b, (x) => DIGITS[x % 62]).join("");
    this.#seq = Math.floor(Math.random() * MAX_SEQ);
    this.#inc = 33 + Math.floor(Math.random() * 300);
  }
}

/** Random base32 string of `len` chars, upper case (server ids look like nkeys: 'N' + 55 chars). */
export function randomBase32(len: number): string {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const b = new Uint8Array(len);
  getRandomValues(b);
  return Array.from(b, (x) => A[x & 31]).join("");
}
