// The storage boundary of JetStream: one StreamStore interface, implemented by MemStore and FileStore.
// Shaped after nats-server server/store.go; jetstream maps its StreamConfig onto StoreConfig, so the store
// never sees API types. Sequences are numbers (<= MAX_SAFE_INTEGER); times are nanoseconds since the epoch
// as bigint, because 1.7e18 does not fit in a double.

/** Where a stream keeps its messages. */
export type StorageType = "memory" | "file";

/** The limits and options of a stream that the store enforces. 0 or -1 means unlimited, as in the API. */
export interface StoreConfig {
  name: string;
  storage: StorageType;
  /** Subjects the stream captures (for the per-subject index; the store does not filter on them). */
  subjects: string[];
  maxMsgs: number;
  maxBytes: number;
  /** Maximum age in nanoseconds; 0n means no limit. */
  maxAge: bigint;
  maxMsgsPerSubject: number;
  maxMsgSize: number;
  /** discard: new — refuse a message past a limit instead of dropping the oldest. */
  discardNew: boolean;
  /** With discardNew: apply max_msgs_per_subject as a refusal too. */
  discardNewPerSubject: boolean;
  /** Per-message TTLs (Nats-TTL) are honoured. */
  allowMsgTtl: boolean;
  /** Stream compression: "none" or "s2" (FileStore only). */
  compression: "none" | "s2";
  /** Sequence of the first message of a new stream (first_seq); 0 or absent means 1. Added for MemStore. */
  firstSeq?: number;
}

/** A stored message. Views may be shared with the store's cache: copy before mutating. */
export interface StoredMsg {
  subject: string;
  /** Header block (NATS/1.0 …\r\n\r\n), or undefined when the message has none. */
  hdr: Uint8Array | undefined;
  msg: Uint8Array;
  seq: number;
  /** Store time, nanoseconds since the epoch. */
  ts: bigint;
}

/** Counts for a filter: messages, first and last sequence. */
export interface SimpleState {
  msgs: number;
  first: number;
  last: number;
}

/** A stream's state, as StreamInfo.state reports it. */
export interface StreamState {
  msgs: number;
  bytes: number;
  firstSeq: number;
  /** Nanoseconds since the epoch; 0n when empty. */
  firstTime: bigint;
  lastSeq: number;
  lastTime: bigint;
  numSubjects: number;
  numDeleted: number;
  /** Interior deleted sequences; only from state(), never from fastState(). */
  deleted?: number[];
  consumers: number;
}

/** Called after every change in the number of messages/bytes (limits, purges, removals, stores). */
export type StorageUpdateHandler = (
  deltaMsgs: number,
  deltaBytes: number,
  seq: number,
  subject: string,
) => void;

/** Errors a store raises for expected refusals; `code` lets jetstream map them onto API errors. */
export class StoreError extends Error {
  constructor(
    readonly code:
      | "msg_too_big"
      | "max_msgs"
      | "max_bytes"
      | "max_msgs_per_subject"
      | "sequence_mismatch"
      | "closed"
      | "corrupt"
      | "io"
      | "bad_key"
      // Added with MemStore: truncate() past the last sequence (Go ErrInvalidSequence).
      | "invalid_sequence"
      // Added with MemStore: consumer ack of a sequence that is not pending (Go ErrStoreMsgNotFound).
      | "not_found"
      // Added with MemStore: consumer delivery/ack bookkeeping with ack policy none (Go ErrNoAckPolicy).
      | "no_ack_policy"
      // Added with MemStore: ConsumerStore.update() refused an inconsistent or outdated state.
      | "bad_state"
      // Added with MemStore: multiLastSeqs() matched more than maxAllowed subjects (Go ErrTooManyResults).
      | "too_many_results",
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "StoreError";
  }
}

