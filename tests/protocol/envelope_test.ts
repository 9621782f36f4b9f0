import assert from "node:assert/strict";
import { rejection, test, within } from "../_harness.ts";
import {
  encodeEnvelope,
  EnvelopeReader,
  type EnvelopeReaderOptions,
  FLAG_COMPRESSED,
} from "../../src/protocol/envelope.ts";
import { EnvelopeWriter } from "../../src/protocol/envelope_writer.ts";
import { envelopeMessages } from "../../src/protocol/envelope_source.ts";
import { compress, GZIP } from "../../src/protocol/compression.ts";
import { base64DecodeStream } from "../../src/protocol/base64.ts";
import { RpcError } from "../../src/protocol/rpc_error.ts";
import { bytesOf, join, manualStream, readAll, split, streamOf, utf8 } from "./_wire.ts";

const decoder = new TextDecoder();
const text = (bytes: Uint8Array) => decoder.decode(bytes);

function reader(
  stream: ReadableStream<Uint8Array>,
  options: Partial<EnvelopeReaderOptions> = {},
): EnvelopeReader {
  return new EnvelopeReader(stream, { maxMessageBytes: 1024, ...options });
}

async function rpcRejection(promise: Promise<unknown>): Promise<RpcError> {
  const error = await rejection(promise);
  assert.ok(RpcError.is(error), `expected an RpcError, got ${String(error)}`);
  return error;
}

test("encodeEnvelope() writes the flags byte and a big-endian length", () => {
  assert.deepEqual(
    [...encodeEnvelope(2, utf8("{}"))],
    [2, 0, 0, 0, 2, 0x7b, 0x7d],
  );
  const big = encodeEnvelope(0, new Uint8Array(0x01_02_03));
  assert.deepEqual([...big.subarray(0, 5)], [0, 0, 1, 2, 3]);
  assert.throws(() => encodeEnvelope(256, new Uint8Array()), RangeError);
  assert.throws(() => encodeEnvelope(-1, new Uint8Array()), RangeError);
});

test("EnvelopeReader reads envelopes split at every possible byte boundary", async () => {
  const body = join(
    encodeEnvelope(0, utf8('{"a":1}')),
    encodeEnvelope(0, new Uint8Array()),
    encodeEnvelope(0, utf8('"é"')),
  );
  for (let a = 0; a <= body.length; a++) {
    for (let b = a; b <= body.length; b += 3) {
      const envelopes = await readAll(reader(streamOf(...split(body, [a, b]))));
      assert.deepEqual(
        envelopes.map((e) => [e.flags, text(e.data)]),
        [[0, '{"a":1}'], [0, ""], [0, '"é"']],
        `cuts at ${a}, ${b}`,
      );
    }
  }
});

test("EnvelopeReader hands out a message before the body ends", async () => {
  const input = manualStream();
  const envelopes = reader(input.stream);
  const two = encodeEnvelope(0, utf8("two"));
  input.push(join(encodeEnvelope(0, utf8("one")), two.subarray(0, 7)));
  const first = await within(envelopes.next(), 1000, "the first envelope");
  assert.equal(text(first!.data), "one");
  // The second message is incomplete: next() waits for the rest of it.
  const second = envelopes.next();
  input.push(two.subarray(7));
  assert.equal(text((await within(second, 1000, "the second envelope"))!.data), "two");
  const end = envelopes.next();
  input.end();
  assert.equal(await within(end, 1000, "the end"), undefined);
});

test("EnvelopeReader keeps its data when the runtime reuses a chunk's memory", async () => {
  // A source that overwrites the chunk it handed out once read() is called again: a message
  // that spans two chunks must still come out intact.
  const scratch = new Uint8Array(8);
  const parts = [encodeEnvelope(0, utf8("abcdef")).subarray(0, 6), utf8("bcdef")];
  let index = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (index === parts.length) return controller.close();
      const part = parts[index++]!;
      scratch.fill(0x21);
      scratch.set(part);
      controller.enqueue(scratch.subarray(0, part.length));
    },
  }, { highWaterMark: 0 });
  const [envelope] = await readAll(reader(stream));
  assert.equal(text(envelope!.data), "abcdef");
});

