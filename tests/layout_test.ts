/**
 * The architecture, checked (STYLE.md, docs/architecture.md):
 *
 * - the library (what `mod.ts`, `@microapi/core/testing` and `@microapi/core/transport` import) has
 *   no `node:` imports and no dependency but zod, and does not reach into the CLI;
 * - the client entry (`@microapi/core/client`, src/client/mod.ts) imports no package at all, zod
 *   included, and no server code: a browser bundle of a generated client carries only the client;
 * - imports between the folders of src/ go one way: `schema <- protocol <- {server, client}`,
 *   `codegen <- schema`; server and client never import each other (only `testing/` joins them);
 *   `_util/` may be imported by anything and imports nothing else; the façade `mod.ts` and the CLI
 *   are imported by nothing in src/ but the CLI;
 * - only `server/adapters/` and `cli/` touch the runtime's globals: `Deno`, `Bun` and `process`,
 *   however they are reached (`Deno.env`, `typeof Deno`, `globalThis.Deno`, `"Deno" in
 *   globalThis`, a cast of `globalThis` to a type naming them).
 *
 * - `@bufbuild/protobuf` is imported by `src/protobuf/` alone, which only the Connect entry point
 *   and the CLI load.
 * - `@nats-io/*` is imported by `src/nats/` alone (`@microapi/core/nats`, which the CLI loads for
 *   `--nats` and `nats://` URLs); that entry point has no `node:` import of its own (the NATS TCP
 *   transport library it loads for `nats://` URLs may).
 *
 * Every `.ts` file under src/ is checked, whether or not an entry point reaches it. The CLI
 * (`cli.ts`, `src/cli/`) is a separate entry point and may use `node:fs` and `node:path`, the one
 * file system API Deno and Bun share (docs/cli.md).
 *
 * Where today's code breaks a rule, the exception is listed below with the reason, and the test
 * fails when a listed exception disappears, so that the list shrinks with the code.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { test } from "./_harness.ts";

const root = new URL("../", import.meta.url).pathname;

/**
 * What each folder of src/ may import besides itself. `mod.ts` is the façade at the root: it
 * imports server and client, so a file that imports it imports everything.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  _util: [],
  schema: ["_util"],
  protocol: ["schema", "_util"],
  // The server imports console/_assets.ts only: the built page, as strings (no code of its own).
  server: ["console", "protocol", "schema", "_util"],
  client: ["protocol", "schema", "_util"],
  // The dev console's page runs in the browser: the client, and codegen's identifier rules for
  // the TypeScript snippets it writes.
  console: ["client", "codegen", "protocol", "schema", "_util"],
  codegen: ["schema", "_util"],
  // Protobuf from zod: only the Connect entry point and the CLI load it (it brings @bufbuild/protobuf).
  protobuf: ["protocol", "schema", "_util"],
  // The Connect entry point (`@microapi/core/connect`): a protocol on the server's HTTP handler,
  // with the protobuf mapping; it alone, with protobuf/, brings @bufbuild/protobuf.
  connect: ["server", "protobuf", "protocol", "schema", "_util"],
  testing: ["server", "client", "protocol", "schema", "_util"],
  // The transport authors' entry point: both sides' neutral calls and the wire pieces.
  transport: ["server", "client", "protocol", "schema", "_util"],
  // The NATS transport, both sides: only its entry point and the CLI load it (it brings
  // @nats-io/*).
  nats: ["server", "client", "protocol", "schema", "_util"],
  // The CLI is the top: it may import anything, and nothing in src/ but itself imports it.
  cli: [
    "mod.ts",
    "deno.json",
    "connect",
    "testing",
    "codegen",
    "protobuf",
    "nats",
    "server",
    "client",
    "protocol",
    "schema",
    "_util",
  ],
};

/**
 * Imports that break {@linkcode MAY_IMPORT} today, as `"from -> to"` file pairs, each with the
 * reason and what removes it. None today.
 */
const KNOWN_IMPORT_EXCEPTIONS: readonly { edge: string; reason: string }[] = [];

/** Folders whose files may touch the runtime's globals. */
const RUNTIME_FOLDERS = ["src/server/adapters/", "src/cli/"];

/**
 * Uses of a runtime global outside {@linkcode RUNTIME_FOLDERS} today: the file, the code as
 * written on its line, and why it is there.
 */
const KNOWN_RUNTIME_EXCEPTIONS: readonly { file: string; code: string; reason: string }[] = [
  {
    file: "src/client/ws_transport.ts",
    code: 'typeof (globalThis as { Deno?: unknown }).Deno === "object"',
    reason: "Deno's WebSocket client leaves Nagle's algorithm on, so a Deno client asks the " +
      "server to acknowledge every message (?ack=1) and keeps batches within 1 KiB " +
      "(docs/runtimes.md). The detection belongs in a client-side runtime adapter.",
  },
];

