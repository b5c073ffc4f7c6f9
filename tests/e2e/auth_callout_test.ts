// End-to-end auth callout with the official client: a callout service written with the client (decodes the
// server's authorization request and answers with a signed response), a silent service, and bystanders.
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import * as nkeys from "@nats-io/nkeys";
import { Buffer } from "node:buffer";
import { createConfFile, runServerWithConfig } from "../server/_util.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const issuer = nkeys.createAccount();

function b64(s: string | Uint8Array): string {
  return Buffer.from(typeof s === "string" ? enc.encode(s) : s).toString("base64url");
}

/** A JWT as a callout service makes one: any `nats.type`, signed by `kp`. */
function sign(kp: nkeys.KeyPair, type: string, claims: Record<string, unknown>): string {
  const payload = {
    jti: crypto.randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    iss: kp.getPublicKey(),
    ...claims,
    nats: { ...(claims.nats as Record<string, unknown> ?? {}), type, version: 2 },
  };
  const head = `${b64(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" }))}.${b64(JSON.stringify(payload))}`;
  return `${head}.${b64(kp.sign(enc.encode(head)))}`;
}

/** Decodes a request JWT and verifies it with its issuer's key, as a callout service should. */
// deno-lint-ignore no-explicit-any
function decodeRequest(token: string): Record<string, any> {
  const [h, p, s] = token.split(".");
  const claims = JSON.parse(dec.decode(Buffer.from(p, "base64url")));
  const ok = nkeys.fromPublic(claims.iss).verify(enc.encode(`${h}.${p}`), Buffer.from(s, "base64url"));
  assert(ok, "request signature");
  return claims;
}

function conf(extra = ""): string {
  return `
    listen: "127.0.0.1:-1"
    accounts {
      AUTH { users [ {user: "auth", password: "pwd"} ] }
      APP { users [ {user: "plain", password: "plain"} ] }
    }
    authorization {
      timeout: 1s
      auth_callout {
        issuer: "${issuer.getPublicKey()}"
        account: AUTH
        auth_users: [ auth, plain ]
      }
    }
    ${extra}
  `;
}

Deno.test("auth callout e2e: a client-written service admits alice into APP and refuses mallory", async () => {
  await using s = await runServerWithConfig(await createConfFile(conf()));
  const svc = await connect({ servers: s.clientUrl(), user: "auth", pass: "pwd" });
  const seen: string[] = [];
  svc.subscribe("$SYS.REQ.USER.AUTH", {
    callback: (_e, m: Msg) => {
      const req = decodeRequest(m.string());
      assertEquals(req.aud, "nats-authorization-request");
      const n = req.nats;
      seen.push(n.connect_opts.user);
      if (n.connect_opts.user === "alice" && n.connect_opts.pass === "s3cret") {
        const ujwt = sign(issuer, "user", {
          sub: n.user_nkey,
          aud: "APP",
          name: "alice",
          nats: { pub: { allow: ["app.>"] }, sub: { allow: ["app.>", "_INBOX.>"] }, subs: -1, payload: -1 },
        });
        m.respond(
          sign(issuer, "authorization_response", {
            sub: n.user_nkey,
            aud: n.server_id.id,
            nats: { jwt: ujwt },
          }),
        );
      } else {
        m.respond(
          sign(issuer, "authorization_response", {
            sub: n.user_nkey,
            aud: n.server_id.id,
            nats: { error: "who are you?" },
          }),
        );
      }
    },
  });
  await svc.flush();
  let alice: NatsConnection | undefined;
  let plain: NatsConnection | undefined;
  try {
    alice = await connect({ servers: s.clientUrl(), user: "alice", pass: "s3cret", reconnect: false });
    plain = await connect({ servers: s.clientUrl(), user: "plain", pass: "plain" });
    // alice landed in APP with the callout's permissions: she talks to APP's plain user.
    const sub = plain.subscribe("app.hello", { max: 1 });
    await plain.flush();
    alice.publish("app.hello", "hi");
    for await (const m of sub) assertEquals(m.string(), "hi");
    const err = await assertRejects(() =>
      connect({ servers: s.clientUrl(), user: "mallory", pass: "x", reconnect: false })
    );
    assertMatch(err.message, /authorization violation/i);
    assertEquals(seen, ["alice", "mallory"]);
  } finally {
    await alice?.close();
    await plain?.close();
    await svc.close();
  }
});

Deno.test("auth callout e2e: a silent service refuses after the auth timeout; others keep working", async () => {
  await using s = await runServerWithConfig(await createConfFile(conf()));
  const svc = await connect({ servers: s.clientUrl(), user: "auth", pass: "pwd" });
  let asked = 0;
  svc.subscribe("$SYS.REQ.USER.AUTH", { callback: () => void asked++ });
  await svc.flush();
  const plain = await connect({ servers: s.clientUrl(), user: "plain", pass: "plain" });
  try {
    const t0 = performance.now();
    const pending = connect({
      servers: s.clientUrl(),
      user: "bob",
      pass: "x",
      reconnect: false,
      timeout: 5000,
    });
    // While bob's CONNECT waits for the callout, others connect and exchange messages.
    const echoes: number[] = [];
    const sub = plain.subscribe("ping", { callback: (_e, m) => void m.respond(m.data) });
    const other = await connect({ servers: s.clientUrl(), user: "plain", pass: "plain" });
    for (let i = 0; i < 5; i++) {
      const st = performance.now();
      await other.request("ping", "x", { timeout: 500 });
      echoes.push(performance.now() - st);
    }
    await other.close();
    sub.unsubscribe();
    const err = await assertRejects(() => pending);
    const waited = performance.now() - t0;
    assertMatch(err.message, /authorization violation/i);
    assertEquals(asked, 1);
    assert(waited >= 900, `refused after ${waited} ms`);
    assert(Math.max(...echoes) < 200, `echo latencies ${echoes}`);
  } finally {
    await plain.close();
    await svc.close();
  }
});
