import type { z } from "zod";
import type { MethodDefinition, Service } from "../schema/service.ts";
import type {
  ProtoField,
  ProtoFile,
  ProtoMessage,
  ProtoMethod,
  ProtoRoot,
  ProtoService,
  ScalarType,
  ValueType,
} from "./model.ts";
import { claim, packageName, pascalName, snakeCase } from "./names.ts";
import type { LockEntry, ProtoLock } from "./numbering.ts";
import { type Mutable, TypeBuilder, WKT } from "./type_builder.ts";
import { defOf } from "./zod_def.ts";
import { type ReadSchema, readSchema, type Side } from "./zod_reader.ts";

/** How {@linkcode buildProtoModel} names and numbers things. */
export interface ProtoModelOptions {
  /**
   * Names for schemas, by identity: the export names of the modules the services came from (the
   * CLI passes them; an app passes its `schemaNames`). A schema's `.meta({ id })` comes first.
   */
  readonly schemaNames?: ReadonlyMap<object, string>;
  /** The lock: field and enum value numbers to keep (see docs/connect.md, "Field numbers"). */
  readonly lock?: ProtoLock;
}

/** The protobuf model of a set of services. */
export interface ProtoModel {
  /** One file per service, in the order given. */
  readonly files: readonly ProtoFile[];
  /** The numbers used, as a lock to write (entries for every message and enum, by full name). */
  readonly lock: ProtoLock;
  /**
   * How the numbers differ from the lock given: new and removed fields, messages and enums. Empty
   * when no lock was given or nothing changed; a server may log these (the lock is out of date).
   */
  readonly changes: readonly string[];
}

/** Scalars with a wrapper in google/protobuf/wrappers.proto, used for scalar requests. */
const WRAPPER_TYPES: Partial<Record<ScalarType, string>> = {
  double: "DoubleValue",
  float: "FloatValue",
  int64: "Int64Value",
  uint64: "UInt64Value",
  int32: "Int32Value",
  uint32: "UInt32Value",
  bool: "BoolValue",
  string: "StringValue",
  bytes: "BytesValue",
};

/**
 * Maps services to protobuf: one package, file and service per MicroAPI service (and version),
 * an RPC per method, a message per object schema, an enum per string enum, a oneof per
 * discriminated union, and well-known types for dates, JSON values and missing inputs. The
 * mapping, its naming rules and what it loses are in docs/connect.md.
 *
 * Every schema is read as it is sent: request schemas as input (a field with a default may be
 * left out), response schemas as output.
 *
 * @param services The services.
 * @param options Schema names and the lock.
 * @returns The model, the lock to write and what changed against the lock given.
 * @throws {TypeError} For two services that map to one package, a schema that cannot be sent
 * (a function, a symbol), or invalid `.meta({ protobuf })` numbers.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Service, z } from "../../mod.ts";
 * import { buildProtoModel } from "./build_model.ts";
 * const users = new Service("users", { version: 1 }).method("get_user", {
 *   input: z.object({ user_id: z.number().int() }),
 *   output: z.object({ name: z.string() }),
 * }, () => ({ name: "ada" }));
 * const { files } = buildProtoModel([users]);
 * assert.equal(files[0]!.path, "users/v1/users.proto");
 * assert.equal(files[0]!.service.methods[0]!.path, "/users.v1.Users/GetUser");
 * ```
 */
export function buildProtoModel(
  services: Iterable<Service>,
  options: ProtoModelOptions = {},
): ProtoModel {
  const files: ProtoFile[] = [];
  const messages: Record<string, LockEntry> = {};
  const enums: Record<string, LockEntry> = {};
  const changes: string[] = [];
  const owners = new Map<string, string>();
  for (const service of services) {
    const label = service.version === undefined
      ? service.name
      : `${service.name} version ${service.version}`;
    const pkg = packageName(service.name, service.version);
    const owner = owners.get(pkg);
    if (owner !== undefined) {
      throw new TypeError(
        `Services ${owner} and ${label} both map to the protobuf package ${pkg}: rename one`,
      );
    }
    owners.set(pkg, label);
    const builder = new FileBuilder(service, pkg, options);
    files.push(builder.build());
    Object.assign(messages, builder.types.lockMessages);
    Object.assign(enums, builder.types.lockEnums);
    changes.push(...builder.types.changes);
  }
  if (options.lock !== undefined) {
    for (const name of Object.keys(options.lock.messages)) {
      if (!(name in messages)) changes.push(`message ${name} no longer exists`);
    }
    for (const name of Object.keys(options.lock.enums)) {
      if (!(name in enums)) changes.push(`enum ${name} no longer exists`);
    }
  }
  return { files, lock: { version: 1, messages, enums }, changes };
}

