// Ports test/client_auth_test.go: users and a bcrypt token from a config file, with the official client.
import { assert } from "@std/assert";
import { connect } from "@nats-io/transport-node";
import { createConfFile, runServerWithConfig } from "./_util.ts";

/** The reference's bcrypt hash of the token "test". */
const TEST_TOKEN = "$2a$05$3sSWEVA1eMCbV0hWavDjXOx.ClBjI6u1CuUdLqf22cbJjXsnzz8/.";

Deno.test("TestMultipleUserAuth: both users of a config file connect, and auth is required", async () => {
  // The reference's configs/multi_user.conf, on a random port.
  await using s = await runServerWithConfig(
    await createConfFile(`
      listen: 127.0.0.1:-1
      authorization {
        users = [
          {user: alice, password: foo}
          {user: bob, password: bar}
        ]
        timeout: 0.5
      }
    `),
  );
  assert(s.opts.users.length === 2);
  for (const u of s.opts.users) {
    // The official JavaScript client takes credentials as options, not from the URL as nats.go does.
    const nc = await connect({ servers: `127.0.0.1:${s.port}`, user: u.username, pass: u.password });
    assert(nc.info?.auth_required === true, "expected auth to be required");
    await nc.close();
  }
  // A wrong password is refused.
  let refused = false;
  await connect({ servers: `127.0.0.1:${s.port}`, user: "alice", pass: "bar", reconnect: false }).then(
    (nc) => nc.close(),
    () => refused = true,
  );
  assert(refused);
});

Deno.test("TestTokenInConfig: a bcrypt token from the config file matches the client's token", async () => {
  await using s = await runServerWithConfig(
    await createConfFile(`
      listen: 127.0.0.1:-1
      authorization={
        token: "${TEST_TOKEN}"
        timeout: 5
      }
    `),
  );
  const nc = await connect({ servers: `127.0.0.1:${s.port}`, token: "test" });
  assert(nc.info?.auth_required === true, "expected auth to be required");
  await nc.close();
});
