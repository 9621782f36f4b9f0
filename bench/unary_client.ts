/**
 * Client benchmark process: unary calls in a closed loop, MicroAPI's generated client against a
 * raw loop doing the same JSON work, over HTTP and over WebSocket. Runs unchanged on Deno and
 * Bun, as one long-lived process so that every round runs warm; reads one JSON command per stdin
 * line and answers one JSON line each:
 *
 *   {"transport":"http"|"ws","client":"raw"|"microapi","url":U,"seconds":S,"concurrency":N,
 *    "generated":F}  ->  {"count":calls,"ms":T}
 *
 * `concurrency` loops each call, await the reply, check it, and call again, until `seconds` have
 * passed.
 * - microapi: `getUser({ user_id: 42 }, { connection })` from the client `microapi generate` wrote
 *   for bench/servers/microapi.ts (the module `generated`), through a `Connection` with
 *   `transport` "http" or "ws" (default settings otherwise), one per URL and transport.
 * - raw over HTTP: `fetch(url + "/users/get_user", { method: "POST", headers, body:
 *   JSON.stringify(input) })`, then `await response.json()`: what the generated client does, by
 *   hand.
 * - raw over WebSocket: the runtime's `WebSocket` and bench/servers/raw.ts's echo protocol
 *   (`{"id":n,"user_id":42}` -> `{"id":n,"message":{...}}`), one socket.
 *
 * Every reply is checked: a wrong answer is an error, not a fast result.
 */

import { Connection } from "../mod.ts";
import { answerCommands } from "./commands.ts";
import { RawSocket } from "./raw_ws_socket.ts";

interface Command {
  transport: "http" | "ws";
  client: "raw" | "microapi";
  url: string;
  seconds: number;
  concurrency: number;
  generated: string;
}

interface User {
  username: string;
  age: number;
}

type GetUser = (
  input: { user_id: number },
  options: { connection: Connection },
) => Promise<User>;

const INPUT = { user_id: 42 };
const connections = new Map<string, Connection>();
const rawSockets = new Map<string, RawSocket>();
const generated = new Map<string, GetUser>();

async function generatedGetUser(module: string): Promise<GetUser> {
  let getUser = generated.get(module);
  if (!getUser) {
    const loaded = await import(new URL(`file://${module}`).href) as {
      getUser?: GetUser;
    };
    if (typeof loaded.getUser !== "function") {
      throw new Error(`${module} exports no getUser(): was it generated from the bench services?`);
    }
    generated.set(module, getUser = loaded.getUser);
  }
  return getUser;
}

async function caller(command: Command): Promise<() => Promise<User>> {
  const { transport, client, url } = command;
  if (client === "microapi") {
    const getUser = await generatedGetUser(command.generated);
    const key = `${transport} ${url}`;
    let connection = connections.get(key);
    if (!connection) {
      connections.set(key, connection = new Connection(url, { transport }));
    }
    const options = { connection };
    return () => getUser(INPUT, options);
  }
  if (transport === "http") {
    const target = `${url}/users/get_user`;
    const headers = { "content-type": "application/json" };
    return async () => {
      const response = await fetch(target, {
        method: "POST",
        headers,
        body: JSON.stringify(INPUT),
      });
      if (!response.ok) {
        throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      }
      return await response.json() as User;
    };
  }
  let socket = rawSockets.get(url);
  if (!socket) rawSockets.set(url, socket = new RawSocket(url));
  await socket.ready();
  const raw = socket;
  return () =>
    new Promise<User>((resolve) => {
      const id = raw.open((frame) => {
        raw.done(id);
        resolve(frame.message as User);
      });
      raw.send({ id, ...INPUT });
    });
}

async function run(command: Command): Promise<{ count: number; ms: number }> {
  const call = await caller(command);
  await call(); // connected before the clock starts
  const start = performance.now();
  const stop = start + command.seconds * 1000;
  let count = 0;
  const loop = async () => {
    while (performance.now() < stop) {
      const user = await call();
      if (user?.username !== "alice" || user.age !== 30) {
        throw new Error(`wrong reply ${JSON.stringify(user)}`);
      }
      count++;
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, loop));
  return { count, ms: performance.now() - start };
}

await answerCommands(run);
for (const connection of connections.values()) await connection.close();
for (const socket of rawSockets.values()) socket.close();
// Pooled HTTP connections would keep the process alive for a while.
const host = globalThis as {
  Deno?: { exit(code: number): never };
  process?: { exit(code: number): never };
};
(host.Deno ?? host.process)?.exit(0);
