import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { RpcError } from "../../src/protocol/rpc_error.ts";
import { parseRoutePath, routeLabel, routePath } from "../../src/protocol/route.ts";
import {
  decodeResponseLine,
  encodeEndLine,
  encodeMessageLine,
} from "../../src/protocol/stream_lines.ts";
import { MAX_TIMEOUT_MS, readTimeout } from "../../src/protocol/timeout.ts";
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

test("readTimeout() reads a header: whole milliseconds, at most 10 digits", () => {
  assert.equal(readTimeout(null, "header"), undefined);
  assert.equal(readTimeout("0", "header"), 0);
  assert.equal(readTimeout("1500", "header"), 1500);
  for (const bad of ["1.5", "-1", "abc", "", "12345678901", "1e3"]) {
    assert.throws(() => readTimeout(bad, "header"), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, "invalid_argument");
      assert.match(error.message, /microapi-timeout-ms must be a whole number of milliseconds/);
      return true;
    });
  }
});

test("readTimeout() names the header or field it read in its message", () => {
  assert.throws(
    () => readTimeout("soon", "header", { name: "connect-timeout-ms" }),
    /^RpcError: Header connect-timeout-ms must be a whole number of milliseconds/,
  );
  assert.throws(() => readTimeout(-1, "option"), /^RangeError: Invalid timeoutMs: /);
});

test("readTimeout() reads a frame field: any safe integer >= 0", () => {
  assert.equal(readTimeout(undefined, "frame"), undefined);
  assert.equal(readTimeout(250, "frame"), 250);
  for (const bad of [1.5, -1, "100", Number.MAX_SAFE_INTEGER + 2, true]) {
    assert.throws(() => readTimeout(bad, "frame"), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, "invalid_argument");
      assert.match(error.message, /^"timeout_ms" must be a whole number of milliseconds, got /);
      return true;
    });
  }
});

test("readTimeout() reads an option: rounds up, rejects negative or non-finite values", () => {
  assert.equal(readTimeout(1.2, "option"), 2);
  assert.equal(readTimeout(undefined, "option"), undefined);
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, "5"]) {
    assert.throws(() => readTimeout(bad, "option"), RangeError);
  }
});

test("readTimeout() caps every source at the longest timer, 2^31-1 ms", () => {
  assert.equal(MAX_TIMEOUT_MS, 2 ** 31 - 1);
  assert.equal(readTimeout(String(MAX_TIMEOUT_MS), "header"), MAX_TIMEOUT_MS);
  assert.equal(readTimeout("9999999999", "header"), MAX_TIMEOUT_MS);
  assert.equal(readTimeout(MAX_TIMEOUT_MS + 1, "frame"), MAX_TIMEOUT_MS);
  assert.equal(readTimeout(Number.MAX_SAFE_INTEGER, "frame"), MAX_TIMEOUT_MS);
  assert.equal(readTimeout(1e300, "option"), MAX_TIMEOUT_MS);
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
  const shape = { maxDepth: 64, maxKeys: 50_000, maxItems: 100_000 };
  assert.deepEqual(resolveLimits(), { maxMessageBytes: 4194304, maxLineBytes: 4194304, ...shape });
  assert.deepEqual(resolveLimits({ maxMessageBytes: 100 }), {
    maxMessageBytes: 100,
    maxLineBytes: 100,
    ...shape,
  });
  assert.throws(
    () => resolveLimits({ maxLineBytes: 0 }),
    /maxLineBytes must be a positive integer/,
  );
});
