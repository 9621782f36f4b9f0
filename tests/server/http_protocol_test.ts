/** The HTTP protocol of docs/protocol.md, checked in-process through app.fetch (no sockets). */
import assert from "node:assert/strict";
import { test, waitFor, within } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { MicroAPI, Service, stream, streaming, z } from "../../mod.ts";
import type { Context } from "../../mod.ts";
import { MAX_TIMEOUT_MS } from "../../src/protocol/timeout.ts";

function setup(
  options: {
    limits?: { maxMessageBytes?: number; maxLineBytes?: number };
    introspection?: boolean;
  } = {},
) {
  const { services, probe } = fixtureServices();
  const errors: { error: unknown; ctx: Context }[] = [];
  const app = new MicroAPI({
    services,
    limits: options.limits,
    introspection: options.introspection,
    onError: (error, ctx) => errors.push({ error, ctx }),
  });
  const call = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    let body = init.body;
    if ("json" in init) body = JSON.stringify(init.json);
    // A call with no body still names its content type (a call without one is refused).
    if (("json" in init || body === undefined) && !headers.has("content-type")) {
      headers.set("content-type", "application/json");
    }
    return app.fetch(
      new Request(`http://rpc.test${path}`, { method: init.method ?? "POST", headers, body }),
    );
  };
  return { app, call, probe, errors };
}

async function lines(response: Response): Promise<unknown[]> {
  const text = await response.text();
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

test("HTTP unary: JSON in, JSON out", async () => {
  const { call } = setup();
  const response = await call("/users/get_user", { json: { user_id: 7 } });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.deepEqual(await response.json(), { username: "user7", age: 30 });
});

test("HTTP unary: a versioned service lives under /v<N>/, next to the unversioned one", async () => {
  const { call } = setup();
  const v2 = await call("/v2/users/get_user", { json: { id: "a" } });
  assert.deepEqual(await v2.json(), { name: "v2:a" });
  const v1 = await call("/users/get_user", { json: { user_id: 1 } });
  assert.equal(v1.status, 200);
  await v1.body?.cancel();
});

test("HTTP: an unknown method or service is 404 not_found saying which", async () => {
  const { call } = setup();
  const method = await call("/users/delete_user", { json: {} });
  assert.equal(method.status, 404);
  assert.deepEqual(await method.json(), {
    code: "not_found",
    message: 'Service users has no method "delete_user"; its methods are get_user, list_users',
    details: { service: "users", method: "delete_user" },
  });
  const service = await call("/billing/charge", { json: {} });
  assert.equal(service.status, 404);
  assert.deepEqual(await service.json(), {
    code: "not_found",
    message: 'No service at "/billing/charge"; the services are users, analytics, chat, probes, ' +
      "inspect, v2/users, health",
    details: { path: "/billing/charge" },
  });
  const version = await call("/v3/users/get_user", { json: {} });
  assert.equal(version.status, 404);
  assert.equal(
    (await version.json()).message,
    'No service at "/v3/users/get_user"; did you mean "/users/get_user" or "/v2/users/get_user"?',
  );
  const elsewhere = await call("/favicon.ico", { method: "GET" });
  assert.equal(elsewhere.status, 404);
  assert.equal(
    (await elsewhere.json()).message,
    'No service at "/favicon.ico": methods are at /<service>/<method> or ' +
      "/v<N>/<service>/<method>; the services are users, analytics, chat, probes, inspect, " +
      "v2/users, health",
  );
});

test("HTTP: an app that does not publish its introspection names nothing in a 404", async () => {
  const { call } = setup({ introspection: false });
  const method = await call("/users/get_usr", { json: {} });
  assert.equal((await method.json()).message, 'Service users has no method "get_usr"');
  const service = await call("/userz/get_user", { json: {} });
  assert.equal((await service.json()).message, 'No service at "/userz/get_user"');
});

test("HTTP: microapi-pattern names the client's pattern; a mismatch is 501 saying what to use", async () => {
  const { call, probe } = setup();
  const mismatch = await call("/users/list_users", {
    json: { limit: 2 },
    headers: { "microapi-pattern": "unary" },
  });
  assert.equal(mismatch.status, 501);
  assert.deepEqual(await mismatch.json(), {
    code: "unimplemented",
    message: "users.list_users is a server streaming method, but it was called as unary: call " +
      "it with serverStream()",
    details: { pattern: "server_streaming", requested: "unary" },
  });
  assert.equal(probe.contexts.has("list_users"), false, "the handler never ran");
  const bad = await call("/users/get_user", {
    json: { user_id: 1 },
    headers: { "microapi-pattern": "single" },
  });
  assert.equal(bad.status, 400);
  assert.equal(
    (await bad.json()).message,
    "Header microapi-pattern must be one of unary, server_streaming, client_streaming, " +
      'bidi_streaming, got "single"',
  );
  const right = await call("/users/get_user", {
    json: { user_id: 1 },
    headers: { "microapi-pattern": "unary" },
  });
  assert.deepEqual(await right.json(), { username: "user1", age: 30 });
  // A client that does not say (older clients, curl) is served as before.
  const silent = await call("/users/list_users", { json: { limit: 1 } });
  assert.equal(silent.status, 200);
  assert.equal((await lines(silent)).length, 2);
});

test("HTTP: a method called with GET is 405 with Allow: POST", async () => {
  const { call } = setup();
  const response = await call("/users/get_user", { method: "GET" });
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "POST");
  assert.match((await response.json()).message, /Use POST to call users\.get_user/);
});

