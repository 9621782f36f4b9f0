import {
  buildIntrospection,
  INTROSPECTION_PATH,
  type IntrospectionDocument,
  parseIntrospection,
} from "../schema/introspection.ts";
import { type CliContext, CliError, firstLine, UsageError } from "./_context.ts";
import { collectServices, type LoadedServices, loadServices } from "./_load.ts";

/** An introspection document and where it came from. */
export interface Described {
  /** The document. */
  readonly document: IntrospectionDocument;
  /** The URL or the modules, for messages. */
  readonly source: string;
}

/** How long `info` and `generate` wait for a server. */
const FETCH_TIMEOUT_MS = 10_000;

/**
 * Tells whether a command-line argument is a server URL rather than a path.
 *
 * @param input The argument.
 * @returns `true` for `http://...` and `https://...`.
 */
export function isUrl(input: string): boolean {
  return /^https?:\/\//i.test(input);
}

/**
 * The introspection document of the app the arguments name: a running server's (one URL), or one
 * built from service modules (files and directories), or from the modules built into this
 * executable.
 *
 * @param inputs The positional arguments.
 * @param ctx The CLI context.
 * @returns The document.
 * @throws {UsageError} For a URL mixed with paths, or no inputs.
 * @throws {CliError} When loading or fetching fails.
 */
export async function describe(inputs: readonly string[], ctx: CliContext): Promise<Described> {
  if (ctx.embedded) {
    const loaded = collectServices(
      ctx.embedded.modules.map((m) => ({ ...m, explicit: false })),
      ctx.embedded.name,
    );
    return { document: documentOf(loaded), source: ctx.embedded.name };
  }
  const urls = inputs.filter(isUrl);
  if (urls.length > 0) {
    if (inputs.length > 1) {
      throw new UsageError("Give either one server URL or service files and directories, not both");
    }
    return { document: await fetchIntrospection(urls[0]!, ctx), source: urls[0]! };
  }
  ctx.err(`Loading ${inputs.join(", ")}`);
  const loaded = await loadServices(inputs, ctx);
  return { document: documentOf(loaded), source: loaded.modules.join(", ") };
}

/**
 * The introspection document of loaded services, with the export names of their schemas.
 *
 * @param loaded What the modules export.
 * @returns The document.
 */
export function documentOf(loaded: LoadedServices): IntrospectionDocument {
  const names = new Map<object, string>(loaded.schemaNames);
  for (const [schema, name] of loaded.app?.options.schemaNames ?? []) names.set(schema, name);
  const basePath = loaded.app?.options.basePath?.replace(/\/+$/, "");
  return buildIntrospection(loaded.services, {
    schemaNames: names,
    ...(basePath ? { basePath } : {}),
  });
}

/**
 * Fetches a server's introspection document.
 *
 * @param url The server's base URL (with its base path, if any).
 * @param ctx The CLI context.
 * @returns The document.
 * @throws {CliError} One line naming the URL: unreachable, not a microapi server, introspection
 * off, or an invalid document.
 */
export async function fetchIntrospection(
  url: string,
  ctx: CliContext,
): Promise<IntrospectionDocument> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new UsageError(`Invalid URL ${url}`);
  }
  const target = `${base.href.replace(/\/+$/, "")}${INTROSPECTION_PATH}`;
  ctx.err(`Fetching ${target}`);
  let response: Response;
  try {
    response = await fetch(target, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (error) {
    throw new CliError(`Cannot reach ${url}: ${networkReason(error)}`);
  }
  const text = await response.text().catch(() => "");
  if (!response.ok) {
    const hint = response.status === 404 ? ": is it a microapi server with introspection on?" : "";
    throw new CliError(
      `${url} does not publish an introspection document (HTTP ${response.status} for ` +
        `${target})${hint}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${target} did not answer with JSON: is ${url} a microapi server?`);
  }
  try {
    return parseIntrospection(json, target);
  } catch (error) {
    throw new CliError(firstLine(error));
  }
}

/** Why a fetch failed, in a few words, the same on Deno and Bun. */
function networkReason(error: unknown): string {
  const text = [error, (error as { cause?: unknown })?.cause]
    .map((e) => `${(e as { code?: unknown })?.code ?? ""} ${firstLine(e)}`).join(" ");
  if ((error as { name?: string })?.name === "TimeoutError") {
    return `no answer within ${FETCH_TIMEOUT_MS / 1000} s`;
  }
  if (/refused/i.test(text)) return "connection refused";
  if (/ENOTFOUND|dns|lookup|resolve|name or service not known/i.test(text)) {
    return "host not found";
  }
  if (/reset/i.test(text)) return "connection reset";
  return firstLine(error);
}
