// Ports server/reload_test.go: config reload of logging, limits and authorization, applied to connected
// clients, and the refusal of options that cannot change without a restart. The reference's
// server/configs/reload/*.conf files are not shipped with the Debian source; the configs below give the same
// settings (on 127.0.0.1 and random ports).
import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "@std/assert";
import { loadOptions, type Options } from "../../src/config/mod.ts";
import { Server } from "../../src/server/mod.ts";
import { Logger } from "../../src/util/mod.ts";
import { connect } from "@nats-io/transport-node";
import { type Msg, type NatsConnection, nkeyAuthenticator, type Subscription } from "@nats-io/nats-core";
import { checkFor, delay, runServer } from "../_helpers/server.ts";
import {
  connectRaw,
  createConfFile,
  loadConfig,
  RawClient,
  reloadServer,
  reloadUpdateConfig,
  runServerWithConfig,
} from "./_util.ts";

const BASIC_CONF = "listen: 127.0.0.1:-1\n";
const SINGLE_USER_1 = `${BASIC_CONF}authorization {\n  user: tyler\n  password: T0pS3cr3t\n}\n`;
const SINGLE_USER_2 = `${BASIC_CONF}authorization {\n  user: derek\n  password: passw0rd\n}\n`;
const TOKEN_1 = `${BASIC_CONF}authorization {\n  token: T0pS3cr3t\n}\n`;
const TOKEN_2 = `${BASIC_CONF}authorization {\n  token: passw0rd\n}\n`;
const MULTIPLE_USERS_1 = `${BASIC_CONF}authorization {
  users = [
    {user: alice, password: foo}
    {user: bob, password: bar}
  ]
}
`;
const MULTIPLE_USERS_2 = `${BASIC_CONF}authorization {
  users = [
    {user: alice, password: baz}
    {user: bob, password: bar}
  ]
}
`;
const AUTHORIZATION_1 = `${BASIC_CONF}authorization {
  super_user = { publish = ">", subscribe = ">" }
  req_pub_user = { publish = ["req.foo", "req.bar"], subscribe = "_INBOX.>" }
  default_user = { subscribe = { allow: ["PUBLIC.>", "foo.*"], deny: "foo.bar" } }
  default_permissions: $default_user
  users = [
    {user: alice, password: foo, permissions: $super_user}
    {user: bob, password: bar, permissions: $req_pub_user}
    {user: susan, password: baz}
  ]
}
`;
const AUTHORIZATION_2 = `${BASIC_CONF}authorization {
  super_user = { publish = ">", subscribe = ">" }
  req_pub_user = { publish = "_INBOX.foo.bar", subscribe = "_INBOX.foo.>" }
  default_user = { subscribe = { allow: ["PUBLIC.>", "foo.*"], deny: "PUBLIC.foo" } }
  default_permissions: $default_user
  users = [
    {user: alice, password: foo, permissions: $super_user}
    {user: bob, password: bar, permissions: $req_pub_user}
    {user: susan, password: baz}
  ]
}
`;

const AUTH_VIOLATION = /^-ERR 'Authorization Violation'\r\n/;

/** A connected, registered raw client (CONNECT + PING/PONG), optionally with credentials. */
async function connectUser(port: number, creds: Record<string, string> = {}): Promise<RawClient> {
  const c = await connectRaw(port, { verbose: false, pedantic: false, protocol: 1, ...creds });
  await c.flush();
  return c;
}

/** A connect with these credentials is refused with -ERR 'Authorization Violation'. */
async function expectConnectFails(port: number, creds: Record<string, string> = {}): Promise<void> {
  await using c = await connectRaw(port, { verbose: false, pedantic: false, ...creds });
  await c.send("PING\r\n");
  await c.expect(AUTH_VIOLATION);
  await c.waitClosed();
}

/** The connection got the authorization error from a reload and was closed. */
async function expectKicked(c: RawClient): Promise<void> {
  await c.expect(AUTH_VIOLATION, 2_000);
  await c.waitClosed();
}

/** The options the reload tests compare before and after a refused reload. */
function golden(o: Options) {
  return {
    host: o.host,
    port: o.port,
    debug: o.debug,
    trace: o.trace,
    logtime: o.logtime,
    maxControlLine: o.maxControlLine,
    maxPayload: o.maxPayload,
    maxConn: o.maxConn,
    pingIntervalMs: o.pingIntervalMs,
    maxPingsOut: o.maxPingsOut,
    writeDeadlineMs: o.writeDeadlineMs,
    authTimeoutMs: o.authTimeoutMs,
  };
}

const TEST_CONF = `listen: 127.0.0.1:-1\ndebug: false\ntrace: false\nlogtime: false\n`;

Deno.test("TestConfigReloadNoConfigFile: reload without a config file fails and keeps the config time", async () => {
  await using s = await runServer();
  const loaded = s.configTime;
  assertThrows(() => reloadServer(s), "can only reload config when a file is provided using -c or --config");
  assertEquals(s.configTime, loaded);
});

Deno.test("TestConfigReloadUnsupported: a change that cannot be reloaded is refused and nothing changes", async () => {
  // The reference changes the cluster host; natsdeno keeps the cluster block unparsed for now, so this
  // changes another non-reloadable option (max_subs) with the same expectations.
  const conf = await createConfFile(TEST_CONF);
  await using s = await runServerWithConfig(conf);
  const loaded = s.configTime;
  const before = golden(s.opts);
  assertEquals(before.logtime, false);
  await Deno.writeTextFile(conf, TEST_CONF + "max_subs: 10\n");
  assertThrows(() => reloadServer(s), "config reload not supported for MaxSubs: old=0, new=10");
  assertEquals(golden(s.opts), before);
  assertEquals(s.configTime, loaded);
});

Deno.test("TestConfigReloadUnsupportedHotSwapping: changing listen is refused as not supported", async () => {
  const conf = await createConfFile("listen: 127.0.0.1:-1");
  await using s = await runServerWithConfig(conf);
  const loaded = s.configTime;
  await delay(1);
  await Deno.writeTextFile(conf, "listen: 127.0.0.1:9999");
  const err = assertThrows(() => reloadServer(s), "not supported");
  assertEquals(err.message, `config reload not supported for Port: old=${s.port}, new=9999`);
  assertEquals(s.configTime, loaded);
});

Deno.test("TestConfigReloadInvalidConfig: an unparsable config is refused and nothing changes", async () => {
  const conf = await createConfFile(TEST_CONF);
  await using s = await runServerWithConfig(conf);
  const loaded = s.configTime;
  const before = golden(s.opts);
  // The reference's invalid.conf: an unterminated block.
  await Deno.writeTextFile(conf, "# Invalid config file\ntrace {\n");
  assertThrows(() => reloadServer(s));
  assertEquals(golden(s.opts), before);
  assertEquals(s.configTime, loaded);
});

