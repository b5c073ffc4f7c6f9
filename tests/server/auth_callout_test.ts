// Ports of nats-server server/auth_callout_test.go (server configuration and operator mode). The callout
// service is written with the official client, as the Go tests do with nats.go.
import { assert, assertEquals, assertMatch, assertRejects, assertStringIncludes } from "@std/assert";
import {
  connect,
  type ConnectionOptions,
  credsAuthenticator,
  type Msg,
  type NatsConnection,
} from "@nats-io/transport-node";
import * as nkeys from "@nats-io/nkeys";
import { decodeGeneric, decodeUserClaims, encodeJwt, formatUserConfig } from "../../src/auth/jwt.ts";
import {
  AUTH_CALLOUT_SUBJECT,
  AUTH_REQUEST_XKEY_HEADER,
  encodeClaims,
} from "../../src/server/_auth_callout.ts";
import { createConfFile, loadConfig, runServerWithConfig } from "./_util.ts";
import type { TestServer } from "../_helpers/server.ts";
import {
  accountJwt,
  createAccount,
  createUser,
  type KeyPair,
  OJWT,
  oKp,
  seedOf,
  userJwt,
} from "../_helpers/jwt.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const AUTH_CALLOUT_SEED = "SUAP277QP7U4JMFFPVZHLJYEQJ2UHOTYVEIZJYAWRJXQLP4FRSEHYZJJOU";
const AUTH_CALLOUT_ISSUER = "ABJHLOVMPA4CI6R5KLNGOB4GSLNIY7IOUPAJC4YFNDLQVIOBYQGUWVLA";
const AUTH_CALLOUT_ISSUER_SEED = "SAANDLKMXL6CUS3CP52WIXBEDN6YJ545GDKC65U5JZPPV6WH6ESWUA6YAI";
const CURVE_SEED = "SXAAXMRAEP6JWWHNB6IKFL554IE6LZVT6EY5MBRICPILTLOPHAG73I3YX4";
const CURVE_PUBLIC = "XAB3NANV3M6N7AHSQP2U5FRWKKUT7EG2ZXXABV4XVXYQRJGM4S2CZGHT";
const USER_INFO = "$SYS.REQ.USER.INFO";

const issuerKp = nkeys.fromSeed(enc.encode(AUTH_CALLOUT_ISSUER_SEED));

/** A decoded authorization request: Go's decodeAuthRequest. */
interface AuthRequest {
  user: string;
  si: Record<string, unknown> & { id: string; name: string; xkey?: string; tags?: string[] };
  ci: Record<string, unknown> & { host: string };
  opts: Record<string, unknown> & { user?: string; pass?: string; sig?: string; auth_token?: string };
  tls?: Record<string, unknown>;
  claims: Record<string, unknown>;
}

function decodeAuthRequest(data: Uint8Array): AuthRequest {
  const c = decodeGeneric(dec.decode(data));
  const n = c.nats as Record<string, unknown>;
  return {
    user: n.user_nkey as string,
    si: n.server_id as AuthRequest["si"],
    ci: n.client_info as AuthRequest["ci"],
    opts: n.connect_opts as AuthRequest["opts"],
    tls: n.client_tls as Record<string, unknown> | undefined,
    claims: c as unknown as Record<string, unknown>,
  };
}

/** Go's serviceResponse: an authorization response signed by the callout issuer. */
function serviceResponse(
  userId: string,
  serverId: string,
  uJwt: string,
  errMsg: string,
  expiresS = 0,
): Uint8Array {
  const nats: Record<string, unknown> = {};
  if (uJwt) nats.jwt = uJwt;
  if (errMsg) nats.error = errMsg;
  const claims: Record<string, unknown> = { aud: serverId, sub: userId, nats };
  if (expiresS !== 0) claims.exp = Math.floor(Date.now() / 1000) + expiresS;
  return enc.encode(
    encodeClaims("authorization_response", claims, {
      pub: issuerKp.getPublicKey(),
      sign: (d) => issuerKp.sign(d),
    }),
  );
}

/** Go's createAuthUser (server configuration mode): the audience names the account. */
function createAuthUser(
  user: string,
  name: string,
  account: string,
  expiresS = 0,
  limits: Record<string, unknown> = {},
): string {
  const base: Record<string, unknown> = { sub: user, aud: account };
  if (name) base.name = name;
  if (expiresS !== 0) base.exp = Math.floor(Date.now() / 1000) + expiresS;
  return encodeJwt("user", {
    ...base,
    nats: { pub: {}, sub: {}, subs: -1, data: -1, payload: -1, ...limits },
  }, issuerKp);
}

/** Go's authTest: a server from `conf` and a callout service connected with `opts`. */
class AuthTest implements AsyncDisposable {
  clients: NatsConnection[] = [];
  private constructor(readonly srv: TestServer, readonly authClient: NatsConnection) {}

  static async start(
    conf: string,
    handler: (m: Msg) => void,
    opts: Partial<ConnectionOptions>,
  ): Promise<AuthTest> {
    const srv = await runServerWithConfig(await createConfFile(conf));
    const authClient = await connect({ servers: srv.clientUrl(), ...opts });
    authClient.subscribe(AUTH_CALLOUT_SUBJECT, { callback: (_e, m) => handler(m) });
    await authClient.flush();
    return new AuthTest(srv, authClient);
  }

  async connect(opts: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
    const nc = await connect({ servers: this.srv.clientUrl(), reconnect: false, ...opts });
    this.clients.push(nc);
    return nc;
  }

  async requireConnectError(opts: Partial<ConnectionOptions> = {}): Promise<Error> {
    return await assertRejects(() => this.connect(opts));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const c of this.clients) await c.close().catch(() => {});
    await this.authClient.close().catch(() => {});
    await this.srv[Symbol.asyncDispose]();
  }
}

