// Shared helpers of the FileStore ports of nats-server server/filestore_test.go (filestore_go2/3_test.ts):
// a store in a temp directory that can be reopened, the cipher × compression permutations of Go's
// testFileStoreAllPermutations, and readers of the files a store leaves on disk.
import { FileStore, type FileStoreOptions, type FsEncryption } from "../../src/store/filestore.ts";
import { type StoreConfig, StoreError, type StreamState } from "../../src/store/store.ts";
import { sha256Key } from "../../src/store/_fs_crypto.ts";
import { type Rec, scanBlock } from "../../src/store/msg_block.ts";
import { storeConfig } from "./store_suite.ts";
import { delay } from "../_helpers/server.ts";

export const QUIET = { warn: () => {}, error: () => {} };

/** The code of the StoreError `fn` throws ("" when it throws none); other errors are rethrown. */
export function storeErrCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof StoreError) return err.code;
    throw err;
  }
  return "";
}

/** One of Go's store permutations (cipher × compression). */
export interface Perm {
  name: string;
  enc?: FsEncryption;
  comp: "none" | "s2";
}

const AES: FsEncryption = { key: "dlc22", cipher: "aes", account: "$G" };
const CHACHA: FsEncryption = { key: "dlc22", cipher: "chachapoly", account: "$G" };

export const PERMS: Perm[] = [
  { name: "none-none", comp: "none" },
  { name: "none-s2", comp: "s2" },
  { name: "aes-none", enc: AES, comp: "none" },
  { name: "aes-s2", enc: AES, comp: "s2" },
  { name: "chacha-none", enc: CHACHA, comp: "none" },
  { name: "chacha-s2", enc: CHACHA, comp: "s2" },
];
export const PLAIN = PERMS[0];
export { AES as AES_ENC };

/** A FileStore in its own temp directory, reopened with the same (or changed) config. */
export class Ctx {
  readonly dir: string;
  cfg: StoreConfig;
  opts: Partial<FileStoreOptions>;
  fs: FileStore;
  damage: { file: string; seq: number; what: string }[] = [];

  constructor(over: Partial<StoreConfig>, opts: Partial<FileStoreOptions>, readonly perm: Perm = PLAIN) {
    this.dir = Deno.makeTempDirSync({ prefix: "natsdeno-fsgo2-" });
    this.cfg = storeConfig({ storage: "file", compression: perm.comp, ...over });
    this.opts = { encryption: perm.enc, ...opts };
    this.fs = this.mk();
  }

  mk(): FileStore {
    const fs = new FileStore(this.cfg, { dir: this.dir, logger: QUIET, ...this.opts });
    this.damage.push(...fs.damage);
    return fs;
  }

  /** Stops the store and opens it again; `over`/`opts` change the config from now on. */
  reopen(over: Partial<StoreConfig> = {}, opts: Partial<FileStoreOptions> = {}): FileStore {
    this.fs.stop();
    this.cfg = { ...this.cfg, ...over };
    this.opts = { ...this.opts, ...opts };
    this.fs = this.mk();
    return this.fs;
  }

  get mdir(): string {
    return `${this.dir}/msgs`;
  }

  /** Indexes of the block files on disk, ascending. */
  blockFiles(): number[] {
    return [...Deno.readDirSync(this.mdir)].map((e) => /^(\d+)\.blk$/.exec(e.name)).filter((m) => m !== null)
      .map((m) => Number(m![1])).sort((a, b) => a - b);
  }

  blockPath(idx: number): string {
    return `${this.mdir}/${idx}.blk`;
  }

  /** natsdeno's blocks.db (the role of the reference's index.db), or undefined. */
  readIndex(): Uint8Array | undefined {
    try {
      return Deno.readFileSync(`${this.mdir}/blocks.db`);
    } catch {
      return undefined;
    }
  }

  writeIndex(buf: Uint8Array | undefined): void {
    if (buf === undefined) this.rmIndex();
    else Deno.writeFileSync(`${this.mdir}/blocks.db`, buf);
  }

  rmIndex(): void {
    try {
      Deno.removeSync(`${this.mdir}/blocks.db`);
    } catch {
      // Not written.
    }
  }

  /** The records of a plain (unencrypted, uncompressed) block file. */
  records(idx: number): Rec[] {
    const out: Rec[] = [];
    const data = Deno.readFileSync(this.blockPath(idx));
    scanBlock(data, sha256Key(`${this.cfg.name}-${idx}`), (r) => out.push({ ...r }), () => {}, false);
    return out;
  }

  close(): void {
    this.fs.stop();
    Deno.removeSync(this.dir, { recursive: true });
  }
}

/** Runs `fn` on a fresh store; always stops it and removes its directory. */
export async function withFs(
  over: Partial<StoreConfig>,
  fn: (fs: FileStore, ctx: Ctx) => unknown,
  opts: Partial<FileStoreOptions> = {},
  perm: Perm = PLAIN,
): Promise<void> {
  const ctx = new Ctx(over, opts, perm);
  try {
    await fn(ctx.fs, ctx);
  } finally {
    try {
      ctx.close();
    } catch {
      // Already stopped and removed by the test.
    }
  }
}

/** A Deno.test running `fn` once per permutation (Go's testFileStoreAllPermutations), as steps. */
export function permTest(
  name: string,
  over: Partial<StoreConfig>,
  fn: (fs: FileStore, ctx: Ctx) => unknown,
  opts: Partial<FileStoreOptions> = {},
  perms: Perm[] = PERMS,
): void {
  Deno.test(name, async (t) => {
    for (const p of perms) await t.step(p.name, () => withFs(over, fn, opts, p));
  });
}

/** A Go test that cannot run here; `why` says what it needs. */
export function blocked(name: string, why: string): void {
  Deno.test({ name: `${name}: ${why}`, ignore: true, fn() {} });
}

/** Lets the store's maintenance pass (setImmediate) run. */
export function settle(ms = 30): Promise<void> {
  return delay(ms);
}

/** A payload of `n` bytes of `c`. */
export function fill(n: number, c = "Z"): Uint8Array {
  return new Uint8Array(n).fill(c.charCodeAt(0));
}

/** Length of a plain record on disk (the reference's fileStoreMsgSize). */
export function recLen(subj: string, msgLen: number, hdrLen = -1): number {
  return 22 + subj.length + (hdrLen >= 0 ? 4 + hdrLen : 0) + msgLen + 8;
}

/**
 * The bytes a FileStore counts per message in state().bytes, as the reference's file streams do: its
 * fileStoreMsgSize (the plain record length; `hdrLen` 0 means no headers).
 */
export function msgBytes(subj: string, msgLen: number, hdrLen = 0): number {
  return recLen(subj, msgLen, hdrLen > 0 ? hdrLen : -1);
}

/** The wall clock in ns, as stores take times. */
export const now = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** State without the fields a restart may legitimately change (none today); for deep comparisons. */
export function st(s: StreamState): StreamState {
  return { ...s, deleted: s.deleted ?? [] };
}
