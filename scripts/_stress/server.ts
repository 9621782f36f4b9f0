/**
 * The server the stress scenarios attack: the test fixtures (tests/_programs/fixture_server.ts) in
 * a child process on Deno or Bun, on 127.0.0.1 port 0, with limits low enough that each scenario
 * reaches them in seconds; its resident memory from /proc (bench/processes.ts), and the check that
 * it still answers a normal call.
 */
import { runProgram } from "../../tests/_process.ts";
import { rssBytes } from "../../bench/processes.ts";

/** The runtimes a server can run on. */
export type Runtime = "deno" | "bun";

/**
 * The server's limits (docs/security.md, "Resource limits and timeouts"), lowered from the
 * defaults so that a bounded scenario passes each of them: 64 calls in flight (a flood of 400
 * passes it), 2 s for a body to arrive, 64 sockets, 256 KiB held for a client that does not read,
 * 64 KiB messages.
 */
export const SERVER_OPTIONS = {
  resources: { maxCallsInFlight: 64, bodyTimeoutMs: 2_000 },
  websocket: { maxSockets: 64, maxQueuedBytes: 256 * 1024 },
  limits: { maxMessageBytes: 64 * 1024 },
} as const;

/** Bun's idle timeout for the server (`serve({ idleTimeoutMs })`); Deno has none. */
export const IDLE_TIMEOUT_MS = 2_000;

/** A running server. */
export interface StressServer {
  /** Its runtime. */
  readonly runtime: Runtime;
  /** Its base URL. */
  readonly url: string;
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Its process id. */
  readonly pid: number;
  /** Whether the process has exited. */
  exited(): boolean;
  /** Its exit code, once it has exited. */
  exitCode(): number | undefined;
  /** What it wrote to stderr. */
  stderr(): string;
  /** Kills it and waits until it is gone. */
  stop(): Promise<void>;
}

/**
 * Starts the fixture server and waits until it listens.
 *
 * @param runtime Deno or Bun.
 * @param extra More options for the server program (merged over {@linkcode SERVER_OPTIONS}).
 * @returns The server.
 * @throws {Error} When it does not print its URL within 30 s.
 */
export async function startServer(
  runtime: Runtime,
  extra: Record<string, unknown> = {},
): Promise<StressServer> {
  const options = JSON.stringify({ ...SERVER_OPTIONS, ...extra });
  const child = runProgram(runtime, "fixture_server.ts", ["0", String(IDLE_TIMEOUT_MS), options]);
  let code: number | undefined;
  const exited = child.exited.then((c) => (code = c));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const ready = await Promise.race([
      child.ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no URL within 30 s")), 30_000);
      }),
    ]);
    const url = String(ready.url);
    return {
      runtime,
      url,
      port: Number(new URL(url).port),
      pid: child.pid,
      exited: () => code !== undefined,
      exitCode: () => code,
      stderr: () => child.stderr(),
      stop: async () => {
        child.kill("SIGKILL");
        await exited;
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw new Error(`the ${runtime} server did not start: ${error}\n${child.stderr()}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether the server answers a normal call (`users/get_user`) correctly within 5 s, on a fresh
 * connection.
 *
 * @param url The server's base URL.
 * @returns True when it did.
 */
export async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/users/get_user`, {
      method: "POST",
      headers: { "content-type": "application/json", connection: "close" },
      body: '{"user_id":7}',
      signal: AbortSignal.timeout(5_000),
    });
    return response.status === 200 && (await response.json()).username === "user7";
  } catch {
    return false;
  }
}

/** Resident memory sampled while a scenario runs. */
export interface RssSampler {
  /**
   * Stops sampling.
   *
   * @returns The highest reading, in bytes (NaN if there was none).
   */
  stop(): number;
}

/**
 * Reads a process's resident memory every 50 ms until stopped.
 *
 * @param pid The process.
 * @returns The sampler.
 */
export function sampleRss(pid: number): RssSampler {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    const now = rssBytes(pid);
    if (!(now <= peak)) peak = Number.isNaN(peak) ? now : Math.max(peak, now);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/**
 * Resident memory once a process has settled: the lowest of readings over `ms` (garbage not yet
 * collected is noise, as in bench/memory.ts).
 *
 * @param pid The process.
 * @param ms How long to watch.
 * @returns Bytes (NaN when the process is gone).
 */
export async function settledRss(pid: number, ms: number): Promise<number> {
  let low = Infinity;
  for (let waited = 0; waited <= ms; waited += 250) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = rssBytes(pid);
    if (Number.isNaN(now)) return NaN;
    low = Math.min(low, now);
  }
  return low;
}
