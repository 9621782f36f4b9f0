import { RpcError } from "../protocol/rpc_error.ts";
import { WS_PATH, WS_PROTOCOL } from "../protocol/ws_frames.ts";
import type { ServerSocket, SocketEvents, WebSocketEndpoint } from "./adapters/types.ts";
import { errorResponse, overloadedResponse, pathOf } from "./http_handler.ts";
import { drainingError, type InFlight, overloaded } from "./in_flight.ts";
import type { OriginPolicy } from "./origins.ts";
import { ENVELOPE_BYTES, WebSocketSession, type WebSocketSessionEnv } from "./ws_session.ts";

/** How an app's WebSocket endpoint is set up. */
export interface WebSocketServerOptions {
  /** The app's base path (`""` for none); the endpoint is at `<basePath>/_microapi/ws`. */
  basePath: string;
  /** Which pages may open a socket: the app's own origin, and those its `cors` lists. */
  origins: OriginPolicy;
  /** Whether the app is draining (no new sockets then). */
  inFlight: InFlight;
  /** Sockets that may be open at once; upgrades beyond it are refused with 503. */
  maxSockets: number;
}

/**
 * The app's WebSocket endpoint, as runtime adapters use it, and the sessions it has open. Its
 * policy, in the order applied to an upgrade request: a browser's page must be allowed to call
 * (its Origin is the server's own, or one the app's `cors` lists; requests without an Origin come
 * from no browser), the app must not be draining, fewer than `maxSockets` sockets may be open or
 * opening, and the client must offer the `microapi.v1`
 * subprotocol or none. `?ack=1` on the URL asks the session to
 * answer every client message at once (docs/protocol.md). Calls on an open socket go through the
 * app's admission like every other transport's.
 */
export class WebSocketServer implements WebSocketEndpoint {
  #path: string;
  #origins: OriginPolicy;
  #inFlight: InFlight;
  #env: WebSocketSessionEnv;
  #sessions = new Set<WebSocketSession>();
  #maxSockets: number;
  /** Upgrades accepted whose socket has not opened yet: they count against the limit too. */
  #opening = 0;
  readonly maxPayloadBytes: number;

  /**
   * Creates the endpoint.
   *
   * @param env What each session needs: admission, limits, WebSocket settings.
   * @param options Base path, allowed origins, draining state.
   */
  constructor(env: WebSocketSessionEnv, options: WebSocketServerOptions) {
    this.#env = env;
    this.#path = options.basePath + WS_PATH;
    this.#origins = options.origins;
    this.#inFlight = options.inFlight;
    this.#maxSockets = options.maxSockets;
    this.maxPayloadBytes = env.limits.maxMessageBytes + ENVELOPE_BYTES;
  }

  /** How many sockets are open. */
  get size(): number {
    return this.#sessions.size;
  }

  matches(request: Request): boolean {
    return pathOf(request.url, "") === this.#path;
  }

  accept(request: Request): Response | { protocol: string | undefined } {
    if (!this.#origins.allows(request)) {
      // A page of another site: with cookies, it would call as the user (docs/security.md).
      return errorResponse(
        new RpcError(
          "permission_denied",
          `Origin ${request.headers.get("origin")} may not open a WebSocket here: only pages ` +
            "of this server's own origin may, and those the app lists in cors.origins",
        ),
      );
    }
    if (this.#inFlight.draining) return errorResponse(drainingError());
    if (this.#sessions.size + this.#opening >= this.#maxSockets) {
      return overloadedResponse(overloaded("WebSockets", this.#maxSockets));
    }
    const offered = request.headers.get("sec-websocket-protocol");
    if (offered === null) {
      this.#opening++;
      return { protocol: undefined };
    }
    if (offered.split(",").some((p) => p.trim() === WS_PROTOCOL)) {
      this.#opening++;
      return { protocol: WS_PROTOCOL };
    }
    return errorResponse(
      new RpcError(
        "invalid_argument",
        `Unsupported WebSocket subprotocol ${JSON.stringify(offered)}: offer ${WS_PROTOCOL}`,
      ),
    );
  }

  open(socket: ServerSocket, request: Request): SocketEvents {
    this.abandon();
    const ack = new URL(request.url).searchParams.get("ack") === "1";
    const session: WebSocketSession = new WebSocketSession(socket, this.#env, () => {
      this.#sessions.delete(session);
    }, { ack });
    this.#sessions.add(session);
    return {
      message: (data) => session.receive(data),
      drain: () => session.drain(),
      close: (code, reason) => session.closed(code, reason),
    };
  }

  abandon(): void {
    if (this.#opening > 0) this.#opening--;
  }

  /**
   * Closes every open socket.
   *
   * @param code The close code.
   * @param reason Why.
   */
  closeAll(code: number, reason: string): void {
    for (const session of this.#sessions) session.close(code, reason);
  }
}
