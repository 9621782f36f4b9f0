/** What a stress scenario is given, and what it gives back. */
import type { ProbeStateData } from "../../tests/_fixtures.ts";
import type { Runtime } from "./server.ts";

/** The server under attack, and how long to attack it. */
export interface ScenarioContext {
  /** The server's base URL. */
  readonly url: string;
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Its runtime. */
  readonly runtime: Runtime;
  /** How long the scenario runs. */
  readonly durationMs: number;
  /** The server's resident memory now, in bytes. */
  rss(): number;
}

/** One scenario: it attacks for about `durationMs`, closes all it opened, and says what it saw. */
export interface Scenario {
  /** Its name in the table and on the command line. */
  readonly name: string;
  /**
   * Runs it.
   *
   * @param ctx The server and the duration.
   * @returns The key figures, one short line.
   */
  run(ctx: ScenarioContext): Promise<string>;
}

/**
 * Makes a call over HTTP.
 *
 * @param url The server's base URL.
 * @param route `service/method`.
 * @param input The request message.
 * @param timeoutMs How long to wait for the answer.
 * @returns The response.
 */
export function post(
  url: string,
  route: string,
  input: unknown,
  timeoutMs = 10_000,
): Promise<Response> {
  return fetch(`${url}/${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(input),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

/**
 * What the fixture's handlers report (`inspect/state`): how far `probes/count` got, mostly.
 *
 * @param url The server's base URL.
 * @returns The state.
 */
export async function probeState(url: string): Promise<ProbeStateData> {
  const response = await post(url, "inspect/state", {});
  if (response.status !== 200) throw new Error(`inspect/state answered ${response.status}`);
  return await response.json();
}

/**
 * A count as text with thin grouping (`12 345`).
 *
 * @param n The count.
 * @returns The text.
 */
export function count(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

/**
 * How often each value occurs, as `a×3 b×1`, most frequent first.
 *
 * @param values The values.
 * @returns The text, or `none`.
 */
export function tally(values: readonly (string | number)[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
  if (counts.size === 0) return "none";
  return [...counts].sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v}×${n}`).join(" ");
}
