// Account resolvers: where the server finds account JWTs by public key. MEMORY (a map, preloadable) and the
// full directory resolver (`<dir>/<account>.jwt`, XOR-of-SHA-256 store hash, pack/merge, delete by rename);
// behaviour follows nats-server server/accounts.go (MemAccResolver, DirAccResolver) and server/dirstore.go.
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { decodeGeneric } from "./jwt.ts";
import { decodePublicNkey, NKEY_PREFIX } from "./nkey.ts";

/** nats-server's ErrMissingAccount text. */
export const ERR_MISSING_ACCOUNT = "account missing";
const FILE_EXT = ".jwt";

/** Finds account JWTs by account public key. Calls are synchronous (memory or local files). */
export interface AccountResolver {
  /** "MEMORY", "FULL" or "URL", as the config names it. */
  readonly kind: string;
  /** Preloads and `Store` are refused by read-only resolvers. */
  readonly readOnly: boolean;
  /** True when the resolver itself handles `$SYS` claim updates (the full resolver). */
  readonly trackingUpdate: boolean;
  /** The JWT for `name`; throws Error("account missing") when absent. */
  fetch(name: string): string;
  /** Stores a JWT; throws with the reference's text when refused. */
  store(name: string, jwt: string): void;
  close(): void;
}

/** The memory resolver: a map, filled by `resolver_preload` and claim updates (nats-server MemAccResolver). */
export class MemAccResolver implements AccountResolver {
  readonly kind = "MEMORY";
  readonly readOnly = false;
  readonly trackingUpdate = false;
  readonly #m = new Map<string, string>();

  fetch(name: string): string {
    const j = this.#m.get(name);
    if (j === undefined) throw new Error(ERR_MISSING_ACCOUNT);
    return j;
  }

  store(name: string, jwt: string): void {
    this.#m.set(name, jwt);
  }

  close(): void {}
}

/** Options of the full directory resolver (`resolver {type: full, …}`). */
export interface DirResolverOptions {
  dir: string;
  /** Most JWTs kept; 0 for no limit. */
  limit?: number;
  /** Pack-sync interval with other servers (ms); default one minute. */
  syncIntervalMs?: number;
  /** `allow_delete`: CLAIMS.DELETE renames `<key>.jwt` to `<key>.jwt.deleted`. */
  allowDelete?: boolean;
  /** `hard_delete` (with allow_delete): delete the file instead of renaming it. */
  hardDelete?: boolean;
  /** Fetch timeout from other servers (ms); default 1.9 s as nats-server. */
  fetchTimeoutMs?: number;
}

function isAccountKey(k: string): boolean {
  return decodePublicNkey(k)?.prefix === NKEY_PREFIX.account;
}

function isPublicKey(k: string): boolean {
  return decodePublicNkey(k) !== undefined;
}

function sha256(s: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(s).digest());
}

/**
 * The full resolver's store: one `<account>.jwt` file per account in `dir`, an index of their SHA-256
 * hashes whose XOR is the store hash exchanged in CLAIMS.PACK. Writes are synchronous, as a JWT is small and
 * updates are rare; `onChanged`/`onDeleted` let the server apply the change to a live account.
 */
export class DirAccResolver implements AccountResolver {
  readonly kind = "FULL";
  readonly readOnly = false;
  readonly trackingUpdate = true;
  readonly dir: string;
  readonly limit: number;
  readonly syncIntervalMs: number;
  readonly fetchTimeoutMs: number;
  readonly deleteType: "none" | "rename" | "hard";
  /** Called after a JWT for `pub` was written with new content. */
  onChanged: ((pub: string) => void) | undefined;
  /** Called after `pub` was deleted. */
  onDeleted: ((pub: string) => void) | undefined;
  /** Operator keys allowed to sign delete requests (set by the server at start). */
  operatorKeys = new Set<string>();

  readonly #index = new Map<string, Uint8Array>();
  readonly #hash = new Uint8Array(32);

  /** Opens (creating) the directory and indexes the JWTs in it. */
  constructor(o: DirResolverOptions) {
    this.dir = o.dir;
    this.limit = o.limit && o.limit > 0 ? o.limit : Number.MAX_SAFE_INTEGER;
    this.syncIntervalMs = o.syncIntervalMs && o.syncIntervalMs > 0 ? o.syncIntervalMs : 60_000;
    this.fetchTimeoutMs = o.fetchTimeoutMs ?? 1_900;
    this.deleteType = !o.allowDelete ? "none" : o.hardDelete ? "hard" : "rename";
    mkdirSync(o.dir, { recursive: true, mode: 0o755 });
    for (const f of readdirSync(o.dir)) {
      if (!f.endsWith(FILE_EXT)) continue;
      try {
        this.#track(f.slice(0, -FILE_EXT.length), sha256(readFileSync(join(o.dir, f), "utf8")));
      } catch {
        // Unreadable files are skipped, as nats-server does.
      }
    }
  }

