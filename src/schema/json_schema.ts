import { z } from "zod";
import { claimName, typeNameOf } from "./type_names.ts";

/** A JSON Schema (draft 2020-12) object, as zod produces it. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/**
 * Which type of a schema to describe: what a sender may write (`"input"`: fields with defaults
 * are optional) or what the receiver gets after parsing (`"output"`: defaults filled in).
 */
export type SchemaSide = "input" | "output";

/** One schema to convert, such as a method's input. */
export interface SchemaRoot {
  /** The zod schema. */
  readonly schema: z.ZodType;
  /** Request messages are described as input, responses as output. */
  readonly side: SchemaSide;
  /** Names to use when the schema has none of its own, best first. */
  readonly fallbackNames: readonly string[];
}

/** The result of {@linkcode schemasToJsonSchema}. */
export interface ConvertedSchemas {
  /** The definition each root refers to, in the order given: `#/$defs/<name>`. */
  readonly refs: readonly string[];
  /** Every named schema, in the order first met. */
  readonly defs: Readonly<Record<string, JsonSchema>>;
}

/**
 * Tells whether a value is a zod 4 schema, also one made by another copy of zod.
 *
 * @param value Anything, such as a module export.
 * @returns `true` for zod schemas.
 */
export function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === "object" && value !== null && "_zod" in value &&
    typeof (value as { safeParse?: unknown }).safeParse === "function";
}

/** The metadata a schema carries in its own copy of zod (`.describe()`, `.meta()`). */
function ownMetadata(schema: z.ZodType): Record<string, unknown> | undefined {
  const meta = (schema as { meta?: () => unknown }).meta;
  const value = typeof meta === "function" ? meta.call(schema) : z.globalRegistry.get(schema);
  return typeof value === "object" && value !== null ? value as Record<string, unknown> : undefined;
}

/**
 * Converts schemas to JSON Schema with named, shared definitions, the form the introspection
 * document and the code generator use.
 *
 * Naming: a schema with `.meta({ id })` takes that name; otherwise a schema listed in `names`
 * (the export names of the modules it came from) takes that one; a root without either takes its
 * first free fallback name. Names go through {@linkcode typeNameOf}, and clashes get 2, 3, ...
 * appended. Every root becomes a definition; other schemas are inlined unless they are named.
 *
 * A schema whose input and output types differ (a field with a default, a transform) and that is
 * used on both sides gets two definitions: `<Name>` for the output and `<Name>Input` for the input.
 * Objects differ on every side in one respect that types do not show (zod allows unknown keys in
 * input and drops them from output: `additionalProperties: false`); that alone keeps one
 * definition, the output's.
 *
 * @param roots The schemas to convert, in a stable order (it decides who gets a contested name).
 * @param names Names for schemas, by identity (export names).
 * @returns A reference for each root, and the definitions.
 */
