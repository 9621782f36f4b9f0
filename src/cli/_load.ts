import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { GENERATED_HEADER } from "../codegen/generate.ts";
import { isZodSchema } from "../schema/json_schema.ts";
import { isService, type Service } from "../schema/service.ts";
import { isApp } from "../server/app.ts";
import type { MicroAPIOptions } from "../server/app_options.ts";
import { installModuleAliases } from "./_aliases.ts";
import { type CliContext, CliError, firstLine } from "./_context.ts";

/** What a set of service modules provides. */
export interface LoadedServices {
  /** The modules named or found, as paths relative to the working directory. */
  readonly modules: readonly string[];
  /**
   * Every module loaded, as absolute paths: the ones named or found, then the local modules they
   * import (read for schema names only).
   */
  readonly files: readonly string[];
  /** The services, in module order, each once. */
  readonly services: readonly Service[];
  /** Export names of the schemas the modules export, by identity (first name wins). */
  readonly schemaNames: ReadonlyMap<object, string>;
  /** When a module exports a MicroAPI app: its options (its services are among `services`). */
  readonly app?: { readonly label: string; readonly options: Readonly<MicroAPIOptions> };
}

/** One loaded module. */
export interface ModuleExports {
  /** The module's path, relative to the working directory. */
  readonly label: string;
  /** Its exports. */
  readonly exports: Record<string, unknown>;
  /** Named on the command line (a file), rather than found in a directory: it must export services. */
  readonly explicit?: boolean;
  /** Imported by a loaded module, and read for the names of its schemas only. */
  readonly namesOnly?: boolean;
}

const MODULE_FILE = /\.(ts|tsx|mts|js|jsx|mjs)$/;
const TEST_FILE = /([._]test|[._]spec|[._]bench)\.(ts|tsx|mts|js|jsx|mjs)$/;
const DECLARATION_FILE = /\.d\.(ts|mts)$/;

/**
 * The module files named by the arguments: files as given, directories searched recursively for
 * modules, skipping tests (`*_test.ts`, `*.test.ts`, ...), declaration files, generated clients,
 * `node_modules` and hidden directories.
 *
 * @param inputs Paths relative to the working directory.
 * @param ctx The CLI context.
 * @returns Absolute paths, with whether each was named explicitly.
 * @throws {CliError} For a path that does not exist or a directory without modules.
 */
export async function findModules(
  inputs: readonly string[],
  ctx: CliContext,
): Promise<{ path: string; explicit: boolean }[]> {
  const found: { path: string; explicit: boolean }[] = [];
  for (const input of inputs) {
    const path = isAbsolute(input) ? input : resolve(ctx.cwd, input);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new CliError(`Cannot find ${input}: no such file or directory`);
    if (info.isFile()) {
      found.push({ path, explicit: true });
      continue;
    }
    const files = await walk(path);
    if (files.length === 0) {
      throw new CliError(`No modules in ${input} (looked for .ts and .js files, tests excluded)`);
    }
    found.push(...files.map((file) => ({ path: file, explicit: false })));
  }
  return found;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await walk(path));
    else if (
      entry.isFile() && MODULE_FILE.test(entry.name) && !TEST_FILE.test(entry.name) &&
      !DECLARATION_FILE.test(entry.name) && !await isGenerated(path)
    ) {
      out.push(path);
    }
  }
  return out;
}

async function isGenerated(path: string): Promise<boolean> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text.startsWith(GENERATED_HEADER);
}

/**
 * Imports service modules and collects what they export: Services and MicroAPI apps, recognised
 * by their brand (so modules built against another copy of the library work), and the names of
 * exported zod schemas. A module that exports an app contributes the app's services; its other
 * Service exports are taken to be the same ones and are not added again.
 *
 * Schemas are often defined in a module that the service module imports; so the local modules the
 * loaded ones import (relative `import ... from "./x.ts"`, followed transitively) are read for
 * schema names too. They are already loaded by then, so nothing runs twice.
 *
 * @param inputs Files and directories, relative to the working directory.
 * @param ctx The CLI context.
 * @returns The services and names.
 * @throws {CliError} For a missing path, a module that fails to load, a file named on the command
 * line that exports no services, no services at all, two apps, or two services with one name.
 */
export async function loadServices(
  inputs: readonly string[],
  ctx: CliContext,
): Promise<LoadedServices> {
  const files = await findModules(inputs, ctx);
  installModuleAliases();
  const modules: ModuleExports[] = [];
  for (const { path, explicit } of files) {
    const label = relative(ctx.cwd, path) || path;
    let exports: Record<string, unknown>;
    try {
      exports = await import(pathToFileURL(path).href);
    } catch (error) {
      throw new CliError(`Cannot load ${label}: ${firstLine(error)}`);
    }
    modules.push({ label, exports, explicit });
  }
  const imported = await localImports(files.map((file) => file.path));
  for (const path of imported) {
    try {
      const exports = await import(pathToFileURL(path).href);
      modules.push({ label: relative(ctx.cwd, path) || path, exports, namesOnly: true });
    } catch {
      // Only read for names; the module that imports it has loaded, so this cannot matter.
    }
  }
  const loaded = collectServices(modules, inputs.join(", "), {
    skipped: (label) => ctx.err(`warning: ${label} exports no services: skipped`),
  });
  return { ...loaded, files: [...files.map((file) => file.path), ...imported] };
}

