// Ports the endpoint tests of nats-server server/monitor_test.go that apply to a single server without
// JetStream. Each test runs its checks over HTTP (mode 0) and through the exported builders (mode 1).

import { connect, type NatsConnection } from "@nats-io/transport-node";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import {
  accountz,
  type Connz,
  connz,
  type ConnzOptions,
  DEFAULT_LIST_SIZE,
  jsz,
  MonitorError,
  myUptime,
  subsz,
  type SubszOptions,
  type Varz,
  varz,
} from "../../src/monitor/mod.ts";
import { parseDuration } from "../../src/util/mod.ts";
import { checkFor, delay, runServer, type TestServer } from "../_helpers/server.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import {
  APP_JS,
  bothModes,
  createClientConnSubscribeAndPublish,
  createClientConnWithName,
  monitorUrl,
  readBodyEx,
  readJson,
  runMonitorServer,
  TEXT_HTML,
  TEXT_PLAIN,
} from "./_helpers.ts";

const SEC = 1000;

async function pollVarz(s: TestServer, mode: number): Promise<Varz> {
  return mode === 0 ? await readJson<Varz>(`${monitorUrl(s)}/varz`) : varz(s);
}

async function pollConz(s: TestServer, mode: number, query: string, opts: ConnzOptions = {}): Promise<Connz> {
  return mode === 0 ? await readJson<Connz>(`${monitorUrl(s)}/connz${query}`) : connz(s, opts);
}

// deno-lint-ignore no-explicit-any
async function pollSubsz(s: TestServer, mode: number, query: string, opts: SubszOptions = {}): Promise<any> {
  if (mode === 0) return await readJson(`${monitorUrl(s)}/subsz${query}`);
  return subsz(s, opts);
}

async function closeAll(ncs: NatsConnection[]): Promise<void> {
  for (const nc of ncs) await nc.close();
}

function clientOf(s: TestServer, cid: number) {
  const c = s.clients.get(cid);
  assert(c !== undefined, `client ${cid}`);
  return c;
}

Deno.test("TestMyUptime: whole seconds with y/d/h/m/s units", () => {
  let d = 22 * SEC;
  assertEquals(myUptime(d), "22s");
  d += 4 * 60 * SEC;
  assertEquals(myUptime(d), "4m22s");
  d += 4 * 3600 * SEC;
  assertEquals(myUptime(d), "4h4m22s");
  d += 32 * 24 * 3600 * SEC;
  assertEquals(myUptime(d), "32d4h4m22s");
  d += 22 * 365 * 24 * 3600 * SEC;
  assertEquals(myUptime(d), "22y32d4h4m22s");
});

Deno.test("TestNoMonitorPort: no HTTP listener unless asked", async () => {
  await using s = await runMonitorServer({ httpPort: 0 });
  assertEquals(s.monitorUrls, []);
  for (const p of ["varz", "healthz", "connz"]) {
    let failed = false;
    try {
      await (await fetch(`http://127.0.0.1:11245/${p}`)).body?.cancel();
    } catch {
      failed = true;
    }
    assert(failed, `expected an error for /${p}`);
  }
});

Deno.test("TestHTTPBasePath: the index answers at the base path", async () => {
  await using s = await runMonitorServer({ httpBasePath: "/nats" });
  await readBodyEx(`${monitorUrl(s)}/nats`, 200, TEXT_HTML);
  const v = await readJson<Varz>(`${monitorUrl(s)}/nats/varz`);
  assertEquals(v.server_id, s.id);
  await readBodyEx(`${monitorUrl(s)}/varz`, 404, TEXT_PLAIN);
});

Deno.test("TestVarzSubscriptionsResetProperly: subscriptions do not grow between polls", async () => {
  // The Go test makes its subscriptions with JetStream; plain client subscriptions show the same property.
  await using s = await runMonitorServer();
  const nc = await createClientConnSubscribeAndPublish(s);
  nc.subscribe("a.b");
  nc.subscribe("c.>");
  await nc.flush();
  const osubs = (await pollVarz(s, 0)).subscriptions;
  assertEquals(osubs, 2);
  assertEquals((await pollVarz(s, 0)).subscriptions, osubs);
  await nc.close();
});

Deno.test("TestHandleVarz: counters, name, tags and JSONP", async () => {
  await using s = await runMonitorServer();
  await bothModes(async (mode) => {
    const v = await pollVarz(s, mode);
    assert(Date.now() - Date.parse(v.start) < 10 * SEC, "start within 10s");
  });
  await delay(100);
  const nc = await createClientConnSubscribeAndPublish(s);
  await bothModes(async (mode) => {
    const v = await pollVarz(s, mode);
    assertEquals(v.connections, 1);
    assert(v.total_connections >= 1);
    assertEquals(v.in_msgs, 1);
    assertEquals(v.out_msgs, 1);
    assertEquals(v.in_bytes, 5);
    assertEquals(v.out_bytes, 5);
    assertEquals(v.subscriptions, 0);
    assertEquals(v.server_name, "monitor_server");
    assert(v.tags?.includes("tag"), "tags");
  });
  await readBodyEx(`${monitorUrl(s)}/varz?callback=callback`, 200, APP_JS);
  await nc.close();
});

