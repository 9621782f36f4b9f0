import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { MicroAPI, Service, z } from "../../mod.ts";

const echo = new Service("echo").method(
  "say",
  { input: z.object({ text: z.string() }), output: z.object({ text: z.string() }) },
  ({ text }, ctx) => {
    ctx.trailers.set("x-count", "1");
    return { text };
  },
);
const ORIGIN = "https://app.example.com";

function preflight(app: MicroAPI, origin: string, headers = "content-type, authorization") {
  return app.fetch(
    new Request("http://localhost/echo/say", {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": headers,
      },
    }),
  );
}

function call(app: MicroAPI, origin?: string) {
  return app.fetch(
    new Request("http://localhost/echo/say", {
      method: "POST",
      headers: { "content-type": "application/json", ...(origin ? { origin } : {}) },
      body: JSON.stringify({ text: "hi" }),
    }),
  );
}

test("cors: a preflight from an allowed origin is granted what it asks for", async () => {
  const app = new MicroAPI({ services: [echo], cors: { origins: [ORIGIN], maxAgeSeconds: 60 } });
  const response = await preflight(app, ORIGIN);
  assert.equal(response.status, 204);
  assert.equal(response.headers.get("access-control-allow-origin"), ORIGIN);
  assert.equal(response.headers.get("access-control-allow-methods"), "POST, GET");
  assert.equal(
    response.headers.get("access-control-allow-headers"),
    "content-type, authorization",
  );
  assert.equal(response.headers.get("access-control-max-age"), "60");
  assert.match(response.headers.get("vary") ?? "", /origin/);
});

test("cors: a preflight from another origin is refused with 403 permission_denied", async () => {
  const app = new MicroAPI({ services: [echo], cors: { origins: [ORIGIN] } });
  const response = await preflight(app, "https://evil.example");
  assert.equal(response.status, 403);
  assert.equal(response.headers.get("access-control-allow-origin"), null);
  const body = await response.json();
  assert.equal(body.code, "permission_denied");
  assert.match(body.message, /Origin https:\/\/evil\.example is not allowed/);
});

test("cors: responses to an allowed origin expose their headers, trailers included", async () => {
  const app = new MicroAPI({ services: [echo], cors: { origins: [ORIGIN] } });
  const response = await call(app, ORIGIN);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { text: "hi" });
  assert.equal(response.headers.get("access-control-allow-origin"), ORIGIN);
  assert.equal(response.headers.get("vary"), "origin");
  const exposed = (response.headers.get("access-control-expose-headers") ?? "").split(", ");
  assert.ok(exposed.includes("trailer-x-count"), `exposed: ${exposed}`);
  assert.ok(exposed.includes("content-type"), `exposed: ${exposed}`);
  // Another origin, or no origin, gets no CORS headers (the call itself still runs).
  for (const origin of ["https://evil.example", undefined]) {
    const other = await call(app, origin);
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    await other.body?.cancel();
  }
});

test('cors: origins "*" allows any origin', async () => {
  const app = new MicroAPI({ services: [echo], cors: { origins: "*" } });
  const granted = await preflight(app, "https://anywhere.example");
  assert.equal(granted.status, 204);
  assert.equal(granted.headers.get("access-control-allow-origin"), "*");
  const response = await call(app, "https://anywhere.example");
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  await response.body?.cancel();
});

test("cors: without the option, OPTIONS is not allowed and nothing is granted", async () => {
  const app = new MicroAPI({ services: [echo] });
  const response = await preflight(app, ORIGIN);
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("access-control-allow-origin"), null);
  await response.body?.cancel();
});

test("cors: an origin that is not scheme://host[:port] is a TypeError at construction", () => {
  assert.throws(
    () => new MicroAPI({ services: [echo], cors: { origins: ["app.example.com"] } }),
    /Invalid CORS origin "app\.example\.com": expected scheme:\/\/host\[:port\]/,
  );
  // Trailing slashes and case are normalised, as browsers send origins.
  const app = new MicroAPI({ services: [echo], cors: { origins: ["HTTPS://App.Example.com/"] } });
  return preflight(app, ORIGIN).then((response) => assert.equal(response.status, 204));
});
