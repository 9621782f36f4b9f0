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
 * Listens with `Deno.serve`; WebSocket upgrades go through `Deno.upgradeWebSocket`.
 *
 * @param options Port, hostname, handler, WebSocket endpoint.
 * @returns The listener once bound.
 */
export function listenDeno(options: ListenOptions): Promise<Listener> {
  const controller = new AbortController();
  const endpoint = options.websocket;
  const handler = (request: Request): Promise<Response> | Response => {
    if (!endpoint || !isUpgrade(request) || !endpoint.matches(request)) {
      return options.handler(request, DENO_HOOKS);
    }
    const verdict = endpoint.accept(request);
    if (verdict instanceof Response) return verdict;
    const { socket, response } = Deno.upgradeWebSocket(
      request,
      verdict.protocol ? { protocol: verdict.protocol } : {},
    );
    let events: SocketEvents | undefined;
    socket.onopen = () => {
      events = endpoint.open({
        send: (text) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(text);
        },
        close: (code, reason) => socket.close(code, reason),
      }, request);
    };
    socket.onmessage = (event) => events?.message(event.data);
    socket.onclose = (event) => events?.close(event.code, event.reason);
    socket.onerror = () => {};
    return response;
  };
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      port: options.port,
      hostname: options.hostname,
      signal: controller.signal,
      onListen: () => {},
      onError: () => new Response(null, { status: 500 }),
    }, handler);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw addressInUse(options.hostname, options.port, error);
    }
    throw error;
  }
  let closing: Promise<void> | undefined;
  let finished = false;
  const done = () => {
    finished = true;
  };
  server.finished.then(done);
  return Promise.resolve({
    hostname: server.addr.hostname,
    port: server.addr.port,
    close: () => closing ??= server.shutdown().then(done),
    terminate: async () => {
      // Aborting a server that has already finished throws inside Deno (BadResource).
      if (!finished) controller.abort();
      await server.finished;
    },
  });
}
