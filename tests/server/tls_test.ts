// Ports nats-server test/tls_test.go (client TLS: verify, verify_and_map, timeouts, allow_non_tls, pinned
// certs, rate limit, reload), plus handshake_first (nats-server 2.10+) and natsdeno's log texts.
// Certificates: tests/configs/certs (scripts/gen_certs.sh); configs are written with absolute paths.
import * as net from "node:net";
import * as tls from "node:tls";
import { readFileSync } from "node:fs";
import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import { assert, assertEquals, assertRejects, assertStringIncludes, fail } from "@std/assert";
import { checkFor, delay, runServer, type TestServer } from "../_helpers/server.ts";
import { createConfFile, reloadUpdateConfig, runServerWithConfig } from "./_util.ts";
import { spkiSha256 } from "../../src/net/mod.ts";
import type { Options } from "../../src/natsdeno.ts";

const CERTS = new URL("../configs/certs/", import.meta.url).pathname;
const CA = `${CERTS}ca.pem`;
const SERVER_TLS = `cert_file: "${CERTS}server-cert.pem"
    key_file: "${CERTS}server-key.pem"`;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A client cert pair by base name (tests/configs/certs/<name>-cert.pem, -key.pem). */
function cert(name: string): { certFile: string; keyFile: string } {
  return { certFile: `${CERTS}${name}-cert.pem`, keyFile: `${CERTS}${name}-key.pem` };
}

function nats(s: TestServer, opts: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  return connect({ servers: `127.0.0.1:${s.port}`, reconnect: false, timeout: 3_000, ...opts });
}

/** Config text → running server (host 127.0.0.1, random port). */
async function serverWithConf(content: string): Promise<TestServer> {
  return await runServerWithConfig(await createConfFile(`listen: "127.0.0.1:-1"\n${content}`));
}

/** Collects the async errors (permission violations) a connection reports. */
function collectErrors(nc: NatsConnection): Error[] {
  const errs: Error[] = [];
  (async () => {
    for await (const st of nc.status()) if (st.type === "error") errs.push(st.error);
  })().catch(() => {});
  return errs;
}

async function roundTrip(nc: NatsConnection, subject: string): Promise<void> {
  const sub = nc.subscribe(subject, { max: 1, timeout: 2_000 });
  nc.publish(subject, "ping");
  for await (const m of sub) {
    assertEquals(m.string(), "ping");
    return;
  }
  fail("no message");
}

/** Plain TCP: reads the INFO line, then upgrades with node:tls (as a client library does). */
async function rawTls(
  port: number,
  opts: tls.ConnectionOptions & { first?: boolean } = {},
): Promise<{ info: Record<string, unknown> | undefined; sock: tls.TLSSocket }> {
  const raw = net.connect(port, "127.0.0.1");
  await new Promise<void>((r, j) => raw.once("connect", () => r()).once("error", j));
  let info: Record<string, unknown> | undefined;
  if (!opts.first) {
    const line = await new Promise<string>((r) => raw.once("data", (d: Uint8Array) => r(dec.decode(d))));
    info = JSON.parse(line.slice(5));
  }
  const sock = tls.connect({ socket: raw, ca: readFileSync(CA), servername: "localhost", ...opts });
  await new Promise<void>((r, j) => sock.once("secureConnect", () => r()).once("error", j));
  return { info, sock };
}

function readLine(sock: tls.TLSSocket | net.Socket, ms = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const t = setTimeout(() => {
      sock.off("data", on);
      reject(new Error(`no line, got ${JSON.stringify(buf)}`));
    }, ms);
    const on = (d: Uint8Array) => {
      buf += dec.decode(d);
      if (buf.includes("\r\n")) {
        clearTimeout(t);
        sock.off("data", on);
        resolve(buf);
      }
    };
    sock.on("data", on);
  });
}

function logged(s: TestServer, text: string): boolean {
  return (s.log.captured ?? []).some((l) => l.includes(text));
}

const TLS_CONF = `
tls {
    ${SERVER_TLS}
    timeout: 0.25
}
authorization {
    user: derek
    password: boo
    timeout: 1
}`;

