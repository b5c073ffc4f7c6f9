// Port of the parts of nats-server server/opts_test.go that concern the keys natsdeno maps; the rest are
// listed as ignored with the reason, so a script can count ported, ignored and missing tests.
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import {
  AUTH_TIMEOUT_MS,
  ConfigError,
  configToOptions,
  DEFAULT_HTTP_BASE_PATH,
  DEFAULT_HTTP_PORT,
  defaultOptions,
  loadOptions,
  mergeOptions,
  type Options,
  parseConfig,
  parseConfigFile,
  parseFlags,
  setBaselineOptions,
  validateOptions,
} from "../../src/config/mod.ts";

/** Go's ProcessConfigFile: parse a file and map it onto zero-valued options. */
function processConfigFile(path: string): Options {
  const o = configToOptions(parseConfigFile(path));
  o.configFile = path;
  return o;
}

function fromText(text: string, file = "test.conf"): Options {
  return configToOptions(parseConfig(text, { file }));
}

/** A Go test that cannot pass yet: registered as ignored, its reason in the name. */
function ignored(name: string, reason: string): void {
  Deno.test({ name: `${name}: ${reason}`, ignore: true, fn: () => {} });
}

Deno.test("TestDefaultOptions: baseline options match nats-server's", () => {
  const o = setBaselineOptions(defaultOptions());
  assertEquals(o.host, "0.0.0.0");
  assertEquals(o.httpHost, "0.0.0.0");
  assertEquals(o.port, 4222);
  assertEquals(o.maxConn, 64 * 1024);
  assertEquals(o.pingIntervalMs, 120_000);
  assertEquals(o.maxPingsOut, 2);
  assertEquals(o.authTimeoutMs, AUTH_TIMEOUT_MS);
  assertEquals(o.maxControlLine, 4096);
  assertEquals(o.maxPayload, 1024 * 1024);
  assertEquals(o.maxPending, 64 * 1024 * 1024);
  assertEquals(o.writeDeadlineMs, 10_000);
  assertEquals(o.maxClosedClients, 10_000);
  assertEquals(o.lameDuckDurationMs, 120_000);
  assertEquals(o.lameDuckGracePeriodMs, 10_000);
  assertEquals(o.connectErrorReports, 3600);
  assertEquals(o.reconnectErrorReports, 1);
  assertEquals(o.jetStreamMaxMemory, -1);
  assertEquals(o.jetStreamMaxStore, -1);
  assertEquals(o.logtime, true);
});

Deno.test("TestOptions_RandomPort: -1 stays -1 so the server picks a port", () => {
  assertEquals(setBaselineOptions(defaultOptions({ port: -1 })).port, -1);
});

Deno.test("TestConfigFile: every core key of conf/test.conf is mapped", () => {
  const o = processConfigFile("conf/test.conf");
  assertEquals(o.configFile, "conf/test.conf");
  assertEquals(o.serverName, "testing_server");
  assertEquals(o.host, "127.0.0.1");
  assertEquals(o.port, 4242);
  assertEquals(o.username, "derek");
  assertEquals(o.password, "porkchop");
  assertEquals(o.authTimeoutMs, 1000);
  assertEquals([o.debug, o.trace, o.logtime], [false, true, false]);
  assertEquals(o.httpPort, 8222);
  assertEquals(o.httpBasePath, "/nats");
  assertEquals(o.pidFile, "/tmp/nats-server/nats-server.pid");
  assertEquals(o.profPort, 6543);
  assertEquals(o.syslog, true);
  assertEquals(o.remoteSyslog, "udp://foo.com:33");
  assertEquals(o.maxControlLine, 2048);
  assertEquals(o.maxPayload, 65536);
  assertEquals(o.maxConn, 100);
  assertEquals(o.maxSubs, 1000);
  assertEquals(o.maxPending, 10_000_000);
  assertEquals(o.pingIntervalMs, 60_000);
  assertEquals(o.maxPingsOut, 3);
  assertEquals(o.writeDeadlineMs, 3000);
  assertEquals(o.lameDuckDurationMs, 240_000);
  assertEquals(o.connectErrorReports, 86400);
  assertEquals(o.reconnectErrorReports, 5);
  assertEquals(o.unsupported, ["prof_port"]);
});

