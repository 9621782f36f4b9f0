import assert from "node:assert/strict";
import { rejection, test } from "../_harness.ts";
import { Stream, StreamClosedError } from "../../mod.ts";

test("Stream yields pushed values in order and is closed once fully consumed", async () => {
  const numbers = new Stream<number>();
  numbers.push(1);
  numbers.push(2);
  numbers.end();
  assert.equal(numbers.closed, false);
  assert.deepEqual(await numbers.toArray(), [1, 2]);
  assert.equal(numbers.closed, true);
  assert.equal(numbers.received, 2);
});

test("Stream: iterating a closed stream yields nothing", async () => {
  const numbers = Stream.from([1, 2, 3]);
  assert.deepEqual(await numbers.toArray(), [1, 2, 3]);
  assert.deepEqual(await numbers.toArray(), []);
  assert.deepEqual(await numbers.next(), { done: true, value: undefined });
});

test("Stream.push() throws StreamClosedError after end() and after the reader stopped", async () => {
  const ended = new Stream<number>();
  ended.end();
  assert.throws(() => ended.push(1), StreamClosedError);

  const stopped = new Stream<number>();
  stopped.push(1);
  for await (const _ of stopped) break;
  assert.equal(stopped.closed, true);
  assert.throws(() => stopped.push(2), (error: unknown) => {
    assert.ok(error instanceof StreamClosedError);
    assert.equal(error.message, "Cannot push into a closed stream");
    return true;
  });
});

test("Stream delivers a waiting reader's value as soon as it is pushed", async () => {
  const values = new Stream<string>();
  const next = values.next();
  values.push("a");
  assert.deepEqual(await next, { done: false, value: "a" });
});

test("Stream.fail() throws to the reader after the queued values, then the stream is closed", async () => {
  const values = new Stream<number>();
  values.push(1);
  values.fail(new Error("broken"));
  assert.deepEqual(await values.next(), { done: false, value: 1 });
  const error = await rejection(values.next());
  assert.equal((error as Error).message, "broken");
  assert.equal(values.closed, true);
  assert.deepEqual(await values.next(), { done: true, value: undefined });
});

test("Stream calls onPull only when the reader waits, and onCancel when it stops early", async () => {
  let pulls = 0;
  let cancels = 0;
  const values: Stream<number> = new Stream<number>({
    onPull: () => {
      pulls++;
      values.push(pulls);
    },
    onCancel: () => cancels++,
  });
  assert.equal(pulls, 0);
  assert.deepEqual(await values.next(), { done: false, value: 1 });
  assert.deepEqual(await values.next(), { done: false, value: 2 });
  assert.equal(pulls, 2);
  await values.return();
  assert.equal(cancels, 1);
  assert.equal(pulls, 2);
});
