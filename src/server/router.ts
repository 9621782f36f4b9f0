import { isService, type Service } from "../schema/service.ts";
import { routePath } from "../protocol/route.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { MethodEntry } from "./call.ts";

/**
 * Maps method paths (`/users/get_user`, `/v2/users/get_user`) to methods. Built once when the app
 * is created; a lookup is one Map access.
 */
export class Router {
  #entries = new Map<string, MethodEntry>();
  #services = new Map<string, Service>();

  /**
   * Builds the table.
   *
   * @param services The app's services.
   * @throws {TypeError} For something that is not a service, or two services with the same name
   * and version.
   */
  constructor(services: Iterable<Service>) {
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
   * Explains why nothing is at a path, as the `not_found` error a caller gets.
   *
   * @param path The request path.
   * @returns The error.
   */
  notFound(path: string): RpcError {
    const slash = path.lastIndexOf("/");
    const service = slash > 0 ? this.#services.get(path.slice(0, slash)) : undefined;
    if (service) {
      const method = path.slice(slash + 1);
      const label = service.version === undefined
        ? service.name
        : `v${service.version}/${service.name}`;
      return new RpcError("not_found", `Service ${label} has no method ${JSON.stringify(method)}`, {
        details: { service: service.name, method },
      });
    }
    return new RpcError(
      "not_found",
      `No service at ${JSON.stringify(path)}: methods are at /<service>/<method> or ` +
        "/v<N>/<service>/<method>",
      { details: { path } },
    );
  }
}
