/**
 * scripts/bundle_size.ts, the README's browser bundle figures: a generated client bundled for the
 * browser stays under the 15 KB (gzipped) target with the client entry point, and the script's
 * figures are real bundles (the whole library is several times larger).
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { denoBinary, root, run } from "../_cli.ts";

test(
  "scripts/bundle_size.ts: a generated client for the browser is under 15 KB gzipped",
  async () => {
    const outcome = await run([
      denoBinary(),
      "run",
      "-A",
      `${root}scripts/bundle_size.ts`,
      "--json",
    ], {
      cwd: root,
      timeoutMs: 120_000,
    });
    assert.equal(outcome.code, 0, outcome.stderr);
    const sizes = JSON.parse(outcome.stdout) as { runtime: string; raw: number; gzip: number }[];
    const of = (runtime: string) => sizes.find((size) => size.runtime === runtime)!;
    const client = of("@microapi/core/client");
    const core = of("@microapi/core");
    assert.ok(client.gzip < 15_000, `the client bundle is ${client.gzip} B gzipped`);
    assert.ok(client.gzip < client.raw, JSON.stringify(client));
    assert.ok(core.gzip > 2 * client.gzip, `the whole library: ${JSON.stringify(core)}`);
  },
  { timeoutMs: 120_000 },
);
