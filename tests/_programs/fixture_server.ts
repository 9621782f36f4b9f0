/** Serves the test fixtures on 127.0.0.1 (on the port given, or a free one; then an idle timeout
 * in milliseconds, if given) and prints {"url": ..., "runtime": ...}; runs until killed. */
import { fixtureServices } from "../_fixtures.ts";
import { MicroAPI } from "../../mod.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const { services } = fixtureServices();
const server = await new MicroAPI({ services, onError: () => {} }).serve({
  port: Number(args[0] ?? 0),
  hostname: "127.0.0.1",
  ...(args[1] === undefined ? {} : { idleTimeoutMs: Number(args[1]) }),
});
console.log(JSON.stringify({ url: server.url, runtime: "Bun" in globalThis ? "bun" : "deno" }));
