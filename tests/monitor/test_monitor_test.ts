// Ports the black-box tests of nats-server test/monitor_test.go: raw-protocol clients against the HTTP
// endpoints, and the monitor's startup errors.

import { connect } from "@nats-io/transport-node";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { defaultOptions, Server, startServer } from "../../src/natsdeno.ts";
import { type Connz, startMonitor, type Varz } from "../../src/monitor/mod.ts";
import { Logger } from "../../src/util/mod.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { checkFor, type TestServer } from "../_helpers/server.ts";
import { monitorUrl, readJson, runMonitorServer } from "./_helpers.ts";

/** test/monitor_test.go's client: SUB foo, PUB foo "hello", and the MSG back. */
async function rawSubPub(s: TestServer): Promise<RawClient> {
  const rc = await RawClient.connect(s.port);
  await rc.send('CONNECT {"verbose":false,"pedantic":false}\r\nSUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n');
  await checkFor(2000, 10, () => assertEquals(s.inMsgs, 1));
  await checkFor(2000, 10, () => assertEquals(s.outMsgs, 1));
  return rc;
}

function quietServer(port: number, httpPort: number, httpsPort = 0): Server {
  return new Server(
    defaultOptions({ host: "127.0.0.1", port, httpHost: "127.0.0.1", httpPort, httpsPort }),
    { log: new Logger({ quiet: true }) },
  );
}

async function expectFetchFails(url: string): Promise<void> {
  let failed = false;
  try {
    await (await fetch(url)).body?.cancel();
  } catch {
    failed = true;
  }
  assert(failed, `expected ${url} to fail`);
}

Deno.test("TestNoMonitorPort: monitoring is off without http_port", async () => {
  await using s = await runMonitorServer({ httpPort: 0 });
  assertEquals(s.monitorUrls.length, 0);
  await expectFetchFails("http://127.0.0.1:11245/varz");
});

Deno.test("TestEndpointDataRaces: endpoints read while a client publishes", async () => {
  await using s = await runMonitorServer();
  const nc = await connect({ servers: `127.0.0.1:${s.port}` });
  nc.subscribe("foo");
  const reads: Promise<unknown>[] = [];
  for (let i = 0; i < 50; i++) {
    nc.publish("foo", "hello");
    if (i % 5 === 0) {
      for (const e of ["varz", "connz", "subsz", "routez"]) reads.push(readJson(`${monitorUrl(s)}/${e}`));
    }
  }
  await Promise.all(reads);
  await nc.close();
});

Deno.test("TestVarz: counters after a raw client's round trip", async () => {
  await using s = await runMonitorServer();
  let v = await readJson<Varz>(`${monitorUrl(s)}/varz`);
  assert(Date.now() - Date.parse(v.start) < 10_000);
  const rc = await rawSubPub(s);
  v = await readJson<Varz>(`${monitorUrl(s)}/varz`);
  assertEquals(v.connections, 1);
  assertEquals(v.in_msgs, 1);
  assertEquals(v.out_msgs, 1);
  assertEquals(v.in_bytes, 5);
  assertEquals(v.out_bytes, 5);
  assertEquals(v.max_pending, 64 * 1024 * 1024);
  assertEquals(v.slow_consumers, 0);
  // The JSON has exactly the wire keys.
  const body = await (await fetch(`${monitorUrl(s)}/varz`)).text();
  for (
    const k of [
      "server_id",
      "now",
      "start",
      "connections",
      "in_msgs",
      "uptime",
      "mem",
      "cpu",
      "subscriptions",
    ]
  ) {
    assertStringIncludes(body, `"${k}":`);
  }
  await rc.close();
});

Deno.test("TestConnz: a raw client's connection info", async () => {
  await using s = await runMonitorServer();
  const rc = await rawSubPub(s);
  const c = await readJson<Connz>(`${monitorUrl(s)}/connz`);
  assertEquals(c.num_connections, 1);
  const ci = c.connections![0];
  assertEquals(ci.ip, "127.0.0.1");
  assertEquals(ci.subscriptions, 1);
  assertEquals(ci.in_msgs, 1);
  assertEquals(ci.out_msgs, 1);
  assertEquals(ci.in_bytes, 5);
  assertEquals(ci.out_bytes, 5);
  // A client without lang: no name/lang/version keys at all.
  const body = await (await fetch(`${monitorUrl(s)}/connz`)).text();
  for (const k of ["name", "lang", "version", "subscriptions_list", "stop", "reason"]) {
    assert(!body.includes(`"${k}":`), `no ${k}`);
  }
  await rc.close();
});

