/**
 * Compiles the microapi CLI into one executable with `bun build --compile`, which works offline
 * (`deno compile` downloads its runtime at compile time; see docs/cli.md).
 *
 * The executable also carries two prebuilt bundles for `microapi build`: kit.js (the library and
 * the CLI) and zod.js. A server built with it links its service modules against those, so it needs
 * nothing installed either. It also carries the client runtime's source files, which
 * `microapi generate --standalone` writes next to a client, and a snapshot of the library's
 * sources and of zod, which `microapi init` writes into a new project (src/cli/_library.ts).
 *
 * Usage: deno task compile [--out dist/microapi]
 */
import { dirname, resolve } from "node:path";
import { setUp, SetupError } from "./_tools.ts";

const root = new URL("..", import.meta.url).pathname;
const outIndex = Deno.args.indexOf("--out");
const out = resolve(outIndex === -1 ? `${root}dist/microapi` : Deno.args[outIndex + 1]!);

/** A step that failed; it printed why. */
class StepFailed extends Error {}

async function run(command: string, args: string[]): Promise<void> {
  const result = await new Deno.Command(command, {
    args,
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!result.success) {
    throw new StepFailed(`${command} ${args.join(" ")} failed (exit code ${result.code})`);
  }
}

let bun: string;
try {
  // Bun into .tools/ and node_modules/, installed when missing.
  bun = (await setUp("compile")).bun;
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`error: ${error.message}`);
  Deno.exit(1);
}
// Loaded once the tools are there: they read the library's sources (and zod, for the snapshot).
const { clientRuntimeEmbedding } = await import("../src/cli/_client_runtime.ts");
const { snapshotLibrary } = await import("../src/cli/_library.ts");
await Deno.mkdir(dirname(out), { recursive: true });
// In node_modules/, so that the bundler finds zod from there; removed when done.
const dir = await Deno.makeTempDir({ dir: `${root}node_modules`, prefix: ".microapi-compile-" });
try {
  console.error("Bundling the runtime for microapi build");
  await run(bun, [
    "build",
    `${root}src/cli/kit.ts`,
    "--target",
    "bun",
    "--external",
    "zod",
    "--outfile",
    `${dir}/kit.js`,
  ]);
  await Deno.writeTextFile(
    `${dir}/zod_entry.ts`,
    'export * from "zod";\nexport { default } from "zod";\n',
  );
  await run(bun, ["build", `${dir}/zod_entry.ts`, "--target", "bun", "--outfile", `${dir}/zod.js`]);
  await Deno.writeTextFile(
    `${dir}/library.json`,
    JSON.stringify(await snapshotLibrary(root, `${root}node_modules/zod`)),
  );
  await Deno.writeTextFile(
    `${dir}/entry.ts`,
    [
      'import kit from "./kit.js" with { type: "file" };',
      'import zod from "./zod.js" with { type: "file" };',
      'import library from "./library.json" with { type: "file" };',
      `import { setBuildAssets } from ${JSON.stringify(`${root}src/cli/build.ts`)};`,
      `import { setLibrarySnapshot } from ${JSON.stringify(`${root}src/cli/_library.ts`)};`,
      `import { runCli } from ${JSON.stringify(`${root}src/cli/entry.ts`)};`,
      "setBuildAssets({ kit, zod });",
      "setLibrarySnapshot(library);",
      // The client runtime's sources, for generate --standalone.
      await clientRuntimeEmbedding(dir, `${root}src/cli/_client_runtime.ts`),
      "await runCli();",
      "",
    ].join("\n"),
  );
  console.error(`Compiling ${out}`);
  await run(bun, ["build", "--compile", `${dir}/entry.ts`, "--outfile", out]);
} catch (error) {
  if (!(error instanceof StepFailed)) throw error;
  console.error(`error: ${error.message}`);
  Deno.exitCode = 1;
} finally {
  await Deno.remove(dir, { recursive: true });
}
