/// <reference lib="dom" />
/**
 * Runs in a real browser (bundled by the browser test): calls the fixtures over WebSocket, with
 * WebSocketStream and with WebSocket, and over HTTP, then posts what happened to /results.
 */
import { Connection, RpcError } from "../../mod.ts";

type Outcome = { ok: true; value: unknown } | { ok: false; code: string; message: string };
const results: Record<string, Outcome> = {};

async function step(name: string, run: () => unknown): Promise<void> {
  try {
    results[name] = { ok: true, value: await run() };
  } catch (error) {
    results[name] = RpcError.is(error)
      ? { ok: false, code: error.code, message: error.message }
      : { ok: false, code: "exception", message: String(error) };
  }
}

const base = location.origin;
// Servers that cannot be reached: nothing listens at `dead`, `draining` refuses the upgrade.
const query = new URLSearchParams(location.search);
const unhandled: string[] = [];
addEventListener("unhandledrejection", (event) => unhandled.push(String(event.reason)));

for (const api of ["stream", "plain"] as const) {
  const ws = new Connection(base, { transport: "ws", webSocketApi: api });
  await step(`ws ${api}: bidi conversation`, async () => {
    const chat = ws.bidiStream<{ text: string }, { text: string }>("chat/echo");
    const replies: unknown[] = [];
    for (const text of ["hello", "from", "chromium"]) {
      await chat.send({ text });
      const reply = await chat.next();
      replies.push(reply.done ? "(ended)" : reply.value.text);
    }
    await chat.end();
    replies.push((await chat.next()).done ? "(ended)" : "(more)");
    return replies;
  });
  await step(`ws ${api}: server stream`, async () => {
    const users = await ws.serverStream<{ username: string }>("users/list_users", { limit: 4 })
      .toArray();
    return users.map((u) => u.username);
  });
  await step(`ws ${api}: client stream`, async () => {
    const sum = ws.clientStream("analytics/aggregate");
    for (const value of [2, 3, 5]) await sum.send({ value });
    return await sum.end();
  });
  await step(`ws ${api}: cancelled call`, async () => {
    const ticks = ws.serverStream("probes/ticks", { every_ms: 10 });
    await ticks.next();
    ticks.cancel();
    try {
      await ticks.next();
      return "no error";
    } catch (error) {
      return RpcError.is(error) ? error.code : String(error);
    }
  });
  await ws.close();
  for (const what of ["dead", "draining"]) {
    const url = query.get(what);
    if (!url) continue;
    const unreachable = new Connection(url, { transport: "ws", webSocketApi: api });
    await step(
      `ws ${api}: ${what} server`,
      () => unreachable.unary("users/get_user", { user_id: 1 }),
    );
    // Ended before the connection failed: the failure reaches end() alone.
    await step(
      `ws ${api}: ${what} server, ended`,
      () => unreachable.clientStream("analytics/aggregate").end(),
    );
    await unreachable.close();
  }
}

const http = new Connection(base);
await step("http: unary", () => http.unary("users/get_user", { user_id: 1 }));
await step("http: error", () => http.unary("users/get_user", { user_id: 404 }));
await step(
  "http: server stream",
  async () => (await http.serverStream("users/list_users", { limit: 2 }).toArray()).length,
);
await step("http: bidi is refused with a pointer to ws", () => http.bidiStream("chat/echo"));

// A rejection nobody observed would be reported by now.
await new Promise((resolve) => setTimeout(resolve, 200));
await step("unhandled rejections", () => unhandled);

await fetch("/results", { method: "POST", body: JSON.stringify(results) });
document.body.textContent = "done";
