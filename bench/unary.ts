/**
 * The unary HTTP benchmark: wrk against the raw server, MicroAPI, the peer frameworks and the
 * constant-reply ceiling, rounds interleaved; req/s, p50/p99 and the server's CPU time per
 * request, each as a ratio to raw.
 */

import type { Options } from "./options.ts";
import { cpuSeconds, type Launch, pin, type Runtime, type ServerProcess } from "./processes.ts";
import { formatMs, formatRate, formatRatio, median, pairwise, table } from "./stats.ts";
import {
  BINARY_CALLS,
  BINARY_REPLY,
  BINARY_REQUEST,
  type BinaryKind,
  checkUnaryReply,
  type Peer,
  type ServerKind,
  serverLabel,
  UNARY_CALLS,
} from "./targets.ts";
import { log, pct, sleep } from "./util.ts";
import { parseWrk, type WrkResult } from "./wrk.ts";

/** Issue 14's target: MicroAPI's req/s and CPU per request >= 0.90 of raw, p99 no worse. */
export const UNARY_TARGET = 0.9;

/** One wrk round. */
export interface UnaryRound extends WrkResult {
  /** Server CPU use over the middle of the run, as a fraction of one core. */
  serverCpu: number;
  /** wrk's CPU use over the same window. */
  wrkCpu: number;
  /** Server CPU time per request over the whole run, in microseconds. */
  cpuPerRequest: number;
}

/** A server measured (JSON, or binary protobuf for the Connect ones), or the ceiling. */
export type UnaryKind = ServerKind | BinaryKind | "ceiling";

/** Every kind's rounds, in the order they ran. */
export type UnarySeries = Partial<Record<UnaryKind, UnaryRound[]>>;

/** The servers, started once per runtime. */
export type UnaryServers =
  & { raw: ServerProcess; microapi: ServerProcess; microapi_connect: ServerProcess }
  & Partial<
    Record<Peer, ServerProcess>
  >;

/**
 * The kinds measured, in round order.
 *
 * @param peers The peers asked for.
 * @returns raw, MicroAPI (its protocol, then Connect JSON and binary), the peers (Connect-ES
 * in JSON and binary), the ceiling.
 */
export function unaryKinds(peers: readonly Peer[]): UnaryKind[] {
  return [
    "raw",
    "microapi",
    "microapi_connect",
    "microapi_connect_proto",
    ...peers.flatMap((peer): UnaryKind[] => peer === "connect" ? [peer, "connect_proto"] : [peer]),
    "ceiling",
  ];
}

function isBinary(kind: UnaryKind): kind is BinaryKind {
  return kind in BINARY_CALLS;
}

/** The server, URL, body and content type each unary kind is measured with. */
function unaryTarget(
  kind: UnaryKind,
  servers: UnaryServers,
): { server: ServerProcess; url: string; body: string; contentType?: string } {
  if (kind === "ceiling") {
    return { server: servers.raw, url: `${servers.raw.url}/ceiling`, body: "" };
  }
  if (isBinary(kind)) {
    const call = BINARY_CALLS[kind];
    const server = servers[call.server];
    if (!server) throw new Error(`no ${call.server} server was started`);
    // The request's bytes are ASCII (0x08, "*"): an environment variable carries them as they are.
    const body = String.fromCharCode(...BINARY_REQUEST);
    return { server, url: `${server.url}${call.path}`, body, contentType: "application/proto" };
  }
  const server = servers[kind];
  if (!server) throw new Error(`no ${kind} server was started`);
  const { path, body } = UNARY_CALLS[kind];
  return { server, url: `${server.url}${path}`, body };
}

/**
 * Checks that a Connect server answers the binary call correctly.
 *
 * @param servers The servers.
 * @param kind The binary call.
 * @throws {Error} When the answer is wrong.
 */
