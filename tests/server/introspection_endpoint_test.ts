import assert from "node:assert/strict";
import process from "node:process";
import { test } from "../_harness.ts";
import { root } from "../_cli.ts";
import { runCommand, runtimeBinary } from "../_process.ts";
import { type IntrospectionDocument, isApp, MicroAPI, Service, z } from "../../mod.ts";
import { environmentFrom, resolvePublishing } from "../../src/server/publishing.ts";

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

test(
  "Deno without --allow-env: MICROAPI_ENV=production cannot be read, so nothing is published",
  async () => {
    // The adversarial test's finding: the variable was read as unset, and everything published.
    const probe = await runCommand([
      runtimeBinary("deno"),
      "run",
      "--no-prompt",
      "--config",
      `${root}deno.json`,
      `${root}tests/_programs/publishing_probe.ts`,
    ], { env: { MICROAPI_ENV: "production" } });
    assert.equal(probe.code, 0, probe.stderr);
    assert.deepEqual(JSON.parse(probe.stdout), {
      introspection: 404,
      console: 404,
      // No hint: "did you mean get_user?" would tell a stranger what exists.
      notFound: 'Service users has no method "get_usr"',
    });
    // With the variable readable, development still publishes all of it.
    const readable = await runCommand([
      runtimeBinary("deno"),
      "run",
      "--no-prompt",
      "--allow-env=MICROAPI_ENV,NODE_ENV",
      "--config",
      `${root}deno.json`,
      `${root}tests/_programs/publishing_probe.ts`,
    ], { env: { MICROAPI_ENV: "development" } });
    assert.equal(readable.code, 0, readable.stderr);
    assert.deepEqual(JSON.parse(readable.stdout), {
      introspection: 200,
      console: 200,
      notFound: 'Service users has no method "get_usr"; did you mean "get_user"?',
    });
  },
  { timeoutMs: 60_000 },
);

test("environmentFrom() and resolvePublishing(): an environment that cannot be read is production", () => {
  const from = (vars: Record<string, string | null>) =>
    environmentFrom((name) => name in vars ? vars[name]! : undefined);
  assert.equal(from({}), "development");
  assert.equal(from({ MICROAPI_ENV: " Production " }), "production");
  assert.equal(from({ NODE_ENV: "production" }), "production");
  assert.equal(from({ MICROAPI_ENV: "development", NODE_ENV: "production" }), "development");
  assert.equal(from({ MICROAPI_ENV: null }), "unreadable");
  // MICROAPI_ENV unset, NODE_ENV unreadable: it might say production.
  assert.equal(from({ NODE_ENV: null }), "unreadable");
  // MICROAPI_ENV decides alone when it is set.
  assert.equal(from({ MICROAPI_ENV: "development", NODE_ENV: null }), "development");

  assert.deepEqual(resolvePublishing({}, "development"), { introspection: true, console: true });
  for (const environment of ["production", "unreadable"] as const) {
    assert.deepEqual(resolvePublishing({}, environment), { introspection: false, console: false });
    // Asked for explicitly, introspection is on; the console still needs asking for too.
    assert.deepEqual(resolvePublishing({ introspection: true }, environment), {
      introspection: true,
      console: false,
    });
    assert.deepEqual(resolvePublishing({ introspection: true, console: true }, environment), {
      introspection: true,
      console: true,
    });
    assert.throws(() => resolvePublishing({ console: true }, environment), /cannot be read/);
  }
  assert.deepEqual(resolvePublishing({ console: false }, "development"), {
    introspection: true,
    console: false,
  });
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
