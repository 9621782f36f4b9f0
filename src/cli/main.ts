import { type CommandSpec, helpText, parseArgs, type ParsedArgs } from "./_args.ts";
import { type CliContext, CliError, firstLine, UsageError } from "./_context.ts";
import { build, buildCommand } from "./build.ts";
import { generate, generateCommand } from "./generate.ts";
import { info, infoCommand } from "./info.ts";
import { init, initCommand } from "./init.ts";
import { proto, protoCommand } from "./proto.ts";
import { serve, serveCommand } from "./serve.ts";
import { runtimeVersion, VERSION } from "./version.ts";

interface Command {
  readonly spec: CommandSpec;
  run(args: ParsedArgs, ctx: CliContext): Promise<number>;
}

const COMMANDS: readonly Command[] = [
  { spec: serveCommand, run: serve },
  { spec: generateCommand, run: generate },
  { spec: protoCommand, run: proto },
  { spec: infoCommand, run: info },
  { spec: initCommand, run: init },
  { spec: buildCommand, run: build },
];

/** What a built server can do with the services it carries. */
const EMBEDDED_COMMANDS = new Set(["serve", "info", "generate"]);

/**
 * Runs one command line. Errors are reported as one line on stderr: `error: <what and where>`.
 *
 * @param args The arguments after the program name.
 * @param ctx Output, environment, signals.
 * @returns The exit code: 0 success, 1 failure, 2 usage error.
 */
export async function main(args: readonly string[], ctx: CliContext): Promise<number> {
  try {
    return await dispatch(args, ctx);
  } catch (error) {
    if (error instanceof CliError) {
      ctx.err(`error: ${error.message}`);
      return error.exitCode;
    }
    ctx.err(`error: ${firstLine(error)}`);
    if (ctx.env("MICROAPI_DEBUG")) ctx.err(String((error as Error)?.stack ?? error));
    return 1;
  }
}

async function dispatch(args: readonly string[], ctx: CliContext): Promise<number> {
  const commands = ctx.embedded
    ? COMMANDS.filter((c) => EMBEDDED_COMMANDS.has(c.spec.name))
    : COMMANDS;
  let [first, ...rest] = args;
  if (first === "--version" || first === "-V") {
    ctx.out(
      ctx.embedded
        ? `${ctx.program} (microapi ${VERSION}, ${runtimeVersion()})`
        : `microapi ${VERSION} (${runtimeVersion()})`,
    );
    return 0;
  }
  if (first === undefined && !ctx.embedded) {
    ctx.err(globalHelp(ctx, commands));
    return 2;
  }
  if (first === "--help" || first === "-h") {
    ctx.out(globalHelp(ctx, commands));
    return 0;
  }
  if (first === "help") {
    const topic = commands.find((c) => c.spec.name === rest[0]);
    if (rest[0] !== undefined && !topic) throw unknownCommand(rest[0], ctx);
    ctx.out(topic ? helpText(topic.spec, ctx.program) : globalHelp(ctx, commands));
    return 0;
  }
  // A built server serves when no command is given: `./server --port 8080`.
  if (ctx.embedded && (first === undefined || first.startsWith("-"))) {
    rest = first === undefined ? [] : [first, ...rest];
    first = "serve";
  }
  const command = commands.find((c) => c.spec.name === first);
  if (!command) throw unknownCommand(first!, ctx);
  const spec = ctx.embedded ? embeddedSpec(command.spec) : command.spec;
  const parsed = parseArgs(spec, rest, { program: ctx.program });
  if (parsed.help) {
    ctx.out(helpText(spec, ctx.program));
    return 0;
  }
  return await command.run(parsed, ctx);
}

function unknownCommand(name: string, ctx: CliContext): UsageError {
  return new UsageError(
    `Unknown command ${JSON.stringify(name)} (see ${ctx.program} --help)`,
  );
}

/** What the commands of a built server say about themselves. */
const EMBEDDED_TEXT: Record<string, { summary: string; description: string }> = {
  serve: {
    summary: "Serve the built-in services over HTTP and WebSocket (the default command)",
    description: "Serves the services built into this program until interrupted (Ctrl-C).",
  },
  info: {
    summary: "List the built-in services and methods",
    description: "Prints one row per method: service, method, pattern, route, input and output.",
  },
  generate: {
    summary: "Generate a typed TypeScript client for the built-in services",
    description: "Writes <out>/types.ts, one file per service and <out>/mod.ts.",
  },
};

/** In a built server, commands take no module arguments: the modules are built in. */
function embeddedSpec(spec: CommandSpec): CommandSpec {
  return {
    ...spec,
    ...EMBEDDED_TEXT[spec.name],
    usage: "[options]",
    positionals: { min: 0, max: 0 },
    options: spec.options.filter((option) => option.name !== "watch"),
    examples: [],
  };
}

function globalHelp(ctx: CliContext, commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.spec.name.length));
  const lines = ctx.embedded
    ? [
      `${ctx.program}: a MicroAPI server (microapi ${VERSION}) with ${
        ctx.embedded.modules.filter((m) => !m.namesOnly).map((m) => m.label).join(", ")
      }`,
      "",
      `Usage: ${ctx.program} [command] [options]    (the command defaults to serve)`,
    ]
    : [
      `microapi ${VERSION}: typed RPC services for Deno and Bun`,
      "",
      "Usage: microapi <command> [options]",
    ];
  lines.push(
    "",
    "Commands:",
    ...commands.map((c) =>
      `  ${c.spec.name.padEnd(width)}  ${(ctx.embedded ? embeddedSpec(c.spec) : c.spec).summary}`
    ),
    "",
    "Options:",
    "  -h, --help     Show help; `<command> --help` for a command's options",
    "  -V, --version  Show the version",
    "",
    "Exit codes: 0 success, 1 failure, 2 usage error.",
  );
  return lines.join("\n");
}
