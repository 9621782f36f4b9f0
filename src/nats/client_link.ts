import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { createInbox } from "@nats-io/nats-core";
import { type Route, routeLabel } from "../protocol/route.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { type ClientFrame, decodeServerFrame, splitFrames } from "../protocol/ws_frames.ts";
import type { CallLink } from "../client/ws_client_call.ts";
import type { LinkedCall } from "../client/ws_link.ts";
import { methodSubject, notFoundSubject } from "./subjects.ts";
import {
  FrameIn,
  FrameOut,
  frameText,
  isNoResponders,
  lostFrames,
  MISSED_HEARTBEATS,
  payloadText,
} from "./wire.ts";

/** How a link is set up. */
export interface NatsLinkSettings {
  /** The subject prefix. */
  readonly prefix: string;
  /** The heartbeat interval the client asks for (and expects). */
  readonly heartbeatMs: number;
  /** The servers, for messages. */
  readonly servers: string;
  /** True when the link opened the connection (and closes it). */
  readonly owned: boolean;
}

/** How long a client waits for the answer to "why does nothing serve this method?". */
const NOT_FOUND_TIMEOUT_MS = 2_000;

/**
 * A client's NATS connection and its calls: one inbox subscription (`_INBOX.<id>.*`) receives
 * the frames of every call, each call on its own subject under it. It checks the server side of
 * every call while it is open (see {@linkcode NatsLink.sweep}) and, when the connection closes,
 * fails the calls in flight at once.
 */
export class NatsLink {
  readonly settings: NatsLinkSettings;
  readonly nc: NatsConnection;
  readonly inbox: string = createInbox();
  #subscription: Subscription;
  #calls = new Map<number, NatsCallLink>();
  #lastCall = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #dead = false;