const IMPORT_LINE =
  /^\s*(?:import|export)\b[^"';]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']|^\s*import\s*["'](\.{1,2}\/[^"']+)["']/gm;

/**
 * The local modules that modules import (relative specifiers in static import and export
 * declarations), transitively, in breadth-first order, without the modules given.
 *
 * @param paths Absolute paths of the starting modules.
 * @returns Absolute paths of the modules they import.
 */
export async function localImports(paths: readonly string[]): Promise<string[]> {
  const seen = new Set(paths);
  const found: string[] = [];
  const queue = [...paths];
  while (queue.length > 0) {
    const path = queue.shift()!;
    const text = await readFile(path, "utf8").catch(() => "");
    for (const match of text.matchAll(IMPORT_LINE)) {
      const specifier = (match[1] ?? match[2])!;
      if (!MODULE_FILE.test(specifier)) continue;
      const target = resolve(dirname(path), specifier);
      if (seen.has(target) || target.includes("/node_modules/")) continue;
      seen.add(target);
      if (!(await stat(target).catch(() => undefined))?.isFile()) continue;
      found.push(target);
      queue.push(target);
    }
  }
  return found;
}

/**
 * Collects services from modules already imported (the modules a built server embeds).
 *
 * A file named on the command line that exports no services is an error when it is the only one;
 * among several (`microapi serve examples/*.ts`, where a script sits beside the services) it is
 * skipped, and `options.skipped` hears of it.
 *
 * @param modules The modules, labelled with their paths.
 * @param source What to name in the error when there are no services.
 * @param options `skipped`: told of each named module skipped for exporting no services.
 * @returns The services and names.
 * @throws {CliError} As {@linkcode loadServices}.
 */
export function collectServices(
  modules: readonly ModuleExports[],
  source: string,
  options: { skipped?: (label: string) => void } = {},
): LoadedServices {
  const named = modules.filter((m) => !m.namesOnly && m.explicit !== false).length;
  const skipped = new Set<ModuleExports>();
  const services: Service[] = [];
  const owners = new Map<string, string>();
  const schemaNames = new Map<object, string>();
  let app: { label: string; options: Readonly<MicroAPIOptions> } | undefined;
  for (const module of modules) {
    if (module.namesOnly) continue;
    const apps = Object.entries(module.exports).filter(([, value]) => isApp(value));
    const own = apps.length > 0
      ? apps.flatMap(([, value]) => [...appOptions(value).services])
      : Object.values(module.exports).filter(isService);
    for (const [name, value] of apps) {
      const label = `${module.label} (export ${name})`;
      if (app) throw new CliError(`Found two apps, ${app.label} and ${label}: load one at a time`);
      app = { label, options: appOptions(value) };
    }
    if (own.length === 0 && module.explicit !== false && named > 1) {
      options.skipped?.(module.label);
      skipped.add(module);
      continue;
    }
    if (own.length === 0 && module.explicit !== false) {
      throw new CliError(
        `${module.label} exports no services (expected a Service or a MicroAPI app among its ` +
          "exports)",
      );
    }
    for (const service of own) {
      if (services.includes(service)) continue;
      const key = `${service.name}@${service.version ?? ""}`;
      const owner = owners.get(key);
      if (owner !== undefined) {
        throw new CliError(
          `Two services are named ${service.name}${
            service.version === undefined ? "" : ` version ${service.version}`
          }: in ${owner} and ${module.label}`,
        );
      }
      owners.set(key, module.label);
      services.push(service);
    }
  }
  // Names from the modules given first, then from the ones they import.
  for (
    const module of [
      ...modules.filter((m) => !m.namesOnly),
      ...modules.filter((m) => m.namesOnly),
    ]
  ) {
    for (const [name, value] of Object.entries(module.exports)) {
      if (name !== "default" && isZodSchema(value) && !schemaNames.has(value)) {
        schemaNames.set(value, name);
      }
    }
  }
  if (services.length === 0) {
    throw new CliError(
      `No services found in ${source} (${modules.length} module${
        modules.length === 1 ? "" : "s"
      } loaded; a service module exports a Service or a MicroAPI app)`,
    );
  }
  return {
    modules: modules.filter((m) => !m.namesOnly && !skipped.has(m)).map((m) => m.label),
    files: [],
    services,
    schemaNames,
    ...(app ? { app } : {}),
  };
}

/**
 * An app's options. An app from another copy of the library that predates `options` still lists
 * its services.
 */
function appOptions(app: unknown): Readonly<MicroAPIOptions> {
  const { options, services } = app as { options?: MicroAPIOptions; services?: Service[] };
  return options ?? { services: services ?? [] };
}
