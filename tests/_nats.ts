/**
 * A nats-server for tests: started on 127.0.0.1 on a free port (nats-server has no "port 0" that
 * reports the port it took, so a free one is found first, and taken again if another process
 * got it in between), and always stopped. `deno task test` installs nats-server (apt) when it is
 * missing (scripts/_tools.ts).
 */
import { createServer } from "node:net";
import { sleep } from "./_harness.ts";
import { type Child, startCommand } from "./_process.ts";

/** A running nats-server. */
export interface NatsServerProcess {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** Its port. */
  readonly port: number;
  /** `ws://127.0.0.1:<port>`, when it accepts WebSocket clients. */
  readonly wsUrl: string | undefined;
  /** The process. */
  readonly child: Child;
  /** Stops it and waits until it has exited. */
  stop(): Promise<void>;
  /** Stops it, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** How the server is started. */
export interface NatsServerOptions {
  /** The largest message the server takes (default nats-server's, 1 MiB). */
  maxPayload?: number;
  /** A port to use (to start a server again where another was). */
  port?: number;
  /** Also accept WebSocket clients (plain `ws://`, on another free port). */
  websocket?: boolean;
}

/**
 * Finds a port that is free on 127.0.0.1 now.
 *
 * @returns The port.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  return await new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let text = "";
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("data", (chunk) => {
      text += chunk.toString();
      if (text.startsWith("INFO ")) {
        socket.destroy();
        resolve(true);
      }
    });
    socket.on("error", () => resolve(false));
  });
}

/**
 * Starts a nats-server on 127.0.0.1.
 *
 * @param options Payload limit, port.
 * @returns The server, once it accepts clients.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerProcess> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? await freePort();
    // nats-server takes max_payload from a configuration file only; the file goes when the
    // server does.
    const wsPort = options.websocket ? await freePort() : undefined;
    const config = await writeConfig(port, options.maxPayload, wsPort);
    const args = ["nats-server", "-c", config.file];
    const child = startCommand(args);
    const started = Date.now();
    let up = false;
    while (Date.now() - started < 5_000) {
      if (await accepts(port)) {
        up = true;
        break;
      }
      const exited = await Promise.race([
        child.exited.then(() => true),
        sleep(20).then(() => false),
      ]);
      if (exited) break;
    }
    if (!up) {
      child.kill();
      await child.exited;
      await config.remove();
      if (options.port !== undefined) {
        throw new Error(`nats-server did not start on port ${port}: ${child.stderr()}`);
      }
      continue; // the port was taken in between: try another
    }
    const stop = async () => {
      child.kill("SIGKILL");
      await child.exited;
      await config.remove();
    };
    return {
      url: `nats://127.0.0.1:${port}`,
      port,
      wsUrl: wsPort === undefined ? undefined : `ws://127.0.0.1:${wsPort}`,
      child,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  }
  throw new Error("nats-server did not start (no free port?)");
}

async function writeConfig(
  port: number,
  maxPayload: number | undefined,
  wsPort: number | undefined,
): Promise<{ file: string; remove(): Promise<void> }> {
  const { mkdtemp, rm, writeFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const dir = await mkdtemp(`${tmpdir()}/microapi-nats-`);
  const file = `${dir}/nats.conf`;
  const lines = [`listen: 127.0.0.1:${port}`];
  if (maxPayload !== undefined) lines.push(`max_payload: ${maxPayload}`);
  if (wsPort !== undefined) {
    lines.push(`websocket { listen: "127.0.0.1:${wsPort}", no_tls: true }`);
  }
  await writeFile(file, lines.join("\n") + "\n");
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}
