// Ports server/auth_test.go: the tests whose logic is a pure auth decision run against ClientAuth; the rest stay
// here as ignored tests with the reason.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  ClientAuth,
  ClientPermissions,
  dnsAltNameLabels,
  dnsAltNameMatches,
  validateAuth,
} from "../../src/auth/mod.ts";
import type { AuthResult, ConnectionType } from "../../src/auth/mod.ts";
import { defaultOptions } from "../../src/config/mod.ts";
import type { Permissions } from "../../src/config/mod.ts";

const STD = { connectionType: "STANDARD" as ConnectionType };

function sync(r: AuthResult | undefined | Promise<AuthResult | undefined>): AuthResult | undefined {
  assert(!(r instanceof Promise), "expected a synchronous answer");
  return r;
}

// Go's TestUserClone* tests check that User.clone() deep-copies. Our users are never cloned: compile() copies
// what it keeps, so the equivalent guarantee is that the options stay untouched and unshared.
function assertCompileLeavesInputAlone(p: Permissions): void {
  const before = structuredClone(p);
  const perms = ClientPermissions.compile(p);
  assertEquals(p, before);
  p.subscribe?.allow?.push("baz");
  p.publish?.allow?.push(">");
  assertEquals(perms.canSubscribe("baz"), before.subscribe?.allow === undefined);
}

Deno.test("TestUserCloneNilPermissions: a user without permissions compiles to none", () => {
  const auth = new ClientAuth(defaultOptions({ users: [{ username: "foo", password: "bar" }] }));
  assertEquals(sync(auth.check({ user: "foo", pass: "bar" }, STD))?.permissions, undefined);
});

Deno.test("TestUserClone: compiling permissions neither modifies nor aliases the options", () => {
  assertCompileLeavesInputAlone({ publish: { allow: ["foo"] }, subscribe: { allow: ["bar"] } });
});

Deno.test("TestUserClonePermissionsNoLists: empty permissions stay empty and allow everything", () => {
  const p: Permissions = {};
  const perms = ClientPermissions.compile(p);
  assertEquals(p, {});
  assert(perms.canPublish("foo") && perms.canSubscribe(">"));
});

Deno.test("TestUserCloneNoPermissions: users without permissions get no ClientPermissions", () => {
  const auth = new ClientAuth(defaultOptions({ users: [{ username: "foo", password: "bar" }] }));
  const r = sync(auth.check({ user: "foo", pass: "bar" }, STD));
  assertEquals(r, { user: "foo", account: "$G", permissions: undefined });
});

Deno.test({
  name: "TestUserCloneNil: (nothing to port: TypeScript has no nil *User receiver)",
  ignore: true,
  fn() {},
});

Deno.test("TestUserUnknownAllowedConnectionType: unknown types are a startup error; names are case-insensitive", () => {
  const err = validateAuth(defaultOptions({
    users: [{ username: "user", password: "pwd", allowedConnectionTypes: ["STANDARD", "someNewType"] }],
  }));
  assert(err !== undefined);
  assertStringIncludes(err, "connection type");
  assertEquals(err, 'unknown connection type "someNewType"');

  const ok = defaultOptions({
    users: [{ username: "user", password: "pwd", allowedConnectionTypes: ["websocket"] }],
  });
  assertEquals(validateAuth(ok), undefined);
  const auth = new ClientAuth(ok);
  assert(sync(auth.check({ user: "user", pass: "pwd" }, { connectionType: "WEBSOCKET" })));
  assertEquals(sync(auth.check({ user: "user", pass: "pwd" }, STD)), undefined);

  const nk = "somekey";
  const nkErr = validateAuth(defaultOptions({
    nkeys: [{ nkey: nk, allowedConnectionTypes: ["STANDARD", "someNewType"] }],
  }));
  assert(nkErr !== undefined);
  assertStringIncludes(nkErr, "connection type");
  assertEquals(
    validateAuth(defaultOptions({ nkeys: [{ nkey: nk, allowedConnectionTypes: ["websocket"] }] })),
    undefined,
  );
});

