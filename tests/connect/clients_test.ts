/**
 * Connect-ES, the Connect team's own TypeScript client, against MicroAPI servers: `connect-web`
 * (over fetch, as in a browser) with the Connect protocol and gRPC-Web, and `connect-node` over
 * HTTP/1.1 and h2c, JSON and binary. Each client calls a server in this runtime and one in the
 * other (a Deno client and a Bun server under `deno test`, and the other way round under
 * `bun test`), so every pairing of the two runtimes is covered. The client is generated from
 * nothing but the descriptors MicroAPI derives from the zod schemas, as a client generated from
 * the `.proto` files would be.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport as webConnect,
  createGrpcWebTransport as webGrpcWeb,
} from "@connectrpc/connect-web";
import {
  createConnectTransport as nodeConnect,
  createGrpcWebTransport as nodeGrpcWeb,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { rejection, runtime, sleep, test, within } from "../_harness.ts";
import { runProgram } from "../_process.ts";
import type { ProbeStateData } from "../_fixtures.ts";
import { Connection, MicroAPI } from "../../mod.ts";
import { connect } from "../../src/connect/mod.ts";
import { connectServices, registryOf, serviceDesc } from "./_helpers.ts";

const other = runtime === "deno" ? "bun" : "deno";
const registry = registryOf(connectServices().services);

/** A server under test. */
interface Target {
  url: string;
  [Symbol.asyncDispose](): Promise<void>;
}

async function local(): Promise<Target> {
  const { services } = connectServices();
  const server = await new MicroAPI({ services, protocols: [connect()], onError: () => {} })
    .serve({ port: 0, hostname: "127.0.0.1", http2: true });
  return {
    url: server.url,
    [Symbol.asyncDispose]: () => server.shutdown({ gracePeriodMs: 1000 }),
  };
}

async function remote(): Promise<Target> {
  const child = runProgram(other, "connect_server.ts");
  try {
    const ready = await within(child.ready, 30_000, `the ${other} server (${child.stderr()})`);
    assert.equal(ready.runtime, other);
    return {
      url: String(ready.url),
      async [Symbol.asyncDispose]() {
        child.kill();
        await child.exited;
      },
    };
  } catch (error) {
    child.kill();
    await child.exited;
    throw error;
  }
}

/** A Connect-ES transport, what it can do, and how to close it. */
interface ClientSpec {
  name: string;
  /** Sends request streams (fetch cannot: connect-web has unary and server streaming only). */
  streamsRequests: boolean;
  /** Bidi is full duplex: a reply arrives before the client sends its next message. */
  fullDuplex: boolean;
  make(url: string): { transport: Transport; methods: string[]; close(): void };
}

function recordingFetch(methods: string[]): typeof fetch {
  return (input, init) => {
    methods.push(init?.method ?? (input instanceof Request ? input.method : "GET"));
    return fetch(input, init);
  };
}

const CLIENTS: ClientSpec[] = [
  {
    name: "connect-web Connect JSON (GET for side-effect-free methods)",
    streamsRequests: false,
    fullDuplex: false,
    make(url) {
      const methods: string[] = [];
      const transport = webConnect({
        baseUrl: url,
        useHttpGet: true,
        fetch: recordingFetch(methods),
      });
      return { transport, methods, close() {} };
    },
  },
  {
    name: "connect-web Connect binary",
    streamsRequests: false,
    fullDuplex: false,
    make: (url) => ({
      transport: webConnect({ baseUrl: url, useBinaryFormat: true }),
      methods: [],
      close() {},
    }),
  },
  {
    name: "connect-web gRPC-Web",
    streamsRequests: false,
    fullDuplex: false,
    make: (url) => ({ transport: webGrpcWeb({ baseUrl: url }), methods: [], close() {} }),
  },
  ...(["JSON", "binary"] as const).flatMap((format): ClientSpec[] => [
    {
      name: `connect-node Connect HTTP/1.1 ${format}`,
      streamsRequests: true,
      fullDuplex: true,
      make(url) {
        const agent = new http.Agent({ keepAlive: false });
        const transport = nodeConnect({
          baseUrl: url,
          httpVersion: "1.1",
          useBinaryFormat: format === "binary",
          nodeOptions: { agent },
        });
        return { transport, methods: [], close: () => agent.destroy() };
      },
    },
    {
      name: `connect-node Connect h2c ${format}`,
      streamsRequests: true,
      fullDuplex: true,
      make(url) {
        const sessionManager = new Http2SessionManager(url);
        const transport = nodeConnect({
          baseUrl: url,
          httpVersion: "2",
          useBinaryFormat: format === "binary",
          sessionManager,
        });
        return { transport, methods: [], close: () => sessionManager.abort() };
      },
    },
  ]),
  {
    name: "connect-node gRPC-Web HTTP/1.1",
    streamsRequests: true,
    fullDuplex: true,
    make(url) {
      const agent = new http.Agent({ keepAlive: false });
      const transport = nodeGrpcWeb({ baseUrl: url, httpVersion: "1.1", nodeOptions: { agent } });
      return { transport, methods: [], close: () => agent.destroy() };
    },
  },
  {
    name: "connect-node gRPC-Web h2c",
    streamsRequests: true,
    fullDuplex: true,
    make(url) {
      const sessionManager = new Http2SessionManager(url);
      const transport = nodeGrpcWeb({ baseUrl: url, httpVersion: "2", sessionManager });
      return { transport, methods: [], close: () => sessionManager.abort() };
    },
  },
];

