import { RpcError } from "../protocol/rpc_error.ts";

/** Which WebSocket API the client uses. */
export type WebSocketApi = "auto" | "stream" | "plain";

/** A client socket, the same whichever API is underneath. */
export interface ClientSocket {
  /** The API in use. */
  readonly api: "stream" | "plain";
  /**
   * Sends one text message (queued by the runtime; flow control above keeps the queue bounded).
   *
   * @param text The message.
   */
  send(text: string): void;
  /**
   * Closes the socket.
   *
   * @param code A close code.
   * @param reason A short reason.
   */
  close(code: number, reason: string): void;
}

/** What the socket reports. */
export interface ClientSocketEvents {
  /**
   * A text message arrived (a binary message is reported as a close).
   *
   * @param text The message.
   */
  message(text: string): void;
  /**
   * The socket closed or failed. Called once.
   *
   * @param code The close code (1006 when it failed without one).
   * @param reason The reason.
   */
  closed(code: number, reason: string): void;
}

interface WebSocketStreamLike {
  readonly opened: Promise<{
    readable: ReadableStream<string | Uint8Array>;
    writable: WritableStream<string | Uint8Array>;
    protocol: string;
  }>;
  readonly closed: Promise<{ closeCode?: number; reason?: string }>;
  close(info?: { closeCode?: number; reason?: string }): void;
}

type WebSocketStreamConstructor = new (
  url: string,
  options?: { protocols?: string[]; signal?: AbortSignal },
) => WebSocketStreamLike;

/**
 * Tells whether this runtime has `WebSocketStream` (Chromium; Deno with the `net` unstable flag).
 *
 * @returns `true` when it does.
 */
export function hasWebSocketStream(): boolean {
  return typeof (globalThis as { WebSocketStream?: unknown }).WebSocketStream === "function";
}

/**
 * Opens a socket with `WebSocketStream` where the runtime has it (or when asked), and with
 * `WebSocket` otherwise. Both behave the same for the caller.
 *
 * @param url A `ws:` or `wss:` URL.
 * @param options Subprotocols, which API, the event handlers, a connect timeout.
 * @returns The open socket.
 * @throws {RpcError} `unavailable` when it cannot connect in time.
 */
export async function openClientSocket(url: string, options: {
  protocols: string[];
  api: WebSocketApi;
  events: ClientSocketEvents;
  connectTimeoutMs: number;
}): Promise<ClientSocket> {
  const useStream = options.api === "stream" ||
    (options.api === "auto" && hasWebSocketStream());
  if (options.api === "stream" && !hasWebSocketStream()) {
    throw new TypeError(
      "WebSocketStream is not available in this runtime (Deno needs --unstable-net)",
    );
  }
  const connecting = useStream ? openStream(url, options) : openPlain(url, options);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RpcError(
            "unavailable",
            `Cannot connect to ${url}: no answer within ${options.connectTimeoutMs} ms`,
          ),
        ),
      options.connectTimeoutMs,
    );
  });
  try {
    return await Promise.race([connecting, timeout]);
  } catch (error) {
    connecting.then((socket) => socket.close(1000, "connect timed out"), () => {});
    throw RpcError.is(error) ? error : new RpcError(
      "unavailable",
      `Cannot connect to ${url}: ${(error as Error)?.message ?? error}`,
      {
        cause: error,
      },
    );
  } finally {
    clearTimeout(timer);
  }
}

async function openStream(
  url: string,
  options: { protocols: string[]; events: ClientSocketEvents },
): Promise<ClientSocket> {
  const Stream = (globalThis as unknown as { WebSocketStream: WebSocketStreamConstructor })
    .WebSocketStream;
  const socket = new Stream(url, { protocols: options.protocols });
  // `closed` rejects too when the socket never opens (nothing listens, the upgrade is refused):
  // observed from the start, or that rejection would go unhandled and end the process.
  // A close seen before `opened` resolved is reported once the caller has the socket.
  let opened = false;
  let closed = false;
  let early: [number, string] | undefined;
  const report = (code: number, reason: string) => {
    if (!opened) {
      early ??= [code, reason];
      return;
    }
    if (closed) return;
    closed = true;
    options.events.closed(code, reason);
  };
  socket.closed.then(
    (info) => report(info.closeCode ?? 1005, info.reason ?? ""),
    (error) => report(1006, String((error as Error)?.message ?? error)),
  );
  const { readable, writable } = await socket.opened;
  opened = true;
  if (early) queueMicrotask(() => report(...early!));
  const writer = writable.getWriter();
  (async () => {
    const reader = readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (typeof value !== "string") {
        socket.close({ closeCode: 1003, reason: "binary message" });
        break;
      }
      options.events.message(value);
    }
  })().catch((error) => report(1006, String((error as Error)?.message ?? error)));
  return {
    api: "stream",
    send: (text) => {
      if (!closed) writer.write(text).catch(() => {});
    },
    close: (code, reason) => {
      try {
        socket.close({ closeCode: code, reason });
      } catch {
        // already closed
      }
    },
  };
}

function openPlain(
  url: string,
  options: { protocols: string[]; events: ClientSocketEvents },
): Promise<ClientSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols);
    let open = false;
    let closed = false;
    socket.onopen = () => {
      open = true;
      resolve({
        api: "plain",
        send: (text) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(text);
        },
        close: (code, reason) => socket.close(code, reason),
      });
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") options.events.message(event.data);
      else socket.close(1003, "binary message");
    };
    socket.onerror = () => {
      // The WebSocket API does not say why; these are the usual reasons.
      if (!open) {
        reject(
          new Error(
            "the WebSocket could not be opened (nothing listens there, or the server refused " +
              "the upgrade: it may be shutting down)",
          ),
        );
      }
    };
    socket.onclose = (event) => {
      if (!open) return reject(new Error(`closed before opening (${event.code} ${event.reason})`));
      if (closed) return;
      closed = true;
      options.events.closed(event.code, event.reason);
    };
  });
}
