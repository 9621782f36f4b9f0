/**
 * Checks a value against a method's JSON Schema before it is sent, so the user sees what is wrong
 * next to the field instead of a round trip. The server validates again with zod; this covers the
 * keywords zod writes (types, required, enums, unions, lengths, ranges, patterns, formats, items).
 */
import { type Defs, kindOf, resolve, type Schema } from "./schema.ts";

/** One problem: where (a JSON Pointer, `""` for the whole message) and what. */
export interface Issue {
  /** `/home/street`, `/tags/0`. */
  readonly path: string;
  /** What is wrong, such as `required` or `must be ≥ 1`. */
  readonly message: string;
}

/** What the user typed into a field that does not parse (a JSON box, a number box). */
export class Unparsed {
  /**
   * Keeps the text and the problem.
   *
   * @param text What the user typed.
   * @param problem What is wrong with it, for the message: `not valid JSON`.
   */
  constructor(readonly text: string, readonly problem: string) {}

  /**
   * What JSON views show for it.
   *
   * @returns The text as typed.
   */
  toJSON(): string {
    return this.text;
  }
}

/**
 * A JSON Pointer in words for messages: `/home/street` gives `home.street`, `/tags/0` `tags[0]`.
 *
 * @param path The pointer.
 * @returns The words, or `(message)` for the root.
 */
export function pathWords(path: string): string {
  if (path === "") return "(message)";
  return path.slice(1).split("/").map((part, i) => {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(key)) return `[${key}]`;
    return /^[A-Za-z_$][\w$]*$/.test(key)
      ? (i === 0 ? key : `.${key}`)
      : `[${JSON.stringify(key)}]`;
  }).join("");
}

/**
 * Extends a JSON Pointer by one key.
 *
 * @param path The pointer.
 * @param key A property name or index.
 * @returns The longer pointer.
 */
export function child(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/**
 * Checks a value.
 *
 * @param value The value (`undefined` where a field is empty).
 * @param schema Its schema.
 * @param defs The document's definitions.
 * @returns The problems; empty when the value may be sent.
 */
export function validate(value: unknown, schema: unknown, defs: Defs): Issue[] {
  const issues: Issue[] = [];
  check(value, schema, defs, "", issues, 0);
  return issues;
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "object":
      return typeOf(value) === "object";
    default:
      return typeOf(value) === type;
  }
}

const FORMATS: Record<string, (text: string) => boolean> = {
  email: (t) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(t),
  uri: (t) => {
    try {
      return new URL(t).protocol !== "";
    } catch {
      return false;
    }
  },
  uuid: (t) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(t),
  "date-time": (t) =>
    /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.test(t) &&
    !Number.isNaN(Date.parse(t)),
  date: (t) => /^\d{4}-\d\d-\d\d$/.test(t) && !Number.isNaN(Date.parse(t)),
  time: (t) => /^\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$/i.test(t),
  ipv4: (t) => /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/.test(t),
  ipv6: (t) => /^[0-9a-f:.]+$/i.test(t) && t.includes(":"),
};

function testPattern(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, "u").test(text);
  } catch {
    try {
      return new RegExp(pattern).test(text);
    } catch {
      return true; // a pattern this browser cannot compile: leave it to the server
    }
  }
}

function check(
  value: unknown,
  raw: unknown,
  defs: Defs,
  path: string,
  issues: Issue[],
  depth: number,
): void {
  const add = (message: string, at = path): void => {
    issues.push({ path: at, message });
  };
  if (depth > 64) return;
  if (value instanceof Unparsed) return add(value.problem);
  const schema = resolve(raw, defs);
  const kind = kindOf(schema, defs);
  if (value === undefined) {
    if (kind.kind !== "any") add("required");
    return;
  }
  switch (kind.kind) {
    case "never":
      return add("no value is allowed here");
    case "const":
      if (!equal(value, kind.value)) add(`must be ${JSON.stringify(kind.value)}`);
      return;
    case "enum":
      if (!kind.values.some((v) => equal(v, value))) {
        add(`must be one of ${kind.values.map((v) => JSON.stringify(v)).join(", ")}`);
      }
      return;
    case "nullable":
      if (value !== null) check(value, kind.inner, defs, path, issues, depth + 1);
      return;
    case "tagged": {
      const tag = (value as Record<string, unknown> | null)?.[kind.key];
      const index = kind.tags.indexOf(tag as string);
      if (typeOf(value) !== "object") return add("must be an object");
      if (index === -1) {
        return add(`must be one of ${kind.tags.join(", ")}`, child(path, kind.key));
      }
      return check(value, kind.options[index], defs, path, issues, depth + 1);
    }
    case "union": {
      const attempts = kind.options.map((option) => {
        const found: Issue[] = [];
        check(value, option, defs, path, found, depth + 1);
        return found;
      });
      if (attempts.some((found) => found.length === 0)) return;
      // Report the option of the value's own type, if exactly one has it.
      const sameType = kind.options.flatMap((option, i) => {
        const t = resolve(option, defs).type;
        return typeof t === "string" && matchesType(value, t) ? [i] : [];
      });
      if (sameType.length === 1) issues.push(...attempts[sameType[0]!]!);
      else add("matches none of the allowed shapes");
      return;
    }
  }
  const type = schema.type;
  if (typeof type === "string" && !matchesType(value, type)) {
    if (type === "integer" && typeof value === "number") return add("must be a whole number");
    return add(
      `must be ${type === "integer" || type === "object" || type === "array" ? "an" : "a"} ${type}`,
    );
  }
  if (typeof value === "string") checkString(value, schema, add);
  if (typeof value === "number") checkNumber(value, schema, add);
  if (Array.isArray(value)) {
    checkArray(value, schema, defs, path, issues, depth);
  } else if (typeOf(value) === "object" && (type === "object" || schema.properties)) {
    checkObject(value as Record<string, unknown>, schema, defs, path, issues, depth);
  }
}

