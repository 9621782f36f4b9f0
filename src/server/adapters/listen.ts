import { listenBun } from "./bun.ts";
import { listenDeno } from "./deno.ts";
import type { Listener, ListenOptions } from "./types.ts";

/**
 * Listens with the runtime this code runs on.
 *
 * @param options Port, hostname, handler.
 * @returns The listener.
 * @throws {Error} On a runtime without a supported server (neither Deno nor Bun).
 */
export function listen(options: ListenOptions): Promise<Listener> {
  if ("Bun" in globalThis) return listenBun(options);
  if ("Deno" in globalThis) return listenDeno(options);
  throw new Error("MicroAPI can serve on Deno and Bun; for other hosts, pass app.fetch to them");
}
