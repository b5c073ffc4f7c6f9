// Ports test/auth_test.go: token, user/password and bcrypt authorization over the raw protocol.
import { runServer } from "../_helpers/server.ts";
import { connectAuthRequired, doAuthConnect, errRe, okRe } from "./_util.ts";

const AUTH_TOKEN = "_YZZ22_";
const AUTH_USER = "derek";
const AUTH_PASS = "foobar";
// Cost 4, as in the reference test (the default cost 11 takes ~100 ms per compare).
const BCRYPT_AUTH_PASS = "IW@$6v(y1(t@fhPDvf!5^%";
const BCRYPT_AUTH_HASH = "$2a$04$Q.CgCP2Sl9pkcTXEZHazaeMwPaAkSHk7AI51HkyMt5iJQQyUA4qxq";
const BCRYPT_AUTH_TOKEN = "0uhJOSr3GW7xvHvtd^K6pa";
const BCRYPT_AUTH_TOKEN_HASH = "$2a$04$u5ZClXpcjHgpfc61Ee0VKuwI1K3vTC4zq7SjphjnlHMeb1Llkb5Y6";

const withToken = () => runServer({ authorization: AUTH_TOKEN });
const withUserPass = () => runServer({ username: AUTH_USER, password: AUTH_PASS });
const withBcryptUserPass = () => runServer({ username: AUTH_USER, password: BCRYPT_AUTH_HASH });
const withBcryptToken = () => runServer({ authorization: BCRYPT_AUTH_TOKEN_HASH });

Deno.test("TestNoAuthClient: a CONNECT without the token gets -ERR", async () => {
  await using s = await withToken();
  await using c = await connectAuthRequired(s.port);
  await doAuthConnect(c, "", "", "");
  await c.expect(errRe);
});

Deno.test("TestAuthClientBadToken: a wrong token gets -ERR", async () => {
  await using s = await withToken();
  await using c = await connectAuthRequired(s.port);
  await doAuthConnect(c, "ZZZ", "", "");
  await c.expect(errRe);
});

Deno.test("TestAuthClientNoConnect: no CONNECT within the auth timeout gets -ERR", async () => {
  await using s = await withToken();
  await using c = await connectAuthRequired(s.port);
  const m = await c.expect(errRe, 4_000);
  if (m[1] !== "'Authentication Timeout'") throw new Error(`unexpected error ${m[1]}`);
});

Deno.test("TestAuthClientGoodConnect: the right token gets +OK", async () => {
  await using s = await withToken();
  await using c = await connectAuthRequired(s.port);
  await doAuthConnect(c, AUTH_TOKEN, "", "");
  await c.expect(okRe);
});

Deno.test("TestAuthClientFailOnEverythingElse: PUB before CONNECT gets -ERR", async () => {
  await using s = await withToken();
  await using c = await connectAuthRequired(s.port);
  await c.send("PUB foo 2\r\nok\r\n");
  await c.expect(errRe);
});

Deno.test("TestNoUserOrPasswordClient: a CONNECT without user and password gets -ERR", async () => {
  await using s = await withUserPass();
  await using c = await connectAuthRequired(s.port);
  await doAuthConnect(c, "", "", "");
  await c.expect(errRe);
});

Deno.test("TestBadUserClient: an unknown user gets -ERR", async () => {
  await using s = await withUserPass();
  await using c = await connectAuthRequired(s.port);
  await doAuthConnect(c, "", "derekzz", AUTH_PASS);
  await c.expect(errRe);
});

Deno.test("TestBadPasswordClient: a wrong password gets -ERR", async () => {
  await using s = await withUserPass();
  await using c = await connectAuthRequired(s.port);
  await doAuthConnect(c, "", AUTH_USER, "ZZ");
  await c.expect(errRe);
});

Deno.test("TestPasswordClientGoodConnect: the right user and password get +OK", async () => {
  await using s = await withUserPass();
  await using c = await connectAuthRequired(s.port);
  await doAuthConnect(c, "", AUTH_USER, AUTH_PASS);
  await c.expect(okRe);
});

Deno.test("TestBadBcryptPassword: sending the hash itself as password gets -ERR", async () => {
  await using s = await withBcryptUserPass();
  await using c = await connectAuthRequired(s.port);
  await doAuthConnect(c, "", AUTH_USER, BCRYPT_AUTH_HASH);
  await c.expect(errRe);
});

Deno.test("TestGoodBcryptPassword: the password matching the bcrypt hash gets +OK", async () => {
  await using s = await withBcryptUserPass();
  await using c = await connectAuthRequired(s.port);
  await doAuthConnect(c, "", AUTH_USER, BCRYPT_AUTH_PASS);
  await c.expect(okRe);
});

Deno.test("TestBadBcryptToken: sending the token hash itself gets -ERR", async () => {
  await using s = await withBcryptToken();
  await using c = await connectAuthRequired(s.port);
  await doAuthConnect(c, BCRYPT_AUTH_TOKEN_HASH, "", "");
  await c.expect(errRe);
});

Deno.test("TestGoodBcryptToken: the token matching the bcrypt hash gets +OK", async () => {
  await using s = await withBcryptToken();
  await using c = await connectAuthRequired(s.port);
  await doAuthConnect(c, BCRYPT_AUTH_TOKEN, "", "");
  await c.expect(okRe);
});
