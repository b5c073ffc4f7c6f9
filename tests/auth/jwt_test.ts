// JWT layer: decoding and verifying JWTs made by the Go library (fixed strings from the reference tests),
// round trips through our encoder, validation texts, creds files, permissions mapping, src/times checks,
// and the directory resolver.
import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  applyUserTemplate,
  claimsHash,
  decodeAccountClaims,
  decodeGeneric,
  decodeJwt,
  decodeOperatorClaims,
  decodeUserClaims,
  encodeJwt,
  formatUserConfig,
  isRevoked,
  parseCreds,
  parseDecoratedJwt,
  permissionsFromJwt,
  validateClaims,
  validateSrc,
  validateTimes,
  validationBlocking,
} from "../../src/auth/jwt.ts";
import { DirAccResolver, MemAccResolver } from "../../src/auth/resolver.ts";
import {
  accountJwt,
  createAccount,
  createOperator,
  createUser,
  fromSeed,
  OJWT,
  oKp,
  OSEED,
  seedOf,
  userJwt,
} from "../_helpers/jwt.ts";

// Account JWTs (format 2) from the nats-io/jwt v2 library's account_claims_test.go (TestJetstreamLimitsDeEnCode).
const GO_ACCOUNT_JWT_1 =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiI3V0NYQkZKS0lIN1Y0SkdPR0FVTEtTS05aQUxVTUZMVExZWVgyNTdDSzZORk5OWTdGRVdBIiwiaWF0IjoxNjQ0Mjc5NDY3LCJpc3MiOiJPQk5UUVJFSEVJUFJFVE1BVlBWUVVDSUdFUktHWkIzRVJBVjVTNUdNM0lPRVFOSFJFQkpPVUFSRiIsIm5hbWUiOiJ0ZXN0Iiwic3ViIjoiQUM2SFFJMlVBTVVQREVQN1dTWVFZV1JDTEVZQkxZVlNQTDZBSExDVVBKVEdVMzJUNEtRQktZU0ciLCJuYXRzIjp7ImxpbWl0cyI6eyJzdWJzIjotMSwiZGF0YSI6LTEsInBheWxvYWQiOi0xLCJpbXBvcnRzIjotMSwiZXhwb3J0cyI6LTEsIndpbGRjYXJkcyI6dHJ1ZSwiY29ubiI6LTEsImxlYWYiOi0xfSwiZGVmYXVsdF9wZXJtaXNzaW9ucyI6eyJwdWIiOnt9LCJzdWIiOnt9fSwidHlwZSI6ImFjY291bnQiLCJ2ZXJzaW9uIjoyfX0.73vDu9osNeLKwQ-g1Uu1fAtszMNz_QRZXRJLp0kzZh-0eMBmt0nb2mMwBwg-fufJs1FqYe9WbWKeXAYStnVnBg";
const GO_ACCOUNT_JWT_2 =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiJPVFFXVEQyVkFMWkRQQTZYU1hLS09GRVFZR1VaVFBDNEtKV1BYMlAyWU1XMjVTMzRTVjNRIiwiaWF0IjoxNjQ0Mjc5MzM0LCJpc3MiOiJPQk5UUVJFSEVJUFJFVE1BVlBWUVVDSUdFUktHWkIzRVJBVjVTNUdNM0lPRVFOSFJFQkpPVUFSRiIsIm5hbWUiOiJ0ZXN0Iiwic3ViIjoiQUM2SFFJMlVBTVVQREVQN1dTWVFZV1JDTEVZQkxZVlNQTDZBSExDVVBKVEdVMzJUNEtRQktZU0ciLCJuYXRzIjp7ImxpbWl0cyI6eyJzdWJzIjotMSwiZGF0YSI6LTEsInBheWxvYWQiOi0xLCJpbXBvcnRzIjotMSwiZXhwb3J0cyI6LTEsIndpbGRjYXJkcyI6dHJ1ZSwiY29ubiI6LTEsImxlYWYiOi0xLCJkaXNrX3N0b3JhZ2UiOjEwMDAwMDB9LCJkZWZhdWx0X3Blcm1pc3Npb25zIjp7InB1YiI6e30sInN1YiI6e319LCJ0eXBlIjoiYWNjb3VudCIsInZlcnNpb24iOjJ9fQ.Xt5azhxOkC7nywz9Q8xVtzX8lZIqdOhpfGyQI30aNdd-nbVGX2O13OOfouIaTLyajZiS4bcJFXa29q6QCFRUDA";

