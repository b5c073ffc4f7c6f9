// Ports of nats-server server/jwt_test.go: the single-server, black-box parts (raw clients answering the
// INFO nonce, the official client with creds files). Internals the Go tests read (c.perms, acc.msubs) are
// read through Server.operator and the client objects.
import { assert, assertEquals, assertMatch } from "@std/assert";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import { checkFor, delay, runServer, type TestServer } from "../_helpers/server.ts";
import {
  accountJwt,
  connectJwt,
  createAccount,
  createUser,
  type KeyPair,
  OJWT,
  oKp,
  seedOf,
  storeAccount,
  userJwt,
} from "../_helpers/jwt.ts";
import { formatUserConfig } from "../../src/auth/jwt.ts";
import type { RawClient } from "../_helpers/raw_client.ts";
import type { Client } from "../../src/server/mod.ts";

const enc = new TextEncoder();

/** Go's opTrustBasicSetup plus buildMemAccResolver: trusted operator key, memory resolver. */
async function opTrustBasicSetup(): Promise<TestServer> {
  return await runServer({ trustedKeys: [oKp.getPublicKey()], accountResolver: { type: "MEMORY" } });
}

interface Setup {
  s: TestServer;
  akp: KeyPair;
  ukp: KeyPair;
  c: RawClient;
  first: string;
}

/**
 * Go's setupJWTTestWithClaims: an account (nats fields over NewAccountClaims') and a user, the account in the
 * memory resolver, and a raw client sending CONNECT {jwt, sig, verbose, pedantic} and PING; `first` is the
 * first line the server answered.
 */
async function setupJwt(
  opts: {
    acc?: Record<string, unknown>;
    accBase?: Record<string, unknown>;
    user?: Record<string, unknown>;
    userBase?: Record<string, unknown>;
  } = {},
): Promise<Setup> {
  const akp = createAccount();
  const ukp = createUser();
  const s = await opTrustBasicSetup();
  storeAccount(s, akp.getPublicKey(), accountJwt(akp, opts.acc, oKp, opts.accBase));
  const c = await connectJwt(s.port, userJwt(ukp, akp, opts.user, opts.userBase), ukp, {
    verbose: true,
    pedantic: true,
  });
  const m = await c.expect(/^(.*)\r\n/);
  return { s, akp, ukp, c, first: m[1] };
}

async function dispose(x: Setup): Promise<void> {
  x.c.close();
  await x.s.shutdown();
}

