// Ports test/opts_test.go and test/port_test.go: options from a config file reach INFO; a random port.
import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { DEFAULT_PORT } from "../../src/config/mod.ts";
import { runServer } from "../_helpers/server.ts";
import { createConfFile, RawClient, runServerWithConfig } from "./_util.ts";

// The reference's test/configs/override.conf.
const OVERRIDE_CONF = `
listen: 127.0.0.1:-1
max_payload: 2222
`;

Deno.test("TestServerConfig: max_payload from the config file is announced in INFO", async () => {
  await using s = await runServerWithConfig(await createConfFile(OVERRIDE_CONF));
  await using c = await RawClient.connect(s.port);
  const info = await c.info();
  assertEquals(info.max_payload, s.opts.maxPayload);
  assertEquals(info.max_payload, 2222);
});

// The reference's configs/tls.conf (certificates from tests/configs/certs).
const CERTS = new URL("../configs/certs/", import.meta.url).pathname;
const TLS_CONF = `
listen: 127.0.0.1:-1
tls {
  cert_file: "${CERTS}server-cert.pem"
  key_file: "${CERTS}server-key.pem"
  timeout: 2
}
authorization {
  user: derek
  password: foo
  timeout: 1
}
`;

Deno.test("TestTLSConfig: tls_required is set in INFO when TLS is configured", async () => {
  await using s = await runServerWithConfig(await createConfFile(TLS_CONF));
  await using c = await RawClient.connect(s.port);
  const info = await c.info();
  assertEquals(info.tls_required, true);
});

Deno.test("TestResolveRandomPort: a random port is chosen and reported", async () => {
  await using s = await runServer({ port: -1 });
  assert(s.port > 0, `expected a bound port, got ${s.port}`);
  assertNotEquals(s.port, DEFAULT_PORT);
  await using c = await RawClient.connect(s.port);
  assertEquals((await c.info()).port, s.port);
});
