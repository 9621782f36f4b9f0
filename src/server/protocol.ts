import type { Service } from "../schema/service.ts";
import type { Limits } from "../protocol/limits.ts";
import type { RequestHooks } from "./adapters/types.ts";
import type { Admission } from "./admission.ts";

/**
 * Another wire protocol served next to MicroAPI's own on the same HTTP handler, such as Connect
 * and gRPC-Web (`connect()` from `@microapi/core/connect`). The app sets each protocol up once,
 * when it is made, and hands it only the requests its own routes do not answer (no method at
 * the path, and not a built-in endpoint), so MicroAPI's own calls never pay for it. A protocol
 * answers the requests it recognises and returns undefined for the others, which then get the
 * app's fallback or 404.
 *
 * A protocol runs its calls through `env.admission` like every transport (docs/architecture.md,
 * "Adding a transport"): middleware, dependencies, validation, deadlines and graceful shutdown
 * apply unchanged. The app's CORS option applies to its responses too.
 *
 * Unstable: for protocol authors; it may change between minor versions.
 */
export interface Protocol {
  /** A short name, for error messages: `"connect"`. */
  readonly name: string;
  /**
   * Prepares the protocol for one app.
   *
   * @param env What the protocol may use of the app.
   * @returns The request handler.
   * @throws {TypeError} When the app's services cannot be served by this protocol (the app's
   * constructor fails with it).
   */
  setup(env: ProtocolEnv): ProtocolHandler;
}

/** What a {@linkcode Protocol} may use of the app it serves. */
export interface ProtocolEnv {
  /** The step before the pipeline: find, admit and run calls. */
  readonly admission: Admission;
  /** The app's input limits (`maxMessageBytes` also bounds decompressed messages). */
  readonly limits: Limits;
  /** The app's base path, `""` for none; the handler gets paths without it. */
  readonly basePath: string;
  /** The app's own services, in order (the built-in `health` service left out). */
  readonly services: readonly Service[];
  /** Names for schemas, by identity (the app's `schemaNames` option). */
  readonly schemaNames: ReadonlyMap<object, string> | undefined;
  /**
   * Whether the app publishes descriptions of itself (its `introspection` option, or the
   * environment's production rule): a protocol publishes its own (descriptors, reflection) under
   * the same rule.
   */
  readonly publish: boolean;
}

/**
 * Answers one request of a protocol, or returns undefined for a request the protocol does not
 * recognise. It must not throw: a problem is a response in the protocol's own error format.
 *
 * @param request The request.
 * @param path Its path without the app's base path (and without the query).
 * @param hooks What the runtime adapter offers (lifting idle timeouts for streams).
 * @returns The response, or undefined.
 */
export type ProtocolHandler =
  & ((
    request: Request,
    path: string,
    hooks: RequestHooks | undefined,
  ) => Promise<Response> | Response | undefined)
  & {
    /**
     * The paths the protocol answers (without the base path), when it knows them: an adapter whose
     * runtime rewrites request paths tells the requests it rewrote to one of them apart with these.
     */
    readonly paths?: readonly string[];
  };
