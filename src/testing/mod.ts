/**
 * Testing utilities: call an app in the same process, without sockets, through the same pipeline
 * as the network transports (middleware, dependencies and their overrides, validation, errors,
 * deadlines, cancellation, backpressure), with the same client API.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MicroAPI, Service, z } from "../../mod.ts";
 * import { createTestConnection } from "./mod.ts";
 *
 * const greeter = new Service("greeter").method(
 *   "greet",
 *   { input: z.object({ name: z.string() }), output: z.object({ text: z.string() }) },
 *   ({ name }) => ({ text: `Hello, ${name}` }),
 * );
 * await using connection = await createTestConnection(new MicroAPI({ services: [greeter] }));
 * assert.deepEqual(await connection.unary("greeter/greet", { name: "Ada" }), { text: "Hello, Ada" });
 * ```
 *
 * @module
 */
import { Connection } from "../client/connection.ts";
import type { MicroAPI } from "../server/app.ts";
import { MemoryTransport, type MemoryTransportOptions } from "./memory_transport.ts";

export { MemoryTransport } from "./memory_transport.ts";
export type { MemoryTransportOptions } from "./memory_transport.ts";

/**
 * Starts an app (its lifespan and startup hooks) and returns a connection that calls it in
 * memory. Closing the connection does not stop the app; call `app.stop()` for its teardown.
 *
 * @param app The app.
 * @param options Default metadata and timeout, window.
 * @returns The connection.
 */
export async function createTestConnection(
  app: MicroAPI,
  options: MemoryTransportOptions = {},
): Promise<Connection> {
  await app.start();
  return new Connection("http://memory.invalid", { transport: new MemoryTransport(app, options) });
}
