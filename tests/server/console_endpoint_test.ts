/**
 * The dev console's endpoints, in-process: the page and its assets with their headers (CSP,
 * caching, 304), and when the console exists (with introspection; never in production unless both
 * are asked for; `console: false`; base paths). What the page does is tests/console/.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "../_harness.ts";
import { MicroAPI, Service, z } from "../../mod.ts";

const users = new Service("users").method(
  "get",
  { input: z.object({ id: z.number() }), output: z.object({ name: z.string() }) },
  () => ({ name: "a" }),
);
const get = (app: MicroAPI, path: string, headers: HeadersInit = {}) =>
  app.fetch(new Request(`http://127.0.0.1:8080${path}`, { headers }));

/** Runs `fn` with environment variables set, then restores them. */
function withEnv<T>(env: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  set(env);
  try {
    return fn();
  } finally {
    set(saved);
  }
}

/** The script and style sheet the page refers to, resolved against the page's URL. */
function assetsOf(html: string, pageUrl: string): string[] {
  return [...html.matchAll(/(?:src|href)="(console\/[^"]+)"/g)].map((m) =>
    new URL(m[1]!, pageUrl).pathname
  );
}

test("GET /_microapi/console serves the page with a strict CSP and revalidation", async () => {
  const app = new MicroAPI({ services: [users], introspection: true });
  const response = await get(app, "/_microapi/console");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(
    response.headers.get("content-security-policy"),
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
      "connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080; base-uri 'none'; " +
      "form-action 'none'; frame-ancestors 'none'",
  );
  assert.equal(response.headers.get("cache-control"), "no-cache");
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal(response.headers.get("x-frame-options"), "DENY");
  const etag = response.headers.get("etag");
  assert.match(etag ?? "", /^"[0-9a-f]{16}"$/);
  const html = await response.text();
  assert.match(html, /<title>MicroAPI console<\/title>/);
  // Nothing inline for the CSP to allow: no inline script, style or handler.
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)|<style|\son\w+=|style=/);
  assert.deepEqual(
    assetsOf(html, "http://127.0.0.1:8080/_microapi/console").map((p) => p.replace(/-\w+\./, ".")),
    ["/_microapi/console/app.css", "/_microapi/console/app.js"],
  );

  const again = await get(app, "/_microapi/console", { "if-none-match": etag! });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get("etag"), etag);
  assert.equal(await again.text(), "");
  const weak = await get(app, "/_microapi/console", { "if-none-match": `"other", W/${etag}` });
  assert.equal(weak.status, 304);
  const changed = await get(app, "/_microapi/console", { "if-none-match": '"other"' });
  assert.equal(changed.status, 200);
  await changed.body?.cancel();
});

test("the console's script and style sheet are named by hash and cached for good", async () => {
  const app = new MicroAPI({ services: [users] });
  const html = await (await get(app, "/_microapi/console")).text();
  const [styles, script] = assetsOf(html, "http://127.0.0.1:8080/_microapi/console");
  for (const [path, type] of [[script!, "text/javascript"], [styles!, "text/css"]] as const) {
    const response = await get(app, path);
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), `${type}; charset=utf-8`);
    assert.equal(response.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    const etag = response.headers.get("etag")!;
    assert.ok((await response.text()).length > 1000, `${path} has content`);
    assert.equal((await get(app, path, { "if-none-match": etag })).status, 304);
  }
  assert.equal((await get(app, "/_microapi/console/app-0000000000000000.js")).status, 404);
});

test("the console lives under the base path", async () => {
  const app = new MicroAPI({ services: [users], basePath: "/rpc", introspection: true });
  const page = await get(app, "/rpc/_microapi/console");
  assert.equal(page.status, 200);
  const assets = assetsOf(await page.text(), "http://127.0.0.1:8080/rpc/_microapi/console");
  for (const path of assets) {
    assert.ok(path.startsWith("/rpc/_microapi/console/"), path);
    const response = await get(app, path);
    assert.equal(response.status, 200, path);
    await response.body?.cancel();
  }
  const outside = await get(app, "/_microapi/console");
  assert.equal(outside.status, 404);
  await outside.body?.cancel();
});

test("the console is on with introspection, off with it, and console: false turns it off alone", async () => {
  const status = async (app: MicroAPI, path = "/_microapi/console") => {
    const response = await get(app, path);
    await response.body?.cancel();
    return response.status;
  };
  assert.equal(await status(new MicroAPI({ services: [users], introspection: true })), 200);
  assert.equal(await status(new MicroAPI({ services: [users], introspection: false })), 404);
  const noConsole = new MicroAPI({ services: [users], console: false });
  assert.equal(await status(noConsole), 404);
  assert.equal(await status(noConsole, "/_microapi/introspection"), 200);
  assert.equal(await status(new MicroAPI({ services: [users], console: true })), 200);
  assert.throws(
    () => new MicroAPI({ services: [users], introspection: false, console: true }),
    (error: unknown) =>
      error instanceof TypeError &&
      /^Invalid console: true: the console reads the introspection document.*set introspection: true as well/
        .test(error.message),
  );
});

test("the console never exists in production unless introspection and console are both asked for", async () => {
  const status = async (env: Record<string, string | undefined>, options = {}) => {
    const app = withEnv(env, () => new MicroAPI({ services: [users], ...options }));
    const response = await get(app, "/_microapi/console");
    await response.body?.cancel();
    return response.status;
  };
  assert.equal(await status({ MICROAPI_ENV: undefined, NODE_ENV: undefined }), 200);
  assert.equal(await status({ MICROAPI_ENV: "production", NODE_ENV: undefined }), 404);
  assert.equal(await status({ MICROAPI_ENV: undefined, NODE_ENV: "production" }), 404);
  assert.throws(
    () =>
      withEnv(
        { MICROAPI_ENV: "production" },
        () => new MicroAPI({ services: [users], console: true }),
      ),
    /production/,
  );
  assert.equal(
    await status({ MICROAPI_ENV: "production" }, { introspection: true, console: true }),
    200,
  );
  // Introspection asked for in production does not bring the console along.
  assert.equal(await status({ MICROAPI_ENV: "production" }, { introspection: true }), 404);
});