test("HTTP: a call a page on another site could send without a preflight is refused unrun", async () => {
  // Browsers send a cross-site POST without asking the server first (no CORS preflight) when it
  // has no content type, or one a form can have: text/plain, form-urlencoded, multipart. Such a
  // request must not run a handler, whatever the pattern.
  const ran: string[] = [];
  const Input = z.object({ n: z.number() });
  const Output = z.object({ n: z.number() });
  const service = new Service("bank")
    .method("transfer", { input: Input, output: Output }, ({ n }) => {
      ran.push("transfer");
      return { n };
    })
    .method("watch", { input: Input, output: streaming(Output) }, async function* ({ n }) {
      ran.push("watch");
      yield { n };
    })
    .method("upload", { input: stream(Input), output: Output }, async (inputs) => {
      ran.push("upload");
      let n = 0;
      for await (const input of inputs) n += input.n;
      return { n };
    })
    .method("chat", { input: stream(Input), output: streaming(Output) }, async function* (inputs) {
      ran.push("chat");
      for await (const input of inputs) yield input;
    });
  const app = new MicroAPI({ services: [service] });
  const post = (method: string, body: BodyInit | null, type?: string) =>
    app.fetch(
      new Request(`http://bank.test/bank/${method}`, {
        method: "POST",
        body,
        headers: type === undefined ? {} : { "content-type": type },
      }),
    );
  const json = '{"n":1}';
  const safelisted = [
    undefined,
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
  ];
  for (const method of ["transfer", "watch", "upload", "chat"]) {
    for (const type of safelisted) {
      // A Blob without a type, as fetch(url, { mode: "no-cors", body: blob }) sends it.
      const response = await post(method, type === undefined ? new Blob([json]) : json, type);
      assert.equal(response.headers.get("content-type"), "application/json", `${method} ${type}`);
      assert.equal(response.status, 415, `${method} with ${type ?? "no content type"}`);
      const body = await response.json();
      assert.equal(body.code, "invalid_argument");
      if (type === undefined) assert.match(body.message, /^Missing content type for bank\./);
    }
    // No body at all, as <form method=post> with nothing in it or fetch(url, { method: "POST" }).
    assert.equal((await post(method, null)).status, 415, `${method} without a body`);
  }
  assert.deepEqual(ran, []);
  // What the message says to send works, as curl sends it.
  const missing = await (await post("transfer", new Blob([json]))).json();
  assert.equal(
    missing.message,
    "Missing content type for bank.transfer (unary): send content-type: application/json. " +
      "Calls without one are refused, since a page on another site could make them without the " +
      "browser asking first",
  );
  const upload = await (await post("upload", new Blob([json]))).json();
  assert.match(
    upload.message,
    /send content-type: application\/x-ndjson \(one message per line\) or application\/json/,
  );
  const ok = await post("transfer", json, "application/json");
  assert.deepEqual(await ok.json(), { n: 1 });
  assert.deepEqual(ran, ["transfer"]);
});

