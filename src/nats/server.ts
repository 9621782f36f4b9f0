import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { createInbox } from "@nats-io/nats-core";
import { resolveLimits } from "../protocol/limits.ts";
import { type Route, routePath } from "../protocol/route.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { decodeClientFrame, encodeFrame, splitFrames } from "../protocol/ws_frames.ts";
import { streamsInput } from "../schema/pattern.ts";
import type { MicroAPI } from "../server/app.ts";
import { logUncaught } from "../server/user_callbacks.ts";
import { connectNats, serversLabel } from "./connect.ts";
import { MicroRegistry, type RegisteredMethod } from "./micro.ts";
import { NatsServerCall } from "./server_call.ts";
import {
  checkPrefix,
  checkQueue,
  DEFAULT_PREFIX,
  DEFAULT_QUEUE,
  methodSubject,
  notFoundSubject,
} from "./subjects.ts";
import {
  ACK_AFTER_MS,
  checkHeartbeat,
  DEFAULT_HEARTBEAT_MS,
  FrameOut,
  isNoResponders,
  lostFrames,
  MISSED_HEARTBEATS,
  payloadText,
} from "./wire.ts";

/** How an app is served over NATS. */
export interface NatsServeOptions {
  /**
   * The NATS server(s): `nats://host:4222` (TCP), `ws://host:8080` (WebSocket), several
   * separated by commas or as a list. Default `nats://127.0.0.1:4222`. Ignored with `connection`.
   */
  servers?: string | readonly string[];
  /** A connection to use instead (it is left open at shutdown: its owner closes it). */
  connection?: NatsConnection;
  /** The queue group the methods are served in. Default `"microapi"`. */
  queue?: string;
  /** The subject prefix: methods are served on `<prefix>.<service>.<method>`. Default `"microapi"`. */
  prefix?: string;
  /** How long shutdown lets calls in flight finish before cancelling them. Default 10 000 ms. */
  gracePeriodMs?: number;
  /** Shuts down when aborted. */
  signal?: AbortSignal;
  /** Messages a client may send on one call before it gets more credit. Default 256. */
  window?: number;
  /** The connection's name, as NATS monitoring shows it. Default `"microapi"`. */
  name?: string;
  /** Answer the NATS service protocol's `$SRV.PING|INFO|STATS`. Default true. */
  micro?: boolean;
}

