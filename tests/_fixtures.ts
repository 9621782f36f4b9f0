/** Services shared by the tests. Each call to `fixtureServices()` gives fresh probes. */
import { RpcError, Service, stream, streaming, z } from "../mod.ts";
import type { Context } from "../mod.ts";

export const User = z.object({ username: z.string(), age: z.number().int() });
export const Point = z.object({ value: z.number() });
export const Summary = z.object({ count: z.number().int(), sum: z.number() });
export const Text = z.object({ text: z.string() });

/** What the handlers saw, for assertions. */
export interface Probe {
  /** Contexts of calls, by method name. */
  contexts: Map<string, Context>;
  /** Method names whose streaming handler ran its finally block. */
  finalized: Set<string>;
  /** Messages a client-streaming or bidi handler has taken, in order. */
  received: unknown[];
  /** How many messages the `count` handler has yielded. */
  yielded: number;
  /** How many messages the `slow_sum` handler has taken. */
  taken: number;
  /** Resolved by tests to let a waiting handler go on. */
  gates: Map<string, PromiseWithResolvers<void>>;
}

/** What the handlers saw, as the `inspect/state` method returns it (for servers in another process). */
export const ProbeState = z.object({
  finalized: z.array(z.string()),
  received: z.array(z.unknown()),
  yielded: z.number(),
  started: z.array(z.string()),
  /** The code of each started call's abort reason, or null while its signal has not aborted. */
  reasons: z.record(z.string(), z.string().nullable()),
});

/** The probe, as plain data. */
export type ProbeStateData = z.infer<typeof ProbeState>;

function probeState(probe: Probe): ProbeStateData {
  const reasons: Record<string, string | null> = {};
  for (const [method, ctx] of probe.contexts) {
    reasons[method] = ctx.signal.aborted
      ? (ctx.signal.reason as { code?: string })?.code ?? "?"
      : null;
  }
  return {
    finalized: [...probe.finalized],
    received: probe.received,
    yielded: probe.yielded,
    started: [...probe.contexts.keys()],
    reasons,
  };
}

/** A gate a handler waits on until the test opens it. */
export function gate(probe: Probe, name: string): PromiseWithResolvers<void> {
  let entry = probe.gates.get(name);
  if (!entry) {
    entry = Promise.withResolvers<void>();
    probe.gates.set(name, entry);
  }
  return entry;
}

/** Sleeps, unless the signal aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * The services every transport test uses.
 *
 * @returns The services and the probe their handlers report to.
 */
