import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { FrameBatcher } from "../protocol/frame_batcher.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { type ClientFrame, encodeFrame, type ServerFrame } from "../protocol/ws_frames.ts";

/**
 * The wire of one call over NATS (docs/scale-out.md, "Wire"): every NATS message of a call carries
 * one or more frames of the WebSocket protocol (src/protocol/ws_frames.ts), joined by newlines.
 * The call is named by its subjects, so a frame's `id` is free to carry its **sequence number**
 * in its direction, 1, 2, 3, ...: NATS core delivers at most once, and a gap means a frame was
 * lost (a reconnect, a slow consumer dropped), which fails the call with `data_loss` instead of
 * shortening a stream silently. `ping` frames carry no id: they are heartbeats, not counted.
 * Every message names the sender's own subject for the call as its NATS reply subject, so the
 * receiver knows where to answer, and NATS itself answers a message whose peer subscription is
 * gone with a "no responders" status (see {@linkcode isNoResponders}).
 */

/** How often a side sends a heartbeat on a quiet call, by default, in milliseconds. */
export const DEFAULT_HEARTBEAT_MS = 1_000;
/** The shortest and longest heartbeat a client may ask for. */
export const HEARTBEAT_RANGE = { min: 50, max: 60_000 } as const;
/** A call whose peer has been silent for this many heartbeats is given up. */
export const MISSED_HEARTBEATS = 3;
/**
 * A server answers a call that is still running after this long with a heartbeat at once, so the
 * client learns where to send a cancel (a call that ends sooner costs no extra message).
 */
export const ACK_AFTER_MS = 100;

/**
 * Checks a heartbeat interval.
 *
 * @param value The interval, in milliseconds.
 * @param name What to call it in the error.
 * @returns The interval.
 * @throws {RangeError} When it is not an integer within {@linkcode HEARTBEAT_RANGE}.
 */
export function checkHeartbeat(value: number, name: string): number {
  if (!Number.isInteger(value) || value < HEARTBEAT_RANGE.min || value > HEARTBEAT_RANGE.max) {
    throw new RangeError(
      `Invalid ${name} ${value}: expected an integer from ${HEARTBEAT_RANGE.min} to ` +
        `${HEARTBEAT_RANGE.max} (milliseconds)`,
    );
  }
  return value;
}

/**
 * Tells whether a message is NATS's "no responders" status: what the NATS server sends to a reply
 * subject when the message it came with had no subscriber. On a call that has started, it means
 * the peer's process (its connection) is gone.
 *
 * @param msg A message.
 * @returns True for a 503 status without payload.
 */