async function userInfo(nc: NatsConnection): Promise<Record<string, unknown>> {
  const r = await nc.request(USER_INFO, "", { timeout: 1000 });
  return JSON.parse(dec.decode(r.data)).data;
}

function clientByUser(s: TestServer, user: string) {
  return [...s.clients.values()].find((c) => c.opts.user === user || c.opts.nkey === user);
}

function logged(s: TestServer): string {
  return (s.log.captured ?? []).join("\n");
}

const BASIC_CONF = `
  listen: "127.0.0.1:-1"
  server_name: A
  authorization {
    timeout: 1s
    users: [ { user: "auth", password: "pwd" } ]
    auth_callout {
      issuer: "${AUTH_CALLOUT_ISSUER}"
      auth_users: [ auth ]
    }
  }
`;

const AUTH_ACCOUNT_CONF = `
  listen: "127.0.0.1:-1"
  server_name: A
  accounts {
    AUTH { users [ {user: "auth", password: "pwd"} ] }
    FOO {}
  }
  authorization {
    auth_callout {
      issuer: "${AUTH_CALLOUT_ISSUER}"
      account: AUTH
      auth_users: [ auth ]
    }
  }
`;

Deno.test("TestAuthCalloutBasics: the callout admits one user with its permissions and refuses another", async () => {
  let callouts = 0;
  const handler = (m: Msg) => {
    callouts++;
    const { user, si, ci, opts } = decodeAuthRequest(m.data);
    assertEquals(si.name, "A");
    assertEquals(ci.host, "127.0.0.1");
    if (opts.user === "dlc" && opts.pass === "zzz") {
      const ujwt = createAuthUser(user, "", "$G", 600, { pub: { allow: ["$SYS.>"] }, payload: 1024 });
      m.respond(serviceResponse(user, si.id, ujwt, ""));
    } else m.respond(new Uint8Array(0));
  };
  await using at = await AuthTest.start(BASIC_CONF, handler, { user: "auth", pass: "pwd" });
  await at.requireConnectError({ user: "dlc", pass: "xxx" });
  const nc = await at.connect({ user: "dlc", pass: "zzz" });
  const ui = await userInfo(nc);
  assertEquals(ui.user, "dlc");
  assertEquals(ui.account, "$G");
  const c = clientByUser(at.srv, "dlc")!;
  assert(c.perms?.canPublish("$SYS.REQ.USER.INFO", false));
  // Auto-added since the user is in the callout account.
  assert(!c.perms?.canPublish(AUTH_CALLOUT_SUBJECT, false));
  assert(!c.perms?.canPublish("foo", false));
  assertEquals(c.maxPayload(), 1024);
  assertEquals(callouts, 2);
  assertStringIncludes(logged(at.srv), "Auth callout violation");
});

Deno.test("TestAuthCalloutMultiAccounts: the response's audience places the user in another account", async () => {
  const conf = `
    listen: "127.0.0.1:-1"
    server_name: ZZ
    accounts {
      AUTH { users [ {user: "auth", password: "pwd"} ] }
      FOO {}
      BAR {}
      BAZ {}
    }
    authorization {
      timeout: 1s
      auth_callout {
        issuer: "${AUTH_CALLOUT_ISSUER}"
        account: AUTH
        auth_users: [ auth ]
      }
    }
  `;
  const handler = (m: Msg) => {
    const { user, si, ci, opts } = decodeAuthRequest(m.data);
    assertEquals(si.name, "ZZ");
    assertEquals(ci.host, "127.0.0.1");
    if (opts.user === "dlc" && opts.pass === "zzz") {
      m.respond(serviceResponse(user, si.id, createAuthUser(user, "", "BAZ"), ""));
    } else m.respond(new Uint8Array(0));
  };
  await using at = await AuthTest.start(conf, handler, { user: "auth", pass: "pwd" });
  const nc = await at.connect({ user: "dlc", pass: "zzz" });
  const ui = await userInfo(nc);
  assertEquals(ui.user, "dlc");
  assertEquals(ui.account, "BAZ");
});

Deno.test({
  name: "TestAuthCalloutClientTLSCerts: client_tls carries the verified chain",
  ignore: true, // blocked: needs the tlsauth test certificates (client2/ca with CN=example.com) in tests/.
  fn: () => {},
});

Deno.test("TestAuthCalloutVerifiedUserCalloutsWithSig: an nkey user's signature and nonce go to the callout", async () => {
  const conf = `
    listen: "127.0.0.1:-1"
    server_name: A
    authorization {
      timeout: 1s
      users: [
        { user: "auth", password: "pwd" }
        { nkey: "UBO2MQV67TQTVIRV3XFTEZOACM4WLOCMCDMAWN5QVN5PI2N6JHTVDRON" }
      ]
      auth_callout {
        issuer: "${AUTH_CALLOUT_ISSUER}"
        auth_users: [ auth ]
      }
    }
  `;
  let callouts = 0;
  const handler = (m: Msg) => {
    callouts++;
    const { user, si, ci, opts } = decodeAuthRequest(m.data);
    assertEquals(si.name, "A");
    assertEquals(ci.host, "127.0.0.1");
    assert(opts.sig);
    assert(ci.nonce);
    m.respond(serviceResponse(user, si.id, createAuthUser(user, "", "$G"), ""));
  };
  await using at = await AuthTest.start(conf, handler, { user: "auth", pass: "pwd" });
  const { nkeyAuthenticator } = await import("@nats-io/transport-node");
  const nc = await at.connect({ authenticator: nkeyAuthenticator(enc.encode(AUTH_CALLOUT_SEED)) });
  assertEquals(callouts, 1);
  const ui = await userInfo(nc);
  assertEquals(ui.user, "UBO2MQV67TQTVIRV3XFTEZOACM4WLOCMCDMAWN5QVN5PI2N6JHTVDRON");
  assertEquals(ui.account, "$G");
  const c = clientByUser(at.srv, "UBO2MQV67TQTVIRV3XFTEZOACM4WLOCMCDMAWN5QVN5PI2N6JHTVDRON")!;
  assert(!c.perms?.canPublish(AUTH_CALLOUT_SUBJECT, false));
  assert(c.perms?.canPublish("foo", false));
});

