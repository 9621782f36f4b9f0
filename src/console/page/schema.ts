/**
 * Reading the JSON Schema of the introspection document (what zod 4 writes, draft 2020-12): refs,
 * what kind of form control a schema needs, initial values and constraints in words.
 */

/** A JSON Schema object. */
export type Schema = { readonly [keyword: string]: unknown };

/** The document's `$defs`, which `{ "$ref": "#/$defs/<name>" }` points into. */
export type Defs = { readonly [name: string]: Schema };

/** What a schema is, as far as the form is concerned. */
export type Kind =
  | { kind: "any" }
  | { kind: "never" }
  | { kind: "const"; value: unknown }
  | { kind: "enum"; values: readonly unknown[] }
  | { kind: "nullable"; inner: Schema }
  | { kind: "tagged"; key: string; options: readonly Schema[]; tags: readonly string[] }
  | { kind: "union"; options: readonly Schema[] }
  | { kind: "object"; properties: Readonly<Record<string, Schema>>; required: readonly string[] }
  | { kind: "record"; values: Schema; keys: Schema | undefined }
  | { kind: "tuple"; items: readonly Schema[] }
  | { kind: "array"; items: Schema }
  | { kind: "string" | "number" | "integer" | "boolean" | "null" };

/**
 * Follows `$ref`s and merges `allOf`, so the result has the keywords to act on.
 *
 * @param schema A schema, `true`/`false` or nothing.
 * @param defs The document's definitions.
 * @returns A schema without a top-level `$ref` (`{}` for anything goes, `{ not: {} }` for false).
 */
