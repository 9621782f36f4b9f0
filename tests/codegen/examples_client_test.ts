import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../_harness.ts";
import { cli, root } from "../_cli.ts";

test("generate: examples/client is what `deno task generate:examples` writes (up to date)", async () => {
  const config = JSON.parse(await readFile(`${root}deno.json`, "utf8"));
  const task: string = config.tasks["generate:examples"];
  const args = task.replace(/^deno run -A cli\.ts /, "").split(" ");
  assert.deepEqual(args.slice(0, 2), ["generate", "examples/serve.ts"], task);
  const outcome = await cli([...args, "--check"]);
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /examples\/client\/ is up to date \(4 services, 6 methods/);
});
