// ClientAuth decisions. The first part ports test/auth_test.go (token, user/password and bcrypt variants) as
// calls to check(); its two timing/protocol tests stay ignored until the wire suite ports them. The rest are
// new tests of the rules in server/auth.go.
import { assert, assertEquals } from "@std/assert";
import bcrypt from "bcryptjs";
import { createUser } from "@nats-io/nkeys";
import { Buffer } from "node:buffer";
import { ClientAuth, newNonce, validateAuth } from "../../src/auth/mod.ts";
import type { AuthResult, ClientCredentials, ConnectionType } from "../../src/auth/mod.ts";
import { defaultOptions } from "../../src/config/mod.ts";
import type { Options } from "../../src/config/mod.ts";

const STD = { connectionType: "STANDARD" as ConnectionType };

function sync(r: AuthResult | undefined | Promise<AuthResult | undefined>): AuthResult | undefined {
  assert(!(r instanceof Promise), "expected a synchronous answer");
  return r;
}

async function promised(
  r: AuthResult | undefined | Promise<AuthResult | undefined>,
): Promise<AuthResult | undefined> {
  assert(r instanceof Promise, "expected a Promise for a bcrypt hash");
  return await r;
}

function doAuthConnect(auth: ClientAuth, token: string, user: string, pass: string) {
  // As test/auth_test.go's doAuthConnect: all three fields sent, possibly empty.
  return auth.check({ auth_token: token, user, pass }, STD);
}

// --- test/auth_test.go: token ---

const AUTH_TOKEN = "_YZZ22_";
const tokenAuth = () => new ClientAuth(defaultOptions({ authorization: AUTH_TOKEN }));

Deno.test("TestNoAuthClient: a token server rejects a CONNECT without credentials", () => {
  const auth = tokenAuth();
  assert(auth.authRequired);
  assertEquals(sync(doAuthConnect(auth, "", "", "")), undefined);
});

Deno.test("TestAuthClientBadToken: a wrong token is rejected", () => {
  assertEquals(sync(doAuthConnect(tokenAuth(), "ZZZ", "", "")), undefined);
});

Deno.test({
  name: "TestAuthClientNoConnect: (wire) no CONNECT within the auth timeout is an error",
  // blocked: auth timer lives in the server; ported over the wire with tests/server.
  ignore: true,
  fn() {},
});

Deno.test("TestAuthClientGoodConnect: the right token is accepted, with no user name", () => {
  assertEquals(sync(doAuthConnect(tokenAuth(), AUTH_TOKEN, "", "")), { user: "", account: "$G" });
});

Deno.test({
  name: "TestAuthClientFailOnEverythingElse: (wire) PUB before CONNECT is an error",
  // blocked: protocol-state check in the server; ported over the wire with tests/server.
  ignore: true,
  fn() {},
});

// --- test/auth_test.go: user/password ---

const AUTH_USER = "derek";
const AUTH_PASS = "foobar";
const userPassAuth = () => new ClientAuth(defaultOptions({ username: AUTH_USER, password: AUTH_PASS }));

Deno.test("TestNoUserOrPasswordClient: a user/password server rejects empty credentials", () => {
  assertEquals(sync(doAuthConnect(userPassAuth(), "", "", "")), undefined);
});

Deno.test("TestBadUserClient: a wrong user is rejected", () => {
  assertEquals(sync(doAuthConnect(userPassAuth(), "", "derekzz", AUTH_PASS)), undefined);
});

Deno.test("TestBadPasswordClient: a wrong password is rejected", () => {
  assertEquals(sync(doAuthConnect(userPassAuth(), "", AUTH_USER, "ZZ")), undefined);
});

Deno.test("TestPasswordClientGoodConnect: the right user and password are accepted", () => {
  assertEquals(sync(doAuthConnect(userPassAuth(), "", AUTH_USER, AUTH_PASS)), {
    user: AUTH_USER,
    account: "$G",
  });
});

// --- test/auth_test.go: bcrypt (cost 4, as the Go tests) ---

const BCRYPT_AUTH_PASS = "IW@$6v(y1(t@fhPDvf!5^%";
const BCRYPT_AUTH_HASH = "$2a$04$Q.CgCP2Sl9pkcTXEZHazaeMwPaAkSHk7AI51HkyMt5iJQQyUA4qxq";
const bcryptUserAuth = () =>
  new ClientAuth(defaultOptions({ username: AUTH_USER, password: BCRYPT_AUTH_HASH }));

