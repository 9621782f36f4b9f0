/**
 * Random hostile input for the Connect and gRPC-Web codecs, from fixed seeds so a failure can be
 * replayed: every envelope stream and every header, query or trailer block either decodes or
 * fails with an RpcError, in time, also through the server's envelope source and the protobuf
 * codecs. Nothing throws anything else, nothing hangs, and nothing decoded is larger than the
 * limit.
 */
import assert from "node:assert/strict";
import { test, within } from "../_harness.ts";
import { base64DecodeStream } from "../../src/protocol/base64.ts";
import { compress, type Compression, GZIP } from "../../src/protocol/compression.ts";
import { encodeEnvelope, EnvelopeReader } from "../../src/protocol/envelope.ts";
import { envelopeMessages } from "../../src/protocol/envelope_source.ts";
import { decodeStatus, decodeValue } from "../../src/protocol/error_details.ts";
import { RpcError } from "../../src/protocol/rpc_error.ts";
import * as connect from "../../src/protocol/connect/mod.ts";
import * as grpcWeb from "../../src/protocol/grpc_web/mod.ts";
import { join, random, split, streamOf, utf8 } from "./_wire.ts";
import { fixtureServices } from "../_fixtures.ts";
import { createProtoCodecs } from "../../src/protobuf/mod.ts";
import { envelopeSource } from "../../src/connect/sources.ts";
import { wireCodec } from "../../src/connect/wire_codec.ts";

type Next = () => number;
const pick = <T>(next: Next, items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
const int = (next: Next, max: number) => Math.floor(next() * (max + 1));

function bytes(next: Next, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => int(next, 255));
}

/** A valid-looking body of envelopes, then damaged in one of several ways. */
function envelopeBody(next: Next, packed: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = int(next, 4); i > 0; i--) {
    const kind = int(next, 6);
    if (kind === 0) parts.push(encodeEnvelope(1, packed)); // compressed, real gzip
    else if (kind === 1) parts.push(encodeEnvelope(1, bytes(next, int(next, 30)))); // bad gzip
    else if (kind === 2) {
      parts.push(encodeEnvelope(pick(next, [2, 0x80, 3, 0x81, 0x40]), utf8("{}")));
    } else if (kind === 3) {
      parts.push(encodeEnvelope(0, bytes(next, int(next, 300)))); // any size
    } else parts.push(encodeEnvelope(0, utf8(JSON.stringify({ n: int(next, 1e6) }))));
  }
  let body = join(...parts);
  switch (int(next, 6)) {
    case 0: // cut anywhere
      return body.subarray(0, int(next, body.length));
    case 1: // bytes flipped
      body = body.slice();
      for (let i = int(next, 3); i >= 0 && body.length > 0; i--) {
        body[int(next, body.length - 1)] = int(next, 255);
      }
      return body;
    case 2: // a huge declared length
      return join(body, Uint8Array.from([0, 0xff, 0xff, 0xff, int(next, 255)]), bytes(next, 20));
    case 3: // random noise
      return bytes(next, int(next, 64));
    case 4: // junk appended
      return join(body, bytes(next, int(next, 8)));
    default:
      return body;
  }
}

function typed(error: unknown, what: string): RpcError {
  assert.ok(RpcError.is(error), `${what}: expected an RpcError, got ${String(error)}`);
  return error;
}

test("fuzz: random envelope streams decode or fail with an RpcError, in time", async () => {
  const next = random(20261203);
  const packed = await compress(utf8(JSON.stringify({ text: "z".repeat(3000) })), GZIP);
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    const body = envelopeBody(next, packed);
    const text = next() < 0.15;
    const cuts = Array.from({ length: int(next, 4) }, () => int(next, body.length)).sort((a, b) =>
      a - b
    );
    const wire = text ? utf8(body.toBase64()) : body;
    let stream = streamOf(...split(wire, cuts.filter((c) => c <= wire.length)));
    if (text) stream = stream.pipeThrough(base64DecodeStream("body"));
    const allowed = pick(next, [0, 2, 0x80]);
    const maxMessageBytes = pick(next, [16, 256, 4096]);
    const reader = new EnvelopeReader(stream, {
      maxMessageBytes,
      allowedFlags: allowed,
      endFlag: next() < 0.5 ? allowed : 0,
      compression: next() < 0.5 ? GZIP : undefined as Compression | undefined,
      malformedCode: pick(next, ["invalid_argument", "internal"] as const),
    });
    try {
      // Each envelope is checked as it comes, also when the stream fails later.
      await within(
        (async () => {
          for (let e = await reader.next(); e !== undefined; e = await reader.next()) {
            assert.ok(e.data.length <= maxMessageBytes, `stream ${i}: oversize envelope`);
            assert.equal(e.flags & ~allowed, 0, `stream ${i}: flags ${e.flags}`);
          }
        })(),
        2000,
        `stream ${i}`,
      );
      outcomes.set("ok", (outcomes.get("ok") ?? 0) + 1);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      const code = typed(error, `stream ${i}`).code;
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
    }
  }
  // The input reached every kind of answer.
  for (const kind of ["ok", "invalid_argument", "internal", "resource_exhausted"]) {
    assert.ok(outcomes.has(kind), `no stream ended ${kind}: ${JSON.stringify([...outcomes])}`);
  }
});

