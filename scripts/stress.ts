/**
 * The adversary: attacks a MicroAPI server in a child process, on Deno and on Bun, with bounded
 * scenarios (flood, soak, slow consumer, slowloris, hostile WebSocket; scripts/_stress/), and
 * prints one table: what each scenario saw, the server's resident memory before, at its peak and
 * after (MiB, from /proc), and whether the server still answered a normal call afterwards. Figures,
 * not speed assertions; the one assertion is that last column: if the server died or stopped
 * answering, the run says so and exits 1 (a fresh server then takes the next scenario).
 *
 * It installs nothing: Bun must be in .tools/ (`deno task test` puts it there) or named by
 * $MICROAPI_TEST_BUN. Loopback only; every server and socket is closed before it exits.
 *
 * Usage: deno task stress [--quick] [--runtime deno|bun] [--scenario name,...]
 *   --quick      a few seconds per scenario (CI); the default run takes a few minutes
 *   --runtime    one runtime only (default both)
 *   --scenario   some scenarios only: flood, soak, slow-consumer, slowloris, hostile-websocket
 *   --server-options JSON   more options for the server program (its test uses exitAfterCalls)
 */
import { runtimeBinary } from "../tests/_process.ts";
import { toolVersion } from "./_tools.ts";
import {
  answers,
  type Runtime,
  sampleRss,
  settledRss,
  startServer,
  type StressServer,
} from "./_stress/server.ts";
import type { Scenario } from "./_stress/scenario.ts";
import { flood } from "./_stress/flood.ts";
import { soak } from "./_stress/soak.ts";
import { slowConsumer } from "./_stress/slow_consumer.ts";
import { slowloris } from "./_stress/slowloris.ts";
import { hostileWebSocket } from "./_stress/hostile_ws.ts";
import { rssBytes } from "../bench/processes.ts";

/** Each scenario and how long it runs, in seconds: by default, and with --quick. */
const PLAN: readonly { scenario: Scenario; seconds: number; quick: number }[] = [
  { scenario: flood, seconds: 10, quick: 3 },
  { scenario: soak, seconds: 30, quick: 5 },
  { scenario: slowConsumer, seconds: 10, quick: 4 },
  // Bun closes a connection that has not sent its whole head after about 12 s: --quick sees
  // only the bodies cut.
  { scenario: slowloris, seconds: 16, quick: 6 },
  { scenario: hostileWebSocket, seconds: 10, quick: 3 },
];

/** One row of the table. */
interface Row {
  runtime: Runtime;
  scenario: string;
  figures: string;
  before: number;
  peak: number;
  after: number;
  alive: boolean;
}

function usage(message: string): never {
  console.error(`error: ${message}`);
  console.error(
    "usage: deno task stress [--quick] [--runtime deno|bun] [--scenario name,...] " +
      "[--server-options JSON]",
  );
  Deno.exit(2);
}

function parse(args: string[]) {
  let quick = false;
  let runtimes: Runtime[] = ["deno", "bun"];
  let plan = PLAN;
  let serverOptions: Record<string, unknown> = {};
  const slug = (name: string) => name.toLowerCase().replaceAll(" ", "-");
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => args[++i] ?? usage(`${arg} needs a value`);
    if (arg === "--quick") quick = true;
    else if (arg === "--runtime") {
      const r = value();
      if (r !== "deno" && r !== "bun") usage(`unknown runtime ${r}: expected deno or bun`);
      runtimes = [r];
    } else if (arg === "--scenario") {
      const names = value().split(",");
      for (const name of names) {
        if (!PLAN.some((p) => slug(p.scenario.name) === name)) {
          usage(`unknown scenario ${name}: expected ${PLAN.map((p) => slug(p.scenario.name))}`);
        }
      }
      plan = PLAN.filter((p) => names.includes(slug(p.scenario.name)));
    } else if (arg === "--server-options") serverOptions = JSON.parse(value());
    else usage(`unknown argument ${arg}`);
  }
  return { quick, runtimes, plan, serverOptions };
}

const mib = (bytes: number) => Number.isNaN(bytes) ? "-" : (bytes / 2 ** 20).toFixed(0);

/** The server running now, stopped by Ctrl-C too. */
let current: StressServer | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    void (current?.stop() ?? Promise.resolve()).finally(() => Deno.exit(130));
  });
}

async function stress(options: ReturnType<typeof parse>): Promise<Row[]> {
  const rows: Row[] = [];
  for (const runtime of options.runtimes) {
    let server: StressServer | undefined;
    try {
      for (const { scenario, seconds, quick } of options.plan) {
        // A server that died in the scenario before is replaced, so the others still run.
        if (server === undefined || server.exited() || !await answers(server.url)) {
          await server?.stop();
          server = current = await startServer(runtime, options.serverOptions);
          if (!await answers(server.url)) throw new Error(`the ${runtime} server does not answer`);
        }
        const durationMs = (options.quick ? quick : seconds) * 1000;
        console.error(`${runtime}: ${scenario.name} (${durationMs / 1000} s)`);
        const pid = server.pid;
        const before = rssBytes(pid);
        const sampler = sampleRss(pid);
        const timeout = durationMs + 30_000;
        let timer: ReturnType<typeof setTimeout> | undefined;
        let figures: string;
        try {
          figures = await Promise.race([
            scenario.run({
              url: server.url,
              port: server.port,
              runtime,
              durationMs,
              rss: () => rssBytes(pid),
            }),
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () => reject(new Error(`still running ${timeout / 1000} s later`)),
                timeout,
              );
            }),
          ]);
        } catch (error) {
          figures = `the scenario failed: ${(error as Error).message}`;
        } finally {
          clearTimeout(timer);
        }
        const peak = sampler.stop();
        const after = await settledRss(pid, options.quick ? 500 : 2_000);
        const alive = !server.exited() && await answers(server.url);
        if (!alive) {
          const code = server.exitCode();
          figures += code === undefined
            ? "; the server stopped answering"
            : `; the server exited with code ${code}`;
          const stderr = server.stderr().trim();
          if (stderr !== "") console.error(`${runtime} server stderr:\n${stderr.slice(-2000)}`);
        }
        rows.push({ runtime, scenario: scenario.name, figures, before, peak, after, alive });
      }
    } finally {
      await server?.stop();
      current = undefined;
    }
  }
  return rows;
}

const options = parse(Deno.args);
if (options.runtimes.includes("bun") && await toolVersion(runtimeBinary("bun")) === "") {
  console.error(
    `error: Bun is not at ${runtimeBinary("bun")}: \`deno task test\` installs it into .tools/ ` +
      "(scripts/_tools.ts), or set MICROAPI_TEST_BUN to a bun binary",
  );
  Deno.exit(1);
}
const rows = await stress(options);
console.log("| runtime | scenario | figures | RSS before / peak / after (MiB) | alive after |");
console.log("| --- | --- | --- | ---: | --- |");
for (const r of rows) {
  console.log(
    `| ${r.runtime} | ${r.scenario} | ${r.figures} | ${mib(r.before)} / ${mib(r.peak)} / ${
      mib(r.after)
    } | ${r.alive ? "yes" : "**no**"} |`,
  );
}
const dead = rows.filter((r) => !r.alive || r.figures.includes("the scenario failed"));
if (dead.length > 0) {
  console.log(
    `stress: FAILED: ${dead.map((r) => `${r.runtime} ${r.scenario}`).join(", ")} ` +
      "(the server died, stopped answering, or the scenario failed)",
  );
  Deno.exit(1);
}
console.log(`stress: ${rows.length} scenarios, the server answered after each`);
Deno.exit(0);
