/**
 * MicroAPI benchmark: unary calls/s and latency (wrk) and server-streaming messages/s, each
 * against the runtime's raw server doing the same work, measured in the same run, interleaved.
 * See bench/README.md.
 *
 * Usage: deno task bench [--quick] [--only unary|stream] [--runtime deno|bun|all]
 *          [--rounds N] [--duration S] [--warmup S] [--connections N]
 *          [--stream-rounds N] [--messages N] [--json FILE] [--cpu-prof DIR]
 */

import {
  ClientProcess,
  cpuSeconds,
  type Launch,
  pin,
  rssBytes,
  type Runtime,
  ServerProcess,
} from "./processes.ts";
import { formatMs, formatRate, formatRatio, median, pairwise, table } from "./stats.ts";
import { ensureWrk, parseWrk, which, type WrkResult, wrkVersion } from "./wrk.ts";

const UNARY_TARGET = 0.8;
const STREAM_TARGET = 0.7;

interface Options {
  only: "unary" | "stream" | "ws" | undefined;
  runtimes: Runtime[] | undefined;
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
  json: string | undefined;
  cpuProf: string | undefined;
}

const USAGE = `Usage: deno task bench [options]
  --quick               3 rounds of 3 s (1 s warm-up) for unary, 3 rounds for streaming,
                        3 rounds of 2 s for WebSocket unary
  --only unary|stream|ws  run one benchmark (ws: every WebSocket measurement)
  --runtime deno|bun|all  default all (bun only when found)
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
  --json FILE           also write every round's figures to FILE
  --cpu-prof DIR        run the servers with --cpu-prof, profiles written to DIR`;

function parseOptions(args: string[]): Options {
  const options: Options = {
    only: undefined,
    runtimes: undefined,
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
    json: undefined,
    cpuProf: undefined,
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
      if (!Number.isInteger(v) || v < min) fail(`${name} needs an integer >= ${min}`);
      return v;
    };
    switch (name) {
      case "--quick":
        options.rounds = 3;
        options.duration = 3;
        options.warmup = 1;
        options.streamRounds = 3;
        options.wsRounds = 3;
        options.wsSeconds = 2;
        break;
      case "--only": {
        const v = value();
        if (v !== "unary" && v !== "stream" && v !== "ws") fail("--only takes unary, stream or ws");
        options.only = v;
        break;
      }
      case "--runtime": {
        const v = value();
        if (v === "all") options.runtimes = undefined;
        else if (v === "deno" || v === "bun") options.runtimes = [v];
        else fail("--runtime takes deno, bun or all");
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function commandOutput(program: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await new Deno.Command(program, { args, stderr: "null" }).output();
    return new TextDecoder().decode(stdout).trim();
  } catch {
    return "";
  }
}

function cpuModel(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    return info.match(/^model name\s*:\s*(.*)$/m)?.[1]?.trim() ?? "unknown CPU";
  } catch {
    return "unknown CPU";
  }
}

// ---------------------------------------------------------------------------------------------
// Unary

interface UnaryRound extends WrkResult {
  /** Server CPU use over the middle of the run, as a fraction of one core. */
  serverCpu: number;
  /** wrk's CPU use over the same window. */
  wrkCpu: number;
  /** Server CPU time per request over the whole run, in microseconds. */
  cpuPerRequest: number;
}

type UnaryKind = "raw" | "microapi" | "ceiling";

type UnarySeries = Record<UnaryKind, UnaryRound[]>;

const UNARY_KINDS: readonly UnaryKind[] = ["raw", "microapi", "ceiling"];

/** The server and path each unary kind is measured on. */
function unaryTarget(
  kind: UnaryKind,
  servers: Record<"raw" | "microapi", ServerProcess>,
): { server: ServerProcess; url: string } {
  const server = kind === "microapi" ? servers.microapi : servers.raw;
  return { server, url: `${server.url}${kind === "ceiling" ? "/ceiling" : "/users/get_user"}` };
}

const EXPECTED_USER = JSON.stringify({ username: "alice", age: 30 });

async function checkUnary(server: ServerProcess, label: string): Promise<void> {
  const response = await fetch(`${server.url}/users/get_user`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user_id: 42 }),
  });
  const text = await response.text();
  if (response.status !== 200 || JSON.stringify(JSON.parse(text)) !== EXPECTED_USER) {
    throw new Error(`${label} answered ${response.status} ${text}, expected ${EXPECTED_USER}`);
  }
}

