import { WS_PATH } from "../protocol/ws_frames.ts";
import { INTROSPECTION_PATH } from "../schema/introspection.ts";
import { patternWords } from "../schema/pattern.ts";
import { MicroAPI } from "../server/app.ts";
import type { MicroAPIOptions } from "../server/app_options.ts";
import { CONSOLE_PATH } from "../server/console.ts";
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
        "NODE_ENV is production)",
    },
    {
      name: "console",
      type: "boolean",
      negatable: true,
      description: `Serve the dev console at ${CONSOLE_PATH} (default: on when introspection ` +
        "is, unless in production)",
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
  const { app, introspection, console: devConsole } = createApp(loaded, settings, ctx);
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
      server = await app.serve({ port: settings.port, hostname: settings.host, gracePeriodMs });
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
      { introspection, console: devConsole },
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

/** The app for the loaded services: an exported app's options, overridden by the command line. */
function createApp(
  loaded: LoadedServices,
  settings: ServeSettings,
  ctx: CliContext,
): { app: MicroAPI; introspection: boolean; console: boolean } {
  const base: Partial<MicroAPIOptions> = loaded.app?.options ?? {};
  const names = new Map<object, string>(loaded.schemaNames);
  for (const [schema, name] of base.schemaNames ?? []) names.set(schema, name);
  const production = /^production$/i.test(
    (ctx.env("MICROAPI_ENV") ?? ctx.env("NODE_ENV") ?? "").trim(),
  );
  const introspection = settings.introspection ?? base.introspection ?? !production;
  const devConsole = settings.console ?? base.console ?? (introspection && !production);
  const cors = settings.cors === undefined
    ? base.cors
    : { origins: settings.cors.includes("*") ? "*" as const : settings.cors };
  try {
    const app = new MicroAPI({
      ...base,
      services: loaded.services,
      schemaNames: names,
      introspection,
      console: devConsole,
      ...(cors ? { cors } : {}),
    });
    return { app, introspection, console: devConsole };
  } catch (error) {
    throw (settings.cors && /CORS/.test(String(error)))
      ? new UsageError(firstLine(error))
      : new CliError(firstLine(error));
  }
}

function startupTable(
  loaded: LoadedServices,
  app: MicroAPI,
  served: { http: string | undefined; nats: NatsServer | undefined },
  published: { introspection: boolean; console: boolean },
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
    if (cors) lines.push(`CORS origins: ${cors.join(", ")}`);
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
