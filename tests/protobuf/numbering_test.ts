/**
 * Field numbers stay stable as schemas change (docs/connect.md, "Field numbers"): the lock keeps
 * them across additions, reorderings and removals, and `.meta({ protobuf })` sets them in code.
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { Service, z } from "../../mod.ts";
import { buildProtoModel, formatLock, parseLock, type ProtoLock } from "../../src/protobuf/mod.ts";
import { assignNumbers } from "../../src/protobuf/numbering.ts";
import { block, protoOf } from "./_helpers.ts";

const noop = () => ({}) as never;

/** A service whose one request is `schema`, named `Item`. */
function service(schema: z.ZodType): Service {
  return new Service("shop", { version: 1 }).method("put", { input: schema }, noop);
}

function itemOf(schema: z.ZodType, lock?: ProtoLock): string {
  return block(
    protoOf(service(schema), {
      schemaNames: new Map([[schema, "Item"]]),
      ...(lock ? { lock } : {}),
    }),
    "Item",
  );
}

function lockOf(schema: z.ZodType, lock?: ProtoLock): ProtoLock {
  return buildProtoModel([service(schema)], {
    schemaNames: new Map([[schema, "Item"]]),
    ...(lock ? { lock } : {}),
  }).lock;
}

const v1 = z.object({ a: z.string(), b: z.number(), c: z.boolean() });

test("numbers: without a lock, fields are numbered in declaration order", () => {
  assert.equal(
    itemOf(v1),
    "message Item {\n  string a = 1;\n  double b = 2;\n  bool c = 3;\n}",
  );
  assert.deepEqual(lockOf(v1).messages["shop.v1.Item"], { numbers: { a: 1, b: 2, c: 3 } });
});

test("numbers: with the lock, adding a field in the middle leaves the others alone", () => {
  const lock = lockOf(v1);
  const v2 = z.object({ a: z.string(), x: z.string(), b: z.number(), c: z.boolean() });
  assert.equal(
    itemOf(v2, lock),
    "message Item {\n  string a = 1;\n  string x = 4;\n  double b = 2;\n  bool c = 3;\n}",
  );
  // Without the lock the same change would renumber b and c: the reason to keep one.
  assert.match(itemOf(v2), /double b = 3;\n {2}bool c = 4;/);
  const { changes } = buildProtoModel([service(v2)], {
    schemaNames: new Map([[v2, "Item"]]),
    lock,
  });
  assert.deepEqual(changes, ['message shop.v1.Item: new field "x" = 4']);
});

test("numbers: with the lock, reordering fields changes no number", () => {
  const lock = lockOf(v1);
  const reordered = z.object({ c: z.boolean(), a: z.string(), b: z.number() });
  assert.equal(
    itemOf(reordered, lock),
    "message Item {\n  bool c = 3;\n  string a = 1;\n  double b = 2;\n}",
  );
  const { changes } = buildProtoModel([service(reordered)], {
    schemaNames: new Map([[reordered, "Item"]]),
    lock,
  });
  assert.deepEqual(changes, []);
});

test("numbers: with the lock, a removed field's number and name are reserved and never reused", () => {
  const lock = lockOf(v1);
  const removed = z.object({ a: z.string(), c: z.boolean() });
  assert.equal(
    itemOf(removed, lock),
    'message Item {\n  reserved 2;\n  reserved "b";\n  string a = 1;\n  bool c = 3;\n}',
  );
  const after = lockOf(removed, lock);
  assert.deepEqual(after.messages["shop.v1.Item"], {
    numbers: { a: 1, c: 3 },
    reserved: [2],
    reservedNames: ["b"],
  });
  // A field added later gets a new number, not the freed 2.
  const added = z.object({ a: z.string(), c: z.boolean(), d: z.string() });
  assert.match(itemOf(added, after), /string d = 4;/);
  // Bringing the name back is refused: old clients still send b with its old meaning.
  const back = z.object({ a: z.string(), b: z.string(), c: z.boolean() });
  assert.throws(
    () => itemOf(back, after),
    /message shop\.v1\.Item has a field "b", but that name is reserved/,
  );
});