Deno.test("TestBadBcryptPassword: sending the hash itself as the password is rejected", async () => {
  assertEquals(await promised(doAuthConnect(bcryptUserAuth(), "", AUTH_USER, BCRYPT_AUTH_HASH)), undefined);
});

Deno.test("TestGoodBcryptPassword: the password of a bcrypt hash is accepted", async () => {
  const r = await promised(doAuthConnect(bcryptUserAuth(), "", AUTH_USER, BCRYPT_AUTH_PASS));
  assertEquals(r, { user: AUTH_USER, account: "$G" });
});

const BCRYPT_AUTH_TOKEN = "0uhJOSr3GW7xvHvtd^K6pa";
const BCRYPT_AUTH_TOKEN_HASH = "$2a$04$u5ZClXpcjHgpfc61Ee0VKuwI1K3vTC4zq7SjphjnlHMeb1Llkb5Y6";
const bcryptTokenAuth = () => new ClientAuth(defaultOptions({ authorization: BCRYPT_AUTH_TOKEN_HASH }));

Deno.test("TestBadBcryptToken: sending the token hash itself is rejected", async () => {
  assertEquals(await promised(doAuthConnect(bcryptTokenAuth(), BCRYPT_AUTH_TOKEN_HASH, "", "")), undefined);
});

Deno.test("TestGoodBcryptToken: the token of a bcrypt hash is accepted", async () => {
  assertEquals(await promised(doAuthConnect(bcryptTokenAuth(), BCRYPT_AUTH_TOKEN, "", "")), {
    user: "",
    account: "$G",
  });
});

// --- new tests ---

function signed(nonce: string) {
  const kp = createUser();
  const sig = Buffer.from(kp.sign(new TextEncoder().encode(nonce)));
  return { nkey: kp.getPublicKey(), sigUrl: sig.toString("base64url"), sigStd: sig.toString("base64") };
}

Deno.test("ClientAuth without any auth configured accepts everyone into $G", () => {
  const auth = new ClientAuth(defaultOptions());
  assert(!auth.authRequired);
  assert(!auth.needsNonce);
  assertEquals(sync(auth.check({ user: "x", pass: "y" }, STD)), { user: "", account: "$G" });
});

Deno.test("ClientAuth answers synchronously for plain secrets and with a Promise only for bcrypt", async () => {
  const plain = new ClientAuth(defaultOptions({ users: [{ username: "a", password: "p" }] }));
  assert(sync(plain.check({ user: "a", pass: "p" }, STD)));
  assertEquals(sync(plain.check({ user: "a", pass: "q" }, STD)), undefined);
  assertEquals(sync(plain.check({ user: "nobody", pass: "p" }, STD)), undefined, "unknown user: no hashing");

  const hash = bcrypt.hashSync("secret", 4);
  const hashed = new ClientAuth(defaultOptions({ users: [{ username: "a", password: hash, account: "A" }] }));
  assertEquals(await promised(hashed.check({ user: "a", pass: "secret" }, STD)), {
    user: "a",
    account: "A",
    permissions: undefined,
  });
  assertEquals(await promised(hashed.check({ user: "a", pass: "nope" }, STD)), undefined);
  for (const v of ["$2b$", "$2y$", "$2x$"]) {
    const other = new ClientAuth(defaultOptions({ username: "u", password: v + hash.slice(4) }));
    assert(await promised(other.check({ user: "u", pass: "secret" }, STD)), `${v} hash`);
  }
});

Deno.test("ClientAuth nkey users sign the nonce; raw base64url and padded std base64 both verify", () => {
  const nonce = newNonce();
  const k = signed(nonce);
  const auth = new ClientAuth(defaultOptions({ nkeys: [{ nkey: k.nkey, account: "ACC" }] }));
  assert(auth.authRequired);
  assert(auth.needsNonce);
  const ctx = { nonce, connectionType: "STANDARD" as ConnectionType };
  assertEquals(sync(auth.check({ nkey: k.nkey, sig: k.sigUrl }, ctx)), {
    user: k.nkey,
    account: "ACC",
    permissions: undefined,
    nkey: k.nkey,
  });
  assert(sync(auth.check({ nkey: k.nkey, sig: k.sigStd }, ctx)));
  assertEquals(sync(auth.check({ nkey: k.nkey }, ctx)), undefined, "signature missing");
  assertEquals(sync(auth.check({ nkey: k.nkey, sig: k.sigUrl }, { ...ctx, nonce: newNonce() })), undefined);
  assertEquals(sync(auth.check({ nkey: k.nkey, sig: "!!notbase64" }, ctx)), undefined);
  const other = signed(nonce);
  assertEquals(sync(auth.check({ nkey: other.nkey, sig: other.sigUrl }, ctx)), undefined, "unknown nkey");
  assertEquals(sync(auth.check({ nkey: k.nkey, sig: other.sigUrl }, ctx)), undefined, "someone else's sig");
  assertEquals(sync(auth.check({}, ctx)), undefined, "no credentials");
});

