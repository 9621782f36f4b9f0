/**
 * A minimal HTTP/1.1 client on one TCP connection (Deno.connect), for what `fetch` hides: the
 * start-up probe (one request on a fresh connection, `connection: close`, so that nothing keeps
 * the server busy afterwards) and the idle-connection memory figure (thousands of keep-alive
 * connections, each held open by its own socket). Reads `content-length` and chunked bodies.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEAD_END = encoder.encode("\r\n\r\n");

/** A response. */
export interface RawResponse {
  status: number;
  body: string;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** One HTTP/1.1 connection; requests go one at a time. */
export class HttpConnection {
  #conn: Deno.TcpConn;
  #host: string;
  #buffer = new Uint8Array(0);

  private constructor(conn: Deno.TcpConn, host: string) {
    this.#conn = conn;
    this.#host = host;
  }

  /**
   * Connects.
   *
   * @param port The port on 127.0.0.1.
   * @returns The connection.
   * @throws {Error} When the connection is refused (the server is not listening yet).
   */
  static async open(port: number): Promise<HttpConnection> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new HttpConnection(conn, `127.0.0.1:${port}`);
  }

  /**
   * Sends `POST path` with a JSON body and reads the whole response.
   *
   * @param path The path.
   * @param body The JSON text.
   * @param close Whether to ask the server to close the connection afterwards.
   * @returns The status and the body.
   * @throws {Error} When the connection ends before the response does.
   */
  async post(path: string, body: string, close = false): Promise<RawResponse> {
    const bytes = encoder.encode(body);
    const head = `POST ${path} HTTP/1.1\r\nhost: ${this.#host}\r\n` +
      `content-type: application/json\r\ncontent-length: ${bytes.length}\r\n` +
      (close ? "connection: close\r\n" : "") + "\r\n";
    const request = new Uint8Array(head.length + bytes.length);
    request.set(encoder.encode(head));
    request.set(bytes, head.length);
    for (let written = 0; written < request.length;) {
      written += await this.#conn.write(request.subarray(written));
    }
    let end: number;
    while ((end = indexOf(this.#buffer, HEAD_END)) === -1) await this.#fill();
    const lines = decoder.decode(this.#buffer.subarray(0, end)).split("\r\n");
    this.#buffer = this.#buffer.subarray(end + 4);
    const status = Number(lines[0]!.split(" ")[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      headers.set(
        line.slice(0, colon).trim().toLowerCase(),
        line.slice(colon + 1).trim(),
      );
    }
    if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
      return { status, body: await this.#chunked() };
    }
    const length = Number(headers.get("content-length") ?? 0);
    return { status, body: decoder.decode(await this.#take(length)) };
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  async #chunked(): Promise<string> {
    let body = "";
    for (;;) {
      let lineEnd: number;
      while (
        (lineEnd = indexOf(this.#buffer, HEAD_END.subarray(0, 2))) === -1
      ) await this.#fill();
      const size = parseInt(
        decoder.decode(this.#buffer.subarray(0, lineEnd)),
        16,
      );
      this.#buffer = this.#buffer.subarray(lineEnd + 2);
      const chunk = await this.#take(size + 2);
      if (size === 0) return body;
      body += decoder.decode(chunk.subarray(0, size));
    }
  }

  async #take(length: number): Promise<Uint8Array> {
    while (this.#buffer.length < length) await this.#fill();
    const taken = this.#buffer.slice(0, length);
    this.#buffer = this.#buffer.subarray(length);
    return taken;
  }

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(16 * 1024);
    const n = await this.#conn.read(chunk);
    if (n === null) {
      throw new Error("the server closed the connection mid-response");
    }
    const joined = new Uint8Array(this.#buffer.length + n);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = joined;
  }
}
