import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { Code, codeFromHttpStatus, httpStatusByCode, isCode } from "../../src/protocol/codes.ts";
import { RpcError } from "../../src/protocol/rpc_error.ts";

test("Code lists ok and the sixteen gRPC error codes in snake_case", () => {
  const codes = Object.values(Code);
  assert.equal(codes.length, 17);
  for (const code of codes) assert.match(code, /^[a-z]+(_[a-z]+)*$/);
  assert.ok(isCode("deadline_exceeded"));
  assert.ok(!isCode("DEADLINE_EXCEEDED"));
});

test("httpStatusByCode maps every code, with the usual statuses", () => {
  for (const code of Object.values(Code)) assert.ok(httpStatusByCode[code] >= 200);
  assert.equal(httpStatusByCode.ok, 200);
  assert.equal(httpStatusByCode.invalid_argument, 400);
  assert.equal(httpStatusByCode.unauthenticated, 401);
  assert.equal(httpStatusByCode.permission_denied, 403);
  assert.equal(httpStatusByCode.not_found, 404);
  assert.equal(httpStatusByCode.resource_exhausted, 429);
  assert.equal(httpStatusByCode.internal, 500);
  assert.equal(httpStatusByCode.unimplemented, 501);
  assert.equal(httpStatusByCode.unavailable, 503);
  assert.equal(httpStatusByCode.deadline_exceeded, 504);
});

test("codeFromHttpStatus() picks a code for responses without an error body", () => {
  assert.equal(codeFromHttpStatus(502), "unavailable");
  assert.equal(codeFromHttpStatus(503), "unavailable");
  assert.equal(codeFromHttpStatus(504), "deadline_exceeded");
  assert.equal(codeFromHttpStatus(401), "unauthenticated");
  assert.equal(codeFromHttpStatus(418), "unknown");
  assert.equal(codeFromHttpStatus(500), "internal");
});

test("RpcError.from() maps aborts and timeouts, and hides other errors behind internal", () => {
  assert.equal(RpcError.from(new DOMException("x", "AbortError")).code, "cancelled");
  assert.equal(RpcError.from(new DOMException("x", "TimeoutError")).code, "deadline_exceeded");
  const secret = new Error("password=hunter2");
  const error = RpcError.from(secret);
  assert.equal(error.code, "internal");
  assert.equal(error.message, "internal error");
  assert.equal(error.cause, secret);
  assert.ok(!JSON.stringify(error.toBody()).includes("hunter2"));
  const original = new RpcError("not_found", "no such user");
  assert.equal(RpcError.from(original), original);
});

test("RpcError.toBody() and fromBody() round-trip, and garbage becomes a fallback code", () => {
  const error = new RpcError("already_exists", "taken", { details: { username: "alice" } });
  assert.deepEqual(error.toBody(), {
    code: "already_exists",
    message: "taken",
    details: { username: "alice" },
  });
  assert.deepEqual(RpcError.fromBody(error.toBody()).toBody(), error.toBody());
  assert.deepEqual(new RpcError("internal", "x").toBody(), { code: "internal", message: "x" });
  assert.equal(RpcError.fromBody("nope").code, "unknown");
  assert.equal(RpcError.fromBody({ code: "ok" }, { fallback: "internal" }).code, "internal");
  assert.equal(RpcError.fromBody({ code: "teapot", message: "m" }).code, "unknown");
  const withMetadata = RpcError.fromBody({ code: "internal", message: "m" }, {
    metadata: { "x-request-id": "7" },
  });
  assert.equal(withMetadata.metadata.get("x-request-id"), "7");
});

test("RpcError.is() recognises errors from another copy of the library by their brand", () => {
  // What another copy's RpcError looks like from here: a different class with the shared brand.
  const foreign = { [Symbol.for("microapi.rpc_error")]: true, code: "internal", message: "x" };
  assert.ok(!(foreign instanceof RpcError));
  assert.ok(RpcError.is(foreign));
  assert.ok(!RpcError.is(new Error("x")));
  assert.ok(!RpcError.is({ code: "internal" }));
});