function clientOf(s: TestServer, pub: string): Client {
  const c = [...s.clients.values()].find((x) => x.jwtUser?.claims.sub === pub);
  if (c === undefined) throw new Error(`no client for ${pub}`);
  return c;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

Deno.test("TestJWTUser: user JWTs need a resolvable account; then they connect", async () => {
  await using s = await opTrustBasicSetup();
  assert(s.auth.authRequired);
  {
    await using c = await connectJwt(s.port, "", undefined, { verbose: true, pedantic: true });
    await c.expect(/^-ERR 'Authorization Violation'\r\n/);
  }
  const akp = createAccount();
  const ukp = createUser();
  {
    // No account JWT in the resolver yet.
    await using c = await connectJwt(s.port, userJwt(ukp, akp), ukp);
    await c.expect(/^-ERR 'Authorization Violation'\r\n/);
  }
  storeAccount(s, akp.getPublicKey(), accountJwt(akp));
  await using c = await connectJwt(s.port, userJwt(ukp, akp), ukp);
  await c.expect(/^PONG\r\n/);
});

Deno.test("TestJWTUserBadTrusted: an account signed by an untrusted key is refused", async () => {
  // nats-server replaces its trusted keys with "bad"; here the operator is simply not trusted.
  const { createOperator } = await import("../_helpers/jwt.ts");
  await using s = await runServer({
    trustedKeys: [createOperator().getPublicKey()],
    accountResolver: { type: "MEMORY" },
  });
  const akp = createAccount();
  const ukp = createUser();
  storeAccount(s, akp.getPublicKey(), accountJwt(akp));
  await using c = await connectJwt(s.port, userJwt(ukp, akp), ukp);
  await c.expect(/^-ERR /);
});

Deno.test("TestJWTUserExpired: an expired user JWT is refused", async () => {
  const x = await setupJwt({ userBase: { iat: now() - 10, exp: now() - 2 } });
  assertMatch(x.first, /^-ERR 'Authorization Violation'/);
  await dispose(x);
});

Deno.test("TestJWTUserExpiresAfterConnect: the client is told 'User Authentication Expired' and closed", async () => {
  const x = await setupJwt({ userBase: { iat: now(), exp: now() + 2 } });
  assertEquals(x.first, "+OK");
  await x.c.expect(/^PONG\r\n/);
  await x.c.expect(/^-ERR 'User Authentication Expired'\r\n/, 4000);
  await x.c.waitClosed();
  await dispose(x);
});

Deno.test("TestJWTUserPermissionClaims: pub/sub allow and deny lists become the client's permissions", async () => {
  const x = await setupJwt({
    user: { pub: { allow: ["foo", "bar"], deny: ["baz"] }, sub: { allow: ["foo", "bar"], deny: ["baz"] } },
  });
  assertEquals(x.first, "+OK");
  await x.c.expect(/^PONG\r\n/);
  const c = clientOf(x.s, x.ukp.getPublicKey());
  assert(c.perms !== undefined);
  assert(c.perms.canPublish("foo", false) && c.perms.canPublish("bar", false));
  assert(!c.perms.canPublish("baz", false) && !c.perms.canPublish("other", false));
  assert(c.perms.canSubscribe("foo") && !c.perms.canSubscribe("baz"));
  await x.c.send("PUB baz 0\r\n\r\n");
  await x.c.expect(/^-ERR 'Permissions Violation for Publish to "baz"'\r\n/);
  await dispose(x);
});

Deno.test("TestJWTUserResponsePermissionClaims: resp max and ttl transfer", async () => {
  const x = await setupJwt({ user: { resp: { max: 22, ttl: 100_000_000 } } });
  assertEquals(x.first, "+OK");
  const c = clientOf(x.s, x.ukp.getPublicKey());
  assertEquals(c.perms?.response, { maxMsgs: 22, expiresMs: 100 });
  assert(!c.perms?.canPublish("foo", false));
  await dispose(x);
});

Deno.test("TestJWTUserResponsePermissionClaimsDefaultValues: zero resp values take the defaults", async () => {
  const x = await setupJwt({ user: { resp: { max: 0, ttl: 0 } } });
  assertEquals(x.first, "+OK");
  const c = clientOf(x.s, x.ukp.getPublicKey());
  assertEquals(c.perms?.response, { maxMsgs: 1, expiresMs: 120_000 });
  await dispose(x);
});

Deno.test("TestJWTUserResponsePermissionClaimsNegativeValues: negative resp values transfer", async () => {
  const x = await setupJwt({ user: { resp: { max: -1, ttl: -1_000_000_000 } } });
  assertEquals(x.first, "+OK");
  const c = clientOf(x.s, x.ukp.getPublicKey());
  assertEquals(c.perms?.response, { maxMsgs: -1, expiresMs: -1000 });
  await dispose(x);
});

Deno.test("TestJWTAccountExpired: users of an expired account are refused", async () => {
  const x = await setupJwt({ accBase: { iat: now() - 10, exp: now() - 2 } });
  assertMatch(x.first, /^-ERR /);
  await dispose(x);
});

Deno.test("TestJWTAccountExpiresAfterConnect: 'Account Authentication Expired', then new users refused", async () => {
  // Expiry is in whole seconds: 2 s ahead keeps the account valid at connect time.
  const x = await setupJwt({ accBase: { iat: now() - 10, exp: now() + 2 } });
  assertEquals(x.first, "+OK");
  await x.c.expect(/^PONG\r\n/);
  const ja = x.s.operator!.jwtAccounts.get(x.akp.getPublicKey())!;
  await checkFor(4000, 100, () => assert(ja.expired));
  await x.c.expect(/^-ERR 'Account Authentication Expired'\r\n/);
  const ukp = createUser();
  await using c2 = await connectJwt(x.s.port, userJwt(ukp, x.akp), ukp);
  await c2.expect(/^-ERR /);
  await dispose(x);
});

Deno.test("TestJWTAccountRenew: an expired account renewed in the resolver accepts users again", async () => {
  const x = await setupJwt({ accBase: { iat: now() - 10, exp: now() - 2 } });
  assertMatch(x.first, /^-ERR /);
  const pub = x.akp.getPublicKey();
  // The expired JWT fails verification, so the account was never registered; store a renewed one.
  assertEquals(x.s.accounts.get(pub), undefined);
  storeAccount(x.s, pub, accountJwt(x.akp, {}, oKp, { exp: now() + 60 }));
  const acc = x.s.lookupAccount(pub);
  assert(acc !== undefined);
  const ukp = createUser();
  await using c = await connectJwt(x.s.port, userJwt(ukp, x.akp), ukp);
  await c.expect(/^PONG\r\n/);
  await dispose(x);
});

Deno.test("TestJWTAccountRenewFromResolver: an expired account is refetched from the resolver", async () => {
  const x = await setupJwt({ accBase: { iat: now() - 10, exp: now() + 2 } });
  assertEquals(x.first, "+OK");
  const pub = x.akp.getPublicKey();
  await checkFor(4000, 100, () => assert(x.s.operator!.jwtAccounts.get(pub)!.expired));
  storeAccount(x.s, pub, accountJwt(x.akp));
  await delay(1100); // nats-server refreshes an account at most once a second.
  const ukp = createUser();
  await using c = await connectJwt(x.s.port, userJwt(ukp, x.akp), ukp);
  await c.expect(/^PONG\r\n/);
  await dispose(x);
});

for (
  const name of [
    "TestJWTAccountBasicImportExport",
    "TestJWTAccountExportWithResponseType",
    "TestJWTAccountImportExportUpdates",
    "TestJWTAccountImportActivationExpires",
  ]
) {
  // blocked: exports/imports from account JWTs (and activation tokens) wait for the accounts engineer's
  // import/export API to be committed; OperatorMode applies limits, keys and revocations only.
  Deno.test({ name: `${name}: imports and exports from account JWTs`, ignore: true, fn: () => {} });
}

Deno.test("TestJWTAccountLimitsSubs: account subs limit applies per connection", async () => {
  const x = await setupJwt({ acc: { limits: { subs: 10, data: -1, payload: -1, conn: -1, leaf: -1 } } });
  assertEquals(x.first, "+OK");
  await x.c.expect(/^PONG\r\n/);
  const c = clientOf(x.s, x.ukp.getPublicKey());
  assertEquals(c.account.maxSubscriptions, 10);
  assertEquals(c.maxSubscriptions(), 10);
  for (let i = 0; i < 10; i++) await x.c.send(`SUB foo ${i}\r\n`);
  assertEquals(await x.c.flush(), "+OK\r\n".repeat(10));
  await x.c.send("SUB foo 22\r\n");
  await x.c.expect(/^-ERR 'maximum subscriptions exceeded'\r\n/);
  await dispose(x);
});

Deno.test({
  name: "TestJWTAccountLimitsSubsButServerOverrides: server max_subscriptions wins when lower",
  fn: async () => {
    const akp = createAccount();
    const ukp = createUser();
    await using s = await runServer({
      trustedKeys: [oKp.getPublicKey()],
      accountResolver: { type: "MEMORY" },
      maxSubs: 2,
    });
    storeAccount(s, akp.getPublicKey(), accountJwt(akp, { limits: { subs: 10, payload: -1, conn: -1 } }));
    await using c = await connectJwt(s.port, userJwt(ukp, akp), ukp);
    await c.expect(/^PONG\r\n/);
    await c.send("SUB foo 1\r\nSUB foo 2\r\nSUB foo 3\r\n");
    await c.expect(/^-ERR 'maximum subscriptions exceeded'\r\n/);
  },
});

Deno.test("TestJWTAccountLimitsMaxPayload: account payload limit", async () => {
  const x = await setupJwt({ acc: { limits: { subs: -1, payload: 8, conn: -1 } } });
  assertEquals(x.first, "+OK");
  await x.c.expect(/^PONG\r\n/);
  assertEquals(clientOf(x.s, x.ukp.getPublicKey()).maxPayload(), 8);
  await x.c.send("PUB foo 4\r\nXXXX\r\n");
  assertEquals(await x.c.flush(), "+OK\r\n");
  await x.c.send("PUB foo 10\r\nXXXXXXXXXX\r\n");
  await x.c.expect(/^-ERR 'Maximum Payload Violation'\r\n/);
  await dispose(x);
});

Deno.test("TestJWTAccountLimitsMaxPayloadButServerOverrides: server max_payload wins when lower", async () => {
  const akp = createAccount();
  const ukp = createUser();
  await using s = await runServer({
    trustedKeys: [oKp.getPublicKey()],
    accountResolver: { type: "MEMORY" },
    maxPayload: 4,
  });
  storeAccount(s, akp.getPublicKey(), accountJwt(akp, { limits: { subs: -1, payload: 8, conn: -1 } }));
  await using c = await connectJwt(s.port, userJwt(ukp, akp), ukp);
  await c.expect(/^PONG\r\n/);
  await c.send("PUB foo 6\r\nXXXXXX\r\n");
  await c.expect(/^-ERR 'Maximum Payload Violation'\r\n/);
});

Deno.test("TestJWTAccountLimitsMaxConns: the ninth connection of an 8-connection account is refused", async () => {
  const x = await setupJwt({ acc: { limits: { subs: -1, payload: -1, conn: 8 } } });
  assertEquals(x.first, "+OK");
  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < 7; i++) {
      const ukp = createUser();
      const c = await connectJwt(x.s.port, userJwt(ukp, x.akp), ukp);
      clients.push(c);
      await c.expect(/^PONG\r\n/);
    }
    const ukp = createUser();
    const c = await connectJwt(x.s.port, userJwt(ukp, x.akp), ukp);
    clients.push(c);
    await c.expect(/^-ERR 'maximum account active connections exceeded'\r\n/);
  } finally {
    for (const c of clients) c.close();
    await dispose(x);
  }
});

