import { UsageError } from "./_context.ts";

/** One option of a command. */
export interface OptionSpec {
  /** The long name, without dashes: `port`. */
  readonly name: string;
  /** A one-letter alias: `p` for `-p`. */
  readonly short?: string;
  /** `string` takes a value; `list` takes one and may repeat (commas also separate); `boolean` none. */
  readonly type: "string" | "list" | "boolean";
  /** The value's placeholder in help: `<n>`. */
  readonly value?: string;
  /** For booleans: also accept `--no-<name>`. */
  readonly negatable?: boolean;
  /** One line for the help. */
  readonly description: string;
}

/** What a command accepts, and its help. */
export interface CommandSpec {
  /** The command's name. */
  readonly name: string;
  /** One line for the command table. */
  readonly summary: string;
  /** What follows the command name in the usage line: `<files|dirs...> [options]`. */
  readonly usage: string;
  /** Paragraphs after the usage line. */
  readonly description: string;
  /** The options. `--help` is added to every command. */
  readonly options: readonly OptionSpec[];
  /** How many positional arguments: at least `min`, at most `max`. */
  readonly positionals: { readonly min: number; readonly max: number };
  /** Example command lines for the help. */
  readonly examples?: readonly string[];
}

/** Parsed arguments. */
export interface ParsedArgs {
  /** Option values by long name: strings, string lists, or booleans; absent when not given. */
  readonly options: Readonly<Record<string, string | string[] | boolean | undefined>>;
  /** The positional arguments. */
  readonly positionals: readonly string[];
  /** True when `--help` or `-h` was given. */
  readonly help: boolean;
}

/**
 * Parses a command's arguments: `--name value`, `--name=value`, `-n value`, `--flag`,
 * `--no-flag`, and `--` to end the options.
 *
 * @param spec The command.
 * @param args The arguments after the command name.
 * @param context The program name, for error messages.
 * @returns The parsed arguments.
 * @throws {UsageError} For an unknown option, a missing value, or the wrong number of positionals.
 */
export function parseArgs(
  spec: CommandSpec,
  args: readonly string[],
  context: { program: string },
): ParsedArgs {
  const { program } = context;
  const options: Record<string, string | string[] | boolean | undefined> = {};
  const positionals: string[] = [];
  const command = `${program} ${spec.name}`;
  const fail = (message: string): never => {
    throw new UsageError(`${message} (see ${command} --help)`);
  };
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const key = eq === -1 ? arg : arg.slice(0, eq);
    let inline = eq === -1 ? undefined : arg.slice(eq + 1);
    let option: OptionSpec | undefined;
    let negated = false;
    if (key.startsWith("--")) {
      const name = key.slice(2);
      option = spec.options.find((o) => o.name === name);
      if (!option && name.startsWith("no-")) {
        option = spec.options.find((o) => o.name === name.slice(3) && o.negatable);
        negated = option !== undefined;
      }
    } else if (key.length === 2) {
      option = spec.options.find((o) => o.short === key.slice(1));
    }
    if (!option) fail(`Unknown option ${key} for ${command}`);
    const found = option!;
    if (found.type === "boolean") {
      if (inline !== undefined) fail(`Option ${key} takes no value`);
      options[found.name] = !negated;
      continue;
    }
    if (inline === undefined) {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) {
        fail(`Option ${key} needs a value${found.value ? ` ${found.value}` : ""}`);
      }
      inline = next!;
      i++;
    }
    if (found.type === "list") {
      const values = inline.split(",").map((v) => v.trim()).filter((v) => v !== "");
      options[found.name] = [...(options[found.name] as string[] | undefined ?? []), ...values];
    } else {
      options[found.name] = inline;
    }
  }
  if (!help) {
    const { min, max } = spec.positionals;
    if (positionals.length < min) {
      fail(`${command} needs ${spec.usage.split(" [")[0]}`);
    }
    if (positionals.length > max) {
      fail(`Unexpected argument ${JSON.stringify(positionals[max])} for ${command}`);
    }
  }
  return { options, positionals, help };
}

/**
 * The help text of a command, built from its spec.
 *
 * @param spec The command.
 * @param program The program name.
 * @returns The text.
 */
export function helpText(spec: CommandSpec, program: string): string {
  const rows = [
    ...spec.options.map((o) => [
      `${o.short ? `-${o.short}, ` : "    "}--${o.name}${o.value ? ` ${o.value}` : ""}`,
      o.description,
    ]),
    ...spec.options.filter((o) => o.negatable).map((
      o,
    ) => [`    --no-${o.name}`, `Turn ${o.name} off`]),
    ["-h, --help", "Show this help"],
  ];
  const width = Math.max(...rows.map(([left]) => left!.length));
  const lines = [
    `Usage: ${program} ${spec.name} ${spec.usage}`,
    "",
    spec.description,
    "",
    "Options:",
    ...rows.map(([left, right]) => `  ${left!.padEnd(width)}  ${right}`),
  ];
  if (spec.examples?.length) {
    lines.push("", "Examples:", ...spec.examples.map((example) => `  ${example}`));
  }
  return lines.join("\n");
}
