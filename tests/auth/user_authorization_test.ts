// Ports test/user_authorization_test.go as permission decisions: the users of test/configs/authorization.conf
// (roles from auths.conf) go through ClientAuth, and each PUB/SUB the Go test sends becomes a
// canPublish/canSubscribe call; delivery checks become denyDeliver/allowReply. The same tests over the wire
// come with the server (tests/server).
import { assert, assertEquals } from "@std/assert";
import { ClientAuth } from "../../src/auth/mod.ts";
import type { ClientPermissions } from "../../src/auth/mod.ts";
import type { AuthResult } from "../../src/auth/mod.ts";
import { defaultOptions } from "../../src/config/mod.ts";
import type { Permissions } from "../../src/config/mod.ts";

const PASS = "foo";

const ADMIN: Permissions = { publish: { allow: [">"] }, subscribe: { allow: [">"] } };
const REQUESTOR: Permissions = {
  publish: { allow: ["req.foo", "req.bar"] },
  subscribe: { allow: ["_INBOX.*"] },
};
const DEFAULT_PERMISSIONS: Permissions = {
  publish: { allow: ["SANDBOX.*"] },
  subscribe: { allow: ["PUBLIC.>", "_INBOX.>"] },
};
const BENCH: Permissions = { publish: { allow: ["a"] } };
const NEW_STYLE: Permissions = {
  publish: { allow: ["*.*"], deny: ["SYS.*", "bar.baz", "foo.*"] },
  subscribe: { allow: ["foo.*", "SYS.TEST.>"], deny: ["foo.baz", "SYS.*"] },
};
const NS_PUB: Permissions = { publish: { allow: ["foo.baz"] }, subscribe: { allow: ["foo.baz"] } };

function authorizationConf(now?: () => number): ClientAuth {
  // allow_responses is given as the config parser leaves it: 0 means "default".
  const svca: Permissions = {
    subscribe: { allow: ["my.service.req"] },
    response: { maxMsgs: 0, expiresMs: 0 },
  };
  const svcb: Permissions = {
    subscribe: { allow: ["my.service.req"] },
    response: { maxMsgs: 10, expiresMs: 10 },
  };
  return new ClientAuth(
    defaultOptions({
      users: [
        { username: "alice", password: PASS, permissions: ADMIN },
        { username: "bob", password: PASS, permissions: REQUESTOR },
        { username: "bench", password: PASS, permissions: BENCH },
        { username: "joe", password: PASS },
        { username: "ns", password: PASS, permissions: NEW_STYLE },
        { username: "ns-pub", password: PASS, permissions: NS_PUB },
        { username: "svca", password: PASS, permissions: svca },
        { username: "svcb", password: PASS, permissions: svcb },
      ],
      defaultPermissions: DEFAULT_PERMISSIONS,
    }),
    { now },
  );
}

function connect(auth: ClientAuth, user: string): AuthResult {
  const r = auth.check({ user, pass: PASS }, { connectionType: "STANDARD" });
  assert(r !== undefined && !(r instanceof Promise), `connect as ${user}`);
  return r;
}

function permsOf(auth: ClientAuth, user: string): ClientPermissions {
  const p = connect(auth, user).permissions;
  assert(p !== undefined, `${user} has permissions`);
  return p;
}

