/**
 * The raw WebSocket client of the benchmarks: the runtime's own `WebSocket`, speaking
 * bench/servers/raw.ts's echo protocol (one JSON value per WebSocket message, several joined by
 * newlines when the server batches), with replies routed to per-id handlers. Runs on Deno and Bun.
 */

/** A raw WebSocket with replies routed to per-id handlers. */
export class RawSocket {
  #socket: WebSocket;
  #open: Promise<void>;
  #handlers = new Map<number, (frame: Record<string, unknown>) => void>();
  #nextId = 1;

  /**
   * Opens the socket to `<url>/ws`.
   *
   * @param url The raw server's `http://` URL.
   */
  constructor(url: string) {
    this.#socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`);
    this.#open = new Promise((resolve, reject) => {
      this.#socket.onopen = () => resolve();
      this.#socket.onerror = () => reject(new Error(`raw WebSocket to ${url} failed`));
    });
    this.#socket.onmessage = (event) => {
      for (const line of String(event.data).split("\n")) {
        const frame = JSON.parse(line);
        this.#handlers.get(frame.id)?.(frame);
      }
    };
  }

  /**
   * Waits until the socket is open.
   *
   * @returns A promise that resolves once it is, and rejects if it fails.
   */
  ready(): Promise<void> {
    return this.#open;
  }

  /**
   * Starts an exchange.
   *
   * @param handler Gets every reply frame for it.
   * @returns Its id.
   */
  open(handler: (frame: Record<string, unknown>) => void): number {
    const id = this.#nextId++;
    this.#handlers.set(id, handler);
    return id;
  }

  /**
   * Ends an exchange: later frames for it are dropped.
   *
   * @param id The exchange.
   */
  done(id: number): void {
    this.#handlers.delete(id);
  }

  /**
   * Sends one frame as one WebSocket message.
   *
   * @param frame The value, sent as JSON.
   */
  send(frame: unknown): void {
    this.#socket.send(JSON.stringify(frame));
  }

  /** Closes the socket. */
  close(): void {
    this.#socket.close();
  }
}