Deno.test("ClientAuth with users and nkeys: an nkey goes to the nkey users, else the users list", () => {
  const nonce = newNonce();
  const k = signed(nonce);
  const auth = new ClientAuth(defaultOptions({
    users: [{ username: "a", password: "p" }],
    nkeys: [{ nkey: k.nkey }],
  }));
  const ctx = { nonce, connectionType: "STANDARD" as ConnectionType };
  assertEquals(sync(auth.check({ user: "a", pass: "p" }, ctx))?.user, "a");
  assertEquals(
    sync(auth.check({ nkey: k.nkey, sig: k.sigUrl, user: "a", pass: "wrong" }, ctx))?.user,
    k.nkey,
  );
  const unknown = signed(nonce);
  assertEquals(
    sync(auth.check({ nkey: unknown.nkey, sig: unknown.sigUrl, user: "a", pass: "p" }, ctx)),
    undefined,
  );
});

Deno.test("ClientAuth default_permissions apply to users and nkeys without their own", () => {
  const nonce = newNonce();
  const k = signed(nonce);
  const auth = new ClientAuth(defaultOptions({
    users: [
      { username: "plain", password: "p" },
      { username: "own", password: "p", permissions: { publish: { allow: ["own.>"] } } },
      { username: "empty", password: "p", permissions: {} },
    ],
    nkeys: [{ nkey: k.nkey }],
    defaultPermissions: { publish: { allow: ["default.>"] } },
  }));
  const perms = (c: ClientCredentials) =>
    sync(auth.check(c, { nonce, connectionType: "STANDARD" }))?.permissions;
  const plain = perms({ user: "plain", pass: "p" })!;
  assert(plain.canPublish("default.x") && !plain.canPublish("own.x"));
  const own = perms({ user: "own", pass: "p" })!;
  assert(own.canPublish("own.x") && !own.canPublish("default.x"));
  const empty = perms({ user: "empty", pass: "p" })!;
  assert(empty.canPublish("anything"), "an empty permissions block is the user's own: no defaults");
  const nk = perms({ nkey: k.nkey, sig: k.sigUrl })!;
  assert(nk.canPublish("default.x") && !nk.canPublish("own.x"));
});

Deno.test("ClientAuth gives every connection its own ClientPermissions instance", () => {
  const auth = new ClientAuth(defaultOptions({
    users: [{ username: "a", password: "p", permissions: { subscribe: { deny: ["foo.bar"] } } }],
  }));
  const p1 = sync(auth.check({ user: "a", pass: "p" }, STD))!.permissions!;
  const p2 = sync(auth.check({ user: "a", pass: "p" }, STD))!.permissions!;
  assert(p1 !== p2);
  assert(p1.canSubscribe("foo.*"));
  assert(p1.denyDeliver("foo.bar"));
  assert(!p2.denyDeliver("foo.bar"), "the delivery filter is per connection");
});

Deno.test("ClientAuth no_auth_user applies only without user, password and token", () => {
  const opts: Partial<Options> = {
    users: [{ username: "anon", password: "ap", account: "ANON" }, { username: "a", password: "p" }],
    noAuthUser: "anon",
  };
  const auth = new ClientAuth(defaultOptions(opts));
  assertEquals(sync(auth.check({}, STD))?.user, "anon");
  assertEquals(sync(auth.check({}, STD))?.account, "ANON");
  assertEquals(sync(auth.check({ user: "", pass: "", auth_token: "" }, STD))?.user, "anon");
  assertEquals(sync(auth.check({ pass: "ap" }, STD)), undefined, "a password alone is a credential");
  assertEquals(sync(auth.check({ auth_token: "x" }, STD)), undefined);
  assertEquals(sync(auth.check({ user: "a", pass: "p" }, STD))?.user, "a");
  // An nkey is not one of the three: with no nkey users configured, no_auth_user still applies.
  assertEquals(sync(auth.check({ nkey: "UABC" }, STD))?.user, "anon");
});

Deno.test("ClientAuth no_auth_user with a bcrypt password is refused, as nats-server 2.9.10 does", () => {
  const auth = new ClientAuth(defaultOptions({
    users: [{ username: "anon", password: bcrypt.hashSync("x", 4) }],
    noAuthUser: "anon",
  }));
  assertEquals(sync(auth.check({}, STD)), undefined);
});

