/**
 * Golden files: the client generated for tests/codegen/_kitchen_sink.ts, and its introspection
 * document, must match tests/codegen/golden/ byte for byte. After an intended change to the
 * generator, regenerate them with:
 *
 *   UPDATE_GOLDEN=1 deno test -A tests/codegen/golden_test.ts
 *
 * and review the diff. (The examples' client, examples/client/, is checked the same way by
 * examples_client_test.ts.)
 */
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import process from "node:process";
import { test } from "../_harness.ts";
import { cli, root, tempDir } from "../_cli.ts";

const GOLDEN = `${root}tests/codegen/golden/`;
const SOURCE = "tests/codegen/_kitchen_sink.ts";
const update = process.env.UPDATE_GOLDEN === "1";

async function files(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...await files(dir, path));
    else out.push(path);
  }
  return out.sort();
}

async function matchGolden(actualDir: string, goldenDir: string): Promise<void> {
  if (update) {
    await rm(goldenDir, { recursive: true, force: true });
    for (const path of await files(actualDir)) {
      await mkdir(dirname(join(goldenDir, path)), { recursive: true });
      await writeFile(join(goldenDir, path), await readFile(join(actualDir, path)));
    }
  }
  assert.deepEqual(await files(actualDir), await files(goldenDir), "the generated file names");
  for (const path of await files(goldenDir)) {
    assert.equal(
      await readFile(join(actualDir, path), "utf8"),
      await readFile(join(goldenDir, path), "utf8"),
      `${path} differs from its golden file (UPDATE_GOLDEN=1 to accept a change)`,
    );
  }
}

test("generate: the kitchen-sink client matches the golden files", async () => {
  await using dir = await tempDir();
  const outcome = await cli(["generate", SOURCE, "--out", dir.path]);
  assert.equal(outcome.code, 0, outcome.stderr);
  await matchGolden(dir.path, `${GOLDEN}kitchen_sink`);
});

test("generate: the kitchen-sink introspection document matches the golden JSON", async () => {
  const outcome = await cli(["info", SOURCE, "--json"]);
  assert.equal(outcome.code, 0, outcome.stderr);
  const path = `${GOLDEN}kitchen_sink.json`;
  if (update) await writeFile(path, outcome.stdout);
  assert.equal(outcome.stdout, await readFile(path, "utf8"));
});

test("generate: the output is deterministic (the same bytes every time)", async () => {
  await using first = await tempDir();
  await using second = await tempDir();
  for (const dir of [first, second]) {
    assert.equal((await cli(["generate", SOURCE, "--out", dir.path])).code, 0);
  }
  const names = await files(first.path);
  assert.deepEqual(names, await files(second.path));
  for (const name of names) {
    assert.equal(
      await readFile(join(first.path, name), "utf8"),
      await readFile(join(second.path, name), "utf8"),
    );
  }
});