function checkString(value: string, s: Schema, add: (message: string) => void): void {
  if (typeof s.minLength === "number" && value.length < s.minLength) {
    add(
      value === ""
        ? "required (must not be empty)"
        : `must be at least ${s.minLength} character${s.minLength === 1 ? "" : "s"}`,
    );
  }
  if (typeof s.maxLength === "number" && value.length > s.maxLength) {
    add(`must be at most ${s.maxLength} characters (is ${value.length})`);
  }
  const format = typeof s.format === "string" ? FORMATS[s.format] : undefined;
  if (format && !format(value)) add(`must be a valid ${s.format}`);
  else if (typeof s.pattern === "string" && !testPattern(s.pattern, value)) {
    add(typeof s.format === "string" ? `must be a valid ${s.format}` : `must match /${s.pattern}/`);
  }
}

function checkNumber(value: number, s: Schema, add: (message: string) => void): void {
  if (typeof s.minimum === "number" && value < s.minimum) add(`must be ≥ ${s.minimum}`);
  if (typeof s.exclusiveMinimum === "number" && value <= s.exclusiveMinimum) {
    add(`must be > ${s.exclusiveMinimum}`);
  }
  if (typeof s.maximum === "number" && value > s.maximum) add(`must be ≤ ${s.maximum}`);
  if (typeof s.exclusiveMaximum === "number" && value >= s.exclusiveMaximum) {
    add(`must be < ${s.exclusiveMaximum}`);
  }
  if (typeof s.multipleOf === "number" && s.multipleOf > 0) {
    const q = value / s.multipleOf;
    if (Math.abs(q - Math.round(q)) > 1e-9) add(`must be a multiple of ${s.multipleOf}`);
  }
}

function checkArray(
  value: unknown[],
  s: Schema,
  defs: Defs,
  path: string,
  issues: Issue[],
  depth: number,
): void {
  const add = (message: string): void => {
    issues.push({ path, message });
  };
  if (typeof s.minItems === "number" && value.length < s.minItems) {
    add(`needs at least ${s.minItems} item${s.minItems === 1 ? "" : "s"}`);
  }
  if (typeof s.maxItems === "number" && value.length > s.maxItems) {
    add(`takes at most ${s.maxItems} item${s.maxItems === 1 ? "" : "s"}`);
  }
  if (s.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size < value.length) {
    add("items must be unique");
  }
  const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : [];
  value.forEach((item, i) => {
    const itemSchema = i < prefix.length ? prefix[i] : s.items;
    if (itemSchema === false) return;
    check(item, itemSchema, defs, child(path, i), issues, depth + 1);
  });
}

function checkObject(
  value: Record<string, unknown>,
  s: Schema,
  defs: Defs,
  path: string,
  issues: Issue[],
  depth: number,
): void {
  const properties = (s.properties ?? {}) as Record<string, unknown>;
  for (const key of (s.required ?? []) as string[]) {
    if (value[key] === undefined) {
      const p = resolve(properties[key], defs);
      if (kindOf(p, defs).kind !== "any") {
        issues.push({ path: child(path, key), message: "required" });
      }
    }
  }
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    const at = child(path, key);
    if (key in properties) {
      check(item, properties[key], defs, at, issues, depth + 1);
      continue;
    }
    if (s.additionalProperties === false) {
      issues.push({ path: at, message: "is not a field of this message" });
    } else if (typeof s.additionalProperties === "object") {
      if (s.propertyNames !== undefined) {
        const names = resolve(s.propertyNames, defs);
        if (Array.isArray(names.enum) && !names.enum.includes(key)) {
          issues.push({
            path: at,
            message: `key must be one of ${names.enum.map((k) => JSON.stringify(k)).join(", ")}`,
          });
          continue;
        }
      }
      check(item, s.additionalProperties, defs, at, issues, depth + 1);
    }
  }
  const count = Object.values(value).filter((v) => v !== undefined).length;
  if (typeof s.minProperties === "number" && count < s.minProperties) {
    issues.push({ path, message: `needs at least ${s.minProperties} entries` });
  }
  if (typeof s.maxProperties === "number" && count > s.maxProperties) {
    issues.push({ path, message: `takes at most ${s.maxProperties} entries` });
  }
}
