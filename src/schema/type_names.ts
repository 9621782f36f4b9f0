/**
 * The naming rules for message types, shared by the introspection builder (which names the schemas
 * of a document) and the code generator (which trusts nothing it reads and applies them again).
 */

/**
 * Names a generated type must not take: they would shadow the TypeScript globals generated code
 * refers to.
 */
const RESERVED_TYPE_NAMES: ReadonlySet<string> = new Set([
  "Array",
  "AsyncGenerator",
  "AsyncIterable",
  "Boolean",
  "Date",
  "Error",
  "Function",
  "JSON",
  "Map",
  "Number",
  "Object",
  "Partial",
  "Promise",
  "Record",
  "Set",
  "String",
  "Symbol",
]);

/**
 * A schema name as a TypeScript type name: PascalCase, letters and digits only, without a trailing
 * `Schema` (so `userSchema` and `UserSchema` both give `User`), and never the name of a global
 * the generated code uses (`Record` becomes `RecordMessage`).
 *
 * @param name An export name, a `.meta({ id })`, or a name built from a method.
 * @returns A valid, PascalCase type name.
 */
export function typeNameOf(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter((word) => word !== "");
  let result = words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join("");
  if (/^.+Schema$/.test(result)) result = result.slice(0, -"Schema".length);
  if (result === "") result = "Message";
  if (/^[0-9]/.test(result)) result = `T${result}`;
  if (RESERVED_TYPE_NAMES.has(result)) result = `${result}Message`;
  return result;
}

/**
 * A snake_case, kebab-case or camelCase name in PascalCase: `get_user` gives `GetUser`.
 *
 * @param name The name.
 * @returns The name in PascalCase (letters and digits only).
 */
export function pascalCase(name: string): string {
  return name.split(/[^A-Za-z0-9]+/).filter((word) => word !== "")
    .map((word) => word[0]!.toUpperCase() + word.slice(1)).join("");
}

/**
 * Picks the first name not yet taken, trying the candidates in order and then the first one with
 * 2, 3, ... appended; records the pick as taken.
 *
 * @param taken The names in use; the result is added.
 * @param candidates Preferred names, best first (at least one).
 * @returns The name chosen.
 */
export function claimName(taken: Set<string>, candidates: readonly string[]): string {
  for (const candidate of candidates) {
    if (!taken.has(candidate)) {
      taken.add(candidate);
      return candidate;
    }
  }
  const base = candidates[0]!;
  for (let n = 2;; n++) {
    if (!taken.has(`${base}${n}`)) {
      taken.add(`${base}${n}`);
      return `${base}${n}`;
    }
  }
}
