import type { z } from "zod";
import type {
  ProtoCase,
  ProtoEnum,
  ProtoEnumValue,
  ProtoField,
  ProtoMessage,
  Reserved,
  ValueType,
} from "./model.ts";
import { claim, FieldNames, pascalName, snakeCase, upperSnakeCase } from "./names.ts";
import { assignNumbers, type LockEntry } from "./numbering.ts";
import type { ProtoModelOptions } from "./build_model.ts";
import { defOf, metadataOf } from "./zod_def.ts";
import { protobufMetaOf, type ReadSchema, readSchema, type Side } from "./zod_reader.ts";
import { readsBySide } from "./zod_sides.ts";
import { literalValues, objectOf } from "./zod_unions.ts";

/**
 * Makes the messages and enums of one file from zod schemas: where each goes and what it is
 * called, its fields and their numbers. {@linkcode buildProtoModel} drives it from the requests
 * and responses.
 */

/** The well-known type files a file may import. */
export const WKT = {
  empty: "google/protobuf/empty.proto",
  timestamp: "google/protobuf/timestamp.proto",
  struct: "google/protobuf/struct.proto",
  wrappers: "google/protobuf/wrappers.proto",
} as const;

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type Draft = Mutable<Omit<ProtoMessage, "fields" | "nested">> & {
  fields: Mutable<ProtoField>[];
  nested: (ProtoMessage | ProtoEnum)[];
};

/** Where a type is met: the message it is met in (undefined at the top), and a name for it. */
export interface Place {
  readonly scope: Draft | undefined;
  readonly hint: string;
  readonly side: Side;
}

export interface Flags {
  readonly optionalIn: boolean;
  readonly optionalOut: boolean;
  readonly nullable: boolean;
}

/** The messages and enums of one file, as they are made. */
export class TypeBuilder {
  readonly lockMessages: Record<string, LockEntry> = {};
  readonly lockEnums: Record<string, LockEntry> = {};
  readonly changes: string[] = [];
  /** Top-level messages and enums, in the order made. */
  readonly types: (ProtoMessage | ProtoEnum)[] = [];
  /** The well-known type files used. */
  readonly imports: Set<string> = new Set();
  /** Top-level names chosen for schemas (by definition: `.describe()` copies share one). */
  readonly topNames: Map<object, string> = new Map();
  /** Every message made, by key. */
  readonly messages: Map<string, Draft> = new Map();
  /** What each field's schema said about missing values. */
  readonly flags: Map<ProtoField, Flags> = new Map();
  readonly #pkg: string;
  readonly #options: ProtoModelOptions;
  /** Names in each scope (the package, or a message's full name): types and enum values. */
  readonly #scopes = new Map<string, Set<string>>();
  readonly #enums = new Map<object, ProtoEnum>();
  readonly #ids = new Map<object, number>();

  constructor(pkg: string, options: ProtoModelOptions) {
    this.#pkg = pkg;
    this.#options = options;
  }

  /** The names taken in a scope: the package, or a message's full name. */
  scope(name: string): Set<string> {
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
  key(schema: z.ZodType, tag: string, side: Side): string {
    const def = defOf(schema);
    return `${this.#id(def)}|${tag}${readsBySide(schema) ? `|${side}` : ""}`;
  }

  /** A schema's own name: its `.meta({ id })`, else the name given for it. */
  explicitName(schema: z.ZodType): string | undefined {
    const id = metadataOf(schema)?.id;
    if (typeof id === "string" && id !== "") return id;
    return this.#options.schemaNames?.get(schema);
  }

  /**
   * A type's comment: the description of a named schema, or of any schema that is a request or
   * response itself (a field's description stays on the field).
   */
  #typeDescription(schema: z.ZodType, place: Place): string | undefined {
    if (place.scope !== undefined && this.explicitName(schema) === undefined) return undefined;
    const description = metadataOf(schema)?.description;
    return typeof description === "string" ? description : undefined;
  }

