/**
 * The NATS benchmark: unary calls/s and server-streaming messages/s over NATS with one and two
 * server processes, MicroAPI (`serveNats()` + `natsTransport()`) next to raw `@nats-io`
 * request/reply doing the same JSON work, and next to MicroAPI over HTTP, in the same run with
 * rounds interleaved. See bench/README.md, "NATS".
 *
 * One nats-server (unpinned); the server processes on core 0; the client (bench/nats_client.ts,
 * one long-lived process) on core 1. "Two processes" are two server processes in one queue group,
 * both on core 0: on this 2-core machine they share a core, so the figure shows what the queue
 * group costs, not how a cluster scales (bench/README.md says what to expect there).
 */

import type { Options } from "./options.ts";
import { ClientProcess, commandLine, type Launch, LineReader, type Runtime } from "./processes.ts";
import { formatRate, formatRatio, median, table } from "./stats.ts";
import { log } from "./util.ts";
import { which } from "./wrk.ts";

/** A variant of the benchmark: who serves, how many processes, which client. */
type Variant = "raw1" | "raw2" | "microapi1" | "microapi2" | "http";

const VARIANTS: Record<
  Variant,
  { label: string; client: "raw" | "microapi" | "http"; prefix: string }
> = {
  raw1: { label: "raw @nats-io request/reply, 1 process", client: "raw", prefix: "rone" },
  raw2: { label: "raw @nats-io request/reply, 2 processes", client: "raw", prefix: "rtwo" },
  microapi1: { label: "MicroAPI over NATS, 1 process", client: "microapi", prefix: "one" },
  microapi2: { label: "MicroAPI over NATS, 2 processes", client: "microapi", prefix: "two" },
  http: { label: "MicroAPI over HTTP, 1 process", client: "http", prefix: "" },
};
const ORDER: Variant[] = ["raw1", "microapi1", "raw2", "microapi2", "http"];

/** Every variant's rounds: unary calls/s and streamed messages/s. */
export type NatsSeries = Record<Variant, { unary: number[]; stream: number[] }>;

/** A child process started here (nats-server or a bench server). */
interface Child {
  child: Deno.ChildProcess;
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function stopper(child: Deno.ChildProcess): () => Promise<void> {
  return async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
  };
}