Deno.test("TestConnz: an empty list, then one connection with its details", async () => {
  await using s = await runMonitorServer();
  await bothModes(async (mode) => {
    let c = await pollConz(s, mode, "");
    assertEquals(c.num_connections, 0);
    assertEquals(c.total, 0);
    assertEquals(c.connections, []);
    const nc = await createClientConnSubscribeAndPublish(s);
    await delay(50);
    c = await pollConz(s, mode, "");
    assertEquals(c.num_connections, 1);
    assertEquals(c.total, 1);
    assertEquals(c.connections?.length, 1);
    assertEquals(c.limit, DEFAULT_LIST_SIZE);
    assertEquals(c.offset, 0);
    const ci = c.connections![0];
    assert(ci.cid !== 0);
    assertEquals(ci.ip, "127.0.0.1");
    assert(ci.port !== 0);
    assertEquals(ci.subscriptions, 0);
    assertEquals(ci.subscriptions_list, undefined);
    assertEquals(ci.subscriptions_list_detail, undefined);
    assertEquals(ci.in_msgs, 1);
    assertEquals(ci.out_msgs, 1);
    assertEquals(ci.in_bytes, 5);
    assertEquals(ci.out_bytes, 5);
    assert(ci.start !== "" && ci.uptime !== "" && ci.idle !== "");
    assert(Date.parse(ci.last_activity) >= Date.parse(ci.start));
    assert(ci.rtt !== undefined && ci.rtt !== "", "rtt set after CONNECT");
    await nc.close();
    await checkFor(2000, 10, () => assertEquals(s.clients.size, 0));
  });
  await readBodyEx(`${monitorUrl(s)}/connz?callback=callback`, 200, APP_JS);
});

Deno.test("TestConnzBadParams: bad values answer 400 text/plain", async () => {
  await using s = await runMonitorServer();
  const url = `${monitorUrl(s)}/connz?`;
  for (const q of ["auth=xxx", "subs=xxx", "offset=xxx", "limit=xxx", "state=xxx"]) {
    await readBodyEx(url + q, 400, TEXT_PLAIN);
  }
  assertEquals(
    await readBodyEx(url + "auth=xxx", 400, TEXT_PLAIN),
    `Error decoding boolean for 'auth': strconv.ParseBool: parsing "xxx": invalid syntax`,
  );
  assertEquals(await readBodyEx(url + "state=xxx", 400, TEXT_PLAIN), "Error decoding state for xxx");
});

Deno.test("TestConnzWithSubs: subs=1 lists subjects", async () => {
  await using s = await runMonitorServer();
  const nc = await createClientConnSubscribeAndPublish(s);
  nc.subscribe("hello.foo");
  await nc.flush();
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "?subs=1", { subs: true });
    assertEquals(c.connections![0].subscriptions_list, ["hello.foo"]);
  });
  await nc.close();
});

Deno.test("TestConnzWithSubsDetail: subs=detail lists subscription details", async () => {
  await using s = await runMonitorServer();
  const nc = await createClientConnSubscribeAndPublish(s);
  nc.subscribe("hello.foo");
  await nc.flush();
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "?subs=detail", { subsDetail: true });
    const d = c.connections![0].subscriptions_list_detail!;
    assertEquals(d.length, 1);
    assertEquals(d[0].subject, "hello.foo");
    assertEquals(d[0].account, undefined);
  });
  await nc.close();
});

Deno.test("TestClosedConnzWithSubsDetail: a closed connection keeps its subscriptions", async () => {
  await using s = await runMonitorServer();
  const nc = await createClientConnSubscribeAndPublish(s);
  nc.subscribe("hello.foo");
  await nc.flush();
  await nc.close();
  await checkFor(2000, 20, () => assertEquals(s.clients.size, 0));
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "?state=closed&subs=detail", { state: "closed", subsDetail: true });
    const d = c.connections![0].subscriptions_list_detail!;
    assertEquals(d.length, 1);
    assertEquals(d[0].subject, "hello.foo");
    assertEquals(d[0].account, "$G");
  });
});

Deno.test("TestConnzWithCID: cid selects one connection", async () => {
  await using s = await runMonitorServer();
  const cid = 5;
  const ncs: NatsConnection[] = [];
  for (let i = 1; i <= 10; i++) {
    const nc = await createClientConnSubscribeAndPublish(s);
    ncs.push(nc);
    if (i === cid) {
      nc.subscribe("hello.foo");
      nc.subscribe("hello.bar");
      await nc.flush();
    }
  }
  await bothModes(async (mode) => {
    let c = await pollConz(s, mode, `?cid=${cid}`, { cid });
    assertEquals(c.connections!.length, 1);
    assertEquals(c.num_connections, 1);
    assertEquals(c.connections![0].cid, cid);
    assertEquals(c.connections![0].subscriptions, 2);
    c = await pollConz(s, mode, "?cid=100", { cid: 100 });
    assertEquals(c.connections!.length, 0);
    assertEquals(c.num_connections, 0);
  });
  await closeAll(ncs);
});

Deno.test("TestConnzRTT: a client's RTT parses as a duration", async () => {
  await using s = await runMonitorServer();
  const nc = await createClientConnSubscribeAndPublish(s);
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "");
    const rtt = parseDuration(c.connections![0].rtt!);
    assert(rtt > 0, `rtt ${c.connections![0].rtt}`);
  });
  await nc.close();
});

Deno.test("TestConnzLastActivity: last_activity moves with traffic", async () => {
  await using s = await runMonitorServer();
  const nc = await createClientConnWithName(s, "foo");
  await nc.flush();
  await bothModes(async (mode) => {
    const la0 = Date.parse((await pollConz(s, mode, "")).connections![0].last_activity);
    await delay(20);
    nc.publish("foo", "x");
    await nc.flush();
    const la1 = Date.parse((await pollConz(s, mode, "")).connections![0].last_activity);
    assert(la1 > la0, "publish updates last activity");
    await delay(20);
    nc.subscribe("hello.foo");
    await nc.flush();
    const la2 = Date.parse((await pollConz(s, mode, "")).connections![0].last_activity);
    assert(la2 > la1, "subscribe updates last activity");
  });
  await nc.close();
});