ignored(
  "TestTLSConfigFile",
  "blocked: certificate loading and cipher checks belong to the TLS issue (src/net)",
);

Deno.test("TestMergeOverrides: flags override the config file", () => {
  const fopts = processConfigFile("conf/test.conf");
  const flags = parseFlags([
    "-p",
    "2222",
    "--pass",
    "porkchop",
    "-D",
    "-m",
    String(DEFAULT_HTTP_PORT),
    "--profile",
    "6789",
    "--no_advertise",
    "--connect_retries",
    "2",
  ]);
  const o = mergeOptions(fopts, flags);
  assertEquals(o.port, 2222);
  assertEquals(o.password, "porkchop");
  assertEquals(o.username, "derek");
  assertEquals(o.debug, true);
  assertEquals(o.trace, true);
  assertEquals(o.logtime, false);
  assertEquals(o.httpPort, DEFAULT_HTTP_PORT);
  assertEquals(o.httpBasePath, "/nats");
  assertEquals(o.profPort, 6789);
  assertEquals(o.cluster.noAdvertise, true);
  assertEquals(o.cluster.connectRetries, 2);
  assertEquals(o.maxPayload, 65536);
  void DEFAULT_HTTP_BASE_PATH;
});

ignored("TestRemoveSelfReference", "blocked: cluster routes are not implemented yet (src/cluster)");
ignored("TestAllowRouteWithDifferentPort", "blocked: cluster routes are not implemented yet (src/cluster)");
ignored("TestRouteFlagOverride", "blocked: the cluster {} block is not mapped yet");
ignored("TestClusterFlagsOverride", "blocked: the cluster {} block is not mapped yet");
ignored("TestRouteFlagOverrideWithMultiple", "blocked: the cluster {} block is not mapped yet");

Deno.test("TestDynamicPortOnListen: listen with -1 keeps the random port", () => {
  const o = processConfigFile("conf/listen-random.conf");
  assertEquals(setBaselineOptions(o).port, -1);
  assertEquals(setBaselineOptions(o).host, "0.0.0.0");
});

Deno.test("TestListenConfig: listen, http and https accept host:port", () => {
  const o = fromText('listen: 10.0.1.22:4422\nhttp: "127.0.0.1:8422"\nhttps: 127.0.0.1:9443\n');
  assertEquals([o.host, o.port], ["10.0.1.22", 4422]);
  assertEquals([o.httpHost, o.httpPort, o.httpsPort], ["127.0.0.1", 8422, 9443]);
});

Deno.test("TestListenPortOnlyConfig: a bare port binds the default host", () => {
  const o = setBaselineOptions(processConfigFile("conf/listen-port.conf"));
  assertEquals([o.host, o.port], ["0.0.0.0", 8922]);
});

Deno.test("TestListenPortWithColonConfig: ':port' binds the default host", () => {
  const o = setBaselineOptions(processConfigFile("conf/listen-colon.conf"));
  assertEquals([o.host, o.port], ["0.0.0.0", 8922]);
});

Deno.test("TestListenMonitoringDefault: the monitor binds the client host by default", () => {
  const o = setBaselineOptions(fromText("host: 10.0.1.22\nhttp_port: 8222\n"));
  assertEquals([o.httpHost, o.httpPort], ["10.0.1.22", 8222]);
});

Deno.test("TestMultipleUsersConfig: a users array loads", () => {
  const o = fromText(
    `authorization {
  users = [
    {user: alice, password: foo}
    {user: bob, password: bar}
  ]
  timeout: 0.5
}`,
  );
  assertEquals(o.users.map((u) => u.username), ["alice", "bob"]);
  assertEquals(o.authTimeoutMs, 500);
});

