// Port of nats-server test/accounts_cycles_test.go: import cycles refused at config load, reply cycles,
// the search depth limit, and subject mappings with partitions (in an account and through an import).
import { assert, assertEquals, assertThrows } from "@std/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { configToOptions, parseConfig } from "../../src/config/mod.ts";
import { Account, MAX_ACCOUNT_CYCLE_SEARCH_DEPTH } from "../../src/server/account.ts";
import { validateAccountOptions } from "../../src/server/mod.ts";
import { createConfFile, runServerWithConfig } from "./_util.ts";

/** Go's server.ProcessConfigFile: the options, with the accounts built (imports, exports, cycles). */
function processConfig(text: string): void {
  validateAccountOptions(configToOptions(parseConfig(text, { file: "test.conf" })));
}

function expectCycle(text: string): void {
  assertThrows(() => processConfig(text), "import forms a cycle");
}

Deno.test("TestAccountCycleService: service imports that loop back are refused", () => {
  expectCycle(`accounts {
    A { exports [ { service: help } ], imports [ { service { subject: help, account: B } } ] }
    B { exports [ { service: help } ], imports [ { service { subject: help, account: A } } ] }
  }`);
  expectCycle(`accounts {
    A { exports [ { service: * } ], imports [ { service { subject: help, account: B } } ] }
    B { exports [ { service: help } ], imports [ { service { subject: *, account: A } } ] }
  }`);
  expectCycle(`accounts {
    A { exports [ { service: * } ], imports [ { service { subject: help, account: B } } ] }
    B { exports [ { service: help } ], imports [ { service { subject: help, account: C } } ] }
    C { exports [ { service: * } ], imports [ { service { subject: *, account: A } } ] }
  }`);
});

Deno.test("TestAccountCycleStream: stream imports that loop back are refused", () => {
  expectCycle(`accounts {
    A { exports [ { stream: strm } ], imports [ { stream { subject: strm, account: B } } ] }
    B { exports [ { stream: strm } ], imports [ { stream { subject: strm, account: A } } ] }
  }`);
});

Deno.test("TestAccountCycleStreamWithMapping: a cycle through a mapped stream import is refused", () => {
  expectCycle(`accounts {
    A { exports [ { stream: * } ], imports [ { stream { subject: bar, account: B } } ] }
    B { exports [ { stream: bar } ], imports [ { stream { subject: foo, account: A }, to: bar } ] }
  }`);
});

Deno.test("TestAccountCycleNonCycleStreamWithMapping: mapped imports without a loop load", () => {
  processConfig(`accounts {
    A { exports [ { stream: foo } ], imports [ { stream { subject: bar, account: B } } ] }
    B { exports [ { stream: bar } ], imports [ { stream { subject: baz, account: C }, to: bar } ] }
    C { exports [ { stream: baz } ], imports [ { stream { subject: foo, account: A }, to: bar } ] }
  }`);
});

Deno.test("TestAccountCycleServiceCycleWithMapping: a cycle through mapped service imports is refused", () => {
  expectCycle(`accounts {
    A { exports [ { service: a } ], imports [ { service { subject: b, account: B }, to: a } ] }
    B { exports [ { service: b } ], imports [ { service { subject: a, account: A }, to: b } ] }
  }`);
});

Deno.test("TestAccountCycleServiceNonCycle: wildcard service imports without a loop load", () => {
  processConfig(`accounts {
    A { exports [ { service: * } ], imports [ { service { subject: help, account: B } } ] }
    B { exports [ { service: help } ], imports [ { service { subject: nohelp, account: C } } ] }
    C { exports [ { service: * } ], imports [ { service { subject: *, account: A } } ] }
  }`);
});

Deno.test("TestAccountCycleServiceNonCycleChain: a chain of service imports loads", () => {
  processConfig(`accounts {
    A { exports [ { service: help } ], imports [ { service { subject: help, account: B } } ] }
    B { exports [ { service: help } ], imports [ { service { subject: help, account: C } } ] }
    C { exports [ { service: help } ], imports [ { service { subject: help, account: D } } ] }
    D { exports [ { service: help } ] }
  }`);
});

async function requestThroughImports(conf: string): Promise<void> {
  await using s = await runServerWithConfig(await createConfFile(conf));
  const nc1 = await connect({ servers: s.clientUrl(), user: "x", pass: "x" });
  nc1.subscribe("foo", { callback: (_e, m) => void m.respond("HELLO") });
  await nc1.flush();
  const nc2 = await connect({ servers: s.clientUrl() });
  const resp = await nc2.request("foo", undefined, { timeout: 1000 });
  assertEquals(resp.string(), "HELLO");
  await nc1.close();
  await nc2.close();
}

