import { type Limits, resolveLimits } from "../protocol/limits.ts";
import { parseRoutePath, type Route } from "../protocol/route.ts";
import type { Pattern } from "../schema/pattern.ts";
import type { CallOptions } from "./call_options.ts";
import { HttpTransport } from "./http_transport.ts";
import { BidiStream, ClientStream, ServerStream } from "./streams.ts";
import type { ClientCall, ClientTransport } from "./transport.ts";
import type { WebSocketApi } from "./ws_socket.ts";
import { WebSocketTransport } from "./ws_transport.ts";

/**
 * Makes the transport of a connection from its URL and options: how a transport that lives in
 * another entry point plugs in (`natsTransport()` from `@microapi/core/nats` returns one).
 */
export type TransportFactory = (url: string, options: ConnectionOptions) => ClientTransport;

/** How a connection is set up. */
export interface ConnectionOptions {
  /** Metadata sent with every call (an `authorization` header, say). */
  metadata?: HeadersInit;
  /** The default timeout of every call, in milliseconds. */
  timeoutMs?: number;
  /**
   * Limits on what the server sends: the message and line sizes, with the same defaults as the
   * server's. (The shape limits, `maxDepth`, `maxKeys` and `maxItems`, are what a server holds
   * what it receives to; the client does not check them.)
   */
  limits?: Partial<Limits>;
  /** The fetch function to use for HTTP; default the global one. */
  fetch?: typeof fetch;
  /**
   * How calls travel. `"http"` (default): one HTTP request per call; every pattern works between
   * Deno and Bun, but browsers can only do unary and server streaming this way. `"ws"`: every call
   * of the connection shares one WebSocket, with flow control in both directions; every pattern
   * works everywhere, browsers included. Or a ready-made transport (an in-memory one in tests),
   * or a factory that makes one for the connection's URL (`natsTransport()` for a `nats:` URL).
   */
  transport?: "http" | "ws" | ClientTransport | TransportFactory;
  /**
   * For `"ws"`: which WebSocket API to use. Default `"auto"`: `WebSocketStream` where the runtime
   * has it (Chromium; Deno with the `net` unstable flag), `WebSocket` elsewhere.
   */
  webSocketApi?: WebSocketApi;
  /**
   * For `"ws"`: how many messages of one call the client buffers unread (within the server's
   * maximum). Default 256.
   */
  window?: number;
  /**
   * For `"ws"`: what the messages of one call the client buffers unread may add up to, in
   * characters of their JSON frames (bytes, for ASCII; within the server's maximum). Default
   * 1 MiB (1 048 576). A message larger than this still arrives, alone.
   */
  windowBytes?: number;
  /**
   * For `"ws"`: how many calls may wait for the socket once the server's limit of calls open at
   * once on it (`max_calls`, default 100) is reached. Calls beyond the limit wait in order (their
   * timeouts and signals still apply) and go out as calls end; beyond this many waiting, a call
   * fails at once with `resource_exhausted`. Default 10 000.
   */
  maxQueuedCalls?: number;
}

let defaultConnection: Connection | undefined;

/**
 * A client's link to one server. Calls are methods named by route (`"users/get_user"`, or
 * `"v2/users/get_user"` for a versioned service); generated clients wrap these with types.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Connection, MicroAPI, Service, z } from "../../mod.ts";
 * import { MemoryTransport } from "../testing/mod.ts";
 *
 * const users = new Service("users").method(
 *   "get_user",
 *   { input: z.object({ user_id: z.number() }), output: z.object({ name: z.string() }) },
 *   ({ user_id }) => ({ name: `user${user_id}` }),
 * );
 * const app = new MicroAPI({ services: [users] });
 * // Over the network: `new Connection("http://127.0.0.1:8080")`. Here the app is called in memory.
 * await using connection = new Connection("http://127.0.0.1:8080", {
 *   transport: new MemoryTransport(app),
 * });
 * const user = await connection.unary<{ name: string }>("users/get_user", { user_id: 1 }, {
 *   timeoutMs: 1000,
 * });
 * assert.equal(user.name, "user1");
 * ```
 */
export class Connection {
  /** The server's base URL. */
  readonly url: string;
  #transport: ClientTransport;
  #closed = false;

