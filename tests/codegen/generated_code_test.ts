/**
 * Generated code is checked with Deno's own tools, as a user's project would: `deno check`,
 * `deno lint`, and `deno fmt --check` at its default width (80), the one generated code is laid
 * out for (docs/codegen.md). A standalone client, with the runtime it carries, passes the same
 * checks. Under `bun test` this runs the same Deno binary (Deno is the type checker and formatter
 * either way).
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { test } from "../_harness.ts";
import { cli, denoBinary, run, tempDir } from "../_cli.ts";

const SOURCES = {
  kitchen_sink: "tests/codegen/_kitchen_sink.ts",
  long_names: "tests/codegen/_long_names.ts",
  examples: "examples/serve.ts",
};

test("generate: the code passes deno check, deno lint, and deno fmt --check at the default width; one import per module", async () => {
  await using dir = await tempDir();
  const config = {
    // Generated code imports the client entry point; the import map names it as a project would.
    imports: {
      "@microapi/core/client": new URL("../../src/client/mod.ts", import.meta.url).href,
      zod: "npm:zod@^4.6.7",
    },
    lint: {
      rules: {
        include: ["explicit-module-boundary-types", "eqeqeq", "verbatim-module-syntax"],
      },
    },
  };
  await writeFile(`${dir.path}/deno.json`, JSON.stringify(config, null, 2) + "\n");
  for (const [name, source] of Object.entries(SOURCES)) {
    const outcome = await cli(["generate", source, "--out", `${dir.path}/${name}`]);
    assert.equal(outcome.code, 0, outcome.stderr);
  }
  const standalone = await cli([
    "generate",
    SOURCES.kitchen_sink,
    "--out",
    `${dir.path}/standalone`,
    "--standalone",
  ]);
  assert.equal(standalone.code, 0, standalone.stderr);
  // One declaration per module imported (or re-exported), in every generated file.
  for (const path of await readdir(dir.path, { recursive: true })) {
    if (!path.endsWith(".ts") || path.startsWith("standalone/microapi/")) continue;
    const code = await readFile(`${dir.path}/${path}`, "utf8");
    const modules = [
      ...code.matchAll(/^} from ("[^"]+");$|^(?:import|export)\b.* from ("[^"]+");$/gm),
    ]
      .map((match) => match[1] ?? match[2]);
    assert.deepEqual(modules, [...new Set(modules)], `${path} imports a module twice`);
  }
  const deno = denoBinary();
  const mods = [...Object.keys(SOURCES), "standalone"].map((name) => `${name}/mod.ts`);
  for (const args of [["check", ...mods], ["lint"], ["fmt", "--check"]]) {
    const outcome = await run([deno, ...args], { cwd: dir.path });
    assert.equal(outcome.code, 0, `deno ${args.join(" ")}:\n${outcome.stderr}`);
  }
});
