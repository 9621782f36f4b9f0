import type { z } from "zod";
import { Stream, StreamClosedError } from "../schema/stream.ts";
import { type Issue, summarizeIssues, validate } from "../schema/validate.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { MessageSource } from "./call.ts";

/** What the input stream tells the call it belongs to. */
export interface InboundHooks {
  /**
   * The input failed (a bad message, the client went away): the call ends with this error.
   *
   * @param error The error.
   */
  fail(error: RpcError): void;
  /**
   * A server bug (a schema that threw), for onError.
   *
   * @param error The original error.
   */
  reportError(error: unknown): void;
}

/**
 * The input stream a client- or bidi-streaming handler reads. Messages are read from the
 * transport only when the handler asks for one (so a transport that reads lazily gets
 * backpressure for free), and validated as they are read; the first bad one fails the stream and
 * the call, with its index in the error.
 *
 * @param messages The transport's messages.
 * @param schema The method's input schema, if any.
 * @param hooks Where failures go.
 * @returns The stream.
 */
export function inboundStream(
  messages: MessageSource,
  schema: z.ZodType | undefined,
  hooks: InboundHooks,
): Stream<unknown> {
  let index = 0;
  let reading = false;
  const fail = (error: RpcError) => {
    stream.fail(error);
    hooks.fail(error);
  };
  const deliver = (value: unknown) => {
    try {
      stream.push(value);
    } catch (error) {
      // The handler stopped reading while this message was on its way: drop it.
      if (!(error instanceof StreamClosedError)) throw error;
    }
  };
  const stream: Stream<unknown> = new Stream<unknown>({
    onPull: () => {
      if (reading) return;
      reading = true;
      messages.next().then(async (step) => {
        reading = false;
        if (step.done) return stream.end();
        const at = index++;
        if (!schema) return deliver(step.value);
        const result = await validate(schema, step.value);
        if (result.ok) deliver(result.value);
        else fail(invalid(`Invalid message at index ${at}`, result.issues, at));
      }, (error) => {
        reading = false;
        fail(RpcError.is(error) ? error : new RpcError("cancelled", "The client stopped sending"));
      }).catch((error) => {
        // The schema itself threw (a refinement with a bug): a server bug, not the client's.
        hooks.reportError(error);
        fail(new RpcError("internal", "internal error"));
      });
    },
  });
  return stream;
}

/**
 * The error for input that does not match its schema.
 *
 * @param prefix What was invalid: `Invalid request`, `Invalid message at index 3`.
 * @param issues What was wrong with it.
 * @param index The message's index in a stream.
 * @returns An `invalid_argument` error with the issues in its details.
 */
export function invalid(prefix: string, issues: Issue[], index?: number): RpcError {
  return new RpcError("invalid_argument", `${prefix}: ${summarizeIssues(issues)}`, {
    details: index === undefined ? { issues } : { index, issues },
  });
}
