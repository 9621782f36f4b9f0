import {
  addressInUse,
  isUpgrade,
  type Listener,
  type ListenOptions,
  type RequestHooks,
  type SocketEvents,
} from "./types.ts";

const DENO_HOOKS: RequestHooks = { nativeJson: true };

/**
 * Bytes a socket may have queued in Deno before the session is told it is full. Deno's
 * `WebSocket.send()` queues without bound and has no drain event: `bufferedAmount` says how much
 * waits, and while it is past this the adapter looks again every few milliseconds.
 */
const HIGH_WATER_BYTES = 1024 * 1024;
const DRAIN_POLL_MS = 5;
/** After the listener fails, how long the adapter waits before it listens again, at most. */
const MAX_RELISTEN_DELAY_MS = 1_000;

/** One `Deno.serve` on the app's port; a new one replaces it when it stops accepting. */
interface Generation {
  readonly server: Deno.HttpServer<Deno.NetAddr>;
  readonly controller: AbortController;
  /** Settles when the server has finished, or, after an accept error, shut down. */
  done: Promise<void>;
  finished: boolean;
}

/**
 * Listens with `Deno.serve`; WebSocket upgrades go through `Deno.upgradeWebSocket`.
 *
 * Out of file descriptors: when accepting a connection fails (`EMFILE`), `Deno.serve` stops
 * accepting for good, and `server.finished` rejects (unhandled, that ends the process). Here the
 * process survives it, and serves again: the failed server is shut down gracefully, which closes
 * at once its connections with no request in progress (idle keep-alive ones, ones that never sent
 * a whole request head; Deno has no timeouts of its own for them) and its WebSockets (1001), while
 * requests in flight finish; a new `Deno.serve` listens on the same port (retrying, with a growing
 * pause, while descriptors are short). `options.onWarning` hears of each time.
 *
 * @param options Port, hostname, handler, WebSocket endpoint.
 * @returns The listener once bound.
 */
export function listenDeno(options: ListenOptions): Promise<Listener> {
  const handler = denoHandler(options);
  const hostname = options.hostname;
  const generations = new Set<Generation>();
  let closing = false;
  let current: Generation;
  let lastFailure = 0;
  let delay = 0;

  const start = (port: number): Generation => {
    const controller = new AbortController();
    const server = Deno.serve({
      port,
      hostname,
      signal: controller.signal,
      onListen: () => {},
      onError: () => new Response(null, { status: 500 }),
    }, handler);
    const generation: Generation = { server, controller, done: Promise.resolve(), finished: false };
    generation.done = server.finished.then(
      () => {
        generation.finished = true;
      },
      (error) => replace(generation, error),
    ).finally(() => generations.delete(generation));
    generations.add(generation);
    return generation;
  };

  const replace = async (failed: Generation, error: unknown): Promise<void> => {
    if (closing) return;
    options.onWarning?.(failureMessage(error));
    // Sheds what the failed server holds idle; its requests in flight carry on meanwhile.
    const shedding = failed.server.shutdown().catch(() => {});
    const now = Date.now();
    delay = now - lastFailure < MAX_RELISTEN_DELAY_MS
      ? Math.min(MAX_RELISTEN_DELAY_MS, Math.max(10, delay * 2))
      : 0;
    lastFailure = now;
    for (;;) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if (closing) break;
      try {
        current = start(current.server.addr.port);
        break;
      } catch {
        // No descriptor for the listening socket yet: wait longer.
        delay = Math.min(MAX_RELISTEN_DELAY_MS, Math.max(10, delay * 2));
      }
    }
    await shedding;
    failed.finished = true;
  };

  try {
    current = start(options.port);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw addressInUse(options.hostname, options.port, error);
    }
    throw error;
  }
  const { addr } = current.server;
  let stopping: Promise<void> | undefined;
  return Promise.resolve({
    hostname: addr.hostname,
    port: addr.port,
    close: () =>
      stopping ??= (async () => {
        closing = true;
        await Promise.all([...generations].map((g) => g.server.shutdown().catch(() => {})));
        await Promise.all([...generations].map((g) => g.done));
      })(),
    terminate: async () => {
      closing = true;
      for (const generation of generations) {
        // Aborting a server that has already finished throws inside Deno (BadResource).
        if (!generation.finished) generation.controller.abort();
      }
      await Promise.all([...generations].map((g) => g.done));
    },
  });
}

/** What the adapter says when `Deno.serve` stopped accepting connections. */
function failureMessage(error: unknown): string {
  const text = String((error as { message?: unknown })?.message ?? error);
  const what = /too many open files|os error 24/i.test(text)
    ? "The process ran out of file descriptors"
    : `The server stopped accepting connections (${text})`;
  return `${what}: MicroAPI closed its idle connections and WebSockets and listens again. ` +
    "Raise the descriptor limit (ulimit -n), lower websocket.maxSockets, or put a proxy with " +
    "connection timeouts in front (docs/security.md)";
}

/** The request handler: calls, and WebSocket upgrades for the app's endpoint. */
function denoHandler(
  options: ListenOptions,
): (request: Request) => Promise<Response> | Response {
  const endpoint = options.websocket;
  return (request) => {
    if (!endpoint || !isUpgrade(request) || !endpoint.matches(request)) {
      return options.handler(request, DENO_HOOKS);
    }
    const verdict = endpoint.accept(request);
    if (verdict instanceof Response) return verdict;
    let upgraded: { socket: WebSocket; response: Response };
    try {
      upgraded = Deno.upgradeWebSocket(
        request,
        verdict.protocol ? { protocol: verdict.protocol } : {},
      );
    } catch (error) {
      endpoint.abandon();
      throw error;
    }
    const { socket, response } = upgraded;
    let events: SocketEvents | undefined;
    let poll: ReturnType<typeof setInterval> | undefined;
    const stopPolling = () => {
      if (poll !== undefined) clearInterval(poll);
      poll = undefined;
    };
    socket.onopen = () => {
      events = endpoint.open({
        send: (text) => {
          if (socket.readyState !== WebSocket.OPEN) return true;
          socket.send(text);
          if (socket.bufferedAmount < HIGH_WATER_BYTES) return true;
          poll ??= setInterval(() => {
            if (socket.bufferedAmount >= HIGH_WATER_BYTES) return;
            stopPolling();
            events?.drain();
          }, DRAIN_POLL_MS);
          return false;
        },
        close: (code, reason) => socket.close(code, reason),
      }, request);
    };
    socket.onmessage = (event) => events?.message(event.data);
    socket.onclose = (event) => {
      stopPolling();
      if (events) events.close(event.code, event.reason);
      else endpoint.abandon();
    };
    socket.onerror = () => {};
    return response;
  };
}
