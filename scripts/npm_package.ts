/**
 * The npm package of the library: JavaScript and declaration files compiled by TypeScript's tsc
 * from the entry points in deno.json's `exports`, which is the one list of entry points (JSR
 * publishes the same list as TypeScript).
 *
 * Why JavaScript: Deno refuses to load TypeScript from node_modules
 * (`ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING`), so an npm package that Deno can use ships
 * `.js` with `.d.ts` beside it. Why tsc (`npm:typescript`, run by Deno): it compiles module by
 * module, so the entry points share one copy of each module (a class imported through
 * `@microapi/core` and through `@microapi/core/testing` is the same class), and it writes the
 * declarations with the same compiler that checked the code. See README.md, "Install".
 *
 * Usage:
 *   deno task pack [--out <dir>]   stage the package in a temporary directory, `npm pack` it into
 *                                  <dir> (default dist/), print the tarball's path
 *   deno run -A scripts/npm_package.ts build   compile into dist/npm/ (npm pack's prepack hook)
 *   deno run -A scripts/npm_package.ts sync    rewrite package.json's exports from deno.json's
 */

const root = new URL("..", import.meta.url).pathname;

/** The TypeScript release that compiles the package (the one Deno 2.9.6 embeds). */
export const TYPESCRIPT = "npm:typescript@6.0.3";

/** Where the compiled files live inside the package. */
export const OUT_DIR = "dist/npm";

/**
 * Entry points of deno.json that the npm package leaves out, with the reason. The CLI is a
 * Deno/Bun program (node:fs, subprocesses, Bun's bundler), shipped as the binary, the checkout
 * and `jsr:@microapi/core/cli`; an application never imports it.
 */
export const NOT_ON_NPM: Readonly<Record<string, string>> = {
  "./cli": "the CLI: use the microapi binary, a checkout, or jsr:@microapi/core/cli",
};

/** One entry of package.json's `exports`. */
export interface NpmExport {
  /** The declaration file. */
  readonly types: string;
  /** The JavaScript module. */
  readonly default: string;
}

/**
 * The `exports` of package.json for deno.json's: each TypeScript entry becomes its compiled
 * JavaScript with its declarations (`types` first, as TypeScript requires).
 *
 * @param denoExports deno.json's `exports`.
 * @returns package.json's `exports`.
 */
export function npmExports(
  denoExports: Readonly<Record<string, string>>,
): Record<string, NpmExport> {
  const result: Record<string, NpmExport> = {};
  for (const [subpath, file] of Object.entries(denoExports)) {
    if (subpath in NOT_ON_NPM) continue;
    if (!/^\.\/.+\.ts$/.test(file)) {
      throw new Error(`Cannot map export ${subpath}: ${file} is not a relative .ts file`);
    }
    const base = `./${OUT_DIR}/${file.slice(2, -3)}`;
    result[subpath] = { types: `${base}.d.ts`, default: `${base}.js` };
  }
  return result;
}

/** The fields of deno.json this script reads. */
interface DenoConfig {
  name: string;
  version: string;
  exports: Record<string, string>;
  compilerOptions: Record<string, unknown>;
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(path)) as T;
}

/**
 * What is wrong with package.json as the npm manifest of deno.json's package: name, version and
 * exports must agree.
 *
 * @returns One line per problem; empty when they agree.
 */
export async function manifestProblems(): Promise<string[]> {
  const deno = await readJson<DenoConfig>(`${root}deno.json`);
  const pkg = await readJson<Record<string, unknown>>(`${root}package.json`);
  const problems: string[] = [];
  for (const field of ["name", "version"] as const) {
    if (pkg[field] !== deno[field]) {
      problems.push(`package.json ${field} is ${pkg[field]}, deno.json's is ${deno[field]}`);
    }
  }
  const expected = JSON.stringify(npmExports(deno.exports));
  if (JSON.stringify(pkg.exports) !== expected) {
    problems.push(`package.json exports differ from deno.json's: expected ${expected}`);
  }
  return problems;
}

