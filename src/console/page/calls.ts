/// <reference lib="dom" />
/**
 * One call from the console and what the response pane shows of it, by pattern: the result of a
 * unary call; the live messages of a server stream with count and rate; the messages sent on a
 * client stream and its response; the conversation of a bidi call, sent and received messages
 * interleaved in the order they happened. Every call shows its status, duration, response headers
 * and trailers, and a failed call its code, message and details.
 */
import { type BidiStream, type ClientStream, type Connection, RpcError } from "../../client/mod.ts";
import type { Pattern } from "../../schema/pattern.ts";
import { h, pretty, replace } from "./dom.ts";

/** How a call ended, as history records it: `ok`, an error code, or `cancelled`. */
export type Outcome = string;

/** What to call and how. */
export interface CallRequest {
  /** The connection of the chosen transport. */
  readonly connection: Connection;
  /** `service/method` or `v2/service/method`. */
  readonly route: string;
  /** The method's pattern. */
  readonly pattern: Pattern;
  /** Whether the method takes input (else nothing is sent for unary and server streaming). */
  readonly hasInput: boolean;
  /** Whether the method returns something (else a unary or client-streaming call shows none). */
  readonly hasOutput: boolean;
  /** Per-call metadata. */
  readonly metadata: readonly [string, string][];
  /** The deadline, if one was given. */
  readonly timeoutMs: number | undefined;
}

/** The longest list of messages the pane keeps on screen; older ones are dropped (and counted). */
const SHOWN = 500;

/** The response pane, and the state of the call it shows. */
export class CallRun {
  /** The pane. */
  readonly element: HTMLElement;
  /** The messages sent so far (for history and snippets). */
  readonly sent: unknown[] = [];
  /** The pattern of the call. */
  readonly pattern: Pattern;
  #request: CallRequest;
  #status = h("div", { class: "status", id: "status", "data-state": "running" }, "Running…");
  #stats = h("div", { class: "stats", id: "stats" });
  #list = h("ol", { class: "messages", id: "messages" });
  #result = h("div", { class: "result-box" });
  #meta = h("div", { class: "meta" });
  #controller = new AbortController();
  #started = performance.now();
  #received = 0;
  #firstAt = 0;
  #dropped = 0;
  #pending: (() => HTMLElement)[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #client: ClientStream<unknown, unknown> | BidiStream<unknown, unknown> | undefined;
  #done = Promise.withResolvers<Outcome>();
  #finished = false;
  #responseHeaders: Headers | undefined;
  #trailers: Headers | undefined;