// The clients are typed by the descriptors at run time; these are the shapes the tests use.
type Options = {
  signal?: AbortSignal;
  timeoutMs?: number;
  headers?: HeadersInit;
  onHeader?: (headers: Headers) => void;
  onTrailer?: (trailers: Headers) => void;
};
type Unary<I, O> = (input: I, options?: Options) => Promise<O>;
type ServerStream<I, O> = (input: I, options?: Options) => AsyncIterable<O>;
type ClientStream<I, O> = (input: AsyncIterable<I>, options?: Options) => Promise<O>;
type Bidi<I, O> = (input: AsyncIterable<I>, options?: Options) => AsyncIterable<O>;

interface Clients {
  users: {
    getUser: Unary<{ userId: number }, { username: string; age: bigint }>;
    listUsers: ServerStream<{ limit?: number }, { username: string }>;
  };
  analytics: { aggregate: ClientStream<{ value: number }, { count: bigint; sum: number }> };
  chat: { echo: Bidi<{ text: string }, { text: string }> };
  probes: {
    metadata: Unary<Record<string, never>, { caller: string }>;
    ignoreSignal: Unary<{ ms: number }, { done: boolean }>;
    deadline: Unary<{ ms: number }, { remainingMs: number }>;
    slow: Unary<{ ms: number }, { done: boolean }>;
    ticks: ServerStream<{ everyMs: number }, { i: number }>;
  };
  extras: {
    lookup: Unary<{ key: string; tags?: string[] }, { key: string; tags: string[] }>;
    big: Unary<{ size: number }, { text: string }>;
  };
}

function clientsOf(transport: Transport): Clients {
  const of = (name: string) => createClient(serviceDesc(registry, name), transport) as never;
  return {
    users: of("users.Users"),
    analytics: of("analytics.Analytics"),
    chat: of("chat.Chat"),
    probes: of("probes.Probes"),
    extras: of("extras.v1.Extras"),
  };
}

function connectError(error: unknown): ConnectError {
  assert.ok(error instanceof ConnectError, `expected a ConnectError, got ${error}`);
  return error;
}

async function state(url: string): Promise<ProbeStateData> {
  await using probe = new Connection(url);
  return await probe.unary<ProbeStateData>("inspect/state");
}

