/**
 * MicroAPI benchmark: every measurement against the runtime's raw server doing the same work,
 * measured in the same run, rounds interleaved; see bench/README.md.
 *
 * - unary: req/s, latency and server CPU per request (wrk), MicroAPI and the peer frameworks;
 * - stream: HTTP server-streaming messages/s;
 * - ws: WebSocket unary, server streaming, bidi echo, and memory with idle streams;
 * - nats: unary and server streaming over NATS, 1 and 2 server processes, against raw @nats-io
 *   request/reply and MicroAPI over HTTP;
 * - client: MicroAPI's generated client against raw fetch and WebSocket loops;
 * - startup: process start to first answered call, and idle RSS;
 * - connections: server memory per idle keep-alive HTTP connection.
 *
 * Usage: deno task bench [--quick] [--only LIST] [--runtime deno|bun|all] [--peers LIST] ...
 * (`--help` lists every option).
 */

import { benchClients, type ClientSeries, clientTable, generateClient } from "./clients.ts";
import {
  type ConnectionMemory,
  type ConnectionResults,
  connectionTable,
  idleConnections,
  roomForConnections,
} from "./connections.ts";
import { type Benchmark, parseOptions } from "./options.ts";
import { preparePeers } from "./peer_setup.ts";
import { type Launch, type Runtime, ServerProcess } from "./processes.ts";
import { formatRate } from "./stats.ts";
import {
  benchStartup,
  type Binaries,
  compileBinaries,
  type StartupSeries,
  startupTable,
} from "./startup.ts";
import { benchStream, type StreamSeries, streamTable, streamVerdicts } from "./stream.ts";
import type { Peer, ServerKind } from "./targets.ts";
import {
  benchUnary,
  unaryKinds,
  unaryNotes,
  type UnarySeries,
  type UnaryServers,
  unaryTable,
} from "./unary.ts";
import { commandOutput, log } from "./util.ts";
import { ensureWrk, which, wrkVersion } from "./wrk.ts";
import { benchWs, type WsResults, wsTable, wsVerdicts } from "./ws.ts";
import { benchNats, type NatsSeries, natsTable } from "./nats.ts";

function cpuModel(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    return info.match(/^model name\s*:\s*(.*)$/m)?.[1]?.trim() ?? "unknown CPU";
  } catch {
    return "unknown CPU";
  }
}

function findBun(root: string): string | undefined {
  const found = which("bun");
  if (found) return found;
  const local = `${root}.tools/node_modules/.bin/bun`;
  try {
    return Deno.statSync(local).isFile ? local : undefined;
  } catch {
    return undefined;
  }
}

async function stopAll(servers: Iterable<ServerProcess>): Promise<void> {
  await Promise.all([...servers].map((server) => server.stop()));
}

