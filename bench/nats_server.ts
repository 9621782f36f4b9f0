/**
 * NATS benchmark server, one process per server under test; runs unchanged on Deno and Bun.
 *
 * Usage: `nats_server.ts <raw|microapi> <nats-url> <prefix,prefix,...>`. Prints `READY` once its
 * subscriptions are in place, then serves until SIGTERM. Each prefix is served in one queue group,
 * so two processes that share a prefix share its calls (bench/nats.ts starts one process on
 * `one,two` and another on `two`: one process, then two).
 *
 * - `microapi`: bench/servers/microapi.ts's services (zod-validated `users/get_user` and
 *   `users/list_users`) through `serveNats()`, once per prefix.
 * - `raw`: `@nats-io/transport-node` alone: `<prefix>.users.get_user` parses the request JSON and
 *   answers `{"username":"alice","age":30}` (request/reply, queue group `raw`);
 *   `<prefix>.users.list_users` parses `{"limit":N}` and publishes N messages
 *   `{"username":"u<i>","age":i}` to the reply subject, then an empty message as the end, with no
 *   flow control (what a hand-written NATS stream does).
 */
import { connect } from "@nats-io/transport-node";
import { MicroAPI } from "../mod.ts";
import { serveNats } from "../src/nats/mod.ts";
import { bench, users } from "./servers/microapi.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const [kind, url, prefixList] = args;
const prefixes = (prefixList ?? "").split(",").filter((p) => p !== "");
if ((kind !== "raw" && kind !== "microapi") || !url || prefixes.length === 0) {
  throw new Error("usage: nats_server.ts raw|microapi <nats-url> <prefix,...>");
}

if (kind === "microapi") {
  const app = new MicroAPI({ services: [users, bench] });
  for (const prefix of prefixes) await serveNats(app, { servers: url, prefix, micro: false });
} else {
  const nc = await connect({ servers: url, name: "raw-bench" });
  const user = JSON.stringify({ username: "alice", age: 30 });
  for (const prefix of prefixes) {
    nc.subscribe(`${prefix}.users.get_user`, {
      queue: "raw",
      callback: (_error, msg) => {
        const { user_id } = msg.json<{ user_id: number }>();
        if (typeof user_id === "number") msg.respond(user);
      },
    });
    nc.subscribe(`${prefix}.users.list_users`, {
      queue: "raw",
      callback: (_error, msg) => {
        const { limit } = msg.json<{ limit: number }>();
        for (let i = 0; i < limit; i++) {
          nc.publish(msg.reply!, JSON.stringify({ username: `u${i}`, age: i }));
        }
        nc.publish(msg.reply!, "");
      },
    });
  }
  await nc.flush();
}
console.log("READY");

const exit = () =>
  (globalThis as unknown as { process: { exit(code: number): never } }).process
    .exit(0);
if ("Bun" in globalThis) {
  (globalThis as unknown as { process: { on(s: string, f: () => void): void } }).process.on(
    "SIGTERM",
    exit,
  );
} else {
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}
