/**
 * Streaming benchmark client; runs unchanged on Deno and Bun, as one long-lived process so that
 * every round runs warm. Reads one JSON command per stdin line and answers one JSON line each:
 *
 *   {"client":"microapi"|"raw","url":"http://127.0.0.1:PORT","path":"/users/list_users","limit":N}
 *   -> {"messages":N,"ms":T,"chunks":C,"bytes":B}
 *
 * - `microapi`: `Connection.serverStream()`, the library's own client (decodes and parses every
 *   line). `chunks` and `bytes` are not observable through it and are reported as 0.
 * - `raw`: `fetch` plus a byte-level line splitter: counts the lines of each body chunk without
 *   decoding them, so the server side is what is measured. Checks that the last line is
 *   `{"end":{"code":"ok"}}`.
 *
 * Timing runs from just before the request is sent until the end of the body.
 */

import { Connection } from "../mod.ts";
import { answerCommands } from "./commands.ts";

interface Command {
  client: "microapi" | "raw";
  url: string;
  path: string;
  limit: number;
}

interface Result {
  messages: number;
  ms: number;
  chunks: number;
  bytes: number;
}

const connections = new Map<string, Connection>();
const decoder = new TextDecoder();
const NEWLINE = 10;
const TAIL = 64;

async function viaMicroapi(url: string, path: string, limit: number): Promise<Result> {
  let connection = connections.get(url);
  if (!connection) connections.set(url, connection = new Connection(url));
  const route = path.replace(/^\//, "");
  const start = performance.now();
  let messages = 0;
  let last: unknown;
  for await (const message of connection.serverStream(route, { limit })) {
    messages++;
    last = message;
  }
  const ms = performance.now() - start;
  const age = (last as { age?: unknown } | undefined)?.age;
  if (messages !== limit || age !== limit - 1) {
    throw new Error(`expected ${limit} messages ending with age ${limit - 1}, got ${messages}`);
  }
  return { messages, ms, chunks: 0, bytes: 0 };
}

async function viaRaw(url: string, path: string, limit: number): Promise<Result> {
  const start = performance.now();
  const response = await fetch(url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ limit }),
  });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} from ${path}`);
  const reader = response.body.getReader();
  let lines = 0;
  let chunks = 0;
  let bytes = 0;
  let tail = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks++;
    bytes += value.length;
    let at = value.indexOf(NEWLINE);
    while (at !== -1) {
      lines++;
      at = value.indexOf(NEWLINE, at + 1);
    }
    // Keep the last bytes of the body, for the end-line check.
    if (value.length >= TAIL) {
      tail = value.slice(value.length - TAIL);
    } else {
      const joined = new Uint8Array(tail.length + value.length);
      joined.set(tail);
      joined.set(value, tail.length);
      tail = joined.slice(Math.max(0, joined.length - TAIL));
    }
  }
  const ms = performance.now() - start;
  const end = decoder.decode(tail).trim().split("\n").pop();
  if (lines !== limit + 1 || end !== '{"end":{"code":"ok"}}') {
    throw new Error(`expected ${limit} messages and an ok end line, got ${lines - 1}, ${end}`);
  }
  return { messages: lines - 1, ms, chunks, bytes };
}

await answerCommands<Command>((command) =>
  command.client === "microapi"
    ? viaMicroapi(command.url, command.path, command.limit)
    : viaRaw(command.url, command.path, command.limit)
);