for (
  const name of [
    "TestJWTAccountServiceImportAuthSwitch",
    "TestJWTAccountServiceImportExpires",
  ]
) {
  // blocked: service imports from account JWTs wait for the accounts engineer's import/export API.
  Deno.test({ name: `${name}: service imports from account JWTs`, ignore: true, fn: () => {} });
}

for (
  const name of [
    "TestJWTAccountURLResolver",
    "TestJWTAccountURLResolverTimeout",
    "TestJWTAccountURLResolverNoFetchOnReload",
    "TestJWTAccountURLResolverFetchFailureInServer1",
    "TestJWTAccountURLResolverFetchFailurePushReorder",
    "TestJWTAccountURLResolverPermanentFetchFailure",
    "TestJWTAccountURLResolverFetchFailureInCluster",
    "TestJWTAccountURLResolverReturnDifferentOperator",
  ]
) {
  // blocked: the URL account resolver is not implemented (refused at startup); several also need clusters.
  Deno.test({ name: `${name}: URL account resolver`, ignore: true, fn: () => {} });
}

Deno.test("TestJWTUserSigningKey: users signed by an account signing key need the key in the account JWT", async () => {
  await using s = await opTrustBasicSetup();
  const akp = createAccount();
  const askp = createAccount();
  const apub = akp.getPublicKey();
  const ukp = createUser();
  const signed = () => userJwt(ukp, askp, { "issuer_account": apub });
  {
    await using c = await connectJwt(s.port, signed(), ukp);
    await c.expect(/^-ERR /);
  }
  storeAccount(s, apub, accountJwt(akp));
  {
    await using c = await connectJwt(s.port, signed(), ukp);
    await c.expect(/^-ERR /);
  }
  const acc = s.accounts.get(apub)!;
  s.operator!.updateAccountWithClaimJwt(acc, accountJwt(akp, { "signing_keys": [askp.getPublicKey()] }));
  await using c = await connectJwt(s.port, signed(), ukp);
  await c.expect(/^PONG\r\n/);
  // Removing the signing key disconnects the users it signed.
  s.operator!.updateAccountWithClaimJwt(acc, accountJwt(akp, { "signing_keys": [] }, oKp, { name: "v3" }));
  await c.waitClosed();
});

