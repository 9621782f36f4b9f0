/**
 * The npm package, end to end: `deno task pack` (scripts/npm_package.ts) makes the tarball once
 * for this file; a Bun project and a Deno project (`"nodeModulesDir": "manual"`, installed with
 * `npm install`) in temporary directories outside the checkout install it, the way the README's
 * "Install" section says, with zod from the npm registry. Each serves a service on a real socket
 * and calls it through the client `microapi generate` wrote (which imports
 * `@microapi/core/client`), uses `@microapi/core/testing` and `@microapi/core/transport`, and
 * type-checks against the package's declarations.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "../_harness.ts";
import { cliArgv, denoBinary, type Outcome, root, run, tempDir } from "../_cli.ts";
import { runtimeBinary } from "../_process.ts";
import { NOT_ON_NPM, npmExports, TYPESCRIPT } from "../../scripts/npm_package.ts";

function ok(outcome: Outcome, what: string): void {
  assert.equal(outcome.code, 0, `${what}:\n${outcome.stdout}\n${outcome.stderr}`);
}

// Packed before the tests start (it takes seconds); each test writes the tarball into its own
// temporary directory.
const packed = await (async () => {
  const dir = await mkdtemp(join(tmpdir(), "microapi-pack-test-"));
  try {
    const outcome = await run(
      [denoBinary(), "run", "-A", `${root}scripts/npm_package.ts`, "pack", "--out", dir],
      { timeoutMs: 180_000 },
    );
    ok(outcome, "deno task pack");
    const path = outcome.stdout.trim();
    return { name: path.slice(path.lastIndexOf("/") + 1), bytes: await readFile(path) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
})();

/** Writes the tarball into a directory. */
async function tarballIn(dir: string): Promise<string> {
  const path = `${dir}/${packed.name}`;
  await writeFile(path, packed.bytes);
  return path;
}

/** npm and Bun, with Deno on the PATH too (for tsc). */
const env = {
  PATH: [
    denoBinary().replace(/\/[^/]+$/, ""),
    runtimeBinary("bun").replace(/\/[^/]+$/, ""),
    process.env.PATH ?? "",
  ].join(":"),
};

const SERVICE = `import { MicroAPI, Service, streaming, z } from "@microapi/core";

export const Greeting = z.object({ text: z.string() });
export const Tick = z.object({ n: z.number().int() });

export const hello = new Service("hello")
  .method("greet", { input: z.object({ name: z.string() }), output: Greeting }, ({ name }) => ({
    text: \`Hello, \${name}\`,
  }))
  .method(
    "count",
    { input: z.object({ to: z.number().int() }), output: streaming(Tick) },
    async function* ({ to }) {
      for (let n = 1; n <= to; n++) yield { n };
    },
  );

export const app = new MicroAPI({ services: [hello] });
`;

/** Serves the app, calls it through the generated client, and in memory through ./testing. */
const MAIN = `import { Connection, RpcError } from "@microapi/core";
import { Connection as ClientConnection } from "@microapi/core/client";
import { createTestConnection } from "@microapi/core/testing";
import { OutboundCredit } from "@microapi/core/transport";
import { hello } from "./lib/mod.ts";
import { app } from "./service.ts";

await using server = await app.serve({ port: 0, hostname: "127.0.0.1" });
await using connection = new Connection(server.url);
const greeting: { text: string } = await hello.greet({ name: "npm" }, { connection });
const ticks: number[] = [];
for await (const tick of hello.count({ to: 3 }, { connection })) ticks.push(tick.n);
const invalid = await hello.greet({ name: 42 as unknown as string }, { connection }).then(
  () => "accepted",
  (error) => error instanceof RpcError ? error.code : String(error),
);
await using memory = await createTestConnection(app);
console.log(JSON.stringify({
  greeting,
  ticks,
  invalid,
  memory: await memory.unary("hello/greet", { name: "memory" }),
  // One copy of each module behind every entry point.
  sameConnectionClass: memory instanceof Connection && Connection === ClientConnection,
  transport: new OutboundCredit(1).take(),
}));
`;

const EXPECTED = {
  greeting: { text: "Hello, npm" },
  ticks: [1, 2, 3],
  invalid: "invalid_argument",
  memory: { text: "Hello, memory" },
  sameConnectionClass: true,
  transport: true,
};