Deno.test("TestTLSConnection: TLS with user/password; the client must trust the server's CA", async () => {
  await using s = await serverWithConf(TLS_CONF);
  await assertRejects(() => nats(s, { user: "derek", pass: "boo", tls: {} }));
  await assertRejects(() => nats(s, { tls: {} }));
  const nc = await nats(s, { user: "derek", pass: "boo", tls: { caFile: CA } });
  await roundTrip(nc, "foo-tls");
  await nc.close();
});

const TLSVERIFY_CONF = `
tls {
    ${SERVER_TLS}
    timeout: 2
    ca_file: "${CA}"
    verify: true
}`;

Deno.test("TestTLSClientCertificate: verify refuses a client without a certificate, takes one with", async () => {
  await using s = await serverWithConf(TLSVERIFY_CONF);
  await assertRejects(() => nats(s, { tls: { caFile: CA } }));
  await checkFor(
    2_000,
    20,
    () => assert(logged(s, "TLS handshake error: tls: client didn't provide a certificate")),
  );
  const nc = await nats(s, { tls: { caFile: CA, ...cert("client") } });
  await nc.flush();
  await nc.close();
});

const CERT_ID_CONF = `
tls {
    ${SERVER_TLS}
    timeout: 2
    ca_file: "${CA}"
    verify_and_map: true
}
authorization {
    users = [
        {user: derek@nats.io, permissions: { publish:"foo" }}
    ]
}`;

Deno.test("TestTLSClientCertificateHasUserID: verify_and_map finds the user by the certificate's e-mail", async () => {
  await using s = await serverWithConf(CERT_ID_CONF);
  const nc = await nats(s, { tls: { caFile: CA, ...cert("client-id-auth") } });
  await nc.flush();
  const c = [...s.clients.values()][0];
  assertEquals(c.authResult?.user, "derek@nats.io");
  assert(c.perms !== undefined && !c.perms.canPublish("bar", false) && c.perms.canPublish("foo", false));
  await nc.close();
});

Deno.test("TestTLSClientCertificateCheckWithAllowedConnectionTypes: a mapped user limited to WEBSOCKET is refused", async () => {
  await using s = await serverWithConf(`
tls {
    ${SERVER_TLS}
    timeout: 2
    ca_file: "${CA}"
    verify_and_map: true
}
authorization {
    users = [
        {user: derek@nats.io, permissions: { publish:"foo" }, allowed_connection_types: ["WEBSOCKET"]}
    ]
}`);
  await assertRejects(
    () => nats(s, { tls: { caFile: CA, ...cert("client-id-auth") } }),
    "Authorization Violation",
  );
});

const CN_CONF = `
tls {
    ${SERVER_TLS}
    ca_file = "${CA}"
    verify = true
    verify_and_map = true
}
authorization {
    permissions {
        publish { allow = ["public.>"] }
        subscribe { allow = ["public.>"] }
    }
    users [
        { user = "CN=example.com,OU=NATS.io" }
        { user = "CN=example.com,OU=CNCF", permissions = {
            publish { allow = [">"] }
            subscribe { allow = [">"] }
        } }
    ]
}`;

Deno.test("TestTLSClientCertificateCNBasedAuth: the certificate subject names the user and its permissions", async () => {
  await using s = await serverWithConf(CN_CONF);
  const nc1 = await nats(s, { tls: { caFile: CA, ...cert("tlsauth-client") } });
  const nc2 = await nats(s, { tls: { caFile: CA, ...cert("tlsauth-client2") } });
  const errs1 = collectErrors(nc1);
  const errs2 = collectErrors(nc2);
  nc1.publish("foo.bar", "hi");
  nc1.subscribe("foo.>");
  await nc1.flush().catch(() => {});
  const sub = nc2.subscribe(">", { max: 1, timeout: 1_000 });
  await nc2.flush();
  nc2.publish("hello", "hi");
  for await (const m of sub) assertEquals(m.subject, "hello");
  await checkFor(2_000, 20, () => assertEquals(errs1.length, 2));
  assertEquals(errs2.length, 0);
  await nc1.close();
  await nc2.close();
});

