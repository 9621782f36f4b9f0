/**
 * The CLI in-process (`main()` with captured output): help, version, exit codes, one-line errors,
 * module loading, info, generate, and serve. The process-level behaviours (signals, --watch, init,
 * the compiled binary) are in the other files of this folder.
 */
import assert from "node:assert/strict";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { test, waitFor } from "../_harness.ts";
import { cli, closedPort, type Outcome, root, run, runMain, start, tempDir } from "../_cli.ts";
import { runtimeBinary } from "../_process.ts";
import { Connection, MicroAPI, Service } from "../../mod.ts";

const COMMANDS = ["serve", "generate", "proto", "info", "init", "build"];

/** The one error line of a failed command; fails if there is not exactly one, or a stack trace. */
function errorLine(outcome: Outcome): string {
  const lines = outcome.stderr.trim().split("\n");
  const errors = lines.filter((line) => line.startsWith("error: "));
  assert.equal(errors.length, 1, `expected one error line, got:\n${outcome.stderr}`);
  assert.ok(!/^\s+at /m.test(outcome.stderr), `a stack trace leaked:\n${outcome.stderr}`);
  return errors[0]!;
}

const SERVICE = `import { Service, z } from "@microapi/core";

export const Greeting = z.object({ text: z.string() });
export const hello = new Service("hello")
  .method("greet", { input: z.object({ name: z.string() }), output: Greeting }, ({ name }) => ({
    text: \`Hello, \${name}\`,
  }));
`;

async function project(files: Record<string, string>) {
  const dir = await tempDir();
  for (const [name, text] of Object.entries(files)) {
    await mkdir(`${dir.path}/${name}`.replace(/\/[^/]+$/, ""), { recursive: true });
    await writeFile(`${dir.path}/${name}`, text);
  }
  return dir;
}

test("cli: --help lists every command, and every command has --help", async () => {
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  for (const command of COMMANDS) assert.match(help.stdout, new RegExp(`^ {2}${command} `, "m"));
  assert.match(help.stdout, /Exit codes: 0 success, 1 failure, 2 usage error/);
  for (const command of COMMANDS) {
    for (const args of [[command, "--help"], [command, "-h"], ["help", command]]) {
      const outcome = await cli(args);
      assert.equal(outcome.code, 0, args.join(" "));
      assert.match(outcome.stdout, new RegExp(`^Usage: microapi ${command} `), args.join(" "));
      assert.match(outcome.stdout, /^Options:$/m);
    }
  }
});

test("cli: --version prints the version from deno.json and the runtime", async () => {
  const config = JSON.parse(await readFile(`${root}deno.json`, "utf8"));
  for (const flag of ["--version", "-V"]) {
    const outcome = await cli([flag]);
    assert.equal(outcome.code, 0);
    assert.match(
      outcome.stdout,
      new RegExp(`^microapi ${config.version.replaceAll(".", "\\.")} \\((deno|bun) \\d`),
    );
  }
});

test("cli: usage errors exit with 2 and one line", async () => {
  const none = await cli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^Usage: microapi <command>/m);
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /^error: Unknown command "frobnicate" \(see microapi --help\)$/],
    [["serve", "x.ts", "--prot", "1"], /^error: Unknown option --prot for microapi serve/],
    [["generate", "x.ts", "--out"], /^error: Option --out needs a value <dir>/],
    [["serve", "x.ts", "--port", "http"], /^error: Invalid port "http": expected a number/],
    [["serve", "x.ts", "--port", "70000"], /^error: Invalid port "70000"/],
    [["generate"], /^error: microapi generate needs <files\|dirs\.\.\.\|url>/],
    [["init", "a", "b"], /^error: Unexpected argument "b" for microapi init/],
    [["info", "--json=yes", "x.ts"], /^error: Option --json takes no value/],
    [["build", "x.ts"], /^error: microapi build needs --output <path>/],
    [
      ["info", "http://127.0.0.1:1", "x.ts"],
      /^error: Give either one server URL or service files and directories, not both$/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const outcome = await cli(args);
    assert.equal(outcome.code, 2, `${args.join(" ")}: ${outcome.stderr}`);
    assert.match(errorLine(outcome), pattern, args.join(" "));
  }
});

