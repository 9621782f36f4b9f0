/**
 * Benchmark server, one process per server under test; runs unchanged on Deno and Bun.
 *
 * Usage: `deno run -A bench/server.ts raw|microapi` or `bun bench/server.ts raw|microapi`.
 * Prints one line `PORT <n>` once listening on 127.0.0.1, then serves until SIGTERM (on which it
 * exits cleanly, so that `--cpu-prof` profiles get written).
 *
 * - `microapi`: a MicroAPI app with `users/get_user` (unary) and `users/list_users` (server
 *   streaming), validated by zod as usual.
 * - `raw`: the runtime's own server (`Deno.serve` or `Bun.serve`) with no framework:
 *   `POST /users/get_user` does `await req.json()` then `Response.json(...)`;
 *   `POST /users/list_users` streams NDJSON from a ReadableStream, one chunk per message;
 *   `POST /users/list_users_batched` does the same with 512 messages per chunk;
 *   `POST /ceiling` answers a constant JSON body without reading the request: the cheapest
 *   request there is, used to show how far the load generator itself can go.
 *   The streamed lines are byte for byte what MicroAPI sends (`{"message":...}` lines, then
 *   `{"end":{"code":"ok"}}`), so the same client does the same work on every server.
 */

import { MicroAPI, Service, streaming, z } from "../mod.ts";

/** Messages per chunk of the batched raw baseline. */
export const BATCH = 512;

const kind = (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv[2];

type Handler = (req: Request) => Response | Promise<Response>;

interface BunRuntime {
  serve(options: { port: number; hostname: string; fetch: Handler }): { port: number };
}

const encoder = new TextEncoder();
const END_LINE = '{"end":{"code":"ok"}}\n';

function messageLine(i: number): string {
  return `{"message":${JSON.stringify({ username: `u${i}`, age: i })}}\n`;
}

/** NDJSON body of `limit` messages, `perChunk` messages per enqueued chunk, made as read. */
function ndjsonBody(limit: number, perChunk: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (perChunk === 1) {
        if (i < limit) controller.enqueue(encoder.encode(messageLine(i++)));
      } else {
        let text = "";
        const stop = Math.min(limit, i + perChunk);
        while (i < stop) text += messageLine(i++);
        if (text !== "") controller.enqueue(encoder.encode(text));
      }
      if (i >= limit) {
        controller.enqueue(encoder.encode(END_LINE));
        controller.close();
      }
    },
  });
}

const NDJSON_HEADERS = { "content-type": "application/x-ndjson" };
const JSON_HEADERS = { "content-type": "application/json" };

const raw: Handler = async (req) => {
  const url = req.url;
  const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  if (req.method === "POST" && path === "/users/get_user") {
    const body = await req.json();
    void body;
    return Response.json({ username: "alice", age: 30 });
  }
  if (path === "/ceiling") {
    return new Response('{"username":"alice","age":30}', { headers: JSON_HEADERS });
  }
  if (req.method === "POST" && path === "/users/list_users") {
    const { limit } = await req.json();
    return new Response(ndjsonBody(limit, 1), { headers: NDJSON_HEADERS });
  }
  if (req.method === "POST" && path === "/users/list_users_batched") {
    const { limit } = await req.json();
    return new Response(ndjsonBody(limit, BATCH), { headers: NDJSON_HEADERS });
  }
  return new Response("not found", { status: 404 });
};

const User = z.object({ username: z.string(), age: z.number().int() });
const users = new Service("users")
  .method(
    "get_user",
    { input: z.object({ user_id: z.number().int() }), output: User },
    () => ({ username: "alice", age: 30 }),
  )
  .method(
    "list_users",
    { input: z.object({ limit: z.number().int() }), output: streaming(User) },
    async function* ({ limit }) {
      for (let i = 0; i < limit; i++) yield { username: `u${i}`, age: i };
    },
  );

let port: number;
if (kind === "microapi") {
  const server = await new MicroAPI({ services: [users] }).serve({
    port: 0,
    hostname: "127.0.0.1",
  });
  port = server.port;
} else if (kind === "raw") {
  if ("Bun" in globalThis) {
    const bun = (globalThis as unknown as { Bun: BunRuntime }).Bun;
    port = bun.serve({ port: 0, hostname: "127.0.0.1", fetch: raw }).port;
  } else {
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, raw);
    port = server.addr.port;
  }
} else {
  throw new Error(`usage: server.ts raw|microapi (got ${JSON.stringify(kind)})`);
}
// Exit cleanly on SIGTERM, so that a `--cpu-prof` profile is written.
if ("Bun" in globalThis) {
  const proc = (globalThis as unknown as {
    process: { on(signal: string, fn: () => void): void; exit(code: number): never };
  }).process;
  proc.on("SIGTERM", () => proc.exit(0));
} else {
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}
console.log(`PORT ${port}`);