for (
  const name of [
    "TestJWTAccountImportSignerRemoved",
    "TestJWTAccountImportSignerDeadlock",
    "TestJWTAccountImportWrongIssuerAccount",
  ]
) {
  // blocked: imports from account JWTs wait for the accounts engineer's import/export API.
  Deno.test({ name: `${name}: imports and signing keys`, ignore: true, fn: () => {} });
}

Deno.test("TestJWTUserRevokedOnAccountUpdate: a revocation in new account claims disconnects the user", async () => {
  const x = await setupJwt();
  assertEquals(x.first, "+OK");
  await x.c.expect(/^PONG\r\n/);
  const acc = x.s.accounts.get(x.akp.getPublicKey())!;
  const revoked = accountJwt(x.akp, { revocations: { [x.ukp.getPublicKey()]: now() + 1 } });
  x.s.operator!.updateAccountWithClaimJwt(acc, revoked);
  await x.c.expect(/^-ERR 'User Authentication Revoked'\r\n/);
  await x.c.waitClosed();
  assertEquals(x.s.closedClients.at(-1)?.closeReason, "Credentials Revoked");
  await dispose(x);
});

Deno.test("TestJWTUserRevoked: a user revoked in the account JWT cannot connect", async () => {
  const akp = createAccount();
  const ukp = createUser();
  await using s = await opTrustBasicSetup();
  storeAccount(s, akp.getPublicKey(), accountJwt(akp, { revocations: { [ukp.getPublicKey()]: now() + 1 } }));
  await using c = await connectJwt(s.port, userJwt(ukp, akp), ukp);
  await c.expect(/^-ERR 'Authorization Violation'\r\n/);
});

for (const name of ["TestJWTImportTokenRevokedAfter", "TestJWTImportTokenRevokedBefore"]) {
  // blocked: activation tokens of imports wait for the accounts engineer's import/export API.
  Deno.test({ name: `${name}: revoked import tokens`, ignore: true, fn: () => {} });
}
// blocked: service imports between JWT accounts wait for the accounts engineer's import/export API.
Deno.test({ name: "TestJWTCircularAccountServiceImport: circular imports", ignore: true, fn: () => {} });

Deno.test("TestJWTAccountLimitsMaxConnsAfterExpired: a renewed account keeps its connection limit", async () => {
  const x = await setupJwt({
    acc: { limits: { subs: -1, payload: -1, conn: 2 } },
    accBase: { iat: now() - 10, exp: now() + 2 },
  });
  assertEquals(x.first, "+OK");
  const pub = x.akp.getPublicKey();
  await checkFor(4000, 100, () => assert(x.s.operator!.jwtAccounts.get(pub)!.expired));
  await x.c.waitClosed();
  storeAccount(x.s, pub, accountJwt(x.akp, { limits: { subs: -1, payload: -1, conn: 2 } }));
  await delay(1100);
  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const ukp = createUser();
      const c = await connectJwt(x.s.port, userJwt(ukp, x.akp), ukp);
      clients.push(c);
      await c.expect(/^PONG\r\n/);
    }
    const ukp = createUser();
    const c = await connectJwt(x.s.port, userJwt(ukp, x.akp), ukp);
    clients.push(c);
    await c.expect(/^-ERR 'maximum account active connections exceeded'\r\n/);
  } finally {
    for (const c of clients) c.close();
    await dispose(x);
  }
});

Deno.test("TestJWTBearerToken: a bearer user JWT needs no nonce signature", async () => {
  const akp = createAccount();
  const ukp = createUser();
  await using s = await opTrustBasicSetup();
  storeAccount(s, akp.getPublicKey(), accountJwt(akp));
  await using c = await connectJwt(s.port, userJwt(ukp, akp, { "bearer_token": true }), undefined, {
    verbose: true,
    pedantic: true,
  });
  await c.expect(/^\+OK\r\nPONG\r\n/);
});

Deno.test("TestJWTBearerWithIssuerSameAsAccountToken: bearer user with issuer_account of its own issuer", async () => {
  const akp = createAccount();
  const ukp = createUser();
  await using s = await opTrustBasicSetup();
  storeAccount(s, akp.getPublicKey(), accountJwt(akp));
  const t = userJwt(ukp, akp, { "bearer_token": true, "issuer_account": akp.getPublicKey() });
  await using c = await connectJwt(s.port, t, undefined, { verbose: true, pedantic: true });
  await c.expect(/^\+OK\r\n/);
});