async function run(command: string, args: string[], cwd = root): Promise<void> {
  const result = await new Deno.Command(command, {
    args,
    cwd,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!result.success) {
    throw new Error(`${command} ${args.join(" ")} failed (exit code ${result.code})`);
  }
}

async function bunPath(): Promise<string> {
  const local = `${root}.tools/node_modules/.bin/bun`;
  return await Deno.stat(local).then(() => local, () => "bun");
}

/**
 * Compiles the package's JavaScript and declarations into `<packageDir>/dist/npm/`, removing
 * what was there.
 *
 * @param packageDir The package's directory (the checkout, or a staging directory).
 */
export async function build(packageDir: string): Promise<void> {
  const problems = await manifestProblems();
  if (problems.length > 0) {
    throw new Error(
      `${problems.join("\n")}\nRun: deno run -A scripts/npm_package.ts sync`,
    );
  }
  const deno = await readJson<DenoConfig>(`${root}deno.json`);
  // tsc resolves zod's declarations from node_modules.
  await run(await bunPath(), ["install", "--frozen-lockfile", "--silent"]);
  const out = `${packageDir.replace(/\/$/, "")}/${OUT_DIR}`;
  await Deno.remove(out, { recursive: true }).catch(() => {});
  const work = await Deno.makeTempDir({ prefix: "microapi-npm-" });
  try {
    // Deno's own declarations, for the runtime adapter's use of Deno.serve (none of them appear
    // in the public declarations).
    const types = await new Deno.Command(Deno.execPath(), { args: ["types"] }).output();
    if (!types.success) throw new Error("deno types failed");
    await Deno.writeFile(`${work}/deno.d.ts`, types.stdout);
    const entries = Object.entries(deno.exports)
      .filter(([subpath]) => !(subpath in NOT_ON_NPM))
      .map(([, file]) => `${root}${file.slice(2)}`);
    await Deno.writeTextFile(
      `${work}/tsconfig.json`,
      JSON.stringify({
        compilerOptions: {
          ...deno.compilerOptions,
          target: "es2022",
          module: "esnext",
          moduleResolution: "bundler",
          lib: ["esnext", "dom", "dom.iterable", "dom.asynciterable"],
          types: [],
          allowImportingTsExtensions: true,
          rewriteRelativeImportExtensions: true,
          declaration: true,
          rootDir: root,
          outDir: out,
          skipLibCheck: true,
          newLine: "lf",
        },
        files: [...entries, `${work}/deno.d.ts`],
      }),
    );
    await run(Deno.execPath(), ["run", "-A", "--no-lock", TYPESCRIPT + "/tsc", "-p", work]);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
  // tsc rewrites `./x.ts` to `./x.js` in the JavaScript only; the declarations must point at
  // `./x.js` too, which TypeScript maps to `./x.d.ts`.
  for await (const file of walk(out)) {
    if (!file.endsWith(".d.ts")) continue;
    const text = await Deno.readTextFile(file);
    const fixed = text.replace(
      /((?:from|import)\s*\(?\s*)(["'])(\.\.?\/[^"']+)\.ts\2/g,
      "$1$2$3.js$2",
    );
    if (fixed !== text) await Deno.writeTextFile(file, fixed);
  }
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else yield path;
  }
}

/**
 * Stages the package (package.json, README.md, LICENSE, the compiled files) in a temporary directory and
 * packs it with `npm pack`, so that nothing is written into the checkout but the tarball.
 *
 * @param destination Where the tarball goes.
 * @returns The tarball's path.
 */
export async function pack(destination: string): Promise<string> {
  const stage = await Deno.makeTempDir({ prefix: "microapi-pack-" });
  try {
    await build(stage);
    await Deno.copyFile(`${root}package.json`, `${stage}/package.json`);
    await Deno.copyFile(`${root}README.md`, `${stage}/README.md`);
    await Deno.copyFile(`${root}LICENSE`, `${stage}/LICENSE`);
    await Deno.mkdir(destination, { recursive: true });
    const result = await new Deno.Command("npm", {
      // The stage holds the build already: prepack (which builds in the checkout) must not run.
      args: ["pack", "--ignore-scripts", "--json", "--pack-destination", destination],
      cwd: stage,
      stderr: "inherit",
    }).output();
    if (!result.success) throw new Error(`npm pack failed (exit code ${result.code})`);
    const [info] = JSON.parse(new TextDecoder().decode(result.stdout)) as { filename: string }[];
    return `${destination.replace(/\/$/, "")}/${info!.filename}`;
  } finally {
    await Deno.remove(stage, { recursive: true });
  }
}

/** Rewrites package.json's name, version and exports from deno.json. */
async function sync(): Promise<void> {
  const deno = await readJson<DenoConfig>(`${root}deno.json`);
  const pkg = await readJson<Record<string, unknown>>(`${root}package.json`);
  pkg.name = deno.name;
  pkg.version = deno.version;
  pkg.exports = npmExports(deno.exports);
  await Deno.writeTextFile(`${root}package.json`, JSON.stringify(pkg, null, 2) + "\n");
}

if (import.meta.main) {
  const [command = "pack", ...rest] = Deno.args;
  try {
    if (command === "build") {
      await build(root);
      console.error(`Built ${OUT_DIR}/`);
    } else if (command === "sync") {
      await sync();
      console.error("package.json: name, version and exports written from deno.json");
    } else if (command === "pack") {
      const outIndex = rest.indexOf("--out");
      const destination = outIndex === -1
        ? `${root}dist`
        : new URL(rest[outIndex + 1]!, `file://${Deno.cwd()}/`).pathname;
      console.log(await pack(destination));
    } else {
      throw new Error(`Unknown command ${command}: expected pack, build or sync`);
    }
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
