/** Names one method of one service (and version): what a call is addressed to. */
export interface Route {
  /** The service's name. */
  readonly service: string;
  /** The method's name. */
  readonly method: string;
  /** The service version, or undefined for an unversioned service. */
  readonly version?: number | undefined;
}

/**
 * The HTTP path of a method: `/<service>/<method>`, or `/v<N>/<service>/<method>`.
 *
 * @param route The route.
 * @returns The path, starting with `/`.
 */
export function routePath(route: Route): string {
  const base = `/${route.service}/${route.method}`;
  return route.version === undefined ? base : `/v${route.version}${base}`;
}

const PATH =
  /^\/?(?:v([1-9]\d{0,8})\/)?([A-Za-z][A-Za-z0-9_-]{0,63})\/([A-Za-z_][A-Za-z0-9_]{0,63})$/;

/**
 * Reads a route from a path such as `users/get_user` or `/v2/users/get_user`.
 *
 * @param path The path, with or without the leading slash.
 * @returns The route, or undefined when the path is not a method path.
 */
export function parseRoutePath(path: string): Route | undefined {
  const match = PATH.exec(path);
  if (!match) return undefined;
  const [, version, service, method] = match;
  return { service: service!, method: method!, version: version ? Number(version) : undefined };
}

/**
 * A route written for people: `users.get_user` or `v2/users.get_user`.
 *
 * @param route The route.
 * @returns The label.
 */
export function routeLabel(route: Route): string {
  const name = `${route.service}.${route.method}`;
  return route.version === undefined ? name : `v${route.version}/${name}`;
}
