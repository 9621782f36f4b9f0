/**
 * The WebSocket session against the adapter contract (src/server/adapters/types.ts), with a socket
 * that says "full" when told to: nothing is handed to a full socket until it drains, what waited
 * goes out in order, calls pause meanwhile, and a client that does not read is closed with 1008.
 */
import assert from "node:assert/strict";
import { sleep, test, waitFor } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { MicroAPI } from "../../mod.ts";
import { resolveLimits } from "../../src/protocol/limits.ts";
import type { ServerSocket } from "../../src/server/adapters/types.ts";
import { WebSocketSession } from "../../src/server/ws_session.ts";

/** A socket that records what it is handed, and is full while `full` is set. */
function socket() {
  const state = {
    sent: [] as string[],
    full: false,
    closed: undefined as { code: number; reason: string } | undefined,
  };
  const server: ServerSocket = {
    send(text) {
      state.sent.push(text);
      return !state.full;
    },
    close(code, reason) {
      state.closed = { code, reason };
    },
  };
  return { state, server };
}

function session(maxQueuedBytes = 1024 * 1024) {
  const { services, probe } = fixtureServices();
  const app = new MicroAPI({ services, onError: () => {} });
  const { state, server } = socket();
  const ws = new WebSocketSession(server, {
    admission: app.admission,
    limits: resolveLimits({ maxMessageBytes: 1024 }),
    settings: {
      window: 1_000_000,
      windowBytes: 1 << 30,
      maxWindow: 1_000_000,
      maxWindowBytes: 1 << 30,
      maxCalls: 10,
      maxQueuedBytes,
    },
  });
  const frames = () =>
    state.sent.flatMap((text) => text.split("\n")).map((line) => JSON.parse(line));
  return { ws, state, frames, probe, app };
}

test("WebSocketSession: nothing reaches a full socket until it drains; then in order", async () => {
  const { ws, state, frames, probe } = session();
  await sleep(0);
  assert.equal(frames()[0].type, "hello");
  state.full = true; // the next send will say "full"
  ws.receive(JSON.stringify({
    type: "open",
    id: 1,
    service: "probes",
    method: "count",
    window: 1_000_000,
    input: { to: 1000, size: 200 },
  }));
  await waitFor(() => frames().some((f) => f.type === "message"), "the first messages");
  const handed = state.sent.length;
  const yielded = probe.yielded;
  await sleep(100);
  // One batch went to the socket (the send that was told "full"); nothing since, and the
  // handler is paused.
  assert.equal(state.sent.length, handed);
  assert.equal(probe.yielded, yielded);
  assert.ok(yielded < 1000, `the handler ran to ${yielded}`);
  // Pings while full: one pong waits for them all.
  const held = ws.queuedChars;
  for (let i = 0; i < 100; i++) ws.receive('{"type":"ping"}');
  await sleep(10);
  const pongs = ws.queuedChars - held;
  assert.ok(pongs <= '{"type":"pong"}'.length + 1, `${pongs} characters held for 100 pings`);
  state.full = false;
  ws.drain();
  await waitFor(() => frames().some((f) => f.type === "end"), "the end of the call");
  const messages = frames().filter((f) => f.type === "message").map((f) => f.data.i);
  assert.deepEqual(messages, Array.from({ length: 1000 }, (_, i) => i));
  assert.equal(frames().at(-1).code, "ok");
  assert.equal(frames().filter((f) => f.type === "pong").length, 1);
  ws.closed(1000, "");
});

test("WebSocketSession: frames held past the queue limit close the socket with 1008", async () => {
  const { ws, state, app } = session(4096);
  await sleep(0);
  state.full = true;
  ws.receive('{"type":"ping"}'); // its pong is the send that says "full"
  await sleep(0);
  // Each open of a method that does not exist is answered with an end frame, which has to wait.
  let id = 1;
  while (!state.closed && id < 10_000) {
    ws.receive(JSON.stringify({ type: "open", id: ++id, service: "nope", method: "none" }));
    await sleep(0);
  }
  assert.equal(state.closed?.code, 1008);
  assert.match(state.closed!.reason, /The client is not reading: \d+ characters waiting/);
  // One message (1 KiB) plus the 16 KiB frame allowance plus the 4 KiB queue: about 21 KiB of
  // end frames, a hundred or two.
  assert.ok(id < 1000, `closed only after ${id} unanswered opens`);
  assert.equal(ws.queuedChars, 0);
  assert.equal(app.activeCalls, 0);
});

test("WebSocketSession: a message sent in parts is joined; parts past the limit close with 1009", async () => {
  const { ws, state, frames } = session();
  await sleep(0);
  assert.equal(frames()[0].parts, true, "the hello says the server joins parts");
  const open = JSON.stringify({
    type: "open",
    id: 1,
    service: "users",
    method: "get_user",
    input: { user_id: 7 },
  });
  // Cut anywhere, even inside a frame's JSON; a part alone is not a frame.
  ws.receive("+" + open.slice(0, 10));
  ws.receive("+" + open.slice(10, 30));
  assert.equal(state.closed, undefined);
  ws.receive(open.slice(30) + '\n{"type":"ping"}');
  await waitFor(() => frames().some((f) => f.type === "end"), "the call's end");
  assert.deepEqual(frames().find((f) => f.type === "message")?.data, {
    username: "user7",
    age: 30,
  });
  assert.ok(frames().some((f) => f.type === "pong"), "the frame after the join is read too");
  // The limit holds for the joined message: 1024 bytes plus the 16 KiB envelope allowance.
  for (let i = 0; i < 17; i++) ws.receive("+" + "x".repeat(1023));
  assert.equal(state.closed, undefined);
  ws.receive("+" + "x".repeat(1023));
  assert.equal((state.closed as { code: number } | undefined)?.code, 1009);
});
