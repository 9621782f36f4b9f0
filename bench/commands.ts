/**
 * The command loop of the benchmark clients (bench/stream_client.ts, bench/ws_client.ts): one JSON
 * command per stdin line, one JSON answer per stdout line, `{"error": "..."}` when a command
 * fails. Runs unchanged on Deno and Bun.
 */

function stdinStream(): ReadableStream<Uint8Array> {
  const bun = (globalThis as { Bun?: { stdin: { stream(): ReadableStream<Uint8Array> } } }).Bun;
  return bun ? bun.stdin.stream() : Deno.stdin.readable;
}

/**
 * Answers commands until stdin closes.
 *
 * @param run Runs one parsed command and returns its answer.
 */
export async function answerCommands<C>(run: (command: C) => Promise<unknown>): Promise<void> {
  let pending = "";
  for await (
    const chunk of stdinStream().pipeThrough(
      new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>,
    )
  ) {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf("\n")) !== -1) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line === "") continue;
      try {
        console.log(JSON.stringify(await run(JSON.parse(line) as C)));
      } catch (error) {
        console.log(JSON.stringify({ error: String((error as Error)?.message ?? error) }));
      }
    }
  }
}