async function startNats(): Promise<Child & { url: string }> {
  const binary = which("nats-server");
  if (!binary) {
    throw new Error("nats-server not found: apt-get install nats-server (deno task test does)");
  }
  const port = freePort();
  const child = new Deno.Command(binary, {
    args: ["-a", "127.0.0.1", "-p", String(port)],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `nats://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return { child, url, stop: stopper(child) };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await stopper(child)();
  throw new Error("nats-server did not start");
}

async function startServer(
  launch: Launch,
  runtime: Runtime,
  kind: "raw" | "microapi",
  url: string,
  prefixes: string,
): Promise<Child> {
  const [program, args] = commandLine(launch, runtime, 0, "bench/nats_server.ts", [
    kind,
    url,
    prefixes,
  ]);
  const child = new Deno.Command(program, {
    args,
    cwd: launch.root,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = new LineReader(child.stdout);
  const line = await Promise.race([
    lines.next(),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 30_000)),
  ]);
  if (line !== "READY") {
    await stopper(child)();
    throw new Error(`${runtime} NATS server ${kind} did not start`);
  }
  (async () => {
    while ((await lines.next()) !== undefined) { /* discard */ }
  })().catch(() => {});
  return { child, stop: stopper(child) };
}

/**
 * Runs the NATS benchmark on one runtime: one discarded round per variant, then interleaved
 * rounds of unary calls and of one streamed call each.
 *
 * @param launch Executables and pinning.
 * @param runtime The runtime of the servers and the client.
 * @param httpUrl The MicroAPI HTTP server of this runtime (bench/server.ts microapi).
 * @param options Rounds (`--ws-rounds`), seconds (`--ws-seconds`), calls in flight
 * (`--ws-concurrency`), messages (`--messages`).
 * @returns Every variant's rounds.
 */
export async function benchNats(
  launch: Launch,
  runtime: Runtime,
  httpUrl: string,
  options: Options,
): Promise<NatsSeries> {
  const nats = await startNats();
  const children: Child[] = [];
  const series = Object.fromEntries(
    ORDER.map((v) => [v, { unary: [], stream: [] }]),
  ) as unknown as NatsSeries;
  let client: ClientProcess | undefined;
  try {
    // One process on the "one" prefixes and the "two" ones, a second on the "two" ones only.
    children.push(await startServer(launch, runtime, "microapi", nats.url, "one,two"));
    children.push(await startServer(launch, runtime, "microapi", nats.url, "two"));
    children.push(await startServer(launch, runtime, "raw", nats.url, "rone,rtwo"));
    children.push(await startServer(launch, runtime, "raw", nats.url, "rtwo"));
    client = new ClientProcess(launch, runtime, "bench/nats_client.ts");
    const command = (variant: Variant) => {
      const { client, prefix } = VARIANTS[variant];
      return { client, prefix, url: client === "http" ? httpUrl : nats.url };
    };
    for (let round = 0; round <= options.wsRounds; round++) {
      for (const variant of ORDER) {
        const unary = await client.run<{ calls: number; ms: number }>({
          ...command(variant),
          seconds: round === 0 ? 1 : options.wsSeconds,
          concurrency: options.wsConcurrency,
        });
        const stream = await client.run<{ messages: number; ms: number }>({
          ...command(variant),
          limit: round === 0 ? Math.min(10_000, options.messages) : options.messages,
        });
        if (round === 0) continue; // warm-up
        series[variant].unary.push(unary.calls / unary.ms * 1000);
        series[variant].stream.push(stream.messages / stream.ms * 1000);
        log(
          `  ${runtime} ${variant}: ${formatRate(unary.calls / unary.ms * 1000)} calls/s, ` +
            `${formatRate(stream.messages / stream.ms * 1000)} msg/s`,
        );
      }
    }
  } finally {
    await client?.close();
    await Promise.all(children.map((c) => c.stop()));
    await nats.stop();
  }
  return series;
}

/**
 * The NATS table: medians, MicroAPI against raw NATS with as many processes, and against HTTP.
 *
 * @param results Each runtime's rounds.
 * @returns The table.
 */
export function natsTable(results: ReadonlyMap<Runtime, NatsSeries>): string {
  const rows: string[][] = [];
  for (const [runtime, series] of results) {
    const m = (v: Variant, k: "unary" | "stream") => median(series[v][k]);
    for (const variant of ORDER) {
      const raw = variant === "microapi1" ? "raw1" : variant === "microapi2" ? "raw2" : undefined;
      rows.push([
        runtime,
        VARIANTS[variant].label,
        formatRate(m(variant, "unary")),
        raw ? formatRatio(m(variant, "unary") / m(raw, "unary")) : "-",
        formatRate(m(variant, "stream")),
        raw ? formatRatio(m(variant, "stream") / m(raw, "stream")) : "-",
      ]);
    }
    rows.push([
      runtime,
      "MicroAPI: 2 processes / 1",
      "-",
      formatRatio(m("microapi2", "unary") / m("microapi1", "unary")),
      "-",
      formatRatio(m("microapi2", "stream") / m("microapi1", "stream")),
    ]);
    rows.push([
      runtime,
      "MicroAPI over NATS (1) / over HTTP",
      "-",
      formatRatio(m("microapi1", "unary") / m("http", "unary")),
      "-",
      formatRatio(m("microapi1", "stream") / m("http", "stream")),
    ]);
  }
  return table(["runtime", "server", "calls/s", "ratio", "msg/s", "ratio"], rows);
}
