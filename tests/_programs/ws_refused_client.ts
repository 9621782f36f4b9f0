/**
 * A WebSocket client whose connection cannot be made: nothing listens on the port, and a server
 * that is draining refuses the upgrade with 503. Prints {"nothing", "ended", "draining"}, each
 * call's outcome (`ended`: a client stream ended before its connection failed), once they have
 * failed and a moment has passed (an unobserved rejection would have ended the process by then),
 * then exits by itself. The argument is the WebSocket API to use.
 */
import { fixtureServices } from "../_fixtures.ts";
import { Connection, MicroAPI, RpcError } from "../../mod.ts";
import type { WebSocketApi } from "../../src/client/ws_socket.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const api = (args[0] ?? "auto") as WebSocketApi;

async function outcome(url: string): Promise<{ code: string; message: string }> {
  const connection = new Connection(url, { transport: "ws", webSocketApi: api });
  try {
    await connection.unary("users/get_user", { user_id: 1 });
    return { code: "ok", message: "" };
  } catch (error) {
    return RpcError.is(error)
      ? { code: error.code, message: error.message }
      : { code: "exception", message: String(error) };
  } finally {
    await connection.close();
  }
}

// A port nobody listens on: a server's, once it has stopped.
const { services } = fixtureServices();
const gone = await new MicroAPI({ services }).serve({ port: 0, hostname: "127.0.0.1" });
const goneUrl = gone.url;
await gone.shutdown();
const nothing = await outcome(goneUrl);
// A client stream ended before its connection failed: the failure reaches end() alone.
const ended = await (async () => {
  const connection = new Connection(goneUrl, { transport: "ws", webSocketApi: api });
  try {
    await connection.clientStream("analytics/aggregate").end();
    return { code: "ok", message: "" };
  } catch (error) {
    return RpcError.is(error)
      ? { code: error.code, message: error.message }
      : { code: "exception", message: String(error) };
  } finally {
    await connection.close();
  }
})();

// A server draining: a call in flight keeps it in its grace period, and it answers 503.
const server = await new MicroAPI({ services, onError: () => {} }).serve({
  port: 0,
  hostname: "127.0.0.1",
});
const ticks = new Connection(server.url).serverStream("probes/ticks", { every_ms: 20 });
await ticks.next();
const stopped = server.shutdown({ gracePeriodMs: 10_000 });
const draining = await outcome(server.url);
ticks.cancel();
await stopped;

await new Promise((resolve) => setTimeout(resolve, 300));
console.log(JSON.stringify({ nothing, ended, draining }));