/** An app served over NATS. */
export interface NatsServer {
  /** The NATS server(s) it is connected to, as given. */
  readonly servers: string;
  /** The subject prefix. */
  readonly prefix: string;
  /** The queue group. */
  readonly queue: string;
  /** The subjects of the methods it serves. */
  readonly subjects: readonly string[];
  /** Calls of this server in flight. */
  readonly activeCalls: number;
  /**
   * Drains and stops: first the process leaves the queue groups (calls that reached it already
   * are still taken; new ones go to the other processes), then the calls in flight may finish
   * within the grace period, then the rest are cancelled (their handlers' signals abort with
   * `unavailable`); then the connection is drained and closed (unless it was given) and the
   * app's shutdown hooks run.
   *
   * @param options Overrides the grace period.
   * @returns When everything is closed. Calling it again returns the same promise.
   */
  shutdown(options?: { gracePeriodMs?: number }): Promise<void>;
  /** Resolves once the server has shut down. */
  readonly finished: Promise<void>;
  /** Shuts down, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** How much a NATS message may carry beyond one message of the largest size: the frame around it. */
const ENVELOPE_BYTES = 16 * 1024;
/** How often the server looks after its calls' heartbeats. */
const SWEEP_MS = 50;

/**
 * Serves an app over NATS: the app's methods are subscribed in a queue group, so any number of
 * processes (on any number of machines, behind one NATS cluster) share the calls, each call
 * going to one of them. Every pattern works, with the same semantics as over HTTP and
 * WebSocket: each call runs through `app.admission` and the same pipeline. See
 * docs/scale-out.md.
 *
 * @param app The app (started here if it was not: its lifespan and startup hooks run).
 * @param options The NATS server(s) or a connection, queue group, subject prefix, grace period.
 * @returns The running server, once its subscriptions are in place.
 * @throws {Error} When the NATS server cannot be reached.
 * @example
 * ```ts ignore
 * import { serveNats } from "@microapi/core/nats";
 * import { app } from "./app.ts";
 *
 * // Start as many of these as you like, on any machine that reaches the NATS cluster.
 * await using server = await serveNats(app, { servers: "nats://127.0.0.1:4222" });
 * await server.finished;
 * ```
 */
export async function serveNats(
  app: MicroAPI,
  options: NatsServeOptions = {},
): Promise<NatsServer> {
  const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
  const queue = checkQueue(options.queue ?? DEFAULT_QUEUE);
  const window = options.window ?? 256;
  if (!Number.isSafeInteger(window) || window <= 0) {
    throw new RangeError(`Invalid window ${window}: expected a positive integer`);
  }
  const servers = options.servers ?? "nats://127.0.0.1:4222";
  await app.start();
  const nc = options.connection ?? await connectNats(servers, {
    name: options.name ?? "microapi",
    // A server keeps trying for as long as it runs.
    maxReconnectAttempts: -1,
  });
  const serving = new NatsServing(app, nc, {
    owned: options.connection === undefined,
    prefix,
    queue,
    window,
  });
  try {
    await serving.start(options.micro ?? true);
  } catch (error) {
    if (options.connection === undefined) await nc.close().catch(() => {});
    throw error;
  }
  const finished = Promise.withResolvers<void>();
  finished.promise.catch(() => {});
  let stopping: Promise<void> | undefined;
  const shutdown = (opts: { gracePeriodMs?: number } = {}) =>
    stopping ??= serving.shutDown(opts.gracePeriodMs ?? options.gracePeriodMs ?? 10_000)
      .then(finished.resolve, (error) => {
        finished.reject(error);
        throw error;
      });
  options.signal?.addEventListener("abort", () => void shutdown().catch(() => {}), {
    once: true,
  });
  return {
    servers: options.connection ? nc.getServer() : serversLabel(servers),
    prefix,
    queue,
    subjects: serving.subjects,
    get activeCalls() {
      return serving.running;
    },
    shutdown,
    finished: finished.promise,
    [Symbol.asyncDispose]: () => shutdown(),
  };
}

/** The serving state of one process. */
class NatsServing {
  readonly subjects: string[] = [];
  #app: MicroAPI;
  #nc: NatsConnection;
  #owned: boolean;
  #prefix: string;
  #queue: string;
  #window: number;
  #maxMessageBytes: number;
  #inbox = createInbox();
  #calls = new Map<number, NatsServerCall>();
  #lastCall = 0;
  #running = 0;
  #idle: PromiseWithResolvers<void> | undefined;
  #methodSubscriptions: Subscription[] = [];
  #callSubscription: Subscription | undefined;
  #micro: MicroRegistry | undefined;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(
    app: MicroAPI,
    nc: NatsConnection,
    settings: { owned: boolean; prefix: string; queue: string; window: number },
  ) {
    this.#app = app;
    this.#nc = nc;
    this.#owned = settings.owned;
    this.#prefix = settings.prefix;
    this.#queue = settings.queue;
    this.#window = settings.window;
    this.#maxMessageBytes = resolveLimits(app.options.limits).maxMessageBytes;
  }

  get running(): number {
    return this.#running;
  }