Deno.test("TestConnzWithOffsetAndLimit: paging and its echo", async () => {
  await using s = await runMonitorServer();
  await bothModes(async (mode) => {
    let c = await pollConz(s, mode, "?offset=1&limit=1", { offset: 1, limit: 1 });
    assertEquals(c.connections, []);
    c = await pollConz(s, mode, "?offset=-1&limit=-1", { offset: -11, limit: -11 });
    assertEquals(c.connections, []);
    assertEquals(c.offset, 0);
    assertEquals(c.limit, DEFAULT_LIST_SIZE);
  });
  const ncs = [await createClientConnSubscribeAndPublish(s), await createClientConnSubscribeAndPublish(s)];
  await bothModes(async (mode) => {
    let c = await pollConz(s, mode, "?offset=1&limit=1", { offset: 1, limit: 1 });
    assertEquals([c.limit, c.offset, c.connections!.length, c.num_connections, c.total], [1, 1, 1, 1, 2]);
    c = await pollConz(s, mode, "?offset=2&limit=1", { offset: 2, limit: 1 });
    assertEquals([c.limit, c.offset, c.connections!.length, c.num_connections, c.total], [1, 2, 0, 0, 2]);
  });
  await closeAll(ncs);
});

async function sortedCids(s: TestServer, sort: string, n: number): Promise<void> {
  const ncs: NatsConnection[] = [];
  for (let i = 0; i < n; i++) ncs.push(await createClientConnSubscribeAndPublish(s));
  await bothModes(async (mode) => {
    const q = sort === "" ? "" : `?sort=${sort}`;
    const c = await pollConz(s, mode, q, { sort });
    const cids = c.connections!.map((x) => x.cid);
    assertEquals(cids, [...cids].sort((a, b) => a - b));
    assertEquals(cids.length, n);
  });
  await closeAll(ncs);
}

Deno.test("TestConnzDefaultSorted: ascending cid by default", async () => {
  await using s = await runMonitorServer();
  await sortedCids(s, "", 4);
});

Deno.test("TestConnzSortedByCid: ascending cid", async () => {
  await using s = await runMonitorServer();
  await sortedCids(s, "cid", 4);
});

Deno.test("TestConnzSortedByStart: start sorts as cid", async () => {
  await using s = await runMonitorServer();
  await sortedCids(s, "start", 4);
});

Deno.test("TestConnzSortedByBytesAndMsgs: descending traffic", async () => {
  await using s = await runMonitorServer();
  const ncs: NatsConnection[] = [];
  for (let i = 0; i < 4; i++) ncs.push(await createClientConnSubscribeAndPublish(s));
  // One client publishes much more, and receives it too.
  const busy = ncs[2];
  busy.subscribe("foo");
  for (let i = 0; i < 100; i++) busy.publish("foo", "Hello World");
  await busy.flush();
  const cidOf = async () => (await pollConz(s, 1, "")).connections!.find((c) => c.in_msgs > 50)!.cid;
  const busyCid = await cidOf();
  await bothModes(async (mode) => {
    for (
      const [sort, key] of [["bytes_to", "out_bytes"], ["msgs_to", "out_msgs"], ["bytes_from", "in_bytes"], [
        "msgs_from",
        "in_msgs",
      ]] as const
    ) {
      const c = await pollConz(s, mode, `?sort=${sort}`, { sort });
      assertEquals(c.connections![0].cid, busyCid, sort);
      const vals = c.connections!.map((x) => x[key]);
      assertEquals(vals, [...vals].sort((a, b) => b - a), sort);
    }
  });
  await closeAll(ncs);
});

Deno.test("TestConnzSortedByPending: descending pending bytes", async () => {
  await using s = await runMonitorServer();
  const ncs: NatsConnection[] = [];
  for (let i = 0; i < 4; i++) ncs.push(await createClientConnSubscribeAndPublish(s));
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "?sort=pending", { sort: "pending" });
    const vals = c.connections!.map((x) => x.pending_bytes);
    assertEquals(vals, [...vals].sort((a, b) => b - a));
  });
  await closeAll(ncs);
});

Deno.test("TestConnzSortedBySubs: descending subscription count", async () => {
  await using s = await runMonitorServer();
  const ncs: NatsConnection[] = [];
  for (let i = 0; i < 4; i++) ncs.push(await createClientConnSubscribeAndPublish(s));
  ncs[1].subscribe("hello.world");
  ncs[1].subscribe("hello.mars");
  await ncs[1].flush();
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "?sort=subs", { sort: "subs" });
    assertEquals(c.connections![0].subscriptions, 2);
    const vals = c.connections!.map((x) => x.subscriptions);
    assertEquals(vals, [...vals].sort((a, b) => b - a));
  });
  await closeAll(ncs);
});

Deno.test("TestConnzSortedByLast: most recent activity first", async () => {
  await using s = await runMonitorServer();
  const ncs: NatsConnection[] = [];
  for (let i = 0; i < 4; i++) {
    ncs.push(await createClientConnSubscribeAndPublish(s));
    await delay(5);
  }
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "?sort=last", { sort: "last" });
    const vals = c.connections!.map((x) => Date.parse(x.last_activity));
    assertEquals(vals, [...vals].sort((a, b) => b - a));
  });
  await closeAll(ncs);
});