/** Writes the app and generates its client with the CLI (from the file). */
async function writeApp(dir: string): Promise<void> {
  await writeFile(`${dir}/service.ts`, SERVICE);
  await writeFile(`${dir}/main.ts`, MAIN);
  ok(
    await run([...cliArgv(), "generate", "service.ts", "--out", "lib"], { cwd: dir }),
    "microapi generate",
  );
}

test("package: package.json is the npm manifest of deno.json's entry points", async () => {
  const deno = JSON.parse(await readFile(`${root}deno.json`, "utf8"));
  const pkg = JSON.parse(await readFile(`${root}package.json`, "utf8"));
  assert.equal(pkg.name, deno.name);
  assert.equal(pkg.version, deno.version);
  assert.equal(pkg.private, undefined);
  // The one list: every export of deno.json but the CLI, as JavaScript with its declarations.
  assert.deepEqual(pkg.exports, npmExports(deno.exports));
  assert.deepEqual(Object.keys(pkg.exports), [
    ...Object.keys(deno.exports).filter((subpath) => !(subpath in NOT_ON_NPM)),
  ]);
  assert.deepEqual(pkg.exports["./testing"], {
    types: "./dist/npm/src/testing/mod.d.ts",
    default: "./dist/npm/src/testing/mod.js",
  });
  assert.equal(pkg.dependencies.zod, deno.imports.zod.replace(/^npm:zod@/, ""));
  assert.deepEqual(Object.keys(pkg.dependencies), ["zod"]);

  // The tarball holds every file the exports name, and no TypeScript source.
  await using dir = await tempDir();
  const listing = await run(["tar", "tzf", await tarballIn(dir.path)]);
  ok(listing, "tar tzf");
  const files = new Set(listing.stdout.trim().split("\n").map((f) => f.replace(/^package\//, "")));
  for (const entry of Object.values(pkg.exports) as { types: string; default: string }[]) {
    assert.ok(files.has(entry.types.slice(2)), `${entry.types} is missing from the tarball`);
    assert.ok(files.has(entry.default.slice(2)), `${entry.default} is missing from the tarball`);
  }
  const sources = [...files].filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
  assert.deepEqual(sources, []);
  assert.ok(files.has("package.json") && files.has("README.md"));
});

test("package: a Bun project outside the checkout installs the tarball, serves and calls", async () => {
  await using dir = await tempDir("microapi-bun-app-");
  await writeFile(
    `${dir.path}/package.json`,
    JSON.stringify({ name: "bun-app", private: true, type: "module" }),
  );
  ok(
    await run([runtimeBinary("bun"), "add", await tarballIn(dir.path)], {
      cwd: dir.path,
      env,
      timeoutMs: 120_000,
    }),
    "bun add",
  );
  await writeApp(dir.path);
  const main = await run([runtimeBinary("bun"), "main.ts"], { cwd: dir.path });
  ok(main, "bun main.ts");
  assert.deepEqual(JSON.parse(main.stdout), EXPECTED);

  // TypeScript users get the declarations (tsc with the usual bundler resolution).
  await writeFile(
    `${dir.path}/tsconfig.json`,
    JSON.stringify({
      compilerOptions: {
        target: "es2022",
        module: "esnext",
        moduleResolution: "bundler",
        lib: ["esnext", "dom", "dom.asynciterable"],
        types: [],
        strict: true,
        noEmit: true,
        allowImportingTsExtensions: true,
      },
      files: ["main.ts"],
    }),
  );
  const tsc = await run([denoBinary(), "run", "-A", "--no-lock", `${TYPESCRIPT}/tsc`, "-p", "."], {
    cwd: dir.path,
    timeoutMs: 120_000,
  });
  ok(tsc, "tsc --noEmit");
});

test("package: a Deno project (nodeModulesDir manual) installs the tarball with npm, serves and calls", async () => {
  await using dir = await tempDir("microapi-deno-app-");
  await writeFile(`${dir.path}/deno.json`, JSON.stringify({ nodeModulesDir: "manual" }));
  await writeFile(`${dir.path}/package.json`, JSON.stringify({ private: true }));
  ok(
    await run(["npm", "install", "--no-audit", "--no-fund", await tarballIn(dir.path)], {
      cwd: dir.path,
      env,
      timeoutMs: 120_000,
    }),
    "npm install",
  );
  await writeApp(dir.path);
  ok(await run([denoBinary(), "check", "main.ts"], { cwd: dir.path }), "deno check");
  const main = await run([denoBinary(), "run", "-A", "main.ts"], { cwd: dir.path });
  ok(main, "deno run main.ts");
  assert.deepEqual(JSON.parse(main.stdout), EXPECTED);
});
