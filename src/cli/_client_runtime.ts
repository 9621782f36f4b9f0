/**
 * Where `generate --standalone` reads the client runtime's sources from: the library's own source
 * files next to this module (microapi run from a checkout, or from a registry), or the copies
 * compiled into the microapi executable (scripts/compile.ts embeds them, see
 * {@linkcode clientRuntimeEmbedding}).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLIENT_RUNTIME_FILES } from "../codegen/client_runtime.ts";
import { CliError, firstLine } from "./_context.ts";

/** The embedded copies, by path relative to `src/`: their paths inside the executable. */
let embedded: Readonly<Record<string, string>> | undefined;

/**
 * Registers the runtime sources compiled into this executable.
 *
 * @param files The path of each embedded file, by its path relative to `src/`.
 */
export function setClientRuntimeAssets(files: Readonly<Record<string, string>>): void {
  embedded = files;
}

/**
 * The client runtime's sources, for `generateClient({ runtime })`.
 *
 * @returns Each file's text, by its path relative to `src/`.
 * @throws {CliError} When they cannot be read (a server built by `microapi build` does not carry
 * them).
 */
export async function loadClientRuntime(): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  for (const path of CLIENT_RUNTIME_FILES) {
    const location = embedded?.[path] ?? new URL(`../${path}`, import.meta.url);
    try {
      sources.set(path, await read(location));
    } catch (error) {
      throw new CliError(
        `Cannot write a standalone client: this program does not carry the client runtime ` +
          `(reading src/${path}: ${firstLine(error)}); run generate with the microapi CLI`,
      );
    }
  }
  return sources;
}

async function read(location: string | URL): Promise<string> {
  if (typeof location === "string") return await readFile(location, "utf8");
  if (location.protocol === "file:") return await readFile(fileURLToPath(location), "utf8");
  const response = await fetch(location);
  if (!response.ok) throw new Error(`${location.href}: HTTP ${response.status}`);
  return await response.text();
}

/**
 * Prepares a compiled entry point to carry the client runtime: writes each source file (as
 * {@linkcode loadClientRuntime} finds it) into `dir`, as `.txt` since `bun build` cannot import
 * one file both as a module and as a file, and returns the code that imports the copies
 * `with { type: "file" }` (which `bun build --compile` embeds as they are) and registers them.
 * scripts/compile.ts uses it for the microapi executable, `microapi build` for a server.
 *
 * @param dir The build's temporary directory, where the entry point is written.
 * @param register The module the entry imports {@linkcode setClientRuntimeAssets} from.
 * @returns Module code for the entry point: imports and the registering call.
 */
export async function clientRuntimeEmbedding(dir: string, register: string): Promise<string> {
  const lines: string[] = [];
  const entries: string[] = [];
  for (const [path, source] of await loadClientRuntime()) {
    const copy = join(dir, "client_runtime", `${path}.txt`);
    await mkdir(dirname(copy), { recursive: true });
    await writeFile(copy, source);
    lines.push(`import runtime${lines.length} from ${JSON.stringify(copy)} with { type: "file" };`);
    entries.push(`${JSON.stringify(path)}: runtime${entries.length}`);
  }
  return [
    ...lines,
    `import { setClientRuntimeAssets } from ${JSON.stringify(register)};`,
    `setClientRuntimeAssets({ ${entries.join(", ")} });`,
    "",
  ].join("\n");
}
