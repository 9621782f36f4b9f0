import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { formatPath, summarizeIssues, validate } from "../../src/schema/validate.ts";
import { z } from "../../mod.ts";

test("formatPath() writes paths as code would", () => {
  assert.equal(formatPath([]), "");
  assert.equal(formatPath(["user", "tags", 2, "name"]), "user.tags[2].name");
  assert.equal(formatPath([0, "x"]), "[0].x");
});

test("validate() returns parsed data with defaults and without unknown keys", async () => {
  const result = await validate(z.object({ limit: z.number().default(10) }), { extra: true });
  assert.deepEqual(result, { ok: true, value: { limit: 10 } });
});

test("validate() reports every issue with its path", async () => {
  const schema = z.object({ age: z.number(), tags: z.array(z.string()) });
  const result = await validate(schema, { age: "x", tags: ["a", 3] });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.issues.map((i) => i.path), [["age"], ["tags", 1]]);
  assert.equal(
    summarizeIssues(result.issues),
    "age: expected number, received string (and 1 more issue)",
  );
});

test("validate() falls back to async parsing for async refinements", async () => {
  // deno-lint-ignore require-await
  const schema = z.string().refine(async (s) => s.length > 2, "too short");
  const pending = validate(schema, "ab");
  assert.ok(pending instanceof Promise);
  const result = await pending;
  assert.equal(result.ok, false);
  if (!result.ok) assert.equal(result.issues[0]?.message, "too short");
});
