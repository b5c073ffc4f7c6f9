// A StreamStore config with no limits, for store tests, benchmarks and scripts (bench/ and scripts/ import it).

import type { StoreConfig } from "../../src/store/store.ts";

/** A StoreConfig with no limits (memory stream "zzz" on ">"), overridden by `over`. */
export function storeConfig(over: Partial<StoreConfig> = {}): StoreConfig {
  return {
    name: "zzz",
    storage: "memory",
    subjects: [">"],
    maxMsgs: 0,
    maxBytes: 0,
    maxAge: 0n,
    maxMsgsPerSubject: 0,
    maxMsgSize: 0,
    discardNew: false,
    discardNewPerSubject: false,
    allowMsgTtl: false,
    compression: "none",
    ...over,
  };
}
