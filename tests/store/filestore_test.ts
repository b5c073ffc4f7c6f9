// Runs the shared store suite on FileStore over {no cipher, ChaCha20, AES} × {no compression, S2}.
import { FileStore, type FsEncryption } from "../../src/store/filestore.ts";
import { hh64, hh64Equals, hh64Into, hh64Reference } from "../../src/store/_fs_crypto.ts";
import { assert, assertEquals } from "@std/assert";
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
      { persistent: true, sizes: "file" },
    );
  }
}

Deno.test("hh64: the direct wasm path gives the package's HighwayHash-64 for every length class", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const out = new Uint8Array(12);
  for (const n of [0, 1, 3, 4, 15, 16, 17, 31, 32, 33, 63, 64, 160, 65537, (1 << 20) + 5, 3 << 20]) {
    const data = new Uint8Array(n);
    for (let o = 0; o < n; o += 65536) {
      data.set(crypto.getRandomValues(new Uint8Array(Math.min(65536, n - o))), o);
    }
    const want = hh64Reference(key, data);
    assertEquals([...hh64(key, data)], [...want], `length ${n}`);
    hh64Into(key, data, out, 3);
    assertEquals([...out.subarray(3, 11)], [...want], `length ${n} (into)`);
    assert(hh64Equals(key, data, out, 3));
    out[5] ^= 1;
    assert(!hh64Equals(key, data, out, 3));
  }
});
