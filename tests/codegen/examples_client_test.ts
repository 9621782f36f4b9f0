import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { cli } from "../_cli.ts";

test("generate: examples/client is what `deno task generate:examples` writes (up to date)", async () => {
  const outcome = await cli([
    "generate",
    "examples/serve.ts",
    "--out",
    "examples/client",
    "--import",
    "../../mod.ts",
    "--check",
  ]);
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /examples\/client\/ is up to date \(4 services, 6 methods/);
});