const SAN_USERS = (prod: string, dev: string) => `
tls {
    ${SERVER_TLS}
    ca_file = "${CA}"
    verify = true
    verify_and_map = true
}
authorization {
    permissions {
        publish { allow = ["public.>"] }
        subscribe { allow = ["public.>"] }
    }
    users [
        { user = "CN=www.nats.io" }
        { user = "${prod}", permissions = {
            publish { allow = [">"] }
            subscribe { allow = [">"] }
        } }
        { user = "${dev}", permissions = {
            publish { allow = ["public.>", "sandbox.>"] }
            subscribe { allow = ["public.>", "sandbox.>"] }
        } }
    ]
}`;

/** The three-client scenario of the SAN tests: default, dev and prod certificates. */
async function sanScenario(s: TestServer, defaultCert: string, devCert: string): Promise<void> {
  const defaultc = await nats(s, { tls: { caFile: CA, ...cert(defaultCert) } });
  const devc = await nats(s, { tls: { caFile: CA, ...cert(devCert) } });
  const prodc = await nats(s, { tls: { caFile: CA, ...cert("sans-prod") } });
  const errs = [collectErrors(defaultc), collectErrors(devc)];
  const prodErrs = collectErrors(prodc);
  devc.publish("foo.bar", "hi");
  devc.subscribe("foo.>");
  await devc.flush();
  const prodSub = prodc.subscribe(">", { timeout: 2_000 });
  await prodc.flush();
  prodc.publish("hello", "hi");
  const it = prodSub[Symbol.asyncIterator]();
  assertEquals((await it.next()).value?.subject, "hello");
  const devSub = devc.subscribe("sandbox.>", { max: 1, timeout: 1_000 });
  await devc.flush();
  devc.publish("sandbox.foo.bar", "hi!");
  for await (const m of devSub) assertEquals(m.subject, "sandbox.foo.bar");
  assertEquals((await it.next()).value?.subject, "sandbox.foo.bar");
  defaultc.subscribe("sandbox.>");
  const defaultSub = defaultc.subscribe("public.>", { max: 1, timeout: 1_000 });
  await defaultc.flush();
  devc.publish("public.foo.bar", "hi!");
  for await (const m of defaultSub) assertEquals(m.subject, "public.foo.bar");
  await checkFor(2_000, 20, () => assertEquals(errs[0].length + errs[1].length, 3));
  assertEquals(prodErrs.length, 0);
  for (const nc of [defaultc, devc, prodc]) await nc.close();
}

Deno.test("TestTLSClientCertificateSANsBasedAuth: DNS SANs name users; a cert without SANs maps by subject", async () => {
  await using s = await serverWithConf(SAN_USERS("app.nats.prod", "app.nats.dev"));
  await sanScenario(s, "sans-client", "sans-dev");
});

Deno.test("TestTLSClientCertificateTLSAuthMultipleOptions: e-mail SANs first, then DNS SANs (any position), then subject", async () => {
  await using s = await serverWithConf(SAN_USERS("*.app.nats.prod", "root@app.nats.dev"));
  await sanScenario(s, "sans-dev", "sans-dev-email");
});

// blocked: routes (cluster) are not implemented in natsdeno yet.
Deno.test({ name: "TestTLSRoutesCertificateCNBasedAuth: route TLS verify_and_map", ignore: true, fn() {} });
// blocked: gateways are not implemented in natsdeno yet.
Deno.test({
  name: "TestTLSGatewaysCertificateCNBasedAuth: gateway TLS verify_and_map",
  ignore: true,
  fn() {},
});

Deno.test("TestTLSVerifyClientCertificate: verify without ca_file does not trust the test CA", async () => {
  await using s = await serverWithConf(`
tls {
    ${SERVER_TLS}
    timeout: 2
    verify: true
}`);
  await assertRejects(() => nats(s, { tls: { caFile: CA, ...cert("client") } }));
  await checkFor(2_000, 20, () => assert(logged(s, "x509: certificate signed by unknown authority")));
});

