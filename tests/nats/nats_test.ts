/**
 * What the NATS transport adds to the contract (tests/contract/nats_test.ts runs the contract over
 * it): the max_payload policy, lost frames, heartbeats both ways, no server at all, the NATS
 * service protocol ($SRV), draining, and the WebSocket connector. A nats-server per test; fake
 * peers are raw NATS connections that speak the frames by hand.
 */
import assert from "node:assert/strict";
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { rejection, sleep, test, waitFor, within } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { type NatsServerProcess, startNatsServer } from "../_nats.ts";
import { Connection, MicroAPI, RpcError, Service, stream, z } from "../../mod.ts";
import {
  connectNats,
  discoverServices,
  natsTransport,
  type NatsTransportOptions,
  serveNats,
} from "../../src/nats/mod.ts";

function code(error: unknown): string {
  assert.ok(RpcError.is(error), `expected an RpcError, got ${error}`);
  return error.code;
}

async function withNats(
  fn: (nats: NatsServerProcess) => Promise<void>,
  options: Parameters<typeof startNatsServer>[0] = {},
): Promise<void> {
  const nats = await startNatsServer(options);
  try {
    await fn(nats);
  } finally {
    await nats.stop();
  }
}

function client(url: string, options: NatsTransportOptions = {}): Connection {
  return new Connection(url, { transport: natsTransport(options) });
}

const decoder = new TextDecoder();

/** A raw connection subscribed to a subject, for fake peers. */
async function raw(url: string): Promise<NatsConnection> {
  return await connectNats(url, { name: "fake-peer" });
}

const Text = z.object({ text: z.string() });
const big = new Service("big")
  .method("echo", { input: Text, output: Text }, ({ text }) => ({ text }))
  .method(
    "grow",
    { input: z.object({ size: z.number() }), output: Text },
    ({ size }) => ({ text: "x".repeat(size) }),
  )
  .method("count", { input: stream(Text), output: z.object({ n: z.number() }) }, async (input) => {
    let n = 0;
    for await (const _ of input) n++;
    return { n };
  });

test("NATS: a message over the NATS server's max_payload fails with resource_exhausted, either way; one under it goes through", async () => {
  await withNats(async (nats) => {
    await using server = await serveNats(new MicroAPI({ services: [big] }), {
      servers: nats.url,
    });
    await using connection = client(nats.url);
    const limit = 64 * 1024;
    assert.deepEqual(await connection.unary("big/echo", { text: "y".repeat(60_000) }), {
      text: "y".repeat(60_000),
    });
    const request = await rejection(connection.unary("big/echo", { text: "y".repeat(70_000) }));
    assert.equal(code(request), "resource_exhausted");
    assert.match(
      (request as Error).message,
      /^A request message of \d+ bytes exceeds the NATS server's max_payload of 65536 bytes/,
    );
    assert.equal((request as RpcError & { details: { limit: number } }).details.limit, limit);
    const response = await rejection(connection.unary("big/grow", { size: 70_000 }));
    assert.equal(code(response), "resource_exhausted");
    assert.match((response as Error).message, /^A response message of \d+ bytes exceeds/);
    const call = connection.clientStream("big/count");
    await call.send({ text: "small" });
    const sent = await rejection(call.send({ text: "y".repeat(70_000) }));
    assert.equal(code(sent), "resource_exhausted");
    assert.equal(code(await rejection(call.end())), "resource_exhausted");
    // The connection and the server are fine afterwards.
    assert.deepEqual(await connection.unary("big/grow", { size: 3 }), { text: "xxx" });
    assert.equal(server.activeCalls, 0);
  }, { maxPayload: 64 * 1024 });
});

/** A fake server for one method: answers each open frame with `answer(reply, open)`. */
async function fakeServer(
  url: string,
  subject: string,
  answer: (nc: NatsConnection, msg: Msg, inbox: string) => void,
): Promise<NatsConnection> {
  const nc = await raw(url);
  const inbox = `_INBOX.fake${Math.random().toString(36).slice(2)}`;
  nc.subscribe(`${inbox}.*`, { callback: () => {} });
  nc.subscribe(subject, { callback: (_error, msg) => answer(nc, msg, inbox) });
  await nc.flush();
  return nc;
}

