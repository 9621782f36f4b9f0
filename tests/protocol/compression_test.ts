import assert from "node:assert/strict";
import process from "node:process";
import { rejection, test, within } from "../_harness.ts";
import {
  acceptEncodingValue,
  compress,
  compressionFromHeader,
  decompress,
  decompressStream,
  GZIP,
  negotiateCompression,
  readBody,
} from "../../src/protocol/compression.ts";
import { encodeEnvelope, EnvelopeReader, FLAG_COMPRESSED } from "../../src/protocol/envelope.ts";
import { RpcError } from "../../src/protocol/rpc_error.ts";
import { bytesOf, manualStream, split, streamOf, utf8 } from "./_wire.ts";

const MiB = 1024 * 1024;
const decoder = new TextDecoder();

async function rpcRejection(promise: Promise<unknown>): Promise<RpcError> {
  const error = await rejection(promise);
  assert.ok(RpcError.is(error), `expected an RpcError, got ${String(error)}`);
  return error;
}

/** 1 GiB of zeros, gzipped (about 1 MB), built once per run from one reused 1 MiB buffer. */
let bomb: Promise<Uint8Array> | undefined;
function gzipBomb(): Promise<Uint8Array> {
  return bomb ??= (async () => {
    const zeros = new Uint8Array(MiB);
    const stream = new CompressionStream("gzip");
    const writer = stream.writable.getWriter();
    const output = bytesOf(stream.readable);
    for (let i = 0; i < 1024; i++) await writer.write(zeros);
    await writer.close();
    return output;
  })();
}

/**
 * Runs `work` while sampling the process's resident memory every few milliseconds.
 *
 * @returns How far the resident memory rose above where it started, at most, in bytes.
 */
async function peakGrowth(work: () => Promise<unknown>): Promise<number> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage().rss) - start;
}

test("compress() and decompress() round-trip, and empty input stays empty", async () => {
  const data = utf8(JSON.stringify({ text: "hello ".repeat(1000) }));
  const packed = await compress(data, GZIP);
  assert.ok(packed.length < data.length / 10);
  assert.deepEqual(await decompress(packed, GZIP, { maxBytes: data.length, what: "body" }), data);
  assert.equal((await decompress(new Uint8Array(), GZIP, { maxBytes: 1, what: "body" })).length, 0);
});

test("decompress() enforces the limit on the decompressed size", async () => {
  const packed = await compress(new Uint8Array(10_000), GZIP);
  assert.equal(
    (await decompress(packed, GZIP, { maxBytes: 10_000, what: "body" })).length,
    10_000,
  );
  const error = await rpcRejection(decompress(packed, GZIP, { maxBytes: 9_999, what: "body" }));
  assert.equal(error.code, "resource_exhausted");
  assert.equal(error.message, "The decompressed body exceeds the limit of 9999 bytes");
  assert.deepEqual(error.details, { limit: 9_999 });
});

test("decompress() turns corrupt or truncated input into the malformed code", async () => {
  const packed = await compress(utf8("hello hello hello"), GZIP);
  for (const bad of [utf8("definitely not gzip"), packed.subarray(0, packed.length - 4)]) {
    const error = await rpcRejection(decompress(bad, GZIP, { maxBytes: 100, what: "message" }));
    assert.equal(error.code, "invalid_argument");
    assert.equal(error.message, "The message is not valid gzip data");
  }
  const error = await rpcRejection(
    decompress(utf8("junk"), GZIP, { maxBytes: 100, what: "body", malformedCode: "internal" }),
  );
  assert.equal(error.code, "internal");
});

test("decompress() stops a gzip bomb (1 GiB of zeros) at the limit with little memory", async () => {
  const packed = await gzipBomb();
  assert.ok(packed.length < 2 * MiB, `the bomb is ${packed.length} bytes`);
  let error: unknown;
  const started = Date.now();
  const growth = await peakGrowth(async () => {
    error = await rejection(decompress(packed, GZIP, { maxBytes: 4 * MiB, what: "message" }));
  });
  assert.ok(RpcError.is(error) && error.code === "resource_exhausted", String(error));
  // Decompressing it whole would take 1 GiB; fed in slices it never holds much more than the
  // limit.
  assert.ok(growth < 100 * MiB, `memory grew by ${Math.round(growth / MiB)} MiB`);
  assert.ok(Date.now() - started < 5_000, "refused without inflating the whole bomb");
});

test("EnvelopeReader refuses a gzip bomb in a compressed envelope with little memory", async () => {
  const packed = await gzipBomb();
  let error: unknown;
  const growth = await peakGrowth(async () => {
    const reader = new EnvelopeReader(streamOf(encodeEnvelope(FLAG_COMPRESSED, packed)), {
      maxMessageBytes: 4 * MiB,
      compression: GZIP,
    });
    error = await rejection(reader.next());
  });
  assert.ok(RpcError.is(error) && error.code === "resource_exhausted", String(error));
  assert.match((error as RpcError).message, /decompressed message 0 in request body exceeds/);
  assert.ok(growth < 100 * MiB, `memory grew by ${Math.round(growth / MiB)} MiB`);
});