  #track(pub: string, h: Uint8Array): void {
    const old = this.#index.get(pub);
    if (old !== undefined) xorInto(this.#hash, old);
    this.#index.set(pub, h);
    xorInto(this.#hash, h);
  }

  #untrack(pub: string): void {
    const old = this.#index.get(pub);
    if (old === undefined) return;
    xorInto(this.#hash, old);
    this.#index.delete(pub);
  }

  #path(pub: string): string | undefined {
    if (pub.length < 2 || !isPublicKey(pub)) return undefined;
    return join(this.dir, pub + FILE_EXT);
  }

  /** The XOR of the SHA-256 of every indexed JWT (all zero when empty). */
  hash(): Uint8Array {
    return this.#hash.slice();
  }

  /** Number of JWTs indexed. */
  get size(): number {
    return this.#index.size;
  }

  fetch(name: string): string {
    const j = this.load(name);
    if (j === undefined) throw new Error(ERR_MISSING_ACCOUNT);
    return j;
  }

  /** The stored JWT of `pub`, or undefined. */
  load(pub: string): string | undefined {
    const p = this.#path(pub);
    if (p === undefined) return undefined;
    try {
      return readFileSync(p, "utf8");
    } catch {
      return undefined;
    }
  }

  /** Writes `jwt` for `pub`; true when the content changed. Throws "jwt store is full" past the limit. */
  #write(path: string, pub: string, jwt: string): boolean {
    const h = sha256(jwt);
    const old = this.#index.get(pub);
    if (old !== undefined) {
      if (equalBytes(old, h)) return false;
    } else if (this.#index.size >= this.limit) throw new Error("jwt store is full");
    writeFileSync(path, jwt, { mode: 0o644 });
    this.#track(pub, h);
    return true;
  }

  /** Saves unconditionally (claim updates already validated); calls onChanged when the content changed. */
  save(pub: string, jwt: string): void {
    const path = this.#path(pub);
    if (path === undefined) throw new Error("invalid public key");
    if (!existsSync(this.dir)) mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    if (this.#write(path, pub, jwt)) this.onChanged?.(pub);
  }

  /** Saves only when newer than what is stored (by `iat`; same `jti` is a no-op), as Store and Merge do. */
  store(pub: string, jwt: string): void {
    const path = this.#path(pub);
    if (path === undefined) throw new Error("invalid public key");
    if (existsSync(path)) {
      const next = decodeGeneric(jwt);
      let existing;
      try {
        existing = decodeGeneric(readFileSync(path, "utf8"));
      } catch {
        existing = undefined;
      }
      if (existing !== undefined) {
        if (existing.jti === next.jti) return;
        if ((existing.iat ?? 0) > (next.iat ?? 0)) return;
        if (next.sub !== pub) throw new Error("jwt subject nkey and provided nkey do not match");
        if (existing.sub !== next.sub) throw new Error("subject of existing and new jwt do not match");
      }
    }
    if (this.#write(path, pub, jwt)) this.onChanged?.(pub);
  }

  /** Deletes `pub` (rename to .deleted, or remove with hard delete); throws when deletes are off. */
  delete(pub: string): void {
    if (this.deleteType === "none") throw new Error("store is not set up to for delete");
    const path = this.#path(pub);
    if (path === undefined) throw new Error("invalid public key");
    try {
      if (this.deleteType === "rename") renameSync(path, path + ".deleted");
      else rmSync(path);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return;
      throw e;
    }
    this.#untrack(pub);
    this.onDeleted?.(pub);
  }

  /** Account keys with a stored JWT. */
  list(): string[] {
    return [...this.#index.keys()];
  }

  /** Calls `cb` with "key|jwt" lines, `max` per call, for every stored JWT (CLAIMS.PACK responses). */
  packWalk(max: number, cb: (pack: string) => void): void {
    let batch: string[] = [];
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith(FILE_EXT) || statSync(join(this.dir, f)).isDirectory()) continue;
      const pub = f.slice(0, -FILE_EXT.length);
      if (!this.#index.has(pub)) continue;
      batch.push(`${pub}|${readFileSync(join(this.dir, f), "utf8")}`);
      if (batch.length === max) {
        cb(batch.join("\n"));
        batch = [];
      }
    }
    if (batch.length > 0) cb(batch.join("\n"));
  }

  /** Stores every newer JWT of a pack ("key|jwt" lines). */
  merge(pack: string): void {
    for (const line of pack.split("\n")) {
      if (line === "") continue;
      const parts = line.split("|");
      if (parts.length !== 2) {
        throw new Error(`line in package didn't contain 2 entries: ${JSON.stringify(line)}`);
      }
      if (!isAccountKey(parts[0])) throw new Error("key to merge is not a valid public account key");
      this.store(parts[0], parts[1]);
    }
  }

  close(): void {}
}

function xorInto(acc: Uint8Array, h: Uint8Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] ^= h[i];
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