Deno.test("TestServiceImportReplyMatchCycle: a '>' service import still routes the reply back", async () => {
  await requestThroughImports(`
    port: -1
    accounts {
      A { users: [{user: d, pass: x}], imports [ {service: {account: B, subject: ">" }}] }
      B { users: [{user: x, pass: x}], exports [ { service: ">" } ] }
    }
    no_auth_user: d`);
});

Deno.test("TestServiceImportReplyMatchCycleMultiHops: the reply comes back over two '>' imports", async () => {
  await requestThroughImports(`
    port: -1
    accounts {
      A { users: [{user: d, pass: x}], imports [ {service: {account: B, subject: ">" }}] }
      B { exports [ { service: ">" } ], imports [ {service: {account: C, subject: ">" }}] }
      C { users: [{user: x, pass: x}], exports [ { service: ">" } ] }
    }
    no_auth_user: d`);
});

Deno.test("TestAccountCycleDepthLimit: import chains longer than the search depth are refused", () => {
  const chainLen = MAX_ACCOUNT_CYCLE_SEARCH_DEPTH + 1;
  let last: Account | undefined;
  for (let i = 1; i <= chainLen; i++) {
    const acc = new Account(`ACC-${i}`);
    acc.addServiceExport("*");
    if (last !== undefined) {
      if (i === chainLen) {
        assertThrows(() => acc.addServiceImport(last!, "foo", "foo"), "search cycle depth exhausted");
      } else acc.addServiceImport(last, "foo", "foo");
    }
    last = acc;
  }
  last = undefined;
  for (let i = 1; i <= chainLen; i++) {
    const acc = new Account(`ACC-${i}`);
    acc.addStreamExport("foo");
    if (last !== undefined) {
      if (i === chainLen) {
        assertThrows(() => acc.addStreamImport(last!, "foo", ""), "search cycle depth exhausted");
      } else acc.addStreamImport(last, "foo", "");
    }
    last = acc;
  }
});

/** Publishes foo.<i>.<n-i> twice and checks the partitions: in 0..9, and the same both times. */
async function checkPartitions(pub: NatsConnection, sub: NatsConnection): Promise<void> {
  const n = 100;
  const got: string[] = [];
  const s = sub.subscribe("foo.*.*.*", { max: n * 2, callback: (_e, m) => void got.push(m.subject) });
  await sub.flush();
  for (let j = 0; j < 2; j++) for (let i = 0; i < n; i++) pub.publish(`foo.${i}.${n - i}`, "HELLO");
  await pub.flush();
  await s.closed;
  const parts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = got[i].split(".");
    const p = Number(t[3]);
    assert(p >= 0 && p <= 9 && Number(t[1]) === i && Number(t[2]) === n - i, `unexpected ${got[i]}`);
    parts.push(p);
  }
  for (let i = 0; i < n; i++) assertEquals(Number(got[n + i].split(".")[3]), parts[i]);
}

Deno.test("TestAccountSubjectMapping: wildcard and partition functions in a mapping", async () => {
  const conf = await createConfFile(`
    port: -1
    mappings = { "foo.*.*" : "foo.$1.{{wildcard(2)}}.{{partition(10,1,2)}}" }`);
  await using s = await runServerWithConfig(conf);
  const nc1 = await connect({ servers: s.clientUrl() });
  const nc2 = await connect({ servers: s.clientUrl() });
  await checkPartitions(nc2, nc1);
  await nc1.close();
  await nc2.close();
});

Deno.test("TestAccountImportSubjectMapping: a stream import's 'to' with partition", async () => {
  const conf = await createConfFile(`
    port: -1
    accounts {
      A {
        users: [{user: a, pass: x}]
        imports [ {stream: {account: B, subject: "foo.*.*"}, to : "foo.$1.{{wildcard(2)}}.{{partition(10,1,2)}}"}]
      }
      B { users: [{user: b, pass x}], exports [ { stream: ">" } ] }
    }`);
  await using s = await runServerWithConfig(conf);
  const ncA = await connect({ servers: s.clientUrl(), user: "a", pass: "x" });
  const ncB = await connect({ servers: s.clientUrl(), user: "b", pass: "x" });
  await checkPartitions(ncB, ncA);
  await ncA.close();
  await ncB.close();
});
