// Internal clients and subscriptions: the mechanism server services, imports and JetStream build on.

import { assertEquals } from "@std/assert";
import { checkFor, runServer } from "../_helpers/server.ts";
import { connectRaw } from "../_helpers/raw_client.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();

Deno.test("Server.createInternalClient: an internal subscription receives client messages with headers", async () => {
  await using s = await runServer();
  const ic = s.createInternalClient("System", s.gacc);
  const got: string[] = [];
  ic.subscribeInternal("svc.>", (_sub, _from, subject, reply, hdr, payload) => {
    got.push(`${subject}|${reply}|${hdr ? dec.decode(hdr) : "-"}|${dec.decode(payload)}`);
  });
  await using c = await connectRaw(s.port, { verbose: false, pedantic: false, headers: true });
  await c.send("PUB svc.a r1 2\r\nhi\r\nHPUB svc.b 12 14\r\nNATS/1.0\r\n\r\nyo\r\n");
  await c.flush();
  assertEquals(got, ["svc.a|r1|-|hi", "svc.b|undefined|NATS/1.0\r\n\r\n|yo"]);
});

Deno.test("Client.publishInternal: a client subscriber gets MSG and HMSG from an internal publisher", async () => {
  await using s = await runServer();
  await using c = await connectRaw(s.port, { verbose: false, pedantic: false, headers: true });
  await c.send("SUB out.* 7\r\n");
  await c.flush();
  const ic = s.createInternalClient("System", s.gacc);
  ic.publishInternal("out.x", "rep", undefined, enc.encode("abc"));
  ic.publishInternal("out.y", undefined, enc.encode("NATS/1.0\r\nA: b\r\n\r\n"), enc.encode("z"));
  await c.expect(/^MSG out\.x 7 rep 3\r\nabc\r\n/);
  await c.expect(/^HMSG out\.y 7 18 19\r\nNATS\/1\.0\r\nA: b\r\n\r\nz\r\n/);
});

Deno.test("Client.subscribeInternal: a request answered by an internal responder", async () => {
  await using s = await runServer();
  const ic = s.createInternalClient("System", s.gacc);
  ic.subscribeInternal("echo", (_sub, _from, _subject, reply, _hdr, payload) => {
    if (reply) ic.publishInternal(reply, undefined, undefined, payload.slice());
  });
  await using c = await connectRaw(s.port);
  await c.send("SUB _INBOX.1 1\r\nPUB echo _INBOX.1 4\r\nping\r\n");
  await c.expect(/^MSG _INBOX\.1 1 4\r\nping\r\n/);
  let removed = false;
  const sub = ic.subscribeInternal("gone", () => {});
  ic.unsubscribeInternal(sub);
  await checkFor(500, 10, () => {
    removed = s.gacc.sl.match("gone").psubs.length === 0;
    assertEquals(removed, true);
  });
});
