/** Small helpers every part of the benchmark harness uses. */

/**
 * Prints one line of progress or results.
 *
 * @param line The line.
 */
export function log(line: string): void {
  console.log(line);
}

/**
 * Waits.
 *
 * @param ms Milliseconds.
 * @returns A promise that resolves after them.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A share as a percentage: `93%`.
 *
 * @param fraction The share (1 is 100%).
 * @returns The text, `-` when unknown.
 */
export function pct(fraction: number): string {
  return Number.isFinite(fraction) ? `${Math.round(fraction * 100)}%` : "-";
}

/**
 * Bytes in MiB with one decimal: `54.2 MiB`.
 *
 * @param bytes The size.
 * @returns The text.
 */
export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The standard output of a command, trimmed; empty when it cannot run.
 *
 * @param program The program.
 * @param args Its arguments.
 * @returns What it printed.
 */
export async function commandOutput(
  program: string,
  args: string[],
): Promise<string> {
  try {
    const { stdout } = await new Deno.Command(program, { args, stderr: "null" })
      .output();
    return new TextDecoder().decode(stdout).trim();
  } catch {
    return "";
  }
}

/**
 * A free TCP port on 127.0.0.1 (bound and released at once: free a moment ago, so another
 * process could take it first).
 *
 * @returns The port.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
