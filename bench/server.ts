/**
 * Benchmark server, one process per server under test; runs unchanged on Deno and Bun.
 *
 * Usage: `deno run -A bench/server.ts <kind> [port]` or `bun bench/server.ts <kind> [port]`.
 * Prints one line `PORT <n>` once listening on 127.0.0.1 (port 0, the default, picks a free
 * one), then serves until SIGTERM (on which it exits at once, so that `--cpu-prof` profiles get
 * written).
 *
 * Kinds (each loaded only when asked for, so that `raw` loads no framework at all):
 * - `raw`: the runtime's own server, no framework (bench/servers/raw.ts);
 * - `microapi`: the MicroAPI app under test (bench/servers/microapi.ts);
 * - `microapi_connect`: the same app with the Connect protocol too (`protocols: [connect()]`);
 * - `hono`, `trpc`, `orpc`, `connect`: the peer frameworks (bench/peers/), each a fetch handler
 *   served by `Deno.serve` / `Bun.serve` with default settings, as raw is. Their packages come
 *   from `npm:` specifiers on Deno and from bench/npm/node_modules on Bun.
 */

import { serveFetch } from "./servers/serve_fetch.ts";
import { PEERS } from "./targets.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const kind = args[0];
const requested = Number(args[1] ?? 0);
if (!Number.isInteger(requested) || requested < 0 || requested > 65535) {
  throw new Error(`usage: server.ts <kind> [port] (got port ${JSON.stringify(args[1])})`);
}

let port: number;
if (kind === "raw") {
  port = (await import("./servers/raw.ts")).serveRaw(requested);
} else if (kind === "microapi" || kind === "microapi_connect") {
  port = await (await import("./servers/microapi.ts")).serveMicroapi(requested, {
    connect: kind === "microapi_connect",
  });
} else if ((PEERS as readonly (string | undefined)[]).includes(kind)) {
  (await import("./peers/npm_specifiers.ts")).resolveNpmSpecifiers();
  const peers = {
    hono: () => import("./peers/hono.ts"),
    trpc: () => import("./peers/trpc.ts"),
    orpc: () => import("./peers/orpc.ts"),
    connect: () => import("./peers/connect.ts"),
  };
  port = serveFetch(
    (await peers[kind as keyof typeof peers]()).handler,
    requested,
  );
} else {
  throw new Error(
    `usage: server.ts raw|microapi|microapi_connect|${PEERS.join("|")} [port] (got ${
      JSON.stringify(kind)
    })`,
  );
}
// Exit at once on SIGTERM, so that a `--cpu-prof` profile is written.
if ("Bun" in globalThis) {
  const proc = (globalThis as unknown as {
    process: {
      on(signal: string, fn: () => void): void;
      exit(code: number): never;
    };
  }).process;
  proc.on("SIGTERM", () => proc.exit(0));
} else {
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}
console.log(`PORT ${port}`);
