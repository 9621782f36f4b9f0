/**
 * WebSocket benchmark client; runs unchanged on Deno and Bun, as one long-lived process so that
 * every round runs warm. Reads one JSON command per stdin line and answers one JSON line each.
 *
 * `client` is `"microapi"` (the library's `Connection` with `transport: "ws"`, against
 * `/_microapi/ws`) or `"raw"` (the runtime's `WebSocket` speaking bench/servers/raw.ts's echo protocol
 * against `/ws`). Each keeps one socket per server for all its calls, as a real client would.
 *
 *   {"kind":"unary","client":C,"url":U,"seconds":S,"concurrency":N}
 *     N calls in flight on one socket for S seconds -> {"count":calls,"ms":T}
 *   {"kind":"stream","client":C,"url":U,"messages":M,"batch":B}
 *     one server-streaming call of M messages (raw: B per WebSocket message) -> {"count":M,"ms":T}
 *   {"kind":"bidi","client":C,"url":U,"messages":M,"window":W}
 *     one bidi echo call: M messages sent and read back, at most W unanswered -> {"count":M,"ms":T}
 *   {"kind":"idle_open","url":U,"sockets":K,"perSocket":P}
 *     K MicroAPI connections, P idle server streams on each, every one seen started -> {"count":K*P,"ms":T}
 *   {"kind":"idle_close"}  cancels them and closes the connections -> {"count":K*P,"ms":T}
 *
 * Every reply is checked (ids, values, counts): a wrong answer is an error, not a fast result.
 */

import { Connection, type WebSocketApi } from "../mod.ts";
import { answerCommands } from "./commands.ts";
import { RawSocket } from "./raw_ws_socket.ts";

type Client = "microapi" | "raw";

type Command =
  | { kind: "unary"; client: Client; url: string; seconds: number; concurrency: number }
  | { kind: "stream"; client: Client; url: string; messages: number; batch: number }
  | { kind: "bidi"; client: Client; url: string; messages: number; window: number }
  | { kind: "idle_open"; url: string; sockets: number; perSocket: number }
  | { kind: "idle_close" };

interface Result {
  count: number;
  ms: number;
}

interface User {
  username: string;
  age: number;
}

/** `WS_API=plain|stream|auto` chooses the MicroAPI client's WebSocket API (default auto). */
const api = ((globalThis as { Deno?: { env: { get(name: string): string | undefined } } }).Deno
  ?.env.get("WS_API") ??
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
    .WS_API ??
  "auto") as WebSocketApi;

const connections = new Map<string, Connection>();

function microapi(url: string): Connection {
  let connection = connections.get(url);
  if (!connection) {
    connections.set(url, connection = new Connection(url, { transport: "ws", webSocketApi: api }));
  }
  return connection;
}

const rawSockets = new Map<string, RawSocket>();