Deno.test("TestConnzSortedByUptime: longest uptime first", async () => {
  await using s = await runMonitorServer();
  const ncs: NatsConnection[] = [];
  for (let i = 0; i < 4; i++) ncs.push(await createClientConnSubscribeAndPublish(s));
  // Make the uptimes differ by whole seconds, as the Go test does by waiting.
  for (const c of s.clients.values()) (c as { start: Date }).start = new Date(Date.now() - c.cid * 2 * SEC);
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "?sort=uptime", { sort: "uptime" });
    const ups = c.connections!.map((x) => parseDuration(x.uptime));
    assertEquals(ups, [...ups].sort((a, b) => b - a));
  });
  await closeAll(ncs);
});

Deno.test("TestConnzSortedByUptimeClosedConn: closed connections use stop-start", async () => {
  await using s = await runMonitorServer();
  for (let i = 0; i < 4; i++) await (await createClientConnSubscribeAndPublish(s)).close();
  await checkFor(2000, 10, () => assertEquals(s.closedClients.length, 4));
  for (const c of s.closedClients) {
    (c as { start: Date }).start = new Date(c.stop!.getTime() - c.cid * 2 * SEC);
  }
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "?state=closed&sort=uptime", { state: "closed", sort: "uptime" });
    const ups = c.connections!.map((x) => parseDuration(x.uptime));
    assertEquals(ups, [...ups].sort((a, b) => b - a));
    assertEquals(ups.length, 4);
  });
});

Deno.test("TestConnzSortedByStopOnOpen: sort=stop needs state=closed", async () => {
  await using s = await runMonitorServer();
  const nc = await createClientConnSubscribeAndPublish(s);
  assertEquals(
    await readBodyEx(`${monitorUrl(s)}/connz?sort=stop`, 400, TEXT_PLAIN),
    "sort by stop only valid on closed connections",
  );
  let err: unknown;
  try {
    connz(s, { sort: "stop" });
  } catch (e) {
    err = e;
  }
  assert(err instanceof MonitorError);
  await nc.close();
});

Deno.test("TestConnzSortedByStopTimeClosedConn: latest stop first", async () => {
  await using s = await runMonitorServer();
  for (let i = 0; i < 4; i++) {
    await (await createClientConnSubscribeAndPublish(s)).close();
    await checkFor(2000, 5, () => assertEquals(s.closedClients.length, i + 1));
    await delay(5);
  }
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "?state=closed&sort=stop", { state: "closed", sort: "stop" });
    const stops = c.connections!.map((x) => Date.parse(x.stop!));
    assertEquals(stops, [...stops].sort((a, b) => b - a));
  });
});

Deno.test("TestConnzSortedByReason: reasons ascending", async () => {
  await using s = await runMonitorServer();
  for (let i = 0; i < 3; i++) await (await createClientConnSubscribeAndPublish(s)).close();
  // A raw client that breaks the protocol closes with another reason.
  const rc = await RawClient.connect(s.port);
  await rc.send("CONNECT {}\r\nZZZ\r\n");
  await checkFor(2000, 10, () => assertEquals(s.closedClients.length, 4));
  await rc.close();
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "?state=closed&sort=reason", { state: "closed", sort: "reason" });
    const rs = c.connections!.map((x) => x.reason!);
    assertEquals(rs, [...rs].sort());
    assert(new Set(rs).size === 2, `two reasons: ${rs}`);
  });
});

Deno.test("TestConnzSortedByReasonOnOpen: sort=reason needs state=closed", async () => {
  await using s = await runMonitorServer();
  assertEquals(
    await readBodyEx(`${monitorUrl(s)}/connz?sort=reason`, 400, TEXT_PLAIN),
    "sort by reason only valid on closed connections",
  );
});

Deno.test("TestConnzSortedByIdle: most idle first", async () => {
  await using s = await runMonitorServer();
  const first = await createClientConnSubscribeAndPublish(s);
  first.subscribe("client.1");
  await first.flush();
  const second = await createClientConnSubscribeAndPublish(s);
  await second.flush();
  const c2 = clientOf(s, 2);
  (c2 as { start: Date }).start = new Date(c2.start.getTime() - 10 * SEC);
  c2.lastActivity = c2.start.getTime();
  await delay(1000);
  first.publish("client.1", "new message");
  await first.flush();
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "?sort=idle", { sort: "idle" });
    assertEquals(c.connections!.length, 2);
    const i1 = parseDuration(c.connections![0].idle);
    const i2 = parseDuration(c.connections![1].idle);
    assert(i2 <= i1, `descending idle: ${i1} then ${i2}`);
    assertEquals(c.connections![0].cid, 2);
  });
  await closeAll([first, second]);
});

Deno.test("TestConnzSortBadRequest: unknown sort is a 400", async () => {
  await using s = await runMonitorServer();
  assertEquals(
    await readBodyEx(`${monitorUrl(s)}/connz?sort=foo`, 400, TEXT_PLAIN),
    "invalid sorting option: foo",
  );
  let threw = false;
  try {
    connz(s, { sort: "foo" });
  } catch {
    threw = true;
  }
  assert(threw);
});

Deno.test({
  name: "TestConnzWithRoutes: routes do not show in connz",
  ignore: true, // blocked: routes (src/cluster) not implemented
  fn() {},
});

Deno.test("TestRoutezWithBadParams: bad subs value is a 400", async () => {
  await using s = await runMonitorServer();
  await readBodyEx(`${monitorUrl(s)}/routez?subs=xxx`, 400, TEXT_PLAIN);
  const r = await readJson(`${monitorUrl(s)}/routez`);
  assertEquals(r.num_routes, 0);
  assertEquals(r.routes, []);
});

