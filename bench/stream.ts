/**
 * The HTTP server-streaming benchmark: 100 000 NDJSON messages per call, MicroAPI against raw
 * `ReadableStream` servers (one chunk per message, and 512 messages per chunk), with MicroAPI's
 * client and a raw line-splitting client (bench/stream_client.ts), rounds interleaved. The same
 * stream over the Connect protocol (JSON and binary envelopes), from MicroAPI and from
 * Connect-ES's own server, read by a raw envelope-walking client, runs in the same rounds.
 */

import type { Options } from "./options.ts";
import {
  ClientProcess,
  cpuSeconds,
  type Launch,
  type Runtime,
  type ServerProcess,
} from "./processes.ts";
import { formatMs, formatRate, formatRatio, median, pairwise, table } from "./stats.ts";
import { log } from "./util.ts";

/**
 * Issue 14's target for (b)/(d), MicroAPI's server against the raw server batching 512 messages
 * per chunk, with the output schema still validated: 0.85 on Deno, 0.70 on Bun.
 */
export const STREAM_TARGETS: Readonly<Record<Runtime, number>> = {
  deno: 0.85,
  bun: 0.7,
};

type Variant = "a" | "b" | "c" | "d" | "e" | "f" | "g" | "h";

/** bench/stream_client.ts's answer. */
interface StreamResult {
  messages: number;
  ms: number;
  chunks: number;
  bytes: number;
}

interface StreamRound {
  msgPerSec: number;
  ms: number;
  chunks: number;
  /** Server CPU time for the call (all threads), in milliseconds. */
  serverCpuMs: number;
  /** Client CPU time for the call, in milliseconds. */
  clientCpuMs: number;
}

/** Every variant's rounds (the Connect-ES ones only when that peer runs). */
export type StreamSeries = Partial<Record<Variant, StreamRound[]>>;

/** Which server a variant calls. */
type StreamServer = "microapi" | "raw" | "raw_batched" | "microapi_connect" | "connect";

const VARIANTS: Record<
  Variant,
  {
    label: string;
    client: "microapi" | "raw" | "envelopes";
    path: StreamServer;
    codec?: "json" | "proto";
  }
> = {
  a: {
    label: "(a) MicroAPI server + MicroAPI client",
    client: "microapi",
    path: "microapi",
  },
  b: {
    label: "(b) MicroAPI server + raw client",
    client: "raw",
    path: "microapi",
  },
  c: {
    label: "(c) raw server, 1 msg/chunk + raw client",
    client: "raw",
    path: "raw",
  },
  d: {
    label: "(d) raw server, 512 msg/chunk + raw client",
    client: "raw",
    path: "raw_batched",
  },
  e: {
    label: "(e) MicroAPI server, Connect JSON + raw envelope client",
    client: "envelopes",
    path: "microapi_connect",
    codec: "json",
  },
  f: {
    label: "(f) MicroAPI server, Connect binary + raw envelope client",
    client: "envelopes",
    path: "microapi_connect",
    codec: "proto",
  },
  g: {
    label: "(g) Connect-ES 2 server, JSON + raw envelope client",
    client: "envelopes",
    path: "connect",
    codec: "json",
  },
  h: {
    label: "(h) Connect-ES 2 server, binary + raw envelope client",
    client: "envelopes",
    path: "connect",
    codec: "proto",
  },
};

/** The server process and request path of each kind of stream server. */
const STREAM_PATHS: Record<StreamServer, { server: keyof StreamServers; path: string }> = {
  microapi: { server: "microapi", path: "/users/list_users" },
  raw: { server: "raw", path: "/users/list_users" },
  raw_batched: { server: "raw", path: "/users/list_users_batched" },
  microapi_connect: { server: "microapi_connect", path: "/users.Users/ListUsers" },
  connect: { server: "connect", path: "/bench.v1.UserService/ListUsers" },
};

/** The servers the streaming benchmark calls. */
export interface StreamServers {
  raw: ServerProcess;
  microapi: ServerProcess;
  microapi_connect?: ServerProcess;
  connect?: ServerProcess;
}

/**
 * Runs the streaming benchmark on one runtime: one discarded call per variant, then interleaved
 * rounds.
 *
 * @param launch Executables and pinning.
 * @param runtime The runtime (of the client; the servers run on it too).
 * @param servers The raw and MicroAPI servers, listening.
 * @param options Rounds and messages per call.
 * @returns Every variant's rounds.
 */
