/**
 * One call state on every client transport (src/client/call_state.ts): what `send()`, `end()`,
 * `cancel()` and the header and trailer callbacks do is the same in memory, over HTTP and over
 * WebSocket, to the message. Each test runs once per transport.
 */
import assert from "node:assert/strict";
import { rejection, within } from "../_harness.ts";
import { connect, eachTransport } from "../_transports.ts";
import {
  type ClientCall,
  MicroAPI,
  RpcError,
  Service,
  stream,
  StreamClosedError,
  streaming,
  z,
} from "../../mod.ts";

const Value = z.object({ n: z.number() });

/** Reads a call to its end; messages that arrived before a failure come first. */
async function drain(call: ClientCall): Promise<void> {
  while (!(await call.receive()).done) { /* next */ }
}

function app(): MicroAPI {
  const calls = new Service("calls")
    .method("count", { input: Value, output: streaming(Value) }, async function* ({ n }) {
      for (let i = 0; i < n; i++) yield { n: i };
    })
    .method("count_then_fail", { input: Value, output: streaming(Value) }, async function* ({ n }) {
      for (let i = 0; i < n; i++) yield { n: i };
      throw new RpcError("data_loss", "Broke after the messages");
    })
    .method("sum", { input: stream(Value), output: Value }, async (values, ctx) => {
      let sum = 0;
      for await (const { n } of values) sum += n;
      ctx.responseHeaders.set("x-kind", "sum");
      ctx.trailers.set("x-count", "done");
      return { n: sum };
    })
    .method("echo", { input: stream(Value), output: streaming(Value) }, async function* (values) {
      for await (const value of values) yield value;
    })
    .method("nothing", { input: stream(Value), output: streaming(Value) }, async function* () {})
    .method("metadata", { output: z.record(z.string(), z.string()) }, (_input, ctx) => {
      return Object.fromEntries([...ctx.metadata].filter(([name]) => name.startsWith("x-")));
    });
  return new MicroAPI({ services: [calls], onError: () => {} });
}

eachTransport(
  "ClientCall.send(): refused on a call whose input is not streamed, before and after its end",
  async (transport) => {
    await using target = await connect(app(), transport);
    const call = target.connection.open("calls/count", "server_streaming", {}, { n: 1 });
    const before = await rejection(call.send({ n: 1 }));
    assert.ok(before instanceof TypeError, `got ${before}`);
    assert.equal(before.message, "This call's input is not streamed: the input was sent already");
    assert.deepEqual(await call.receive(), { done: false, value: { n: 0 } });
    assert.equal((await call.receive()).done, true);
    const after = await rejection(call.send({ n: 2 }));
    assert.ok(after instanceof TypeError, `got ${after}`);
    assert.equal(after.message, "This call's input is not streamed: the input was sent already");
    call.end(); // does nothing
  },
);

eachTransport(
  "ClientCall.send(): refused after end(), and once the call has ended",
  async (transport) => {
    await using target = await connect(app(), transport);
    const echo = target.connection.open("calls/echo", "bidi_streaming", {});
    await echo.send({ n: 1 });
    echo.end();
    echo.end(); // twice is fine
    const afterEnd = await rejection(echo.send({ n: 2 }));
    assert.ok(afterEnd instanceof StreamClosedError, `got ${afterEnd}`);
    assert.equal(afterEnd.message, "Cannot send after end()");
    assert.deepEqual(await echo.receive(), { done: false, value: { n: 1 } });
    assert.equal((await echo.receive()).done, true);

    const nothing = target.connection.open("calls/nothing", "bidi_streaming", {});
    assert.equal((await within(nothing.receive(), 3000, "the end")).done, true);
    const ended = await rejection(nothing.send({ n: 1 }));
    assert.ok(ended instanceof StreamClosedError, `got ${ended}`);
    assert.equal(ended.message, "Cannot send: the call has ended");
  },
);