test("numbers: .meta({ protobuf: { fields, reserved } }) sets numbers in code, over the lock", () => {
  const explicit = z.object({ a: z.string(), b: z.number(), c: z.boolean() })
    .meta({ protobuf: { fields: { a: 10, c: 12 }, reserved: [1, 2, "old"] } });
  assert.equal(
    itemOf(explicit),
    'message Item {\n  reserved 1 to 2;\n  reserved "old";\n  string a = 10;\n  double b = 3;\n' +
      "  bool c = 12;\n}",
  );
  // Moving a locked field retires its old number.
  const moved = z.object({ a: z.string(), b: z.number(), c: z.boolean() })
    .meta({ protobuf: { fields: { a: 7 } } });
  assert.match(itemOf(moved, lockOf(v1)), /reserved 1;\n {2}string a = 7;/);
});

test("numbers: invalid, duplicate, unknown or reserved explicit numbers are TypeErrors", () => {
  const cases: [z.ZodType, RegExp][] = [
    [
      z.object({ a: z.string(), b: z.string() }).meta({ protobuf: { fields: { a: 1, b: 1 } } }),
      /message shop\.v1\.Item: \.meta\(\{ protobuf \}\) gives number 1 to field "b", but "a" has it/,
    ],
    [
      z.object({ a: z.string() }).meta({ protobuf: { fields: { z: 2 } } }),
      /numbers field "z", which does not exist \(the fields are "a"\)/,
    ],
    [
      z.object({ a: z.string() }).meta({ protobuf: { fields: { a: 19_500 } } }),
      /invalid number 19500 for field "a" \(expected an integer from 1 to 536870911, not 19000-19999\)/,
    ],
    [
      z.object({ a: z.string() }).meta({ protobuf: { fields: { a: 0 } } }),
      /invalid number 0 for field "a"/,
    ],
    [
      z.object({ a: z.string() }).meta({ protobuf: { fields: { a: 3 }, reserved: [3] } }),
      /gives field "a" number 3, which is reserved/,
    ],
  ];
  for (const [schema, message] of cases) assert.throws(() => itemOf(schema), message);
  // A locked field that metadata pushes onto another locked field's number.
  const clash = z.object({ a: z.string(), b: z.number(), c: z.boolean() })
    .meta({ protobuf: { fields: { a: 2 } } });
  assert.throws(
    () => itemOf(clash, lockOf(v1)),
    /the lock gives number 2 to field "b", but "a" has it/,
  );
});

test("numbers: enum values keep their numbers with the lock; removed ones are reserved", () => {
  const Color = z.enum(["red", "green"]);
  const wrap = (color: z.ZodType) => z.object({ color });
  const first = wrap(Color);
  const lock = lockOf(first);
  assert.deepEqual(lock.enums["shop.v1.Item.Color"], { numbers: { red: 1, green: 2 } });
  // A new schema object named like the old one: the lock goes by full name.
  const changed = wrap(z.enum(["blue", "green"]));
  const out = block(
    protoOf(service(changed), { schemaNames: new Map([[changed, "Item"]]), lock }),
    "Item",
  );
  assert.match(
    out,
    /enum Color \{\n {4}reserved 1;\n {4}reserved "COLOR_RED";\n {4}COLOR_UNSPECIFIED = 0;\n {4}COLOR_BLUE = 3;\n {4}COLOR_GREEN = 2;\n {2}\}/,
  );
  const explicit = wrap(z.enum(["a", "b"]).meta({ protobuf: { values: { b: 5 } } }));
  assert.match(itemOf(explicit), /COLOR_A = 1;\n {4}COLOR_B = 5;/);
});

