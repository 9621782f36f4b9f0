/** Finding (or installing) wrk, and reading its `--latency` report. */

/** What one wrk run measured. */
export interface WrkResult {
  /** Requests per second over the whole run. */
  rps: number;
  /** Median latency, in milliseconds. */
  p50: number;
  /** 99th percentile latency, in milliseconds. */
  p99: number;
  /** Requests completed. */
  requests: number;
  /** Responses with a status other than 2xx or 3xx. */
  non2xx: number;
  /** Socket errors of any kind (connect, read, write, timeout). */
  socketErrors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function toMs(value: string, unit: string): number {
  return Number(value) * (UNIT_MS[unit] ?? NaN);
}

/**
 * Parses the text wrk prints with `--latency`.
 *
 * @param text wrk's standard output.
 * @returns The figures.
 * @throws {Error} When the report lacks the rate or the latency distribution.
 */
export function parseWrk(text: string): WrkResult {
  const rps = text.match(/Requests\/sec:\s+([\d.]+)/);
  const p50 = text.match(/^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m);
  const p99 = text.match(/^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m);
  const requests = text.match(/(\d+) requests in/);
  if (!rps || !p50 || !p99 || !requests) {
    throw new Error(`Cannot read wrk's report (was --latency given?):\n${text}`);
  }
  const non2xx = text.match(/Non-2xx or 3xx responses:\s+(\d+)/);
  const socket = text.match(
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/,
  );
  return {
    rps: Number(rps[1]),
    p50: toMs(p50[1]!, p50[2]!),
    p99: toMs(p99[1]!, p99[2]!),
    requests: Number(requests[1]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

/**
 * Looks a program up on the PATH.
 *
 * @param name The program.
 * @returns Its path, or undefined.
 */
export function which(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      const path = `${dir}/${name}`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function quiet(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, {
      args,
      stdout: "null",
      stderr: "null",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output();
    return success;
  } catch {
    return false;
  }
}

/**
 * Finds wrk, installing it with apt-get when it is missing (this needs root and Debian or
 * Ubuntu). Says what it does.
 *
 * @param log Where to report.
 * @returns The path of wrk.
 * @throws {Error} With install instructions when wrk is missing and cannot be installed.
 */
export async function ensureWrk(log: (line: string) => void): Promise<string> {
  const found = which("wrk");
  if (found) return found;
  log("wrk not found on PATH: installing it with `apt-get install -y wrk` ...");
  if (which("apt-get")) {
    if (!(await quiet("apt-get", ["install", "-y", "wrk"]))) {
      log("apt-get install failed; running `apt-get update` and trying again ...");
      await quiet("apt-get", ["update"]);
      await quiet("apt-get", ["install", "-y", "wrk"]);
    }
  }
  const installed = which("wrk");
  if (installed) {
    log(`installed ${installed}`);
    return installed;
  }
  throw new Error(
    "The unary benchmark needs wrk (https://github.com/wg/wrk) as its load generator, and it could " +
      "not be installed automatically (apt-get missing, not root, or no network). Install it " +
      "(`sudo apt-get install wrk`, `brew install wrk`, or build it from source) and run again, " +
      "or run only the streaming benchmark with `deno task bench --only stream`.",
  );
}

/**
 * The version line wrk prints.
 *
 * @param wrk The path of wrk.
 * @returns For example `wrk debian/4.1.0-3+b2 [epoll]`.
 */
export async function wrkVersion(wrk: string): Promise<string> {
  const { stdout, stderr } = await new Deno.Command(wrk, { args: ["-v"] }).output().catch(
    () => ({ stdout: new Uint8Array(), stderr: new Uint8Array() }),
  );
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  const line = text.split("\n").find((l) => l.startsWith("wrk")) ?? "wrk (unknown version)";
  return line.replace(/\s*Copyright.*$/, "").trim();
}
