/**
 * Serves a fetch handler with the runtime's own server, `Deno.serve` or `Bun.serve`, with their
 * default settings: how the peer frameworks are served (each is a fetch handler), so that every
 * peer runs on exactly the listener the raw baseline uses.
 */

/** A fetch-style request handler. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

interface BunServeRuntime {
  serve(options: {
    port: number;
    hostname: string;
    fetch: (request: Request) => Response | Promise<Response>;
  }): { port: number };
}

/**
 * Listens on 127.0.0.1.
 *
 * @param handler Answers every request.
 * @param port The port; 0 picks a free one.
 * @returns The port it listens on.
 */
export function serveFetch(handler: FetchHandler, port: number): number {
  if ("Bun" in globalThis) {
    const bun = (globalThis as unknown as { Bun: BunServeRuntime }).Bun;
    return bun.serve({ port, hostname: "127.0.0.1", fetch: handler }).port;
  }
  const server = Deno.serve(
    { port, hostname: "127.0.0.1", onListen: () => {} },
    handler,
  );
  return server.addr.port;
}
