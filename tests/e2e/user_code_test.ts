/**
 * No user code can take the server down: a server in a child process (this runtime) runs user
 * code that fails in every way a user callback can, and must keep serving, then shut down and exit
 * cleanly. A child process, because an unhandled rejection ends a Deno or Bun process, and inside
 * a test runner it would only fail a test (Bun) or a file (Deno), not show what a server does.
 */
import assert from "node:assert/strict";
import { rejection, runtime, sleep, test, within } from "../_harness.ts";
import { runProgram } from "../_process.ts";
import { Connection, RpcError } from "../../mod.ts";

async function code(promise: Promise<unknown>): Promise<string> {
  const error = await within(rejection(promise), 5_000, "the call");
  assert.ok(RpcError.is(error), `expected an RpcError, got ${error}`);
  return error.code;
}

test(`e2e user code: failing callbacks end their calls, never the ${runtime} server`, async () => {
  const child = runProgram(runtime, "hostile_server.ts");
  let exited = false;
  const exit = child.exited.then((status) => {
    exited = true;
    return status;
  });
  try {
    const ready = await within(child.ready, 30_000, `the server (${child.stderr()})`);
    for (const url of [String(ready.a), String(ready.b)]) {
      for (const transport of ["http", "ws"] as const) {
        await using connection = new Connection(url, { transport });
        const where = `${url} ${transport}`;
        // Middleware that did not return next()'s outcome: some with the rest of the call still
        // running, one that waited for it and dropped it, one that swallowed its error.
        assert.equal(await code(connection.unary("mw/void_next")), "internal", where);
        assert.equal(
          await code(connection.serverStream("mw/void_next_stream").toArray()),
          "internal",
          where,
        );
        assert.equal(await code(connection.unary("mw/async_void_next")), "internal", where);
        assert.equal(await code(connection.unary("mw/late_next")), "internal", where);
        assert.equal(await code(connection.unary("mw/awaited_next")), "internal", where);
        assert.equal(await code(connection.unary("mw/swallowed")), "internal", where);
        // Handlers and generators that fail; each report makes onError fail too.
        for (const method of ["throws", "thenable", "bad_output"]) {
          assert.equal(await code(connection.unary(`handlers/${method}`)), "internal", where);
        }
        for (const method of ["stream_throws"]) {
          assert.equal(
            await code(connection.serverStream(`handlers/${method}`).toArray()),
            "internal",
            where,
          );
        }
        // Dependencies: one asked for and never awaited, one that fails, one whose cleanup does.
        assert.deepEqual(await connection.unary("deps/ignored"), {}, where);
        assert.equal(await code(connection.unary("deps/declared")), "internal", where);
        assert.deepEqual(await connection.unary("deps/cleanup"), {}, where);
        // A schema whose refinement throws.
        const call = connection.clientStream("schemas/refine_throws");
        await call.send({ n: 1 }).catch(() => {});
        assert.equal(await code(call.end()), "internal", where);
      }
      // A fallback that throws, rejects, or returns nothing (CORS in front of it in app "a").
      for (const path of ["throws", "rejects", "nothing"]) {
        const response = await fetch(`${url}/fallback/${path}`, {
          headers: { origin: "https://app.example" },
        });
        assert.equal(response.status, 500, path);
        assert.deepEqual(await response.json(), { code: "internal", message: "internal error" });
      }
      const other = await fetch(`${url}/fallback/other`);
      assert.equal(await other.text(), "not here");
    }
    // Unhandled rejections end a process once the microtasks run dry: give them time to.
    await sleep(300);
    assert.equal(exited, false, `the server died:\n${child.stderr()}`);
    await using connection = new Connection(String(ready.a));
    assert.deepEqual(await connection.unary("schemas/ok"), { ok: true });

    // Shutdown hooks and teardowns that throw are reported, and the process still exits cleanly.
    child.kill("SIGTERM");
    const status = await within(exit, 10_000, "the server to exit after SIGTERM");
    const stderr = child.stderr();
    assert.equal(status, 0, stderr);
    // An unhandled rejection would have ended the process with code 1 and said so (Deno:
    // "Uncaught (in promise)"; Bun prints the error and its version).
    assert.doesNotMatch(stderr, /Uncaught|Unhandled|Bun v\d/, stderr);
    for (const app of ["a", "b"]) {
      assert.match(stderr, new RegExp(`${app}: the next shutdown hook ran`));
      assert.match(stderr, new RegExp(`${app}: teardown ran`));
      assert.match(stderr, new RegExp(`${app}: the teardown failed`));
    }
    assert.equal(stderr.match(/\[microapi\] Shutdown failed/g)?.length, 2, stderr);
    assert.match(
      stderr,
      /\[microapi\] onError failed while reporting an error of handlers\.throws/,
    );
    assert.match(stderr, /onError rejected/);
    assert.match(stderr, /onError threw/);
    assert.match(stderr, /\[microapi\] The fallback failed/);
  } finally {
    child.kill();
    await child.exited;
  }
});
