// Port of nats-server test/service_latency_test.go (single-server parts). Latency metrics of tracked
// service exports: io.nats.server.metric.v1.service_latency JSON on the export's results subject.
import { assert, assertEquals } from "@std/assert";
import { connect, headers, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { checkFor, delay } from "../_helpers/server.ts";
import { createConfFile, runServerWithConfig } from "./_util.ts";

function ignored(name: string, reason: string): void {
  Deno.test({ name: `${name}: ${reason}`, ignore: true, fn: () => {} });
}

const SUPERCLUSTER = "blocked: needs a supercluster (routes and gateways, src/cluster)";

// deno-lint-ignore no-explicit-any
type Metric = any;

/** Collects metrics published on `subject`. */
function metrics(nc: NatsConnection, subject: string): { list: Metric[]; sub: Subscription } {
  const list: Metric[] = [];
  const sub = nc.subscribe(subject, { callback: (_e, m) => void list.push(m.json()) });
  return { list, sub };
}

async function nextMetric(list: Metric[], i: number): Promise<Metric> {
  await checkFor(1000, 5, () => assert(list.length > i, `metric ${i} not received`));
  return list[i];
}

ignored("TestServiceLatencySingleServerConnect", SUPERCLUSTER);
ignored("TestServiceLatencyClientRTTSlowerVsServiceRTT", SUPERCLUSTER);
ignored("TestServiceLatencyRemoteConnect", SUPERCLUSTER);
ignored("TestServiceLatencySampling", SUPERCLUSTER);
ignored("TestServiceLatencyNoSubsLeak", SUPERCLUSTER);
ignored("TestServiceLatencyWithName", SUPERCLUSTER);
ignored("TestServiceLatencyWithNameMultiServer", SUPERCLUSTER);
ignored("TestServiceLatencyWithJWT", "blocked: operator mode (JWT accounts) is another issue");
ignored("TestServiceLatencyAdjustNegativeLatencyValues", SUPERCLUSTER);
ignored("TestServiceLatencyRemoteConnectAdjustNegativeValues", SUPERCLUSTER);

Deno.test("TestServiceLatencyFailureReportingSingleServer: 400, 503, 504 and 408 metrics", async () => {
  // The supercluster of the Go test has one server here; the accounts are those of setupLatencyTracking.
  await using s = await runServerWithConfig(
    await createConfFile(`
      listen: 127.0.0.1:-1
      accounts: {
        FOO: { users: [ {user: foo, password: pass} ], exports: [ {service: "ngs.usage.*", latency: {sampling: 100%, subject: results}, threshold: "20ms"} ] }
        BAR: { users: [ {user: bar, password: pass} ], imports: [ {service: {account: FOO, subject: "ngs.usage.bar"}, to: "ngs.usage"} ] }
      }`),
  );
  const nc = await connect({ servers: s.clientUrl(), user: "foo", pass: "pass" });
  const { list } = metrics(nc, "results");
  await nc.flush();
  const nc2 = await connect({ servers: s.clientUrl(), user: "bar", pass: "pass" });
  // No reply subject.
  nc2.publish("ngs.usage", "1h");
  assertEquals((await nextMetric(list, 0)).status, 400);
  // No responders.
  await nc2.request("ngs.usage", "1h", { timeout: 20 }).catch(() => {});
  const m1 = await nextMetric(list, 1);
  assertEquals([m1.status, m1.description], [503, "Service Unavailable"]);
  // Slower than the 20ms threshold.
  const slow = nc.subscribe("ngs.usage.bar", {
    callback: (_e, m) => void delay(40).then(() => m.respond("22 msgs")),
  });
  await nc.flush();
  await nc2.request("ngs.usage", "1h", { timeout: 20 }).catch(() => {});
  const m2 = await nextMetric(list, 2);
  assertEquals([m2.status, m2.description], [504, "Service Timeout"]);
  await delay(50);
  assertEquals(list.length, 3, "no duplicate metric");
  slow.unsubscribe();
  nc.subscribe("ngs.usage.bar", { callback: (_e, m) => void delay(5).then(() => m.respond("22 msgs")) });
  await nc.flush();
  await delay(100);
  // The requestor goes away before the answer: 408.
  const nc3 = await connect({ servers: s.clientUrl(), user: "bar", pass: "pass" });
  await nc3.request("ngs.usage", "1h", { timeout: 1, noMux: true }).catch(() => {});
  const m3 = await nextMetric(list, 3);
  assertEquals([m3.status, m3.description], [408, "Request Timeout"]);
  await nc.close();
  await nc2.close();
  await nc3.close();
});

ignored("TestServiceLatencyFailureReportingMultipleServers", SUPERCLUSTER);

Deno.test("TestServiceLatencyOldRequestStyleSingleServer: a metric per request, responder detailed", async () => {
  await using srv = await runServerWithConfig(
    await createConfFile(`
      listen: 127.0.0.1:-1
      accounts: {
        SVC: {
          users: [ {user: svc, password: pass} ]
          exports: [ { service: "svc.echo", accounts: [CLIENT], latency: { sampling: 100%, subject: latency.svc } } ]
        },
        CLIENT: { users: [{user: client, password: pass} ], imports: [ {service: {account: SVC, subject: svc.echo}, to: SVC} ] },
        SYS: { users: [{user: admin, password: pass}] }
      }
      system_account: SYS`),
  );
  const nc = await connect({ servers: srv.clientUrl(), user: "svc", pass: "pass" });
  const { list } = metrics(nc, "latency.svc");
  const serviceTime = 25;
  nc.subscribe("svc.echo", { callback: (_e, m) => void delay(serviceTime).then(() => m.respond("world")) });
  await nc.flush();
  const nc2 = await connect({ servers: srv.clientUrl(), user: "client", pass: "pass" });
  const start = Date.now();
  assertEquals((await nc2.request("SVC", "1h", { timeout: 1000, noMux: true })).string(), "world");
  const sl = await nextMetric(list, 0);
  assertEquals(sl.type, "io.nats.server.metric.v1.service_latency");
  assertEquals(sl.status, 200);
  // checkServiceLatency: service time at least the responder's sleep, total at least the service time. The
  // service time excludes the responder's RTT, which is estimated at CONNECT; a JS client takes milliseconds to
  // send CONNECT (Go's takes microseconds), so the RTT is added back before comparing with the sleep.
  const rtt = (sl.responder as { rtt?: number }).rtt ?? 0;
  assert(sl.service + rtt >= serviceTime * 1e6 * 0.9, `service ${sl.service} rtt ${rtt}`);
  assert(sl.total >= sl.service, `total ${sl.total} < service ${sl.service}`);
  assert(Math.abs(Date.parse(sl.start) - start) < 1000, sl.start);
  // extendedCheck on the responder; noShareCheck on the requestor.
  assertEquals([sl.responder.acc, sl.responder.user, sl.responder.server], ["SVC", "svc", srv.name]);
  assertEquals(sl.requestor.acc, "CLIENT");
  assertEquals(sl.requestor.user, undefined);
  assertEquals(sl.requestor.host, undefined);
  await nc.close();
  await nc2.close();
});

ignored("TestServiceAndStreamStackOverflow", "not ported yet: TODO(accounts) import chains via the Go API");
ignored("TestServiceLatencyRequestorSharesDetailedInfo", SUPERCLUSTER);

Deno.test("TestServiceLatencyRequestorSharesConfig: share: true gives the requestor's details", async () => {
  await using srv = await runServerWithConfig(
    await createConfFile(`
      listen: 127.0.0.1:-1
      accounts: {
        SVC: {
          users: [ {user: svc, password: pass} ]
          exports: [ { service: "svc.echo", accounts: [CLIENT], latency: { sampling: 100%, subject: latency.svc } } ]
        },
        CLIENT: { users: [{user: client, password: pass} ], imports: [ {service: {account: SVC, subject: svc.echo}, to: SVC, share:true} ] },
        SYS: { users: [{user: admin, password: pass}] }
      }
      system_account: SYS`),
  );
  const nc = await connect({ servers: srv.clientUrl(), user: "svc", pass: "pass" });
  const { list } = metrics(nc, "latency.svc");
  nc.subscribe("svc.echo", { callback: (_e, m) => void m.respond("world") });
  await nc.flush();
  const nc2 = await connect({ servers: srv.clientUrl(), user: "client", pass: "pass", name: "requestor" });
  await nc2.request("SVC", "1h", { timeout: 1000 });
  const sl = await nextMetric(list, 0);
  assertEquals([sl.requestor.acc, sl.requestor.user, sl.requestor.name], ["CLIENT", "client", "requestor"]);
  assertEquals(sl.requestor.server, srv.name);
  await nc.close();
  await nc2.close();
});

ignored(
  "TestServiceLatencyLossTest",
  "not ported yet: TODO(accounts) needs the Go test's lossy responder timing",
);

Deno.test("TestServiceLatencyHeaderTriggered: sampling 'headers' measures only traced requests", async () => {
  await using srv = await runServerWithConfig(
    await createConfFile(`
      listen: 127.0.0.1:-1
      accounts: {
        SVC: {
          users: [ {user: svc, password: pass} ]
          exports: [ { service: "svc.echo", accounts: [CLIENT], latency: { sampling: headers, subject: latency.svc } } ]
        },
        CLIENT: { users: [{user: client, password: pass} ], imports: [ {service: {account: SVC, subject: svc.echo}, to: SVC} ] },
      }`),
  );
  const nc = await connect({ servers: srv.clientUrl(), user: "svc", pass: "pass" });
  const { list } = metrics(nc, "latency.svc");
  nc.subscribe("svc.echo", { callback: (_e, m) => void m.respond("world") });
  await nc.flush();
  const nc2 = await connect({ servers: srv.clientUrl(), user: "client", pass: "pass" });
  // Without a trace header: no metric.
  await nc2.request("SVC", "1h", { timeout: 1000 });
  await delay(50);
  assertEquals(list.length, 0);
  const cases: [string, string, boolean][] = [
    ["X-B3-Sampled", "1", true],
    ["X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7", true],
    ["X-B3-Sampled", "0", false],
    ["B3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90", true],
    ["B3", "0", false],
    ["Uber-Trace-Id", "479fefe9525eddb:5adb976bfc1f95c1:479fefe9525eddb:1", true],
    ["Uber-Trace-Id", "479fefe9525eddb:5adb976bfc1f95c1:479fefe9525eddb:0", false],
    ["Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true],
    ["Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", false],
  ];
  for (const [k, v, sampled] of cases) {
    const before = list.length;
    const h = headers();
    h.set(k, v);
    await nc2.request("SVC", "1h", { timeout: 1000, headers: h });
    await delay(30);
    assertEquals(list.length - before, sampled ? 1 : 0, `${k}: ${v}`);
    if (sampled) assertEquals(list[list.length - 1].header?.[k], [v], `${k} header in the metric`);
  }
  await nc.close();
  await nc2.close();
});

ignored(
  "TestServiceLatencyMissingResults",
  "not ported yet: TODO(accounts) depends on Go's remote measurement merge",
);
ignored("TestServiceLatencyDoubleResponse", SUPERCLUSTER);
