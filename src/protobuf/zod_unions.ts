import type { z } from "zod";
import { defOf } from "./zod_def.ts";
import type { Shape } from "./zod_reader.ts";

/**
 * The shape of a union (its null and undefined options already removed): an enum when every
 * option is a string literal or a string enum; a oneof when the options are objects that one
 * property tells apart (declared with `z.discriminatedUnion`, or found: a property every option
 * has, each with its own literal values); JSON otherwise.
 *
 * @param schema The union.
 * @param options Its options, without null and undefined.
 * @param declared The discriminator a `z.discriminatedUnion` declares.
 * @returns The shape.
 */
export function unionShape(
  schema: z.ZodType,
  options: readonly z.ZodType[],
  declared: string | undefined,
): Shape {
  if (options.length === 0) return { kind: "json" };
  const strings: string[] = [];
  const allStrings = options.every((option) => {
    const def = defOf(option);
    const values = def.type === "literal"
      ? def.values as unknown[]
      : def.type === "enum"
      ? enumValues(option)
      : [undefined];
    if (!values.every((value) => typeof value === "string")) return false;
    strings.push(...values as string[]);
    return true;
  });
  if (allStrings) return { kind: "enum", schema, values: [...new Set(strings)] };
  const objects = options.map((option) => objectOf(option)?.shape);
  if (objects.some((shape) => shape === undefined)) return { kind: "json" };
  const shapes = objects as Record<string, z.ZodType>[];
  const candidates = declared !== undefined ? [declared] : Object.keys(shapes[0]!);
  for (const key of candidates) {
    const seen = new Set<unknown>();
    const ok = shapes.every((shape) => {
      const property = shape[key];
      const values = property === undefined ? undefined : literalValues(property);
      if (values === undefined || values.length === 0) return false;
      for (const value of values) {
        if (seen.has(value)) return false;
        seen.add(value);
      }
      return true;
    });
    if (ok) return { kind: "union", schema, options, discriminator: key };
  }
  return { kind: "json" };
}

/**
 * An enum's values (a TypeScript enum's entries also hold the reverse mapping; these do not).
 *
 * @param schema A `z.enum()`.
 * @returns Its values.
 */
export function enumValues(schema: z.ZodType): unknown[] {
  return [...(schema as unknown as { _zod: { values: Set<unknown> } })._zod.values];
}

/**
 * An object option of a union, looking through lazy and readonly.
 *
 * @param schema The option.
 * @returns The object schema and its shape, or undefined for anything else.
 */
export function objectOf(
  schema: z.ZodType,
): { schema: z.ZodType; shape: Record<string, z.ZodType> } | undefined {
  let current = schema;
  for (let i = 0; i < 16; i++) {
    const def = defOf(current);
    if (def.type === "object") {
      return { schema: current, shape: def.shape as Record<string, z.ZodType> };
    }
    if (def.type === "lazy") {
      current = (current as unknown as { _zod: { innerType: z.ZodType } })._zod.innerType;
    } else if (def.type === "readonly") current = def.innerType as z.ZodType;
    else return undefined;
  }
  return undefined;
}

/**
 * The literal values a discriminator property accepts: a literal's values or an enum's.
 *
 * @param schema The property's schema.
 * @returns The values (strings, numbers, booleans), or undefined when it is not a literal or enum.
 */
export function literalValues(schema: z.ZodType): (string | number | boolean)[] | undefined {
  const def = defOf(schema);
  const values = def.type === "literal"
    ? def.values as unknown[]
    : def.type === "enum"
    ? enumValues(schema)
    : undefined;
  if (values === undefined) return undefined;
  const simple = values.filter((value): value is string | number | boolean =>
    typeof value === "string" || typeof value === "number" || typeof value === "boolean"
  );
  return simple.length === values.length ? [...new Set(simple)] : undefined;
}