/** The runtime globals STYLE.md reserves for the adapters and the CLI. */
const RUNTIME_GLOBALS = ["Deno", "Bun", "process"];

/**
 * A module's source with comments, regular expression literals and the text of template literals
 * blanked out (every character but newlines becomes a space, so offsets and lines still match the
 * source). Quoted strings and `${...}` expressions are kept.
 *
 * @param source TypeScript source.
 * @returns The same text, with only code and quoted strings left.
 */
function codeOf(source: string): string {
  const out: string[] = [];
  let i = 0;
  const blank = (end: number) => {
    for (; i < end; i++) out.push(source[i] === "\n" ? "\n" : " ");
  };
  const keep = (end: number) => {
    out.push(source.slice(i, end));
    i = end;
  };
  // A `/` starts a regular expression after an operator, an opening bracket or a keyword, and
  // divides after a name, a number or a closing bracket.
  const regexAllowed = () => {
    let before = "";
    for (let k = out.length - 1; k >= 0 && before.trim().length < 8; k--) before = out[k] + before;
    before = before.trimEnd();
    return before === "" || /[(,=:[!&|?{};+\-*%<>~^]$/.test(before) ||
      /\b(?:return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)$/.test(before);
  };
  const scanCode = (inTemplate: boolean) => {
    let depth = 0;
    while (i < source.length) {
      const c = source[i]!;
      const next = source[i + 1];
      if (c === "/" && next === "/") {
        const end = source.indexOf("\n", i);
        blank(end === -1 ? source.length : end);
      } else if (c === "/" && next === "*") {
        const end = source.indexOf("*/", i + 2);
        blank(end === -1 ? source.length : end + 2);
      } else if (c === '"' || c === "'") {
        let end = i + 1;
        while (end < source.length && source[end] !== c && source[end] !== "\n") {
          end += source[end] === "\\" ? 2 : 1;
        }
        keep(end + 1);
      } else if (c === "`") {
        keep(i + 1);
        scanTemplate();
      } else if (c === "/" && regexAllowed()) {
        let end = i + 1;
        let inClass = false;
        while (end < source.length && source[end] !== "\n") {
          const r = source[end];
          if (r === "\\") end++;
          else if (r === "[") inClass = true;
          else if (r === "]") inClass = false;
          else if (r === "/" && !inClass) break;
          end++;
        }
        end++;
        while (end < source.length && /[a-z]/.test(source[end]!)) end++;
        blank(end);
      } else if (c === "{") {
        depth++;
        keep(i + 1);
      } else if (c === "}") {
        if (inTemplate && depth === 0) return;
        depth--;
        keep(i + 1);
      } else {
        keep(i + 1);
      }
    }
  };
  const scanTemplate = () => {
    while (i < source.length) {
      const c = source[i];
      if (c === "\\") blank(i + 2);
      else if (c === "`") return keep(i + 1);
      else if (c === "$" && source[i + 1] === "{") {
        keep(i + 2);
        scanCode(true);
        keep(i + 1); // the closing brace
      } else blank(i + 1);
    }
  };
  scanCode(false);
  return out.join("");
}

/**
 * Import and re-export specifiers of a module (static, type-only, side-effect and dynamic with a
 * literal specifier), with the line each is on.
 *
 * @param code The module, through {@linkcode codeOf}.
 * @returns The specifiers.
 */
function importsOf(code: string): { specifier: string; line: number }[] {
  const found: { specifier: string; line: number }[] = [];
  const patterns = [
    /\b(?:import|export)\b[^'"`;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) {
      const at = match.index + match[0].lastIndexOf(match[1]!);
      found.push({ specifier: match[1]!, line: lineAt(code, at) });
    }
  }
  return found;
}

/**
 * Where a module touches a runtime global: each match, with its line.
 *
 * @param code The module, through {@linkcode codeOf}.
 * @returns The matches.
 */
function runtimeUsesOf(code: string): { line: number; text: string }[] {
  const names = RUNTIME_GLOBALS.join("|");
  // A quoted string counts only when it is exactly a global's name (`"Deno" in globalThis`,
  // `globalThis["Bun"]`); any other string is prose, such as an error message naming Deno.
  const bare = code.replace(
    /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g,
    (literal) =>
      RUNTIME_GLOBALS.includes(literal.slice(1, -1)) ? literal : " ".repeat(literal.length),
  );
  const uses: { line: number; text: string }[] = [];
  const pattern = new RegExp(
    `(?<![\\w$.])(?:${names})\\b|["'](?:${names})["']|\\.\\s*(?:Deno|Bun)\\b`,
    "g",
  );
  for (const match of bare.matchAll(pattern)) {
    uses.push({ line: lineAt(code, match.index), text: match[0] });
  }
  return uses;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/** The folder of src/ a file belongs to (`server` for `src/server/adapters/deno.ts`). */
function layerOf(path: string): string {
  if (!path.startsWith("src/")) return path;
  return path.split("/")[1]!;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) files.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
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
    for (const { specifier } of importsOf(codeOf(await readFile(file, "utf8")))) {
      if (specifier.startsWith(".")) queue.push(join(dirname(file), specifier));
      else external.set(specifier, relative(root, file));
    }
  }
  return { files: [...seen].map((f) => relative(root, f)).sort(), external };
}

test("layout: the library imports nothing from node: and nothing but zod", async () => {
  const { files, external } = await graph([
    "mod.ts",
    "src/testing/mod.ts",
    "src/transport/mod.ts",
  ]);
  assert.ok(files.length > 20, `expected the whole library, found ${files.length} files`);
  assert.ok(files.every((f) => !f.startsWith("src/cli/")), "the library must not import the CLI");
  assert.ok(
    files.every((f) => !f.startsWith("src/protobuf/") && !f.startsWith("src/connect/")),
    "the core must not import src/protobuf/ or src/connect/ (only the Connect entry point does)",
  );
  assert.ok(
    files.every((f) => !f.startsWith("src/nats/")),
    "the core must not import src/nats/ (only @microapi/core/nats does)",
  );
  assert.deepEqual(
    [...external.keys()],
    ["zod"],
    `external imports: ${JSON.stringify([...external])}`,
  );
});

test("layout: the client entry imports no package at all, and no server code", async () => {
  const { files, external } = await graph(["src/client/mod.ts"]);
  assert.ok(files.includes("src/client/connection.ts"), `found ${files}`);
  assert.deepEqual([...external], [], "the client entry's graph imports a package");
  assert.deepEqual(
    files.filter((file) => !/^src\/(client|protocol|schema|_util)\//.test(file)),
    [],
    "the client entry's graph reaches beyond client/, protocol/, schema/ and _util/",
  );
});

test("entry points: @microapi/core exports every name of @microapi/core/client, the same values", async () => {
  const core: Record<string, unknown> = await import("../mod.ts");
  const client: Record<string, unknown> = await import("../src/client/mod.ts");
  const missing = Object.keys(client).filter((name) => core[name] !== client[name]);
  assert.deepEqual(missing, [], "client names @microapi/core lacks or exports another value for");
});

test("layout: imports go schema <- protocol <- {server, client}, codegen <- schema", async () => {
  const offenders: string[] = [];
  const edges = new Set<string>();
  const exceptions = new Map(KNOWN_IMPORT_EXCEPTIONS.map((e) => [e.edge, e.reason]));
  const used = new Set<string>();
  for (const file of await sourceFiles("src")) {
    const from = layerOf(file);
    const allowed = MAY_IMPORT[from];
    assert.ok(allowed, `${file}: src/${from}/ is not in MAY_IMPORT; add it with its place`);
    const code = codeOf(await readFile(join(root, file), "utf8"));
    for (const { specifier, line } of importsOf(code)) {
      if (!specifier.startsWith(".")) continue;
      const target = relative(root, join(root, dirname(file), specifier));
      const to = layerOf(target);
      if (to === from) continue;
      edges.add(`${from} -> ${to}`);
      if (allowed.includes(to)) continue;
      const edge = `${file} -> ${target}`;
      if (exceptions.has(edge)) used.add(edge);
      else offenders.push(`${file}:${line} imports ${target} (${from} may import ${allowed})`);
    }
  }
  // The scan must see the real graph: these edges exist, so finding none means it is broken.
  for (const edge of ["protocol -> _util", "server -> protocol", "client -> schema"]) {
    assert.ok(edges.has(edge), `expected to find ${edge}; found ${[...edges]}`);
  }
  assert.deepEqual(offenders, [], "imports against the direction of the layers");
  const stale = [...exceptions.keys()].filter((edge) => !used.has(edge));
  assert.deepEqual(stale, [], "KNOWN_IMPORT_EXCEPTIONS lists imports that are gone: remove them");
});

test("layout: only server/adapters/ and cli/ touch Deno, Bun or process", async () => {
  const found: string[] = [];
  for (const file of ["mod.ts", ...await sourceFiles("src")]) {
    if (RUNTIME_FOLDERS.some((folder) => file.startsWith(folder))) continue;
    const source = await readFile(join(root, file), "utf8");
    const lines = source.split("\n");
    for (
      const { line } of new Map(runtimeUsesOf(codeOf(source)).map((u) => [u.line, u])).values()
    ) {
      const text = lines[line - 1]!.trim();
      const known = KNOWN_RUNTIME_EXCEPTIONS.find((e) => e.file === file && text.includes(e.code));
      found.push(known ? `${file}: ${known.code}` : `${file}:${line}: ${text}`);
    }
  }
  assert.deepEqual(
    found.sort(),
    KNOWN_RUNTIME_EXCEPTIONS.map((e) => `${e.file}: ${e.code}`).sort(),
    "runtime globals outside server/adapters/ and cli/ (the expected side is the allow-list)",
  );
});

test("layout: the source scanner finds imports and runtime globals, not words in strings", () => {
  const code = codeOf(
    [
      'import type { A } from "../server/app.ts";',
      'import "./side_effect.ts";',
      'const lazy = () => import("../client/connection.ts");',
      "// import { B } from '../server/commented.ts';",
      "/* typeof Deno */",
      'const template = `import { C } from "../server/template.ts"; ${typeof Deno}`;',
      'const message = "needs Deno or Bun";',
      'const pattern = /"Deno"/;',
      'const a = "Deno" in globalThis;',
      "const b = (globalThis as { Bun?: unknown }).Bun;",
      "const c = process.env;",
      "const d = options.process;",
    ].join("\n"),
  );
  assert.deepEqual(importsOf(code).map((i) => i.specifier).sort(), [
    "../client/connection.ts",
    "../server/app.ts",
    "./side_effect.ts",
  ]);
  assert.deepEqual(runtimeUsesOf(code).map((u) => [u.line, u.text]), [
    [6, "Deno"],
    [9, '"Deno"'],
    [10, "Bun"],
    [10, ".Bun"],
    [11, "process"],
  ]);
});

/** Where `@bufbuild/protobuf` may be imported: the protobuf mapping and the Connect entry point. */
const PROTOBUF_FOLDERS = ["src/protobuf/", "src/connect/"];

test("layout: only src/protobuf/ imports @bufbuild/protobuf, and it needs nothing but zod besides", async () => {
  const offenders: string[] = [];
  for (const file of ["mod.ts", "cli.ts", ...await sourceFiles("src")]) {
    const specifiers = importsOf(codeOf(await readFile(join(root, file), "utf8")));
    if (
      specifiers.some(({ specifier }) => specifier.startsWith("@bufbuild/")) &&
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

test("layout: the Connect entry point brings @bufbuild/protobuf and zod, nothing else", async () => {
  const { files, external } = await graph(["src/connect/mod.ts"]);
  assert.ok(files.includes("src/connect/connect.ts"), `found ${files.join(", ")}`);
  assert.ok(files.includes("src/protobuf/codec.ts"), `found ${files.join(", ")}`);
  assert.ok(files.every((f) => !f.startsWith("src/client/") && !f.startsWith("src/cli/")));
  assert.deepEqual(
    [...external.keys()].map((s) => s.replace(/^(@bufbuild\/protobuf)\/.*$/, "$1")).sort()
      .filter((s, i, all) => all.indexOf(s) === i),
    ["@bufbuild/protobuf", "zod"],
    `external imports: ${JSON.stringify([...external])}`,
  );
});

test("layout: only src/nats/ imports @nats-io/*, and it needs nothing else but zod, no node:", async () => {
  const offenders: string[] = [];
  for (const file of ["mod.ts", "cli.ts", ...await sourceFiles("src")]) {
    const specifiers = importsOf(codeOf(await readFile(join(root, file), "utf8")));
    if (
      specifiers.some(({ specifier }) => specifier.startsWith("@nats-io/")) &&
      !file.startsWith("src/nats/")
    ) offenders.push(file);
  }
  assert.deepEqual(offenders, []);
  const { files, external } = await graph(["src/nats/mod.ts"]);
  assert.ok(files.includes("src/nats/server.ts"), `found ${files.join(", ")}`);
  assert.ok(files.every((f) => !f.startsWith("src/cli/") && !f.startsWith("src/protobuf/")));
  assert.deepEqual(
    [...new Set(external.keys())].sort(),
    ["@nats-io/nats-core", "@nats-io/transport-node", "zod"],
    `external imports: ${JSON.stringify([...external])}`,
  );
});
