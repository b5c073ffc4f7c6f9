// End-to-end authentication and authorization through the official client (@nats-io/transport-node): token,
// user/password (plain and bcrypt), nkeys, no_auth_user, permission violations and allow_responses.
import {
  connect,
  type NatsConnection,
  nkeyAuthenticator,
  PermissionViolationError,
} from "@nats-io/transport-node";
import { createUser } from "@nats-io/nkeys";
import bcrypt from "bcryptjs";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { runServer } from "../_helpers/server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function client(port: number, opts: Record<string, unknown> = {}): Promise<NatsConnection> {
  return connect({ servers: `127.0.0.1:${port}`, reconnect: false, ...opts });
}

/** The first async server error the connection reports from now on (bounded); call before the action. */
async function nextServerError(nc: NatsConnection, ms = 2_000): Promise<Error> {
  const it = nc.status()[Symbol.asyncIterator]();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("no server error reported")), ms);
  });
  try {
    for (;;) {
      const r = await Promise.race([it.next(), timeout]);
      if (r.done) throw new Error("status iterator ended");
      if (r.value.type === "error") return r.value.error;
    }
  } finally {
    clearTimeout(timer);
    await it.return?.();
  }
}

async function roundTrip(nc: NatsConnection, subject: string): Promise<string> {
  const sub = nc.subscribe(subject, { max: 1 });
  nc.publish(subject, enc.encode("ping"));
  for await (const m of sub) return dec.decode(m.data);
  throw new Error("no message");
}

Deno.test("e2e auth: a token is required and checked", async () => {
  await using s = await runServer({ authorization: "s3cr3t" });
  await assertRejects(() => client(s.port), "Authorization Violation");
  await assertRejects(() => client(s.port, { token: "wrong" }), "Authorization Violation");
  const nc = await client(s.port, { token: "s3cr3t" });
  assertEquals(await roundTrip(nc, "t.x"), "ping");
  await nc.close();
});

Deno.test("e2e auth: user and plain password", async () => {
  await using s = await runServer({ username: "derek", password: "foobar" });
  await assertRejects(() => client(s.port, { user: "derek", pass: "nope" }), "Authorization Violation");
  const nc = await client(s.port, { user: "derek", pass: "foobar" });
  assertEquals(await roundTrip(nc, "u.x"), "ping");
  await nc.close();
});

Deno.test("e2e auth: users with bcrypt passwords", async () => {
  const hash = bcrypt.hashSync("p@ss w0rd", 4);
  await using s = await runServer({ users: [{ username: "alice", password: hash }] });
  await assertRejects(() => client(s.port, { user: "alice", pass: hash }), "Authorization Violation");
  const nc = await client(s.port, { user: "alice", pass: "p@ss w0rd" });
  assertEquals(await roundTrip(nc, "b.x"), "ping");
  await nc.close();
});

Deno.test("e2e auth: nkey users sign the server nonce", async () => {
  const user = createUser();
  const other = createUser();
  await using s = await runServer({ nkeys: [{ nkey: user.getPublicKey() }] });
  await assertRejects(
    () => client(s.port, { authenticator: nkeyAuthenticator(other.getSeed()) }),
    "Authorization Violation",
  );
  const nc = await client(s.port, { authenticator: nkeyAuthenticator(user.getSeed()) });
  assertEquals(await roundTrip(nc, "n.x"), "ping");
  await nc.close();
});

Deno.test("e2e auth: no_auth_user serves clients without credentials, with that user's permissions", async () => {
  await using s = await runServer({
    users: [
      { username: "guest", password: "guest", permissions: { publish: { allow: ["public.>"] } } },
      { username: "admin", password: "admin" },
    ],
    noAuthUser: "guest",
  });
  const nc = await client(s.port);
  assertEquals(await roundTrip(nc, "public.x"), "ping");
  const errP = nextServerError(nc);
  nc.publish("private.x");
  const err = await errP;
  assert(err instanceof PermissionViolationError, String(err));
  assertEquals([err.operation, err.subject], ["publish", "private.x"]);
  await nc.close();
  // Credentials still pick their own user, and a wrong password is not downgraded to the guest.
  const admin = await client(s.port, { user: "admin", pass: "admin" });
  assertEquals(await roundTrip(admin, "private.x"), "ping");
  await admin.close();
  await assertRejects(() => client(s.port, { user: "admin", pass: "nope" }), "Authorization Violation");
});

Deno.test("e2e auth: denied publish and subscribe are reported to the client as permission errors", async () => {
  await using s = await runServer({
    users: [{
      username: "bob",
      password: "bar",
      permissions: {
        publish: { allow: ["req.>"], deny: ["req.secret"] },
        subscribe: { allow: ["_INBOX.>", "ok.>"] },
      },
    }],
  });
  const nc = await client(s.port, { user: "bob", pass: "bar" });
  const sub = nc.subscribe("forbidden");
  const closed = await Promise.race([
    sub.closed,
    new Promise((r) => setTimeout(() => r("still open"), 2_000)),
  ]);
  assert(closed instanceof PermissionViolationError, `subscription should fail, got ${closed}`);
  assertEquals([closed.operation, closed.subject], ["subscription", "forbidden"]);
  assertStringIncludes(closed.message, 'Permissions Violation for Subscription to "forbidden"');

  const errP = nextServerError(nc);
  nc.publish("req.secret");
  const err = await errP;
  assert(err instanceof PermissionViolationError, String(err));
  assertEquals([err.operation, err.subject], ["publish", "req.secret"]);
  // The connection stays usable.
  const ok = nc.subscribe("ok.1", { max: 1 });
  await nc.flush();
  assert(!nc.isClosed());
  ok.unsubscribe();
  await nc.close();
});

Deno.test("e2e auth: allow_responses lets a service answer requests it could not publish to otherwise", async () => {
  await using s = await runServer({
    users: [
      { username: "client", password: "c" },
      {
        username: "svc",
        password: "s",
        permissions: {
          subscribe: { allow: ["svc.echo"] },
          publish: { deny: [">"] },
          response: { maxMsgs: 1, expiresMs: 60_000 },
        },
      },
    ],
  });
  const svc = await client(s.port, { user: "svc", pass: "s" });
  const sub = svc.subscribe("svc.echo", {
    callback: (_e, m) => {
      m.respond(m.data);
      // A second answer exceeds max 1 and is refused.
      m.respond(m.data);
    },
  });
  await svc.flush();
  const nc = await client(s.port, { user: "client", pass: "c" });
  const errP = nextServerError(svc);
  const r = await nc.request("svc.echo", enc.encode("hi"), { timeout: 2_000 });
  assertEquals(dec.decode(r.data), "hi");
  const err = await errP;
  assert(err instanceof PermissionViolationError, String(err));
  assertEquals(err.operation, "publish");
  const err2P = nextServerError(svc);
  svc.publish("other.subject");
  const err2 = await err2P;
  assert(err2 instanceof PermissionViolationError && err2.subject === "other.subject", String(err2));
  sub.unsubscribe();
  await nc.close();
  await svc.close();
});
