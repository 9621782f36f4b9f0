/**
 * The MicroAPI app under test: `users/get_user` (unary) and `users/list_users` (server streaming),
 * validated by zod as usual, plus `bench/echo` (bidi echo) and `bench/idle` (server streaming:
 * one message, then waits until the call is cancelled) for the WebSocket benchmark. Its WebSocket
 * endpoint is the usual `/_microapi/ws`, with default settings.
 *
 * The module only defines the services; `serveMicroapi()` serves them. `microapi generate` reads
 * it for the client benchmark's generated client.
 */

import { MicroAPI, Service, stream, streaming, z } from "../../mod.ts";

const User = z.object({ username: z.string(), age: z.number().int() });

/** The service every benchmark calls. */
export const users = new Service("users")
  .method(
    "get_user",
    { input: z.object({ user_id: z.number().int() }), output: User },
    () => ({ username: "alice", age: 30 }),
  )
  .method(
    "list_users",
    { input: z.object({ limit: z.number().int() }), output: streaming(User) },
    async function* ({ limit }) {
      for (let i = 0; i < limit; i++) yield { username: `u${i}`, age: i };
    },
  );

/** Methods only the WebSocket benchmark uses. */
export const bench = new Service("bench")
  .method(
    "echo",
    { input: stream(User), output: streaming(User) },
    async function* (messages) {
      for await (const message of messages) yield message;
    },
  )
  .method(
    "idle",
    { output: streaming(z.object({ ready: z.boolean() })) },
    async function* (_input, ctx) {
      yield { ready: true };
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    },
  );

/**
 * Serves both services on 127.0.0.1 with `app.serve()` (MicroAPI's own adapter).
 *
 * @param port The port; 0 picks a free one.
 * @param options `connect`: also serve the Connect protocol (`protocols: [connect()]`), for the
 * `microapi_connect` kind: `/users.Users/GetUser` and `/users.Users/ListUsers`.
 * @returns The port it listens on.
 */
export async function serveMicroapi(
  port: number,
  options: { connect?: boolean } = {},
): Promise<number> {
  // Loaded only when asked for: the plain kind loads no protobuf code at all.
  const protocols = options.connect ? [(await import("../../src/connect/mod.ts")).connect()] : [];
  // The idle-stream measurement opens 10 000 streams: the default limit of calls in flight, which
  // streams still closing from the previous step would push past.
  const server = await new MicroAPI({
    services: [users, bench],
    protocols,
    resources: { maxCallsInFlight: 100_000 },
  }).serve({
    port,
    hostname: "127.0.0.1",
  });
  return server.port;
}
