/** The Middleware type holds middleware to returning next()'s promise (a compile-fail check). */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../_harness.ts";
import { runCommand, runtimeBinary } from "../_process.ts";

const root = new URL("../../", import.meta.url).pathname;
const file = "tests/schema/compile_fail/middleware_not_waiting.mts";

test("Middleware: a middleware that does not return next()'s promise does not compile", async () => {
  const source = await readFile(`${root}${file}`, "utf8");
  const expected: number[] = [];
  source.split("\n").forEach((line, i) => line.endsWith("// error") && expected.push(i + 1));
  assert.equal(expected.length, 2, "the file marks the lines that must fail");
  const { code, stderr, stdout } = await runCommand([
    runtimeBinary("deno"),
    "check",
    "--config",
    `${root}deno.json`,
    `${root}${file}`,
  ]);
  // deno check colours its report; only the text matters here.
  const output = (stdout + stderr).replace(
    new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"),
    "",
  );
  assert.notEqual(code, 0, `deno check must fail:\n${output}`);
  const errors = [
    ...output.matchAll(
      /^(TS\d+) \[ERROR\]: ([\s\S]*?)\n\s+at \S+middleware_not_waiting\.mts:(\d+):\d+/gm,
    ),
  ].map(([, tsCode, message, line]) => ({ tsCode, message: message!, line: Number(line) }));
  assert.deepEqual(errors.map((e) => e.line), expected, output);
  for (const error of errors) {
    assert.equal(error.tsCode, "TS2322", output);
    assert.match(error.message, /Type 'void' is not assignable to type 'Promise<void>'/);
  }
});
