/**
 * Type-level tests: what the compiler accepts and refuses in handlers, contexts, middleware and
 * clients. The fixtures are type-checked, never run:
 *
 * - `pass/*.ts` must compile. They assert exact types with `assertType<IsExact<A, B>>()`
 *   (tests/types/_assert.ts), and refusals that are plain to see on one line with
 *   `// @ts-expect-error`.
 * - `fail/*.ts` must not compile, each for exactly one reason, stated by one marker line
 *   `// must fail: TS<code> <part of the message>` right above the line the compiler reports.
 *   They are for refusals where the reason matters and `@ts-expect-error` would accept any error:
 *   a handler that does not fit its method is reported on the handler's first line, whatever is
 *   wrong with it.
 *
 * Adding a case is adding one file to either folder; this test finds it. All fixtures are checked
 * by one `deno check` (one program), so a module augmentation in one is seen by all.
 *
 * `deno task check` checks `pass/` with every other test and leaves `fail/` out. Under `bun test`
 * this runs the same Deno binary: Deno is the type checker either way.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { test } from "../_harness.ts";
import { denoBinary, root, run } from "../_cli.ts";

const DIR = "tests/types";
const MARKER = /^\s*\/\/ must fail: (TS\d+) (.+)$/;
/** Bun's limit for the first test, which waits for the check; the check itself gets less. */
const TIMEOUT_MS = 150_000;

/** One error, as `deno check` prints it. */
interface Diagnostic {
  /** `TS2345`. */
  code: string;
  /** The message and its chain of reasons. */
  message: string;
  /** The file, relative to the repository. */
  file: string;
  /** 1-based. */
  line: number;
}

/**
 * The errors in `deno check` output. Each starts with `TS<code> [ERROR]: <message>`, continues
 * with the message chain, the source line and a marker line, then `    at file:///...:line:col`;
 * related information follows, more deeply indented.
 *
 * @param output What `deno check` printed, without colours.
 * @returns The errors.
 */
function parseDiagnostics(output: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const blocks = output.split(/^(?=TS\d+ \[ERROR\]: )/m).filter((b) => /^TS\d+ /.test(b));
  for (const block of blocks) {
    const lines = block.split("\n");
    const at = lines.findIndex((line) => /^ {4}at file:\/\//.test(line));
    const location = /^ {4}at file:\/\/(.+):(\d+):\d+$/.exec(lines[at] ?? "");
    assert.ok(location, `cannot find where this error is:\n${block}`);
    diagnostics.push({
      code: /^(TS\d+)/.exec(block)![1]!,
      // The header and the chain, without the quoted source line and its marker.
      message: lines.slice(0, at - 2).join("\n").replace(/^TS\d+ \[ERROR\]: /, ""),
      file: location[1]!.startsWith(root) ? location[1]!.slice(root.length) : location[1]!,
      line: Number(location[2]),
    });
  }
  return diagnostics;
}

async function fixtures(folder: "pass" | "fail"): Promise<string[]> {
  const names = await readdir(`${root}${DIR}/${folder}`);
  return names.filter((name) => name.endsWith(".ts")).sort().map((name) =>
    `${DIR}/${folder}/${name}`
  );
}

const passing = await fixtures("pass");
const failing = await fixtures("fail");

let checked: Promise<{ code: number; diagnostics: Diagnostic[] }> | undefined;

/** Runs `deno check` on every fixture, once for this file. */
function check(): Promise<{ code: number; diagnostics: Diagnostic[] }> {
  checked ??= (async () => {
    const outcome = await run([denoBinary(), "check", ...passing, ...failing], {
      timeoutMs: TIMEOUT_MS - 10_000,
    });
    const output = `${outcome.stdout}\n${outcome.stderr}`; // without colours: run() sets NO_COLOR
    const diagnostics = parseDiagnostics(output);
    // The parser must account for every error deno counted.
    const found = /^Found (\d+) errors?\./m.exec(output);
    assert.equal(
      diagnostics.length,
      found ? Number(found[1]) : outcome.code === 0 ? 0 : 1,
      `the errors parsed from deno check do not add up:\n${output}`,
    );
    return { code: outcome.code, diagnostics };
  })();
  return checked;
}

function show(diagnostics: Diagnostic[]): string {
  return diagnostics.map((d) => `${d.file}:${d.line} ${d.code} ${d.message}`).join("\n\n");
}

test("types: deno check reports errors only in tests/types/fail/", async () => {
  assert.ok(passing.length > 0 && failing.length > 0, "no fixtures found");
  const { code, diagnostics } = await check();
  assert.notEqual(code, 0, "deno check passed, so the failing fixtures were not checked");
  const elsewhere = diagnostics.filter((d) => !failing.includes(d.file));
  assert.equal(elsewhere.length, 0, `errors outside fail/:\n${show(elsewhere)}`);
}, { timeoutMs: TIMEOUT_MS });

for (const file of passing) {
  test(`types: ${file.slice(DIR.length + 1)} compiles`, async () => {
    const source = await readFile(`${root}${file}`, "utf8");
    assert.equal(
      source.split("\n").filter((line) => MARKER.test(line)).length,
      0,
      "a must-fail marker in a must-pass fixture",
    );
    const errors = (await check()).diagnostics.filter((d) => d.file === file);
    assert.equal(errors.length, 0, show(errors));
  }, { timeoutMs: TIMEOUT_MS });
}

for (const file of failing) {
  const lines = (await readFile(`${root}${file}`, "utf8")).split("\n");
  const markers = lines.flatMap((line, i) => {
    const match = MARKER.exec(line);
    return match ? [{ line: i + 2, code: match[1]!, message: match[2]! }] : [];
  });
  const expected = markers[0];
  test(`types: ${file.slice(DIR.length + 1)} fails with ${expected?.code}`, async () => {
    assert.equal(markers.length, 1, "a must-fail fixture has exactly one `// must fail:` line");
    const errors = (await check()).diagnostics.filter((d) => d.file === file);
    assert.equal(errors.length, 1, `expected exactly one error, got:\n${show(errors)}`);
    const [error] = errors;
    assert.deepEqual(
      { code: error!.code, line: error!.line },
      { code: expected!.code, line: expected!.line },
      show(errors),
    );
    assert.ok(
      error!.message.includes(expected!.message),
      `the message does not contain ${JSON.stringify(expected!.message)}:\n${error!.message}`,
    );
  }, { timeoutMs: TIMEOUT_MS });
}