Deno.test("TestJWTBearerWithBadIssuerToken: a bearer user whose issuer is no signer of the account fails", async () => {
  const akp = createAccount();
  const bad = createAccount();
  const ukp = createUser();
  await using s = await opTrustBasicSetup();
  storeAccount(s, akp.getPublicKey(), accountJwt(akp));
  const t = userJwt(ukp, bad, { "bearer_token": true, "issuer_account": akp.getPublicKey() });
  await using c = await connectJwt(s.port, t, undefined, { verbose: true, pedantic: true });
  await c.expect(/^-ERR 'Authorization Violation'\r\n/);
});

Deno.test({
  name: "TestJWTExpiredUserCredentialsRenewal: the client reconnects with renewed creds",
  ignore: true, // blocked: needs a creds callback that renews between reconnects; covered by the e2e tests below.
  fn: () => {},
});

for (const name of ["TestJWTAccountNATSResolverFetch", "TestJWTAccountNATSResolverCrossClusterFetch"]) {
  // blocked: the full resolver's fetch from and sync with other servers needs routes/gateways.
  Deno.test({ name: `${name}: nats resolver across servers`, ignore: true, fn: () => {} });
}

Deno.test("TestJWTUserLimits: src networks and connect time windows", async (t) => {
  const akp = createAccount();
  await using s = await runServer({
    trustedOperators: [{ jwt: OJWT, claims: {} }],
    accountResolver: { type: "MEMORY" },
    resolverPreload: { [akp.getPublicKey()]: accountJwt(akp) },
  });
  const hhmmss = (d: Date) => d.toTimeString().slice(0, 8);
  const range = (start: Date, durMs: number) => ({
    start: hhmmss(start),
    end: hhmmss(new Date(start.getTime() + durMs)),
  });
  const h = 3_600_000;
  const cases: [boolean, Record<string, unknown>][] = [
    [true, {}],
    [false, { src: ["8.8.8.8/8"] }],
    [true, { src: ["8.8.8.8/0"] }],
    [true, { src: ["127.0.0.1/8"] }],
    [true, { src: ["8.8.8.8/8", "127.0.0.1/8"] }],
    [false, { src: ["8.8.8.8/8", "9.9.9.9/8"] }],
    [true, { times: [range(new Date(Date.now() - 1000), h)] }],
    [false, { times: [range(new Date(Date.now() + h), h)] }],
    [true, { times: [range(new Date(Date.now() + h), h), range(new Date(Date.now() - 1000), h)] }],
    [false, { times: [range(new Date(Date.now() + h), h), range(new Date(Date.now() + 2 * h), h)] }],
  ];
  for (const [pass, lim] of cases) {
    await t.step(`${pass ? "allowed" : "refused"}: ${JSON.stringify(lim)}`, async () => {
      const ukp = createUser();
      await using c = await connectJwt(s.port, userJwt(ukp, akp, lim), ukp);
      if (pass) await c.expect(/^PONG\r\n/);
      else await c.expect(/^-ERR 'Authorization Violation'\r\n/);
    });
  }
});

Deno.test("TestJWTTimeExpiration: a connect window's end disconnects the user", async () => {
  const akp = createAccount();
  await using s = await opTrustBasicSetup();
  storeAccount(s, akp.getPublicKey(), accountJwt(akp));
  const start = new Date(Date.now() - 5000);
  const end = new Date(Date.now() + 1500);
  const ukp = createUser();
  const t = userJwt(ukp, akp, {
    times: [{ start: start.toTimeString().slice(0, 8), end: end.toTimeString().slice(0, 8) }],
  });
  await using c = await connectJwt(s.port, t, ukp);
  await c.expect(/^PONG\r\n/);
  await c.expect(/^-ERR 'User Authentication Expired'\r\n/, 4000);
});

for (
  const name of [
    "TestJWTSysImportForDifferentAccount",
    "TestJWTSysImportFromNothing",
    "TestJWTSysImportOverwritePublic",
    "TestJWTSysImportOverwriteToken",
  ]
) {
  // blocked: imports of $SYS services from JWT accounts wait for the accounts and $SYS engineers' work.
  Deno.test({ name: `${name}: system account imports`, ignore: true, fn: () => {} });
}

Deno.test("TestJWTLimits: user subs and payload limits from the user JWT", async () => {
  const x = await setupJwt({ user: { subs: 1, payload: 5 } });
  assertEquals(x.first, "+OK");
  await x.c.expect(/^PONG\r\n/);
  await x.c.send("SUB foo 1\r\n");
  assertEquals(await x.c.flush(), "+OK\r\n");
  await x.c.send("SUB foo 2\r\n");
  await x.c.expect(/^-ERR 'maximum subscriptions exceeded'\r\n/);
  await x.c.send("PUB foo 6\r\n123456\r\n");
  await x.c.expect(/^-ERR 'Maximum Payload Violation'\r\n/);
  await dispose(x);
});

