/**
 * The other runtime's server, this runtime's client: Deno client -> Bun server under `deno test`,
 * Bun client -> Deno server under `bun test`. Bidi over HTTP/1.1 must be truly full duplex across
 * runtimes (a reply arrives before the next message is sent).
 */
import assert from "node:assert/strict";
import { runtime, test, within } from "../_harness.ts";
import { runProgram } from "../_process.ts";
import { Connection, RpcError } from "../../mod.ts";

const other = runtime === "deno" ? "bun" : "deno";

test(`e2e cross-runtime: a ${runtime} client calls every pattern on a ${other} server`, async () => {
  const child = runProgram(other, "fixture_server.ts");
  let connection: Connection | undefined;
  try {
    const ready = await within(child.ready, 30_000, `the ${other} server (${child.stderr()})`);
    assert.equal(ready.runtime, other);
    connection = new Connection(String(ready.url));
    assert.deepEqual(await connection.unary("users/get_user", { user_id: 2 }), {
      username: "user2",
      age: 30,
    });
    const users = await connection.serverStream("users/list_users", { limit: 4 }).toArray();
    assert.equal(users.length, 4);
    const sum = connection.clientStream("analytics/aggregate");
    for (const value of [1, 2, 3]) await sum.send({ value });
    assert.deepEqual(await sum.end(), { count: 3, sum: 6 });

    const chat = connection.bidiStream<{ text: string }, { text: string }>("chat/echo");
    for (const text of ["one", "two", "three"]) {
      await chat.send({ text });
      // Full duplex: the reply comes back while the request body is still open.
      const reply = await within(chat.next(), 5000, `the reply to ${text}`);
      assert.deepEqual(reply, { done: false, value: { text: text.toUpperCase() } });
    }
    await chat.end();
    assert.equal((await chat.next()).done, true);

    const error = await connection.unary("users/get_user", { user_id: 404 }).catch((e) => e);
    assert.ok(RpcError.is(error) && error.code === "not_found");
  } finally {
    await connection?.close();
    child.kill();
    await child.exited;
  }
});
