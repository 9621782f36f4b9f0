import { readBodyText } from "../protocol/body.ts";
import { codeFromHttpStatus } from "../protocol/codes.ts";
import {
  JSON_TYPE,
  mediaType,
  NDJSON_TYPE,
  PATTERN_HEADER,
  TIMEOUT_HEADER,
  TRAILER_PREFIX,
} from "../protocol/headers.ts";
import { parseJson } from "../protocol/json.ts";
import type { Limits } from "../protocol/limits.ts";
import { NdjsonReader, NdjsonWriter } from "../protocol/ndjson.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { type Route, routePath } from "../protocol/route.ts";
import { decodeResponseLine } from "../protocol/stream_lines.ts";
import { type Pattern, streamsInput, streamsOutput } from "../schema/pattern.ts";
import { CallControl } from "./call_control.ts";
import type { CallOptions } from "./call_options.ts";
import { ClientCallState, mergeMetadata } from "./call_state.ts";
import type { ClientCall, ClientTransport } from "./transport.ts";

/** How the HTTP transport is set up. */
export interface HttpTransportOptions {
  /** The server's base URL. */
  url: string;
  /** Metadata sent with every call. */
  metadata?: HeadersInit;
  /** The default timeout of every call. */
  timeoutMs?: number;
  /** Limits on what the server sends. */
  limits: Limits;
  /** The fetch to use; default the global one. */
  fetch?: typeof fetch;
}

/**
 * Calls over HTTP, with the protocol of docs/protocol.md: unary as one JSON exchange, streams as
 * NDJSON bodies. Client and bidi streaming send a streaming request body; Deno and Bun run such a
 * request full duplex over HTTP/1.1, browsers do not (use the WebSocket transport there).
 */
export class HttpTransport implements ClientTransport {
  #base: string;
  #metadata: Headers;
  #timeoutMs: number | undefined;
  #limits: Limits;
  #fetch: typeof fetch;
  #calls = new Set<CallControl>();

  /**
   * Creates the transport; nothing is sent until the first call.
   *
   * @param options URL, default metadata and timeout, limits, fetch.
   */
  constructor(options: HttpTransportOptions) {
    this.#base = options.url.replace(/\/+$/, "");
    this.#metadata = new Headers(options.metadata);
    this.#timeoutMs = options.timeoutMs;
    this.#limits = options.limits;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  async unary(route: Route, input: unknown, options: CallOptions): Promise<unknown> {
    const control = this.#track(new CallControl(options, this.#timeoutMs));
    const url = this.#base + routePath(route);
    try {
      const response = await this.#fetch(url, {
        method: "POST",
        headers: this.#headers(options, control, JSON_TYPE, "unary"),
        body: input === undefined ? undefined : JSON.stringify(input),
        signal: control.signal,
      });
      const { headers, trailers } = splitHeaders(response);
      options.onHeaders?.(headers);
      if (!response.ok) {
        const error = await errorFromResponse(response, this.#limits);
        options.onTrailers?.(trailers);
        throw error;
      }
      const text = await readBodyText(response.body, this.#limits.maxMessageBytes, "response body");
      options.onTrailers?.(trailers);
      return parseResponse(text);
    } catch (error) {
      throw control.failure(error, `Cannot reach ${url}`);
    } finally {
      this.#untrack(control);
    }
  }

  open(route: Route, pattern: Pattern, options: CallOptions, input?: unknown): ClientCall {
    if (streamsInput(pattern) && "document" in globalThis) {
      // Browsers stream request bodies only over HTTP/2, and never read the response before the
      // upload ends: client and bidi streaming cannot work over HTTP there.
      throw new RpcError(
        "unimplemented",
        `${pattern === "bidi_streaming" ? "Bidi" : "Client"} streaming over HTTP does not work ` +
          'in browsers: use new Connection(url, { transport: "ws" })',
      );
    }
    const control = this.#track(new CallControl(options, this.#timeoutMs));
    const url = this.#base + routePath(route);
    const writer = streamsInput(pattern) ? new NdjsonWriter() : undefined;
    const headers = this.#headers(options, control, writer ? NDJSON_TYPE : JSON_TYPE, pattern);
    const response = this.#fetch(url, {
      method: "POST",
      headers,
      body: writer ? writer.readable : JSON.stringify(input ?? {}),
      signal: control.signal,
      // Required for a streaming request body.
      ...(writer ? { duplex: "half" } : {}),
    } as RequestInit);
    return new HttpCall({
      url,
      response,
      writer,
      streamedOutput: streamsOutput(pattern),
      control,
      options,
      limits: this.#limits,
      done: () => this.#untrack(control),
    });
  }

  close(): Promise<void> {
    const reason = new RpcError("cancelled", "The connection was closed");
    for (const control of this.#calls) control.abort(reason);
    this.#calls.clear();
    return Promise.resolve();
  }

  #headers(
    options: CallOptions,
    control: CallControl,
    contentType: string,
    pattern: Pattern,
  ): Headers {
    const headers = mergeMetadata(this.#metadata, options.metadata);
    headers.set("content-type", contentType);
    // The server answers a call made with the wrong pattern with a clear error.
    headers.set(PATTERN_HEADER, pattern);
    if (control.timeoutMs !== undefined) headers.set(TIMEOUT_HEADER, String(control.timeoutMs));
    return headers;
  }

  #track(control: CallControl): CallControl {
    this.#calls.add(control);
    return control;
  }

  #untrack(control: CallControl): void {
    control.dispose();
    this.#calls.delete(control);
  }
}