Deno.test("TestTLSConnz: a TLS client's record over the https monitor", async () => {
  // The reference's configs/tls.conf: TLS on the client port, https monitoring, user and password.
  const certs = new URL("../configs/certs/", import.meta.url).pathname;
  await using s = await runMonitorServer({
    httpPort: 0,
    httpsPort: -1,
    tls: { certFile: `${certs}server-cert.pem`, keyFile: `${certs}server-key.pem`, timeoutMs: 2_000 },
    username: "derek",
    password: "monkey",
  });
  const nc = await connect({
    servers: `tls://127.0.0.1:${s.port}`,
    user: "derek",
    pass: "monkey",
    tls: { caFile: `${certs}ca.pem` },
  });
  let resolve!: () => void;
  const got = new Promise<void>((r) => resolve = r);
  nc.subscribe("foo", { callback: () => resolve() });
  nc.publish("foo", "Hello");
  await got;
  const client = Deno.createHttpClient({
    caCerts: [await Deno.readTextFile(`${certs}ca.pem`)],
    cert: await Deno.readTextFile(`${certs}client-cert.pem`),
    key: await Deno.readTextFile(`${certs}client-key.pem`),
  });
  try {
    assert(s.monitorUrls[0].startsWith("https://"), s.monitorUrls[0]);
    const url = `https://localhost:${new URL(s.monitorUrls[0]).port}/connz`;
    const resp = await fetch(url, { client });
    assertEquals(resp.status, 200);
    const c = await resp.json() as Connz;
    assertEquals(c.num_connections, 1);
    assertEquals(c.total, 1);
    assertEquals(c.connections!.length, 1);
    const ci = c.connections![0];
    assert(ci.cid !== 0);
    assertEquals(ci.ip, "127.0.0.1");
    assert(ci.port !== 0);
    assertEquals(ci.subscriptions, 1);
    assertEquals(ci.subscriptions_list, undefined);
    assertEquals([ci.in_msgs, ci.out_msgs, ci.in_bytes, ci.out_bytes], [1, 1, 5, 5]);
    assert(Date.parse(ci.start) > 0, "start");
    assert(ci.uptime !== "");
    assert(Date.parse(ci.last_activity) >= Date.parse(ci.start), "last_activity >= start");
    assert(ci.idle !== "");
    // What the reference's TLS state adds to the record.
    assertEquals(ci.tls_version, "1.3");
    assertMatch(ci.tls_cipher_suite!, /^TLS_/);
  } finally {
    client.close();
    await nc.close();
  }
});

Deno.test("TestConnzWithSubs: subs=1 for a raw client", async () => {
  await using s = await runMonitorServer();
  const rc = await rawSubPub(s);
  const c = await readJson<Connz>(`${monitorUrl(s)}/connz?subs=1`);
  assertEquals(c.connections![0].subscriptions_list, ["foo"]);
  await rc.close();
});

Deno.test("TestConnzWithAuth: authorized_user with auth=1", async () => {
  await using s = await runMonitorServer({
    users: [{ username: "alice", password: "foo" }, { username: "bob", password: "bar" }],
  });
  const nc = await connect({ servers: `127.0.0.1:${s.port}`, user: "alice", pass: "foo" });
  const sub = nc.subscribe("foo", { max: 1 });
  nc.publish("foo", "Hello");
  for await (const _m of sub) break;
  const c = await readJson<Connz>(`${monitorUrl(s)}/connz?auth=1`);
  assertEquals(c.connections![0].authorized_user, "alice");
  await nc.close();
});

Deno.test("TestConnzWithAccounts: account filter and account names with auth", async () => {
  await using s = await runMonitorServer({
    users: [
      { username: "jerry", password: "pwd", account: "engineering" },
      { username: "sam", password: "pwd", account: "engineering" },
      { username: "ivan", password: "pwd", account: "sales" },
    ],
  });
  const ncs = [];
  for (const u of ["jerry", "sam", "ivan"]) {
    ncs.push(await connect({ servers: `127.0.0.1:${s.port}`, user: u, pass: "pwd" }));
  }
  let c = await readJson<Connz>(`${monitorUrl(s)}/connz?auth=1`);
  assertEquals(c.num_connections, 3);
  assertEquals(c.connections!.map((x) => x.account).sort(), ["engineering", "engineering", "sales"]);
  c = await readJson<Connz>(`${monitorUrl(s)}/connz?auth=1&acc=engineering`);
  assertEquals(c.num_connections, 2);
  c = await readJson<Connz>(`${monitorUrl(s)}/connz?auth=1&acc=sales&user=ivan`);
  assertEquals(c.connections!.map((x) => x.authorized_user), ["ivan"]);
  c = await readJson<Connz>(`${monitorUrl(s)}/connz?acc=nothere`);
  assertEquals(c.connections, null);
  for (const nc of ncs) await nc.close();
  await checkFor(2000, 10, () => assertEquals(s.clients.size, 0));
  c = await readJson<Connz>(`${monitorUrl(s)}/connz?state=closed&acc=engineering&auth=1`);
  assertEquals(c.num_connections, 2);
  assertEquals(c.connections![0].account, "engineering");
});

