// The commit journal of atomic batches on file streams. An atomic batch is stored message by message; a crash
// (or power loss) part way through leaves its first records in the block and the rest gone, which would show
// half a batch after a restart. Before a batch is applied, its first sequence and size are written and
// fsynced to `<stream dir>/batch.wal`; at recovery a stream whose last sequence stops inside the journaled
// batch is truncated back to where the batch began. The client of such a batch never got its PubAck (that
// waits for the whole batch to be fsynced), so nothing acknowledged is taken back.
//
// A batch that was stored whole leaves the last sequence at or past its end, whatever is removed later
// (removals keep the last sequence), so the journal needs no clearing: the next batch overwrites it.

import * as fs from "node:fs";
import { join } from "node:path";

const FILE = "batch.wal";
/** Magic, version, then first sequence before the batch and message count, little endian. */
const MAGIC = 0x42;
const VERSION = 1;
const SIZE = 2 + 8 + 8;

/** An open journal of one stream directory. */
export class BatchWal {
  readonly #path: string;
  #fd = -1;
  readonly #buf = new Uint8Array(SIZE);

  constructor(dir: string) {
    this.#path = join(dir, FILE);
  }

  /** Records that the batch after `start` has `count` messages; durable when this returns. */
  begin(start: number, count: number): void {
    if (this.#fd < 0) {
      const created = !fs.existsSync(this.#path);
      this.#fd = fs.openSync(this.#path, "w", 0o600);
      // A new file's directory entry must be durable too.
      if (created) syncDir(join(this.#path, ".."));
    }
    const b = this.#buf;
    const dv = new DataView(b.buffer);
    b[0] = MAGIC;
    b[1] = VERSION;
    dv.setBigUint64(2, BigInt(start), true);
    dv.setBigUint64(10, BigInt(count), true);
    fs.writeSync(this.#fd, b, 0, SIZE, 0);
    fs.fsyncSync(this.#fd);
  }

  close(): void {
    if (this.#fd < 0) return;
    try {
      fs.closeSync(this.#fd);
    } catch {
      // Already closed with the store.
    }
    this.#fd = -1;
  }
}

function syncDir(dir: string): void {
  let fd = -1;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories.
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/**
 * The sequence to truncate a recovered stream back to when its last journaled batch is incomplete (its
 * last sequence `lastSeq` is past the batch's start and short of its end), else undefined.
 */
export function tornBatchStart(dir: string, lastSeq: number): number | undefined {
  let b: Uint8Array;
  try {
    b = fs.readFileSync(join(dir, FILE));
  } catch {
    return undefined;
  }
  if (b.length < SIZE || b[0] !== MAGIC || b[1] !== VERSION) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const start = Number(dv.getBigUint64(2, true));
  const count = Number(dv.getBigUint64(10, true));
  return lastSeq > start && lastSeq < start + count ? start : undefined;
}