Deno.test("TestAuthCalloutOperatorNoServerConfigCalloutAllowed: operators refuse a configured callout", async () => {
  const path = await createConfFile(`
    listen: 127.0.0.1:-1
    operator: ${OJWT}
    resolver: MEM
    authorization {
      auth_callout {
        issuer: "${AUTH_CALLOUT_ISSUER}"
        auth_users: [ auth ]
      }
    }
  `);
  const opts = loadConfig(path);
  opts.port = 0;
  const { runServer } = await import("../_helpers/server.ts");
  const err = await assertRejects(() => runServer(opts));
  assertEquals(err.message, "operators do not allow authorization callouts to be configured directly");
});

// ---- Operator mode ---------------------------------------------------------------------------------------

const AUTH_ACCOUNT_KP = nkeys.fromSeed(enc.encode(AUTH_CALLOUT_ISSUER_SEED));

/** Go's createAuthUser in operator mode: signed by `akp`, with `issuer_account` when given. */
function createOpAuthUser(
  user: string,
  name: string,
  akp: KeyPair,
  issuerAccount = "",
  limits: Record<string, unknown> | undefined = undefined,
): string {
  const nats: Record<string, unknown> = limits ?? { pub: {}, sub: {}, subs: -1, data: -1, payload: -1 };
  if (issuerAccount) nats["issuer_account"] = issuerAccount;
  return encodeJwt("user", { sub: user, name, nats }, akp);
}

/** Go's newScopedRole: a scoped signing key with pub/sub allow templates. */
function newScopedRole(
  role: string,
  pub: string[],
  sub: string[],
  allowResponses: boolean,
): { scope: Record<string, unknown>; kp: KeyPair } {
  const kp = createAccount();
  const template: Record<string, unknown> = {
    pub: pub.length > 0 ? { allow: pub } : {},
    sub: sub.length > 0 ? { allow: sub } : {},
    subs: -1,
    data: -1,
    payload: -1,
  };
  if (allowResponses) template.resp = { max: 1, ttl: 3_000_000_000 };
  return { scope: { kind: "user_scope", key: kp.getPublicKey(), role, template }, kp };
}

/** A creds file's bytes for a user JWT and its key. */
function credsOf(jwt: string, ukp: KeyPair): Uint8Array {
  return enc.encode(formatUserConfig(jwt, seedOf(ukp)));
}

/** Go's createAuthServiceUser: the callout service's user in the AUTH account. */
function createAuthServiceUser(akp: KeyPair): { pub: string; creds: Uint8Array } {
  const ukp = createUser();
  return { pub: ukp.getPublicKey(), creds: credsOf(userJwt(ukp, akp, {}, { name: "auth-service" }), ukp) };
}

/** Go's createBasicAccountUser: a sentinel user of the AUTH account that may do nothing. */
function createBasicAccountUser(akp: KeyPair): Uint8Array {
  const ukp = createUser();
  return credsOf(
    userJwt(ukp, akp, { pub: { deny: [">"] }, sub: { deny: [">"] } }, { name: "auth-client" }),
    ukp,
  );
}

/** Go's createScopedUser: a sentinel user signed by a scoped key of the AUTH account. */
function createScopedUser(akp: KeyPair, sk: KeyPair): Uint8Array {
  const ukp = createUser();
  const t = encodeJwt("user", {
    sub: ukp.getPublicKey(),
    name: "scoped-user",
    nats: { "issuer_account": akp.getPublicKey() },
  }, sk);
  return credsOf(t, ukp);
}

/** The operator-mode config with a MEMORY resolver preloaded with `accounts` (pub → JWT). */
function opConf(sysPub: string, accounts: [string, string][], resolver = "resolver: MEM"): string {
  return `
    listen: 127.0.0.1:-1
    operator: ${OJWT}
    system_account: ${sysPub}
    ${resolver}
    resolver_preload: {
      ${accounts.map(([k, v]) => `${k}: ${v}`).join("\n      ")}
    }
  `;
}

/** The AUTH account's JWT with external authorization for `authUser`. */
function authAccountJwt(authUser: string, allowed: string[], extra: Record<string, unknown> = {}): string {
  return accountJwt(
    AUTH_ACCOUNT_KP,
    {
      authorization: {
        "auth_users": [authUser],
        "allowed_accounts": allowed,
        ...(extra.authorization ?? {}),
      },
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "authorization")),
    },
    oKp,
    { name: "AUTH" },
  );
}

function sysAccount(): [KeyPair, string] {
  const skp = createAccount();
  return [skp, accountJwt(skp, {}, oKp, { name: "$SYS" })];
}

async function connectCreds(at: AuthTest, creds: Uint8Array, token?: string, name?: string) {
  return await at.connect({ authenticator: credsAuthenticator(creds), token, name });
}

async function requireCredsError(at: AuthTest, creds: Uint8Array, token?: string): Promise<Error> {
  return await assertRejects(() => connectCreds(at, creds, token));
}

