/**
 * The raw baseline: the runtime's own server (`Deno.serve` or `Bun.serve`) with no framework,
 * doing the same work as MicroAPI's methods. Imports nothing, so that its start-up time and memory
 * are the runtime's own.
 *
 * - `POST /users/get_user` does `await req.json()` then `Response.json(...)`;
 * - `POST /users/list_users` streams NDJSON from a ReadableStream, one chunk per message;
 * - `POST /users/list_users_batched` does the same with 512 messages per chunk;
 * - `POST /ceiling` answers a constant JSON body without reading the request: the cheapest
 *   request there is, used to show how far the load generator itself can go.
 *
 * The streamed lines are byte for byte what MicroAPI sends (`{"message":...}` lines, then
 * `{"end":{"code":"ok"}}`), so the same client does the same work on every server.
 *
 * It also answers WebSocket upgrades at `/ws` with the runtime's own API
 * (`Deno.upgradeWebSocket`, Bun's `server.upgrade`), a hand-written echo protocol doing the same
 * JSON work as MicroAPI's methods, one JSON value per WebSocket message (see bench/ws_client.ts):
 * `{"id":n,"user_id":42}` -> `{"id":n,"message":{"username":"alice","age":30}}` (unary);
 * `{"id":n,"echo":x}` -> `{"id":n,"message":x}` (bidi echo);
 * `{"id":n,"limit":N,"batch":B}` -> N messages `{"id":n,"message":{"username":"u<i>","age":i}}`,
 * B per WebSocket message joined by newlines, then `{"id":n,"end":true}` (server streaming).
 */

/** Messages per chunk of the batched raw baseline. */
export const BATCH = 512;

type Handler = (req: Request) => Response | Promise<Response>;

interface BunSocket {
  send(data: string): number;
}

interface BunRuntime {
  serve(options: {
    port: number;
    hostname: string;
    fetch: (
      req: Request,
      server: { upgrade(req: Request): boolean },
    ) => unknown;
    websocket: {
      message(ws: BunSocket, data: string | Uint8Array): void;
      drain(ws: BunSocket): void;
    };
  }): { port: number };
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
    return new Response('{"username":"alice","age":30}', {
      headers: JSON_HEADERS,
    });
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

// ---------------------------------------------------------------------------------------------
// Raw WebSocket echo

/** Sends one text message; resolves once the socket can take more (the runtime's backpressure). */
type Send = (data: string) => void | Promise<void>;

const WS_HIGH_WATER = 1 << 20;

/** Answers one raw WebSocket message (see the header comment). */
async function rawWsMessage(data: string, send: Send): Promise<void> {
  const frame = JSON.parse(data);
  if (frame.user_id !== undefined) {
    await send(JSON.stringify({ id: frame.id, message: { username: "alice", age: 30 } }));
  } else if (frame.limit !== undefined) {
    const batch: number = frame.batch ?? 1;
    let lines: string[] = [];
    for (let i = 0; i < frame.limit; i++) {
      lines.push(
        JSON.stringify({
          id: frame.id,
          message: { username: `u${i}`, age: i },
        }),
      );
      if (lines.length === batch) {
        await send(lines.join("\n"));
        lines = [];
      }
    }
    if (lines.length > 0) await send(lines.join("\n"));
    await send(JSON.stringify({ id: frame.id, end: true }));
  } else {
    await send(JSON.stringify({ id: frame.id, message: frame.echo }));
  }
}

/** Deno: waits while more than WS_HIGH_WATER bytes are queued on the socket. */
function denoSender(socket: WebSocket): Send {
  return (data) => {
    socket.send(data);
    if (socket.bufferedAmount < WS_HIGH_WATER) return;
    return new Promise<void>((resolve) => {
      const check = () => socket.bufferedAmount < WS_HIGH_WATER ? resolve() : setTimeout(check, 1);
      setTimeout(check, 1);
    });
  };
}

const bunDrains = new WeakMap<BunSocket, (() => void)[]>();

/** Bun: `send` returns -1 when the message was queued under backpressure; wait for `drain`. */
function bunSender(ws: BunSocket): Send {
  return (data) => {
    if (ws.send(data) !== -1) return;
    return new Promise<void>((resolve) => {
      const waiting = bunDrains.get(ws);
      if (waiting) waiting.push(resolve);
      else bunDrains.set(ws, [resolve]);
    });
  };
}

/**
 * Listens on 127.0.0.1 with the runtime's own server.
 *
 * @param port The port; 0 picks a free one.
 * @returns The port it listens on.
 */
export function serveRaw(port: number): number {
  if ("Bun" in globalThis) {
    const bun = (globalThis as unknown as { Bun: BunRuntime }).Bun;
    return bun.serve({
      port,
      hostname: "127.0.0.1",
      fetch: (req, server) => {
        if (req.url.endsWith("/ws") && server.upgrade(req)) return undefined;
        return raw(req);
      },
      websocket: {
        message: (ws, data) => {
          rawWsMessage(String(data), bunSender(ws)).catch(console.error);
        },
        drain: (ws) => {
          const waiting = bunDrains.get(ws) ?? [];
          bunDrains.delete(ws);
          for (const resolve of waiting) resolve();
        },
      },
    }).port;
  }
  const server = Deno.serve(
    { port, hostname: "127.0.0.1", onListen: () => {} },
    (req) => {
      if (!req.url.endsWith("/ws")) return raw(req);
      const { socket, response } = Deno.upgradeWebSocket(req);
      const send = denoSender(socket);
      socket.onmessage = (event) => {
        rawWsMessage(event.data, send).catch(console.error);
      };
      return response;
    },
  );
  return server.addr.port;
}
