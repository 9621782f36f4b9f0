/**
 * Request paths that servers and proxies read differently (dot segments, literal or
 * percent-encoded; backslashes; encoded slashes) are refused alike on Deno and Bun, over a real
 * socket with the exact bytes (fetch clients resolve such paths before sending them). Bun resolved
 * `/t/%2e%2e/ctl/stats` to `ctl.stats` and answered 200 where Deno answered 404, so a proxy rule
 * blocking `/ctl/` could be walked around on Bun.
 */
import assert from "node:assert/strict";
import { runtime, test } from "../_harness.ts";
import { rawHttp, upgradeRequest } from "../_raw_http.ts";
import { MicroAPI, Service, z } from "../../mod.ts";
import { isCanonicalPath } from "../../src/protocol/route.ts";

const REFUSED =
  "Path not served: request paths with dot segments (. or .., also as %2e), backslashes, or " +
  "encoded slashes (%2f, %5c) are refused, so that this server and any proxy in front of it " +
  "read a path alike; send the path as written, such as /<service>/<method>";

function app(basePath?: string) {
  const ran: string[] = [];
  const Stats = z.object({ calls: z.number() });
  const ctl = new Service("ctl").method("stats", { output: Stats }, () => {
    ran.push("ctl.stats");
    return { calls: 1 };
  });
  const t = new Service("t").method("ping", { output: Stats }, () => ({ calls: 0 }));
  return { app: new MicroAPI({ services: [ctl, t], basePath, introspection: true }), ran };
}

function post(target: string, host: string): string {
  return `POST ${target} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\n` +
    "content-length: 0\r\nconnection: close\r\n\r\n";
}

function get(target: string, host: string): string {
  return `GET ${target} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`;
}

test(`paths (${runtime}): dot segments, backslashes and encoded slashes are refused before lookup`, async () => {
  const { app: served, ran } = app();
  await using server = await served.serve({ port: 0, hostname: "127.0.0.1" });
  const host = `127.0.0.1:${server.port}`;
  const refused = async (request: string) => {
    const response = await rawHttp(server.port, request);
    assert.equal(response.status, 404, request);
    assert.deepEqual(JSON.parse(response.body), { code: "not_found", message: REFUSED }, request);
  };
  for (
    const target of [
      "/t/%2e%2e/ctl/stats", // the adversarial test's
      "/t/%2E%2E/ctl/stats",
      "/t/.%2e/ctl/stats",
      "/t/%2e./ctl/stats",
      "/t/../ctl/stats",
      "/x/y/../../ctl/stats",
      "/ctl/./stats",
      "/ctl/%2e/stats",
      "/%2e/ctl/stats",
      "/ctl\\stats",
      "/ctl%5cstats",
      "/ctl%2fstats",
      "/ctl%2Fstats",
    ]
  ) {
    await refused(post(target, host));
  }
  // Built-in endpoints too: a proxy may hide /_microapi/ from the world.
  await refused(get("/t/%2e%2e/_microapi/introspection", host));
  await refused(get("/t/../_microapi/health", host));
  await refused(upgradeRequest("/t/%2e%2e/_microapi/ws", host));
  await refused(upgradeRequest("/_microapi\\ws", host));
  // Resolved to a path that is not the app's, Bun cannot tell; the answer is still not_found.
  const elsewhere = await rawHttp(server.port, post("/ctl/stats/..", host));
  assert.equal(elsewhere.status, 404);
  assert.equal(JSON.parse(elsewhere.body).code, "not_found");
  assert.deepEqual(ran, []);

  // What is written as it should be still works: plain, with a query (dots and slashes in it
  // are not the path's), in absolute form, and names with dots in the built-in paths.
  for (
    const target of [
      "/ctl/stats",
      "/ctl/stats?next=/../x",
      `http://${host}/ctl/stats`,
    ]
  ) {
    const response = await rawHttp(server.port, post(target, host));
    assert.equal(response.status, 200, target);
    assert.deepEqual(JSON.parse(response.body), { calls: 1 });
  }
  assert.equal((await rawHttp(server.port, get("/_microapi/introspection", host))).status, 200);
  assert.equal((await rawHttp(server.port, upgradeRequest("/_microapi/ws", host))).status, 101);
  // A path with a percent-encoded name is no method's, and gets the usual not_found with hints.
  const encoded = await rawHttp(server.port, post("/ctl/%73tats", host));
  assert.equal(encoded.status, 404);
  assert.match(JSON.parse(encoded.body).message, /^Service ctl has no method "%73tats"/);
  assert.deepEqual(ran, ["ctl.stats", "ctl.stats", "ctl.stats"]);
});

test(`paths (${runtime}): under a base path, dot segments anywhere are refused`, async () => {
  const { app: served, ran } = app("/rpc");
  await using server = await served.serve({ port: 0, hostname: "127.0.0.1" });
  const host = `127.0.0.1:${server.port}`;
  for (const target of ["/rpc/t/%2e%2e/ctl/stats", "/x/%2e%2e/rpc/ctl/stats", "/rpc/./ctl/stats"]) {
    const response = await rawHttp(server.port, post(target, host));
    assert.equal(response.status, 404, target);
    assert.equal(JSON.parse(response.body).message, REFUSED, target);
  }
  const ok = await rawHttp(server.port, post("/rpc/ctl/stats", host));
  assert.equal(ok.status, 200);
  assert.deepEqual(ran, ["ctl.stats"]);
});

test("isCanonicalPath() refuses what may resolve elsewhere and nothing else", () => {
  for (const path of ["/", "/users/get_user", "/v2/users/get_user", "/a.b/c", "/a/..b", "/%73"]) {
    assert.equal(isCanonicalPath(path), true, path);
  }
  for (
    const path of ["/a/../b", "/a/./b", "/a/..", "/a/.", "/..", "/a/%2E%2e/b", "/a\\b", "/a%2Fb"]
  ) {
    assert.equal(isCanonicalPath(path), false, path);
  }
});
