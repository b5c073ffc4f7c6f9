// The reference test/ folder's raw-protocol helpers (setupConn, doConnect, expectMsgs, checkMsg) on RawClient.

import { assertEquals } from "@std/assert";
import { RawClient } from "./raw_client.ts";

export const pongRe = /^PONG\r\n/;
export const pingRe = /^PING\r\n/;
export const okRe = /^\+OK\r\n/;
export const errRe = /^-ERR\s+([^\r\n]+)\r\n/;
export const infoRe = /^INFO\s+([^\r\n]+)\r\n/;

/** One delivered MSG/HMSG. */
export interface Msg {
  subject: string;
  sid: string;
  reply: string;
  hdr: number;
  size: number;
  payload: string;
}

const MSG_HEAD = /^(H?)MSG\s+(\S+)\s+(\S+)\s+(?:(\S+)[ \t]+)?(?:(\d+)[ \t]+)?(\d+)\r\n/;

/** Reads one MSG or HMSG with its payload (sized by the header, not by a regex). */
export async function expectMsg(c: RawClient, timeoutMs = 2000): Promise<Msg> {
  const m = await c.expect(MSG_HEAD, timeoutMs);
  let reply = m[4] ?? "";
  let hdr = -1;
  if (m[1] === "H") {
    if (m[5] === undefined) {
      // "HMSG subj sid hdr total": the optional reply captured the header size.
      hdr = Number(reply);
      reply = "";
    } else hdr = Number(m[5]);
  } else if (m[5] !== undefined) {
    // "MSG subj sid reply size" where the reply is all digits.
    reply = m[5];
  }
  const size = Number(m[6]);
  const body = await c.expect(new RegExp(`^([\\s\\S]{${size}})\\r\\n`), timeoutMs);
  return { subject: m[2], sid: m[3], reply, hdr, size, payload: body[1] };
}

/** Reads `n` messages. */
export async function expectMsgs(c: RawClient, n: number, timeoutMs = 2000): Promise<Msg[]> {
  const out: Msg[] = [];
  for (let i = 0; i < n; i++) out.push(await expectMsg(c, timeoutMs));
  return out;
}

/** Go's checkMsg: subject, sid ("" to skip), reply, size and payload of one message. */
export function checkMsg(m: Msg, subject: string, sid: string, reply: string, len: string, payload: string) {
  assertEquals(m.subject, subject);
  if (sid !== "") assertEquals(m.sid, sid);
  assertEquals(m.reply, reply);
  assertEquals(String(m.size), len);
  assertEquals(m.payload, payload);
}

/** Go's doConnect: reads INFO, sends CONNECT with the given flags. */
export async function doConnect(
  port: number,
  verbose: boolean,
  pedantic: boolean,
  extra: Record<string, unknown> = {},
): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.info();
  await c.send(`CONNECT ${JSON.stringify({ verbose, pedantic, tls_required: false, ...extra })}\r\n`);
  return c;
}

/** Go's setupConn: verbose and pedantic off, protocol 1 (async INFO). */
export function setupConn(port: number): Promise<RawClient> {
  return doConnect(port, false, false, { protocol: 1 });
}

/** Go's expectNothing: nothing arrives within `ms`. */
export async function expectNothing(c: RawClient, ms = 100): Promise<void> {
  const got = await c.collect(ms);
  assertEquals(got, "", "expected nothing from the server");
}
