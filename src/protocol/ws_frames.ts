import { isPattern, type Pattern, PATTERNS } from "../schema/pattern.ts";
import type { ErrorBody } from "./rpc_error.ts";
import { readTimeout } from "./timeout.ts";

/**
 * The frames of the WebSocket protocol (docs/protocol.md, "WebSocket"), and their codec. Frames
 * are JSON objects; one WebSocket message carries one or more frames separated by newlines, so
 * frames produced in the same turn share one write. All encoding and decoding lives here, so a
 * binary encoding can replace this module without touching sessions or transports.
 */

/** The subprotocol name a client offers and the server accepts. */
export const WS_PROTOCOL = "microapi.v1";
/** The path of the WebSocket endpoint, under the app's base path. */
export const WS_PATH = "/_microapi/ws";

/** Opens a call. For unary and server streaming, `input` carries the one request message. */
export interface OpenFrame {
  /** The frame's type. */
  type: "open";
  /** The call's id, chosen by the client: positive, increasing on the socket. */
  id: number;
  /** The service's name. */
  service: string;
  /** The method's name. */
  method: string;
  /** The service's version, for a versioned service. */
  version?: number;
  /** Request metadata. */
  metadata?: Record<string, string>;
  /** The deadline, in milliseconds from now. */
  timeout_ms?: number;
  /** The pattern the client calls the method with; a call with the wrong one fails at once. */
  pattern?: Pattern;
  /**
   * How many messages the client will buffer before it grants more credit; the server holds it
   * to the hello's `max_window`.
   */
  window?: number;
  /**
   * How much the messages the client buffers may add up to, in characters of their frames' JSON
   * text, before it grants more credit; the server holds it to the hello's `max_window_bytes`.
   * Without it (protocol 1 clients) the server assumes the client counts messages only.
   */
  window_bytes?: number;
  /** For unary and server streaming: the request message. */
  input?: unknown;
}

/** One message of a call, either direction. */
export interface MessageFrame {
  /** The frame's type. */
  type: "message";
  /** The call's id. */
  id: number;
  /** The message. */
  data: unknown;
}

/** The client has sent all its messages. */
export interface HalfCloseFrame {
  /** The frame's type. */
  type: "half_close";
  /** The call's id. */
  id: number;
}

/** The client cancels the call. */
export interface CancelFrame {
  /** The frame's type. */
  type: "cancel";
  /** The call's id. */
  id: number;
}

/**
 * Lets the peer send `n` more messages of the call: the receiver has consumed `n` messages, and
 * their room (their bytes too, for a byte window) is free again.
 */
export interface CreditFrame {
  /** The frame's type. */
  type: "credit";
  /** The call's id. */
  id: number;
  /** How many more messages the peer may send. */
  n: number;
}

/** Keepalive, either direction; the peer answers `pong`. */
export interface PingFrame {
  /** The frame's type. */
  type: "ping";
}

/** The answer to `ping`. */
export interface PongFrame {
  /** The frame's type. */
  type: "pong";
}

/**
 * The server's first frame: what the client may assume for every call on this socket. The
 * window fields beyond `window` came with protocol 2; a protocol 1 server sends none of them.
 */
export interface HelloFrame {
  /** The frame's type. */
  type: "hello";
  /** The protocol's version: 2 (1 from servers that count credit in messages only). */
  protocol: number;
  /** Messages a client may send on a call before its first credit. */
  window: number;
  /**
   * How much the messages a client sends on a call before its first credit may add up to, in
   * characters of their frames' JSON text (the one that crosses it included).
   */
  window_bytes?: number;
  /** The largest `window` a client may ask for in `open`. */
  max_window?: number;
  /** The largest `window_bytes` a client may ask for in `open`. */
  max_window_bytes?: number;
  /** The largest message the server accepts, in bytes. */
  max_message_bytes: number;
  /** How many calls may be open at once. */
  max_calls: number;
  /**
   * The server joins a client message sent in parts (WebSocket messages beginning with `+`,
   * docs/protocol.md). Servers before this say nothing.
   */
  parts?: boolean;
}

/** Response headers of a call; sent before its first message when there are any. */
export interface HeadersFrame {
  /** The frame's type. */
  type: "headers";
  /** The call's id. */
  id: number;
  /** The response headers. */
  metadata: Record<string, string>;
}

