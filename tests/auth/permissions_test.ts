// ClientPermissions rules from server/client.go (setPermissions, pubAllowedFullCheck, canSubscribe, queueMatches,
// checkDenySub). Cases marked "reference" were checked against nats-server 2.9.10 over the wire.
import { assert, assertEquals } from "@std/assert";
import { ClientPermissions } from "../../src/auth/mod.ts";
import {
  DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS,
  DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
} from "../../src/config/mod.ts";

Deno.test("ClientPermissions: no lists allow everything", () => {
  const p = ClientPermissions.compile({});
  assert(p.canPublish("foo") && p.canSubscribe(">") && p.canSubscribe("foo", "q"));
  assert(!p.hasSubDeny && !p.hasPubPerms);
  assertEquals(p.response, undefined);
  assert(!p.denyDeliver("foo"));
});

Deno.test("ClientPermissions: an empty publish allow list denies all; an empty subscribe allow list allows all", () => {
  const p = ClientPermissions.compile({ publish: { allow: [] }, subscribe: { allow: [] } });
  assert(!p.canPublish("foo"));
  assert(p.hasPubPerms);
  assert(p.canSubscribe("foo"));
});

Deno.test("ClientPermissions: deny overrides allow; wildcards match by token", () => {
  const p = ClientPermissions.compile({
    publish: { allow: ["foo.*", "bar.>"], deny: ["foo.secret", "bar.*.x"] },
  });
  assert(p.canPublish("foo.a"));
  assert(!p.canPublish("foo.secret"));
  assert(!p.canPublish("foo.a.b"), "* is one token");
  assert(!p.canPublish("foo"), "* needs a token");
  assert(p.canPublish("bar.a.b.c"));
  assert(!p.canPublish("bar"), "> needs at least one token");
  assert(!p.canPublish("bar.a.x"));
  assert(p.canPublish("bar.a.x.y"));
});

Deno.test("ClientPermissions: a deny list alone leaves the rest allowed", () => {
  const p = ClientPermissions.compile({ publish: { deny: ["$SYS.>"] }, subscribe: { deny: ["$SYS.>"] } });
  assert(p.canPublish("foo"));
  assert(!p.canPublish("$SYS.REQ.SERVER.PING"));
  assert(!p.canSubscribe("$SYS.>"));
  assert(p.canSubscribe("foo.>"));
  assert(p.hasSubDeny);
});

Deno.test("ClientPermissions: publish results stay right past the bounded cache", () => {
  const p = ClientPermissions.compile({ publish: { allow: ["ok.>"] } });
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 500; i++) {
      assertEquals(p.canPublish(`ok.${i}`), true);
      assertEquals(p.canPublish(`no.${i}`), false);
    }
  }
});

Deno.test("ClientPermissions: wildcard subscriptions are checked with their wildcards as plain tokens (reference)", () => {
  const p = ClientPermissions.compile({ subscribe: { allow: ["foo.*", "bar.>"] } });
  assert(p.canSubscribe("foo.*"));
  assert(p.canSubscribe("foo.>"), "an allowed * matches the subscriber's > token");
  assert(p.canSubscribe("bar.*"));
  assert(p.canSubscribe("bar.>"));
  assert(!p.canSubscribe(">"));
  assert(!p.canSubscribe("*.*"));
  assert(!p.canSubscribe("foo"));
  const lit = ClientPermissions.compile({ subscribe: { allow: ["foo.bar"] } });
  assert(!lit.canSubscribe("foo.*"), "a literal entry does not allow a wildcard over it");
});

