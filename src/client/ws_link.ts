import { FrameBatcher } from "../protocol/frame_batcher.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { Route } from "../protocol/route.ts";
import type { Pattern } from "../schema/pattern.ts";
import {
  type ClientFrame,
  CloseCode,
  type CreditFrame,
  decodeServerFrame,
  encodeFrame,
  type EndFrame,
  type HeadersFrame,
  type HelloFrame,
  type MessageFrame,
  type OpenFrame,
  splitFrames,
  WS_PROTOCOL,
} from "../protocol/ws_frames.ts";
import { Keepalive } from "./ws_keepalive.ts";
import { type ClientSocket, openClientSocket, type WebSocketApi } from "./ws_socket.ts";

/** The frames the server sends about one call. */
export type CallFrame = HeadersFrame | MessageFrame | CreditFrame | EndFrame;

/** What an open frame carries besides its type and id. */
export type OpenFields = Omit<OpenFrame, "type" | "id">;

/**
 * The open frame's fields of a call, as every transport that speaks the frame protocol sends them
 * (the WebSocket transport, NATS). The server answers a call made with the wrong pattern with a
 * clear error, so the pattern always goes.
 *
 * @param route The method.
 * @param pattern The call's pattern.
 * @param metadata The call's metadata, if any.
 * @param input For a call whose input is not streamed: the one input (`value` undefined for none).
 * @returns The fields.
 */
export function openFields(
  route: Route,
  pattern: Pattern,
  metadata: Record<string, string> | undefined,
  input: { value: unknown } | undefined,
): OpenFields {
  return {
    service: route.service,
    method: route.method,
    ...(route.version === undefined ? {} : { version: route.version }),
    pattern,
    ...(metadata ? { metadata } : {}),
    ...(input && input.value !== undefined ? { input: input.value } : {}),
  };
}

/** A call as the link sees it: how it opens, where its frames go. */
export interface LinkedCall {
  /**
   * The call has a slot on the socket (at once, or when one freed after it waited): it says what
   * its open frame carries, computed now (what remains of its timeout, say).
   *
   * @returns The open frame's fields, or undefined when the call has ended meanwhile (it is not
   * opened).
   */
  opening(): OpenFields | undefined;
  /**
   * The open frame is on its way.
   *
   * @param id The call's id.
   */
  started(id: number): void;
  /**
   * A frame for this call arrived (after an `end` frame, the link has forgotten the call).
   *
   * @param frame The frame.
   * @param size The length of its text (what a message counts against the call's byte window).
   */
  frame(frame: CallFrame, size: number): void;
  /**
   * The socket is gone: the call fails with `error`.
   *
   * @param error `unavailable`, saying why.
   */
  lost(error: RpcError): void;
}

/** How a link is set up. */
export interface WebSocketLinkOptions {
  /** Which WebSocket API to use. */
  api: WebSocketApi;
  /** How long a silence is before the link pings the server, while calls are open. */
  keepaliveMs: number;
  /** How long to wait to connect and for the server's hello. */
  connectTimeoutMs: number;
  /** The largest batch of frames sent in one WebSocket message, in characters. */
  maxBatchChars: number;
  /** How many calls may wait for a slot when the server's `max_calls` are all taken. */
  maxQueuedCalls: number;
  /**
   * The largest WebSocket message to send, in bytes: a longer one is sent in parts (see
   * {@linkcode sendInParts}) when the server joins parts (its hello says `parts`), whole
   * otherwise. Unset: no limit.
   */
  maxPartBytes?: number;
}

/**
 * One open socket and the calls multiplexed on it: it gives each call an id, routes the server's
 * frames to their call, batches what the calls send (see {@linkcode FrameBatcher}), and checks
 * that the server is alive while calls are open (see {@linkcode Keepalive}). When the socket
 * goes, every call on it fails at once.
 *
 * At most the server's `max_calls` calls are open on the socket; the others wait in a queue
 * (bounded: a call that finds it full fails at once) and open, in order, as slots free. A slot
 * frees when the server's `end` arrives or when the client sends `cancel`: the server frees it on
 * reading that `cancel`, before any open sent after it, so the server never counts more calls
 * than the client does.
 */
