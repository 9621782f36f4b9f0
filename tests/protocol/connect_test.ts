/**
 * The Connect wire codecs. Cases marked "conformance:" are taken from the YAML test suites of
 * connectrpc/conformance (internal/app/connectconformance/testsuites/data), whose runner cannot
 * run here.
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import {
  codeFromConnect,
  codeFromHttpStatus,
  codeToConnect,
  contentTypeFor,
  decodeEndStream,
  encodeEndStream,
  errorFromJson,
  errorFromUnaryResponse,
  errorToJson,
  errorToJsonBytes,
  FLAG_END_STREAM,
  httpStatusFromCode,
  parseContentType,
  parseGetRequest,
  parseRequestHeader,
  parseTimeoutHeader,
  setUnaryTrailers,
  splitUnaryTrailers,
  timeoutHeaderValue,
} from "../../src/protocol/connect/mod.ts";
import { Code, type ErrorCode } from "../../src/protocol/codes.ts";
import { compress, decompress, GZIP } from "../../src/protocol/compression.ts";
import { encodeEnvelope, EnvelopeReader } from "../../src/protocol/envelope.ts";
import { RpcError } from "../../src/protocol/rpc_error.ts";
import { base64Encode } from "../../src/protocol/base64.ts";
import { encodeValue } from "../../src/protocol/error_details.ts";
import { join, streamOf, utf8 } from "./_wire.ts";

const decoder = new TextDecoder();

function throwsRpc(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

test("parseContentType() reads Connect's unary and streaming content types", () => {
  assert.deepEqual(parseContentType("application/json"), { codec: "json", streaming: false });
  assert.deepEqual(parseContentType("Application/JSON; charset=utf-8"), {
    codec: "json",
    streaming: false,
  });
  assert.deepEqual(parseContentType("application/proto"), { codec: "proto", streaming: false });
  assert.deepEqual(parseContentType("application/connect+json"), {
    codec: "json",
    streaming: true,
  });
  assert.deepEqual(parseContentType("application/connect+proto"), {
    codec: "proto",
    streaming: true,
  });
  // conformance: server_unexpected.yaml "unexpected-content-type" (image/jpeg -> 415).
  for (const other of [null, "", "image/jpeg", "text/plain", "application/", "application/a+b"]) {
    assert.equal(parseContentType(other), undefined, String(other));
  }
  // An unknown codec parses; whether it is supported is the server's codec list's call.
  assert.deepEqual(parseContentType("application/foo"), { codec: "foo", streaming: false });
  assert.equal(contentTypeFor("proto", true), "application/connect+proto");
  assert.equal(contentTypeFor("json", false), "application/json");
});

test("parseRequestHeader() reads timeout and compressions for unary and streaming calls", () => {
  assert.deepEqual(parseRequestHeader(new Headers(), { streaming: false }), {
    timeoutMs: undefined,
    compression: undefined,
    responseCompression: undefined,
  });
  const unary = parseRequestHeader(
    new Headers({
      "connect-protocol-version": "1",
      "connect-timeout-ms": "5000",
      "content-encoding": "gzip",
      "accept-encoding": "br, gzip",
    }),
    { streaming: false },
  );
  assert.deepEqual(unary, { timeoutMs: 5000, compression: GZIP, responseCompression: GZIP });
  // Streams use the connect-* encoding headers, and ignore the HTTP ones.
  const stream = parseRequestHeader(
    new Headers({ "connect-content-encoding": "gzip", "content-encoding": "br" }),
    { streaming: true },
  );
  assert.equal(stream.compression, GZIP);
  assert.equal(stream.responseCompression, GZIP, "no accept header: the request's own encoding");
  assert.equal(
    parseRequestHeader(new Headers({ "connect-accept-encoding": "gzip" }), { streaming: true })
      .responseCompression,
    GZIP,
  );
});

test("parseRequestHeader() checks connect-protocol-version", () => {
  throwsRpc(
    () =>
      parseRequestHeader(new Headers({ "connect-protocol-version": "2" }), { streaming: false }),
    "invalid_argument",
    /connect-protocol-version must be "1", got "2"/,
  );
  throwsRpc(
    () => parseRequestHeader(new Headers(), { streaming: false, requireProtocolVersion: true }),
    "invalid_argument",
    /Missing header connect-protocol-version: set it to "1"/,
  );
});

test("parseRequestHeader() refuses an unsupported encoding with unimplemented", () => {
  // conformance: connect_server_unexpected.yaml "unexpected-compression".
  throwsRpc(
    () => parseRequestHeader(new Headers({ "content-encoding": "foo" }), { streaming: false }),
    "unimplemented",
    /Unsupported content-encoding "foo": supported encodings are gzip, identity/,
  );
  throwsRpc(
    () =>
      parseRequestHeader(new Headers({ "connect-content-encoding": "zstd" }), { streaming: true }),
    "unimplemented",
  );
});

test("parseTimeoutHeader() reads up to 10 digits and clamps what a timer cannot hold", () => {
  assert.equal(parseTimeoutHeader(null), undefined);
  assert.equal(parseTimeoutHeader("0"), 0);
  assert.equal(parseTimeoutHeader("200"), 200);
  assert.equal(parseTimeoutHeader("2147483647"), 2 ** 31 - 1);
  // Above 2^31 - 1 ms setTimeout would fire at once; the spec allows clamping.
  assert.equal(parseTimeoutHeader("2147483648"), 2 ** 31 - 1);
  assert.equal(parseTimeoutHeader("9999999999"), 2 ** 31 - 1);
  for (const bad of ["", "-1", "1.5", "1e3", "12345678901", " 5", "abc"]) {
    throwsRpc(() => parseTimeoutHeader(bad), "invalid_argument", /connect-timeout-ms/);
  }
  assert.equal(timeoutHeaderValue(1.2), "2");
  assert.equal(timeoutHeaderValue(-5), "0");
  assert.equal(timeoutHeaderValue(1e12), "9999999999");
});

test("codeToConnect() and codeFromConnect() spell cancelled the Connect way", () => {
  assert.equal(codeToConnect("cancelled"), "canceled");
  assert.equal(codeFromConnect("canceled"), "cancelled");
  assert.equal(codeFromConnect("cancelled"), "cancelled");
  for (const code of Object.values(Code)) {
    if (code === "ok" || code === "cancelled") continue;
    assert.equal(codeToConnect(code), code);
    assert.equal(codeFromConnect(code), code);
  }
  for (const other of ["ok", "foobar", null, 5, undefined, "CANCELED"]) {
    assert.equal(codeFromConnect(other), undefined, String(other));
  }
});

test("httpStatusFromCode() follows Connect's code to HTTP status table", () => {
  // connectrpc.com/docs/protocol#error-codes; conformance: connect_client_code_to_http_code.yaml.
  const table: Record<ErrorCode, number> = {
    cancelled: 499,
    unknown: 500,
    invalid_argument: 400,
    deadline_exceeded: 504,
    not_found: 404,
    already_exists: 409,
    permission_denied: 403,
    resource_exhausted: 429,
    failed_precondition: 400,
    aborted: 409,
    out_of_range: 400,
    unimplemented: 501,
    internal: 500,
    unavailable: 503,
    data_loss: 500,
    unauthenticated: 401,
  };
  for (const [code, status] of Object.entries(table)) {
    assert.equal(httpStatusFromCode(code as ErrorCode), status, code);
  }
});

test("codeFromHttpStatus() follows Connect's HTTP to code table", () => {
  // conformance: client_http_to_rpc_code.yaml.
  const table: [number, ErrorCode][] = [
    [400, "internal"],
    [401, "unauthenticated"],
    [403, "permission_denied"],
    [404, "unimplemented"],
    [409, "unknown"],
    [412, "unknown"],
    [413, "unknown"],
    [415, "unknown"],
    [429, "unavailable"],
    [431, "unknown"],
    [502, "unavailable"],
    [503, "unavailable"],
    [504, "unavailable"],
    [505, "unknown"],
  ];
  for (const [status, code] of table) assert.equal(codeFromHttpStatus(status), code, `${status}`);
});

test("errorToJson() writes Connect's error JSON, details as a google.protobuf.Value", () => {
  assert.deepEqual(errorToJson(new RpcError("cancelled", "")), { code: "canceled" });
  const json = errorToJson(new RpcError("not_found", "no user 7", { details: { user_id: 7 } }));
  assert.deepEqual(json, {
    code: "not_found",
    message: "no user 7",
    details: [{
      type: "google.protobuf.Value",
      value: base64Encode(encodeValue({ user_id: 7 }), { pad: false }),
      debug: { user_id: 7 },
    }],
  });
  assert.ok(!json.details![0]!.value.includes("="), "unpadded base64");
  assert.deepEqual(
    JSON.parse(decoder.decode(errorToJsonBytes(new RpcError("internal", "x")))),
    { code: "internal", message: "x" },
  );
});

test("errorFromJson() reads back what errorToJson() writes", () => {
  const original = new RpcError("cancelled", "stop", { details: { at: [1, 2] } });
  const read = errorFromJson(JSON.parse(JSON.stringify(errorToJson(original))), {
    fallback: "unknown",
  });
  assert.equal(read.code, "cancelled");
  assert.equal(read.message, "stop");
  assert.deepEqual(read.details, { at: [1, 2] });
});

test("errorFromJson() tolerates what the conformance suite sends", () => {
  // conformance: connect_client_error_endstream.yaml, unary "error/*" cases: the fallback is the
  // code inferred from the HTTP status.
  const read = (json: unknown, fallback: ErrorCode = "unauthenticated") =>
    errorFromJson(json, { fallback });
  assert.equal(read(null).code, "unauthenticated");
  let error = read({ code: null, message: "oops" });
  assert.deepEqual([error.code, error.message], ["unauthenticated", "oops"]);
  error = read({ message: "oops" });
  assert.deepEqual([error.code, error.message], ["unauthenticated", "oops"]);
  error = read({ code: "foobar", message: "oops" }, "unavailable");
  assert.deepEqual([error.code, error.message], ["unavailable", "oops"]);
  error = read({ code: "unauthenticated" });
  assert.deepEqual([error.code, error.message], ["unauthenticated", ""]);
  error = read({ code: "out_of_range", message: "oops", foobar: "baz" });
  assert.deepEqual([error.code, error.message], ["out_of_range", "oops"]);
  // Details with garbage or missing debug, and unknown fields: the detail is kept.
  const detail = { type: "google.protobuf.FileDescriptorProto", value: "Cgp0ZXN0LnByb3Rv" };
  for (const extra of [{ debug: "garbage" }, {}, { frob: "nitz", debug: { name: "test.proto" } }]) {
    error = read({ code: "out_of_range", message: "oops", details: [{ ...detail, ...extra }] });
    assert.equal(error.code, "out_of_range");
    const [kept] = error.details as Record<string, unknown>[];
    assert.equal(kept!.type, "google.protobuf.FileDescriptorProto");
    assert.equal(kept!.value, "Cgp0ZXN0LnByb3Rv");
  }
  // Entries that are not details are skipped; a non-string message is ignored.
  error = read({ code: "aborted", message: 5, details: [null, 1, { type: 1 }, { value: "AA" }] });
  assert.deepEqual([error.code, error.message, error.details], ["aborted", "", undefined]);
});

test("encodeEndStream() writes {} for success, and the error and metadata otherwise", () => {
  assert.equal(decoder.decode(encodeEndStream(undefined, new Headers())), "{}");
  const trailers = new Headers([["x-count", "3"], ["x-tags", "a"], ["x-tags", "b"]]);
  const json = JSON.parse(
    decoder.decode(encodeEndStream(new RpcError("unavailable", "overloaded"), trailers)),
  );
  assert.deepEqual(json, {
    error: { code: "unavailable", message: "overloaded" },
    metadata: { "x-count": ["3"], "x-tags": ["a, b"] },
  });
  assert.equal(FLAG_END_STREAM, 0b10);
});

test("decodeEndStream() reads back what encodeEndStream() writes", () => {
  const end = decodeEndStream(
    encodeEndStream(new RpcError("data_loss", "disk", { details: [1] }), new Headers({ a: "1" })),
  );
  assert.equal(end.error?.code, "data_loss");
  assert.deepEqual(end.error?.details, [1]);
  assert.equal(end.error?.metadata.get("a"), "1");
  assert.equal(end.trailers.get("a"), "1");
  const ok = decodeEndStream(encodeEndStream(undefined, new Headers()));
  assert.equal(ok.error, undefined);
});

test("decodeEndStream() handles the conformance suite's end-stream cases", () => {
  // conformance: connect_client_error_endstream.yaml, "end-stream/*".
  const decode = (json: string) => decodeEndStream(utf8(json));
  assert.equal(decode('{ "error": null }').error, undefined);
  assert.equal(decode("{}").error, undefined);
  let error = decode('{"error": { "code": null, "message": "oops" }}').error!;
  assert.deepEqual([error.code, error.message], ["unknown", "oops"]);
  error = decode('{"error": { "message": "oops" }}').error!;
  assert.deepEqual([error.code, error.message], ["unknown", "oops"]);
  error = decode('{"error": { "code": "foobar", "message": "oops" }}').error!;
  assert.deepEqual([error.code, error.message], ["unknown", "oops"]);
  error = decode('{"error": { "code": "unauthenticated" }}').error!;
  assert.equal(error.code, "unauthenticated");
  error = decode(
    '{"error": {"code": "out_of_range", "message": "oops", "foobar": "baz", "details": [' +
      '{"type": "google.protobuf.FileDescriptorProto", "value": "Cgp0ZXN0LnByb3Rv",' +
      ' "frob": "nitz", "debug": {"name": "test.proto"}}]}}',
  ).error!;
  assert.equal(error.code, "out_of_range");
  assert.equal(
    (error.details as { type: string }[])[0]!.type,
    "google.protobuf.FileDescriptorProto",
  );
  // Metadata: arrays of strings; anything else is dropped.
  const end = decode(
    '{"metadata": {"acme-operation-cost": ["237"], "x-two": ["a", "b"], "bad": "x", ' +
      '"worse": [1], "in valid": ["v"]}}',
  );
  assert.equal(end.trailers.get("acme-operation-cost"), "237");
  assert.equal(end.trailers.get("x-two"), "a, b");
  assert.deepEqual([...end.trailers.keys()], ["acme-operation-cost", "x-two"]);
});

test("decodeEndStream() refuses a payload that is not a JSON object", () => {
  for (const bad of ["", "nope", "[]", "null", "1", '"x"']) {
    throwsRpc(() => decodeEndStream(utf8(bad)), "internal", /end-stream message/);
  }
  throwsRpc(() => decodeEndStream(Uint8Array.from([0xff])), "internal");
  throwsRpc(() => decodeEndStream(utf8("["), "invalid_argument"), "invalid_argument");
});

test("a compressed end-stream envelope decodes after EnvelopeReader inflates it", async () => {
  // conformance: connect_client_compressed_error_endstream.yaml "end-stream/compressed" (flags 3).
  const payload = utf8('{"error": {"code": "out_of_range", "message": "oops"}}');
  const body = encodeEnvelope(0b11, await compress(payload, GZIP));
  const reader = new EnvelopeReader(streamOf(body), {
    maxMessageBytes: 1000,
    allowedFlags: FLAG_END_STREAM,
    endFlag: FLAG_END_STREAM,
    compression: GZIP,
    malformedCode: "internal",
  });
  const envelope = await reader.next();
  assert.equal(envelope!.flags, FLAG_END_STREAM);
  const error = decodeEndStream(envelope!.data).error!;
  assert.deepEqual([error.code, error.message], ["out_of_range", "oops"]);
  assert.equal(await reader.next(), undefined);
});

test("setUnaryTrailers() and splitUnaryTrailers() move trailers through trailer- headers", () => {
  const headers = new Headers({ "content-type": "application/json" });
  setUnaryTrailers(headers, new Headers({ "acme-operation-cost": "237" }));
  assert.equal(headers.get("trailer-acme-operation-cost"), "237");
  const split = splitUnaryTrailers(headers);
  assert.deepEqual([...split.headers.keys()], ["content-type"]);
  assert.deepEqual([...split.trailers], [["acme-operation-cost", "237"]]);
  // A bare "trailer-" is not a trailer.
  assert.equal(splitUnaryTrailers(new Headers({ "trailer-": "x" })).headers.get("trailer-"), "x");
});

test("errorFromUnaryResponse() reads the error JSON, or infers the code from the status", async () => {
  const response = (status: number, body: BodyInit | null, headers: HeadersInit = {}) =>
    new Response(body, { status, headers: { "content-type": "application/json", ...headers } });
  const options = { maxBytes: 4096 };
  let error = await errorFromUnaryResponse(
    response(404, '{"code":"not_found","message":"no user"}', { "trailer-x-id": "9" }),
    options,
  );
  assert.deepEqual([error.code, error.message], ["not_found", "no user"]);
  assert.equal(error.metadata.get("x-id"), "9", "trailers land in the error's metadata");
  // conformance: connect_client_unexpected.yaml "unexpected-error-body": not JSON -> from status.
  error = await errorFromUnaryResponse(
    response(403, "\x08\x01", { "content-type": "application/proto" }),
    options,
  );
  assert.deepEqual([error.code, error.message], ["permission_denied", "HTTP 403"]);
  // conformance: connect_client_error_endstream.yaml "error/null", "error/unrecognized-code".
  assert.equal(
    (await errorFromUnaryResponse(response(401, "null"), options)).code,
    "unauthenticated",
  );
  error = await errorFromUnaryResponse(
    response(429, '{"code": "foobar", "message": "oops"}'),
    options,
  );
  assert.deepEqual([error.code, error.message], ["unavailable", "oops"]);
  // Malformed JSON, an empty body, an oversize body: the status decides.
  assert.equal((await errorFromUnaryResponse(response(502, "{oops"), options)).code, "unavailable");
  assert.equal((await errorFromUnaryResponse(response(400, null), options)).code, "internal");
  error = await errorFromUnaryResponse(
    response(500, JSON.stringify({ code: "internal", message: "x".repeat(5000) })),
    options,
  );
  assert.deepEqual([error.code, error.message], ["unknown", "HTTP 500"]);
});

test("errorFromUnaryResponse() decompresses a gzip error body", async () => {
  // conformance: connect_client_compressed_error_endstream.yaml "error/compressed".
  const json = '{"code": "out_of_range", "message": "oops", "details": [{"type": ' +
    '"google.protobuf.FileDescriptorProto", "value": "Cgp0ZXN0LnByb3Rv", "debug": {"name": "test.proto"}}]}';
  const body = await compress(utf8(json), GZIP);
  const error = await errorFromUnaryResponse(
    new Response(body as Uint8Array<ArrayBuffer>, {
      status: 422,
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
    }),
    { maxBytes: 4096 },
  );
  assert.deepEqual([error.code, error.message], ["out_of_range", "oops"]);
  assert.deepEqual(error.details, [{
    type: "google.protobuf.FileDescriptorProto",
    value: "Cgp0ZXN0LnByb3Rv",
    debug: { name: "test.proto" },
  }]);
});

test("parseGetRequest() reads a percent-encoded JSON message", () => {
  const url = new URL(
    "http://h/connectrpc.greet.v1.GreetService/Greet?encoding=json&message=%7B%22name%22%3A%22Buf%22%7D&connect=v1",
  );
  const request = parseGetRequest(url, new Headers({ "connect-timeout-ms": "50" }), {
    maxMessageBytes: 1000,
  });
  assert.equal(request.codec, "json");
  assert.equal(decoder.decode(request.message), '{"name":"Buf"}');
  assert.equal(request.timeoutMs, 50);
  assert.equal(request.compression, undefined);
  // Form encoding: + is a space; unknown parameters are allowed, in any order.
  const spaced = parseGetRequest(
    new URL("http://h/s/m?x=1&message=%22a+b%22&encoding=json"),
    new Headers(),
    { maxMessageBytes: 1000 },
  );
  assert.equal(decoder.decode(spaced.message), '"a b"');
});

test("parseGetRequest() reads a base64, compressed binary message", async () => {
  const proto = Uint8Array.from([0x0a, 0x03, 0x42, 0x75, 0x66, 0xfb, 0xff]);
  const packed = await compress(proto, GZIP);
  const url = new URL(
    `http://h/s/m?connect=v1&base64=1&compression=gzip&encoding=proto&message=${
      base64Encode(packed, { url: true, pad: false })
    }`,
  );
  const request = parseGetRequest(url, new Headers({ "accept-encoding": "gzip" }), {
    maxMessageBytes: 1000,
  });
  assert.equal(request.codec, "proto");
  assert.equal(request.compression, GZIP);
  assert.equal(request.responseCompression, GZIP);
  const message = await decompress(request.message, GZIP, { maxBytes: 100, what: "message" });
  assert.deepEqual(message, proto);
  // Padded, percent-encoded padding, and the standard alphabet are accepted too.
  const plain = parseGetRequest(
    new URL(
      `http://h/s/m?encoding=proto&base64=1&message=${encodeURIComponent(base64Encode(proto))}`,
    ),
    new Headers(),
    { maxMessageBytes: 1000 },
  );
  assert.deepEqual(plain.message, proto);
});

test("parseGetRequest() refuses what it cannot read", () => {
  const get = (query: string, options: { requireProtocolVersion?: boolean } = {}) => () =>
    parseGetRequest(new URL(`http://h/s/m?${query}`), new Headers(), {
      maxMessageBytes: 10,
      ...options,
    });
  throwsRpc(get("message=%7B%7D"), "invalid_argument", /Missing query parameter encoding/);
  throwsRpc(get("encoding=json"), "invalid_argument", /Missing query parameter message/);
  throwsRpc(get("encoding=json&message={}&connect=v2"), "invalid_argument", /must be "v1"/);
  throwsRpc(
    get("encoding=json&message={}", { requireProtocolVersion: true }),
    "invalid_argument",
    /Missing query parameter connect/,
  );
  throwsRpc(get("encoding=proto&base64=1&message=*"), "invalid_argument", /not valid base64/);
  throwsRpc(get("encoding=json&message=%zz"), "invalid_argument", /bad percent-encoding/);
  throwsRpc(get("encoding=%ff&message=1"), "invalid_argument", /not valid UTF-8/);
  throwsRpc(get("encoding=json&message=12345678901"), "resource_exhausted", /limit of 10/);
  throwsRpc(
    get("encoding=json&message=1&compression=br"),
    "unimplemented",
    /query parameter compression "br"/,
  );
  // Binary bytes without base64 are kept exactly (the codec decides what they mean).
  assert.deepEqual([...get("encoding=proto&message=%ff%00")().message], [0xff, 0]);
});

test("a Connect stream body is envelopes, then the end-stream message", async () => {
  // The shape of the spec's streaming examples, read the way a client reads it.
  const body = join(
    encodeEnvelope(0, utf8('{"greeting": "Hello, Buf and Connect!"}')),
    encodeEnvelope(FLAG_END_STREAM, encodeEndStream(undefined, new Headers())),
  );
  const reader = new EnvelopeReader(streamOf(body), {
    maxMessageBytes: 1000,
    allowedFlags: FLAG_END_STREAM,
    endFlag: FLAG_END_STREAM,
    malformedCode: "internal",
  });
  const message = await reader.next();
  assert.equal(message!.flags, 0);
  const end = await reader.next();
  assert.equal(end!.flags, FLAG_END_STREAM);
  assert.equal(decodeEndStream(end!.data).error, undefined);
});
