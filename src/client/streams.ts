import { RpcError } from "../protocol/rpc_error.ts";
import type { Route } from "../protocol/route.ts";
import type { CallOptions } from "./call_options.ts";
import type { Connection } from "./connection.ts";
import type { ClientCall } from "./transport.ts";

/**
 * The messages of a server-streaming call, as an async iterable. The request is sent when reading
 * starts; leaving a `for await` loop early (break, return, throw) cancels the call, and the
 * server's handler sees its signal abort.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MicroAPI, Service, streaming, z } from "../../mod.ts";
 * import { createTestConnection } from "../testing/mod.ts";
 *
 * const users = new Service("users").method(
 *   "list_users",
 *   { input: z.object({ limit: z.number() }), output: streaming(z.object({ name: z.string() })) },
 *   async function* ({ limit }) {
 *     for (let i = 0; i < limit; i++) yield { name: `user${i}` };
 *   },
 * );
 * await using connection = await createTestConnection(new MicroAPI({ services: [users] }));
 * const names: string[] = [];
 * const list = connection.serverStream<{ name: string }>("users/list_users", { limit: 3 });
 * for await (const user of list) names.push(user.name);
 * assert.deepEqual(names, ["user0", "user1", "user2"]);
 * ```
 */
export class ServerStream<O> implements AsyncIterableIterator<O> {
  #open: () => ClientCall;
  #call: ClientCall | undefined;

  /**
   * Prepares the call; nothing is sent until the first read.
   *
   * @param connection The connection to call through.
   * @param route The method, as `"service/method"` or a {@linkcode Route}.
   * @param input The request message.
   * @param options Per-call options.
   */
  constructor(
    connection: Connection,
    route: string | Route,
    input: unknown,
    options?: CallOptions,
  ) {
    this.#open = () => connection.open(route, "server_streaming", options ?? {}, input);
  }

  /**
   * Reads the next message.
   *
   * @returns The message, or `done` once the server has finished successfully.
   * @throws {RpcError} When the call fails, also half way through.
   */
  next(): Promise<IteratorResult<O, undefined>> {
    this.#call ??= this.#open();
    return this.#call.receive() as Promise<IteratorResult<O, undefined>>;
  }

  /**
   * Stops reading and cancels the call if it is still running.
   *
   * @returns `done`.
   */
  return(): Promise<IteratorResult<O, undefined>> {
    this.cancel();
    return Promise.resolve({ done: true, value: undefined });
  }

  /**
   * Cancels the call.
   *
   * @param reason Why; the call fails with `cancelled`.
   */
  cancel(reason?: unknown): void {
    this.#call?.cancel(reason);
    this.#open = () => {
      throw new RpcError("cancelled", "The call was cancelled before it started");
    };
  }

  /**
   * Reads every remaining message.
   *
   * @returns The messages.
   */
  async toArray(): Promise<O[]> {
    const all: O[] = [];
    for await (const message of this) all.push(message);
    return all;
  }

  /**
   * The stream is its own iterator.
   *
   * @returns This stream.
   */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * Cancels the call if still running, for `await using`.
   *
   * @returns Resolves at once.
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.cancel();
    return Promise.resolve();
  }
}

/**
 * A client-streaming call: send messages one by one, then `end()` for the response. `send()`
 * resolves when the transport can take another message, so awaiting it keeps memory flat however
 * slow the server reads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClientStream, MicroAPI, Service, stream, z } from "../../mod.ts";
 * import { createTestConnection } from "../testing/mod.ts";
 *
 * const analytics = new Service("analytics").method(
 *   "aggregate",
 *   { input: stream(z.object({ value: z.number() })), output: z.object({ sum: z.number() }) },
 *   async (samples) => {
 *     let sum = 0;
 *     for await (const { value } of samples) sum += value;
 *     return { sum };
 *   },
 * );
 * await using connection = await createTestConnection(new MicroAPI({ services: [analytics] }));
 * const call = new ClientStream<{ value: number }, { sum: number }>(connection, "analytics/aggregate");
 * for (const value of [1, 2, 3]) await call.send({ value });
 * const result = await call.end();
 * assert.deepEqual(result, { sum: 6 });
 * ```
 */
export class ClientStream<I, O> {
  #call: ClientCall;

