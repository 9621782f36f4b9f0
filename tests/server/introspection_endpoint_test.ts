import assert from "node:assert/strict";
import process from "node:process";
import { test } from "../_harness.ts";
import { type IntrospectionDocument, isApp, MicroAPI, Service, z } from "../../mod.ts";

const User = z.object({ name: z.string() });
const users = new Service("users").method("get", { output: User }, () => ({ name: "a" }));
const get = (app: MicroAPI, path: string, init?: RequestInit) =>
  app.fetch(new Request(`http://localhost${path}`, init));

/** Runs `fn` with environment variables set, then restores them. */
function withEnv(env: Record<string, string | undefined>, fn: () => void): void {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  set(env);
  try {
    fn();
  } finally {
    set(saved);
  }
}

test("GET /_microapi/introspection publishes the app's document", async () => {
  const app = new MicroAPI({
    services: [users],
    introspection: true,
    schemaNames: new Map([[User, "User"]]),
  });
  const response = await get(app, "/_microapi/introspection");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  const doc = await response.json() as IntrospectionDocument;
  assert.deepEqual(doc, app.describe());
  assert.deepEqual(doc.services[0]!.methods[0]!.output, { $ref: "#/$defs/User" });
});

test("the introspection document is not published with introspection: false", async () => {
  const app = new MicroAPI({ services: [users], introspection: false });
  const response = await get(app, "/_microapi/introspection");
  assert.equal(response.status, 404);
  const body = await response.json();
  assert.equal(body.code, "not_found");
  assert.match(body.message, /does not publish its introspection document/);
  // The app still describes itself in-process.
  assert.equal(app.describe().services[0]!.name, "users");
});

test("introspection is on by default, off when MICROAPI_ENV or NODE_ENV says production", async () => {
  const status = async (env: Record<string, string | undefined>) => {
    let app: MicroAPI | undefined;
    withEnv(env, () => (app = new MicroAPI({ services: [users] })));
    return (await get(app!, "/_microapi/introspection")).status;
  };
  assert.equal(await status({ MICROAPI_ENV: undefined, NODE_ENV: undefined }), 200);
  assert.equal(await status({ MICROAPI_ENV: undefined, NODE_ENV: "production" }), 404);
  assert.equal(await status({ MICROAPI_ENV: "production", NODE_ENV: undefined }), 404);
  // MICROAPI_ENV wins over NODE_ENV.
  assert.equal(await status({ MICROAPI_ENV: "development", NODE_ENV: "production" }), 200);
  // The option wins over the environment.
  let app: MicroAPI | undefined;
  withEnv(
    { MICROAPI_ENV: "production" },
    () => (app = new MicroAPI({ services: [users], introspection: true })),
  );
  assert.equal((await get(app!, "/_microapi/introspection")).status, 200);
});

test("the introspection document lives under the base path and answers GET only", async () => {
  const app = new MicroAPI({ services: [users], basePath: "/rpc", introspection: true });
  const response = await get(app, "/rpc/_microapi/introspection");
  assert.equal(response.status, 200);
  assert.equal((await response.json()).basePath, "/rpc");
  assert.equal((await get(app, "/_microapi/introspection")).status, 404);
  // Like every built-in endpoint, it answers GET only.
  const post = await get(app, "/rpc/_microapi/introspection", { method: "POST" });
  assert.equal(post.status, 404);
  await post.body?.cancel();
  // Other paths under the prefix are not endpoints: the usual 404 (or the fallback) answers.
  assert.equal((await get(app, "/rpc/_microapi/nothing")).status, 404);
  const withFallback = new MicroAPI({
    services: [users],
    fallback: () => new Response("fallback", { status: 418 }),
  });
  assert.equal((await get(withFallback, "/_microapi/nothing")).status, 418);
});

test("app.options lists the app's own services, without the built-in health service", () => {
  const app = new MicroAPI({ services: [users] });
  assert.ok(isApp(app));
  assert.deepEqual(app.options.services, [users]);
  assert.deepEqual(app.services.map((s) => s.name), ["users", "health"]);
  // So an app rebuilt from its options (what microapi serve does) is valid.
  assert.deepEqual(new MicroAPI(app.options).services.map((s) => s.name), ["users", "health"]);
  // And the introspection document leaves the built-in service out.
  assert.deepEqual(app.describe().services.map((s) => s.name), ["users"]);
});