const authzConf = `
authorization {
  ADMIN = { publish = ">", subscribe = ">" }
  REQUESTOR = { publish = ["req.foo", "req.bar"], subscribe = "_INBOX.>" }
  RESPONDER = { publish = "_INBOX.>", subscribe = ["req.foo", "req.bar"] }
  DEFAULT_PERMISSIONS = { publish = "SANDBOX.*", subscribe = ["PUBLIC.>", "_INBOX.>"] }

  users = [
    {user: alice, password: foo, permissions: $ADMIN}
    {user: bob,   password: bar, permissions: $REQUESTOR}
    {user: susan, password: baz, permissions: $RESPONDER}
    {user: svca,  password: pc,  permissions: { subscribe: "svca.>", publish: "svca.>", allow_responses: true }}
  ]
}
`;

Deno.test("TestAuthorizationConfig: permissions given through variables and allow_responses", () => {
  const o = fromText(authzConf);
  const byName = new Map(o.users.map((u) => [u.username, u]));
  assertEquals(byName.get("alice")?.permissions, { publish: { allow: [">"] }, subscribe: { allow: [">"] } });
  assertEquals(byName.get("bob")?.permissions, {
    publish: { allow: ["req.foo", "req.bar"] },
    subscribe: { allow: ["_INBOX.>"] },
  });
  assertEquals(byName.get("susan")?.permissions?.subscribe, { allow: ["req.foo", "req.bar"] });
  assertEquals(byName.get("svca")?.permissions?.response, { maxMsgs: 1, expiresMs: 120_000 });
  assertEquals(byName.get("svca")?.permissions?.publish, { allow: ["svca.>"] });
  // Keys used as variables are not unknown fields.
  assertEquals(o.warnings, []);
});

Deno.test("TestNewStyleAuthorizationConfig: allow and deny lists", () => {
  const o = fromText(`authorization {
    PERMS = { publish = { allow = ["foo", "bar"], deny = "baz" }, subscribe = { deny = ["foo.>", "bar"] } }
    users = [ {user: alice, password: foo, permissions: $PERMS} ]
  }`);
  assertEquals(o.users[0].permissions, {
    publish: { allow: ["foo", "bar"], deny: ["baz"] },
    subscribe: { deny: ["foo.>", "bar"] },
  });
});

const NKEY = "UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV";

Deno.test("TestNkeyUsersConfig: nkey users load", () => {
  const o = fromText(`authorization { users = [ {nkey: ${NKEY}} ] }`);
  assertEquals(o.nkeys, [{ nkey: NKEY }]);
});

ignored(
  "TestTlsPinnedCertificates",
  "blocked: needs TLS listeners (src/net); pinned_certs parsing is covered below",
);

Deno.test("TestNkeyUsersDefaultPermissionsConfig: default_permissions apply to users without their own", () => {
  const o = fromText(`authorization {
    default_permissions = { publish = "foo" }
    users = [ {user: user, password: pwd}, {user: other, password: pwd, permissions = { subscribe = "bar" }}, {nkey: ${NKEY}} ]
  }`);
  assertEquals(o.users[0].permissions, { publish: { allow: ["foo"] } });
  assertEquals(o.users[1].permissions, { subscribe: { allow: ["bar"] } });
  assertEquals(o.nkeys[0].permissions, { publish: { allow: ["foo"] } });
});

Deno.test("TestNkeyUsersWithPermsConfig: nkey users take permissions", () => {
  const o = fromText(
    `authorization { users = [ {nkey: ${NKEY}, permissions = { publish = "$SYS.>", subscribe = { deny = ["foo", "bar"] } }} ] }`,
  );
  assertEquals(o.nkeys[0].permissions, {
    publish: { allow: ["$SYS.>"] },
    subscribe: { deny: ["foo", "bar"] },
  });
});

