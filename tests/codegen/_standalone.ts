/**
 * A program that uses a standalone client of the examples (generated with `--standalone` into
 * `lib/`), for the tests that run it in an otherwise empty directory under Deno and under Bun.
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../_cli.ts";
import { runtimeBinary } from "../_process.ts";

/**
 * main.ts: every pattern through the generated client, over HTTP and WebSocket, an error, and the
 * default connection. It prints one JSON line of results.
 */
const PROGRAM = `import { Connection, RpcError } from "./lib/microapi/client/mod.ts";
import { analytics, chat, users } from "./lib/mod.ts";

const runtime = (globalThis as { Bun?: unknown }).Bun ? "bun" : "deno";
const argv = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const url = argv[0]!;
const results: Record<string, unknown> = { runtime };
for (const transport of ["http", "ws"] as const) {
  await using connection = new Connection(url, { transport, timeoutMs: 10_000 });
  const user = await users.getUser({ user_id: 2 }, { connection });
  const names = [];
  for await (const u of users.listUsers({ limit: 3 }, { connection })) names.push(u.username);
  const upload = analytics.aggregate({ connection });
  for (const value of [2, 4, 9]) await upload.send({ timestamp: 0, value });
  const summary = await upload.end();
  const talk = chat.conversation({ connection });
  await talk.send({ user: "ada", text: "hello there" });
  const first = await talk.next();
  await talk.end();
  let error: unknown;
  try {
    await users.getUser({ user_id: 9999 }, { connection });
  } catch (caught) {
    error = caught instanceof RpcError ? { code: caught.code, details: caught.details } : caught;
  }
  results[transport] = { user, names, summary, reply: first.value, error };
}
Connection.setDefault(new Connection(url));
results.byDefault = (await users.getUser({ user_id: 1 })).username;
await Connection.default.close();
console.log(JSON.stringify(results));
`;

/** What the program prints for each transport, against the examples' app. */
const EXPECTED = {
  user: { user_id: 2, username: "bob", age: 22 },
  names: ["alice", "bob", "carol"],
  summary: { count: 3, sum: 15, mean: 5, min: 2, max: 9 },
  reply: { text: 'ada, you said 2 words: "hello there"', in_reply_to: 0 },
  error: { code: "not_found", details: { user_id: 9999 } },
};

/**
 * The import specifiers of a module (static and dynamic), comments and JSDoc examples ignored.
 *
 * @param source The module's code.
 * @returns The specifiers.
 */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [
    ...code.matchAll(/\b(?:import|export)\b[^'"]*?\bfrom\s*["']([^"']+)["']/g),
    ...code.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
  ].map((match) => match[1]!);
}

/**
 * Checks that a standalone client needs nothing outside its directory: every import in it is
 * relative.
 *
 * @param lib The generated client's directory.
 */
export async function assertSelfContained(lib: string): Promise<void> {
  const bare: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        await visit(path);
        continue;
      }
      for (const specifier of importsOf(await readFile(path, "utf8"))) {
        if (!specifier.startsWith(".")) bare.push(`${path}: ${specifier}`);
      }
    }
  };
  await visit(lib);
  assert.deepEqual(bare, [], "a standalone client imports only its own files");
}

/**
 * Writes main.ts next to `lib/` in `dir` and runs it under Deno and under Bun, with no config file,
 * import map or node_modules, against the examples' app at `url`.
 *
 * @param dir The directory holding `lib/` (and nothing else).
 * @param url The server's URL.
 */
export async function runStandaloneProgram(dir: string, url: string): Promise<void> {
  assert.deepEqual((await readdir(dir)).sort(), ["lib"], "the directory holds only the client");
  await assertSelfContained(join(dir, "lib"));
  await writeFile(join(dir, "main.ts"), PROGRAM);
  for (
    const argv of [
      [runtimeBinary("deno"), "run", "--no-config", "--allow-net", "main.ts", url],
      [runtimeBinary("bun"), "main.ts", url],
    ]
  ) {
    const outcome = await run(argv, { cwd: dir, timeoutMs: 30_000 });
    assert.equal(outcome.code, 0, `${argv.join(" ")}:\n${outcome.stdout}\n${outcome.stderr}`);
    const which = argv[0] === runtimeBinary("deno") ? "deno" : "bun";
    assert.deepEqual(JSON.parse(outcome.stdout), {
      runtime: which,
      http: EXPECTED,
      ws: EXPECTED,
      byDefault: "alice",
    });
  }
}