test("fuzz: envelopeMessages() with a JSON codec gives messages or RpcErrors", async () => {
  const next = random(7);
  const packed = await compress(utf8('{"ok":true}'), GZIP);
  const parse = (data: Uint8Array) => JSON.parse(new TextDecoder().decode(data));
  for (let i = 0; i < 200; i++) {
    const body = envelopeBody(next, packed);
    const reader = new EnvelopeReader(streamOf(body), { maxMessageBytes: 64, compression: GZIP });
    const messages = envelopeMessages(reader, parse, { single: next() < 0.5 });
    try {
      await within(
        (async () => {
          for (let r = await messages.next(); !r.done; r = await messages.next()) { /* drain */ }
        })(),
        2000,
        `body ${i}`,
      );
    } catch (error) {
      typed(error, `body ${i}`);
    }
  }
});

test("fuzz: the server's envelope source with the protobuf codecs gives messages or RpcErrors", async () => {
  const next = random(11);
  const codecs = createProtoCodecs(fixtureServices().services);
  const methods = codecs.methods;
  const packed = await compress(utf8('{"value": 2}'), GZIP);
  for (let i = 0; i < 300; i++) {
    const method = pick(next, methods);
    const codec = wireCodec(method, pick(next, ["proto", "json"]))!;
    // Real messages of the method, damaged like everything else.
    const real = next() < 0.5
      ? method.input.encodeBinary(method.input.decodeJson({}))
      : utf8(JSON.stringify({ userId: int(next, 9) }));
    const body = next() < 0.5
      ? envelopeBody(next, packed)
      : join(encodeEnvelope(0, real), bytes(next, int(next, 6)));
    const source = envelopeSource(streamOf(body), codec, {
      maxMessageBytes: pick(next, [16, 1024]),
      compression: next() < 0.5 ? GZIP : undefined,
      single: next() < 0.5,
    });
    try {
      await within(
        (async () => {
          for (let r = await source.next(); !r.done; r = await source.next()) { /* drain */ }
        })(),
        2000,
        `body ${i} for ${method.path}`,
      );
    } catch (error) {
      typed(error, `body ${i} for ${method.path}`);
    }
  }
});

const HEADER_VALUES = [
  "",
  "1",
  "2",
  "0",
  "gzip",
  "GZIP",
  "identity",
  "br",
  "gzip;q=0",
  "br, gzip",
  "gzip, identity;q=0.5",
  "9999999999",
  "99999999999",
  "2147483648",
  "-1",
  "1e3",
  "1.5",
  "200m",
  "1H",
  "99999999H",
  "5 S",
  "application/json",
  "application/connect+proto",
  "application/grpc-web-text+json",
  "application/grpc-web+",
  "%zz",
  "%C3%A9",
  "\u00ff\u00fe",
];

function headerValue(next: Next): string {
  if (next() < 0.7) return pick(next, HEADER_VALUES);
  const length = next() < 0.1 ? 5000 : int(next, 40);
  return Array.from(
    { length },
    () =>
      String.fromCharCode(
        pick(next, [32, 33, 126, 255]) === 255 ? 0x80 + int(next, 0x7f) : 32 + int(next, 94),
      ),
  ).join("");
}

const NAMES = [
  "content-type",
  "content-encoding",
  "accept-encoding",
  "connect-protocol-version",
  "connect-timeout-ms",
  "connect-content-encoding",
  "connect-accept-encoding",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
  "trailer-x",
  "x-custom",
];

/** Runs a synchronous decoder: it may return anything or throw an RpcError, nothing else. */
function safely(what: string, fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    typed(error, what);
  }
}

