/**
 * What only the HTTP client does: its answer to responses cut off or from servers that are not
 * there. Everything both transports promise is in tests/contract/.
 */
import assert from "node:assert/strict";
import { rejection, test, within } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { Connection, MicroAPI, RpcError } from "../../mod.ts";

function code(error: unknown): string {
  assert.ok(RpcError.is(error), `expected an RpcError, got ${error}`);
  return error.code;
}

test("HTTP client: a server stream cut off without its end line is unavailable, not success", async () => {
  // A fake server that drops the connection after one message.
  const connection = new Connection("http://cut.test", {
    fetch: () =>
      Promise.resolve(
        new Response('{"message":{"i":0}}\n', {
          headers: { "content-type": "application/x-ndjson" },
        }),
      ),
  });
  const stream = connection.serverStream("probes/count", { to: 5 });
  assert.deepEqual(await stream.next(), { done: false, value: { i: 0 } });
  const error = await rejection(stream.next());
  assert.equal(code(error), "unavailable");
  assert.match((error as Error).message, /ended without a final status/);
});

test("HTTP client: an unreachable server is unavailable, promptly", async () => {
  const { services } = fixtureServices();
  const server = await new MicroAPI({ services }).serve({ port: 0, hostname: "127.0.0.1" });
  const url = server.url;
  await server.shutdown();
  const connection = new Connection(url);
  const error = await within(
    rejection(connection.unary("users/get_user", { user_id: 1 })),
    5000,
    "refused",
  );
  assert.equal(code(error), "unavailable");
  assert.match((error as Error).message, /Cannot reach http:\/\/127\.0\.0\.1:\d+\/users\/get_user/);
});
