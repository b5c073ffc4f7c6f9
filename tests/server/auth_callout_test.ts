// Ports of nats-server server/auth_callout_test.go (server configuration mode; operator-mode callouts are not
// implemented yet). The callout service is written with the official client, as the Go tests do with nats.go.
import { assert, assertEquals, assertMatch, assertRejects, assertStringIncludes } from "@std/assert";
import { connect, type ConnectionOptions, type Msg, type NatsConnection } from "@nats-io/transport-node";
import * as nkeys from "@nats-io/nkeys";
import { decodeGeneric, encodeJwt } from "../../src/auth/jwt.ts";
import {
  AUTH_CALLOUT_SUBJECT,
  AUTH_REQUEST_XKEY_HEADER,
  encodeClaims,
} from "../../src/server/_auth_callout.ts";
import { createConfFile, loadConfig, runServerWithConfig } from "./_util.ts";
import type { TestServer } from "../_helpers/server.ts";
import { OJWT } from "../_helpers/jwt.ts";

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

for (
  const name of [
    "TestAuthCalloutOperatorModeBasics",
    "TestAuthCalloutScopedUserAssignedAccount",
    "TestAuthCalloutScopedUserAllAccount",
  ]
) {
  // blocked: operator-mode callouts (the account JWT's `authorization` section) are not implemented.
  Deno.test({ name: `${name}: operator-mode callout`, ignore: true, fn: () => {} });
}

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

Deno.test({
  name: "TestAuthCalloutOperatorModeEncryption: operator-mode callout with an xkey",
  ignore: true, // blocked: operator-mode callouts are not implemented.
  fn: () => {},
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

for (const name of ["TestAuthCalloutAuthErrEvents", "TestAuthCalloutConnectEvents"]) {
  // blocked: callout auth errors as $SYS account events (authErrorAccountEventSubj) are not published yet.
  Deno.test({ name: `${name}: callout events`, ignore: true, fn: () => {} });
}

/** Go's checkAuthErrEvent, on the server log instead of the account's auth error event. */
async function refusedWith(conf: string, handler: (m: Msg) => void, reason: string): Promise<void> {
  await using at = await AuthTest.start(conf, handler, { user: "auth", pass: "pwd" });
  await at.requireConnectError({ user: "hello", pass: "world" });
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

Deno.test({
  name: "TestAuthCalloutOperator_AnyAccount: operator-mode callout placing users in any account",
  ignore: true, // blocked: operator-mode callouts are not implemented.
  fn: () => {},
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

for (const name of ["TestAuthCallout_ClientAuthErrorOperatorMode", "TestOperatorModeUserRevocation"]) {
  // blocked: operator-mode callouts are not implemented.
  Deno.test({ name: `${name}: operator-mode callout`, ignore: true, fn: () => {} });
}
