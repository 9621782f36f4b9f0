import { runCli } from "./entry.ts";

/**
 * The main function of a server built by `microapi build`: the CLI, with `serve`, `info` and
 * `generate` working on the modules compiled in.
 *
 * @param modules The service modules, labelled with their paths at build time.
 * @returns Never: exits when the command is done.
 */
export function runEmbedded(
  modules: readonly { label: string; exports: Record<string, unknown>; namesOnly?: boolean }[],
): Promise<void> {
  return runCli(modules);
}