test("HTTP: a wrong content type is 415 naming the expected one", async () => {
  const { call } = setup();
  const form = await call("/users/get_user", {
    body: "user_id=7",
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  assert.equal(form.status, 415);
  const body = await form.json();
  assert.equal(body.code, "invalid_argument");
  assert.equal(
    body.message,
    'Unsupported content type "application/x-www-form-urlencoded" for users.get_user (unary): ' +
      "send content-type: application/json",
  );
  const stream = await call("/chat/echo", { json: [] });
  assert.equal(stream.status, 415);
  assert.match(
    (await stream.json()).message,
    /chat\.echo \(bidi streaming\): send content-type: application\/x-ndjson/,
  );
});

test("HTTP: malformed JSON is 400 invalid_argument saying where", async () => {
  const { call } = setup();
  const response = await call("/users/get_user", {
    body: '{"user_id": 7,}',
    headers: { "content-type": "application/json" },
  });
  assert.equal(response.status, 400);
  const body = await response.json();
  assert.equal(body.code, "invalid_argument");
  assert.equal(
    body.message,
    "Malformed JSON in request body at line 1, column 15: expected a property name in double " +
      'quotes, found "}"',
  );
});

test("HTTP: a message failing validation is 400 with each issue's path and message", async () => {
  const { call } = setup();
  const response = await call("/users/get_user", { json: { user_id: "seven" } });
  assert.equal(response.status, 400);
  const body = await response.json();
  assert.equal(body.code, "invalid_argument");
  assert.equal(body.message, "Invalid request: user_id: expected number, received string");
  assert.deepEqual(body.details.issues[0].path, ["user_id"]);
  assert.equal(body.details.issues[0].code, "invalid_type");
});

test("HTTP: an empty body means {} for a method with input, and nothing for one without", async () => {
  const { call } = setup();
  const list = await call("/users/list_users");
  assert.equal(list.status, 200);
  assert.equal((await lines(list)).length, 4); // three users (the default limit) and the end
  const ping = await call("/probes/ping");
  assert.equal(ping.status, 200);
  assert.equal(await ping.text(), "null");
});

test("HTTP: a handler's RpcError keeps its code, status and details", async () => {
  const { call } = setup();
  const response = await call("/users/get_user", { json: { user_id: 404 } });
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), {
    code: "not_found",
    message: "No user 404",
    details: { user_id: 404 },
  });
});

test("HTTP: any other handler error is 500 internal with nothing internal in it, and is logged", async () => {
  const { call, errors } = setup();
  const response = await call("/users/get_user", { json: { user_id: 500 } });
  assert.equal(response.status, 500);
  const text = await response.text();
  assert.deepEqual(JSON.parse(text), { code: "internal", message: "internal error" });
  assert.ok(!text.includes("hunter2"));
  assert.equal(errors.length, 1);
  assert.equal((errors[0]!.error as Error).message, "database password is hunter2");
  assert.equal(errors[0]!.ctx.method, "get_user");
});

test("HTTP: an invalid response message is internal, logged, and not sent", async () => {
  const { call, errors } = setup();
  const response = await call("/probes/bad_output");
  assert.equal(response.status, 500);
  const body = await response.json();
  assert.equal(body.code, "internal");
  assert.match(body.message, /invalid response message: age: expected number/);
  assert.equal(errors.length, 1);
});

test("HTTP: request headers reach ctx.metadata; handlers set headers and trailers", async () => {
  const { call } = setup();
  const response = await call("/probes/metadata", { headers: { "x-caller": "tests" } });
  assert.equal(response.headers.get("x-served-by"), "probes");
  assert.equal(response.headers.get("trailer-x-cost"), "7");
  assert.deepEqual(await response.json(), { caller: "tests" });
});

test("HTTP server stream: headers before the first message, trailers in the end line", async () => {
  const { call } = setup();
  const response = await call("/probes/stream_metadata");
  assert.equal(response.headers.get("content-type"), "application/x-ndjson");
  assert.equal(response.headers.get("x-before"), "yes");
  assert.equal(response.headers.get("x-after"), null);
  const all = await lines(response);
  assert.deepEqual(all[0], { message: { text: "one" } });
  assert.match(
    (all[1] as { message: { text: string } }).message.text,
    /Cannot change response header "x-after": the headers were sent/,
  );
  assert.deepEqual(all.at(-1), { end: { code: "ok", trailers: { "x-total": "3" } } });
});