Deno.test("ClientPermissions: queue entries in the allow list (reference)", () => {
  // allow = ["foo v1"]: only queue subscriptions in v1.
  const onlyQ = ClientPermissions.compile({ subscribe: { allow: ["foo v1"] } });
  assert(!onlyQ.canSubscribe("foo"));
  assert(onlyQ.canSubscribe("foo", "v1"));
  assert(!onlyQ.canSubscribe("foo", "v2"));

  // allow = ["foo", "foo v1"]: plain subscriptions, and queue subscriptions only in v1.
  const both = ClientPermissions.compile({ subscribe: { allow: ["foo", "foo v1"] } });
  assert(both.canSubscribe("foo"));
  assert(both.canSubscribe("foo", "v1"));
  assert(!both.canSubscribe("foo", "v2"));

  // allow = ["foo"]: any queue.
  const plain = ClientPermissions.compile({ subscribe: { allow: ["foo"] } });
  assert(plain.canSubscribe("foo", "anything"));

  // A wildcard subject entry with a queue, next to a plain literal one.
  const mixed = ClientPermissions.compile({ subscribe: { allow: ["q.> grp", "q.x"] } });
  assert(!mixed.canSubscribe("q.a"));
  assert(mixed.canSubscribe("q.a", "grp"));
  assert(!mixed.canSubscribe("q.a", "other"));
  assert(mixed.canSubscribe("q.x"));
  assert(!mixed.canSubscribe("q.x", "zz"), "a matching queue entry decides over the plain entry");
});

Deno.test("ClientPermissions: wildcard queue names cover matching queue groups", () => {
  const p = ClientPermissions.compile({ subscribe: { allow: ["foo v1.*", "bar *"] } });
  assert(p.canSubscribe("foo", "v1.a"));
  assert(p.canSubscribe("foo", "v1.*"), "a literal match of the queue name");
  assert(!p.canSubscribe("foo", "v1.a.b"));
  assert(!p.canSubscribe("foo", "v2.a"));
  assert(p.canSubscribe("bar", "anything"));
  assert(!p.canSubscribe("bar", "two.tokens"));
});

Deno.test("ClientPermissions: queue entries in the deny list (reference)", () => {
  const p = ClientPermissions.compile({ subscribe: { deny: ["q.y g2"] } });
  assert(!p.canSubscribe("q.y", "g2"));
  assert(p.canSubscribe("q.y", "grp"));
  assert(p.canSubscribe("q.y"), "a queue deny entry does not deny plain subscriptions");
  // A plain deny entry next to a queue one: for a queue subscription the queue entry decides.
  const mixed = ClientPermissions.compile({ subscribe: { deny: ["foo", "foo v1"] } });
  assert(!mixed.canSubscribe("foo"));
  assert(!mixed.canSubscribe("foo", "v1"));
  assert(mixed.canSubscribe("foo", "v2"));
});

Deno.test("ClientPermissions: subscribe entries split on whitespace; bad entries are skipped", () => {
  const p = ClientPermissions.compile({
    subscribe: { allow: ["  foo   v1 ", "a b c", "bad..subject", "bad.>.tail", "ok.>"] },
  });
  assert(p.canSubscribe("foo", "v1"));
  assert(!p.canSubscribe("a"));
  assert(!p.canSubscribe("a", "b"));
  assert(!p.canSubscribe("bad..subject"));
  assert(p.canSubscribe("ok.x"));
});

Deno.test("ClientPermissions: denyDeliver switches on with a wildcard subscription wider than a deny entry", () => {
  const p = ClientPermissions.compile({ subscribe: { allow: ["foo.*", "foo.>"], deny: ["foo.baz"] } });
  assert(!p.canSubscribe("foo.baz"));
  assert(p.canSubscribe("foo.bar"));
  assert(!p.denyFilterActive, "literal subscriptions do not need the filter");
  assert(!p.denyDeliver("foo.baz"));
  assert(p.canSubscribe("foo.*"));
  assert(p.denyFilterActive);
  assert(p.denyDeliver("foo.baz"));
  assert(!p.denyDeliver("foo.bar"));
  assert(!p.denyDeliver("foo.baz.x"));
  p.resetDenyFilter();
  assert(!p.denyFilterActive);
  assert(!p.denyDeliver("foo.baz"));
});

