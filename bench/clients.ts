/**
 * The client benchmark: calls/s and the client's CPU time per call of MicroAPI's generated client
 * against a raw loop doing the same JSON work (bench/unary_client.ts), over HTTP and over
 * WebSocket, rounds interleaved. The client runs on core 1, the server on core 0.
 *
 * Over HTTP both clients call the raw server, so that the only difference is the client. Over
 * WebSocket they cannot (the protocols differ): the raw loop calls the raw echo server, the
 * generated client MicroAPI's server; the client CPU per call is still each client's own.
 */

import type { Options } from "./options.ts";
import {
  ClientProcess,
  cpuSeconds,
  type Launch,
  type Runtime,
  type ServerProcess,
} from "./processes.ts";
import { formatRate, formatRatio, median, pairwise, table } from "./stats.ts";
import { log } from "./util.ts";

/** Issue 14's target: the generated client >= 0.85 of the raw loop. */
export const CLIENT_TARGET = 0.85;

/** A client measured. */
export type ClientKind =
  | "http raw"
  | "http microapi"
  | "ws raw"
  | "ws microapi";

const CLIENT_KINDS: readonly ClientKind[] = ["http raw", "http microapi", "ws raw", "ws microapi"];

const CLIENT_LABELS: Record<ClientKind, string> = {
  "http raw": "HTTP: raw fetch loop (JSON.stringify, fetch, response.json())",
  "http microapi": "HTTP: generated client, Connection (http)",
  "ws raw": "WebSocket: raw WebSocket loop (JSON both ways)",
  "ws microapi": "WebSocket: generated client, Connection (ws)",
};

/** One round of one client. */
export interface ClientRound {
  /** Calls per second. */
  rate: number;
  /** The client's CPU time per call (all threads), in microseconds. */
  clientCpuUs: number;
  /** The server's CPU time per call, in microseconds. */
  serverCpuUs: number;
}

/** Every client's rounds. */
export type ClientSeries = Partial<Record<ClientKind, ClientRound[]>>;

/**
 * Writes the generated client of bench/servers/microapi.ts into a temporary directory, with the
 * CLI (`microapi generate`), importing the library by absolute path.
 *
 * @param launch Executables.
 * @returns The directory and its `users.ts` module; remove the directory when done.
 */
export async function generateClient(launch: Launch): Promise<{ dir: string; module: string }> {
  const dir = await Deno.makeTempDir({ prefix: "microapi-bench-client-" });
  const { success, stderr } = await new Deno.Command(launch.deno, {
    args: [
      "run",
      "-A",
      "cli.ts",
      "generate",
      "bench/servers/microapi.ts",
      "--out",
      dir,
      "--import",
      `${launch.root}mod.ts`,
    ],
    cwd: launch.root,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`microapi generate failed: ${new TextDecoder().decode(stderr)}`);
  }
  return { dir, module: `${dir}/users.ts` };
}

/**
 * Runs the client benchmark on one runtime.
 *
 * @param launch Executables and pinning.
 * @param runtime The runtime of the client (and of the servers).
 * @param servers The raw and MicroAPI servers, listening.
 * @param generated The generated client module ({@linkcode generateClient}).
 * @param options Rounds, seconds, concurrency.
 * @returns Every client's rounds.
 */
export async function benchClients(
  launch: Launch,
  runtime: Runtime,
  servers: { raw: ServerProcess; microapi: ServerProcess },
  generated: string,
  options: Options,
): Promise<ClientSeries> {
  const client = new ClientProcess(launch, runtime, "bench/unary_client.ts");
  const series: ClientSeries = {};
  const measure = async (kind: ClientKind, seconds: number): Promise<ClientRound> => {
    const [transport, who] = kind.split(" ") as [
      "http" | "ws",
      "raw" | "microapi",
    ];
    const server = transport === "ws" && who === "microapi" ? servers.microapi : servers.raw;
    const s0 = cpuSeconds(server.pid);
    const c0 = cpuSeconds(client.pid);
    const { count, ms } = await client.run<{ count: number; ms: number }>({
      transport,
      client: who,
      url: server.url,
      seconds,
      concurrency: options.clientConcurrency,
      generated,
    });
    return {
      rate: count / (ms / 1000),
      clientCpuUs: (cpuSeconds(client.pid) - c0) * 1e6 / count,
      serverCpuUs: (cpuSeconds(server.pid) - s0) * 1e6 / count,
    };
  };
  try {
    log("  warm-up: 1 s per client (discarded)");
    for (const kind of CLIENT_KINDS) await measure(kind, 1);
    for (let round = 1; round <= options.clientRounds; round++) {
      const parts: string[] = [];
      for (const kind of CLIENT_KINDS) {
        const result = await measure(kind, options.clientSeconds);
        (series[kind] ??= []).push(result);
        parts.push(`${kind} ${formatRate(result.rate)}/s ${result.clientCpuUs.toFixed(1)}us`);
      }
      log(
        `  round ${round}/${options.clientRounds}  calls/s, client CPU/call: ${parts.join(", ")}`,
      );
    }
  } finally {
    await client.close();
  }
  return series;
}

/**
 * The client table: one row per runtime and client, the generated clients as ratios to their raw
 * loop.
 *
 * @param results Every runtime's rounds.
 * @returns The table.
 */
export function clientTable(results: Map<Runtime, ClientSeries>): string {
  const rows: string[][] = [];
  for (const [runtime, series] of results) {
    for (const kind of CLIENT_KINDS) {
      const rounds = series[kind];
      if (!rounds) continue;
      const base = series[kind.replace("microapi", "raw") as ClientKind]!;
      const own = rounds === base;
      const rates = rounds.map((r) => r.rate);
      const cpu = median(rounds.map((r) => r.clientCpuUs));
      const baseCpu = median(base.map((r) => r.clientCpuUs));
      const ratio = median(rates) / median(base.map((r) => r.rate));
      rows.push([
        runtime,
        CLIENT_LABELS[kind],
        formatRate(median(rates)),
        own ? "-" : formatRatio(ratio),
        own ? "-" : formatRatio(median(pairwise(rates, base.map((r) => r.rate)))),
        cpu.toFixed(2),
        own ? "-" : formatRatio(baseCpu / cpu),
        median(rounds.map((r) => r.serverCpuUs)).toFixed(2),
        own
          ? ""
          : `target >= ${CLIENT_TARGET.toFixed(2)}: calls/s ${
            ratio >= CLIENT_TARGET ? "met" : "MISSED"
          }, CPU ${baseCpu / cpu >= CLIENT_TARGET ? "met" : "MISSED"}`,
      ]);
    }
  }
  return table([
    "runtime",
    "client",
    "calls/s (median)",
    "ratio",
    "pairwise",
    "client CPU us/call",
    "CPU ratio",
    "srv CPU us/call",
    "notes",
  ], rows);
}
