// Process-level tests of the command line (main.ts run by `deno run`): flags, config files, -t, --signal,
// signals (SIGHUP reload, SIGTERM/SIGINT, SIGUSR2 lame duck), pid and ports files. Where the reference
// nats-server is on PATH, the same run is made with it and the observable results compared.
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { natsServerPath } from "../_helpers/ref_server.ts";
import { connectRaw, RawClient } from "../_helpers/raw_client.ts";
import { delay } from "../_helpers/server.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const REF = natsServerPath();
const dec = new TextDecoder();

type Kind = "natsdeno" | "nats-server";
const KINDS: Kind[] = REF ? ["natsdeno", "nats-server"] : ["natsdeno"];

/** A server process whose stderr log is collected as it runs. */
class Proc implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  log = "";
  stdout = "";
  #reading: Promise<void>;
  #status: Promise<Deno.CommandStatus>;
  exited: Deno.CommandStatus | undefined;

  constructor(readonly kind: Kind, args: string[]) {
    const [cmd, all] = kind === "natsdeno" ? [Deno.execPath(), ["run", "-A", MAIN, ...args]] : [REF!, args];
    this.child = new Deno.Command(cmd, { args: all, stdout: "piped", stderr: "piped", stdin: "null" })
      .spawn();
    const pump = async (r: ReadableStream<Uint8Array>, out: "log" | "stdout") => {
      for await (const b of r) this[out] += dec.decode(b, { stream: true });
    };
    this.#reading = Promise.all([pump(this.child.stderr, "log"), pump(this.child.stdout, "stdout")]).then(
      () => {},
    );
    this.#status = this.child.status.then((s) => (this.exited = s));
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Waits until the log matches `re`; returns the match. */
  async waitLog(re: RegExp, ms = 10_000): Promise<RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.log);
      if (m) return m;
      if (Date.now() > end || this.exited) throw new Error(`${this.kind}: no ${re} in log:\n${this.log}`);
      await delay(20);
    }
  }

  /** Waits for "Server is ready" and returns the client port from the listening line. */
  async ready(): Promise<number> {
    const m = await this.waitLog(/Listening for client connections on [^\n]*:(\d+)\n/);
    await this.waitLog(/Server is ready/);
    return Number(m[1]);
  }

  /** Waits for the process to exit (bounded). */
  async wait(ms = 10_000): Promise<Deno.CommandStatus> {
    const t = setTimeout(() => this.kill("SIGKILL"), ms);
    try {
      const s = await this.#status;
      await this.#reading;
      return s;
    } finally {
      clearTimeout(t);
    }
  }

  kill(sig: Deno.Signal): void {
    try {
      this.child.kill(sig);
    } catch {
      // Already gone.
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.exited) this.kill("SIGKILL");
    await this.#status;
    await this.#reading;
  }
}

/** Runs a short-lived command (-t, --signal, -v) to completion. */
async function runOnce(
  kind: Kind,
  args: string[],
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, all] = kind === "natsdeno" ? [Deno.execPath(), ["run", "-A", MAIN, ...args]] : [REF!, args];
  const out = await new Deno.Command(cmd, { args: all, cwd, stdout: "piped", stderr: "piped", stdin: "null" })
    .output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The ports file name each implementation writes for a process. */
function portsFile(kind: Kind, dir: string, pid: number): string {
  return `${dir}/${kind}_${pid}.ports`;
}

async function readWhenThere(path: string, ms = 5_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await Deno.readTextFile(path);
    } catch (e) {
      if (Date.now() > end) throw e;
      await delay(25);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "natsdeno-cli-" });
}

