import { type ConnectionOptions, type NatsConnection, wsconnect } from "@nats-io/nats-core";

/**
 * Opens a NATS connection. `nats://` and `tls://` URLs (the NATS server's own TCP listener, what
 * a stock `nats-server` offers) go through `@nats-io/transport-node`, which Deno and Bun both run;
 * it is loaded only then, so the WebSocket path (`ws://`, `wss://`, through
 * `@nats-io/nats-core`'s `wsconnect`, web-standard, for browsers too) never loads it.
 * docs/scale-out.md, "The NATS client library", says why these two.
 *
 * @param servers One URL, several separated by commas, or a list.
 * @param options The NATS client's options (name, timeouts, reconnects).
 * @returns The connection.
 * @throws {TypeError} When WebSocket and TCP URLs are mixed.
 * @throws {Error} The NATS client's error when no server can be reached.
 */
export async function connectNats(
  servers: string | readonly string[],
  options: ConnectionOptions = {},
): Promise<NatsConnection> {
  const list = (typeof servers === "string" ? servers.split(",") : [...servers])
    .map((s) => s.trim()).filter((s) => s !== "");
  if (list.length === 0) throw new TypeError("No NATS server given: pass a nats:// URL");
  const ws = list.filter((s) => /^wss?:\/\//i.test(s));
  if (ws.length > 0 && ws.length < list.length) {
    throw new TypeError(
      `Cannot mix WebSocket and TCP NATS URLs (${list.join(", ")}): use one kind`,
    );
  }
  if (ws.length > 0) return await wsconnect({ ...options, servers: list });
  const { connect } = await import("@nats-io/transport-node");
  return await connect({ ...options, servers: list });
}

/**
 * The servers of a connection, for messages.
 *
 * @param servers What was given.
 * @returns One line.
 */
export function serversLabel(servers: string | readonly string[]): string {
  return typeof servers === "string" ? servers : servers.join(", ");
}
