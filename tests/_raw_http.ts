/**
 * Exact HTTP/1.1 bytes to a server, for tests that must send what a fetch client would not: a path
 * with dot segments (clients resolve them), any Host or Origin header. Loopback only.
 */
import { connect } from "node:net";

/** A parsed HTTP/1.1 response head and its body. */
export interface RawResponse {
  /** The status code. */
  status: number;
  /** The header fields, lower-cased names. */
  headers: Map<string, string>;
  /** The body as text (as much as arrived), empty for a 101. */
  body: string;
}

/**
 * Sends one request and reads its response. The request is sent as given (add `\r\n\r\n` at the
 * end of its head yourself); the connection is closed once the response is complete: its head for
 * a 101, else the body its content-length announces, or whatever arrived when the server closed.
 *
 * @param port The server's port on 127.0.0.1.
 * @param request The request's bytes, as text.
 * @param timeoutMs How long to wait for the response.
 * @returns The response.
 */
export function rawHttp(port: number, request: string, timeoutMs = 5_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`No complete response within ${timeoutMs} ms; got ${JSON.stringify(text)}`));
    }, timeoutMs);
    const finish = (closed = false) => {
      const parsed = parse(text, closed);
      if (!parsed) return false;
      clearTimeout(timer);
      socket.destroy();
      resolve(parsed);
      return true;
    };
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      finish();
    });
    socket.on("end", () => {
      if (!finish(true)) {
        clearTimeout(timer);
        reject(new Error(`The server closed without a response; got ${JSON.stringify(text)}`));
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The response, once it is complete (or the connection has closed after its head). */
function parse(text: string, closed: boolean): RawResponse | undefined {
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) return undefined;
  const [statusLine, ...fields] = text.slice(0, end).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1]);
  const headers = new Map<string, string>();
  for (const field of fields) {
    const colon = field.indexOf(":");
    headers.set(field.slice(0, colon).trim().toLowerCase(), field.slice(colon + 1).trim());
  }
  if (status === 101) return { status, headers, body: "" };
  const body = text.slice(end + 4);
  const length = headers.get("content-length");
  if (closed) return { status, headers, body };
  if (length === undefined || new TextEncoder().encode(body).length < Number(length)) {
    return undefined;
  }
  return { status, headers, body };
}

/**
 * A WebSocket upgrade request's head, with the given extra header lines.
 *
 * @param path The request target, such as `/_microapi/ws`.
 * @param host The Host header.
 * @param extra More header fields, such as `{ origin: "https://app.example" }`.
 * @returns The request's bytes, as text.
 */
export function upgradeRequest(
  path: string,
  host: string,
  extra: Record<string, string> = {},
): string {
  const fields = {
    host,
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-version": "13",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-protocol": "microapi.v1",
    ...extra,
  };
  return `GET ${path} HTTP/1.1\r\n` +
    Object.entries(fields).map(([name, value]) => `${name}: ${value}\r\n`).join("") + "\r\n";
}