Deno.test("TestTLSConnectionTimeout: a client that never starts the handshake is closed after tls timeout", async () => {
  await using s = await serverWithConf(TLS_CONF);
  await using c = await (await import("../_helpers/raw_client.ts")).RawClient.connect(s.port);
  const info = await c.collect(200);
  assert(info.startsWith("INFO "), info);
  const t0 = performance.now();
  await checkFor(2_000, 10, () => assertEquals(s.closedClients.length, 1));
  const took = performance.now() - t0;
  assert(took < 1_000, `closed after ${took} ms`);
  assertEquals(s.closedClients[0].closeReason, "TLS Handshake Failure");
  assert(logged(s, "TLS handshake timeout"));
  assert(logged(s, "i/o timeout"));
});

Deno.test("TestTLSAuthorizationShortTimeout: the auth timer starts after the handshake", async () => {
  const path = await createConfFile(`listen: "127.0.0.1:-1"\n${TLS_CONF}`);
  const { loadConfig } = await import("./_util.ts");
  const o = loadConfig(path);
  o.port = 0;
  o.authTimeoutMs = 1;
  await using s = await runServer(o);
  const e = await assertRejects(() => nats(s, { user: "derek", pass: "boo", tls: {} }));
  assert(!/oversized record|Authentication Timeout/i.test(e.message), e.message);
  // Once the handshake is done the short auth timeout applies.
  const { sock } = await rawTls(s.port);
  assertStringIncludes(await readLine(sock), "Authentication Timeout");
  sock.destroy();
});

const MIXED_CONF = `
tls {
    ${SERVER_TLS}
    timeout: 2
}
allow_non_tls: true`;

Deno.test("TestClientTLSAndNonTLSConnections: allow_non_tls serves TLS and plaintext clients on one port", async () => {
  await using s = await serverWithConf(MIXED_CONF);
  const nc = await nats(s, { tls: { caFile: CA } });
  // nats.js upgrades whenever INFO says tls_available, unless told `tls: null` (plaintext).
  const nc2 = await nats(s, { tls: null });
  const sub = nc.subscribe("foo");
  const sub2 = nc2.subscribe("bar");
  await nc.flush();
  await nc2.flush();
  for (let i = 0; i < 100; i++) {
    nc2.publish("foo", "HELLO FROM PLAINTEXT");
    nc.publish("bar", "HELLO FROM TLS");
  }
  await checkFor(2_000, 10, () => {
    assertEquals(sub.getReceived(), 100);
    assertEquals(sub2.getReceived(), 100);
  });
  const tlsClients = [...s.clients.values()].filter((c) => c.tlsVersion !== undefined);
  assertEquals(tlsClients.length, 1);
  await nc.close();
  await nc2.close();
});

Deno.test("TestTLSStressConnect: 3 clients connect, subscribe, publish and receive 33 times each over TLS", async () => {
  await using s = await serverWithConf(`
tls {
    ${SERVER_TLS}
    timeout: 2
}`);
  await Promise.all([0, 1, 2].map(async (i) => {
    for (let n = 0; n < 33; n++) {
      const nc = await nats(s, { tls: { caFile: CA } });
      await roundTrip(nc, `foo.${i}`);
      await nc.close();
    }
  }));
  assertEquals(s.totalConnections, 99);
});

Deno.test("TestTLSBadAuthError: a wrong password over TLS is an Authorization Violation", async () => {
  await using s = await serverWithConf(TLS_CONF);
  await assertRejects(
    () => nats(s, { user: "derek", pass: "NOT_THE_PASSWORD", tls: { caFile: CA } }),
    "Authorization Violation",
  );
});

Deno.test("TestTLSConnectionCurvePref: curve_preferences loads; connections behave as in TestTLSConnection", async () => {
  await using s = await serverWithConf(`
tls {
    ${SERVER_TLS}
    timeout: 2
    curve_preferences: [ "CurveP256" ]
}
authorization {
    user: derek
    password: boo
    timeout: 1
}`);
  assertEquals(s.opts.tls?.curvePreferences, ["CurveP256"]);
  // natsdeno's TLS (rustls) cannot restrict curves: it says so at startup.
  assert(logged(s, "curve_preferences is not supported"));
  await assertRejects(() => nats(s, { user: "derek", pass: "boo", tls: {} }));
  await assertRejects(() => nats(s, { tls: {} }));
  const nc = await nats(s, { user: "derek", pass: "boo", tls: { caFile: CA } });
  await roundTrip(nc, "foo-tls");
  await nc.close();
});

