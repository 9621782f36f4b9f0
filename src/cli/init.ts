import { mkdir, stat, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { CommandSpec, ParsedArgs } from "./_args.ts";
import { type CliContext, CliError } from "./_context.ts";
import { DEFAULT_CORE, scaffoldFiles } from "./_scaffold.ts";

/** `microapi init`. */
export const initCommand: CommandSpec = {
  name: "init",
  summary: "Create a project: a service, the app, a generated client, a test",
  usage: "[name] [options]",
  description: "Creates the directory <name> (default: the current directory) with a service,\n" +
    "the app serving it, the client generated from it, deno.json tasks (dev, start, client,\n" +
    "generate, test) and a test that passes as created. Existing files are never overwritten.",
  options: [
    {
      name: "core",
      type: "string",
      value: "<specifier>",
      description: `What @microapi/core maps to in deno.json (default: ${DEFAULT_CORE})`,
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
  const files = scaffoldFiles({
    name,
    core: (args.options.core as string | undefined) ?? DEFAULT_CORE,
  });
  const info = await stat(dir).catch(() => undefined);
  if (info && !info.isDirectory()) {
    throw new CliError(`Cannot create a project in ${target}: it is a file`);
  }
  for (const file of files) {
    if (await stat(join(dir, file.path)).catch(() => undefined)) {
      throw new CliError(
        `Cannot create a project in ${target}: ${
          relative(ctx.cwd, join(dir, file.path))
        } already exists`,
      );
    }
  }
  for (const file of files) {
    const path = join(dir, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
  }
  const shown = relative(ctx.cwd, dir) || ".";
  ctx.out(
    [
      `Created ${name} in ${shown}/: ${files.map((file) => file.path).join(", ")}`,
      "",
      "Next:",
      ...(shown === "." ? [] : [`  cd ${shown}`]),
      "  deno task test      # the app answers through the generated client",
      "  deno task dev       # serve it, restarting on changes",
      "  deno task client    # call it (in another terminal)",
    ].join("\n"),
  );
  return 0;
}
