import * as zod from "zod";
import * as core from "../../mod.ts";
import * as client from "../client/mod.ts";

let installed = false;

/**
 * On Bun, makes `@microapi/core`, its client entry point `@microapi/core/client`, and `zod` in the
 * modules the CLI loads resolve to the CLI's own copies, so a service file works with nothing
 * installed next to it (in particular with the compiled binary) and shares one copy of the
 * library with the CLI. Deno has no such hook: there
 * the project's import map (deno.json) resolves them.
 *
 * @returns Whether the aliases are in place (always false on Deno).
 */
export function installModuleAliases(): boolean {
  const bun = (globalThis as {
    Bun?: {
      plugin(plugin: {
        name: string;
        setup(build: {
          module(specifier: string, load: () => { exports: object; loader: "object" }): void;
        }): void;
      }): void;
    };
  }).Bun;
  if (!bun) return false;
  if (installed) return true;
  installed = true;
  bun.plugin({
    name: "microapi-aliases",
    setup(build) {
      build.module("@microapi/core", () => ({ exports: { ...core }, loader: "object" }));
      build.module("@microapi/core/client", () => ({ exports: { ...client }, loader: "object" }));
      for (const specifier of ["zod", "zod/v4"]) {
        build.module(specifier, () => ({ exports: { ...zod }, loader: "object" }));
      }
    },
  });
  return true;
}
