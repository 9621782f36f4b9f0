/**
 * How long one hostile message stalls the server's event loop: a server in this process, a timer
 * that notes the longest gap between its ticks, and one POST per shape, each close to the 4 MiB
 * message limit (the shapes of the adversarial test behind issue 10). Prints the status the
 * server answered and the longest gap. Run: `deno run -A bench/message_stall.ts`, `bun
 * bench/message_stall.ts`. A figure, not a pass/fail check; the machine's load moves it.
 */
import { MicroAPI, Service, z } from "../mod.ts";

const sink = new Service("sink")
  .method("record", {
    input: z.object({ m: z.record(z.string(), z.number()) }),
    output: z.object({ n: z.number() }),
  }, ({ m }) => ({ n: Object.keys(m).length }))
  .method("list", {
    input: z.object({ m: z.array(z.object({})) }),
    output: z.object({ n: z.number() }),
  }, ({ m }) => ({ n: m.length }));

function keys(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`"k${i}":${i}`);
  return `{"m":{${parts.join(",")}}}`;
}

const shapes: [string, string, string][] = [
  ["200 000 keys in one record (3.2 MB)", "/sink/record", keys(200_000)],
  ["49 999 keys in one record (50 000: the limit)", "/sink/record", keys(49_999)],
  [
    "1 000 000 empty objects in one array (3 MB)",
    "/sink/list",
    `{"m":[${Array(1_000_000).fill("{}").join(",")}]}`,
  ],
  [
    "100 000 empty objects in one array (the limit)",
    "/sink/list",
    `{"m":[${Array(100_000).fill("{}").join(",")}]}`,
  ],
  ["a small call", "/sink/record", keys(3)],
];

const app = new MicroAPI({ services: [sink] });
const server = await app.serve({ port: 0, hostname: "127.0.0.1" });
try {
  for (const [label, path, body] of shapes) {
    const gaps: number[] = [];
    for (let round = 0; round < 3; round++) {
      let last = performance.now();
      let longest = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }, 1);
      const response = await fetch(server.url + path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const status = response.status;
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 20));
      clearInterval(timer);
      gaps.push(longest);
      if (round === 2) {
        gaps.sort((a, b) => a - b);
        console.log(
          `${label.padEnd(48)} ${String(status).padStart(3)}  longest stall ${
            gaps[1]!.toFixed(0).padStart(4)
          } ms (median of 3)`,
        );
      }
    }
  }
} finally {
  await server.shutdown();
}