Deno.test("TestConfigReload: logging, files, limits and authorization change on reload", async () => {
  // The reference also enables TLS and changes cluster no_advertise; blocked: natsdeno has no TLS or cluster
  // yet, so those lines are left out.
  const conf = await createConfFile(TEST_CONF);
  const dir = conf.slice(0, conf.lastIndexOf("/"));
  await using s = await runServerWithConfig(conf);
  const loaded = s.configTime;
  assertEquals([s.opts.debug, s.opts.trace, s.opts.logtime], [false, false, false]);
  await Deno.writeTextFile(
    `${dir}/platform.conf`,
    `remote_syslog: "udp://127.0.0.1:514"\nsyslog: true\n`,
  );
  await delay(2);
  await Deno.writeTextFile(
    conf,
    `listen: 127.0.0.1:-1
debug: true
trace: true
logtime: true
log_file: "${dir}/nats-server.log"
pid_file: "${dir}/nats-server.pid"
max_control_line: 512
ping_interval: 5
ping_max: 1
write_deadline: "3s"
max_payload: 1024
authorization {
  user: tyler
  password: T0pS3cr3t
  timeout: 2
}
include "platform.conf"
`,
  );
  reloadServer(s);
  const u = s.opts;
  assert(u.trace && u.debug && u.logtime);
  assert(u.syslog);
  assertEquals(u.remoteSyslog, "udp://127.0.0.1:514");
  assertEquals(u.logFile, `${dir}/nats-server.log`);
  assertEquals(u.username, "tyler");
  assertEquals(u.password, "T0pS3cr3t");
  assertEquals(u.authTimeoutMs, 2_000);
  assert(s.auth.authRequired);
  assertEquals(u.pidFile, `${dir}/nats-server.pid`);
  assertEquals(await Deno.readTextFile(`${dir}/nats-server.pid`), String(Deno.pid));
  assertEquals(u.maxControlLine, 512);
  assertEquals(u.pingIntervalMs, 5_000);
  assertEquals(u.maxPingsOut, 1);
  assertEquals(u.writeDeadlineMs, 3_000);
  assertEquals(u.maxPayload, 1024);
  assert(s.configTime > loaded, "config time moves on reload");
  await using c = await RawClient.connect(s.port);
  const info = await c.info();
  assertEquals(info.max_payload, 1024);
  assertEquals(info.auth_required, true);
});

// The reference's reload/tls_test.conf and tls_verify_test.conf; it rotates to a self-signed pair that is
// also the CA, here the server pair stays and the test CA verifies clients (tests/configs/certs).
const CERTS = new URL("../configs/certs/", import.meta.url).pathname;
const TLS_TEST_CONF = `${BASIC_CONF}tls {
  cert_file: "${CERTS}server-cert.pem"
  key_file: "${CERTS}server-key.pem"
}
`;
const TLS_VERIFY_TEST_CONF = `${BASIC_CONF}tls {
  cert_file: "${CERTS}server-cert.pem"
  key_file: "${CERTS}server-key.pem"
  ca_file: "${CERTS}ca.pem"
  verify: true
}
`;

/** The official client over TLS, trusting the test CA (the reference skips server verification). */
function natsTls(port: number, tls: Record<string, string> = {}): Promise<NatsConnection> {
  return connect({
    servers: `127.0.0.1:${port}`,
    reconnect: false,
    timeout: 3_000,
    tls: { caFile: `${CERTS}ca.pem`, ...tls },
  });
}

Deno.test("TestConfigReloadRotateTLS: a new key pair and client verification apply on reload", async () => {
  const conf = await createConfFile(TLS_TEST_CONF);
  await using s = await runServerWithConfig(conf);
  const nc = await natsTls(s.port);
  const sub = nc.subscribe("foo", { max: 1 });
  await nc.flush();
  await reloadUpdateConfig(s, conf, TLS_VERIFY_TEST_CONF);
  // Without a client certificate the handshake now fails.
  let failed = false;
  try {
    await (await natsTls(s.port)).close();
  } catch {
    failed = true;
  }
  assert(failed, "expected connect to fail");
  // With one it succeeds.
  const conn = await natsTls(s.port, {
    certFile: `${CERTS}client-cert.pem`,
    keyFile: `${CERTS}client-key.pem`,
  });
  await conn.close();
  // The original connection still publishes and receives.
  nc.publish("foo", "hello");
  await nc.flush();
  const got = (async () => {
    for await (const m of sub) return m.string();
  })();
  assert(await within(got, 2_000), "no message");
  assertEquals(await got, "hello");
  await nc.close();
});

Deno.test("TestConfigReloadEnableTLS: TLS can be turned on by reload", async () => {
  const conf = await createConfFile(BASIC_CONF);
  await using s = await runServerWithConfig(conf);
  await (await connect({ servers: `127.0.0.1:${s.port}`, reconnect: false })).close();
  await reloadUpdateConfig(s, conf, TLS_TEST_CONF);
  const nc = await natsTls(s.port);
  await nc.close();
});

Deno.test("TestConfigReloadDisableTLS: TLS can be turned off by reload", async () => {
  const conf = await createConfFile(TLS_TEST_CONF);
  await using s = await runServerWithConfig(conf);
  await (await natsTls(s.port)).close();
  await reloadUpdateConfig(s, conf, BASIC_CONF);
  let failed = false;
  try {
    await (await natsTls(s.port)).close();
  } catch {
    failed = true;
  }
  assert(failed, "expected a TLS connect to fail");
  const nc = await connect({ servers: `127.0.0.1:${s.port}`, reconnect: false });
  await nc.close();
});

Deno.test("TestConfigReloadRotateUserAuthentication: new credentials apply and old sessions are closed", async () => {
  const conf = await createConfFile(SINGLE_USER_1);
  await using s = await runServerWithConfig(conf);
  await using nc = await connectUser(s.port, { user: "tyler", pass: "T0pS3cr3t" });
  await reloadUpdateConfig(s, conf, SINGLE_USER_2);
  await expectConnectFails(s.port, { user: "tyler", pass: "T0pS3cr3t" });
  (await connectUser(s.port, { user: "derek", pass: "passw0rd" })).close();
  await expectKicked(nc);
});

Deno.test("TestConfigReloadEnableUserAuthentication: enabling a user closes anonymous sessions", async () => {
  const conf = await createConfFile(BASIC_CONF);
  await using s = await runServerWithConfig(conf);
  await using nc = await connectUser(s.port);
  await reloadUpdateConfig(s, conf, SINGLE_USER_1);
  await expectConnectFails(s.port);
  (await connectUser(s.port, { user: "tyler", pass: "T0pS3cr3t" })).close();
  await expectKicked(nc);
});

Deno.test("TestConfigReloadDisableUserAuthentication: after removing the user, anyone may connect", async () => {
  const conf = await createConfFile(SINGLE_USER_1);
  await using s = await runServerWithConfig(conf);
  await using nc = await connectUser(s.port, { user: "tyler", pass: "T0pS3cr3t" });
  await reloadUpdateConfig(s, conf, BASIC_CONF);
  (await connectUser(s.port)).close();
  assertEquals(await nc.flush(), "", "no error for the existing client");
});

Deno.test("TestConfigReloadRotateTokenAuthentication: a new token applies and old sessions are closed", async () => {
  const conf = await createConfFile(TOKEN_1);
  await using s = await runServerWithConfig(conf);
  await using nc = await connectUser(s.port, { auth_token: "T0pS3cr3t" });
  await reloadUpdateConfig(s, conf, TOKEN_2);
  await expectConnectFails(s.port, { auth_token: "T0pS3cr3t" });
  (await connectUser(s.port, { auth_token: "passw0rd" })).close();
  await expectKicked(nc);
});

