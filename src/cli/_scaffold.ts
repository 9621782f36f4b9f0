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
}

/** The default mapping of `@microapi/core` in a new project. */
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

const CLIENT = `import { Connection } from "@microapi/core";
import { greeter } from "./lib/mod.ts";

// Calls the server through the client generated in lib/ (deno task generate).
const url = Deno.env.get("SERVER_URL") ?? "http://127.0.0.1:8080";
Connection.setDefault(new Connection(url));

const { text } = await greeter.hello({ name: "world" });
console.log(text);
for await (const tick of greeter.countdown({ from: 3 })) console.log(tick.n);

await Connection.default.close();
`;

const TEST = `import assert from "node:assert/strict";
import { Connection } from "@microapi/core";
import { greeter } from "./lib/mod.ts";
import { app } from "./main.ts";

Deno.test("greeter answers through the generated client", async () => {
  await using server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  await using connection = new Connection(server.url);

  const reply = await greeter.hello({ name: "test" }, { connection });
  assert.equal(reply.text, "Hello, test!");

  const ticks: number[] = [];
  for await (const tick of greeter.countdown({ from: 3 }, { connection })) {
    ticks.push(tick.n);
  }
  assert.deepEqual(ticks, [3, 2, 1]);
});
`;

/** The CLI command a project's tasks run, next to the library it maps `@microapi/core` to. */
function cliCommand(core: string): string {
  if (/^jsr:@microapi\/core(@[^/]*)?$/.test(core)) return `deno run -A ${core}/cli`;
  if (/\/mod\.ts$/.test(core)) return `deno run -A ${core.replace(/mod\.ts$/, "cli.ts")}`;
  return "microapi";
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
      imports: { "@microapi/core": options.core, zod: ZOD },
      unstable: ["no-legacy-abort"],
    },
    null,
    2,
  ) + "\n";
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
`;
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