async function raw(url: string): Promise<RawSocket> {
  let socket = rawSockets.get(url);
  if (!socket) rawSockets.set(url, socket = new RawSocket(url));
  await socket.ready();
  return socket;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

/** Runs `concurrency` loops of calls until `seconds` have passed; counts completed calls. */
async function unary(
  client: Client,
  url: string,
  seconds: number,
  concurrency: number,
): Promise<Result> {
  let call: () => Promise<User>;
  if (client === "microapi") {
    const connection = microapi(url);
    call = () => connection.unary<User>("users/get_user", { user_id: 42 });
  } else {
    const socket = await raw(url);
    call = () =>
      new Promise<User>((resolve) => {
        const id = socket.open((frame) => {
          socket.done(id);
          resolve(frame.message as User);
        });
        socket.send({ id, user_id: 42 });
      });
  }
  await call(); // connected before the clock starts
  const start = performance.now();
  const stop = start + seconds * 1000;
  let count = 0;
  const loop = async () => {
    while (performance.now() < stop) {
      const user = await call();
      check(user.username === "alice" && user.age === 30, `wrong reply ${JSON.stringify(user)}`);
      count++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { count, ms: performance.now() - start };
}

async function serverStream(
  client: Client,
  url: string,
  messages: number,
  batch: number,
): Promise<Result> {
  let count = 0;
  let start: number;
  if (client === "microapi") {
    const connection = microapi(url);
    await connection.unary("users/get_user", { user_id: 1 }); // connected before the clock
    start = performance.now();
    for await (
      const user of connection.serverStream<User>("users/list_users", { limit: messages })
    ) {
      check(user.age === count, `message ${count} was ${JSON.stringify(user)}`);
      count++;
    }
  } else {
    const socket = await raw(url);
    start = performance.now();
    await new Promise<void>((resolve, reject) => {
      const id = socket.open((frame) => {
        if (frame.end) {
          socket.done(id);
          resolve();
        } else if ((frame.message as User).age !== count++) {
          reject(new Error(`message ${count - 1} was ${JSON.stringify(frame.message)}`));
        }
      });
      socket.send({ id, limit: messages, batch });
    });
  }
  const ms = performance.now() - start;
  check(count === messages, `expected ${messages} messages, got ${count}`);
  return { count, ms };
}

async function bidi(
  client: Client,
  url: string,
  messages: number,
  window: number,
): Promise<Result> {
  const message = (i: number): User => ({ username: `u${i}`, age: i });
  let received = 0;
  let start: number;
  if (client === "microapi") {
    const connection = microapi(url);
    await connection.unary("users/get_user", { user_id: 1 }); // connected before the clock
    start = performance.now();
    const call = connection.bidiStream<User, User>("bench/echo");
    // The transport's credit bounds what is unanswered (`window` is the server's setting).
    const sending = (async () => {
      for (let i = 0; i < messages; i++) await call.send(message(i));
      await call.end();
    })();
    for await (const user of call) {
      check(user.age === received, `echo ${received} was ${JSON.stringify(user)}`);
      received++;
    }
    await sending;
  } else {
    const socket = await raw(url);
    start = performance.now();
    await new Promise<void>((resolve, reject) => {
      let sent = 0;
      const fill = () => {
        while (sent < messages && sent - received < window) {
          socket.send({ id, echo: message(sent++) });
        }
      };
      const id = socket.open((frame) => {
        if ((frame.message as User).age !== received++) {
          reject(new Error(`echo ${received - 1} was ${JSON.stringify(frame.message)}`));
        } else if (received === messages) {
          socket.done(id);
          resolve();
        } else {
          fill();
        }
      });
      fill();
    });
  }
  const ms = performance.now() - start;
  check(received === messages, `expected ${messages} echoes, got ${received}`);
  return { count: received, ms };
}

interface Idle {
  connections: Connection[];
  streams: AsyncIterator<unknown>[];
}

let idle: Idle | undefined;

async function idleOpen(url: string, sockets: number, perSocket: number): Promise<Result> {
  check(idle === undefined, "idle streams are already open");
  const start = performance.now();
  const opened: Idle = { connections: [], streams: [] };
  idle = opened;
  await Promise.all(Array.from({ length: sockets }, async () => {
    const connection = new Connection(url, { transport: "ws", webSocketApi: api });
    opened.connections.push(connection);
    await Promise.all(Array.from({ length: perSocket }, async () => {
      const iterator = connection.serverStream("bench/idle")[Symbol.asyncIterator]();
      opened.streams.push(iterator);
      const first = await iterator.next();
      check(!first.done && (first.value as { ready: boolean }).ready, "idle stream did not start");
    }));
  }));
  return { count: opened.streams.length, ms: performance.now() - start };
}

async function idleClose(): Promise<Result> {
  check(idle !== undefined, "no idle streams are open");
  const start = performance.now();
  const { connections, streams } = idle!;
  idle = undefined;
  await Promise.all(streams.map((stream) => stream.return?.()));
  await Promise.all(connections.map((connection) => connection.close()));
  return { count: streams.length, ms: performance.now() - start };
}

function run(command: Command): Promise<Result> {
  switch (command.kind) {
    case "unary":
      return unary(command.client, command.url, command.seconds, command.concurrency);
    case "stream":
      return serverStream(command.client, command.url, command.messages, command.batch);
    case "bidi":
      return bidi(command.client, command.url, command.messages, command.window);
    case "idle_open":
      return idleOpen(command.url, command.sockets, command.perSocket);
    case "idle_close":
      return idleClose();
  }
}

await answerCommands(run);
for (const connection of connections.values()) await connection.close();
// Raw sockets would keep the process alive.
const host = globalThis as {
  Deno?: { exit(code: number): never };
  process?: { exit(code: number): never };
};
(host.Deno ?? host.process)?.exit(0);
