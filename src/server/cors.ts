import { JSON_TYPE } from "../protocol/headers.ts";
import { RpcError } from "../protocol/rpc_error.ts";

/**
 * Which browser origins may call the app. Browsers send a preflight `OPTIONS` before every call
 * (MicroAPI requests carry a JSON or NDJSON content type and often metadata headers); the app
 * answers it, and marks its responses readable by the calling page.
 */
export interface CorsOptions {
  /**
   * The origins allowed, such as `["https://app.example.com", "http://localhost:5173"]`, or
   * `"*"` for any origin.
   */
  origins: "*" | readonly string[];
  /** How long a browser may cache a preflight answer, in seconds. Default 600. */
  maxAgeSeconds?: number;
}

/** What a preflight may ask for: calls are POST, the introspection document is GET. */
const ALLOWED_METHODS = "POST, GET";

/** The CORS handling of one app. */
export interface Cors {
  /**
   * Answers a preflight request, or returns undefined for any other request.
   *
   * @param request The request.
   * @returns 204 with the grants for an allowed origin, 403 for another; undefined when the
   * request is not a preflight.
   */
  preflight(request: Request): Response | undefined;
  /**
   * Adds the CORS headers to the response of an allowed origin's request.
   *
   * @param request The request.
   * @param response The app's response.
   * @returns The response, with the headers when the origin is allowed.
   */
  decorate(request: Request, response: Response): Response;
}

/**
 * Checks the options and builds the CORS handling.
 *
 * @param options Allowed origins, preflight cache time.
 * @returns The handling.
 * @throws {TypeError} For an origin that is not `scheme://host[:port]`.
 */
export function createCors(options: CorsOptions): Cors {
  const any = options.origins === "*";
  const allowed = new Set(any ? [] : [...options.origins as readonly string[]].map(checkOrigin));
  const maxAge = String(options.maxAgeSeconds ?? 600);
  const isAllowed = (origin: string | null): origin is string =>
    origin !== null && (any || allowed.has(origin.toLowerCase()));

  return {
    preflight(request) {
      const origin = request.headers.get("origin");
      if (
        request.method !== "OPTIONS" || origin === null ||
        !request.headers.has("access-control-request-method")
      ) {
        return undefined;
      }
      if (!isAllowed(origin)) {
        const error = new RpcError(
          "permission_denied",
          `Origin ${origin} is not allowed to call this server (CORS)`,
        );
        return new Response(JSON.stringify(error.toBody()), {
          status: 403,
          headers: { "content-type": JSON_TYPE, vary: "origin" },
        });
      }
      const headers = new Headers({
        "access-control-allow-origin": any ? "*" : origin,
        "access-control-allow-methods": ALLOWED_METHODS,
        "access-control-max-age": maxAge,
        vary: "origin, access-control-request-headers",
      });
      const asked = request.headers.get("access-control-request-headers");
      if (asked) headers.set("access-control-allow-headers", asked);
      return new Response(null, { status: 204, headers });
    },

    decorate(request, response) {
      const origin = request.headers.get("origin");
      if (!isAllowed(origin) || response.status === 101) return response;
      // Expose every header the response carries: trailer-* (unary trailers), deprecation, and
      // whatever the handler set. Listing them beats "*", which browsers ignore with credentials.
      const names = new Set<string>();
      response.headers.forEach((_, name) => names.add(name));
      const grants: [string, string][] = [
        ["access-control-allow-origin", any ? "*" : origin],
        ["access-control-expose-headers", [...names].sort().join(", ")],
      ];
      if (!any) grants.push(["vary", "origin"]);
      try {
        for (const [name, value] of grants) response.headers.set(name, value);
        return response;
      } catch {
        // Immutable headers (a response made by fetch, say): copy the response.
        const copy = new Response(response.body, response);
        for (const [name, value] of grants) copy.headers.set(name, value);
        return copy;
      }
    },
  };
}

/** An origin in the form browsers send it, lower-cased; rejects anything else. */
function checkOrigin(origin: string): string {
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
