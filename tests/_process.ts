/** Starts child processes the same way under Deno and Bun, for tests that need a second process. */
import { runtime } from "./_harness.ts";

const root = new URL("../", import.meta.url).pathname;

/** A running child process. */
/** The part of Bun's API the test helpers use to start processes. */
export interface BunSpawner {
  spawn(argv: string[], options: Record<string, unknown>): {
    stdout: ReadableStream<Uint8Array>;
    stderr: ReadableStream<Uint8Array>;
    kill(signal?: string): void;
    exited: Promise<number>;
    pid: number;
  };
}

/**
 * Bun's global, typed for spawning (the tests run on Bun when there is no Deno).
 *
 * @returns `Bun`.
 */
export function bunRuntime(): BunSpawner {
  return (globalThis as unknown as { Bun: BunSpawner }).Bun;
}

export interface Child {
  /** Its process id (after `exec`, for a child started through bash). */
  readonly pid: number;
  /** Resolves with the first stdout line that parses as JSON (programs print their URL this way). */
  readonly ready: Promise<Record<string, unknown>>;
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
  /**
   * Kills the child.
   *
   * @param signal Default SIGKILL.
   */
  kill(signal?: "SIGKILL" | "SIGTERM"): void;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
}

/**
 * The path of a runtime's binary: the one running this test, or the other one as `deno task test`
 * names it ($MICROAPI_TEST_DENO, $MICROAPI_TEST_BUN: Deno may come from npx, Bun from .tools/),
 * else from .tools/.
 *
 * @param which `deno` or `bun`.
 * @returns The executable's path.
 */
export function runtimeBinary(which: "deno" | "bun"): string {
  const process = (globalThis as unknown as {
    process: { execPath: string; env: Record<string, string | undefined> };
  }).process;
  if (which === runtime) return runtime === "deno" ? Deno.execPath() : process.execPath;
  return process.env[`MICROAPI_TEST_${which.toUpperCase()}`] ??
    `${root}.tools/node_modules/.bin/${which}`;
}

/**
 * Runs a test program under a runtime.
 *
 * @param which The runtime.
 * @param program The program's path under tests/_programs/.
 * @param args Its arguments.
 * @param options `fileLimit`: the most file descriptors the child may open (soft and hard, set
 * with bash's `ulimit -n`, so the runtime cannot raise it).
 * @returns The child.
 */
export function runProgram(
  which: "deno" | "bun",
  program: string,
  args: string[] = [],
  options: { fileLimit?: number } = {},
): Child {
  const path = `${root}tests/_programs/${program}`;
  const argv = which === "deno"
    ? [runtimeBinary("deno"), "run", "-A", "--config", `${root}deno.json`, path, ...args]
    : [runtimeBinary("bun"), path, ...args];
  if (options.fileLimit === undefined) return spawn(argv);
  return spawn(["bash", "-c", `ulimit -n ${options.fileLimit} && exec "$0" "$@"`, ...argv]);
}

/**
 * Runs a command to completion.
 *
 * @param argv The command and its arguments.
 * @param options `env`: variables to set for it, on top of this process's.
 * @returns The exit code and everything it printed.
 */
export async function runCommand(
  argv: string[],
  options: { env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const decoder = new TextDecoder();
  if (runtime === "deno") {
    const out = await new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      cwd: root,
      stdin: "null",
      ...(options.env ? { env: options.env } : {}),
    }).output();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  }
  const bun = (globalThis as unknown as {
    Bun: {
      spawnSync(
        argv: string[],
        options: Record<string, unknown>,
      ): { exitCode: number; stdout: Uint8Array; stderr: Uint8Array };
    };
  }).Bun;
  const out = bun.spawnSync(argv, {
    cwd: root,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    // Bun's env replaces the parent's; Deno's adds to it.
    ...(options.env ? { env: { ...parentEnv(), ...options.env } } : {}),
  });
  return {
    code: out.exitCode,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/**
 * Starts any command (for tests that drive an external program, such as a browser).
 *
 * @param argv The command and its arguments.
 * @returns The child; `ready` is not used for such programs.
 */
export function startCommand(argv: string[]): Child {
  const child = spawn(argv);
  child.ready.catch(() => {});
  return child;
}

function spawn(argv: string[]): Child {
  let stderrText = "";
  let stdout: ReadableStream<Uint8Array>;
  let stderr: ReadableStream<Uint8Array>;
  let kill: (signal: "SIGKILL" | "SIGTERM") => void;
  let exited: Promise<number>;
  let pid: number;
  if (runtime === "deno") {
    const child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      cwd: root,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    pid = child.pid;
    stdout = child.stdout;
    stderr = child.stderr;
    kill = (signal) => {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    };
    exited = child.status.then((status) => status.code);
  } else {
    const bun = bunRuntime();
    const child = bun.spawn(argv, { cwd: root, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    pid = child.pid;
    stdout = child.stdout;
    stderr = child.stderr;
    kill = (signal) => child.kill(signal);
    exited = child.exited;
  }
  const decoder = new TextDecoder();
  (async () => {
    for await (const chunk of stderr) stderrText += decoder.decode(chunk, { stream: true });
  })().catch(() => {});
  const ready = (async () => {
    let buffer = "";
    for await (const chunk of stdout) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) !== -1) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line.startsWith("{")) {
          // Keep draining stdout in the background so the child never blocks on a full pipe.
          (async () => {
            for await (const _ of stdout) { /* discard */ }
          })().catch(() => {});
          return JSON.parse(line) as Record<string, unknown>;
        }
      }
    }
    throw new Error(`the program exited before it was ready: ${stderrText}`);
  })();
  return {
    pid,
    ready,
    stderr: () => stderrText,
    kill: (signal = "SIGKILL") => kill(signal),
    exited,
  };
}

function parentEnv(): Record<string, string | undefined> {
  return (globalThis as unknown as { process: { env: Record<string, string | undefined> } })
    .process.env;
}
