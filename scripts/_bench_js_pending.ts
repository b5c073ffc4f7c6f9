// deno-lint-ignore-file no-console
// Background load for the "consumer with 100k pending acks" measurement: creates stream PEND, publishes N
// messages, pulls them all into one consumer without acking, then idles (pending stays, ack-wait timers run).
// `deno run -A scripts/_bench_js_pending.ts <port> [n] [ack_wait_ms]`

import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";

const port = Number(Deno.args[0] ?? 4222);
const n = Number(Deno.args[1] ?? 100_000);
const ackWaitMs = Number(Deno.args[2] ?? 30_000);
const nc = await connect({ servers: `127.0.0.1:${port}` });
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: "PEND", subjects: ["pend.>"], storage: "memory" as never });
const js = jetstream(nc);
const body = new Uint8Array(16);
for (let i = 0; i < n; i += 1000) {
  const ps = [];
  for (let j = 0; j < 1000 && i + j < n; j++) ps.push(js.publish("pend.x", body));
  await Promise.all(ps);
}
await jsm.consumers.add("PEND", {
  durable_name: "p",
  ack_policy: AckPolicy.Explicit,
  max_ack_pending: n * 2,
  ack_wait: ackWaitMs * 1_000_000,
});
const c = await js.consumers.get("PEND", "p");
let got = 0;
while (got < n) {
  const it = await c.fetch({ max_messages: 10_000, expires: 5_000 });
  for await (const _ of it) got++;
}
const info = await c.info();
console.error(`pending acks: ${info.num_ack_pending}`);
await nc.close();