export async function benchStream(
  launch: Launch,
  runtime: Runtime,
  servers: StreamServers,
  options: Options,
): Promise<StreamSeries> {
  const client = new ClientProcess(launch, runtime, "bench/stream_client.ts");
  const series: StreamSeries = {};
  const serverOf = (variant: Variant) => servers[STREAM_PATHS[VARIANTS[variant].path].server];
  const command = (variant: Variant) => {
    const { client, path, codec } = VARIANTS[variant];
    return {
      client,
      url: serverOf(variant)!.url,
      path: STREAM_PATHS[path].path,
      limit: options.messages,
      ...(codec ? { codec } : {}),
    };
  };
  const variants = (Object.keys(VARIANTS) as Variant[]).filter((v) => serverOf(v) !== undefined);
  try {
    log("  warm-up: one call per variant (discarded)");
    for (const variant of variants) await client.run(command(variant));
    for (let round = 1; round <= options.streamRounds; round++) {
      const parts: string[] = [];
      for (const variant of variants) {
        const server = serverOf(variant)!;
        const before = cpuSeconds(server.pid);
        const clientBefore = cpuSeconds(client.pid);
        const result = await client.run<StreamResult>(command(variant));
        const serverCpuMs = (cpuSeconds(server.pid) - before) * 1000;
        const clientCpuMs = (cpuSeconds(client.pid) - clientBefore) * 1000;
        const msgPerSec = result.messages / (result.ms / 1000);
        (series[variant] ??= []).push({
          msgPerSec,
          ms: result.ms,
          chunks: result.chunks,
          serverCpuMs,
          clientCpuMs,
        });
        parts.push(`(${variant}) ${formatRate(msgPerSec)}`);
      }
      log(`  round ${round}/${options.streamRounds}  msg/s: ${parts.join("  ")}`);
    }
  } finally {
    await client.close();
  }
  return series;
}

/**
 * The streaming table: one row per runtime and variant.
 *
 * @param results Every runtime's rounds.
 * @param messages Messages per call.
 * @returns The table.
 */
export function streamTable(results: Map<Runtime, StreamSeries>, messages: number): string {
  const rows: string[][] = [];
  for (const [runtime, series] of results) {
    const rounds = (v: Variant) => series[v] ?? [];
    const rates = (v: Variant) => rounds(v).map((r) => r.msgPerSec);
    const perMessage = median(rates("c"));
    const batched = median(rates("d"));
    const cpu = (v: Variant) => median(rounds(v).map((r) => r.serverCpuMs));
    for (const variant of (Object.keys(VARIANTS) as Variant[]).filter((v) => series[v])) {
      const rate = median(rates(variant));
      const chunks = median(rounds(variant).map((r) => r.chunks));
      rows.push([
        runtime,
        VARIANTS[variant].label,
        formatRate(rate),
        formatMs(median(rounds(variant).map((r) => r.ms))),
        variant === "a" ? "-" : (messages / chunks).toFixed(1),
        formatMs(median(rounds(variant).map((r) => r.serverCpuMs))),
        formatMs(median(rounds(variant).map((r) => r.clientCpuMs))),
        formatRatio(rate / perMessage),
        formatRatio(median(pairwise(rates(variant), rates("c")))),
        formatRatio(rate / batched),
        formatRatio(median(pairwise(rates(variant), rates("d")))),
        formatRatio(cpu("c") / cpu(variant)),
        formatRatio(cpu("d") / cpu(variant)),
      ]);
    }
  }
  return table([
    "runtime",
    "variant",
    "msg/s (median)",
    "time",
    "msg/chunk",
    "srv CPU",
    "client CPU",
    "vs (c)",
    "pairwise",
    "vs (d)",
    "pairwise",
    "CPU vs (c)",
    "CPU vs (d)",
  ], rows);
}

/**
 * The verdicts against the targets, one line per runtime.
 *
 * @param results Every runtime's rounds.
 * @returns Lines of text.
 */
export function streamVerdicts(results: Map<Runtime, StreamSeries>): string[] {
  const lines: string[] = [];
  for (const [runtime, series] of results) {
    const rate = (v: Variant) => median((series[v] ?? []).map((r) => r.msgPerSec));
    const target = STREAM_TARGETS[runtime];
    const verdict = (ratio: number) =>
      `${formatRatio(ratio)} ${ratio >= target ? "met" : "MISSED"}`;
    lines.push(
      `${runtime}: target >= ${target.toFixed(2)} judged on (b)/(d) [server vs batched raw]: ` +
        `${verdict(rate("b") / rate("d"))}; also (b)/(c) [vs per-message raw]: ${
          formatRatio(rate("b") / rate("c"))
        }; end to end (a)/(d): ${formatRatio(rate("a") / rate("d"))}, (a)/(c): ${
          formatRatio(rate("a") / rate("c"))
        }`,
    );
    if (series.e && series.f) {
      const against = series.g && series.h
        ? `; against Connect-ES's server: JSON (e)/(g) ${formatRatio(rate("e") / rate("g"))}, ` +
          `binary (f)/(h) ${formatRatio(rate("f") / rate("h"))}`
        : "";
      lines.push(
        `${runtime}: Connect from MicroAPI against its own protocol (b): JSON (e)/(b) ${
          formatRatio(rate("e") / rate("b"))
        }, binary (f)/(b) ${formatRatio(rate("f") / rate("b"))}${against}`,
      );
    }
  }
  return lines;
}
