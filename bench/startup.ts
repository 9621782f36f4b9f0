/**
 * The start-up benchmark: the time from process start to the first answered call, and the
 * server's memory once idle, for every way of running a server: `deno run` and `bun` (raw,
 * MicroAPI, the peers), and compiled executables (a raw server compiled with
 * `bun build --compile`, the compiled microapi CLI serving a service file, and a server made by
 * `microapi build`). Rounds interleaved; each start is a fresh process pinned to core 0.
 *
 * The clock starts just before the process is spawned and stops when the first `POST` of the
 * unary call (bench/targets.ts) has been answered correctly; the harness tries to connect every
 * millisecond until then, each try a fresh connection asking `connection: close`. Then, after
 * `--settle-ms` of idleness, the server's RSS is read from /proc, and the process is stopped.
 */

import type { Options } from "./options.ts";
import { cpuSeconds, type Launch, pin, rssBytes, type Runtime } from "./processes.ts";
import { HttpConnection } from "./raw_http.ts";
import { formatRatio, median, table } from "./stats.ts";
import {
  checkUnaryReply,
  type Peer,
  type ServerKind,
  serverLabel,
  UNARY_CALLS,
} from "./targets.ts";
import { freePort, log, mb, sleep } from "./util.ts";

/** Issue 14's targets: start-up within 1.5x of the raw server's, idle RSS within 8 MB of it. */
export const STARTUP_TARGET = 1.5;
/** Bytes (8 MB). */
export const RSS_TARGET = 8e6;

/** How a server was started. */
export type StartupGroup = "deno run" | "bun" | "compiled";

/** One way to start a server. */
interface StartupVariant {
  group: StartupGroup;
  /** The server kind, for the probe (what to call, what it answers). */
  kind: ServerKind;
  label: string;
  /** The command for a port. */
  command(port: number): string[];
  cwd: string;
  /** The label of the raw variant of the same group: the baseline. */
  raw: string;
}

/** One start. */
export interface StartupRound {
  /** Process start to the first answered call, in milliseconds. */
  ms: number;
  /** CPU time the process used until then (all threads), in milliseconds. */
  cpuMs: number;
  /** RSS once idle, in bytes. */
  rss: number;
}

/** Every variant's rounds, by group and label. */
export type StartupSeries = Map<
  string,
  { group: StartupGroup; kind: ServerKind; raw: string; rounds: StartupRound[] }
>;

/** The compiled executables, in a temporary directory. */
export interface Binaries {
  dir: string;
  /** The raw server, `bun build --compile`d: `raw <port>`. */
  raw: string;
  /** The microapi CLI from `deno task compile`. */
  microapi: string;
  /** A server from `microapi build svc.ts`. */
  server: string;
}

/** The service a user would write, for the compiled CLI and `microapi build`. */
const SERVICE = `import { Service, z } from "@microapi/core";

const User = z.object({ username: z.string(), age: z.number().int() });

export const users = new Service("users").method(
  "get_user",
  { input: z.object({ user_id: z.number().int() }), output: User },
  () => ({ username: "alice", age: 30 }),
);
`;

