import { type ChildProcess, spawn } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import process from "node:process";
import { type CliContext, CliError } from "./_context.ts";
import { findModules } from "./_load.ts";
import { type ServeSettings, WATCH_CHILD_ENV } from "./_serve_settings.ts";

/** How often the watched files are checked. */
const POLL_MS = 250;
/** How long changes must settle before a restart (an editor saving several files). */
const SETTLE_MS = 100;
const WATCHED_FILE = /\.(ts|tsx|mts|js|jsx|mjs|json|jsonc)$/;

/**
 * Runs the server in a child process and restarts it whenever a file under the served paths
 * changes (for a file, its directory counts). A fresh process is the only way to reload a module
 * graph on both runtimes: neither can evict modules from its cache.
 *
 * The port stays the same across restarts (port 0 is resolved to a free port first). The child
 * exits when this process goes away (its stdin closes), so it can never be orphaned holding the
 * port. A child that fails to start (a syntax error, say) is reported and the next change retries.
 *
 * @param settings The service files and directories; port, host, CORS, introspection.
 * @param ctx The CLI context.
 * @returns The exit code, once stopped.
 */
export async function watchAndServe(
  settings: ServeSettings & { readonly inputs: readonly string[] },
  ctx: CliContext,
): Promise<number> {
  const { inputs } = settings;
  await findModules(inputs, ctx); // a missing path fails now, as without --watch
  const roots = [
    ...new Set(
      await Promise.all(inputs.map(async (input) => {
        const path = isAbsolute(input) ? input : resolve(ctx.cwd, input);
        return (await stat(path)).isFile() ? dirname(path) : path;
      })),
    ),
  ];
  const port = settings.port === 0 ? await freePort(settings.host) : settings.port;
  const args = [
    "serve",
    ...inputs,
    ...(settings.http ? ["--port", String(port)] : []),
    "--host",
    settings.host,
    ...(settings.cors ? ["--cors", settings.cors.join(",")] : []),
    ...(settings.introspection === undefined
      ? []
      : [settings.introspection ? "--introspection" : "--no-introspection"]),
    ...(settings.console === undefined ? [] : [settings.console ? "--console" : "--no-console"]),
    ...(settings.connect === undefined ? [] : [settings.connect ? "--connect" : "--no-connect"]),
    ...(settings.lock === undefined ? [] : ["--lock", settings.lock]),
    ...(settings.nats === undefined ? [] : ["--nats", settings.nats]),
    ...(settings.queue === undefined ? [] : ["--queue", settings.queue]),
  ];
  const [command, ...commandArgs] = ctx.selfCommand(args);
  const stop = ctx.stopSignal();
  const shown = roots.map((root) => relative(ctx.cwd, root) || ".").join(", ");
  ctx.err(`Watching ${shown} for changes`);

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = () => {
    const proc = spawn(command!, commandArgs, {
      cwd: ctx.cwd,
      env: { ...processEnv(), [WATCH_CHILD_ENV]: "1" },
      stdio: ["pipe", "inherit", "inherit"],
    });
    child = proc;
    exited = new Promise((resolve) => {
      proc.on("exit", (code, signal) => {
        if (child === proc && !stop.aborted) {
          ctx.err(
            `The server stopped (${signal ?? `exit code ${code}`}); waiting for changes to restart`,
          );
        }
        if (child === proc) child = undefined;
        resolve();
      });
      proc.on("error", (error) => {
        ctx.err(`Cannot start the server: ${error.message}`);
        resolve();
      });
    });
  };
  const halt = async () => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };

  start();
  let snapshot = await scan(roots);
  while (!stop.aborted) {
    await sleep(POLL_MS, stop);
    if (stop.aborted) break;
    if (diff(snapshot, await scan(roots)).length === 0) continue;
    await sleep(SETTLE_MS, stop);
    const next = await scan(roots);
    const changed = diff(snapshot, next);
    snapshot = next;
    if (changed.length === 0 || stop.aborted) continue;
    ctx.err(
      `${changed.slice(0, 3).map((path) => relative(ctx.cwd, path)).join(", ")}${
        changed.length > 3 ? ` and ${changed.length - 3} more` : ""
      } changed: restarting`,
    );
    await halt();
    start();
  }
  await halt();
  return 0;
}

/** This process's environment, for the child. */
function processEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Modification time and size of every watched file. */
async function scan(roots: readonly string[]): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await visit(path);
      else if (WATCHED_FILE.test(entry.name)) {
        const info = await stat(path).catch(() => undefined);
        if (info) files.set(path, `${info.mtimeMs}:${info.size}`);
      }
    }
  };
  for (const root of roots) await visit(root);
  return files;
}

/** The paths added, removed or changed between two scans. */
function diff(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed = new Set<string>();
  for (const [path, version] of after) if (before.get(path) !== version) changed.add(path);
  for (const path of before.keys()) if (!after.has(path)) changed.add(path);
  return [...changed].sort();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** A port nobody listens on right now, for `--port 0` with `--watch`. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on(
      "error",
      (error) => reject(new CliError(`Cannot find a free port: ${error.message}`)),
    );
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
