// Ports test/pid_test.go: the pid file holds the server's process id.
import { assertEquals } from "@std/assert";
import { runServer } from "../_helpers/server.ts";

Deno.test("TestPidFile: the pid file holds this process's pid after shutdown", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-pid-" });
  const pidFile = `${dir}/nats-server.pid`;
  try {
    const s = await runServer({ pidFile });
    await s.shutdown();
    // As in the reference, the pid file outlives the server.
    const buf = await Deno.readTextFile(pidFile);
    assertEquals(buf.length > 0, true, "expected a non-empty pid file");
    assertEquals(parseInt(buf, 10), Deno.pid);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
