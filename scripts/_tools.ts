/**
 * What the scripts need besides Deno, and how it gets here: `deno task test` and
 * `deno task compile` call {@linkcode setUp} first, so that on a machine with only Node and npm
 * (Deno itself from `npx -y deno@2.9.6`) they install what is missing and then run.
 *
 * Each prerequisite is one entry in {@linkcode PREREQUISITES}: what it is, which scripts need it,
 * how to tell it is present, and how to install it. Three kinds exist:
 *
 * - {@linkcode npmTool}: a pinned npm package with a binary, installed into `.tools/` with npm.
 * - {@linkcode bunInstall}: `bun install --frozen-lockfile`, which makes `node_modules/` (Bun
 *   resolves zod from there; Deno reads deno.json).
 * - {@linkcode aptPackage}: a program from Debian's packages, installed with `apt-get` when we are
 *   root. Otherwise nothing is installed: {@linkcode setUp} stops before doing anything, with one
 *   line that says what to install.
 */

/** The scripts that set up prerequisites. */
export type Purpose = "test" | "compile";

/** What the scripts run, once set up. */
export interface Tools {
  /** The repository, with a trailing slash. */
  readonly root: string;
  /** The Bun binary. */
  readonly bun: string;
}

/** How a missing prerequisite gets here. */
export type Installer =
  | { readonly install: () => Promise<void> }
  /** It cannot be installed here: the one line that says what a person should install. */
  | { readonly manual: string };

/** One thing a script needs. */
export interface Prerequisite {
  /** Its name in messages. */
  readonly name: string;
  /** The scripts that need it. */
  readonly neededBy: readonly Purpose[];
  /**
   * Whether it is present (false means: install it). Without it, the entry is a step that runs
   * every time (it is quick when there is nothing to do).
   *
   * @param root The repository.
   * @returns True when nothing needs to be done.
   */
  present?(root: string): Promise<boolean>;
  /**
   * How to install it here.
   *
   * @param root The repository.
   * @returns The installer, or what a person must install.
   */
  installer(root: string): Promise<Installer>;
}

/** A prerequisite that is missing and cannot be installed; the message is one line. */
export class SetupError extends Error {
  override name = "SetupError";
}

/** The repository this script lives in, with a trailing slash. */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** Bun's version, pinned (the test suite runs under it). */
export const BUN_VERSION = "1.4.4";

/**
 * The path of a binary installed into `.tools/` with npm.
 *
 * @param root The repository.
 * @param bin The binary's name.
 * @returns Its path.
 */
export function toolPath(root: string, bin: string): string {
  return `${root}.tools/node_modules/.bin/${bin}`;
}

/**
 * The version a program prints for `--version`: its first `x.y.z`.
 *
 * @param binary The program (a path, or a name looked up on PATH).
 * @returns The version, or "" when the program is missing or prints none.
 */
