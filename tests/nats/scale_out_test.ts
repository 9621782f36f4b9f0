/**
 * Scale-out over NATS with real processes: three server processes (this runtime and the other
 * one) behind one nats-server. A generated client calls all four patterns through the CLI's
 * `serve --nats`; the calls spread over the processes; a process killed with SIGKILL (or frozen
 * with SIGSTOP) costs only its own calls, which fail promptly with `unavailable`; a rolling
 * restart under steady load loses no call; a slow consumer keeps the server's memory flat.
 * Everything is bounded in time and cleaned up in `finally`.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { readFile } from "node:fs/promises";
import { rejection, runtime, sleep, test, within } from "../_harness.ts";
import { type Child, runCommand, runProgram, runtimeBinary, startCommand } from "../_process.ts";
import { type NatsServerProcess, startNatsServer } from "../_nats.ts";
import { Connection, RpcError } from "../../mod.ts";
import { discoverServices, natsTransport } from "../../src/nats/mod.ts";
import { analytics, chat, users } from "../../examples/client/mod.ts";

const other = runtime === "deno" ? "bun" : "deno";
const root = new URL("../../", import.meta.url).pathname;

/** A server process of tests/_programs/nats_server.ts. */
interface Served {
  child: Child;
  pid: number;
}

async function startServer(url: string, which: "deno" | "bun" = runtime): Promise<Served> {
  const child = runProgram(which, "nats_server.ts", [url]);
  try {
    const ready = await within(child.ready, 30_000, `the ${which} server (${child.stderr()})`);
    return { child, pid: Number(ready.pid) };
  } catch (error) {
    child.kill();
    await child.exited;
    throw error;
  }
}

/** Three server processes (two in this runtime, one in the other) and a nats-server. */
async function cluster(
  fn: (nats: NatsServerProcess, servers: Served[]) => Promise<void>,
): Promise<void> {
  const nats = await startNatsServer();
  const servers: Served[] = [];
  try {
    for (const which of [runtime, other, runtime] as const) {
      servers.push(await startServer(nats.url, which));
    }
    await fn(nats, servers);
  } finally {
    for (const server of servers) server.child.kill();
    await Promise.all(servers.map((s) => s.child.exited));
    await nats.stop();
  }
}

function connect(url: string, heartbeatMs?: number): Connection {
  return new Connection(url, {
    transport: natsTransport(heartbeatMs === undefined ? {} : { heartbeatMs }),
  });
}

function cli(which: "deno" | "bun", args: string[]): string[] {
  return which === "deno"
    ? [runtimeBinary("deno"), "run", "-A", "--config", `${root}deno.json`, `${root}cli.ts`, ...args]
    : [runtimeBinary("bun"), `${root}cli.ts`, ...args];
}

test(
  "scale-out: three `serve --nats` processes serve a generated client's calls of all four patterns, and share them",
  async () => {
    const nats = await startNatsServer();
    const children: Child[] = [];
    try {
      for (const which of [runtime, other, runtime] as const) {
        children.push(startCommand(cli(which, ["serve", "examples/serve.ts", "--nats", nats.url])));
      }
      // Ready when all three answer the NATS service protocol.
      const started = Date.now();
      for (;;) {
        const found = await discoverServices(nats.url, { timeoutMs: 500 });
        if (found.filter((s) => s.name === "users").length === 3) break;
        if (Date.now() - started > 30_000) {
          throw new Error(
            `the servers did not start: ${children.map((c) => c.stderr()).join("\n")}`,
          );
        }
        await sleep(100);
      }
      await using connection = connect(nats.url);
      const options = { connection };
      for (let i = 0; i < 60; i++) {
        assert.equal((await users.getUser({ user_id: 1 }, options)).username, "alice");
      }
      const listed = [];
      for await (const user of users.listUsers({ limit: 3 }, options)) listed.push(user.username);
      assert.deepEqual(listed, ["alice", "bob", "carol"]);
      const sum = analytics.aggregate(options);
      for (const value of [1, 2, 3]) await sum.send({ timestamp: 0, value });
      assert.equal((await sum.end()).sum, 6);
      const talk = chat.conversation(options);
      await talk.send({ user: "ada", text: "hello there" });
      assert.match((await talk.next()).value?.text ?? "", /^ada, you said 2 words/);
      await talk.end();
      // Every process took some of the 60 unary calls.
      const found = await discoverServices(nats.url);
      const counts = found.filter((s) => s.name === "users").map((s) =>
        s.endpoints.find((e) => e.name === "get_user")!.num_requests!
      );
      assert.equal(counts.reduce((a, b) => a + b, 0), 60, `calls per process: ${counts}`);
      assert.ok(counts.every((n) => n > 0), `calls per process: ${counts}`);
      // And `microapi info nats://` shows them.
      const info = await runCommand(cli(runtime, ["info", nats.url]));
      assert.equal(info.code, 0, info.stderr);
      assert.match(info.stdout, /\(nats:\/\/127\.0\.0\.1:\d+\)/);
      assert.match(
        info.stdout,
        /\n {2}users +get_user +unary +microapi\.users\.get_user +3 +6\d /,
      );
    } finally {
      for (const child of children) child.kill("SIGTERM");
      const codes = await within(Promise.all(children.map((c) => c.exited)), 15_000, "the exits");
      for (const child of children) child.kill();
      await nats.stop();
      assert.deepEqual(codes, [0, 0, 0], "SIGTERM drains and exits cleanly");
    }
  },
  { timeoutMs: 90_000 },
);

