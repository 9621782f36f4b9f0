/**
 * Backpressure over HTTP: a slow reader on either side pauses the producer; nothing is buffered
 * without bound. Messages are ~1 KB, so 100 000 of them would be ~100 MB if nothing pushed back.
 */
import assert from "node:assert/strict";
import { sleep, test, waitFor } from "../_harness.ts";
import { fixtureServices, gate } from "../_fixtures.ts";
import { Connection, MicroAPI } from "../../mod.ts";

const TOTAL = 100_000;

/**
 * Waits until a count stops growing (unchanged over 200 ms), for at most 5 s, and returns it. A
 * producer that never stops makes this return its count at 5 s, and the assertions fail.
 */
async function settled(count: () => number): Promise<number> {
  let last = -1;
  for (let waited = 0; waited < 5000; waited += 200) {
    await sleep(200);
    if (count() === last) return last;
    last = count();
  }
  return count();
}

test("e2e backpressure: a slow client pauses a server-streaming handler", async () => {
  const { services, probe } = fixtureServices();
  const server = await new MicroAPI({ services }).serve({ port: 0, hostname: "127.0.0.1" });
  const connection = new Connection(server.url);
  try {
    const stream = connection.serverStream("probes/count", { to: TOTAL, size: 1000 });
    for (let i = 0; i < 5; i++) await stream.next();
    // Let the producer run as far as it can while the client reads nothing, until it stops.
    const first = await settled(() => probe.yielded);
    await sleep(200);
    assert.equal(probe.yielded, first, "the handler must be paused, not still yielding");
    // Socket buffers on loopback hold a few MB; everything beyond that must wait.
    assert.ok(first < TOTAL / 4, `the handler ran ahead by ${first} of ${TOTAL} messages`);
    stream.cancel();
    await waitFor(() => probe.finalized.has("count"), "the handler's finally");
  } finally {
    await connection.close();
    await server.shutdown();
  }
});

test("e2e backpressure: a slow client-streaming handler makes send() wait", async () => {
  const { services, probe } = fixtureServices();
  const server = await new MicroAPI({ services }).serve({ port: 0, hostname: "127.0.0.1" });
  const connection = new Connection(server.url);
  try {
    const call = connection.clientStream("probes/slow_reader");
    const pad = "x".repeat(1000);
    let sent = 0;
    const sending = (async () => {
      for (let i = 0; i < TOTAL; i++) {
        await call.send({ i, pad });
        sent++;
      }
    })();
    sending.catch(() => {});
    await waitFor(() => probe.received.length === 1, "the first message at the handler");
    const first = await settled(() => sent);
    await sleep(200);
    assert.equal(sent, first, "send() must be waiting, not still accepting");
    assert.ok(first < TOTAL / 4, `the client buffered ${first} of ${TOTAL} messages`);
    assert.equal(probe.received.length, 1);
    call.cancel();
    gate(probe, "slow_reader").resolve();
    await sending.catch(() => {});
  } finally {
    await connection.close();
    await server.shutdown();
  }
});
