/**
 * The peer frameworks' packages: bench/npm/package.json pins them (devDependencies of the
 * benchmark only, never of the module), the peers import them with `npm:` specifiers of the same
 * versions (Deno fetches those itself), and Bun loads them from bench/npm/node_modules, installed
 * from bench/npm/bun.lock. This checks that the pins agree and installs bench/npm/node_modules
 * when Bun needs it.
 *
 * Why a folder of its own: a package.json in bench/ itself would make Deno treat bench/ as a
 * separate project (`deno run bench/server.ts` would lose deno.json's settings, such as its
 * unstable flags, and `deno fmt bench/` its line width). bench/npm/ holds no code.
 */

import { log } from "./util.ts";

const SPECIFIER = /["']npm:((?:@[^/@"']+\/)?[^/@"']+)@([^/"']+)(?:\/[^"']*)?["']/g;

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return undefined;
  }
}

/**
 * Checks the pins and, for Bun, the installed packages (installing them when they are missing
 * or differ).
 *
 * @param root The repository root.
 * @param bun The bun executable when Bun runs peers, else undefined.
 * @returns The pinned versions, for the report: `hono 4.13.23, ...`.
 * @throws {Error} When a peer's `npm:` specifier and bench/npm/package.json disagree, or the
 *   install fails.
 */
export async function preparePeers(root: string, bun: string | undefined): Promise<string> {
  const npm = `${root}bench/npm`;
  const pins = (readJson(`${npm}/package.json`)?.devDependencies ?? {}) as Record<string, string>;
  const problems: string[] = [];
  for (const entry of Deno.readDirSync(`${root}bench/peers`)) {
    if (!entry.name.endsWith(".ts")) continue;
    const source = Deno.readTextFileSync(`${root}bench/peers/${entry.name}`);
    for (const [, name, version] of source.matchAll(SPECIFIER)) {
      if (pins[name!] !== version) {
        problems.push(
          `bench/peers/${entry.name} imports npm:${name}@${version}, bench/npm/package.json ` +
            `pins ${name} ${pins[name!] ?? "(nothing)"}`,
        );
      }
    }
  }
  if (problems.length > 0) {
    throw new Error(`The peers' versions disagree:\n  ${problems.join("\n  ")}`);
  }
  if (bun) {
    const stale = () =>
      Object.entries(pins).filter(([name, version]) =>
        readJson(`${npm}/node_modules/${name}/package.json`)?.version !== version
      ).map(([name]) => name);
    if (stale().length > 0) {
      log(
        `bench/npm/node_modules lacks ${stale().join(", ")}: running ` +
          "`bun install --frozen-lockfile` in bench/npm/ (the peers' packages for Bun) ...",
      );
      const { success, stderr } = await new Deno.Command(bun, {
        args: ["install", "--frozen-lockfile"],
        cwd: npm,
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!success || stale().length > 0) {
        throw new Error(
          `bun install in bench/npm/ failed: ${new TextDecoder().decode(stderr)}\nRun it by ` +
            "hand (`cd bench/npm && bun install --frozen-lockfile`), or leave the peers out " +
            "(--peers none).",
        );
      }
    }
  }
  return Object.entries(pins).map(([name, version]) => `${name} ${version}`).join(", ");
}