  /**
   * Starts receiving on a connection.
   *
   * @param nc The connection.
   * @param settings Prefix, heartbeat, servers, ownership.
   * @param onDead Called once when the connection has closed.
   */
  constructor(nc: NatsConnection, settings: NatsLinkSettings, onDead: () => void) {
    this.nc = nc;
    this.settings = settings;
    this.#subscription = nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (!error) this.#receive(msg);
      },
    });
    nc.closed().then(() => {
      this.#dead = true;
      this.#stopSweeper();
      const error = new RpcError(
        "unavailable",
        `The connection to NATS (${settings.servers}) closed`,
      );
      for (const call of [...this.#calls.values()]) call.lost(error);
      onDead();
    });
  }

  /** True once the connection has closed. */
  get dead(): boolean {
    return this.#dead;
  }

  /**
   * A new call's link, not started.
   *
   * @param route The method.
   * @returns The link, for the call to start.
   */
  call(route: Route): NatsCallLink {
    return new NatsCallLink(this, route);
  }

  /** @internal Registers a starting call; returns its number (its subject's last token). */
  register(call: NatsCallLink): number {
    if (this.#dead) {
      throw new RpcError("unavailable", `The connection to NATS (${this.settings.servers}) closed`);
    }
    const id = ++this.#lastCall;
    this.#calls.set(id, call);
    this.#sweeper ??= setInterval(
      () => this.sweep(),
      Math.max(10, Math.min(250, Math.floor(this.settings.heartbeatMs / 4))),
    );
    return id;
  }

  /** @internal Forgets a call; its late frames get a cancel in answer. */
  forget(id: number): void {
    this.#calls.delete(id);
    if (this.#calls.size === 0) this.#stopSweeper();
  }

  /**
   * Heartbeats: a call whose server has been silent for {@linkcode MISSED_HEARTBEATS} heartbeats
   * fails with `unavailable` (its process died, or its machine is gone); a call that has sent
   * nothing for a heartbeat sends a `ping`, so its server knows the client is still there.
   */
  sweep(): void {
    const now = Date.now();
    const { heartbeatMs } = this.settings;
    for (const call of [...this.#calls.values()]) {
      const silence = now - call.in.lastHeard;
      if (silence > MISSED_HEARTBEATS * heartbeatMs) {
        call.lost(
          new RpcError(
            "unavailable",
            `No answer from the server for ${silence} ms (heartbeats every ${heartbeatMs} ms): ` +
              "the process handling the call is gone or stuck",
          ),
        );
      } else if (call.out.to !== undefined && now - call.out.lastSent >= heartbeatMs) {
        call.out.push({ type: "ping" });
        call.out.flush();
      }
    }
  }

  /** Stops receiving; closes the connection if the link opened it. Calls still open fail. */
  async close(): Promise<void> {
    this.#stopSweeper();
    const error = new RpcError("cancelled", "The connection was closed");
    for (const call of [...this.#calls.values()]) call.lost(error);
    if (this.#dead) return;
    this.#subscription.unsubscribe();
    if (this.settings.owned) await this.nc.close().catch(() => {});
  }

  #stopSweeper(): void {
    if (this.#sweeper === undefined) return;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #receive(msg: Msg): void {
    const id = Number(msg.subject.slice(this.inbox.length + 1));
    const call = this.#calls.get(id);
    if (call) return call.receive(msg);
    // A frame for a call this client gave up on: tell its server, which may not know yet.
    if (msg.reply && !isNoResponders(msg) && !/"type":"end"/.test(payloadText(msg))) {
      try {
        this.nc.publish(msg.reply, '{"type":"cancel","id":1}', { reply: msg.subject });
      } catch {
        // closing
      }
    }
  }
}

/**
 * One call's part of the link: what a {@linkcode WebSocketClientCall} (the client's call state
 * for the frame protocol, shared with the WebSocket transport) sends and receives through. The
 * open frame goes to the method's subject, in its queue group; the server's first frame names
 * the call's subject on the server (its NATS reply subject), where everything else goes. Frames
 * are numbered both ways; a gap fails the call with `data_loss`.
 */
export class NatsCallLink implements CallLink {
  /**
   * No message goes before the server's first credit frame. Credit counts messages only (as in
   * protocol 1): the server's first frame can grant a window of messages, not of bytes, and NATS
   * bounds each message by its `max_payload` anyway (docs/scale-out.md).
   */
  readonly hello: CallLink["hello"] = { protocol: 1, window: 0 };
  /** Frames to the server (numbered from 2: the open frame is 1). */
  readonly out: FrameOut;
  /** Frames from the server (numbered from 1). */
  readonly in: FrameIn = new FrameIn(1);
  #link: NatsLink;
  #route: Route;
  #id = 0;
  #call: LinkedCall | undefined;
  #heard = false;
  #done = false;

  /**
   * Creates the call's link.
   *
   * @param link The connection's link.
   * @param route The method.
   */
  constructor(link: NatsLink, route: Route) {
    this.#link = link;
    this.#route = route;
    this.out = new FrameOut({
      nc: link.nc,
      to: undefined,
      reply: "",
      maxPayload: this.#maxPayload(),
      firstSeq: 2,
    });
  }

  // ---- CallLink: what the call does ----

  open(call: LinkedCall): void {
    this.#call = call;
    const open = call.opening();
    if (!open) return;
    const settings = this.#link.settings;
    const frame = {
      type: "open" as const,
      id: 1,
      ...open,
      heartbeat_ms: settings.heartbeatMs,
    };
    const text = frameText(frame, this.#maxPayload(), "request message");
    if (typeof text !== "string") throw text;
    this.#id = this.#link.register(this);
    const reply = `${this.#link.inbox}.${this.#id}`;
    this.out.setReply(reply);
    this.in.lastHeard = Date.now();
    try {
      this.#link.nc.publish(methodSubject(settings.prefix, this.#route), text, { reply });
    } catch (error) {
      this.#link.forget(this.#id);
      throw new RpcError(
        "unavailable",
        `Cannot send the call over NATS: ${(error as Error).message}`,
        { cause: error },
      );
    }
    call.started(this.#id);
  }

  leave(_call: LinkedCall): void {
    // A NATS call never waits for a slot: nothing to leave.
  }

  send(frame: ClientFrame): void {
    if (this.#done) return;
    const problem = this.out.push(frame, "request message");
    if (!problem) return;
    // A message NATS would refuse: the call fails with that (and the server hears of it).
    this.lost(problem);
    throw problem;
  }

  sendText(text: string): void {
    if (this.#done) return;
    const problem = this.out.pushText(text, "request message");
    if (!problem) return;
    this.lost(problem);
    throw problem;
  }

  finish(_id: number): void {
    if (this.#done) return;
    this.#done = true;
    this.#link.forget(this.#id);
    // A cancel that was just sent goes now; one for a server not heard from yet cannot go, but
    // the server's first heartbeat will be answered with one.
    this.out.flush();
    this.out.close();
  }

  // ---- from the link ----

  /**
   * A message on the call's subject.
   *
   * @param msg The message.
   */
  receive(msg: Msg): void {
    if (this.#done) return;
    if (isNoResponders(msg)) {
      if (!this.#heard) return void this.#noServer();
      return this.lost(
        new RpcError(
          "unavailable",
          "The server process handling the call is gone (its NATS connection closed)",
        ),
      );
    }
    this.#heard = true;
    this.in.lastHeard = Date.now();
    if (msg.reply && this.out.to === undefined) this.out.connect(msg.reply);
    for (const line of splitFrames(payloadText(msg))) {
      const decoded = decodeServerFrame(line);
      if (!decoded.ok) {
        return this.lost(
          new RpcError("unavailable", `The server sent a bad frame: ${decoded.problem.reason}`),
        );
      }
      const frame = decoded.frame;
      if (frame.type === "ping" || frame.type === "pong" || frame.type === "hello") continue;
      const expected = this.in.check(frame.id);
      if (expected !== undefined) return this.lost(lostFrames(expected, frame.id, "the server"));
      if (frame.type === "end") {
        this.#done = true;
        this.#link.forget(this.#id);
        this.out.flush();
        this.out.close();
      }
      this.#call?.frame(frame, line.length);
      if (this.#done) return;
    }
  }

  /**
   * The call fails without an end from its server; the server is told to stop, when it can be.
   *
   * @param error Why.
   */
  lost(error: RpcError): void {
    if (this.#done) return;
    this.#done = true;
    this.#link.forget(this.#id);
    this.out.push({ type: "cancel", id: 0 });
    this.out.flush();
    this.out.close();
    this.#call?.lost(error);
  }

  /** The open frame found no subscriber: ask why (a `not_found` with suggestions, or nothing). */
  async #noServer(): Promise<void> {
    const { prefix, servers } = this.#link.settings;
    const subject = methodSubject(prefix, this.#route);
    let error: RpcError;
    try {
      const answer = await this.#link.nc.request(
        notFoundSubject(prefix),
        JSON.stringify(this.#route),
        { timeout: NOT_FOUND_TIMEOUT_MS },
      );
      error = RpcError.fromBody(JSON.parse(payloadText(answer)));
    } catch {
      error = new RpcError(
        "unavailable",
        `No server serves ${routeLabel(this.#route)} over NATS: nothing subscribes to ${subject} ` +
          `(at ${servers})`,
      );
    }
    if (this.#done) return;
    this.#done = true;
    this.#link.forget(this.#id);
    this.out.close();
    this.#call?.frame({ type: "end", id: this.#id, ...error.toBody() }, 0);
  }

  #maxPayload(): number {
    return this.#link.nc.info?.max_payload ?? 1024 * 1024;
  }
}
