// End to end with the official client: accounts with a service import (request/reply across accounts, the
// requestor's details in Nats-Request-Info) and a stream import with a prefix.
import { assert, assertEquals } from "@std/assert";
import { connect } from "@nats-io/transport-node";
import { createConfFile, runServerWithConfig } from "../server/_util.ts";

const conf = `
listen: 127.0.0.1:-1
accounts {
  A {
    users = [{user: a, password: a}]
    exports = [{service: "svc.>"}, {stream: "news.>"}]
  }
  B {
    users = [{user: b, password: b}]
    imports = [
      {service: {account: A, subject: "svc.>"}}
      {stream: {account: A, subject: "news.>"}, prefix: "a"}
    ]
  }
}`;

Deno.test("accounts: a request through a service import is answered across accounts", async () => {
  await using s = await runServerWithConfig(await createConfFile(conf));
  const na = await connect({ servers: s.clientUrl(), user: "a", pass: "a" });
  const nb = await connect({ servers: s.clientUrl(), user: "b", pass: "b" });
  let info = "";
  na.subscribe("svc.>", {
    callback: (_e, m) => {
      info = m.headers?.get("Nats-Request-Info") ?? "";
      m.respond(`hi ${m.subject}`);
    },
  });
  await na.flush();
  const r = await nb.request("svc.echo", "x", { timeout: 1000 });
  assertEquals(r.string(), "hi svc.echo");
  const ci = JSON.parse(info);
  assertEquals(ci.acc, "B");
  assert(typeof ci.rtt === "number" || ci.rtt === undefined);
  // Nothing answers in B itself: B's own subject space is separate.
  const sub = nb.subscribe("svc.echo", { max: 1 });
  await nb.flush();
  assertEquals(sub.getProcessed(), 0);
  sub.unsubscribe();
  await na.close();
  await nb.close();
});

Deno.test("accounts: a stream import with a prefix delivers under the prefix", async () => {
  await using s = await runServerWithConfig(await createConfFile(conf));
  const na = await connect({ servers: s.clientUrl(), user: "a", pass: "a" });
  const nb = await connect({ servers: s.clientUrl(), user: "b", pass: "b" });
  const got: string[] = [];
  const sub = nb.subscribe("a.news.>", { callback: (_e, m) => void got.push(`${m.subject}:${m.string()}`) });
  const wild = nb.subscribe(">", { callback: (_e, m) => void got.push(`>${m.subject}`) });
  await nb.flush();
  na.publish("news.today", "hello");
  na.publish("other", "not exported");
  await na.flush();
  await nb.flush();
  await new Promise((r) => setTimeout(r, 50));
  assertEquals(got.sort(), [">a.news.today", "a.news.today:hello"]);
  sub.unsubscribe();
  wild.unsubscribe();
  await na.close();
  await nb.close();
});