class FileBuilder {
  readonly types: TypeBuilder;
  readonly #service: Service;
  readonly #pkg: string;
  readonly #types: TypeBuilder;

  constructor(service: Service, pkg: string, options: ProtoModelOptions) {
    this.#service = service;
    this.#pkg = pkg;
    this.types = this.#types = new TypeBuilder(pkg, options);
  }

  build(): ProtoFile {
    const service = this.#service;
    const serviceName = pascalName(service.name, "Service");
    this.#types.scope(this.#pkg).add(serviceName);
    const roots = service.methods.flatMap((method) =>
      (["input", "output"] as const).map((side) => ({ method, side, schema: method[side] }))
    );

    // Named schemas claim their names first, in the order met, so that no fallback name can take
    // one; then requests and responses without a name take `<Method>Request` / `<Method>Response`.
    const met: { def: object; name: string }[] = [];
    const seen = new Set<object>();
    for (const root of roots) {
      if (root.schema) this.#discover(root.schema, root.side, this.#where(root), seen, met);
    }
    const taken = this.#types.scope(this.#pkg);
    for (const { def, name } of met) {
      if (!this.#types.topNames.has(def)) {
        this.#types.topNames.set(def, claim(taken, pascalName(name)));
      }
    }
    const rootNames = new Map<string, string>();
    for (const root of roots) {
      if (!root.schema) continue;
      const read = readSchema(root.schema, root.side, this.#where(root));
      const suffix = root.side === "input" ? "Request" : "Response";
      const method = pascalName(root.method.name, "Method");
      const fallbacks = [`${method}${suffix}`, `${serviceName}${method}${suffix}`];
      const kind = rootKind(read, root.side);
      if (kind === "message") {
        const def = defOf(read.chain.at(-1)!);
        if (!this.#types.topNames.has(def)) {
          this.#types.topNames.set(def, claimFirst(taken, fallbacks));
        }
      } else if (kind === "wrapper") {
        const key = this.#types.key(root.schema, "w", root.side);
        if (!rootNames.has(key)) {
          const own = this.#types.explicitName(root.schema);
          rootNames.set(
            key,
            claimFirst(taken, own === undefined ? fallbacks : [pascalName(own), ...fallbacks]),
          );
        }
      }
    }

    const methodNames = new Set<string>();
    const methods: ProtoMethod[] = service.methods.map((method) => {
      const name = claim(methodNames, pascalName(method.name, "Method"));
      return {
        key: method.name,
        name,
        path: `/${this.#pkg}.${serviceName}/${name}`,
        pattern: method.pattern,
        input: this.#root(method, "input", rootNames),
        output: this.#root(method, "output", rootNames),
        ...(method.description === undefined ? {} : { description: method.description }),
        deprecated: method.deprecated,
        ...(method.idempotency === undefined ? {} : { idempotency: method.idempotency }),
      };
    });
    this.#finishFields(methods);

    const protoService: ProtoService = {
      key: service.name,
      ...(service.version === undefined ? {} : { version: service.version }),
      name: serviceName,
      fullName: `${this.#pkg}.${serviceName}`,
      methods,
      ...(service.description === undefined ? {} : { description: service.description }),
      deprecated: service.deprecated,
    };
    return {
      path: `${this.#pkg.split(".").join("/")}/${snakeCase(service.name, "service")}.proto`,
      package: this.#pkg,
      service: protoService,
      types: this.#types.types,
      imports: [...this.#types.imports].sort(),
    };
  }

  #where(root: { method: MethodDefinition; side: Side }): string {
    return `${this.#service.name}.${root.method.name} ${root.side}`;
  }

  #discover(
    schema: z.ZodType,
    side: Side,
    where: string,
    seen: Set<object>,
    met: { def: object; name: string }[],
  ): void {
    const read = readSchema(schema, side, where);
    const core = read.chain.at(-1)!;
    if (seen.has(core)) return;
    seen.add(core);
    const { shape } = read;
    if (shape.kind === "object" || shape.kind === "union" || shape.kind === "enum") {
      const name = this.#types.nameOf(read);
      if (name !== undefined) met.push({ def: defOf(shape.schema), name });
    }
    if (shape.kind === "object") {
      for (const [key, child] of Object.entries(shape.shape)) {
        this.#discover(child, side, `${where}.${key}`, seen, met);
      }
    } else if (shape.kind === "union") {
      for (const option of shape.options) this.#discover(option, side, where, seen, met);
    } else if (shape.kind === "list") {
      this.#discover(shape.element, side, `${where}[]`, seen, met);
    } else if (shape.kind === "map") {
      this.#discover(shape.value, side, `${where}{}`, seen, met);
    }
  }

