import type { NatsConnection } from "@nats-io/nats-core";
import { RpcError } from "../protocol/rpc_error.ts";
import type { Route } from "../protocol/route.ts";
import { headersToRecord } from "../protocol/stream_lines.ts";
import { type Pattern, streamsInput } from "../schema/pattern.ts";
import { CallControl } from "../client/call_control.ts";
import type { CallOptions } from "../client/call_options.ts";
import { mergeMetadata, unaryOverOpen } from "../client/call_state.ts";
import type { TransportFactory } from "../client/connection.ts";
import type { ClientCall, ClientTransport } from "../client/transport.ts";
import { WebSocketClientCall } from "../client/ws_client_call.ts";
import { openFields } from "../client/ws_link.ts";
import { connectNats, serversLabel } from "./connect.ts";
import { NatsLink } from "./client_link.ts";
import { checkPrefix, DEFAULT_PREFIX } from "./subjects.ts";
import { checkHeartbeat, DEFAULT_HEARTBEAT_MS } from "./wire.ts";

/** How a client calls over NATS. */
export interface NatsTransportOptions {
  /**
   * The NATS server(s), when not the connection's URL: `nats://host:4222`, `ws://host:8080`,
   * several separated by commas or as a list.
   */
  servers?: string | readonly string[];
  /** A NATS connection to use instead (it is left open when the client closes). */
  connection?: NatsConnection;
  /** The subject prefix the servers use. Default `"microapi"`. */
  prefix?: string;
  /** Messages of one call the client buffers unread. Default: the connection's, else 256. */
  window?: number;
  /**
   * How often each side sends a heartbeat on a quiet call, in ms (50 to 60 000). A call whose
   * server stays silent for three of them fails with `unavailable`. Default 1000.
   */
  heartbeatMs?: number;
  /** How long to wait to connect to NATS. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** The connection's name, as NATS monitoring shows it. Default `"microapi-client"`. */
  name?: string;
}

/**
 * The NATS transport for a {@linkcode Connection}: every pattern, with the same semantics as over
 * HTTP and WebSocket, to whichever process serves the method (see `serveNats()`).
 *
 * @param options The NATS servers (default: the connection's URL), or a NATS connection;
 * prefix, window, heartbeat.
 * @returns A transport factory for `new Connection(url, { transport })`.
 * @example
 * ```ts ignore
 * import { Connection } from "@microapi/core";
 * import { natsTransport } from "@microapi/core/nats";
 *
 * await using connection = new Connection("nats://127.0.0.1:4222", { transport: natsTransport() });
 * console.log(await connection.unary("users/get_user", { user_id: 1 }));
 * ```
 */
export function natsTransport(options: NatsTransportOptions = {}): TransportFactory {
  const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
  const heartbeatMs = checkHeartbeat(options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, "heartbeatMs");
  return (url, connection) =>
    new NatsTransport({
      servers: options.servers ?? url,
      connection: options.connection,
      prefix,
      heartbeatMs,
      window: options.window ?? connection.window ?? 256,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      name: options.name ?? "microapi-client",
      metadata: new Headers(connection.metadata),
      timeoutMs: connection.timeoutMs,
    });
}

interface Settings {
  servers: string | readonly string[];
  connection: NatsConnection | undefined;
  prefix: string;
  heartbeatMs: number;
  window: number;
  connectTimeoutMs: number;
  name: string;
  metadata: Headers;
  timeoutMs: number | undefined;
}

/**
 * Calls over one NATS connection, opened on the first call. Each call is a
 * {@linkcode WebSocketClientCall} (the frame protocol's client state: credit, half-close,
 * cancellation) on its own {@linkcode NatsCallLink}. If the connection closes, every call in
 * flight fails at once with `unavailable`, and the next call connects again.
 */
class NatsTransport implements ClientTransport {
  #settings: Settings;
  #link: Promise<NatsLink> | undefined;
  #calls = new Set<WebSocketClientCall>();
  #closed = false;

  constructor(settings: Settings) {
    this.#settings = settings;
  }

  async unary(route: Route, input: unknown, options: CallOptions): Promise<unknown> {
    return await unaryOverOpen(this.#start(route, "unary", options, { value: input }));
  }

  open(route: Route, pattern: Pattern, options: CallOptions, input?: unknown): ClientCall {
    return this.#start(
      route,
      pattern,
      options,
      streamsInput(pattern) ? undefined : { value: input },
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    const reason = new RpcError("cancelled", "The connection was closed");
    for (const call of this.#calls) call.cancel(reason);
    const link = this.#link;
    this.#link = undefined;
    await link?.then((l) => l.close(), () => {});
  }

  #start(
    route: Route,
    pattern: Pattern,
    options: CallOptions,
    input?: { value: unknown },
  ): WebSocketClientCall {
    const settings = this.#settings;
    const metadata = headersToRecord(mergeMetadata(settings.metadata, options.metadata));
    const call = new WebSocketClientCall({
      open: openFields(route, pattern, metadata, input),
      window: settings.window,
      // Unused: credit over NATS counts messages only (NatsCallLink.hello).
      windowBytes: Infinity,
      control: new CallControl(options, settings.timeoutMs),
      options,
      done: (c) => this.#calls.delete(c),
    });
    this.#calls.add(call);
    call.attach(this.#getLink().then((link) => link.call(route)));
    return call;
  }

  #getLink(): Promise<NatsLink> {
    if (this.#closed) return Promise.reject(new RpcError("cancelled", "The connection was closed"));
    if (!this.#link) {
      const settings = this.#settings;
      const label = settings.connection ? "the given connection" : serversLabel(settings.servers);
      const link = (async () => {
        let nc: NatsConnection;
        try {
          nc = settings.connection ?? await connectNats(settings.servers, {
            name: settings.name,
            timeout: settings.connectTimeoutMs,
          });
        } catch (error) {
          throw new RpcError(
            "unavailable",
            `Cannot reach NATS at ${label}: ${(error as Error)?.message ?? error}`,
            { cause: error },
          );
        }
        const opened = new NatsLink(nc, {
          prefix: settings.prefix,
          heartbeatMs: settings.heartbeatMs,
          servers: label,
          owned: settings.connection === undefined,
        }, () => {
          if (this.#link === link) this.#link = undefined;
        });
        // The inbox subscription is in place before the first call's open frame goes.
        await nc.flush();
        return opened;
      })();
      link.catch(() => {
        if (this.#link === link) this.#link = undefined;
      });
      this.#link = link;
    }
    return this.#link;
  }
}