/** The messages of one stream. Every method is synchronous; only durability is awaited (see `flushed`). */
export interface StreamStore {
  /**
   * Appends a message; returns its sequence and store time. `ttlNs` > 0n sets a per-message TTL, < 0n marks
   * a Nats-TTL of "never" that max_age passes over (both with allowMsgTtl). Throws StoreError when a discard-new limit refuses it. `hdr` and `msg` may be views of
   * a buffer the caller reuses: the store copies what it keeps before returning.
   */
  storeMsg(
    subject: string,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    ttlNs?: bigint,
  ): { seq: number; ts: bigint };
  /**
   * Stores at a given sequence and time (mirrors, restores, replication). `seq` 0 takes the next sequence;
   * any other value must be the next one (StoreError "sequence_mismatch"). `discardNewCheck` (default true)
   * applies discard-new refusals; a clustered follower passes false so that it never drifts from its leader
   * (Go's StoreRawMsg discardNewCheck, 2.11+). The last two parameters were added with MemStore.
   */
  storeRawMsg(
    subject: string,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    seq: number,
    ts: bigint,
    ttlNs?: bigint,
    discardNewCheck?: boolean,
  ): void;
  /** Reserves the next sequence without a message; returns it. */
  skipMsg(): number;
  /**
   * Reserves sequence `seq` (0 = the next one; any other value must be the next one, else StoreError
   * "sequence_mismatch") for a message nobody was interested in; returns it. Unlike skipMsg, which carries
   * the last time forward, it stamps the current time as the last time, as the message it stands for
   * arrived now (Go SkipMsgNoInterest).
   */
  skipMsgNoInterest(seq?: number): number;
  /**
   * Reserves `num` sequences starting at `seq`, which must be the next one (0 = the next one); throws
   * StoreError "sequence_mismatch" otherwise.
   */
  skipMsgs(seq: number, num: number): void;
  /**
   * Resolves once every message up to `seq` is durable (fsynced for FileStore); undefined when it already is.
   * JetStream sends a PubAck only after this.
   */
  flushed(seq: number): Promise<void> | undefined;
  /**
   * The callback form of `flushed` for the publish path (no promise per message): returns false when every
   * message up to `seq` is already durable; otherwise `fn(err, a, b)` is called once they are (err
   * undefined) or once writing them failed.
   */
  onFlushed<A, B>(seq: number, fn: (err: unknown, a: A, b: B) => void, a: A, b: B): boolean;

  /** The message at `seq`, or undefined when absent (deleted, purged, never stored). */
  loadMsg(seq: number): StoredMsg | undefined;
  /** True when the message at `seq` is stored; reads no bytes (loadMsg would read a FileStore block). */
  hasMsg(seq: number): boolean;
  /**
   * The first message at or after `start` whose subject matches `filter` ("" or ">" = all). `borrow`: the
   * caller is done with hdr and msg before its next call into the store (they may be views into a cached
   * block instead of copies).
   */
  loadNextMsg(filter: string, start: number, borrow?: boolean): StoredMsg | undefined;
  /** The last message on `subject` (may be a wildcard; "" = any), or undefined. */
  loadLastMsg(subject: string): StoredMsg | undefined;
  /**
   * The last message at or before `start` whose subject matches `filter` (wildcards allowed; "" or ">", the
   * default, = all), or undefined.
   */
  loadPrevMsg(start: number, filter?: string): StoredMsg | undefined;
  /**
   * The first message at or after `start` whose subject matches any of `filters` (an empty list, or one
   * that holds "" or ">", matches all). Answered from the per-subject index: only the found message is
   * read (Go LoadNextMsgMulti, which takes a sublist of the filters). A list is not changed once passed (its
   * split into literals and wildcards is kept for the next call with the same list).
   */
  loadNextMsgMulti(filters: readonly string[], start: number): StoredMsg | undefined;
  /** The last message at or before `start` matching any of `filters`, as loadNextMsgMulti (Go LoadPrevMsgMulti). */
  loadPrevMsgMulti(filters: readonly string[], start: number): StoredMsg | undefined;
  /**
   * The last sequence of each subject matching any of `filters`, at or below `maxSeq` (0 = last), sorted;
   * throws StoreError "too_many_results" past `maxAllowed` (0 = no limit). Added with MemStore (Go
   * MultiLastSeqs, used by batched direct gets).
   */
  multiLastSeqs(filters: string[], maxSeq: number, maxAllowed: number): number[];
  /**
   * The last message of each subject matching any of `filters`, at or below `maxSeq` (0 = last), handed to
   * `cb` in sequence order, skipping those below `minSeq`. `np` is the number of messages still to come
   * after this one; `cb` returns false to stop. Returns `total`, the number of subjects found (those below
   * `minSeq` included), and `np` where delivery stopped (0 when it ran to the end). Throws StoreError
   * "too_many_results", before delivering anything, when `total` is past `maxAllowed` (<= 0 = no limit)
   * (Go MultiLastMsgs).
   */
  multiLastMsgs(
    filters: string[],
    minSeq: number,
    maxSeq: number,
    maxAllowed: number,
    cb: (sm: StoredMsg, np: number) => boolean,
  ): { total: number; np: number };