Deno.test("TestConfigReloadEnableTokenAuthentication: enabling a token closes anonymous sessions", async () => {
  const conf = await createConfFile(BASIC_CONF);
  await using s = await runServerWithConfig(conf);
  await using nc = await connectUser(s.port);
  await reloadUpdateConfig(s, conf, TOKEN_1);
  await expectConnectFails(s.port);
  (await connectUser(s.port, { auth_token: "T0pS3cr3t" })).close();
  await expectKicked(nc);
});

Deno.test("TestConfigReloadDisableTokenAuthentication: after removing the token, anyone may connect", async () => {
  const conf = await createConfFile(TOKEN_1);
  await using s = await runServerWithConfig(conf);
  await using nc = await connectUser(s.port, { auth_token: "T0pS3cr3t" });
  await reloadUpdateConfig(s, conf, BASIC_CONF);
  (await connectUser(s.port)).close();
  assertEquals(await nc.flush(), "", "no error for the existing client");
});

Deno.test("TestConfigReloadRotateUsersAuthentication: changed users are closed, unchanged ones keep working", async () => {
  const conf = await createConfFile(MULTIPLE_USERS_1);
  await using s = await runServerWithConfig(conf);
  await using nc = await connectUser(s.port, { user: "alice", pass: "foo" });
  await using nc2 = await connectUser(s.port, { user: "bob", pass: "bar" });
  await nc2.send("SUB foo 1\r\n");
  await nc2.flush();
  await reloadUpdateConfig(s, conf, MULTIPLE_USERS_2);
  await expectConnectFails(s.port, { user: "alice", pass: "foo" });
  (await connectUser(s.port, { user: "alice", pass: "baz" })).close();
  await expectKicked(nc);
  await nc2.send("PUB foo 5\r\nhello\r\n");
  await nc2.expect(/^MSG foo 1 5\r\nhello\r\n/);
});

Deno.test("TestConfigReloadEnableUsersAuthentication: enabling users closes anonymous sessions", async () => {
  const conf = await createConfFile(BASIC_CONF);
  await using s = await runServerWithConfig(conf);
  await using nc = await connectUser(s.port);
  await reloadUpdateConfig(s, conf, MULTIPLE_USERS_1);
  await expectConnectFails(s.port);
  (await connectUser(s.port, { user: "alice", pass: "foo" })).close();
  await expectKicked(nc);
});

Deno.test("TestConfigReloadDisableUsersAuthentication: after removing users, anyone may connect", async () => {
  const conf = await createConfFile(MULTIPLE_USERS_1);
  await using s = await runServerWithConfig(conf);
  await using nc = await connectUser(s.port, { user: "alice", pass: "foo" });
  await reloadUpdateConfig(s, conf, BASIC_CONF);
  (await connectUser(s.port)).close();
  assertEquals(await nc.flush(), "", "no error for the existing client");
});

Deno.test("TestConfigReloadChangePermissions: new permissions apply to connected clients and their subscriptions", async () => {
  const conf = await createConfFile(AUTHORIZATION_1);
  await using s = await runServerWithConfig(conf);
  const port = s.port;
  await using nc = await connectUser(port, { user: "bob", pass: "bar" });
  await nc.send("SUB _INBOX.> 1\r\n");
  await nc.flush();
  await using conn = await connectUser(port, { user: "alice", pass: "foo" });
  await conn.send("SUB req.foo 1\r\n");
  await conn.send("PUB _INBOX.foo 5\r\nhello\r\n");
  await conn.flush();
  await nc.expect(/^MSG _INBOX\.foo 1 5\r\nhello\r\n/);
  await nc.send("PUB req.foo 5\r\nworld\r\n");
  await nc.flush();
  await conn.expect(/^MSG req\.foo 1 5\r\nworld\r\n/);

  // Susan subscribes to foo.* and PUBLIC.*: both allowed, but foo.bar is not delivered.
  await using sconn = await connectUser(port, { user: "susan", pass: "baz" });
  await sconn.send("SUB foo.* 1\r\n");
  await sconn.flush();
  await conn.send("PUB foo.bar 5\r\nhello\r\n");
  await conn.flush();
  assertEquals(await sconn.flush(), "");
  await sconn.send("SUB PUBLIC.* 2\r\n");
  assertEquals(await sconn.flush(), "", "no error for susan");
  await conn.send("PUB PUBLIC.foo 12\r\nhello monkey\r\n");
  await conn.flush();
  await sconn.expect(/^MSG PUBLIC\.foo 2 12\r\nhello monkey\r\n/);

  await reloadUpdateConfig(s, conf, AUTHORIZATION_2);

  // The subscription that is no longer allowed gets an -ERR (the connection stays open).
  const m = await nc.expect(/^-ERR '([^\r\n]*)'\r\n/);
  assertStringIncludes(m[1].toLowerCase(), 'permissions violation for subscription to "_inbox.>"');
  await nc.send("PUB req.foo 4\r\nhola\r\n");
  const m2 = await nc.expect(/^-ERR '([^\r\n]*)'\r\n/);
  assertStringIncludes(m2[1].toLowerCase(), 'permissions violation for publish to "req.foo"');
  await conn.send("PUB _INBOX.foo 5\r\nmundo\r\n");
  assertEquals(await conn.flush(), "", "req.foo was not delivered");
  assertEquals(await nc.flush(), "", "_INBOX.foo was not delivered");

  await nc.send("SUB _INBOX.foo.> 2\r\nPUB _INBOX.foo.bar 7\r\ntesting\r\n");
  const got = await nc.flush();
  assertMatch(got, /^MSG _INBOX\.foo\.bar 2 7\r\ntesting\r\n$/);

  // Susan: PUBLIC.foo is no longer delivered, foo.bar now is, and she saw no error.
  await conn.send("PUB PUBLIC.foo 12\r\nhello monkey\r\nPUB foo.bar 6\r\nhello?\r\n");
  await conn.flush();
  await sconn.expect(/^MSG foo\.bar 1 6\r\nhello\?\r\n/);
  assertEquals(await sconn.flush(), "", "no error for susan");
});

Deno.test({
  name: "TestConfigReloadClusterHostUnsupported: changing the cluster host is refused",
  ignore: true, // blocked: clustering is not implemented yet (the cluster block is kept unparsed).
  fn() {},
});
Deno.test({
  name: "TestConfigReloadClusterPortUnsupported: changing the cluster port is refused",
  ignore: true, // blocked: clustering is not implemented yet.
  fn() {},
});
for (
  const name of [
    "TestConfigReloadEnableClusterAuthorization: route authorization turned on by reload",
    "TestConfigReloadDisableClusterAuthorization: route authorization turned off by reload",
    "TestConfigReloadClusterRoutes: routes added by reload connect",
    "TestConfigReloadClusterRemoveSolicitedRoutes: routes removed by reload disconnect",
    "TestConfigReloadClusterAdvertise: cluster_advertise changes apply",
    "TestConfigReloadClusterNoAdvertise: no_advertise changes apply",
    "TestConfigReloadClusterName: the cluster name cannot change",
  ]
) {
  Deno.test({ name, ignore: true, fn() {} }); // blocked: clustering is not implemented yet.
}

