import type { JsonSchema } from "../schema/json_schema.ts";
import { claimName, pascalCase, typeNameOf } from "../schema/type_names.ts";
import { propertyKey } from "./identifiers.ts";
import { jsDoc } from "./jsdoc.ts";
import { LINE_WIDTH, operands } from "./layout.ts";

/** The message types of a document, as TypeScript. */
export interface TypesFile {
  /** The declarations (without the file header). */
  readonly code: string;
  /** The type name of each definition, by its key in `$defs`. */
  readonly names: ReadonlyMap<string, string>;
  /**
   * Every type the code declares, in order: the definitions and the types named after where
   * they sit (nested objects, union variants, array items, long keys).
   */
  readonly declared: readonly string[];
}

/** Longer composite types (tuples, arrays of unions, ...) get a name of their own. */
const SHORT = 40;

/** Bounds zod puts on every integer; they say nothing, so they stay out of the docs. */
const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/**
 * Writes one TypeScript declaration per definition, plus one per nested object (named after where
 * it sits: the `address` of `User` is `UserAddress`, an item of its `tags` array `UserTagsItem`).
 * Objects become interfaces, everything else type aliases. Descriptions and constraints (lengths,
 * bounds, formats, patterns, defaults, examples, deprecation) become JSDoc.
 *
 * @param defs The definitions, by name, in the order to write them.
 * @returns The code and the type names.
 */
export function typesFile(defs: Readonly<Record<string, JsonSchema>>): TypesFile {
  const taken = new Set<string>();
  const names = new Map<string, string>();
  for (const key of Object.keys(defs)) names.set(key, claimName(taken, [typeNameOf(key)]));
  const writer = new TypeWriter(names, taken, defs);
  const blocks = Object.entries(defs).map(([key, schema]) =>
    writer.declaration(names.get(key)!, schema)
  );
  return { code: blocks.join("\n"), names, declared: writer.declared };
}

/**
 * A type expression, kept structured so that a long one can be laid out the way `deno fmt` lays it
 * out: an atom (a name, a literal, `Foo[]`), a generic (`Record<K, V>`), or a tuple.
 */
type TypeNode =
  | string
  | { readonly generic: string; readonly args: readonly TypeNode[] }
  | { readonly tuple: readonly TypeNode[] };

/** A type: the union members it is made of (one for anything but a union). */
type Members = TypeNode[];

/** Names made from a parent's name and a property's stay under this length. */
const MAX_DERIVED_NAME = 40;

class TypeWriter {
  #names: ReadonlyMap<string, string>;
  #taken: Set<string>;
  #defs: Readonly<Record<string, JsonSchema>>;
  /** The names declared so far, in the order they are written. */
  readonly declared: string[] = [];

  constructor(
    names: ReadonlyMap<string, string>,
    taken: Set<string>,
    defs: Readonly<Record<string, JsonSchema>>,
  ) {
    this.#names = names;
    this.#taken = taken;
    this.#defs = defs;
  }

  /** A declaration followed by the declarations of the objects nested in it. */
  declaration(name: string, schema: unknown): string {
    this.declared.push(name);
    const nested: string[] = [];
    const s = asSchema(schema);
    const doc = jsDoc([...describe(s), ...(isObjectWithProperties(s) ? [] : constraints(s))]);
    let code: string;
    if (isObjectWithProperties(s)) {
      code = `${doc}export interface ${name} ${this.#body(s, name, nested)}\n`;
    } else {
      code = `${doc}${
        typeLine(`export type ${name} =`, this.#members(schema, name, nested), "", ";")
      }\n`;
    }
    return [code, ...nested].join("\n");
  }