Deno.test("TestSubsz: statistics after one publish", async () => {
  await using s = await runMonitorServer();
  const nc = await createClientConnSubscribeAndPublish(s);
  await bothModes(async (mode) => {
    const sl = await pollSubsz(s, mode, "");
    assertEquals(sl.num_subscriptions, 0);
    assertEquals(sl.num_inserts, 1);
    assertEquals(sl.num_matches, 1);
  });
  await readBodyEx(`${monitorUrl(s)}/subsz?callback=callback`, 200, APP_JS);
  await nc.close();
});

Deno.test("TestSubszDetails: subs=1 lists every subscription", async () => {
  await using s = await runMonitorServer();
  const nc = await createClientConnSubscribeAndPublish(s);
  for (const subj of ["foo.*", "foo.bar", "foo.foo"]) nc.subscribe(subj);
  for (const subj of ["foo.bar", "foo.baz", "foo.foo"]) nc.publish(subj, "Hello");
  await nc.flush();
  await bothModes(async (mode) => {
    const sl = await pollSubsz(s, mode, "?subs=1", { subs: true });
    assertEquals(sl.num_subscriptions, 3);
    assertEquals(sl.total, 3);
    assertEquals(sl.subscriptions_list.length, 3);
  });
  await nc.close();
});

Deno.test("TestSubszWithOffsetAndLimit: a page of 100 from offset 10", async () => {
  await using s = await runMonitorServer();
  const nc = await createClientConnSubscribeAndPublish(s);
  for (let i = 0; i < 200; i++) nc.subscribe(`foo.${i}`);
  await nc.flush();
  await bothModes(async (mode) => {
    const sl = await pollSubsz(s, mode, "?subs=1&offset=10&limit=100", {
      subs: true,
      offset: 10,
      limit: 100,
    });
    assertEquals(sl.num_subscriptions, 200);
    assertEquals(sl.total, 100);
    assertEquals(sl.offset, 10);
    assertEquals(sl.limit, 100);
    assertEquals(sl.subscriptions_list.length, 100);
  });
  await nc.close();
});

Deno.test("TestSubszTestPubSubject: test= keeps the subscriptions a publish would reach", async () => {
  await using s = await runMonitorServer();
  const nc = await createClientConnSubscribeAndPublish(s);
  for (const subj of ["foo.*", "foo.bar", "foo.foo"]) nc.subscribe(subj);
  await nc.flush();
  await bothModes(async (mode) => {
    let sl = await pollSubsz(s, mode, "?subs=1&test=foo.foo", { subs: true, test: "foo.foo" });
    assertEquals(sl.total, 2);
    assertEquals(sl.subscriptions_list.length, 2);
    sl = await pollSubsz(s, mode, "?subs=1&test=foo", { subs: true, test: "foo" });
    assertEquals(sl.subscriptions_list ?? [], []);
  });
  for (const t of ["*", "foo.*", "foo.>", "foo..bar"]) {
    await readBodyEx(`${monitorUrl(s)}/subsz?subs=1&test=${encodeURIComponent(t)}`, 400, TEXT_PLAIN);
  }
  await nc.close();
});

const ACCOUNT_USERS = {
  users: [
    { username: "a", password: "a", account: "A" },
    { username: "b", password: "b", account: "B" },
  ],
};

Deno.test("TestSubszMultiAccount: subscriptions of every account, with their account", async () => {
  await using s = await runMonitorServer(ACCOUNT_USERS);
  const ncA = await createClientConnSubscribeAndPublish(s, { user: "a", pass: "a" });
  const ncB = await createClientConnSubscribeAndPublish(s, { user: "b", pass: "b" });
  for (const nc of [ncA, ncB]) {
    for (const subj of ["foo.*", "foo.bar", "foo.foo"]) nc.subscribe(subj);
    nc.publish("foo.bar", "Hello");
    nc.publish("foo.baz", "Hello");
    nc.publish("foo.foo", "Hello");
    await nc.flush();
  }
  await bothModes(async (mode) => {
    const sl = await pollSubsz(s, mode, "?subs=1", { subs: true });
    assertEquals(sl.num_subscriptions, 6);
    assertEquals(sl.total, 6);
    const accs = new Set(sl.subscriptions_list.map((d: { account: string }) => d.account));
    assertEquals([...accs].sort(), ["A", "B"]);
    const a = await pollSubsz(s, mode, "?subs=1&acc=A", { subs: true, acc: "A" });
    assertEquals(a.num_subscriptions, 3);
    assertEquals(a.subscriptions_list.length, 3);
  });
  await closeAll([ncA, ncB]);
});

Deno.test("TestSubszMultiAccountWithOffsetAndLimit: paging across accounts", async () => {
  await using s = await runMonitorServer(ACCOUNT_USERS);
  const ncA = await createClientConnSubscribeAndPublish(s, { user: "a", pass: "a" });
  const ncB = await createClientConnSubscribeAndPublish(s, { user: "b", pass: "b" });
  for (const nc of [ncA, ncB]) {
    for (let i = 0; i < 200; i++) nc.subscribe(`foo.${i}`);
    await nc.flush();
  }
  await bothModes(async (mode) => {
    const sl = await pollSubsz(s, mode, "?subs=1&offset=10&limit=100", {
      subs: true,
      offset: 10,
      limit: 100,
    });
    assertEquals(sl.num_subscriptions, 400);
    assertEquals(sl.total, 100);
    assertEquals(sl.offset, 10);
    assertEquals(sl.limit, 100);
    assertEquals(sl.subscriptions_list.length, 100);
  });
  await closeAll([ncA, ncB]);
});