test("cli: a missing file is one line naming it, exit 1, for every command that loads files", async () => {
  for (const command of [["serve"], ["info"], ["generate"], ["proto"], ["build", "-o", "/tmp/x"]]) {
    const outcome = await cli([command[0]!, "services/missing.ts", ...command.slice(1)]);
    if (command[0] === "build" && !("Bun" in globalThis)) {
      // build needs Bun and says so before looking at files.
      assert.match(errorLine(outcome), /^error: microapi build compiles with Bun/);
      continue;
    }
    assert.equal(outcome.code, 1, command[0]);
    assert.equal(
      errorLine(outcome),
      "error: Cannot find services/missing.ts: no such file or directory",
    );
  }
});

test("cli: a file without services, a directory without services, a module that throws", async () => {
  await using dir = await project({
    "helpers.ts": "export const answer = 42;\n",
    "empty/readme.ts": "export const nothing = null;\n",
    "bad.ts": 'throw new Error("boom\\nsecond line");\n',
    "svc.ts": SERVICE,
  });
  const cwd = dir.path;
  const noServices = await cli(["info", "helpers.ts"], { cwd });
  assert.equal(noServices.code, 1);
  assert.equal(
    errorLine(noServices),
    "error: helpers.ts exports no services (expected a Service or a MicroAPI app among its exports)",
  );
  // Among several files, one without services is skipped with a warning (a script beside them).
  const several = await cli(["info", "helpers.ts", "svc.ts"], { cwd });
  assert.equal(several.code, 0, several.stderr);
  assert.match(several.stderr, /^warning: helpers\.ts exports no services: skipped$/m);
  assert.doesNotMatch(several.stdout, /helpers\.ts/);
  const noneAtAll = await cli(["info", "helpers.ts", "empty/readme.ts"], { cwd });
  assert.equal(noneAtAll.code, 1);
  assert.match(errorLine(noneAtAll), /^error: No services found in helpers\.ts, empty\/readme\.ts/);
  const emptyDir = await cli(["generate", "empty", "--out", "lib"], { cwd });
  assert.equal(emptyDir.code, 1);
  assert.match(errorLine(emptyDir), /^error: No services found in empty \(1 module loaded;/);
  const throwing = await cli(["serve", "bad.ts", "svc.ts"], { cwd });
  assert.equal(throwing.code, 1);
  assert.equal(errorLine(throwing), "error: Cannot load bad.ts: boom");
});

test("cli: an unreachable URL, or a server without introspection, is one line naming it", async () => {
  const port = await closedPort();
  const refused = await cli(["info", `http://127.0.0.1:${port}`]);
  assert.equal(refused.code, 1);
  assert.equal(
    errorLine(refused),
    `error: Cannot reach http://127.0.0.1:${port}: connection refused`,
  );

  const hello = new Service("hello").method("hi", {}, () => {});
  for (const app of [new MicroAPI({ services: [hello], introspection: false }), undefined]) {
    const handler = app?.fetch ?? (() => new Response("not here", { status: 404 }));
    await using server = await serveFetch(handler);
    const outcome = await cli(["generate", server.url, "--out", "/tmp/never-written"]);
    assert.equal(outcome.code, 1);
    assert.equal(
      errorLine(outcome),
      `error: ${server.url} does not publish an introspection document (HTTP 404 for ` +
        `${server.url}/_microapi/introspection): is it a microapi server with introspection on?`,
    );
  }
});

/** Serves a fetch handler on a free port with MicroAPI's own adapter (any runtime). */
async function serveFetch(
  handler: (request: Request) => Response | Promise<Response>,
): Promise<{ url: string; [Symbol.asyncDispose](): Promise<void> }> {
  const app = new MicroAPI({ services: [], fallback: handler, introspection: false });
  const server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  return { url: server.url, [Symbol.asyncDispose]: () => server.shutdown() };
}

test("cli: serve on a port in use is one line naming the address, exit 1", async () => {
  await using dir = await project({ "svc.ts": SERVICE });
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const address = blocker.address();
  const port = typeof address === "object" && address ? address.port : 0;
  try {
    const outcome = await cli(["serve", "svc.ts", "--port", String(port)], { cwd: dir.path });
    assert.equal(outcome.code, 1);
    assert.equal(
      errorLine(outcome),
      `error: Cannot listen on 127.0.0.1:${port}: the address is already in use`,
    );
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test("cli: info prints one row per method, --json the introspection document", async () => {
  const outcome = await cli(["info", "examples/serve.ts"]);
  assert.equal(outcome.code, 0, outcome.stderr);
  const lines = outcome.stdout.trim().split("\n");
  assert.equal(lines[0], "4 services, 6 methods (examples/serve.ts)");
  assert.match(lines[2]!, /^ {2}service +method +pattern +route +input +output$/);
  assert.match(
    outcome.stdout,
    /^ {2}users +get_user +unary +POST \/users\/get_user +GetUserRequest +User$/m,
  );
  assert.match(
    outcome.stdout,
    /^ {2}chat +conversation +bidi streaming +POST \/chat\/conversation +stream<ChatMessage> +stream<ChatReply>$/m,
  );
  const json = await cli(["info", "examples/serve.ts", "--json"]);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.microapi, 1);
  // Schema names come from the modules examples/serve.ts imports.
  assert.deepEqual(Object.keys(doc.$defs).sort(), [
    "Account",
    "AggregateResult",
    "ChatMessage",
    "ChatReply",
    "CloseAccountRequest",
    "CloseAccountResponse",
    "DataPoint",
    "GetUserRequest",
    "ListUsersRequest",
    "User",
  ]);
});

test("cli: generate writes the client, rewrites only what changed, and --check reports staleness", async () => {
  await using dir = await project({ "svc.ts": SERVICE });
  const cwd = dir.path;
  const first = await cli(["generate", "svc.ts", "--out", "lib"], { cwd });
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stdout,
    /^Wrote lib\/: types\.ts, hello\.ts, mod\.ts \(1 service, 1 method, 2 message types; 3 changed\)$/m,
  );
  assert.match(await readFile(`${cwd}/lib/hello.ts`, "utf8"), /export async function greet\(/);
  const again = await cli(["generate", "svc.ts", "--out", "lib"], { cwd });
  assert.match(again.stdout, /; 0 changed\)$/m);
  assert.equal((await cli(["generate", "svc.ts", "--out", "lib", "--check"], { cwd })).code, 0);

  await writeFile(
    `${cwd}/lib/hello.ts`,
    "// Code generated by microapi. DO NOT EDIT.\n// edited\n",
  );
  await writeFile(`${cwd}/lib/old.ts`, "// Code generated by microapi. DO NOT EDIT.\n");
  const stale = await cli(["generate", "svc.ts", "--out", "lib", "--check"], { cwd });
  assert.equal(stale.code, 1);
  assert.equal(
    errorLine(stale),
    "error: lib/ is out of date: hello.ts differs, old.ts is stale",
  );
  const fixed = await cli(["generate", "svc.ts", "--out", "lib"], { cwd });
  assert.match(fixed.stdout, /; 1 changed, 1 removed\)$/m);
  await assert.rejects(readFile(`${cwd}/lib/old.ts`));

  await writeFile(`${cwd}/lib/types.ts`, "export const mine = 1;\n");
  const refused = await cli(["generate", "svc.ts", "--out", "lib"], { cwd });
  assert.equal(refused.code, 1);
  assert.equal(
    errorLine(refused),
    "error: Refusing to overwrite lib/types.ts: it was not generated by microapi",
  );
});

test("cli: serve prints the startup table and serves until stopped; generate from its URL", async () => {
  await using dir = await project({ "svc.ts": SERVICE });
  const cwd = dir.path;
  const serving = runMain(
    ["serve", "svc.ts", "--port", "0", "--cors", "http://localhost:5173"],
    { cwd },
  );
  await waitFor(() => /Listening on/.test(serving.stdout()) || serving.stderr() !== "", "serve");
  const out = serving.stdout();
  const url = /Listening on (\S+)/.exec(out)?.[1];
  assert.ok(url, `${out}\n${serving.stderr()}`);
  assert.match(out, /^1 service from svc\.ts$/m);
  assert.match(out, /^ {2}hello +greet +unary +POST \/hello\/greet$/m);
  assert.match(out, new RegExp(`^Introspection: ${url}/_microapi/introspection$`, "m"));
  assert.match(out, new RegExp(`^WebSocket: ${url.replace("http", "ws")}/_microapi/ws$`, "m"));
  assert.match(out, /^CORS origins: http:\/\/localhost:5173$/m);
  assert.match(out, new RegExp(`^Health: ${url}/_microapi/health$`, "m"));
  assert.doesNotMatch(out, /^ {2}health /m);

  await using connection = new Connection(url);
  assert.deepEqual(await connection.unary("hello/greet", { name: "cli" }), { text: "Hello, cli" });
  await using socket = new Connection(url, { transport: "ws" });
  assert.deepEqual(await socket.unary("hello/greet", { name: "ws" }), { text: "Hello, ws" });
  const preflight = await fetch(`${url}/hello/greet`, {
    method: "OPTIONS",
    headers: { origin: "http://localhost:5173", "access-control-request-method": "POST" },
  });
  await preflight.body?.cancel();
  assert.equal(preflight.headers.get("access-control-allow-origin"), "http://localhost:5173");

  // The same client from the running server as from the source file.
  const fromUrl = await cli(["generate", url, "--out", "from_url"], { cwd });
  assert.equal(fromUrl.code, 0, fromUrl.stderr);
  const fromFile = await cli(["generate", "svc.ts", "--out", "from_file"], { cwd });
  for (const file of ["types.ts", "hello.ts", "mod.ts"]) {
    assert.equal(
      await readFile(`${cwd}/from_url/${file}`, "utf8"),
      await readFile(`${cwd}/from_file/${file}`, "utf8"),
      file,
    );
  }
  assert.equal(fromFile.code, 0);

  serving.stop();
  assert.equal((await serving.done).code, 0);
  assert.match(serving.stderr(), /Shutting down/);
});

test("cli: serve speaks Connect and gRPC-Web by default, with descriptors; --no-connect turns it off", async () => {
  await using dir = await project({ "svc.ts": SERVICE });
  const serving = runMain(["serve", "svc.ts", "--port", "0"], { cwd: dir.path });
  await waitFor(() => /Listening on/.test(serving.stdout()) || serving.stderr() !== "", "serve");
  const out = serving.stdout();
  const url = /Listening on (\S+)/.exec(out)![1]!;
  assert.match(
    out,
    new RegExp(
      `^Connect and gRPC-Web: ${url}/<package>\\.<Service>/<Method>, such as ${url}/hello\\.Hello/Greet$`,
      "m",
    ),
  );
  assert.match(
    out,
    new RegExp(`^Protobuf: ${url}/_microapi/descriptors\\.binpb and gRPC reflection`, "m"),
  );
  const response = await fetch(`${url}/hello.Hello/Greet`, {
    method: "POST",
    headers: { "content-type": "application/json", "connect-protocol-version": "1" },
    body: JSON.stringify({ name: "connect" }),
  });
  assert.deepEqual(await response.json(), { text: "Hello, connect" });
  // The server's own descriptors give the same .proto files as the source.
  const fromUrl = await cli(["proto", url, "--out", "from_url"], { cwd: dir.path });
  assert.equal(fromUrl.code, 0, fromUrl.stderr);
  await cli(["proto", "svc.ts", "--out", "from_file"], { cwd: dir.path });
  assert.equal(
    await readFile(`${dir.path}/from_url/hello/hello.proto`, "utf8"),
    await readFile(`${dir.path}/from_file/hello/hello.proto`, "utf8"),
  );
  serving.stop();
  assert.equal((await serving.done).code, 0);

  const off = runMain(["serve", "svc.ts", "--port", "0", "--no-connect"], { cwd: dir.path });
  await waitFor(() => /Listening on/.test(off.stdout()), "serve");
  const offUrl = /Listening on (\S+)/.exec(off.stdout())![1]!;
  assert.doesNotMatch(off.stdout(), /Connect/);
  const refused = await fetch(`${offUrl}/hello.Hello/Greet`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  assert.equal((await refused.json()).code, "not_found");
  off.stop();
  assert.equal((await off.done).code, 0);
});

test("cli: serve --lock numbers Connect's fields as the lock says", async () => {
  await using dir = await project({ "svc.ts": SERVICE });
  const cwd = dir.path;
  const locked = await cli(["proto", "svc.ts", "--lock", "proto.lock.json"], { cwd });
  assert.equal(locked.code, 0, locked.stderr);
  // A field inserted before `name`: by declaration order `name` would become field 2.
  // (Another file: the CLI runs in this process, where svc.ts is loaded already.)
  await writeFile(
    `${cwd}/svc2.ts`,
    SERVICE.replace(
      "z.object({ name: z.string() })",
      "z.object({ title: z.string().optional(), name: z.string() })",
    ),
  );
  const greet = async (url: string) => {
    const response = await fetch(`${url}/hello.Hello/Greet`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      // field 1, "cli"
      body: new Uint8Array([0x0a, 3, 0x63, 0x6c, 0x69]),
    });
    // The reply is Greeting { text } (field 1), a string.
    return new TextDecoder().decode(new Uint8Array(await response.arrayBuffer()).subarray(2));
  };
  for (
    const [args, expected] of [[["--lock", "proto.lock.json"], "Hello, cli"], [
      [],
      "Hello, ",
    ]] as const
  ) {
    const serving = runMain(["serve", "svc2.ts", "--port", "0", ...args], { cwd });
    await waitFor(
      () => /Listening on/.test(serving.stdout()) || /error/.test(serving.stderr()),
      "serve",
    );
    const url = /Listening on (\S+)/.exec(serving.stdout())?.[1];
    assert.ok(url, serving.stderr());
    assert.equal(await greet(url), expected, args.join(" "));
    serving.stop();
    assert.equal((await serving.done).code, 0);
  }
  const missing = await cli(["serve", "svc.ts", "--lock", "nope.json"], { cwd });
  assert.equal(missing.code, 2);
  assert.equal(errorLine(missing), "error: Cannot read the lock nope.json: no such file");
});

test("cli: serve without Connect when a schema has no protobuf form, and says why", async () => {
  await using dir = await project({
    "svc.ts": `import { Service, z } from "@microapi/core";
export const hooks = new Service("hooks")
  .method("add", { input: z.object({ on_call: z.function() }) }, () => {});
`,
  });
  const serving = runMain(["serve", "svc.ts", "--port", "0"], { cwd: dir.path });
  await waitFor(
    () => /Listening on/.test(serving.stdout()) || /error/.test(serving.stderr()),
    "serve",
  );
  assert.match(
    serving.stderr(),
    /^Connect is off: .*on_call.* \(pass --no-connect to silence this\)$/m,
  );
  assert.doesNotMatch(serving.stdout(), /Connect and gRPC-Web/);
  assert.match(serving.stdout(), /^Listening on /m);
  serving.stop();
  assert.equal((await serving.done).code, 0);
});

test("cli: serve takes its port from $PORT when --port is absent, and binds 127.0.0.1", async () => {
  await using dir = await project({ "svc.ts": SERVICE });
  const port = await closedPort();
  const serving = runMain(["serve", "svc.ts"], { cwd: dir.path, env: { PORT: String(port) } });
  await waitFor(() => /Listening on/.test(serving.stdout()) || serving.stderr() !== "", "serve");
  assert.match(serving.stdout(), new RegExp(`^Listening on http://127\\.0\\.0\\.1:${port} `, "m"));
  assert.match(serving.stdout(), /^Introspection: /m);
  serving.stop();
  assert.equal((await serving.done).code, 0);

  // In production (by the environment), introspection is off unless asked for.
  const production = runMain(["serve", "svc.ts", "--port", "0"], {
    cwd: dir.path,
    env: { NODE_ENV: "production" },
  });
  await waitFor(() => /Listening on/.test(production.stdout()), "serve");
  assert.doesNotMatch(production.stdout(), /Introspection:/);
  // Nor are the protobuf descriptors and reflection, by the same rule.
  assert.doesNotMatch(production.stdout(), /Protobuf:/);
  assert.match(production.stdout(), /^Connect and gRPC-Web: /m);
  production.stop();
  assert.equal((await production.done).code, 0);
});

test("cli: serve says when it cannot read the environment, and publishes nothing by default", async () => {
  await using dir = await project({ "svc.ts": SERVICE });
  const blind = runMain(["serve", "svc.ts", "--port", "0"], {
    cwd: dir.path,
    env: { MICROAPI_ENV: null, NODE_ENV: null },
  });
  await waitFor(() => /Listening on/.test(blind.stdout()) || blind.stderr() !== "", "serve");
  assert.match(
    blind.stdout(),
    /^Production assumed: cannot read MICROAPI_ENV or NODE_ENV \(Deno needs --allow-env=MICROAPI_ENV,NODE_ENV\); introspection and the console are off \(--introspection, --console\)$/m,
  );
  assert.doesNotMatch(blind.stdout(), /^(Introspection|Console):/m);
  const url = /Listening on (\S+)/.exec(blind.stdout())![1]!;
  const response = await fetch(`${url}/_microapi/introspection`);
  assert.equal(response.status, 404);
  await response.body?.cancel();
  blind.stop();
  assert.equal((await blind.done).code, 0);

  // Asked for, introspection is on; the line says what is still off.
  const asked = runMain(["serve", "svc.ts", "--port", "0", "--introspection"], {
    cwd: dir.path,
    env: { MICROAPI_ENV: null },
  });
  await waitFor(() => /Listening on/.test(asked.stdout()) || asked.stderr() !== "", "serve");
  assert.match(asked.stdout(), /^Introspection: /m);
  assert.match(asked.stdout(), /\); the console is off \(--console\)$/m);
  asked.stop();
  assert.equal((await asked.done).code, 0);
});