  /**
   * Makes the pane for a call (nothing is sent yet).
   *
   * @param request The call.
   */
  constructor(request: CallRequest) {
    this.#request = request;
    this.pattern = request.pattern;
    const streamsOut = request.pattern === "server_streaming" ||
      request.pattern === "bidi_streaming";
    const streamsIn = request.pattern === "client_streaming" ||
      request.pattern === "bidi_streaming";
    if (request.pattern === "bidi_streaming") this.#list.classList.add("conversation");
    this.element = h(
      "div",
      { class: "call" },
      h("div", { class: "status-line" }, this.#status, this.#stats),
      this.#result,
      (streamsOut || streamsIn) && h(
        "div",
        { class: "stream" },
        h(
          "h3",
          {},
          request.pattern === "bidi_streaming"
            ? "Conversation"
            : request.pattern === "client_streaming"
            ? "Sent"
            : "Messages",
        ),
        this.#list,
      ),
      this.#meta,
    );
  }

  /** Resolves with the outcome once the call has ended. */
  get done(): Promise<Outcome> {
    return this.#done.promise;
  }

  /** Whether the call has ended. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Whether a client or bidi stream is open for sending. */
  get open(): boolean {
    return this.#client !== undefined && !this.#finished;
  }

  #options() {
    return {
      signal: this.#controller.signal,
      metadata: this.#request.metadata as [string, string][],
      ...(this.#request.timeoutMs === undefined ? {} : { timeoutMs: this.#request.timeoutMs }),
      onHeaders: (headers: Headers) => {
        this.#responseHeaders = headers;
        this.#showHeaders();
      },
      onTrailers: (trailers: Headers) => {
        this.#trailers = trailers;
        this.#showHeaders();
      },
    };
  }

  /**
   * Starts a unary or server-streaming call with its one request message.
   *
   * @param input The request message.
   * @returns When the call has ended.
   */
  async run(input: unknown): Promise<Outcome> {
    const { connection, route, hasInput } = this.#request;
    if (hasInput) this.sent.push(input);
    try {
      if (this.pattern === "unary") {
        const result = await connection.unary(route, hasInput ? input : undefined, this.#options());
        this.#showResult(result);
      } else {
        const stream = connection.serverStream(
          route,
          hasInput ? input : undefined,
          this.#options(),
        );
        for await (const message of stream) this.#receive(message);
      }
      return this.#finish("ok");
    } catch (error) {
      return this.#fail(error);
    }
  }

  /** Opens a client-streaming or bidi call (the first {@linkcode send} does it too). */
  openStream(): void {
    if (this.#client) return;
    const { connection, route } = this.#request;
    if (this.pattern === "client_streaming") {
      this.#client = connection.clientStream(route, this.#options());
      return;
    }
    const call = connection.bidiStream(route, this.#options());
    this.#client = call;
    (async () => {
      try {
        for await (const message of call) this.#receive(message);
        this.#note("The server ended the stream");
        this.#finish("ok");
      } catch (error) {
        this.#fail(error);
      }
    })();
  }

  /**
   * Sends one message on a client-streaming or bidi call.
   *
   * @param message The message.
   */
  async send(message: unknown): Promise<void> {
    this.openStream();
    if (this.#finished) return;
    const copy = structuredClone(message);
    this.sent.push(copy);
    const index = this.sent.length - 1;
    const at = this.#elapsed();
    this.#add(() => this.#entry("sent", copy, index, at));
    this.#renderStats();
    try {
      await this.#client!.send(copy);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Ends the sending side: a client stream then shows its response; a bidi call reads on. */
  async end(): Promise<void> {
    this.openStream();
    if (this.#finished) return;
    try {
      if (this.pattern === "client_streaming") {
        const result = await (this.#client as ClientStream<unknown, unknown>).end();
        this.#showResult(result);
        this.#finish("ok");
      } else {
        this.#note("You ended your side; the server may still answer");
        await (this.#client as BidiStream<unknown, unknown>).end();
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Cancels the call (the server's handler sees its signal abort). */
  cancel(): void {
    if (this.#finished) return;
    this.#stopped = true;
    const reason = new RpcError("cancelled", "Cancelled from the console");
    this.#controller.abort(reason);
    this.#client?.cancel(reason);
    // A client stream has no reader that would see the cancellation: show it now.
    this.#fail(reason);
  }

  #elapsed(): string {
    return `${Math.round(performance.now() - this.#started)} ms`;
  }

  #entry(direction: "sent" | "received", message: unknown, index: number, at: string): HTMLElement {
    return h(
      "li",
      { class: direction },
      h("span", { class: "when" }, `${direction === "sent" ? "→" : "←"} #${index + 1} · +${at}`),
      h("pre", { class: "json" }, compact(message)),
    );
  }

  #note(text: string): void {
    if (this.pattern !== "bidi_streaming") return;
    const line = `${text} · +${this.#elapsed()}`;
    this.#add(() => h("li", { class: "note" }, line));
  }

  #receive(message: unknown): void {
    if (this.#received === 0) this.#firstAt = performance.now();
    const index = this.#received++;
    const at = this.#elapsed();
    this.#add(() => this.#entry("received", message, index, at));
  }

  /**
   * Adds a list entry. Entries are put on screen in batches, and only the last {@linkcode SHOWN}
   * are ever built, so a fast stream stays smooth: the count goes on, the list keeps the latest.
   */
  #add(item: () => HTMLElement): void {
    this.#pending.push(item);
    this.#flushTimer ??= setTimeout(() => this.#flush(), 30);
  }

  #flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const atBottom = this.#list.scrollHeight - this.#list.scrollTop - this.#list.clientHeight < 40;
    let pending = this.#pending;
    this.#pending = [];
    if (pending.length >= SHOWN) {
      this.#dropped += pending.length - SHOWN + this.#list.children.length;
      pending = pending.slice(pending.length - SHOWN);
      this.#list.replaceChildren();
    }
    for (const item of pending) this.#list.appendChild(item());
    while (this.#list.children.length > SHOWN) {
      this.#list.firstElementChild!.remove();
      this.#dropped++;
    }
    this.#list.dataset.dropped = String(this.#dropped);
    if (atBottom) this.#list.scrollTop = this.#list.scrollHeight;
    this.#renderStats();
  }

  #renderStats(): void {
    const parts: string[] = [];
    if (this.pattern !== "server_streaming" && this.pattern !== "unary") {
      parts.push(`${this.sent.length} sent`);
    }
    if (this.pattern === "server_streaming" || this.pattern === "bidi_streaming") {
      parts.push(`${this.#received} received`);
      const seconds = (performance.now() - this.#firstAt) / 1000;
      if (this.#received > 1 && seconds > 0) {
        parts.push(`${(this.#received / seconds).toFixed(1)} msg/s`);
      }
    }
    if (this.#dropped > 0) parts.push(`${this.#dropped} oldest not shown`);
    this.#stats.textContent = parts.join(" · ");
  }

  #showResult(result: unknown): void {
    replace(
      this.#result,
      h("h3", {}, "Response"),
      this.#request.hasOutput ? h("pre", { class: "json", id: "result" }, pretty(result)) : h(
        "div",
        { class: "hint", id: "result" },
        "(no response message: the method returns nothing)",
      ),
    );
  }

  #showHeaders(): void {
    const table = (title: string, id: string, headers: Headers | undefined) => {
      const entries = headers ? [...headers.entries()] : [];
      return h(
        "details",
        { class: "headers", id, open: entries.length > 0 && entries.length < 8 },
        h("summary", {}, `${title} (${entries.length})`),
        entries.length === 0 ? h("div", { class: "hint" }, "none") : h(
          "table",
          {},
          entries.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v))),
        ),
      );
    };
    replace(
      this.#meta,
      table("Response headers", "headers", this.#responseHeaders),
      table("Trailers", "trailers", this.#trailers),
    );
  }

  #finish(outcome: Outcome): Outcome {
    if (this.#finished) return outcome;
    this.#finished = true;
    this.#flush();
    const label = outcome === "ok" ? "OK" : outcome;
    this.#status.dataset.state = outcome === "ok"
      ? "ok"
      : outcome === "cancelled"
      ? "cancelled"
      : "error";
    this.#status.textContent = `${label} · ${this.#elapsed()}`;
    this.#showHeaders();
    this.#done.resolve(outcome);
    return outcome;
  }

  #fail(error: unknown): Outcome {
    if (this.#finished) return "error";
    const rpc = RpcError.is(error) ? error : undefined;
    const code = rpc ? rpc.code : "client_error";
    const outcome = this.#stopped && code === "cancelled" ? "cancelled" : code;
    const box = h(
      "div",
      { class: "error-box", id: "error", "data-code": code },
      h("div", { class: "code" }, code),
      h("div", { class: "message" }, rpc ? rpc.message : String(error)),
      this.#stopped && code === "cancelled" &&
        h("div", { class: "hint" }, "You cancelled this call."),
      rpc?.details !== undefined && h("h4", {}, "Details"),
      rpc?.details !== undefined && h("pre", { class: "json details" }, pretty(rpc.details)),
    );
    replace(this.#result, box);
    if (rpc?.metadata && !this.#responseHeaders) this.#responseHeaders = new Headers(rpc.metadata);
    this.#note(outcome === "cancelled" ? "Cancelled" : `Failed: ${code}`);
    return this.#finish(outcome);
  }
}

/** Short messages on one line, longer ones indented. */
function compact(message: unknown): string {
  const line = JSON.stringify(message);
  return line !== undefined && line.length <= 72 ? line : pretty(message);
}

/**
 * A status line for an idle pane.
 *
 * @param text What to say.
 * @returns The element.
 */
export function idlePane(text: string): HTMLElement {
  return h(
    "div",
    { class: "call" },
    h(
      "div",
      { class: "status-line" },
      h("div", { class: "status", id: "status", "data-state": "idle" }, text),
    ),
  );
}
