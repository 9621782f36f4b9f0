import { addressInUse, type Listener, type ListenOptions } from "./types.ts";

/**
 * Listens with `Deno.serve`.
 *
 * @param options Port, hostname, handler.
 * @returns The listener once bound.
 */
export function listenDeno(options: ListenOptions): Promise<Listener> {
  const controller = new AbortController();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      port: options.port,
      hostname: options.hostname,
      signal: controller.signal,
      onListen: () => {},
      onError: () => new Response(null, { status: 500 }),
    }, options.handler);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw addressInUse(options.hostname, options.port, error);
    }
    throw error;
  }
  let closing: Promise<void> | undefined;
  return Promise.resolve({
    hostname: server.addr.hostname,
    port: server.addr.port,
    close: () => closing ??= server.shutdown(),
    terminate: async () => {
      controller.abort();
      await server.finished;
    },
  });
}
