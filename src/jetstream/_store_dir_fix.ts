// Store directory repair at JetStream start; behaviour follows nats-server server/jetstream.go (checkStoreDir).
// Servers once kept account directories right in store_dir; when <store_dir>/jetstream is empty and account
// directories sit next to it, they are moved into it.

import * as fs from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Moves account directories found next to `jsDir` (the `jetstream` dir) into it when `jsDir` is empty or missing.
 * @param isAccount tells whether a directory name is a known account
 */
export function fixStoreDir(jsDir: string, isAccount: (name: string) => boolean): void {
  let under: string[] = [];
  try {
    under = fs.readdirSync(jsDir);
  } catch {
    // Missing: a first start, or the old layout.
  }
  if (under.length !== 0) return;
  const parent = dirname(jsDir);
  let above: string[];
  try {
    above = fs.readdirSync(parent);
  } catch {
    return;
  }
  const own = basename(jsDir);
  for (const name of above) {
    if (name === own || !isAccount(name)) continue;
    fs.mkdirSync(jsDir, { recursive: true });
    try {
      fs.renameSync(join(parent, name), join(jsDir, name));
    } catch {
      // As the reference: a failed move leaves that account where it was.
    }
  }
}
