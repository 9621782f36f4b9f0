import { httpStatusByCode } from "../protocol/codes.ts";
import {
  JSON_TYPE,
  mediaType,
  NDJSON_TYPE,
  PATTERN_HEADER,
  TIMEOUT_HEADER,
  TRAILER_PREFIX,
} from "../protocol/headers.ts";
import type { Limits } from "../protocol/limits.ts";
import { NdjsonWriter } from "../protocol/ndjson.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { isCanonicalPath, routeLabel } from "../protocol/route.ts";
import { encodeEndLine, encodeMessageLine } from "../protocol/stream_lines.ts";
import { WS_PATH } from "../protocol/ws_frames.ts";
import {
  isPattern,
  PATTERNS,
  patternWords,
  streamsInput,
  streamsOutput,
} from "../schema/pattern.ts";
import type { RequestHooks } from "./adapters/types.ts";
import type { Admission } from "./admission.ts";
import type { CallSink, MethodEntry } from "./call.ts";
import type { BodyWatch } from "./body_watch.ts";
import { EMPTY_HEADERS } from "./call_context.ts";
import { type BodyFormat, httpMessageSource } from "./http_sources.ts";
import type { ProtocolHandler } from "./protocol.ts";

/** What the HTTP transport needs from the app. */
export interface HttpEnv {
  /** The step before the pipeline. */
  readonly admission: Admission;
  /** Input limits. */
  readonly limits: Limits;
  /** Times request bodies that arrive too slowly. */
  readonly bodyWatch?: BodyWatch | undefined;
  /** A prefix stripped from request paths (`""` for none). */
  readonly basePath: string;
  /** Answers requests that are not calls; undefined for the default 404. */
  readonly fallback: ((request: Request) => Response | Promise<Response>) | undefined;
  /** Built-in endpoints under `/_microapi/` that answer GET, by path. */
  readonly builtins: ReadonlyMap<string, (request: Request) => Response | Promise<Response>>;
  /**
   * Other protocols (Connect, gRPC-Web), asked in order about requests no route of ours answers,
   * before the fallback and the 404.
   */
  readonly protocols: readonly ProtocolHandler[];
}

/**
 * Answers one HTTP request with the protocol of docs/protocol.md. Never throws: every problem is a
 * response with an error body.
 *
 * @param request The request.
 * @param env The app.
 * @param hooks What the runtime adapter offers (idle timeouts, its JSON fast path).
 * @returns The response; for streamed output it is returned when the first message (or the final
 * status) is ready, and its body streams the rest.
 */
export function handleHttp(
  request: Request,
  env: HttpEnv,
  hooks?: RequestHooks,
): Promise<Response> | Response {
  const { admission } = env;
  const full = pathOf(request.url, "")!;
  // Before anything looks the path up: one that servers and proxies could read differently is
  // refused the same way on every runtime (Bun rewrites them; the adapter says so).
  if (hooks?.rewrittenPath || !isCanonicalPath(full)) return errorResponse(nonCanonicalPath());
  const base = env.basePath;
  const path = base === ""
    ? full
    : full.startsWith(base + "/")
    ? full.slice(base.length)
    : undefined;
  if (request.method !== "POST") return notACall(request, path, env, hooks);
  if (path === undefined || (env.fallback && !admission.find(path))) {
    return notFound(request, path, env, hooks);
  }
  const pattern = request.headers.get(PATTERN_HEADER);
  if (pattern !== null && !isPattern(pattern)) {
    return errorResponse(
      new RpcError(
        "invalid_argument",
        `Header ${PATTERN_HEADER} must be one of ${PATTERNS.join(", ")}, got ${
          JSON.stringify(pattern.slice(0, 40))
        }`,
      ),
    );
  }
  const call = admission.admit({
    route: path,
    pattern: pattern ?? undefined,
    transport: "http",
    metadata: request.headers,
    timeout: request.headers.get(TIMEOUT_HEADER),
    timeoutSource: "header",
  });
  if (call instanceof RpcError) {
    // Admission's only resource_exhausted: the server is at its limit of calls in flight.
    if (call.code === "resource_exhausted") return overloadedResponse(call);
    if (call.code === "not_found" && env.protocols.length > 0) {
      return otherProtocol(request, path, env, hooks) ?? errorResponse(call);
    }
    return errorResponse(call);
  }
  const { entry } = call;
  const format = bodyFormat(entry, mediaType(request.headers.get("content-type")));
  if (typeof format !== "string") return errorResponse(format, 415);
  const streamedOutput = streamsOutput(entry.method.pattern);
  if (hooks?.onStream && (streamedOutput || format === "ndjson")) hooks.onStream();
  // A streamed response learns that the client left from its body's cancellation; anything else
  // from request.signal, watched only if the handler reads ctx.signal (it costs on Deno).
  const peer = streamedOutput ? new AbortController() : undefined;
  const sink = new HttpSink(streamedOutput, () => peer?.abort());
  call.run(
    httpMessageSource(request, format, {
      limits: env.limits,
      nativeJson: hooks?.nativeJson === true,
      watch: env.bodyWatch,
    }),
    sink,
    {
      signal: peer?.signal,
      watchPeer: (abort) => request.signal.addEventListener("abort", abort, { once: true }),
    },
  );
  return sink.response;
}

