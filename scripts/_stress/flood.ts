/**
 * Flood: waves of concurrent unary calls, far more than the server's `maxCallsInFlight`, each
 * holding its slot for 100 ms (`probes/slow`). The calls past the limit must be refused with
 * `503 resource_exhausted`, the rest answered, and the server must not fall over.
 */
import { count, post, type Scenario, type ScenarioContext } from "./scenario.ts";
import { SERVER_OPTIONS } from "./server.ts";

/** Calls in flight at once in each wave. */
const CONCURRENCY = 400;

async function one(url: string): Promise<"ok" | "refused" | string> {
  try {
    const response = await post(url, "probes/slow", { ms: 100 });
    const body = await response.json();
    if (response.status === 200 && body.done === true) return "ok";
    if (response.status === 503 && body.code === "resource_exhausted") return "refused";
    return `${response.status} ${body.code}`;
  } catch (error) {
    return (error as Error).name;
  }
}

/** The flood scenario. */
export const flood: Scenario = {
  name: "flood",
  async run(ctx: ScenarioContext): Promise<string> {
    const outcomes = new Map<string, number>();
    const deadline = Date.now() + ctx.durationMs;
    let waves = 0;
    while (Date.now() < deadline) {
      const wave = await Promise.all(Array.from({ length: CONCURRENCY }, () => one(ctx.url)));
      for (const outcome of wave) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      waves++;
    }
    const ok = outcomes.get("ok") ?? 0;
    const refused = outcomes.get("refused") ?? 0;
    const other = [...outcomes].filter(([k]) => k !== "ok" && k !== "refused");
    const total = ok + refused + other.reduce((sum, [, n]) => sum + n, 0);
    return `${count(total)} calls, ${waves} waves of ${CONCURRENCY} ` +
      `(limit ${SERVER_OPTIONS.resources.maxCallsInFlight}): ${count(ok)} ok, ` +
      `${count(refused)} 503 resource_exhausted` +
      (other.length > 0 ? `, other: ${other.map(([k, n]) => `${k}×${n}`).join(" ")}` : "");
  },
};
