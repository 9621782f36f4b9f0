import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import {
  decodeStatus,
  decodeValue,
  detailsFromWire,
  detailsToWire,
  encodeStatus,
  encodeValue,
  VALUE_TYPE,
} from "../../src/protocol/error_details.ts";
import { base64Decode, base64DecodeStream, base64Encode } from "../../src/protocol/base64.ts";
import { RpcError } from "../../src/protocol/rpc_error.ts";
import { bytesOf, streamOf, utf8 } from "./_wire.ts";

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");

test("encodeValue() writes google.protobuf.Value in protobuf's binary format", () => {
  // Hand-assembled from descriptor.proto / struct.proto field numbers and wire types.
  assert.equal(hex(encodeValue(null)), "08 00");
  assert.equal(hex(encodeValue(1)), "11 00 00 00 00 00 00 f0 3f");
  assert.equal(hex(encodeValue("hi")), "1a 02 68 69");
  assert.equal(hex(encodeValue(true)), "20 01");
  assert.equal(hex(encodeValue(false)), "20 00");
  // {"a": true}: struct_value(5) { fields(1) { key(1) "a", value(2) { bool_value(4) 1 } } }
  assert.equal(hex(encodeValue({ a: true })), "2a 09 0a 07 0a 01 61 12 02 20 01");
  // [1]: list_value(6) { values(1) { number_value(2) 1.0 } }
  assert.equal(hex(encodeValue([1])), "32 0b 0a 09 11 00 00 00 00 00 00 f0 3f");
});

test("decodeValue() reads back what encodeValue() writes", () => {
  const values = [
    null,
    0,
    -1.5,
    "é ✓",
    true,
    [],
    {},
    { user_id: 7, tags: ["a", "b"], nested: { deep: [null, false, { x: "" }] } },
    { __proto__: "kept as a key" },
  ];
  for (const value of values) {
    const decoded = decodeValue(encodeValue(value));
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, value);
  }
  const tricky = decodeValue(encodeValue(JSON.parse('{"__proto__": 1}')));
  assert.ok(tricky.ok);
  assert.equal(Object.getPrototypeOf(tricky.value), Object.prototype);
  assert.deepEqual(Object.keys(tricky.value as object), ["__proto__"]);
});

test("decodeValue() refuses malformed input instead of throwing", () => {
  const cases = [
    [0x1a, 0x05, 0x68], // string runs past the end
    [0x1a, 0x02, 0xff, 0xfe], // not UTF-8
    [0x11, 0x00], // truncated double
    [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // 11-byte varint
    [0x1f], // wire type 7
    [0x18, 0x01], // string field with varint wire type
    [0x00], // field 0
  ];
  for (const bytes of cases) {
    assert.deepEqual(
      decodeValue(Uint8Array.from(bytes)),
      { ok: false },
      hex(Uint8Array.from(bytes)),
    );
  }
  // Deep nesting is refused rather than recursed into.
  let deep = encodeValue(null);
  for (let i = 0; i < 200; i++) {
    const list = [0x0a, ...varint(deep.length), ...deep];
    deep = Uint8Array.from([0x32, ...varint(list.length), ...list]);
  }
  assert.deepEqual(decodeValue(deep), { ok: false });
  // Unknown fields are skipped.
  assert.deepEqual(decodeValue(Uint8Array.from([0x48, 0x05, 0x1a, 0x01, 0x78])), {
    ok: true,
    value: "x",
  });
});

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

test("detailsToWire() and detailsFromWire() carry JSON details as one google.protobuf.Value", () => {
  assert.deepEqual(detailsToWire(undefined), []);
  const [detail, ...rest] = detailsToWire({ user_id: 7, when: new Date(0) });
  assert.equal(rest.length, 0);
  assert.equal(detail!.type, VALUE_TYPE);
  // Serialised as JSON would be (the Date becomes its ISO string).
  assert.deepEqual(detail!.debug, { user_id: 7, when: "1970-01-01T00:00:00.000Z" });
  assert.deepEqual(detailsFromWire([detail!]), { user_id: 7, when: "1970-01-01T00:00:00.000Z" });
  // Not representable in JSON: no details rather than a throw.
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.deepEqual(detailsToWire(cyclic), []);
  assert.deepEqual(detailsToWire(() => 1), []);
  // Other details are kept as they came, base64 without padding.
  assert.deepEqual(
    detailsFromWire([{ type: "google.rpc.RetryInfo", value: Uint8Array.from([10, 2, 8, 60]) }]),
    [{ type: "google.rpc.RetryInfo", value: "CgIIPA" }],
  );
  assert.equal(detailsFromWire([]), undefined);
});

test("encodeStatus() and decodeStatus() round-trip a google.rpc.Status", () => {
  const details = detailsToWire({ reason: "quota" });
  const bytes = encodeStatus({ code: 8, message: "slow down ✋", details });
  const status = decodeStatus(bytes);
  assert.equal(status?.code, 8);
  assert.equal(status?.message, "slow down ✋");
  assert.deepEqual(detailsFromWire(status!.details), { reason: "quota" });
  assert.deepEqual(decodeStatus(new Uint8Array()), { code: 0, message: "", details: [] });
  assert.equal(decodeStatus(Uint8Array.from([0x12, 0x09, 0x61])), undefined);
});

test("base64Encode() and base64Decode() accept both alphabets, with or without padding", () => {
  const bytes = Uint8Array.from([0xfb, 0xff, 0xfe, 0x01]);
  assert.equal(base64Encode(bytes), "+//+AQ==");
  assert.equal(base64Encode(bytes, { url: true, pad: false }), "-__-AQ");
  for (const text of ["+//+AQ==", "+//+AQ", "-__-AQ", "-__-AQ==", " // AQ"]) {
    assert.deepEqual(base64Decode(text, "value"), bytes, text);
  }
  assert.throws(() => base64Decode("a*b", "detail"), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, "invalid_argument");
    assert.equal(error.message, "The detail is not valid base64");
    return true;
  });
  assert.throws(
    () => base64Decode("A", "x", "internal"),
    (e: unknown) => (e as RpcError).code === "internal",
  );
});

test("base64DecodeStream() decodes across chunk boundaries and mid-stream padding", async () => {
  const decode = async (
    ...chunks: string[]
  ) => [...await bytesOf(streamOf(...chunks).pipeThrough(base64DecodeStream("body")))];
  assert.deepEqual(await decode("AAE", "CAw", "=="), [0, 1, 2, 3]);
  // Two separately padded blocks, a line break, and an unpadded tail.
  assert.deepEqual(await decode("AA==AAE=\r\nAAEC", "AQ"), [0, 0, 1, 0, 1, 2, 1]);
  assert.deepEqual(await decode(""), []);
  for (const bad of [["AA*A"], ["A"], ["AA=A"], ["A==="]]) {
    const error = await bytesOf(streamOf(...bad).pipeThrough(base64DecodeStream("body"))).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(RpcError.is(error), `${bad}: ${String(error)}`);
    assert.equal(error.code, "invalid_argument");
    assert.equal(error.message, "The body is not valid base64");
  }
  assert.deepEqual(await decode(base64Encode(utf8("hello world"))), [...utf8("hello world")]);
});
