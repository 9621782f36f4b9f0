/**
 * The Connect protocol and gRPC-Web on the wire, in process (`app.fetch`): requests built by hand
 * as the specs describe them, so each rule is checked byte for byte. The real clients
 * (Connect-ES, buf curl) are in clients_test.ts and buf_curl_test.ts.
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { MicroAPI, Service, z } from "../../mod.ts";
import { connect } from "../../src/connect/mod.ts";
import { base64DecodeStream } from "../../src/protocol/base64.ts";
import { createProtoCodecs, DESCRIPTOR_SET_PATH, protoSources } from "../../src/protobuf/mod.ts";
import { fileDescriptorSet } from "../../src/protobuf/mod.ts";
import { connectServices, envelopes, gunzip, gzip, readEnvelopes } from "./_helpers.ts";

function app(options: Partial<ConstructorParameters<typeof MicroAPI>[0]> = {}): MicroAPI {
  return new MicroAPI({
    services: connectServices().services,
    protocols: [connect()],
    onError: () => {},
    ...options,
  });
}

function post(
  path: string,
  type: string,
  body: string | Uint8Array | null,
  headers: HeadersInit = {},
): Request {
  return new Request(`http://localhost${path}`, {
    method: "POST",
    headers: { "content-type": type, ...headers },
    body: body as BodyInit | null,
  });
}

const JSON_TYPE = "application/json";

test("connect unary: JSON and binary protobuf reach the same handler and validation", async () => {
  const a = app();
  const json = await a.fetch(post("/users.Users/GetUser", JSON_TYPE, '{"userId": 3}'));
  assert.equal(json.status, 200);
  assert.equal(json.headers.get("content-type"), "application/json");
  // Connect's JSON: lowerCamel names, int64 (an unbounded z.number().int()) as a string.
  assert.deepEqual(await json.json(), { username: "user3", age: "30" });
  // The proto field name works too, as does a missing (zero) field.
  const original = await a.fetch(post("/users.Users/GetUser", JSON_TYPE, '{"user_id": 4}'));
  assert.deepEqual(await original.json(), { username: "user4", age: "30" });

  const codec = createProtoCodecs(connectServices().services).byPath("/users.Users/GetUser")!;
  const binary = await a.fetch(
    post("/users.Users/GetUser", "application/proto", codec.input.encodeBinary({ user_id: 5 })),
  );
  assert.equal(binary.status, 200);
  assert.equal(binary.headers.get("content-type"), "application/proto");
  assert.deepEqual(
    codec.output.decodeBinary(new Uint8Array(await binary.arrayBuffer())),
    { username: "user5", age: 30 },
  );
  // MicroAPI's own route still answers, unchanged.
  const own = await a.fetch(post("/users/get_user", JSON_TYPE, '{"user_id": 3}'));
  assert.deepEqual(await own.json(), { username: "user3", age: 30 });
});

test("connect unary: errors are Connect error JSON with Connect's code spelling and details", async () => {
  const a = app();
  const missing = await a.fetch(post("/users.Users/GetUser", JSON_TYPE, '{"userId": 404}'));
  assert.equal(missing.status, 404);
  const body = await missing.json();
  assert.equal(body.code, "not_found");
  assert.equal(body.message, "No user 404");
  // Our free-form details travel as one google.protobuf.Value, readable in debug.
  assert.equal(body.details.length, 1);
  assert.equal(body.details[0].type, "google.protobuf.Value");
  assert.deepEqual(body.details[0].debug, { user_id: 404 });
  assert.match(body.details[0].value, /^[A-Za-z0-9+/]+$/);

  const cancelled = await a.fetch(post("/extras.v1.Extras/GiveUp", JSON_TYPE, "{}"));
  assert.equal(cancelled.status, 499);
  assert.equal((await cancelled.json()).code, "canceled");

  // What zod rejects is invalid_argument, with the issues in debug.
  const invalid = await a.fetch(post("/extras.v1.Extras/Big", JSON_TYPE, '{"size": -1}'));
  assert.equal(invalid.status, 400);
  const issue = await invalid.json();
  assert.equal(issue.code, "invalid_argument");
  assert.match(issue.message, /^Invalid request: size: /);
  assert.equal(issue.details[0].debug.issues[0].path[0], "size");

  // JSON that does not fit the message at all is invalid_argument too, naming the type.
  const wrong = await a.fetch(post("/users.Users/GetUser", JSON_TYPE, '{"userId": "x"}'));
  assert.equal(wrong.status, 400);
  assert.match((await wrong.json()).message, /GetUserRequest/);
  const internal = await a.fetch(post("/users.Users/GetUser", JSON_TYPE, '{"userId": 500}'));
  assert.deepEqual(await internal.json(), { code: "internal", message: "internal error" });
});

test("connect: an unknown procedure is unimplemented (404), other requests reach the fallback", async () => {
  const a = app({ fallback: () => new Response("fallback", { status: 418 }) });
  const method = await a.fetch(post("/users.Users/Nope", JSON_TYPE, "{}"));
  assert.equal(method.status, 404);
  assert.deepEqual(await method.json(), {
    code: "unimplemented",
    message: 'Service users.Users has no method "Nope"',
  });
  const service = await a.fetch(
    post("/billing.v1.Billing/Charge", "application/connect+proto", ""),
  );
  assert.equal(service.status, 404);
  assert.match(
    (await service.json()).message,
    /^No service billing\.v1\.Billing; the services are /,
  );
  const grpcWeb = await a.fetch(post("/users.Users/Nope", "application/grpc-web+proto", ""));
  assert.equal(grpcWeb.status, 200);
  assert.equal(grpcWeb.headers.get("grpc-status"), "12");
  // Not Connect's content type, not a procedure path: the app's fallback, as before.
  assert.equal((await a.fetch(post("/billing.v1.Billing/Charge", "text/plain", "x"))).status, 418);
  assert.equal((await a.fetch(new Request("http://localhost/index.html"))).status, 418);
  // Without a fallback, MicroAPI's own 404 for everything else.
  const plain = await app().fetch(new Request("http://localhost/index.html"));
  assert.equal((await plain.json()).code, "not_found");
});

test("connect unary: connect-protocol-version is checked, and optional unless required", async () => {
  const a = app();
  const bad = await a.fetch(
    post("/users.Users/GetUser", JSON_TYPE, "{}", { "connect-protocol-version": "2" }),
  );
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).message, /connect-protocol-version must be "1"/);
  const strict = new MicroAPI({
    services: connectServices().services,
    protocols: [connect({ requireProtocolVersion: true })],
  });
  const missing = await strict.fetch(post("/users.Users/GetUser", JSON_TYPE, '{"userId": 1}'));
  assert.equal(missing.status, 400);
  const ok = await strict.fetch(
    post("/users.Users/GetUser", JSON_TYPE, '{"userId": 1}', { "connect-protocol-version": "1" }),
  );
  assert.equal(ok.status, 200);
});

test("connect unary: wrong content types are 415 with what to send", async () => {
  const a = app();
  for (const type of ["text/plain", "application/connect+json", "application/x-ndjson"]) {
    const response = await a.fetch(post("/users.Users/GetUser", type, "{}"));
    assert.equal(response.status, 415, type);
    assert.equal(response.headers.get("accept-post"), "application/proto, application/json");
    await response.body?.cancel();
  }
  // A streaming method takes only the streaming types.
  const stream = await a.fetch(post("/users.Users/ListUsers", JSON_TYPE, "{}"));
  assert.equal(stream.status, 415);
  assert.equal(
    stream.headers.get("accept-post"),
    "application/connect+proto, application/connect+json",
  );
});

test("connect unary: response headers are headers, trailers are trailer- headers", async () => {
  const response = await app().fetch(
    post("/probes.Probes/Metadata", JSON_TYPE, "{}", { "x-caller": "connect" }),
  );
  assert.deepEqual(await response.json(), { caller: "connect" });
  assert.equal(response.headers.get("x-served-by"), "probes");
  assert.equal(response.headers.get("trailer-x-cost"), "7");
});

test("connect unary: connect-timeout-ms sets the deadline; a malformed one is invalid_argument", async () => {
  const a = app();
  const started = Date.now();
  const late = await a.fetch(
    post("/probes.Probes/IgnoreSignal", JSON_TYPE, '{"ms": 300}', { "connect-timeout-ms": "30" }),
  );
  assert.equal(late.status, 504);
  assert.equal((await late.json()).code, "deadline_exceeded");
  assert.ok(Date.now() - started < 250, "the deadline, not the handler, ended the call");
  const left = await a.fetch(
    post("/probes.Probes/Deadline", JSON_TYPE, '{"ms": 1}', { "connect-timeout-ms": "60000" }),
  );
  const remaining = Number((await left.json()).remainingMs);
  assert.ok(remaining > 55_000 && remaining <= 60_000, `remaining ${remaining}`);
  const bad = await a.fetch(
    post("/probes.Probes/Ping", JSON_TYPE, "{}", { "connect-timeout-ms": "soon" }),
  );
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).message, /connect-timeout-ms/);
  await new Promise((resolve) => setTimeout(resolve, 300));
});

test("connect GET: side-effect-free methods answer GET; others say to POST", async () => {
  const a = app();
  const message = encodeURIComponent(JSON.stringify({ key: "k", tags: ["a"] }));
  const get = await a.fetch(
    new Request(
      `http://localhost/extras.v1.Extras/Lookup?connect=v1&encoding=json&message=${message}`,
    ),
  );
  assert.equal(get.status, 200);
  assert.deepEqual(await get.json(), { key: "k", tags: ["a"] });
  // Binary, base64 and gzip in the URL.
  const codec = createProtoCodecs(connectServices().services).byPath("/extras.v1.Extras/Lookup")!;
  const packed = await gzip(codec.input.encodeBinary({ key: "z", tags: [] }));
  const b64 = packed.toBase64({ alphabet: "base64url", omitPadding: true });
  const binary = await a.fetch(
    new Request(
      `http://localhost/extras.v1.Extras/Lookup?encoding=proto&base64=1&compression=gzip&message=${b64}`,
    ),
  );
  assert.equal(binary.status, 200);
  assert.deepEqual(
    codec.output.decodeBinary(new Uint8Array(await binary.arrayBuffer())),
    { key: "z", tags: [] },
  );
  // Idempotent is not free of side effects: a GET could be replayed by caches and prefetchers.
  const store = await a.fetch(
    new Request(`http://localhost/extras.v1.Extras/Store?encoding=json&message=%7B%7D`),
  );
  assert.equal(store.status, 405);
  assert.equal(store.headers.get("allow"), "POST");
  assert.match((await store.json()).message, /idempotency: "no_side_effects"/);
  const bad = await a.fetch(new Request(`http://localhost/extras.v1.Extras/Lookup?encoding=json`));
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).message, /Missing query parameter message/);
});

test("idempotency: the option is checked, emitted as idempotency_level, and in the descriptors", () => {
  const { services } = connectServices();
  const text =
    protoSources(fileDescriptorSet(services)).find((f) => f.path === "extras/v1/extras.proto")!
      .content;
  assert.match(
    text,
    /rpc Lookup\(LookupRequest\) returns \(LookupResponse\) \{\n {4}option idempotency_level = NO_SIDE_EFFECTS;\n {2}\}/,
  );
  assert.match(text, /option idempotency_level = IDEMPOTENT;/);
  assert.throws(
    () => services[0]!.method("bad", { idempotency: "safe" as never }, () => {}),
    /Invalid idempotency for method users\.bad: expected "no_side_effects" or "idempotent", got "safe"/,
  );
});

test("connect streams: envelopes in, envelopes out, the end-stream message last", async () => {
  const a = app();
  const list = await a.fetch(
    post("/users.Users/ListUsers", "application/connect+json", envelopes({ json: { limit: 2 } })),
  );
  assert.equal(list.status, 200);
  assert.equal(list.headers.get("content-type"), "application/connect+json");
  const out = readEnvelopes(new Uint8Array(await list.arrayBuffer()));
  assert.deepEqual(out.map((e) => e.flags), [0, 0, 2]);
  assert.deepEqual(JSON.parse(out[1]!.text), { username: "user1", age: "1" });
  assert.equal(out[2]!.text, "{}");

  const sum = await a.fetch(
    post(
      "/analytics.Analytics/Aggregate",
      "application/connect+json",
      envelopes({ json: { value: 1 } }, { json: { value: 2.5 } }),
    ),
  );
  const summed = readEnvelopes(new Uint8Array(await sum.arrayBuffer()));
  assert.deepEqual(JSON.parse(summed[0]!.text), { count: "2", sum: 3.5 });

  // A failure after some messages: status 200, the error in the end-stream message.
  const failing = await a.fetch(
    post("/probes.Probes/FailAfter", "application/connect+json", envelopes({ json: { n: 2 } })),
  );
  const ended = readEnvelopes(new Uint8Array(await failing.arrayBuffer()));
  assert.equal(failing.status, 200);
  assert.equal(ended.length, 3);
  const end = JSON.parse(ended[2]!.text);
  assert.equal(end.error.code, "data_loss");
  assert.deepEqual(end.error.details[0].debug, { after: 2 });

  // Trailers ride in the end-stream message's metadata.
  const meta = await a.fetch(
    post("/probes.Probes/StreamMetadata", "application/connect+json", envelopes({ json: {} })),
  );
  assert.equal(meta.headers.get("x-before"), "yes");
  const last = readEnvelopes(new Uint8Array(await meta.arrayBuffer())).at(-1)!;
  assert.deepEqual(JSON.parse(last.text), { metadata: { "x-total": ["3"] } });
});

test("connect streams: gzip both ways, negotiated per envelope", async () => {
  const a = app();
  const request = await gzip(JSON.stringify({ size: 4000, count: 2 }));
  const framed = new Uint8Array(5 + request.length);
  framed[0] = 1;
  new DataView(framed.buffer).setUint32(1, request.length);
  framed.set(request, 5);
  const compressed = await a.fetch(
    post("/extras.v1.Extras/BigStream", "application/connect+json", framed, {
      "connect-content-encoding": "gzip",
      "connect-accept-encoding": "gzip",
    }),
  );
  assert.equal(compressed.headers.get("connect-content-encoding"), "gzip");
  const out = readEnvelopes(new Uint8Array(await compressed.arrayBuffer()));
  assert.deepEqual(out.map((e) => e.flags), [1, 1, 2]);
  const first = JSON.parse(new TextDecoder().decode(await gunzip(out[0]!.data)));
  assert.equal(first.text.length, 4000);
  // An encoding the server does not have: unimplemented, naming what it has.
  const zstd = await a.fetch(
    post("/users.Users/ListUsers", "application/connect+json", envelopes({ json: {} }), {
      "connect-content-encoding": "zstd",
    }),
  );
  const refused = JSON.parse(readEnvelopes(new Uint8Array(await zstd.arrayBuffer()))[0]!.text);
  assert.equal(refused.error.code, "unimplemented");
  assert.match(refused.error.message, /supported encodings are gzip, identity/);
  assert.equal(zstd.headers.get("connect-accept-encoding"), "gzip");
});

test("connect unary: gzip both ways; a gzip bomb is resource_exhausted", async () => {
  const a = app({ limits: { maxMessageBytes: 64 * 1024 } });
  const response = await a.fetch(
    post("/extras.v1.Extras/Big", JSON_TYPE, await gzip('{"size": 5000}'), {
      "content-encoding": "gzip",
      "accept-encoding": "gzip",
    }),
  );
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-encoding"), "gzip");
  const body = JSON.parse(
    new TextDecoder().decode(await gunzip(new Uint8Array(await response.arrayBuffer()))),
  );
  assert.equal(body.text.length, 5000);
  // 10 MB of spaces in a JSON body: a small gzip, far over the limit once inflated.
  const bomb = await gzip(`{"size": 1${" ".repeat(10_000_000)}}`);
  assert.ok(bomb.length < 64 * 1024, `the bomb is ${bomb.length} bytes`);
  const refused = await a.fetch(
    post("/extras.v1.Extras/Big", JSON_TYPE, bomb, { "content-encoding": "gzip" }),
  );
  assert.equal(refused.status, 429);
  assert.equal((await refused.json()).code, "resource_exhausted");
});

test("grpc-web: envelopes both ways, the status in the trailers frame", async () => {
  const a = app();
  const codecs = createProtoCodecs(connectServices().services);
  const get = codecs.byPath("/users.Users/GetUser")!;
  const response = await a.fetch(
    post(
      "/users.Users/GetUser",
      "application/grpc-web+proto",
      envelopes(get.input.encodeBinary({ user_id: 8 })),
      {
        "x-grpc-web": "1",
      },
    ),
  );
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/grpc-web+proto");
  const [message, trailers] = readEnvelopes(new Uint8Array(await response.arrayBuffer()));
  assert.deepEqual(get.output.decodeBinary(message!.data), { username: "user8", age: 30 });
  assert.equal(trailers!.flags, 0x80);
  assert.equal(trailers!.text, "grpc-status: 0\r\n");

  const missing = await a.fetch(
    post("/users.Users/GetUser", "application/grpc-web+json", envelopes({ json: { userId: 404 } })),
  );
  const [end] = readEnvelopes(new Uint8Array(await missing.arrayBuffer()));
  assert.equal(end!.flags, 0x80);
  assert.match(end!.text, /grpc-status: 5\r\n/);
  assert.match(end!.text, /grpc-message: No user 404\r\n/);
  assert.match(end!.text, /grpc-status-details-bin: /);

  // grpc-web-text: the same bytes in base64, both ways.
  const body = envelopes(get.input.encodeBinary({ user_id: 9 })).toBase64();
  const text = await a.fetch(post("/users.Users/GetUser", "application/grpc-web-text", body));
  assert.equal(text.headers.get("content-type"), "application/grpc-web-text+proto");
  const decoded = new Uint8Array(
    await new Response(text.body!.pipeThrough(base64DecodeStream("response"))).arrayBuffer(),
  );
  const [textMessage, textEnd] = readEnvelopes(decoded);
  assert.deepEqual(get.output.decodeBinary(textMessage!.data), { username: "user9", age: 30 });
  assert.equal(textEnd!.text, "grpc-status: 0\r\n");
  // Trailers of the call go into the trailers frame too.
  const meta = await a.fetch(
    post("/probes.Probes/Metadata", "application/grpc-web+json", envelopes({ json: {} })),
  );
  assert.equal(meta.headers.get("x-served-by"), "probes");
  assert.match(readEnvelopes(new Uint8Array(await meta.arrayBuffer())).at(-1)!.text, /x-cost: 7/);
});

test("descriptors and reflection are published under the introspection rule", async () => {
  const on = await app().fetch(new Request(`http://localhost${DESCRIPTOR_SET_PATH}`));
  assert.equal(on.status, 200);
  assert.ok((await on.arrayBuffer()).byteLength > 100);
  const off = app({ introspection: false });
  const hidden = await off.fetch(new Request(`http://localhost${DESCRIPTOR_SET_PATH}`));
  assert.equal(hidden.status, 404);
  await hidden.body?.cancel();
  const reflect = await off.fetch(
    post(
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      "application/connect+proto",
      envelopes(new Uint8Array([0x3a, 0])),
    ),
  );
  assert.equal(reflect.status, 404);
  assert.equal((await reflect.json()).code, "unimplemented");
  // The option overrides the rule.
  const forced = new MicroAPI({
    services: connectServices().services,
    introspection: false,
    protocols: [connect({ reflection: true })],
  });
  assert.equal(
    (await forced.fetch(new Request(`http://localhost${DESCRIPTOR_SET_PATH}`))).status,
    200,
  );
  // Other parts of the app are there with or without: the basePath applies to Connect routes.
  const based = app({ basePath: "/rpc" });
  const response = await based.fetch(post("/rpc/users.Users/GetUser", JSON_TYPE, '{"userId":1}'));
  assert.equal(response.status, 200);
  await response.body?.cancel();
});

test("cors: Connect's headers are allowed in preflights and exposed on responses", async () => {
  const a = app({ cors: { origins: ["https://app.example"] } });
  const preflight = await a.fetch(
    new Request("http://localhost/users.Users/GetUser", {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers":
          "connect-protocol-version,connect-timeout-ms,content-type",
      },
    }),
  );
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /connect-timeout-ms/);
  const response = await a.fetch(
    post("/probes.Probes/Metadata", "application/grpc-web+json", envelopes({ json: {} }), {
      origin: "https://app.example",
    }),
  );
  await response.body?.cancel();
  assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example");
  const exposed = response.headers.get("access-control-expose-headers") ?? "";
  assert.match(exposed, /x-served-by/);
  const error = await a.fetch(
    post("/users.Users/Nope", "application/grpc-web+proto", "", { origin: "https://app.example" }),
  );
  assert.match(
    error.headers.get("access-control-expose-headers") ?? "",
    /grpc-message, grpc-status/,
  );
});

test("connect: a shutdown refuses new Connect calls with unavailable", async () => {
  const a = app();
  const server = await a.serve({ port: 0, hostname: "127.0.0.1" });
  const slow = fetch(`${server.url}/probes.Probes/Slow`, {
    method: "POST",
    headers: { "content-type": JSON_TYPE },
    body: '{"ms": 200}',
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const stopping = server.shutdown({ gracePeriodMs: 2000 });
  const refused = await a.fetch(post("/users.Users/GetUser", JSON_TYPE, "{}"));
  assert.equal(refused.status, 503);
  assert.equal((await refused.json()).code, "unavailable");
  assert.deepEqual(await (await slow).json(), { done: true });
  await stopping;
});

test("connect(): a schema protobuf cannot carry fails the app's construction", () => {
  const odd = new Service("odd").method(
    "call",
    { input: z.object({ callback: z.function() }) },
    () => {},
  );
  assert.throws(
    () => new MicroAPI({ services: [odd], protocols: [connect()] }),
    (error: unknown) => error instanceof TypeError && /callback/.test(error.message),
  );
  // Without Connect the same app is fine.
  assert.ok(new MicroAPI({ services: [odd] }));
});