  /** The innermost explicit name along a schema's wrappers. */
  nameOf(read: ReadSchema): string | undefined {
    for (let i = read.chain.length - 1; i >= 0; i--) {
      const name = this.explicitName(read.chain[i]!);
      if (name !== undefined) return name;
    }
    return undefined;
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
    const top = options.name ?? (options.nest ? undefined : this.topNames.get(def));
    if (top !== undefined || place.scope === undefined) {
      const name = top !== undefined && suffix === ""
        ? top
        : claim(this.scope(this.#pkg), `${top ?? place.hint}${suffix}`);
      return { fullName: `${this.#pkg}.${name}`, name, top: true };
    }
    const name = claim(this.scope(place.scope.fullName), `${place.hint}${suffix}`);
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
    if (top) this.types.push(draft);
    else place.scope!.nested.push(draft);
    return draft;
  }

  /** The type of a singular value, making the message or enum it needs. */
  value(read: ReadSchema, place: Place, where: string): ValueType {
    const { shape } = read;
    switch (shape.kind) {
      case "scalar":
        return { kind: "scalar", scalar: shape.scalar, js: shape.js };
      case "timestamp":
        this.imports.add(WKT.timestamp);
        return { kind: "timestamp" };
      case "json":
      case "none":
        this.imports.add(WKT.struct);
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
    const key = this.key(schema, omit === undefined ? "o" : `v:${omit}`, place.side);
    const existing = this.messages.get(key);
    if (existing) return existing;
    const other = this.messages.get(
      this.key(schema, omit === undefined ? "o" : `v:${omit}`, opposite(place.side)),
    );
    const draft = this.#newMessage(defOf(schema), place, {
      nest: omit !== undefined,
      description: this.#typeDescription(schema, place),
      ...(other ? { suffix: place.side === "input" ? "Input" : "Output" } : {}),
    });
    this.messages.set(key, draft);
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
      type = this.value(read, { ...item, hint: pascalName(key, "Field") }, where);
    }
    // A description on a named type documents the type, and is printed there, not here.
    const ownsDescription = read.describedBy !== undefined &&
      this.explicitName(read.describedBy) === undefined;
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
    this.flags.set(field, read);
    return field;
  }

  /** The type of a list element or map value; one that is itself a list or may be null is wrapped. */
  #element(schema: z.ZodType, place: Place, where: string): ValueType {
    const read = readSchema(schema, place.side, where);
    const kind = read.shape.kind;
    if (!read.nullable && !read.optionalIn && kind !== "list" && kind !== "map") {
      return this.value(read, place, where);
    }
    return { kind: "message", message: this.wrapper(schema, read, place, where) };
  }

  /** A message with one field, `value` = 1, standing for a value that is not an object. */
  wrapper(
    schema: z.ZodType,
    read: ReadSchema,
    place: Place,
    where: string,
    name?: string,
  ): Draft {
    const key = this.key(schema, "w", place.side);
    const existing = this.messages.get(key);
    if (existing) return existing;
    const draft = this.#newMessage(defOf(schema), place, {
      nest: true,
      wrapper: true,
      ...(name === undefined ? {} : { name }),
    });
    this.messages.set(key, draft);
    const inner = { scope: draft, hint: "Value", side: place.side };
    const field = this.#field(read, "value", draft, new FieldNames(), inner);
    if (field === undefined) throw new Error(`Unexpected empty element in ${where}`);
    field.number = 1;
    draft.fields.push(field);
    return draft;
  }

  #union(read: ReadSchema, place: Place): Draft {
    const shape = read.shape as Extract<ReadSchema["shape"], { kind: "union" }>;
    const key = this.key(shape.schema, "u", place.side);
    const existing = this.messages.get(key);
    if (existing) return existing;
    const draft = this.#newMessage(defOf(shape.schema), place, {
      description: this.#typeDescription(shape.schema, place),
    });
    this.messages.set(key, draft);
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
    const taken = this.scope(scope);
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
    if (top) this.types.push(protoEnum);
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
}

function opposite(side: Side): Side {
  return side === "input" ? "output" : "input";
}
