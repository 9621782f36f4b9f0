/**
 * scripts/stress.ts, `deno task stress`: its one assertion is that the server still answers after
 * each scenario. Against a server that crashes under the flood (the fixture server with
 * `exitAfterCalls`), the run must say so and exit 1; against a healthy one, the flood must pass
 * the server's limit (some calls refused with 503, some answered) and the run exit 0.
 */
import assert from "node:assert/strict";
import { runtime, test } from "../_harness.ts";
import { denoBinary, root, run } from "../_cli.ts";

/** The flood alone, quick, against a server on the runtime running this test. */
function flood(serverOptions: Record<string, unknown> = {}) {
  return run([
    denoBinary(),
    "run",
    "-A",
    `${root}scripts/stress.ts`,
    "--quick",
    "--runtime",
    runtime,
    "--scenario",
    "flood",
    "--server-options",
    JSON.stringify(serverOptions),
  ], { cwd: root, timeoutMs: 90_000 });
}

test(`scripts/stress.ts: a ${runtime} server that dies in the flood fails the run`, async () => {
  const outcome = await flood({ exitAfterCalls: 50 });
  assert.equal(outcome.code, 1, outcome.stdout + outcome.stderr);
  const row = outcome.stdout.split("\n").find((line) => line.startsWith(`| ${runtime} | flood |`));
  assert.ok(row, outcome.stdout);
  assert.match(row, /the server exited with code 3 \| [^|]+ \| \*\*no\*\* \|$/);
  assert.match(outcome.stdout, new RegExp(`^stress: FAILED: ${runtime} flood `, "m"));
}, { timeoutMs: 90_000 });

test(
  `scripts/stress.ts: the flood passes a ${runtime} server's limit, which survives`,
  async () => {
    const outcome = await flood();
    assert.equal(outcome.code, 0, outcome.stdout + outcome.stderr);
    const row = outcome.stdout.split("\n").find((line) =>
      line.startsWith(`| ${runtime} | flood |`)
    );
    assert.ok(row, outcome.stdout);
    const figures = /: ([\d ]+) ok, ([\d ]+) 503 resource_exhausted \|/.exec(row);
    assert.ok(figures, row);
    const [ok, refused] = [figures[1]!, figures[2]!].map((n) => Number(n.replaceAll(" ", "")));
    assert.ok(ok! > 0 && refused! > 0, row);
    assert.match(row, /\| yes \|$/);
  },
  { timeoutMs: 90_000 },
);
