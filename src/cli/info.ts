import type { MethodDescription } from "../schema/introspection.ts";
import { isPattern, patternWords } from "../schema/pattern.ts";
import type { CommandSpec, ParsedArgs } from "./_args.ts";
import type { CliContext } from "./_context.ts";
import { describe } from "./_describe.ts";
import { formatTable } from "./_table.ts";

/** `microapi info`. */
export const infoCommand: CommandSpec = {
  name: "info",
  summary: "List the services and methods of service modules or a running server",
  usage: "<files|dirs...|url> [options]",
  description: "Prints one row per method: service, method, pattern, route, input and output\n" +
    "types (named as the generated client names them). Reads service modules, or the\n" +
    "introspection document of a running server.",
  options: [
    { name: "json", type: "boolean", description: "Print the introspection document (JSON)" },
  ],
  positionals: { min: 1, max: Infinity },
  examples: [
    "microapi info services/",
    "microapi info http://127.0.0.1:8080 --json",
  ],
};

/**
 * Runs `microapi info`.
 *
 * @param args The parsed arguments.
 * @param ctx The CLI context.
 * @returns The exit code.
 */
export async function info(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { document, source } = await describe(args.positionals, ctx);
  if (args.options.json) {
    ctx.out(JSON.stringify(document, null, 2));
    return 0;
  }
  const typeOf = (schema: MethodDescription["input"], streamed: boolean): string => {
    if (schema === undefined) return "-";
    const ref = typeof schema.$ref === "string"
      ? schema.$ref.replace(/^#\/\$defs\//, "")
      : "inline";
    return streamed ? `stream<${ref}>` : ref;
  };
  const rows = document.services.flatMap((service) =>
    service.methods.map((method) => [
      service.version === undefined ? service.name : `${service.name} v${service.version}`,
      method.name + (method.deprecated ?? service.deprecated ? " (deprecated)" : ""),
      isPattern(method.pattern) ? patternWords(method.pattern) : method.pattern,
      `POST ${document.basePath ?? ""}${method.path}`,
      typeOf(
        method.input,
        method.pattern === "client_streaming" || method.pattern === "bidi_streaming",
      ),
      typeOf(
        method.output,
        method.pattern === "server_streaming" || method.pattern === "bidi_streaming",
      ),
    ])
  );
  const methods = rows.length;
  const services = document.services.length;
  ctx.out(
    `${services} service${services === 1 ? "" : "s"}, ${methods} method${
      methods === 1 ? "" : "s"
    }` +
      ` (${source})\n\n` +
      formatTable(["service", "method", "pattern", "route", "input", "output"], rows),
  );
  return 0;
}