async function main(): Promise<void> {
  const started = performance.now();
  const options = parseOptions(Deno.args);
  const root = new URL("..", import.meta.url).pathname;
  const cores = navigator.hardwareConcurrency;
  const taskset = cores >= 2 ? which("taskset") : undefined;
  const bun = findBun(root);
  let runtimes = options.runtimes ??
    (bun ? ["deno", "bun"] : ["deno"]) as Runtime[];
  if (runtimes.includes("bun") && !bun) {
    if (options.runtimes) {
      throw new Error("--runtime bun: bun not found on PATH or in .tools/");
    }
    runtimes = runtimes.filter((r) => r !== "bun");
  }
  const serverFlags: string[] = [];
  if (options.cpuProf) {
    Deno.mkdirSync(options.cpuProf, { recursive: true });
    serverFlags.push("--cpu-prof", `--cpu-prof-dir=${Deno.realPathSync(options.cpuProf)}`);
  }
  const launch: Launch = {
    root,
    deno: Deno.execPath(),
    bun,
    taskset,
    serverFlags,
  };
  const does = (benchmark: Benchmark) => options.only.has(benchmark);
  const peers: Peer[] = does("unary") || does("startup") ? options.peers : [];

  const wrk = does("unary") ? await ensureWrk(log) : undefined;
  const peerVersions = peers.length > 0
    ? await preparePeers(root, runtimes.includes("bun") ? bun : undefined)
    : undefined;

  const versions = [`Deno ${Deno.version.deno} (V8 ${Deno.version.v8})`];
  if (runtimes.includes("bun")) {
    versions.push(`Bun ${await commandOutput(bun!, ["--version"])}`);
  }
  if (wrk) versions.push(await wrkVersion(wrk));
  const date = new Date().toISOString();
  log(`MicroAPI benchmark, ${date}${options.quick ? " (--quick: a smoke run, not figures)" : ""}`);
  log(`${versions.join(", ")}; ${Deno.build.os} ${Deno.osRelease()}`);
  if (peerVersions) log(`Peers: ${peerVersions} (bench/npm/package.json)`);
  log(`Machine: ${cores} cores, ${cpuModel()}.`);
  if (taskset) {
    log(
      "Server pinned to core 0, load generator (wrk / client) pinned to core 1: the load " +
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
  const clientResults = new Map<Runtime, ClientSeries>();
  const natsResults = new Map<Runtime, NatsSeries>();
  let startupResults: StartupSeries | undefined;
  const connectionResults: ConnectionResults = new Map();

  const generated = does("client") ? await generateClient(launch) : undefined;
  try {
    for (const runtime of runtimes) {
      if (
        !["unary", "stream", "ws", "nats", "client"].some((b) => does(b as Benchmark))
      ) break;
      const started = new Map<string, ServerProcess>();
      try {
        // The Connect-ES peer streams too (the stream benchmark's Connect comparison).
        const streamPeers = does("stream") && peers.includes("connect") ? ["connect"] : [];
        const kinds = [
          "raw",
          "microapi",
          ...(does("unary") || does("stream") ? ["microapi_connect"] : []),
          ...new Set([...(does("unary") ? peers : []), ...streamPeers]),
        ] as ServerKind[];
        for (const kind of kinds) {
          started.set(kind, await ServerProcess.start(launch, runtime, kind));
        }
        const servers = Object.fromEntries(started) as unknown as UnaryServers;
        if (does("unary")) {
          log(
            `\n== ${runtime} unary: POST get_user, wrk -t1 -c${options.connections} -d${options.duration}s --latency, ${options.rounds} round(s) interleaved: ${
              unaryKinds(peers).join(", ")
            }`,
          );
          unaryResults.set(runtime, await benchUnary(launch, wrk!, servers, options));
        }
        if (does("stream")) {
          log(
            `\n== ${runtime} server streaming: ${
              formatRate(options.messages)
            } messages per call, ${options.streamRounds} round(s) interleaved`,
          );
          streamResults.set(runtime, await benchStream(launch, runtime, servers, options));
        }
        if (does("ws")) {
          log(
            `\n== ${runtime} WebSocket: unary (${options.wsConcurrency} in flight on one socket, ${options.wsSeconds} s), ` +
              `server streaming and bidi echo (${formatRate(options.messages)} messages), ` +
              `${options.wsRounds} round(s) interleaved; then memory with ${options.idleStreams} idle streams`,
          );
          wsResults.set(runtime, await benchWs(launch, runtime, servers, options));
        }
        if (does("nats")) {
          log(
            `\n== ${runtime} NATS: unary (${options.wsConcurrency} in flight, ${options.wsSeconds} s) and ` +
              `server streaming (${
                formatRate(options.messages)
              } messages), 1 and 2 server processes, ` +
              `${options.wsRounds} round(s) interleaved`,
          );
          natsResults.set(runtime, await benchNats(launch, runtime, servers.microapi.url, options));
        }
        if (does("client")) {
          log(
            `\n== ${runtime} clients: generated client against raw loops, ${options.clientConcurrency} calls in flight, ` +
              `${options.clientSeconds} s, ${options.clientRounds} round(s) interleaved`,
          );
          clientResults.set(
            runtime,
            await benchClients(launch, runtime, servers, generated!.module, options),
          );
        }
      } finally {
        await stopAll(started.values());
      }
    }
  } finally {
    if (generated) await Deno.remove(generated.dir, { recursive: true });
  }

  if (does("startup")) {
    log(
      `\n== start-up: process start to first answered call, then idle RSS after ${options.settleMs} ms; ` +
        `${options.startupRounds} round(s) interleaved`,
    );
    let binaries: Binaries | undefined;
    if (bun) {
      binaries = await compileBinaries(launch);
    } else {
      log(
        "  bun not found: no compiled executables (deno task compile and microapi build need it)",
      );
    }
    try {
      startupResults = await benchStartup(launch, runtimes, binaries, options);
    } finally {
      if (binaries) await Deno.remove(binaries.dir, { recursive: true });
    }
  }

  if (does("connections")) {
    const count = await roomForConnections(options.idleConnections);
    log(
      `\n== idle keep-alive HTTP connections: ${count} per server, each after one call; RSS ` +
        `after ${options.settleMs} ms idle`,
    );
    for (const runtime of runtimes) {
      const byKind: Partial<Record<ServerKind, ConnectionMemory>> = {};
      for (const kind of ["raw", "microapi"] as const) {
        byKind[kind] = await idleConnections(launch, runtime, kind, count, options.settleMs);
      }
      connectionResults.set(runtime, byKind);
    }
  }

  log(`\n## Results (${date}; ${versions.join(", ")})`);
  if (unaryResults.size > 0) {
    log(
      `\nUnary calls/s, medians of ${options.rounds} interleaved round(s) of ${options.duration} s ` +
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
        `per call, median msg/s of ${options.streamRounds} interleaved round(s).`,
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
        `${options.wsRounds} interleaved round(s). Unary: ${options.wsConcurrency} calls in flight ` +
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
  if (natsResults.size > 0) {
    log(
      `\nNATS, client and servers in the same runtime, one nats-server, medians of ${options.wsRounds} ` +
        "interleaved round(s); servers on core 0 (both of the 2 processes), client on core 1. " +
        "ratio = MicroAPI / raw @nats-io with as many processes.",
    );
    log(natsTable(natsResults));
  }
  if (clientResults.size > 0) {
    log(
      `\nClients, ${options.clientConcurrency} unary calls in flight for ${options.clientSeconds} s, ` +
        `medians of ${options.clientRounds} interleaved round(s); client on core 1, server on core 0. ` +
        "HTTP: both clients call the raw server. WebSocket: the raw loop calls the raw echo server, " +
        "the generated client MicroAPI's.",
    );
    log(
      "ratio = calls/s / the raw loop's; CPU ratio = the raw loop's client CPU per call / this " +
        "one's.\n",
    );
    log(clientTable(clientResults));
  }
  if (startupResults) {
    log(
      `\nStart-up: process start to the first correct answer of POST get_user, medians of ` +
        `${options.startupRounds} round(s); CPU until then = the process's CPU time at that ` +
        `moment; idle RSS = after ${options.settleMs} ms idle. vs raw = against the raw server ` +
        "started the same way (compiled: the raw server compiled with bun build --compile).\n",
    );
    log(startupTable(startupResults));
  }
  if (connectionResults.size > 0) {
    log(
      "\nIdle keep-alive HTTP connections: server RSS before and with them (each connection made " +
        "one call and stays open); per connection = the difference / connections.\n",
    );
    log(connectionTable(connectionResults));
  }
  if (options.json) {
    const startup = startupResults
      ? Object.fromEntries(
        [...startupResults].map((
          [key, value],
        ) => [key.replace("\t", ": "), value]),
      )
      : {};
    Deno.writeTextFileSync(
      options.json,
      JSON.stringify(
        {
          date,
          versions,
          peers: peerVersions,
          cores,
          cpu: cpuModel(),
          pinned: Boolean(taskset),
          options: { ...options, only: [...options.only] },
          unary: Object.fromEntries(unaryResults),
          stream: Object.fromEntries(streamResults),
          ws: Object.fromEntries(wsResults),
          client: Object.fromEntries(clientResults),
          nats: Object.fromEntries(natsResults),
          startup,
          connections: Object.fromEntries(connectionResults),
        },
        null,
        2,
      ) + "\n",
    );
    log(`\nEvery round's figures: ${options.json}`);
  }
  log(`\nDone in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
}

await main();
