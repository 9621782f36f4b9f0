import { FrameBatcher } from "../protocol/frame_batcher.ts";
import type { Limits } from "../protocol/limits.ts";
import {
  checkShape,
  mayPassShape,
  scanShape,
  SHAPE_SCAN_CHARS,
  shapeError,
} from "../protocol/message_shape.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import {
  CloseCode,
  decodeClientFrame,
  encodeFrame,
  type OpenFrame,
  type ServerFrame,
  splitFrames,
} from "../protocol/ws_frames.ts";
import { streamsInput } from "../schema/pattern.ts";
import type { ServerSocket } from "./adapters/types.ts";
import type { Admission } from "./admission.ts";
import { WebSocketServerCall } from "./ws_call.ts";

/** WebSocket settings of an app. */
export interface WebSocketSettings {
  /** Messages a client may send on one call before it gets credit. */
  window: number;
  /** What those messages may add up to, in characters of their frames. */
  windowBytes: number;
  /** The most messages of a call the server sends ahead of the client's credit. */
  maxWindow: number;
  /** What those messages may add up to, in characters of their frames. */
  maxWindowBytes: number;
  /** Calls that may be open at once on one socket. */
  maxCalls: number;
  /**
   * How much a socket may hold for a client that does not read, beyond one message of the
   * largest size: frames waiting for the socket to drain, in characters of their JSON text.
   */
  maxQueuedBytes: number;
}

/** What a session needs from the app. */
export interface WebSocketSessionEnv {
  /** The step before the pipeline. */
  readonly admission: Admission;
  /** Input limits. */
  readonly limits: Limits;
  /** Window and call limit. */
  readonly settings: WebSocketSettings;
}

/**
 * How much a WebSocket message may carry beyond a message of the largest allowed size: the frame
 * around it (type, id, metadata of an open frame). Only the WebSocket message is given this
 * allowance; the message inside a frame is held to the limit itself.
 */
export const ENVELOPE_BYTES = 16 * 1024;

/** `+`: a client message that begins with it is a part of a longer one, not its last. */
const PART = 0x2b;

/**
 * One WebSocket connection on the server: many concurrent calls, each with an id, each run
 * through the same pipeline as HTTP calls. Runtime-neutral: adapters feed it messages and closes.
 *
 * Problems are contained where they happen: a frame that names a call fails only that call (other
 * calls on the socket go on); a frame that cannot be attributed to a call closes the socket with
 * the matching close code, since the connection can no longer be trusted.
 *
 * Backpressure: when the socket says it is full (`send()` returns false), nothing more is handed
 * to it until it drains. Calls see that as backpressure: their `send()` returns a promise, so a
 * streaming handler pauses inside `yield`. Frames that cannot wait (credit, the end of a call,
 * answers to the client's own frames) are held here meanwhile, pongs coalesced into one; if what
 * is held grows past one message of the largest size plus `maxQueuedBytes`, the client is not
 * reading, and the socket is closed with 1008 (docs/protocol.md).
 */
export class WebSocketSession {
  #socket: ServerSocket;
  #env: WebSocketSessionEnv;
  #calls = new Map<number, WebSocketServerCall>();
  #lastId = 0;
  #batcher: FrameBatcher;
  #closed = false;
  #onClosed: () => void;
  #ack: boolean;
  /** The socket said it is full; messages wait in `#held` until it drains. */
  #full = false;
  #held: string[] = [];
  #heldChars = 0;
  #heldLimit: number;
  /** A pong is among the held frames: one answers every ping the client sent meanwhile. */
  #pongHeld = false;
  /** Resolves when the socket can take more, for calls that wait to send. */
  #drained: PromiseWithResolvers<void> | undefined;
  /** The parts of a client message sent in parts, until its last part (see `receive`). */
  #parts: string[] = [];
  #partsChars = 0;

