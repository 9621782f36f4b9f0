/**
 * `microapi serve` and the dev console: it prints the console's URL when the console is on, and
 * `--no-console` / `--console` switch it (the app option underneath is tested in
 * tests/server/console_endpoint_test.ts, the page in tests/console/).
 */
import assert from "node:assert/strict";
import { test, waitFor } from "../_harness.ts";
import { cli, cliArgv, root, runMain, start } from "../_cli.ts";

/** Serves the examples in-process until the URL lines are printed, then stops. */
async function serveExamples(args: string[], env: Record<string, string> = {}) {
  const serving = runMain(["serve", "examples/serve.ts", "--port", "0", ...args], { env });
  await waitFor(
    () => /Listening on/.test(serving.stdout()) || serving.stderr() !== "",
    "serve",
    20_000,
  );
  const url = serving.stdout().match(/^Listening on (\S+)/m)?.[1];
  const consoleUrl = serving.stdout().match(/^Console: (\S+)$/m)?.[1];
  let status: number | undefined;
  if (url) {
    const response = await fetch(`${url}/_microapi/console`);
    status = response.status;
    await response.body?.cancel();
  }
  serving.stop();
  const outcome = await serving.done;
  return { url, consoleUrl, status, outcome };
}

test("cli: serve prints the console's URL, which serves the page", async () => {
  const { url, consoleUrl, status, outcome } = await serveExamples([]);
  assert.equal(consoleUrl, `${url}/_microapi/console`);
  assert.equal(status, 200);
  assert.equal(outcome.code, 0);
}, { timeoutMs: 60_000 });

test("cli: serve --no-console keeps introspection and drops the console", async () => {
  const { consoleUrl, status, outcome } = await serveExamples(["--no-console"]);
  assert.equal(consoleUrl, undefined);
  assert.equal(status, 404);
  assert.match(outcome.stdout, /^Introspection: /m);
}, { timeoutMs: 60_000 });

test("cli: in production serve has no console; --console needs --introspection there", async () => {
  const production = { MICROAPI_ENV: "production" };
  const off = await serveExamples([], production);
  assert.equal(off.consoleUrl, undefined);
  assert.equal(off.status, 404);
  const both = await serveExamples(["--introspection", "--console"], production);
  assert.equal(both.status, 200);
  assert.match(both.consoleUrl ?? "", /\/_microapi\/console$/);
  const refused = await cli(["serve", "examples/serve.ts", "--port", "0", "--console"], {
    env: production,
  });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /console: true: the console reads the introspection document/);
}, { timeoutMs: 60_000 });

test("cli: serve --watch passes --no-console on to the server it restarts", async () => {
  const proc = start(
    [...cliArgv(), "serve", "examples/serve.ts", "--watch", "--no-console", "--port", "0"],
    { cwd: root },
  );
  try {
    const url = (await proc.waitFor(/Listening on (\S+)/, 30_000))[1]!;
    assert.doesNotMatch(proc.stdout(), /^Console: /m);
    const response = await fetch(`${url}/_microapi/console`);
    await response.body?.cancel();
    assert.equal(response.status, 404);
  } finally {
    proc.kill("SIGTERM");
  }
  assert.equal(await proc.exited, 0, proc.stderr());
}, { timeoutMs: 60_000 });
