// Ports test/user_authorization_test.go: role permissions from a config file, checked over the raw protocol.
// The reference loads test/configs/authorization.conf (not shipped with the Debian source); AUTHORIZATION_CONF
// below gives the same users and roles.
import { assertEquals } from "@std/assert";
import { delay } from "../_helpers/server.ts";
import {
  connectAuthRequired,
  createConfFile,
  doAuthConnect,
  errRe,
  expectNothing,
  msgRe,
  okRe,
  permErrRe,
  pongRe,
  runServerWithConfig,
} from "./_util.ts";

const DEFAULT_PASS = "foo";

export const AUTHORIZATION_CONF = `
listen: 127.0.0.1:-1

authorization {
  # Can do anything.
  super_user = {
    publish = ">"
    subscribe = ">"
  }
  # Requests on req.foo or req.bar, replies on inboxes.
  req_pub_user = {
    publish = ["req.foo", "req.bar"]
    subscribe = "_INBOX.>"
  }
  # Applied to users without permissions of their own.
  default_user = {
    publish = "SANDBOX.*"
    subscribe = ["PUBLIC.>", "_INBOX.>"]
  }
  # Allow and deny clauses.
  new_style = {
    publish = {
      allow = ["*.*"]
      deny = ["SYS.*", "bar.baz", "foo.*"]
    }
    subscribe = {
      allow = ["foo.*", "SYS.TEST.>"]
      deny = ["foo.baz", "SYS.*"]
    }
  }
  my_service = {
    subscribe = "my.service.req"
    publish_allow_responses: true
  }
  my_stream_service = {
    subscribe = "my.service.req"
    allow_responses: {max: 10, expires: "10ms"}
  }

  default_permissions = $default_user

  users = [
    {user: alice, password: foo, permissions: $super_user}
    {user: bob,   password: foo, permissions: $req_pub_user}
    {user: joe,   password: foo}
    {user: ns,    password: foo, permissions: $new_style}
    {user: ns-pub, password: foo, permissions: $super_user}
    {user: svca,  password: foo, permissions: $my_service}
    {user: svcb,  password: foo, permissions: $my_stream_service}
  ]
}
`;

async function login(port: number, user: string) {
  const c = await connectAuthRequired(port);
  await doAuthConnect(c, "", user, DEFAULT_PASS);
  await c.expect(okRe);
  return c;
}