// blocked: routes (cluster) are not implemented in natsdeno yet.
Deno.test({
  name: "TestTLSTimeoutNotReportSlowConsumer: route TLS timeout is no slow consumer",
  ignore: true,
  fn() {},
});

Deno.test("TestTLSHandshakeFailureMemUsage: garbage instead of a handshake does not grow memory (client port)", async () => {
  // The route and gateway parts of the reference test need cluster support (not in natsdeno yet).
  await using s = await serverWithConf(`
tls {
    ${SERVER_TLS}
    ca_file: "${CA}"
    timeout: 5
}`);
  const base = Deno.memoryUsage().rss;
  const garbage = new Uint8Array(1024 * 1024).fill(0x41);
  for (let i = 0; i < 100; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    await Promise.race([conn.write(garbage).catch(() => 0), delay(10)]);
    conn.close();
  }
  await checkFor(5_000, 20, () => assertEquals(s.closedClients.length, 100));
  const grown = (Deno.memoryUsage().rss - base) / (1024 * 1024);
  assert(grown < 50, `grew ${grown} MB`);
  assert(logged(s, "TLS handshake error: tls: first record does not look like a TLS handshake"));
});

/** Runs one verify_and_map case: users block, client cert, whether connect and a request should work. */
async function mapCase(
  users: string,
  clientCert: string,
  want: { connect: boolean; respond: boolean },
  extraTls = "",
): Promise<void> {
  await using s = await serverWithConf(`
tls {
    ${SERVER_TLS}
    ca_file: "${CA}"
    timeout: 5
    verify_and_map: true
    ${extraTls}
}
authorization {
    users = [
${users}
    ]
}`);
  if (!want.connect) {
    await assertRejects(
      () => nats(s, { tls: { caFile: CA, ...cert(clientCert) } }),
      "Authorization Violation",
    );
    return;
  }
  const nc = await nats(s, { tls: { caFile: CA, ...cert(clientCert) } });
  nc.subscribe("ping", {
    callback: (e, m) => {
      if (e === null) m.respond("pong");
    },
  });
  await nc.flush();
  const got = await nc.request("ping", "ping", { timeout: 250 }).then(() => true, () => false);
  assertEquals(got, want.respond);
  await nc.close();
}