test("EnvelopeReader refuses a declared length over the limit before buffering the message", async () => {
  const input = manualStream();
  const envelopes = reader(input.stream, { maxMessageBytes: 100 });
  // Only the prefix arrives: the error must not wait for the 101 bytes it announces.
  input.push(encodeEnvelope(0, new Uint8Array(101)).subarray(0, 5));
  const error = await within(rpcRejection(envelopes.next()), 1000, "the oversize error");
  assert.equal(error.code, "resource_exhausted");
  assert.match(error.message, /Message 0 in request body is 101 bytes, over the limit of 100/);
  assert.deepEqual(error.details, { limit: 100, size: 101 });
  assert.ok(RpcError.is(await within(input.cancelled, 1000, "the cancel")), "stream cancelled");
  // The error sticks.
  assert.equal((await rpcRejection(envelopes.next())).code, "resource_exhausted");
});

test("EnvelopeReader accepts a message exactly at the limit", async () => {
  const [envelope] = await readAll(
    reader(streamOf(encodeEnvelope(0, new Uint8Array(100))), { maxMessageBytes: 100 }),
  );
  assert.equal(envelope!.data.length, 100);
});

test("EnvelopeReader rejects a body that ends inside a prefix", async () => {
  const body = join(encodeEnvelope(0, utf8("ok")), new Uint8Array([0, 0, 0]));
  const envelopes = reader(streamOf(body));
  assert.equal(text((await envelopes.next())!.data), "ok");
  const error = await rpcRejection(envelopes.next());
  assert.equal(error.code, "invalid_argument");
  assert.match(error.message, /request body ends inside an envelope prefix: 3 of 5 bytes/);
});

test("EnvelopeReader rejects a length prefix larger than the rest of the body", async () => {
  const body = encodeEnvelope(0, utf8("0123456789")).subarray(0, 9);
  const error = await rpcRejection(reader(streamOf(body)).next());
  assert.equal(error.code, "invalid_argument");
  assert.match(error.message, /ends inside message 0: its envelope declares 10 bytes, 4 arrived/);
});

test("EnvelopeReader uses the malformed code it is given (internal for a client)", async () => {
  const error = await rpcRejection(
    reader(streamOf(new Uint8Array([0, 0])), { malformedCode: "internal", what: "response body" })
      .next(),
  );
  assert.equal(error.code, "internal");
  assert.match(error.message, /response body ends inside an envelope prefix/);
});

test("EnvelopeReader rejects flag bits the protocol does not allow", async () => {
  // Connect's end-stream bit in a request.
  const error = await rpcRejection(reader(streamOf(encodeEnvelope(0b10, utf8("{}")))).next());
  assert.equal(error.code, "invalid_argument");
  assert.match(
    error.message,
    /Envelope 0 in request body has unknown flags 0x02 \(allowed: 0x01\)/,
  );
  // The same bit is fine where it is allowed.
  const [end] = await readAll(
    reader(streamOf(encodeEnvelope(0b10, utf8("{}"))), { allowedFlags: 0b10 }),
  );
  assert.equal(end!.flags, 0b10);
  // gRPC-Web's trailers bit is not Connect's.
  const other = await rpcRejection(
    reader(streamOf(encodeEnvelope(0x80, utf8(""))), { allowedFlags: 0b10 }).next(),
  );
  assert.match(other.message, /unknown flags 0x80 \(allowed: 0x03\)/);
});

