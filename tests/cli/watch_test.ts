/**
 * `microapi serve --watch` as a process: it restarts the server when a file changes (edited by the
 * test), keeps the port, survives a broken edit, and stops its server when it stops.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { sleep, test } from "../_harness.ts";
import { cliArgv, closedPort, start, tempDir } from "../_cli.ts";
import { Connection } from "../../mod.ts";

const version = (text: string) =>
  `import { Service, z } from "@microapi/core";

export const hello = new Service("hello")
  .method("version", { output: z.object({ text: z.string() }) }, () => ({ text: "${text}" }));
`;

async function call(url: string): Promise<unknown> {
  await using connection = new Connection(url);
  return await connection.unary("hello/version");
}

test("serve --watch restarts on a file change, keeps the port (even 0), and recovers from a broken edit", async () => {
  await using dir = await tempDir();
  await writeFile(`${dir.path}/hello.ts`, version("one"));
  // Port 0: a free port is chosen once, and kept across restarts.
  const proc = start([...cliArgv(), "serve", "hello.ts", "--watch", "--port", "0"], {
    cwd: dir.path,
  });
  let url = "";
  try {
    await proc.waitFor(/^Watching \. for changes$/m);
    url = (await proc.waitFor(/Listening on (\S+)/))[1]!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(await call(url), { text: "one" });

    // An edit restarts the server with the new code, on the same port.
    let mark = { stdout: proc.stdout().length, stderr: proc.stderr().length };
    await sleep(50); // a new modification time, on file systems with coarse timestamps
    await writeFile(`${dir.path}/hello.ts`, version("two"));
    await proc.waitFor(/hello\.ts changed: restarting/, 20_000, mark);
    assert.equal((await proc.waitFor(/Listening on (\S+)/, 20_000, mark))[1], url);
    assert.deepEqual(await call(url), { text: "two" });

    // A broken edit is reported in one line; the watcher waits for the next change.
    mark = { stdout: proc.stdout().length, stderr: proc.stderr().length };
    await writeFile(`${dir.path}/hello.ts`, "export const broken = ;\n");
    await proc.waitFor(/^error: Cannot load hello\.ts: .+$/m, 20_000, mark);
    await proc.waitFor(/The server stopped \(exit code 1\); waiting for changes/, 20_000, mark);
    mark = { stdout: proc.stdout().length, stderr: proc.stderr().length };
    await writeFile(`${dir.path}/hello.ts`, version("three"));
    await proc.waitFor(/Listening on/, 20_000, mark);
    assert.deepEqual(await call(url), { text: "three" });
  } finally {
    proc.kill("SIGTERM");
  }
  assert.equal(await proc.exited, 0, proc.stderr());
  // The server went with the watcher: nothing listens on the port any more.
  const refused = await fetch(`${url}/hello/version`, { method: "POST" })
    .then(async (response) => (await response.body?.cancel(), "answered"), () => "refused");
  assert.equal(refused, "refused");
});

test("serve --watch: its server stops when the watcher is killed outright (never orphaned)", async () => {
  await using dir = await tempDir();
  await writeFile(`${dir.path}/hello.ts`, version("one"));
  const port = await closedPort();
  const proc = start([...cliArgv(), "serve", "hello.ts", "--watch", "--port", String(port)], {
    cwd: dir.path,
  });
  const url = (await proc.waitFor(/Listening on (\S+)/))[1]!;
  assert.deepEqual(await call(url), { text: "one" });
  proc.kill("SIGKILL");
  await proc.exited;
  const started = Date.now();
  for (;;) {
    const state = await fetch(`${url}/hello/version`, { method: "POST" })
      .then(async (response) => (await response.body?.cancel(), "answered"), () => "refused");
    if (state === "refused") break;
    assert.ok(Date.now() - started < 10_000, "the server outlived its watcher");
    await sleep(50);
  }
});
