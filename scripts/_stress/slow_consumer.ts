/**
 * Slow consumer: a server stream of 1 KB messages (`probes/count`, ten million of them) read
 * slowly, once over HTTP and once over a WebSocket, then not read at all for a second. The handler
 * must stay a bounded distance ahead of what the client has read, and stop when the client stops:
 * backpressure, not a buffer that grows with the stream (docs/security.md, "WebSockets: nothing
 * dropped, nothing piled up"; tests/e2e/backpressure_test.ts, ws_backpressure_test.ts).
 */
import { adversary } from "../../tests/_ws_adversary.ts";
import { sleep } from "../../tests/_harness.ts";
import { count, post, probeState, type Scenario, type ScenarioContext } from "./scenario.ts";

const INPUT = { to: 10_000_000, size: 1000 };
/** The client reads this often. */
const READ_EVERY_MS = 50;

/** What one run saw. */
interface Seen {
  read: number;
  maxAhead: number;
  /** Messages the handler yielded in the last second, while the client read nothing. */
  movedWhileUnread: number;
}

/**
 * Reads slowly until the deadline, watching how far the handler is ahead, then stops reading for
 * a second and sees whether the handler stopped too.
 */
async function watch(
  url: string,
  deadline: number,
  readSome: () => Promise<void>,
  read: () => number,
): Promise<Seen> {
  let maxAhead = 0;
  let lastCheck = 0;
  while (Date.now() < deadline - 1_000) {
    await readSome();
    await sleep(READ_EVERY_MS);
    if (Date.now() - lastCheck > 250) {
      lastCheck = Date.now();
      maxAhead = Math.max(maxAhead, (await probeState(url)).yielded - read());
    }
  }
  // Let what is in flight land, then a second without reading.
  await sleep(300);
  const before = (await probeState(url)).yielded;
  await sleep(700);
  const after = (await probeState(url)).yielded;
  maxAhead = Math.max(maxAhead, after - read());
  return { read: read(), maxAhead, movedWhileUnread: after - before };
}

async function overHttp(ctx: ScenarioContext, deadline: number): Promise<Seen> {
  const response = await post(ctx.url, "probes/count", INPUT, ctx.durationMs + 10_000);
  const reader = response.body!.getReader();
  let lines = 0;
  try {
    return await watch(ctx.url, deadline, async () => {
      const { value } = await reader.read();
      for (const byte of value ?? []) if (byte === 10) lines++;
    }, () => lines);
  } finally {
    await reader.cancel().catch(() => {});
  }
}

async function overWebSocket(ctx: ScenarioContext, deadline: number): Promise<Seen> {
  const raw = await adversary(ctx.port);
  try {
    raw.pause();
    raw.sendText(JSON.stringify({
      type: "open",
      id: 1,
      service: "probes",
      method: "count",
      window: 1024,
      input: INPUT,
    }));
    // Frames are counted and dropped as they are read, so the client holds none of them.
    let read = 0;
    return await watch(ctx.url, deadline, async () => {
      // Read for a moment, then grant credit for what arrived, as a slow client would.
      raw.resume();
      await sleep(2);
      raw.pause();
      const n = raw.frames.filter((f) => f.type === "message").length;
      raw.frames.length = 0;
      read += n;
      if (n > 0) raw.sendText(JSON.stringify({ type: "credit", id: 1, n }));
    }, () => read);
  } finally {
    raw.destroy();
  }
}

function describe(seen: Seen): string {
  return `${count(seen.read)} read, handler at most ${count(seen.maxAhead)} ahead, ` +
    `${seen.movedWhileUnread === 0 ? "paused" : `${count(seen.movedWhileUnread)} more`} ` +
    "while unread";
}

/** The slow-consumer scenario. */
export const slowConsumer: Scenario = {
  name: "slow consumer",
  async run(ctx: ScenarioContext): Promise<string> {
    const half = ctx.durationMs / 2;
    const http = await overHttp(ctx, Date.now() + half);
    const ws = await overWebSocket(ctx, Date.now() + half);
    return `HTTP: ${describe(http)}; WebSocket (window 1024): ${describe(ws)}`;
  },
};