  /**
   * Creates a connection. Nothing is sent until the first call.
   *
   * @param url The server's base URL, such as `http://127.0.0.1:8080` (with any base path); with
   * a transport factory, whatever URL it takes (`nats://127.0.0.1:4222`).
   * @param options Default metadata and timeout, limits, transport.
   * @throws {TypeError} For a URL that is not http(s), unless a transport or factory is given.
   */
  constructor(url: string | URL, options: ConnectionOptions = {}) {
    const parsed = new URL(url);
    const transport = options.transport ?? "http";
    if (
      typeof transport === "string" && parsed.protocol !== "http:" && parsed.protocol !== "https:"
    ) {
      throw new TypeError(
        `Invalid server URL ${parsed.href}: expected http: or https:` +
          (/^(nats|tls|wss?):$/.test(parsed.protocol)
            ? ' (for NATS, pass { transport: natsTransport() } from "@microapi/core/nats")'
            : ""),
      );
    }
    this.url = parsed.href.replace(/\/+$/, "");
    if (typeof transport === "function") {
      this.#transport = transport(this.url, options);
    } else if (typeof transport === "object") {
      this.#transport = transport;
    } else if (transport === "ws") {
      this.#transport = new WebSocketTransport({
        url: this.url,
        metadata: options.metadata,
        timeoutMs: options.timeoutMs,
        api: options.webSocketApi,
        window: options.window,
        windowBytes: options.windowBytes,
        maxQueuedCalls: options.maxQueuedCalls,
      });
    } else if (transport === "http") {
      this.#transport = new HttpTransport({
        url: this.url,
        metadata: options.metadata,
        timeoutMs: options.timeoutMs,
        limits: resolveLimits(options.limits),
        fetch: options.fetch,
      });
    } else {
      throw new TypeError(`Invalid transport ${JSON.stringify(transport)}: use "http" or "ws"`);
    }
  }

  /**
   * The connection generated clients use when not given one.
   *
   * @returns The default connection.
   * @throws {Error} When none has been set.
   */
  static get default(): Connection {
    if (!defaultConnection) {
      throw new Error(
        "No default connection: call Connection.setDefault(new Connection(url)) first, or pass " +
          "{ connection } to the call",
      );
    }
    return defaultConnection;
  }

  /**
   * Sets (or clears) the default connection.
   *
   * @param connection The connection, or undefined to clear it.
   */
  static setDefault(connection: Connection | undefined): void {
    defaultConnection = connection;
  }

  /** True after {@linkcode Connection.close}. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Makes a unary call.
   *
   * @param route The method, as `"service/method"` or a {@linkcode Route}.
   * @param input The request message (omit for a method without input).
   * @param options Signal, timeout, metadata, header and trailer callbacks.
   * @returns The response message.
   * @throws {RpcError} With the server's code and details, or `unavailable`, `cancelled`,
   * `deadline_exceeded` from the client side.
   */
  unary<O = unknown>(
    route: string | Route,
    input?: unknown,
    options: CallOptions = {},
  ): Promise<O> {
    return this.#use().unary(toRoute(route), input, options) as Promise<O>;
  }

  /**
   * Starts a server-streaming call (when reading begins).
   *
   * @param route The method.
   * @param input The request message.
   * @param options Per-call options.
   * @returns The messages, as an async iterable.
   */
  serverStream<O = unknown>(
    route: string | Route,
    input?: unknown,
    options?: CallOptions,
  ): ServerStream<O> {
    return new ServerStream<O>(this, route, input, options);
  }

  /**
   * Opens a client-streaming call.
   *
   * @param route The method.
   * @param options Per-call options.
   * @returns The call: `send()` messages, then `end()` for the response.
   */
  clientStream<I = unknown, O = unknown>(
    route: string | Route,
    options?: CallOptions,
  ): ClientStream<I, O> {
    return new ClientStream<I, O>(this, route, options);
  }

  /**
   * Opens a bidirectional call.
   *
   * @param route The method.
   * @param options Per-call options.
   * @returns The call: `send()`, `next()`, `end()`, or `for await`.
   */
  bidiStream<I = unknown, O = unknown>(
    route: string | Route,
    options?: CallOptions,
  ): BidiStream<I, O> {
    return new BidiStream<I, O>(this, route, options);
  }

  /**
   * Opens a streaming call at the transport level. The stream classes use this; most code should
   * use them instead.
   *
   * @param route The method.
   * @param pattern The method's pattern.
   * @param options Per-call options.
   * @param input For server streaming, the request message.
   * @returns The open call.
   */
  open(route: string | Route, pattern: Pattern, options: CallOptions, input?: unknown): ClientCall {
    return this.#use().open(toRoute(route), pattern, options, input);
  }

  /**
   * Cancels every call in flight and closes the transport. If this is the default connection,
   * there is no default afterwards.
   *
   * @returns When closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (defaultConnection === this) defaultConnection = undefined;
    await this.#transport.close();
  }

  /**
   * Closes the connection, for `await using`.
   *
   * @returns When closed.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #use(): ClientTransport {
    if (this.#closed) throw new TypeError(`Connection to ${this.url} is closed`);
    return this.#transport;
  }
}

function toRoute(route: string | Route): Route {
  if (typeof route !== "string") return route;
  const parsed = parseRoutePath(route);
  if (!parsed) {
    throw new TypeError(
      `Invalid route ${JSON.stringify(route)}: expected "service/method" or "v<N>/service/method"`,
    );
  }
  return parsed;
}