/** The final status of a call: `ok`, or an error; with trailers. */
export interface EndFrame extends Partial<Omit<ErrorBody, "code">> {
  /** The frame's type. */
  type: "end";
  /** The call's id. */
  id: number;
  /** `ok`, or the error's code (with the error's message and details beside it). */
  code: string;
  /** The trailers. */
  trailers?: Record<string, string>;
}

/** What a client sends. */
export type ClientFrame =
  | OpenFrame
  | MessageFrame
  | HalfCloseFrame
  | CancelFrame
  | CreditFrame
  | PingFrame
  | PongFrame;

/** What a server sends. */
export type ServerFrame =
  | HelloFrame
  | HeadersFrame
  | MessageFrame
  | EndFrame
  | CreditFrame
  | PingFrame
  | PongFrame;

/** WebSocket close codes MicroAPI uses (RFC 6455, section 7.4.1). */
export const CloseCode = {
  /** Normal closure: the client closed its connection. */
  normal: 1000,
  /** Going away: the server is shutting down. */
  goingAway: 1001,
  /** Protocol error: a frame broke the protocol so the connection cannot go on. */
  protocolError: 1002,
  /** Unsupported data: a binary message. */
  unsupportedData: 1003,
  /** Invalid payload: a message that is not JSON frames. */
  invalidPayload: 1007,
  /** Policy violation: for example an origin that is not allowed. */
  policyViolation: 1008,
  /** Message too big, and not attributable to one call. */
  messageTooBig: 1009,
} as const;

/**
 * Encodes one frame.
 *
 * @param frame The frame.
 * @returns Its text; never contains a newline (JSON escapes them), so frames can be joined.
 */
export function encodeFrame(frame: ClientFrame | ServerFrame): string {
  return JSON.stringify(frame);
}

/** A frame the decoder could not accept, with what the receiver should do about it. */
export interface FrameProblem {
  /** The call it belongs to, when that could be told. */
  id: number | undefined;
  /** What was wrong, for the error message. */
  reason: string;
  /** True when the text is not a JSON object at all; false when it breaks the protocol. */
  malformed: boolean;
}

/** The outcome of decoding one frame. */
export type Decoded<F> = { ok: true; frame: F } | { ok: false; problem: FrameProblem };

const ID_MAX = Number.MAX_SAFE_INTEGER;

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value > 0 && value <= ID_MAX;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string");
}

/** An HTTP header name (a token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What a header value may not hold: NUL, CR, LF, or a character past U+00FF. */
const BAD_HEADER_VALUE = /[\0\r\n\u0100-\uffff]/;

/** Why a record cannot be headers (what `new Headers()` would throw on), or undefined. */
function badHeader(record: Record<string, string>): string | undefined {
  for (const name in record) {
    if (!HEADER_NAME.test(name)) {
      return `has an invalid header name: ${JSON.stringify(name.slice(0, 40))}`;
    }
    if (BAD_HEADER_VALUE.test(record[name]!)) {
      return `has an invalid value for ${JSON.stringify(name.slice(0, 40))} (no NUL, CR or LF, ` +
        "and only characters up to U+00FF)";
    }
  }
  return undefined;
}

function fail<F>(id: unknown, reason: string, malformed = false): Decoded<F> {
  return { ok: false, problem: { id: isId(id) ? id : undefined, reason, malformed } };
}

/**
 * Splits a WebSocket message into frame texts.
 *
 * @param text The message.
 * @returns The non-empty lines.
 */
export function splitFrames(text: string): string[] {
  if (text.indexOf("\n") === -1) return text === "" ? [] : [text];
  return text.split("\n").filter((line) => line !== "");
}

/**
 * Parses and checks one frame a client sent. Never throws: a bad frame is a problem report, with
 * the call id when the frame names one, so the server can fail just that call.
 *
 * @param text One frame's text.
 * @returns The frame, or what is wrong with it.
 */
