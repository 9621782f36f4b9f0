/// <reference lib="dom" />
/**
 * Recent calls per method, kept in the browser's localStorage under a key per server (origin and
 * base path), so that a call can be looked at and run again after a reload.
 */

/** One call as history keeps it. */
export interface HistoryEntry {
  /** When it started (milliseconds since the epoch). */
  readonly at: number;
  /** The transport. */
  readonly transport: "ws" | "http";
  /** The deadline given, if any. */
  readonly timeoutMs: number | undefined;
  /** The metadata sent. */
  readonly metadata: readonly [string, string][];
  /** The request messages sent. */
  readonly messages: readonly unknown[];
  /** `ok`, the error code, or `cancelled`. */
  readonly outcome: string;
  /** How long it took. */
  readonly durationMs: number;
}

/** How many calls are kept per method. */
const KEEP = 20;

/** The history of one server. */
export class History {
  #key: string;

  /**
   * Opens the history of a server.
   *
   * @param server The server's base URL.
   */
  constructor(server: string) {
    this.#key = `microapi-console:history:${server}`;
  }

  #read(): Record<string, HistoryEntry[]> {
    try {
      const parsed = JSON.parse(localStorage.getItem(this.#key) ?? "{}");
      return typeof parsed === "object" && parsed !== null ? parsed : {};
    } catch {
      return {};
    }
  }

  /**
   * The recent calls of a method, newest first.
   *
   * @param method The method's path.
   * @returns The entries.
   */
  list(method: string): HistoryEntry[] {
    const entries = this.#read()[method];
    return Array.isArray(entries) ? entries : [];
  }

  /**
   * Records a call.
   *
   * @param method The method's path.
   * @param entry The call.
   */
  add(method: string, entry: HistoryEntry): void {
    const all = this.#read();
    all[method] = [entry, ...(all[method] ?? [])].slice(0, KEEP);
    try {
      localStorage.setItem(this.#key, JSON.stringify(all));
    } catch {
      // Storage full or disabled: history is a convenience, the call itself went through.
    }
  }

  /**
   * Forgets the calls of a method.
   *
   * @param method The method's path.
   */
  clear(method: string): void {
    const all = this.#read();
    delete all[method];
    try {
      localStorage.setItem(this.#key, JSON.stringify(all));
    } catch {
      // see add()
    }
  }
}
