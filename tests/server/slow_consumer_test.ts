// Slow consumers: a client that does not read is closed at max_pending or after write_deadline.

import { assertEquals } from "@std/assert";
import { checkFor, runServer } from "../_helpers/server.ts";

const enc = new TextEncoder();

async function writeAll(c: Deno.Conn, b: Uint8Array): Promise<void> {
  let o = 0;
  while (o < b.length) o += await c.write(b.subarray(o));
}

async function floodNonReader(port: number, stop: () => boolean): Promise<[Deno.Conn, Deno.Conn]> {
  const slow = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(slow, enc.encode('CONNECT {"verbose":false}\r\nSUB foo 1\r\nPING\r\n'));
  const pub = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(pub, enc.encode('CONNECT {"verbose":false}\r\n'));
  await new Promise((r) => setTimeout(r, 100));
  const chunk = enc.encode(("PUB foo 1000\r\n" + "x".repeat(1000) + "\r\n").repeat(100));
  for (let i = 0; i < 2000 && !stop(); i++) await writeAll(pub, chunk);
  return [slow, pub];
}

Deno.test("Client: a subscriber that does not read is closed when its pending bytes pass max_pending", async () => {
  await using s = await runServer({ maxPending: 2 * 1024 * 1024 });
  const [slow, pub] = await floodNonReader(s.port, () => s.slowConsumers > 0);
  await checkFor(3000, 20, () => assertEquals(s.slowConsumers, 1));
  assertEquals(s.closedClients.at(-1)?.closeReason, "Slow Consumer (Pending Bytes)");
  slow.close();
  pub.close();
});

Deno.test("Client: a write stuck past write_deadline closes the client as a slow consumer", async () => {
  await using s = await runServer({ writeDeadlineMs: 300, maxPending: 512 * 1024 * 1024 });
  const [slow, pub] = await floodNonReader(s.port, () => s.slowConsumers > 0);
  await checkFor(3000, 20, () => assertEquals(s.slowConsumers, 1));
  assertEquals(s.closedClients.at(-1)?.closeReason, "Slow Consumer (Write Deadline)");
  slow.close();
  pub.close();
});