Deno.test("TestTLSClientAuthWithRDNSequence: subjects with domain components map in RFC 4514 and Go orders", async (t) => {
  const ok = { connect: true, respond: true };
  const denied = { connect: true, respond: false };
  const refused = { connect: false, respond: false };
  const cases: [string, string, string, typeof ok][] = [
    [
      "connect with tls using full RDN sequence",
      `{ user = "CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US,DC=foo1,DC=foo2" }`,
      "rdns-a",
      ok,
    ],
    [
      "connect with tls using full RDN sequence in original order",
      `{ user = "DC=foo2,DC=foo1,CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US" }`,
      "rdns-a",
      ok,
    ],
    [
      "connect with tls using partial RDN sequence has different permissions",
      `{ user = "DC=foo2,DC=foo1,CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US" },
       { user = "CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US,DC=foo1,DC=foo2" },
       { user = "CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US",
         permissions = { subscribe = { deny = ">" }} }`,
      "rdns-b",
      denied,
    ],
    [
      "connect with tls and RDN sequence partially matches",
      `{ user = "DC=foo2,DC=foo1,CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US" }
       { user = "CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US,DC=foo1,DC=foo2" }
       { user = "CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US"},`,
      "rdns-c",
      ok,
    ],
    [
      "connect with tls and RDN sequence does not match",
      `{ user = "CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US,DC=foo1,DC=foo2" },
       { user = "DC=foo2,DC=foo1,CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US" }`,
      "rdns-c",
      refused,
    ],
    [
      "connect with tls and RDN sequence with space after comma not should matter",
      `{ user = "DC=foo2, DC=foo1, CN=localhost, OU=NATS, O=NATS, L=Los Angeles, ST=CA, C=US" }`,
      "rdns-a",
      ok,
    ],
    [
      "connect with tls and full RDN sequence respects order",
      `{ user = "DC=com, DC=example, CN=*.example.com, O=NATS, OU=NATS, L=Los Angeles, ST=CA, C=US" }`,
      "rdns-d",
      ok,
    ],
    [
      "connect with tls and full RDN sequence with added domainComponents and spaces also matches",
      `{ user = "CN=*.example.com,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US,DC=example,DC=com" }`,
      "rdns-d",
      ok,
    ],
    [
      "connect with tls and full RDN sequence with correct order takes precedence over others matches",
      `{ user = "CN=*.example.com,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US,DC=example,DC=com",
         permissions = { subscribe = { deny = ">" }} }
       { user = "DC=com,DC=example,CN=*.example.com,O=NATS,OU=NATS,L=Los Angeles,ST=CA,C=US" }
       { user = "CN=*.example.com,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US",
         permissions = { subscribe = { deny = ">" }} }`,
      "rdns-d",
      ok,
    ],
    [
      "connect with tls and RDN includes multiple CN elements",
      `{ user = "DC=com,DC=acme,OU=Organic Units,OU=Users,CN=jdoe,CN=123456,CN=John Doe" }`,
      "rdns-e",
      ok,
    ],
    [
      "connect with tls and DN includes a multi value RDN",
      `{ user = "CN=John Doe,DC=DEV+O=users,DC=OpenSSL,DC=org" }`,
      "rdns-f",
      ok,
    ],
    [
      "connect with tls and DN includes a multi value RDN but there is no match",
      `{ user = "CN=John Doe,DC=DEV,DC=OpenSSL,DC=org" }`,
      "rdns-f",
      refused,
    ],
    [
      "connect with tls and DN includes a multi value RDN that are reordered",
      `{ user = "CN=John Doe,O=users+DC=DEV,DC=OpenSSL,DC=org" }`,
      "rdns-f",
      ok,
    ],
  ];
  for (const [name, users, c, want] of cases) await t.step(name, () => mapCase(users, c, want));
});

Deno.test("TestTLSClientAuthWithRDNSequenceReordered: multi-valued RDNs match in any order, but only whole", async (t) => {
  await t.step(
    "connect with tls and DN includes a multi value RDN that are reordered",
    () =>
      mapCase(`{ user = "DC=org,DC=OpenSSL,O=users+DC=DEV,CN=John Doe" }`, "rdns-f", {
        connect: true,
        respond: true,
      }),
  );
  await t.step(
    "connect with tls and DN includes a multi value RDN that are reordered but not equal RDNs",
    () =>
      mapCase(`{ user = "DC=org,DC=OpenSSL,O=users,CN=John Doe" }`, "rdns-f", {
        connect: false,
        respond: false,
      }),
  );
  await t.step(
    "connect with tls and DN includes a multi value RDN that are reordered but not equal RDNs (spaces)",
    () =>
      mapCase(`{ user = "DC=OpenSSL, DC=org, O=users, CN=John Doe" }`, "rdns-f", {
        connect: false,
        respond: false,
      }),
  );
});

Deno.test("TestTLSClientSVIDAuth: URI SANs (SPIFFE IDs) name users", async (t) => {
  const extra = "insecure: true";
  await t.step(
    "connect with tls using certificate with URIs",
    () =>
      mapCase(`{ user = "spiffe://localhost/my-nats-service/user-a" }`, "svid-a", {
        connect: true,
        respond: true,
      }, extra),
  );
  await t.step("connect with tls using certificate with limited different permissions", () =>
    mapCase(
      `{ user = "spiffe://localhost/my-nats-service/user-a" },
       { user = "spiffe://localhost/my-nats-service/user-b", permissions = { subscribe = { deny = ">" }} }`,
      "svid-b",
      { connect: true, respond: false },
      extra,
    ));
  await t.step(
    "connect with tls without URIs in permissions will still match SAN",
    () => mapCase(`{ user = "O=SPIRE,C=US" }`, "svid-b", { connect: true, respond: true }, extra),
  );
  await t.step("connect with tls but no permissions", () =>
    mapCase(
      `{ user = "spiffe://localhost/my-nats-service/user-c" }`,
      "svid-a",
      { connect: false, respond: false },
      extra,
    ));
});

