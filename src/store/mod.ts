// JetStream storage: the StreamStore interface and its implementations.
export * from "./store.ts";
export { fileStoreMsgSize, MemStore, memStoreMsgSize, type MemStoreOptions } from "./memstore.ts";
export { decodeConsumerState, encodeConsumerState, MemConsumerStore } from "./_consumer_state.ts";
export {
  FileStore,
  type FileStoreLogger,
  type FileStoreOptions,
  type FsCipher,
  type FsDamage,
  type FsEncryption,
} from "./filestore.ts";
export { hh64, sha256Key } from "./_fs_crypto.ts";
