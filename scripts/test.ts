/**
 * Runs the whole test suite: every test file under Deno (plus the JSDoc examples), then the same
 * files under Bun. Installs Bun into .tools/ when it is missing. Ends with one line
 * `N passed, N failed` summing both runs; exits 1 if anything failed.
 *
 * Usage: deno task test [--deno-only | --bun-only] [filter paths...]
 */

const BUN_VERSION = "1.4.4";
const root = new URL("..", import.meta.url).pathname;
const tools = `${root}.tools`;
const args = Deno.args.filter((arg) => !arg.startsWith("--"));
const only = Deno.args.find((arg) => arg === "--deno-only" || arg === "--bun-only");

interface Result {
  name: string;
  passed: number;
  failed: number;
}

async function run(name: string, command: string, commandArgs: string[]): Promise<string> {
  console.log(`\n== ${name}: ${command} ${commandArgs.join(" ")}`);
  const child = new Deno.Command(command, {
    args: commandArgs,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
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

async function ensureBun(): Promise<string> {
  const bin = `${tools}/node_modules/.bin/bun`;
  const current = await new Deno.Command(bin, { args: ["--version"], stdout: "piped" }).output()
    .then((out) => new TextDecoder().decode(out.stdout).trim()).catch(() => "");
  if (current !== BUN_VERSION) {
    console.log(`Installing bun@${BUN_VERSION} into .tools/ ...`);
    const out = await new Deno.Command("npm", {
      args: ["install", "--prefix", tools, "--no-audit", "--no-fund", `bun@${BUN_VERSION}`],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("npm install of bun failed");
  }
  // Bun resolves zod from node_modules (Deno reads deno.json instead).
  const install = await new Deno.Command(bin, {
    args: ["install", "--frozen-lockfile", "--silent"],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!install.success) throw new Error("bun install failed");
  return bin;
}

const results: Result[] = [];

// Bun is needed by both runs: the Deno suite bundles the browser client and starts Bun servers
// (cross-runtime and compiled-binary tests), so node_modules must exist before either starts.
let bun: string | undefined;
let bunError: unknown;
try {
  bun = await ensureBun();
} catch (error) {
  bunError = error;
}

if (only !== "--bun-only") {
  const targets = args.length > 0 ? args : ["tests/"];
  const denoArgs = ["test", "-A", "--no-check=remote", ...targets];
  if (args.length === 0) denoArgs.push("--doc", "mod.ts", "src/");
  const text = await run("deno", Deno.execPath(), denoArgs);
  const match = /(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/.exec(text);
  results.push(
    match
      ? { name: "deno", passed: Number(match[1]), failed: Number(match[2]) }
      : { name: "deno (no summary: the runner crashed)", passed: 0, failed: 1 },
  );
}

if (only !== "--deno-only") {
  let result: Result;
  try {
    if (bun === undefined) throw bunError;
    const targets = args.length > 0 ? args.map((arg) => `./${arg}`) : ["./tests/"];
    const text = await run("bun", bun, ["test", "--timeout", "30000", ...targets]);
    const passed = /^\s*(\d+) pass$/m.exec(text);
    const failed = /^\s*(\d+) fail$/m.exec(text);
    result = passed && failed
      ? { name: "bun", passed: Number(passed[1]), failed: Number(failed[1]) }
      : { name: "bun (no summary: the runner crashed)", passed: 0, failed: 1 };
  } catch (error) {
    console.error(error);
    result = { name: "bun (could not start)", passed: 0, failed: 1 };
  }
  results.push(result);
}

console.log("");
for (const r of results) console.log(`${r.name}: ${r.passed} passed, ${r.failed} failed`);
const passed = results.reduce((sum, r) => sum + r.passed, 0);
const failed = results.reduce((sum, r) => sum + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);
