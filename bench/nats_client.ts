/**
 * NATS benchmark client; runs unchanged on Deno and Bun, one long-lived process. Reads one JSON
 * command per stdin line and answers one JSON line each (bench/commands.ts):
 *
 *   {"client":"raw"|"microapi"|"http","url":...,"prefix":"one","seconds":S,"concurrency":C}
 *   -> {"calls":N,"ms":T}       unary calls in a closed loop, C in flight, for S seconds
 *   {"client":...,"url":...,"prefix":...,"limit":N}
 *   -> {"messages":N,"ms":T}    one server-streaming call of N messages
 *
 * - `raw`: `@nats-io/transport-node`'s `request()` (JSON in, parsed and checked out); streams are
 *   a subscription on a fresh inbox that parses each message until the empty end message.
 * - `microapi`: `Connection` with `natsTransport({ prefix })`: `unary("users/get_user")` and
 *   `serverStream("users/list_users")`.
 * - `http`: `Connection` over HTTP to bench/server.ts's MicroAPI server, for comparison.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createInbox } from "@nats-io/nats-core";
import { Connection } from "../mod.ts";
import { natsTransport } from "../src/nats/mod.ts";
import { answerCommands } from "./commands.ts";

interface Command {
  client: "raw" | "microapi" | "http";
  url: string;
  prefix: string;
  seconds?: number;
  concurrency?: number;
  limit?: number;
}

const raws = new Map<string, NatsConnection>();
const connections = new Map<string, Connection>();

async function rawConnection(url: string): Promise<NatsConnection> {
  let nc = raws.get(url);
  if (!nc) raws.set(url, nc = await connect({ servers: url }));
  return nc;
}

function connectionFor(command: Command): Connection {
  const key = `${command.client} ${command.url} ${command.prefix}`;
  let connection = connections.get(key);
  if (!connection) {
    connection = command.client === "http"
      ? new Connection(command.url)
      : new Connection(command.url, { transport: natsTransport({ prefix: command.prefix }) });
    connections.set(key, connection);
  }
  return connection;
}

async function unary(command: Command): Promise<{ calls: number; ms: number }> {
  const request = JSON.stringify({ user_id: 42 });
  let call: () => Promise<unknown>;
  if (command.client === "raw") {
    const nc = await rawConnection(command.url);
    const subject = `${command.prefix}.users.get_user`;
    call = async () => (await nc.request(subject, request, { timeout: 10_000 })).json();
  } else {
    const connection = connectionFor(command);
    call = () => connection.unary("users/get_user", { user_id: 42 });
  }
  const end = performance.now() + command.seconds! * 1000;
  const start = performance.now();
  let calls = 0;
  await Promise.all(Array.from({ length: command.concurrency! }, async () => {
    while (performance.now() < end) {
      const user = await call() as { username?: string };
      if (user.username !== "alice") throw new Error(`unexpected answer ${JSON.stringify(user)}`);
      calls++;
    }
  }));
  return { calls, ms: performance.now() - start };
}

async function serverStream(command: Command): Promise<{ messages: number; ms: number }> {
  const limit = command.limit!;
  const start = performance.now();
  let messages = 0;
  let last: { age?: number } | undefined;
  if (command.client === "raw") {
    const nc = await rawConnection(command.url);
    const inbox = createInbox();
    const done = Promise.withResolvers<void>();
    const subscription = nc.subscribe(inbox, {
      callback: (_error, msg) => {
        if (msg.data.length === 0) return done.resolve();
        last = msg.json();
        messages++;
      },
    });
    nc.publish(`${command.prefix}.users.list_users`, JSON.stringify({ limit }), { reply: inbox });
    await done.promise;
    subscription.unsubscribe();
  } else {
    for await (
      const message of connectionFor(command).serverStream("users/list_users", { limit })
    ) {
      last = message as { age?: number };
      messages++;
    }
  }
  const ms = performance.now() - start;
  if (messages !== limit || last?.age !== limit - 1) {
    throw new Error(`expected ${limit} messages, got ${messages}`);
  }
  return { messages, ms };
}

await answerCommands<Command>((command) =>
  command.limit === undefined ? unary(command) : serverStream(command)
);
// stdin closed: the connections would keep the process alive.
await Promise.all([...connections.values()].map((c) => c.close()));
await Promise.all([...raws.values()].map((nc) => nc.close()));
