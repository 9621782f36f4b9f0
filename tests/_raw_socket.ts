/** A bare WebSocket client for tests that speak the protocol by hand (hostile input, mostly). */

/** What a raw socket collected. */
export interface RawSocket {
  /** Every frame received so far, parsed. */
  frames: Record<string, unknown>[];
  /**
   * Sends text as one WebSocket message.
   *
   * @param text The message.
   */
  send(text: string): void;
  /**
   * Sends frames as JSON, one WebSocket message each.
   *
   * @param frames The frames.
   */
  sendFrames(...frames: Record<string, unknown>[]): void;
  /**
   * Waits for a frame.
   *
   * @param match What the frame must have.
   * @param timeoutMs How long to wait.
   * @returns The frame.
   */
  frame(
    match: (frame: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves when the socket closes. */
  closed: Promise<{ code: number; reason: string }>;
  /** Closes the socket and waits until it is closed. */
  close(): Promise<void>;
  /** The raw socket. */
  socket: WebSocket;
}

/**
 * Opens a socket to an app's WebSocket endpoint and waits for the server's hello.
 *
 * @param baseUrl The server's http URL.
 * @param protocols Subprotocols to offer.
 * @param query A query string for the endpoint's URL, such as `?ack=1`.
 * @returns The socket.
 */
export async function rawSocket(
  baseUrl: string,
  protocols: string[] = ["microapi.v1"],
  query = "",
): Promise<RawSocket> {
  const socket = new WebSocket(
    baseUrl.replace(/^http/, "ws") + "/_microapi/ws" + query,
    protocols,
  );
  const frames: Record<string, unknown>[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.onclose = (event) => resolve({ code: event.code, reason: event.reason });
  });
  socket.onmessage = (event) => {
    for (const line of String(event.data).split("\n")) {
      if (line !== "") frames.push(JSON.parse(line));
    }
  };
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error("raw socket failed to open"));
  });
  const frame = async (match: (frame: Record<string, unknown>) => boolean, timeoutMs = 3000) => {
    const started = Date.now();
    for (;;) {
      const found = frames.find(match);
      if (found) return found;
      if (Date.now() - started > timeoutMs) {
        throw new Error(`No matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  await frame((f) => f.type === "hello");
  return {
    frames,
    socket,
    send: (text) => socket.send(text),
    sendFrames: (...list) => list.forEach((f) => socket.send(JSON.stringify(f))),
    frame,
    closed,
    close: async () => {
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        socket.close();
      }
      await closed;
    },
  };
}
