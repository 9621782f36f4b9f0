import { JSON_TYPE } from "../protocol/headers.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { OriginPolicy } from "./origins.ts";

/**
 * Which browser origins other than the app's own may call it, over HTTP and WebSocket alike.
 * Browsers send a preflight `OPTIONS` before every cross-origin HTTP call (MicroAPI requires a
 * JSON or NDJSON content type, which no page can send without one); the app answers it, and marks
 * its responses readable by the calling page. WebSocket upgrades from these origins are accepted;
 * from any other (but the app's own), refused.
 */
export interface CorsOptions {
  /**
   * The origins allowed, such as `["https://app.example.com", "http://localhost:5173"]`, or
   * `"*"` for any origin (pages of any site may then call, over WebSocket too).
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
 * Builds the CORS handling of an app from its origin policy.
 *
 * @param options Allowed origins, preflight cache time.
 * @param origins The app's origin policy, built from the same `origins`.
 * @returns The handling.
 */
export function createCors(options: CorsOptions, origins: OriginPolicy): Cors {
  const any = origins.any;
  const maxAge = String(options.maxAgeSeconds ?? 600);
  const isAllowed = (origin: string | null): origin is string =>
    origin !== null && origins.listed(origin);

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
