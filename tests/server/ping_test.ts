// Ports nats-server test/ping_test.go: server PINGs, stale connections and PING suppression.

import { assert } from "@std/assert";
import { runServer } from "../_helpers/server.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { CERTS, RawTlsClient } from "../_helpers/tls_client.ts";
import { doConnect, errRe, expectNothing, pingRe, pongRe, setupConn } from "../_helpers/proto.ts";

const PING_INTERVAL = 50;
const PING_MAX = 2;

function runPingServer() {
  return runServer({ pingIntervalMs: PING_INTERVAL, maxPingsOut: PING_MAX });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** PING_MAX PINGs, then -ERR 'Stale Connection', then the server closes. */
async function expectStale(c: RawClient): Promise<void> {
  for (let i = 0; i < PING_MAX; i++) {
    await sleep(PING_INTERVAL / 2);
    await c.expect(pingRe);
  }
  await sleep(PING_INTERVAL);
  const m = await c.expect(errRe);
  assert(m[1] === "'Stale Connection'", m[1]);
  await c.waitClosed();
}

Deno.test("TestPingSentToTLSConnection: PINGs and the stale close also happen over TLS", async () => {
  await using s = await runServer({
    pingIntervalMs: PING_INTERVAL,
    maxPingsOut: PING_MAX,
    tls: {
      certFile: `${CERTS}server-cert.pem`,
      keyFile: `${CERTS}server-key.pem`,
      caFile: `${CERTS}ca.pem`,
      timeoutMs: 5_000,
    },
  });
  await using c = await RawTlsClient.connect(s.port);
  assert(c.info.tls_required === true);
  await c.send('CONNECT {"verbose":false,"pedantic":false,"tls_required":true}\r\n');
  for (let i = 0; i < PING_MAX; i++) {
    await sleep(PING_INTERVAL / 2);
    await c.expect(pingRe);
  }
  await sleep(PING_INTERVAL);
  const m = await c.expect(errRe);
  assert(m[1] === "'Stale Connection'", m[1]);
  // The server closes the connection.
  await c.waitClosed();
});

Deno.test("TestPingInterval: an idle client gets ping_max PINGs, then 'Stale Connection' and a close", async () => {
  await using s = await runPingServer();
  await using c = await doConnect(s.port, false, false);
  await expectStale(c);
});

Deno.test("TestUnpromptedPong: PONGs the server did not ask for do not keep a client alive", async () => {
  await using s = await runPingServer();
  await using c = await doConnect(s.port, false, false);
  for (let i = 0; i < 100; i++) await c.send("PONG\r\n");
  await expectStale(c);
});

Deno.test("TestPingSuppresion: the first PING comes after the interval; a client PING suppresses the next", async () => {
  const pingInterval = 100;
  const highWater = 130;
  // Go sets DisableShortFirstPing; with an interval under 2 s the first PING comes after the interval anyway.
  await using s = await runServer({ pingIntervalMs: pingInterval });
  const connectTime = Date.now();
  await using c = await setupConn(s.port);
  await c.expect(pingRe);
  const pingTime = Date.now() - connectTime;
  await c.send("PONG\r\n");
  assert(pingTime >= pingInterval - 2, `pingTime too low: ${pingTime}`);
  assert(pingTime <= highWater + 20, `pingTime too high: ${pingTime}`);
  await sleep(pingInterval / 2);
  await c.send("PING\r\n");
  await c.expect(pongRe);
  await expectNothing(c, 100);
});
