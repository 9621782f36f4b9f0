import { generateClient } from "../codegen/generate.ts";
import { buildIntrospection } from "../schema/introspection.ts";
import { streaming } from "../schema/markers.ts";
import { Service } from "../schema/service.ts";
import { z } from "zod";
import { VERSION } from "./version.ts";

/** The files of a new project, and how it finds the library. */
export interface ScaffoldOptions {
  /** The project's name, for its README. */
  readonly name: string;
  /** What `@microapi/core` maps to in the project's deno.json. */
  readonly core: string;
  /**
   * A directory that stands in for the published package (deno.json `links`): the checkout the
   * CLI runs from, or the project's vendored copy.
   */
  readonly link?: string;
  /** The library is vendored: the project resolves zod from node_modules/ (manual mode). */
  readonly vendored?: boolean;
}

/** The mapping of `@microapi/core` in a new project: the package as published on JSR. */
export const DEFAULT_CORE = `jsr:@microapi/core@^${VERSION}`;
const ZOD = "npm:zod@^4.6.7";

const GREETER = `import { Service, streaming, z } from "@microapi/core";

/** Who to greet. */
export const HelloRequest = z.object({
  name: z.string().min(1).max(100).describe("Who to greet"),
});

/** A greeting. */
export const Greeting = z.object({ text: z.string() });

/** Where a countdown starts. */
export const CountdownRequest = z.object({
  from: z.number().int().min(1).max(100).default(3),
});

/** One step of a countdown. */
export const Tick = z.object({ n: z.number().int() });

export const greeter = new Service("greeter", { description: "Says hello" })
  .method("hello", {
    input: HelloRequest,
    output: Greeting,
    description: "Greets someone.",
  }, ({ name }) => ({ text: \`Hello, \${name}!\` }))
  .method("countdown", {
    input: CountdownRequest,
    output: streaming(Tick),
    description: "Counts down to 1, one message per number.",
  }, async function* ({ from }, ctx) {
    for (let n = from; n >= 1 && !ctx.signal.aborted; n--) yield { n };
  });
`;

/**
 * The template's service as an object, for generating the new project's client without loading
 * its files (which import the library by a name only the new project resolves). It must stay the
 * same as {@linkcode GREETER}; the init test checks that `microapi generate` in a new project
 * writes exactly the client `init` wrote.
 */
function greeterService(): { service: Service; names: Map<object, string> } {
  const HelloRequest = z.object({
    name: z.string().min(1).max(100).describe("Who to greet"),
  });
  const Greeting = z.object({ text: z.string() });
  const CountdownRequest = z.object({ from: z.number().int().min(1).max(100).default(3) });
  const Tick = z.object({ n: z.number().int() });
  const service = new Service("greeter", { description: "Says hello" })
    .method("hello", {
      input: HelloRequest,
      output: Greeting,
      description: "Greets someone.",
    }, ({ name }) => ({ text: `Hello, ${name}!` }))
    .method("countdown", {
      input: CountdownRequest,
      output: streaming(Tick),
      description: "Counts down to 1, one message per number.",
    }, async function* ({ from }) {
      for (let n = from; n >= 1; n--) yield { n };
    });
  const names = new Map<object, string>([
    [HelloRequest, "HelloRequest"],
    [Greeting, "Greeting"],
    [CountdownRequest, "CountdownRequest"],
    [Tick, "Tick"],
  ]);
  return { service, names };
}

const MAIN = `import { MicroAPI } from "@microapi/core";
import { greeter } from "./services/greeter.ts";

/** The app: every service of this project. \`microapi serve main.ts\` serves it. */
export const app = new MicroAPI({ services: [greeter] });

if (import.meta.main) {
  const server = await app.serve({
    port: Number(Deno.env.get("PORT") ?? 8080),
  });
  console.log(\`Listening on \${server.url}\`);
}
`;

const CLIENT = `import { Connection } from "@microapi/core/client";
import { greeter } from "./lib/mod.ts";

// Calls the server through the client generated in lib/ (deno task generate).
const url = Deno.env.get("SERVER_URL") ?? "http://127.0.0.1:8080";
Connection.setDefault(new Connection(url));

const { text } = await greeter.hello({ name: "world" });
console.log(text);
for await (const tick of greeter.countdown({ from: 3 })) console.log(tick.n);

await Connection.default.close();
`;

// No dependency (not even node:assert, whose types Deno would fetch): it passes offline.
const TEST = `import { Connection } from "@microapi/core";
import { greeter } from "./lib/mod.ts";
import { app } from "./main.ts";

Deno.test("greeter answers through the generated client", async () => {
  await using server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  await using connection = new Connection(server.url);

  const reply = await greeter.hello({ name: "test" }, { connection });
  assertEquals(reply.text, "Hello, test!");

  const ticks: number[] = [];
  for await (const tick of greeter.countdown({ from: 3 }, { connection })) {
    ticks.push(tick.n);
  }
  assertEquals(ticks, [3, 2, 1]);
});

/** Throws unless both values have the same JSON (or use jsr:@std/assert). */
function assertEquals(actual: unknown, expected: unknown): void {
  const [got, want] = [JSON.stringify(actual), JSON.stringify(expected)];
  if (got !== want) throw new Error(\`Expected \${want}, got \${got}\`);
}
`;

