import type { MethodDescription } from "../schema/introspection.ts";
import { isPattern, patternWords } from "../schema/pattern.ts";
import type { CommandSpec, ParsedArgs } from "./_args.ts";
import { type CliContext, CliError, firstLine } from "./_context.ts";
import { describe } from "./_describe.ts";
import { formatTable } from "./_table.ts";

/** `microapi info`. */
export const infoCommand: CommandSpec = {
  name: "info",
  summary: "List the services and methods of service modules or a running server",
  usage: "<files|dirs...|url> [options]",
  description: "Prints one row per method: service, method, pattern, route, input and output\n" +
    "types (named as the generated client names them). Reads service modules, or the\n" +
    "introspection document of a running server. For a nats:// URL, lists the MicroAPI\n" +
    "services on that NATS system (the NATS service protocol, $SRV): each method's subject,\n" +
    "how many processes serve it, their calls, errors and average time.",
  options: [
    { name: "json", type: "boolean", description: "Print the introspection document (JSON)" },
  ],
  positionals: { min: 1, max: Infinity },
  examples: [
    "microapi info services/",
    "microapi info http://127.0.0.1:8080 --json",
    "microapi info nats://127.0.0.1:4222",
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
  if (args.positionals.length === 1 && isNatsUrl(args.positionals[0]!)) {
    return await natsInfo(args.positionals[0]!, args, ctx);
  }
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

/**
 * Tells whether an argument is a NATS URL.
 *
 * @param input The argument.
 * @returns True for `nats://`, `tls://`, `ws://`, `wss://`.
 */
function isNatsUrl(input: string): boolean {
  return /^(nats|tls|wss?):\/\//i.test(input);
}

/** `microapi info nats://...`: the MicroAPI services on a NATS system, from $SRV. */
async function natsInfo(url: string, args: ParsedArgs, ctx: CliContext): Promise<number> {
  // Loaded here, not at the top: no other command needs the NATS client library.
  const { discoverServices } = await import("../nats/mod.ts");
  let found;
  try {
    found = await discoverServices(url);
  } catch (error) {
    throw new CliError(`Cannot reach NATS at ${url}: ${firstLine(error)}`);
  }
  if (args.options.json) {
    ctx.out(JSON.stringify(found, null, 2));
    return 0;
  }
  const ours = found.filter((s) => s.microapi);
  // One row per method: its instances, summed.
  const grouped = new Map<
    string,
    {
      cells: string[];
      instances: number;
      requests: number;
      errors: number;
      time: number;
      hashes: Set<string>;
    }
  >();
  for (const service of ours) {
    const version = Number(service.version.split(".")[0]);
    for (const endpoint of service.endpoints) {
      const key = `${service.name}\u0000${service.version}\u0000${endpoint.name}`;
      let row = grouped.get(key);
      if (!row) {
        const pattern = endpoint.metadata.pattern;
        row = {
          cells: [
            version > 0 ? `${service.name} v${version}` : service.name,
            endpoint.name + (endpoint.metadata.deprecated ? " (deprecated)" : ""),
            isPattern(pattern) ? patternWords(pattern) : String(pattern ?? "-"),
            endpoint.subject,
          ],
          instances: 0,
          requests: 0,
          errors: 0,
          time: 0,
          hashes: new Set(),
        };
        grouped.set(key, row);
      }
      row.instances++;
      row.requests += endpoint.num_requests ?? 0;
      row.errors += endpoint.num_errors ?? 0;
      row.time += (endpoint.average_processing_time ?? 0) * (endpoint.num_requests ?? 0);
      row.hashes.add(endpoint.metadata.schema_hash ?? "");
    }
  }
  const table = [...grouped.values()].map((row) => [
    ...row.cells,
    String(row.instances),
    String(row.requests),
    String(row.errors),
    row.requests === 0 ? "-" : `${(row.time / row.requests / 1e6).toFixed(2)} ms`,
    row.hashes.size > 1 ? "differ!" : ([...row.hashes][0] ?? "").slice(0, 12),
  ]);
  const services = new Set(ours.map((s) => `${s.name} ${s.version}`)).size;
  const others = found.length - ours.length;
  ctx.out(
    `${grouped.size} method${grouped.size === 1 ? "" : "s"} of ${services} service${
      services === 1 ? "" : "s"
    }, ${ours.length} service instance${ours.length === 1 ? "" : "s"} (${url})` +
      (others > 0 ? `; ${others} other NATS service instance${others === 1 ? "" : "s"}` : "") +
      "\n\n" +
      formatTable(
        [
          "service",
          "method",
          "pattern",
          "subject",
          "instances",
          "calls",
          "errors",
          "avg",
          "schema",
        ],
        table,
      ),
  );
  return 0;
}