Deno.test("TestBadNkeyConfig: an invalid nkey is an error", () => {
  assertThrows(
    () => fromText(`authorization { users = [ {nkey: "Ufoo"}] }`),
    "Not a valid public nkey for a user",
  );
});

Deno.test("TestNkeyWithPassConfig: nkey users take no password", () => {
  assertThrows(
    () => fromText(`authorization { users = [ {nkey: "${NKEY}", pass: "foo"} ] }`),
    "Nkey users do not take usernames or passwords",
  );
});

Deno.test("TestTokenWithUserPass: token and user/pass together are an error", () => {
  assertThrows(
    () => fromText(`authorization={\n user: user\n pass: password\n token: $2a$11$whatever\n}`),
    "test.conf:1:0: Cannot have a user/pass and token",
  );
});

Deno.test("TestTokenWithUsers: token and users together are an error", () => {
  assertThrows(
    () => fromText(`authorization={\n token: $2a$11$whatever\n users: [ {user: test, password: test} ]\n}`),
    "Can not have a token and a users array",
  );
});

Deno.test("TestParseWriteDeadline: durations, bad units, and bare seconds", () => {
  assertThrows(
    () => fromText('write_deadline: "1x"'),
    'error parsing write_deadline: time: unknown unit "x"',
  );
  assertEquals(fromText('write_deadline: "1s"').writeDeadlineMs, 1000);
  const o = fromText("write_deadline: 2");
  assertEquals(o.writeDeadlineMs, 2000);
  assertEquals(o.warnings.length, 1);
});

ignored("TestOptionsClone", "not applicable: Options are plain data, copied with structuredClone");
ignored("TestOptionsCloneNilLists", "not applicable: Options are plain data, copied with structuredClone");
ignored("TestOptionsCloneNil", "not applicable: Options are plain data, copied with structuredClone");

Deno.test("TestEmptyConfig: an empty file gives the defaults", () => {
  const o = configToOptions(parseConfig(""));
  assertEquals(o, defaultOptions());
});

Deno.test("TestMalformedListenAddress: a bad listen value is an error with its position", () => {
  assertThrows(
    () => fromText("listen: 127.0.0.1:990:-1\n"),
    'test.conf:1:0: could not parse address string "127.0.0.1:990:-1"',
  );
});

ignored("TestMalformedClusterAddress", "blocked: the cluster {} block is not mapped yet");

Deno.test("TestPanic: a wrong value type reports Go's conversion text", () => {
  assertThrows(
    () => fromText('port: "this_string_trips_a_panic"'),
    "interface conversion: interface {} is string, not int64",
  );
});

Deno.test("TestPingIntervalOld: a bare number is seconds, with a warning", () => {
  const o = processConfigFile("conf/ping-interval-old.conf");
  assertEquals(o.pingIntervalMs, 5000);
  assertEquals(o.warnings, [
    'conf/ping-interval-old.conf:2:1: invalid use of field "ping_interval": ping_interval should be converted to a duration',
  ]);
  const err = assertThrows(() => loadOptions(["-c", "conf/ping-interval-old.conf", "-t"]));
  assert(err instanceof ConfigError);
});

Deno.test("TestPingIntervalNew: a duration string", () => {
  assertEquals(fromText('ping_interval: "5m"').pingIntervalMs, 300_000);
});

Deno.test("TestOptionsProcessConfigFile: file values replace preset options", () => {
  const o = configToOptions(parseConfigFile("conf/test.conf"), defaultOptions({ debug: true, port: 1 }));
  assertEquals(o.debug, false);
  assertEquals(o.port, 4242);
});