export class WebSocketLink {
  /** The server's hello: its window and limits. */
  readonly hello: HelloFrame;
  #socket: ClientSocket;
  #batcher: FrameBatcher;
  #keepalive: Keepalive;
  #calls = new Map<number, LinkedCall>();
  #waiting = new Set<LinkedCall>();
  #maxQueued: number;
  #nextId = 1;
  #dead = false;
  #onDead: () => void;

  private constructor(
    socket: ClientSocket,
    hello: HelloFrame,
    options: WebSocketLinkOptions,
    onDead: () => void,
  ) {
    this.#socket = socket;
    this.hello = hello;
    this.#onDead = onDead;
    this.#maxQueued = options.maxQueuedCalls;
    this.#batcher = new FrameBatcher(
      options.maxPartBytes && hello.parts
        ? sendInParts(socket, options.maxPartBytes)
        : (text) => socket.send(text),
      options.maxBatchChars,
    );
    this.#keepalive = new Keepalive(options.keepaliveMs, {
      ping: () => this.send({ type: "ping" }),
      dead: (silence) => {
        this.#socket.close(CloseCode.goingAway, "keepalive timeout");
        this.#lost(1006, `no answer from the server for ${silence} ms`);
      },
    });
  }

  /**
   * Opens a socket and waits for the server's hello.
   *
   * @param url The `ws:` or `wss:` URL of the endpoint.
   * @param options API, keepalive, connect timeout, batch size.
   * @param onDead Called once when the socket is gone.
   * @returns The link.
   * @throws {RpcError} `unavailable` when the server cannot be reached, does not greet, or does
   * not greet in time.
   */
  static async connect(
    url: string,
    options: WebSocketLinkOptions,
    onDead: () => void,
  ): Promise<WebSocketLink> {
    let link: WebSocketLink | undefined;
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
      link = new WebSocketLink(socket, greeting, options, onDead);
      for (const text of early) link.#receive(text);
      return link;
    } catch (error) {
      socket.close(CloseCode.protocolError, "no hello");
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Opens a call: at once when the server's `max_calls` leave a slot (and no call waits before
   * it), else when one frees ({@linkcode LinkedCall.opening} is called then).
   *
   * @param call The call.
   * @throws {RpcError} `unavailable` when the socket is gone; `resource_exhausted` when the
   * queue of waiting calls is full.
   */
  open(call: LinkedCall): void {
    if (this.#dead) throw new RpcError("unavailable", "The connection was lost");
    if (this.#waiting.size === 0 && this.#calls.size < this.hello.max_calls) {
      return this.#start(call);
    }
    if (this.#waiting.size >= this.#maxQueued) {
      throw new RpcError(
        "resource_exhausted",
        `Too many calls on this connection: ${this.#calls.size} open (the server's max_calls is ` +
          `${this.hello.max_calls}) and ${this.#waiting.size} waiting (maxQueuedCalls); wait ` +
          "for calls to end, or open another Connection",
        { details: { max_calls: this.hello.max_calls, max_queued_calls: this.#maxQueued } },
      );
    }
    this.#waiting.add(call);
  }

  /**
   * A waiting call has ended (cancelled, timed out) before it opened: it leaves the queue.
   *
   * @param call The call.
   */
  leave(call: LinkedCall): void {
    this.#waiting.delete(call);
  }

  /**
   * Forgets a call that has ended; its late frames are dropped, and its slot goes to the first
   * call waiting.
   *
   * @param id The call's id.
   */
  finish(id: number): void {
    if (!this.#calls.delete(id)) return;
    for (const next of this.#waiting) {
      if (this.#calls.size >= this.hello.max_calls) break;
      this.#waiting.delete(next);
      this.#start(next);
    }
    if (this.#calls.size === 0) this.#keepalive.stop();
  }

  #start(call: LinkedCall): void {
    const open = call.opening();
    if (!open) return;
    const id = this.#nextId++;
    this.#calls.set(id, call);
    this.send({ type: "open", id, ...open });
    this.#keepalive.start();
    call.started(id);
  }

  /**
   * Sends a frame (batched with the others of this turn); dropped once the socket is gone.
   *
   * @param frame The frame.
   */
  send(frame: ClientFrame): void {
    if (!this.#dead) this.#batcher.push(encodeFrame(frame));
  }

  /**
   * Sends a frame encoded already (a message, measured for its credit); dropped once the socket
   * is gone.
   *
   * @param text The frame's text.
   */
  sendText(text: string): void {
    if (!this.#dead) this.#batcher.push(text);
  }

  /** Sends what is batched and closes the socket; calls still open fail. */
  close(): void {
    if (this.#dead) return;
    this.#batcher.flush();
    this.#socket.close(CloseCode.normal, "client closed");
    this.#lost(CloseCode.normal, "client closed");
  }

  #receive(text: string): void {
    this.#keepalive.heard();
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
      if (frame.type === "end") this.finish(frame.id);
      call.frame(frame, line.length);
    }
  }

  #lost(code: number, reason: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#batcher.dispose();
    this.#keepalive.stop();
    const error = new RpcError(
      "unavailable",
      `The connection was lost (${code}${reason ? `: ${reason}` : ""})`,
    );
    const calls = [...this.#calls.values(), ...this.#waiting];
    this.#calls.clear();
    this.#waiting.clear();
    for (const call of calls) call.lost(error);
    this.#onDead();
  }
}

/**
 * Sends a text as WebSocket messages whose payloads are at most `maxBytes` bytes of UTF-8 each:
 * every one but the last is `+` and a piece of the text (the server joins them,
 * docs/protocol.md). A piece never ends inside a surrogate pair.
 *
 * @param socket The socket.
 * @param maxBytes The largest payload, in bytes (at least 8).
 * @returns The send function for the batcher.
 */
export function sendInParts(socket: ClientSocket, maxBytes: number): (text: string) => void {
  return (text) => {
    // A character is at most 3 bytes (a surrogate pair, 2 characters, is 4) and at least 1.
    if (text.length * 3 <= maxBytes) return socket.send(text);
    if (text.length <= maxBytes && utf8Bytes(text) <= maxBytes) return socket.send(text);
    let start = 0;
    let bytes = 0; // of text[start, i)
    for (let i = 0; i < text.length;) {
      const c = text.charCodeAt(i);
      const next = text.charCodeAt(i + 1);
      const pair = c >= 0xd800 && c < 0xdc00 && next >= 0xdc00 && next < 0xe000;
      const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
      // With its `+`, the piece would pass `maxBytes`: it ends before this character.
      if (bytes > 0 && 1 + bytes + size > maxBytes) {
        socket.send("+" + text.slice(start, i));
        start = i;
        bytes = 0;
      }
      bytes += size;
      i += pair ? 2 : 1;
    }
    socket.send(start === 0 ? text : text.slice(start));
  };
}

/** The length of a text in UTF-8 (a lone surrogate counts 3, as U+FFFD). */
function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Beyond the 1 counted: 1 more for U+0080..U+07FF, 2 for the rest; a pair's 2 units, 1 each.
    if (c >= 0x80) bytes += c < 0x800 || (c >= 0xd800 && c < 0xe000 && isPair(text, i)) ? 1 : 2;
  }
  return bytes;
}

/** True when text[i] is half of a surrogate pair. */
function isPair(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 0xdc00) {
    const next = text.charCodeAt(i + 1);
    return next >= 0xdc00 && next < 0xe000;
  }
  const prev = text.charCodeAt(i - 1);
  return prev >= 0xd800 && prev < 0xdc00;
}
