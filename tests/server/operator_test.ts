// Ports of nats-server test/operator_test.go (single server), plus the operator-mode config keys: operator
// files and inline JWTs, trusted keys, resolvers, preloads and their startup errors.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import { configToOptions, type Options, parseConfig, setBaselineOptions } from "../../src/config/mod.ts";
import { formatUserConfig } from "../../src/auth/jwt.ts";
import { Server } from "../../src/server/mod.ts";
import { Logger } from "../../src/util/mod.ts";
import { runServer } from "../_helpers/server.ts";
import {
  accountJwt,
  createAccount,
  createOperator,
  createUser,
  fromSeed,
  type KeyPair,
  OJWT,
  oKp,
  OSEED,
  seedOf,
  SKSEED,
  storeAccount,
  userJwt,
} from "../_helpers/jwt.ts";

const enc = new TextEncoder();

/** The reference's test/configs/nkeys/op.jwt file (a decorated operator JWT). */
const OP_JWT_FILE = `-----BEGIN TEST OPERATOR JWT-----\n${OJWT}\n------END TEST OPERATOR JWT------\n`;

/** The preloaded accounts of the reference's test/configs/resolver_preload.conf (format-1 JWTs). */
const PRELOAD_SYS = "AD2VB6C25DQPEUUQ7KJBUFX2J4ZNVBPOHSCBISC7VFZXVWXZA7VASQZG";
const PRELOAD_SYS_JWT =
  "eyJ0eXAiOiJqd3QiLCJhbGciOiJlZDI1NTE5In0.eyJqdGkiOiJDSzU1UERKSUlTWU5QWkhLSUpMVURVVTdJT1dINlM3UkE0RUc2TTVGVUQzUEdGQ1RWWlJRIiwiaWF0IjoxNTQzOTU4NjU4LCJpc3MiOiJPQ0FUMzNNVFZVMlZVT0lNR05HVU5YSjY2QUgyUkxTREFGM01VQkNZQVk1UU1JTDY1TlFNNlhRRyIsInN1YiI6IkFEMlZCNkMyNURRUEVVVVE3S0pCVUZYMko0Wk5WQlBPSFNDQklTQzdWRlpYVldYWkE3VkFTUVpHIiwidHlwZSI6ImFjY291bnQiLCJuYXRzIjp7ImxpbWl0cyI6e319fQ.7m1fysYUsBw15Lj88YmYoHxOI4HlOzu6qgP8Zg-1q9mQXUURijuDGVZrtb7gFYRlo-nG9xZyd2ZTRpMA-b0xCQ";
const PRELOAD_ACC = "ADM2CIIL3RWXBA6T2HW3FODNCQQOUJEHHQD6FKCPVAMHDNTTSMO73ROX";
const PRELOAD_ACC_JWT =
  "eyJ0eXAiOiJqd3QiLCJhbGciOiJlZDI1NTE5In0.eyJqdGkiOiJCMk0zTFRMT1ZNRk03REY3U0M3SE9RTzNXUzI2RFhMTURINk0zRzY3RzRXRFdTWExPNlVBIiwiaWF0IjoxNTQzOTU4NzI0LCJpc3MiOiJPQ0FUMzNNVFZVMlZVT0lNR05HVU5YSjY2QUgyUkxTREFGM01VQkNZQVk1UU1JTDY1TlFNNlhRRyIsInN1YiI6IkFETTJDSUlMM1JXWEJBNlQySFczRk9ETkNRUU9VSkVISFFENkZLQ1BWQU1IRE5UVFNNTzczUk9YIiwidHlwZSI6ImFjY291bnQiLCJuYXRzIjp7ImxpbWl0cyI6e319fQ.pvvPmBei_IFEbspHGN5FkWJoSfHk8BVeJCCVODTgul8-xUU8p1fidvsg3sgMvrXqXtmL8SFc68jGQd0nGtk5Dw";

