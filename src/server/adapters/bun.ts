import { addressInUse, type Listener, type ListenOptions } from "./types.ts";

/** The part of Bun's server API this adapter uses, typed here instead of through a types package. */
interface BunServer {
  readonly port: number;
  readonly hostname: string;
  stop(closeActiveConnections?: boolean): Promise<void>;
  timeout(request: Request, seconds: number): void;
}

interface BunRuntime {
  serve(options: {
    port: number;
    hostname: string;
    idleTimeout?: number;
    fetch(request: Request, server: BunServer): Promise<Response> | Response;
    error(error: unknown): Response;
  }): BunServer;
}

/**
 * Listens with `Bun.serve`. Bun closes connections idle for 10 seconds by default; a stream may
 * legitimately be quiet for longer, so streamed calls (NDJSON in either direction) get no idle
 * timeout.
 *
 * @param options Port, hostname, handler.
 * @returns The listener once bound.
 */
export function listenBun(options: ListenOptions): Promise<Listener> {
  const bun = (globalThis as unknown as { Bun: BunRuntime }).Bun;
  let server: BunServer;
  try {
    server = bun.serve({
      port: options.port,
      hostname: options.hostname,
      async fetch(request, server) {
        if (request.headers.get("content-type")?.includes("ndjson")) server.timeout(request, 0);
        const response = await options.handler(request);
        if (response.headers.get("content-type")?.includes("ndjson")) server.timeout(request, 0);
        return response;
      },
      error: () => new Response(null, { status: 500 }),
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
    close: () => closing ??= server.stop(false),
    terminate: () => server.stop(true),
  });
}