Deno.test("TestConfigReloadMaxSubsUnsupported: max_subs cannot change on reload", async () => {
  const conf = await createConfFile("port: -1\nhost: 127.0.0.1\nmax_subs: 1\n");
  await using s = await runServerWithConfig(conf);
  // The reference's new file has only max_subs; host and port stay here so they are not what differs.
  await Deno.writeTextFile(conf, "port: -1\nhost: 127.0.0.1\nmax_subs: 10");
  assertThrows(() => reloadServer(s), "config reload not supported for MaxSubs: old=1, new=10");
});

Deno.test("TestConfigReloadClientAdvertise: INFO host and port follow client_advertise", async () => {
  const conf = await createConfFile(`listen: "127.0.0.1:-1"`);
  await using s = await runServerWithConfig(conf);
  const orgPort = s.port;
  const verify = async (host: string, port: number) => {
    await using c = await RawClient.connect(s.port);
    const info = await c.info();
    assertEquals([info.host, info.port], [host, port]);
  };
  await reloadUpdateConfig(s, conf, `listen: "127.0.0.1:-1"\nclient_advertise: "me:1"\n`);
  await verify("me", 1);
  await reloadUpdateConfig(s, conf, `listen: "127.0.0.1:-1"\nclient_advertise: "me"\n`);
  await verify("me", orgPort);
  await reloadUpdateConfig(s, conf, `listen: "127.0.0.1:-1"\nclient_advertise: "me:-1"\n`);
  await verify("me", orgPort);
  await reloadUpdateConfig(s, conf, `listen: "127.0.0.1:-1"`);
  await verify("127.0.0.1", orgPort);
});

Deno.test("TestConfigReloadMaxConnections: lowering max_connections closes clients and refuses new ones", async () => {
  const conf = await createConfFile(BASIC_CONF);
  await using s = await runServerWithConfig(conf);
  await using nc1 = await connectUser(s.port);
  await using nc2 = await connectUser(s.port);
  assertEquals(s.clients.size, 2);
  await reloadUpdateConfig(s, conf, `${BASIC_CONF}max_connections: 1\n`);
  await checkFor(2_000, 15, () => assert(nc1.closed || nc2.closed, "one client closed"));
  const closed = nc1.closed ? nc1 : nc2;
  assertEquals(closed.buffered, "-ERR 'maximum connections exceeded'\r\n");
  await checkFor(2_000, 15, () => assertEquals(s.clients.size, 1));
  await using c = await RawClient.connect(s.port);
  await c.info();
  await c.expect(/^-ERR 'maximum connections exceeded'\r\n/);
  await c.waitClosed();
});

Deno.test("TestConfigReloadMaxPayload: a lowered max_payload closes a client that exceeds it", async () => {
  const conf = await createConfFile(BASIC_CONF);
  await using s = await runServerWithConfig(conf);
  await using nc = await connectUser(s.port);
  await using conn = await connectUser(s.port);
  await conn.send("SUB foo 1\r\n");
  await conn.flush();
  await nc.send("PUB foo 5\r\nhello\r\n");
  await nc.flush();
  await conn.expect(/^MSG foo 1 5\r\nhello\r\n/);
  await reloadUpdateConfig(s, conf, `${BASIC_CONF}max_payload: 1\n`);
  await nc.send("PUB foo 5\r\nhello\r\n");
  await nc.expect(/^-ERR 'Maximum Payload Violation'\r\n/);
  await nc.waitClosed();
  assertEquals(await conn.flush(), "", "the oversized message was not delivered");
});

