/**
 * Helpers for the CLI and code generator tests: running `main()` in-process with captured output,
 * running commands as child processes (the same way under Deno and Bun), and temp directories.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "./_harness.ts";
import { bunRuntime, runtimeBinary } from "./_process.ts";
import type { CliContext } from "../src/cli/_context.ts";
import { main } from "../src/cli/main.ts";

/** The repository's root directory, with a trailing slash. */
export const root: string = new URL("../", import.meta.url).pathname;

/** The file URL of the library's entry, for generated code imported by tests. */
export const modUrl: string = new URL("../mod.ts", import.meta.url).href;

/** What a command printed, and its exit code. */
export interface Outcome {
  /** The exit code. */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** A command run in-process with {@linkcode runMain}. */
export interface InProcess {
  /** Resolves when the command returns. */
  readonly done: Promise<Outcome>;
  /** Output so far. */
  stdout(): string;
  /** Errors and progress so far. */
  stderr(): string;
  /** Asks the command to stop, as SIGINT would. */
  stop(): void;
}

/**
 * Runs the CLI's `main()` in this process, with output captured.
 *
 * @param args The arguments.
 * @param options Working directory (default the repository) and environment overrides (null:
 *   a variable that cannot be read, as on Deno without --allow-env).
 * @returns The running command.
 */
export function runMain(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | null> } = {},
): InProcess {
  let stdout = "";
  let stderr = "";
  const controller = new AbortController();
  const ctx: CliContext = {
    program: "microapi",
    out: (text) => (stdout += `${text}\n`),
    err: (text) => (stderr += `${text}\n`),
    cwd: options.cwd ?? root,
    env: (name) => options.env?.[name],
    stopSignal: () => controller.signal,
    selfCommand: (rest) => [...cliArgv(), ...rest],
  };
  const done = main(args, ctx).then((code) => ({ code, stdout, stderr }));
  return {
    done,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: () => controller.abort(),
  };
}

/**
 * Runs the CLI's `main()` in this process and waits for it.
 *
 * @param args The arguments.
 * @param options Working directory and environment.
 * @returns The outcome.
 */
export function cli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Outcome> {
  return runMain(args, options).done;
}

/**
 * The command line that runs cli.ts from source with this test's runtime.
 *
 * @returns The argv prefix.
 */
export function cliArgv(): string[] {
  return runtime === "deno"
    ? [runtimeBinary("deno"), "run", "-A", "--config", `${root}deno.json`, `${root}cli.ts`]
    : [runtimeBinary("bun"), `${root}cli.ts`];
}

/** A child process whose output is collected as it comes. */
export interface Proc {
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /**
   * Waits until stdout or stderr (from `from` characters on) matches.
   *
   * @param pattern What to wait for.
   * @param timeoutMs How long. Default 20 s.
   * @param from Where to start looking in each stream (for a second match).
   * @returns The match.
   */
  waitFor(
    pattern: RegExp,
    timeoutMs?: number,
    from?: { stdout: number; stderr: number },
  ): Promise<RegExpMatchArray>;
  /** Sends a signal. */
  kill(signal?: "SIGTERM" | "SIGKILL" | "SIGINT"): void;
  /** Resolves with the exit code once the process and its output are done. */
  readonly exited: Promise<number>;
}

interface Spawned {
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  kill(signal: string): void;
  exited: Promise<number>;
}

/** Extra environment for a child; `undefined` removes a variable. NO_COLOR=1 unless removed. */
type ChildEnv = Record<string, string | undefined>;

function childEnv(
  processEnv: Record<string, string | undefined>,
  env: ChildEnv,
): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...processEnv, NO_COLOR: "1", ...env })) {
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}

function spawnRaw(argv: string[], cwd: string, env: ChildEnv): Spawned {
  if (runtime === "deno") {
    const child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      cwd,
      clearEnv: true,
      env: childEnv(Deno.env.toObject(), env),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Kept open: a server started by `serve --watch` stops when its stdin closes.
    const stdin = child.stdin.getWriter();
    return {
      stdout: child.stdout,
      stderr: child.stderr,
      kill: (signal) => {
        try {
          child.kill(signal as Deno.Signal);
        } catch {
          // already gone
        }
      },
      exited: child.status.then(async (status) => {
        await stdin.close().catch(() => {});
        return status.code;
      }),
    };
  }
  const bun = bunRuntime();
  const processEnv = (globalThis as unknown as { process: { env: Record<string, string> } })
    .process.env;
  const child = bun.spawn(argv, {
    cwd,
    env: childEnv(processEnv, env),
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  return {
    stdout: child.stdout,
    stderr: child.stderr,
    kill: (s) => child.kill(s),
    exited: child.exited,
  };
}

/**
 * Starts a command.
 *
 * @param argv The command line.
 * @param options Working directory (default the repository) and extra environment (a variable
 *   set to `undefined` is removed; NO_COLOR is 1 unless removed so).
 * @returns The process.
 */
export function start(
  argv: string[],
  options: { cwd?: string; env?: ChildEnv } = {},
): Proc {
  const child = spawnRaw(argv, options.cwd ?? root, options.env ?? {});
  const text = { stdout: "", stderr: "" };
  const waiters = new Set<() => void>();
  const pump = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text[key] += decoder.decode(chunk, { stream: true });
      for (const wake of waiters) wake();
    }
  };
  const pumped = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);
  let finished = false;
  const exited = Promise.all([child.exited, pumped]).then(([code]) => {
    finished = true;
    for (const wake of waiters) wake();
    return code;
  });
  return {
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    waitFor(pattern, timeoutMs = 20_000, from = { stdout: 0, stderr: 0 }) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = text.stdout.slice(from.stdout).match(pattern) ??
            text.stderr.slice(from.stderr).match(pattern);
          if (match) {
            done();
            resolve(match);
          } else if (finished) {
            done();
            reject(
              new Error(
                `exited before printing ${pattern}\nstdout: ${text.stdout}\nstderr: ${text.stderr}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `timed out waiting for ${pattern}\nstdout: ${text.stdout}\nstderr: ${text.stderr}`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    kill: (signal = "SIGTERM") => child.kill(signal),
    exited,
  };
}

/**
 * Runs a command to completion.
 *
 * @param argv The command line.
 * @param options Working directory, extra environment, time limit (default 60 s).
 * @returns The outcome.
 */
export async function run(
  argv: string[],
  options: { cwd?: string; env?: ChildEnv; timeoutMs?: number } = {},
): Promise<Outcome> {
  const proc = start(argv, options);
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

/**
 * A fresh temporary directory, removed by the returned disposer.
 *
 * @param prefix Part of the directory's name.
 * @returns The path, and `[Symbol.asyncDispose]` to remove it.
 */
export async function tempDir(
  prefix = "microapi-test-",
): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/**
 * A TCP port that nothing listens on (bound, then released).
 *
 * @returns The port.
 */
export async function closedPort(): Promise<number> {
  const { createServer } = await import("node:net");
  return await new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The path to the Deno binary, for tests that check generated code with `deno check`, `deno fmt`
 * and `deno lint` under either runtime.
 *
 * @returns The executable.
 */
export function denoBinary(): string {
  return runtimeBinary("deno");
}
