// deno-lint-ignore-file no-console
// Module-boundary check for src/ (`deno task lint:imports`), in the spirit of std's lint:circular:
// a cross-folder import must name the folder's mod.ts (files directly in src/, such as cli.ts, too), follow the "Module boundaries" table of
// STYLE.md, and no two folders may depend on each other through any chain. Exits 1 with a list.

import { join, relative, resolve } from "node:path";

/** STYLE.md "Module boundaries": folder → folders it may import directly. "And below" is expanded. */
const DIRECT: Record<string, string[]> = {
  util: [],
  protocol: ["util"],
  sublist: ["util"],
  config: ["util"],
  auth: ["util", "config"],
  store: ["util", "sublist"],
  raft: ["util", "store"],
  net: ["util", "protocol"],
  server: ["util", "protocol", "sublist", "auth", "config", "net"],
  cluster: ["server", "net"],
  jetstream: ["server", "store", "raft"],
  monitor: ["server"],
  events: ["server"],
};
/** Folders that may be imported with `import type` only. */
const TYPE_ONLY: Record<string, string[]> = { monitor: ["jetstream"], events: ["jetstream"] };

/** "X and below": a folder may use whatever the folders it may import may use. */
function closure(folder: string, seen = new Set<string>()): Set<string> {
  for (const d of DIRECT[folder] ?? []) {
    if (!seen.has(d)) {
      seen.add(d);
      closure(d, seen);
    }
  }
  return seen;
}

interface Edge {
  file: string;
  line: number;
  target: string;
  typeOnly: boolean;
}

const IMPORT_RE =
  /(?:^|;)[ \t]*(?:import|export)\s+(type\s+)?([\w\s{},*$]*?)\s*from\s*["']([^"']+)["']|(?:^|;)[ \t]*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

function* walk(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* walk(p);
    else if (/\.(ts|tsx|js|mjs)$/.test(e.name)) yield p;
  }
}

function imports(file: string): Edge[] {
  const text = Deno.readTextFileSync(file);
  const out: Edge[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[3] ?? m[4] ?? m[5];
    if (!spec.startsWith(".") && !spec.startsWith("/")) continue; // npm:, node:, import-map names
    const names = m[2] ?? "";
    const inlineTypes = /^\{[^}]*\}$/s.test(names.trim()) &&
      names.replace(/[{}\s]/g, "").split(",").filter(Boolean).every((n) => n.startsWith("type"));
    const line = text.slice(0, m.index).split("\n").length;
    out.push({ file, line, target: resolve(join(file, ".."), spec), typeOnly: Boolean(m[1]) || inlineTypes });
  }
  return out;
}

function main(): number {
  const root = resolve(Deno.args[0] ?? new URL("../src", import.meta.url).pathname);
  const rel = (p: string) => relative(join(root, ".."), p);
  const folderOf = (p: string) => relative(root, p).split("/")[0];
  const problems: string[] = [];
  const graph = new Map<string, Map<string, Edge>>();
  let files = 0;
  let cross = 0;
  for (const file of walk(root)) {
    files++;
    const top = !relative(root, file).includes("/");
    const from = top ? "(src)" : folderOf(file);
    if (!top && !(from in DIRECT)) {
      problems.push(`${rel(file)}: folder src/${from}/ is not in the STYLE.md module table`);
      continue;
    }
    for (const e of imports(file)) {
      const where = `${rel(file)}:${e.line}`;
      const r = relative(root, e.target);
      if (r.startsWith("..")) {
        problems.push(`${where} imports ${rel(e.target)}, outside src/`);
        continue;
      }
      if (!r.includes("/")) {
        // Files directly in src/ (cli.ts, the embedding entry) sit above every folder.
        if (!top) {
          problems.push(`${where} imports ${rel(e.target)}: folders may not import files of src/ itself`);
        }
        continue;
      }
      const to = folderOf(e.target);
      if (to === from) continue;
      cross++;
      if (r !== `${to}/mod.ts`) {
        problems.push(
          `${where} imports ${rel(e.target)}: other folders are reached only through src/${to}/mod.ts`,
        );
      }
      const allowed = top || closure(from).has(to) || (e.typeOnly && (TYPE_ONLY[from] ?? []).includes(to));
      if (!allowed) {
        const how = (TYPE_ONLY[from] ?? []).includes(to) ? " except with `import type`" : "";
        problems.push(
          `${where} imports src/${to}/: ${from} may not depend on ${to}${how} (STYLE.md module table)`,
        );
      }
      if (top) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      if (!graph.get(from)!.has(to)) graph.get(from)!.set(to, e);
    }
  }
  // Folder cycles, from the imports as written (whether or not the table allows each edge).
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (f: string): void => {
    state.set(f, "open");
    stack.push(f);
    for (const [to, e] of graph.get(f) ?? []) {
      if (state.get(to) === "open") {
        const cyc = [...stack.slice(stack.indexOf(to)), to];
        const key = [...cyc.slice(0, -1)].sort().join(",");
        if (!reported.has(key)) {
          reported.add(key);
          problems.push(`folder cycle ${cyc.join(" → ")} (closing import at ${rel(e.file)}:${e.line})`);
        }
      } else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);

  if (problems.length > 0) {
    console.error(`check_imports: ${problems.length} problem(s) in ${rel(root)}/:`);
    for (const p of problems) console.error(`  - ${p}`);
    return 1;
  }
  console.log(`check_imports: ${files} files, ${cross} cross-folder imports, module boundaries OK`);
  return 0;
}

Deno.exit(main());