test(
  "cli: serve under Deno without --allow-env starts, and says production is assumed",
  async () => {
    await using dir = await project({ "svc.ts": SERVICE });
    const serving = start([
      runtimeBinary("deno"),
      "run",
      "--no-prompt",
      "--allow-net",
      "--allow-read",
      "--config",
      `${root}deno.json`,
      `${root}cli.ts`,
      "serve",
      "svc.ts",
      "--port",
      "0",
    ], { cwd: dir.path, env: { MICROAPI_ENV: "production" } });
    try {
      const url = (await serving.waitFor(/Listening on (\S+)/, 30_000))[1]!;
      assert.match(serving.stdout(), /^Production assumed: cannot read MICROAPI_ENV or NODE_ENV/m);
      const response = await fetch(`${url}/_microapi/introspection`);
      assert.equal(response.status, 404);
      await response.body?.cancel();
    } finally {
      serving.kill("SIGTERM");
    }
    assert.equal(await serving.exited, 0, serving.stderr());
  },
  { timeoutMs: 60_000 },
);

test("cli: serve --cors with an origin that is not scheme://host is a usage error", async () => {
  await using dir = await project({ "svc.ts": SERVICE });
  const outcome = await cli(["serve", "svc.ts", "--cors", "example.com"], { cwd: dir.path });
  assert.equal(outcome.code, 2);
  assert.match(
    errorLine(outcome),
    /^error: Invalid CORS origin "example\.com": expected scheme:\/\/host/,
  );
});