test("EnvelopeReader rejects a compressed envelope when no compression was negotiated", async () => {
  // conformance: connect_server_unexpected.yaml "unexpected-compressed-message" -> internal.
  const error = await rpcRejection(
    reader(streamOf(encodeEnvelope(FLAG_COMPRESSED, utf8("x")))).next(),
  );
  assert.equal(error.code, "internal");
  assert.match(error.message, /marked compressed, but no compression was negotiated/);
});

test("EnvelopeReader decompresses compressed envelopes and clears the flag", async () => {
  const body = join(
    encodeEnvelope(FLAG_COMPRESSED, await compress(utf8("hello hello hello"), GZIP)),
    encodeEnvelope(0, utf8("plain")),
    encodeEnvelope(FLAG_COMPRESSED, new Uint8Array()),
  );
  const envelopes = await readAll(reader(streamOf(body), { compression: GZIP }));
  assert.deepEqual(
    envelopes.map((e) => [e.flags, text(e.data)]),
    [[0, "hello hello hello"], [0, "plain"], [0, ""]],
  );
});

test("EnvelopeReader holds the decompressed size to the limit", async () => {
  const packed = await compress(new Uint8Array(5000), GZIP);
  assert.ok(packed.length < 100);
  const error = await rpcRejection(
    reader(streamOf(encodeEnvelope(FLAG_COMPRESSED, packed)), {
      compression: GZIP,
      maxMessageBytes: 1000,
    }).next(),
  );
  assert.equal(error.code, "resource_exhausted");
  assert.match(error.message, /decompressed message 0 in request body exceeds the limit of 1000/);
});

test("EnvelopeReader turns corrupt compressed data into the malformed code", async () => {
  const error = await rpcRejection(
    reader(streamOf(encodeEnvelope(FLAG_COMPRESSED, utf8("not gzip at all"))), {
      compression: GZIP,
    }).next(),
  );
  assert.equal(error.code, "invalid_argument");
  assert.match(error.message, /message 0 in request body is not valid gzip data/);
});

test("EnvelopeReader refuses data after the end-of-stream envelope", async () => {
  const options = { allowedFlags: 0b10, endFlag: 0b10, malformedCode: "internal" as const };
  const clean = reader(
    streamOf(encodeEnvelope(0, utf8("m")), encodeEnvelope(2, utf8("{}"))),
    options,
  );
  assert.equal((await readAll(clean)).length, 2);
  const dirty = reader(
    streamOf(encodeEnvelope(2, utf8("{}")), encodeEnvelope(0, utf8("late"))),
    options,
  );
  assert.equal((await dirty.next())!.flags, 2);
  const error = await rpcRejection(dirty.next());
  assert.equal(error.code, "internal");
  assert.match(error.message, /data after its end-of-stream envelope/);
});

test("EnvelopeReader passes errors of the underlying stream through", async () => {
  const input = manualStream();
  const envelopes = reader(input.stream);
  const pending = envelopes.next();
  const gone = new Error("connection reset");
  input.fail(gone);
  assert.equal(await rejection(pending), gone);
});

test("EnvelopeReader.cancel() cancels the stream", async () => {
  const input = manualStream();
  const envelopes = reader(input.stream);
  await envelopes.cancel("done");
  assert.equal(await within(input.cancelled, 1000, "the cancel"), "done");
  assert.equal(await envelopes.next(), undefined);
});

test("EnvelopeWriter frames messages that EnvelopeReader reads back", async () => {
  const writer = new EnvelopeWriter();
  writer.write(utf8("a"));
  writer.write(new Uint8Array());
  writer.write(utf8("{}"), 0b10);
  writer.close();
  const envelopes = await readAll(reader(writer.readable, { allowedFlags: 0b10 }));
  assert.deepEqual(envelopes.map((e) => [e.flags, text(e.data)]), [[0, "a"], [0, ""], [2, "{}"]]);
});

