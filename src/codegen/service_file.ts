import type { MethodDescription, ServiceDescription } from "../schema/introspection.ts";
import { claimName, pascalCase } from "../schema/type_names.ts";
import { camelCase } from "./identifiers.ts";
import { jsDoc } from "./jsdoc.ts";
import { LINE_WIDTH, list } from "./layout.ts";

/** What a service file needs besides the service. */
export interface ServiceFileOptions {
  /** The module the runtime is imported from, such as `@microapi/core/client`. */
  readonly importFrom: string;
  /** The path of types.ts relative to this file: `./types.ts` or `../types.ts`. */
  readonly typesPath: string;
  /** The type name of a method's input or output (a `$ref` resolved by the types file). */
  typeOf(schema: unknown): string;
}

/** The exports of a service file, for mod.ts and the docs. */
export interface ServiceFile {
  /** The code, without the file header. */
  readonly code: string;
  /** The exported function of each method, by method name. */
  readonly functions: ReadonlyMap<string, string>;
}

/**
 * Writes the client of one service: for each method, a function named after it in camelCase
 * (`get_user` gives `getUser`). Unary methods are async functions; server streams are async
 * generator functions; client and bidi streams are classes (`<Method>Call`, extending
 * `ClientStream` / `BidiStream` with the message types) plus a function that opens one.
 *
 * @param service The service.
 * @param options Import specifier, types path, type names.
 * @returns The code and its exports.
 */