Deno.test("TestTLSPinnedCertsClient: only pinned client certificates get in; reload changes the pins", async () => {
  const pinned = spkiSha256(
    new Uint8Array(
      new (await import("node:crypto")).X509Certificate(readFileSync(`${CERTS}client-cert.pem`)).raw,
    ),
  );
  const tmpl = (pin: string) =>
    `listen: "127.0.0.1:-1"
tls {
    ca_file: "${CA}"
    ${SERVER_TLS}
    verify: true
    pinned_certs: ["${pin}"]
}`;
  const path = await createConfFile(tmpl("aaaaaaaa09fde09451411ba3b42c0f74727d61a974c69fd3cf5257f39c75f0e9"));
  await using s = await runServerWithConfig(path);
  assertEquals(s.opts.tls?.pinnedCerts?.length, 1);
  const opts = { tls: { caFile: CA, ...cert("client") } };
  await assertRejects(() => nats(s, opts));
  await checkFor(2_000, 20, () => assert(logged(s, "TLS handshake error: certificate not pinned")));
  await reloadUpdateConfig(s, path, tmpl(pinned));
  const nc = await nats(s, opts);
  await nc.close();
});

Deno.test("TestTLSConnectionRate: connection_rate_limit allows that many TLS handshakes per second", async () => {
  await using s = await serverWithConf(`
tls {
    ${SERVER_TLS}
    connection_rate_limit: 3
}`);
  let count = 0;
  let err: Error | undefined;
  while (count < 10) {
    try {
      const nc = await nats(s, { tls: { caFile: CA } });
      await nc.close();
      count++;
    } catch (e) {
      err = e as Error;
      break;
    }
  }
  assertEquals(count, 3, String(err));
  await checkFor(2_000, 50, () => assert(logged(s, "connections due to TLS rate limiting")));
});

// blocked: routes (cluster) are not implemented in natsdeno yet.
Deno.test({ name: "TestTLSPinnedCertsRoute: route pinned certificates", ignore: true, fn() {} });

Deno.test("TestAllowNonTLSReload: INFO keeps tls_available (not tls_required) across a reload", async () => {
  const tmpl = (ping: string) =>
    `listen: "127.0.0.1:-1"
ping_interval: "${ping}"
tls {
    ca_file: "${CA}"
    ${SERVER_TLS}
}
allow_non_tls: true`;
  const path = await createConfFile(tmpl("10s"));
  await using s = await runServerWithConfig(path);
  const check = async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    const b = new Uint8Array(4096);
    const n = await conn.read(b);
    conn.close();
    const info = JSON.parse(dec.decode(b.subarray(0, n ?? 0)).slice(5));
    assertEquals(info.tls_available, true);
    assertEquals(info.tls_required, undefined);
  };
  await check();
  await reloadUpdateConfig(s, path, tmpl("20s"));
  await check();
});

// ---- Beyond the 2.9.10 suite: handshake_first (2.10+), wire and log details ---------------------------

function tlsOpts(extra: Record<string, unknown> = {}): Partial<Options> {
  return {
    tls: {
      certFile: `${CERTS}server-cert.pem`,
      keyFile: `${CERTS}server-key.pem`,
      timeoutMs: 2_000,
      ...extra,
    },
  };
}

Deno.test("TLS INFO: tls_required, tls_verify and tls_available as nats-server sets them", async () => {
  {
    await using s = await runServer(tlsOpts({ caFile: CA, verify: true }));
    const { info, sock } = await rawTls(s.port, {
      ...cert("client"),
      cert: readFileSync(`${CERTS}client-cert.pem`),
      key: readFileSync(`${CERTS}client-key.pem`),
    });
    assertEquals([info?.tls_required, info?.tls_verify, info?.tls_available], [true, true, undefined]);
    sock.write(enc.encode('CONNECT {"verbose":false}\r\nPING\r\n'));
    assertEquals(await readLine(sock), "PONG\r\n");
    sock.destroy();
  }
  {
    await using s = await runServer({ ...tlsOpts(), allowNonTls: true });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    const b = new Uint8Array(4096);
    const n = await conn.read(b);
    const info = JSON.parse(dec.decode(b.subarray(0, n ?? 0)).slice(5));
    assertEquals([info.tls_required, info.tls_verify, info.tls_available], [undefined, undefined, true]);
    await conn.write(enc.encode('CONNECT {"verbose":false}\r\nPING\r\n'));
    const m = await conn.read(b);
    assertEquals(dec.decode(b.subarray(0, m ?? 0)), "PONG\r\n");
    conn.close();
  }
});

