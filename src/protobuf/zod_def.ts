import { z } from "zod";

/**
 * The part of zod's internals this folder reads: `schema._zod.def`, the definition zod documents
 * for library authors, and metadata through the schema's own copy of zod.
 */

/** A schema's definition: its `type` and the fields that type has. */
export interface Def {
  readonly type: string;
  readonly [key: string]: unknown;
}

/**
 * The definition of a schema.
 *
 * @param schema The schema, from any copy of zod 4.
 * @returns `schema._zod.def`.
 */
export function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/**
 * The metadata a schema carries in its own copy of zod (`.describe()`, `.meta()`).
 *
 * @param schema The schema.
 * @returns The metadata, or undefined.
 */
export function metadataOf(schema: z.ZodType): Record<string, unknown> | undefined {
  const meta = (schema as { meta?: () => unknown }).meta;
  const value = typeof meta === "function" ? meta.call(schema) : z.globalRegistry.get(schema);
  return typeof value === "object" && value !== null ? value as Record<string, unknown> : undefined;
}
