// Password/token comparison (server/auth.go isBcrypt, comparePasswords).
import { assert, assertEquals } from "@std/assert";
import bcrypt from "bcryptjs";
import { comparePasswords, constantTimeEquals, isBcrypt } from "../../src/auth/mod.ts";

Deno.test("isBcrypt recognizes $2a$/$2b$/$2x$/$2y$ with a two-digit cost, like nats-server's pattern", () => {
  const tail = "04$Q.CgCP2Sl9pkcTXEZHazaeMwPaAkSHk7AI51HkyMt5iJQQyUA4qxq";
  for (const v of ["a", "b", "x", "y"]) assert(isBcrypt(`$2${v}$${tail}`), v);
  assert(isBcrypt("$2a$10$"), "only the prefix is looked at");
  for (const s of ["", "password", "$2c$04$abc", "$2a$4$abc", "$2a04$abc", "x$2a$04$abc", "$1$04$abc"]) {
    assert(!isBcrypt(s), s);
  }
});

Deno.test("constantTimeEquals compares secrets byte for byte", () => {
  assert(constantTimeEquals("", ""));
  assert(constantTimeEquals("s3cr3t", "s3cr3t"));
  assert(!constantTimeEquals("s3cr3t", "s3cr3T"));
  assert(!constantTimeEquals("s3cr3t", "s3cr3"));
  assert(constantTimeEquals("päss", "päss"));
  assert(!constantTimeEquals("päss", "pass"));
});

Deno.test("comparePasswords: plain secrets answer synchronously, bcrypt ones asynchronously", async () => {
  assertEquals(comparePasswords("pw", "pw"), true);
  assertEquals(comparePasswords("pw", "nope"), false);
  const hash = bcrypt.hashSync("pw", 4);
  const ok = comparePasswords(hash, "pw");
  assert(ok instanceof Promise);
  assertEquals(await ok, true);
  assertEquals(await comparePasswords(hash, "nope"), false);
  assertEquals(await comparePasswords(hash, hash), false);
});

Deno.test("comparePasswords: a malformed bcrypt hash never matches and does not throw", async () => {
  assertEquals(await comparePasswords("$2a$04$tooshort", "tooshort"), false);
  assertEquals(
    await comparePasswords("$2a$99$Q.CgCP2Sl9pkcTXEZHazaeMwPaAkSHk7AI51HkyMt5iJQQyUA4qxq", "x"),
    false,
  );
});

Deno.test("comparePasswords: $2x$ hashes are checked as nats-server does (the minor version is ignored)", async () => {
  const hash = bcrypt.hashSync("pw", 4); // $2b$ from bcryptjs
  for (const v of ["a", "b", "x", "y"]) {
    const h = `$2${v}$${hash.slice(4)}`;
    assertEquals(await comparePasswords(h, "pw"), true, h);
    assertEquals(await comparePasswords(h, "px"), false, h);
  }
});