// Account JWTs (format 1) from the reference's test/configs/resolver_preload.conf.
const GO_V1_ACCOUNT_JWT =
  "eyJ0eXAiOiJqd3QiLCJhbGciOiJlZDI1NTE5In0.eyJqdGkiOiJCMk0zTFRMT1ZNRk03REY3U0M3SE9RTzNXUzI2RFhMTURINk0zRzY3RzRXRFdTWExPNlVBIiwiaWF0IjoxNTQzOTU4NzI0LCJpc3MiOiJPQ0FUMzNNVFZVMlZVT0lNR05HVU5YSjY2QUgyUkxTREFGM01VQkNZQVk1UU1JTDY1TlFNNlhRRyIsInN1YiI6IkFETTJDSUlMM1JXWEJBNlQySFczRk9ETkNRUU9VSkVISFFENkZLQ1BWQU1IRE5UVFNNTzczUk9YIiwidHlwZSI6ImFjY291bnQiLCJuYXRzIjp7ImxpbWl0cyI6e319fQ.pvvPmBei_IFEbspHGN5FkWJoSfHk8BVeJCCVODTgul8-xUU8p1fidvsg3sgMvrXqXtmL8SFc68jGQd0nGtk5Dw";

Deno.test("decodeJwt() verifies format-2 account JWTs signed by the Go library", () => {
  const c1 = decodeAccountClaims(GO_ACCOUNT_JWT_1);
  assertEquals(c1.sub, "AC6HQI2UAMUPDEP7WSYQYWRCLEYBLYVSPL6AHLCUPJTGU32T4KQBKYSG");
  assertEquals(c1.iss, "OBNTQREHEIPRETMAVPVQUCIGERKGZB3ERAV5S5GM3IOEQNHREBJOUARF");
  assertEquals(c1.nats.limits?.conn, -1);
  assertEquals(c1.nats.version, 2);
  const c2 = decodeAccountClaims(GO_ACCOUNT_JWT_2);
  assertEquals(c2.nats.limits?.disk_storage, 1000000);
});

Deno.test("claimsHash() reproduces the Go library's jti", () => {
  for (const t of [GO_ACCOUNT_JWT_1, GO_ACCOUNT_JWT_2]) {
    const c = decodeAccountClaims(t);
    assertEquals(claimsHash(c), c.jti);
  }
});

Deno.test("decodeJwt() verifies format-1 operator and account JWTs (signature over the payload only)", () => {
  const op = decodeOperatorClaims(OJWT);
  assertEquals(op.sub, "OCAT33MTVU2VUOIMGNGUNXJ66AH2RLSDAF3MUBCYAY5QMIL65NQM6XQG");
  assertEquals(op.sub, oKp.getPublicKey());
  assertEquals(op.name, "Synadia Communications Inc.");
  assertEquals(op.nats.signing_keys?.length, 3);
  assertEquals(op.nats.version, 1);
  const ac = decodeJwt(GO_V1_ACCOUNT_JWT);
  assertEquals(ac.type, "account");
  assertEquals(ac.version, 1);
  assertEquals(ac.claims.sub, "ADM2CIIL3RWXBA6T2HW3FODNCQQOUJEHHQD6FKCPVAMHDNTTSMO73ROX");
  assertEquals(fromSeed(OSEED).getPublicKey(), ac.claims.iss);
});

