import { type Code, type ErrorCode, isCode } from "./codes.ts";

/** Options for {@linkcode RpcError}. */
export interface RpcErrorOptions {
  /** Structured, JSON-serialisable information for the caller, sent on the wire as `details`. */
  details?: unknown;
  /** Response metadata that came with the error (headers and trailers), filled in by clients. */
  metadata?: HeadersInit;
  /** The underlying error. Kept for logs; never sent to the peer. */
  cause?: unknown;
}

/** The JSON shape of an error on the wire: `{ "code", "message", "details"? }`. */
export interface ErrorBody {
  /** The status code, never `ok`. */
  code: ErrorCode;
  /** A human-readable message for developers. */
  message: string;
  /** Optional structured information. */
  details?: unknown;
}

const brand = Symbol.for("microapi.rpc_error");

/**
 * The one error type that crosses the wire. Throw it from a handler to end the call with a code;
 * clients throw it with the code, message and details the server sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "./rpc_error.ts";
 * const error = new RpcError("not_found", "no user with id 7", { details: { user_id: 7 } });
 * assert.deepEqual(error.toBody(), {
 *   code: "not_found",
 *   message: "no user with id 7",
 *   details: { user_id: 7 },
 * });
 * ```
 */
export class RpcError extends Error {
  /** The status code. */
  readonly code: ErrorCode;
  /** Structured information for the caller. */
  readonly details: unknown;
  /** Response metadata that came with the error. */
  readonly metadata: Headers;

  /**
   * Creates an error.
   *
   * @param code A status code other than `ok`.
   * @param message A message for developers; sent to the caller.
   * @param options Details, metadata and cause.
   */
  constructor(code: ErrorCode, message: string, options: RpcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RpcError";
    this.code = code;
    this.details = options.details;
    this.metadata = new Headers(options.metadata);
  }

  /**
   * Tells whether a value is an RpcError, also when it comes from another copy of this library.
   *
   * @param value Anything.
   * @returns `true` for RpcError instances.
   */
  static is(value: unknown): value is RpcError {
    return value instanceof RpcError ||
      (typeof value === "object" && value !== null &&
        (value as { [brand]?: true })[brand] === true);
  }

  /**
   * Turns anything thrown into an RpcError. An RpcError is returned as it is; an AbortError becomes
   * `cancelled`, a TimeoutError `deadline_exceeded`; anything else becomes `internal` with a
   * generic message, the original kept as `cause` for logs and never sent.
   *
   * @param error The thrown value.
   * @returns An RpcError.
   */
  static from(error: unknown): RpcError {
    if (RpcError.is(error)) return error;
    const name = typeof error === "object" && error !== null ? (error as Error).name : undefined;
    if (name === "AbortError") {
      return new RpcError("cancelled", "The call was cancelled", { cause: error });
    }
    if (name === "TimeoutError") {
      return new RpcError("deadline_exceeded", "the deadline expired", { cause: error });
    }
    return new RpcError("internal", "internal error", { cause: error });
  }

  /**
   * Reads an error from its wire shape. Anything that is not a valid error body becomes
   * `unknown` (or the given fallback code), so a peer can never make a client crash.
   *
   * @param body The parsed JSON value.
   * @param options The code to use when `body` carries no valid code, and response metadata.
   * @returns An RpcError.
   */
  static fromBody(
    body: unknown,
    options: { fallback?: ErrorCode; metadata?: HeadersInit } = {},
  ): RpcError {
    const fallback = options.fallback ?? "unknown";
    const metadata = options.metadata;
    if (typeof body !== "object" || body === null) {
      return new RpcError(fallback, "the peer sent an error without a body", { metadata });
    }
    const { code, message, details } = body as Record<string, unknown>;
    const valid: Code = isCode(code) ? code : fallback;
    return new RpcError(
      valid === "ok" ? fallback : valid,
      typeof message === "string" ? message : `error ${String(code)}`,
      { details, metadata },
    );
  }

  /**
   * The wire shape of this error.
   *
   * @returns `{ code, message, details? }`.
   */
  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

Object.defineProperty(RpcError.prototype, brand, { value: true });
