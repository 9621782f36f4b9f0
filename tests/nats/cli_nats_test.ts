/**
 * The CLI's NATS options in this process (tests/nats/scale_out_test.ts runs `serve --nats` as
 * real processes): what `serve --nats` prints and serves, its HTTP only with --port, its usage
 * errors, and `info nats://` with nothing there.
 */
import assert from "node:assert/strict";
import { test, waitFor } from "../_harness.ts";
import { runMain } from "../_cli.ts";
import { startNatsServer } from "../_nats.ts";
import { Connection } from "../../mod.ts";
import { natsTransport } from "../../src/nats/mod.ts";

test("serve --nats: serves over NATS only, prints each method's subject, drains on stop", async () => {
  await using nats = await startNatsServer();
  const serving = runMain(["serve", "examples/serve.ts", "--nats", nats.url, "--queue", "q1"]);
  try {
    await waitFor(() => serving.stdout().includes("Serving over NATS"), "the server", 20_000);
    const out = serving.stdout();
    assert.match(out, /\n {2}users +get_user +unary +microapi\.users\.get_user\n/);
    assert.match(out, new RegExp(`NATS: ${nats.url}, queue group q1 \\(no HTTP: add --port`));
    assert.doesNotMatch(out, /Listening on http/);
    await using connection = new Connection(nats.url, { transport: natsTransport() });
    const user = await connection.unary<{ username: string }>("users/get_user", { user_id: 1 });
    assert.equal(user.username, "alice");
  } finally {
    serving.stop();
  }
  const outcome = await serving.done;
  assert.equal(outcome.code, 0, outcome.stderr);
});

test("serve --nats with --port serves HTTP as well", async () => {
  await using nats = await startNatsServer();
  const serving = runMain(["serve", "examples/serve.ts", "--nats", nats.url, "--port", "0"]);
  try {
    await waitFor(() => serving.stdout().includes("Listening on"), "the server", 20_000);
    const url = /Listening on (http:\/\/\S+)/.exec(serving.stdout())![1]!;
    await using http = new Connection(url);
    await using viaNats = new Connection(nats.url, { transport: natsTransport() });
    assert.deepEqual(
      await http.unary("users/get_user", { user_id: 1 }),
      await viaNats.unary("users/get_user", { user_id: 1 }),
    );
    assert.match(serving.stdout(), /route +NATS subject/);
  } finally {
    serving.stop();
  }
  assert.equal((await serving.done).code, 0);
});

test("serve: --queue without --nats, and a --nats that is not a NATS URL, are usage errors", async () => {
  const queue = await runMain(["serve", "examples/serve.ts", "--queue", "q"]).done;
  assert.equal(queue.code, 2);
  assert.equal(queue.stderr, "error: --queue needs --nats: it names the NATS queue group\n");
  const url = await runMain(["serve", "examples/serve.ts", "--nats", "http://x"]).done;
  assert.equal(url.code, 2);
  assert.match(url.stderr, /^error: Invalid --nats "http:\/\/x": expected nats:\/\/host:port/);
});

test("info nats://: an empty NATS system lists no service; an unreachable one is one error line", async () => {
  await using nats = await startNatsServer();
  const empty = await runMain(["info", nats.url]).done;
  assert.equal(empty.code, 0, empty.stderr);
  assert.match(empty.stdout, /^0 methods of 0 services, 0 service instances/);
  await nats.stop();
  const gone = await runMain(["info", nats.url]).done;
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, new RegExp(`^error: Cannot reach NATS at ${nats.url}: `));
  assert.equal(gone.stderr.trim().split("\n").length, 1);
});