test("NATS: a lost frame fails the call with data_loss, after the messages before it", async () => {
  await withNats(async (nats) => {
    const fake = await fakeServer(nats.url, "microapi.fake.stream", (nc, msg, inbox) => {
      const frames = [1, 2, 4].map((id) => JSON.stringify({ type: "message", id, data: { id } }));
      nc.publish(msg.reply!, frames.join("\n"), { reply: `${inbox}.1` });
    });
    try {
      await using connection = client(nats.url);
      const seen: unknown[] = [];
      const error = await within(
        rejection((async () => {
          for await (const m of connection.serverStream("fake/stream", {})) seen.push(m);
        })()),
        3000,
        "the gap",
      );
      assert.deepEqual(seen, [{ id: 1 }, { id: 2 }]);
      assert.equal(code(error), "data_loss");
      assert.match((error as Error).message, /expected frame 3, got 4/);
    } finally {
      await fake.close();
    }
  });
});

test("NATS: a server that goes silent fails its calls with unavailable within three heartbeats", async () => {
  await withNats(async (nats) => {
    const fake = await fakeServer(nats.url, "microapi.fake.stream", (nc, msg, inbox) => {
      // Takes the call (a heartbeat names its subject), then says nothing more: a frozen
      // process, or a machine gone without closing its connection.
      nc.publish(msg.reply!, '{"type":"ping"}', { reply: `${inbox}.1` });
    });
    try {
      await using connection = client(nats.url, { heartbeatMs: 100 });
      const started = Date.now();
      const error = await within(
        rejection(connection.serverStream("fake/stream", {}).toArray()),
        3000,
        "the heartbeat timeout",
      );
      const elapsed = Date.now() - started;
      assert.equal(code(error), "unavailable");
      assert.match((error as Error).message, /^No answer from the server for \d+ ms/);
      assert.ok(elapsed >= 300 && elapsed < 1500, `failed after ${elapsed} ms`);
    } finally {
      await fake.close();
    }
  });
});

/** An app whose `slow/wait` handler waits for its signal and records why and when it aborted. */
function waitingApp() {
  const aborted: { reason: RpcError; at: number }[] = [];
  const started = Promise.withResolvers<void>();
  const slow = new Service("slow").method(
    "wait",
    { output: z.object({ ok: z.boolean() }) },
    async (_input, ctx) => {
      started.resolve();
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener("abort", () => {
          aborted.push({ reason: ctx.signal.reason as RpcError, at: Date.now() });
          resolve();
        })
      );
      return { ok: false };
    },
  );
  return { app: new MicroAPI({ services: [slow] }), aborted, started: started.promise };
}

function openFrame(heartbeatMs: number): string {
  return JSON.stringify({
    type: "open",
    id: 1,
    service: "slow",
    method: "wait",
    pattern: "unary",
    heartbeat_ms: heartbeatMs,
  });
}

test("NATS: a client whose connection closes mid-call aborts the handler's signal promptly", async () => {
  await withNats(async (nats) => {
    const { app, aborted, started } = waitingApp();
    await using _server = await serveNats(app, { servers: nats.url });
    const nc = await raw(nats.url);
    nc.subscribe("_INBOX.gone.*", { callback: () => {} });
    await nc.flush();
    nc.publish("microapi.slow.wait", openFrame(1000), { reply: "_INBOX.gone.1" });
    await within(started, 3000, "the handler");
    const closed = Date.now();
    await nc.close();
    await waitFor(() => aborted.length === 1, "the handler's signal", 3000);
    assert.equal(aborted[0]!.reason.code, "cancelled");
    assert.match(aborted[0]!.reason.message, /The client went away/);
    assert.ok(aborted[0]!.at - closed < 1500, `aborted ${aborted[0]!.at - closed} ms later`);
  });
});

test("NATS: a client that stops sending heartbeats has its handler's signal aborted after three", async () => {
  await withNats(async (nats) => {
    const { app, aborted, started } = waitingApp();
    await using _server = await serveNats(app, { servers: nats.url });
    const nc = await raw(nats.url);
    try {
      // Subscribed (so nothing bounces), but silent: a frozen client.
      nc.subscribe("_INBOX.silent.*", { callback: () => {} });
      await nc.flush();
      const opened = Date.now();
      nc.publish("microapi.slow.wait", openFrame(100), { reply: "_INBOX.silent.1" });
      await within(started, 3000, "the handler");
      await waitFor(() => aborted.length === 1, "the handler's signal", 3000);
      assert.match(aborted[0]!.reason.message, /^The client went away \(no heartbeat for \d+ ms\)/);
      const after = aborted[0]!.at - opened;
      assert.ok(after >= 300 && after < 1500, `aborted after ${after} ms`);
    } finally {
      await nc.close();
    }
  });
});