Deno.test("TestConfigureOptions: flags, config file and -t", () => {
  let r = loadOptions(["-p", "1234"]);
  assertEquals(r.opts.port, 1234);
  r = loadOptions(["-c", "conf/test.conf", "-p", "1234", "-T=false"]);
  assertEquals([r.opts.port, r.opts.logtime, r.opts.serverName], [1234, false, "testing_server"]);
  r = loadOptions(["-v"]);
  assert(r.showVersion);
  r = loadOptions(["--help"]);
  assert(r.showHelp);
  r = loadOptions(["version"]);
  assert(r.showVersion);
  assertThrows(() => loadOptions(["foo"]), 'unrecognized command: "foo"');
  assertThrows(
    () => loadOptions(["-t"]),
    "must specify [-c, --config] option to check configuration file syntax",
  );
  assertThrows(() => loadOptions(["-p", "abc"]), 'invalid value "abc" for flag -p: parse error');
  assertThrows(() => loadOptions(["--nope"]), "flag provided but not defined: -nope");
  assertThrows(() => loadOptions(["-c"]), "flag needs an argument: -c");
  assertThrows(() => loadOptions(["--tls"]), "TLS Server certificate must be present and valid");
  assertThrows(() => loadOptions(["--tlscert", "x.pem"]), "TLS Server private key must be present and valid");
  r = loadOptions(["-c", "conf/test.conf", "-t"]);
  assert(r.testConfig);
  assertStringIncludes(r.digest ?? "", "sha256:");
});

ignored("TestClusterPermissionsConfig", "blocked: the cluster {} block is not mapped yet");
ignored("TestParseServiceLatency", "blocked: accounts are not implemented yet (src/auth)");
ignored("TestParseExport", "blocked: accounts are not implemented yet (src/auth)");
ignored("TestAccountUsersLoadedProperly", "blocked: accounts are not implemented yet (src/auth)");
ignored("TestParsingGateways", "blocked: gateways are not implemented yet (src/cluster)");
ignored("TestParsingGatewaysErrors", "blocked: gateways are not implemented yet (src/cluster)");
ignored("TestParsingLeafNodesListener", "blocked: leaf nodes are not implemented yet (src/cluster)");
ignored("TestParsingLeafNodeRemotes", "blocked: leaf nodes are not implemented yet (src/cluster)");

Deno.test("TestLargeMaxControlLine: values over 2^31-1 are refused", () => {
  assertThrows(() => fromText("max_control_line = 3000000000"), "max_control_line value is too big");
});

Deno.test("TestLargeMaxPayload: values over 2^31-1 are refused", () => {
  // blocked part: "max_payload cannot be higher than max_pending" is checked by the server (src/server).
  assertThrows(() => fromText("max_payload = 3000000000"), "max_payload value is too big");
});

Deno.test("TestHandleUnknownTopLevelConfigurationField: unknown keys are errors, known unsupported ones are not", () => {
  assertThrows(
    () => fromText('port: 1234\nstreaming {\n  id: "me"\n}\n'),
    'test.conf:2:1: unknown field "streaming"',
  );
  // Unknown fields inside blocks natsdeno does not parse yet (cluster {}) are not reported.
  const o = processConfigFile("conf/unsupported.conf");
  assertEquals(o.unsupported, [
    "cluster",
    "mqtt",
    "leafnodes",
    "gateway",
  ]);
  assertEquals(o.storeDir, "/tmp/natsdeno-js");
  assertEquals(o.jetStreamMaxMemory, 1000 ** 3);
});

Deno.test("TestSublistNoCacheConfig: disable_sublist_cache", () => {
  assertEquals(fromText("disable_sublist_cache: true").disableSublistCache, true);
  assertEquals(fromText("no_sublist_cache: true").disableSublistCache, true);
});

ignored("TestSublistNoCacheConfigOnAccounts", "blocked: accounts are not implemented yet (src/auth)");

