/**
 * End to end through generated clients: the client for the examples (and for the kitchen sink) is
 * generated into a temporary directory, imported, and used against a real server over both
 * transports, HTTP and WebSocket, for every pattern and the call options.
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { rejection, test, within } from "../_harness.ts";
import { cli, modUrl, tempDir } from "../_cli.ts";
import { BidiStream, ClientStream, Connection, MicroAPI, RpcError } from "../../mod.ts";
import { app as examples } from "../../examples/serve.ts";
import * as sink from "./_kitchen_sink.ts";

type ExamplesClient = typeof import("../../examples/client/mod.ts");
type SinkClient = typeof import("./golden/kitchen_sink/mod.ts");

async function generated<T>(source: string, dir: string): Promise<T> {
  const outcome = await cli(["generate", source, "--out", dir, "--import", modUrl]);
  assert.equal(outcome.code, 0, outcome.stderr);
  return await import(pathToFileURL(`${dir}/mod.ts`).href) as T;
}

function code(error: unknown): string {
  assert.ok(RpcError.is(error), `expected an RpcError, got ${error}`);
  return error.code;
}

for (const transport of ["http", "ws"] as const) {
  test(`generated client: every pattern of the examples over ${transport}`, async () => {
    await using dir = await tempDir();
    const client = await generated<ExamplesClient>("examples/serve.ts", dir.path);
    const app = new MicroAPI(examples.options);
    await using server = await app.serve({ port: 0, hostname: "127.0.0.1" });
    await using connection = new Connection(server.url, { transport, timeoutMs: 10_000 });

    // Unary: an async function taking the input and returning the output.
    assert.deepEqual(await client.users.getUser({ user_id: 1 }, { connection }), {
      user_id: 1,
      username: "alice",
      age: 21,
    });
    const missing = await rejection(client.users.getUser({ user_id: 9999 }, { connection }));
    assert.equal(code(missing), "not_found");
    assert.deepEqual((missing as RpcError).details, { user_id: 9999 });

    // Server streaming: an async generator function.
    const listed = [];
    for await (const user of client.users.listUsers({ limit: 3 }, { connection })) {
      listed.push(user.username);
    }
    assert.deepEqual(listed, ["alice", "bob", "carol"]);

    // Client streaming: a class with typed send(), and end() returning the response.
    const upload = client.analytics.aggregate({ connection });
    assert.ok(upload instanceof client.analytics.AggregateCall);
    assert.ok(upload instanceof ClientStream);
    for (const value of [2, 4, 9]) await upload.send({ timestamp: 0, value });
    assert.deepEqual(await upload.end(), { count: 3, sum: 15, mean: 5, min: 2, max: 9 });

    // Bidi: send() and next() interleaved, then end() and async iteration for the rest.
    const chat = client.chat.conversation({ connection });
    assert.ok(chat instanceof BidiStream);
    await chat.send({ user: "ada", text: "hello there" });
    const first = await within(chat.next(), 5000, "the first reply");
    assert.deepEqual(first, {
      done: false,
      value: { text: 'ada, you said 2 words: "hello there"', in_reply_to: 0 },
    });
    await chat.send({ user: "ada", text: "bye" });
    await chat.end();
    const rest = [];
    for await (const reply of chat) rest.push(reply.in_reply_to);
    assert.deepEqual(rest, [1]);

    // Without { connection }, calls use the default connection.
    Connection.setDefault(connection);
    try {
      assert.equal((await client.users.getUser({ user_id: 2 })).username, "bob");
    } finally {
      Connection.setDefault(undefined);
    }
    const unset = await rejection(client.users.getUser({ user_id: 2 }));
    assert.match(String(unset), /No default connection/);
  });

  test(`generated client: call options, versions, no input or output, over ${transport}`, async () => {
    await using dir = await tempDir();
    const client = await generated<SinkClient>("tests/codegen/_kitchen_sink.ts", dir.path);
    const app = new MicroAPI({
      services: [sink.profiles, sink.legacyProfiles, sink.drawing, sink.types, sink.probe],
      onError: () => {},
    });
    await using server = await app.serve({ port: 0, hostname: "127.0.0.1" });
    await using connection = new Connection(server.url, { transport });

    // Metadata and timeout reach the handler.
    assert.deepEqual(
      await client.probe.whoami({ connection, metadata: { "x-user": "ada" }, timeoutMs: 5000 }),
      { user: "ada", deadline: true },
    );
    // The deadline, and cancellation with a signal.
    const late = await rejection(client.probe.wait({ connection, timeoutMs: 50 }));
    assert.equal(code(late), "deadline_exceeded");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const cancelled = await rejection(client.probe.wait({ connection, signal: controller.signal }));
    assert.equal(code(cancelled), "cancelled");
    // Leaving a server stream early ends it.
    let ticks = 0;
    for await (const tick of client.probe.ticks({ connection })) {
      ticks = tick.n;
      if (tick.n === 3) break;
    }
    assert.equal(ticks, 3);

    // A versioned service and the unversioned one of the same name.
    const id = "9b2f0d5e-1c1a-4b8e-9f7e-2d7c8a6b5e4f";
    assert.equal((await client.profilesV2.get({ id }, { connection })).id, id);
    assert.equal((await client.profiles.get({ id: "any" }, { connection })).role, "admin");
    // The input type lets defaults be left out; the output has them filled in.
    const { age: _, ...withoutAge } = await client.profilesV2.get({ id }, { connection });
    assert.equal((await client.profilesV2.update(withoutAge, { connection })).age, 18);
    // A reserved word, and a method without input or output.
    assert.equal(await client.profilesV2.delete_({ id }, { connection }), null);
    assert.equal(await client.drawing.ping({ connection }), null);

    // A client stream of a union type, and a bidi stream read with for await.
    const draw = new client.drawing.DrawCall({ connection });
    await draw.send({ kind: "rect", width: 2, height: 3 });
    await draw.send({ kind: "circle", radius: 1 });
    const total = await draw.end();
    assert.equal(total.count, 2);
    assert.ok(Math.abs(total.area - (6 + Math.PI)) < 1e-9);
    const trace = client.drawing.trace({ connection });
    await trace.send(1);
    await trace.send("two");
    await trace.end();
    const echoed = [];
    for await (const text of trace) echoed.push(text);
    assert.deepEqual(echoed, ["1", "two"]);

    // Names that clash: get_record and getRecord (deprecated), a schema called Connection.
    assert.deepEqual(await client.drawing.getRecord({ key: "k" }, { connection }), {
      key: "k",
      value: "K",
    });
    assert.deepEqual(await client.drawing.getRecord2({ connection }), []);
    assert.deepEqual(await client.types.connect({ host: "h", port: 1 }, { connection }), {
      host: "h",
      port: 1,
    });
    // Records keyed by an exported enum and by a union of literals, in a schema named like the
    // runtime's ClientCallOptions.
    const settings = {
      limits: { free: 1, pro: 10 },
      overrides: { pro: "fast" },
      weights: { low: 0.1, high: 0.9 },
    };
    assert.deepEqual(await client.types.configure(settings, { connection }), settings);
  });
}