export function serviceFile(service: ServiceDescription, options: ServiceFileOptions): ServiceFile {
  // Every name the file binds, so that none shadows another: message types keep their names,
  // the runtime's imports are aliased if a message type took theirs.
  const taken = new Set<string>();
  const types = new Set<string>();
  for (const method of service.methods) {
    if (method.input) types.add(options.typeOf(method.input));
    if (method.output) types.add(options.typeOf(method.output));
  }
  for (const type of types) taken.add(type);
  const patterns = new Set(service.methods.map((method) => method.pattern));
  const runtime = new Map<string, string>();
  const use = (name: string) => {
    if (!runtime.has(name)) runtime.set(name, claimName(taken, [name, `Microapi${name}`]));
    return runtime.get(name)!;
  };
  const Options = use("ClientCallOptions");
  const connectionOf = use("connectionOf");
  if (patterns.has("client_streaming")) use("ClientStream");
  if (patterns.has("bidi_streaming")) use("BidiStream");
  // The runtime documents the options once; every function links there.
  const OPTIONS_DOC = `@param options Per-call options: see {@linkcode ${Options}}.`;

  const functions = new Map<string, string>();
  for (const method of service.methods) {
    functions.set(method.name, claimName(taken, [camelCase(method.name)]));
  }
  const blocks: string[] = [];
  for (const method of service.methods) {
    const fn = functions.get(method.name)!;
    const route = method.path.slice(1);
    const input = method.input ? options.typeOf(method.input) : undefined;
    const output = method.output ? options.typeOf(method.output) : "void";
    const params = [...(input ? [`input: ${input}`] : []), `options?: ${Options}`];
    const args = [JSON.stringify(route), input ? "input" : "undefined", "options"];
    const deprecated = deprecationOf(method, service, functions);
    const summary = method.description === undefined ? [] : [method.description, ""];
    const inputDoc = input ? ["@param input The request message."] : [];

    switch (method.pattern) {
      case "unary": {
        blocks.push(
          jsDoc([
            ...summary,
            `Unary call to \`${route}\`.`,
            "",
            ...inputDoc,
            OPTIONS_DOC,
            "@returns The response message.",
            ...deprecated,
          ]) +
            signature(`export async function ${fn}(`, params, ["Promise", output]) +
            call(`  return await ${connectionOf}(options).unary`, output, args) +
            "\n}\n",
        );
        break;
      }
      case "server_streaming": {
        blocks.push(
          jsDoc([
            ...summary,
            `Server-streaming call to \`${route}\`: yields each message as it arrives. The ` +
            "request is sent when iteration starts; leaving the loop early cancels the call.",
            "",
            ...inputDoc,
            OPTIONS_DOC,
            "@returns The response messages.",
            ...deprecated,
          ]) +
            signature(`export async function* ${fn}(`, params, [
              "AsyncGenerator",
              output,
              "void",
              "undefined",
            ]) +
            call(`  yield* ${connectionOf}(options).serverStream`, output, args) +
            "\n}\n",
        );
        break;
      }
      case "client_streaming":
      case "bidi_streaming": {
        const bidi = method.pattern === "bidi_streaming";
        const base = use(bidi ? "BidiStream" : "ClientStream");
        const cls = claimName(taken, [`${pascalCase(method.name) || "Method"}Call`]);
        const how = bidi
          ? `Bidirectional call to \`${route}\`: \`send()\` and \`next()\` freely (or ` +
            "`for await` the replies), then `end()` when done sending."
          : `Client-streaming call to \`${route}\`: \`send()\` each message, then \`end()\` ` +
            "returns the response.";
        blocks.push(
          jsDoc([...summary, how, ...deprecated]) +
            classHead(cls, base, [input ?? "undefined", output]) +
            jsDoc(["Opens the call.", "", OPTIONS_DOC], "  ") +
            `  constructor(options?: ${Options}) {\n` +
            list("    super(", [`${connectionOf}(options)`, JSON.stringify(route), "options"], {
              close: ");",
              indent: "    ",
            }) +
            "\n  }\n}\n",
          jsDoc([
            ...summary,
            `Opens a ${bidi ? "bidirectional" : "client-streaming"} call to \`${route}\`.`,
            "",
            OPTIONS_DOC,
            `@returns The open call: ${
              bidi ? "`send()`, `next()`, `end()`" : "`send()`, then `end()` for the response"
            }.`,
            ...deprecated,
          ]) +
            signature(`export function ${fn}(`, [`options?: ${Options}`], [cls]) +
            list(`  return new ${cls}(`, ["options"], { close: ");", indent: "  " }) +
            "\n}\n",
        );
        break;
      }
    }
  }

  const runtimeImports = [...runtime].map(([name, local]) => {
    const binding = name === local ? name : `${name} as ${local}`;
    return name === "ClientCallOptions" ? `type ${binding}` : binding;
  });
  const header = jsDoc([
    serviceTitle(service) + (service.description ? `: ${service.description}` : "."),
    "",
    ...(service.deprecated
      ? [
        typeof service.deprecated === "string"
          ? `@deprecated ${service.deprecated}`
          : "@deprecated",
      ]
      : []),
    "@module",
  ]) + "\n";
  const code = [
    header +
    importLine(runtimeImports, { from: JSON.stringify(options.importFrom) }) +
    (types.size > 0
      ? importLine([...types], { from: JSON.stringify(options.typesPath), typeOnly: true })
      : ""),
    ...blocks,
  ].join("\n");
  return { code, functions };
}

/** `the users service` or `version 2 of the users service`. */
export function serviceTitle(service: ServiceDescription): string {
  const name = `The ${service.name} service`;
  return service.version === undefined ? name : `${name}, version ${service.version}`;
}

/**
 * `@deprecated` with the method's notice, else the service's. A method's notice is written in
 * terms of the service's method names (`"Use archive"`, `"Use get_record"`); each other method it
 * mentions (as a whole word, with or without backticks) becomes a `{@link}` to that method's
 * function, so the notice names what the reader calls and the editor can jump there. (A service's
 * notice points elsewhere, such as another version, and is kept as written.)
 */
