/**
 * Request bodies that arrive too slowly: a body trickled a byte at a time (slowloris on the body)
 * fails its call with `deadline_exceeded` once `resources.bodyTimeoutMs` has passed, on both
 * runtimes (Bun's idle timeout restarts on every byte; Deno.serve has none). A stream that is
 * merely quiet between messages is left alone.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { sleep, test, within } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { MicroAPI } from "../../mod.ts";

const TIMEOUT_MS = 400;

async function serve() {
  const { services } = fixtureServices();
  const app = new MicroAPI({ services, resources: { bodyTimeoutMs: TIMEOUT_MS } });
  return await app.serve({ port: 0, hostname: "127.0.0.1" });
}

/**
 * Sends a request head, then the body a byte every 100 ms, until the server answers; returns the
 * answer's head and body and how long it took.
 */
async function trickle(
  port: number,
  head: string,
  body: string,
): Promise<{ status: number; text: string; ms: number; sent: number }> {
  const socket = connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  const started = Date.now();
  let answer = "";
  let answered = false;
  const done = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Uint8Array) => {
      answer += new TextDecoder().decode(chunk);
      const end = answer.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(answer)?.[1];
      if (end !== -1 && length !== undefined && answer.length >= end + 4 + Number(length)) {
        answered = true;
        resolve();
      }
    });
    socket.on("close", () => resolve());
  });
  socket.on("error", () => {});
  socket.write(head);
  let sent = 0;
  for (; sent < body.length && !answered; sent++) {
    socket.write(body[sent]!);
    await Promise.race([sleep(100), done]);
  }
  await within(done, 5_000, "the answer");
  socket.destroy();
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? 0);
  return {
    status,
    text: answer.slice(answer.indexOf("\r\n\r\n") + 4),
    ms: Date.now() - started,
    sent,
  };
}

test("bodyTimeoutMs: a unary body trickled a byte at a time fails with deadline_exceeded", async () => {
  await using server = await serve();
  const body = JSON.stringify({ user_id: 1, pad: "x".repeat(100) });
  const answer = await trickle(
    server.port,
    `POST /users/get_user HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n` +
      `content-length: ${body.length}\r\n\r\n`,
    body,
  );
  assert.equal(answer.status, 504, answer.text);
  assert.deepEqual(JSON.parse(answer.text), {
    code: "deadline_exceeded",
    message:
      `The request body took longer than ${TIMEOUT_MS} ms to arrive; send it without pausing`,
    details: { timeout_ms: TIMEOUT_MS },
  });
  assert.ok(answer.sent < body.length, "the server waited for the whole body");
  assert.ok(answer.ms >= TIMEOUT_MS, `answered after ${answer.ms} ms`);
});

test("bodyTimeoutMs: a body without content-length is timed the same way", async () => {
  await using server = await serve();
  const line = JSON.stringify({ user_id: 1, pad: "x".repeat(100) });
  // Chunked: one chunk of one byte at a time.
  const chunks = [...line].map((c) => `1\r\n${c}\r\n`).join("");
  const answer = await trickle(
    server.port,
    `POST /users/get_user HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n` +
      `transfer-encoding: chunked\r\n\r\n`,
    chunks,
  );
  assert.equal(answer.status, 504, answer.text);
  assert.equal(JSON.parse(answer.text).code, "deadline_exceeded");
});

test("bodyTimeoutMs: one message of a stream trickled a byte at a time fails the call", async () => {
  await using server = await serve();
  // The first message arrives whole; the second a byte at a time.
  const first = JSON.stringify({ value: 1 }) + "\n";
  const second = JSON.stringify({ value: 2, pad: "x".repeat(100) }) + "\n";
  const answer = await trickle(
    server.port,
    `POST /analytics/aggregate HTTP/1.1\r\nHost: x\r\ncontent-type: application/x-ndjson\r\n` +
      `transfer-encoding: chunked\r\n\r\n${first.length.toString(16)}\r\n${first}\r\n`,
    [...second].map((c) => `1\r\n${c}\r\n`).join(""),
  );
  assert.equal(answer.status, 504, answer.text);
  assert.deepEqual(JSON.parse(answer.text), {
    code: "deadline_exceeded",
    message:
      `The message at index 1 of the request body took longer than ${TIMEOUT_MS} ms to arrive; send it without pausing`,
    details: { timeout_ms: TIMEOUT_MS },
  });
});

test("bodyTimeoutMs: a stream quiet between its messages is not timed", async () => {
  await using server = await serve();
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  const response = fetch(`${server.url}/analytics/aggregate`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: readable,
    // @ts-ignore: a streaming request body (not in every lib's RequestInit yet)
    duplex: "half",
  });
  await writer.write(encoder.encode(JSON.stringify({ value: 1 }) + "\n"));
  await sleep(TIMEOUT_MS * 3);
  await writer.write(encoder.encode(JSON.stringify({ value: 2 }) + "\n"));
  await writer.close();
  const result = await response;
  assert.equal(result.status, 200);
  assert.deepEqual((await result.json()).count, 2);
});