test("NATS: a client that keeps sending heartbeats keeps a long call alive", async () => {
  await withNats(async (nats) => {
    const ticks = new Service("ticks").method(
      "slow",
      { input: z.object({ ms: z.number() }), output: z.object({ done: z.boolean() }) },
      async ({ ms }) => {
        await sleep(ms);
        return { done: true };
      },
    );
    await using _server = await serveNats(new MicroAPI({ services: [ticks] }), {
      servers: nats.url,
    });
    await using connection = client(nats.url, { heartbeatMs: 200 });
    // Ten heartbeats long: neither side gives up on the other.
    assert.deepEqual(await connection.unary("ticks/slow", { ms: 2000 }), { done: true });
  });
});

test("NATS: a call nobody serves fails with unavailable, naming the subject", async () => {
  await withNats(async (nats) => {
    await using connection = client(nats.url);
    const error = await within(
      rejection(connection.unary("users/get_user", { user_id: 1 })),
      5000,
      "no responders",
    );
    assert.equal(code(error), "unavailable");
    assert.equal(
      (error as Error).message,
      "No server serves users.get_user over NATS: nothing subscribes to microapi.users.get_user " +
        `(at ${nats.url})`,
    );
  });
});

test("NATS: $SRV.PING, INFO and STATS describe each service instance, with pattern and schema hash", async () => {
  await withNats(async (nats) => {
    const { services } = fixtureServices();
    await using _server = await serveNats(new MicroAPI({ services, onError: () => {} }), {
      servers: nats.url,
      queue: "workers",
    });
    await using connection = client(nats.url);
    for (let i = 0; i < 3; i++) await connection.unary("users/get_user", { user_id: 1 });
    await rejection(connection.unary("users/get_user", { user_id: 404 }));
    const nc = await raw(nats.url);
    try {
      const gather = async (subject: string) => {
        const replies = await nc.requestMany(subject, "", { strategy: "stall", maxWait: 2000 });
        const out: Record<string, unknown>[] = [];
        for await (const msg of replies) out.push(JSON.parse(decoder.decode(msg.data)));
        return out;
      };
      const pings = await gather("$SRV.PING");
      assert.deepEqual(
        pings.map((p) => `${p.name} ${p.version}`).sort(),
        [
          "analytics 0.0.0",
          "chat 0.0.0",
          "health 0.0.0",
          "inspect 0.0.0",
          "probes 0.0.0",
          "users 0.0.0",
          "users 2.0.0",
        ],
      );
      assert.ok(pings.every((p) => p.type === "io.nats.micro.v1.ping_response"));
      const users = (await gather("$SRV.INFO.users")).find((s) => s.version === "0.0.0")!;
      assert.equal(users.type, "io.nats.micro.v1.info_response");
      assert.equal(users.description, "User accounts");
      assert.deepEqual(users.metadata, { "microapi.protocol": "1" });
      const endpoints = users.endpoints as Record<string, unknown>[];
      assert.deepEqual(endpoints.map((e) => [e.name, e.subject, e.queue_group]), [
        ["get_user", "microapi.users.get_user", "workers"],
        ["list_users", "microapi.users.list_users", "workers"],
      ]);
      const metadata = endpoints[0]!.metadata as Record<string, string>;
      assert.equal(metadata.pattern, "unary");
      assert.equal(metadata.route, "/users/get_user");
      assert.match(metadata.schema_hash!, /^[0-9a-f]{64}$/);
      // Only the instance asked by id answers.
      const byId = await gather(`$SRV.STATS.users.${users.id}`);
      assert.equal(byId.length, 1);
      const stats = (byId[0]!.endpoints as Record<string, unknown>[])[0]!;
      assert.equal(byId[0]!.type, "io.nats.micro.v1.stats_response");
      assert.equal(stats.num_requests, 4);
      assert.equal(stats.num_errors, 1);
      assert.equal(stats.last_error, "not_found: No user 404");
      assert.ok((stats.average_processing_time as number) > 0);
      assert.equal(typeof byId[0]!.started, "string");
      // discoverServices() reads the same, and tells MicroAPI's services by their metadata.
      const found = await discoverServices(nats.url, { connection: nc });
      assert.equal(found.length, 7);
      assert.ok(found.every((s) => s.microapi));
      const v2 = found.find((s) => s.name === "users" && s.version === "2.0.0")!;
      assert.notEqual(v2.endpoints[0]!.metadata.schema_hash, metadata.schema_hash);
      assert.equal(found.find((s) => s.id === users.id)!.endpoints[0]!.num_requests, 4);
    } finally {
      await nc.close();
    }
  });
});

