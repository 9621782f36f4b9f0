import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { WS_PATH } from "../protocol/ws_frames.ts";
import { INTROSPECTION_PATH } from "../schema/introspection.ts";
import { patternWords } from "../schema/pattern.ts";
import { MicroAPI } from "../server/app.ts";
import type { MicroAPIOptions } from "../server/app_options.ts";
import type { Protocol } from "../server/protocol.ts";
import { CONSOLE_PATH } from "../server/console.ts";
import { type Environment, environmentFrom, resolvePublishing } from "../server/publishing.ts";
import type { Server } from "../server/serving.ts";
import type { NatsServer } from "../nats/server.ts";
import { methodSubject } from "../nats/subjects.ts";
import type { CommandSpec, ParsedArgs } from "./_args.ts";
import { type CliContext, CliError, firstLine, UsageError } from "./_context.ts";
import { collectServices, type LoadedServices, loadServices } from "./_load.ts";
import { type ServeSettings, serveSettings, WATCH_CHILD_ENV } from "./_serve_settings.ts";
import { formatTable } from "./_table.ts";
import { watchAndServe } from "./watch.ts";

/** `microapi serve`. */
export const serveCommand: CommandSpec = {
  name: "serve",
  summary: "Serve service modules over HTTP and WebSocket (--watch restarts on changes)",
  usage: "<files|dirs...> [options]",
  description:
    "Loads the modules (a module may export Services or a MicroAPI app; a directory means\n" +
    "every module in it, tests excluded), prints a table of the methods and their routes,\n" +
    "and serves them until interrupted (Ctrl-C).",
  options: [
    {
      name: "port",
      short: "p",
      type: "string",
      value: "<n>",
      description: "The port (default: $PORT, else 8080; 0 picks a free one)",
    },
    {
      name: "host",
      type: "string",
      value: "<name>",
      description: "The interface to bind (default: 127.0.0.1; 0.0.0.0 for every one)",
    },
    {
      name: "cors",
      type: "list",
      value: "<origins>",
      description: "Let web pages from these origins call (comma-separated, or *)",
    },
    {
      name: "introspection",
      type: "boolean",
      negatable: true,
      description: `Publish ${INTROSPECTION_PATH} (default: on unless MICROAPI_ENV or ` +
        "NODE_ENV is production, or cannot be read)",
    },
    {
      name: "console",
      type: "boolean",
      negatable: true,
      description: `Serve the dev console at ${CONSOLE_PATH} (default: on when introspection ` +
        "is, unless in production)",
    },
    {
      name: "connect",
      type: "boolean",
      negatable: true,
      description: "Serve Connect and gRPC-Web at /<package>.<Service>/<Method>, h2c included " +
        "(default: on; --no-connect turns it off)",
    },
    {
      name: "lock",
      type: "string",
      value: "<file>",
      description: "The protobuf field-number lock for Connect (what microapi proto --lock " +
        "writes), so the server numbers fields as the .proto files do",
    },
    {
      name: "nats",
      type: "string",
      value: "<url>",
      description: "Serve over NATS, in a queue group shared with the other processes that do " +
        "(comma-separated URLs for a cluster); HTTP only with --port too",
    },
    {
      name: "queue",
      type: "string",
      value: "<name>",
      description: "The NATS queue group (default: microapi)",
    },
    {
      name: "watch",
      short: "w",
      type: "boolean",
      description: "Restart the server when a file in the served directories changes",
    },
  ],
  positionals: { min: 1, max: Infinity },
  examples: [
    "microapi serve services/ --watch",
    "microapi serve main.ts --port 3000 --cors http://localhost:5173",
    "microapi serve services/ --nats nats://127.0.0.1:4222",
  ],
};

/**
 * Runs `microapi serve`.
 *
 * @param args The parsed arguments.
 * @param ctx The CLI context.
 * @returns The exit code, once the server has stopped.
 */