Deno.test("TestDNSAltNameMatching: alt names match hosts label by label, with a leading * wildcard", () => {
  const cases: [string, string[], boolean][] = [
    ["foo", ["FOO"], true],
    ["foo", [".."], false],
    ["foo", ["."], false],
    ["Foo", ["foO"], true],
    ["FOO", ["foo"], true],
    ["foo1", ["bar"], false],
    ["multi", ["m", "mu", "mul", "multi"], true],
    ["multi", ["multi", "m", "mu", "mul"], true],
    ["foo.bar", ["foo", "foo.bar.bar", "foo.baz"], false],
    ["foo.Bar", ["foo", "bar.foo", "Foo.Bar"], true],
    ["foo.*", ["foo", "bar.foo", "Foo.Bar"], false],
    ["f*.bar", ["foo", "bar.foo", "Foo.Bar"], false],
    ["*.bar", ["foo.bar"], true],
    ["*", ["baz.bar", "bar", "z.y"], true],
    ["*", ["bar"], true],
    ["*", ["."], false],
    ["*", [""], true],
    ["*", ["*"], true],
    ["bar.*", ["bar.*"], true],
    ["*.Y-X-red-mgmt.default.svc", ["A.Y-X-red-mgmt.default.svc"], true],
    ["*.Y-X-green-mgmt.default.svc", ["A.Y-X-green-mgmt.default.svc"], true],
    ["*.Y-X-blue-mgmt.default.svc", ["A.Y-X-blue-mgmt.default.svc"], true],
    ["Y-X-red-mgmt", ["Y-X-red-mgmt"], true],
    ["Y-X-red-mgmt", ["X-X-red-mgmt"], false],
    ["Y-X-red-mgmt", ["Y-X-green-mgmt"], false],
    ["Y-X-red-mgmt", ["Y"], false],
    ["Y-X-red-mgmt", ["Y-X"], false],
    ["Y-X-red-mgmt", ["Y-X-red"], false],
    ["Y-X-red-mgmt", ["X-red-mgmt"], false],
    ["Y-X-green-mgmt", ["Y-X-green-mgmt"], true],
    ["Y-X-blue-mgmt", ["Y-X-blue-mgmt"], true],
    ["connect.Y.local", ["connect.Y.local"], true],
    ["connect.Y.local", [".Y.local"], false],
    ["connect.Y.local", ["..local"], false],
    ["gcp.Y.local", ["gcp.Y.local"], true],
    ["uswest1.gcp.Y.local", ["uswest1.gcp.Y.local"], true],
  ];
  cases.forEach(([alt, hosts, want], i) => {
    assertEquals(dnsAltNameMatches(dnsAltNameLabels(alt), hosts), want, `case ${i}: ${alt} vs ${hosts}`);
  });
});

Deno.test("TestNoAuthUser: no_auth_user stands in only when the client sends no credentials", () => {
  // accounts { FOO { users [{user: foo, password: pwd1}] } BAR { users [{user: bar, password: pwd2}] } }
  const auth = new ClientAuth(defaultOptions({
    users: [
      { username: "foo", password: "pwd1", account: "FOO" },
      { username: "bar", password: "pwd2", account: "BAR" },
    ],
    noAuthUser: "foo",
  }));
  // nats.go turns "nats://u:p@" into user/pass and "nats://t@" into a token.
  const cases: [string, Record<string, string>, string | undefined][] = [
    ["valid user/pwd", { user: "bar", pass: "pwd2" }, "BAR"],
    ["invalid pwd", { user: "bar", pass: "wrong" }, undefined],
    ["some token", { auth_token: "sometoken" }, undefined],
    ["user used without pwd", { auth_token: "bar" }, undefined],
    ["user with empty password", { user: "bar", pass: "" }, undefined],
    ["no user", {}, "FOO"],
  ];
  for (const [name, creds, account] of cases) {
    assertEquals(sync(auth.check(creds, STD))?.account, account, name);
  }
});

Deno.test({
  name:
    "TestNoAuthUserNoConnectProto: (wire) no CONNECT needed with no_auth_user, auth timeout still applies",
  // blocked: needs the server's connection state machine and auth timer; to be ported over the wire.
  ignore: true,
  fn() {},
});
