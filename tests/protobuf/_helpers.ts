/**
 * Shared by the protobuf tests: the example services and the kitchen sink with their export
 * names, `.proto` text for a few services, and the `buf` binary that `@bufbuild/buf` installs.
 */
import { readdir } from "node:fs/promises";
import { type Outcome, root, run } from "../_cli.ts";
import * as analytics from "../../examples/analytics.ts";
import * as chat from "../../examples/chat.ts";
import * as users from "../../examples/users.ts";
import * as sink from "../codegen/_kitchen_sink.ts";
import type { Service } from "../../mod.ts";
import {
  buildProtoModel,
  fileDescriptorSet,
  type ProtoModelOptions,
  protoSources,
} from "../../src/protobuf/mod.ts";

/** Export names of every zod schema in some modules, as the CLI collects them. */
export function exportNames(...modules: Record<string, unknown>[]): Map<object, string> {
  const names = new Map<object, string>();
  for (const module of modules) {
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === "object" && value !== null && "_zod" in value && !names.has(value)) {
        names.set(value, name);
      }
    }
  }
  return names;
}

/** The example services (users, analytics, chat) and their schema names. */
export const examples: { services: Service[]; schemaNames: Map<object, string> } = {
  services: [users.users, analytics.analytics, chat.chat],
  schemaNames: exportNames(users, analytics, chat),
};

/** The codegen kitchen sink's services and schema names. */
export const kitchenSink: { services: Service[]; schemaNames: Map<object, string> } = {
  services: [
    sink.profiles,
    sink.legacyProfiles,
    sink.drawing,
    sink.types,
    sink.probe,
  ],
  schemaNames: exportNames(sink),
};

/**
 * The `.proto` text of each service, by file path.
 *
 * @param services The services.
 * @param options Names and lock.
 * @returns The texts.
 */
export function protoTexts(
  services: Service[],
  options: ProtoModelOptions = {},
): Record<string, string> {
  const set = fileDescriptorSet(buildProtoModel(services, options));
  return Object.fromEntries(protoSources(set).map((file) => [file.path, file.content]));
}

/**
 * The `.proto` text of one service, without the header lines.
 *
 * @param service The service.
 * @param options Names and lock.
 * @returns The text from the first message or service on.
 */
export function protoOf(service: Service, options: ProtoModelOptions = {}): string {
  const text = Object.values(protoTexts([service], options))[0]!;
  return text.slice(text.search(/^(service|message|enum) /m));
}

/**
 * The body of one top-level message or enum in a `.proto` text, indentation kept.
 *
 * @param text The text.
 * @param name The message's name.
 * @returns From `message <name> {` to its closing brace.
 */
export function block(text: string, name: string): string {
  const start = text.search(new RegExp(`^(message|enum) ${name} \\{`, "m"));
  if (start < 0) throw new Error(`No message ${name} in:\n${text}`);
  const end = text.indexOf("\n}", start);
  return text.slice(start, end + 2);
}

/**
 * The `buf` executable from `@bufbuild/buf` (its platform package holds the native binary, which
 * runs without Node).
 *
 * @returns Its path.
 */
export async function bufBinary(): Promise<string> {
  const dir = `${root}node_modules/@bufbuild/`;
  const packages = await readdir(dir).catch(() => [] as string[]);
  const native = packages.find((name) => /^buf-(linux|darwin|win32)-/.test(name));
  if (native === undefined) {
    throw new Error(`No @bufbuild/buf platform package in ${dir}: run bun install`);
  }
  return `${dir}${native}/bin/buf`;
}

/**
 * Runs buf, offline, with its cache in `cwd`.
 *
 * @param args The arguments.
 * @param cwd Where to run it.
 * @returns The outcome.
 */
export async function buf(args: string[], cwd: string): Promise<Outcome> {
  return await run([await bufBinary(), ...args], {
    cwd,
    env: { BUF_CACHE_DIR: `${cwd}/.buf-cache`, HOME: cwd },
  });
}
