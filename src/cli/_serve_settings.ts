import type { ParsedArgs } from "./_args.ts";
import { type CliContext, UsageError } from "./_context.ts";

/**
 * What `serve` and `serve --watch` share: the resolved options, and the variable that tells a
 * server process it runs under `--watch`. Its own file, so that serve.ts and watch.ts (which
 * restarts serve.ts in a child process) do not import each other.
 */

/** Set in the environment of the server process `serve --watch` runs and restarts. */
export const WATCH_CHILD_ENV = "MICROAPI_WATCH_CHILD";

/** The resolved options of `serve`. */
export interface ServeSettings {
  /** The port. */
  readonly port: number;
  /** The interface. */
  readonly host: string;
  /** CORS origins, if given. */
  readonly cors: readonly string[] | undefined;
  /** Whether to publish introspection, if given. */
  readonly introspection: boolean | undefined;
  /** Whether to serve the dev console, if given. */
  readonly console: boolean | undefined;
  /** Whether to serve Connect and gRPC-Web, if given (default on). */
  readonly connect: boolean | undefined;
  /** The protobuf field-number lock file for Connect, if given. */
  readonly lock: string | undefined;
  /** The NATS server(s) to serve over, if given (`--nats`). */
  readonly nats: string | undefined;
  /** The NATS queue group, if given. */
  readonly queue: string | undefined;
  /**
   * Whether to listen for HTTP: always, unless `--nats` is given without `--port` (a process
   * that serves over NATS needs no port of its own).
   */
  readonly http: boolean;
}

/**
 * Reads and checks the options of `serve`.
 *
 * @param args The parsed arguments.
 * @param ctx The CLI context.
 * @returns The settings.
 * @throws {UsageError} For a port that is not a number from 0 to 65535.
 */
export function serveSettings(args: ParsedArgs, ctx: CliContext): ServeSettings {
  const portText = (args.options.port as string | undefined) ?? ctx.env("PORT") ?? "8080";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new UsageError(
      `Invalid port ${JSON.stringify(portText)}: expected a number from 0 to 65535`,
    );
  }
  const introspection = args.options.introspection as boolean | undefined;
  const nats = args.options.nats as string | undefined;
  if (nats !== undefined && !/^(nats|tls|wss?):\/\//i.test(nats.split(",")[0]!.trim())) {
    throw new UsageError(
      `Invalid --nats ${
        JSON.stringify(nats)
      }: expected nats://host:port (or tls://, ws://, wss://)`,
    );
  }
  const queue = args.options.queue as string | undefined;
  if (queue !== undefined && nats === undefined) {
    throw new UsageError("--queue needs --nats: it names the NATS queue group");
  }
  return {
    port,
    host: (args.options.host as string | undefined) ?? "127.0.0.1",
    cors: args.options.cors as string[] | undefined,
    introspection,
    console: args.options.console as boolean | undefined,
    connect: args.options.connect as boolean | undefined,
    lock: args.options.lock as string | undefined,
    nats,
    queue,
    http: nats === undefined || args.options.port !== undefined,
  };
}
