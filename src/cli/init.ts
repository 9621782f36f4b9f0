import { mkdir, stat, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { CommandSpec, ParsedArgs } from "./_args.ts";
import { type CliContext, CliError } from "./_context.ts";
import { embeddedSnapshot, sourceRoot, VENDOR_DIR, vendoredFiles } from "./_library.ts";
import { DEFAULT_CORE, librarySummary, scaffoldFiles, type ScaffoldOptions } from "./_scaffold.ts";

/** `microapi init`. */
export const initCommand: CommandSpec = {
  name: "init",
  summary: "Create a project: a service, the app, a generated client, a test",
  usage: "[name] [options]",
  description: "Creates the directory <name> (default: the current directory) with a service,\n" +
    "the app serving it, the client generated from it, deno.json tasks (dev, start, client,\n" +
    "generate, test) and a test that passes as created, with no network: until @microapi/core\n" +
    "is published, deno.json links it to the library this microapi runs from (a checkout), or\n" +
    "to a copy written into vendor/ (the binary). Existing files are never overwritten.",
  options: [
    {
      name: "core",
      type: "string",
      value: "<specifier>",
      description:
        `What @microapi/core maps to in deno.json, instead of ${DEFAULT_CORE} linked to this library`,
    },
  ],
  positionals: { min: 0, max: 1 },
  examples: ["microapi init hello-api", "microapi init . --core ../microapi/mod.ts"],
};

/**
 * Runs `microapi init`.
 *
 * @param args The parsed arguments.
 * @param ctx The CLI context.
 * @returns The exit code.
 */
export async function init(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const target = args.positionals[0] ?? ".";
  const dir = isAbsolute(target) ? target : resolve(ctx.cwd, target);
  const name = basename(dir);
  const { options, extra } = await librarySource(name, args.options.core as string | undefined);
  const files = scaffoldFiles(options);
  const written = [...files, ...extra];
  const info = await stat(dir).catch(() => undefined);
  if (info && !info.isDirectory()) {
    throw new CliError(`Cannot create a project in ${target}: it is a file`);
  }
  for (const file of written) {
    if (await stat(join(dir, file.path)).catch(() => undefined)) {
      throw new CliError(
        `Cannot create a project in ${target}: ${
          relative(ctx.cwd, join(dir, file.path))
        } already exists`,
      );
    }
  }
  for (const file of written) {
    const path = join(dir, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
  }
  const shown = relative(ctx.cwd, dir) || ".";
  ctx.out(
    [
      `Created ${name} in ${shown}/: ${files.map((file) => file.path).join(", ")}` +
      (extra.length > 0 ? `, package.json, ${VENDOR_DIR}/, node_modules/zod/` : ""),
      "",
      ...librarySummary(options),
      ...(options.link === undefined ? [] : [""]),
      "Next:",
      ...(shown === "." ? [] : [`  cd ${shown}`]),
      "  deno task test      # the app answers through the generated client",
      "  deno task dev       # serve it, restarting on changes",
      "  deno task client    # call it (in another terminal)",
    ].join("\n"),
  );
  return 0;
}

/**
 * How the new project gets the library: a mapping given with --core; else the published name,
 * linked to the checkout this CLI runs from or, in the compiled binary, to a copy it writes into
 * the project (the extra files); else (a published CLI) the published package.
 */
async function librarySource(
  name: string,
  core: string | undefined,
): Promise<{ options: ScaffoldOptions; extra: { path: string; content: string }[] }> {
  if (core !== undefined) return { options: { name, core }, extra: [] };
  const snapshot = await embeddedSnapshot();
  if (snapshot) {
    return {
      options: { name, core: DEFAULT_CORE, link: `./${VENDOR_DIR}`, vendored: true },
      extra: vendoredFiles(snapshot),
    };
  }
  const root = await sourceRoot();
  return { options: { name, core: DEFAULT_CORE, ...(root ? { link: root } : {}) }, extra: [] };
}