/** Parses a unary response body; a server that sends broken JSON is an `internal` failure. */
function parseResponse(text: string): unknown {
  try {
    return parseJson(text, "response body");
  } catch (error) {
    throw new RpcError("internal", (error as Error).message);
  }
}

/** A response's headers without its trailers (the `trailer-` headers), and the trailers. */
function splitHeaders(response: Response): { headers: Headers; trailers: Headers } {
  const trailers = new Headers();
  let headers = response.headers;
  let copied = false;
  response.headers.forEach((value, name) => {
    if (!name.startsWith(TRAILER_PREFIX)) return;
    if (!copied) {
      headers = new Headers(response.headers);
      copied = true;
    }
    trailers.set(name.slice(TRAILER_PREFIX.length), value);
    headers.delete(name);
  });
  return { headers, trailers };
}

/**
 * The error a non-2xx response carries: the error body if the server sent one, otherwise a code
 * picked from the HTTP status (a proxy's error page, for instance).
 *
 * @param response The response.
 * @param limits Size limits for the body.
 * @returns The error.
 */
export async function errorFromResponse(response: Response, limits: Limits): Promise<RpcError> {
  const fallback = codeFromHttpStatus(response.status);
  const text = await readBodyText(response.body, limits.maxMessageBytes, "error body")
    .catch(() => "");
  if (mediaType(response.headers.get("content-type")) === JSON_TYPE) {
    try {
      return RpcError.fromBody(JSON.parse(text), { fallback, metadata: response.headers });
    } catch {
      // Not JSON after all: fall through.
    }
  }
  const excerpt = text.trim().slice(0, 200);
  return new RpcError(
    fallback,
    `HTTP ${response.status} ${response.statusText}${excerpt ? `: ${excerpt}` : ""}`,
    { metadata: response.headers },
  );
}

interface HttpCallInit {
  url: string;
  response: Promise<Response>;
  writer: NdjsonWriter | undefined;
  streamedOutput: boolean;
  control: CallControl;
  options: CallOptions;
  limits: Limits;
  done: () => void;
}

/**
 * One streaming call over HTTP: the request body is the client's messages (NDJSON), the response
 * body the server's, read as the application asks for them. The call's state is
 * {@linkcode ClientCallState}'s.
 */
class HttpCall extends ClientCallState {
  #init: HttpCallInit;
  #response: Promise<Response>;
  #trailers = new Headers();
  #reader: NdjsonReader | undefined;
  #lineIndex = 0;

  constructor(init: HttpCallInit) {
    super({
      control: init.control,
      options: init.options,
      streamedInput: init.writer !== undefined,
    });
    this.#init = init;
    // Looked at as soon as it arrives: an early error response must stop the sender.
    this.#response = init.response.then(async (response) => {
      const { headers, trailers } = splitHeaders(response);
      this.onHeaders(headers);
      if (!response.ok) {
        const error = await errorFromResponse(response, init.limits);
        this.onEnd(error, trailers);
        throw error;
      }
      this.#trailers = trailers;
      return response;
    }).catch((error) => {
      this.onFailure(this.control.failure(error, `Cannot reach ${init.url}`));
      throw this.failure;
    });
    this.#response.catch(() => {});
    this.watchSignal();
  }

  protected writeMessage(message: unknown): Promise<void> | undefined {
    const room = this.#init.writer!.write(JSON.stringify(message) ?? "null");
    return room && this.afterRoom(room);
  }

  protected writeEnd(): void {
    this.#init.writer!.close();
  }

  protected override writeCancel(error: RpcError): void {
    this.#reader?.cancel(error);
  }

  protected override async pull(): Promise<void> {
    const response = await this.#response;
    if (!this.#init.streamedOutput) {
      // Client streaming: one JSON response, its trailers in the response's headers.
      const limits = this.#init.limits;
      const text = await readBodyText(response.body, limits.maxMessageBytes, "response body");
      this.onMessage(parseResponse(text));
      return this.onEnd(undefined, this.#trailers);
    }
    if (!this.#reader) {
      const type = mediaType(response.headers.get("content-type"));
      if (type !== NDJSON_TYPE || !response.body) {
        throw new RpcError(
          "internal",
          `Expected an ${NDJSON_TYPE} response, got ${type || "none"}`,
        );
      }
      this.#reader = new NdjsonReader(response.body, {
        maxLineBytes: this.#init.limits.maxLineBytes,
        what: "response body",
      });
    }
    const line = await this.#reader.next();
    if (line === undefined) {
      throw new RpcError(
        "unavailable",
        "The response stream ended without a final status: the connection was lost",
      );
    }
    const decoded = decodeResponseLine(line, this.#lineIndex++);
    if (decoded.kind === "message") return this.onMessage(decoded.value);
    this.onEnd(decoded.error, decoded.trailers);
  }

  protected override release(failure: RpcError | undefined): void {
    // The server has answered, or the call failed: release the request body too.
    if (failure) this.#init.writer?.error(failure);
    else this.#init.writer?.close();
    this.#init.done();
  }
}
