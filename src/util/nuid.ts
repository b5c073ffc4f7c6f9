// Unique ids: NUID-style base62 ids and the 56-char server id (an nkey-like public key string).
import { getRandomValues } from "node:crypto";

const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const PRE_LEN = 12;
/** The 10-digit sequence is kept as two halves of five base-62 digits: 62^10 is past 2^53, where adding a
 * small increment to a double can round back to the same value and repeat an id forever. */
const HALF = 62 ** 5;
const MAX_INC = 333;
const MIN_INC = 33;

/** A NUID generator: 12 random base62 chars and a 10-char sequence with a random increment. */
export class Nuid {
  #pre = "";
  #hi = 0;
  #lo = 0;
  #inc = 0;

  constructor() {
    this.#reset();
  }

  next(): string {
    this.#lo += this.#inc;
    if (this.#lo >= HALF) {
      this.#lo -= HALF;
      if (++this.#hi >= HALF) this.#reset();
    }
    return this.#pre + digits5(this.#hi) + digits5(this.#lo);
  }

  #reset(): void {
    const b = new Uint8Array(PRE_LEN);
    getRandomValues(b);
    this.#pre = Array.from(b, (x) => DIGITS[x % 62]).join("");
    this.#hi = Math.floor(Math.random() * HALF);
    this.#lo = Math.floor(Math.random() * HALF);
    this.#inc = MIN_INC + Math.floor(Math.random() * (MAX_INC - MIN_INC));
  }
}

function digits5(n: number): string {
  let s = "";
  for (let i = 0; i < 5; i++) {
    s = DIGITS[n % 62] + s;
    n = Math.floor(n / 62);
  }
  return s;
}

/** Random base32 string of `len` chars, upper case (server ids look like nkeys: 'N' + 55 chars). */
export function randomBase32(len: number): string {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const b = new Uint8Array(len);
  getRandomValues(b);
  return Array.from(b, (x) => A[x & 31]).join("");
}
