/**
 * The WebSocket credit window against peers that do not play along (issue 10, item 4): the
 * server holds a client's window to its maximum, and counts credit in bytes as well as messages
 * (the length of each message's frame), so neither a huge window nor huge messages make either
 * side buffer more than about a window of bytes (plus one message). Scripted adversaries speak
 * the protocol by hand (tests/_raw_socket.ts); the MicroAPI client is checked to keep to the
 * windows and never stall. Message-count flow control: tests/e2e/ws_flow_test.ts.
 */
import assert from "node:assert/strict";
import { rejection, sleep, test, waitFor, within } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { type RawSocket, rawSocket } from "../_raw_socket.ts";
import { Connection, MicroAPI, RpcError } from "../../mod.ts";
import type { MicroAPIOptions } from "../../mod.ts";
import { WebSocketTransport } from "../../src/client/ws_transport.ts";
import { listen } from "../../src/server/adapters/listen.ts";

async function serve(options: Partial<MicroAPIOptions> = {}) {
  const { services, probe } = fixtureServices();
  const server = await new MicroAPI({ services, onError: () => {}, ...options }).serve({
    port: 0,
    hostname: "127.0.0.1",
  });
  return { server, probe, url: server.url, [Symbol.asyncDispose]: () => server.shutdown() };
}

const end = (id: number) => (f: Record<string, unknown>) => f.type === "end" && f.id === id;
const messages = (raw: RawSocket, id: number) =>
  raw.frames.filter((f) => f.type === "message" && f.id === id);

/** Waits until no frame has arrived for a while: the server has stopped sending. */
async function quiet(raw: RawSocket, ms = 150): Promise<void> {
  for (let count = -1; count !== raw.frames.length;) {
    count = raw.frames.length;
    await sleep(ms);
  }
}

test("WebSocket server: a never-reading client asking for a window of 2^53-1 gets the server's maximum", async () => {
  await using s = await serve({ websocket: { maxWindow: 64 } });
  const raw = await rawSocket(s.url);
  raw.sendFrames({
    type: "open",
    id: 1,
    service: "probes",
    method: "count",
    input: { to: 100_000 },
    window: Number.MAX_SAFE_INTEGER,
    window_bytes: Number.MAX_SAFE_INTEGER,
  });
  await quiet(raw);
  // The window, and the one message the handler holds at its yield: the rest never left it.
  assert.equal(messages(raw, 1).length, 64);
  assert.ok(s.probe.yielded <= 65, `the handler ran ${s.probe.yielded} messages ahead`);
  raw.sendFrames({ type: "credit", id: 1, n: 32 });
  await quiet(raw);
  assert.equal(messages(raw, 1).length, 96, "credit lets 32 more through, and no more");
  await raw.close();
});

test("WebSocket server: the default maximum window is 1024 messages", async () => {
  await using s = await serve();
  const raw = await rawSocket(s.url);
  assert.equal(raw.frames[0]!.max_window, 1024);
  raw.sendFrames({
    type: "open",
    id: 1,
    service: "probes",
    method: "count",
    input: { to: 100_000 },
    window: Number.MAX_SAFE_INTEGER,
    window_bytes: Number.MAX_SAFE_INTEGER,
  });
  await quiet(raw);
  assert.equal(messages(raw, 1).length, 1024);
  await raw.close();
});

test("WebSocket server: messages of 100 KB cannot exceed the client's byte window", async () => {
  await using s = await serve();
  const raw = await rawSocket(s.url);
  raw.sendFrames({
    type: "open",
    id: 1,
    service: "probes",
    method: "count",
    input: { to: 1000, size: 100_000 },
    window: 1000,
    window_bytes: 300_000,
  });
  await quiet(raw);
  const frameSize = JSON.stringify(messages(raw, 1)[0]).length;
  assert.ok(frameSize > 100_000);
  // 300 000 characters of credit: the third message crosses it, and then nothing goes.
  assert.equal(messages(raw, 1).length, 3);
  assert.ok(s.probe.yielded <= 4, `the handler ran ${s.probe.yielded} messages ahead`);
  // Credit for one message frees its bytes: one more goes.
  raw.sendFrames({ type: "credit", id: 1, n: 1 });
  await quiet(raw);
  assert.equal(messages(raw, 1).length, 4);
  // A grant beyond what was sent cannot widen the window.
  raw.sendFrames({ type: "credit", id: 1, n: 1_000_000 });
  await quiet(raw);
  assert.equal(messages(raw, 1).length, 4 + 3);
  await raw.close();
});

test("WebSocket server: a client's byte window is held to the server's maximum", async () => {
  await using s = await serve({ websocket: { maxWindowBytes: 250_000 } });
  const raw = await rawSocket(s.url);
  raw.sendFrames({
    type: "open",
    id: 1,
    service: "probes",
    method: "count",
    input: { to: 1000, size: 100_000 },
    window: 1000,
    window_bytes: Number.MAX_SAFE_INTEGER,
  });
  await quiet(raw);
  assert.equal(messages(raw, 1).length, 3);
  await raw.close();
});