  /**
   * Starts a session and greets the client with the connection's limits.
   *
   * @param socket The open socket.
   * @param env The app.
   * @param onClosed Called once when the socket has closed.
   * @param options `ack`: answer every client message at once, with a `pong` frame when nothing
   *   else is going out (the client asked with `?ack=1`; see docs/protocol.md).
   */
  constructor(
    socket: ServerSocket,
    env: WebSocketSessionEnv,
    onClosed: () => void = () => {},
    options: { ack?: boolean } = {},
  ) {
    this.#ack = options.ack ?? false;
    this.#socket = socket;
    this.#env = env;
    this.#onClosed = onClosed;
    this.#heldLimit = env.limits.maxMessageBytes + ENVELOPE_BYTES + env.settings.maxQueuedBytes;
    this.#batcher = new FrameBatcher((text) => this.#write(text));
    const { settings } = env;
    this.#send({
      type: "hello",
      protocol: 2,
      window: settings.window,
      window_bytes: settings.windowBytes,
      max_window: settings.maxWindow,
      max_window_bytes: settings.maxWindowBytes,
      max_message_bytes: env.limits.maxMessageBytes,
      max_calls: settings.maxCalls,
      parts: true,
    });
  }

  /** How many calls are open. */
  get activeCalls(): number {
    return this.#calls.size;
  }

  /** Characters of frames held until the socket drains. */
  get queuedChars(): number {
    return this.#heldChars;
  }

  /**
   * Whether calls may send now.
   *
   * @returns undefined when they may, or a promise that resolves when the socket has drained (or
   * closed).
   */
  ready(): Promise<void> | undefined {
    if (!this.#full || this.#closed) return undefined;
    return (this.#drained ??= Promise.withResolvers<void>()).promise;
  }

  /** The socket can take more: sends what was held, then lets the calls go on. */
  drain(): void {
    if (this.#closed) return;
    this.#full = false;
    let sent = 0;
    while (sent < this.#held.length) {
      const text = this.#held[sent++]!;
      this.#heldChars -= text.length;
      if (!this.#socket.send(text)) {
        this.#full = true;
        break;
      }
    }
    this.#held.splice(0, sent);
    if (this.#full) return;
    this.#pongHeld = false;
    this.#drained?.resolve();
    this.#drained = undefined;
  }

  /**
   * Handles one WebSocket message from the client.
   *
   * @param data The message: text, or binary (which the protocol does not allow).
   */
  receive(data: string | ArrayBuffer | Uint8Array): void {
    if (this.#closed) return;
    if (typeof data !== "string") {
      return this.close(CloseCode.unsupportedData, "Binary messages are not supported");
    }
    if (data.charCodeAt(0) === PART) {
      // Not the last part of a message sent in parts: held until that comes.
      if (!this.#part(data)) return;
    } else {
      if (this.#parts.length > 0) data = this.#joinParts(data);
      const size = this.#measure(data);
      if (size === "refused") return;
      for (const text of splitFrames(data)) {
        this.#frame(text, size === "large");
        if (this.#closed) return;
      }
    }
    // Something goes back at once, so the client's TCP ACK rides on it (docs/protocol.md); not
    // while the socket is full, when something is on its way anyway.
    if (this.#ack && this.#batcher.idle && !this.#full) this.#send({ type: "pong" });
  }

  /**
   * The socket has closed: every call still open is cancelled.
   *
   * @param _code The close code.
   * @param _reason The close reason.
   */
  closed(_code: number, _reason: string): void {
    if (this.#closed && this.#calls.size === 0) return;
    this.#closed = true;
    this.#batcher.dispose();
    this.#held = [];
    this.#heldChars = 0;
    this.#parts = [];
    this.#drained?.resolve();
    this.#drained = undefined;
    for (const call of this.#calls.values()) call.peer.abort();
    this.#calls.clear();
    this.#onClosed();
  }

  /**
   * Closes the socket from the server's side.
   *
   * @param code A close code.
   * @param reason Why.
   */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    // What is held goes to the runtime's own queue ahead of the close frame: a closing socket no
    // longer waits for drain (and what it holds is bounded).
    this.#full = false;
    this.#batcher.flush();
    for (const text of this.#held) this.#socket.send(text);
    this.#socket.close(code, truncate(reason));
    this.closed(code, reason);
  }

  #send(frame: ServerFrame): void {
    if (!this.#closed) this.#batcher.push(encodeFrame(frame));
  }

  /** Sends a frame a call has encoded already (a message, measured for its credit). */
  #sendText(text: string): void {
    if (!this.#closed) this.#batcher.push(text);
  }

  /** Hands one WebSocket message to the socket, or holds it while the socket is full. */
  #write(text: string): void {
    if (this.#closed) return;
    if (!this.#full) {
      if (!this.#socket.send(text)) this.#full = true;
      return;
    }
    this.#held.push(text);
    this.#heldChars += text.length;
    if (this.#heldChars <= this.#heldLimit) return;
    // The client does not read what it asked for: drop what is held and close.
    const held = this.#heldChars;
    this.#held = [];
    this.#heldChars = 0;
    const reason = `The client is not reading: ${held} characters waiting to be sent`;
    this.#socket.close(CloseCode.policyViolation, reason);
    this.closed(CloseCode.policyViolation, reason);
  }

  /**
   * Holds one part of a message sent in parts (docs/protocol.md); past the largest message the
   * socket is closed with 1009, as for a whole message.
   *
   * @returns False when the socket was closed.
   */
  #part(data: string): boolean {
    this.#partsChars += data.length - 1;
    // A character is at least a byte: more characters than the allowance are surely over it.
    const allowance = this.#env.limits.maxMessageBytes + ENVELOPE_BYTES;
    if (this.#partsChars > allowance) {
      this.close(
        CloseCode.messageTooBig,
        `A WebSocket message exceeds the limit of ${allowance} bytes`,
      );
      return false;
    }
    this.#parts.push(data.slice(1));
    return true;
  }

  /** The whole message, given its last part. */
  #joinParts(last: string): string {
    this.#parts.push(last);
    const whole = this.#parts.join("");
    this.#parts = [];
    this.#partsChars = 0;
    return whole;
  }

  /**
   * Sizes up a WebSocket message before it is parsed. `"small"`: it is within the message limit,
   * so no message in it can be over. `"large"`: it is over the limit but within the frame
   * allowance, so each message in it is measured once parsed. Past the allowance the socket is
   * closed with 1009 (`"refused"`), as Bun does by itself while reading (its `maxPayloadLength`
   * is set to the same size); Deno has read the whole message by then.
   */
  #measure(data: string): "small" | "large" | "refused" {
    const max = this.#env.limits.maxMessageBytes;
    if (data.length * 3 <= max) return "small";
    const bytes = data.length > max + ENVELOPE_BYTES
      ? Infinity
      : new TextEncoder().encode(data).length;
    if (bytes <= max) return "small";
    if (bytes <= max + ENVELOPE_BYTES) return "large";
    this.close(
      CloseCode.messageTooBig,
      `A WebSocket message exceeds the limit of ${max + ENVELOPE_BYTES} bytes`,
    );
    return "refused";
  }

  /**
   * Refuses a text without parsing it: it fails the call it belongs to when that can be told
   * cheaply (the MicroAPI client writes `type` and `id` first, and a large message travels alone
   * in its WebSocket message), and closes the socket otherwise.
   *
   * @param data The text.
   * @param error The error, given the call a message frame was for (undefined for an open
   * frame, or a text that names no call).
   */
  #refuse(data: string, error: (call?: WebSocketServerCall) => RpcError): void {
    const id = /^\{"type":"(?:message|open)","id":(\d{1,15})[,}]/.exec(data.slice(0, 64))?.[1];
    const call = id === undefined ? undefined : this.#calls.get(Number(id));
    if (call) return call.peer.abort(error(call));
    if (id !== undefined && Number(id) > this.#lastId && data.startsWith('{"type":"open"')) {
      this.#lastId = Number(id);
      return this.#reject(Number(id), error());
    }
    this.close(CloseCode.messageTooBig, error().message);
  }

  /** True when a message, as JSON, is over the message limit (measured only for large input). */
  #over(message: unknown): boolean {
    const max = this.#env.limits.maxMessageBytes;
    const text = JSON.stringify(message) ?? "";
    if (text.length * 3 <= max) return false;
    return text.length > max || new TextEncoder().encode(text).length > max;
  }

  #frame(text: string, large: boolean): void {
    const limits = this.#env.limits;
    if (text.length >= SHAPE_SCAN_CHARS) {
      // Held to the shape limits before JSON.parse spends its time on it.
      const failure = scanShape(text, limits, { envelope: true });
      if (failure) {
        return this.#refuse(text, (call) => {
          if (!call) return shapeError(failure, "request");
          const index = call.received;
          return shapeError(failure, `message at index ${index}`, index);
        });
      }
    }
    // A shorter frame is parsed first, and its message checked if it could pass a limit at all.
    const walk = text.length < SHAPE_SCAN_CHARS && mayPassShape(text.length, limits);
    const decoded = decodeClientFrame(text);
    if (!decoded.ok) {
      const { id, reason, malformed } = decoded.problem;
      const call = id === undefined ? undefined : this.#calls.get(id);
      if (call) return call.peer.abort(new RpcError("invalid_argument", `Bad frame: ${reason}`));
      if (id !== undefined && id > this.#lastId) {
        // A new id with a broken frame: answer for that id, keep the socket.
        this.#lastId = id;
        return this.#reject(id, new RpcError("invalid_argument", `Bad frame: ${reason}`));
      }
      if (id !== undefined) return; // a late frame for a call that has ended
      return this.close(
        malformed ? CloseCode.invalidPayload : CloseCode.protocolError,
        `Bad frame: ${reason}`,
      );
    }
    const frame = decoded.frame;
    switch (frame.type) {
      case "ping":
        if (this.#full) {
          // One pong answers every ping sent while the socket is full.
          if (this.#pongHeld) return;
          this.#pongHeld = true;
        }
        return this.#send({ type: "pong" });
      case "pong":
        return;
      case "open":
        return this.#open(frame, large, walk);
    }
    const call = this.#calls.get(frame.id);
    if (!call) {
      // Frames for a call that has ended are expected (both sides race); frames for an id never
      // opened are a client bug, answered on that id.
      if (frame.id > this.#lastId && frame.type !== "cancel" && frame.type !== "credit") {
        this.#reject(
          frame.id,
          new RpcError("invalid_argument", `No call with id ${frame.id}: send "open" first`),
        );
      }
      return;
    }
    switch (frame.type) {
      case "message": {
        if (large && this.#over(frame.data)) {
          return call.peer.abort(oversize(limits.maxMessageBytes));
        }
        const failure = walk ? checkShape(frame.data, limits) : undefined;
        if (failure) {
          const index = call.received;
          return call.peer.abort(shapeError(failure, `message at index ${index}`, index));
        }
        return call.onMessage(frame.data, text.length);
      }
      case "half_close":
        return call.onHalfClose();
      case "cancel":
        // The slot is free from this frame on: an open that follows it (often in the same
        // message) must not find it taken while the call winds down.
        this.#calls.delete(frame.id);
        return call.peer.abort();
      case "credit":
        return call.onCredit(frame.n);
    }
  }

  #open(frame: OpenFrame, large: boolean, walk: boolean): void {
    if (frame.id <= this.#lastId) {
      return this.close(
        CloseCode.protocolError,
        `Call ids must increase: got ${frame.id} after ${this.#lastId}`,
      );
    }
    this.#lastId = frame.id;
    const env = this.#env;
    const admitted = env.admission.admit({
      route: frame,
      pattern: frame.pattern,
      transport: "websocket",
      metadata: frame.metadata,
      // Already read by the frame codec (a bad one is a bad frame); admission's check is a no-op.
      timeout: frame.timeout_ms,
      timeoutSource: "frame",
    });
    if (admitted instanceof RpcError) return this.#reject(frame.id, admitted);
    if (this.#calls.size >= env.settings.maxCalls) {
      return this.#reject(
        frame.id,
        new RpcError(
          "resource_exhausted",
          `Too many concurrent calls on this connection (limit ${env.settings.maxCalls})`,
        ),
      );
    }
    if (large && "input" in frame && this.#over(frame.input)) {
      return this.#reject(frame.id, oversize(env.limits.maxMessageBytes));
    }
    if (walk && "input" in frame) {
      // The metadata's keys count with the input's, as the scan of a long frame counts them.
      const metadataKeys = frame.metadata ? Object.keys(frame.metadata).length : 0;
      const failure = checkShape(frame.input, env.limits, metadataKeys);
      if (failure) return this.#reject(frame.id, shapeError(failure, "request"));
    }
    const streamed = streamsInput(admitted.entry.method.pattern);
    if (streamed && "input" in frame) {
      return this.#reject(
        frame.id,
        new RpcError(
          "invalid_argument",
          'A streamed input is sent in "message" frames, not as "input" in "open"',
        ),
      );
    }
    // A single input travels in the open frame; without one the call has no input message (which
    // the pipeline reads as {}, as it does an empty HTTP body).
    const input = streamed ? undefined : { value: "input" in frame ? frame.input : undefined };
    const { settings } = env;
    const call = new WebSocketServerCall(frame.id, {
      send: (out) => this.#send(out),
      sendText: (text) => this.#sendText(text),
      ready: () => this.ready(),
      inbound: { messages: settings.window, bytes: settings.windowBytes },
      // What the client asked for, within the server's maximum; a client that names no byte
      // window (protocol 1) gets the maximum, counted from the messages it credits.
      outbound: {
        messages: Math.min(frame.window ?? settings.window, settings.maxWindow),
        bytes: Math.min(frame.window_bytes ?? settings.maxWindowBytes, settings.maxWindowBytes),
        ...(frame.window_bytes === undefined
          ? { creditsEvery: Math.ceil((frame.window ?? settings.window) / 2) }
          : {}),
      },
      input,
      onEnded: () => this.#calls.delete(frame.id),
    });
    this.#calls.set(frame.id, call);
    call.run(admitted);
  }

  /** Ends a call that never started. */
  #reject(id: number, error: RpcError): void {
    this.#send({ type: "end", id, ...error.toBody() });
  }
}

/** The error for a message over the limit, with the limit in its details (docs/protocol.md). */
function oversize(limit: number): RpcError {
  return new RpcError("resource_exhausted", `A message exceeds the limit of ${limit} bytes`, {
    details: { limit },
  });
}

/** Close reasons are limited to 123 bytes. */
function truncate(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= 123) return reason;
  return new TextDecoder().decode(bytes.subarray(0, 120)).replace(/\uFFFD$/, "") + "...";
}