Deno.test("TestConfigReloadRotateFiles: new log and pid files are used; the old ones can be moved away", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-rotate-" });
  try {
    const conf = `${dir}/server.conf`;
    await Deno.writeTextFile(
      conf,
      `${BASIC_CONF}log_file: "${dir}/log.txt"\npid_file: "${dir}/nats-server.pid"\n`,
    );
    const opts = loadConfig(conf);
    const s = new Server(opts, { log: new Logger({ quiet: true, logFile: opts.logFile }) });
    try {
      s.startListening();
      await s.ready();
      await Deno.writeTextFile(
        conf,
        `${BASIC_CONF}log_file: "${dir}/log1.txt"\npid_file: "${dir}/nats-server1.pid"\n`,
      );
      reloadServer(s);
      await Deno.stat(`${dir}/log1.txt`);
      await Deno.stat(`${dir}/nats-server1.pid`);
      await Deno.rename(`${dir}/log.txt`, `${dir}/log_old.txt`);
      await Deno.rename(`${dir}/nats-server.pid`, `${dir}/nats-server_old.pid`);
      await Deno.remove(`${dir}/log_old.txt`);
      await Deno.remove(`${dir}/nats-server_old.pid`);
    } finally {
      await s.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (
  const name of [
    "TestConfigReloadClusterWorks: a cluster keeps working across reloads",
    "TestConfigReloadClusterPerms: route permissions change on reload",
    "TestConfigReloadClusterPermsImport: route import permissions change on reload",
    "TestConfigReloadClusterPermsExport: route export permissions change on reload",
    "TestConfigReloadClusterPermsOldServer: route permissions with an old server",
  ]
) {
  Deno.test({ name, ignore: true, fn() {} }); // blocked: clustering is not implemented yet.
}
/** The official client, for the account reload tests (reconnects, closed notifications, request/reply). */
async function natsUser(
  s: { clientUrl(): string },
  user: string,
  pass: string,
  o: Record<string, unknown> = {},
): Promise<NatsConnection> {
  return await connect({ servers: s.clientUrl(), user, pass, ...o });
}

/** Resolves with true when `p` settles within `ms`, else false. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((r) => t = setTimeout(() => r(false), ms));
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(t);
  }
}

/** The messages `sub` has received so far, by subscription. */
const seen = new WeakMap<Subscription, number>();

/** Waits for `sub` to receive a message it has not been asked about yet (true), or `ms` without one (false). */
async function nextMsg(sub: Subscription, ms: number): Promise<boolean> {
  const n = seen.get(sub) ?? 0;
  const end = Date.now() + ms;
  while (sub.getReceived() <= n && Date.now() < end) await delay(5);
  seen.set(sub, n + (sub.getReceived() > n ? 1 : 0));
  return sub.getReceived() > n;
}

Deno.test("TestConfigReloadAccountUsers: account users change on reload", async () => {
  const conf = await createConfFile(`listen: "127.0.0.1:-1"
accounts {
  synadia { users = [ {user: derek, password: derek}, {user: foo, password: foo} ] }
  nats.io { users = [ {user: ivan, password: ivan}, {user: bar, password: bar} ] }
  acc_deleted_after_reload { users = [ {user: gone, password: soon}, {user: baz, password: baz}, {user: bat, password: bat} ] }
}
`);
  await using s = await runServerWithConfig(conf);
  // Each account holds internal subscriptions (system imports) of its own: count the clients' on top.
  const base = (n: string) => s.accounts.get(n)!.sl.count();
  const [baseG, baseSyn, baseNio] = [base("$G"), base("synadia"), base("nats.io")];
  const nc = await natsUser(s, "derek", "derek");
  const nc2 = await natsUser(s, "ivan", "ivan", { reconnect: false });
  const nc3 = await natsUser(s, "gone", "soon", { reconnect: false });
  // These users move to another account (a named one or $G): their subscriptions must follow.
  const movers: [NatsConnection, string][] = [];
  for (const u of ["foo", "bar", "baz", "bat"]) {
    const c = await natsUser(s, u, u, { reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    c.subscribe(u);
    await c.flush();
    movers.push([c, u]);
  }
  try {
    await reloadUpdateConfig(
      s,
      conf,
      `listen: "127.0.0.1:-1"
authorization { users = [ {user: foo, password: foo}, {user: baz, password: baz} ] }
accounts {
  synadia { users = [ {user: derek, password: derek}, {user: bar, password: bar} ] }
  nats.io { users = [ {user: bat, password: bat} ] }
}
`,
    );
    // ivan (removed) and gone (account removed) are closed.
    assert(await within(nc2.closed(), 2_000), "ivan's connection should be closed");
    assert(await within(nc3.closed(), 2_000), "gone's connection should be closed");
    assert(!nc.isClosed(), "derek stays connected");
    assert(!s.accounts.has("acc_deleted_after_reload"), "old account should be gone");
    await checkFor(3_000, 50, () => {
      const g = s.accounts.get("$G")!;
      assertEquals(g.sl.count() - baseG, 2);
      assertEquals(g.sl.match("foo").psubs.length, 1);
      assertEquals(g.sl.match("baz").psubs.length, 1);
      const syn = s.accounts.get("synadia")!;
      assertEquals(syn.sl.count() - baseSyn, 1);
      assertEquals(syn.sl.match("bar").psubs.length, 1);
      const nio = s.accounts.get("nats.io")!;
      assertEquals(nio.sl.count() - baseNio, 1);
      assertEquals(nio.sl.match("bat").psubs.length, 1);
    });
  } finally {
    for (const c of [nc, nc2, nc3, ...movers.map(([c]) => c)]) await c.close().catch(() => {});
  }
});

Deno.test("TestConfigReloadAccountNKeyUsers: account nkey users change on reload", async () => {
  const { createUser } = await import("@nats-io/nkeys");
  const [derek, ivan] = [createUser(), createUser()];
  const nkey = (kp: ReturnType<typeof createUser>) => `{nkey: ${kp.getPublicKey()}}`;
  const conf = await createConfFile(`listen: "127.0.0.1:-1"
accounts {
  synadia { users = [ ${nkey(derek)} ] }
  nats.io { users = [ ${nkey(ivan)} ] }
}
`);
  await using s = await runServerWithConfig(conf);
  const authFor = (kp: ReturnType<typeof createUser>) => nkeyAuthenticator(kp.getSeed());
  const nc = await connect({ servers: s.clientUrl(), authenticator: authFor(derek) });
  const nc2 = await connect({ servers: s.clientUrl(), authenticator: authFor(ivan), reconnect: false });
  try {
    assertEquals(s.clients.size, 2);
    // ivan is removed: his connection is closed; derek stays in synadia.
    await reloadUpdateConfig(
      s,
      conf,
      `listen: "127.0.0.1:-1"\naccounts {\n  synadia { users = [ ${nkey(derek)} ] }\n}\n`,
    );
    assert(await within(nc2.closed(), 2_000), "ivan's connection should be closed");
    assert(!nc.isClosed());
    assertEquals([...s.clients.values()].map((c) => c.account.name), ["synadia"]);
  } finally {
    await nc.close();
    await nc2.close().catch(() => {});
  }
});

Deno.test("TestConfigReloadAccountStreamsImportExport: stream imports/exports change on reload", async () => {
  const template = (exp: string, deny: string, imp: string, prefix: string) =>
    `listen: "127.0.0.1:-1"
accounts {
  synadia {
    users [{user: derek, password: foo}]
    exports = [ {stream: "private.>", accounts: [nats.io]}, {stream: ${exp}} ]
  }
  nats.io {
    users [ {user: ivan, password: bar, permissions: {subscribe: {deny: ${deny}}}} ]
    imports = [
      {stream: {account: "synadia", subject: ${imp}}}
      {stream: {account: "synadia", subject: "private.natsio.*"}, prefix: ${prefix}}
    ]
  }
}
no_sys_acc: true
`;
  const conf = await createConfFile(template(`"foo.*"`, `"xxx"`, `"foo.*"`, `"ivan"`));
  await using s = await runServerWithConfig(conf);
  const derek = await natsUser(s, "derek", "foo");
  const errs: Error[] = [];
  const ivan = await natsUser(s, "ivan", "bar");
  (async () => {
    for await (const st of ivan.status()) if (st.type === "error") errs.push((st as { error: Error }).error);
  })();
  try {
    const subFooBar = ivan.subscribe("foo.bar");
    const subFooBaz = ivan.subscribe("foo.baz");
    const subFooBat = ivan.subscribe("foo.bat");
    const subPriv = ivan.subscribe("ivan.private.natsio.*");
    await ivan.flush();
    const synadia = s.accounts.get("synadia")!;
    const step = async (subj: string, sub: Subscription, expected: boolean) => {
      derek.publish(subj, "hello");
      await derek.flush();
      assertEquals(await nextMsg(sub, expected ? 1_000 : 100), expected, subj);
      assertEquals(synadia.sl.match(subj).psubs.length, expected ? 1 : 0, `sublist ${subj}`);
    };
    const intra = async () => {
      const iv = ivan.subscribe("ivan.sub", { max: 1 });
      const dk = derek.subscribe("derek.sub", { max: 1 });
      await ivan.flush();
      await derek.flush();
      ivan.publish("ivan.sub");
      derek.publish("derek.sub");
      assert(await nextMsg(iv, 1_000));
      assert(await nextMsg(dk, 1_000));
    };
    await step("foo.bar", subFooBar, true);
    await step("foo.baz", subFooBaz, true);
    await step("foo.bat", subFooBat, true);
    await step("private.natsio.foo", subPriv, true);
    await intra();

    await reloadUpdateConfig(s, conf, template(`"foo.*"`, `"foo.bat"`, `"foo.baz"`, `"yyyy"`));
    await step("foo.bar", subFooBar, false);
    await step("foo.baz", subFooBaz, true);
    await step("foo.bat", subFooBat, false); // Denied now: the subscription was removed.
    await step("private.natsio.foo", subPriv, false); // The prefix changed.
    await checkFor(1_000, 10, () => assert(errs.some((e) => /permissions violation/i.test(e.message))));
    await intra();

    await reloadUpdateConfig(s, conf, template(`"xxx"`, `"foo.bat"`, `"xxx"`, `"ivan"`));
    await step("foo.bar", subFooBar, false);
    await step("foo.baz", subFooBaz, false);
    await step("foo.bat", subFooBat, false);
    await step("private.natsio.foo", subPriv, true); // The prefix is back.
    await intra();
  } finally {
    await derek.close();
    await ivan.close();
  }
});

Deno.test("TestConfigReloadAccountServicesImportExport: service imports/exports change on reload", async () => {
  // The reference also runs a second, routed server; natsdeno has no clustering, so this runs on one.
  const conf = await createConfFile(`listen: "127.0.0.1:-1"
accounts {
  synadia {
    users [{user: derek, password: foo}]
    exports = [ {service: "pub.request"}, {service: "pub.special.request", accounts: [nats.io]} ]
  }
  nats.io {
    users [{user: ivan, password: bar}]
    imports = [
      {service: {account: "synadia", subject: "pub.special.request"}, to: "foo"}
      {service: {account: "synadia", subject: "pub.request"}, to: "bar"}
    ]
  }
}
no_sys_acc: true
`);
  await using s = await runServerWithConfig(conf);
  const derek = await natsUser(s, "derek", "foo");
  const ivan = await natsUser(s, "ivan", "bar");
  try {
    const reply = (nc: NatsConnection, subj: string, text: string) =>
      nc.subscribe(subj, { callback: (_e, m) => void m.respond(text) });
    reply(derek, "pub.special.request", "reply1");
    reply(derek, "pub.request", "reply2");
    reply(derek, "pub.special.request.new", "reply3");
    reply(derek, "derek.sub", "private");
    reply(ivan, "ivan.sub", "private");
    ivan.subscribe("bar"); // As the reference: a local sub on an imported subject.
    await derek.flush();
    await ivan.flush();
    const req = async (nc: NatsConnection, subj: string, want: string) => {
      const r = await nc.request(subj, "request", { timeout: want ? 1_000 : 100 }).then(
        (m) => m.string(),
        () => "",
      );
      assertEquals(r, want, subj);
    };
    await req(ivan, "foo", "reply1");
    await req(ivan, "bar", "reply2");
    await req(ivan, "baz", ""); // Not exported/imported.
    await req(ivan, "ivan.sub", "private");
    await req(derek, "derek.sub", "private");

    await reloadUpdateConfig(
      s,
      conf,
      `listen: "127.0.0.1:-1"
accounts {
  synadia {
    users [{user: derek, password: foo}]
    exports = [
      {service: "pub.request"}
      {service: "pub.special.request", accounts: [nats.io]}
      {service: "pub.special.request.new", accounts: [nats.io]}
    ]
  }
  nats.io {
    users [{user: ivan, password: bar}]
    imports = [
      {service: {account: "synadia", subject: "pub.special.request"}, to: "foo"}
      {service: {account: "synadia", subject: "pub.special.request.new"}, to: "baz"}
    ]
  }
}
no_sys_acc: true
`,
    );
    await req(ivan, "foo", "reply1");
    await req(ivan, "bar", "");
    await req(ivan, "baz", "reply3");
    await req(ivan, "ivan.sub", "private");
    await req(derek, "derek.sub", "private");
  } finally {
    await derek.close();
    await ivan.close();
  }
});
Deno.test({
  name: "TestConfigReloadNotPreventedByGateways: a gateway config does not prevent reload",
  ignore: true, // blocked: gateways are not implemented yet.
  fn() {},
});

Deno.test("TestConfigReloadBoolFlags: command-line bool flags keep overriding the config file after reload", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-boolflags-" });
  const logfile = `${dir}/logtime.log`;
  type O = Options;
  const cases: [string, string, string[], boolean, (o: O) => boolean][] = [
    ["logtime_not_in_config_no_override", "", [], true, (o) => o.logtime],
    ["logtime_not_in_config_override_short_true", "", ["-T"], true, (o) => o.logtime],
    ["logtime_not_in_config_override_true", "", ["-logtime"], true, (o) => o.logtime],
    ["logtime_false_in_config_no_override", "logtime: false", [], false, (o) => o.logtime],
    ["logtime_false_in_config_override_short_true", "logtime: false", ["-T"], true, (o) => o.logtime],
    ["logtime_false_in_config_override_true", "logtime: false", ["-logtime"], true, (o) => o.logtime],
    ["logtime_true_in_config_no_override", "logtime: true", [], true, (o) => o.logtime],
    ["logtime_true_in_config_override_short_false", "logtime: true", ["-T=false"], false, (o) => o.logtime],
    ["logtime_true_in_config_override_false", "logtime: true", ["-logtime=false"], false, (o) => o.logtime],
    ["debug_not_in_config_no_override", "", [], false, (o) => o.debug],
    ["debug_not_in_config_override_short_true", "", ["-D"], true, (o) => o.debug],
    ["debug_not_in_config_override_true", "", ["-debug"], true, (o) => o.debug],
    ["debug_false_in_config_no_override", "debug: false", [], false, (o) => o.debug],
    ["debug_false_in_config_override_short_true", "debug: false", ["-D"], true, (o) => o.debug],
    ["debug_false_in_config_override_true", "debug: false", ["-debug"], true, (o) => o.debug],
    ["debug_true_in_config_no_override", "debug: true", [], true, (o) => o.debug],
    ["debug_true_in_config_override_short_false", "debug: true", ["-D=false"], false, (o) => o.debug],
    ["debug_true_in_config_override_false", "debug: true", ["-debug=false"], false, (o) => o.debug],
    ["trace_not_in_config_no_override", "", [], false, (o) => o.trace],
    ["trace_not_in_config_override_short_true", "", ["-V"], true, (o) => o.trace],
    ["trace_not_in_config_override_true", "", ["-trace"], true, (o) => o.trace],
    ["trace_false_in_config_no_override", "trace: false", [], false, (o) => o.trace],
    ["trace_false_in_config_override_short_true", "trace: false", ["-V"], true, (o) => o.trace],
    ["trace_false_in_config_override_true", "trace: false", ["-trace"], true, (o) => o.trace],
    ["trace_true_in_config_no_override", "trace: true", [], true, (o) => o.trace],
    ["trace_true_in_config_override_short_false", "trace: true", ["-V=false"], false, (o) => o.trace],
    ["trace_true_in_config_override_false", "trace: true", ["-trace=false"], false, (o) => o.trace],
    ["debug_and_trace_not_in_config_dv_override_true", "", ["-DV"], true, (o) => o.debug && o.trace],
    [
      "debug_and_trace_true_in_config_dv_override_false",
      "debug: true\ntrace: true",
      ["-DV=false"],
      false,
      (o) => o.debug && o.trace,
    ],
    ["trace_verbose_true_in_config", "trace_verbose: true", [], true, (o) => o.trace && o.traceVerbose],
    [
      "trace_verbose_true_in_config_override_false",
      "trace_verbose: true",
      ["--VV=false"],
      true,
      (o) => !o.traceVerbose,
    ],
    [
      "trace_verbose_false_in_config_override_true",
      "trace_verbose: false",
      ["--VV=true"],
      true,
      (o) => o.traceVerbose,
    ],
  ];
  try {
    for (const [name, content, cmdLine, expected, val] of cases) {
      await t.step(name, async () => {
        const conf = await createConfFile(`listen: "127.0.0.1:-1"\nlogfile: "${logfile}"\n${content}\n`);
        const args = ["-c", conf, ...cmdLine];
        const opts = loadOptions(args).opts;
        await using s = await runServer(opts);
        assertEquals(val(s.opts), expected, "at start");
        s.reload(loadOptions(args).opts);
        assertEquals(val(s.opts), expected, "after reload");
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TestConfigReloadMaxControlLineWithClients: connected clients take the new max_control_line", async () => {
  const conf = await createConfFile(BASIC_CONF);
  await using s = await runServerWithConfig(conf);
  await using nc = await connectUser(s.port);
  await reloadUpdateConfig(s, conf, "listen: 127.0.0.1:-1; max_control_line: 222");
  assertEquals(s.opts.maxControlLine, 222);
  // The reference checks the client's snapshot of the limit; here a connected client sends a longer line.
  await nc.send(`SUB ${"a".repeat(300)} 1\r\n`);
  await nc.expect(/^-ERR 'maximum control line exceeded'\r\n/);
});

Deno.test({
  name: "TestConfigReloadIgnoreCustomAuth: custom authenticators survive a reload",
  ignore: true, // blocked: natsdeno has no custom client/router authentication hook.
  fn() {},
});
for (
  const name of [
    "TestConfigReloadLeafNodeRandomPort: a random leafnode port survives reload",
    "TestConfigReloadLeafNodeWithTLS: leafnode TLS survives reload",
    "TestConfigReloadLeafNodeWithRemotesNoChanges: unchanged remotes do not reconnect",
  ]
) {
  Deno.test({ name, ignore: true, fn() {} }); // blocked: leaf nodes are not implemented yet.
}

Deno.test("TestConfigReloadAndVarz: config load time and max_connections change on reload", async () => {
  // The reference reads these through Varz(); the monitor is not in yet, so this reads the server fields
  // /varz reports (config_load_time, max_connections).
  const conf = await createConfFile("port: -1\nhost: 127.0.0.1\n");
  await using s = await runServerWithConfig(conf);
  const initConfigTime = s.configTime;
  assertEquals(s.opts.maxConn, 65536);
  await Deno.writeTextFile(conf, "port: -1\nhost: 127.0.0.1\nmax_connections: 10\n");
  await delay(15);
  reloadServer(s);
  assert(s.configTime.getTime() !== initConfigTime.getTime());
  assertEquals(s.opts.maxConn, 10);
});

Deno.test("TestConfigReloadConnectErrReports: connect and reconnect error reports change on reload", async () => {
  const conf = await createConfFile("port: -1\nhost: 127.0.0.1\n");
  await using s = await runServerWithConfig(conf);
  assertEquals(s.opts.connectErrorReports, 3600);
  assertEquals(s.opts.reconnectErrorReports, 1);
  await reloadUpdateConfig(
    s,
    conf,
    "port: -1\nhost: 127.0.0.1\nconnect_error_reports: 2\nreconnect_error_reports: 3\n",
  );
  assertEquals(s.opts.connectErrorReports, 2);
  assertEquals(s.opts.reconnectErrorReports, 3);
});

Deno.test({
  name: "TestAuthReloadDoesNotBreakRouteInterest: auth reload keeps route interest",
  ignore: true, // blocked: clustering is not implemented yet.
  fn() {},
});
Deno.test({
  name: "TestConfigReloadAccountResolverTLSConfig: resolver TLS config reloads",
  ignore: true, // blocked: account resolvers and TLS are not implemented yet.
  fn() {},
});

Deno.test("TestLoggingReload: each reload switches log file and debug/trace levels", async () => {
  // The reference's config also defines a system account and checks $SYS traces; blocked: accounts are not in
  // yet, so this checks the [TRC]/[DBG] lines and the payload trace for a plain user.
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-logreload-" });
  try {
    const common = `port: -1\nhost: 127.0.0.1\nauthorization { users = [ {user: bar, pass: "pwd"} ] }\n`;
    const conf = `${dir}/server.conf`;
    await Deno.writeTextFile(conf, common);
    const s = new Server(loadConfig(conf), { log: new Logger({ quiet: true }) });
    try {
      s.startListening();
      await s.ready();
      const reload = async (change: string) => {
        await Deno.writeTextFile(conf, `${common}\n${change}\n`);
        reloadServer(s);
      };
      const traffic = async (n: number) => {
        await using c = await connectUser(s.port, { user: "bar", pass: "pwd" });
        await c.send("SUB foo 1\r\n");
        for (let i = 0; i < n; i++) await c.send("PUB foo 11\r\nMSG_PAYLOAD\r\n");
        await c.flush();
        await c.send("UNSUB 1\r\n");
        await c.flush();
      };
      await reload(`log_file: "${dir}/off-pre.log"`);
      await traffic(10);
      await reload(`log_file: "${dir}/on.log"\ndebug: true\ntrace_verbose: true`);
      await traffic(10);
      await reload(`log_file: "${dir}/off-post.log"\ndebug: false\ntrace_verbose: false`);
      await traffic(10);
      // The reference also finds the traced payload ("MSG_PAYLOAD"); natsdeno does not trace payloads yet.
      const traces = ["[TRC]", "[DBG]"];
      const count = (log: string, stmts: string[]) => stmts.filter((x) => log.includes(x)).length;
      const reloaded = (log: string) => log.split("[INF] Reloaded server configuration").length - 1 === 1;
      const offPre = await Deno.readTextFile(`${dir}/off-pre.log`);
      const on = await Deno.readTextFile(`${dir}/on.log`);
      const offPost = await Deno.readTextFile(`${dir}/off-post.log`);
      assert(count(offPre, traces) === 0 && reloaded(offPre), offPre);
      assert(count(on, traces) === traces.length && reloaded(on), on);
      assert(count(offPost, traces) === 0 && reloaded(offPost), offPost);
    } finally {
      await s.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TestReloadValidate: a reload that leaves no_auth_user without its user is refused", async () => {
  const conf = await createConfFile(`listen: "127.0.0.1:-1"
no_auth_user: a
authorization {
  users [
    {user: "a", password: "a"},
    {user: "b", password: "b"}
  ]
}
`);
  await using s = await runServerWithConfig(conf);
  await Deno.writeTextFile(
    conf,
    `listen: "127.0.0.1:-1"
no_auth_user: a
authorization {
  users [
    {user: "b", password: "b"}
  ]
}
`,
  );
  const err = assertThrows(() => reloadServer(s));
  assertStringIncludes(err.message, "no_auth_user");
  assertEquals(s.opts.users.length, 2);
});

Deno.test("TestConfigReloadAccounts: removing an account reloads all, system events keep flowing", async () => {
  const accs = `SYS { users = [ {user: sys, password: pwd} ] }
  ACC { users = [ {user: usr, password: pwd} ] }`;
  const conf = await createConfFile(`listen: "127.0.0.1:-1"
system_account: SYS
accounts {
  ${accs}
  acc_deleted_after_reload_will_trigger_reload_of_all_accounts { users = [ {user: notused, password: soon} ] }
}
`);
  await using s = await runServerWithConfig(conf);
  const testSrvState = () => {
    assertEquals(s.systemAccount?.name, "SYS");
    assertEquals(s.opts.systemAccount, "SYS");
    assert(s.accounts.get("SYS") === s.systemAccount, "the system account is registered");
    const ic = s.systemClient();
    assert(ic !== undefined && ic.account === s.systemAccount);
  };
  const subscribe = async (name: string) => {
    const c = await connect({ servers: s.clientUrl(), user: "sys", pass: "pwd", name });
    const con = c.subscribe("$SYS.ACCOUNT.ACC.CONNECT");
    const dis = c.subscribe("$SYS.ACCOUNT.ACC.DISCONNECT");
    await c.flush();
    return { c, subs: [con, dis] };
  };
  const iters = new Map<Subscription, AsyncIterator<Msg>>();
  const recv = async (name: string, sub: Subscription) => {
    if (!iters.has(sub)) iters.set(sub, sub[Symbol.asyncIterator]());
    let t: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      iters.get(sub)!.next(),
      new Promise<undefined>((res) => t = setTimeout(() => res(undefined), 2_000)),
    ]);
    clearTimeout(t);
    assert(r !== undefined && !r.done, `no event for ${name}`);
    assertEquals(r.value.json<{ client: { name: string } }>().client.name, name);
    assertEquals(sub.getPending(), 0);
  };
  const triggerSysEvent = async (name: string, subs: Subscription[]) => {
    const nc = await connect({ servers: s.clientUrl(), user: "usr", pass: "pwd", name });
    await nc.close();
    for (const sub of subs) await recv(name, sub);
  };
  testSrvState();
  const one = await subscribe("SYS1");
  const two: { c?: NatsConnection } = {};
  try {
    await triggerSysEvent("BEFORE1", one.subs);
    await triggerSysEvent("BEFORE2", one.subs);
    await reloadUpdateConfig(
      s,
      conf,
      `listen: "127.0.0.1:-1"\nsystem_account: SYS\naccounts {\n  ${accs}\n}\n`,
    );
    // The reference swaps in new account objects; natsdeno keeps them and rebuilds their config in place.
    testSrvState();
    assert(!s.accounts.has("acc_deleted_after_reload_will_trigger_reload_of_all_accounts"));
    const t = await subscribe("SYS2");
    two.c = t.c;
    await triggerSysEvent("AFTER1", [...one.subs, ...t.subs]);
    await triggerSysEvent("AFTER2", [...one.subs, ...t.subs]);
  } finally {
    await one.c.close();
    await two.c?.close();
  }
});

Deno.test("TestConfigReloadDefaultSystemAccount: the default system account survives reload", async () => {
  const conf = await createConfFile(`listen: "127.0.0.1:-1"
accounts { ACC { users = [ {user: usr, password: pwd} ] } }
`);
  await using s = await runServerWithConfig(conf);
  const sys = s.systemAccount;
  assert(sys !== undefined);
  const numSubs = sys.totalSubs();
  assert(s.accounts.get(sys.name) === sys);
  reloadServer(s);
  assert(s.systemAccount !== undefined);
  assertEquals(s.systemAccount.totalSubs(), numSubs);
  assert(s.accounts.get(s.systemAccount.name) === s.systemAccount);
});

Deno.test("TestConfigReloadAccountMappings: account mappings change on reload", async () => {
  const conf = await createConfFile(`listen: "127.0.0.1:-1"
accounts { ACC { users = [{user: usr, password: pwd}], mappings = { foo: bar } } }
`);
  await using s = await runServerWithConfig(conf);
  await reloadUpdateConfig(
    s,
    conf,
    `listen: "127.0.0.1:-1"\naccounts { ACC { users = [{user: usr, password: pwd}], mappings = { foo: baz } } }\n`,
  );
  const nc = await natsUser(s, "usr", "pwd");
  try {
    const fsub = nc.subscribe("foo");
    const sub = nc.subscribe("baz");
    nc.publish("foo");
    await nc.flush();
    await checkFor(1_000, 10, () => assertEquals([fsub.getReceived(), sub.getReceived()], [0, 1]));
    await reloadUpdateConfig(
      s,
      conf,
      `listen: "127.0.0.1:-1"\naccounts { ACC { users = [{user: usr, password: pwd}] } }\n`,
    );
    nc.publish("foo");
    await nc.flush();
    // Counted since the start: foo got its first message, baz still has the one from before the reload.
    await checkFor(1_000, 10, () => assertEquals([fsub.getReceived(), sub.getReceived()], [1, 1]));
  } finally {
    await nc.close();
  }
});

Deno.test("TestConfigReloadWithSysAccountOnly: a config with only a system account reloads", async () => {
  const conf = await createConfFile(`listen: "127.0.0.1:-1"
accounts {
  $SYS { users = [{user: "system", pass: "password"}, {user: "system2", pass: "password2"}] }
}
`);
  await using s = await runServerWithConfig(conf);
  const nc = await connect({ servers: s.clientUrl() });
  let disconnected = false;
  (async () => {
    for await (const st of nc.status()) if (st.type === "disconnect") disconnected = true;
  })();
  try {
    reloadServer(s);
    await delay(500);
    assert(!disconnected, "the no_auth_user client should not be disconnected");
    await nc.flush();
  } finally {
    await nc.close();
  }
});

Deno.test("Config reload refuses to add no_auth_user, and allows dropping it with its user", async () => {
  const users = `authorization { users [ {user: a, password: a}, {user: b, password: b} ] }`;
  const conf = await createConfFile(`${BASIC_CONF}${users}\n`);
  await using s = await runServerWithConfig(conf);
  await Deno.writeTextFile(conf, `${BASIC_CONF}no_auth_user: a\n${users}\n`);
  assertThrows(() => reloadServer(s), "config reload not supported for NoAuthUser: old=, new=a");
  await expectConnectFails(s.port);

  const conf2 = await createConfFile(`${BASIC_CONF}no_auth_user: a\n${users}\n`);
  await using s2 = await runServerWithConfig(conf2);
  (await connectUser(s2.port)).close();
  await reloadUpdateConfig(s2, conf2, `${BASIC_CONF}authorization { users [ {user: b, password: b} ] }\n`);
  await expectConnectFails(s2.port);
});

Deno.test("Config reload: an account error (unauthorized import) refuses the reload and changes nothing", async () => {
  const accounts = (imp: string) =>
    `${BASIC_CONF}accounts {
  A { users = [{user: a, password: a}], exports = [ {service: "svc", accounts: [B]} ] }
  B { users = [{user: b, password: b}] }
  C { users = [{user: c, password: c}], imports = [ ${imp} ] }
}
`;
  const conf = await createConfFile(accounts(""));
  await using s = await runServerWithConfig(conf);
  const before = s.accounts.get("C")!;
  await Deno.writeTextFile(conf, accounts(`{service: {account: A, subject: "svc"}}`));
  assertThrows(() => reloadServer(s), 'Error adding service import "svc": service import not authorized');
  assert(s.accounts.get("C") === before);
  // Only the imports every account has from the system account.
  assertEquals([...before.serviceImports.values()].filter((si) => si.acc !== s.systemAccount).length, 0);
  assertEquals(s.accounts.get("A")!.serviceExports.size, 1);
});
