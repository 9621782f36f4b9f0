/** The message types file, unit by unit: how schemas become TypeScript and JSDoc. */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { typesFile } from "../../src/codegen/types_file.ts";
import { buildIntrospection, Service, z } from "../../mod.ts";

/** The declarations of a types file, whitespace-normalised, for matching. */
function code(defs: Record<string, unknown>): string {
  return typesFile(defs as Record<string, Record<string, unknown>>).code;
}

test("typesFile() maps JSON Schema to TypeScript", () => {
  const out = code({
    All: {
      type: "object",
      properties: {
        s: { type: "string" },
        n: { type: "integer" },
        b: { type: "boolean" },
        z: { type: "null" },
        c: { const: "fixed" },
        e: { enum: ["a", 1, true, null] },
        u: { anyOf: [{ type: "string" }, { type: "number" }] },
        i: { allOf: [{ $ref: "#/$defs/Left" }, { $ref: "#/$defs/Right" }] },
        r: { type: "object", additionalProperties: { type: "number" } },
        k: {
          type: "object",
          propertyNames: { enum: ["x", "y"] },
          additionalProperties: { type: "string" },
          required: ["x", "y"],
        },
        p: {
          type: "object",
          propertyNames: { enum: ["x", "y"] },
          additionalProperties: { type: "string" },
        },
        a: { type: "array", items: { anyOf: [{ type: "string" }, { type: "number" }] } },
        t: {
          type: "array",
          prefixItems: [{ type: "string" }, { type: "number" }],
          items: { type: "boolean" },
        },
        any: {},
        never: { not: {} },
        free: { type: "object" },
        none: { type: "object", properties: {}, additionalProperties: false },
        "not-an-identifier": { type: "string" },
      },
      required: ["s"],
    },
    Left: { type: "object", properties: { l: { type: "string" } }, required: ["l"] },
    Right: { type: "object", properties: { r: { type: "string" } }, required: ["r"] },
  });
  for (
    const line of [
      "  s: string;",
      "  n?: number;",
      "  b?: boolean;",
      "  z?: null;",
      '  c?: "fixed";',
      '  e?: "a" | 1 | true | null;',
      "  u?: string | number;",
      "  i?: Left & Right;",
      "  r?: Record<string, number>;",
      '  k?: Record<"x" | "y", string>;',
      '  p?: Partial<Record<"x" | "y", string>>;',
      "  a?: (string | number)[];",
      "  t?: [string, number, ...boolean[]];",
      "  any?: unknown;",
      "  never?: never;",
      "  free?: Record<string, unknown>;",
      "  none?: Record<string, never>;",
      '  "not-an-identifier"?: string;',
    ]
  ) {
    assert.ok(out.includes(`\n${line}\n`), `missing ${JSON.stringify(line)} in:\n${out}`);
  }
});

test("typesFile() names nested objects after where they sit, and keeps names short and unique", () => {
  const object = (key: string) => ({
    type: "object",
    properties: { [key]: { type: "string" } },
    required: [key],
  });
  const out = code({
    Order: {
      type: "object",
      properties: {
        address: object("street"),
        lines: { type: "array", items: object("sku") },
        extras: { type: "object", additionalProperties: object("note") },
        pair: { type: "array", prefixItems: [object("first"), object("second")] },
        payment: {
          oneOf: [
            { type: "object", properties: { kind: { const: "card" } }, required: ["kind"] },
            { type: "object", properties: { kind: { const: "cash" } }, required: ["kind"] },
          ],
        },
        either: { anyOf: [object("left"), object("right")] },
        maybe: { anyOf: [object("inner"), { type: "null" }] },
        a_property_name_long_enough_to_drop_the_parent: object("deep"),
      },
    },
    OrderAddress: object("taken"),
    Record: object("reserved"),
  });
  for (
    const declaration of [
      "export interface OrderAddress {\n  taken: string;",
      "export interface OrderAddress2 {\n  street: string;",
      "export interface OrderLinesItem {\n  sku: string;",
      "export interface OrderExtrasValue {\n  note: string;",
      "export interface OrderPair1 {\n  first: string;",
      "export interface OrderPair2 {\n  second: string;",
      'export interface OrderPaymentCard {\n  kind: "card";',
      'export interface OrderPaymentCash {\n  kind: "cash";',
      "export interface OrderEither1 {\n  left: string;",
      "export interface OrderEither2 {\n  right: string;",
      "export interface OrderMaybe {\n  inner: string;",
      "export interface AProperty",
      "export interface RecordMessage {\n  reserved: string;",
    ]
  ) {
    assert.ok(out.includes(declaration), `missing ${JSON.stringify(declaration)} in:\n${out}`);
  }
  assert.match(out, /^ {2}address\?: OrderAddress2;$/m);
  assert.match(out, /^ {2}payment\?: OrderPaymentCard \| OrderPaymentCash;$/m);
  assert.match(out, /^ {2}maybe\?: OrderMaybe \| null;$/m);
  // Longer than 40 characters with the parent: just the property's name.
  assert.match(
    out,
    /^ {2}a_property_name_long_enough_to_drop_the_parent\?:\n {4}AProperty\w+;$/m,
  );
  assert.ok(
    out.indexOf("export interface Order ") < out.indexOf("export interface OrderLinesItem"),
  );
});