/** Opens streams of `scale/ticks` and reads each one's first message: which process serves it. */
async function openTicks(connection: Connection, n: number) {
  const streams = [];
  for (let i = 0; i < n; i++) {
    const ticks = connection.serverStream<{ pid: number; i: number }>("scale/ticks", {
      every_ms: 50,
    });
    const first = await within(ticks.next(), 5000, "the first tick");
    assert.equal(first.done, false);
    streams.push({ ticks, pid: first.value!.pid });
  }
  return streams;
}

test(
  "scale-out: a server process killed with SIGKILL mid-stream fails only its own calls, promptly, with unavailable; new calls go to the survivors",
  async () => {
    await cluster(async (nats, servers) => {
      await using connection = connect(nats.url);
      const streams = await openTicks(connection, 12);
      // The process with the most streams dies.
      const victim = servers.map((s) => s.pid).sort((a, b) =>
        streams.filter((s) => s.pid === b).length - streams.filter((s) => s.pid === a).length
      )[0]!;
      const doomed = streams.filter((s) => s.pid === victim);
      const survivors = streams.filter((s) => s.pid !== victim);
      assert.ok(doomed.length > 0 && survivors.length > 0, "the streams spread out");
      const killed = Date.now();
      servers.find((s) => s.pid === victim)!.child.kill("SIGKILL");
      const failures = await within(
        Promise.all(doomed.map(async ({ ticks }) => {
          const error = await rejection((async () => {
            for await (const _ of ticks) { /* until it fails */ }
          })());
          return { error, after: Date.now() - killed };
        })),
        10_000,
        "the killed process's calls to fail",
      );
      for (const { error, after } of failures) {
        assert.ok(RpcError.is(error) && error.code === "unavailable", `${error}`);
        // The default heartbeat is 1 s; detection is within one heartbeat when the process's
        // connection closes (as it does on SIGKILL), within three when it does not.
        assert.ok(after < 3_500, `failed ${after} ms after the kill`);
      }
      console.log(
        `SIGKILL detected after ${failures.map((f) => f.after).join(", ")} ms (heartbeat 1000 ms)`,
      );
      // The other calls go on, and new calls go to the survivors only.
      for (const { ticks, pid } of survivors) {
        const next = await within(ticks.next(), 3000, "a survivor's tick");
        assert.equal(next.value?.pid, pid);
        await ticks.return();
      }
      const pids = new Set<number>();
      for (let i = 0; i < 30; i++) {
        pids.add((await connection.unary<{ pid: number }>("scale/whoami")).pid);
      }
      assert.ok(!pids.has(victim) && pids.size === 2, `served by ${[...pids]}`);
    });
  },
  { timeoutMs: 90_000 },
);

