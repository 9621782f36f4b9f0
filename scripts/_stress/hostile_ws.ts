/**
 * Hostile WebSocket peers (tests/_ws_adversary.ts), in rounds until the time is up, each round
 * three sockets at once: a message past the size limit (closed with 1009), a frame that is not
 * JSON (1007), and a client sending past its credit (its call ends `resource_exhausted`). Beside
 * the rounds, once: a client that keeps asking and never reads (closed with 1008 once what waits
 * for it passes `maxQueuedBytes`); before them, a client granting huge credit it never reads (the
 * handler must stop anyway), and more sockets than `websocket.maxSockets` (refused with 503).
 */
import { type Adversary, adversary } from "../../tests/_ws_adversary.ts";
import { sleep } from "../../tests/_harness.ts";
import { count, probeState, type Scenario, type ScenarioContext, tally } from "./scenario.ts";
import { SERVER_OPTIONS } from "./server.ts";

/** How long one hostile socket may take to be dealt with. */
const CASE_TIMEOUT_MS = 10_000;

async function closeCode(raw: Adversary): Promise<number | string> {
  const timeout = sleep(CASE_TIMEOUT_MS).then(() => "open");
  try {
    return await Promise.race([raw.closed, timeout]);
  } finally {
    raw.destroy();
  }
}

async function oversize(port: number): Promise<number | string> {
  const raw = await adversary(port);
  raw.sendText(JSON.stringify({ type: "ping", pad: "x".repeat(200_000) }));
  return await closeCode(raw);
}

async function malformed(port: number): Promise<number | string> {
  const raw = await adversary(port);
  raw.sendText("{not json");
  return await closeCode(raw);
}

/** A bidi call whose client grants one message and sends 400: past the server's window (256). */
async function overCredit(port: number): Promise<string> {
  const raw = await adversary(port);
  try {
    raw.sendText(
      JSON.stringify({ type: "open", id: 1, service: "chat", method: "echo", window: 1 }),
    );
    const frames = Array.from(
      { length: 400 },
      () => JSON.stringify({ type: "message", id: 1, data: { text: "x" } }),
    );
    raw.sendText(frames.join("\n"));
    const started = Date.now();
    while (Date.now() - started < CASE_TIMEOUT_MS) {
      const end = raw.frames.find((f) => f.type === "end" && f.id === 1);
      if (end) return String(end.code);
      await sleep(10);
    }
    return "no end";
  } finally {
    raw.destroy();
  }
}

/**
 * Opens calls to a method that does not exist, never reading the answers, until the server closes
 * the socket; returns the close code seen (1006 when the server's close frame, behind the unread
 * answers, was lost with the connection) and how many calls were sent by then (many of them
 * still in the kernel's buffers, unread by the server).
 */
async function neverReads(port: number): Promise<{ code: number | string; opens: number }> {
  const raw = await adversary(port);
  raw.pause();
  let closed = false;
  raw.closed.then(() => (closed = true));
  let id = 0;
  const started = Date.now();
  while (!closed && Date.now() - started < CASE_TIMEOUT_MS && !raw.socket.destroyed) {
    const batch = [];
    for (let i = 0; i < 200; i++) {
      batch.push(JSON.stringify({ type: "open", id: ++id, service: "nope", method: "none" }));
    }
    // Wait when the kernel will not take more: the server may have stopped reading too.
    if (!raw.sendText(batch.join("\n"))) await sleep(5);
    await sleep(1);
  }
  raw.resume();
  return { code: await closeCode(raw), opens: id };
}

/** Grants far more credit than it reads; returns how far the handler got in a second. */
async function hugeCredit(url: string, port: number): Promise<number> {
  const raw = await adversary(port);
  try {
    raw.pause();
    raw.sendText(JSON.stringify({
      type: "open",
      id: 1,
      service: "probes",
      method: "count",
      window: Number.MAX_SAFE_INTEGER,
      input: { to: 10_000_000, size: 1000 },
    }));
    for (let i = 0; i < 10; i++) {
      raw.sendText(JSON.stringify({ type: "credit", id: 1, n: 1_000_000_000 }));
      await sleep(100);
    }
    return (await probeState(url)).yielded;
  } finally {
    raw.destroy();
  }
}

/** Opens more sockets than the server allows at once; returns how many it refused. */
async function tooManySockets(
  port: number,
  n: number,
): Promise<{ open: number; refused: string[] }> {
  const attempts = await Promise.allSettled(Array.from({ length: n }, () => adversary(port)));
  const refused: string[] = [];
  let open = 0;
  for (const attempt of attempts) {
    if (attempt.status === "fulfilled") {
      open++;
      attempt.value.destroy();
    } else {
      refused.push(
        /upgrade refused: HTTP\/1\.1 (\d+)/.exec(String(attempt.reason))?.[1] ?? "error",
      );
    }
  }
  return { open, refused };
}

/** The hostile-WebSocket scenario. */
export const hostileWebSocket: Scenario = {
  name: "hostile WebSocket",
  async run(ctx: ScenarioContext): Promise<string> {
    const deadline = Date.now() + ctx.durationMs;
    const { maxSockets } = SERVER_OPTIONS.websocket;
    const sockets = await tooManySockets(ctx.port, maxSockets + 36);
    const ahead = await hugeCredit(ctx.url, ctx.port);
    const codes: { oversize: (number | string)[]; malformed: (number | string)[] } = {
      oversize: [],
      malformed: [],
    };
    const credit: string[] = [];
    // The never-reading client takes seconds to be closed (the kernel's buffers fill first): one,
    // beside the rounds of the others.
    let unreadDone = false;
    const unread = neverReads(ctx.port).finally(() => (unreadDone = true));
    let rounds = 0;
    while (Date.now() < deadline || rounds === 0 || !unreadDone) {
      const [a, b, c] = await Promise.all([
        oversize(ctx.port),
        malformed(ctx.port),
        overCredit(ctx.port),
      ]);
      codes.oversize.push(a);
      codes.malformed.push(b);
      credit.push(c);
      rounds++;
    }
    const { code, opens } = await unread;
    return `${rounds} round${rounds === 1 ? "" : "s"}: oversize closed ${tally(codes.oversize)}, ` +
      `malformed ${tally(codes.malformed)}, never reading ${code} (after ${count(opens)} ` +
      `calls sent, unread); past credit: end ` +
      `${tally(credit)}; huge credit, unread: handler ${count(ahead)} ahead; ` +
      `${maxSockets + 36} sockets at once: ${sockets.open} open, refused ${tally(sockets.refused)}`;
  },
};
