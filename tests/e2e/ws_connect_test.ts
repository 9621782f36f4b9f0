/**
 * A WebSocket connection that cannot be made fails its calls with `unavailable`, saying why, and
 * never takes the client's process down: checked in a child process (an unobserved rejection
 * ends a Deno or Bun process), for nothing listening and for a server that refuses the upgrade
 * with 503 while it drains. In Chromium: tests/browser/chromium_test.ts.
 */
import assert from "node:assert/strict";
import { runtime, test, within } from "../_harness.ts";
import { runProgram } from "../_process.ts";

// Deno has WebSocketStream (the net unstable flag is on in deno.json) and WebSocket; Bun has
// WebSocket only.
const apis = runtime === "deno" ? ["stream", "plain"] : ["plain"];

for (const api of apis) {
  test(
    `WebSocket client (${runtime}, ${api}): a refused upgrade or a closed port fails the call, the process lives on`,
    async () => {
      const child = runProgram(runtime, "ws_refused_client.ts", [api]);
      try {
        const result = await within(child.ready, 30_000, "the client's report") as Record<
          string,
          { code: string; message: string }
        >;
        assert.equal(await child.exited, 0, child.stderr());
        assert.doesNotMatch(child.stderr(), /Uncaught|Unhandled/i);
        for (const what of ["nothing", "ended", "draining"]) {
          const outcome = result[what]!;
          assert.equal(outcome.code, "unavailable", `${what}: ${outcome.message}`);
          assert.match(
            outcome.message,
            /^Cannot connect to ws:\/\/127\.0\.0\.1:\d+\/_microapi\/ws/,
          );
        }
        if (api === "stream") {
          // WebSocketStream says why; WebSocket does not (its message names the usual reasons).
          assert.match(result.nothing!.message, /connect/);
          assert.match(result.draining!.message, /503/);
        } else {
          assert.match(result.draining!.message, /refused the upgrade/);
        }
      } finally {
        child.kill();
        await child.exited;
      }
    },
    { timeoutMs: 40_000 },
  );
}