test("cli: serve --no-introspection does not publish the document; --cors '*' allows any origin", async () => {
  await using dir = await project({ "svc.ts": SERVICE });
  const serving = runMain(["serve", "svc.ts", "--port", "0", "--no-introspection", "--cors", "*"], {
    cwd: dir.path,
  });
  await waitFor(() => /Listening on/.test(serving.stdout()), "serve");
  const url = /Listening on (\S+)/.exec(serving.stdout())![1]!;
  assert.doesNotMatch(serving.stdout(), /Introspection:/);
  const response = await fetch(`${url}/_microapi/introspection`);
  await response.body?.cancel();
  assert.equal(response.status, 404);
  const preflight = await fetch(`${url}/hello/greet`, {
    method: "OPTIONS",
    headers: { origin: "https://anywhere.example", "access-control-request-method": "POST" },
  });
  await preflight.body?.cancel();
  assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
  serving.stop();
  assert.equal((await serving.done).code, 0);
});

test("cli: a module exporting an app is served with the app's options", async () => {
  await using dir = await project({
    "services/greeter.ts": SERVICE,
    "main.ts": `import { MicroAPI } from "@microapi/core";
import { hello } from "./services/greeter.ts";
export const app = new MicroAPI({ services: [hello], basePath: "/rpc" });
`,
  });
  const cwd = dir.path;
  const serving = runMain(["serve", "main.ts", "--port", "0"], { cwd });
  await waitFor(() => /Listening on/.test(serving.stdout()), "serve");
  assert.match(serving.stdout(), /^ {2}hello +greet +unary +POST \/rpc\/hello\/greet$/m);
  const url = /Listening on (\S+)/.exec(serving.stdout())![1]!;
  assert.match(url, /\/rpc$/);
  await using connection = new Connection(url);
  assert.deepEqual(await connection.unary("hello/greet", { name: "app" }), { text: "Hello, app" });
  serving.stop();
  await serving.done;

  // Names of schemas come from the modules main.ts imports.
  const info = await cli(["info", "main.ts"], { cwd });
  assert.match(info.stdout, /POST \/rpc\/hello\/greet +GreetRequest +Greeting$/m);
});

