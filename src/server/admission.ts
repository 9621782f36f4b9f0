import { type Pattern, patternWords } from "../schema/pattern.ts";
import { type Route, routeLabel, routePath } from "../protocol/route.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { readTimeout } from "../protocol/timeout.ts";
import type { AdmittedCall, IncomingCall, MethodEntry } from "./call.ts";
import { drainingError, overloaded } from "./in_flight.ts";
import { PipelineCall, type PipelineEnv } from "./pipeline.ts";
import type { Router } from "./router.ts";

/**
 * The one step before the pipeline, for every transport (HTTP, WebSocket, in memory, and any
 * other: docs/architecture.md, "Adding a transport"). A transport announces a call with what the
 * wire says ({@linkcode IncomingCall}) and gets either the error to answer with, or an
 * {@linkcode AdmittedCall} to run with its messages and sink. Admission, in this order:
 *
 * 1. finds the method by route or path, or answers `not_found` (naming what does exist when the
 *    app publishes its introspection);
 * 2. checks the pattern the client calls it with, when the wire says: `unimplemented` for another
 *    pattern than the method's, naming the client call to use;
 * 3. answers `unavailable` once the app is shutting down, and `resource_exhausted` while the app
 *    has as many calls in flight as it allows (`resources.maxCallsInFlight`; the only
 *    `resource_exhausted` admission answers, which HTTP sends as 503 with `retry-after`);
 * 4. reads the client's timeout with `readTimeout()`: `invalid_argument` for a malformed one,
 *    capped at the longest timer.
 *
 * Running the admitted call counts it in flight until it ends (what a graceful shutdown waits
 * for), and a call that has no input message gets `{}` when its method takes input (an empty
 * HTTP body, an `open` frame without `input`): nothing a transport has to remember.
 *
 * Unstable: for transport authors; it may change between minor versions.
 */
export class Admission {
  #router: Router;
  #env: PipelineEnv;

  /**
   * Creates the app's admission.
   *
   * @param router The method table.
   * @param env The pipeline's view of the app (with the calls in flight).
   */
  constructor(router: Router, env: PipelineEnv) {
    this.#router = router;
    this.#env = env;
  }

  /**
   * Finds a method without answering for it (an HTTP transport asks before it hands a path it
   * does not serve to the app's fallback).
   *
   * @param route The route, or its path (without the base path).
   * @returns The method, or undefined.
   */
  find(route: Route | string): MethodEntry | undefined {
    return this.#router.lookup(typeof route === "string" ? route : routePath(route));
  }

  /**
   * The `not_found` error for a route or path that has no method: which part is unknown and, when
   * the app publishes its introspection, the closest name that exists.
   *
   * @param route The route, or its path.
   * @returns The error.
   */
  notFound(route: Route | string): RpcError {
    return this.#router.notFound(typeof route === "string" ? route : routePath(route));
  }

  /**
   * Admits a call, or says why not.
   *
   * @param call What the transport knows before reading any message.
   * @returns The call to run, or the error the client gets (`not_found`, `unimplemented`,
   * `unavailable`, `resource_exhausted`, `invalid_argument`).
   */
  admit(call: IncomingCall): AdmittedCall | RpcError {
    const path = typeof call.route === "string" ? call.route : routePath(call.route);
    const entry = this.#router.lookup(path);
    if (!entry) return this.#router.notFound(path);
    if (call.pattern !== undefined && call.pattern !== entry.method.pattern) {
      return patternMismatch(entry, call.pattern);
    }
    const { inFlight } = this.#env;
    if (inFlight.draining) return drainingError();
    if (inFlight.full) return overloaded("calls in flight", inFlight.max);
    let timeoutMs: number | undefined;
    if (call.timeout !== undefined && call.timeout !== null) {
      try {
        timeoutMs = readTimeout(
          call.timeout,
          call.timeoutSource ?? "frame",
          call.timeoutName === undefined ? undefined : { name: call.timeoutName },
        );
      } catch (error) {
        if (RpcError.is(error)) return error;
        throw error;
      }
    }
    return new PipelineCall(this.#env, entry, call, timeoutMs);
  }
}

/** The Connection call that calls a method of each pattern. */
const CLIENT_CALLS: Record<Pattern, string> = {
  unary: "unary()",
  server_streaming: "serverStream()",
  client_streaming: "clientStream()",
  bidi_streaming: "bidiStream()",
};

/**
 * The error for a call made with another pattern than the method's, such as `unary()` on a
 * server-streaming method: `unimplemented` (the method exists, but not the way it was called),
 * naming the method's pattern and the client call to use.
 */
function patternMismatch(entry: MethodEntry, requested: Pattern): RpcError {
  const actual = entry.method.pattern;
  const label = routeLabel({
    service: entry.service,
    method: entry.method.name,
    version: entry.version,
  });
  return new RpcError(
    "unimplemented",
    `${label} is a ${patternWords(actual)} method, but it was called as ${
      patternWords(requested)
    }: call it with ${CLIENT_CALLS[actual]}`,
    { details: { pattern: actual, requested } },
  );
}
