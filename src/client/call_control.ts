import { RpcError } from "../protocol/rpc_error.ts";
import { MAX_TIMEOUT_MS, readTimeout } from "../protocol/timeout.ts";
import type { CallOptions } from "./call_options.ts";

/**
 * How long after the deadline the client gives up on its own. The server enforces the deadline and
 * answers `deadline_exceeded` (its handler sees why its signal aborted); the client's timer is the
 * backstop for a server that does not answer. Firing exactly at the deadline would make the
 * client disconnect first, and the handler would see a plain cancellation instead.
 */
export const DEADLINE_BACKSTOP_MS = 50;

/**
 * One call's cancellation: the caller's signal and the deadline, merged into one AbortSignal whose
 * reason is an RpcError (`cancelled` or `deadline_exceeded`). The AbortSignal is made only when
 * asked for (a fetch needs one); the call's state hears of the abort through
 * {@linkcode CallControl.listen}, which costs no signal (an AbortController and a listener are
 * about a microsecond per call on JavaScriptCore).
 */
export class CallControl {
  /** The timeout sent to the server, if any. */
  readonly timeoutMs: number | undefined;
  #controller: AbortController | undefined;
  #reason: RpcError | undefined;
  #listener: ((reason: RpcError) => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #deadline: number | undefined;
  #signal: AbortSignal | undefined;
  #onAbort = () => {
    const reason = this.#signal?.reason;
    this.abort(
      (reason as { name?: unknown })?.name === "TimeoutError"
        ? new RpcError("deadline_exceeded", "The call timed out", { cause: reason })
        : new RpcError("cancelled", "The call was cancelled", { cause: reason }),
    );
  };

  /**
   * Starts watching the caller's signal and the deadline.
   *
   * @param options The call options.
   * @param defaultTimeoutMs The connection's default timeout.
   */
  constructor(options: CallOptions, defaultTimeoutMs?: number) {
    const timeout = options.timeoutMs ?? defaultTimeoutMs;
    this.timeoutMs = readTimeout(timeout, "option");
    this.#signal = options.signal;
    if (this.#signal?.aborted) this.#onAbort();
    else this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    if (this.timeoutMs !== undefined && !this.#reason) {
      const ms = this.timeoutMs;
      this.#deadline = Date.now() + ms;
      this.#timer = setTimeout(() => {
        this.abort(new RpcError("deadline_exceeded", `The deadline of ${ms} ms expired`));
      }, Math.min(ms + DEADLINE_BACKSTOP_MS, MAX_TIMEOUT_MS));
    }
  }

  /** Aborts when the call is cancelled or its deadline passes (made on first use). */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Why the call was aborted, or undefined while it has not been. */
  get reason(): RpcError | undefined {
    return this.#reason;
  }

  /**
   * Calls `listener` once when the call is aborted, after the signal's own listeners; at once if
   * it has been aborted already. One listener (the call's state); a second replaces the first.
   *
   * @param listener Receives the abort reason.
   */
  listen(listener: (reason: RpcError) => void): void {
    if (this.#reason) return listener(this.#reason);
    this.#listener = listener;
  }

  /**
   * What is left of the timeout now, for a call that waited before it went out (a WebSocket call
   * queued behind the server's `max_calls`): the server is given the deadline the caller set,
   * not a new one.
   *
   * @returns Whole milliseconds until the deadline (0 once it has passed), or undefined without
   * a timeout.
   */
  remainingMs(): number | undefined {
    if (this.#deadline === undefined) return undefined;
    return Math.max(0, Math.ceil(this.#deadline - Date.now()));
  }

  /**
   * Aborts the call.
   *
   * @param reason The error the call fails with.
   */
  abort(reason: RpcError): void {
    if (this.#reason) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.(reason);
    this.dispose();
  }

  /**
   * The error to report for a failure: the abort reason if the call was aborted (a fetch aborted
   * by us fails with its own error), otherwise the error itself as an RpcError.
   *
   * @param error What was thrown.
   * @param unreachable How to describe a network failure.
   * @returns An RpcError.
   */
  failure(error: unknown, unreachable: string): RpcError {
    if (this.#reason) return this.#reason;
    if (RpcError.is(error)) return error;
    return new RpcError("unavailable", `${unreachable}: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }

  /** Stops the timer and lets go of the caller's signal. */
  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}
