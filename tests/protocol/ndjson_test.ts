import assert from "node:assert/strict";
import { rejection, test, within } from "../_harness.ts";
import { NdjsonReader, NdjsonWriter } from "../../src/protocol/ndjson.ts";
import { RpcError } from "../../src/protocol/rpc_error.ts";

const encoder = new TextEncoder();

function chunked(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      }
      controller.close();
    },
  });
}

async function readAll(reader: NdjsonReader): Promise<string[]> {
  const lines: string[] = [];
  for (let line = await reader.next(); line !== undefined; line = await reader.next()) {
    lines.push(line);
  }
  return lines;
}

test("NdjsonReader joins lines split across chunks, also inside a multi-byte character", async () => {
  const bytes = encoder.encode('{"t":"é"}\n{"t":"ü"}\n');
  // Split inside the two-byte "é" and again across the first newline.
  const reader = new NdjsonReader(
    chunked(bytes.subarray(0, 7), bytes.subarray(7, 10), bytes.subarray(10)),
    {
      maxLineBytes: 100,
    },
  );
  assert.deepEqual(await readAll(reader), ['{"t":"é"}', '{"t":"ü"}']);
});

test("NdjsonReader skips blank lines, strips CR, and accepts a last line without newline", async () => {
  const reader = new NdjsonReader(chunked("1\r\n\n  \n2\n3"), { maxLineBytes: 100 });
  assert.deepEqual(await readAll(reader), ["1", "2", "3"]);
});

test("NdjsonReader hands out a line as soon as its newline arrives", async () => {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const reader = new NdjsonReader(stream, { maxLineBytes: 100 });
  controller.enqueue(encoder.encode("first\nsec"));
  assert.equal(await within(reader.next(), 1000, "first line"), "first");
  controller.enqueue(encoder.encode("ond\n"));
  assert.equal(await within(reader.next(), 1000, "second line"), "second");
  controller.close();
  assert.equal(await reader.next(), undefined);
});

test("NdjsonReader rejects an oversize line while it is still arriving", async () => {
  let cancelled = false;
  // The stream never ends: the reader must fail on the limit, not wait for the newline.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("x".repeat(6)));
      controller.enqueue(encoder.encode("x".repeat(6)));
    },
    cancel() {
      cancelled = true;
    },
  });
  const reader = new NdjsonReader(stream, { maxLineBytes: 10, what: "request body" });
  const error = await within(rejection(reader.next()), 1000, "oversize line");
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, "resource_exhausted");
  assert.equal(error.message, "Line in request body exceeds the limit of 10 bytes");
  await reader.cancel();
  assert.ok(cancelled);
});

test("NdjsonReader rejects a complete line over the limit", async () => {
  const reader = new NdjsonReader(chunked("ok\n" + "y".repeat(11) + "\n"), { maxLineBytes: 10 });
  assert.equal(await reader.next(), "ok");
  const error = await rejection(reader.next());
  assert.equal((error as RpcError).code, "resource_exhausted");
});

test("NdjsonReader rejects invalid UTF-8 with invalid_argument", async () => {
  const reader = new NdjsonReader(chunked(new Uint8Array([0x7b, 0xff, 0x7d, 0x0a])), {
    maxLineBytes: 100,
    what: "request body",
  });
  const error = await rejection(reader.next());
  assert.equal((error as RpcError).code, "invalid_argument");
  assert.match((error as RpcError).message, /not valid UTF-8/);
});

test("NdjsonWriter delivers a lone line at once and joins a burst into one chunk", async () => {
  const writer = new NdjsonWriter();
  const reader = writer.readable.getReader();
  const first = reader.read();
  writer.write("a");
  assert.equal(new TextDecoder().decode((await first).value), "a\n");
  // Written while nobody reads: one chunk.
  writer.write("b");
  writer.write("c");
  writer.write("d");
  assert.equal(new TextDecoder().decode((await reader.read()).value), "b\nc\nd\n");
  writer.close();
  assert.equal((await reader.read()).done, true);
});

test("NdjsonWriter.write() pushes back past the high-water mark until the reader catches up", async () => {
  const writer = new NdjsonWriter({ highWaterMark: 10 });
  const reader = writer.readable.getReader();
  assert.equal(writer.write("12345"), undefined);
  const blocked = writer.write("67890");
  assert.ok(blocked instanceof Promise);
  let released = false;
  blocked.then(() => (released = true));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(released, false);
  await reader.read();
  await within(blocked, 1000, "drain");
  writer.close();
  await reader.cancel();
});

test("NdjsonWriter reports cancellation and releases a blocked writer", async () => {
  let reason: unknown;
  const writer = new NdjsonWriter({ highWaterMark: 1, onCancel: (r) => (reason = r) });
  const blocked = writer.write("x");
  await writer.readable.cancel("gone");
  await within(blocked!, 1000, "release on cancel");
  assert.equal(reason, "gone");
  assert.equal(writer.cancelled, true);
  assert.equal(writer.write("y"), undefined);
});