test("WebSocket server: a protocol 1 client (no window_bytes) works with small messages, and gets an error, not a hang, with large ones", async () => {
  await using s = await serve();
  const raw = await rawSocket(s.url);
  // Small messages: credit in messages, every half window, as protocol 1 clients return it.
  raw.sendFrames({
    type: "open",
    id: 1,
    service: "probes",
    method: "count",
    input: { to: 600, size: 10 },
    window: 256,
  });
  let credited = 0;
  while (!raw.frames.some(end(1))) {
    await raw.frame((f) =>
      f.type === "message" && f.id === 1 && messages(raw, 1).length >= credited + 128 || end(1)(f)
    );
    if (raw.frames.some(end(1))) break;
    credited += 128;
    raw.sendFrames({ type: "credit", id: 1, n: 128 });
  }
  assert.equal((await raw.frame(end(1))).code, "ok");
  assert.equal(messages(raw, 1).length, 600);

  // 20 KB messages: 1 MiB (the server's byte window for such a client) holds 52 of them, but the
  // client returns credit only after 128. The call fails, saying why.
  raw.sendFrames({
    type: "open",
    id: 2,
    service: "probes",
    method: "count",
    input: { to: 600, size: 20_000 },
    window: 256,
  });
  const ended = await raw.frame(end(2));
  assert.equal(ended.code, "resource_exhausted");
  assert.match(
    String(ended.message),
    /^The server may send 53 messages of this call .* only every 128 messages: it counts credit in messages only \(protocol 1/,
  );
  assert.equal(messages(raw, 2).length, 53);
  await raw.close();
});

test("WebSocket server: a client sending large messages beyond the byte window fails its call", async () => {
  await using s = await serve({ websocket: { windowBytes: 250_000 } });
  const raw = await rawSocket(s.url);
  raw.sendFrames({ type: "open", id: 1, service: "probes", method: "slow_reader" });
  const pad = "x".repeat(100_000);
  for (let i = 0; i < 10; i++) raw.sendFrames({ type: "message", id: 1, data: { i, pad } });
  const ended = await raw.frame(end(1));
  assert.equal(ended.code, "resource_exhausted");
  assert.equal(
    ended.message,
    "The client sent more than its credit allows (window 256 messages, 250000 bytes)",
  );
  // The handler took the first; the next two waited in the call's queue; the fourth broke it.
  assert.ok(s.probe.received.length <= 1);
  await raw.close();
});

test("WebSocket client: a slow reader holds a stream of 100 KB messages to its byte window, and all arrive", async () => {
  await using s = await serve();
  await using connection = new Connection(s.url, { transport: "ws", windowBytes: 250_000 });
  const stream = connection.serverStream<{ i: number }>("probes/count", { to: 60, size: 100_000 });
  await stream.next();
  await sleep(300);
  // One read, 250 000 characters of credit: three messages in flight, one at the handler's yield.
  const ahead = s.probe.yielded - 1;
  assert.ok(ahead <= 3 + 1, `the handler ran ${ahead} messages ahead of a 250 000-byte window`);
  let read = 1;
  for await (const message of stream) {
    assert.equal(message.i, read);
    read++;
  }
  assert.equal(read, 60);
});

test("WebSocket client: messages larger than the byte window still flow, one at a time", async () => {
  await using s = await serve();
  await using connection = new Connection(s.url, { transport: "ws", windowBytes: 10_000 });
  const all = await within(
    connection.serverStream("probes/count", { to: 40, size: 100_000 }).toArray(),
    10_000,
    "40 messages of 100 KB through a 10 KB window",
  );
  assert.equal(all.length, 40);
});

test("WebSocket client: send() waits for the server's byte window", async () => {
  await using s = await serve({ websocket: { windowBytes: 250_000 } });
  await using connection = new Connection(s.url, { transport: "ws" });
  const call = connection.clientStream("probes/slow_reader");
  const pad = "x".repeat(100_000);
  let sent = 0;
  const sending = (async () => {
    for (let i = 0; i < 50; i++) {
      await call.send({ i, pad });
      sent++;
    }
  })();
  sending.catch(() => {});
  await waitFor(() => s.probe.received.length === 1, "the first message at the handler");
  await sleep(200);
  assert.ok(sent <= 3, `send() accepted ${sent} messages of 100 KB with a 250 000-byte window`);
  // The handler reads on: every message arrives, none breaks the window.
  s.probe.gates.get("slow_reader")?.resolve();
  await within(sending, 10_000, "50 sends");
  assert.deepEqual(await call.end(), { count: 50, sum: 0 });
});

/** A server speaking the protocol by hand: hello, then whatever `onFrame` does. */
async function fakeServer(
  hello: Record<string, unknown>,
  onFrame: (
    frame: Record<string, unknown>,
    send: (frame: Record<string, unknown>) => void,
    sendText: (text: string) => void,
  ) => void,
) {
  const listener = await listen({
    port: 0,
    hostname: "127.0.0.1",
    handler: () => new Response(null, { status: 404 }),
    idleTimeoutMs: 10_000,
    websocket: {
      maxPayloadBytes: 1024 * 1024,
      matches: () => true,
      abandon: () => {},
      accept: () => ({ protocol: "microapi.v1" }),
      open: (socket) => {
        const send = (frame: Record<string, unknown>) => socket.send(JSON.stringify(frame));
        send({ type: "hello", ...hello });
        return {
          message: (data) => {
            for (const line of String(data).split("\n")) {
              if (line !== "") onFrame(JSON.parse(line), send, (text) => socket.send(text));
            }
          },
          drain: () => {},
          close: () => {},
        };
      },
    },
  });
  const url = `http://127.0.0.1:${listener.port}`;
  return {
    url,
    async [Symbol.asyncDispose]() {
      await listener.close();
      await listener.terminate();
    },
  };
}

test("WebSocket client: a server that sends beyond the call's credit fails the call", async () => {
  await using fake = await fakeServer(
    { protocol: 2, window: 8, window_bytes: 1 << 20, max_message_bytes: 1 << 22, max_calls: 8 },
    (frame, _send, sendText) => {
      if (frame.type !== "open") return;
      // Five messages in one WebSocket message: none read, no credit back in between.
      sendText(
        Array.from(
          { length: 5 },
          (_, i) => JSON.stringify({ type: "message", id: frame.id, data: { i } }),
        ).join("\n"),
      );
    },
  );
  await using connection = new Connection(fake.url, {
    transport: new WebSocketTransport({ url: fake.url, window: 4 }),
  });
  const stream = connection.serverStream("probes/count", { to: 5 });
  const error = await within(rejection(stream.toArray()), 3000, "the call to fail") as RpcError;
  assert.ok(RpcError.is(error));
  assert.equal(error.code, "resource_exhausted");
  assert.equal(
    error.message,
    "The server sent more than this call's credit allows (window 4 messages, 1048576 bytes)",
  );
});

test("WebSocket client: with a protocol 1 server, credit counts messages only, both ways", async () => {
  // A protocol 1 server: no byte fields in hello, credit every half window of messages.
  const opens: Record<string, unknown>[] = [];
  let received = 0;
  await using fake = await fakeServer(
    { protocol: 1, window: 4, max_message_bytes: 1 << 22, max_calls: 8 },
    (frame, send) => {
      if (frame.type === "open") {
        opens.push(frame);
        // Four messages of 100 KB: within the client's message window, past its byte window.
        for (let i = 0; i < 4; i++) {
          send({ type: "message", id: frame.id, data: { i, pad: "x".repeat(100_000) } });
        }
      }
      if (frame.type === "message" && ++received % 2 === 0) {
        send({ type: "credit", id: frame.id, n: 2 });
      }
      if (frame.type === "half_close") {
        send({ type: "end", id: frame.id, code: "ok" });
      }
    },
  );
  await using connection = new Connection(fake.url, {
    transport: new WebSocketTransport({ url: fake.url, window: 4, windowBytes: 1000 }),
  });
  const chat = connection.bidiStream<{ pad: string }, { i: number }>("chat/echo");
  const pad = "y".repeat(100_000);
  await within(
    (async () => {
      for (let i = 0; i < 20; i++) await chat.send({ pad });
      chat.end();
    })(),
    5000,
    "20 messages of 100 KB to a server that credits messages only",
  );
  const replies: unknown[] = [];
  await within(
    (async () => {
      for await (const reply of chat) replies.push(reply);
    })(),
    5000,
    "the replies",
  );
  assert.equal(replies.length, 4);
  assert.equal(received, 20);
  assert.equal(opens[0]!.window, 4);
  assert.equal("window_bytes" in opens[0]!, false, "a protocol 1 server is not sent window_bytes");
});

test("WebSocket windows: the byte windows and maxima must be positive integers", () => {
  const { services } = fixtureServices();
  for (const name of ["windowBytes", "maxWindow", "maxWindowBytes"] as const) {
    assert.throws(
      () => new MicroAPI({ services, websocket: { [name]: 0 } }),
      new RangeError(`Invalid websocket.${name}: expected a positive integer, got 0`),
    );
  }
  assert.throws(
    () => new Connection("http://127.0.0.1:1", { transport: "ws", windowBytes: 0.5 }),
    new RangeError("Invalid windowBytes: expected a whole number >= 1, got 0.5"),
  );
});