export async function serve(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const settings = serveSettings(args, ctx);
  if (args.options.watch) {
    if (ctx.embedded) {
      throw new UsageError("--watch needs service files; this program embeds its services");
    }
    return await watchAndServe({ ...settings, inputs: args.positionals }, ctx);
  }
  const loaded = ctx.embedded
    ? collectServices(
      ctx.embedded.modules.map((m) => ({ ...m, explicit: false })),
      ctx.embedded.name,
    )
    : await loadServices(args.positionals, ctx);
  const watchChild = ctx.env(WATCH_CHILD_ENV) === "1";
  const { app, introspection, console: devConsole, environment, connect } = await createApp(
    loaded,
    settings,
    ctx,
  );
  const gracePeriodMs = watchChild ? 500 : 10_000;
  let server: Server | undefined;
  let nats: NatsServer | undefined;
  try {
    if (settings.nats !== undefined) {
      // Loaded here, not at the top: no other command needs the NATS client library.
      const { serveNats } = await import("../nats/mod.ts");
      nats = await serveNats(app, {
        servers: settings.nats,
        ...(settings.queue === undefined ? {} : { queue: settings.queue }),
        gracePeriodMs,
      });
    }
    if (settings.http) {
      server = await app.serve({
        port: settings.port,
        hostname: settings.host,
        gracePeriodMs,
        // Connect's bidi streams and buf curl's reflection want HTTP/2 (h2c) too.
        http2: connect !== undefined,
      });
    }
  } catch (error) {
    await nats?.shutdown({ gracePeriodMs: 0 }).catch(() => {});
    throw new CliError(
      `${settings.nats !== undefined && !nats ? "NATS: " : ""}${firstLine(error)}`,
    );
  }
  ctx.out(
    startupTable(
      loaded,
      app,
      { http: server?.url, nats },
      { introspection, console: devConsole, environment, connect },
      settings.cors,
    ),
  );
  await new Promise<void>((resolve) => {
    const stop = ctx.stopSignal();
    if (stop.aborted) resolve();
    stop.addEventListener("abort", () => resolve(), { once: true });
  });
  ctx.err("Shutting down");
  // NATS first: the process leaves its queue groups and finishes those calls, then HTTP.
  await nats?.shutdown();
  await server?.shutdown();
  return 0;
}

/** What `serve` serves of Connect: nothing, or the first procedure and whether it publishes. */
interface ConnectServed {
  /** A procedure to show, `/users.v1.Users/GetUser`. */
  readonly example: string | undefined;
  /** Where the descriptors are published (with reflection), or undefined when they are not. */
  readonly descriptors: string | undefined;
}