test(
  "scale-out: a frozen server process (SIGSTOP: its connection stays open) fails its calls within three heartbeats",
  async () => {
    await cluster(async (nats, servers) => {
      await using connection = connect(nats.url, 200);
      const streams = await openTicks(connection, 9);
      const victim = streams[0]!.pid;
      const doomed = streams.filter((s) => s.pid === victim);
      const stopped = Date.now();
      process.kill(victim, "SIGSTOP");
      try {
        const afters = await within(
          Promise.all(doomed.map(async ({ ticks }) => {
            const error = await rejection((async () => {
              for await (const _ of ticks) { /* until it fails */ }
            })());
            assert.ok(RpcError.is(error) && error.code === "unavailable", `${error}`);
            assert.match(error.message, /^No answer from the server for \d+ ms/);
            return Date.now() - stopped;
          })),
          10_000,
          "the frozen process's calls to fail",
        );
        // Three heartbeats of 200 ms, plus the check's period and one tick.
        assert.ok(afters.every((ms) => ms >= 550 && ms < 1_500), `failed after ${afters} ms`);
        console.log(`SIGSTOP detected after ${afters.join(", ")} ms (heartbeat 200 ms)`);
        for (const { ticks } of streams.filter((s) => s.pid !== victim)) await ticks.return();
      } finally {
        servers.find((s) => s.pid === victim)!.child.kill("SIGKILL");
      }
    });
  },
  { timeoutMs: 90_000 },
);

test(
  "scale-out: a rolling restart of the three processes under steady load loses no call",
  async () => {
    await cluster(async (nats, servers) => {
      await using connection = connect(nats.url);
      let stop = false;
      let calls = 0;
      const failures: unknown[] = [];
      const served = new Set<number>();
      const unaryLoop = async () => {
        while (!stop) {
          try {
            served.add((await connection.unary<{ pid: number }>("scale/work", { ms: 20 })).pid);
            calls++;
          } catch (error) {
            failures.push(error);
          }
        }
      };
      const streamLoop = async () => {
        while (!stop) {
          try {
            const all = await connection.serverStream("users/list_users", { limit: 20 }).toArray();
            assert.equal(all.length, 20);
            calls++;
          } catch (error) {
            failures.push(error);
          }
        }
      };
      const load = Promise.all([
        ...Array.from({ length: 6 }, unaryLoop),
        streamLoop(),
        streamLoop(),
      ]);
      try {
        await sleep(300);
        for (let i = 0; i < servers.length; i++) {
          const old = servers[i]!;
          const before = calls;
          old.child.kill("SIGTERM");
          assert.equal(await within(old.child.exited, 10_000, "a drained exit"), 0);
          servers[i] = await startServer(nats.url, i === 1 ? other : runtime);
          await sleep(300);
          assert.ok(calls > before, "calls went on during the restart");
        }
      } finally {
        stop = true;
        await within(load, 10_000, "the load to stop");
      }
      assert.deepEqual(failures.map(String), [], `${failures.length} of ${calls} calls failed`);
      assert.ok(calls > 100, `only ${calls} calls`);
      // The new processes took calls too.
      assert.ok(served.size >= 4, `served by ${served.size} processes`);
    });
  },
  { timeoutMs: 120_000 },
);

async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

test(
  "scale-out: a slow consumer holds its server to the credit window, and the server's memory stays flat",
  async () => {
    await cluster(async (nats) => {
      await using connection = connect(nats.url);
      const flood = connection.serverStream<{ pid: number; produced: number }>("scale/flood", {
        size: 1000,
      });
      const first = await within(flood.next(), 5000, "the first message");
      const pid = first.value!.pid;
      let consumed = 1;
      let ahead = 0;
      let early = 0;
      const started = Date.now();
      while (Date.now() - started < 3_000) {
        const next = await flood.next();
        consumed++;
        // How far the handler got ahead of the reader: bounded by the window (256), whatever the
        // reader's pace.
        ahead = Math.max(ahead, next.value!.produced - consumed);
        if (consumed === 100) early = await rss(pid);
        await sleep(5);
      }
      const late = await rss(pid);
      await flood.return();
      assert.ok(ahead <= 256 + 16, `the handler got ${ahead} messages ahead of the reader`);
      assert.ok(consumed > 100, `read only ${consumed}`);
      assert.ok(
        late - early < 20 * 1024 * 1024,
        `the server's RSS grew by ${((late - early) / 1024 / 1024).toFixed(1)} MiB`,
      );
    });
  },
  { timeoutMs: 60_000 },
);
