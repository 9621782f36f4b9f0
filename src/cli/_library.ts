/**
 * Where a project made by `microapi init` gets `@microapi/core` while the package is not
 * published: the library the running CLI came from. From source (a checkout, `deno run cli.ts`)
 * the project's deno.json links to that directory; the compiled binary carries a copy of the
 * library's sources and of zod (a {@linkcode LibrarySnapshot}, embedded by scripts/compile.ts) and
 * writes them into the project. Either way the project imports `jsr:@microapi/core@^<version>`,
 * and deno.json's `links` makes that name resolve locally (see docs/cli.md, "microapi init").
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import config from "../../deno.json" with { type: "json" };

/** The library's sources and zod's package files, as the compiled binary carries them. */
export interface LibrarySnapshot {
  /** The library's version. */
  readonly version: string;
  /** The library's files, by path relative to its root (a deno.json, mod.ts, cli.ts, src/). */
  readonly library: Readonly<Record<string, string>>;
  /** zod's package as npm installs it (without its TypeScript sources), by relative path. */
  readonly zod: Readonly<Record<string, string>>;
}

/** Where a vendored copy goes in the project, and where the copy of zod goes. */
export const VENDOR_DIR = "vendor/microapi-core";
const ZOD_DIR = "node_modules/zod";

let embedded: string | undefined;

/**
 * Registers the snapshot compiled into this executable (scripts/compile.ts does).
 *
 * @param path The path of the embedded snapshot (JSON).
 */
export function setLibrarySnapshot(path: string): void {
  embedded = path;
}

/**
 * The snapshot compiled into this executable, if it is the compiled binary.
 *
 * @returns The snapshot, or undefined when running from source.
 */
export async function embeddedSnapshot(): Promise<LibrarySnapshot | undefined> {
  if (embedded === undefined) return undefined;
  return JSON.parse(await readFile(embedded, "utf8")) as LibrarySnapshot;
}

/**
 * The directory of the library this CLI runs from, when it runs from source files on disk (a
 * checkout, or a copy a project links to); undefined when it is the compiled binary or a
 * published package loaded over the network.
 *
 * @returns The directory, or undefined.
 */
export async function sourceRoot(): Promise<string | undefined> {
  const url = new URL("../../", import.meta.url);
  if (url.protocol !== "file:" || url.pathname.includes("$bunfs")) return undefined;
  const dir = fileURLToPath(url).replace(/\/$/, "");
  const manifest = await readFile(join(dir, "deno.json"), "utf8").then(
    (text) => JSON.parse(text) as { name?: string },
    () => undefined,
  );
  return manifest?.name === config.name ? dir : undefined;
}

async function filesUnder(dir: string, skip: (path: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  const visit = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (skip(relative(dir, path))) continue;
      if (entry.isDirectory()) await visit(path);
      else if (entry.isFile()) found.push(path);
    }
  };
  await visit(dir);
  return found.sort();
}

/**
 * Reads the library's sources from a checkout and zod's installed package, for the compiled
 * binary to carry. The library gets a deno.json of its own with only what a linked package needs
 * (name, version, exports, zod).
 *
 * @param root The checkout.
 * @param zodDir zod's installed package (node_modules/zod).
 * @returns The snapshot.
 */
export async function snapshotLibrary(root: string, zodDir: string): Promise<LibrarySnapshot> {
  const library: Record<string, string> = {
    "deno.json": JSON.stringify(
      {
        name: config.name,
        version: config.version,
        license: config.license,
        exports: config.exports,
        imports: { zod: config.imports.zod },
      },
      null,
      2,
    ) + "\n",
  };
  const sources = [
    join(root, "mod.ts"),
    join(root, "cli.ts"),
    ...await filesUnder(join(root, "src"), () => false),
  ];
  for (const file of sources) {
    if (file.endsWith(".ts")) library[relative(root, file)] = await readFile(file, "utf8");
  }
  if (!(await stat(join(zodDir, "package.json")).catch(() => undefined))) {
    throw new Error(`Cannot find zod in ${zodDir}: run bun install first`);
  }
  const zod: Record<string, string> = {};
  for (const file of await filesUnder(zodDir, (path) => path === "src")) {
    zod[relative(zodDir, file)] = await readFile(file, "utf8");
  }
  return { version: config.version, library, zod };
}

/**
 * The files a vendored project gets from a snapshot: the library under vendor/microapi-core/,
 * zod under node_modules/zod/, and a package.json declaring zod (so `deno install` fetches it on
 * a machine where node_modules/ was not copied).
 *
 * @param snapshot The snapshot.
 * @returns Paths relative to the project, and contents.
 */
export function vendoredFiles(snapshot: LibrarySnapshot): { path: string; content: string }[] {
  return [
    {
      path: "package.json",
      content: JSON.stringify(
        { private: true, dependencies: { zod: config.imports.zod.replace(/^npm:zod@/, "") } },
        null,
        2,
      ) + "\n",
    },
    ...Object.entries(snapshot.library).map(([path, content]) => ({
      path: `${VENDOR_DIR}/${path}`,
      content,
    })),
    ...Object.entries(snapshot.zod).map(([path, content]) => ({
      path: `${ZOD_DIR}/${path}`,
      content,
    })),
  ];
}
