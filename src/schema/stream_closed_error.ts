/**
 * Thrown when a value is pushed into a stream that has ended or whose reader has stopped: a
 * handler's input `Stream` on the server, a call's `send()` after `end()` on the client.
 * A file of its own so that the client uses it without the server-side `Stream`.
 */
export class StreamClosedError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was attempted.
   */
  constructor(message = "Cannot push into a closed stream") {
    super(message);
    this.name = "StreamClosedError";
  }
}