export async function checkBinary(servers: UnaryServers, kind: BinaryKind): Promise<void> {
  const call = BINARY_CALLS[kind];
  const response = await fetch(`${servers[call.server]!.url}${call.path}`, {
    method: "POST",
    headers: { "content-type": "application/proto" },
    body: BINARY_REQUEST as Uint8Array<ArrayBuffer>,
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200 || bytes.join() !== BINARY_REPLY.join()) {
    throw new Error(
      `${kind} answered ${response.status} [${bytes.join(" ")}]; expected [${
        BINARY_REPLY.join(" ")
      }]`,
    );
  }
}

/**
 * Checks that a server answers the unary call correctly.
 *
 * @param server The server.
 * @param kind What it is.
 * @throws {Error} When the answer is wrong.
 */
export async function checkUnary(server: ServerProcess, kind: ServerKind): Promise<void> {
  const { path, body } = UNARY_CALLS[kind];
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const problem = checkUnaryReply(kind, response.status, await response.text());
  if (problem) throw new Error(problem);
}

async function runWrk(
  launch: Launch,
  wrk: string,
  target: { server: ServerProcess; url: string; body: string; contentType?: string },
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
    env: {
      ...(target.body === "" ? {} : { WRK_BODY: target.body }),
      ...(target.contentType ? { WRK_CONTENT_TYPE: target.contentType } : {}),
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  // CPU use of both sides over the middle of the run (wrk's pid is taskset's: taskset execs).
  await sleep(Math.min(1000, seconds * 250));
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
  if (!success) {
    throw new Error(`wrk failed: ${new TextDecoder().decode(stderr)}\n${text}`);
  }
  const result = parseWrk(text);
  const cpuPerRequest = (after - before) * 1e6 / result.requests;
  return { ...result, serverCpu, wrkCpu, cpuPerRequest };
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

/**
 * Runs the unary benchmark on one runtime: a warm-up per kind, then interleaved rounds.
 *
 * @param launch Executables and pinning.
 * @param wrk The path of wrk.
 * @param servers The servers, already listening.
 * @param options Rounds, durations, connections, peers.
 * @returns Every kind's rounds.
 */
export async function benchUnary(
  launch: Launch,
  wrk: string,
  servers: UnaryServers,
  options: Options,
): Promise<UnarySeries> {
  const kinds = unaryKinds(options.peers);
  const series: UnarySeries = {};
  for (const kind of kinds) {
    if (isBinary(kind)) await checkBinary(servers, kind);
    else if (kind !== "ceiling") await checkUnary(servers[kind]!, kind);
  }
  if (options.warmup > 0) {
    log(`  warm-up: ${options.warmup} s per server, discarded`);
    for (const kind of kinds) {
      await runWrk(launch, wrk, unaryTarget(kind, servers), options.warmup, options.connections);
    }
  }
  for (let round = 1; round <= options.rounds; round++) {
    for (const kind of kinds) {
      const result = await runWrk(
        launch,
        wrk,
        unaryTarget(kind, servers),
        options.duration,
        options.connections,
      );
      (series[kind] ??= []).push(result);
      log(`  round ${round}/${options.rounds}  ${describeRound(kind, result)}`);
    }
  }
  return series;
}

function label(kind: UnaryKind, runtime: Runtime): string {
  if (kind === "ceiling") return "ceiling: constant reply";
  return isBinary(kind) ? BINARY_CALLS[kind].label : serverLabel(kind, runtime);
}

/**
 * The unary table: one row per runtime and server.
 *
 * @param results Every runtime's rounds.
 * @returns The table.
 */
export function unaryTable(results: Map<Runtime, UnarySeries>): string {
  const rows: string[][] = [];
  for (const [runtime, series] of results) {
    const raw = series.raw ?? [];
    const rawRates = raw.map((r) => r.rps);
    const rawRps = median(rawRates);
    const rawCpu = median(raw.map((r) => r.cpuPerRequest));
    const rawP99 = median(raw.map((r) => r.p99));
    const entries = Object.entries(series) as [UnaryKind, UnaryRound[]][];
    for (const [kind, rounds] of entries) {
      const rates = rounds.map((r) => r.rps);
      const rps = median(rates);
      const cpu = median(rounds.map((r) => r.cpuPerRequest));
      const p99 = median(rounds.map((r) => r.p99));
      const pairs = pairwise(rates, rawRates);
      const errors = rounds.reduce(
        (sum, r) => sum + r.non2xx + r.socketErrors,
        0,
      );
      const notes: string[] = [];
      if (kind === "microapi") {
        const met = (ratio: number) => ratio >= UNARY_TARGET ? "met" : "MISSED";
        notes.push(
          `target >= ${UNARY_TARGET.toFixed(2)}: req/s ${met(rps / rawRps)}, CPU ${
            met(rawCpu / cpu)
          }; p99 ${p99 <= rawP99 ? "no worse than raw" : "WORSE than raw"}`,
        );
      }
      if (kind === "ceiling") notes.push("load-generator check, not a target");
      if (errors > 0) notes.push(`${errors} ERRORS`);
      rows.push([
        runtime,
        label(kind, runtime),
        formatRate(rps),
        formatMs(median(rounds.map((r) => r.p50))),
        formatMs(p99),
        formatRatio(rps / rawRps),
        kind === "raw"
          ? "-"
          : `${formatRatio(median(pairs))} (${formatRatio(Math.min(...pairs))}-${
            formatRatio(Math.max(...pairs))
          })`,
        cpu.toFixed(1),
        formatRatio(rawCpu / cpu),
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

/**
 * What the rounds say beyond the table: the undisturbed pairs of raw and MicroAPI rounds, and
 * whether wrk was the limit (raw against the constant reply).
 *
 * @param results Every runtime's rounds.
 * @returns Lines of text.
 */
export function unaryNotes(results: Map<Runtime, UnarySeries>): string[] {
  const lines: string[] = [];
  for (const [runtime, series] of results) {
    const raw = series.raw ?? [];
    const microapi = series.microapi ?? [];
    const ceiling = series.ceiling ?? [];
    // Pairs of rounds (same round number) in which neither round was disturbed.
    const clean = raw.map((r, i) => ({ raw: r, microapi: microapi[i]! }))
      .filter((p) => p.microapi && !disturbed(p.raw) && !disturbed(p.microapi));
    if (clean.length > 0) {
      const ratios = clean.map((p) => p.microapi.rps / p.raw.rps);
      lines.push(
        `${runtime}: undisturbed pairs (raw and MicroAPI rounds both saturated): ${clean.length} ` +
          `of ${raw.length}; raw ${formatRate(median(clean.map((p) => p.raw.rps)))} req/s, ` +
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
    const checks = raw.map((r, i) => ({ raw: r, ceiling: ceiling[i]! }))
      .filter((p) => p.ceiling && !disturbed(p.raw) && !disturbed(p.ceiling));
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
            "so every ratio to it is if anything overstated, never understated."
          : "The load generator had headroom."),
    );
  }
  return lines;
}