Deno.test("TestAuthCalloutOperatorModeBasics: a sentinel user is placed by the callout in allowed accounts", async () => {
  const [skp, sysJwt] = sysAccount();
  const tkp = createAccount();
  const tSigning = createAccount();
  const { scope, kp: scopedKp } = newScopedRole("foo", ["foo.>", USER_INFO], ["foo.>", "_INBOX.>"], false);
  const tpub = tkp.getPublicKey();
  const accJwt = accountJwt(tkp, { "signing_keys": [tSigning.getPublicKey(), scope] }, oKp, { name: "TEST" });
  const apub = AUTH_ACCOUNT_KP.getPublicKey();
  const svc = createAuthServiceUser(AUTH_ACCOUNT_KP);
  const authJwt = authAccountJwt(svc.pub, [tpub]);
  const conf = opConf(skp.getPublicKey(), [[apub, authJwt], [tpub, accJwt], [skp.getPublicKey(), sysJwt]]);
  const dkp = createAccount();
  const handler = (m: Msg) => {
    const { user, si, opts } = decodeAuthRequest(m.data);
    const tok = opts.auth_token;
    let ujwt = "";
    if (tok === "--XX--") ujwt = createOpAuthUser(user, "dlc", tkp);
    else if (tok === "--ZZ--") ujwt = createOpAuthUser(user, "dummy", dkp);
    else if (tok === "--SK--") ujwt = createOpAuthUser(user, "sk", tSigning, tpub);
    else if (tok === "--Scoped--") ujwt = createOpAuthUser(user, "scoped", scopedKp, tpub, {});
    else if (tok === "--BADScoped--") ujwt = createOpAuthUser(user, "bad-scoped", scopedKp, tpub);
    if (ujwt === "") m.respond(new Uint8Array(0));
    else m.respond(serviceResponse(user, si.id, ujwt, ""));
  };
  await using at = await AuthTest.start(conf, handler, { authenticator: credsAuthenticator(svc.creds) });
  const ui = await userInfo(at.authClient);
  assertEquals(ui.user, svc.pub);
  assertEquals(ui.account, apub);
  assertEquals(ui.permissions, { publish: { deny: [AUTH_CALLOUT_SUBJECT] }, subscribe: {} });

  const creds = createBasicAccountUser(AUTH_ACCOUNT_KP);
  // A token is required.
  await requireCredsError(at, creds);
  // The right token switches the user to the TEST account.
  assertEquals((await userInfo(await connectCreds(at, creds, "--XX--"))).account, tpub);
  // An account the callout may not place users in is refused.
  await requireCredsError(at, creds, "--ZZ--");
  // A user signed by the account's signing key.
  assertEquals((await userInfo(await connectCreds(at, creds, "--SK--"))).account, tpub);
  // A scoped user with limits of its own is refused.
  await requireCredsError(at, creds, "--BADScoped--");
  const ui2 = await userInfo(await connectCreds(at, creds, "--Scoped--"));
  assertEquals(ui2.account, tpub);
  const perms = ui2.permissions as { publish: { allow: string[] }; subscribe: { allow: string[] } };
  assertEquals(perms.publish.allow.toSorted(), ["$SYS.REQ.USER.INFO", "foo.>"]);
  assertEquals(perms.subscribe.allow.toSorted(), ["_INBOX.>", "foo.>"]);
});

async function testAuthCalloutScopedUser(allowAnyAccount: boolean): Promise<void> {
  const [skp, sysJwt] = sysAccount();
  const tkp = createAccount();
  const tpub = tkp.getPublicKey();
  const { scope, kp: scopedKp } = newScopedRole("foo", ["foo.>", USER_INFO], ["foo.>", "_INBOX.>"], true);
  const tmpl = scope.template as Record<string, unknown>;
  tmpl.subs = 10;
  tmpl.payload = 512;
  const accJwt = accountJwt(tkp, { "signing_keys": [createAccount().getPublicKey(), scope] }, oKp, {
    name: "TEST",
  });
  const apub = AUTH_ACCOUNT_KP.getPublicKey();
  const svc = createAuthServiceUser(AUTH_ACCOUNT_KP);
  const sentinel = newScopedRole("sentinel", [], [], false);
  const st = sentinel.scope.template as Record<string, unknown>;
  st.pub = { deny: [">"] };
  st.sub = { deny: [">"] };
  st.subs = 0;
  st.payload = 0;
  const authJwt = authAccountJwt(svc.pub, [allowAnyAccount ? "*" : tpub], {
    "signing_keys": [sentinel.scope],
  });
  const conf = opConf(skp.getPublicKey(), [[apub, authJwt], [tpub, accJwt], [skp.getPublicKey(), sysJwt]]);
  const handler = (m: Msg) => {
    const { user, si, opts } = decodeAuthRequest(m.data);
    if (opts.auth_token === "--Scoped--") {
      m.respond(serviceResponse(user, si.id, createOpAuthUser(user, "scoped", scopedKp, tpub, {}), ""));
    } else m.respond(new Uint8Array(0));
  };
  await using at = await AuthTest.start(conf, handler, { authenticator: credsAuthenticator(svc.creds) });
  const ui = await userInfo(at.authClient);
  assertEquals(ui.account, apub);
  assertEquals(ui.permissions, { publish: { deny: [AUTH_CALLOUT_SUBJECT] }, subscribe: {} });

  const creds = createScopedUser(AUTH_ACCOUNT_KP, sentinel.kp);
  const nc = await connectCreds(at, creds, "--Scoped--");
  const ui2 = await userInfo(nc);
  assertEquals(ui2.account, tpub);
  const perms = ui2.permissions as { publish: { allow: string[] }; subscribe: { allow: string[] } };
  assertEquals(perms.publish.allow.toSorted(), ["$SYS.REQ.USER.INFO", "foo.>"]);
  assertEquals(perms.subscribe.allow.toSorted(), ["_INBOX.>", "foo.>"]);
  nc.subscribe("foo.>", {
    callback: (_e, m) => {
      m.respond();
    },
  });
  const r = await nc.request("foo.bar", "", { timeout: 1000 });
  assert(r !== undefined);
}

