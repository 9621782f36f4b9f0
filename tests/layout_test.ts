/**
 * The architecture, checked: the library (what `mod.ts` and `@microapi/core/testing` import) has no
 * `node:` imports and no dependency but zod, and only the runtime adapters touch `Deno.*` or
 * `Bun.*`. The CLI (`cli.ts`, `src/cli/`) is a separate entry point and may use `node:fs` and
 * `node:path`, the one file system API Deno and Bun share (docs/cli.md). `@bufbuild/protobuf` is
 * imported by `src/protobuf/` alone, which only the Connect entry point and the CLI load.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { test } from "./_harness.ts";

const root = new URL("../", import.meta.url).pathname;

/** Import specifiers of a module, comments and strings in JSDoc examples ignored. */
function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specifiers: string[] = [];
  for (const match of code.matchAll(/\b(?:import|export)\b[^'"]*?\bfrom\s*["']([^"']+)["']/g)) {
    specifiers.push(match[1]!);
  }
  for (const match of code.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g)) {
    specifiers.push(match[1]!);
  }
  return specifiers;
}

/** Every local module reachable from the entry points, with the external specifiers they use. */
async function graph(
  entries: string[],
): Promise<{ files: string[]; external: Map<string, string> }> {
  const seen = new Set<string>();
  const external = new Map<string, string>();
  const queue = entries.map((e) => join(root, e));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of importsOf(await readFile(file, "utf8"))) {
      if (specifier.startsWith(".")) queue.push(join(dirname(file), specifier));
      else external.set(specifier, relative(root, file));
    }
  }
  return { files: [...seen].map((f) => relative(root, f)).sort(), external };
}

test("layout: the library imports nothing from node: and nothing but zod", async () => {
  const { files, external } = await graph(["mod.ts", "src/testing/mod.ts"]);
  assert.ok(files.length > 20, `expected the whole library, found ${files.length} files`);
  assert.ok(files.every((f) => !f.startsWith("src/cli/")), "the library must not import the CLI");
  assert.ok(
    files.every((f) => !f.startsWith("src/protobuf/")),
    "the core must not import src/protobuf/ (only the Connect entry point does)",
  );
  assert.deepEqual(
    [...external.keys()],
    ["zod"],
    `external imports: ${JSON.stringify([...external])}`,
  );
});

test("layout: only the runtime adapters touch Deno.* or Bun.*", async () => {
  const { files } = await graph(["mod.ts", "src/testing/mod.ts"]);
  const offenders: string[] = [];
  for (const file of files) {
    if (file.startsWith("src/server/adapters/")) continue;
    const code = (await readFile(join(root, file), "utf8"))
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    if (/\b(?:Deno|Bun)\.[a-zA-Z]/.test(code) || /globalThis as[^)]*\bBun\b/.test(code)) {
      offenders.push(file);
    }
  }
  assert.deepEqual(offenders, []);
});

/** Every TypeScript file under a directory, relative to the root. */
async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...await sources(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Where `@bufbuild/protobuf` may be imported: the protobuf mapping and the Connect entry point. */
const PROTOBUF_FOLDERS = ["src/protobuf/", "src/connect/"];

test("layout: only src/protobuf/ imports @bufbuild/protobuf, and it needs nothing but zod besides", async () => {
  const offenders: string[] = [];
  for (const file of ["mod.ts", "cli.ts", ...await sources("src")]) {
    const specifiers = importsOf(await readFile(join(root, file), "utf8"));
    if (
      specifiers.some((s) => s.startsWith("@bufbuild/")) &&
      !PROTOBUF_FOLDERS.some((folder) => file.startsWith(folder))
    ) offenders.push(file);
  }
  assert.deepEqual(offenders, []);
  const { files, external } = await graph(["src/protobuf/mod.ts"]);
  assert.ok(files.includes("src/protobuf/codec.ts"), `found ${files.join(", ")}`);
  assert.ok(files.every((f) => !f.startsWith("src/server/") && !f.startsWith("src/client/")));
  assert.deepEqual(
    [...external.keys()].map((s) => s.replace(/^(@bufbuild\/protobuf)\/.*$/, "$1")).sort()
      .filter((s, i, all) => all.indexOf(s) === i),
    ["@bufbuild/protobuf", "zod"],
    `external imports: ${JSON.stringify([...external])}`,
  );
});