export async function toolVersion(binary: string): Promise<string> {
  try {
    // Deno.Command throws at once, not in the promise, when the program does not exist.
    const out = await new Deno.Command(binary, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return /\d+\.\d+\.\d+/.exec(new TextDecoder().decode(out.stdout))?.[0] ?? "";
  } catch {
    return "";
  }
}

/**
 * Finds a program on PATH, as a shell would.
 *
 * @param name The program's name.
 * @returns Its path, or undefined.
 */
export function which(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const path = `${dir}/${name}`;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * A pinned npm package with a binary, installed into `.tools/` with npm.
 *
 * @param name The package (and its binary's name).
 * @param version The exact version.
 * @param neededBy The scripts that need it.
 * @returns The prerequisite.
 */
export function npmTool(name: string, version: string, neededBy: readonly Purpose[]): Prerequisite {
  return {
    name: `${name}@${version}`,
    neededBy,
    present: async (root) => await toolVersion(toolPath(root, name)) === version,
    installer(root) {
      const npm = which("npm");
      if (npm === undefined) {
        return Promise.resolve({
          manual: `${name}@${version} is missing and npm is not on PATH: install Node.js and npm`,
        });
      }
      return Promise.resolve({
        install: async () => {
          console.error(`Installing ${name}@${version} into .tools/ (npm install)`);
          await Deno.mkdir(`${root}.tools`, { recursive: true });
          await runOrThrow(
            npm,
            [
              "install",
              "--prefix",
              `${root}.tools`,
              "--no-audit",
              "--no-fund",
              "--loglevel=error",
              `${name}@${version}`,
            ],
            `npm install ${name}@${version}`,
            root,
          );
        },
      });
    },
  };
}

/**
 * `bun install --frozen-lockfile`: node_modules/ as bun.lock says (fast when it already is).
 *
 * @param neededBy The scripts that need it.
 * @returns The prerequisite.
 */
export function bunInstall(neededBy: readonly Purpose[]): Prerequisite {
  return {
    name: "node_modules",
    neededBy,
    installer: (root) =>
      Promise.resolve({
        install: () =>
          runOrThrow(
            toolPath(root, "bun"),
            ["install", "--frozen-lockfile", "--silent"],
            "bun install --frozen-lockfile",
            root,
          ),
      }),
  };
}

/**
 * A program from Debian's packages: installed with apt-get when we are root and apt-get is on
 * PATH; otherwise {@linkcode setUp} stops and says what to install.
 *
 * @param binary The program, looked up on PATH.
 * @param options The package's name (default: the binary's), what needs it (for messages) and
 *   the scripts that need it.
 * @returns The prerequisite.
 */
export function aptPackage(
  binary: string,
  options: { package?: string; usedBy: string; neededBy: readonly Purpose[] },
): Prerequisite {
  const pkg = options.package ?? binary;
  return {
    name: binary,
    neededBy: options.neededBy,
    present: () => Promise.resolve(which(binary) !== undefined),
    installer() {
      const apt = which("apt-get");
      if (apt === undefined || Deno.uid() !== 0) {
        const manual = apt === undefined
          ? `${binary} is missing (${options.usedBy} needs it) and apt-get is not on PATH: ` +
            `install ${pkg}`
          : `${binary} is missing (${options.usedBy} needs it): sudo apt-get install ${pkg}`;
        return Promise.resolve({ manual });
      }
      return Promise.resolve({
        install: async () => {
          console.error(`Installing ${pkg} (apt-get install ${pkg})`);
          const env = { DEBIAN_FRONTEND: "noninteractive" };
          const install = ["install", "-y", "-qq", pkg];
          // A fresh machine may have no package lists yet: update once, then try again.
          if (!await runQuietly(apt, install, env)) {
            await runQuietly(apt, ["update", "-qq"], env);
            if (!await runQuietly(apt, install, env, true)) {
              throw new SetupError(
                `apt-get install ${pkg} failed (its output is above): install ${pkg} and run again`,
              );
            }
          }
        },
      });
    },
  };
}

/** Everything the scripts need besides Deno. A new prerequisite is one more entry. */
export const PREREQUISITES: readonly Prerequisite[] = [
  npmTool("bun", BUN_VERSION, ["test", "compile"]),
  bunInstall(["test", "compile"]),
  aptPackage("chromium", { usedBy: "the browser test", neededBy: ["test"] }),
  aptPackage("nats-server", { usedBy: "the NATS transport test", neededBy: ["test"] }),
];

/**
 * Makes sure everything a script needs is here. First it checks them all; if one is missing and
 * cannot be installed, it throws before installing anything. Then it installs what is missing,
 * in order, and checks each again.
 *
 * @param purpose The script.
 * @param options The prerequisites to check (default: {@linkcode PREREQUISITES}) and the
 *   repository (default: this one).
 * @returns Where the tools are.
 * @throws {SetupError} With one line saying what to install.
 */
export async function setUp(
  purpose: Purpose,
  options: { prerequisites?: readonly Prerequisite[]; root?: string } = {},
): Promise<Tools> {
  const root = options.root ?? ROOT;
  const needed = (options.prerequisites ?? PREREQUISITES).filter((p) =>
    p.neededBy.includes(purpose)
  );
  const missing: { prerequisite: Prerequisite; installer: Installer }[] = [];
  for (const prerequisite of needed) {
    if (!await prerequisite.present?.(root)) {
      missing.push({ prerequisite, installer: await prerequisite.installer(root) });
    }
  }
  const manual = missing.flatMap(({ installer }) =>
    "manual" in installer ? [installer.manual] : []
  );
  if (manual.length > 0) throw new SetupError(`${manual.join("; ")}; then run again`);
  for (const { prerequisite, installer } of missing) {
    if (!("install" in installer)) continue;
    await installer.install();
    if (prerequisite.present && !await prerequisite.present(root)) {
      throw new SetupError(
        `${prerequisite.name} is still missing after installing it: install it and run again`,
      );
    }
  }
  return { root, bun: toolPath(root, "bun") };
}

async function runOrThrow(
  command: string,
  args: string[],
  what: string,
  cwd: string,
): Promise<void> {
  const out = await new Deno.Command(command, {
    args,
    cwd,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new SetupError(`${what} failed (exit code ${out.code}); see above`);
}

/** Runs a command with its output kept back, shown only when `show` is set and it failed. */
async function runQuietly(
  command: string,
  args: string[],
  env: Record<string, string>,
  show = false,
): Promise<boolean> {
  const out = await new Deno.Command(command, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success && show) {
    const decoder = new TextDecoder();
    console.error(
      decoder.decode(out.stdout).slice(-2000) + decoder.decode(out.stderr).slice(-2000),
    );
  }
  return out.success;
}
