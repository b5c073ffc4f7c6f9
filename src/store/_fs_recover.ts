// FileStore recovery: the blocks are replayed in order into the in-memory index with limits off. Checksums
// are verified unless blocks.db vouches for the whole file; a mismatching record is reported (file,
// sequence) and skipped, so it is never served; a torn tail of the last block is cut at the last whole
// record. Behaviour follows nats-server server/filestore.go (recoverMsgs, rebuildState); the op records
// replayed here are natsdeno's own (msg_block.ts).

import * as fs from "node:fs";
import { join } from "node:path";
import { type Block, type BlockFiles, newBlockMeta, readBlockFile } from "./_fs_blocks.ts";
import type { BlockReads } from "./_fs_reads.ts";
import {
  OP_COMPACT,
  OP_LAST,
  OP_SKIP,
  OP_TRUNCATE,
  OP_TTL,
  RK_ERASED,
  RK_MSG,
  RK_OP,
  RK_TOMB,
  scanBlock,
  subjString,
} from "./msg_block.ts";
import type { SimpleState, StreamState } from "./store.ts";

/** What replay needs of the store being rebuilt (MemStore methods, some protected, bound by FileStore). */
export interface ReplayTarget {
  fastState(): StreamState;
  filteredState(seq: number, subject: string): SimpleState;
  storeRawMsg(
    subject: string,
    hdr: Uint8Array | undefined,
    msg: Uint8Array,
    seq: number,
    ts: bigint,
    ttlNs: bigint,
    discardNewCheck: boolean,
  ): void;
  skipAt(seq: number, num: number, ts: bigint): void;
  removeMsg(seq: number): boolean;
  compact(seq: number): number;
  truncate(seq: number): void;
}

/**
 * The block writes continue in (undefined: a new block is needed) and its plain length; the stream's first
 * sequence and interior removals at the last clean stop (blocks.db), to be applied again by the store when
 * the records holding them were lost.
 */
export interface Recovered {
  active: Block | undefined;
  pos: number;
  stop: { first: number; deleted: number[] } | undefined;
}

/**
 * Replays every block file of `files.mdir` into `t`; fills `files.blocks`. In an encrypted store, a block
 * without a key of its own is plain (the store was written without encryption): it is encrypted first
 * (BlockFiles.encryptPlain) and `onEncrypt` is called; a failure there fails the open, the block as it was.
 */