Deno.test("TestJwtTemplates: a scoped signing key's templates become the user's permissions", async () => {
  const akp = createAccount();
  const skp = createAccount();
  const ukp = createUser();
  await using s = await opTrustBasicSetup();
  storeAccount(
    s,
    akp.getPublicKey(),
    accountJwt(
      akp,
      {
        "signing_keys": [{
          kind: "user_scope",
          key: skp.getPublicKey(),
          role: "r",
          template: {
            pub: { allow: ["{{name()}}.>"] },
            sub: { allow: ["{{tag(dept)}}.>"] },
            subs: -1,
            payload: -1,
          },
        }],
      },
      oKp,
      { name: "acme" },
    ),
  );
  const t = userJwt(
    ukp,
    skp,
    { "issuer_account": akp.getPublicKey(), tags: ["dept:eng"], pub: {}, sub: {} },
    {
      name: "alice",
    },
  );
  // Scoped users must carry no permissions or limits of their own.
  const scoped = t.split(".")[1];
  assert(scoped.length > 0);
  const clean = await connectScoped(s, ukp, skp, akp);
  await clean.expect(/^PONG\r\n/);
  const c = clientOf(s, ukp.getPublicKey());
  assert(c.perms?.canPublish("alice.x", false));
  assert(!c.perms?.canPublish("bob.x", false));
  assert(c.perms?.canSubscribe("eng.y"));
  clean.close();
});

/** A user signed by scoped key `skp` of `akp`, with no permissions or limits of its own. */
async function connectScoped(s: TestServer, ukp: KeyPair, skp: KeyPair, akp: KeyPair): Promise<RawClient> {
  const { encodeJwt } = await import("../../src/auth/jwt.ts");
  const t = encodeJwt("user", {
    sub: ukp.getPublicKey(),
    name: "alice",
    nats: { "issuer_account": akp.getPublicKey(), tags: ["dept:eng"] },
  }, skp);
  return await connectJwt(s.port, t, ukp);
}

Deno.test("TestJWTLimitsTemplate: scoped users with their own limits are refused", async () => {
  const akp = createAccount();
  const skp = createAccount();
  const ukp = createUser();
  await using s = await opTrustBasicSetup();
  storeAccount(
    s,
    akp.getPublicKey(),
    accountJwt(akp, { "signing_keys": [{ kind: "user_scope", key: skp.getPublicKey(), template: {} }] }),
  );
  await using c = await connectJwt(
    s.port,
    userJwt(ukp, skp, { "issuer_account": akp.getPublicKey(), subs: 5 }),
    ukp,
  );
  await c.expect(/^-ERR 'Authorization Violation'\r\n/);
});

Deno.test("TestJWTNoOperatorMode: without operator mode a creds file is ignored", async (t) => {
  for (const login of [true, false]) {
    await t.step(login ? "with user/password" : "no auth", async () => {
      await using s = await runServer(login ? { users: [{ username: "u", password: "pwd" }] } : {});
      const akp = createAccount();
      const ukp = createUser();
      const creds = formatUserConfig(userJwt(ukp, akp, {}, { exp: now() + 3600 }), seedOf(ukp));
      const nc = await connect({
        servers: s.clientUrl(),
        authenticator: credsAuthenticator(enc.encode(creds)),
        ...(login ? { user: "u", pass: "pwd" } : {}),
      });
      try {
        await nc.flush();
        assertEquals(s.clients.size, 1);
        for (const c of s.clients.values()) assertEquals(c.jwtUser, undefined);
      } finally {
        await nc.close();
      }
    });
  }
});

Deno.test("TestJWTUserRevocation: revoking a user via a claims update; later users still connect", async () => {
  const x = await setupJwt();
  assertEquals(x.first, "+OK");
  await x.c.expect(/^PONG\r\n/);
  const pub = x.akp.getPublicKey();
  const acc = x.s.accounts.get(pub)!;
  x.s.operator!.updateAccountWithClaimJwt(
    acc,
    accountJwt(x.akp, { revocations: { [x.ukp.getPublicKey()]: now() } }),
  );
  await x.c.expect(/^-ERR 'User Authentication Revoked'\r\n/);
  // A user issued after the revocation time connects.
  await delay(1100);
  const ukp = createUser();
  await using c = await connectJwt(x.s.port, userJwt(ukp, x.akp), ukp);
  await c.expect(/^PONG\r\n/);
  await dispose(x);
});

// blocked: activation tokens of imports wait for the accounts engineer's import/export API.
Deno.test({ name: "TestJWTActivationRevocation: revoked activations", ignore: true, fn: () => {} });
// blocked: the account fetch timeout concerns URL/nats resolvers fetching from elsewhere (not implemented).
Deno.test({ name: "TestJWTAccountFetchTimeout: slow account fetch", ignore: true, fn: () => {} });

