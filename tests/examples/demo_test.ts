/**
 * The README's first command, `deno task demo` (examples/demo.ts, a Deno program): it calls all
 * four patterns and exits 0, and its output is plain text when piped or when NO_COLOR is set;
 * only on a terminal (a pseudo-terminal from `script`) without NO_COLOR are titles bold.
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { denoBinary, root, run } from "../_cli.ts";

const ESC = "\x1b";
const demo = [denoBinary(), "run", "-A", "--config", `${root}deno.json`, `${root}examples/demo.ts`];

/** The demo on a pseudo-terminal: `script` runs it with a terminal as its stdout. */
function onTerminal(): string[] {
  const command = demo.map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(" ");
  return ["script", "--quiet", "--return", "--command", command, "/dev/null"];
}

test("demo: piped, it calls all four patterns and prints no escape codes (NO_COLOR unset)", async () => {
  const outcome = await run(demo, { env: { NO_COLOR: undefined } });
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /^4\. Bidirectional streaming over a WebSocket/m);
  assert.match(outcome.stdout, /^All four patterns worked\.$/m);
  assert.ok(!outcome.stdout.includes(ESC), JSON.stringify(outcome.stdout));
  assert.ok(!outcome.stderr.includes(ESC), JSON.stringify(outcome.stderr));
});

test("demo: on a terminal its titles are bold, unless NO_COLOR is set", async () => {
  const colored = await run(onTerminal(), { env: { NO_COLOR: undefined } });
  assert.equal(colored.code, 0, colored.stdout + colored.stderr);
  const title = `${ESC}[1m1. Unary: users.getUser${ESC}[0m`;
  assert.ok(colored.stdout.includes(title), JSON.stringify(colored.stdout));
  const plain = await run(onTerminal(), { env: { NO_COLOR: "1" } });
  assert.equal(plain.code, 0, plain.stdout + plain.stderr);
  assert.match(plain.stdout, /All four patterns worked\./);
  assert.ok(!plain.stdout.includes(ESC), JSON.stringify(plain.stdout));
});
