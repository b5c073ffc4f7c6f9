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
import { encodeJwt, formatUserConfig } from "../../src/auth/jwt.ts";
import type { RawClient } from "../_helpers/raw_client.ts";
import type { Client } from "../../src/server/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

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

/** An activation token for `importer`, signed by `signer` (Go's NewActivationClaims + Encode). */
function activation(
  signer: KeyPair,
  importer: string,
  subject: string,
  kind: "stream" | "service",
  opts: { issuerAccount?: string; base?: Record<string, number> } = {},
): string {
  return encodeJwt(
    "activation",
    {
      ...(opts.base ?? {}),
      sub: importer,
      nats: { subject, kind, ...(opts.issuerAccount ? { "issuer_account": opts.issuerAccount } : {}) },
    },
    signer,
    { keepIat: opts.base?.iat !== undefined },
  );
}

/** Go's addAccountToMemResolver followed by UpdateAccountClaims on the registered account. */
function updateAccount(s: TestServer, akp: KeyPair, jwt: string): void {
  const pub = akp.getPublicKey();
  storeAccount(s, pub, jwt);
  const acc = s.lookupAccount(pub);
  assert(acc !== undefined);
  s.operator!.updateAccountWithClaimJwt(acc, jwt);
}

/** A raw client of a new user of `akp` that has seen its PONG (Go's createClient + expectPong). */
async function userOf(s: TestServer, akp: KeyPair): Promise<{ c: RawClient; client: () => Client }> {
  const ukp = createUser();
  const c = await connectJwt(s.port, userJwt(ukp, akp), ukp);
  await c.expect(/^PONG\r\n/);
  return { c, client: () => clientOf(s, ukp.getPublicKey()) };
}

/** Go's expectPong after a PING: what arrived before the PONG, minus the server's own PINGs. */
async function quiet(c: RawClient): Promise<string> {
  return (await c.flush()).replaceAll("PING\r\n", "");
}

function shadows(c: Client, sid: string): number {
  return c.subs.get(sid)?.shadow?.length ?? 0;
}

/** A server with a full resolver in `dir`, the system account preloaded, and a system user's creds. */
async function fullResolverServer(dir: string): Promise<{ s: TestServer; sysCreds: string }> {
  const skp = createAccount();
  const spub = skp.getPublicKey();
  const s = await runServer({
    trustedOperators: [{ jwt: OJWT, claims: {} }],
    systemAccount: spub,
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
    resolverPreload: { [spub]: accountJwt(skp) },
  });
  const ukp = createUser();
  return { s, sysCreds: formatUserConfig(userJwt(ukp, skp), seedOf(ukp)) };
}

/** Go's updateJwt: pushes an account JWT over $SYS.REQ.CLAIMS.UPDATE; the number of servers that took it. */
async function updateJwt(s: TestServer, sysCreds: string, jwt: string): Promise<number> {
  const nc = await connect({
    servers: s.clientUrl(),
    authenticator: credsAuthenticator(enc.encode(sysCreds)),
  });
  try {
    const r = JSON.parse(new TextDecoder().decode((await nc.request("$SYS.REQ.CLAIMS.UPDATE", jwt)).data));
    return r.data?.code === 200 ? 1 : 0;
  } finally {
    await nc.close();
  }
}

/** A creds authenticator for a new user of `akp`. */
function credsOf(akp: KeyPair): ReturnType<typeof credsAuthenticator> {
  const ukp = createUser();
  return credsAuthenticator(enc.encode(formatUserConfig(userJwt(ukp, akp), seedOf(ukp))));
}

type NatsLike = Awaited<ReturnType<typeof connect>>;

/** Payloads of a subscription as text; `next(ms)` is Go's NextMsg (undefined on timeout). */
interface MsgQueue {
  next(ms: number): Promise<string | undefined>;
}