function deprecationOf(
  method: MethodDescription,
  service: ServiceDescription,
  functions: ReadonlyMap<string, string>,
): string[] {
  const notice = method.deprecated ?? service.deprecated;
  if (notice === undefined) return [];
  if (typeof notice !== "string") return ["@deprecated"];
  const others = [...functions.keys()].filter((name) => name !== method.name);
  if (method.deprecated === undefined || others.length === 0) return [`@deprecated ${notice}`];
  const names = others.sort((a, b) => b.length - a.length).map(escapeRegExp);
  const mention = new RegExp(`(?<![\\w$])(\`?)(${names.join("|")})\\1(?![\\w$])`, "g");
  const linked = notice.replace(
    mention,
    (_, _tick, name: string) => `{@link ${functions.get(name)}}`,
  );
  return [`@deprecated ${linked}`];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A function's first lines, up to and including `{`, as `deno fmt` lays them out at width 80:
 * on one line if it fits, else one parameter per line; a return type that still does not fit
 * has its type arguments broken too.
 *
 * @param head Up to the opening parenthesis.
 * @param params The parameters.
 * @param returns The return type: a name, then its type arguments if any.
 */
function signature(head: string, params: string[], returns: readonly string[]): string {
  const [name, ...args] = returns;
  const type = args.length === 0 ? name! : `${name}<${args.join(", ")}>`;
  const one = `${head}${params.join(", ")}): ${type} {`;
  if (one.length <= LINE_WIDTH) return `${one}\n`;
  const lines = `${head}\n${params.map((param) => `  ${param},`).join("\n")}\n`;
  if (`): ${type} {`.length <= LINE_WIDTH || args.length === 0) return `${lines}): ${type} {\n`;
  return `${lines}): ${name}<\n${args.map((arg) => `  ${arg}`).join(",\n")}\n> {\n`;
}

/**
 * A call statement with one type argument, laid out as `deno fmt` does at width 80: on one line,
 * else the arguments one per line, else the type argument on its own line as well.
 *
 * @param head The callee, indented: `  return f(options).unary`.
 * @param type The type argument.
 * @param args The arguments.
 */
function call(head: string, type: string, args: string[]): string {
  const indent = head.match(/^ */)![0];
  const open = `${head}<${type}>(`;
  if (open.length <= LINE_WIDTH) return list(open, args, { close: ");", indent });
  return list(`${indent}>(`, args, { close: ");", indent })
    .replace(/^ *>\(/, `${head}<\n${indent}  ${type}\n${indent}>(`);
}

/**
 * A class declaration's first line(s), as `deno fmt` breaks a long heritage clause: onto its own
 * line if it then fits, else its type arguments one per line.
 */
function classHead(name: string, base: string, args: readonly string[]): string {
  const one = `export class ${name} extends ${base}<${args.join(", ")}> {`;
  if (one.length <= LINE_WIDTH) return `${one}\n`;
  const clause = `  extends ${base}<${args.join(", ")}> {`;
  if (clause.length <= LINE_WIDTH) return `export class ${name}\n${clause}\n`;
  const open = `export class ${name} extends ${base}<`;
  const indent = open.length <= LINE_WIDTH ? "" : "  ";
  const head = open.length <= LINE_WIDTH ? open : `export class ${name}\n  extends ${base}<`;
  return `${head}\n${args.map((arg) => `${indent}  ${arg}`).join(",\n")}\n${indent}> {\n`;
}

/** Where {@linkcode importLine} imports from, and how. */
export interface ImportOptions {
  /** The quoted module specifier. */
  from: string;
  /** Whether to write `import type`. Default false. */
  typeOnly?: boolean;
  /** `import`, or `export` for a re-export. Default `import`. */
  keyword?: "import" | "export";
}

/**
 * One import (or re-export) declaration, names sorted the way `deno fmt` sorts them: on one line
 * when it fits the width, else one name per line, as `deno fmt` writes it at its default width.
 * (At a wider setting `deno fmt` would join a declaration of up to that many characters back onto
 * one line: generated code is laid out for the default width, see layout.ts.)
 *
 * @param names The names, with `type ` where needed.
 * @param options The specifier, type-only, import or export.
 * @returns The declaration, ending with a newline.
 */
export function importLine(names: readonly string[], options: ImportOptions): string {
  const { from, typeOnly = false, keyword = "import" } = options;
  const key = (name: string) => name.replace(/^type /, "").toLowerCase();
  const sorted = [...names].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const head = typeOnly ? `${keyword} type` : keyword;
  const single = `${head} { ${sorted.join(", ")} } from ${from};`;
  if (single.length <= LINE_WIDTH) return `${single}\n`;
  return `${head} {\n${sorted.map((name) => `  ${name},`).join("\n")}\n} from ${from};\n`;
}
