/**
 * Serves the test fixtures on 127.0.0.1 and prints {"url": ..., "runtime": ...}; runs until killed.
 * Arguments, each optional ("-" skips one): the port (default a free one); an idle timeout in
 * milliseconds; then MicroAPI options as JSON (`resources`, `websocket`, `limits`: what
 * scripts/stress.ts sets), where `"exitAfterCalls": n` makes the process exit with code 3 at its
 * n-th call, the way a server that crashes under load would (the stress script's own test uses it).
 */
import process from "node:process";
import { fixtureServices } from "../_fixtures.ts";
import { MicroAPI, type MicroAPIOptions } from "../../mod.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  process.argv.slice(2);
const { services } = fixtureServices();
const given = (i: number) => args[i] !== undefined && args[i] !== "-";
const { exitAfterCalls, ...options } = JSON.parse(given(2) ? args[2]! : "{}") as
  & Partial<MicroAPIOptions>
  & { exitAfterCalls?: number };
const app = new MicroAPI({ services, onError: () => {}, ...options });
if (exitAfterCalls !== undefined) {
  let calls = 0;
  app.use((_ctx, next) => {
    if (++calls >= exitAfterCalls) process.exit(3);
    return next();
  });
}
const server = await app.serve({
  port: Number(args[0] ?? 0),
  hostname: "127.0.0.1",
  ...(given(1) ? { idleTimeoutMs: Number(args[1]) } : {}),
});
console.log(JSON.stringify({ url: server.url, runtime: "Bun" in globalThis ? "bun" : "deno" }));