export function isNoResponders(msg: Msg): boolean {
  return msg.data.length === 0 && msg.headers?.code === 503;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The text of a message's payload.
 *
 * @param msg The message.
 * @returns Its frames' text (split it with `splitFrames`).
 */
export function payloadText(msg: Msg): string {
  return decoder.decode(msg.data);
}

/**
 * The error for a message that NATS would refuse: over the NATS server's `max_payload`.
 *
 * @param bytes The message's size.
 * @param maxPayload The NATS server's limit.
 * @param what Which message: "request message", "response message".
 * @returns `resource_exhausted`, with the limit in its details.
 */
export function overPayload(bytes: number, maxPayload: number, what: string): RpcError {
  return new RpcError(
    "resource_exhausted",
    `A ${what} of ${bytes} bytes exceeds the NATS server's max_payload of ${maxPayload} bytes: ` +
      "send smaller messages, or raise max_payload in the NATS server's configuration",
    { details: { limit: maxPayload, size: bytes } },
  );
}

/**
 * Encodes a frame and checks it against the NATS server's limit.
 *
 * @param frame The frame.
 * @param maxPayload The NATS server's `max_payload`.
 * @param what What to call the frame's message in the error.
 * @returns The frame's text, or `resource_exhausted` when NATS would refuse it.
 */
export function frameText(
  frame: ClientFrame | ServerFrame,
  maxPayload: number,
  what: string,
): string | RpcError {
  const text = encodeFrame(frame);
  if (text.length * 3 > maxPayload) {
    const bytes = encoder.encode(text).length;
    if (bytes > maxPayload) return overPayload(bytes, maxPayload, what);
  }
  return text;
}

/** The start of an encoded message frame, up to the end of its id. */
const MESSAGE_HEAD = /^\{"type":"message","id":\d+/;

/** Where a call's outgoing frames go. */
export interface FrameOutInit {
  /** The connection. */
  readonly nc: NatsConnection;
  /** The peer's subject for the call, when known. */
  readonly to: string | undefined;
  /** This side's subject for the call: the reply subject of every message. */
  readonly reply: string;
  /** The NATS server's `max_payload`. */
  readonly maxPayload: number;
  /** The first sequence number to give (1; 2 for a client, whose open frame was 1). */
  readonly firstSeq?: number;
}

/**
 * One direction of a call, outgoing: numbers the frames, joins those of one turn into one NATS
 * message (a {@linkcode FrameBatcher}), refuses a frame NATS would refuse, and remembers when it
 * last sent, for heartbeats. Until the peer's subject is known (a client before the server's first
 * frame), frames wait.
 */
export class FrameOut {
  #nc: NatsConnection;
  #to: string | undefined;
  #reply: string;
  #maxPayload: number;
  #seq: number;
  #batcher: FrameBatcher;
  #waiting: string[] = [];
  #closed = false;
  /** When this side last sent anything on the call (`Date.now()`), or created it. */
  lastSent: number = Date.now();
  /** True once anything went out. */
  sent = false;

  /**
   * Creates the outgoing half.
   *
   * @param init Connection, subjects, limit.
   */
  constructor(init: FrameOutInit) {
    this.#nc = init.nc;
    this.#to = init.to;
    this.#reply = init.reply;
    this.#maxPayload = init.maxPayload;
    this.#seq = (init.firstSeq ?? 1) - 1;
    // A batch in characters that cannot exceed max_payload in bytes (UTF-8: 3 bytes a character
    // at most); one frame larger than that travels alone, measured exactly.
    this.#batcher = new FrameBatcher(
      (text) => this.#publish(text),
      Math.max(1024, Math.min(64 * 1024, Math.floor(init.maxPayload / 3))),
    );
  }

  /** The peer's subject, when known. */
  get to(): string | undefined {
    return this.#to;
  }

  /**
   * Sets this side's subject for the call (the reply subject of what is sent from now on).
   *
   * @param subject The subject.
   */
  setReply(subject: string): void {
    this.#reply = subject;
  }

  /**
   * The peer's subject is known now: frames that waited for it go out.
   *
   * @param subject The peer's subject for the call.
   */
  connect(subject: string): void {
    if (this.#to !== undefined) return;
    this.#to = subject;
    for (const text of this.#waiting.splice(0)) this.#batcher.push(text);
  }

  /**
   * Numbers, encodes and queues a frame (sent at the end of the turn).
   *
   * @param frame The frame; its `id` is set to the next sequence number (`ping`: no id).
   * @param what What to call a message frame in an oversize error.
   * @returns undefined, or the error when the frame is over the NATS server's limit (nothing was
   * sent and no number used).
   */
  push(frame: ClientFrame | ServerFrame, what = "message"): RpcError | undefined {
    if (this.#closed) return undefined;
    const numbered = "id" in frame;
    if (numbered) frame.id = this.#seq + 1;
    const text = frameText(frame, this.#maxPayload, what);
    if (typeof text !== "string") return text;
    if (numbered) this.#seq++;
    this.#queue(text);
    return undefined;
  }

  /**
   * Numbers and queues a message frame its call encoded already (to measure it for its credit):
   * its `id`, whatever it was, becomes the next sequence number.
   *
   * @param text The frame's text, as `encodeFrame` writes a message frame (`type`, then `id`).
   * @param what What to call the message in an oversize error.
   * @returns undefined, or the error when the frame is over the NATS server's limit.
   */
  pushText(text: string, what = "message"): RpcError | undefined {
    if (this.#closed) return undefined;
    const head = MESSAGE_HEAD.exec(text);
    if (!head) throw new TypeError(`Not an encoded message frame: ${text.slice(0, 40)}`);
    const numbered = `{"type":"message","id":${this.#seq + 1}${text.slice(head[0].length)}`;
    if (numbered.length * 3 > this.#maxPayload) {
      const bytes = encoder.encode(numbered).length;
      if (bytes > this.#maxPayload) return overPayload(bytes, this.#maxPayload, what);
    }
    this.#seq++;
    this.#queue(numbered);
    return undefined;
  }

  #queue(text: string): void {
    if (this.#to === undefined) this.#waiting.push(text);
    else this.#batcher.push(text);
  }

  /** Sends what is queued now. */
  flush(): void {
    this.#batcher.flush();
  }

  /** Drops anything queued; nothing is sent any more. */
  close(): void {
    this.#closed = true;
    this.#waiting = [];
    this.#batcher.dispose();
  }

  #publish(text: string): void {
    if (this.#closed || this.#to === undefined) return;
    this.lastSent = Date.now();
    this.sent = true;
    try {
      this.#nc.publish(this.#to, text, { reply: this.#reply });
    } catch {
      // The connection is closed or draining: the call's liveness check ends it.
    }
  }
}

/**
 * One direction of a call, incoming: checks the sequence numbers and remembers when the peer was
 * last heard from.
 */
export class FrameIn {
  #next: number;
  /** When the peer was last heard from on the call (`Date.now()`), or the call began. */
  lastHeard: number = Date.now();

  /**
   * Starts expecting a sequence number.
   *
   * @param first The first number expected (1 from a server, 2 from a client).
   */
  constructor(first: number) {
    this.#next = first;
  }

  /**
   * Checks a numbered frame's sequence number.
   *
   * @param id The frame's `id`.
   * @returns undefined when it is the next one; otherwise the number that was expected.
   */
  check(id: number): number | undefined {
    if (id !== this.#next) return this.#next;
    this.#next++;
    return undefined;
  }
}

/**
 * The `data_loss` error for a gap in a call's frames.
 *
 * @param expected The sequence number expected.
 * @param got The one that came.
 * @param from Who sent it: "the server", "the client".
 * @returns The error.
 */
export function lostFrames(expected: number, got: number, from: string): RpcError {
  return new RpcError(
    "data_loss",
    `A frame of the call from ${from} was lost on the way (expected frame ${expected}, got ` +
      `${got}): NATS delivers at most once, so the call cannot go on`,
    { details: { expected, got } },
  );
}