test("readBody() refuses a gzip bomb sent as a compressed unary body with little memory", async () => {
  const packed = await gzipBomb();
  let error: unknown;
  const growth = await peakGrowth(async () => {
    error = await rejection(
      readBody(streamOf(...split(packed, [1000, 500_000])), GZIP, {
        maxBytes: 4 * MiB,
        what: "request body",
      }),
    );
  });
  assert.ok(RpcError.is(error) && error.code === "resource_exhausted", String(error));
  assert.ok(growth < 100 * MiB, `memory grew by ${Math.round(growth / MiB)} MiB`);
});

test("readBody() holds the compressed body to the limit too, and passes identity through", async () => {
  const error = await rpcRejection(
    readBody(streamOf(new Uint8Array(101)), GZIP, { maxBytes: 100, what: "request body" }),
  );
  assert.equal(error.code, "resource_exhausted");
  assert.equal(error.message, "The request body exceeds the limit of 100 bytes");
  const plain = await readBody(streamOf("a", "b"), undefined, { maxBytes: 2, what: "body" });
  assert.equal(decoder.decode(plain), "ab");
  assert.equal((await readBody(null, GZIP, { maxBytes: 1, what: "body" })).length, 0);
});

test("decompressStream() yields output before the input has ended", async () => {
  const text = "line of text\n".repeat(20_000);
  const packed = await compress(utf8(text), GZIP);
  const input = manualStream();
  const output = decompressStream(input.stream, GZIP, { what: "body" }).getReader();
  input.push(packed.subarray(0, packed.length >> 1));
  const { value } = await within(output.read(), 2000, "the first decompressed chunk");
  assert.ok(value!.length > 0);
  input.push(packed.subarray(packed.length >> 1));
  input.end();
  let total = value!.length;
  for (let r = await output.read(); !r.done; r = await output.read()) total += r.value.length;
  assert.equal(total, text.length);
});

test("decompressStream() passes input errors through and cancels the input when cancelled", async () => {
  const failing = manualStream();
  const output = decompressStream(failing.stream, GZIP, { what: "body" }).getReader();
  const read = output.read();
  const gone = new Error("connection reset");
  failing.fail(gone);
  assert.equal(await rejection(read), gone);

  const input = manualStream();
  const stream = decompressStream(input.stream, GZIP, { what: "body" });
  await stream.cancel("stop");
  assert.equal(await within(input.cancelled, 1000, "the input's cancel"), "stop");
});

test("decompressStream() fails with the malformed code on corrupt input", async () => {
  const error = await rpcRejection(
    bytesOf(decompressStream(streamOf("garbage!"), GZIP, { what: "request body" })),
  );
  assert.equal(error.code, "invalid_argument");
  assert.equal(error.message, "The request body is not valid gzip data");
});

test("compressionFromHeader() knows identity and gzip, and lists what it accepts otherwise", () => {
  for (const identity of [null, "", "identity", " Identity "]) {
    assert.equal(compressionFromHeader(identity, { header: "content-encoding" }), undefined);
  }
  assert.equal(compressionFromHeader("gzip", { header: "content-encoding" }), GZIP);
  assert.equal(compressionFromHeader("GZIP", { header: "content-encoding" }), GZIP);
  // conformance: connect_server_unexpected.yaml "unexpected-compression" -> unimplemented.
  assert.throws(
    () => compressionFromHeader("br", { header: "connect-content-encoding" }),
    (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, "unimplemented");
      assert.equal(
        error.message,
        'Unsupported connect-content-encoding "br": supported encodings are gzip, identity',
      );
      assert.deepEqual(error.details, { accepted: ["gzip", "identity"] });
      return true;
    },
  );
  assert.throws(() => compressionFromHeader("gzip", { header: "x", accepted: [] }), RpcError);
});

test("negotiateCompression() follows the peer's order and the Connect defaults", () => {
  assert.equal(negotiateCompression(null, undefined), undefined);
  assert.equal(negotiateCompression(null, GZIP), GZIP, "no accept header: the request's own");
  assert.equal(negotiateCompression("br, gzip", undefined), GZIP);
  assert.equal(negotiateCompression("identity, gzip", GZIP), undefined);
  assert.equal(negotiateCompression("gzip;q=0, br", GZIP), undefined);
  assert.equal(negotiateCompression("gzip;q=0.5", undefined), GZIP);
  assert.equal(negotiateCompression("", GZIP), undefined);
  assert.equal(negotiateCompression("GZip", undefined), GZIP);
  assert.equal(negotiateCompression("gzip", undefined, []), undefined);
  assert.equal(acceptEncodingValue(), "gzip");
});
