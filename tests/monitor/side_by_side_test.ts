// Side by side with the reference: nats-server (when on PATH) and natsdeno with the same settings and the
// same client, comparing the JSON shape (keys, their order and value types) of the monitoring endpoints.

import { assertEquals } from "@std/assert";
import { freePort, natsServerPath, runRefServer } from "../_helpers/ref_server.ts";
import { runServer } from "../_helpers/server.ts";

const EXE = natsServerPath();

/** The JSON's shape: objects keep their keys in order, arrays show their first element, leaves their type. */
function shape(v: unknown): unknown {
  if (v === null) return "null";
  // Elements merged: nats-server lists some arrays (a connection's subscriptions) in Go's random map order.
  if (Array.isArray(v)) return v.length === 0 ? [] : [v.map(shape).reduce(mergeShape)];
  if (typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = shape(x);
    return out;
  }
  return typeof v;
}

/** The union of two shapes: object keys of both (sorted), the first's type otherwise. */
function mergeShape(a: unknown, b: unknown): unknown {
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object" || Array.isArray(a)) {
    return a;
  }
  const out: Record<string, unknown> = {};
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort()) {
    out[k] = k in ao && k in bo ? mergeShape(ao[k], bo[k]) : ao[k] ?? bo[k];
  }
  return out;
}

async function waitHttp(url: string): Promise<void> {
  const end = Date.now() + 5_000;
  for (;;) {
    try {
      await (await fetch(url)).body?.cancel();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** A raw client with name/lang/version, one plain and one queue subscription, and one message. */
async function rawClient(port: number): Promise<Deno.TcpConn> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  await c.write(new TextEncoder().encode(
    'CONNECT {"verbose":false,"name":"c1","lang":"deno","version":"1.0.0","protocol":1}\r\n' +
      "SUB foo 1\r\nSUB bar q 2\r\nPUB foo 5\r\nhello\r\nPING\r\n",
  ));
  const buf = new Uint8Array(4096);
  let got = "";
  while (!got.includes("PONG")) {
    const n = await c.read(buf);
    if (n === null) break;
    got += new TextDecoder().decode(buf.subarray(0, n));
  }
  return c;
}

const ENDPOINTS = [
  "varz",
  "connz",
  "connz?subs=1",
  "connz?subs=detail&auth=1",
  "subsz",
  "subsz?subs=1&test=foo",
  "healthz",
  "accountz",
  "accountz?acc=$G",
  "routez",
  "gatewayz",
  "leafz",
  "jsz",
];

Deno.test({
  name: "monitor side by side: JSON keys and types match nats-server 2.9.10",
  ignore: EXE === undefined,
  async fn(t) {
    const refHttp = freePort();
    await using ref = await runRefServer(EXE!, `http_port: ${refHttp}`);
    await using s = await runServer({ httpHost: "127.0.0.1", httpPort: -1 });
    const refUrl = `http://127.0.0.1:${refHttp}`;
    const ourUrl = s.monitorUrls[0];
    // Both answer one /healthz first, so their http_req_stats hold the same keys.
    await waitHttp(`${refUrl}/healthz`);
    await waitHttp(`${ourUrl}/healthz`);
    const rc1 = await rawClient(ref.port);
    const rc2 = await rawClient(s.port);
    try {
      for (const ep of ENDPOINTS) {
        await t.step(ep, async () => {
          const [a, b] = await Promise.all([fetch(`${refUrl}/${ep}`), fetch(`${ourUrl}/${ep}`)]);
          assertEquals(b.status, a.status);
          assertEquals(b.headers.get("content-type"), a.headers.get("content-type"));
          const ja = await a.json();
          const jb = await b.json();
          assertEquals(shape(jb), shape(ja), ep);
        });
      }
      await t.step("error texts", async () => {
        for (
          const q of ["connz?sort=foo", "connz?auth=x", "connz?state=x", "connz?sort=stop", "subsz?test=a.*"]
        ) {
          const [a, b] = await Promise.all([fetch(`${refUrl}/${q}`), fetch(`${ourUrl}/${q}`)]);
          assertEquals([b.status, await b.text()], [a.status, await a.text()], q);
        }
      });
    } finally {
      rc1.close();
      rc2.close();
    }
  },
});

Deno.test({
  name: "monitor side by side: skipped, nats-server is not on PATH",
  ignore: EXE !== undefined,
  fn() {},
});