test("cli: two apps, or two services with one name, are errors naming both modules", async () => {
  const app = (name: string) =>
    `import { MicroAPI } from "@microapi/core";\nimport { hello } from "./svc.ts";\n` +
    `export const ${name} = new MicroAPI({ services: [hello] });\n`;
  await using dir = await project({
    "svc.ts": SERVICE,
    "svc2.ts": SERVICE.replaceAll("Greeting", "Greeting2"),
    "a.ts": app("first"),
    "b.ts": app("second"),
  });
  const apps = await cli(["info", "a.ts", "b.ts"], { cwd: dir.path });
  assert.equal(apps.code, 1);
  assert.equal(
    errorLine(apps),
    "error: Found two apps, a.ts (export first) and b.ts (export second): load one at a time",
  );
  const twice = await cli(["info", "svc.ts", "svc2.ts"], { cwd: dir.path });
  assert.equal(twice.code, 1);
  assert.equal(errorLine(twice), "error: Two services are named hello: in svc.ts and svc2.ts");
});

test("cli: services made with another copy of the library are recognised by their brand", async () => {
  await using dir = await tempDir();
  // A second copy of the library, as a service module bundled with its own would have.
  await cp(`${root}mod.ts`, `${dir.path}/copy/mod.ts`);
  await cp(`${root}src`, `${dir.path}/copy/src`, { recursive: true });
  await cp(`${root}deno.json`, `${dir.path}/copy/deno.json`);
  await writeFile(`${dir.path}/svc.ts`, SERVICE.replace('"@microapi/core"', '"./copy/mod.ts"'));
  const outcome = await cli(["info", "svc.ts"], { cwd: dir.path });
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /hello +greet +unary/);
  // An app of another copy that has no options getter (an older version) still lists services.
  await writeFile(
    `${dir.path}/old_app.ts`,
    'import { hello } from "./svc.ts";\nexport const app = { "~microapi": "app", services: [hello] };\n',
  );
  const old = await cli(["info", "old_app.ts"], { cwd: dir.path });
  assert.equal(old.code, 0, old.stderr);
  assert.match(old.stdout, /hello +greet +unary/);
  // And such a service is served by this copy's app.
  const { hello } = await import(`${dir.path}/svc.ts`) as { hello: Service };
  assert.ok(!(hello instanceof Service), "the module really uses another copy");
  const app = new MicroAPI({ services: [hello] });
  const response = await app.fetch(
    new Request("http://x/hello/greet", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name":"copy"}',
    }),
  );
  assert.deepEqual(await response.json(), { text: "Hello, copy" });
});

