/**
 * Runs the whole test suite: every test file under Deno (plus the JSDoc examples), then the same
 * files under Bun. First it sets up what the suite needs (scripts/_tools.ts: Bun into .tools/,
 * node_modules, Chromium), or stops with one line saying what to install. Afterwards it checks
 * that the tests left the checkout as they found it (that counts as one test). Ends with one
 * line `N passed, N failed` summing everything; exits 1 if anything failed.
 *
 * Usage: deno task test [--deno-only | --bun-only] [filter paths...]
 */
import { setUp, SetupError, type Tools } from "./_tools.ts";

const root = new URL("..", import.meta.url).pathname;
const args = Deno.args.filter((arg) => !arg.startsWith("--"));
const only = Deno.args.find((arg) => arg === "--deno-only" || arg === "--bun-only");

interface Result {
  name: string;
  passed: number;
  failed: number;
}

async function run(
  name: string,
  command: string,
  commandArgs: string[],
  env: Record<string, string>,
): Promise<string> {
  console.log(`\n== ${name}: ${command} ${commandArgs.join(" ")}`);
  const child = new Deno.Command(command, {
    args: commandArgs,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>, out: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      await out.write(chunk);
    }
  };
  await Promise.all([pump(child.stdout, Deno.stdout), pump(child.stderr, Deno.stderr)]);
  await child.status;
  return text;
}

/** Every path in the checkout but .git/, with what changes when a file is written. */
async function snapshot(dir = root, prefix = ""): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    const path = `${prefix}${entry.name}`;
    if (path === ".git") continue;
    const info = await Deno.lstat(`${dir}/${entry.name}`);
    if (entry.isDirectory) {
      entries.set(`${path}/`, "directory");
      for (const [p, v] of await snapshot(`${dir}/${entry.name}`, `${path}/`)) entries.set(p, v);
    } else {
      entries.set(path, `${info.size} bytes, modified ${info.mtime?.toISOString()}`);
    }
  }
  return entries;
}

/** The checkout after the run against before it: what appeared, changed or went away. */
function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [path, state] of after) {
    if (!before.has(path)) lines.push(`  left behind: ${path}`);
    else if (before.get(path) !== state) lines.push(`  changed: ${path}`);
  }
  for (const path of before.keys()) if (!after.has(path)) lines.push(`  removed: ${path}`);
  return lines;
}

let tools: Tools;
try {
  tools = await setUp("test");
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`error: ${error.message}`);
  console.log("0 passed, 1 failed");
  Deno.exit(1);
}
// The tests start the other runtime too (cross-runtime, codegen and compiled-binary tests).
const env = { MICROAPI_TEST_DENO: Deno.execPath(), MICROAPI_TEST_BUN: tools.bun };
const results: Result[] = [];
const before = await snapshot();

if (only !== "--bun-only") {
  const targets = args.length > 0 ? args : ["tests/"];
  const denoArgs = ["test", "-A", "--no-check=remote", ...targets];
  if (args.length === 0) denoArgs.push("--doc", "mod.ts", "src/");
  const text = await run("deno", Deno.execPath(), denoArgs, env);
  const match = /(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/.exec(text);
  results.push(
    match
      ? { name: "deno", passed: Number(match[1]), failed: Number(match[2]) }
      : { name: "deno (no summary: the runner crashed)", passed: 0, failed: 1 },
  );
}

if (only !== "--deno-only") {
  const targets = args.length > 0 ? args.map((arg) => `./${arg}`) : ["./tests/"];
  try {
    const text = await run("bun", tools.bun, ["test", "--timeout", "30000", ...targets], env);
    const passed = /^\s*(\d+) pass$/m.exec(text);
    const failed = /^\s*(\d+) fail$/m.exec(text);
    results.push(
      passed && failed
        ? { name: "bun", passed: Number(passed[1]), failed: Number(failed[1]) }
        : { name: "bun (no summary: the runner crashed)", passed: 0, failed: 1 },
    );
  } catch (error) {
    console.error(`error: cannot start ${tools.bun}: ${error}`);
    results.push({ name: "bun (could not start)", passed: 0, failed: 1 });
  }
}

const leftovers = changes(before, await snapshot());
if (leftovers.length > 0) {
  console.log("\nThe tests changed the checkout:");
  for (const line of leftovers.slice(0, 20)) console.log(line);
  if (leftovers.length > 20) console.log(`  ... and ${leftovers.length - 20} more`);
}
results.push({
  name: "checkout unchanged",
  passed: leftovers.length === 0 ? 1 : 0,
  failed: leftovers.length === 0 ? 0 : 1,
});

console.log("");
for (const r of results) console.log(`${r.name}: ${r.passed} passed, ${r.failed} failed`);
const passed = results.reduce((sum, r) => sum + r.passed, 0);
const failed = results.reduce((sum, r) => sum + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);
