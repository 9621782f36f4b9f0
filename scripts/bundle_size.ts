/**
 * The size of a generated client in a browser bundle: generates the client of examples/serve.ts
 * (four services, every pattern), bundles it for the browser with `bun build --minify`, and
 * prints the bundle's size, raw and gzipped, once for each module the generated code can import
 * the runtime from:
 *
 * - `@microapi/core`: the whole library (define and serve, and the client), what generated code
 *   imported before `@microapi/core/client` existed (`generate --import @microapi/core`);
 * - `@microapi/core/client`: the client entry alone, what generated code imports by default.
 *
 * The bundle's entry re-exports the generated client and `Connection`, so nothing the client needs
 * is shaken out. The bare names resolve to this checkout's files (a tsconfig `paths` mapping,
 * which Bun's bundler reads), zod to node_modules/ (`bun install`). The numbers go in README.md
 * ("Entry points and the browser bundle").
 *
 * Usage: deno run -A scripts/bundle_size.ts [--json]
 */

const root = new URL("..", import.meta.url).pathname;

/** The specifiers measured, with the file of this checkout each one names. */
export const VARIANTS: Readonly<Record<string, string>> = {
  "@microapi/core": "mod.ts",
  "@microapi/core/client": "src/client/mod.ts",
};

/** One bundle's size. */
export interface BundleSize {
  /** What the generated code imports the runtime from. */
  readonly runtime: string;
  /** Bytes of the minified bundle. */
  readonly raw: number;
  /** Bytes of the minified bundle, gzipped. */
  readonly gzip: number;
}

async function run(command: string, args: string[], cwd: string): Promise<void> {
  const result = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!result.success) {
    const decoder = new TextDecoder();
    throw new Error(
      `${command} ${args.join(" ")} failed (exit code ${result.code}):\n` +
        decoder.decode(result.stdout) + decoder.decode(result.stderr),
    );
  }
}

async function bunPath(): Promise<string> {
  const local = `${root}.tools/node_modules/.bin/bun`;
  return await Deno.stat(local).then(() => local, () => "bun");
}

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/**
 * Generates the examples' client importing `runtime`, bundles it, and measures the bundle.
 *
 * @param runtime A key of {@linkcode VARIANTS}.
 * @param dir An empty working directory.
 * @returns The sizes.
 */
export async function measure(runtime: string, dir: string): Promise<BundleSize> {
  await run(Deno.execPath(), [
    "run",
    "-A",
    `${root}cli.ts`,
    "generate",
    `${root}examples/serve.ts`,
    "--out",
    `${dir}/lib`,
    "--import",
    runtime,
  ], root);
  await Deno.writeTextFile(
    `${dir}/tsconfig.json`,
    JSON.stringify({
      compilerOptions: {
        paths: Object.fromEntries(
          Object.entries(VARIANTS).map(([name, file]) => [name, [`${root}${file}`]]),
        ),
      },
    }),
  );
  await Deno.writeTextFile(
    `${dir}/entry.ts`,
    `export * from "./lib/mod.ts";\nexport { Connection } from ${JSON.stringify(runtime)};\n`,
  );
  await run(await bunPath(), [
    "build",
    "--minify",
    "--target",
    "browser",
    "--outfile",
    `${dir}/bundle.js`,
    `${dir}/entry.ts`,
  ], dir);
  const bytes = await Deno.readFile(`${dir}/bundle.js`);
  return { runtime, raw: bytes.byteLength, gzip: await gzipSize(bytes) };
}

if (import.meta.main) {
  const sizes: BundleSize[] = [];
  for (const runtime of Object.keys(VARIANTS)) {
    const dir = await Deno.makeTempDir({ prefix: "microapi-bundle-" });
    try {
      sizes.push(await measure(runtime, dir));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  if (Deno.args.includes("--json")) {
    console.log(JSON.stringify(sizes));
  } else {
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    console.log("| generated code imports  | minified  | gzipped  |");
    console.log("| ----------------------- | --------- | -------- |");
    for (const { runtime, raw, gzip } of sizes) {
      console.log(
        `| ${`\`${runtime}\``.padEnd(23)} | ${kb(raw).padStart(9)} | ${kb(gzip).padStart(8)} |`,
      );
    }
  }
}