/** Two versions of one service, side by side. */
const CATALOG = `import { Service, z } from "@microapi/core";

export const catalogV1 = new Service("catalog", { version: 1 }).method("list", {}, () => {});
export const catalogV2 = new Service("catalog", { version: 2 }).method("list", {}, () => {});
`;

test("cli: build compiles a server from source on Bun, and says how to run it (on Deno it says it needs Bun)", async () => {
  await using dir = await project({ "svc.ts": SERVICE, "catalog.ts": CATALOG });
  const outcome = await cli(["build", "svc.ts", "catalog.ts", "-o", "dist/server"], {
    cwd: dir.path,
  });
  if (!("Bun" in globalThis)) {
    assert.equal(outcome.code, 1);
    assert.equal(
      errorLine(outcome),
      "error: microapi build compiles with Bun: run it with the microapi binary or `bun cli.ts build`",
    );
    return;
  }
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(
    outcome.stderr,
    /^Loading svc\.ts, catalog\.ts\nBundling the runtime\nCompiling dist\/server$/m,
  );
  // The path as typed from here, and each version of a service once.
  assert.match(
    outcome.stdout,
    /^Built dist\/server \(\d+ MB, [\d.]+ s\) with hello, catalog v1, catalog v2\. Run it: \.\/dist\/server \[serve\|info\|generate\] --help$/m,
  );
  const info = await run([`${dir.path}/dist/server`, "info"], { cwd: dir.path });
  assert.equal(info.code, 0, info.stderr);
  assert.match(
    info.stdout,
    /^ {2}hello +greet +unary +POST \/hello\/greet +GreetRequest +Greeting$/m,
  );
  assert.match(info.stdout, /^ {2}catalog v2 +list +unary +POST \/v2\/catalog\/list /m);
});