async function runWrk(
  launch: Launch,
  wrk: string,
  target: { server: ServerProcess; url: string },
  seconds: number,
  connections: number,
): Promise<UnaryRound> {
  const [program, args] = pin(launch, 1, [
    wrk,
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    "--latency",
    "-s",
    "bench/post_get_user.lua",
    target.url,
  ]);
  const { server } = target;
  const before = cpuSeconds(server.pid);
  const child = new Deno.Command(program, {
    args,
    cwd: launch.root,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  // CPU use of both sides over the middle of the run (wrk's pid is taskset's: taskset execs).
  await sleep(1000);
  const t0 = performance.now();
  const s0 = cpuSeconds(server.pid);
  const w0 = cpuSeconds(child.pid);
  await sleep(Math.max(500, seconds * 1000 - 1500));
  const elapsed = (performance.now() - t0) / 1000;
  const serverCpu = (cpuSeconds(server.pid) - s0) / elapsed;
  const wrkCpu = (cpuSeconds(child.pid) - w0) / elapsed;
  const { success, stdout, stderr } = await output;
  const after = cpuSeconds(server.pid);
  const text = new TextDecoder().decode(stdout);
  if (!success) throw new Error(`wrk failed: ${new TextDecoder().decode(stderr)}\n${text}`);
  const result = parseWrk(text);
  return { ...result, serverCpu, wrkCpu, cpuPerRequest: (after - before) * 1e6 / result.requests };
}

/** Below this share of a core, a side counts as not saturated. */
const SATURATED = 0.9;

/**
 * A round in which neither the server nor wrk kept its core busy: under a closed-loop load one of
 * them should, so something else on the machine took the CPU.
 */
function disturbed(r: UnaryRound): boolean {
  return r.serverCpu < SATURATED && r.wrkCpu < SATURATED;
}

function describeRound(kind: string, r: UnaryRound): string {
  const errors = r.non2xx + r.socketErrors > 0
    ? `  ERRORS: ${r.non2xx} non-2xx, ${r.socketErrors} socket`
    : "";
  const flag = disturbed(r) ? "  (disturbed)" : "";
  return `${kind.padEnd(8)} ${formatRate(r.rps).padStart(8)} req/s  p50 ${
    formatMs(r.p50).padStart(7)
  }  p99 ${formatMs(r.p99).padStart(7)}  server CPU ${
    r.cpuPerRequest.toFixed(1)
  }us/req  CPU use: server ${pct(r.serverCpu)}, wrk ${pct(r.wrkCpu)}${flag}${errors}`;
}

function pct(fraction: number): string {
  return Number.isFinite(fraction) ? `${Math.round(fraction * 100)}%` : "-";
}

async function benchUnary(
  launch: Launch,
  wrk: string,
  runtime: Runtime,
  servers: Record<"raw" | "microapi", ServerProcess>,
  options: Options,
): Promise<UnarySeries> {
  const series: UnarySeries = { raw: [], microapi: [], ceiling: [] };
  await checkUnary(servers.raw, `${runtime} raw`);
  await checkUnary(servers.microapi, `${runtime} microapi`);
  if (options.warmup > 0) {
    for (const kind of UNARY_KINDS) {
      log(`  warm-up ${kind} (${options.warmup} s, discarded)`);
      await runWrk(
        launch,
        wrk,
        unaryTarget(kind, servers),
        Math.max(1, options.warmup),
        options.connections,
      );
    }
  }
  for (let round = 1; round <= options.rounds; round++) {
    for (const kind of UNARY_KINDS) {
      const result = await runWrk(
        launch,
        wrk,
        unaryTarget(kind, servers),
        options.duration,
        options.connections,
      );
      series[kind].push(result);
      log(`  round ${round}/${options.rounds}  ${describeRound(kind, result)}`);
    }
  }
  return series;
}

const UNARY_LABELS: Record<UnaryKind, (runtime: Runtime) => string> = {
  raw: (runtime) => `raw ${runtime === "deno" ? "Deno.serve" : "Bun.serve"}`,
  microapi: () => "MicroAPI",
  ceiling: () => "ceiling: constant reply",
};

function unaryTable(results: Map<Runtime, UnarySeries>): string {
  const rows: string[][] = [];
  for (const [runtime, series] of results) {
    const rawRates = series.raw.map((r) => r.rps);
    const rawRps = median(rawRates);
    const rawCpu = median(series.raw.map((r) => r.cpuPerRequest));
    for (const kind of UNARY_KINDS) {
      const rounds = series[kind];
      const rates = rounds.map((r) => r.rps);
      const rps = median(rates);
      const pairs = pairwise(rates, rawRates);
      const errors = rounds.reduce((sum, r) => sum + r.non2xx + r.socketErrors, 0);
      const notes: string[] = [];
      if (kind === "microapi") {
        notes.push(
          `target >= ${UNARY_TARGET.toFixed(2)}: ${
            rps / rawRps >= UNARY_TARGET ? "met" : "MISSED"
          }`,
        );
      }
      if (kind === "ceiling") notes.push("load-generator check, not a target");
      if (errors > 0) notes.push(`${errors} errors`);
      rows.push([
        runtime,
        UNARY_LABELS[kind](runtime),
        formatRate(rps),
        formatMs(median(rounds.map((r) => r.p50))),
        formatMs(median(rounds.map((r) => r.p99))),
        formatRatio(rps / rawRps),
        kind === "raw"
          ? "-"
          : `${formatRatio(median(pairs))} (${formatRatio(Math.min(...pairs))}-${
            formatRatio(Math.max(...pairs))
          })`,
        median(rounds.map((r) => r.cpuPerRequest)).toFixed(1),
        formatRatio(rawCpu / median(rounds.map((r) => r.cpuPerRequest))),
        pct(median(rounds.map((r) => r.serverCpu))),
        pct(median(rounds.map((r) => r.wrkCpu))),
        `${rounds.filter((r) => !disturbed(r)).length}/${rounds.length}`,
        notes.join("; "),
      ]);
    }
  }
  return table([
    "runtime",
    "server",
    "req/s (median)",
    "p50",
    "p99",
    "ratio",
    "pairwise (min-max)",
    "CPU us/req",
    "CPU ratio",
    "srv busy",
    "wrk busy",
    "clean",
    "notes",
  ], rows);
}

function unaryNotes(results: Map<Runtime, UnarySeries>): string[] {
  const lines: string[] = [];
  for (const [runtime, series] of results) {
    // Pairs of rounds (same round number) in which neither round was disturbed.
    const clean = series.raw.map((raw, i) => ({ raw, microapi: series.microapi[i]! }))
      .filter((p) => !disturbed(p.raw) && !disturbed(p.microapi));
    if (clean.length > 0) {
      const ratios = clean.map((p) => p.microapi.rps / p.raw.rps);
      lines.push(
        `${runtime}: undisturbed pairs (raw and MicroAPI rounds both saturated): ${clean.length} ` +
          `of ${series.raw.length}; raw ${
            formatRate(median(clean.map((p) => p.raw.rps)))
          } req/s, ` +
          `MicroAPI ${formatRate(median(clean.map((p) => p.microapi.rps)))} req/s, median ` +
          `pairwise ratio ${formatRatio(median(ratios))}.`,
      );
    } else {
      lines.push(
        `${runtime}: every pair of rounds was disturbed by other load; rerun if possible.`,
      );
    }
    // The load-generator check compares raw and ceiling rounds of the same round number, both
    // undisturbed: anything else mixes machine noise into it.
    const checks = series.raw.map((raw, i) => ({ raw, ceiling: series.ceiling[i]! }))
      .filter((p) => !disturbed(p.raw) && !disturbed(p.ceiling));
    if (checks.length === 0) {
      lines.push(
        `${runtime}: load generator check inconclusive: no round in which both the raw and the ` +
          "constant-reply server ran undisturbed.",
      );
      continue;
    }
    const share = median(checks.map((p) => p.raw.rps / p.ceiling.rps));
    const wrkCpu = median(checks.map((p) => p.raw.wrkCpu));
    lines.push(
      `${runtime}: load generator check (${checks.length} undisturbed round(s)): wrk reached ` +
        `${formatRate(median(checks.map((p) => p.ceiling.rps)))} req/s on the constant reply; ` +
        `the raw baseline ran at ${formatRatio(share)} of that, with wrk ${pct(wrkCpu)} busy. ` +
        (share > 0.9 || wrkCpu > SATURATED
          ? "The raw baseline is near the load generator's limit: its true rate may be higher, " +
            "so MicroAPI's ratio is if anything overstated, never understated."
          : "The load generator had headroom."),
    );
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Streaming

type Variant = "a" | "b" | "c" | "d";

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

type StreamSeries = Record<Variant, StreamRound[]>;

const VARIANTS: Record<Variant, { label: string; client: "microapi" | "raw"; path: string }> = {
  a: { label: "(a) MicroAPI server + MicroAPI client", client: "microapi", path: "microapi" },
  b: { label: "(b) MicroAPI server + raw client", client: "raw", path: "microapi" },
  c: { label: "(c) raw server, 1 msg/chunk + raw client", client: "raw", path: "raw" },
  d: { label: "(d) raw server, 512 msg/chunk + raw client", client: "raw", path: "raw_batched" },
};

async function benchStream(
  launch: Launch,
  runtime: Runtime,
  servers: Record<"raw" | "microapi", ServerProcess>,
  options: Options,
): Promise<StreamSeries> {
  const client = new ClientProcess(launch, runtime, "bench/stream_client.ts");
  const series: StreamSeries = { a: [], b: [], c: [], d: [] };
  const command = (variant: Variant) => {
    const { client, path } = VARIANTS[variant];
    return {
      client,
      url: servers[path === "microapi" ? "microapi" : "raw"].url,
      path: path === "raw_batched" ? "/users/list_users_batched" : "/users/list_users",
      limit: options.messages,
    };
  };
  const variants = Object.keys(VARIANTS) as Variant[];
  try {
    log("  warm-up: one call per variant (discarded)");
    for (const variant of variants) await client.run(command(variant));
    for (let round = 1; round <= options.streamRounds; round++) {
      const parts: string[] = [];
      for (const variant of variants) {
        const server = servers[VARIANTS[variant].path === "microapi" ? "microapi" : "raw"];
        const before = cpuSeconds(server.pid);
        const clientBefore = cpuSeconds(client.pid);
        const result = await client.run<StreamResult>(command(variant));
        const serverCpuMs = (cpuSeconds(server.pid) - before) * 1000;
        const clientCpuMs = (cpuSeconds(client.pid) - clientBefore) * 1000;
        const msgPerSec = result.messages / (result.ms / 1000);
        series[variant].push({
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

function streamTable(results: Map<Runtime, StreamSeries>, messages: number): string {
  const rows: string[][] = [];
  for (const [runtime, series] of results) {
    const rates = (v: Variant) => series[v].map((r) => r.msgPerSec);
    const perMessage = median(rates("c"));
    const batched = median(rates("d"));
    const cpu = (v: Variant) => median(series[v].map((r) => r.serverCpuMs));
    for (const variant of Object.keys(VARIANTS) as Variant[]) {
      const rate = median(rates(variant));
      const chunks = median(series[variant].map((r) => r.chunks));
      rows.push([
        runtime,
        VARIANTS[variant].label,
        formatRate(rate),
        formatMs(median(series[variant].map((r) => r.ms))),
        variant === "a" ? "-" : (messages / chunks).toFixed(1),
        formatMs(median(series[variant].map((r) => r.serverCpuMs))),
        formatMs(median(series[variant].map((r) => r.clientCpuMs))),
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

function streamVerdicts(results: Map<Runtime, StreamSeries>): string[] {
  const lines: string[] = [];
  for (const [runtime, series] of results) {
    const rate = (v: Variant) => median(series[v].map((r) => r.msgPerSec));
    const verdict = (ratio: number) =>
      `${formatRatio(ratio)} ${ratio >= STREAM_TARGET ? "met" : "MISSED"}`;
    lines.push(
      `${runtime}: target >= ${
        STREAM_TARGET.toFixed(2)
      } judged on (b)/(d) [server vs batched raw]: ` +
        `${verdict(rate("b") / rate("d"))}; (b)/(c) [vs per-message raw]: ${
          verdict(rate("b") / rate("c"))
        }; end to end (a)/(d): ${verdict(rate("a") / rate("d"))}, (a)/(c): ${
          verdict(rate("a") / rate("c"))
        }`,
    );
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// WebSocket

const WS_UNARY_TARGET = 0.7;
const WS_STREAM_TARGET = 0.7;
/** Unanswered messages the raw bidi client allows: MicroAPI's default window. */
const WS_WINDOW = 64;
const IDLE_PER_SOCKET = 100;
/** Messages per WebSocket message of the batched raw stream, as bench/server.ts's HTTP batch. */
const WS_RAW_BATCH = 512;

type WsKind =
  | "unary raw"
  | "unary microapi"
  | "stream raw"
  | "stream raw batched"
  | "stream microapi"
  | "bidi raw"
  | "bidi microapi";

interface WsRound {
  /** Calls (unary) or messages (streams) per second. */
  rate: number;
  /** Server CPU time per call or message, in microseconds. */
  serverCpuUs: number;
  /** Client CPU time per call or message, in microseconds. */
  clientCpuUs: number;
}

type WsSeries = Partial<Record<WsKind, WsRound[]>>;

interface IdleMemory {
  streams: number;
  sockets: number;
  /** Server RSS before any WebSocket, bytes. */
  fresh: number;
  /** With `sockets` connections and one idle stream on each. */
  oneEach: number;
  /** With `streams` idle streams over the same number of connections. */
  full: number;
  openMs: number;
}

interface WsResults {
  series: WsSeries;
  idle: IdleMemory;
}

const WS_LABELS: Record<WsKind, string> = {
  "unary raw": "unary: raw WebSocket echo (JSON in, JSON out)",
  "unary microapi": "unary: MicroAPI over WebSocket",
  "stream raw": "server stream: raw, 1 msg per WebSocket message",
  "stream raw batched": "server stream: raw, 512 msgs per WebSocket message",
  "stream microapi": "server stream: MicroAPI over WebSocket",
  "bidi raw": `bidi echo: raw, ${WS_WINDOW} unanswered at most`,
  "bidi microapi": "bidi echo: MicroAPI over WebSocket (default windows)",
};

async function benchWs(
  launch: Launch,
  runtime: Runtime,
  servers: Record<"raw" | "microapi", ServerProcess>,
  options: Options,
): Promise<WsResults> {
  const client = new ClientProcess(launch, runtime, "bench/ws_client.ts");
  const series: WsSeries = {};
  const commands: Record<WsKind, object> = {
    "unary raw": { kind: "unary", client: "raw", url: servers.raw.url },
    "unary microapi": { kind: "unary", client: "microapi", url: servers.microapi.url },
    "stream raw": { kind: "stream", client: "raw", url: servers.raw.url, batch: 1 },
    "stream raw batched": {
      kind: "stream",
      client: "raw",
      url: servers.raw.url,
      batch: WS_RAW_BATCH,
    },
    "stream microapi": { kind: "stream", client: "microapi", url: servers.microapi.url },
    "bidi raw": { kind: "bidi", client: "raw", url: servers.raw.url },
    "bidi microapi": { kind: "bidi", client: "microapi", url: servers.microapi.url },
  };
  const measure = async (kind: WsKind, extra: object): Promise<WsRound> => {
    const server = kind.endsWith("microapi") ? servers.microapi : servers.raw;
    const s0 = cpuSeconds(server.pid);
    const c0 = cpuSeconds(client.pid);
    const { count, ms } = await client.run<{ count: number; ms: number }>({
      ...commands[kind],
      ...extra,
    });
    const round = {
      rate: count / (ms / 1000),
      serverCpuUs: (cpuSeconds(server.pid) - s0) * 1e6 / count,
      clientCpuUs: (cpuSeconds(client.pid) - c0) * 1e6 / count,
    };
    (series[kind] ??= []).push(round);
    return round;
  };
  const groups: { kinds: WsKind[]; extra: object }[] = [
    {
      kinds: ["unary raw", "unary microapi"],
      extra: { seconds: options.wsSeconds, concurrency: options.wsConcurrency },
    },
    {
      kinds: ["stream raw", "stream raw batched", "stream microapi"],
      extra: { messages: options.messages },
    },
    {
      kinds: ["bidi raw", "bidi microapi"],
      extra: { messages: options.messages, window: WS_WINDOW },
    },
  ];
  try {
    log("  warm-up: one short round of each (discarded)");
    for (const { kinds, extra } of groups) {
      for (const kind of kinds) {
        await measure(kind, { ...extra, seconds: 1 });
        series[kind]!.pop();
      }
    }
    for (let round = 1; round <= options.wsRounds; round++) {
      const parts: string[] = [];
      for (const { kinds, extra } of groups) {
        for (const kind of kinds) {
          parts.push(`${kind} ${formatRate((await measure(kind, extra)).rate)}`);
        }
      }
      log(`  round ${round}/${options.wsRounds}  per s: ${parts.join(", ")}`);
    }
  } finally {
    await client.close();
  }
  return { series, idle: await idleMemory(launch, runtime, options.idleStreams) };
}

/**
 * Server memory with idle streams: a fresh MicroAPI server, then one idle server stream on each of
 * `streams / 100` WebSocket connections, then 100 on each. The difference between the last two,
 * per stream, is what an idle stream costs, apart from its socket.
 */
async function idleMemory(launch: Launch, runtime: Runtime, streams: number): Promise<IdleMemory> {
  const sockets = Math.ceil(streams / IDLE_PER_SOCKET);
  const server = await ServerProcess.start(launch, runtime, "microapi");
  const client = new ClientProcess(launch, runtime, "bench/ws_client.ts");
  const settled = async () => {
    await sleep(1000);
    return rssBytes(server.pid);
  };
  try {
    const fresh = await settled();
    await client.run({ kind: "idle_open", url: server.url, sockets, perSocket: 1 });
    const oneEach = await settled();
    await client.run({ kind: "idle_close" });
    const { ms } = await client.run<{ ms: number }>({
      kind: "idle_open",
      url: server.url,
      sockets,
      perSocket: IDLE_PER_SOCKET,
    });
    const full = await settled();
    await client.run({ kind: "idle_close" });
    const memory = {
      streams: sockets * IDLE_PER_SOCKET,
      sockets,
      fresh,
      oneEach,
      full,
      openMs: ms,
    };
    log(
      `  idle: server RSS ${mb(fresh)} fresh, ${mb(oneEach)} with ${sockets} sockets, ${
        mb(full)
      } with ${memory.streams} idle streams (opened in ${formatMs(ms)})`,
    );
    return memory;
  } finally {
    await client.close();
    await server.stop();
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function wsTable(results: Map<Runtime, WsResults>): string {
  const rows: string[][] = [];
  for (const [runtime, { series }] of results) {
    const baselines: Record<string, WsKind> = {
      unary: "unary raw",
      stream: "stream raw",
      bidi: "bidi raw",
    };
    for (const kind of Object.keys(WS_LABELS) as WsKind[]) {
      const rounds = series[kind];
      if (!rounds) continue;
      const base = series[baselines[kind.split(" ")[0]!]!]!;
      const rates = rounds.map((r) => r.rate);
      const baseRates = base.map((r) => r.rate);
      const baseCpu = median(base.map((r) => r.serverCpuUs));
      const cpu = median(rounds.map((r) => r.serverCpuUs));
      const own = rounds === base;
      rows.push([
        runtime,
        WS_LABELS[kind],
        formatRate(median(rates)),
        own ? "-" : formatRatio(median(rates) / median(baseRates)),
        own ? "-" : formatRatio(median(pairwise(rates, baseRates))),
        cpu.toFixed(2),
        median(rounds.map((r) => r.clientCpuUs)).toFixed(2),
        own ? "-" : formatRatio(baseCpu / cpu),
      ]);
    }
  }
  return table([
    "runtime",
    "measurement",
    "per s (median)",
    "ratio",
    "pairwise",
    "srv CPU us",
    "client CPU us",
    "CPU ratio",
  ], rows);
}

function wsVerdicts(results: Map<Runtime, WsResults>): string[] {
  const lines: string[] = [];
  for (const [runtime, { series, idle }] of results) {
    const rate = (kind: WsKind) => median(series[kind]!.map((r) => r.rate));
    const verdict = (ratio: number, target: number) =>
      `${formatRatio(ratio)} (target >= ${target.toFixed(2)}: ${
        ratio >= target ? "met" : "MISSED"
      })`;
    lines.push(
      `${runtime}: unary over WebSocket / raw echo round trips ${
        verdict(rate("unary microapi") / rate("unary raw"), WS_UNARY_TARGET)
      }; server streaming / raw ${
        verdict(rate("stream microapi") / rate("stream raw"), WS_STREAM_TARGET)
      }, / raw batched ${
        formatRatio(rate("stream microapi") / rate("stream raw batched"))
      }; bidi echo / raw ${verdict(rate("bidi microapi") / rate("bidi raw"), WS_STREAM_TARGET)}.`,
    );
    const perStream = (idle.full - idle.oneEach) / (idle.streams - idle.sockets);
    lines.push(
      `${runtime}: server RSS with ${idle.streams} idle streams on ${idle.sockets} sockets: ${
        mb(idle.full)
      } (fresh server ${mb(idle.fresh)}; ${mb(idle.oneEach)} with one stream per socket), about ${
        (perStream / 1024).toFixed(1)
      } KiB per idle stream.`,
    );
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------

function log(line: string): void {
  console.log(line);
}

async function main(): Promise<void> {
  const options = parseOptions(Deno.args);
  const root = new URL("..", import.meta.url).pathname;
  const cores = navigator.hardwareConcurrency;
  const taskset = cores >= 2 ? which("taskset") : undefined;
  const bun = which("bun") ??
    (() => {
      const local = `${root}.tools/node_modules/.bin/bun`;
      try {
        return Deno.statSync(local).isFile ? local : undefined;
      } catch {
        return undefined;
      }
    })();
  let runtimes = options.runtimes ?? (bun ? ["deno", "bun"] : ["deno"]) as Runtime[];
  if (runtimes.includes("bun") && !bun) {
    if (options.runtimes) throw new Error("--runtime bun: bun not found on PATH or in .tools/");
    runtimes = runtimes.filter((r) => r !== "bun");
  }
  const serverFlags: string[] = [];
  if (options.cpuProf) {
    Deno.mkdirSync(options.cpuProf, { recursive: true });
    serverFlags.push("--cpu-prof", `--cpu-prof-dir=${Deno.realPathSync(options.cpuProf)}`);
  }
  const launch: Launch = { root, deno: Deno.execPath(), bun, taskset, serverFlags };

  const doUnary = options.only === undefined || options.only === "unary";
  const doStream = options.only === undefined || options.only === "stream";
  const doWs = options.only === undefined || options.only === "ws";
  const wrk = doUnary ? await ensureWrk(log) : undefined;

  const versions = [`Deno ${Deno.version.deno} (V8 ${Deno.version.v8})`];
  if (runtimes.includes("bun")) versions.push(`Bun ${await commandOutput(bun!, ["--version"])}`);
  if (wrk) versions.push(await wrkVersion(wrk));
  const date = new Date().toISOString();
  log(`MicroAPI benchmark, ${date}`);
  log(`${versions.join(", ")}; ${Deno.build.os} ${Deno.osRelease()}`);
  log(`Machine: ${cores} cores, ${cpuModel()}.`);
  if (taskset) {
    log(
      "Server pinned to core 0, load generator (wrk / stream client) pinned to core 1: the load " +
        `generator shares this machine (${cores} cores), it is not a separate box.`,
    );
  } else {
    log(
      `NOT PINNED (${cores < 2 ? "fewer than 2 cores" : "taskset not found"}): server and load ` +
        "generator share the cores freely; treat the figures with extra caution.",
    );
  }
  log("Shared, noisy machine: compare only ratios measured in the same run (rounds interleaved).");

  const unaryResults = new Map<Runtime, UnarySeries>();
  const streamResults = new Map<Runtime, StreamSeries>();
  const wsResults = new Map<Runtime, WsResults>();
  for (const runtime of runtimes) {
    const servers = {
      raw: await ServerProcess.start(launch, runtime, "raw"),
      microapi: await ServerProcess.start(launch, runtime, "microapi"),
    };
    try {
      if (doUnary) {
        log(
          `\n== ${runtime} unary: POST /users/get_user, wrk -t1 -c${options.connections} -d${options.duration}s --latency, ${options.rounds} rounds interleaved`,
        );
        unaryResults.set(runtime, await benchUnary(launch, wrk!, runtime, servers, options));
      }
      if (doStream) {
        log(
          `\n== ${runtime} server streaming: ${
            formatRate(options.messages)
          } messages per call, ${options.streamRounds} rounds interleaved`,
        );
        streamResults.set(runtime, await benchStream(launch, runtime, servers, options));
      }
      if (doWs) {
        log(
          `\n== ${runtime} WebSocket: unary (${options.wsConcurrency} in flight on one socket, ${options.wsSeconds} s), ` +
            `server streaming and bidi echo (${formatRate(options.messages)} messages), ` +
            `${options.wsRounds} rounds interleaved; then memory with ${options.idleStreams} idle streams`,
        );
        wsResults.set(runtime, await benchWs(launch, runtime, servers, options));
      }
    } finally {
      await servers.raw.stop();
      await servers.microapi.stop();
    }
  }

  log(`\n## Results (${date}; ${versions.join(", ")})`);
  if (unaryResults.size > 0) {
    log(
      `\nUnary calls/s, medians of ${options.rounds} interleaved rounds of ${options.duration} s ` +
        `(wrk, ${options.connections} connections; p50/p99 from wrk --latency, median over rounds).`,
    );
    log(
      "ratio = median req/s / median raw req/s; pairwise = median of per-round ratios. " +
        "CPU us/req = server CPU time per request (all threads); CPU ratio = raw's / this one's, " +
        "steadier than req/s on a noisy machine. busy = share of one core used mid-run (server " +
        "near 100% and wrk below it: the server is the bottleneck).\n",
    );
    log(unaryTable(unaryResults));
    log("");
    for (const line of unaryNotes(unaryResults)) log(line);
  }
  if (streamResults.size > 0) {
    log(
      `\nServer streaming, ${formatRate(options.messages)} messages {"username":"u<i>","age":i} ` +
        `per call, median msg/s of ${options.streamRounds} interleaved rounds.`,
    );
    log(
      "vs (c) / vs (d) = ratio of msg/s medians to that raw baseline; pairwise = median of " +
        "per-round ratios. msg/chunk = messages per body chunk the raw client read. srv CPU / client " +
        "CPU = CPU time each process used per call (all threads); time = wall time per call. " +
        "CPU vs (c) / (d) = that baseline's server CPU / this one's (steadier on a noisy " +
        "machine; it ignores the client).\n",
    );
    log(streamTable(streamResults, options.messages));
    log("");
    for (const line of streamVerdicts(streamResults)) log(line);
  }
  if (wsResults.size > 0) {
    log(
      `\nWebSocket, client and server in the same runtime, one socket per client, medians of ` +
        `${options.wsRounds} interleaved rounds. Unary: ${options.wsConcurrency} calls in flight ` +
        `for ${options.wsSeconds} s. Streams: ${formatRate(options.messages)} messages per call.`,
    );
    log(
      "ratio = median rate / the raw baseline's (unary: raw echo; streams: raw at 1 message per " +
        "WebSocket message); pairwise = median of per-round ratios. srv / client CPU us = CPU " +
        "time per call or message (all threads); CPU ratio = raw server's / MicroAPI server's. " +
        "MicroAPI joins frames into one WebSocket message while a producer is busy; the raw " +
        "batched row shows what batching alone gives.\n",
    );
    log(wsTable(wsResults));
    log("");
    for (const line of wsVerdicts(wsResults)) log(line);
  }
  if (options.json) {
    Deno.writeTextFileSync(
      options.json,
      JSON.stringify(
        {
          date,
          versions,
          cores,
          cpu: cpuModel(),
          pinned: Boolean(taskset),
          options,
          unary: Object.fromEntries(unaryResults),
          stream: Object.fromEntries(streamResults),
          ws: Object.fromEntries(wsResults),
        },
        null,
        2,
      ) + "\n",
    );
    log(`\nEvery round's figures: ${options.json}`);
  }
}

await main();