test("HTTP server stream: a failure half way ends with the error line after the messages", async () => {
  const { call } = setup();
  const response = await call("/probes/fail_after", { json: { n: 2 } });
  assert.equal(response.status, 200);
  assert.deepEqual(await lines(response), [
    { message: { i: 0 } },
    { message: { i: 1 } },
    { end: { code: "data_loss", message: "the disk caught fire", details: { after: 2 } } },
  ]);
  const crash = await call("/probes/crash_after", { json: { n: 1 } });
  const crashLines = await lines(crash);
  assert.deepEqual(crashLines.at(-1), { end: { code: "internal", message: "internal error" } });
});

test("HTTP server stream: an error before any message is a plain error response", async () => {
  const { call } = setup();
  const response = await call("/users/list_users", { json: { limit: "x" } });
  assert.equal(response.status, 400);
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.equal((await response.json()).code, "invalid_argument");
});

test("HTTP client stream: NDJSON body, one message per line", async () => {
  const { call } = setup();
  const response = await call("/analytics/aggregate", {
    body: '{"value":1}\n{"value":2}\n\n{"value":3.5}',
    headers: { "content-type": "application/x-ndjson" },
  });
  assert.deepEqual(await response.json(), { count: 3, sum: 6.5 });
});

test("HTTP client stream: a JSON array body works too (for curl)", async () => {
  const { call } = setup();
  const response = await call("/analytics/aggregate", { json: [{ value: 2 }, { value: 3 }] });
  assert.deepEqual(await response.json(), { count: 2, sum: 5 });
  const notArray = await call("/analytics/aggregate", { json: { value: 1 } });
  assert.equal(notArray.status, 400);
  assert.match((await notArray.json()).message, /must be a JSON array of messages/);
});

test("HTTP client stream: a bad message fails the call with its index and path", async () => {
  const { call, probe } = setup();
  const response = await call("/analytics/aggregate", {
    body: '{"value":1}\n{"value":2}\n{"value":"3"}\n{"value":4}\n',
    headers: { "content-type": "application/x-ndjson" },
  });
  assert.equal(response.status, 400);
  const body = await response.json();
  assert.equal(body.message, "Invalid message at index 2: value: expected number, received string");
  assert.equal(body.details.index, 2);
  assert.deepEqual(body.details.issues[0].path, ["value"]);
  assert.deepEqual(probe.received, [{ value: 1 }, { value: 2 }]);
});

test("HTTP client stream: malformed JSON on a line names the message index and column", async () => {
  const { call } = setup();
  const response = await call("/analytics/aggregate", {
    body: '{"value":1}\n{"value":}\n',
    headers: { "content-type": "application/x-ndjson" },
  });
  assert.equal(response.status, 400);
  assert.equal(
    (await response.json()).message,
    'Malformed JSON in message at index 1 at line 1, column 10: unexpected "}", expected a value',
  );
});

test("HTTP client stream: a handler that swallows a validation error still fails the call", async () => {
  const { call } = setup();
  const response = await call("/analytics/swallow", {
    body: '{"value":1}\n{"value":"x"}\n',
    headers: { "content-type": "application/x-ndjson" },
  });
  assert.equal(response.status, 400);
  assert.equal((await response.json()).details.index, 1);
});

test("HTTP bidi: validated messages in, a stream out, error line for a bad message", async () => {
  const { call } = setup();
  const response = await call("/chat/echo", {
    body: '{"text":"a"}\n{"text":"b"}\n{"text":5}\n',
    headers: { "content-type": "application/x-ndjson" },
  });
  assert.deepEqual(await lines(response), [
    { message: { text: "A" } },
    { message: { text: "B" } },
    {
      end: {
        code: "invalid_argument",
        message: "Invalid message at index 2: text: expected string, received number",
        details: {
          index: 2,
          issues: [{
            path: ["text"],
            message: "Invalid input: expected string, received number",
            code: "invalid_type",
          }],
        },
      },
    },
  ]);
});

test("HTTP limits: a unary body over the limit is resource_exhausted before it is read", async () => {
  const { call } = setup({ limits: { maxMessageBytes: 64 } });
  const response = await call("/users/get_user", {
    json: { user_id: 1, padding: "x".repeat(100) },
  });
  assert.equal(response.status, 429);
  assert.deepEqual(await response.json(), {
    code: "resource_exhausted",
    message: "The request body exceeds the limit of 64 bytes",
    details: { limit: 64 },
  });
});