Deno.test("TestParsingResponsePermissions: allow_responses forms and errors", () => {
  const perms = (p: string) =>
    fromText(`authorization { users = [ {user: a, password: a, permissions: {${p}}} ] }`).users[0]
      .permissions;
  assertEquals(perms("allow_responses: true")?.response, { maxMsgs: 1, expiresMs: 120_000 });
  assertEquals(perms("allow_responses: false")?.response, undefined);
  assertEquals(perms('allow_responses: {max: 10, expires: "5s"}')?.response, {
    maxMsgs: 10,
    expiresMs: 5000,
  });
  assertEquals(perms('allow_responses: {max: 0, expires: "0s"}')?.response, {
    maxMsgs: 1,
    expiresMs: 120_000,
  });
  assertEquals(perms('allow_responses: {max: -1, ttl: "-1s"}')?.response, { maxMsgs: -1, expiresMs: -1000 });
  assertEquals(perms("allow_responses: true")?.publish, { allow: [] });
  assertThrows(
    () => perms("allow_responses: 1"),
    "error parsing response permissions, expected a boolean or a map",
  );
  assertThrows(() => perms("allow_responses: {expires: 5}"), "error parsing expires, not a duration string");
  assertThrows(() => perms('allow_responses: {expires: "5x"}'), "error parsing expires: time: unknown unit");
  assertThrows(() => perms("allow_responses: {foo: 1}"), 'Unknown field "foo" parsing permissions');
});

ignored("TestExpandPath", "not applicable: expandPath is used by resolver dirs, which are not mapped yet");

Deno.test("TestNoAuthUserCode: no_auth_user must name a configured user", () => {
  const o = fromText("no_auth_user: foo\nauthorization { users = [ {user: foo, password: bar} ] }");
  validateOptions(o);
  assertThrows(
    () => validateOptions(fromText("no_auth_user: foo")),
    'no_auth_user: "foo" present, but users are not defined',
  );
  assertThrows(
    () =>
      validateOptions(
        fromText("no_auth_user: baz\nauthorization { users = [ {user: foo, password: bar} ] }"),
      ),
    'no_auth_user: "baz" not present as user in authorization block or account configuration',
  );
});

ignored("TestReadOperatorJWT", "blocked: operator JWTs are not implemented yet (src/auth)");
ignored("TestReadOperatorJWTSystemAccountMatch", "blocked: operator JWTs are not implemented yet (src/auth)");
ignored(
  "TestReadOperatorJWTSystemAccountMismatch",
  "blocked: operator JWTs are not implemented yet (src/auth)",
);
ignored("TestReadOperatorAssertVersion", "blocked: operator JWTs are not implemented yet (src/auth)");
ignored("TestReadOperatorAssertVersionFail", "blocked: operator JWTs are not implemented yet (src/auth)");
ignored("TestClusterNameAndGatewayNameConflict", "blocked: cluster and gateway blocks are not mapped yet");

Deno.test("TestDefaultAuthTimeout: 2s, or the TLS timeout plus 1s with TLS", () => {
  assertEquals(setBaselineOptions(defaultOptions()).authTimeoutMs, 2000);
  const tls = fromText('tls { cert_file: "c.pem", key_file: "k.pem", timeout: 4 }');
  assertEquals(setBaselineOptions(tls).authTimeoutMs, 5000);
  assertEquals(
    setBaselineOptions(fromText('tls { cert_file: "c.pem", key_file: "k.pem" }')).authTimeoutMs,
    3000,
  );
  assertEquals(setBaselineOptions(fromText("authorization { timeout: 3 }")).authTimeoutMs, 3000);
});

Deno.test("TestQueuePermissions: queue-qualified subjects are valid permissions", () => {
  const o = fromText(
    `authorization { users = [ {user: u, password: p, permissions: { sub: { allow: ["foo.> *.dev"], deny: ["foo.*.> *.prod"] } }} ] }`,
  );
  assertEquals(o.users[0].permissions?.subscribe, { allow: ["foo.> *.dev"], deny: ["foo.*.> *.prod"] });
  assertThrows(
    () =>
      fromText(`authorization { users = [ {user: u, password: p, permissions: { sub: ["foo bar baz"] }} ] }`),
    'subject "foo bar baz" is not a valid subject',
  );
});