Deno.test("TestAuthCalloutScopedUserAssignedAccount: a scoped sentinel placed in the allowed account", async () => {
  await testAuthCalloutScopedUser(false);
});

Deno.test("TestAuthCalloutScopedUserAllAccount: a scoped sentinel placed with allowed_accounts *", async () => {
  await testAuthCalloutScopedUser(true);
});

Deno.test("TestAuthCalloutServerConfigEncryption: requests are sealed to the xkey; responses may be sealed back", async () => {
  const conf = BASIC_CONF.replace(
    "auth_users: [ auth ]",
    `auth_users: [ auth ]\n      xkey: "${CURVE_PUBLIC}"`,
  );
  const rkp = nkeys.fromCurveSeed(enc.encode(CURVE_SEED));
  const handler = (m: Msg) => {
    // Encrypted: not a JWT.
    assert(!dec.decode(m.data.subarray(0, 3)).startsWith("eyJ"));
    const xkey = m.headers?.get(AUTH_REQUEST_XKEY_HEADER) ?? "";
    assert(xkey !== "");
    const opened = rkp.open(m.data, xkey);
    assert(opened !== null);
    const { user, si, ci, opts } = decodeAuthRequest(opened);
    assertEquals(si.xkey, xkey);
    assertEquals(si.name, "A");
    assertEquals(ci.host, "127.0.0.1");
    if (opts.user === "dlc" && opts.pass === "zzz") {
      m.respond(serviceResponse(user, si.id, createAuthUser(user, "", "$G", 600), ""));
    } else if (opts.user === "dlc" && opts.pass === "xxx") {
      m.respond(rkp.seal(serviceResponse(user, si.id, createAuthUser(user, "", "$G", 600), ""), si.xkey!));
    } else m.respond(new Uint8Array(0));
  };
  await using at = await AuthTest.start(conf, handler, { user: "auth", pass: "pwd" });
  await at.connect({ user: "dlc", pass: "zzz" });
  await at.connect({ user: "dlc", pass: "xxx" });
  await at.requireConnectError({ user: "rip", pass: "xxx" });
});

Deno.test("TestAuthCalloutOperatorModeEncryption: the account JWT's xkey seals requests; responses may be sealed", async () => {
  const [skp, sysJwt] = sysAccount();
  const tkp = createAccount();
  const tpub = tkp.getPublicKey();
  const accJwt = accountJwt(tkp, {}, oKp, { name: "TEST" });
  const apub = AUTH_ACCOUNT_KP.getPublicKey();
  const svc = createAuthServiceUser(AUTH_ACCOUNT_KP);
  const authJwt = authAccountJwt(svc.pub, [tpub], { authorization: { xkey: CURVE_PUBLIC } });
  const conf = opConf(skp.getPublicKey(), [[apub, authJwt], [tpub, accJwt], [skp.getPublicKey(), sysJwt]]);
  const rkp = nkeys.fromCurveSeed(enc.encode(CURVE_SEED));
  let serverXkey = "";
  const handler = (m: Msg) => {
    assert(!dec.decode(m.data.subarray(0, 3)).startsWith("eyJ"), "request not encrypted");
    const xkey = m.headers?.get(AUTH_REQUEST_XKEY_HEADER) ?? "";
    assert(xkey !== "");
    const opened = rkp.open(m.data, xkey);
    assert(opened !== null);
    const { user, si, ci, opts, claims } = decodeAuthRequest(opened);
    assertEquals(si.xkey, xkey);
    assertEquals(ci.host, "127.0.0.1");
    // Signed by the server's own key, and about the AUTH account.
    assertEquals(claims.iss, si.id);
    assertEquals(claims.sub, apub);
    serverXkey = xkey;
    if (opts.auth_token === "--XX--") {
      m.respond(serviceResponse(user, si.id, createOpAuthUser(user, "dlc", tkp), ""));
    } else if (opts.auth_token === "--ZZ--") {
      m.respond(rkp.seal(serviceResponse(user, si.id, createOpAuthUser(user, "rip", tkp), ""), si.xkey!));
    } else m.respond(new Uint8Array(0));
  };
  await using at = await AuthTest.start(conf, handler, { authenticator: credsAuthenticator(svc.creds) });
  const creds = createBasicAccountUser(AUTH_ACCOUNT_KP);
  // An encrypted request answered in plain text, then one answered sealed.
  assertEquals((await userInfo(await connectCreds(at, creds, "--XX--"))).account, tpub);
  const nc = await connectCreds(at, creds, "--ZZ--");
  assertEquals((await userInfo(nc)).account, tpub);
  // INFO carries the same xkey.
  assertEquals((nc.info as unknown as Record<string, unknown>)?.xkey, serverXkey);
});

Deno.test("TestAuthCalloutServerTags: server_tags go into the request", async () => {
  const conf = BASIC_CONF.replace("server_name: A", `server_name: A\n  server_tags: ["foo", "bar"]`);
  let tags: string[] | undefined;
  const handler = (m: Msg) => {
    const { user, si } = decodeAuthRequest(m.data);
    tags = si.tags;
    m.respond(serviceResponse(user, si.id, createAuthUser(user, "", "$G", 600), ""));
  };
  await using at = await AuthTest.start(conf, handler, { user: "auth", pass: "pwd" });
  await at.connect();
  assertEquals(new Set(tags), new Set(["foo", "bar"]));
});

