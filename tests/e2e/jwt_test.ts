// Operator mode end to end with the official client: creds-file login, an expired user JWT refused, a user
// revoked by a claims update pushed on $SYS, and connect throughput with JWT auth (stress).
import { Buffer } from "node:buffer";
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import { formatUserConfig } from "../../src/auth/jwt.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { runServer, type TestServer } from "../_helpers/server.ts";
import {
  accountJwt,
  createAccount,
  createUser,
  fastSigner,
  type KeyPair,
  OJWT,
  seedOf,
  userJwt,
} from "../_helpers/jwt.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function operatorServer(accounts: KeyPair[], sys: KeyPair): Promise<TestServer> {
  const preload: Record<string, string> = {};
  for (const a of [...accounts, sys]) preload[a.getPublicKey()] = accountJwt(a);
  return await runServer({
    trustedOperators: [{ jwt: OJWT, claims: {} }],
    systemAccount: sys.getPublicKey(),
    accountResolver: { type: "MEMORY" },
    resolverPreload: preload,
  });
}

function creds(ukp: KeyPair, jwt: string): Uint8Array {
  return enc.encode(formatUserConfig(jwt, seedOf(ukp)));
}

Deno.test("operator mode e2e: a creds file logs in and messages flow within the account", async () => {
  const akp = createAccount();
  const sys = createAccount();
  await using s = await operatorServer([akp], sys);
  const ukp = createUser();
  const nc = await connect({
    servers: s.clientUrl(),
    authenticator: credsAuthenticator(creds(ukp, userJwt(ukp, akp))),
  });
  try {
    const sub = nc.subscribe("greet", { max: 1 });
    nc.publish("greet", "hello");
    for await (const m of sub) assertEquals(m.string(), "hello");
    assertEquals(nc.info?.auth_required, true);
    assert(typeof nc.info?.nonce === "string");
  } finally {
    await nc.close();
  }
});

Deno.test("operator mode e2e: an expired user JWT is refused", async () => {
  const akp = createAccount();
  const sys = createAccount();
  await using s = await operatorServer([akp], sys);
  const ukp = createUser();
  const t = userJwt(ukp, akp, {}, { exp: Math.floor(Date.now() / 1000) - 5 });
  let err = "";
  try {
    const nc = await connect({
      servers: s.clientUrl(),
      reconnect: false,
      authenticator: credsAuthenticator(creds(ukp, t)),
    });
    await nc.close();
  } catch (e) {
    err = (e as Error).message;
  }
  assertStringIncludes(err.toLowerCase(), "authorization violation");
});

Deno.test("operator mode e2e: a claims update on $SYS revoking the user disconnects it", async () => {
  const akp = createAccount();
  const sys = createAccount();
  await using s = await operatorServer([akp], sys);
  const ukp = createUser();
  const nc = await connect({
    servers: s.clientUrl(),
    reconnect: false,
    authenticator: credsAuthenticator(creds(ukp, userJwt(ukp, akp))),
  });
  const sysUser = createUser();
  const snc = await connect({
    servers: s.clientUrl(),
    authenticator: credsAuthenticator(creds(sysUser, userJwt(sysUser, sys))),
  });
  try {
    await nc.flush();
    const revoked = accountJwt(akp, {
      revocations: { [ukp.getPublicKey()]: Math.floor(Date.now() / 1000) + 1 },
    });
    const r = await snc.request(`$SYS.REQ.ACCOUNT.${akp.getPublicKey()}.CLAIMS.UPDATE`, revoked);
    const resp = JSON.parse(dec.decode(r.data));
    assertEquals(resp.data, { account: akp.getPublicKey(), code: 200, message: "jwt updated" });
    const closed = await nc.closed();
    assert(closed instanceof Error);
    assertStringIncludes(closed.message, "User Authentication Revoked");
  } finally {
    await nc.close();
    await snc.close();
  }
});

Deno.test({
  name: "stress: connect throughput with JWT auth (raw clients, node:crypto signatures)",
  ignore: !Deno.env.get("STRESS"),
  fn: async () => {
    const akp = createAccount();
    const sys = createAccount();
    await using s = await operatorServer([akp], sys);
    const ukp = createUser();
    const t = userJwt(ukp, akp);
    const sign = fastSigner(ukp);
    const n = 2000;
    const conc = 50;
    let done = 0;
    const start = performance.now();
    const worker = async () => {
      while (done < n) {
        done++;
        const c = await RawClient.connect(s.port);
        const info = await c.info();
        const sig = Buffer.from(sign(enc.encode(String(info.nonce)))).toString("base64url");
        await c.send(
          `CONNECT ${JSON.stringify({ jwt: t, sig, verbose: false, pedantic: false })}\r\nPING\r\n`,
        );
        await c.expect(/^PONG\r\n/);
        await c[Symbol.asyncDispose]();
      }
    };
    await Promise.all(Array.from({ length: conc }, worker));
    const secs = (performance.now() - start) / 1000;
    const rate = Math.round(n / secs);
    // deno-lint-ignore no-console
    console.log(`JWT connects: ${n} in ${secs.toFixed(2)} s = ${rate}/s (${conc} concurrent)`);
    assert(rate > 100);
  },
});
