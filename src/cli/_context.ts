/**
 * What a command gets from the entry point: arguments, output, the environment. Commands never
 * touch `console`, `Deno.exit` or `process.exit`; the entry (`cli.ts`, or a test) provides this.
 */

/** How a command was reached and what it may use. */
export interface CliContext {
  /** The program name used in help and errors: `microapi`, or a built server's file name. */
  readonly program: string;
  /** Writes a line (or lines) to standard output. */
  out(text: string): void;
  /** Writes a line (or lines) to standard error: errors and progress. */
  err(text: string): void;
  /** The working directory relative paths are resolved against. */
  readonly cwd: string;
  /**
   * Reads an environment variable: undefined when it is unset, null when it cannot be read (Deno
   * without `--allow-env` for it).
   */
  env(name: string): string | undefined | null;
  /**
   * A signal that aborts when the process is asked to stop (SIGINT, SIGTERM). Long-running
   * commands (serve) call it; the entry installs the signal handlers only then.
   */
  stopSignal(): AbortSignal;
  /**
   * The command line that runs this same program with other arguments (for `serve --watch`,
   * which runs the server in a child process it restarts).
   */
  selfCommand(args: readonly string[]): string[];
  /** Service modules compiled into this executable (`microapi build`), if any. */
  readonly embedded?: EmbeddedModules;
}

/** A module built into a server by `microapi build`. */
export interface EmbeddedModule {
  /** Its path when the server was built, relative to the directory of the build. */
  readonly label: string;
  /** Its exports. */
  readonly exports: Record<string, unknown>;
  /** True for a module the service modules import, carried for the names of its schemas. */
  readonly namesOnly?: boolean;
}

/** The modules a built server carries. */
export interface EmbeddedModules {
  /** The program's name. */
  readonly name: string;
  /** The modules. */
  readonly modules: readonly EmbeddedModule[];
}

/** A failure the user can act on: reported as one line, exit code 1. */
export class CliError extends Error {
  /** The process exit code. */
  readonly exitCode: number = 1;
  override name = "CliError";
}

/** A command line that does not parse: reported as one line, exit code 2. */
export class UsageError extends CliError {
  override readonly exitCode: number = 2;
  override name = "UsageError";
}

/**
 * The first line of an error's message, for one-line reports.
 *
 * @param error Anything thrown.
 * @returns Its message's first non-empty line.
 */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n").map((line) => line.trim()).find((line) => line !== "") ??
    (error instanceof Error ? error.name : "unknown error");
}