eachTransport(
  "ClientCall.cancel(): the call fails with cancelled, or with the RpcError given, and send() with it",
  async (transport) => {
    await using target = await connect(app(), transport);
    const plain = target.connection.open("calls/echo", "bidi_streaming", {});
    await plain.send({ n: 1 });
    plain.cancel("no reason");
    const cancelled = await rejection(drain(plain));
    assert.ok(RpcError.is(cancelled), `got ${cancelled}`);
    assert.equal(cancelled.code, "cancelled");
    assert.equal(cancelled.message, "The call was cancelled");
    assert.equal(cancelled.cause, "no reason");
    assert.equal(await rejection(plain.send({ n: 2 })), cancelled);

    const given = target.connection.open("calls/echo", "bidi_streaming", {});
    const reason = new RpcError("aborted", "Given up");
    given.cancel(reason);
    given.cancel(); // once only
    assert.equal(await rejection(drain(given)), reason);
  },
);

eachTransport(
  "ClientCall: messages that arrived before a failure are read first, then the error",
  async (transport) => {
    await using target = await connect(app(), transport);
    const seen: unknown[] = [];
    const error = await rejection((async () => {
      for await (const value of target.connection.serverStream("calls/count_then_fail", { n: 3 })) {
        seen.push(value);
      }
    })());
    assert.deepEqual(seen, [{ n: 0 }, { n: 1 }, { n: 2 }]);
    assert.ok(RpcError.is(error), `got ${error}`);
    assert.equal(error.code, "data_loss");
  },
);

eachTransport(
  "ClientCall: onHeaders and onTrailers fire once on a client stream, with the server's values",
  async (transport) => {
    await using target = await connect(app(), transport);
    const headers: Headers[] = [];
    const trailers: Headers[] = [];
    const call = target.connection.clientStream<{ n: number }, { n: number }>("calls/sum", {
      onHeaders: (h) => headers.push(h),
      onTrailers: (t) => trailers.push(t),
    });
    for (const n of [1, 2, 3]) await call.send({ n });
    assert.deepEqual(await call.end(), { n: 6 });
    // The end may follow the response on the wire: give it a moment.
    await within(
      (async () => {
        while (trailers.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
      3000,
      "the trailers",
    );
    assert.equal(headers.length, 1);
    assert.equal(headers[0]!.get("x-kind"), "sum");
    assert.equal(trailers.length, 1);
    assert.equal(trailers[0]!.get("x-count"), "done");
  },
);

eachTransport(
  "ClientCall: a call to a missing method fires onHeaders and onTrailers once, like any answer",
  async (transport) => {
    await using target = await connect(app(), transport);
    let headers = 0;
    let trailers = 0;
    const options = { onHeaders: () => headers++, onTrailers: () => trailers++ };
    const error = await rejection(
      target.connection.serverStream("calls/missing", {}, options).next(),
    );
    assert.ok(RpcError.is(error), `got ${error}`);
    assert.equal(error.code, "not_found");
    assert.deepEqual({ headers, trailers }, { headers: 1, trailers: 1 });
  },
);

eachTransport(
  "ClientCall: a call's metadata is the connection's with the call's own on top",
  async (transport) => {
    await using target = await connect(app(), transport, {
      "x-a": "connection",
      "x-b": "connection",
    });
    const options = { metadata: { "x-b": "call", "x-c": "call" } };
    const expected = { "x-a": "connection", "x-b": "call", "x-c": "call" };
    assert.deepEqual(await target.connection.unary("calls/metadata", undefined, options), expected);
  },
);

eachTransport(
  "ClientCall.receive(): two reads at once get consecutive messages, in order",
  async (transport) => {
    await using target = await connect(app(), transport);
    const call = target.connection.open("calls/count", "server_streaming", {}, { n: 3 });
    const [first, second] = await within(
      Promise.all([call.receive(), call.receive()]),
      3000,
      "two reads",
    );
    assert.deepEqual([first, second], [{ done: false, value: { n: 0 } }, {
      done: false,
      value: { n: 1 },
    }]);
    assert.deepEqual(await call.receive(), { done: false, value: { n: 2 } });
    assert.equal((await call.receive()).done, true);
  },
);