test("typesFile() keys a record by a named enum, a const or a union of literals", () => {
  const record = (propertyNames: unknown, required?: string[]) => ({
    type: "object",
    propertyNames,
    additionalProperties: { type: "number" },
    ...(required ? { required } : {}),
  });
  const out = code({
    Quota: {
      type: "object",
      properties: {
        byRef: record({ $ref: "#/$defs/Plan" }, ["free", "pro"]),
        partialByRef: record({ $ref: "#/$defs/Plan" }),
        byAlias: record({ $ref: "#/$defs/Tier" }, ["free", "pro", "gold"]),
        byConst: record({ type: "string", const: "only" }, ["only"]),
        byUnion: record({ anyOf: [{ const: "a" }, { enum: ["b", "c"] }] }, ["a", "b", "c"]),
        byPattern: record({ type: "string", pattern: "^x" }),
        byString: record({ $ref: "#/$defs/Name" }),
      },
      required: ["byRef"],
    },
    Plan: { type: "string", enum: ["free", "pro"] },
    Tier: { anyOf: [{ $ref: "#/$defs/Plan" }, { const: "gold" }] },
    Name: { type: "string", minLength: 1 },
  });
  for (
    const line of [
      "  byRef: Record<Plan, number>;",
      "  partialByRef?: Partial<Record<Plan, number>>;",
      "  byAlias?: Record<Tier, number>;",
      '  byConst?: Record<"only", number>;',
      '  byUnion?: Record<"a" | "b" | "c", number>;',
      "  byPattern?: Record<string, number>;",
      "  byString?: Record<string, number>;",
    ]
  ) {
    assert.ok(out.includes(`\n${line}\n`), `missing ${JSON.stringify(line)} in:\n${out}`);
  }
});

test("typesFile() lists every type it declares, nested and variant ones included", () => {
  const file = typesFile({
    Shape: {
      oneOf: [
        { type: "object", properties: { kind: { const: "circle" } }, required: ["kind"] },
        { type: "object", properties: { kind: { const: "rect" } }, required: ["kind"] },
      ],
    },
    Order: {
      type: "object",
      properties: {
        lines: {
          type: "array",
          items: { type: "object", properties: { sku: { type: "string" } } },
        },
        keyed: {
          type: "object",
          propertyNames: { enum: ["a_rather_long_key_name", "another_rather_long_key"] },
          additionalProperties: { type: "string" },
        },
      },
    },
  });
  assert.deepEqual(file.declared, [
    "Shape",
    "ShapeCircle",
    "ShapeRect",
    "Order",
    "OrderLinesItem",
    "OrderKeyedKey",
  ]);
  for (const name of file.declared) {
    assert.match(file.code, new RegExp(`^export \\w+ ${name} `, "m"));
  }
});

test("typesFile() keeps descriptions and constraints as JSDoc", () => {
  const out = code({
    Doc: {
      type: "object",
      description: "A documented object */ safely",
      properties: {
        count: {
          type: "integer",
          minimum: 1,
          maximum: Number.MAX_SAFE_INTEGER,
          exclusiveMaximum: 100,
          multipleOf: 5,
          description: "How many",
          default: 5,
          examples: [10, 20],
        },
        tags: {
          type: "array",
          items: { type: "string" },
          minItems: 1,
          maxItems: 3,
          uniqueItems: true,
        },
        code: { type: "string", minLength: 2, maxLength: 4, pattern: "^[A-Z]+$" },
        mail: { type: "string", format: "email", pattern: "^.+@.+$" },
        old: { type: "string", deprecated: true, title: "Old field" },
      },
    },
  });
  assert.ok(out.startsWith("/** A documented object *\\/ safely */\nexport interface Doc {"), out);
  assert.ok(
    out.includes(
      "  /**\n   * How many\n   *\n   * @integer\n   * @minimum 1\n   * @exclusiveMaximum 100\n" +
        "   * @multipleOf 5\n   * @default 5\n   * @example 10\n   * @example 20\n   */\n  count?: number;",
    ),
    out,
  );
  assert.ok(
    out.includes(
      "   * @minItems 1\n   * @maxItems 3\n   * @uniqueItems\n   */\n  tags?: string[];",
    ),
    out,
  );
  assert.ok(
    out.includes("   * @minLength 2\n   * @maxLength 4\n   * @pattern ^[A-Z]+$\n   */\n  code?:"),
    out,
  );
  // A format says more than the pattern zod adds for it.
  assert.ok(out.includes("  /** @format email */\n  mail?: string;"), out);
  assert.ok(
    out.includes("  /**\n   * Old field\n   *\n   * @deprecated\n   */\n  old?: string;"),
    out,
  );
});

test("typesFile() gives what JSON cannot carry (dates, bigints, maps, sets) the type unknown", () => {
  const service = new Service("odd").method("get", {
    output: z.object({
      at: z.date(),
      big: z.bigint(),
      map: z.map(z.string(), z.number()),
      set: z.set(z.string()),
    }),
  }, () => ({ at: new Date(0), big: 1n, map: new Map<string, number>(), set: new Set<string>() }));
  const out = code(buildIntrospection([service]).$defs as Record<string, unknown>);
  for (const name of ["at", "big", "map", "set"]) {
    assert.match(out, new RegExp(`^ {2}${name}: unknown;$`, "m"));
  }
});
