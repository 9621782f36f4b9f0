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
 * - `envelopes`: the same for a Connect server stream (`"codec":"json"|"proto"`): the request is
 *   one envelope, `{"limit":N}` or its protobuf (field 1), and the reader walks the 5-byte
 *   envelope prefixes without decoding the messages, checking that the last envelope is the
 *   end-stream message `{}`.
 *
 * Timing runs from just before the request is sent until the end of the body.
 */

import { Connection } from "../mod.ts";
import { answerCommands } from "./commands.ts";

interface Command {
  client: "microapi" | "raw" | "envelopes";
  url: string;
  path: string;
  limit: number;
  codec?: "json" | "proto";
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

/** The request of a Connect server stream: one envelope holding `{"limit":N}`. */
function envelopeRequest(codec: "json" | "proto", limit: number): Uint8Array {
  let message: Uint8Array;
  if (codec === "json") {
    message = new TextEncoder().encode(JSON.stringify({ limit }));
  } else {
    const varint: number[] = [];
    for (let n = limit;; n = Math.floor(n / 128)) {
      if (n < 128) {
        varint.push(n);
        break;
      }
      varint.push((n % 128) | 128);
    }
    message = Uint8Array.from([0x08, ...varint]);
  }
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

async function viaEnvelopes(
  url: string,
  path: string,
  limit: number,
  codec: "json" | "proto",
): Promise<Result> {
  const start = performance.now();
  const response = await fetch(url + path, {
    method: "POST",
    headers: { "content-type": `application/connect+${codec}` },
    body: envelopeRequest(codec, limit) as Uint8Array<ArrayBuffer>,
  });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} from ${path}`);
  const reader = response.body.getReader();
  let envelopes = 0;
  let chunks = 0;
  let bytes = 0;
  const prefix = new Uint8Array(5);
  let have = 0; // bytes of the current prefix read so far
  let skip = 0; // bytes of the current message still to pass over
  let lastFlags = -1;
  const endParts: Uint8Array[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks++;
    bytes += value.length;
    let i = 0;
    while (i < value.length) {
      if (skip > 0) {
        const n = Math.min(skip, value.length - i);
        if (lastFlags === 2) endParts.push(value.slice(i, i + n));
        i += n;
        skip -= n;
        continue;
      }
      prefix[have++] = value[i++]!;
      if (have < 5) continue;
      have = 0;
      lastFlags = prefix[0]!;
      skip = new DataView(prefix.buffer).getUint32(1);
      envelopes++;
    }
  }
  const end = decoder.decode(new Uint8Array(endParts.flatMap((part) => [...part])));
  const ms = performance.now() - start;
  if (envelopes !== limit + 1 || lastFlags !== 2 || end !== "{}") {
    throw new Error(
      `expected ${limit} messages and a successful end-stream message, got ${
        envelopes - 1
      }, flags ${lastFlags}, ${JSON.stringify(end)}`,
    );
  }
  return { messages: envelopes - 1, ms, chunks, bytes };
}

await answerCommands<Command>((command) =>
  command.client === "microapi"
    ? viaMicroapi(command.url, command.path, command.limit)
    : command.client === "envelopes"
    ? viaEnvelopes(command.url, command.path, command.limit, command.codec ?? "json")
    : viaRaw(command.url, command.path, command.limit)
);