/**
 * The error for a path with dot segments, a backslash or an encoded slash: `not_found`, as any
 * path that leads to no method (and as Deno answered such paths before they were checked), and
 * the same on every runtime, which cannot all tell what the client sent (Bun resolves the path
 * first).
 */
function nonCanonicalPath(): RpcError {
  return new RpcError(
    "not_found",
    "Path not served: request paths with dot segments (. or .., also as %2e), backslashes, or " +
      "encoded slashes (%2f, %5c) are refused, so that this server and any proxy in front of it " +
      "read a path alike; send the path as written, such as /<service>/<method>",
  );
}

/** A request that is not a POST: a built-in endpoint, or an error (or the fallback). */
function notACall(
  request: Request,
  path: string | undefined,
  env: HttpEnv,
  hooks: RequestHooks | undefined,
): Promise<Response> | Response {
  const read = request.method === "GET" || request.method === "HEAD";
  const builtin = read && path !== undefined ? env.builtins.get(path) : undefined;
  if (builtin) return request.method === "HEAD" ? headOf(builtin(request)) : builtin(request);
  if (path === WS_PATH) {
    return errorResponse(
      new RpcError("unimplemented", "WebSocket upgrades need app.serve() on Deno or Bun"),
      426,
      new Headers({ upgrade: "websocket" }),
    );
  }
  const entry = path === undefined ? undefined : env.admission.find(path);
  if (entry) {
    return errorResponse(
      new RpcError("unimplemented", `Use POST to call ${routeLabel(routeOf(entry))}`),
      405,
      new Headers({ allow: "POST" }),
    );
  }
  return notFound(request, path, env, hooks);
}

/**
 * The answer to a HEAD request for a built-in endpoint: the GET answer's status and headers, no
 * body (a load balancer's HEAD health check gets the same status as its GET would).
 */
async function headOf(answer: Promise<Response> | Response): Promise<Response> {
  const response = await answer;
  await response.body?.cancel();
  return new Response(null, { status: response.status, headers: response.headers });
}

/** The answer of the first other protocol that recognises the request, if one does. */
function otherProtocol(
  request: Request,
  path: string,
  env: HttpEnv,
  hooks: RequestHooks | undefined,
): Promise<Response> | Response | undefined {
  for (const protocol of env.protocols) {
    const response = protocol(request, path, hooks);
    if (response) return response;
  }
  return undefined;
}

/** No method at this path: another protocol's call, the app's fallback, or `404 not_found`. */
function notFound(
  request: Request,
  path: string | undefined,
  env: HttpEnv,
  hooks?: RequestHooks,
): Promise<Response> | Response {
  const other = path === undefined ? undefined : otherProtocol(request, path, env, hooks);
  if (other) return other;
  if (env.fallback) return env.fallback(request);
  return errorResponse(env.admission.notFound(path ?? new URL(request.url).pathname));
}

/**
 * An error as an HTTP response: the status from the code table (or the one given), and the JSON
 * error body.
 *
 * @param error The error.
 * @param status Overrides the table, for the protocol-level 405 and 415.
 * @param headers Extra headers.
 * @returns The response.
 */
export function errorResponse(error: RpcError, status?: number, headers?: Headers): Response {
  const all = headers ?? new Headers();
  all.set("content-type", JSON_TYPE);
  return new Response(JSON.stringify(error.toBody()), {
    status: status ?? httpStatusByCode[error.code],
    headers: all,
  });
}

/** How long a client refused at a server-wide limit is asked to wait, in seconds. */
const RETRY_AFTER_SECONDS = "1";

/**
 * The response for a request refused at a server-wide limit (calls in flight, WebSockets): `503`
 * with `retry-after`, rather than the code's 429, since the server and not the client is out of
 * room (a load balancer may send the client elsewhere). The body carries the error as usual.
 *
 * @param error The `resource_exhausted` error.
 * @returns The response.
 */
export function overloadedResponse(error: RpcError): Response {
  return errorResponse(error, 503, new Headers({ "retry-after": RETRY_AFTER_SECONDS }));
}

function routeOf(entry: MethodEntry) {
  return { service: entry.service, method: entry.method.name, version: entry.version };
}

/**
 * The path of an absolute URL, without query, with the base path removed.
 *
 * @param url An absolute URL.
 * @param basePath The app's base path, `""` for none.
 * @returns The path, or undefined when it is outside the base path.
 */
