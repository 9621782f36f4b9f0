import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { RpcError } from "../../src/protocol/rpc_error.ts";
import { parseRoutePath, routeLabel, routePath } from "../../src/protocol/route.ts";
import {
  decodeResponseLine,
  encodeEndLine,
  encodeMessageLine,
} from "../../src/protocol/stream_lines.ts";
import { checkTimeout, parseTimeout } from "../../src/protocol/timeout.ts";
import { resolveLimits } from "../../src/protocol/limits.ts";

test("encodeMessageLine() and decodeResponseLine() round-trip a message", () => {
  const line = encodeMessageLine({ username: "alice", age: 30 });
  assert.equal(line, '{"message":{"username":"alice","age":30}}');
  assert.deepEqual(decodeResponseLine(line, 0), {
    kind: "message",
    value: { username: "alice", age: 30 },
  });
});

test("encodeEndLine() carries ok or the error, with trailers only when there are some", () => {
  assert.equal(encodeEndLine(undefined, new Headers()), '{"end":{"code":"ok"}}');
  const line = encodeEndLine(
    new RpcError("not_found", "gone", { details: { id: 1 } }),
    new Headers({ "x-count": "3" }),
  );
  assert.equal(
    line,
    '{"end":{"code":"not_found","message":"gone","details":{"id":1},"trailers":{"x-count":"3"}}}',
  );
  const decoded = decodeResponseLine(line, 4);
  assert.equal(decoded.kind, "end");
  if (decoded.kind !== "end") return;
  assert.equal(decoded.error?.code, "not_found");
  assert.deepEqual(decoded.error?.details, { id: 1 });
  assert.equal(decoded.trailers.get("x-count"), "3");
});

test("decodeResponseLine() rejects a line that is neither message nor end", () => {
  for (const line of ["[1]", '{"other":1}', "{oops"]) {
    assert.throws(() => decodeResponseLine(line, 2), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, "internal");
      assert.match(error.message, /response line 2/);
      return true;
    });
  }
});

test("parseTimeout() accepts whole milliseconds and rejects anything else", () => {
  assert.equal(parseTimeout(null, "t"), undefined);
  assert.equal(parseTimeout("0", "t"), 0);
  assert.equal(parseTimeout("1500", "t"), 1500);
  for (const bad of ["1.5", "-1", "abc", "", "12345678901", "1e3"]) {
    assert.throws(() => parseTimeout(bad, "microapi-timeout-ms"), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, "invalid_argument");
      assert.match(error.message, /microapi-timeout-ms must be a whole number of milliseconds/);
      return true;
    });
  }
});

test("checkTimeout() rounds up and rejects negative or non-finite values", () => {
  assert.equal(checkTimeout(1.2), 2);
  assert.throws(() => checkTimeout(-1), RangeError);
  assert.throws(() => checkTimeout(Number.NaN), RangeError);
});

test("routePath() and parseRoutePath() agree, with and without a version", () => {
  assert.equal(routePath({ service: "users", method: "get_user" }), "/users/get_user");
  assert.equal(
    routePath({ service: "users", method: "get_user", version: 2 }),
    "/v2/users/get_user",
  );
  assert.deepEqual(parseRoutePath("users/get_user"), {
    service: "users",
    method: "get_user",
    version: undefined,
  });
  assert.deepEqual(parseRoutePath("/v2/users/get_user"), {
    service: "users",
    method: "get_user",
    version: 2,
  });
  assert.equal(parseRoutePath("users"), undefined);
  assert.equal(parseRoutePath("/a/b/c"), undefined);
  assert.equal(parseRoutePath("/v0/users/x"), undefined);
  assert.equal(routeLabel({ service: "users", method: "x", version: 3 }), "v3/users.x");
});

test("resolveLimits() defaults to 4 MiB, the line limit follows the message limit", () => {
  assert.deepEqual(resolveLimits(), { maxMessageBytes: 4194304, maxLineBytes: 4194304 });
  assert.deepEqual(resolveLimits({ maxMessageBytes: 100 }), {
    maxMessageBytes: 100,
    maxLineBytes: 100,
  });
  assert.throws(
    () => resolveLimits({ maxLineBytes: 0 }),
    /maxLineBytes must be a positive integer/,
  );
});
