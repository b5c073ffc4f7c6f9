// The official client over WebSocket (wsconnect from @nats-io/nats-core, on Deno's WebSocket): pub/sub and
// request/reply, with and without `compression: true` on the server.
import { assertEquals } from "@std/assert";
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
