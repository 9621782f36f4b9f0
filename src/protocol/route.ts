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

/**
 * Whether a request path reads the same to every server and proxy: it has no dot segment (`.` or
 * `..`, also percent-encoded as `%2e`), no backslash, and no percent-encoded slash or backslash
 * (`%2f`, `%5c`). Runtimes and proxies resolve such paths differently (Bun turns
 * `/t/%2e%2e/ctl/stats` into `/ctl/stats`, Deno keeps it), so a rule that blocks a prefix in front
 * of the server could be walked around; servers refuse them instead. A path of names and slashes,
 * the common case, costs three scans for characters it lacks.
 *
 * @param path The path of the request target, without its query.
 * @returns False for a path to refuse.
 */
export function isCanonicalPath(path: string): boolean {
  if (path.indexOf("%") === -1 && path.indexOf(".") === -1 && path.indexOf("\\") === -1) {
    return true;
  }
  if (path.indexOf("\\") !== -1 || /%(?:2f|5c)/i.test(path)) return false;
  for (const segment of path.replace(/%2e/gi, ".").split("/")) {
    if (segment === "." || segment === "..") return false;
  }
  return true;
}