  /** `{ ...properties }` of an object type. */
  #body(s: JsonSchema, name: string, nested: string[]): string {
    const properties = s.properties as Record<string, unknown>;
    const required = new Set(Array.isArray(s.required) ? s.required as string[] : []);
    const lines: string[] = [];
    for (const [key, value] of Object.entries(properties)) {
      const property = asSchema(value);
      const members = this.#members(
        value,
        derivedName(name, pascalCase(key) || "Property"),
        nested,
      );
      lines.push(jsDoc([...describe(property), ...constraints(property)], "  ").trimEnd());
      lines.push(
        typeLine(`  ${propertyKey(key)}${required.has(key) ? "" : "?"}:`, members, "  ", ";"),
      );
    }
    const extra = s.additionalProperties;
    if (extra !== undefined && extra !== false) lines.push("  [key: string]: unknown;");
    return `{\n${lines.filter((line) => line !== "").join("\n")}\n}`;
  }

  /** The union members of a schema's type; nested objects are declared and named. */
  #members(schema: unknown, hint: string, nested: string[]): Members {
    if (schema === true) return ["unknown"];
    if (schema === false) return ["never"];
    const s = asSchema(schema);
    if (typeof s.$ref === "string") return [this.#refName(s.$ref)];
    if ("const" in s) return [literal(s.const)];
    if (Array.isArray(s.enum)) return dedupe(s.enum.map(literal));
    const variants = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : [])
      .map(asSchema);
    if (variants.length > 0) {
      const nonNull = variants.filter((v) => v.type !== "null");
      return dedupe(variants.flatMap((variant, i) => {
        const name = nonNull.length === 1 ? hint : derivedName(hint, variantSuffix(variant, i));
        return this.#members(variant, name, nested);
      }));
    }
    if (Array.isArray(s.allOf)) {
      const parts = s.allOf.map((part, i) =>
        wrap(this.#members(part, derivedName(hint, String(i + 1)), nested), "&")
      );
      return [this.#intersection(parts, hint, nested)];
    }
    if (Array.isArray(s.type)) {
      return dedupe(s.type.flatMap((type) => this.#members({ ...s, type }, hint, nested)));
    }
    if ("not" in s && Object.keys(asSchema(s.not)).length === 0) return ["never"];
    switch (s.type) {
      case "string":
        return ["string"];
      case "number":
      case "integer":
        return ["number"];
      case "boolean":
        return ["boolean"];
      case "null":
        return ["null"];
      case "array":
        return [this.#array(s, hint, nested)];
      case "object":
        return [this.#object(s, hint, nested)];
    }
    if (s.properties !== undefined) return [this.#object(s, hint, nested)];
    return ["unknown"];
  }

  #array(s: JsonSchema, hint: string, nested: string[]): TypeNode {
    if (Array.isArray(s.prefixItems)) {
      const items: TypeNode[] = s.prefixItems.map((item, i) =>
        single(this.#members(item, derivedName(hint, String(i + 1)), nested))
      );
      if (s.items !== undefined && s.items !== false) {
        const rest = this.#members(s.items, derivedName(hint, "Rest"), nested);
        items.push(`...${wrap(rest, "[]")}[]`);
      }
      return { tuple: items };
    }
    if (s.items === undefined || s.items === true) return "unknown[]";
    const item = this.#members(s.items, derivedName(hint, "Item"), nested);
    if (item.length > 1 && item.map(inline).join(" | ").length > SHORT) {
      const name = this.#alias(
        derivedName(hint, "Item"),
        nested,
        (name) => typeLine(`export type ${name} =`, item, "", ";"),
      );
      return `${name}[]`;
    }
    return `${wrap(item, "[]")}[]`;
  }

  #object(s: JsonSchema, hint: string, nested: string[]): TypeNode {
    if (isObjectWithProperties(s)) {
      const name = claimName(this.#taken, [hint]);
      nested.push(this.declaration(name, s));
      return name;
    }
    const extra = s.additionalProperties;
    if (extra === false) return "Record<string, never>";
    const value = extra === undefined || extra === true
      ? "unknown"
      : single(this.#members(extra, derivedName(hint, "Value"), nested));
    const keys = this.#literals(s.propertyNames);
    if (keys !== undefined) {
      const members = this.#members(s.propertyNames, derivedName(hint, "Key"), nested);
      let key: TypeNode = members.map(inline).join(" | ");
      if (key.length > SHORT) {
        key = this.#alias(
          derivedName(hint, "Key"),
          nested,
          (name) => typeLine(`export type ${name} =`, members, "", ";"),
        );
      }
      const record = { generic: "Record", args: [key, value] };
      const required = Array.isArray(s.required) ? s.required.length : 0;
      return required >= keys.size ? record : { generic: "Partial", args: [record] };
    }
    return { generic: "Record", args: ["string", value] };
  }

  #intersection(parts: string[], hint: string, nested: string[]): TypeNode {
    const text = parts.join(" & ");
    if (text.length <= SHORT) return text;
    return this.#alias(
      hint,
      nested,
      (name) => operands(`export type ${name} =`, parts, { operator: "&", indent: "", tail: ";" }),
    );
  }

  /** Declares a type alias for a long type expression, so that no line outgrows the width. */
  #alias(hint: string, nested: string[], declare: (name: string) => string): string {
    const name = claimName(this.#taken, [hint]);
    this.declared.push(name);
    nested.push(`${declare(name)}\n`);
    return name;
  }

  /**
   * The values a schema allows when they are a finite set of literals (an enum, a const, a union
   * of those, or a `$ref` to one), else undefined: record keys of this kind make a
   * `Record<"a" | "b", T>` rather than a `Record<string, T>`.
   */
  #literals(schema: unknown, depth = 0): Set<unknown> | undefined {
    if (schema === undefined || depth > 16) return undefined;
    const s = asSchema(schema);
    if (typeof s.$ref === "string") return this.#literals(this.#defs[refKey(s.$ref)], depth + 1);
    if ("const" in s) return new Set([s.const]);
    if (Array.isArray(s.enum)) return new Set(s.enum);
    const variants = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : [];
    if (variants.length === 0) return undefined;
    const values = new Set<unknown>();
    for (const variant of variants) {
      const more = this.#literals(variant, depth + 1);
      if (more === undefined) return undefined;
      for (const value of more) values.add(value);
    }
    return values;
  }

  #refName(ref: string): string {
    const key = refKey(ref);
    const name = this.#names.get(key);
    if (name === undefined) {
      throw new TypeError(`Cannot generate types: ${ref} refers to no definition in $defs`);
    }
    return name;
  }
}

