import { RpcError } from "../protocol/rpc_error.ts";
import type { Route } from "../protocol/route.ts";
import { headersToRecord } from "../protocol/stream_lines.ts";
import { WS_PATH } from "../protocol/ws_frames.ts";
import { type Pattern, streamsInput } from "../schema/pattern.ts";
import { CallControl } from "./call_control.ts";
import type { CallOptions } from "./call_options.ts";
import { mergeMetadata, unaryOverOpen } from "./call_state.ts";
import type { ClientCall, ClientTransport } from "./transport.ts";
import { WebSocketClientCall } from "./ws_client_call.ts";
import { openFields, WebSocketLink } from "./ws_link.ts";
import type { WebSocketApi } from "./ws_socket.ts";

/** How the WebSocket transport is set up. */
export interface WebSocketTransportOptions {
  /** The server's base URL (`http:` or `https:`; the socket uses `ws:` or `wss:`). */
  url: string;
  /** Metadata sent with every call. */
  metadata?: HeadersInit;
  /** The default timeout of every call. */
  timeoutMs?: number;
  /** Which WebSocket API to use. Default `"auto"`: WebSocketStream where the runtime has it. */
  api?: WebSocketApi;
  /**
   * Messages of one call the client buffers before it needs to read them (within the server's
   * `max_window`). Default 256.
   */
  window?: number;
  /**
   * What those messages may add up to, in characters of their JSON frames (bytes, for ASCII;
   * within the server's `max_window_bytes`). Default 1 MiB (1 048 576).
   */
  windowBytes?: number;
  /** How often to check an idle socket with a ping while calls are open. Default 15 000 ms. */
  keepaliveMs?: number;
  /** How long to wait to connect. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /**
   * How many calls may wait for a slot once the server's `max_calls` are open on the socket.
   * Default 10 000; a call beyond that fails at once with `resource_exhausted`.
   */
  maxQueuedCalls?: number;
}

/**
 * Calls over one WebSocket, shared by every call of the connection. The socket is opened on the
 * first call. If it drops, every call in flight fails at once with `unavailable`, and the next
 * call opens a new socket. The socket and its multiplexing are {@linkcode WebSocketLink}'s, each
 * call is a {@linkcode WebSocketClientCall}.
 */
export class WebSocketTransport implements ClientTransport {
  #options: Required<Omit<WebSocketTransportOptions, "metadata" | "timeoutMs">> & {
    metadata: Headers;
    timeoutMs: number | undefined;
  };
  /** The connection's metadata as the open frame carries it (undefined for none). */
  #metadata: Record<string, string> | undefined;
  #socketUrl: string;
  #link: Promise<WebSocketLink> | undefined;
  #closed = false;
  #calls = new Set<WebSocketClientCall>();

  /**
   * Creates the transport; nothing is opened until the first call.
   *
   * @param options URL, defaults, API choice, window, queue.
   * @throws {RangeError} For a window or `maxQueuedCalls` that is not a whole number (a window
   * of at least 1).
   */
  constructor(options: WebSocketTransportOptions) {
    const url = new URL(options.url.replace(/\/+$/, "") + WS_PATH);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (DENO_CLIENT) url.searchParams.set("ack", "1");
    this.#socketUrl = url.href;
    this.#options = {
      url: options.url,
      metadata: new Headers(options.metadata),
      timeoutMs: options.timeoutMs,
      api: options.api ?? "auto",
      window: count("window", options.window ?? 256, 1),
      windowBytes: count("windowBytes", options.windowBytes ?? 1024 * 1024, 1),
      keepaliveMs: options.keepaliveMs ?? 15_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      maxQueuedCalls: count("maxQueuedCalls", options.maxQueuedCalls ?? 10_000, 0),
    };
    this.#metadata = headersToRecord(this.#options.metadata);
  }

  unary(route: Route, input: unknown, options: CallOptions): Promise<unknown> {
    let call: WebSocketClientCall;
    try {
      call = this.#start(route, "unary", options, { value: input });
    } catch (error) {
      return Promise.reject(error); // a bad option fails the call, it does not throw
    }
    return unaryOverOpen(call);
  }

  open(route: Route, pattern: Pattern, options: CallOptions, input?: unknown): ClientCall {
    return this.#start(
      route,
      pattern,
      options,
      streamsInput(pattern) ? undefined : { value: input },
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    const reason = new RpcError("cancelled", "The connection was closed");
    for (const call of this.#calls) call.cancel(reason);
    const link = this.#link;
    this.#link = undefined;
    await link?.then((l) => l.close(), () => {});
  }

  #start(
    route: Route,
    pattern: Pattern,
    options: CallOptions,
    input?: { value: unknown },
  ): WebSocketClientCall {
    // Merged only when the call has metadata of its own; the connection's is read once.
    const metadata = options.metadata === undefined
      ? this.#metadata
      : headersToRecord(mergeMetadata(this.#options.metadata, options.metadata));
    const call = new WebSocketClientCall({
      open: openFields(route, pattern, metadata, input),
      window: this.#options.window,
      windowBytes: this.#options.windowBytes,
      control: new CallControl(options, this.#options.timeoutMs),
      options,
      done: (c) => this.#calls.delete(c),
    });
    this.#calls.add(call);
    call.attach(this.#getLink());
    return call;
  }

  #getLink(): Promise<WebSocketLink> {
    if (this.#closed) return Promise.reject(new RpcError("cancelled", "The connection was closed"));
    if (!this.#link) {
      const link = WebSocketLink.connect(this.#socketUrl, {
        ...this.#options,
        maxBatchChars: CLIENT_BATCH_CHARS,
        ...(DENO_CLIENT ? { maxPartBytes: 1024 } : {}),
      }, () => {
        if (this.#link === link) this.#link = undefined;
      });
      link.catch(() => {
        if (this.#link === link) this.#link = undefined;
      });
      this.#link = link;
    }
    return this.#link;
  }
}

/** Checks a whole-number option. */
function count(name: string, value: number, least: number): number {
  if (!Number.isSafeInteger(value) || value < least) {
    throw new RangeError(`Invalid ${name}: expected a whole number >= ${least}, got ${value}`);
  }
  return value;
}

/**
 * Deno's WebSocket client (both APIs, Deno 2.9) leaves Nagle's algorithm on, so a write made while
 * an earlier one is unacknowledged waits for the server's delayed ACK, up to 40 ms, unless the
 * server sends something first; and it writes a message whose payload is over 1 KiB as two
 * writes, the header first, so such a message waits for that delayed ACK whenever nothing else is
 * in flight (docs/runtimes.md). On Deno the client therefore asks the server to answer every
 * message at once (`?ack=1`, so the ACK rides on the answer), keeps its batches within 1 KiB, and
 * sends a larger frame in parts of at most 1024 bytes. Other runtimes and browsers set
 * TCP_NODELAY and need none of it.
 */
const DENO_CLIENT = typeof (globalThis as { Deno?: unknown }).Deno === "object";

/** The largest batch a client sends in one WebSocket message (see {@linkcode DENO_CLIENT}). */
const CLIENT_BATCH_CHARS = DENO_CLIENT ? 1024 : 64 * 1024;
