/** The command line of `deno task bench` (bench/run.ts). */

import type { Runtime } from "./processes.ts";
import { type Peer, PEERS } from "./targets.ts";

/** The benchmarks, in the order they run. */
export const BENCHMARKS = [
  "unary",
  "stream",
  "ws",
  "nats",
  "client",
  "startup",
  "connections",
] as const;

/** One of {@linkcode BENCHMARKS}. */
export type Benchmark = typeof BENCHMARKS[number];

/** Everything the command line sets. */
export interface Options {
  /** The benchmarks to run. */
  only: Set<Benchmark>;
  /** The runtimes asked for; undefined: Deno, and Bun when found. */
  runtimes: Runtime[] | undefined;
  /** The peer frameworks in the unary and start-up benchmarks. */
  peers: Peer[];
  quick: boolean;
  rounds: number;
  duration: number;
  warmup: number;
  connections: number;
  streamRounds: number;
  messages: number;
  wsRounds: number;
  wsSeconds: number;
  wsConcurrency: number;
  idleStreams: number;
  clientRounds: number;
  clientSeconds: number;
  clientConcurrency: number;
  startupRounds: number;
  settleMs: number;
  idleConnections: number;
  json: string | undefined;
  cpuProf: string | undefined;
}

/** The help text. */
export const USAGE = `Usage: deno task bench [options]
  --quick               one short round of everything (about 3 minutes; no figure from it means
                        much: it shows the harness works): 1 round of 2 s (1 s warm-up) for
                        unary, 1 round of streaming, WebSocket, clients and start-up,
                        2000 idle HTTP connections and 2000 idle WebSocket streams
  --only LIST           run some benchmarks, comma-separated: ${BENCHMARKS.join(", ")}
                        (ws: every WebSocket measurement; nats: unary and streaming over NATS
                        with 1 and 2 server processes against raw @nats-io and HTTP, with the
                        --ws-rounds, --ws-seconds, --ws-concurrency and --messages settings;
                        client: MicroAPI's generated client
                        against raw fetch / WebSocket loops; startup: start-up time and idle
                        RSS; connections: memory of idle keep-alive HTTP connections)
  --runtime deno|bun|all  default all (bun only when found)
  --peers LIST          peer frameworks, comma-separated, or all or none (default all):
                        ${PEERS.join(", ")}
  --rounds N            unary rounds per server (default 5)
  --duration S          seconds per wrk round (default 10)
  --warmup S            seconds of wrk warm-up per server, discarded (default 2)
  --connections N       wrk connections (default 64)
  --stream-rounds N     streaming rounds per variant (default 7)
  --messages N          messages per streamed call, HTTP and WebSocket (default 100000)
  --ws-rounds N         WebSocket rounds per variant (default 5)
  --ws-seconds S        seconds per WebSocket unary round (default 5)
  --ws-concurrency N    WebSocket unary calls in flight on the one socket (default 64)
  --idle-streams N      idle WebSocket streams for the memory figure, 100 per socket (default 10000)
  --client-rounds N     client benchmark rounds per client (default 5)
  --client-seconds S    seconds per client round (default 5)
  --client-concurrency N  calls in flight per client (default 64)
  --startup-rounds N    start-up rounds per server (default 5)
  --settle-ms N         idle time before an RSS reading (default 1000)
  --idle-connections N  idle keep-alive HTTP connections for the memory figure (default 10000)
  --json FILE           also write every round's figures to FILE
  --cpu-prof DIR        run the servers with --cpu-prof, profiles written to DIR`;

/**
 * Reads the command line; prints the usage and exits on a mistake or `--help`.
 *
 * @param args The arguments.
 * @returns The options.
 */
export function parseOptions(args: string[]): Options {
  const options: Options = {
    only: new Set(BENCHMARKS),
    runtimes: undefined,
    peers: [...PEERS],
    quick: false,
    rounds: 5,
    duration: 10,
    warmup: 2,
    connections: 64,
    streamRounds: 7,
    messages: 100_000,
    wsRounds: 5,
    wsSeconds: 5,
    wsConcurrency: 64,
    idleStreams: 10_000,
    clientRounds: 5,
    clientSeconds: 5,
    clientConcurrency: 64,
    startupRounds: 5,
    settleMs: 1000,
    idleConnections: 10_000,
    json: undefined,
    cpuProf: undefined,
  };
  const list = <T extends string>(
    name: string,
    text: string,
    allowed: readonly T[],
  ): T[] => {
    const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
    for (const item of items) {
      if (!(allowed as readonly string[]).includes(item)) {
        fail(`${name} takes ${allowed.join(", ")} (got ${JSON.stringify(item)})`);
      }
    }
    return items as T[];
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [name, inline] = arg.includes("=") ? arg.split("=", 2) as [string, string] : [arg];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) fail(`${name} needs a value`);
      return v;
    };
    const count = (min: number) => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < min) {
        fail(`${name} needs an integer >= ${min}`);
      }
      return v;
    };
    switch (name) {
      case "--quick":
        Object.assign(options, {
          quick: true,
          rounds: 1,
          duration: 2,
          warmup: 1,
          streamRounds: 1,
          wsRounds: 1,
          wsSeconds: 2,
          idleStreams: 2000,
          clientRounds: 1,
          clientSeconds: 2,
          startupRounds: 1,
          settleMs: 500,
          idleConnections: 2000,
        });
        break;
      case "--only": {
        const chosen = list(name, value(), BENCHMARKS);
        if (chosen.length === 0) fail("--only needs at least one benchmark");
        options.only = new Set(chosen);
        break;
      }
      case "--runtime": {
        const v = value();
        if (v === "all") options.runtimes = undefined;
        else if (v === "deno" || v === "bun") options.runtimes = [v];
        else fail("--runtime takes deno, bun or all");
        break;
      }
      case "--peers": {
        const v = value();
        options.peers = v === "all" ? [...PEERS] : v === "none" ? [] : list(name, v, PEERS);
        break;
      }
      case "--rounds":
        options.rounds = count(1);
        break;
      case "--duration":
        options.duration = count(2);
        break;
      case "--warmup":
        options.warmup = count(0);
        break;
      case "--connections":
        options.connections = count(1);
        break;
      case "--stream-rounds":
        options.streamRounds = count(1);
        break;
      case "--messages":
        options.messages = count(1);
        break;
      case "--ws-rounds":
        options.wsRounds = count(1);
        break;
      case "--ws-seconds":
        options.wsSeconds = count(1);
        break;
      case "--ws-concurrency":
        options.wsConcurrency = count(1);
        break;
      case "--idle-streams":
        options.idleStreams = count(100);
        break;
      case "--client-rounds":
        options.clientRounds = count(1);
        break;
      case "--client-seconds":
        options.clientSeconds = count(1);
        break;
      case "--client-concurrency":
        options.clientConcurrency = count(1);
        break;
      case "--startup-rounds":
        options.startupRounds = count(1);
        break;
      case "--settle-ms":
        options.settleMs = count(0);
        break;
      case "--idle-connections":
        options.idleConnections = count(1);
        break;
      case "--json":
        options.json = value();
        break;
      case "--cpu-prof":
        options.cpuProf = value();
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        Deno.exit(0);
        break;
      default:
        fail(`unknown option ${arg}`);
    }
  }
  return options;
}

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  Deno.exit(2);
}
