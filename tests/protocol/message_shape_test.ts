/**
 * The shape limits of one message (src/protocol/message_shape.ts): the walk over a parsed message
 * and the scan of its text agree, on hand-picked cases and on random messages from fixed seeds.
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import {
  checkShape,
  mayPassShape,
  parseMessage,
  scanShape,
  shapeError,
  type ShapeLimits,
} from "../../src/protocol/message_shape.ts";
import { resolveLimits } from "../../src/protocol/limits.ts";
import { random } from "./_wire.ts";

const limits = (maxDepth: number, maxKeys: number, maxItems: number): ShapeLimits => ({
  maxDepth,
  maxKeys,
  maxItems,
});

/** Both checks, which must agree. */
function both(value: unknown, shape: ShapeLimits) {
  const walked = checkShape(value, shape);
  const scanned = scanShape(JSON.stringify(value), shape);
  assert.deepEqual(scanned, walked, `scan and walk disagree on ${JSON.stringify(value)}`);
  return walked;
}

test("resolveLimits() fills in the shape limits and rejects nonsense", () => {
  const defaults = resolveLimits();
  assert.equal(defaults.maxDepth, 64);
  assert.equal(defaults.maxKeys, 50_000);
  assert.equal(defaults.maxItems, 100_000);
  assert.equal(resolveLimits({ maxKeys: 7 }).maxKeys, 7);
  assert.throws(() => resolveLimits({ maxDepth: 0 }), /maxDepth must be a positive integer/);
  assert.throws(() => resolveLimits({ maxItems: 1.5 }), /maxItems must be a positive integer/);
});

test("checkShape() and scanShape() count depth, keys and items over the whole message", () => {
  const shape = limits(3, 4, 5);
  assert.equal(both({ a: { b: { c: 1 } } }, shape), undefined);
  assert.deepEqual(both({ a: { b: { c: {} } } }, shape), {
    limitName: "maxDepth",
    limit: 3,
    path: ["a", "b", "c"],
  });
  assert.deepEqual(both([[[[]]]], shape), { limitName: "maxDepth", limit: 3, path: [0, 0, 0] });
  // Keys are counted over every object of the message.
  assert.equal(both({ a: 1, b: { c: 2, d: 3 } }, shape), undefined);
  assert.deepEqual(both({ a: 1, b: { c: 2, d: 3 }, e: 4 }, shape), {
    limitName: "maxKeys",
    limit: 4,
    path: ["e"],
  });
  assert.deepEqual(both([{ a: 1, b: 2 }, { c: 3, d: 4, e: 5 }], shape), {
    limitName: "maxKeys",
    limit: 4,
    path: [1, "e"],
  });
  // Items too, in the order the text has them.
  assert.equal(both([1, [2, 3], 4], shape), undefined);
  assert.deepEqual(both([1, [2, 3, 4], 5], shape), { limitName: "maxItems", limit: 5, path: [2] });
  assert.deepEqual(both({ xs: [[1, 2, 3], [4, 5]] }, shape), {
    limitName: "maxItems",
    limit: 5,
    path: ["xs", 1, 0],
  });
  // Scalars and empty containers are within any limits.
  for (const value of [null, 1, "x", true, {}, []]) assert.equal(both(value, shape), undefined);
});

test("scanShape() is not fooled by structure inside strings", () => {
  const shape = limits(2, 2, 2);
  const tricky = { 'a"{[:,': 'x\\":[{,"', b: ["\\", '"'] };
  assert.equal(both(tricky, shape), undefined);
  assert.deepEqual(both({ ...tricky, 'c\\"': 1 }, shape), {
    limitName: "maxKeys",
    limit: 2,
    path: ['c\\"'],
  });
  // Whitespace anywhere, as a client may send it.
  assert.deepEqual(scanShape(' { "a" : [ 1 , 2 , 3 ] } ', shape), {
    limitName: "maxItems",
    limit: 2,
    path: ["a", 2],
  });
});

test("scanShape() holds each item of a JSON array of messages to the limits on its own", () => {
  const shape = limits(2, 2, 2);
  const messages = [{ a: 1, b: [1, 2] }, { a: 1, b: [1, 2] }, { a: 1, b: [1, 2] }];
  assert.equal(scanShape(JSON.stringify(messages), shape, { elements: true }), undefined);
  assert.deepEqual(
    scanShape(JSON.stringify([...messages, { a: [[1]] }]), shape, { elements: true }),
    { limitName: "maxDepth", limit: 2, path: [3, "a", 0] },
  );
});

