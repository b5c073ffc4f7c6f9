// Runs the shared store suite on FileStore over {no cipher, ChaCha20, AES} × {no compression, S2}.
import { FileStore, type FsEncryption } from "../../src/store/filestore.ts";
import { runStoreSuite } from "./store_suite.ts";

const ciphers: [string, FsEncryption | undefined][] = [
  ["plain", undefined],
  ["chacha", { key: "s3cr3t", cipher: "chachapoly", account: "$G" }],
  ["aes", { key: "s3cr3t", cipher: "aes", account: "$G" }],
];

for (const [cname, enc] of ciphers) {
  for (const comp of ["none", "s2"] as const) {
    runStoreSuite(
      `file ${cname} ${comp}`,
      (cfg, dir) =>
        new FileStore({ ...cfg, storage: "file", compression: comp }, {
          dir,
          encryption: enc,
          blockSize: 4096,
        }),
      { persistent: true },
    );
  }
}
