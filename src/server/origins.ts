/**
 * The one place that decides which web pages may call the app: pages of the app's own origin
 * always, pages of other origins only when the app's `cors.origins` lists them (or is `"*"`).
 * HTTP CORS answers preflights and exposes responses by it, and the WebSocket endpoint accepts
 * upgrades by it, so the two transports never disagree about who may call (docs/security.md).
 */
export interface OriginPolicy {
  /** True when every origin may call (`cors: { origins: "*" }`). */
  readonly any: boolean;
  /**
   * Whether a page of another origin may call: listed, or any origin allowed.
   *
   * @param origin The request's Origin header.
   * @returns True for an allowed origin.
   */
  listed(origin: string): boolean;
  /**
   * Whether a request may call: it comes from no browser (no Origin header), from a page of the
   * server's own origin (the Origin's host is the request's Host), or from a listed origin.
   *
   * @param request The request (a WebSocket upgrade, say).
   * @returns True when the request may call.
   */
  allows(request: Request): boolean;
}

/**
 * Builds the policy from the app's `cors.origins`.
 *
 * @param origins The origins other than the app's own that may call, `"*"` for any, or undefined
 * for none.
 * @returns The policy.
 * @throws {TypeError} For an origin that is not `scheme://host[:port]`.
 */
export function createOriginPolicy(origins: "*" | readonly string[] | undefined): OriginPolicy {
  const any = origins === "*";
  const allowed = new Set(any || !origins ? [] : [...origins].map(checkOrigin));
  const listed = (origin: string) => any || allowed.has(origin.toLowerCase());
  return {
    any,
    listed,
    allows(request) {
      const origin = request.headers.get("origin");
      if (origin === null) return true;
      return sameOrigin(origin, request) || listed(origin);
    },
  };
}

/**
 * Whether an Origin names the server the request was sent to: the same host and port as the
 * request's Host header. The scheme is not compared (behind a proxy that ends TLS, the page is
 * `https` and the request the server sees is not); a proxy must pass the Host header on, or list
 * the site's origin in `cors.origins`.
 */
function sameOrigin(origin: string, request: Request): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (a sandboxed frame, a file) or garbage: never the server's own
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  const host = request.headers.get("host") ?? new URL(request.url).host;
  const defaultPort = url.protocol === "https:" ? "443" : "80";
  const colon = host.lastIndexOf(":");
  const bracket = host.lastIndexOf("]");
  const hasPort = colon > bracket;
  const hostname = (hasPort ? host.slice(0, colon) : host).toLowerCase();
  const port = hasPort ? host.slice(colon + 1) : defaultPort;
  return hostname === url.hostname && port === (url.port || defaultPort);
}

/**
 * An origin in the form browsers send it, lower-cased; rejects anything else.
 *
 * @param origin The origin, as the user wrote it.
 * @returns It, normalised.
 * @throws {TypeError} For anything but `scheme://host[:port]`.
 */
export function checkOrigin(origin: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    // reported below
  }
  const normal = origin.toLowerCase().replace(/\/$/, "");
  if (!parsed || parsed.origin === "null" || parsed.origin !== normal) {
    throw new TypeError(
      `Invalid CORS origin ${JSON.stringify(origin)}: expected scheme://host[:port], such as ` +
        'https://app.example.com (or "*" for any origin)',
    );
  }
  return normal;
}