Deno.test({
  name: "TestAuthCalloutServerClusterAndVersion: cluster name and a 2.10+ version in the request",
  ignore: true, // blocked: the cluster {} block is not mapped yet, and natsdeno reports a 2.9 version.
  fn: () => {},
});

Deno.test("TestAuthCalloutErrorResponse: an error response refuses the connection", async () => {
  const handler = (m: Msg) => {
    const { user, si } = decodeAuthRequest(m.data);
    m.respond(serviceResponse(user, si.id, "", "BAD AUTH"));
  };
  await using at = await AuthTest.start(BASIC_CONF, handler, { user: "auth", pass: "pwd" });
  const err = await at.requireConnectError({ user: "dlc", pass: "zzz" });
  assertMatch(err.message, /Authorization Violation/i);
  assertStringIncludes(logged(at.srv), "Auth callout service returned an error: BAD AUTH");
});

Deno.test("TestAuthCalloutAuthUserFailDoesNotInvokeCallout: an auth user with a bad password skips the callout", async () => {
  let callouts = 0;
  const handler = (m: Msg) => {
    callouts++;
    const { user, si } = decodeAuthRequest(m.data);
    m.respond(serviceResponse(user, si.id, "", "WRONG PASSWORD"));
  };
  await using at = await AuthTest.start(BASIC_CONF, handler, { user: "auth", pass: "pwd" });
  await at.requireConnectError({ user: "auth", pass: "zzz" });
  assertEquals(callouts, 0);
});

const AUTH_ERROR_ACCOUNT_EVENT = "$SYS.ACCOUNT.CLIENT.AUTH.ERR";

/** Messages of a subscription, in order; `next()` waits up to a second for the next one. */
function queueOf(nc: NatsConnection, subject: string) {
  const got: Msg[] = [];
  const waiters: ((m: Msg | undefined) => void)[] = [];
  const sub = nc.subscribe(subject, {
    callback: (_e, m) => {
      const w = waiters.shift();
      if (w !== undefined) w(m);
      else got.push(m);
    },
  });
  return {
    sub,
    pending: () => got.length,
    next(ms = 1000): Promise<Msg | undefined> {
      const m = got.shift();
      if (m !== undefined) return Promise.resolve(m);
      return new Promise((resolve) => {
        const w = (x: Msg | undefined) => {
          clearTimeout(t);
          resolve(x);
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          resolve(undefined);
        }, ms);
        waiters.push(w);
      });
    },
  };
}

/** Go's checkAuthErrEvent: a refused connect, and the callout account's auth error event with `reason`. */
async function checkAuthErrEvent(
  at: AuthTest,
  q: ReturnType<typeof queueOf>,
  user: string,
  pass: string,
  reason: string,
): Promise<void> {
  await at.requireConnectError({ user, pass });
  const m = await q.next();
  assert(m !== undefined, "no auth error event");
  assertStringIncludes(m.json<{ reason: string }>().reason, reason);
}

Deno.test("TestAuthCalloutAuthErrEvents: refusals are auth error events in the callout account", async () => {
  const conf = `
    listen: "127.0.0.1:-1"
    server_name: A
    accounts {
      AUTH { users [ {user: "auth", password: "pwd"} ] }
      FOO {}
      BAR {}
    }
    authorization {
      auth_callout {
        issuer: "${AUTH_CALLOUT_ISSUER}"
        account: AUTH
        auth_users: [ auth ]
      }
    }
  `;
  const handler = (m: Msg) => {
    const { user, si, opts } = decodeAuthRequest(m.data);
    if (opts.user === "dlc" && opts.pass === "zzz") {
      m.respond(serviceResponse(user, si.id, createAuthUser(user, "", "FOO"), ""));
    } else if (opts.user === "dlc") m.respond(serviceResponse(user, si.id, "", "WRONG PASSWORD"));
    else m.respond(serviceResponse(user, si.id, "", "BAD CREDS"));
  };
  await using at = await AuthTest.start(conf, handler, { user: "auth", pass: "pwd" });
  const q = queueOf(at.authClient, AUTH_ERROR_ACCOUNT_EVENT);
  await at.authClient.flush();
  await at.connect({ user: "dlc", pass: "zzz" });
  await at.authClient.flush();
  assertEquals(q.pending(), 0);
  await checkAuthErrEvent(at, q, "dlc", "xxx", "WRONG PASSWORD");
  await checkAuthErrEvent(at, q, "rip", "abc", "BAD CREDS");
});

