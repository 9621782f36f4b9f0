import type { z } from "zod";
import { defOf } from "./zod_def.ts";

/** Answers already worked out, by definition (definitions never change). */
const known = new WeakMap<object, boolean>();

/**
 * Whether a schema reads differently as a request and as a response: it has a pipe
 * (`.transform()`, `z.codec()`, `z.preprocess()`) somewhere inside, so that its input and output
 * types may differ and it needs a message for each side.
 *
 * @param schema The schema.
 * @returns `true` when a pipe is reachable from it.
 */
export function readsBySide(schema: z.ZodType): boolean {
  const root = defOf(schema);
  const cached = known.get(root);
  if (cached !== undefined) return cached;
  const seen = new Set<object>();
  const visit = (child: unknown): boolean => {
    if (typeof child !== "object" || child === null || !("_zod" in child)) return false;
    const current = child as z.ZodType;
    const def = defOf(current);
    if (seen.has(def)) return false;
    seen.add(def);
    switch (def.type) {
      case "pipe":
      case "transform":
        return true;
      case "object":
        return Object.values(def.shape as Record<string, unknown>).some(visit);
      case "union":
        return (def.options as unknown[]).some(visit);
      case "tuple":
        return (def.items as unknown[]).some(visit);
      case "lazy":
        return visit((current as unknown as { _zod: { innerType: unknown } })._zod.innerType);
      default:
        return visit(def.innerType) || visit(def.element) || visit(def.valueType);
    }
  };
  const result = visit(schema);
  known.set(root, result);
  return result;
}
