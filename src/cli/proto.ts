import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { GENERATED_HEADER } from "../codegen/generate.ts";
import type { CommandSpec, ParsedArgs } from "./_args.ts";
import { type CliContext, CliError, firstLine, UsageError } from "./_context.ts";
import { isUrl } from "./_describe.ts";
import { loadServices } from "./_load.ts";

/** `microapi proto`. */
export const protoCommand: CommandSpec = {
  name: "proto",
  summary: "Write .proto files (proto3) for service modules or a running server",
  usage: "<files|dirs...|url> [options]",
  description:
    "Writes one .proto file per service, <out>/<package path>/<service>.proto (package\n" +
    "users.v1 for service users version 1), and <out>/buf.yaml when there is none, so that\n" +
    "`buf lint` and `buf build` accept the directory. Field numbers follow declaration order\n" +
    "and .meta({ protobuf: { fields } }); --lock keeps them stable as schemas change (the server\n" +
    "must load the same lock). Generated files that no longer belong are removed.",
  options: [
    {
      name: "out",
      short: "o",
      type: "string",
      value: "<dir>",
      description: "The output directory (default: proto)",
    },
    {
      name: "lock",
      type: "string",
      value: "<file>",
      description: "Read field numbers from this lock file if it exists, and write it back",
    },
    {
      name: "check",
      type: "boolean",
      description: "Write nothing; exit 1 if the output directory or the lock is not up to date",
    },
  ],
  positionals: { min: 1, max: Infinity },
  examples: [
    "microapi proto services/ --out proto/ --lock proto/proto.lock.json",
    "microapi proto http://127.0.0.1:8080 --out proto/",
  ],
};

/** Written once into the output directory; the user's to edit afterwards. */
const BUF_YAML =
  `# Written by \`microapi proto\` when there was no buf.yaml; edit it freely, it is not rewritten.
version: v2
lint:
  use:
    - STANDARD
  except:
    # Packages are named after the services; an unversioned service has no version suffix.
    - PACKAGE_VERSION_SUFFIX
    # Services keep their MicroAPI names: users.v1.Users, not users.v1.UsersService.
    - SERVICE_SUFFIX
    # Requests and responses are named after their zod schemas, and RPCs may share them.
    - RPC_REQUEST_STANDARD_NAME
    - RPC_RESPONSE_STANDARD_NAME
    - RPC_REQUEST_RESPONSE_UNIQUE
breaking:
  use:
    - FILE
`;

/** How long `proto` waits for a server. */
const FETCH_TIMEOUT_MS = 10_000;

/**
 * Runs `microapi proto`.
 *
 * @param args The parsed arguments.
 * @param ctx The CLI context.
 * @returns The exit code.
 */
