import { Queue } from "../_util/queue.ts";
import { FrameBatcher } from "../protocol/frame_batcher.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { Route } from "../protocol/route.ts";
import { headersToRecord, recordToHeaders } from "../protocol/stream_lines.ts";
import {
  type ClientFrame,
  CloseCode,
  decodeServerFrame,
  encodeFrame,
  type EndFrame,
  type HelloFrame,
  splitFrames,
  WS_PATH,
  WS_PROTOCOL,
} from "../protocol/ws_frames.ts";
import { type Pattern, streamsInput } from "../schema/pattern.ts";
import { StreamClosedError } from "../schema/stream_closed_error.ts";
import { CallControl } from "./call_control.ts";
import type { CallOptions } from "./call_options.ts";
import type { ClientCall, ClientTransport } from "./transport.ts";
import { type ClientSocket, openClientSocket, type WebSocketApi } from "./ws_socket.ts";

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
  /** Messages of one call the client buffers before it needs to read them. Default 256. */
  window?: number;
  /** How often to check an idle socket with a ping while calls are open. Default 15 000 ms. */
  keepaliveMs?: number;
  /** How long to wait to connect. Default 10 000 ms. */
  connectTimeoutMs?: number;
}

/**
 * Calls over one WebSocket, shared by every call of the connection. The socket is opened on the
 * first call. If it drops, every call in flight fails at once with `unavailable`, and the next
 * call opens a new socket.
 */
export class WebSocketTransport implements ClientTransport {
  #options: Required<Omit<WebSocketTransportOptions, "metadata" | "timeoutMs">> & {
    metadata: Headers;
    timeoutMs: number | undefined;
  };
  #socketUrl: string;
  #link: Promise<WsLink> | undefined;
  #closed = false;
  #calls = new Set<WsClientCall>();

  /**
   * Creates the transport; nothing is opened until the first call.
   *
   * @param options URL, defaults, API choice, window.
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
      window: options.window ?? 256,
      keepaliveMs: options.keepaliveMs ?? 15_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    };
  }

  async unary(route: Route, input: unknown, options: CallOptions): Promise<unknown> {
    const call = this.#start(route, "unary", options, { value: input });
    const first = await call.receive();
    if (first.done) throw new RpcError("internal", "The server ended the call without a response");
    await call.receive(); // the end: trailers, and any late error
    return first.value;
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
  ): WsClientCall {
    const metadata = new Headers(this.#options.metadata);
    if (options.metadata) new Headers(options.metadata).forEach((v, k) => metadata.set(k, v));
    const call = new WsClientCall({
      open: {
        service: route.service,
        method: route.method,
        ...(route.version === undefined ? {} : { version: route.version }),
        // The server answers a call made with the wrong pattern with a clear error.
        pattern,
        ...(headersToRecord(metadata) ? { metadata: headersToRecord(metadata) } : {}),
        window: this.#options.window,
        ...(input && input.value !== undefined ? { input: input.value } : {}),
      },
      window: this.#options.window,
      control: new CallControl(options, this.#options.timeoutMs),
      options,
      done: (c) => this.#calls.delete(c),
    });
    this.#calls.add(call);
    call.attach(this.#getLink());
    return call;
  }

  #getLink(): Promise<WsLink> {
    if (this.#closed) return Promise.reject(new RpcError("cancelled", "The connection was closed"));
    if (!this.#link) {
      const link = WsLink.connect(this.#socketUrl, this.#options, () => {
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

/**
 * Deno's WebSocket client (both APIs, Deno 2.9) leaves Nagle's algorithm on, so a write made while
 * an earlier one is unacknowledged waits for the server's delayed ACK, about 40 ms, unless the
 * server sends something first; and it writes a frame whose payload is over 1 KiB as two writes,
 * so such a frame waits whenever the socket is otherwise quiet (docs/runtimes.md). On Deno the
 * client therefore asks the server to answer every message at once (`?ack=1`, so the ACK rides on
 * the answer) and keeps its batches within 1 KiB. A single larger frame cannot be helped. Other
 * runtimes and browsers set TCP_NODELAY and need neither.
 */
const DENO_CLIENT = typeof (globalThis as { Deno?: unknown }).Deno === "object";

/** The largest batch a client sends in one WebSocket message (see {@linkcode DENO_CLIENT}). */
const CLIENT_BATCH_CHARS = DENO_CLIENT ? 1024 : 64 * 1024;

/** One open socket: routes frames to calls, batches what it sends, checks the peer is alive. */
class WsLink {
  readonly hello: HelloFrame;
  #socket: ClientSocket;
  #batcher: FrameBatcher;
  #calls = new Map<number, WsClientCall>();
  #nextId = 1;
  #dead = false;
  #lastHeard = Date.now();
  #keepaliveMs: number;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #onDead: () => void;

  private constructor(
    socket: ClientSocket,
    hello: HelloFrame,
    keepaliveMs: number,
    onDead: () => void,
  ) {
    this.#socket = socket;
    this.hello = hello;
    this.#keepaliveMs = keepaliveMs;
    this.#onDead = onDead;
    this.#batcher = new FrameBatcher((text) => socket.send(text), CLIENT_BATCH_CHARS);
  }

