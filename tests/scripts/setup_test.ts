/**
 * `deno task test` and `deno task compile` set up what they need (scripts/_tools.ts). Where
 * something is missing and cannot be installed, they stop before doing anything, with one line
 * saying what to install: never a stack trace, never a run of failing tests. Tested on a copy of
 * scripts/ (no .tools/ next to it: Bun is missing) with an empty PATH (no npm, no apt-get, no
 * chromium, no nats-server).
 */
import assert from "node:assert/strict";
import { cp, readdir } from "node:fs/promises";
import { test } from "../_harness.ts";
import { denoBinary, root, run, tempDir } from "../_cli.ts";

const NO_PATH = { PATH: "/nonexistent" };

test("scripts/test.ts without Bun, npm, chromium or nats-server stops at once with one line saying what to install", async () => {
  await using dir = await tempDir();
  await cp(`${root}scripts`, `${dir.path}/scripts`, { recursive: true });
  const outcome = await run(
    [denoBinary(), "run", "-A", "--no-config", `${dir.path}/scripts/test.ts`],
    { cwd: dir.path, env: NO_PATH },
  );
  assert.equal(outcome.code, 1, outcome.stdout + outcome.stderr);
  assert.equal(
    outcome.stderr,
    "error: bun@1.4.4 is missing and npm is not on PATH: install Node.js and npm; " +
      "chromium is missing (the browser test needs it) and apt-get is not on PATH: " +
      "install chromium; nats-server is missing (the NATS transport test needs it) and apt-get " +
      "is not on PATH: install nats-server; then run again\n",
  );
  assert.equal(outcome.stdout, "0 passed, 1 failed\n");
  assert.deepEqual(await readdir(dir.path), ["scripts"], "nothing was installed");
});

test("scripts/compile.ts without Bun or npm stops at once with one line; it does not need chromium", async () => {
  await using dir = await tempDir();
  await cp(`${root}scripts`, `${dir.path}/scripts`, { recursive: true });
  const outcome = await run(
    [denoBinary(), "run", "-A", "--no-config", `${dir.path}/scripts/compile.ts`],
    { cwd: dir.path, env: NO_PATH },
  );
  assert.equal(outcome.code, 1, outcome.stdout + outcome.stderr);
  assert.equal(
    outcome.stderr,
    "error: bun@1.4.4 is missing and npm is not on PATH: install Node.js and npm; then run again\n",
  );
  assert.deepEqual(await readdir(dir.path), ["scripts"], "nothing was made");
});
