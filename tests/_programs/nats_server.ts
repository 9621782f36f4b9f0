/**
 * Serves the test fixtures and a `scale` service over NATS (serveNats) until SIGTERM, which
 * drains it (leave the queue group, finish the calls in flight), or SIGKILL. Prints
 * {"pid", "runtime"} once its subscriptions are in place.
 *
 * Usage: nats_server.ts <nats-url> [prefix]
 */
import process from "node:process";
import { fixtureServices } from "../_fixtures.ts";
import { MicroAPI, Service, streaming, z } from "../../mod.ts";
import { serveNats } from "../../src/nats/mod.ts";

const [url, prefix] = process.argv.slice(2);
const pid = process.pid;
const Pid = z.object({ pid: z.number() });

/** Methods that tell which process served a call. */
const scale = new Service("scale")
  .method("whoami", { output: Pid }, () => ({ pid }))
  .method(
    "work",
    { input: z.object({ ms: z.number() }), output: Pid },
    async ({ ms }) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { pid };
    },
  )
  .method(
    "ticks",
    {
      input: z.object({ every_ms: z.number() }),
      output: streaming(z.object({ pid: z.number(), i: z.number() })),
    },
    async function* ({ every_ms }, ctx) {
      for (let i = 0; !ctx.signal.aborted; i++) {
        yield { pid, i };
        await new Promise((resolve) => setTimeout(resolve, every_ms));
      }
    },
  )
  .method(
    "flood",
    {
      input: z.object({ size: z.number() }),
      output: streaming(z.object({ pid: z.number(), produced: z.number(), pad: z.string() })),
    },
    async function* ({ size }) {
      const pad = "x".repeat(size);
      for (let produced = 1;; produced++) yield { pid, produced, pad };
    },
  )
  .method(
    "memory",
    { output: z.object({ pid: z.number(), rss: z.number(), heap: z.number() }) },
    () => ({ pid, rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed }),
  );

const { services } = fixtureServices();
const app = new MicroAPI({ services: [...services, scale], onError: () => {} });
const server = await serveNats(app, { servers: url!, ...(prefix ? { prefix } : {}) });
process.on("SIGTERM", () => {
  server.shutdown({ gracePeriodMs: 5_000 }).then(() => process.exit(0), () => process.exit(1));
});
console.log(JSON.stringify({ pid, runtime: "Bun" in globalThis ? "bun" : "deno" }));
