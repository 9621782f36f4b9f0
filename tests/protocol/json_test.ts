import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { locateJsonError, parseJson } from "../../src/protocol/json.ts";
import { RpcError } from "../../src/protocol/rpc_error.ts";

function failure(text: string): RpcError {
  try {
    parseJson(text, "request body");
  } catch (error) {
    assert.ok(error instanceof RpcError);
    return error;
  }
  throw new Error(`expected ${text} to be rejected`);
}

test("parseJson() returns the value of valid JSON", () => {
  assert.deepEqual(parseJson('{"a":[1,true,null,"x"]}', "body"), { a: [1, true, null, "x"] });
});

test("parseJson() names line, column and what was expected for a missing comma", () => {
  const error = failure('{"a":1 "b":2}');
  assert.equal(error.code, "invalid_argument");
  assert.equal(
    error.message,
    "Malformed JSON in request body at line 1, column 8: expected ',' or '}' after a property " +
      'value, found "\\""',
  );
  assert.deepEqual(error.details, { line: 1, column: 8 });
});

test("parseJson() counts lines in multi-line input", () => {
  const error = failure('{\n  "a": 1,\n  "b": }');
  assert.deepEqual(error.details, { line: 3, column: 8 });
  assert.match(error.message, /expected a value/);
});

test("locateJsonError() finds trailing commas, bad literals and trailing garbage", () => {
  assert.equal(locateJsonError("[1,2,]")?.reason, 'unexpected "]", expected a value');
  assert.equal(
    locateJsonError("{'a':1}")?.reason,
    'expected a property name in double quotes, found "\'"',
  );
  assert.equal(locateJsonError("tru")?.offset, 0);
  assert.equal(locateJsonError("{} x")?.reason, 'unexpected "x" after the end of the value');
  assert.equal(locateJsonError('"abc')?.reason, "unterminated string");
  assert.equal(locateJsonError('"\\q"')?.reason, "invalid escape sequence \\q");
  assert.equal(locateJsonError("")?.reason, "unexpected end of input");
});

test("locateJsonError() returns undefined for valid JSON", () => {
  for (const text of ['{"a":{"b":[1,-2.5e3,"\\u00e9"]}}', " null ", "[]", "{}", '"x"']) {
    assert.equal(locateJsonError(text), undefined, text);
  }
});

test("locateJsonError() survives deep nesting without overflowing the stack", () => {
  const found = locateJsonError("[".repeat(200_000));
  assert.equal(found?.reason, "unexpected end of input");
  assert.equal(found?.offset, 200_000);
});