Deno.test("TestUserAuthorizationProto: role permissions, default permissions, allow/deny and deny delivery", () => {
  const auth = authorizationConf();
  assert(auth.authRequired);

  // Alice can do anything.
  const alice = permsOf(auth, "alice");
  assert(alice.canPublish("foo"));
  assert(alice.canSubscribe("foo"));
  assert(alice.canPublish("_"));

  // Bob is a requestor only: publish req.foo, req.bar; subscribe only to inboxes.
  const bob = permsOf(auth, "bob");
  assert(!bob.canSubscribe("foo"));
  assert(!bob.canPublish("foo"));
  assert(bob.canSubscribe("_INBOX.abcd"));
  assert(bob.canPublish("req.foo"));
  assert(bob.canPublish("req.bar"));

  // Joe gets the default permissions.
  const joe = permsOf(auth, "joe");
  assert(!joe.canSubscribe("foo.bar.*"));
  assert(!joe.canPublish("foo.bar.baz"));
  assert(joe.canSubscribe("_INBOX.abcd"));
  assert(joe.canSubscribe("PUBLIC.abcd"));
  assert(joe.canPublish("SANDBOX.foo"));
  assert(joe.canPublish("SANDBOX.bar"));
  assert(!joe.canPublish("SANDBOX.foo.bar"), "a * covers one token only");

  // New style permissions with allow and deny clauses.
  let ns = permsOf(auth, "ns");
  for (const s of ["SANDBOX.foo", "baz.bar", "baz.foo"]) assert(ns.canPublish(s), s);
  for (const s of ["foo", "bar", "foo.bar", "foo.bar.baz", "SYS.1"]) assert(!ns.canPublish(s), s);
  assert(ns.canSubscribe("foo.bar"));
  assert(ns.canSubscribe("foo.foo"));
  assert(!ns.canSubscribe("foo"));
  assert(!ns.canSubscribe("foo.baz"));

  // A deny clause still lets a wider wildcard subscribe, but what it denies is not delivered.
  ns = permsOf(auth, "ns");
  assert(!ns.denyDeliver("foo.baz"), "no filtering before a wildcard subscription");
  assert(ns.canSubscribe("foo.*"));
  assert(ns.canSubscribe("foo.*", "bar"));
  const nsPub = permsOf(auth, "ns-pub");
  assert(nsPub.canPublish("foo.baz"));
  assert(ns.denyDeliver("foo.baz"), "foo.baz must not reach ns's foo.* subscriptions");
  assert(!ns.denyDeliver("foo.bar"));
  // ns-pub's own queue subscriber on foo.baz is allowed and is not filtered.
  assert(nsPub.canSubscribe("foo.baz", "bar"));
  assert(!nsPub.denyDeliver("foo.baz"));

  ns = permsOf(auth, "ns");
  assert(ns.canSubscribe("foo.bar"));
  assert(!ns.canSubscribe("foo.bar.baz"));
  assert(!ns.canSubscribe(">"));
  assert(!ns.canSubscribe("SYS.>"));
  assert(ns.canSubscribe("SYS.TEST.foo"));
  assert(!ns.canSubscribe("SYS.bar"));
});

Deno.test("TestUserAuthorizationAllowResponses: replies may be published within max and expiry", () => {
  let now = 1_000_000;
  const auth = authorizationConf(() => now);

  const alice = permsOf(auth, "alice");
  assert(alice.canPublish("my.service.req"));

  // svca: one response per request.
  const svca = permsOf(auth, "svca");
  assertEquals(svca.response, { maxMsgs: 1, expiresMs: 120_000 });
  assert(svca.canSubscribe("my.service.req"));
  svca.allowReply("resp.bar.22"); // delivery of "my.service.req" with reply resp.bar.22
  assert(svca.canPublish("resp.bar.22"));
  assert(!svca.canPublish("resp.bar.33"));
  assert(!svca.canPublish("resp.bar.22"), "max is 1");

  // svcb: up to 10 responses, each grant lasting 10ms.
  const svcb = permsOf(auth, "svcb");
  assert(svcb.canSubscribe("my.service.req"));
  svcb.allowReply("resp.bar.22");
  assert(svcb.canPublish("resp.bar.22"));
  assert(!svcb.canPublish("resp.bar.33"));
  for (let i = 0; i < 9; i++) assert(svcb.canPublish("resp.bar.22"), `response ${i + 2}`);
  assert(!svcb.canPublish("resp.bar.22"), "already sent 10");

  svcb.allowReply("resp.bar.11");
  now += 100;
  assert(!svcb.canPublish("resp.bar.11"), "grant expired");
});