async function step(
  what: string,
  command: string[],
  cwd: string,
): Promise<void> {
  const started = performance.now();
  const { success, stderr, stdout } = await new Deno.Command(command[0]!, {
    args: command.slice(1),
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) {
    const output = new TextDecoder().decode(stderr) +
      new TextDecoder().decode(stdout);
    throw new Error(`${what} failed: ${command.join(" ")}\n${output}`);
  }
  log(`  ${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Compiles the executables the start-up benchmark runs: the microapi CLI (`deno task compile`,
 * which uses Bun), a server built by it from a one-method service file, and the raw server
 * compiled the same way.
 *
 * @param launch Executables (Bun is needed).
 * @returns Their paths; remove `dir` when done.
 * @throws {Error} When a step fails.
 */
export async function compileBinaries(launch: Launch): Promise<Binaries> {
  const dir = await Deno.makeTempDir({ prefix: "microapi-bench-startup-" });
  try {
    const binaries = {
      dir,
      raw: `${dir}/raw`,
      microapi: `${dir}/microapi`,
      server: `${dir}/server`,
    };
    await Deno.writeTextFile(`${dir}/svc.ts`, SERVICE);
    await Deno.writeTextFile(
      `${dir}/raw_entry.ts`,
      `import { serveRaw } from ${JSON.stringify(`${launch.root}bench/servers/raw.ts`)};\n` +
        "const port = serveRaw(Number(process.argv[2] ?? 0));\n" +
        "console.log(`PORT ${port}`);\n",
    );
    await step(
      "deno task compile (the microapi CLI)",
      [launch.deno, "run", "-A", "scripts/compile.ts", "--out", binaries.microapi],
      launch.root,
    );
    await step(
      "microapi build svc.ts",
      [binaries.microapi, "build", "svc.ts", "-o", binaries.server],
      dir,
    );
    await step(
      "bun build --compile of the raw server",
      [launch.bun!, "build", "--compile", "raw_entry.ts", "--outfile", binaries.raw],
      dir,
    );
    return binaries;
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}

/** Every way of starting a server that the options and the machine allow. */
function startupVariants(
  launch: Launch,
  runtimes: readonly Runtime[],
  peers: readonly Peer[],
  binaries: Binaries | undefined,
): StartupVariant[] {
  const variants: StartupVariant[] = [];
  for (const runtime of runtimes) {
    const group: StartupGroup = runtime === "deno" ? "deno run" : "bun";
    const kinds: ServerKind[] = ["raw", "microapi", ...peers];
    for (const kind of kinds) {
      variants.push({
        group,
        kind,
        label: serverLabel(kind, runtime),
        command: (port) =>
          runtime === "deno"
            ? [launch.deno, "run", "-A", "bench/server.ts", kind, String(port)]
            : [launch.bun!, "bench/server.ts", kind, String(port)],
        cwd: launch.root,
        raw: serverLabel("raw", runtime),
      });
    }
  }
  if (binaries) {
    const raw = "raw Bun.serve, bun build --compile";
    variants.push(
      {
        group: "compiled",
        kind: "raw",
        label: raw,
        command: (port) => [binaries.raw, String(port)],
        cwd: binaries.dir,
        raw,
      },
      {
        group: "compiled",
        kind: "microapi",
        label: "compiled microapi CLI: microapi serve svc.ts",
        command: (port) => [binaries.microapi, "serve", "svc.ts", "--port", String(port)],
        cwd: binaries.dir,
        raw,
      },
      {
        group: "compiled",
        kind: "microapi",
        label: "microapi build server: ./server",
        command: (port) => [binaries.server, "--port", String(port)],
        cwd: binaries.dir,
        raw,
      },
    );
  }
  return variants;
}

/** Connection errors that mean "not listening yet" (or not answering yet). */
function notYet(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    /closed the connection/.test(String(error));
}

async function startOnce(
  launch: Launch,
  variant: StartupVariant,
  settleMs: number,
): Promise<StartupRound> {
  const port = freePort();
  const [program, args] = pin(launch, 0, variant.command(port));
  const { path, body } = UNARY_CALLS[variant.kind];
  const started = performance.now();
  const child = new Deno.Command(program, {
    args,
    cwd: variant.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  try {
    let answeredAt: number | undefined;
    while (answeredAt === undefined) {
      if (exited) {
        throw new Error(`${variant.label} exited before answering: ${await stderr}`);
      }
      if (performance.now() - started > 30_000) {
        throw new Error(
          `${variant.label} did not answer within 30 s: ${program} ${args.join(" ")}`,
        );
      }
      let connection: HttpConnection | undefined;
      try {
        connection = await HttpConnection.open(port);
        const reply = await connection.post(path, body, true);
        answeredAt = performance.now();
        const problem = checkUnaryReply(variant.kind, reply.status, reply.body);
        if (problem) throw new Error(`${variant.label}: ${problem}`);
      } catch (error) {
        if (answeredAt !== undefined || !notYet(error)) throw error;
        await sleep(1);
      } finally {
        connection?.close();
      }
    }
    const cpuMs = cpuSeconds(child.pid) * 1000;
    await sleep(settleMs);
    return { ms: answeredAt - started, cpuMs, rss: rssBytes(child.pid) };
  } finally {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch {
        // gone meanwhile
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, 5000);
      await status;
      clearTimeout(timer);
    }
    await stderr.catch(() => "");
  }
}

/**
 * Runs the start-up benchmark: one discarded start of every variant, then interleaved rounds.
 *
 * @param launch Executables and pinning.
 * @param runtimes The runtimes to start servers with.
 * @param binaries The compiled executables, if Bun is there to make them.
 * @param options Rounds, settle time, peers.
 * @returns Every variant's rounds.
 */
export async function benchStartup(
  launch: Launch,
  runtimes: readonly Runtime[],
  binaries: Binaries | undefined,
  options: Options,
): Promise<StartupSeries> {
  const variants = startupVariants(launch, runtimes, options.peers, binaries);
  const series: StartupSeries = new Map();
  log(`  warm-up: one start of each of ${variants.length} servers (discarded)`);
  for (const variant of variants) await startOnce(launch, variant, 0);
  for (let round = 1; round <= options.startupRounds; round++) {
    const parts: string[] = [];
    for (const variant of variants) {
      const result = await startOnce(launch, variant, options.settleMs);
      const key = `${variant.group}\t${variant.label}`;
      let entry = series.get(key);
      if (!entry) {
        series.set(
          key,
          entry = {
            group: variant.group,
            kind: variant.kind,
            raw: variant.raw,
            rounds: [],
          },
        );
      }
      entry.rounds.push(result);
      parts.push(`${variant.label} ${result.ms.toFixed(0)}ms ${mb(result.rss)}`);
    }
    log(`  round ${round}/${options.startupRounds}  ${parts.join(", ")}`);
  }
  return series;
}

/**
 * The start-up table: one row per variant, each against the raw server started the same way.
 *
 * @param series Every variant's rounds.
 * @returns The table.
 */
export function startupTable(series: StartupSeries): string {
  const rows: string[][] = [];
  for (const [key, { group, kind, raw, rounds }] of series) {
    const label = key.split("\t")[1]!;
    const base = series.get(`${group}\t${raw}`)!.rounds;
    const ms = median(rounds.map((r) => r.ms));
    const baseMs = median(base.map((r) => r.ms));
    const rss = median(rounds.map((r) => r.rss));
    const extra = rss - median(base.map((r) => r.rss));
    const own = label === raw;
    rows.push([
      group,
      label,
      `${ms.toFixed(1)}ms`,
      `${Math.min(...rounds.map((r) => r.ms)).toFixed(1)}-${
        Math.max(...rounds.map((r) => r.ms)).toFixed(1)
      }`,
      own ? "-" : formatRatio(ms / baseMs),
      `${median(rounds.map((r) => r.cpuMs)).toFixed(1)}ms`,
      mb(rss),
      own ? "-" : `${extra >= 0 ? "+" : ""}${(extra / 1024 / 1024).toFixed(1)} MiB`,
      own || kind !== "microapi"
        ? ""
        : `targets: start-up <= ${STARTUP_TARGET}x raw ${
          ms / baseMs <= STARTUP_TARGET ? "met" : "MISSED"
        }, RSS <= raw + 8 MB ${extra <= RSS_TARGET ? "met" : "MISSED"}`,
    ]);
  }
  return table([
    "started with",
    "server",
    "to first answer (median)",
    "min-max",
    "vs raw",
    "CPU until then",
    "idle RSS",
    "RSS vs raw",
    "notes",
  ], rows);
}