  /** Subscribes: the call inbox, then every method in the queue group, then `$SRV`. */
  async start(micro: boolean): Promise<void> {
    const nc = this.#nc;
    this.#callSubscription = nc.subscribe(`${this.#inbox}.*`, {
      callback: (error, msg) => {
        if (!error) this.#guard(() => this.#frames(msg));
      },
    });
    const methods: RegisteredMethod[] = [];
    for (const service of this.#app.services) {
      for (const method of service.methods) {
        const route: Route = {
          service: service.name,
          method: method.name,
          version: service.version,
        };
        const subject = methodSubject(this.#prefix, route);
        const path = routePath(route);
        this.subjects.push(subject);
        methods.push({ service, method: method.name, subject });
        this.#methodSubscriptions.push(nc.subscribe(subject, {
          queue: this.#queue,
          callback: (error, msg) => {
            if (!error) this.#guard(() => this.#open(path, subject, msg));
          },
        }));
      }
    }
    this.#methodSubscriptions.push(nc.subscribe(notFoundSubject(this.#prefix), {
      queue: this.#queue,
      callback: (error, msg) => {
        if (!error) this.#guard(() => this.#notFound(msg));
      },
    }));
    if (micro) {
      this.#micro = await MicroRegistry.create(methods, this.#app.describe(), this.#queue);
      this.#micro.listen(nc);
    }
    // The subscriptions are in place at the NATS server once it has answered.
    await nc.flush();
  }

  async shutDown(gracePeriodMs: number): Promise<void> {
    // Leave the queue groups first: NATS sends new calls to the other processes. A drained
    // subscription still delivers what reached it before, and those calls run as usual.
    this.#micro?.stop();
    await Promise.all(
      this.#methodSubscriptions.splice(0).map((s) => s.drain().catch(() => {})),
    );
    if (!(await this.#waitIdle(gracePeriodMs))) {
      const reason = new RpcError("unavailable", "The server is shutting down");
      for (const call of this.#calls.values()) call.peer.abort(reason);
      // Cancelled calls end at once; give their final status a moment to go out.
      await this.#waitIdle(1_000);
    }
    this.#stopSweeper();
    this.#callSubscription?.unsubscribe();
    if (this.#owned) await this.#nc.drain().catch(() => this.#nc.close());
    else await this.#nc.flush().catch(() => {});
    await this.#app.stop();
  }

  /** A request on a method's subject: a new call. */
  #open(path: string, subject: string, msg: Msg): void {
    const startedAt = performance.now();
    const reply = msg.reply;
    const refuse = (error: RpcError) => {
      this.#micro?.record(subject, startedAt, error);
      if (reply) this.#publish(reply, encodeFrame({ type: "end", id: 1, ...error.toBody() }));
    };
    if (!reply) {
      return refuse(new RpcError("invalid_argument", "A call needs a reply subject"));
    }
    if (msg.data.length > this.#maxMessageBytes + ENVELOPE_BYTES) {
      return refuse(oversize(this.#maxMessageBytes));
    }
    const lines = splitFrames(payloadText(msg));
    const decoded = lines.length === 1 ? decodeClientFrame(lines[0]!) : undefined;
    if (!decoded?.ok || decoded.frame.type !== "open" || decoded.frame.id !== 1) {
      const reason = decoded && !decoded.ok ? `${decoded.problem.reason}; ` : "";
      return refuse(
        new RpcError(
          "invalid_argument",
          `Bad request: ${reason}a call over NATS starts with one "open" frame numbered 1 ` +
            "(docs/scale-out.md)",
        ),
      );
    }
    const frame = decoded.frame;
    let heartbeatMs: number;
    try {
      const asked = (frame as { heartbeat_ms?: unknown }).heartbeat_ms;
      heartbeatMs = asked === undefined
        ? DEFAULT_HEARTBEAT_MS
        : checkHeartbeat(asked as number, '"heartbeat_ms"');
    } catch (error) {
      return refuse(new RpcError("invalid_argument", `Bad frame: ${(error as Error).message}`));
    }
    const admitted = this.#app.admission.admit({
      route: path,
      pattern: frame.pattern,
      transport: "nats",
      metadata: frame.metadata,
      timeout: frame.timeout_ms,
      timeoutSource: "frame",
    });
    if (admitted instanceof RpcError) return refuse(admitted);
    const streamed = streamsInput(admitted.entry.method.pattern);
    if (streamed && "input" in frame) {
      return refuse(
        new RpcError(
          "invalid_argument",
          'A streamed input is sent in "message" frames, not as "input" in "open"',
        ),
      );
    }
    if (
      !streamed && msg.data.length > this.#maxMessageBytes &&
      over(frame.input, this.#maxMessageBytes)
    ) {
      return refuse(oversize(this.#maxMessageBytes));
    }
    const id = ++this.#lastCall;
    const out = new FrameOut({
      nc: this.#nc,
      to: reply,
      reply: `${this.#inbox}.${id}`,
      maxPayload: this.#maxPayload(),
    });
    const call = new NatsServerCall({
      out,
      inboundWindow: this.#window,
      outboundWindow: frame.window ?? this.#window,
      input: streamed ? undefined : { value: "input" in frame ? frame.input : undefined },
      heartbeatMs,
      onEnded: (error) => {
        this.#calls.delete(id);
        this.#micro?.record(subject, startedAt, error);
      },
    });
    this.#calls.set(id, call);
    this.#startSweeper();
    // The client may send a window of messages; this first frame also tells it where to.
    if (streamed) out.push({ type: "credit", id: 0, n: this.#window });
    this.#running++;
    call.run(admitted).finally(() => {
      this.#calls.delete(id);
      if (--this.#running === 0) {
        this.#idle?.resolve();
        this.#idle = undefined;
      }
    });
  }

  /** Frames on a call's subject, from its client. */
  #frames(msg: Msg): void {
    const id = Number(msg.subject.slice(this.#inbox.length + 1));
    const call = this.#calls.get(id);
    if (!call) return; // a late frame for a call that has ended
    if (isNoResponders(msg)) {
      // What this side sent found no subscriber: the client's connection is gone.
      call.peer.abort(
        new RpcError("cancelled", "The client went away (its NATS connection closed)"),
      );
      return call.dispose();
    }
    call.in.lastHeard = Date.now();
    const large = msg.data.length > this.#maxMessageBytes;
    if (msg.data.length > this.#maxMessageBytes + ENVELOPE_BYTES) {
      return call.peer.abort(oversize(this.#maxMessageBytes));
    }
    for (const line of splitFrames(payloadText(msg))) {
      const decoded = decodeClientFrame(line);
      if (!decoded.ok) {
        return call.peer.abort(
          new RpcError("invalid_argument", `Bad frame: ${decoded.problem.reason}`),
        );
      }
      const frame = decoded.frame;
      if (frame.type === "ping" || frame.type === "pong") continue;
      if (frame.type === "open") {
        return call.peer.abort(
          new RpcError("invalid_argument", 'Bad frame: "open" on a call that is open'),
        );
      }
      // A cancel ends the call whatever came before it (a client may cancel a call it forgot).
      if (frame.type !== "cancel") {
        const expected = call.in.check(frame.id);
        if (expected !== undefined) {
          return call.peer.abort(lostFrames(expected, frame.id, "the client"));
        }
      }
      if (frame.type === "message" && large && over(frame.data, this.#maxMessageBytes)) {
        return call.peer.abort(oversize(this.#maxMessageBytes));
      }
      call.receive(frame);
    }
  }

  /** Nothing serves a method: answer with the app's `not_found`, as HTTP would. */
  #notFound(msg: Msg): void {
    if (!msg.reply) return;
    let route: Route | undefined;
    try {
      const value = JSON.parse(payloadText(msg)) as Record<string, unknown>;
      if (typeof value.service === "string" && typeof value.method === "string") {
        route = {
          service: value.service,
          method: value.method,
          version: typeof value.version === "number" ? value.version : undefined,
        };
      }
    } catch {
      // answered below
    }
    const admission = this.#app.admission;
    const error = !route
      ? new RpcError("invalid_argument", "Expected {service, method, version?}")
      : admission.find(route)
      ? new RpcError("unavailable", "The method was not served a moment ago; try again")
      : admission.notFound(route);
    this.#publish(msg.reply, JSON.stringify(error.toBody()));
  }

  #startSweeper(): void {
    this.#sweeper ??= setInterval(() => this.#guard(() => this.#sweep()), SWEEP_MS);
  }

  #stopSweeper(): void {
    if (this.#sweeper === undefined) return;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /**
   * Heartbeats: a call that has sent nothing for a heartbeat gets a `ping` (the first one sooner,
   * after {@linkcode ACK_AFTER_MS}, so the client learns the call's subject); a call whose client
   * has been silent for {@linkcode MISSED_HEARTBEATS} heartbeats is given up, and its handler's
   * signal aborts.
   */
  #sweep(): void {
    if (this.#calls.size === 0) return this.#stopSweeper();
    const now = Date.now();
    for (const call of this.#calls.values()) {
      const silence = now - call.in.lastHeard;
      if (silence > MISSED_HEARTBEATS * call.heartbeatMs) {
        call.peer.abort(
          new RpcError("cancelled", `The client went away (no heartbeat for ${silence} ms)`),
        );
        call.dispose();
        continue;
      }
      if (now - call.out.lastSent >= (call.out.sent ? call.heartbeatMs : ACK_AFTER_MS)) {
        call.out.push({ type: "ping" });
        call.out.flush();
      }
    }
  }

  #waitIdle(ms: number): Promise<boolean> {
    if (this.#running === 0) return Promise.resolve(true);
    this.#idle ??= Promise.withResolvers<void>();
    const idle = this.#idle.promise;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      idle.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #maxPayload(): number {
    return this.#nc.info?.max_payload ?? 1024 * 1024;
  }

  #publish(subject: string, text: string): void {
    try {
      this.#nc.publish(subject, text);
    } catch {
      // The connection is closing.
    }
  }

  /** Nothing a peer sends may take the process down. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      logUncaught("Unexpected error in the NATS transport", error);
    }
  }
}

/** The error for a message over the app's limit (docs/protocol.md). */
function oversize(limit: number): RpcError {
  return new RpcError("resource_exhausted", `A message exceeds the limit of ${limit} bytes`, {
    details: { limit },
  });
}

/** True when a message, as JSON, is over the limit (only measured for large payloads). */
function over(message: unknown, limit: number): boolean {
  const text = JSON.stringify(message) ?? "";
  if (text.length * 3 <= limit) return false;
  return text.length > limit || new TextEncoder().encode(text).length > limit;
}