Deno.test("TestUserAuthorizationProto: role permissions, default permissions, allow/deny and deny delivery", async () => {
  await using s = await runServerWithConfig(await createConfFile(AUTHORIZATION_CONF));
  const port = s.port;

  // Alice can do anything.
  {
    await using c = await login(port, "alice");
    await c.send("PUB foo 2\r\nok\r\n");
    await c.expect(okRe);
    await c.send("SUB foo 1\r\n");
    await c.expect(okRe);
    await c.send("PUB _ 2\r\nok\r\n");
    await c.expect(okRe);
  }

  // Bob is a requestor only.
  {
    await using c = await login(port, "bob");
    await c.send("SUB foo 1\r\n");
    await c.expect(permErrRe);
    await c.send("PUB foo 2\r\nok\r\n");
    await c.expect(permErrRe);
    await c.send("SUB _INBOX.abcd 1\r\n");
    await c.expect(okRe);
    await c.send("PUB req.foo 2\r\nok\r\n");
    await c.expect(okRe);
    await c.send("PUB req.bar 2\r\nok\r\n");
    await c.expect(okRe);
  }

  // Joe gets the default permissions.
  {
    await using c = await login(port, "joe");
    await c.send("SUB foo.bar.* 1\r\n");
    await c.expect(permErrRe);
    await c.send("PUB foo.bar.baz 2\r\nok\r\n");
    await c.expect(permErrRe);
    await c.send("SUB _INBOX.abcd 1\r\n");
    await c.expect(okRe);
    await c.send("SUB PUBLIC.abcd 1\r\n");
    await c.expect(okRe);
    await c.send("PUB SANDBOX.foo 2\r\nok\r\n");
    await c.expect(okRe);
    await c.send("PUB SANDBOX.bar 2\r\nok\r\n");
    await c.expect(okRe);
    // Only a partial wildcard: one token too many.
    await c.send("PUB SANDBOX.foo.bar 2\r\nok\r\n");
    await c.expect(permErrRe);
  }

  // Allow and deny clauses.
  {
    await using c = await login(port, "ns");
    for (const subj of ["SANDBOX.foo", "baz.bar", "baz.foo"]) {
      await c.send(`PUB ${subj} 2\r\nok\r\n`);
      await c.expect(okRe);
    }
    for (const subj of ["foo", "bar", "foo.bar", "foo.bar.baz", "SYS.1"]) {
      await c.send(`PUB ${subj} 2\r\nok\r\n`);
      await c.expect(permErrRe);
    }
    await c.send("SUB foo.bar 1\r\n");
    await c.expect(okRe);
    await c.send("SUB foo.foo 1\r\n");
    await c.expect(okRe);
    for (const subj of ["foo", "foo.baz", "foo.baz", "foo.baz"]) {
      await c.send(`SUB ${subj} 1\r\n`);
      await c.expect(permErrRe);
    }
  }

  // A wider subscription is allowed, but messages on a denied subject are not delivered.
  {
    await using c = await login(port, "ns");
    await c.send("SUB foo.* 1\r\n");
    await c.expect(okRe);
    await c.send("SUB foo.* bar 2\r\n");
    await c.expect(okRe);

    await using nc = await login(port, "ns-pub");
    await nc.send("PUB foo.baz 2\r\nok\r\n");
    await nc.expect(okRe);
    await expectNothing(c);
    await c.send("PING\r\n");
    await c.expect(pongRe);

    // A denied queue member is skipped: the message goes to the other member of the group every time.
    await nc.send("SUB foo.baz bar 2\r\n");
    await nc.expect(okRe);
    for (let i = 0; i < 20; i++) {
      await nc.send("PUB foo.baz 2\r\nok\r\n");
      await nc.expect(okRe);
      await nc.expect(msgRe);
    }
  }

  {
    await using c = await login(port, "ns");
    await c.send("SUB foo.bar 1\r\n");
    await c.expect(okRe);
    await c.send("SUB foo.bar.baz 2\r\n");
    await c.expect(errRe);
    await c.send("SUB > 3\r\n");
    await c.expect(errRe);
    await c.send("SUB SYS.> 4\r\n");
    await c.expect(errRe);
    await c.send("SUB SYS.TEST.foo 5\r\n");
    await c.expect(okRe);
    await c.send("SUB SYS.bar 5\r\n");
    await c.expect(errRe);
  }
});

Deno.test("TestUserAuthorizationAllowResponses: replies may be published within max and expiry", async () => {
  await using s = await runServerWithConfig(await createConfFile(AUTHORIZATION_CONF));
  const port = s.port;
  await using rc = await login(port, "alice");

  const checkReq = async (c: Awaited<ReturnType<typeof login>>, reply: string) => {
    const m = await c.expect(msgRe);
    assertEquals([m[1], m[2], m[4], m[5], m[6]], ["my.service.req", "1", reply, "2", "ok"]);
  };

  // One response per request.
  {
    await using c = await login(port, "svca");
    await c.send("SUB my.service.req 1\r\n");
    await c.expect(okRe);
    await rc.send("PUB my.service.req resp.bar.22 2\r\nok\r\n");
    await rc.expect(okRe);
    await checkReq(c, "resp.bar.22");
    await c.send("PUB resp.bar.22 2\r\nok\r\n");
    await c.expect(okRe);
    await c.send("PUB resp.bar.33 2\r\nok\r\n");
    await c.expect(errRe);
    await c.send("PUB resp.bar.22 2\r\nok\r\n");
    await c.expect(errRe);
  }

  // Up to 10 responses, each permission lasting 10ms.
  {
    await using c = await login(port, "svcb");
    await c.send("SUB my.service.req 1\r\n");
    await c.expect(okRe);
    await rc.send("PUB my.service.req resp.bar.22 2\r\nok\r\n");
    await rc.expect(okRe);
    await checkReq(c, "resp.bar.22");
    // All in one write: the permission lasts 10ms from the request's delivery, and a round trip per publish
    // can take longer than that on a loaded machine.
    const pub22 = "PUB resp.bar.22 2\r\nok\r\n";
    await c.send(pub22 + "PUB resp.bar.33 2\r\nok\r\n" + pub22.repeat(9) + pub22);
    await c.expect(okRe);
    await c.expect(errRe);
    for (let i = 0; i < 9; i++) await c.expect(okRe);
    await c.expect(errRe);

    await rc.send("PUB my.service.req resp.bar.11 2\r\nok\r\n");
    await rc.expect(okRe);
    await checkReq(c, "resp.bar.11");
    await delay(100);
    await c.send("PUB resp.bar.11 2\r\nok\r\n");
    await c.expect(errRe);
  }
});
