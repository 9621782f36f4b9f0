/**
 * The client in a real headless browser (Debian's chromium, which `deno task test` installs when
 * it is missing; see scripts/_tools.ts) against a server in this runtime: a bidi conversation, a
 * server stream, a client stream and a cancelled call over WebSocket (with WebSocketStream and
 * with WebSocket), and HTTP calls. The page posts its results back; the test checks them and what
 * the server saw.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime, test, waitFor, within } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { runCommand, runtimeBinary, startCommand } from "../_process.ts";
import { Connection, MicroAPI } from "../../mod.ts";

/** Found on PATH, as `deno task test` checked. */
const CHROMIUM = "chromium";

/** Chromium's helper processes may write to the profile for a moment after it is killed. */
async function removeProfile(path: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      return await rm(path, { recursive: true, force: true });
    } catch (error) {
      if (attempt === 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

test(`browser: Chromium runs the client against a ${runtime} server`, async () => {
  const bundle = await runCommand([
    runtimeBinary("bun"),
    "build",
    "tests/_programs/browser_client.ts",
    "--target=browser",
    "--format=esm",
  ]);
  assert.equal(bundle.code, 0, `bundling failed: ${bundle.stderr}`);
  const results = Promise.withResolvers<
    Record<string, { ok: boolean; value?: unknown; code?: string; message?: string }>
  >();
  const { services, probe } = fixtureServices();
  const app = new MicroAPI({
    services,
    onError: () => {},
    fallback: async (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/") {
        return new Response(
          '<!doctype html><body>running<script type="module" src="/client.js"></script>',
          {
            headers: { "content-type": "text/html" },
          },
        );
      }
      if (path === "/client.js") {
        return new Response(bundle.stdout, { headers: { "content-type": "text/javascript" } });
      }
      if (path === "/results" && request.method === "POST") {
        results.resolve(await request.json());
        return new Response("thanks");
      }
      return new Response("not found", { status: 404 });
    },
  });
  const server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  // Two servers the page cannot reach: one stopped, one draining (it refuses upgrades with 503
  // while a call keeps it in its grace period); their probes are their own.
  const others = fixtureServices().services;
  const dead = await new MicroAPI({ services: others }).serve({ port: 0, hostname: "127.0.0.1" });
  await dead.shutdown();
  const draining = await new MicroAPI({ services: others, onError: () => {} }).serve({
    port: 0,
    hostname: "127.0.0.1",
  });
  const holding = new Connection(draining.url).serverStream("probes/ticks", { every_ms: 20 });
  await holding.next();
  const drained = draining.shutdown({ gracePeriodMs: 60_000 });
  const page = `${server.url}/?${new URLSearchParams({ dead: dead.url, draining: draining.url })}`;
  const profile = await mkdtemp(join(tmpdir(), "microapi-chromium-"));
  const browser = startCommand([
    CHROMIUM,
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--user-data-dir=${profile}`,
    page,
  ]);
  try {
    const got = await within(
      results.promise,
      60_000,
      `the page's results (chromium: ${browser.stderr().slice(-500)})`,
    );
    for (const api of ["stream", "plain"]) {
      assert.deepEqual(got[`ws ${api}: bidi conversation`], {
        ok: true,
        value: ["HELLO", "FROM", "CHROMIUM", "(ended)"],
      });
      assert.deepEqual(got[`ws ${api}: server stream`], {
        ok: true,
        value: ["user0", "user1", "user2", "user3"],
      });
      assert.deepEqual(got[`ws ${api}: client stream`], { ok: true, value: { count: 3, sum: 10 } });
      assert.deepEqual(got[`ws ${api}: cancelled call`], { ok: true, value: "cancelled" });
      for (const what of ["dead", "draining", "dead server, ended", "draining server, ended"]) {
        const outcome = got[`ws ${api}: ${what.includes(",") ? what : `${what} server`}`];
        assert.equal(outcome?.code, "unavailable", `${api}, ${what}: ${JSON.stringify(outcome)}`);
        assert.match(String(outcome?.message), /^Cannot connect to ws:\/\/127\.0\.0\.1:/);
      }
    }
    assert.deepEqual(got["http: unary"], { ok: true, value: { username: "user1", age: 30 } });
    assert.equal(got["http: error"]?.code, "not_found");
    assert.deepEqual(got["http: server stream"], { ok: true, value: 2 });
    assert.deepEqual(got["unhandled rejections"], { ok: true, value: [] });
    assert.equal(got["http: bidi is refused with a pointer to ws"]?.code, "unimplemented");
    assert.match(
      String(got["http: bidi is refused with a pointer to ws"]?.message),
      /transport: "ws"/,
    );
    // The cancelled call reached the server: its handler's finally ran.
    await waitFor(() => probe.finalized.has("ticks"), "the cancelled handler's finally");
  } finally {
    browser.kill("SIGKILL");
    await browser.exited;
    await server.shutdown({ gracePeriodMs: 500 });
    holding.cancel();
    await drained;
    await removeProfile(profile);
  }
});