  /**
   * Opens the call at once: the server's handler starts and reads messages as they are sent.
   *
   * @param connection The connection to call through.
   * @param route The method, as `"service/method"` or a {@linkcode Route}.
   * @param options Per-call options.
   */
  constructor(connection: Connection, route: string | Route, options?: CallOptions) {
    this.#call = connection.open(route, "client_streaming", options ?? {});
  }

  /**
   * Sends one message.
   *
   * @param message The message.
   * @returns Resolves when the transport can take another.
   * @throws {RpcError} When the call has failed (the server rejected a message, say).
   * @throws {StreamClosedError} After `end()`.
   */
  send(message: I): Promise<void> {
    return this.#call.send(message);
  }

  /**
   * Ends the input and waits for the response.
   *
   * @returns The response message.
   * @throws {RpcError} When the call failed.
   */
  async end(): Promise<O> {
    this.#call.end();
    const step = await this.#call.receive();
    if (step.done) throw new RpcError("internal", "The server ended the call without a response");
    return step.value as O;
  }

  /**
   * Cancels the call.
   *
   * @param reason Why; the call fails with `cancelled`.
   */
  cancel(reason?: unknown): void {
    this.#call.cancel(reason);
  }

  /**
   * Cancels the call if still running, for `await using`.
   *
   * @returns Resolves at once.
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.cancel();
    return Promise.resolve();
  }
}

/**
 * A bidirectional call: `send()` and `next()` can be interleaved freely (send, next, send, next,
 * end), or read with `for await` while sending from elsewhere. `end()` says no more messages will
 * be sent; the server's messages can still be read until it finishes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BidiStream, MicroAPI, Service, stream, streaming, z } from "../../mod.ts";
 * import { createTestConnection } from "../testing/mod.ts";
 *
 * const Message = z.object({ text: z.string() });
 * const chat = new Service("chat").method(
 *   "conversation",
 *   { input: stream(Message), output: streaming(Message) },
 *   async function* (messages) {
 *     for await (const { text } of messages) yield { text: text.toUpperCase() };
 *   },
 * );
 * await using connection = await createTestConnection(new MicroAPI({ services: [chat] }));
 * const call = new BidiStream<{ text: string }, { text: string }>(connection, "chat/conversation");
 * await call.send({ text: "hello" });
 * const reply = await call.next();
 * assert.deepEqual(reply, { done: false, value: { text: "HELLO" } });
 * await call.end();
 * assert.equal((await call.next()).done, true);
 * ```
 */
export class BidiStream<I, O> implements AsyncIterableIterator<O> {
  #call: ClientCall;

  /**
   * Opens the call at once.
   *
   * @param connection The connection to call through.
   * @param route The method, as `"service/method"` or a {@linkcode Route}.
   * @param options Per-call options.
   */
  constructor(connection: Connection, route: string | Route, options?: CallOptions) {
    this.#call = connection.open(route, "bidi_streaming", options ?? {});
  }

  /**
   * Sends one message.
   *
   * @param message The message.
   * @returns Resolves when the transport can take another.
   * @throws {RpcError} When the call has failed.
   * @throws {StreamClosedError} After `end()`.
   */
  send(message: I): Promise<void> {
    return this.#call.send(message);
  }

  /**
   * Reads the next message from the server.
   *
   * @returns The message, or `done` once the server has finished successfully.
   * @throws {RpcError} When the call fails.
   */
  next(): Promise<IteratorResult<O, undefined>> {
    return this.#call.receive() as Promise<IteratorResult<O, undefined>>;
  }

  /**
   * Says that no more messages will be sent.
   *
   * @returns Resolves at once.
   */
  end(): Promise<void> {
    this.#call.end();
    return Promise.resolve();
  }

  /**
   * Stops reading and cancels the call if it is still running (what leaving `for await` does).
   *
   * @returns `done`.
   */
  return(): Promise<IteratorResult<O, undefined>> {
    this.cancel();
    return Promise.resolve({ done: true, value: undefined });
  }

  /**
   * Cancels the call.
   *
   * @param reason Why; the call fails with `cancelled`.
   */
  cancel(reason?: unknown): void {
    this.#call.cancel(reason);
  }

  /**
   * The stream is its own iterator.
   *
   * @returns This stream.
   */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * Cancels the call if still running, for `await using`.
   *
   * @returns Resolves at once.
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.cancel();
    return Promise.resolve();
  }
}
