/**
 * Generated code is checked with Deno's own tools, as a user's project would: `deno check`,
 * `deno lint`, and `deno fmt --check` at the default width (80) and at 100. Under `bun test` this
 * runs the same Deno binary (Deno is the type checker and formatter either way).
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { test } from "../_harness.ts";
import { cli, denoBinary, modUrl, run, tempDir } from "../_cli.ts";

const SOURCES = {
  kitchen_sink: "tests/codegen/_kitchen_sink.ts",
  long_names: "tests/codegen/_long_names.ts",
  examples: "examples/serve.ts",
};

test("generate: the code passes deno check, deno lint, and deno fmt --check at widths 80 and 100", async () => {
  await using dir = await tempDir();
  const config = {
    imports: { "@microapi/core": modUrl, zod: "npm:zod@^4.6.7" },
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
  const deno = denoBinary();
  const mods = Object.keys(SOURCES).map((name) => `${name}/mod.ts`);
  for (
    const args of [
      ["check", ...mods],
      ["lint"],
      ["fmt", "--check"],
      ["fmt", "--check", "--line-width", "100"],
    ]
  ) {
    const outcome = await run([deno, ...args], { cwd: dir.path });
    assert.equal(outcome.code, 0, `deno ${args.join(" ")}:\n${outcome.stderr}`);
  }
});
