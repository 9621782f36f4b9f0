import type { z } from "zod";
import type { MethodDefinition, Service } from "../schema/service.ts";
import type {
  ProtoCase,
  ProtoEnum,
  ProtoEnumValue,
  ProtoField,
  ProtoFile,
  ProtoMessage,
  ProtoMethod,
  ProtoRoot,
  ProtoService,
  Reserved,
  ScalarType,
  ValueType,
} from "./model.ts";
import { claim, jsonName, packageName, pascalName, snakeCase, upperSnakeCase } from "./names.ts";
import { assignNumbers, type LockEntry, type ProtoLock } from "./numbering.ts";
import {
  defOf,
  literalValues,
  metadataOf,
  objectOf,
  protobufMetaOf,
  type ReadSchema,
  readSchema,
  type Side,
} from "./zod_reader.ts";

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

/** The well-known types a file may import. */
const WKT = {
  empty: "google/protobuf/empty.proto",
  timestamp: "google/protobuf/timestamp.proto",
  struct: "google/protobuf/struct.proto",
  wrappers: "google/protobuf/wrappers.proto",
} as const;

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
    Object.assign(messages, builder.lockMessages);
    Object.assign(enums, builder.lockEnums);
    changes.push(...builder.changes);
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

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Mutable<Omit<ProtoMessage, "fields" | "nested">> & {
  fields: Mutable<ProtoField>[];
  nested: (ProtoMessage | ProtoEnum)[];
};

/** Where a type is met: the message it is met in (undefined at the top), and a name for it. */
interface Place {
  readonly scope: Draft | undefined;
  readonly hint: string;
  readonly side: Side;
}

interface Flags {
  readonly optionalIn: boolean;
  readonly optionalOut: boolean;
  readonly nullable: boolean;
}

/** Names of fields (and the oneof) in one message, with their JSON names, case-insensitively. */
class FieldNames {
  #names = new Set<string>();
  #json = new Set<string>();

  claim(base: string): string {
    return claim(this.#names, base, "_", (name) => {
      const lower = name.toLowerCase();
      if (this.#json.has(jsonName(lower))) return false;
      this.#json.add(jsonName(lower));
      return true;
    });
  }
}

class FileBuilder {
  readonly lockMessages: Record<string, LockEntry> = {};
  readonly lockEnums: Record<string, LockEntry> = {};
  readonly changes: string[] = [];
  readonly #service: Service;
  readonly #pkg: string;
  readonly #options: ProtoModelOptions;
  readonly #types: (ProtoMessage | ProtoEnum)[] = [];
  readonly #imports = new Set<string>();
  /** Names in each scope (the package, or a message's full name): types and enum values. */
  readonly #scopes = new Map<string, Set<string>>();
  /** Top-level names chosen for schemas (by definition: `.describe()` copies share one). */
  readonly #topNames = new Map<object, string>();
  readonly #messages = new Map<string, Draft>();
  readonly #enums = new Map<object, ProtoEnum>();
  readonly #flags = new Map<ProtoField, Flags>();
  readonly #ids = new Map<object, number>();
  readonly #sideDependent = new Map<object, boolean>();

  constructor(service: Service, pkg: string, options: ProtoModelOptions) {
    this.#service = service;
    this.#pkg = pkg;
    this.#options = options;
  }

  build(): ProtoFile {
    const service = this.#service;
    const serviceName = pascalName(service.name, "Service");
    this.#scope(this.#pkg).add(serviceName);
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
    const taken = this.#scope(this.#pkg);
    for (const { def, name } of met) {
      if (!this.#topNames.has(def)) this.#topNames.set(def, claim(taken, pascalName(name)));
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
        if (!this.#topNames.has(def)) this.#topNames.set(def, claimFirst(taken, fallbacks));
      } else if (kind === "wrapper") {
        const key = this.#key(root.schema, "w", root.side);
        if (!rootNames.has(key)) {
          const own = this.#explicitName(root.schema);
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
      types: this.#types,
      imports: [...this.#imports].sort(),
    };
  }

  #where(root: { method: MethodDefinition; side: Side }): string {
    return `${this.#service.name}.${root.method.name} ${root.side}`;
  }

  #scope(name: string): Set<string> {
    let names = this.#scopes.get(name);
    if (!names) this.#scopes.set(name, names = new Set());
    return names;
  }

  #id(value: object): number {
    let id = this.#ids.get(value);
    if (id === undefined) this.#ids.set(value, id = this.#ids.size + 1);
    return id;
  }

  /** A key for a type made from a schema: schemas that differ by side get one per side. */
  #key(schema: z.ZodType, tag: string, side: Side): string {
    const def = defOf(schema);
    return `${this.#id(def)}|${tag}${this.#isSideDependent(schema) ? `|${side}` : ""}`;
  }