test("NATS: the schema hash is the same for the same contract in another process, and changes with it", async () => {
  await withNats(async (nats) => {
    const make = (output: z.ZodType) =>
      new MicroAPI({
        services: [new Service("shape").method("get", { output }, () => ({ a: 1 }))],
      });
    await using _one = await serveNats(make(z.object({ a: z.number() })), { servers: nats.url });
    await using _two = await serveNats(make(z.object({ a: z.number() })), { servers: nats.url });
    await using _three = await serveNats(make(z.object({ a: z.string() })), {
      servers: nats.url,
    });
    const found = await discoverServices(nats.url);
    const hashes = found.filter((s) => s.name === "shape").map((s) =>
      s.endpoints[0]!.metadata.schema_hash
    );
    assert.equal(hashes.length, 3);
    assert.equal(new Set(hashes).size, 2);
  });
});

test("NATS: shutdown leaves the queue group first and finishes the calls in flight; new calls go to the other process", async () => {
  await withNats(async (nats) => {
    const served: string[] = [];
    const make = (tag: string) =>
      new MicroAPI({
        services: [
          new Service("work").method(
            "do",
            { input: z.object({ ms: z.number() }), output: z.object({ tag: z.string() }) },
            async ({ ms }) => {
              served.push(tag);
              await sleep(ms);
              return { tag };
            },
          ),
        ],
      });
    const a = await serveNats(make("a"), { servers: nats.url });
    const b = await serveNats(make("b"), { servers: nats.url });
    await using connection = client(nats.url);
    try {
      const slow = connection.unary<{ tag: string }>("work/do", { ms: 600 });
      await waitFor(() => served.length === 1, "the slow call to start");
      const busy = served[0] === "a" ? a : b;
      const other = busy === a ? "b" : "a";
      const stopping = busy.shutdown({ gracePeriodMs: 5000 });
      await sleep(50);
      const quick = await Promise.all(
        Array.from({ length: 20 }, () => connection.unary<{ tag: string }>("work/do", { ms: 0 })),
      );
      assert.deepEqual(new Set(quick.map((r) => r.tag)), new Set([other]));
      assert.equal(busy.activeCalls, 1, "the call in flight is still running");
      assert.deepEqual(await slow, { tag: served[0] });
      await within(stopping, 3000, "the drained shutdown");
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
  });
});

test("NATS: the WebSocket connector (ws://) carries the calls too", async () => {
  await withNats(async (nats) => {
    const { services } = fixtureServices();
    await using _server = await serveNats(new MicroAPI({ services, onError: () => {} }), {
      servers: nats.url,
    });
    await using connection = client(nats.wsUrl!);
    assert.deepEqual(await connection.unary("users/get_user", { user_id: 3 }), {
      username: "user3",
      age: 30,
    });
    assert.equal(
      (await connection.serverStream("probes/count", { to: 500 }).toArray()).length,
      500,
    );
    const chat = connection.bidiStream<{ text: string }, { text: string }>("chat/echo");
    await chat.send({ text: "hi" });
    assert.deepEqual(await chat.next(), { done: false, value: { text: "HI" } });
    await chat.end();
  }, { websocket: true });
});

test("Connection: a nats: URL without the NATS transport says how to get it", () => {
  assert.throws(
    () => new Connection("nats://127.0.0.1:4222"),
    {
      name: "TypeError",
      message: "Invalid server URL nats://127.0.0.1:4222: expected http: or https: (for NATS, " +
        'pass { transport: natsTransport() } from "@microapi/core/nats")',
    },
  );
});