Deno.test("TestJWTAccountOps: $SYS.REQ.CLAIMS.* on a full resolver (update, lookup, list, delete)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const skp = createAccount();
    const spub = skp.getPublicKey();
    const akp = createAccount();
    const apub = akp.getPublicKey();
    const okp = (await import("../_helpers/jwt.ts")).createOperator();
    const opJwt = (await import("../../src/auth/jwt.ts")).encodeJwt("operator", {
      sub: okp.getPublicKey(),
      nats: { "system_account": spub },
    }, okp);
    const sysJwt = accountJwt(skp, {}, okp);
    await using s = await runServer({
      trustedOperators: [{ jwt: opJwt, claims: {} }],
      systemAccount: spub,
      accountResolver: {
        type: "FULL",
        dir,
        allowDelete: true,
        hardDelete: false,
        limit: 0,
        ttlMs: 0,
        intervalMs: 0,
        timeoutMs: 0,
      },
      resolverPreload: { [spub]: sysJwt },
    });
    const sysUser = createUser();
    const nc = await connect({
      servers: s.clientUrl(),
      authenticator: credsAuthenticator(enc.encode(formatUserConfig(userJwt(sysUser, skp), seedOf(sysUser)))),
    });
    try {
      const dec = new TextDecoder();
      const upd = JSON.parse(
        dec.decode((await nc.request("$SYS.REQ.CLAIMS.UPDATE", accountJwt(akp, {}, okp))).data),
      );
      assertEquals(upd.data, { account: apub, code: 200, message: "jwt updated" });
      assertEquals(typeof upd.server.id, "string");
      assert(Deno.statSync(`${dir}/${apub}.jwt`).isFile);
      const look = await nc.request(`$SYS.REQ.ACCOUNT.${apub}.CLAIMS.LOOKUP`, "");
      assertEquals(dec.decode(look.data), Deno.readTextFileSync(`${dir}/${apub}.jwt`));
      const list = JSON.parse(dec.decode((await nc.request("$SYS.REQ.CLAIMS.LIST", "")).data));
      assertEquals(new Set(list.data), new Set([spub, apub]));
      // Wrong subject on the per-account update subject.
      const other = createAccount().getPublicKey();
      const bad = JSON.parse(
        dec.decode(
          (await nc.request(`$SYS.REQ.ACCOUNT.${other}.CLAIMS.UPDATE`, accountJwt(akp, {}, okp))).data,
        ),
      );
      assertEquals(
        bad.error.description,
        "jwt update resulted in error - subject does not match jwt content",
      );
      // Delete: a generic JWT self-signed by the operator listing the accounts.
      const del = (await import("../../src/auth/jwt.ts")).encodeJwt("operator", {
        sub: okp.getPublicKey(),
        nats: { accounts: [apub] },
      }, okp);
      const delr = JSON.parse(dec.decode((await nc.request("$SYS.REQ.CLAIMS.DELETE", del)).data));
      assertEquals(delr.data, { code: 200, message: "deleted 1 accounts" });
      assert(Deno.statSync(`${dir}/${apub}.jwt.deleted`).isFile);
      const sysDel = (await import("../../src/auth/jwt.ts")).encodeJwt("operator", {
        sub: okp.getPublicKey(),
        nats: { accounts: [spub] },
      }, okp);
      const sysr = JSON.parse(dec.decode((await nc.request("$SYS.REQ.CLAIMS.DELETE", sysDel)).data));
      assertEquals(
        sysr.error.description,
        `delete accounts request by ${okp.getPublicKey()} failed - not allowed to delete system account`,
      );
    } finally {
      await nc.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TestJWTHeader: a client of a JWT account can use headers", async () => {
  const x = await setupJwt();
  assertEquals(x.first, "+OK");
  await x.c.send(
    'CONNECT {"headers":true,"verbose":false}\r\nSUB foo 1\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n',
  );
  await x.c.expect(/HMSG foo 1 12 14\r\nNATS\/1.0\r\n\r\nhi\r\n/);
  await dispose(x);
});

for (
  const name of [
    "TestJWTAccountImportsWithWildcardSupport",
    "TestJWTAccountTokenImportMisuse",
    "TestJWTResponseThreshold",
  ]
) {
  // blocked: imports/exports from account JWTs wait for the accounts engineer's import/export API.
  Deno.test({ name: `${name}: imports and exports`, ignore: true, fn: () => {} });
}
for (
  const name of ["TestJWTJetStreamTiers", "TestJWTJetStreamMaxAckPending", "TestJWTJetStreamMaxStreamBytes"]
) {
  // blocked: JetStream limits from account JWTs need JetStream.
  Deno.test({ name: `${name}: JetStream limits from account JWTs`, ignore: true, fn: () => {} });
}

Deno.test("TestJWTQueuePermissions: queue entries of sub allow lists", async () => {
  const x = await setupJwt({ user: { sub: { allow: ["foo.> bar"] } } });
  assertEquals(x.first, "+OK");
  await x.c.expect(/^PONG\r\n/);
  await x.c.send("SUB foo.x bar 1\r\n");
  assertEquals(await x.c.flush(), "+OK\r\n");
  await x.c.send("SUB foo.x baz 2\r\n");
  await x.c.expect(/-ERR 'Permissions Violation for Subscription to "foo.x" using queue "baz"'\r\n/);
  await dispose(x);
});

Deno.test("TestJWScopedSigningKeys: scoped keys give their template; plain keys the user's own permissions", async () => {
  const akp = createAccount();
  const scoped = createAccount();
  const plain = createAccount();
  await using s = await opTrustBasicSetup();
  storeAccount(
    s,
    akp.getPublicKey(),
    accountJwt(akp, {
      "signing_keys": [plain.getPublicKey(), {
        kind: "user_scope",
        key: scoped.getPublicKey(),
        template: { pub: { allow: ["scoped.>"] }, subs: -1, payload: -1 },
      }],
    }),
  );
  const u1 = createUser();
  await using c1 = await connectScoped(s, u1, scoped, akp);
  await c1.expect(/^PONG\r\n/);
  assert(clientOf(s, u1.getPublicKey()).perms?.canPublish("scoped.a", false));
  assert(!clientOf(s, u1.getPublicKey()).perms?.canPublish("other", false));
  const u2 = createUser();
  await using c2 = await connectJwt(
    s.port,
    userJwt(u2, plain, { "issuer_account": akp.getPublicKey(), pub: { allow: ["plain"] } }),
    u2,
  );
  await c2.expect(/^PONG\r\n/);
  assert(clientOf(s, u2.getPublicKey()).perms?.canPublish("plain", false));
});