export function resolve(schema: unknown, defs: Defs): Schema {
  let current: unknown = schema;
  for (let hops = 0; hops < 64; hops++) {
    if (current === undefined || current === true) return {};
    if (current === false) return { not: {} };
    const s = current as Schema;
    if (typeof s.$ref === "string") {
      const name = decodeURIComponent(s.$ref.replace(/^#\/\$defs\//, ""));
      const { $ref: _, ...rest } = s;
      const target = defs[name];
      if (target === undefined) return {};
      current = Object.keys(rest).length === 0 ? target : { ...target, ...rest };
      continue;
    }
    if (Array.isArray(s.allOf)) return mergeAll(s, defs);
    return s;
  }
  return {};
}

function mergeAll(schema: Schema, defs: Defs): Schema {
  const { allOf, ...rest } = schema;
  let properties: Record<string, unknown> = {};
  const required: string[] = [];
  let merged: Record<string, unknown> = { ...rest };
  for (const part of allOf as unknown[]) {
    const r = resolve(part, defs);
    merged = { ...merged, ...r };
    properties = { ...properties, ...(r.properties as object | undefined) };
    required.push(...((r.required as string[] | undefined) ?? []));
  }
  if (Object.keys(properties).length > 0) {
    merged.properties = properties;
    merged.type = "object";
  }
  if (required.length > 0) merged.required = [...new Set(required)];
  return merged;
}

function isNullSchema(schema: Schema): boolean {
  return schema.type === "null" || (schema.const === null);
}

/**
 * Tells what a schema is.
 *
 * @param raw The schema (refs are followed).
 * @param defs The definitions.
 * @returns Its kind.
 */
export function kindOf(raw: unknown, defs: Defs): Kind {
  const schema = resolve(raw, defs);
  if ("not" in schema && Object.keys(schema).length === 1) return { kind: "never" };
  if ("const" in schema) return { kind: "const", value: schema.const };
  if (Array.isArray(schema.enum)) return { kind: "enum", values: schema.enum };
  const union = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (Array.isArray(union)) return unionKind(union.map((o) => resolve(o, defs)), defs);
  if (Array.isArray(schema.type)) {
    const { type, ...rest } = schema;
    return unionKind((type as string[]).map((t) => ({ ...rest, type: t })), defs);
  }
  switch (schema.type) {
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const extra = schema.additionalProperties;
      if (Object.keys(properties).length === 0 && typeof extra === "object" && extra !== null) {
        return { kind: "record", values: extra as Schema, keys: schema.propertyNames as Schema };
      }
      return { kind: "object", properties, required: (schema.required ?? []) as string[] };
    }
    case "array":
      if (Array.isArray(schema.prefixItems)) {
        return { kind: "tuple", items: schema.prefixItems as Schema[] };
      }
      return { kind: "array", items: (schema.items ?? {}) as Schema };
    case "string":
    case "number":
    case "integer":
    case "boolean":
    case "null":
      return { kind: schema.type };
  }
  return { kind: "any" };
}

function unionKind(options: Schema[], defs: Defs): Kind {
  const others = options.filter((o) => !isNullSchema(o));
  if (others.length === 1 && others.length < options.length) {
    return { kind: "nullable", inner: others[0]! };
  }
  if (options.every((o) => "const" in o)) {
    return { kind: "enum", values: options.map((o) => o.const) };
  }
  const tagged = discriminator(options, defs);
  if (tagged) return { kind: "tagged", key: tagged.key, options, tags: tagged.tags };
  return { kind: "union", options };
}

/** The property whose `const` tells the variants of a union of objects apart, if there is one. */
function discriminator(
  options: Schema[],
  defs: Defs,
): { key: string; tags: string[] } | undefined {
  if (options.length < 2) return undefined;
  const objects = options.map((o) => o.properties as Record<string, unknown> | undefined);
  if (objects.some((p) => p === undefined)) return undefined;
  for (const key of Object.keys(objects[0]!)) {
    const tags = objects.map((p) => resolve(p![key], defs).const);
    if (tags.every((t) => typeof t === "string") && new Set(tags).size === tags.length) {
      return { key, tags: tags as string[] };
    }
  }
  return undefined;
}

/**
 * The value a new field starts with: the schema's default, else an empty value of its type
 * (`""`, `false`, `[]`, an object of its required fields), else `undefined` (numbers start empty).
 *
 * @param raw The schema.
 * @param defs The definitions.
 * @param depth Guards against recursive schemas.
 * @returns A fresh value.
 */
export function initialValue(raw: unknown, defs: Defs, depth = 0): unknown {
  const schema = resolve(raw, defs);
  if ("default" in schema) return structuredClone(schema.default);
  if (depth > 8) return undefined;
  const kind = kindOf(schema, defs);
  switch (kind.kind) {
    case "const":
      return kind.value;
    case "enum":
      return kind.values[0];
    case "nullable":
      return null;
    case "tagged":
    case "union":
      return initialValue(kind.options[0], defs, depth + 1);
    case "object": {
      const value: Record<string, unknown> = {};
      for (const [key, property] of Object.entries(kind.properties)) {
        const required = kind.required.includes(key);
        const p = resolve(property, defs);
        if (!required && !("default" in p)) continue;
        value[key] = initialValue(p, defs, depth + 1);
      }
      return value;
    }
    case "record":
      return {};
    case "tuple":
      return kind.items.map((item) => initialValue(item, defs, depth + 1));
    case "array": {
      const min = Number(schema.minItems ?? 0);
      return Array.from({ length: min }, () => initialValue(kind.items, defs, depth + 1));
    }
    case "string":
      return "";
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      return undefined;
  }
}

/**
 * A schema's type in a few words, for labels: `integer`, `string (email)`, `array`, `User`.
 *
 * @param raw The schema.
 * @param defs The definitions.
 * @returns The words.
 */
export function typeLabel(raw: unknown, defs: Defs): string {
  const named = (raw as Schema | undefined)?.$ref;
  const schema = resolve(raw, defs);
  const kind = kindOf(schema, defs);
  const name = typeof named === "string" ? named.replace(/^#\/\$defs\//, "") : undefined;
  switch (kind.kind) {
    case "string":
      return typeof schema.format === "string" ? `string (${schema.format})` : "string";
    case "nullable":
      return `${typeLabel(kind.inner, defs)} or null`;
    case "enum":
      return "one of " + kind.values.map((v) => JSON.stringify(v)).join(", ");
    case "const":
      return JSON.stringify(kind.value);
    case "tagged":
      return name ?? `one of ${kind.tags.join(", ")}`;
    case "union":
      return kind.options.map((o) => typeLabel(o, defs)).join(" or ");
    case "object":
      return name ?? "object";
    case "record":
      return `map of ${typeLabel(kind.values, defs)}`;
    case "tuple":
      return `[${kind.items.map((i) => typeLabel(i, defs)).join(", ")}]`;
    case "array":
      return `array of ${typeLabel(kind.items, defs)}`;
    case "any":
      return "any JSON";
    case "never":
      return "nothing";
    default:
      return kind.kind;
  }
}

/**
 * The constraints of a schema in words: `≥ 1`, `1–32 characters`, `at most 10 items`, `/^\d{5}$/`.
 *
 * @param raw The schema.
 * @param defs The definitions.
 * @returns One phrase per constraint.
 */
export function constraintWords(raw: unknown, defs: Defs): string[] {
  const s = resolve(raw, defs);
  const words: string[] = [];
  const range = (min: unknown, max: unknown, unit: string) => {
    const units = (n: unknown) => `${n} ${unit}${n === 1 ? "" : "s"}`;
    if (min !== undefined && max !== undefined) {
      words.push(min === max ? `exactly ${units(min)}` : `${min}–${units(max)}`);
    } else if (min !== undefined) words.push(`at least ${units(min)}`);
    else if (max !== undefined) words.push(`at most ${units(max)}`);
  };
  // zod bounds every integer to the safe range; that goes without saying.
  const safe = (n: unknown) => typeof n === "number" && Math.abs(n) !== Number.MAX_SAFE_INTEGER;
  if (safe(s.minimum)) words.push(`≥ ${s.minimum}`);
  if (typeof s.exclusiveMinimum === "number") words.push(`> ${s.exclusiveMinimum}`);
  if (safe(s.maximum)) words.push(`≤ ${s.maximum}`);
  if (typeof s.exclusiveMaximum === "number") words.push(`< ${s.exclusiveMaximum}`);
  if (typeof s.multipleOf === "number") words.push(`multiple of ${s.multipleOf}`);
  range(s.minLength, s.maxLength, "character");
  if (!Array.isArray(s.prefixItems)) range(s.minItems, s.maxItems, "item");
  if (s.uniqueItems === true) words.push("unique items");
  if (typeof s.pattern === "string" && typeof s.format !== "string") words.push(`/${s.pattern}/`);
  return words;
}
