/**
 * The compiled CLI: `deno task compile` (bun build --compile) builds it once for this file; the
 * tests run it on service files in a temporary directory with nothing installed (no
 * node_modules, no deno.json): the modules import `@microapi/core` and `zod` by name, and the
 * binary provides both. `microapi build` is tested through the binary too: the server it makes
 * must run, describe itself and generate its client after its sources are gone. Both carry the
 * client runtime for `generate --standalone`, whose output runs with nothing installed.
 * `microapi init` from the binary must give a project whose test passes with no network at all.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, test } from "../_harness.ts";
import {
  cli,
  closedPort,
  denoBinary,
  modUrl,
  type Outcome,
  root,
  run,
  start,
  tempDir,
} from "../_cli.ts";
import { Connection, MicroAPI } from "../../mod.ts";
import { app as examples } from "../../examples/serve.ts";
import { runStandaloneProgram } from "../codegen/_standalone.ts";

let compiled: Promise<string> | undefined;
let binaryDir: string | undefined;

/** Compiles the CLI (once per test file) into a temporary directory, removed after the file. */
function binary(): Promise<string> {
  compiled ??= (async () => {
    binaryDir = await mkdtemp(join(tmpdir(), "microapi-binary-"));
    const path = `${binaryDir}/microapi`;
    const outcome = await run(
      [denoBinary(), "run", "-A", `${root}scripts/compile.ts`, "--out", path],
      { timeoutMs: 120_000 },
    );
    assert.equal(outcome.code, 0, `deno task compile failed:\n${outcome.stderr}`);
    return path;
  })();
  return compiled;
}

afterAll(async () => {
  if (binaryDir !== undefined) await rm(binaryDir, { recursive: true, force: true });
});

/** The schemas live in a module of their own: their names must survive \`build\` too. */
const SCHEMAS = `import { z } from "zod";

/** A greeting. */
export const Greeting = z.object({ text: z.string() });
export const Tick = z.object({ n: z.number().int() });
`;

const SERVICE = `import { Service, streaming } from "@microapi/core";
import { z } from "zod";
import { Greeting, Tick } from "./schemas.ts";

export const hello = new Service("hello", { description: "Greets" })
  .method("greet", { input: z.object({ name: z.string() }), output: Greeting }, ({ name }) => ({
    text: \`Hello, \${name}\`,
  }))
  .method("count", { input: z.object({ to: z.number().int() }), output: streaming(Tick) },
    async function* ({ to }) {
      for (let n = 1; n <= to; n++) yield { n };
    });
`;

type HelloClient = {
  hello: {
    greet(input: { name: string }, options: { connection: Connection }): Promise<{ text: string }>;
    count(input: { to: number }, options: { connection: Connection }): AsyncIterable<{ n: number }>;
  };
};

async function callThrough(lib: string, url: string): Promise<void> {
  const client = await import(pathToFileURL(`${lib}/mod.ts`).href) as HelloClient;
  await using connection = new Connection(url);
  assert.deepEqual(await client.hello.greet({ name: "binary" }, { connection }), {
    text: "Hello, binary",
  });
  const ticks = [];
  for await (const tick of client.hello.count({ to: 3 }, { connection })) ticks.push(tick.n);
  assert.deepEqual(ticks, [1, 2, 3]);
}

async function sameFiles(a: string, b: string): Promise<void> {
  const names = (await readdir(a, { recursive: true })).sort();
  assert.deepEqual(names, (await readdir(b, { recursive: true })).sort());
  for (const name of names) {
    if ((await stat(`${a}/${name}`)).isDirectory()) continue;
    assert.equal(await readFile(`${a}/${name}`, "utf8"), await readFile(`${b}/${name}`, "utf8"));
  }
}

function ok(outcome: Outcome, what: string): void {
  assert.equal(outcome.code, 0, `${what}:\n${outcome.stdout}\n${outcome.stderr}`);
}

