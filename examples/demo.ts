/**
 * The main job: starts a server with the example services on a free port, calls every pattern
 * through the generated client (examples/client/, from `deno task generate:examples`), prints what
 * happens, and exits 0 (1 if anything went wrong).
 *
 *   npx -y deno@2.9.6 task demo
 */
import { Connection, MicroAPI, RpcError } from "../mod.ts";
import { analytics } from "./analytics.ts";
import { chat } from "./chat.ts";
import { users } from "./users.ts";
import * as client from "./client/mod.ts";

async function main(): Promise<void> {
  const server = await new MicroAPI({ services: [users, analytics, chat] }).serve({
    port: 0,
    hostname: "127.0.0.1",
  });
  // Unary and streams over HTTP (the default connection); the chat over a WebSocket (the
  // transport browsers need for bidi), passed to that call as its connection.
  const connection = new Connection(server.url, { timeoutMs: 10_000 });
  Connection.setDefault(connection);
  const socket = new Connection(server.url, { transport: "ws", timeoutMs: 10_000 });
  // Bold titles on a terminal; plain text when piped or when NO_COLOR is set (no-color.org).
  const bold = Deno.stdout.isTerminal() && !Deno.noColor;
  const step = (title: string) => console.log(bold ? `\n\x1b[1m${title}\x1b[0m` : `\n${title}`);

  try {
    console.log(`MicroAPI demo server at ${server.url}`);

    step("1. Unary: users.getUser");
    const alice = await client.users.getUser({ user_id: 1 });
    console.log("  getUser({ user_id: 1 }) ->", JSON.stringify(alice));
    try {
      await client.users.getUser({ user_id: 9999 });
    } catch (error) {
      if (!RpcError.is(error)) throw error;
      console.log(`  getUser({ user_id: 9999 }) -> RpcError ${error.code}: ${error.message}`);
    }

    step("2. Server streaming: users.listUsers");
    let received = 0;
    for await (const user of client.users.listUsers({ limit: 5 })) {
      console.log(`  message ${++received}:`, JSON.stringify(user));
    }

    step("3. Client streaming: analytics.aggregate");
    const upload = client.analytics.aggregate();
    for (const value of [3, 1, 4, 1, 5, 9, 2, 6]) {
      await upload.send({ timestamp: Date.now(), value });
      console.log(`  sent value ${value}`);
    }
    console.log("  end() ->", JSON.stringify(await upload.end()));

    step("4. Bidirectional streaming over a WebSocket: chat.conversation");
    const conversation = client.chat.conversation({ connection: socket });
    for (const text of ["hello there", "how are streams today", "bye"]) {
      await conversation.send({ user: "demo", text });
      console.log(`  send: ${text}`);
      const reply = await conversation.next();
      console.log(`  next: ${reply.done ? "(ended)" : reply.value.text}`);
    }
    await conversation.end();
    console.log(`  end() -> the server finished: ${(await conversation.next()).done}`);

    console.log("\nAll four patterns worked.");
  } catch (error) {
    console.error("\nDemo failed:", error);
    Deno.exitCode = 1;
  } finally {
    await connection.close();
    await socket.close();
    await server.shutdown();
  }
}

if (import.meta.main) await main();
