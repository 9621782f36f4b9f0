/**
 * `microapi init`: the scaffold's own test passes as created, its files pass Deno's checks, its
 * generated client is exactly what `microapi generate` writes for it, and its server and client
 * talk. JSR is unreachable here, so the scaffold maps `@microapi/core` to this checkout's mod.ts
 * (`--core`); a real project gets `jsr:@microapi/core`. The scaffold is a Deno project, so its
 * checks run the Deno binary under either test runner.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { test } from "../_harness.ts";
import { cli, closedPort, denoBinary, modUrl, run, start, tempDir } from "../_cli.ts";

const FILES = [
  "deno.json",
  "README.md",
  "services/greeter.ts",
  "main.ts",
  "client.ts",
  "main_test.ts",
  "lib/types.ts",
  "lib/greeter.ts",
  "lib/mod.ts",
];

test("init: the new project's test passes, its code is clean, and its client is up to date", async () => {
  await using dir = await tempDir();
  const created = await cli(["init", "hello-api", "--core", modUrl], { cwd: dir.path });
  assert.equal(created.code, 0, created.stderr);
  assert.match(
    created.stdout,
    new RegExp(`^Created hello-api in hello-api/: ${FILES.join(", ")}$`, "m"),
  );
  assert.match(created.stdout, /^ {2}cd hello-api$/m);
  const project = `${dir.path}/hello-api`;
  const config = JSON.parse(await readFile(`${project}/deno.json`, "utf8"));
  assert.equal(config.imports["@microapi/core"], modUrl);
  assert.deepEqual(config.unstable, ["no-legacy-abort"]);

  const deno = denoBinary();
  const steps: [string, string[]][] = [
    ["the scaffold's test", ["task", "test"]],
    ["deno check", ["check", "main.ts", "client.ts", "main_test.ts"]],
    ["deno lint", ["lint"]],
    ["deno fmt --check", ["fmt", "--check"]],
    // The client init wrote is the one `microapi generate` writes for the project's files.
    ["the generate task", ["task", "generate", "--check"]],
  ];
  for (const [name, args] of steps) {
    const outcome = await run([deno, ...args], { cwd: project, timeoutMs: 120_000 });
    assert.equal(outcome.code, 0, `${name}:\n${outcome.stdout}\n${outcome.stderr}`);
    if (name === "the scaffold's test") assert.match(outcome.stdout, /1 passed \| 0 failed/);
    if (name === "the generate task") assert.match(outcome.stdout, /lib\/ is up to date/);
  }

  // The server and the client the README describes talk to each other.
  const port = await closedPort();
  const server = start([deno, "task", "start"], { cwd: project, env: { PORT: String(port) } });
  try {
    await server.waitFor(/Listening on/, 60_000);
    const client = await run([deno, "task", "client"], {
      cwd: project,
      env: { SERVER_URL: `http://127.0.0.1:${port}` },
    });
    assert.equal(client.code, 0, client.stderr);
    assert.equal(client.stdout, "Hello, world!\n3\n2\n1\n");
  } finally {
    server.kill("SIGTERM");
    await server.exited;
  }
});

test("init: refuses to overwrite files, and fills the current directory without a name", async () => {
  await using dir = await tempDir();
  await writeFile(`${dir.path}/main.ts`, "// mine\n");
  const refused = await cli(["init"], { cwd: dir.path });
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stderr.trim(),
    "error: Cannot create a project in .: main.ts already exists",
  );
  assert.equal(await readFile(`${dir.path}/main.ts`, "utf8"), "// mine\n");

  await using empty = await tempDir();
  const created = await cli(["init"], { cwd: empty.path });
  assert.equal(created.code, 0, created.stderr);
  assert.doesNotMatch(created.stdout, /cd /);
  for (const file of FILES) await readFile(`${empty.path}/${file}`);
  // The default mapping is the published package.
  const config = JSON.parse(await readFile(`${empty.path}/deno.json`, "utf8"));
  assert.match(config.imports["@microapi/core"], /^jsr:@microapi\/core@\^\d+\.\d+\.\d+$/);
  assert.match(
    config.tasks.dev,
    /^deno run -A jsr:@microapi\/core@\^[\d.]+\/cli serve --watch main\.ts$/,
  );
});
