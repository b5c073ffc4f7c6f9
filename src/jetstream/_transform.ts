// Subject transforms for stream subject_transform, republish and sources: `$N` and `{{wildcard(N)}}` tokens
// take the Nth wildcard of the source; a trailing `>` carries the rest. Follows nats-server
// server/subject_transform.go for the forms streams use (partition/split functions are not supported yet).

import { isValidSubject, subjectIsSubsetMatch, validateMappingDestination } from "../sublist/mod.ts";

type Part = { lit: string } | { wc: number } | { rest: true };

/** A compiled transform from a source filter to a destination. */
export class SubjectTransform {
  readonly src: string;
  readonly dest: string;
  #srcTokens: string[];
  #wcIndex: number[] = [];
  #parts: Part[] = [];

  /** No destination: the transform only filters (subjects pass unchanged). */
  #identity: boolean;

  private constructor(src: string, dest: string | undefined) {
    this.src = src === "" ? ">" : src;
    this.#identity = !dest;
    this.dest = !dest ? this.src : dest;
    this.#srcTokens = this.src.split(".");
    this.#srcTokens.forEach((t, i) => {
      if (t === "*" || t === ">") this.#wcIndex.push(i);
    });
    for (const t of this.dest.split(".")) {
      let m = /^\$(\d+)$/.exec(t) ?? /^{{\s*[wW]ildcard\s*\(\s*(\d+)\s*\)\s*}}$/.exec(t);
      if (m) {
        this.#parts.push({ wc: Number(m[1]) });
        continue;
      }
      m = null;
      if (t === ">") this.#parts.push({ rest: true });
      else this.#parts.push({ lit: t });
    }
  }

  /** Checks a transform; returns the error text (as the reference words it) or undefined when valid. */
  static validate(src: string, dest: string | undefined): string | undefined {
    const s = src === "" ? ">" : src;
    if (!isValidSubject(s)) return "invalid source subject";
    // Without a destination the transform is a filter only.
    if (!dest) return undefined;
    const d = dest;
    const derr = validateMappingDestination(d);
    if (derr) return derr.message;
    const nwc = s.split(".").filter((t) => t === "*" || t === ">").length;
    for (const t of d.split(".")) {
      const m = /^\$(\d+)$/.exec(t) ?? /^{{\s*[wW]ildcard\s*\(\s*(\d+)\s*\)\s*}}$/.exec(t);
      if (m && (Number(m[1]) < 1 || Number(m[1]) > nwc)) {
        return `invalid mapping destination: wildcard index out of range in ${t}`;
      }
      if (t.startsWith("{{") && !m) return `invalid mapping destination: function not supported in ${t}`;
    }
    if (d.split(".").includes(">") && !s.endsWith(">")) {
      return "invalid mapping destination: invalid subject";
    }
    return undefined;
  }

  /** Compiles a transform; throws RangeError with the validation text when invalid. */
  static create(src: string, dest: string | undefined): SubjectTransform {
    const err = SubjectTransform.validate(src, dest);
    if (err !== undefined) throw new RangeError(err);
    return new SubjectTransform(src, dest);
  }

  /** The transformed subject, or undefined when `subject` does not match the source. */
  match(subject: string): string | undefined {
    if (!subjectIsSubsetMatch(subject, this.src)) return undefined;
    if (this.#identity) return subject;
    const toks = subject.split(".");
    const out: string[] = [];
    for (const p of this.#parts) {
      if ("lit" in p) out.push(p.lit);
      else if ("wc" in p) {
        const i = this.#wcIndex[p.wc - 1];
        out.push(this.#srcTokens[i] === ">" ? toks.slice(i).join(".") : toks[i]);
      } else out.push(toks.slice(this.#srcTokens.length - 1).join("."));
    }
    return out.join(".");
  }
}