  #root(method: MethodDefinition, side: Side, rootNames: Map<string, string>): ProtoRoot {
    const schema = method[side];
    const empty: ProtoRoot = { typeName: "google.protobuf.Empty", unwrap: "empty" };
    if (schema === undefined) {
      this.#types.imports.add(WKT.empty);
      return empty;
    }
    const where = this.#where({ method, side });
    const read = readSchema(schema, side, where);
    const kind = rootKind(read, side);
    const { shape } = read;
    const top = { scope: undefined, hint: "Value", side };
    if (kind === "empty") {
      this.#types.imports.add(WKT.empty);
      return empty;
    }
    if (kind === "message") {
      const type = this.#types.value(read, top, where) as Extract<ValueType, { kind: "message" }>;
      return { typeName: type.message.fullName, unwrap: "message", message: type.message };
    }
    if (kind === "timestamp") {
      this.#types.imports.add(WKT.timestamp);
      return { typeName: "google.protobuf.Timestamp", unwrap: "timestamp" };
    }
    if (kind === "json") {
      this.#types.imports.add(WKT.struct);
      return { typeName: "google.protobuf.Value", unwrap: "json" };
    }
    if (kind === "wkt" && shape.kind === "scalar") {
      this.#types.imports.add(WKT.wrappers);
      return {
        typeName: `google.protobuf.${WRAPPER_TYPES[shape.scalar]}`,
        unwrap: "field",
        field: {
          key: "value",
          name: "value",
          number: 1,
          type: { kind: "scalar", scalar: shape.scalar, js: shape.js },
          cardinality: "singular",
          presence: false,
          absent: "zero",
          deprecated: false,
        },
      };
    }
    const key = this.#types.key(schema, "w", side);
    const existing = this.#types.messages.get(key);
    const wrapper = existing ?? this.#types.wrapper(schema, read, top, where, rootNames.get(key)!);
    return {
      typeName: wrapper.fullName,
      unwrap: "field",
      message: wrapper,
      field: wrapper.fields[0]!,
    };
  }

  /**
   * Sets each field's presence and what a missing value becomes, once every message knows which
   * sides it is used on.
   */
  #finishFields(methods: readonly ProtoMethod[]): void {
    const sides = new Map<ProtoMessage, Set<Side>>();
    const mark = (message: ProtoMessage, side: Side) => {
      let set = sides.get(message);
      if (!set) sides.set(message, set = new Set());
      if (set.has(side)) return;
      set.add(side);
      for (const field of message.fields) {
        if (field.type.kind === "message") mark(field.type.message, side);
      }
    };
    for (const method of methods) {
      if (method.input.message) mark(method.input.message, "input");
      if (method.output.message) mark(method.output.message, "output");
    }
    for (const message of this.#types.messages.values()) {
      const used = sides.get(message) ?? new Set();
      for (const field of message.fields) {
        const flags = this.#types.flags.get(field);
        if (!flags) continue;
        const scalar = field.cardinality === "singular" &&
          (field.type.kind === "scalar" || field.type.kind === "enum");
        (field as Mutable<ProtoField>).presence = scalar &&
          (flags.nullable || (used.has("input") && flags.optionalIn) ||
            (used.has("output") && flags.optionalOut));
        (field as Mutable<ProtoField>).absent = flags.optionalIn
          ? "omit"
          : flags.nullable && field.cardinality === "singular"
          ? "null"
          : "zero";
      }
    }
  }
}

/** How a request or response schema becomes a message. */
function rootKind(
  read: ReadSchema,
  side: Side,
): "empty" | "message" | "timestamp" | "json" | "wkt" | "wrapper" {
  const { shape } = read;
  const maybeMissing = read.nullable || (side === "output" && read.optionalOut);
  if (shape.kind === "none") return "empty";
  if (shape.kind === "json") return "json";
  if (maybeMissing) return "wrapper";
  if (shape.kind === "object" || shape.kind === "union") return "message";
  if (shape.kind === "timestamp") return "timestamp";
  if (shape.kind === "scalar" && WRAPPER_TYPES[shape.scalar] !== undefined) return "wkt";
  return "wrapper";
}

function claimFirst(taken: Set<string>, candidates: readonly string[]): string {
  for (const candidate of candidates) {
    if (!taken.has(candidate)) {
      taken.add(candidate);
      return candidate;
    }
  }
  return claim(taken, candidates[0]!);
}
