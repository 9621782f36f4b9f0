/** Runs a test once per transport: in memory, over HTTP, over WebSocket. */
import { test } from "./_harness.ts";
import { Connection, type MicroAPI } from "../mod.ts";
import { createTestConnection } from "../src/testing/mod.ts";

/** The transports a behaviour is checked on. */
export const TRANSPORTS = ["memory", "http", "ws"] as const;

/** One of them. */
export type TransportName = typeof TRANSPORTS[number];

/** A connection to an app over one transport. */
export interface Connected {
  /** The connection. */
  connection: Connection;
  /** Stops the server (if any) and closes the connection; the app's teardown runs. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Connects to an app over a transport (serving it on 127.0.0.1 for the network ones).
 *
 * @param app The app.
 * @param transport Which transport.
 * @param metadata Metadata for every call.
 * @returns The connection and how to tear it down.
 */
export async function connect(
  app: MicroAPI,
  transport: TransportName,
  metadata?: HeadersInit,
): Promise<Connected> {
  if (transport === "memory") {
    const connection = await createTestConnection(app, { metadata });
    return {
      connection,
      async [Symbol.asyncDispose]() {
        await connection.close();
        await app.stop();
      },
    };
  }
  const server = await app.serve({ port: 0, hostname: "127.0.0.1", gracePeriodMs: 1000 });
  const connection = new Connection(server.url, { transport, metadata });
  return {
    connection,
    async [Symbol.asyncDispose]() {
      await connection.close();
      await server.shutdown();
    },
  };
}

/**
 * Registers one test per transport.
 *
 * @param name The test's name; the transport is appended.
 * @param fn The test, given the transport's name.
 */
export function eachTransport(name: string, fn: (transport: TransportName) => Promise<void>): void {
  for (const transport of TRANSPORTS) test(`${name} (${transport})`, () => fn(transport));
}