Deno.test("TLS: a plaintext CONNECT on a TLS port fails the handshake with Go's log text", async () => {
  await using s = await runServer(tlsOpts());
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  const b = new Uint8Array(4096);
  await conn.read(b);
  await conn.write(enc.encode("CONNECT {}\r\nPING\r\n"));
  assertEquals(await conn.read(b), null);
  conn.close();
  await checkFor(2_000, 10, () => assertEquals(s.closedClients[0]?.closeReason, "TLS Handshake Failure"));
  assert(logged(s, "TLS handshake error: tls: first record does not look like a TLS handshake"));
});

Deno.test("TLS handshake_first: the handshake comes before INFO; INFO then arrives over TLS", async () => {
  await using s = await runServer(tlsOpts({ handshakeFirst: true }));
  assert(logged(s, 'Clients that are not using "TLS Handshake First" option will fail to connect'));
  const { sock } = await rawTls(s.port, { first: true });
  const info = await readLine(sock);
  assert(info.startsWith("INFO "), info);
  assertEquals(JSON.parse(info.slice(5)).tls_required, true);
  sock.destroy();
  const nc = await nats(s, { tls: { caFile: CA, handshakeFirst: true } });
  await roundTrip(nc, "tls.first");
  await nc.close();
  // A client waiting for INFO first gets nothing and times out.
  await assertRejects(() => nats(s, { tls: { caFile: CA }, timeout: 500 }));
});

Deno.test("TLS handshake_first auto: silent clients get INFO after the fallback delay; TLS-first clients work", async () => {
  await using s = await runServer(tlsOpts({ handshakeFirst: true, handshakeFirstFallbackMs: 50 }));
  assert(!logged(s, "TLS Handshake First"));
  const nc1 = await nats(s, { tls: { caFile: CA, handshakeFirst: true } });
  const nc2 = await nats(s, { tls: { caFile: CA } });
  const sub = nc1.subscribe("x", { max: 1, timeout: 2_000 });
  await nc1.flush();
  nc2.publish("x", "hi");
  for await (const m of sub) assertEquals(m.string(), "hi");
  await nc1.close();
  await nc2.close();
});

Deno.test("TLS: /connz-facing state, reload of certificates, handshake logs", async () => {
  const path = await createConfFile(`listen: "127.0.0.1:-1"
tls {
    ${SERVER_TLS}
    ca_file: "${CA}"
    verify: true
}`);
  await using s = await runServerWithConfig(path);
  s.log.configure({ debug: true, trace: false, logtime: false, logtimeUTC: false, logFile: undefined });
  const nc = await nats(s, { tls: { caFile: CA, ...cert("client") } });
  await nc.flush();
  const c = [...s.clients.values()][0];
  assertEquals(c.tlsVersion, "1.3");
  assertMatchSuite(c.tlsCipher ?? "");
  assertEquals(c.tlsPeerCerts?.length, 1);
  await checkFor(1_000, 10, () => assert(logged(s, "TLS handshake complete")));
  assert(logged(s, "TLS version 1.3, cipher suite TLS_"));
  // Reload without verify: clients without certificates now get in; the connected one stays.
  await reloadUpdateConfig(s, path, `listen: "127.0.0.1:-1"\ntls {\n    ${SERVER_TLS}\n}`);
  assert(logged(s, "Reloaded: tls = enabled"));
  const nc2 = await nats(s, { tls: { caFile: CA } });
  await roundTrip(nc2, "after.reload");
  assert(!nc.isClosed());
  await nc.close();
  await nc2.close();
});

function assertMatchSuite(s: string): void {
  assert(/^TLS_[A-Z0-9_]+$/.test(s), s);
}