  /** Opens a socket and waits for the server's hello. */
  static async connect(
    url: string,
    options: { api: WebSocketApi; keepaliveMs: number; connectTimeoutMs: number },
    onDead: () => void,
  ): Promise<WsLink> {
    let link: WsLink | undefined;
    const hello = Promise.withResolvers<HelloFrame>();
    const early: string[] = [];
    const socket = await openClientSocket(url, {
      protocols: [WS_PROTOCOL],
      api: options.api,
      connectTimeoutMs: options.connectTimeoutMs,
      events: {
        message: (text) => {
          if (link) return link.#receive(text);
          const first = decodeServerFrame(splitFrames(text)[0] ?? "");
          if (first.ok && first.frame.type === "hello") {
            hello.resolve(first.frame);
            early.push(...splitFrames(text).slice(1));
          } else {
            hello.reject(
              new RpcError(
                "unavailable",
                `The server at ${url} did not greet (not a MicroAPI server?)`,
              ),
            );
          }
        },
        closed: (code, reason) => {
          if (link) return link.#lost(code, reason);
          hello.reject(
            new RpcError("unavailable", `The connection to ${url} closed (${code} ${reason})`),
          );
        },
      },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const greeting = await Promise.race([
        hello.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new RpcError("unavailable", `The server at ${url} did not greet in time`)),
            options.connectTimeoutMs,
          );
        }),
      ]);
      link = new WsLink(socket, greeting, options.keepaliveMs, onDead);
      for (const text of early) link.#receive(text);
      return link;
    } catch (error) {
      socket.close(CloseCode.protocolError, "no hello");
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Registers a call and sends its open frame; returns its id. */
  start(
    call: WsClientCall,
    open: Omit<Extract<ClientFrame, { type: "open" }>, "type" | "id">,
  ): number {
    if (this.#dead) throw new RpcError("unavailable", "The connection was lost");
    const id = this.#nextId++;
    this.#calls.set(id, call);
    this.send({ type: "open", id, ...open });
    this.#keepalive ??= setInterval(() => this.#check(), this.#keepaliveMs);
    return id;
  }

  /** Forgets a call that has ended. */
  finish(id: number): void {
    this.#calls.delete(id);
    if (this.#calls.size === 0 && this.#keepalive !== undefined) {
      clearInterval(this.#keepalive);
      this.#keepalive = undefined;
    }
  }

  send(frame: ClientFrame): void {
    if (!this.#dead) this.#batcher.push(encodeFrame(frame));
  }

  close(): void {
    if (this.#dead) return;
    this.#batcher.flush();
    this.#socket.close(CloseCode.normal, "client closed");
    this.#lost(CloseCode.normal, "client closed");
  }

  #check(): void {
    const silence = Date.now() - this.#lastHeard;
    if (silence > this.#keepaliveMs * 2) {
      this.#socket.close(CloseCode.goingAway, "keepalive timeout");
      return this.#lost(1006, `no answer from the server for ${silence} ms`);
    }
    if (silence >= this.#keepaliveMs) this.send({ type: "ping" });
  }

  #receive(text: string): void {
    this.#lastHeard = Date.now();
    for (const line of splitFrames(text)) {
      const decoded = decodeServerFrame(line);
      if (!decoded.ok) {
        this.#socket.close(CloseCode.protocolError, "bad frame from server");
        return this.#lost(
          CloseCode.protocolError,
          `the server sent a bad frame: ${decoded.problem.reason}`,
        );
      }
      const frame = decoded.frame;
      switch (frame.type) {
        case "ping":
          this.send({ type: "pong" });
          continue;
        case "pong":
        case "hello":
          continue;
      }
      const call = this.#calls.get(frame.id);
      if (!call) continue; // a late frame for a call we gave up on
      switch (frame.type) {
        case "headers":
          call.onHeaders(frame.metadata);
          break;
        case "message":
          call.onMessage(frame.data);
          break;
        case "credit":
          call.onCredit(frame.n);
          break;
        case "end":
          this.finish(frame.id);
          call.onEnd(frame);
          break;
      }
    }
  }

  #lost(code: number, reason: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#batcher.dispose();
    if (this.#keepalive !== undefined) clearInterval(this.#keepalive);
    const error = new RpcError(
      "unavailable",
      `The connection was lost (${code}${reason ? `: ${reason}` : ""})`,
    );
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const call of calls) call.onLost(error);
    this.#onDead();
  }
}

const DONE: IteratorResult<unknown, undefined> = { done: true, value: undefined };

interface CallInit {
  open: Omit<Extract<ClientFrame, { type: "open" }>, "type" | "id">;
  window: number;
  control: CallControl;
  options: CallOptions;
  done: (call: WsClientCall) => void;
}

/**
 * One call over the WebSocket, seen from the client. Sends are chained in order behind the
 * connection and the call's credit; received messages wait in a queue that the server's credit
 * keeps within the window, and credit is returned as the application reads.
 */
class WsClientCall implements ClientCall {
  #init: CallInit;
  #link: WsLink | undefined;
  #id = 0;
  #tail: Promise<void>;
  #ready!: Promise<void>;
  #credit = 0;
  #creditWaiter: PromiseWithResolvers<void> | undefined;
  #queue = new Queue<unknown>();
  #waiter: PromiseWithResolvers<IteratorResult<unknown, undefined>> | undefined;
  #readSinceGrant = 0;
  #ended = false;
  #finished = false;
  #failure: RpcError | undefined;
  #headersSeen = false;

  constructor(init: CallInit) {
    this.#init = init;
    this.#tail = Promise.resolve();
    const signal = init.control.signal;
    if (signal.aborted) this.#fail(signal.reason);
    else signal.addEventListener("abort", () => this.cancel(signal.reason), { once: true });
  }

  /** Starts the call once the connection is there. */
  attach(link: Promise<WsLink>): void {
    this.#ready = link.then((l) => {
      if (this.#failure) throw this.#failure;
      this.#link = l;
      this.#credit = l.hello.window;
      const timeout = this.#init.control.timeoutMs;
      this.#id = l.start(this, {
        ...this.#init.open,
        ...(timeout === undefined ? {} : { timeout_ms: timeout }),
      });
    });
    this.#ready.catch((error) => this.#fail(RpcError.from(error)));
    this.#tail = this.#ready;
  }

  send(message: unknown): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#finished) {
      return Promise.reject(new StreamClosedError("Cannot send: the call has ended"));
    }
    if (this.#ended) return Promise.reject(new StreamClosedError("Cannot send after end()"));
    if ("input" in this.#init.open) {
      return Promise.reject(
        new TypeError("This call's input is not streamed: the input was sent already"),
      );
    }
    const step = this.#tail.then(async () => {
      while (this.#credit === 0 && !this.#failure && !this.#finished) {
        this.#creditWaiter ??= Promise.withResolvers<void>();
        await this.#creditWaiter.promise;
      }
      if (this.#failure) throw this.#failure;
      if (this.#finished) throw new StreamClosedError("Cannot send: the call has ended");
      this.#credit--;
      this.#link!.send({
        type: "message",
        id: this.#id,
        data: message === undefined ? null : message,
      });
    });
    this.#tail = step.catch(() => {});
    return step;
  }

  end(): void {
    if (this.#ended || "input" in this.#init.open) return;
    this.#ended = true;
    this.#tail = this.#tail.then(() => {
      if (!this.#failure && !this.#finished) this.#link!.send({ type: "half_close", id: this.#id });
    });
  }

  receive(): Promise<IteratorResult<unknown, undefined>> {
    if (this.#queue.size > 0) {
      const value = this.#queue.take();
      this.#read();
      return Promise.resolve({ done: false, value });
    }
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#finished) return Promise.resolve(DONE);
    this.#waiter = Promise.withResolvers();
    return this.#waiter.promise;
  }

  cancel(reason?: unknown): void {
    if (this.#finished || this.#failure) return;
    const error = RpcError.is(reason)
      ? reason
      : new RpcError("cancelled", "The call was cancelled", { cause: reason });
    if (this.#link && this.#id !== 0) {
      this.#link.send({ type: "cancel", id: this.#id });
      this.#link.finish(this.#id);
    }
    this.#fail(error);
  }

  // ---- from the link ----

  onHeaders(metadata: Record<string, string>): void {
    if (this.#headersSeen) return;
    this.#headersSeen = true;
    this.#init.options.onHeaders?.(recordToHeaders(metadata));
  }

  onMessage(data: unknown): void {
    // The server sends a headers frame only when there are headers; the callback fires anyway.
    this.onHeaders({});
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      this.#read();
      waiter.resolve({ done: false, value: data });
    } else {
      this.#queue.push(data);
    }
  }

  onCredit(n: number): void {
    this.#credit += n;
    this.#creditWaiter?.resolve();
    this.#creditWaiter = undefined;
  }

  onEnd(frame: EndFrame): void {
    this.onHeaders({});
    this.#init.options.onTrailers?.(recordToHeaders(frame.trailers));
    if (frame.code !== "ok") return this.#fail(RpcError.fromBody(frame));
    this.#finish();
    this.#waiter?.resolve(DONE);
    this.#waiter = undefined;
  }

  onLost(error: RpcError): void {
    this.#fail(error);
  }

  /** The application read a message: return credit in batches of half a window. */
  #read(): void {
    if (this.#finished || !this.#link) return;
    this.#readSinceGrant++;
    if (this.#readSinceGrant * 2 >= this.#init.window) {
      this.#link.send({ type: "credit", id: this.#id, n: this.#readSinceGrant });
      this.#readSinceGrant = 0;
    }
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#creditWaiter?.resolve();
    this.#creditWaiter = undefined;
    this.#init.control.dispose();
    this.#init.done(this);
  }

  #fail(error: RpcError): void {
    if (this.#failure || this.#finished) return;
    this.#failure = error;
    // Messages already received stay readable; the error comes after them.
    this.#waiter?.reject(error);
    this.#waiter = undefined;
    this.#finish();
  }
}
