import {
  addressInUse,
  isUpgrade,
  type Listener,
  type ListenOptions,
  type RequestHooks,
  type SocketEvents,
} from "./types.ts";

/** The part of Bun's API this adapter uses, typed here instead of through a types package. */
interface BunSocket {
  data: { events?: SocketEvents; request?: Request; full?: boolean };
  readyState: number;
  /** Bytes sent; -1 when (some of) it was queued under backpressure; 0 when it was dropped. */
  send(text: string): number;
  getBufferedAmount(): number;
  close(code?: number, reason?: string): void;
}

interface BunServer {
  readonly port: number;
  readonly hostname: string;
  /** Requests whose response has not been handed to the kernel in full. */
  readonly pendingRequests: number;
  readonly pendingWebSockets: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
  closeIdleConnections(): void;
  timeout(request: Request, seconds: number): void;
  upgrade(request: Request, options: { headers?: HeadersInit; data: BunSocket["data"] }): boolean;
}

/** Bun's request handler, for `fetch` and for routes. */
type BunHandler = (
  request: Request,
  server: BunServer,
) => Promise<Response | undefined> | Response | undefined;

interface BunRuntime {
  serve(options: {
    port: number;
    hostname: string;
    routes?: Record<string, BunHandler>;
    http2?: boolean;
    idleTimeout: number;
    fetch(
      request: Request,
      server: BunServer,
    ): Promise<Response | undefined> | Response | undefined;
    error(error: unknown): Response;
    websocket: {
      maxPayloadLength: number;
      backpressureLimit: number;
      open(ws: BunSocket): void;
      message(ws: BunSocket, message: string | Uint8Array): void;
      close(ws: BunSocket, code: number, reason: string): void;
      drain(ws: BunSocket): void;
    };
  }): BunServer;
}

/**
 * Bytes Bun may hold for a socket before the session is told it is full. Bun's `send()` returns
 * -1 as soon as anything waits in its buffer; waiting only past this keeps the pipe full.
 */
const HIGH_WATER_BYTES = 1024 * 1024;
/** Bun drops messages past its buffer limit; its default, which the limit never goes below. */
const BUN_BACKPRESSURE_LIMIT = 16 * 1024 * 1024;

/**
 * The app's paths that can be Bun routes as they are (no `:` or `*`, which Bun reads as patterns).
 */
const ROUTABLE = /^\/[A-Za-z0-9_.~\/-]*$/;

/** Marks a request whose path Bun rewrote to one of the app's own (see listenBun). */
const REWRITTEN: RequestHooks = { rewrittenPath: true };

/**
 * Listens with `Bun.serve`; WebSocket upgrades go through `server.upgrade`. Bun closes
 * connections idle for `idleTimeoutMs` (whole seconds); a stream may legitimately be quiet for
 * longer, so streamed HTTP calls (NDJSON in either direction) get no idle timeout.
 *
 * WebSockets: Bun refuses a message longer than the endpoint's `maxPayloadBytes` while reading it
 * (close code 1009). Its `send()` queues what the network cannot take and drops a message once
 * `backpressureLimit` bytes wait; the socket reports itself full past a megabyte queued, so the
 * session waits for `drain` and that limit (set above one message plus that megabyte) is never
 * reached. Should a message be dropped all the same, the socket is closed with 1011: a call never
 * ends `ok` with a message missing.
 *
 * Bun resolves dot segments and backslashes in a request's path before the handler sees it (the
 * WHATWG URL parser: `/t/%2e%2e/ctl/stats` becomes `/ctl/stats`), where Deno passes the path on
 * as sent, so a proxy rule blocking `/ctl/` could be walked around on Bun only. Bun matches
 * `routes` on the path as sent, though: the app's own paths are routes here, and a request that
 * reaches `fetch` with one of them anyway was rewritten, so it is marked and refused
 * (RequestHooks.rewrittenPath), as Deno's requests with such paths are.
 *
 * @param options Port, hostname, handler, WebSocket endpoint, the app's paths.
 * @returns The listener once bound.
 */