/** The app for the loaded services: an exported app's options, overridden by the command line. */
async function createApp(
  loaded: LoadedServices,
  settings: ServeSettings,
  ctx: CliContext,
): Promise<{
  app: MicroAPI;
  introspection: boolean;
  console: boolean;
  environment: Environment;
  connect: ConnectServed | undefined;
}> {
  const base: Partial<MicroAPIOptions> = loaded.app?.options ?? {};
  const names = new Map<object, string>(loaded.schemaNames);
  for (const [schema, name] of base.schemaNames ?? []) names.set(schema, name);
  // The app's own rules (src/server/publishing.ts), with the environment as the CLI reads it.
  const environment = environmentFrom(ctx.env);
  const cors = settings.cors === undefined
    ? base.cors
    : { origins: settings.cors.includes("*") ? "*" as const : settings.cors };
  let publishing: ReturnType<typeof resolvePublishing>;
  try {
    publishing = resolvePublishing({
      introspection: settings.introspection ?? base.introspection,
      console: settings.console ?? base.console,
    }, environment);
  } catch (error) {
    throw new CliError(firstLine(error));
  }
  const { introspection, console: devConsole } = publishing;
  const own = base.protocols ?? [];
  const hasConnect = own.some((protocol) => protocol.name === "connect");
  const make = (protocols: readonly Protocol[]) =>
    new MicroAPI({
      ...base,
      services: loaded.services,
      schemaNames: names,
      introspection,
      console: devConsole,
      ...(cors ? { cors } : {}),
      protocols,
    });
  try {
    if (settings.connect === false || hasConnect) {
      const app = make(settings.connect === false ? own.filter((p) => p.name !== "connect") : own);
      const connect = settings.connect !== false && hasConnect
        ? await connectServed(app, introspection)
        : undefined;
      return { app, introspection, console: devConsole, environment, connect };
    }
    // Loaded here, not at the top: only Connect needs @bufbuild/protobuf, which a project that
    // vendors the library with zod alone does not have.
    let lib: typeof import("../connect/mod.ts");
    try {
      lib = await import("../connect/mod.ts");
    } catch (error) {
      ctx.err(
        `Connect is off: ${
          firstLine(error)
        } (install @bufbuild/protobuf for it, or pass --no-connect to silence this)`,
      );
      return {
        app: make(own),
        introspection,
        console: devConsole,
        environment,
        connect: undefined,
      };
    }
    const { connect, parseLock } = lib;
    let lock;
    if (settings.lock !== undefined) {
      const path = resolve(ctx.cwd, settings.lock);
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch {
        throw new UsageError(`Cannot read the lock ${settings.lock}: no such file`);
      }
      try {
        lock = parseLock(JSON.parse(text), settings.lock);
      } catch (error) {
        throw new UsageError(firstLine(error));
      }
    }
    try {
      const app = make([...own, connect(lock ? { lock } : {})]);
      return {
        app,
        introspection,
        console: devConsole,
        environment,
        connect: await connectServed(app, introspection),
      };
    } catch (error) {
      if (!(error instanceof TypeError) || /CORS/.test(String(error))) throw error;
      // A schema protobuf cannot carry: serve the rest, and say why Connect is off.
      ctx.err(`Connect is off: ${firstLine(error)} (pass --no-connect to silence this)`);
      return {
        app: make(own),
        introspection,
        console: devConsole,
        environment,
        connect: undefined,
      };
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw (settings.cors && /CORS/.test(String(error)))
      ? new UsageError(firstLine(error))
      : new CliError(firstLine(error));
  }
}

/** What to print about Connect for an app that serves it. */
async function connectServed(app: MicroAPI, publish: boolean): Promise<ConnectServed> {
  const { packageName, pascalName } = await import("../protobuf/names.ts");
  const { DESCRIPTOR_SET_PATH } = await import("../protobuf/descriptor.ts");
  const service = [...app.options.services].find((s) => s.methods.length > 0);
  const method = service?.methods[0];
  const example = service && method
    ? `/${packageName(service.name, service.version)}.${pascalName(service.name)}/${
      pascalName(method.name)
    }`
    : undefined;
  return { example, descriptors: publish ? DESCRIPTOR_SET_PATH : undefined };
}

function startupTable(
  loaded: LoadedServices,
  app: MicroAPI,
  served: { http: string | undefined; nats: NatsServer | undefined },
  published: {
    introspection: boolean;
    console: boolean;
    environment: Environment;
    connect: ConnectServed | undefined;
  },
  cors: readonly string[] | undefined,
): string {
  const document = app.describe();
  const basePath = document.basePath ?? "";
  const { http: url, nats } = served;
  const rows = document.services.flatMap((service) =>
    service.methods.map((method) => [
      service.version === undefined ? service.name : `${service.name} v${service.version}`,
      method.name + (method.deprecated ?? service.deprecated ? " (deprecated)" : ""),
      patternWords(method.pattern),
      ...(url ? [`POST ${basePath}${method.path}`] : []),
      ...(nats
        ? [
          methodSubject(nats.prefix, {
            service: service.name,
            method: method.name,
            version: service.version,
          }),
        ]
        : []),
    ])
  );
  const count = document.services.length;
  const lines = [
    `${count} service${count === 1 ? "" : "s"} from ${loaded.modules.join(", ")}`,
    "",
    formatTable([
      "service",
      "method",
      "pattern",
      ...(url ? ["route"] : []),
      ...(nats ? ["NATS subject"] : []),
    ], rows),
    "",
  ];
  if (url) {
    if (app.options.websocket !== false) {
      lines.push(`WebSocket: ${url.replace(/^http/, "ws")}${basePath}${WS_PATH}`);
    }
    if (published.introspection) {
      lines.push(`Introspection: ${url}${basePath}${INTROSPECTION_PATH}`);
    }
    if (app.health) lines.push(`Health: ${url}${basePath}/_microapi/health`);
    if (published.console) lines.push(`Console: ${url}${basePath}${CONSOLE_PATH}`);
    const connect = published.connect;
    if (connect) {
      const example = connect.example ? `, such as ${url}${basePath}${connect.example}` : "";
      lines.push(`Connect and gRPC-Web: ${url}${basePath}/<package>.<Service>/<Method>${example}`);
      if (connect.descriptors) {
        lines.push(
          `Protobuf: ${url}${basePath}${connect.descriptors} and gRPC reflection ` +
            "(buf curl --reflect)",
        );
      }
    }
    if (cors) lines.push(`CORS origins: ${cors.join(", ")}`);
  }
  if (published.environment === "unreadable") {
    // Fail closed: nothing meant for development is published, and the operator is told why.
    const off = [
      ...(published.introspection ? [] : [["introspection", "--introspection"]]),
      ...(published.console ? [] : [["the console", "--console"]]),
    ];
    const what = off.map(([name]) => name).join(" and ");
    const flags = off.map(([, flag]) => flag).join(", ");
    lines.push(
      "Production assumed: cannot read MICROAPI_ENV or NODE_ENV (Deno needs " +
        "--allow-env=MICROAPI_ENV,NODE_ENV)" +
        (off.length ? `; ${what} ${off.length > 1 ? "are" : "is"} off (${flags})` : ""),
    );
  }
  if (nats) {
    lines.push(
      `NATS: ${nats.servers}, queue group ${nats.queue}` +
        (url ? "" : " (no HTTP: add --port to serve it too)"),
    );
  }
  lines.push(
    url ? `Listening on ${url}${basePath} (Ctrl-C to stop)` : `Serving over NATS (Ctrl-C to stop)`,
  );
  return lines.join("\n");
}
