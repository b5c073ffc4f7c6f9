// JetStream storage: the StreamStore interface and its implementations.
export * from "./store.ts";
