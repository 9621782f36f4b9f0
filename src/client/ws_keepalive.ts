/**
 * Tells whether the server is still there while calls are open: after `intervalMs` of silence
 * the client sends a ping (any frame from the server counts as an answer), and after twice that
 * it gives the socket up. An idle connection (no calls) sends nothing.
 */
export class Keepalive {
  #intervalMs: number;
  #ping: () => void;
  #dead: (silenceMs: number) => void;
  #lastHeard = Date.now();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Creates the check, stopped.
   *
   * @param intervalMs How long a silence is before a ping.
   * @param actions `ping` sends one; `dead` gives up the socket, with the silence in ms.
   */
  constructor(
    intervalMs: number,
    actions: { ping: () => void; dead: (silenceMs: number) => void },
  ) {
    this.#intervalMs = intervalMs;
    this.#ping = actions.ping;
    this.#dead = actions.dead;
  }

  /** Something arrived from the server. */
  heard(): void {
    this.#lastHeard = Date.now();
  }

  /** A call is open: check periodically (no-op when already checking). */
  start(): void {
    this.#timer ??= setInterval(() => this.#check(), this.#intervalMs);
  }

  /** No call is open, or the socket is gone: stop checking. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    const silence = Date.now() - this.#lastHeard;
    if (silence > this.#intervalMs * 2) return this.#dead(silence);
    if (silence >= this.#intervalMs) this.#ping();
  }
}