export function listenBun(options: ListenOptions): Promise<Listener> {
  const bun = (globalThis as unknown as { Bun: BunRuntime }).Bun;
  const endpoint = options.websocket;
  const answer: BunHandler = (request, server) => {
    if (endpoint && isUpgrade(request) && endpoint.matches(request)) {
      const verdict = endpoint.accept(request);
      if (verdict instanceof Response) return verdict;
      const headers = verdict.protocol ? { "sec-websocket-protocol": verdict.protocol } : undefined;
      if (server.upgrade(request, { headers, data: { request } })) return undefined;
      endpoint.abandon();
      return new Response("WebSocket upgrade failed", { status: 400 });
    }
    // A stream may be quiet for longer than Bun's idle timeout; unary calls keep it.
    return options.handler(request, { onStream: () => server.timeout(request, 0) });
  };
  const routed = new Set((options.paths ?? []).filter((path) => ROUTABLE.test(path)));
  const routes = Object.fromEntries([...routed].map((path) => [path, answer]));
  let server: BunServer;
  try {
    server = bun.serve({
      port: options.port,
      hostname: options.hostname,
      routes,
      ...(options.http2 ? { http2: true } : {}),
      idleTimeout: Math.ceil(options.idleTimeoutMs / 1000),
      fetch(request, server) {
        if (routed.size > 0 && routed.has(requestPath(request.url))) {
          return options.handler(request, REWRITTEN);
        }
        return answer(request, server);
      },
      error: () => new Response(null, { status: 500 }),
      websocket: {
        maxPayloadLength: endpoint?.maxPayloadBytes ?? BUN_BACKPRESSURE_LIMIT,
        backpressureLimit: Math.max(
          BUN_BACKPRESSURE_LIMIT,
          (endpoint?.maxPayloadBytes ?? 0) + 2 * HIGH_WATER_BYTES,
        ),
        open(ws) {
          ws.data.events = endpoint?.open({
            send: (text) => send(ws, text),
            close: (code, reason) => ws.close(code, reason),
          }, ws.data.request!);
        },
        message: (ws, message) => ws.data.events?.message(message),
        drain(ws) {
          if (!ws.data.full || ws.getBufferedAmount() >= HIGH_WATER_BYTES) return;
          ws.data.full = false;
          ws.data.events?.drain();
        },
        close(ws, code, reason) {
          if (ws.data.events) ws.data.events.close(code, reason);
          else endpoint?.abandon();
        },
      },
    });
  } catch (error) {
    if (String((error as { code?: unknown })?.code ?? error).includes("EADDRINUSE")) {
      throw addressInUse(options.hostname, options.port, error);
    }
    throw error;
  }
  let closing: Promise<void> | undefined;
  return Promise.resolve({
    hostname: server.hostname,
    port: server.port,
    close: () => closing ??= close(server),
    terminate: () => server.stop(true),
  });
}

/** The path of an absolute URL, without its query. */
function requestPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}

/** Sends one message on a socket: false when the session should wait for `drain`. */
function send(ws: BunSocket, text: string): boolean {
  if (ws.readyState !== 1) return true;
  const sent = ws.send(text);
  if (sent > 0) return true;
  if (sent === 0) {
    // Dropped: the calls on this socket cannot end as if it had been delivered.
    ws.close(1011, "A message could not be delivered");
    return true;
  }
  if (ws.getBufferedAmount() < HIGH_WATER_BYTES) return true;
  ws.data.full = true;
  return false;
}

/** How often a closing server checks whether anything is still being answered. */
const CLOSE_POLL_MS = 10;

/**
 * Stops listening and closes the connections once nothing is being answered on them. Bun's
 * `stop(false)` leaves idle keep-alive connections open, and waits for those that never sent a
 * request (a browser's preconnected sockets) until the client closes them; `closeIdleConnections()`
 * misses the latter. So once no request and no WebSocket is pending (every response handed to the
 * kernel in full, so closing loses nothing), the rest are closed with `stop(true)`.
 */
async function close(server: BunServer): Promise<void> {
  let stopped = false;
  const stopping = server.stop(false).then(() => {
    stopped = true;
  });
  server.closeIdleConnections();
  while (!stopped && (server.pendingRequests > 0 || server.pendingWebSockets > 0)) {
    await new Promise((resolve) => setTimeout(resolve, CLOSE_POLL_MS));
  }
  if (!stopped) await server.stop(true);
  await stopping;
}
