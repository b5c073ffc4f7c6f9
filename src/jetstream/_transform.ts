// Subject transforms for stream subject_transform, republish, mirrors and sources: the full transform of
// src/sublist (`$N`, `{{wildcard(N)}}`, split, partition, … as nats-server server/subject_transform.go), with
// nats-server's error texts; a transform without a destination only filters.

import {
  isValidSubject,
  subjectIsSubsetMatch,
  SubjectTransform as Mapping,
  validateMapping,
} from "../sublist/mod.ts";

/** A compiled transform from a source filter to a destination. */
export class SubjectTransform {
  readonly src: string;
  readonly dest: string;
  /** No destination: subjects matching the source pass unchanged. */
  #mapping: Mapping | undefined;

  private constructor(src: string, dest: string | undefined) {
    this.src = src === "" ? ">" : src;
    this.dest = !dest ? this.src : dest;
    this.#mapping = !dest ? undefined : Mapping.create(this.src, dest);
  }

  /** Checks a transform; returns the error text (as the reference words it) or undefined when valid. */
  static validate(src: string, dest: string | undefined): string | undefined {
    const s = src === "" ? ">" : src;
    if (!isValidSubject(s)) return "invalid source subject";
    // Without a destination the transform is a filter only.
    if (!dest) return undefined;
    return validateMapping(s, dest)?.message;
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
    return this.#mapping === undefined ? subject : this.#mapping.transformSubject(subject);
  }
}
