/**
 * The gRPC-Web wire codecs. Cases marked "conformance:" are taken from the YAML test suites of
 * connectrpc/conformance (internal/app/connectconformance/testsuites/data).
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import {
  codeFromGrpc,
  codeFromHttpStatus,
  codeToGrpc,
  contentTypeFor,
  decodeEndStream,
  decodeGrpcMessage,
  encodeEndStream,
  encodeGrpcMessage,
  FLAG_END_STREAM,
  parseContentType,
  parseHeaderBlock,
  parseRequestHeader,
  parseTimeoutHeader,
  setStatus,
  statusFromHeaders,
  timeoutHeaderValue,
} from "../../src/protocol/grpc_web/mod.ts";
import { Code, type ErrorCode } from "../../src/protocol/codes.ts";
import { compress, GZIP } from "../../src/protocol/compression.ts";
import { encodeEnvelope, EnvelopeReader } from "../../src/protocol/envelope.ts";
import { EnvelopeWriter } from "../../src/protocol/envelope_writer.ts";
import { base64DecodeStream } from "../../src/protocol/base64.ts";
import { RpcError } from "../../src/protocol/rpc_error.ts";
import { bytesOf, join, readAll, streamOf, utf8 } from "./_wire.ts";

const decoder = new TextDecoder();

function throwsRpc(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

function responseReader(body: Uint8Array, compression = undefined as typeof GZIP | undefined) {
  return new EnvelopeReader(streamOf(body), {
    maxMessageBytes: 4096,
    allowedFlags: FLAG_END_STREAM,
    endFlag: FLAG_END_STREAM,
    compression,
    malformedCode: "internal",
    what: "response body",
  });
}

test("parseContentType() reads gRPC-Web's binary and text content types", () => {
  assert.deepEqual(parseContentType("application/grpc-web"), { codec: "proto", text: false });
  assert.deepEqual(parseContentType("application/grpc-web+proto"), {
    codec: "proto",
    text: false,
  });
  assert.deepEqual(parseContentType("application/grpc-web+json; charset=utf-8"), {
    codec: "json",
    text: false,
  });
  assert.deepEqual(parseContentType("application/grpc-web-text"), { codec: "proto", text: true });
  assert.deepEqual(parseContentType("Application/GRPC-Web-Text+Proto"), {
    codec: "proto",
    text: true,
  });
  // conformance: grpc_web_server_unexpected.yaml "unexpected-codec" parses as codec "foo".
  assert.deepEqual(parseContentType("application/grpc-web+foo"), { codec: "foo", text: false });
  for (const other of [null, "application/grpc", "application/json", "application/grpc-web+"]) {
    assert.equal(parseContentType(other), undefined, String(other));
  }
  assert.equal(contentTypeFor("proto"), "application/grpc-web+proto");
  assert.equal(contentTypeFor("proto", true), "application/grpc-web-text+proto");
});

test("parseTimeoutHeader() reads grpc-timeout in every unit", () => {
  const cases: [string, number][] = [
    ["1H", 3_600_000],
    ["2M", 120_000],
    ["3S", 3_000],
    ["200m", 200],
    ["1500u", 2],
    ["1000u", 1],
    ["1n", 1],
    ["0m", 0],
    ["99999999m", 99_999_999],
  ];
  for (const [value, ms] of cases) assert.equal(parseTimeoutHeader(value), ms, value);
  assert.equal(parseTimeoutHeader(null), undefined);
  // 99999999 hours: clamped to what setTimeout can hold.
  assert.equal(parseTimeoutHeader("99999999H"), 2 ** 31 - 1);
  for (const bad of ["", "1", "m", "123456789m", "1.5S", "-1S", "1h", "1 S", "1Sx"]) {
    throwsRpc(() => parseTimeoutHeader(bad), "invalid_argument", /grpc-timeout/);
  }
});

test("timeoutHeaderValue() writes the most precise unit that fits in 8 digits", () => {
  assert.equal(timeoutHeaderValue(200), "200m");
  assert.equal(timeoutHeaderValue(0.2), "1m");
  assert.equal(timeoutHeaderValue(99_999_999), "99999999m");
  assert.equal(timeoutHeaderValue(100_000_000), "100000S");
  assert.equal(parseTimeoutHeader(timeoutHeaderValue(123_456_789_012)), 2 ** 31 - 1);
  assert.equal(timeoutHeaderValue(Number.MAX_VALUE), "99999999H");
});

test("parseRequestHeader() reads timeout and envelope compression", () => {
  assert.deepEqual(
    parseRequestHeader(
      new Headers({
        "grpc-timeout": "5S",
        "grpc-encoding": "gzip",
        "grpc-accept-encoding": "gzip",
      }),
    ),
    { timeoutMs: 5000, compression: GZIP, responseCompression: GZIP },
  );
  assert.deepEqual(parseRequestHeader(new Headers({ "grpc-encoding": "identity" })), {
    timeoutMs: undefined,
    compression: undefined,
    responseCompression: undefined,
  });
  // conformance: grpc_web_server_unexpected.yaml "unexpected-compression" -> unimplemented.
  throwsRpc(
    () => parseRequestHeader(new Headers({ "grpc-encoding": "foo" })),
    "unimplemented",
    /Unsupported grpc-encoding "foo": supported encodings are gzip, identity/,
  );
});

test("codeToGrpc() and codeFromGrpc() use gRPC's code numbers", () => {
  const numbers: Record<string, number> = {
    ok: 0,
    cancelled: 1,
    unknown: 2,
    invalid_argument: 3,
    deadline_exceeded: 4,
    not_found: 5,
    already_exists: 6,
    permission_denied: 7,
    resource_exhausted: 8,
    failed_precondition: 9,
    aborted: 10,
    out_of_range: 11,
    unimplemented: 12,
    internal: 13,
    unavailable: 14,
    data_loss: 15,
    unauthenticated: 16,
  };
  for (const code of Object.values(Code)) {
    assert.equal(codeToGrpc(code), numbers[code], code);
    assert.equal(codeFromGrpc(numbers[code]!), code);
  }
  for (const other of [-1, 17, 1.5, NaN]) assert.equal(codeFromGrpc(other), undefined);
  assert.equal(codeFromHttpStatus(404), "unimplemented");
  assert.equal(codeFromHttpStatus(200), "unknown");
});

test("encodeGrpcMessage() percent-encodes, and decodeGrpcMessage() never fails", () => {
  assert.equal(encodeGrpcMessage("plain text: ok"), "plain text: ok");
  assert.equal(encodeGrpcMessage("100% é\n"), "100%25 %C3%A9%0A");
  for (const message of ["", "100% é\n", "✓ done", "tab\there", "%%%"]) {
    assert.equal(decodeGrpcMessage(encodeGrpcMessage(message)), message);
  }
  // Invalid sequences are kept; invalid UTF-8 becomes U+FFFD; raw UTF-8 bytes are understood.
  assert.equal(decodeGrpcMessage("50%"), "50%");
  assert.equal(decodeGrpcMessage("%zz%4"), "%zz%4");
  assert.equal(decodeGrpcMessage("%FF"), "\uFFFD");
  assert.equal(decodeGrpcMessage("caf\u00c3\u00a9"), "café");
});

test("setStatus() and statusFromHeaders() round-trip a status, details included", () => {
  const ok = setStatus(new Headers(), undefined);
  assert.deepEqual([...ok], [["grpc-status", "0"]]);
  assert.deepEqual(statusFromHeaders(ok), {
    found: true,
    error: undefined,
    trailers: new Headers(),
  });

  const headers = setStatus(
    new Headers({ "x-custom": "1" }),
    new RpcError("resource_exhausted", "slow down: 100%", { details: { retry_ms: 30 } }),
  );
  assert.equal(headers.get("grpc-status"), "8");
  assert.equal(headers.get("grpc-message"), "slow down: 100%25");
  assert.ok(headers.has("grpc-status-details-bin"));
  assert.ok(!headers.get("grpc-status-details-bin")!.includes("="), "unpadded base64");
  const status = statusFromHeaders(headers);
  assert.equal(status.found, true);
  assert.equal(status.error?.code, "resource_exhausted");
  assert.equal(status.error?.message, "slow down: 100%");
  assert.deepEqual(status.error?.details, { retry_ms: 30 });
  assert.deepEqual([...status.trailers], [["x-custom", "1"]]);
});

test("statusFromHeaders() copes with missing, invalid and undecodable entries", () => {
  assert.equal(statusFromHeaders(new Headers({ "grpc-message": "error" })).found, false);
  for (const bad of ["x", "17", "-1", "1.0", "999"]) {
    const { error } = statusFromHeaders(new Headers({ "grpc-status": bad }));
    assert.equal(error?.code, "unknown", bad);
    assert.match(error!.message, /invalid grpc-status/);
  }
  const { error } = statusFromHeaders(
    new Headers({ "grpc-status": "9", "grpc-message": "x", "grpc-status-details-bin": "***" }),
  );
  assert.deepEqual([error?.code, error?.message, error?.details], [
    "failed_precondition",
    "x",
    undefined,
  ]);
});

test("encodeEndStream() writes the trailers frame as a header block", () => {
  const block = decoder.decode(
    encodeEndStream(new RpcError("failed_precondition", "error"), new Headers({ "x-t": "bing" })),
  );
  assert.equal(block, "grpc-message: error\r\ngrpc-status: 9\r\nx-t: bing\r\n");
  assert.equal(decoder.decode(encodeEndStream(undefined, new Headers())), "grpc-status: 0\r\n");
  // A trailer cannot fake the status.
  const faked = decodeEndStream(
    encodeEndStream(undefined, new Headers({ "grpc-status": "13", "grpc-message": "fake" })),
  );
  assert.equal(faked.error, undefined);
  assert.equal(FLAG_END_STREAM, 0x80);
});

test("decodeEndStream() handles the conformance suite's trailer cases", () => {
  // conformance: grpc_web_client_trailers.yaml "*/trailers-in-body/*".
  for (
    const text of [
      "grpc-status: 9\r\ngrpc-message: error\r\nx-custom-trailer: bing\r\n",
      "Grpc-Status: 9\r\ngRPC-Message: error\r\nx-Custom-Trailer: bing\r\n",
    ]
  ) {
    const end = decodeEndStream(utf8(text));
    assert.deepEqual([end.error?.code, end.error?.message], ["failed_precondition", "error"]);
    assert.deepEqual([...end.trailers], [["x-custom-trailer", "bing"]]);
  }
  const duplicate = decodeEndStream(
    utf8(
      "grpc-status: 9\r\ngrpc-message: error\r\nx-custom-trailer: bing\r\nx-custom-trailer: quuz\r\n",
    ),
  );
  assert.equal(duplicate.trailers.get("x-custom-trailer"), "bing, quuz");
  // conformance: grpc_web_client_unexpected.yaml "trailers-in-body/missing-status" -> unknown.
  const missing = decodeEndStream(utf8("grpc-message: error\r\n"));
  assert.equal(missing.error?.code, "unknown");
  assert.equal(decodeEndStream(utf8("grpc-status: 0\r\n")).error, undefined);
  // LF-only lines, junk lines and invalid names are tolerated.
  const sloppy = parseHeaderBlock(utf8("a: 1\nno colon\n: empty name\nbad name: x\r\nb:2"));
  assert.deepEqual([...sloppy], [["a", "1"], ["b", "2"]]);
});

test("a gRPC-Web response body is envelopes, then the trailers frame", async () => {
  const body = join(
    encodeEnvelope(0, Uint8Array.from([8, 1])),
    encodeEnvelope(FLAG_END_STREAM, encodeEndStream(undefined, new Headers({ "x-n": "1" }))),
  );
  const [message, trailers] = await readAll(responseReader(body));
  assert.deepEqual([...message!.data], [8, 1]);
  assert.equal(trailers!.flags, FLAG_END_STREAM);
  const end = decodeEndStream(trailers!.data);
  assert.equal(end.error, undefined);
  assert.equal(end.trailers.get("x-n"), "1");
});

test("a compressed trailers frame decodes after EnvelopeReader inflates it", async () => {
  // conformance: grpc_web_client_compressed_trailers.yaml (flags 129).
  const packed = await compress(
    utf8("grpc-status: 9\r\ngrpc-message: error\r\nx-custom-trailer: bing\r\n"),
    GZIP,
  );
  const [trailers] = await readAll(responseReader(encodeEnvelope(0x81, packed), GZIP));
  const end = decodeEndStream(trailers!.data);
  assert.deepEqual([end.error?.code, end.error?.message], ["failed_precondition", "error"]);
  assert.equal(end.trailers.get("x-custom-trailer"), "bing");
});

test("a compressed envelope under grpc-encoding identity is internal", async () => {
  // conformance: grpc_web_server_unexpected.yaml / grpc_web_client_unexpected.yaml
  // "unexpected-compressed-message".
  const error = await responseReader(encodeEnvelope(1, utf8("x"))).next().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(RpcError.is(error));
  assert.equal(error.code, "internal");
});

test("a grpc-web-text body round-trips through EnvelopeWriter and base64DecodeStream", async () => {
  const writer = new EnvelopeWriter({ base64: true });
  writer.write(Uint8Array.from([10, 3, 97, 98, 99]));
  writer.write(encodeEndStream(new RpcError("not_found", "gone"), new Headers()), FLAG_END_STREAM);
  writer.close();
  const text = await bytesOf(writer.readable);
  assert.match(decoder.decode(text), /^[A-Za-z0-9+/=]+$/);
  const reader = new EnvelopeReader(streamOf(text).pipeThrough(base64DecodeStream("body")), {
    maxMessageBytes: 1000,
    allowedFlags: FLAG_END_STREAM,
    endFlag: FLAG_END_STREAM,
  });
  const [message, end] = await readAll(reader);
  assert.deepEqual([...message!.data], [10, 3, 97, 98, 99]);
  assert.equal(decodeEndStream(end!.data).error?.code, "not_found");
});
