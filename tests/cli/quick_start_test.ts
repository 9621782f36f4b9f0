/**
 * The README's quick start, as written: its set-up lines (the `microapi` alias) run in bash, then
 * `microapi serve` in the background, stopped the way a shell user stops a job by its PID:
 * `kill $!`. The server must shut down (npx does not pass signals on to the program it started,
 * so an alias that runs npx would leave the server running).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import process from "node:process";
import { test, within } from "../_harness.ts";
import { root, start } from "../_cli.ts";

/** The lines of the quick start's first shell block that come before its first `microapi` line. */
async function quickStartSetup(): Promise<string[]> {
  const readme = await readFile(`${root}README.md`, "utf8");
  const block = /^## Quick start[^\n]*\n+```sh\n([^]*?)^```/m.exec(readme)?.[1];
  assert.ok(block, "README.md has a ## Quick start section starting with a sh block");
  const lines = block.split("\n");
  const first = lines.findIndex((line) => line.startsWith("microapi "));
  assert.ok(first > 0, `the block defines microapi before using it:\n${block}`);
  return lines.slice(0, first);
}

test("README quick start: the microapi alias serves, and kill of the PID the shell started stops the server", async () => {
  const setup = await quickStartSetup();
  assert.ok(setup.some((line) => /^alias microapi=/.test(line)), setup.join("\n"));
  const script = [
    "shopt -s expand_aliases",
    ...setup,
    'echo "group=$$"',
    "microapi serve examples/users.ts --port 0 &",
    'echo "pid=$!"',
    "wait $!",
  ].join("\n");
  // setsid: a process group of our own, so that whatever the script started can be cleaned up.
  const shell = start(["setsid", "bash", "-c", script], { cwd: root });
  let group: number | undefined;
  try {
    group = Number((await shell.waitFor(/^group=(\d+)$/m, 20_000))[1]);
    const pid = Number((await shell.waitFor(/^pid=(\d+)$/m, 20_000))[1]);
    const url = (await shell.waitFor(/Listening on (\S+)/, 20_000))[1]!;
    assert.equal((await fetch(`${url}/_microapi/health`).then((r) => r.text())).length > 0, true);
    process.kill(pid, "SIGTERM"); // kill $!
    await shell.waitFor(/^Shutting down$/m, 5_000);
    assert.equal(await within(shell.exited, 5_000, "the shell"), 0, shell.stderr());
    await assert.rejects(fetch(`${url}/_microapi/health`), "the port is closed");
  } finally {
    if (group !== undefined) {
      try {
        process.kill(-group, "SIGKILL");
      } catch {
        // the group is gone: nothing was left behind
      }
    }
    shell.kill("SIGKILL");
    await shell.exited;
  }
});