Deno.test("TestHandleRoot: an ASCII HTML index", async () => {
  await using s = await runMonitorServer();
  const nc = await createClientConnSubscribeAndPublish(s);
  const r = await fetch(`${monitorUrl(s)}/`);
  assertEquals(r.status, 200);
  const body = new Uint8Array(await r.arrayBuffer());
  assert(body.every((b) => b <= 0x7f), "ASCII only");
  assertStringIncludes(r.headers.get("content-type") ?? "", "text/html");
  assertStringIncludes(new TextDecoder().decode(body), "href=./varz");
  await nc.close();
});

Deno.test("TestConnzWithNamedClient: the CONNECT name shows", async () => {
  await using s = await runMonitorServer();
  const nc = await createClientConnWithName(s, "test-client");
  await nc.flush();
  await bothModes(async (mode) => {
    const c = await pollConz(s, mode, "");
    assertEquals(c.connections!.length, 1);
    assertEquals(c.connections![0].name, "test-client");
  });
  await nc.close();
});

Deno.test("TestConnzWithStateForClosedConns: open, closed and all", async () => {
  await using s = await runMonitorServer();
  const open: NatsConnection[] = [];
  for (let i = 0; i < 10; i++) {
    const closed = await createClientConnSubscribeAndPublish(s);
    closed.subscribe("hello.closed.conns");
    await closed.close();
    const nc = await createClientConnSubscribeAndPublish(s);
    nc.subscribe("hello.open.conns");
    open.push(nc);
  }
  await bothModes(async (mode) => {
    await checkFor(2000, 10, async () => {
      assertEquals((await pollConz(s, mode, "?state=open", { state: "open" })).connections!.length, 10);
      assertEquals((await pollConz(s, mode, "?state=closed", { state: "closed" })).connections!.length, 10);
      assertEquals((await pollConz(s, mode, "?state=ALL", { state: "all" })).connections!.length, 20);
      assertEquals(
        (await pollConz(s, mode, "?cid=1&state=open", { cid: 1, state: "open" })).connections!.length,
        0,
      );
      assertEquals(
        (await pollConz(s, mode, "?cid=1&state=closed", { cid: 1, state: "closed" })).connections!.length,
        1,
      );
      assertEquals(
        (await pollConz(s, mode, "?cid=1&state=ALL", { cid: 1, state: "all" })).connections!.length,
        1,
      );
      const c = await pollConz(s, mode, "?cid=1&state=closed", { cid: 1, state: "closed" });
      assertEquals(c.connections![0].reason, "Client Closed");
    });
  });
  await closeAll(open);
});

Deno.test("TestConnzClosedConnsRace: concurrent reads of closed connections", async () => {
  await using s = await runMonitorServer();
  for (let i = 0; i < 100; i++) await (await createClientConnSubscribeAndPublish(s)).close();
  await checkFor(2000, 10, () => assertEquals(s.closedClients.length, 100));
  const reads = Array.from({ length: 10 }, () => readJson<Connz>(`${monitorUrl(s)}/connz?state=closed`));
  for (const c of await Promise.all(reads)) assertEquals(c.connections!.length, 100);
});

Deno.test("TestConnzClosedConnsBadClient: a client that never spoke has sane times", async () => {
  await using s = await runMonitorServer();
  const rc = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  rc.close();
  await checkFor(2000, 10, () => assertEquals(s.closedClients.length, 1));
  const c = connz(s, { state: "closed" });
  assertEquals(c.connections!.length, 1);
  const ci = c.connections![0];
  const uptime = Date.parse(ci.stop!) - Date.parse(ci.start);
  assert(parseDuration(ci.idle) <= uptime + 1000, "idle <= uptime");
  assert(ci.last_activity !== "");
});

const CERTS = new URL("../configs/certs/", import.meta.url).pathname;
/** The monitor tests' TLS block: server.pem/key.pem in the reference, the test server pair here. */
const MONITOR_TLS = {
  certFile: `${CERTS}server-cert.pem`,
  keyFile: `${CERTS}server-key.pem`,
  timeoutMs: 1_500,
};

Deno.test("TestConnzClosedConnsBadTLSClient: a plain client on a TLS port", async () => {
  await using s = await runMonitorServer({ tls: MONITOR_TLS });
  const rc = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await rc.write(new TextEncoder().encode("CONNECT {}\r\n"));
  rc.close();
  await checkFor(2000, 10, () => assertEquals(s.closedClients.length, 1));
  const c = connz(s, { state: "closed" });
  assertEquals(c.connections!.length, 1);
  const ci = c.connections![0];
  const uptime = Date.parse(ci.stop!) - Date.parse(ci.start);
  assert(parseDuration(ci.idle) <= uptime + 1000, "idle <= uptime");
  assert(ci.last_activity !== "");
});

Deno.test({
  name: "TestStacksz: goroutine dump",
  ignore: true, // blocked: Go goroutine stacks have no Deno equivalent; /stacksz answers a fixed text
  fn() {},
});

Deno.test("TestConcurrentMonitoring: parallel requests to every endpoint", async () => {
  await using s = await runMonitorServer();
  const eps = ["varz", "varz", "connz", "connz", "subsz", "subsz", "routez", "routez", "accountz", "healthz"];
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < 10; i++) for (const e of eps) all.push(readJson(`${monitorUrl(s)}/${e}`));
  await Promise.all(all);
});

Deno.test({
  name: "TestMonitorHandler: HTTPHandler is set while running",
  ignore: true, // blocked: nats-server's embeddable http.Handler API has no natsdeno counterpart yet
  fn() {},
});

Deno.test({
  name: "TestMonitorRoutezRace: routez while routes come and go",
  ignore: true, // blocked: routes (src/cluster) not implemented
  fn() {},
});