  /** Removes a message; false when it was not there. */
  removeMsg(seq: number): boolean;
  /** Removes and overwrites a message's bytes (secure delete); false when it was not there. */
  eraseMsg(seq: number): boolean;
  /** Removes everything; returns the number purged. The next sequence stays where it was. */
  purge(): number;
  /**
   * Purges messages on `subject` (wildcards allowed; "" = all) below sequence `seq` (0 = no bound), keeping
   * the newest `keep` per the filter (0 = none). Returns the number purged.
   */
  purgeEx(subject: string, seq: number, keep: number): number;
  /** Removes all messages below `seq`; returns the number removed. */
  compact(seq: number): number;
  /**
   * Removes all messages above `seq`, which becomes the last sequence; 0 resets the store to empty.
   * Throws StoreError "invalid_sequence" when `seq` is past the last sequence.
   */
  truncate(seq: number): void;
  /**
   * With `on`, stores stop removing old messages for max_msgs, max_bytes and max_msgs_per_subject (discard
   * old) until called again without: then they catch up at once. Discard-new refusals go on as usual. An
   * atomic batch holds them so that a batch refused half way, and truncated back, has removed nothing.
   */
  holdLimits(on: boolean): void;

  /** The first sequence stored at or after `tsNs`. */
  getSeqFromTime(tsNs: bigint): number;
  /** Counts of messages matching `subject` at or after `seq`. */
  filteredState(seq: number, subject: string): SimpleState;
  /** Per-subject counts for subjects matching `filter` ("" or ">" = all). */
  subjectsState(filter: string): Map<string, SimpleState>;
  /** Per-subject message totals for subjects matching `filter`. */
  subjectsTotals(filter: string): Map<string, number>;
  /**
   * Messages at or after `sseq` matching `filter`; with `lastPerSubject`, only the last of each subject.
   * `validThrough` is the last sequence the count covers.
   */
  numPending(sseq: number, filter: string, lastPerSubject: boolean): { total: number; validThrough: number };
  /**
   * numPending over several filters: messages at or after `sseq` whose subject matches any of `filters` (an
   * empty list, or one that holds "" or ">", matches all), each subject counted once even when several
   * filters match it; with `lastPerSubject`, one per subject whose last message is at or after `sseq`. Go
   * NumPendingMulti takes a sublist of the filters; here they are the consumer's filter subjects as given.
   */
  numPendingMulti(
    sseq: number,
    filters: readonly string[],
    lastPerSubject: boolean,
  ): { total: number; validThrough: number };
  /** Full state, with the deleted list. */
  state(): StreamState;
  /** State without the deleted list (cheap). */
  fastState(): StreamState;
  type(): StorageType;

  registerStorageUpdates(cb: StorageUpdateHandler): void;
  /** Applies new limits, enforcing them at once. */
  updateConfig(cfg: StoreConfig): void;
  /** Stops and removes all data. */
  delete(): void;
  /** Stops, keeping data (FileStore flushes). */
  stop(): void;

  /** A store for a consumer's state (delivered, acks, redeliveries). */
  consumerStore(name: string, cfg: ConsumerStoreConfig): ConsumerStore;
}

/** What a consumer store needs of the consumer's config. */
export interface ConsumerStoreConfig {
  /** Acks: "none", "all" or "explicit". */
  ackPolicy: "none" | "all" | "explicit";
  durable: boolean;
  /** max_deliver: a delivery past it leaves pending (0 or -1 = unlimited). Added with MemStore. */
  maxDeliver?: number;
}

/** A pair of consumer and stream sequences. */
export interface SequencePair {
  consumerSeq: number;
  streamSeq: number;
}

/** A consumer's durable state. */
export interface ConsumerState {
  delivered: SequencePair;
  ackFloor: SequencePair;
  /** Pending acks: stream sequence → { consumer sequence, delivery time ns }. */
  pending: Map<number, { seq: number; ts: bigint }>;
  /** Stream sequence → redelivery count (only for messages delivered more than once). */
  redelivered: Map<number, number>;
}

/** A consumer's state store. */
export interface ConsumerStore {
  setStarting(sseq: number): void;
  hasState(): boolean;
  /** Records a delivery (dc = delivery count); throws StoreError "no_ack_policy" for a redelivery with ack none. */
  updateDelivered(dseq: number, sseq: number, dc: number, ts: bigint): void;
  /** Records an ack; throws StoreError "no_ack_policy" (ack none) or "not_found" (not pending). */
  updateAcks(dseq: number, sseq: number): void;
  /** Replaces the state (raft snapshots); throws StoreError "bad_state" when it is inconsistent or older. */
  update(state: ConsumerState): void;
  /** Applies a changed consumer config (ack policy, max_deliver). Added with MemStore. */
  updateConfig(cfg: ConsumerStoreConfig): void;
  /** A copy of the state. */
  state(): ConsumerState;
  /** Resolves when the state is durable (FileStore); undefined when it already is. */
  flushed(): Promise<void> | undefined;
  stop(): void;
  delete(): void;
}
