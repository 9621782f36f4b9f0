/**
 * The contract every runtime adapter implements: listen on a port with a fetch-style handler,
 * upgrade WebSocket requests for the app's endpoint, and stop. The app's logic is written once
 * against this.
 */

/** What an adapter tells the app about one request. */
export interface RequestHooks {
  /**
   * Called by the app, before it answers, for a request or response that streams, so the adapter
   * can lift idle timeouts.
   */
  onStream?: () => void;
  /**
   * `request.json()` is the runtime's fastest way to read a JSON body and its syntax errors say
   * where they are (a `Deno.serve` request: its `json()` skips the body stream; the measurements
   * are in bench/README.md, "Where the time goes").
   */
  nativeJson?: boolean;
  /**
   * The runtime rewrote the request's path before the handler saw it, to one of the app's own
   * paths: Bun resolves dot segments and backslashes (`/t/%2e%2e/ctl/stats` arrives as
   * `/ctl/stats`). The app refuses such a request as it refuses those paths where it sees them.
   */
  rewrittenPath?: boolean;
}

/** A fetch-style request handler, with hooks from the adapter. */
export type FetchHandler = (
  request: Request,
  hooks?: RequestHooks,
) => Promise<Response> | Response;

/**
 * A server-side socket, as the app's session sees it. Sending never drops a message: what the
 * network cannot take at once is queued by the runtime, and `send()` says when that queue is full,
 * so the session stops sending until the adapter reports `drain` (see
 * {@linkcode SocketEvents.drain}). Each adapter decides what "full" means for its runtime.
 */
export interface ServerSocket {
  /**
   * Sends one text message; does nothing once the socket is closed. The message is always taken
   * (queued when the network is slow); if the runtime cannot take it at all, the adapter closes
   * the socket (1011) rather than lose it.
   *
   * @param text The message.
   * @returns `true` when more may be sent now; `false` when the socket is full: send nothing more
   * until the adapter calls `drain`.
   */
  send(text: string): boolean;
  /**
   * Closes the socket.
   *
   * @param code A WebSocket close code.
   * @param reason A short reason.
   */
  close(code: number, reason: string): void;
}

/** What the app does with an accepted socket's events. */
export interface SocketEvents {
  /**
   * A message arrived.
   *
   * @param data Text, or bytes for a binary message.
   */
  message(data: string | ArrayBuffer | Uint8Array): void;
  /**
   * The socket can take more after `send()` returned `false`. Called once for each time it did.
   */
  drain(): void;
  /**
   * The socket closed.
   *
   * @param code The close code.
   * @param reason The close reason.
   */
  close(code: number, reason: string): void;
}

/** The app's WebSocket endpoint, as adapters use it. */
export interface WebSocketEndpoint {
  /**
   * The longest WebSocket message a client may send, in bytes: the runtime refuses longer ones
   * while reading them (close code 1009), where it can (Bun's `maxPayloadLength`).
   */
  readonly maxPayloadBytes: number;
  /**
   * Tells whether an upgrade request is for this endpoint.
   *
   * @param request A request with `upgrade: websocket`.
   * @returns `true` to handle it here.
   */
  matches(request: Request): boolean;
  /**
   * Accepts or refuses an upgrade. An accepted upgrade is counted against the socket limit until
   * the adapter calls `open()` or, when the upgrade failed after all, `abandon()`.
   *
   * @param request The upgrade request.
   * @returns A response to refuse with, or the subprotocol to accept with.
   */
  accept(request: Request): Response | { protocol: string | undefined };
  /**
   * A socket is open: starts its session.
   *
   * @param socket The socket.
   * @param request The upgrade request it was opened with.
   * @returns The handlers for its events.
   */
  open(socket: ServerSocket, request: Request): SocketEvents;
  /** An upgrade that `accept()` let through never opened a socket. */
  abandon(): void;
}

/** Where and how to listen. */
export interface ListenOptions {
  /** The port; 0 picks a free one. */
  port: number;
  /** The interface to bind, such as `127.0.0.1` or `0.0.0.0`. */
  hostname: string;
  /** Answers HTTP requests. */
  handler: FetchHandler;
  /** Answers WebSocket upgrades, when the app serves WebSockets. */
  websocket?: WebSocketEndpoint;
  /**
   * The paths the app answers itself (its methods, built-in endpoints, the WebSocket endpoint),
   * with its base path. An adapter whose runtime rewrites request paths tells the requests it
   * rewrote to one of them apart with these (RequestHooks.rewrittenPath).
   */
  paths?: readonly string[];
  /** Answer h2c (HTTP/2 with prior knowledge) too; Deno.serve always does. */
  http2?: boolean;
  /**
   * How long a connection may be idle (no bytes in either direction, no request being answered)
   * before the runtime closes it, in milliseconds; 0 for never. Bun only (`idleTimeout`, whole
   * seconds, at most 255): `Deno.serve` has no such setting.
   */
  idleTimeoutMs: number;
  /**
   * Told about trouble the server recovered from by itself, such as running out of file
   * descriptors (the message says what happened and what to do).
   */
  onWarning?: (message: string) => void;
}

/** A listening server. */
export interface Listener {
  /** The address actually bound. */
  readonly hostname: string;
  /** The port actually bound. */
  readonly port: number;
  /**
   * Stops accepting connections and closes the idle ones at once; requests in flight carry on, and
   * their connections are closed when they are done. Resolves when every connection is closed.
   */
  close(): Promise<void>;
  /** Closes every connection still open. */
  terminate(): Promise<void>;
}

/**
 * Tells whether a request asks to upgrade to a WebSocket.
 *
 * @param request The request.
 * @returns `true` for upgrade requests.
 */
export function isUpgrade(request: Request): boolean {
  // Calls are POSTs: most requests are told apart without reading a header.
  return request.method === "GET" && request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/**
 * The message for a port that is taken, the same on every runtime.
 *
 * @param hostname The address.
 * @param port The port.
 * @param cause The runtime's error.
 * @returns The error.
 */
export function addressInUse(hostname: string, port: number, cause: unknown): Error {
  return new Error(`Cannot listen on ${hostname}:${port}: the address is already in use`, {
    cause,
  });
}
