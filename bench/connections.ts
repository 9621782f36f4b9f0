/**
 * Memory per idle keep-alive HTTP connection: a fresh server (raw or MicroAPI), its RSS once it
 * has answered one call and sat idle; then N connections, each of which has made one unary call
 * and stays open (keep-alive, nothing in flight); the RSS again. The difference divided by N is
 * what an idle connection costs the server. Afterwards every connection makes a second call, to
 * show how many the server still held open when it was measured (Bun.serve closes connections
 * idle for 10 s by default; Deno.serve has no idle timeout).
 *
 * The connections are the harness's own sockets (bench/raw_http.ts), so both the harness and
 * the server need N file descriptors: the soft limit is raised to the hard one when needed
 * (`prlimit`), and N lowered, with a note, when even that is too low.
 */

import { type Launch, rssBytes, type Runtime, ServerProcess } from "./processes.ts";
import { HttpConnection } from "./raw_http.ts";
import { table } from "./stats.ts";
import { type ServerKind, serverLabel, UNARY_CALLS } from "./targets.ts";
import { log, mb, sleep } from "./util.ts";
import { which } from "./wrk.ts";

/** What one server's measurement found. */
export interface ConnectionMemory {
  /** Connections opened. */
  connections: number;
  /** RSS after one call, idle, bytes. */
  fresh: number;
  /** RSS with every connection open and idle, bytes. */
  full: number;
  /** Time to open the connections and make their first call, in milliseconds. */
  openMs: number;
  /** Connections that answered a second call after the measurement. */
  stillOpen: number;
}

/** Every runtime's measurements, by server kind. */
export type ConnectionResults = Map<
  Runtime,
  Partial<Record<ServerKind, ConnectionMemory>>
>;

/** Connections being opened at once. */
const PARALLEL = 200;
/** File descriptors to keep for everything else. */
const SPARE_FDS = 512;

function openFileLimits(): { soft: number; hard: number } {
  const limits = Deno.readTextFileSync("/proc/self/limits");
  const match = limits.match(/^Max open files\s+(\S+)\s+(\S+)/m);
  const value = (text: string | undefined) =>
    text === undefined ? 1024 : text === "unlimited" ? Infinity : Number(text);
  return { soft: value(match?.[1]), hard: value(match?.[2]) };
}

/**
 * Makes room for `wanted` connections: raises this process's soft file limit (the servers it
 * starts afterwards inherit it) or, when the hard limit is too low, says how many fit.
 *
 * @param wanted Connections asked for.
 * @returns How many connections to open.
 */
export async function roomForConnections(wanted: number): Promise<number> {
  let { soft, hard } = openFileLimits();
  if (soft >= wanted + SPARE_FDS) return wanted;
  const prlimit = which("prlimit");
  if (prlimit && hard > soft) {
    const target = hard === Infinity ? wanted + SPARE_FDS : hard;
    await new Deno.Command(prlimit, {
      args: ["--pid", String(Deno.pid), `--nofile=${target}:${target}`],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => undefined);
    ({ soft, hard } = openFileLimits());
  }
  if (soft >= wanted + SPARE_FDS) return wanted;
  const fits = Math.max(100, soft - SPARE_FDS);
  log(
    `  the open-file limit is ${soft} (hard ${hard}): measuring ${fits} connections instead of ` +
      `${wanted} (raise it with \`ulimit -n\` to measure more)`,
  );
  return fits;
}

/**
 * Measures one server kind on one runtime, on a fresh server process.
 *
 * @param launch Executables and pinning.
 * @param runtime The runtime.
 * @param kind `raw` or `microapi`.
 * @param count Connections to open ({@linkcode roomForConnections}).
 * @param settleMs Idle time before each RSS reading.
 * @returns The figures.
 */
export async function idleConnections(
  launch: Launch,
  runtime: Runtime,
  kind: ServerKind,
  count: number,
  settleMs: number,
): Promise<ConnectionMemory> {
  const server = await ServerProcess.start(launch, runtime, kind);
  const port = Number(new URL(server.url).port);
  const { path, body } = UNARY_CALLS[kind];
  const open: HttpConnection[] = [];
  const call = async (connection: HttpConnection) => {
    const reply = await connection.post(path, body);
    if (reply.status !== 200) {
      throw new Error(`${kind} answered ${reply.status} ${reply.body}`);
    }
  };
  try {
    const first = await HttpConnection.open(port);
    await first.post(path, body, true);
    first.close();
    await sleep(settleMs);
    const fresh = rssBytes(server.pid);
    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: PARALLEL }, async () => {
      while (next < count) {
        next++;
        const connection = await HttpConnection.open(port);
        open.push(connection);
        await call(connection);
      }
    }));
    const openMs = performance.now() - started;
    await sleep(settleMs);
    const full = rssBytes(server.pid);
    let stillOpen = 0;
    let index = 0;
    await Promise.all(Array.from({ length: PARALLEL }, async () => {
      while (index < open.length) {
        const connection = open[index++]!;
        try {
          await call(connection);
          stillOpen++;
        } catch {
          // closed by the server meanwhile
        }
      }
    }));
    const memory = { connections: open.length, fresh, full, openMs, stillOpen };
    log(
      `  ${runtime} ${kind}: server RSS ${mb(fresh)} fresh, ${mb(full)} with ${open.length} idle ` +
        `connections (opened in ${(openMs / 1000).toFixed(1)} s; ${stillOpen} still open after)`,
    );
    return memory;
  } finally {
    for (const connection of open) connection.close();
    await server.stop();
  }
}

/**
 * The idle-connection table: one row per runtime and server.
 *
 * @param results The measurements.
 * @returns The table.
 */
export function connectionTable(results: ConnectionResults): string {
  const rows: string[][] = [];
  for (const [runtime, byKind] of results) {
    for (
      const [kind, m] of Object.entries(byKind) as [ServerKind, ConnectionMemory][]
    ) {
      rows.push([
        runtime,
        serverLabel(kind, runtime),
        String(m.connections),
        mb(m.fresh),
        mb(m.full),
        `${((m.full - m.fresh) / m.connections / 1024).toFixed(1)} KiB`,
        `${m.stillOpen}/${m.connections}`,
      ]);
    }
  }
  return table([
    "runtime",
    "server",
    "connections",
    "RSS fresh",
    "RSS with them",
    "per connection",
    "still open after",
  ], rows);
}