export function recoverBlocks(
  files: BlockFiles,
  reads: BlockReads,
  t: ReplayTarget,
  onEncrypt?: () => void,
): Recovered {
  files.loadSealed();
  const names = fs.readdirSync(files.mdir);
  const idxs: number[] = [];
  // A block's <N>.key.tmp and <N>.key.prev (a rewrite cut short) are weighed by loadKey, then removed.
  const companions: string[] = [];
  for (const n of names) {
    if (/^\d+\.key\.(tmp|prev)$/.test(n)) companions.push(n);
    else if (n.endsWith(".tmp")) fs.rmSync(join(files.mdir, n), { force: true });
    const m = /^(\d+)\.blk$/.exec(n);
    if (m !== null) idxs.push(Number(m[1]));
  }
  idxs.sort((a, b) => a - b);
  if (idxs.length > 0) files.maxIdx = idxs[idxs.length - 1];
  let lastPlainLen = 0;
  // One read buffer for every block: replay copies what the index keeps, and a new 8 MiB buffer per block
  // would wait for a GC each.
  let spare: Uint8Array | undefined;
  let encrypted = 0;
  for (let i = 0; i < idxs.length; i++) {
    const b = newBlockMeta(idxs[i]);
    const isLast = i === idxs.length - 1;
    const file = files.path(b.idx);
    const want = files.sealed.get(b.idx);
    let raw: Uint8Array;
    let trusted = false;
    try {
      raw = readBlockFile(file, (n) => spare !== undefined && spare.length >= n ? spare : undefined);
    } catch (err) {
      files.damaged(file, 0, `unreadable block: ${(err as Error).message}`);
      continue;
    }
    if (want !== undefined) {
      if (want.s === raw.length && want.h === files.fileHash(raw)) trusted = true;
      else if (want.a === undefined && want.s !== raw.length) {
        files.damaged(file, 0, `block is ${raw.length} bytes, expected ${want.s} (truncated or overwritten)`);
      }
    }
    let data: Uint8Array;
    let plain = false;
    try {
      if (files.keys !== undefined) {
        b.bk = files.loadKey(b.idx, raw);
        plain = b.bk === undefined;
      }
    } catch (err) {
      files.damaged(file, 0, `unreadable block: ${(err as Error).message}`);
      files.blocks.push(b);
      continue;
    }
    if (plain) {
      // Outside the damage reports: a block that cannot be encrypted now (ENOSPC) fails the open.
      onEncrypt?.();
      raw = files.encryptPlain(b, raw);
      encrypted++;
    }
    try {
      data = files.read(b, raw);
    } catch (err) {
      files.damaged(file, 0, `unreadable block: ${(err as Error).message}`);
      files.blocks.push(b);
      continue;
    }
    files.blocks.push(b);
    // Recorded at a clean stop with this very size: a failed parse is damage, never a torn write.
    const sizeKnown = want !== undefined && want.s === raw.length;
    const rp = replayBlock(files, t, b, data, isLast, trusted, sizeKnown);
    lastPlainLen = rp.kept;
    // A damaged last block is not appended to (later records would sit behind the damage): it is sealed and
    // rewritten without the damage by maintenance, and a new block takes the writes.
    if (!isLast || b.compressed || b.damaged) {
      reads.detach(b, rp.seqs, rp.offs, trusted ? want!.h : files.fileHash(raw));
    }
    if (!isLast) spare = new Uint8Array(raw.buffer);
  }
  for (const n of companions) fs.rmSync(join(files.mdir, n), { force: true });
  // The converted blocks' new hashes (a blocks.db left with the plain ones only costs a full check).
  if (encrypted > 0 && files.sealed.size > 0) files.saveSealed();
  // Blocks blocks.db knows of that are gone from the directory: their messages are lost. The entries are
  // forgotten once reported (blocks.db is rewritten with the next seal).
  const onDisk = new Set(idxs);
  let stopped: { l: number; t: string; idx: number; f?: number; d?: number[] } | undefined;
  for (const [idx, e] of [...files.sealed]) {
    if (e.l !== undefined && e.t !== undefined && (stopped === undefined || e.l > stopped.l)) {
      stopped = { l: e.l, t: e.t, idx, f: e.f, d: e.d };
    }
    if (onDisk.has(idx)) continue;
    files.damaged(files.path(idx), 0, "block file missing; its messages are lost");
    files.sealed.delete(idx);
  }
  // The last sequence at the last clean stop is kept even when the records holding it are gone (the last
  // block cut short or lost): sequences are never handed out twice.
  if (stopped !== undefined) {
    const st = t.fastState();
    if (stopped.l > st.lastSeq) {
      files.damaged(
        files.path(stopped.idx),
        st.lastSeq + 1,
        `records up to sequence ${stopped.l} missing (block cut short or lost)`,
      );
      t.skipAt(st.lastSeq + 1, stopped.l - st.lastSeq, BigInt(stopped.t));
    }
  }
  const last = files.blocks[files.blocks.length - 1];
  countLive(files.blocks, t);
  const stop = stopped !== undefined && typeof stopped.f === "number"
    ? { first: stopped.f, deleted: Array.isArray(stopped.d) ? stopped.d : [] }
    : undefined;
  if (last === undefined || last.compressed || last.damaged) return { active: undefined, pos: 0, stop };
  return { active: last, pos: lastPlainLen, stop };
}

/** Sets each block's count of messages still stored. */
function countLive(blocks: Block[], t: ReplayTarget): void {
  for (const b of blocks) {
    if (b.msgs === 0) {
      b.live = 0;
      continue;
    }
    const a = t.filteredState(b.first, "").msgs;
    const c = t.filteredState(b.last + 1, "").msgs;
    b.live = a - c;
  }
}

interface Pending {
  seq: number;
  ts: bigint;
  subj: Uint8Array;
  hdr: Uint8Array | undefined;
  msg: Uint8Array;
  off: number;
}

/**
 * Replays a block's records. Returns the plain length kept (the tail is cut for the last block) and the
 * sequences and payload offsets of the messages replayed.
 */