test("cli: an unexpected error is one line too; MICROAPI_DEBUG=1 adds its stack", async () => {
  await using dir = await project({
    "svc.ts": `import { Service, z } from "@microapi/core";
const Broken = z.object({ a: z.string() });
// A schema whose JSON Schema conversion fails: nothing the CLI expects.
(Broken as unknown as { _zod: { toJSONSchema: () => never } })._zod.toJSONSchema = () => {
  throw new Error("unexpected failure");
};
export const svc = new Service("svc").method("m", { input: Broken }, () => {});
`,
  });
  const plain = await cli(["info", "svc.ts"], { cwd: dir.path });
  assert.equal(plain.code, 1);
  assert.equal(errorLine(plain), "error: unexpected failure");
  const debug = await cli(["info", "svc.ts"], { cwd: dir.path, env: { MICROAPI_DEBUG: "1" } });
  assert.equal(debug.code, 1);
  assert.match(debug.stderr, /^error: unexpected failure\nError: unexpected failure\n\s+at /m);
});

test("cli: a directory loads its modules but not tests, declarations, generated files, node_modules or hidden ones", async () => {
  const boom = 'throw new Error("must not be loaded");\n';
  await using dir = await project({
    "api/svc.ts": SERVICE,
    "api/helpers.ts": "export const answer = 42;\n",
    "api/svc_test.ts": boom,
    "api/svc.test.ts": boom,
    "api/types.d.ts": boom,
    "api/lib/mod.ts": `// Code generated by microapi. DO NOT EDIT.\n${boom}`,
    "api/node_modules/pkg/index.ts": boom,
    "api/.hidden/secret.ts": boom,
    "api/notes.md": "not a module\n",
  });
  const outcome = await cli(["info", "api"], { cwd: dir.path });
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /^1 service, 1 method \(api\/helpers\.ts, api\/svc\.ts\)$/m);
});

test("cli: a service module may import @microapi/core/client (Bun: the CLI's own copy)", async () => {
  await using dir = await project({
    "svc.ts": SERVICE.replace(
      'import { Service, z } from "@microapi/core";',
      'import { Service, z } from "@microapi/core";\n' +
        'import { RpcError } from "@microapi/core/client";\n' +
        'export const notFound = new RpcError("not_found", "No such thing");',
    ),
  });
  const info = await cli(["info", "svc.ts"], { cwd: dir.path });
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /hello +greet +unary/);
});
