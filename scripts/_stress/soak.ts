/**
 * Soak: steady mixed load for the whole duration, within the server's limits: eight clients, four
 * over HTTP and four over one WebSocket, each looping over a unary call, a server stream of 20
 * messages and a client stream of 50. What matters is the server's memory: its RSS after the
 * first quarter (warmed up) against its RSS at the end.
 */
import { Connection } from "../../mod.ts";
import { count, type Scenario, type ScenarioContext } from "./scenario.ts";

/** Clients per transport. */
const CLIENTS = 4;

async function client(connection: Connection, deadline: number, errors: string[]): Promise<number> {
  let calls = 0;
  const pad = "x".repeat(100);
  while (Date.now() < deadline) {
    try {
      await connection.unary("users/get_user", { user_id: calls % 100 });
      for await (const _ of connection.serverStream("users/list_users", { limit: 20 })) {
        // read them all
      }
      const upload = connection.clientStream("probes/slow_sum");
      for (let i = 0; i < 50; i++) await upload.send({ i, pad });
      await upload.end();
      calls += 3;
    } catch (error) {
      errors.push((error as { code?: string }).code ?? String(error));
    }
  }
  return calls;
}

/** The soak scenario. */
export const soak: Scenario = {
  name: "soak",
  async run(ctx: ScenarioContext): Promise<string> {
    const started = Date.now();
    const deadline = started + ctx.durationMs;
    const http = new Connection(ctx.url);
    const ws = new Connection(ctx.url, { transport: "ws" });
    const errors: string[] = [];
    let warm = NaN;
    const warmTimer = setTimeout(() => (warm = ctx.rss()), ctx.durationMs / 4);
    try {
      const calls = await Promise.all([
        ...Array.from({ length: CLIENTS }, () => client(http, deadline, errors)),
        ...Array.from({ length: CLIENTS }, () => client(ws, deadline, errors)),
      ]);
      const end = ctx.rss();
      const seconds = (Date.now() - started) / 1000;
      const total = calls.reduce((sum, n) => sum + n, 0);
      const drift = (end - warm) / 2 ** 20;
      return `${count(total)} calls in ${seconds.toFixed(0)} s (${count(total / seconds)}/s, ` +
        `HTTP + WebSocket), ${errors.length} failed; RSS from 1/4 to the end ` +
        `${drift >= 0 ? "+" : ""}${drift.toFixed(1)} MiB`;
    } finally {
      clearTimeout(warmTimer);
      await http.close();
      await ws.close();
    }
  },
};