/** The CLI command a project's tasks run, next to the library it maps `@microapi/core` to. */
function cliCommand(core: string): string {
  if (/^jsr:@microapi\/core(@[^/]*)?$/.test(core)) return `deno run -A ${core}/cli`;
  if (/\/mod\.ts$/.test(core)) return `deno run -A ${core.replace(/mod\.ts$/, "cli.ts")}`;
  return "microapi";
}

/**
 * The import map entries of a new project. A package specifier (`jsr:`, `npm:`) serves its
 * subpaths by itself; a path or URL of a copy's `mod.ts` needs its client entry mapped too,
 * since the generated client in `lib/` imports `@microapi/core/client`.
 */
function libraryImports(core: string): Record<string, string> {
  if (!/\/mod\.ts$/.test(core) || /^(jsr|npm):/.test(core)) return { "@microapi/core": core };
  return {
    "@microapi/core": core,
    "@microapi/core/client": core.replace(/mod\.ts$/, "src/client/mod.ts"),
  };
}

function denoJson(options: ScaffoldOptions): string {
  const cli = cliCommand(options.core);
  return JSON.stringify(
    {
      tasks: {
        dev: `${cli} serve --watch main.ts`,
        start: "deno run -A main.ts",
        generate: `${cli} generate main.ts --out lib/`,
        client: "deno run -A client.ts",
        test: "deno test -A",
      },
      imports: { ...libraryImports(options.core), zod: ZOD },
      ...(options.link === undefined ? {} : { links: [options.link] }),
      ...(options.vendored
        ? { nodeModulesDir: "manual", exclude: [`${options.link?.replace(/^\.\//, "")}/`] }
        : {}),
      unstable: ["no-legacy-abort"],
    },
    null,
    2,
  ) + "\n";
}

/**
 * Where the library comes from and how to switch to the published package, for init's output.
 *
 * @param options The project's library mapping.
 * @returns Lines to print (none when the project uses a given mapping).
 */
export function librarySummary(options: ScaffoldOptions): string[] {
  if (options.link === undefined) return [];
  const origin = options.vendored
    ? [
      `@microapi/core: a copy of the library (microapi ${VERSION}) in ${options.link.slice(2)}/,`,
      "  linked in deno.json; zod: a copy in node_modules/ (`deno install` fetches it again).",
    ]
    : [`@microapi/core: the library at ${options.link}, linked in deno.json (this machine only).`];
  return [
    ...origin,
    'Once @microapi/core is published, delete "links" from deno.json' +
    (options.vendored ? " (and vendor/, package.json,\n  node_modules/)" : "") +
    ` to use ${DEFAULT_CORE} from JSR;\n  in a Bun or Node project, use npm:@microapi/core.`,
  ];
}

function readme(options: ScaffoldOptions): string {
  return `# ${options.name}

A MicroAPI project: typed RPC services for Deno.

| command              | what it does                                             |
| -------------------- | -------------------------------------------------------- |
| \`deno task dev\`      | serve \`main.ts\`, restarting when a file changes          |
| \`deno task start\`    | run the server (\`PORT\`, default 8080)                    |
| \`deno task client\`   | call it through the generated client (\`SERVER_URL\`)      |
| \`deno task generate\` | regenerate the client in \`lib/\` after changing a service |
| \`deno task test\`     | start the app on a free port and call it through \`lib/\`  |

- \`services/greeter.ts\`: the service (a unary method and a server stream).
- \`main.ts\`: the app, served by \`deno task start\` or \`microapi serve main.ts\`.
- \`lib/\`: the generated client (do not edit; run \`deno task generate\`).
- \`client.ts\`, \`main_test.ts\`: use the client.
${libraryNote(options)}`;
}

/** The README's section on the library's origin. */
function libraryNote(options: ScaffoldOptions): string {
  if (options.link === undefined) return "";
  const origin = options.vendored
    ? "Until `@microapi/core` is published, this project carries a copy of it in " +
      "`vendor/microapi-core/`, linked from deno.json's `links`, and a copy of zod in " +
      "`node_modules/` (`deno install` fetches zod again where `node_modules/` is missing)."
    : "Until `@microapi/core` is published, deno.json's `links` points at the library that " +
      "`microapi init` ran from, on the machine where it ran.";
  const next = "Once it is published, delete `links`" +
    (options.vendored ? ", `vendor/`, `package.json` and `node_modules/`" : "") +
    ` to use \`${DEFAULT_CORE}\` from JSR.`;
  return `\n## Where @microapi/core comes from\n\n${wrap(origin)}\n\n${wrap(next)}\n`;
}

/** Wraps prose at 80 columns, as `deno fmt` does for Markdown (the project's test checks it). */
function wrap(text: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > 80) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  return [...lines, line].join("\n");
}

/**
 * The files of a new project: a service, the app, a client using the generated library (included,
 * generated from the service), deno.json with tasks, a test, and a README.
 *
 * @param options The project's name and library mapping.
 * @returns Paths relative to the project directory, and contents.
 */
export function scaffoldFiles(options: ScaffoldOptions): { path: string; content: string }[] {
  const { service, names } = greeterService();
  const lib = generateClient(buildIntrospection([service], { schemaNames: names }));
  return [
    { path: "deno.json", content: denoJson(options) },
    { path: "README.md", content: readme(options) },
    { path: "services/greeter.ts", content: GREETER },
    { path: "main.ts", content: MAIN },
    { path: "client.ts", content: CLIENT },
    { path: "main_test.ts", content: TEST },
    ...lib.map((file) => ({ path: `lib/${file.path}`, content: file.content })),
  ];
}
