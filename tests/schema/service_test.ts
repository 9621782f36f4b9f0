import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { isService, Service, stream, streaming, z } from "../../mod.ts";

const Item = z.object({ n: z.number() });

function typeError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${error}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test("Service.method() derives the pattern from stream() and streaming()", () => {
  const service = new Service("patterns")
    .method("u", { input: Item, output: Item }, (x) => x)
    .method("s", { input: Item, output: streaming(Item) }, async function* (x) {
      yield x;
    })
    .method("c", { input: stream(Item), output: Item }, async (items) => {
      let n = 0;
      for await (const item of items) n += item.n;
      return { n };
    })
    .method("b", { input: stream(Item), output: streaming(Item) }, async function* (items) {
      yield* items;
    });
  assert.deepEqual(
    service.methods.map((m) => [m.name, m.pattern]),
    [["u", "unary"], ["s", "server_streaming"], ["c", "client_streaming"], [
      "b",
      "bidi_streaming",
    ]],
  );
  assert.equal(service.getMethod("c")?.input, Item);
});

test("Service.method() allows a method without input and without output", () => {
  const service = new Service("misc").method("ping", {}, () => {});
  const ping = service.getMethod("ping");
  assert.equal(ping?.pattern, "unary");
  assert.equal(ping?.input, undefined);
  assert.equal(ping?.output, undefined);
});

test("Service.method() rejects an async generator for a non-streaming output", () => {
  typeError(
    () =>
      new Service("users").method("get_user", { output: Item }, async function* () {
        yield { n: 1 };
      } as never),
    /^Invalid handler for method users\.get_user: an async generator handler streams, but the output is not streaming/,
  );
});

test("Service.method() rejects a plain async function for a streaming output", () => {
  // deno-lint-ignore require-await
  const handler = async () => ({});
  typeError(
    () => new Service("users").method("list", { output: streaming(Item) }, handler as never),
    /users\.list: the output is streaming\(\.\.\.\), so the handler must be an async generator/,
  );
});

test("Service.method() rejects a sync generator", () => {
  typeError(
    () =>
      new Service("users").method("list", { output: streaming(Item) }, function* () {
        yield { n: 1 };
      } as never),
    /users\.list: a sync generator \(function\*\) cannot stream/,
  );
});

test("Service.method() rejects duplicate and invalid names, naming the service", () => {
  const service = new Service("users").method("a", {}, () => {});
  typeError(() => service.method("a", {}, () => {}), /^Duplicate method users\.a/);
  typeError(
    () => service.method("get-user", {}, () => {}),
    /Invalid method name "get-user" in service users/,
  );
  typeError(() => service.method("1x", {}, () => {}), /Invalid method name "1x"/);
  typeError(
    () => service.method("x", { input: { not: "zod" } as never }, () => {}),
    /Invalid input for method users\.x/,
  );
});

test("Service rejects an invalid name or version", () => {
  typeError(() => new Service("my service"), /Invalid service name "my service"/);
  typeError(() => new Service(""), /Invalid service name ""/);
  typeError(() => new Service("users", { version: 0 }), /Invalid version for service users/);
  typeError(() => new Service("users", { version: 1.5 }), /expected a positive integer, got 1.5/);
});

test("isService() recognises services structurally, not by class", () => {
  assert.ok(isService(new Service("users")));
  assert.ok(isService({ "~microapi": "service", name: "x", methods: [] }));
  assert.ok(!isService({ name: "users" }));
  assert.ok(!isService(null));
});