Deno.test("TestConnzTLSInHandshake: a client in TLS handshake is listed at once, without TLS fields", async () => {
  await using s = await runMonitorServer({ tls: MONITOR_TLS });
  // A bare TCP connection that never starts its handshake.
  const c = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  try {
    await checkFor(2000, 10, () => assertEquals(s.clients.size, 1));
    const start = Date.now();
    await bothModes(async (mode) => {
      const cz = await pollConz(s, mode, "");
      assert(Date.now() - start < 1500, "connz blocked on the handshake");
      assertEquals(cz.connections!.length, 1);
      const ci = cz.connections![0];
      assertEquals([ci.tls_version, ci.tls_cipher_suite], [undefined, undefined]);
    });
  } finally {
    c.close();
  }
});

Deno.test({
  name: "TestConnzTLSCfg: TLS settings in varz blocks",
  // blocked: the test checks tls_verify/tls_required/tls_timeout of the cluster, gateway and leafnode
  // blocks too; natsdeno has no TLS settings for routes and no gateways or leaf nodes yet.
  ignore: true,
  fn() {},
});

Deno.test("TestConnzTLSPeerCerts: peer certificate details only with auth", async () => {
  await using s = await runMonitorServer({
    tls: {
      certFile: `${CERTS}server-cert.pem`,
      keyFile: `${CERTS}server-key.pem`,
      caFile: `${CERTS}ca.pem`,
      verify: true,
      timeoutMs: 2_000,
    },
  });
  const nc = await connect({
    servers: `127.0.0.1:${s.port}`,
    tls: { caFile: `${CERTS}ca.pem`, certFile: `${CERTS}client-cert.pem`, keyFile: `${CERTS}client-key.pem` },
  });
  try {
    await bothModes(async (mode) => {
      // Without "auth", no details.
      let cz = await pollConz(s, mode, "");
      assertEquals(cz.connections!.length, 1);
      assertEquals(cz.connections![0].tls_peer_certs, undefined);
      cz = await pollConz(s, mode, "?auth=1", { auth: true });
      assertEquals(cz.connections!.length, 1);
      const pc = cz.connections![0].tls_peer_certs;
      assert(pc !== undefined, "expected tls_peer_certs");
      assertEquals(pc.length, 1);
      // The client certificate's subject as Go prints it (the reference's cert reads
      // CN=localhost,OU=nats.io,O=Synadia,ST=California,C=US).
      assertEquals(pc[0].subject, "CN=localhost,OU=NATS.io,O=natsdeno");
      assertMatch(pc[0].spki_sha256!, /^[0-9a-f]{64}$/);
      assertMatch(pc[0].cert_sha256!, /^[0-9a-f]{64}$/);
    });
  } finally {
    await nc.close();
  }
});

Deno.test("TestServerIDs: varz and connz report the server's id", async () => {
  await using s = await runMonitorServer();
  await bothModes(async (mode) => {
    const v = await pollVarz(s, mode);
    const c = await pollConz(s, mode, "");
    assertEquals(v.server_id, s.id);
    assertEquals(c.server_id, s.id);
  });
});

Deno.test("TestHttpStatsNoUpdatedWhenUsingServerFuncs: builders do not count as requests", async () => {
  await using s = await runMonitorServer();
  for (let i = 0; i < 10; i++) {
    varz(s);
    connz(s);
    subsz(s);
    accountz(s);
  }
  const v = varz(s);
  assertEquals(v.http_req_stats, {});
  await readJson(`${monitorUrl(s)}/varz`);
  await readJson(`${monitorUrl(s)}/connz`);
  assertEquals(varz(s).http_req_stats, { "/connz": 1, "/varz": 1 });
});

Deno.test("TestClusterEmptyWhenNotDefined: the cluster block is empty", async () => {
  await using s = await runMonitorServer();
  const body = await readBodyEx(`${monitorUrl(s)}/varz`, 200, "application/json");
  assertStringIncludes(body, `"cluster": {},`);
  assertEquals(JSON.parse(body).cluster, {});
});

Deno.test({
  name: "TestRoutezPermissions: route import/export permissions",
  ignore: true, // blocked: routes (src/cluster) not implemented
  fn() {},
});

Deno.test("TestVarzRaces: concurrent /varz reads while clients come and go", async () => {
  await using s = await runMonitorServer();
  const reads: Promise<unknown>[] = [];
  const ncs: NatsConnection[] = [];
  for (let i = 0; i < 5; i++) {
    reads.push(readJson(`${monitorUrl(s)}/varz`));
    ncs.push(await createClientConnSubscribeAndPublish(s));
    varz(s);
  }
  await Promise.all(reads);
  await closeAll(ncs);
});

for (
  const [name, why] of [
    ["TestMonitorCluster: cluster block of varz", "routes (src/cluster) not implemented"],
    ["TestMonitorClusterURLs: cluster URLs in varz", "routes (src/cluster) not implemented"],
    ["TestMonitorGateway: gateway block of varz", "gateways not implemented"],
    ["TestMonitorGatewayURLsUpdated: gateway URLs follow discovery", "gateways not implemented"],
    ["TestMonitorGatewayReportItsOwnURLs: own gateway URLs", "gateways not implemented"],
    ["TestMonitorLeafNode: leaf block of varz", "leaf nodes not implemented"],
    ["TestMonitorGatewayz: gatewayz with gateways", "gateways not implemented"],
    ["TestMonitorGatewayzAccounts: gatewayz accounts", "gateways not implemented"],
    ["TestMonitorRouteRTT: route RTT", "routes (src/cluster) not implemented"],
    ["TestMonitorOpJWT: trusted operators in varz", "operator JWT mode not implemented"],
    ["TestMonitorLeafz: leafz with leaf nodes", "leaf nodes not implemented"],
  ]
) {
  Deno.test({ name, ignore: true, fn() {} }); // blocked: see `why`
  void why;
}