test("EnvelopeWriter joins a burst of small messages into one chunk", async () => {
  const writer = new EnvelopeWriter();
  for (let i = 0; i < 100; i++) writer.write(utf8(`message ${i}`));
  writer.close();
  const chunks: Uint8Array[] = [];
  for await (const chunk of writer.readable) chunks.push(chunk);
  assert.equal(chunks.length, 1, `expected one chunk, got ${chunks.length}`);
  const envelopes = await readAll(reader(streamOf(...chunks)));
  assert.equal(envelopes.length, 100);
  assert.equal(text(envelopes[99]!.data), "message 99");
});

test("EnvelopeWriter sends a lone message without waiting for more", async () => {
  const writer = new EnvelopeWriter();
  const chunks = writer.readable.getReader();
  writer.write(utf8("alone"));
  const { value } = await within(chunks.read(), 1000, "the lone message");
  assert.deepEqual([...value!], [...encodeEnvelope(0, utf8("alone"))]);
  await chunks.cancel();
});

test("EnvelopeWriter.write() pushes back past the high-water mark until the reader catches up", async () => {
  const writer = new EnvelopeWriter({ highWaterMark: 1000 });
  assert.equal(writer.write(new Uint8Array(400)), undefined);
  const blocked = writer.write(new Uint8Array(700));
  assert.ok(blocked instanceof Promise, "a write past the high-water mark returns a promise");
  let released = false;
  blocked.then(() => (released = true));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(released, false, "nothing was read yet");
  const chunks = writer.readable.getReader();
  const { value } = await chunks.read();
  assert.equal(value!.length, 400 + 700 + 10);
  await within(blocked, 1000, "the release");
  await chunks.cancel();
});

test("EnvelopeWriter compresses large messages, keeps order, and leaves small ones alone", async () => {
  const writer = new EnvelopeWriter({ compression: GZIP, compressMinBytes: 100 });
  const big = utf8("x".repeat(5000));
  const pending = writer.write(big);
  assert.ok(pending instanceof Promise, "a compressed write is asynchronous");
  // Written while the compression is still running: they must come out after the big message.
  writer.write(utf8("small"));
  writer.write(utf8("{}"), 0b10);
  writer.close();
  const body = await bytesOf(writer.readable);
  // On the wire: the first envelope is flagged compressed and much shorter than 5000 bytes.
  const firstLength = new DataView(body.buffer).getUint32(1);
  assert.equal(body[0], FLAG_COMPRESSED);
  assert.ok(firstLength < 200, `compressed length ${firstLength}`);
  const second = 5 + firstLength;
  assert.equal(body[second], 0, "the small message is not compressed");
  const envelopes = await readAll(
    reader(streamOf(body), { allowedFlags: 0b10, compression: GZIP, maxMessageBytes: 10_000 }),
  );
  assert.deepEqual(
    envelopes.map((e) => [e.flags, e.data.length === 5000 ? "big" : text(e.data)]),
    [[0, "big"], [0, "small"], [2, "{}"]],
  );
});

test("EnvelopeWriter in base64 mode writes text that the base64 stream decoder reads back", async () => {
  const writer = new EnvelopeWriter({ base64: true });
  const reading = bytesOf(writer.readable);
  writer.write(utf8("first"));
  // A pause: the next message goes out as a chunk of its own, padded on its own.
  await new Promise((resolve) => setTimeout(resolve, 5));
  writer.write(utf8("second!"));
  writer.write(new Uint8Array([0xff, 0]), 0x80);
  writer.close();
  const wire = await reading;
  assert.match(text(wire), /^[A-Za-z0-9+/]+=*[A-Za-z0-9+/]+=*$/);
  assert.ok(text(wire).indexOf("=") < wire.length - 2, "padding in the middle of the stream");
  const envelopes = await readAll(
    reader(streamOf(...split(wire, [3, 7, 11])).pipeThrough(base64DecodeStream("body")), {
      allowedFlags: 0x80,
    }),
  );
  assert.deepEqual(
    envelopes.map((e) => [e.flags, [...e.data]]),
    [[0, [...utf8("first")]], [0, [...utf8("second!")]], [0x80, [0xff, 0]]],
  );
});