/** Replaces port numbers in URLs by "PORT", so two runs can be compared. */
function normalizePorts(json: string): unknown {
  return JSON.parse(json.replace(/:(\d+)"/g, ':PORT"'));
}

Deno.test("CLI: -a, -p -1, -n, -P and --ports_file_dir start the server; pid and ports files as nats-server", async () => {
  const seen: Record<string, unknown> = {};
  for (const kind of KINDS) {
    const dir = await tempDir();
    try {
      const pidFile = `${dir}/server.pid`;
      await using p = new Proc(kind, [
        "-a",
        "127.0.0.1",
        "-p",
        "-1",
        "-n",
        "cli-test",
        "-P",
        pidFile,
        "--ports_file_dir",
        dir,
      ]);
      const port = await p.ready();
      assert(port > 0 && port !== 4222);
      assertEquals(await readWhenThere(pidFile), String(p.pid));
      const ports = await readWhenThere(portsFile(kind, dir, p.pid));
      assertEquals(JSON.parse(ports), { nats: [`nats://127.0.0.1:${port}`] });
      seen[kind] = normalizePorts(ports);
      await using c = await RawClient.connect(port);
      const info = await c.info();
      assertEquals([info.server_name, info.host, info.port], ["cli-test", "127.0.0.1", port]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  if (REF) assertEquals(seen["natsdeno"], seen["nats-server"]);
});

const CONF = (dir: string) => `
listen: 127.0.0.1:-1
http: 127.0.0.1:-1
ports_file_dir: "${dir}"
max_payload: 4096
max_connections: 100
ping_interval: "30s"
authorization {
  users = [
    {user: alice, password: foo}
    {user: bob, password: bar, permissions: {publish: "bob.>", subscribe: "_INBOX.>"}}
  ]
}
`;

Deno.test("CLI: -c with auth, limits, monitoring and ports_file_dir starts as nats-server does", async () => {
  const seen: Record<string, unknown> = {};
  for (const kind of KINDS) {
    const dir = await tempDir();
    try {
      const conf = `${dir}/server.conf`;
      await Deno.writeTextFile(conf, CONF(dir));
      await using p = new Proc(kind, ["-c", conf]);
      const port = await p.ready();
      assertStringIncludes(p.log, `Using configuration file: ${conf}`);
      const ports = JSON.parse(await readWhenThere(portsFile(kind, dir, p.pid)));
      assertEquals(ports.nats, [`nats://127.0.0.1:${port}`]);
      assertEquals(ports.monitoring.length, 1);
      assertMatch(ports.monitoring[0], /^http:\/\/127\.0\.0\.1:\d+$/);
      seen[kind] = Object.keys(ports).sort();
      const res = await fetch(`${ports.monitoring[0]}/varz`);
      const varz = await res.json();
      assertEquals([varz.max_payload, varz.max_connections], [4096, 100]);
      await using c = await connectRaw(port, null);
      await c.send(`CONNECT {"verbose":false,"user":"bob","pass":"bar"}\r\nPUB foo 1\r\nx\r\n`);
      assertEquals(await c.flush(), `-ERR 'Permissions Violation for Publish to "foo"'\r\n`);
      await using anon = await RawClient.connect(port);
      const info = await anon.info();
      assertEquals([info.auth_required, info.max_payload], [true, 4096]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  if (REF) assertEquals(seen["natsdeno"], seen["nats-server"]);
});

Deno.test("CLI: -t prints the reference's validity line and exits 0; a bad config exits 1", async () => {
  const dir = await tempDir();
  try {
    const conf = `${dir}/server.conf`;
    await Deno.writeTextFile(conf, CONF(dir));
    const bad = `${dir}/bad.conf`;
    await Deno.writeTextFile(bad, "listen: 127.0.0.1:-1\nmax_payload: {\n");
    const results: Record<string, { code: number; stdout: string; stderr: string }[]> = {};
    for (const kind of KINDS) {
      const ok = await runOnce(kind, ["-t", "-c", "server.conf"], dir);
      assertEquals(ok.code, 0, ok.stderr);
      assertEquals(ok.stderr, "nats-server: configuration file server.conf is valid\n");
      const ko = await runOnce(kind, ["-t", "-c", bad]);
      assertEquals(ko.code, 1);
      assertEquals(ko.stderr, "nats-server: Parse error on line 3: 'Unexpected EOF processing map.'\n");
      results[kind] = [ok, ko];
    }
    if (REF) {
      assertEquals(results["natsdeno"][0].stderr, results["nats-server"][0].stderr);
      assertEquals(results["natsdeno"][0].stdout, results["nats-server"][0].stdout);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI: -t runs the account checks: import authorization, unknown accounts and cycles", async () => {
  const dir = await tempDir();
  const confs: Record<string, [string, string]> = {
    "cycle.conf": [
      `listen: 127.0.0.1:-1
accounts {
  A { exports [ {service: "foo"} ], imports [ {service: {account: B, subject: "foo"}} ] }
  B { exports [ {service: "foo"} ], imports [ {service: {account: A, subject: "foo"}} ] }
}
`,
      'nats-server: cycle.conf:2:1: Error adding service import "foo": import forms a cycle\n\n',
    ],
    "auth.conf": [
      `listen: 127.0.0.1:-1
accounts {
  A { exports [ {stream: "foo.>", accounts: [C]} ] }
  B { imports [ {stream: {account: A, subject: "foo.>"}}, {stream: {account: Z, subject: "x"}} ] }
  C {}
}
`,
      'nats-server: auth.conf:2:1: Error adding stream import "foo.>": stream import not authorized\n' +
      'auth.conf:2:1: "Z" account not defined for stream import\n\n',
    ],
  };
  try {
    for (const [name, [text]] of Object.entries(confs)) await Deno.writeTextFile(`${dir}/${name}`, text);
    for (const kind of KINDS) {
      for (const [name, [, want]] of Object.entries(confs)) {
        const r = await runOnce(kind, ["-t", "-c", name], dir);
        assertEquals([r.code, r.stderr], [1, want], `${kind} ${name}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI: --signal reload/ldm/quit reach the server by pid and by pid file", async () => {
  const dir = await tempDir();
  try {
    const pidFile = `${dir}/server.pid`;
    const conf = `${dir}/server.conf`;
    await Deno.writeTextFile(
      conf,
      `listen: 127.0.0.1:-1\npid_file: "${pidFile}"\nlame_duck_duration: "30s"\nlame_duck_grace_period: "200ms"\n`,
    );
    {
      await using p = new Proc("natsdeno", ["-c", conf]);
      await p.ready();
      await readWhenThere(pidFile);
      assertEquals((await runOnce("natsdeno", ["--signal", `reload=${p.pid}`])).code, 0);
      await p.waitLog(/\[INF\] Reloaded server configuration/);
      assertEquals((await runOnce("natsdeno", ["--signal", `reload=${pidFile}`])).code, 0);
      await p.waitLog(/Reloaded server configuration[\s\S]*Reloaded server configuration/);
      assertEquals((await runOnce("natsdeno", ["--signal", `quit=${pidFile}`])).code, 0);
      assertEquals((await p.wait()).code, 0);
    }
    {
      await using p = new Proc("natsdeno", ["-c", conf]);
      await p.ready();
      assertEquals((await runOnce("natsdeno", ["-sl", `ldm=${p.pid}`])).code, 0);
      await p.waitLog(/Entering lame duck mode, stop accepting new clients/);
      assertEquals((await p.wait()).code, 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI: SIGHUP applies logging, max_payload and users without dropping clients; refusals are logged", async () => {
  const logs: Record<string, string> = {};
  for (const kind of KINDS) {
    const dir = await tempDir();
    try {
      const conf = `${dir}/server.conf`;
      const users = (pass: string) => `authorization { users = [ {user: alice, password: ${pass}} ] }`;
      await Deno.writeTextFile(conf, `listen: 127.0.0.1:-1\nmax_subs: 100\n${users("foo")}\n`);
      await using p = new Proc(kind, ["-c", conf]);
      const port = await p.ready();
      await using c = await connectRaw(port, { verbose: false, protocol: 1, user: "alice", pass: "foo" });
      await c.send("SUB foo 1\r\n");
      await c.flush();

      // Reloadable: debug on, max_payload lowered, a user added (alice unchanged).
      await Deno.writeTextFile(
        conf,
        `listen: 127.0.0.1:-1\nmax_subs: 100\ndebug: true\nmax_payload: 100\n` +
          `authorization { users = [ {user: alice, password: foo}, {user: bob, password: bar} ] }\n`,
      );
      p.kill("SIGHUP");
      await p.waitLog(/\[INF\] Reloaded server configuration/);
      assertStringIncludes(p.log, "[INF] Reloaded: debug = true");
      assertStringIncludes(p.log, "[INF] Reloaded: max_payload = 100");
      assertStringIncludes(p.log, "[INF] Reloaded: authorization users");
      // The client is still connected and served; the new limit applies to it.
      await c.send("PUB foo 2\r\nhi\r\n");
      await c.expect(/^MSG foo 1 2\r\nhi\r\n/);
      await using bob = await connectRaw(port, { verbose: false, user: "bob", pass: "bar" });
      assertEquals(await bob.flush(), "");
      await c.send(`PUB foo 200\r\n${"x".repeat(200)}\r\n`);
      await c.expect(/^-ERR 'Maximum Payload Violation'\r\n/);

      // Not reloadable: max_subs. The server logs the refusal and keeps running.
      await Deno.writeTextFile(conf, `listen: 127.0.0.1:-1\nmax_subs: 5\n${users("foo")}\n`);
      p.kill("SIGHUP");
      const m = await p.waitLog(/\[ERR\] (Failed to reload server configuration: [^\n]*)\n/);
      assertEquals(
        m[1],
        "Failed to reload server configuration: config reload not supported for MaxSubs: old=100, new=5",
      );
      logs[kind] = m[1];
      await using again = await connectRaw(port, { verbose: false, user: "alice", pass: "foo" });
      assertEquals(await again.flush(), "");
      p.kill("SIGINT");
      assertEquals((await p.wait()).code, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  if (REF) assertEquals(logs["natsdeno"], logs["nats-server"]);
});

Deno.test("CLI: SIGTERM exits 1 and SIGINT exits 0, as nats-server; ports file removed, pid file kept", async () => {
  for (const kind of KINDS) {
    for (const [sig, code] of [["SIGTERM", 1], ["SIGINT", 0]] as const) {
      const dir = await tempDir();
      try {
        const pidFile = `${dir}/server.pid`;
        await using p = new Proc(kind, [
          "-a",
          "127.0.0.1",
          "-p",
          "-1",
          "-P",
          pidFile,
          "--ports_file_dir",
          dir,
        ]);
        const port = await p.ready();
        await using c = await connectRaw(port);
        await c.flush();
        const pf = portsFile(kind, dir, p.pid);
        await readWhenThere(pf);
        p.kill(sig);
        const st = await p.wait();
        assertEquals(st.code, code, `${kind} ${sig}`);
        await c.waitClosed();
        assertStringIncludes(p.log, "[INF] Initiating Shutdown...");
        assertStringIncludes(p.log, "[INF] Server Exiting..");
        assert(!(await exists(pf)), `${kind}: ports file removed`);
        assert(await exists(pidFile), `${kind}: pid file kept`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  }
});

Deno.test("CLI: SIGUSR2 lame duck: INFO with ldm to protocol-1 clients, no new connections, clients closed, exit", async () => {
  for (const kind of KINDS) {
    const dir = await tempDir();
    try {
      const conf = `${dir}/server.conf`;
      await Deno.writeTextFile(
        conf,
        // 30s is the shortest duration the reference accepts; with two clients the closes are ≤1s apart.
        `listen: 127.0.0.1:-1\nlame_duck_duration: "30s"\nlame_duck_grace_period: "500ms"\n`,
      );
      await using p = new Proc(kind, ["-c", conf]);
      const port = await p.ready();
      await using c1 = await connectRaw(port, { verbose: false, protocol: 1 });
      await c1.flush();
      await using c0 = await connectRaw(port, { verbose: false, protocol: 0 });
      await c0.flush();
      p.kill("SIGUSR2");
      await p.waitLog(/\[INF\] Entering lame duck mode, stop accepting new clients/);
      const info = JSON.parse((await c1.expect(/^INFO (\{.*\}) ?\r\n/, 3_000))[1]);
      assertEquals(info.ldm, true, kind);
      let refused = false;
      try {
        const n = await RawClient.connect(port);
        n.close();
      } catch {
        refused = true;
      }
      assert(refused, `${kind}: new connections refused in lame duck mode`);
      await c1.waitClosed(5_000);
      await c0.waitClosed(5_000);
      assertEquals(c0.buffered, "", "protocol-0 client got no INFO");
      const st = await p.wait();
      assertEquals(st.code, 0, kind);
      assertStringIncludes(p.log, "[INF] Closing existing clients");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
