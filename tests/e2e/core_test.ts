// End-to-end tests of the core server through the official NATS client (@nats-io/transport-node).

import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { assert, assertEquals, assertRejects } from "@std/assert";
import { runServer } from "../_helpers/server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function client(port: number, opts: Record<string, unknown> = {}): Promise<NatsConnection> {
  return await connect({ servers: `127.0.0.1:${port}`, ...opts });
}

Deno.test("e2e: publish and subscribe deliver the payload", async () => {
  await using s = await runServer();
  const nc = await client(s.port);
  const sub = nc.subscribe("greet.*", { max: 2 });
  nc.publish("greet.a", enc.encode("hello"));
  nc.publish("greet.b", enc.encode("world"));
  const got: string[] = [];
  for await (const m of sub) got.push(`${m.subject}:${dec.decode(m.data)}`);
  assertEquals(got, ["greet.a:hello", "greet.b:world"]);
  await nc.close();
});

Deno.test("e2e: a queue group gets each message once", async () => {
  await using s = await runServer();
  const nc = await client(s.port);
  const counts = [0, 0, 0];
  const subs = counts.map((_, i) => nc.subscribe("work", { queue: "q", callback: () => void counts[i]++ }));
  const plain = nc.subscribe("work");
  let plainCount = 0;
  (async () => {
    for await (const _ of plain) plainCount++;
  })();
  await nc.flush();
  for (let i = 0; i < 300; i++) nc.publish("work");
  await nc.flush();
  await new Promise((r) => setTimeout(r, 100));
  assertEquals(counts.reduce((a, b) => a + b, 0), 300);
  assert(counts.every((c) => c > 0), `every member should get some: ${counts}`);
  assertEquals(plainCount, 300);
  subs.forEach((x) => x.unsubscribe());
  await nc.close();
});

Deno.test("e2e: request/reply round trip", async () => {
  await using s = await runServer();
  const nc = await client(s.port);
  nc.subscribe("svc.echo", { callback: (_e, m) => void m.respond(enc.encode("re:" + dec.decode(m.data))) });
  for (let i = 0; i < 20; i++) {
    const r = await nc.request("svc.echo", enc.encode(`${i}`), { timeout: 1000 });
    assertEquals(dec.decode(r.data), `re:${i}`);
  }
  await nc.close();
});

Deno.test("e2e: headers travel with the message", async () => {
  await using s = await runServer();
  const nc = await client(s.port);
  const sub = nc.subscribe("h", { max: 1 });
  const h = headers();
  h.set("X-Test", "one");
  h.append("X-Test", "two");
  nc.publish("h", enc.encode("body"), { headers: h });
  for await (const m of sub) {
    assertEquals(m.headers?.values("X-Test"), ["one", "two"]);
    assertEquals(dec.decode(m.data), "body");
  }
  await nc.close();
});

Deno.test("e2e: a request with no responders fails fast with 503", async () => {
  await using s = await runServer();
  const nc = await client(s.port);
  const t0 = Date.now();
  const err = await assertRejects(() => nc.request("nobody.home", undefined, { timeout: 5000 }));
  assert(Date.now() - t0 < 2000, "no-responders must not wait for the timeout");
  assert(
    /503|no responders/i.test(String(err.message) + String((err as { code?: string }).code)),
    err.message,
  );
  await nc.close();
});

Deno.test("e2e: drain delivers what is in flight, then closes", async () => {
  await using s = await runServer();
  const nc = await client(s.port);
  const pub = await client(s.port);
  let n = 0;
  nc.subscribe("d", { callback: () => void n++ });
  await nc.flush();
  for (let i = 0; i < 1000; i++) pub.publish("d");
  await pub.flush();
  await nc.drain();
  assertEquals(n, 1000);
  assert(nc.isClosed());
  await pub.close();
});

Deno.test("e2e: the client reconnects after a server restart on the same port", async () => {
  const s1 = await runServer();
  const port = s1.port;
  const nc = await client(port, { reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  let got = 0;
  nc.subscribe("after", { callback: () => void got++ });
  await nc.flush();
  await s1.shutdown();
  await using _s2 = await runServer({ port });
  // The subscription is replayed on reconnect; publish until it arrives.
  const end = Date.now() + 5000;
  while (got === 0 && Date.now() < end) {
    try {
      nc.publish("after");
      await nc.flush();
    } catch {
      // Not reconnected yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert(got > 0, "message after reconnect");
  await nc.close();
});

Deno.test("e2e: echo off keeps a client's own messages away from it", async () => {
  await using s = await runServer();
  const nc = await client(s.port, { noEcho: true });
  const other = await client(s.port);
  let own = 0;
  let theirs = 0;
  nc.subscribe("e", { callback: () => void own++ });
  other.subscribe("e", { callback: () => void theirs++ });
  await nc.flush();
  await other.flush();
  nc.publish("e");
  await nc.flush();
  await new Promise((r) => setTimeout(r, 50));
  assertEquals(own, 0);
  assertEquals(theirs, 1);
  await nc.close();
  await other.close();
});

Deno.test("e2e: a payload over max_payload is refused by the client from INFO", async () => {
  await using s = await runServer({ maxPayload: 1024 });
  const nc = await client(s.port);
  assertEquals(nc.info?.max_payload, 1024);
  let threw = false;
  try {
    nc.publish("big", new Uint8Array(2048));
  } catch {
    threw = true;
  }
  assert(threw, "client should refuse to publish over max_payload");
  await nc.close();
});

Deno.test("e2e: large messages (1 MB) arrive intact", async () => {
  await using s = await runServer();
  const nc = await client(s.port);
  const big = new Uint8Array(1024 * 1024 - 100);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const sub = nc.subscribe("big", { max: 3 });
  for (let i = 0; i < 3; i++) nc.publish("big", big);
  let n = 0;
  for await (const m of sub) {
    assertEquals(m.data.length, big.length);
    assertEquals(m.data[12345], big[12345]);
    n++;
  }
  assertEquals(n, 3);
  await nc.close();
});
