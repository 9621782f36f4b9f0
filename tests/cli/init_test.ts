/**
 * `microapi init` from source (`deno run cli.ts init`): the scaffold's own test passes as created,
 * its files pass Deno's checks, its generated client is exactly what `microapi generate` writes
 * for it, and its server and client talk. It imports `jsr:@microapi/core`, which is not published
 * (and JSR is unreachable here): deno.json's `links` makes that name resolve to this checkout.
 * The scaffold is a Deno project, so its checks run the Deno binary under either test runner.
 * (The compiled binary's `init`, which writes a copy of the library, is in binary_test.ts.)
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { test } from "../_harness.ts";
import { cli, closedPort, denoBinary, modUrl, root, run, start, tempDir } from "../_cli.ts";

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
  const deno = denoBinary();
  const created = await run(
    [deno, "run", "-A", "--config", `${root}deno.json`, `${root}cli.ts`, "init", "hello-api"],
    { cwd: dir.path },
  );
  assert.equal(created.code, 0, created.stderr);
  assert.match(
    created.stdout,
    new RegExp(`^Created hello-api in hello-api/: ${FILES.join(", ")}$`, "m"),
  );
  assert.match(created.stdout, /^ {2}cd hello-api$/m);
  const project = `${dir.path}/hello-api`;
  const config = JSON.parse(await readFile(`${project}/deno.json`, "utf8"));
  // The published name, linked to the library the CLI ran from.
  assert.match(config.imports["@microapi/core"], /^jsr:@microapi\/core@\^\d+\.\d+\.\d+$/);
  assert.deepEqual(config.links, [root.replace(/\/$/, "")]);
  assert.deepEqual(config.unstable, ["no-legacy-abort"]);
  assert.match(created.stdout, /^@microapi\/core: the library at \S+, linked in deno\.json/m);
  assert.match(created.stdout, /delete "links" from deno\.json to use jsr:@microapi\/core@\^/);
  assert.match(created.stdout, /npm:@microapi\/core/);
  assert.match(
    await readFile(`${project}/README.md`, "utf8"),
    /^## Where @microapi\/core comes from$/m,
  );

  const steps: [string, string[]][] = [
    ["the scaffold's test", ["task", "test"]],
    // Nothing to download: the library is linked, zod is in Deno's cache (the CLI used it).
    ["the test from the cache only", ["test", "-A", "--cached-only"]],
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
  // The default mapping is the published package, linked to this checkout.
  const config = JSON.parse(await readFile(`${empty.path}/deno.json`, "utf8"));
  assert.match(config.imports["@microapi/core"], /^jsr:@microapi\/core@\^\d+\.\d+\.\d+$/);
  assert.deepEqual(config.links, [root.replace(/\/$/, "")]);
  assert.match(
    config.tasks.dev,
    /^deno run -A jsr:@microapi\/core@\^[\d.]+\/cli serve --watch main\.ts$/,
  );

  // --core maps the library to what it is given, with no link.
  await using other = await tempDir();
  const given = await cli(["init", "--core", modUrl], { cwd: other.path });
  assert.equal(given.code, 0, given.stderr);
  const mapped = JSON.parse(await readFile(`${other.path}/deno.json`, "utf8"));
  assert.equal(mapped.imports["@microapi/core"], modUrl);
  // The generated client imports the client entry point: mapped next to it, and it resolves.
  assert.equal(
    mapped.imports["@microapi/core/client"],
    modUrl.replace(/mod\.ts$/, "src/client/mod.ts"),
  );
  const check = await run([denoBinary(), "check", "client.ts", "main_test.ts"], {
    cwd: other.path,
    timeoutMs: 120_000,
  });
  assert.equal(check.code, 0, `deno check:\n${check.stdout}\n${check.stderr}`);
  assert.equal(mapped.links, undefined);
  assert.match(mapped.tasks.generate, /^deno run -A file:\/\/\S+\/cli\.ts generate main\.ts/);
  assert.doesNotMatch(await readFile(`${other.path}/README.md`, "utf8"), /comes from/);
});