Deno.test("TestAuthCalloutConnectEvents: connect, disconnect and account connection events of callout users", async () => {
  const conf = `
    listen: "127.0.0.1:-1"
    server_name: A
    accounts {
      AUTH { users [ {user: "auth", password: "pwd"} ] }
      FOO {}
      BAR {}
      $SYS { users = [ { user: "admin", pass: "s3cr3t!" } ] }
    }
    authorization {
      auth_callout {
        issuer: "${AUTH_CALLOUT_ISSUER}"
        account: AUTH
        auth_users: [ auth, admin ]
      }
    }
  `;
  const handler = (m: Msg) => {
    const { user, si, opts } = decodeAuthRequest(m.data);
    if (opts.user === "dlc" && opts.pass === "zzz") {
      m.respond(serviceResponse(user, si.id, createAuthUser(user, "", "FOO"), ""));
    } else if (opts.user === "rip" && opts.pass === "xxx") {
      m.respond(serviceResponse(user, si.id, createAuthUser(user, "", "BAR"), ""));
    } else m.respond(serviceResponse(user, si.id, "", "BAD CREDS"));
  };
  await using at = await AuthTest.start(conf, handler, { user: "auth", pass: "pwd" });
  const snc = await at.connect({ user: "admin", pass: "s3cr3t!" });
  // Let this connect event pass.
  await new Promise((r) => setTimeout(r, 250));
  const csub = queueOf(snc, "$SYS.ACCOUNT.*.CONNECT");
  const dsub = queueOf(snc, "$SYS.ACCOUNT.*.DISCONNECT");
  const oldSub = queueOf(snc, "$SYS.SERVER.ACCOUNT.*.CONNS");
  const newSub = queueOf(snc, "$SYS.ACCOUNT.*.SERVER.CONNS");
  await snc.flush();
  type Conns = { acc: string; conns: number };
  const checkConns = async (acc: string, conns: number) => {
    for (const q of [oldSub, newSub]) {
      let m = await q.next();
      // natsdeno, as nats-server 2.9.10, also counts the global account a client is accepted into; newer
      // versions leave it out. Those are skipped here.
      while (m !== undefined && m.json<Conns>().acc === "$G") m = await q.next();
      assert(m !== undefined, "no account connections event");
      const anc = m.json<Conns>();
      assertEquals([anc.acc, anc.conns], [acc, conns]);
    }
  };
  for (const [user, pass, acc] of [["dlc", "zzz", "FOO"], ["rip", "xxx", "BAR"]]) {
    const nc = await at.connect({ user, pass });
    const m = await csub.next();
    assert(m !== undefined, "no connect event");
    const cm = m.json<{ client: { user: string; acc: string } }>();
    assertEquals([cm.client.user, cm.client.acc], [user, acc]);
    await checkConns(acc, 1);
    await nc.close();
    assert((await dsub.next()) !== undefined, "no disconnect event");
    await checkConns(acc, 0);
    // No double events.
    await new Promise((r) => setTimeout(r, 200));
    for (const q of [csub, dsub]) assertEquals(q.pending(), 0);
    for (const q of [oldSub, newSub]) {
      for (let m = await q.next(10); m !== undefined; m = await q.next(10)) {
        assertEquals(m.json<Conns>().acc, "$G");
      }
    }
  }
});

/** A refused connect, seen as the callout account's auth error event (Go's checkAuthErrEvent) and logged. */
async function refusedWith(conf: string, handler: (m: Msg) => void, reason: string): Promise<void> {
  await using at = await AuthTest.start(conf, handler, { user: "auth", pass: "pwd" });
  const q = queueOf(at.authClient, AUTH_ERROR_ACCOUNT_EVENT);
  await at.authClient.flush();
  await checkAuthErrEvent(at, q, "hello", "world", reason);
  assertStringIncludes(logged(at.srv), reason);
}

Deno.test("TestAuthCalloutBadServer: a response for another server is refused", async () => {
  await refusedWith(AUTH_ACCOUNT_CONF, (m) => {
    const { user } = decodeAuthRequest(m.data);
    const other = nkeys.createServer().getPublicKey();
    m.respond(serviceResponse(user, other, createAuthUser(user, "", "FOO"), ""));
  }, "response is not for server");
});

Deno.test("TestAuthCalloutBadUser: a response for another user is refused", async () => {
  await refusedWith(AUTH_ACCOUNT_CONF, (m) => {
    const { si } = decodeAuthRequest(m.data);
    const upk = nkeys.createUser().getPublicKey();
    m.respond(serviceResponse(upk, si.id, createAuthUser(upk, "", "FOO"), ""));
  }, "auth callout response is not for expected user");
});

Deno.test("TestAuthCalloutExpiredUser: an expired user JWT is refused", async () => {
  await refusedWith(AUTH_ACCOUNT_CONF, (m) => {
    const { user, si } = decodeAuthRequest(m.data);
    m.respond(serviceResponse(user, si.id, createAuthUser(user, "", "FOO", -5), ""));
  }, "claim is expired");
});

Deno.test("TestAuthCalloutExpiredResponse: an expired response is refused", async () => {
  await refusedWith(AUTH_ACCOUNT_CONF, (m) => {
    const { user, si } = decodeAuthRequest(m.data);
    m.respond(serviceResponse(user, si.id, createAuthUser(user, "", "FOO"), "", -5));
  }, "claim is expired");
});

Deno.test("TestAuthCalloutOperator_AnyAccount: allowed_accounts * places users in any account", async () => {
  const [skp, sysJwt] = sysAccount();
  const akp = createAccount();
  const bkp = createAccount();
  const apk = akp.getPublicKey();
  const bpk = bkp.getPublicKey();
  const cpk = AUTH_ACCOUNT_KP.getPublicKey();
  const svc = createAuthServiceUser(AUTH_ACCOUNT_KP);
  const conf = opConf(skp.getPublicKey(), [
    [cpk, authAccountJwt(svc.pub, ["*"])],
    [apk, accountJwt(akp, {}, oKp, { name: "A" })],
    [bpk, accountJwt(bkp, {}, oKp, { name: "B" })],
    [skp.getPublicKey(), sysJwt],
  ]);
  const handler = (m: Msg) => {
    const { user, si, opts } = decodeAuthRequest(m.data);
    if (opts.auth_token === "PutMeInA") {
      m.respond(serviceResponse(user, si.id, createOpAuthUser(user, "user_a", akp), ""));
    } else if (opts.auth_token === "PutMeInB") {
      m.respond(serviceResponse(user, si.id, createOpAuthUser(user, "user_b", bkp), ""));
    } else m.respond(new Uint8Array(0));
  };
  await using at = await AuthTest.start(conf, handler, { authenticator: credsAuthenticator(svc.creds) });
  await userInfo(at.authClient);
  const creds = createBasicAccountUser(AUTH_ACCOUNT_KP);
  await requireCredsError(at, creds);
  assertEquals((await userInfo(await connectCreds(at, creds, "PutMeInA"))).account, apk);
  assertEquals((await userInfo(await connectCreds(at, creds, "PutMeInB"))).account, bpk);
});
Deno.test({
  name: "TestAuthCalloutWSClientTLSCerts: client_tls over WebSocket",
  ignore: true, // blocked: needs the tlsauth test certificates and WebSocket TLS.
  fn: () => {},
});

