import type { ScalarType } from "./model.ts";
import type { Def } from "./zod_def.ts";

/**
 * The protobuf integer type for a zod number schema, from its format (`z.int32()`) and its bounds
 * (`.min()`, `.max()`, `.positive()`): the smallest of int32, uint32 and int64 that holds every
 * value the schema accepts.
 */

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const UINT32 = { min: 0, max: 2 ** 32 - 1 };

/**
 * The int type whose range holds every value.
 *
 * @param values Integers (the bounds of a schema, or a literal's values).
 * @returns `int32`, `uint32` or `int64`.
 */
export function intType(values: readonly number[]): ScalarType {
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (min >= INT32.min && max <= INT32.max) return "int32";
  if (min >= UINT32.min && max <= UINT32.max) return "uint32";
  return "int64";
}

/**
 * A number schema's protobuf type: `double` unless it only holds integers; then the smallest of
 * int32, uint32 and int64 whose range holds every value the schema accepts.
 *
 * @param def The schema's definition.
 * @returns The scalar type.
 */
export function numberType(def: Def): ScalarType {
  let integer = false;
  let min = -Infinity;
  let max = Infinity;
  const formats = [def.format, ...checksOf(def).map((check) => check.format)];
  for (const format of formats) {
    switch (format) {
      case "float32":
        return "float";
      case "int32":
        integer = true;
        min = Math.max(min, INT32.min);
        max = Math.min(max, INT32.max);
        break;
      case "uint32":
        integer = true;
        min = Math.max(min, UINT32.min);
        max = Math.min(max, UINT32.max);
        break;
      case "safeint":
        integer = true;
        break;
    }
  }
  if (!integer) return "double";
  min = Math.max(min, lowerBound(def));
  max = Math.min(max, upperBound(def));
  return intType([min, max]);
}

interface Check {
  readonly check?: string;
  readonly format?: string;
  readonly value?: number | bigint;
  readonly inclusive?: boolean;
}

function checksOf(def: Def): Check[] {
  const checks = def.checks as { _zod: { def: Check } }[] | undefined;
  return (checks ?? []).map((check) => check._zod.def);
}

/**
 * The lowest integer a number or bigint schema accepts, from its `.min()` / `.gt()` checks.
 *
 * @param def The schema's definition.
 * @returns The bound, or `-Infinity`.
 */
export function lowerBound(def: Def): number {
  let min = -Infinity;
  for (const check of checksOf(def)) {
    if (check.check === "greater_than" && check.value !== undefined) {
      const value = Number(check.value);
      min = Math.max(min, check.inclusive ? Math.ceil(value) : Math.floor(value) + 1);
    }
  }
  return min;
}

function upperBound(def: Def): number {
  let max = Infinity;
  for (const check of checksOf(def)) {
    if (check.check === "less_than" && check.value !== undefined) {
      const value = Number(check.value);
      max = Math.min(max, check.inclusive ? Math.floor(value) : Math.ceil(value) - 1);
    }
  }
  return max;
}
