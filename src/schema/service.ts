import type { z } from "zod";
import type { Context } from "./context.ts";
import type { DependencyMap, ResolvedDeps } from "./dependency.ts";
import type { Middleware } from "./middleware.ts";
import {
  isStreamingOutput,
  isStreamInput,
  type StreamingOutput,
  type StreamInput,
} from "./markers.ts";
import { type Pattern, patternOf } from "./pattern.ts";
import type { Stream } from "./stream.ts";

/** What a method may take as input: a schema, `stream(schema)`, or nothing. */
export type InputSpec = z.ZodType | StreamInput;
/** What a method may give as output: a schema, `streaming(schema)`, or nothing. */
export type OutputSpec = z.ZodType | StreamingOutput;

/** The first argument a handler receives for a given input spec. */
export type HandlerInput<I> = I extends StreamInput<infer S> ? Stream<z.output<S>>
  : I extends z.ZodType ? z.output<I>
  : undefined;

/** What a handler returns for a given output spec. */
export type HandlerResult<O> = O extends StreamingOutput<infer S> ? AsyncIterable<z.input<S>>
  : O extends z.ZodType ? z.input<O> | Promise<z.input<O>>
  : void | Promise<void>;

/** A method's implementation. `ctx.deps` holds the dependencies the method declared. */
export type Handler<I, O, D = DependencyMap> = (
  input: HandlerInput<I>,
  ctx: Context & { readonly deps: ResolvedDeps<D> },
) => HandlerResult<O>;

/**
 * What calling a method twice does: `no_side_effects` (it only reads: safe to call with an HTTP
 * GET, to cache, to retry), `idempotent` (calling it again has no further effect: safe to
 * retry). The names are protobuf's `MethodOptions.IdempotencyLevel`, lower-cased.
 */
export type Idempotency = "no_side_effects" | "idempotent";

const IDEMPOTENCY_LEVELS: readonly string[] = ["no_side_effects", "idempotent"];

/** How a method is declared. */
export interface MethodOptions<
  I extends InputSpec | undefined,
  O extends OutputSpec | undefined,
  D extends DependencyMap = DependencyMap,
> {
  /** The input schema; `stream(schema)` for a client stream; omit for no input. */
  input?: I;
  /** The output schema; `streaming(schema)` for a server stream; omit for no output. */
  output?: O;
  /** Shown in introspection, `info` and generated JSDoc. */
  description?: string;
  /** Marks the method deprecated; a string says what to use instead. */
  deprecated?: boolean | string;
  /**
   * What calling the method twice does, as protobuf's `idempotency_level` says it:
   * `"no_side_effects"` for a method that only reads (Connect clients may then call it with an
   * HTTP GET, which caches and needs no CORS preflight), `"idempotent"` for one that may be
   * retried safely. Default: neither (the method may have side effects). See docs/connect.md.
   */
  idempotency?: Idempotency;
  /** Middleware for this method only, innermost (see {@linkcode Middleware}). */
  middleware?: Middleware[];
  /**
   * Dependencies resolved before the handler runs, by name; the handler reads their values as
   * `ctx.deps.<name>`, typed.
   */
  deps?: D;
}

/** A registered method, as the server, the introspection model and the code generator see it. */
export interface MethodDefinition {
  /** The method's name. */
  readonly name: string;
  /** The pattern, from the input and output specs. */
  readonly pattern: Pattern;
  /** The schema of each input message, or undefined when the method takes none. */
  readonly input: z.ZodType | undefined;
  /** The schema of each output message, or undefined when the method returns nothing. */
  readonly output: z.ZodType | undefined;
  /** The description, if any. */
  readonly description: string | undefined;
  /** `false`, `true`, or the deprecation notice. */
  readonly deprecated: boolean | string;
  /** What calling the method twice does, when declared (see {@linkcode MethodOptions}). */
  readonly idempotency?: Idempotency | undefined;
  /** The implementation. */
  readonly handler: (input: unknown, ctx: Context) => unknown;
  /** The method's own middleware. */
  readonly middleware: readonly Middleware[];
  /** The method's own dependencies. */
  readonly deps: Readonly<DependencyMap>;
}