test("scanShape() reads a WebSocket frame's message one level down, without the frame's keys", () => {
  const shape = limits(2, 3, 10);
  const frame = (data: unknown) => JSON.stringify({ type: "message", id: 1, data });
  assert.equal(scanShape(frame({ a: { b: 1 }, c: 2 }), shape, { envelope: true }), undefined);
  assert.deepEqual(scanShape(frame({ a: { b: {} } }), shape, { envelope: true }), {
    limitName: "maxDepth",
    limit: 2,
    path: ["a", "b"],
  });
  assert.deepEqual(scanShape(frame({ a: 1, b: 2, c: 3, d: 4 }), shape, { envelope: true }), {
    limitName: "maxKeys",
    limit: 3,
    path: ["d"],
  });
  // An open frame's metadata counts with its input, as checkShape() is told to count it.
  const open = JSON.stringify({
    type: "open",
    id: 1,
    service: "s",
    method: "m",
    metadata: { x: "1", y: "2" },
    input: { a: 1, b: 2 },
  });
  assert.equal(scanShape(open, shape, { envelope: true })?.limitName, "maxKeys");
  assert.equal(checkShape({ a: 1, b: 2 }, shape, 2)?.limitName, "maxKeys");
});

test("parseMessage() scans long texts, walks shorter ones, and spares the shortest", () => {
  const shape = resolveLimits();
  // A short text cannot pass the default limits: 129 characters nest 64 levels at most.
  assert.equal(mayPassShape(129, shape), false);
  assert.equal(mayPassShape(130, shape), true);
  const deep = (levels: number) => "[".repeat(levels) + "]".repeat(levels);
  assert.equal(JSON.stringify(parseMessage(deep(64), "request body", shape)).length, 128);
  assert.throws(() => parseMessage(deep(65), "request body", shape), (error: unknown) => {
    assert.ok(error instanceof Error && /nests deeper than 64 levels/.test(error.message));
    return true;
  });
  // A long text over a limit is refused by the scan: JSON.parse never sees it, so a text that is
  // not even JSON after the point of failure gets the limit's error, not a syntax error.
  const wide = `{${Array.from({ length: 50_001 }, (_, i) => `"k${i}":0`).join(",")},oops`;
  assert.ok(wide.length >= 64 * 1024);
  assert.throws(() => parseMessage(wide, "request body", shape), /more than 50000 object keys/);
  assert.throws(() => parseMessage("{oops", "request body", shape), /Malformed JSON/);
});

test("checkShape() and scanShape() agree on random messages", () => {
  const verdicts = new Map<string, number>();
  for (let seed = 1; seed <= 1000; seed++) {
    const next = random(seed);
    const int = (max: number) => Math.floor(next() * (max + 1));
    const strings = ["", "x", 'q"uo\\"te', "\\", "{[:,]}", "line\nbreak", "é☃"];
    let serial = 0;
    const value = (depth: number): unknown => {
      // Containers near the top, scalars further down.
      const kind = depth < 2 ? 4 + int(1) : int(depth > 6 ? 3 : 5);
      if (kind === 0) return int(1000) - 500;
      if (kind === 1) return strings[int(strings.length - 1)];
      if (kind === 2) return [true, false, null][int(2)];
      if (kind === 3) return next();
      if (kind === 4) return Array.from({ length: int(4) }, () => value(depth + 1));
      // Unique keys that are not integers, so both checks see them in the same order.
      return Object.fromEntries(
        Array.from({ length: int(4) }, () => [`k${serial++}${strings[int(6)]}`, value(depth + 1)]),
      );
    };
    const message = value(0);
    const shape = limits(2 + int(4), 2 + int(10), 2 + int(10));
    const verdict = both(message, shape)?.limitName ?? "within";
    verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
  }
  // Every verdict came up often enough for the agreement to mean something.
  for (const verdict of ["within", "maxDepth", "maxKeys", "maxItems"]) {
    assert.ok((verdicts.get(verdict) ?? 0) >= 20, `${verdict}: ${JSON.stringify([...verdicts])}`);
  }
});

test("shapeError() is resource_exhausted naming the limit, where, and what to do", () => {
  const error = shapeError(
    { limitName: "maxKeys", limit: 50_000, path: ["m", "k50000"] },
    "message at index 2",
    2,
  );
  assert.equal(error.code, "resource_exhausted");
  assert.equal(
    error.message,
    "The message at index 2 has more than 50000 object keys (limit maxKeys, passed at " +
      "m.k50000): send large collections as a stream, or raise the server's maxKeys",
  );
  assert.deepEqual(error.details, {
    limit: 50_000,
    limit_name: "maxKeys",
    path: ["m", "k50000"],
    index: 2,
  });
  assert.match(
    shapeError({ limitName: "maxDepth", limit: 64, path: [] }, "request").message,
    /^The request nests deeper than 64 levels, at the top level \(limit maxDepth\)/,
  );
});