test("HTTP limits: a chunked body is cut off at the limit, without waiting for its end", async () => {
  const { call } = setup({ limits: { maxMessageBytes: 64 } });
  let cancelled = false;
  // A body without Content-Length that never ends: only enforcing while reading can answer.
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("{" + " ".repeat(100)));
    },
    cancel() {
      cancelled = true;
    },
  });
  const response = await within(
    call("/users/get_user", {
      body,
      headers: { "content-type": "application/json" },
      duplex: "half",
    } as RequestInit),
    2000,
    "oversize chunked body",
  );
  assert.equal(response.status, 429);
  assert.equal((await response.json()).code, "resource_exhausted");
  await waitFor(() => cancelled, "the body to be cancelled");
});

test("HTTP limits: an NDJSON line over the limit fails the stream as resource_exhausted", async () => {
  const { call, probe } = setup({ limits: { maxMessageBytes: 1000, maxLineBytes: 32 } });
  const response = await call("/analytics/aggregate", {
    body: '{"value":1}\n{"value":2, "pad":"' + "x".repeat(50) + '"}\n',
    headers: { "content-type": "application/x-ndjson" },
  });
  assert.equal(response.status, 429);
  assert.equal(
    (await response.json()).message,
    "Line in request body exceeds the limit of 32 bytes",
  );
  assert.deepEqual(probe.received, [{ value: 1 }]);
});

test("HTTP deadline: a timeout longer than a timer can wait is capped, not fired at once", async () => {
  const { call } = setup();
  // 30 days, and the longest the header allows (about 115 days): both past 2^31-1 ms.
  for (const timeout of ["2592000000", "9999999999"]) {
    const response = await call("/probes/deadline", {
      json: { ms: 30 },
      headers: { "microapi-timeout-ms": timeout },
    });
    assert.equal(response.status, 200, `timeout ${timeout}: ${await response.clone().text()}`);
    const { remaining_ms } = await response.json();
    assert.ok(
      remaining_ms > MAX_TIMEOUT_MS - 5_000 && remaining_ms <= MAX_TIMEOUT_MS,
      `timeout ${timeout}: the deadline is ${remaining_ms} ms away`,
    );
  }
});

test("HTTP deadline: a bad timeout header is 400; an expired one is 504 deadline_exceeded", async () => {
  const { call, probe } = setup();
  const bad = await call("/probes/slow", {
    json: { ms: 1 },
    headers: { "microapi-timeout-ms": "soon" },
  });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).message, /microapi-timeout-ms must be a whole number/);

  const start = Date.now();
  const late = await call("/probes/ignore_signal", {
    json: { ms: 2000 },
    headers: { "microapi-timeout-ms": "50" },
  });
  assert.ok(Date.now() - start < 1500, "the deadline must not wait for the handler");
  assert.equal(late.status, 504);
  assert.deepEqual(await late.json(), {
    code: "deadline_exceeded",
    message: "The deadline of 50 ms expired",
  });
  const ctx = probe.contexts.get("ignore_signal")!;
  assert.equal(ctx.signal.aborted, true);
  assert.equal((ctx.signal.reason as { code: string }).code, "deadline_exceeded");
  assert.ok(ctx.deadline !== undefined && ctx.deadline <= Date.now());
  // Let the ignored timer finish so the test leaks nothing.
  await new Promise((resolve) => setTimeout(resolve, 2000 - (Date.now() - start)));
});

test("HTTP: basePath prefixes every route", async () => {
  const { services } = fixtureServices();
  const app = new MicroAPI({ services, basePath: "/rpc" });
  const response = await app.fetch(
    new Request("http://x/rpc/users/get_user", {
      method: "POST",
      body: '{"user_id":1}',
      headers: { "content-type": "application/json" },
    }),
  );
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const outside = await app.fetch(
    new Request("http://x/users/get_user", {
      method: "POST",
      body: '{"user_id":1}',
      headers: { "content-type": "application/json" },
    }),
  );
  assert.equal(outside.status, 404);
  await outside.body?.cancel();
});

test("MicroAPI rejects duplicate services and things that are not services", () => {
  const { services } = fixtureServices();
  assert.throws(
    () => new MicroAPI({ services: [services[0]!, services[0]!] }),
    /Duplicate service users: each name and version can be served once/,
  );
  assert.throws(
    () => new MicroAPI({ services: [{} as never] }),
    /Invalid service: expected a Service/,
  );
});