Deno.test("TestMonitorAccountz: account list, detail and account stats", async () => {
  await using s = await runMonitorServer({ noSystemAccount: false });
  let body = await readBodyEx(`${monitorUrl(s)}/accountz`, 200, "application/json");
  assertStringIncludes(body, "$G");
  assertStringIncludes(body, "$SYS");
  assertStringIncludes(body, `"accounts": [`);
  assertStringIncludes(body, `"system_account": "$SYS"`);
  body = await readBodyEx(`${monitorUrl(s)}/accountz?acc=$SYS`, 200, "application/json");
  assertStringIncludes(body, `"account_detail": {`);
  assertStringIncludes(body, `"account_name": "$SYS",`);
  // nats-server has 40 internal subscriptions here; natsdeno's system services are not in yet.
  assertStringIncludes(body, `"subscriptions": `);
  assertStringIncludes(body, `"is_system": true,`);
  assertStringIncludes(body, `"system_account": "$SYS"`);
  body = await readBodyEx(`${monitorUrl(s)}/accstatz?unused=1`, 200, "application/json");
  for (
    const part of [
      `"acc": "$G"`,
      `"acc": "$SYS"`,
      `"sent": {`,
      `"received": {`,
      `"total_conns": 0,`,
      `"leafnodes": 0,`,
    ]
  ) assertStringIncludes(body, part);
  assertEquals(
    await readBodyEx(`${monitorUrl(s)}/accountz?acc=nope`, 400, TEXT_PLAIN),
    "Account nope does not exist",
  );
});

Deno.test("TestMonitorAuthorizedUsers: authorized_user for user, nkey and token", async (t) => {
  const { createUser } = await import("@nats-io/nkeys");
  const kp = createUser();
  const pub = kp.getPublicKey();
  const check = async (s: TestServer, expected: string) => {
    await bothModes(async (mode) => {
      const c = await pollConz(s, mode, "?auth=true", { auth: true });
      assertEquals(c.connections!.length, 1);
      assertEquals(c.connections![0].authorized_user, expected);
    });
  };
  await t.step("user and nkey", async () => {
    await using s = await runMonitorServer({
      nkeys: [{ nkey: pub }],
      users: [{ username: "user", password: "pwd" }],
    });
    const { connect, nkeyAuthenticator } = await import("@nats-io/transport-node");
    let nc = await connect({ servers: `127.0.0.1:${s.port}`, user: "user", pass: "pwd" });
    await check(s, "user");
    await nc.close();
    await checkFor(2000, 10, () => assertEquals(s.clients.size, 0));
    nc = await connect({ servers: `127.0.0.1:${s.port}`, authenticator: nkeyAuthenticator(kp.getSeed()) });
    await check(s, pub);
    await nc.close();
  });
  await t.step("token", async () => {
    await using s = await runMonitorServer({ authorization: "sometoken" });
    const { connect } = await import("@nats-io/transport-node");
    const nc = await connect({ servers: `127.0.0.1:${s.port}`, token: "sometoken" });
    await check(s, "sometoken");
    await nc.close();
  });
  // blocked: the JWT part of the Go test needs operator mode, not implemented.
});

Deno.test("TestMonitorJszNonJszServer: disabled, and leader-only is filtered", async () => {
  await using s = await runServer();
  const jsi = jsz(s, {});
  assertEquals(jsi.server_id, s.id);
  assertEquals(jsi.disabled, true);
  let err: unknown;
  try {
    jsz(s, { leaderOnly: true });
  } catch (e) {
    err = e;
  }
  assert(err instanceof MonitorError && err.message === "filtered response: not leader");
});

Deno.test("TestMonitorReloadTLSConfig: https monitor picks up a reloaded certificate", async () => {
  const { createConfFile, runServerWithConfig, reloadServer } = await import("../server/_util.ts");
  const certs = new URL("../configs/certs/", import.meta.url).pathname;
  const template = (cert: string, key: string) => `
    listen: "127.0.0.1:-1"
    https: "127.0.0.1:-1"
    tls {
      cert_file: '${certs}${cert}'
      key_file: '${certs}${key}'
      ca_file: '${certs}ca.pem'
      # Must not affect secure monitoring.
      verify_and_map: true
    }
  `;
  const conf = await createConfFile(template("server-noip-cert.pem", "server-noip-key.pem"));
  await using s = await runServerWithConfig(conf);
  const port = Number(new URL(s.monitorUrls[0]).port);
  const caCerts = [await Deno.readTextFile(`${certs}ca.pem`)];
  const handshake = async () => {
    const c = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts });
    try {
      await c.handshake();
    } finally {
      c.close();
    }
  };
  // The certificate has no IP SAN: a client dialing 127.0.0.1 refuses it.
  let err: unknown;
  try {
    await handshake();
  } catch (e) {
    err = e;
  }
  assert(err !== undefined, "expected a certificate error");
  await Deno.writeTextFile(conf, template("server-cert.pem", "server-key.pem"));
  reloadServer(s);
  // The https listener restarts on the same port with the new certificate.
  await checkFor(2000, 20, async () => {
    await handshake();
  });
  assertEquals(Number(new URL(s.monitorUrls[0]).port), port);
});

for (
  const [name, why] of [
    ["TestMonitorJsz: jsz with JetStream", "JetStream not implemented"],
    ["TestMonitorMQTT: mqtt block of varz", "MQTT not implemented"],
    ["TestMonitorWebsocket: websocket block of varz", "WebSocket not implemented"],
  ]
) {
  Deno.test({ name, ignore: true, fn() {} }); // blocked: see `why`
  void why;
}
