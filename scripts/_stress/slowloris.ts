/**
 * Slowloris: connections that hold the server with requests that never finish. Three kinds, a
 * batch of each at once: a request head sent in part and then nothing (stalled head), a head
 * trickled a byte every half second (trickled head), and a whole head followed by its body a byte
 * every 200 ms (trickled body). What is counted is how many the server cuts (closes, or answers)
 * and when. Bun closes a connection idle for `idleTimeoutMs`, but every byte restarts that clock;
 * `Deno.serve` has no header or idle timeout at all, so on Deno heads are never cut: that is the
 * runtime's documented limit (docs/security.md), reported, not failed. Bodies are MicroAPI's own
 * `bodyTimeoutMs`, the same on both: `504 deadline_exceeded`. Meanwhile a normal call must still
 * be answered.
 */
import { connect, type Socket } from "node:net";
import { sleep } from "../../tests/_harness.ts";
import { answers, IDLE_TIMEOUT_MS, SERVER_OPTIONS } from "./server.ts";
import type { Scenario, ScenarioContext } from "./scenario.ts";

/** Connections of each kind. */
const PER_KIND = 40;

interface Attack {
  socket: Socket;
  /** Milliseconds from the start to when the server closed or answered, if it did. */
  cutAt?: number;
  /** The status of the server's answer, if any. */
  status?: number;
}

const HEAD =
  "POST /users/get_user HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n";

function open(port: number, started: number, first: string): Promise<Attack> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const attack: Attack = { socket };
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      attack.status ??= Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]) || undefined;
      attack.cutAt ??= Date.now() - started;
    });
    socket.on("close", () => (attack.cutAt ??= Date.now() - started));
    socket.on("error", () => {});
    socket.once("connect", () => {
      socket.write(first);
      resolve(attack);
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function report(kind: string, attacks: Attack[], ctx: ScenarioContext): string {
  const cut = attacks.filter((a) => a.cutAt !== undefined);
  const statuses = new Set(cut.flatMap((a) => a.status === undefined ? [] : [a.status]));
  let text = `${kind} ${cut.length}/${attacks.length} cut`;
  if (cut.length > 0) {
    text += ` (median ${(median(cut.map((a) => a.cutAt!)) / 1000).toFixed(1)} s` +
      `${statuses.size > 0 ? `, ${[...statuses].join("/")}` : ""})`;
  } else if (ctx.runtime === "deno" && kind.endsWith("heads")) {
    text += " (Deno.serve cannot: no header timeout)";
  } else {
    text += ` in ${ctx.durationMs / 1000} s`;
  }
  return text;
}

/** The slowloris scenario. */
export const slowloris: Scenario = {
  name: "slowloris",
  async run(ctx: ScenarioContext): Promise<string> {
    const started = Date.now();
    const body = JSON.stringify({ user_id: 1, pad: "x".repeat(200) });
    const kinds = await Promise.all([
      Promise.all(Array.from({ length: PER_KIND }, () => open(ctx.port, started, HEAD))),
      Promise.all(Array.from({ length: PER_KIND }, () => open(ctx.port, started, HEAD))),
      Promise.all(
        Array.from(
          { length: PER_KIND },
          () => open(ctx.port, started, `${HEAD}content-length: ${body.length}\r\n\r\n`),
        ),
      ),
    ]);
    const [stalled, trickledHeads, trickledBodies] = kinds;
    let served = true;
    try {
      for (let tick = 0; Date.now() - started < ctx.durationMs; tick++) {
        await sleep(100);
        // A byte every 500 ms of the head (a header name that never ends), every 200 ms of the body.
        if (tick % 5 === 0) {
          for (const a of trickledHeads) if (a.cutAt === undefined) a.socket.write("x");
        }
        if (tick % 2 === 0) {
          const byte = body[Math.min(tick / 2, body.length - 1)]!;
          for (const a of trickledBodies) if (a.cutAt === undefined) a.socket.write(byte);
        }
        if (tick % 20 === 10) served &&= await answers(ctx.url);
      }
    } finally {
      for (const attack of kinds.flat()) attack.socket.destroy();
    }
    return [
      report("stalled heads", stalled, ctx),
      report("trickled heads", trickledHeads, ctx),
      report("trickled bodies", trickledBodies, ctx),
    ].join("; ") +
      ` (idle ${IDLE_TIMEOUT_MS / 1000} s on Bun, body ${
        SERVER_OPTIONS.resources.bodyTimeoutMs / 1000
      } s); normal calls meanwhile: ${served ? "answered" : "NOT answered"}`;
  },
};
