/**
 * Compile-fail checks for the Middleware type: each `tests/types/fail/middleware_*.ts` must fail
 * `deno check` with exactly one error, the one its marker line states:
 * `// must fail: TS<code> <part of the message>`, right above the line the compiler reports.
 * (`deno task check` leaves `tests/types/fail/` out.) Under `bun test` this runs Deno's checker
 * too.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { test } from "../_harness.ts";
import { runCommand, runtimeBinary } from "../_process.ts";

const root = new URL("../../", import.meta.url).pathname;
const DIR = "tests/types/fail";
const MARKER = /^\s*\/\/ must fail: (TS\d+) (.+)$/;
const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

const files = (await readdir(`${root}${DIR}`))
  .filter((name) => name.startsWith("middleware_") && name.endsWith(".ts"))
  .sort()
  .map((name) => `${DIR}/${name}`);

let checked: Promise<string> | undefined;

/** Runs `deno check` on every fixture at once; resolves with what it printed, uncoloured. */
function check(): Promise<string> {
  checked ??= runCommand([
    runtimeBinary("deno"),
    "check",
    "--config",
    `${root}deno.json`,
    ...files.map((file) => `${root}${file}`),
  ]).then(({ code, stdout, stderr }) => {
    const output = `${stdout}\n${stderr}`.replace(COLOUR, "");
    assert.notEqual(code, 0, `deno check passed:\n${output}`);
    return output;
  });
  return checked;
}

/** The errors deno check reported in one file: code, message chain, line. */
function errorsIn(output: string, file: string): { code: string; message: string; line: number }[] {
  return output.split(/^(?=TS\d+ \[ERROR\]: )/m).flatMap((block) => {
    const location = /^ {4}at file:\/\/(.+):(\d+):\d+$/m.exec(block);
    const code = /^(TS\d+) \[ERROR\]: /.exec(block)?.[1];
    if (!code || !location || location[1] !== `${root}${file}`) return [];
    return [{ code, message: block, line: Number(location[2]) }];
  });
}

test("types: the fixtures of middleware that must not compile are found", () => {
  assert.ok(files.length >= 2, `found ${files.join(", ")}`);
});

for (const file of files) {
  const lines = (await readFile(`${root}${file}`, "utf8")).split("\n");
  const markers = lines.flatMap((line, i) => {
    const match = MARKER.exec(line);
    return match ? [{ line: i + 2, code: match[1]!, message: match[2]! }] : [];
  });
  test(`types: ${file.slice(DIR.length + 1)} does not compile, for the marked reason`, async () => {
    assert.equal(markers.length, 1, "a fixture has exactly one `// must fail:` line");
    const expected = markers[0]!;
    const errors = errorsIn(await check(), file);
    assert.equal(errors.length, 1, `expected exactly one error:\n${errors.map((e) => e.message)}`);
    const [error] = errors;
    assert.deepEqual({ code: error!.code, line: error!.line }, {
      code: expected.code,
      line: expected.line,
    });
    assert.ok(error!.message.includes(expected.message), error!.message);
  });
}