export function decodeClientFrame(text: string): Decoded<ClientFrame> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail(undefined, "a frame is not valid JSON", true);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(undefined, "a frame must be a JSON object", true);
  }
  const frame = value as Record<string, unknown>;
  const { type, id } = frame;
  if (type === "ping" || type === "pong") return { ok: true, frame: { type } };
  if (!isId(id)) {
    return fail(undefined, `frame ${JSON.stringify(type)} needs an "id": a positive integer`);
  }
  switch (type) {
    case "open": {
      const { service, method, version, metadata, timeout_ms, window, window_bytes, pattern } =
        frame;
      if (typeof service !== "string" || typeof method !== "string") {
        return fail(id, 'an "open" frame needs "service" and "method" strings');
      }
      if (version !== undefined && !(Number.isSafeInteger(version) && (version as number) > 0)) {
        return fail(id, '"version" must be a positive integer');
      }
      if (metadata !== undefined && !isStringRecord(metadata)) {
        return fail(id, '"metadata" must be an object of string values');
      }
      if (metadata !== undefined) {
        const bad = badHeader(metadata as Record<string, string>);
        if (bad) return fail(id, `"metadata" ${bad}`);
      }
      let timeout: number | undefined;
      try {
        timeout = readTimeout(timeout_ms, "frame");
      } catch (error) {
        return fail(id, (error as Error).message);
      }
      if (window !== undefined && !isId(window)) {
        return fail(id, '"window" must be a positive integer');
      }
      if (window_bytes !== undefined && !isId(window_bytes)) {
        return fail(id, '"window_bytes" must be a positive integer');
      }
      if (pattern !== undefined && !isPattern(pattern)) {
        return fail(id, `"pattern" must be one of ${PATTERNS.join(", ")}`);
      }
      if (timeout !== undefined) frame.timeout_ms = timeout;
      return { ok: true, frame: frame as unknown as OpenFrame };
    }
    case "message":
      if (!("data" in frame)) return fail(id, 'a "message" frame needs "data"');
      return { ok: true, frame: { type, id, data: frame.data } };
    case "half_close":
    case "cancel":
      return { ok: true, frame: { type, id } };
    case "credit":
      if (!isId(frame.n)) return fail(id, 'a "credit" frame needs "n": a positive integer');
      return { ok: true, frame: { type, id, n: frame.n } };
    default:
      return fail(id, `unknown frame type ${JSON.stringify(type)}`);
  }
}

/**
 * Parses and checks one frame a server sent. A client treats a bad frame from its server as a
 * broken connection.
 *
 * @param text One frame's text.
 * @returns The frame, or what is wrong with it.
 */
export function decodeServerFrame(text: string): Decoded<ServerFrame> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail(undefined, "a frame from the server is not valid JSON", true);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(undefined, "a frame from the server is not a JSON object", true);
  }
  const frame = value as Record<string, unknown>;
  const { type, id } = frame;
  if (type === "ping" || type === "pong") return { ok: true, frame: { type } };
  if (type === "hello") {
    const { protocol, window, max_message_bytes, max_calls } = frame;
    if (!isId(window) || !isId(max_message_bytes) || !isId(max_calls)) {
      return fail(undefined, 'the "hello" frame is incomplete');
    }
    const hello: HelloFrame = {
      type,
      protocol: isId(protocol) ? protocol : 1,
      window,
      max_message_bytes,
      max_calls,
    };
    // Protocol 2's window fields; a server that sends none counts credit in messages only.
    for (const field of ["window_bytes", "max_window", "max_window_bytes"] as const) {
      const value = frame[field];
      if (value === undefined) continue;
      if (!isId(value)) return fail(undefined, `the "hello" frame's "${field}" is not valid`);
      hello[field] = value;
    }
    if (frame.parts === true) hello.parts = true;
    return { ok: true, frame: hello };
  }
  if (!isId(id)) return fail(undefined, `a ${JSON.stringify(type)} frame has no valid "id"`);
  switch (type) {
    case "headers":
      return {
        ok: true,
        frame: { type, id, metadata: isStringRecord(frame.metadata) ? frame.metadata : {} },
      };
    case "message":
      return { ok: true, frame: { type, id, data: frame.data } };
    case "end":
      // An unknown code is kept: the client reads it as `unknown` (forward compatible).
      if (typeof frame.code !== "string") return fail(id, 'an "end" frame needs a "code"');
      return { ok: true, frame: frame as unknown as EndFrame };
    case "credit":
      if (!isId(frame.n)) return fail(id, 'a "credit" frame needs "n"');
      return { ok: true, frame: { type, id, n: frame.n } };
    default:
      return fail(id, `unknown frame type ${JSON.stringify(type)}`);
  }
}
