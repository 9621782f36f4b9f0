/**
 * Lets Bun load the peers' `npm:` imports. Deno resolves `npm:hono@4.13.23` itself; Bun does not
 * know the prefix, so this plugin maps every `npm:<name>@<version>[/<subpath>]` to
 * `<name>[/<subpath>]` as installed in bench/npm/node_modules (`bun install` in bench/npm/, from
 * its package.json and bun.lock, which pin the same versions as the specifiers; bench/run.ts
 * checks that they do).
 *
 * Bun hands a `npm:` specifier to plugins as the path `<name>@<version>...` in the namespace
 * `npm`; register this before the first import of a peer.
 */

interface BunPluginApi {
  plugin(plugin: {
    name: string;
    setup(build: {
      onResolve(
        options: { filter: RegExp; namespace: string },
        resolve: (args: { path: string; importer: string }) => { path: string },
      ): void;
    }): void;
  }): void;
  resolveSync(specifier: string, from: string): string;
}

/** A package name (scoped or not), an optional version, an optional subpath. */
const SPECIFIER = /^((?:@[^/@]+\/)?[^/@]+)(?:@[^/]*)?(\/.*)?$/;

/** Registers the plugin (Bun only; does nothing on Deno). */
export function resolveNpmSpecifiers(): void {
  const bun = (globalThis as { Bun?: BunPluginApi }).Bun;
  if (!bun) return;
  const packages = new URL("../npm/", import.meta.url).pathname;
  bun.plugin({
    name: "npm-specifiers",
    setup(build) {
      build.onResolve({ filter: /.*/, namespace: "npm" }, ({ path }) => {
        const match = path.match(SPECIFIER);
        if (!match) {
          throw new Error(`Cannot read the npm: specifier npm:${path}`);
        }
        const bare = match[1]! + (match[2] ?? "");
        try {
          return { path: bun.resolveSync(bare, packages) };
        } catch {
          throw new Error(
            `Cannot find ${bare} (from npm:${path}) in bench/npm/node_modules: run ` +
              "`bun install --frozen-lockfile` in bench/npm/ (deno task bench does when it is missing)",
          );
        }
      });
    },
  });
}