test("numbers: oneof cases keep their numbers with the lock", () => {
  const circle = z.object({ kind: z.literal("circle"), r: z.number() });
  const rect = z.object({ kind: z.literal("rect"), w: z.number() });
  const dot = z.object({ kind: z.literal("dot") });
  const first = z.discriminatedUnion("kind", [circle, rect]);
  const lock = lockOf(first);
  const second = z.discriminatedUnion("kind", [dot, rect, circle]);
  assert.match(
    itemOf(second, lock),
    /oneof kind \{\n {4}Dot dot = 3;\n {4}Rect rect = 2;\n {4}Circle circle = 1;\n {2}\}/,
  );
});

test("numbers: the same services and lock always give the same numbers (server and CLI agree)", () => {
  const lock = lockOf(v1);
  const v2 = z.object({ b: z.number(), x: z.string(), a: z.string() });
  const options = { schemaNames: new Map([[v2, "Item"]]), lock };
  const once = buildProtoModel([service(v2)], options);
  const twice = buildProtoModel([service(v2)], options);
  assert.equal(formatLock(once.lock), formatLock(twice.lock));
  assert.deepEqual(
    once.files[0]!.types.map((t) => t.kind === "message" ? t.fields.map((f) => f.number) : []),
    [[2, 4, 1]],
  );
  assert.deepEqual(once.changes, [
    'message shop.v1.Item: field "c" removed, number 3 reserved',
    'message shop.v1.Item: new field "x" = 4',
  ]);
});

test("numbers: a lock entry for a message that is gone is reported, and dropped", () => {
  const lock: ProtoLock = {
    version: 1,
    messages: { "shop.v1.Gone": { numbers: { a: 1 } } },
    enums: { "shop.v1.Old": { numbers: { x: 1 } } },
  };
  const model = buildProtoModel([service(v1)], { schemaNames: new Map([[v1, "Item"]]), lock });
  assert.deepEqual(model.changes, [
    "new message shop.v1.Item",
    "message shop.v1.Gone no longer exists",
    "enum shop.v1.Old no longer exists",
  ]);
  assert.deepEqual(Object.keys(model.lock.messages), ["shop.v1.Item"]);
});

test("assignNumbers() never gives a number twice and skips protobuf's reserved range", () => {
  const result = assignNumbers({
    where: "message m",
    kind: "message",
    keys: ["a", "b", "c"],
    locked: { numbers: { a: 18_999 } },
  });
  assert.deepEqual([...result.numbers], [["a", 18_999], ["b", 20_000], ["c", 20_001]]);
  const enums = assignNumbers({ where: "enum e", kind: "enum", keys: ["x", "y"] });
  assert.deepEqual([...enums.numbers], [["x", 1], ["y", 2]]);
});

test("parseLock() checks the file; formatLock() writes it sorted, so that it diffs well", () => {
  const lock = parseLock(
    {
      version: 1,
      messages: { "b.B": { numbers: { x: 1 } }, "a.A": { numbers: { y: 2 }, reserved: [1] } },
      enums: {},
    },
    "proto.lock.json",
  );
  assert.equal(
    formatLock(lock),
    `{
  "version": 1,
  "messages": {
    "a.A": {
      "numbers": {
        "y": 2
      },
      "reserved": [
        1
      ]
    },
    "b.B": {
      "numbers": {
        "x": 1
      }
    }
  },
  "enums": {}
}
`,
  );
  const bad: [unknown, RegExp][] = [
    [[], /Invalid protobuf lock proto\.lock\.json: not an object/],
    [{ version: 2 }, /unknown version 2 \(expected 1\)/],
    [{ version: 1, messages: { m: {} } }, /messages\["m"\] has no numbers/],
    [{ version: 1, messages: { m: { numbers: { a: -1 } } } }, /messages\["m"\]\.numbers\.a is -1/],
    [{ version: 1, enums: { e: { numbers: {}, reserved: ["x"] } } }, /reserved is not a list/],
  ];
  for (const [value, message] of bad) {
    assert.throws(() => parseLock(value, "proto.lock.json"), message);
  }
});