  /** Whether a schema reads differently as input and output (it has a pipe somewhere). */
  #isSideDependent(schema: z.ZodType): boolean {
    const def = defOf(schema);
    const known = this.#sideDependent.get(def);
    if (known !== undefined) return known;
    this.#sideDependent.set(def, false); // while visiting: cycles add nothing
    let result = false;
    const visit = (child: unknown) => {
      if (!result && typeof child === "object" && child !== null && "_zod" in child) {
        result = this.#isSideDependent(child as z.ZodType);
      }
    };
    switch (def.type) {
      case "pipe":
      case "transform":
        result = true;
        break;
      case "object":
        for (const child of Object.values(def.shape as Record<string, unknown>)) visit(child);
        break;
      case "union":
        for (const child of def.options as unknown[]) visit(child);
        break;
      case "lazy":
        visit((schema as unknown as { _zod: { innerType: unknown } })._zod.innerType);
        break;
      case "tuple":
        for (const child of def.items as unknown[]) visit(child);
        break;
      default:
        visit(def.innerType);
        visit(def.element);
        visit(def.valueType);
    }
    this.#sideDependent.set(def, result);
    return result;
  }

  #explicitName(schema: z.ZodType): string | undefined {
    const id = metadataOf(schema)?.id;
    if (typeof id === "string" && id !== "") return id;
    return this.#options.schemaNames?.get(schema);
  }

  /**
   * A type's comment: the description of a named schema, or of any schema that is a request or
   * response itself (a field's description stays on the field).
   */
  #typeDescription(schema: z.ZodType, place: Place): string | undefined {
    if (place.scope !== undefined && this.#explicitName(schema) === undefined) return undefined;
    const description = metadataOf(schema)?.description;
    return typeof description === "string" ? description : undefined;
  }

  /** The innermost explicit name along a schema's wrappers. */
  #nameOf(read: ReadSchema): string | undefined {
    for (let i = read.chain.length - 1; i >= 0; i--) {
      const name = this.#explicitName(read.chain[i]!);
      if (name !== undefined) return name;
    }
    return undefined;
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
      const name = this.#nameOf(read);
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

  /**
   * Where a new type goes: at the top under its own name when it has one (unless `nest` is set,
   * or `name` gives the top-level name), else inside the message it is met in, named after the
   * property. `suffix` is added for the second reading of a schema that differs by side.
   */
  #place(
    def: object,
    place: Place,
    options: { nest?: boolean; name?: string; suffix?: string } = {},
  ): { fullName: string; name: string; top: boolean } {
    const suffix = options.suffix ?? "";
    const top = options.name ?? (options.nest ? undefined : this.#topNames.get(def));
    if (top !== undefined || place.scope === undefined) {
      const name = top !== undefined && suffix === ""
        ? top
        : claim(this.#scope(this.#pkg), `${top ?? place.hint}${suffix}`);
      return { fullName: `${this.#pkg}.${name}`, name, top: true };
    }
    const name = claim(this.#scope(place.scope.fullName), `${place.hint}${suffix}`);
    return { fullName: `${place.scope.fullName}.${name}`, name, top: false };
  }

  #newMessage(
    def: object,
    place: Place,
    options: {
      nest?: boolean;
      name?: string;
      suffix?: string;
      wrapper?: boolean;
      description?: unknown;
    },
  ): Draft {
    const { fullName, name, top } = this.#place(def, place, options);
    const { description } = options;
    const draft: Draft = {
      kind: "message",
      fullName,
      name,
      fields: [],
      wrapper: options.wrapper ?? false,
      nested: [],
      reserved: { numbers: [], names: [] },
    };
    if (typeof description === "string") draft.description = description;
    if (top) this.#types.push(draft);
    else place.scope!.nested.push(draft);
    return draft;
  }

  #value(read: ReadSchema, place: Place, where: string): ValueType {
    const { shape } = read;
    switch (shape.kind) {
      case "scalar":
        return { kind: "scalar", scalar: shape.scalar, js: shape.js };
      case "timestamp":
        this.#imports.add(WKT.timestamp);
        return { kind: "timestamp" };
      case "json":
      case "none":
        this.#imports.add(WKT.struct);
        return { kind: "json" };
      case "enum":
        return { kind: "enum", enum: this.#enum(read, place) };
      case "object":
        return { kind: "message", message: this.#object(shape.schema, shape.shape, place) };
      case "union":
        return { kind: "message", message: this.#union(read, place) };
      case "list":
      case "map":
        // Only reached for a list inside a list (or map), which #element wraps first.
        throw new Error(`Unexpected ${shape.kind} in ${where}`);
    }
  }

  /** A message from an object schema; `omit` leaves the discriminator of a union option out. */
  #object(
    schema: z.ZodType,
    shape: Record<string, z.ZodType>,
    place: Place,
    omit?: string,
  ): Draft {
    const key = this.#key(schema, omit === undefined ? "o" : `v:${omit}`, place.side);
    const existing = this.#messages.get(key);
    if (existing) return existing;
    const other = this.#messages.get(
      this.#key(schema, omit === undefined ? "o" : `v:${omit}`, opposite(place.side)),
    );
    const draft = this.#newMessage(defOf(schema), place, {
      nest: omit !== undefined,
      description: this.#typeDescription(schema, place),
      ...(other ? { suffix: place.side === "input" ? "Input" : "Output" } : {}),
    });
    this.#messages.set(key, draft);
    const names = new FieldNames();
    for (const [property, child] of Object.entries(shape)) {
      if (property === omit) continue;
      const at = `${draft.fullName}.${property}`;
      const field = this.#field(readSchema(child, place.side, at), property, draft, names, place);
      if (field) draft.fields.push(field);
    }
    const meta = protobufMetaOf(schema, `message ${draft.fullName}`);
    const explicit = meta?.fields === undefined ? undefined : Object.fromEntries(
      Object.entries(meta.fields).filter(([property]) => property !== omit),
    );
    this.#number(draft, explicit, meta?.reserved);
    return draft;
  }

  #field(
    read: ReadSchema,
    key: string,
    message: Draft,
    names: FieldNames,
    place: Place,
  ): Mutable<ProtoField> | undefined {
    const { shape } = read;
    if (shape.kind === "none") return undefined;
    const where = `${message.fullName}.${key}`;
    const name = names.claim(snakeCase(key));
    let type: ValueType;
    let cardinality: ProtoField["cardinality"] = "singular";
    const item = { scope: message, hint: `${pascalName(key, "Field")}Item`, side: place.side };
    if (shape.kind === "list") {
      cardinality = "list";
      type = this.#element(shape.element, item, `${where}[]`);
    } else if (shape.kind === "map") {
      cardinality = "map";
      type = this.#element(shape.value, item, `${where}{}`);
    } else {
      type = this.#value(read, { ...item, hint: pascalName(key, "Field") }, where);
    }
    // A description on a named type documents the type, and is printed there, not here.
    const ownsDescription = read.describedBy !== undefined &&
      this.#explicitName(read.describedBy) === undefined;
    const field: Mutable<ProtoField> = {
      key,
      name,
      number: 0,
      type,
      cardinality,
      presence: false,
      absent: "zero",
      ...(ownsDescription ? { description: read.description } : {}),
      deprecated: read.deprecated,
    };
    this.#flags.set(field, read);
    return field;
  }

  /** The type of a list element or map value; one that is itself a list or may be null is wrapped. */
  #element(schema: z.ZodType, place: Place, where: string): ValueType {
    const read = readSchema(schema, place.side, where);
    const kind = read.shape.kind;
    if (!read.nullable && !read.optionalIn && kind !== "list" && kind !== "map") {
      return this.#value(read, place, where);
    }
    return { kind: "message", message: this.#wrapper(schema, read, place, where) };
  }

  /** A message with one field, `value` = 1, standing for a value that is not an object. */
  #wrapper(
    schema: z.ZodType,
    read: ReadSchema,
    place: Place,
    where: string,
    name?: string,
  ): Draft {
    const key = this.#key(schema, "w", place.side);
    const existing = this.#messages.get(key);
    if (existing) return existing;
    const draft = this.#newMessage(defOf(schema), place, {
      nest: true,
      wrapper: true,
      ...(name === undefined ? {} : { name }),
    });
    this.#messages.set(key, draft);
    const inner = { scope: draft, hint: "Value", side: place.side };
    const field = this.#field(read, "value", draft, new FieldNames(), inner);
    if (field === undefined) throw new Error(`Unexpected empty element in ${where}`);
    field.number = 1;
    draft.fields.push(field);
    return draft;
  }

  #union(read: ReadSchema, place: Place): Draft {
    const shape = read.shape as Extract<ReadSchema["shape"], { kind: "union" }>;
    const key = this.#key(shape.schema, "u", place.side);
    const existing = this.#messages.get(key);
    if (existing) return existing;
    const draft = this.#newMessage(defOf(shape.schema), place, {
      description: this.#typeDescription(shape.schema, place),
    });
    this.#messages.set(key, draft);
    const names = new FieldNames();
    const oneofName = names.claim(snakeCase(shape.discriminator, "kind"));
    const cases: ProtoCase[] = [];
    for (const option of shape.options) {
      const object = objectOf(option)!;
      const values = literalValues(object.shape[shape.discriminator]!)!;
      const caseKey = String(values[0]);
      const single = values.length === 1;
      const variantPlace = { scope: draft, hint: pascalName(caseKey, "Case"), side: place.side };
      const variant = this.#object(
        object.schema,
        object.shape,
        variantPlace,
        single ? shape.discriminator : undefined,
      );
      const optionDescription = metadataOf(option)?.description;
      const field: Mutable<ProtoField> = {
        key: caseKey,
        name: names.claim(snakeCase(caseKey, "case")),
        number: 0,
        type: { kind: "message", message: variant },
        cardinality: "singular",
        presence: false,
        absent: "omit",
        ...(typeof optionDescription === "string" ? { description: optionDescription } : {}),
        deprecated: metadataOf(option)?.deprecated === true,
      };
      draft.fields.push(field);
      cases.push({ field, values, dropsDiscriminator: single });
    }
    draft.oneof = { name: oneofName, discriminator: shape.discriminator, cases };
    const meta = protobufMetaOf(shape.schema, `message ${draft.fullName}`);
    this.#number(draft, meta?.fields, meta?.reserved);
    return draft;
  }

  #enum(read: ReadSchema, place: Place): ProtoEnum {
    const shape = read.shape as Extract<ReadSchema["shape"], { kind: "enum" }>;
    const def = defOf(shape.schema);
    const existing = this.#enums.get(def);
    if (existing) return existing;
    const { fullName, name, top } = this.#place(def, place);
    const scope = fullName.slice(0, fullName.length - name.length - 1);
    const taken = this.#scope(scope);
    const prefix = upperSnakeCase(name);
    const meta = protobufMetaOf(shape.schema, `enum ${fullName}`);
    const locked = this.#options.lock?.enums[fullName];
    const numbering = assignNumbers({
      where: `enum ${fullName}`,
      kind: "enum",
      keys: shape.values,
      ...(meta?.values ? { explicit: meta.values } : {}),
      ...(meta?.reserved ? { reserved: meta.reserved } : {}),
      ...(locked ? { locked } : {}),
    });
    const values: ProtoEnumValue[] = [
      { name: claim(taken, `${prefix}_UNSPECIFIED`, "_"), number: 0, value: undefined },
      ...shape.values.map((value) => ({
        name: claim(taken, `${prefix}_${upperSnakeCase(value)}`, "_"),
        number: numbering.numbers.get(value)!,
        value,
      })),
    ];
    const inUse = new Set(values.map((value) => value.name));
    const description = this.#typeDescription(shape.schema, place);
    const protoEnum: ProtoEnum = {
      kind: "enum",
      fullName,
      name,
      values,
      reserved: {
        numbers: numbering.reserved.numbers,
        names: numbering.reserved.names.map((value) => `${prefix}_${upperSnakeCase(value)}`)
          .filter((value) => !inUse.has(value)),
      },
      ...(typeof description === "string" ? { description } : {}),
    };
    this.#enums.set(def, protoEnum);
    if (top) this.#types.push(protoEnum);
    else place.scope!.nested.push(protoEnum);
    this.lockEnums[fullName] = numbering.entry;
    this.changes.push(...numbering.changes);
    if (this.#options.lock !== undefined && locked === undefined) {
      this.changes.push(`new enum ${fullName}`);
    }
    return protoEnum;
  }

  #number(
    draft: Draft,
    explicit: Readonly<Record<string, number>> | undefined,
    reserved: readonly (number | string)[] | undefined,
  ): void {
    const locked = this.#options.lock?.messages[draft.fullName];
    const numbering = assignNumbers({
      where: `message ${draft.fullName}`,
      kind: "message",
      keys: draft.fields.map((field) => field.key),
      ...(explicit ? { explicit } : {}),
      ...(reserved ? { reserved } : {}),
      ...(locked ? { locked } : {}),
    });
    for (const field of draft.fields) field.number = numbering.numbers.get(field.key)!;
    const inUse = new Set(draft.fields.map((field) => field.name));
    draft.reserved = {
      numbers: numbering.reserved.numbers,
      names: [...new Set(numbering.reserved.names.map((key) => snakeCase(key)))]
        .filter((name) => !inUse.has(name)).sort(),
    } satisfies Reserved;
    this.lockMessages[draft.fullName] = numbering.entry;
    this.changes.push(...numbering.changes);
    if (this.#options.lock !== undefined && locked === undefined) {
      this.changes.push(`new message ${draft.fullName}`);
    }
  }

  #root(method: MethodDefinition, side: Side, rootNames: Map<string, string>): ProtoRoot {
    const schema = method[side];
    const empty: ProtoRoot = { typeName: "google.protobuf.Empty", unwrap: "empty" };
    if (schema === undefined) {
      this.#imports.add(WKT.empty);
      return empty;
    }
    const where = this.#where({ method, side });
    const read = readSchema(schema, side, where);
    const kind = rootKind(read, side);
    const { shape } = read;
    const top = { scope: undefined, hint: "Value", side };
    if (kind === "empty") {
      this.#imports.add(WKT.empty);
      return empty;
    }
    if (kind === "message") {
      const type = this.#value(read, top, where) as Extract<ValueType, { kind: "message" }>;
      return { typeName: type.message.fullName, unwrap: "message", message: type.message };
    }
    if (kind === "timestamp") {
      this.#imports.add(WKT.timestamp);
      return { typeName: "google.protobuf.Timestamp", unwrap: "timestamp" };
    }
    if (kind === "json") {
      this.#imports.add(WKT.struct);
      return { typeName: "google.protobuf.Value", unwrap: "json" };
    }
    if (kind === "wkt" && shape.kind === "scalar") {
      this.#imports.add(WKT.wrappers);
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
    const key = this.#key(schema, "w", side);
    const existing = this.#messages.get(key);
    const wrapper = existing ?? this.#wrapper(schema, read, top, where, rootNames.get(key)!);
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
    for (const message of this.#messages.values()) {
      const used = sides.get(message) ?? new Set();
      for (const field of message.fields) {
        const flags = this.#flags.get(field);
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

function opposite(side: Side): Side {
  return side === "input" ? "output" : "input";
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
