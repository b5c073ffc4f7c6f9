// Ports test/ports_test.go: the ports file (<dir>/<program>_<pid>.ports) and its move on reload.
import { assert, assertEquals } from "@std/assert";
import { runServer } from "../_helpers/server.ts";
import { createConfFile, reloadServer, runServerWithConfig } from "./_util.ts";

/** The ports file name the server writes for this process (in-process servers run under deno: "natsdeno"). */
function portFile(dir: string): string {
  return `${dir}/natsdeno_${Deno.pid}.ports`;
}

async function waitForFile(path: string, ms = 5_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await Deno.readTextFile(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound) || Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 25));
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

Deno.test("TestPortsFile: the ports file lists the client URLs and is removed at shutdown", async () => {
  // The reference also starts monitoring, profiling, cluster and websocket listeners and checks their URLs;
  // blocked: natsdeno has no cluster, websocket or profiler listeners yet, so only "nats" is checked here.
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-ports-" });
  try {
    const s = await runServer({ portsFileDir: dir });
    const path = portFile(dir);
    try {
      const buf = await waitForFile(path);
      assert(buf.length > 0, "expected a non-empty ports file");
      const ports = JSON.parse(buf) as { nats?: string[] };
      assert(ports.nats !== undefined && ports.nats.length > 0, "expected at least one nats url");
      assert(ports.nats[0].startsWith("nats://"), `nats url ${ports.nats[0]}`);
      assertEquals(ports.nats, [`nats://127.0.0.1:${s.port}`]);
    } finally {
      await s.shutdown();
    }
    assert(!(await exists(path)), `the port file ${path} was not deleted`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TestPortsFileReload: changing ports_file_dir on reload moves the ports file", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "natsdeno-ports-" });
  try {
    const dirA = `${tmp}/A`;
    const dirB = `${tmp}/B`;
    await Deno.mkdir(dirA);
    await Deno.mkdir(dirB);
    const conf = await createConfFile(`ports_file_dir: "${dirA}"\nport: -1\nhost: 127.0.0.1\n`);
    await using s = await runServerWithConfig(conf);
    const inA = portFile(dirA);
    assert((await waitForFile(inA)).length > 0);

    await Deno.writeTextFile(conf, `ports_file_dir: "${dirB}"\nport: -1\nhost: 127.0.0.1\n`);
    reloadServer(s);
    const inB = portFile(dirB);
    assert((await waitForFile(inB)).length > 0);
    assert(!(await exists(inA)), `the port file ${inA} was not deleted`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