export function pathOf(url: string, basePath: string): string | undefined {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return basePath === "" ? "/" : undefined;
  const query = url.indexOf("?", start);
  const path = query === -1 ? url.slice(start) : url.slice(start, query);
  if (basePath === "") return path;
  return path.startsWith(basePath + "/") ? path.slice(basePath.length) : undefined;
}

/**
 * Which body format a request uses, from its content type and the method's pattern. The content
 * type must be given: a request without one, or with a type a form or `text/plain` may carry,
 * is one a page on another site can send without the browser asking the server first (a CORS
 * preflight), so it is refused before the handler runs (docs/security.md).
 */
function bodyFormat(entry: MethodEntry, type: string): BodyFormat | RpcError {
  const { pattern } = entry.method;
  if (!streamsInput(pattern)) {
    if (type === JSON_TYPE) return "json";
  } else {
    if (type === NDJSON_TYPE) return "ndjson";
    if (type === JSON_TYPE && pattern === "client_streaming") return "json_array";
  }
  const expected = !streamsInput(pattern)
    ? `content-type: ${JSON_TYPE}`
    : pattern === "client_streaming"
    ? `content-type: ${NDJSON_TYPE} (one message per line) or ${JSON_TYPE} (an array of messages)`
    : `content-type: ${NDJSON_TYPE} (one message per line)`;
  const label = `${routeLabel(routeOf(entry))} (${patternWords(pattern)})`;
  return new RpcError(
    "invalid_argument",
    type === ""
      ? `Missing content type for ${label}: send ${expected}. Calls without one are refused, ` +
        "since a page on another site could make them without the browser asking first"
      : `Unsupported content type ${JSON.stringify(type)} for ${label}: send ${expected}`,
  );
}

const JSON_HEADERS = { "content-type": JSON_TYPE };
const NDJSON_HEADERS = { "content-type": NDJSON_TYPE, "cache-control": "no-store" };

/**
 * Builds the HTTP response of a call. Unary output is one JSON body; streamed output is NDJSON,
 * committed when the first message is ready. An error before any message is a plain error
 * response with its HTTP status; after that it is the stream's end line.
 */
class HttpSink implements CallSink {
  readonly response: Promise<Response>;
  #resolve: (response: Response) => void;
  #streaming: boolean;
  #onCancel: () => void;
  #headers: Headers | undefined;
  #body = "null";
  #writer: NdjsonWriter | undefined;

  constructor(streaming: boolean, onCancel: () => void) {
    const { promise, resolve } = Promise.withResolvers<Response>();
    this.response = promise;
    this.#resolve = resolve;
    this.#streaming = streaming;
    this.#onCancel = onCancel;
  }

  open(headers: Headers): void {
    this.#headers = headers;
  }

  send(message: unknown): Promise<void> | undefined {
    if (!this.#streaming) {
      this.#body = JSON.stringify(message) ?? "null";
      return undefined;
    }
    const line = encodeMessageLine(message);
    if (!this.#writer) {
      this.#writer = new NdjsonWriter({ onCancel: this.#onCancel });
      this.#resolve(
        new Response(this.#writer.readable, { headers: this.#withHeaders(NDJSON_HEADERS) }),
      );
    }
    return this.#writer.write(line);
  }

  close(error: RpcError | undefined, trailers: Headers): void {
    if (this.#writer) {
      this.#writer.write(encodeEndLine(error, trailers));
      this.#writer.close();
      return;
    }
    if (this.#streaming && !error) {
      this.#resolve(
        new Response(encodeEndLine(undefined, trailers) + "\n", {
          headers: this.#withHeaders(NDJSON_HEADERS),
        }),
      );
      return;
    }
    const headers = this.#withHeaders(JSON_HEADERS, trailers);
    if (error) {
      this.#resolve(
        new Response(JSON.stringify(error.toBody()), {
          status: httpStatusByCode[error.code],
          headers,
        }),
      );
    } else {
      this.#resolve(new Response(this.#body, { headers }));
    }
  }

  /** The response headers plus the content type, and trailers as `trailer-` headers. */
  #withHeaders(base: Record<string, string>, trailers?: Headers): HeadersInit {
    const extra = this.#headers;
    if ((!extra || isEmpty(extra)) && (!trailers || isEmpty(trailers))) return base;
    const headers = new Headers(extra);
    for (const [name, value] of Object.entries(base)) headers.set(name, value);
    trailers?.forEach((value, name) => headers.set(TRAILER_PREFIX + name, value));
    return headers;
  }
}

/** Headers with no entries (the pipeline hands over a shared empty instance when none were set). */
function isEmpty(headers: Headers): boolean {
  if (headers === EMPTY_HEADERS) return true;
  for (const _ of headers.keys()) return false;
  return true;
}
