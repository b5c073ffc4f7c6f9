// natsdeno command line: takes nats-server's flags and config file and runs a server until a signal stops it.
import { runCli } from "./src/cli.ts";

Deno.exit(await runCli(Deno.args));