Deno.test("TestAuthCallout_ClientAuthErrorConf: empty and error responses refuse with Authorization Violation", async (t) => {
  const conf = `
    listen: "127.0.0.1:-1"
    server_name: ZZ
    accounts {
      AUTH { users [ {user: "auth", password: "pwd"} ] }
    }
    authorization {
      timeout: 1s
      auth_callout {
        issuer: "${AUTH_CALLOUT_ISSUER}"
        account: AUTH
        auth_users: [ auth ]
      }
    }
  `;
  for (const respondNil of [true, false]) {
    await t.step(respondNil ? "nil response" : "error response", async () => {
      const handler = (m: Msg) => {
        const { user, si } = decodeAuthRequest(m.data);
        if (respondNil) m.respond(new Uint8Array(0));
        else m.respond(serviceResponse(user, si.id, "", "not today"));
      };
      await using at = await AuthTest.start(conf, handler, { user: "auth", pass: "pwd" });
      const err = await at.requireConnectError({ user: "a", pass: "x" });
      assertMatch(err.message.toLowerCase(), /authorization violation/);
    });
  }
});

Deno.test("TestAuthCallout_ClientAuthErrorOperatorMode: empty and error responses refuse a scoped sentinel", async (t) => {
  for (const respondNil of [true, false]) {
    await t.step(respondNil ? "nil response" : "error response", async () => {
      const [skp, sysJwt] = sysAccount();
      const apub = AUTH_ACCOUNT_KP.getPublicKey();
      const svc = createAuthServiceUser(AUTH_ACCOUNT_KP);
      const sentinel = newScopedRole("sentinel", [], [], false);
      const st = sentinel.scope.template as Record<string, unknown>;
      st.pub = { deny: [">"] };
      st.sub = { deny: [">"] };
      st.subs = 0;
      st.payload = 0;
      const authJwt = authAccountJwt(svc.pub, ["*"], { "signing_keys": [sentinel.scope] });
      const conf = opConf(skp.getPublicKey(), [[apub, authJwt], [skp.getPublicKey(), sysJwt]]);
      const handler = (m: Msg) => {
        const { user, si } = decodeAuthRequest(m.data);
        if (respondNil) m.respond(new Uint8Array(0));
        else m.respond(serviceResponse(user, si.id, "", "not today"));
      };
      await using at = await AuthTest.start(conf, handler, { authenticator: credsAuthenticator(svc.creds) });
      const err = await requireCredsError(at, createScopedUser(AUTH_ACCOUNT_KP, sentinel.kp));
      assertMatch(err.message.toLowerCase(), /authorization violation/);
    });
  }
});

Deno.test("TestOperatorModeUserRevocation: revoking a callout-placed user disconnects it", async () => {
  const [skp, sysJwt] = sysAccount();
  const tkp = createAccount();
  const tpub = tkp.getPublicKey();
  const apub = AUTH_ACCOUNT_KP.getPublicKey();
  const svc = createAuthServiceUser(AUTH_ACCOUNT_KP);
  const authJwt = authAccountJwt(svc.pub, [tpub]);
  const dir = await Deno.makeTempDir();
  try {
    const conf = opConf(
      skp.getPublicKey(),
      [[apub, authJwt], [tpub, accountJwt(tkp, {}, oKp, { name: "TEST" })], [skp.getPublicKey(), sysJwt]],
      `resolver: { type: "full", dir: "${dir}", allow_delete: false, interval: "2m", timeout: "1.9s" }`,
    );
    const users = new Map<string, string>();
    const handler = (m: Msg) => {
      const { user, si, opts } = decodeAuthRequest(m.data);
      if (opts.auth_token === "--secret--") {
        const ujwt = createOpAuthUser(user, "user", tkp, tpub, {});
        users.set(String(opts.name ?? ""), ujwt);
        m.respond(serviceResponse(user, si.id, ujwt, ""));
      } else m.respond(new Uint8Array(0));
    };
    await using at = await AuthTest.start(conf, handler, { authenticator: credsAuthenticator(svc.creds) });
    const sysNc = await at.connect({ authenticator: credsAuthenticator(createAuthServiceUser(skp).creds) });
    const creds = createBasicAccountUser(AUTH_ACCOUNT_KP);
    const nc = await connectCreds(at, creds, "--secret--", "first");
    const ncA = await connectCreds(at, creds, "--secret--", "second");
    const ncB = await connectCreds(at, creds, "--secret--", "third");
    const update = async (revocations: Record<string, number>) => {
      const j = accountJwt(tkp, { revocations }, oKp, { name: "TEST" });
      const r = await sysNc.request(`$SYS.REQ.ACCOUNT.${tpub}.CLAIMS.UPDATE`, j, { timeout: 2000 });
      assertEquals(JSON.parse(dec.decode(r.data)).data.code, 200);
    };
    const closedWith = (c: NatsConnection) => c.closed().then((e) => String(e ?? ""));
    const firstClosed = closedWith(nc);
    const until = Math.floor(Date.now() / 1000) + 60;
    await update({ [decodeUserClaims(users.get("first")!).sub!]: until });
    assertMatch(await firstClosed, /authentication revoked/i);
    await update({});
    assert(!ncA.isClosed() && !ncB.isClosed());
    const aClosed = closedWith(ncA);
    const bClosed = closedWith(ncB);
    await update({ "*": until });
    assertMatch(await aClosed, /authentication revoked/i);
    assertMatch(await bClosed, /authentication revoked/i);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
