// A client subscription and the MSG prefix precomputed for it.

import { encoder } from "../util/mod.ts";
import { subjectIsLiteral } from "../sublist/mod.ts";
import type { Client } from "./client.ts";
import type { Account } from "./account.ts";

/**
 * Handler of an internal subscription (server services, imports, JetStream). The views are valid only during
 * the call: copy what must outlive it. `hdr` is the header block (NATS/1.0 … CRLF CRLF) or undefined.
 */
export type InternalCallback = (
  sub: Subscription,
  from: Client,
  subject: string,
  reply: string | undefined,
  hdr: Uint8Array | undefined,
  payload: Uint8Array,
) => void;

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
  /** Set for internal subscriptions: delivery calls it instead of writing MSG. */
  icb: InternalCallback | undefined;
  /** Stream imports: the shadow subscriptions made in exporting accounts for this one. */
  shadow?: Subscription[];
  /** On a shadow subscription: the subscription it delivers to, and the account whose sublist holds it. */
  shadowOf?: Subscription;
  shadowAcc?: Account;

  constructor(
    client: Client,
    subject: string,
    queue: string | undefined,
    sid: string,
    icb?: InternalCallback,
  ) {
    this.icb = icb;
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