function replayBlock(
  files: BlockFiles,
  t: ReplayTarget,
  b: Block,
  data: Uint8Array,
  isLast: boolean,
  trusted: boolean,
  sizeKnown: boolean,
): { kept: number; seqs: number[]; offs: number[] } {
  const file = files.path(b.idx);
  const seqs: number[] = [];
  const offs: number[] = [];
  const bad: { off: number; seq: number }[] = [];
  let pend: Pending | undefined;
  let ends = 0;
  const flushPend = (ttl: bigint) => {
    const p = pend!;
    pend = undefined;
    if (replayMsg(files, t, p, ttl, file)) {
      seqs.push(p.seq);
      offs.push(p.off);
    }
  };
  const stop = scanBlock(data, files.blockKey(b.idx), (r) => {
    ends = r.off + r.len;
    if (r.kind === RK_MSG) {
      if (pend !== undefined) flushPend(0n);
      pend = {
        seq: r.seq,
        ts: r.ts,
        subj: r.subj,
        hdr: r.hdr,
        msg: r.msg,
        off: (r.hdr ?? r.msg).byteOffset - data.byteOffset,
      };
      if (b.first === 0) b.first = r.seq;
      b.last = r.seq;
      b.msgs++;
      return;
    }
    if (r.kind === RK_OP && r.msg[0] === OP_TTL && pend !== undefined && pend.seq === r.seq) {
      flushPend(new DataView(r.msg.buffer, r.msg.byteOffset + 1, 8).getBigInt64(0, true));
      return;
    }
    if (pend !== undefined) flushPend(0n);
    if (r.kind === RK_TOMB && r.seq > (b.tombHi ?? 0)) b.tombHi = r.seq;
    replayOther(t, r.kind, r.seq, r.ts, r.msg);
  }, (off, seq) => {
    bad.push({ off, seq });
  }, !trusted);
  if (pend !== undefined) flushPend(0n);
  // A partial or damaged final record of the last block with nothing after it is a torn write: cut it. Not
  // when blocks.db recorded this size at a clean stop (then it is damage), and never for an impossible length
  // (a crash leaves a short record, not a bad length field).
  const mayBeTorn = isLast && !sizeKnown;
  let cutAt = -1;
  if (mayBeTorn && stop !== undefined && stop.reason === "torn") cutAt = stop.off;
  if (mayBeTorn && bad.length > 0) {
    const lb = bad[bad.length - 1];
    const tailEnd = stop !== undefined ? stop.off : data.length;
    if (lb.off >= ends && (stop === undefined || lb.off < stop.off || tailEnd === lb.off)) {
      cutAt = lb.off;
      bad.pop();
    }
  }
  for (const x of bad) files.damaged(file, x.seq, "checksum mismatch; record dropped");
  if (bad.length > 0 || (stop !== undefined && !(isLast && cutAt >= 0))) b.damaged = true;
  if (stop !== undefined && !(isLast && cutAt >= 0)) {
    files.damaged(
      file,
      t.fastState().lastSeq + 1,
      `${stop.reason} record at offset ${stop.off}; rest of block dropped`,
    );
  }
  if (cutAt >= 0 && !b.compressed) {
    files.log?.warn(
      `filestore '${files.name}': cut torn tail of ${file} at ${cutAt} (${data.length - cutAt} bytes)`,
    );
    // Appends continue at the cut: an encrypted block is rewritten under a new keystream first (the torn
    // bytes were written with the keystream at those offsets).
    if (b.bk !== undefined) files.write(b, data.subarray(0, cutAt), false);
    else fs.truncateSync(file, cutAt + files.fileOff(b));
    return { kept: cutAt, seqs, offs };
  }
  return { kept: data.length, seqs, offs };
}

function replayMsg(files: BlockFiles, t: ReplayTarget, p: Pending, ttl: bigint, file: string): boolean {
  const last = t.fastState().lastSeq;
  if (p.seq <= last) {
    files.damaged(file, p.seq, "out-of-order record; dropped");
    return false;
  }
  if (p.seq > last + 1) t.skipAt(last + 1, p.seq - last - 1, p.ts);
  t.storeRawMsg(subjString(p.subj), p.hdr, p.msg, p.seq, p.ts, ttl, false);
  return true;
}

function replayOther(t: ReplayTarget, kind: number, seq: number, ts: bigint, data: Uint8Array): void {
  const st = t.fastState();
  if (kind === RK_TOMB) {
    // The message's own record may be gone (block rewrite); the sequence was used all the same.
    if (!t.removeMsg(seq) && seq > st.lastSeq) t.skipAt(st.lastSeq + 1, seq - st.lastSeq, ts);
    return;
  }
  if (kind === RK_ERASED) {
    if (seq > st.lastSeq) t.skipAt(st.lastSeq + 1, seq - st.lastSeq, ts);
    return;
  }
  switch (data[0]) {
    case OP_COMPACT:
      if (seq > st.firstSeq || st.msgs === 0) t.compact(seq);
      return;
    case OP_TRUNCATE:
      // Records of the removed messages are gone from the blocks; the last sequence is `seq`.
      if (seq <= st.lastSeq) t.truncate(seq);
      else t.skipAt(st.lastSeq + 1, seq - st.lastSeq, ts);
      return;
    case OP_SKIP: {
      const num = Number(new DataView(data.buffer, data.byteOffset + 1, 8).getBigUint64(0, true));
      const end = seq + num - 1;
      if (end > st.lastSeq) t.skipAt(st.lastSeq + 1, end - st.lastSeq, ts);
      return;
    }
    case OP_LAST:
      if (seq > st.lastSeq) t.skipAt(st.lastSeq + 1, seq - st.lastSeq, ts);
      return;
  }
}