test("EnvelopeWriter reports cancellation and releases a blocked writer", async () => {
  let reason: unknown;
  const writer = new EnvelopeWriter({ highWaterMark: 10, onCancel: (r) => (reason = r) });
  const blocked = writer.write(new Uint8Array(100));
  assert.ok(blocked instanceof Promise);
  await writer.readable.cancel("gone");
  await within(blocked, 1000, "the release");
  assert.equal(reason, "gone");
  assert.equal(writer.cancelled, true);
  assert.equal(writer.write(utf8("late")), undefined);
});

test("EnvelopeWriter.error() fails the stream after the envelopes already written", async () => {
  const writer = new EnvelopeWriter();
  writer.write(utf8("before"));
  writer.error(new RpcError("internal", "boom"));
  const envelopes = reader(writer.readable);
  assert.equal(text((await envelopes.next())!.data), "before");
  const error = await rpcRejection(envelopes.next());
  assert.equal(error.message, "boom");
});

const json = (bytes: Uint8Array) => JSON.parse(text(bytes));

test("envelopeMessages() decodes each envelope with the codec, when asked", async () => {
  const messages = envelopeMessages(
    reader(streamOf(encodeEnvelope(0, utf8("1")), encodeEnvelope(0, utf8('{"a":2}')))),
    json,
  );
  assert.deepEqual(await messages.next(), { done: false, value: 1 });
  assert.deepEqual(await messages.next(), { done: false, value: { a: 2 } });
  assert.deepEqual(await messages.next(), { done: true, value: undefined });
  assert.deepEqual(await messages.next(), { done: true, value: undefined });
});

test("envelopeMessages() turns a codec's failure into invalid_argument, and keeps RpcErrors", async () => {
  const messages = envelopeMessages(
    reader(streamOf(encodeEnvelope(0, utf8("1")), encodeEnvelope(0, utf8("{oops")))),
    json,
  );
  await messages.next();
  const error = await rpcRejection(messages.next());
  assert.equal(error.code, "invalid_argument");
  assert.match(error.message, /^Message 1 in request body cannot be decoded: /);
  const own = envelopeMessages(reader(streamOf(encodeEnvelope(0, utf8("x")))), () => {
    throw new RpcError("failed_precondition", "mine");
  });
  assert.equal((await rpcRejection(own.next())).message, "mine");
});

test("envelopeMessages() with single: exactly one message, else unimplemented", async () => {
  // conformance: connect_server_unexpected.yaml and grpc_web_server_unexpected.yaml,
  // "*/no-request" and "*/multiple-requests".
  const one = envelopeMessages(reader(streamOf(encodeEnvelope(0, utf8("7")))), json, {
    single: true,
  });
  assert.deepEqual(await one.next(), { done: false, value: 7 });
  assert.deepEqual(await one.next(), { done: true, value: undefined });
  const none = envelopeMessages(reader(streamOf()), json, { single: true });
  const empty = await rpcRejection(none.next());
  assert.equal(empty.code, "unimplemented");
  assert.equal(empty.message, "The request body holds no message; expected exactly one");
  assert.equal((await rpcRejection(none.next())).code, "unimplemented", "the error sticks");
  const two = envelopeMessages(
    reader(streamOf(encodeEnvelope(0, utf8("1")), encodeEnvelope(0, utf8("2")))),
    json,
    { single: true },
  );
  const many = await rpcRejection(two.next());
  assert.equal(many.code, "unimplemented");
  assert.match(many.message, /holds more than one message/);
});

test("envelopeMessages().cancel() cancels the body", async () => {
  const input = manualStream();
  envelopeMessages(reader(input.stream), json).cancel();
  await within(input.cancelled, 1000, "the cancel");
});