Deno.test("ClientPermissions: a deny entry that is not within the wildcard leaves the filter off (as nats-server)", () => {
  // "*.baz" is not a subset of "foo.>", so nats-server does not filter deliveries to this subscription.
  const p = ClientPermissions.compile({ subscribe: { deny: ["*.baz"] } });
  assert(p.canSubscribe("foo.>"));
  assert(!p.denyFilterActive);
  assert(!p.denyDeliver("foo.baz"));
  assert(!p.canSubscribe("foo.baz"));
  // A wider one switches it on; from then on every delivery is checked.
  assert(p.canSubscribe(">"));
  assert(p.denyDeliver("foo.baz"));
});

Deno.test("ClientPermissions: denyDeliver stays right past its bounded cache", () => {
  const p = ClientPermissions.compile({ subscribe: { deny: ["x.*.deny"] } });
  assert(p.canSubscribe("x.>"));
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 600; i++) {
      assertEquals(p.denyDeliver(`x.${i}.deny`), true);
      assertEquals(p.denyDeliver(`x.${i}.ok`), false);
    }
  }
});

Deno.test("ClientPermissions: allow_responses defaults and the implied empty publish allow list", () => {
  const p = ClientPermissions.compile({ response: { maxMsgs: 0, expiresMs: 0 } });
  assertEquals(p.response, {
    maxMsgs: DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
    expiresMs: DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS,
  });
  assertEquals(p.response, { maxMsgs: 1, expiresMs: 120_000 });
  assert(!p.canPublish("anything"), "allow_responses alone permits only replies");
  p.allowReply("_INBOX.a");
  assert(p.canPublish("_INBOX.a"));
  assert(!p.canPublish("_INBOX.a"));

  const withAllow = ClientPermissions.compile({
    publish: { allow: ["pub.>"] },
    response: { maxMsgs: 5, expiresMs: 0 },
  });
  assert(withAllow.canPublish("pub.x"));
  assertEquals(withAllow.response, { maxMsgs: 5, expiresMs: 120_000 });
});

Deno.test("ClientPermissions: negative allow_responses limits mean unlimited", () => {
  let now = 0;
  const p = ClientPermissions.compile({ response: { maxMsgs: -1, expiresMs: -1 } }, { now: () => now });
  p.allowReply("r");
  for (let i = 0; i < 100; i++) assert(p.canPublish("r"));
  now += 10 * 24 * 3600_000;
  assert(p.canPublish("r"));
});

Deno.test("ClientPermissions: reply grants are checked after both lists, so they open denied subjects too (as nats-server)", () => {
  const p = ClientPermissions.compile({
    publish: { deny: ["secret.>"] },
    response: { maxMsgs: 1, expiresMs: 0 },
  });
  assert(!p.canPublish("x"), "allow_responses implies an empty allow list");
  p.allowReply("x");
  assert(p.canPublish("x"));
  assert(!p.canPublish("x"));
  p.allowReply("secret.r");
  assert(p.canPublish("secret.r"));
});

Deno.test("ClientPermissions: allowReply is a no-op without allow_responses", () => {
  const p = ClientPermissions.compile({ publish: { allow: ["a"] } });
  p.allowReply("b");
  assert(!p.canPublish("b"));
});

Deno.test("ClientPermissions: canPublish(subject, false) ignores reply grants without hiding them from later checks", () => {
  const p = ClientPermissions.compile({ response: { maxMsgs: 1, expiresMs: 0 } });
  p.allowReply("r");
  assert(!p.canPublish("r", false));
  assert(p.canPublish("r"), "the static denial was not cached over the grant");
  assert(!p.canPublish("r"), "max 1");
});

Deno.test("ClientPermissions: forConnection shares the lists but not the state", () => {
  const base = ClientPermissions.compile({
    subscribe: { deny: ["a.b"] },
    response: { maxMsgs: 1, expiresMs: 0 },
  });
  const c1 = base.forConnection();
  const c2 = base.forConnection();
  c1.allowReply("r");
  assert(c1.canPublish("r"));
  assert(!c2.canPublish("r"));
  assert(c1.canSubscribe("a.*"));
  assert(c1.denyDeliver("a.b"));
  assert(!c2.denyDeliver("a.b"));
  assertEquals(c2.response, c1.response);
});
