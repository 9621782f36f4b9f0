/** The contract against servers in this runtime: HTTP, WebSocket, and plain WebSocket where the
 * runtime also has WebSocketStream (so both client implementations are held to it). */
import { runtime } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { Connection, MicroAPI } from "../../mod.ts";
import type { ConnectionOptions } from "../../mod.ts";
import { hasWebSocketStream } from "../../src/client/ws_socket.ts";
import { contract, type Target } from "./suite.ts";

async function local(options: ConnectionOptions): Promise<Target> {
  const { services } = fixtureServices();
  const server = await new MicroAPI({ services, onError: () => {} }).serve({
    port: 0,
    hostname: "127.0.0.1",
  });
  const connection = new Connection(server.url, options);
  return {
    connection,
    url: server.url,
    connect: () => new Connection(server.url, options),
    async [Symbol.asyncDispose]() {
      await connection.close();
      await server.shutdown({ gracePeriodMs: 1000 });
    },
  };
}

contract(`${runtime} http`, () => local({ transport: "http" }));
contract(
  `${runtime} ws${hasWebSocketStream() ? " (WebSocketStream)" : ""}`,
  () => local({ transport: "ws" }),
);
if (hasWebSocketStream()) {
  contract(`${runtime} ws (WebSocket)`, () => local({ transport: "ws", webSocketApi: "plain" }));
}
