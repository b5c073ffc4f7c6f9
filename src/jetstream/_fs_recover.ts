// `storage: file` for JetStream: the FileStore factory (sync and encryption settings from the jetstream
// config), meta.inf persistence of stream and consumer configs, and recovery of an account's streams and
// consumers from <store_dir>/jetstream/<account>/streams/ when JetStream enables the account.
//
// Stream and consumer configs are saved by the API paths that create or update them (saveStreamMeta,
// saveConsumerMeta), before they answer: a config that cannot be saved refuses the request.

import * as fs from "node:fs";
import { basename, dirname, join } from "node:path";
import { FileStore, type FsEncryption, MemStore, type StoreConfig, type StreamStore } from "../store/mod.ts";
import type { JetStream, JsAccount } from "./jetstream.ts";
import { storeConfig, Stream } from "./stream.ts";
import { addConsumer } from "./_consumer_api.ts";
import { cfgContext, subscribeDirect } from "./_api.ts";
import { checkStreamCfg, type StreamConfig } from "./_stream_config.ts";
import { autoTuneBlockSize } from "./_fs_block_size.ts";
import { ApiError } from "./api_errors.ts";
import { isValidSubject } from "../sublist/mod.ts";
import type { ConsumerConfig } from "./_consumer_config.ts";
import { parseMetaJson } from "./_fs_meta_json.ts";
import { tornBatchStart } from "./_batch_wal.ts";

/** The encryption settings of the jetstream config for `account`, or undefined. */
export function fsEncryption(js: JetStream, account: string): FsEncryption | undefined {
  const o = js.server.opts.jetStreamOpts;
  if (!o.key) return undefined;
  return { key: o.key, prevKey: o.prevKey || undefined, cipher: o.cipher, account };
}

/** The default store factory: MemStore for memory, FileStore under `dir` for file storage. */
export function defaultStoreFor(js: JetStream): (cfg: StoreConfig, dir: string) => StreamStore {
  return (cfg, dir) => {
    if (cfg.storage === "memory") return new MemStore(cfg);
    const o = js.server.opts.jetStreamOpts;
    const log = js.server.log;
    const encryption = fsEncryption(js, basename(dirname(dirname(dir))));
    // Tuned to the stream's limits; encrypted blocks stay within the store's encrypted maximum.
    let blockSize = autoTuneBlockSize(cfg, js.server.maxPayload);
    if (blockSize !== undefined && encryption !== undefined) blockSize = Math.min(blockSize, 2 * 1024 * 1024);
    return new FileStore(cfg, {
      dir,
      blockSize,
      syncIntervalMs: o.syncIntervalMs > 0 ? o.syncIntervalMs : undefined,
      syncAlways: o.syncAlways,
      encryption,
      logger: { notice: (m) => log.notice(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
      onError: (e) => log.error(`filestore: ${(e as Error)?.message ?? e}`),
    });
  };
}

/** Recovers the file streams (and their consumers) of an account; errors are logged per stream. */
export function recoverAccount(jsa: JsAccount): void {
  const js = jsa.js;
  const log = js.server.log;
  const root = join(js.storeDir, jsa.account.name, "streams");
  let names: string[];
  try {
    names = fs.readdirSync(root).sort();
  } catch {
    return;
  }
  for (const name of names) {
    if (jsa.streams.has(name)) continue;
    const dir = join(root, name);
    try {
      const meta = parseMetaJson<StreamConfig>(
        FileStore.readMeta(dir, name, fsEncryption(js, jsa.account.name)),
      );
      if (meta.config === undefined) {
        log.warn(`JetStream: no stream config in ${dir}; skipped`);
        js.unrecovered.add(`${jsa.account.name} > ${name}`);
        continue;
      }
      const cfg = repairStreamConfig(jsa, meta.config, log);
      if (cfg === undefined) continue;
      const t0 = performance.now();
      const store = js.newStreamStore(storeConfig(cfg), dir);
      const torn = tornBatchStart(dir, store.fastState().lastSeq);
      if (torn !== undefined) {
        log.warn(
          `JetStream: stream '${jsa.account.name} > ${cfg.name}' holds part of an atomic batch a crash cut short; ` +
            `removing it (messages after ${torn})`,
        );
        store.truncate(torn);
      }
      const s = new Stream(jsa.host, cfg, store, meta.created);
      jsa.streams.set(cfg.name, s);
      const st = store.fastState();
      jsa.host.updateUsage("file", st.bytes);
      s.start();
      if (cfg.allow_direct) subscribeDirect(jsa, s);
      log.notice(
        `  Restored ${st.msgs} messages for stream '${jsa.account.name} > ${cfg.name}' in ${
          Math.round(performance.now() - t0)
        }ms`,
      );
      if (store instanceof FileStore) {
        let ackFloor = 0;
        for (const cname of store.consumerNames()) {
          try {
            const cm = parseMetaJson<ConsumerConfig>(store.consumerMeta(cname));
            if (cm.config === undefined) continue;
            const c = addConsumer(jsa, s, cm.config);
            const floor = c.snapshot().asflr;
            if (ackFloor === 0 || floor < ackFloor) ackFloor = floor;
          } catch (err) {
            log.error(`JetStream: restoring consumer '${name} > ${cname}': ${(err as Error).message}`);
          }
        }
        // Interest retention: messages below every consumer's ack floor are orphans (a crash between the
        // ack and the removal); they go now, as the reference's recovery does.
        if (cfg.retention === "interest" && ackFloor > s.store.fastState().firstSeq) {
          const purged = s.purge({ seq: ackFloor + 1 });
          log.debug(`stream '${jsa.account.name} > ${cfg.name}' auto purged ${purged} messages`);
        }
      }
    } catch (err) {
      log.error(`JetStream: restoring stream '${jsa.account.name} > ${name}': ${(err as Error).message}`);
      js.unrecovered.add(`${jsa.account.name} > ${name}`);
    }
  }
}

/**
 * A recovered stream config as the reference re-adds it: subjects with stray spaces are trimmed (skipped when
 * still invalid), a mirror loses any subjects, and defaults are applied. A config the checks refuse is kept
 * as stored (it was accepted when written); undefined skips the stream.
 */
function repairStreamConfig(
  jsa: JsAccount,
  stored: StreamConfig,
  log: { warn(m: string): void },
): StreamConfig | undefined {
  const cfg: StreamConfig = { ...stored };
  if (cfg.subjects !== undefined) {
    const subjects = [...cfg.subjects];
    for (const [i, subj] of subjects.entries()) {
      if (isValidSubject(subj)) continue;
      log.warn(
        `  Detected bad subject ${JSON.stringify(subj)} while adding stream ${
          JSON.stringify(cfg.name)
        }, will attempt to repair`,
      );
      const fixed = subj.trim();
      if (!isValidSubject(fixed)) {
        log.warn(`  Error recreating stream ${JSON.stringify(cfg.name)}: invalid subject`);
        return undefined;
      }
      log.warn(`  Bad subject ${JSON.stringify(subj)} repaired to ${JSON.stringify(fixed)}`);
      subjects[i] = fixed;
    }
    cfg.subjects = subjects;
  }
  if (cfg.mirror && (cfg.subjects?.length ?? 0) > 0) {
    log.warn(`  Detected subjects on a mirrored stream ${JSON.stringify(cfg.name)}, will remove`);
    delete cfg.subjects;
  }
  const checked = checkStreamCfg(cfg, cfgContext(jsa, cfg));
  return checked instanceof ApiError ? cfg : checked;
}