Deno.test("decodeJwt() refuses tampered, truncated and mis-issued JWTs with the library's texts", () => {
  const [h, p, sig] = GO_ACCOUNT_JWT_1.split(".");
  assertThrows(() => decodeJwt(`${h}.${p}`), "expected 3 chunks");
  const payload = JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/")));
  payload.name = "tampered";
  const p2 = btoa(JSON.stringify(payload)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  assertThrows(() => decodeJwt(`${h}.${p2}.${sig}`), "claim failed V2 signature verification");
  const badHeader = btoa(JSON.stringify({ typ: "JWT", alg: "HS256" })).replace(/=+$/, "");
  assertThrows(() => decodeJwt(`${badHeader}.${p}.${sig}`), 'unexpected "HS256" algorithm');
  const notJwt = btoa(JSON.stringify({ typ: "JWS", alg: "ed25519-nkey" })).replace(/=+$/, "");
  assertThrows(() => decodeJwt(`${notJwt}.${p}.${sig}`), 'not supported type "JWS"');
  // A user JWT must be issued by an account.
  const ukp = createUser();
  const opSigned = encodeJwt("account", { sub: createAccount().getPublicKey() }, oKp);
  assertEquals(decodeJwt(opSigned).type, "account");
  assertThrows(
    () => encodeJwt("user", { sub: ukp.getPublicKey() }, oKp),
    "unable to validate expected prefixes - [account]",
  );
  assertThrows(() => decodeUserClaims(opSigned), "not user claim");
});

Deno.test("encodeJwt() round trips user claims: header, iss, iat, jti, nats.type/version", () => {
  const akp = createAccount();
  const ukp = createUser();
  const t = userJwt(ukp, akp, { pub: { allow: ["foo.>"] }, tags: ["a:b"] }, { name: "bob", exp: 4102444800 });
  const [h] = t.split(".");
  assertEquals(JSON.parse(atob(h)), { typ: "JWT", alg: "ed25519-nkey" });
  const u = decodeUserClaims(t);
  assertEquals(u.iss, akp.getPublicKey());
  assertEquals(u.sub, ukp.getPublicKey());
  assertEquals(u.name, "bob");
  assertEquals(u.exp, 4102444800);
  assertEquals(u.nats.type, "user");
  assertEquals(u.nats.version, 2);
  assertEquals(u.nats.pub?.allow, ["foo.>"]);
  assertEquals(u.jti, claimsHash(u));
  assert(Math.abs((u.iat ?? 0) - Date.now() / 1000) < 5);
});

Deno.test("validateClaims() reports expiry and not-before as time checks, content problems as errors", () => {
  const akp = createAccount();
  const ukp = createUser();
  const now = Math.floor(Date.now() / 1000);
  const expired = decodeJwt(userJwt(ukp, akp, {}, { exp: now - 2 }));
  const vr = validateClaims(expired);
  assertEquals(vr.issues.map((i) => i.description), ["claim is expired"]);
  assert(validationBlocking(vr, true));
  assert(!validationBlocking(vr, false));
  const early = validateClaims(decodeJwt(userJwt(ukp, akp, {}, { nbf: now + 100 })));
  assertEquals(early.issues.map((i) => i.description), ["claim is not yet valid"]);
  const bad = validateClaims(
    decodeJwt(
      userJwt(ukp, akp, {
        pub: { allow: ["foo bar"] },
        src: ["10.0.0.0/99"],
        times: [{ start: "25:00:00", end: "01:00:00" }],
        "issuer_account": "UBAD",
      }),
    ),
  );
  assertEquals(bad.issues.map((i) => i.description), [
    'Permission Subject "foo bar" is not allowed to contain queue',
    'invalid cidr "10.0.0.0/99" in user src limits',
    'start in time range is invalid "25:00:00"',
    "account_id is not an account public key",
  ]);
  const opc = validateClaims(decodeJwt(OJWT));
  assertEquals(opc.issues, []);
});

Deno.test("parseCreds() reads a creds file made by formatUserConfig() and the library's layout", () => {
  const akp = createAccount();
  const ukp = createUser();
  const t = userJwt(ukp, akp);
  const creds = formatUserConfig(t, seedOf(ukp));
  assert(creds.startsWith("-----BEGIN NATS USER JWT-----\n"));
  const c = parseCreds(creds);
  assertEquals(c.jwt, t);
  assertEquals(c.seed, seedOf(ukp));
  // A bare JWT is its own decorated form; the operator JWT file of the reference tests decodes.
  assertEquals(parseDecoratedJwt(t), t);
  const opFile = `-----BEGIN TEST OPERATOR JWT-----\n${OJWT}\n------END TEST OPERATOR JWT------`;
  assertEquals(parseDecoratedJwt(opFile), OJWT);
  assertThrows(() => parseCreds(`-----BEGIN NATS USER JWT-----\n${t}\n------END NATS USER JWT------\n`));
});

Deno.test("permissionsFromJwt() maps pub/sub/resp as nats-server's buildPermissionsFromJwt", () => {
  assertEquals(permissionsFromJwt({ pub: {}, sub: {} }), undefined);
  assertEquals(permissionsFromJwt({ pub: { allow: ["a"] }, sub: { deny: ["b"] } }), {
    publish: { allow: ["a"] },
    subscribe: { deny: ["b"] },
  });
  // resp turns on an empty publish allow list (only replies may be sent); ttl is nanoseconds.
  assertEquals(permissionsFromJwt({ resp: { max: 22, ttl: 100_000_000 } }), {
    publish: { allow: [] },
    response: { maxMsgs: 22, expiresMs: 100 },
  });
});

Deno.test("isRevoked(): a key or '*' revoked at or after the JWT's iat", () => {
  assert(isRevoked({ U1: 100 }, "U1", 100));
  assert(!isRevoked({ U1: 99 }, "U1", 100));
  assert(isRevoked({ "*": 100 }, "U2", 50));
  assert(!isRevoked(undefined, "U1", 1));
});

Deno.test("validateSrc() checks the client address against src CIDRs (v4, v6)", () => {
  assert(validateSrc(undefined, "1.2.3.4"));
  assert(validateSrc(["127.0.0.0/8"], "127.0.0.1"));
  assert(!validateSrc(["10.0.0.0/8"], "127.0.0.1"));
  assert(validateSrc(["10.0.0.0/8", "::1/128"], "::1"));
  assert(!validateSrc(["127.0.0.1/32"], ""));
});

Deno.test("validateTimes(): windows in a time zone, one ending past midnight, and how long they last", () => {
  const at = new Date("2026-01-01T12:00:00Z");
  const inside = validateTimes(
    { times: [{ start: "11:00:00", end: "13:00:00" }], "times_location": "UTC" },
    at,
  );
  assertEquals(inside, { allowed: true, validForMs: 3_600_000 });
  const outside = validateTimes(
    { times: [{ start: "13:00:00", end: "14:00:00" }], "times_location": "UTC" },
    at,
  );
  assertEquals(outside.allowed, false);
  const overnight = validateTimes({
    times: [{ start: "11:00:00", end: "01:00:00" }],
    "times_location": "UTC",
  }, at);
  assertEquals(overnight, { allowed: true, validForMs: 13 * 3_600_000 });
  // 12:00 UTC is 07:00 in New York in winter.
  const ny = validateTimes(
    { times: [{ start: "06:30:00", end: "07:30:00" }], "times_location": "America/New_York" },
    at,
  );
  assertEquals(ny, { allowed: true, validForMs: 1_800_000 });
  assertEquals(validateTimes({}, at), { allowed: true, validForMs: 0 });
});

Deno.test("applyUserTemplate() expands name, subject, account and tag templates", () => {
  const akp = createAccount();
  const ukp = createUser();
  const uc = decodeUserClaims(userJwt(ukp, akp, { tags: ["dept:eng", "dept:ops"] }, { name: "alice" }));
  const out = applyUserTemplate(
    {
      pub: { allow: ["{{name()}}.>", "{{tag(dept)}}.in"], deny: ["x.{{account-name()}}"] },
      sub: { allow: ["{{subject()}}.*"] },
    },
    uc,
    { nameTag: "acme", tags: [] },
  );
  assertEquals(out.pub?.allow, ["alice.>", "eng.in", "ops.in"]);
  assertEquals(out.pub?.deny, ["x.acme"]);
  assertEquals(out.sub?.allow, [`${ukp.getPublicKey()}.*`]);
  // An allow list emptied by templates turns into a deny of everything.
  const none = applyUserTemplate({ sub: { allow: ["{{tag(missing)}}.x"] } }, uc, { nameTag: "", tags: [] });
  assertEquals(none.sub?.allow, []);
  assertEquals(none.sub?.deny, [">"]);
});

Deno.test("decodeGeneric() keeps the raw nats map (CLAIMS.DELETE requests)", () => {
  const okp = createOperator();
  const t = encodeJwt("operator", { sub: okp.getPublicKey(), nats: { accounts: ["A1"] } }, okp);
  const g = decodeGeneric(t);
  assertEquals(g.sub, okp.getPublicKey());
  assertEquals(g.nats?.accounts, ["A1"]);
});

Deno.test("MemAccResolver: fetch of a missing account fails with 'account missing'", () => {
  const r = new MemAccResolver();
  assertThrows(() => r.fetch("AXXX"), "account missing");
  r.store("A1", "jwt");
  assertEquals(r.fetch("A1"), "jwt");
});

Deno.test("DirAccResolver: <dir>/<key>.jwt files, newer-only store, XOR hash, pack/merge, delete by rename", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const akp = createAccount();
    const pub = akp.getPublicKey();
    const r = new DirAccResolver({ dir, allowDelete: true });
    assertEquals(r.hash(), new Uint8Array(32));
    const j1 = accountJwt(akp, {}, oKp, { iat: 1000 });
    r.store(pub, j1);
    assertEquals(Deno.readTextFileSync(`${dir}/${pub}.jwt`), j1);
    assertEquals(r.list(), [pub]);
    const h1 = r.hash();
    assert(h1.some((b) => b !== 0));
    // Reopening indexes the same file and yields the same hash.
    assertEquals(new DirAccResolver({ dir }).hash(), h1);
    const changed: string[] = [];
    r.onChanged = (k) => changed.push(k);
    const packs: string[] = [];
    r.packWalk(10, (p) => packs.push(p));
    assertEquals(packs, [`${pub}|${j1}`]);
    // A second store into another directory via merge.
    const dir2 = Deno.makeTempDirSync();
    try {
      const r2 = new DirAccResolver({ dir: dir2 });
      r2.merge(packs[0]);
      assertEquals(r2.hash(), h1);
      assertThrows(() => r2.delete(pub), "store is not set up to for delete");
    } finally {
      Deno.removeSync(dir2, { recursive: true });
    }
    r.delete(pub);
    assert(Deno.statSync(`${dir}/${pub}.jwt.deleted`).isFile);
    assertEquals(r.list(), []);
    assertEquals(r.hash(), new Uint8Array(32));
    assertEquals(changed, []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("DirAccResolver: limit refuses a new account with 'jwt store is full'", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const r = new DirAccResolver({ dir, limit: 1 });
    const a1 = createAccount();
    const a2 = createAccount();
    r.store(a1.getPublicKey(), accountJwt(a1));
    assertThrows(() => r.store(a2.getPublicKey(), accountJwt(a2)), "jwt store is full");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("stress: decode+verify of a user JWT costs well under a millisecond", {
  ignore: !Deno.env.get("STRESS"),
}, () => {
  const t = userJwt(createUser(), createAccount());
  const n = 5000;
  const start = performance.now();
  for (let i = 0; i < n; i++) decodeUserClaims(t);
  const us = (performance.now() - start) * 1000 / n;
  assert(us < 500, `${us} µs per decode`);
});