Deno.test("TestConnzWithOffsetAndLimit: paging over raw clients", async () => {
  await using s = await runMonitorServer();
  const a = await rawSubPub(s);
  const b = await RawClient.connect(s.port);
  await b.send('CONNECT {"verbose":false}\r\nPING\r\n');
  await checkFor(2000, 10, () => assertEquals(s.clients.size, 2));
  const c = await readJson<Connz>(`${monitorUrl(s)}/connz?offset=1&limit=1`);
  assertEquals([c.offset, c.limit, c.num_connections, c.total], [1, 1, 1, 2]);
  assertEquals(c.connections![0].cid, 2);
  await a.close();
  await b.close();
});

Deno.test("TestSubsz: statistics after a raw client's round trip", async () => {
  await using s = await runMonitorServer();
  const rc = await rawSubPub(s);
  const sl = await readJson(`${monitorUrl(s)}/subscriptionsz`);
  assertEquals(sl.num_subscriptions, 1);
  assertEquals(sl.num_inserts, 1);
  assertEquals(sl.num_matches, 1);
  assertEquals(Object.keys(sl), [
    "num_subscriptions",
    "num_cache",
    "num_inserts",
    "num_removes",
    "num_matches",
    "cache_hit_rate",
    "max_fanout",
    "avg_fanout",
  ]);
  await rc.close();
});

Deno.test("TestHTTPHost: a loopback monitor is not reachable on other addresses", async () => {
  await using s = await runMonitorServer();
  const other = Deno.networkInterfaces().find((i) => i.family === "IPv4" && !i.address.startsWith("127."));
  if (other === undefined) return; // The Go test needs a non-loopback IPv4 address too.
  const port = new URL(monitorUrl(s)).port;
  await expectFetchFails(`http://${other.address}:${port}/varz`);
});

Deno.test("TestMonitorNoTLSConfig: https_port without TLS fails to start", async () => {
  const s = quietServer(0, 0, -1);
  let err: Error | undefined;
  try {
    await startMonitor(s);
  } catch (e) {
    err = e as Error;
  }
  assertStringIncludes(err?.message ?? "", "TLS");
  await s.shutdown();
  let err2: Error | undefined;
  try {
    await startServer(defaultOptions({ host: "127.0.0.1", port: 0, httpsPort: -1 }), {
      log: new Logger({ quiet: true }),
    });
  } catch (e) {
    err2 = e as Error;
  }
  assertEquals(err2?.message, "TLS cert and key required for HTTPS");
});

Deno.test("TestMonitorErrorOnListen: a taken monitor port is a listen error", async () => {
  await using s = await runMonitorServer();
  const port = Number(new URL(monitorUrl(s)).port);
  const s2 = quietServer(0, port);
  let err: Error | undefined;
  try {
    await startMonitor(s2);
  } catch (e) {
    err = e as Error;
  }
  assertStringIncludes(err?.message ?? "", "listen");
  await s2.shutdown();
});

Deno.test("TestMonitorBothPortsConfigured: http and https ports together are refused", async () => {
  const s = quietServer(0, -1, -1);
  let err: Error | undefined;
  try {
    await startMonitor(s);
  } catch (e) {
    err = e as Error;
  }
  assertEquals(err?.message, "can't specify both HTTP (-1) and HTTPs (-1) ports");
  await s.shutdown();
});

Deno.test("TestMonitorStop: shutdown closes a monitor started on its own", async () => {
  const s = quietServer(0, -1);
  const mon = await startMonitor(s);
  const url = `http://127.0.0.1:${mon.port}/varz`;
  await (await fetch(url)).body?.cancel();
  await s.shutdown();
  await expectFetchFails(url);
});