/** How a service is declared. */
export interface ServiceOptions {
  /** A positive integer; routes of a versioned service start with `/v<N>/`. */
  version?: number;
  /** Shown in introspection, `info` and generated JSDoc. */
  description?: string;
  /** Marks every method of this service deprecated; a string says what to use instead. */
  deprecated?: boolean | string;
  /** Middleware for every method of this service, inside the app's (see {@linkcode Middleware}). */
  middleware?: Middleware[];
  /** Dependencies resolved before every method of this service runs. */
  deps?: DependencyMap;
}

/** The method types a service has collected, keyed by name (used for typed clients). */
export interface MethodTypes<I = unknown, O = unknown> {
  /** The input spec. */
  input: I;
  /** The output spec. */
  output: O;
}

const SERVICE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const METHOD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * A named group of methods. Register methods with {@linkcode Service.method}; the pattern follows
 * from the schemas: `stream(T)` input for client streaming, `streaming(T)` output for server
 * streaming, both for bidi.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Service, streaming, z } from "../../mod.ts";
 * const User = z.object({ username: z.string(), age: z.number().int() });
 * const users = new Service("users")
 *   .method("get_user", { input: z.object({ user_id: z.number().int() }), output: User },
 *     ({ user_id }) => ({ username: `user${user_id}`, age: 30 }))
 *   .method("list_users", { input: z.object({ limit: z.number().int() }), output: streaming(User) },
 *     async function* ({ limit }) {
 *       for (let i = 0; i < limit; i++) yield { username: `user${i}`, age: i };
 *     });
 * assert.deepEqual(users.methods.map((m) => m.pattern), ["unary", "server_streaming"]);
 * ```
 */
// deno-lint-ignore ban-types
export class Service<M extends Record<string, MethodTypes> = {}> {
  /** Marks services structurally, so that two copies of the library recognise each other's. */
  readonly "~microapi": "service" = "service";
  /** The service's name. */
  readonly name: string;
  /** The version, or undefined. */
  readonly version: number | undefined;
  /** The description, if any. */
  readonly description: string | undefined;
  /** `false`, `true`, or the deprecation notice. */
  readonly deprecated: boolean | string;
  /** Middleware for every method, in order (outermost first). */
  readonly middleware: Middleware[];
  /** Dependencies resolved before every method. */
  readonly deps: Readonly<DependencyMap>;
  #methods = new Map<string, MethodDefinition>();
  declare readonly "~types": M;

  /**
   * Creates a service.
   *
   * @param name Letters, digits, `_` and `-`, starting with a letter; at most 64 characters.
   * @param options Version, description, deprecation.
   * @throws {TypeError} For an invalid name or version.
   */
  constructor(name: string, options: ServiceOptions = {}) {
    if (typeof name !== "string" || !SERVICE_NAME.test(name)) {
      throw new TypeError(
        `Invalid service name ${JSON.stringify(name)}: use letters, digits, "_" and "-", ` +
          "starting with a letter (at most 64 characters)",
      );
    }
    const { version } = options;
    if (version !== undefined && (!Number.isSafeInteger(version) || version < 1)) {
      throw new TypeError(
        `Invalid version for service ${name}: expected a positive integer, got ${version}`,
      );
    }
    this.name = name;
    this.version = version;
    this.description = options.description;
    this.deprecated = options.deprecated ?? false;
    this.middleware = [...(options.middleware ?? [])];
    this.deps = { ...options.deps };
  }

  /**
   * Adds middleware for every method of this service, inside what is already there.
   *
   * @param middleware The middleware, outermost first.
   * @returns This service.
   */
  use(...middleware: Middleware[]): this {
    for (const m of middleware) {
      if (typeof m !== "function") {
        throw new TypeError(`Invalid middleware for service ${this.name}: expected a function`);
      }
    }
    this.middleware.push(...middleware);
    return this;
  }

  /** The registered methods, in registration order. */
  get methods(): readonly MethodDefinition[] {
    return [...this.#methods.values()];
  }

  /**
   * Looks up a method.
   *
   * @param name The method's name.
   * @returns The method, or undefined.
   */
  getMethod(name: string): MethodDefinition | undefined {
    return this.#methods.get(name);
  }

  /**
   * Registers a method. The handler's shape is checked against the pattern: a streamed output
   * needs an async generator (`async function*`) or a function returning an async iterable, and
   * an async generator needs a streamed output.
   *
   * @param name Letters, digits and `_`, not starting with a digit.
   * @param options Input and output schemas, description, deprecation.
   * @param handler The implementation.
   * @returns This service, typed with the new method, for chaining.
   * @throws {TypeError} For an invalid or duplicate name, or a handler that does not fit.
   */
  method<
    N extends string,
    I extends InputSpec | undefined = undefined,
    O extends OutputSpec | undefined = undefined,
    D extends DependencyMap = DependencyMap,
  >(
    name: N,
    options: MethodOptions<I, O, D>,
    handler: Handler<I, O, D>,
  ): Service<M & { [K in N]: MethodTypes<I, O> }> {
    const where = `${this.name}.${String(name)}`;
    if (typeof name !== "string" || !METHOD_NAME.test(name)) {
      throw new TypeError(
        `Invalid method name ${JSON.stringify(name)} in service ${this.name}: use letters, ` +
          'digits and "_", not starting with a digit (at most 64 characters)',
      );
    }
    if (this.#methods.has(name)) {
      throw new TypeError(
        `Duplicate method ${where}: a method with this name is already registered`,
      );
    }
    const { input, output } = options ?? {};
    checkSpec(where, "input", input, isStreamInput(input));
    checkSpec(where, "output", output, isStreamingOutput(output));
    const pattern = patternOf(isStreamInput(input), isStreamingOutput(output));
    checkHandler(where, handler, isStreamingOutput(output));
    const { idempotency } = options;
    if (idempotency !== undefined && !IDEMPOTENCY_LEVELS.includes(idempotency)) {
      throw new TypeError(
        `Invalid idempotency for method ${where}: expected "no_side_effects" or "idempotent", ` +
          `got ${JSON.stringify(idempotency)}`,
      );
    }
    this.#methods.set(name, {
      name,
      pattern,
      input: isStreamInput(input) ? input.schema : input,
      output: isStreamingOutput(output) ? output.schema : output,
      description: options.description,
      deprecated: options.deprecated ?? false,
      ...(idempotency === undefined ? {} : { idempotency }),
      handler: handler as MethodDefinition["handler"],
      middleware: [...(options.middleware ?? [])],
      deps: { ...options.deps },
    });
    return this as unknown as Service<M & { [K in N]: MethodTypes<I, O> }>;
  }
}

/**
 * Tells whether a value is a Service, also one made by another copy of this library.
 *
 * @param value Anything, such as a module export.
 * @returns `true` for services.
 */
export function isService(value: unknown): value is Service {
  return typeof value === "object" && value !== null &&
    (value as Record<string, unknown>)["~microapi"] === "service";
}

function checkSpec(where: string, which: string, spec: unknown, marker: boolean): void {
  if (spec === undefined || marker) return;
  const isZod = typeof spec === "object" && spec !== null &&
    typeof (spec as { safeParse?: unknown }).safeParse === "function";
  if (!isZod) {
    throw new TypeError(
      `Invalid ${which} for method ${where}: expected a zod schema${
        which === "input" ? " or stream(schema)" : " or streaming(schema)"
      }, got ${typeof spec === "object" ? JSON.stringify(spec) : typeof spec}`,
    );
  }
}

function checkHandler(where: string, handler: unknown, streamedOutput: boolean): void {
  if (typeof handler !== "function") {
    throw new TypeError(
      `Invalid handler for method ${where}: expected a function, got ${typeof handler}`,
    );
  }
  const kind = Object.prototype.toString.call(handler).slice(8, -1);
  if (kind === "GeneratorFunction") {
    throw new TypeError(
      `Invalid handler for method ${where}: a sync generator (function*) cannot stream; ` +
        "use an async generator (async function*)",
    );
  }
  if (streamedOutput && kind === "AsyncFunction") {
    throw new TypeError(
      `Invalid handler for method ${where}: the output is streaming(...), so the handler must be ` +
        "an async generator (async function*) that yields each message",
    );
  }
  if (!streamedOutput && kind === "AsyncGeneratorFunction") {
    throw new TypeError(
      `Invalid handler for method ${where}: an async generator handler streams, but the output ` +
        "is not streaming(...); declare output: streaming(Schema) or use a plain async function",
    );
  }
}
