import { streaming } from "../schema/markers.ts";
import { Service } from "../schema/service.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { z } from "zod";

/** A service's serving status, as load balancers and clients see it. */
export type ServingStatus = "serving" | "not_serving";

/**
 * The serving status of the app and of each service. The app can flip a service to
 * `not_serving` (its calls still work; the status tells load balancers and clients to go
 * elsewhere), and the whole app reads `not_serving` while it shuts down.
 */
export class Health {
  #statuses = new Map<string, ServingStatus>();
  #watchers = new Set<() => void>();
  #draining: () => boolean;

  /**
   * Creates the registry.
   *
   * @param services The service names, all `serving` at first.
   * @param draining Tells whether the app is shutting down.
   */
  constructor(services: Iterable<string>, draining: () => boolean) {
    for (const name of services) this.#statuses.set(name, "serving");
    this.#draining = draining;
  }

  /**
   * Sets a service's status.
   *
   * @param service The service's name.
   * @param status The new status.
   * @throws {RangeError} For a service the app does not serve.
   */
  set(service: string, status: ServingStatus): void {
    if (!this.#statuses.has(service)) {
      throw new RangeError(`Unknown service ${JSON.stringify(service)}: the app does not serve it`);
    }
    if (status !== "serving" && status !== "not_serving") {
      throw new RangeError(
        `Invalid status ${JSON.stringify(status)}: use "serving" or "not_serving"`,
      );
    }
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    this.#changed();
  }

  /**
   * The status of a service, or of the app as a whole (`not_serving` while it shuts down).
   *
   * @param service A service's name; omit for the app.
   * @returns The status, or undefined for a service the app does not serve.
   */
  get(service?: string): ServingStatus | undefined {
    if (this.#draining()) {
      return service === undefined || this.#statuses.has(service) ? "not_serving" : undefined;
    }
    if (service === undefined) return "serving";
    return this.#statuses.get(service);
  }

  /** Every service's status. */
  all(): Record<string, ServingStatus> {
    const all: Record<string, ServingStatus> = {};
    for (const name of this.#statuses.keys()) all[name] = this.get(name)!;
    return all;
  }

  /**
   * Calls `listener` whenever a status changes.
   *
   * @param listener The listener.
   * @returns A function that stops listening.
   */
  watch(listener: () => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  /** Tells watchers that something changed (also when shutdown begins). */
  #changed(): void {
    for (const listener of this.#watchers) listener();
  }

  /** Tells watchers the app is shutting down. */
  notifyDraining(): void {
    this.#changed();
  }

  /**
   * The answer to `GET /_microapi/health[?service=name]`: 200 when serving, 503 when not, 404 for
   * an unknown service; the body says the status of the app or service, and of every service.
   *
   * @param request The request.
   * @returns The response.
   */
  respond(request: Request): Response {
    const service = new URL(request.url).searchParams.get("service") ?? undefined;
    const status = this.get(service);
    if (status === undefined) {
      return Response.json(
        new RpcError("not_found", `Unknown service ${JSON.stringify(service)}`).toBody(),
        { status: 404 },
      );
    }
    const body = service === undefined ? { status, services: this.all() } : { service, status };
    return Response.json(body, {
      status: status === "serving" ? 200 : 503,
      headers: { "cache-control": "no-store" },
    });
  }
}

const Check = z.object({
  service: z.string().optional().describe("A service's name; omit for the whole app"),
});
const Status = z.object({ status: z.enum(["serving", "not_serving"]) });

/**
 * The built-in `health` service: `check` answers the status now, `watch` streams it, now and at
 * every change, until the call is cancelled.
 *
 * @param health The registry.
 * @returns The service.
 */
export function healthService(health: Health): Service {
  const status = (service: string | undefined) => {
    const found = health.get(service);
    if (!found) throw new RpcError("not_found", `Unknown service ${JSON.stringify(service)}`);
    return { status: found };
  };
  return new Service("health", { description: "Serving status of the app and its services" })
    .method("check", {
      input: Check,
      output: Status,
      description: "The serving status of a service, or of the app.",
    }, ({ service }) => status(service))
    .method("watch", {
      input: Check,
      output: streaming(Status),
      description: "The serving status now, then at every change.",
    }, async function* ({ service }, ctx) {
      let wake = Promise.withResolvers<void>();
      const stop = health.watch(() => wake.resolve());
      const onAbort = () => wake.resolve();
      ctx.signal.addEventListener("abort", onAbort);
      try {
        let last: string | undefined;
        while (!ctx.signal.aborted) {
          const now = status(service);
          if (now.status !== last) {
            last = now.status;
            yield now;
          }
          await wake.promise;
          wake = Promise.withResolvers<void>();
        }
      } finally {
        stop();
        ctx.signal.removeEventListener("abort", onAbort);
      }
    });
}