export async function proto(args: ParsedArgs, ctx: CliContext): Promise<number> {
  // Loaded here, not at the top: no other command needs @bufbuild/protobuf.
  const lib = await import("../protobuf/mod.ts");
  const inputs = args.positionals;
  const lockArg = args.options.lock as string | undefined;
  const lockPath = lockArg === undefined ? undefined : absolute(ctx, lockArg);
  let set;
  let lockText: string | undefined;
  let changes: readonly string[] = [];
  if (inputs.some(isUrl)) {
    if (inputs.length > 1) {
      throw new UsageError("Give either one server URL or service files and directories, not both");
    }
    if (lockPath !== undefined) {
      throw new UsageError(
        "--lock needs service files: a server's descriptors already carry its field numbers",
      );
    }
    const bytes = await fetchDescriptors(inputs[0]!, lib.DESCRIPTOR_SET_PATH, ctx);
    try {
      set = lib.decodeFileDescriptorSet(bytes);
    } catch (error) {
      throw new CliError(
        `${inputs[0]} answered with something that is not a FileDescriptorSet: ${firstLine(error)}`,
      );
    }
  } else {
    ctx.err(`Loading ${inputs.join(", ")}`);
    const loaded = await loadServices(inputs, ctx);
    const schemaNames = new Map<object, string>(loaded.schemaNames);
    for (const [schema, name] of loaded.app?.options.schemaNames ?? []) {
      schemaNames.set(schema, name);
    }
    let lock;
    if (lockPath !== undefined) {
      const text = await readFile(lockPath, "utf8").catch(() => undefined);
      if (text !== undefined) {
        try {
          lock = lib.parseLock(JSON.parse(text), relative(ctx.cwd, lockPath));
        } catch (error) {
          throw new CliError(firstLine(error));
        }
      }
    }
    try {
      const model = lib.buildProtoModel(loaded.services, {
        schemaNames,
        ...(lock === undefined ? {} : { lock }),
      });
      set = lib.fileDescriptorSet(model);
      if (lockPath !== undefined) lockText = lib.formatLock(model.lock);
      changes = model.changes;
    } catch (error) {
      throw new CliError(firstLine(error));
    }
  }

  const sources = lib.protoSources(set);
  const outArg = (args.options.out as string | undefined) ?? "proto";
  const out = absolute(ctx, outArg);
  const shown = `${relative(ctx.cwd, out) || "."}/`;
  const wanted = new Set(sources.map((file) => file.path));
  const existing = await generatedProtoFiles(out);
  const stale = existing.filter((path) => !wanted.has(path));
  const changed: string[] = [];
  for (const file of sources) {
    const path = join(out, file.path);
    const current = await readFile(path, "utf8").catch(() => undefined);
    if (current === file.content) continue;
    if (current !== undefined && !current.startsWith(GENERATED_HEADER)) {
      throw new CliError(
        `Refusing to overwrite ${relative(ctx.cwd, path)}: it was not generated by microapi`,
      );
    }
    changed.push(file.path);
  }
  const bufYaml = join(out, "buf.yaml");
  const needsBufYaml = await readFile(bufYaml, "utf8").then(() => false, () => true);
  const lockCurrent = lockPath === undefined
    ? undefined
    : await readFile(lockPath, "utf8").catch(() => undefined);
  const lockChanged = lockText !== undefined && lockCurrent !== lockText;

  const services = set.file.filter((file) => wanted.has(file.name))
    .reduce((n, file) => n + file.service.length, 0);
  const methods = set.file.filter((file) => wanted.has(file.name))
    .reduce((n, file) => n + file.service.reduce((m, s) => m + s.method.length, 0), 0);
  const summary = `${services} service${services === 1 ? "" : "s"}, ${methods} method${
    methods === 1 ? "" : "s"
  }`;
  if (args.options.check) {
    const problems = [
      ...changed.map((path) => `${path} ${existing.includes(path) ? "differs" : "is missing"}`),
      ...stale.map((path) => `${path} is stale`),
      ...(lockChanged ? [`${relative(ctx.cwd, lockPath!)} is out of date`] : []),
    ];
    if (problems.length === 0) {
      ctx.out(`${shown} is up to date (${summary})`);
      return 0;
    }
    for (const change of changes) ctx.err(`  ${change}`);
    ctx.err(`error: ${shown} is out of date: ${problems.join(", ")}`);
    return 1;
  }

  for (const file of sources) {
    if (!changed.includes(file.path)) continue;
    const path = join(out, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
  }
  for (const path of stale) await rm(join(out, path));
  if (needsBufYaml) {
    await mkdir(out, { recursive: true });
    await writeFile(bufYaml, BUF_YAML);
  }
  if (lockChanged) {
    await mkdir(dirname(lockPath!), { recursive: true });
    await writeFile(lockPath!, lockText!);
    for (const change of changes) ctx.err(`  ${change}`);
  }
  const written = [...sources.map((file) => file.path), ...(needsBufYaml ? ["buf.yaml"] : [])];
  ctx.out(
    `Wrote ${shown}: ${written.join(", ")} (${summary}; ${changed.length} changed${
      stale.length > 0 ? `, ${stale.length} removed` : ""
    }${lockChanged ? `; lock ${relative(ctx.cwd, lockPath!)} updated` : ""})`,
  );
  return 0;
}

function absolute(ctx: CliContext, path: string): string {
  return isAbsolute(path) ? path : resolve(ctx.cwd, path);
}

/** Fetches a server's FileDescriptorSet. */
async function fetchDescriptors(url: string, path: string, ctx: CliContext): Promise<Uint8Array> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new UsageError(`Invalid URL ${url}`);
  }
  const target = `${base.href.replace(/\/+$/, "")}${path}`;
  ctx.err(`Fetching ${target}`);
  let response: Response;
  try {
    response = await fetch(target, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: unknown })?.cause;
    const text = `${firstLine(error)} ${cause === undefined ? "" : firstLine(cause)}`;
    const why = (error as { name?: string })?.name === "TimeoutError"
      ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s`
      : /refused/i.test(text)
      ? "connection refused"
      : firstLine(error);
    throw new CliError(`Cannot reach ${url}: ${why}`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
  if (!response.ok) {
    throw new CliError(
      `${url} does not publish protobuf descriptors (HTTP ${response.status} for ${target}): ` +
        "run microapi proto on the service files instead",
    );
  }
  return bytes;
}

/** The `.proto` files under `dir` that microapi generated, as paths relative to it. */
async function generatedProtoFiles(dir: string, prefix = ""): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const entry of entries) {
    const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) found.push(...await generatedProtoFiles(dir, path));
    else if (entry.name.endsWith(".proto")) {
      const text = await readFile(join(dir, path), "utf8").catch(() => "");
      if (text.startsWith(GENERATED_HEADER)) found.push(path);
    }
  }
  return found.sort();
}