/** The key in `$defs` a `$ref` points at. */
function refKey(ref: string): string {
  return decodeURIComponent(ref.replace(/^#\/(\$defs|definitions)\//, ""))
    .replaceAll("~1", "/").replaceAll("~0", "~");
}

/** `UserAddress` for the `address` of `User`; just `Address` when that would be too long. */
function derivedName(parent: string, suffix: string): string {
  const name = `${parent}${suffix}`;
  return name.length <= MAX_DERIVED_NAME || /^[0-9]/.test(suffix) ? name : suffix;
}

/** A type on one line. */
function inline(node: TypeNode): string {
  if (typeof node === "string") return node;
  if ("generic" in node) return `${node.generic}<${node.args.map(inline).join(", ")}>`;
  return `[${node.tuple.map(inline).join(", ")}]`;
}

/** The members of a union as one node (a union becomes its text). */
function single(members: Members): TypeNode {
  return members.length === 1 ? members[0]! : members.map(inline).join(" | ");
}

/**
 * `head type tail` (a property or a type alias), laid out as `deno fmt` does at width 80: on one
 * line if it fits; a union one member per line; a generic or tuple broken inside its brackets;
 * anything else on the next line.
 */
function typeLine(head: string, members: Members, indent: string, tail: string): string {
  if (members.length > 1) {
    return operands(head, members.map(inline), { operator: "|", indent, tail });
  }
  const node = members[0]!;
  const one = `${head} ${inline(node)}${tail}`;
  if (one.length <= LINE_WIDTH) return one;
  if (typeof node === "string") return `${head}\n${indent}  ${node}${tail}`;
  return `${head} ${broken(node, indent)}${tail}`;
}

/** A generic or tuple broken over lines; continuation lines are indented from `indent`. */
function broken(node: Exclude<TypeNode, string>, indent: string): string {
  const inner = `${indent}  `;
  const item = (child: TypeNode, comma: string) => {
    const text = inline(child);
    return typeof child !== "string" && inner.length + text.length + comma.length > LINE_WIDTH
      ? `${inner}${broken(child, inner)}${comma}`
      : `${inner}${text}${comma}`;
  };
  if ("generic" in node) {
    const args = node.args.map((arg, i) => item(arg, i < node.args.length - 1 ? "," : ""));
    return `${node.generic}<\n${args.join("\n")}\n${indent}>`;
  }
  return `[\n${node.tuple.map((child) => item(child, ",")).join("\n")}\n${indent}]`;
}

/** A union as one operand: parenthesised where needed (`(A | B)[]`, `(A | B) & C`). */
function wrap(members: Members, context: "[]" | "&"): string {
  const text = members.map(inline).join(" | ");
  if (members.length > 1) return `(${text})`;
  if (context === "[]" && / [&|] /.test(text) && !/^[A-Za-z0-9_]+<.*>$/.test(text)) {
    return `(${text})`;
  }
  return text;
}

function dedupe(members: Members): Members {
  const seen = new Set<string>();
  const unique = members.filter((member) => {
    const text = inline(member);
    if (seen.has(text)) return false;
    seen.add(text);
    return true;
  });
  return seen.has("unknown") ? ["unknown"] : unique;
}

function literal(value: unknown): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
}

/** Names a union variant after its discriminator (`kind: "circle"` gives `Circle`), or its index. */
function variantSuffix(variant: JsonSchema, index: number): string {
  const properties = variant.properties as Record<string, unknown> | undefined;
  for (const value of Object.values(properties ?? {})) {
    const constant = asSchema(value).const;
    if (typeof constant === "string" && pascalCase(constant) !== "") return pascalCase(constant);
  }
  return String(index + 1);
}

function asSchema(value: unknown): JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as JsonSchema
    : {};
}

