/**
 * The committed console bundle (src/console/_assets.ts) is what `deno task build:console` makes
 * from src/console/page/ today: the test bundles it again (to stdout, the checkout is not touched)
 * and compares.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../_harness.ts";
import { runCommand, runtimeBinary } from "../_process.ts";
import { bundleCommands, CONSOLE_MODULE, renderAssetsModule } from "../../scripts/build_console.ts";

const root = new URL("../../", import.meta.url).pathname;

test("console: src/console/_assets.ts is up to date with src/console/page/", async () => {
  const commands = bundleCommands(runtimeBinary("bun"));
  const script = await runCommand(commands.script);
  assert.equal(script.code, 0, `bundling the script failed: ${script.stderr}`);
  const styles = await runCommand(commands.styles);
  assert.equal(styles.code, 0, `bundling the styles failed: ${styles.stderr}`);
  const expected = await renderAssetsModule(script.stdout, styles.stdout);
  const committed = await readFile(`${root}${CONSOLE_MODULE}`, "utf8");
  assert.ok(
    committed === expected,
    `${CONSOLE_MODULE} is stale: run \`deno task build:console\` and commit the result`,
  );
}, { timeoutMs: 60_000 });

test("console: the bundle carries the client and no server code or zod", async () => {
  const committed = await readFile(`${root}${CONSOLE_MODULE}`, "utf8");
  assert.match(committed, /_microapi\/ws/, "the WebSocket client is in the bundle");
  for (const marker of ["_zod", "ZodType", "Deno.serve", "Bun.serve"]) {
    assert.ok(!committed.includes(marker), `the bundle contains ${marker}`);
  }
});