function queueSub(nc: NatsLike, subject: string): MsgQueue {
  const msgs: string[] = [];
  let wake: (() => void) | undefined;
  nc.subscribe(subject, {
    callback: (_e, m) => {
      msgs.push(m.string());
      wake?.();
    },
  });
  return {
    async next(ms: number): Promise<string | undefined> {
      if (msgs.length === 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((r) => {
          wake = r;
          timer = setTimeout(r, ms);
        });
        clearTimeout(timer);
        wake = undefined;
      }
      return msgs.shift();
    },
  };
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

Deno.test("TestJWTAccountBasicImportExport: exports transfer; imports need tokens where required", async () => {
  await using s = await opTrustBasicSetup();
  const fooKP = createAccount();
  const fooPub = fooKP.getPublicKey();
  storeAccount(
    s,
    fooPub,
    accountJwt(fooKP, {
      exports: [
        { subject: "foo", type: "stream" },
        { subject: "private", type: "stream", "token_req": true },
        { subject: "req.echo", type: "service", "token_req": true },
        { subject: "req.add", type: "service", "token_req": true },
      ],
    }),
  );
  const foo = s.lookupAccount(fooPub)!;
  assertEquals(foo.streamExports.size, 2);
  assertEquals(foo.serviceExports.size, 2);
  assert(foo.streamExports.has("foo"));
  assert(foo.serviceExports.get("req.echo")?.auth.tokenReq);

  const barKP = createAccount();
  const barPub = barKP.getPublicKey();
  storeAccount(
    s,
    barPub,
    accountJwt(barKP, {
      imports: [
        { account: fooPub, subject: "foo", to: "import.foo", type: "stream" },
        { account: fooPub, subject: "req.echo", type: "service" },
      ],
    }),
  );
  const bar = s.lookupAccount(barPub)!;
  assertEquals(bar.streamImports.length, 1);
  // The service import failed without a token.
  assertEquals(bar.serviceImports.size, 0);

  // A bad activation token: the claims fail validation and the imports stay as they were.
  updateAccount(
    s,
    barKP,
    accountJwt(barKP, {
      imports: [{ account: fooPub, subject: "req.echo", token: "not a token", type: "service" }],
    }),
  );
  assertEquals(bar.serviceImports.size, 0);

  // A correct one.
  const svcTok = activation(fooKP, barPub, "req.echo", "service");
  updateAccount(
    s,
    barKP,
    accountJwt(barKP, {
      imports: [{ account: fooPub, subject: "req.echo", token: svcTok, type: "service" }],
    }),
  );
  assertEquals(bar.serviceImports.size, 1);

  // Streams: no token, then a token.
  updateAccount(
    s,
    barKP,
    accountJwt(barKP, {
      imports: [{ account: fooPub, subject: "private", to: "import.private", type: "stream" }],
    }),
  );
  assertEquals(bar.streamImports.length, 0);
  const strTok = activation(fooKP, barPub, "private", "stream");
  updateAccount(
    s,
    barKP,
    accountJwt(barKP, {
      imports: [{ account: fooPub, subject: "private", to: "import.private", token: strTok, type: "stream" }],
    }),
  );
  assertEquals(bar.streamImports.length, 1);
});

Deno.test("TestJWTAccountExportWithResponseType: response types and token requirements of service exports", async () => {
  await using s = await opTrustBasicSetup();
  const fooKP = createAccount();
  const fooPub = fooKP.getPublicKey();
  storeAccount(
    s,
    fooPub,
    accountJwt(fooKP, {
      exports: [
        { subject: "test.stream", type: "service", "response_type": "Stream" },
        { subject: "test.single", type: "service", "response_type": "Singleton", "token_req": true },
        { subject: "test.chunk", type: "service", "response_type": "Chunked" },
        { subject: "test.def", type: "service", "token_req": true },
        { subject: "test.old", type: "service" },
      ],
    }),
  );
  const services = s.lookupAccount(fooPub)!.serviceExports;
  assertEquals(services.size, 5);
  const se = (k: string) => services.get(k)!;
  assertEquals([se("test.stream").respType, !!se("test.stream").auth.tokenReq], ["Streamed", false]);
  assertEquals([se("test.chunk").respType, !!se("test.chunk").auth.tokenReq], ["Chunked", false]);
  assertEquals([se("test.def").respType, !!se("test.def").auth.tokenReq], ["Singleton", true]);
  assertEquals([se("test.single").respType, !!se("test.single").auth.tokenReq], ["Singleton", true]);
  assertEquals(se("test.old").auth.approved?.size ?? 0, 0);
});

Deno.test("TestJWTAccountImportExportUpdates: shadow subscriptions follow import and export updates", async () => {
  await using s = await opTrustBasicSetup();
  const fooKP = createAccount();
  const fooPub = fooKP.getPublicKey();
  storeAccount(s, fooPub, accountJwt(fooKP, { exports: [{ subject: "foo", type: "stream" }] }));
  const barKP = createAccount();
  const barPub = barKP.getPublicKey();
  const imp = { imports: [{ account: fooPub, subject: "foo", to: "import", type: "stream" }] };
  storeAccount(s, barPub, accountJwt(barKP, imp));
  const { c, client } = await userOf(s, barKP);
  await c.send("SUB import.foo 1\r\n");
  await c.flush();
  assertEquals(shadows(client(), "1"), 1);
  // Removing the import removes the shadow.
  updateAccount(s, barKP, accountJwt(barKP, {}, oKp, { name: "no-import" }));
  assertEquals(shadows(client(), "1"), 0);
  // Adding it back brings it back.
  updateAccount(s, barKP, accountJwt(barKP, imp));
  assertEquals(shadows(client(), "1"), 1);
  // No exports any more.
  updateAccount(s, fooKP, accountJwt(fooKP, {}, oKp, { name: "no-export" }));
  assertEquals(shadows(client(), "1"), 0);
  // Exported again, but with a token required.
  updateAccount(
    s,
    fooKP,
    accountJwt(fooKP, { exports: [{ subject: "foo", type: "stream", "token_req": true }] }),
  );
  assertEquals(shadows(client(), "1"), 0);
  // Public again.
  updateAccount(s, fooKP, accountJwt(fooKP, { exports: [{ subject: "foo", type: "stream" }] }));
  assertEquals(shadows(client(), "1"), 1);
  c.close();
});

Deno.test("TestJWTAccountImportActivationExpires: an expired activation token removes the shadow", async () => {
  await using s = await opTrustBasicSetup();
  const fooKP = createAccount();
  const fooPub = fooKP.getPublicKey();
  storeAccount(
    s,
    fooPub,
    accountJwt(fooKP, { exports: [{ subject: "foo", type: "stream", "token_req": true }] }),
  );
  assert(s.lookupAccount(fooPub) !== undefined);
  const barKP = createAccount();
  const barPub = barKP.getPublicKey();
  const nowS = now();
  const tok = activation(fooKP, barPub, "foo", "stream", { base: { iat: nowS - 10, exp: nowS + 2 } });
  storeAccount(
    s,
    barPub,
    accountJwt(barKP, {
      imports: [{ account: fooPub, subject: "foo", to: "import.", token: tok, type: "stream" }],
    }),
  );
  assert(s.lookupAccount(barPub) !== undefined);
  const { c, client } = await userOf(s, barKP);
  await c.send("SUB import.foo 1\r\n");
  await c.flush();
  await checkFor(3000, 15, () => assertEquals(shadows(client(), "1"), 1));
  await delay(2250);
  await checkFor(3000, 15, () => assertEquals(shadows(client(), "1"), 0));
  c.close();
});

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

Deno.test("TestJWTAccountServiceImportAuthSwitch: a service export turned private stops, then resumes", async () => {
  await using s = await opTrustBasicSetup();
  const fooKP = createAccount();
  const fooPub = fooKP.getPublicKey();
  const fooJwt = accountJwt(fooKP, { exports: [{ subject: "ngs.usage.*", type: "service" }] });
  storeAccount(s, fooPub, fooJwt);
  const barKP = createAccount();
  storeAccount(
    s,
    barKP.getPublicKey(),
    accountJwt(barKP, {
      imports: [{ account: fooPub, subject: "ngs.usage", to: "ngs.usage.DEREK", type: "service" }],
    }),
  );
  const { c: ca } = await userOf(s, barKP);
  const { c: cb } = await userOf(s, fooKP);
  await cb.send("SUB ngs.usage.* 1\r\n");
  await cb.flush();
  await ca.send("PUB ngs.usage 2\r\nhi\r\n");
  await ca.flush();
  await cb.expect(/^MSG ngs\.usage\.DEREK 1 (?:\S+ )?2\r\nhi\r\n/);
  // Now private.
  updateAccount(
    s,
    fooKP,
    accountJwt(fooKP, { exports: [{ subject: "ngs.usage.*", type: "service", "token_req": true }] }),
  );
  await ca.send("PUB ngs.usage 2\r\nhi\r\n");
  await ca.flush();
  assertEquals(await quiet(cb), "");
  // Public again.
  updateAccount(
    s,
    fooKP,
    accountJwt(fooKP, { exports: [{ subject: "ngs.usage.*", type: "service" }] }, oKp, { name: "again" }),
  );
  await ca.send("PUB ngs.usage 2\r\nhi\r\n");
  await ca.flush();
  await cb.expect(/^MSG ngs\.usage\.DEREK 1 (?:\S+ )?2\r\nhi\r\n/);
  ca.close();
  cb.close();
});

Deno.test("TestJWTAccountServiceImportExpires: a service import with an expiring activation stops at expiry", async () => {
  await using s = await opTrustBasicSetup();
  const fooKP = createAccount();
  const fooPub = fooKP.getPublicKey();
  storeAccount(s, fooPub, accountJwt(fooKP, { exports: [{ subject: "foo", type: "service" }] }));
  const barKP = createAccount();
  const barPub = barKP.getPublicKey();
  storeAccount(
    s,
    barPub,
    accountJwt(barKP, { imports: [{ account: fooPub, subject: "foo", type: "service" }] }),
  );
  const { c: ca } = await userOf(s, barKP);
  const { c: cb } = await userOf(s, fooKP);
  await cb.send("SUB foo 1\r\n");
  await cb.flush();
  await ca.send("PUB foo 2\r\nhi\r\n");
  await ca.flush();
  await cb.expect(/^MSG foo 1 (?:\S+ )?2\r\nhi\r\n/);
  // The export now requires a token.
  updateAccount(
    s,
    fooKP,
    accountJwt(fooKP, { exports: [{ subject: "foo", type: "service", "token_req": true }] }),
  );
  await ca.send("PUB foo 2\r\nhi\r\n");
  await ca.flush();
  assertEquals(await quiet(cb), "");
  // A token that works, but expires.
  const nowS = now();
  const tok = activation(fooKP, barPub, "foo", "service", { base: { iat: nowS - 10, exp: nowS + 2 } });
  updateAccount(
    s,
    barKP,
    accountJwt(barKP, { imports: [{ account: fooPub, subject: "foo", token: tok, type: "service" }] }),
  );
  await ca.send("PUB foo 3\r\nhi2\r\n");
  await ca.flush();
  await cb.expect(/^MSG foo 1 (?:\S+ )?3\r\nhi2\r\n/);
  await delay((nowS + 2 - Date.now() / 1000) * 1000 + 250);
  await ca.send("PUB foo 3\r\nhi3\r\n");
  await ca.flush();
  assertEquals(await quiet(cb), "");
  ca.close();
  cb.close();
});

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

/** Go's setup of the signer tests: an exporter with a signing key, an importer with tokens that key signed. */
function signerSetup(issuerAccountOf: "exporter" | "importer") {
  const srvKP = createAccount();
  const srvPK = srvKP.getPublicKey();
  const signerKP = createAccount();
  const clientKP = createAccount();
  const clientPK = clientKP.getPublicKey();
  const srvJwt = (...keys: string[]) =>
    accountJwt(
      srvKP,
      {
        "signing_keys": keys,
        exports: [
          { subject: "foo", type: "service", "token_req": true },
          { subject: "bar", type: "stream", "token_req": true },
        ],
      },
      oKp,
      { name: `srv-${keys.length}` },
    );
  const ia = issuerAccountOf === "exporter" ? srvPK : clientPK;
  const token = (sub: string, kind: "stream" | "service") =>
    activation(signerKP, clientPK, sub, kind, { issuerAccount: ia });
  const clientJwt = accountJwt(clientKP, {
    imports: [
      { account: srvPK, subject: "foo", type: "service", token: token("foo", "service") },
      { account: srvPK, subject: "bar", type: "stream", token: token("bar", "stream") },
    ],
  });
  return { srvKP, srvPK, signerPK: signerKP.getPublicKey(), clientKP, clientPK, srvJwt, clientJwt };
}

Deno.test("TestJWTAccountImportSignerRemoved: imports signed by a removed signing key stop", async () => {
  await using s = await opTrustBasicSetup();
  const x = signerSetup("exporter");
  storeAccount(s, x.srvPK, x.srvJwt(x.signerPK));
  storeAccount(s, x.clientPK, x.clientJwt);
  const { c: client, client: cl } = await userOf(s, x.clientKP);
  assertEquals(shadows(cl(), "1"), 0);
  const { c: srv } = await userOf(s, x.srvKP);
  await srv.send("SUB foo 1\r\n");
  await srv.flush();
  await client.send("PUB foo 2\r\nhi\r\n");
  await client.flush();
  await srv.expect(/^MSG foo 1 2\r\nhi\r\n/);
  await client.send("SUB bar 1\r\n");
  await client.flush();
  assertEquals(shadows(cl(), "1"), 1);
  await srv.send("PUB bar 2\r\nhi\r\n");
  await srv.flush();
  await client.expect(/^MSG bar 1 2\r\nhi\r\n/);
  // The exporter drops its signing key.
  updateAccount(s, x.srvKP, x.srvJwt());
  await client.send("PUB foo 2\r\nhi\r\n");
  await client.flush();
  assertEquals(await quiet(srv), "");
  await srv.send("PUB bar 2\r\nhi\r\n");
  await srv.flush();
  assertEquals(await quiet(client), "");
  assertEquals(shadows(cl(), "1"), 0);
  client.close();
  srv.close();
});

Deno.test("TestJWTAccountImportSignerDeadlock: imports with signing-key tokens resolve while the exporter is in use", async () => {
  // Go guards a lock-order bug; here the check is that the importer resolves and its user connects.
  await using s = await opTrustBasicSetup();
  const x = signerSetup("exporter");
  storeAccount(s, x.srvPK, x.srvJwt(x.signerPK));
  storeAccount(s, x.clientPK, x.clientJwt);
  assert(s.lookupAccount(x.srvPK) !== undefined);
  const { c, client } = await userOf(s, x.clientKP);
  assertEquals(client().account.serviceImports.size, 1);
  assertEquals(client().account.streamImports.length, 1);
  c.close();
});

Deno.test("TestJWTAccountImportWrongIssuerAccount: a token naming the wrong issuer account fails validation", async () => {
  await using s = await opTrustBasicSetup();
  const x = signerSetup("importer");
  storeAccount(s, x.srvPK, x.srvJwt(x.signerPK));
  storeAccount(s, x.clientPK, x.clientJwt);
  const ukp = createUser();
  await using c = await connectJwt(s.port, userJwt(ukp, x.clientKP), ukp);
  await c.expect(/^-ERR 'Authorization Violation'\r\n/);
});

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

Deno.test("TestJWTImportTokenRevokedAfter: a token revoked after issue no longer imports", async () => {
  await using s = await opTrustBasicSetup();
  const fooKP = createAccount();
  const fooPub = fooKP.getPublicKey();
  const exp = { subject: "foo.private", type: "stream", "token_req": true } as Record<string, unknown>;
  storeAccount(s, fooPub, accountJwt(fooKP, { exports: [exp] }));
  const barKP = createAccount();
  const barPub = barKP.getPublicKey();
  const tok = activation(fooKP, barPub, "foo.private", "stream");
  storeAccount(
    s,
    barPub,
    accountJwt(barKP, { imports: [{ account: fooPub, subject: "foo.private", type: "stream", token: tok }] }),
  );
  // Now revoke the token (the library's Revoke: everything issued up to now).
  storeAccount(s, fooPub, accountJwt(fooKP, { exports: [{ ...exp, revocations: { [barPub]: now() } }] }));
  assert(s.lookupAccount(fooPub) !== undefined);
  const bar = s.lookupAccount(barPub);
  assert(bar !== undefined);
  assertEquals(bar.streamImports.length, 0);
});

Deno.test("TestJWTImportTokenRevokedBefore: a token revoked before the importer loads never imports", async () => {
  await using s = await opTrustBasicSetup();
  const fooKP = createAccount();
  const fooPub = fooKP.getPublicKey();
  const barKP = createAccount();
  const barPub = barKP.getPublicKey();
  const tok = activation(fooKP, barPub, "foo.private", "stream");
  storeAccount(
    s,
    fooPub,
    accountJwt(fooKP, {
      exports: [{
        subject: "foo.private",
        type: "stream",
        "token_req": true,
        revocations: { [barPub]: now() },
      }],
    }),
  );
  storeAccount(
    s,
    barPub,
    accountJwt(barKP, { imports: [{ account: fooPub, subject: "foo.private", type: "stream", token: tok }] }),
  );
  assert(s.lookupAccount(fooPub) !== undefined);
  const bar = s.lookupAccount(barPub);
  assert(bar !== undefined);
  assertEquals(bar.streamImports.length, 0);
});

Deno.test("TestJWTCircularAccountServiceImport: accounts importing each other's token-required services load", async () => {
  await using s = await opTrustBasicSetup();
  const fooKP = createAccount();
  const fooPub = fooKP.getPublicKey();
  const barKP = createAccount();
  const barPub = barKP.getPublicKey();
  storeAccount(
    s,
    fooPub,
    accountJwt(fooKP, {
      exports: [{ subject: "foo", type: "service", "token_req": true }],
      imports: [{ account: barPub, subject: "bar", type: "service" }],
    }),
  );
  storeAccount(
    s,
    barPub,
    accountJwt(barKP, {
      exports: [{ subject: "bar", type: "service", "token_req": true }],
      imports: [{ account: fooPub, subject: "foo", type: "service" }],
    }),
  );
  const { c } = await userOf(s, fooKP);
  await c.send("SUB foo 1\r\n");
  assertEquals(await quiet(c), "");
  assert(s.lookupAccount(barPub) !== undefined);
  c.close();
});

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

/** A server with operator mode, `sys` as the system account and both accounts preloaded. */
async function sysImportServer(sys: [KeyPair, string], acc: [KeyPair, string]): Promise<TestServer> {
  const { createConfFile, runServerWithConfig } = await import("./_util.ts");
  const [skp, sysJwt] = sys;
  const [akp, aJwt] = acc;
  return await runServerWithConfig(
    await createConfFile(`
      listen: 127.0.0.1:-1
      operator: ${OJWT}
      system_account: ${skp.getPublicKey()}
      resolver: MEM
      resolver_preload: {
        ${skp.getPublicKey()}: ${sysJwt}
        ${akp.getPublicKey()}: ${aJwt}
      }
    `),
  );
}

/** A request's answer, or the error's message. */
async function requestOrError(nc: NatsLike, subject: string): Promise<string> {
  try {
    return dec.decode((await nc.request(subject, "", { timeout: 1000 })).data);
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

Deno.test("TestJWTSysImportForDifferentAccount: an account imports another account's INFO from $SYS", async () => {
  const skp = createAccount();
  const sysJwt = accountJwt(
    skp,
    { exports: [{ type: "service", subject: "$SYS.REQ.ACCOUNT.*.INFO" }] },
    oKp,
    {
      name: "SYS",
    },
  );
  const akp = createAccount();
  const aJwt = accountJwt(
    akp,
    {
      imports: [{
        type: "service",
        subject: "$SYS.REQ.ACCOUNT.*.INFO",
        "local_subject": "COMMON.ADVISORY.SYS.REQ.ACCOUNT.*.INFO",
        account: skp.getPublicKey(),
      }],
    },
    oKp,
    { name: "A" },
  );
  await using s = await sysImportServer([skp, sysJwt], [akp, aJwt]);
  const nc = await connect({ servers: s.clientUrl(), authenticator: credsOf(akp) });
  try {
    const r = await requestOrError(nc, `COMMON.ADVISORY.SYS.REQ.ACCOUNT.${skp.getPublicKey()}.INFO`);
    const resp = JSON.parse(r);
    assertEquals(resp.error, undefined);
    assertEquals(resp.data.account_name, skp.getPublicKey());
  } finally {
    await nc.close();
  }
});

Deno.test("TestJWTSysImportFromNothing: imports of the server's own $SYS exports need the importer's name", async () => {
  const skp = createAccount();
  const sysJwt = accountJwt(skp, {}, oKp, { name: "SYS" });
  const akp = createAccount();
  const spub = skp.getPublicKey();
  const apub = akp.getPublicKey();
  const aJwt = accountJwt(
    akp,
    {
      imports: [
        // Not for its own account, but the system account's.
        {
          type: "service",
          subject: `$SYS.REQ.ACCOUNT.${spub}.CONNZ`,
          "local_subject": "fail1",
          account: spub,
        },
        // Not for its own account, but every account's.
        { type: "service", subject: "$SYS.REQ.ACCOUNT.*.CONNZ", "local_subject": "fail2.*", account: spub },
        {
          type: "service",
          subject: `$SYS.REQ.ACCOUNT.${apub}.CONNZ`,
          "local_subject": "pass",
          account: spub,
        },
      ],
    },
    oKp,
    { name: "A" },
  );
  await using s = await sysImportServer([skp, sysJwt], [akp, aJwt]);
  const nc = await connect({ servers: s.clientUrl(), authenticator: credsOf(akp) });
  try {
    assert(!(await requestOrError(nc, "pass")).startsWith("error"));
    // The import every account has.
    assert(!(await requestOrError(nc, "$SYS.REQ.ACCOUNT.PING.CONNZ")).startsWith("error"));
    assertMatch(await requestOrError(nc, "fail1"), /no responders/);
    // Fails even for its own account, as the import itself is bad.
    assertMatch(await requestOrError(nc, `fail2.${apub}`), /no responders/);
  } finally {
    await nc.close();
  }
});

Deno.test("TestJWTSysImportOverwritePublic: a public $SYS export in the JWT allows requests for any account", async () => {
  const skp = createAccount();
  const spub = skp.getPublicKey();
  const sysJwt = accountJwt(skp, { exports: [{ type: "service", subject: "$SYS.REQ.ACCOUNT.*.>" }] }, oKp, {
    name: "SYS",
  });
  const akp = createAccount();
  const apub = akp.getPublicKey();
  const aJwt = accountJwt(
    akp,
    {
      imports: [
        {
          type: "service",
          subject: `$SYS.REQ.ACCOUNT.${spub}.CONNZ`,
          "local_subject": "pass1",
          account: spub,
        },
        {
          type: "service",
          subject: `$SYS.REQ.ACCOUNT.${apub}.CONNZ`,
          "local_subject": "pass2",
          account: spub,
        },
        { type: "service", subject: "$SYS.REQ.ACCOUNT.*.CONNZ", "local_subject": "pass3.*", account: spub },
      ],
    },
    oKp,
    { name: "A" },
  );
  await using s = await sysImportServer([skp, sysJwt], [akp, aJwt]);
  const nc = await connect({ servers: s.clientUrl(), authenticator: credsOf(akp) });
  try {
    for (const subj of ["pass1", "pass2", `pass3.${spub}`, `pass3.${apub}`, "pass3.PING"]) {
      const r = await requestOrError(nc, subj);
      assert(!r.startsWith("error"), `${subj}: ${r}`);
    }
  } finally {
    await nc.close();
  }
});

Deno.test("TestJWTSysImportOverwriteToken: the server's own imports stay with a token-only $SYS export", async () => {
  const skp = createAccount();
  const sysJwt = accountJwt(
    skp,
    { exports: [{ type: "service", subject: "$SYS.REQ.>", "token_req": true }] },
    oKp,
    { name: "SYS" },
  );
  const akp = createAccount();
  const aJwt = accountJwt(akp, {}, oKp, { name: "A" });
  await using s = await sysImportServer([skp, sysJwt], [akp, aJwt]);
  const nc = await connect({ servers: s.clientUrl(), authenticator: credsOf(akp) });
  try {
    const r = await requestOrError(nc, "$SYS.REQ.ACCOUNT.PING.CONNZ");
    assert(!r.startsWith("error"), r);
  } finally {
    await nc.close();
  }
});

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

Deno.test("TestJWTActivationRevocation: revoked activations stop a stream import; clearing resumes it", async (t) => {
  for (const all of [false, true]) {
    await t.step(all ? "all-key" : "specific-key", async (t) => {
      const aExpKp = createAccount();
      const aExpPub = aExpKp.getPublicKey();
      const aImpKp = createAccount();
      const aImpPub = aImpKp.getPublicKey();
      const token = activation(aExpKp, aImpPub, "foo", "stream");
      const exp = { subject: "foo", type: "stream", "token_req": true };
      const aExp1Jwt = accountJwt(aExpKp, { exports: [exp] }, oKp, { name: "Export" });
      const revKey = all ? "*" : aImpPub;
      const aExp2Jwt = accountJwt(
        aExpKp,
        { exports: [{ ...exp, revocations: { [revKey]: now() + 1 } }] },
        oKp,
        {
          name: "Export",
        },
      );
      const aExp3Jwt = accountJwt(aExpKp, { exports: [{ ...exp }] }, oKp, {
        name: "Export",
        exp: now() + 3600,
      });
      const aImpJwt = accountJwt(
        aImpKp,
        {
          imports: [{ subject: "foo", type: "stream", account: aExpPub, token }],
        },
        oKp,
        { name: "Import" },
      );
      const run = async (
        first: string,
        fn: (exp: NatsLike, imp: NatsLike, s: TestServer, sys: string) => Promise<void>,
      ) => {
        const dir = await Deno.makeTempDir();
        try {
          const { s, sysCreds } = await fullResolverServer(dir);
          await using _s = s;
          assertEquals(await updateJwt(s, sysCreds, first), 1);
          assertEquals(await updateJwt(s, sysCreds, aImpJwt), 1);
          const ncExp = await connect({ servers: s.clientUrl(), authenticator: credsOf(aExpKp) });
          const ncImp = await connect({ servers: s.clientUrl(), authenticator: credsOf(aImpKp) });
          try {
            await fn(ncExp, ncImp, s, sysCreds);
          } finally {
            await ncExp.close();
            await ncImp.close();
          }
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      };
      await t.step("token-expired-on-connect", async () => {
        await run(aExp2Jwt, async (ncExp, ncImp) => {
          const sub = queueSub(ncImp, "foo");
          await ncImp.flush();
          ncExp.publish("foo", "1");
          await ncExp.flush();
          assertEquals(await sub.next(500), undefined);
        });
      });
      await t.step("token-expired-on-update", async () => {
        await run(aExp1Jwt, async (ncExp, ncImp, s, sysCreds) => {
          const sub = queueSub(ncImp, "foo");
          await ncImp.flush();
          ncExp.publish("foo", "1");
          assertEquals(await sub.next(1000), "1");
          assertEquals(await updateJwt(s, sysCreds, aExp2Jwt), 1);
          ncExp.publish("foo", "2");
          assertEquals(await sub.next(500), undefined);
          assertEquals(await updateJwt(s, sysCreds, aExp3Jwt), 1);
          ncExp.publish("foo", "3");
          assertEquals(await sub.next(1000), "3");
        });
      });
    });
  }
});
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

Deno.test("TestJWTAccountImportsWithWildcardSupport: wildcard imports with to, local_subject and reordering", async (t) => {
  const sysKp = createAccount();
  const createExporter = () => {
    const kp = createAccount();
    const jwt = accountJwt(
      kp,
      {
        exports: [{ subject: "$request.*.$in.*.>", type: "service" }, {
          subject: "$events.*.$in.*.>",
          type: "stream",
        }],
      },
      oKp,
      { name: "Export" },
    );
    return { kp, jwt };
  };
  const run = async (
    exp: { kp: KeyPair; jwt: string },
    imports: Record<string, unknown>[],
    exSubExpect: string,
    exPub: string,
    imReq: string,
    imSubExpect: string,
  ) => {
    const impKp = createAccount();
    const impJwt = accountJwt(impKp, { imports }, oKp, { name: "Import" });
    await using s = await runServer({
      trustedOperators: [{ jwt: OJWT, claims: {} }],
      accountResolver: { type: "MEMORY" },
      systemAccount: sysKp.getPublicKey(),
      resolverPreload: {
        [exp.kp.getPublicKey()]: exp.jwt,
        [impKp.getPublicKey()]: impJwt,
        [sysKp.getPublicKey()]: accountJwt(sysKp),
      },
    });
    const ncExp = await connect({ servers: s.clientUrl(), authenticator: credsOf(exp.kp) });
    const ncImp = await connect({ servers: s.clientUrl(), authenticator: credsOf(impKp) });
    try {
      ncExp.subscribe(exSubExpect, { callback: (_e, m) => void m.respond("yes!") });
      await ncExp.flush();
      const resp = await ncImp.request(imReq, "yes?", { timeout: 1000 });
      assertEquals(resp.string(), "yes!");
      const sub = queueSub(ncImp, imSubExpect);
      await ncImp.flush();
      ncExp.publish(exPub, "event!");
      assertEquals(await sub.next(1000), "event!");
    } finally {
      await ncExp.close();
      await ncImp.close();
    }
  };
  await t.step("To", async () => {
    const exp = createExporter();
    const pub = exp.kp.getPublicKey();
    await run(
      exp,
      [
        // Services have local and remote switched between subject and to.
        { subject: "my.request.*.*.>", type: "service", to: "$request.*.$in.*.>", account: pub },
        { subject: "$events.*.$in.*.>", type: "stream", to: "prefix", account: pub },
      ],
      "$request.1.$in.2.bar",
      "$events.1.$in.2.bar",
      "my.request.1.2.bar",
      "prefix.$events.1.$in.2.bar",
    );
  });
  await t.step("LocalSubject-No-Reorder", async () => {
    const exp = createExporter();
    const pub = exp.kp.getPublicKey();
    await run(
      exp,
      [
        { subject: "$request.*.$in.*.>", type: "service", "local_subject": "my.request.*.*.>", account: pub },
        { subject: "$events.*.$in.*.>", type: "stream", "local_subject": "my.events.*.*.>", account: pub },
      ],
      "$request.1.$in.2.bar",
      "$events.1.$in.2.bar",
      "my.request.1.2.bar",
      "my.events.1.2.bar",
    );
  });
  await t.step("LocalSubject-Reorder", async () => {
    // blocked (partly): the JetStream-enabled variant of this step needs JetStream over operator mode.
    const exp = createExporter();
    const pub = exp.kp.getPublicKey();
    await run(
      exp,
      [
        {
          subject: "$request.*.$in.*.>",
          type: "service",
          "local_subject": "my.request.$2.$1.>",
          account: pub,
        },
        { subject: "$events.*.$in.*.>", type: "stream", "local_subject": "my.events.$2.$1.>", account: pub },
      ],
      "$request.2.$in.1.bar",
      "$events.1.$in.2.bar",
      "my.request.1.2.bar",
      "my.events.2.1.bar",
    );
  });
});

Deno.test("TestJWTAccountTokenImportMisuse: tokens for another account or subject are refused", async (t) => {
  const aExpKp = createAccount();
  const aExpPub = aExpKp.getPublicKey();
  const aExpJwt = accountJwt(
    aExpKp,
    {
      exports: [
        { subject: "$events.*.$in.*.>", type: "stream", "token_req": true },
        { subject: "foo", type: "stream", "token_req": true },
      ],
    },
    oKp,
    { name: "Export" },
  );
  const importer = (tokenSub: (impPub: string) => string, subject: string) => {
    const kp = createAccount();
    const token = activation(aExpKp, tokenSub(kp.getPublicKey()), subject, "stream");
    const jwt = accountJwt(
      kp,
      {
        imports: [{ subject: "$events.*.$in.*.>", type: "stream", account: aExpPub, token }],
      },
      oKp,
      { name: "Import" },
    );
    return { kp, jwt };
  };
  const testConnect = async (imp: { kp: KeyPair; jwt: string }) => {
    // Go serves the JWTs from a URL resolver; a memory resolver holds the same JWTs here.
    await using s = await runServer({
      trustedOperators: [{ jwt: OJWT, claims: {} }],
      accountResolver: { type: "MEMORY" },
      resolverPreload: { [aExpPub]: aExpJwt, [imp.kp.getPublicKey()]: imp.jwt },
    });
    const ukp = createUser();
    await using c = await connectJwt(s.port, userJwt(ukp, imp.kp), ukp);
    await c.expect(/^-ERR 'Authorization Violation'\r\n/);
  };
  const testNatsResolver = async (imp: { kp: KeyPair; jwt: string }) => {
    const dir = await Deno.makeTempDir();
    try {
      const { s, sysCreds } = await fullResolverServer(dir);
      await using _s = s;
      assertEquals(await updateJwt(s, sysCreds, aExpJwt), 1);
      assertEquals(await updateJwt(s, sysCreds, imp.jwt), 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
  const cases: [string, (p: string) => string, string][] = [
    ["wrong-account", () => createAccount().getPublicKey(), "$events.*.$in.*.>"],
    ["different-subject", (p) => p, "foo"],
    ["non-existing-subject", (p) => p, "does-not-exist-or-from-different-export"],
  ];
  for (const [name, sub, subject] of cases) {
    await t.step(name, async () => {
      const imp = importer(sub, subject);
      await testConnect(imp);
      await testNatsResolver(imp);
    });
  }
});

Deno.test("TestJWTResponseThreshold: a JWT response threshold drops late responses", async (t) => {
  // Go uses 20 ms (a 10 ms reply must beat it); on a loaded 2-core machine that margin is too thin, so the
  // threshold is 250 ms with a reply at a tenth of it, and the late reply at twice it as in Go.
  const respThreshMs = 250;
  const aExpKp = createAccount();
  const aExpPub = aExpKp.getPublicKey();
  const aExpJwt = accountJwt(
    aExpKp,
    {
      exports: [{ subject: "srvc", type: "service", "response_threshold": respThreshMs * 1_000_000 }],
    },
    oKp,
    { name: "Export" },
  );
  const aImpKp = createAccount();
  const aImpJwt = accountJwt(
    aImpKp,
    { imports: [{ subject: "srvc", type: "service", account: aExpPub }] },
    oKp,
    {
      name: "Import",
    },
  );
  await using s = await runServer({
    trustedOperators: [{ jwt: OJWT, claims: {} }],
    accountResolver: { type: "MEMORY" },
    resolverPreload: { [aExpPub]: aExpJwt, [aImpKp.getPublicKey()]: aImpJwt },
  });
  assertEquals(s.lookupAccount(aExpPub)!.serviceExportResponseThreshold("srvc"), respThreshMs);
  const ncExp = await connect({ servers: s.clientUrl(), authenticator: credsOf(aExpKp) });
  const ncImp = await connect({ servers: s.clientUrl(), authenticator: credsOf(aImpKp) });
  try {
    const delays: number[] = [];
    ncExp.subscribe("srvc", {
      callback: (_e, m) => {
        setTimeout(() => m.respond("yes!"), delays.shift() ?? 0);
      },
    });
    await ncExp.flush();
    await t.step("No-Timeout", async () => {
      delays.push(respThreshMs / 10);
      const r = await ncImp.request("srvc", "yes?", { timeout: 4 * respThreshMs });
      assertEquals(r.string(), "yes!");
    });
    await t.step("Timeout", async () => {
      delays.push(2 * respThreshMs);
      let err = "";
      try {
        await ncImp.request("srvc", "yes?", { timeout: 4 * respThreshMs });
      } catch (e) {
        err = (e as Error).message;
      }
      assertMatch(err, /timeout/i);
    });
  } finally {
    await ncExp.close();
    await ncImp.close();
  }
});
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

Deno.test("TestJWTAccountProtectedImport: account_token_position protects exports per importer", async (t) => {
  const setupAccounts = (pass: boolean) => {
    const exportKP = createAccount();
    const exportPub = exportKP.getPublicKey();
    const exportJWT = accountJwt(exportKP, {
      exports: [
        { subject: "service.*", type: "service", "account_token_position": 2 },
        { subject: "stream.*", type: "stream", "account_token_position": 2 },
      ],
    });
    const exportJWTNoPos = accountJwt(
      exportKP,
      {
        exports: [{ subject: "service.*", type: "service" }, { subject: "stream.*", type: "stream" }],
      },
      oKp,
      { name: "nopos" },
    );
    const importKP = createAccount();
    const importPub = importKP.getPublicKey();
    const srvcSub = pass ? `service.${importPub}` : "service.foo";
    const strmSub = pass ? `stream.${importPub}` : "stream.foo";
    const importJWT = accountJwt(importKP, {
      imports: [
        { account: exportPub, subject: srvcSub, type: "service" },
        { account: exportPub, subject: strmSub, type: "stream" },
      ],
    });
    return {
      exportKP,
      exportPub,
      exportJWT,
      exportJWTNoPos,
      importKP,
      importPub,
      importJWT,
      srvcSub,
      strmSub,
    };
  };
  const memServer = (x: ReturnType<typeof setupAccounts>) =>
    runServer({
      trustedOperators: [{ jwt: OJWT, claims: {} }],
      accountResolver: { type: "MEMORY" },
      resolverPreload: { [x.exportPub]: x.exportJWT, [x.importPub]: x.importJWT },
    });
  await t.step("pass", async () => {
    const x = setupAccounts(true);
    await using s = await memServer(x);
    const ncExp = await connect({ servers: s.clientUrl(), authenticator: credsOf(x.exportKP) });
    const ncImp = await connect({ servers: s.clientUrl(), authenticator: credsOf(x.importKP) });
    try {
      const sub = ncExp.subscribe("service.*", { callback: (_e, m) => void m.respond("world") });
      await ncExp.flush();
      assertEquals((await ncImp.request(x.srvcSub, "hello", { timeout: 1000 })).string(), "world");
      sub.unsubscribe();
      const q = queueSub(ncImp, x.strmSub);
      await ncImp.flush();
      ncExp.publish("stream.foo", "hello");
      ncExp.publish(x.strmSub, "hello");
      assertEquals(await q.next(1000), "hello");
      assertEquals(await q.next(100), undefined);
    } finally {
      await ncExp.close();
      await ncImp.close();
    }
  });
  await t.step("fail", async () => {
    const x = setupAccounts(false);
    await using s = await memServer(x);
    const ncExp = await connect({ servers: s.clientUrl(), authenticator: credsOf(x.exportKP) });
    const ncImp = await connect({ servers: s.clientUrl(), authenticator: credsOf(x.importKP) });
    try {
      ncExp.subscribe("service.*", { callback: (_e, m) => void m.respond("world") });
      await ncExp.flush();
      let err = "";
      try {
        await ncImp.request(x.srvcSub, "hello", { timeout: 1000 });
      } catch (e) {
        err = String((e as Error).message) + String((e as Error).cause ?? "");
      }
      assertMatch(err, /no responders/);
      const q = queueSub(ncImp, x.strmSub);
      await ncImp.flush();
      ncExp.publish("stream.foo", "hello");
      ncExp.publish(x.strmSub, "hello");
      assertEquals(await q.next(250), undefined);
    } finally {
      await ncExp.close();
      await ncImp.close();
    }
  });
  await t.step("reload-off-2-on", async () => {
    const x = setupAccounts(false);
    const dir = await Deno.makeTempDir();
    try {
      const { s, sysCreds } = await fullResolverServer(dir);
      await using _s = s;
      assertEquals(await updateJwt(s, sysCreds, x.importJWT), 1);
      assertEquals(await updateJwt(s, sysCreds, x.exportJWTNoPos), 1);
      const ncExp = await connect({ servers: s.clientUrl(), authenticator: credsOf(x.exportKP) });
      const ncImp = await connect({ servers: s.clientUrl(), authenticator: credsOf(x.importKP) });
      try {
        ncExp.subscribe("service.*", { callback: (_e, m) => void m.respond("world") });
        await ncExp.flush();
        assertEquals((await ncImp.request(x.srvcSub, "hello", { timeout: 1000 })).string(), "world");
        const q = queueSub(ncImp, x.strmSub);
        await ncImp.flush();
        ncExp.publish(x.strmSub, "hello");
        assertEquals(await q.next(1000), "hello");
        assertEquals(await q.next(50), undefined);
        assertEquals(await updateJwt(s, sysCreds, x.exportJWT), 1);
        // The service import is no longer authorized.
        let err = "";
        try {
          await ncImp.request(x.srvcSub, "hello", { timeout: 1000 });
        } catch (e) {
          err = (e as Error).message;
        }
        assertMatch(err, /timeout|no responders/i);
        ncExp.publish(x.strmSub, "hello");
        assertEquals(await q.next(250), undefined);
      } finally {
        await ncExp.close();
        await ncImp.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("TestJWTMappings: mappings from account JWTs are turned on, changed and off by claim updates", async () => {
  const aKp = createAccount();
  const aPub = aKp.getPublicKey();
  const aJwtNoM = accountJwt(aKp, {}, oKp, { name: "none" });
  const aJwtMap1 = accountJwt(aKp, { mappings: { foo1: [{ subject: "bar1" }] } });
  const aJwtMap2 = accountJwt(aKp, { mappings: { foo2: [{ subject: "bar2" }] } });
  const dir = await Deno.makeTempDir();
  try {
    const { s, sysCreds } = await fullResolverServer(dir);
    await using _s = s;
    const test = async (pub: string, sub: string, fail: boolean) => {
      const nc = await connect({ servers: s.clientUrl(), authenticator: credsOf(aKp) });
      try {
        const q = queueSub(nc, sub);
        await nc.flush();
        nc.publish(pub);
        const got = await q.next(fail ? 300 : 500);
        assertEquals(got === undefined, fail, `${pub} -> ${sub}`);
      } finally {
        await nc.close();
      }
    };
    assertEquals(await updateJwt(s, sysCreds, aJwtMap1), 1);
    await test("foo1", "bar1", false);
    assertEquals(await updateJwt(s, sysCreds, aJwtMap2), 1);
    await test("foo1", "bar1", true);
    await test("foo2", "bar2", false);
    assertEquals(await updateJwt(s, sysCreds, aJwtNoM), 1);
    await test("foo2", "bar2", true);
    assertEquals(s.lookupAccount(aPub)!.mappings.length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

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

Deno.test("TestJWTAccountConnzAccessAfterClaimUpdate: the system imports and exports survive claim updates", async () => {
  const skp = createAccount();
  const spub = skp.getPublicKey();
  const sjwt = accountJwt(skp, { mappings: { "foo.bar": [{ subject: "foo.baz" }] } });
  const akp = createAccount();
  const jwt1 = accountJwt(akp);
  const jwt2 = accountJwt(akp, { mappings: { "foo.bar": [{ subject: "foo.baz" }] } });
  const dir = await Deno.makeTempDir();
  try {
    await using s = await runServer({
      trustedOperators: [{ jwt: OJWT, claims: {} }],
      systemAccount: spub,
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
      resolverPreload: { [spub]: accountJwt(skp) },
    });
    const ukp = createUser();
    const sysCreds = formatUserConfig(userJwt(ukp, skp), seedOf(ukp));
    const update = async (jwt: string) => assertEquals(await updateJwt(s, sysCreds, jwt), 1);
    await update(jwt1);
    const nc = await connect({ servers: s.clientUrl(), authenticator: credsOf(akp) });
    const doRequest = async () => {
      const r = JSON.parse(await requestOrError(nc, "$SYS.REQ.SERVER.PING.CONNZ"));
      assertEquals(r.error, undefined);
      assertEquals(r.data.num_connections, 1);
    };
    try {
      await doRequest();
      await update(jwt2);
      // A wiped system import would answer no responders.
      await doRequest();
      // An update of the system account itself: a wiped export would time out.
      await update(sjwt);
      await doRequest();
    } finally {
      await nc.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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
