/**
 * The README's curl example: each `curl` line, sent to the server the README says it talks to
 * (examples/users.ts and examples/chat.ts, as the quick start serves them), answers exactly the
 * `# ` lines printed under it.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../_harness.ts";
import { root } from "../_cli.ts";
import { MicroAPI } from "../../mod.ts";
import { chat } from "../../examples/chat.ts";
import { users } from "../../examples/users.ts";

interface CurlExample {
  path: string;
  headers: [string, string][];
  body: string;
  output: string[];
}

/** The curl commands of the README's "curl works too" block, with the output shown for each. */
async function curlExamples(): Promise<CurlExample[]> {
  const readme = await readFile(`${root}README.md`, "utf8");
  const start = readme.indexOf("so curl works too");
  assert.ok(start > 0, "the README has its curl example");
  const block = readme.slice(start).match(/```sh\n([\s\S]*?)```/)![1]!;
  const examples: CurlExample[] = [];
  for (const line of block.split("\n")) {
    const curl = line.match(/^curl .*?localhost:8080(\S+).* -d '([^']*)'$/);
    // The headers as the line gives them: the server refuses a call without a content type.
    const headers = [...line.matchAll(/-H '([^:']+): ([^']*)'/g)].map((m) =>
      [m[1]!, m[2]!] as [string, string]
    );
    if (curl) examples.push({ path: curl[1]!, headers, body: curl[2]!, output: [] });
    else if (line.startsWith("# ")) examples[examples.length - 1]!.output.push(line.slice(2));
  }
  return examples;
}

test("README: the curl example prints what the quick start's server answers", async () => {
  const examples = await curlExamples();
  assert.deepEqual(examples.map((example) => example.path), [
    "/users/get_user",
    "/users/list_users",
  ]);
  const app = new MicroAPI({ services: [users, chat] });
  await using server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  for (const { path, headers, body, output } of examples) {
    const response = await fetch(`${server.url}${path}`, { method: "POST", headers, body });
    assert.equal(response.status, 200);
    assert.deepEqual((await response.text()).trimEnd().split("\n"), output, path);
  }
});
