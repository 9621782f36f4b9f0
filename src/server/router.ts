import { isService, type Service } from "../schema/service.ts";
import { routePath } from "../protocol/route.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { closest } from "../_util/closest.ts";
import type { MethodEntry } from "./call.ts";

/** How a router is set up. */
export interface RouterOptions {
  /**
   * Whether a not-found error may name what does exist (the closest name, or the list of methods
   * or services). On when the app publishes its introspection document, which says as much; off
   * otherwise, so a server that keeps its API to itself does not list it to whoever guesses.
   */
  hints?: boolean;
}

/** How many names a not-found message lists before it says how many more there are. */
const LISTED = 20;

/**
 * Maps method paths (`/users/get_user`, `/v2/users/get_user`) to methods. Built once when the app
 * is created; a lookup is one Map access.
 */
export class Router {
  #entries = new Map<string, MethodEntry>();
  #services = new Map<string, Service>();
  #hints: boolean;

  /**
   * Builds the table.
   *
   * @param services The app's services.
   * @param options Whether not-found errors may name what exists.
   * @throws {TypeError} For something that is not a service, or two services with the same name
   * and version.
   */
  constructor(services: Iterable<Service>, options: RouterOptions = {}) {
    this.#hints = options.hints ?? true;
    for (const service of services) {
      if (!isService(service)) {
        throw new TypeError(
          `Invalid service: expected a Service, got ${
            service === null ? "null" : typeof service === "object" ? "an object" : typeof service
          }`,
        );
      }
      const prefix = routePath({ service: service.name, method: "x", version: service.version })
        .slice(0, -2);
      if (this.#services.has(prefix)) {
        throw new TypeError(
          `Duplicate service ${service.name}${
            service.version === undefined ? "" : ` version ${service.version}`
          }: each name and version can be served once`,
        );
      }
      this.#services.set(prefix, service);
      for (const method of service.methods) {
        const route = { service: service.name, method: method.name, version: service.version };
        this.#entries.set(routePath(route), {
          service: service.name,
          version: service.version,
          method,
          deprecated: method.deprecated || service.deprecated,
          serviceMiddleware: service.middleware,
          serviceDeps: service.deps,
          declaresDeps: Object.keys(service.deps).length + Object.keys(method.deps).length > 0,
        });
      }
    }
  }

  /** The services, in the order given. */
  get services(): Service[] {
    return [...this.#services.values()];
  }

  /** Every method, in registration order. */
  get entries(): MethodEntry[] {
    return [...this.#entries.values()];
  }

  /**
   * Finds the method at a path.
   *
   * @param path The request path, such as `/users/get_user`.
   * @returns The method, or undefined.
   */
  lookup(path: string): MethodEntry | undefined {
    return this.#entries.get(path);
  }

  /**
   * Explains why nothing is at a path, as the `not_found` error a caller gets: which part is
   * unknown and, when hints are on, the closest name that exists (`did you mean "get_user"?`) or,
   * failing that, the methods of the service or the services of the app.
   *
   * @param path The request path.
   * @returns The error.
   */
  notFound(path: string): RpcError {
    const slash = path.lastIndexOf("/");
    const prefix = slash > 0 ? path.slice(0, slash) : undefined;
    const service = prefix === undefined ? undefined : this.#services.get(prefix);
    if (service) {
      const method = path.slice(slash + 1);
      const label = service.version === undefined
        ? service.name
        : `v${service.version}/${service.name}`;
      const names = service.methods.map((m) => m.name);
      const hint = !this.#hints ? "" : suggest(method, names) ?? list("its methods are", names);
      return new RpcError(
        "not_found",
        `Service ${label} has no method ${JSON.stringify(method)}${hint}`,
        { details: { service: service.name, method } },
      );
    }
    const shaped = prefix !== undefined && /^(?:\/v[1-9]\d{0,8})?\/[A-Za-z][\w-]*$/.test(prefix);
    const where = shaped ? "" : ": methods are at /<service>/<method> or /v<N>/<service>/<method>";
    let hint = "";
    if (this.#hints) {
      const prefixes = [...this.#services.keys()];
      // The same service under another version comes first, then names that are spelt alike.
      const unversioned = (p: string) => p.replace(/^\/v\d+/, "");
      const versions = shaped
        ? prefixes.filter((p) => unversioned(p) === unversioned(prefix!))
        : [];
      const near = versions.length > 0 ? versions : shaped ? closest(prefix!, prefixes) : [];
      hint = near.length > 0
        ? `; did you mean ${near.map((p) => JSON.stringify(p + path.slice(slash))).join(" or ")}?`
        : list("the services are", prefixes.map((p) => p.slice(1)));
    }
    return new RpcError("not_found", `No service at ${JSON.stringify(path)}${where}${hint}`, {
      details: { path },
    });
  }
}

/** `; did you mean "x"?` for the closest names, or undefined when none is close. */
function suggest(name: string, names: readonly string[]): string | undefined {
  const near = closest(name, names);
  if (near.length === 0) return undefined;
  return `; did you mean ${near.map((n) => JSON.stringify(n)).join(" or ")}?`;
}

/** `; <lead> a, b, c` (at most LISTED names, then how many more), or `""` for none. */
function list(lead: string, names: readonly string[]): string {
  if (names.length === 0) return "";
  const shown = names.slice(0, LISTED).join(", ");
  const more = names.length > LISTED ? ` and ${names.length - LISTED} more` : "";
  return `; ${lead} ${shown}${more}`;
}
