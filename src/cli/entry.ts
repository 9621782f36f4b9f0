import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import process from "node:process";
import { readEnv } from "../server/adapters/env.ts";
import type { CliContext, EmbeddedModule } from "./_context.ts";
import { main } from "./main.ts";
import { WATCH_CHILD_ENV } from "./_serve_settings.ts";

/**
 * Runs the CLI in this process: reads the arguments, wires output, signals and the environment,
 * runs the command and exits with its code. `cli.ts`, the compiled binary and built servers all
 * start here.
 *
 * @param embedded The service modules of a built server, if this is one.
 * @returns Never returns normally: the process exits.
 */
export async function runCli(
  embedded?: readonly EmbeddedModule[],
): Promise<void> {
  let controller: AbortController | undefined;
  const program = embedded ? basename(process.execPath) : "microapi";
  const ctx: CliContext = {
    program,
    out: (text) => console.log(text),
    err: (text) => console.error(text),
    cwd: process.cwd(),
    // Without a permission prompt on Deno: a variable it may not read is null.
    env: readEnv,
    stopSignal() {
      if (!controller) {
        const stopping = new AbortController();
        controller = stopping;
        const stop = () => stopping.abort();
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
        if (readEnv(WATCH_CHILD_ENV) === "1") {
          // Run by `serve --watch`: stop when the watcher goes away (its end of stdin closes).
          process.stdin.on("end", stop);
          process.stdin.on("close", stop);
          process.stdin.resume();
        }
      }
      return controller.signal;
    },
    selfCommand: (args) => [...selfCommand(), ...args],
    ...(embedded ? { embedded: { name: program, modules: embedded } } : {}),
  };
  const code = await main(process.argv.slice(2), ctx);
  process.exit(code);
}

/** The command line that starts this program again. */
function selfCommand(): string[] {
  const deno = (globalThis as { Deno?: { execPath(): string; mainModule: string } }).Deno;
  if (deno) {
    // Deno looks for the configuration next to a local main module, so a CLI started by a task
    // (`deno run -A jsr:@microapi/core/cli`, linked to a local copy) would restart under the
    // copy's deno.json instead of the project's: name the working directory's, as the task had.
    const config = ["deno.json", "deno.jsonc"].map((name) => join(process.cwd(), name))
      .find((path) => existsSync(path));
    return [deno.execPath(), "run", "-A", ...(config ? ["--config", config] : []), deno.mainModule];
  }
  const script = process.argv[1];
  // A compiled executable runs its embedded entry (under /$bunfs/); it needs no script argument.
  if (script === undefined || script.includes("$bunfs") || script === process.execPath) {
    return [process.execPath];
  }
  return [process.execPath, script];
}