function isObjectWithProperties(s: JsonSchema): boolean {
  return (s.type === "object" || s.type === undefined) && typeof s.properties === "object" &&
    s.properties !== null && Object.keys(s.properties).length > 0 && s.$ref === undefined &&
    s.anyOf === undefined && s.oneOf === undefined && s.allOf === undefined;
}

/** The prose of a schema: its description (or title), and deprecation. */
function describe(s: JsonSchema): string[] {
  const lines: string[] = [];
  const text = typeof s.description === "string"
    ? s.description
    : typeof s.title === "string"
    ? s.title
    : undefined;
  if (text !== undefined) lines.push(text, "");
  if (s.deprecated === true) lines.push("@deprecated");
  return lines;
}

/** The constraints of a schema as JSDoc tags, named after the JSON Schema keywords. */
function constraints(schema: JsonSchema): string[] {
  const nonNull = Array.isArray(schema.anyOf)
    ? schema.anyOf.map(asSchema).filter((v) => v.type !== "null")
    : [];
  const s = nonNull.length === 1 && nonNull[0]!.$ref === undefined
    ? { ...nonNull[0], ...schema }
    : schema;
  const tags: string[] = [];
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes("integer")) tags.push("@integer");
  for (const key of ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]) {
    const value = s[key];
    if (typeof value === "number" && !SAFE_INTEGER_BOUNDS.has(value)) tags.push(`@${key} ${value}`);
  }
  const isTuple = Array.isArray(s.prefixItems);
  for (
    const key of [
      "minLength",
      "maxLength",
      "minItems",
      "maxItems",
      "minProperties",
      "maxProperties",
    ]
  ) {
    if (isTuple && (key === "minItems" || key === "maxItems")) continue;
    if (typeof s[key] === "number") tags.push(`@${key} ${s[key]}`);
  }
  if (s.uniqueItems === true) tags.push("@uniqueItems");
  if (typeof s.format === "string") tags.push(`@format ${s.format}`);
  else if (typeof s.pattern === "string") tags.push(`@pattern ${s.pattern}`);
  if ("default" in s) tags.push(`@default ${JSON.stringify(s.default)}`);
  if (Array.isArray(s.examples)) {
    for (const example of s.examples) tags.push(`@example ${JSON.stringify(example)}`);
  }
  return tags;
}
