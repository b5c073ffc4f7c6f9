// Utilities shared by every layer: bytes, durations, ids, logging.
export * from "./bytes.ts";
export * from "./duration.ts";
export * from "./go_json.ts";
export * from "./log.ts";
export * from "./nuid.ts";
export * from "./timers.ts";
export * from "./s2.ts";
