/**
 * Reading single JSON bodies on a real server: on Deno through its native request.json() (the fast
 * path), elsewhere through the portable reader. Either way, malformed JSON says where, and an
 * oversize body is refused.
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { MicroAPI } from "../../mod.ts";

async function post(url: string, body: string) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  return { status: response.status, body: await response.json() };
}

test("e2e HTTP body: malformed JSON names the line and column on this runtime's server", async () => {
  const { services } = fixtureServices();
  await using server = await new MicroAPI({ services }).serve({ port: 0, hostname: "127.0.0.1" });
  const trailing = await post(`${server.url}/users/get_user`, '{"user_id": 7,}');
  assert.equal(trailing.status, 400);
  assert.equal(trailing.body.code, "invalid_argument");
  assert.match(trailing.body.message, /^Malformed JSON in request body at line 1, column 15: /);
  assert.deepEqual(trailing.body.details, { line: 1, column: 15 });
  const multiline = await post(`${server.url}/users/get_user`, '{"user_id":\n 7 x}');
  assert.match(multiline.body.message, /^Malformed JSON in request body at line 2, column 4: /);
  const truncated = await post(`${server.url}/users/get_user`, '{"user_id": ');
  assert.equal(truncated.status, 400);
  assert.match(truncated.body.message, /^Malformed JSON in request body.*end of (JSON )?input/);
  const good = await post(`${server.url}/users/get_user`, '{"user_id": 7}');
  assert.deepEqual(good, { status: 200, body: { username: "user7", age: 30 } });
});

test("e2e HTTP body: a body over the limit is refused from its content-length", async () => {
  const { services } = fixtureServices();
  await using server = await new MicroAPI({ services, limits: { maxMessageBytes: 100 } }).serve({
    port: 0,
    hostname: "127.0.0.1",
  });
  const big = await post(
    `${server.url}/users/get_user`,
    JSON.stringify({ user_id: 1, pad: "x".repeat(200) }),
  );
  assert.deepEqual(big, {
    status: 429,
    body: {
      code: "resource_exhausted",
      message: "The request body exceeds the limit of 100 bytes",
      details: { limit: 100 },
    },
  });
});