export function fixtureServices(): { services: Service[]; probe: Probe } {
  const probe: Probe = {
    contexts: new Map(),
    finalized: new Set(),
    received: [],
    yielded: 0,
    taken: 0,
    gates: new Map(),
  };
  const seen = (ctx: Context) => probe.contexts.set(ctx.method, ctx);

  const users = new Service("users", { description: "User accounts" })
    .method(
      "get_user",
      { input: z.object({ user_id: z.number().int() }), output: User },
      (input, ctx) => {
        seen(ctx);
        if (input.user_id === 404) {
          throw new RpcError("not_found", `No user ${input.user_id}`, {
            details: { user_id: 404 },
          });
        }
        if (input.user_id === 500) throw new Error("database password is hunter2");
        return { username: `user${input.user_id}`, age: 30 };
      },
    )
    .method(
      "list_users",
      { input: z.object({ limit: z.number().int().default(3) }), output: streaming(User) },
      async function* ({ limit }, ctx) {
        seen(ctx);
        for (let i = 0; i < limit; i++) yield { username: `user${i}`, age: i };
      },
    );

  const analytics = new Service("analytics")
    .method("aggregate", { input: stream(Point), output: Summary }, async (points, ctx) => {
      seen(ctx);
      let count = 0;
      let sum = 0;
      for await (const point of points) {
        probe.received.push(point);
        count++;
        sum += point.value;
      }
      return { count, sum };
    })
    .method("first_two", { input: stream(Point), output: Summary }, async (points) => {
      // Stops reading after two messages, whatever the client still sends.
      let count = 0;
      let sum = 0;
      for await (const point of points) {
        count++;
        sum += point.value;
        if (count === 2) break;
      }
      return { count, sum };
    })
    .method("swallow", { input: stream(Point), output: Summary }, async (points) => {
      // Catches the validation error: the call must still fail with it.
      let count = 0;
      try {
        for await (const _ of points) count++;
      } catch {
        // ignored on purpose
      }
      return { count, sum: 0 };
    });

  const chat = new Service("chat")
    .method(
      "echo",
      { input: stream(Text), output: streaming(Text) },
      async function* (messages, ctx) {
        seen(ctx);
        try {
          for await (const message of messages) {
            probe.received.push(message);
            yield { text: message.text.toUpperCase() };
          }
        } finally {
          probe.finalized.add("echo");
        }
      },
    );

  const probes = new Service("probes")
    .method("ping", {}, (_input, ctx) => {
      seen(ctx);
    })
    .method("metadata", { output: z.object({ caller: z.string() }) }, (_input, ctx) => {
      ctx.responseHeaders.set("x-served-by", "probes");
      ctx.trailers.set("x-cost", "7");
      return { caller: ctx.metadata.get("x-caller") ?? "" };
    })
    .method("stream_metadata", { output: streaming(Text) }, async function* (_input, ctx) {
      ctx.responseHeaders.set("x-before", "yes");
      yield { text: "one" };
      try {
        ctx.responseHeaders.set("x-after", "no");
        yield { text: "header change accepted" };
      } catch (error) {
        yield { text: (error as Error).message };
      }
      ctx.trailers.set("x-total", "3");
      yield { text: "three" };
    })
    .method("slow", {
      input: z.object({ ms: z.number() }),
      output: z.object({ done: z.boolean() }),
    }, async ({ ms }, ctx) => {
      seen(ctx);
      await pause(ms, ctx.signal);
      return { done: !ctx.signal.aborted };
    })
    .method("deadline", {
      input: z.object({ ms: z.number() }),
      output: z.object({ remaining_ms: z.number().nullable() }),
    }, async ({ ms }, ctx) => {
      // Waits, then says how far away the deadline still is (null without one).
      await pause(ms, ctx.signal);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      return { remaining_ms: ctx.deadline === undefined ? null : ctx.deadline - Date.now() };
    })
    .method("ignore_signal", {
      input: z.object({ ms: z.number() }),
      output: z.object({ done: z.boolean() }),
    }, async ({ ms }, ctx) => {
      seen(ctx);
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { done: true };
    })
    .method("count", {
      input: z.object({ to: z.number().int(), size: z.number().int().default(0) }),
      output: streaming(z.object({ i: z.number(), pad: z.string() })),
    }, async function* ({ to, size }, ctx) {
      seen(ctx);
      const pad = "x".repeat(size);
      try {
        for (let i = 0; i < to; i++) {
          probe.yielded = i + 1;
          yield { i, pad };
        }
      } finally {
        probe.finalized.add("count");
      }
    })
    .method("ticks", {
      input: z.object({ every_ms: z.number() }),
      output: streaming(z.object({ i: z.number() })),
    }, async function* ({ every_ms }, ctx) {
      seen(ctx);
      try {
        for (let i = 0; !ctx.signal.aborted; i++) {
          yield { i };
          await pause(every_ms, ctx.signal);
        }
      } finally {
        probe.finalized.add("ticks");
      }
    })
    .method("gated", { output: streaming(Text) }, async function* (_input, ctx) {
      seen(ctx);
      yield { text: "first" };
      await gate(probe, "gated").promise;
      yield { text: "second" };
    })
    .method("fail_after", {
      input: z.object({ n: z.number().int() }),
      output: streaming(z.object({ i: z.number() })),
    }, async function* ({ n }) {
      for (let i = 0; i < n; i++) yield { i };
      throw new RpcError("data_loss", "the disk caught fire", { details: { after: n } });
    })
    .method("crash_after", {
      input: z.object({ n: z.number().int() }),
      output: streaming(z.object({ i: z.number() })),
    }, async function* ({ n }) {
      for (let i = 0; i < n; i++) yield { i };
      throw new Error("secret internal state");
    })
    .method("bad_output", { output: User }, () => ({ username: "x", age: "thirty" }) as never)
    .method("slow_sum", {
      input: stream(z.object({ i: z.number(), pad: z.string() })),
      output: Summary,
    }, async (items, ctx) => {
      // A reader slower than any sender: it pauses for a moment every 500 messages.
      seen(ctx);
      let count = 0;
      for await (const _ of items) {
        count++;
        probe.taken = count;
        if (count % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return { count, sum: 0 };
    })
    .method("slow_reader", {
      input: stream(z.object({ i: z.number(), pad: z.string() })),
      output: Summary,
    }, async (items, ctx) => {
      seen(ctx);
      let count = 0;
      for await (const _ of items) {
        count++;
        probe.received.push(count);
        await gate(probe, "slow_reader").promise;
      }
      return { count, sum: 0 };
    });

  const inspect = new Service("inspect")
    .method("state", { output: ProbeState }, () => probeState(probe))
    .method("open_gate", { input: z.object({ name: z.string() }) }, ({ name }) => {
      gate(probe, name).resolve();
    });

  const v2 = new Service("users", { version: 2 })
    .method("get_user", {
      input: z.object({ id: z.string() }),
      output: z.object({ name: z.string() }),
    }, ({ id }) => ({ name: `v2:${id}` }));

  return { services: [users, analytics, chat, probes, inspect, v2], probe };
}
