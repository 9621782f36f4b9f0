/**
 * The contract every runtime adapter implements: listen on a port with a fetch-style handler, and
 * stop. The app's shutdown logic is written once against this.
 */

/** A fetch-style request handler. */
export type FetchHandler = (request: Request) => Promise<Response> | Response;

/** Where and how to listen. */
export interface ListenOptions {
  /** The port; 0 picks a free one. */
  port: number;
  /** The interface to bind, such as `127.0.0.1` or `0.0.0.0`. */
  hostname: string;
  /** Answers HTTP requests. */
  handler: FetchHandler;
}

/** A listening server. */
export interface Listener {
  /** The address actually bound. */
  readonly hostname: string;
  /** The port actually bound. */
  readonly port: number;
  /** Stops accepting connections; requests in flight carry on. */
  close(): Promise<void>;
  /** Closes every connection still open. */
  terminate(): Promise<void>;
}

/** The message for a port that is taken, the same on every runtime. */
export function addressInUse(hostname: string, port: number, cause: unknown): Error {
  return new Error(`Cannot listen on ${hostname}:${port}: the address is already in use`, {
    cause,
  });
}
