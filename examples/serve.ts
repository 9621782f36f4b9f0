/** Serves the example services on port 8080 (or $PORT) until interrupted, over HTTP and WebSocket. */
import { MicroAPI } from "../mod.ts";
import { analytics } from "./analytics.ts";
import { accounts } from "./auth.ts";
import { chat } from "./chat.ts";
import { users } from "./users.ts";

const port = Number(Deno.env.get("PORT") ?? 8080);
const controller = new AbortController();
Deno.addSignalListener("SIGINT", () => controller.abort());
const server = await new MicroAPI({ services: [users, analytics, chat, accounts] }).serve({
  port,
  signal: controller.signal,
});
console.log(`Serving users, analytics, chat and accounts at ${server.url} (Ctrl-C to stop)`);
await server.finished;