Deno.test("ClientAuth no_auth_user honours allowed_connection_types", () => {
  const auth = new ClientAuth(defaultOptions({
    users: [{ username: "anon", password: "", allowedConnectionTypes: ["WEBSOCKET"] }],
    noAuthUser: "anon",
  }));
  assertEquals(sync(auth.check({}, STD)), undefined);
  assertEquals(sync(auth.check({}, { connectionType: "WEBSOCKET" }))?.user, "anon");
});

Deno.test("ClientAuth allowed_connection_types: case-insensitive, checked for users and nkeys", () => {
  const nonce = newNonce();
  const k = signed(nonce);
  const auth = new ClientAuth(defaultOptions({
    users: [
      { username: "ws", password: "p", allowedConnectionTypes: ["websocket", "Mqtt"] },
      { username: "bad", password: "p", allowedConnectionTypes: ["carrier_pigeon"] },
    ],
    nkeys: [{ nkey: k.nkey, allowedConnectionTypes: ["LEAFNODE"] }],
  }));
  const ok = (c: ClientCredentials, t: ConnectionType) =>
    sync(auth.check(c, { nonce, connectionType: t })) !== undefined;
  assert(ok({ user: "ws", pass: "p" }, "WEBSOCKET"));
  assert(ok({ user: "ws", pass: "p" }, "MQTT"));
  assert(!ok({ user: "ws", pass: "p" }, "STANDARD"));
  assert(!ok({ user: "ws", pass: "p" }, "MQTT_WS"));
  assert(!ok({ user: "bad", pass: "p" }, "STANDARD"), "a list of only unknown types allows nothing");
  assert(ok({ nkey: k.nkey, sig: k.sigUrl }, "LEAFNODE"));
  assert(!ok({ nkey: k.nkey, sig: k.sigUrl }, "STANDARD"));
});

Deno.test("ClientAuth token and single user both set (not possible from a config): the token decides", () => {
  const auth = new ClientAuth(defaultOptions({ authorization: "tok", username: "u", password: "p" }));
  assert(sync(auth.check({ auth_token: "tok" }, STD)));
  assertEquals(sync(auth.check({ user: "u", pass: "p" }, STD)), undefined);
});

Deno.test("ClientAuth users with a token (not possible from a config): unknown users fail, no user uses the token", () => {
  const auth = new ClientAuth(
    defaultOptions({ users: [{ username: "a", password: "p" }], authorization: "tok" }),
  );
  assert(sync(auth.check({ auth_token: "tok" }, STD)));
  assertEquals(sync(auth.check({ user: "b", pass: "p", auth_token: "tok" }, STD)), undefined);
  assertEquals(sync(auth.check({ user: "a", pass: "p" }, STD))?.user, "a");
});

Deno.test("ClientAuth single user: the user name must match exactly before the password is compared", () => {
  const auth = new ClientAuth(defaultOptions({ username: "u", password: "p" }));
  assertEquals(sync(auth.check({ user: "U", pass: "p" }, STD)), undefined);
  assertEquals(sync(auth.check({ pass: "p" }, STD)), undefined);
  assertEquals(sync(auth.check({ user: "u", pass: "p", auth_token: "ignored" }, STD))?.user, "u");
});

Deno.test("ClientAuth hasPlaintextPasswords reports what nats-server warns about", () => {
  assert(new ClientAuth(defaultOptions({ username: "u", password: "p" })).hasPlaintextPasswords);
  assert(
    !new ClientAuth(defaultOptions({ username: "u", password: BCRYPT_AUTH_HASH })).hasPlaintextPasswords,
  );
  assert(new ClientAuth(defaultOptions({ users: [{ username: "u", password: "p" }] })).hasPlaintextPasswords);
  assert(!new ClientAuth(defaultOptions({ authorization: "t" })).hasPlaintextPasswords);
});

Deno.test("validateAuth gives nats-server's no_auth_user errors", () => {
  assertEquals(
    validateAuth(defaultOptions({ noAuthUser: "x" })),
    'no_auth_user: "x" present, but users are not defined',
  );
  assertEquals(
    validateAuth(defaultOptions({ noAuthUser: "x", users: [{ username: "y", password: "p" }] })),
    'no_auth_user: "x" not present as user in authorization block or account configuration',
  );
  assertEquals(
    validateAuth(defaultOptions({ noAuthUser: "y", users: [{ username: "y", password: "p" }] })),
    undefined,
  );
});
