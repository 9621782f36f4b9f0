/**
 * Child processes of the benchmark: servers and clients, each pinned to a core with `taskset`
 * when possible, plus CPU-time and memory readings from /proc.
 */

import type { ServerKind } from "./targets.ts";

/** Which runtime runs a child process. */
export type Runtime = "deno" | "bun";

/** How to start children: executables, and the cores to pin to (undefined: no pinning). */
export interface Launch {
  /** The repository root, the children's working directory. */
  root: string;
  /** The deno executable. */
  deno: string;
  /** The bun executable, if any. */
  bun: string | undefined;
  /** taskset, when pinning is possible. */
  taskset: string | undefined;
  /** Extra runtime flags for server processes (`--cpu-prof`, ...); both runtimes take them. */
  serverFlags: string[];
}

/** Reads a child's output one line at a time. */
export class LineReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  /**
   * Starts reading.
   *
   * @param stream The byte stream (a child's stdout).
   */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(
      new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>,
    ).getReader();
  }

  /**
   * The next line, without its newline.
   *
   * @returns The line, or undefined at the end of the stream.
   */
  async next(): Promise<string | undefined> {
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline !== -1) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) {
        if (this.#buffer === "") return undefined;
        const rest = this.#buffer;
        this.#buffer = "";
        return rest;
      }
      this.#buffer += value;
    }
  }

  /** Stops reading. */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

/**
 * The command line that runs a script on a runtime, pinned to a core.
 *
 * @param launch Executables and pinning.
 * @param runtime The runtime.
 * @param core The core to pin to.
 * @param script The script, relative to the root.
 * @param args Its arguments.
 * @param flags Runtime flags, before the script.
 * @returns The program and its arguments.
 */
export function commandLine(
  launch: Launch,
  runtime: Runtime,
  core: number,
  script: string,
  args: string[],
  flags: string[] = [],
): [string, string[]] {
  const run = runtime === "deno"
    ? [launch.deno, "run", "-A", ...flags, script, ...args]
    : [launch.bun!, ...flags, script, ...args];
  return pin(launch, core, run);
}

/**
 * Prefixes a command with `taskset -c <core>` when pinning is possible.
 *
 * @param launch Whether taskset is available.
 * @param core The core.
 * @param command The program and its arguments.
 * @returns The program and its arguments.
 */
export function pin(launch: Launch, core: number, command: string[]): [string, string[]] {
  const full = launch.taskset ? [launch.taskset, "-c", String(core), ...command] : command;
  return [full[0]!, full.slice(1)];
}

/** A running benchmark server. */
export class ServerProcess {
  readonly url: string;
  readonly pid: number;
  #child: Deno.ChildProcess;

  private constructor(child: Deno.ChildProcess, url: string) {
    this.#child = child;
    this.pid = child.pid;
    this.url = url;
  }

  /**
   * Starts `bench/server.ts <kind>` on core 0 and waits until it listens.
   *
   * @param launch Executables and pinning.
   * @param runtime The runtime.
   * @param kind A kind bench/server.ts knows (bench/targets.ts).
   * @returns The server.
   * @throws {Error} When it exits or prints no port within 30 s.
   */
  static async start(launch: Launch, runtime: Runtime, kind: ServerKind): Promise<ServerProcess> {
    const flags = [...launch.serverFlags];
    if (flags.includes("--cpu-prof")) flags.push(`--cpu-prof-name=${runtime}_${kind}.cpuprofile`);
    const [program, args] = commandLine(launch, runtime, 0, "bench/server.ts", [kind], flags);
    const child = new Deno.Command(program, {
      args,
      cwd: launch.root,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = new LineReader(child.stdout);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), 30_000);
    });
    let port: string | undefined;
    for (;;) {
      const line = await Promise.race([lines.next(), timeout]);
      if (line === undefined) break;
      const match = line.match(/^PORT (\d+)$/);
      if (match) {
        port = match[1];
        break;
      }
    }
    clearTimeout(timer);
    if (!port) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
      throw new Error(`${runtime} server ${kind} did not start: ${program} ${args.join(" ")}`);
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    (async () => {
      while ((await lines.next()) !== undefined) { /* discard */ }
    })().catch(() => {});
    return new ServerProcess(child, `http://127.0.0.1:${port}`);
  }

  /** Stops the server (SIGTERM: it exits cleanly) and waits for it. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.#child.status;
  }
}

/**
 * CPU time a process has used so far, all threads, in seconds: the sum of the run times in
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds), or, where that is missing, utime + stime from
 * /proc/<pid>/stat (1/100 s). Threads that have already exited are not counted.
 *
 * @param pid The process.
 * @returns Seconds, or NaN when unavailable (not Linux, or the process is gone).
 */
export function cpuSeconds(pid: number): number {
  let tasks: Deno.DirEntry[] | undefined;
  try {
    tasks = [...Deno.readDirSync(`/proc/${pid}/task`)];
  } catch {
    // no per-thread figures: fall back to /proc/<pid>/stat
  }
  if (tasks && tasks.length > 0) {
    let ns = 0;
    for (const task of tasks) {
      try {
        const stat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`);
        ns += Number(stat.split(" ")[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    if (Number.isFinite(ns) && ns > 0) return ns / 1e9;
  }
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command name: state is field 3, utime 14, stime 15 (1-based, in clock ticks).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Resident memory of a process, from /proc/<pid>/status.
 *
 * @param pid The process.
 * @returns Bytes, or NaN when unavailable.
 */
export function rssBytes(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1];
    return kb === undefined ? NaN : Number(kb) * 1024;
  } catch {
    return NaN;
  }
}

/**
 * A benchmark client process (bench/stream_client.ts or bench/ws_client.ts), fed one JSON command
 * per line and answering one JSON line per command.
 */
export class ClientProcess {
  /** The client's process id. */
  readonly pid: number;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: LineReader;

  /**
   * Starts the client on core 1.
   *
   * @param launch Executables and pinning.
   * @param runtime The runtime.
   * @param script The client script, relative to the root.
   */
  constructor(launch: Launch, runtime: Runtime, script: string) {
    const [program, args] = commandLine(launch, runtime, 1, script, []);
    this.#child = new Deno.Command(program, {
      args,
      cwd: launch.root,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.pid = this.#child.pid;
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = new LineReader(this.#child.stdout);
  }

  /**
   * Runs one command.
   *
   * @param command What the script expects.
   * @returns Its answer.
   * @throws {Error} When the client reports an error or exits.
   */
  async run<T>(command: object): Promise<T> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(command) + "\n"));
    const line = await this.#lines.next();
    if (line === undefined) throw new Error("the benchmark client exited");
    const answer = JSON.parse(line);
    if (answer.error) throw new Error(`benchmark client: ${answer.error}`);
    return answer;
  }

  /** Closes its input, so it exits, and waits for it. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#lines.cancel();
    await this.#child.status;
  }
}