export function schemasToJsonSchema(
  roots: readonly SchemaRoot[],
  names: ReadonlyMap<object, string> = new Map(),
): ConvertedSchemas {
  const explicitName = (schema: z.ZodType): string | undefined => {
    const id = ownMetadata(schema)?.id;
    return typeof id === "string" && id !== "" ? id : names.get(schema);
  };

  // Pass 1: find the named schemas, in the order they are met, so that explicit names are
  // claimed before fallback names and never lose to them.
  const met: z.ZodType[] = [];
  const seen = new Set<z.ZodType>();
  const discover = {
    get(schema: z.ZodType) {
      if (!seen.has(schema)) {
        seen.add(schema);
        if (explicitName(schema) !== undefined) met.push(schema);
      }
      return undefined;
    },
  };
  for (const root of roots) convert(root.schema, root.side, discover);

  const taken = new Set<string>();
  const assigned = new Map<z.ZodType, string>();
  for (const schema of met) {
    assigned.set(schema, claimName(taken, [typeNameOf(explicitName(schema)!)]));
  }
  for (const root of roots) {
    if (!assigned.has(root.schema)) {
      assigned.set(root.schema, claimName(taken, root.fallbackNames.map(typeNameOf)));
    }
  }

  // Pass 2: convert with the names, collecting definitions per side.
  const registry = {
    get(schema: z.ZodType) {
      const own = ownMetadata(schema);
      const id = assigned.get(schema);
      if (id === undefined) {
        if (own === undefined || !("id" in own)) return own;
        const { id: _, ...rest } = own;
        return rest;
      }
      return { ...own, id };
    },
  };
  const sides: Record<SchemaSide, Map<string, JsonSchema>> = {
    input: new Map(),
    output: new Map(),
  };
  const order: [SchemaSide, string][] = [];
  const rootNames: string[] = [];
  for (const root of roots) {
    const rootName = assigned.get(root.schema)!;
    rootNames.push(rootName);
    const result = convert(root.schema, root.side, registry);
    const defs = { ...(result.$defs as Record<string, JsonSchema> | undefined) };
    // zod names anonymous recursive schemas __schema0, __schema1, ... afresh in every call.
    const renames = new Map<string, string>();
    for (const key of Object.keys(defs)) {
      if (/^__schema\d+$/.test(key)) renames.set(key, claimName(taken, [`${rootName}Node`]));
    }
    for (const [key, def] of Object.entries(defs)) {
      const name = renames.get(key) ?? key;
      const side = sides[root.side];
      if (side.has(name)) continue;
      const { id: _, ...clean } = rewriteRefs(def, (ref) => renames.get(ref) ?? ref, rootName);
      side.set(name, clean);
      order.push([root.side, name]);
    }
  }

  // Definitions used on both sides whose input and output differ get an Input twin. A definition
  // also differs when anything it refers to differs.
  const differs = new Set<string>();
  for (const [name, input] of sides.input) {
    const output = sides.output.get(name);
    if (output !== undefined && canonical(input) !== canonical(output)) differs.add(name);
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, input] of sides.input) {
      if (differs.has(name) || !sides.output.has(name)) continue;
      if ([...refsIn(input)].some((ref) => differs.has(ref))) {
        differs.add(name);
        changed = true;
      }
    }
  }
  const inputNames = new Map<string, string>();
  for (const name of differs) inputNames.set(name, claimName(taken, [`${name}Input`]));
  const inputName = (name: string) => inputNames.get(name) ?? name;

  const defs: Record<string, JsonSchema> = {};
  for (const [side, name] of order) {
    const def = sides[side].get(name)!;
    if (side === "output") {
      defs[name] = def;
    } else if (inputNames.has(name) || !(name in defs)) {
      defs[inputName(name)] = inputNames.size === 0 ? def : rewriteRefs(def, inputName);
    }
  }
  const refs = roots.map((root, i) =>
    `#/$defs/${root.side === "input" ? inputName(rootNames[i]!) : rootNames[i]!}`
  );
  return { refs, defs: sortedLike(defs, order, inputName) };
}

/** Keeps definitions in the order first met (input twins where their input was first met). */
function sortedLike(
  defs: Record<string, JsonSchema>,
  order: readonly [SchemaSide, string][],
  inputName: (name: string) => string,
): Record<string, JsonSchema> {
  const sorted: Record<string, JsonSchema> = {};
  for (const [side, name] of order) {
    const key = side === "input" ? inputName(name) : name;
    if (key in defs && !(key in sorted)) sorted[key] = defs[key]!;
  }
  return sorted;
}

function convert(
  schema: z.ZodType,
  side: SchemaSide,
  metadata: { get(schema: z.ZodType): Record<string, unknown> | undefined },
): Record<string, unknown> {
  return z.toJSONSchema(schema, {
    // Only `get` is used; a lookup through the schema's own copy of zod keeps descriptions of
    // schemas made with another copy.
    metadata: metadata as unknown as z.core.$ZodRegistry<Record<string, unknown>>,
    io: side,
    unrepresentable: "any",
    cycles: "ref",
    reused: "inline",
    target: "draft-2020-12",
  }) as Record<string, unknown>;
}

/** Applies `rename` to every `#/$defs/<name>` reference; `#` (the root itself) becomes `root`. */
function rewriteRefs(
  schema: JsonSchema,
  rename: (name: string) => string,
  root?: string,
): JsonSchema {
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (typeof value !== "object" || value === null) return value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === "$ref" && typeof item === "string") {
        if (item === "#" && root !== undefined) out[key] = `#/$defs/${rename(root)}`;
        else if (item.startsWith("#/$defs/")) out[key] = `#/$defs/${rename(item.slice(8))}`;
        else out[key] = item;
      } else {
        out[key] = visit(item);
      }
    }
    return out;
  };
  return visit(schema) as JsonSchema;
}

/**
 * The names of the definitions a schema refers to.
 *
 * @param schema A JSON Schema.
 * @returns The names, from `#/$defs/<name>` references.
 */
export function refsIn(schema: unknown): Set<string> {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (key === "$ref" && typeof item === "string" && item.startsWith("#/$defs/")) {
          found.add(item.slice(8));
        } else visit(item);
      }
    }
  };
  visit(schema);
  return found;
}

/**
 * JSON with sorted keys and without `additionalProperties: false`, for comparing the input and
 * output forms of a schema.
 */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, item) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) return item;
    const entries = Object.entries(item)
      .filter(([key, v]) => !(key === "additionalProperties" && v === false))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries);
  });
}