test("fuzz: random request headers parse or fail with an RpcError", () => {
  const next = random(99);
  for (let i = 0; i < 1500; i++) {
    const headers = new Headers();
    for (let n = int(next, 6); n > 0; n--) {
      try {
        headers.set(pick(next, NAMES), headerValue(next));
      } catch {
        // Not a valid header value: the runtime would never hand it to us.
      }
    }
    const what = `headers ${i}: ${JSON.stringify([...headers])}`;
    // Content types never throw: they parse or are not ours.
    connect.parseContentType(headers.get("content-type"));
    grpcWeb.parseContentType(headers.get("content-type"));
    safely(what, () => connect.parseRequestHeader(headers, { streaming: next() < 0.5 }));
    safely(what, () => grpcWeb.parseRequestHeader(headers));
    const status = grpcWeb.statusFromHeaders(headers);
    if (status.error) assert.ok(RpcError.is(status.error));
    grpcWeb.decodeGrpcMessage(headers.get("grpc-message") ?? "");
    connect.splitUnaryTrailers(headers);
    const timeout = (() => {
      try {
        return grpcWeb.parseTimeoutHeader(headers.get("grpc-timeout"));
      } catch (error) {
        typed(error, what);
        return undefined;
      }
    })();
    if (timeout !== undefined) {
      assert.ok(Number.isInteger(timeout) && timeout >= 0 && timeout <= 2 ** 31 - 1, what);
    }
  }
});

test("fuzz: random GET queries parse or fail with an RpcError", () => {
  const next = random(1234);
  const keys = ["connect", "encoding", "message", "base64", "compression", "x"];
  const values = [
    "v1",
    "v2",
    "json",
    "proto",
    "1",
    "0",
    "gzip",
    "br",
    "%7B%7D",
    "%zz",
    "%",
    "+",
    "AAE",
    "-_",
    "%FF",
  ];
  for (let i = 0; i < 1000; i++) {
    const query = Array.from({ length: int(next, 6) }, () => {
      const key = pick(next, keys);
      return next() < 0.1 ? key : `${key}=${next() < 0.8 ? pick(next, values) : headerValue(next)}`;
    }).join(next() < 0.9 ? "&" : "&&");
    let url: URL;
    try {
      url = new URL(`http://h/s/m?${query}`);
    } catch {
      continue;
    }
    safely(
      `query ${query}`,
      () => connect.parseGetRequest(url, new Headers(), { maxMessageBytes: 64 }),
    );
  }
});

test("fuzz: random end-stream payloads, trailer blocks and details never crash a reader", () => {
  const next = random(555);
  const jsonish = [
    "{}",
    '{"error":null}',
    '{"error":{"code":"unavailable"}}',
    '{"error":{"code":5}}',
    '{"error":[]}',
    '{"metadata":{"a":["1"],"b":"x","c":[1,null]}}',
    '{"error":{"code":"not_found","details":[{"type":"t","value":"***"},{"type":"t","value":"AA"}]}}',
    "[",
    "null",
    '"x"',
  ];
  for (let i = 0; i < 1500; i++) {
    let data: Uint8Array;
    if (next() < 0.5) {
      const base = pick(next, jsonish);
      const at = int(next, base.length);
      data = utf8(next() < 0.5 ? base : base.slice(0, at) + headerValue(next) + base.slice(at));
    } else {
      data = bytes(next, int(next, 80));
    }
    safely(`end-stream ${i}`, () => connect.decodeEndStream(data));
    const trailers = grpcWeb.decodeEndStream(data);
    if (trailers.error) assert.ok(RpcError.is(trailers.error));
    grpcWeb.parseHeaderBlock(data);
    assert.ok(typeof decodeValue(data).ok === "boolean");
    decodeStatus(data);
    let json: unknown = undefined;
    try {
      json = JSON.parse(new TextDecoder().decode(data));
    } catch {
      // not JSON
    }
    assert.ok(RpcError.is(connect.errorFromJson(json, { fallback: "unknown" })));
  }
});

test("fuzz: random unary error responses always become an RpcError", async () => {
  const next = random(31337);
  const packed = await compress(utf8('{"code":"aborted","message":"x"}'), GZIP);
  for (let i = 0; i < 150; i++) {
    const headers = new Headers();
    if (next() < 0.8) {
      headers.set(
        "content-type",
        pick(next, ["application/json", "application/proto", "text/html"]),
      );
    }
    if (next() < 0.3) headers.set("content-encoding", pick(next, ["gzip", "br", "identity"]));
    if (next() < 0.3) headers.set("trailer-x-y", "z");
    const body = next() < 0.3
      ? packed
      : next() < 0.5
      ? bytes(next, int(next, 100))
      : utf8(pick(next, ['{"code":"not_found"}', "null", "{", '{"code":1}']));
    const response = new Response(body as Uint8Array<ArrayBuffer>, {
      status: pick(next, [400, 401, 403, 404, 429, 500, 502, 503, 504, 418]),
      headers,
    });
    const error = await within(
      connect.errorFromUnaryResponse(response, { maxBytes: 64 }),
      2000,
      `response ${i}`,
    );
    assert.ok(RpcError.is(error), `response ${i}`);
  }
});
