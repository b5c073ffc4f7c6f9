// A client subscription and the MSG prefix precomputed for it.

import { encoder } from "../util/mod.ts";
import { subjectIsLiteral } from "../sublist/mod.ts";
import type { Client } from "./client.ts";

/** One SUB of a client; the sublist holds these. */
export class Subscription {
  readonly subject: string;
  readonly queue: string | undefined;
  readonly sid: string;
  readonly client: Client;
  /** " <sid> " as bytes, written after the subject in MSG/HMSG lines. */
  readonly sidBytes: Uint8Array;
  /** "MSG <subject> <sid> " for literal subjects (the delivered subject is always the same). */
  readonly msgPrefix: Uint8Array | undefined;
  /** "HMSG <subject> <sid> " likewise. */
  readonly hmsgPrefix: Uint8Array | undefined;
  /** Auto-unsubscribe after this many messages; 0 means never. */
  max = 0;
  /** Messages delivered so far. */
  nm = 0;
  closed = false;

  constructor(client: Client, subject: string, queue: string | undefined, sid: string) {
    this.client = client;
    this.subject = subject;
    this.queue = queue;
    this.sid = sid;
    this.sidBytes = encoder.encode(` ${sid} `);
    if (subjectIsLiteral(subject)) {
      this.msgPrefix = encoder.encode(`MSG ${subject} ${sid} `);
      this.hmsgPrefix = encoder.encode(`HMSG ${subject} ${sid} `);
    }
  }
}
