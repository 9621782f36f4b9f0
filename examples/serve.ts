/**
 * The example app: the users, analytics, chat and accounts services. Run this file to serve it on
 * port 8080 (or $PORT), over HTTP and WebSocket, until interrupted; or let the CLI serve it:
 * `deno run -A cli.ts serve examples/serve.ts`.
 */
import { MicroAPI } from "../mod.ts";
import { analytics } from "./analytics.ts";
import { accounts } from "./auth.ts";
import { chat } from "./chat.ts";
import { users } from "./users.ts";

/** The app, exported so that `microapi serve`, `info` and `generate` can load this file. */
export const app: MicroAPI = new MicroAPI({ services: [users, analytics, chat, accounts] });

if (import.meta.main) {
  const port = Number(Deno.env.get("PORT") ?? 8080);
  const controller = new AbortController();
  Deno.addSignalListener("SIGINT", () => controller.abort());
  const server = await app.serve({ port, signal: controller.signal });
  console.log(`Serving users, analytics, chat and accounts at ${server.url} (Ctrl-C to stop)`);
  await server.finished;
}