/** Writes op.jwt into a temporary directory and returns config text using it (Go's configs/operator.conf). */
function withOperatorConf(extra = ""): { conf: string; dir: string } {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/op.jwt`, OP_JWT_FILE);
  return { conf: `listen: 127.0.0.1:-1\noperator = "${dir}/op.jwt"\nresolver = MEMORY\n${extra}`, dir };
}

function optionsOf(conf: string): Options {
  return setBaselineOptions(configToOptions(parseConfig(conf, { file: "test.conf" })));
}

function quietServer(o: Options): Server {
  return new Server(o, { log: new Logger({ quiet: true }, true) });
}

async function runConf(conf: string) {
  const o = optionsOf(conf);
  return await runServer({ ...o, host: "127.0.0.1", port: 0 });
}

/** Go's checkKeys: the options' trusted keys are the operator and its signing keys. */
function checkKeys(o: Options, expected: number): void {
  const keys = o.trustedKeys ?? [];
  assertEquals(keys.length, expected);
  const op = o.trustedOperators[0].claims;
  assert(keys.includes(op.iss!));
  for (const k of op.nats?.signing_keys ?? []) assert(keys.includes(k));
}

function createAccountForOperatorKey(s: Server, seed: string): KeyPair {
  const akp = createAccount();
  storeAccount(s, akp.getPublicKey(), accountJwt(akp, {}, fromSeed(seed)));
  return akp;
}

function credsFor(akp: KeyPair): Uint8Array {
  const ukp = createUser();
  return enc.encode(formatUserConfig(userJwt(ukp, akp), seedOf(ukp)));
}

Deno.test("TestOperatorRestrictions: operators need a resolver and forbid accounts, users and nkeys", async () => {
  const { conf, dir } = withOperatorConf();
  try {
    const o = optionsOf(conf);
    await quietServer(structuredClone(o)).shutdown();
    // Trusted keys filled in by a first server conflict with the operators on the second.
    const filled = structuredClone(o);
    await quietServer(filled).shutdown();
    let err = "";
    try {
      quietServer(filled);
    } catch (e) {
      err = (e as Error).message;
    }
    assertEquals(err, "conflicting options for 'TrustedKeys' and 'TrustedOperators'");
    const tries: [Partial<Options>, string][] = [
      [
        { accounts: [configToOptions(parseConfig("accounts: {TEST: {}}")).accounts[0]] },
        "operators do not allow Accounts to be configured directly",
      ],
      [
        { users: [{ username: "TEST", password: "" }] },
        "operators do not allow users to be configured directly",
      ],
      [{ nkeys: [{ nkey: "TEST" }] }, "operators do not allow users to be configured directly"],
      [{ accountResolver: undefined }, "operators require an account resolver to be configured"],
    ];
    for (const [change, text] of tries) {
      let msg = "";
      try {
        quietServer({ ...structuredClone(o), ...change });
      } catch (e) {
        msg = (e as Error).message;
      }
      assertEquals(msg, text);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("TestOperatorConfig: an operator JWT file loads; trusted keys are its key and 3 signing keys", async () => {
  const { conf, dir } = withOperatorConf();
  try {
    const o = optionsOf(conf);
    assertEquals(o.trustedOperators.length, 1);
    await quietServer(o).shutdown();
    checkKeys(o, 4);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("TestOperatorConfigInline: an inline operator JWT loads the same", async () => {
  const o = optionsOf(`listen: 127.0.0.1:-1\noperator = "${OJWT}"\nresolver = MEMORY\n`);
  assertEquals(o.trustedOperators.length, 1);
  await quietServer(o).shutdown();
  checkKeys(o, 4);
});

Deno.test("TestOperatorServer: creds of a trusted account connect; another operator's account does not", async () => {
  const { conf, dir } = withOperatorConf();
  try {
    await using s = await runConf(conf);
    await assertRejectsAny(() => connect({ servers: s.clientUrl(), reconnect: false }));
    const akp = createAccountForOperatorKey(s, OSEED);
    const nc = await connect({ servers: s.clientUrl(), authenticator: credsAuthenticator(credsFor(akp)) });
    await nc.close();
    const other = createAccountForOperatorKey(s, seedOf(createOperator()));
    await assertRejectsAny(() =>
      connect({
        servers: s.clientUrl(),
        reconnect: false,
        authenticator: credsAuthenticator(credsFor(other)),
      })
    );
    // The untrusted account is not in memory either.
    assertEquals(s.accounts.get(other.getPublicKey()), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

async function assertRejectsAny(f: () => Promise<unknown>): Promise<void> {
  let failed = false;
  try {
    const r = await f();
    (r as { close?: () => Promise<void> })?.close?.();
  } catch {
    failed = true;
  }
  assert(failed, "expected a failure");
}

Deno.test("TestOperatorSystemAccount: only a trusted account can be the system account", async () => {
  const { conf, dir } = withOperatorConf();
  try {
    await using s = await runConf(conf);
    const bad = createAccountForOperatorKey(s, seedOf(createOperator()));
    assertEquals(s.operator!.setSystemAccount(bad.getPublicKey()), "account validation failed");
    const good = createAccountForOperatorKey(s, OSEED);
    assertEquals(s.operator!.setSystemAccount(good.getPublicKey()), undefined);
    assertEquals(s.systemAccount?.name, good.getPublicKey());
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("TestOperatorSigningKeys: an account signed by an operator signing key works", async () => {
  const { conf, dir } = withOperatorConf();
  try {
    await using s = await runConf(conf);
    const akp = createAccountForOperatorKey(s, SKSEED);
    assertEquals(s.operator!.setSystemAccount(akp.getPublicKey()), undefined);
    const nc = await connect({ servers: s.clientUrl(), authenticator: credsAuthenticator(credsFor(akp)) });
    await nc.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("TestOperatorMemResolverPreload: preloaded accounts resolve; the system account is registered", async () => {
  const { conf, dir } = withOperatorConf(
    `system_account = "${PRELOAD_SYS}"\nresolver_preload = {\n  ${PRELOAD_SYS}: "${PRELOAD_SYS_JWT}"\n  ${PRELOAD_ACC}: "${PRELOAD_ACC_JWT}"\n}\n`,
  );
  try {
    await using s = await runConf(conf);
    assert(s.lookupAccount(PRELOAD_ACC) !== undefined);
    assertEquals(s.systemAccount?.name, PRELOAD_SYS);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("TestOperatorConfigReloadDoesntKillNonce: INFO still carries a nonce after a reload", async () => {
  const { conf, dir } = withOperatorConf();
  try {
    await using s = await runConf(conf);
    assert(s.auth.needsNonce);
    s.reload({ ...optionsOf(conf), host: "127.0.0.1", port: s.port });
    assert(s.auth.needsNonce);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

// blocked: needs a cluster (routes) of operator-mode servers.
Deno.test({
  name: "TestReloadDoesNotWipeAccountsWithOperatorMode: cluster reload",
  ignore: true,
  fn: () => {},
});

Deno.test("TestReloadDoesUpdateAccountsWithMemoryResolver: a reload with new preloads updates accounts", async () => {
  const akp = createAccount();
  const apub = akp.getPublicKey();
  const v1 = accountJwt(akp);
  const base = `listen: 127.0.0.1:-1\noperator = "${OJWT}"\nresolver = MEMORY\n`;
  await using s = await runConf(`${base}resolver_preload = { ${apub}: "${v1}" }\n`);
  const ukp = createUser();
  const creds = enc.encode(formatUserConfig(userJwt(ukp, akp), seedOf(ukp)));
  const nc = await connect({ servers: s.clientUrl(), authenticator: credsAuthenticator(creds) });
  try {
    const v2 = accountJwt(akp, { revocations: { [ukp.getPublicKey()]: Math.floor(Date.now() / 1000) + 1 } });
    s.reload({
      ...optionsOf(`${base}resolver_preload = { ${apub}: "${v2}" }\n`),
      host: "127.0.0.1",
      port: s.port,
    });
    assertEquals(s.operator!.jwtAccounts.get(apub)?.jwt, v2);
    const closed = await nc.closed();
    assert(closed instanceof Error);
  } finally {
    await nc.close();
  }
});

Deno.test("TestReloadFailsWithBadAccountsWithMemoryResolver: a bad preload JWT fails the config", () => {
  const akp = createAccount();
  let err = "";
  try {
    optionsOf(
      `operator = "${OJWT}"\nresolver = MEMORY\nresolver_preload = { ${akp.getPublicKey()}: "foo" }\n`,
    );
  } catch (e) {
    err = (e as Error).message;
  }
  assertStringIncludes(err, "invalid account JWT");
});

// blocked: the $SYS CONNZ request service belongs to the $SYS services work; account conn limits are
// covered by TestJWTAccountLimitsMaxConns.
Deno.test({
  name: "TestConnsRequestDoesNotLoadAccountCheckingConnLimits: $SYS CONNS requests",
  ignore: true,
  fn: () => {},
});

// ---- Config keys and startup errors (no Go original) -----------------------------------------------------

Deno.test("operator config: trusted keys, resolvers and their errors as nats-server's texts", () => {
  const o = optionsOf(`trusted = ["${oKp.getPublicKey()}"]\nresolver = MEM\n`);
  assertEquals(o.trustedKeys, [oKp.getPublicKey()]);
  assertEquals(o.accountResolver, { type: "MEMORY" });
  const bad = (conf: string) => {
    try {
      optionsOf(conf);
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  };
  assertStringIncludes(bad(`trusted = "XYZ"`), `trust key "XYZ" required to be a valid public operator nkey`);
  assertStringIncludes(bad(`resolver = FOO`), "error parsing account resolver, should be MEM or");
  assertStringIncludes(bad(`resolver = {type: full}`), "dir has no value and needs to point to a directory");
  assertStringIncludes(bad(`resolver = {type: full, dir: "/tmp", ttl: "1s"}`), "FULL does not accept ttl");
  assertStringIncludes(
    bad(`resolver = {type: cache, dir: "/tmp", allow_delete: true}`),
    "CACHE does not accept allow_delete",
  );
  assertStringIncludes(
    bad(`operator = "/nonexistent/op.jwt"`),
    "error parsing operator JWT: open /nonexistent/op.jwt",
  );
  assertStringIncludes(
    bad(`resolver_preload = "x"`),
    "preload should be a map of account_public_key:account_jwt",
  );
  // A directory that does not exist yet (it is made when the resolver starts), whatever /tmp holds.
  const dir = `${Deno.makeTempDirSync({ prefix: "natsdeno-op-" })}/x`;
  const full = optionsOf(
    `resolver = {type: full, dir: "${dir}", allow_delete: true, interval: "2m", timeout: "3s", limit: 10}`,
  );
  assertEquals(full.accountResolver, {
    type: "FULL",
    dir,
    allowDelete: true,
    hardDelete: false,
    limit: 10,
    ttlMs: 0,
    intervalMs: 120_000,
    timeoutMs: 3000,
  });
  const url = optionsOf(`resolver = URL("http://localhost:9090/jwt/v1/accounts/")`);
  assertEquals(url.accountResolver, { type: "URL", url: "http://localhost:9090/jwt/v1/accounts/" });
  // The operator JWT's system account becomes the default system account.
  const okp = createOperator();
  assertEquals(o.unsupported.includes("resolver"), false);
  assertEquals(okp.getPublicKey()[0], "O");
});

Deno.test("operator config: the URL resolver is refused at startup as not supported", () => {
  let err = "";
  try {
    quietServer(optionsOf(`operator = "${OJWT}"\nresolver = URL("http://localhost:9090/accounts/")\n`));
  } catch (e) {
    err = (e as Error).message;
  }
  assertStringIncludes(err, "is not supported by natsdeno yet");
});

Deno.test("operator config: system_account must match the operator JWT's", async () => {
  const okp = createOperator();
  const sys = createAccount().getPublicKey();
  const { encodeJwt } = await import("../../src/auth/jwt.ts");
  const op = encodeJwt("operator", { sub: okp.getPublicKey(), nats: { "system_account": sys } }, okp);
  const o = optionsOf(`operator = "${op}"\nresolver = MEMORY\n`);
  assertEquals(o.systemAccount, sys);
  let err = "";
  try {
    quietServer({ ...o, systemAccount: createAccount().getPublicKey() });
  } catch (e) {
    err = (e as Error).message;
  }
  assertEquals(err, "system_account in config and operator JWT must be identical");
});
