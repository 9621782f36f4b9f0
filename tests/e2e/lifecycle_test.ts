/** Shutdown with calls in flight, and a client process that dies mid-stream. */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { rejection, runtime, sleep, test, waitFor, within } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { runProgram } from "../_process.ts";
import { Connection, MicroAPI, RpcError } from "../../mod.ts";

test("e2e shutdown: in-flight calls finish within the grace period, the rest end unavailable", async () => {
  const { services, probe } = fixtureServices();
  const app = new MicroAPI({ services });
  const server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  const connection = new Connection(server.url);
  try {
    const quick = connection.unary("probes/slow", { ms: 150 });
    const endless = connection.serverStream("probes/ticks", { every_ms: 20 });
    await endless.next();
    await waitFor(() => probe.contexts.has("slow"), "the unary handler to start");
    assert.equal(app.activeCalls, 2);

    const started = Date.now();
    const shutdown = server.shutdown({ gracePeriodMs: 400 });
    // New calls are turned away while the old ones drain.
    const late = await rejection(connection.unary("users/get_user", { user_id: 1 }));
    assert.ok(RpcError.is(late) && late.code === "unavailable", `got ${late}`);

    assert.deepEqual(await quick, { done: true }, "a call that fits the grace period completes");
    const error = await within(
      rejection((async () => {
        for await (const _ of endless) { /* until the server cancels it */ }
      })()),
      3000,
      "the stream to end",
    );
    assert.ok(RpcError.is(error));
    assert.equal(error.code, "unavailable");
    assert.equal(error.message, "The server is shutting down");
    await within(shutdown, 5000, "shutdown");
    assert.ok(Date.now() - started >= 350, "the grace period was honoured");
    const ctx = probe.contexts.get("ticks")!;
    assert.equal((ctx.signal.reason as RpcError).code, "unavailable");
    await waitFor(() => probe.finalized.has("ticks"), "the stream handler's finally");
    assert.equal(app.activeCalls, 0);
    await server.finished;
  } finally {
    await connection.close();
    await server.shutdown();
  }
});

test("e2e shutdown: an idle server stops at once and frees its port", async () => {
  const { services } = fixtureServices();
  const app = new MicroAPI({ services });
  const server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  const started = Date.now();
  await server.shutdown();
  assert.ok(Date.now() - started < 1500);
  const again = await app.serve({ port: server.port, hostname: "127.0.0.1" });
  await again.shutdown();
});

/** A raw TCP connection to a server, to hold it open the way browsers and HTTP clients do. */
function tcp(
  port: number,
): Promise<{ socket: Socket; closed: Promise<void>; received: () => string }> {
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = connect(
      port,
      "127.0.0.1",
      () => resolve({ socket, closed, received: () => text }),
    );
    const closed = new Promise<void>((done) => socket.on("close", () => done()));
    socket.on("data", (chunk) => (text += String(chunk)));
    socket.on("error", reject);
  });
}

test("e2e shutdown: idle keep-alive connections and unused sockets are closed at once", async () => {
  const { services } = fixtureServices();
  const server = await new MicroAPI({ services }).serve({ port: 0, hostname: "127.0.0.1" });
  // One connection that made a call and stays open for the next (keep-alive), and one that never
  // sent a request (a browser's preconnected socket).
  const used = await tcp(server.port);
  const unused = await tcp(server.port);
  try {
    used.socket.write(
      "POST /probes/ping HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n" +
        "content-length: 0\r\n\r\n",
    );
    await waitFor(() => used.received().endsWith("null"), "the call's response");
    assert.match(used.received(), /^HTTP\/1\.1 200/);
    // Bun's stop() waits for an unused socket once it is about a second old.
    await sleep(1_500);
    const started = Date.now();
    await within(server.shutdown(), 5_000, "shutdown");
    const took = Date.now() - started;
    assert.ok(took < 500, `shutdown took ${took} ms with no call in flight`);
    await within(Promise.all([used.closed, unused.closed]), 1_000, "the server closing both");
  } finally {
    used.socket.destroy();
    unused.socket.destroy();
    await Promise.all([used.closed, unused.closed]);
    await server.shutdown();
  }
});

test("e2e serve: a port in use is a clear error", async () => {
  const { services } = fixtureServices();
  const first = await new MicroAPI({ services }).serve({ port: 0, hostname: "127.0.0.1" });
  try {
    const error = await rejection(
      new MicroAPI({ services }).serve({ port: first.port, hostname: "127.0.0.1" }),
    );
    assert.equal(
      (error as Error).message,
      `Cannot listen on 127.0.0.1:${first.port}: the address is already in use`,
    );
  } finally {
    await first.shutdown();
  }
});

test(`e2e disconnect: a ${runtime} client process killed mid-stream cancels the handler`, async () => {
  const { services, probe } = fixtureServices();
  const server = await new MicroAPI({ services }).serve({ port: 0, hostname: "127.0.0.1" });
  const child = runProgram(runtime, "stream_client.ts", [server.url]);
  try {
    await within(child.ready, 20_000, `the client process (${child.stderr()})`);
    assert.equal(probe.finalized.has("ticks"), false);
    child.kill("SIGKILL");
    await child.exited;
    await waitFor(() => probe.finalized.has("ticks"), "the handler's finally after the drop");
    const reason = probe.contexts.get("ticks")!.signal.reason as RpcError;
    assert.equal(reason.code, "cancelled");
  } finally {
    child.kill();
    await child.exited;
    await server.shutdown();
  }
});
