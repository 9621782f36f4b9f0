/** Serves the test fixtures on 127.0.0.1 (on the port given, or a free one; then an idle timeout
 * in milliseconds, and a WebSocket window, if given; "-" skips one) and prints
 * {"url": ..., "runtime": ...}; runs until killed. */
import { fixtureServices } from "../_fixtures.ts";
import { MicroAPI } from "../../mod.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const { services } = fixtureServices();
const given = (i: number) => args[i] !== undefined && args[i] !== "-";
const server = await new MicroAPI({
  services,
  onError: () => {},
  ...(given(2) ? { websocket: { window: Number(args[2]) } } : {}),
}).serve({
  port: Number(args[0] ?? 0),
  hostname: "127.0.0.1",
  ...(given(1) ? { idleTimeoutMs: Number(args[1]) } : {}),
});
console.log(JSON.stringify({ url: server.url, runtime: "Bun" in globalThis ? "bun" : "deno" }));