async function until(url: string, check: (s: ProbeStateData) => boolean, what: string) {
  const started = Date.now();
  for (;;) {
    const s = await state(url);
    if (check(s)) return s;
    if (Date.now() - started > 5000) {
      throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(s)}`);
    }
    await sleep(10);
  }
}

async function exercise(spec: ClientSpec, url: string): Promise<void> {
  const client = spec.make(url);
  try {
    const { users, analytics, chat, probes, extras } = clientsOf(client.transport);

    // Unary, and a server stream.
    const user = await users.getUser({ userId: 3 });
    assert.equal(user.username, "user3");
    assert.equal(user.age, 30n);
    const listed: string[] = [];
    for await (const u of users.listUsers({ limit: 3 })) listed.push(u.username);
    assert.deepEqual(listed, ["user0", "user1", "user2"]);
    // A zero value left out by the client: zod's default applies (3 in the fixture).
    const defaulted: string[] = [];
    for await (const u of users.listUsers({})) defaulted.push(u.username);
    assert.equal(defaulted.length, 3);
    const found = await extras.lookup({ key: "k", tags: ["a", "b"] });
    assert.deepEqual([found.key, found.tags], ["k", ["a", "b"]]);
    if (client.methods.length > 0) assert.ok(client.methods.includes("GET"), `${client.methods}`);
    // Compressed responses (gzip is offered by Connect-ES), large enough to be compressed.
    assert.equal((await extras.big({ size: 20_000 })).text.length, 20_000);

    // Errors: the code, the message and MicroAPI's details as a google.protobuf.Value.
    const missing = connectError(await rejection(users.getUser({ userId: 404 })));
    assert.equal(missing.code, Code.NotFound);
    assert.equal(missing.rawMessage, "No user 404");
    assert.deepEqual(missing.findDetails(ValueSchema).map((v) => toJson(ValueSchema, v)), [
      { user_id: 404 },
    ]);
    const invalid = connectError(await rejection(extras.big({ size: -1 })));
    assert.equal(invalid.code, Code.InvalidArgument);
    assert.match(invalid.rawMessage, /^Invalid request: size: /);
    const internal = connectError(await rejection(users.getUser({ userId: 500 })));
    assert.equal(internal.code, Code.Internal);
    assert.equal(internal.rawMessage, "internal error");

    // Metadata out; headers and trailers back.
    let headers: Headers | undefined;
    let trailers: Headers | undefined;
    const meta = await probes.metadata({}, {
      headers: { "x-caller": "connect-es" },
      onHeader: (h) => (headers = h),
      onTrailer: (t) => (trailers = t),
    });
    assert.equal(meta.caller, "connect-es");
    assert.equal(headers?.get("x-served-by"), "probes");
    assert.equal(trailers?.get("x-cost"), "7");

    // A timeout reaches the server as its deadline, and fails the call at the client in time.
    const { remainingMs } = await probes.deadline({ ms: 1 }, { timeoutMs: 60_000 });
    assert.ok(remainingMs > 55_000 && remainingMs <= 60_000, `remaining ${remainingMs}`);
    const late = connectError(await rejection(probes.ignoreSignal({ ms: 300 }, { timeoutMs: 60 })));
    assert.equal(late.code, Code.DeadlineExceeded);
    // The handler's signal aborts: by the server's deadline, or by the client leaving at its own
    // (both fire at 60 ms; which one the server notices first is a race).
    const timed = await until(url, (s) => s.reasons.ignore_signal !== null, "the deadline");
    assert.match(timed.reasons.ignore_signal!, /^(deadline_exceeded|cancelled)$/);

    // Cancellation reaches the handler's signal.
    const controller = new AbortController();
    const slow = probes.slow({ ms: 5000 }, { signal: controller.signal });
    await until(url, (s) => s.started.includes("slow"), "the slow handler");
    controller.abort();
    assert.equal(connectError(await rejection(slow)).code, Code.Canceled);
    const aborted = await until(url, (s) => s.reasons.slow !== null, "the handler's signal");
    assert.equal(aborted.reasons.slow, "cancelled");
    // Leaving a server stream early ends the handler.
    let ticks = 0;
    for await (const _ of probes.ticks({ everyMs: 5 })) if (++ticks === 3) break;
    await until(url, (s) => s.finalized.includes("ticks"), "the ticks handler's finally");

    if (spec.streamsRequests) {
      const points = async function* () {
        for (const value of [1, 2, 3.5]) yield { value };
      };
      const summary = await analytics.aggregate(points());
      assert.deepEqual([summary.count, summary.sum], [3n, 6.5]);
      const replies: string[] = [];
      for await (
        const reply of chat.echo((async function* () {
          yield { text: "a" };
          yield { text: "b" };
        })())
      ) replies.push(reply.text);
      assert.deepEqual(replies, ["A", "B"]);
    }
    if (spec.fullDuplex) {
      // The client sends "b" only once the reply to "a" has arrived: a half-duplex path would
      // wait forever here.
      const replied = Promise.withResolvers<void>();
      const conversation = (async () => {
        const replies: string[] = [];
        for await (
          const reply of chat.echo((async function* () {
            yield { text: "a" };
            await replied.promise;
            yield { text: "b" };
          })())
        ) {
          replies.push(reply.text);
          replied.resolve();
        }
        return replies;
      })();
      assert.deepEqual(await within(conversation, 5000, "a full-duplex conversation"), ["A", "B"]);
    }
    await sleep(300); // the ignored timer of ignore_signal ends before the server stops
  } finally {
    client.close();
  }
}

for (const spec of CLIENTS) {
  for (const [where, start] of [[runtime, local], [other, remote]] as const) {
    test(
      `Connect-ES ${spec.name} -> ${where} server: four patterns, errors, metadata, deadlines, cancel`,
      async () => {
        await using target = await start();
        await exercise(spec, target.url);
      },
      { timeoutMs: 60_000 },
    );
  }
}
