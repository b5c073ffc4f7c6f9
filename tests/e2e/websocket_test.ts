// The official client over WebSocket (wsconnect from @nats-io/nats-core, on Deno's WebSocket): pub/sub and
// request/reply, with and without `compression: true` on the server.
import { assertEquals, assertRejects } from "@std/assert";
import { wsconnect } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { runServer } from "../_helpers/server.ts";
import { defaultWebsocketOptions } from "../../src/config/_websocket.ts";

for (const compression of [false, true]) {
  const label = compression ? "with compression on the server" : "without compression";
  Deno.test(`wsconnect: pub/sub and request/reply through the websocket listener, ${label}`, async () => {
    await using s = await runServer({
      websocket: { ...defaultWebsocketOptions(), host: "127.0.0.1", port: -1, noTls: true, compression },
    });
    const nc = await wsconnect({ servers: `ws://127.0.0.1:${s.opts.websocket.port}` });
    const tcp = await connect({ servers: s.clientUrl() });
    try {
      const sizes = [5, 100, 100_000];
      const sub = nc.subscribe("foo", { max: sizes.length * 2 });
      await nc.flush();
      for (const n of sizes) nc.publish("foo", "x".repeat(n));
      await nc.flush(); // Ours first, then the TCP client's: a fixed order to compare.
      for (const n of sizes) tcp.publish("foo", "y".repeat(n));
      await tcp.flush();
      const got: number[] = [];
      for await (const m of sub) got.push(m.data.length);
      assertEquals(got, [...sizes, ...sizes]);

      tcp.subscribe("svc", { callback: (_e, m) => void m.respond(`pong:${m.string()}`) });
      await tcp.flush();
      assertEquals((await nc.request("svc", "ping", { timeout: 2_000 })).string(), "pong:ping");
      nc.subscribe("wsvc", { callback: (_e, m) => void m.respond(`ws:${m.string()}`) });
      await nc.flush();
      assertEquals((await tcp.request("wsvc", "hi", { timeout: 2_000 })).string(), "ws:hi");
    } finally {
      await nc.close();
      await tcp.close();
    }
  });
}

Deno.test("wsconnect: pub/sub over wss, Deno's WebSocket trusting the test CA through Deno.createHttpClient", async () => {
  const certs = new URL("../configs/certs/", import.meta.url).pathname;
  const ca = Deno.readTextFileSync(`${certs}ca.pem`);
  await using s = await runServer({
    websocket: {
      ...defaultWebsocketOptions(),
      host: "127.0.0.1",
      port: -1,
      tls: { certFile: `${certs}server-cert.pem`, keyFile: `${certs}server-key.pem` },
    },
  });
  const url = `wss://127.0.0.1:${s.opts.websocket.port}`;
  // Deno's WebSocket takes an HttpClient as `client` (not in lib.dom's constructor type).
  const http = Deno.createHttpClient({ caCerts: [ca] });
  const Ws = WebSocket as unknown as new (u: string, o?: { client: Deno.HttpClient }) => WebSocket;
  const nc = await wsconnect({
    servers: url,
    wsFactory: (u: string) => Promise.resolve({ socket: new Ws(u, { client: http }), encrypted: true }),
  });
  const tcp = await connect({ servers: s.clientUrl() });
  try {
    const sub = nc.subscribe("secure", { max: 2 });
    await nc.flush();
    nc.publish("secure", "from wss");
    tcp.publish("secure", "from tcp");
    await tcp.flush();
    const got: string[] = [];
    for await (const m of sub) got.push(m.string());
    assertEquals(got.sort(), ["from tcp", "from wss"]);
    tcp.subscribe("svc", { callback: (_e, m) => void m.respond(`pong:${m.string()}`) });
    await tcp.flush();
    assertEquals((await nc.request("svc", "ping", { timeout: 2_000 })).string(), "pong:ping");
  } finally {
    await nc.close();
    await tcp.close();
    http.close();
  }
  // Without the CA the WebSocket refuses the server's certificate.
  await assertRejects(() => wsconnect({ servers: url, maxReconnectAttempts: 0, timeout: 2_000 }));
});
