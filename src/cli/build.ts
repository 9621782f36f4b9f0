import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CommandSpec, ParsedArgs } from "./_args.ts";
import { type CliContext, CliError, UsageError } from "./_context.ts";
import { clientRuntimeEmbedding } from "./_client_runtime.ts";
import { loadServices } from "./_load.ts";

/** `microapi build`. */
export const buildCommand: CommandSpec = {
  name: "build",
  summary: "Compile service modules into a self-contained server executable",
  usage: "<files|dirs...> --output <path>",
  description:
    "Bundles the modules with the library and the Bun runtime into one executable that needs\n" +
    "nothing installed. It runs `serve` by default, and `info` and `generate` for the services\n" +
    "it carries: `./server --port 8080`, `./server info`, `./server generate --out lib/`.\n" +
    "Needs Bun (the microapi binary is Bun): it compiles with `bun build --compile`.",
  options: [
    {
      name: "output",
      short: "o",
      type: "string",
      value: "<path>",
      description: "The executable to write (required)",
    },
  ],
  positionals: { min: 1, max: Infinity },
  examples: ["microapi build services/ -o dist/server"],
};

/** The runtime bundles a compiled microapi carries for `build` (paths of embedded files). */
let embeddedAssets: { kit: string; zod: string } | undefined;

/**
 * Registers the runtime bundles compiled into this executable (scripts/compile.ts does).
 *
 * @param assets Paths of the embedded kit.js and zod.js.
 */
export function setBuildAssets(assets: { kit: string; zod: string }): void {
  embeddedAssets = assets;
}

interface BunBuildApi {
  build(options: Record<string, unknown>): Promise<{ success: boolean; logs: unknown[] }>;
  file(path: string): { text(): Promise<string> };
}

/**
 * Runs `microapi build`.
 *
 * @param args The parsed arguments.
 * @param ctx The CLI context.
 * @returns The exit code.
 */
export async function build(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const output = args.options.output as string | undefined;
  if (output === undefined) {
    throw new UsageError(
      `${ctx.program} build needs --output <path> (see ${ctx.program} build --help)`,
    );
  }
  const bun = (globalThis as { Bun?: BunBuildApi }).Bun;
  if (!bun) {
    throw new CliError(
      "microapi build compiles with Bun: run it with the microapi binary or `bun cli.ts build`",
    );
  }
  const started = Date.now();
  const outfile = isAbsolute(output) ? output : resolve(ctx.cwd, output);
  ctx.err(`Loading ${args.positionals.join(", ")}`);
  const loaded = await loadServices(args.positionals, ctx);
  const given = new Set(loaded.modules);

  const dir = await mkdtemp(join(tmpdir(), "microapi-build-"));
  try {
    ctx.err("Bundling the runtime");
    const kit = join(dir, "kit.js");
    const zod = join(dir, "zod.js");
    if (embeddedAssets) {
      await writeFile(kit, await bun.file(embeddedAssets.kit).text());
      await writeFile(zod, await bun.file(embeddedAssets.zod).text());
    } else {
      await bundleRuntime(bun, dir);
    }
    const entry = join(dir, "entry.ts");
    const imports = loaded.files.map((file, i) =>
      `import * as m${i} from ${JSON.stringify(file)};`
    );
    const modules = loaded.files.map((file, i) => {
      const label = relative(ctx.cwd, file) || file;
      const namesOnly = given.has(label) ? "" : ", namesOnly: true";
      return `{ label: ${JSON.stringify(label)}, exports: m${i}${namesOnly} }`;
    });
    // The client runtime's sources too, so that the server's generate --standalone works.
    const runtime = await clientRuntimeEmbedding(dir, kit);
    await writeFile(
      entry,
      `import { runEmbedded } from ${JSON.stringify(kit)};\n${imports.join("\n")}\n${runtime}` +
        `await runEmbedded([${modules.join(", ")}]);\n`,
    );
    ctx.err(`Compiling ${relative(ctx.cwd, outfile) || outfile}`);
    const result = await bun.build({
      entrypoints: [entry],
      target: "bun",
      compile: { outfile },
      plugins: [aliasPlugin(kit, zod)],
    });
    if (!result.success) {
      throw new CliError(
        `Cannot compile ${output}: ${String(result.logs[0] ?? "bun build failed")}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const size = (await stat(outfile)).size;
  const services = loaded.services.map((s) =>
    s.version === undefined ? s.name : `${s.name} v${s.version}`
  ).join(", ");
  ctx.out(
    `Built ${relative(ctx.cwd, outfile) || outfile} (${(size / 1024 / 1024).toFixed(0)} MB, ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s) with ${services}. Run it: ` +
      `${commandPath(outfile, ctx.cwd)} [serve|info|generate] --help`,
  );
  return 0;
}

/**
 * How to type a path to run it from `cwd`: relative when it is inside `cwd` (with `./`, which a
 * shell needs to run a file from a relative path), absolute otherwise.
 */
function commandPath(file: string, cwd: string): string {
  const path = relative(cwd, file);
  if (path === "" || path.startsWith("..") || isAbsolute(path)) return file;
  return `./${path}`;
}

/**
 * Resolves the library and zod in the bundle to the bundled runtime (one copy of each). The
 * client entry point resolves to the whole library too: it exports a subset of its names, the
 * same classes.
 */
function aliasPlugin(kit: string, zod: string): Record<string, unknown> {
  return {
    name: "microapi-aliases",
    setup(builder: {
      onResolve(options: { filter: RegExp }, resolve: () => { path: string }): void;
    }) {
      builder.onResolve({ filter: /^@microapi\/core(\/client)?$/ }, () => ({ path: kit }));
      builder.onResolve({ filter: /^zod(\/v4)?$/ }, () => ({ path: zod }));
    },
  };
}

/**
 * Bundles the runtime from source (when microapi runs from its source files rather than as the
 * compiled binary): kit.js (the library and the embedded CLI, zod left external) and zod.js.
 */
async function bundleRuntime(bun: BunBuildApi, dir: string): Promise<void> {
  const resolved = import.meta.resolve("zod");
  const zodPath = resolved.startsWith("file:") ? fileURLToPath(resolved) : resolved;
  const zodEntry = join(dir, "zod_entry.ts");
  await writeFile(
    zodEntry,
    `export * from ${JSON.stringify(zodPath)};\nexport { default } from ${
      JSON.stringify(zodPath)
    };\n`,
  );
  for (
    const [entry, name, external] of [
      [fileURLToPath(new URL("./kit.ts", import.meta.url)), "kit.js", ["zod"]],
      [zodEntry, "zod.js", []],
    ] as const
  ) {
    const result = await bun.build({
      entrypoints: [entry],
      target: "bun",
      outdir: dir,
      naming: name,
      external,
    });
    if (!result.success) {
      throw new CliError(
        `Cannot bundle the runtime: ${String(result.logs[0] ?? "bun build failed")}`,
      );
    }
  }
}
