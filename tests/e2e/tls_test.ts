// End-to-end TLS with the official client (@nats-io/transport-node): TLS after INFO with and without client
// certificates, a certificate from another CA, TLS-first, allow_non_tls, and the https monitor.
import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import { assert, assertEquals, assertRejects } from "@std/assert";
import { runServer, type TestServer } from "../_helpers/server.ts";
import type { Options } from "../../src/natsdeno.ts";

const CERTS = new URL("../configs/certs/", import.meta.url).pathname;
const CA = `${CERTS}ca.pem`;
const CLIENT = { certFile: `${CERTS}client-cert.pem`, keyFile: `${CERTS}client-key.pem` };
const OTHER_CA_CLIENT = {
  certFile: `${CERTS}other/client-cert.pem`,
  keyFile: `${CERTS}other/client-key.pem`,
};

function serverTls(extra: Record<string, unknown> = {}): Partial<Options> {
  return {
    tls: {
      certFile: `${CERTS}server-cert.pem`,
      keyFile: `${CERTS}server-key.pem`,
      timeoutMs: 2_000,
      ...extra,
    },
  };
}

function client(s: TestServer, opts: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  return connect({ servers: `127.0.0.1:${s.port}`, reconnect: false, timeout: 3_000, ...opts });
}

async function roundTrip(nc: NatsConnection, subject: string): Promise<string> {
  const sub = nc.subscribe(subject, { max: 1, timeout: 2_000 });
  nc.publish(subject, "secure");
  for await (const m of sub) return m.string();
  throw new Error("no message");
}

function logged(s: TestServer, text: string): boolean {
  return (s.log.captured ?? []).some((l) => l.includes(text));
}

Deno.test("e2e tls: the server certificate verifies against the CA; messages flow", async () => {
  await using s = await runServer(serverTls());
  const nc = await client(s, { tls: { caFile: CA } });
  assertEquals(await roundTrip(nc, "e2e.tls"), "secure");
  await nc.close();
  // Without the CA the client does not trust the server.
  await assertRejects(() => client(s, { tls: {} }));
});

Deno.test("e2e tls verify: a good client certificate works; none or another CA's is refused", async () => {
  await using s = await runServer(serverTls({ caFile: CA, verify: true }));
  const nc = await client(s, { tls: { caFile: CA, ...CLIENT } });
  assertEquals(await roundTrip(nc, "e2e.verify"), "secure");
  const c = [...s.clients.values()][0];
  assertEquals(c.tlsPeerCerts?.length, 1);
  await nc.close();
  await assertRejects(() => client(s, { tls: { caFile: CA } }));
  await assertRejects(() => client(s, { tls: { caFile: CA, ...OTHER_CA_CLIENT } }));
  assert(logged(s, "TLS handshake error: tls: client didn't provide a certificate"));
  assert(
    logged(
      s,
      "TLS handshake error: tls: failed to verify client certificate: x509: certificate signed by unknown authority",
    ),
  );
  const reasons = s.closedClients.map((c) => c.closeReason);
  assertEquals(reasons.filter((r) => r === "TLS Handshake Failure").length, 2);
});

Deno.test("e2e tls handshake_first: the official client's handshakeFirst connects", async () => {
  await using s = await runServer(serverTls({ handshakeFirst: true, caFile: CA, verify: true }));
  const nc = await client(s, { tls: { caFile: CA, ...CLIENT, handshakeFirst: true } });
  assertEquals(await roundTrip(nc, "e2e.first"), "secure");
  await nc.close();
});

Deno.test("e2e tls allow_non_tls: plaintext (tls: null) and TLS clients talk to each other", async () => {
  await using s = await runServer({ ...serverTls(), allowNonTls: true });
  const plain = await client(s, { tls: null });
  const secure = await client(s, { tls: { caFile: CA } });
  const sub = plain.subscribe("mix", { max: 1, timeout: 2_000 });
  await plain.flush();
  secure.publish("mix", "from tls");
  for await (const m of sub) assertEquals(m.string(), "from tls");
  assertEquals([...s.clients.values()].filter((c) => c.tlsVersion).length, 1);
  await plain.close();
  await secure.close();
});

Deno.test("e2e tls: https monitoring serves /varz with the client TLS certificate", async () => {
  await using s = await runServer({ ...serverTls(), httpsPort: -1, httpHost: "127.0.0.1" });
  const url = s.monitorUrls[0];
  assert(url?.startsWith("https://"), url);
  const caCert = await Deno.readTextFile(CA);
  const http = Deno.createHttpClient({ caCerts: [caCert] });
  const res = await fetch(`${url}/varz`, { client: http });
  const v = await res.json();
  http.close();
  assertEquals(v.tls_required, true);
  assertEquals(v.tls_timeout, 2);
});
