import config from "../../deno.json" with { type: "json" };

/** The library's and the CLI's version, from deno.json. */
export const VERSION: string = config.version;

/**
 * The runtime running the CLI, for `--version`.
 *
 * @returns `deno 2.9.6` or `bun 1.4.4`.
 */
export function runtimeVersion(): string {
  const g = globalThis as {
    Bun?: { version: string };
    Deno?: { version: { deno: string } };
  };
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return "unknown runtime";
}
