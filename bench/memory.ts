/**
 * Server memory per idle HTTP connection, per WebSocket and per open call: starts the benchmark's
 * MicroAPI server (bench/server.ts microapi) under Deno and Bun, reads its resident memory (/proc,
 * Linux) at rest, with keep-alive connections open (one request each, then idle), with idle
 * sockets open, and with calls open on some of them (`bench/idle`: a server stream that sends one
 * message and then waits), and prints the growth per connection, per socket and per call. Memory, not
 * speed: the figures are what the server's caps (websocket.maxSockets,
 * resources.maxCallsInFlight) bound.
 *
 * Usage: `deno run -A bench/memory.ts [sockets] [calls per socket] [sockets with calls]`
 * (defaults 400, 100, 10: 400 idle sockets, then 1 000 calls). Needs Bun in .tools/ or on PATH.
 */

const root = new URL("../", import.meta.url).pathname;
const sockets = Number(Deno.args[0] ?? 400);
const callsPerSocket = Number(Deno.args[1] ?? 100);
const busySockets = Number(Deno.args[2] ?? 10);

function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads RSS a few times after a pause and keeps the lowest (garbage not yet collected is noise). */
async function settledRss(pid: number): Promise<number> {
  await sleep(1000);
  let low = Infinity;
  for (let i = 0; i < 5; i++) {
    low = Math.min(low, rssKiB(pid));
    await sleep(200);
  }
  return low;
}

function bunPath(): string {
  const local = `${root}.tools/node_modules/.bin/bun`;
  try {
    Deno.statSync(local);
    return local;
  } catch {
    return "bun";
  }
}

/** Opens a keep-alive connection: one request, answered, then nothing. */
async function keepAlive(port: number): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("GET /_microapi/health HTTP/1.1\r\nHost: x\r\n\r\n"));
  await conn.read(new Uint8Array(4096));
  return conn;
}

/** Opens a socket and waits for the hello. */
async function open(port: number): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/_microapi/ws`, ["microapi.v1"]);
  await new Promise<void>((resolve, reject) => {
    socket.onmessage = () => resolve();
    socket.onerror = () => reject(new Error("the socket did not open"));
  });
  return socket;
}

/** Opens `n` idle calls on a socket and waits for each one's first message. */
async function openCalls(socket: WebSocket, n: number, firstId: number): Promise<void> {
  let started = 0;
  const all = Promise.withResolvers<void>();
  socket.onmessage = (event) => {
    for (const line of String(event.data).split("\n")) {
      if (line.includes('"type":"message"') && ++started === n) all.resolve();
    }
  };
  const frames = [];
  for (let i = 0; i < n; i++) {
    frames.push(
      JSON.stringify({ type: "open", id: firstId + i, service: "bench", method: "idle" }),
    );
  }
  socket.send(frames.join("\n"));
  await all.promise;
}

/** Starts a fresh server and returns its port and pid, and how to stop it. */
async function start(runtime: "deno" | "bun") {
  const argv = runtime === "deno"
    ? [Deno.execPath(), "run", "-A", `${root}bench/server.ts`, "microapi"]
    : [bunPath(), `${root}bench/server.ts`, "microapi"];
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/PORT (\d+)/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the ${runtime} server exited`);
    out += value;
  }
  const port = Number(/PORT (\d+)/.exec(out)![1]);
  // Warm up: a socket and a few calls, so what is measured is the marginal cost.
  const warm = await open(port);
  await openCalls(warm, 10, 1);
  warm.close();
  await keepAlive(port).then((conn) => conn.close());
  return {
    port,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await reader.cancel().catch(() => {});
    },
  };
}

/** Growth of a fresh server's RSS, in KiB per thing, for `n` things that `add` opens. */
async function growth<T>(
  runtime: "deno" | "bun",
  n: number,
  add: (port: number, i: number) => Promise<T>,
  prepare?: (port: number) => Promise<void>,
): Promise<{ perKiB: number; restMiB: number; peakMiB: number }> {
  const server = await start(runtime);
  const things: T[] = [];
  try {
    await prepare?.(server.port);
    const rest = await settledRss(server.pid);
    for (let i = 0; i < n; i++) things.push(await add(server.port, i));
    const peak = await settledRss(server.pid);
    return { perKiB: (peak - rest) / n, restMiB: rest / 1024, peakMiB: peak / 1024 };
  } finally {
    for (const thing of things) (thing as { close?: () => void } | undefined)?.close?.();
    await sleep(200);
    await server.stop();
  }
}

async function measure(runtime: "deno" | "bun") {
  const conns = await growth(runtime, sockets, (port) => keepAlive(port));
  const idle = await growth(runtime, sockets, (port) => open(port));
  // Calls: the sockets that carry them are opened first, so only the calls are counted.
  let busy: WebSocket[] = [];
  const calls = await growth(
    runtime,
    busySockets,
    (_port, i) => openCalls(busy[i]!, callsPerSocket, 1),
    async (port) => {
      busy = await Promise.all(Array.from({ length: busySockets }, () => open(port)));
    },
  );
  for (const socket of busy) socket.close();
  return {
    runtime,
    restMiB: idle.restMiB,
    perConnKiB: conns.perKiB,
    perSocketKiB: idle.perKiB,
    perCallKiB: calls.perKiB / callsPerSocket,
  };
}

console.log(
  `| runtime | RSS at rest | per keep-alive connection (${sockets}) | per idle WebSocket (${sockets}) | per open call (${
    busySockets * callsPerSocket
  }) |`,
);
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const runtime of ["deno", "bun"] as const) {
  const r = await measure(runtime);
  console.log(
    `| ${r.runtime} | ${r.restMiB.toFixed(0)} MiB | ${r.perConnKiB.toFixed(1)} KiB | ${
      r.perSocketKiB.toFixed(1)
    } KiB | ${r.perCallKiB.toFixed(1)} KiB |`,
  );
}