ignored("TestResolverPinnedAccountsFail", "blocked: account resolvers are not implemented yet (src/auth)");

Deno.test("TestMaxSubTokens: limits and errors", () => {
  // blocked part: the "too many tokens" error on SUB is the server's (src/server).
  assertEquals(fromText("max_sub_tokens: 4").maxSubTokens, 4);
  assertThrows(() => fromText("max_sub_tokens: 256"), "max_sub_tokens value is too big");
  assertThrows(() => fromText("max_sub_tokens: 0"), "max_sub_tokens value can not be negative");
});

ignored("TestGetStorageSize", "blocked: jetstream block limits are not mapped yet");
ignored(
  "TestAuthorizationAndAccountsMisconfigurations",
  "blocked: accounts are not implemented yet (src/auth)",
);

// Beyond the Go tests.

Deno.test("configToOptions() reports every error with its position, warnings first", () => {
  const err = assertThrows(() =>
    configToOptions(
      parseConfig('port: 4222\nfoo_bar: 1\n  max_payload: "abc"\nping_interval: 60\n', { file: "bad2.conf" }),
    )
  );
  assertEquals(
    err.message,
    'bad2.conf:4:1: invalid use of field "ping_interval": ping_interval should be converted to a duration\n' +
      'bad2.conf:2:1: unknown field "foo_bar"\n' +
      "bad2.conf:3:3: interface conversion: interface {} is string, not int64\n",
  );
});

Deno.test("configToOptions() maps tls {} onto TlsOptions with Go's error texts", () => {
  const o = fromText(`tls {
    cert_file: "server.pem"
    key_file: "key.pem"
    ca_file: "ca.pem"
    verify: true
    timeout: "3s"
    cipher_suites: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
    pinned_certs: ["${"a".repeat(64)}"]
    handshake_first: true
  }`);
  assertEquals(o.tls, {
    certFile: "server.pem",
    keyFile: "key.pem",
    caFile: "ca.pem",
    verify: true,
    timeoutMs: 3000,
    cipherSuites: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
    pinnedCerts: ["a".repeat(64)],
    handshakeFirst: true,
  });
  assertThrows(() => fromText("tls { foo: 1 }"), 'error parsing tls config, unknown field ["foo"]');
  assertThrows(
    () => fromText("tls { cert_file: 1 }"),
    "error parsing tls config, expected 'cert_file' to be filename",
  );
  assertThrows(() => fromText('tls { cert_file: "a" }'), "missing 'key_file' in TLS configuration");
  assertThrows(() => fromText('tls { cipher_suites: ["nope"] }'), "unrecognized cipher nope");
});

Deno.test("configToOptions() checks server_name spaces only in validateOptions()", () => {
  const o = fromText('server_name: "a b"');
  assertThrows(() => validateOptions(o), "server name cannot contain spaces");
  assertEquals(loadOptions(["-c", "conf/test.conf", "-t", "-n", "a b"]).opts.serverName, "a b");
});

Deno.test("configToOptions() accepts aliases nats-server accepts", () => {
  const o = fromText(
    "net: 1.2.3.4\nmonitor_port: 1\nmax_conn: 2\nmax_subs: 3\nlog_file: x.log\npid_file: p\nstoredir: /s\n" +
      "authorization { username: u, pass: p }\n",
  );
  assertEquals([o.host, o.httpPort, o.maxConn, o.maxSubs, o.logFile, o.pidFile, o.storeDir], [
    "1.2.3.4",
    1,
    2,
    3,
    "x.log",
    "p",
    "/s",
  ]);
  assertEquals([o.username, o.password], ["u", "p"]);
});