Deno.test("TestJWTStrictSigningKeys: strict operators accept only accounts signed by signing keys", async () => {
  const { createOperator } = await import("../_helpers/jwt.ts");
  const { encodeJwt } = await import("../../src/auth/jwt.ts");
  const okp = createOperator();
  const osk = createOperator();
  const opJwt = encodeJwt("operator", {
    sub: okp.getPublicKey(),
    nats: { "signing_keys": [osk.getPublicKey()], "strict_signing_key_usage": true },
  }, okp);
  const good = createAccount();
  const goodSk = createAccount();
  const bad = createAccount();
  await using s = await runServer({
    trustedOperators: [{ jwt: opJwt, claims: {} }],
    accountResolver: { type: "MEMORY" },
    resolverPreload: {
      [good.getPublicKey()]: accountJwt(good, { "signing_keys": [goodSk.getPublicKey()] }, osk),
      [bad.getPublicKey()]: accountJwt(bad, {}, okp),
    },
  });
  assertEquals(s.operator!.trustedKeys, [osk.getPublicKey()]);
  // Under strict usage users too must be signed by a signing key of their account.
  const u1 = createUser();
  await using c1 = await connectJwt(
    s.port,
    userJwt(u1, goodSk, { "issuer_account": good.getPublicKey() }),
    u1,
  );
  await c1.expect(/^PONG\r\n/);
  const u0 = createUser();
  await using c0 = await connectJwt(s.port, userJwt(u0, good), u0);
  await c0.expect(/^-ERR 'Authorization Violation'\r\n/);
  const u2 = createUser();
  await using c2 = await connectJwt(s.port, userJwt(u2, bad), u2);
  await c2.expect(/^-ERR 'Authorization Violation'\r\n/);
});

// blocked: imports from account JWTs wait for the accounts engineer's import/export API.
Deno.test({ name: "TestJWTAccountProtectedImport: protected imports", ignore: true, fn: () => {} });
// blocked: mappings from account JWTs wait for the accounts engineer's mapping API to be committed.
Deno.test({ name: "TestJWTMappings: mappings from account JWTs", ignore: true, fn: () => {} });

Deno.test("TestJWTOperatorPinnedAccounts: only pinned accounts (and the system account) may log in", async () => {
  const a1 = createAccount();
  const a2 = createAccount();
  await using s = await runServer({
    trustedOperators: [{ jwt: OJWT, claims: {} }],
    accountResolver: { type: "MEMORY" },
    resolverPreload: { [a1.getPublicKey()]: accountJwt(a1), [a2.getPublicKey()]: accountJwt(a2) },
    resolverPinnedAccounts: [a1.getPublicKey()],
  });
  const u1 = createUser();
  await using c1 = await connectJwt(s.port, userJwt(u1, a1), u1);
  await c1.expect(/^PONG\r\n/);
  const u2 = createUser();
  await using c2 = await connectJwt(s.port, userJwt(u2, a2), u2);
  await c2.expect(/^-ERR 'Authorization Violation'\r\n/);
});

Deno.test("TestJWTNoSystemAccountButNatsResolver: a full resolver needs a system account", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let err = "";
    try {
      await runServer({
        trustedOperators: [{ jwt: OJWT, claims: {} }],
        accountResolver: {
          type: "FULL",
          dir,
          allowDelete: false,
          hardDelete: false,
          limit: 0,
          ttlMs: 0,
          intervalMs: 0,
          timeoutMs: 0,
        },
      });
    } catch (e) {
      err = (e as Error).message;
    }
    assertEquals(
      err,
      "using nats based account resolver - the system account needs to be specified in configuration or the operator jwt",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// blocked: needs the $SYS CONNZ service and account claim updates over the system account together.
Deno.test({
  name: "TestJWTAccountConnzAccessAfterClaimUpdate: connz after update",
  ignore: true,
  fn: () => {},
});
// blocked: needs a super cluster (gateways).
Deno.test({
  name: "TestAccountWeightedMappingInSuperCluster: mappings across clusters",
  ignore: true,
  fn: () => {},
});

Deno.test("TestServerOperatorModeNoAuthRequired: INFO says auth_required in operator mode with a full resolver", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const skp = createAccount();
    const akp = createAccount();
    const ukp = createUser();
    await using s = await runServer({
      serverName: "srv-A",
      trustedOperators: [{ jwt: OJWT, claims: {} }],
      systemAccount: skp.getPublicKey(),
      accountResolver: {
        type: "FULL",
        dir,
        allowDelete: false,
        hardDelete: false,
        limit: 4,
        ttlMs: 0,
        intervalMs: 200,
        timeoutMs: 0,
      },
      resolverPreload: {
        [skp.getPublicKey()]: accountJwt(skp, {}, oKp, { name: "$SYS" }),
        [akp.getPublicKey()]: accountJwt(akp, {}, oKp, { name: "TEST" }),
      },
    });
    const creds = formatUserConfig(userJwt(ukp, akp), seedOf(ukp));
    const nc = await connect({
      servers: s.clientUrl(),
      authenticator: credsAuthenticator(enc.encode(creds)),
    });
    try {
      assertEquals(nc.info?.auth_required, true);
    } finally {
      await nc.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
