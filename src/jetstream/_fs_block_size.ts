// FileStore block size tuned to a stream's limits; behaviour follows nats-server server/stream.go
// (autoTuneFileStorageBlockSize, maxMsgSize) and server/filestore.go (fileStoreMsgSizeEstimate).

import type { StoreConfig } from "../store/mod.ts";
import { subjectIsLiteral } from "../sublist/mod.ts";

const MIN_BLOCK = 32_000;
const MEDIUM_BLOCK = 4 * 1024 * 1024;
const MAX_BLOCK = 8 * 1024 * 1024;
/** Record header and checksum of one stored message. */
const EMPTY_RECORD = 30;
const DEFAULT_MAX_SUBJECT = 256;

/**
 * The block size for a file stream: 25% of its byte limit (max_bytes, or max_msgs times the largest message it
 * may hold) rounded up to 100, then the minimum, 4 MiB or the maximum; 4 MiB for a per-subject limit only;
 * undefined (the store's default) without limits.
 * @param maxPayload the account's max payload, for streams without max_msg_size
 */
export function autoTuneBlockSize(cfg: StoreConfig, maxPayload: number): number | undefined {
  let total: number;
  if (cfg.maxBytes > 0) total = cfg.maxBytes;
  else if (cfg.maxMsgs > 0) total = maxMsgSizeEstimate(cfg, maxPayload) * cfg.maxMsgs;
  else if (cfg.maxMsgsPerSubject > 0) return MEDIUM_BLOCK;
  else return undefined;
  let blk = Math.floor(total / 4) + 1;
  const m = blk % 100;
  if (m !== 0) blk += 100 - m;
  if (blk <= MIN_BLOCK) return MIN_BLOCK;
  if (blk >= MAX_BLOCK) return MAX_BLOCK;
  return MEDIUM_BLOCK;
}

function maxMsgSizeEstimate(cfg: StoreConfig, maxPayload: number): number {
  const payload = cfg.maxMsgSize > 0 ? cfg.maxMsgSize : maxPayload > 0 ? maxPayload : 1024 * 1024;
  let maxSubject = -1;
  for (const s of cfg.subjects) if (subjectIsLiteral(s) && s.length > maxSubject) maxSubject = s.length;
  if (maxSubject < 0) maxSubject = DEFAULT_MAX_SUBJECT;
  return EMPTY_RECORD + maxSubject + 4 + payload;
}