test("compiled binary: --version, --help, and exit codes 2 and 1 with one-line errors", async () => {
  const microapi = await binary();
  const version = await run([microapi, "--version"]);
  ok(version, "--version");
  assert.match(version.stdout, /^microapi \d+\.\d+\.\d+ \(bun \d/);
  const help = await run([microapi, "serve", "--help"]);
  ok(help, "serve --help");
  assert.match(help.stdout, /^Usage: microapi serve <files\|dirs\.\.\.> \[options\]/);
  const usage = await run([microapi, "serve", "x.ts", "--bogus"]);
  assert.equal(usage.code, 2);
  assert.equal(
    usage.stderr.trim(),
    "error: Unknown option --bogus for microapi serve (see microapi serve --help)",
  );
  const missing = await run([microapi, "generate", "missing.ts"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: Cannot find missing\.ts: no such file or directory$/m);
});

test("compiled binary: serves a file that imports the library by name with nothing installed; generates from the file and from the URL", async () => {
  const microapi = await binary();
  await using dir = await tempDir();
  await writeFile(`${dir.path}/hello.ts`, SERVICE);
  await writeFile(`${dir.path}/schemas.ts`, SCHEMAS);
  const info = await run([microapi, "info", "hello.ts"], { cwd: dir.path });
  ok(info, "info");
  assert.match(
    info.stdout,
    /^ {2}hello +count +server streaming +POST \/hello\/count +CountRequest +stream<Tick>$/m,
  );

  const server = start([microapi, "serve", "hello.ts", "--port", "0"], { cwd: dir.path });
  try {
    const url = (await server.waitFor(/Listening on (\S+)/))[1]!;
    assert.match(server.stdout(), /^ {2}hello +greet +unary +POST \/hello\/greet$/m);
    const fromFile = await run(
      [microapi, "generate", "hello.ts", "--out", "from_file", "--import", modUrl],
      { cwd: dir.path },
    );
    ok(fromFile, "generate from the file");
    const fromUrl = await run(
      [microapi, "generate", url, "--out", "from_url", "--import", modUrl],
      { cwd: dir.path },
    );
    ok(fromUrl, "generate from the URL");
    await sameFiles(`${dir.path}/from_file`, `${dir.path}/from_url`);
    await callThrough(`${dir.path}/from_url`, url);
  } finally {
    server.kill("SIGTERM");
  }
  assert.equal(await server.exited, 0, server.stderr());
});

test("compiled binary: build makes a self-contained server that serves, describes and generates", async () => {
  const microapi = await binary();
  await using dir = await tempDir();
  await writeFile(`${dir.path}/hello.ts`, SERVICE);
  await writeFile(`${dir.path}/schemas.ts`, SCHEMAS);
  const reference = await run(
    [microapi, "generate", "hello.ts", "--out", "reference", "--import", modUrl],
    { cwd: dir.path },
  );
  ok(reference, "generate");
  ok(
    await run([microapi, "generate", "hello.ts", "--out", "standalone_reference", "--standalone"], {
      cwd: dir.path,
    }),
    "generate --standalone",
  );
  const built = await run([microapi, "build", "hello.ts", "-o", "server"], { cwd: dir.path });
  ok(built, "build");
  assert.match(built.stderr, /^Compiling server$/m);
  assert.match(built.stdout, /^Built server \(\d+ MB, [\d.]+ s\) with hello\./m);
  assert.ok((await stat(`${dir.path}/server`)).size > 1_000_000);
  // Self-contained: the sources are gone.
  await rm(`${dir.path}/hello.ts`);
  await rm(`${dir.path}/schemas.ts`);

  const version = await run([`${dir.path}/server`, "--version"], { cwd: dir.path });
  assert.match(version.stdout, /^server \(microapi \d+\.\d+\.\d+, bun \d/);
  const help = await run([`${dir.path}/server`, "--help"], { cwd: dir.path });
  ok(help, "server --help");
  assert.match(help.stdout, /^server: a MicroAPI server \(microapi [\d.]+\) with hello\.ts$/m);
  assert.match(help.stdout, /^ {2}serve +Serve the built-in services/m);
  assert.doesNotMatch(help.stdout, /^ {2}(init|build) /m);
  const info = await run([`${dir.path}/server`, "info"], { cwd: dir.path });
  ok(info, "server info");
  assert.match(
    info.stdout,
    /^ {2}hello +greet +unary +POST \/hello\/greet +GreetRequest +Greeting$/m,
  );
  const generated = await run(
    [`${dir.path}/server`, "generate", "--out", "lib", "--import", modUrl],
    { cwd: dir.path },
  );
  ok(generated, "server generate");
  await sameFiles(`${dir.path}/reference`, `${dir.path}/lib`);
  // A built server carries the client runtime too.
  const standalone = await run(
    [`${dir.path}/server`, "generate", "--out", "standalone", "--standalone"],
    { cwd: dir.path },
  );
  ok(standalone, "server generate --standalone");
  await sameFiles(`${dir.path}/standalone_reference`, `${dir.path}/standalone`);
  const extra = await run([`${dir.path}/server`, "info", "hello.ts"], { cwd: dir.path });
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /^error: Unexpected argument "hello\.ts" for server info/m);

  // No command means serve.
  const server = start([`${dir.path}/server`, "--port", "0"], { cwd: dir.path });
  try {
    const url = (await server.waitFor(/Listening on (\S+)/))[1]!;
    await callThrough(`${dir.path}/lib`, url);
  } finally {
    server.kill("SIGINT"); // Ctrl-C
  }
  assert.equal(await server.exited, 0, server.stderr());
});

test("compiled binary: generate --standalone writes a client that runs with nothing installed under Deno and Bun", async () => {
  const microapi = await binary();
  await using dir = await tempDir();
  const app = new MicroAPI(examples.options);
  await using server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  ok(
    await run([microapi, "generate", server.url, "--out", "lib", "--standalone"], {
      cwd: dir.path,
    }),
    "generate --standalone",
  );
  // The same files as the CLI run from source writes.
  await using fromSource = await tempDir();
  ok(await cli(["generate", server.url, "--out", fromSource.path, "--standalone"]), "from source");
  await sameFiles(fromSource.path, `${dir.path}/lib`);
  await runStandaloneProgram(dir.path, server.url);
});

test("compiled binary: init writes a project that passes its own test offline, with a copy of the library", async () => {
  const microapi = await binary();
  await using dir = await tempDir();
  const created = await run([microapi, "init", "hello-api"], { cwd: dir.path });
  ok(created, "init");
  assert.match(
    created.stdout,
    /^Created hello-api in hello-api\/: deno\.json, .*, lib\/mod\.ts, package\.json, vendor\/microapi-core\/, node_modules\/zod\/$/m,
  );
  assert.match(
    created.stdout,
    /^@microapi\/core: a copy of the library \(microapi [\d.]+\) in vendor/m,
  );
  assert.match(created.stdout, /delete "links" from deno\.json \(and vendor\/, package\.json,/);
  const project = `${dir.path}/hello-api`;
  const config = JSON.parse(await readFile(`${project}/deno.json`, "utf8"));
  assert.match(config.imports["@microapi/core"], /^jsr:@microapi\/core@\^\d+\.\d+\.\d+$/);
  assert.deepEqual(config.links, ["./vendor/microapi-core"]);
  assert.equal(config.nodeModulesDir, "manual");
  // The copy is the library's sources, as in this checkout.
  assert.equal(
    await readFile(`${project}/vendor/microapi-core/mod.ts`, "utf8"),
    await readFile(`${root}mod.ts`, "utf8"),
  );

  // No network: an empty Deno cache, and an npm registry that refuses connections.
  await using cache = await tempDir();
  const env = {
    DENO_DIR: cache.path,
    NPM_CONFIG_REGISTRY: `http://127.0.0.1:${await closedPort()}/`,
  };
  const deno = denoBinary();
  const steps: [string, string[]][] = [
    ["the scaffold's test", ["task", "test"]],
    ["deno check", ["check", "main.ts", "client.ts", "main_test.ts"]],
    ["deno lint", ["lint"]],
    ["deno fmt --check", ["fmt", "--check"]],
    // The copy's CLI, through the task: it writes the client init wrote.
    ["the generate task", ["task", "generate", "--check"]],
  ];
  for (const [name, args] of steps) {
    const outcome = await run([deno, ...args], { cwd: project, env, timeoutMs: 120_000 });
    ok(outcome, name);
    if (name === "the scaffold's test") assert.match(outcome.stdout, /1 passed \| 0 failed/);
    if (name === "the generate task") assert.match(outcome.stdout, /lib\/ is up to date/);
  }
  const port = await closedPort();
  const server = start([deno, "task", "dev"], {
    cwd: project,
    env: { ...env, PORT: String(port) },
  });
  try {
    await server.waitFor(/Listening on/, 60_000);
    // The vendored library comes with zod alone: serve says Connect is off, and serves the rest.
    assert.match(server.stderr(), /^Connect is off: .*install @bufbuild\/protobuf/m);
    const client = await run([deno, "task", "client"], {
      cwd: project,
      env: { ...env, SERVER_URL: `http://127.0.0.1:${port}` },
    });
    ok(client, "deno task client");
    assert.equal(client.stdout, "Hello, world!\n3\n2\n1\n");
  } finally {
    server.kill("SIGTERM");
    await server.exited;
  }
});
