// deno-lint-ignore-file no-console
// `deno task compile`: builds the single executable dist/natsdeno with `deno compile`. That step
// needs Deno's `denort` runtime: deno downloads it from dl.deno.land unless DENORT_BIN points at a
// local copy of the same version, which deno compile honours. Extra arguments go to deno compile.

const ROOT = new URL("..", import.meta.url).pathname;
const OUT = "dist/natsdeno";

async function main(): Promise<number> {
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) {
    try {
      if (!Deno.statSync(denort).isFile) throw new Error("not a file");
    } catch (err) {
      console.error(
        `compile: DENORT_BIN=${denort} is not usable (${err instanceof Error ? err.message : err})`,
      );
      return 1;
    }
    console.error(`compile: using DENORT_BIN=${denort} (must be denort ${Deno.version.deno})`);
  }
  Deno.mkdirSync(`${ROOT}dist`, { recursive: true });
  const args = ["compile", "--allow-all", "-o", OUT, ...Deno.args, "main.ts"];
  console.error(`compile: deno ${args.join(" ")}`);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "inherit",
    stderr: "piped",
    // The environment, DENORT_BIN included, is inherited as is.
  }).spawn();
  // Pass deno's messages through while keeping them to recognise a blocked download.
  let errText = "";
  const dec = new TextDecoder();
  for await (const chunk of child.stderr) {
    await Deno.stderr.write(chunk);
    errText = (errText + dec.decode(chunk)).slice(-20_000);
  }
  const { code } = await child.status;
  if (code === 0) {
    console.error(`compile: wrote ${OUT} (${(Deno.statSync(`${ROOT}${OUT}`).size / 1e6).toFixed(1)} MB)`);
    return 0;
  }
  if (
    !denort && /denort|dl\.deno\.land|error sending request|dns error|Setting up base binary/i.test(errText)
  ) {
    console.error(
      [
        "",
        `compile: deno compile could not download its runtime (denort ${Deno.version.deno}): this machine cannot`,
        "reach dl.deno.land. Either",
        `  - set DENORT_BIN to a local denort ${Deno.version.deno} binary (denort-x86_64-unknown-linux-gnu.zip from`,
        "    the Deno release page, fetched on a connected machine) and run `deno task compile` again, or",
        "  - use `deno task bundle`, which writes dist/natsdeno.js; run it with `deno run -A dist/natsdeno.js`.",
      ].join("\n"),
    );
  }
  return code || 1;
}

Deno.exit(await main());
