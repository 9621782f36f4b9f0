import type { EmbeddedModule } from "./_context.ts";
import { runCli } from "./entry.ts";

/**
 * The main function of a server built by `microapi build`: the CLI, with `serve`, `info` and
 * `generate` working on the modules compiled in.
 *
 * @param modules The service modules, labelled with their paths at build time.
 * @returns Never: exits when the command is done.
 */
export function runEmbedded(
  modules: readonly EmbeddedModule[],
): Promise<void> {
  return runCli(modules);
}
